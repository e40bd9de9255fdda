//! RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2): "RS256" in JOSE
//! (RFC 7518 §3.3), `sha256WithRSAEncryption` in X.509 and PKCS#10
//! (RFC 4055 §5), what the TPM's RSASSA scheme signs. The one signer and
//! verifier of the engine: every token, request, certificate, receipt and
//! attestation goes through these two functions. Signing is deterministic,
//! so the same key and message give the same bytes.

use crate::error::{Error, Result};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use signature::{SignatureEncoding, Signer, Verifier};

/// The signature of `message` (RFC 8017 §8.2.1).
pub fn sign(key: &RsaPrivateKey, message: &[u8]) -> Result<Vec<u8>> {
    SigningKey::<Sha256>::new(key.clone())
        .try_sign(message)
        .map(|s| s.to_vec())
        .map_err(|e| Error::Crypto(format!("RSASSA-PKCS1-v1_5 SHA-256 signing failed: {e}")))
}

/// Whether `signature` is `key`'s signature of `message` (RFC 8017 §8.2.2);
/// the reason says why not.
pub fn verify(
    key: &RsaPublicKey,
    message: &[u8],
    signature: &[u8],
) -> std::result::Result<(), String> {
    let signature = Signature::try_from(signature)
        .map_err(|e| format!("the signature is not an RSA signature: {e}"))?;
    VerifyingKey::<Sha256>::new(key.clone())
        .verify(message, &signature)
        .map_err(|_| "the RSASSA-PKCS1-v1_5 SHA-256 signature does not verify".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn a_signature_verifies_only_for_its_message_and_key() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let key = rsa_keygen::new(&mut rng, 1024).unwrap();
        let other = rsa_keygen::new(&mut rng, 1024).unwrap();
        let sig = sign(&key, b"message").unwrap();
        assert_eq!(sig, sign(&key, b"message").unwrap(), "deterministic");
        assert!(verify(&key.to_public_key(), b"message", &sig).is_ok());
        for (k, m, s) in [
            (&key, &b"massage"[..], &sig[..]),
            (&other, b"message", &sig),
            (&key, b"message", &sig[1..]),
        ] {
            let why = verify(&k.to_public_key(), m, s).unwrap_err();
            assert!(why.contains("does not verify"), "{why}");
        }
    }
}
