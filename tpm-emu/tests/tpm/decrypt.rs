//! TPM2_RSA_Decrypt: what others encrypted to a TPM-held decryption key
//! comes back, padding removed; a key that may not decrypt, a scheme the
//! key does not allow, a label without its zero byte and tampered data are
//! refused with the TPM's own codes.

use crate::helpers;

use rand_chacha::rand_core::SeedableRng;
use rsa::{Oaep, Pkcs1v15Encrypt};
use tpm_emu::{templates, AuthValue, Error, ResponseCode, TpmAlgId, TpmtRsaDecrypt};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn rc(e: Error) -> ResponseCode {
    match e {
        Error::Tpm(rc) => rc.base(),
        other => panic!("expected a TPM response code, got {other}"),
    }
}

#[test]
fn what_was_encrypted_to_the_key_comes_back() {
    let (mut client, platform) = helpers::provisioned(21);
    let auth = AuthValue::from_pin("4711");
    let (key, public) = helpers::bound_key(
        &mut client,
        &platform,
        &templates::decryption_key_rsa_2048(),
        &auth,
    );
    let rsa_public = public.rsa_public_key().unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let secret = [0x5Au8; 32];

    // RSA-OAEP with SHA-1, as JWE's "RSA-OAEP" (RFC 7518 §4.3), no label.
    let sealed = rsa_public
        .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), &secret)
        .unwrap();
    let oaep_sha1 = TpmtRsaDecrypt::new(TpmAlgId::OAEP, TpmAlgId::SHA1);
    let opened = client
        .rsa_decrypt(key.handle, &auth, &sealed, oaep_sha1, &[])
        .unwrap();
    assert_eq!(opened, secret);

    // OAEP with SHA-256 and a label (with its terminating zero byte).
    let sealed = rsa_public
        .encrypt(
            &mut rng,
            Oaep::new_with_label::<sha2::Sha256, _>("DUPLICATE\0"),
            &secret,
        )
        .unwrap();
    let opened = client
        .rsa_decrypt(
            key.handle,
            &auth,
            &sealed,
            TpmtRsaDecrypt::new(TpmAlgId::OAEP, TpmAlgId::SHA256),
            b"DUPLICATE\0",
        )
        .unwrap();
    assert_eq!(opened, secret);

    // RSAES-PKCS1-v1_5.
    let sealed = rsa_public
        .encrypt(&mut rng, Pkcs1v15Encrypt, &secret)
        .unwrap();
    let opened = client
        .rsa_decrypt(
            key.handle,
            &auth,
            &sealed,
            TpmtRsaDecrypt::new(TpmAlgId::RSAES, TpmAlgId::NULL),
            &[],
        )
        .unwrap();
    assert_eq!(opened, secret);

    // The wrong authorisation is a counted failure, not a decryption.
    let err = client
        .rsa_decrypt(
            key.handle,
            &AuthValue::from_pin("0000"),
            &sealed,
            oaep_sha1,
            &[],
        )
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::AUTH_FAIL);
}

#[test]
fn what_the_key_may_not_do_or_cannot_open_is_refused() {
    let (mut client, platform) = helpers::provisioned(22);
    let auth = AuthValue::empty();
    let (key, public) = helpers::bound_key(
        &mut client,
        &platform,
        &templates::decryption_key_rsa_2048(),
        &auth,
    );
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    let sealed = public
        .rsa_public_key()
        .unwrap()
        .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), b"session key")
        .unwrap();
    let oaep_sha1 = TpmtRsaDecrypt::new(TpmAlgId::OAEP, TpmAlgId::SHA1);

    // A signing key is not a decryption key.
    let (signing, _) = helpers::user_key(&mut client, &platform, "2468");
    let err = client
        .rsa_decrypt(
            signing.handle,
            &AuthValue::from_pin("2468"),
            &sealed,
            oaep_sha1,
            &[],
        )
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::ATTRIBUTES);

    // No scheme at all: the key has none, the command names none.
    let err = client
        .rsa_decrypt(key.handle, &auth, &sealed, TpmtRsaDecrypt::NULL, &[])
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::SCHEME);

    // A label must end in a zero byte.
    let err = client
        .rsa_decrypt(key.handle, &auth, &sealed, oaep_sha1, b"label")
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::VALUE);

    // One flipped bit: the padding no longer checks out.
    let mut tampered = sealed.clone();
    tampered[100] ^= 0x01;
    let err = client
        .rsa_decrypt(key.handle, &auth, &tampered, oaep_sha1, &[])
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::VALUE);

    // The right scheme, the wrong hash.
    let err = client
        .rsa_decrypt(
            key.handle,
            &auth,
            &sealed,
            TpmtRsaDecrypt::new(TpmAlgId::OAEP, TpmAlgId::SHA256),
            &[],
        )
        .unwrap_err();
    assert_eq!(rc(err), ResponseCode::VALUE);
    // And the original still opens.
    assert_eq!(
        client
            .rsa_decrypt(key.handle, &auth, &sealed, oaep_sha1, &[])
            .unwrap(),
        b"session key"
    );
}

#[test]
fn the_decrypt_command_and_response_describe_every_field() {
    let (mut client, platform) = helpers::provisioned(23);
    let auth = AuthValue::empty();
    let (key, public) = helpers::bound_key(
        &mut client,
        &platform,
        &templates::decryption_key_rsa_2048(),
        &auth,
    );
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    let sealed = public
        .rsa_public_key()
        .unwrap()
        .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), &[1u8; 32])
        .unwrap();
    client.take_exchanges();
    client
        .rsa_decrypt(
            key.handle,
            &auth,
            &sealed,
            TpmtRsaDecrypt::new(TpmAlgId::OAEP, TpmAlgId::SHA1),
            &[],
        )
        .unwrap();
    let exchange = client.take_exchanges().pop().unwrap();
    assert_eq!(exchange.name, "TPM2_RSA_Decrypt");
    let text = format!(
        "{:?} {:?}",
        exchange.describe_command().unwrap(),
        exchange.describe_response().unwrap()
    );
    for field in ["cipherText", "inScheme", "label", "message", "TPM_ALG_OAEP"] {
        assert!(text.contains(field), "{field} in {text}");
    }
}
