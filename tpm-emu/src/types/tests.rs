//! Marshalling tests for every structure: round trip, every too-short
//! prefix, and a too-long buffer; plus known-answer encodings.

use core::fmt::Debug;

use crate::error::{Error, Malformed, MalformedKind};
use crate::marshal::{Marshal, Unmarshal};
use crate::templates;
use crate::types::*;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// Round trip; every proper prefix is too short; one extra byte is too long.
fn check<T: Marshal + Unmarshal + PartialEq + Debug>(value: &T) {
    let bytes = value.to_bytes();
    assert_eq!(
        &T::from_bytes(&bytes).unwrap(),
        value,
        "round trip of {value:?}"
    );
    for n in 0..bytes.len() {
        assert!(
            T::from_bytes(&bytes[..n]).is_err(),
            "prefix of {n} of {} bytes parsed: {value:?}",
            bytes.len()
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    match T::from_bytes(&long) {
        Err(Error::Malformed(Malformed {
            kind: MalformedKind::Trailing,
            offset,
            ..
        })) => assert_eq!(offset, bytes.len()),
        other => panic!("too long gave {other:?}"),
    }
}

fn digest(b: u8) -> Tpm2bDigest {
    Tpm2bDigest::new(vec![b; 32]).unwrap()
}

fn name(b: u8) -> Tpm2bName {
    let mut v = vec![0x00, 0x0B];
    v.extend_from_slice(&[b; 32]);
    Tpm2bName::new(v).unwrap()
}

fn rsa_public() -> TpmtPublic {
    let mut t = templates::user_key_rsa_2048();
    if let PublicKind::Rsa { unique, .. } = &mut t.kind {
        *unique = Tpm2bPublicKeyRsa::new(vec![0xC5; 256]).unwrap();
    }
    t
}

fn ecc_public() -> TpmtPublic {
    templates::ek_ecc_p256()
}

fn attest() -> TpmsAttest {
    TpmsAttest {
        qualified_signer: name(1),
        extra_data: Tpm2bData::new(b"nonce".to_vec()).unwrap(),
        clock_info: TpmsClockInfo {
            clock: 0x1122_3344_5566_7788,
            reset_count: 1,
            restart_count: 2,
            safe: true,
        },
        firmware_version: 0x0001_0000_0000_0000,
        attested: TpmuAttest::Certify(TpmsCertifyInfo {
            name: name(2),
            qualified_name: name(3),
        }),
    }
}

#[test]
fn constants_and_attributes() {
    check(&TpmAlgId::SHA256);
    check(&TpmHandle::RH_OWNER);
    check(&TpmaObject(0x0004_0072));
    check(&TpmaSession::CONTINUE_SESSION);
    check(&TpmaNv(0x6207_2001));
    check(&ResponseCode::AUTH_FAIL);
}

#[test]
fn sized_buffers() {
    check(&digest(9));
    check(&Tpm2bDigest::empty());
    check(&Tpm2bData::new(vec![1, 2, 3]).unwrap());
    check(&name(4));
    check(&Tpm2bPrivate::new(vec![7; 200]).unwrap());
    check(&Tpm2bPublicKeyRsa::new(vec![1; 256]).unwrap());
    check(&Tpm2bEccParameter::new(vec![1; 32]).unwrap());
    check(&Tpm2bMaxNvBuffer::new(vec![1; 1024]).unwrap());
}

#[test]
fn public_areas() {
    check(&rsa_public());
    check(&ecc_public());
    check(&templates::srk_ecc_p256());
    check(&templates::aik_rsa_2048());
    check(&Tpm2bPublic(rsa_public()));
    check(&Tpm2bPublic(ecc_public()));
    check(&TpmtSymDefObject::AES_128_CFB);
    check(&TpmtSymDefObject::NULL);
    check(&TpmtRsaScheme::new(TpmAlgId::RSASSA, TpmAlgId::SHA256));
    check(&TpmtRsaScheme::new(TpmAlgId::RSAES, TpmAlgId::NULL));
    check(&TpmtEccScheme::new(TpmAlgId::ECDSA, TpmAlgId::SHA256));
    check(&TpmtKdfScheme::NULL);
    check(&TpmtSigScheme::NULL);
}

#[test]
fn attestation_and_signatures() {
    check(&attest());
    check(&Tpm2bAttest(attest()));
    check(&TpmsClockInfo::default());
    check(&TpmtSignature::Null);
    check(&TpmtSignature::Rsassa(TpmsSignatureRsa {
        hash: TpmAlgId::SHA256,
        sig: Tpm2bPublicKeyRsa::new(vec![0x5A; 256]).unwrap(),
    }));
    check(&TpmtSignature::Ecdsa(TpmsSignatureEcc {
        hash: TpmAlgId::SHA256,
        signature_r: Tpm2bEccParameter::new(vec![1; 32]).unwrap(),
        signature_s: Tpm2bEccParameter::new(vec![2; 32]).unwrap(),
    }));
}

#[test]
fn creation_tickets_nv_sessions_capabilities() {
    let pcrs = TpmlPcrSelection(vec![TpmsPcrSelection {
        hash: TpmAlgId::SHA256,
        pcr_select: vec![0x01, 0x00, 0x80],
    }]);
    check(&pcrs);
    check(&TpmlPcrSelection::default());
    check(&TpmsCreationData {
        pcr_select: pcrs,
        pcr_digest: digest(1),
        locality: TpmaLocality::LOC_ZERO,
        parent_name_alg: TpmAlgId::SHA256,
        parent_name: name(5),
        parent_qualified_name: name(6),
        outside_info: Tpm2bData::empty(),
    });
    check(&TpmtTkCreation {
        hierarchy: TpmHandle::RH_OWNER,
        digest: digest(2),
    });
    check(&TpmtTkHashcheck::null());
    check(&Tpm2bNvPublic(TpmsNvPublic {
        nv_index: TpmHandle::EK_CERT_ECC_P256,
        name_alg: TpmAlgId::SHA256,
        attributes: TpmaNv(0x6207_2001),
        auth_policy: Tpm2bDigest::empty(),
        data_size: 600,
    }));
    check(&TpmsAuthCommand::password(&crate::AuthValue::from_pin(
        "1234",
    )));
    check(&TpmsAuthResponse::password());
    check(&Tpm2bSensitiveCreate(TpmsSensitiveCreate::default()));
    check(&TpmsCapabilityData {
        tpm_properties: TpmlTaggedTpmProperty(vec![TpmsTaggedProperty {
            property: TpmPt::LOCKOUT_COUNTER,
            value: 3,
        }]),
    });
}

/// The user-key template's public area, byte by byte (TPM 2.0 Part 2 §12.2.4).
#[test]
fn rsa_signing_key_public_area_known_answer() {
    let expected: Vec<u8> = [
        &[0x00, 0x01][..],         // type: TPM_ALG_RSA
        &[0x00, 0x0B],             // nameAlg: TPM_ALG_SHA256
        &[0x00, 0x04, 0x00, 0x72], // objectAttributes: fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign
        &[0x00, 0x00],             // authPolicy: empty
        &[0x00, 0x10],             // parameters.symmetric: TPM_ALG_NULL
        &[0x00, 0x14, 0x00, 0x0B], // parameters.scheme: TPM_ALG_RSASSA, hashAlg TPM_ALG_SHA256
        &[0x08, 0x00],             // parameters.keyBits: 2048
        &[0x00, 0x00, 0x00, 0x00], // parameters.exponent: 0 (= 65537)
        &[0x01, 0x00],             // unique.size: 256
        &[0xC5; 256],              // unique.buffer: the modulus
    ]
    .concat();
    assert_eq!(rsa_public().to_bytes(), expected);
}

/// The TCG L-2 EK template (ECC NIST P-256), byte by byte.
#[test]
fn ek_template_known_answer() {
    let expected: Vec<u8> = [
        &[0x00, 0x23][..],         // type: TPM_ALG_ECC
        &[0x00, 0x0B],             // nameAlg: TPM_ALG_SHA256
        &[0x00, 0x03, 0x00, 0xB2], // objectAttributes: fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy | restricted | decrypt
        &[0x00, 0x20],             // authPolicy.size
        &crate::templates::EK_AUTH_POLICY_SHA256,
        &[0x00, 0x06, 0x00, 0x80, 0x00, 0x43], // symmetric: AES, 128 bits, CFB
        &[0x00, 0x10],                         // scheme: TPM_ALG_NULL
        &[0x00, 0x03],                         // curveID: TPM_ECC_NIST_P256
        &[0x00, 0x10],                         // kdf: TPM_ALG_NULL
        &[0x00, 0x20],                         // unique.x.size
        &[0x00; 32],
        &[0x00, 0x20], // unique.y.size
        &[0x00; 32],
    ]
    .concat();
    assert_eq!(ecc_public().to_bytes(), expected);
}

/// TPMS_ATTEST for TPM2_Certify, byte by byte (TPM 2.0 Part 2 §10.12.12).
#[test]
fn attest_known_answer() {
    let bytes = attest().to_bytes();
    assert_eq!(&bytes[0..4], &[0xFF, 0x54, 0x43, 0x47]); // magic: TPM_GENERATED_VALUE
    assert_eq!(&bytes[4..6], &[0x80, 0x17]); // type: TPM_ST_ATTEST_CERTIFY
    assert_eq!(&bytes[6..8], &[0x00, 0x22]); // qualifiedSigner.size: 34
    assert_eq!(&bytes[42..49], &[0x00, 0x05, b'n', b'o', b'n', b'c', b'e']); // extraData
    assert_eq!(&bytes[49..57], &0x1122_3344_5566_7788u64.to_be_bytes()); // clockInfo.clock
    assert_eq!(&bytes[57..66], &[0, 0, 0, 1, 0, 0, 0, 2, 1]); // resetCount, restartCount, safe
    assert_eq!(bytes.len(), 66 + 8 + 36 + 36); // firmwareVersion, name, qualifiedName
}

#[test]
fn values_out_of_range_are_refused_with_the_tpm_code() {
    let kind = |bytes: &[u8]| match TpmtPublic::from_bytes(bytes) {
        Err(Error::Malformed(m)) => m.kind,
        other => panic!("{other:?}"),
    };
    let mut b = rsa_public().to_bytes();
    b[1] = 0x25; // type: TPM_ALG_SYMCIPHER, not implemented
    assert_eq!(kind(&b), MalformedKind::Type);
    let mut b = rsa_public().to_bytes();
    b[3] = 0x04; // nameAlg: SHA-1, not implemented
    assert_eq!(kind(&b), MalformedKind::Hash);
    let mut b = rsa_public().to_bytes();
    b[16] = 0x04; // keyBits: 1024
    assert_eq!(kind(&b), MalformedKind::Value);
    let mut b = ecc_public().to_bytes();
    b[51] = 0x04; // curveID: P-384
    assert_eq!(kind(&b), MalformedKind::Curve);
    let mut a = attest().to_bytes();
    a[0] = 0xFE; // magic
    assert!(TpmsAttest::from_bytes(&a).is_err());
}
