//! The registration authority's countersignature: the user's PKCS#10 inside a
//! CMS SignedData (RFC 5652) signed by the enrollment agent, the way an AD CS
//! enroll-on-behalf-of request is built.
//!
//! The shape follows public enroll-on-behalf-of implementations (Certipy's
//! `create_on_behalf_of`): eContentType `id-data`, eContent the DER PKCS#10,
//! the agent's certificate in `certificates`, one SignerInfo identified by
//! issuer and serial number, and the requester's account name as the signed
//! attribute `requestername` (szOID_ENROLLMENT_NAME_VALUE_PAIR, MS-WCCE
//! 2.2.2.7.10). Certipy writes the name and value with a trailing NUL;
//! here they are plain BMPStrings.

use super::certificate::{crypto, parse_certificate, sim_time, x509_time};
use super::der_view;
use super::oid;
use crate::clock::SimTime;
use crate::error::{Error, Result};
use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier,
    SignerInfo, SignerInfos,
};
use der::asn1::{BmpString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence, Tag};
use rsa::RsaPrivateKey;
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;

/// The name of the enroll-on-behalf-of pair (MS-WCCE 3.2.1.4.2.1.2 lists the
/// names a CA understands).
pub(super) const REQUESTER_NAME: &str = "requestername";

/// `EnrollmentNameValuePair` (MS-WCCE 2.2.2.7.10).
///
/// ```text
/// EnrollmentNameValuePair ::= SEQUENCE {
///         name                BMPSTRING,
///         value               BMPSTRING
/// }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(super) struct EnrollmentNameValuePair {
    pub name: BmpString,
    pub value: BmpString,
}

/// `id-sha256` with absent parameters (RFC 5754 §2).
pub(super) fn sha256_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::SHA256,
        parameters: None,
    }
}

/// `rsaEncryption` with NULL parameters: the signatureAlgorithm of a
/// SignerInfo signed with RSASSA-PKCS1-v1_5 (RFC 3370 §3.2).
fn rsa_encryption() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::RSA_ENCRYPTION,
        parameters: Some(Any::null()),
    }
}

fn attribute(id: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute {
        oid: id,
        values: SetOfVec::try_from(vec![value]).map_err(crypto("signed attribute"))?,
    })
}

/// The requester-name attribute for `requester` (`CONTOSO\alexw`).
fn requester_attribute(requester: &str) -> Result<Attribute> {
    let pair = EnrollmentNameValuePair {
        name: BmpString::from_utf8(REQUESTER_NAME).map_err(crypto("requestername"))?,
        value: BmpString::from_utf8(requester).map_err(crypto("requestername"))?,
    };
    attribute(
        oid::ENROLLMENT_NAME_VALUE_PAIR,
        Any::encode_from(&pair).map_err(crypto("requestername"))?,
    )
}

/// `econtent_type` content holding `bytes` (the PKCS#10, a PKINIT AuthPack).
fn encapsulated(bytes: &[u8], econtent_type: ObjectIdentifier) -> Result<EncapsulatedContentInfo> {
    Ok(EncapsulatedContentInfo {
        econtent_type,
        econtent: Some(Any::new(Tag::OctetString, bytes).map_err(crypto("eContent"))?),
    })
}

fn content_info(signed: &SignedData) -> Result<Vec<u8>> {
    ContentInfo {
        content_type: oid::ID_SIGNED_DATA,
        content: Any::encode_from(signed).map_err(crypto("SignedData"))?,
    }
    .to_der()
    .map_err(crypto("ContentInfo"))
}

/// The enrollment agent's countersignature of a PKCS#10 request: a
/// ContentInfo / SignedData whose eContent is `csr`, carrying `agent_cert`,
/// with one SignerInfo whose signed attributes are contentType, signingTime
/// (`now`), messageDigest (SHA-256 of the PKCS#10) and the requester name
/// (RFC 5652 §5.3, §5.4, §11). The signature is RSASSA-PKCS1-v1_5 / SHA-256
/// over the DER SET OF the signed attributes.
pub fn countersign(
    csr: &[u8],
    agent_key: &RsaPrivateKey,
    agent_cert: &[u8],
    requester: &str,
    now: SimTime,
) -> Result<Vec<u8>> {
    signed_data(
        csr,
        oid::ID_DATA,
        agent_cert,
        now,
        vec![requester_attribute(requester)?],
        |bytes| crate::rs256::sign(agent_key, bytes),
    )
}

/// `content` as id-data in a SignedData signed by `key`, whose certificate
/// `cert` it carries: one SignerInfo with contentType, signingTime (`now`)
/// and messageDigest as signed attributes (RFC 5652 §5.3, §11).
pub fn sign_content(
    content: &[u8],
    key: &RsaPrivateKey,
    cert: &[u8],
    now: SimTime,
) -> Result<Vec<u8>> {
    signed_data(content, oid::ID_DATA, cert, now, Vec::new(), |bytes| {
        crate::rs256::sign(key, bytes)
    })
}

