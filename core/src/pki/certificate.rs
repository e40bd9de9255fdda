//! X.509 certificates (RFC 5280): the root CA and enrollment agent
//! certificates, the shared helpers the CA uses to issue, and the client's
//! checks of the certificate it receives.

use super::der_view;
use super::oid;
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::event::{Check, Checks};
use crate::formats::encoding::{hex, hex_prefix};
use core::time::Duration;
use der::asn1::OctetString;
use der::asn1::{
    BitString, BmpString, GeneralizedTime, Ia5StringRef, PrintableStringRef, TeletexStringRef,
    UtcTime, Utf8StringRef,
};
use der::referenced::OwnedToRef;
use der::{Any, Decode, Encode, Tag, Tagged};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Validity of an enrollment agent (and other service) certificate: two
/// years, the default of AD CS's Enrollment Agent template.
const SERVICE_CERTIFICATE_YEARS: u32 = 2;

/// A library failure while building: the caller asked for something the
/// encoders refused (an over-long name, a time past 9999).
pub(super) fn crypto<E: core::fmt::Display>(what: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Crypto(format!("{what}: {e}"))
}

/// `sha256WithRSAEncryption` with NULL parameters (RFC 4055 §5).
pub(super) fn sha256_with_rsa() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: oid::SHA256_WITH_RSA,
        parameters: Some(Any::null()),
    }
}

/// The certificate time for `t`: UTCTime through 2049, GeneralizedTime from
/// 2050 (RFC 5280 §4.1.2.5).
pub(crate) fn x509_time(t: SimTime) -> Result<Time> {
    let d = Duration::from_secs(t.unix_seconds());
    if t.civil().0 < 2050 {
        UtcTime::from_unix_duration(d)
            .map(Time::UtcTime)
            .map_err(crypto("certificate time"))
    } else {
        GeneralizedTime::from_unix_duration(d)
            .map(Time::GeneralTime)
            .map_err(crypto("certificate time"))
    }
}

/// A certificate time back in simulated time.
pub(super) fn sim_time(t: &Time) -> SimTime {
    SimTime::from_unix_seconds(t.to_unix_duration().as_secs())
}

/// `t` moved `years` calendar years on (29 February lands on 28 February).
pub(super) fn plus_years(t: SimTime, years: u32) -> SimTime {
    let (y, m, d, ..) = t.civil();
    let target_year = y + i64::from(years);
    let day = if m == 2 && d == 29 && !is_leap(target_year) {
        28
    } else {
        d
    };
    let day_start = days_from_civil(y, m, d);
    let target_start = days_from_civil(target_year, m, day);
    let shift_days = u64::try_from(target_start - day_start).unwrap_or(0);
    t.plus(SimDuration(shift_days * 86_400_000))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil,
/// the inverse of `SimTime::civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `CN=<cn>` as a one-RDN name with a UTF8String value (RFC 5280 §4.1.2.4
/// asks for UTF8String in new certificates).
pub(super) fn cn_name(cn: &str) -> Result<Name> {
    let value = Any::encode_from(&Utf8StringRef::new(cn).map_err(crypto("name"))?)
        .map_err(crypto("name"))?;
    let atv = AttributeTypeAndValue {
        oid: const_oid::db::rfc4519::CN,
        value,
    };
    let rdn = RelativeDistinguishedName(
        der::asn1::SetOfVec::try_from(vec![atv]).map_err(crypto("name"))?,
    );
    Ok(RdnSequence(vec![rdn]))
}

/// A distinguished name in its LDAP string form (RFC 4514: most specific
/// RDN first, `CN=Alex Wilber,OU=Staff,DC=contoso,DC=com`) as an X.509 name,
/// whose RDNs run the other way (RFC 5280 §4.1.2.4). CN, OU and O values are
/// UTF8Strings; DC values IA5Strings (RFC 4519 §2.4). Escaped characters
/// are not supported: the directory's names here have none.
pub(super) fn dn_name(dn: &str) -> Result<Name> {
    let bad = |why: String| Error::invalid("distinguished name", why);
    if dn.contains('\\') {
        return Err(bad(format!("{dn} has an escaped character")));
    }
    let mut rdns = Vec::new();
    for part in dn.split(',').rev() {
        let (kind, value) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| bad(format!("\"{part}\" is not TYPE=value")))?;
        let (oid, value) = match kind.trim().to_ascii_uppercase().as_str() {
            "CN" => (const_oid::db::rfc4519::CN, utf8_value(value)?),
            "OU" => (const_oid::db::rfc4519::OU, utf8_value(value)?),
            "O" => (const_oid::db::rfc4519::O, utf8_value(value)?),
            "DC" => (
                const_oid::db::rfc4519::DOMAIN_COMPONENT,
                Any::encode_from(&Ia5StringRef::new(value).map_err(crypto("name"))?)
                    .map_err(crypto("name"))?,
            ),
            other => return Err(bad(format!("the attribute type {other} is not supported"))),
        };
        let atv = AttributeTypeAndValue { oid, value };
        rdns.push(RelativeDistinguishedName(
            der::asn1::SetOfVec::try_from(vec![atv]).map_err(crypto("name"))?,
        ));
    }
    Ok(RdnSequence(rdns))
}

