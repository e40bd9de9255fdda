//! tpm-emu's integration tests, as one test binary: one link natively, and
//! one headless Chromium in the browser layer instead of one per file.
//! `cargo test -p tpm-emu --test tpm <module>` runs one part.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod helpers;

mod certify;
mod decrypt;
mod describe;
mod determinism;
mod dictionary_attack;
mod ek_certificate;
mod errors;
mod fuzz;
mod hmac;
mod known_answers;
mod pool;
mod signing;
#[cfg(target_arch = "wasm32")]
mod web;
