//! Every flow, end to end, natively and in headless Chromium; and each check
//! broken on purpose, failing exactly where it should.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;
use whfb_core::artifact::{ArtifactKind, Outcome};
use whfb_core::catalog::{Actor, Phase};
use whfb_core::clock::{SimDuration, SimTime};
use whfb_core::engine::{Progress, Run, StepStatus};
use whfb_core::flows::{Feature, FlowId, Segment};
use whfb_core::options::{LastMfa, Options};
use whfb_core::script::Action;
use whfb_core::world::{World, WorldConfig};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// A flow of the registry, by its slug.
fn flow_id(slug: &str) -> FlowId {
    FlowId::from_slug(slug).unwrap_or_else(|| panic!("no flow {slug}"))
}

/// One world per options, with every infrastructure key generated once.
fn world(options: Options) -> World {
    static DEFAULT: OnceLock<World> = OnceLock::new();
    if options == Options::default() {
        return DEFAULT
            .get_or_init(|| {
                let mut w = World::build(WorldConfig::new("tests")).expect("world builds");
                w.warm_up_all().expect("keys generate");
                w
            })
            .clone();
    }
    let mut config = WorldConfig::new("tests");
    config.options = options;
    World::build(config).expect("world builds")
}

fn run(flow: FlowId, options: Options) -> Run {
    let mut r = Run::new(world(options), flow);
    r.run_to_end();
    r
}

/// The run stopped at the step doing `action`, on the check `title`, and
/// nothing after it ran.
fn assert_halted_at(r: &Run, action: Action, title: &str, reason_contains: &str) {
    let halt = r
        .halted()
        .unwrap_or_else(|| panic!("the run did not stop; expected {title} to fail"));
    let last = r.events().last().expect("some events");
    assert_eq!(last.index, halt.step, "nothing downstream ran");
    assert_eq!(last.action, action, "stopped at the wrong step");
    assert_eq!(
        halt.check, title,
        "a different check failed: {}",
        halt.reason
    );
    assert!(
        halt.reason.contains(reason_contains),
        "reason was: {}",
        halt.reason
    );
    assert!(matches!(last.status, StepStatus::Failed { .. }));
}

#[test]
fn every_flow_runs_to_its_end_with_every_check_as_expected() {
    for flow in FlowId::all() {
        check_runs_to_its_end(&run(flow, Options::default()));
    }
}

/// The run went through every step of its script, ran at least 15 checks,
/// each came out as expected, and it ended in the flow's last phase.
fn check_runs_to_its_end(r: &Run) {
    let flow = r.flow();
    assert!(r.halted().is_none(), "{flow:?} stopped: {:?}", r.halted());
    assert_eq!(r.events().len(), r.script().steps.len(), "{flow:?}");
    let checks: usize = r.events().iter().map(|e| e.checks.len()).sum();
    assert!(checks >= 15, "{flow:?} ran only {checks} checks");
    for e in r.events() {
        for c in &e.checks {
            assert!(
                c.as_expected(),
                "{flow:?} step {} {}: {:?}",
                e.index + 1,
                c.title,
                c.outcome
            );
        }
    }
    let phases: Vec<Phase> = r.events().iter().map(|e| e.phase).collect();
    assert_eq!(phases.last(), r.script().phase_list().last());
}

/// The device key and the transport key are made when first needed or
/// ahead of need, before or after pool keys are asked for: the run is the
/// same to the byte, because they are always the TPM's first creations.
#[test]
fn the_device_keys_are_the_same_whenever_they_are_made() {
    let flow = flow_id("aadj-managed");
    // Every artifact of the run, and the TPM commands that made the device
    // keys (a user key taken from a full pool shows fewer TPM commands than
    // one made on the spot, but it is the same key).
    let events = |r: &Run| -> Vec<(String, Vec<u8>)> {
        r.events()
            .iter()
            .flat_map(|e| {
                let tpm = e
                    .tpm
                    .iter()
                    .filter(|_| e.action == Action::CreateDeviceKeys)
                    .flat_map(|x| [&x.command, &x.response]);
                e.artifacts.iter().chain(tpm)
            })
            .map(|a| (a.id.clone(), a.bytes.clone()))
            .collect()
    };
    let fresh = || World::build(WorldConfig::new("tests")).unwrap();
    let mut at_need = Run::new(fresh(), flow);
    at_need.run_to_end();
    check_runs_to_its_end(&at_need);
    // The pool filled first: its first call makes the device keys.
    let mut w = fresh();
    assert!(w.device.keys_if_made().is_none(), "made before need");
    while w.device.fill_pool_one().unwrap() {}
    assert!(w.device.keys_if_made().is_some());
    let same = |a: &Run, how: &str| {
        let (got, want) = (events(a), events(&at_need));
        assert_eq!(got.len(), want.len(), "{how}: another number of artifacts");
        for (g, w) in got.iter().zip(&want) {
            assert!(g == w, "{how}: {} differs from {}", g.0, w.0);
        }
    };
    let mut pool_first = Run::new(w, flow);
    pool_first.run_to_end();
    same(&pool_first, "the pool filled first");
    // Everything warmed up ahead of need, as the page's worker does.
    let mut ahead = Run::new(fresh(), flow);
    while ahead.warm_up_one().unwrap().is_some() {}
    ahead.run_to_end();
    same(&ahead, "warmed up");
}

/// What identifies the device, to show a refusal did not come from
/// changing it.
fn device_identity(w: &World) -> (String, Vec<u8>, Vec<u8>, Vec<u8>) {
    use rsa::pkcs8::EncodePublicKey;
    (
        format!("{:?}", w.device.id()),
        w.device
            .keys_if_made()
            .expect("the device keys were made")
            .device_public
            .to_public_key_der()
            .unwrap()
            .as_bytes()
            .to_vec(),
        w.device.aik_certificate().to_vec(),
        w.device.ek_certificate().to_vec(),
    )
}

/// A run of `flow` in `world` that has run every step before provisioning
/// (the device's join, where the flow shows it).
fn joined_run(world: World, flow: FlowId) -> Run {
    let mut r = Run::new(world, flow);
    let first = r.script().first_step_of(Phase::A).expect("a phase A");
    if first > 0 {
        r.run_through(first - 1).unwrap();
        assert!(r.halted().is_none(), "{flow}: the join failed");
    }
    r
}

#[test]
fn the_identity_provider_refuses_a_device_it_did_not_register() {
    let normal = world(Options::default());
    // The PRT names the device, in managed and federated domains alike.
    for (flow, title, idp) in [
        (
            "aadj-managed",
            "Device is registered and enabled",
            "is registered",
        ),
        (
            "aadj-federated",
            "Device is registered and enabled",
            "is registered",
        ),
    ] {
        let mut r = joined_run(normal.clone(), flow_id(flow));
        let joined = device_identity(r.world());
        // The identity provider forgets the device; the device is untouched.
        r.world_mut().azure_ad.devices.clear();
        r.world_mut().directory.devices.clear();
        r.run_to_end();
        assert_halted_at(&r, Action::SignInRequest, title, "is registered");
        let halt = r.halted().unwrap();
        assert!(halt.reason.contains(idp), "{flow}: {}", halt.reason);
        assert_eq!(device_identity(r.world()), joined);
    }
}

#[test]
fn the_registration_service_refuses_an_aik_from_a_ca_it_does_not_trust() {
    let normal = world(Options::default());
    let other = whfb_core::attestation::AttestationCa::new(
        &whfb_core::seed::Seed::from_text("another attestation CA"),
        SimTime::DEFAULT_START,
    )
    .unwrap();
    for flow in ["aadj-managed", "onprem-key"] {
        let mut w = normal.clone();
        w.adrs.trusted_attestation_cas = vec![other.certificate().to_vec()];
        w.edrs.trusted_attestation_cas = vec![other.certificate().to_vec()];
        let mut r = joined_run(w, flow_id(flow));
        let joined = device_identity(r.world());
        r.run_to_end();
        assert_halted_at(
            &r,
            Action::ValidateRegistration,
            "AIK certificate is trusted",
            "no attestation CA the service trusts issued it",
        );
        assert_eq!(device_identity(r.world()), joined);
    }
}

#[test]
fn ad_fs_refuses_a_relying_party_it_has_no_trust_for() {
    let normal = world(Options::default());
    let mut ran = 0;
    for flow in FlowId::all() {
        let topology = whfb_core::script::Topology::of(flow);
        if topology.authenticator != Actor::AdFs {
            continue;
        }
        // The trust goes after the Windows sign-in: provisioning's own
        // request is refused, at AD FS's authorization endpoint on
        // premises, at its WS-Federation sign-in for Entra ID otherwise.
        let mut r = joined_run(normal.clone(), flow);
        r.world_mut().adfs.relying_parties.clear();
        let joined = device_identity(r.world());
        r.run_to_end();
        let at = if topology.token_issuer == Actor::AdFs {
            Action::SignInRequest
        } else {
            Action::FederatedSignIn
        };
        assert_halted_at(&r, at, "Relying party is trusted", "MSIS7007");
        assert_eq!(device_identity(r.world()), joined);
        // Without it from the start, a federated Windows sign-in gets no
        // SAML token for Entra ID.
        if topology.token_issuer == Actor::AzureAd {
            let mut w = normal.clone();
            w.adfs.relying_parties.clear();
            let mut r = Run::new(w, flow);
            r.run_to_end();
            assert_halted_at(
                &r,
                Action::RequestSamlToken,
                "Relying party is trusted",
                "MSIS7007",
            );
        }
        ran += 1;
    }
    assert!(ran > 0, "no flow signs in through AD FS");
}

#[test]
fn the_ca_records_what_it_issues_and_numbers_serials_from_it() {
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    check_runs_to_its_end(&r);
    let pki = r.world().pki_if_built().expect("the PKI was used");
    assert_eq!(pki.ca.issued.len(), 1);
    let issued = &pki.ca.issued[0];
    assert_eq!(issued.serial, 0x1000);
    assert_eq!(
        issued.requester,
        r.world().user.down_level_name(&r.world().tenant)
    );
    let ca = r
        .events()
        .iter()
        .flat_map(|e| &e.holdings)
        .filter(|h| h.actor == Actor::Ca && h.item == "Issued certificates")
        .map(|h| h.detail.clone())
        .collect::<Vec<_>>();
    assert_eq!(ca.first().map(String::as_str), Some("none yet"));
    assert!(ca.last().unwrap().contains("serial 0x1000"), "{ca:?}");
}

#[test]
fn a_delta_import_brings_only_what_changed_after_the_watermark() {
    let mut w = world(Options::default());
    // A connector whose watermark is already past the run: it would never
    // see the key registered now, and the sign-in after the sync fails.
    w.sync.watermark = SimTime(u64::MAX / 2);
    let mut r = Run::new(w, flow_id("hybrid-key-managed"));
    r.run_to_end();
    let write = r
        .events()
        .iter()
        .find(|e| e.action == Action::SyncWrite)
        .expect("the sync ran");
    assert!(
        matches!(write.status, StepStatus::Skipped { .. }),
        "{:?}",
        write.status
    );
    let halt = r.halted().expect("the sign-in after the sync is refused");
    assert_eq!(r.events()[halt.step].action, Action::SignInAfterSync);
    // With the watermark where the world left it, the key comes through.
    check_runs_to_its_end(&run(flow_id("hybrid-key-managed"), Options::default()));
}

/// A step that needs a key the world does not hold says which and changes
/// nothing; with the key made elsewhere and handed in, it runs, and the run
/// is the very one whose keys were there from the start.
#[test]
fn a_step_waits_for_a_key_it_needs_and_resumes_when_the_key_arrives() {
    let full = world(Options::default());
    let bare = World::build(WorldConfig::new("tests")).expect("world builds");
    for flow in FlowId::all() {
        let mut waiting = Run::new(bare.clone(), flow);
        let mut asked = Vec::new();
        loop {
            let before = (waiting.events().len(), waiting.now());
            match waiting.advance() {
                Progress::Ran => {}
                Progress::Ended => break,
                Progress::NeedsKey(purpose) => {
                    assert_eq!((waiting.events().len(), waiting.now()), before);
                    assert!(!asked.contains(&purpose), "{flow}: {purpose:?} asked twice");
                    asked.push(purpose);
                    let key = full.keys.key(purpose).expect("made up front").clone();
                    waiting.world_mut().keys.insert(purpose, key);
                }
            }
        }
        let mut needed = waiting.keys_needed();
        needed.sort();
        asked.sort();
        assert_eq!(
            asked, needed,
            "{flow}: the keys asked for are the keys it needs"
        );
        let mut ready = Run::new(full.clone(), flow);
        ready.run_to_end();
        assert_eq!(waiting.events(), ready.events(), "{flow}");
        check_runs_to_its_end(&waiting);
    }
}

#[test]
fn the_registration_authority_refuses_a_receipt_from_a_signer_it_does_not_trust() {
    let stranger = whfb_core::seed::make_key(
        &whfb_core::seed::Seed::from_text("x"),
        whfb_core::seed::KeyPurpose::AzureAdTokenSigning,
    )
    .unwrap()
    .to_public_key();
    let mut r = joined_run(world(Options::default()), flow_id("hybrid-cert-sync"));
    let joined = device_identity(r.world());
    // AD FS holds another service's key where the cloud registration
    // service's should be.
    let fetched = r
        .script()
        .steps
        .iter()
        .position(|s| s.action == Action::FetchReceiptSigners)
        .unwrap();
    r.run_through(fetched).unwrap();
    r.world_mut().adfs.receipt_signers = Some(vec![stranger]);
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateRequest,
        "Key receipt signature",
        "does not verify with any receipt signer AD FS trusts",
    );
    assert_eq!(device_identity(r.world()), joined);
    // The same receipt passes with the signers AD FS downloads itself.
    check_runs_to_its_end(&run(flow_id("hybrid-cert-sync"), Options::default()));
}

