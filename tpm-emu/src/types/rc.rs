//! `TPM_RC`, response codes (TPM 2.0 Part 2 §6.6).
//!
//! A response code has one of two formats (Part 2 §6.6.2, Figure 26/27):
//!
//! - format zero (bit 7 clear): `TPM_RC_VER1` (0x100) errors and, with bit 11
//!   also set, `TPM_RC_WARN` (0x900) warnings; TPM 1.2 codes such as
//!   `TPM_RC_BAD_TAG` have neither bit;
//! - format one (bit 7 set, `RC_FMT1` = 0x080): an error number in bits 0–5,
//!   and where the fault lies: bit 6 (`TPM_RC_P`) says a parameter, with its
//!   number in bits 8–11; otherwise bit 11 (`TPM_RC_S`) says a session and
//!   clear says a handle, with the number in bits 8–10.

use core::fmt;

use serde::{Deserialize, Serialize};

/// A TPM response code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResponseCode(pub u32);

/// Where a format-one response code places the fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Location {
    /// The n-th handle of the handle area (1-based).
    Handle(u8),
    /// The n-th parameter (1-based).
    Parameter(u8),
    /// The n-th session of the authorization area (1-based).
    Session(u8),
}

const RC_VER1: u32 = 0x100;
const RC_FMT1: u32 = 0x080;
const RC_WARN: u32 = 0x900;
/// `TPM_RC_P`: the number is a parameter number.
const RC_P: u32 = 0x040;
/// `TPM_RC_S`: the number is a session number.
const RC_S: u32 = 0x800;

