//! Montgomery arithmetic modulo an odd number, on machine words, for the
//! Miller–Rabin test (Handbook of Applied Cryptography §14.3.2, Algorithm
//! 14.36; the word-by-word "CIOS" interleaving of Koç, Acar and Kaliski,
//! "Analyzing and comparing Montgomery multiplication algorithms", 1996).
//!
//! Words are 64 bits where the target has a native 64×64→128 product and 32
//! bits elsewhere (WebAssembly has only a 64-bit product, which a 32×32
//! product fits).

use num_bigint_dig::BigUint;

#[cfg(target_pointer_width = "64")]
type Word = u64;
#[cfg(target_pointer_width = "64")]
type Wide = u128;
#[cfg(not(target_pointer_width = "64"))]
type Word = u32;
#[cfg(not(target_pointer_width = "64"))]
type Wide = u64;

const WORD_BITS: usize = Word::BITS as usize;

/// An odd modulus n > 1 with what Montgomery multiplication modulo it needs:
/// R = 2^(WORD_BITS·len), −n⁻¹ mod 2^WORD_BITS, and R mod n (1 in
/// Montgomery form).
#[derive(Clone, Debug)]
pub struct Modulus {
    n: Vec<Word>,
    n_big: BigUint,
    n0_inv_neg: Word,
    one: Vec<Word>,
    minus_one: Vec<Word>,
}

impl Modulus {
    /// `n` must be odd and greater than 1 (a prime candidate always is).
    pub fn new(n: &BigUint) -> Self {
        let len = n.bits().div_ceil(WORD_BITS).max(1);
        let words = to_words(n, len);
        // Newton's iteration for the inverse of n mod 2^WORD_BITS: for odd
        // x, x·x ≡ 1 (mod 8), and each step doubles the correct bits.
        let mut inv: Word = words[0];
        for _ in 0..6 {
            inv = inv.wrapping_mul((2 as Word).wrapping_sub(words[0].wrapping_mul(inv)));
        }
        let r_mod_n = (BigUint::from(1u32) << (WORD_BITS * len)) % n;
        let minus_one = n - &r_mod_n;
        Modulus {
            one: to_words(&r_mod_n, len),
            minus_one: to_words(&minus_one, len),
            n: words,
            n_big: n.clone(),
            n0_inv_neg: inv.wrapping_neg(),
        }
    }

    /// x·R mod n: `x` in Montgomery form.
    fn to_montgomery(&self, x: &BigUint) -> Vec<Word> {
        let shifted = (x % &self.n_big) << (WORD_BITS * self.n.len());
        to_words(&(shifted % &self.n_big), self.n.len())
    }

    /// a·b·R⁻¹ mod n into `out`, for a, b < n; `t` is scratch space of
    /// `len + 1` words. Each outer step adds a·b[i] and the multiple m·n
    /// that clears the low word in one pass, then drops that word ("FIOS").
    fn mul(&self, a: &[Word], b: &[Word], out: &mut [Word], t: &mut [Word]) {
        let s = self.n.len();
        // Equal lengths let the compiler drop the bounds checks below.
        let (a, b, n, t) = (&a[..s], &b[..s], &self.n[..s], &mut t[..=s]);
        t.fill(0);
        for &bi in b {
            let bi = Wide::from(bi);
            let x = Wide::from(t[0]) + Wide::from(a[0]) * bi;
            let m = Wide::from((x as Word).wrapping_mul(self.n0_inv_neg));
            // The low word of x + m·n is 0 by the choice of m.
            let y = Wide::from(x as Word) + m * Wide::from(n[0]);
            let (mut carry_ab, mut carry_mn) = (x >> WORD_BITS, y >> WORD_BITS);
            for j in 1..s {
                let x = Wide::from(t[j]) + Wide::from(a[j]) * bi + carry_ab;
                let y = Wide::from(x as Word) + m * Wide::from(n[j]) + carry_mn;
                t[j - 1] = y as Word;
                carry_ab = x >> WORD_BITS;
                carry_mn = y >> WORD_BITS;
            }
            let x = Wide::from(t[s]) + carry_ab + carry_mn;
            t[s - 1] = x as Word;
            t[s] = (x >> WORD_BITS) as Word;
        }
        // t < 2n: one subtraction at most.
        if t[s] != 0 || !less_than(&t[..s], n) {
            subtract_in_place(&mut t[..s], n);
        }
        out.copy_from_slice(&t[..s]);
    }

