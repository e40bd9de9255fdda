//! Saving bytes as a file the browser downloads: an artifact from the
//! inspector, the run bundle from the session.

use wasm_bindgen::JsCast;

/// Saves bytes through a temporary object URL.
pub fn save_file(name: &str, bytes: &[u8], mime: &str) {
    let array = js_sys::Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    click_download(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Has the browser download `url` as the file `name`.
pub fn click_download(url: &str, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(a) = document.create_element("a") {
        if let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() {
            a.set_href(url);
            a.set_download(name);
            a.click();
        }
    }
}
