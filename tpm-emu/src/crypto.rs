//! The TPM's internal cryptography: KDFa, HMAC, and Protected Storage.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::Malformed;
use crate::marshal::Marshal;
use crate::types::tpmt::{marshal_tpm2b_sensitive, unmarshal_tpm2b_sensitive};
use crate::types::{Tpm2bDigest, Tpm2bName, Tpm2bPrivate, TpmtSensitive};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// KDFa with SHA-256 (TPM 2.0 Part 1 §11.4.10.2; SP 800-108 counter mode
/// with HMAC):
///
/// `K(i) = HMAC(key, [i]32 ‖ label ‖ 0x00 ‖ contextU ‖ contextV ‖ [bits]32)`,
/// output the first `bits` bits of `K(1) ‖ K(2) ‖ …`. The label is used with
/// its terminating zero byte, as the specification's labels are C strings.
pub(crate) fn kdfa(
    key: &[u8],
    label: &str,
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> Vec<u8> {
    let bytes = bits.div_ceil(8) as usize;
    let mut out = Vec::with_capacity(bytes + 32);
    let mut counter: u32 = 1;
    while out.len() < bytes {
        let block = hmac_sha256(
            key,
            &[
                &counter.to_be_bytes(),
                label.as_bytes(),
                &[0],
                context_u,
                context_v,
                &bits.to_be_bytes(),
            ],
        );
        out.extend_from_slice(&block);
        counter = counter.wrapping_add(1);
    }
    out.truncate(bytes);
    // A bit count that is not a multiple of 8 masks the excess high bits of
    // the first octet.
    if bits % 8 != 0 {
        if let Some(first) = out.first_mut() {
            *first &= (1u8 << (bits % 8)) - 1;
        }
    }
    out
}

/// A 32-byte KDFa output.
pub(crate) fn kdfa32(key: &[u8], label: &str, context_u: &[u8], context_v: &[u8]) -> [u8; 32] {
    let v = kdfa(key, label, context_u, context_v, 256);
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    out
}

fn aes128_cfb(key: &[u8], data: &mut [u8], encrypt: bool) {
    use aes::cipher::KeyIvInit;
    // Protected storage uses an all-zero IV: the key is unique to the object
    // (derived from its Name), so it is never reused with another plaintext
    // (TPM 2.0 Part 1, "Protected Storage": encryption of the sensitive area).
    let iv = [0u8; 16];
    let mut k = [0u8; 16];
    k.copy_from_slice(&key[..16]);
    if encrypt {
        cfb_mode::BufEncryptor::<aes::Aes128>::new(&k.into(), &iv.into()).encrypt(data);
    } else {
        cfb_mode::BufDecryptor::<aes::Aes128>::new(&k.into(), &iv.into()).decrypt(data);
    }
}

/// Wraps a sensitive area for storage outside the TPM (TPM 2.0 Part 1 §22–23,
/// "Protected Storage"):
///
/// - `symKey = KDFa(parent seedValue, "STORAGE", Name, ε, 128)`;
/// - `encSensitive = AES-128-CFB(symKey, IV = 0, TPM2B_SENSITIVE)`;
/// - `HMACkey = KDFa(parent seedValue, "INTEGRITY", ε, ε, 256)`;
/// - `outerHMAC = HMAC-SHA256(HMACkey, encSensitive ‖ Name)`;
/// - `TPM2B_PRIVATE = TPM2B_DIGEST(outerHMAC) ‖ encSensitive`.
///
/// The Name enters without its size field, as every TPM2B does in a hash.
pub(crate) fn wrap_private(
    parent_seed: &[u8],
    name: &Tpm2bName,
    sensitive: &TpmtSensitive,
) -> Tpm2bPrivate {
    let sym_key = kdfa(parent_seed, "STORAGE", name.as_bytes(), &[], 128);
    let mut enc = marshal_tpm2b_sensitive(sensitive);
    aes128_cfb(&sym_key, &mut enc, true);
    let hmac_key = kdfa(parent_seed, "INTEGRITY", &[], &[], 256);
    let outer = hmac_sha256(&hmac_key, &[&enc, name.as_bytes()]);
    let mut buf = Vec::with_capacity(2 + 32 + enc.len());
    Tpm2bDigest::new(outer.to_vec())
        .unwrap_or_default()
        .marshal(&mut buf);
    buf.extend_from_slice(&enc);
    // The largest sensitive area here (RSA: 2 + 2+32 + 2+32 + 2+128 bytes)
    // wraps to well under Tpm2bPrivate::MAX.
    Tpm2bPrivate::new(buf).unwrap_or_default()
}

/// Why a `TPM2B_PRIVATE` could not be unwrapped.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum UnwrapError {
    /// The integrity HMAC is missing or wrong: tampered, or wrapped for
    /// another parent or another public area (`TPM_RC_INTEGRITY`).
    Integrity,
    /// The decrypted bytes are not a sensitive area (`TPM_RC_SENSITIVE`).
    Sensitive(Malformed),
}

