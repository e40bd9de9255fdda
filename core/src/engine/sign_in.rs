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
use crate::flows::Segment;
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::encoding::{b64url, b64url_decode, base64};
use crate::formats::jwe::Jwe;
use crate::formats::jws::{self, Jws};
use crate::formats::key_credential_link::KeyCredentialLink;
use crate::options::SignInKey;
use crate::world::{IssuedPrt, ADFS_HOST};
use base64ct::{Base64, Encoding};
use rand_core::SeedableRng;
use serde_json::{json, Value};

/// The broker client that asks for a Primary Refresh Token (MS-OAPXBC 4.2's
/// example; the client ID Windows' CloudAP uses).
const BROKER_CLIENT_ID: &str = "38aa3b87-a06d-4817-b275-7a316988d93b";
/// How long a nonce stays good (modelled: Entra ID does not publish it).
const NONCE_LIFETIME: SimDuration = SimDuration::minutes(5);
/// The grant that presents a SAML 1.1 token from a federated IdP.
const SAML_BEARER: &str = "urn:ietf:params:oauth:grant-type:saml1_1-bearer";
/// A PRT's validity: Microsoft documents 14 days.
const PRT_LIFETIME_SECONDS: u64 = 14 * 24 * 3600;

/// The seed label of the `n`th value of a kind a party draws more than
/// once in a run (nonces, PRTs): the first keeps the plain label.
pub(crate) fn nth(label: &str, n: usize) -> String {
    if n == 0 {
        label.to_string()
    } else {
        format!("{label}/{n}")
    }
}

/// The first certificate of a JWS header's `x5c` (RFC 7515 §4.1.6).
fn x5c(token: &Jws) -> Option<Vec<u8>> {
    token
        .header()
        .get("x5c")
        .and_then(|v| v.get(0))
        .and_then(Value::as_str)
        .and_then(|b| Base64::decode_vec(b).ok())
}

/// The party that issues Primary Refresh Tokens in a flow: Entra ID, or
/// on premises AD FS (MS-OAPXBC's server role; §4's example is a PRT
/// request to AD FS), with what differs between them.
#[derive(Clone, Copy)]
pub(crate) struct PrtIssuer {
    pub actor: Actor,
    /// How the run names it.
    pub name: &'static str,
    /// Where its token endpoint answers.
    pub token_endpoint: &'static str,
    /// The prefix of the seed labels it draws from.
    label: &'static str,
}

const ENTRA_ID: PrtIssuer = PrtIssuer {
    actor: Actor::AzureAd,
    name: "Entra ID",
    token_endpoint: "https://login.microsoftonline.com/<tenant>/oauth2/token",
    label: "azure-ad",
};

const AD_FS: PrtIssuer = PrtIssuer {
    actor: Actor::AdFs,
    name: "AD FS",
    token_endpoint: "https://adfs.contoso.com/adfs/oauth2/token",
    label: "adfs",
};

impl PrtIssuer {
    /// The seed label of its `n`th value of a kind.
    fn label(&self, kind: &str, n: usize) -> String {
        nth(&format!("{}/{kind}", self.label), n)
    }
}

