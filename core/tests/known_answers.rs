//! Known answers that explain themselves.
//!
//! - The demo seed's `onprem-cert` run: the user certificate (RFC 5280), the
//!   PKCS#10 request (RFC 2986) and the enrollment agent's CMS
//!   countersignature of it (RFC 5652), kept as DER files in `tests/data/`.
//!   One test reruns the flow and compares byte for byte; the others parse
//!   the files with RustCrypto's x509-cert and cms crates and check each
//!   field against constants. Those constants were read with OpenSSL 3.0
//!   (`openssl x509 -inform DER -text`, `openssl req -inform DER -text`,
//!   `openssl cms -cmsout -print -inform DER`, `openssl asn1parse -inform DER`,
//!   whose byte offsets the DER slices below use), not with our own parser;
//!   `openssl verify -CAfile <enterprise root> -untrusted <issuing CA>` and
//!   `openssl cms -verify -CAfile <root and issuing CA in one file>` accept
//!   the certificate and the countersignature.
//! - RFC 7515 Appendix A.2: the RS256 example, signed and verified.
//!
//! When a change to the engine is meant to change the run's bytes, re-bless:
//! `WHFB_BLESS=1 cargo test -p whfb-core --test known_answers` writes the
//! three `demo-onprem-cert.*` files instead of comparing them; then check
//! them with the OpenSSL commands above and update the constants.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64ct::{Base64UrlUnpadded, Encoding as _};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedData, SignerIdentifier};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, UtcTime};
use der::{Decode, Encode};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use whfb_core::formats::jws::{Jwk, Jws};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::Extensions;
use x509_cert::request::CertReq;
use x509_cert::time::Time;
use x509_cert::Certificate;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// ---- the one place this file uses the engine --------------------------------

/// The artifacts of `onprem-cert` run from the seed `demo` (what
/// `whfb run onprem-cert --seed demo` writes), by artifact id, the first of
/// each id. Run once for every test that needs it; natively only, because a
/// whole run blocks a browser page too long for the test runner (flows.rs
/// checks the same run's bytes in the browser through known-answers.txt).
#[cfg(not(target_arch = "wasm32"))]
fn demo_onprem_cert(artifact: &str) -> &'static [u8] {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;
    use whfb_core::engine::Run;
    use whfb_core::flows::FlowId;
    use whfb_core::world::{World, WorldConfig};

    static ARTIFACTS: OnceLock<BTreeMap<String, Vec<u8>>> = OnceLock::new();
    let artifacts = ARTIFACTS.get_or_init(|| {
        let flow = FlowId::from_slug("onprem-cert").expect("the flow exists");
        let world = World::build(WorldConfig::new("demo")).expect("the world builds");
        let mut run = Run::new(world, flow);
        run.run_to_end();
        assert!(
            run.halted().is_none(),
            "the run stopped: {:?}",
            run.halted()
        );
        let mut by_id = BTreeMap::new();
        for event in run.events() {
            for a in &event.artifacts {
                by_id.entry(a.id.clone()).or_insert_with(|| a.bytes.clone());
            }
        }
        by_id
    });
    artifacts
        .get(artifact)
        .unwrap_or_else(|| panic!("the run made no artifact `{artifact}`"))
}

// ---- the files -----------------------------------------------------------------

const USER_CERTIFICATE: &[u8] = include_bytes!("data/demo-onprem-cert.user.cer");
const REQUEST: &[u8] = include_bytes!("data/demo-onprem-cert.csr.der");
const COUNTERSIGNED: &[u8] = include_bytes!("data/demo-onprem-cert.cms.der");

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_files_are_what_the_demo_run_produces() {
    // (artifact id, file, its bytes)
    let files: [(&str, &str, &[u8]); 3] = [
        (
            "user-certificate",
            "demo-onprem-cert.user.cer",
            USER_CERTIFICATE,
        ),
        ("certificate-request", "demo-onprem-cert.csr.der", REQUEST),
        (
            "countersigned-request",
            "demo-onprem-cert.cms.der",
            COUNTERSIGNED,
        ),
    ];
    for (artifact, file, want) in files {
        let got = demo_onprem_cert(artifact);
        if std::env::var_os("WHFB_BLESS").is_some() {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(file);
            std::fs::write(&path, got).unwrap();
            eprintln!("blessed {}", path.display());
            continue;
        }
        if got != want {
            let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
            panic!(
                "{file}: the run made other bytes ({} bytes, the file has {}; first difference at \
                 offset {at}). If that is intended, re-bless: \
                 WHFB_BLESS=1 cargo test -p whfb-core --test known_answers",
                got.len(),
                want.len()
            );
        }
    }
}

// ---- shared constants ------------------------------------------------------------

