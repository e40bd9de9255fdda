//! The page's end of the Web Worker: starts it (or adopts the one
//! `app/js/whfb-start.js` started), posts to it, and hands every answer to a callback.
//! The worker's script keeps what arrives before its code has loaded
//! (`app/js/whfb-engine.js`), so the page posts at once.

use crate::protocol::{FromWorker, ToWorker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

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

#[wasm_bindgen]
extern "C" {
    /// Starts the engine's worker from a blob: URL, so that the page's
    /// Content-Security-Policy governs it (`app/js/whfb-start.js`, which
    /// index.html loads first): `makers` key makers, or as many as the
    /// cores allow.
    #[wasm_bindgen(catch, js_name = __whfbStartEngine)]
    fn start_engine(makers: Option<u8>) -> Result<Worker, JsValue>;
}

/// The page's `makers=N` (0 to 3), passed on to the worker: how many key
/// makers it starts (by default, as the cores allow).
fn makers_asked() -> Option<u8> {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|q| web_sys::UrlSearchParams::new_with_str(&q).ok())
        .and_then(|p| p.get("makers"))
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| *n <= 3)
}

/// The property under which `whfb-start.js` leaves the worker it started
/// early.
const EARLY_WORKER: &str = "__whfbWorker";

/// The worker `whfb-start.js` started before the page's code had loaded
/// (for a link to a flow), with what it has said so far; `None` if there is
/// none or it was started with other key makers than this page would ask.
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
    let makers = field("makers")?.as_f64().map(|n| n as u8);
    if makers != makers_asked() {
        worker.terminate();
        return None;
    }
    let said: js_sys::Array = field("early")?.dyn_into().ok()?;
    Some((worker, said))
}

impl WorkerLink {
    /// Starts the worker, or adopts the one `whfb-start.js` started early;
    /// `on_message` receives everything it says.
    pub fn spawn(on_message: impl Fn(FromWorker) + 'static) -> Result<WorkerLink, String> {
        let (worker, said) = match adopt_early_worker() {
            Some(early) => early,
            None => (
                start_engine(makers_asked()).map_err(|e| {
                    let why = e
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .or_else(|| e.as_string())
                        .unwrap_or_else(|| format!("{e:?}"));
                    format!("the Web Worker could not start: {why}")
                })?,
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
