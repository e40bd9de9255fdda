//! Phase R in a federated domain: AD FS signs in whoever joins (the user at
//! the setup screens of a Microsoft Entra join, or the computer itself for a
//! hybrid join) and Entra ID trades AD FS's token for an access token to its
//! registration service.
//!
//! For a computer, Microsoft's hybrid join configuration for federated
//! domains names what AD FS must vouch for: integrated Windows
//! authentication at the WS-Trust `windowstransport` endpoint, and the
//! claims `accounttype` = `DJ` (issued for members of Domain Computers,
//! the group whose SID ends in -515), `onpremobjectguid` (the computer's
//! objectGUID), `primarysid` (its objectSid) and `issuerid`. AD FS sends
//! Entra ID a SAML assertion; as in phase A, it is shown as a JWT with the
//! same claims. The join request that follows is MS-DVRJ's with `JoinType`
//! 6 and the computer's token as bearer (AADInternals' hybrid join with a
//! federation token).

use super::tokens::{check_password, claims, TokenRules};
use super::wire::join as wire;
use super::wire::{json_artifact, jwt_artifact};
use super::{Run, StepOutput};
use crate::catalog::{Actor, Deployment, SignIn};
use crate::clock::SimDuration;
use crate::error::{Error, Result};
use crate::formats::encoding::base64;
use crate::formats::jws::{self, Jws};
use crate::seed::KeyPurpose;
use crate::world::{ADFS_ISSUER, ADRS_AUDIENCE, AZURE_FEDERATION_AUDIENCE, DRS_CLIENT_ID};
use base64ct::Encoding;
use serde_json::json;

/// The claim types a computer's token carries (Microsoft's hybrid join
/// configuration, "Set up issuance of claims").
pub(crate) const ACCOUNT_TYPE: &str = "http://schemas.microsoft.com/ws/2012/01/accounttype";
pub(crate) const ON_PREM_OBJECT_GUID: &str =
    "http://schemas.microsoft.com/identity/claims/onpremobjectguid";
pub(crate) const PRIMARY_SID: &str =
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/primarysid";
const ISSUER_ID: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/issuerid";
/// The RID of Domain Computers, the group AD FS's claim rules match.
const DOMAIN_COMPUTERS_RID: &str = "-515";
/// Lifetime of AD FS's token and of Entra ID's.
const TOKEN_LIFETIME: SimDuration = SimDuration::minutes(60);

impl Run {
    /// Whether this run's join is a hybrid join that waits for the
    /// computer's sync (a managed domain).
    pub(crate) fn synced_join(&self) -> bool {
        let info = self.flow.info();
        info.deployment == Deployment::Hybrid && info.sign_in == SignIn::Managed
    }

    /// Whether AD FS signs in whoever joins.
    fn federated_join(&self) -> bool {
        self.flow.info().sign_in == SignIn::Federated
    }