macro_rules! codes {
    ($( $(#[$m:meta])* $name:ident = $value:expr => $text:literal, $desc:literal; )*) => {
        impl ResponseCode {
            $( $(#[$m])* #[doc = concat!("`", $text, "`: ", $desc, ".")] pub const $name: ResponseCode = ResponseCode($value); )*

            fn lookup(code: u32) -> Option<(&'static str, &'static str)> {
                $( if code == $value { return Some(($text, $desc)); } )*
                None
            }
        }
    };
}

codes! {
    SUCCESS = 0x000 => "TPM_RC_SUCCESS", "the command succeeded";
    BAD_TAG = 0x01E => "TPM_RC_BAD_TAG", "the command tag is neither TPM_ST_NO_SESSIONS nor TPM_ST_SESSIONS";

    INITIALIZE = RC_VER1 => "TPM_RC_INITIALIZE", "TPM not initialized by TPM2_Startup or already initialized";
    FAILURE = RC_VER1 + 0x001 => "TPM_RC_FAILURE", "commands not being accepted because of a TPM failure";
    SEQUENCE = RC_VER1 + 0x003 => "TPM_RC_SEQUENCE", "improper use of a sequence handle";
    DISABLED = RC_VER1 + 0x020 => "TPM_RC_DISABLED", "the command is disabled";
    EXCLUSIVE = RC_VER1 + 0x021 => "TPM_RC_EXCLUSIVE", "command failed because audit sequence required exclusivity";
    AUTH_TYPE = RC_VER1 + 0x024 => "TPM_RC_AUTH_TYPE", "authorization handle is not correct for command";
    AUTH_MISSING = RC_VER1 + 0x025 => "TPM_RC_AUTH_MISSING", "the command requires an authorization session for a handle and it is not present";
    POLICY = RC_VER1 + 0x026 => "TPM_RC_POLICY", "policy failure in math operation or an invalid authPolicy value";
    PCR = RC_VER1 + 0x027 => "TPM_RC_PCR", "PCR check fail";
    PCR_CHANGED = RC_VER1 + 0x028 => "TPM_RC_PCR_CHANGED", "PCR have changed since checked";
    UPGRADE = RC_VER1 + 0x02D => "TPM_RC_UPGRADE", "the TPM is in field upgrade mode";
    TOO_MANY_CONTEXTS = RC_VER1 + 0x02E => "TPM_RC_TOO_MANY_CONTEXTS", "context ID counter is at maximum";
    AUTH_UNAVAILABLE = RC_VER1 + 0x02F => "TPM_RC_AUTH_UNAVAILABLE", "authValue or authPolicy is not available for the selected entity";
    REBOOT = RC_VER1 + 0x030 => "TPM_RC_REBOOT", "a _TPM_Init and Startup(CLEAR) is required before the TPM can resume operation";
    UNBALANCED = RC_VER1 + 0x031 => "TPM_RC_UNBALANCED", "the protection algorithms (hash and symmetric) are not reasonably balanced";
    COMMAND_SIZE = RC_VER1 + 0x042 => "TPM_RC_COMMAND_SIZE", "command commandSize value is inconsistent with contents of the command buffer";
    COMMAND_CODE = RC_VER1 + 0x043 => "TPM_RC_COMMAND_CODE", "command code not supported";
    AUTHSIZE = RC_VER1 + 0x044 => "TPM_RC_AUTHSIZE", "the value of authorizationSize is out of range or the number of octets in the Authorization Area is greater than required";
    AUTH_CONTEXT = RC_VER1 + 0x045 => "TPM_RC_AUTH_CONTEXT", "use of an authorization session with a context command or another command that cannot have an authorization session";
    NV_RANGE = RC_VER1 + 0x046 => "TPM_RC_NV_RANGE", "NV offset+size is out of range";
    NV_SIZE = RC_VER1 + 0x047 => "TPM_RC_NV_SIZE", "requested allocation size is larger than allowed";
    NV_LOCKED = RC_VER1 + 0x048 => "TPM_RC_NV_LOCKED", "NV access locked";
    NV_AUTHORIZATION = RC_VER1 + 0x049 => "TPM_RC_NV_AUTHORIZATION", "NV access authorization fails in command actions";
    NV_UNINITIALIZED = RC_VER1 + 0x04A => "TPM_RC_NV_UNINITIALIZED", "an NV Index is used before being initialized";
    NV_SPACE = RC_VER1 + 0x04B => "TPM_RC_NV_SPACE", "insufficient space for NV allocation";
    NV_DEFINED = RC_VER1 + 0x04C => "TPM_RC_NV_DEFINED", "NV Index or persistent object already defined";
    BAD_CONTEXT = RC_VER1 + 0x050 => "TPM_RC_BAD_CONTEXT", "context in TPM2_ContextLoad is not valid";
    CPHASH = RC_VER1 + 0x051 => "TPM_RC_CPHASH", "cpHash value already set or not correct for use";
    PARENT = RC_VER1 + 0x052 => "TPM_RC_PARENT", "handle for parent is not a valid parent";
    NEEDS_TEST = RC_VER1 + 0x053 => "TPM_RC_NEEDS_TEST", "some function needs testing";
    NO_RESULT = RC_VER1 + 0x054 => "TPM_RC_NO_RESULT", "an internal function cannot process a request due to an unspecified problem";
    SENSITIVE = RC_VER1 + 0x055 => "TPM_RC_SENSITIVE", "the sensitive area did not unmarshal correctly after decryption";

    ASYMMETRIC = RC_FMT1 + 0x001 => "TPM_RC_ASYMMETRIC", "asymmetric algorithm not supported or not correct";
    ATTRIBUTES = RC_FMT1 + 0x002 => "TPM_RC_ATTRIBUTES", "inconsistent attributes";
    HASH = RC_FMT1 + 0x003 => "TPM_RC_HASH", "hash algorithm not supported or not appropriate";
    VALUE = RC_FMT1 + 0x004 => "TPM_RC_VALUE", "value is out of range or is not correct for the context";
    HIERARCHY = RC_FMT1 + 0x005 => "TPM_RC_HIERARCHY", "hierarchy is not enabled or is not correct for the use";
    KEY_SIZE = RC_FMT1 + 0x007 => "TPM_RC_KEY_SIZE", "key size is not supported";
    MGF = RC_FMT1 + 0x008 => "TPM_RC_MGF", "mask generation function not supported";
    MODE = RC_FMT1 + 0x009 => "TPM_RC_MODE", "mode of operation not supported";
    TYPE = RC_FMT1 + 0x00A => "TPM_RC_TYPE", "the type of the value is not appropriate for the use";
    HANDLE = RC_FMT1 + 0x00B => "TPM_RC_HANDLE", "the handle is not correct for the use";
    KDF = RC_FMT1 + 0x00C => "TPM_RC_KDF", "unsupported key derivation function or function not appropriate for use";
    RANGE = RC_FMT1 + 0x00D => "TPM_RC_RANGE", "value was out of allowed range";
    AUTH_FAIL = RC_FMT1 + 0x00E => "TPM_RC_AUTH_FAIL", "the authorization HMAC check failed and DA counter incremented";
    NONCE = RC_FMT1 + 0x00F => "TPM_RC_NONCE", "invalid nonce size or nonce value mismatch";
    PP = RC_FMT1 + 0x010 => "TPM_RC_PP", "authorization requires assertion of PP";
    SCHEME = RC_FMT1 + 0x012 => "TPM_RC_SCHEME", "unsupported or incompatible scheme";
    SIZE = RC_FMT1 + 0x015 => "TPM_RC_SIZE", "structure is the wrong size";
    SYMMETRIC = RC_FMT1 + 0x016 => "TPM_RC_SYMMETRIC", "unsupported symmetric algorithm or key size, or not appropriate for instance";
    TAG = RC_FMT1 + 0x017 => "TPM_RC_TAG", "incorrect structure tag";
    SELECTOR = RC_FMT1 + 0x018 => "TPM_RC_SELECTOR", "union selector is incorrect";
    INSUFFICIENT = RC_FMT1 + 0x01A => "TPM_RC_INSUFFICIENT", "the TPM was unable to unmarshal a value because there were not enough octets in the input buffer";
    SIGNATURE = RC_FMT1 + 0x01B => "TPM_RC_SIGNATURE", "the signature is not valid";
    KEY = RC_FMT1 + 0x01C => "TPM_RC_KEY", "key fields are not compatible with the selected use";
    POLICY_FAIL = RC_FMT1 + 0x01D => "TPM_RC_POLICY_FAIL", "a policy check failed";
    INTEGRITY = RC_FMT1 + 0x01F => "TPM_RC_INTEGRITY", "integrity check failed";
    TICKET = RC_FMT1 + 0x020 => "TPM_RC_TICKET", "invalid ticket";
    RESERVED_BITS = RC_FMT1 + 0x021 => "TPM_RC_RESERVED_BITS", "reserved bits not set to zero as required";
    BAD_AUTH = RC_FMT1 + 0x022 => "TPM_RC_BAD_AUTH", "authorization failure without DA implications";
    EXPIRED = RC_FMT1 + 0x023 => "TPM_RC_EXPIRED", "the policy has expired";
    POLICY_CC = RC_FMT1 + 0x024 => "TPM_RC_POLICY_CC", "the commandCode in the policy is not the commandCode of the command";
    BINDING = RC_FMT1 + 0x025 => "TPM_RC_BINDING", "public and sensitive portions of an object are not cryptographically bound";
    CURVE = RC_FMT1 + 0x026 => "TPM_RC_CURVE", "curve not supported";
    ECC_POINT = RC_FMT1 + 0x027 => "TPM_RC_ECC_POINT", "point is not on the required curve";

    CONTEXT_GAP = RC_WARN + 0x001 => "TPM_RC_CONTEXT_GAP", "gap for context ID is too large";
    OBJECT_MEMORY = RC_WARN + 0x002 => "TPM_RC_OBJECT_MEMORY", "out of memory for object contexts";
    SESSION_MEMORY = RC_WARN + 0x003 => "TPM_RC_SESSION_MEMORY", "out of memory for session contexts";
    MEMORY = RC_WARN + 0x004 => "TPM_RC_MEMORY", "out of shared object/session memory or need space for internal operations";
    SESSION_HANDLES = RC_WARN + 0x005 => "TPM_RC_SESSION_HANDLES", "out of session handles";
    OBJECT_HANDLES = RC_WARN + 0x006 => "TPM_RC_OBJECT_HANDLES", "out of object handles";
    LOCALITY = RC_WARN + 0x007 => "TPM_RC_LOCALITY", "bad locality";
    YIELDED = RC_WARN + 0x008 => "TPM_RC_YIELDED", "the TPM has suspended operation on the command";
    CANCELED = RC_WARN + 0x009 => "TPM_RC_CANCELED", "the command was canceled";
    TESTING = RC_WARN + 0x00A => "TPM_RC_TESTING", "TPM is performing self-tests";
    REFERENCE_H0 = RC_WARN + 0x010 => "TPM_RC_REFERENCE_H0", "the 1st handle in the handle area references a transient object or session that is not loaded";
    REFERENCE_H1 = RC_WARN + 0x011 => "TPM_RC_REFERENCE_H1", "the 2nd handle in the handle area references a transient object or session that is not loaded";
    REFERENCE_H2 = RC_WARN + 0x012 => "TPM_RC_REFERENCE_H2", "the 3rd handle in the handle area references a transient object or session that is not loaded";
    REFERENCE_S0 = RC_WARN + 0x018 => "TPM_RC_REFERENCE_S0", "the 1st authorization session handle references a session that is not loaded";
    REFERENCE_S1 = RC_WARN + 0x019 => "TPM_RC_REFERENCE_S1", "the 2nd authorization session handle references a session that is not loaded";
    REFERENCE_S2 = RC_WARN + 0x01A => "TPM_RC_REFERENCE_S2", "the 3rd authorization session handle references a session that is not loaded";
    NV_RATE = RC_WARN + 0x020 => "TPM_RC_NV_RATE", "the TPM is rate-limiting accesses to prevent wearout of NV";
    LOCKOUT = RC_WARN + 0x021 => "TPM_RC_LOCKOUT", "authorizations for objects subject to DA protection are not allowed at this time because the TPM is in DA lockout mode";
    RETRY = RC_WARN + 0x022 => "TPM_RC_RETRY", "the TPM was not able to start the command";
    NV_UNAVAILABLE = RC_WARN + 0x023 => "TPM_RC_NV_UNAVAILABLE", "the command may require writing of NV and NV is not current accessible";
}

impl ResponseCode {
    /// Whether this is a format-one code (bit 7 set).
    pub fn is_format_one(self) -> bool {
        self.0 & RC_FMT1 != 0
    }

    /// The code without its handle, parameter or session number.
    pub fn base(self) -> ResponseCode {
        if self.is_format_one() {
            ResponseCode(self.0 & (RC_FMT1 | 0x3F))
        } else {
            self
        }
    }

    /// Where the fault lies, for a format-one code that carries a number.
    pub fn location(self) -> Option<Location> {
        if !self.is_format_one() {
            return None;
        }
        if self.0 & RC_P != 0 {
            let n = ((self.0 >> 8) & 0xF) as u8;
            (n != 0).then_some(Location::Parameter(n))
        } else {
            let n = ((self.0 >> 8) & 0x7) as u8;
            if n == 0 {
                None
            } else if self.0 & RC_S != 0 {
                Some(Location::Session(n))
            } else {
                Some(Location::Handle(n))
            }
        }
    }

    /// This code for the n-th handle (`+ TPM_RC_H + TPM_RC_n`); only
    /// format-one codes carry numbers, others are returned unchanged.
    pub fn at_handle(self, n: u8) -> ResponseCode {
        self.numbered(0, n.min(7))
    }

    /// This code for the n-th parameter (`+ TPM_RC_P + TPM_RC_n`).
    pub fn at_parameter(self, n: u8) -> ResponseCode {
        self.numbered(RC_P, n.min(15))
    }

    /// This code for the n-th session (`+ TPM_RC_S + TPM_RC_n`).
    pub fn at_session(self, n: u8) -> ResponseCode {
        self.numbered(RC_S, n.min(7))
    }

    fn numbered(self, kind: u32, n: u8) -> ResponseCode {
        if !self.is_format_one() || self.location().is_some() {
            return self;
        }
        ResponseCode(self.base().0 | kind | (u32::from(n) << 8))
    }

    /// Whether the command succeeded.
    pub fn is_success(self) -> bool {
        self.0 == 0
    }

    /// `TPM_RC_AUTH_FAIL`: a wrong authorization value that counted against
    /// dictionary-attack protection.
    pub fn is_auth_fail(self) -> bool {
        self.base() == ResponseCode::AUTH_FAIL
    }

    /// `TPM_RC_BAD_AUTH`: a wrong authorization value for an entity exempt
    /// from dictionary-attack protection.
    pub fn is_bad_auth(self) -> bool {
        self.base() == ResponseCode::BAD_AUTH
    }

    /// `TPM_RC_LOCKOUT`: the TPM refuses DA-protected authorizations.
    pub fn is_lockout(self) -> bool {
        self.0 == ResponseCode::LOCKOUT.0
    }

    /// The specification's name, e.g. `"TPM_RC_AUTH_FAIL"`.
    pub fn name(self) -> Option<&'static str> {
        Self::lookup(self.base().0).map(|(name, _)| name)
    }

    /// What the code means, in the words of Part 2 Table 16.
    pub fn description(self) -> Option<&'static str> {
        Self::lookup(self.base().0).map(|(_, desc)| desc)
    }
}

impl fmt::Display for ResponseCode {
    /// E.g. `TPM_RC_AUTH_FAIL (0x098E): the authorization HMAC check failed
    /// and DA counter incremented (session 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Self::lookup(self.base().0) {
            Some((name, desc)) => write!(f, "{name} (0x{:04X}): {desc}", self.0)?,
            None => write!(f, "TPM_RC 0x{:04X}", self.0)?,
        }
        match self.location() {
            Some(Location::Handle(n)) => write!(f, " (handle {n})"),
            Some(Location::Parameter(n)) => write!(f, " (parameter {n})"),
            Some(Location::Session(n)) => write!(f, " (session {n})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "ResponseCode({name}, 0x{:04X})", self.0),
            None => write!(f, "ResponseCode(0x{:04X})", self.0),
        }
    }
}

impl crate::marshal::Marshal for ResponseCode {
    fn marshal(&self, out: &mut Vec<u8>) {
        crate::marshal::Marshal::marshal(&self.0, out);
    }
}

impl crate::marshal::Unmarshal for ResponseCode {
    fn unmarshal(r: &mut crate::marshal::Reader<'_>) -> Result<Self, crate::Malformed> {
        Ok(ResponseCode(r.u32()?))
    }
}

impl crate::marshal::Describe for ResponseCode {
    const SPEC: &'static str = "TPM 2.0 Part 2 §6.6";
    fn describe_value(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbers_follow_the_format_one_layout() {
        assert_eq!(ResponseCode::AUTH_FAIL.at_session(1).0, 0x098E);
        assert_eq!(ResponseCode::HANDLE.at_handle(1).0, 0x018B);
        assert_eq!(ResponseCode::VALUE.at_parameter(1).0, 0x01C4);
        assert_eq!(ResponseCode::TICKET.at_parameter(3).0, 0x03E0);
        assert_eq!(ResponseCode(0x098E).location(), Some(Location::Session(1)));
        assert!(ResponseCode(0x098E).is_auth_fail());
        // Warnings carry no numbers.
        assert_eq!(ResponseCode::LOCKOUT.at_session(1).0, 0x0921);
        assert!(ResponseCode(0x0921).is_lockout());
    }

    #[test]
    fn display_is_readable() {
        assert_eq!(
            ResponseCode(0x098E).to_string(),
            "TPM_RC_AUTH_FAIL (0x098E): the authorization HMAC check failed and DA counter incremented (session 1)"
        );
    }
}
