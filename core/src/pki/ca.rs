//! The enterprise CA: its checks of an enroll-on-behalf-of request and the
//! certificate it issues (MS-WCCE 3.2.2.6.2.1.4, server processing of a
//! request against a certificate template).

use super::certificate::{
    authority_key_id, cn_name, common_name, covers, dn_name, ekus, key_text, name_text, oid_list,
    own_key_id, parse_certificate, push_eku, push_extension, push_publication, rsa_key,
    serial_number, serial_text, sid_extension, sign_certificate, upn_san, validity_text,
    verify_issued_by, Publication, TbsParts,
};
use super::cms::{
    parse_signed_data, raw_signer_infos, requester_name, signed_attribute, signed_attrs_der,
};
use super::oid;
use super::request::verify_request;
use super::template::{
    Principal, Template, CT_FLAG_SUBJECT_ALT_REQUIRE_UPN, CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH,
};
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::Result;
use crate::event::{Check, Checks};
use crate::formats::encoding::hex_prefix;
use ::cms::cert::CertificateChoices;
use ::cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Sequence};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;

/// The CA's checks in order, up to and including the first that failed, and
/// the certificate when every check held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueOutcome {
    pub checks: Vec<Check>,
    pub certificate: Option<Vec<u8>>,
    /// The account the certificate was issued for, once the CA found it.
    pub account: Option<String>,
}

/// What the CA reads from Active Directory about an account (MS-WCCE
/// 3.2.2.1.2): about the account that submits a request (the permission
/// check), and about the account a request is for (the subject, the UPN and
/// the SID of the certificate), never from the request itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndEntity {
    /// `CONTOSO\alexw`, as a requestername attribute names the account.
    pub account: String,
    pub dn: String,
    pub upn: String,
    pub sid: String,
    /// The groups the account is a member of (its tokenGroups).
    pub groups: Vec<Principal>,
}

/// The issuing CA: its key and certificate, the templates it publishes and
/// where it publishes its CRL and certificate.
#[derive(Clone, Copy, Debug)]
pub struct Issuer<'a> {
    pub key: &'a RsaPrivateKey,
    pub certificate: &'a [u8],
    pub templates: &'a [Template],
    pub publication: &'a Publication,
    /// Whether the CA writes the SID security extension (AD CS does since
    /// the May 2022 updates, KB5014754).
    pub writes_sid: bool,
}

/// The CA stops at its first failed check.
fn refuse(checks: Checks) -> IssueOutcome {
    IssueOutcome {
        checks: checks.into_vec(),
        certificate: None,
        account: None,
    }
}

/// `CertificateTemplateOID` (MS-WCCE 2.2.2.7.7.2), the value of the
/// szOID_CERTIFICATE_TEMPLATE extension.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CertificateTemplateOid {
    template_id: ObjectIdentifier,
    template_major_version: u32,
    template_minor_version: u32,
}

impl der::oid::AssociatedOid for CertificateTemplateOid {
    const OID: ObjectIdentifier = oid::CERTIFICATE_TEMPLATE;
}

impl AsExtension for CertificateTemplateOid {
    /// MS-WCCE 2.2.2.7.7.2: the critical field SHOULD be FALSE.
    fn critical(&self, _subject: &Name, _extensions: &[Extension]) -> bool {
        false
    }
}

/// A signer of the request, with the certificate the SignerInfo names.
struct Signer {
    info: SignerInfo,
    raw: Vec<u8>,
    cert: Option<Certificate>,
}

fn signer_label(s: &Signer) -> String {
    match &s.cert {
        Some(c) => name_text(&c.tbs_certificate.subject),
        None => match &s.info.sid {
            SignerIdentifier::IssuerAndSerialNumber(i) => format!(
                "serial {} from {}",
                serial_text(&i.serial_number),
                name_text(&i.issuer)
            ),
            SignerIdentifier::SubjectKeyIdentifier(k) => {
                format!("key {}", hex_prefix(k.0.as_bytes(), 20))
            }
        },
    }
}

