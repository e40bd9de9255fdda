//! The page's end of the Web Worker: starts it (or adopts the one
//! index.html started), posts to it, and hands every answer to a callback.
//! The worker's script keeps what arrives before its code has loaded
//! (`app/js/whfb-engine.js`), so the page posts at once.

use crate::protocol::{FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

/// The worker's script (`app/js/whfb-engine.js`, copied by Trunk).
const WORKER_SCRIPT: &str = "./whfb-engine.js";

/// A running worker. Cloning shares it.
#[derive(Clone)]
pub struct WorkerLink {
    worker: Worker,
}

impl std::fmt::Debug for WorkerLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerLink")
    }
}

/// The worker's script, with the page's `makers=N` passed on: how many key
/// makers the worker starts (by default, as the cores allow).
fn worker_script() -> String {
    let makers = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
        .and_then(|p| p.get("makers"))
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| *n <= 3);
    match makers {
        Some(n) => format!("{WORKER_SCRIPT}?makers={n}"),
        None => WORKER_SCRIPT.to_string(),
    }
}

/// The property under which index.html leaves the worker it started early.
const EARLY_WORKER: &str = "__whfbWorker";

/// The worker index.html started before the page's code had loaded (for a
/// link to a flow), with what it has said so far; `None` if there is none
/// or it runs another script than this page would start.
fn adopt_early_worker() -> Option<(Worker, js_sys::Array)> {
    let window = web_sys::window()?;
    let key = JsValue::from_str(EARLY_WORKER);
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    if early.is_undefined() || early.is_null() {
        return None;
    }
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let field = |name: &str| js_sys::Reflect::get(&early, &JsValue::from_str(name)).ok();
    let worker: Worker = field("worker")?.dyn_into().ok()?;
    if field("url")?.as_string().as_deref() != Some(worker_script().as_str()) {
        worker.terminate();
        return None;
    }
    let said: js_sys::Array = field("early")?.dyn_into().ok()?;
    Some((worker, said))
}

impl WorkerLink {
    /// Starts the worker, or adopts the one index.html started early;
    /// `on_message` receives everything it says.
    pub fn spawn(on_message: impl Fn(FromWorker) + 'static) -> Result<WorkerLink, String> {
        let (worker, said) = match adopt_early_worker() {
            Some(early) => early,
            None => (
                Worker::new(&worker_script())
                    .map_err(|e| format!("the Web Worker could not start: {e:?}"))?,
                js_sys::Array::new(),
            ),
        };
        let receive = move |data: JsValue| {
            let Some(text) = data.as_string() else {
                on_message(FromWorker::Failed {
                    run: None,
                    message: "the worker sent something that is not text".into(),
                });
                return;
            };
            let message = FromWorker::from_json(&text)
                .unwrap_or_else(|message| FromWorker::Failed { run: None, message });
            on_message(message);
        };
        // What the early worker said before the page listened, in order,
        // before anything new.
        for data in said.iter() {
            receive(data);
        }
        let handler =
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| receive(event.data()));
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        // The worker lives as long as the page: so does its handler.
        handler.forget();
        let on_error =
            Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "worker error: {}",
                    e.message()
                )));
            });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        Ok(WorkerLink { worker })
    }

    /// Posts `message`; the worker keeps it until its code has loaded.
    pub fn post(&self, message: &ToWorker) {
        let _ = self
            .worker
            .post_message(&JsValue::from_str(&message.to_json()));
    }
}
