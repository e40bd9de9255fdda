//! A federated domain's sign-ins through AD FS, for Microsoft Entra ID.
//!
//! - At Windows sign-in CloudAP trades the password for AD FS's SAML token
//!   at the WS-Trust 1.3 `usernamemixed` endpoint (the request as MSAL and
//!   ADAL send it), then presents that token in its PRT request with the
//!   grant type `urn:ietf:params:oauth:grant-type:saml1_1-bearer` (roadlib
//!   `get_prt_with_samltoken`, AADInternals `Get-UserPRTKeys -SAMLToken`;
//!   Microsoft's "Understanding Primary Refresh Token" describes the step).
//! - At provisioning Entra ID, asked for `ngcmfa`, sends WAM to AD FS with a
//!   WS-Federation sign-in request asking for multiple authentication
//!   (`wauth`), since the domain leaves MFA to the federated IdP
//!   (`federatedIdpMfaBehavior` `enforceMfaByFederatedIdp`); AD FS answers
//!   after MFA with a SAML token carrying `multipleauthn` in
//!   `authnmethodsreferences`, which Entra ID accepts as MFA.
//!
//! Entra ID checks AD FS's tokens only against what the federated domain's
//! settings hold: the signing certificate and the issuer URI.

use super::tokens::check_password;
use super::wire::{json_artifact, tokens as token_wire};
use super::{Run, StepOutput};
use crate::artifact::{Artifact, ArtifactKind};
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::formats::encoding::percent_encode;
use crate::formats::encoding::{base64, hex};
use crate::formats::saml::{self, Assertion, Attribute};
use crate::formats::xml;
use crate::seed::KeyPurpose;
use crate::world::{ADFS_HOST, ADFS_ISSUER, AZURE_FEDERATION_AUDIENCE};
use serde_json::{json, Value};

/// Wire ids of the federated sign-ins.
pub(crate) mod wire {
    /// The WS-Trust request with the password, and AD FS's answer.
    pub const RST: &str = "ws-trust-request";
    pub const RSTR: &str = "ws-trust-response";
    /// Entra ID's redirect to AD FS, and WAM's request there.
    pub const IDP_REDIRECT: &str = "idp-redirect";
    pub const WS_FED_REQUEST: &str = "ws-federation-request";
}

const SOAP_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
const TRUST_13_NS: &str = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
/// WS-Federation's passive responses use the February 2005 WS-Trust.
const TRUST_2005_NS: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
const POLICY_NS: &str = "http://schemas.xmlsoap.org/ws/2004/09/policy";
const USERNAME_MIXED: &str = "https://adfs.contoso.com/adfs/services/trust/13/usernamemixed";
const MULTIPLE_AUTHN: &str = "http://schemas.microsoft.com/claims/multipleauthn";
const PASSWORD_METHOD: &str =
    "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password";
const WINDOWS_METHOD: &str = "urn:federation:authentication:windows";
/// AD FS's default token lifetime for a relying party: 60 minutes.
const TOKEN_LIFETIME: SimDuration = SimDuration::minutes(60);

fn escaped(s: &str) -> String {
    let mut out = String::new();
    xml::escape_text(s, &mut out);
    out
}

/// An XML artifact, its view from the XML parser.
pub(crate) fn xml_artifact(id: &str, title: &str, text: &str, modelled: Option<&str>) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Xml,
        text.as_bytes().to_vec(),
        xml::fields(text),
        modelled,
    )
}

impl Run {
    /// The user's source anchor as Entra ID and AD FS's claim rules carry
    /// it: the on-premises objectGUID, base64 of its .NET byte order.
    fn immutable_id(&self) -> String {
        base64(&self.world.user.object_id.to_dotnet_bytes())
    }

    /// AD FS's token-signing certificate: self-signed, as AD FS makes it by
    /// default ("ADFS Signing - host"), one year from the run's start.
    pub(crate) fn adfs_signing_certificate(&self) -> Result<Vec<u8>> {
        let key = self.world.keys.key(KeyPurpose::AdFsTokenSigning)?;
        crate::pki::root_certificate(
            key,
            &format!("ADFS Signing - {ADFS_HOST}"),
            self.world.config.start,
            1,
        )
    }