/// The certificate among `certificates` that the SignerInfo names.
fn find_certificate(signed: &SignedData, sid: &SignerIdentifier) -> Option<Certificate> {
    let certs = signed.certificates.as_ref()?;
    certs.0.iter().find_map(|choice| {
        let CertificateChoices::Certificate(cert) = choice else {
            return None;
        };
        let tbs = &cert.tbs_certificate;
        let matches = match sid {
            SignerIdentifier::IssuerAndSerialNumber(i) => {
                i.issuer == tbs.issuer && i.serial_number == tbs.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(k) => own_key_id(&tbs.subject_public_key_info)
                .map(|own| own.0 == k.0)
                .unwrap_or(false),
        };
        matches.then(|| cert.clone())
    })
}

/// The SignerInfos in wire order, each with its certificate.
fn signers(cms: &[u8], signed: &SignedData) -> std::result::Result<Vec<Signer>, String> {
    let raw = raw_signer_infos(cms).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|raw| {
            let info = SignerInfo::from_der(&raw)
                .map_err(|e| format!("a SignerInfo does not decode: {e}"))?;
            let cert = find_certificate(signed, &info.sid);
            Ok(Signer { info, raw, cert })
        })
        .collect()
}

/// The signer's certificate chains to the root: named issuer, signature by
/// the root's key, valid now.
fn check_chain(
    signer: &Signer,
    root: &Certificate,
    root_key: &RsaPublicKey,
    now: SimTime,
) -> std::result::Result<(), String> {
    let Some(cert) = &signer.cert else {
        return Err(format!(
            "the SignerInfo names {}, but the request carries no such certificate",
            signer_label(signer)
        ));
    };
    let tbs = &cert.tbs_certificate;
    if tbs.issuer != root.tbs_certificate.subject {
        return Err(format!(
            "the signer's certificate was issued by {}, not by this CA ({})",
            name_text(&tbs.issuer),
            name_text(&root.tbs_certificate.subject)
        ));
    }
    // The certificate as the decoder re-encodes it: DER has one encoding per
    // value, so a tampered certificate still fails below.
    let der = cert.to_der().map_err(|e| e.to_string())?;
    verify_issued_by(&der, cert, root_key).map_err(|e| format!("{e} with this CA's key"))?;
    if !covers(&tbs.validity, now) {
        return Err(format!(
            "the signer's certificate is valid {}, which does not include {now}",
            validity_text(&tbs.validity)
        ));
    }
    Ok(())
}

/// A SignedData's content, once its one signature verifies (RFC 5652 §5.4,
/// §5.6) with the key of the certificate it carries, which must be
/// `expected_signer` (DER): what a party that knows the signer's
/// certificate checks of a signed message. Returns the signer's
/// certificate too.
pub fn verify_signed_content(
    cms: &[u8],
    expected_signer: Option<&[u8]>,
) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
    let signed = parse_signed_data(cms)?;
    let content = econtent(&signed)?;
    let all = signers(cms, &signed)?;
    let [signer] = all.as_slice() else {
        return Err(format!("{} SignerInfos, not one", all.len()));
    };
    let cert = signer.cert.as_ref().ok_or_else(|| {
        format!(
            "the SignerInfo names {}, but the message carries no such certificate",
            signer_label(signer)
        )
    })?;
    let cert_der = cert.to_der().map_err(|e| e.to_string())?;
    if let Some(expected) = expected_signer {
        if expected != cert_der.as_slice() {
            return Err(format!(
                "the message is signed by {}, not by the certificate expected",
                name_text(&cert.tbs_certificate.subject)
            ));
        }
    }
    check_signature(signer, &signed, &content)?;
    Ok((content, cert_der))
}

/// The eContent of the SignedData in `cms` and the certificate its one
/// SignerInfo names, without checking the signature (to sign it again).
pub fn signed_content_and_signer(cms: &[u8]) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
    let signed = parse_signed_data(cms)?;
    let content = econtent(&signed)?;
    let all = signers(cms, &signed)?;
    let cert = all
        .first()
        .and_then(|s| s.cert.as_ref())
        .ok_or("the SignedData names no certificate it carries")?;
    Ok((content, cert.to_der().map_err(|e| e.to_string())?))
}

/// [`verify_signed_content`] for a message whose eContentType must be
/// `econtent_type` (PKINIT's signed AuthPack and DH key data).
pub fn verify_signed_content_of(
    cms: &[u8],
    econtent_type: ObjectIdentifier,
) -> std::result::Result<(Vec<u8>, Vec<u8>), String> {
    let verified = verify_signed_content(cms, None)?;
    match parse_signed_data(cms)?.encap_content_info.econtent_type {
        t if t == econtent_type => Ok(verified),
        t => Err(format!(
            "the eContentType is {}, not {}",
            oid::describe(&t),
            oid::describe(&econtent_type)
        )),
    }
}

