//! The same seed gives byte-identical keys, attestations and signatures;
//! different seeds differ; the n-th TPM2_Create does not depend on what ran
//! in between.

use crate::helpers;

use tpm_emu::{templates, AuthValue, Exchange, Millis, Tpm, TpmClient, TpmSeed, TpmtPublic};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// A whole flow: provisioning, a PIN-bound user key, an attestation, a
/// signature. Returns every exchange, unredacted.
fn flow(seed: TpmSeed) -> Vec<Exchange> {
    let mut client = TpmClient::new(Tpm::new(seed));
    client.set_redact_secrets(false);
    client.transport_mut().set_time(Millis(1_000));
    let platform = client.provision().unwrap();
    let (key, _) = helpers::user_key(&mut client, &platform, "112233");
    client.transport_mut().set_time(Millis(5_000));
    let pin = AuthValue::from_pin("112233");
    client
        .certify(
            key.handle,
            &pin,
            platform.aik.handle,
            &AuthValue::empty(),
            b"nonce",
        )
        .unwrap();
    client.sign(key.handle, &pin, &[9u8; 32]).unwrap();
    client.get_random(16).unwrap();
    client.take_exchanges()
}

#[test]
fn same_seed_same_bytes_different_seed_different_bytes() {
    let a = flow(TpmSeed([0xA1; 32]));
    let b = flow(TpmSeed([0xA1; 32]));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "{} differs between runs", x.name);
    }
    let c = flow(TpmSeed([0xA2; 32]));
    let differing: Vec<&str> = a
        .iter()
        .zip(&c)
        .filter(|(x, y)| x.response != y.response)
        .map(|(x, _)| x.name)
        .collect();
    for name in [
        "TPM2_CreatePrimary",
        "TPM2_Create",
        "TPM2_Certify",
        "TPM2_Sign",
        "TPM2_NV_Read",
        "TPM2_GetRandom",
    ] {
        assert!(
            differing.contains(&name),
            "{name} did not change with the seed"
        );
    }
}

fn second_create(seed: TpmSeed, interleave: bool) -> TpmtPublic {
    let mut client = TpmClient::new(Tpm::new(seed));
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let empty = AuthValue::empty();
    if interleave {
        client.get_random(32).unwrap();
        client.read_public(platform.srk.handle).unwrap();
        client.get_random(8).unwrap();
        // A failed creation does not consume a key.
        assert!(client
            .create(
                platform.srk.handle,
                &AuthValue::from_pin("wrong"),
                &templates::signing_key_ecc_p256(),
                &empty
            )
            .is_err());
    }
    client
        .create(
            platform.srk.handle,
            &empty,
            &templates::signing_key_ecc_p256(),
            &empty,
        )
        .unwrap()
        .public
}

#[test]
fn the_nth_create_does_not_depend_on_interleaved_commands() {
    let seed = TpmSeed([0x5E; 32]);
    assert_eq!(
        second_create(seed.clone(), false),
        second_create(seed, true)
    );
}

/// A copy of a TPM that comes to the same creation gets the key its
/// original generated (remembered, not searched for again), byte for byte
/// what a TPM of the same seed that never met the original generates; and
/// a copy that creates with another template, or at another creation
/// number, gets its own key.
#[test]
fn a_copy_of_a_tpm_creates_what_the_original_did() {
    let provisioned = |tpm: Tpm| {
        let mut client = TpmClient::new(tpm);
        client.transport_mut().set_time(Millis(1_000));
        let platform = client.provision().unwrap();
        (client, platform)
    };
    let create = |client: &mut TpmClient<Tpm>, srk, template: &TpmtPublic| {
        client
            .create(srk, &AuthValue::empty(), template, &AuthValue::empty())
            .unwrap()
            .public
    };
    let seed = TpmSeed([0xB7; 32]);
    let user = templates::user_key_rsa_2048();
    let (mut original, platform) = provisioned(Tpm::new(seed.clone()));
    let srk = platform.srk.handle;
    let mut copy = TpmClient::new(original.transport_mut().clone());
    let mut other_template = TpmClient::new(original.transport_mut().clone());
    let made = create(&mut original, srk, &user);
    assert_eq!(create(&mut copy, srk, &user), made);
    let (mut stranger, _) = provisioned(Tpm::new(seed.clone()));
    assert_eq!(create(&mut stranger, srk, &user), made);
    let decryption = templates::decryption_key_rsa_2048();
    let (mut other_stranger, _) = provisioned(Tpm::new(seed));
    assert_eq!(
        create(&mut other_template, srk, &decryption),
        create(&mut other_stranger, srk, &decryption)
    );
    // The copy's next creation is a new key, not the remembered one.
    assert_ne!(create(&mut copy, srk, &user), made);
}
