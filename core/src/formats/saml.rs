//! SAML 1.1 assertions as AD FS issues them for Microsoft Entra ID (the
//! relying party `urn:federation:MicrosoftOnline`), signed with XML
//! Signature.
//!
//! The assertion's shape (NameIdentifier and ImmutableID carrying the
//! user's source anchor, the UPN attribute, `authnmethodsreferences`, an
//! AuthenticationStatement) is the one public tools reproduce from real AD
//! FS tokens: ADFSpoof's `templates/o365.xml` and the tokens quoted with it.
//! The elements are OASIS SAML 1.1 (`oasis-sstc-saml-core-1.1`); the
//! signature is an enveloped XML Signature (`xmldsig-core` §6.6.4) over the
//! Exclusive Canonicalization of the assertion, referenced by its
//! AssertionID, with RSA-SHA256 (RFC 6931 §2.3.2) and a SHA-256 digest.

use super::xml::{self, Element};
use crate::clock::SimTime;
use crate::error::{Error, Result};
use base64ct::{Base64, Encoding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use std::ops::Range;

pub const SAML1_NS: &str = "urn:oasis:names:tc:SAML:1.0:assertion";
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const DIGEST_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const BEARER: &str = "urn:oasis:names:tc:SAML:1.0:cm:bearer";
const UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

/// One attribute of the AttributeStatement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub namespace: String,
    pub values: Vec<String>,
}

/// What an assertion says, as its issuer wrote it or as a reader found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    pub issue_instant: SimTime,
    pub not_before: SimTime,
    pub not_on_or_after: SimTime,
    pub audiences: Vec<String>,
    /// The subject's NameIdentifier (for Entra ID, the source anchor).
    pub name_id: String,
    pub attributes: Vec<Attribute>,
    pub authentication_method: String,
    pub authentication_instant: SimTime,
}

impl Assertion {
    /// The values of the attribute `name`.
    pub fn attribute(&self, name: &str) -> Vec<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == name)
            .flat_map(|a| a.values.iter().map(String::as_str))
            .collect()
    }

    /// What the validity window's check compares, in words.
    pub fn window(&self, now: SimTime) -> String {
        format!(
            "NotBefore {} ≤ now {now} < NotOnOrAfter {}",
            self.not_before, self.not_on_or_after
        )
    }

    /// Whether `now` is inside the Conditions' window (SAML 1.1 core
    /// §2.3.2.1), and if not, on which side.
    pub fn valid_at(&self, now: SimTime) -> std::result::Result<(), String> {
        if now < self.not_before {
            Err(format!("the token is not valid before {}", self.not_before))
        } else if now >= self.not_on_or_after {
            Err(format!("the token expired at {}", self.not_on_or_after))
        } else {
            Ok(())
        }
    }

    fn subject(&self, out: &mut String) {
        out.push_str("<saml:Subject><saml:NameIdentifier Format=\"");
        out.push_str(UNSPECIFIED);
        out.push_str("\">");
        escape(&self.name_id, out);
        out.push_str("</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>");
        out.push_str(BEARER);
        out.push_str("</saml:ConfirmationMethod></saml:SubjectConfirmation></saml:Subject>");
    }

    /// The assertion without its signature.
    fn unsigned_xml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "<saml:Assertion xmlns:saml=\"{SAML1_NS}\" AssertionID=\""
        ));
        escape(&self.id, &mut out);
        out.push_str(&format!(
            "\" IssueInstant=\"{}\" Issuer=\"",
            self.issue_instant.xml_datetime()
        ));
        escape(&self.issuer, &mut out);
        out.push_str(&format!(
            "\" MajorVersion=\"1\" MinorVersion=\"1\"><saml:Conditions NotBefore=\"{}\" NotOnOrAfter=\"{}\"><saml:AudienceRestrictionCondition>",
            self.not_before.xml_datetime(),
            self.not_on_or_after.xml_datetime()
        ));
        for audience in &self.audiences {
            out.push_str("<saml:Audience>");
            escape(audience, &mut out);
            out.push_str("</saml:Audience>");
        }
        out.push_str(
            "</saml:AudienceRestrictionCondition></saml:Conditions><saml:AttributeStatement>",
        );
        self.subject(&mut out);
        for attribute in &self.attributes {
            out.push_str("<saml:Attribute AttributeName=\"");
            escape(&attribute.name, &mut out);
            out.push_str("\" AttributeNamespace=\"");
            escape(&attribute.namespace, &mut out);
            out.push_str("\">");
            for value in &attribute.values {
                out.push_str("<saml:AttributeValue>");
                escape(value, &mut out);
                out.push_str("</saml:AttributeValue>");
            }
            out.push_str("</saml:Attribute>");
        }
        out.push_str(
            "</saml:AttributeStatement><saml:AuthenticationStatement AuthenticationInstant=\"",
        );
        out.push_str(&self.authentication_instant.xml_datetime());
        out.push_str("\" AuthenticationMethod=\"");
        escape(&self.authentication_method, &mut out);
        out.push_str("\">");
        self.subject(&mut out);
        out.push_str("</saml:AuthenticationStatement></saml:Assertion>");
        out
    }

    /// The signed assertion, its KeyInfo carrying `certificate` (DER), the
    /// signing key's certificate as AD FS includes it.
    pub fn sign(&self, key: &RsaPrivateKey, certificate: &[u8]) -> Result<String> {
        sign_assertion(&self.unsigned_xml(), key, certificate)
    }
}

