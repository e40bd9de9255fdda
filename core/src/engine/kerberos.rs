//! The PIN's sign-in to a domain controller: a PKINIT AS exchange (RFC
//! 4556, MS-PKCA) between Windows' Kerberos client and the domain
//! controller's KDC, step by step (the `kerberos` segment) or in one step
//! (the hybrid key-trust flows' sign-in before and after the sync).
//!
//! The client signs in the TPM and keeps its Diffie-Hellman pair and
//! nonces; the KDC reads the AS-REQ that arrived and what Active Directory
//! holds (the account, its msDS-KeyCredentialLink, the NTAuth CA and its
//! CRL); the client reads the reply that arrived.

use super::{Run, StepOutput};
use crate::artifact::{Artifact, ArtifactKind};
use crate::catalog::{Actor, Trust};
use crate::clock::SimDuration;
use crate::error::{Error, Result};
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::key_credential_link::{DnBinary, KeyCredentialLink};
use crate::kerberos::dh::DhKeyPair;
use crate::kerberos::pkinit;

/// Wire ids of the step-by-step exchange.
pub(crate) mod wire {
    pub const AS_REQ: &str = "kerberos-as-req";
    pub const AS_REP: &str = "kerberos-as-rep";
}

/// What the client keeps between sending the AS-REQ and reading the reply.
#[derive(Clone, Debug)]
pub(crate) struct KerberosClient {
    dh: DhKeyPair,
    nonce: u32,
    pk_nonce: u32,
}

/// A Kerberos message as an artifact, its fields named as RFC 4120 names
/// them.
pub(crate) fn kerberos_artifact(id: &str, title: &str, der: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Kerberos,
        der.to_vec(),
        crate::kerberos::view::fields(der),
        None,
    )
}

impl Run {
    /// The client builds and signs an AS-REQ with PA-PK-AS-REQ in the TPM
    /// (the PIN authorises the user key): key trust with a self-signed
    /// certificate for the key, certificate trust with the certificate the
    /// enterprise CA issued, from the Personal store. `None` when the TPM
    /// refused (its check says why). `label` picks the seeded streams.
    pub(crate) fn pkinit_request(
        &mut self,
        out: &mut StepOutput,
        label: &str,
        id: &str,
    ) -> Result<Option<(Vec<u8>, KerberosClient)>> {
        let loaded = self
            .state
            .user_key
            .as_ref()
            .map(|k| k.loaded.clone())
            .ok_or_else(|| Error::Usage("the user key is not loaded".into()))?;
        let public =
            crate::device::rsa_public_key(&self.take(super::wire::keys::USER_KEY_PUBLIC)?)?;
        let seed = self.world.seed;
        let client = KerberosClient {
            dh: DhKeyPair::from_secret(seed.bytes(&format!("kerberos/{label}/client-dh"))),
            nonce: u32::from_be_bytes(seed.bytes(&format!("kerberos/{label}/nonce"))) >> 1,
            pk_nonce: u32::from_be_bytes(seed.bytes(&format!("kerberos/{label}/pk-nonce"))) >> 1,
        };
        let issued = (self.flow.info().trust == Trust::Certificate)
            .then(|| {
                self.world
                    .device
                    .personal_store()
                    .last()
                    .map(|entry| entry.der.clone())
                    .ok_or_else(|| {
                        Error::Usage("no certificate is installed in the Personal store".into())
                    })
            })
            .transpose()?;
        // An expired logon certificate: the sign-in comes after its end.
        if let (Some(der), crate::options::UserCertificate::Expired) =
            (&issued, self.world.config.options.user_certificate)
        {
            let (_, until) = crate::pki::certificate_validity(der)?;
            if self.now <= until {
                self.now = until.plus(SimDuration::minutes(24 * 60));
                out.note(format!(
                    "Time passes: the user's certificate ran out on {until} and nobody renewed it. The sign-in below happens on {}.",
                    self.now
                ));
            }
        }
        let now = self.now;
        let client_now = self.client_clock(out);
        let pin = self.world.config.options.pin.clone();
        let user = self.world.user.clone();
        let mut log = Vec::new();
        let device = &mut self.world.device;
        let mut sign =
            |bytes: &[u8]| device.sign_with_user_key(&loaded, bytes, &pin, now, &mut log);
        let certificate = match issued.clone() {
            Some(der) => Ok(der),
            None => crate::pki::self_signed_logon_certificate(
                &public,
                &user.sam_account_name,
                now,
                now.plus(SimDuration::minutes(365 * 24 * 60)),
                &mut sign,
            ),
        };
        let request = certificate.and_then(|certificate| {
            let logon = pkinit::Logon {
                realm: crate::world::REALM,
                upn: &user.upn,
                now: client_now,
                nonce: client.nonce,
                pk_nonce: client.pk_nonce,
                dh: &client.dh,
                certificate: &certificate,
            };
            pkinit::as_req(&logon, &mut sign).map(|req| (certificate, req))
        });
        out.tpm.extend(log);
        let (certificate, request) = match request {
            Ok(r) => r,
            Err(Error::Tpm { source, .. }) => {
                // The TPM's own words (TPM_RC_AUTH_FAIL, TPM_RC_LOCKOUT).
                out.check(
                    Actor::Tpm,
                    "PIN authorises the key",
                    "the PIN-derived authValue",
                    "TPM 2.0 Part 1 §19.6.5",
                    Err(source.to_string()),
                );
                return Ok(None);
            }
            Err(other) => return Err(other),
        };
        if issued.is_none() {
            out.artifact(crate::enterprise_pki::certificate_artifact(
                &format!("{id}-certificate"),
                "Self-signed certificate for the user key",
                &certificate,
                Some("what Windows writes in it is not published; made as public tools make it for the same logon (CN=sAMAccountName, a year): the KDC trusts the key, not the certificate"),
            ));
        }
        Ok(Some((request, client)))
    }