    /// The federated join's sign-in at AD FS: the user's password, or the
    /// computer's own Kerberos identity.
    pub(crate) fn federated_join_sign_in(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let (caller, endpoint) = if self.computer_joins() {
            (Actor::Dsreg, "/adfs/services/trust/13/windowstransport")
        } else {
            (Actor::Cxh, "/adfs/services/trust/13/usernamemixed")
        };
        if !self.world.config.options.federation_available {
            out.check(
                caller,
                "Federation server reachable",
                format!("an answer from https://adfs.contoso.com{endpoint}"),
                "modelled",
                Err("AD FS did not answer (HTTP 503 Service Unavailable): without the federation server nobody can join".into()),
            );
            return Ok(out);
        }
        let computer = &self.world.directory.computer;
        // On premises the computer asks for the Enterprise DRS's resource
        // the discovery document named; elsewhere for Entra ID.
        let applies_to = match &self.state.edrs_join {
            Some((_, resource)) if self.enterprise_join() => resource.clone(),
            _ => AZURE_FEDERATION_AUDIENCE.to_string(),
        };
        let request = if self.computer_joins() {
            json!({
                "endpoint": format!("https://adfs.contoso.com{endpoint}"),
                "AppliesTo": applies_to,
                "authentication": "Negotiate (Kerberos)",
                "principal": format!("{}\\{}", self.world.tenant.netbios, computer.sam_account_name),
            })
        } else {
            // The owner types the account's password at setup; the
            // `password` condition is what the user types later, in phase A.
            let user = &self.world.user;
            let typed = user.password.clone();
            json!({
                "endpoint": format!("https://adfs.contoso.com{endpoint}"),
                "AppliesTo": AZURE_FEDERATION_AUDIENCE,
                "Username": user.upn,
                "Password": typed,
            })
        };
        self.put(
            wire::JOIN_TOKEN_REQUEST,
            serde_json::to_vec(&request)
                .map_err(|e| Error::malformed("WS-Trust request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::JOIN_TOKEN_REQUEST,
            "Token request to AD FS (WS-Trust)",
            &request,
            Some("a WS-Trust 1.3 RequestSecurityToken in a SOAP envelope; shown as JSON with the fields that matter"),
        ));
        // AD FS's side: the request as it came, and Active Directory.
        let Some(body) = self.take_json(
            wire::JOIN_TOKEN_REQUEST,
            &mut out,
            Actor::AdFs,
            "Request is well formed",
            "WS-Trust 1.3 §4.1",
        )?
        else {
            return Ok(out);
        };
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
        let now = self.now;
        let mut token_claims = json!({
            "iss": ADFS_ISSUER,
            "aud": text("AppliesTo"),
            "iat": now.unix_seconds(),
            "nbf": now.unix_seconds(),
            "exp": now.plus(TOKEN_LIFETIME).unix_seconds(),
        });
        if self.computer_joins() {
            let principal = text("principal");
            let computer = self.world.directory.computer.clone();
            let own = format!(
                "{}\\{}",
                self.world.tenant.netbios, computer.sam_account_name
            );
            let primary_group = format!(
                "{}{DOMAIN_COMPUTERS_RID}",
                computer
                    .sid
                    .rsplit_once('-')
                    .map_or("", |(domain, _)| domain)
            );
            out.check(
                Actor::AdFs,
                "The caller is a domain computer",
                format!("Kerberos principal {principal}: its groups must include Domain Computers ({primary_group})"),
                "Microsoft Entra hybrid join, federated: AD FS claim rules match group SIDs ending in -515",
                if principal.eq_ignore_ascii_case(&own) {
                    Ok(())
                } else {
                    Err(format!("{principal} is not a computer account of {}", self.world.tenant.domain))
                },
            );
            if !out.ok() {
                return Ok(out);
            }
            token_claims[ACCOUNT_TYPE] = json!("DJ");
            token_claims[ON_PREM_OBJECT_GUID] =
                json!(base64(&computer.object_guid.to_dotnet_bytes()));
            token_claims[PRIMARY_SID] = json!(computer.sid);
            token_claims[ISSUER_ID] = json!(format!(
                "http://{}/adfs/services/trust/",
                self.world.tenant.domain
            ));
            if self.enterprise_join() {
                token_claims[super::enterprise_join::PERMIT_DEVICE_REGISTRATION] = json!("true");
            }
        } else {
            let account = self.world.user.clone();
            let upn = text("Username");
            out.check_eq(
                Actor::AdFs,
                "Account exists",
                format!("Username \"{upn}\" against Active Directory"),
                "WS-Trust usernamemixed",
                ("the user", account.upn.as_str(), upn.as_str()),
            );
            check_password(
                &mut out,
                Actor::AdFs,
                "AD",
                "sent",
                &account,
                &text("Password"),
            );
            if !out.ok() {
                return Ok(out);
            }
            token_claims["upn"] = json!(account.upn);
            token_claims["ImmutableID"] = json!(base64(&account.object_id.to_dotnet_bytes()));
            token_claims["authnmethodsreferences"] = json!([
                "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"
            ]);
        }
        let key = self.world.keys.key(KeyPurpose::AdFsTokenSigning)?.clone();
        let token = jws::sign(&claims(token_claims), &key)?;
        if self.enterprise_join() {
            // On premises AD FS's token is the registration service's
            // access token: no exchange follows.
            self.put(wire::JOIN_TOKEN, token.clone().into_bytes());
            out.artifact(jwt_artifact(
                wire::JOIN_TOKEN,
                "AD FS token for the Enterprise DRS",
                &token,
                Some("the claims are MS-DVRJ 2.2.1's; the grant by which Windows asks AD FS for it is not documented, and is shown as the WS-Trust request of a hybrid join"),
            ));
            out.took = SimDuration::seconds(2);
            return Ok(out);
        }
        self.put(wire::JOIN_ENTERPRISE_TOKEN, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::JOIN_ENTERPRISE_TOKEN,
            if self.hybrid_join() {
                "AD FS token for the computer"
            } else {
                "AD FS token for the user"
            },
            &token,
            Some("AD FS sends Entra ID a SAML assertion here; it is shown as a JWT with the same claims"),
        ));
        out.took = SimDuration::seconds(2);
        Ok(out)
    }

