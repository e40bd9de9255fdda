//! Authorization values.

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Malformed, MalformedKind, Result};

/// An authorization value (`authValue`; TPM 2.0 Part 1, "Authorizations"): the secret a
/// password session presents for an entity. At most 32 bytes (the size of a
/// SHA-256 digest, this TPM's name algorithm).
///
/// See the crate documentation for how a PIN becomes one.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthValue(Vec<u8>);

impl AuthValue {
    /// The largest authValue an object with a SHA-256 name accepts.
    pub const MAX: usize = 32;

    /// An authValue of `bytes`; fails if longer than [`AuthValue::MAX`].
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self> {
        let bytes = bytes.into();
        if bytes.len() > Self::MAX {
            return Err(Error::Malformed(Malformed::new(
                0,
                MalformedKind::Size,
                "authValue",
            )));
        }
        Ok(AuthValue(bytes))
    }

    /// The empty authValue (the Empty Auth of a fresh object or hierarchy).
    pub fn empty() -> Self {
        AuthValue(Vec::new())
    }

    /// The authValue this crate derives from a PIN: SHA-256 of the PIN's
    /// UTF-16LE code units, without a terminator. An approximation: how
    /// Windows derives the value it binds to a key is not public.
    pub fn from_pin(pin: &str) -> Self {
        let mut h = Sha256::new();
        for unit in pin.encode_utf16() {
            h.update(unit.to_le_bytes());
        }
        AuthValue(h.finalize().to_vec())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether this is the empty authValue.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same length, all zero: what the exchange recorder shows instead.
    pub(crate) fn redacted(&self) -> Self {
        AuthValue(vec![0; self.0.len()])
    }
}

impl fmt::Debug for AuthValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthValue({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn pin_is_hashed_as_utf16le() {
        // SHA-256 of "1\0" "2\0" "3\0" "4\0".
        let expected = Sha256::digest([b'1', 0, b'2', 0, b'3', 0, b'4', 0]);
        assert_eq!(AuthValue::from_pin("1234").as_bytes(), expected.as_slice());
        assert_eq!(
            format!("{:?}", AuthValue::from_pin("1234")),
            "AuthValue(32 bytes)"
        );
        assert!(AuthValue::new(vec![0; 33]).is_err());
    }
}
