//! The PKI end to end with real keys: request, countersignature, the CA's
//! checks and refusals, the client's checks, and the field views.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::artifact::Field;
use crate::clock::{SimDuration, SimTime};
use crate::error::Result;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::sync::OnceLock;

const ROOT_CN: &str = "Contoso Enterprise Root CA";
const ISSUING_CN: &str = "Contoso Issuing CA";
const DOMAIN_SID: &str = "S-1-5-21-1004336348-1177238915-682003330";
const USER_DN: &str = "CN=Alex Wilber,OU=Staff,DC=contoso,DC=com";
/// AD FS's service account, which submits the agent's requests.
const CALLER: &str = "CONTOSO\\adfssvc$";
const AGENT_CN: &str = "ADFS Enrollment Agent (adfs.contoso.com)";
const SERVICE_CN: &str = "adfs.contoso.com";
const UPN: &str = "alexw@contoso.com";
const REQUESTER: &str = "CONTOSO\\alexw";
const NOW: SimTime = SimTime::DEFAULT_START;
const SERIAL: u64 = 0x1000;

struct Keys {
    root: RsaPrivateKey,
    issuing: RsaPrivateKey,
    agent: RsaPrivateKey,
    user: RsaPrivateKey,
    other: RsaPrivateKey,
    small: RsaPrivateKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = |seed: u64, bits: usize| {
            rsa_keygen::new(&mut ChaCha20Rng::seed_from_u64(seed), bits).unwrap()
        };
        Keys {
            root: key(1, 2048),
            agent: key(2, 2048),
            user: key(3, 2048),
            other: key(4, 2048),
            small: key(5, 1024),
            issuing: key(6, 2048),
        }
    })
}

/// The world's PKI as it stands when the run starts.
struct Pki {
    root: Vec<u8>,
    issuing: Vec<u8>,
    publication: Publication,
    agent: Vec<u8>,
    service: Vec<u8>,
    templates: Vec<Template>,
    csr: Vec<u8>,
    cms: Vec<u8>,
}

fn days(n: u64) -> SimDuration {
    SimDuration::minutes(n * 24 * 60)
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let k = keys();
        let root = root_certificate(&k.root, ROOT_CN, SimTime(NOW.0 - days(730).0), 20).unwrap();
        let issuing = subordinate_ca_certificate(
            &k.root,
            &root,
            &root_publication(),
            &k.issuing.to_public_key(),
            ISSUING_CN,
            1,
            SimTime(NOW.0 - days(365).0),
            10,
        )
        .unwrap();
        let publication = issuing_publication();
        let since = SimTime(NOW.0 - days(30).0);
        let agent_pub = k.agent.to_public_key();
        let agent = enrollment_agent_certificate(
            &k.issuing,
            &issuing,
            &publication,
            &agent_pub,
            AGENT_CN,
            2,
            since,
            true,
        )
        .unwrap();
        let service = enrollment_agent_certificate(
            &k.issuing,
            &issuing,
            &publication,
            &agent_pub,
            SERVICE_CN,
            3,
            since,
            false,
        )
        .unwrap();
        let csr = request_by(&k.user.to_public_key(), &k.user);
        let cms = countersign(&csr, &k.agent, &agent, REQUESTER, NOW).unwrap();
        Pki {
            root,
            issuing,
            publication,
            agent,
            service,
            templates: vec![
                Template::windows_hello(DOMAIN_SID),
                Template::administrator(DOMAIN_SID),
            ],
            csr,
            cms,
        }
    })
}

/// A request for `public`, signed by `signer` (the TPM in the engine).
fn request_by(public: &RsaPublicKey, signer: &RsaPrivateKey) -> Vec<u8> {
    build_request(UPN, public, |info| crate::rs256::sign(signer, info)).unwrap()
}

fn root_publication() -> Publication {
    Publication {
        crl: vec!["http://ca.contoso.com/CertEnroll/Contoso%20Enterprise%20Root%20CA.crl".into()],
        ca_issuers: vec![
            "http://ca.contoso.com/CertEnroll/ca.contoso.com_Contoso%20Enterprise%20Root%20CA.crt"
                .into(),
        ],
    }
}

fn issuing_publication() -> Publication {
    Publication {
        crl: vec!["http://ca.contoso.com/CertEnroll/Contoso%20Issuing%20CA.crl".into()],
        ca_issuers: vec![
            "http://ca.contoso.com/CertEnroll/ca.contoso.com_Contoso%20Issuing%20CA.crt".into(),
        ],
    }
}

