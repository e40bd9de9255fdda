//! The key pre-generation pool.

use crate::helpers;

use tpm_emu::{templates, AuthValue, KeyPool, PoolState, Tpm, TpmClient};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn pool_fills_to_target_and_hands_out_attested_keys() {
    let (mut client, platform) = helpers::provisioned(40);
    let mut pool = KeyPool::new(2, &platform);
    let empty_state = PoolState {
        ready: 0,
        making: true,
        target: 2,
        created_total: 0,
    };
    assert_eq!(pool.state(), empty_state);
    assert!(pool.fill_one(&mut client).unwrap());
    assert!(pool.fill_one(&mut client).unwrap());
    assert!(!pool.fill_one(&mut client).unwrap(), "already at target");
    let state = pool.state();
    assert_eq!(
        (state.ready, state.making, state.created_total),
        (2, false, 2)
    );

    let nonce = [0xAB; 32];
    let key = pool.take(&mut client, &nonce).unwrap();
    assert_eq!(pool.state().ready, 1);
    assert!(pool.state().making);
    assert_eq!(key.public.object_attributes.0, 0x0004_0072);
    assert_eq!(key.name, key.public.name());
    let att = &key.attestation;
    assert_eq!(att.attest.extra_data.as_bytes(), &nonce);
    assert_eq!(att.attest.certify_info().unwrap().name, key.name);
    att.signature
        .verify(&platform.aik.public, &att.attest_bytes)
        .unwrap();

    // The key works, and binds to a PIN.
    let pin = AuthValue::from_pin("555555");
    let (_, bound) = client
        .change_auth_and_reload(
            key.handle,
            &AuthValue::empty(),
            platform.srk.handle,
            &AuthValue::empty(),
            &key.public,
            &pin,
        )
        .unwrap();
    let sig = client.sign(bound.handle, &pin, &[1; 32]).unwrap();
    sig.verify_digest(&key.public, &[1; 32]).unwrap();

    // Draining the pool: the last take creates a key on the spot.
    pool.take(&mut client, b"2").unwrap();
    assert_eq!(pool.state().ready, 0);
    pool.take(&mut client, b"3").unwrap();
    assert_eq!(pool.state().created_total, 3);

    // PoolState crosses a worker boundary as JSON.
    let json = serde_json::to_string(&pool.state()).unwrap();
    assert_eq!(
        serde_json::from_str::<PoolState>(&json).unwrap(),
        pool.state()
    );
}

#[test]
fn a_failed_take_keeps_the_key() {
    let mut client = TpmClient::new(Tpm::new(helpers::seed(41)));
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let mut pool = KeyPool::new(1, &platform).with_template(templates::signing_key_ecc_p256());
    pool.fill_one(&mut client).unwrap();
    // A nonce longer than TPM2B_DATA allows: refused, the key stays.
    assert!(pool.take(&mut client, &[0; 40]).is_err());
    assert_eq!(pool.state().ready, 1);
    pool.take(&mut client, &[0; 34]).unwrap();
    assert_eq!(pool.state().ready, 0);
}
