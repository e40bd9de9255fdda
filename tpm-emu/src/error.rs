//! The crate's one error type.
//!
//! Each variant says who broke the rule: the TPM (it answered with an error
//! code), the bytes (a response or structure that does not parse), or the
//! caller (a value this crate cannot use).

use core::fmt;

use crate::types::ResponseCode;

/// What went wrong, and on whose side.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The TPM answered with a non-zero response code (TPM 2.0 Part 2 §6.6).
    Tpm(ResponseCode),
    /// Bytes that should hold a TPM structure, command or response do not
    /// parse: truncated, trailing bytes, a size that lies, a value out of range.
    Malformed(Malformed),
    /// The caller asked for something this crate does not do, such as the RSA
    /// public key of an ECC object.
    Unsupported(&'static str),
    /// A cryptographic library refused an operation (for example an RSA
    /// modulus that does not form a valid public key).
    Crypto(&'static str),
}

/// Result of this crate's fallible operations.
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Tpm(rc) => write!(f, "the TPM answered {rc}"),
            Error::Malformed(m) => write!(f, "malformed TPM bytes: {m}"),
            Error::Unsupported(what) => write!(f, "unsupported: {what}"),
            Error::Crypto(what) => write!(f, "cryptographic operation failed: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Malformed> for Error {
    fn from(m: Malformed) -> Self {
        Error::Malformed(m)
    }
}

/// Why bytes failed to parse, with the offset where the parser stopped.
///
/// The kinds follow the response codes a TPM's unmarshalling code returns
/// for the same fault (TPM 2.0 Part 2 §6.6.3), so the emulated device can
/// answer a bad command exactly as a TPM would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Offset in the buffer being parsed.
    pub offset: usize,
    /// What kind of fault.
    pub kind: MalformedKind,
    /// The structure or field being read, e.g. `"TPMT_PUBLIC.type"`.
    pub context: &'static str,
    /// Which command or response parameter (1-based) held the fault, if the
    /// parser was reading a parameter area.
    pub parameter: Option<u8>,
}

impl Malformed {
    pub(crate) fn new(offset: usize, kind: MalformedKind, context: &'static str) -> Self {
        Malformed {
            offset,
            kind,
            context,
            parameter: None,
        }
    }

    /// The response code a TPM returns for this fault, without any
    /// parameter number.
    pub fn response_code(&self) -> ResponseCode {
        self.kind.response_code()
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} while reading {}",
            self.kind.describe(),
            self.offset,
            self.context
        )?;
        if let Some(p) = self.parameter {
            write!(f, " (parameter {p})")?;
        }
        Ok(())
    }
}

/// The kinds of unmarshalling fault, named after the TPM response code that
/// reports each one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MalformedKind {
    /// The bytes ended early (`TPM_RC_INSUFFICIENT`).
    Insufficient,
    /// Bytes remain after a complete structure (`TPM_RC_SIZE` for a command,
    /// "too long" for a structure parsed from its own buffer).
    Trailing,
    /// A size field is too large or disagrees with its contents (`TPM_RC_SIZE`).
    Size,
    /// A value outside its type's range (`TPM_RC_VALUE`).
    Value,
    /// An unknown or unimplemented hash algorithm (`TPM_RC_HASH`).
    Hash,
    /// An unknown or unimplemented object type (`TPM_RC_TYPE`).
    Type,
    /// An unknown or unimplemented elliptic curve (`TPM_RC_CURVE`).
    Curve,
    /// An unknown or unimplemented symmetric algorithm (`TPM_RC_SYMMETRIC`).
    Symmetric,
    /// An unknown or unimplemented block cipher mode (`TPM_RC_MODE`).
    Mode,
    /// An unknown or unimplemented scheme (`TPM_RC_SCHEME`).
    Scheme,
    /// An unknown or unimplemented KDF (`TPM_RC_KDF`).
    Kdf,
    /// An unsupported key size (`TPM_RC_KEY_SIZE`).
    KeySize,
    /// Reserved attribute bits are set (`TPM_RC_RESERVED_BITS`).
    ReservedBits,
    /// A structure tag is wrong (`TPM_RC_TAG`).
    Tag,
    /// A union selector is wrong (`TPM_RC_SELECTOR`).
    Selector,
    /// A handle of the wrong type for its place (`TPM_RC_HANDLE`).
    Handle,
}

impl MalformedKind {
    /// The TPM response code for this fault.
    pub fn response_code(self) -> ResponseCode {
        match self {
            MalformedKind::Insufficient => ResponseCode::INSUFFICIENT,
            MalformedKind::Trailing | MalformedKind::Size => ResponseCode::SIZE,
            MalformedKind::Value => ResponseCode::VALUE,
            MalformedKind::Hash => ResponseCode::HASH,
            MalformedKind::Type => ResponseCode::TYPE,
            MalformedKind::Curve => ResponseCode::CURVE,
            MalformedKind::Symmetric => ResponseCode::SYMMETRIC,
            MalformedKind::Mode => ResponseCode::MODE,
            MalformedKind::Scheme => ResponseCode::SCHEME,
            MalformedKind::Kdf => ResponseCode::KDF,
            MalformedKind::KeySize => ResponseCode::KEY_SIZE,
            MalformedKind::ReservedBits => ResponseCode::RESERVED_BITS,
            MalformedKind::Tag => ResponseCode::TAG,
            MalformedKind::Selector => ResponseCode::SELECTOR,
            MalformedKind::Handle => ResponseCode::HANDLE,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            MalformedKind::Insufficient => "the bytes end early",
            MalformedKind::Trailing => "unexpected bytes after the structure",
            MalformedKind::Size => "a size field is wrong",
            MalformedKind::Value => "a value is out of range",
            MalformedKind::Hash => "unsupported hash algorithm",
            MalformedKind::Type => "unsupported object type",
            MalformedKind::Curve => "unsupported curve",
            MalformedKind::Symmetric => "unsupported symmetric algorithm",
            MalformedKind::Mode => "unsupported block cipher mode",
            MalformedKind::Scheme => "unsupported scheme",
            MalformedKind::Kdf => "unsupported key derivation function",
            MalformedKind::KeySize => "unsupported key size",
            MalformedKind::ReservedBits => "reserved bits are set",
            MalformedKind::Tag => "wrong structure tag",
            MalformedKind::Selector => "wrong union selector",
            MalformedKind::Handle => "a handle of the wrong type",
        }
    }
}