/// sha256WithRSAEncryption (RFC 4055 §5; PKCS #1), parameters NULL.
/// openssl: `Signature Algorithm: sha256WithRSAEncryption`.
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
/// rsaEncryption (RFC 3279 §2.3.1), parameters NULL.
/// openssl: `Public Key Algorithm: rsaEncryption`.
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
/// id-sha256 (RFC 5754 §2.2), parameters absent.
/// openssl cms: `algorithm: sha256 (2.16.840.1.101.3.4.2.1)`, `parameter: <ABSENT>`.
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
/// DER NULL, the parameters of the two RSA algorithm identifiers above.
const NULL: [u8; 2] = [0x05, 0x00];

/// The user key: the TPM-held RSA-2048 key the request asks a certificate
/// for. openssl: `Public-Key: (2048 bit)`, `Modulus: 00:c8:7f:c8:11:…:24:62:fb:17`
/// (the leading 00 is the INTEGER's sign byte), `Exponent: 65537 (0x10001)`;
/// `openssl x509 -noout -modulus | cut -d= -f2 | xxd -r -p | sha256sum`.
const USER_KEY_BITS: usize = 2048;
const USER_KEY_MODULUS_FIRST: [u8; 4] = [0xC6, 0x6E, 0x0C, 0x8F];
const USER_KEY_MODULUS_LAST: [u8; 4] = [0x59, 0x8F, 0xEE, 0x79];
const USER_KEY_MODULUS_SHA256: &str =
    "0e54c71d15bdf71657d4a381705628ea1528bf6ba64072006217a91653c74e44";
const USER_KEY_EXPONENT: u32 = 65_537;

/// Name `CN=Contoso Issuing CA`: one RDN, commonName (2.5.4.3) as a
/// UTF8String. openssl asn1parse: the certificate's issuer at offset 32
/// (`l=29`), `UTF8STRING :Contoso Issuing CA`.
const ISSUING_CA_NAME_DER: &str = "301d311b301906035504030c12436f6e746f736f2049737375696e67204341";
/// Name `CN=alex.wilber@contoso.com`, the same shape: the subject the
/// request asks for. openssl asn1parse: the request's subject at offset 11.
const REQUESTED_NAME_DER: &str =
    "30223120301e06035504030c17616c65782e77696c62657240636f6e746f736f2e636f6d";
/// Name `DC=com, DC=contoso, OU=Staff, CN=Alex Wilber`: the user's
/// distinguished name in AD, which the CA puts in the certificate instead
/// (MS-WCCE 3.2.2.6.2.1.4.5.9); domainComponent (0.9.2342.19200300.100.1.25)
/// values are IA5Strings, the others UTF8Strings. openssl: `Subject: DC =
/// com, DC = contoso, OU = Staff, CN = Alex Wilber`; asn1parse: offset 95
/// (`l=84`).
const USER_NAME_DER: &str = "305431133011060a0992268993f22c6401191603636f6d31173015060a0992268993f22c6401191607636f6e746f736f310e300c060355040b0c0553746166663114301206035504030c0b416c65782057696c626572";
/// The subjectAltName extension's value (RFC 5280 §4.2.1.6): GeneralNames
/// { otherName [0] { type-id 1.3.6.1.4.1.311.20.2.3 (the Microsoft UPN),
/// value [0] EXPLICIT UTF8String "alex.wilber@contoso.com" } }.
/// openssl: `othername: UPN::alex.wilber@contoso.com`; asn1parse: the
/// OCTET STRING at offset 495 of the certificate, 367 of the request.
const UPN_SAN_DER: &str =
    "3029a027060a2b060104018237140203a0190c17616c65782e77696c62657240636f6e746f736f2e636f6d";
const UPN_TYPE_ID: &str = "1.3.6.1.4.1.311.20.2.3";
const UPN: &str = "alex.wilber@contoso.com";

// ---- the user certificate: RFC 5280 §4.1 ---------------------------------------

/// `version` (§4.1.2.1): v3, because it has extensions.
/// openssl: `Version: 3 (0x2)`.
const CERT_VERSION: x509_cert::Version = x509_cert::Version::V3;
/// `serialNumber` (§4.1.2.2): positive, at most 20 octets.
/// openssl: `Serial Number: 4096 (0x1000)`.
const CERT_SERIAL: [u8; 2] = [0x10, 0x00];
/// `validity` (§4.1.2.5): one year, both as UTCTime (years before 2050).
/// openssl: `Not Before: Nov 22 09:02:06 2026 GMT`, `Not After : Nov 22
/// 09:02:06 2027 GMT`; as Unix time (`date -u -d … +%s`):
const CERT_NOT_BEFORE: u64 = 1_795_338_126;
const CERT_NOT_AFTER: u64 = 1_826_874_126;

