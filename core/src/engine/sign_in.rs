//! Phase S: the first sign-in to Windows with the new credential, and the
//! Primary Refresh Token it brings.
//!
//! The exchange is MS-OAPXBC's (3.1.5.1.1 the nonce, 3.2.5.1.2 the PRT
//! request and response) as public implementations perform it with a
//! Windows Hello key (ROADtools' `get_prt_with_hello_key`: an assertion
//! signed by the user key, with `kid` the key's ID and `use: "ngc"`, inside
//! a request signed by the device key with the device certificate in
//! `x5c`). Entra ID's side reads only what arrived and its own records: the
//! device it registered, the nonces it issued, the key registered for the
//! user from that device.

use super::tokens::claims;
use super::wire::sign_in as wire;
use super::wire::{json_artifact, jwt_artifact};
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::error::{Error, Result};
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::encoding::{b64url, base64};
use crate::formats::jwe::Jwe;
use crate::formats::jws::{self, Jws};
use crate::formats::key_credential_link::KeyCredentialLink;
use crate::world::IssuedPrt;
use base64ct::{Base64, Encoding};
use rand_core::SeedableRng;
use serde_json::{json, Value};

/// The broker client that asks for a Primary Refresh Token (MS-OAPXBC 4.2's
/// example; the client ID Windows' CloudAP uses).
const BROKER_CLIENT_ID: &str = "38aa3b87-a06d-4817-b275-7a316988d93b";
/// How long a nonce stays good (modelled: Entra ID does not publish it).
const NONCE_LIFETIME: SimDuration = SimDuration::minutes(5);
/// A PRT's validity: Microsoft documents 14 days.
const PRT_LIFETIME_SECONDS: u64 = 14 * 24 * 3600;

/// The first certificate of a JWS header's `x5c` (RFC 7515 §4.1.6).
fn x5c(token: &Jws) -> Option<Vec<u8>> {
    token
        .header()
        .get("x5c")
        .and_then(|v| v.get(0))
        .and_then(Value::as_str)
        .and_then(|b| Base64::decode_vec(b).ok())
}

impl Run {
    pub(crate) fn unlock_with_pin(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let wrong = self.world.config.options.sign_in_wrong_pins;
        out.note(if wrong == 0 {
            "The user types the PIN at the sign-in screen.".to_string()
        } else {
            format!("The user mistypes the PIN {wrong} time(s) before typing it right.")
        });
        if self.world.config.options.device_disabled {
            if let Some(id) = self.world.device.id() {
                for d in &mut self.world.azure_ad.devices {
                    if d.id == id {
                        d.enabled = false;
                    }
                }
                out.note("Meanwhile an administrator disabled this device's object in Entra ID.");
            }
        }
        out.took = SimDuration::seconds(5);
        Ok(out)
    }

