//! The Web Worker's entry point: wires [`Host`] to `postMessage`, runs its
//! background work in small slices between messages, and starts key makers:
//! more instances of the same worker, on the other cores the browser
//! reports, that make the infrastructure keys the host orders.

use crate::protocol::{FromWorker, ToWorker};
use crate::worker_host::{make_ordered_key, FromKeyMaker, Host, KeyOrder};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The name a key maker is started with (`WorkerGlobalScope.name`): the
/// same script, another role.
const KEY_MAKER_NAME: &str = "whfb-key-maker";

/// At most this many key makers: there are four infrastructure keys, and
/// the engine's own worker makes the TPM's keys meanwhile.
const MAX_KEY_MAKERS: usize = 3;

/// How many key makers to start: what the page passed on from its own
/// `makers=N` (as `__whfbMakers`, set by `app/js/whfb-start.js`, or
/// `makers=N` in this worker's URL when it is loaded from one), else one
/// per core beyond the page's and this worker's. Measured on a 2-core
/// machine, a key maker made deep links slower (hybrid-cert-sync to its
/// last step: 2.2–2.5 s without, 2.5–3.7 s with one), as all three threads
/// then share two cores; so none there.
fn key_makers_wanted(scope: &DedicatedWorkerGlobalScope) -> usize {
    let passed = js_sys::Reflect::get(scope, &JsValue::from_str("__whfbMakers"))
        .ok()
        .and_then(|n| n.as_f64())
        .filter(|n| n.fract() == 0.0 && *n >= 0.0)
        .map(|n| n as usize);
    let asked = passed.or_else(|| {
        web_sys::UrlSearchParams::new_with_str(&scope.location().search())
            .ok()
            .and_then(|p| p.get("makers"))
            .and_then(|n| n.parse::<usize>().ok())
    });
    let cores = scope.navigator().hardware_concurrency() as usize;
    asked
        .unwrap_or_else(|| cores.saturating_sub(2))
        .min(MAX_KEY_MAKERS)
}

/// The release's folder, where this worker's files are: `__whfbBase` when
/// the page started it from a blob: URL (against which nothing relative
/// resolves), else this worker's own URL.
fn release_base(scope: &DedicatedWorkerGlobalScope) -> String {
    js_sys::Reflect::get(scope, &JsValue::from_str("__whfbBase"))
        .ok()
        .and_then(|b| b.as_string())
        .unwrap_or_else(|| scope.location().href())
}

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    host: RefCell<Host>,
    idle_scheduled: Cell<bool>,
    makers: RefCell<Vec<KeyMaker>>,
    /// When the page last asked for a step (`performance.now()`).
    last_step_asked: Cell<f64>,
}

/// Background work waits this long after the page last asked for a step:
/// one slice (a key generation, a few hundred milliseconds in wasm) begun
/// between two steps would hold up the next one while a person steps on.
const QUIET_AFTER_A_STEP_MS: f64 = 400.0;

/// A key maker as the engine's worker sees it.
struct KeyMaker {
    worker: web_sys::Worker,
    alive: bool,
    /// The orders it is working on, oldest first.
    outstanding: Vec<KeyOrder>,
}

/// Orders a key maker holds at once: one to work on and the next, so that
/// it does not idle while this worker is too busy to hear it finish, and
/// few enough that a flow opened later still has its keys made first.
const ORDERS_PER_MAKER: usize = 2;

impl Worker {
    fn post(&self, message: FromWorker) {
        let _ = self
            .scope
            .post_message(&JsValue::from_str(&message.to_json()));
    }

    fn now(&self) -> f64 {
        self.scope.performance().map_or(0.0, |p| p.now())
    }