/// AD FS trusts a key receipt because it downloaded the receipt signers
/// from the cloud registration service: a step of its own. Where AD FS
/// cannot reach the service it holds none, falls back to the key in AD, and
/// before the sync that is not there either.
#[test]
fn the_ra_checks_receipts_with_the_signers_it_downloaded() {
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    check_runs_to_its_end(&r);
    let fetched = r
        .events()
        .iter()
        .find(|e| e.action == Action::FetchReceiptSigners)
        .expect("the download is a step");
    let set = fetched
        .artifacts
        .iter()
        .find(|a| a.id == "receipt-signers")
        .expect("the key set that arrived");
    let text = std::str::from_utf8(&set.bytes).unwrap();
    assert!(text.contains("\"kty\": \"RSA\""), "{text}");
    let unreachable = Options {
        receipt_signers_unreachable: true,
        ..Options::default()
    };
    let r = run(flow_id("hybrid-cert-sync"), unreachable.clone());
    let skipped = r
        .events()
        .iter()
        .find(|e| e.action == Action::FetchReceiptSigners)
        .expect("the download is a step");
    assert!(
        matches!(&skipped.status, StepStatus::Skipped { why } if why.contains("could not reach enterpriseregistration.windows.net")),
        "{:?}",
        skipped.status
    );
    assert_halted_at(
        &r,
        Action::ValidateRequest,
        "Key receipt signature",
        "AD FS holds no receipt signers",
    );
    // Flows without a key receipt have no such step and do not care.
    for flow in FlowId::all().filter(|f| !f.has(Feature::KeyReceipt)) {
        let r = run(flow, unreachable.clone());
        check_runs_to_its_end(&r);
        assert!(r
            .events()
            .iter()
            .all(|e| e.action != Action::FetchReceiptSigners));
    }
}

#[test]
fn hybrid_key_trust_refuses_an_on_premises_sign_in_until_the_sync() {
    let synced = FlowId::all().filter(|f| f.info().has_segment(Segment::KeySync));
    for flow in synced {
        check_refused_until_the_sync(&run(flow, Options::default()));
    }
}

/// Before the directory sync the domain controller finds no key to trust;
/// the wait lasts until the next sync cycle; after it the sign-in works.
fn check_refused_until_the_sync(r: &Run) {
    let before = r
        .events()
        .iter()
        .find(|e| e.action == Action::SignInBeforeSync)
        .expect("probe ran");
    let refusal = before
        .checks
        .iter()
        .find(|c| c.expect_refusal)
        .expect("a refusal");
    assert!(matches!(&refusal.outcome, Outcome::Fail { reason } if reason.contains("empty")));
    let wait = r
        .events()
        .iter()
        .find(|e| e.action == Action::WaitForSync)
        .expect("wait");
    // The last cycle ran 12 minutes before the start: the next one starts 18 minutes after it.
    assert_eq!(
        wait.time,
        SimTime::DEFAULT_START.plus(SimDuration::minutes(18))
    );
    assert!(
        wait.elapsed > SimDuration::minutes(15),
        "the clock jumped {}",
        wait.elapsed
    );
    let after = r
        .events()
        .iter()
        .find(|e| e.action == Action::SignInAfterSync)
        .expect("sign-in");
    assert!(after.checks.iter().all(|c| c.outcome.passed()));
}

#[test]
fn a_fresh_mfa_skips_the_prompt_and_a_stale_one_prompts() {
    let fresh = run(
        flow_id("aadj-managed"),
        Options {
            last_mfa: LastMfa::Ago(SimDuration::minutes(2)),
            ..Options::default()
        },
    );
    assert!(fresh.halted().is_none());
    let prompt = fresh
        .events()
        .iter()
        .find(|e| e.action == Action::MfaPrompt)
        .expect("step");
    assert!(matches!(prompt.status, StepStatus::Skipped { .. }));
    let stale = run(
        flow_id("aadj-managed"),
        Options {
            last_mfa: LastMfa::Ago(SimDuration::minutes(15)),
            ..Options::default()
        },
    );
    let prompt = stale
        .events()
        .iter()
        .find(|e| e.action == Action::MfaPrompt)
        .expect("step");
    assert_eq!(prompt.status, StepStatus::Done);
}

#[test]
fn an_mfa_that_goes_stale_before_registration_is_refused_by_the_registration_service() {
    // 9 minutes ago: fresh enough to skip the prompt, stale by phase C.
    let r = run(
        flow_id("aadj-managed"),
        Options {
            last_mfa: LastMfa::Ago(SimDuration::minutes(9)),
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "MFA is still fresh",
        "provisioning needs one less than 10 min old",
    );
}

#[test]
fn a_short_pin_stops_provisioning_before_any_key_is_taken() {
    let r = run(
        flow_id("aadj-managed"),
        Options {
            pin: "1234".into(),
            pin_confirmation: "1234".into(),
            ..Options::default()
        },
    );
    assert_halted_at(&r, Action::CreatePin, "PIN meets the policy", "at least 6");
}

#[test]
fn a_pin_confirmation_that_differs_stops_provisioning() {
    let r = run(
        flow_id("onprem-key"),
        Options {
            pin_confirmation: "246811".into(),
            ..Options::default()
        },
    );
    assert_halted_at(&r, Action::CreatePin, "PIN confirmed", "differ");
}

/// The artifact `id` of the first step doing `action`, as JSON or a JWT's
/// claims.
fn claims_of(r: &Run, action: Action, id: &str) -> serde_json::Value {
    let artifact = r
        .events()
        .iter()
        .filter(|e| e.action == action)
        .flat_map(|e| &e.artifacts)
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("no {id} at {action:?}"));
    let text = std::str::from_utf8(&artifact.bytes).unwrap();
    match text.split('.').nth(1) {
        // A compact JWS (RS256 or HS256): its payload.
        Some(payload) if !text.starts_with('{') => serde_json::from_slice(
            &<base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(payload).unwrap(),
        )
        .unwrap(),
        _ => serde_json::from_slice(&artifact.bytes).unwrap(),
    }
}

#[test]
fn at_windows_sign_in_the_password_brings_the_first_prt() {
    for flow in [
        "aadj-managed",
        "hybrid-key-managed",
        "onprem-key",
        "onprem-cert",
    ] {
        let r = run(flow_id(flow), Options::default());
        check_runs_to_its_end(&r);
        let script = r.script();
        let sign_in = script
            .resolve("windows-sign-in.request-prt")
            .expect("a password sign-in");
        assert_eq!(script.steps[sign_in].phase, Phase::R, "{flow}");
        assert!(sign_in < script.first_step_of(Phase::A).unwrap(), "{flow}");
        // MS-OAPXBC §4's password grant, signed by the device.
        let request = claims_of(&r, Action::RequestPrt, "prt-request");
        assert_eq!(request["grant_type"], "password", "{flow}");
        assert_eq!(request["username"], "alex.wilber@contoso.com", "{flow}");
        assert!(request["assertion"].is_null(), "{flow}");
        if flow.starts_with("onprem") {
            // On premises the PRT is AD FS's (an enterprise PRT), for the
            // device the Enterprise DRS wrote into AD; Entra ID sees nothing.
            let w = r.world();
            assert!(w.azure_ad.sign_ins.prts.is_empty(), "{flow}");
            assert_eq!(w.adfs.sign_ins.prts.len(), 1, "{flow}");
            assert_eq!(w.adfs.sign_ins.prts[0].device_id, w.device.id().unwrap());
            let validate = r
                .events()
                .iter()
                .find(|e| e.action == Action::ValidatePrtRequest)
                .unwrap();
            assert!(validate.checks.iter().all(|c| c.actor == Actor::AdFs));
            let device = validate
                .checks
                .iter()
                .find(|c| c.title == "Device is registered and enabled")
                .unwrap();
            assert!(device.compared.contains("Active Directory"), "{flow}");
            assert!(device.result().is_ok(), "{flow}");
            let sso = r.events().last().unwrap();
            let sso = sso
                .device_state
                .iter()
                .find(|s| s.name == "SSO State")
                .expect("an SSO State section");
            assert_eq!(sso.get("EnterprisePrt"), Some("YES"), "{flow}");
            assert_eq!(
                sso.get("EnterprisePrtAuthority"),
                Some("https://adfs.contoso.com:443/adfs")
            );
            continue;
        }
        let first = &r.world().azure_ad.sign_ins.prts[0];
        assert_eq!(first.device_id, r.world().device.id().unwrap(), "{flow}");
        // The PIN's PRT later is another one, with another session key.
        let last = r.world().azure_ad.sign_ins.prts.last().unwrap();
        assert_ne!(first.token, last.token, "{flow}");
        assert_ne!(first.session_key, last.session_key, "{flow}");
    }
}

#[test]
fn provisioning_presents_the_prt_instead_of_the_password() {
    for flow in [
        "aadj-managed",
        "hybrid-key-managed",
        "onprem-key",
        "onprem-cert",
    ] {
        let r = run(flow_id(flow), Options::default());
        let on_prem = flow.starts_with("onprem");
        let (issuer, prts) = if on_prem {
            ("AD FS", &r.world().adfs.sign_ins.prts)
        } else {
            ("Entra ID", &r.world().azure_ad.sign_ins.prts)
        };
        let request = claims_of(&r, Action::SignInRequest, "sign-in-request");
        let url = request["url"].as_str().unwrap();
        assert_eq!(
            url.ends_with("/adfs/oauth2/authorize"),
            on_prem,
            "{flow}: {url}"
        );
        assert_eq!(request["query"]["amr_values"], "ngcmfa", "{flow}");
        assert!(
            !request.to_string().contains("password"),
            "{flow}: {request}"
        );
        // The header carries the password sign-in's PRT and a nonce Entra
        // ID issued for it.
        let credential = claims_of(&r, Action::SignInRequest, "prt-credential");
        assert_eq!(credential["refresh_token"], prts[0].token, "{flow}");
        assert_eq!(credential["windows_api_version"], "2.0.1");
        let event = r
            .events()
            .iter()
            .find(|e| e.action == Action::SignInRequest)
            .unwrap();
        let mut titles = vec![
            format!("PRT is one {issuer} issued"),
            "Signed with the session key".into(),
            "Nonce is fresh".into(),
            "Device is registered and enabled".into(),
        ];
        if on_prem {
            titles.push("Relying party is trusted".into());
        }
        for title in titles {
            let check = event.checks.iter().find(|c| c.title == title);
            let check = check.unwrap_or_else(|| panic!("{flow}: no check {title}"));
            assert!(check.result().is_ok(), "{flow}: {title}");
        }
        assert!(event.tpm.iter().any(|x| x.name == "TPM2_HMAC"), "{flow}");
    }
}

#[test]
fn a_wrong_password_at_windows_sign_in_brings_no_prt() {
    // Entra ID checks the password against its hash; on premises AD FS
    // checks it against AD. Neither issues a PRT.
    for flow in ["aadj-managed", "onprem-key"] {
        let r = run(
            flow_id(flow),
            Options {
                password: Some("guess".into()),
                ..Options::default()
            },
        );
        assert_halted_at(
            &r,
            Action::ValidatePrtRequest,
            "Password (first factor)",
            "wrong",
        );
        assert_eq!(r.halted().unwrap().step + 1, r.events().len());
        let w = r.world();
        assert!(w.azure_ad.sign_ins.prts.is_empty() && w.adfs.sign_ins.prts.is_empty());
    }
    // Provisioning alone cannot start without that sign-in's PRT.
    let alone = Run::provisioning_only(
        world(Options {
            password: Some("guess".into()),
            ..Options::default()
        }),
        flow_id("aadj-managed"),
    );
    let error = alone.expect_err("refused").to_string();
    assert!(error.contains("Windows sign-in"), "{error}");
}

#[test]
fn a_prt_entra_id_no_longer_honours_is_refused_at_provisioning() {
    // Forgotten (revoked) after the sign-in.
    let mut r = joined_run(world(Options::default()), flow_id("aadj-managed"));
    r.world_mut().azure_ad.sign_ins.prts.clear();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::SignInRequest,
        "PRT is one Entra ID issued",
        "never issued",
    );
    // Older than its fourteen days.
    let mut r = joined_run(world(Options::default()), flow_id("aadj-managed"));
    r.advance_clock(whfb_core::clock::SimDuration::minutes(15 * 24 * 60));
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::SignInRequest,
        "PRT is one Entra ID issued",
        "good for 14 days",
    );
    // On premises AD FS keeps its own record: revoked there, refused there.
    let mut r = joined_run(world(Options::default()), flow_id("onprem-cert"));
    r.world_mut().adfs.sign_ins.prts.clear();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::SignInRequest,
        "PRT is one AD FS issued",
        "never issued",
    );
}

#[test]
fn on_premises_the_key_trust_sign_in_is_a_real_pkinit_exchange() {
    use whfb_core::kerberos::{messages, pkinit};
    for flow in ["hybrid-key-managed", "hybrid-key-federated"] {
        let mut r = run(flow_id(flow), Options::default());
        check_runs_to_its_end(&r);
        let bytes = |action: Action, id: &str| -> Vec<u8> {
            r.events()
                .iter()
                .filter(|e| e.action == action)
                .flat_map(|e| &e.artifacts)
                .find(|a| a.id == id)
                .unwrap_or_else(|| panic!("{flow}: no {id}"))
                .bytes
                .clone()
        };
        // Before the sync: a KRB-ERROR, KDC_ERR_CLIENT_NOT_TRUSTED.
        let error = bytes(Action::SignInBeforeSync, "sign-in-before-sync-reply");
        let error = <messages::KrbError as der::Decode>::from_der(&error).unwrap();
        assert_eq!(error.0.error_code.0, pkinit::error_code::CLIENT_NOT_TRUSTED);
        // After it: an AS-REP whose TGT the domain controller's krbtgt key
        // opens, naming the user.
        let request = bytes(Action::SignInAfterSync, "sign-in-after-sync");
        let request = <messages::AsReq as der::Decode>::from_der(&request).unwrap();
        assert_eq!(
            request.0.req_body.0.cname.unwrap().0.display(),
            "alex.wilber@contoso.com"
        );
        let reply = bytes(Action::SignInAfterSync, "sign-in-after-sync-reply");
        let reply = <messages::AsRep as der::Decode>::from_der(&reply).unwrap();
        let ticket = der::Encode::to_der(&reply.0.ticket.0).unwrap();
        let krbtgt = r.world_mut().domain_controller().unwrap().krbtgt.clone();
        let part = pkinit::open_ticket(&ticket, &krbtgt).unwrap();
        assert_eq!(part.cname.0.display(), "alexw", "{flow}");
        assert_eq!(part.crealm.0.as_str(), "CONTOSO.COM");
        // The client checked the KDC's certificate and opened its part.
        let event = r
            .events()
            .iter()
            .find(|e| e.action == Action::SignInAfterSync)
            .unwrap();
        for title in ["KDC certificate", "Reply opens with the Diffie-Hellman key"] {
            let check = event.checks.iter().find(|c| c.title == title).unwrap();
            assert!(check.result().is_ok(), "{flow}: {title}");
        }
    }
}

