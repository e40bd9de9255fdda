//! Ten RSA-2048 keys with this crate, and with `--compare` also with rsa's
//! `RsaPrivateKey::new` from the same streams (checked equal):
//! `cargo run --release -p rsa-keygen --example speed -- --compare`.

#![allow(clippy::unwrap_used)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use std::time::Instant;

fn main() {
    let compare = std::env::args().any(|a| a == "--compare");
    let (mut ours, mut theirs) = (0.0, 0.0);
    for seed in 0..10u64 {
        let t = Instant::now();
        let a = rsa_keygen::new(&mut ChaCha20Rng::seed_from_u64(seed), 2048).unwrap();
        ours += t.elapsed().as_secs_f64();
        if compare {
            let t = Instant::now();
            let b = rsa::RsaPrivateKey::new(&mut ChaCha20Rng::seed_from_u64(seed), 2048).unwrap();
            theirs += t.elapsed().as_secs_f64();
            assert_eq!(a, b, "seed {seed}");
        }
    }
    print!("10 RSA-2048 keys: rsa-keygen {ours:.2} s");
    if compare {
        print!(", rsa {theirs:.2} s (the same keys)");
    }
    println!();
}
