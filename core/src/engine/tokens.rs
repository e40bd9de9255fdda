//! Phase A: the password, the second factor, and the access token for the
//! registration service.

use super::wire::{json_artifact, jwt_artifact};
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::formats::encoding::{base64, hex};
use crate::formats::jws::{self, Jwk, JwkSet, Jws};
use crate::seed::KeyPurpose;
use crate::world::{
    UserAccount, ADFS_HOST, ADFS_ISSUER, ADRS_AUDIENCE, DRS_CLIENT_ID, EDRS_AUDIENCE,
};
use serde_json::{json, Map, Value};

/// How long an MFA counts as fresh for provisioning.
pub(crate) const MFA_FRESHNESS: SimDuration = SimDuration::minutes(10);

/// Lifetime of the access tokens issued here.
const TOKEN_LIFETIME: SimDuration = SimDuration::minutes(60);

/// Wire ids of phase A's artifacts.
use super::wire::tokens as wire;

pub(crate) fn claims(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The checks every consumer of a signed token makes.
/// The first factor: the salted hash of the password that arrived against
/// the one `holder` keeps for `user` (`verb`: how it arrived).
pub(crate) fn check_password(
    out: &mut StepOutput,
    actor: Actor,
    holder: &str,
    verb: &str,
    user: &UserAccount,
    password: &str,
) {
    let hash = UserAccount::hash_password(&user.password_salt, password);
    out.check(
        actor,
        "Password (first factor)",
        format!(
            "salted SHA-256 of the password {verb}, {}…, against the hash {holder} holds, {}…",
            &hex(&hash)[..12],
            &hex(&user.password_hash)[..12]
        ),
        "modelled: directories store password hashes, never passwords",
        if hash == user.password_hash {
            Ok(())
        } else {
            Err("the password is wrong".into())
        },
    );
}

pub(crate) struct TokenRules<'a> {
    pub actor: Actor,
    pub what: &'a str,
    /// The issuer's published signing keys; the token's `kid` picks one.
    pub issuer_keys: &'a JwkSet,
    pub issuer_name: &'a str,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub now: SimTime,
}

impl TokenRules<'_> {
    /// Parses and checks a token; returns its claims when every check held.
    pub fn apply(&self, out: &mut StepOutput, token: &str) -> Option<Jws> {
        let parsed = match Jws::parse(token) {
            Ok(jws) => jws,
            Err(e) => {
                out.check(
                    self.actor,
                    &format!("{} is well formed", self.what),
                    "compact JWS: header.payload.signature",
                    "RFC 7515 §7.1",
                    Err(e.to_string()),
                );
                return None;
            }
        };
        let signed = out.check(
            self.actor,
            &format!("{} signature", self.what),
            format!(
                "RS256 signature over header.payload, verified with the key the header's kid \"{}\" names in the {} key set",
                parsed.kid().unwrap_or("(none)"),
                self.issuer_name
            ),
            "RFC 7515 §5.2, §4.1.4 (kid); RFC 7518 §3.3",
            parsed.verify_with_set(self.issuer_keys).map_err(|e| e.to_string()),
        );
        if !signed {
            return None;
        }
        let iss = parsed.string_claim("iss").unwrap_or_default();
        out.check_eq(
            self.actor,
            &format!("{} issuer", self.what),
            format!(
                "iss \"{iss}\" against the trusted issuer \"{}\"",
                self.issuer
            ),
            "RFC 7519 §4.1.1",
            ("the token's issuer", self.issuer, iss),
        );
        let aud = parsed.audiences();
        out.check(
            self.actor,
            &format!("{} audience", self.what),
            format!("aud {aud:?} must contain \"{}\"", self.audience),
            "RFC 7519 §4.1.3",
            if aud.iter().any(|a| a == self.audience) {
                Ok(())
            } else {
                Err(format!(
                    "the token is meant for {aud:?}, not for \"{}\"",
                    self.audience
                ))
            },
        );
        let now = self.now.unix_seconds();
        let exp = parsed.number_claim("exp");
        let nbf = parsed.number_claim("nbf");
        out.check(
            self.actor,
            &format!("{} lifetime", self.what),
            format!(
                "now {} within nbf {} and exp {}",
                self.now,
                nbf.map_or("(none)".into(), |t| SimTime::from_unix_seconds(t)
                    .to_string()),
                exp.map_or("(none)".into(), |t| SimTime::from_unix_seconds(t)
                    .to_string())
            ),
            "RFC 7519 §4.1.4, §4.1.5",
            match (nbf, exp) {
                (_, None) => Err("the token has no exp claim".into()),
                (_, Some(exp)) if now >= exp => Err(format!(
                    "the token expired at {}",
                    SimTime::from_unix_seconds(exp)
                )),
                (Some(nbf), _) if now < nbf => Err(format!(
                    "the token is not valid before {}",
                    SimTime::from_unix_seconds(nbf)
                )),
                _ => Ok(()),
            },
        );
        out.ok().then_some(parsed)
    }
}