/// A run of `flow` through the step `id`.
fn run_to(flow: &str, id: &str) -> Run {
    let mut r = Run::new(world(Options::default()), flow_id(flow));
    let at = r.script().resolve(id).unwrap();
    r.run_through(at).unwrap();
    assert!(r.halted().is_none(), "{flow}: stopped before {id}");
    r
}

#[test]
fn every_domain_flow_ends_with_a_tgt_from_the_domain_controller() {
    use whfb_core::kerberos::{messages, pkinit};
    for (flow, trust_check) in [
        ("onprem-key", "Key found in msDS-KeyCredentialLink"),
        ("onprem-cert", "Strong mapping: the SID extension"),
        ("hybrid-cert-async", "Certificate chains to an NTAuth CA"),
        ("hybrid-cert-sync", "Certificate not revoked"),
    ] {
        let mut r = run(flow_id(flow), Options::default());
        check_runs_to_its_end(&r);
        let last = r.events().last().unwrap();
        assert_eq!(last.id.to_string(), "kerberos.open-as-rep", "{flow}");
        let check = r
            .events()
            .iter()
            .filter(|e| e.action == Action::CheckAsReq)
            .flat_map(|e| &e.checks)
            .find(|c| c.title == trust_check)
            .unwrap_or_else(|| panic!("{flow}: no {trust_check}"));
        assert!(check.result().is_ok(), "{flow}");
        let reply = r.wire("kerberos-as-rep").unwrap().to_vec();
        let reply = <messages::AsRep as der::Decode>::from_der(&reply).unwrap();
        let ticket = der::Encode::to_der(&reply.0.ticket.0).unwrap();
        let krbtgt = r.world_mut().domain_controller().unwrap().krbtgt.clone();
        let part = pkinit::open_ticket(&ticket, &krbtgt).unwrap();
        assert_eq!(part.cname.0.display(), "alexw", "{flow}");
    }
}

#[test]
fn the_kdc_refuses_what_it_cannot_trust() {
    // A key that is no longer in AD (key trust).
    let mut r = run_to("onprem-key", "kerberos.send-as-req");
    r.world_mut().directory.key_credential_link.clear();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "Key found in msDS-KeyCredentialLink",
        "empty",
    );
    // A certificate whose SID is not the account's (certificate trust):
    // KDC_ERR_CERTIFICATE_MISMATCH.
    let mut r = run_to("onprem-cert", "kerberos.send-as-req");
    r.world_mut().user.sid = "S-1-5-21-1-2-3-4242".into();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "Strong mapping: the SID extension",
        "not the account's SID",
    );
    // Six minutes between the client's clock and the KDC's.
    let mut r = run_to("onprem-key", "kerberos.send-as-req");
    r.advance_clock(whfb_core::clock::SimDuration::minutes(6));
    r.run_to_end();
    assert_halted_at(&r, Action::CheckAsReq, "Clock skew", "apart");
    // The request body edited on the wire: its checksum no longer holds.
    let mut r = run_to("onprem-key", "kerberos.send-as-req");
    // till: 20370913024805Z becomes 20360913024805Z.
    let mut req = r.wire("kerberos-as-req").unwrap().to_vec();
    let till = req
        .windows(15)
        .rposition(|w| w == b"20370913024805Z")
        .unwrap();
    req[till + 3] = b'6';
    r.tamper("kerberos-as-req", req.clone()).unwrap();
    r.run_to_end();
    assert_halted_at(&r, Action::CheckAsReq, "Request checksum", "changed after");
    // The same edit signed again by the client, with the user key in the
    // TPM: the KDC has nothing to object to.
    let mut r = run_to("onprem-key", "kerberos.send-as-req");
    r.tamper_resigned("kerberos-as-req", req).unwrap();
    r.run_to_end();
    check_runs_to_its_end(&r);
    // Re-signing does not make another realm this KDC's.
    let mut r = run_to("onprem-key", "kerberos.send-as-req");
    let mut req = r.wire("kerberos-as-req").unwrap().to_vec();
    // The body's realm, before sname's krbtgt/CONTOSO.COM.
    let at: Vec<usize> = req
        .windows(11)
        .enumerate()
        .filter(|(_, w)| *w == b"CONTOSO.COM")
        .map(|(i, _)| i)
        .collect();
    req[at[at.len() - 2]] = b'X';
    r.tamper_resigned("kerberos-as-req", req).unwrap();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "Realm is this domain's",
        "XONTOSO.COM",
    );
    // Nobody re-signs the KDC's reply.
    let mut r = run_to("onprem-key", "kerberos.return-as-rep");
    let reply = r.wire("kerberos-as-rep").unwrap().to_vec();
    let why = r
        .tamper_resigned("kerberos-as-rep", reply)
        .unwrap_err()
        .to_string();
    assert!(why.contains("not modelled"), "{why}");
}

#[test]
fn the_kdc_refuses_without_its_certificate_and_a_certificate_it_cannot_map_or_trust() {
    use whfb_core::options::UserCertificate;
    // No KDC certificate: PKINIT is not on offer (KDC_ERR_PADATA_TYPE_NOSUPP).
    let no_kdc_certificate = Options {
        dc_certificate_missing: true,
        ..Options::default()
    };
    let r = run(flow_id("onprem-key"), no_kdc_certificate.clone());
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "The KDC can do PKINIT",
        "no KDC certificate",
    );
    let r = run(flow_id("hybrid-key-managed"), no_kdc_certificate);
    assert_halted_at(
        &r,
        Action::SignInAfterSync,
        "The KDC can do PKINIT",
        "no KDC certificate",
    );
    // A certificate without the SID extension maps only weakly: refused
    // under full enforcement (KDC_ERR_CERTIFICATE_MISMATCH).
    let r = run(
        flow_id("onprem-cert"),
        Options {
            user_certificate: UserCertificate::NoSid,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "Strong mapping: the SID extension",
        "no SID extension",
    );
    // Revoked after issuance: the CA's new CRL lists it.
    let r = run(
        flow_id("hybrid-cert-sync"),
        Options {
            user_certificate: UserCertificate::Revoked,
            ..Options::default()
        },
    );
    assert_halted_at(&r, Action::CheckAsReq, "Certificate not revoked", "revoked");
    let crl = r.world().pki_if_built().unwrap().ca.crl.clone();
    assert!(!r.world().pki_if_built().unwrap().ca.revoked.is_empty());
    assert!(crl.len() > 300);
}

#[test]
fn cloud_kerberos_trust_exchanges_entra_s_partial_tgt_for_a_full_one() {
    use whfb_core::kerberos::{messages, tgs};
    let r = run(flow_id("hybrid-cloud-kerberos"), Options::default());
    check_runs_to_its_end(&r);
    assert_eq!(
        r.events().last().unwrap().id.to_string(),
        "cloud-kerberos.open-tgs-rep"
    );
    // No key reaches AD and no certificate is issued.
    assert!(r.world().directory.key_credential_link.is_empty());
    assert!(r.world().device.personal_store().is_empty());
    // The PRT response carried tgt_ad; its AS-REP's ticket opens with the
    // key Entra ID holds for the server object, names the user and carries
    // the SID in a PAC the RODC's key signed.
    let event = r
        .events()
        .iter()
        .find(|e| e.action == Action::IssuePrt && e.phase == Phase::S)
        .unwrap();
    let as_rep = event
        .artifacts
        .iter()
        .find(|a| a.id == "partial-tgt-as-rep")
        .unwrap()
        .bytes
        .clone();
    let as_rep = <messages::AsRep as der::Decode>::from_der(&as_rep).unwrap();
    let partial = der::Encode::to_der(&as_rep.0.ticket.0).unwrap();
    let (number, entra_key, version) = r.world().entra_kerberos_domain().unwrap().unwrap();
    assert_eq!(
        as_rep.0.ticket.0 .0.enc_part.0.kvno.as_ref().unwrap().0,
        tgs::rodc_kvno(number, version)
    );
    let who = tgs::open_ticket_identity(&partial, &entra_key, Some(number)).unwrap();
    assert_eq!(who.sid, r.world().user.sid);
    assert_eq!(who.sam_account_name, "alexw");
    // The full TGT opens with the domain's own krbtgt key.
    let reply = r.wire("kerberos-tgs-rep").unwrap().to_vec();
    let reply = <messages::TgsRep as der::Decode>::from_der(&reply).unwrap();
    let full = der::Encode::to_der(&reply.0.ticket.0).unwrap();
    let (krbtgt, kvno) = r.world().domain_krbtgt().unwrap();
    assert_eq!(
        reply.0.ticket.0 .0.enc_part.0.kvno.as_ref().unwrap().0,
        kvno
    );
    let who = tgs::open_ticket_identity(&full, &krbtgt, None).unwrap();
    assert_eq!(who.sid, r.world().user.sid);
    assert!(tgs::open_ticket_identity(&full, &entra_key, None).is_err());
    // The same seed, the same tickets.
    let again = run(flow_id("hybrid-cloud-kerberos"), Options::default());
    assert_eq!(again.wire("kerberos-tgs-rep"), r.wire("kerberos-tgs-rep"));
}

#[test]
fn cloud_kerberos_trust_refuses_each_fault_with_its_reason() {
    use whfb_core::options::KerberosServer;
    let flow = flow_id("hybrid-cloud-kerberos");
    let r = run(
        flow,
        Options {
            kerberos_server: KerberosServer::Missing,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::HandOverPartialTgt,
        "A partial TGT for the domain",
        "OnPremTgt : NO",
    );
    let r = run(
        flow,
        Options {
            kerberos_server: KerberosServer::Rotated,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::CheckTgsReq,
        "The key version is current",
        "Active Directory holds version 2",
    );
    let r = run(
        flow,
        Options {
            privileged_user: true,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::CheckTgsReq,
        "The RODC may vouch for the user",
        "Denied RODC Password Replication Group",
    );
    let skewed = Options {
        clock_skew_minutes: 9,
        ..Options::default()
    };
    let r = run(flow, skewed.clone());
    assert_halted_at(&r, Action::CheckTgsReq, "Clock skew", "apart");
    // The same skew stops PKINIT too.
    let r = run(flow_id("onprem-key"), skewed);
    assert_halted_at(&r, Action::CheckAsReq, "Clock skew", "apart");
    // An edit of the TGS-REQ's body: the authenticator's checksum catches it.
    let mut r = run_to("hybrid-cloud-kerberos", "cloud-kerberos.send-tgs-req");
    let mut req = r.wire("kerberos-tgs-req").unwrap().to_vec();
    let till = req
        .windows(15)
        .rposition(|w| w == b"20370913024805Z")
        .unwrap();
    req[till + 3] = b'6';
    r.tamper("kerberos-tgs-req", req.clone()).unwrap();
    r.run_to_end();
    assert_halted_at(&r, Action::CheckTgsReq, "Request checksum", "changed after");
    // Sealed again by the client with the session key: the KDC accepts it.
    let mut r = run_to("hybrid-cloud-kerberos", "cloud-kerberos.send-tgs-req");
    r.tamper_resigned("kerberos-tgs-req", req).unwrap();
    r.run_to_end();
    check_runs_to_its_end(&r);
    // Nobody makes the KDC's reply again.
    let mut r = run_to("hybrid-cloud-kerberos", "cloud-kerberos.return-tgs-rep");
    let reply = r.wire("kerberos-tgs-rep").unwrap().to_vec();
    let why = r
        .tamper_resigned("kerberos-tgs-rep", reply)
        .unwrap_err()
        .to_string();
    assert!(why.contains("not modelled"), "{why}");
}

#[test]
fn an_expired_logon_certificate_is_refused() {
    let r = run(
        flow_id("onprem-cert"),
        Options {
            user_certificate: whfb_core::options::UserCertificate::Expired,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::CheckAsReq,
        "Certificate is valid now",
        "valid from",
    );
}

#[test]
fn a_wrong_password_is_refused_by_the_identity_provider() {
    let r = run(
        flow_id("aadj-federated"),
        Options {
            password: Some("guess".into()),
            ..Options::default()
        },
    );
    // AD FS checks it at the Windows sign-in, before any PRT.
    assert_halted_at(
        &r,
        Action::RequestSamlToken,
        "Password (first factor)",
        "wrong",
    );
}

#[test]
fn without_the_federation_server_no_token_is_issued() {
    let r = run(
        flow_id("onprem-cert"),
        Options {
            federation_available: false,
            ..Options::default()
        },
    );
    // Nobody registers a device without AD FS either: the computer's own
    // sign-in for its registration fails first.
    assert_halted_at(&r, Action::JoinSignIn, "Federation server reachable", "503");
    // Provisioning alone, on a device registered before, cannot start:
    // the Windows sign-in before it got no enterprise PRT.
    let alone = Run::provisioning_only(
        world(Options {
            federation_available: false,
            ..Options::default()
        }),
        flow_id("onprem-cert"),
    );
    let error = alone.expect_err("no PRT").to_string();
    assert!(error.contains("Federation server reachable"), "{error}");
    // In a federated cloud flow nobody but AD FS checks the password:
    // the Windows sign-in gets no PRT, so provisioning alone cannot start.
    let error = Run::provisioning_only(
        world(Options {
            federation_available: false,
            ..Options::default()
        }),
        flow_id("hybrid-cert-sync"),
    )
    .expect_err("no PRT")
    .to_string();
    assert!(error.contains("Federation server reachable"), "{error}");
    assert!(
        error.contains("nobody else can check the password"),
        "{error}"
    );
    // AD FS down after the sign-in: the second factor has nobody to vouch
    // for it.
    let mut r = joined_run(world(Options::default()), flow_id("hybrid-cert-sync"));
    r.world_mut().config.options.federation_available = false;
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::FederatedSignIn,
        "Federation server reachable",
        "503",
    );
}

#[test]
fn thirty_two_wrong_pins_lock_the_tpm_out() {
    let r = run(
        flow_id("aadj-managed"),
        Options {
            wrong_pin_attempts: 32,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::RequestKey,
        "PIN authorises the key",
        "TPM_RC_LOCKOUT",
    );
    let r = run(
        flow_id("aadj-managed"),
        Options {
            wrong_pin_attempts: 3,
            ..Options::default()
        },
    );
    assert!(
        r.halted().is_none(),
        "three mistakes are forgiven: {:?}",
        r.halted()
    );
}

/// Runs `flow` up to (not including) the step doing `action`, lets `tamper`
/// change the wire, then runs on.
fn tampered(flow: FlowId, action: Action, tamper: impl FnOnce(&mut Run)) -> Run {
    let mut r = Run::new(world(Options::default()), flow);
    while r.next_step().is_some_and(|s| s.action != action) {
        r.step();
    }
    tamper(&mut r);
    r.run_to_end();
    r
}

fn edit_token(
    r: &mut Run,
    id: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    resign: bool,
) {
    let token = String::from_utf8(r.wire(id).expect("token on the wire").to_vec()).expect("text");
    let parts: Vec<&str> = token.split('.').collect();
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&Base64UrlUnpadded::decode_vec(parts[1]).expect("b64"))
            .expect("json");
    edit(&mut claims);
    let payload = Base64UrlUnpadded::encode_string(&serde_json::to_vec(&claims).expect("json"));
    let new = format!("{}.{}.{}", parts[0], payload, parts[2]);
    if resign {
        r.tamper_resigned(id, new.into_bytes()).expect("re-signed");
    } else {
        r.tamper(id, new.into_bytes()).expect("replaced");
    }
}

#[test]
fn a_tampered_token_signature_is_refused() {
    let r = tampered(flow_id("aadj-managed"), Action::RegisterKey, |r| {
        edit_token(
            r,
            "access-token",
            |c| {
                c.insert("upn".into(), "mallory@contoso.com".into());
            },
            false,
        )
    });
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "Access token signature",
        "signature",
    );
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let r = tampered(flow_id("aadj-managed"), Action::RegisterKey, |r| {
        edit_token(
            r,
            "access-token",
            |c| {
                c.insert("aud".into(), "https://graph.microsoft.com".into());
            },
            true,
        )
    });
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "Access token audience",
        "graph.microsoft.com",
    );
}

#[test]
fn an_expired_token_is_refused() {
    let r = tampered(flow_id("onprem-key"), Action::RegisterKey, |r| {
        edit_token(
            r,
            "access-token",
            |c| {
                let iat = c["iat"].as_u64().unwrap_or(0);
                c.insert("exp".into(), (iat - 60).into());
            },
            true,
        )
    });
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "Access token lifetime",
        "expired",
    );
}

