//! The emulated TPM: state, and a command/response interface in TPM 2.0
//! wire format.

mod da;
mod exec;
pub(crate) mod manufacturer;
mod objects;

use core::fmt;

use rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::auth::AuthValue;
use crate::crypto::kdfa32;
use crate::types::{Tpm2bDigest, TpmAlgId, TpmHandle, TpmaNv, TpmsNvPublic, TpmtPublic};

pub use da::DaState;
pub use manufacturer::TCG_KP_EK_CERTIFICATE;

use self::da::Da;
use self::objects::Object;

/// The 32 bytes from which a [`Tpm`] derives everything a real TPM gets
/// from its manufacturing and its random number generator: the primary seeds
/// (endorsement, storage, platform), the hierarchy proofs, the manufacturer's
/// CA key, and the per-purpose random streams. The same seed gives the same
/// device, byte for byte.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmSeed(pub [u8; 32]);

impl fmt::Debug for TpmSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TpmSeed(..)")
    }
}

/// A time in milliseconds since an epoch the caller chooses. The device
/// never reads a clock: the caller supplies time with [`Tpm::set_time`].
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Millis(pub u64);

impl Millis {
    /// `s` seconds later.
    pub fn plus_seconds(self, s: u64) -> Millis {
        Millis(self.0.saturating_add(s.saturating_mul(1000)))
    }
}

/// Settings a TPM gets at manufacture or from its first owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TpmConfig {
    /// `lockoutAuth`: authorizes TPM2_DictionaryAttackLockReset and
    /// TPM2_DictionaryAttackParameters. Empty by default.
    pub lockout_auth: AuthValue,
    /// `maxTries`: 32, as Windows configures TPM 2.0.
    pub max_tries: u32,
    /// `recoveryTime` in seconds: 600 (one failure forgotten every 10 minutes).
    pub recovery_time_s: u32,
    /// `lockoutRecovery` in seconds: 86,400 (a day).
    pub lockout_recovery_s: u32,
    /// The caller's time when the device is created.
    pub start_time: Millis,
}

impl Default for TpmConfig {
    fn default() -> Self {
        TpmConfig {
            lockout_auth: AuthValue::empty(),
            max_tries: 32,
            recovery_time_s: 600,
            lockout_recovery_s: 86_400,
            start_time: Millis(0),
        }
    }
}

/// How many transient objects may be loaded at once. A real TPM has at
/// least 3 slots and the operating system's resource manager swaps objects
/// in and out; this emulator does not model context swapping, so it has more.
pub(crate) const MAX_LOADED_OBJECTS: usize = 8;

/// The largest command or response (`TPM_PT_MAX_COMMAND_SIZE`).
pub(crate) const MAX_COMMAND_SIZE: usize = 4096;

/// Secrets derived from the [`TpmSeed`].
#[derive(Clone)]
pub(crate) struct Seeds {
    root: [u8; 32],
    /// Endorsement Primary Seed.
    pub eps: [u8; 32],
    /// Storage Primary Seed.
    pub sps: [u8; 32],
    /// Platform Primary Seed.
    pub pps: [u8; 32],
    /// The null hierarchy's seed (changes on every TPM Reset).
    pub null_seed: [u8; 32],
    pub eh_proof: [u8; 32],
    pub sh_proof: [u8; 32],
    pub ph_proof: [u8; 32],
    pub null_proof: [u8; 32],
}

impl Seeds {
    fn new(root: [u8; 32]) -> Self {
        let d = |label: &str| kdfa32(&root, label, &[], &[]);
        let reset_count = 0u32.to_be_bytes();
        Seeds {
            eps: d("ENDORSEMENT PRIMARY SEED"),
            sps: d("STORAGE PRIMARY SEED"),
            pps: d("PLATFORM PRIMARY SEED"),
            null_seed: kdfa32(&root, "NULL SEED", &reset_count, &[]),
            eh_proof: d("ENDORSEMENT PROOF"),
            sh_proof: d("STORAGE PROOF"),
            ph_proof: d("PLATFORM PROOF"),
            null_proof: kdfa32(&root, "NULL PROOF", &reset_count, &[]),
            root,
        }
    }

    /// The primary seed of a hierarchy.
    pub(crate) fn primary_seed(&self, hierarchy: TpmHandle) -> &[u8; 32] {
        match hierarchy {
            TpmHandle::RH_ENDORSEMENT => &self.eps,
            TpmHandle::RH_OWNER => &self.sps,
            TpmHandle::RH_PLATFORM => &self.pps,
            _ => &self.null_seed,
        }
    }

