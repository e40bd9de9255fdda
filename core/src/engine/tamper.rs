//! Tampering with what travels, as a person exploring the flows does it:
//! replace an artifact's bytes on the wire and either keep its original
//! signature ([`Run::tamper`]) or have its sender sign the new bytes again
//! ([`Run::tamper_resigned`]). Either way the consumer's real parser and real
//! checks meet the new bytes; nothing here decides what fails.

use super::wire::certificate as cert_wire;
use super::wire::join as join_wire;
use super::wire::keys as keys_wire;
use super::wire::registration as reg_wire;
use super::wire::sign_in as sign_in_wire;
use super::wire::tokens as token_wire;
use super::Run;
use crate::catalog::Actor;
use crate::error::{Error, Result};
use crate::seed::KeyPurpose;

const AIK_REFUSAL: &str = "the attestation key is a restricted TPM key: the TPM signs only structures it \
generated itself (TPM2_Sign of outside data needs a hash-check ticket, which TPM2_Hash refuses for data that \
looks like a TPMS_ATTEST), so no one can re-sign an edited attestation. Keep the original signature to see \
the verifier catch the edit.";

/// Who signs an artifact, and so who can sign it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sender {
    /// A JWS signed with an infrastructure key.
    Token(KeyPurpose),
    /// A SAML assertion AD FS signed with its token-signing key, inside
    /// the document that carries it.
    Saml,
    /// A JWS signed by the device key inside the TPM.
    DeviceKeyToken,
    /// A JWS signed by the user key inside the TPM (authorised by the PIN).
    UserKeyToken,
    /// The PKCS#10 request, signed by the user key inside the TPM.
    UserKeyRequest,
    /// The device's PKCS#10 request at join, signed by the device key
    /// inside the TPM.
    DeviceKeyRequest,
    /// The device certificate, signed by the registration service's device CA.
    DeviceCa,
    /// The RA's CMS countersignature.
    EnrollmentAgent,
    /// The certificate, signed by the enterprise CA.
    EnterpriseCa,
    /// The TPM's attestation, signed by its restricted attestation key.
    Aik,
    /// The Kerberos AS-REQ, whose AuthPack the user key signs in the TPM.
    KerberosClient,
    /// The KDC's reply: its DH value signed with the domain controller's
    /// key, its parts encrypted to keys only the KDC and the client hold.
    Kdc,
    /// The TGS-REQ, whose authenticator the client seals with the partial
    /// TGT's session key.
    TgsClient,
    /// The KDC's TGS-REP, encrypted under the partial TGT's session key and
    /// carrying a ticket under the domain's krbtgt key.
    TgsKdc,
    /// Carries no signature of its own.
    Unsigned,
}

impl Run {
    /// The artifacts of the last step that a later step will read from the
    /// wire, with who could sign an edit of each.
    pub(crate) fn tamper_targets(&self) -> Vec<super::TamperTarget> {
        let Some(event) = self.events.last() else {
            return Vec::new();
        };
        event
            .artifacts
            .iter()
            .filter(|a| self.wire.contains_key(&a.id))
            .map(|a| super::TamperTarget {
                artifact: a.id.clone(),
                resign: self.resigner(&a.id),
                attacker: self.attacker_signer(&a.id),
            })
            .collect()
    }

    /// Whether an attacker can sign an edited `id` with a key of their own.
    fn attacker_signer(&self, id: &str) -> std::result::Result<String, String> {
        if matches!(
            self.sender_of(id),
            Sender::Token(_) | Sender::DeviceKeyToken | Sender::UserKeyToken
        ) {
            Ok("a key of the attacker's own, which no party trusts".into())
        } else {
            Err(format!(
                "an attacker's signature is modelled for tokens (JWS) only, and `{id}` is not one"
            ))
        }
    }

