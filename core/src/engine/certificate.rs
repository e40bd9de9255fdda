//! Phases D–G of certificate trust: the PKCS#10 request signed in the TPM,
//! the logon certificate request to AD FS (MS-OAPX 3.1.5.2.1.1), the
//! registration authority's checks and countersignature, the CA's issuance,
//! the certificate chain in AD FS's token response, and the certificate in
//! the user's store.

use super::join::DRS_HOST;
use super::registration::check_receipt;
use super::sync::find_key;
use super::wire::dn_binary_artifact;
use super::wire::json_artifact;
use super::wire::keys as keys_wire;
use super::wire::registration as reg_wire;
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::device;
use crate::enterprise_pki::{self, TEMPLATE_NAME};
use crate::error::{Error, Result};
use crate::flows::Feature;
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::encoding::base64;
use crate::formats::jws::{Jwk, JwkSet};
use crate::purpose::KeyPurpose;
use base64ct::{Base64, Encoding};
use serde_json::{json, Value};

/// Wire ids of the certificate phases' artifacts.
use super::wire::certificate as wire;

/// AD FS's token endpoint, where WAM sends the logon certificate request.
const TOKEN_ENDPOINT: &str = "https://adfs.contoso.com/adfs/oauth2/token";
/// MS-OAPX 3.1.5.2.1.1: the grant of on-behalf-of and logon certificate
/// requests.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const SAML_BEARER: &str = "urn:ietf:params:oauth:grant-type:saml1_1-bearer";
/// MS-OAPX 2.2.3.1: what a logon certificate request asks for.
const LOGON_CERT: &str = "logon_cert";
/// MS-OAPX 2.2.3.6: the only csr_type AD FS supports.
const CSR_TYPE_PKCS10: &str = "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10";
/// The resource and scope Windows asks AD FS for when it enrolls a Windows
/// Hello for Business certificate (as AD FS and client logs show them).
const WINHELLO_RESOURCE: &str = "urn:microsoft:winhello:cert:prov:server";
const WINHELLO_SCOPE: &str = "winhello_cert";
/// AD FS's error when a request's key is neither in AD nor vouched for by a
/// valid key receipt.
const MSIS9711: &str = "MSIS9711 (0xCAA20002)";

impl Run {
    fn user_key(&self) -> Result<device::LoadedKey> {
        self.state
            .user_key
            .as_ref()
            .map(|k| k.loaded.clone())
            .ok_or_else(|| Error::Usage("the user key is not loaded".into()))
    }

