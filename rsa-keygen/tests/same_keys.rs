//! The keys are rsa 0.9's, byte for byte: the same stream through
//! `RsaPrivateKey::new_with_exp` and through this crate gives the same
//! modulus, exponents and primes, over many streams and sizes.

#![allow(clippy::expect_used)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey};

// In the browser too: WebAssembly takes the 32-bit word path.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn assert_same_key(seed: u64, bits: usize, exp: u32) {
    let e = BigUint::from(exp);
    let expected = RsaPrivateKey::new_with_exp(&mut ChaCha20Rng::seed_from_u64(seed), bits, &e)
        .expect("rsa's key");
    let got =
        rsa_keygen::new_with_exp(&mut ChaCha20Rng::seed_from_u64(seed), bits, &e).expect("our key");
    assert_eq!(got.n(), expected.n(), "modulus, seed {seed}, {bits} bits");
    assert_eq!(got.e(), expected.e());
    assert_eq!(
        got.d(),
        expected.d(),
        "private exponent, seed {seed}, {bits} bits"
    );
    assert_eq!(
        got.primes(),
        expected.primes(),
        "primes, seed {seed}, {bits} bits"
    );
    assert_eq!(got.dp(), expected.dp());
    assert_eq!(got.dq(), expected.dq());
    assert_eq!(got.crt_coefficient(), expected.crt_coefficient());
}

#[test]
fn rsa_2048_keys_are_rsa_crate_keys() {
    for seed in 0..6 {
        assert_same_key(seed, 2048, 65_537);
    }
}

#[test]
fn other_sizes_and_exponents_give_the_same_keys_too() {
    for seed in 100..116 {
        assert_same_key(seed, 512, 65_537);
    }
    for (seed, bits) in [
        (7, 1024),
        (8, 1023),
        (9, 1001),
        (10, 768),
        (11, 130),
        (12, 64),
    ] {
        assert_same_key(seed, bits, 65_537);
    }
    // An exponent that makes e | φ(n) likely, so the retry path runs.
    for seed in 200..220 {
        assert_same_key(seed, 256, 3);
    }
}

#[test]
fn the_first_prime_is_num_bigint_digs() {
    use num_bigint_dig::RandPrime;
    for (seed, bits) in [(1u64, 1024), (2, 512), (3, 777), (4, 65)] {
        let expected = ChaCha20Rng::seed_from_u64(seed).gen_prime(bits);
        let got = rsa_keygen::gen_prime(&mut ChaCha20Rng::seed_from_u64(seed), bits);
        assert_eq!(got, expected, "seed {seed}, {bits} bits");
    }
}