/// `content` of type `econtent_type` in a SignedData whose one SignerInfo
/// `sign` signs (RSASSA-PKCS1-v1_5 with SHA-256 over the signed
/// attributes: in a TPM, or with a key in memory), carrying `cert`: what
/// PKINIT's signedAuthPack and dhSignedData are (RFC 4556 §3.2.1, §3.2.3).
pub fn sign_typed(
    content: &[u8],
    econtent_type: ObjectIdentifier,
    cert: &[u8],
    now: SimTime,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    signed_data(content, econtent_type, cert, now, Vec::new(), sign)
}

fn signed_data(
    content_bytes: &[u8],
    econtent_type: ObjectIdentifier,
    cert_der: &[u8],
    now: SimTime,
    extra: Vec<Attribute>,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let cert = parse_certificate(cert_der)?;
    let content = encapsulated(content_bytes, econtent_type)?;
    let signing_time = Any::encode_from(&x509_time(now)?).map_err(crypto("signingTime"))?;
    let digest = Any::new(Tag::OctetString, Sha256::digest(content_bytes).to_vec())
        .map_err(crypto("messageDigest"))?;
    let content_type = Any::encode_from(&econtent_type).map_err(crypto("contentType"))?;
    let mut attributes = vec![
        attribute(oid::ID_CONTENT_TYPE, content_type)?,
        attribute(oid::ID_SIGNING_TIME, signing_time)?,
        attribute(oid::ID_MESSAGE_DIGEST, digest)?,
    ];
    attributes.extend(extra);
    // A SET OF is ordered by its DER encodings (X.690 §11.6); SetOfVec sorts.
    let signed_attrs: SignedAttributes =
        SetOfVec::try_from(attributes).map_err(crypto("signedAttrs"))?;
    // RFC 5652 §5.4: the signature covers the DER of the SET OF, with the
    // SET tag rather than the [0] IMPLICIT tag it has inside SignerInfo.
    let to_sign = signed_attrs.to_der().map_err(crypto("signedAttrs"))?;
    let signature = sign(&to_sign)?;
    let signer = SignerInfo {
        // RFC 5652 §5.3: version 1 with issuerAndSerialNumber.
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_algorithm(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: rsa_encryption(),
        signature: OctetString::new(signature).map_err(crypto("signature"))?,
        unsigned_attrs: None,
    };
    let signed = SignedData {
        // RFC 5652 §5.1: version 1 for id-data, X.509 certificates only and
        // version 1 SignerInfos; 3 for any other eContentType.
        version: if econtent_type == oid::ID_DATA {
            CmsVersion::V1
        } else {
            CmsVersion::V3
        },
        digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()])
            .map_err(crypto("digestAlgorithms"))?,
        encap_content_info: content,
        certificates: Some(
            CertificateSet::try_from(vec![CertificateChoices::Certificate(cert)])
                .map_err(crypto("certificates"))?,
        ),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer]).map_err(crypto("signerInfos"))?,
    };
    content_info(&signed)
}

/// The countersigned request in `cms`, as edited, countersigned again by
/// the enrollment agent: what an insider holding the agent key could do. The
/// eContent is kept as edited and signed afresh (a new messageDigest); the
/// requester name and signing time are kept as edited when the first
/// SignerInfo still carries them, otherwise `requester` and `now` are used.
/// The bytes must still read as a SignedData with eContent.
pub fn recountersign(
    cms: &[u8],
    agent_key: &RsaPrivateKey,
    agent_cert: &[u8],
    requester: &str,
    now: SimTime,
) -> Result<Vec<u8>> {
    const WHAT: &str = "CMS SignedData";
    let signed = parse_signed_data(cms).map_err(|e| Error::malformed(WHAT, e))?;
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| Error::malformed(WHAT, "no eContent to sign"))?
        .value()
        .to_vec();
    let first = signed.signer_infos.0.iter().next();
    let requester = first
        .and_then(requester_name)
        .unwrap_or_else(|| requester.to_string());
    let when = first
        .and_then(|s| signed_attribute(s, &oid::ID_SIGNING_TIME))
        .and_then(|a| a.to_der().ok())
        .and_then(|der| Time::from_der(&der).ok())
        .map(|t| sim_time(&t))
        .unwrap_or(now);
    countersign(&content, agent_key, agent_cert, &requester, when)
}

/// The same SignedData around `csr` with no certificates and no SignerInfo:
/// a request nobody countersigned, for the CA to refuse.
pub fn unsigned_request(csr: &[u8]) -> Result<Vec<u8>> {
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_algorithm()])
            .map_err(crypto("digestAlgorithms"))?,
        encap_content_info: encapsulated(csr, oid::ID_DATA)?,
        certificates: None,
        crls: None,
        signer_infos: SignerInfos::try_from(Vec::new()).map_err(crypto("signerInfos"))?,
    };
    content_info(&signed)
}

