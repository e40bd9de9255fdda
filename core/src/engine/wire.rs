//! What travels between the actors, shared by the phases: the wire id of
//! every artifact a later step reads (grouped by the phase that sends it),
//! and the constructors that turn bytes into artifacts through their
//! format's parser.

use crate::artifact::{Artifact, ArtifactKind};
use crate::error::Error;
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::jws;
use crate::formats::key_credential_link::{DnBinary, KeyCredentialLink};
use serde_json::Value;

/// Wire ids of phase R: the device's join.
pub(crate) mod join {
    pub const JOIN_TOKEN_REQUEST: &str = "join-token-request";
    pub const JOIN_TOKEN: &str = "join-access-token";
    /// A federated join: AD FS's token for whoever joins.
    pub const JOIN_ENTERPRISE_TOKEN: &str = "join-adfs-token";
    pub const DEVICE_CSR: &str = "device-certificate-request";
    pub const JOIN_REQUEST: &str = "join-request";
    pub const DEVICE_CERTIFICATE: &str = "device-certificate";
    pub const JOIN_RESPONSE: &str = "join-response";
    /// Hybrid join: the service connection point's query and entry, the
    /// computer object's userCertificate write, the join request's URL.
    pub const SCP_QUERY: &str = "scp-query";
    pub const SCP_ENTRY: &str = "service-connection-point";
    pub const USER_CERTIFICATE_WRITE: &str = "computer-user-certificate-write";
    pub const JOIN_URL: &str = "join-request-url";
    /// On premises: the Enterprise DRS's discovery document.
    pub const DISCOVERY: &str = "drs-discovery";
}

/// Wire ids of phase S: the first sign-in.
pub(crate) mod sign_in {
    pub const NONCE_RESPONSE: &str = "nonce-response";
    pub const ASSERTION: &str = "ngc-assertion";
    pub const PRT_REQUEST: &str = "prt-request";
    pub const PRT_RESPONSE: &str = "prt-response";
    pub const APP_TOKEN_REQUEST: &str = "prt-token-request";
    pub const APP_TOKEN_RESPONSE: &str = "prt-token-response";
}

/// Wire ids of phase A: tokens and MFA.
pub(crate) mod tokens {
    pub const TOKEN_REQUEST: &str = "wam-token-request";
    pub const SIGN_IN_REQUEST: &str = "sign-in-request";
    pub const MFA_CHALLENGE: &str = "mfa-challenge";
    pub const MFA_RESULT: &str = "mfa-result";
    pub const ENTERPRISE_TOKEN: &str = "enterprise-token";
    pub const ACCESS_TOKEN: &str = "access-token";
}

/// Wire ids of phase B: the user key and its attestation.
pub(crate) mod keys {
    /// TPM2B_PUBLIC of the user key.
    pub const USER_KEY_PUBLIC: &str = "user-key-public";
    /// TPMS_ATTEST from TPM2_Certify.
    pub const ATTESTATION: &str = "key-attestation";
    /// TPMT_SIGNATURE over the attestation, by the AIK.
    pub const ATTESTATION_SIGNATURE: &str = "key-attestation-signature";
    /// The AIK's certificate.
    pub const AIK_CERTIFICATE: &str = "aik-certificate";
}

/// Wire ids of phase C: key registration.
pub(crate) mod registration {
    pub const REGISTRATION_REQUEST: &str = "key-registration-request";
    pub const KNGC: &str = "kngc";
    pub const KEY_CREDENTIAL: &str = "key-credential-link";
    pub const REGISTRATION_RESPONSE: &str = "key-registration-response";
    pub const KEY_RECEIPT: &str = "key-receipt";
}

/// Wire ids of certificate enrollment.
pub(crate) mod certificate {
    pub const CSR: &str = "certificate-request";
    pub const RA_REQUEST: &str = "ra-enrollment-request";
    pub const LDAP_QUERY: &str = "ldap-query";
    pub const COUNTERSIGNED: &str = "countersigned-request";
    pub const CA_SUBMISSION: &str = "ca-submission";
    pub const USER_CERTIFICATE: &str = "user-certificate";
    pub const RECEIPT_SIGNERS: &str = "receipt-signers";
    /// AD FS's answer to the logon certificate request (MS-OAPX: x5c).
    pub const CERTIFICATE_RESPONSE: &str = "certificate-token-response";
    /// The CMS certificate chain inside it: an artifact id, not a message
    /// of its own (an edit goes to the response's x5c).
    pub const CERTIFICATE_CHAIN: &str = "certificate-chain";
}

/// The bytes of a base64 field of a JSON body; `what` names the field in
/// the error.
pub(crate) fn unb64(what: &'static str, text: Option<&str>) -> crate::error::Result<Vec<u8>> {
    use base64ct::{Base64, Encoding};
    let text = text.ok_or_else(|| Error::malformed(what, "the field is missing"))?;
    Base64::decode_vec(text).map_err(|_| Error::malformed(what, "not valid base64"))
}

/// A JWT as an artifact, decoded by the JWS parser.
pub(crate) fn jwt_artifact(id: &str, title: &str, token: &str, modelled: Option<&str>) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Jwt,
        token.as_bytes().to_vec(),
        jws::fields(token),
        modelled,
    )
}

/// A JSON document as an artifact.
pub(crate) fn json_artifact(
    id: &str,
    title: &str,
    value: &Value,
    modelled: Option<&str>,
) -> Artifact {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let fields = crate::json_view::fields(&text);
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Json,
        text.into_bytes(),
        Ok::<_, Error>(fields),
        modelled,
    )
}

/// A BCRYPT_RSAPUBLIC_BLOB as an artifact.
pub(crate) fn bcrypt_artifact(id: &str, title: &str, bytes: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::BcryptRsaPublicBlob,
        bytes.to_vec(),
        BcryptRsaPublicBlob::fields(bytes),
        None,
    )
}

/// A KEYCREDENTIALLINK_BLOB as an artifact.
pub(crate) fn key_credential_artifact(id: &str, title: &str, bytes: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::KeyCredentialLink,
        bytes.to_vec(),
        KeyCredentialLink::fields(bytes),
        None,
    )
}

/// A DN-Binary value as an artifact.
pub(crate) fn dn_binary_artifact(id: &str, title: &str, text: &str) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::DnBinary,
        text.as_bytes().to_vec(),
        DnBinary::fields(text),
        None,
    )
}
