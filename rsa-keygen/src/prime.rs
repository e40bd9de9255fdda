//! Random primes, drawn as num-bigint-dig 0.8 draws them
//! (`bigrand.rs`, `RandPrime::gen_prime`) and tested faster.

use crate::montgomery::Modulus;
use num_bigint_dig::BigUint;
use rand_core::CryptoRngCore;

/// num-bigint-dig's `SMALL_PRIMES`: a candidate is moved up to the next
/// value prime to all of them before it is tested.
const SMALL_PRIMES: [u64; 15] = [3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];
/// Their product, which fits a u64 (num-bigint-dig's `SMALL_PRIMES_PRODUCT`).
const SMALL_PRIMES_PRODUCT: u64 = 16_294_579_238_595_022_365;

/// Trial division by the odd primes below this bound rejects about half of
/// the candidates that survive the small primes (Mertens: ln 53 / ln 4096),
/// each for a few dozen word divisions instead of an exponentiation.
const TRIAL_DIVISION_BOUND: u32 = 4096;

/// Miller–Rabin bases. A prime passes all of them; a random composite of
/// 512 bits or more passes six rounds with a probability below 2⁻¹⁰⁰
/// (Damgård–Landrock–Pomerance 1993), and base 2 first rejects almost all.
const WITNESSES: [u32; 6] = [2, 3, 5, 7, 11, 13];

/// A random prime of exactly `bit_size` bits (at least 64), its two top bits
/// set: the value num-bigint-dig's `gen_prime` returns from the same stream.
pub fn gen_prime(rng: &mut (impl CryptoRngCore + ?Sized), bit_size: usize) -> BigUint {
    let trial = TrialDivision::new();
    let mut b = bit_size % 8;
    if b == 0 {
        b = 8;
    }
    let bytes_len = bit_size.div_ceil(8);
    let mut bytes = vec![0u8; bytes_len];
    loop {
        rng.fill_bytes(&mut bytes);
        // No more than `bit_size` bits, the top two set, odd.
        bytes[0] &= ((1u32 << b) - 1) as u8;
        if b >= 2 {
            bytes[0] |= 3u8.wrapping_shl(b as u32 - 2);
        } else {
            bytes[0] |= 1;
            if bytes_len > 1 {
                bytes[1] |= 0x80;
            }
        }
        bytes[bytes_len - 1] |= 1;

        let mut p = BigUint::from_bytes_be(&bytes);
        // The first even step that makes the candidate prime to every small
        // prime; num-bigint-dig keeps the candidate as drawn if none does
        // below 2²⁰ (it never happens, but the same rule gives the same
        // candidate).
        let rem = rem_u64(&bytes, SMALL_PRIMES_PRODUCT);
        'next: for delta in (0..1u64 << 20).step_by(2) {
            let m = rem + delta;
            for prime in SMALL_PRIMES {
                if m % prime == 0 && (bit_size > 6 || m != prime) {
                    continue 'next;
                }
            }
            if delta > 0 {
                p += BigUint::from(delta);
            }
            break;
        }
        if p.bits() == bit_size && is_probable_prime(&p, &trial) {
            return p;
        }
    }
}

/// Whether an odd `p` above the trial-division bound is (very probably)
/// prime: trial division, then Miller–Rabin to [`WITNESSES`].
fn is_probable_prime(p: &BigUint, trial: &TrialDivision) -> bool {
    let bytes = p.to_bytes_be();
    if trial.finds_a_factor(&bytes) {
        return false;
    }
    Modulus::new(p).is_strong_probable_prime(&WITNESSES)
}

/// The remainder of a big-endian number modulo `m`.
fn rem_u64(be_bytes: &[u8], m: u64) -> u64 {
    let m = u128::from(m);
    let mut r: u128 = 0;
    for chunk in be_bytes.rchunks(4).rev() {
        let mut word = 0u128;
        for &byte in chunk {
            word = (word << 8) | u128::from(byte);
        }
        r = ((r << (8 * chunk.len())) | word) % m;
    }
    r as u64
}

/// The odd primes below [`TRIAL_DIVISION_BOUND`], in groups whose product
/// fits 32 bits: one pass of word divisions over a candidate per group, then
/// a small remainder per prime.
struct TrialDivision {
    groups: Vec<(u64, Vec<u32>)>,
}

impl TrialDivision {
    fn new() -> Self {
        let bound = TRIAL_DIVISION_BOUND as usize;
        let mut composite = vec![false; bound];
        let mut groups: Vec<(u64, Vec<u32>)> = Vec::new();
        for i in 3..bound {
            if composite[i] {
                continue;
            }
            for multiple in (i * i..bound).step_by(i) {
                composite[multiple] = true;
            }
            if i % 2 == 0 {
                continue;
            }
            let prime = i as u32;
            match groups.last_mut() {
                Some((product, primes)) if *product * u64::from(prime) <= u64::from(u32::MAX) => {
                    *product *= u64::from(prime);
                    primes.push(prime);
                }
                _ => groups.push((u64::from(prime), vec![prime])),
            }
        }
        TrialDivision { groups }
    }

    /// Whether one of the primes divides the big-endian number (which is
    /// larger than all of them).
    fn finds_a_factor(&self, be_bytes: &[u8]) -> bool {
        let words: Vec<u64> = be_bytes
            .rchunks(4)
            .rev()
            .map(|chunk| chunk.iter().fold(0u64, |w, &b| (w << 8) | u64::from(b)))
            .collect();
        self.groups.iter().any(|(product, primes)| {
            let r = words.iter().fold(0u64, |r, &w| ((r << 32) | w) % product);
            primes.iter().any(|&prime| r % u64::from(prime) == 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn trial_division_groups_every_odd_prime_below_the_bound() {
        let trial = TrialDivision::new();
        let primes: Vec<u32> = trial.groups.iter().flat_map(|(_, p)| p.clone()).collect();
        // π(4096) = 564 primes, less the prime 2.
        assert_eq!(primes.len(), 563);
        assert_eq!(primes.first(), Some(&3));
        assert_eq!(primes.last(), Some(&4093));
        for (product, members) in &trial.groups {
            assert_eq!(
                *product,
                members.iter().map(|&p| u64::from(p)).product::<u64>()
            );
            assert!(*product <= u64::from(u32::MAX));
        }
    }

    #[test]
    fn trial_division_finds_small_factors_of_large_numbers() {
        let trial = TrialDivision::new();
        let big = BigUint::from(1u32) << 600;
        let with_factor = &big * BigUint::from(4093u32) + BigUint::from(4093u32 * 17);
        assert!(trial.finds_a_factor(&with_factor.to_bytes_be()));
        // 2^607 - 1 is a Mersenne prime.
        let mersenne = (BigUint::from(1u32) << 607) - BigUint::from(1u32);
        assert!(!trial.finds_a_factor(&mersenne.to_bytes_be()));
        assert!(is_probable_prime(&mersenne, &trial));
        // 2^601 - 1 is not prime (3607 divides it: above the bound, so
        // Miller–Rabin has to find it).
        let composite = (BigUint::from(1u32) << 601) - BigUint::from(1u32);
        assert!(!is_probable_prime(&composite, &trial));
    }

    #[test]
    fn remainders_match_big_integer_arithmetic() {
        let x = (BigUint::from(0xDEAD_BEEFu32) << 901) + BigUint::from(12_345u32);
        let expected = &x % BigUint::from(SMALL_PRIMES_PRODUCT);
        assert_eq!(
            BigUint::from(rem_u64(&x.to_bytes_be(), SMALL_PRIMES_PRODUCT)),
            expected
        );
    }
}