    /// The proof value of a hierarchy, which keys its tickets.
    pub(crate) fn proof(&self, hierarchy: TpmHandle) -> &[u8; 32] {
        match hierarchy {
            TpmHandle::RH_ENDORSEMENT => &self.eh_proof,
            TpmHandle::RH_OWNER => &self.sh_proof,
            TpmHandle::RH_PLATFORM => &self.ph_proof,
            _ => &self.null_proof,
        }
    }

    /// A random stream for one purpose and one use: the n-th use of
    /// `purpose` draws from ChaCha20 keyed by KDFa(seed, purpose, n), so it
    /// does not depend on how many other commands ran in between.
    pub(crate) fn stream(&self, purpose: &str, n: u64) -> rand_chacha::ChaCha20Rng {
        rand_chacha::ChaCha20Rng::from_seed(kdfa32(&self.root, purpose, &n.to_be_bytes(), &[]))
    }
}

/// An NV index.
#[derive(Clone, Debug)]
pub(crate) struct NvIndex {
    pub public: TpmsNvPublic,
    pub data: Vec<u8>,
}

/// Per-purpose use counters (see [`Seeds::stream`]).
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    /// Successful TPM2_Create key generations.
    pub create: u64,
    /// Successful TPM2_Create of keyed-hash objects, counted apart so that
    /// bringing a secret in never changes the keys generated after it.
    pub create_keyed_hash: u64,
    /// TPM2_GetRandom calls.
    pub get_random: u64,
}

/// What TPM2_Create generated, shared by a TPM and its copies.
///
/// The n-th key generation of TPM2_Create draws from the "CREATE" stream
/// number n only ([`Seeds::stream`]), so its result is a function of the
/// TPM's seed, n, the template and the caller's sensitive data. A copy of a
/// TPM (`Tpm::clone`: the same seed) that comes to the same creation with
/// the same template gets the same key: this remembers it rather than
/// searching for the same primes again. It changes no byte any command
/// returns; it only spares the time (an RSA-2048 generation is a few tenths
/// of a second in a browser). Copies made to replay a run from the start
/// are what it is for.
#[derive(Clone, Default)]
pub(crate) struct Generated(
    std::sync::Arc<std::sync::Mutex<Vec<(GeneratedKey, objects::Generation)>>>,
);

/// Which generation: creation number, template and sensitive data bytes.
type GeneratedKey = (u64, Vec<u8>, Vec<u8>);

/// At most this many results are kept (a run creates a handful of keys).
const GENERATED_KEPT: usize = 32;

impl Generated {
    /// The result of generation `key`, made by `make` unless a copy of
    /// this TPM made it already.
    pub(crate) fn get_or_make(
        &self,
        key: GeneratedKey,
        make: impl FnOnce() -> Result<objects::Generation, crate::types::ResponseCode>,
    ) -> Result<objects::Generation, crate::types::ResponseCode> {
        // A poisoned lock only means a panic elsewhere: generate afresh.
        if let Ok(kept) = self.0.lock() {
            if let Some((_, made)) = kept.iter().find(|(k, _)| *k == key) {
                return Ok(made.clone());
            }
        }
        let made = make()?;
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= GENERATED_KEPT {
                kept.remove(0);
            }
            kept.push((key, made.clone()));
        }
        Ok(made)
    }
}

/// The emulated TPM.
///
/// Send it TPM 2.0 command buffers with [`Tpm::execute`]; every answer is a
/// TPM response buffer, an error code for any bad input. See the crate
/// documentation for the commands it implements.
#[derive(Clone)]
pub struct Tpm {
    pub(crate) seeds: Seeds,
    pub(crate) config: TpmConfig,
    pub(crate) started: bool,
    pub(crate) now: u64,
    pub(crate) reset_count: u32,
    pub(crate) restart_count: u32,
    pub(crate) da: Da,
    pub(crate) objects: Vec<Option<Object>>,
    pub(crate) nv: Vec<NvIndex>,
    pub(crate) counters: Counters,
    pub(crate) certificates: manufacturer::Certificates,
    ek_public: TpmtPublic,
    /// Key generations, shared with this TPM's copies.
    pub(crate) generated: Generated,
}

impl fmt::Debug for Tpm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tpm")
            .field("started", &self.started)
            .field("now", &self.now)
            .field(
                "loaded_objects",
                &self.objects.iter().filter(|o| o.is_some()).count(),
            )
            .field("da", &self.da)
            .finish_non_exhaustive()
    }
}

