//! Sized buffers, `TPM2B_*` (TPM 2.0 Part 2 §10.4 and later sections): a
//! `UINT16` size, then that many bytes. Each type has the maximum size a TPM
//! with this one's algorithms (SHA-256, RSA-2048, NIST P-256, AES-128)
//! accepts; a larger size is `TPM_RC_SIZE`, as in the reference code.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Malformed, MalformedKind, Result};
use crate::marshal::{hex, hex_summary, Describe, Marshal, Reader, Unmarshal};

macro_rules! tpm2b_bytes {
    (
        $(#[$meta:meta])*
        $vis:vis $name:ident, $spec_name:literal, $spec:literal, max = $max:expr, inner = $inner:literal,
        note = $note:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        $vis struct $name(Vec<u8>);

        #[allow(dead_code)]
        impl $name {
            /// The largest size this TPM accepts.
            pub const MAX: usize = $max;

            /// A buffer holding `bytes`; fails if longer than [`Self::MAX`].
            pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self> {
                let bytes = bytes.into();
                if bytes.len() > Self::MAX {
                    return Err(Error::Malformed(Malformed::new(0, MalformedKind::Size, $spec_name)));
                }
                Ok($name(bytes))
            }

            /// The empty buffer (size 0).
            pub fn empty() -> Self {
                $name(Vec::new())
            }

            /// The contents, without the size.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The contents, without the size.
            pub fn into_vec(self) -> Vec<u8> {
                self.0
            }

            /// The number of bytes in the buffer.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether the buffer is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), hex(&self.0))
            }
        }

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                // `new` bounds the length by MAX, which is below u16::MAX.
                (self.0.len() as u16).marshal(out);
                out.extend_from_slice(&self.0);
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
                let size = r.field_checked::<u16>("size", "number of bytes that follow", |s| {
                    (usize::from(*s) > $max).then_some(MalformedKind::Size)
                })?;
                let bytes = r.bytes_field($inner, $note, usize::from(size))?;
                Ok($name(bytes.to_vec()))
            }
        }

        impl Describe for $name {
            const SPEC: &'static str = $spec;
            fn describe_value(&self) -> String {
                hex_summary(&self.0)
            }
        }
    };
}

tpm2b_bytes! {
    /// `TPM2B_DIGEST` (TPM 2.0 Part 2 §10.4.2): a digest, at most the size of
    /// the largest implemented hash.
    pub Tpm2bDigest, "TPM2B_DIGEST", "TPM 2.0 Part 2 §10.4.2", max = 32, inner = "buffer",
    note = "the digest bytes"
}

tpm2b_bytes! {
    /// `TPM2B_DATA` (TPM 2.0 Part 2 §10.4.3): caller data such as a nonce, at
    /// most `sizeof(TPMT_HA)` (2 + 32 bytes here).
    pub Tpm2bData, "TPM2B_DATA", "TPM 2.0 Part 2 §10.4.3", max = 34, inner = "buffer",
    note = "the data bytes"
}

tpm2b_bytes! {
    /// `TPM2B_NONCE` (TPM 2.0 Part 2 §10.4.4): a session nonce.
    pub Tpm2bNonce, "TPM2B_NONCE", "TPM 2.0 Part 2 §10.4.4", max = 32, inner = "buffer",
    note = "the nonce bytes"
}

tpm2b_bytes! {
    /// `TPM2B_AUTH` (TPM 2.0 Part 2 §10.4.5): an authorization value or HMAC,
    /// at most a digest.
    pub Tpm2bAuth, "TPM2B_AUTH", "TPM 2.0 Part 2 §10.4.5", max = 32, inner = "buffer",
    note = "the authorization bytes"
}

tpm2b_bytes! {
    /// `TPM2B_MAX_BUFFER` (TPM 2.0 Part 2 §10.4.8): data to hash or encrypt.
    pub Tpm2bMaxBuffer, "TPM2B_MAX_BUFFER", "TPM 2.0 Part 2 §10.4.8", max = 1024, inner = "buffer",
    note = "the data"
}