    /// Runs one slice of background work after pending messages, if any
    /// remains, and not while a person is stepping.
    fn schedule_idle(self: &Rc<Self>) {
        if self.idle_scheduled.replace(true) {
            return;
        }
        let quiet = self.last_step_asked.get() + QUIET_AFTER_A_STEP_MS - self.now();
        let this = self.clone();
        let tick = Closure::once_into_js(move || {
            this.idle_scheduled.set(false);
            if this.last_step_asked.get() + QUIET_AFTER_A_STEP_MS > this.now() {
                // Asked for a step meanwhile: wait for the quiet to come.
                this.schedule_idle();
                return;
            }
            let more = this.host.borrow_mut().idle(&mut |m| this.post(m));
            this.dispatch_orders();
            if more {
                this.schedule_idle();
            }
        });
        let _ = self
            .scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                tick.unchecked_ref(),
                quiet.clamp(0.0, QUIET_AFTER_A_STEP_MS) as i32,
            );
    }

    /// Hands each idle key maker the next key the host wants.
    fn dispatch_orders(self: &Rc<Self>) {
        if !self.host.borrow().has_key_orders() {
            return;
        }
        let mut makers = self.makers.borrow_mut();
        if makers.iter().all(|m| !m.alive) {
            drop(makers);
            let orders: Vec<KeyOrder> =
                std::iter::from_fn(|| self.host.borrow_mut().next_key_order()).collect();
            for order in orders {
                self.host
                    .borrow_mut()
                    .key_failed(order, "no key maker is running", &mut |m| self.post(m));
            }
            return;
        }
        // Round after round, so that each maker's first order comes first.
        // A maker's code starts within the handler of its first message
        // (the module), so what is posted now waits for it, never lost.
        for _ in 0..ORDERS_PER_MAKER {
            for maker in makers.iter_mut() {
                if !maker.alive || maker.outstanding.len() >= ORDERS_PER_MAKER {
                    continue;
                }
                let Some(order) = self.host.borrow_mut().next_key_order() else {
                    return;
                };
                maker.outstanding.push(order);
                let text = serde_json::to_string(&order).unwrap_or_default();
                let _ = maker.worker.post_message(&JsValue::from_str(&text));
            }
        }
    }

    /// What key maker `i` said.
    fn from_maker(self: &Rc<Self>, i: usize, message: FromKeyMaker) {
        let out = &mut |m| self.post(m);
        match message {
            FromKeyMaker::Made(made) => {
                let order = KeyOrder {
                    seed: made.seed,
                    purpose: made.purpose,
                };
                self.makers.borrow_mut()[i]
                    .outstanding
                    .retain(|o| *o != order);
                self.host.borrow_mut().key_made(made, out);
            }
            FromKeyMaker::Failed {
                order: Some(order),
                message,
            } => {
                self.makers.borrow_mut()[i]
                    .outstanding
                    .retain(|o| *o != order);
                self.host.borrow_mut().key_failed(order, &message, out);
            }
            FromKeyMaker::Failed {
                order: None,
                message,
            } => self.maker_lost(i, &message),
        }
        self.dispatch_orders();
        self.schedule_idle();
    }

    /// Key maker `i` stopped answering: its orders are made here instead.
    fn maker_lost(self: &Rc<Self>, i: usize, why: &str) {
        let orders = {
            let mut makers = self.makers.borrow_mut();
            let maker = &mut makers[i];
            maker.alive = false;
            maker.worker.terminate();
            std::mem::take(&mut maker.outstanding)
        };
        for order in orders {
            self.host
                .borrow_mut()
                .key_failed(order, why, &mut |m| self.post(m));
        }
        self.schedule_idle();
    }

    /// Starts `count` key makers. Orders that find none running are made
    /// here.
    fn start_key_makers(self: &Rc<Self>, count: usize) {
        let Some(script) = key_maker_script(&self.scope) else {
            return;
        };
        let options = web_sys::WorkerOptions::new();
        options.set_name(KEY_MAKER_NAME);
        for i in 0..count {
            let Ok(worker) = web_sys::Worker::new_with_options(&script, &options) else {
                break;
            };
            // Its first message is this worker's compiled module: no second
            // download or compilation.
            let _ = worker.post_message(&wasm_bindgen::module());
            let this = self.clone();
            let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                let text = event.data().as_string().unwrap_or_default();
                let message =
                    FromKeyMaker::from_json(&text).unwrap_or_else(|message| FromKeyMaker::Failed {
                        order: None,
                        message,
                    });
                this.from_maker(i, message);
            });
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            on_message.forget();
            let this = self.clone();
            let on_error =
                Closure::<dyn Fn(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                    this.maker_lost(i, &format!("a key maker failed: {}", e.message()));
                });
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            on_error.forget();
            self.makers.borrow_mut().push(KeyMaker {
                worker,
                alive: true,
                outstanding: Vec::new(),
            });
        }
    }
}