impl Tpm {
    /// A TPM manufactured from `seed`, with default settings.
    ///
    /// Manufacture derives the endorsement key from the endorsement primary
    /// seed with the TCG ECC P-256 EK template and has the emulated
    /// manufacturer's CA certify it; the certificate is stored in NV.
    pub fn new(seed: TpmSeed) -> Tpm {
        Self::with_config(seed, TpmConfig::default())
    }

    /// A TPM manufactured from `seed` with `config`.
    pub fn with_config(seed: TpmSeed, config: TpmConfig) -> Tpm {
        let seeds = Seeds::new(seed.0);
        let now = config.start_time.0;
        let da = Da::new(
            config.max_tries,
            config.recovery_time_s,
            config.lockout_recovery_s,
            now,
        );
        let ek_template = crate::templates::ek_ecc_p256();
        // The EK is a primary key: the same derivation TPM2_CreatePrimary uses.
        let ek_public = exec::derive_primary(&seeds, TpmHandle::RH_ENDORSEMENT, &ek_template)
            .map(|(public, _, _)| public)
            .unwrap_or(ek_template);
        // Issuing needs only P-256 arithmetic on valid keys; should it fail,
        // the device still works and the NV index holds no certificate.
        let certificates =
            manufacturer::issue(&seeds.root, &ek_public).unwrap_or(manufacturer::Certificates {
                ca: Vec::new(),
                ek: Vec::new(),
            });
        let ek_nv = NvIndex {
            public: TpmsNvPublic {
                nv_index: TpmHandle::EK_CERT_ECC_P256,
                name_alg: TpmAlgId::SHA256,
                attributes: TpmaNv(
                    TpmaNv::PPWRITE.0
                        | TpmaNv::WRITEDEFINE.0
                        | TpmaNv::PPREAD.0
                        | TpmaNv::OWNERREAD.0
                        | TpmaNv::AUTHREAD.0
                        | TpmaNv::NO_DA.0
                        | TpmaNv::WRITTEN.0
                        | TpmaNv::PLATFORMCREATE.0,
                ),
                auth_policy: Tpm2bDigest::empty(),
                data_size: certificates.ek.len() as u16,
            },
            data: certificates.ek.clone(),
        };
        Tpm {
            seeds,
            config,
            started: false,
            now,
            reset_count: 0,
            restart_count: 0,
            da,
            objects: vec![None; MAX_LOADED_OBJECTS],
            nv: vec![ek_nv],
            counters: Counters::default(),
            certificates,
            ek_public,
            generated: Generated::default(),
        }
    }

    /// Executes one command and returns the response. Never panics: any
    /// malformed, unauthorized or unsupported command gets a TPM error
    /// response (10 bytes: `TPM_ST_NO_SESSIONS`, size 10, the response code).
    pub fn execute(&mut self, command: &[u8]) -> Vec<u8> {
        exec::execute(self, command)
    }

    /// Tells the device the time. Time never goes back: an earlier value is
    /// ignored. Dictionary-attack self-healing and the attestation clock
    /// follow this time.
    pub fn set_time(&mut self, now: Millis) {
        if now.0 > self.now {
            self.now = now.0;
        }
        self.da.self_heal(self.now);
    }

    /// The device's idea of the time.
    pub fn now(&self) -> Millis {
        Millis(self.now)
    }

    /// The dictionary-attack state, with the timing details only the device
    /// knows (see also [`crate::TpmClient::da_state`], which reads it through
    /// TPM2_GetCapability).
    pub fn da_state(&self) -> DaState {
        let mut da = self.da.clone();
        da.self_heal(self.now);
        da.state()
    }

    /// The EK certificate (DER) stored at manufacture in NV index
    /// `0x01C0000A` (read it through the command interface with
    /// [`crate::TpmClient::ek_certificate`]).
    pub fn ek_certificate(&self) -> &[u8] {
        &self.certificates.ek
    }

    /// The emulated manufacturer's root CA certificate (DER). A real
    /// manufacturer publishes it on its web site; it is not in the TPM.
    pub fn manufacturer_ca_certificate(&self) -> &[u8] {
        &self.certificates.ca
    }

    /// The EK's public area as manufactured (the same one TPM2_CreatePrimary
    /// with the TCG L-2 template returns).
    pub fn ek_public(&self) -> &TpmtPublic {
        &self.ek_public
    }
}
