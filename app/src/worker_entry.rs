//! The Web Worker's entry point: wires [`Host`] to `postMessage` and runs its
//! background work in small slices between messages.

use crate::protocol::{FromWorker, ToWorker};
use crate::worker_host::Host;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    host: RefCell<Host>,
    idle_scheduled: Cell<bool>,
}

impl Worker {
    fn post(&self, message: FromWorker) {
        let _ = self
            .scope
            .post_message(&JsValue::from_str(&message.to_json()));
    }

    /// Runs one slice of background work after pending messages, if any remains.
    fn schedule_idle(self: &Rc<Self>) {
        if self.idle_scheduled.replace(true) {
            return;
        }
        let this = self.clone();
        let tick = Closure::once_into_js(move || {
            this.idle_scheduled.set(false);
            let more = this.host.borrow_mut().idle(&mut |m| this.post(m));
            if more {
                this.schedule_idle();
            }
        });
        let _ = self
            .scope
            .set_timeout_with_callback_and_timeout_and_arguments_0(tick.unchecked_ref(), 0);
    }
}

/// Starts the worker: called by the worker binary's `main`.
pub fn start() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let performance = scope.performance();
    let clock = Box::new(move || performance.as_ref().map_or(0.0, |p| p.now()));
    let worker = Rc::new(Worker {
        scope: scope.clone(),
        host: RefCell::new(Host::new(clock)),
        idle_scheduled: Cell::new(false),
    });
    let this = worker.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        match ToWorker::from_json(&text) {
            Ok(message) => this
                .host
                .borrow_mut()
                .handle(message, &mut |m| this.post(m)),
            Err(message) => this.post(FromWorker::Failed { run: None, message }),
        }
        this.schedule_idle();
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    worker.post(FromWorker::Ready);
    worker.schedule_idle();
}
