//! Command execution, in the order of the reference implementation's
//! `ExecuteCommand()` (ExecCommand.c): header, handle area, load status,
//! authorization area and authorization checks, then the parameters and the
//! command's actions (TPM 2.0 Part 3).

use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::objects::{generate, generate_with, qualified_name, rebuild_key, Object, PrivateKey};
use super::{manufacturer, Seeds, Tpm, MAX_COMMAND_SIZE, MAX_LOADED_OBJECTS};
use crate::commands::{
    self, build_response, error_response, read_auth_area, read_command_header, read_handles,
    AuthAreaFault, AuthRole, CertifyCommand, CertifyResponse, CommandSpec, CreateCommand,
    CreatePrimaryCommand, CreatePrimaryResponse, CreateResponse, DictionaryAttackLockResetCommand,
    DictionaryAttackParametersCommand, FlushContextCommand, GetCapabilityCommand,
    GetCapabilityResponse, GetRandomCommand, GetRandomResponse, HashCommand, HashResponse,
    HmacCommand, HmacResponse, LoadCommand, LoadResponse, NvReadCommand, NvReadPublicCommand,
    NvReadPublicResponse, NvReadResponse, ObjectChangeAuthCommand, ObjectChangeAuthResponse,
    ReadPublicCommand, ReadPublicResponse, RsaDecryptCommand, RsaDecryptResponse, SignCommand,
    SignResponse, StartupCommand,
};
use crate::crypto::{
    constant_time_eq, hmac_sha256, kdfa, kdfa32, unwrap_private, wrap_private, UnwrapError,
};
use crate::error::{Malformed, MalformedKind};
use crate::marshal::{Marshal, Reader, Unmarshal};
use crate::types::{
    CommandCode, HandleType, PublicKind, ResponseCode, Tpm2bAttest, Tpm2bCreationData, Tpm2bData,
    Tpm2bDigest, Tpm2bMaxNvBuffer, Tpm2bName, Tpm2bNvPublic, Tpm2bPublic, Tpm2bPublicKeyRsa,
    TpmAlgId, TpmCap, TpmHandle, TpmPt, TpmSt, TpmSu, TpmaLocality, TpmaNv, TpmaObject,
    TpmaSession, TpmlPcrSelection, TpmlTaggedTpmProperty, TpmsAttest, TpmsAuthCommand,
    TpmsCapabilityData, TpmsCertifyInfo, TpmsClockInfo, TpmsCreationData, TpmsTaggedProperty,
    TpmtPublic, TpmtRsaDecrypt, TpmtSigScheme, TpmtSymDefObject, TpmtTkCreation, TpmtTkHashcheck,
    TpmuAttest, MAX_TPM_PROPERTIES, TPMA_PERMANENT_IN_LOCKOUT, TPM_GENERATED_VALUE,
};

/// The outcome of a command step: a value, or the response code to answer.
type TpmResult<T> = Result<T, ResponseCode>;

pub(crate) fn execute(tpm: &mut Tpm, command: &[u8]) -> Vec<u8> {
    match tpm.run(command) {
        Ok(response) => response,
        Err(rc) => error_response(rc),
    }
}

/// The response code for a parameter that failed to unmarshal:
/// `code + TPM_RC_P + TPM_RC_n`.
fn param_rc(m: Malformed) -> ResponseCode {
    match m.parameter {
        Some(n) => m.response_code().at_parameter(n),
        None => m.response_code(),
    }
}

/// Unmarshals a parameter area that must be used up exactly.
fn parse<T: Unmarshal>(params: &[u8]) -> TpmResult<T> {
    let mut r = Reader::new(params);
    let v = T::unmarshal(&mut r).map_err(param_rc)?;
    if r.remaining() != 0 {
        return Err(ResponseCode::SIZE);
    }
    Ok(v)
}

/// Whether a command accepts an authorization area at all (commands such
/// as TPM2_Startup and TPM2_FlushContext take no sessions; Part 3 marks them
/// "Auth Index: None" with no session).
fn sessions_allowed(code: CommandCode) -> bool {
    !matches!(code, CommandCode::STARTUP | CommandCode::FLUSH_CONTEXT)
}

/// Strips trailing zero octets, as the TPM does before comparing a password
/// with an authValue (`MemoryRemoveTrailingZeros` in the reference implementation).
fn strip_zeros(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
    &b[..end]
}

/// The PCR digest for creation data: this TPM's PCRs are never extended, so
/// every selected PCR holds 32 zero bytes (TPM 2.0 Part 2 §15.1: empty if no
/// PCR is selected).
fn pcr_digest(selection: &TpmlPcrSelection) -> Tpm2bDigest {
    let count: u32 = selection
        .0
        .iter()
        .flat_map(|s| s.pcr_select.iter())
        .map(|b| b.count_ones())
        .sum();
    if count == 0 {
        return Tpm2bDigest::empty();
    }
    let mut h = Sha256::new();
    for _ in 0..count {
        h.update([0u8; 32]);
    }
    Tpm2bDigest::new(h.finalize().to_vec()).unwrap_or_default()
}