tpm2b_bytes! {
    /// `TPM2B_MAX_NV_BUFFER` (TPM 2.0 Part 2 §10.4.9): NV data, at most
    /// `MAX_NV_BUFFER_SIZE` (1024) per command.
    pub Tpm2bMaxNvBuffer, "TPM2B_MAX_NV_BUFFER", "TPM 2.0 Part 2 §10.4.9", max = 1024, inner = "buffer",
    note = "the NV data"
}

tpm2b_bytes! {
    /// `TPM2B_NAME` (TPM 2.0 Part 2 §10.5.3): an entity's Name: a handle (4
    /// bytes) or `nameAlg` ‖ digest of the public area (2 + 32 bytes).
    pub Tpm2bName, "TPM2B_NAME", "TPM 2.0 Part 2 §10.5.3", max = 34, inner = "name",
    note = "nameAlg (2 bytes) then the digest of the public area, or a 4-byte handle"
}

impl Tpm2bName {
    /// The name algorithm, for a digest Name (not a handle Name).
    pub fn name_alg(&self) -> Option<crate::types::TpmAlgId> {
        (self.0.len() > 4)
            .then(|| crate::types::TpmAlgId(u16::from_be_bytes([self.0[0], self.0[1]])))
    }

    /// The Name of a permanent entity or NV index: its handle.
    pub fn from_handle(handle: crate::types::TpmHandle) -> Self {
        Tpm2bName(handle.0.to_be_bytes().to_vec())
    }
}

tpm2b_bytes! {
    /// `TPM2B_PUBLIC_KEY_RSA` (TPM 2.0 Part 2 §11.2.4.5): an RSA modulus or
    /// signature, at most `MAX_RSA_KEY_BYTES` (256).
    pub Tpm2bPublicKeyRsa, "TPM2B_PUBLIC_KEY_RSA", "TPM 2.0 Part 2 §11.2.4.5", max = 256, inner = "buffer",
    note = "big-endian integer"
}

tpm2b_bytes! {
    /// `TPM2B_PRIVATE_KEY_RSA` (TPM 2.0 Part 2 §11.2.4.7): one RSA prime, at
    /// most `MAX_RSA_KEY_BYTES / 2` (128). Never leaves the device.
    pub(crate) Tpm2bPrivateKeyRsa, "TPM2B_PRIVATE_KEY_RSA", "TPM 2.0 Part 2 §11.2.4.7", max = 128, inner = "buffer",
    note = "one RSA prime, big-endian"
}

tpm2b_bytes! {
    /// `TPM2B_ECC_PARAMETER` (TPM 2.0 Part 2 §11.2.5.1): a coordinate or
    /// scalar, at most `MAX_ECC_KEY_BYTES` (32).
    pub Tpm2bEccParameter, "TPM2B_ECC_PARAMETER", "TPM 2.0 Part 2 §11.2.5.1", max = 32, inner = "buffer",
    note = "big-endian integer"
}

tpm2b_bytes! {
    /// `TPM2B_SENSITIVE_DATA` (TPM 2.0 Part 2 §11.1.14): caller-provided secret
    /// data for a keyed-hash object; must be empty for an asymmetric key.
    pub Tpm2bSensitiveData, "TPM2B_SENSITIVE_DATA", "TPM 2.0 Part 2 §11.1.14", max = 128, inner = "buffer",
    note = "secret data supplied by the caller"
}