#[test]
fn a_key_that_does_not_match_its_attestation_is_refused() {
    let r = tampered(flow_id("aadj-managed"), Action::ValidateRegistration, |r| {
        // Swap kngc for another key's blob; the attestation still names the TPM key.
        let other = rsa_keygen::new(
            &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
            2048,
        )
        .expect("key");
        let blob = whfb_core::formats::bcrypt::BcryptRsaPublicBlob::from_public_key(
            &other.to_public_key(),
        )
        .expect("blob");
        let body = r
            .wire("key-registration-request")
            .expect("request")
            .to_vec();
        let mut json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        use base64ct::{Base64, Encoding};
        json["kngc"] = Base64::encode_string(&blob.to_bytes()).into();
        r.tamper(
            "key-registration-request",
            serde_json::to_vec(&json).expect("json"),
        )
        .expect("tamper");
    });
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "Attested key is the key being registered",
        "different public key",
    );
}

#[test]
fn the_same_seed_gives_byte_identical_artifacts() {
    let a = run(flow_id("hybrid-cert-sync"), Options::default());
    let b = {
        let mut r = Run::new(
            World::build(WorldConfig::new("tests")).expect("world"),
            flow_id("hybrid-cert-sync"),
        );
        r.run_to_end();
        r
    };
    let bytes = |r: &Run| -> Vec<Vec<u8>> {
        r.events()
            .iter()
            .flat_map(|e| e.artifacts.iter().map(|a| a.bytes.clone()))
            .collect()
    };
    assert_eq!(bytes(&a), bytes(&b));
    let mut other = WorldConfig::new("another seed");
    other.options = Options::default();
    let mut c = Run::new(
        World::build(other).expect("world"),
        flow_id("hybrid-cert-sync"),
    );
    c.run_to_end();
    assert_ne!(bytes(&a), bytes(&c));
}

#[test]
fn artifacts_are_in_their_real_formats() {
    let r = run(flow_id("onprem-key"), Options::default());
    let all: Vec<_> = r
        .events()
        .iter()
        .flat_map(|e| e.artifacts.clone())
        .collect();
    let kngc = all
        .iter()
        .find(|a| a.kind == ArtifactKind::BcryptRsaPublicBlob)
        .expect("kngc");
    assert_eq!(kngc.bytes.len(), 283);
    let kcl = all
        .iter()
        .find(|a| a.kind == ArtifactKind::KeyCredentialLink)
        .expect("kcl");
    use sha2::{Digest, Sha256};
    // KeyID (entry 0x01) is SHA-256 of KeyMaterial (entry 0x03), MS-ADTS 2.2.20.
    assert_eq!(&kcl.bytes[0..4], &[0x00, 0x02, 0x00, 0x00]);
    assert_eq!(&kcl.bytes[4..7], &[32, 0, 0x01]);
    let material_start = 4 + 35 + 35 + 3;
    assert_eq!(kcl.bytes[material_start - 1], 0x03);
    assert_eq!(
        &kcl.bytes[7..39],
        Sha256::digest(&kcl.bytes[material_start..material_start + 283]).as_slice()
    );
    assert_eq!(
        &kcl.bytes[42..74],
        Sha256::digest(&kcl.bytes[74..]).as_slice(),
        "KeyHash covers what follows it"
    );
    for a in all.iter().filter(|a| a.kind == ArtifactKind::Jwt) {
        assert_eq!(
            std::str::from_utf8(&a.bytes)
                .expect("text")
                .split('.')
                .count(),
            3,
            "{}",
            a.title
        );
    }
}

#[test]
fn certificate_flows_issue_a_certificate_that_chains_to_the_root() {
    for flow in [
        flow_id("hybrid-cert-async"),
        flow_id("hybrid-cert-sync"),
        flow_id("onprem-cert"),
    ] {
        let r = run(flow, Options::default());
        assert!(r.halted().is_none(), "{flow:?}: {:?}", r.halted());
        let install = r
            .events()
            .iter()
            .find(|e| e.action == Action::InstallCertificate)
            .expect("the certificate is installed");
        assert!(install.checks.len() >= 4 && install.checks.iter().all(|c| c.outcome.passed()));
    }
}

#[test]
fn moving_the_clock_past_the_mfa_window_makes_registration_refuse() {
    let mut r = Run::new(world(Options::default()), flow_id("aadj-managed"));
    while r
        .next_step()
        .is_some_and(|s| s.action != Action::ValidateRegistration)
    {
        r.step();
    }
    let marks = r.clock_marks();
    let until = marks.mfa_fresh_until.expect("MFA was done in phase A");
    r.advance_clock(until.since(marks.now));
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "MFA is still fresh",
        "provisioning needs one less than 10 min old",
    );
    let last = r.events().last().expect("events");
    assert!(
        last.notes[0].starts_with("The clock was moved forward by"),
        "{:?}",
        last.notes
    );
}

#[test]
fn each_step_says_who_holds_what_and_private_keys_stay_in_the_tpm() {
    use whfb_core::catalog::Actor;
    use whfb_core::engine::HoldingKind;
    let r = run(flow_id("onprem-cert"), Options::default());
    let first = &r.events()[0].holdings;
    assert!(first
        .iter()
        .all(|h| h.item != "PIN" && h.item != "User key ukpriv"));
    let last = &r.events().last().expect("events").holdings;
    let ukpriv = last
        .iter()
        .find(|h| h.item == "User key ukpriv")
        .expect("the user key");
    assert_eq!(
        (ukpriv.actor, ukpriv.kind),
        (Actor::Tpm, HoldingKind::PrivateKey)
    );
    assert!(last
        .iter()
        .any(|h| h.actor == Actor::User && h.item == "PIN"));
    assert!(last
        .iter()
        .any(|h| h.actor == Actor::Cxh && h.kind == HoldingKind::Certificate));
    let ad = last.iter().find(|h| h.actor == Actor::Ad).expect("AD");
    assert!(ad.detail.starts_with("1 value(s)"), "{}", ad.detail);
    // Every actor listed takes part in the flow.
    for h in last {
        assert!(
            flow_id("onprem-cert").info().actors.contains(&h.actor),
            "{:?}",
            h.actor
        );
    }
}

#[test]
fn tamperable_artifacts_say_who_could_sign_them_again() {
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    let token = r
        .events()
        .iter()
        .find(|e| e.action == Action::IssueAccessToken)
        .expect("step");
    let target = token
        .tamperable
        .iter()
        .find(|t| t.artifact == "access-token")
        .expect("token is on the wire");
    assert!(target
        .resign
        .as_ref()
        .is_ok_and(|who| who.contains("Entra ID")));
    let key = r
        .events()
        .iter()
        .find(|e| e.action == Action::ReturnKey)
        .expect("step");
    let attestation = key
        .tamperable
        .iter()
        .find(|t| t.artifact == "key-attestation")
        .expect("attestation");
    assert!(attestation
        .resign
        .as_ref()
        .is_err_and(|why| why.contains("restricted")));
}

/// An RSA-2048 key that is not the user's, made once.
fn other_key() -> &'static rsa::RsaPrivateKey {
    static KEY: OnceLock<rsa::RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(11);
        rsa_keygen::new(&mut rng, 2048).expect("key")
    })
}

fn sign_with_other_key(data: &[u8]) -> whfb_core::Result<Vec<u8>> {
    use rsa::signature::{SignatureEncoding, Signer};
    let key = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(other_key().clone());
    Ok(key.sign(data).to_vec())
}

fn edit_json(r: &mut Run, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut json: serde_json::Value =
        serde_json::from_slice(r.wire(id).expect("on the wire")).expect("json");
    edit(&mut json);
    r.tamper(id, serde_json::to_vec(&json).expect("json"))
        .expect("tamper");
}

#[test]
fn the_ra_refuses_a_request_signed_by_another_key() {
    let r = tampered(flow_id("onprem-cert"), Action::SendRequest, |r| {
        let user = whfb_core::device::rsa_public_key(r.wire("user-key-public").expect("ukpub"))
            .expect("key");
        let csr =
            whfb_core::pki::build_request("alex.wilber@contoso.com", &user, sign_with_other_key)
                .expect("csr");
        r.tamper("certificate-request", csr).expect("tamper");
    });
    assert_halted_at(&r, Action::ValidateRequest, "Request signature", "");
}

#[test]
fn without_a_synced_key_the_ra_needs_the_key_receipt() {
    // The synchronous flow: the key is only in Entra ID when the request comes.
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    let validate = r
        .events()
        .iter()
        .find(|e| e.action == Action::ValidateRequest)
        .expect("step");
    assert!(
        validate
            .notes
            .iter()
            .any(|n| n.contains("turns to the key receipt")),
        "{:?}",
        validate.notes
    );
    assert!(validate
        .checks
        .iter()
        .any(|c| c.title == "Key receipt signature" && c.outcome.passed()));

    let missing = tampered(flow_id("hybrid-cert-sync"), Action::ValidateRequest, |r| {
        edit_json(r, "ra-enrollment-request", |j| {
            j.as_object_mut().expect("object").remove("krctx");
        })
    });
    assert_halted_at(
        &missing,
        Action::ValidateRequest,
        "Key receipt present",
        "no key receipt",
    );

    let forged = tampered(flow_id("hybrid-cert-sync"), Action::ValidateRequest, |r| {
        let receipt =
            String::from_utf8(r.wire("key-receipt").expect("receipt").to_vec()).expect("text");
        let (input, _) = receipt.rsplit_once('.').expect("jws");
        use base64ct::{Base64UrlUnpadded, Encoding};
        let forged = format!(
            "{input}.{}",
            Base64UrlUnpadded::encode_string(&sign_with_other_key(input.as_bytes()).expect("sig"))
        );
        edit_json(r, "ra-enrollment-request", |j| {
            use base64ct::{Base64, Encoding};
            let wrapped = serde_json::json!({ "Data": forged }).to_string();
            j["krctx"] = Base64::encode_string(wrapped.as_bytes()).into()
        });
    });
    assert_halted_at(
        &forged,
        Action::ValidateRequest,
        "Key receipt signature",
        "signature",
    );

    let someone_else = tampered(flow_id("hybrid-cert-sync"), Action::SendRequest, |r| {
        edit_token(
            r,
            "key-receipt",
            |c| {
                c.insert("upn".into(), "megan.bowen@contoso.com".into());
            },
            true,
        )
    });
    assert_halted_at(
        &someone_else,
        Action::ValidateRequest,
        "Receipt names the requester",
        "megan.bowen@contoso.com",
    );
}

#[test]
fn on_premises_the_ra_only_matches_the_registered_key() {
    let r = tampered(flow_id("onprem-cert"), Action::ReadKeyLinks, |r| {
        r.world_mut().directory.key_credential_link.clear();
    });
    assert_halted_at(
        &r,
        Action::ValidateRequest,
        "Key is registered for the user",
        "MSIS9711 (0xCAA20002)",
    );
}

#[test]
fn the_client_asks_ad_fs_for_a_logon_certificate_and_names_neither_user_nor_template() {
    for flow in ["onprem-cert", "hybrid-cert-async", "hybrid-cert-sync"] {
        let r = run(flow_id(flow), Options::default());
        check_runs_to_its_end(&r);
        let request: serde_json::Value =
            serde_json::from_slice(r.wire("ra-enrollment-request").expect("request"))
                .expect("json");
        // On premises AD FS's JWT for its registration service; in a
        // federated domain the SAML token AD FS issued at the MFA sign-in.
        assert_eq!(
            request["grant_type"],
            if flow == "onprem-cert" {
                "urn:ietf:params:oauth:grant-type:jwt-bearer"
            } else {
                "urn:ietf:params:oauth:grant-type:saml1_1-bearer"
            }
        );
        assert_eq!(request["requested_token_use"], "logon_cert");
        assert_eq!(
            request["resource"],
            "urn:microsoft:winhello:cert:prov:server"
        );
        assert_eq!(request["scope"], "winhello_cert");
        assert_eq!(
            request["csr_type"],
            "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"
        );
        let fields: Vec<&String> = request.as_object().expect("object").keys().collect();
        for absent in ["requester", "template", "upn"] {
            assert!(!fields.iter().any(|f| *f == absent), "{flow}: {fields:?}");
        }
        // The receipt, where there is one, travels as krctx.
        assert_eq!(
            request.get("krctx").is_some(),
            flow == "hybrid-cert-sync",
            "{flow}"
        );
        // AD FS answers with the certificate in x5c, a CMS chain of three.
        let response: serde_json::Value = serde_json::from_slice(
            r.wire("certificate-token-response")
                .expect("token response"),
        )
        .expect("json");
        use base64ct::{Base64, Encoding};
        let chain = Base64::decode_vec(response["x5c"].as_str().expect("x5c")).expect("b64");
        let certs = whfb_core::pki::chain_certificates(&chain).expect("chain");
        // A SET OF: DER orders the certificates by their encodings.
        assert_eq!(certs.len(), 3, "{flow}");
        let issued = r.wire("user-certificate").expect("cert");
        assert!(certs.iter().any(|c| c.as_slice() == issued), "{flow}");
    }
}

