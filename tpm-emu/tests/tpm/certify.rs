//! TPM2_Certify: the attestation names the certified key, echoes the nonce,
//! and is signed by the attestation key.

use crate::helpers;

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use sha2::{Digest, Sha256};
use tpm_emu::{AuthValue, PublicKind, TpmSt, TpmtSignature};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The user key's TPMT_PUBLIC marshalled by hand (TPM 2.0 Part 2 §12.2.4).
fn marshal_by_hand(modulus: &[u8]) -> Vec<u8> {
    let mut b = vec![
        0x00, 0x01, // type: TPM_ALG_RSA
        0x00, 0x0B, // nameAlg: TPM_ALG_SHA256
        0x00, 0x04, 0x00, 0x72, // objectAttributes
        0x00, 0x00, // authPolicy: empty
        0x00, 0x10, // symmetric: TPM_ALG_NULL
        0x00, 0x14, 0x00, 0x0B, // scheme: RSASSA with SHA-256
        0x08, 0x00, // keyBits: 2048
        0x00, 0x00, 0x00, 0x00, // exponent: default
    ];
    b.extend_from_slice(&(modulus.len() as u16).to_be_bytes());
    b.extend_from_slice(modulus);
    b
}

#[test]
fn certify_names_the_key_echoes_the_nonce_and_verifies() {
    let (mut client, platform) = helpers::provisioned(4);
    let pin = AuthValue::from_pin("314159");
    let (key, public) = helpers::user_key(&mut client, &platform, "314159");
    let nonce = Sha256::digest(b"server nonce").to_vec();

    let att = client
        .certify(
            key.handle,
            &pin,
            platform.aik.handle,
            &AuthValue::empty(),
            &nonce,
        )
        .unwrap();

    // magic and type, in the signed bytes themselves.
    assert_eq!(&att.attest_bytes[0..4], &[0xFF, 0x54, 0x43, 0x47]);
    assert_eq!(&att.attest_bytes[4..6], &[0x80, 0x17]);
    assert_eq!(att.attest.type_(), TpmSt::ATTEST_CERTIFY);

    // The certified Name, recomputed independently: 0x000B ‖ SHA-256 of
    // the hand-marshalled public area.
    let PublicKind::Rsa { unique, .. } = &public.kind else {
        panic!()
    };
    let mut name = vec![0x00, 0x0B];
    name.extend_from_slice(&Sha256::digest(marshal_by_hand(unique.as_bytes())));
    let info = att.attest.certify_info().unwrap();
    assert_eq!(info.name.as_bytes(), &name[..]);
    assert_eq!(public.name().as_bytes(), &name[..]);

    // Qualified names agree with TPM2_ReadPublic.
    let key_info = client.read_public(key.handle).unwrap();
    assert_eq!(info.qualified_name, key_info.qualified_name);
    let aik_info = client.read_public(platform.aik.handle).unwrap();
    assert_eq!(att.attest.qualified_signer, aik_info.qualified_name);

    // The nonce is echoed in extraData.
    assert_eq!(att.attest.extra_data.as_bytes(), &nonce[..]);

    // The signature verifies with the AIK's public key.
    let TpmtSignature::Rsassa(sig) = &att.signature else {
        panic!()
    };
    let verifier = VerifyingKey::<Sha256>::new(aik_info.public.rsa_public_key().unwrap());
    let sig = Signature::try_from(sig.sig.as_bytes()).unwrap();
    verifier.verify(&att.attest_bytes, &sig).unwrap();
    // Any change to the attestation breaks it.
    let mut tampered = att.attest_bytes.clone();
    tampered[10] ^= 1;
    assert!(verifier.verify(&tampered, &sig).is_err());
}

#[test]
fn certify_needs_the_keys_authorization() {
    let (mut client, platform) = helpers::provisioned(5);
    let (key, _) = helpers::user_key(&mut client, &platform, "271828");
    let err = client
        .certify(
            key.handle,
            &AuthValue::from_pin("000000"),
            platform.aik.handle,
            &AuthValue::empty(),
            b"n",
        )
        .unwrap_err();
    assert_eq!(err, tpm_emu::Error::Tpm(tpm_emu::ResponseCode(0x098E)));
}
