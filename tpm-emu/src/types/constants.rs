//! Constants: algorithm identifiers, curves, structure tags, handles and
//! command codes (TPM 2.0 Part 2 §6 and §7), each a newtype over its wire
//! integer, as rustls keeps protocol constants in `msgs/enums.rs`.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Malformed;
use crate::marshal::{Describe, Marshal, Reader, Unmarshal};

/// `TPM_GENERATED_VALUE` (TPM 2.0 Part 2 §6.2): `0xFF` ‖ "TCG", the magic
/// that begins every structure the TPM signs, so that a restricted key can
/// tell its own attestations from a digest a caller supplied.
pub const TPM_GENERATED_VALUE: u32 = 0xFF54_4347;

/// Generates a newtype constant family: the type, its marshalling, a name
/// table, `Display` and `Describe`.
macro_rules! constant_newtype {
    (
        $(#[$meta:meta])*
        $name:ident($int:ty), $spec:literal, $fmt:literal,
        { $( $(#[$cmeta:meta])* $const:ident = $value:literal => $text:literal, )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* pub const $const: $name = $name($value); )*

            /// The specification's name for this value, if it has one here.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "(", $fmt, ")"), self.0),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(n) => write!(f, concat!($fmt, " ({})"), self.0, n),
                    None => write!(f, $fmt, self.0),
                }
            }
        }

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                self.0.marshal(out);
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
                Ok($name(<$int>::unmarshal(r)?))
            }
        }

        impl $name {
            /// The specification section that defines this type.
            pub(crate) const SECTION: &'static str = $spec;
        }
    };
}

/// `Describe` for a constant family whose `Display` says it all.
macro_rules! describe_by_display {
    ($($name:ident),*) => {
        $(impl Describe for $name {
            const SPEC: &'static str = $name::SECTION;
            fn describe_value(&self) -> String {
                self.to_string()
            }
        })*
    };
}

describe_by_display!(
    TpmAlgId,
    TpmEccCurve,
    TpmSt,
    TpmSu,
    TpmCap,
    TpmPt,
    CommandCode
);

impl Describe for TpmHandle {
    const SPEC: &'static str = TpmHandle::SECTION;
    /// The handle and what it names: a permanent handle by its name, others
    /// by type (`TPM_HT`, Part 2 §7.2).
    fn describe_value(&self) -> String {
        if self.name().is_some() {
            return self.to_string();
        }
        let kind = match self.handle_type() {
            HandleType::Pcr => "PCR",
            HandleType::NvIndex => "NV index",
            HandleType::HmacSession => "HMAC session",
            HandleType::PolicySession => "policy session",
            HandleType::Permanent => "permanent handle",
            HandleType::Transient => "transient object",
            HandleType::Persistent => "persistent object",
            HandleType::Other(_) => "unknown handle type",
        };
        format!("{self} ({kind})")
    }
}

constant_newtype! {
    /// `TPM_ALG_ID` (TPM 2.0 Part 2 §6.3; values from the TCG Algorithm Registry).
    TpmAlgId(u16), "TPM 2.0 Part 2 §6.3", "0x{:04X}",
    {
        RSA = 0x0001 => "TPM_ALG_RSA",
        SHA1 = 0x0004 => "TPM_ALG_SHA1",
        HMAC = 0x0005 => "TPM_ALG_HMAC",
        AES = 0x0006 => "TPM_ALG_AES",
        MGF1 = 0x0007 => "TPM_ALG_MGF1",
        KEYEDHASH = 0x0008 => "TPM_ALG_KEYEDHASH",
        XOR = 0x000A => "TPM_ALG_XOR",
        SHA256 = 0x000B => "TPM_ALG_SHA256",
        SHA384 = 0x000C => "TPM_ALG_SHA384",
        SHA512 = 0x000D => "TPM_ALG_SHA512",
        NULL = 0x0010 => "TPM_ALG_NULL",
        RSASSA = 0x0014 => "TPM_ALG_RSASSA",
        RSAES = 0x0015 => "TPM_ALG_RSAES",
        RSAPSS = 0x0016 => "TPM_ALG_RSAPSS",
        OAEP = 0x0017 => "TPM_ALG_OAEP",
        ECDSA = 0x0018 => "TPM_ALG_ECDSA",
        ECDH = 0x0019 => "TPM_ALG_ECDH",
        ECDAA = 0x001A => "TPM_ALG_ECDAA",
        SM2 = 0x001B => "TPM_ALG_SM2",
        ECSCHNORR = 0x001C => "TPM_ALG_ECSCHNORR",
        ECMQV = 0x001D => "TPM_ALG_ECMQV",
        KDF1_SP800_56A = 0x0020 => "TPM_ALG_KDF1_SP800_56A",
        KDF2 = 0x0021 => "TPM_ALG_KDF2",
        KDF1_SP800_108 = 0x0022 => "TPM_ALG_KDF1_SP800_108",
        ECC = 0x0023 => "TPM_ALG_ECC",
        SYMCIPHER = 0x0025 => "TPM_ALG_SYMCIPHER",
        CTR = 0x0040 => "TPM_ALG_CTR",
        OFB = 0x0041 => "TPM_ALG_OFB",
        CBC = 0x0042 => "TPM_ALG_CBC",
        CFB = 0x0043 => "TPM_ALG_CFB",
        ECB = 0x0044 => "TPM_ALG_ECB",
    }
}