    /// base^exp mod n in Montgomery form, left to right with a 4-bit fixed
    /// window (HAC Algorithm 14.82).
    fn pow(&self, base: &[Word], exp: &BigUint) -> Vec<Word> {
        let s = self.n.len();
        let mut t = vec![0; s + 1];
        // table[i] = base^i
        let mut table = vec![self.one.clone()];
        for i in 1..16 {
            let mut next = vec![0; s];
            self.mul(&table[i - 1], base, &mut next, &mut t);
            table.push(next);
        }
        let exp_bytes = exp.to_bytes_be();
        let mut acc = self.one.clone();
        let mut tmp = vec![0; s];
        for byte in exp_bytes {
            for nibble in [byte >> 4, byte & 0x0f] {
                for _ in 0..4 {
                    self.mul(&acc, &acc, &mut tmp, &mut t);
                    std::mem::swap(&mut acc, &mut tmp);
                }
                if nibble != 0 {
                    self.mul(&acc, &table[usize::from(nibble)], &mut tmp, &mut t);
                    std::mem::swap(&mut acc, &mut tmp);
                }
            }
        }
        acc
    }

    /// The strong probable-prime test to each base (HAC Algorithm 4.24):
    /// with n − 1 = 2^k·q, q odd, n passes for base a if a^q ≡ 1 or
    /// a^(2^j·q) ≡ −1 for some j < k. Every prime passes to every base.
    pub fn is_strong_probable_prime(&self, bases: &[u32]) -> bool {
        let one = BigUint::from(1u32);
        let n_minus_1 = &self.n_big - &one;
        let Some(k) = n_minus_1.trailing_zeros() else {
            return false;
        };
        let q = &n_minus_1 >> k;
        let s = self.n.len();
        let mut t = vec![0; s + 1];
        let mut squared = vec![0; s];
        'bases: for &base in bases {
            let base = BigUint::from(base);
            if base >= n_minus_1 {
                continue;
            }
            let mut y = self.pow(&self.to_montgomery(&base), &q);
            if y == self.one || y == self.minus_one {
                continue;
            }
            for _ in 1..k {
                self.mul(&y, &y, &mut squared, &mut t);
                std::mem::swap(&mut y, &mut squared);
                if y == self.minus_one {
                    continue 'bases;
                }
                if y == self.one {
                    return false;
                }
            }
            return false;
        }
        true
    }
}

/// `x` (< 2^(WORD_BITS·len)) as `len` little-endian words.
fn to_words(x: &BigUint, len: usize) -> Vec<Word> {
    let bytes = x.to_bytes_le();
    let mut words = vec![0; len];
    for (word, chunk) in words.iter_mut().zip(bytes.chunks(WORD_BITS / 8)) {
        *word = chunk.iter().rev().fold(0, |w, &b| (w << 8) | Word::from(b));
    }
    words
}

fn less_than(a: &[Word], b: &[Word]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

fn subtract_in_place(a: &mut [Word], b: &[Word]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d1, b1) = x.overflowing_sub(y);
        let (d2, b2) = d1.overflowing_sub(Word::from(borrow));
        *x = d2;
        borrow = b1 || b2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn from_words(words: &[Word]) -> BigUint {
        let mut bytes = Vec::new();
        for w in words {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        BigUint::from_bytes_le(&bytes)
    }

    #[test]
    fn powers_match_big_integer_arithmetic() {
        // An odd 1000-bit modulus and a 999-bit exponent with long runs of
        // zero and one bits.
        let n = (BigUint::from(0xC0FF_EE01u32) << 968) + BigUint::from(0x1234_5677u32);
        let exp = (BigUint::from(0xF00F_0001u32) << 967) + BigUint::from(0xFFFF_FFFFu32);
        let m = Modulus::new(&n);
        for base in [2u32, 3, 0xFFFF_FFFF] {
            let base = BigUint::from(base);
            let got = m.pow(&m.to_montgomery(&base), &exp);
            // Out of Montgomery form: multiply by 1.
            let mut plain = vec![0; m.n.len()];
            let mut t = vec![0; m.n.len() + 1];
            let mut one = vec![0; m.n.len()];
            one[0] = 1;
            m.mul(&got, &one, &mut plain, &mut t);
            assert_eq!(from_words(&plain), base.modpow(&exp, &n));
        }
    }

    #[test]
    fn strong_pseudoprimes_to_base_two_are_caught_by_other_bases() {
        // 3215031751 = 151·751·28351 is a strong pseudoprime to bases 2, 3,
        // 5 and 7, but not to 11 (OEIS A014233).
        let n = BigUint::from(3_215_031_751u64);
        assert!(Modulus::new(&n).is_strong_probable_prime(&[2, 3, 5, 7]));
        assert!(!Modulus::new(&n).is_strong_probable_prime(&[2, 3, 5, 7, 11]));
        // 2047 = 23·89 is the smallest strong pseudoprime to base 2.
        assert!(Modulus::new(&BigUint::from(2047u32)).is_strong_probable_prime(&[2]));
        assert!(!Modulus::new(&BigUint::from(2047u32)).is_strong_probable_prime(&[2, 3]));
        // Primes pass to every base.
        for p in [3u64, 5, 65_537, 4_294_967_291, 18_446_744_073_709_551_557] {
            assert!(Modulus::new(&BigUint::from(p)).is_strong_probable_prime(&[2, 3, 5, 7, 11, 13]));
        }
    }
}
