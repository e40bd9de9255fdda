//! Phase R: the device joins Microsoft Entra ID before anyone provisions.
//!
//! The join request and response are MS-DVRJ's (3.1.5.1.1.1 and
//! 3.1.5.1.1.2), sent to the cloud service the way public implementations
//! of the protocol send them (ROADtools' `roadtx device register`:
//! `POST https://enterpriseregistration.windows.net/EnrollmentServer/device/?api-version=2.0`
//! with the access token as bearer). The service's side reads only what
//! arrived on the wire and its own state: the token against Entra ID's
//! published keys, the certificate request against the key inside it, the
//! transport key as a BCRYPT blob.

use super::tokens::{check_password, claims, TokenRules};
use super::wire::{bcrypt_artifact, json_artifact, jwt_artifact, unb64};
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::device::{public_artifact, Joined};
use crate::enterprise_pki::{certificate_artifact, request_artifact};
use crate::error::{Error, Result};
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::encoding::{base64, hex_upper};
use crate::formats::jws;
use crate::pki::{self, DeviceFacts};
use crate::seed::KeyPurpose;
use crate::world::{RegisteredDevice, ADRS_AUDIENCE, DRS_CLIENT_ID};
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::Digest;

use super::wire::join as wire;

/// The subject a device's join request carries: a placeholder, since the
/// service names the device (the value ROADtools sends).
const PLACEHOLDER_SUBJECT: &str = "7E980AD9-B86D-4306-9425-9AC066FB014A";
/// The registration service's host, the request's TargetDomain.
pub(crate) const DRS_HOST: &str = "enterpriseregistration.windows.net";
/// The Windows version the device reports (Windows 11 24H2).
pub(crate) const OS_VERSION: &str = "10.0.26100.2314";
/// MS-DVRJ's JoinType of a join (ROADtools: 0 join, 4 register, 6 hybrid).
const JOIN_TYPE_JOIN: u64 = 0;
/// MS-DVRJ's JoinType of a hybrid join (AADInternals: 0 join, 4 register,
/// 6 hybrid join).
pub(crate) const JOIN_TYPE_HYBRID: u64 = 6;
/// Lifetime of the join's access token.
const TOKEN_LIFETIME: SimDuration = SimDuration::minutes(60);
/// The well-known SID of the local Administrators group.
const LOCAL_ADMINISTRATORS: &str = "S-1-5-32-544";

/// What the registration service accepted from a join request, kept
/// between its check and the device object it creates.
#[derive(Clone, Debug)]
pub(crate) struct AcceptedJoin {
    pub device_key: RsaPublicKey,
    pub transport_key: RsaPublicKey,
    pub display_name: String,
    /// The user who joined the device (UPN, object ID); none for a hybrid
    /// join, which the computer performs on its own.
    pub user: Option<(String, String)>,
    /// The device ID the request named (a hybrid join's device picks its
    /// own); none when the service is to pick one.
    pub device_id: Option<crate::formats::guid::Guid>,
    /// The computer's SID, for a hybrid join.
    pub on_prem_sid: Option<String>,
}

/// The request's JoinType against the one this service expects here.
pub(crate) fn check_join_type(
    out: &mut StepOutput,
    drs: Actor,
    body: &Value,
    expected: u64,
    named: &str,
) {
    let join_type = body["JoinType"].as_u64();
    out.check(
        drs,
        "Join type",
        format!(
            "JoinType {}",
            join_type.map_or("(none)".into(), |t| t.to_string())
        ),
        "MS-DVRJ 3.1.5.1.1.1",
        if join_type == Some(expected) {
            Ok(())
        } else {
            Err(format!("JoinType must be {expected} ({named}) here"))
        },
    );
}

/// An Entra object's SID (S-1-12-1-…) from its object ID: the GUID's 16
/// bytes as four little-endian 32-bit numbers.
fn cloud_sid(object_id: crate::formats::guid::Guid) -> String {
    let b = object_id.to_dotnet_bytes();
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    format!("S-1-12-1-{}-{}-{}-{}", word(0), word(4), word(8), word(12))
}

impl Run {
    pub(crate) fn start_join(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        out.note(format!(
            "The user types {} and the account's password into the setup screens.",
            self.world.user.upn
        ));
        out.took = SimDuration::seconds(20);
        Ok(out)
    }

