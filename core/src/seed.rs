//! The root of all randomness in a run: the seed, the independent stream it
//! gives each purpose (`Seed::rng("azure-ad/token-signing")`), and the
//! infrastructure keys made from those streams when the run asks for them. A key is the
//! same whichever order keys are made in, and in whichever worker.

use crate::error::{Error, Result};
use crate::formats::key_credential_link::Guid;
pub use crate::purpose::KeyPurpose;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::RsaPrivateKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The root of all randomness in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seed(pub [u8; 32]);

impl Seed {
    /// A seed from any text a person can put in a URL (`demo`, `42`, …).
    pub fn from_text(text: &str) -> Seed {
        let mut h = Sha256::new();
        h.update(b"whfb-flow-explorer seed v1\0");
        h.update(text.as_bytes());
        Seed(h.finalize().into())
    }

    /// An independent, reproducible random stream for one purpose.
    pub fn rng(&self, purpose: &str) -> ChaCha20Rng {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(purpose.as_bytes());
        ChaCha20Rng::from_seed(h.finalize().into())
    }

    /// `N` reproducible bytes for one purpose.
    pub fn bytes<const N: usize>(&self, purpose: &str) -> [u8; N] {
        let mut out = [0u8; N];
        self.rng(purpose).fill_bytes(&mut out);
        out
    }

    /// A reproducible GUID (version 4 layout) for one purpose.
    pub fn guid(&self, purpose: &str) -> Guid {
        let mut b: [u8; 16] = self.bytes(purpose);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        Guid::from_rfc4122_bytes(b)
    }
}

/// The world's RSA keys, generated lazily and reproducibly.
#[derive(Clone, Debug)]
pub struct KeyVault {
    seed: Seed,
    keys: BTreeMap<KeyPurpose, RsaPrivateKey>,
}

impl KeyVault {
    pub fn new(seed: Seed) -> Self {
        KeyVault {
            seed,
            keys: BTreeMap::new(),
        }
    }

    /// The key for `purpose`, or [`Error::NeedsKey`] when it is not made
    /// yet: the vault never makes a key on its own. Whoever drives the run
    /// makes it ([`KeyVault::make`], or [`make_key`] in another worker and
    /// [`KeyVault::insert`]) and asks again.
    pub fn key(&self, purpose: KeyPurpose) -> Result<&RsaPrivateKey> {
        self.keys.get(&purpose).ok_or(Error::NeedsKey(purpose))
    }

    /// Makes the key for `purpose` unless the vault has it (about 0.1 s
    /// natively with `rsa_keygen`).
    pub fn make(&mut self, purpose: KeyPurpose) -> Result<()> {
        if !self.has(purpose) {
            let key = make_key(&self.seed, purpose)?;
            self.keys.insert(purpose, key);
        }
        Ok(())
    }

    /// Puts in a key made elsewhere from the same seed with [`make_key`].
    pub fn insert(&mut self, purpose: KeyPurpose, key: RsaPrivateKey) {
        self.keys.insert(purpose, key);
    }

    /// Puts in a key another worker made from this vault's seed and sent
    /// as its primes. Refused if it is for another seed, or if the primes
    /// do not make an RSA-2048 key.
    pub fn insert_made(&mut self, made: MadeKey) -> Result<()> {
        if made.seed != self.seed {
            return Err(Error::Usage(format!(
                "the {} that arrived was made from another seed",
                made.purpose.description()
            )));
        }
        let purpose = made.purpose;
        let key = made.into_key()?;
        self.keys.insert(purpose, key);
        Ok(())
    }

    /// Whether a key has been made yet.
    pub fn has(&self, purpose: KeyPurpose) -> bool {
        self.keys.contains_key(&purpose)
    }

    /// The seed the vault's keys come from.
    pub fn seed(&self) -> Seed {
        self.seed
    }
}

