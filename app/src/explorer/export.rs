//! The diagram out of the page: SVG and PNG, the whole flow or up to the
//! step shown, in the theme the page shows. The SVG is `whfb_model::svg`'s,
//! the same file `whfb svg` writes; the PNG is that SVG drawn on a canvas
//! at twice its size.

use crate::session::Session;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use whfb_model::script::Script;
use whfb_model::svg::{diagram, Theme};

/// The SVG of the diagram, with its file name stem.
fn svg_of(script: &Script, up_to: Option<usize>) -> (String, String) {
    let theme = if crate::theme::shows_dark() {
        Theme::Dark
    } else {
        Theme::Light
    };
    let slug = script.flow.slug();
    let stem = match up_to {
        Some(i) => format!("{slug}-to-step-{}-{}", i + 1, theme.slug()),
        None => format!("{slug}-{}", theme.slug()),
    };
    (diagram(script, up_to, theme), stem)
}

/// The SVG's size, from its root element's attributes.
fn size_of(svg: &str) -> (f64, f64) {
    let attribute = |name: &str| {
        svg.split_once(&format!(" {name}=\""))
            .and_then(|(_, rest)| rest.split('"').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (attribute("width"), attribute("height"))
}

/// Draws the SVG on a canvas at twice its size and saves it as PNG.
fn save_png(svg: String, name: String) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (width, height) = size_of(&svg);
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&svg));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/svg+xml");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let Ok(image) = web_sys::HtmlImageElement::new() else {
        return;
    };
    let drawn = image.clone();
    let source = url.clone();
    let onload = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&source);
        let Some(canvas) = document
            .create_element("canvas")
            .ok()
            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        canvas.set_width((width * 2.0) as u32);
        canvas.set_height((height * 2.0) as u32);
        let Some(context) = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        else {
            return;
        };
        let _ = context.scale(2.0, 2.0);
        let _ = context.draw_image_with_html_image_element(&drawn, 0.0, 0.0);
        let saved = Closure::once_into_js(move |png: Option<web_sys::Blob>| {
            let Some(png) = png else { return };
            let Ok(url) = web_sys::Url::create_object_url_with_blob(&png) else {
                return;
            };
            crate::download::click_download(&url, &name);
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        let _ = canvas.to_blob_with_type(saved.unchecked_ref(), "image/png");
    });
    image.set_onload(Some(onload.unchecked_ref()));
    image.set_src(&url);
}

/// "Export diagram": SVG or PNG, the whole flow or up to the step shown.
#[component]
pub fn ExportMenu(session: Session, script: StoredValue<Script>) -> impl IntoView {
    let current = move || session.playback.with_untracked(|p| p.current);
    let svg = move |to_step: bool| {
        let up_to = to_step.then(current);
        let (svg, stem) = script.with_value(|s| svg_of(s, up_to));
        crate::download::save_file(&format!("{stem}.svg"), svg.as_bytes(), "image/svg+xml");
    };
    let png = move |to_step: bool| {
        let up_to = to_step.then(current);
        let (svg, stem) = script.with_value(|s| svg_of(s, up_to));
        save_png(svg, format!("{stem}.png"));
    };
    view! {
        <details class="export" data-testid="export">
            <summary title="The diagram as an image: SVG or PNG, the whole flow or up to this step, in the theme shown">"Export diagram"</summary>
            <div class="export-menu">
                <button data-testid="export-svg-all" on:click=move |_| svg(false)>"SVG, whole flow"</button>
                <button data-testid="export-svg-step" on:click=move |_| svg(true)>"SVG, up to this step"</button>
                <button data-testid="export-png-all" on:click=move |_| png(false)>"PNG, whole flow"</button>
                <button data-testid="export-png-step" on:click=move |_| png(true)>"PNG, up to this step"</button>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_takes_the_svgs_size() {
        let s = whfb_model::script::script(crate::flow_id("onprem-key"));
        let svg = diagram(&s, None, Theme::Light);
        let (w, h) = size_of(&svg);
        let l = whfb_model::layout::layout(&s);
        assert_eq!((w, h), (l.width, l.height));
    }
}
