//! The emulated TPM manufacturer: its root CA and the EK certificate it
//! issues at manufacture (TCG EK Credential Profile for TPM Family 2.0).

use core::time::Duration;
use std::str::FromStr;

use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::{DerSignature, SigningKey};
use rand_core::SeedableRng;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::attr::{Attribute, AttributeTypeAndValue};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::crypto::kdfa32;
use crate::error::{Error, Result};
use crate::types::TpmtPublic;

/// `tcg-at-tpmManufacturer` (TCG EK Credential Profile, "TPM Manufacturer").
const TCG_AT_TPM_MANUFACTURER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.1");
/// `tcg-at-tpmModel`.
const TCG_AT_TPM_MODEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.2");
/// `tcg-at-tpmVersion`.
const TCG_AT_TPM_VERSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.3");
/// `tcg-at-tpmSpecification`.
const TCG_AT_TPM_SPECIFICATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.16");
/// `tcg-kp-EKCertificate`: the extended key usage of an EK certificate.
pub const TCG_KP_EK_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.8.1");

/// The vendor ID in `TPM_PT_MANUFACTURER` and the certificate's
/// `tpmManufacturer`: "EMUL" (not a TCG-registered vendor ID).
pub(crate) const MANUFACTURER_ID: u32 = 0x454D_554C;
/// `TPM_PT_FIRMWARE_VERSION_1` (major.minor as two 16-bit halves).
pub(crate) const FIRMWARE_VERSION_1: u32 = 0x0001_0000;
/// `TPM_PT_FIRMWARE_VERSION_2`.
pub(crate) const FIRMWARE_VERSION_2: u32 = 0x0000_0000;
/// The model string in the certificate.
const MODEL: &str = "tpm-emu";

/// `TPMSpecification ::= SEQUENCE { family UTF8String, level INTEGER,
/// revision INTEGER }` (TCG EK Credential Profile).
#[derive(Sequence)]
struct TpmSpecification {
    family: String,
    level: u32,
    revision: u32,
}

/// The manufacturer's certificates, DER.
#[derive(Clone, Debug)]
pub(crate) struct Certificates {
    pub ca: Vec<u8>,
    pub ek: Vec<u8>,
}

/// A certificate time: UTCTime through 2049, GeneralizedTime from 2050
/// (RFC 5280 §4.1.2.5).
fn utc(secs: u64) -> Result<Time> {
    const YEAR_2050: u64 = 2_524_608_000;
    let d = Duration::from_secs(secs);
    if secs < YEAR_2050 {
        UtcTime::from_unix_duration(d).map(Time::UtcTime)
    } else {
        GeneralizedTime::from_unix_duration(d).map(Time::GeneralTime)
    }
    .map_err(|_| Error::Crypto("certificate time"))
}

/// RFC 5280 §4.1.2.5: 99991231235959Z means "no well-defined expiration",
/// which the TCG profile recommends for EK certificates.
fn no_expiry() -> Result<Time> {
    GeneralizedTime::from_unix_duration(Duration::from_secs(253_402_300_799))
        .map(Time::GeneralTime)
        .map_err(|_| Error::Crypto("certificate time"))
}

/// A positive 16-byte serial number derived from the seed.
fn serial(root: &[u8], label: &str) -> Result<SerialNumber> {
    let mut bytes = kdfa32(root, label, &[], &[]);
    bytes[0] = (bytes[0] & 0x7F) | 0x40;
    SerialNumber::new(&bytes[..16]).map_err(|_| Error::Crypto("serial number"))
}

fn utf8_any(s: &str) -> Result<Any> {
    Any::encode_from(&der::asn1::Utf8StringRef::new(s).map_err(|_| Error::Crypto("UTF8String"))?)
        .map_err(|_| Error::Crypto("UTF8String"))
}

/// The manufacturer CA's signing key: a P-256 key drawn from a DRBG seeded
/// with KDFa(seed, "MANUFACTURER CA").
pub(crate) fn ca_key(root: &[u8]) -> SigningKey {
    let mut rng = rand_chacha::ChaCha20Rng::from_seed(kdfa32(root, "MANUFACTURER CA", &[], &[]));
    SigningKey::random(&mut rng)
}

fn ca_subject() -> Result<Name> {
    Name::from_str("CN=tpm-emu Manufacturer Root CA,O=tpm-emu Emulated TPM Manufacturer,C=ZZ")
        .map_err(|_| Error::Crypto("CA name"))
}

