//! The Windows Hello for Business flow explorer: a Leptos front end that only
//! renders what `whfb-core` produces. No protocol logic lives here.

pub mod catalog_view;

use leptos::prelude::*;

/// Mounts the explorer on the page's `<body>`.
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="topbar" data-testid="topbar">
            <a class="brand" href="./">
                <span class="brand-mark" aria-hidden="true"></span>
                <span class="brand-name">"Windows Hello for Business flow explorer"</span>
            </a>
        </header>
        <main id="main" class="page">
            <catalog_view::Catalog />
        </main>
    }
}