    /// A SAML 1.1 assertion from AD FS for Entra ID, signed.
    fn adfs_saml_assertion(
        &self,
        n: usize,
        methods: &[&str],
        method: &str,
        instant: SimTime,
    ) -> Result<String> {
        let now = self.now;
        let id = format!(
            "_{}",
            hex(&self
                .world
                .seed
                .bytes::<16>(&super::sign_in::nth("adfs/saml-assertion-id", n)))
        );
        let assertion = Assertion {
            id,
            issuer: ADFS_ISSUER.into(),
            issue_instant: now,
            not_before: now,
            not_on_or_after: now.plus(TOKEN_LIFETIME),
            audiences: vec![AZURE_FEDERATION_AUDIENCE.into()],
            name_id: self.immutable_id(),
            attributes: vec![
                Attribute {
                    name: "UPN".into(),
                    namespace: "http://schemas.xmlsoap.org/claims".into(),
                    values: vec![self.world.user.upn.clone()],
                },
                Attribute {
                    name: "ImmutableID".into(),
                    namespace: "http://schemas.microsoft.com/LiveID/Federation/2008/05".into(),
                    values: vec![self.immutable_id()],
                },
                Attribute {
                    name: "authnmethodsreferences".into(),
                    namespace: "http://schemas.microsoft.com/claims".into(),
                    values: methods.iter().map(|m| m.to_string()).collect(),
                },
            ],
            authentication_method: method.into(),
            authentication_instant: instant,
        };
        let key = self.world.keys.key(KeyPurpose::AdFsTokenSigning)?;
        assertion.sign(key, &self.adfs_signing_certificate()?)
    }

    /// CloudAP asks AD FS for a SAML token for Entra ID with the password
    /// (WS-Trust 1.3, usernamemixed); AD FS checks it.
    pub(crate) fn request_saml_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if !self.world.config.options.federation_available {
            out.check(
                Actor::CloudAp,
                "Federation server reachable",
                format!("an answer from {USERNAME_MIXED}"),
                "modelled",
                Err("AD FS did not answer (HTTP 503 Service Unavailable): in a federated domain nobody else can check the password, so there is no PRT".into()),
            );
            return Ok(out);
        }
        let now = self.now;
        let message_id = self.world.seed.guid("cloudap/ws-trust-message-id");
        let token_id = self.world.seed.guid("cloudap/ws-trust-username-token");
        let request = format!(
            "<s:Envelope xmlns:s=\"{SOAP_NS}\" xmlns:a=\"{WSA_NS}\" xmlns:u=\"{WSU_NS}\"><s:Header>\
             <a:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue</a:Action>\
             <a:MessageID>urn:uuid:{message_id}</a:MessageID>\
             <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>\
             <a:To s:mustUnderstand=\"1\">{USERNAME_MIXED}</a:To>\
             <o:Security s:mustUnderstand=\"1\" xmlns:o=\"{WSSE_NS}\">\
             <u:Timestamp u:Id=\"_0\"><u:Created>{}</u:Created><u:Expires>{}</u:Expires></u:Timestamp>\
             <o:UsernameToken u:Id=\"uuid-{token_id}\"><o:Username>{}</o:Username><o:Password>{}</o:Password></o:UsernameToken>\
             </o:Security></s:Header><s:Body>\
             <trust:RequestSecurityToken xmlns:trust=\"{TRUST_13_NS}\">\
             <wsp:AppliesTo xmlns:wsp=\"{POLICY_NS}\"><a:EndpointReference><a:Address>{AZURE_FEDERATION_AUDIENCE}</a:Address></a:EndpointReference></wsp:AppliesTo>\
             <trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType>\
             <trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType>\
             </trust:RequestSecurityToken></s:Body></s:Envelope>",
            now.xml_datetime(),
            now.plus(SimDuration::minutes(10)).xml_datetime(),
            escaped(&self.world.user.upn),
            escaped(&self.typed_password()),
        );
        self.put(wire::RST, request.clone().into_bytes());
        out.artifact(xml_artifact(
            wire::RST,
            "WS-Trust request with the password (usernamemixed)",
            &request,
            None,
        ));
        out.note(format!("POST {USERNAME_MIXED} (SOAP 1.2, WS-Trust 1.3 Issue); the password travels inside TLS in the WS-Security UsernameToken."));

