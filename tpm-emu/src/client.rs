//! The typed layer: builds command bytes, sends them through a
//! [`Transport`], parses the responses, and records every exchange so a UI
//! can show the bytes.

mod provision;

use serde::{Deserialize, Serialize};

use crate::auth::AuthValue;
use crate::commands::{
    self, build_command, CertifyCommand, CertifyResponse, CreateCommand, CreatePrimaryCommand,
    CreatePrimaryResponse, CreateResponse, DictionaryAttackLockResetCommand,
    DictionaryAttackParametersCommand, EmptyResponse, FlushContextCommand, GetCapabilityCommand,
    GetCapabilityResponse, GetRandomCommand, GetRandomResponse, HashCommand, HashResponse,
    HmacCommand, HmacResponse, LoadCommand, LoadResponse, NvReadCommand, NvReadPublicCommand,
    NvReadPublicResponse, NvReadResponse, ObjectChangeAuthCommand, ObjectChangeAuthResponse,
    ReadPublicCommand, ReadPublicResponse, RsaDecryptCommand, RsaDecryptResponse, SignCommand,
    SignResponse, StartupCommand,
};
use crate::device::{DaState, Tpm};
use crate::error::{Error, Malformed, MalformedKind, Result};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::types::{
    CommandCode, ResponseCode, Tpm2bAuth, Tpm2bData, Tpm2bDigest, Tpm2bMaxBuffer, Tpm2bName,
    Tpm2bPrivate, Tpm2bPublic, Tpm2bPublicKeyRsa, Tpm2bSensitiveCreate, Tpm2bSensitiveData,
    TpmAlgId, TpmCap, TpmHandle, TpmPt, TpmSu, TpmlPcrSelection, TpmsAttest, TpmsAuthCommand,
    TpmsCreationData, TpmsNvPublic, TpmsSensitiveCreate, TpmsTaggedProperty, TpmtPublic,
    TpmtRsaDecrypt, TpmtSigScheme, TpmtSignature, TpmtTkCreation, TpmtTkHashcheck,
    TPMA_PERMANENT_IN_LOCKOUT,
};

pub use provision::{KeyHandle, Provisioned};

/// Something that carries TPM command bytes to a TPM and returns its
/// response bytes: the emulated [`Tpm`], or anything wrapping it.
pub trait Transport {
    /// Sends one command, returns the response.
    fn transact(&mut self, command: &[u8]) -> Vec<u8>;
}

impl Transport for Tpm {
    fn transact(&mut self, command: &[u8]) -> Vec<u8> {
        self.execute(command)
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transact(&mut self, command: &[u8]) -> Vec<u8> {
        (**self).transact(command)
    }
}

/// One command and its response, as they crossed the transport.
///
/// By default the recorder blanks the secrets a command carries in the
/// clear (password-session `hmac`, `inSensitive.userAuth`, `newAuth`) with
/// zero bytes of the same length, so offsets and sizes stay true; see
/// [`TpmClient::set_redact_secrets`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exchange {
    /// The command code.
    pub command_code: CommandCode,
    /// The command's name, e.g. `"TPM2_Certify"`.
    pub name: &'static str,
    /// The command bytes.
    pub command: Vec<u8>,
    /// The response bytes.
    pub response: Vec<u8>,
    /// Byte ranges of `command` (offset, length) that hold zeros in place of
    /// a secret the command really carried: what the recorder withheld.
    #[serde(default)]
    pub withheld: Vec<(usize, usize)>,
}

impl Exchange {
    /// The response code in the response header, if there is a header.
    pub fn response_code(&self) -> Option<ResponseCode> {
        let b = self.response.get(6..10)?;
        Some(ResponseCode(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
    }

    /// The command, described field by field; a field whose bytes the
    /// recorder withheld says so instead of showing the zeros as a value.
    pub fn describe_command(&self) -> Result<Vec<crate::describe::Node>> {
        let mut nodes = crate::describe::command(&self.command)?;
        if !self.withheld.is_empty() {
            mark_withheld(&mut nodes, &self.withheld);
        }
        Ok(nodes)
    }

    /// Whether the recorder withheld a secret of this command.
    pub fn has_withheld(&self) -> bool {
        !self.withheld.is_empty()
    }

    /// The response, described field by field.
    pub fn describe_response(&self) -> Result<Vec<crate::describe::Node>> {
        crate::describe::response(self.command_code, &self.response)
    }
}

impl<'de> Deserialize<'de> for Exchange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            command_code: CommandCode,
            command: Vec<u8>,
            response: Vec<u8>,
            #[serde(default)]
            withheld: Vec<(usize, usize)>,
        }
        let w = Wire::deserialize(d)?;
        Ok(Exchange {
            command_code: w.command_code,
            name: commands::command_name(w.command_code),
            command: w.command,
            response: w.response,
            withheld: w.withheld,
        })
    }
}