fn utf8_value(value: &str) -> Result<Any> {
    Any::encode_from(&Utf8StringRef::new(value).map_err(crypto("name"))?).map_err(crypto("name"))
}

/// Where a CA publishes its CRL and its own certificate: the URLs its
/// certificates carry in cRLDistributionPoints (RFC 5280 §4.2.1.13) and
/// authorityInfoAccess id-ad-caIssuers (§4.2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication {
    pub crl: Vec<String>,
    pub ca_issuers: Vec<String>,
}

fn uri(url: &str) -> Result<GeneralName> {
    Ok(GeneralName::UniformResourceIdentifier(
        der::asn1::Ia5String::new(url).map_err(crypto("URI"))?,
    ))
}

/// Appends cRLDistributionPoints and authorityInfoAccess for `publication`.
pub(super) fn push_publication(
    extensions: &mut Vec<Extension>,
    subject: &Name,
    publication: &Publication,
) -> Result<()> {
    if !publication.crl.is_empty() {
        let names = publication
            .crl
            .iter()
            .map(|u| uri(u))
            .collect::<Result<Vec<_>>>()?;
        push_extension(
            extensions,
            subject,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(names)),
                reasons: None,
                crl_issuer: None,
            }]),
        )?;
    }
    if !publication.ca_issuers.is_empty() {
        let access = publication
            .ca_issuers
            .iter()
            .map(|u| {
                Ok(AccessDescription {
                    access_method: const_oid::db::rfc5280::ID_AD_CA_ISSUERS,
                    access_location: uri(u)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        push_extension(extensions, subject, &AuthorityInfoAccessSyntax(access))?;
    }
    Ok(())
}

/// The SID security extension (MS-WCCE 2.2.2.7.7.4): one otherName of type
/// szOID_NTDS_OBJECTSID whose value is the SID's text as an OCTET STRING,
/// not critical. Domain controllers map a certificate to its account by it
/// (strong mapping, KB5014754).
pub(super) fn sid_extension(sid: &str) -> Result<Extension> {
    let value = Any::encode_from(&OctetString::new(sid.as_bytes()).map_err(crypto("SID"))?)
        .map_err(crypto("SID"))?;
    let names = SubjectAltName(vec![GeneralName::OtherName(OtherName {
        type_id: oid::NTDS_OBJECTSID,
        value,
    })]);
    Ok(Extension {
        extn_id: oid::NTDS_CA_SECURITY_EXT,
        critical: false,
        extn_value: OctetString::new(names.to_der().map_err(crypto("SID extension"))?)
            .map_err(crypto("SID extension"))?,
    })
}

/// The SID in the SID security extension of the certificate in `der`, if
/// it has one (what a domain controller maps it by, KB5014754).
pub fn sid_of(der: &[u8]) -> std::result::Result<Option<String>, String> {
    let cert =
        Certificate::from_der(der).map_err(|e| format!("the certificate does not decode: {e}"))?;
    certificate_sid(&cert)
}

/// The user principal names in the subjectAltName of the certificate in `der`.
pub fn upns_of(der: &[u8]) -> std::result::Result<Vec<String>, String> {
    let cert =
        Certificate::from_der(der).map_err(|e| format!("the certificate does not decode: {e}"))?;
    upns(&cert)
}

/// Whether the CRL in `crl` lists the certificate in `der` (same issuer
/// name, the serial among the revoked ones), checking first that the CRL
/// is the issuing CA's, signed by it (RFC 5280 §6.3.3).
pub fn revoked_in(der: &[u8], crl: &[u8], ca_cert: &[u8]) -> std::result::Result<bool, String> {
    use x509_cert::crl::CertificateList;
    let cert =
        Certificate::from_der(der).map_err(|e| format!("the certificate does not decode: {e}"))?;
    let list =
        CertificateList::from_der(crl).map_err(|e| format!("the CRL does not decode: {e}"))?;
    let ca = Certificate::from_der(ca_cert)
        .map_err(|e| format!("the CA certificate does not decode: {e}"))?;
    if list.tbs_cert_list.issuer != ca.tbs_certificate.subject {
        return Err("the CRL is not the issuing CA's".into());
    }
    let tbs = list.tbs_cert_list.to_der().map_err(|e| e.to_string())?;
    let key = rsa_key(&ca.tbs_certificate.subject_public_key_info)?;
    crate::rs256::verify(&key, &tbs, list.signature.raw_bytes())
        .map_err(|e| format!("the CRL's signature: {e}"))?;
    Ok(list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .any(|r| r.serial_number == cert.tbs_certificate.serial_number))
}

/// The SID in a certificate's SID security extension, if it has one.
pub(super) fn certificate_sid(cert: &Certificate) -> std::result::Result<Option<String>, String> {
    let Some(ext) = extension(cert, &oid::NTDS_CA_SECURITY_EXT) else {
        return Ok(None);
    };
    let names = SubjectAltName::from_der(ext.extn_value.as_bytes())
        .map_err(|e| format!("the SID extension does not decode: {e}"))?;
    Ok(names.0.iter().find_map(|name| match name {
        GeneralName::OtherName(OtherName { type_id, value }) if *type_id == oid::NTDS_OBJECTSID => {
            value
                .decode_as::<OctetString>()
                .ok()
                .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
        }
        _ => None,
    }))
}

/// A DirectoryString or other string attribute value as text.
pub(super) fn string_value(any: &Any) -> Option<String> {
    match any.tag() {
        Tag::Utf8String => any
            .decode_as::<Utf8StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::PrintableString => any
            .decode_as::<PrintableStringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::Ia5String => any
            .decode_as::<Ia5StringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::TeletexString => any
            .decode_as::<TeletexStringRef<'_>>()
            .ok()
            .map(|s| s.to_string()),
        Tag::BmpString => any.decode_as::<BmpString>().ok().map(|s| s.to_string()),
        _ => None,
    }
}

/// The first commonName of a name.
pub(super) fn common_name(name: &Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == const_oid::db::rfc4519::CN)
        .and_then(|atv| string_value(&atv.value))
}

/// `CN=…, O=…` in encoded order, for messages.
pub(super) fn name_text(name: &Name) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| {
            let key = oid::short_attribute_name(&atv.oid)
                .map(str::to_string)
                .unwrap_or_else(|| atv.oid.to_string());
            let value = string_value(&atv.value).unwrap_or_else(|| "(binary)".into());
            format!("{key}={value}")
        })
        .collect();
    if parts.is_empty() {
        "(empty name)".into()
    } else {
        parts.join(", ")
    }
}