/// A key maker's script, as a blob URL: it loads this worker's JavaScript
/// glue and instantiates the module it is sent (wasm-bindgen's `initSync`),
/// whose `main` then finds itself named a key maker.
fn key_maker_script(scope: &DedicatedWorkerGlobalScope) -> Option<String> {
    // Trunk writes the glue next to the loader this worker runs from.
    let glue = web_sys::Url::new_with_base("./whfb-worker.js", &release_base(scope)).ok()?;
    let source = format!(
        "importScripts({:?});\n\
         self.onmessage = (e) => {{ self.onmessage = null; wasm_bindgen.initSync({{ module: e.data }}); }};\n",
        glue.href()
    );
    let parts = js_sys::Array::of1(&JsValue::from_str(&source));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

/// Where `app/js/whfb-engine.js` keeps the messages that arrive before the
/// module has loaded.
const EARLY_MESSAGES: &str = "__whfbEarly";

/// Starts the worker: called by the worker binary's `main`.
pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    if scope.name() == KEY_MAKER_NAME {
        return start_key_maker(scope);
    }
    let performance = scope.performance();
    let clock = Box::new(move || performance.as_ref().map_or(0.0, |p| p.now()));
    let worker = Rc::new(Worker {
        scope: scope.clone(),
        host: RefCell::new(Host::new(clock)),
        idle_scheduled: Cell::new(false),
        makers: RefCell::new(Vec::new()),
        last_step_asked: Cell::new(f64::NEG_INFINITY),
    });
    // Key makers are workers this worker starts, at once: starting one
    // needs this worker's thread, which the TPM's provisioning soon fills.
    // Where a browser cannot (no `Worker` in a worker's scope), every key is
    // made here.
    let makers = key_makers_wanted(&scope);
    if makers > 0 && js_sys::Reflect::has(&scope, &JsValue::from_str("Worker")).unwrap_or(false) {
        worker.start_key_makers(makers);
        if !worker.makers.borrow().is_empty() {
            worker.host.borrow_mut().use_key_makers();
        }
    }
    let this = worker.clone();
    let receive = move |data: JsValue| {
        let text = data.as_string().unwrap_or_default();
        match ToWorker::from_json(&text) {
            Ok(message) => {
                if matches!(message, ToWorker::RunThrough { .. }) {
                    this.last_step_asked.set(this.now());
                }
                // Keys the message will need go to the key makers before
                // this worker gets busy building a world.
                this.host.borrow_mut().order_ahead(&message);
                this.dispatch_orders();
                this.host
                    .borrow_mut()
                    .handle(message, &mut |m| this.post(m));
            }
            Err(message) => this.post(FromWorker::Failed { run: None, message }),
        }
        this.dispatch_orders();
        this.schedule_idle();
    };
    // What came while the module loaded (app/js/whfb-engine.js kept it), in
    // order, before anything new.
    let early = js_sys::Reflect::get(&scope, &JsValue::from_str(EARLY_MESSAGES))
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok());
    let _ = js_sys::Reflect::delete_property(&scope, &JsValue::from_str(EARLY_MESSAGES));
    if let Some(early) = early {
        for data in early.iter() {
            receive(data);
        }
    }
    let on_message =
        Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| receive(event.data()));
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    worker.post(FromWorker::Ready);
    worker.schedule_idle();
}

/// A key maker: answers each key order with the key's primes.
fn start_key_maker(scope: DedicatedWorkerGlobalScope) {
    let reply_to = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        let answer = make_ordered_key(&text);
        let _ = reply_to.post_message(&JsValue::from_str(&answer.to_json()));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
}
