//! The commands this TPM implements: their handle areas, parameters and
//! responses (TPM 2.0 Part 3), and the framing shared by every command
//! (TPM 2.0 Part 1 §18 "Command/Response Structure").
//!
//! The device, the typed client and [`crate::describe`] all read and write
//! commands through this module, so the three cannot disagree about a byte.

use crate::error::{Malformed, MalformedKind};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::types::{
    CommandCode, HandleType, ResponseCode, Tpm2bAttest, Tpm2bAuth, Tpm2bCreationData, Tpm2bData,
    Tpm2bDigest, Tpm2bMaxBuffer, Tpm2bMaxNvBuffer, Tpm2bName, Tpm2bNvPublic, Tpm2bPrivate,
    Tpm2bPublic, Tpm2bPublicKeyRsa, Tpm2bSensitiveCreate, TpmAlgId, TpmCap, TpmHandle, TpmSt,
    TpmSu, TpmlPcrSelection, TpmsAuthCommand, TpmsAuthResponse, TpmsCapabilityData, TpmtRsaDecrypt,
    TpmtSigScheme, TpmtSignature, TpmtTkCreation, TpmtTkHashcheck,
};

/// Which authorization role a handle needs (TPM 2.0 Part 1, "Authorization Roles").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthRole {
    /// No authorization.
    None,
    /// USER role: the authValue (if `userWithAuth`) or the policy.
    User,
    /// ADMIN role: the authValue unless `adminWithPolicy`, else a policy.
    Admin,
}

/// The interface type (`TPMI_*`) a handle must satisfy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleKind {
    /// `TPMI_DH_OBJECT`: a transient or persistent object.
    Object,
    /// `TPMI_DH_OBJECT+`: an object or `TPM_RH_NULL`.
    ObjectOrNull,
    /// `TPMI_RH_HIERARCHY+`: owner, endorsement, platform or null.
    Hierarchy,
    /// `TPMI_RH_LOCKOUT`.
    Lockout,
    /// `TPMI_RH_NV_AUTH`: owner, platform or an NV index.
    NvAuth,
    /// `TPMI_RH_NV_INDEX`.
    NvIndex,
}

impl HandleKind {
    /// Whether `h` is a value of this interface type; an unmarshalling
    /// failure of a `TPMI_` handle type is `TPM_RC_VALUE` in the reference code.
    pub(crate) fn accepts(self, h: TpmHandle) -> bool {
        let t = h.handle_type();
        match self {
            HandleKind::Object => matches!(t, HandleType::Transient | HandleType::Persistent),
            HandleKind::ObjectOrNull => {
                h == TpmHandle::RH_NULL
                    || matches!(t, HandleType::Transient | HandleType::Persistent)
            }
            HandleKind::Hierarchy => matches!(
                h,
                TpmHandle::RH_OWNER
                    | TpmHandle::RH_ENDORSEMENT
                    | TpmHandle::RH_PLATFORM
                    | TpmHandle::RH_NULL
            ),
            HandleKind::Lockout => h == TpmHandle::RH_LOCKOUT,
            HandleKind::NvAuth => {
                matches!(h, TpmHandle::RH_OWNER | TpmHandle::RH_PLATFORM)
                    || t == HandleType::NvIndex
            }
            HandleKind::NvIndex => t == HandleType::NvIndex,
        }
    }
}

/// One handle in a command's handle area.
#[derive(Debug)]
pub(crate) struct HandleSpec {
    pub name: &'static str,
    pub note: &'static str,
    pub auth: AuthRole,
    pub kind: HandleKind,
}

/// A command's shape.
#[derive(Debug)]
pub(crate) struct CommandSpec {
    pub code: CommandCode,
    pub name: &'static str,
    /// The Part 3 section, e.g. `"TPM 2.0 Part 3 §18.2"`.
    pub spec: &'static str,
    pub handles: &'static [HandleSpec],
    /// The response handle, for commands that return one.
    pub response_handle: Option<&'static str>,
}

impl CommandSpec {
    /// How many handles need authorization (they always come first).
    pub(crate) fn auth_count(&self) -> usize {
        self.handles
            .iter()
            .filter(|h| h.auth != AuthRole::None)
            .count()
    }
}

const fn h(name: &'static str, note: &'static str, auth: AuthRole, kind: HandleKind) -> HandleSpec {
    HandleSpec {
        name,
        note,
        auth,
        kind,
    }
}