/// Checks a creation template (TPM 2.0 Part 1, "Object Attributes", and
/// the TPM2_Create error list of Part 3 §12.1). Codes carry no parameter number;
/// the caller adds it.
fn validate_template(t: &TpmtPublic, parent: Option<&TpmtPublic>) -> TpmResult<()> {
    let a = t.object_attributes;
    let has = |bit: TpmaObject| a.contains(bit);
    if has(TpmaObject::FIXED_TPM) && !has(TpmaObject::FIXED_PARENT) {
        return Err(ResponseCode::ATTRIBUTES);
    }
    if let Some(p) = parent {
        if has(TpmaObject::FIXED_TPM) && !p.object_attributes.contains(TpmaObject::FIXED_TPM) {
            return Err(ResponseCode::ATTRIBUTES);
        }
    }
    // Asymmetric keys here are always generated inside the TPM; a
    // keyed-hash object's secret may come from the caller, and it is an
    // HMAC key: unrestricted, signing, not decrypting (no sealed data).
    if let PublicKind::KeyedHash { scheme, .. } = &t.kind {
        if has(TpmaObject::X509_SIGN)
            || has(TpmaObject::RESTRICTED)
            || has(TpmaObject::DECRYPT)
            || !has(TpmaObject::SIGN)
        {
            return Err(ResponseCode::ATTRIBUTES);
        }
        if !t.symmetric().is_null() {
            return Err(ResponseCode::SYMMETRIC);
        }
        if !(scheme.is_null() || scheme.hash_alg == TpmAlgId::SHA256) {
            return Err(ResponseCode::HASH);
        }
        if !(t.auth_policy.is_empty() || t.auth_policy.len() == 32) {
            return Err(ResponseCode::SIZE);
        }
        return Ok(());
    }
    if !has(TpmaObject::SENSITIVE_DATA_ORIGIN) || has(TpmaObject::X509_SIGN) {
        return Err(ResponseCode::ATTRIBUTES);
    }
    let sign = has(TpmaObject::SIGN);
    let decrypt = has(TpmaObject::DECRYPT);
    let restricted = has(TpmaObject::RESTRICTED);
    if (!sign && !decrypt) || (restricted && sign && decrypt) {
        return Err(ResponseCode::ATTRIBUTES);
    }
    if !(t.auth_policy.is_empty() || t.auth_policy.len() == 32) {
        return Err(ResponseCode::SIZE);
    }
    let storage = restricted && decrypt;
    let sym = t.symmetric();
    if storage {
        if sym != TpmtSymDefObject::AES_128_CFB {
            return Err(ResponseCode::SYMMETRIC);
        }
    } else if !sym.is_null() {
        return Err(ResponseCode::SYMMETRIC);
    }
    let (scheme, signing_scheme, decrypt_schemes): (TpmAlgId, TpmAlgId, &[TpmAlgId]) = match &t.kind
    {
        PublicKind::Rsa { parameters, .. } => {
            if parameters.exponent != 0 && parameters.exponent != 65537 {
                return Err(ResponseCode::VALUE);
            }
            (
                parameters.scheme.scheme,
                TpmAlgId::RSASSA,
                &[TpmAlgId::RSAES, TpmAlgId::OAEP],
            )
        }
        PublicKind::Ecc { parameters, .. } => {
            if !parameters.kdf.is_null() {
                return Err(ResponseCode::KDF);
            }
            (parameters.scheme.scheme, TpmAlgId::ECDSA, &[TpmAlgId::ECDH])
        }
        PublicKind::KeyedHash { .. } => return Ok(()),
    };
    let ok = if storage || (sign && decrypt) {
        scheme == TpmAlgId::NULL
    } else if sign {
        scheme == signing_scheme || (!restricted && scheme == TpmAlgId::NULL)
    } else {
        scheme == TpmAlgId::NULL || decrypt_schemes.contains(&scheme)
    };
    if !ok {
        return Err(ResponseCode::SCHEME);
    }
    Ok(())
}

/// Derives a primary key from a hierarchy's primary seed and the template,
/// as TPM2_CreatePrimary does (TPM 2.0 Part 1, "Primary Keys"): a DRBG is
/// seeded with `KDFa(primarySeed, "Primary Object Creation", Name(template))`
/// and supplies the seedValue and the key, so the same seed and template
/// always give the same key (the template's `unique` field takes part).
pub(crate) fn derive_primary(
    seeds: &Seeds,
    hierarchy: TpmHandle,
    template: &TpmtPublic,
) -> TpmResult<(TpmtPublic, PrivateKey, Vec<u8>)> {
    let name = template.name();
    let seed = kdfa32(
        seeds.primary_seed(hierarchy),
        "Primary Object Creation",
        name.as_bytes(),
        &[],
    );
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed);
    generate(template, &mut rng)
}

/// Chooses the signing scheme: the key's own, or the requested one if the
/// key has none (TPM 2.0 Part 3 §20.2, `CryptSelectSignScheme`).
fn select_scheme(key: &TpmtPublic, requested: TpmtSigScheme) -> TpmResult<TpmtSigScheme> {
    let own = key.sig_scheme();
    let chosen = if own.is_null() {
        requested
    } else if requested.is_null() || requested == own {
        own
    } else {
        return Err(ResponseCode::SCHEME);
    };
    match (key.type_(), chosen.scheme) {
        (TpmAlgId::RSA, TpmAlgId::RSASSA) | (TpmAlgId::ECC, TpmAlgId::ECDSA) => Ok(chosen),
        _ => Err(ResponseCode::SCHEME),
    }
}

impl Tpm {
    fn run(&mut self, command: &[u8]) -> TpmResult<Vec<u8>> {
        let mut r = Reader::new(command);
        let header = read_command_header(&mut r).map_err(|m| {
            if m.kind == MalformedKind::Tag {
                ResponseCode::BAD_TAG
            } else {
                m.response_code()
            }
        })?;
        if header.size as usize != command.len() || command.len() > MAX_COMMAND_SIZE {
            return Err(ResponseCode::COMMAND_SIZE);
        }
        let spec = commands::spec(header.code).ok_or(ResponseCode::COMMAND_CODE)?;
        // Only TPM2_Startup before Startup, and never again after it.
        if self.started == (header.code == CommandCode::STARTUP) {
            return Err(ResponseCode::INITIALIZE);
        }
        self.da.self_heal(self.now);

        let handles = read_handles(&mut r, spec)
            .map_err(|f| f.malformed.response_code().at_handle(f.index))?;
        self.check_load_status(&handles)?;

        let sessions = if header.tag == TpmSt::SESSIONS {
            if !sessions_allowed(header.code) {
                return Err(ResponseCode::AUTH_CONTEXT);
            }
            let sessions = read_auth_area(&mut r).map_err(|f| match f {
                AuthAreaFault::Size(m) => m.response_code(),
                AuthAreaFault::Session { index, malformed } => {
                    malformed.response_code().at_session(index)
                }
                AuthAreaFault::TooMany(_) => ResponseCode::SIZE.at_session(4),
            })?;
            self.check_sessions(spec, &sessions)?;
            sessions
        } else {
            if spec.auth_count() > 0 {
                return Err(ResponseCode::AUTH_MISSING);
            }
            Vec::new()
        };
        for (i, (handle, session)) in handles
            .iter()
            .zip(&sessions)
            .enumerate()
            .take(spec.auth_count())
        {
            self.authorize(spec, i, *handle, session)?;
        }

        let params = command.get(r.position()..).unwrap_or_default();
        let (handle, out) = self.dispatch(header.code, &handles, params)?;
        Ok(build_response(header.tag, handle, &out, sessions.len()))
    }