/// The eContent of a SignedData.
fn econtent(signed: &SignedData) -> std::result::Result<Vec<u8>, String> {
    signed
        .encap_content_info
        .econtent
        .as_ref()
        .map(|c| c.value().to_vec())
        .ok_or_else(|| "the SignedData has no eContent".to_string())
}

/// RFC 5652 §5.4 and §5.6: the content type and digest under the signature
/// match the content, and the signature over the signed attributes verifies
/// with the signer's key.
fn check_signature(
    signer: &Signer,
    signed: &SignedData,
    content: &[u8],
) -> std::result::Result<(), String> {
    let cert = signer
        .cert
        .as_ref()
        .ok_or("the signer's certificate is missing")?;
    let info = &signer.info;
    if info.digest_alg.oid != oid::SHA256 {
        return Err(format!(
            "the digest algorithm is {}, not sha256",
            oid::describe(&info.digest_alg.oid)
        ));
    }
    if info.signature_algorithm.oid != oid::RSA_ENCRYPTION
        && info.signature_algorithm.oid != oid::SHA256_WITH_RSA
    {
        return Err(format!(
            "the signature algorithm is {}, not RSASSA-PKCS1-v1_5",
            oid::describe(&info.signature_algorithm.oid)
        ));
    }
    let content_type = signed_attribute(info, &oid::ID_CONTENT_TYPE)
        .ok_or("the signed attributes have no contentType (RFC 5652 §11.1 requires it)")?
        .decode_as::<ObjectIdentifier>()
        .map_err(|e| format!("the contentType attribute does not decode: {e}"))?;
    if content_type != signed.encap_content_info.econtent_type {
        return Err(format!(
            "the signed contentType {} differs from eContentType {}",
            oid::describe(&content_type),
            oid::describe(&signed.encap_content_info.econtent_type)
        ));
    }
    let digest_any = signed_attribute(info, &oid::ID_MESSAGE_DIGEST)
        .ok_or("the signed attributes have no messageDigest (RFC 5652 §11.2 requires it)")?;
    let digest = digest_any
        .decode_as::<OctetStringRef<'_>>()
        .map_err(|e| format!("the messageDigest attribute does not decode: {e}"))?;
    let actual = Sha256::digest(content);
    if digest.as_bytes() != actual.as_slice() {
        return Err(format!(
            "the signed messageDigest {} is not the SHA-256 of eContent, {}: the request changed after the agent signed it",
            hex_prefix(digest.as_bytes(), 8),
            hex_prefix(&actual, 8)
        ));
    }
    let key = rsa_key(&cert.tbs_certificate.subject_public_key_info)?;
    let attrs = signed_attrs_der(&signer.raw).map_err(|e| e.to_string())?;
    crate::rs256::verify(&key, &attrs, info.signature.as_bytes())
        .map_err(|e| format!("{e} with the key of {}", signer_label(signer)))
}

