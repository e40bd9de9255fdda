//! A small emulated TPM 2.0.
//!
//! [`Tpm`] is a device that speaks the TPM 2.0 command/response protocol
//! (TPM 2.0 Part 1 §18, Part 3): big-endian command buffers in, response
//! buffers out, password sessions (`TPM_RS_PW`) for authorization, and the
//! response codes a TPM returns, with their handle, parameter and session
//! numbers (Part 2 §6.6). [`TpmClient`] is a typed layer on top: it builds the
//! commands, parses the responses into the structures of [`types`], and
//! records every [`Exchange`] so a user interface can show the bytes;
//! [`describe`] turns any of those buffers into a tree of fields with their
//! byte spans. The crate knows nothing of any particular application: it is
//! a generic small TPM.
//!
//! # Example
//!
//! ```
//! use tpm_emu::{AuthValue, KeyPool, Tpm, TpmClient, TpmSeed};
//!
//! # fn main() -> tpm_emu::Result<()> {
//! let mut client = TpmClient::new(Tpm::new(TpmSeed([7; 32])));
//! // TPM2_Startup, the SRK and the EK (TPM2_CreatePrimary), an RSA attestation
//! // key (TPM2_Create, TPM2_Load), the EK certificate (TPM2_NV_Read).
//! let platform = client.provision()?;
//!
//! // Keys made ahead of need; in a browser a Web Worker calls fill_one.
//! let mut pool = KeyPool::new(1, &platform);
//! pool.fill_one(&mut client)?;
//! let key = pool.take(&mut client, b"server nonce")?; // TPM2_Load + TPM2_Certify
//! let attestation = &key.attestation;
//! attestation.signature.verify(&platform.aik.public, &attestation.attest_bytes)?;
//!
//! // Bind the key to a PIN, then use it.
//! let pin = AuthValue::from_pin("123456");
//! let empty = AuthValue::empty();
//! let srk = platform.srk.handle;
//! let (_, bound) = client.change_auth_and_reload(key.handle, &empty, srk, &empty, &key.public, &pin)?;
//! let signature = client.sign(bound.handle, &pin, &[0x5A; 32])?;
//! signature.verify_digest(&key.public, &[0x5A; 32])?;
//!
//! // Every command and response, field by field.
//! for exchange in client.take_exchanges() {
//!     let nodes = exchange.describe_command()?;
//!     assert_eq!(nodes[0].name, exchange.name);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Commands
//!
//! TPM2_Startup, TPM2_GetRandom, TPM2_CreatePrimary, TPM2_Create, TPM2_Load,
//! TPM2_ReadPublic, TPM2_ObjectChangeAuth, TPM2_Certify, TPM2_Sign,
//! TPM2_RSA_Decrypt, TPM2_HMAC, TPM2_Hash, TPM2_DictionaryAttackParameters,
//! TPM2_DictionaryAttackLockReset, TPM2_FlushContext, TPM2_GetCapability
//! (`TPM_CAP_TPM_PROPERTIES`), TPM2_NV_ReadPublic and TPM2_NV_Read. Keys are
//! RSA-2048 (RSASSA, RSAES, OAEP) and ECC NIST P-256 (ECDSA), and keyed-hash
//! objects holding an HMAC key the caller brings (TPM2_Create with
//! `inSensitive.data`), with SHA-256 as the only hash and AES-128-CFB for
//! storage keys.
//!
//! # Keys
//!
//! - The **endorsement key** is derived from the endorsement primary seed
//!   with the TCG EK Credential Profile's ECC NIST P-256 template "L-2"
//!   ([`templates::ek_ecc_p256`]). At manufacture the emulated TPM
//!   manufacturer's CA (a P-256 key derived from the seed, with a
//!   self-signed root certificate, [`Tpm::manufacturer_ca_certificate`])
//!   issues an X.509 EK certificate, stored in NV index `0x01C0000A` (the
//!   TCG index for an ECC P-256 EK certificate; `0x01C00002` is the RSA
//!   one) and read with [`TpmClient::ek_certificate`].
//! - Primary keys (TPM2_CreatePrimary) come from a DRBG seeded with
//!   KDFa(primary seed, "Primary Object Creation", Name of the template):
//!   the same seed and template give the same key.
//! - Ordinary keys (TPM2_Create) leave the TPM only as a `TPM2B_PRIVATE`:
//!   the `TPMT_SENSITIVE` (for RSA, one prime) encrypted with AES-128-CFB
//!   under KDFa(parent seedValue, "STORAGE", Name), with an outer
//!   HMAC-SHA256 keyed by KDFa(parent seedValue, "INTEGRITY") over the
//!   ciphertext and the Name (TPM 2.0 Part 1 §22–23, Protected Storage).
//!   TPM2_Load checks the HMAC (`TPM_RC_INTEGRITY` if tampered) and rebuilds
//!   the key. No command and no API returns a private key or an authValue.
//! - A restricted signing key (an attestation key, [`templates::aik_rsa_2048`])
//!   signs TPM-made structures (TPM2_Certify) and refuses TPM2_Sign of a
//!   digest without a hash-check ticket (`TPM_RC_TICKET`); TPM2_Hash issues
//!   no ticket for data beginning with `TPM_GENERATED_VALUE`, so such a key
//!   cannot be made to sign a forged attestation.
//!
//! # PIN model
//!
//! A user key's authorization value is SHA-256 of the PIN's UTF-16LE code
//! units, computed by the caller ([`AuthValue::from_pin`] is a convenience);
//! the crate itself only ever sees an [`AuthValue`]. Keys are pre-generated
//! with an empty authValue ([`KeyPool`]) and bound to the PIN afterwards with
//! TPM2_ObjectChangeAuth, which returns a new `TPM2B_PRIVATE` carrying the
//! new authValue ([`TpmClient::change_auth_and_reload`]). Every use of the key
//! — TPM2_Sign, and TPM2_Certify of it (which needs the certified object's
//! authorization too, TPM 2.0 Part 3 §18.2) — is authorized with a password
//! session carrying the authValue. A wrong value answers `TPM_RC_AUTH_FAIL`
//! and, because user keys do not set `noDA`, counts towards
//! dictionary-attack lockout. This is an approximation: how Windows derives
//! and binds the value it uses for a Hello PIN is not public, and public
//! models differ (some use the PIN as the authValue of a parent storage key
//! instead).
//!
//! # Dictionary-attack protection
//!
//! `maxTries` 32, `recoveryTime` 600 s, `lockoutRecovery` 86,400 s by default
//! ([`TpmConfig`]), following the reference implementation: at `maxTries`
//! failures every DA-protected authorization answers `TPM_RC_LOCKOUT`, right
//! or wrong; one failure is forgiven per `recoveryTime`;
//! TPM2_DictionaryAttackLockReset with lockoutAuth clears the count. Time is
//! the caller's: [`Tpm::set_time`] with a [`Millis`] value; the crate never
//! reads a clock. [`TpmClient::da_state`] reads the state through
//! TPM2_GetCapability; [`Tpm::da_state`] adds the device's timers.
//!
//! # Determinism
//!
//! Everything random comes from the [`TpmSeed`]: the primary seeds, the
//! hierarchy proofs, the manufacturer CA key, and per-purpose random streams.
//! The n-th successful TPM2_Create draws its key from a ChaCha20 stream keyed
//! by KDFa(seed, "CREATE", n) alone, and the n-th TPM2_GetRandom from
//! KDFa(seed, "GET RANDOM", n), so interleaving commands differently (a pool
//! filling in the background) does not change which key the n-th creation
//! yields. RSASSA-PKCS1-v1_5 and RFC 6979 ECDSA signatures are deterministic.
//! With the same seed and the same clock values, a run is byte-identical.
//! The crate has no source of randomness of its own (it does not depend on
//! `getrandom`): a caller that wants a fresh device draws 32 bytes from its
//! platform and passes them in as the [`TpmSeed`].
//!
//! # Recording
//!
//! [`TpmClient`] records each command as sent, except that secrets a
//! command carries in the clear (a password session's `hmac`, which is the
//! authValue itself, `inSensitive.userAuth`, `newAuth`) are replaced by zero
//! bytes of the same length, unless [`TpmClient::set_redact_secrets`] turns
//! that off.