    pub(crate) fn request_nonce(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let request = json!({ "grant_type": "srv_challenge" });
        out.artifact(json_artifact(
            "nonce-request",
            "Nonce request",
            &request,
            Some("POST https://login.microsoftonline.com/<tenant>/oauth2/token (MS-OAPXBC 3.1.5.1.1); shown as JSON, it travels form-encoded"),
        ));
        // Entra ID's side: a nonce it will remember.
        let nonce = b64url(&self.world.seed.bytes::<32>("azure-ad/sign-in-nonce"));
        self.world.azure_ad.nonces.push((nonce.clone(), self.now));
        let response = json!({ "Nonce": nonce });
        self.put(
            wire::NONCE_RESPONSE,
            serde_json::to_vec(&response).map_err(|e| Error::malformed("nonce", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::NONCE_RESPONSE,
            "Nonce",
            &response,
            Some("MS-OAPXBC 3.1.5.1.1 names the Nonce member; its value is opaque, here 32 random bytes"),
        ));
        // CloudAP keeps it for the request.
        let got: Value = serde_json::from_slice(&self.take(wire::NONCE_RESPONSE)?)
            .map_err(|e| Error::malformed("nonce response", e.to_string()))?;
        self.state.nonce = got["Nonce"].as_str().map(str::to_string);
        Ok(out)
    }

    /// The user key signs the assertion, authorised by the PIN.
    pub(crate) fn sign_assertion(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let key = self
            .state
            .user_key
            .as_ref()
            .map(|k| k.loaded.clone())
            .ok_or_else(|| Error::Usage("there is no Windows Hello key on this device".into()))?;
        let nonce = self.state.nonce.clone().unwrap_or_default();
        let public = key
            .public
            .rsa_public_key()
            .map_err(Error::tpm("reading the user key"))?;
        // The key's ID: base64 of SHA-256 over its BCRYPT blob, which is
        // also the ID the directory files it under (MS-ADTS 2.2.20.6).
        let kid = BcryptRsaPublicBlob::from_public_key(&public)?.key_id();
        let now = self.now;
        let header = claims(json!({ "alg": "RS256", "typ": "JWT", "kid": kid, "use": "ngc" }));
        let body = claims(json!({
            "iss": self.world.user.upn,
            // ROADtools notes the audience should be the tenant ID.
            "aud": self.world.tenant.id.to_string(),
            "iat": now.unix_seconds(),
            "exp": now.plus(SimDuration::minutes(60)).unix_seconds(),
            "request_nonce": nonce,
            "scope": "openid aza ugs",
        }));
        let pin = self.world.config.options.pin.clone();
        let wrong = self.world.config.options.sign_in_wrong_pins;
        let mut tpm_log = Vec::new();
        let mut refused = None;
        let device = &mut self.world.device;
        let signed = jws::sign_with(&header, &body, |input| {
            device
                .sign_with_user_key_after(&key, input, &pin, wrong, now, &mut tpm_log)
                .map_err(|reason| {
                    refused = Some(reason.clone());
                    Error::Usage(reason)
                })
        });
        out.tpm.extend(tpm_log);
        let da = self.world.device.da_state();
        out.check(
            Actor::Tpm,
            "PIN opens the user key",
            format!(
                "TPM2_Sign with the PIN's authorisation; the dictionary-attack counter stands at {} of {}",
                da.failed_tries, da.max_tries
            ),
            "TPM 2.0 Part 1 §19.8 (dictionary attack protection)",
            match &refused {
                None => Ok(()),
                Some(reason) => Err(reason.clone()),
            },
        );
        let token = match signed {
            Ok(token) => token,
            Err(_) => return Ok(out),
        };
        self.put(wire::ASSERTION, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::ASSERTION,
            "Assertion signed by the user key",
            &token,
            Some(
                "the claims are those public implementations send (ROADtools' hello PRT assertion)",
            ),
        ));
        Ok(out)
    }