/// The directory's accounts: the user, and AD FS's service account, in
/// the group the template lets enroll when `adfs_in_group`.
fn accounts(adfs_in_group: bool) -> Vec<EndEntity> {
    let mut adfs_groups = vec![Principal::in_domain("Domain Computers", DOMAIN_SID, 515)];
    if adfs_in_group {
        adfs_groups.push(hello_users_group(DOMAIN_SID));
    }
    vec![
        EndEntity {
            account: REQUESTER.into(),
            dn: USER_DN.into(),
            upn: UPN.into(),
            sid: format!("{DOMAIN_SID}-1104"),
            groups: vec![
                Principal::in_domain("Domain Users", DOMAIN_SID, 513),
                hello_users_group(DOMAIN_SID),
            ],
        },
        EndEntity {
            account: CALLER.into(),
            dn: "CN=adfssvc,CN=Managed Service Accounts,DC=contoso,DC=com".into(),
            upn: String::new(),
            sid: format!("{DOMAIN_SID}-1106"),
            groups: adfs_groups,
        },
    ]
}

fn issue_with(
    cms: &[u8],
    template: &str,
    templates: &[Template],
    directory: &[EndEntity],
    now: SimTime,
) -> IssueOutcome {
    let p = pki();
    let ca = Issuer {
        key: &keys().issuing,
        certificate: &p.issuing,
        templates,
        publication: &p.publication,
        writes_sid: true,
    };
    check_and_issue(cms, template, &ca, CALLER, directory, SERIAL, now)
}

fn issue(cms: &[u8], template: &str) -> IssueOutcome {
    issue_with(cms, template, &pki().templates, &accounts(true), NOW)
}

fn titles(outcome: &IssueOutcome) -> Vec<&str> {
    outcome.checks.iter().map(|c| c.title.as_str()).collect()
}

/// The outcome stopped at `title`, which failed with `code` in its reason,
/// every earlier check having passed.
/// The device's checks of a certificate it receives.
fn client_checks(
    cert: &[u8],
    root: &[u8],
    key: &RsaPublicKey,
    upn: &str,
    now: SimTime,
) -> Vec<crate::event::Check> {
    check_issued(
        cert,
        &pki().issuing,
        root,
        key,
        upn,
        now,
        crate::catalog::Actor::Cxh,
    )
}

fn assert_refused_at(outcome: &IssueOutcome, title: &str, code: &str) {
    assert!(outcome.certificate.is_none(), "no certificate on a refusal");
    let (last, earlier) = outcome.checks.split_last().expect("at least one check");
    assert_eq!(
        last.title, title,
        "stopped at the wrong check: {:#?}",
        outcome.checks
    );
    let reason = last.result().expect_err("the last check fails");
    assert!(
        reason.contains(code),
        "reason {reason:?} should name {code}"
    );
    for c in earlier {
        assert!(
            c.result().is_ok(),
            "{} should have passed: {:?}",
            c.title,
            c.result()
        );
    }
}

const ALL_CHECKS: [&str; 11] = [
    "Request is a CMS SignedData",
    "Template is offered by this CA",
    "Request carries the required RA signatures",
    "Enrollment agent certificate chains to this CA",
    "Signer is a Certificate Request Agent",
    "Enrollment agent signature",
    "Requester may enroll for the template",
    "Account is in Active Directory",
    "Request signature",
    "Key meets the template's minimum size",
    "Certificate issued",
];

// ------------------------------------------------------------- requests

#[test]
fn request_verifies_and_yields_its_key() {
    let key = verify_request(&pki().csr).unwrap();
    assert_eq!(key, keys().user.to_public_key());
}

#[test]
fn request_signed_by_another_key_is_refused() {
    let k = keys();
    let csr = request_by(&k.user.to_public_key(), &k.other);
    let err = verify_request(&csr).unwrap_err().to_string();
    assert!(err.contains("does not verify"), "{err}");
}

#[test]
fn request_changed_after_signing_is_refused() {
    let mut csr = pki().csr.clone();
    // A byte of the subject's CN, inside certificationRequestInfo.
    let at = find(&csr, UPN.as_bytes()).unwrap();
    csr[at] ^= 0x01;
    assert!(verify_request(&csr).is_err());
}

#[test]
fn request_asks_for_the_upn() {
    let fields = request_fields(&pki().csr).unwrap();
    let san = find_field(&fields, "otherName (UPN)").expect("a UPN otherName");
    assert_eq!(san.value, UPN);
    let subject = find_field(&fields, "subject").unwrap();
    assert_eq!(subject.value, format!("CN={UPN}"));
}

