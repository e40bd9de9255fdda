//! JWE compact serialisation (RFC 7516 §7.1) with `RSA-OAEP` and `A256GCM`
//! (RFC 7518 §4.3, §5.3): what Entra ID sends a device's session key in
//! (MS-OAPXBC 3.2.5.1.2.2, `session_key_jwe`: "the relevant part of the JWE
//! is the encrypted key section"). The RSA-OAEP part is done by whoever
//! holds the keys (Entra ID encrypts, the TPM decrypts); this module frames
//! the five parts and does AES-256-GCM (NIST SP 800-38D) on the content.

use crate::error::{Error, Result};
use crate::formats::encoding::{b64url, b64url_decode};
use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes256;

const WHAT: &str = "JWE";

/// A JWE in its five parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwe {
    /// The protected header, as the base64url text that travels (it is the
    /// AES-GCM additional authenticated data).
    pub protected: String,
    pub encrypted_key: Vec<u8>,
    pub iv: [u8; 12],
    pub ciphertext: Vec<u8>,
    pub tag: [u8; 16],
}

impl Jwe {
    /// `header.encrypted_key.iv.ciphertext.tag`, each part base64url.
    pub fn to_compact(&self) -> String {
        format!(
            "{}.{}.{}.{}.{}",
            self.protected,
            b64url(&self.encrypted_key),
            b64url(&self.iv),
            b64url(&self.ciphertext),
            b64url(&self.tag)
        )
    }

    /// Reads the compact form; says which part is wrong.
    pub fn parse(text: &str) -> Result<Jwe> {
        let parts: Vec<&str> = text.trim().split('.').collect();
        if parts.len() != 5 {
            return Err(Error::malformed(
                WHAT,
                format!("{} parts, not the five of RFC 7516 §7.1", parts.len()),
            ));
        }
        let part = |i: usize, name: &str| {
            b64url_decode(parts[i])
                .map_err(|e| Error::malformed(WHAT, format!("the {name} is not base64url: {e}")))
        };
        let header = part(0, "protected header")?;
        serde_json::from_slice::<serde_json::Value>(&header).map_err(|e| {
            Error::malformed(WHAT, format!("the protected header is not JSON: {e}"))
        })?;
        let iv: [u8; 12] = part(2, "initialization vector")?
            .try_into()
            .map_err(|_| Error::malformed(WHAT, "the initialization vector is not 96 bits"))?;
        let tag: [u8; 16] = part(4, "authentication tag")?
            .try_into()
            .map_err(|_| Error::malformed(WHAT, "the authentication tag is not 128 bits"))?;
        Ok(Jwe {
            protected: parts[0].to_string(),
            encrypted_key: part(1, "encrypted key")?,
            iv,
            ciphertext: part(3, "ciphertext")?,
            tag,
        })
    }