/// The key for `purpose` that `seed` gives: RSA-2048 from the purpose's own
/// stream, so the same whoever makes it, wherever and in whichever order.
/// `rsa_keygen` gives the key rsa's `RsaPrivateKey::new` would, faster.
pub fn make_key(seed: &Seed, purpose: KeyPurpose) -> Result<RsaPrivateKey> {
    let mut rng = seed.rng(purpose.label());
    rsa_keygen::new(&mut rng, 2048)
        .map_err(|e| Error::Crypto(format!("generating the {}: {e}", purpose.description())))
}

/// An infrastructure key made in another worker, as it crosses to the
/// engine: which seed and purpose it is for, and its two primes
/// (big-endian). The primes are all there is to an RSA key with e = 65537:
/// the modulus and the private exponent follow from them by the same rule
/// rsa's key generation uses (d = e⁻¹ mod φ(n)), so the rebuilt key is the
/// very key [`make_key`] gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MadeKey {
    pub seed: Seed,
    pub purpose: KeyPurpose,
    #[serde(with = "whfb_model::artifact::base64_bytes")]
    pub p: Vec<u8>,
    #[serde(with = "whfb_model::artifact::base64_bytes")]
    pub q: Vec<u8>,
}

impl MadeKey {
    /// Makes the key for `purpose` from `seed` ([`make_key`]), ready to send.
    pub fn make(seed: &Seed, purpose: KeyPurpose) -> Result<MadeKey> {
        use rsa::traits::PrivateKeyParts;
        let key = make_key(seed, purpose)?;
        let [p, q] = key.primes() else {
            return Err(Error::Crypto(format!(
                "the {} has {} primes, not two",
                purpose.description(),
                key.primes().len()
            )));
        };
        Ok(MadeKey {
            seed: *seed,
            purpose,
            p: p.to_bytes_be(),
            q: q.to_bytes_be(),
        })
    }

    /// The key again, from its primes.
    pub fn into_key(self) -> Result<RsaPrivateKey> {
        let primes = vec![
            rsa::BigUint::from_bytes_be(&self.p),
            rsa::BigUint::from_bytes_be(&self.q),
        ];
        // Both primes of an RSA-2048 key from `make_key` have exactly 1024
        // bits (its generator sets the top two bits of each).
        if primes.iter().any(|p| p.bits() != 1024) {
            return Err(Error::Crypto(format!(
                "the {} that arrived is not an RSA-2048 key",
                self.purpose.description()
            )));
        }
        RsaPrivateKey::from_primes(primes, rsa::BigUint::from(65_537u32)).map_err(|e| {
            Error::Crypto(format!(
                "rebuilding the {}: {e}",
                self.purpose.description()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_reproducible_and_purposes_independent() {
        let a = Seed::from_text("demo");
        assert_eq!(a, Seed::from_text("demo"));
        assert_ne!(a, Seed::from_text("demo2"));
        assert_eq!(a.bytes::<16>("x"), a.bytes::<16>("x"));
        assert_ne!(a.bytes::<16>("x"), a.bytes::<16>("y"));
    }

    #[test]
    fn a_key_made_elsewhere_is_the_same_key_and_only_for_its_seed() {
        let seed = Seed::from_text("demo");
        let purpose = KeyPurpose::EnrollmentAgent;
        let made = MadeKey::make(&seed, purpose).unwrap();
        let json = serde_json::to_string(&made).unwrap();
        let back: MadeKey = serde_json::from_str(&json).unwrap();
        let mut vault = KeyVault::new(seed);
        vault.insert_made(back).unwrap();
        assert_eq!(
            vault.key(purpose).unwrap(),
            &make_key(&seed, purpose).unwrap()
        );

        let mut other = KeyVault::new(Seed::from_text("other"));
        let err = other.insert_made(made.clone()).unwrap_err().to_string();
        assert!(err.contains("another seed"), "{err}");
        let broken = MadeKey { q: vec![7], ..made };
        assert!(KeyVault::new(seed).insert_made(broken).is_err());
    }
}
