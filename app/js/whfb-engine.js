// The engine's Web Worker. Messages that arrive while its WebAssembly is
// still loading wait here; the engine takes them, in order, as it starts
// (app/src/worker_entry.rs), so the page posts at once and never waits for
// the worker to be ready.
//
// The page starts it from a blob: URL (app/js/whfb-start.js), which sets
// `__whfbBase`, the release's folder, since nothing resolves relative to a
// blob: URL; loaded from its own URL, it finds its files beside itself.
self.__whfbEarly = [];
self.onmessage = function (event) {
  self.__whfbEarly.push(event.data);
};
var base = self.__whfbBase || new URL('./', self.location.href).href;
importScripts(base + 'whfb-worker.js');
// The module's memory is kept where a test can read the worker's heap
// (its size in bytes: WebAssembly memory grows and never shrinks).
wasm_bindgen(base + 'whfb-worker_bg.wasm').then((exports) => {
  self.__whfbMemory = exports.memory;
});
