//! The release build's Content-Security-Policy: after `trunk build`, a
//! `<meta http-equiv="Content-Security-Policy">` goes first into
//! `dist/index.html`, since a static host cannot be relied on to send
//! headers.
//!
//! What it allows, and why:
//! - scripts: the page's own files (`'self'`), WebAssembly compilation
//!   (`'wasm-unsafe-eval'`), and the one inline script the build requires:
//!   Trunk's loader, which names the file-hashed module and so changes with
//!   every release. It is allowed by its SHA-256, computed here from the
//!   bytes Trunk wrote. Any other inline script, `eval` or script from
//!   elsewhere is refused.
//! - workers: the page's own files and `blob:`. The engine's worker starts
//!   from a blob: URL (`app/js/whfb-start.js`), and so do its key makers:
//!   a worker created from a blob: URL is governed by the policy of the
//!   document that created it, where a worker loaded from a URL would be
//!   governed only by the headers it was served with, which a static host
//!   does not set. The service worker is the exception: it is loaded from
//!   `sw.js` and governed by its own headers; it only fetches and caches
//!   this release's files.
//! - connections (`fetch`, the WebAssembly downloads): `'self'` only.
//! - styles: the page's stylesheet, and `style` attributes
//!   (`style-src-attr 'unsafe-inline'`), which Leptos writes for the clock's
//!   marks and the arrows' lengths; no `<style>` element is needed.
//! - nothing else: no plugins, no frames, no forms, no `<base>`.
//!
//! `frame-ancestors` cannot be set from a meta tag (browsers ignore it
//! there), and embedding a step in an iframe is a feature.

use std::path::Path;

/// The policy, less the inline scripts' hashes, which follow `script-src`.
const POLICY: [(&str, &str); 11] = [
    ("default-src", "'none'"),
    ("script-src", "'self' 'wasm-unsafe-eval'"),
    ("worker-src", "'self' blob:"),
    ("connect-src", "'self'"),
    ("style-src", "'self'"),
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data: blob:"),
    ("manifest-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'none'"),
];

/// Adds the policy to `dist/index.html`, with the hash of every inline
/// script Trunk wrote there.
pub fn protect(dist: &Path) -> Result<(), String> {
    let path = dist.join("index.html");
    let html =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let (protected, inline) = with_policy(&html)?;
    std::fs::write(&path, protected).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("xtask: dist/index.html carries a Content-Security-Policy ({inline} inline script allowed by its hash)");
    Ok(())
}

/// `html` with the policy's meta tag after its `<meta charset>` (a meta
/// policy governs only what follows it), and how many inline scripts it
/// allows.
fn with_policy(html: &str) -> Result<(String, usize), String> {
    if html.contains("http-equiv=\"Content-Security-Policy\"") {
        return Err("dist/index.html already has a Content-Security-Policy".into());
    }
    let hashes: Vec<String> = inline_scripts(html)?
        .iter()
        .map(|body| format!("'sha256-{}'", base64(&sha256(body.as_bytes()))))
        .collect();
    let policy = POLICY
        .iter()
        .map(|(directive, sources)| {
            if *directive == "script-src" && !hashes.is_empty() {
                format!("{directive} {sources} {}", hashes.join(" "))
            } else {
                format!("{directive} {sources}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let charset = html
        .find("<meta charset")
        .and_then(|at| html[at..].find('>').map(|end| at + end + 1))
        .ok_or("dist/index.html has no <meta charset> to put the policy after")?;
    let meta =
        format!("\n    <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\" />");
    Ok((
        format!("{}{meta}{}", &html[..charset], &html[charset..]),
        hashes.len(),
    ))
}

/// The text of every `<script>` element without a `src`, as the browser
/// hashes it: exactly what lies between the tags.
fn inline_scripts(html: &str) -> Result<Vec<&str>, String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..]
            .find('>')
            .map(|e| at + e)
            .ok_or("an unterminated <script> tag in dist/index.html")?;
        let tag = &rest[at..tag_end];
        let body_start = tag_end + 1;
        let close = rest[body_start..]
            .find("</script>")
            .map(|e| body_start + e)
            .ok_or("a <script> without </script> in dist/index.html")?;
        if !tag.contains(" src=") {
            found.push(&rest[body_start..close]);
        }
        rest = &rest[close + "</script>".len()..];
    }
    Ok(found)
}

/// SHA-256 (FIPS 180-4), for the policy's script hashes: the standard
/// library has none, and xtask stays dependency-free.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut digest = [0u8; 32];
    for (out, word) in digest.chunks_exact_mut(4).zip(h) {
        out.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// Base64 with padding (RFC 4648 §4), as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_and_base64_give_the_known_answers() {
        // FIPS 180-4's examples; RFC 4648 §10's.
        assert_eq!(
            base64(&sha256(b"abc")),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
        assert_eq!(
            base64(&sha256(b"")),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        let digest = sha256(long);
        assert_eq!(digest[..4], [0x24, 0x8d, 0x6a, 0x61]);
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn the_policy_goes_first_and_hashes_only_inline_scripts() -> Result<(), String> {
        let html = "<html><head><meta charset=\"utf-8\" />\n<script src=\"./a.js\"></script>\
                    <script type=\"module\">abc</script></head></html>";
        let (out, inline) = with_policy(html)?;
        assert_eq!(inline, 1);
        let meta = out.find("Content-Security-Policy");
        assert!(meta.is_some() && meta < out.find("<script"), "{out}");
        assert!(out.contains(
            "script-src 'self' 'wasm-unsafe-eval' 'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=';"
        ));
        assert!(out.contains("worker-src 'self' blob:;"));
        assert!(with_policy(&out).is_err(), "never twice");
        assert!(with_policy("<head><script>x</head>").is_err());
        assert!(with_policy("<head></head>").is_err(), "no charset");
        Ok(())
    }
}
