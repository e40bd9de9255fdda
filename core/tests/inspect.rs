//! Inspecting values from outside: every artifact of real runs, in every
//! form a person would paste it, is recognised as its kind and passes the
//! checks it allows alone; a tampered or unfit value fails the check that
//! says why; hostile text gets a clear message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64, Encoding};
use whfb_core::artifact::{ArtifactKind, Outcome};
use whfb_core::clock::SimTime;
use whfb_core::engine::Run;
use whfb_core::flows::FlowId;
use whfb_core::inspect::inspect;
use whfb_core::world::{World, WorldConfig};

fn artifacts() -> (Vec<whfb_core::artifact::Artifact>, SimTime) {
    let mut world = World::build(WorldConfig::new("inspect")).unwrap();
    world.warm_up_all().unwrap();
    let mut out = Vec::new();
    let mut now = SimTime::from_unix_seconds(0);
    for flow in ["hybrid-cert-sync", "onprem-key"] {
        let mut run = Run::new(world.clone(), FlowId::from_slug(flow).unwrap());
        run.run_to_end();
        for event in run.events() {
            now = now.max(event.time);
            out.extend(event.artifacts.iter().cloned());
        }
    }
    (out, now)
}

fn failed(findings: &[whfb_model::inspect::Finding]) -> Vec<String> {
    findings
        .iter()
        .filter_map(|f| match &f.outcome {
            Outcome::Fail { reason } => Some(format!("{}: {reason}", f.title)),
            Outcome::Pass => None,
        })
        .collect()
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = Base64::encode_string(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn every_artifact_of_a_run_is_recognised_in_every_form() {
    let (artifacts, now) = artifacts();
    let binary = [
        ArtifactKind::KeyCredentialLink,
        ArtifactKind::BcryptRsaPublicBlob,
        ArtifactKind::TpmPublic,
        ArtifactKind::TpmsAttest,
        ArtifactKind::Certificate,
        ArtifactKind::Pkcs10,
        ArtifactKind::Cms,
        ArtifactKind::Crl,
        ArtifactKind::Kerberos,
    ];
    let mut seen = std::collections::BTreeSet::new();
    for a in &artifacts {
        let forms: Vec<(String, Vec<u8>)> = if binary.contains(&a.kind) {
            let hex: String = a.bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut forms = vec![
                ("raw".to_string(), a.bytes.clone()),
                ("hex".to_string(), hex.into_bytes()),
                (
                    "base64".to_string(),
                    Base64::encode_string(&a.bytes).into_bytes(),
                ),
            ];
            let label = match a.kind {
                ArtifactKind::Certificate => Some("CERTIFICATE"),
                ArtifactKind::Pkcs10 => Some("CERTIFICATE REQUEST"),
                ArtifactKind::Cms => Some("PKCS7"),
                ArtifactKind::Crl => Some("X509 CRL"),
                _ => None,
            };
            if let Some(label) = label {
                forms.push(("PEM".to_string(), pem(label, &a.bytes).into_bytes()));
            }
            forms
        } else if matches!(a.kind, ArtifactKind::Jwt | ArtifactKind::DnBinary) {
            vec![("text".to_string(), a.bytes.clone())]
        } else {
            continue;
        };
        for (form, input) in forms {
            let got = inspect(&input, now).unwrap_or_else(|e| panic!("{} as {form}: {e}", a.id));
            assert_eq!(got.artifact.kind, a.kind, "{} as {form}", a.id);
            assert!(
                got.artifact.unreadable.is_none(),
                "{} as {form}: {:?}",
                a.id,
                got.artifact.unreadable
            );
            assert!(!got.artifact.fields.is_empty(), "{}", a.id);
            seen.insert(format!("{:?}", a.kind));
        }
    }
    for kind in [
        "KeyCredentialLink",
        "DnBinary",
        "Jwt",
        "Certificate",
        "Pkcs10",
        "TpmsAttest",
        "TpmPublic",
        "BcryptRsaPublicBlob",
    ] {
        assert!(
            seen.contains(kind),
            "no {kind} among the run's artifacts: {seen:?}"
        );
    }
}

#[test]
fn sound_values_pass_and_unfit_ones_fail_the_check_that_says_why() {
    let (artifacts, now) = artifacts();
    let find = |id: &str| {
        artifacts
            .iter()
            .find(|a| a.id == id)
            .unwrap_or_else(|| panic!("no artifact {id}"))
    };
    // The user's key as AD holds it: every check passes.
    for id in [
        "key-credential-link",
        "user-certificate",
        "certificate-request",
        "key-attestation",
        "user-key-public",
    ] {
        let got = inspect(&find(id).bytes, now).unwrap();
        assert!(!got.findings.is_empty(), "{id}");
        assert_eq!(failed(&got.findings), Vec::<String>::new(), "{id}");
    }
    // A byte of the key material flipped: KeyID no longer matches.
    let mut link = find("key-credential-link").bytes.clone();
    link[200] ^= 1;
    let got = inspect(&link, now).unwrap();
    let fails = failed(&got.findings);
    assert!(fails.iter().any(|f| f.contains("KeyID")), "{fails:?}");
    assert!(
        !got.artifact.fields.is_empty(),
        "still shown, with the failed check"
    );
    // The KDC's certificate is no user's logon certificate.
    let got = inspect(&find("kdc-certificate").bytes, now).unwrap();
    let fails = failed(&got.findings);
    assert!(
        fails.iter().any(|f| f.starts_with("Names a user (UPN)")),
        "{fails:?}"
    );
    // A token a day later has expired; its audience is still named.
    let token = find("access-token");
    let got = inspect(
        &token.bytes,
        now.plus(whfb_core::clock::SimDuration::minutes(60 * 24)),
    )
    .unwrap();
    let fails = failed(&got.findings);
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].starts_with("Not expired"), "{fails:?}");
    // The certificate a year on is out of its validity period.
    let got = inspect(
        &find("user-certificate").bytes,
        now.plus(whfb_core::clock::SimDuration::minutes(60 * 24 * 800)),
    )
    .unwrap();
    assert!(failed(&got.findings)
        .iter()
        .any(|f| f.starts_with("Valid now")));
}