    /// The domain controller's KDC answers the AS-REQ `request`: its
    /// checks go into `out`, its AS-REP or KRB-ERROR comes back.
    pub(crate) fn kdc_answers(
        &mut self,
        out: &mut StepOutput,
        label: &str,
        request: &[u8],
    ) -> Result<pkinit::KdcAnswer> {
        let user = self.world.user.clone();
        let accounts = vec![pkinit::KdcAccount {
            sam_account_name: user.sam_account_name.clone(),
            upn: user.upn.clone(),
            sid: user.sid.clone(),
            key_credentials: self
                .world
                .directory
                .key_credential_link
                .iter()
                .filter_map(|value| {
                    let dn = DnBinary::parse(value).ok()?;
                    let link = KeyCredentialLink::parse(dn.binary()).ok()?;
                    BcryptRsaPublicBlob::parse(link.key_material())
                        .and_then(|b| b.to_public_key())
                        .ok()
                })
                .collect(),
        }];
        let seed = self.world.seed;
        let secrets = pkinit::KdcSecrets {
            dh: seed.bytes(&format!("kerberos/{label}/kdc-dh")),
            session_key: seed.bytes(&format!("kerberos/{label}/session-key")),
            ticket_confounder: seed.bytes(&format!("kerberos/{label}/ticket-confounder")),
            reply_confounder: seed.bytes(&format!("kerberos/{label}/reply-confounder")),
        };
        // Where a CA issues logon certificates, its certificate is in
        // NTAuth and its CRL at its distribution point.
        let ca = if self.flow.info().trust == Trust::Certificate {
            let revoke = self.world.config.options.user_certificate
                == crate::options::UserCertificate::Revoked;
            let now = self.now;
            let ca = &mut self.world.pki()?.ca;
            if revoke && ca.revoked.is_empty() {
                if let Some(serial) = ca.issued.last().map(|c| c.serial) {
                    ca.revoke(serial, now)?;
                    out.note(format!(
                        "Meanwhile an administrator revoked the user's certificate (serial 0x{serial:X}); the issuing CA published a new CRL listing it."
                    ));
                }
            }
            let ca = &*ca;
            Some((
                ca.root_certificate.clone(),
                ca.certificate.clone(),
                ca.crl.clone(),
            ))
        } else {
            None
        };
        let dc = self.world.domain_controller()?.clone();
        let kdc = pkinit::Kdc {
            realm: crate::world::REALM,
            krbtgt: &dc.krbtgt,
            krbtgt_kvno: dc.krbtgt_kvno,
            key: &dc.key,
            certificate: (!self.world.config.options.dc_certificate_missing)
                .then_some(dc.certificate.as_slice()),
            accounts: &accounts,
            certificate_trust: ca
                .as_ref()
                .map(|(root, ntauth, crl)| pkinit::CertificateTrust { root, ntauth, crl }),
        };
        let answer = pkinit::kdc_answer(&kdc, request, self.now, secrets)?;
        out.record(answer.checks.clone());
        Ok(answer)
    }

