//! Phase C: key registration (MS-KPP) and where the key is written.

use super::tokens::{self, mfa_fresh, TokenRules};
use super::wire::keys as keys_wire;
use super::wire::{
    bcrypt_artifact, dn_binary_artifact, json_artifact, jwt_artifact, key_credential_artifact,
    unb64,
};
use super::{Run, StepOutput};
use crate::attestation;
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::device;
use crate::error::{Error, Result};
use crate::flows::Feature;
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::encoding::base64;
use crate::formats::jws::{self, Jws};
use crate::formats::key_credential_link::{
    CustomKeyFlags, DnBinary, KeyCredentialLink, KeyCredentialParams, KeySource, KeyUsage,
};
use crate::seed::KeyPurpose;
use crate::world::{find_device, RegisteredKey, ADFS_ISSUER, ADRS_AUDIENCE, EDRS_AUDIENCE};
use base64ct::{Base64, Encoding};
use serde_json::json;
use sha2::{Digest, Sha256};

/// Wire ids of phase C's artifacts.
use super::wire::registration as wire;

/// Who issues key receipts, and their lifetime.
pub(crate) const RECEIPT_ISSUER: &str = "https://enterpriseregistration.windows.net/";
const RECEIPT_LIFETIME: SimDuration = SimDuration::minutes(60);

/// The registration endpoint (MS-KPP 3.1.5.1.1; the Enterprise DRS mirrors it).
fn endpoint(drs: Actor) -> &'static str {
    if drs == Actor::Adrs {
        "https://enterpriseregistration.windows.net/EnrollmentServer/key/?api-version=1.0"
    } else {
        "https://adfs.contoso.com/EnrollmentServer/key/?api-version=1.0"
    }
}

impl Run {
    /// The token issuer's key purpose and identity, the audience, and its name.
    fn registration_trust(&self) -> (KeyPurpose, String, &'static str, &'static str) {
        if self.topo.token_issuer == Actor::AzureAd {
            (
                KeyPurpose::AzureAdTokenSigning,
                self.world.tenant.azure_issuer(),
                ADRS_AUDIENCE,
                "Entra ID token-signing",
            )
        } else {
            (
                KeyPurpose::AdFsTokenSigning,
                ADFS_ISSUER.to_string(),
                EDRS_AUDIENCE,
                "AD FS token-signing",
            )
        }
    }

