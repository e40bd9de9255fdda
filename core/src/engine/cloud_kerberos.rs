//! Cloud Kerberos trust's sign-in to the domain: Microsoft Entra ID hands
//! out a partial TGT with the PRT, CloudAP opens it with a key the TPM
//! derives from the PRT's session key, and Windows' Kerberos client
//! exchanges it at a domain controller for a full TGT (the
//! `cloud-kerberos` segment).
//!
//! Entra ID makes the ticket with its copy of the Entra Kerberos server
//! object's key; the domain controller opens it with the copy Active
//! Directory holds; the client reads only what reached it.

use super::kerberos::kerberos_artifact;
use super::sign_in::{derived_key, kdf_input, nth};
use super::wire::json_artifact;
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::error::{Error, Result};
use crate::event::Checks;
use crate::formats::encoding::base64;
use crate::formats::jwe::Jwe;
use crate::kerberos::crypto::{Etype, Key};
use crate::kerberos::pac::Identity;
use crate::kerberos::tgs;
use crate::world::REALM;
use base64ct::{Base64, Encoding};
use serde_json::{json, Value};

/// Wire ids of the exchange.
pub(crate) mod wire {
    /// The PRT request's form parameters besides the signed `request`.
    pub const PRT_REQUEST_PARAMS: &str = "prt-request-params";
    pub const PARTIAL_TGT: &str = "partial-tgt";
    pub const TGS_REQ: &str = "kerberos-tgs-req";
    pub const TGS_REP: &str = "kerberos-tgs-rep";
}

fn aes256(bytes: &[u8]) -> Result<Key> {
    Key::new(Etype::Aes256CtsHmacSha196, bytes).map_err(|e| Error::Crypto(e.to_string()))
}

impl Run {
    /// The form parameters CloudAP sends with its PRT request: with
    /// `tgt=true` where the device's policy uses cloud Kerberos trust
    /// (ROADtools' `deviceauth.py` and libhimmelblau send it the same way,
    /// beside the signed `request`).
    pub(crate) fn prt_request_params(&mut self, out: &mut StepOutput) {
        if self.flow.info().trust != crate::catalog::Trust::CloudKerberos {
            return;
        }
        let params = "windows_api_version=2.0&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&client_info=1&tgt=true";
        self.put(wire::PRT_REQUEST_PARAMS, params.as_bytes().to_vec());
        out.note(format!(
            "The form's other parameters: {params}. With tgt=true (cloud Kerberos trust is this device's policy) CloudAP asks for Kerberos tickets as well."
        ));
    }