/// `extensions` (§4.1.2.9), in their order in the certificate:
/// (extnID, critical, extnValue) from `openssl asn1parse`.
const CERT_EXTENSIONS: [(&str, bool, &str); 9] = [
    // keyUsage (§4.2.1.3), critical: BIT STRING 0x80 with 7 unused bits,
    // digitalSignature only. openssl: `X509v3 Key Usage: critical Digital Signature`.
    ("2.5.29.15", true, "03020780"),
    // extKeyUsage (§4.2.1.12): 1.3.6.1.4.1.311.20.2.2 (smart card logon),
    // 1.3.6.1.5.5.7.3.2 (id-kp-clientAuth). openssl: `Microsoft Smartcard
    // Login, TLS Web Client Authentication`.
    (
        "2.5.29.37",
        false,
        "3016060a2b06010401823714020206082b06010505070302",
    ),
    // subjectAltName (§4.2.1.6): the UPN, see UPN_SAN_DER.
    ("2.5.29.17", false, UPN_SAN_DER),
    // szOID_NTDS_CA_SECURITY_EXT (MS-WCCE 2.2.2.7.7.4): SEQUENCE { [0] {
    // 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING
    // "S-1-5-21-4227792933-961650591-1391156577-1104" } } }, the user's SID.
    // openssl: `1.3.6.1.4.1.311.25.2:` (undecoded); asn1parse: offset 597.
    (
        "1.3.6.1.4.1.311.25.2",
        false,
        "303fa03d060a2b060104018237190201a02f042d532d312d352d32312d343232373739323933332d3936313635303539312d313339313135363537372d31313034",
    ),
    // subjectKeyIdentifier (§4.2.1.2): a 20-byte key identifier.
    // openssl: `5C:A3:32:10:12:00:B9:4A:8F:DB:68:3E:CA:63:C0:58:7E:92:AA:71`.
    (
        "2.5.29.14",
        false,
        "041424f32d9a1f1762bcf2372427c593f29e89e2285a",
    ),
    // authorityKeyIdentifier (§4.2.1.1): [0] keyIdentifier of the issuing CA.
    // openssl: `96:D7:9C:BB:61:BA:77:0A:E1:A2:B6:20:AB:4E:99:27:3E:85:80:44`.
    (
        "2.5.29.35",
        false,
        "3016801496d79cbb61ba770ae1a2b620ab4e99273e858044",
    ),
    // cRLDistributionPoints (§4.2.1.13): one DistributionPoint, fullName
    // with the issuing CA's LDAP and HTTP CRL locations (AD CS's defaults).
    // openssl: `X509v3 CRL Distribution Points: Full Name:
    // URI:ldap:///CN=Contoso Issuing CA,CN=ca,CN=CDP,…
    // URI:http://ca.contoso.com/CertEnroll/Contoso%20Issuing%20CA.crl`.
    (
        "2.5.29.31",
        false,
        "3081f93081f6a081f3a081f08681b06c6461703a2f2f2f434e3d436f6e746f736f2049737375696e672043412c434e3d63612c434e3d4344502c434e3d5075626c6963204b65792053657276696365732c434e3d53657276696365732c434e3d436f6e66696775726174696f6e2c44433d636f6e746f736f2c44433d636f6d3f63657274696669636174655265766f636174696f6e4c6973743f626173653f6f626a656374436c6173733d63524c446973747269627574696f6e506f696e74863b687474703a2f2f63612e636f6e746f736f2e636f6d2f43657274456e726f6c6c2f436f6e746f736f25323049737375696e6725323043412e63726c",
    ),
    // authorityInfoAccess (§4.2.2.1): two id-ad-caIssuers, LDAP and HTTP.
    // openssl: `Authority Information Access: CA Issuers - URI:ldap:///…
    // CA Issuers - URI:http://ca.contoso.com/CertEnroll/ca.contoso.com_Contoso%20Issuing%20CA.crt`.
    (
        "1.3.6.1.5.5.7.1.1",
        false,
        "308201083081ad06082b060105050730028681a06c6461703a2f2f2f434e3d436f6e746f736f2049737375696e672043412c434e3d4149412c434e3d5075626c6963204b65792053657276696365732c434e3d53657276696365732c434e3d436f6e66696775726174696f6e2c44433d636f6e746f736f2c44433d636f6d3f634143657274696669636174653f626173653f6f626a656374436c6173733d63657274696669636174696f6e417574686f72697479305606082b06010505073002864a687474703a2f2f63612e636f6e746f736f2e636f6d2f43657274456e726f6c6c2f63612e636f6e746f736f2e636f6d5f436f6e746f736f25323049737375696e6725323043412e637274",
    ),
    // Microsoft certificate template (szOID_CERTIFICATE_TEMPLATE, MS-WCCE):
    // SEQUENCE { templateID 1.3.6.1.4.1.311.21.8.4917624.1339478.12094317.
    // 15718063.8102516.113.5120573.9014682, majorVersion 100, minorVersion 3 }.
    // openssl: `1.3.6.1.4.1.311.21.7` (undecoded); `asn1parse -strparse 1291`.
    (
        "1.3.6.1.4.1.311.21.7",
        false,
        "302d06252b060104018237150882ac9278d1e05685e2966d87bfad2f83eec4747182b8c43d84a69b1a020164020103",
    ),
];
/// `signatureValue` (§4.1.1.3): 256 bytes, the first and last four.
/// openssl: `Signature Value: 7e:fd:fb:a0: … :9f:6d:01:c9`.
const CERT_SIGNATURE_FIRST: [u8; 4] = [0x7E, 0xFD, 0xFB, 0xA0];
const CERT_SIGNATURE_LAST: [u8; 4] = [0x9F, 0x6D, 0x01, 0xC9];
/// SHA-256 of the whole certificate.
/// openssl: `x509 -noout -fingerprint -sha256`: `D8:2C:00:4C:…:E7:BC:79:BC`.
const CERT_SHA256: &str = "d82c004c0db667f8d0cc19cda10a6a13f56dc54d76045ab09ab2ee3de7bc79bc";