    // ---- handles and authorization ----------------------------------------

    pub(crate) fn object(&self, handle: TpmHandle) -> Option<&Object> {
        if handle.handle_type() != HandleType::Transient {
            return None;
        }
        let slot = (handle.0 - TpmHandle::TRANSIENT_FIRST.0) as usize;
        self.objects.get(slot).and_then(|o| o.as_ref())
    }

    fn nv_index(&self, handle: TpmHandle) -> Option<&super::NvIndex> {
        self.nv.iter().find(|n| n.public.nv_index == handle)
    }

    /// `EntityGetLoadStatus()`: every handle must name something present.
    fn check_load_status(&self, handles: &[TpmHandle]) -> TpmResult<()> {
        for (i, h) in handles.iter().enumerate() {
            let n = (i + 1) as u8;
            match h.handle_type() {
                HandleType::Permanent => {}
                HandleType::Transient => {
                    if self.object(*h).is_none() {
                        return Err(ResponseCode(ResponseCode::REFERENCE_H0.0 + i as u32));
                    }
                }
                HandleType::NvIndex => {
                    if self.nv_index(*h).is_none() {
                        return Err(ResponseCode::HANDLE.at_handle(n));
                    }
                }
                // No persistent objects are defined on this TPM.
                HandleType::Persistent => return Err(ResponseCode::HANDLE.at_handle(n)),
                _ => return Err(ResponseCode::VALUE.at_handle(n)),
            }
        }
        Ok(())
    }

    /// Session checks before any authorization (`RetrieveSessionData()` and
    /// the start of `ParseSessionBuffer()`). Only password sessions exist here.
    fn check_sessions(&self, spec: &CommandSpec, sessions: &[TpmsAuthCommand]) -> TpmResult<()> {
        let forbidden = TpmaSession::AUDIT.0
            | TpmaSession::ENCRYPT.0
            | TpmaSession::DECRYPT.0
            | TpmaSession::AUDIT_EXCLUSIVE.0
            | TpmaSession::AUDIT_RESET.0;
        for (i, s) in sessions.iter().enumerate() {
            let n = (i + 1) as u8;
            if s.session_handle != TpmHandle::RS_PW {
                // No HMAC or policy session has been started.
                return Err(ResponseCode(ResponseCode::REFERENCE_S0.0 + i as u32));
            }
            if s.session_attributes.0 & forbidden != 0 {
                return Err(ResponseCode::ATTRIBUTES.at_session(n));
            }
            if !s.nonce.is_empty() {
                return Err(ResponseCode::NONCE.at_session(n));
            }
        }
        if sessions.len() < spec.auth_count() {
            return Err(ResponseCode::AUTH_MISSING);
        }
        if sessions.len() > spec.auth_count() {
            // A password session must authorize a handle.
            return Err(ResponseCode::HANDLE.at_session((spec.auth_count() + 1) as u8));
        }
        Ok(())
    }

    /// `IsDAExempted()`.
    fn da_exempt(&self, handle: TpmHandle) -> bool {
        match handle.handle_type() {
            HandleType::Permanent => handle != TpmHandle::RH_LOCKOUT,
            HandleType::Transient => self
                .object(handle)
                .is_none_or(|o| o.public.object_attributes.contains(TpmaObject::NO_DA)),
            HandleType::NvIndex => self
                .nv_index(handle)
                .is_none_or(|n| n.public.attributes.contains(TpmaNv::NO_DA)),
            _ => true,
        }
    }

    /// `EntityGetAuthValue()`.
    fn auth_value(&self, handle: TpmHandle) -> Vec<u8> {
        match handle {
            TpmHandle::RH_LOCKOUT => self.config.lockout_auth.as_bytes().to_vec(),
            h if h.handle_type() == HandleType::Transient => self
                .object(h)
                .map(|o| o.auth_value.clone())
                .unwrap_or_default(),
            // Owner, endorsement and platform authValues, and the EK
            // certificate index's, are the Empty Auth on this TPM.
            _ => Vec::new(),
        }
    }

    /// `CheckAuthSession()` for a password session (TPM 2.0 Part 1,
    /// "Password Authorizations" and "Dictionary Attack Protection").
    fn authorize(
        &mut self,
        spec: &CommandSpec,
        i: usize,
        handle: TpmHandle,
        session: &TpmsAuthCommand,
    ) -> TpmResult<()> {
        let n = (i + 1) as u8;
        let role = spec.handles.get(i).map_or(AuthRole::User, |h| h.auth);
        let exempt = self.da_exempt(handle);
        if !exempt {
            let locked = if handle == TpmHandle::RH_LOCKOUT {
                !self.da.lockout_auth_enabled
            } else {
                self.da.locked_out()
            };
            if locked {
                return Err(ResponseCode::LOCKOUT);
            }
        }
        if let Some(o) = self.object(handle) {
            let a = o.public.object_attributes;
            // ADMIN role with adminWithPolicy needs a policy session.
            if role == AuthRole::Admin && a.contains(TpmaObject::ADMIN_WITH_POLICY) {
                return Err(ResponseCode::AUTH_TYPE);
            }
            // USER role with the authValue needs userWithAuth.
            if role == AuthRole::User && !a.contains(TpmaObject::USER_WITH_AUTH) {
                return Err(ResponseCode::AUTH_UNAVAILABLE);
            }
        }
        if let Some(nv) = self.nv_index(handle) {
            if !nv.public.attributes.contains(TpmaNv::AUTHREAD) {
                return Err(ResponseCode::AUTH_UNAVAILABLE);
            }
        }
        let expected = self.auth_value(handle);
        if constant_time_eq(strip_zeros(session.hmac.as_bytes()), strip_zeros(&expected)) {
            return Ok(());
        }
        if exempt {
            return Err(ResponseCode::BAD_AUTH.at_session(n));
        }
        if handle == TpmHandle::RH_LOCKOUT {
            self.da.register_lockout_failure(self.now);
        } else {
            self.da.register_failure(self.now);
        }
        Err(ResponseCode::AUTH_FAIL.at_session(n))
    }