    /// Entra ID's `tgt_ad` for a PRT it is issuing with `session_key`
    /// (the `n`-th PRT), when the request asked for tickets: the partial
    /// TGT for the on-premises realm as an AS-REP whose reply key
    /// (`clientKey`) is encrypted under a key derived from the session
    /// key. `None` when nobody asked, or Entra ID holds no Kerberos
    /// server object for the domain (then it issues none).
    pub(crate) fn partial_tgt_for(
        &mut self,
        out: &mut StepOutput,
        session_key: &[u8; 32],
        n: usize,
    ) -> Result<Option<String>> {
        let asked = self
            .wire
            .remove(wire::PRT_REQUEST_PARAMS)
            .map(|p| {
                String::from_utf8_lossy(&p)
                    .split('&')
                    .any(|kv| kv == "tgt=true")
            })
            .unwrap_or(false);
        if !asked {
            return Ok(None);
        }
        let Some((number, key, version)) = self.world.entra_kerberos_domain()? else {
            out.note(format!(
                "The request asked for Kerberos tickets, but Entra ID holds no Kerberos server object for {}: it returns no partial TGT.",
                crate::world::DOMAIN
            ));
            return Ok(None);
        };
        let seed = self.world.seed;
        let label = |what: &str| nth(&format!("azure-ad/tgt-ad/{what}"), n);
        let user = self.world.user.clone();
        let identity = Identity {
            sam_account_name: user.sam_account_name.clone(),
            upn: user.upn.clone(),
            dns_domain: REALM.to_string(),
            sid: user.sid.clone(),
            authtime: self.now,
        };
        let session = aes256(&seed.bytes::<32>(&label("session-key")))?;
        let client_key = aes256(&seed.bytes::<32>(&label("client-key")))?;
        let spec = tgs::TicketSpec {
            realm: REALM,
            identity: &identity,
            session_key: &session,
            starttime: self.now,
            krbtgt: &key,
            kvno: tgs::rodc_kvno(number, version),
            rodc: Some(number),
            confounder: seed.bytes(&label("ticket-confounder")),
        };
        let as_rep = tgs::as_rep(&spec, &client_key, seed.bytes(&label("reply-confounder")))?;
        let context: [u8; 24] = seed.bytes(&label("context"));
        let jwe = Jwe::seal(
            &json!({ "alg": "dir", "enc": "A256GCM", "ctx": base64(&context) }),
            &derived_key(session_key, &context),
            Vec::new(),
            seed.bytes(&label("iv")),
            client_key.bytes(),
        );
        let tgt_ad = json!({
            "clientKey": jwe.to_compact(),
            "keyType": Etype::Aes256CtsHmacSha196.number(),
            "messageBuffer": base64(&as_rep),
            "realm": REALM,
            "sn": format!("krbtgt/{REALM}"),
            "cn": user.sam_account_name,
            "sessionKeyType": Etype::Aes256CtsHmacSha196.number(),
        });
        out.artifact(kerberos_artifact(
            "partial-tgt-as-rep",
            "Partial TGT for the domain, as an AS-REP (tgt_ad's messageBuffer)",
            &as_rep,
        ));
        out.note(format!(
            "Entra ID made the partial TGT with its copy of the key of the Kerberos server object krbtgt_{number} (key version 0x{:08X}: RODC number {number} in the upper 16 bits). The ticket's PAC holds the user's name and SID and no groups.",
            tgs::rodc_kvno(number, version)
        ));
        out.artifact(json_artifact(
            "tgt-ad",
            "tgt_ad: the partial TGT and its client key",
            &tgt_ad,
            Some("the member names are those libhimmelblau and ROADtools read; accountType, whose meaning is not public, is left out"),
        ));
        Ok(Some(tgt_ad.to_string()))
    }

