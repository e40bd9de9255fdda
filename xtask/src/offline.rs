//! The release build's service worker: after `trunk build`, `dist/sw.js`
//! lists every file of this release and is named for them, so the explorer
//! works offline once opened, and a new release replaces the old one whole.
//!
//! - Install: every file of the release goes into one cache named for the
//!   release (a hash of the files' names and bytes); `addAll` stores all or
//!   nothing.
//! - Activate: caches of other releases are deleted; the new worker takes
//!   over open pages at once.
//! - Fetch: files whose names carry Trunk's content hash never change, so
//!   they come from the cache first; the page itself and the files without
//!   a hash (the engine's worker script and its WebAssembly) come from the
//!   network first, so an online visit always gets one release's files, and
//!   from this release's cache when the network is gone. Requests to other
//!   origins and other methods are left alone.
//!
//! Scope and paths are relative (`./`), so `dist/` still runs from any
//! host and sub-path.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::path::Path;

/// Writes `dist/sw.js` for the files now in `dist`.
pub fn write_service_worker(dist: &Path) -> Result<(), String> {
    let mut files: Vec<String> = Vec::new();
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dist.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_file() && name != "sw.js" {
            files.push(name);
        }
    }
    files.sort();
    // SipHash with fixed keys: the same files give the same name on every
    // machine.
    let mut hasher = DefaultHasher::new();
    for name in &files {
        let bytes = std::fs::read(dist.join(name)).map_err(|e| format!("reading {name}: {e}"))?;
        hasher.write(name.as_bytes());
        hasher.write_u64(bytes.len() as u64);
        hasher.write(&bytes);
    }
    let release = format!("{:016x}", hasher.finish());
    let list = std::iter::once("./".to_string())
        .chain(files.iter().map(|f| format!("./{f}")))
        .map(|f| format!("  '{f}',"))
        .collect::<Vec<_>>()
        .join("\n");
    let script = format!(
        r#"// The explorer's service worker, written by `cargo xtask build`
// (xtask/src/offline.rs) for release {release}: this release's files, kept
// together, so the explorer works offline and never mixes two releases.
const CACHE = 'whfb-explorer-{release}';
const FILES = [
{list}
];
// Trunk names a file by its content (name-<hash in hex>.ext, up to 16 digits): such a file never changes.
const HASHED = /-[0-9a-f]{{8,16}}(_bg)?\.[a-z]+$/;

self.addEventListener('install', (event) => {{
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
}});

self.addEventListener('activate', (event) => {{
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('whfb-explorer-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
}});

self.addEventListener('fetch', (event) => {{
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const cached = () =>
    caches.open(CACHE).then((cache) =>
      request.mode === 'navigate'
        ? cache.match('./', {{ ignoreSearch: true }})
        : cache.match(request, {{ ignoreSearch: true }}),
    );
  if (HASHED.test(url.pathname)) {{
    event.respondWith(cached().then((hit) => hit || fetch(request)));
    return;
  }}
  event.respondWith(
    fetch(request).catch(() => cached().then((hit) => hit || Response.error())),
  );
}});
"#
    );
    std::fs::write(dist.join("sw.js"), script).map_err(|e| format!("writing sw.js: {e}"))?;
    println!(
        "xtask: dist/sw.js keeps {} files for offline use (release {release})",
        files.len() + 1
    );
    Ok(())
}