    // ---- commands -----------------------------------------------------------

    fn dispatch(
        &mut self,
        code: CommandCode,
        handles: &[TpmHandle],
        params: &[u8],
    ) -> TpmResult<(Option<TpmHandle>, Vec<u8>)> {
        let h = |i: usize| handles.get(i).copied().ok_or(ResponseCode::FAILURE);
        let none = |v: Vec<u8>| Ok((None, v));
        match code {
            CommandCode::STARTUP => none(self.startup(parse(params)?)?),
            CommandCode::GET_RANDOM => none(self.get_random(parse(params)?)),
            CommandCode::CREATE_PRIMARY => self.create_primary(h(0)?, parse(params)?),
            CommandCode::CREATE => none(self.create(h(0)?, params)?),
            CommandCode::LOAD => self.load(h(0)?, parse(params)?),
            CommandCode::READ_PUBLIC => {
                parse::<ReadPublicCommand>(params)?;
                none(self.read_public(h(0)?)?)
            }
            CommandCode::OBJECT_CHANGE_AUTH => {
                none(self.object_change_auth(h(0)?, h(1)?, parse(params)?)?)
            }
            CommandCode::CERTIFY => none(self.certify(h(0)?, h(1)?, parse(params)?)?),
            CommandCode::SIGN => none(self.sign(h(0)?, parse(params)?)?),
            CommandCode::RSA_DECRYPT => none(self.rsa_decrypt(h(0)?, parse(params)?)?),
            CommandCode::HMAC => none(self.hmac(h(0)?, parse(params)?)?),
            CommandCode::DICTIONARY_ATTACK_LOCK_RESET => {
                parse::<DictionaryAttackLockResetCommand>(params)?;
                // TPM 2.0 Part 3 §25.2: failedTries = 0.
                self.da.failed_tries = 0;
                none(Vec::new())
            }
            CommandCode::DICTIONARY_ATTACK_PARAMETERS => {
                let p: DictionaryAttackParametersCommand = parse(params)?;
                // TPM 2.0 Part 3 §25.3.
                self.da.max_tries = p.new_max_tries;
                self.da.recovery_time = p.new_recovery_time;
                self.da.lockout_recovery = p.lockout_recovery;
                none(Vec::new())
            }
            CommandCode::FLUSH_CONTEXT => none(self.flush_context(parse(params)?)?),
            CommandCode::GET_CAPABILITY => none(self.get_capability(parse(params)?)?),
            CommandCode::NV_READ_PUBLIC => {
                parse::<NvReadPublicCommand>(params)?;
                none(self.nv_read_public(h(0)?)?)
            }
            CommandCode::NV_READ => none(self.nv_read(h(0)?, h(1)?, parse(params)?)?),
            CommandCode::HASH => none(self.hash(parse(params)?)),
            _ => Err(ResponseCode::COMMAND_CODE),
        }
    }

    /// TPM2_Startup (TPM 2.0 Part 3 §9.3).
    fn startup(&mut self, p: StartupCommand) -> TpmResult<Vec<u8>> {
        if p.startup_type == TpmSu::STATE {
            // No TPM2_Shutdown(STATE) preceded: there is no state to resume.
            return Err(ResponseCode::VALUE.at_parameter(1));
        }
        self.started = true;
        self.objects.iter_mut().for_each(|o| *o = None);
        if self.da.lockout_recovery == 0 {
            self.da.lockout_auth_enabled = true;
        }
        Ok(Vec::new())
    }

    /// TPM2_GetRandom (TPM 2.0 Part 3 §16.1): at most one digest's worth.
    fn get_random(&mut self, p: GetRandomCommand) -> Vec<u8> {
        let n = usize::from(p.bytes_requested).min(32);
        let mut rng = self.seeds.stream("GET RANDOM", self.counters.get_random);
        self.counters.get_random += 1;
        let mut bytes = vec![0u8; n];
        rng.fill_bytes(&mut bytes);
        GetRandomResponse {
            random_bytes: Tpm2bDigest::new(bytes).unwrap_or_default(),
        }
        .to_bytes()
    }

    fn free_slot(&self) -> TpmResult<usize> {
        self.objects
            .iter()
            .position(|o| o.is_none())
            .ok_or(ResponseCode::OBJECT_MEMORY)
    }

    fn insert(&mut self, slot: usize, object: Object) -> TpmHandle {
        if let Some(s) = self.objects.get_mut(slot) {
            *s = Some(object);
        }
        TpmHandle(TpmHandle::TRANSIENT_FIRST.0 + slot as u32)
    }

    /// Creation data, its hash and the creation ticket
    /// (`HMAC(proof, TPM_ST_CREATION ‖ Name ‖ creationHash)`, Part 2 §10.7.3).
    fn creation(
        &self,
        hierarchy: TpmHandle,
        parent: Option<&Object>,
        name: &Tpm2bName,
        outside_info: Tpm2bData,
        pcr_select: TpmlPcrSelection,
    ) -> (Tpm2bCreationData, Tpm2bDigest, TpmtTkCreation) {
        let (parent_name_alg, parent_name, parent_qn) = match parent {
            Some(p) => (p.public.name_alg, p.name.clone(), p.qualified_name.clone()),
            None => (
                TpmAlgId::NULL,
                Tpm2bName::from_handle(hierarchy),
                Tpm2bName::from_handle(hierarchy),
            ),
        };
        let data = TpmsCreationData {
            pcr_digest: pcr_digest(&pcr_select),
            pcr_select,
            locality: TpmaLocality::LOC_ZERO,
            parent_name_alg,
            parent_name,
            parent_qualified_name: parent_qn,
            outside_info,
        };
        let hash = Sha256::digest(data.to_bytes()).to_vec();
        let ticket = if hierarchy == TpmHandle::RH_NULL {
            TpmtTkCreation::null()
        } else {
            let hmac = hmac_sha256(
                self.seeds.proof(hierarchy),
                &[&TpmSt::CREATION.0.to_be_bytes(), name.as_bytes(), &hash],
            );
            TpmtTkCreation {
                hierarchy,
                digest: Tpm2bDigest::new(hmac.to_vec()).unwrap_or_default(),
            }
        };
        (
            Tpm2bCreationData(data),
            Tpm2bDigest::new(hash).unwrap_or_default(),
            ticket,
        )
    }