    /// The protected header's members.
    pub fn header(&self) -> Result<serde_json::Value> {
        let bytes = b64url_decode(&self.protected)
            .map_err(|e| Error::malformed(WHAT, format!("the protected header: {e}")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::malformed(WHAT, format!("the protected header: {e}")))
    }

    /// Seals `plaintext` under the content key `cek` (AES-256-GCM, the
    /// protected header as AAD); `encrypted_key` is `cek` encrypted to the
    /// recipient.
    pub fn seal(
        header: &serde_json::Value,
        cek: &[u8; 32],
        encrypted_key: Vec<u8>,
        iv: [u8; 12],
        plaintext: &[u8],
    ) -> Jwe {
        let protected = b64url(header.to_string().as_bytes());
        let (ciphertext, tag) = gcm_encrypt(cek, &iv, protected.as_bytes(), plaintext);
        Jwe {
            protected,
            encrypted_key,
            iv,
            ciphertext,
            tag,
        }
    }

    /// The plaintext, if `cek` is the content key (the tag verifies).
    pub fn open(&self, cek: &[u8; 32]) -> Result<Vec<u8>> {
        gcm_decrypt(
            cek,
            &self.iv,
            self.protected.as_bytes(),
            &self.ciphertext,
            &self.tag,
        )
    }
}

/// AES-256-GCM encryption with a 96-bit IV (SP 800-38D §7.1).
pub fn gcm_encrypt(
    key: &[u8; 32],
    iv: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> (Vec<u8>, [u8; 16]) {
    let aes = Aes256::new(key.into());
    let h = block(&aes, [0u8; 16]);
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    let ciphertext = ctr(&aes, j0, plaintext);
    let tag = tag(&aes, h, j0, aad, &ciphertext);
    (ciphertext, tag)
}

/// AES-256-GCM decryption; refuses when the tag does not verify.
pub fn gcm_decrypt(
    key: &[u8; 32],
    iv: &[u8; 12],
    aad: &[u8],
    ciphertext: &[u8],
    expected: &[u8; 16],
) -> Result<Vec<u8>> {
    let aes = Aes256::new(key.into());
    let h = block(&aes, [0u8; 16]);
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(iv);
    j0[15] = 1;
    let computed = tag(&aes, h, j0, aad, ciphertext);
    let same = computed
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    if !same {
        return Err(Error::invalid(
            WHAT,
            "the authentication tag does not verify: another key, or the content was changed",
        ));
    }
    Ok(ctr(&aes, j0, ciphertext))
}

fn block(aes: &Aes256, input: [u8; 16]) -> [u8; 16] {
    let mut b = input.into();
    aes.encrypt_block(&mut b);
    b.into()
}

/// GCTR from inc32(J0) (SP 800-38D §6.5).
fn ctr(aes: &Aes256, j0: [u8; 16], data: &[u8]) -> Vec<u8> {
    let mut counter = j0;
    let mut out = Vec::with_capacity(data.len());
    for chunk in data.chunks(16) {
        let n = u32::from_be_bytes([counter[12], counter[13], counter[14], counter[15]]);
        counter[12..].copy_from_slice(&n.wrapping_add(1).to_be_bytes());
        let pad = block(aes, counter);
        out.extend(chunk.iter().zip(pad).map(|(c, p)| c ^ p));
    }
    out
}

/// T = E(K, J0) ⊕ GHASH_H(A ‖ 0* ‖ C ‖ 0* ‖ [len(A)]64 ‖ [len(C)]64).
fn tag(aes: &Aes256, h: [u8; 16], j0: [u8; 16], aad: &[u8], ciphertext: &[u8]) -> [u8; 16] {
    let h = u128::from_be_bytes(h);
    let mut y = 0u128;
    for data in [aad, ciphertext] {
        for chunk in data.chunks(16) {
            let mut b = [0u8; 16];
            b[..chunk.len()].copy_from_slice(chunk);
            y = gf_mul(y ^ u128::from_be_bytes(b), h);
        }
    }
    let lengths = ((aad.len() as u128 * 8) << 64) | (ciphertext.len() as u128 * 8);
    y = gf_mul(y ^ lengths, h);
    (y ^ u128::from_be_bytes(block(aes, j0))).to_be_bytes()
}

/// Multiplication in GF(2^128) with GCM's bit order (SP 800-38D §6.3,
/// Algorithm 1).
fn gf_mul(x: u128, y: u128) -> u128 {
    const R: u128 = 0xE1 << 120;
    let mut z = 0u128;
    let mut v = y;
    for i in 0..128 {
        if (x >> (127 - i)) & 1 == 1 {
            z ^= v;
        }
        v = if v & 1 == 1 { (v >> 1) ^ R } else { v >> 1 };
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn aes_256_gcm_matches_the_reference_vectors() {
        // The GCM specification's test case 13: all-zero key and IV, nothing.
        let (c, t) = gcm_encrypt(&[0; 32], &[0; 12], &[], &[]);
        assert!(c.is_empty());
        assert_eq!(t.to_vec(), hex("530f8afbc74536b9a963b4f1c4cb738b"));
        // With a JOSE header as AAD, empty and non-empty content (vectors from
        // Python's `cryptography` AESGCM).
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let iv: [u8; 12] = core::array::from_fn(|i| i as u8);
        let aad = b"eyJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ";
        let (c, t) = gcm_encrypt(&key, &iv, aad, &[]);
        assert!(c.is_empty());
        assert_eq!(t.to_vec(), hex("eff2fdf97f848776dc25350bd4b6f834"));
        let plain = b"session key material, 33 bytes!!";
        let (c, t) = gcm_encrypt(&key, &iv, aad, plain);
        let both = [c.clone(), t.to_vec()].concat();
        assert_eq!(
            both,
            hex("3467a568ac8aac3be624eeabdc880c08f1bfe658dc5b6c4f18059cf1781a21936942f28f26d7888c6786025b930c1d03")
        );
        assert_eq!(gcm_decrypt(&key, &iv, aad, &c, &t).unwrap(), plain);
        let mut bad = t;
        bad[0] ^= 1;
        assert!(gcm_decrypt(&key, &iv, aad, &c, &bad).is_err());
        assert!(gcm_decrypt(&key, &iv, b"another header", &c, &t).is_err());
    }

    #[test]
    fn a_jwe_reads_back_and_says_what_is_wrong() {
        let header = serde_json::json!({ "enc": "A256GCM", "alg": "RSA-OAEP" });
        let cek = [7u8; 32];
        let jwe = Jwe::seal(&header, &cek, vec![1, 2, 3], [9; 12], b"");
        let text = jwe.to_compact();
        let back = Jwe::parse(&text).unwrap();
        assert_eq!(back, jwe);
        assert_eq!(back.header().unwrap()["alg"], "RSA-OAEP");
        assert_eq!(back.open(&cek).unwrap(), b"");
        assert!(back.open(&[8u8; 32]).is_err());
        assert!(Jwe::parse("a.b.c")
            .unwrap_err()
            .to_string()
            .contains("five"));
        let mut parts: Vec<&str> = text.split('.').collect();
        parts[2] = "AAAA";
        assert!(Jwe::parse(&parts.join("."))
            .unwrap_err()
            .to_string()
            .contains("96 bits"));
    }
}
