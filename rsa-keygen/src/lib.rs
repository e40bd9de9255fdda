//! RSA key generation that gives, from the same random stream, byte for byte
//! the key of rsa 0.9's [`RsaPrivateKey::new_with_exp`], in a fraction of the
//! time.
//!
//! Where the time goes in rsa 0.9 (num-bigint-dig 0.8): each prime is found by
//! drawing random candidates (`RandPrime::gen_prime`, `bigrand.rs`) and
//! testing them with `probably_prime(p, 20)` (`prime.rs`), which runs 21
//! Miller–Rabin rounds and a Lucas test in generic big-integer code. About a
//! hundred candidates go by per 1024-bit prime, so a key costs some two
//! hundred 1024-bit modular exponentiations: 0.2–1.6 s natively, several
//! times that in WebAssembly.
//!
//! This crate draws exactly the same candidates from the stream (same bytes,
//! same top and bottom bits, same small-prime adjustment) and makes the same
//! decision on each faster: trial division by the primes below 4096, then
//! Miller–Rabin to a few fixed bases in Montgomery arithmetic on machine words
//! ([`montgomery`]). The decisions agree because a prime passes every
//! Miller–Rabin round and every Lucas test, so both accept every prime; and a
//! composite is rejected by both unless it is a strong pseudoprime to all of
//! their bases at once, which for random numbers of this size happens with a
//! probability below 2⁻¹⁰⁰ (Damgård, Landrock and Pomerance, "Average case
//! error estimates for the strong probable prime test", 1993). Once two
//! primes are found, the key is put together by the same rules as rsa's
//! `generate_multi_prime_key_with_exp` (distinct primes, a modulus of the
//! full size, d = e⁻¹ mod φ(n)), so `n`, `e`, `d`, the primes and every
//! precomputed value are the same. The tests compare the two over many
//! streams and sizes.
//!
//! The crate draws no randomness of its own: every byte comes from the
//! caller's `rng`.

use num_bigint_dig::{BigUint, ModInverse};
use rand_core::CryptoRngCore;
use rsa::RsaPrivateKey;

pub mod montgomery;
mod prime;

pub use prime::gen_prime;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// Below this size, rsa's own generator runs: its extra checks for tiny keys
/// are not worth repeating, and nothing here is that small.
const SMALLEST_FAST_KEY: usize = 128;

/// An RSA-`bit_size` key with public exponent 65537: the key
/// `RsaPrivateKey::new(rng, bit_size)` would give from the same stream.
pub fn new(rng: &mut (impl CryptoRngCore + ?Sized), bit_size: usize) -> rsa::Result<RsaPrivateKey> {
    new_with_exp(rng, bit_size, &BigUint::from(65_537u32))
}

/// An RSA key with public exponent `exp`: the key
/// `RsaPrivateKey::new_with_exp(rng, bit_size, exp)` would give from the
/// same stream (two primes, as there).
pub fn new_with_exp(
    rng: &mut (impl CryptoRngCore + ?Sized),
    bit_size: usize,
    exp: &BigUint,
) -> rsa::Result<RsaPrivateKey> {
    if bit_size < SMALLEST_FAST_KEY {
        return RsaPrivateKey::new_with_exp(rng, bit_size, exp);
    }
    // rsa 0.9 `algorithms/generate.rs`, `generate_multi_prime_key_with_exp`
    // with nprimes = 2: the first prime takes half the bits, the second the
    // rest; start again with two new primes if they are equal, if their
    // product is a bit short, or if e has no inverse modulo φ(n).
    let one = BigUint::from(1u32);
    loop {
        let p = gen_prime(rng, bit_size / 2);
        let q = gen_prime(rng, bit_size - p.bits());
        if p == q {
            continue;
        }
        let n = &p * &q;
        if n.bits() != bit_size {
            continue;
        }
        let totient = (&p - &one) * (&q - &one);
        let Some(d) = exp.mod_inverse(totient).and_then(|d| d.to_biguint()) else {
            continue;
        };
        return RsaPrivateKey::from_components(n, exp.clone(), d, vec![p, q]);
    }
}
