//! A seeded mutational fuzzer for every parser that reads bytes or text
//! from outside the engine: what a person pastes, what a link carries,
//! what the tamper editor hands back.
//!
//! Each target starts from real inputs (the artifacts of two runs, valid
//! links and ids) and feeds its parser mutants: bits flipped, bytes set
//! to edge values, ranges inserted, deleted, repeated and spliced from
//! other seeds, and, structure-aware for DER, length octets replaced by
//! huge, indefinite or non-minimal forms, tags changed and elements nested
//! deeply. Every input must come back as a value or an error, never a
//! panic, and allocations stay under a cap (a length field of 2³² must
//! never allocate 4 GiB). Where an encoder exists, what parses must encode
//! back to the same bytes.
//!
//! The test suite runs `WHFB_FUZZ_INPUTS` inputs per target (10⁴ by
//! default); `cargo xtask fuzz` runs 10⁶ in release and prints the figures.
//! A panicking input is written to `target/fuzz-findings/` to replay.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use whfb_core::artifact::ArtifactKind;
use whfb_core::engine::Run;
use whfb_core::flows::FlowId;
use whfb_core::formats::key_credential_link::DnBinary;
use whfb_core::formats::{BcryptRsaPublicBlob, Guid, JwkSet, Jws, KeyCredentialLink};
use whfb_core::world::{World, WorldConfig};
use whfb_model::fuzz::{mutate, Rng};

/// Every allocation of this test binary goes through a cap (the `cap`
/// crate: the workspace forbids unsafe code, which an allocator needs).
/// While the fuzzer runs, no more than [`HEADROOM`] may be allocated on
/// top of what the corpus holds: an input whose length field asks for
/// gigabytes aborts the binary ("memory allocation of … bytes failed")
/// instead of passing unnoticed.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// What the parsers of two concurrent targets may hold at once: far more
/// than any view of a megabyte input needs, far less than a hostile
/// length field would ask for.
const HEADROOM: usize = 512 << 20;

// ---------------------------------------------------------------------
// The seeds: real artifacts from two runs.

struct Corpus {
    by_kind: Vec<(ArtifactKind, Vec<u8>)>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut world = World::build(WorldConfig::new("fuzz")).expect("world builds");
        world.warm_up_all().expect("keys generate");
        let mut by_kind = Vec::new();
        for flow in ["onprem-cert", "hybrid-cloud-kerberos", "aadj-federated"] {
            let flow = FlowId::from_slug(flow).expect("a flow");
            let mut run = Run::new(world.clone(), flow);
            run.run_to_end();
            for event in run.events() {
                for a in &event.artifacts {
                    by_kind.push((a.kind, a.bytes.clone()));
                }
            }
        }
        Corpus { by_kind }
    })
}

fn seeds_of(kinds: &[ArtifactKind]) -> Vec<Vec<u8>> {
    let seeds: Vec<Vec<u8>> = corpus()
        .by_kind
        .iter()
        .filter(|(k, _)| kinds.contains(k))
        .map(|(_, b)| b.clone())
        .collect();
    assert!(!seeds.is_empty(), "no seed of {kinds:?}");
    seeds
}

// ---------------------------------------------------------------------
// The driver.

/// What one target's run found.
struct Figures {
    inputs: usize,
    accepted: usize,
    panics: Vec<String>,
    elapsed: Duration,
}