/// Escapes a value for an attribute or for text (canonical XML's attribute
/// escapes do for both).
fn escape(s: &str, out: &mut String) {
    xml::escape_attribute(s, out);
}

fn malformed(e: impl std::fmt::Display) -> Error {
    Error::malformed("SAML assertion", e.to_string())
}

/// Signs an assertion that has no signature (any signature it has is
/// dropped first): the enveloped signature goes last in the assertion.
pub fn sign_assertion(
    assertion_xml: &str,
    key: &RsaPrivateKey,
    certificate: &[u8],
) -> Result<String> {
    let unsigned = strip_signature(assertion_xml)?;
    let root = xml::parse(&unsigned).map_err(malformed)?;
    if !root.is(SAML1_NS, "Assertion") {
        return Err(malformed(format!(
            "the root element is <{}>, not a SAML 1.1 Assertion",
            root.name
        )));
    }
    let id = root
        .attribute("AssertionID")
        .ok_or_else(|| malformed("the assertion has no AssertionID"))?;
    let digest = Sha256::digest(xml::exc_c14n(&root, &|_| false).as_bytes());
    let mut signed_info = String::from("<ds:SignedInfo>");
    signed_info.push_str(&format!(
        "<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"/><ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"/><ds:Reference URI=\"#"
    ));
    escape(id, &mut signed_info);
    signed_info.push_str(&format!(
        "\"><ds:Transforms><ds:Transform Algorithm=\"{ENVELOPED}\"/><ds:Transform Algorithm=\"{EXC_C14N}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{DIGEST_SHA256}\"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
        Base64::encode_string(&digest)
    ));
    let wrapped = format!("<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}</ds:Signature>");
    let parsed = xml::parse(&wrapped).map_err(malformed)?;
    let info = parsed
        .child(DSIG_NS, "SignedInfo")
        .ok_or_else(|| malformed("SignedInfo"))?;
    let value = crate::rs256::sign(key, xml::exc_c14n(info, &|_| false).as_bytes())?;
    let signature = format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\">{signed_info}<ds:SignatureValue>{}</ds:SignatureValue><KeyInfo xmlns=\"{DSIG_NS}\"><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></ds:Signature>",
        Base64::encode_string(&value),
        Base64::encode_string(certificate)
    );
    let close = unsigned
        .rfind("</")
        .ok_or_else(|| malformed("the assertion has no end tag"))?;
    Ok(format!(
        "{}{signature}{}",
        &unsigned[..close],
        &unsigned[close..]
    ))
}