/// Every command this TPM implements, in command-code order.
pub(crate) static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        code: CommandCode::CREATE_PRIMARY,
        name: "TPM2_CreatePrimary",
        spec: "TPM 2.0 Part 3 §24.1",
        handles: &[h(
            "primaryHandle",
            "the hierarchy whose primary seed the key is derived from",
            AuthRole::User,
            HandleKind::Hierarchy,
        )],
        response_handle: Some("objectHandle"),
    },
    CommandSpec {
        code: CommandCode::DICTIONARY_ATTACK_LOCK_RESET,
        name: "TPM2_DictionaryAttackLockReset",
        spec: "TPM 2.0 Part 3 §25.2",
        handles: &[h(
            "lockHandle",
            "TPM_RH_LOCKOUT, authorized with lockoutAuth",
            AuthRole::User,
            HandleKind::Lockout,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::DICTIONARY_ATTACK_PARAMETERS,
        name: "TPM2_DictionaryAttackParameters",
        spec: "TPM 2.0 Part 3 §25.3",
        handles: &[h(
            "lockHandle",
            "TPM_RH_LOCKOUT, authorized with lockoutAuth",
            AuthRole::User,
            HandleKind::Lockout,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::STARTUP,
        name: "TPM2_Startup",
        spec: "TPM 2.0 Part 3 §9.3",
        handles: &[],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::CERTIFY,
        name: "TPM2_Certify",
        spec: "TPM 2.0 Part 3 §18.2",
        handles: &[
            h(
                "objectHandle",
                "the object being certified (ADMIN role)",
                AuthRole::Admin,
                HandleKind::Object,
            ),
            h(
                "signHandle",
                "the attestation key that signs",
                AuthRole::User,
                HandleKind::ObjectOrNull,
            ),
        ],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::NV_READ,
        name: "TPM2_NV_Read",
        spec: "TPM 2.0 Part 3 §31.13",
        handles: &[
            h(
                "authHandle",
                "who authorizes the read: owner, platform or the index",
                AuthRole::User,
                HandleKind::NvAuth,
            ),
            h(
                "nvIndex",
                "the NV index to read",
                AuthRole::None,
                HandleKind::NvIndex,
            ),
        ],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::OBJECT_CHANGE_AUTH,
        name: "TPM2_ObjectChangeAuth",
        spec: "TPM 2.0 Part 3 §12.8",
        handles: &[
            h(
                "objectHandle",
                "the loaded object whose authValue changes (ADMIN role)",
                AuthRole::Admin,
                HandleKind::Object,
            ),
            h(
                "parentHandle",
                "its parent, which wraps the new private area",
                AuthRole::None,
                HandleKind::Object,
            ),
        ],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::CREATE,
        name: "TPM2_Create",
        spec: "TPM 2.0 Part 3 §12.1",
        handles: &[h(
            "parentHandle",
            "the storage key that will protect the new object",
            AuthRole::User,
            HandleKind::Object,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::HMAC,
        name: "TPM2_HMAC",
        spec: "TPM 2.0 Part 3 §15.5",
        handles: &[h(
            "handle",
            "the keyed-hash object holding the HMAC key",
            AuthRole::User,
            HandleKind::Object,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::LOAD,
        name: "TPM2_Load",
        spec: "TPM 2.0 Part 3 §12.2",
        handles: &[h(
            "parentHandle",
            "the storage key that wrapped the object",
            AuthRole::User,
            HandleKind::Object,
        )],
        response_handle: Some("objectHandle"),
    },
    CommandSpec {
        code: CommandCode::RSA_DECRYPT,
        name: "TPM2_RSA_Decrypt",
        spec: "TPM 2.0 Part 3 §14.3",
        handles: &[h(
            "keyHandle",
            "the RSA decryption key",
            AuthRole::User,
            HandleKind::Object,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::SIGN,
        name: "TPM2_Sign",
        spec: "TPM 2.0 Part 3 §20.2",
        handles: &[h(
            "keyHandle",
            "the signing key",
            AuthRole::User,
            HandleKind::Object,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::FLUSH_CONTEXT,
        name: "TPM2_FlushContext",
        spec: "TPM 2.0 Part 3 §28.4",
        handles: &[],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::NV_READ_PUBLIC,
        name: "TPM2_NV_ReadPublic",
        spec: "TPM 2.0 Part 3 §31.6",
        handles: &[h(
            "nvIndex",
            "the NV index",
            AuthRole::None,
            HandleKind::NvIndex,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::READ_PUBLIC,
        name: "TPM2_ReadPublic",
        spec: "TPM 2.0 Part 3 §12.4",
        handles: &[h(
            "objectHandle",
            "the loaded object",
            AuthRole::None,
            HandleKind::Object,
        )],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::GET_CAPABILITY,
        name: "TPM2_GetCapability",
        spec: "TPM 2.0 Part 3 §30.2",
        handles: &[],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::GET_RANDOM,
        name: "TPM2_GetRandom",
        spec: "TPM 2.0 Part 3 §16.1",
        handles: &[],
        response_handle: None,
    },
    CommandSpec {
        code: CommandCode::HASH,
        name: "TPM2_Hash",
        spec: "TPM 2.0 Part 3 §15.4",
        handles: &[],
        response_handle: None,
    },
];

/// The shape of command `code`, if this TPM implements it.
pub(crate) fn spec(code: CommandCode) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.code == code)
}

/// The name of a command, e.g. `"TPM2_Certify"`; unknown codes give
/// `"TPM2_(unknown)"`.
pub fn command_name(code: CommandCode) -> &'static str {
    spec(code).map(|s| s.name).unwrap_or("TPM2_(unknown)")
}

// ---- parameter areas ----------------------------------------------------------

/// Generates a parameter-area struct: its fields in wire order, marshalling,
/// and unmarshalling that numbers each parameter for response codes.
macro_rules! params {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $wire:literal, $note:literal $(, check = $check:expr)? ; )* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl Marshal for $name {
            #[allow(unused_variables)]
            fn marshal(&self, out: &mut Vec<u8>) {
                $( self.$field.marshal(out); )*
            }
        }

        impl Unmarshal for $name {
            #[allow(unused_variables)]
            fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
                r.start_parameters();
                let value = $name { $( $field: params!(@read r, $ty, $wire, $note $(, $check)?), )* };
                r.end_parameters();
                Ok(value)
            }
        }
    };
    (@read $r:ident, $ty:ty, $wire:literal, $note:literal) => { $r.param::<$ty>($wire, $note)? };
    (@read $r:ident, $ty:ty, $wire:literal, $note:literal, $check:expr) => {
        $r.param_checked::<$ty>($wire, $note, $check)?
    };
}

params! {
    /// TPM2_Startup parameters (TPM 2.0 Part 3 §9.3).
    StartupCommand {
        /// `startupType`.
        startup_type: TpmSu = "startupType", "TPM_SU_CLEAR: a fresh start; TPM_SU_STATE: resume saved state",
            check = |s: &TpmSu| (*s != TpmSu::CLEAR && *s != TpmSu::STATE).then_some(MalformedKind::Value);
    }
}

params! {
    /// TPM2_GetRandom parameters (TPM 2.0 Part 3 §16.1).
    GetRandomCommand {
        /// `bytesRequested`.
        bytes_requested: u16 = "bytesRequested", "how many random bytes (at most one digest is returned)";
    }
}

params! {
    /// TPM2_GetRandom response parameters.
    GetRandomResponse {
        /// `randomBytes`.
        random_bytes: Tpm2bDigest = "randomBytes", "output of the TPM's random number generator";
    }
}

params! {
    /// TPM2_CreatePrimary parameters (TPM 2.0 Part 3 §24.1).
    CreatePrimaryCommand {
        /// `inSensitive`.
        in_sensitive: Tpm2bSensitiveCreate = "inSensitive", "authValue (and data) for the new key";
        /// `inPublic`.
        in_public: Tpm2bPublic = "inPublic", "the template; the same template gives the same key";
        /// `outsideInfo`.
        outside_info: Tpm2bData = "outsideInfo", "caller data recorded in the creation data";
        /// `creationPCR`.
        creation_pcr: TpmlPcrSelection = "creationPCR", "PCRs to record in the creation data";
    }
}

params! {
    /// TPM2_CreatePrimary response parameters (after the `objectHandle`).
    CreatePrimaryResponse {
        /// `outPublic`.
        out_public: Tpm2bPublic = "outPublic", "the public area, with the derived public key in unique";
        /// `creationData`.
        creation_data: Tpm2bCreationData = "creationData", "circumstances of the creation";
        /// `creationHash`.
        creation_hash: Tpm2bDigest = "creationHash", "SHA-256 of creationData";
        /// `creationTicket`.
        creation_ticket: TpmtTkCreation = "creationTicket", "TPM's proof that it made this object with this creation data";
        /// `name`.
        name: Tpm2bName = "name", "the new object's Name";
    }
}

params! {
    /// TPM2_Create parameters (TPM 2.0 Part 3 §12.1).
    CreateCommand {
        /// `inSensitive`.
        in_sensitive: Tpm2bSensitiveCreate = "inSensitive", "authValue (and data) for the new key";
        /// `inPublic`.
        in_public: Tpm2bPublic = "inPublic", "the template of the new key";
        /// `outsideInfo`.
        outside_info: Tpm2bData = "outsideInfo", "caller data recorded in the creation data";
        /// `creationPCR`.
        creation_pcr: TpmlPcrSelection = "creationPCR", "PCRs to record in the creation data";
    }
}

params! {
    /// TPM2_Create response parameters.
    CreateResponse {
        /// `outPrivate`.
        out_private: Tpm2bPrivate = "outPrivate", "the private area, encrypted and integrity-protected under the parent";
        /// `outPublic`.
        out_public: Tpm2bPublic = "outPublic", "the public area of the new key";
        /// `creationData`.
        creation_data: Tpm2bCreationData = "creationData", "circumstances of the creation";
        /// `creationHash`.
        creation_hash: Tpm2bDigest = "creationHash", "SHA-256 of creationData";
        /// `creationTicket`.
        creation_ticket: TpmtTkCreation = "creationTicket", "TPM's proof that it made this object with this creation data";
    }
}

params! {
    /// TPM2_Load parameters (TPM 2.0 Part 3 §12.2).
    LoadCommand {
        /// `inPrivate`.
        in_private: Tpm2bPrivate = "inPrivate", "the wrapped private area from TPM2_Create";
        /// `inPublic`.
        in_public: Tpm2bPublic = "inPublic", "the matching public area";
    }
}

params! {
    /// TPM2_Load response parameters (after the `objectHandle`).
    LoadResponse {
        /// `name`.
        name: Tpm2bName = "name", "the loaded object's Name";
    }
}

params! {
    /// TPM2_ReadPublic parameters (none; TPM 2.0 Part 3 §12.4).
    ReadPublicCommand {}
}

params! {
    /// TPM2_ReadPublic response parameters.
    ReadPublicResponse {
        /// `outPublic`.
        out_public: Tpm2bPublic = "outPublic", "the object's public area";
        /// `name`.
        name: Tpm2bName = "name", "its Name";
        /// `qualifiedName`.
        qualified_name: Tpm2bName = "qualifiedName", "its Qualified Name";
    }
}

params! {
    /// TPM2_ObjectChangeAuth parameters (TPM 2.0 Part 3 §12.8).
    ObjectChangeAuthCommand {
        /// `newAuth`.
        new_auth: Tpm2bAuth = "newAuth", "the new authValue, in the clear";
    }
}

params! {
    /// TPM2_ObjectChangeAuth response parameters.
    ObjectChangeAuthResponse {
        /// `outPrivate`.
        out_private: Tpm2bPrivate = "outPrivate", "the private area re-wrapped with the new authValue";
    }
}

params! {
    /// TPM2_Certify parameters (TPM 2.0 Part 3 §18.2).
    CertifyCommand {
        /// `qualifyingData`.
        qualifying_data: Tpm2bData = "qualifyingData", "the caller's nonce, copied into extraData";
        /// `inScheme`.
        in_scheme: TpmtSigScheme = "inScheme", "signing scheme (TPM_ALG_NULL: the key's own)";
    }
}

params! {
    /// TPM2_Certify response parameters.
    CertifyResponse {
        /// `certifyInfo`.
        certify_info: Tpm2bAttest = "certifyInfo", "the TPMS_ATTEST that was signed";
        /// `signature`.
        signature: TpmtSignature = "signature", "the attestation key's signature over certifyInfo";
    }
}

params! {
    /// TPM2_HMAC parameters (TPM 2.0 Part 3 §15.5).
    HmacCommand {
        /// `buffer`.
        buffer: Tpm2bMaxBuffer = "buffer", "the data to MAC";
        /// `hashAlg`.
        hash_alg: TpmAlgId = "hashAlg", "the hash (TPM_ALG_NULL: the key's scheme's)",
            check = |a: &TpmAlgId| (*a != TpmAlgId::SHA256 && *a != TpmAlgId::NULL)
                .then_some(MalformedKind::Hash);
    }
}

params! {
    /// TPM2_HMAC response parameters.
    HmacResponse {
        /// `outHMAC`.
        out_hmac: Tpm2bDigest = "outHMAC", "the HMAC of buffer";
    }
}

params! {
    /// TPM2_RSA_Decrypt parameters (TPM 2.0 Part 3 §14.3).
    RsaDecryptCommand {
        /// `cipherText`.
        cipher_text: Tpm2bPublicKeyRsa = "cipherText", "the data to decrypt";
        /// `inScheme`.
        in_scheme: TpmtRsaDecrypt = "inScheme", "the padding to remove (TPM_ALG_NULL: the key's own)";
        /// `label`.
        label: Tpm2bData = "label", "the OAEP label, ending in a zero byte if not empty";
    }
}

params! {
    /// TPM2_RSA_Decrypt response parameters.
    RsaDecryptResponse {
        /// `message`.
        message: Tpm2bPublicKeyRsa = "message", "the decrypted data, padding removed";
    }
}

params! {
    /// TPM2_Sign parameters (TPM 2.0 Part 3 §20.2).
    SignCommand {
        /// `digest`.
        digest: Tpm2bDigest = "digest", "the digest to sign";
        /// `inScheme`.
        in_scheme: TpmtSigScheme = "inScheme", "signing scheme (TPM_ALG_NULL: the key's own)";
        /// `validation`.
        validation: TpmtTkHashcheck = "validation", "ticket proving the TPM hashed the data; required by a restricted key";
    }
}

params! {
    /// TPM2_Sign response parameters.
    SignResponse {
        /// `signature`.
        signature: TpmtSignature = "signature", "the signature";
    }
}

params! {
    /// TPM2_DictionaryAttackLockReset parameters (none; TPM 2.0 Part 3 §25.2).
    DictionaryAttackLockResetCommand {}
}

params! {
    /// TPM2_DictionaryAttackParameters parameters (TPM 2.0 Part 3 §25.3).
    DictionaryAttackParametersCommand {
        /// `newMaxTries`.
        new_max_tries: u32 = "newMaxTries", "authorization failures before lockout";
        /// `newRecoveryTime`.
        new_recovery_time: u32 = "newRecoveryTime", "seconds after which one failure is forgotten (0: DA off)";
        /// `lockoutRecovery`.
        lockout_recovery: u32 = "lockoutRecovery", "seconds before lockoutAuth may be tried again after a failure";
    }
}

params! {
    /// Response parameters of a command that returns none.
    EmptyResponse {}
}

params! {
    /// TPM2_FlushContext parameters (TPM 2.0 Part 3 §28.4): the handle is a
    /// parameter, not in the handle area, so it needs no authorization.
    FlushContextCommand {
        /// `flushHandle` (`TPMI_DH_CONTEXT`).
        flush_handle: TpmHandle = "flushHandle", "the transient object or session to flush",
            check = |h: &TpmHandle| (!matches!(
                h.handle_type(),
                HandleType::Transient | HandleType::HmacSession | HandleType::PolicySession
            )).then_some(MalformedKind::Value);
    }
}

params! {
    /// TPM2_GetCapability parameters (TPM 2.0 Part 3 §30.2).
    GetCapabilityCommand {
        /// `capability`.
        capability: TpmCap = "capability", "which group of values";
        /// `property`.
        property: u32 = "property", "the first property to return";
        /// `propertyCount`.
        property_count: u32 = "propertyCount", "how many properties at most";
    }
}

params! {
    /// TPM2_GetCapability response parameters.
    GetCapabilityResponse {
        /// `moreData`.
        more_data: bool = "moreData", "YES: more values follow beyond those returned";
        /// `capabilityData`.
        capability_data: TpmsCapabilityData = "capabilityData", "the values";
    }
}

params! {
    /// TPM2_NV_ReadPublic parameters (none; TPM 2.0 Part 3 §31.6).
    NvReadPublicCommand {}
}

params! {
    /// TPM2_NV_ReadPublic response parameters.
    NvReadPublicResponse {
        /// `nvPublic`.
        nv_public: Tpm2bNvPublic = "nvPublic", "the index's public area";
        /// `nvName`.
        nv_name: Tpm2bName = "nvName", "the index's Name";
    }
}

params! {
    /// TPM2_NV_Read parameters (TPM 2.0 Part 3 §31.13).
    NvReadCommand {
        /// `size`.
        size: u16 = "size", "bytes to read";
        /// `offset`.
        offset: u16 = "offset", "where to start in the index";
    }
}

params! {
    /// TPM2_NV_Read response parameters.
    NvReadResponse {
        /// `data`.
        data: Tpm2bMaxNvBuffer = "data", "the bytes read";
    }
}

params! {
    /// TPM2_Hash parameters (TPM 2.0 Part 3 §15.4).
    HashCommand {
        /// `data`.
        data: Tpm2bMaxBuffer = "data", "data to hash";
        /// `hashAlg`.
        hash_alg: TpmAlgId = "hashAlg", "the hash algorithm",
            check = |a: &TpmAlgId| (*a != TpmAlgId::SHA256).then_some(MalformedKind::Hash);
        /// `hierarchy`.
        hierarchy: TpmHandle = "hierarchy", "hierarchy whose proof keys the ticket (TPM_RH_NULL: no ticket)",
            check = |h: &TpmHandle| (!matches!(
                *h,
                TpmHandle::RH_OWNER | TpmHandle::RH_ENDORSEMENT | TpmHandle::RH_PLATFORM | TpmHandle::RH_NULL
            )).then_some(MalformedKind::Value);
    }
}

params! {
    /// TPM2_Hash response parameters.
    HashResponse {
        /// `outHash`.
        out_hash: Tpm2bDigest = "outHash", "the digest";
        /// `validation`.
        validation: TpmtTkHashcheck = "validation", "ticket for signing the digest with a restricted key (NULL if the data began with TPM_GENERATED_VALUE)";
    }
}

/// Reads command `code`'s parameter area (for describing).
pub(crate) fn read_command_params(code: CommandCode, r: &mut Reader<'_>) -> Result<(), Malformed> {
    match code {
        CommandCode::STARTUP => StartupCommand::unmarshal(r).map(drop),
        CommandCode::GET_RANDOM => GetRandomCommand::unmarshal(r).map(drop),
        CommandCode::CREATE_PRIMARY => CreatePrimaryCommand::unmarshal(r).map(drop),
        CommandCode::CREATE => CreateCommand::unmarshal(r).map(drop),
        CommandCode::LOAD => LoadCommand::unmarshal(r).map(drop),
        CommandCode::READ_PUBLIC => ReadPublicCommand::unmarshal(r).map(drop),
        CommandCode::OBJECT_CHANGE_AUTH => ObjectChangeAuthCommand::unmarshal(r).map(drop),
        CommandCode::CERTIFY => CertifyCommand::unmarshal(r).map(drop),
        CommandCode::SIGN => SignCommand::unmarshal(r).map(drop),
        CommandCode::RSA_DECRYPT => RsaDecryptCommand::unmarshal(r).map(drop),
        CommandCode::HMAC => HmacCommand::unmarshal(r).map(drop),
        CommandCode::DICTIONARY_ATTACK_LOCK_RESET => {
            DictionaryAttackLockResetCommand::unmarshal(r).map(drop)
        }
        CommandCode::DICTIONARY_ATTACK_PARAMETERS => {
            DictionaryAttackParametersCommand::unmarshal(r).map(drop)
        }
        CommandCode::FLUSH_CONTEXT => FlushContextCommand::unmarshal(r).map(drop),
        CommandCode::GET_CAPABILITY => GetCapabilityCommand::unmarshal(r).map(drop),
        CommandCode::NV_READ_PUBLIC => NvReadPublicCommand::unmarshal(r).map(drop),
        CommandCode::NV_READ => NvReadCommand::unmarshal(r).map(drop),
        CommandCode::HASH => HashCommand::unmarshal(r).map(drop),
        _ => Err(r.error(MalformedKind::Value)),
    }
}

/// Reads command `code`'s response parameter area (for describing).
pub(crate) fn read_response_params(code: CommandCode, r: &mut Reader<'_>) -> Result<(), Malformed> {
    match code {
        CommandCode::GET_RANDOM => GetRandomResponse::unmarshal(r).map(drop),
        CommandCode::CREATE_PRIMARY => CreatePrimaryResponse::unmarshal(r).map(drop),
        CommandCode::CREATE => CreateResponse::unmarshal(r).map(drop),
        CommandCode::LOAD => LoadResponse::unmarshal(r).map(drop),
        CommandCode::READ_PUBLIC => ReadPublicResponse::unmarshal(r).map(drop),
        CommandCode::OBJECT_CHANGE_AUTH => ObjectChangeAuthResponse::unmarshal(r).map(drop),
        CommandCode::CERTIFY => CertifyResponse::unmarshal(r).map(drop),
        CommandCode::SIGN => SignResponse::unmarshal(r).map(drop),
        CommandCode::RSA_DECRYPT => RsaDecryptResponse::unmarshal(r).map(drop),
        CommandCode::HMAC => HmacResponse::unmarshal(r).map(drop),
        CommandCode::GET_CAPABILITY => GetCapabilityResponse::unmarshal(r).map(drop),
        CommandCode::NV_READ_PUBLIC => NvReadPublicResponse::unmarshal(r).map(drop),
        CommandCode::NV_READ => NvReadResponse::unmarshal(r).map(drop),
        CommandCode::HASH => HashResponse::unmarshal(r).map(drop),
        CommandCode::STARTUP
        | CommandCode::DICTIONARY_ATTACK_LOCK_RESET
        | CommandCode::DICTIONARY_ATTACK_PARAMETERS
        | CommandCode::FLUSH_CONTEXT => EmptyResponse::unmarshal(r).map(drop),
        _ => Err(r.error(MalformedKind::Value)),
    }
}

// ---- framing ------------------------------------------------------------------

/// The 10-byte header of a command (TPM 2.0 Part 1 §18).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CommandHeader {
    pub tag: TpmSt,
    pub size: u32,
    pub code: CommandCode,
}

/// Reads a command header. A tag other than `TPM_ST_NO_SESSIONS` or
/// `TPM_ST_SESSIONS` is a `Tag` fault (the device answers `TPM_RC_BAD_TAG`).
pub(crate) fn read_command_header(r: &mut Reader<'_>) -> Result<CommandHeader, Malformed> {
    let tag = r.field_checked::<TpmSt>(
        "tag",
        "TPM_ST_SESSIONS if an authorization area follows the handles",
        |t| (*t != TpmSt::NO_SESSIONS && *t != TpmSt::SESSIONS).then_some(MalformedKind::Tag),
    )?;
    let size = r.field::<u32>("commandSize", "total bytes in the command, header included")?;
    let code = r.field::<CommandCode>("commandCode", "which command")?;
    Ok(CommandHeader { tag, size, code })
}

/// A handle-area fault: which handle (1-based) and why.
#[derive(Debug)]
pub(crate) struct HandleFault {
    pub index: u8,
    pub malformed: Malformed,
}

/// Reads the handle area of a command of shape `spec`.
pub(crate) fn read_handles(
    r: &mut Reader<'_>,
    spec: &CommandSpec,
) -> Result<Vec<TpmHandle>, HandleFault> {
    let mut out = Vec::with_capacity(spec.handles.len());
    for (i, hs) in spec.handles.iter().enumerate() {
        let index = (i + 1) as u8;
        let handle = r
            .field_checked::<TpmHandle>(hs.name, hs.note, |h| {
                (!hs.kind.accepts(*h)).then_some(MalformedKind::Value)
            })
            .map_err(|malformed| HandleFault { index, malformed })?;
        out.push(handle);
    }
    Ok(out)
}

/// An authorization-area fault.
#[derive(Debug)]
pub(crate) enum AuthAreaFault {
    /// `authorizationSize` is missing (`TPM_RC_INSUFFICIENT`), too small or
    /// larger than what remains (`TPM_RC_SIZE`, as ExecCommand.c checks it).
    Size(Malformed),
    /// Session `index` (1-based) does not parse.
    Session { index: u8, malformed: Malformed },
    /// More than three sessions (`TPM_RC_SIZE + TPM_RC_S + TPM_RC_4`).
    TooMany(Malformed),
}

/// The most sessions a command may carry (`MAX_SESSION_NUM`).
pub(crate) const MAX_SESSION_NUM: usize = 3;

/// Reads an authorization area: `authorizationSize`, then sessions until the
/// area is used up (TPM 2.0 Part 1 §18; checks as in ExecCommand.c).
pub(crate) fn read_auth_area(r: &mut Reader<'_>) -> Result<Vec<TpmsAuthCommand>, AuthAreaFault> {
    let area = |r: &mut Reader<'_>| -> Result<Vec<TpmsAuthCommand>, Malformed> {
        let size_at = r.position();
        let size = r.field::<u32>("authorizationSize", "bytes of sessions that follow")?;
        // The smallest session is 9 bytes: handle, empty nonce, attributes,
        // empty hmac.
        if size < 9 || size as usize > r.remaining() {
            return Err(Malformed::new(
                size_at,
                MalformedKind::Size,
                "authorizationSize",
            ));
        }
        r.bounded(size as usize, |r| {
            let mut sessions = Vec::new();
            while r.remaining() > 0 {
                if sessions.len() == MAX_SESSION_NUM {
                    return Err(Malformed {
                        parameter: Some(MAX_SESSION_NUM as u8 + 1),
                        ..r.error(MalformedKind::Size)
                    });
                }
                let index = sessions.len() as u8 + 1;
                let s = r
                    .field::<TpmsAuthCommand>(
                        "authorization",
                        "one session (TPMS_AUTH_COMMAND), for the handle in the same position",
                    )
                    .map_err(|m| Malformed {
                        parameter: Some(index),
                        ..m
                    })?;
                sessions.push(s);
            }
            Ok(sessions)
        })
    };
    r.group(
        "authorizationArea",
        "the sessions authorizing the command's handles, in handle order",
        "TPM 2.0 Part 1 §18",
        area,
        |s: &Vec<TpmsAuthCommand>| format!("{} session(s)", s.len()),
    )
    .map_err(|m| match m.parameter {
        Some(n) if n as usize > MAX_SESSION_NUM => AuthAreaFault::TooMany(Malformed {
            parameter: None,
            ..m
        }),
        Some(n) => AuthAreaFault::Session {
            index: n,
            malformed: Malformed {
                parameter: None,
                ..m
            },
        },
        None => AuthAreaFault::Size(m),
    })
}

/// Builds a command: header, handles, authorization area (if any sessions),
/// parameters.
pub(crate) fn build_command(
    code: CommandCode,
    handles: &[TpmHandle],
    sessions: &[TpmsAuthCommand],
    params: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + params.len());
    let tag = if sessions.is_empty() {
        TpmSt::NO_SESSIONS
    } else {
        TpmSt::SESSIONS
    };
    tag.marshal(&mut out);
    0u32.marshal(&mut out); // commandSize, patched below
    code.marshal(&mut out);
    for h in handles {
        h.marshal(&mut out);
    }
    if !sessions.is_empty() {
        let mut area = Vec::new();
        for s in sessions {
            s.marshal(&mut area);
        }
        (area.len() as u32).marshal(&mut out);
        out.extend_from_slice(&area);
    }
    out.extend_from_slice(params);
    let size = (out.len() as u32).to_be_bytes();
    out[2..6].copy_from_slice(&size);
    out
}

/// Builds a success response. With sessions, `parameterSize` precedes the
/// parameters and one `TPMS_AUTH_RESPONSE` per session follows them
/// (TPM 2.0 Part 1 §18).
pub(crate) fn build_response(
    tag: TpmSt,
    handle: Option<TpmHandle>,
    params: &[u8],
    sessions: usize,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + params.len());
    tag.marshal(&mut out);
    0u32.marshal(&mut out);
    ResponseCode::SUCCESS.marshal(&mut out);
    if let Some(h) = handle {
        h.marshal(&mut out);
    }
    if tag == TpmSt::SESSIONS {
        (params.len() as u32).marshal(&mut out);
    }
    out.extend_from_slice(params);
    if tag == TpmSt::SESSIONS {
        for _ in 0..sessions {
            TpmsAuthResponse::password().marshal(&mut out);
        }
    }
    let size = (out.len() as u32).to_be_bytes();
    out[2..6].copy_from_slice(&size);
    out
}

/// Builds an error response: always `TPM_ST_NO_SESSIONS`, 10 bytes
/// (TPM 2.0 Part 1 §18: an error response has no parameters or sessions).
pub(crate) fn error_response(rc: ResponseCode) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    TpmSt::NO_SESSIONS.marshal(&mut out);
    10u32.marshal(&mut out);
    rc.marshal(&mut out);
    out
}

/// A response header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResponseHeader {
    pub tag: TpmSt,
    pub size: u32,
    pub code: ResponseCode,
}

/// Reads a response header.
pub(crate) fn read_response_header(r: &mut Reader<'_>) -> Result<ResponseHeader, Malformed> {
    let tag = r.field_checked::<TpmSt>(
        "tag",
        "TPM_ST_SESSIONS if session acknowledgements follow",
        |t| (*t != TpmSt::NO_SESSIONS && *t != TpmSt::SESSIONS).then_some(MalformedKind::Tag),
    )?;
    let size = r.field::<u32>(
        "responseSize",
        "total bytes in the response, header included",
    )?;
    let code =
        r.field::<ResponseCode>("responseCode", "TPM_RC_SUCCESS or the reason for failure")?;
    Ok(ResponseHeader { tag, size, code })
}

/// Reads a whole response to command `spec`. An error code is returned as
/// `Ok(Err(rc))` after checking the response is a well-formed 10-byte error.
/// For a success, the parameters are read by `read_params`.
pub(crate) fn read_response<T>(
    r: &mut Reader<'_>,
    spec: &CommandSpec,
    read_params: impl FnOnce(&mut Reader<'_>) -> Result<T, Malformed>,
) -> Result<Result<(Option<TpmHandle>, T), ResponseCode>, Malformed> {
    let total = r.remaining();
    let header = r.group(
        "header",
        "tag, size and response code",
        "TPM 2.0 Part 1 §18",
        read_response_header,
        |h| h.code.to_string(),
    )?;
    if header.size as usize != total {
        return Err(Malformed::new(2, MalformedKind::Size, "responseSize"));
    }
    if !header.code.is_success() {
        if header.tag != TpmSt::NO_SESSIONS {
            return Err(Malformed::new(0, MalformedKind::Tag, "tag"));
        }
        r.finish()?;
        return Ok(Err(header.code));
    }
    let handle = match spec.response_handle {
        Some(name) => Some(r.group(
            "handles",
            "the handle of the object the command loaded",
            "TPM 2.0 Part 1 §18",
            |r| r.field::<TpmHandle>(name, "the handle of the loaded object"),
            |h| h.to_string(),
        )?),
        None => None,
    };
    let value = if header.tag == TpmSt::SESSIONS {
        let len = r.field::<u32>("parameterSize", "bytes of response parameters")?;
        let v = r.group(
            "parameters",
            "the response parameters",
            spec.spec,
            |r| {
                r.bounded(len as usize, |r| {
                    let v = read_params(r)?;
                    if r.remaining() != 0 {
                        return Err(r.error(MalformedKind::Size));
                    }
                    Ok(v)
                })
            },
            |_| String::new(),
        )?;
        r.group(
            "authorizationArea",
            "one acknowledgement per command session",
            "TPM 2.0 Part 1 §18",
            |r| {
                let mut n = 0usize;
                while r.remaining() > 0 {
                    r.field::<TpmsAuthResponse>("authorization", "TPMS_AUTH_RESPONSE")?;
                    n += 1;
                }
                Ok(n)
            },
            |n| format!("{n} acknowledgement(s)"),
        )?;
        v
    } else {
        let v = r.group(
            "parameters",
            "the response parameters",
            spec.spec,
            read_params,
            |_| String::new(),
        )?;
        r.finish()?;
        v
    };
    Ok(Ok((handle, value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn command_table_is_sorted_and_auth_handles_come_first() {
        for w in COMMANDS.windows(2) {
            assert!(
                w[0].code.0 < w[1].code.0,
                "{} before {}",
                w[0].name,
                w[1].name
            );
        }
        for c in COMMANDS {
            let first_none = c
                .handles
                .iter()
                .position(|h| h.auth == AuthRole::None)
                .unwrap_or(c.handles.len());
            assert!(
                c.handles[first_none..]
                    .iter()
                    .all(|h| h.auth == AuthRole::None),
                "{}",
                c.name
            );
            assert_eq!(c.code.name(), Some(c.name));
        }
    }

    #[test]
    fn startup_clear_is_twelve_bytes() {
        let cmd = build_command(
            CommandCode::STARTUP,
            &[],
            &[],
            &StartupCommand {
                startup_type: TpmSu::CLEAR,
            }
            .to_bytes(),
        );
        assert_eq!(cmd, [0x80, 0x01, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0]);
    }
}