impl Run {
    /// Who issues this flow's PRTs.
    pub(crate) fn prt_issuer(&self) -> PrtIssuer {
        if self.topo.prt_issuer == Actor::AdFs {
            AD_FS
        } else {
            ENTRA_ID
        }
    }

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
        // What became of the user's key since provisioning.
        match self.world.config.options.sign_in_key {
            SignInKey::Registered => {}
            SignInKey::Deleted => {
                self.world.azure_ad.user_keys.clear();
                out.note("Meanwhile an administrator deleted the user's Windows Hello for Business key from the user's authentication methods in Entra ID.");
            }
            SignInKey::OtherDevice => {
                let previous = self.world.seed.guid("azure-ad/previous-device-id");
                for key in &mut self.world.azure_ad.user_keys {
                    key.device_id = previous;
                }
                out.note(format!("Since provisioning the key has stayed filed under device object {previous}: the device was joined again and the user's key was not provisioned anew."));
            }
        }
        out.took = SimDuration::seconds(5);
        Ok(out)
    }

    /// The user types the password at the Windows sign-in screen.
    pub(crate) fn sign_in_with_password(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        out.note(match &self.world.config.options.password {
            Some(typed) if *typed != self.world.user.password => format!(
                "The user types a password that is not theirs ({} characters).",
                typed.chars().count()
            ),
            _ => "The user types the password at the sign-in screen.".to_string(),
        });
        out.took = SimDuration::seconds(5);
        Ok(out)
    }

    /// The password the user typed: theirs, unless a condition says otherwise.
    pub(crate) fn typed_password(&self) -> String {
        self.world
            .config
            .options
            .password
            .clone()
            .unwrap_or_else(|| self.world.user.password.clone())
    }

    pub(crate) fn request_nonce(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let issuer = self.prt_issuer();
        if issuer.actor == Actor::AdFs && !self.world.config.options.federation_available {
            let client = if self.current_segment() == Some(Segment::WindowsSignIn) {
                Actor::CloudAp
            } else {
                Actor::Wam
            };
            out.check(
                client,
                "Federation server reachable",
                format!("an answer from {}", issuer.token_endpoint),
                "modelled",
                Err("AD FS did not answer (HTTP 503 Service Unavailable): no enterprise PRT can be issued".into()),
            );
            return Ok(out);
        }
        let request = json!({ "grant_type": "srv_challenge" });
        out.artifact(json_artifact(
            "nonce-request",
            "Nonce request",
            &request,
            Some(&format!(
                "POST {} (MS-OAPXBC 3.1.5.1.1); shown as JSON, it travels form-encoded",
                issuer.token_endpoint
            )),
        ));
        // The issuer's side: a nonce it will remember.
        let n = self.world.sign_ins(issuer.actor).nonces.len();
        let nonce = b64url(
            &self
                .world
                .seed
                .bytes::<32>(&issuer.label("sign-in-nonce", n)),
        );
        let now = self.now;
        self.world
            .sign_ins_mut(issuer.actor)
            .nonces
            .push((nonce.clone(), now));
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

    /// The request for a PRT, signed by the device key, certificate
    /// attached: with the password at the first Windows sign-in
    /// (MS-OAPXBC §4's example, grant_type `password`), with the user key's
    /// assertion once Windows Hello is provisioned.
    pub(crate) fn request_prt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let with_password = self.current_segment() == Some(Segment::WindowsSignIn);
        // A device that joined before the run holds the certificate it was
        // given then.
        let cert = self
            .world
            .earlier_device_certificate(self.prt_issuer().actor == Actor::AdFs)?;
        let nonce = self.state.nonce.clone().unwrap_or_default();
        let header = claims(json!({ "alg": "RS256", "typ": "JWT", "x5c": [base64(&cert)] }));
        // A federated domain: AD FS's SAML token in place of the password
        // (roadlib `get_prt_with_samltoken`; AADInternals
        // `Get-UserPRTKeys -SAMLToken`).
        let federated = with_password
            && self.topo.authenticator == Actor::AdFs
            && self.prt_issuer().actor == Actor::AzureAd;
        let body = if federated {
            let Some(assertion) = self.saml_from_ws_trust(&mut out)? else {
                return Ok(out);
            };
            claims(json!({
                "client_id": BROKER_CLIENT_ID,
                "request_nonce": nonce,
                "scope": "openid aza ugs",
                "grant_type": SAML_BEARER,
                "assertion": base64(assertion.as_bytes()),
                "win_ver": "10.0.26100.2314",
            }))
        } else if with_password {
            claims(json!({
                "client_id": BROKER_CLIENT_ID,
                "request_nonce": nonce,
                "scope": "openid aza ugs",
                "grant_type": "password",
                "username": self.world.user.upn,
                "password": self.typed_password(),
                "win_ver": "10.0.26100.2314",
            }))
        } else {
            claims(json!({
                "client_id": BROKER_CLIENT_ID,
                "request_nonce": nonce,
                "scope": "openid aza ugs",
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "username": self.world.user.upn,
                "assertion": self.take_text(wire::ASSERTION)?,
                "win_ver": "10.0.26100.2314",
            }))
        };
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
            if federated {
                "PRT request with AD FS's SAML token, signed by the device key"
            } else if with_password {
                "PRT request with the password, signed by the device key"
            } else {
                "PRT request signed by the device key"
            },
            &token,
            None,
        ));
        out.note(format!("POST {} with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and this JWT as `request` (MS-OAPXBC 3.2.5.1.2.1).", self.prt_issuer().token_endpoint));
        if !with_password {
            self.prt_request_params(&mut out);
        }
        Ok(out)
    }

    /// The PRT issuer checks the device, the nonce, and the password or the
    /// user key.
    pub(crate) fn validate_prt_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let issuer = self.prt_issuer();
        let aad = issuer.actor;
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
        // the issuer knows and that is not disabled, signed the request.
        // AD FS knows the devices the Enterprise DRS wrote into AD, and
        // their certificates come from that service's own device CA.
        let cert = x5c(&request);
        let ca = if aad == Actor::AdFs {
            Some(self.world.enterprise_device_ca_certificate()?)
        } else {
            self.world.adrs.device_ca_certificate.clone()
        };
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
        self.check_device_enabled(
            &mut out,
            aad,
            device_cert.device_id,
            "device",
            Some(&device_cert.public_key),
        );
        if !out.ok() {
            return Ok(out);
        }
        // The nonce: one the issuer issued, still fresh.
        let nonce = request
            .string_claim("request_nonce")
            .unwrap_or_default()
            .to_string();
        self.check_nonce(&mut out, &nonce);
        // A federated first sign-in: AD FS's token, checked as Entra ID
        // checks any token of the federated domain's IdP.
        if request.string_claim("grant_type").ok() == Some(SAML_BEARER) {
            let document = request
                .string_claim("assertion")
                .ok()
                .and_then(|a| Base64::decode_vec(a).ok())
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            self.check_adfs_saml(&mut out, &document)?;
            return Ok(out);
        }
        // The first sign-in to Windows: the password, against the hash
        // Entra ID holds (a managed domain) or against Active Directory.
        if request.string_claim("grant_type").ok() == Some("password") {
            let user = &self.world.user;
            let upn = request.string_claim("username").unwrap_or_default();
            out.check_eq(
                aad,
                "User is known",
                format!(
                    "username \"{upn}\" against the {}'s users",
                    if aad == Actor::AdFs {
                        "domain"
                    } else {
                        "tenant"
                    }
                ),
                "MS-OAPXBC 3.2.5.1.2.1 (username)",
                ("the user", user.upn.as_str(), upn),
            );
            let password = request.string_claim("password").unwrap_or_default();
            let holder = if aad == Actor::AdFs {
                "Active Directory"
            } else {
                "Entra ID"
            };
            super::tokens::check_password(&mut out, aad, holder, "sent", user, password);
            return Ok(out);
        }
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

    /// The issuer's check that a device is one it knows and not disabled
    /// (and, for a device certificate, that its key is the registered one).
    pub(crate) fn check_device_enabled(
        &self,
        out: &mut StepOutput,
        issuer: Actor,
        device_id: crate::formats::guid::Guid,
        what: &str,
        key: Option<&rsa::RsaPublicKey>,
    ) {
        let devices = self.world.devices_known_to(issuer);
        let on_prem = issuer == Actor::AdFs;
        out.check(
            issuer,
            "Device is registered and enabled",
            format!(
                "{what} {device_id} against {}'s {} device object(s)",
                if on_prem { "Active Directory" } else { "Entra ID" },
                devices.len()
            ),
            if on_prem {
                "the msDS-Device objects under CN=RegisteredDevices (MS-DVRJ 3.1.5.1.1.3; msDS-IsEnabled)"
            } else {
                "Entra ID device objects (AADSTS135011 for a disabled device)"
            },
            match devices.iter().find(|d| d.id == device_id) {
                None => Err(format!("no device {device_id} is registered")),
                Some(d) if key.is_some_and(|k| *k != d.public_key) => {
                    Err("the certificate's key is not the key the device registered".into())
                }
                Some(d) if !d.enabled => Err(if on_prem {
                    "the device object in Active Directory is disabled (msDS-IsEnabled FALSE)"
                        .into()
                } else {
                    "AADSTS135011: the device used during the authentication is disabled".into()
                }),
                Some(_) => Ok(()),
            },
        );
    }

    /// The PRT issuer's check of a request's `request_nonce`: one it
    /// issued, still fresh.
    pub(crate) fn check_nonce(&self, out: &mut StepOutput, nonce: &str) {
        let issuer = self.prt_issuer();
        let issued = self
            .world
            .sign_ins(issuer.actor)
            .nonces
            .iter()
            .find(|(n, _)| *n == nonce)
            .map(|(_, t)| *t);
        out.check(
            issuer.actor,
            "Nonce is fresh",
            format!(
                "request_nonce {}… against the nonces {} issued, less than {NONCE_LIFETIME} old",
                nonce.chars().take(12).collect::<String>(),
                issuer.name
            ),
            "MS-OAPXBC 3.1.5.1.1; lifetime modelled",
            match issued {
                None => Err(format!("{} never issued this nonce", issuer.name)),
                Some(t) if self.now.since(t) >= NONCE_LIFETIME => Err(format!(
                    "the nonce was issued {} ago; it is good for {NONCE_LIFETIME}",
                    self.now.since(t)
                )),
                Some(_) => Ok(()),
            },
        );
    }

    /// The PRT, and its session key encrypted to the device's transport key.
    pub(crate) fn issue_prt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let request = Jws::parse(&self.take_text(wire::PRT_REQUEST)?)?;
        let cert = x5c(&request)
            .ok_or_else(|| Error::Usage("the request has no device certificate".into()))?;
        let device_id = crate::pki::read_device_certificate(&cert)?.device_id;
        let issuer = self.prt_issuer();
        let transport = self
            .world
            .devices_known_to(issuer.actor)
            .iter()
            .find(|d| d.id == device_id)
            .and_then(|d| d.transport_key.clone())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "{} holds no transport key for the device",
                    issuer.name
                ))
            })?;
        let seed = self.world.seed;
        // A second PRT (the PIN's, after the password's) draws its own values.
        let n = self.world.sign_ins(issuer.actor).prts.len();
        let session_key: [u8; 32] = seed.bytes(&issuer.label("prt-session-key", n));
        let token = b64url(&seed.bytes::<64>(&issuer.label("prt", n)));
        let mut rng = rand_chacha::ChaCha20Rng::from_seed(seed.bytes(&issuer.label("prt-oaep", n)));
        let encrypted_key = transport
            .encrypt(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), &session_key)
            .map_err(|e| Error::Crypto(format!("RSA-OAEP to the transport key: {e}")))?;
        let jwe = Jwe::seal(
            &json!({ "enc": "A256GCM", "alg": "RSA-OAEP" }),
            &session_key,
            encrypted_key,
            seed.bytes(&issuer.label("prt-iv", n)),
            b"",
        );
        let upn = self.world.user.upn.clone();
        let now = self.now;
        let mut identity = json!({
            "aud": BROKER_CLIENT_ID,
            "iat": now.unix_seconds(),
            "exp": now.plus(SimDuration::minutes(60)).unix_seconds(),
            "upn": upn,
        });
        if issuer.actor == Actor::AdFs {
            identity["iss"] = json!(format!("https://{ADFS_HOST}/adfs"));
            identity["sid"] = json!(self.world.user.sid);
        } else {
            identity["iss"] = json!(self.world.tenant.azure_issuer());
            identity["oid"] = json!(self.world.user.object_id.to_string());
            identity["tid"] = json!(self.world.tenant.id.to_string());
        }
        let id_token = format!(
            "{}.{}.",
            b64url(br#"{"typ":"JWT","alg":"none"}"#),
            b64url(identity.to_string().as_bytes())
        );
        let mut response = json!({
            "token_type": "pop",
            "refresh_token": token,
            "refresh_token_expires_in": PRT_LIFETIME_SECONDS,
            "session_key_jwe": jwe.to_compact(),
            "id_token": id_token,
        });
        // Cloud Kerberos trust: the partial TGT, a JSON object sent as a
        // string (libhimmelblau's `decode_string_or_struct`).
        if let Some(tgt_ad) = self.partial_tgt_for(&mut out, &session_key, n)? {
            response["tgt_ad"] = Value::String(tgt_ad);
        }
        self.world.sign_ins_mut(issuer.actor).prts.push(IssuedPrt {
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
            Some("the members are MS-OAPXBC 3.2.5.1.2.2's (tgt_ad is not in the specification: its form is what ROADtools and libhimmelblau read); the PRT itself is opaque (here 64 random bytes) and the id_token unsigned, as the specification allows"),
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
        if !out.ok() {
            return Ok(out);
        }
        // The session key goes into the TPM as an HMAC key, and CloudAP
        // keeps no copy: from now on only the TPM can derive from it.
        let mut tpm_log = Vec::new();
        let held = self.world.device.hold_session_key(&key, now, &mut tpm_log);
        out.tpm.extend(tpm_log);
        out.check(
            Actor::Tpm,
            "The TPM holds the session key",
            "TPM2_Create of a keyed-hash HMAC key with the session key as its secret, then TPM2_Load",
            "TPM 2.0 Part 3 §12.1 (inSensitive.data), §12.2",
            held.clone(),
        );
        if held.is_ok() {
            self.state.session_key_in_tpm = true;
            self.state.prt = body["refresh_token"].as_str().map(str::to_string);
            self.state.tgt_ad = body["tgt_ad"].as_str().map(str::to_string);
            out.note("CloudAP now holds the PRT; its session key is an object in the TPM, which derives the keys that sign CloudAP's token requests (next step). The secret travels once, in TPM2_Create's command, which the recorder withholds.");
        }
        Ok(out)
    }
}

/// The key MS-OAPXBC derives from a PRT's session key for one request or
/// response: NIST SP 800-108's KDF in counter mode with HMAC-SHA256, label
/// `AzureAD-SecureConversation` and the message's context, one 256-bit
/// block (the input AADInternals' `Get-PRTDerivedKey` feeds HMAC:
/// i = 1 ‖ label ‖ 0x00 ‖ context ‖ L = 256, each number 32 bits big-endian).
pub(crate) fn derived_key(session_key: &[u8; 32], context: &[u8]) -> [u8; 32] {
    hs256(session_key, &kdf_input(context))
}

/// What the KDF's one HMAC block runs over: i = 1 ‖ label ‖ 0x00 ‖
/// context ‖ L = 256. The TPM MACs the same bytes with the session key it
/// holds.
pub(crate) fn kdf_input(context: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(4 + 26 + 1 + context.len() + 4);
    input.extend_from_slice(&1u32.to_be_bytes());
    input.extend_from_slice(b"AzureAD-SecureConversation");
    input.push(0);
    input.extend_from_slice(context);
    input.extend_from_slice(&256u32.to_be_bytes());
    input
}

/// HMAC-SHA256 (RFC 2104) with a 32-byte key: HS256 of RFC 7518 §3.2 over
/// a compact JWS's signing input, and the KDF's one block.
fn hs256(key: &[u8; 32], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    // The key is shorter than SHA-256's 64-byte block: padded with zeros.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The resource the app asks a token for.
const APP_RESOURCE: &str = "https://graph.microsoft.com";

impl Run {
    /// The PRT the device holds with its session key in the TPM; an error
    /// saying `missing` when it holds none.
    pub(crate) fn held_prt(&self, missing: &str) -> Result<String> {
        self.state
            .prt
            .clone()
            .filter(|_| self.state.session_key_in_tpm)
            .ok_or_else(|| Error::Usage(missing.to_string()))
    }

    /// A compact JWS of `header` and `body` signed HS256 with the key the
    /// TPM derives from the session key it holds and `context` (the
    /// header's `ctx`); `None` when the TPM refused (the check says why).
    pub(crate) fn sign_with_session_key(
        &mut self,
        out: &mut StepOutput,
        header: &Value,
        body: &Value,
        context: &[u8],
    ) -> Result<Option<String>> {
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(body.to_string().as_bytes())
        );
        let mut tpm_log = Vec::new();
        let derived =
            self.world
                .device
                .hmac_with_session_key(&kdf_input(context), self.now, &mut tpm_log);
        out.tpm.extend(tpm_log);
        let derived: [u8; 32] = match derived.map(<[u8; 32]>::try_from) {
            Ok(Ok(k)) => k,
            Ok(Err(_)) => return Err(Error::Usage("TPM2_HMAC gave no 32-byte key".into())),
            Err(reason) => {
                out.check(
                    Actor::Tpm,
                    "The TPM derives the signing key",
                    "TPM2_HMAC with the session key over the KDF's input",
                    "TPM 2.0 Part 3 §15.5; NIST SP 800-108",
                    Err(reason),
                );
                return Ok(None);
            }
        };
        let signature = hs256(&derived, input.as_bytes());
        Ok(Some(format!("{input}.{}", b64url(&signature))))
    }

    /// CloudAP asks for an app's token with the PRT, signed with a key
    /// derived from the session key.
    pub(crate) fn request_app_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let prt = self.held_prt("CloudAP holds no PRT with its session key")?;
        let context: [u8; 24] = self.world.seed.bytes("cloudap/request-context");
        let now = self.now;
        let header = json!({ "alg": "HS256", "typ": "JWT", "ctx": base64(&context) });
        let body = json!({
            "iss": "aad:brokerplugin",
            "grant_type": "refresh_token",
            "aud": "login.microsoftonline.com",
            "iat": now.unix_seconds(),
            "scope": "openid aza ugs",
            "refresh_token": prt,
            "client_id": BROKER_CLIENT_ID,
            "resource": APP_RESOURCE,
        });
        let Some(token) = self.sign_with_session_key(&mut out, &header, &body, &context)? else {
            return Ok(out);
        };
        self.put(wire::APP_TOKEN_REQUEST, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::APP_TOKEN_REQUEST,
            "Token request signed with the session key (HS256)",
            &token,
            Some("the claims are those AADInternals sends with a PRT (here for a Microsoft Graph token, without its certificate request); the HS256 key is derived from the session key with the header's ctx"),
        ));
        out.note("POST https://login.microsoftonline.com/<tenant>/oauth2/token with grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and this JWT as `request`. The TPM derived the signing key (TPM2_HMAC over the KDF's input); the session key never leaves it.");
        Ok(out)
    }

    /// Entra ID's checks of a JWT that presents a PRT (a token request, or
    /// the x-ms-RefreshTokenCredential header, MS-OAPXBC 2.2.1.1): the PRT
    /// is one it issued and still valid, and the JWT is signed (HS256) with
    /// the key derived from that PRT's session key and the header's `ctx`.
    /// Returns the PRT and the JWT's claims once both checks ran.
    pub(crate) fn check_prt_signed(
        &self,
        out: &mut StepOutput,
        text: &str,
    ) -> Option<(IssuedPrt, Value)> {
        let issuer = self.prt_issuer();
        let aad = issuer.actor;
        let parts: Vec<&str> = text.split('.').collect();
        let parsed = (parts.len() == 3)
            .then(|| {
                let header: Value = serde_json::from_slice(&b64url_decode(parts[0]).ok()?).ok()?;
                let body: Value = serde_json::from_slice(&b64url_decode(parts[1]).ok()?).ok()?;
                let signature = b64url_decode(parts[2]).ok()?;
                Some((header, body, signature))
            })
            .flatten();
        let Some((header, body, signature)) = parsed else {
            out.check(
                aad,
                "Request is well formed",
                "compact JWS: header.payload.signature",
                "RFC 7515 §7.1",
                Err("the request is not a compact JWS with JSON header and payload".into()),
            );
            return None;
        };
        // The PRT: one the issuer issued and still valid.
        let presented = body["refresh_token"].as_str().unwrap_or_default();
        let issued = &self.world.sign_ins(aad).prts;
        let prt = issued.iter().find(|p| p.token == presented).cloned();
        out.check(
            aad,
            &format!("PRT is one {} issued", issuer.name),
            format!(
                "refresh_token against the {} PRT(s) {} issued, less than 14 days old",
                issued.len(),
                issuer.name
            ),
            "MS-OAPXBC 3.2.5.1.3",
            match &prt {
                None => Err(format!("{} never issued this PRT", issuer.name)),
                Some(p) if self.now.since(p.issued).as_secs() >= PRT_LIFETIME_SECONDS => {
                    Err(format!(
                        "the PRT was issued {} ago; it is good for 14 days",
                        self.now.since(p.issued)
                    ))
                }
                Some(_) => Ok(()),
            },
        );
        let prt = prt?;
        let context = header["ctx"]
            .as_str()
            .and_then(|c| Base64::decode_vec(c).ok())
            .unwrap_or_default();
        let key = derived_key(&prt.session_key, &context);
        let input = format!("{}.{}", parts[0], parts[1]);
        let expected = hs256(&key, input.as_bytes());
        out.check(
            aad,
            "Signed with the session key",
            format!(
                "HS256 over the request with the key derived from the PRT's session key and the header's ctx ({} bytes)",
                context.len()
            ),
            "MS-OAPXBC 3.2.5.1.3; NIST SP 800-108 §5.1 (label AzureAD-SecureConversation)",
            if header["alg"] != "HS256" {
                Err(format!("alg is {}, not HS256", header["alg"]))
            } else if context.is_empty() {
                Err("the header carries no ctx to derive the key from".into())
            } else if signature.as_slice() != expected.as_slice() {
                Err("the signature does not verify with the key derived from this PRT's session key".into())
            } else {
                Ok(())
            },
        );
        Some((prt, body))
    }

    /// Entra ID checks the PRT and the derived-key signature, answers with
    /// an access token encrypted under another derived key; CloudAP opens it.
    pub(crate) fn issue_app_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let text = self.take_text(wire::APP_TOKEN_REQUEST)?;
        let Some((prt, body)) = self.check_prt_signed(&mut out, &text) else {
            return Ok(out);
        };
        if !out.ok() {
            return Ok(out);
        }
        // The access token, encrypted under a key derived with a new context.
        let now = self.now;
        let user = self.world.user.clone();
        let access = jws::sign(
            &claims(json!({
                "aud": body["resource"].as_str().unwrap_or(APP_RESOURCE),
                "iss": self.world.tenant.azure_issuer(),
                "iat": now.unix_seconds(),
                "nbf": now.unix_seconds(),
                "exp": now.plus(SimDuration::minutes(60)).unix_seconds(),
                "appid": BROKER_CLIENT_ID,
                "deviceid": prt.device_id.to_string(),
                "oid": user.object_id.to_string(),
                "tid": self.world.tenant.id.to_string(),
                "upn": user.upn,
            })),
            self.world
                .keys
                .key(crate::seed::KeyPurpose::AzureAdTokenSigning)?,
        )?;
        let response = json!({
            "token_type": "Bearer",
            "expires_in": 3600,
            "resource": APP_RESOURCE,
            "access_token": access,
        });
        let response_context: [u8; 24] = self.world.seed.bytes("azure-ad/response-context");
        let jwe = Jwe::seal(
            &json!({ "alg": "dir", "enc": "A256GCM", "ctx": base64(&response_context) }),
            &derived_key(&prt.session_key, &response_context),
            Vec::new(),
            self.world.seed.bytes("azure-ad/response-iv"),
            response.to_string().as_bytes(),
        );
        let compact = jwe.to_compact();
        out.artifact(json_artifact(
            wire::APP_TOKEN_RESPONSE,
            "Response, encrypted under a key derived from the session key (JWE, dir, A256GCM)",
            &json!({ "jwe": compact, "protected_header": jwe.header()? }),
            Some("the response body is the compact JWE itself; shown inside JSON with its protected header decoded"),
        ));
        // CloudAP's side: its own session key and the ctx that arrived.
        let arrived = Jwe::parse(&compact);
        let mut tpm_log = Vec::new();
        let opened = arrived.and_then(|jwe| {
            let ctx = jwe.header()?["ctx"]
                .as_str()
                .and_then(|c| Base64::decode_vec(c).ok())
                .unwrap_or_default();
            // The TPM derives the response key, as it did the request's.
            let key: [u8; 32] = self
                .world
                .device
                .hmac_with_session_key(&kdf_input(&ctx), now, &mut tpm_log)
                .map_err(Error::Usage)?
                .try_into()
                .map_err(|_| Error::Usage("TPM2_HMAC gave no 32-byte key".into()))?;
            jwe.open(&key)
        });
        out.tpm.extend(tpm_log);
        out.check(
            Actor::CloudAp,
            "Response opens with the derived key",
            "AES-256-GCM tag, with the key the TPM derives from the session key and the response's ctx",
            "MS-OAPXBC 3.2.5.1.3; RFC 7516 (alg dir)",
            opened.as_ref().map(|_| ()).map_err(|e| e.to_string()),
        );
        if let Ok(plain) = opened {
            let body: Value = serde_json::from_slice(&plain)
                .map_err(|e| Error::malformed("token response", e.to_string()))?;
            if let Some(token) = body["access_token"].as_str() {
                out.artifact(jwt_artifact(
                    "app-access-token",
                    "Access token for Microsoft Graph",
                    token,
                    None,
                ));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::derived_key;

    #[test]
    fn hmac_sha256_gives_python_s_answer() {
        // hmac.new(bytes(32), b"what do ya want for nothing?", "sha256")
        let mac = super::hs256(&[0u8; 32], b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "76d9e7194e7dbc3aa00bbe8ffb9f6fcb5a932170f971f948bb2ab61607d2b9d6"
        );
    }

    #[test]
    fn the_derived_key_is_the_sp_800_108_block_aadinternals_computes() {
        // Python: hmac.new(bytes(range(32)), b"\0\0\0\1AzureAD-SecureConversation\0"
        //   + bytes(range(100, 124)) + b"\0\0\1\0", "sha256").hexdigest()
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        let context: Vec<u8> = (100u8..124).collect();
        let hex: String = derived_key(&key, &context)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, EXPECTED);
    }

    const EXPECTED: &str = "fd86b1821bd2effa68009dee12e23d90b6889712dc9ec3a625075817ca47f47a";
}