/// The assertion's text without its ds:Signature element.
fn strip_signature(assertion_xml: &str) -> Result<String> {
    let root = xml::parse(assertion_xml).map_err(malformed)?;
    Ok(match root.child(DSIG_NS, "Signature") {
        Some(sig) => format!(
            "{}{}",
            &assertion_xml[..sig.span.start],
            &assertion_xml[sig.span.end..]
        ),
        None => assertion_xml.to_string(),
    })
}

/// Signs again the assertion inside a document (a WS-Trust response, say),
/// as its issuer would after an edit.
pub fn resign_document(document: &str, key: &RsaPrivateKey, certificate: &[u8]) -> Result<String> {
    let span = locate(document)?;
    let signed = sign_assertion(&document[span.clone()], key, certificate)?;
    Ok(format!(
        "{}{signed}{}",
        &document[..span.start],
        &document[span.end..]
    ))
}

/// Where the (first) SAML 1.1 assertion lies in a document.
pub fn locate(document: &str) -> Result<Range<usize>> {
    let root = xml::parse(document).map_err(malformed)?;
    root.find(SAML1_NS, "Assertion")
        .map(|a| a.span.clone())
        .ok_or_else(|| malformed("the document holds no SAML 1.1 Assertion"))
}

fn time(e: &Element, attribute: &str) -> std::result::Result<SimTime, String> {
    let value = e
        .attribute(attribute)
        .ok_or_else(|| format!("<{}> has no {attribute}", e.name))?;
    parse_datetime(value)
        .ok_or_else(|| format!("{attribute} \"{value}\" is not an xs:dateTime in UTC"))
}

/// An xs:dateTime in UTC (`2026-11-22T09:00:00.000Z`, fractions ignored).
pub fn parse_datetime(s: &str) -> Option<SimTime> {
    let s = s.strip_suffix('Z')?;
    let (date, clock) = s.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let (y, mo, day) = (
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
        d.next()?.parse().ok()?,
    );
    let clock = clock.split('.').next()?;
    let mut c = clock.splitn(3, ':');
    let (h, mi, sec) = (
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
        c.next()?.parse().ok()?,
    );
    SimTime::from_civil(y, mo, day, h, mi, sec)
}

/// Reads the assertion a document holds (no signature check: see
/// [`verify`]).
pub fn read(document: &str) -> std::result::Result<Assertion, String> {
    let root = xml::parse(document).map_err(|e| e.to_string())?;
    let a = root
        .find(SAML1_NS, "Assertion")
        .ok_or("the document holds no SAML 1.1 Assertion")?;
    let need = |name: &str| {
        a.attribute(name)
            .map(str::to_string)
            .ok_or_else(|| format!("the Assertion has no {name}"))
    };
    let conditions = a
        .child(SAML1_NS, "Conditions")
        .ok_or("the Assertion has no Conditions")?;
    let audiences = conditions
        .elements()
        .filter(|e| e.is(SAML1_NS, "AudienceRestrictionCondition"))
        .flat_map(|r| {
            r.elements()
                .filter(|e| e.is(SAML1_NS, "Audience"))
                .map(Element::text)
        })
        .collect();
    let statement = a
        .child(SAML1_NS, "AttributeStatement")
        .ok_or("the Assertion has no AttributeStatement")?;
    let name_id = statement
        .find(SAML1_NS, "NameIdentifier")
        .map(Element::text)
        .ok_or("the AttributeStatement names no subject (NameIdentifier)")?;
    let attributes = statement
        .elements()
        .filter(|e| e.is(SAML1_NS, "Attribute"))
        .map(|e| Attribute {
            name: e.attribute("AttributeName").unwrap_or_default().to_string(),
            namespace: e
                .attribute("AttributeNamespace")
                .unwrap_or_default()
                .to_string(),
            values: e
                .elements()
                .filter(|v| v.is(SAML1_NS, "AttributeValue"))
                .map(Element::text)
                .collect(),
        })
        .collect();
    let authentication = a
        .child(SAML1_NS, "AuthenticationStatement")
        .ok_or("the Assertion has no AuthenticationStatement")?;
    Ok(Assertion {
        id: need("AssertionID")?,
        issuer: need("Issuer")?,
        issue_instant: time(a, "IssueInstant")?,
        not_before: time(conditions, "NotBefore")?,
        not_on_or_after: time(conditions, "NotOnOrAfter")?,
        audiences,
        name_id,
        attributes,
        authentication_method: authentication
            .attribute("AuthenticationMethod")
            .unwrap_or_default()
            .to_string(),
        authentication_instant: time(authentication, "AuthenticationInstant")?,
    })
}

