//! The root of all randomness in a run: the seed, the independent stream it
//! gives each purpose (`Seed::rng("azure-ad/token-signing")`), and the
//! infrastructure keys made from those streams on first use. A key is the
//! same whichever order keys are made in, and in whichever worker.

use crate::error::{Error, Result};
use crate::formats::key_credential_link::Guid;
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

/// Infrastructure keys, each generated on first use from its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyPurpose {
    AzureAdTokenSigning,
    AdFsTokenSigning,
    EnterpriseRootCa,
    EnrollmentAgent,
    /// A key of an attacker's own, which no party trusts: what an edit
    /// "signed by an attacker" uses. Not part of [`KeyPurpose::ALL`], the
    /// keys the flows need.
    Attacker,
}

impl KeyPurpose {
    pub const ALL: [KeyPurpose; 4] = [
        KeyPurpose::AzureAdTokenSigning,
        KeyPurpose::AdFsTokenSigning,
        KeyPurpose::EnterpriseRootCa,
        KeyPurpose::EnrollmentAgent,
    ];

    fn label(self) -> &'static str {
        match self {
            KeyPurpose::AzureAdTokenSigning => "azure-ad/token-signing",
            KeyPurpose::AdFsTokenSigning => "adfs/token-signing",
            KeyPurpose::EnterpriseRootCa => "pki/root-ca",
            KeyPurpose::EnrollmentAgent => "pki/enrollment-agent",
            KeyPurpose::Attacker => "attacker/signing-key",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            KeyPurpose::AzureAdTokenSigning => "Azure AD token-signing key (RSA-2048)",
            KeyPurpose::AdFsTokenSigning => "AD FS token-signing key (RSA-2048)",
            KeyPurpose::EnterpriseRootCa => "Enterprise root CA key (RSA-2048)",
            KeyPurpose::EnrollmentAgent => "AD FS enrollment agent key (RSA-2048)",
            KeyPurpose::Attacker => "an attacker's own key (RSA-2048)",
        }
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

    /// The key for `purpose`, generating it the first time (≈0.2 s natively, ≈1 s in wasm).
    pub fn key(&mut self, purpose: KeyPurpose) -> Result<&RsaPrivateKey> {
        if !self.keys.contains_key(&purpose) {
            let mut rng = self.seed.rng(purpose.label());
            let key = RsaPrivateKey::new(&mut rng, 2048).map_err(|e| {
                Error::Crypto(format!("generating the {}: {e}", purpose.description()))
            })?;
            self.keys.insert(purpose, key);
        }
        self.keys
            .get(&purpose)
            .ok_or_else(|| Error::Crypto(format!("the {} was not kept", purpose.description())))
    }

    /// Whether a key has been generated yet.
    pub fn has(&self, purpose: KeyPurpose) -> bool {
        self.keys.contains_key(&purpose)
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
}