/// Where the 10-minute MFA rule comes from: the documentation states it for
/// Entra MFA; where AD FS performed the MFA it is the explorer's assumption.
pub(crate) fn mfa_rule(adfs_mfa: bool) -> &'static str {
    if adfs_mfa {
        "Windows Hello for Business provisioning rule, stated for Entra MFA; for an MFA done at AD FS the explorer assumes the same"
    } else {
        "Windows Hello for Business provisioning rule (Entra MFA)"
    }
}

/// Whether an MFA at `mfa_time` is still fresh at `now`.
pub(crate) fn mfa_fresh(now: SimTime, mfa_time: Option<u64>) -> std::result::Result<(), String> {
    match mfa_time {
        None => Err("the token carries no time of MFA (auth_time)".into()),
        Some(t) => {
            let age = now.since(SimTime::from_unix_seconds(t));
            if age < MFA_FRESHNESS {
                Ok(())
            } else {
                Err(format!(
                    "the MFA was {age} ago; provisioning needs one less than {MFA_FRESHNESS} old"
                ))
            }
        }
    }
}

impl Run {
    /// The JWK set an issuer publishes for `purpose` (its OpenID Connect
    /// `jwks_uri`, or AD FS's federation metadata), which a token's consumer
    /// fetches; shown as an artifact of the step that uses it.
    pub(crate) fn published_keys(
        &mut self,
        purpose: KeyPurpose,
        out: &mut StepOutput,
    ) -> Result<JwkSet> {
        let key = self.world.keys.key(purpose)?.to_public_key();
        let set = JwkSet::new(vec![Jwk::from_public_key(&key)]);
        let (id, title, note) = match purpose {
            KeyPurpose::AdFsTokenSigning => (
                "adfs-signing-keys",
                "AD FS token-signing keys (JWK set)",
                "AD FS publishes its signing certificate in federation metadata and its keys at /adfs/discovery/keys",
            ),
            _ => (
                "azure-ad-signing-keys",
                "Entra ID token-signing keys (JWK set)",
                "Entra ID publishes its keys at the jwks_uri of its OpenID Connect metadata",
            ),
        };
        out.artifact(json_artifact(id, title, &set.to_value(), None));
        out.note(format!("{note}; the key set here is this run's."));
        Ok(set)
    }