/// The certificate (DER) the assertion's signature carries in its
/// KeyInfo, as AD FS includes its token-signing certificate.
pub fn key_info_certificate(document: &str) -> std::result::Result<Vec<u8>, String> {
    let root = xml::parse(document).map_err(|e| e.to_string())?;
    let certificate = root
        .find(SAML1_NS, "Assertion")
        .and_then(|a| a.child(DSIG_NS, "Signature"))
        .and_then(|s| s.find(DSIG_NS, "X509Certificate"))
        .ok_or("the signature's KeyInfo carries no X509Certificate")?
        .text();
    let compact: String = certificate.chars().filter(|c| !c.is_whitespace()).collect();
    Base64::decode_vec(&compact).map_err(|_| "the X509Certificate is not base64".to_string())
}

/// Checks the assertion's enveloped signature with `key` (the issuer's key
/// as the relying party has it configured, not the one the KeyInfo
/// offers): the algorithms, the reference to the assertion, the digest of
/// its canonical form, and the signature over the canonical SignedInfo.
pub fn verify(document: &str, key: &RsaPublicKey) -> std::result::Result<(), String> {
    let root = xml::parse(document).map_err(|e| e.to_string())?;
    let a = root
        .find(SAML1_NS, "Assertion")
        .ok_or("the document holds no SAML 1.1 Assertion")?;
    let signature = a
        .child(DSIG_NS, "Signature")
        .ok_or("the assertion is not signed (no ds:Signature)")?;
    let info = signature
        .child(DSIG_NS, "SignedInfo")
        .ok_or("the signature has no SignedInfo")?;
    fn algorithm(e: Option<&Element>) -> &str {
        e.and_then(|e| e.attribute("Algorithm")).unwrap_or("")
    }
    let c14n = algorithm(info.child(DSIG_NS, "CanonicalizationMethod"));
    if c14n != EXC_C14N {
        return Err(format!(
            "the canonicalization \"{c14n}\" is not exclusive c14n"
        ));
    }
    let method = algorithm(info.child(DSIG_NS, "SignatureMethod"));
    if method != RSA_SHA256 {
        return Err(format!(
            "the signature method \"{method}\" is not RSA-SHA256"
        ));
    }
    let references: Vec<&Element> = info
        .elements()
        .filter(|e| e.is(DSIG_NS, "Reference"))
        .collect();
    let [reference] = references[..] else {
        return Err(format!(
            "the SignedInfo has {} references, not one",
            references.len()
        ));
    };
    let id = a.attribute("AssertionID").unwrap_or_default();
    let uri = reference.attribute("URI").unwrap_or_default();
    if uri.strip_prefix('#') != Some(id) {
        return Err(format!(
            "the signature references \"{uri}\", not the assertion #{id}"
        ));
    }
    let transforms: Vec<&str> = reference
        .child(DSIG_NS, "Transforms")
        .map(|t| {
            t.elements()
                .map(|e| e.attribute("Algorithm").unwrap_or(""))
                .collect()
        })
        .unwrap_or_default();
    if transforms != [ENVELOPED, EXC_C14N] {
        return Err(format!(
            "the transforms {transforms:?} are not enveloped-signature then exclusive c14n"
        ));
    }
    let digest_method = algorithm(reference.child(DSIG_NS, "DigestMethod"));
    if digest_method != DIGEST_SHA256 {
        return Err(format!(
            "the digest method \"{digest_method}\" is not SHA-256"
        ));
    }
    let stated = reference
        .child(DSIG_NS, "DigestValue")
        .map(Element::text)
        .unwrap_or_default();
    let stated = Base64::decode_vec(stated.trim())
        .map_err(|_| "the DigestValue is not base64".to_string())?;
    let signature_span = signature.span.clone();
    let computed = Sha256::digest(xml::exc_c14n(a, &|e| e.span == signature_span).as_bytes());
    if computed.as_slice() != stated.as_slice() {
        return Err("the assertion's digest does not match the signed DigestValue: the assertion was changed after signing".into());
    }
    let value = signature
        .child(DSIG_NS, "SignatureValue")
        .map(Element::text)
        .unwrap_or_default();
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let value =
        Base64::decode_vec(&compact).map_err(|_| "the SignatureValue is not base64".to_string())?;
    crate::rs256::verify(key, xml::exc_c14n(info, &|_| false).as_bytes(), &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn sample() -> Assertion {
        let t = SimTime::from_unix_seconds(1_795_337_000);
        Assertion {
            id: "_a1".into(),
            issuer: "http://adfs.contoso.com/adfs/services/trust".into(),
            issue_instant: t,
            not_before: t,
            not_on_or_after: t.plus(crate::clock::SimDuration::minutes(60)),
            audiences: vec!["urn:federation:MicrosoftOnline".into()],
            name_id: "AAEC&Aw==".into(),
            attributes: vec![Attribute {
                name: "UPN".into(),
                namespace: "http://schemas.xmlsoap.org/claims".into(),
                values: vec!["user@contoso.com".into()],
            }],
            authentication_method: "urn:oasis:names:tc:SAML:1.0:am:password".into(),
            authentication_instant: t,
        }
    }

    #[test]
    fn a_signed_assertion_reads_back_and_verifies_only_unchanged() {
        let mut rng = ChaCha20Rng::from_seed([3; 32]);
        let key = rsa_keygen::new(&mut rng, 1024).unwrap();
        let signed = sample().sign(&key, b"cert").unwrap();
        assert_eq!(read(&signed).unwrap(), sample());
        verify(&signed, &key.to_public_key()).unwrap();
        // Inside a wrapper, too.
        let wrapped = format!("<w xmlns:saml=\"{SAML1_NS}\"><x>{signed}</x></w>");
        verify(&wrapped, &key.to_public_key()).unwrap();
        // An edit of the content breaks the digest; a re-signing mends it.
        let edited = signed.replace("user@contoso.com", "admin@contoso.com");
        let why = verify(&edited, &key.to_public_key()).unwrap_err();
        assert!(why.contains("digest"), "{why}");
        let resigned = resign_document(&edited, &key, b"cert").unwrap();
        verify(&resigned, &key.to_public_key()).unwrap();
        // Another key does not verify.
        let other = rsa_keygen::new(&mut rng, 1024).unwrap();
        let why = verify(&signed, &other.to_public_key()).unwrap_err();
        assert!(why.contains("does not verify"), "{why}");
        // An edit of the SignedInfo (the reference) is caught as well.
        let why = verify(
            &signed.replace("URI=\"#_a1\"", "URI=\"#_b\""),
            &key.to_public_key(),
        )
        .unwrap_err();
        assert!(why.contains("references"), "{why}");
    }

    #[test]
    fn datetimes_read_as_ad_fs_writes_them() {
        let t = SimTime::from_unix_seconds(1_795_337_000);
        assert_eq!(parse_datetime(&t.xml_datetime()), Some(t));
        assert_eq!(
            parse_datetime("2026-11-22T09:00:00Z")
                .map(|t| t.xml_datetime())
                .as_deref(),
            Some("2026-11-22T09:00:00.000Z")
        );
        assert_eq!(parse_datetime("2026-11-22 09:00:00"), None);
    }
}
