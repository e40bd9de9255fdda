//! A key pre-generation pool.
//!
//! RSA-2048 key generation takes about a tenth of a second natively and a
//! few tenths in a browser, so user keys are created ahead of need
//! (TPM2_Create under the storage root key) and handed out on request,
//! loaded and attested: TPM2_Load, then TPM2_Certify by the attestation key
//! with the requester's nonce as qualifying data. A driver calls
//! [`KeyPool::fill_one`] whenever it is idle (in the browser, a Web Worker).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::auth::AuthValue;
use crate::client::{Attestation, Provisioned, TpmClient, Transport};
use crate::error::Result;
use crate::templates;
use crate::types::{Tpm2bName, Tpm2bPrivate, TpmHandle, TpmtPublic};

/// A created, not yet loaded key waiting in the pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Prepared {
    private: Tpm2bPrivate,
    public: TpmtPublic,
}

/// A key handed out by the pool: loaded, with its attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PooledKey {
    /// The transient handle the key is loaded at. Flush it when done.
    pub handle: TpmHandle,
    /// The wrapped private area (authValue: empty until bound to a PIN).
    pub private: Tpm2bPrivate,
    /// The public area.
    pub public: TpmtPublic,
    /// The key's Name.
    pub name: Tpm2bName,
    /// TPM2_Certify of the key by the attestation key, over the nonce.
    pub attestation: Attestation,
}

/// What the pool is doing, for a UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolState {
    /// Keys created and waiting.
    pub ready: usize,
    /// Whether the pool is below its target, so its driver should keep
    /// calling [`KeyPool::fill_one`].
    pub making: bool,
    /// How many keys the pool keeps ready.
    pub target: usize,
    /// Keys created by this pool so far (including ones handed out).
    pub created_total: u64,
}

/// A pool of pre-generated user keys.
#[derive(Clone, Debug)]
pub struct KeyPool {
    target: usize,
    ready: VecDeque<Prepared>,
    created_total: u64,
    parent: TpmHandle,
    parent_auth: AuthValue,
    aik: TpmHandle,
    aik_auth: AuthValue,
    template: TpmtPublic,
}

impl KeyPool {
    /// A pool keeping `target` RSA-2048 user keys
    /// ([`templates::user_key_rsa_2048`]) under the platform's SRK, attested
    /// by its AIK (both with the Empty Auth, as provisioned).
    pub fn new(target: usize, platform: &Provisioned) -> Self {
        KeyPool {
            target,
            ready: VecDeque::new(),
            created_total: 0,
            parent: platform.srk.handle,
            parent_auth: AuthValue::empty(),
            aik: platform.aik.handle,
            aik_auth: AuthValue::empty(),
            template: templates::user_key_rsa_2048(),
        }
    }

    /// The same pool creating keys from `template` instead.
    pub fn with_template(mut self, template: TpmtPublic) -> Self {
        self.template = template;
        self
    }

    /// Changes how many keys the pool keeps ready.
    pub fn set_target(&mut self, target: usize) {
        self.target = target;
    }

    /// Creates one key (TPM2_Create) if the pool is below its target.
    /// Returns whether it created one.
    pub fn fill_one<T: Transport>(&mut self, client: &mut TpmClient<T>) -> Result<bool> {
        if self.ready.len() >= self.target {
            return Ok(false);
        }
        let prepared = self.create(client)?;
        self.ready.push_back(prepared);
        Ok(true)
    }

    fn create<T: Transport>(&mut self, client: &mut TpmClient<T>) -> Result<Prepared> {
        let created = client.create(
            self.parent,
            &self.parent_auth,
            &self.template,
            &AuthValue::empty(),
        )?;
        self.created_total += 1;
        Ok(Prepared {
            private: created.private,
            public: created.public,
        })
    }

    /// Hands out a key: the oldest ready one, or one created now if the pool
    /// is empty. The key is loaded (TPM2_Load) and certified by the
    /// attestation key (TPM2_Certify) with `nonce` as qualifying data (at
    /// most 34 bytes). The key's authValue is empty: bind it to a PIN with
    /// [`TpmClient::change_auth_and_reload`].
    ///
    /// A key whose load or certification fails is not lost: it goes back to
    /// the front of the pool.
    pub fn take<T: Transport>(
        &mut self,
        client: &mut TpmClient<T>,
        nonce: &[u8],
    ) -> Result<PooledKey> {
        let prepared = match self.ready.pop_front() {
            Some(p) => p,
            None => self.create(client)?,
        };
        let loaded = match client.load(
            self.parent,
            &self.parent_auth,
            &prepared.private,
            &prepared.public,
        ) {
            Ok(l) => l,
            Err(e) => {
                self.ready.push_front(prepared);
                return Err(e);
            }
        };
        let attestation = match client.certify(
            loaded.handle,
            &AuthValue::empty(),
            self.aik,
            &self.aik_auth,
            nonce,
        ) {
            Ok(a) => a,
            Err(e) => {
                // Best effort: the certification error is the one to report.
                let _ = client.flush_context(loaded.handle);
                self.ready.push_front(prepared);
                return Err(e);
            }
        };
        Ok(PooledKey {
            handle: loaded.handle,
            private: prepared.private,
            public: prepared.public,
            name: loaded.name,
            attestation,
        })
    }

    /// The pool's state.
    pub fn state(&self) -> PoolState {
        PoolState {
            ready: self.ready.len(),
            making: self.ready.len() < self.target,
            target: self.target,
            created_total: self.created_total,
        }
    }
}
