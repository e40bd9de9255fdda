//! The `whfb` command line, run as a user runs it.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn whfb(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whfb"))
        .args(args)
        .output()
        .expect("whfb runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn help_and_list_explain_themselves() {
    let help = whfb(&["--help"]);
    assert!(help.status.success());
    let help = text(&help.stdout);
    for word in [
        "run FLOW",
        "--seed",
        "--out",
        "--mfa",
        "--wrongpin",
        "mermaid",
        "hybrid-cert-sync",
    ] {
        assert!(help.contains(word), "help mentions {word}");
    }
    let list = text(&whfb(&["list"]).stdout);
    let listed: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let registry: Vec<&str> = whfb_core::flows::FlowId::all().map(|f| f.slug()).collect();
    assert_eq!(listed, registry, "{list}");
    assert!(list.contains("onprem-cert") && list.contains("A–G"));
}

#[test]
fn a_federated_run_writes_saml_tokens_xmlsec1_verifies() {
    let dir = scratch("cli-aadj-federated");
    let out = whfb(&["run", "aadj-federated", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entries = index.as_array().unwrap();
    let file = |id: &str| {
        let entry = entries
            .iter()
            .find(|e| e["artifact"] == id)
            .unwrap_or_else(|| panic!("no {id}"));
        assert!(
            entry["open_with"].as_str().unwrap().contains("xmlsec1") || id.ends_with("certificate")
        );
        dir.join(entry["file"].as_str().unwrap())
    };
    let certificate = file("adfs-signing-certificate");
    for id in ["ws-trust-response", "enterprise-token"] {
        assert!(file(id).to_str().unwrap().ends_with(".xml"));
    }
    // Where xmlsec1 is installed, it verifies both of AD FS's assertions
    // with the certificate the run publishes, and refuses an edited one.
    if Command::new("xmlsec1").arg("--version").output().is_err() {
        eprintln!("xmlsec1 is not installed: the SAML signatures were not checked by it");
        return;
    }
    let verify = |path: &Path| {
        Command::new("xmlsec1")
            .args(["--verify", "--trusted-pem"])
            .arg(&certificate)
            .args([
                "--id-attr:AssertionID",
                "urn:oasis:names:tc:SAML:1.0:assertion:Assertion",
            ])
            .arg(path)
            .output()
            .unwrap()
    };
    for id in ["ws-trust-response", "enterprise-token"] {
        let checked = verify(&file(id));
        assert!(checked.status.success(), "{id}: {}", text(&checked.stderr));
    }
    let token = text(&std::fs::read(file("enterprise-token")).unwrap());
    let edited = dir.join("edited.xml");
    std::fs::write(&edited, token.replace("alex.wilber@", "admin@")).unwrap();
    assert!(!verify(&edited).status.success(), "an edit is caught");
}

#[test]
fn a_run_writes_every_artifact_in_a_format_standard_tools_open() {
    let dir = scratch("cli-onprem-cert");
    let out = whfb(&[
        "run",
        "onprem-cert",
        "--seed",
        "cli",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Install in the Personal store"));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let entries = index.as_array().unwrap();
    assert!(entries.len() > 30, "{} files", entries.len());
    for entry in entries {
        let path = dir.join(entry["file"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The index gives each file's own size.
        assert_eq!(
            entry["bytes"].as_u64(),
            Some(bytes.len() as u64),
            "{}",
            path.display()
        );
        let kind = entry["kind"].as_str().unwrap();
        match kind {
            "Certificate" => assert!(bytes.starts_with(b"-----BEGIN CERTIFICATE-----\n")),
            "Pkcs10" => assert!(bytes.starts_with(b"-----BEGIN CERTIFICATE REQUEST-----\n")),
            "Jwt" => assert_eq!(text(&bytes).split('.').count(), 3),
            "Json" => {
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap();
            }
            "BcryptRsaPublicBlob" => assert_eq!(bytes.len(), 283),
            _ => {}
        }
        assert!(entry["open_with"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("trace.json")).unwrap()).unwrap();
    assert_eq!(
        trace.as_array().unwrap().len(),
        whfb_core::script::script(whfb_core::flows::FlowId::from_slug("onprem-cert").unwrap())
            .steps
            .len()
    );
    assert!(text(&std::fs::read(dir.join("README.md")).unwrap()).contains("openssl"));

    // Where openssl is installed, it reads the certificates and verifies the chain and the request.
    if Command::new("openssl").arg("version").output().is_ok() {
        let file = |id: &str| {
            let entry = entries
                .iter()
                .find(|e| e["artifact"] == id)
                .unwrap_or_else(|| panic!("no {id}"));
            dir.join(entry["file"].as_str().unwrap())
        };
        let verify = Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(file("enterprise-root-ca"))
            .arg("-untrusted")
            .arg(file("issuing-ca"))
            .arg(file("user-certificate"))
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "{}{}",
            text(&verify.stdout),
            text(&verify.stderr)
        );
        let req = Command::new("openssl")
            .args(["req", "-noout", "-verify", "-in"])
            .arg(file("certificate-request"))
            .output()
            .unwrap();
        assert!(req.status.success(), "{}", text(&req.stderr));
        // With the CRLs at the certificates' distribution points, the
        // chain passes a revocation check at every level.
        // At the run's own time: the CRLs are good for a week from then.
        let at = (whfb_core::clock::SimTime::DEFAULT_START.unix_seconds() + 3600).to_string();
        let revocation = Command::new("openssl")
            .args(["verify", "-attime", &at, "-crl_check_all", "-CAfile"])
            .arg(file("enterprise-root-ca"))
            .arg("-untrusted")
            .arg(file("issuing-ca"))
            .arg("-CRLfile")
            .arg(file("issuing-ca-crl"))
            .arg("-CRLfile")
            .arg(file("enterprise-root-ca-crl"))
            .arg(file("user-certificate"))
            .output()
            .unwrap();
        assert!(
            revocation.status.success(),
            "{}{}",
            text(&revocation.stdout),
            text(&revocation.stderr)
        );
        // AD FS's x5c: a CMS chain openssl reads as PKCS#7.
        let chain = Command::new("openssl")
            .args(["pkcs7", "-inform", "DER", "-print_certs", "-noout", "-in"])
            .arg(file("certificate-chain"))
            .output()
            .unwrap();
        assert!(chain.status.success(), "{}", text(&chain.stderr));
        let listed = text(&chain.stdout);
        for name in [
            "Alex Wilber",
            "Contoso Issuing CA",
            "Contoso Enterprise Root CA",
        ] {
            assert!(listed.contains(name), "{listed}");
        }
    }
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let (a, b) = (scratch("cli-same-a"), scratch("cli-same-b"));
    for dir in [&a, &b] {
        assert!(whfb(&[
            "run",
            "aadj-managed",
            "--seed",
            "same",
            "--out",
            dir.to_str().unwrap()
        ])
        .status
        .success());
    }
    assert_eq!(
        std::fs::read(a.join("trace.json")).unwrap(),
        std::fs::read(b.join("trace.json")).unwrap()
    );
}

#[test]
fn bad_arguments_get_a_clear_message_and_a_failing_exit() {
    for (args, says) in [
        (
            &["run", "no-such-flow"][..],
            "there is no flow `no-such-flow`",
        ),
        (&["run"][..], "name a flow"),
        (
            &["run", "aadj-managed", "--mfa", "soon"][..],
            "--mfa: mfa must be minutes",
        ),
        (
            &["run", "aadj-managed", "--seed"][..],
            "--seed needs a value",
        ),
        (
            &["run", "aadj-managed", "--start", "yesterday"][..],
            "is not a time like",
        ),
        (&["frobnicate"][..], "unknown command `frobnicate`"),
    ] {
        let out = whfb(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_run_stopped_by_a_check_says_why_and_exits_3() {
    let out = whfb(&["run", "aadj-managed", "--pin", "1234"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stdout).contains("The run stopped at step"),
        "{}",
        text(&out.stdout)
    );
    assert!(text(&out.stdout).contains("at least 6"));
}

#[test]
fn mermaid_draws_every_message() {
    let out = text(&whfb(&["mermaid", "hybrid-key-managed"]).stdout);
    assert!(out.starts_with("sequenceDiagram\n"));
    assert!(out.contains("->>"));
}

/// The tamper cases of the end-to-end tests, on the command line: the edits
/// in their text form give the same failing check and reason, the same
/// notice when nothing catches the edit, and the same refusal as the engine
/// API that the page's worker drives (`EditedRun`).
#[test]
fn the_command_line_reproduces_the_pages_tamper_cases() {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use whfb_core::edits::{self, Edit, EditedRun, Resign, Verdict};
    use whfb_core::flows::FlowId;
    use whfb_core::formats::jws;
    use whfb_core::world::{World, WorldConfig};

    const SEED: &str = "cli-edits";
    let flow = FlowId::from_slug("aadj-managed").unwrap();
    let script = whfb_core::script::script(flow);
    let step = |id: &str| script.resolve(id).unwrap();
    let mut world = World::build(WorldConfig::new(SEED)).unwrap();
    world.warm_up_all().unwrap();

    // What travelled, to edit it as a person would in the page.
    let mut probe = EditedRun::new(world.clone(), flow);
    probe
        .run_mut()
        .run_through(step("gestures.return-key"))
        .unwrap();
    let wire = |id: &str| probe.run().wire(id).unwrap().to_vec();
    let token = String::from_utf8(wire("access-token")).unwrap();
    let claims_with = |name: &str, value: &str| {
        let [_, payload, _] = jws::segments(&token).unwrap();
        let mut claims: serde_json::Value =
            serde_json::from_slice(&Base64UrlUnpadded::decode_vec(payload).unwrap()).unwrap();
        claims[name] = value.into();
        jws::with_payload(&token, &claims).unwrap().into_bytes()
    };
    let mut attestation = wire("key-attestation");
    attestation[40] ^= 0xff;
    let tamper = |after: &str, artifact: &str, bytes: Vec<u8>, resign| Edit::Tamper {
        after_step: step(after),
        artifact: artifact.into(),
        bytes,
        resign,
    };
    let token_step = "tokens.issue-access-token";
    let cases = [
        vec![Edit::Advance {
            after_step: step("registration.register-key"),
            minutes: 15,
        }],
        vec![tamper(
            token_step,
            "access-token",
            claims_with("aud", "urn:somewhere-else"),
            Resign::Keep,
        )],
        vec![tamper(
            token_step,
            "access-token",
            claims_with("aud", "urn:somewhere-else"),
            Resign::Sender,
        )],
        vec![tamper(
            token_step,
            "access-token",
            claims_with("unique_name", "mallory@contoso.com"),
            Resign::Sender,
        )],
        vec![tamper(
            token_step,
            "access-token",
            claims_with("upn", "mallory@contoso.com"),
            Resign::Sender,
        )],
        vec![tamper(
            token_step,
            "access-token",
            claims_with("aud", "urn:somewhere-else"),
            Resign::Attacker,
        )],
        vec![tamper(
            "gestures.return-key",
            "key-attestation",
            attestation.clone(),
            Resign::Keep,
        )],
        vec![tamper(
            "gestures.return-key",
            "key-attestation",
            attestation,
            Resign::Sender,
        )],
    ];
    let mut seen = Vec::new();
    for edits in cases {
        let form = edits::to_text(&edits, &script);
        let cli = whfb(&["run", flow.slug(), "--seed", SEED, "--edits", &form]);
        let (stdout, stderr) = (text(&cli.stdout), text(&cli.stderr));
        match EditedRun::with_edits(world.clone(), flow, &edits) {
            Err(refusal) => {
                assert_eq!(cli.status.code(), Some(2), "{form}: {stderr}");
                assert!(
                    stderr.contains(&refusal),
                    "{form}: {stderr} lacks {refusal}"
                );
                seen.push(format!("refused: {refusal}"));
            }
            Ok(mut api) => {
                api.run_mut().run_to_end();
                let (code, said) = match api.verdict() {
                    Verdict::Caught { text, .. } => (3, text),
                    Verdict::Undetected { text } => (0, text),
                    Verdict::Pending => panic!("{form}: the run did not finish"),
                };
                assert_eq!(cli.status.code(), Some(code), "{form}: {stderr}");
                assert_eq!(stdout.lines().last(), Some(said.as_str()), "{form}");
                seen.push(said);
            }
        }
    }
    // What the end-to-end tests see in the page.
    let want = [
        "checks “MFA is still fresh”",
        "checks “Access token signature”",
        "checks “Access token audience”: the token is meant for [\"urn:somewhere-else\"]",
        "Nothing in the real system would catch this edit: the sender's key vouches for it",
        "checks “User is in the directory”: Entra ID has no user \"mallory@contoso.com\"",
        "checks “Access token signature”",
        "checks “Attestation",
        "refused: the attestation key is a restricted TPM key",
    ];
    for (said, want) in seen.iter().zip(want) {
        assert!(said.contains(want), "{said}\n  should say {want}");
    }
    assert_eq!(seen.len(), want.len());
}

#[test]
fn the_kerberos_exchange_is_written_as_der_files_openssl_reads() {
    let dir = scratch("cli-hybrid-key-managed");
    let out = whfb(&[
        "run",
        "hybrid-key-managed",
        "--seed",
        "cli",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let kerberos: Vec<_> = index
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "Kerberos")
        .collect();
    // AS-REQ and KRB-ERROR before the sync, AS-REQ and AS-REP after it.
    assert_eq!(kerberos.len(), 4, "{kerberos:?}");
    for entry in &kerberos {
        let file = entry["file"].as_str().unwrap();
        assert!(file.ends_with(".der"), "{file}");
        let bytes = std::fs::read(dir.join(file)).unwrap();
        // [APPLICATION 10] AS-REQ, 11 AS-REP, 30 KRB-ERROR.
        assert!([0x6A, 0x6B, 0x7E].contains(&bytes[0]), "{file}");
        if Command::new("openssl").arg("version").output().is_ok() {
            let parsed = Command::new("openssl")
                .args(["asn1parse", "-inform", "DER", "-i", "-in"])
                .arg(dir.join(file))
                .output()
                .unwrap();
            assert!(parsed.status.success(), "{file}: {}", text(&parsed.stderr));
            assert!(text(&parsed.stdout).contains("GENERALSTRING"), "{file}");
        }
    }
}

/// Cloud Kerberos trust's TGS exchange as Wireshark dissects it with the
/// bundle's keytab: the partial TGT opens with the Entra Kerberos server
/// object's key, the authenticator and the reply with the partial TGT's
/// session key, the full TGT with the domain's krbtgt key, and both PACs'
/// signatures verify.
#[test]
fn wireshark_opens_the_cloud_kerberos_trust_exchange_with_the_keytab() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark is not installed: `cargo xtask test native` installs it");
        return;
    }
    let dir = scratch("cli-capture-cloud-kerberos");
    let out = whfb(&[
        "run",
        "hybrid-cloud-kerberos",
        "--seed",
        "capture",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dissect = |extra: &[&str]| {
        let out = Command::new("tshark")
            .current_dir(&dir)
            .args(["-r", "kerberos.pcapng", "-o", "kerberos.decrypt:TRUE"])
            .args(["-o", "kerberos.file:kerberos.keytab"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let summary = dissect(&[]);
    assert_eq!(summary.matches("TGS-REQ").count(), 1, "{summary}");
    assert_eq!(summary.matches("TGS-REP").count(), 1, "{summary}");
    let tree = dissect(&["-V"]);
    let count = |needle: &str| {
        tree.lines()
            .filter(|l| l.trim_start().starts_with(needle))
            .count()
    };
    // Two tickets opened with krbtgt keys (the partial one with the server
    // object's, the full one with the domain's), the authenticator (usage
    // 7) and the reply (usage 8) with the partial TGT's session key.
    assert_eq!(
        count("Decrypted keytype 18 usage 2 using keytab principal krbtgt/CONTOSO.COM"),
        2
    );
    assert_eq!(
        count("Decrypted keytype 18 usage 7 using keytab principal partial-tgt-session-key/"),
        1
    );
    assert_eq!(
        count("Decrypted keytype 18 usage 8 using keytab principal partial-tgt-session-key/"),
        1
    );
    assert_eq!(count("Verified Server checksum"), 2, "{tree}");
    assert_eq!(count("Verified KDC checksum"), 2);
    assert!(tree.contains("SAM_NAME and SID are included"));
    assert!(!tree.contains("Missing"), "a checksum did not verify");
    assert!(!tree.contains("Malformed"), "a malformed item");
}

/// The bundle's Kerberos capture as Wireshark's command line dissects it
/// with the bundle's keytab: every exchange, both encrypted parts opened.
#[test]
fn wireshark_dissects_the_kerberos_capture_and_decrypts_it_with_the_keytab() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark is not installed: `cargo xtask test native` installs it");
        return;
    }
    for (flow, requests, errors) in [("hybrid-key-managed", 2, 1), ("onprem-cert", 1, 0)] {
        let dir = scratch(&format!("cli-capture-{flow}"));
        let out = whfb(&[
            "run",
            flow,
            "--seed",
            "capture",
            "--out",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let readme = text(&std::fs::read(dir.join("README.md")).unwrap());
        assert!(readme.contains("tshark -r kerberos.pcapng"), "{flow}");
        let dissect = |extra: &[&str]| {
            let out = Command::new("tshark")
                .current_dir(&dir)
                .args(["-r", "kerberos.pcapng", "-o", "kerberos.decrypt:TRUE"])
                .args(["-o", "kerberos.file:kerberos.keytab"])
                .args(extra)
                .output()
                .unwrap();
            assert!(out.status.success(), "{flow}: {}", text(&out.stderr));
            text(&out.stdout)
        };
        // Packet by packet: each exchange is a TCP connection carrying one
        // request and its reply, reassembled as Kerberos.
        let summary = dissect(&[]);
        assert_eq!(
            summary.matches("AS-REQ").count(),
            requests,
            "{flow}: {summary}"
        );
        assert_eq!(
            summary.matches("AS-REP").count(),
            requests - errors,
            "{flow}"
        );
        assert_eq!(
            summary.matches("KRB Error").count(),
            errors,
            "{flow}: {summary}"
        );
        let tree = dissect(&["-V"]);
        assert!(
            tree.contains("CNameString: alex.wilber@contoso.com"),
            "{flow}"
        );
        if errors > 0 {
            assert!(
                tree.contains("error-code: eRROR-CLIENT-NOT-TRUSTED (62)"),
                "{flow}"
            );
        }
        // The TGT opens with the krbtgt key, the reply with the reply key.
        let opened = |usage: &str, principal: &str| {
            tree.lines()
                .filter(|l| {
                    l.contains(&format!("usage {usage} using keytab principal {principal}"))
                })
                .count()
        };
        assert!(
            opened("2", "krbtgt/CONTOSO.COM@CONTOSO.COM") >= requests - errors,
            "{flow}"
        );
        assert!(opened("3", "reply-key/") >= requests - errors, "{flow}");
        assert!(
            tree.contains("encTicketPart") && tree.contains("encASRepPart"),
            "{flow}"
        );
        // No malformed item but one: Debian 12's Wireshark (4.0) dissects
        // PA-PK-AS-REP with its draft-20 schema, `dhSignedData [0]
        // ContentInfo` straight under the CHOICE, so RFC 4556's `dhInfo [0]
        // DHRepInfo` (what Heimdal, MIT and picky-krb also write) reads as
        // a ContentInfo whose first field is not an OID. Newer Wireshark
        // carries RFC 4556's module (PKINIT_RFC_4556.asn).
        let malformed = tree
            .lines()
            .filter(|l| l.contains("Malformed") && l.trim() != "[Group: Malformed]");
        for line in malformed {
            assert!(
                line.contains("expected class:UNIVERSAL(0) tag:6(OBJECT IDENTIFIER) but found class:CONTEXT(2) tag:0"),
                "{flow}: {line}"
            );
        }
    }
}

#[test]
fn inspect_reads_a_file_or_standard_input_and_says_what_failed() {
    let dir = scratch("inspect");
    let out = whfb(&[
        "run",
        "hybrid-cert-sync",
        "--seed",
        "cli-inspect",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let artifacts = dir.join("artifacts");
    let find = |suffix: &str| {
        std::fs::read_dir(&artifacts)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no artifact *{suffix}"))
    };
    // The user's logon certificate, at the run's time: every check passes.
    let cert = find("-user-certificate.pem");
    let out = whfb(&[
        "inspect",
        cert.to_str().unwrap(),
        "--now",
        "2026-11-22T10:00:00Z",
    ]);
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}{}", text(&out.stderr));
    assert!(printed.contains("read as PEM (CERTIFICATE)"), "{printed}");
    assert!(printed.contains("PASS Smart Card Logon EKU"), "{printed}");
    assert!(
        printed.contains("PASS Strong mapping: the SID extension"),
        "{printed}"
    );
    // Two years on it has expired: exit status 3, the failed check named.
    let out = whfb(&[
        "inspect",
        cert.to_str().unwrap(),
        "--now",
        "2028-12-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stdout).contains("FAIL Valid now"),
        "{}",
        text(&out.stdout)
    );
    // The KEYCREDENTIALLINK blob through standard input, as hex.
    let blob = std::fs::read(find("-key-credential-link.bin")).unwrap();
    let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
    let mut child = Command::new(env!("CARGO_BIN_EXE_whfb"))
        .args(["inspect", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = text(&out.stdout);
    assert!(out.status.success(), "{printed}");
    assert!(printed.starts_with("KEYCREDENTIALLINK_BLOB"), "{printed}");
    assert!(
        printed.contains("PASS KeyID") && printed.contains("PASS KeyHash"),
        "{printed}"
    );
    // Not a value at all: a clear message and exit status 2.
    let junk = dir.join("junk.txt");
    std::fs::write(&junk, "hello, world").unwrap();
    let out = whfb(&["inspect", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("none of the forms read here"),
        "{}",
        text(&out.stderr)
    );
    let out = whfb(&["inspect"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn svg_draws_every_flow_as_the_page_does() {
    fn texts(e: &whfb_core::formats::xml::Element, out: &mut Vec<String>) {
        if e.local_name() == "text" {
            out.push(e.elements().map(|t| t.text()).collect::<Vec<_>>().join(" ") + &e.text());
        }
        for child in e.elements() {
            texts(child, out);
        }
    }
    for flow in whfb_core::flows::FlowId::all() {
        let out = whfb(&["svg", flow.slug()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let svg = text(&out.stdout);
        let root = whfb_core::formats::xml::parse(&svg).unwrap_or_else(|e| panic!("{flow}: {e}"));
        assert!(root.is("http://www.w3.org/2000/svg", "svg"), "{flow}");
        let mut labels = Vec::new();
        texts(&root, &mut labels);
        let script = whfb_core::script::script(flow);
        for (i, step) in script.steps.iter().enumerate() {
            let label = format!("{}. {}", i + 1, step.title);
            assert!(labels.contains(&label), "{flow}: {label}");
        }
        for actor in flow.info().actors {
            let first = actor.name().split_whitespace().next().unwrap();
            assert!(
                labels.iter().any(|l| l.contains(first)),
                "{flow}: {}",
                actor.name()
            );
        }
    }
    // Up to a step, dark; a step that does not exist is refused.
    let out = whfb(&[
        "svg",
        "onprem-key",
        "--step",
        "registration.register-key",
        "--dark",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let svg = text(&out.stdout);
    assert!(svg.contains("class=\"step current\""));
    assert!(svg.contains("#161d25"));
    let out = whfb(&["svg", "onprem-key", "--step", "999"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("not 999"),
        "{}",
        text(&out.stderr)
    );
    // Where xmllint is installed, it reads the file as well-formed XML.
    let dir = scratch("cli-svg");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("onprem-key.svg");
    std::fs::write(&file, &svg).unwrap();
    if let Ok(lint) = Command::new("xmllint").arg("--noout").arg(&file).output() {
        assert!(lint.status.success(), "{}", text(&lint.stderr));
    }
}

/// The run's whole capture (`network.pcapng`) as Wireshark's command line
/// reads it, for every flow: each HTTP request the README lists, each with
/// its answer, the Kerberos exchanges, and no malformed packet.
///
/// One exception, Wireshark's and not the capture's: its PKINIT dissector
/// declares `PaPkAsRep ::= CHOICE { dhSignedData [0] ContentInfo, … }`
/// (epan/dissectors/asn1/pkinit/PKINIT.asn, after a pre-RFC draft), where
/// RFC 4556 §3.2.3 has `dhInfo [0] DHRepInfo`, a SEQUENCE holding the
/// ContentInfo as `[0] IMPLICIT OCTET STRING`. The AS-REP follows the RFC
/// (as Rubeus and PKINITtools read it), so Wireshark flags its PA-PK-AS-REP
/// and nothing else.
#[test]
fn every_flows_network_capture_opens_in_wireshark_with_no_malformed_packet() {
    if Command::new("tshark").arg("--version").output().is_err() {
        eprintln!("tshark is not installed: `cargo xtask test native` installs it");
        return;
    }
    let list = text(&whfb(&["list"]).stdout);
    let flows: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('-') && !w.starts_with('-'))
        .collect();
    assert!(flows.len() >= 9, "{list}");
    for flow in flows {
        let dir = scratch(&format!("cli-network-{flow}"));
        let out = whfb(&["run", flow, "--out", dir.to_str().unwrap()]);
        assert!(out.status.success(), "{flow}: {}", text(&out.stderr));
        let readme = text(&std::fs::read(dir.join("README.md")).unwrap());
        assert!(readme.contains("tshark -r network.pcapng"), "{flow}");
        let listed: Vec<&str> = readme
            .lines()
            .filter(|l| {
                l.starts_with("| ") && l.contains(" | HTTP ") || l.ends_with("| Kerberos |")
            })
            .collect();
        let http = listed.iter().filter(|l| l.contains(" | HTTP ")).count();
        let kerberos = listed.len() - http;
        assert!(http >= 6, "{flow}: {http} HTTP exchanges");
        let tshark = |filter: &str, extra: &[&str]| {
            let out = Command::new("tshark")
                .current_dir(&dir)
                .args(["-r", "network.pcapng", "-Y", filter])
                .args(extra)
                .output()
                .unwrap();
            assert!(out.status.success(), "{flow}: {}", text(&out.stderr));
            text(&out.stdout)
        };
        let requests = tshark(
            "http.request",
            &[
                "-T",
                "fields",
                "-e",
                "http.request.method",
                "-e",
                "http.host",
            ],
        );
        assert_eq!(requests.lines().count(), http, "{flow}: {requests}");
        assert_eq!(tshark("http.response", &[]).lines().count(), http, "{flow}");
        // Every body that says it is JSON is JSON to Wireshark.
        let json = tshark("http.content_type contains \"json\" && !json", &[]);
        assert!(json.is_empty(), "{flow}: {json}");
        let kerberos_requests = tshark("kerberos.as_req_element || kerberos.tgs_req_element", &[]);
        assert_eq!(kerberos_requests.lines().count(), kerberos, "{flow}");
        // No malformed packet, and no expert error, but Wireshark's own
        // reading of PA-PK-AS-REP (above).
        let flagged = tshark("_ws.malformed || _ws.expert.severity >= error", &["-V"]);
        let problems: Vec<&str> = flagged
            .lines()
            .filter(|l| l.contains("[Expert Info ("))
            .filter(|l| !l.contains("BER Error: Wrong field in SEQUENCE: expected class:UNIVERSAL(0) tag:6(OBJECT IDENTIFIER) but found class:CONTEXT(2) tag:0"))
            .collect();
        assert!(problems.is_empty(), "{flow}: {problems:?}");
        let pkinit_only = flagged.is_empty() || flagged.contains("pA-PK-AS-REP");
        assert!(pkinit_only, "{flow}: {flagged}");
    }
}

/// A reader that stops early (`whfb run … | head`) ends the command
/// quietly: no panic on the closed pipe.
#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_whfb"))
        .args(["run", "aadj-managed", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's reading end is dropped here.
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
}

/// `whfb compare`: two runs side by side, as text and as JSON; a wrong side
/// is named.
#[test]
fn compare_shows_two_runs_side_by_side() {
    let out = whfb(&["compare", "aadj-managed", "aadj-federated"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("Comparing aadj-managed (A) with aadj-federated (B)"));
    assert!(shown.contains("≠   -  14  R · WS-Trust request with the password (windows-sign-in.request-saml-token)\n          only in B"));
    assert!(shown.contains("=  32  40  C · Register the public key (registration.register-key)"));
    let json = whfb(&[
        "compare",
        "aadj-managed?mfa=none",
        "aadj-managed?mfa=5",
        "--json",
    ]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(parsed["b"]["conditions"], "mfa=5");
    assert!(parsed["rows"].as_array().unwrap().len() > 40);
    for (args, says) in [
        (vec!["compare", "aadj-managed"], "compare takes two runs"),
        (
            vec!["compare", "aadj-managed", "nope"],
            "\"nope\" is not a flow",
        ),
        (
            vec!["compare", "aadj-managed", "aadj-managed?mfa=soon"],
            "mfa",
        ),
    ] {
        let out = whfb(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
}

/// `whfb diagnose`: a `dsregcmd /status` sample for each join type, each
/// with a failing prerequisite, leads to its flow and to the step the
/// engine stops at under the condition that reproduces it.
#[test]
fn diagnose_reads_dsregcmd_status_into_the_flow_and_the_step_that_stops() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/fixtures/dsregcmd");
    for (file, flow, unmet, link) in [
        (
            "entra-joined-policy-disabled.txt",
            "aadj-managed",
            "PolicyEnabled",
            "?flow=aadj-managed&step=tokens.start-provisioning&prereq=policy-disabled",
        ),
        (
            "hybrid-joined-remote-session.txt",
            "hybrid-key-managed",
            "SessionIsNotRemote",
            "?flow=hybrid-key-managed&step=tokens.start-provisioning&prereq=remote-session",
        ),
        (
            "hybrid-not-joined.txt",
            "hybrid-key-managed",
            "IsDeviceJoined",
            "?flow=hybrid-key-managed&step=device-registration.find-tenant&scp=missing",
        ),
        (
            "domain-joined-certificate-postlogon-disabled.txt",
            "onprem-cert",
            "PostLogonEnabled",
            "?flow=onprem-cert&step=tokens.start-provisioning&prereq=postlogon-disabled",
        ),
    ] {
        let out = whfb(&["diagnose", fixtures.join(file).to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(3), "{file}: {}", text(&out.stderr));
        let said = text(&out.stdout);
        assert!(
            said.starts_with(&format!("Flow: {flow} (")),
            "{file}: {said}"
        );
        assert!(
            said.contains(&format!("First unmet: {unmet} —")),
            "{file}: {said}"
        );
        assert!(
            said.contains(&format!("In the explorer: {link}\n")),
            "{file}: {said}"
        );
    }
    // Standard input; not dsregcmd's output at all.
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_whfb"))
        .args(["diagnose", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"not\": \"dsregcmd\"}")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no field of dsregcmd /status was found"));
}