    /// The user's sign-in for the join: the setup screens send the password
    /// to Entra ID and get an access token for the registration service.
    pub(crate) fn join_sign_in(&mut self) -> Result<StepOutput> {
        if self.join_goes_through_ad_fs() {
            return self.federated_join_sign_in();
        }
        let mut out = StepOutput::default();
        let user = self.world.user.clone();
        let request = json!({
            "grant_type": "password",
            "client_id": DRS_CLIENT_ID,
            "resource": ADRS_AUDIENCE,
            "username": user.upn,
            "password": user.password,
        });
        self.put(
            wire::JOIN_TOKEN_REQUEST,
            serde_json::to_vec(&request)
                .map_err(|e| Error::malformed("join token request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::JOIN_TOKEN_REQUEST,
            "Token request for the join",
            &request,
            Some("the setup screens sign in through web pages; this is the OAuth 2.0 password grant (RFC 6749 §4.3) that public tools use to get the same token, shown as JSON (it travels form-encoded)"),
        ));

        // Entra ID's side: only what arrived.
        let Some(body) = self.take_json(
            wire::JOIN_TOKEN_REQUEST,
            &mut out,
            Actor::AzureAd,
            "Request is well formed",
            "RFC 6749 §4.3.2",
        )?
        else {
            return Ok(out);
        };
        let text = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (username, password, resource) = (text("username"), text("password"), text("resource"));
        let account = &self.world.user;
        out.check_eq(
            Actor::AzureAd,
            "Account exists",
            format!("username \"{username}\" against the tenant's users"),
            "RFC 6749 §4.3.2",
            ("the user", account.upn.as_str(), username.as_str()),
        );
        check_password(
            &mut out,
            Actor::AzureAd,
            "Entra ID",
            "sent",
            account,
            &password,
        );
        out.check_eq(
            Actor::AzureAd,
            "Resource is the registration service",
            format!("resource \"{resource}\""),
            "RFC 6749 §4.3.2; MS-OAPX resource parameter",
            ("the resource", ADRS_AUDIENCE, resource.as_str()),
        );
        if !out.ok() {
            return Ok(out);
        }
        let now = self.now;
        let token_claims = claims(json!({
            "aud": ADRS_AUDIENCE,
            "iss": self.world.tenant.azure_issuer(),
            "iat": now.unix_seconds(),
            "nbf": now.unix_seconds(),
            "exp": now.plus(TOKEN_LIFETIME).unix_seconds(),
            "amr": ["pwd"],
            "appid": DRS_CLIENT_ID,
            "scp": "adrs_access",
            "oid": account.object_id.to_string(),
            "tid": self.world.tenant.id.to_string(),
            "upn": account.upn,
            "unique_name": account.upn,
        }));
        let key = self
            .world
            .keys
            .key(KeyPurpose::AzureAdTokenSigning)?
            .clone();
        let token = jws::sign(&token_claims, &key)?;
        self.put(wire::JOIN_TOKEN, token.clone().into_bytes());
        out.artifact(jwt_artifact(
            wire::JOIN_TOKEN,
            "Access token for the registration service",
            &token,
            None,
        ));
        out.took = SimDuration::seconds(2);
        Ok(out)
    }

    /// The device key and the transport key in the TPM.
    pub(crate) fn create_device_keys(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let keys = self.world.device.keys()?;
        out.tpm.extend(keys.trace.iter().cloned());
        out.artifact(public_artifact(
            "device-key-public",
            "Device key (TPM2B_PUBLIC)",
            &keys.device_key_public(),
        ));
        out.artifact(public_artifact(
            "transport-key-public",
            "Transport key (TPM2B_PUBLIC)",
            &keys.transport_key_public(),
        ));

        out.took = SimDuration::seconds(2);
        Ok(out)
    }

    /// The PKCS#10 request for the device key, signed in the TPM.
    pub(crate) fn sign_device_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let public = self.world.device.keys()?.device_public.clone();
        let now = self.now;
        let mut tpm_log = Vec::new();
        let device = &mut self.world.device;
        let csr = pki::build_plain_request(PLACEHOLDER_SUBJECT, &public, |info| {
            device.sign_with_device_key(info, now, &mut tpm_log)
        })?;
        out.tpm.extend(tpm_log);
        self.put(wire::DEVICE_CSR, csr.clone());
        out.artifact(request_artifact(
            wire::DEVICE_CSR,
            "Certificate request for the device key (PKCS#10)",
            &csr,
        ));
        Ok(out)
    }

