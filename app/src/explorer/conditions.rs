//! Conditions and faults of the run: the settings a person can change
//! before or during a run (a sensor, a recent MFA, wrong or weak PINs, a
//! federation server that does not answer, Microsoft Entra Connect's schedule).
//! Each is an option of the core's world, set by its link name through
//! `Options::set`; a change runs the flow again with it, on the same step.

use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::Actor;
use whfb_model::flows::FlowId;
use whfb_model::options::{LastMfa, Options};

/// What an option set away from its default means, in a few words.
fn describe(key: &str, value: &str) -> String {
    match (key, value) {
        ("sensor", "0") => "no biometric sensor".into(),
        ("sensor", _) => "a biometric sensor".into(),
        ("biometric", "skip") => "biometric enrollment skipped".into(),
        ("mfa", "none") => "no MFA on record".into(),
        ("mfa", m) => format!("last MFA {m} min ago"),
        ("pin", p) => format!("PIN “{p}”"),
        ("pin2", _) => "a confirmation that differs".into(),
        ("wrongpin", n) => format!("{n} wrong PIN(s) first"),
        ("adfs", "down") => "AD FS not answering".into(),
        ("adfs", _) => "AD FS answering".into(),
        ("password", _) => "another password typed".into(),
        ("sync", m) => format!("sync every {m} min"),
        ("lastsync", m) => format!("last sync {m} min before the start"),
        ("signinwrongpin", n) => format!("{n} wrong PIN(s) at sign-in"),
        ("device", "disabled") => "the device disabled in the directory".into(),
        ("cloudreg", "unreachable") => "AD FS cannot reach the cloud registration service".into(),
        ("hellogroup", "not-member") => "AD FS outside the template's enrollment group".into(),
        ("dccert", "missing") => "no KDC certificate on the domain controller".into(),
        ("usercert", "no-sid") => "a logon certificate without the SID extension".into(),
        ("usercert", "revoked") => "the logon certificate revoked".into(),
        ("usercert", "expired") => "the logon certificate expired".into(),
        ("kerberosserver", "missing") => "no Entra Kerberos server object".into(),
        ("kerberosserver", "rotated") => "the Entra Kerberos server key reset in AD".into(),
        ("privileged", "1") => "the user in Domain Admins".into(),
        ("skew", m) => format!("the device's clock {m} min ahead"),
        ("prereq", "policy-disabled") => "no policy turns Windows Hello on".into(),
        ("prereq", "postlogon-disabled") => "no provisioning after the sign-in".into(),
        ("prereq", "remote-session") => "a Remote Desktop session".into(),
        ("prereq", "device-ineligible") => "a device that does not meet the requirements".into(),
        ("prereq", "user-not-in-entra") => "an account Entra ID does not know".into(),
        (k, v) => format!("{k} = {v}"),
    }
}