    /// Checks `inSensitive` for an asymmetric key: no sensitive data, and an
    /// authValue no longer than the name algorithm's digest.
    fn check_in_sensitive(s: &crate::types::TpmsSensitiveCreate) -> TpmResult<()> {
        if !s.data.is_empty() || s.user_auth.len() > 32 {
            return Err(ResponseCode::SIZE.at_parameter(1));
        }
        Ok(())
    }

    /// TPM2_CreatePrimary (TPM 2.0 Part 3 §24.1).
    fn create_primary(
        &mut self,
        hierarchy: TpmHandle,
        p: CreatePrimaryCommand,
    ) -> TpmResult<(Option<TpmHandle>, Vec<u8>)> {
        Self::check_in_sensitive(&p.in_sensitive.0)?;
        let template = p.in_public.0;
        validate_template(&template, None).map_err(|rc| rc.at_parameter(2))?;
        let slot = self.free_slot()?;
        let (public, key, seed_value) = derive_primary(&self.seeds, hierarchy, &template)?;
        let name = public.name();
        let (creation_data, creation_hash, creation_ticket) =
            self.creation(hierarchy, None, &name, p.outside_info, p.creation_pcr);
        let object = Object {
            qualified_name: qualified_name(&hierarchy.0.to_be_bytes(), &name),
            name: name.clone(),
            public: public.clone(),
            hierarchy,
            auth_value: p.in_sensitive.0.user_auth.as_bytes().to_vec(),
            seed_value,
            key,
        };
        let handle = self.insert(slot, object);
        let out = CreatePrimaryResponse {
            out_public: Tpm2bPublic(public),
            creation_data,
            creation_hash,
            creation_ticket,
            name,
        };
        Ok((Some(handle), out.to_bytes()))
    }

    /// The loaded storage parent behind `handle` (`TPM_RC_TYPE` if the object
    /// is not a restricted decryption key).
    fn storage_parent(&self, handle: TpmHandle) -> TpmResult<&Object> {
        let parent = self.object(handle).ok_or(ResponseCode::REFERENCE_H0)?;
        if !parent.public.is_storage_parent() {
            return Err(ResponseCode::TYPE.at_handle(1));
        }
        Ok(parent)
    }

    /// TPM2_Create (TPM 2.0 Part 3 §12.1). The n-th successful key
    /// generation draws from the "CREATE" stream number n only.
    fn create(&mut self, parent_handle: TpmHandle, params: &[u8]) -> TpmResult<Vec<u8>> {
        let parent = self.storage_parent(parent_handle)?.clone();
        let p: CreateCommand = parse(params)?;
        let template = p.in_public.0;
        let data = p.in_sensitive.0.data.as_bytes().to_vec();
        if template.type_() == TpmAlgId::KEYEDHASH {
            // TPM 2.0 Part 3 §12.1: data from the caller, or the TPM's own
            // (sensitiveDataOrigin), never both nor neither.
            if p.in_sensitive.0.user_auth.len() > 32 {
                return Err(ResponseCode::SIZE.at_parameter(1));
            }
            let origin = template
                .object_attributes
                .contains(TpmaObject::SENSITIVE_DATA_ORIGIN);
            if origin != data.is_empty() {
                return Err(ResponseCode::ATTRIBUTES.at_parameter(2));
            }
        } else {
            Self::check_in_sensitive(&p.in_sensitive.0)?;
        }
        validate_template(&template, Some(&parent.public)).map_err(|rc| rc.at_parameter(2))?;
        let keyed_hash = template.type_() == TpmAlgId::KEYEDHASH;
        let (public, key, seed_value) = if keyed_hash {
            let mut rng = self
                .seeds
                .stream("CREATE KEYEDHASH", self.counters.create_keyed_hash);
            generate_with(&template, &data, &mut rng)?
        } else {
            let n = self.counters.create;
            let mut rng = self.seeds.stream("CREATE", n);
            self.generated
                .get_or_make((n, template.to_bytes(), data.clone()), || {
                    generate_with(&template, &data, &mut rng)
                })?
        };
        if keyed_hash {
            self.counters.create_keyed_hash += 1;
        } else {
            self.counters.create += 1;
        }
        let name = public.name();
        let object = Object {
            qualified_name: qualified_name(parent.qualified_name.as_bytes(), &name),
            name: name.clone(),
            public: public.clone(),
            hierarchy: parent.hierarchy,
            auth_value: p.in_sensitive.0.user_auth.as_bytes().to_vec(),
            seed_value,
            key,
        };
        let out_private = wrap_private(
            &parent.seed_value,
            &name,
            &object.sensitive(&object.auth_value),
        );
        let (creation_data, creation_hash, creation_ticket) = self.creation(
            parent.hierarchy,
            Some(&parent),
            &name,
            p.outside_info,
            p.creation_pcr,
        );
        Ok(CreateResponse {
            out_private,
            out_public: Tpm2bPublic(public),
            creation_data,
            creation_hash,
            creation_ticket,
        }
        .to_bytes())
    }

    /// TPM2_Load (TPM 2.0 Part 3 §12.2).
    fn load(
        &mut self,
        parent_handle: TpmHandle,
        p: LoadCommand,
    ) -> TpmResult<(Option<TpmHandle>, Vec<u8>)> {
        let parent = self.storage_parent(parent_handle)?.clone();
        let public = p.in_public.0;
        validate_template(&public, Some(&parent.public)).map_err(|rc| rc.at_parameter(2))?;
        let name = public.name();
        let sensitive =
            unwrap_private(&parent.seed_value, &name, &p.in_private).map_err(|e| match e {
                UnwrapError::Integrity => ResponseCode::INTEGRITY.at_parameter(1),
                UnwrapError::Sensitive(_) => ResponseCode::SENSITIVE,
            })?;
        if sensitive.sensitive_type() != public.type_() {
            return Err(ResponseCode::TYPE.at_parameter(2));
        }
        let key = rebuild_key(&public, &sensitive).map_err(|rc| rc.at_parameter(2))?;
        let slot = self.free_slot()?;
        let object = Object {
            qualified_name: qualified_name(parent.qualified_name.as_bytes(), &name),
            name: name.clone(),
            public,
            hierarchy: parent.hierarchy,
            auth_value: sensitive.auth_value.as_bytes().to_vec(),
            seed_value: sensitive.seed_value.as_bytes().to_vec(),
            key,
        };
        let handle = self.insert(slot, object);
        Ok((Some(handle), LoadResponse { name }.to_bytes()))
    }

