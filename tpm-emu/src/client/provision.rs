//! Bringing up a fresh TPM the way a platform does at first boot.

use serde::{Deserialize, Serialize};

use super::{TpmClient, Transport};
use crate::auth::AuthValue;
use crate::error::Result;
use crate::templates;
use crate::types::{Tpm2bName, Tpm2bPrivate, TpmHandle, TpmtPublic};

/// A loaded key: handle, public area, Name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyHandle {
    /// The transient handle.
    pub handle: TpmHandle,
    /// The public area.
    pub public: TpmtPublic,
    /// The Name.
    pub name: Tpm2bName,
}

/// What [`TpmClient::provision`] set up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provisioned {
    /// The storage root key (ECC P-256, owner hierarchy, Empty Auth).
    pub srk: KeyHandle,
    /// The endorsement key (TCG template L-2, endorsement hierarchy).
    pub ek: KeyHandle,
    /// The attestation key (restricted RSA-2048 signing key under the SRK,
    /// Empty Auth).
    pub aik: KeyHandle,
    /// The AIK's wrapped private area, to reload it later.
    pub aik_private: Tpm2bPrivate,
    /// The EK certificate (DER), read from NV.
    pub ek_certificate: Vec<u8>,
}

impl<T: Transport> TpmClient<T> {
    /// Brings up a fresh TPM in one call, each step a recorded command:
    /// TPM2_Startup(CLEAR); TPM2_CreatePrimary of the SRK (owner hierarchy)
    /// and of the EK (endorsement hierarchy); TPM2_Create and TPM2_Load of an
    /// RSA-2048 attestation key under the SRK; TPM2_NV_ReadPublic and
    /// TPM2_NV_Read of the EK certificate.
    pub fn provision(&mut self) -> Result<Provisioned> {
        self.provision_with_aik(&templates::aik_rsa_2048())
    }

    /// [`TpmClient::provision`] with another attestation-key template (for
    /// example [`templates::aik_ecc_p256`], which is much faster to create).
    pub fn provision_with_aik(&mut self, aik_template: &TpmtPublic) -> Result<Provisioned> {
        let empty = AuthValue::empty();
        self.startup()?;
        let srk = self.create_primary(
            TpmHandle::RH_OWNER,
            &empty,
            &templates::srk_ecc_p256(),
            &empty,
        )?;
        let ek = self.create_primary(
            TpmHandle::RH_ENDORSEMENT,
            &empty,
            &templates::ek_ecc_p256(),
            &empty,
        )?;
        let aik = self.create(srk.handle, &empty, aik_template, &empty)?;
        let loaded = self.load(srk.handle, &empty, &aik.private, &aik.public)?;
        let ek_certificate = self.ek_certificate()?;
        Ok(Provisioned {
            srk: KeyHandle {
                handle: srk.handle,
                public: srk.public,
                name: srk.name,
            },
            ek: KeyHandle {
                handle: ek.handle,
                public: ek.public,
                name: ek.name,
            },
            aik: KeyHandle {
                handle: loaded.handle,
                public: aik.public,
                name: loaded.name,
            },
            aik_private: aik.private,
            ek_certificate,
        })
    }
}
