//! Object identifiers the enterprise PKI uses, and readable names for the
//! ones a reader meets in the field views.

use const_oid::ObjectIdentifier;

/// `szOID_ENROLLMENT_AGENT`: the Certificate Request Agent EKU / application
/// policy an enrollment agent's certificate carries.
pub const CERTIFICATE_REQUEST_AGENT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.1");
/// `szOID_KP_SMARTCARD_LOGON`: Smart Card Logon (Kerberos PKINIT sign-in).
pub const SMART_CARD_LOGON: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.2");
/// `szOID_NT_PRINCIPAL_NAME`: the user principal name as a subjectAltName otherName.
pub const USER_PRINCIPAL_NAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.20.2.3");
/// `id-kp-serverAuth` (RFC 5280 §4.2.1.12).
/// `id-pkinit-KPKdc` (RFC 4556 §3.2.4): KDC Authentication, the EKU a
/// domain controller's certificate carries for PKINIT.
pub const KDC_AUTHENTICATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.2.3.5");
/// Server Authentication (RFC 5280 §4.2.1.12).
pub const SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// `id-kp-clientAuth` (RFC 5280 §4.2.1.12).
pub const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// `id-kp-emailProtection` (RFC 5280 §4.2.1.12).
pub const SECURE_EMAIL: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// `szOID_KP_EFS`: Encrypting File System.
pub const ENCRYPTING_FILE_SYSTEM: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.4");
/// `szOID_KP_CTL_USAGE_SIGNING`: Microsoft Trust List Signing.
pub const TRUST_LIST_SIGNING: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.1");
/// `szOID_ENROLLMENT_NAME_VALUE_PAIR` (MS-WCCE 2.2.2.7.10): name-value pairs
/// such as `requestername` in an enroll-on-behalf-of request.
pub const ENROLLMENT_NAME_VALUE_PAIR: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.13.2.1");
/// `szOID_CERTIFICATE_TEMPLATE` (MS-WCCE 2.2.2.7.7.2): which template a
/// certificate was issued from.
pub const CERTIFICATE_TEMPLATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.21.7");

/// The device ID a device registration service generated (MS-DVRJ
/// 3.1.5.1.1.3), in a device certificate.
pub const DEVICE_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113556.1.5.284.2");
/// The object GUID of the user who registered the device (MS-DVRJ 3.1.5.1.1.3).
pub const DEVICE_USER_ID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113556.1.5.284.3");
/// The tenant ID, in a Microsoft Entra device certificate.
/// The objectGUID of the AD domain a device registered in (MS-DVRJ 2.3.1).
pub const DOMAIN_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113556.1.5.284.4");
pub const TENANT_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113556.1.5.284.5");
/// The join type ("0" registered, "1" joined), in a Microsoft Entra device certificate.
pub const JOIN_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113556.1.5.284.7");

/// `szOID_NTDS_CA_SECURITY_EXT` (MS-WCCE 2.2.2.7.7.4): the objectSid of the
/// directory object the certificate's subject was built from, which strong
/// certificate mapping reads (KB5014754).
pub const NTDS_CA_SECURITY_EXT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.25.2");
/// `szOID_NTDS_OBJECTSID` (MS-WCCE 2.2.2.7.7.4): the otherName type inside
/// that extension, whose value is the SID's text as an OCTET STRING.
pub const NTDS_OBJECTSID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.25.2.1");

/// `id-data` (RFC 5652 §4).
pub const ID_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_DATA;
/// `id-signedData` (RFC 5652 §5.1).
pub const ID_SIGNED_DATA: ObjectIdentifier = const_oid::db::rfc5911::ID_SIGNED_DATA;
/// `id-contentType` (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: ObjectIdentifier = const_oid::db::rfc5911::ID_CONTENT_TYPE;
/// `id-messageDigest` (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: ObjectIdentifier = const_oid::db::rfc5911::ID_MESSAGE_DIGEST;
/// `id-signingTime` (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: ObjectIdentifier = const_oid::db::rfc5911::ID_SIGNING_TIME;
/// `pkcs-9-at-extensionRequest` (RFC 2985 §5.4.2).
pub const EXTENSION_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
/// `rsaEncryption` (RFC 8017 Appendix C).
pub const RSA_ENCRYPTION: ObjectIdentifier = const_oid::db::rfc5912::RSA_ENCRYPTION;
/// `sha256WithRSAEncryption` (RFC 8017 Appendix C; RFC 4055 §5).
pub const SHA256_WITH_RSA: ObjectIdentifier = const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
/// `id-sha256` (RFC 5754 §2.2).
pub const SHA256: ObjectIdentifier = const_oid::db::rfc5912::ID_SHA_256;