    pub(crate) fn start_provisioning(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        // Provisioning starts only on a joined device.
        let device_id = self.world.device.id();
        out.check(
            Actor::Cxh,
            "Device is joined",
            "the device's own record of its registration (its device ID)",
            "Windows Hello for Business prerequisite (dsregcmd /status: IsDeviceJoined)",
            match device_id {
                Some(_) => Ok(()),
                None => Err("the device has not joined, so provisioning cannot start".into()),
            },
        );
        if device_id.is_none() {
            return Ok(out);
        }
        // dsregcmd's KeySignTest: the device key, in the TPM, signs a test value.
        let mut tpm_log = Vec::new();
        let test = self.world.device.key_sign_test(self.now, &mut tpm_log);
        out.tpm.extend(tpm_log);
        out.check(
            Actor::Cxh,
            "Device key works",
            "a signature by the TPM-held device key, verified with the device's registered public key",
            "modelled on dsregcmd /status KeySignTest",
            test,
        );
        // The report as dsregcmd would print it now, as a JSON object of
        // sections.
        let status: Map<String, Value> = self
            .device_report()
            .into_iter()
            .map(|section| {
                let entries: Map<String, Value> = section
                    .entries
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                (section.name, Value::Object(entries))
            })
            .collect();
        let status = Value::Object(status);
        out.artifact(json_artifact(
            "device-status",
            "Device and user state (dsregcmd-style)",
            &status,
            Some("the sections and names are `dsregcmd /status`'s, as JSON; the values are this run's"),
        ));
        // The rest of the prerequisite check: policy, provisioning after
        // the sign-in, the session, the device, the account. One that
        // fails stops provisioning here, before the PIN is asked for.
        let unmet = self.unmet_prerequisite();
        out.check(
            Actor::Cxh,
            "Windows Hello for Business prerequisites",
            "the device's prerequisite check: policy, provisioning after the sign-in, a local session, an eligible device, an account Entra ID knows",
            "dsregcmd /status, Ngc Prerequisite Check (Microsoft Entra's dsregcmd troubleshooting page); the check itself is modelled",
            match unmet.field() {
                None => Ok(()),
                Some(field) => Err(format!(
                    "{field} is NO: {}. PreReqResult is WillNotProvision, so provisioning does not start",
                    unmet.meaning()
                )),
            },
        );
        out.took = SimDuration::seconds(2);
        Ok(out)
    }

