// The page's first script (index.html loads it before the page's code).
//
// The engine's worker starts from a blob: URL, so that the page's
// Content-Security-Policy governs it too: a worker loaded from a URL
// follows only the headers it was served with, and a static host sends
// none (xtask/src/csp.rs). The blob names this release's files by absolute
// URL, since nothing resolves relative to a blob: URL.
(function () {
  var script = document.currentScript;
  var base = new URL('./', (script && script.src) || location.href).href;

  // Starts the engine's worker; `makers` (0 to 3, or undefined for as many
  // as the cores allow) is how many key makers it starts in turn. The page's
  // code calls this too (app/src/worker_link.rs).
  window.__whfbStartEngine = function (makers) {
    var source =
      'self.__whfbBase = ' + JSON.stringify(base) + ';\n' +
      (typeof makers === 'number' ? 'self.__whfbMakers = ' + makers + ';\n' : '') +
      'importScripts(' + JSON.stringify(base + 'whfb-engine.js') + ');\n';
    var blob = new Blob([source], { type: 'text/javascript' });
    return new Worker(URL.createObjectURL(blob), { name: 'whfb-engine' });
  };

  // A link to a flow needs the engine at once: its worker starts here,
  // while the page's own code is still loading, and the page adopts it with
  // what it said meanwhile. On the catalog the page starts it after its
  // first paint.
  var query = new URLSearchParams(location.search);
  if (query.get('flow') && typeof Worker === 'function') {
    var asked = query.get('makers');
    var makers = /^[0-3]$/.test(asked || '') ? Number(asked) : undefined;
    try {
      var worker = window.__whfbStartEngine(makers);
      var early = [];
      worker.onmessage = function (event) {
        early.push(event.data);
      };
      window.__whfbWorker = { worker: worker, makers: makers, early: early };
    } catch (e) {
      // The page starts one itself, and says so if it cannot.
    }
  }

  // Offline and installable: the release build writes sw.js (xtask,
  // offline.rs), which keeps this release's files; registered once the
  // page has loaded, so it never competes with the first paint. A
  // development server has no sw.js: the registration fails quietly.
  window.addEventListener('load', function () {
    if (!('serviceWorker' in navigator)) return;
    navigator.serviceWorker.register(base + 'sw.js').catch(function () {
      // Offline use is a convenience: the page works without it.
    });
  });
})();