#[test]
fn ad_fs_takes_the_user_from_a_token_it_issued() {
    // The assertion rewritten to name someone else: the signature breaks.
    let other_user = tampered(flow_id("onprem-cert"), Action::ValidateRequest, |r| {
        edit_json(r, "ra-enrollment-request", |j| {
            let token = j["assertion"].as_str().expect("assertion").to_string();
            let parts: Vec<&str> = token.split('.').collect();
            use base64ct::{Base64UrlUnpadded, Encoding};
            let mut claims: serde_json::Value =
                serde_json::from_slice(&Base64UrlUnpadded::decode_vec(parts[1]).expect("b64"))
                    .expect("json");
            claims["upn"] = "megan.bowen@contoso.com".into();
            let payload =
                Base64UrlUnpadded::encode_string(&serde_json::to_vec(&claims).expect("json"));
            j["assertion"] = format!("{}.{payload}.{}", parts[0], parts[2]).into();
        })
    });
    assert_halted_at(
        &other_user,
        Action::ValidateRequest,
        "Assertion signature",
        "",
    );
    // Not a logon certificate request.
    let wrong_use = tampered(flow_id("onprem-cert"), Action::ValidateRequest, |r| {
        edit_json(r, "ra-enrollment-request", |j| {
            j["requested_token_use"] = "on_behalf_of".into();
        })
    });
    assert_halted_at(
        &wrong_use,
        Action::ValidateRequest,
        "Request is a logon certificate request",
        "requested_token_use is \"on_behalf_of\"",
    );
}

#[test]
fn ad_fs_refuses_a_token_for_a_user_active_directory_does_not_hold() {
    // AD FS issued the token, but the account is gone from AD when the
    // certificate request arrives.
    let r = tampered(flow_id("onprem-cert"), Action::ValidateRequest, |r| {
        r.world_mut().user.upn = "someone.else@contoso.com".into();
    });
    assert_halted_at(
        &r,
        Action::ValidateRequest,
        "User is in Active Directory",
        "no user alex.wilber@contoso.com",
    );
}

#[test]
fn the_client_builds_the_chain_from_what_ad_fs_returned() {
    // x5c without the issuing CA's certificate: the app cannot chain the
    // certificate to the root it trusts.
    let r = tampered(flow_id("onprem-cert"), Action::InstallCertificate, |r| {
        let cert = r.wire("user-certificate").expect("cert").to_vec();
        let chain = whfb_core::pki::certificate_chain(&[cert]).expect("chain");
        edit_json(r, "certificate-token-response", |j| {
            use base64ct::{Base64, Encoding};
            j["x5c"] = Base64::encode_string(&chain).into();
        });
    });
    let last = r.events().last().expect("events");
    assert_eq!(last.action, Action::InstallCertificate);
    let chain = last
        .checks
        .iter()
        .find(|c| c.title == "Certificate chains to the enterprise root")
        .expect("chain check");
    assert!(chain.result().is_err(), "{:?}", chain.result());
}

/// The countersigned request replaced before the RA submits it.
fn with_countersignature(signer: whfb_core::enterprise_pki::Signer) -> Run {
    tampered(flow_id("onprem-cert"), Action::SubmitToCa, |r| {
        let csr = r.wire("certificate-request").expect("csr").to_vec();
        let now = r.now();
        let requester = "CONTOSO\\alexw";
        let cms = r
            .world_mut()
            .pki()
            .expect("pki")
            .ra
            .countersign_as(&csr, requester, now, signer)
            .expect("cms");
        r.tamper("countersigned-request", cms).expect("tamper");
    })
}

#[test]
fn the_ca_refuses_a_request_without_an_enrollment_agent_signature() {
    let r = with_countersignature(whfb_core::enterprise_pki::Signer::Nobody);
    assert_halted_at(
        &r,
        Action::IssueCertificate,
        "Request carries the required RA signatures",
        "0x80094809",
    );
}

#[test]
fn the_ca_refuses_a_signature_by_a_certificate_without_the_request_agent_eku() {
    let r = with_countersignature(whfb_core::enterprise_pki::Signer::WithoutAgentEku);
    assert_halted_at(
        &r,
        Action::IssueCertificate,
        "Signer is a Certificate Request Agent",
        "0x8009480B",
    );
}

/// A body replaced by bytes that are not JSON stops at its receiver's first
/// check, with the parser's reason.
#[test]
fn a_body_that_is_not_json_is_refused_by_its_receiver() {
    for (flow, before, id, title) in [
        (
            flow_id("aadj-managed"),
            Action::ValidateRegistration,
            "key-registration-request",
            "Request is well formed",
        ),
        (
            flow_id("hybrid-cert-sync"),
            Action::ValidateRequest,
            "ra-enrollment-request",
            "Request is well formed",
        ),
        (
            flow_id("hybrid-cert-async"),
            Action::IssueCertificate,
            "ca-submission",
            "Submission is well formed",
        ),
    ] {
        let r = tampered(flow, before, |r| {
            r.tamper(id, b"{ not json".to_vec()).expect("replaced")
        });
        assert_halted_at(&r, before, title, "key must be a string");
    }
}

#[test]
fn the_ca_refuses_a_template_the_ra_may_not_use() {
    let r = tampered(
        flow_id("hybrid-cert-async"),
        Action::IssueCertificate,
        |r| {
            edit_json(r, "ca-submission", |j| {
                j["pwszAttributes"] = "CertificateTemplate:Administrator".into()
            });
        },
    );
    assert_halted_at(
        &r,
        Action::IssueCertificate,
        "Requester may enroll for the template",
        "0x80094012",
    );
}

#[test]
fn without_ad_fs_in_the_hello_group_the_ca_refuses() {
    for flow in ["onprem-cert", "hybrid-cert-sync"] {
        let r = run(
            flow_id(flow),
            Options {
                adfs_not_in_hello_group: true,
                ..Options::default()
            },
        );
        assert_halted_at(
            &r,
            Action::IssueCertificate,
            "Requester may enroll for the template",
            "0x80094012",
        );
        let last = r.events().last().expect("events");
        let check = last
            .checks
            .iter()
            .find(|c| c.title == "Requester may enroll for the template")
            .expect("the permission check");
        assert!(
            check.compared.contains("CONTOSO\\adfssvc$ (S-1-5-21-"),
            "{}",
            check.compared
        );
        assert!(
            check.compared.contains("Domain Computers"),
            "{}",
            check.compared
        );
        assert!(
            check.compared.contains("Windows Hello for Business Users"),
            "{}",
            check.compared
        );
    }
}

#[test]
fn the_issued_certificate_is_for_the_user_and_chains_to_the_root() {
    let r = run(flow_id("onprem-cert"), Options::default());
    let all: Vec<_> = r
        .events()
        .iter()
        .flat_map(|e| e.artifacts.clone())
        .collect();
    let cert = all
        .iter()
        .find(|a| a.id == "user-certificate")
        .expect("certificate");
    let root = all
        .iter()
        .find(|a| a.id == "enterprise-root-ca")
        .expect("root");
    let issuing = all
        .iter()
        .find(|a| a.id == "issuing-ca")
        .expect("issuing CA");
    let agent = all
        .iter()
        .find(|a| a.id == "enrollment-agent-certificate")
        .expect("agent");
    assert!(all.iter().any(|a| a.kind == ArtifactKind::Cms));
    let user =
        whfb_core::device::rsa_public_key(r.wire("user-key-public").expect("ukpub")).expect("key");
    let checks = whfb_core::pki::check_issued(
        &cert.bytes,
        &issuing.bytes,
        &root.bytes,
        &user,
        "alex.wilber@contoso.com",
        r.now(),
        Actor::Cxh,
    );
    assert!(checks.len() >= 4);
    for c in &checks {
        assert!(c.result().is_ok(), "{}: {:?}", c.title, c.result());
    }
    let names: Vec<String> = cert.fields.iter().flat_map(all_values).collect();
    assert!(
        names.iter().any(|v| v.contains("1.3.6.1.4.1.311.20.2.2")),
        "Smart Card Logon EKU"
    );
    assert!(
        names.iter().any(|v| v.contains("1.3.6.1.5.5.7.3.2")),
        "Client Authentication EKU"
    );
    // The subject and the SID come from the user's account in AD.
    let world = r.world();
    assert!(
        names
            .iter()
            .any(|v| v == "DC=com, DC=contoso, OU=Staff, CN=Alex Wilber"),
        "the subject is the user's DN"
    );
    assert!(
        names.iter().any(|v| v == &world.user.sid),
        "the SID extension names {}",
        world.user.sid
    );
    assert!(
        names
            .iter()
            .any(|v| v.contains("http://ca.contoso.com/CertEnroll/Contoso%20Issuing%20CA.crl")),
        "a CRL distribution point"
    );
    assert!(
        names.iter().any(|v| v.contains("alex.wilber@contoso.com")),
        "UPN in the SAN"
    );
    let agent_values: Vec<String> = agent.fields.iter().flat_map(all_values).collect();
    assert!(
        agent_values
            .iter()
            .any(|v| v.contains("1.3.6.1.4.1.311.20.2.1")),
        "Certificate Request Agent EKU"
    );
}

fn all_values(f: &whfb_core::artifact::Field) -> Vec<String> {
    let mut out = vec![f.value.clone()];
    out.extend(f.children.iter().flat_map(all_values));
    out
}

/// SHA-256 over every byte a run produced: each artifact and each TPM
/// command and response, in order, each prefixed by its id and length.
fn trace_digest(r: &Run) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for e in r.events() {
        let tpm = e.tpm.iter().flat_map(|x| [&x.command, &x.response]);
        for a in e.artifacts.iter().chain(tpm) {
            h.update(a.id.as_bytes());
            h.update((a.bytes.len() as u64).to_be_bytes());
            h.update(&a.bytes);
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Known answers: seed `known-answer`, default options, every flow. A change
/// to any key, token, blob, request or certificate changes these digests;
/// `WHFB_BLESS=1 cargo test -p whfb-core --test flows known_answers` rewrites
/// the file after a deliberate change. In headless Chromium the same digests
/// must come out (see `browser` below).
#[test]
fn known_answers_over_the_whole_trace() {
    const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/known-answers.txt");
    let mut base = World::build(WorldConfig::new(KNOWN_ANSWER_SEED)).expect("world");
    base.warm_up_all().expect("keys");
    let got: Vec<String> = FlowId::all()
        .map(|flow| {
            let mut r = Run::new(base.clone(), flow);
            r.run_to_end();
            known_answer_line(&r)
        })
        .collect();
    if std::env::var_os("WHFB_BLESS").is_some() {
        std::fs::write(PATH, got.join("\n") + "\n").expect("write known answers");
        return;
    }
    check_known_answers(&got);
}

const KNOWN_ANSWER_SEED: &str = "known-answer";

/// `<flow slug> <trace digest>` for a run that went to its end.
fn known_answer_line(r: &Run) -> String {
    assert!(r.halted().is_none(), "{:?}: {:?}", r.flow(), r.halted());
    format!("{} {}", r.flow().slug(), trace_digest(r))
}

fn check_known_answers(got: &[String]) {
    let want = include_str!("data/known-answers.txt");
    assert_eq!(
        got.join("\n") + "\n",
        want,
        "the bytes of a run changed; if that is intended, re-bless (see the doc comment)"
    );
}

/// The same checks in headless Chromium, one test per flow. The runner gives
/// each test about 20 seconds and a synchronous test that blocks the page
/// that long makes ChromeDriver give up, so these hand control back to the
/// browser between key generations and between steps, as the page's worker
/// does, and share one world between them.
#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use std::cell::RefCell;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// Lets the browser's event loop run once (a zero-delay timeout).
    async fn breathe() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let global = js_sys::global();
            let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into())
                .expect("setTimeout exists")
                .unchecked_into::<js_sys::Function>();
            set_timeout
                .call2(&global, &resolve, &0.into())
                .expect("setTimeout runs");
        });
        wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .expect("the timeout resolves");
    }

    thread_local! {
        static WORLD: RefCell<Option<World>> = const { RefCell::new(None) };
    }

    /// The known-answer world with every infrastructure key made, one key
    /// per turn of the event loop; built by the first test that needs it.
    async fn known_answer_world() -> World {
        if let Some(w) = WORLD.with(|cell| cell.borrow().clone()) {
            return w;
        }
        let mut w = World::build(WorldConfig::new(KNOWN_ANSWER_SEED)).expect("world builds");
        breathe().await;
        for purpose in whfb_core::seed::KeyPurpose::ALL {
            w.keys.make(purpose).expect("key generates");
            breathe().await;
        }
        w.pki().expect("the PKI builds");
        breathe().await;
        WORLD.with(|cell| *cell.borrow_mut() = Some(w.clone()));
        w
    }

    /// Runs `flow` to its end one step per turn, then checks what the native
    /// tests check: every check as expected, and the same bytes as the known
    /// answers computed natively.
    async fn check_flow(flow: FlowId) {
        let world = known_answer_world().await;
        let mut r = Run::new(world, flow);
        while r.step().is_some() {
            breathe().await;
        }
        check_runs_to_its_end(&r);
        if flow.info().has_segment(Segment::KeySync) {
            check_refused_until_the_sync(&r);
        }
        let line = known_answer_line(&r);
        let want = include_str!("data/known-answers.txt")
            .lines()
            .find(|l| l.split(' ').next() == Some(flow.slug()))
            .expect("a known answer for every flow");
        assert_eq!(
            line, want,
            "the browser computed other bytes than the native run"
        );
    }

    /// The flow at `slot` of the registry, if there is one.
    async fn check_flow_at(slot: usize) {
        if let Some(flow) = FlowId::all().nth(slot) {
            check_flow(flow).await;
        }
    }

    macro_rules! in_the_browser {
        ($($name:ident: $slot:literal),* $(,)?) => {
            $(
                #[wasm_bindgen_test]
                async fn $name() {
                    check_flow_at($slot).await;
                }
            )*
            /// How many flows the browser tests cover.
            pub const SLOTS: usize = [$($slot),*].len();
        };
    }

    // One test per flow of the registry, so that each stays well within the
    // runner's time for one test.
    in_the_browser! {
        flow_0_matches_the_native_run: 0,
        flow_1_matches_the_native_run: 1,
        flow_2_matches_the_native_run: 2,
        flow_3_matches_the_native_run: 3,
        flow_4_matches_the_native_run: 4,
        flow_5_matches_the_native_run: 5,
        flow_6_matches_the_native_run: 6,
        flow_7_matches_the_native_run: 7,
        flow_8_matches_the_native_run: 8,
        flow_9_matches_the_native_run: 9,
        flow_10_matches_the_native_run: 10,
        flow_11_matches_the_native_run: 11,
        flow_12_matches_the_native_run: 12,
        flow_13_matches_the_native_run: 13,
        flow_14_matches_the_native_run: 14,
        flow_15_matches_the_native_run: 15,
    }

    #[wasm_bindgen_test]
    fn every_flow_of_the_registry_has_a_browser_test() {
        assert!(
            FlowId::all().count() <= SLOTS,
            "add slots to `in_the_browser!` for the new flows"
        );
    }
}