        // AD FS's side: what arrived.
        let arrived = self.take_text(wire::RST)?;
        let envelope = match xml::parse(&arrived) {
            Ok(e) => e,
            Err(e) => {
                out.check(
                    Actor::AdFs,
                    "Request is well formed",
                    "a SOAP envelope",
                    "SOAP 1.2; WS-Trust 1.3",
                    Err(e.to_string()),
                );
                return Ok(out);
            }
        };
        let text_of = |ns: &str, local: &str| envelope.find(ns, local).map(xml::Element::text);
        let username = text_of(WSSE_NS, "Username").unwrap_or_default();
        let password = text_of(WSSE_NS, "Password").unwrap_or_default();
        let applies_to = envelope
            .find(POLICY_NS, "AppliesTo")
            .and_then(|a| a.find(WSA_NS, "Address"))
            .map(xml::Element::text)
            .unwrap_or_default();
        let user = &self.world.user;
        out.check_eq(
            Actor::AdFs,
            "User is known",
            format!("the UsernameToken's user \"{username}\" against Active Directory"),
            "WS-Security UsernameToken Profile 1.1",
            ("the user", user.upn.as_str(), username.as_str()),
        );
        check_password(
            &mut out,
            Actor::AdFs,
            "Active Directory",
            "sent",
            user,
            &password,
        );
        self.check_relying_party(&mut out, &applies_to);
        out.took = SimDuration::seconds(1);
        Ok(out)
    }

    /// AD FS answers with a SAML 1.1 assertion for Entra ID.
    pub(crate) fn issue_saml_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let now = self.now;
        let assertion = self.adfs_saml_assertion(
            0,
            &[PASSWORD_METHOD],
            "urn:oasis:names:tc:SAML:1.0:am:password",
            now,
        )?;
        let response = format!(
            "<s:Envelope xmlns:s=\"{SOAP_NS}\" xmlns:a=\"{WSA_NS}\"><s:Header>\
             <a:Action s:mustUnderstand=\"1\">http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal</a:Action>\
             </s:Header><s:Body>\
             <trust:RequestSecurityTokenResponseCollection xmlns:trust=\"{TRUST_13_NS}\"><trust:RequestSecurityTokenResponse>\
             <trust:Lifetime><wsu:Created xmlns:wsu=\"{WSU_NS}\">{}</wsu:Created><wsu:Expires xmlns:wsu=\"{WSU_NS}\">{}</wsu:Expires></trust:Lifetime>\
             <wsp:AppliesTo xmlns:wsp=\"{POLICY_NS}\"><a:EndpointReference><a:Address>{AZURE_FEDERATION_AUDIENCE}</a:Address></a:EndpointReference></wsp:AppliesTo>\
             <trust:RequestedSecurityToken>{assertion}</trust:RequestedSecurityToken>\
             <trust:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</trust:TokenType>\
             <trust:RequestType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue</trust:RequestType>\
             <trust:KeyType>http://docs.oasis-open.org/ws-sx/ws-trust/200512/Bearer</trust:KeyType>\
             </trust:RequestSecurityTokenResponse></trust:RequestSecurityTokenResponseCollection></s:Body></s:Envelope>",
            now.xml_datetime(),
            now.plus(TOKEN_LIFETIME).xml_datetime(),
        );
        self.put(wire::RSTR, response.clone().into_bytes());
        out.artifact(xml_artifact(
            wire::RSTR,
            "WS-Trust response: AD FS's SAML token for Entra ID",
            &response,
            None,
        ));
        out.artifact(Artifact::decoded(
            "adfs-signing-certificate",
            "AD FS token-signing certificate (as the federated domain's settings hold it)",
            ArtifactKind::Certificate,
            self.adfs_signing_certificate()?,
            crate::pki::certificate_fields(&self.adfs_signing_certificate()?),
            None,
        ));
        out.note("The assertion's signature verifies with the token-signing certificate shown here, with the run's files: xmlsec1 --verify --trusted-pem adfs-signing-certificate.pem --id-attr:AssertionID urn:oasis:names:tc:SAML:1.0:assertion:Assertion ws-trust-response.xml");
        Ok(out)
    }

    /// The SAML assertion inside AD FS's WS-Trust answer, as CloudAP takes
    /// it out for the PRT request; a check of CloudAP's when it cannot.
    pub(crate) fn saml_from_ws_trust(&self, out: &mut StepOutput) -> Result<Option<String>> {
        let response = self.take_text(wire::RSTR)?;
        match saml::locate(&response) {
            Ok(span) => Ok(Some(response[span].to_string())),
            Err(e) => {
                out.check(
                    Actor::CloudAp,
                    "AD FS's answer holds a token",
                    "a SAML 1.1 assertion in the RequestedSecurityToken",
                    "WS-Trust 1.3 §4.4",
                    Err(e.to_string()),
                );
                Ok(None)
            }
        }
    }

    /// The checks of a SAML token AD FS issued, by whoever consumes it
    /// (Entra ID with the federated domain's settings, AD FS itself): the
    /// signature against AD FS's token-signing key, the issuer, the
    /// audience and the validity window.
    pub(crate) fn check_saml(
        &self,
        out: &mut StepOutput,
        actor: Actor,
        document: &str,
        audience: &str,
        signer: &str,
    ) -> Result<Option<Assertion>> {
        let assertion = match saml::read(document) {
            Ok(a) => a,
            Err(e) => {
                out.check(
                    actor,
                    "Token is well formed",
                    "a SAML 1.1 assertion",
                    "OASIS SAML 1.1 core §2.3",
                    Err(e),
                );
                return Ok(None);
            }
        };
        let key = self
            .world
            .keys
            .key(KeyPurpose::AdFsTokenSigning)?
            .to_public_key();
        out.check(
            actor,
            "Token signature",
            format!("the assertion's XML signature (exclusive canonicalization, SHA-256 digest, RSA-SHA256) against {signer}"),
            "W3C XML Signature §3.2 (core validation); SAML 1.1 core §5",
            saml::verify(document, &key),
        );
        out.check_eq(
            actor,
            "Issuer",
            "the assertion's Issuer against AD FS's issuer URI",
            "SAML 1.1 core §2.3.2",
            ("the issuer", ADFS_ISSUER, assertion.issuer.as_str()),
        );
        out.check(
            actor,
            "Audience",
            format!("the AudienceRestrictionCondition must name {audience}"),
            "SAML 1.1 core §2.3.2.1.3",
            if assertion.audiences.iter().any(|a| a == audience) {
                Ok(())
            } else {
                Err(format!(
                    "the token is for {:?}, not for {audience}",
                    assertion.audiences
                ))
            },
        );
        let now = self.now;
        out.check(
            actor,
            "Token is within its validity",
            assertion.window(now),
            "SAML 1.1 core §2.3.2.1",
            assertion.valid_at(now),
        );
        Ok(Some(assertion))
    }

    /// Entra ID's checks of a SAML token from the federated domain's IdP:
    /// [`Run::check_saml`] with the domain's settings, then the user its
    /// NameIdentifier names.
    pub(crate) fn check_adfs_saml(
        &self,
        out: &mut StepOutput,
        document: &str,
    ) -> Result<Option<Assertion>> {
        let Some(assertion) = self.check_saml(
            out,
            Actor::AzureAd,
            document,
            AZURE_FEDERATION_AUDIENCE,
            "the signing certificate in the federated domain's settings",
        )?
        else {
            return Ok(None);
        };
        // The user: by the source anchor the NameIdentifier carries, which
        // Microsoft Entra Connect wrote on the synchronised user.
        let immutable_id = self.immutable_id();
        out.check(
            Actor::AzureAd,
            "User is known",
            format!(
                "the NameIdentifier \"{}\" against the ImmutableID (source anchor) of the synchronised users",
                assertion.name_id
            ),
            "Entra ID federation: users are matched on ImmutableID",
            if assertion.name_id == immutable_id {
                Ok(())
            } else {
                Err(format!(
                    "no user in the tenant has the ImmutableID \"{}\" (AADSTS51004)",
                    assertion.name_id
                ))
            },
        );
        Ok(Some(assertion))
    }

    /// Entra ID, asked for ngcmfa with a PRT from a federated password
    /// sign-in, sends WAM to AD FS for the second factor.
    pub(crate) fn redirect_to_adfs(&mut self, out: &mut StepOutput) -> Result<()> {
        let context = base64(&self.world.seed.bytes::<24>("azure-ad/ws-fed-context"));
        let query = [
            ("wa", "wsignin1.0".to_string()),
            ("wtrealm", AZURE_FEDERATION_AUDIENCE.to_string()),
            ("wctx", context),
            ("wauth", MULTIPLE_AUTHN.to_string()),
            ("username", self.world.user.upn.clone()),
        ];
        let location = format!(
            "https://{ADFS_HOST}/adfs/ls/?{}",
            query
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        );
        let response = json!({ "status": 302, "headers": { "Location": location } });
        self.put(
            wire::IDP_REDIRECT,
            serde_json::to_vec(&response)
                .map_err(|e| Error::malformed("redirect", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::IDP_REDIRECT,
            "Redirect to AD FS (WS-Federation sign-in)",
            &response,
            Some("the parameters are WS-Federation's (wa, wtrealm, wctx, wauth); shown as JSON, it travels as an HTTP 302"),
        ));
        out.note("The domain is federated and leaves MFA to AD FS (federatedIdpMfaBehavior enforceMfaByFederatedIdp, which the project assumes because the documentation has AD FS run the MFA): Entra ID answers with a redirect to AD FS asking for multiple authentication.");
        Ok(())
    }

    /// WAM follows the redirect to AD FS; AD FS checks the relying party
    /// and the user before the second factor.
    pub(crate) fn federated_sign_in(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let redirect: Value = serde_json::from_slice(&self.take(wire::IDP_REDIRECT)?)
            .map_err(|e| Error::malformed("redirect", e.to_string()))?;
        let location = redirect["headers"]["Location"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !self.world.config.options.federation_available {
            out.check(
                Actor::Wam,
                "Federation server reachable",
                format!("an answer from {location}"),
                "modelled",
                Err("AD FS did not answer (HTTP 503 Service Unavailable): nobody can vouch for the second factor".into()),
            );
            return Ok(out);
        }
        let request = json!({ "method": "GET", "url": location });
        self.put(
            wire::WS_FED_REQUEST,
            serde_json::to_vec(&request).map_err(|e| Error::malformed("request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::WS_FED_REQUEST,
            "WS-Federation sign-in request at AD FS",
            &request,
            Some("an HTTP GET, shown as JSON"),
        ));
        // AD FS's side: the query that arrived.
        let Some(arrived) = self.take_json(
            wire::WS_FED_REQUEST,
            &mut out,
            Actor::AdFs,
            "Request is well formed",
            "WS-Federation 1.2 §13.2 (sign-in request)",
        )?
        else {
            return Ok(out);
        };
        let url = arrived["url"].as_str().unwrap_or_default();
        let param = |name: &str| {
            url.split_once('?')
                .map(|(_, q)| q)
                .unwrap_or_default()
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .map(percent_decode)
                .unwrap_or_default()
        };
        out.check_eq(
            Actor::AdFs,
            "Sign-in request",
            "wa must be wsignin1.0",
            "WS-Federation 1.2 §13.2.1",
            ("wa", "wsignin1.0", param("wa").as_str()),
        );
        self.check_relying_party(&mut out, &param("wtrealm"));
        let username = param("username");
        out.check_eq(
            Actor::AdFs,
            "User is known",
            format!("the user \"{username}\" against Active Directory"),
            "AD FS: the account is looked up in Active Directory",
            ("the user", self.world.user.upn.as_str(), username.as_str()),
        );
        let wauth = param("wauth");
        out.note(format!(
            "AD FS authenticates the user with integrated Windows authentication, the Kerberos ticket of the Windows sign-in (not shown: modelled). The request asks for wauth={wauth}: a password alone will not do."
        ));
        out.took = SimDuration::seconds(1);
        Ok(out)
    }

    /// AD FS, after MFA, posts its SAML token for Entra ID back through WAM
    /// (WS-Federation's `wresult`: a WS-Trust February 2005 response).
    pub(crate) fn issue_enterprise_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let now = self.now;
        let mfa = self.world.azure_ad.last_mfa.unwrap_or(now);
        let assertion =
            self.adfs_saml_assertion(1, &[WINDOWS_METHOD, MULTIPLE_AUTHN], WINDOWS_METHOD, mfa)?;
        let response = format!(
            "<t:RequestSecurityTokenResponse xmlns:t=\"{TRUST_2005_NS}\">\
             <t:Lifetime><wsu:Created xmlns:wsu=\"{WSU_NS}\">{}</wsu:Created><wsu:Expires xmlns:wsu=\"{WSU_NS}\">{}</wsu:Expires></t:Lifetime>\
             <wsp:AppliesTo xmlns:wsp=\"{POLICY_NS}\"><wsa:EndpointReference xmlns:wsa=\"{WSA_NS}\"><wsa:Address>{AZURE_FEDERATION_AUDIENCE}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>\
             <t:RequestedSecurityToken>{assertion}</t:RequestedSecurityToken>\
             <t:TokenType>urn:oasis:names:tc:SAML:1.0:assertion</t:TokenType>\
             <t:RequestType>http://schemas.xmlsoap.org/ws/2005/02/trust/Issue</t:RequestType>\
             <t:KeyType>http://schemas.xmlsoap.org/ws/2005/05/identity/NoProofKey</t:KeyType>\
             </t:RequestSecurityTokenResponse>",
            now.xml_datetime(),
            now.plus(TOKEN_LIFETIME).xml_datetime(),
        );
        self.put(token_wire::ENTERPRISE_TOKEN, response.clone().into_bytes());
        out.artifact(xml_artifact(
            token_wire::ENTERPRISE_TOKEN,
            "AD FS's token for Entra ID (WS-Federation wresult)",
            &response,
            None,
        ));
        out.note("WAM posts it to https://login.microsoftonline.com/login.srf as the form field wresult, with wa=wsignin1.0 and the wctx Entra ID sent.");
        Ok(out)
    }

    /// Entra ID checks AD FS's token and the MFA it vouches for.
    pub(crate) fn exchange_enterprise_token(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let document = self.take_text(token_wire::ENTERPRISE_TOKEN)?;
        let Some(assertion) = self.check_adfs_saml(&mut out, &document)? else {
            return Ok(out);
        };
        let methods = assertion.attribute("authnmethodsreferences");
        out.check(
            Actor::AzureAd,
            "MFA claim",
            format!("authnmethodsreferences {methods:?} must include {MULTIPLE_AUTHN}"),
            "Entra ID federation: authnmethodsreferences = multipleauthn (federatedIdpMfaBehavior)",
            if methods.contains(&MULTIPLE_AUTHN) {
                Ok(())
            } else {
                Err("AD FS did not vouch for a second factor".into())
            },
        );
        out.check(
            Actor::AzureAd,
            "MFA is fresh",
            "the AuthenticationInstant against now: less than 10 minutes",
            super::tokens::mfa_rule(true),
            super::tokens::mfa_fresh(
                self.now,
                Some(assertion.authentication_instant.unix_seconds()),
            ),
        );
        Ok(out)
    }
}

fn percent_decode(s: &str) -> String {
    let hex_digit = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| {
                Some((
                    hex_digit(*bytes.get(i + 1)?)?,
                    hex_digit(*bytes.get(i + 2)?)?,
                ))
            })
            .flatten();
        match (escaped, bytes[i]) {
            (Some((high, low)), _) => {
                out.push(high << 4 | low);
                i += 3;
            }
            (None, b'+') => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_round_trip() {
        for s in ["urn:federation:MicrosoftOnline", "a b&c=d/é", "%zz"] {
            assert_eq!(percent_decode(&percent_encode(s)), s);
        }
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