/// Checks and decrypts a `TPM2B_PRIVATE` made by [`wrap_private`].
pub(crate) fn unwrap_private(
    parent_seed: &[u8],
    name: &Tpm2bName,
    private: &Tpm2bPrivate,
) -> Result<TpmtSensitive, UnwrapError> {
    let bytes = private.as_bytes();
    if bytes.len() < 2 {
        return Err(UnwrapError::Integrity);
    }
    let hmac_len = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    if hmac_len != 32 || bytes.len() < 2 + hmac_len {
        return Err(UnwrapError::Integrity);
    }
    let (outer, enc) = bytes[2..].split_at(hmac_len);
    let hmac_key = kdfa(parent_seed, "INTEGRITY", &[], &[], 256);
    let expected = hmac_sha256(&hmac_key, &[enc, name.as_bytes()]);
    if !constant_time_eq(&expected, outer) {
        return Err(UnwrapError::Integrity);
    }
    let sym_key = kdfa(parent_seed, "STORAGE", name.as_bytes(), &[], 128);
    let mut plain = enc.to_vec();
    aes128_cfb(&sym_key, &mut plain, false);
    unmarshal_tpm2b_sensitive(&plain).map_err(UnwrapError::Sensitive)
}

/// Compares two byte strings without an early exit.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{SensitiveComposite, Tpm2bAuth, Tpm2bEccParameter};

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn kdfa_is_counter_mode_hmac() {
        // One block: HMAC(key, 00000001 ‖ "LABEL" 00 ‖ u ‖ v ‖ 00000100).
        let key = [7u8; 32];
        let expected = hmac_sha256(
            &key,
            &[&[0, 0, 0, 1], b"LABEL\0", b"u", b"v", &[0, 0, 1, 0]],
        );
        assert_eq!(kdfa(&key, "LABEL", b"u", b"v", 256), expected.to_vec());
        // Two blocks, truncated; the bit count is part of every block.
        let k = kdfa(&key, "LABEL", b"u", b"v", 320);
        assert_eq!(k.len(), 40);
        let b1 = hmac_sha256(
            &key,
            &[&[0, 0, 0, 1], b"LABEL\0", b"u", b"v", &[0, 0, 1, 64]],
        );
        assert_eq!(&k[..32], &b1);
        // Odd bit counts mask the first octet.
        assert!(kdfa(&key, "LABEL", b"", b"", 12)[0] < 0x10);
    }

    #[test]
    fn private_round_trips_and_detects_tampering() {
        let seed = [3u8; 32];
        let name = Tpm2bName::new(vec![0, 0x0B, 1, 2, 3]).unwrap();
        let s = TpmtSensitive {
            auth_value: Tpm2bAuth::new(vec![1; 32]).unwrap(),
            seed_value: Tpm2bDigest::new(vec![2; 32]).unwrap(),
            sensitive: SensitiveComposite::Ecc(Tpm2bEccParameter::new(vec![9; 32]).unwrap()),
        };
        let p = wrap_private(&seed, &name, &s);
        assert_eq!(unwrap_private(&seed, &name, &p).unwrap(), s);
        let mut bytes = p.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = Tpm2bPrivate::new(bytes).unwrap();
        assert_eq!(
            unwrap_private(&seed, &name, &tampered),
            Err(UnwrapError::Integrity)
        );
        let other = Tpm2bName::new(vec![0, 0x0B, 1, 2, 4]).unwrap();
        assert_eq!(
            unwrap_private(&seed, &other, &p),
            Err(UnwrapError::Integrity)
        );
    }
}