/// Microsoft Entra joined, managed, run through the step `id`.
fn aadj_through(id: &str) -> Run {
    let flow = flow_id("aadj-managed");
    let mut r = Run::new(world(Options::default()), flow);
    let at = r.script().resolve(id).unwrap();
    r.run_through(at).unwrap();
    assert!(r.halted().is_none(), "{id}: {:?}", r.halted());
    r
}

#[test]
fn the_join_is_checked_by_the_registration_service_and_the_device() {
    // A certificate request edited after the TPM signed it.
    let mut r = aadj_through("device-registration.sign-device-request");
    let mut csr = r.wire("device-certificate-request").unwrap().to_vec();
    let at = csr.len() / 4;
    csr[at] ^= 0x01;
    r.tamper("device-certificate-request", csr).unwrap();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "Certificate request signature",
        "",
    );
    assert!(
        r.world().azure_ad.devices.is_empty(),
        "no device object was made"
    );

    // A join token signed by an attacker's own key.
    let mut r = aadj_through("device-registration.join-sign-in");
    let token = r.wire("join-access-token").unwrap().to_vec();
    r.tamper_attacker_signed("join-access-token", token)
        .unwrap();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "Access token signature",
        "",
    );

    // A transport key that is not an RSA-2048 BCRYPT blob.
    let mut r = aadj_through("device-registration.enroll-device");
    let body = String::from_utf8(r.wire("join-request").unwrap().to_vec()).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
    json["TransportKey"] = serde_json::Value::from("UlNBMQ==");
    r.tamper("join-request", serde_json::to_vec(&json).unwrap())
        .unwrap();
    r.run_to_end();
    assert_halted_at(&r, Action::ValidateDeviceEnrollment, "Transport key", "");

    // A response whose certificate certifies another key (the device CA's
    // own certificate in its place): the device refuses to install it.
    let mut r = aadj_through("device-registration.return-device-certificate");
    let ca = r.world_mut().device_ca_certificate().unwrap();
    let body = String::from_utf8(r.wire("join-response").unwrap().to_vec()).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
    use base64ct::{Base64, Encoding};
    use sha1::Digest;
    json["Certificate"]["RawBody"] = Base64::encode_string(&ca).into();
    json["Certificate"]["Thumbprint"] = sha1::Sha1::digest(&ca)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<String>()
        .into();
    r.tamper("join-response", serde_json::to_vec(&json).unwrap())
        .unwrap();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::InstallDeviceCertificate,
        "Device certificate reads",
        "device ID extension",
    );
    assert_eq!(r.world().device.id(), None, "the device did not join");
}

#[test]
fn provisioning_uses_the_device_the_join_registered() {
    let r = run(flow_id("aadj-managed"), Options::default());
    check_runs_to_its_end(&r);
    let w = r.world();
    let id = w.device.id().expect("the device joined");
    let registered = &w.azure_ad.devices;
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].id, id);
    assert_eq!(
        registered[0].public_key,
        w.device.keys_if_made().unwrap().device_public
    );
    assert_eq!(
        registered[0].transport_key.as_ref(),
        Some(&w.device.keys_if_made().unwrap().transport_public)
    );
    // The device certificate chains to the device CA and names the device.
    let cert = w.device.joined().unwrap().certificate.clone().unwrap();
    let ca = w.adrs.device_ca_certificate.clone().unwrap();
    whfb_core::pki::verify_issued_by(&cert, &ca).unwrap();
    let read = whfb_core::pki::read_device_certificate(&cert).unwrap();
    assert_eq!(read.device_id, id);
    assert_eq!(read.tenant_id, Some(w.tenant.id));
    // Provisioning alone starts with a device registered before.
    let other = Run::provisioning_only(world(Options::default()), flow_id("onprem-key")).unwrap();
    assert!(other.world().device.id().is_some());
    assert_eq!(other.world().directory.devices.len(), 1);
}

#[test]
fn the_device_reports_its_state_as_dsregcmd_does() {
    let r = run(flow_id("aadj-managed"), Options::default());
    let value = |i: usize, section: &str, name: &str| {
        r.events()[i]
            .device_state
            .iter()
            .find(|s| s.name == section)
            .and_then(|s| s.get(name))
            .map(str::to_string)
    };
    let install = r
        .script()
        .resolve("device-registration.install-device-certificate")
        .unwrap();
    let last = r.script().resolve("registration.return-key-id").unwrap();
    // Before the join: not joined, so provisioning would not start.
    assert_eq!(
        value(0, "Device State", "AzureAdJoined").as_deref(),
        Some("NO")
    );
    assert_eq!(
        value(0, "Ngc Prerequisite Check", "PreReqResult").as_deref(),
        Some("WillNotProvision")
    );
    assert_eq!(value(0, "Device Details", "DeviceId"), None);
    // Once the certificate is installed.
    assert_eq!(
        value(install - 1, "Device State", "AzureAdJoined").as_deref(),
        Some("NO")
    );
    assert_eq!(
        value(install, "Device State", "AzureAdJoined").as_deref(),
        Some("YES")
    );
    assert_eq!(
        value(install, "Ngc Prerequisite Check", "PreReqResult").as_deref(),
        Some("WillProvision")
    );
    let id = r.world().device.id().unwrap().to_string();
    assert_eq!(value(install, "Device Details", "DeviceId"), Some(id));
    assert!(
        value(install, "Device Details", "DeviceCertificateValidity")
            .unwrap()
            .ends_with("UTC ]")
    );
    // After provisioning the user has a Windows Hello key.
    assert_eq!(
        value(last - 1, "User State", "NgcSet").as_deref(),
        Some("NO")
    );
    assert_eq!(value(last, "User State", "NgcSet").as_deref(), Some("YES"));
    // Hybrid: domain joined all along, Microsoft Entra joined before the run.
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    let first = &r.events()[0].device_state;
    let get = |section: &str, name: &str| {
        first
            .iter()
            .find(|s| s.name == section)
            .and_then(|s| s.get(name))
            .map(str::to_string)
    };
    assert_eq!(get("Device State", "DomainJoined").as_deref(), Some("YES"));
    assert_eq!(
        get("Device State", "DomainName").as_deref(),
        Some("CONTOSO")
    );
    assert_eq!(
        get("Ngc Prerequisite Check", "CertEnrollment").as_deref(),
        Some("enrollment authority")
    );
}

/// The key credential a run wrote to msDS-KeyCredentialLink.
fn written_key_credential(r: &Run) -> whfb_core::formats::KeyCredentialLink {
    let value = r
        .world()
        .directory
        .key_credential_link
        .last()
        .expect("a value in msDS-KeyCredentialLink");
    let dn = whfb_core::formats::DnBinary::parse(value).unwrap();
    whfb_core::formats::KeyCredentialLink::parse(dn.binary()).unwrap()
}

#[test]
fn the_registration_answers_with_a_key_identifier_of_its_own() {
    // MS-KPP 3.1.5.1.1.3: a server-generated GUID, not the key's hash.
    for flow in ["aadj-managed", "onprem-key"] {
        let r = run(flow_id(flow), Options::default());
        let event = r
            .events()
            .iter()
            .find(|e| e.action == Action::ReturnKeyId)
            .unwrap();
        let response = event
            .artifacts
            .iter()
            .find(|a| a.id == "key-registration-response")
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&response.bytes).unwrap();
        let kid = json["kid"].as_str().unwrap();
        whfb_core::formats::Guid::parse(kid).unwrap();
        // MS-KPP defines kid and upn; the Enterprise DRS's pctx is MS-KPP's
        // too, but what its signed content holds inside is not published.
        match flow {
            "onprem-key" => assert!(
                response
                    .modelled
                    .as_deref()
                    .is_some_and(|m| m.contains("pctx")),
                "{flow}: {:?}",
                response.modelled
            ),
            _ => assert!(
                response.modelled.is_none(),
                "{flow}: MS-KPP defines kid and upn"
            ),
        }
        let check = event
            .checks
            .iter()
            .find(|c| c.title == "Key ID is a GUID")
            .unwrap();
        assert!(check.outcome.passed());
        assert!(!event
            .checks
            .iter()
            .any(|c| c.title == "Key ID is the key sent"));
    }
}

#[test]
fn key_credential_values_carry_times_and_flags_as_their_writers_do() {
    // Written by the Enterprise DRS: KeySource AD, FILETIMEs, and
    // CustomKeyInformation Version 1, Flags 0x02 (MS-KPP 3.1.5.1.1.3).
    let r = run(flow_id("onprem-key"), Options::default());
    let kcl = written_key_credential(&r);
    let custom = kcl.custom_key_information().unwrap();
    assert_eq!(custom.flags().0, 0x02);
    let created = kcl.created().unwrap();
    assert!(matches!(created, whfb_core::formats::KeyTime::FileTime(_)));
    assert_eq!(created.to_sim_time().unwrap().civil().0, 2026);
    // Synchronised from Entra ID: KeySource AzureAD, .NET binary times that
    // read as the time of registration (DSInternals: DateTime.FromBinary).
    let r = run(flow_id("hybrid-key-managed"), Options::default());
    let kcl = written_key_credential(&r);
    let created = kcl.created().unwrap();
    assert!(
        matches!(created, whfb_core::formats::KeyTime::DotNetBinary(_)),
        "{created}"
    );
    let t = created.to_sim_time().unwrap();
    assert_eq!(t.civil().0, 2026, "{created}");
    assert!(t <= r.now() && t >= r.world().config.start);
}

/// Microsoft Entra joined, managed, with `options`, run through the step `id`.
fn aadj_with(options: Options, id: &str) -> Run {
    let flow = flow_id("aadj-managed");
    let mut r = Run::new(world(options), flow);
    let at = r.script().resolve(id).unwrap();
    r.run_through(at).unwrap();
    r
}

#[test]
fn the_first_sign_in_gets_a_prt_whose_session_key_only_the_tpm_opens() {
    let r = run(flow_id("aadj-managed"), Options::default());
    check_runs_to_its_end(&r);
    let w = r.world();
    let prt = w.azure_ad.sign_ins.prts.last().expect("a PRT");
    assert_eq!(prt.device_id, w.device.id().unwrap());
    let decrypt = r
        .events()
        .iter()
        .rfind(|e| e.action == Action::DecryptSessionKey)
        .unwrap();
    assert!(decrypt.tpm.iter().any(|x| x.name == "TPM2_RSA_Decrypt"));
    let response = r
        .events()
        .iter()
        .flat_map(|e| &e.artifacts)
        .rfind(|a| a.id == "prt-response")
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&response.bytes).unwrap();
    assert_eq!(json["token_type"], "pop");
    let jwe =
        whfb_core::formats::jwe::Jwe::parse(json["session_key_jwe"].as_str().unwrap()).unwrap();
    assert_eq!(jwe.header().unwrap()["alg"], "RSA-OAEP");
    // The session key Entra ID kept opens the JWE; another key does not.
    assert!(jwe.open(&prt.session_key).is_ok());
    assert!(jwe.open(&[0u8; 32]).is_err());
    // The device reports a PRT once CloudAP holds one (the password's, at
    // Windows sign-in), not before.
    let decrypt = r
        .events()
        .iter()
        .find(|e| e.action == Action::DecryptSessionKey)
        .unwrap();
    let sso = decrypt
        .device_state
        .iter()
        .find(|s| s.name == "SSO State")
        .unwrap();
    assert_eq!(sso.get("AzureAdPrt"), Some("YES"));
    let before = &r.events()[decrypt.index - 1].device_state;
    let sso = before.iter().find(|s| s.name == "SSO State").unwrap();
    assert_eq!(sso.get("AzureAdPrt"), Some("NO"));
}

