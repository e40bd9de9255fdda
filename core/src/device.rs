//! The Windows side of the device: its TPM (the `tpm-emu` crate) as the
//! Platform Crypto Provider drives it, the key pre-generation pool, the
//! device key, the biometric sensor and the user's certificate store.
//!
//! Every TPM operation goes through [`TpmClient`], that is through TPM 2.0
//! command and response bytes, and each exchange is recorded as a
//! [`TpmExchange`] with both buffers decoded field by field, so the page can
//! show exactly what crossed the TPM interface. Secrets the commands carry in
//! the clear (the PIN-derived authValue in a password session) are blanked
//! in what is recorded: a real TPM trace would show them.
//!
//! The attestation CA that certifies the TPM's attestation key (AIK) stands
//! in for Microsoft's AIK certification service; its protocol (credential
//! activation against the EK certificate) is reduced to "the CA checks the EK
//! certificate chains to the TPM manufacturer, then certifies the AIK" and
//! labelled as modelled.

use crate::artifact::{Artifact, ArtifactKind, Field};
use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::event::TpmExchange;
use crate::formats::guid::Guid;
use crate::options::Options;
use crate::seed::Seed;
use der::Decode;
use rsa::RsaPublicKey;
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tpm_emu::{
    describe, AuthValue, DaState, Exchange, KeyPool, Marshal, Millis, PoolState, Provisioned, Tpm,
    Tpm2bPrivate, Tpm2bPublic, TpmClient, TpmConfig, TpmHandle, TpmSeed, TpmtPublic, TpmtSignature,
    Unmarshal,
};
use x509_cert::certificate::Certificate;

use crate::attestation::AttestationCa;

/// A user key loaded in the TPM: where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedKey {
    pub handle: TpmHandle,
    pub public: TpmtPublic,
    /// The wrapped private area bound to the PIN (opaque outside the TPM).
    pub private: Tpm2bPrivate,
}

/// What the TPM hands the provisioning app with a pool key: the public area
/// and the attestation, each as the bytes that travel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttestation {
    /// TPM2B_PUBLIC of the user key.
    pub public: Vec<u8>,
    /// TPMS_ATTEST from TPM2_Certify.
    pub attest: Vec<u8>,
    /// TPMT_SIGNATURE of the AIK over `attest`.
    pub signature: Vec<u8>,
    /// The AIK's certificate (DER).
    pub aik_certificate: Vec<u8>,
}

/// A certificate in the current user's Personal store (modelled store).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoreEntry {
    pub store: &'static str,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    /// SHA-1 of the DER, as Windows shows a certificate's thumbprint.
    pub thumbprint: String,
    pub not_after: String,
    pub upn: String,
    pub key_provider: &'static str,
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// The two keys the device registers with: made in the TPM when first
/// needed (or ahead of need), always as the TPM's first two creations.
#[derive(Clone, Debug)]
pub struct DeviceKeys {
    device: LoadedKey,
    transport: LoadedKey,
    /// The device key's public half, as the TPM gave it.
    pub device_public: RsaPublicKey,
    /// The transport key's public half: what the cloud encrypts session
    /// keys to.
    pub transport_public: RsaPublicKey,
    /// The TPM commands that created and loaded both keys.
    pub trace: Vec<TpmExchange>,
}

impl DeviceKeys {
    /// TPM2B_PUBLIC of the device key.
    pub fn device_key_public(&self) -> Vec<u8> {
        Tpm2bPublic(self.device.public.clone()).to_bytes()
    }

    /// TPM2B_PUBLIC of the transport key.
    pub fn transport_key_public(&self) -> Vec<u8> {
        Tpm2bPublic(self.transport.public.clone()).to_bytes()
    }
}

/// What the device learnt when it joined: the ID the registration service
/// gave it and the device certificate it installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub id: Guid,
    /// The device certificate (DER); `None` where the run does not show the
    /// device's registration and it happened before the run.
    pub certificate: Option<Vec<u8>>,
}

/// The device: identity, TPM, pool, sensor, stores.
#[derive(Clone, Debug)]
pub struct Device {
    pub name: String,
    pub biometric_sensor: bool,
    tpm: Tpm,
    platform: Provisioned,
    pool: KeyPool,
    /// The device key and the transport key, once the TPM has made them
    /// (see [`Device::keys`]).
    keys: Option<DeviceKeys>,
    joined: Option<Joined>,
    /// The PRT's session key once it is held in the TPM (a keyed-hash
    /// object).
    session_key: Option<TpmHandle>,
    aik_certificate: Vec<u8>,
    personal_store: Vec<StoreEntry>,
    machine_store: Vec<StoreEntry>,
}