    pub(crate) fn sign_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let loaded = self.user_key()?;
        let public = device::rsa_public_key(&self.take(keys_wire::USER_KEY_PUBLIC)?)?;
        let pin = self.world.config.options.pin.clone();
        let now = self.now;
        let mut log = Vec::new();
        let device = &mut self.world.device;
        let csr = enterprise_pki::build_request(&self.world.user.upn, &public, |info| {
            device.sign_with_user_key(&loaded, info, &pin, now, &mut log)
        });
        out.tpm.extend(log);
        let csr = match csr {
            Ok(c) => c,
            Err(e) => {
                out.check(
                    Actor::Tpm,
                    "TPM signs the request",
                    "TPM2_Sign with the user key, authorised by the PIN",
                    "TPM 2.0 Part 3 §20.2",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        self.put(wire::CSR, csr.clone());
        out.artifact(enterprise_pki::request_artifact(
            wire::CSR,
            "PKCS#10 certificate request",
            &csr,
        ));
        out.note("The CertificationRequestInfo was hashed with SHA-256 and signed by TPM2_Sign: the signature in the request comes from the TPM, with the PIN as authorisation.");
        Ok(out)
    }

    /// The AD FS token WAM holds from phase A, which authenticates the
    /// logon certificate request, with its grant type and audience: the
    /// registration service's access token (a JWT) where AD FS issued it
    /// (on premises); in a federated domain, the SAML assertion AD FS
    /// issued for Entra ID at the MFA sign-in, base64 as the SAML bearer
    /// grants carry it.
    fn adfs_assertion(&self) -> Result<(String, &'static str, &'static str)> {
        if self.topo.token_issuer == Actor::AdFs {
            return Ok((
                self.take_text(super::wire::tokens::ACCESS_TOKEN)?,
                JWT_BEARER,
                crate::world::EDRS_AUDIENCE,
            ));
        }
        let document = self.take_text(super::wire::tokens::ENTERPRISE_TOKEN)?;
        let assertion = crate::formats::saml::locate(&document)
            .map(|span| base64(document[span].as_bytes()))
            .unwrap_or_default();
        Ok((
            assertion,
            SAML_BEARER,
            crate::world::AZURE_FEDERATION_AUDIENCE,
        ))
    }

    pub(crate) fn send_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let csr = self.take(wire::CSR)?;
        let (assertion, grant, _) = self.adfs_assertion()?;
        // MS-OAPX 3.1.5.2.1.1: an OAuth logon certificate request. The
        // client names neither the user nor the template: AD FS takes the
        // user from the assertion and the template from its own settings.
        let mut body = json!({
            "grant_type": grant,
            "client_id": crate::world::DRS_CLIENT_ID,
            "requested_token_use": LOGON_CERT,
            "resource": WINHELLO_RESOURCE,
            "scope": WINHELLO_SCOPE,
            "assertion": assertion,
            "csr_type": CSR_TYPE_PKCS10,
            "csr": base64(&csr),
        });
        if self.flow.has(Feature::KeyReceipt) {
            // The receipt travels as krctx: base64 of a JSON whose Data is
            // the receipt.
            let receipt = self.take_text(reg_wire::KEY_RECEIPT)?;
            let wrapped = serde_json::to_vec(&json!({ "Data": receipt }))
                .map_err(|e| Error::malformed("krctx", e.to_string()))?;
            body["krctx"] = json!(base64(&wrapped));
        }
        self.put(
            wire::RA_REQUEST,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::RA_REQUEST,
            &format!("POST {TOKEN_ENDPOINT} (logon certificate request)"),
            &body,
            Some("sent form-urlencoded (RFC 6749 §4.1.3) and shown as JSON; grant_type, requested_token_use, assertion, csr and csr_type are MS-OAPX's; the resource, the scope and krctx follow AD FS and client logs; which AD FS token WAM presents as the assertion is the project's reading"),
        ));
        out.note("WAM sends the request to AD FS with the token AD FS gave it in phase A: that token, not a field the client writes, tells AD FS who the user is.");
        Ok(out)
    }

    /// The user the logon certificate request's assertion names, as AD FS
    /// reads it before checking it (to look the keys up).
    fn requested_user(&self) -> Option<String> {
        let body: Value = serde_json::from_slice(&self.take(wire::RA_REQUEST).ok()?).ok()?;
        let assertion = body["assertion"].as_str()?;
        if let Ok(jws) = crate::formats::jws::Jws::parse(assertion) {
            return jws.string_claim("upn").ok().map(str::to_string);
        }
        let xml = String::from_utf8(Base64::decode_vec(assertion).ok()?).ok()?;
        let read = crate::formats::saml::read(&xml).ok()?;
        read.attribute("UPN").first().map(|u| u.to_string())
    }

    pub(crate) fn read_key_links(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let upn = self.requested_user().unwrap_or_default();
        let query = json!({
            "base": self.world.tenant.domain_dn,
            "scope": "subtree",
            "filter": format!("(&(objectClass=user)(userPrincipalName={upn}))"),
            "attributes": ["msDS-KeyCredentialLink"],
        });
        out.artifact(json_artifact(wire::LDAP_QUERY, "LDAP search", &query, None));
        Ok(out)
    }

    pub(crate) fn return_key_links(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let values = self.world.directory.key_credential_link.clone();
        if values.is_empty() {
            out.note("The attribute is empty: the key has not reached on-premises AD.");
        }
        for (i, value) in values.iter().enumerate() {
            out.artifact(dn_binary_artifact(
                &format!("ldap-value-{}", i + 1),
                &format!("msDS-KeyCredentialLink value {}", i + 1),
                value,
            ));
        }
        self.state.ra_key_links = values;
        Ok(out)
    }