#[test]
fn the_sign_in_is_refused_by_the_real_checks() {
    // A disabled device.
    let r = run(
        flow_id("aadj-managed"),
        Options {
            device_disabled: true,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::ValidatePrtRequest,
        "Device is registered and enabled",
        "AADSTS135011",
    );

    // Wrong PINs at sign-in: counted on from provisioning's, until lockout.
    let r = run(
        flow_id("aadj-managed"),
        Options {
            sign_in_wrong_pins: 3,
            ..Options::default()
        },
    );
    check_runs_to_its_end(&r);
    assert_eq!(r.world().device.da_state().failed_tries, 3);
    let r = run(
        flow_id("aadj-managed"),
        Options {
            wrong_pin_attempts: 20,
            sign_in_wrong_pins: 12,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::SignAssertion,
        "PIN opens the user key",
        "LOCKOUT",
    );

    // A nonce gone stale while the clock moved on.
    let mut r = aadj_with(Options::default(), "sign-in.request-nonce");
    r.advance_clock(SimDuration::minutes(6));
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidatePrtRequest,
        "Nonce is fresh",
        "good for 5 min",
    );

    // The key was never registered, or registered from another device.
    let mut r = aadj_with(Options::default(), "sign-in.request-prt");
    r.world_mut().azure_ad.user_keys.clear();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidatePrtRequest,
        "Key is registered for the user",
        "no key with the ID",
    );
    let mut r = aadj_with(Options::default(), "sign-in.request-prt");
    for k in &mut r.world_mut().azure_ad.user_keys {
        k.device_id =
            whfb_core::formats::Guid::parse("11111111-2222-3333-4444-555555555555").unwrap();
    }
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidatePrtRequest,
        "Key is registered for the user",
        "registered from device 11111111",
    );

    // A tampered assertion: its old signature kept, or signed by an attacker.
    for attacker in [false, true] {
        let mut r = aadj_with(Options::default(), "sign-in.sign-assertion");
        let token = String::from_utf8(r.wire("ngc-assertion").unwrap().to_vec()).unwrap();
        let jws = whfb_core::formats::Jws::parse(&token).unwrap();
        let mut claims = jws.claims().clone();
        claims.insert("scope".into(), "openid aza ugs offline_access".into());
        let edited =
            whfb_model::jws::with_payload(&token, &serde_json::Value::Object(claims)).unwrap();
        if attacker {
            r.tamper_attacker_signed("ngc-assertion", edited.into_bytes())
                .unwrap();
        } else {
            r.tamper("ngc-assertion", edited.into_bytes()).unwrap();
        }
        r.run_to_end();
        assert_halted_at(&r, Action::ValidatePrtRequest, "Assertion signature", "");
    }
}

#[test]
fn the_registration_service_writes_the_key_only_to_a_user_it_finds() {
    // MS-KPP 3.1.5.1.1: a token for a user the directory does not hold is
    // refused (HTTP 400), even signed by the token issuer.
    for (flow, directory) in [
        ("aadj-managed", "Entra ID"),
        ("onprem-key", "Active Directory"),
    ] {
        let r = tampered(flow_id(flow), Action::RegisterKey, |r| {
            edit_token(
                r,
                "access-token",
                |c| {
                    c.insert("upn".into(), "mallory@contoso.com".into());
                },
                true,
            )
        });
        assert_halted_at(
            &r,
            Action::ValidateRegistration,
            "User is in the directory",
            directory,
        );
        assert!(r.world().azure_ad.user_keys.is_empty());
        assert!(r.world().directory.key_credential_link.is_empty());
    }
}

#[test]
fn with_a_sensor_the_user_may_skip_biometric_enrollment() {
    let r = run(
        flow_id("aadj-managed"),
        Options {
            skip_biometric: true,
            ..Options::default()
        },
    );
    check_runs_to_its_end(&r);
    let enroll = r
        .events()
        .iter()
        .find(|e| e.action == Action::EnrollBiometric)
        .unwrap();
    match &enroll.status {
        StepStatus::Skipped { why } => assert!(why.contains("chose to skip"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(!r
        .events()
        .last()
        .unwrap()
        .holdings
        .iter()
        .any(|h| h.item == "Face template"));
}

#[test]
fn a_world_can_start_after_2050_and_a_start_it_cannot_serve_is_refused() {
    // RFC 5280 §4.1.2.5: GeneralizedTime from 2050 on, in every certificate.
    let mut config = WorldConfig::new("tests");
    config.start = whfb_core::export::parse_time("2061-03-01T00:00:00Z").unwrap();
    let mut r = Run::new(
        World::build(config).expect("a world in 2061"),
        flow_id("aadj-managed"),
    );
    r.run_to_end();
    check_runs_to_its_end(&r);
    let mut config = WorldConfig::new("tests");
    config.start = whfb_core::export::parse_time("9990-01-01T00:00:00Z").unwrap();
    let err = World::build(config).unwrap_err().to_string();
    assert!(err.contains("9979 or earlier"), "{err}");
}

#[test]
fn the_registration_token_carries_the_claims_real_ones_do() {
    // scp, which ADRS reads, and in hybrid flows the on-premises SID.
    let r = run(flow_id("hybrid-key-managed"), Options::default());
    let token = r
        .events()
        .iter()
        .flat_map(|e| &e.artifacts)
        .find(|a| a.id == "access-token")
        .unwrap();
    let jws = whfb_core::formats::Jws::parse(std::str::from_utf8(&token.bytes).unwrap()).unwrap();
    assert_eq!(jws.string_claim("scp").unwrap(), "adrs_access");
    assert!(jws
        .string_claim("onprem_sid")
        .unwrap()
        .starts_with("S-1-5-21-"));
    let r = tampered(flow_id("aadj-managed"), Action::RegisterKey, |r| {
        edit_token(
            r,
            "access-token",
            |c| {
                c.insert("scp".into(), "openid".into());
            },
            true,
        )
    });
    assert_halted_at(
        &r,
        Action::ValidateRegistration,
        "Token grants registration",
        "does not grant",
    );
}

#[test]
fn entra_id_reads_the_federated_mfa_where_a_federated_idp_puts_it() {
    // The enterprise token says MFA through authnmethodsreferences; without
    // multipleauthn there, Entra ID refuses it even signed by AD FS.
    let edit = |r: &mut Run, resign: bool| {
        let token = String::from_utf8(r.wire("enterprise-token").unwrap().to_vec()).unwrap();
        let edited = token
            .replace(
                "<saml:AttributeValue>http://schemas.microsoft.com/claims/multipleauthn</saml:AttributeValue>",
                "",
            )
            .into_bytes();
        assert_ne!(edited.len(), token.len(), "the claim was there");
        if resign {
            r.tamper_resigned("enterprise-token", edited).unwrap();
        } else {
            r.tamper("enterprise-token", edited).unwrap();
        }
    };
    let r = tampered(
        flow_id("aadj-federated"),
        Action::ExchangeEnterpriseToken,
        |r| edit(r, true),
    );
    assert_halted_at(
        &r,
        Action::ExchangeEnterpriseToken,
        "MFA claim",
        "did not vouch",
    );
    // The same edit without AD FS's key breaks the XML signature's digest.
    let r = tampered(
        flow_id("aadj-federated"),
        Action::ExchangeEnterpriseToken,
        |r| edit(r, false),
    );
    assert_halted_at(
        &r,
        Action::ExchangeEnterpriseToken,
        "Token signature",
        "changed after signing",
    );
}

/// A hybrid-key-managed run through the step `id` (`segment.action`).
fn hybrid_through(id: &str) -> Run {
    let mut r = Run::new(world(Options::default()), flow_id("hybrid-key-managed"));
    let at = r.script().resolve(id).unwrap();
    r.run_through(at).unwrap();
    assert!(r.halted().is_none(), "{id}: {:?}", r.halted());
    r
}

#[test]
fn a_hybrid_join_goes_through_the_sync_and_the_computers_own_proof() {
    let r = run(flow_id("hybrid-key-managed"), Options::default());
    check_runs_to_its_end(&r);
    let w = r.world();
    let id = w.device.id().expect("the device joined");
    // The certificate the computer published names the device it became,
    // and verifies with its own key.
    let cert = &w.directory.computer.user_certificates[0];
    let (named, _) = whfb_core::pki::read_hybrid_join_certificate(cert).unwrap();
    assert_eq!(named, id);
    // Entra ID's device object is complete and no longer pending.
    assert!(w.azure_ad.synced_computers.is_empty());
    let device = w.azure_ad.devices.iter().find(|d| d.id == id).unwrap();
    assert_eq!(
        device.public_key,
        w.device.keys_if_made().unwrap().device_public
    );
    assert_eq!(device.registered_by, None, "a computer joined, not a user");
    // The device certificate chains to the device CA and names no user.
    let der = w.device.joined().unwrap().certificate.clone().unwrap();
    let ca = w.adrs.device_ca_certificate.clone().unwrap();
    whfb_core::pki::verify_issued_by(&der, &ca).unwrap();
    // The join waited for a sync cycle, which the key's sync then follows.
    let joined_at = r
        .events()
        .iter()
        .find(|e| e.action == Action::SyncDevice)
        .unwrap()
        .time;
    assert!(joined_at > SimTime::DEFAULT_START.plus(SimDuration::minutes(5)));
    // dsregcmd: hybrid joined, both ways.
    let after = &r.events()[10].device_state;
    let state = after.iter().find(|s| s.name == "Device State").unwrap();
    assert_eq!(state.get("AzureAdJoined"), Some("YES"));
    assert_eq!(state.get("DomainJoined"), Some("YES"));
    let before = &r.events()[0].device_state;
    let state = before.iter().find(|s| s.name == "Device State").unwrap();
    assert_eq!(state.get("AzureAdJoined"), Some("NO"));
}

#[test]
fn a_hybrid_join_is_refused_by_the_real_checks() {
    // The computer outside Entra Connect's scope: nothing to complete.
    let r = run(
        flow_id("hybrid-key-managed"),
        Options {
            computer_out_of_sync_scope: true,
            ..Options::default()
        },
    );
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "The device object exists",
        "is not found",
    );
    assert_eq!(r.world().device.id(), None);

    // Another computer's SID under this computer's signature.
    let mut r = hybrid_through("device-registration.enroll-device");
    let mut json: serde_json::Value =
        serde_json::from_slice(r.wire("join-request").unwrap()).unwrap();
    let sid = json["ServerAdJoinData"]["ClientIdentity"]["Sid"]
        .as_str()
        .unwrap()
        .replace("-1105.", "-1106.");
    json["ServerAdJoinData"]["ClientIdentity"]["Sid"] = sid.into();
    r.tamper("join-request", serde_json::to_vec(&json).unwrap())
        .unwrap();
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "Signed by the synchronised certificate's key",
        "does not verify",
    );

    // The request replayed ten minutes later.
    let mut r = hybrid_through("device-registration.enroll-device");
    r.advance_clock(SimDuration::minutes(10));
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "Signed recently",
        "too far",
    );

    // A userCertificate that names no device ID (another CA's certificate
    // in its place): Entra Connect does not take the computer.
    let mut r = hybrid_through("device-registration.publish-user-certificate");
    let ca = r.world_mut().device_ca_certificate().unwrap();
    r.world_mut().directory.computer.user_certificates = vec![ca];
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::SyncDevice,
        "The computer carries a device certificate",
        "not synchronised",
    );
}

#[test]
fn every_flow_whose_user_signs_in_to_entra_id_ends_with_a_prt_the_tpm_opened() {
    for flow in FlowId::all() {
        let r = run(flow, Options::default());
        check_runs_to_its_end(&r);
        let signs_in = flow.info().has_segment(Segment::SignIn);
        let with_password = flow.info().has_segment(Segment::WindowsSignIn);
        let on_prem = flow.info().deployment == whfb_core::catalog::Deployment::OnPremises;
        assert_eq!(
            r.world().azure_ad.sign_ins.prts.len(),
            usize::from(signs_in) + usize::from(with_password && !on_prem),
            "{flow}"
        );
        assert_eq!(
            r.world().adfs.sign_ins.prts.len(),
            usize::from(with_password && on_prem),
            "{flow}"
        );
        if !signs_in {
            continue;
        }
        let decrypt = r
            .events()
            .iter()
            .rfind(|e| e.action == Action::DecryptSessionKey)
            .unwrap();
        assert!(
            decrypt
                .checks
                .iter()
                .any(|c| c.title == "Transport key opens the session key" && c.outcome.passed()),
            "{flow}"
        );
        // The PRT then brings an app's token: the request signed with a key
        // derived from the session key, the answer encrypted under another.
        let last = r
            .events()
            .iter()
            .rfind(|e| e.action == Action::IssueAppToken)
            .unwrap_or_else(|| panic!("{flow}: no app token"));
        assert!(
            last.artifacts.iter().any(|a| a.id == "app-access-token"),
            "{flow}"
        );
        // The certificate the device presented chains to the device CA,
        // whether the run showed the join or the device joined before it.
        let w = r.world();
        let der = w.device.joined().unwrap().certificate.clone().unwrap();
        let ca = w.adrs.device_ca_certificate.clone().unwrap();
        whfb_core::pki::verify_issued_by(&der, &ca).unwrap();
    }
}

#[test]
fn a_federated_join_goes_through_ad_fs_and_the_device_writeback() {
    // Hybrid, federated: AD FS vouches for the computer, no sync to wait
    // for before the join, then the writeback that AD FS's device check
    // needs.
    let r = run(flow_id("hybrid-cert-sync"), Options::default());
    check_runs_to_its_end(&r);
    let w = r.world();
    let id = w.device.id().unwrap();
    assert!(w.azure_ad.devices.iter().any(|d| d.id == id));
    assert!(w.directory.devices.iter().any(|d| d.id == id));
    let writeback = r
        .events()
        .iter()
        .position(|e| e.action == Action::WriteBackDevice)
        .unwrap();
    let sign_in = r
        .events()
        .iter()
        .position(|e| e.action == Action::SignInRequest)
        .unwrap();
    assert!(
        writeback < sign_in,
        "AD knows the device before AD FS checks it"
    );

    // A user's token from AD FS in place of the computer's, re-signed by
    // AD FS: Entra ID will not register a computer on it.
    let mut r = Run::new(world(Options::default()), flow_id("hybrid-key-federated"));
    let at = r
        .script()
        .resolve("device-registration.join-sign-in")
        .unwrap();
    r.run_through(at).unwrap();
    edit_token(
        &mut r,
        "join-adfs-token",
        |c| {
            c.insert(
                "http://schemas.microsoft.com/ws/2012/01/accounttype".into(),
                "User".into(),
            );
        },
        true,
    );
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ExchangeJoinToken,
        "A domain-joined computer",
        "not DJ",
    );

    // Without the federation server, nobody joins.
    let r = run(
        flow_id("aadj-federated"),
        Options {
            federation_available: false,
            ..Options::default()
        },
    );
    assert_halted_at(&r, Action::JoinSignIn, "Federation server reachable", "503");
}

