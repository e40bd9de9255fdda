//! Times key creation, certification and signing on the emulated TPM.
//!
//! `cargo run --release -p tpm-emu --example bench [runs]` (default 10 runs).

use std::time::Instant;

use tpm_emu::{templates, AuthValue, Tpm, TpmClient, TpmSeed};

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let median = if ms.len() % 2 == 1 {
        ms[ms.len() / 2]
    } else {
        (ms[ms.len() / 2 - 1] + ms[ms.len() / 2]) / 2.0
    };
    println!(
        "{what:<34} median {median:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms   ({} runs)",
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64() * 1000.0)
}

fn main() -> tpm_emu::Result<()> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10)
        .max(1);
    let mut client = TpmClient::new(Tpm::new(TpmSeed([0xBE; 32])));
    client.set_recording(false);
    let (platform, ms) = time(|| client.provision());
    let platform = platform?;
    println!("provision (SRK, EK, RSA AIK, EK cert): {ms:.2} ms");

    let empty = AuthValue::empty();
    let pin = AuthValue::from_pin("123456");
    let srk = platform.srk.handle;
    let (mut create, mut load, mut bind, mut certify, mut sign) =
        (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..runs {
        let (created, ms) =
            time(|| client.create(srk, &empty, &templates::user_key_rsa_2048(), &empty));
        let created = created?;
        create.push(ms);
        let (loaded, ms) = time(|| client.load(srk, &empty, &created.private, &created.public));
        let loaded = loaded?;
        load.push(ms);
        let (bound, ms) = time(|| {
            client.change_auth_and_reload(loaded.handle, &empty, srk, &empty, &created.public, &pin)
        });
        let (_, bound) = bound?;
        bind.push(ms);
        let nonce = [i as u8; 32];
        let (att, ms) =
            time(|| client.certify(bound.handle, &pin, platform.aik.handle, &empty, &nonce));
        att?;
        certify.push(ms);
        let (sig, ms) = time(|| client.sign(bound.handle, &pin, &[7u8; 32]));
        sig?;
        sign.push(ms);
        client.flush_context(bound.handle)?;
    }
    report("TPM2_Create (RSA-2048 user key)", create);
    report("TPM2_Load", load);
    report("bind PIN (ChangeAuth+Flush+Load)", bind);
    report("TPM2_Certify (RSA-2048 AIK)", certify);
    report("TPM2_Sign (RSASSA-2048)", sign);
    Ok(())
}