impl TpmAlgId {
    /// The digest size of a hash algorithm, for the hashes this TPM implements.
    pub fn digest_size(self) -> Option<usize> {
        match self {
            TpmAlgId::SHA256 => Some(32),
            _ => None,
        }
    }
}

constant_newtype! {
    /// `TPM_ECC_CURVE` (TPM 2.0 Part 2 §6.4).
    TpmEccCurve(u16), "TPM 2.0 Part 2 §6.4", "0x{:04X}",
    {
        NONE = 0x0000 => "TPM_ECC_NONE",
        NIST_P192 = 0x0001 => "TPM_ECC_NIST_P192",
        NIST_P224 = 0x0002 => "TPM_ECC_NIST_P224",
        NIST_P256 = 0x0003 => "TPM_ECC_NIST_P256",
        NIST_P384 = 0x0004 => "TPM_ECC_NIST_P384",
        NIST_P521 = 0x0005 => "TPM_ECC_NIST_P521",
    }
}

constant_newtype! {
    /// `TPM_ST`, structure tags (TPM 2.0 Part 2 §6.9).
    TpmSt(u16), "TPM 2.0 Part 2 §6.9", "0x{:04X}",
    {
        RSP_COMMAND = 0x00C4 => "TPM_ST_RSP_COMMAND",
        NULL = 0x8000 => "TPM_ST_NULL",
        NO_SESSIONS = 0x8001 => "TPM_ST_NO_SESSIONS",
        SESSIONS = 0x8002 => "TPM_ST_SESSIONS",
        ATTEST_NV = 0x8014 => "TPM_ST_ATTEST_NV",
        ATTEST_COMMAND_AUDIT = 0x8015 => "TPM_ST_ATTEST_COMMAND_AUDIT",
        ATTEST_SESSION_AUDIT = 0x8016 => "TPM_ST_ATTEST_SESSION_AUDIT",
        ATTEST_CERTIFY = 0x8017 => "TPM_ST_ATTEST_CERTIFY",
        ATTEST_QUOTE = 0x8018 => "TPM_ST_ATTEST_QUOTE",
        ATTEST_TIME = 0x8019 => "TPM_ST_ATTEST_TIME",
        ATTEST_CREATION = 0x801A => "TPM_ST_ATTEST_CREATION",
        CREATION = 0x8021 => "TPM_ST_CREATION",
        VERIFIED = 0x8022 => "TPM_ST_VERIFIED",
        AUTH_SECRET = 0x8023 => "TPM_ST_AUTH_SECRET",
        HASHCHECK = 0x8024 => "TPM_ST_HASHCHECK",
        AUTH_SIGNED = 0x8025 => "TPM_ST_AUTH_SIGNED",
    }
}

constant_newtype! {
    /// `TPM_SU`, the startup type (TPM 2.0 Part 2 §6.10).
    TpmSu(u16), "TPM 2.0 Part 2 §6.10", "0x{:04X}",
    {
        CLEAR = 0x0000 => "TPM_SU_CLEAR",
        STATE = 0x0001 => "TPM_SU_STATE",
    }
}