#[test]
fn hostile_or_foreign_input_gets_a_clear_message() {
    let now = SimTime::from_unix_seconds(1_800_000_000);
    for (input, says) in [
        (&b""[..], "nothing to inspect"),
        (b"<script>alert(1)</script>", "no SAML 1.1 Assertion"),
        (b"<script>alert(1)</scrip>", "begins as XML does"),
        (b"{\"json\": true}", "none of the forms"),
        (b"B:8:0002:CN=x", "DN-Binary"),
        (
            b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----",
            "not base64",
        ),
        (b"30030201", "begins as DER does"),
        (b"\x01\x02\x03\x04\x05", "none of the kinds"),
        (b"eyJhbGciOiJub25lIn0.eyJ9.", "JWT"),
    ] {
        match inspect(input, now) {
            Err(e) => assert!(e.contains(says), "{input:?}: {e}"),
            Ok(got) => {
                // A token that reads as a JWT, or XML that reads, but whose
                // view or checks fail.
                let failures = failed(&got.findings).join("; ");
                assert!(
                    (says == "JWT" && (got.artifact.unreadable.is_some() || !failures.is_empty()))
                        || failures.contains(says),
                    "{input:?}: {failures}"
                );
            }
        }
    }
    let huge = vec![b'A'; whfb_core::inspect::MAX_INPUT + 1];
    assert!(inspect(&huge, now).unwrap_err().contains("at most"));
}

#[test]
fn a_saml_token_from_ad_fs_is_read_and_checked_as_entra_id_would() {
    let mut world = World::build(WorldConfig::new("inspect")).unwrap();
    world.warm_up_all().unwrap();
    let mut run = Run::new(world, FlowId::from_slug("aadj-federated").unwrap());
    run.run_to_end();
    let token = |id: &str| {
        run.events()
            .iter()
            .find_map(|e| {
                e.artifacts
                    .iter()
                    .find(|a| a.id == id)
                    .map(|a| (String::from_utf8(a.bytes.clone()).unwrap(), e.time))
            })
            .unwrap_or_else(|| panic!("no {id}"))
    };
    // After MFA: every check passes, pasted as the document or as the
    // base64 of the assertion a saml1_1-bearer grant carries.
    let (after_mfa, at) = token("enterprise-token");
    let span = whfb_core::formats::saml::locate(&after_mfa).unwrap();
    for input in [
        after_mfa.clone(),
        Base64::encode_string(after_mfa[span].as_bytes()),
    ] {
        let got = inspect(input.as_bytes(), at).unwrap();
        assert_eq!(got.artifact.kind, ArtifactKind::Xml);
        assert!(
            got.read_as.contains("XML") || got.read_as.contains("base64"),
            "{}",
            got.read_as
        );
        assert!(!got.artifact.fields.is_empty());
        assert!(got.findings.len() >= 5);
        assert_eq!(failed(&got.findings), Vec::<String>::new());
        assert!(!got.not_checked.is_empty());
    }
    // The Windows sign-in's token: a password alone, no MFA.
    let (password_only, at) = token("ws-trust-response");
    let got = inspect(password_only.as_bytes(), at).unwrap();
    let fails = failed(&got.findings);
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert!(fails[0].starts_with("Vouches for MFA"), "{fails:?}");
    // An edit breaks the signature; an hour later the token has expired.
    let edited = after_mfa.replace("alex.wilber@", "admin@");
    let got = inspect(edited.as_bytes(), at).unwrap();
    assert!(failed(&got.findings)
        .iter()
        .any(|f| f.contains("changed after signing")));
    let late = at.plus(whfb_core::clock::SimDuration::minutes(61));
    let got = inspect(after_mfa.as_bytes(), late).unwrap();
    assert!(failed(&got.findings)
        .iter()
        .any(|f| f.starts_with("Within its validity")));
    // Hostile XML: a clear refusal.
    let bomb = "<!DOCTYPE r [<!ENTITY a \"aaaa\">]><r>&a;</r>";
    let refused = inspect(bomb.as_bytes(), at).unwrap_err();
    assert!(refused.contains("DOCTYPE"), "{refused}");
}