/// The CA's processing of a countersigned request for `requested_template`
/// (MS-WCCE semantics), checking in order and stopping at the first refusal:
///
/// 1. the request is a CMS SignedData with content (RFC 5652 §5.1);
/// 2. the template is one this CA issues (MS-WCCE 3.2.2.6.2.1.4.1);
/// 3. it carries the RA signatures the template needs (3.2.2.6.2.1.4.5.1);
/// 4. each signer's certificate chains to this CA and is valid now;
/// 5. each signer's certificate carries the template's RA application
///    policy (3.2.2.6.2.1.4.5.4);
/// 6. each signature verifies and its messageDigest matches the content
///    (RFC 5652 §5.4, §5.6);
/// 7. the account that submitted the request (`caller`, whom the DCOM
///    transport authenticated: AD FS's service account), or a group it is a
///    member of, holds Enroll on the template (3.2.2.6.2.1.4.3; MS-CRTD
///    2.5.1);
/// 8. the account the request is for (its requestername) is in Active
///    Directory (3.2.2.6.2.1.2.1, 3.2.2.1.2);
/// 9. the inner PKCS#10's self-signature verifies (RFC 2986 §3);
/// 10. the key is RSA of at least the template's minimum size (MS-CRTD 2.19);
///
/// and then issues the certificate from the directory, not from the
/// request (3.2.2.6.2.1.4.5.9): the subject is the account's distinguished
/// name, the UPN a subjectAltName otherName, the SID security extension
/// names its SID (2.2.2.7.7.4); with the template's EKUs, digitalSignature,
/// key identifiers, the CA's CRL distribution point and AIA, the template
/// extension, valid from `now` for the template's validity, signed by the
/// issuing CA's key.
pub fn check_and_issue(
    cms: &[u8],
    requested_template: &str,
    ca: &Issuer<'_>,
    caller: &str,
    directory: &[EndEntity],
    serial: u64,
    now: SimTime,
) -> IssueOutcome {
    let templates = ca.templates;
    let mut checks = Checks::new(Actor::Ca);

    let parsed = parse_signed_data(cms).and_then(|signed| {
        let content = signed
            .encap_content_info
            .econtent
            .as_ref()
            .map(|c| c.value().to_vec())
            .ok_or("the SignedData has no eContent: there is no request inside")?;
        if signed.encap_content_info.econtent_type != oid::ID_DATA {
            return Err(format!(
                "eContentType is {}, not id-data",
                oid::describe(&signed.encap_content_info.econtent_type)
            ));
        }
        let signers = signers(cms, &signed)?;
        Ok((signed, content, signers))
    });
    let compared = match &parsed {
        Ok((signed, content, signers)) => format!(
            "a ContentInfo of type signedData, eContentType {}, eContent {} bytes, {} certificates, {} SignerInfos",
            oid::describe(&signed.encap_content_info.econtent_type),
            content.len(),
            signed.certificates.as_ref().map(|c| c.0.len()).unwrap_or(0),
            signers.len()
        ),
        Err(_) => format!("{} bytes of DER as a CMS ContentInfo / SignedData", cms.len()),
    };
    let Some((signed, content, signers)) = checks.check(
        "Request is a CMS SignedData",
        compared,
        "RFC 5652 §3, §5.1, §5.2",
        parsed,
    ) else {
        return refuse(checks);
    };

    let offered: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    let Some(template) = checks.check(
        "Template is offered by this CA",
        format!(
            "the requested template \"{requested_template}\" against the templates this CA issues: {}",
            offered.join(", ")
        ),
        "MS-WCCE 3.2.2.6.2.1.4.1",
        templates
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(requested_template))
            .ok_or_else(|| {
                format!(
                    "CERTSRV_E_UNSUPPORTED_CERT_TYPE (0x80094800): this CA does not issue a template named \"{requested_template}\""
                )
            }),
    ) else {
        return refuse(checks);
    };

    let count = signers.len();
    let needed = template.required_ra_signatures;
    let count_result = if needed > 0 && count == 0 {
        Err(format!(
            "CERTSRV_E_SIGNATURE_POLICY_REQUIRED (0x80094809): {} needs a signature by an enrollment agent and the request carries none",
            template.name
        ))
    } else if u32::try_from(count).unwrap_or(u32::MAX) < needed {
        Err(format!(
            "CERTSRV_E_SIGNATURE_COUNT (0x8009480A): {} needs {needed} enrollment-agent signatures and the request carries {count}",
            template.name
        ))
    } else {
        Ok(())
    };
    if checks
        .check(
            "Request carries the required RA signatures",
            format!(
                "{count} SignerInfos in the request against msPKI-RA-Signature = {needed} on {}",
                template.name
            ),
            "MS-WCCE 3.2.2.6.2.1.4.5.1",
            count_result,
        )
        .is_none()
    {
        return refuse(checks);
    }

    if !signers.is_empty() {
        let root = match parse_certificate(ca.certificate)
            .map_err(|e| e.to_string())
            .and_then(|root| {
                rsa_key(&root.tbs_certificate.subject_public_key_info).map(|k| (root, k))
            }) {
            Ok(r) => r,
            Err(e) => {
                checks.check::<()>(
                    "Enrollment agent certificate chains to this CA",
                    "the CA's own certificate",
                    "RFC 5280 §6.1",
                    Err(format!("the CA's certificate cannot be read: {e}")),
                );
                return refuse(checks);
            }
        };
        let (root_parsed, root_public) = root;
        let descriptions: Vec<String> = signers
            .iter()
            .map(|s| match &s.cert {
                Some(c) => format!(
                    "{} (serial {}, issued by {}, valid {})",
                    name_text(&c.tbs_certificate.subject),
                    serial_text(&c.tbs_certificate.serial_number),
                    name_text(&c.tbs_certificate.issuer),
                    validity_text(&c.tbs_certificate.validity)
                ),
                None => signer_label(s),
            })
            .collect();
        let chain = signers
            .iter()
            .try_for_each(|s| check_chain(s, &root_parsed, &root_public, now));
        if checks
            .check(
                "Enrollment agent certificate chains to this CA",
                format!(
                    "the signer certificate {} against this CA, {}, and its key, at {now}",
                    descriptions.join("; "),
                    name_text(&root_parsed.tbs_certificate.subject)
                ),
                "RFC 5280 §6.1.3; MS-WCCE 3.2.2.6.2.1.4.5.1",
                chain,
            )
            .is_none()
        {
            return refuse(checks);
        }

        let policy = template.ra_application_policy;
        let mut found = Vec::new();
        let mut policy_result = Ok(());
        for s in &signers {
            let Some(cert) = &s.cert else { continue };
            match ekus(cert) {
                Ok(list) => {
                    found.push(format!(
                        "{}: {}",
                        common_name(&cert.tbs_certificate.subject)
                            .unwrap_or_else(|| signer_label(s)),
                        oid_list(&list)
                    ));
                    if !list.contains(&policy) && policy_result.is_ok() {
                        policy_result = Err(format!(
                            "CERTSRV_E_SIGNATURE_REJECTED (0x8009480B): the certificate of {} does not carry {}, the application policy {} asks of the certificates that sign its requests",
                            signer_label(s),
                            oid::describe(&policy),
                            template.name
                        ));
                    }
                }
                Err(e) => {
                    if policy_result.is_ok() {
                        policy_result =
                            Err(format!("CERTSRV_E_SIGNATURE_REJECTED (0x8009480B): {e}"));
                    }
                }
            }
        }
        if checks
            .check(
                "Signer is a Certificate Request Agent",
                format!(
                    "the EKUs of the signer certificate ({}) against msPKI-RA-Application-Policies = {}",
                    found.join("; "),
                    oid::describe(&policy)
                ),
                "MS-WCCE 3.2.2.6.2.1.4.5.4",
                policy_result,
            )
            .is_none()
        {
            return refuse(checks);
        }

        let actual = Sha256::digest(&content);
        let signature = signers
            .iter()
            .try_for_each(|s| check_signature(s, &signed, &content));
        if checks
            .check(
                "Enrollment agent signature",
                format!(
                    "the signed messageDigest against SHA-256 of eContent ({}), and the RSASSA-PKCS1-v1_5 signature over the signed attributes against the key of {}",
                    hex_prefix(&actual, 8),
                    signers.iter().map(signer_label).collect::<Vec<_>>().join("; ")
                ),
                "RFC 5652 §5.4, §5.6, §11.2",
                signature,
            )
            .is_none()
        {
            return refuse(checks);
        }
    }

    let lookup = |name: &str| {
        directory
            .iter()
            .find(|e| e.account.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("Active Directory has no account named {name}"))
    };
    let allowed: Vec<String> = template
        .enroll
        .iter()
        .map(|p| format!("{} ({})", p.name, p.sid))
        .collect();
    let caller_account = lookup(caller);
    let permission = caller_account.clone().and_then(|account| {
        let permitted = template
            .enroll
            .iter()
            .any(|p| p.sid == account.sid || account.groups.iter().any(|g| g.sid == p.sid));
        if permitted {
            Ok(())
        } else {
            Err(format!(
                "CERTSRV_E_TEMPLATE_DENIED (0x80094012): the permissions on {} do not let {caller} enroll: neither the account nor any of its groups is allowed Enroll",
                template.name
            ))
        }
    });
    let caller_text = match caller_account {
        Ok(account) => {
            let groups: Vec<String> = account
                .groups
                .iter()
                .map(|g| format!("{} ({})", g.name, g.sid))
                .collect();
            format!(
                "{caller} ({}) and its groups, {}",
                account.sid,
                if groups.is_empty() {
                    "none".to_string()
                } else {
                    groups.join(", ")
                }
            )
        }
        Err(_) => caller.to_string(),
    };
    if checks
        .check(
            "Requester may enroll for the template",
            format!(
                "the account that submitted the request, {caller_text}, against the principals allowed Enroll on {}: {}",
                template.name,
                allowed.join(", ")
            ),
            "MS-WCCE 3.2.2.6.2.1.4.3; MS-CRTD 2.5.1",
            permission,
        )
        .is_none()
    {
        return refuse(checks);
    }

    let requester = signers.first().and_then(|s| requester_name(&s.info));
    let Some(entity) = checks.check(
        "Account is in Active Directory",
        format!(
            "the requestername {} against the accounts of the directory",
            requester.as_deref().unwrap_or("(none)")
        ),
        "MS-WCCE 3.2.2.6.2.1.2.1, 3.2.2.1.2",
        match &requester {
            None => Err(
                "the request names no account (no requestername attribute), so the CA cannot tell whom the certificate is for".to_string(),
            ),
            Some(name) => lookup(name),
        },
    ) else {
        return refuse(checks);
    };

    let Some(key) = checks.check(
        "Request signature",
        "the PKCS#10 signature (sha256WithRSAEncryption) against the key inside the request",
        "RFC 2986 §3",
        verify_request(&content).map_err(|e| e.to_string()),
    ) else {
        return refuse(checks);
    };

    let bits = key.n().bits();
    if checks
        .check(
            "Key meets the template's minimum size",
            format!(
                "RSA-{bits} against msPKI-Minimal-Key-Size = {} on {}",
                template.min_key_bits, template.name
            ),
            "MS-CRTD 2.19",
            if u64::try_from(bits).unwrap_or(0) >= u64::from(template.min_key_bits) {
                Ok(())
            } else {
                Err(format!(
                    "CERTSRV_E_KEY_LENGTH (0x80094811): the request's key is {bits} bits; {} asks for at least {}",
                    template.name, template.min_key_bits
                ))
            },
        )
        .is_none()
    {
        return refuse(checks);
    }

    let not_after = now.plus(SimDuration(u64::from(template.validity_days) * 86_400_000));
    let issued = issue(&content, template, ca, entity, serial, now, not_after);
    let certificate = checks.check(
        "Certificate issued",
        format!(
            "serial 0x{serial:X}, subject {}, UPN {}, SID {}, EKUs {}, key {}, valid {now} to {not_after}, CRL at {}, signed by the issuing CA's key",
            entity.dn,
            entity.upn,
            entity.sid,
            oid_list(&template.ekus),
            key_text(&key),
            ca.publication.crl.join(" and ")
        ),
        "RFC 5280 §4.1; MS-WCCE 2.2.2.7.7.2, 2.2.2.7.7.4, 3.2.2.6.2.1.4.5.9",
        issued.map_err(|e| e.to_string()),
    );
    IssueOutcome {
        checks: checks.into_vec(),
        certificate,
        account: Some(entity.account.clone()),
    }
}