    /// Who signs `id` again after an edit, or why nobody can.
    fn resigner(&self, id: &str) -> std::result::Result<String, String> {
        match self.sender_of(id) {
            Sender::Token(purpose) => Ok(purpose.description().to_string()),
            Sender::Saml => Ok(KeyPurpose::AdFsTokenSigning.description().to_string()),
            Sender::DeviceKeyToken => Ok("the device key, in the TPM".into()),
            Sender::UserKeyToken => Ok("the user key, in the TPM (authorised by the PIN)".into()),
            Sender::UserKeyRequest => Ok("the user key, in the TPM (authorised by the PIN)".into()),
            Sender::DeviceKeyRequest => Ok("the device key, in the TPM".into()),
            Sender::DeviceCa => Ok(KeyPurpose::DeviceCa.description().to_string()),
            Sender::EnrollmentAgent => {
                Ok("the enrollment agent key of the AD FS registration authority".into())
            }
            Sender::EnterpriseCa => Ok("the enterprise root CA key".into()),
            Sender::Aik => Err(AIK_REFUSAL.into()),
            Sender::KerberosClient => Ok(
                "the user key, in the TPM (authorised by the PIN): the AuthPack with a new checksum of the edited request"
                    .into(),
            ),
            Sender::TgsClient => Ok(
                "the partial TGT's session key, which the Kerberos client holds: a new authenticator with the checksum of the edited request"
                    .into(),
            ),
            Sender::TgsKdc => Err("the KDC's reply is encrypted under the partial TGT's session key and carries a ticket under the domain's krbtgt key: making it again is not modelled. Keep the original bytes to see the client catch the edit.".into()),
            Sender::Kdc => Err("the KDC's reply is signed with the domain controller's key and encrypted under the krbtgt key and the Diffie-Hellman reply key: re-signing it is not modelled. Keep the original bytes' signature to see the client catch the edit.".into()),
            Sender::Unsigned => Err(format!(
                "`{id}` carries no signature of its own, so there is nothing to re-sign"
            )),
        }
    }

    fn sender_of(&self, id: &str) -> Sender {
        match id {
            token_wire::SIGN_IN_REQUEST | sign_in_wire::PRT_REQUEST => Sender::DeviceKeyToken,
            sign_in_wire::ASSERTION => Sender::UserKeyToken,
            token_wire::ENTERPRISE_TOKEN | super::federation::wire::RSTR => Sender::Saml,
            join_wire::JOIN_ENTERPRISE_TOKEN => Sender::Token(KeyPurpose::AdFsTokenSigning),
            token_wire::ACCESS_TOKEN if self.topo.token_issuer == Actor::AdFs => {
                Sender::Token(KeyPurpose::AdFsTokenSigning)
            }
            token_wire::ACCESS_TOKEN | reg_wire::KEY_RECEIPT => {
                Sender::Token(KeyPurpose::AzureAdTokenSigning)
            }
            join_wire::JOIN_TOKEN if self.enterprise_join() => {
                Sender::Token(KeyPurpose::AdFsTokenSigning)
            }
            join_wire::JOIN_TOKEN => Sender::Token(KeyPurpose::AzureAdTokenSigning),
            join_wire::DEVICE_CSR => Sender::DeviceKeyRequest,
            join_wire::DEVICE_CERTIFICATE => Sender::DeviceCa,
            cert_wire::CSR => Sender::UserKeyRequest,
            cert_wire::COUNTERSIGNED => Sender::EnrollmentAgent,
            cert_wire::USER_CERTIFICATE => Sender::EnterpriseCa,
            keys_wire::ATTESTATION | keys_wire::ATTESTATION_SIGNATURE => Sender::Aik,
            super::kerberos::wire::AS_REQ => Sender::KerberosClient,
            super::kerberos::wire::AS_REP => Sender::Kdc,
            super::cloud_kerberos::wire::TGS_REQ => Sender::TgsClient,
            super::cloud_kerberos::wire::TGS_REP => Sender::TgsKdc,
            _ => Sender::Unsigned,
        }
    }