    /// The join request: MS-DVRJ 3.1.5.1.1.1's body.
    pub(crate) fn enroll_device(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let csr = self.take(wire::DEVICE_CSR)?;
        let transport =
            BcryptRsaPublicBlob::from_public_key(&self.world.device.keys()?.transport_public)?
                .to_bytes();
        if self.synced_join() {
            return self.enroll_hybrid_device(csr, transport);
        }
        let body = json!({
            "CertificateRequest": { "Type": "pkcs10", "Data": base64(&csr) },
            "TransportKey": base64(&transport),
            "TargetDomain": if self.enterprise_join() { crate::world::EDRS_HOST } else { DRS_HOST },
            "DeviceType": "Windows",
            "OSVersion": OS_VERSION,
            "DeviceDisplayName": self.world.device.name,
            "JoinType": if self.computer_joins() { JOIN_TYPE_HYBRID } else { JOIN_TYPE_JOIN },
            "attributes": { "ReuseDevice": "true", "ReturnClientSid": "true" },
        });
        self.put(
            wire::JOIN_REQUEST,
            serde_json::to_vec(&body)
                .map_err(|e| Error::malformed("join request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::JOIN_REQUEST,
            "Join request (MS-DVRJ)",
            &body,
            None,
        ));
        out.artifact(bcrypt_artifact(
            "transport-key-blob",
            "Transport key (BCRYPT_RSAPUBLIC_BLOB)",
            &transport,
        ));
        let endpoint = match &self.state.edrs_join {
            Some((endpoint, _)) if self.enterprise_join() => format!("{endpoint}?api-version=1.0"),
            _ => format!("https://{DRS_HOST}/EnrollmentServer/device/?api-version=2.0"),
        };
        out.note(format!(
            "POST {endpoint}, with the access token in the Authorization header as a bearer token."
        ));
        Ok(out)
    }

    /// The registration service checks the token and the request.
    pub(crate) fn validate_device_enrollment(&mut self) -> Result<StepOutput> {
        if self.synced_join() {
            return self.validate_hybrid_enrollment();
        }
        let mut out = StepOutput::default();
        let drs = self.topo.drs;
        // On premises AD FS issued the token for the Enterprise DRS;
        // elsewhere Entra ID for its registration service.
        let (purpose, issuer, issuer_name, audience) = if self.enterprise_join() {
            (
                KeyPurpose::AdFsTokenSigning,
                crate::world::ADFS_ISSUER.to_string(),
                "AD FS",
                crate::world::EDRS_AUDIENCE,
            )
        } else {
            (
                KeyPurpose::AzureAdTokenSigning,
                self.world.tenant.azure_issuer(),
                "Entra ID",
                ADRS_AUDIENCE,
            )
        };
        let issuer_keys = self.published_keys(purpose, &mut out)?;
        let token = self.take_text(wire::JOIN_TOKEN)?;
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
        let Some(body) = self.take_json(
            wire::JOIN_REQUEST,
            &mut out,
            drs,
            "Request is well formed",
            "MS-DVRJ 3.1.5.1.1.1",
        )?
        else {
            return Ok(out);
        };
        let keys = self.check_join_keys(
            &mut out,
            &body["CertificateRequest"],
            body["TransportKey"].as_str(),
        );
        // A computer's token asks for a hybrid join, a user's for a join.
        let (expected, named) = if self.computer_joins() {
            (JOIN_TYPE_HYBRID, "domain join")
        } else {
            (JOIN_TYPE_JOIN, "join")
        };
        let computer = if self.computer_joins() {
            self.check_computer_token(&mut out, &jws)
        } else {
            None
        };
        let on_prem_sid = computer.as_ref().map(|(sid, _)| sid.clone());
        let on_prem_guid = computer.and_then(|(_, guid)| guid);
        check_join_type(&mut out, drs, &body, expected, named);
        if let (true, Some((device_key, transport_key))) = (out.ok(), keys) {
            self.state.accepted_join = Some(AcceptedJoin {
                device_key,
                transport_key,
                display_name: body["DeviceDisplayName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                user: on_prem_sid.is_none().then(|| {
                    (
                        jws.string_claim("upn").unwrap_or_default().to_string(),
                        jws.string_claim("oid").unwrap_or_default().to_string(),
                    )
                }),
                // MS-DVRJ 3.1.5.1.1.3: on premises the device object is
                // named by the computer's objectGUID.
                device_id: on_prem_guid.filter(|_| self.enterprise_join()),
                on_prem_sid,
            });
        }
        Ok(out)
    }