/// A condition with two values, as a checkbox: `on` when ticked, `off`
/// when not.
#[component]
fn Toggle(
    testid: &'static str,
    key: &'static str,
    on: &'static str,
    off: &'static str,
    checked: Signal<bool>,
    #[prop(optional)] disabled: Option<Signal<bool>>,
    set: Callback<(&'static str, String)>,
    children: Children,
) -> impl IntoView {
    view! {
        <label class="check-row">
            <input
                type="checkbox"
                data-testid=testid
                prop:disabled=move || disabled.is_some_and(|d| d.get())
                prop:checked=move || checked.get()
                on:change=move |ev| set.run((key, if event_target_checked(&ev) { on } else { off }.to_string()))
            />
            <span>{children()}</span>
        </label>
    }
}

/// A condition with a fixed set of values, as a select: `choices` are
/// (value, what the person reads).
#[component]
fn Choice(
    testid: &'static str,
    key: &'static str,
    label: &'static str,
    value: Signal<String>,
    choices: &'static [(&'static str, &'static str)],
    set: Callback<(&'static str, String)>,
) -> impl IntoView {
    view! {
        <label>
            <span>{label}</span>
            <select
                data-testid=testid
                prop:value=move || value.get()
                on:change=move |ev| set.run((key, event_target_value(&ev)))
            >
                {choices
                    .iter()
                    .map(|(value, text)| view! { <option value=*value>{*text}</option> })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The minutes of the last MFA as the select shows them.
fn mfa_value(options: &Options) -> String {
    match options.last_mfa {
        LastMfa::Never => "none".into(),
        LastMfa::Ago(d) => (d.0 / 60_000).to_string(),
    }
}

#[component]
pub fn Conditions(session: Session, flow: FlowId) -> impl IntoView {
    let actors = flow.info().actors;
    let has_adfs = actors.contains(&Actor::AdFs);
    let has_sync = actors.contains(&Actor::AadConnect);
    let has_sign_in = flow.info().has_segment(whfb_model::flows::Segment::SignIn);
    let has_join_task = actors.contains(&Actor::Dsreg);
    // Only the managed hybrid join waits for Entra Connect to sync the computer.
    let has_hybrid_join = has_join_task
        && flow.info().deployment == whfb_model::catalog::Deployment::Hybrid
        && flow.info().sign_in == whfb_model::catalog::SignIn::Managed;
    // Only where AD FS checks key receipts does it need their signers.
    let has_receipt = flow.has(whfb_model::flows::Feature::KeyReceipt);
    // Only certificate trust enrolls against the CA's template.
    let has_template = flow.info().trust == whfb_model::catalog::Trust::Certificate;
    // Whether a sign-in reaches a domain controller's KDC.
    let has_kdc = flow
        .info()
        .has_segment(whfb_model::flows::Segment::KerberosSignIn)
        || flow.info().has_segment(whfb_model::flows::Segment::KeySync);
    let cloud_kerberos = flow.info().trust == whfb_model::catalog::Trust::CloudKerberos;
    // Whether a Kerberos request carries the device's clock to a KDC.
    let has_kerberos_clock = has_kdc || cloud_kerberos;
    let has_logon_certificate = has_template
        && flow
            .info()
            .has_segment(whfb_model::flows::Segment::KerberosSignIn);
    let error = RwSignal::new(None::<String>);
    let options = Memo::new(move |_| session.route.with(|r| r.options.clone()));
    let changed = Memo::new(move |_| {
        options.with(|o| {
            o.to_pairs()
                .into_iter()
                .map(|(k, v)| describe(k, &v))
                .collect::<Vec<_>>()
        })
    });
    let set = move |key: &'static str, value: String| match session.set_condition(key, &value) {
        Ok(()) => error.set(None),
        Err(why) => error.set(Some(why)),
    };
    let toggle = Callback::new(move |(key, value): (&'static str, String)| set(key, value));
    view! {
        <details class="conditions" data-testid="conditions">
            <summary data-testid="conditions-summary">
                <span class="conditions-title">"Conditions and faults"</span>
                <span class="conditions-now" data-testid="conditions-now">
                    {move || {
                        let c = changed.get();
                        if c.is_empty() { "as documented: nothing changed".to_string() } else { c.join(" · ") }
                    }}
                </span>
            </summary>
            <p class="hint">
                "A change starts this run again under the new condition and comes back to the step shown; "
                "edits and clock moves are dropped. The link in the address bar keeps the conditions."
            </p>
            <div class="condition-grid">
                <Toggle
                    testid="cond-sensor"
                    key="sensor"
                    on="1"
                    off="0"
                    checked=Signal::derive(move || options.with(|o| o.biometric_sensor))
                    set=toggle
                >
                    "A biometric sensor is present"
                </Toggle>
                <Toggle
                    testid="cond-skip-biometric"
                    key="biometric"
                    on="skip"
                    off="enroll"
                    checked=Signal::derive(move || options.with(|o| o.skip_biometric))
                    disabled=Signal::derive(move || options.with(|o| !o.biometric_sensor))
                    set=toggle
                >
                    "The user skips biometric enrollment"
                </Toggle>
                <label>
                    <span>"Last MFA"</span>
                    <select
                        data-testid="cond-mfa"
                        prop:value=move || options.with(mfa_value)
                        on:change=move |ev| set("mfa", event_target_value(&ev))
                    >
                        <option value="none">"never (the user is prompted)"</option>
                        <option value="2">"2 minutes before the start"</option>
                        <option value="15">"15 minutes before the start"</option>
                        {move || {
                            let v = options.with(mfa_value);
                            (!matches!(v.as_str(), "none" | "2" | "15"))
                                .then(|| view! { <option value=v.clone()>{format!("{v} minutes before the start")}</option> })
                        }}
                    </select>
                </label>
                <label>
                    <span>"Wrong PINs typed before the right one"</span>
                    <input
                        type="number"
                        min="0"
                        max="64"
                        inputmode="numeric"
                        data-testid="cond-wrongpin"
                        prop:value=move || options.with(|o| o.wrong_pin_attempts.to_string())
                        on:change=move |ev| set("wrongpin", event_target_value(&ev))
                    />
                    <small>"each is a failed authorisation the TPM counts; see its dictionary-attack counter under “Who holds what”"</small>
                </label>
                <label>
                    <span>"PIN"</span>
                    <input
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="cond-pin"
                        prop:value=move || options.with(|o| o.pin.clone())
                        on:change=move |ev| set("pin", event_target_value(&ev))
                    />
                    <small>{move || options.with(|o| format!("typed both times; the PIN policy asks for at least {} characters", o.pin_policy.min_length))}</small>
                </label>
                <label>
                    <span>"PIN confirmation"</span>
                    <input
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="cond-pin2"
                        prop:value=move || options.with(|o| o.pin_confirmation.clone())
                        on:change=move |ev| set("pin2", event_target_value(&ev))
                    />
                    <small>"the second entry; make it differ to see the mismatch caught"</small>
                </label>
                <Choice
                    testid="cond-prereq"
                    key="prereq"
                    label="The prerequisite check (dsregcmd /status)"
                    value=Signal::derive(move || options.with(|o| o.prerequisite.slug().to_string()))
                    choices=&[
                        ("met", "every prerequisite met"),
                        ("policy-disabled", "PolicyEnabled NO: no policy turns Windows Hello on"),
                        ("postlogon-disabled", "PostLogonEnabled NO: no provisioning after the sign-in"),
                        ("remote-session", "SessionIsNotRemote NO: a Remote Desktop session"),
                        ("device-ineligible", "DeviceEligible NO: the device does not meet the requirements"),
                        ("user-not-in-entra", "IsUserAzureAD NO: an account Entra ID does not know"),
                    ]
                    set=toggle
                />
                <label>
                    <span>"Password typed"</span>
                    <input
                        type="text"
                        autocomplete="off"
                        spellcheck="false"
                        data-testid="cond-password"
                        placeholder="the account's real password"
                        prop:value=move || options.with(|o| o.password.clone().unwrap_or_default())
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            if value.is_empty() {
                                // Empty means the user types the right one.
                                let mut o = options.get_untracked();
                                o.password = None;
                                error.set(None);
                                session.set_options(o);
                            } else {
                                set("password", value);
                            }
                        }
                    />
                </label>
                {has_sign_in.then(|| view! {
                    <label>
                        <span>"Wrong PINs at the first sign-in"</span>
                        <input
                            type="number"
                            min="0"
                            max="64"
                            inputmode="numeric"
                            data-testid="cond-signinwrongpin"
                            prop:value=move || options.with(|o| o.sign_in_wrong_pins.to_string())
                            on:change=move |ev| set("signinwrongpin", event_target_value(&ev))
                        />
                        <small>"the TPM's count goes on from provisioning's; at 32 it locks out"</small>
                    </label>
                    <Choice
                        testid="cond-hellokey"
                        key="hellokey"
                        label="The user's key at the first sign-in"
                        value=Signal::derive(move || options.with(|o| o.sign_in_key.slug().to_string()))
                        choices=&[
                            ("registered", "registered from this device, as provisioned"),
                            ("deleted", "deleted by an administrator"),
                            ("other-device", "filed under a previous device object"),
                        ]
                        set=toggle
                    />
                    <Toggle
                        testid="cond-device-disabled"
                        key="device"
                        on="disabled"
                        off="enabled"
                        checked=Signal::derive(move || options.with(|o| o.device_disabled))
                        set=toggle
                    >
                        "An administrator disables the device before the sign-in"
                    </Toggle>
                })}
                {has_join_task.then(|| view! {
                    <Toggle
                        testid="cond-scp-missing"
                        key="scp"
                        on="missing"
                        off="configured"
                        checked=Signal::derive(move || options.with(|o| o.scp_missing))
                        set=toggle
                    >
                        "The forest has no service connection point"
                    </Toggle>
                })}
                {has_hybrid_join.then(|| view! {
                    <Toggle
                        testid="cond-computer-out-of-scope"
                        key="computersync"
                        on="out-of-scope"
                        off="in-scope"
                        checked=Signal::derive(move || options.with(|o| o.computer_out_of_sync_scope))
                        set=toggle
                    >
                        "The computer's OU is outside Microsoft Entra Connect's sync scope"
                    </Toggle>
                })}
                {has_adfs.then(|| view! {
                    <Toggle
                        testid="cond-adfs"
                        key="adfs"
                        on="up"
                        off="down"
                        checked=Signal::derive(move || options.with(|o| o.federation_available))
                        set=toggle
                    >
                        "The federation server (AD FS) answers"
                    </Toggle>
                })}
                {has_receipt.then(|| view! {
                    <Toggle
                        testid="cond-cloudreg-unreachable"
                        key="cloudreg"
                        on="unreachable"
                        off="reachable"
                        checked=Signal::derive(move || options.with(|o| o.receipt_signers_unreachable))
                        set=toggle
                    >
                        "AD FS cannot reach the cloud registration service (no receipt signers)"
                    </Toggle>
                })}
                {has_template.then(|| view! {
                    <Toggle
                        testid="cond-hellogroup-not-member"
                        key="hellogroup"
                        on="not-member"
                        off="member"
                        checked=Signal::derive(move || options.with(|o| o.adfs_not_in_hello_group))
                        set=toggle
                    >
                        "AD FS's service account is not in the Windows Hello for Business Users group (the certificate template's Enroll permission)"
                    </Toggle>
                })}
                {has_kdc.then(|| view! {
                    <Toggle
                        testid="cond-dccert-missing"
                        key="dccert"
                        on="missing"
                        off="present"
                        checked=Signal::derive(move || options.with(|o| o.dc_certificate_missing))
                        set=toggle
                    >
                        "The domain controller has no KDC certificate (no Kerberos Authentication certificate enrolled)"
                    </Toggle>
                })}
                {cloud_kerberos.then(|| view! {
                    <Choice
                        testid="cond-kerberosserver"
                        key="kerberosserver"
                        label="The Microsoft Entra Kerberos server object"
                        value=Signal::derive(move || options.with(|o| o.kerberos_server.slug().to_string()))
                        choices=&[
                            ("present", "in AD and Entra ID, with the same key"),
                            ("missing", "never created (Set-AzureADKerberosServer not run)"),
                            ("rotated", "its key reset in AD, not with -RotateServerKey"),
                        ]
                        set=toggle
                    />
                    <Toggle
                        testid="cond-privileged"
                        key="privileged"
                        on="1"
                        off="0"
                        checked=Signal::derive(move || options.with(|o| o.privileged_user))
                        set=toggle
                    >
                        "The user is in Domain Admins (the Denied RODC Password Replication Group holds it)"
                    </Toggle>
                })}
                {has_kerberos_clock.then(|| view! {
                    <label>
                        <span>"The device's clock runs ahead of the domain controller's (minutes)"</span>
                        <input
                            type="number"
                            min="0"
                            max="1440"
                            inputmode="numeric"
                            data-testid="cond-skew"
                            prop:value=move || options.with(|o| o.clock_skew_minutes.to_string())
                            on:change=move |ev| set("skew", event_target_value(&ev))
                        />
                    </label>
                })}
                {has_logon_certificate.then(|| view! {
                    <Choice
                        testid="cond-usercert"
                        key="usercert"
                        label="The user's certificate at the sign-in to the domain"
                        value=Signal::derive(move || options.with(|o| o.user_certificate.slug().to_string()))
                        choices=&[
                            ("valid", "as issued, with the SID extension"),
                            ("no-sid", "issued without the SID extension (a CA without KB5014754)"),
                            ("revoked", "revoked by an administrator"),
                            ("expired", "expired, not renewed"),
                        ]
                        set=toggle
                    />
                })}
                {has_sync.then(|| view! {
                    <label>
                        <span>"Microsoft Entra Connect last ran (minutes before the start)"</span>
                        <input
                            type="number"
                            min="0"
                            max="1440"
                            inputmode="numeric"
                            data-testid="cond-lastsync"
                            prop:value=move || options.with(|o| (o.last_sync_ago.0 / 60_000).to_string())
                            on:change=move |ev| set("lastsync", event_target_value(&ev))
                        />
                    </label>
                    <label>
                        <span>"Sync interval (minutes)"</span>
                        <input
                            type="number"
                            min="1"
                            max="1440"
                            inputmode="numeric"
                            data-testid="cond-sync"
                            prop:value=move || options.with(|o| (o.sync_interval.0 / 60_000).to_string())
                            on:change=move |ev| set("sync", event_target_value(&ev))
                        />
                    </label>
                })}
            </div>
            {move || error.get().map(|e| view! { <p class="condition-error" role="alert" data-testid="condition-error">{format!("Not changed: {e}.")}</p> })}
            <button
                data-testid="reset-conditions"
                disabled=move || changed.with(Vec::is_empty)
                on:click=move |_| {
                    error.set(None);
                    session.set_options(Options::default());
                }
            >
                "Back to the documented conditions"
            </button>
        </details>
    }
}
