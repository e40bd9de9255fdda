//! Microsoft Entra Connect's copy of the key into on-premises AD, and what a domain
//! controller makes of a sign-in before and after it.

use super::wire::json_artifact;
use super::wire::{dn_binary_artifact, key_credential_artifact};
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::error::{Error, Result};
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
    /// A Kerberos PKINIT-style sign-in to a domain controller with the key
    /// (modelled: the KDC challenge and the AS-REQ are not shown byte for byte).
    pub(crate) fn sign_in_on_premises(&mut self, before_sync: bool) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let id = if before_sync {
            wire::PKINIT_BEFORE
        } else {
            wire::PKINIT_AFTER
        };
        let challenge: [u8; 32] = self.world.seed.bytes(id);
        let loaded = self
            .state
            .user_key
            .as_ref()
            .map(|k| k.loaded.clone())
            .ok_or_else(|| Error::Usage("the user key is not loaded".into()))?;
        let pin = self.world.config.options.pin.clone();
        let mut log = Vec::new();
        let signature = self
            .world
            .device
            .sign_with_user_key(&loaded, &challenge, &pin, self.now, &mut log);
        out.tpm.extend(log);
        let signature = match signature {
            Ok(s) => s,
            Err(reason) => {
                out.check(
                    Actor::Tpm,
                    "PIN authorises the key",
                    "the PIN-derived authValue",
                    "TPM 2.0 Part 1 §19.6.5",
                    // The TPM's own words (TPM_RC_AUTH_FAIL, TPM_RC_LOCKOUT).
                    Err(match reason {
                        Error::Tpm { source, .. } => source.to_string(),
                        other => other.to_string(),
                    }),
                );
                return Ok(out);
            }
        };
        let public =
            crate::device::rsa_public_key(&self.take(super::wire::keys::USER_KEY_PUBLIC)?)?;
        let blob = BcryptRsaPublicBlob::from_public_key(&public)?;
        let request = json!({
            "kind": "Kerberos AS-REQ with PA-PK-AS-REQ (modelled)",
            "cname": self.world.user.upn,
            "realm": "CONTOSO.COM",
            "kdc_challenge": crate::formats::encoding::hex(&challenge),
            "key_id": blob.key_id(),
            "signature": crate::formats::encoding::hex(&signature),
        });
        out.artifact(json_artifact(id, "Sign-in request to the domain controller", &request, Some("PKINIT (RFC 4556, MS-PKCA) reduced to its essentials: who, which key, a signature over the KDC's challenge")));
        let found = find_key(&self.world.directory.key_credential_link, &blob);
        let title = "Key found in msDS-KeyCredentialLink";
        let compared = format!(
            "the key ID {} against the user's msDS-KeyCredentialLink values",
            blob.key_id()
        );
        let rule = "MS-PKCA 3.1.5.2.1.4 (key trust: the KDC maps the key to the account)";
        out.check(Actor::Ad, title, compared, rule, found.clone().map(|_| ()));
        if before_sync {
            if let Some(last) = out.checks.last_mut() {
                last.expect_refusal = true;
            }
            out.note("Refused, as expected: the key is registered in Entra ID but has not been synchronised to on-premises AD yet. The KDC answers KDC_ERR_CLIENT_NOT_TRUSTED.");
            return Ok(out);
        }
        if found.is_ok() {
            let verify = crate::rs256::verify(&public, &challenge, &signature);
            out.check(
                Actor::Ad,
                "Signature over the KDC challenge",
                "RSASSA-PKCS1-v1_5 SHA-256 signature, verified with the key from msDS-KeyCredentialLink",
                "RFC 4556 §3.2.1 (signed AuthPack, modelled)",
                verify,
            );
            if out.ok() {
                out.note("The KDC issues a TGT: the user is signed in on premises with Windows Hello for Business.");
            }
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