    /// AD FS's copy of the keys that sign key receipts, as it downloaded
    /// them from the cloud registration service: a JWK set on the wire,
    /// which AD FS reads into its own state. Unreachable, it holds none.
    pub(crate) fn fetch_receipt_signers(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.world.config.options.receipt_signers_unreachable {
            self.world.adfs.receipt_signers = Some(Vec::new());
            out.skipped = Some(format!(
                "AD FS could not reach {DRS_HOST}, so it holds no receipt signers: a key receipt cannot be checked, and only a key already in Active Directory can be matched"
            ));
            return Ok(out);
        }
        let key = self
            .world
            .keys
            .key(KeyPurpose::AzureAdTokenSigning)?
            .to_public_key();
        let set = JwkSet::new(vec![Jwk::from_public_key(&key)]);
        let text = serde_json::to_string_pretty(&set.to_value())
            .map_err(|e| Error::malformed("receipt signers", e.to_string()))?;
        self.put(wire::RECEIPT_SIGNERS, text.into_bytes());
        out.artifact(json_artifact(
            wire::RECEIPT_SIGNERS,
            "Key receipt signers (JWK set)",
            &set.to_value(),
            Some("AD FS downloads the cloud registration service's receipt-signing keys; how it asks and in what form is not public: shown as a JWK set (RFC 7517 §5)"),
        ));
        // AD FS keeps what arrived, not what the service holds.
        let arrived = String::from_utf8(self.take(wire::RECEIPT_SIGNERS)?)
            .map_err(|_| Error::malformed("receipt signers", "not UTF-8"))?;
        let signers = JwkSet::parse(&arrived)?
            .keys()
            .iter()
            .map(Jwk::to_public_key)
            .collect::<Result<Vec<_>>>()?;
        out.note(format!(
            "AD FS now trusts {} receipt signer(s), with key thumbprint(s) {} (RFC 7638).",
            signers.len(),
            signers
                .iter()
                .map(crate::formats::jws::thumbprint)
                .collect::<Vec<_>>()
                .join(", ")
        ));
        self.world.adfs.receipt_signers = Some(signers);
        Ok(out)
    }