/// The runs of bytes where `recorded` differs from what was sent: the
/// secrets the recorder replaced (both have the same layout and length).
fn differing_ranges(sent: &[u8], recorded: &[u8]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, (a, b)) in sent.iter().zip(recorded).enumerate() {
        if a != b {
            match out.last_mut() {
                Some((start, len)) if *start + *len == i => *len += 1,
                _ => out.push((i, 1)),
            }
        }
    }
    out
}

/// Marks the fields whose bytes were withheld: the value says so, the
/// note says why; fields that merely contain withheld bytes keep their
/// value but are marked too.
fn mark_withheld(nodes: &mut [crate::describe::Node], withheld: &[(usize, usize)]) {
    for node in nodes {
        let overlaps = withheld
            .iter()
            .any(|&(o, l)| o < node.offset + node.len && node.offset < o + l);
        if !overlaps {
            continue;
        }
        if node.children.is_empty() {
            node.value = format!(
                "withheld: {} byte(s) of a secret (a PIN-derived authValue or a key the caller brings) are shown as zeros",
                node.len
            );
            node.note = "The recorder does not keep secrets a command carries in the clear; a real TPM trace would show them.".into();
        } else {
            mark_withheld(&mut node.children, withheld);
        }
    }
}

/// The result of TPM2_CreatePrimary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPrimary {
    /// The loaded primary key's handle.
    pub handle: TpmHandle,
    /// Its public area.
    pub public: TpmtPublic,
    /// Its Name.
    pub name: Tpm2bName,
    /// The creation data.
    pub creation_data: TpmsCreationData,
    /// SHA-256 of the creation data.
    pub creation_hash: Tpm2bDigest,
    /// The creation ticket.
    pub creation_ticket: TpmtTkCreation,
}

/// The result of TPM2_Create: a key that is not loaded yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The wrapped private area (opaque: only the parent's TPM can open it).
    pub private: Tpm2bPrivate,
    /// The public area.
    pub public: TpmtPublic,
    /// The creation data.
    pub creation_data: TpmsCreationData,
    /// SHA-256 of the creation data.
    pub creation_hash: Tpm2bDigest,
    /// The creation ticket.
    pub creation_ticket: TpmtTkCreation,
}

/// The result of TPM2_Load.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded {
    /// The transient handle.
    pub handle: TpmHandle,
    /// The object's Name, as the TPM computed it.
    pub name: Tpm2bName,
}

/// The result of TPM2_ReadPublic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicInfo {
    /// The public area.
    pub public: TpmtPublic,
    /// The Name.
    pub name: Tpm2bName,
    /// The Qualified Name.
    pub qualified_name: Tpm2bName,
}

/// A TPM2_Certify result: the signed `TPMS_ATTEST`, parsed and as bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The marshalled `TPMS_ATTEST`: the exact bytes the signature covers.
    pub attest_bytes: Vec<u8>,
    /// The same, parsed.
    pub attest: TpmsAttest,
    /// The attestation key's signature over `attest_bytes`.
    pub signature: TpmtSignature,
}

/// The result of TPM2_NV_ReadPublic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvPublicInfo {
    /// The index's public area.
    pub public: TpmsNvPublic,
    /// Its Name.
    pub name: Tpm2bName,
}

/// A typed TPM client over a [`Transport`]. Every method is one or more TPM
/// commands in wire format; every exchange is recorded for
/// [`TpmClient::take_exchanges`].
#[derive(Debug)]
pub struct TpmClient<T: Transport> {
    transport: T,
    exchanges: Vec<Exchange>,
    record: bool,
    redact: bool,
}

/// The TCG index of the ECC NIST P-256 EK certificate (TCG EK Credential
/// Profile, "EK Certificate NV Indices").
pub const EK_CERT_NV_INDEX: TpmHandle = TpmHandle::EK_CERT_ECC_P256;