#[test]
fn the_user_certificate_reads_field_by_field() {
    assert_eq!(hex(&Sha256::digest(USER_CERTIFICATE)), CERT_SHA256);
    let cert = Certificate::from_der(USER_CERTIFICATE).unwrap();
    let tbs = &cert.tbs_certificate;
    assert_eq!(tbs.version, CERT_VERSION, "version");
    assert_eq!(tbs.serial_number.as_bytes(), CERT_SERIAL, "serialNumber");
    // signature (§4.1.2.3) must equal signatureAlgorithm (§4.1.1.2).
    assert_eq!(tbs.signature.oid, oid(SHA256_WITH_RSA), "signature");
    assert_eq!(params(&tbs.signature), Some(NULL.to_vec()));
    assert_eq!(
        cert.signature_algorithm, tbs.signature,
        "signatureAlgorithm"
    );
    // issuer (§4.1.2.4) and subject (§4.1.2.6), as DER and as RFC 4514 text.
    assert_eq!(
        hex(&tbs.issuer.to_der().unwrap()),
        ISSUING_CA_NAME_DER,
        "issuer"
    );
    assert_eq!(tbs.issuer.to_string(), "CN=Contoso Issuing CA");
    assert_eq!(
        hex(&tbs.subject.to_der().unwrap()),
        USER_NAME_DER,
        "subject"
    );
    // RFC 4514 text lists the most specific RDN first.
    assert_eq!(
        tbs.subject.to_string(),
        "CN=Alex Wilber,OU=Staff,DC=contoso,DC=com"
    );
    // validity (§4.1.2.5).
    let Time::UtcTime(not_before) = tbs.validity.not_before else {
        panic!("notBefore is not a UTCTime")
    };
    let Time::UtcTime(not_after) = tbs.validity.not_after else {
        panic!("notAfter is not a UTCTime")
    };
    assert_eq!(not_before.to_unix_duration().as_secs(), CERT_NOT_BEFORE);
    assert_eq!(not_after.to_unix_duration().as_secs(), CERT_NOT_AFTER);
    // subjectPublicKeyInfo (§4.1.2.7).
    check_user_key(&tbs.subject_public_key_info.to_der().unwrap());
    // No unique identifiers (§4.1.2.8): a conforming CA does not make them.
    assert!(tbs.issuer_unique_id.is_none() && tbs.subject_unique_id.is_none());
    // extensions (§4.1.2.9).
    let extensions = tbs.extensions.as_ref().unwrap();
    assert_eq!(extensions.len(), CERT_EXTENSIONS.len());
    for (ext, (id, critical, value)) in extensions.iter().zip(CERT_EXTENSIONS) {
        assert_eq!(ext.extn_id, oid(id), "extnID");
        assert_eq!(ext.critical, critical, "{id} critical");
        assert_eq!(hex(ext.extn_value.as_bytes()), value, "{id} extnValue");
    }
    assert_eq!(upn(&extensions[2].extn_value), UPN);
    // signatureValue (§4.1.1.3).
    let signature = cert.signature.as_bytes().unwrap();
    assert_eq!(signature.len(), USER_KEY_BITS / 8);
    assert_eq!(signature[..4], CERT_SIGNATURE_FIRST);
    assert_eq!(signature[signature.len() - 4..], CERT_SIGNATURE_LAST);
}

// ---- the PKCS#10 request: RFC 2986 §4 ----------------------------------------------

