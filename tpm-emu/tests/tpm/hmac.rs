//! Keyed-hash objects and TPM2_HMAC: a secret the caller brings becomes an
//! HMAC key the TPM holds (TPM2_Create with `inSensitive.data`), survives
//! TPM2_Load through its wrapped private area, and MACs what it is given;
//! the TPM's own codes refuse what the specification refuses.

use crate::helpers;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tpm_emu::{templates, AuthValue, Error, PublicKind, ResponseCode, TpmaObject};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn rc(e: Error) -> ResponseCode {
    match e {
        Error::Tpm(rc) => rc.base(),
        other => panic!("expected a TPM response code, got {other}"),
    }
}

fn software_hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn a_secret_brought_in_macs_as_hmac_sha256() {
    let (mut client, platform) = helpers::provisioned(31);
    let srk = platform.srk.handle;
    client.take_exchanges();
    let empty = AuthValue::empty();
    let secret = [0xA5u8; 32];
    let created = client
        .create_keyed_hash(srk, &empty, &templates::hmac_key_sha256(), &empty, &secret)
        .unwrap();
    // The public area binds the secret without showing it.
    let PublicKind::KeyedHash { unique, .. } = &created.public.kind else {
        panic!("not a keyed-hash object");
    };
    assert_eq!(unique.as_bytes().len(), 32);
    assert!(!created.private.as_bytes().windows(32).any(|w| w == secret));
    let loaded = client
        .load(srk, &empty, &created.private, &created.public)
        .unwrap();
    for data in [&b""[..], b"AzureAD-SecureConversation", &[7u8; 1024]] {
        let mac = client.hmac(loaded.handle, &empty, data).unwrap();
        assert_eq!(mac, software_hmac(&secret, data));
    }
    // The recorded command withholds the secret.
    let exchanges = client.take_exchanges();
    let create = exchanges
        .iter()
        .rfind(|x| x.name == "TPM2_Create" && x.has_withheld())
        .expect("the keyed-hash TPM2_Create was recorded");
    assert!(!create.command.windows(32).any(|w| w == secret));
}

#[test]
fn what_the_specification_refuses_is_refused() {
    let (mut client, platform) = helpers::provisioned(32);
    let srk = platform.srk.handle;
    let empty = AuthValue::empty();
    let template = templates::hmac_key_sha256();

    // A secret from outside with sensitiveDataOrigin set: TPM_RC_ATTRIBUTES.
    let mut origin = template.clone();
    origin.object_attributes = origin.object_attributes | TpmaObject::SENSITIVE_DATA_ORIGIN;
    let e = client
        .create_keyed_hash(srk, &empty, &origin, &empty, &[1u8; 32])
        .unwrap_err();
    assert_eq!(rc(e), ResponseCode::ATTRIBUTES);

    // An HMAC key may not decrypt.
    let mut decrypt = template.clone();
    decrypt.object_attributes = decrypt.object_attributes | TpmaObject::DECRYPT;
    let e = client
        .create_keyed_hash(srk, &empty, &decrypt, &empty, &[1u8; 32])
        .unwrap_err();
    assert_eq!(rc(e), ResponseCode::ATTRIBUTES);

    // The wrong authorisation is counted and refused.
    let auth = AuthValue::from_pin("2468");
    let created = client
        .create_keyed_hash(srk, &empty, &template, &auth, &[2u8; 32])
        .unwrap();
    let loaded = client
        .load(srk, &empty, &created.private, &created.public)
        .unwrap();
    let e = client
        .hmac(loaded.handle, &AuthValue::from_pin("1357"), b"x")
        .unwrap_err();
    assert_eq!(rc(e), ResponseCode::AUTH_FAIL);
    assert!(client.hmac(loaded.handle, &auth, b"x").is_ok());

    // A public area whose unique does not bind the secret: TPM_RC_BINDING.
    let mut forged = created.public.clone();
    if let PublicKind::KeyedHash { unique, .. } = &mut forged.kind {
        *unique = tpm_emu::Tpm2bDigest::new(vec![0u8; 32]).unwrap();
    }
    let e = client
        .load(srk, &empty, &created.private, &forged)
        .unwrap_err();
    // The name changed with the public area, so the private area's
    // integrity check fails first.
    assert!(matches!(
        rc(e),
        ResponseCode::INTEGRITY | ResponseCode::BINDING
    ));

    // TPM2_HMAC with an RSA key: TPM_RC_TYPE.
    let (rsa, _) = helpers::bound_key(
        &mut client,
        &platform,
        &templates::decryption_key_rsa_2048(),
        &empty,
    );
    let e = client.hmac(rsa.handle, &empty, b"x").unwrap_err();
    assert_eq!(rc(e), ResponseCode::TYPE);
}