/// A positive INTEGER serial number (RFC 5280 §4.1.2.2).
pub(super) fn serial_number(n: u64) -> Result<SerialNumber> {
    SerialNumber::new(&n.to_be_bytes()).map_err(crypto("serial number"))
}

/// The serial number as `0x…` hex.
pub(super) fn serial_text(serial: &SerialNumber) -> String {
    let bytes = serial.as_bytes();
    let trimmed = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0u8][..],
    };
    format!("0x{}", hex(trimmed).to_uppercase())
}

/// The SubjectPublicKeyInfo of an RSA key.
pub(super) fn spki(key: &RsaPublicKey) -> Result<SubjectPublicKeyInfoOwned> {
    let der = key
        .to_public_key_der()
        .map_err(crypto("SubjectPublicKeyInfo"))?;
    SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).map_err(crypto("SubjectPublicKeyInfo"))
}

/// The RSA key in a SubjectPublicKeyInfo, refusing any other algorithm.
pub(super) fn rsa_key(
    spki: &SubjectPublicKeyInfoOwned,
) -> std::result::Result<RsaPublicKey, String> {
    if spki.algorithm.oid != oid::RSA_ENCRYPTION {
        return Err(format!(
            "the public key is {}, not an RSA key",
            oid::describe(&spki.algorithm.oid)
        ));
    }
    let der = spki.to_der().map_err(|e| e.to_string())?;
    RsaPublicKey::from_public_key_der(&der).map_err(|e| format!("not a usable RSA public key: {e}"))
}

/// The key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 of the
/// subjectPublicKey bits. The subjectKeyIdentifier of the certificates here,
/// and the authorityKeyIdentifier of those they sign.
pub fn subject_key_id(public: &RsaPublicKey) -> Result<Vec<u8>> {
    let info = spki(public)?;
    let ski =
        SubjectKeyIdentifier::try_from(info.owned_to_ref()).map_err(crypto("key identifier"))?;
    Ok(ski.0.as_bytes().to_vec())
}

/// Reads a DER certificate.
pub(super) fn parse_certificate(der: &[u8]) -> Result<Certificate> {
    Certificate::from_der(der).map_err(|e| Error::malformed("X.509 certificate", e.to_string()))
}

/// The public key a certificate certifies (RFC 5280 §4.1.2.7).
pub fn certificate_public_key(der: &[u8]) -> Result<RsaPublicKey> {
    let cert = parse_certificate(der)?;
    rsa_key(&cert.tbs_certificate.subject_public_key_info)
        .map_err(|e| Error::invalid("X.509 certificate", e))
}

/// A certificate's validity period (RFC 5280 §4.1.2.5): notBefore, notAfter.
pub fn certificate_validity(der: &[u8]) -> Result<(SimTime, SimTime)> {
    let cert = parse_certificate(der)?;
    let v = &cert.tbs_certificate.validity;
    Ok((sim_time(&v.not_before), sim_time(&v.not_after)))
}

/// Signs `tbs` with `key` (sha256WithRSAEncryption) and returns the
/// certificate's DER.
pub(super) fn sign_certificate(tbs: TbsCertificate, key: &RsaPrivateKey) -> Result<Vec<u8>> {
    sign_certificate_with(tbs, |tbs_der| crate::rs256::sign(key, tbs_der))
}

/// A certificate whose TBSCertificate `sign` signs (sha256WithRSAEncryption),
/// wherever the key is: in memory, or in a TPM.
fn sign_certificate_with(
    mut tbs: TbsCertificate,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    tbs.signature = sha256_with_rsa();
    let tbs_der = tbs.to_der().map_err(crypto("TBSCertificate"))?;
    let signature = sign(&tbs_der)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: sha256_with_rsa(),
        signature: BitString::from_bytes(&signature).map_err(crypto("signatureValue"))?,
    };
    cert.to_der().map_err(crypto("certificate"))
}