    /// The request for a PRT, signed by the device key, certificate attached.
    pub(crate) fn request_prt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let assertion = self.take_text(wire::ASSERTION)?;
        // A device that joined before the run holds the certificate it was
        // given then.
        let cert = self.world.earlier_device_certificate()?;
        let nonce = self.state.nonce.clone().unwrap_or_default();
        let header = claims(json!({ "alg": "RS256", "typ": "JWT", "x5c": [base64(&cert)] }));
        let body = claims(json!({
            "client_id": BROKER_CLIENT_ID,
            "request_nonce": nonce,
            "scope": "openid aza ugs",
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "username": self.world.user.upn,
            "assertion": assertion,
            "win_ver": "10.0.26100.2314",
        }));
        let now = self.now;
        let mut tpm_log = Vec::new();
        let device = &mut self.world.device;
        let token = jws::sign_with(&header, &body, |input| {
            device.sign_with_device_key(input, now, &mut tpm_log)
        })?;
        out.tpm.extend(tpm_log);
        self.put(wire::PRT_REQUEST, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::PRT_REQUEST,
            "PRT request signed by the device key",
            &token,
            None,
        ));
        out.note("POST https://login.microsoftonline.com/<tenant>/oauth2/token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and this JWT as `request` (MS-OAPXBC 3.2.5.1.2.1).");
        Ok(out)
    }

    /// Entra ID checks the device, the nonce and the user key.
    pub(crate) fn validate_prt_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let aad = Actor::AzureAd;
        let request = match Jws::parse(&self.take_text(wire::PRT_REQUEST)?) {
            Ok(r) => r,
            Err(e) => {
                out.check(
                    aad,
                    "Request is well formed",
                    "compact JWS",
                    "RFC 7515 §7.1",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        // The device: its certificate, from the device CA, for a device
        // Entra ID registered and has not disabled, signed the request.
        let cert = x5c(&request);
        let ca = self.world.adrs.device_ca_certificate.clone();
        let chain = match (&cert, &ca) {
            (Some(cert), Some(ca)) => crate::pki::verify_issued_by(cert, ca)
                .and_then(|_| crate::pki::read_device_certificate(cert))
                .map_err(|e| e.to_string()),
            (None, _) => Err("the request carries no device certificate (x5c)".into()),
            (_, None) => Err("this tenant's device CA has issued no certificate".into()),
        };
        out.check(
            aad,
            "Device certificate",
            "the x5c certificate against the device CA (MS-Organization-Access)",
            "MS-OAPXBC 3.2.5.1.2.1 (x5c); RFC 5280 §6",
            chain.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        let Ok(device_cert) = chain else {
            return Ok(out);
        };
        out.check(
            aad,
            "Device signature",
            "RS256 over the request, verified with the device certificate's key",
            "RFC 7515 §5.2",
            request
                .verify(&device_cert.public_key)
                .map_err(|e| e.to_string()),
        );
        let registered = self
            .world
            .azure_ad
            .devices
            .iter()
            .find(|d| d.id == device_cert.device_id)
            .cloned();
        out.check(
            aad,
            "Device is registered and enabled",
            format!(
                "device {} against Entra ID's {} device object(s)",
                device_cert.device_id,
                self.world.azure_ad.devices.len()
            ),
            "Entra ID device objects (AADSTS135011 for a disabled device)",
            match &registered {
                None => Err(format!("no device {} is registered", device_cert.device_id)),
                Some(d) if d.public_key != device_cert.public_key => {
                    Err("the certificate's key is not the key the device registered".into())
                }
                Some(d) if !d.enabled => Err(
                    "AADSTS135011: the device used during the authentication is disabled".into(),
                ),
                Some(_) => Ok(()),
            },
        );
        if !out.ok() {
            return Ok(out);
        }
        // The nonce: one Entra ID issued, still fresh.
        let nonce = request
            .string_claim("request_nonce")
            .unwrap_or_default()
            .to_string();
        let issued = self
            .world
            .azure_ad
            .nonces
            .iter()
            .find(|(n, _)| *n == nonce)
            .map(|(_, t)| *t);
        out.check(
            aad,
            "Nonce is fresh",
            format!(
                "request_nonce {}… against the nonces Entra ID issued, less than {NONCE_LIFETIME} old",
                nonce.chars().take(12).collect::<String>()
            ),
            "MS-OAPXBC 3.1.5.1.1; lifetime modelled",
            match issued {
                None => Err("Entra ID never issued this nonce".into()),
                Some(t) if self.now.since(t) >= NONCE_LIFETIME => Err(format!(
                    "the nonce was issued {} ago; it is good for {NONCE_LIFETIME}",
                    self.now.since(t)
                )),
                Some(_) => Ok(()),
            },
        );
        // The assertion: the user's key, registered from this device.
        let assertion_text = request
            .string_claim("assertion")
            .unwrap_or_default()
            .to_string();
        let assertion = match Jws::parse(&assertion_text) {
            Ok(a) => a,
            Err(e) => {
                out.check(
                    aad,
                    "Assertion is well formed",
                    "compact JWS",
                    "RFC 7515 §7.1",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let kid = assertion.kid().unwrap_or_default().to_string();
        let upn = assertion
            .string_claim("iss")
            .unwrap_or_default()
            .to_string();
        let key = self
            .world
            .azure_ad
            .user_keys
            .iter()
            .find(|k| k.key_id == kid)
            .cloned();
        out.check(
            aad,
            "Key is registered for the user",
            format!(
                "kid {kid} against the {} key(s) on {}'s user object",
                self.world.azure_ad.user_keys.len(),
                self.world.user.upn
            ),
            "MS-KPP (the key registered in phase C)",
            match (&key, upn == self.world.user.upn) {
                (_, false) => Err(format!(
                    "the assertion names \"{upn}\", not this tenant's user"
                )),
                (None, _) => Err(format!(
                    "no key with the ID {kid} is registered for the user"
                )),
                (Some(k), _) if k.device_id != device_cert.device_id => Err(format!(
                    "the key was registered from device {}, not from {}",
                    k.device_id, device_cert.device_id
                )),
                (Some(_), _) => Ok(()),
            },
        );
        let Some(key) = key else {
            return Ok(out);
        };
        let public = KeyCredentialLink::parse(&key.blob)
            .and_then(|k| BcryptRsaPublicBlob::parse(k.key_material()))
            .and_then(|b| b.to_public_key());
        out.check(
            aad,
            "Assertion signature",
            "RS256 over the assertion, verified with the registered key",
            "RFC 7515 §5.2",
            public
                .map_err(|e| e.to_string())
                .and_then(|k| assertion.verify(&k).map_err(|e| e.to_string())),
        );
        let inner_nonce = assertion.string_claim("request_nonce").unwrap_or_default();
        out.check_eq(
            aad,
            "Assertion carries the nonce",
            "the assertion's request_nonce against the request's",
            "MS-OAPXBC 3.2.5.1.2.1",
            ("the nonce", nonce.as_str(), inner_nonce),
        );
        Ok(out)
    }

    /// The PRT, and its session key encrypted to the device's transport key.
    pub(crate) fn issue_prt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let request = Jws::parse(&self.take_text(wire::PRT_REQUEST)?)?;
        let cert = x5c(&request)
            .ok_or_else(|| Error::Usage("the request has no device certificate".into()))?;
        let device_id = crate::pki::read_device_certificate(&cert)?.device_id;
        let transport = self
            .world
            .azure_ad
            .devices
            .iter()
            .find(|d| d.id == device_id)
            .and_then(|d| d.transport_key.clone())
            .ok_or_else(|| Error::Usage("Entra ID holds no transport key for the device".into()))?;
        let seed = self.world.seed;
        let session_key: [u8; 32] = seed.bytes("azure-ad/prt-session-key");
        let token = b64url(&seed.bytes::<64>("azure-ad/prt"));
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed.bytes("azure-ad/prt-oaep"));
        let encrypted_key = transport
            .encrypt(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), &session_key)
            .map_err(|e| Error::Crypto(format!("RSA-OAEP to the transport key: {e}")))?;
        let jwe = Jwe::seal(
            &json!({ "enc": "A256GCM", "alg": "RSA-OAEP" }),
            &session_key,
            encrypted_key,
            seed.bytes("azure-ad/prt-iv"),
            b"",
        );
        let upn = self.world.user.upn.clone();
        let now = self.now;
        let id_token = format!(
            "{}.{}.",
            b64url(br#"{"typ":"JWT","alg":"none"}"#),
            b64url(
                json!({
                    "aud": BROKER_CLIENT_ID,
                    "iss": self.world.tenant.azure_issuer(),
                    "iat": now.unix_seconds(),
                    "exp": now.plus(SimDuration::minutes(60)).unix_seconds(),
                    "oid": self.world.user.object_id.to_string(),
                    "tid": self.world.tenant.id.to_string(),
                    "upn": upn,
                })
                .to_string()
                .as_bytes()
            )
        );
        let response = json!({
            "token_type": "pop",
            "refresh_token": token,
            "refresh_token_expires_in": PRT_LIFETIME_SECONDS,
            "session_key_jwe": jwe.to_compact(),
            "id_token": id_token,
        });
        self.world.azure_ad.prts.push(IssuedPrt {
            token,
            session_key,
            upn,
            device_id,
            issued: now,
        });
        self.put(
            wire::PRT_RESPONSE,
            serde_json::to_vec(&response)
                .map_err(|e| Error::malformed("PRT response", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::PRT_RESPONSE,
            "PRT response (MS-OAPXBC)",
            &response,
            Some("the members are MS-OAPXBC 3.2.5.1.2.2's; the PRT itself is opaque (here 64 random bytes) and the id_token unsigned, as the specification allows"),
        ));
        Ok(out)
    }

    /// The TPM decrypts the session key with the transport key.
    pub(crate) fn decrypt_session_key(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let device = Actor::CloudAp;
        let Some(body) = self.take_json(
            wire::PRT_RESPONSE,
            &mut out,
            device,
            "Response is well formed",
            "MS-OAPXBC 3.2.5.1.2.2",
        )?
        else {
            return Ok(out);
        };
        let jwe = match Jwe::parse(body["session_key_jwe"].as_str().unwrap_or_default()) {
            Ok(j) => j,
            Err(e) => {
                out.check(
                    device,
                    "Session key JWE",
                    "RFC 7516 §7.1 compact form",
                    "RFC 7516",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let now = self.now;
        let mut tpm_log = Vec::new();
        let opened =
            self.world
                .device
                .decrypt_with_transport_key(&jwe.encrypted_key, now, &mut tpm_log);
        out.tpm.extend(tpm_log);
        let key: std::result::Result<[u8; 32], String> = opened.and_then(|k| {
            k.try_into()
                .map_err(|k: Vec<u8>| format!("the key has {} bytes, not 32", k.len()))
        });
        out.check(
            Actor::Tpm,
            "Transport key opens the session key",
            "TPM2_RSA_Decrypt of the JWE's encrypted key (OAEP, SHA-1) with the transport key",
            "RFC 7518 §4.3 (RSA-OAEP); TPM 2.0 Part 3 §14.3",
            key.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        let Ok(key) = key else {
            return Ok(out);
        };
        out.check(
            device,
            "The JWE is intact",
            "AES-256-GCM tag over the protected header, with the decrypted key",
            "RFC 7518 §5.3; NIST SP 800-38D",
            jwe.open(&key).map(|_| ()).map_err(|e| e.to_string()),
        );
        if out.ok() {
            self.state.session_key = Some(key);
            self.state.prt = body["refresh_token"].as_str().map(str::to_string);
            out.note("CloudAP now holds the PRT and its session key, with which it signs later token requests. Windows keeps the session key protected by the TPM; that step is not shown here.");
        }
        Ok(out)
    }
}