/// CertificationRequestInfo (§4.1) `version`: 0 (v1).
/// openssl: `Version: 1 (0x0)`.
const REQUEST_VERSION: x509_cert::request::Version = x509_cert::request::Version::V1;
/// `attributes` (§4.1): one, extensionRequest (PKCS #9, RFC 2985 §5.4.2,
/// 1.2.840.113549.1.9.14) carrying Extensions { subjectAltName }.
/// openssl: `Requested Extensions: X509v3 Subject Alternative Name:
/// othername: UPN::alex.wilber@contoso.com`; asn1parse: `[0]` at offset 341.
const EXTENSION_REQUEST: &str = "1.2.840.113549.1.9.14";
const REQUEST_ATTRIBUTES_DER: &str = "a045304306092a864886f70d01090e3136303430320603551d11042b3029a027060a2b060104018237140203a0190c17616c65782e77696c62657240636f6e746f736f2e636f6d";
/// `signature` (§4.2): 256 bytes, the first and last four.
/// openssl: `Signature Value: c7:e6:8e:45: … :fd:41:a3:76`.
const REQUEST_SIGNATURE_FIRST: [u8; 4] = [0x60, 0x08, 0x32, 0xD5];
const REQUEST_SIGNATURE_LAST: [u8; 4] = [0xB8, 0xF2, 0xE4, 0x1C];
/// SHA-256 of the request (`sha256sum`); the countersignature's
/// messageDigest is this value.
const REQUEST_SHA256: &str = "ac831f0490fbe5374692bdd999e1948a47fe63106f90a09e0c062042e5e0dda3";

#[test]
fn the_request_reads_field_by_field() {
    assert_eq!(hex(&Sha256::digest(REQUEST)), REQUEST_SHA256);
    let req = CertReq::from_der(REQUEST).unwrap();
    assert_eq!(req.info.version, REQUEST_VERSION, "version");
    assert_eq!(
        hex(&req.info.subject.to_der().unwrap()),
        REQUESTED_NAME_DER,
        "subject"
    );
    check_user_key(&req.info.public_key.to_der().unwrap());
    // attributes: [0] IMPLICIT SET OF Attribute.
    let mut attributes = vec![0xA0];
    let set = req.info.attributes.to_der().unwrap();
    attributes.extend_from_slice(&set[1..]);
    assert_eq!(hex(&attributes), REQUEST_ATTRIBUTES_DER, "attributes");
    let attribute = req.info.attributes.get(0).unwrap();
    assert_eq!(attribute.oid, oid(EXTENSION_REQUEST));
    let requested =
        Extensions::from_der(&attribute.values.get(0).unwrap().to_der().unwrap()).unwrap();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].extn_id, oid("2.5.29.17"));
    assert_eq!(hex(requested[0].extn_value.as_bytes()), UPN_SAN_DER);
    assert_eq!(upn(&requested[0].extn_value), UPN);
    // signatureAlgorithm and signature (§4.2).
    assert_eq!(req.algorithm.oid, oid(SHA256_WITH_RSA));
    assert_eq!(params(&req.algorithm), Some(NULL.to_vec()));
    let signature = req.signature.as_bytes().unwrap();
    assert_eq!(signature[..4], REQUEST_SIGNATURE_FIRST);
    assert_eq!(signature[signature.len() - 4..], REQUEST_SIGNATURE_LAST);
    // Proof of possession: the request verifies under its own key
    // (openssl req -verify: `Certificate request self-signature verify OK`).
    let key = RsaPublicKey::from_public_key_der(&req.info.public_key.to_der().unwrap()).unwrap();
    VerifyingKey::<Sha256>::new(key)
        .verify(
            &req.info.to_der().unwrap(),
            &Signature::try_from(signature).unwrap(),
        )
        .unwrap();

    // The CA certified exactly the requested key.
    let cert = Certificate::from_der(USER_CERTIFICATE).unwrap();
    assert_eq!(
        cert.tbs_certificate.subject_public_key_info,
        req.info.public_key
    );
}

// ---- the countersignature: RFC 5652 ------------------------------------------------