/// The unsigned part of a v3 certificate; extensions come separately.
pub(super) struct TbsParts {
    pub serial: SerialNumber,
    pub issuer: Name,
    pub not_before: SimTime,
    pub not_after: SimTime,
    pub subject: Name,
    pub spki: SubjectPublicKeyInfoOwned,
}

impl TbsParts {
    pub(super) fn into_tbs(self, extensions: Vec<Extension>) -> Result<TbsCertificate> {
        Ok(TbsCertificate {
            version: Version::V3,
            serial_number: self.serial,
            signature: sha256_with_rsa(),
            issuer: self.issuer,
            validity: Validity {
                not_before: x509_time(self.not_before)?,
                not_after: x509_time(self.not_after)?,
            },
            subject: self.subject,
            subject_public_key_info: self.spki,
            // RFC 5280 §4.1.2.8: conforming CAs do not generate unique identifiers.
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        })
    }
}

/// Appends an extension, encoded by its x509-cert type.
pub(super) fn push_extension(
    extensions: &mut Vec<Extension>,
    subject: &Name,
    extension: &impl AsExtension,
) -> Result<()> {
    let ext = extension
        .to_extension(subject, extensions)
        .map_err(crypto("certificate extension"))?;
    extensions.push(ext);
    Ok(())
}

/// Appends extKeyUsage, non-critical as AD CS writes it (RFC 5280
/// §4.2.1.12 leaves criticality to the issuer; x509-cert would mark it
/// critical).
pub(super) fn push_eku(
    extensions: &mut Vec<Extension>,
    subject: &Name,
    ekus: Vec<const_oid::ObjectIdentifier>,
) -> Result<()> {
    push_extension(extensions, subject, &ExtendedKeyUsage(ekus))?;
    if let Some(ext) = extensions.last_mut() {
        ext.critical = false;
    }
    Ok(())
}

/// The authorityKeyIdentifier pointing at the issuer's key (RFC 5280 §4.2.1.1).
pub(super) fn authority_key_id(issuer: &Certificate) -> Result<AuthorityKeyIdentifier> {
    AuthorityKeyIdentifier::try_from(
        issuer
            .tbs_certificate
            .subject_public_key_info
            .owned_to_ref(),
    )
    .map_err(crypto("authorityKeyIdentifier"))
}

/// The subjectKeyIdentifier for the certified key (RFC 5280 §4.2.1.2).
pub(super) fn own_key_id(spki: &SubjectPublicKeyInfoOwned) -> Result<SubjectKeyIdentifier> {
    SubjectKeyIdentifier::try_from(spki.owned_to_ref()).map_err(crypto("subjectKeyIdentifier"))
}

/// The certificate in `der`, as edited, signed again with `key`
/// (sha256WithRSAEncryption): what an insider holding the CA key could do.
/// The TBSCertificate is kept as edited, its inner signature field included;
/// the bytes must still read as a certificate.
pub fn resign_certificate(der: &[u8], key: &RsaPrivateKey) -> Result<Vec<u8>> {
    let mut cert = parse_certificate(der)?;
    let tbs_der = cert
        .tbs_certificate
        .to_der()
        .map_err(crypto("TBSCertificate"))?;
    let signature = crate::rs256::sign(key, &tbs_der)?;
    cert.signature_algorithm = sha256_with_rsa();
    cert.signature = BitString::from_bytes(&signature).map_err(crypto("signatureValue"))?;
    cert.to_der().map_err(crypto("certificate"))
}

/// The enterprise root CA's self-signed certificate: CA, keyCertSign and
/// cRLSign, a subjectKeyIdentifier, valid `years` calendar years from
/// `not_before`. The serial is taken from the SHA-256 of the key, so it is
/// stable for a key (AD CS draws a random one).
pub fn root_certificate(
    key: &RsaPrivateKey,
    cn: &str,
    not_before: SimTime,
    years: u32,
) -> Result<Vec<u8>> {
    self_signed_ca(key, cn_name(cn)?, not_before, years)
}

/// A self-signed CA certificate for `subject`: keyCertSign and cRLSign, CA,
/// a subjectKeyIdentifier, valid `years` calendar years from `not_before`,
/// its serial taken from the SHA-256 of the key (stable for a key).
pub(super) fn self_signed_ca(
    key: &RsaPrivateKey,
    subject: Name,
    not_before: SimTime,
    years: u32,
) -> Result<Vec<u8>> {
    let info = spki(&key.to_public_key())?;
    let digest = Sha256::digest(info.to_der().map_err(crypto("SubjectPublicKeyInfo"))?);
    let mut serial_bytes = [0u8; 16];
    serial_bytes.copy_from_slice(&digest[..16]);
    serial_bytes[0] &= 0x7F;
    let serial = SerialNumber::new(&serial_bytes).map_err(crypto("serial number"))?;

    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )?;
    push_extension(
        &mut extensions,
        &subject,
        &BasicConstraints {
            ca: true,
            path_len_constraint: None,
        },
    )?;
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    let tbs = TbsParts {
        serial,
        issuer: subject.clone(),
        not_before,
        not_after: plus_years(not_before, years),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, key)
}

