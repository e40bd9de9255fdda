//! Components in a real browser (wasm-bindgen-test in headless Chromium):
//! mount them, click, and read the DOM as a person would see it.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};
use whfb_app::catalog_view::Catalog;
use whfb_app::explorer::ArtifactView;
use whfb_app::guide::Guide;
use whfb_app::protocol::{FromWorker, ToWorker};
use whfb_app::route::Route;
use whfb_app::session::Session;
use whfb_app::worker_host::Host;
use whfb_core::artifact::Field;
use whfb_core::flows::FlowId;
use whfb_core::options::Options;

fn flow_id(slug: &str) -> FlowId {
    FlowId::from_slug(slug).expect("a flow of the registry")
}

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element on the page to mount a component into.
fn container() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn all(root: &Element, testid: &str) -> Vec<Element> {
    let list = root
        .query_selector_all(&format!("[data-testid=\"{testid}\"]"))
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
        .collect()
}

fn one(root: &Element, testid: &str) -> HtmlElement {
    all(root, testid)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no [data-testid={testid}] in {}", root.inner_html()))
        .unchecked_into()
}

#[wasm_bindgen_test]
fn the_catalog_lists_every_flow_of_the_registry_in_three_groups() {
    let root = container();
    let session = Session::new(Route::default());
    let _handle = leptos::mount::mount_to(root.clone(), move || view! { <Catalog session /> });
    let groups = all(&root, "catalog-group");
    let names: Vec<String> = groups
        .iter()
        .filter_map(|g| g.get_attribute("data-deployment"))
        .collect();
    assert_eq!(names, ["Cloud", "Hybrid", "On-premises"]);
    let cards = all(&root, "flow-card");
    let shown: Vec<String> = cards
        .iter()
        .filter_map(|c| c.get_attribute("data-flow"))
        .collect();
    let registry: Vec<&str> = FlowId::all().map(|f| f.slug()).collect();
    assert_eq!(shown, registry);
    for card in &cards {
        let phases = one(card, "flow-phases").text_content().unwrap_or_default();
        // Provisioning's span, with R before it and S after it where shown.
        assert!(
            phases.starts_with("Phases A–") || phases.starts_with("Phases R, A–"),
            "{phases}"
        );
        let summary = one(card, "flow-summary").text_content().unwrap_or_default();
        assert!(summary.len() > 40, "a one-line summary: {summary}");
    }
}