#[test]
fn garbage_is_refused_without_panicking() {
    let p = pki();
    for bytes in [&p.csr[..], &p.cms[..], &p.root[..]] {
        for cut in [0, 1, 2, 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(verify_request(&bytes[..cut]).is_err());
            assert!(certificate_public_key(&bytes[..cut]).is_err());
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for _ in 0..200 {
        let mut junk = vec![0u8; (rng.next_u32() % 300) as usize];
        rng.fill_bytes(&mut junk);
        assert!(verify_request(&junk).is_err());
        assert!(certificate_public_key(&junk).is_err());
        let outcome = issue(&junk, WINDOWS_HELLO_TEMPLATE);
        assert_eq!(titles(&outcome), vec!["Request is a CMS SignedData"]);
    }
}

// ------------------------------------------------------------- issuance

#[test]
fn countersigned_request_is_issued() {
    let outcome = issue(&pki().cms, WINDOWS_HELLO_TEMPLATE);
    assert_eq!(titles(&outcome), ALL_CHECKS.to_vec());
    for c in &outcome.checks {
        assert!(c.result().is_ok(), "{}: {:?}", c.title, c.result());
    }
    let cert = outcome.certificate.expect("a certificate");
    let user = keys().user.to_public_key();
    assert_eq!(certificate_public_key(&cert).unwrap(), user);
    let client = client_checks(
        &cert,
        &pki().root,
        &user,
        UPN,
        NOW.plus(SimDuration::seconds(5)),
    );
    assert_eq!(client.len(), 5);
    for c in &client {
        assert!(c.result().is_ok(), "{}: {:?}", c.title, c.result());
    }

    let parsed = certificate::parse_certificate(&cert).unwrap();
    assert_eq!(
        certificate::ekus(&parsed).unwrap(),
        vec![oid::SMART_CARD_LOGON, oid::CLIENT_AUTH]
    );
    assert_eq!(certificate::upns(&parsed).unwrap(), vec![UPN.to_string()]);
    // The subject is the account's DN from the directory, most general RDN
    // first; not the CN=<upn> the request asked for.
    assert_eq!(
        certificate::name_text(&parsed.tbs_certificate.subject),
        "DC=com, DC=contoso, OU=Staff, CN=Alex Wilber"
    );
    assert_eq!(
        certificate::name_text(&parsed.tbs_certificate.issuer),
        format!("CN={ISSUING_CN}")
    );
    assert_eq!(
        certificate::certificate_sid(&parsed).unwrap(),
        Some(format!("{DOMAIN_SID}-1104"))
    );
    assert!(certificate::extension(&parsed, &oid::CERTIFICATE_TEMPLATE).is_some());
    for id in [
        const_oid::db::rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
        const_oid::db::rfc5280::ID_PE_AUTHORITY_INFO_ACCESS,
    ] {
        assert!(certificate::extension(&parsed, &id).is_some(), "{id}");
    }
    // The SID extension's bytes as AD CS writes them (MS-WCCE 2.2.2.7.7.4):
    // SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING } } }.
    let sid = certificate::extension(&parsed, &oid::NTDS_CA_SECURITY_EXT).unwrap();
    assert!(!sid.critical);
    let text = format!("{DOMAIN_SID}-1104");
    let mut expected = vec![0x30, 0, 0xA0, 0, 0x06, 0x0A];
    expected.extend([0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x19, 0x02, 0x01]);
    expected.extend([0xA0, (text.len() + 2) as u8, 0x04, text.len() as u8]);
    expected.extend(text.as_bytes());
    expected[3] = (expected.len() - 4) as u8;
    expected[1] = (expected.len() - 2) as u8;
    assert_eq!(sid.extn_value.as_bytes(), expected.as_slice());
}

#[test]
fn a_requester_outside_the_group_is_denied() {
    let p = pki();
    let outcome = issue_with(
        &p.cms,
        WINDOWS_HELLO_TEMPLATE,
        &p.templates,
        &accounts(false),
        NOW,
    );
    assert_refused_at(
        &outcome,
        "Requester may enroll for the template",
        "0x80094012",
    );
    let last = outcome.checks.last().unwrap();
    assert!(
        last.compared.contains("Domain Computers"),
        "{}",
        last.compared
    );
    assert!(
        last.compared.contains(HELLO_USERS_GROUP),
        "{}",
        last.compared
    );
}

#[test]
fn an_account_the_directory_does_not_know_is_refused() {
    let p = pki();
    let only_adfs = accounts(true).split_off(1);
    let outcome = issue_with(
        &p.cms,
        WINDOWS_HELLO_TEMPLATE,
        &p.templates,
        &only_adfs,
        NOW,
    );
    assert_refused_at(&outcome, "Account is in Active Directory", "CONTOSO\\alexw");
    // An unknown caller has no permission at all.
    let outcome = issue_with(&p.cms, WINDOWS_HELLO_TEMPLATE, &p.templates, &[], NOW);
    assert_refused_at(
        &outcome,
        "Requester may enroll for the template",
        "no account named CONTOSO\\adfssvc$",
    );
}

#[test]
fn the_chain_check_names_what_it_compared() {
    let outcome = issue(&pki().cms, WINDOWS_HELLO_TEMPLATE);
    let eku = &outcome.checks[4];
    assert!(
        eku.compared
            .contains("1.3.6.1.4.1.311.20.2.1 (Certificate Request Agent)"),
        "{}",
        eku.compared
    );
    let permission = &outcome.checks[6];
    assert!(
        permission.compared.contains(CALLER),
        "{}",
        permission.compared
    );
}

#[test]
fn issuance_is_deterministic() {
    let k = keys();
    let p = pki();
    let again = countersign(&p.csr, &k.agent, &p.agent, REQUESTER, NOW).unwrap();
    assert_eq!(again, p.cms);
    let a = issue(&p.cms, WINDOWS_HELLO_TEMPLATE).certificate.unwrap();
    let b = issue(&again, WINDOWS_HELLO_TEMPLATE).certificate.unwrap();
    assert_eq!(a, b);
}

#[test]
fn unsigned_request_is_refused() {
    let cms = unsigned_request(&pki().csr).unwrap();
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(
        &outcome,
        "Request carries the required RA signatures",
        "0x80094809",
    );
}

#[test]
fn signer_without_the_agent_eku_is_refused() {
    let p = pki();
    let cms = countersign(&p.csr, &keys().agent, &p.service, REQUESTER, NOW).unwrap();
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(
        &outcome,
        "Signer is a Certificate Request Agent",
        "0x8009480B",
    );
    assert!(outcome.checks[4].compared.contains("Server Authentication"));
}

#[test]
fn template_the_requester_may_not_use_is_denied() {
    let outcome = issue(&pki().cms, "Administrator");
    assert_refused_at(
        &outcome,
        "Requester may enroll for the template",
        "0x80094012",
    );
}

#[test]
fn unknown_template_is_unsupported() {
    let outcome = issue(&pki().cms, "DomainController");
    assert_refused_at(&outcome, "Template is offered by this CA", "0x80094800");
}

#[test]
fn too_few_signatures_is_a_signature_count_refusal() {
    let p = pki();
    let mut templates = p.templates.clone();
    templates[0].required_ra_signatures = 2;
    let outcome = issue_with(
        &p.cms,
        WINDOWS_HELLO_TEMPLATE,
        &templates,
        &accounts(true),
        NOW,
    );
    assert_refused_at(
        &outcome,
        "Request carries the required RA signatures",
        "0x8009480A",
    );
}

#[test]
fn tampered_content_fails_the_message_digest() {
    let p = pki();
    let mut cms = p.cms.clone();
    // A byte of the UPN inside the PKCS#10 inside eContent.
    let at = find(&cms, UPN.as_bytes()).unwrap();
    cms[at] ^= 0x01;
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(&outcome, "Enrollment agent signature", "messageDigest");
}

#[test]
fn tampered_signed_attributes_fail_the_signature() {
    let p = pki();
    let mut cms = p.cms.clone();
    // A byte of the requester name (UTF-16BE) inside the signed attributes.
    let needle: Vec<u8> = "alexw".encode_utf16().flat_map(u16::to_be_bytes).collect();
    let at = find(&cms, &needle).unwrap();
    cms[at + 1] ^= 0x01;
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(&outcome, "Enrollment agent signature", "does not verify");
}

#[test]
fn request_signed_by_another_key_fails_at_the_request_signature() {
    let k = keys();
    let p = pki();
    let csr = request_by(&k.user.to_public_key(), &k.other);
    let cms = countersign(&csr, &k.agent, &p.agent, REQUESTER, NOW).unwrap();
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(&outcome, "Request signature", "does not verify");
}

#[test]
fn small_key_is_refused() {
    let k = keys();
    let p = pki();
    let csr = request_by(&k.small.to_public_key(), &k.small);
    let cms = countersign(&csr, &k.agent, &p.agent, REQUESTER, NOW).unwrap();
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(
        &outcome,
        "Key meets the template's minimum size",
        "0x80094811",
    );
}

#[test]
fn expired_agent_certificate_does_not_chain() {
    let p = pki();
    let later = NOW.plus(days(3 * 365));
    let cms = countersign(&p.csr, &keys().agent, &p.agent, REQUESTER, later).unwrap();
    let outcome = issue_with(
        &cms,
        WINDOWS_HELLO_TEMPLATE,
        &p.templates,
        &accounts(true),
        later,
    );
    assert_refused_at(
        &outcome,
        "Enrollment agent certificate chains to this CA",
        "does not include",
    );
}

#[test]
fn agent_certificate_from_another_ca_does_not_chain() {
    let k = keys();
    let p = pki();
    // A CA of the same name, but not this one.
    let rogue_root = root_certificate(&k.other, ISSUING_CN, NOW, 1).unwrap();
    let rogue_agent = enrollment_agent_certificate(
        &k.other,
        &rogue_root,
        &issuing_publication(),
        &k.agent.to_public_key(),
        AGENT_CN,
        2,
        NOW,
        true,
    )
    .unwrap();
    let cms = countersign(&p.csr, &k.agent, &rogue_agent, REQUESTER, NOW).unwrap();
    let outcome = issue(&cms, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(
        &outcome,
        "Enrollment agent certificate chains to this CA",
        "does not verify",
    );
}

// ------------------------------------------------------------------ CRLs

#[test]
fn a_crl_is_signed_by_its_ca_and_reads_field_by_field() {
    let k = keys();
    let p = pki();
    let crl = revocation_list(&k.issuing, &p.issuing, NOW, NOW.plus(days(7)), 52).unwrap();
    let list = <x509_cert::crl::CertificateList as der::Decode>::from_der(&crl).unwrap();
    let tbs = der::Encode::to_der(&list.tbs_cert_list).unwrap();
    let issuing_key = certificate_public_key(&p.issuing).unwrap();
    crate::rs256::verify(&issuing_key, &tbs, list.signature.as_bytes().unwrap()).unwrap();
    assert!(crate::rs256::verify(
        &certificate_public_key(&p.root).unwrap(),
        &tbs,
        list.signature.as_bytes().unwrap()
    )
    .is_err());
    let fields = crl_fields(&crl).unwrap();
    assert_eq!(
        find_field(&fields, "issuer").unwrap().value,
        format!("CN={ISSUING_CN}")
    );
    assert_eq!(find_field(&fields, "cRLNumber").unwrap().value, "52");
    assert_eq!(
        find_field(&fields, "nextUpdate").unwrap().value,
        NOW.plus(days(7)).to_string()
    );
    assert!(find_field(&fields, "revokedCertificates").is_none());
    assert!(crl_fields(&crl[..crl.len() - 3]).is_err());
}

// ------------------------------------------------------ signed content

#[test]
fn signed_content_verifies_and_says_who_signed_it() {
    let k = keys();
    let p = pki();
    let content = br#"{"DomainControllerFqdn":"DC01.contoso.com"}"#;
    let cms = sign_content(content, &k.issuing, &p.issuing, NOW).unwrap();
    let (got, signer) = verify_signed_content(&cms, None).unwrap();
    assert_eq!(got, content);
    assert_eq!(signer, p.issuing);
    assert!(verify_signed_content(&cms, Some(&p.issuing)).is_ok());
    // Another certificate was expected.
    let why = verify_signed_content(&cms, Some(&p.root)).unwrap_err();
    assert!(why.contains("not by the certificate expected"), "{why}");
    // A changed byte of the content breaks the digest.
    let mut tampered = cms.clone();
    let at = find(&tampered, b"DC01").unwrap();
    tampered[at] = b'X';
    let why = verify_signed_content(&tampered, None).unwrap_err();
    assert!(why.contains("messageDigest"), "{why}");
    // Signed by a key that is not the certificate's.
    let forged = sign_content(content, &k.other, &p.issuing, NOW).unwrap();
    assert!(verify_signed_content(&forged, None).is_err());
    assert!(verify_signed_content(b"junk", None).is_err());
}

// ------------------------------------------------- re-signing edited bytes

#[test]
fn resigned_request_verifies_with_the_edit() {
    let k = keys();
    let mut csr = pki().csr.clone();
    let at = find(&csr, UPN.as_bytes()).unwrap();
    csr[at] = b'b'; // CN=blexw@contoso.com
    assert!(verify_request(&csr).is_err());
    let resigned = resign_request(&csr, |info| crate::rs256::sign(&k.user, info)).unwrap();
    assert_eq!(verify_request(&resigned).unwrap(), k.user.to_public_key());
    let fields = request_fields(&resigned).unwrap();
    assert_eq!(
        find_field(&fields, "subject").unwrap().value,
        "CN=blexw@contoso.com"
    );
    assert!(resign_request(b"junk", |_| Ok(Vec::new())).is_err());
}

#[test]
fn recountersigned_request_keeps_the_edited_content_and_requester() {
    let k = keys();
    let p = pki();
    let mut cms = p.cms.clone();
    let needle: Vec<u8> = "alexw".encode_utf16().flat_map(u16::to_be_bytes).collect();
    let at = find(&cms, &needle).unwrap();
    cms[at + 1] = b'b'; // CONTOSO\blexw
    let resigned = recountersign(&cms, &k.agent, &p.agent, REQUESTER, NOW.plus(days(1))).unwrap();
    // The countersignature holds, but the CA looks the edited name up in
    // the directory, which has no such account.
    let outcome = issue(&resigned, WINDOWS_HELLO_TEMPLATE);
    assert_refused_at(&outcome, "Account is in Active Directory", "CONTOSO\\blexw");
    let fields = cms_fields(&resigned).unwrap();
    assert_eq!(
        find_field(&fields, "enrollmentNameValuePair")
            .unwrap()
            .value,
        "requestername = CONTOSO\\blexw"
    );
    // The signing time was kept, not replaced by the later `now`.
    assert_eq!(
        find_field(&fields, "signingTime").unwrap().value,
        NOW.to_string()
    );
    // An unsigned request gets a fresh countersignature.
    let unsigned = unsigned_request(&p.csr).unwrap();
    let signed = recountersign(&unsigned, &k.agent, &p.agent, REQUESTER, NOW).unwrap();
    assert_eq!(signed, p.cms);
}

#[test]
fn resigned_certificate_chains_with_the_edit() {
    let k = keys();
    let p = pki();
    let cert = issue(&p.cms, WINDOWS_HELLO_TEMPLATE).certificate.unwrap();
    let mut edited = cert.clone();
    let at = find(&edited, UPN.as_bytes()).unwrap();
    edited[at] = b'b';
    let user = k.user.to_public_key();
    assert!(client_checks(&edited, &p.root, &user, UPN, NOW)[0]
        .result()
        .is_err());
    let resigned = resign_certificate(&edited, &k.issuing).unwrap();
    let checks = client_checks(&resigned, &p.root, &user, UPN, NOW);
    assert!(checks[0].result().is_ok(), "{:?}", checks[0]);
    assert_eq!(resign_certificate(&cert, &k.issuing).unwrap(), cert);
    // Signed by the root instead, it does not chain through the issuing CA.
    let by_root = resign_certificate(&edited, &k.root).unwrap();
    assert!(client_checks(&by_root, &p.root, &user, UPN, NOW)[0]
        .result()
        .is_err());
}

// ------------------------------------------------------- client's checks

#[test]
fn client_refuses_a_certificate_for_someone_else() {
    let outcome = issue(&pki().cms, WINDOWS_HELLO_TEMPLATE);
    let cert = outcome.certificate.unwrap();
    let other = keys().other.to_public_key();
    let checks = client_checks(&cert, &pki().root, &other, "bob@contoso.com", NOW);
    let failed: Vec<_> = checks
        .iter()
        .filter(|c| c.result().is_err())
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(
        failed,
        vec![
            "Certificate is for the TPM key",
            "Certificate names the user"
        ]
    );
    let late = client_checks(
        &cert,
        &pki().root,
        &keys().user.to_public_key(),
        UPN,
        NOW.plus(days(400)),
    );
    let failed: Vec<_> = late
        .iter()
        .filter(|c| c.result().is_err())
        .map(|c| c.title.as_str())
        .collect();
    assert_eq!(failed, vec!["Certificate is valid now"]);
    let wrong_root = client_checks(&cert, &pki().agent, &keys().user.to_public_key(), UPN, NOW);
    assert!(wrong_root[0].result().is_err());
    assert_eq!(
        client_checks(b"junk", &pki().root, &other, UPN, NOW).len(),
        1
    );
}

#[test]
fn agent_certificate_carries_the_agent_eku() {
    let p = pki();
    let agent = certificate::parse_certificate(&p.agent).unwrap();
    assert_eq!(
        certificate::ekus(&agent).unwrap(),
        vec![oid::CERTIFICATE_REQUEST_AGENT]
    );
    let service = certificate::parse_certificate(&p.service).unwrap();
    assert_eq!(certificate::ekus(&service).unwrap(), vec![oid::SERVER_AUTH]);
    assert_eq!(
        certificate_public_key(&p.agent).unwrap(),
        keys().agent.to_public_key()
    );
}

// ------------------------------------------------------------ field views

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn find_field<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find_map(|f| {
        if f.name == name {
            Some(f)
        } else {
            find_field(&f.children, name)
        }
    })
}

/// Every field lies within the bytes, each child within its parent, and
/// siblings follow each other in byte order without overlapping.
fn assert_well_nested(fields: &[Field], outer: std::ops::Range<usize>) {
    let mut at = outer.start;
    for f in fields {
        assert!(f.len > 0, "{} is empty", f.name);
        assert!(
            f.offset >= at && f.range().end <= outer.end,
            "{} at {:?} is outside {:?} or overlaps its sibling (next free byte {at})",
            f.name,
            f.range(),
            outer
        );
        assert!(
            !f.note.is_empty() && !f.spec.is_empty(),
            "{} lacks a note or spec",
            f.name
        );
        at = f.range().end;
        assert_well_nested(&f.children, f.range());
    }
}

/// A field view: certificate, request or CMS.
type View = fn(&[u8]) -> Result<Vec<Field>>;

fn all_views() -> Vec<(&'static str, Vec<u8>, View)> {
    let p = pki();
    let cert = issue(&p.cms, WINDOWS_HELLO_TEMPLATE).certificate.unwrap();
    vec![
        ("root", p.root.clone(), certificate_fields as View),
        ("agent", p.agent.clone(), certificate_fields),
        ("user", cert, certificate_fields),
        ("csr", p.csr.clone(), request_fields),
        ("cms", p.cms.clone(), cms_fields),
        ("unsigned", unsigned_request(&p.csr).unwrap(), cms_fields),
        ("issuing", p.issuing.clone(), certificate_fields),
        (
            "crl",
            revocation_list(&keys().issuing, &p.issuing, NOW, NOW.plus(days(7)), 52).unwrap(),
            crl_fields,
        ),
        (
            "chain",
            certificate_chain(&[p.root.clone(), p.issuing.clone()]).unwrap(),
            cms_fields,
        ),
    ]
}

#[test]
fn views_cover_the_bytes_exactly() {
    for (what, bytes, view) in all_views() {
        let fields = view(&bytes).unwrap();
        assert_eq!(fields.len(), 1, "{what}");
        assert_eq!(fields[0].range(), 0..bytes.len(), "{what}");
        assert_well_nested(&fields, 0..bytes.len());
    }
}

#[test]
fn certificate_view_reads_the_real_values() {
    let cert = issue(&pki().cms, WINDOWS_HELLO_TEMPLATE)
        .certificate
        .unwrap();
    let fields = certificate_fields(&cert).unwrap();
    let serial = find_field(&fields, "serialNumber").unwrap();
    assert_eq!(serial.value, "0x1000");
    // The field's bytes are the INTEGER 0x1000: tag, length, contents.
    assert_eq!(&cert[serial.range()], &[0x02, 0x02, 0x10, 0x00]);
    assert_eq!(
        find_field(&fields, "notBefore").unwrap().value,
        "2026-11-22 09:00:00 UTC"
    );
    assert_eq!(
        find_field(&fields, "issuer").unwrap().value,
        format!("CN={ISSUING_CN}")
    );
    assert_eq!(
        find_field(&fields, "otherName (SID)").unwrap().value,
        format!("{DOMAIN_SID}-1104")
    );
    assert_eq!(
        find_field(&fields, "cRLDistributionPoints").unwrap().value,
        "URI http://ca.contoso.com/CertEnroll/Contoso%20Issuing%20CA.crl"
    );
    assert_eq!(
        find_field(&fields, "authorityInfoAccess").unwrap().value,
        "URI http://ca.contoso.com/CertEnroll/ca.contoso.com_Contoso%20Issuing%20CA.crt"
    );
    let eku = find_field(&fields, "extKeyUsage").unwrap();
    assert!(eku.value.contains("Smart Card Logon") && eku.value.contains("Client Authentication"));
    let purposes: Vec<_> = find_field(&fields, "ExtKeyUsageSyntax")
        .unwrap()
        .children
        .iter()
        .map(|f| f.value.clone())
        .collect();
    assert_eq!(
        purposes,
        vec![
            "1.3.6.1.4.1.311.20.2.2 (Smart Card Logon)",
            "1.3.6.1.5.5.7.3.2 (Client Authentication)"
        ]
    );
    assert_eq!(find_field(&fields, "otherName (UPN)").unwrap().value, UPN);
    assert_eq!(
        find_field(&fields, "keyUsage").unwrap().value,
        "digitalSignature (critical)"
    );
    assert!(find_field(&fields, "certificateTemplate")
        .unwrap()
        .value
        .contains("version 100.3"));
    assert_eq!(
        find_field(&fields, "RSAPublicKey").unwrap().value,
        "RSA-2048, e = 65537"
    );
    let root = certificate_fields(&pki().root).unwrap();
    assert_eq!(
        find_field(&root, "basicConstraints").unwrap().value,
        "CA: TRUE (critical)"
    );
    assert!(root[0].value.ends_with("(self-signed)"));
}

#[test]
fn certificate_view_reads_the_tpm_manufacturer_certificates() {
    // ECDSA P-256, an empty subject with a critical directoryName SAN, and
    // TCG extensions: the view is not limited to this PKI's certificates.
    let tpm = tpm_emu::Tpm::new(tpm_emu::TpmSeed([7; 32]));
    for der in [tpm.ek_certificate(), tpm.manufacturer_ca_certificate()] {
        let fields = certificate_fields(der).unwrap();
        assert_eq!(fields[0].range(), 0..der.len());
        assert_well_nested(&fields, 0..der.len());
        assert_eq!(
            find_field(&fields, "signatureAlgorithm").unwrap().value,
            "ecdsa-with-SHA256"
        );
    }
    let ek = certificate_fields(tpm.ek_certificate()).unwrap();
    assert_eq!(find_field(&ek, "subject").unwrap().value, "(empty name)");
    let san = find_field(&ek, "subjectAltName").unwrap();
    assert!(
        san.value.contains("DirName") && san.value.ends_with("(critical)"),
        "{}",
        san.value
    );
    assert!(find_field(&ek, "tpmManufacturer").is_some());
    assert!(find_field(&ek, "subjectDirectoryAttributes").is_some());
}

#[test]
fn cms_view_nests_the_request_at_its_offset() {
    let p = pki();
    let fields = cms_fields(&p.cms).unwrap();
    let inner = find_field(&fields, "CertificationRequest").expect("the PKCS#10 inside eContent");
    let at = find(&p.cms, &p.csr).unwrap();
    assert_eq!(inner.range(), at..at + p.csr.len());
    assert_eq!(inner.children, {
        let alone = request_fields(&p.csr).unwrap();
        alone[0].clone().shifted(at).children
    });
    let requester = find_field(&fields, "enrollmentNameValuePair").unwrap();
    assert_eq!(requester.value, format!("requestername = {REQUESTER}"));
    let signing_time = find_field(&fields, "signingTime").unwrap();
    assert_eq!(signing_time.value, NOW.to_string());
    let certs = find_field(&fields, "certificates").unwrap();
    assert_eq!(certs.children[0].name, "Certificate");
    assert!(certs.children[0]
        .value
        .starts_with(&format!("CN={AGENT_CN}")));
    assert!(find_field(&fields, "messageDigest").unwrap().value.len() == 64);
}

#[test]
fn views_refuse_lengths_that_are_not_der() {
    // The same SEQUENCE { NULL } three ways: DER, the long form for a short
    // length, and a length with a leading zero octet (X.690 §10.1).
    assert!(request_fields(&[0x30, 0x02, 0x05, 0x00])
        .is_err_and(|e| !e.to_string().contains("long form")));
    let long = request_fields(&[0x30, 0x81, 0x02, 0x05, 0x00]).unwrap_err();
    assert!(long.to_string().contains("long form"), "{long}");
    let padded = request_fields(&[0x30, 0x82, 0x00, 0x02, 0x05, 0x00]).unwrap_err();
    assert!(padded.to_string().contains("leading zero"), "{padded}");
    // A real certificate re-encoded with a long-form length is refused too.
    let cert = pki().root.clone();
    let mut long_cert = vec![0x30, 0x83, 0x00];
    long_cert.extend_from_slice(&cert[2..]);
    assert!(certificate_fields(&long_cert).is_err());
}

#[test]
fn views_refuse_bad_input_without_panicking() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    for (what, bytes, view) in all_views() {
        for cut in 0..bytes.len() {
            assert!(view(&bytes[..cut]).is_err(), "{what} cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(view(&longer).is_err(), "{what} with a trailing byte");
        for _ in 0..300 {
            let mut flipped = bytes.clone();
            let i = rng.next_u32() as usize % flipped.len();
            flipped[i] ^= 1 << (rng.next_u32() % 8);
            if let Ok(fields) = view(&flipped) {
                assert_well_nested(&fields, 0..flipped.len());
            }
        }
    }
    for _ in 0..500 {
        let mut junk = vec![0u8; (rng.next_u32() % 200) as usize];
        rng.fill_bytes(&mut junk);
        for view in [certificate_fields, request_fields, cms_fields, crl_fields] {
            if let Ok(fields) = view(&junk) {
                assert_well_nested(&fields, 0..junk.len());
            }
        }
    }
}