/// A CA certificate for `public`, issued by the CA of `issuer_cert` with
/// `issuer_key`: digitalSignature, keyCertSign and cRLSign, CA with a path
/// length of 0 (it issues end-entity certificates only), key identifiers,
/// and where the issuer publishes its CRL and certificate; valid `years`
/// calendar years from `not_before`.
#[allow(clippy::too_many_arguments)]
pub fn subordinate_ca_certificate(
    issuer_key: &RsaPrivateKey,
    issuer_cert: &[u8],
    issuer_publication: &Publication,
    public: &RsaPublicKey,
    cn: &str,
    serial: u64,
    not_before: SimTime,
    years: u32,
) -> Result<Vec<u8>> {
    let issuer = parse_certificate(issuer_cert)?;
    let subject = cn_name(cn)?;
    let info = spki(public)?;
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyCertSign | KeyUsages::CRLSign),
    )?;
    push_extension(
        &mut extensions,
        &subject,
        &BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        },
    )?;
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    push_extension(&mut extensions, &subject, &authority_key_id(&issuer)?)?;
    push_publication(&mut extensions, &subject, issuer_publication)?;
    let tbs = TbsParts {
        serial: serial_number(serial)?,
        issuer: issuer.tbs_certificate.subject.clone(),
        not_before,
        not_after: plus_years(not_before, years),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, issuer_key)
}

/// A certificate for the registration authority's key, issued by the CA:
/// digitalSignature, and the Certificate Request Agent EKU
/// (1.3.6.1.4.1.311.20.2.1) when `request_agent_eku`; otherwise Server
/// Authentication only, as a service-communication certificate has, which a
/// CA must refuse as a request signer (MS-WCCE 3.2.2.6.2.1.4.5.4). Valid two
/// years from `not_before`, with authority and subject key identifiers.
#[allow(clippy::too_many_arguments)]
pub fn enrollment_agent_certificate(
    root_key: &RsaPrivateKey,
    root_cert: &[u8],
    publication: &Publication,
    agent: &RsaPublicKey,
    cn: &str,
    serial: u64,
    not_before: SimTime,
    request_agent_eku: bool,
) -> Result<Vec<u8>> {
    let root = parse_certificate(root_cert)?;
    let subject = cn_name(cn)?;
    let info = spki(agent)?;
    let eku = if request_agent_eku {
        oid::CERTIFICATE_REQUEST_AGENT
    } else {
        oid::SERVER_AUTH
    };
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature.into()),
    )?;
    push_eku(&mut extensions, &subject, vec![eku])?;
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    push_extension(&mut extensions, &subject, &authority_key_id(&root)?)?;
    push_publication(&mut extensions, &subject, publication)?;
    let tbs = TbsParts {
        serial: serial_number(serial)?,
        issuer: root.tbs_certificate.subject.clone(),
        not_before,
        not_after: plus_years(not_before, SERVICE_CERTIFICATE_YEARS),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, root_key)
}

/// A domain controller's certificate, as AD CS's Kerberos Authentication
/// template issues it: the host name as subject CN and, with the domain,
/// as dNSName subjectAltNames; KDC Authentication (RFC 4556 §3.2.4), Smart
/// Card Logon, Client and Server Authentication; digitalSignature and
/// keyEncipherment; key identifiers and the issuer's CDP and AIA.
#[allow(clippy::too_many_arguments)]
pub fn kdc_certificate(
    issuer_key: &RsaPrivateKey,
    issuer_cert: &[u8],
    publication: &Publication,
    kdc: &RsaPublicKey,
    dns_names: &[&str],
    serial: u64,
    not_before: SimTime,
) -> Result<Vec<u8>> {
    let issuer = parse_certificate(issuer_cert)?;
    let host = dns_names.first().copied().unwrap_or_default();
    let subject = cn_name(host)?;
    let info = spki(kdc)?;
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
    )?;
    push_eku(
        &mut extensions,
        &subject,
        vec![
            oid::CLIENT_AUTH,
            oid::SERVER_AUTH,
            oid::SMART_CARD_LOGON,
            oid::KDC_AUTHENTICATION,
        ],
    )?;
    let names = dns_names
        .iter()
        .map(|n| {
            Ia5StringRef::new(n)
                .map(|s| GeneralName::DnsName(s.into()))
                .map_err(crypto("dNSName"))
        })
        .collect::<Result<Vec<_>>>()?;
    push_extension(&mut extensions, &subject, &SubjectAltName(names))?;
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    push_extension(&mut extensions, &subject, &authority_key_id(&issuer)?)?;
    push_publication(&mut extensions, &subject, publication)?;
    let tbs = TbsParts {
        serial: serial_number(serial)?,
        issuer: issuer.tbs_certificate.subject.clone(),
        not_before,
        not_after: plus_years(not_before, 1),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, issuer_key)
}

