// The engine's Web Worker. Messages that arrive while its WebAssembly is
// still loading wait here; the engine takes them, in order, as it starts
// (app/src/worker_entry.rs), so the page posts at once and never waits for
// the worker to be ready.
self.__whfbEarly = [];
self.onmessage = function (event) {
  self.__whfbEarly.push(event.data);
};
importScripts('./whfb-worker.js');
// The module's memory is kept where a test can read the worker's heap
// (its size in bytes: WebAssembly memory grows and never shrinks).
wasm_bindgen('./whfb-worker_bg.wasm').then((exports) => {
  self.__whfbMemory = exports.memory;
});
