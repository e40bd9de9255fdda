//! The EK certificate chains to the emulated manufacturer's CA and carries
//! the EK's public key.

use crate::helpers;

use der::{Decode, Encode};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use spki::DecodePublicKey;
use tpm_emu::{templates, AuthValue, TpmHandle, TCG_KP_EK_CERTIFICATE};
use x509_cert::Certificate;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn verify(cert: &Certificate, issuer: &Certificate) {
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    let key = VerifyingKey::from_public_key_der(&spki).unwrap();
    let tbs = cert.tbs_certificate.to_der().unwrap();
    let sig = DerSignature::from_bytes(cert.signature.raw_bytes()).unwrap();
    key.verify(&tbs, &sig).unwrap();
}

#[test]
fn ek_certificate_chains_to_the_manufacturer_and_matches_the_ek() {
    let (mut client, platform) = helpers::provisioned(6);
    let ca = Certificate::from_der(client.transport().manufacturer_ca_certificate()).unwrap();
    let ek_der = client.ek_certificate().unwrap();
    assert_eq!(ek_der, platform.ek_certificate);
    assert_eq!(ek_der, client.transport().ek_certificate());
    let ek = Certificate::from_der(&ek_der).unwrap();

    // The root is self-signed; the EK certificate is issued by it.
    verify(&ca, &ca);
    verify(&ek, &ca);
    assert_eq!(ek.tbs_certificate.issuer, ca.tbs_certificate.subject);
    assert!(ek.tbs_certificate.subject.0.is_empty());

    // Its key is the EK: from TPM2_CreatePrimary and from TPM2_ReadPublic.
    let spki = ek.tbs_certificate.subject_public_key_info.to_der().unwrap();
    assert_eq!(
        spki,
        platform.ek.public.subject_public_key_info_der().unwrap()
    );
    let read = client.read_public(platform.ek.handle).unwrap();
    assert_eq!(spki, read.public.subject_public_key_info_der().unwrap());

    // TCG profile: EKU tcg-kp-EKCertificate; critical SAN (empty subject).
    let exts = ek.tbs_certificate.extensions.as_ref().unwrap();
    let eku = exts
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .unwrap();
    let eku = x509_cert::ext::pkix::ExtendedKeyUsage::from_der(eku.extn_value.as_bytes()).unwrap();
    assert_eq!(eku.0, vec![TCG_KP_EK_CERTIFICATE]);
    let san = exts
        .iter()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
        .unwrap();
    assert!(san.critical);
}

#[test]
fn create_primary_of_the_ek_template_is_deterministic() {
    let (mut client, platform) = helpers::provisioned(6);
    let again = client
        .create_primary(
            TpmHandle::RH_ENDORSEMENT,
            &AuthValue::empty(),
            &templates::ek_ecc_p256(),
            &AuthValue::empty(),
        )
        .unwrap();
    assert_eq!(again.public, platform.ek.public);
    assert_eq!(&again.public, client.transport().ek_public());
    // The owner hierarchy gives a different key from the same template.
    client.flush_context(again.handle).unwrap();
    let other = client
        .create_primary(
            TpmHandle::RH_OWNER,
            &AuthValue::empty(),
            &templates::ek_ecc_p256(),
            &AuthValue::empty(),
        )
        .unwrap();
    assert_ne!(other.public, platform.ek.public);
}

#[test]
fn devices_from_different_seeds_differ() {
    let a = tpm_emu::Tpm::new(tpm_emu::TpmSeed([1; 32]));
    let b = tpm_emu::Tpm::new(tpm_emu::TpmSeed([2; 32]));
    assert_ne!(a.ek_public(), b.ek_public());
    assert_ne!(a.ek_certificate(), b.ek_certificate());
}