    /// TPM2_ReadPublic (TPM 2.0 Part 3 §12.4).
    fn read_public(&self, handle: TpmHandle) -> TpmResult<Vec<u8>> {
        let o = self.object(handle).ok_or(ResponseCode::REFERENCE_H0)?;
        Ok(ReadPublicResponse {
            out_public: Tpm2bPublic(o.public.clone()),
            name: o.name.clone(),
            qualified_name: o.qualified_name.clone(),
        }
        .to_bytes())
    }

    /// TPM2_ObjectChangeAuth (TPM 2.0 Part 3 §12.8): a new TPM2B_PRIVATE
    /// with the new authValue; the loaded object keeps the old one.
    fn object_change_auth(
        &mut self,
        object: TpmHandle,
        parent: TpmHandle,
        p: ObjectChangeAuthCommand,
    ) -> TpmResult<Vec<u8>> {
        let o = self.object(object).ok_or(ResponseCode::REFERENCE_H0)?;
        let parent = self.object(parent).ok_or(ResponseCode::REFERENCE_H1)?;
        // parentHandle must be the object's parent: the object's Qualified
        // Name must follow from the parent's.
        if qualified_name(parent.qualified_name.as_bytes(), &o.name) != o.qualified_name {
            return Err(ResponseCode::TYPE.at_handle(2));
        }
        let out_private = wrap_private(
            &parent.seed_value,
            &o.name,
            &o.sensitive(p.new_auth.as_bytes()),
        );
        Ok(ObjectChangeAuthResponse { out_private }.to_bytes())
    }

    /// `clockInfo` and `firmwareVersion` for an attestation by `signer`,
    /// obfuscated when the signer is not in the endorsement or platform
    /// hierarchy (TPM 2.0 Part 3 §18.1: privacy of reset counts): the values
    /// are offset by `KDFa(shProof, "OBFUSCATE", Name(signer), ε, 128)`.
    fn clock_and_firmware(&self, signer: Option<&Object>) -> (TpmsClockInfo, u64) {
        let mut clock = TpmsClockInfo {
            clock: self.now,
            reset_count: self.reset_count,
            restart_count: self.restart_count,
            safe: true,
        };
        let mut firmware = (u64::from(manufacturer::FIRMWARE_VERSION_1) << 32)
            | u64::from(manufacturer::FIRMWARE_VERSION_2);
        if let Some(s) = signer {
            if s.hierarchy != TpmHandle::RH_ENDORSEMENT && s.hierarchy != TpmHandle::RH_PLATFORM {
                let o = kdfa(
                    &self.seeds.sh_proof,
                    "OBFUSCATE",
                    s.name.as_bytes(),
                    &[],
                    128,
                );
                let word = |r: core::ops::Range<usize>| {
                    o.get(r).map_or(0, |b| {
                        b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
                    })
                };
                firmware = firmware.wrapping_add(word(0..8));
                clock.reset_count = clock.reset_count.wrapping_add(word(8..12) as u32);
                clock.restart_count = clock.restart_count.wrapping_add(word(12..16) as u32);
            }
        }
        (clock, firmware)
    }

    /// TPM2_Certify (TPM 2.0 Part 3 §18.2).
    fn certify(
        &mut self,
        object: TpmHandle,
        sign: TpmHandle,
        p: CertifyCommand,
    ) -> TpmResult<Vec<u8>> {
        let o = self.object(object).ok_or(ResponseCode::REFERENCE_H0)?;
        let signer = if sign == TpmHandle::RH_NULL {
            None
        } else {
            let s = self.object(sign).ok_or(ResponseCode::REFERENCE_H1)?;
            if !s.public.object_attributes.contains(TpmaObject::SIGN) {
                return Err(ResponseCode::KEY.at_handle(2));
            }
            Some(s)
        };
        let scheme = match signer {
            Some(s) => {
                Some(select_scheme(&s.public, p.in_scheme).map_err(|rc| rc.at_parameter(2))?)
            }
            None => None,
        };
        let (clock_info, firmware_version) = self.clock_and_firmware(signer);
        let attest = TpmsAttest {
            qualified_signer: signer.map(|s| s.qualified_name.clone()).unwrap_or_default(),
            extra_data: p.qualifying_data,
            clock_info,
            firmware_version,
            attested: TpmuAttest::Certify(TpmsCertifyInfo {
                name: o.name.clone(),
                qualified_name: o.qualified_name.clone(),
            }),
        };
        let signature = match (signer, scheme) {
            (Some(s), Some(scheme)) => s.sign_digest(scheme, &Sha256::digest(attest.to_bytes()))?,
            _ => crate::types::TpmtSignature::Null,
        };
        Ok(CertifyResponse {
            certify_info: Tpm2bAttest(attest),
            signature,
        }
        .to_bytes())
    }

    /// `HMAC(proof, TPM_ST_HASHCHECK ‖ digest)`: a hash-check ticket
    /// (TPM 2.0 Part 2 §10.7.6).
    fn hashcheck(&self, hierarchy: TpmHandle, digest: &[u8]) -> Vec<u8> {
        hmac_sha256(
            self.seeds.proof(hierarchy),
            &[&TpmSt::HASHCHECK.0.to_be_bytes(), digest],
        )
        .to_vec()
    }