    /// The checks every join makes of the certificate request and the
    /// transport key: the device key and the transport key, if both hold.
    pub(crate) fn check_join_keys(
        &mut self,
        out: &mut StepOutput,
        certificate_request: &Value,
        transport_key: Option<&str>,
    ) -> Option<(RsaPublicKey, RsaPublicKey)> {
        let drs = self.topo.drs;
        let csr_type = certificate_request["Type"].as_str().unwrap_or_default();
        out.check_eq(
            drs,
            "Certificate request type",
            format!("CertificateRequest.Type \"{csr_type}\""),
            "MS-DVRJ 3.1.5.1.1.1",
            ("the type", "pkcs10", csr_type),
        );
        let device_key = match unb64(
            "CertificateRequest.Data",
            certificate_request["Data"].as_str(),
        )
        .and_then(|der| pki::verify_request(&der))
        {
            Ok(key) => Some(key),
            Err(e) => {
                out.check(
                    drs,
                    "Certificate request signature",
                    "the PKCS#10 signature, verified with the key inside the request",
                    "RFC 2986 §3; MS-DVRJ 3.1.5.1.1.1",
                    Err(e.to_string()),
                );
                None
            }
        };
        if let Some(key) = &device_key {
            out.check(
                drs,
                "Certificate request signature",
                "the PKCS#10 signature, verified with the key inside the request",
                "RFC 2986 §3; MS-DVRJ 3.1.5.1.1.1",
                Ok(()),
            );
            let bits = key.n().bits();
            out.check(
                drs,
                "Device key is RSA-2048",
                format!("a {bits}-bit RSA key, signed with sha256WithRSAEncryption"),
                "MS-DVRJ 3.1.5.1.1.1",
                if bits == 2048 {
                    Ok(())
                } else {
                    Err(format!(
                        "the key has {bits} bits; the service accepts RSA-2048 only"
                    ))
                },
            );
        }
        let transport = unb64("TransportKey", transport_key)
            .and_then(|bytes| BcryptRsaPublicBlob::parse(&bytes))
            .and_then(|blob| {
                if blob.bit_length() == 2048 {
                    blob.to_public_key()
                } else {
                    Err(Error::invalid(
                        "TransportKey",
                        format!("an RSA key of {} bits, not 2048", blob.bit_length()),
                    ))
                }
            });
        out.check(
            drs,
            "Transport key",
            "TransportKey: base64 of a BCRYPT_RSAPUBLIC_BLOB holding an RSA-2048 key",
            "MS-DVRJ 3.1.5.1.1.1; bcrypt.h BCRYPT_RSAKEY_BLOB",
            transport.as_ref().map(|_| ()).map_err(|e| e.to_string()),
        );
        match (device_key, transport) {
            (Some(d), Ok(t)) => Some((d, t)),
            _ => None,
        }
    }