    /// CloudAP opens `tgt_ad` and hands the partial TGT to the Kerberos
    /// client: the TPM derives the key that opens `clientKey` from the
    /// session key it holds and the JWE's ctx; the client key opens the
    /// AS-REP's encrypted part, which holds the ticket's session key.
    pub(crate) fn hand_over_partial_tgt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let mut checks = Checks::new(Actor::CloudAp);
        let mut tpm_log = Vec::new();
        let opened = self.open_tgt_ad(&mut checks, &mut tpm_log);
        out.tpm.extend(tpm_log);
        out.record(checks.into_vec());
        let Some((handed, client_key)) = opened else {
            return Ok(out);
        };
        let ticket = handed.ticket.clone();
        let endtime = handed.endtime;
        self.put(wire::PARTIAL_TGT, ticket.clone());
        out.artifact(kerberos_artifact(
            wire::PARTIAL_TGT,
            "Partial TGT (a Ticket under the Entra Kerberos server object's key)",
            &ticket,
        ));
        let step = self.current_step_id();
        self.state
            .kerberos_keys
            .push((step.clone(), "client-key", client_key));
        self.state.kerberos_keys.push((
            step,
            "partial-tgt-session-key",
            handed.session_key.clone(),
        ));
        self.state.partial_tgt = Some(handed);
        out.note(format!(
            "The Kerberos client holds a partial TGT for {REALM}, good until {endtime}; only a domain controller can make it a full one."
        ));
        Ok(out)
    }

    /// CloudAP's checks of `tgt_ad`, in order; the ticket, its session key,
    /// its end and the client key once they all held.
    fn open_tgt_ad(
        &mut self,
        checks: &mut Checks,
        tpm_log: &mut Vec<crate::event::TpmExchange>,
    ) -> Option<(tgs::Handed, Key)> {
        let tgt_ad = checks.check(
            "A partial TGT for the domain",
            format!("the PRT response's tgt_ad, a ticket for {REALM}"),
            "Microsoft Entra Kerberos (tgt_ad, as ROADtools and libhimmelblau read it)",
            self.state.tgt_ad.clone().ok_or_else(|| {
                format!(
                    "the PRT response carries no tgt_ad, so there is no partial TGT for {REALM} to exchange (dsregcmd /status shows OnPremTgt : NO). Entra ID issues one only for a domain whose Microsoft Entra Kerberos server object it holds (Set-AzureADKerberosServer)"
                )
            }),
        )?;
        let tgt = checks.check(
            "tgt_ad is well formed",
            "clientKey (JWE), keyType 18 (aes256-cts-hmac-sha1-96), messageBuffer (base64 AS-REP)",
            "libhimmelblau src/auth.rs (struct TGT)",
            serde_json::from_str::<Value>(&tgt_ad)
                .map_err(|e| format!("tgt_ad is not JSON: {e}"))
                .and_then(|v| {
                    if v["keyType"].as_i64() == Some(i64::from(Etype::Aes256CtsHmacSha196.number()))
                    {
                        Ok(v)
                    } else {
                        Err(format!("keyType is {}, not 18", v["keyType"]))
                    }
                }),
        )?;
        let now = self.now;
        let device = &mut self.world.device;
        let opened = Jwe::parse(tgt["clientKey"].as_str().unwrap_or_default()).and_then(|jwe| {
            let ctx = jwe.header()?["ctx"]
                .as_str()
                .and_then(|c| Base64::decode_vec(c).ok())
                .unwrap_or_default();
            let key: [u8; 32] = device
                .hmac_with_session_key(&kdf_input(&ctx), now, tpm_log)
                .map_err(Error::Usage)?
                .try_into()
                .map_err(|_| Error::Usage("TPM2_HMAC gave no 32-byte key".into()))?;
            jwe.open(&key)
        });
        let client_key = checks.check(
            "clientKey opens with the derived key",
            "AES-256-GCM tag, with the key the TPM derives from the PRT's session key and the JWE's ctx; 32 bytes inside",
            "MS-OAPXBC 3.2.5.1.3 (derived keys); ROADtools decrypt_auth_response",
            opened
                .map_err(|e| e.to_string())
                .and_then(|k| aes256(&k).map_err(|e| e.to_string())),
        )?;
        let as_rep = Base64::decode_vec(tgt["messageBuffer"].as_str().unwrap_or_default())
            .map_err(|e| format!("messageBuffer is not base64: {e}"));
        let handed = checks.check(
            "The AS-REP opens with the client key",
            format!(
                "its encrypted part (key usage 3) decrypted with clientKey, for krbtgt/{REALM}"
            ),
            "RFC 4120 §5.4.2; RFC 3962",
            as_rep.and_then(|rep| tgs::open_handed_as_rep(&rep, &client_key, REALM)),
        )?;
        Some((handed, client_key))
    }

    /// The Kerberos client presents the partial TGT in a TGS-REQ for the
    /// realm's krbtgt.
    pub(crate) fn send_tgs_req(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let handed = self
            .state
            .partial_tgt
            .clone()
            .ok_or_else(|| Error::Usage("the Kerberos client holds no partial TGT".into()))?;
        let seed = self.world.seed;
        let nonce = u32::from_be_bytes(seed.bytes("kerberos/cloud-trust/nonce")) >> 1;
        let ctime = self.client_clock(&mut out);
        let request = tgs::tgs_req(&tgs::Request {
            realm: REALM, // The client names itself as the AS-REP it was handed did.
            sam_account_name: &handed.cname,
            ticket: &handed.ticket,
            session_key: &handed.session_key,
            ctime,
            nonce,
            confounder: seed.bytes("kerberos/cloud-trust/authenticator-confounder"),
        })?;
        self.state.tgs_nonce = nonce;
        self.put(wire::TGS_REQ, request.clone());
        out.artifact(kerberos_artifact(
            wire::TGS_REQ,
            "TGS-REQ presenting the partial TGT",
            &request,
        ));
        out.note(format!(
            "Kerberos over TCP port 88 to {} (RFC 4120 §7.2.2). Windows also asks for the user's keys for NTLM (KERB-KEY-LIST-REQ, MS-KILE 3.3.5.7.8): not modelled here.",
            crate::world::DOMAIN_CONTROLLER
        ));
        Ok(out)
    }

    /// The client's clock at a Kerberos request: the run's, or ahead of it
    /// by the `skew` condition (told in a note).
    pub(crate) fn client_clock(&self, out: &mut StepOutput) -> crate::clock::SimTime {
        let skew = self.world.config.options.clock_skew_minutes;
        if skew > 0 {
            out.note(format!(
                "The device's clock runs {skew} minutes ahead of the domain controller's: the request says {}.",
                self.now.plus(SimDuration::minutes(u64::from(skew)))
            ));
        }
        self.now.plus(SimDuration::minutes(u64::from(skew)))
    }

    /// The domain controller's KDC checks the TGS-REQ against what Active
    /// Directory holds: the Entra Kerberos server object and the user.
    pub(crate) fn check_tgs_req(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let arrived = self.take(wire::TGS_REQ)?;
        let (krbtgt, krbtgt_kvno) = self.world.domain_krbtgt()?;
        let read_only: Vec<tgs::ReadOnlyKdc> =
            self.world.ad_kerberos_server()?.into_iter().collect();
        let user = &self.world.user;
        let accounts = vec![tgs::Account {
            sam_account_name: user.sam_account_name.clone(),
            upn: user.upn.clone(),
            sid: user.sid.clone(),
            denied_by_rodc_policy: self.world.config.options.privileged_user,
        }];
        let seed = self.world.seed;
        let secrets = tgs::Secrets {
            session_key: seed.bytes("kerberos/cloud-trust/session-key"),
            ticket_confounder: seed.bytes("kerberos/cloud-trust/ticket-confounder"),
            reply_confounder: seed.bytes("kerberos/cloud-trust/reply-confounder"),
        };
        let kdc = tgs::Kdc {
            realm: REALM,
            krbtgt: &krbtgt,
            krbtgt_kvno,
            read_only: &read_only,
            accounts: &accounts,
        };
        let answer = tgs::kdc_answer(&kdc, &arrived, self.now, secrets)?;
        out.record(answer.checks.clone());
        if let Some(code) = answer.error {
            out.note(format!(
                "The KDC answers with a KRB-ERROR, {} ({code}).",
                tgs::code::name(code)
            ));
        }
        self.state.tgs_rep = Some(answer.reply);
        Ok(out)
    }

    pub(crate) fn return_tgs_rep(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let reply = self
            .state
            .tgs_rep
            .clone()
            .ok_or_else(|| Error::Usage("the KDC has no reply to send".into()))?;
        self.put(wire::TGS_REP, reply.clone());
        out.artifact(kerberos_artifact(
            wire::TGS_REP,
            "TGS-REP with the full TGT",
            &reply,
        ));
        Ok(out)
    }

    /// The client opens the reply with the partial ticket's session key.
    pub(crate) fn open_tgs_rep(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let session = self
            .state
            .partial_tgt
            .as_ref()
            .map(|h| h.session_key.clone())
            .ok_or_else(|| Error::Usage("the Kerberos client holds no partial TGT".into()))?;
        let reply = self.take(wire::TGS_REP)?;
        let (checks, tgt) = tgs::open_tgs_rep(
            &reply,
            &session,
            self.state.tgs_nonce,
            REALM,
            Actor::Kerberos,
        );
        out.record(checks);
        if let Some(tgt) = tgt {
            let step = self.current_step_id();
            self.state
                .kerberos_keys
                .push((step, "session-key", tgt.session_key.clone()));
            out.note(format!(
                "The domain controller issued a full TGT for {}@{REALM}, good until {}: the user is signed in to the domain with Windows Hello for Business, and no certificate or key in Active Directory was needed.",
                self.world.user.sam_account_name, tgt.endtime
            ));
            self.state.full_tgt = Some(tgt);
        }
        Ok(out)
    }

    /// The id of the step being executed, as keytab entries name it.
    pub(crate) fn current_step_id(&self) -> String {
        self.script
            .steps
            .get(self.events.len())
            .map(|s| s.id.to_string())
            .unwrap_or_default()
    }
}