/// Why a TPM operation failed, in words that name the response code.
fn tpm_reason(e: &tpm_emu::Error) -> String {
    e.to_string()
}

/// One TPM node tree as inspector fields.
fn fields_of(nodes: Vec<describe::Node>) -> Vec<Field> {
    nodes
        .into_iter()
        .map(|n| {
            Field::new(n.name, n.value, n.note, n.spec, n.offset, n.len)
                .with_children(fields_of(n.children))
        })
        .collect()
}

/// A recorded exchange as the engine keeps it.
fn exchange_record(index: usize, exchange: &Exchange) -> TpmExchange {
    let slug = exchange.name.to_ascii_lowercase().replace('_', "-");
    let result = match exchange.response_code() {
        Some(rc) if rc.is_success() => "TPM_RC_SUCCESS".to_string(),
        Some(rc) => rc.to_string(),
        None => "no response header".to_string(),
    };
    TpmExchange {
        name: exchange.name.to_string(),
        command: Artifact::decoded(
            &format!("tpm-{index}-{slug}-command"),
            &if exchange.has_withheld() {
                format!("{} command (secret withheld)", exchange.name)
            } else {
                format!("{} command", exchange.name)
            },
            ArtifactKind::TpmCommand,
            exchange.command.clone(),
            exchange.describe_command().map(fields_of),
            None,
        ),
        response: Artifact::decoded(
            &format!("tpm-{index}-{slug}-response"),
            &format!("{} response", exchange.name),
            ArtifactKind::TpmResponse,
            exchange.response.clone(),
            exchange.describe_response().map(fields_of),
            None,
        ),
        result,
    }
}

impl Device {
    /// Manufactures the TPM from the seed and provisions it the way Windows
    /// does at first boot: TPM2_Startup, the storage root key and the
    /// endorsement key (TPM2_CreatePrimary), the attestation key (TPM2_Create,
    /// TPM2_Load), the EK certificate from NV. The attestation CA then
    /// certifies the AIK. The device key and the transport key come later
    /// ([`Device::keys`]).
    pub fn provision(
        seed: &Seed,
        options: &Options,
        start: SimTime,
        attestation_ca: &AttestationCa,
    ) -> Result<Device> {
        let config = TpmConfig {
            start_time: Millis(start.0),
            ..TpmConfig::default()
        };
        let mut tpm = Tpm::with_config(TpmSeed(seed.bytes("device/tpm")), config);
        tpm.set_time(Millis(start.0));
        let mut client = TpmClient::new(&mut tpm);
        client.set_recording(false);
        let platform = client
            .provision()
            .map_err(Error::tpm("provisioning the TPM"))?;
        let aik_certificate = attestation_ca.certify_aik(
            &platform.aik.public,
            &platform.ek_certificate,
            tpm.manufacturer_ca_certificate(),
            start,
        )?;
        let pool = KeyPool::new(options.pool_size, &platform);
        let name = format!(
            "DESKTOP-{}",
            crate::formats::encoding::hex_upper(&seed.bytes::<4>("device/name"))
        );
        Ok(Device {
            name,
            biometric_sensor: options.biometric_sensor,
            keys: None,
            joined: None,
            session_key: None,
            tpm,
            platform,
            pool,
            aik_certificate,
            personal_store: Vec::new(),
            machine_store: Vec::new(),
        })
    }

    /// The ID the device was registered under, once it has joined.
    pub fn id(&self) -> Option<Guid> {
        self.joined.as_ref().map(|j| j.id)
    }

    /// What the device learnt when it joined, if it has.
    pub fn joined(&self) -> Option<&Joined> {
        self.joined.as_ref()
    }

    /// Records the join: the device ID and the certificate it was given.
    pub fn join(&mut self, joined: Joined) {
        self.joined = Some(joined);
    }

    /// Installs the device certificate in the computer's Personal store
    /// (its key stays in the TPM); returns the store entry as the page
    /// shows it.
    pub fn install_machine_certificate(&mut self, der: &[u8]) -> Result<serde_json::Value> {
        let entry = store_entry(der, "", "Cert:\\LocalMachine\\My (Personal)")?;
        let value = serde_json::to_value(&entry)
            .map_err(|e| Error::Usage(format!("cannot describe the store entry: {e}")))?;
        self.machine_store.push(entry);
        Ok(value)
    }