    pub(crate) fn validate_request(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let Some(body) = self.take_json(
            wire::RA_REQUEST,
            &mut out,
            Actor::Ra,
            "Request is well formed",
            "RFC 6749 §4.1.3",
        )?
        else {
            return Ok(out);
        };
        let field = |name: &str| body[name].as_str().unwrap_or_default().to_string();
        let (_, grant, audience) = self.adfs_assertion()?;
        let shape = [
            ("grant_type", grant),
            ("requested_token_use", LOGON_CERT),
            ("csr_type", CSR_TYPE_PKCS10),
            ("resource", WINHELLO_RESOURCE),
        ];
        let wrong: Vec<String> = shape
            .iter()
            .filter(|(name, want)| field(name) != *want)
            .map(|(name, want)| format!("{name} is \"{}\", not \"{want}\"", field(name)))
            .collect();
        if !out.check(
            Actor::Ra,
            "Request is a logon certificate request",
            "grant_type, requested_token_use, csr_type and resource against an OAuth logon certificate request for Windows Hello",
            "MS-OAPX 3.1.5.2.1.1, 2.2.3.1, 2.2.3.6",
            if wrong.is_empty() {
                Ok(())
            } else {
                Err(format!("invalid_request: {}", wrong.join("; ")))
            },
        ) {
            return Ok(out);
        }

        // Who the user is: the assertion, a token AD FS issued and checks
        // with its own key.
        let assertion = field("assertion");
        let upn = if grant == JWT_BEARER {
            let adfs_keys = self.published_keys(KeyPurpose::AdFsTokenSigning, &mut out)?;
            let rules = super::tokens::TokenRules {
                actor: Actor::Ra,
                what: "Assertion",
                issuer_keys: &adfs_keys,
                issuer_name: "AD FS's own token-signing key",
                issuer: crate::world::ADFS_ISSUER,
                audience,
                now: self.now,
            };
            let Some(token) = rules.apply(&mut out, &assertion) else {
                return Ok(out);
            };
            token.string_claim("upn").unwrap_or_default().to_string()
        } else {
            let document = Base64::decode_vec(&assertion)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            let Some(token) = self.check_saml(
                &mut out,
                Actor::Ra,
                &document,
                audience,
                "AD FS's own token-signing key",
            )?
            else {
                return Ok(out);
            };
            token
                .attribute("UPN")
                .first()
                .copied()
                .unwrap_or_default()
                .to_string()
        };
        if !out.ok() {
            return Ok(out);
        }
        if !out.check(
            Actor::Ra,
            "User is in Active Directory",
            format!("the assertion's upn \"{upn}\" against the users of the directory"),
            "MS-OAPX 3.1.5.2.1.1 (the user of the access token)",
            if upn.eq_ignore_ascii_case(&self.world.user.upn) {
                Ok(())
            } else {
                Err(format!("Active Directory has no user {upn}"))
            },
        ) {
            return Ok(out);
        }

        let csr = match Base64::decode_vec(&field("csr")) {
            Ok(c) if !c.is_empty() => c,
            _ => {
                out.check(
                    Actor::Ra,
                    "Request signature",
                    "a base64 PKCS#10 in csr",
                    "MS-OAPX 2.2.3.5",
                    Err("the csr parameter is missing or not base64".into()),
                );
                return Ok(out);
            }
        };
        let public = match enterprise_pki::verify_request(&csr) {
            Ok(key) => {
                out.check(
                    Actor::Ra,
                    "Request signature",
                    "the PKCS#10 signature, verified with the public key inside the request",
                    "RFC 2986 §3",
                    Ok(()),
                );
                key
            }
            Err(e) => {
                out.check(
                    Actor::Ra,
                    "Request signature",
                    "the PKCS#10 signature, verified with the public key inside the request",
                    "RFC 2986 §3",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let blob = BcryptRsaPublicBlob::from_public_key(&public)?;
        let key_id = blob.key_id();
        let found = find_key(&self.state.ra_key_links, &blob);
        match (&found, self.flow.has(Feature::KeyReceipt)) {
            (Ok(_), _) | (Err(_), false) => {
                out.check(
                    Actor::Ra,
                    "Key is registered for the user",
                    format!("the request's key ID {key_id} against the user's msDS-KeyCredentialLink values"),
                    "Windows Hello for Business certificate enrollment (the RA's key match)",
                    found
                        .clone()
                        .map(|_| ())
                        .map_err(|why| format!("{MSIS9711}: {why}")),
                );
            }
            (Err(why), true) => {
                out.note(format!(
                    "No registered key matches ({why}), so the RA turns to the key receipt."
                ));
                let receipt = body["krctx"]
                    .as_str()
                    .and_then(|k| Base64::decode_vec(k).ok())
                    .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
                    .and_then(|v| v["Data"].as_str().map(str::to_string));
                match receipt {
                    None => {
                        out.check(
                            Actor::Ra,
                            "Key receipt present",
                            "a key receipt in krctx (base64 of a JSON whose Data is the receipt)",
                            "modelled",
                            Err(format!(
                                "{MSIS9711}: the key is not in AD and the request carries no key receipt"
                            )),
                        );
                    }
                    Some(receipt) => {
                        // AD FS checks the receipt with the signers it
                        // downloaded from the cloud registration service.
                        let signers = self.world.adfs_receipt_signers().to_vec();
                        if !check_receipt(&mut out, &receipt, &signers, &key_id, &upn, self.now) {
                            out.note(format!("{MSIS9711}: the key is not in AD and the receipt does not vouch for it."));
                        }
                    }
                }
            }
        }
        if out.ok() {
            self.state.ra_user = Some(upn);
        }
        Ok(out)
    }

    pub(crate) fn countersign(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let body: Value = serde_json::from_slice(&self.take(wire::RA_REQUEST)?)
            .map_err(|e| Error::malformed("logon certificate request", e.to_string()))?;
        let csr = body["csr"]
            .as_str()
            .and_then(|s| Base64::decode_vec(s).ok())
            .ok_or_else(|| Error::malformed("logon certificate request", "no csr"))?;
        // The account of the user AD FS took from the assertion.
        let upn = self
            .state
            .ra_user
            .clone()
            .ok_or_else(|| Error::Usage("AD FS has not accepted the request".into()))?;
        if !upn.eq_ignore_ascii_case(&self.world.user.upn) {
            return Err(Error::Usage(format!("no account for {upn}")));
        }
        let requester = self.world.user.down_level_name(&self.world.tenant);
        let now = self.now;
        let pki = self.world.pki()?;
        let cms = pki.ra.countersign(&csr, &requester, now)?;
        let agent = pki.ra.agent_certificate.clone();
        self.put(wire::COUNTERSIGNED, cms.clone());
        out.artifact(enterprise_pki::cms_artifact(
            wire::COUNTERSIGNED,
            "Request countersigned by the enrollment agent (CMS SignedData)",
            &cms,
        ));
        out.artifact(enterprise_pki::certificate_artifact(
            "enrollment-agent-certificate",
            "Enrollment agent certificate of the RA",
            &agent,
            None,
        ));
        out.note(format!("The CMS carries the requester name {requester}, the account of the user in the assertion, as a signed attribute, as enroll-on-behalf-of requests do. The template, {TEMPLATE_NAME}, is AD FS's own setting (Set-AdfsCertificateAuthority -WindowsHelloCertificateTemplate), not the client's choice."));
        Ok(out)
    }

    pub(crate) fn submit_to_ca(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let cms = self.take(wire::COUNTERSIGNED)?;
        // The arguments of ICertRequestD::Request (MS-WCCE 3.2.1.4.2.1); the
        // template travels as a request attribute (MS-WCCE 2.2.2.7).
        let submission = json!({
            "authenticatedAs": self.world.adfs_service_account(),
            "pwszAuthority": format!("{}\\{}", enterprise_pki::CA_HOST, enterprise_pki::ISSUING_CN),
            "dwFlags": "0x00000300 (CR_IN_PKCS7: a CMS request)",
            "pwszAttributes": format!("CertificateTemplate:{TEMPLATE_NAME}"),
            "pctbRequest": base64(&cms),
        });
        self.put(
            wire::CA_SUBMISSION,
            serde_json::to_vec(&submission).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::CA_SUBMISSION,
            "Submission to the CA",
            &submission,
            Some("AD CS receives these arguments over DCOM (MS-WCCE ICertRequestD::Request), from a caller the transport authenticates with Kerberos; shown as JSON here, the caller as authenticatedAs"),
        ));
        Ok(out)
    }

    pub(crate) fn issue_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let Some(submission) = self.take_json(
            wire::CA_SUBMISSION,
            &mut out,
            Actor::Ca,
            "Submission is well formed",
            "modelled",
        )?
        else {
            return Ok(out);
        };
        // Who called: the account DCOM authenticated.
        let caller = submission["authenticatedAs"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        // `Name:Value` pairs, one per line (MS-WCCE 2.2.2.7).
        let template = submission["pwszAttributes"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("CertificateTemplate:"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let Some(Ok(cms)) = submission["pctbRequest"].as_str().map(Base64::decode_vec) else {
            out.check(
                Actor::Ca,
                "Submission is well formed",
                "a base64 CMS request in `pctbRequest`",
                "MS-WCCE 3.2.1.4.2.1 (ICertRequestD::Request)",
                Err("pctbRequest is missing or not base64".into()),
            );
            return Ok(out);
        };
        let now = self.now;
        // The CA looks the requester up in Active Directory itself.
        let directory = self.world.directory_accounts();
        let pki = self.world.pki()?;
        let root = pki.ca.root_certificate.clone();
        let issuing = pki.ca.certificate.clone();
        let crls = [
            (
                "issuing-ca-crl",
                "Issuing CA's CRL (at its distribution point)",
                pki.ca.crl.clone(),
            ),
            (
                "enterprise-root-ca-crl",
                "Root CA's CRL (at its distribution point)",
                pki.ca.root_crl.clone(),
            ),
        ];
        let (checks, issued) = pki.ca.issue(&cms, &template, &caller, &directory, now);
        out.record(checks);
        if let Some(cert) = issued {
            self.put(wire::USER_CERTIFICATE, cert.clone());
            out.artifact(enterprise_pki::certificate_artifact(
                wire::USER_CERTIFICATE,
                "Windows Hello for Business authentication certificate",
                &cert,
                None,
            ));
            out.artifact(enterprise_pki::certificate_artifact(
                "issuing-ca",
                "Issuing CA certificate (the issuer)",
                &issuing,
                None,
            ));
            out.artifact(enterprise_pki::certificate_artifact(
                "enterprise-root-ca",
                "Enterprise root CA certificate (the issuing CA's issuer)",
                &root,
                None,
            ));
            // What a domain controller fetches to check revocation at a
            // smart-card sign-in: the lists at the certificates' CDPs.
            for (id, title, der) in crls {
                out.artifact(enterprise_pki::crl_artifact(id, title, &der));
            }
        }
        out.took = SimDuration::seconds(2);
        Ok(out)
    }

    pub(crate) fn return_certificate_to_ra(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let cert = self.take(wire::USER_CERTIFICATE)?;
        let csr_key = self.request_key_from_wire()?;
        out.check(
            Actor::Ra,
            "Certificate is for the request",
            "the certificate's public key against the request's",
            "RFC 5280 §4.1.2.7",
            enterprise_pki::certificate_key(&cert)
                .map_err(|e| e.to_string())
                .and_then(|k| {
                    if k == csr_key {
                        Ok(())
                    } else {
                        Err("the CA certified a different key".into())
                    }
                }),
        );
        out.artifact(enterprise_pki::certificate_artifact(
            wire::USER_CERTIFICATE,
            "Issued certificate",
            &cert,
            None,
        ));
        Ok(out)
    }

    fn request_key_from_wire(&self) -> Result<rsa::RsaPublicKey> {
        enterprise_pki::verify_request(&self.take(wire::CSR)?)
    }

    /// AD FS's token response: the certificate in x5c, as a CMS chain with
    /// the issuing CA and the root (MS-OAPX x5c; MS-WCCE 2.2.2.8).
    pub(crate) fn return_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let cert = self.take(wire::USER_CERTIFICATE)?;
        let pki = self.world.pki()?;
        let chain = crate::pki::certificate_chain(&[
            cert,
            pki.ca.certificate.clone(),
            pki.ca.root_certificate.clone(),
        ])?;
        let response = json!({
            "x5c": base64(&chain),
            "token_type": "bearer",
            "expires_in": 3600,
            "resource": WINHELLO_RESOURCE,
        });
        self.put(
            wire::CERTIFICATE_RESPONSE,
            serde_json::to_vec(&response).unwrap_or_default(),
        );
        out.artifact(json_artifact(
            wire::CERTIFICATE_RESPONSE,
            "Token response with the certificate (x5c)",
            &response,
            Some("x5c is MS-OAPX's (a base64 CMS certificate chain); token_type and expires_in here are the project's values"),
        ));
        out.artifact(enterprise_pki::cms_artifact(
            wire::CERTIFICATE_CHAIN,
            "Certificate chain in x5c (CMS, certificates only)",
            &chain,
        ));
        Ok(out)
    }

    pub(crate) fn install_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let key = device::rsa_public_key(&self.take(keys_wire::USER_KEY_PUBLIC)?)?;
        let Some(response) = self.take_json(
            wire::CERTIFICATE_RESPONSE,
            &mut out,
            Actor::Cxh,
            "Response carries a certificate chain",
            "MS-OAPX (x5c)",
        )?
        else {
            return Ok(out);
        };
        // The chain as it arrived: the certificate for the TPM key, and the
        // CA certificate that issued it.
        let chain = response["x5c"]
            .as_str()
            .ok_or_else(|| "the response has no x5c".to_string())
            .and_then(|x| Base64::decode_vec(x).map_err(|e| format!("x5c is not base64: {e}")))
            .and_then(|cms| crate::pki::chain_certificates(&cms));
        if !out.check(
            Actor::Cxh,
            "Response carries a certificate chain",
            "x5c as a base64 CMS SignedData with certificates",
            "MS-OAPX (x5c); MS-WCCE 2.2.2.8",
            chain.as_ref().map(|_| ()).map_err(Clone::clone),
        ) {
            return Ok(out);
        }
        let certs = chain.unwrap_or_default();
        let cert = certs
            .iter()
            .find(|c| enterprise_pki::certificate_key(c).is_ok_and(|k| k == key))
            .or_else(|| certs.first())
            .cloned()
            .unwrap_or_default();
        let Some(issuer) = crate::pki::issuer_in(&cert, &certs) else {
            out.check(
                Actor::Cxh,
                "Certificate chains to the enterprise root",
                format!(
                    "the {} certificate(s) of x5c, for the CA that issued the certificate",
                    certs.len()
                ),
                "RFC 5280 §6.1",
                Err("the chain holds no certificate of the CA that issued the certificate".into()),
            );
            return Ok(out);
        };
        let upn = self.world.user.upn.clone();
        let now = self.now;
        let pki = self.world.pki()?;
        // The client trusts the enterprise root, not what the chain says.
        let root = pki.ca.root_certificate.clone();
        out.record(crate::pki::check_issued(
            &cert,
            &issuer,
            &root,
            &key,
            &upn,
            now,
            Actor::Cxh,
        ));
        if out.ok() {
            let entry = self.world.device.install_certificate(&cert, &upn)?;
            out.artifact(json_artifact(
                "personal-store",
                "Current user's Personal store",
                &entry,
                Some("the certificate store is modelled; the certificate in it is real"),
            ));
            out.note("The certificate sits next to its private key, which stays in the TPM (Microsoft Platform Crypto Provider).");
        }
        Ok(out)
    }
}