    /// The service issues the device certificate and creates the device
    /// object in Entra ID.
    pub(crate) fn create_device_object(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let accepted = self.state.accepted_join.clone().ok_or_else(|| {
            Error::Usage("the registration service accepted no join request".into())
        })?;
        let device_id = accepted
            .device_id
            .unwrap_or_else(|| self.world.new_device_id());
        let user_object_id = match &accepted.user {
            Some((_, oid)) => Some(crate::formats::guid::Guid::parse(oid)?),
            None => None,
        };
        let on_premises = self.enterprise_join();
        let (ca_cert, ca_key) = if on_premises {
            (
                self.world.enterprise_device_ca_certificate()?,
                self.world.keys.key(KeyPurpose::EnterpriseDeviceCa)?.clone(),
            )
        } else {
            (
                self.world.device_ca_certificate()?,
                self.world.keys.key(KeyPurpose::DeviceCa)?.clone(),
            )
        };
        let facts = if on_premises {
            // The authenticating account is the computer, whose objectGUID
            // is the device ID (MS-DVRJ 3.1.5.1.1.3).
            DeviceFacts {
                device_id,
                user_object_id: Some(device_id),
                tenant_id: None,
                domain_id: Some(self.world.domain_guid()),
            }
        } else {
            DeviceFacts {
                device_id,
                user_object_id,
                tenant_id: Some(self.world.tenant.id),
                domain_id: None,
            }
        };
        let cert = pki::issue_device_certificate(
            &ca_key,
            &ca_cert,
            &accepted.device_key,
            facts,
            self.now,
        )?;
        self.put(wire::DEVICE_CERTIFICATE, cert.clone());
        if on_premises {
            let owner = accepted.on_prem_sid.clone().unwrap_or_default();
            let object = super::enterprise_join::device_object(
                self,
                device_id,
                &accepted.display_name,
                &owner,
                &cert,
                &accepted.device_key,
                OS_VERSION,
            )?;
            self.world.directory.devices.push(RegisteredDevice {
                id: device_id,
                name: accepted.display_name.clone(),
                public_key: accepted.device_key,
                transport_key: Some(accepted.transport_key),
                registered_by: None,
                enabled: true,
            });
            out.artifact(json_artifact(
                "device-object",
                "Device object in Active Directory (msDS-Device)",
                &object,
                Some("the attributes are those MS-DVRJ 3.1.5.1.1.3 has the service write (msDS-KeyCredentialLink with the transport key is left out); shown as JSON"),
            ));
            out.artifact(certificate_artifact(
                "device-ca-certificate",
                "Enterprise DRS device CA certificate (MS-Organization-Access)",
                &ca_cert,
                Some("the issuer's form is MS-DVRJ's example (the domain's components, CN=MS-Organization-Access, an OU naming the service); its key and certificate are this run's"),
            ));
            out.artifact(certificate_artifact(
                wire::DEVICE_CERTIFICATE,
                "Device certificate",
                &cert,
                None,
            ));
            return Ok(out);
        }
        let hybrid = self.hybrid_join();
        let mut object = json!({
            "deviceId": device_id.to_string(),
            "displayName": accepted.display_name,
            "operatingSystem": "Windows",
            "operatingSystemVersion": OS_VERSION,
            "trustType": if hybrid { "ServerAd" } else { "AzureAd" },
            "accountEnabled": true,
            "registrationDateTime": self.now.to_string(),
        });
        if let Some((upn, _)) = &accepted.user {
            object["registeredOwners"] = json!([upn]);
        }
        // A hybrid join completes the device object Entra Connect created.
        if let Some(pos) = self
            .world
            .azure_ad
            .synced_computers
            .iter()
            .position(|c| c.device_id == device_id)
        {
            let synced = self.world.azure_ad.synced_computers.remove(pos);
            object["onPremisesSecurityIdentifier"] = json!(synced.sid);
        }
        if let Some(sid) = &accepted.on_prem_sid {
            object["onPremisesSecurityIdentifier"] = json!(sid);
        }
        self.world.azure_ad.devices.push(RegisteredDevice {
            id: device_id,
            name: accepted.display_name.clone(),
            public_key: accepted.device_key,
            transport_key: Some(accepted.transport_key),
            registered_by: accepted.user.map(|(upn, _)| upn),
            enabled: true,
        });
        out.artifact(json_artifact(
            "device-object",
            "Device object in Entra ID",
            &object,
            Some("the properties are Microsoft Graph's device resource; the device key and transport key are held with it, as the service's records are not public"),
        ));
        out.artifact(certificate_artifact(
            "device-ca-certificate",
            "Device CA certificate (MS-Organization-Access)",
            &ca_cert,
            Some("the CA's name is the one on every Microsoft Entra device certificate; its key and certificate are this run's"),
        ));
        out.artifact(certificate_artifact(
            wire::DEVICE_CERTIFICATE,
            "Device certificate",
            &cert,
            None,
        ));
        Ok(out)
    }

    /// MS-DVRJ 3.1.5.1.1.2's response.
    pub(crate) fn return_device_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let cert = self.take(wire::DEVICE_CERTIFICATE)?;
        let mut response = json!({
            "Certificate": {
                "Thumbprint": hex_upper(&Sha1::digest(&cert)),
                "RawBody": base64(&cert),
            },
        });
        if self.enterprise_join() {
            // MS-DVRJ 4.1's example: the computer account is the user.
            let computer = &self.world.directory.computer;
            response["User"] = json!({
                "Upn": format!("{}@{}", computer.sam_account_name, self.world.tenant.domain)
            });
        } else if !self.hybrid_join() {
            // Local administrators on an Entra joined device: the Global
            // Administrator role and the Microsoft Entra Joined Device Local
            // Administrator role, by their SIDs (modelled: the role IDs are
            // this run's). A hybrid join names no user, and local
            // administrators stay the domain's business.
            let seed = self.world.seed;
            let admins = [
                cloud_sid(seed.guid("azure-ad/role/global-administrator")),
                cloud_sid(seed.guid("azure-ad/role/device-local-administrator")),
            ];
            response["User"] = json!({ "Upn": self.world.user.upn });
            response["MembershipChanges"] =
                json!({ "LocalSID": LOCAL_ADMINISTRATORS, "AddSIDs": admins });
            out.note("MembershipChanges makes the tenant's Global Administrator and Microsoft Entra Joined Device Local Administrator roles members of the device's local Administrators group; the role SIDs here are this run's.");
        }
        self.put(
            wire::JOIN_RESPONSE,
            serde_json::to_vec(&response)
                .map_err(|e| Error::malformed("join response", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::JOIN_RESPONSE,
            "Join response (MS-DVRJ)",
            &response,
            None,
        ));
        Ok(out)
    }