/// The certificate for the request in `csr` (already verified), for the
/// account `entity` as the directory describes it.
fn issue(
    csr: &[u8],
    template: &Template,
    ca: &Issuer<'_>,
    entity: &EndEntity,
    serial: u64,
    now: SimTime,
    not_after: SimTime,
) -> Result<Vec<u8>> {
    let issuer = parse_certificate(ca.certificate)?;
    let request = x509_cert::request::CertReq::from_der(csr)
        .map_err(|e| crate::error::Error::malformed("PKCS#10 request", e.to_string()))?;
    // MS-WCCE 3.2.2.6.2.1.4.5.9: the subject comes from the directory; the
    // request's own subject is ignored.
    let subject = if template.name_flags & CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH != 0 {
        dn_name(&entity.dn)?
    } else {
        cn_name(&entity.upn)?
    };
    let info = request.info.public_key;
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature.into()),
    )?;
    push_eku(&mut extensions, &subject, template.ekus.clone())?;
    if template.name_flags & CT_FLAG_SUBJECT_ALT_REQUIRE_UPN != 0 {
        push_extension(&mut extensions, &subject, &upn_san(&entity.upn)?)?;
    }
    if ca.writes_sid {
        extensions.push(sid_extension(&entity.sid)?);
    }
    push_extension(&mut extensions, &subject, &own_key_id(&info)?)?;
    push_extension(&mut extensions, &subject, &authority_key_id(&issuer)?)?;
    push_publication(&mut extensions, &subject, ca.publication)?;
    push_extension(
        &mut extensions,
        &subject,
        &CertificateTemplateOid {
            template_id: template.oid,
            template_major_version: template.major_version,
            template_minor_version: template.minor_version,
        },
    )?;
    let tbs = TbsParts {
        serial: serial_number(serial)?,
        issuer: issuer.tbs_certificate.subject.clone(),
        not_before: now,
        not_after,
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, ca.key)
}