/// A CMS certificate chain (MS-WCCE 2.2.2.8: the issued certificate and
/// the CA certificates above it): a SignedData with no content and no
/// signers, only `certificates` (the "certs-only" form of RFC 5652 §5).
pub fn certificate_chain(certs: &[Vec<u8>]) -> Result<Vec<u8>> {
    let parsed = certs
        .iter()
        .map(|c| parse_certificate(c).map(CertificateChoices::Certificate))
        .collect::<Result<Vec<_>>>()?;
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(Vec::new()).map_err(crypto("digestAlgorithms"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: oid::ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet::try_from(parsed).map_err(crypto("certificates"))?),
        crls: None,
        signer_infos: SignerInfos::try_from(Vec::new()).map_err(crypto("signerInfos"))?,
    };
    content_info(&signed)
}

/// The certificates (DER) a CMS SignedData carries, in its order.
pub fn chain_certificates(cms: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let signed = parse_signed_data(cms)?;
    let Some(set) = signed.certificates else {
        return Err("the SignedData carries no certificates".into());
    };
    set.0
        .iter()
        .map(|choice| match choice {
            CertificateChoices::Certificate(c) => c.to_der().map_err(|e| e.to_string()),
            CertificateChoices::Other(_) => Err("a certificate of another format".into()),
        })
        .collect()
}

/// Reads a ContentInfo that must hold a SignedData.
pub(super) fn parse_signed_data(der: &[u8]) -> std::result::Result<SignedData, String> {
    let info = ContentInfo::from_der(der).map_err(|e| format!("not a CMS ContentInfo: {e}"))?;
    if info.content_type != oid::ID_SIGNED_DATA {
        return Err(format!(
            "the ContentInfo holds {}, not signedData",
            oid::describe(&info.content_type)
        ));
    }
    info.content
        .decode_as::<SignedData>()
        .map_err(|e| format!("the content is not a SignedData: {e}"))
}

/// The single value of the signed attribute `id`, if present.
pub(super) fn signed_attribute<'a>(
    signer: &'a SignerInfo,
    id: &ObjectIdentifier,
) -> Option<&'a Any> {
    signer
        .signed_attrs
        .as_ref()?
        .iter()
        .find(|a| &a.oid == id)
        .and_then(|a| a.values.iter().next())
}

/// The requester name the agent signed, if any.
pub(super) fn requester_name(signer: &SignerInfo) -> Option<String> {
    let value = signed_attribute(signer, &oid::ENROLLMENT_NAME_VALUE_PAIR)?;
    let pair = value.decode_as::<EnrollmentNameValuePair>().ok()?;
    let name = pair.name.to_string();
    if name
        .trim_end_matches('\0')
        .eq_ignore_ascii_case(REQUESTER_NAME)
    {
        Some(pair.value.to_string().trim_end_matches('\0').to_string())
    } else {
        None
    }
}

/// The SignerInfos exactly as received, in wire order. Decoding a SET OF
/// sorts it, so the raw elements are the reference for which bytes were
/// signed.
pub(super) fn raw_signer_infos(cms: &[u8]) -> Result<Vec<Vec<u8>>> {
    const WHAT: &str = "CMS SignedData";
    let missing = |what: &str| Error::malformed(WHAT, format!("no {what}"));
    let content_info = der_view::top(cms, WHAT)?;
    let explicit = content_info
        .children()?
        .into_iter()
        .nth(1)
        .ok_or_else(|| missing("content"))?;
    let signed_data = explicit
        .children()?
        .into_iter()
        .next()
        .ok_or_else(|| missing("SignedData"))?;
    let signer_infos = signed_data
        .children()?
        .into_iter()
        .last()
        .ok_or_else(|| missing("signerInfos"))?;
    Ok(signer_infos
        .children()?
        .into_iter()
        .map(|t| t.raw().to_vec())
        .collect())
}

/// The DER a SignerInfo's signature covers: its signed attributes as
/// received, the `[0] IMPLICIT` tag put back to SET OF (RFC 5652 §5.4).
/// Re-encoding a decoded set could reorder or normalise it; the signature is
/// over what was sent.
pub(super) fn signed_attrs_der(raw_signer: &[u8]) -> Result<Vec<u8>> {
    let signer = der_view::top(raw_signer, "SignerInfo")?;
    let attrs = signer
        .children()?
        .into_iter()
        .find(|t| t.tag == 0xA0)
        .ok_or_else(|| Error::invalid("SignerInfo", "no signed attributes"))?;
    let mut der = attrs.raw().to_vec();
    if let Some(tag) = der.first_mut() {
        *tag = 0x31;
    }
    Ok(der)
}
