//! Light and dark themes: the OS preference by default, or the reader's
//! choice, remembered in local storage.

use leptos::prelude::*;

const KEY: &str = "whfb-theme";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    fn next(self) -> Theme {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    fn attr(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Theme::System => "Theme: system",
            Theme::Light => "Theme: light",
            Theme::Dark => "Theme: dark",
        }
    }
}

fn stored() -> Theme {
    let value = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(KEY).ok().flatten());
    match value.as_deref() {
        Some("light") => Theme::Light,
        Some("dark") => Theme::Dark,
        _ => Theme::System,
    }
}

fn apply(theme: Theme) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = match theme.attr() {
            Some(v) => root.set_attribute("data-theme", v),
            None => root.remove_attribute("data-theme"),
        };
    }
    if let Ok(Some(storage)) = window.local_storage() {
        let _ = match theme.attr() {
            Some(v) => storage.set_item(KEY, v),
            None => storage.remove_item(KEY),
        };
    }
}

/// Whether the page shows the dark palette: chosen, or the system's.
pub fn shows_dark() -> bool {
    match stored() {
        Theme::Dark => true,
        Theme::Light => false,
        Theme::System => web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches()),
    }
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(stored());
    Effect::new(move |_| apply(theme.get()));
    view! {
        <button class="theme-toggle" data-testid="theme-toggle" on:click=move |_| theme.update(|t| *t = t.next())>
            {move || theme.get().label()}
        </button>
    }
}