/// Reactive changes reach the DOM asynchronously: yield before reading it.
async fn tick() {
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn the_guide_leads_from_questions_to_a_flow() {
    let root = container();
    let session = Session::new(Route::default());
    let _handle = leptos::mount::mount_to(root.clone(), move || view! { <Guide session /> });
    for answer in ["guide-join-hybrid", "guide-trust-cert", "guide-adfs-no"] {
        one(&root, answer).click();
        tick().await;
    }
    let result = one(&root, "guide-result")
        .text_content()
        .unwrap_or_default();
    assert!(
        result.contains(flow_id("hybrid-cert-async").info().title),
        "{result}"
    );
    one(&root, "guide-reset").click();
    tick().await;
    assert!(all(&root, "guide-result").is_empty());
    assert_eq!(all(&root, "guide-join-aad").len(), 1);
}

#[wasm_bindgen_test]
fn the_worker_host_runs_a_flow_with_real_cryptography_in_the_browser() {
    let mut host = Host::new(Box::new(|| 0.0));
    let mut got = Vec::new();
    host.handle(
        ToWorker::Open {
            run: 1,
            flow: flow_id("aadj-managed"),
            seed: "web".into(),
            options: Options::default(),
            edits: Vec::new(),
        },
        &mut |m| got.push(m),
    );
    host.handle(ToWorker::RunThrough { run: 1, index: 16 }, &mut |m| {
        got.push(m)
    });
    let events: Vec<_> = got
        .iter()
        .filter_map(|m| match m {
            FromWorker::Stepped { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 17);
    assert!(got
        .iter()
        .all(|m| !matches!(m, FromWorker::Halted { .. } | FromWorker::Failed { .. })));
    let checks: usize = events.iter().map(|e| e.checks.len()).sum();
    assert!(checks >= 15, "{checks} checks ran");
}

#[wasm_bindgen_test]
fn the_worker_host_inspects_what_a_person_pastes_in_the_browser() {
    let mut host = Host::new(Box::new(|| 0.0));
    let mut inspected = 0;
    for artifact in artifacts_of(flow_id("aadj-managed")) {
        use whfb_core::artifact::ArtifactKind::*;
        if !matches!(
            artifact.kind,
            Jwt | Certificate | Pkcs10 | TpmPublic | TpmsAttest | BcryptRsaPublicBlob
        ) {
            continue;
        }
        // Through JSON, as the page posts it.
        let message = ToWorker::from_json(
            &ToWorker::Inspect {
                input: artifact.bytes.clone(),
                now: 1_795_339_200,
            }
            .to_json(),
        )
        .unwrap();
        let mut got = Vec::new();
        host.handle(message, &mut |m| got.push(m));
        match got.as_slice() {
            [FromWorker::Inspected { result: Ok(found) }] => {
                assert_eq!(found.artifact.kind, artifact.kind, "{}", artifact.id);
                assert!(!found.artifact.fields.is_empty(), "{}", artifact.id);
            }
            other => panic!("{}: {other:?}", artifact.id),
        }
        inspected += 1;
    }
    assert!(inspected >= 8, "{inspected} inspected");
    let mut got = Vec::new();
    host.handle(
        ToWorker::Inspect {
            input: b"not a value".to_vec(),
            now: 0,
        },
        &mut |m| got.push(m),
    );
    assert!(
        matches!(got.as_slice(), [FromWorker::Inspected { result: Err(_) }]),
        "{got:?}"
    );
}

/// Every artifact a real run of `flow` produces, TPM exchanges included.
fn artifacts_of(flow: FlowId) -> Vec<whfb_core::artifact::Artifact> {
    let mut host = Host::new(Box::new(|| 0.0));
    let mut got = Vec::new();
    host.handle(
        ToWorker::Open {
            run: 1,
            flow,
            seed: "web-fields".into(),
            options: Options::default(),
            edits: Vec::new(),
        },
        &mut |m| got.push(m),
    );
    let last = whfb_core::script::script(flow).steps.len() - 1;
    host.handle(
        ToWorker::RunThrough {
            run: 1,
            index: last,
        },
        &mut |m| got.push(m),
    );
    let mut out = Vec::new();
    for m in got {
        if let FromWorker::Stepped { event, .. } = m {
            out.extend(event.artifacts.iter().cloned());
            for x in &event.tpm {
                out.push(x.command.clone());
                out.push(x.response.clone());
            }
        }
    }
    out
}

/// The parser's fields in document order: (name, offset, len).
fn preorder(fields: &[Field], out: &mut Vec<(String, usize, usize)>) {
    for f in fields {
        out.push((f.name.clone(), f.offset, f.len));
        preorder(&f.children, out);
    }
}

/// The deepest field containing `offset`, as a reader would look for it:
/// the first field at each level whose bytes contain it, then its children.
fn deepest(fields: &[Field], offset: usize) -> Option<&Field> {
    let f = fields.iter().find(|f| f.range().contains(&offset))?;
    deepest(&f.children, offset).or(Some(f))
}

fn range_of(el: &Element) -> (usize, usize) {
    let n = |a: &str| {
        el.get_attribute(a)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap()
    };
    (n("data-offset"), n("data-len"))
}

#[wasm_bindgen_test]
async fn the_artifact_view_shows_the_parsers_ranges_and_hovering_a_byte_finds_its_field() {
    use whfb_core::artifact::ArtifactKind::*;
    let mut artifacts = artifacts_of(flow_id("aadj-managed"));
    artifacts.extend(artifacts_of(flow_id("onprem-cert")));
    // AD FS's WS-Trust messages and SAML tokens (XML): a federated sign-in.
    artifacts.extend(artifacts_of(flow_id("aadj-federated")));
    let kinds = [
        Jwt,
        Json,
        BcryptRsaPublicBlob,
        KeyCredentialLink,
        DnBinary,
        TpmPublic,
        TpmsAttest,
        TpmtSignature,
        TpmCommand,
        TpmResponse,
        Pkcs10,
        Cms,
        Certificate,
        Xml,
    ];
    for kind in kinds {
        let artifact = artifacts
            .iter()
            .find(|a| a.kind == kind && !a.fields.is_empty())
            .unwrap_or_else(|| panic!("a real run produces a decoded {kind:?}"))
            .clone();
        let root = container();
        let shown = artifact.clone();
        let _handle = leptos::mount::mount_to(root.clone(), move || {
            view! { <ArtifactView artifact=shown.clone() /> }
        });
        tick().await;

        // The tree shows exactly the parser's fields, in order, with their ranges.
        let rendered: Vec<(String, usize, usize)> = all(&root, "field")
            .iter()
            .map(|el| {
                let (offset, len) = range_of(el);
                (
                    el.get_attribute("data-name").unwrap_or_default(),
                    offset,
                    len,
                )
            })
            .collect();
        let mut expected = Vec::new();
        preorder(&artifact.fields, &mut expected);
        assert_eq!(rendered, expected, "{kind:?} ({})", artifact.id);
        let bytes = root.query_selector_all(".byte").unwrap();
        assert_eq!(bytes.length() as usize, artifact.bytes.len(), "{kind:?}");

        // Hovering a byte highlights the deepest field that holds it.
        let mut offsets: Vec<usize> = expected
            .iter()
            .flat_map(|(_, o, l)| [*o, (o + l).saturating_sub(1)])
            .chain([0, artifact.bytes.len() / 2, artifact.bytes.len() - 1])
            .filter(|o| *o < artifact.bytes.len())
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let step = offsets.len().div_ceil(48).max(1);
        for offset in offsets.into_iter().step_by(step) {
            let byte = root
                .query_selector(&format!(".byte[data-offset=\"{offset}\"]"))
                .unwrap()
                .unwrap();
            // The pointer arriving on a byte: `mouseover`, which bubbles.
            let init = web_sys::EventInit::new();
            init.set_bubbles(true);
            byte.dispatch_event(
                &web_sys::Event::new_with_event_init_dict("mouseover", &init).unwrap(),
            )
            .unwrap();
            tick().await;
            let lit: Vec<Element> = {
                let list = root.query_selector_all("li.field.hl").unwrap();
                (0..list.length())
                    .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
                    .collect()
            };
            match deepest(&artifact.fields, offset) {
                None => assert!(lit.is_empty(), "{kind:?} byte {offset} is in no field"),
                Some(field) => {
                    let want = (field.offset, field.len);
                    assert!(!lit.is_empty(), "{kind:?} byte {offset}: nothing lit");
                    assert!(
                        lit.iter().all(|el| range_of(el) == want),
                        "{kind:?} byte {offset}: lit fields are not {want:?}"
                    );
                    assert!(
                        lit.iter().any(|el| el.get_attribute("data-name").as_deref()
                            == Some(field.name.as_str())),
                        "{kind:?} byte {offset}: {} is not lit",
                        field.name
                    );
                    let lit_bytes = root.query_selector_all(".byte.hl").unwrap();
                    assert_eq!(
                        lit_bytes.length() as usize,
                        field.len,
                        "{kind:?} byte {offset}"
                    );
                }
            }
        }
        root.remove();
    }
}

#[wasm_bindgen_test]
async fn bytes_that_do_not_parse_show_the_parsers_reason() {
    use whfb_core::artifact::{Artifact, ArtifactKind};
    let token = "eyJhbGciOiJSUzI1NiJ9.not base64!.sig";
    let artifact = Artifact::decoded(
        "edited-token",
        "An edited token",
        ArtifactKind::Jwt,
        token.as_bytes().to_vec(),
        whfb_core::formats::jws::fields(token),
        None,
    );
    let reason = artifact
        .unreadable
        .clone()
        .expect("the JWS parser refuses it");
    let root = container();
    let shown = artifact.clone();
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <ArtifactView artifact=shown.clone() /> }
    });
    tick().await;
    let message = one(&root, "unreadable").text_content().unwrap_or_default();
    assert!(
        message.contains("do not parse as a compact JWS"),
        "{message}"
    );
    assert!(message.contains(&reason), "{message} lacks {reason}");
    // The bytes are still there to read.
    let bytes = root.query_selector_all(".byte").unwrap();
    assert_eq!(bytes.length() as usize, token.len());
    root.remove();
}
