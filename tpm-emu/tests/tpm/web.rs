//! In-browser timings of the same operations as `examples/bench.rs`:
//! `cargo test -p tpm-emu --target wasm32-unknown-unknown --test tpm web -- --nocapture`.

#![cfg(target_arch = "wasm32")]

use tpm_emu::{templates, AuthValue, KeyPool, Tpm, TpmClient, TpmSeed};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};

/// `performance.now()` in milliseconds.
fn now() -> f64 {
    let global = js_sys::global();
    let performance = js_sys::Reflect::get(&global, &"performance".into()).unwrap();
    let f = js_sys::Reflect::get(&performance, &"now".into()).unwrap();
    let f: js_sys::Function = f.into();
    f.call0(&performance).unwrap().as_f64().unwrap()
}

/// Hands control back to the browser for one turn of its event loop (a
/// zero-delay `setTimeout`), so that a test that generates several RSA keys
/// never blocks the page long enough for ChromeDriver to give up on it.
async fn breathe() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout = js_sys::Reflect::get(&global, &"setTimeout".into()).unwrap();
        let set_timeout: js_sys::Function = set_timeout.into();
        set_timeout.call1(&global, &resolve).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Logs the median, min and max of `ms`; returns the median.
fn report(what: &str, mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    let median = if ms.len() % 2 == 1 {
        ms[ms.len() / 2]
    } else {
        (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0
    };
    console_log!(
        "{what}: median {median:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)",
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
    median
}

#[wasm_bindgen_test]
async fn timings_in_the_browser() {
    const RUNS: usize = 5;
    let mut client = TpmClient::new(Tpm::new(TpmSeed([0xBE; 32])));
    client.set_recording(false);
    let t = now();
    let platform = client.provision().unwrap();
    console_log!("provision (SRK, EK, RSA AIK, EK cert): {:.1} ms", now() - t);
    let empty = AuthValue::empty();
    let pin = AuthValue::from_pin("123456");
    let srk = platform.srk.handle;
    let (mut create, mut certify, mut sign) = (vec![], vec![], vec![]);
    for i in 0..RUNS {
        breathe().await;
        let t = now();
        let created = client
            .create(srk, &empty, &templates::user_key_rsa_2048(), &empty)
            .unwrap();
        create.push(now() - t);
        let loaded = client
            .load(srk, &empty, &created.private, &created.public)
            .unwrap();
        let (_, bound) = client
            .change_auth_and_reload(loaded.handle, &empty, srk, &empty, &created.public, &pin)
            .unwrap();
        let t = now();
        client
            .certify(
                bound.handle,
                &pin,
                platform.aik.handle,
                &empty,
                &[i as u8; 32],
            )
            .unwrap();
        certify.push(now() - t);
        let t = now();
        client.sign(bound.handle, &pin, &[7u8; 32]).unwrap();
        sign.push(now() - t);
        client.flush_context(bound.handle).unwrap();
    }
    report("TPM2_Create (RSA-2048 user key)", create);
    report("TPM2_Certify (RSA-2048 AIK)", certify);
    report("TPM2_Sign (RSASSA-2048)", sign);
}

/// Windows pre-generates user keys so that provisioning does not wait for
/// one: taking a key from a warm pool is TPM2_Load and TPM2_Certify, no key
/// generation. The median is printed (about 10 ms); the limit only means
/// "broken": a take that generated a key would cost a second.
#[wasm_bindgen_test]
async fn a_key_from_a_warm_pool_comes_without_generating_one() {
    const KEYS: usize = 3;
    let mut client = TpmClient::new(Tpm::new(TpmSeed([0xB0; 32])));
    client.set_recording(false);
    let platform = client.provision().unwrap();
    let mut pool = KeyPool::new(KEYS, &platform);
    while pool.fill_one(&mut client).unwrap() {
        breathe().await;
    }
    let mut take = vec![];
    for i in 0..KEYS {
        let t = now();
        let key = pool.take(&mut client, &[i as u8; 32]).unwrap();
        take.push(now() - t);
        client.flush_context(key.handle).unwrap();
    }
    let median = report("KeyPool::take from a warm pool (Load + Certify)", take);
    assert!(median <= 200.0, "a warm pool key took {median:.1} ms");
}