/// A name for readers: the friendly name for the OIDs of this domain, the
/// registry name for the rest, `None` when neither knows it.
pub fn name(oid: &ObjectIdentifier) -> Option<&'static str> {
    let friendly = match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.3.1.7" => "P-256 (prime256v1)",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.5.4.3" => "commonName",
        "2.5.4.6" => "countryName",
        "2.5.4.7" => "localityName",
        "2.5.4.8" => "stateOrProvinceName",
        "2.5.4.10" => "organizationName",
        "2.5.4.11" => "organizationalUnitName",
        "0.9.2342.19200300.100.1.25" => "domainComponent",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.5.29.9" => "subjectDirectoryAttributes",
        "2.5.29.14" => "subjectKeyIdentifier",
        "2.5.29.15" => "keyUsage",
        "2.5.29.17" => "subjectAltName",
        "2.5.29.19" => "basicConstraints",
        "2.5.29.20" => "cRLNumber",
        "2.5.29.31" => "cRLDistributionPoints",
        "2.5.29.32" => "certificatePolicies",
        "2.5.29.35" => "authorityKeyIdentifier",
        "2.5.29.37" => "extKeyUsage",
        "1.3.6.1.5.5.7.1.1" => "authorityInfoAccess",
        "1.3.6.1.5.5.7.3.1" => "Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "Client Authentication",
        "1.3.6.1.5.5.7.3.4" => "Secure Email",
        "1.3.6.1.4.1.311.10.3.1" => "Microsoft Trust List Signing",
        "1.3.6.1.4.1.311.10.3.4" => "Encrypting File System",
        "1.3.6.1.4.1.311.20.2.1" => "Certificate Request Agent",
        "1.3.6.1.4.1.311.20.2.2" => "Smart Card Logon",
        "1.3.6.1.4.1.311.20.2.3" => "User Principal Name",
        "1.3.6.1.4.1.311.21.7" => "certificateTemplate",
        "1.3.6.1.4.1.311.25.2" => "szOID_NTDS_CA_SECURITY_EXT (SID)",
        "1.3.6.1.4.1.311.25.2.1" => "szOID_NTDS_OBJECTSID",
        "1.3.6.1.5.5.7.48.2" => "id-ad-caIssuers",
        "1.3.6.1.4.1.311.21.10" => "applicationPolicies",
        "1.3.6.1.4.1.311.13.2.1" => "enrollmentNameValuePair",
        "1.2.840.113549.1.7.1" => "data",
        "1.2.840.113549.1.7.2" => "signedData",
        "1.2.840.113549.1.9.3" => "contentType",
        "1.2.840.113549.1.9.4" => "messageDigest",
        "1.2.840.113549.1.9.5" => "signingTime",
        "1.2.840.113549.1.9.7" => "challengePassword",
        "1.2.840.113549.1.9.14" => "extensionRequest",
        "1.2.840.113556.1.5.284.2" => "Entra ID: Device ID",
        "1.2.840.113556.1.5.284.3" => "Entra ID: User ID",
        "1.2.840.113556.1.5.284.4" => "Device registration: Domain ID",
        "1.2.840.113556.1.5.284.5" => "Entra ID: Tenant ID",
        "1.2.840.113556.1.5.284.7" => "Entra ID: Join Type",
        "2.23.133.2.1" => "tpmManufacturer",
        "2.23.133.2.2" => "tpmModel",
        "2.23.133.2.3" => "tpmVersion",
        "2.23.133.2.16" => "tpmSpecification",
        "2.23.133.8.1" => "EK Certificate (tcg-kp-EKCertificate)",
        "2.23.133.8.3" => "AIK Certificate (tcg-kp-AIKCertificate)",
        _ => "",
    };
    if friendly.is_empty() {
        const_oid::db::DB.by_oid(oid)
    } else {
        Some(friendly)
    }
}

/// `1.3.6.1.4.1.311.20.2.2 (Smart Card Logon)`, or the bare dotted form.
pub fn describe(oid: &ObjectIdentifier) -> String {
    match name(oid) {
        Some(n) => format!("{oid} ({n})"),
        None => oid.to_string(),
    }
}

/// The short attribute name RFC 4514 §3 writes in a distinguished name.
pub(crate) fn short_attribute_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    match oid.to_string().as_str() {
        "2.5.4.3" => Some("CN"),
        "2.5.4.6" => Some("C"),
        "2.5.4.7" => Some("L"),
        "2.5.4.8" => Some("ST"),
        "2.5.4.10" => Some("O"),
        "2.5.4.11" => Some("OU"),
        "0.9.2342.19200300.100.1.25" => Some("DC"),
        "1.2.840.113549.1.9.1" => Some("E"),
        _ => None,
    }
}