    /// Replaces an artifact's bytes on the wire and has its sender sign the
    /// new bytes, as an insider with the sender's key would. Returns what was
    /// done, in words; refuses where no key could do it (the TPM's restricted
    /// attestation key, an artifact without a signature).
    pub fn tamper_resigned(&mut self, id: &str, bytes: Vec<u8>) -> Result<String> {
        if !self.wire.contains_key(id) {
            return Err(Error::Usage(format!(
                "no artifact `{id}` is on the wire at this point of the run"
            )));
        }
        let who = self.resigner(id).map_err(Error::Usage)?;
        let resigned = match self.sender_of(id) {
            Sender::Token(purpose) => {
                let key = self.world.keys.key(purpose)?.clone();
                resign_jws(&bytes, |input| crate::rs256::sign(&key, input))?
            }
            Sender::Saml => {
                let key = self.world.keys.key(KeyPurpose::AdFsTokenSigning)?.clone();
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::Usage(format!("the edited `{id}` is not UTF-8 text")))?;
                crate::formats::saml::resign_document(
                    &text,
                    &key,
                    &self.adfs_signing_certificate()?,
                )?
                .into_bytes()
            }
            Sender::DeviceKeyToken => {
                let now = self.now;
                let mut log = Vec::new();
                let device = &mut self.world.device;
                resign_jws(&bytes, |input| {
                    device.sign_with_device_key(input, now, &mut log)
                })?
            }
            Sender::UserKeyToken => {
                let loaded = self.user_key_loaded()?;
                let pin = self.world.config.options.pin.clone();
                let now = self.now;
                let mut log = Vec::new();
                let device = &mut self.world.device;
                resign_jws(&bytes, |input| {
                    device.sign_with_user_key(&loaded, input, &pin, now, &mut log)
                })?
            }
            Sender::UserKeyRequest => {
                let loaded = self.user_key_loaded()?;
                let pin = self.world.config.options.pin.clone();
                let now = self.now;
                let mut log = Vec::new();
                let device = &mut self.world.device;
                crate::pki::resign_request(&bytes, |info| {
                    device.sign_with_user_key(&loaded, info, &pin, now, &mut log)
                })?
            }
            Sender::DeviceKeyRequest => {
                let now = self.now;
                let mut log = Vec::new();
                let device = &mut self.world.device;
                crate::pki::resign_request(&bytes, |info| {
                    device.sign_with_device_key(info, now, &mut log)
                })?
            }
            Sender::DeviceCa => {
                let key = self.world.keys.key(KeyPurpose::DeviceCa)?.clone();
                crate::pki::resign_certificate(&bytes, &key)?
            }
            Sender::EnrollmentAgent => {
                let now = self.now;
                let requester = self.world.user.down_level_name(&self.world.tenant);
                self.world
                    .pki()?
                    .ra
                    .recountersign(&bytes, &requester, now)?
            }
            Sender::EnterpriseCa => self.world.pki()?.ca.resign_certificate(&bytes)?,
            Sender::KerberosClient => {
                let loaded = self.user_key_loaded()?;
                let pin = self.world.config.options.pin.clone();
                let now = self.now;
                let mut log = Vec::new();
                let device = &mut self.world.device;
                crate::kerberos::pkinit::resign_as_req(&bytes, now, |input| {
                    device.sign_with_user_key(&loaded, input, &pin, now, &mut log)
                })?
            }
            Sender::TgsClient => {
                let session = self
                    .state
                    .partial_tgt
                    .as_ref()
                    .map(|h| h.session_key.clone())
                    .ok_or_else(|| {
                        Error::Usage("the Kerberos client holds no partial TGT".into())
                    })?;
                let confounder = self
                    .world
                    .seed
                    .bytes("kerberos/cloud-trust/resealed-authenticator-confounder");
                crate::kerberos::tgs::reseal_tgs_req(&bytes, &session, confounder)?
            }
            // `resigner` refused these above.
            Sender::Aik | Sender::Kdc | Sender::TgsKdc | Sender::Unsigned => {
                return Err(Error::Usage(who))
            }
        };
        self.wire.insert(id.to_string(), resigned);
        self.pending_notes.push(format!(
            "`{id}` was edited on the wire and signed again with {who}."
        ));
        Ok(format!("the edited bytes were signed again with {who}"))
    }

    /// Replaces a token's bytes on the wire and signs them with a key of the
    /// attacker's own (the header's `kid` stays: the attacker cannot make a
    /// key the consumer trusts). Only tokens: the attacker's key signs the
    /// JWS signing input the way the sender's would.
    pub fn tamper_attacker_signed(&mut self, id: &str, bytes: Vec<u8>) -> Result<String> {
        if !self.wire.contains_key(id) {
            return Err(Error::Usage(format!(
                "no artifact `{id}` is on the wire at this point of the run"
            )));
        }
        self.attacker_signer(id).map_err(Error::Usage)?;
        // An edit is a person's act, not a step: the attacker's key is made
        // when they ask for it.
        self.world.keys.make(KeyPurpose::Attacker)?;
        let key = self.world.keys.key(KeyPurpose::Attacker)?.clone();
        let signed = resign_jws(&bytes, |input| crate::rs256::sign(&key, input))?;
        self.wire.insert(id.to_string(), signed);
        self.pending_notes.push(format!(
            "`{id}` was edited on the wire and signed with an attacker's own key."
        ));
        Ok("the edited bytes were signed with an attacker's own key".into())
    }

    fn user_key_loaded(&self) -> Result<crate::device::LoadedKey> {
        self.state
            .user_key
            .as_ref()
            .map(|k| k.loaded.clone())
            .ok_or_else(|| Error::Usage("the user key is not in the TPM yet".into()))
    }
}

/// An edited token (bytes, as they travel) signed again by `sign`.
fn resign_jws(bytes: &[u8], sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::malformed("JWS", "the edited token is not text"))?;
    crate::formats::jws::resign(text, sign).map(String::into_bytes)
}
