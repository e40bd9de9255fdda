//! "Inspect your own value": a person pastes or drops a value from their
//! deployment (an msDS-KeyCredentialLink value, a token, a certificate…),
//! and the engine, in the worker, says what it is, shows it with the same
//! decoded view as a run's artifacts and runs every check it allows alone
//! (`whfb_core::inspect`). Nothing leaves the page.

use crate::explorer::ArtifactView;
use crate::session::Session;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use whfb_model::artifact::Outcome;
use whfb_model::inspect::{Finding, Inspection};

/// Reads a chosen or dropped file as bytes (a DER certificate or a binary
/// blob is not text), then hands them, or why they could not be read, to
/// `done`.
pub fn read_bytes(file: web_sys::File, done: impl FnOnce(Result<Vec<u8>, String>) + 'static) {
    let name = file.name();
    wasm_bindgen_futures::spawn_local(async move {
        done(
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => Ok(js_sys::Uint8Array::new(&buffer).to_vec()),
                Err(_) => Err(format!("the file {name} could not be read")),
            },
        );
    });
}

#[component]
pub fn InspectPanel(session: Session) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let dragging = RwSignal::new(false);
    let run = move || {
        let value = text.get_untracked();
        session.inspect(value.into_bytes());
    };
    // A dropped or chosen file is read as bytes: a DER certificate or a
    // binary blob is not text.
    let read_file = move |file: web_sys::File| {
        let name = file.name();
        // The last answer goes at once: it is not this file's.
        session.inspecting.set(true);
        session.inspection.set(None);
        read_bytes(file, move |read| match read {
            Ok(bytes) => {
                text.set(format!("(the file {name}, {} bytes)", bytes.len()));
                session.inspect(bytes);
            }
            Err(why) => session.inspection.set(Some(Err(why))),
        });
    };
    view! {
        <section class="inspect" data-testid="inspect" aria-labelledby="inspect-title">
            <h2 id="inspect-title">"Inspect your own value"</h2>
            <p>
                "Paste or drop a value from your deployment: an msDS-KeyCredentialLink value as AD tools print it "
                "(B:…), or its blob in hex or base64; a token (JWT); a certificate, certificate request, CMS message "
                "or CRL (PEM or DER); a BCRYPT public key blob; a TPM2B_PUBLIC or TPMS_ATTEST; a SAML token from AD FS (XML or base64). "
                "The page says what it is, shows it decoded and runs every check the value allows on its own. "
                "It is read here, in this page: nothing is sent anywhere."
            </p>
            <textarea
                data-testid="inspect-input"
                aria-label="Value to inspect"
                rows="5"
                spellcheck="false"
                placeholder="B:828:00020000…:CN=…   or   eyJ…   or   -----BEGIN CERTIFICATE-----"
                class:dragging=move || dragging.get()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:dragover=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(true);
                }
                on:dragleave=move |_| dragging.set(false)
                on:drop=move |ev: web_sys::DragEvent| {
                    ev.prevent_default();
                    dragging.set(false);
                    let file = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0));
                    if let Some(file) = file {
                        read_file(file);
                    }
                }
            ></textarea>
            <div class="inspect-actions">
                <button data-testid="inspect-run" class="primary" on:click=move |_| run()>"Inspect"</button>
                <label class="file-pick">
                    "or choose a file: "
                    <input
                        type="file"
                        data-testid="inspect-file"
                        on:change=move |ev| {
                            let file = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                                .and_then(|input| input.files())
                                .and_then(|f| f.get(0));
                            if let Some(file) = file {
                                read_file(file);
                            }
                        }
                    />
                </label>
                {move || session.inspecting.get().then(|| view! { <span class="muted" role="status">"Reading…"</span> })}
            </div>
            {move || session.inspection.get().map(|result| match result {
                Ok(found) => view! { <InspectionView found /> }.into_any(),
                Err(why) => view! {
                    <p class="unreadable" data-testid="inspect-error" role="alert">{format!("Not read: {why}")}</p>
                }
                .into_any(),
            })}
        </section>
    }
}

#[component]
fn InspectionView(found: Inspection) -> impl IntoView {
    let failed = found
        .findings
        .iter()
        .filter(|f| !f.outcome.passed())
        .count();
    let summary = match (found.findings.len(), failed) {
        (0, _) => "No check applies to this kind on its own.".to_string(),
        (n, 0) => format!("All {n} checks that can run on the value alone pass."),
        (n, f) => format!("{f} of {n} checks fail."),
    };
    let kind = found.artifact.kind;
    view! {
        <div class="inspection" data-testid="inspection" data-kind=format!("{kind:?}")>
            <p class="read-as" data-testid="inspect-read-as" role="status">
                <strong>{kind.name()}</strong>
                {format!(", read as {}. {summary}", found.read_as)}
            </p>
            <section class="checks" aria-label="Checks on the value alone">
                <ul>{found.findings.into_iter().map(|f| view! { <FindingRow finding=f /> }).collect_view()}</ul>
            </section>
            {(!found.not_checked.is_empty()).then(|| view! {
                <div class="not-checked" data-testid="inspect-not-checked">
                    <p class="muted">"Not checked, because the value alone cannot say:"</p>
                    <ul>{found.not_checked.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                </div>
            })}
            <ArtifactView artifact=found.artifact />
        </div>
    }
}

#[component]
fn FindingRow(finding: Finding) -> impl IntoView {
    let (mark, class, reason) = match &finding.outcome {
        Outcome::Pass => ("✓", "pass", None),
        Outcome::Fail { reason } => ("✗", "fail", Some(reason.clone())),
    };
    view! {
        <li class=format!("check {class}") data-testid="check" data-outcome=class>
            <span class="mark" aria-hidden="true">{mark}</span>
            <div>
                <p class="title"><strong data-testid="check-title">{finding.title}</strong></p>
                <p class="compared">{finding.compared}</p>
                {reason.map(|r| view! { <p class="reason" data-testid="check-reason">{r}</p> })}
                <p class="rule">{finding.rule}</p>
            </div>
        </li>
    }
}