    pub(crate) fn ask_for_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let (resource, authority) = if self.topo.token_issuer == Actor::AzureAd {
            (
                ADRS_AUDIENCE.to_string(),
                format!("https://login.microsoftonline.com/{}", self.world.tenant.id),
            )
        } else {
            (
                EDRS_AUDIENCE.to_string(),
                "https://adfs.contoso.com/adfs".to_string(),
            )
        };
        let request = json!({
            "authority": authority,
            "resource": resource,
            "client_id": DRS_CLIENT_ID,
            "correlation_id": self.world.seed.guid("wam/correlation").to_string(),
            // Interactive: provisioning asks for a fresh multi-factor
            // sign-in made to provision a credential (the ngcmfa method),
            // which may prompt the user.
            "amr_values": "ngcmfa",
            "purpose": "Windows Hello for Business provisioning",
        });
        let bytes = serde_json::to_vec(&request)
            .map_err(|e| Error::malformed("token request", e.to_string()))?;
        self.put(wire::TOKEN_REQUEST, bytes);
        out.artifact(json_artifact(
            wire::TOKEN_REQUEST,
            "WAM token request",
            &request,
            Some("an internal Windows call; the fields are the project's design"),
        ));
        Ok(out)
    }

    pub(crate) fn sign_in_request(&mut self) -> Result<StepOutput> {
        self.authorize_with_prt(StepOutput::default())
    }

    /// WAM opens the PRT issuer's authorization endpoint with the PRT in
    /// the x-ms-RefreshTokenCredential header (MS-OAPXBC 2.2.1.1,
    /// 3.1.5.2.1.3) instead of a password; the issuer (Entra ID, or on
    /// premises AD FS: MS-OAPXBC 3.2.5.1.1.3) authenticates the user and
    /// the device from the PRT it issued at Windows sign-in.
    fn authorize_with_prt(&mut self, mut out: StepOutput) -> Result<StepOutput> {
        let issuer = self.prt_issuer();
        let prt = self.held_prt(
            "WAM holds no PRT with its session key: the user has not signed in to Windows on this device",
        )?;
        let asked: Value = serde_json::from_slice(&self.take(wire::TOKEN_REQUEST)?)
            .map_err(|e| Error::malformed("WAM token request", e.to_string()))?;
        let context: [u8; 24] = self.world.seed.bytes("wam/prt-credential-context");
        let header = json!({ "alg": "HS256", "typ": "JWT", "ctx": base64(&context) });
        let body = json!({
            "refresh_token": prt,
            "request_nonce": self.state.nonce.clone().unwrap_or_default(),
            "iat": self.now.unix_seconds(),
            "win_ver": "10.0.26100.2314",
            "windows_api_version": "2.0.1",
        });
        let Some(credential) = self.sign_with_session_key(&mut out, &header, &body, &context)?
        else {
            return Ok(out);
        };
        let client_id = asked.get("client_id").cloned().unwrap_or(Value::Null);
        let url = if issuer.actor == Actor::AdFs {
            format!("https://{ADFS_HOST}/adfs/oauth2/authorize")
        } else {
            format!(
                "https://login.microsoftonline.com/{}/oauth2/authorize",
                self.world.tenant.id
            )
        };
        let request = json!({
            "method": "GET",
            "url": url,
            "query": {
                "response_type": "code",
                "client_id": client_id,
                "resource": asked.get("resource").cloned().unwrap_or(Value::Null),
                "redirect_uri": format!("ms-appx-web://Microsoft.AAD.BrokerPlugin/{}", client_id.as_str().unwrap_or_default()),
                "amr_values": asked.get("amr_values").cloned().unwrap_or(Value::Null),
            },
            "headers": { "x-ms-RefreshTokenCredential": credential },
        });
        let bytes = serde_json::to_vec(&request)
            .map_err(|e| Error::malformed("authorization request", e.to_string()))?;
        self.put(wire::SIGN_IN_REQUEST, bytes);
        out.artifact(json_artifact(
            wire::SIGN_IN_REQUEST,
            "Authorization request with the PRT",
            &request,
            Some("the query parameters and the header are MS-OAPX's and MS-OAPXBC's; shown as JSON, they travel in the URL and an HTTP header"),
        ));
        out.artifact(jwt_artifact(
            "prt-credential",
            "x-ms-RefreshTokenCredential (HS256 with a key derived from the session key)",
            &credential,
            Some("the claims are MS-OAPXBC 2.2.1.1's; the key is derived from the session key and the header's ctx (SP 800-108, label AzureAD-SecureConversation)"),
        ));
        out.note("The TPM derived the signing key (TPM2_HMAC over the KDF's input): the PRT alone, copied off the device, could not sign this header.");

        // The issuer's side: only what arrived, and the PRTs and nonces it
        // issued.
        let aad = issuer.actor;
        let Some(arrived) = self.take_json(
            wire::SIGN_IN_REQUEST,
            &mut out,
            aad,
            "Request is well formed",
            "MS-OAPX 2.2 (authorization request)",
        )?
        else {
            return Ok(out);
        };
        let Some(credential) = arrived["headers"]["x-ms-RefreshTokenCredential"].as_str() else {
            out.check(
                aad,
                "Request carries a PRT",
                "the x-ms-RefreshTokenCredential header",
                "MS-OAPXBC 2.2.1.1",
                Err(format!("the request has no x-ms-RefreshTokenCredential header: {} would ask for a password", issuer.name)),
            );
            return Ok(out);
        };
        let Some((issued, claims)) = self.check_prt_signed(&mut out, credential) else {
            return Ok(out);
        };
        if !out.ok() {
            return Ok(out);
        }
        self.check_nonce(
            &mut out,
            claims["request_nonce"].as_str().unwrap_or_default(),
        );
        self.check_device_enabled(&mut out, aad, issued.device_id, "the PRT's device", None);
        out.check_eq(
            aad,
            "PRT is the user's",
            "the user the PRT was issued to, against the tenant's user",
            "MS-OAPXBC 3.2.5.1.3",
            (
                "the user",
                self.world.user.upn.as_str(),
                issued.upn.as_str(),
            ),
        );
        if aad == Actor::AdFs {
            let resource = arrived["query"]["resource"].as_str().unwrap_or_default();
            self.check_relying_party(&mut out, resource);
        }
        let amr = arrived["query"]["amr_values"].as_str().unwrap_or_default();
        out.note(format!(
            "The PRT was issued at a password sign-in at {}; the request asks for amr_values={amr}, which the password alone does not satisfy.",
            issued.issued
        ));
        if out.ok() && self.topo.authenticator == Actor::AdFs && aad == Actor::AzureAd {
            self.redirect_to_adfs(&mut out)?;
        }
        out.took = SimDuration::seconds(1);
        Ok(out)
    }

    /// AD FS issues a token only to a relying party it has a trust for.
    pub(crate) fn check_relying_party(&self, out: &mut StepOutput, relying_party: &str) {
        let trusts = &self.world.adfs.relying_parties;
        out.check(
            Actor::AdFs,
            "Relying party is trusted",
            format!(
                "the token's relying party \"{relying_party}\" against AD FS's {} relying party trust(s)",
                trusts.len()
            ),
            "MS-OAPX resource parameter; AD FS relying party trusts",
            match self.world.adfs.relying_party(relying_party) {
                Some(_) => Ok(()),
                None => Err(format!(
                    "AD FS has no relying party trust for \"{relying_party}\" (MSIS7007)"
                )),
            },
        );
    }

    pub(crate) fn mfa_decision(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        match self.world.azure_ad.last_mfa {
            Some(t) if self.now.since(t) < MFA_FRESHNESS => {
                self.state.mfa_needed = false;
                out.note(format!(
                    "The last MFA was {} ago, at {}: less than {MFA_FRESHNESS}, so it still counts and the user is not prompted.",
                    self.now.since(t),
                    t
                ));
            }
            Some(t) => {
                self.state.mfa_needed = true;
                out.note(format!(
                    "The last MFA was {} ago: more than {MFA_FRESHNESS}, so a new second factor is needed.",
                    self.now.since(t)
                ));
            }
            None => {
                self.state.mfa_needed = true;
                out.note("There is no recent MFA for this user: a second factor is needed.");
            }
        }
        Ok(out)
    }

    fn skip_unless_mfa_needed(&self, out: &mut StepOutput) -> bool {
        if self.state.mfa_needed {
            return false;
        }
        out.skipped = Some("the last MFA is still fresh, so there is no prompt".into());
        true
    }

    pub(crate) fn mfa_challenge(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.skip_unless_mfa_needed(&mut out) {
            return Ok(out);
        }
        let number = 10 + self.world.seed.bytes::<1>("mfa/number")[0] % 90;
        let challenge = json!({
            "user": self.world.user.upn,
            "method": "Authenticator app, number matching",
            "number_to_match": number,
            "context": "Windows Hello for Business provisioning",
            "requested_at": self.now.to_string(),
        });
        self.put(
            wire::MFA_CHALLENGE,
            serde_json::to_vec(&challenge).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::MFA_CHALLENGE,
            "MFA challenge",
            &challenge,
            Some("the MFA service's protocol is not public"),
        ));
        Ok(out)
    }

    pub(crate) fn mfa_prompt(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.skip_unless_mfa_needed(&mut out) {
            return Ok(out);
        }
        let challenge: Value = serde_json::from_slice(&self.take(wire::MFA_CHALLENGE)?)
            .map_err(|e| Error::malformed("MFA challenge", e.to_string()))?;
        out.note(format!(
            "The phone shows a sign-in request for {} and asks for the number {} shown on screen.",
            self.world.user.upn,
            challenge
                .get("number_to_match")
                .cloned()
                .unwrap_or(Value::Null)
        ));
        Ok(out)
    }

    pub(crate) fn mfa_approve(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.skip_unless_mfa_needed(&mut out) {
            return Ok(out);
        }
        out.note("The user approves on the phone after matching the number.");
        out.took = SimDuration::seconds(15);
        Ok(out)
    }

    pub(crate) fn mfa_result(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.skip_unless_mfa_needed(&mut out) {
            return Ok(out);
        }
        self.world.azure_ad.last_mfa = Some(self.now);
        let result = json!({
            "user": self.world.user.upn,
            "result": "success",
            "method": "Authenticator app, number matching",
            "completed_at": self.now.to_string(),
            "completed_at_unix": self.now.unix_seconds(),
        });
        self.put(
            wire::MFA_RESULT,
            serde_json::to_vec(&result).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::MFA_RESULT,
            "MFA result",
            &result,
            Some("the MFA service's protocol is not public"),
        ));
        Ok(out)
    }

    /// The time of the MFA that the issuer vouches for.
    fn mfa_time(&self) -> Option<SimTime> {
        self.world.azure_ad.last_mfa
    }

    pub(crate) fn issue_access_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let now = self.now;
        let issuer_is_adfs = self.topo.token_issuer == Actor::AdFs;
        // The issuer refuses to vouch for a stale second factor.
        let mfa = self.mfa_time();
        out.check(
            self.topo.token_issuer,
            "Second factor done",
            "time of the last MFA against now: less than 10 minutes",
            mfa_rule(issuer_is_adfs),
            mfa_fresh(now, mfa.map(SimTime::unix_seconds)),
        );
        if !out.ok() {
            return Ok(out);
        }
        let user = &self.world.user;
        let amr: Vec<&str> = match (issuer_is_adfs, self.flow.info().sign_in) {
            (true, _) => vec!["pwd", "mfa", "ngcmfa"],
            (false, crate::catalog::SignIn::Federated) => vec!["fed", "mfa", "ngcmfa"],
            (false, crate::catalog::SignIn::Managed) => vec!["pwd", "mfa", "ngcmfa"],
        };
        let (issuer, audience, purpose) = if issuer_is_adfs {
            (
                ADFS_ISSUER.to_string(),
                EDRS_AUDIENCE,
                KeyPurpose::AdFsTokenSigning,
            )
        } else {
            (
                self.world.tenant.azure_issuer(),
                ADRS_AUDIENCE,
                KeyPurpose::AzureAdTokenSigning,
            )
        };
        let mut body = claims(json!({
            "aud": audience,
            "iss": issuer,
            "iat": now.unix_seconds(),
            "nbf": now.unix_seconds(),
            "exp": now.plus(TOKEN_LIFETIME).unix_seconds(),
            "amr": amr,
            "auth_time": mfa.map(SimTime::unix_seconds),
            "appid": DRS_CLIENT_ID,
            "deviceid": self.device_id()?.to_string(),
            "upn": user.upn,
            "unique_name": user.upn,
        }));
        if !issuer_is_adfs {
            body.insert("oid".into(), json!(user.object_id.to_string()));
            body.insert("tid".into(), json!(self.world.tenant.id.to_string()));
            // What the registration service may do with the token; Entra ID's
            // DRS tokens carry it (roadtx shows "adrs_access").
            body.insert("scp".into(), json!("adrs_access"));
            // A user synchronised from AD carries the on-premises SID.
            if self.flow.info().deployment == crate::catalog::Deployment::Hybrid {
                body.insert("onprem_sid".into(), json!(user.sid));
            }
        }
        let key = self.world.keys.key(purpose)?.clone();
        let token = jws::sign(&body, &key)?;
        self.put(wire::ACCESS_TOKEN, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::ACCESS_TOKEN,
            if issuer_is_adfs {
                "EDRS access token"
            } else {
                "ADRS access token"
            },
            &token,
            None,
        ));
        self.state.wam_token = out.ok();
        Ok(out)
    }

    pub(crate) fn deliver_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let token = self.take_text(wire::ACCESS_TOKEN)?;
        // The app only reads what it needs; the registration service does the checking.
        match Jws::parse(&token) {
            Ok(jws) => out.note(format!(
                "The app now holds a token for {:?}, valid until {}.",
                jws.audiences(),
                jws.number_claim("exp")
                    .map_or("(no expiry)".into(), |t| SimTime::from_unix_seconds(t)
                        .to_string())
            )),
            Err(e) => out.note(format!("The app holds a token it cannot read: {e}.")),
        }
        self.state.app_token = true;
        Ok(out)
    }
}
