//! Microsoft Entra Connect's copy of the key into on-premises AD, and what a domain
//! controller makes of a sign-in before and after it.

use super::kerberos::kerberos_artifact;
use super::wire::json_artifact;
use super::wire::{dn_binary_artifact, key_credential_artifact};
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::error::Result;
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::key_credential_link::{DnBinary, KeyCredentialLink};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Wire ids of the sync's artifacts.
pub(crate) mod wire {
    pub const SYNC_REQUEST: &str = "sync-request";
    pub const SYNC_CHANGES: &str = "sync-changes";
    pub const SYNC_VALUE: &str = "sync-key-credential-link-value";
    pub const PKINIT_BEFORE: &str = "sign-in-before-sync";
    pub const PKINIT_AFTER: &str = "sign-in-after-sync";
}

/// Looks a public key up among DN-Binary msDS-KeyCredentialLink values, the
/// way a domain controller or the RA does: parse each value (KeyID and
/// KeyHash must hold), compare its key material with the presented key.
pub(crate) fn find_key(
    values: &[String],
    blob: &BcryptRsaPublicBlob,
) -> std::result::Result<usize, String> {
    let wanted = blob.to_bytes();
    let mut problems = Vec::new();
    for (i, value) in values.iter().enumerate() {
        let parsed = DnBinary::parse(value)
            .map_err(|e| e.to_string())
            .and_then(|dn| KeyCredentialLink::parse(dn.binary()).map_err(|e| e.to_string()));
        match parsed {
            Ok(kcl) if kcl.key_material() == wanted.as_slice() => return Ok(i),
            Ok(_) => {}
            Err(e) => problems.push(format!("value {} is unusable: {e}", i + 1)),
        }
    }
    let mut reason = if values.is_empty() {
        "msDS-KeyCredentialLink is empty for this user".to_string()
    } else {
        format!(
            "none of the {} value(s) in msDS-KeyCredentialLink holds this public key",
            values.len()
        )
    };
    for p in problems {
        reason.push_str("; ");
        reason.push_str(&p);
    }
    Err(reason)
}