constant_newtype! {
    /// `TPM_CAP`, capability groups for TPM2_GetCapability (TPM 2.0 Part 2 §6.12).
    TpmCap(u32), "TPM 2.0 Part 2 §6.12", "0x{:08X}",
    {
        ALGS = 0x0000_0000 => "TPM_CAP_ALGS",
        HANDLES = 0x0000_0001 => "TPM_CAP_HANDLES",
        COMMANDS = 0x0000_0002 => "TPM_CAP_COMMANDS",
        PP_COMMANDS = 0x0000_0003 => "TPM_CAP_PP_COMMANDS",
        AUDIT_COMMANDS = 0x0000_0004 => "TPM_CAP_AUDIT_COMMANDS",
        PCRS = 0x0000_0005 => "TPM_CAP_PCRS",
        TPM_PROPERTIES = 0x0000_0006 => "TPM_CAP_TPM_PROPERTIES",
        PCR_PROPERTIES = 0x0000_0007 => "TPM_CAP_PCR_PROPERTIES",
        ECC_CURVES = 0x0000_0008 => "TPM_CAP_ECC_CURVES",
    }
}

constant_newtype! {
    /// `TPM_PT`, TPM property tags (TPM 2.0 Part 2 §6.13): `PT_FIXED` (0x100)
    /// properties never change, `PT_VAR` (0x200) ones may.
    TpmPt(u32), "TPM 2.0 Part 2 §6.13", "0x{:08X}",
    {
        FAMILY_INDICATOR = 0x0000_0100 => "TPM_PT_FAMILY_INDICATOR",
        LEVEL = 0x0000_0101 => "TPM_PT_LEVEL",
        REVISION = 0x0000_0102 => "TPM_PT_REVISION",
        DAY_OF_YEAR = 0x0000_0103 => "TPM_PT_DAY_OF_YEAR",
        YEAR = 0x0000_0104 => "TPM_PT_YEAR",
        MANUFACTURER = 0x0000_0105 => "TPM_PT_MANUFACTURER",
        VENDOR_STRING_1 = 0x0000_0106 => "TPM_PT_VENDOR_STRING_1",
        VENDOR_STRING_2 = 0x0000_0107 => "TPM_PT_VENDOR_STRING_2",
        VENDOR_STRING_3 = 0x0000_0108 => "TPM_PT_VENDOR_STRING_3",
        VENDOR_STRING_4 = 0x0000_0109 => "TPM_PT_VENDOR_STRING_4",
        VENDOR_TPM_TYPE = 0x0000_010A => "TPM_PT_VENDOR_TPM_TYPE",
        FIRMWARE_VERSION_1 = 0x0000_010B => "TPM_PT_FIRMWARE_VERSION_1",
        FIRMWARE_VERSION_2 = 0x0000_010C => "TPM_PT_FIRMWARE_VERSION_2",
        INPUT_BUFFER = 0x0000_010D => "TPM_PT_INPUT_BUFFER",
        HR_TRANSIENT_MIN = 0x0000_010E => "TPM_PT_HR_TRANSIENT_MIN",
        MAX_COMMAND_SIZE = 0x0000_011E => "TPM_PT_MAX_COMMAND_SIZE",
        MAX_RESPONSE_SIZE = 0x0000_011F => "TPM_PT_MAX_RESPONSE_SIZE",
        MAX_DIGEST = 0x0000_0120 => "TPM_PT_MAX_DIGEST",
        NV_BUFFER_MAX = 0x0000_012C => "TPM_PT_NV_BUFFER_MAX",
        PERMANENT = 0x0000_0200 => "TPM_PT_PERMANENT",
        STARTUP_CLEAR = 0x0000_0201 => "TPM_PT_STARTUP_CLEAR",
        HR_LOADED = 0x0000_0203 => "TPM_PT_HR_LOADED",
        HR_LOADED_AVAIL = 0x0000_0204 => "TPM_PT_HR_LOADED_AVAIL",
        LOCKOUT_COUNTER = 0x0000_020E => "TPM_PT_LOCKOUT_COUNTER",
        MAX_AUTH_FAIL = 0x0000_020F => "TPM_PT_MAX_AUTH_FAIL",
        LOCKOUT_INTERVAL = 0x0000_0210 => "TPM_PT_LOCKOUT_INTERVAL",
        LOCKOUT_RECOVERY = 0x0000_0211 => "TPM_PT_LOCKOUT_RECOVERY",
    }
}

/// `TPMA_PERMANENT.inLockout` (TPM 2.0 Part 2 §8.6): the TPM is in DA lockout.
pub const TPMA_PERMANENT_IN_LOCKOUT: u32 = 1 << 9;

