//! The Windows Hello for Business flow explorer: a Leptos front end that only
//! renders what `whfb-core` produces. No protocol logic lives here, and no
//! cryptography runs on the page's main thread: the engine, the TPM and
//! every key generation run in a Web Worker (`worker_entry`).

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod catalog_view;
pub mod compare_view;
pub mod diagnose_view;
pub mod download;
pub mod edit;
pub mod explorer;
pub mod guide;
pub mod inspect_view;
pub mod playback;
pub mod protocol;
pub mod route;
pub mod session;
pub mod theme;
#[cfg(feature = "worker")]
pub mod worker_entry;
#[cfg(feature = "worker")]
pub mod worker_host;
pub mod worker_link;

/// A flow of the registry, by its slug (for tests).
#[cfg(test)]
pub(crate) fn flow_id(slug: &str) -> whfb_model::flows::FlowId {
    whfb_model::flows::FlowId::from_slug(slug).expect("a flow of the registry")
}

use leptos::prelude::*;
use route::Route;
use session::Session;
use std::time::Duration;

/// Mounts the explorer on the page's `<body>`.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

fn location_query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Replaces the URL's query without reloading, so the address bar is
/// always a link to what is on screen.
fn replace_query(query: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window.location().pathname().unwrap_or_default();
    if let Ok(history) = window.history() {
        let url = format!("{path}{query}");
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// How often the address bar follows the page at most, while it changes.
const URL_EVERY: Duration = Duration::from_millis(250);

/// Keeps the address bar a link to what is on screen. Only a changed link
/// touches the history, and changes in quick succession (stepping with a
/// key held down) are written once at the end of each interval: every
/// `replaceState` costs Chromium a few milliseconds and a new favicon
/// request, which the next one cancels.
fn use_address_bar(session: Session) {
    let query = Memo::new(move |_| session.route.with(Route::to_query));
    let waiting = StoredValue::new(false);
    let pending = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        let q = query.get();
        if waiting.get_value() {
            pending.set_value(Some(q));
            return;
        }
        replace_query(&q);
        waiting.set_value(true);
        set_timeout(
            move || {
                waiting.set_value(false);
                if let Some(q) = pending.try_update_value(Option::take).flatten() {
                    replace_query(&q);
                }
            },
            URL_EVERY,
        );
    });
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let route = Route::parse(&location_query());
    let embed = route.embed;
    let session = Session::new(route);
    provide_context(session);
    // A deep link needs the worker at once. On the catalog, the page paints
    // and answers first; the worker (its code, the TPM, the key pool) starts
    // right after, still well ahead of the first flow.
    if session
        .route
        .with_untracked(|r| r.flow.is_some() || r.compare.is_some())
    {
        session.connect();
    } else {
        request_animation_frame(move || set_timeout(move || session.connect(), Duration::ZERO));
    }
    use_address_bar(session);
    let flow = Memo::new(move |_| session.route.with(|r| r.flow));
    view! {
        <header class="topbar" data-testid="topbar" class:hidden=embed>
            <a class="brand" href="./" on:click=move |ev| {
                ev.prevent_default();
                session.close();
            }>
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Windows Hello for Business flow explorer"</span>
            </a>
            <span class="spacer"></span>
            <theme::ThemeToggle />
        </header>
        <main id="main" class="page" class:embed=embed>
            <Notices session />
            {move || match flow.get() {
                Some(f) => view! { <explorer::Explorer session flow=f /> }.into_any(),
                None => view! {
                    <catalog_view::Catalog session />
                    <guide::Guide session />
                    <inspect_view::InspectPanel session />
                    <diagnose_view::DiagnosePanel session />
                    <compare_view::ComparePanel session />
                }
                .into_any(),
            }}
        </main>
    }
}

/// Problems with the link or the worker, in words, dismissable.
#[component]
fn Notices(session: Session) -> impl IntoView {
    move || {
        let notices = session.notices.get();
        (!notices.is_empty()).then(|| {
            view! {
                <div class="notices" role="status" data-testid="notices">
                    <ul>{notices.into_iter().map(|n| view! { <li data-testid="notice">{n}</li> }).collect_view()}</ul>
                    <button data-testid="dismiss-notices" on:click=move |_| session.notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }
        })
    }
}