    /// The device key and the transport key, made in the TPM the first time
    /// anything needs them (TPM2_Create and TPM2_Load under the storage root
    /// key, recorded). The TPM numbers the keys it creates and draws each
    /// one's randomness by that number, so these two are always its first
    /// creations: [`Device::fill_pool_one`] and [`Device::take_user_key`]
    /// make them before any pool key. Making them ahead of need therefore
    /// changes no byte of a run.
    pub fn keys(&mut self) -> Result<&DeviceKeys> {
        if self.keys.is_none() {
            self.keys = Some(self.make_keys()?);
        }
        self.keys
            .as_ref()
            .ok_or_else(|| Error::Usage("the device keys were not made".into()))
    }

    /// The device keys if the TPM has made them already.
    pub fn keys_if_made(&self) -> Option<&DeviceKeys> {
        self.keys.as_ref()
    }

    fn make_keys(&mut self) -> Result<DeviceKeys> {
        let srk = self.platform.srk.handle;
        let mut client = TpmClient::new(&mut self.tpm);
        client.set_recording(true);
        let empty = AuthValue::empty();
        let mut make = |template: TpmtPublic, what: &'static str| -> Result<LoadedKey> {
            let created = client
                .create(srk, &empty, &template, &empty)
                .map_err(Error::tpm(what))?;
            let loaded = client
                .load(srk, &empty, &created.private, &created.public)
                .map_err(Error::tpm(what))?;
            Ok(LoadedKey {
                handle: loaded.handle,
                public: created.public,
                private: created.private,
            })
        };
        let device = make(
            tpm_emu::templates::user_key_rsa_2048(),
            "creating the device key",
        )?;
        let transport = make(
            tpm_emu::templates::decryption_key_rsa_2048(),
            "creating the transport key",
        )?;
        let trace = client
            .take_exchanges()
            .iter()
            .enumerate()
            .map(|(i, exchange)| exchange_record(i + 1, exchange))
            .collect();
        Ok(DeviceKeys {
            device_public: device
                .public
                .rsa_public_key()
                .map_err(Error::tpm("reading the device key"))?,
            transport_public: transport
                .public
                .rsa_public_key()
                .map_err(Error::tpm("reading the transport key"))?,
            device,
            transport,
            trace,
        })
    }

    /// The computer's Personal store (the device certificate).
    pub fn machine_store(&self) -> &[StoreEntry] {
        &self.machine_store
    }

    /// A client over this device's TPM at simulated time `now`, recording.
    fn client(&mut self, now: SimTime) -> TpmClient<&mut Tpm> {
        self.tpm.set_time(Millis(now.0));
        TpmClient::new(&mut self.tpm)
    }

    /// Moves the recorded exchanges into `log`.
    fn record(client: &mut TpmClient<&mut Tpm>, log: &mut Vec<TpmExchange>) {
        for exchange in client.take_exchanges() {
            let index = log.len() + 1;
            log.push(exchange_record(index, &exchange));
        }
    }

    /// The key pre-generation pool's state.
    pub fn pool_state(&self) -> PoolState {
        self.pool.state()
    }

    /// Creates one pool key if the pool is below its target (about a second
    /// in a browser): what a background worker calls when idle.
    pub fn fill_pool_one(&mut self) -> Result<bool> {
        if self.keys.is_none() {
            self.keys()?;
            return Ok(true);
        }
        let mut client = TpmClient::new(&mut self.tpm);
        client.set_recording(false);
        self.pool
            .fill_one(&mut client)
            .map_err(Error::tpm("filling the key pool"))
    }

    /// The dictionary-attack state, with the device's timers.
    pub fn da_state(&self) -> DaState {
        self.tpm.da_state()
    }

    /// The TPM's EK certificate (DER).
    pub fn ek_certificate(&self) -> &[u8] {
        &self.platform.ek_certificate
    }

    /// The TPM manufacturer's root certificate (DER).
    pub fn manufacturer_ca_certificate(&self) -> &[u8] {
        self.tpm.manufacturer_ca_certificate()
    }

    /// The AIK's certificate from the attestation CA (DER).
    pub fn aik_certificate(&self) -> &[u8] {
        &self.aik_certificate
    }

    /// The user's Personal store.
    pub fn personal_store(&self) -> &[StoreEntry] {
        &self.personal_store
    }

    /// Signs `input` with the device key (RSASSA-PKCS1-v1_5, SHA-256): the
    /// TPM gets the digest through TPM2_Sign.
    pub fn sign_with_device_key(
        &mut self,
        input: &[u8],
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> Result<Vec<u8>> {
        let digest = Sha256::digest(input);
        let handle = self.keys()?.device.handle;
        let mut client = self.client(now);
        let signature = client.sign(handle, &AuthValue::empty(), &digest);
        Self::record(&mut client, log);
        rsassa_bytes(signature.map_err(Error::tpm("TPM2_Sign with the device key"))?)
    }

    /// dsregcmd's KeySignTest: the device key signs a test value and the
    /// signature verifies with the registered public key.
    pub fn key_sign_test(
        &mut self,
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<(), String> {
        let test = b"KeySignTest";
        let signature = self
            .sign_with_device_key(test, now, log)
            .map_err(|e| e.to_string())?;
        let public = &self.keys().map_err(|e| e.to_string())?.device_public;
        crate::rs256::verify(public, test, &signature)
    }

    /// Takes a key from the pool (TPM2_Load, TPM2_Certify over `nonce`),
    /// binds it to the PIN (TPM2_ObjectChangeAuth, TPM2_FlushContext,
    /// TPM2_Load), then proves the PIN opens it (TPM2_Sign over the nonce).
    /// Before that the user mistypes the PIN `wrong_attempts` times: each is a
    /// TPM2_Sign the TPM refuses with TPM_RC_AUTH_FAIL and counts.
    ///
    /// `Err` carries the TPM's reason, e.g. `TPM_RC_LOCKOUT`.
    pub fn take_user_key(
        &mut self,
        nonce: &[u8],
        pin: &str,
        wrong_attempts: u32,
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<(LoadedKey, KeyAttestation), String> {
        // The device keys are the TPM's first creations, pool keys after.
        self.keys().map_err(|e| e.to_string())?;
        let srk = self.platform.srk.handle;
        let aik_certificate = self.aik_certificate.clone();
        self.tpm.set_time(Millis(now.0));
        let mut client = TpmClient::new(&mut self.tpm);
        let result = (|| {
            let pooled = self
                .pool
                .take(&mut client, nonce)
                .map_err(|e| tpm_reason(&e))?;
            let attestation = KeyAttestation {
                public: Tpm2bPublic(pooled.public.clone()).to_bytes(),
                attest: pooled.attestation.attest_bytes.clone(),
                signature: pooled.attestation.signature.to_bytes(),
                aik_certificate,
            };
            let empty = AuthValue::empty();
            let auth = AuthValue::from_pin(pin);
            let (private, bound) = client
                .change_auth_and_reload(pooled.handle, &empty, srk, &empty, &pooled.public, &auth)
                .map_err(|e| tpm_reason(&e))?;
            let digest = Sha256::digest(nonce);
            mistype_pin(&mut client, bound.handle, pin, wrong_attempts, &digest)?;
            client
                .sign(bound.handle, &auth, &digest)
                .map_err(|e| format!("with the right PIN: {e}"))?;
            Ok((
                LoadedKey {
                    handle: bound.handle,
                    public: pooled.public,
                    private,
                },
                attestation,
            ))
        })();
        Self::record(&mut client, log);
        result
    }

    /// Signs `data` with the user key (SHA-256 digest through TPM2_Sign),
    /// authorised by the PIN.
    pub fn sign_with_user_key(
        &mut self,
        key: &LoadedKey,
        data: &[u8],
        pin: &str,
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> Result<Vec<u8>> {
        let digest = Sha256::digest(data);
        let mut client = self.client(now);
        let signature = client.sign(key.handle, &AuthValue::from_pin(pin), &digest);
        Self::record(&mut client, log);
        rsassa_bytes(signature.map_err(Error::tpm("TPM2_Sign with the user key"))?)
    }

    /// Signs `data` with the user key after `wrong_attempts` mistyped PINs
    /// (each a TPM2_Sign the TPM refuses and counts), as at a sign-in
    /// screen. `Err` carries the TPM's reason (`TPM_RC_AUTH_FAIL` once the
    /// right PIN is wrong too, `TPM_RC_LOCKOUT`).
    pub fn sign_with_user_key_after(
        &mut self,
        key: &LoadedKey,
        data: &[u8],
        pin: &str,
        wrong_attempts: u32,
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<Vec<u8>, String> {
        let digest = Sha256::digest(data);
        let mut client = self.client(now);
        let result = (|| {
            mistype_pin(&mut client, key.handle, pin, wrong_attempts, &digest)?;
            client
                .sign(key.handle, &AuthValue::from_pin(pin), &digest)
                .map_err(|e| format!("with the right PIN: {e}"))
        })();
        Self::record(&mut client, log);
        rsassa_bytes(result?).map_err(|e| e.to_string())
    }

    /// Decrypts `cipher_text` with the transport key in the TPM
    /// (TPM2_RSA_Decrypt, OAEP with SHA-1: JWE's `RSA-OAEP`).
    pub fn decrypt_with_transport_key(
        &mut self,
        cipher_text: &[u8],
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<Vec<u8>, String> {
        let handle = self.keys().map_err(|e| e.to_string())?.transport.handle;
        let mut client = self.client(now);
        let result = client.rsa_decrypt(
            handle,
            &AuthValue::empty(),
            cipher_text,
            tpm_emu::TpmtRsaDecrypt::new(tpm_emu::TpmAlgId::OAEP, tpm_emu::TpmAlgId::SHA1),
            &[],
        );
        Self::record(&mut client, log);
        result.map_err(|e| tpm_reason(&e))
    }

    /// Brings the PRT's session key into the TPM as an HMAC key under the
    /// storage root key (TPM2_Create with the secret, TPM2_Load): from now
    /// on the TPM holds it and derives from it.
    pub fn hold_session_key(
        &mut self,
        secret: &[u8],
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<(), String> {
        let srk = self.platform.srk.handle;
        let empty = AuthValue::empty();
        let previous = self.session_key.take();
        let mut client = self.client(now);
        // A new PRT replaces the old one, and its session key the old key.
        if let Some(old) = previous {
            client.flush_context(old).map_err(|e| tpm_reason(&e))?;
        }
        let result = client
            .create_keyed_hash(
                srk,
                &empty,
                &tpm_emu::templates::hmac_key_sha256(),
                &empty,
                secret,
            )
            .and_then(|created| client.load(srk, &empty, &created.private, &created.public));
        Self::record(&mut client, log);
        let loaded = result.map_err(|e| tpm_reason(&e))?;
        self.session_key = Some(loaded.handle);
        Ok(())
    }

    /// HMAC-SHA256 with the session key the TPM holds (TPM2_HMAC): one
    /// block of MS-OAPXBC's SP 800-108 KDF.
    pub fn hmac_with_session_key(
        &mut self,
        data: &[u8],
        now: SimTime,
        log: &mut Vec<TpmExchange>,
    ) -> std::result::Result<Vec<u8>, String> {
        let handle = self
            .session_key
            .ok_or_else(|| "the TPM holds no session key".to_string())?;
        let mut client = self.client(now);
        let result = client.hmac(handle, &AuthValue::empty(), data);
        Self::record(&mut client, log);
        result.map_err(|e| tpm_reason(&e))
    }

    /// Whether the TPM holds a PRT session key.
    pub fn holds_session_key(&self) -> bool {
        self.session_key.is_some()
    }

    /// Installs an issued certificate in the Personal store; returns the
    /// store entry as the page shows it.
    pub fn install_certificate(&mut self, der: &[u8], upn: &str) -> Result<serde_json::Value> {
        let entry = store_entry(der, upn, "Cert:\\CurrentUser\\My (Personal)")?;
        let value = serde_json::to_value(&entry)
            .map_err(|e| Error::Usage(format!("cannot describe the store entry: {e}")))?;
        self.personal_store.push(entry);
        Ok(value)
    }
}

/// `attempts` TPM2_Sign calls with mistyped PINs, each of which the TPM
/// must refuse (and count).
fn mistype_pin(
    client: &mut TpmClient<&mut Tpm>,
    key: TpmHandle,
    pin: &str,
    attempts: u32,
    digest: &[u8],
) -> std::result::Result<(), String> {
    for attempt in 0..attempts {
        let wrong = AuthValue::from_pin(&mistyped(pin, attempt));
        match client.sign(key, &wrong, digest) {
            Err(tpm_emu::Error::Tpm(_)) => {}
            Err(e) => return Err(tpm_reason(&e)),
            Ok(_) => return Err("the TPM accepted a wrong PIN".into()),
        }
    }
    Ok(())
}

/// The k-th wrong PIN a user might type for `pin`: the same length, one
/// digit off.
fn mistyped(pin: &str, k: u32) -> String {
    let mut chars: Vec<char> = pin.chars().collect();
    if chars.is_empty() {
        return "0".into();
    }
    let i = (k as usize) % chars.len();
    let digit = chars[i].to_digit(10).unwrap_or(0);
    chars[i] = char::from_digit((digit + 1 + k / 10 % 9) % 10, 10).unwrap_or('0');
    chars.into_iter().collect()
}

/// The RSASSA signature bytes of a TPMT_SIGNATURE.
fn rsassa_bytes(signature: TpmtSignature) -> Result<Vec<u8>> {
    match signature {
        TpmtSignature::Rsassa(s) => Ok(s.sig.as_bytes().to_vec()),
        other => Err(Error::invalid(
            "TPMT_SIGNATURE",
            format!(
                "expected an RSASSA signature, the TPM made {:?}",
                other.sig_alg()
            ),
        )),
    }
}

/// The TPMT_PUBLIC inside a TPM2B_PUBLIC.
fn parse_public(tpm2b: &[u8]) -> Result<TpmtPublic> {
    Tpm2bPublic::from_bytes(tpm2b)
        .map(|p| p.0)
        .map_err(|e| Error::malformed("TPM2B_PUBLIC", e.to_string()))
}

/// The RSA public key of a TPM2B_PUBLIC.
pub fn rsa_public_key(tpm2b: &[u8]) -> Result<RsaPublicKey> {
    parse_public(tpm2b)?
        .rsa_public_key()
        .map_err(|e| Error::invalid("TPM2B_PUBLIC", e.to_string()))
}

fn tpm_artifact(
    id: &str,
    title: &str,
    kind: ArtifactKind,
    bytes: &[u8],
    describe: fn(&[u8]) -> tpm_emu::Result<Vec<describe::Node>>,
) -> Artifact {
    Artifact::decoded(
        id,
        title,
        kind,
        bytes.to_vec(),
        describe(bytes).map(fields_of),
        None,
    )
}

/// A TPM2B_PUBLIC as an artifact.
pub fn public_artifact(id: &str, title: &str, bytes: &[u8]) -> Artifact {
    tpm_artifact(id, title, ArtifactKind::TpmPublic, bytes, describe::public)
}

/// A TPMS_ATTEST as an artifact.
pub fn attest_artifact(id: &str, title: &str, bytes: &[u8]) -> Artifact {
    tpm_artifact(id, title, ArtifactKind::TpmsAttest, bytes, describe::attest)
}

/// A TPMT_SIGNATURE as an artifact.
pub fn signature_artifact(id: &str, title: &str, bytes: &[u8]) -> Artifact {
    tpm_artifact(
        id,
        title,
        ArtifactKind::TpmtSignature,
        bytes,
        describe::signature,
    )
}

/// The decoded fields of TPM bytes of `kind`, for artifacts re-read after tampering.
pub fn tpm_fields(kind: ArtifactKind, bytes: &[u8]) -> Vec<Field> {
    let nodes = match kind {
        ArtifactKind::TpmPublic => describe::public(bytes),
        ArtifactKind::TpmsAttest => describe::attest(bytes),
        ArtifactKind::TpmtSignature => describe::signature(bytes),
        ArtifactKind::TpmCommand => describe::command(bytes),
        _ => return Vec::new(),
    };
    nodes.map(fields_of).unwrap_or_default()
}

/// What the Personal store shows of a certificate.
fn store_entry(der: &[u8], upn: &str, store: &'static str) -> Result<StoreEntry> {
    let cert =
        Certificate::from_der(der).map_err(|e| Error::malformed("certificate", e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    Ok(StoreEntry {
        store,
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: crate::formats::encoding::hex_upper(tbs.serial_number.as_bytes()),
        thumbprint: crate::formats::encoding::hex_upper(&Sha1::digest(der)),
        not_after: tbs.validity.not_after.to_string(),
        upn: upn.to_string(),
        key_provider: "Microsoft Platform Crypto Provider (the private key stays in the TPM)",
        der: der.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_pins_differ_from_the_pin() {
        for k in 0..40 {
            let wrong = mistyped("246810", k);
            assert_ne!(wrong, "246810");
            assert_eq!(wrong.len(), 6);
        }
    }
}