constant_newtype! {
    /// `TPM_HANDLE` (TPM 2.0 Part 2 §7): the top byte is the handle type
    /// (`TPM_HT`, §7.2), `TPM_RH` permanent handles are in §7.4.
    TpmHandle(u32), "TPM 2.0 Part 2 §7", "0x{:08X}",
    {
        RH_OWNER = 0x4000_0001 => "TPM_RH_OWNER",
        RH_NULL = 0x4000_0007 => "TPM_RH_NULL",
        RS_PW = 0x4000_0009 => "TPM_RS_PW",
        RH_LOCKOUT = 0x4000_000A => "TPM_RH_LOCKOUT",
        RH_ENDORSEMENT = 0x4000_000B => "TPM_RH_ENDORSEMENT",
        RH_PLATFORM = 0x4000_000C => "TPM_RH_PLATFORM",
        /// The TCG EK Credential Profile's index for the RSA-2048 EK certificate.
        EK_CERT_RSA2048 = 0x01C0_0002 => "EK certificate (RSA 2048) NV index",
        /// The TCG EK Credential Profile's index for the ECC NIST P-256 EK certificate.
        EK_CERT_ECC_P256 = 0x01C0_000A => "EK certificate (ECC NIST P-256) NV index",
    }
}

/// `TPM_HT`, the handle types (TPM 2.0 Part 2 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HandleType {
    /// `TPM_HT_PCR` (0x00).
    Pcr,
    /// `TPM_HT_NV_INDEX` (0x01).
    NvIndex,
    /// `TPM_HT_HMAC_SESSION` (0x02).
    HmacSession,
    /// `TPM_HT_POLICY_SESSION` (0x03).
    PolicySession,
    /// `TPM_HT_PERMANENT` (0x40).
    Permanent,
    /// `TPM_HT_TRANSIENT` (0x80).
    Transient,
    /// `TPM_HT_PERSISTENT` (0x81).
    Persistent,
    /// A type this TPM does not know.
    Other(u8),
}

impl TpmHandle {
    /// The first transient object handle (`TRANSIENT_FIRST`, Part 2 §7.5).
    pub const TRANSIENT_FIRST: TpmHandle = TpmHandle(0x8000_0000);

    /// The handle's type, from its top byte.
    pub fn handle_type(self) -> HandleType {
        match (self.0 >> 24) as u8 {
            0x00 => HandleType::Pcr,
            0x01 => HandleType::NvIndex,
            0x02 => HandleType::HmacSession,
            0x03 => HandleType::PolicySession,
            0x40 => HandleType::Permanent,
            0x80 => HandleType::Transient,
            0x81 => HandleType::Persistent,
            other => HandleType::Other(other),
        }
    }
}

constant_newtype! {
    /// `TPM_CC`, command codes (TPM 2.0 Part 2 §6.5.2).
    CommandCode(u32), "TPM 2.0 Part 2 §6.5.2", "0x{:08X}",
    {
        CREATE_PRIMARY = 0x0000_0131 => "TPM2_CreatePrimary",
        DICTIONARY_ATTACK_LOCK_RESET = 0x0000_0139 => "TPM2_DictionaryAttackLockReset",
        DICTIONARY_ATTACK_PARAMETERS = 0x0000_013A => "TPM2_DictionaryAttackParameters",
        STARTUP = 0x0000_0144 => "TPM2_Startup",
        SHUTDOWN = 0x0000_0145 => "TPM2_Shutdown",
        CERTIFY = 0x0000_0148 => "TPM2_Certify",
        NV_READ = 0x0000_014E => "TPM2_NV_Read",
        OBJECT_CHANGE_AUTH = 0x0000_0150 => "TPM2_ObjectChangeAuth",
        CREATE = 0x0000_0153 => "TPM2_Create",
        HMAC = 0x0000_0155 => "TPM2_HMAC",
        LOAD = 0x0000_0157 => "TPM2_Load",
        RSA_DECRYPT = 0x0000_0159 => "TPM2_RSA_Decrypt",
        SIGN = 0x0000_015D => "TPM2_Sign",
        FLUSH_CONTEXT = 0x0000_0165 => "TPM2_FlushContext",
        NV_READ_PUBLIC = 0x0000_0169 => "TPM2_NV_ReadPublic",
        READ_PUBLIC = 0x0000_0173 => "TPM2_ReadPublic",
        GET_CAPABILITY = 0x0000_017A => "TPM2_GetCapability",
        GET_RANDOM = 0x0000_017B => "TPM2_GetRandom",
        HASH = 0x0000_017D => "TPM2_Hash",
    }
}