    /// TPM2_Sign (TPM 2.0 Part 3 §20.2). A restricted key signs a digest
    /// only with a valid hash-check ticket, which TPM2_Hash refuses to issue
    /// for data starting with `TPM_GENERATED_VALUE`: so an attestation key
    /// cannot be made to sign something that looks like a TPM attestation.
    fn sign(&mut self, key: TpmHandle, p: SignCommand) -> TpmResult<Vec<u8>> {
        let o = self.object(key).ok_or(ResponseCode::REFERENCE_H0)?;
        if !o.public.object_attributes.contains(TpmaObject::SIGN) {
            return Err(ResponseCode::KEY.at_handle(1));
        }
        let scheme = select_scheme(&o.public, p.in_scheme).map_err(|rc| rc.at_parameter(2))?;
        let restricted = o.public.object_attributes.contains(TpmaObject::RESTRICTED);
        if restricted || !p.validation.digest.is_empty() {
            let valid = p.validation.hierarchy != TpmHandle::RH_NULL
                && constant_time_eq(
                    &self.hashcheck(p.validation.hierarchy, p.digest.as_bytes()),
                    p.validation.digest.as_bytes(),
                );
            if !valid {
                return Err(ResponseCode::TICKET.at_parameter(3));
            }
        }
        if p.digest.len() != 32 {
            return Err(ResponseCode::SIZE.at_parameter(1));
        }
        let signature = o.sign_digest(scheme, p.digest.as_bytes())?;
        Ok(SignResponse { signature }.to_bytes())
    }

    /// TPM2_RSA_Decrypt (TPM 2.0 Part 3 §14.3): an unrestricted RSA
    /// decryption key removes RSAES-PKCS1-v1_5 or OAEP padding (RFC 8017
    /// §7.1, §7.2). The scheme is the key's own, or the command's when the
    /// key has none; an OAEP label must end in a zero byte (Part 1, "OAEP
    /// label").
    fn rsa_decrypt(&mut self, key: TpmHandle, p: RsaDecryptCommand) -> TpmResult<Vec<u8>> {
        let o = self.object(key).ok_or(ResponseCode::REFERENCE_H0)?;
        let attributes = o.public.object_attributes;
        if o.public.type_() != TpmAlgId::RSA {
            return Err(ResponseCode::KEY.at_handle(1));
        }
        if !attributes.contains(TpmaObject::DECRYPT) || attributes.contains(TpmaObject::RESTRICTED)
        {
            return Err(ResponseCode::ATTRIBUTES.at_handle(1));
        }
        let own = match &o.public.kind {
            PublicKind::Rsa { parameters, .. } => parameters.scheme,
            _ => return Err(ResponseCode::KEY.at_handle(1)),
        };
        let scheme = if own.is_null() {
            TpmtRsaDecrypt::new(p.in_scheme.scheme, p.in_scheme.hash_alg)
        } else if p.in_scheme.is_null()
            || (p.in_scheme.scheme == own.scheme && p.in_scheme.hash_alg == own.hash_alg)
        {
            TpmtRsaDecrypt::new(own.scheme, own.hash_alg)
        } else {
            return Err(ResponseCode::SCHEME.at_parameter(2));
        };
        let label = p.label.as_bytes();
        if !label.is_empty() && label.last() != Some(&0) {
            return Err(ResponseCode::VALUE.at_parameter(3));
        }
        let message = o
            .rsa_decrypt(scheme, p.cipher_text.as_bytes(), label)
            .map_err(|rc| rc.at_parameter(1))?;
        Ok(RsaDecryptResponse {
            message: Tpm2bPublicKeyRsa::new(message).map_err(|_| ResponseCode::SIZE)?,
        }
        .to_bytes())
    }

    /// TPM2_HMAC (TPM 2.0 Part 3 §15.5): an unrestricted keyed-hash signing
    /// key MACs the buffer with its scheme's hash (SHA-256 here).
    fn hmac(&mut self, key: TpmHandle, p: HmacCommand) -> TpmResult<Vec<u8>> {
        let o = self.object(key).ok_or(ResponseCode::REFERENCE_H0)?;
        if o.public.type_() != TpmAlgId::KEYEDHASH {
            return Err(ResponseCode::TYPE.at_handle(1));
        }
        let attributes = o.public.object_attributes;
        if !attributes.contains(TpmaObject::SIGN) || attributes.contains(TpmaObject::RESTRICTED) {
            return Err(ResponseCode::KEY.at_handle(1));
        }
        let own = o.public.sig_scheme().hash_alg;
        let hash = match (own, p.hash_alg) {
            (TpmAlgId::NULL, TpmAlgId::NULL) => return Err(ResponseCode::VALUE.at_parameter(2)),
            (TpmAlgId::NULL, asked) => asked,
            (own, TpmAlgId::NULL) => own,
            (own, asked) if own == asked => own,
            _ => return Err(ResponseCode::VALUE.at_parameter(2)),
        };
        if hash != TpmAlgId::SHA256 {
            return Err(ResponseCode::HASH.at_parameter(2));
        }
        let mac = o.hmac_sha256(p.buffer.as_bytes())?;
        Ok(HmacResponse {
            out_hmac: Tpm2bDigest::new(mac).map_err(|_| ResponseCode::SIZE)?,
        }
        .to_bytes())
    }

    /// TPM2_FlushContext (TPM 2.0 Part 3 §28.4).
    fn flush_context(&mut self, p: FlushContextCommand) -> TpmResult<Vec<u8>> {
        if self.object(p.flush_handle).is_none() {
            return Err(ResponseCode::HANDLE.at_parameter(1));
        }
        let slot = (p.flush_handle.0 - TpmHandle::TRANSIENT_FIRST.0) as usize;
        if let Some(s) = self.objects.get_mut(slot) {
            *s = None;
        }
        Ok(Vec::new())
    }