    pub(crate) fn register_key(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let public = self.take(keys_wire::USER_KEY_PUBLIC)?;
        let rsa = device::rsa_public_key(&public)?;
        let blob = BcryptRsaPublicBlob::from_public_key(&rsa)?.to_bytes();
        self.put(wire::KNGC, blob.clone());
        let body = json!({
            "kngc": base64(&blob),
            "attestation": {
                "format": "tpm2-certify",
                "keyPublic": base64(&public),
                "certifyInfo": base64(&self.take(keys_wire::ATTESTATION)?),
                "signature": base64(&self.take(keys_wire::ATTESTATION_SIGNATURE)?),
                "aikCertificate": base64(&self.take(keys_wire::AIK_CERTIFICATE)?),
            },
            "deviceId": self.device_id()?.to_string(),
        });
        self.put(
            wire::REGISTRATION_REQUEST,
            serde_json::to_vec(&body).map_err(|e| Error::malformed("request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::REGISTRATION_REQUEST,
            &format!("POST {}", endpoint(self.topo.drs)),
            &body,
            Some("MS-KPP defines only `kngc`; the attestation fields and their names are the project's design (the real format is not public)"),
        ));
        out.artifact(bcrypt_artifact(
            wire::KNGC,
            "kngc: BCRYPT_RSAPUBLIC_BLOB",
            &blob,
        ));
        out.note("The access token travels in the Authorization header as a bearer token.");
        Ok(out)
    }

    pub(crate) fn validate_registration(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let drs = self.topo.drs;
        let (purpose, issuer, audience, issuer_name) = self.registration_trust();
        let issuer_keys = self.published_keys(purpose, &mut out)?;
        let token = self.take_text(super::wire::tokens::ACCESS_TOKEN)?;
        let rules = TokenRules {
            actor: drs,
            what: "Access token",
            issuer_keys: &issuer_keys,
            issuer_name,
            issuer: &issuer,
            audience,
            now: self.now,
        };
        let Some(jws) = rules.apply(&mut out, &token) else {
            return Ok(out);
        };
        // MS-KPP 3.1.5.1.1: the service looks the user up by the token's upn
        // and writes the key to that object; no such user, HTTP 400.
        let upn = jws.string_claim("upn").unwrap_or_default().to_string();
        let directory = if drs == Actor::Edrs {
            "Active Directory"
        } else {
            "Entra ID"
        };
        out.check(
            drs,
            "User is in the directory",
            format!("upn \"{upn}\" against the users of {directory}"),
            "MS-KPP 3.1.5.1.1 (no matching user: HTTP 400 Bad Request)",
            if upn.eq_ignore_ascii_case(&self.world.user.upn) {
                Ok(())
            } else {
                Err(format!("{directory} has no user \"{upn}\" (HTTP 400)"))
            },
        );
        if drs == Actor::Adrs {
            let scp = jws.string_claim("scp").unwrap_or_default().to_string();
            out.check(
                drs,
                "Token grants registration",
                format!("scp \"{scp}\" must include adrs_access"),
                "scp of Entra ID access tokens (roadtx shows adrs_access for the DRS); that ADRS requires it is modelled",
                if scp.split(' ').any(|s| s == "adrs_access") {
                    Ok(())
                } else {
                    Err("the token does not grant access to the device registration service".into())
                },
            );
        }
        let amr = jws.string_list_claim("amr");
        out.check(
            drs,
            "Token allows provisioning",
            format!("amr {amr:?} must include \"ngcmfa\""),
            "MS-KPP; Entra ID amr values (ngcmfa: MFA for provisioning advanced credentials)",
            if amr.iter().any(|a| a == "ngcmfa") {
                Ok(())
            } else {
                Err(
                    "the token does not record MFA for credential provisioning (no ngcmfa in amr)"
                        .into(),
                )
            },
        );
        out.check(
            drs,
            "MFA is still fresh",
            format!(
                "auth_time {} against now {}: less than 10 minutes",
                jws.number_claim("auth_time")
                    .map_or("(none)".into(), |t| SimTime::from_unix_seconds(t)
                        .to_string()),
                self.now
            ),
            tokens::mfa_rule(self.topo.authenticator == Actor::AdFs),
            mfa_fresh(self.now, jws.number_claim("auth_time")),
        );
        let device_claim = jws.string_claim("deviceid").unwrap_or_default();
        let known = self.world.devices_known_to(drs);
        out.check(
            drs,
            "Device is registered",
            format!(
                "deviceid \"{device_claim}\" against the {} device(s) registered in the directory",
                known.len()
            ),
            "MS-KPP (deviceid claim)",
            match find_device(known, device_claim) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "no registered device has the ID \"{device_claim}\""
                )),
            },
        );
        if !out.ok() {
            return Ok(out);
        }
        self.check_attestation(&mut out, &token)?;
        Ok(out)
    }

    /// The attestation: the key is in a genuine TPM, and it is this key.
    fn check_attestation(&mut self, out: &mut StepOutput, token: &str) -> Result<()> {
        let drs = self.topo.drs;
        let Some(body) = self.take_json(
            wire::REGISTRATION_REQUEST,
            out,
            drs,
            "Request is well formed",
            "MS-KPP 3.1.5.1.1",
        )?
        else {
            return Ok(());
        };
        let att = &body["attestation"];
        let fields = (|| -> Result<_> {
            Ok((
                unb64("kngc", body["kngc"].as_str())?,
                unb64("attestation.keyPublic", att["keyPublic"].as_str())?,
                unb64("attestation.certifyInfo", att["certifyInfo"].as_str())?,
                unb64("attestation.signature", att["signature"].as_str())?,
                unb64("attestation.aikCertificate", att["aikCertificate"].as_str())?,
            ))
        })();
        let (kngc, key_public, certify_info, signature, aik_cert) = match fields {
            Ok(f) => f,
            Err(e) => {
                out.check(
                    drs,
                    "Request is well formed",
                    "kngc and the attestation fields, base64",
                    "MS-KPP 3.1.5.1.1",
                    Err(e.to_string()),
                );
                return Ok(());
            }
        };
        let blob = match BcryptRsaPublicBlob::parse(&kngc) {
            Ok(b) => b,
            Err(e) => {
                out.check(
                    drs,
                    "kngc is a BCRYPT_RSAPUBLIC_BLOB",
                    "magic RSA1, lengths",
                    "MS-KPP 3.1.5.1.1.1",
                    Err(e.to_string()),
                );
                return Ok(());
            }
        };
        let trusted = &self.world.registration_service(drs).trusted_attestation_cas;
        let aik = attestation::verify_aik_certificate(&aik_cert, trusted);
        out.check(
            drs,
            "AIK certificate is trusted",
            "the AIK certificate's signature and extended key usage, checked against the attestation CA the service trusts",
            "RFC 5280 §6.1 (one-level path); TCG EK Credential Profile (tcg-kp-AIKCertificate)",
            aik.as_ref().map(|_| ()).map_err(ToString::to_string),
        );
        let Ok(aik) = aik else {
            return Ok(());
        };
        let checks =
            attestation::verify_certification(&aik, &certify_info, &signature, &key_public, drs);
        out.record(checks);
        let expected_nonce: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        out.check(
            drs,
            "Attestation is for this registration",
            "extraData of the TPMS_ATTEST against the SHA-256 of the bearer token",
            "TPM 2.0 Part 2 §10.12.12 (extraData); nonce choice modelled",
            attestation::attest_extra_data(&certify_info).and_then(|extra| {
                if extra == expected_nonce {
                    Ok(())
                } else {
                    Err(format!(
                        "extraData is {}…, the token's hash is {}…: the attestation was made for another request",
                        crate::formats::encoding::hex(&extra[..extra.len().min(8)]),
                        crate::formats::encoding::hex(&expected_nonce[..8])
                    ))
                }
            }),
        );
        out.check(
            drs,
            "Attested key is the key being registered",
            "modulus and exponent of the attested TPMT_PUBLIC against those of kngc",
            "modelled binding of MS-KPP kngc to the TPM attestation",
            device::rsa_public_key(&key_public)
                .map_err(|e| e.to_string())
                .and_then(|attested| match blob.to_public_key() {
                    Ok(registered) if registered == attested => Ok(()),
                    Ok(_) => Err(
                        "kngc holds a different public key from the one the TPM attested".into(),
                    ),
                    Err(e) => Err(e.to_string()),
                }),
        );
        out.check(
            drs,
            "Attested key cannot leave the TPM",
            "objectAttributes of the attested TPMT_PUBLIC",
            "TPM 2.0 Part 2 §8.3 (TPMA_OBJECT)",
            attestation::check_user_key_public(&key_public),
        );
        Ok(())
    }

    pub(crate) fn store_key(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let blob = BcryptRsaPublicBlob::parse(&self.take(wire::KNGC)?)?;
        let source = if self.topo.key_store == Actor::Ad {
            KeySource::Ad
        } else {
            KeySource::AzureAd
        };
        let credential = KeyCredentialLink::build(&KeyCredentialParams {
            key_material: blob.clone(),
            usage: KeyUsage::Ngc,
            source,
            device_id: self.device_id()?,
            // MS-KPP 3.1.5.1.1.3's table has the Enterprise DRS write
            // CustomKeyInformation as Version 1, Flags 0x02
            // (CUSTOMKEYINFO_FLAGS_MFA_NOT_USED); what Entra ID stores is not
            // public, and its values are left with no flags.
            flags: if source == KeySource::Ad {
                CustomKeyFlags::MFA_NOT_USED
            } else {
                CustomKeyFlags::NONE
            },
            created: self.now,
            last_logon: self.now,
        })?;
        let bytes = credential.to_bytes();
        self.state.key_credential = Some(bytes.clone());
        self.put(wire::KEY_CREDENTIAL, bytes.clone());
        let key_id = blob.key_id();
        let entry = RegisteredKey {
            key_id: key_id.clone(),
            blob: bytes.clone(),
            device_id: self.device_id()?,
            created: self.now,
        };
        if self.topo.key_store == Actor::Ad {
            let value = DnBinary::new(bytes.clone(), &self.world.user.dn).to_string();
            self.world.directory.key_credential_link.push(value.clone());
            out.artifact(key_credential_artifact(
                wire::KEY_CREDENTIAL,
                "KEYCREDENTIALLINK_BLOB",
                &bytes,
            ));
            out.artifact(dn_binary_artifact(
                "key-credential-link-value",
                "msDS-KeyCredentialLink value (DN-Binary)",
                &value,
            ));
            out.note(format!(
                "The user object now has {} value(s) in msDS-KeyCredentialLink.",
                self.world.directory.key_credential_link.len()
            ));
        } else {
            self.world.azure_ad.user_keys.push(entry);
            out.artifact(key_credential_artifact(
                wire::KEY_CREDENTIAL,
                "Key entry on the Entra ID user object (KEYCREDENTIALLINK_BLOB)",
                &bytes,
            ));
            out.note("Entra ID keeps the key on the user object with the device ID; Microsoft Entra Connect can later copy it on premises in the same KEYCREDENTIALLINK_BLOB form.");
        }
        Ok(out)
    }

    pub(crate) fn return_key_id(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        // MS-KPP 3.1.5.1.1.3: the key identifier is a GUID the server
        // generates (its 4.1 example: "kid":"0ce67455-8ea1-4523-be5f-bfd09190fad6").
        let kid = self.world.seed.guid("drs/key-registration-id").to_string();
        let upn = self.world.user.upn.clone();
        let mut response = json!({ "kid": kid, "upn": upn });
        if self.topo.drs == Actor::Edrs {
            let pctx = self.key_writer_context()?;
            response["pctx"] = json!(base64(&pctx));
            out.artifact(crate::enterprise_pki::cms_artifact(
                "pctx",
                "pctx: the domain controller that wrote the key (CMS SignedData)",
                &pctx,
            ));
        }
        if self.flow.has(Feature::KeyReceipt) {
            // The receipt names the key by the ID the directory gives it
            // (MS-ADTS 2.2.20.6 KeyID), which the registration authority can
            // compute from the key in a request.
            let key_id = BcryptRsaPublicBlob::parse(&self.take(wire::KNGC)?)?.key_id();
            let receipt = self.make_receipt(&key_id)?;
            response["krctx"] = json!(receipt);
            self.put(wire::KEY_RECEIPT, receipt.clone().into_bytes());
            out.artifact(jwt_artifact(
                wire::KEY_RECEIPT,
                "Key receipt",
                &receipt,
                Some("the key receipt's format is not public: here a JWS signed by the registration service that binds user, key ID and time"),
            ));
        }
        self.put(
            wire::REGISTRATION_RESPONSE,
            serde_json::to_vec(&response).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::REGISTRATION_RESPONSE,
            "Registration response",
            &response,
            if self.flow.has(Feature::KeyReceipt) {
                Some("kid and upn are MS-KPP's; krctx, the key receipt, is modelled")
            } else if self.topo.drs == Actor::Edrs {
                Some("kid, upn and pctx are MS-KPP's; what pctx's signed content looks like inside is modelled (a JSON object naming the domain controller)")
            } else {
                None
            },
        ));
        // The app's side: what it can check of the answer.
        let Some(returned) = self.take_json(
            wire::REGISTRATION_RESPONSE,
            &mut out,
            Actor::Cxh,
            "Response is well formed",
            "MS-KPP 3.1.5.1.1.2",
        )?
        else {
            return Ok(out);
        };
        let returned_kid = returned["kid"].as_str().unwrap_or_default().to_string();
        out.check(
            Actor::Cxh,
            "Key ID is a GUID",
            format!("kid \"{returned_kid}\""),
            "MS-KPP 3.1.5.1.1.2, 3.1.5.1.1.3",
            crate::formats::guid::Guid::parse(&returned_kid)
                .map(|_| ())
                .map_err(|e| format!("the service's key identifier is not a GUID: {e}")),
        );
        let returned_upn = returned["upn"].as_str().unwrap_or_default();
        out.check_eq(
            Actor::Cxh,
            "Registered for this user",
            format!("upn \"{returned_upn}\" against the signed-in user"),
            "MS-KPP 3.1.5.1.1.2",
            ("the user", upn.as_str(), returned_upn),
        );
        if let Some(pctx) = returned.get("pctx") {
            self.check_key_writer_context(&mut out, pctx.as_str().unwrap_or_default());
        }
        if out.ok() {
            self.state.key_id = Some(returned_kid);
        }
        Ok(out)
    }

    /// The Enterprise DRS's `pctx` (MS-KPP 3.1.5.1.1.2): which domain
    /// controller wrote the key, in a CMS SignedData signed with the DRS's
    /// issuer certificate (its device CA's). A client that next talks to AD
    /// can go to that controller and find the key before replication has
    /// carried it to the others.
    fn key_writer_context(&mut self) -> Result<Vec<u8>> {
        let content = serde_json::to_vec(&json!({
            "DomainControllerFqdn": crate::world::DOMAIN_CONTROLLER,
        }))
        .map_err(|e| Error::malformed("pctx", e.to_string()))?;
        let cert = self.world.enterprise_device_ca_certificate()?;
        let key = self.world.keys.key(KeyPurpose::EnterpriseDeviceCa)?.clone();
        crate::pki::sign_content(&content, &key, &cert, self.now)
    }

    /// The app's reading of `pctx`: a signature by the service that issued
    /// its device certificate, naming a domain controller.
    fn check_key_writer_context(&mut self, out: &mut StepOutput, pctx: &str) {
        let device_certificate = self
            .world
            .device
            .joined()
            .and_then(|j| j.certificate.clone());
        let verified = Base64::decode_vec(pctx)
            .map_err(|e| format!("pctx is not base64: {e}"))
            .and_then(|cms| crate::pki::verify_signed_content(&cms, None))
            .and_then(|(content, signer)| {
                // The signer must be the issuer of the device's own
                // certificate: the service that registered the device.
                if let Some(device_cert) = &device_certificate {
                    crate::pki::verify_issued_by(device_cert, &signer).map_err(|e| {
                        format!("the signer of pctx did not issue this device's certificate: {e}")
                    })?;
                }
                let value: serde_json::Value = serde_json::from_slice(&content)
                    .map_err(|e| format!("pctx's content is not JSON: {e}"))?;
                value["DomainControllerFqdn"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .ok_or_else(|| "pctx names no DomainControllerFqdn".to_string())
            });
        let compared = if device_certificate.is_some() {
            "the CMS signature of pctx, its signer against the issuer of the device certificate, and the domain controller it names"
        } else {
            "the CMS signature of pctx with the certificate it carries (the device holds no certificate from its registration to compare the signer with), and the domain controller it names"
        };
        let dc = verified.as_ref().ok().cloned();
        out.check(
            Actor::Cxh,
            "pctx names the domain controller that wrote the key",
            compared,
            "MS-KPP 3.1.5.1.1.2; RFC 5652 §5.4, §5.6",
            verified.map(|_| ()),
        );
        if let Some(dc) = dc {
            out.note(format!(
                "The key is on the user object at {dc} now; other domain controllers get it by replication."
            ));
            self.state.key_writer_dc = Some(dc);
        }
    }

    /// A key receipt: the registration service's signed word that this key
    /// belongs to this user (modelled).
    fn make_receipt(&mut self, kid: &str) -> Result<String> {
        let now = self.now;
        let claims = tokens::claims(json!({
            "iss": RECEIPT_ISSUER,
            "aud": crate::world::ADFS_ISSUER,
            "typ": "key-receipt",
            "upn": self.world.user.upn,
            "oid": self.world.user.object_id.to_string(),
            "kid": kid,
            "deviceid": self.device_id()?.to_string(),
            "iat": now.unix_seconds(),
            "exp": now.plus(RECEIPT_LIFETIME).unix_seconds(),
        }));
        let key = self
            .world
            .keys
            .key(KeyPurpose::AzureAdTokenSigning)?
            .clone();
        jws::sign(&claims, &key)
    }
}