    /// Entra ID checks AD FS's token and issues one for its registration
    /// service.
    pub(crate) fn exchange_join_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let token = self.take_text(wire::JOIN_ENTERPRISE_TOKEN)?;
        let adfs_keys = self.published_keys(KeyPurpose::AdFsTokenSigning, &mut out)?;
        let rules = TokenRules {
            actor: Actor::AzureAd,
            what: "AD FS token",
            issuer_keys: &adfs_keys,
            issuer_name: "AD FS token-signing (from the domain's federation settings)",
            issuer: ADFS_ISSUER,
            audience: AZURE_FEDERATION_AUDIENCE,
            now: self.now,
        };
        let Some(parsed) = rules.apply(&mut out, &token) else {
            return Ok(out);
        };
        let now = self.now;
        let mut token_claims = json!({
            "aud": ADRS_AUDIENCE,
            "iss": self.world.tenant.azure_issuer(),
            "iat": now.unix_seconds(),
            "nbf": now.unix_seconds(),
            "exp": now.plus(TOKEN_LIFETIME).unix_seconds(),
            "appid": DRS_CLIENT_ID,
            "scp": "adrs_access",
            "tid": self.world.tenant.id.to_string(),
        });
        if self.hybrid_join() {
            let kind = parsed
                .string_claim(ACCOUNT_TYPE)
                .unwrap_or_default()
                .to_string();
            let sid = parsed
                .string_claim(PRIMARY_SID)
                .unwrap_or_default()
                .to_string();
            let guid = parsed
                .string_claim(ON_PREM_OBJECT_GUID)
                .unwrap_or_default()
                .to_string();
            out.check(
                Actor::AzureAd,
                "A domain-joined computer",
                format!(
                    "accounttype \"{kind}\", primarysid \"{sid}\", onpremobjectguid \"{guid}\""
                ),
                "Microsoft Entra hybrid join, federated: the claims the registration service needs",
                if kind != "DJ" {
                    Err(format!(
                        "accounttype is \"{kind}\", not DJ: the token is not a domain computer's"
                    ))
                } else if sid.is_empty() || guid.is_empty() {
                    Err("the token lacks the computer's primarysid or onpremobjectguid".into())
                } else {
                    Ok(())
                },
            );
            token_claims["amr"] = json!(["wia"]);
            token_claims[ACCOUNT_TYPE] = json!(kind);
            token_claims[PRIMARY_SID] = json!(sid);
            token_claims[ON_PREM_OBJECT_GUID] = json!(guid);
        } else {
            let upn = parsed.string_claim("upn").unwrap_or_default().to_string();
            let user = self.world.user.clone();
            out.check_eq(
                Actor::AzureAd,
                "User is known",
                format!("upn \"{upn}\" against the synchronised user"),
                "federated domain sign-in",
                ("the user", user.upn.as_str(), upn.as_str()),
            );
            token_claims["amr"] = json!(["fed"]);
            token_claims["oid"] = json!(user.object_id.to_string());
            token_claims["upn"] = json!(user.upn);
            token_claims["unique_name"] = json!(user.upn);
        }
        if !out.ok() {
            return Ok(out);
        }
        let key = self
            .world
            .keys
            .key(KeyPurpose::AzureAdTokenSigning)?
            .clone();
        let token = jws::sign(&claims(token_claims), &key)?;
        self.put(wire::JOIN_TOKEN, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::JOIN_TOKEN,
            "Access token for the registration service",
            &token,
            if self.hybrid_join() {
                Some("Entra ID does not publish the claims of a computer's registration token: the computer's claims are carried over")
            } else {
                None
            },
        ));
        Ok(out)
    }

    /// Whether the computer joins on its own (hybrid join, or registration
    /// with the Enterprise DRS) rather than a user at setup.
    pub(crate) fn computer_joins(&self) -> bool {
        self.flow.info().deployment != Deployment::Cloud
    }

    /// What a domain join's token says of the computer: its SID and its
    /// objectGUID, once the token describes a domain-joined computer (and,
    /// on premises, may register a device).
    pub(crate) fn check_computer_token(
        &self,
        out: &mut StepOutput,
        token: &Jws,
    ) -> Option<(String, Option<crate::formats::guid::Guid>)> {
        let drs = self.topo.drs;
        let kind = token.string_claim(ACCOUNT_TYPE).unwrap_or_default();
        let sid = token
            .string_claim(PRIMARY_SID)
            .unwrap_or_default()
            .to_string();
        let guid = token
            .string_claim(ON_PREM_OBJECT_GUID)
            .ok()
            .and_then(|g| base64ct::Base64::decode_vec(g).ok())
            .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
            .map(crate::formats::guid::Guid::from_dotnet_bytes);
        let on_premises = self.enterprise_join();
        let permitted = token
            .string_claim(super::enterprise_join::PERMIT_DEVICE_REGISTRATION)
            .unwrap_or_default()
            == "true";
        out.check(
            drs,
            "The token is a domain computer's",
            format!(
                "accounttype \"{kind}\", primarysid \"{sid}\", onpremobjectguid {}{}",
                guid.map_or("(none)".into(), |g| g.to_string()),
                if on_premises {
                    format!(", PermitDeviceRegistrationClaim {permitted}")
                } else {
                    String::new()
                }
            ),
            if on_premises {
                "MS-DVRJ 2.2.1, 3.1.5.1.1.3"
            } else {
                "Microsoft Entra hybrid join, federated"
            },
            if kind != "DJ" || sid.is_empty() {
                Err("a domain join needs a domain-joined computer's token (accounttype DJ with its SID)".into())
            } else if on_premises && guid.is_none() {
                Err("the token lacks the computer's onpremobjectguid".into())
            } else if on_premises && !permitted {
                Err("the token does not permit device registration (PermitDeviceRegistrationClaim)".into())
            } else {
                Ok(())
            },
        );
        out.ok().then_some((sid, guid))
    }

    /// Used by the join's sign-in step to pick its form.
    pub(crate) fn join_goes_through_ad_fs(&self) -> bool {
        self.federated_join()
    }
}