#[test]
fn provisioning_runs_alone_on_a_device_registered_before_it() {
    for flow in FlowId::all() {
        let mut r = Run::provisioning_only(world(Options::default()), flow).unwrap();
        r.run_to_end();
        check_runs_to_its_end(&r);
        assert!(
            r.events()
                .iter()
                .all(|e| e.phase != Phase::R && e.phase != Phase::S),
            "{flow}"
        );
        assert_eq!(
            r.events()[0].id.to_string(),
            "tokens.start-provisioning",
            "{flow}"
        );
        assert!(r.world().device.id().is_some(), "{flow}: registered before");
        // Only the password's PRT, from the Windows sign-in before the run.
        let w = r.world();
        assert_eq!(
            w.azure_ad.sign_ins.prts.len() + w.adfs.sign_ins.prts.len(),
            usize::from(flow.info().has_segment(Segment::WindowsSignIn)),
            "{flow}: no sign-in with the PIN"
        );
    }
}

#[test]
fn a_sign_in_with_a_key_entra_id_no_longer_files_for_this_device_is_refused() {
    use whfb_core::options::SignInKey;
    for (key, reason) in [
        (SignInKey::Deleted, "is registered for the user"),
        (SignInKey::OtherDevice, "the key was registered from device"),
    ] {
        let r = run(
            flow_id("hybrid-key-federated"),
            Options {
                sign_in_key: key,
                ..Options::default()
            },
        );
        assert_halted_at(
            &r,
            Action::ValidatePrtRequest,
            "Key is registered for the user",
            reason,
        );
        // Only the PRT of the password sign-in before provisioning.
        assert_eq!(r.world().azure_ad.sign_ins.prts.len(), 1);
    }
}

#[test]
fn on_premises_the_device_registers_with_the_enterprise_drs() {
    let r = run(flow_id("onprem-cert"), Options::default());
    check_runs_to_its_end(&r);
    let w = r.world();
    let id = w.device.id().unwrap();
    // MS-DVRJ: the device object is named by the computer's objectGUID,
    // and lives in AD, not in any cloud.
    assert_eq!(id, w.directory.computer.object_guid);
    assert!(w
        .directory
        .devices
        .iter()
        .any(|d| d.id == id && d.public_key == w.device.keys_if_made().unwrap().device_public));
    assert!(w.azure_ad.devices.is_empty());
    let cert = w.device.joined().unwrap().certificate.clone().unwrap();
    let ca = w.edrs.device_ca_certificate.clone().unwrap();
    whfb_core::pki::verify_issued_by(&cert, &ca).unwrap();
    let read = whfb_core::pki::read_device_certificate(&cert).unwrap();
    assert_eq!((read.device_id, read.tenant_id), (id, None));
    // dsregcmd: enterprise joined once the certificate is installed.
    let install = r
        .events()
        .iter()
        .find(|e| e.action == Action::InstallDeviceCertificate)
        .unwrap();
    let state = install
        .device_state
        .iter()
        .find(|s| s.name == "Device State")
        .unwrap();
    assert_eq!(state.get("EnterpriseJoined"), Some("YES"));
    assert_eq!(state.get("AzureAdJoined"), Some("NO"));

    // A token AD FS issued for a user, re-signed by AD FS: the Enterprise
    // DRS will not register a computer on it.
    let mut r = Run::new(world(Options::default()), flow_id("onprem-key"));
    let at = r
        .script()
        .resolve("device-registration.join-sign-in")
        .unwrap();
    r.run_through(at).unwrap();
    edit_token(
        &mut r,
        "join-access-token",
        |c| {
            c.remove(
                "http://schemas.microsoft.com/authorization/claims/PermitDeviceRegistrationClaim",
            );
        },
        true,
    );
    r.run_to_end();
    assert_halted_at(
        &r,
        Action::ValidateDeviceEnrollment,
        "The token is a domain computer's",
        "PermitDeviceRegistrationClaim",
    );
}

#[test]
fn a_forest_without_a_service_connection_point_registers_no_device() {
    for (flow, title) in [
        ("hybrid-key-managed", "The forest names a tenant"),
        ("hybrid-cert-sync", "The forest names a tenant"),
        ("onprem-cert", "The forest names a registration service"),
    ] {
        let r = run(
            flow_id(flow),
            Options {
                scp_missing: true,
                ..Options::default()
            },
        );
        assert_halted_at(&r, Action::FindTenant, title, "not configured");
        assert_eq!(r.world().device.id(), None, "{flow}");
    }
}

#[test]
fn the_enterprise_drs_names_the_domain_controller_that_wrote_the_key() {
    for flow in ["onprem-key", "onprem-cert"] {
        let r = run(flow_id(flow), Options::default());
        check_runs_to_its_end(&r);
        let event = r
            .events()
            .iter()
            .find(|e| e.action == Action::ReturnKeyId)
            .expect("the key ID step");
        let check = event
            .checks
            .iter()
            .find(|c| c.title == "pctx names the domain controller that wrote the key")
            .expect("the app reads pctx");
        assert!(check.result().is_ok(), "{:?}", check.result());
        assert!(check.compared.contains("issuer of the device certificate"));
        let pctx = event
            .artifacts
            .iter()
            .find(|a| a.id == "pctx")
            .expect("pctx shown");
        assert_eq!(pctx.kind, ArtifactKind::Cms);
        let values: Vec<String> = pctx.fields.iter().flat_map(all_values).collect();
        assert!(
            values.iter().any(|v| v.contains("DomainControllerFqdn")),
            "the content is shown: {values:?}"
        );
        assert!(event
            .holdings
            .iter()
            .any(|h| h.actor == Actor::Cxh && h.detail.contains("DC01.contoso.com")));
    }
    // Entra ID's service sends none.
    let r = run(flow_id("aadj-managed"), Options::default());
    let event = r
        .events()
        .iter()
        .find(|e| e.action == Action::ReturnKeyId)
        .expect("the key ID step");
    assert!(event.artifacts.iter().all(|a| a.id != "pctx"));
}

#[test]
fn provisioning_asks_interactively_for_an_mfa_made_to_provision_a_credential() {
    for flow in FlowId::all() {
        let r = run(flow, Options::default());
        let request: serde_json::Value =
            serde_json::from_slice(r.wire("wam-token-request").expect("WAM request"))
                .expect("json");
        assert_eq!(request["amr_values"], "ngcmfa", "{flow}");
        assert!(request.get("prompt").is_none(), "{flow}: interactive");
    }
}

#[test]
fn a_federated_sign_in_goes_through_ad_fs_with_saml_and_never_resends_the_password() {
    for flow in FlowId::all() {
        if flow.info().sign_in != whfb_core::catalog::SignIn::Federated
            || whfb_core::script::Topology::of(flow).token_issuer != Actor::AzureAd
        {
            continue;
        }
        let r = run(flow, Options::default());
        check_runs_to_its_end(&r);
        // Windows sign-in: the password goes to AD FS in a WS-Trust
        // request, and AD FS's SAML token to Entra ID in the PRT request.
        let rst = String::from_utf8(r.wire("ws-trust-request").unwrap().to_vec()).unwrap();
        assert!(rst.contains("<o:Password>"), "{flow}");
        let sent = r
            .events()
            .iter()
            .find(|e| e.action == Action::RequestPrt && e.phase == Phase::R)
            .and_then(|e| e.artifacts.iter().find(|a| a.id == "prt-request"))
            .unwrap();
        let prt_request =
            whfb_core::formats::Jws::parse(std::str::from_utf8(&sent.bytes).unwrap()).unwrap();
        assert_eq!(
            prt_request.string_claim("grant_type").unwrap(),
            "urn:ietf:params:oauth:grant-type:saml1_1-bearer",
            "{flow}"
        );
        assert!(prt_request.string_claim("password").is_err(), "{flow}");
        let validate = r
            .events()
            .iter()
            .find(|e| e.action == Action::ValidatePrtRequest && e.phase == Phase::R)
            .unwrap();
        for title in ["Token signature", "Issuer", "Audience", "User is known"] {
            assert!(
                validate
                    .checks
                    .iter()
                    .any(|c| c.title == title && c.result().is_ok()),
                "{flow}: {title}"
            );
        }
        // Provisioning: no password anywhere in phase A; Entra ID sends WAM
        // to AD FS for the second factor with wauth=multipleauthn.
        for e in r.events().iter().filter(|e| e.phase == Phase::A) {
            for a in &e.artifacts {
                let text = String::from_utf8_lossy(&a.bytes);
                assert!(!text.contains(&r.world().user.password), "{flow}: {}", a.id);
            }
        }
        let redirect = String::from_utf8(r.wire("idp-redirect").unwrap().to_vec()).unwrap();
        assert!(
            redirect.contains("wauth=http%3A%2F%2Fschemas.microsoft.com%2Fclaims%2Fmultipleauthn"),
            "{redirect}"
        );
        // The enterprise token is a signed SAML 1.1 assertion, its
        // signature checked by Entra ID.
        let token = String::from_utf8(r.wire("enterprise-token").unwrap().to_vec()).unwrap();
        assert!(token.contains("<saml:Assertion"), "{flow}");
        let exchange = r
            .events()
            .iter()
            .find(|e| e.action == Action::ExchangeEnterpriseToken)
            .unwrap();
        assert!(exchange
            .checks
            .iter()
            .any(|c| c.title == "Token signature" && c.result().is_ok()));
    }
}

#[test]
fn entra_id_matches_the_federated_user_by_immutable_id() {
    let r = tampered(flow_id("aadj-federated"), Action::RequestPrt, |r| {
        let rstr = String::from_utf8(r.wire("ws-trust-response").unwrap().to_vec()).unwrap();
        let w = r.world();
        use base64ct::{Base64, Encoding};
        let id = Base64::encode_string(&w.user.object_id.to_dotnet_bytes());
        let edited = rstr.replace(&id, "AAAAAAAAAAAAAAAAAAAAAA==");
        assert_ne!(edited, rstr);
        r.tamper_resigned("ws-trust-response", edited.into_bytes())
            .unwrap();
    });
    assert_halted_at(
        &r,
        Action::ValidatePrtRequest,
        "User is known",
        "AADSTS51004",
    );
}

/// The run's capture carries each call in its wire form, read back from
/// the bytes: the nonce request form-encoded, the PRT request as a
/// JWT-bearer grant with the run's own JWT, the join's bearer token, the
/// hybrid join's PUT to the device's id, and the Kerberos exchange framed.
#[test]
fn the_network_capture_holds_each_call_in_its_wire_form() {
    use whfb_core::network::traffic;
    let r = run(flow_id("hybrid-key-managed"), Options::default());
    let calls = traffic(&r);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let find = |start: &str| {
        calls
            .iter()
            .find(|t| text(&t.exchange.request).starts_with(start))
            .unwrap_or_else(|| panic!("no request {start}"))
    };
    let join = find("PUT /EnrollmentServer/device/");
    let join_request = text(&join.exchange.request);
    let device_url = text(r.wire("join-request-url").unwrap());
    assert!(device_url.ends_with(join_request.split(' ').nth(1).unwrap()));
    // A hybrid join proves the computer by the request's signed blob, not
    // a bearer token.
    assert!(!join_request.contains("\r\nAuthorization: "));
    // The body is the request the server read (as the page shows it,
    // indented).
    let body = join_request.split("\r\n\r\n").nth(1).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    let read: serde_json::Value = serde_json::from_slice(r.wire("join-request").unwrap()).unwrap();
    assert_eq!(parsed, read);
    assert!(text(&join.exchange.reply)
        .starts_with("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"));
    let nonce = find("POST /common/oauth2/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 24\r\n\r\ngrant_type=srv_challenge");
    assert!(text(&nonce.exchange.reply).contains("\"Nonce\""));
    // The sign-in with the new key's PRT request (the wire keeps the newest).
    let grant = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&request={}",
        text(r.wire("prt-request").unwrap())
    );
    assert!(calls
        .iter()
        .any(|t| text(&t.exchange.request).ends_with(&grant)));
    let kerberos: Vec<_> = calls
        .iter()
        .filter(|t| t.exchange.server_port == 88)
        .collect();
    assert_eq!(kerberos.len(), 2);
    for t in &kerberos {
        let length = u32::from_be_bytes(t.exchange.request[..4].try_into().unwrap()) as usize;
        assert_eq!(
            length + 4,
            t.exchange.request.len(),
            "RFC 4120 §7.2.2 framing"
        );
    }
    // In order of the run, a step at a time.
    assert!(calls.windows(2).all(|w| w[0].step <= w[1].step));

    // A run that stops (the PIN typed twice differs) captures what was
    // sent before it, each call with its answer.
    let stopped = run(
        flow_id("aadj-managed"),
        Options {
            pin_confirmation: "999999".into(),
            ..Options::default()
        },
    );
    assert!(stopped.halted().is_some());
    let whole = traffic(&run(flow_id("aadj-managed"), Options::default()));
    let partial = traffic(&stopped);
    assert!(!partial.is_empty() && partial.len() < whole.len());
    assert!(partial
        .iter()
        .all(|t| t.exchange.reply.starts_with(b"HTTP/1.1 ")));
    // Entra join: the join carries the join token as its bearer.
    let join = whole
        .iter()
        .find(|t| text(&t.exchange.request).starts_with("POST /EnrollmentServer/device/"))
        .expect("the join");
    assert!(text(&join.exchange.request).contains("\r\nAuthorization: Bearer eyJ"));
}

/// Each unmet prerequisite stops provisioning where it would start, before
/// the PIN, and the device's report says NO and WillNotProvision; on
/// premises, an account Entra ID does not know is normal.
#[test]
fn an_unmet_prerequisite_stops_provisioning_before_it_starts() {
    use whfb_core::options::Prerequisite;
    for prerequisite in Prerequisite::ALL.into_iter().skip(1) {
        let r = run(
            flow_id("aadj-managed"),
            Options {
                prerequisite,
                ..Options::default()
            },
        );
        let field = prerequisite.field().unwrap();
        assert_halted_at(
            &r,
            Action::StartProvisioning,
            "Windows Hello for Business prerequisites",
            &format!("{field} is NO"),
        );
        let last = r.events().last().unwrap();
        let check = last
            .device_state
            .iter()
            .find(|s| s.name == "Ngc Prerequisite Check")
            .unwrap();
        assert_eq!(check.get(field), Some("NO"), "{prerequisite:?}");
        assert_eq!(check.get("PreReqResult"), Some("WillNotProvision"));
    }
    let r = run(
        flow_id("onprem-key"),
        Options {
            prerequisite: Prerequisite::UserNotInEntra,
            ..Options::default()
        },
    );
    assert!(r.halted().is_none(), "{:?}", r.halted());
}