/// The checks a registration authority makes of a key receipt.
pub(crate) fn check_receipt(
    out: &mut StepOutput,
    receipt: &str,
    trusted_signers: &[rsa::RsaPublicKey],
    key_id: &str,
    upn: &str,
    now: SimTime,
) -> bool {
    let parsed = match Jws::parse(receipt) {
        Ok(p) => p,
        Err(e) => {
            return out.check(
                Actor::Ra,
                "Key receipt is well formed",
                "compact JWS",
                "modelled",
                Err(e.to_string()),
            );
        }
    };
    let signed = out.check(
        Actor::Ra,
        "Key receipt signature",
        format!(
            "RS256 signature, verified with the receipt signers AD FS trusts ({} key(s), downloaded from the cloud registration service)",
            trusted_signers.len()
        ),
        "RFC 7515 §5.2; receipt format modelled",
        if trusted_signers.is_empty() {
            Err("AD FS holds no receipt signers: it could not download them from the cloud registration service, so no key receipt can be checked".into())
        } else if trusted_signers.iter().any(|k| parsed.verify(k).is_ok()) {
            Ok(())
        } else {
            Err("the receipt's signature does not verify with any receipt signer AD FS trusts".into())
        },
    );
    if !signed {
        return false;
    }
    let r_kid = parsed.string_claim("kid").unwrap_or_default();
    out.check(
        Actor::Ra,
        "Receipt names the request's key",
        format!(
            "receipt kid \"{r_kid}\" against the key ID of the request's public key \"{key_id}\""
        ),
        "modelled",
        if r_kid == key_id {
            Ok(())
        } else {
            Err("the receipt was issued for another key".into())
        },
    );
    let r_upn = parsed.string_claim("upn").unwrap_or_default();
    out.check_eq(
        Actor::Ra,
        "Receipt names the requester",
        format!("receipt upn \"{r_upn}\" against the requester \"{upn}\""),
        "modelled",
        ("the receipt's upn", upn, r_upn),
    );
    let exp = parsed.number_claim("exp").unwrap_or(0);
    out.check(
        Actor::Ra,
        "Receipt is current",
        format!("exp {} against now {now}", SimTime::from_unix_seconds(exp)),
        "modelled",
        if now.unix_seconds() < exp {
            Ok(())
        } else {
            Err("the key receipt has expired".into())
        },
    );
    out.ok()
}