/// The self-signed certificate a Windows Hello for Business key-trust
/// client makes from the user key for PKINIT, signed by `sign` (the TPM,
/// after the PIN): subject and issuer CN=`cn`, the key's own identifier,
/// valid from `not_before` to `not_after`. No domain CA is involved: the
/// KDC trusts the key, not the certificate, by finding it in the user's
/// msDS-KeyCredentialLink, and ignores chain errors (MS-PKCA 3.1.5.2.1.4).
/// What Windows writes in it is not published: modelled on the one public
/// tools make for the same logon (Whisker: `cn=<sAMAccountName>`,
/// SHA-256 with RSA, a year).
pub fn self_signed_logon_certificate(
    public: &RsaPublicKey,
    cn: &str,
    not_before: SimTime,
    not_after: SimTime,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let subject = cn_name(cn)?;
    let info = spki(public)?;
    let mut extensions = Vec::new();
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    let tbs = TbsParts {
        serial: serial_number(
            u64::from_be_bytes(
                Sha256::digest(info.subject_public_key.raw_bytes())[..8]
                    .try_into()
                    .unwrap_or([1; 8]),
            ) >> 1,
        )?,
        issuer: subject.clone(),
        not_before,
        not_after,
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate_with(tbs, sign)
}

/// The extension with `oid`, if the certificate has one.
pub(super) fn extension<'a>(
    cert: &'a Certificate,
    id: &const_oid::ObjectIdentifier,
) -> Option<&'a Extension> {
    cert.tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| &e.extn_id == id))
}

/// Whether `now` lies within the certificate's validity period (RFC 5280
/// §6.1.3); the reason names the period.
pub fn valid_at(der: &[u8], now: SimTime) -> std::result::Result<(), String> {
    let (from, to) = certificate_validity(der).map_err(|e| e.to_string())?;
    if now < from || now > to {
        Err(format!("the certificate is valid from {from} to {to}"))
    } else {
        Ok(())
    }
}

/// `id-pkinit-KPClientAuth` (RFC 4556 §3.2.2).
const PKINIT_CLIENT_AUTH: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.2.3.4");

/// Whether the certificate's extended key usages allow a PKINIT sign-in:
/// Smart Card Logon or id-pkinit-KPClientAuth (RFC 4556 §3.2.2); with the
/// EKUs it has, for a reason.
pub fn logon_eku(
    der: &[u8],
) -> std::result::Result<(bool, Vec<const_oid::ObjectIdentifier>), String> {
    let ekus = certificate_ekus(der)?;
    let fit = ekus.contains(&super::oid::SMART_CARD_LOGON) || ekus.contains(&PKINIT_CLIENT_AUTH);
    Ok((fit, ekus))
}

/// The extended key usages of the certificate in `der`.
pub fn certificate_ekus(
    der: &[u8],
) -> std::result::Result<Vec<const_oid::ObjectIdentifier>, String> {
    let cert =
        Certificate::from_der(der).map_err(|e| format!("the certificate does not decode: {e}"))?;
    ekus(&cert)
}

/// The certificate's extended key usages; empty when it has none.
pub(super) fn ekus(
    cert: &Certificate,
) -> std::result::Result<Vec<const_oid::ObjectIdentifier>, String> {
    match extension(cert, &const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE) {
        None => Ok(Vec::new()),
        Some(ext) => ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
            .map(|e| e.0)
            .map_err(|e| format!("the extKeyUsage extension does not decode: {e}")),
    }
}