/// ContentInfo (§3) `contentType`: id-signedData.
/// openssl cms: `contentType: pkcs7-signedData (1.2.840.113549.1.7.2)`.
const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
/// SignedData (§5.1) `version`: 1, as §5.1 requires when there are no
/// attribute certificates, the content is id-data and every SignerInfo is
/// version 1. openssl cms: `version: 1`.
const SIGNED_DATA_VERSION: CmsVersion = CmsVersion::V1;
/// EncapsulatedContentInfo (§5.2) `eContentType`: id-data, and `eContent`
/// is the PKCS#10 request above, byte for byte. openssl cms: `eContentType:
/// pkcs7-data (1.2.840.113549.1.7.1)`; `openssl cms -verify -out` writes
/// the request's DER.
const ID_DATA: &str = "1.2.840.113549.1.7.1";
/// `certificates` (§5.1): one, the enrollment agent's, serial 2, issued by
/// the issuing CA. openssl cms: `serialNumber: 2`, `subject: CN=ADFS
/// Enrollment Agent (adfs.contoso.com)`.
const AGENT_NAME_DER: &str = "30333131302f06035504030c284144465320456e726f6c6c6d656e74204167656e742028616466732e636f6e746f736f2e636f6d29";
const AGENT_SERIAL: [u8; 1] = [0x02];
/// SignerInfo (§5.3) `version`: 1, because `sid` is issuerAndSerialNumber
/// (§5.3): the agent's certificate. openssl cms: `version: 1`,
/// `d.issuerAndSerialNumber: issuer: CN=Contoso Issuing CA, serialNumber: 2`.
const SIGNER_INFO_VERSION: CmsVersion = CmsVersion::V1;
/// `signedAttrs` (§5.3), as the file has them (asn1parse: `[0]` at offset
/// 2194, 3 + 179 bytes), in DER SET order:
/// (attrType, the DER of its one value).
const SIGNED_ATTRIBUTES: [(&str, &str); 4] = [
    // content-type (§11.1): id-data, as eContentType.
    // openssl cms: `contentType … OBJECT:pkcs7-data`.
    ("1.2.840.113549.1.9.3", "06092a864886f70d010701"),
    // signing-time (§11.3): UTCTime 261122090151Z.
    // openssl cms: `signingTime … UTCTIME:Nov 22 09:02:06 2026 GMT`.
    ("1.2.840.113549.1.9.5", "170d3236313132323039303230365a"),
    // message-digest (§11.2): SHA-256 of eContent, i.e. REQUEST_SHA256.
    // asn1parse at offset 2268: `AC831F04…E5E0DDA3`.
    (
        "1.2.840.113549.1.9.4",
        "0420ac831f0490fbe5374692bdd999e1948a47fe63106f90a09e0c062042e5e0dda3",
    ),
    // szOID_ENROLLMENT_NAME_VALUE_PAIR (MS-WCCE): SEQUENCE { BMPString
    // "requestername", BMPString "CONTOSO\alexw" }: the agent enrolls on
    // behalf of this user. openssl cms: `undefined (1.3.6.1.4.1.311.13.2.1)`;
    // asn1parse: two BMPSTRINGs of 26 bytes at offsets 2320 and 2348.
    (
        "1.3.6.1.4.1.311.13.2.1",
        "3038\
         1e1a007200650071007500650073007400650072006e0061006d0065\
         1e1a0043004f004e0054004f0053004f005c0061006c006500780077",
    ),
];
/// signing-time as Unix time (`date -u -d "2026-11-22 09:02:06" +%s`).
const SIGNING_TIME: u64 = 1_795_338_126;
/// `signature` (§5.3): 256 bytes; openssl cms: `signature: 0000 - 94 32 d2 1c …`.
const COUNTERSIGNATURE_FIRST: [u8; 4] = [0x94, 0x32, 0xD2, 0x1C];
const COUNTERSIGNATURE_LAST: [u8; 4] = [0x64, 0x84, 0x05, 0xC6];
/// SHA-256 of the whole file (`sha256sum`).
const COUNTERSIGNED_SHA256: &str =
    "23f9308fa2d71563efb0972eb912830134418b7decc4e14bfb0b2cd02031c0b1";

