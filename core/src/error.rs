//! The one error type of the core.

use crate::purpose::KeyPurpose;
use std::fmt;

/// What went wrong, and whose rule was broken.
///
/// A failed protocol check is not an error: it is a [`crate::artifact::Outcome`]
/// recorded in the trace. Errors are for input that cannot be read at all, for
/// a caller asking for something impossible, and for refused cryptography.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Input bytes or text could not be parsed: `what` was being read, `reason` says why.
    Malformed { what: &'static str, reason: String },
    /// The input parsed but breaks a rule of its format or protocol
    /// (a signature that does not verify, a hash that does not match).
    Invalid { what: &'static str, reason: String },
    /// The TPM refused a command or answered with something unreadable:
    /// what the caller was doing, and the TPM's own error (its `source()`).
    Tpm {
        doing: String,
        source: tpm_emu::Error,
    },
    /// A cryptographic library refused an operation (key generation, signing).
    Crypto(String),
    /// The caller asked for something this engine cannot do
    /// (an unknown flow, a step past the end, a bad option).
    Usage(String),
    /// Output would break a size limit of the format being written: `what`
    /// names the value and its size, `limit` the rule (a file or a name too
    /// large for a ZIP archive without ZIP64).
    TooLarge { what: String, limit: String },
    /// A step needs an infrastructure key that is not made yet: nothing
    /// ran. The caller makes it and runs the step again (see
    /// `Run::advance`).
    NeedsKey(KeyPurpose),
}

/// The core's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A parse failure.
    pub fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what,
            reason: reason.into(),
        }
    }

    /// A broken rule.
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed { what, reason } => write!(f, "malformed {what}: {reason}"),
            Error::Invalid { what, reason } => write!(f, "invalid {what}: {reason}"),
            Error::Tpm { doing, source } => write!(f, "TPM: {doing}: {source}"),
            Error::Crypto(message) => write!(f, "cryptography: {message}"),
            Error::Usage(message) => f.write_str(message),
            Error::TooLarge { what, limit } => write!(f, "{what} is too large: {limit}"),
            Error::NeedsKey(purpose) => {
                write!(
                    f,
                    "needs the {}, which is not made yet",
                    purpose.description()
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tpm { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Error {
    /// A TPM failure while `doing` something.
    pub fn tpm(doing: impl Into<String>) -> impl FnOnce(tpm_emu::Error) -> Error {
        let doing = doing.into();
        move |source| Error::Tpm { doing, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn a_tpm_error_names_what_was_done_and_keeps_the_tpm_s_error_as_its_source() {
        let tpm = tpm_emu::Error::Unsupported("the RSA public key of an ECC object");
        let e = Error::tpm("reading the AIK")(tpm.clone());
        assert_eq!(
            e.to_string(),
            "TPM: reading the AIK: unsupported: the RSA public key of an ECC object"
        );
        let source = e.source().expect("a source");
        assert_eq!(source.to_string(), tpm.to_string());
        assert!(Error::Usage("x".into()).source().is_none());
    }
}
