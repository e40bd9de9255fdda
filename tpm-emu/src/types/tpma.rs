//! Attribute bit fields, `TPMA_*` (TPM 2.0 Part 2 §8 and §13.4).

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Malformed, MalformedKind};
use crate::marshal::{Describe, Marshal, Reader, Unmarshal};

/// Generates a bit-field newtype: named bits, reserved-bit checking on
/// unmarshal, and a `Display` that lists the set bits by name.
macro_rules! attributes {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty), $spec:literal, $width:literal, reserved = $reserved:expr,
        { $( $(#[$bmeta:meta])* $bit:ident = $value:expr => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$bmeta])* pub const $bit: $name = $name($value); )*

            /// Bits the specification reserves; they must be zero.
            pub const RESERVED: $int = $reserved;

            /// Whether every bit of `other` is set in `self`.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }

            /// The names of the set bits, in bit order.
            pub fn names(self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if self.0 & $value != 0 { out.push($text); } )*
                out
            }
        }

        impl core::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!("0x{:0", $width, "X}"), self.0)?;
                let names = self.names();
                if !names.is_empty() {
                    write!(f, " ({})", names.join(" | "))?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                self.0.marshal(out);
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
                let start = r.position();
                let value = <$int>::unmarshal(r)?;
                if value & $reserved != 0 {
                    return Err(Malformed { offset: start, ..r.error(MalformedKind::ReservedBits) });
                }
                Ok($name(value))
            }
        }

        impl Describe for $name {
            const SPEC: &'static str = $spec;
            fn describe_value(&self) -> String {
                self.to_string()
            }
        }
    };
}

attributes! {
    /// `TPMA_OBJECT` (TPM 2.0 Part 2 §8.3): how an object may be used and
    /// where it may go.
    TpmaObject(u32), "TPM 2.0 Part 2 §8.3", "8", reserved = 0xFFF0_F309,
    {
        /// The object cannot be duplicated to another TPM.
        FIXED_TPM = 0x0000_0002 => "fixedTPM",
        /// Saved contexts of the object cannot be loaded after a TPM Reset.
        ST_CLEAR = 0x0000_0004 => "stClear",
        /// The parent of the object cannot change.
        FIXED_PARENT = 0x0000_0010 => "fixedParent",
        /// The TPM generated the sensitive data (the private key).
        SENSITIVE_DATA_ORIGIN = 0x0000_0020 => "sensitiveDataOrigin",
        /// USER role actions may be authorized with the authValue.
        USER_WITH_AUTH = 0x0000_0040 => "userWithAuth",
        /// ADMIN role actions need a policy session.
        ADMIN_WITH_POLICY = 0x0000_0080 => "adminWithPolicy",
        /// The object is exempt from dictionary-attack protection.
        NO_DA = 0x0000_0400 => "noDA",
        /// Duplication needs an inner wrapper.
        ENCRYPTED_DUPLICATION = 0x0000_0800 => "encryptedDuplication",
        /// Key usage is restricted to TPM-generated structures (signing) or
        /// to protecting children (decrypt).
        RESTRICTED = 0x0001_0000 => "restricted",
        /// The private key may decrypt.
        DECRYPT = 0x0002_0000 => "decrypt",
        /// The private key may sign.
        SIGN = 0x0004_0000 => "sign",
        /// The key may only sign X.509 certificates (TPM2_CertifyX509).
        X509_SIGN = 0x0008_0000 => "x509sign",
    }
}

attributes! {
    /// `TPMA_SESSION` (TPM 2.0 Part 2 §8.4): how a session is used in one
    /// command.
    TpmaSession(u8), "TPM 2.0 Part 2 §8.4", "2", reserved = 0x18,
    {
        /// Keep the session open after the command.
        CONTINUE_SESSION = 0x01 => "continueSession",
        /// Audit only if this is the exclusive audit session.
        AUDIT_EXCLUSIVE = 0x02 => "auditExclusive",
        /// Reset the audit digest.
        AUDIT_RESET = 0x04 => "auditReset",
        /// The first command parameter is encrypted.
        DECRYPT = 0x20 => "decrypt",
        /// The first response parameter is encrypted.
        ENCRYPT = 0x40 => "encrypt",
        /// The session audits the command.
        AUDIT = 0x80 => "audit",
    }
}