#[test]
fn the_countersignature_reads_field_by_field() {
    assert_eq!(hex(&Sha256::digest(COUNTERSIGNED)), COUNTERSIGNED_SHA256);
    let info = ContentInfo::from_der(COUNTERSIGNED).unwrap();
    assert_eq!(info.content_type, oid(SIGNED_DATA), "contentType");
    let sd: SignedData = info.content.decode_as().unwrap();
    assert_eq!(sd.version, SIGNED_DATA_VERSION, "version");
    // digestAlgorithms (§5.1): SHA-256 alone, parameters absent (RFC 5754 §2).
    assert_eq!(sd.digest_algorithms.len(), 1);
    let digest = sd.digest_algorithms.get(0).unwrap();
    assert_eq!(digest.oid, oid(SHA256), "digestAlgorithms");
    assert!(digest.parameters.is_none());
    // encapContentInfo (§5.2).
    assert_eq!(
        sd.encap_content_info.econtent_type,
        oid(ID_DATA),
        "eContentType"
    );
    let econtent = sd.encap_content_info.econtent.as_ref().unwrap();
    let econtent = OctetString::from_der(&econtent.to_der().unwrap()).unwrap();
    assert_eq!(econtent.as_bytes(), REQUEST, "eContent is the request");
    // certificates (§5.1), no crls.
    let certificates = sd.certificates.as_ref().unwrap();
    assert_eq!(certificates.0.len(), 1);
    let cms::cert::CertificateChoices::Certificate(agent) = certificates.0.get(0).unwrap() else {
        panic!("not an X.509 certificate")
    };
    let agent_tbs = &agent.tbs_certificate;
    assert_eq!(hex(&agent_tbs.subject.to_der().unwrap()), AGENT_NAME_DER);
    assert_eq!(
        hex(&agent_tbs.issuer.to_der().unwrap()),
        ISSUING_CA_NAME_DER
    );
    assert_eq!(agent_tbs.serial_number.as_bytes(), AGENT_SERIAL);
    assert!(sd.crls.is_none());

    // signerInfos (§5.3): one.
    assert_eq!(sd.signer_infos.0.len(), 1);
    let si = sd.signer_infos.0.get(0).unwrap();
    assert_eq!(si.version, SIGNER_INFO_VERSION, "SignerInfo version");
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &si.sid else {
        panic!("sid is not issuerAndSerialNumber")
    };
    assert_eq!(
        hex(&sid.issuer.to_der().unwrap()),
        ISSUING_CA_NAME_DER,
        "sid.issuer"
    );
    assert_eq!(
        sid.serial_number.as_bytes(),
        AGENT_SERIAL,
        "sid.serialNumber"
    );
    assert_eq!(si.digest_alg.oid, oid(SHA256), "digestAlgorithm");
    // signedAttrs (§5.3, §11).
    let attrs = si.signed_attrs.as_ref().unwrap();
    assert_eq!(attrs.len(), SIGNED_ATTRIBUTES.len());
    for (attr, (id, value)) in attrs.iter().zip(SIGNED_ATTRIBUTES) {
        assert_eq!(attr.oid, oid(id), "attrType");
        assert_eq!(attr.values.len(), 1, "{id}: one value");
        let got = attr.values.get(0).unwrap().to_der().unwrap();
        assert_eq!(hex(&got), value, "{id} value");
    }
    let signing_time: UtcTime = attrs
        .get(1)
        .unwrap()
        .values
        .get(0)
        .unwrap()
        .decode_as()
        .unwrap();
    assert_eq!(signing_time.to_unix_duration().as_secs(), SIGNING_TIME);
    let message_digest: OctetString = attrs
        .get(2)
        .unwrap()
        .values
        .get(0)
        .unwrap()
        .decode_as()
        .unwrap();
    assert_eq!(
        message_digest.as_bytes(),
        Sha256::digest(econtent.as_bytes()).as_slice(),
        "messageDigest is SHA-256 of eContent"
    );
    // signatureAlgorithm: rsaEncryption with NULL (RFC 3370 §3.2, RFC 5754 §3.2).
    assert_eq!(si.signature_algorithm.oid, oid(RSA_ENCRYPTION));
    assert_eq!(params(&si.signature_algorithm), Some(NULL.to_vec()));
    let signature = si.signature.as_bytes();
    assert_eq!(signature[..4], COUNTERSIGNATURE_FIRST);
    assert_eq!(signature[signature.len() - 4..], COUNTERSIGNATURE_LAST);
    assert!(si.unsigned_attrs.is_none());

    // The signature covers the DER of signedAttrs with the SET OF tag
    // (§5.4): the file's bytes at offset 2194 with [0] (0xA0) made 0x31.
    let mut signed = COUNTERSIGNED[2194..2194 + 3 + 179].to_vec();
    assert_eq!(signed[0], 0xA0);
    signed[0] = 0x31;
    assert_eq!(signed, attrs.to_der().unwrap());
    let key =
        RsaPublicKey::from_public_key_der(&agent_tbs.subject_public_key_info.to_der().unwrap())
            .unwrap();
    VerifyingKey::<Sha256>::new(key)
        .verify(&signed, &Signature::try_from(signature).unwrap())
        .unwrap();
}

/// The user key's SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): rsaEncryption
/// with NULL parameters, RSAPublicKey { modulus, publicExponent } (RFC 3279
/// §2.3.1).
fn check_user_key(spki_der: &[u8]) {
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(spki_der).unwrap();
    assert_eq!(spki.algorithm.oid, oid(RSA_ENCRYPTION), "SPKI algorithm");
    assert_eq!(params(&spki.algorithm), Some(NULL.to_vec()));
    let key = RsaPublicKey::from_public_key_der(spki_der).unwrap();
    let modulus = key.n().to_bytes_be();
    assert_eq!(modulus.len() * 8, USER_KEY_BITS);
    assert_eq!(modulus[..4], USER_KEY_MODULUS_FIRST);
    assert_eq!(modulus[modulus.len() - 4..], USER_KEY_MODULUS_LAST);
    assert_eq!(hex(&Sha256::digest(&modulus)), USER_KEY_MODULUS_SHA256);
    assert_eq!(key.e(), &BigUint::from(USER_KEY_EXPONENT));
}

/// The UPN in a subjectAltName extension value.
fn upn(extn_value: &OctetString) -> String {
    let san = SubjectAltName::from_der(extn_value.as_bytes()).unwrap();
    assert_eq!(san.0.len(), 1);
    let GeneralName::OtherName(other) = &san.0[0] else {
        panic!("not an otherName")
    };
    assert_eq!(other.type_id, oid(UPN_TYPE_ID));
    other.value.decode_as::<String>().unwrap()
}

// ---- RFC 7515 Appendix A.2: RS256 ------------------------------------------------

