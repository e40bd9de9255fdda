//! Components in a real browser (wasm-bindgen-test in headless Chromium):
//! mount them, click, and read the DOM as a person would see it.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};
use whfb_app::catalog_view::Catalog;
use whfb_app::guide::Guide;
use whfb_app::protocol::{FromWorker, ToWorker};
use whfb_app::route::Route;
use whfb_app::session::Session;
use whfb_app::worker_host::Host;
use whfb_core::catalog::FlowId;
use whfb_core::world::Options;

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
fn the_catalog_lists_the_seven_flows_in_three_groups() {
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
    assert_eq!(cards.len(), 7);
    for card in &cards {
        let phases = one(card, "flow-phases").text_content().unwrap_or_default();
        assert!(phases.starts_with("Phases A–"), "{phases}");
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
        result.contains(FlowId::HybridCertAsync.info().title),
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
            flow: FlowId::CloudManaged,
            seed: "web".into(),
            options: Options::default(),
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