attributes! {
    /// `TPMA_NV` (TPM 2.0 Part 2 §13.4): access rules of an NV index. Bits
    /// 4–7 hold `TPM_NT`, the index type (0 = ordinary).
    TpmaNv(u32), "TPM 2.0 Part 2 §13.4", "8", reserved = 0x01F0_0300,
    {
        /// Platform authorization may write.
        PPWRITE = 0x0000_0001 => "PPWRITE",
        /// Owner authorization may write.
        OWNERWRITE = 0x0000_0002 => "OWNERWRITE",
        /// The index's authValue may authorize writes.
        AUTHWRITE = 0x0000_0004 => "AUTHWRITE",
        /// The index's policy may authorize writes.
        POLICYWRITE = 0x0000_0008 => "POLICYWRITE",
        /// Deletion needs the index's policy.
        POLICY_DELETE = 0x0000_0400 => "POLICY_DELETE",
        /// Writes are locked.
        WRITELOCKED = 0x0000_0800 => "WRITELOCKED",
        /// A partial write is not allowed.
        WRITEALL = 0x0000_1000 => "WRITEALL",
        /// TPM2_NV_WriteLock may lock writes permanently.
        WRITEDEFINE = 0x0000_2000 => "WRITEDEFINE",
        /// TPM2_NV_WriteLock may lock writes until the next Startup(CLEAR).
        WRITE_STCLEAR = 0x0000_4000 => "WRITE_STCLEAR",
        /// TPM2_NV_GlobalWriteLock locks writes.
        GLOBALLOCK = 0x0000_8000 => "GLOBALLOCK",
        /// Platform authorization may read.
        PPREAD = 0x0001_0000 => "PPREAD",
        /// Owner authorization may read.
        OWNERREAD = 0x0002_0000 => "OWNERREAD",
        /// The index's authValue may authorize reads.
        AUTHREAD = 0x0004_0000 => "AUTHREAD",
        /// The index's policy may authorize reads.
        POLICYREAD = 0x0008_0000 => "POLICYREAD",
        /// Exempt from dictionary-attack protection.
        NO_DA = 0x0200_0000 => "NO_DA",
        /// Updates may be held in RAM until an orderly shutdown.
        ORDERLY = 0x0400_0000 => "ORDERLY",
        /// WRITTEN is cleared by Startup(CLEAR).
        CLEAR_STCLEAR = 0x0800_0000 => "CLEAR_STCLEAR",
        /// Reads are locked.
        READLOCKED = 0x1000_0000 => "READLOCKED",
        /// The index has been written.
        WRITTEN = 0x2000_0000 => "WRITTEN",
        /// Defined with platform authorization (belongs to the platform).
        PLATFORMCREATE = 0x4000_0000 => "PLATFORMCREATE",
        /// TPM2_NV_ReadLock may lock reads until the next Startup(CLEAR).
        READ_STCLEAR = 0x8000_0000 => "READ_STCLEAR",
    }
}

attributes! {
    /// `TPMA_LOCALITY` (TPM 2.0 Part 2 §8.5).
    TpmaLocality(u8), "TPM 2.0 Part 2 §8.5", "2", reserved = 0x00,
    {
        /// Locality 0.
        LOC_ZERO = 0x01 => "TPM_LOC_ZERO",
        /// Locality 1.
        LOC_ONE = 0x02 => "TPM_LOC_ONE",
        /// Locality 2.
        LOC_TWO = 0x04 => "TPM_LOC_TWO",
        /// Locality 3.
        LOC_THREE = 0x08 => "TPM_LOC_THREE",
        /// Locality 4.
        LOC_FOUR = 0x10 => "TPM_LOC_FOUR",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn user_key_attributes_read_as_in_the_spec() {
        let a = TpmaObject::FIXED_TPM
            | TpmaObject::FIXED_PARENT
            | TpmaObject::SENSITIVE_DATA_ORIGIN
            | TpmaObject::USER_WITH_AUTH
            | TpmaObject::SIGN;
        assert_eq!(a.0, 0x0004_0072);
        assert_eq!(
            a.to_string(),
            "0x00040072 (fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign)"
        );
        assert_eq!(TpmaObject::from_bytes(&a.to_bytes()), Ok(a));
    }

    #[test]
    fn reserved_bits_are_refused() {
        let err = TpmaObject::from_bytes(&[0, 0, 0, 1]).unwrap_err();
        assert!(matches!(
            err,
            crate::Error::Malformed(Malformed {
                kind: MalformedKind::ReservedBits,
                ..
            })
        ));
        assert!(TpmaSession::from_bytes(&[0x08]).is_err());
    }
}
