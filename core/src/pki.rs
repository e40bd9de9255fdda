//! The enterprise PKI building blocks of certificate trust (phases D–G):
//! the root and issuing CA and enrollment agent certificates, the certificate templates,
//! the PKCS#10 request the TPM signs (RFC 2986), the registration authority's
//! CMS countersignature (RFC 5652, enroll on behalf of), the CA's checks and
//! issuance (MS-WCCE), the client's checks on receipt, and the DER field views
//! the inspector shows.
//!
//! Everything is encoded and decoded with the RustCrypto formats crates
//! (`der`, `spki`, `x509-cert`, `cms`); only the field views walk the DER by
//! hand, so that every field's byte range is the one actually read. Signatures
//! are RSASSA-PKCS1-v1_5 with SHA-256, which is deterministic: the same keys
//! and times give byte-identical certificates. Times come in as [`SimTime`];
//! nothing here reads a clock.
//!
//! [`SimTime`]: crate::clock::SimTime

mod ca;
mod certificate;
mod cms;
mod der_view;
mod device;
pub mod oid;
mod request;
mod template;
#[cfg(test)]
mod tests;

pub use ca::{
    check_and_issue, signed_content_and_signer, verify_signed_content, verify_signed_content_of,
    EndEntity, IssueOutcome, Issuer,
};
pub(crate) use certificate::x509_time;
pub use certificate::{
    certificate_ekus, certificate_public_key, certificate_validity, check_issued,
    enrollment_agent_certificate, issuer_in, kdc_certificate, logon_eku, resign_certificate,
    revocation_list, revocation_list_with, revoked_in, root_certificate, self_issued,
    self_signed_logon_certificate, sid_of, subject_key_id, subordinate_ca_certificate, upns_of,
    valid_at, Publication,
};
pub use cms::{
    certificate_chain, chain_certificates, countersign, recountersign, sign_content, sign_typed,
    unsigned_request,
};
pub use der_view::{
    certificate_fields, cms_fields, crl_fields, der_fields, public_key_fields, request_fields,
};
pub use device::{
    device_ca_certificate, enterprise_device_ca_certificate, hybrid_join_certificate,
    issue_device_certificate, read_device_certificate, read_hybrid_join_certificate,
    verify_issued_by, DeviceCertificate, DeviceFacts, DEVICE_CA_CN, DEVICE_CA_OU,
};
pub use request::{build_plain_request, build_request, resign_request, verify_request};
pub use template::{
    hello_users_group, Principal, Template, CT_FLAG_HELLO_LOGON_KEY, HELLO_USERS_GROUP,
    WINDOWS_HELLO_TEMPLATE,
};