/// Issues the manufacturer root certificate and the EK certificate for
/// `ek_public`.
pub(crate) fn issue(root: &[u8], ek_public: &TpmtPublic) -> Result<Certificates> {
    let key = ca_key(root);
    let ca_spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key())
        .map_err(|_| Error::Crypto("CA key"))?;
    // 2024-01-01T00:00:00Z: the emulated manufacture date.
    let not_before = utc(1_704_067_200)?;
    let ca_validity = Validity {
        not_before,
        not_after: no_expiry()?,
    };
    let ca_builder = CertificateBuilder::new(
        Profile::Root,
        serial(root, "MANUFACTURER CA SERIAL")?,
        ca_validity,
        ca_subject()?,
        ca_spki.clone(),
        &key,
    )
    .map_err(|_| Error::Crypto("CA certificate"))?;
    let ca_cert = ca_builder
        .build::<DerSignature>()
        .map_err(|_| Error::Crypto("CA certificate"))?;
    let ca_der = ca_cert
        .to_der()
        .map_err(|_| Error::Crypto("CA certificate"))?;
    let ek_der = ek_certificate(root, &key, &ca_spki, ek_public, not_before)?;
    Ok(Certificates {
        ca: ca_der,
        ek: ek_der,
    })
}

/// The EK certificate (TCG EK Credential Profile for TPM Family 2.0, "EK
/// Certificate"): empty subject, so a critical subjectAltName with the TPM
/// manufacturer, model and version; keyAgreement (an ECC EK decrypts by key
/// agreement); extended key usage tcg-kp-EKCertificate; not a CA; the TPM
/// specification in subjectDirectoryAttributes.
fn ek_certificate(
    root: &[u8],
    key: &SigningKey,
    ca_spki: &SubjectPublicKeyInfoOwned,
    ek_public: &TpmtPublic,
    not_before: Time,
) -> Result<Vec<u8>> {
    fn crypto<E>(_: E) -> Error {
        Error::Crypto("EK certificate")
    }
    let subject = RdnSequence(Vec::new());
    let ek_spki = SubjectPublicKeyInfoOwned::from_der(&ek_public.subject_public_key_info_der()?)
        .map_err(crypto)?;

    let tpm_attributes = SetOfVec::try_from(vec![
        AttributeTypeAndValue {
            oid: TCG_AT_TPM_MANUFACTURER,
            value: utf8_any(&format!("id:{MANUFACTURER_ID:08X}"))?,
        },
        AttributeTypeAndValue {
            oid: TCG_AT_TPM_MODEL,
            value: utf8_any(MODEL)?,
        },
        AttributeTypeAndValue {
            oid: TCG_AT_TPM_VERSION,
            value: utf8_any(&format!("id:{FIRMWARE_VERSION_1:08X}"))?,
        },
    ])
    .map_err(crypto)?;
    let san = SubjectAltName(vec![GeneralName::DirectoryName(RdnSequence(vec![
        RelativeDistinguishedName(tpm_attributes),
    ]))]);

    let spec = TpmSpecification {
        family: "2.0".to_string(),
        level: 0,
        revision: 159,
    };
    let sda = vec![Attribute {
        oid: TCG_AT_TPM_SPECIFICATION,
        values: SetOfVec::try_from(vec![Any::encode_from(&spec).map_err(crypto)?])
            .map_err(crypto)?,
    }];
    let sda_ext = Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_SUBJECT_DIRECTORY_ATTRIBUTES,
        critical: false,
        extn_value: OctetString::new(sda.to_der().map_err(crypto)?).map_err(crypto)?,
    };

    let mut extensions: Vec<Extension> = Vec::new();
    let aki = AuthorityKeyIdentifier::try_from(ca_spki.owned_to_ref()).map_err(crypto)?;
    extensions.push(aki.to_extension(&subject, &extensions).map_err(crypto)?);
    extensions.push(
        BasicConstraints {
            ca: false,
            path_len_constraint: None,
        }
        .to_extension(&subject, &extensions)
        .map_err(crypto)?,
    );
    extensions.push(
        KeyUsage(KeyUsages::KeyAgreement.into())
            .to_extension(&subject, &extensions)
            .map_err(crypto)?,
    );
    extensions.push(
        ExtendedKeyUsage(vec![TCG_KP_EK_CERTIFICATE])
            .to_extension(&subject, &extensions)
            .map_err(crypto)?,
    );
    // With an empty subject, RFC 5280 §4.2.1.6 makes the SAN critical; the
    // x509-cert extension helper applies that rule.
    extensions.push(san.to_extension(&subject, &extensions).map_err(crypto)?);
    extensions.push(sda_ext);

    let signature = AlgorithmIdentifierOwned {
        oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
        parameters: None,
    };
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial(root, "EK CERTIFICATE SERIAL")?,
        signature: signature.clone(),
        issuer: ca_subject()?,
        validity: Validity {
            not_before,
            not_after: no_expiry()?,
        },
        subject,
        subject_public_key_info: ek_spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let tbs_der = tbs.to_der().map_err(crypto)?;
    let sig: DerSignature = signature::Signer::try_sign(key, &tbs_der).map_err(crypto)?;
    let cert = Certificate {
        tbs_certificate: tbs,
        signature_algorithm: signature,
        signature: BitString::from_bytes(sig.as_bytes()).map_err(crypto)?,
    };
    cert.to_der().map_err(crypto)
}

use der::referenced::OwnedToRef;