    /// The TPM properties this TPM reports, in ascending order.
    fn properties(&self) -> Vec<TpmsTaggedProperty> {
        let p = |property: TpmPt, value: u32| TpmsTaggedProperty { property, value };
        let loaded = self.objects.iter().filter(|o| o.is_some()).count() as u32;
        let mut permanent = 1 << 10; // tpmGeneratedEPS
        if !self.config.lockout_auth.is_empty() {
            permanent |= 1 << 2; // lockoutAuthSet
        }
        if self.da.locked_out() {
            permanent |= TPMA_PERMANENT_IN_LOCKOUT;
        }
        vec![
            p(TpmPt::FAMILY_INDICATOR, 0x322E_3000), // "2.0"
            p(TpmPt::LEVEL, 0),
            p(TpmPt::REVISION, 159), // Library specification 1.59
            p(TpmPt::DAY_OF_YEAR, 312),
            p(TpmPt::YEAR, 2019),
            p(TpmPt::MANUFACTURER, manufacturer::MANUFACTURER_ID),
            p(TpmPt::VENDOR_STRING_1, u32::from_be_bytes(*b"tpm-")),
            p(TpmPt::VENDOR_STRING_2, u32::from_be_bytes(*b"emu\0")),
            p(TpmPt::VENDOR_STRING_3, 0),
            p(TpmPt::VENDOR_STRING_4, 0),
            p(TpmPt::VENDOR_TPM_TYPE, 0),
            p(TpmPt::FIRMWARE_VERSION_1, manufacturer::FIRMWARE_VERSION_1),
            p(TpmPt::FIRMWARE_VERSION_2, manufacturer::FIRMWARE_VERSION_2),
            p(TpmPt::INPUT_BUFFER, 1024),
            p(TpmPt::HR_TRANSIENT_MIN, MAX_LOADED_OBJECTS as u32),
            p(TpmPt::MAX_COMMAND_SIZE, MAX_COMMAND_SIZE as u32),
            p(TpmPt::MAX_RESPONSE_SIZE, MAX_COMMAND_SIZE as u32),
            p(TpmPt::MAX_DIGEST, 32),
            p(TpmPt::NV_BUFFER_MAX, 1024),
            p(TpmPt::PERMANENT, permanent),
            // phEnable | shEnable | ehEnable | phEnableNV.
            p(TpmPt::STARTUP_CLEAR, 0x8000_0007),
            p(TpmPt::HR_LOADED, loaded),
            p(TpmPt::HR_LOADED_AVAIL, MAX_LOADED_OBJECTS as u32 - loaded),
            p(TpmPt::LOCKOUT_COUNTER, self.da.failed_tries),
            p(TpmPt::MAX_AUTH_FAIL, self.da.max_tries),
            p(TpmPt::LOCKOUT_INTERVAL, self.da.recovery_time),
            p(TpmPt::LOCKOUT_RECOVERY, self.da.lockout_recovery),
        ]
    }

    /// TPM2_GetCapability (TPM 2.0 Part 3 §30.2), for `TPM_CAP_TPM_PROPERTIES`.
    fn get_capability(&self, p: GetCapabilityCommand) -> TpmResult<Vec<u8>> {
        if p.capability != TpmCap::TPM_PROPERTIES {
            return Err(ResponseCode::VALUE.at_parameter(1));
        }
        let all: Vec<TpmsTaggedProperty> = self
            .properties()
            .into_iter()
            .filter(|t| t.property.0 >= p.property)
            .collect();
        let count = p.property_count.min(MAX_TPM_PROPERTIES) as usize;
        let more_data = all.len() > count;
        let tpm_properties = TpmlTaggedTpmProperty(all.into_iter().take(count).collect());
        Ok(GetCapabilityResponse {
            more_data,
            capability_data: TpmsCapabilityData { tpm_properties },
        }
        .to_bytes())
    }

    /// TPM2_NV_ReadPublic (TPM 2.0 Part 3 §31.6).
    fn nv_read_public(&self, index: TpmHandle) -> TpmResult<Vec<u8>> {
        let nv = self
            .nv_index(index)
            .ok_or(ResponseCode::HANDLE.at_handle(1))?;
        Ok(NvReadPublicResponse {
            nv_name: nv.public.name(),
            nv_public: Tpm2bNvPublic(nv.public.clone()),
        }
        .to_bytes())
    }

    /// TPM2_NV_Read (TPM 2.0 Part 3 §31.13).
    fn nv_read(&self, auth: TpmHandle, index: TpmHandle, p: NvReadCommand) -> TpmResult<Vec<u8>> {
        let nv = self
            .nv_index(index)
            .ok_or(ResponseCode::HANDLE.at_handle(2))?;
        let a = nv.public.attributes;
        let allowed = match auth {
            TpmHandle::RH_OWNER => a.contains(TpmaNv::OWNERREAD),
            TpmHandle::RH_PLATFORM => a.contains(TpmaNv::PPREAD),
            h => h == index,
        };
        if !allowed {
            return Err(ResponseCode::NV_AUTHORIZATION);
        }
        if a.contains(TpmaNv::READLOCKED) {
            return Err(ResponseCode::NV_LOCKED);
        }
        if !a.contains(TpmaNv::WRITTEN) {
            return Err(ResponseCode::NV_UNINITIALIZED);
        }
        if usize::from(p.size) > Tpm2bMaxNvBuffer::MAX {
            return Err(ResponseCode::VALUE.at_parameter(1));
        }
        let start = usize::from(p.offset);
        let end = start + usize::from(p.size);
        let data = nv.data.get(start..end).ok_or(ResponseCode::NV_RANGE)?;
        Ok(NvReadResponse {
            data: Tpm2bMaxNvBuffer::new(data.to_vec())
                .map_err(|_| ResponseCode::VALUE.at_parameter(1))?,
        }
        .to_bytes())
    }

    /// TPM2_Hash (TPM 2.0 Part 3 §15.4): the digest, and a ticket unless the
    /// data begins with `TPM_GENERATED_VALUE` or the hierarchy is NULL.
    fn hash(&self, p: HashCommand) -> Vec<u8> {
        let digest = Sha256::digest(p.data.as_bytes()).to_vec();
        let generated = p
            .data
            .as_bytes()
            .starts_with(&TPM_GENERATED_VALUE.to_be_bytes());
        let validation = if generated || p.hierarchy == TpmHandle::RH_NULL {
            TpmtTkHashcheck::null()
        } else {
            TpmtTkHashcheck {
                hierarchy: p.hierarchy,
                digest: Tpm2bDigest::new(self.hashcheck(p.hierarchy, &digest)).unwrap_or_default(),
            }
        };
        HashResponse {
            out_hash: Tpm2bDigest::new(digest).unwrap_or_default(),
            validation,
        }
        .to_bytes()
    }
}
