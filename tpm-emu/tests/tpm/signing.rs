//! TPM2_Sign with a PIN-bound user key verifies with the public key the TPM
//! reports through TPM2_ReadPublic.

use crate::helpers;

use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use sha2::{Digest, Sha256};
use tpm_emu::{AuthValue, Error, TpmtSignature};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn sign_verifies_with_the_read_public_key() {
    let (mut client, platform) = helpers::provisioned(1);
    let (key, _) = helpers::user_key(&mut client, &platform, "246810");

    let message = b"challenge from the relying party";
    let digest = Sha256::digest(message);
    let signature = client
        .sign(key.handle, &AuthValue::from_pin("246810"), &digest)
        .unwrap();

    let public = client.read_public(key.handle).unwrap();
    assert_eq!(public.name, key.name);
    let verifier = VerifyingKey::<Sha256>::new(public.public.rsa_public_key().unwrap());
    let TpmtSignature::Rsassa(rsassa) = signature else {
        panic!("expected an RSASSA signature, got {signature:?}");
    };
    let sig = Signature::try_from(rsassa.sig.as_bytes()).unwrap();
    verifier.verify(message, &sig).unwrap();
    assert!(verifier.verify(b"another message", &sig).is_err());
}

#[test]
fn the_empty_auth_no_longer_works_after_binding_a_pin() {
    let (mut client, platform) = helpers::provisioned(2);
    let (key, _) = helpers::user_key(&mut client, &platform, "135790");
    let err = client
        .sign(key.handle, &AuthValue::empty(), &[0u8; 32])
        .unwrap_err();
    let Error::Tpm(rc) = err else {
        panic!("{err:?}")
    };
    assert!(rc.is_auth_fail(), "{rc}");
}

#[test]
fn restricted_attestation_key_refuses_a_bare_digest() {
    let (mut client, platform) = helpers::provisioned(3);
    let empty = AuthValue::empty();
    // No ticket: TPM_RC_TICKET for parameter 3 (validation).
    let err = client
        .sign(platform.aik.handle, &empty, &[1u8; 32])
        .unwrap_err();
    assert_eq!(err, Error::Tpm(tpm_emu::ResponseCode(0x03E0)));

    // A ticket from TPM2_Hash for ordinary data works...
    let (digest, ticket) = client
        .hash(b"ordinary data", tpm_emu::TpmHandle::RH_OWNER)
        .unwrap();
    let sig = client
        .sign_with_ticket(platform.aik.handle, &empty, &digest, &ticket)
        .unwrap();
    sig.verify(&platform.aik.public, b"ordinary data").unwrap();

    // ...but data that looks like a TPM attestation gets a NULL ticket.
    let forged = [0xFF, 0x54, 0x43, 0x47, 0x80, 0x17];
    let (digest, ticket) = client.hash(&forged, tpm_emu::TpmHandle::RH_OWNER).unwrap();
    assert!(ticket.digest.is_empty());
    let err = client
        .sign_with_ticket(platform.aik.handle, &empty, &digest, &ticket)
        .unwrap_err();
    assert_eq!(err, Error::Tpm(tpm_emu::ResponseCode(0x03E0)));
}