fn inputs_per_target() -> usize {
    std::env::var("WHFB_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// Feeds `inputs` mutants of `seeds` to `parse`, which says whether the
/// input was accepted. Seeds themselves go first.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, text: bool, parse: impl Fn(&[u8]) -> bool) -> Figures {
    let inputs = inputs_per_target();
    // The seed depends on the target's name: every target its own stream.
    let mut rng = Rng::for_name(name);
    let mut figures = Figures {
        inputs,
        accepted: 0,
        panics: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let _ = ALLOCATOR.set_limit(ALLOCATOR.allocated().saturating_add(HEADROOM));
    let started = Instant::now();
    for i in 0..inputs {
        let input = if i < seeds.len() {
            seeds[i].clone()
        } else {
            let seed = &seeds[rng.below(seeds.len())];
            mutate(&mut rng, seed, &seeds, text)
        };
        match catch_unwind(AssertUnwindSafe(|| parse(&input))) {
            Ok(accepted) => figures.accepted += usize::from(accepted),
            Err(cause) => {
                let what = cause
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| cause.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../target/fuzz-findings");
                let _ = std::fs::create_dir_all(&dir);
                let file = dir.join(format!(
                    "{}-{}.bin",
                    name.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
                    figures.panics.len()
                ));
                let _ = std::fs::write(&file, &input);
                figures
                    .panics
                    .push(format!("{what} (input saved to {})", file.display()));
            }
        }
    }
    figures.elapsed = started.elapsed();
    println!(
        "fuzz {name:<28} {:>9} inputs  {:>8} accepted  {:>9} refused  {} panics  {:>7.1} s",
        figures.inputs,
        figures.accepted,
        figures.inputs - figures.accepted - figures.panics.len(),
        figures.panics.len(),
        figures.elapsed.as_secs_f64()
    );
    figures
}

fn assert_clean(name: &str, f: Figures) {
    assert!(
        f.panics.is_empty(),
        "{name}: {} of {} inputs panicked; the first: {}",
        f.panics.len(),
        f.inputs,
        f.panics[0]
    );
}

/// Every refusal names where and why: an error with words in it.
fn refused_clearly<T, E: std::fmt::Display>(r: Result<T, E>) -> bool {
    match r {
        Ok(_) => true,
        Err(e) => {
            let text = e.to_string();
            assert!(text.len() >= 8, "a refusal says too little: {text:?}");
            false
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------
// The targets.

#[test]
fn fuzz_jws_and_its_view() {
    let seeds = seeds_of(&[ArtifactKind::Jwt]);
    let f = fuzz("JWS (compact)", seeds, true, |b| {
        let t = text(b);
        let parsed = Jws::parse(&t).is_ok();
        let viewed = refused_clearly(whfb_core::formats::jws::fields(&t));
        parsed || viewed
    });
    assert_clean("JWS", f);
}

#[test]
fn fuzz_jwe() {
    // The PRT response carries a compact JWE in session_key_jwe.
    let seeds: Vec<Vec<u8>> = seeds_of(&[ArtifactKind::Json])
        .iter()
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
        .filter_map(|v| v["session_key_jwe"].as_str().map(|s| s.as_bytes().to_vec()))
        .collect();
    assert!(!seeds.is_empty());
    let f = fuzz("JWE (compact)", seeds, true, |b| {
        refused_clearly(whfb_core::formats::jwe::Jwe::parse(&text(b)))
    });
    assert_clean("JWE", f);
}

#[test]
fn fuzz_json_view_and_jwk_sets() {
    let seeds = seeds_of(&[ArtifactKind::Json]);
    let f = fuzz("JSON view, JWK set", seeds, true, |b| {
        let t = text(b);
        let fields = whfb_core::json_view::fields(&t);
        let _ = JwkSet::parse(&t);
        !fields.is_empty()
    });
    assert_clean("JSON view", f);
}

#[test]
fn fuzz_bcrypt_blob_round_trips() {
    let seeds = seeds_of(&[ArtifactKind::BcryptRsaPublicBlob]);
    let f = fuzz("BCRYPT_RSAKEY_BLOB", seeds, false, |b| {
        let _ = BcryptRsaPublicBlob::fields(b);
        match BcryptRsaPublicBlob::parse(b) {
            Ok(blob) => {
                assert_eq!(blob.to_bytes(), b, "parse then encode gives the input back");
                true
            }
            Err(e) => refused_clearly::<(), _>(Err(e)),
        }
    });
    assert_clean("BCRYPT", f);
}

#[test]
fn fuzz_key_credential_link_round_trips() {
    let seeds = seeds_of(&[ArtifactKind::KeyCredentialLink]);
    let f = fuzz("KEYCREDENTIALLINK_BLOB", seeds, false, |b| {
        let _ = KeyCredentialLink::fields(b);
        match KeyCredentialLink::parse(b) {
            Ok(link) => {
                assert_eq!(link.to_bytes(), b, "parse then encode gives the input back");
                true
            }
            Err(e) => refused_clearly::<(), _>(Err(e)),
        }
    });
    assert_clean("KEYCREDENTIALLINK", f);
}

#[test]
fn fuzz_dn_binary_round_trips() {
    let seeds = seeds_of(&[ArtifactKind::DnBinary]);
    let f = fuzz("DN-Binary", seeds, true, |b| {
        let t = text(b);
        let _ = DnBinary::fields(&t);
        match DnBinary::parse(&t) {
            Ok(value) => {
                let again = DnBinary::parse(&value.to_string()).expect("its own text parses");
                assert_eq!(again.binary(), value.binary());
                assert_eq!(again.dn(), value.dn());
                true
            }
            Err(e) => refused_clearly::<(), _>(Err(e)),
        }
    });
    assert_clean("DN-Binary", f);
}

#[test]
fn fuzz_guid_round_trips() {
    let seeds = vec![
        b"6d9a4c2e-8a3f-4b1e-9c7d-2f5e8a1b3c4d".to_vec(),
        b"{6D9A4C2E-8A3F-4B1E-9C7D-2F5E8A1B3C4D}".to_vec(),
    ];
    let f = fuzz("GUID", seeds, true, |b| match Guid::parse(&text(b)) {
        Ok(g) => {
            assert_eq!(Guid::parse(&g.to_string()).unwrap(), g);
            true
        }
        Err(e) => refused_clearly::<(), _>(Err(e)),
    });
    assert_clean("GUID", f);
}

#[test]
fn fuzz_der_view() {
    let seeds = seeds_of(&[
        ArtifactKind::Certificate,
        ArtifactKind::Pkcs10,
        ArtifactKind::Cms,
        ArtifactKind::Crl,
        ArtifactKind::PublicKey,
    ]);
    let f = fuzz("DER view", seeds, false, |b| {
        let generic = refused_clearly(whfb_core::pki::der_fields(b));
        let _ = whfb_core::pki::certificate_fields(b);
        let _ = whfb_core::pki::request_fields(b);
        let _ = whfb_core::pki::cms_fields(b);
        let _ = whfb_core::pki::crl_fields(b);
        let _ = whfb_core::pki::public_key_fields(b);
        generic
    });
    assert_clean("DER view", f);
}

#[test]
fn fuzz_certificate_request_and_cms_readers() {
    let seeds = seeds_of(&[
        ArtifactKind::Certificate,
        ArtifactKind::Pkcs10,
        ArtifactKind::Cms,
    ]);
    let f = fuzz("PKCS#10, CMS, X.509 readers", seeds, false, |b| {
        let request = whfb_core::pki::verify_request(b).is_ok();
        let chain = whfb_core::pki::chain_certificates(b).is_ok();
        let signed = whfb_core::pki::signed_content_and_signer(b).is_ok();
        let device = whfb_core::pki::read_device_certificate(b).is_ok();
        let _ = whfb_core::pki::certificate_validity(b);
        let _ = whfb_core::pki::upns_of(b);
        let _ = whfb_core::pki::sid_of(b);
        request || chain || signed || device
    });
    assert_clean("PKCS#10, CMS, X.509", f);
}

#[test]
fn fuzz_kerberos_view() {
    let seeds = seeds_of(&[ArtifactKind::Kerberos]);
    let f = fuzz("Kerberos view", seeds, false, |b| {
        refused_clearly(whfb_core::kerberos::view::fields(b))
    });
    assert_clean("Kerberos view", f);
}

#[test]
fn fuzz_xml_and_saml_readers() {
    // AD FS's WS-Trust messages and SAML tokens, from the federated flows.
    let seeds = seeds_of(&[ArtifactKind::Xml]);
    assert!(!seeds.is_empty());
    let f = fuzz("XML, SAML 1.1", seeds, true, |b| {
        let t = text(b);
        let parsed = whfb_core::formats::xml::parse(&t);
        if let Ok(root) = &parsed {
            let _ = whfb_core::formats::xml::exc_c14n(root, &|_| false);
        }
        let _ = whfb_core::formats::saml::read(&t);
        let _ = whfb_core::formats::saml::locate(&t);
        let viewed = refused_clearly(whfb_core::formats::xml::fields(&t));
        refused_clearly(parsed) && viewed
    });
    assert_clean("XML", f);
}

#[test]
fn fuzz_tpm_views() {
    for kind in [
        ArtifactKind::TpmPublic,
        ArtifactKind::TpmsAttest,
        ArtifactKind::TpmtSignature,
    ] {
        let seeds = seeds_of(&[kind]);
        let f = fuzz(&format!("TPM view {kind:?}"), seeds, false, |b| {
            !whfb_core::device::tpm_fields(kind, b).is_empty()
        });
        assert_clean("TPM view", f);
    }
}

#[test]
fn fuzz_inspect_what_a_person_pastes() {
    // Whatever is pasted or dropped: every artifact, raw and as text.
    let mut seeds: Vec<Vec<u8>> = corpus().by_kind.iter().map(|(_, b)| b.clone()).collect();
    let texts: Vec<Vec<u8>> = seeds
        .iter()
        .take(40)
        .map(|b| {
            b.iter()
                .map(|x| format!("{x:02x}"))
                .collect::<String>()
                .into_bytes()
        })
        .collect();
    seeds.extend(texts);
    let now = whfb_core::clock::SimTime::from_unix_seconds(1_795_339_162);
    let f = fuzz("inspect (a paste)", seeds, false, |b| {
        refused_clearly(whfb_core::inspect::inspect(b, now))
    });
    assert_clean("inspect", f);
}

#[test]
fn fuzz_edits_and_step_ids_from_links() {
    use whfb_core::script::{script, StepId};
    let flow = FlowId::from_slug("onprem-key").unwrap();
    let script = script(flow);
    let seeds = vec![
        b"v1:kerberos.send-as-req/advance/6".to_vec(),
        b"v1:registration.register-key/tamper/registration-request/keep/eyJhbGciOiJSUzI1NiJ9;tokens.mfa-result/advance/20".to_vec(),
        b"v1:3/tamper/device-certificate-request/sender/MIIBCgKCAQEA".to_vec(),
    ];
    let f = fuzz("edits (link text)", seeds, true, |b| {
        let t = text(b);
        let _ = StepId::parse(&t);
        refused_clearly(whfb_core::edits::parse(&t, &script))
    });
    assert_clean("edits", f);
}

// ---------------------------------------------------------------------
// Linear time: an input eight times larger, of the same shape, takes
// about eight times longer. The worst shapes found: many small elements
// (a DER SEQUENCE of INTEGERs, a JSON array, a chain of edits), one long
// value (an OCTET STRING, a base64url payload, a hex blob), and deep
// nesting where the format allows it. The test prints each ratio and
// fails only past 40× (a quadratic parser shows 64×): a timed limit
// that means "broken", not "slow machine".

/// The shortest of five timings of `parse(input)`.
fn time_of(parse: &dyn Fn(&[u8]), input: &[u8]) -> Duration {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            parse(input);
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[test]
fn parsers_take_linear_time() {
    type Shape = (
        &'static str,
        Box<dyn Fn(usize) -> Vec<u8>>,
        Box<dyn Fn(&[u8])>,
    );
    let script = whfb_core::script::script(FlowId::from_slug("onprem-key").unwrap());
    let shapes: Vec<Shape> = vec![
        (
            "DER view: a SEQUENCE of n INTEGERs",
            Box::new(|n| der(0x30, &[0x02, 0x01, 0x05].repeat(n))),
            Box::new(|b| {
                let _ = whfb_core::pki::der_fields(b);
            }),
        ),
        (
            "DER view: one OCTET STRING of n bytes",
            Box::new(|n| der(0x04, &vec![0xAB; n])),
            Box::new(|b| {
                let _ = whfb_core::pki::der_fields(b);
            }),
        ),
        (
            "Kerberos view: a SEQUENCE of n INTEGERs",
            Box::new(|n| der(0x6A, &der(0x30, &[0x02, 0x01, 0x05].repeat(n)))),
            Box::new(|b| {
                let _ = whfb_core::kerberos::view::fields(b);
            }),
        ),
        (
            "JSON view: an array of n numbers",
            Box::new(|n| format!("[{}1]", "1,".repeat(n)).into_bytes()),
            Box::new(|b| {
                let _ = whfb_core::json_view::fields(&text(b));
            }),
        ),
        (
            "JSON view: n nested arrays",
            Box::new(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
            Box::new(|b| {
                let _ = whfb_core::json_view::fields(&text(b));
            }),
        ),
        (
            "JWS: a payload of n characters",
            Box::new(|n| {
                format!("eyJhbGciOiJSUzI1NiJ9.{}.AAAA", "QUFB".repeat(n / 4)).into_bytes()
            }),
            Box::new(|b| {
                let t = text(b);
                let _ = Jws::parse(&t);
                let _ = whfb_core::formats::jws::fields(&t);
            }),
        ),
        (
            "XML view: n sibling elements with attributes",
            Box::new(|n| {
                format!("<r>{}</r>", "<e a='1' b='&amp;'>x</e>".repeat(n / 4)).into_bytes()
            }),
            Box::new(|b| {
                let t = text(b);
                let _ = whfb_core::formats::xml::fields(&t);
                let _ = whfb_core::formats::saml::read(&t);
            }),
        ),
        (
            "DN-Binary: n hex digits",
            Box::new(|n| format!("B:{}:{}:CN=x", n * 2, "0A".repeat(n)).into_bytes()),
            Box::new(|b| {
                let _ = DnBinary::fields(&text(b));
            }),
        ),
        (
            "KEYCREDENTIALLINK: n entries",
            Box::new(|n| {
                let mut b = vec![0x00, 0x02, 0x00, 0x00];
                for _ in 0..n {
                    b.extend_from_slice(&[0x01, 0x00, 0x09, 0x00]);
                }
                b
            }),
            Box::new(|b| {
                let _ = KeyCredentialLink::fields(b);
            }),
        ),
        (
            "edits: n edits in a link",
            Box::new(|n| {
                let one = "kerberos.send-as-req/advance/6";
                format!("v1:{}", vec![one; n.max(1)].join(";")).into_bytes()
            }),
            Box::new(move |b| {
                let _ = whfb_core::edits::parse(&text(b), &script);
            }),
        ),
    ];
    let mut worst = (0.0f64, "");
    for (name, make, parse) in &shapes {
        let small = make(1 << 13);
        let large = make(1 << 16);
        let (t1, t8) = (time_of(&**parse, &small), time_of(&**parse, &large));
        let ratio = t8.as_secs_f64() / t1.as_secs_f64().max(1e-9);
        println!(
            "linear {name:<42} {:>8} B {:>9.2} ms  {:>8} B {:>9.2} ms  ×{ratio:.1}",
            small.len(),
            t1.as_secs_f64() * 1e3,
            large.len(),
            t8.as_secs_f64() * 1e3
        );
        if ratio > worst.0 {
            worst = (ratio, name);
        }
    }
    assert!(
        worst.0 < 40.0,
        "{}: an input 8× larger took {:.0}× longer",
        worst.1,
        worst.0
    );
}

// ---------------------------------------------------------------------
// The DER view against an independent DER reader: the `der` crate (the
// one x509-cert is built on), on the same mutants. Both must agree on
// what is DER: one element filling the input, lengths in their shortest
// form, no indefinite length, and inside every constructed element,
// elements filling it exactly, down to the view's depth.

/// How the der crate reads `bytes` as DER, element by element: `Ok`, or
/// where and why it stops.
fn der_crate_reads(bytes: &[u8]) -> Result<(), String> {
    use der::asn1::AnyRef;
    use der::{Decode, Reader, SliceReader};
    fn walk(any: AnyRef<'_>, depth: usize, at: usize) -> Result<(), String> {
        if !der::Tagged::tag(&any).is_constructed() || depth >= 24 {
            return Ok(());
        }
        let mut reader = SliceReader::new(any.value()).map_err(|e| e.to_string())?;
        while !reader.is_finished() {
            let offset = usize::try_from(reader.position()).unwrap_or(0);
            let child = AnyRef::decode(&mut reader)
                .map_err(|e| format!("{e} (depth {depth}, in the element at {at}, +{offset})"))?;
            walk(child, depth + 1, offset)?;
        }
        Ok(())
    }
    let any = AnyRef::from_der(bytes).map_err(|e| e.to_string())?;
    walk(any, 0, 0)
}

#[test]
fn the_der_view_reads_der_as_the_der_crate_does() {
    let seeds = seeds_of(&[
        ArtifactKind::Certificate,
        ArtifactKind::Pkcs10,
        ArtifactKind::Cms,
        ArtifactKind::Crl,
        ArtifactKind::PublicKey,
    ]);
    let mut rng = Rng::for_name("DER differential");
    let inputs = inputs_per_target();
    let mut disagreements: Vec<(bool, bool, String, Vec<u8>)> = Vec::new();
    let mut both = 0;
    let mut outside = 0;
    for i in 0..inputs {
        let input = match seeds.get(i) {
            Some(seed) => seed.clone(),
            None => {
                let seed = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, seed, &seeds, false)
            }
        };
        let view = whfb_core::pki::der_fields(&input).is_ok();
        let reference = der_crate_reads(&input);
        let why = reference.clone().err().unwrap_or_default();
        let reference = reference.is_ok();
        // A universal type the der crate does not implement (RELATIVE-OID,
        // UniversalString…) is DER all the same: outside its coverage.
        if view && why.contains("unknown/unsupported ASN.1 DER tag") {
            outside += 1;
            continue;
        }
        both += usize::from(view && reference);
        if view != reference {
            disagreements.push((view, reference, why, input));
        }
    }
    println!(
        "DER differential: {inputs} inputs, {both} read by both, {outside} with a universal type the der crate lacks, {} disagreements",
        disagreements.len()
    );
    for (view, reference, why, input) in disagreements.iter().take(8) {
        let head: String = input.iter().take(24).map(|b| format!("{b:02x}")).collect();
        println!(
            "  view {view}, der crate {reference} ({why}): {} bytes, {head}…",
            input.len()
        );
    }
    assert!(
        disagreements.is_empty(),
        "the DER view and the der crate disagree"
    );
}