impl<T: Transport> TpmClient<T> {
    /// A client over `transport`, recording exchanges with secrets blanked.
    pub fn new(transport: T) -> Self {
        TpmClient {
            transport,
            exchanges: Vec::new(),
            record: true,
            redact: true,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably (e.g. to set the emulated TPM's clock).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Gives the transport back.
    pub fn into_inner(self) -> T {
        self.transport
    }

    /// Turns recording of exchanges on or off (on by default).
    pub fn set_recording(&mut self, on: bool) {
        self.record = on;
    }

    /// Whether recorded commands have their clear-text secrets (password
    /// session `hmac`, `userAuth`, `newAuth`) replaced by zeros of the same
    /// length (on by default). The bytes sent to the TPM are never changed.
    pub fn set_redact_secrets(&mut self, on: bool) {
        self.redact = on;
    }

    /// The exchanges recorded since the last call, oldest first.
    pub fn take_exchanges(&mut self) -> Vec<Exchange> {
        core::mem::take(&mut self.exchanges)
    }

    /// Sends a command with password sessions for `auths` (one per
    /// authorized handle) and parses the response parameters as `P`.
    /// `redacted_params` is what the recorder shows instead of `params`.
    fn call<P: Unmarshal>(
        &mut self,
        code: CommandCode,
        handles: &[TpmHandle],
        auths: &[&AuthValue],
        params: &[u8],
        redacted_params: Option<&[u8]>,
    ) -> Result<(Option<TpmHandle>, P)> {
        let sessions: Vec<TpmsAuthCommand> =
            auths.iter().map(|a| TpmsAuthCommand::password(a)).collect();
        let command = build_command(code, handles, &sessions, params);
        let response = self.transport.transact(&command);
        if self.record {
            let recorded = if self.redact {
                let blank: Vec<TpmsAuthCommand> = auths
                    .iter()
                    .map(|a| TpmsAuthCommand::password(&a.redacted()))
                    .collect();
                build_command(code, handles, &blank, redacted_params.unwrap_or(params))
            } else {
                command.clone()
            };
            let withheld = differing_ranges(&command, &recorded);
            self.exchanges.push(Exchange {
                command_code: code,
                name: commands::command_name(code),
                command: recorded,
                response: response.clone(),
                withheld,
            });
        }
        let spec = commands::spec(code)
            .ok_or(Error::Unsupported("command not implemented by this crate"))?;
        let mut r = Reader::new(&response);
        match commands::read_response(&mut r, spec, P::unmarshal)? {
            Ok(v) => Ok(v),
            Err(rc) => Err(Error::Tpm(rc)),
        }
    }

    /// TPM2_Startup(TPM_SU_CLEAR) (TPM 2.0 Part 3 §9.3).
    pub fn startup(&mut self) -> Result<()> {
        let p = StartupCommand {
            startup_type: TpmSu::CLEAR,
        };
        self.call::<EmptyResponse>(CommandCode::STARTUP, &[], &[], &p.to_bytes(), None)?;
        Ok(())
    }

    /// TPM2_GetRandom (TPM 2.0 Part 3 §16.1): at most 32 bytes per call.
    pub fn get_random(&mut self, bytes: u16) -> Result<Vec<u8>> {
        let p = GetRandomCommand {
            bytes_requested: bytes,
        };
        let (_, r) =
            self.call::<GetRandomResponse>(CommandCode::GET_RANDOM, &[], &[], &p.to_bytes(), None)?;
        Ok(r.random_bytes.into_vec())
    }

    fn sensitive(user_auth: &AuthValue) -> Result<Tpm2bSensitiveCreate> {
        Ok(Tpm2bSensitiveCreate(TpmsSensitiveCreate {
            user_auth: Tpm2bAuth::new(user_auth.as_bytes().to_vec())?,
            data: Tpm2bSensitiveData::empty(),
        }))
    }

    /// TPM2_CreatePrimary (TPM 2.0 Part 3 §24.1): derives and loads the
    /// primary key for `template` in `hierarchy`.
    pub fn create_primary(
        &mut self,
        hierarchy: TpmHandle,
        hierarchy_auth: &AuthValue,
        template: &TpmtPublic,
        user_auth: &AuthValue,
    ) -> Result<CreatedPrimary> {
        let build = |auth: &AuthValue| -> Result<Vec<u8>> {
            Ok(CreatePrimaryCommand {
                in_sensitive: Self::sensitive(auth)?,
                in_public: Tpm2bPublic(template.clone()),
                outside_info: Tpm2bData::empty(),
                creation_pcr: TpmlPcrSelection::default(),
            }
            .to_bytes())
        };
        let (params, redacted) = (build(user_auth)?, build(&user_auth.redacted())?);
        let (handle, r) = self.call::<CreatePrimaryResponse>(
            CommandCode::CREATE_PRIMARY,
            &[hierarchy],
            &[hierarchy_auth],
            &params,
            Some(&redacted),
        )?;
        Ok(CreatedPrimary {
            handle: handle.ok_or(Error::Malformed(Malformed::new(
                10,
                MalformedKind::Insufficient,
                "objectHandle",
            )))?,
            public: r.out_public.0,
            name: r.name,
            creation_data: r.creation_data.0,
            creation_hash: r.creation_hash,
            creation_ticket: r.creation_ticket,
        })
    }

    /// TPM2_Create (TPM 2.0 Part 3 §12.1): a new key under `parent`, with
    /// authValue `user_auth`; not loaded.
    pub fn create(
        &mut self,
        parent: TpmHandle,
        parent_auth: &AuthValue,
        template: &TpmtPublic,
        user_auth: &AuthValue,
    ) -> Result<Created> {
        let build = |auth: &AuthValue| -> Result<Vec<u8>> {
            Ok(CreateCommand {
                in_sensitive: Self::sensitive(auth)?,
                in_public: Tpm2bPublic(template.clone()),
                outside_info: Tpm2bData::empty(),
                creation_pcr: TpmlPcrSelection::default(),
            }
            .to_bytes())
        };
        let (params, redacted) = (build(user_auth)?, build(&user_auth.redacted())?);
        let (_, r) = self.call::<CreateResponse>(
            CommandCode::CREATE,
            &[parent],
            &[parent_auth],
            &params,
            Some(&redacted),
        )?;
        Ok(Created {
            private: r.out_private,
            public: r.out_public.0,
            creation_data: r.creation_data.0,
            creation_hash: r.creation_hash,
            creation_ticket: r.creation_ticket,
        })
    }

    /// TPM2_Create of a keyed-hash object whose secret the caller brings
    /// (TPM 2.0 Part 3 §12.1, `inSensitive.data`; the template's
    /// sensitiveDataOrigin clear): an HMAC key the TPM will hold from now
    /// on. The recorder withholds the secret, as it does an authValue.
    pub fn create_keyed_hash(
        &mut self,
        parent: TpmHandle,
        parent_auth: &AuthValue,
        template: &TpmtPublic,
        user_auth: &AuthValue,
        secret: &[u8],
    ) -> Result<Created> {
        let build = |auth: &AuthValue, data: &[u8]| -> Result<Vec<u8>> {
            Ok(CreateCommand {
                in_sensitive: Tpm2bSensitiveCreate(TpmsSensitiveCreate {
                    user_auth: Tpm2bAuth::new(auth.as_bytes().to_vec())?,
                    data: Tpm2bSensitiveData::new(data.to_vec())?,
                }),
                in_public: Tpm2bPublic(template.clone()),
                outside_info: Tpm2bData::empty(),
                creation_pcr: TpmlPcrSelection::default(),
            }
            .to_bytes())
        };
        let zeros = vec![0u8; secret.len()];
        let (params, redacted) = (
            build(user_auth, secret)?,
            build(&user_auth.redacted(), &zeros)?,
        );
        let (_, r) = self.call::<CreateResponse>(
            CommandCode::CREATE,
            &[parent],
            &[parent_auth],
            &params,
            Some(&redacted),
        )?;
        Ok(Created {
            private: r.out_private,
            public: r.out_public.0,
            creation_data: r.creation_data.0,
            creation_hash: r.creation_hash,
            creation_ticket: r.creation_ticket,
        })
    }

    /// TPM2_HMAC (TPM 2.0 Part 3 §15.5): the HMAC of `data` with the
    /// keyed-hash object `key`, with its scheme's hash.
    pub fn hmac(&mut self, key: TpmHandle, key_auth: &AuthValue, data: &[u8]) -> Result<Vec<u8>> {
        let p = HmacCommand {
            buffer: Tpm2bMaxBuffer::new(data.to_vec())?,
            hash_alg: TpmAlgId::NULL,
        };
        let (_, r) =
            self.call::<HmacResponse>(CommandCode::HMAC, &[key], &[key_auth], &p.to_bytes(), None)?;
        Ok(r.out_hmac.as_bytes().to_vec())
    }

    /// TPM2_Load (TPM 2.0 Part 3 §12.2).
    pub fn load(
        &mut self,
        parent: TpmHandle,
        parent_auth: &AuthValue,
        private: &Tpm2bPrivate,
        public: &TpmtPublic,
    ) -> Result<Loaded> {
        let p = LoadCommand {
            in_private: private.clone(),
            in_public: Tpm2bPublic(public.clone()),
        };
        let (handle, r) = self.call::<LoadResponse>(
            CommandCode::LOAD,
            &[parent],
            &[parent_auth],
            &p.to_bytes(),
            None,
        )?;
        Ok(Loaded {
            handle: handle.ok_or(Error::Malformed(Malformed::new(
                10,
                MalformedKind::Insufficient,
                "objectHandle",
            )))?,
            name: r.name,
        })
    }

    /// TPM2_ReadPublic (TPM 2.0 Part 3 §12.4).
    pub fn read_public(&mut self, handle: TpmHandle) -> Result<PublicInfo> {
        let p = ReadPublicCommand {};
        let (_, r) = self.call::<ReadPublicResponse>(
            CommandCode::READ_PUBLIC,
            &[handle],
            &[],
            &p.to_bytes(),
            None,
        )?;
        Ok(PublicInfo {
            public: r.out_public.0,
            name: r.name,
            qualified_name: r.qualified_name,
        })
    }

    /// TPM2_ObjectChangeAuth (TPM 2.0 Part 3 §12.8): a new private area for
    /// the loaded `object` with authValue `new_auth`. The loaded object keeps
    /// its old authValue until the new private area is loaded.
    pub fn object_change_auth(
        &mut self,
        object: TpmHandle,
        object_auth: &AuthValue,
        parent: TpmHandle,
        new_auth: &AuthValue,
    ) -> Result<Tpm2bPrivate> {
        let build = |auth: &AuthValue| -> Result<Vec<u8>> {
            Ok(ObjectChangeAuthCommand {
                new_auth: Tpm2bAuth::new(auth.as_bytes().to_vec())?,
            }
            .to_bytes())
        };
        let (params, redacted) = (build(new_auth)?, build(&new_auth.redacted())?);
        let (_, r) = self.call::<ObjectChangeAuthResponse>(
            CommandCode::OBJECT_CHANGE_AUTH,
            &[object, parent],
            &[object_auth],
            &params,
            Some(&redacted),
        )?;
        Ok(r.out_private)
    }

    /// Binds a loaded key to a new authValue the way a TPM allows it:
    /// TPM2_ObjectChangeAuth, TPM2_FlushContext of the old copy, TPM2_Load of
    /// the new private area. Returns the new private area and handle.
    pub fn change_auth_and_reload(
        &mut self,
        object: TpmHandle,
        object_auth: &AuthValue,
        parent: TpmHandle,
        parent_auth: &AuthValue,
        public: &TpmtPublic,
        new_auth: &AuthValue,
    ) -> Result<(Tpm2bPrivate, Loaded)> {
        let private = self.object_change_auth(object, object_auth, parent, new_auth)?;
        self.flush_context(object)?;
        let loaded = self.load(parent, parent_auth, &private, public)?;
        Ok((private, loaded))
    }

    /// TPM2_Certify (TPM 2.0 Part 3 §18.2): `sign_key` attests that `object`
    /// is loaded in this TPM, with `qualifying_data` (at most 34 bytes, the
    /// size of a `TPMT_HA`) echoed in `extraData`. Both handles need their
    /// authValues. The key's own scheme is used.
    pub fn certify(
        &mut self,
        object: TpmHandle,
        object_auth: &AuthValue,
        sign_key: TpmHandle,
        sign_auth: &AuthValue,
        qualifying_data: &[u8],
    ) -> Result<Attestation> {
        let p = CertifyCommand {
            qualifying_data: Tpm2bData::new(qualifying_data.to_vec())?,
            in_scheme: TpmtSigScheme::NULL,
        };
        let (_, r) = self.call::<CertifyResponse>(
            CommandCode::CERTIFY,
            &[object, sign_key],
            &[object_auth, sign_auth],
            &p.to_bytes(),
            None,
        )?;
        Ok(Attestation {
            attest_bytes: r.certify_info.0.to_bytes(),
            attest: r.certify_info.0,
            signature: r.signature,
        })
    }

    /// TPM2_Sign (TPM 2.0 Part 3 §20.2) of a SHA-256 `digest` with the key's
    /// own scheme and a NULL ticket. A restricted key refuses
    /// (`TPM_RC_TICKET`); see [`TpmClient::sign_with_ticket`].
    pub fn sign(
        &mut self,
        key: TpmHandle,
        key_auth: &AuthValue,
        digest: &[u8],
    ) -> Result<TpmtSignature> {
        self.sign_with_ticket(key, key_auth, digest, &TpmtTkHashcheck::null())
    }

    /// TPM2_RSA_Decrypt (TPM 2.0 Part 3 §14.3): decrypts `cipher_text` with
    /// the RSA decryption key `key`, removing `scheme`'s padding (OAEP with
    /// `label`, which must be empty or end in a zero byte).
    pub fn rsa_decrypt(
        &mut self,
        key: TpmHandle,
        key_auth: &AuthValue,
        cipher_text: &[u8],
        scheme: TpmtRsaDecrypt,
        label: &[u8],
    ) -> Result<Vec<u8>> {
        let p = RsaDecryptCommand {
            cipher_text: Tpm2bPublicKeyRsa::new(cipher_text.to_vec())?,
            in_scheme: scheme,
            label: Tpm2bData::new(label.to_vec())?,
        };
        let (_, r) = self.call::<RsaDecryptResponse>(
            CommandCode::RSA_DECRYPT,
            &[key],
            &[key_auth],
            &p.to_bytes(),
            None,
        )?;
        Ok(r.message.as_bytes().to_vec())
    }

    /// TPM2_Sign with a hash-check ticket from [`TpmClient::hash`].
    pub fn sign_with_ticket(
        &mut self,
        key: TpmHandle,
        key_auth: &AuthValue,
        digest: &[u8],
        validation: &TpmtTkHashcheck,
    ) -> Result<TpmtSignature> {
        let p = SignCommand {
            digest: Tpm2bDigest::new(digest.to_vec())?,
            in_scheme: TpmtSigScheme::NULL,
            validation: validation.clone(),
        };
        let (_, r) =
            self.call::<SignResponse>(CommandCode::SIGN, &[key], &[key_auth], &p.to_bytes(), None)?;
        Ok(r.signature)
    }

    /// TPM2_Hash (TPM 2.0 Part 3 §15.4) with SHA-256: the digest and a
    /// ticket for `hierarchy` (a NULL ticket if the data begins with
    /// `TPM_GENERATED_VALUE`).
    pub fn hash(
        &mut self,
        data: &[u8],
        hierarchy: TpmHandle,
    ) -> Result<(Vec<u8>, TpmtTkHashcheck)> {
        let p = HashCommand {
            data: Tpm2bMaxBuffer::new(data.to_vec())?,
            hash_alg: TpmAlgId::SHA256,
            hierarchy,
        };
        let (_, r) = self.call::<HashResponse>(CommandCode::HASH, &[], &[], &p.to_bytes(), None)?;
        Ok((r.out_hash.into_vec(), r.validation))
    }

    /// TPM2_DictionaryAttackParameters (TPM 2.0 Part 3 §25.3).
    pub fn dictionary_attack_parameters(
        &mut self,
        lockout_auth: &AuthValue,
        max_tries: u32,
        recovery_time_s: u32,
        lockout_recovery_s: u32,
    ) -> Result<()> {
        let p = DictionaryAttackParametersCommand {
            new_max_tries: max_tries,
            new_recovery_time: recovery_time_s,
            lockout_recovery: lockout_recovery_s,
        };
        self.call::<EmptyResponse>(
            CommandCode::DICTIONARY_ATTACK_PARAMETERS,
            &[TpmHandle::RH_LOCKOUT],
            &[lockout_auth],
            &p.to_bytes(),
            None,
        )?;
        Ok(())
    }

    /// TPM2_DictionaryAttackLockReset (TPM 2.0 Part 3 §25.2).
    pub fn dictionary_attack_lock_reset(&mut self, lockout_auth: &AuthValue) -> Result<()> {
        let p = DictionaryAttackLockResetCommand {};
        self.call::<EmptyResponse>(
            CommandCode::DICTIONARY_ATTACK_LOCK_RESET,
            &[TpmHandle::RH_LOCKOUT],
            &[lockout_auth],
            &p.to_bytes(),
            None,
        )?;
        Ok(())
    }

    /// TPM2_FlushContext (TPM 2.0 Part 3 §28.4).
    pub fn flush_context(&mut self, handle: TpmHandle) -> Result<()> {
        let p = FlushContextCommand {
            flush_handle: handle,
        };
        self.call::<EmptyResponse>(CommandCode::FLUSH_CONTEXT, &[], &[], &p.to_bytes(), None)?;
        Ok(())
    }

    /// TPM2_NV_ReadPublic (TPM 2.0 Part 3 §31.6).
    pub fn nv_read_public(&mut self, index: TpmHandle) -> Result<NvPublicInfo> {
        let p = NvReadPublicCommand {};
        let (_, r) = self.call::<NvReadPublicResponse>(
            CommandCode::NV_READ_PUBLIC,
            &[index],
            &[],
            &p.to_bytes(),
            None,
        )?;
        Ok(NvPublicInfo {
            public: r.nv_public.0,
            name: r.nv_name,
        })
    }

    /// TPM2_NV_Read (TPM 2.0 Part 3 §31.13) of `size` bytes at `offset`,
    /// authorized by the index itself with the Empty Auth.
    pub fn nv_read(&mut self, index: TpmHandle, offset: u16, size: u16) -> Result<Vec<u8>> {
        let p = NvReadCommand { size, offset };
        let (_, r) = self.call::<NvReadResponse>(
            CommandCode::NV_READ,
            &[index, index],
            &[&AuthValue::empty()],
            &p.to_bytes(),
            None,
        )?;
        Ok(r.data.into_vec())
    }

    /// The whole contents of an NV index: TPM2_NV_ReadPublic for its size,
    /// then TPM2_NV_Read in chunks of `TPM_PT_NV_BUFFER_MAX` (1024) bytes.
    pub fn nv_read_all(&mut self, index: TpmHandle) -> Result<Vec<u8>> {
        let size = self.nv_read_public(index)?.public.data_size;
        let mut out = Vec::with_capacity(usize::from(size));
        let mut offset = 0u16;
        while offset < size {
            let chunk = (size - offset).min(1024);
            out.extend(self.nv_read(index, offset, chunk)?);
            offset += chunk;
        }
        Ok(out)
    }

    /// The EK certificate (DER), read from its TCG NV index.
    pub fn ek_certificate(&mut self) -> Result<Vec<u8>> {
        self.nv_read_all(EK_CERT_NV_INDEX)
    }

    /// TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES) (TPM 2.0 Part 3 §30.2):
    /// up to `count` properties from `first` on.
    pub fn tpm_properties(&mut self, first: TpmPt, count: u32) -> Result<Vec<TpmsTaggedProperty>> {
        let p = GetCapabilityCommand {
            capability: TpmCap::TPM_PROPERTIES,
            property: first.0,
            property_count: count,
        };
        let (_, r) = self.call::<GetCapabilityResponse>(
            CommandCode::GET_CAPABILITY,
            &[],
            &[],
            &p.to_bytes(),
            None,
        )?;
        Ok(r.capability_data.tpm_properties.0)
    }

    /// The dictionary-attack state, read with TPM2_GetCapability:
    /// `TPM_PT_PERMANENT` (inLockout) and `TPM_PT_LOCKOUT_COUNTER` …
    /// `TPM_PT_LOCKOUT_RECOVERY`. The timing fields a TPM does not report are
    /// `None` (the emulated device has them: [`Tpm::da_state`]).
    pub fn da_state(&mut self) -> Result<DaState> {
        let props = self.tpm_properties(TpmPt::PERMANENT, 32)?;
        let get = |pt: TpmPt| {
            props
                .iter()
                .find(|p| p.property == pt)
                .map(|p| p.value)
                .ok_or(Error::Unsupported(
                    "TPM did not report a dictionary-attack property",
                ))
        };
        Ok(DaState {
            failed_tries: get(TpmPt::LOCKOUT_COUNTER)?,
            max_tries: get(TpmPt::MAX_AUTH_FAIL)?,
            recovery_time_s: get(TpmPt::LOCKOUT_INTERVAL)?,
            lockout_recovery_s: get(TpmPt::LOCKOUT_RECOVERY)?,
            locked_out: get(TpmPt::PERMANENT)? & TPMA_PERMANENT_IN_LOCKOUT != 0,
            lockout_until: None,
            next_forgiveness: None,
            lockout_auth_available: None,
        })
    }
}