    /// The device checks the certificate it was given and installs it.
    pub(crate) fn install_device_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let device = Actor::Cxh;
        let Some(body) = self.take_json(
            wire::JOIN_RESPONSE,
            &mut out,
            device,
            "Response is well formed",
            "MS-DVRJ 3.1.5.1.1.2",
        )?
        else {
            return Ok(out);
        };
        let der = match unb64(
            "Certificate.RawBody",
            body["Certificate"]["RawBody"].as_str(),
        ) {
            Ok(der) => der,
            Err(e) => {
                out.check(
                    device,
                    "Certificate is there",
                    "Certificate.RawBody",
                    "MS-DVRJ 3.1.5.1.1.2",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let thumbprint = body["Certificate"]["Thumbprint"]
            .as_str()
            .unwrap_or_default();
        let computed = hex_upper(&Sha1::digest(&der));
        out.check(
            device,
            "Thumbprint",
            format!("Thumbprint {thumbprint} against SHA-1 of RawBody, {computed}"),
            "MS-DVRJ 3.1.5.1.1.2",
            if thumbprint.eq_ignore_ascii_case(&computed) {
                Ok(())
            } else {
                Err("the thumbprint is not the SHA-1 of the certificate that came with it".into())
            },
        );
        let read = match pki::read_device_certificate(&der) {
            Ok(read) => read,
            Err(e) => {
                out.check(
                    device,
                    "Device certificate reads",
                    "X.509 with the device ID extension",
                    "RFC 5280; MS-DVRJ 3.1.5.1.1.3",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let own = &self.world.device.keys()?.device_public;
        out.check(
            device,
            "Certifies the device key",
            "the certificate's public key against the device key in the TPM",
            "RFC 5280 §4.1.2.7",
            if &read.public_key == own {
                Ok(())
            } else {
                Err("the certificate certifies another key, not this device's".into())
            },
        );
        out.check(
            device,
            "Names the device",
            format!(
                "subject CN \"{}\" against the device ID extension {}",
                read.subject_cn, read.device_id
            ),
            "MS-DVRJ 3.1.5.1.1.3 (1.2.840.113556.1.5.284.2)",
            if read
                .subject_cn
                .eq_ignore_ascii_case(&read.device_id.to_string())
            {
                Ok(())
            } else {
                Err("the subject and the device ID extension name different devices".into())
            },
        );
        // On premises no tenant is named: the domain's ID is.
        if !self.enterprise_join() {
            out.check(
                device,
                "Issued for this tenant",
                format!(
                    "tenant ID extension {} against the tenant joined, {}",
                    read.tenant_id.map_or("(none)".into(), |t| t.to_string()),
                    self.world.tenant.id
                ),
                "Entra ID: Tenant ID (1.2.840.113556.1.5.284.5)",
                if read.tenant_id == Some(self.world.tenant.id) {
                    Ok(())
                } else {
                    Err("the certificate is for another tenant".into())
                },
            );
        }
        if !out.ok() {
            return Ok(out);
        }
        let entry = self.world.device.install_machine_certificate(&der)?;
        self.world.device.join(Joined {
            id: read.device_id,
            certificate: Some(der),
        });
        out.artifact(json_artifact(
            "device-certificate-store",
            "Device certificate in the computer's store",
            &entry,
            Some("the store entry's fields are what certlm.msc shows"),
        ));
        out.note(format!(
            "The device is Microsoft Entra {} as {}.",
            if self.hybrid_join() {
                "hybrid joined"
            } else {
                "joined"
            },
            read.device_id
        ));
        Ok(out)
    }
}