//!
//! # Code map
//!
//! - [`types`] (`types/{constants,rc,tpma,tpm2b,tpms,tpmt,tpml}.rs`): the
//!   TPM 2.0 Part 2 structures, each with its marshalling;
//!   [`marshal`]: the [`Marshal`]/[`Unmarshal`] traits and the reader that
//!   records byte spans.
//! - `commands` (private): each command's handles, parameters and response,
//!   and the command/response framing, shared by the device, the client and
//!   [`describe`].
//! - `device` (`device/{exec,objects,da,manufacturer}.rs`): [`Tpm`], command
//!   execution, loaded objects, dictionary-attack logic, the manufacturer's
//!   certificates.
//! - `client` (`client/provision.rs`): [`TpmClient`], [`Transport`],
//!   [`Exchange`], [`TpmClient::provision`]; `pool`: [`KeyPool`].
//! - [`templates`]: the EK, SRK, AIK and user-key templates; `crypto`
//!   (private): KDFa, HMAC, Protected Storage.
//!
//! Invariants: the crate reads no clock and no global randomness; no private key or authValue leaves the device;
//! [`Tpm::execute`] and every parser return errors instead of panicking.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod auth;
mod client;
mod commands;
mod crypto;
pub mod describe;
mod device;
mod error;
pub mod marshal;
mod node;
mod pool;
pub mod templates;
pub mod types;

pub use auth::AuthValue;
pub use client::{
    Attestation, Created, CreatedPrimary, Exchange, KeyHandle, Loaded, NvPublicInfo, Provisioned,
    PublicInfo, TpmClient, Transport, EK_CERT_NV_INDEX,
};
pub use commands::command_name;
pub use device::{DaState, Millis, Tpm, TpmConfig, TpmSeed, TCG_KP_EK_CERTIFICATE};
pub use error::{Error, Malformed, MalformedKind, Result};
pub use marshal::{Marshal, Unmarshal};
pub use pool::{KeyPool, PoolState, PooledKey};
pub use types::*;

#[cfg(all(test, target_arch = "wasm32"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