    /// The client checks the reply that arrived and opens it; the TGT once
    /// every check held.
    pub(crate) fn client_opens(
        &mut self,
        out: &mut StepOutput,
        client: &KerberosClient,
        reply: &[u8],
        by: Actor,
    ) -> Result<Option<pkinit::Tgt>> {
        let dc = self.world.domain_controller()?.clone();
        let expect = pkinit::Expect {
            nonce: client.nonce,
            pk_nonce: client.pk_nonce,
            dh: &client.dh,
            root: &dc.root_certificate,
            issuing: &dc.issuing_certificate,
            now: self.now,
        };
        let (checks, tgt) = pkinit::open_as_rep(reply, &expect, by);
        out.record(checks);
        if let Some(tgt) = &tgt {
            let step = self
                .script
                .steps
                .get(self.events.len())
                .map(|s| s.id.to_string())
                .unwrap_or_default();
            self.state
                .kerberos_keys
                .push((step.clone(), "reply-key", tgt.reply_key.clone()));
            self.state
                .kerberos_keys
                .push((step, "session-key", tgt.session_key.clone()));
            out.note(format!(
                "The KDC issued a TGT for {}@{}, good until {}: the user is signed in to the domain with Windows Hello for Business.",
                self.world.user.sam_account_name,
                crate::world::REALM,
                tgt.endtime
            ));
        }
        Ok(tgt)
    }

    // The step-by-step exchange.

    pub(crate) fn sign_auth_pack(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if let Some((request, client)) = self.pkinit_request(&mut out, "sign-in", wire::AS_REQ)? {
            self.state.kerberos = Some(client);
            self.state.as_req = Some(request);
        }
        Ok(out)
    }

    pub(crate) fn send_as_req(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let request = self
            .state
            .as_req
            .clone()
            .ok_or_else(|| Error::Usage("the Kerberos client has no AS-REQ to send".into()))?;
        self.put(wire::AS_REQ, request.clone());
        out.artifact(kerberos_artifact(
            wire::AS_REQ,
            "AS-REQ with PA-PK-AS-REQ",
            &request,
        ));
        out.note(format!(
            "Kerberos over TCP port 88 to {} (RFC 4120 §7.2.2).",
            crate::world::DOMAIN_CONTROLLER
        ));
        Ok(out)
    }

    pub(crate) fn check_as_req(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let arrived = self.take(wire::AS_REQ)?;
        let answer = self.kdc_answers(&mut out, "sign-in", &arrived)?;
        if let Some(code) = answer.error {
            out.note(format!(
                "The KDC answers with a KRB-ERROR, {} ({code}).",
                pkinit::error_code::name(code)
            ));
        }
        self.state.as_rep = Some(answer.reply);
        Ok(out)
    }

    pub(crate) fn return_as_rep(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let reply = self
            .state
            .as_rep
            .clone()
            .ok_or_else(|| Error::Usage("the KDC has no reply to send".into()))?;
        self.put(wire::AS_REP, reply.clone());
        out.artifact(kerberos_artifact(
            wire::AS_REP,
            "AS-REP with PA-PK-AS-REP and the TGT",
            &reply,
        ));
        Ok(out)
    }

    pub(crate) fn open_as_rep(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let client = self
            .state
            .kerberos
            .clone()
            .ok_or_else(|| Error::Usage("the Kerberos client sent no AS-REQ".into()))?;
        let reply = self.take(wire::AS_REP)?;
        if let Some(tgt) = self.client_opens(&mut out, &client, &reply, Actor::Kerberos)? {
            out.artifact(crate::enterprise_pki::certificate_artifact(
                "kdc-certificate",
                "The domain controller's certificate (KDC Authentication)",
                &tgt.kdc_certificate,
                None,
            ));
            self.state.tgt = Some(tgt);
        }
        Ok(out)
    }
}