impl Run {
    /// Microsoft Entra Connect's device writeback: the devices Entra ID
    /// holds that AD does not, written into AD as msDS-Device objects.
    pub(crate) fn write_back_device(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        self.world.sync.last_run = self.now;
        let known: Vec<_> = self.world.directory.devices.iter().map(|d| d.id).collect();
        let new: Vec<_> = self
            .world
            .azure_ad
            .devices
            .iter()
            .filter(|d| !known.contains(&d.id))
            .cloned()
            .collect();
        out.check(
            Actor::AadConnect,
            "A device to write back",
            format!(
                "{} device object(s) in Entra ID, {} of them not yet in AD",
                self.world.azure_ad.devices.len(),
                new.len()
            ),
            "Microsoft Entra Connect device writeback",
            if new.is_empty() {
                Err("Entra ID holds no device that AD lacks".into())
            } else {
                Ok(())
            },
        );
        for device in new {
            use rsa::pkcs8::EncodePublicKey;
            let spki = device
                .public_key
                .to_public_key_der()
                .map_err(|e| Error::Crypto(format!("encoding the device key: {e}")))?;
            let object = json!({
                "dn": format!("CN={},CN=RegisteredDevices,{}", device.id, self.world.tenant.domain_dn),
                "objectClass": ["top", "msDS-Device"],
                "msDS-DeviceID": base64(&device.id.to_dotnet_bytes()),
                "displayName": device.name,
                "msDS-IsEnabled": device.enabled,
                "msDS-DeviceOSType": "Windows",
                "devicePublicKey": base64(spki.as_bytes()),
            });
            out.artifact(json_artifact(
                "written-back-device",
                "Device object written back to AD (msDS-Device)",
                &object,
                Some("msDS-Device and its attributes are MS-ADSC's; which attributes device writeback fills, and where it keeps the device key (shown here as devicePublicKey, a SubjectPublicKeyInfo), are Microsoft Entra Connect's own"),
            ));
            self.world.directory.devices.push(device);
        }
        out.took = SimDuration::minutes(1);
        Ok(out)
    }
}