/// `1.3.6.1.5.5.7.3.1 (Server Authentication), …` or `(none)`.
pub(super) fn oid_list(oids: &[const_oid::ObjectIdentifier]) -> String {
    if oids.is_empty() {
        "(none)".into()
    } else {
        oids.iter()
            .map(oid::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The user principal names in the subjectAltName (otherName
/// 1.3.6.1.4.1.311.20.2.3, UTF8String).
pub(super) fn upns(cert: &Certificate) -> std::result::Result<Vec<String>, String> {
    let Some(ext) = extension(cert, &const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME) else {
        return Ok(Vec::new());
    };
    let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
        .map_err(|e| format!("the subjectAltName extension does not decode: {e}"))?;
    Ok(san
        .0
        .iter()
        .filter_map(|name| match name {
            GeneralName::OtherName(OtherName { type_id, value })
                if *type_id == oid::USER_PRINCIPAL_NAME =>
            {
                value
                    .decode_as::<Utf8StringRef<'_>>()
                    .ok()
                    .map(|s| s.to_string())
            }
            _ => None,
        })
        .collect())
}

/// The subjectAltName with one UPN otherName.
pub(super) fn upn_san(upn: &str) -> Result<SubjectAltName> {
    let value = Any::encode_from(&Utf8StringRef::new(upn).map_err(crypto("UPN"))?)
        .map_err(crypto("UPN"))?;
    Ok(SubjectAltName(vec![GeneralName::OtherName(OtherName {
        type_id: oid::USER_PRINCIPAL_NAME,
        value,
    })]))
}

/// The exact bytes of the first element inside the outer SEQUENCE: the
/// signed part (TBSCertificate, CertificationRequestInfo) as it was received,
/// not as a decoder would re-encode it.
pub(super) fn signed_part(der: &[u8], what: &'static str) -> Result<Vec<u8>> {
    let outer = der_view::top(der, what)?;
    let first = outer
        .children()?
        .into_iter()
        .next()
        .ok_or_else(|| Error::malformed(what, "the outer SEQUENCE is empty"))?;
    Ok(first.raw().to_vec())
}

/// Whether `issuer`'s key signed `cert` (sha256WithRSAEncryption), over the
/// TBSCertificate bytes as received.
pub(super) fn verify_issued_by(
    cert_der: &[u8],
    cert: &Certificate,
    issuer_key: &RsaPublicKey,
) -> std::result::Result<(), String> {
    if cert.signature_algorithm.oid != oid::SHA256_WITH_RSA {
        return Err(format!(
            "the certificate is signed with {}, not sha256WithRSAEncryption",
            oid::describe(&cert.signature_algorithm.oid)
        ));
    }
    let tbs = signed_part(cert_der, "X.509 certificate").map_err(|e| e.to_string())?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or("the signatureValue BIT STRING has unused bits")?;
    crate::rs256::verify(issuer_key, &tbs, signature)
}

/// `2026-11-22 09:00:00 UTC to 2027-11-22 09:00:00 UTC`.
pub(super) fn validity_text(validity: &Validity) -> String {
    format!(
        "{} to {}",
        sim_time(&validity.not_before),
        sim_time(&validity.not_after)
    )
}

/// Whether `now` lies within the validity period (RFC 5280 §4.1.2.5: both
/// ends inclusive).
pub(super) fn covers(validity: &Validity, now: SimTime) -> bool {
    sim_time(&validity.not_before) <= now && now <= sim_time(&validity.not_after)
}

/// `RSA-2048, modulus c3a1…`.
pub(super) fn key_text(key: &RsaPublicKey) -> String {
    format!(
        "RSA-{}, modulus {}",
        key.n().bits(),
        hex_prefix(&key.n().to_bytes_be(), 8)
    )
}

/// Whether the CA certificate `ca` issued `cert` (`cert_der` as received):
/// names match, `ca` is a CA (RFC 5280 §6.1.4 (k)), its key signed `cert`.
fn issued_by_ca(
    cert_der: &[u8],
    cert: &Certificate,
    ca: &Certificate,
    what: &str,
) -> std::result::Result<(), String> {
    let ca_name = name_text(&ca.tbs_certificate.subject);
    if cert.tbs_certificate.issuer != ca.tbs_certificate.subject {
        return Err(format!(
            "{what}'s issuer is {}, not {ca_name}",
            name_text(&cert.tbs_certificate.issuer)
        ));
    }
    let is_ca = extension(ca, &const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .is_some_and(|b| b.ca);
    if !is_ca {
        return Err(format!("{ca_name} is not a CA (basicConstraints)"));
    }
    let key = rsa_key(&ca.tbs_certificate.subject_public_key_info)?;
    verify_issued_by(cert_der, cert, &key)
        .map_err(|e| format!("{what}: {e} with the key of {ca_name}"))
}

/// The CRL (RFC 5280 §5) the CA of `ca_cert` publishes at `this_update`:
/// version 2, no revoked certificate, valid until `next_update`, with the
/// authorityKeyIdentifier and cRLNumber extensions (§5.2.1, §5.2.3),
/// signed with `ca_key` (sha256WithRSAEncryption).
pub fn revocation_list(
    ca_key: &RsaPrivateKey,
    ca_cert: &[u8],
    this_update: SimTime,
    next_update: SimTime,
    number: u64,
) -> Result<Vec<u8>> {
    revocation_list_with(ca_key, ca_cert, this_update, next_update, number, &[])
}

/// The same CRL listing `revoked`: each certificate's serial and when the
/// CA revoked it (RFC 5280 §5.1.2.6).
pub fn revocation_list_with(
    ca_key: &RsaPrivateKey,
    ca_cert: &[u8],
    this_update: SimTime,
    next_update: SimTime,
    number: u64,
    revoked: &[(u64, SimTime)],
) -> Result<Vec<u8>> {
    use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
    use x509_cert::ext::pkix::CrlNumber;
    let ca = parse_certificate(ca_cert)?;
    let issuer = ca.tbs_certificate.subject.clone();
    let mut extensions = Vec::new();
    push_extension(&mut extensions, &issuer, &authority_key_id(&ca)?)?;
    let number = der::asn1::Uint::new(&number.to_be_bytes()).map_err(crypto("cRLNumber"))?;
    push_extension(&mut extensions, &issuer, &CrlNumber(number))?;
    let tbs = TbsCertList {
        version: Version::V2,
        signature: sha256_with_rsa(),
        issuer,
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates: if revoked.is_empty() {
            None
        } else {
            Some(
                revoked
                    .iter()
                    .map(|&(serial, at)| {
                        Ok(RevokedCert {
                            serial_number: serial_number(serial)?,
                            revocation_date: x509_time(at)?,
                            crl_entry_extensions: None,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?,
            )
        },
        crl_extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(crypto("TBSCertList"))?;
    let signature = crate::rs256::sign(ca_key, &tbs_der)?;
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: sha256_with_rsa(),
        signature: BitString::from_bytes(&signature).map_err(crypto("signatureValue"))?,
    }
    .to_der()
    .map_err(crypto("CRL"))
}

/// The certificate among `candidates` whose subject is `cert`'s issuer
/// (another certificate than `cert` itself): where a chain names the CA
/// that issued it.
/// Whether the certificate in `der` names itself as its issuer.
pub fn self_issued(der: &[u8]) -> bool {
    parse_certificate(der)
        .map(|c| c.tbs_certificate.issuer == c.tbs_certificate.subject)
        .unwrap_or(false)
}

pub fn issuer_in(cert: &[u8], candidates: &[Vec<u8>]) -> Option<Vec<u8>> {
    let issuer = parse_certificate(cert).ok()?.tbs_certificate.issuer;
    candidates
        .iter()
        .filter(|c| c.as_slice() != cert)
        .find(|c| {
            parse_certificate(c)
                .map(|p| p.tbs_certificate.subject == issuer)
                .unwrap_or(false)
        })
        .cloned()
}

/// The client's checks of the certificate the RA returns, before it puts it
/// in the store next to its TPM key: it chains through the issuing CA
/// (`issuer_cert`, which domain members get from Active Directory) to the
/// enterprise root they trust, is valid now, is for its own key, has the
/// EKUs Windows Hello sign-in needs, and names the user. Every check runs,
/// so a reader sees all that is wrong.
pub fn check_issued(
    cert: &[u8],
    issuer_cert: &[u8],
    root_cert: &[u8],
    key: &RsaPublicKey,
    upn: &str,
    now: SimTime,
    by: Actor,
) -> Vec<Check> {
    let mut checks = Checks::new(by);
    let parsed = match (
        parse_certificate(cert),
        parse_certificate(issuer_cert),
        parse_certificate(root_cert),
    ) {
        (Ok(c), Ok(i), Ok(r)) => (c, i, r),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            checks.check::<()>(
                "Certificate is readable",
                format!("{} bytes of DER as an X.509 certificate", cert.len()),
                "RFC 5280 §4.1",
                Err(e.to_string()),
            );
            return checks.into_vec();
        }
    };
    let (cert_parsed, issuer, root) = parsed;
    let tbs = &cert_parsed.tbs_certificate;

    let root_name = name_text(&root.tbs_certificate.subject);
    let issuer_name = name_text(&issuer.tbs_certificate.subject);
    let chain = issued_by_ca(cert, &cert_parsed, &issuer, "the certificate")
        .and_then(|()| issued_by_ca(issuer_cert, &issuer, &root, "the issuing CA's certificate"))
        .and_then(|()| {
            if covers(&issuer.tbs_certificate.validity, now) {
                Ok(())
            } else {
                Err(format!(
                    "the issuing CA's certificate is valid {}, which does not include {now}",
                    validity_text(&issuer.tbs_certificate.validity)
                ))
            }
        });
    checks.check(
        "Certificate chains to the enterprise root",
        format!(
            "issuer {} and the signature ({}) against the issuing CA {issuer_name}, and its certificate against the trusted root {root_name} and its key",
            name_text(&tbs.issuer),
            oid::describe(&cert_parsed.signature_algorithm.oid)
        ),
        "RFC 5280 §6.1.3 (a)(1), (a)(2), (a)(4); §6.1.4 (k)",
        chain,
    );

    checks.check(
        "Certificate is valid now",
        format!(
            "validity {} against now, {now}",
            validity_text(&tbs.validity)
        ),
        "RFC 5280 §4.1.2.5, §6.1.3 (a)(2)",
        if covers(&tbs.validity, now) {
            Ok(())
        } else {
            Err(format!(
                "{now} lies outside {}",
                validity_text(&tbs.validity)
            ))
        },
    );

    let certified = rsa_key(&tbs.subject_public_key_info);
    checks.check(
        "Certificate is for the TPM key",
        format!(
            "the certified key ({}) against the user key in the TPM ({})",
            certified
                .as_ref()
                .map(key_text)
                .unwrap_or_else(|e| e.clone()),
            key_text(key)
        ),
        "RFC 5280 §4.1.2.7",
        certified.and_then(|k| {
            if &k == key {
                Ok(())
            } else {
                Err("the certificate certifies a different key from the one in the TPM".into())
            }
        }),
    );

    let found = ekus(&cert_parsed);
    let needed = [oid::SMART_CARD_LOGON, oid::CLIENT_AUTH];
    checks.check(
        "Certificate allows Windows Hello sign-in",
        format!(
            "EKUs {} against the needed {}",
            found
                .as_deref()
                .map(oid_list)
                .unwrap_or_else(|e| e.to_string()),
            oid_list(&needed)
        ),
        "RFC 5280 §4.2.1.12",
        found.and_then(|found| {
            let missing: Vec<_> = needed
                .iter()
                .filter(|o| !found.contains(o))
                .copied()
                .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(format!("the certificate lacks {}", oid_list(&missing)))
            }
        }),
    );

    let names = upns(&cert_parsed);
    checks.check(
        "Certificate names the user",
        format!(
            "the subjectAltName UPN {} against the signed-in user {upn}",
            names
                .as_ref()
                .map(|n| if n.is_empty() {
                    "(none)".to_string()
                } else {
                    n.join(", ")
                })
                .unwrap_or_else(|e| e.clone())
        ),
        "RFC 5280 §4.2.1.6",
        names.and_then(|n| {
            if n.iter().any(|u| u.eq_ignore_ascii_case(upn)) {
                Ok(())
            } else {
                Err(format!("no UPN otherName in the certificate equals {upn}"))
            }
        }),
    );
    checks.into_vec()
}