impl Run {
    /// A Windows Hello key-trust sign-in to a domain controller: a real
    /// PKINIT AS exchange (RFC 4556, MS-PKCA) in one step. The client signs
    /// a self-signed certificate for the user key and the AuthPack with it
    /// in the TPM (after the PIN); the KDC checks the AS-REQ that arrived
    /// against what Active Directory holds (the key in msDS-KeyCredentialLink)
    /// and answers with an AS-REP or a KRB-ERROR; the client checks the
    /// KDC's certificate and signature and opens the reply.
    pub(crate) fn sign_in_on_premises(&mut self, before_sync: bool) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let (id, label) = if before_sync {
            (wire::PKINIT_BEFORE, "before-sync")
        } else {
            (wire::PKINIT_AFTER, "after-sync")
        };
        let Some((request, client)) = self.pkinit_request(&mut out, label, id)? else {
            return Ok(out);
        };
        self.put(id, request.clone());
        out.artifact(kerberos_artifact(id, "AS-REQ with PA-PK-AS-REQ", &request));
        // The domain controller reads the bytes that arrived.
        let arrived = self.take(id)?;
        let answer = self.kdc_answers(&mut out, label, &arrived)?;
        let reply_id = format!("{id}-reply");
        self.put(&reply_id, answer.reply.clone());
        out.artifact(kerberos_artifact(
            &reply_id,
            if answer.error.is_some() {
                "KRB-ERROR from the domain controller"
            } else {
                "AS-REP with PA-PK-AS-REP and the TGT"
            },
            &answer.reply,
        ));
        if before_sync {
            // The refusal is what this step shows.
            for check in &mut out.checks {
                if !check.outcome.passed() {
                    check.expect_refusal = true;
                }
            }
            out.note("Refused, as expected: the key is registered in Entra ID but has not been synchronised to on-premises AD yet, so the KDC answers KDC_ERR_CLIENT_NOT_TRUSTED.");
            return Ok(out);
        }
        if answer.error.is_some() {
            return Ok(out);
        }
        // The client reads the reply that arrived.
        let reply = self.take(&reply_id)?;
        if let Some(tgt) = self.client_opens(&mut out, &client, &reply, Actor::User)? {
            out.artifact(crate::enterprise_pki::certificate_artifact(
                &format!("{id}-kdc-certificate"),
                "The domain controller's certificate (KDC Authentication)",
                &tgt.kdc_certificate,
                None,
            ));
            self.state.tgt = Some(tgt);
        }
        Ok(out)
    }

    pub(crate) fn wait_for_sync(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let next = self.world.sync.next_run_after(self.now);
        let wait = next.since(self.now);
        out.note(format!(
            "Microsoft Entra Connect last ran at {}; with a {} interval the next cycle starts at {}: {} from now.",
            self.world.sync.last_run, self.world.sync.interval, next, wait
        ));
        out.took = wait;
        Ok(out)
    }

    pub(crate) fn sync_read(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        self.world.sync.last_run = self.now;
        let request = json!({
            "connector": "contoso.onmicrosoft.com - AAD",
            "run_profile": "Delta Import",
            "object_types": ["user"],
            "attributes": ["searchableDeviceKey"],
            "since": "watermark of the previous cycle",
        });
        self.put(
            wire::SYNC_REQUEST,
            serde_json::to_vec(&request).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::SYNC_REQUEST,
            "Delta import request",
            &request,
            Some("Microsoft Entra Connect's protocol with Entra ID is not public"),
        ));
        out.took = SimDuration::seconds(5);
        Ok(out)
    }

    pub(crate) fn sync_changes(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        // A delta import: Entra ID answers with what changed after the
        // connector's watermark, which then moves on to now.
        let watermark = self.world.sync.watermark;
        let keys: Vec<_> = self
            .world
            .azure_ad
            .user_keys
            .iter()
            .filter(|k| k.created > watermark)
            .cloned()
            .collect();
        self.world.sync.watermark = self.now;
        if keys.is_empty() {
            out.note(format!(
                "Entra ID has no key for this user newer than the watermark, {watermark}."
            ));
        }
        let changes = json!({
            "user": self.world.user.upn,
            "searchableDeviceKey": keys.iter().map(|k| json!({
                "keyId": k.key_id,
                "deviceId": k.device_id.to_string(),
                "created": k.created.to_string(),
            })).collect::<Vec<_>>(),
        });
        if let Some(first) = keys.first() {
            self.put(wire::SYNC_CHANGES, first.blob.clone());
            out.artifact(key_credential_artifact(
                wire::SYNC_CHANGES,
                "The user's key as Entra ID returns it",
                &first.blob,
            ));
        }
        out.artifact(json_artifact(
            "sync-changes-summary",
            "Changes for the user",
            &changes,
            Some("Microsoft Entra Connect's protocol with Entra ID is not public"),
        ));
        out.took = SimDuration::seconds(5);
        Ok(out)
    }

    pub(crate) fn sync_write(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.wire(wire::SYNC_CHANGES).is_none() {
            out.skipped = Some("Entra ID returned no new key, so there is nothing to write".into());
            return Ok(out);
        }
        let blob = self.take(wire::SYNC_CHANGES)?;
        let value = DnBinary::new(blob.clone(), &self.world.user.dn).to_string();
        out.check(
            Actor::AadConnect,
            "Key entry is intact",
            "KeyID against SHA-256 of KeyMaterial, KeyHash against SHA-256 of the entries after it",
            "MS-ADTS 2.2.20",
            KeyCredentialLink::parse(&blob)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
        if !out.ok() {
            return Ok(out);
        }
        if !self.world.directory.key_credential_link.contains(&value) {
            self.world.directory.key_credential_link.push(value.clone());
        }
        self.put(wire::SYNC_VALUE, value.clone().into_bytes());
        out.artifact(dn_binary_artifact(
            wire::SYNC_VALUE,
            "msDS-KeyCredentialLink value (DN-Binary)",
            &value,
        ));
        let digest = Sha256::digest(value.as_bytes());
        out.note(format!(
            "AD now holds {} value(s) in the user's msDS-KeyCredentialLink (attribute OID 1.2.840.113556.1.4.2328); this one hashes to {}….",
            self.world.directory.key_credential_link.len(),
            crate::formats::encoding::hex(&digest[..6])
        ));
        out.took = SimDuration::seconds(10);
        Ok(out)
    }
}
