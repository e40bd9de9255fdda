//! Certificate templates as the CA reads them from Active Directory
//! (MS-CRTD): only the attributes the flows use.

use super::oid;
use const_oid::ObjectIdentifier;

/// The template name (`cn`) Windows Hello for Business enrolls against in
/// this world. Deployments choose their own name; this one is the explorer's.
pub const WINDOWS_HELLO_TEMPLATE: &str = "WHfBAuthentication";

/// `CT_FLAG_HELLO_LOGON_KEY` in msPKI-Private-Key-Flag (MS-CRTD 2.27; certca.h
/// spells it `CTPRIVATEKEY_FLAG_HELLO_LOGON_KEY`): the client makes the request
/// with its Windows Hello logon key (MS-WCCE 3.1.2.4.2.2.2.8).
pub const CT_FLAG_HELLO_LOGON_KEY: u32 = 0x0020_0000;

/// `CT_FLAG_SUBJECT_ALT_REQUIRE_UPN` in msPKI-Certificate-Name-Flag (MS-CRTD
/// 2.28): the CA puts the user's UPN in the subjectAltName.
pub const CT_FLAG_SUBJECT_ALT_REQUIRE_UPN: u32 = 0x0200_0000;
/// `CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH` in msPKI-Certificate-Name-Flag
/// (MS-CRTD 2.28): the subject is the end entity's distinguished name in
/// Active Directory (MS-WCCE 3.2.2.6.2.1.4.5.9).
pub const CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH: u32 = 0x8000_0000;

/// The security group the Windows Hello for Business authentication
/// template grants Enroll to. Deployments choose their own group; this is
/// the name Microsoft's deployment guides use.
pub const HELLO_USERS_GROUP: &str = "Windows Hello for Business Users";

/// A security principal of the domain: its name and its SID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub sid: String,
}

impl Principal {
    /// `<domain SID>-<rid>`, named `name`.
    pub fn in_domain(name: &str, domain_sid: &str, rid: u32) -> Principal {
        Principal {
            name: name.to_string(),
            sid: format!("{domain_sid}-{rid}"),
        }
    }
}

/// The Windows Hello for Business Users group of the domain whose SID is
/// `domain_sid` (its RID is this world's).
pub fn hello_users_group(domain_sid: &str) -> Principal {
    Principal::in_domain(HELLO_USERS_GROUP, domain_sid, 1110)
}

/// A certificate template (MS-CRTD 2), reduced to what this CA checks and
/// stamps into the certificates it issues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    /// `cn`: the name a request asks for (MS-WCCE 3.2.2.6.2.1.4.1).
    pub name: String,
    /// `displayName`.
    pub display_name: String,
    /// `msPKI-Cert-Template-OID` (MS-CRTD 2.20). Forest-specific in real
    /// deployments; made up for this world's forest.
    pub oid: ObjectIdentifier,
    /// `revision` (MS-CRTD 2.6): the major version in the template extension.
    pub major_version: u32,
    /// `msPKI-Template-Minor-Revision` (MS-CRTD 2.17).
    pub minor_version: u32,
    /// `pKIExtendedKeyUsage` (MS-CRTD): the EKUs of issued certificates.
    pub ekus: Vec<ObjectIdentifier>,
    /// `msPKI-RA-Signature`: how many enrollment-agent signatures a request
    /// needs (MS-WCCE 3.2.2.6.2.1.4.5.1).
    pub required_ra_signatures: u32,
    /// `msPKI-RA-Application-Policies` (MS-CRTD 2.23): the application policy
    /// (EKU) the signers' certificates must carry.
    pub ra_application_policy: ObjectIdentifier,
    /// `msPKI-Private-Key-Flag` (MS-CRTD 2.27).
    pub private_key_flags: u32,
    /// `msPKI-Certificate-Name-Flag` (MS-CRTD 2.28): where the subject and
    /// the subjectAltName come from.
    pub name_flags: u32,
    /// `msPKI-Minimal-Key-Size` (MS-CRTD 2.19), in bits.
    pub min_key_bits: u32,
    /// `pKIExpirationPeriod` (MS-CRTD), in days.
    pub validity_days: u32,
    /// The principals the template's security descriptor allows to Enroll
    /// (MS-CRTD 2.5.1): its allowed Enroll ACEs, without the rest of the
    /// descriptor.
    pub enroll: Vec<Principal>,
}

impl Template {
    /// The Windows Hello for Business authentication template: Smart Card
    /// Logon and Client Authentication, one signature by a Certificate Request
    /// Agent, the Hello logon key flag, RSA-2048, the subject built from the
    /// directory with the UPN in the subjectAltName, and Enroll granted to
    /// the Windows Hello for Business Users group of the domain whose SID is
    /// `domain_sid`, which AD FS's service account is a member of: the CA
    /// checks the account that submits the request (MS-WCCE
    /// 3.2.2.6.2.1.4.3).
    pub fn windows_hello(domain_sid: &str) -> Template {
        Template {
            name: WINDOWS_HELLO_TEMPLATE.to_string(),
            display_name: "WHFB Authentication".to_string(),
            oid: ObjectIdentifier::new_unwrap(
                "1.3.6.1.4.1.311.21.8.4917624.1339478.12094317.15718063.8102516.113.5120573.9014682",
            ),
            major_version: 100,
            minor_version: 3,
            ekus: vec![oid::SMART_CARD_LOGON, oid::CLIENT_AUTH],
            required_ra_signatures: 1,
            ra_application_policy: oid::CERTIFICATE_REQUEST_AGENT,
            private_key_flags: CT_FLAG_HELLO_LOGON_KEY,
            name_flags: CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH | CT_FLAG_SUBJECT_ALT_REQUIRE_UPN,
            min_key_bits: 2048,
            validity_days: 365,
            enroll: vec![hello_users_group(domain_sid)],
        }
    }

    /// The built-in Administrator template: a template the CA publishes
    /// that only Domain Admins and Enterprise Admins may enroll for, so that
    /// a request for it by AD FS's account shows a refusal.
    pub fn administrator(domain_sid: &str) -> Template {
        Template {
            name: "Administrator".to_string(),
            display_name: "Administrator".to_string(),
            oid: ObjectIdentifier::new_unwrap(
                "1.3.6.1.4.1.311.21.8.4917624.1339478.12094317.15718063.8102516.113.1.7",
            ),
            major_version: 4,
            minor_version: 1,
            ekus: vec![
                oid::TRUST_LIST_SIGNING,
                oid::ENCRYPTING_FILE_SYSTEM,
                oid::SECURE_EMAIL,
                oid::CLIENT_AUTH,
            ],
            required_ra_signatures: 0,
            ra_application_policy: oid::CERTIFICATE_REQUEST_AGENT,
            private_key_flags: 0x10,
            name_flags: CT_FLAG_SUBJECT_REQUIRE_DIRECTORY_PATH | CT_FLAG_SUBJECT_ALT_REQUIRE_UPN,
            min_key_bits: 2048,
            validity_days: 365,
            // The well-known RIDs of MS-DTYP 2.4.2.4.
            enroll: vec![
                Principal::in_domain("Domain Admins", domain_sid, 512),
                Principal::in_domain("Enterprise Admins", domain_sid, 519),
            ],
        }
    }
}