tpm2b_bytes! {
    /// `TPM2B_PRIVATE` (TPM 2.0 Part 2 §12.3.7): a wrapped sensitive area,
    /// opaque outside the TPM: `integrityHMAC` (a TPM2B_DIGEST) ‖ `encSensitive`
    /// (TPM 2.0 Part 1 §22–23, "Protected Storage").
    pub Tpm2bPrivate, "TPM2B_PRIVATE", "TPM 2.0 Part 2 §12.3.7", max = 512, inner = "buffer",
    note = "integrity HMAC (TPM2B_DIGEST) then the AES-CFB encrypted TPM2B_SENSITIVE"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn round_trip_too_short_too_long() {
        let d = Tpm2bDigest::new(vec![0xAB; 32]).unwrap();
        let bytes = d.to_bytes();
        assert_eq!(&bytes[..2], &[0x00, 0x20]);
        assert_eq!(Tpm2bDigest::from_bytes(&bytes).unwrap(), d);
        assert!(Tpm2bDigest::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(Tpm2bDigest::from_bytes(&long).is_err());
    }

    #[test]
    fn oversized_size_field_is_tpm_rc_size() {
        let mut bytes = vec![0x00, 33];
        bytes.extend_from_slice(&[0; 33]);
        match Tpm2bDigest::from_bytes(&bytes) {
            Err(Error::Malformed(m)) => assert_eq!(m.kind, MalformedKind::Size),
            other => panic!("unexpected {other:?}"),
        }
        assert!(Tpm2bDigest::new(vec![0; 33]).is_err());
    }
}

// ---- sized structures ---------------------------------------------------------

macro_rules! tpm2b_struct {
    (
        $(#[$meta:meta])*
        $name:ident($inner:ty), $spec:literal, inner = $inner_name:literal, note = $note:literal
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $name(pub $inner);

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                let body = self.0.to_bytes();
                // Every structure here marshals to far less than 64 KiB.
                (body.len() as u16).marshal(out);
                out.extend_from_slice(&body);
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
                let size = r.field_checked::<u16>(
                    "size",
                    "number of bytes in the structure that follows",
                    |s| (*s == 0).then_some(MalformedKind::Size),
                )?;
                let inner = r.sized(usize::from(size), |r| r.field::<$inner>($inner_name, $note))?;
                Ok($name(inner))
            }
        }

        impl Describe for $name {
            const SPEC: &'static str = $spec;
            fn describe_value(&self) -> String {
                self.0.describe_value()
            }
        }
    };
}

tpm2b_struct! {
    /// `TPM2B_PUBLIC` (TPM 2.0 Part 2 §12.2.5): a size-prefixed `TPMT_PUBLIC`.
    Tpm2bPublic(crate::types::TpmtPublic), "TPM 2.0 Part 2 §12.2.5",
    inner = "publicArea", note = "the object's public area"
}

tpm2b_struct! {
    /// `TPM2B_SENSITIVE_CREATE` (TPM 2.0 Part 2 §11.1.16).
    Tpm2bSensitiveCreate(crate::types::TpmsSensitiveCreate), "TPM 2.0 Part 2 §11.1.16",
    inner = "sensitive", note = "secrets for the new object"
}

tpm2b_struct! {
    /// `TPM2B_CREATION_DATA` (TPM 2.0 Part 2 §15.2).
    Tpm2bCreationData(crate::types::TpmsCreationData), "TPM 2.0 Part 2 §15.2",
    inner = "creationData", note = "how the object was created"
}

tpm2b_struct! {
    /// `TPM2B_NV_PUBLIC` (TPM 2.0 Part 2 §13.6).
    Tpm2bNvPublic(crate::types::TpmsNvPublic), "TPM 2.0 Part 2 §13.6",
    inner = "nvPublic", note = "the NV index's public area"
}

tpm2b_struct! {
    /// `TPM2B_ATTEST` (TPM 2.0 Part 2 §10.12.13): a size-prefixed
    /// `TPMS_ATTEST`, the bytes an attestation signature covers.
    Tpm2bAttest(crate::types::TpmsAttest), "TPM 2.0 Part 2 §10.12.13",
    inner = "attestationData", note = "the signed TPMS_ATTEST"
}