/// The appendix's RSA key as its JWK (A.2.1), every member base64url.
const RFC7515_A2_JWK: &str = include_str!("data/rfc7515-a2.jwk.json");
/// The appendix's complete JWS Compact Serialization (A.2.1, end).
const RFC7515_A2_JWS: &str = include_str!("data/rfc7515-a2.jws");
/// BASE64URL(UTF8({"alg":"RS256"})), the JWS Protected Header (A.2.1).
const RFC7515_A2_HEADER: &str = "eyJhbGciOiJSUzI1NiJ9";
/// The JWS Payload (A.1.1, reused by A.2): `{"iss":"joe",` CRLF
/// ` "exp":1300819380,` CRLF ` "http://example.com/is_root":true}`.
const RFC7515_A2_PAYLOAD: &[u8] =
    b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
/// SHA-256 of the JWS Signing Input (`printf %s … | sha256sum`).
const RFC7515_A2_INPUT_SHA256: &str =
    "c88a34847b4ffb12a9326e540f144b3dcc4d5515f18701e7d6e0ee7866c9c705";

/// A JWK member as an integer.
fn jwk_number(jwk: &serde_json::Value, name: &str) -> BigUint {
    BigUint::from_bytes_be(&b64url_decode(jwk[name].as_str().unwrap()))
}

fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn b64url_decode(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).unwrap()
}

#[test]
fn rfc7515_a2_rs256_signs_and_verifies_byte_for_byte() {
    let jwk: serde_json::Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    let n = |name| jwk_number(&jwk, name);
    let key = RsaPrivateKey::from_components(n("n"), n("e"), n("d"), vec![n("p"), n("q")]).unwrap();
    // The CRT values rsa derives are the appendix's dp, dq, qi.
    assert_eq!(key.dp(), Some(&n("dp")));
    assert_eq!(key.dq(), Some(&n("dq")));
    assert_eq!(key.crt_coefficient(), Some(n("qi")));

    let compact = RFC7515_A2_JWS.trim_end();
    let mut segments = compact.split('.');
    let (header, payload, signature) = (
        segments.next().unwrap(),
        segments.next().unwrap(),
        segments.next().unwrap(),
    );
    assert!(segments.next().is_none());
    assert_eq!(header, RFC7515_A2_HEADER);
    assert_eq!(b64url_decode(header), br#"{"alg":"RS256"}"#);
    assert_eq!(b64url_decode(payload), RFC7515_A2_PAYLOAD);
    let signing_input = format!("{header}.{payload}");
    assert_eq!(
        hex(&Sha256::digest(&signing_input)),
        RFC7515_A2_INPUT_SHA256
    );

    // RS256 (RFC 7518 §3.3) of the exact Signing Input with the key is the
    // appendix's signature, byte for byte (RSASSA-PKCS1-v1_5 is
    // deterministic). jws.rs signs with the same rsa primitive, but its
    // public functions build the signing input from JSON values, which would
    // not reproduce the appendix's CRLF and spaces.
    let ours = SigningKey::<Sha256>::new(key.clone())
        .try_sign(signing_input.as_bytes())
        .unwrap()
        .to_vec();
    assert_eq!(b64url(&ours), signature);

    // The crate's parser and verifier accept the appendix's JWS under the
    // public key, and refuse it once a payload byte changes.
    let public = key.to_public_key();
    let parsed = Jws::parse(compact).unwrap();
    assert_eq!(parsed.signing_input(), signing_input);
    assert_eq!(parsed.signature(), ours);
    assert_eq!(parsed.string_claim("iss").unwrap(), "joe");
    assert_eq!(parsed.u64_claim("exp").unwrap(), 1_300_819_380);
    parsed.verify(&public).unwrap();
    let later = String::from_utf8(RFC7515_A2_PAYLOAD.to_vec())
        .unwrap()
        .replace("1300819380", "1300819381");
    let tampered = format!("{header}.{}.{signature}", b64url(later.as_bytes()));
    let tampered = Jws::parse(&tampered).unwrap();
    assert_eq!(tampered.u64_claim("exp").unwrap(), 1_300_819_381);
    assert!(tampered.verify(&public).is_err());

    // The crate's JWK reader takes the public half, and refuses the
    // private members of the appendix's JWK.
    let public_jwk = serde_json::json!({"kty": "RSA", "n": jwk["n"], "e": jwk["e"]});
    assert_eq!(
        Jwk::from_value(&public_jwk)
            .unwrap()
            .to_public_key()
            .unwrap(),
        public
    );
    assert!(Jwk::from_value(&jwk).is_err());
}

fn oid(dotted: &str) -> ObjectIdentifier {
    ObjectIdentifier::new(dotted).unwrap()
}

/// An AlgorithmIdentifier's parameters as DER, if present.
fn params(alg: &spki::AlgorithmIdentifierOwned) -> Option<Vec<u8>> {
    alg.parameters.as_ref().map(|p| p.to_der().unwrap())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
