//! Dictionary-attack protection: wrong PINs count, lockout after maxTries,
//! self-healing with simulated time, and the lockout authorization.

use crate::helpers;

use tpm_emu::{templates, AuthValue, Error, Millis, ResponseCode, Tpm, TpmClient, TpmConfig};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const T0: u64 = 1_700_000_000_000;

fn rc(e: Error) -> ResponseCode {
    match e {
        Error::Tpm(rc) => rc,
        other => panic!("expected a TPM error, got {other:?}"),
    }
}

#[test]
fn lockout_after_max_tries_and_recovery() {
    let lockout_auth = AuthValue::from_pin("lockout secret");
    let config = TpmConfig {
        lockout_auth: lockout_auth.clone(),
        start_time: Millis(T0),
        ..TpmConfig::default()
    };
    let mut client = TpmClient::new(Tpm::with_config(helpers::seed(7), config));
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let (key, _) = helpers::user_key(&mut client, &platform, "123456");
    let right = AuthValue::from_pin("123456");
    let wrong = AuthValue::from_pin("654321");
    let digest = [0x42u8; 32];

    // Defaults as Windows configures them.
    let da = client.da_state().unwrap();
    assert_eq!(
        (da.failed_tries, da.max_tries, da.recovery_time_s),
        (0, 32, 600)
    );
    assert!(!da.locked_out);

    // 32 wrong PINs: each TPM_RC_AUTH_FAIL for session 1, each counted.
    for i in 1..=32u32 {
        let e = rc(client.sign(key.handle, &wrong, &digest).unwrap_err());
        assert_eq!(e.0, 0x098E, "{e}");
        assert!(e.is_auth_fail());
        if i == 1 || i == 31 {
            assert_eq!(client.da_state().unwrap().failed_tries, i);
        }
    }
    let da = client.da_state().unwrap();
    assert_eq!(da.failed_tries, 32);
    assert!(da.locked_out);
    let device = client.transport().da_state();
    assert_eq!(device.lockout_until, Some(Millis(T0).plus_seconds(600)));

    // Locked out: the right PIN fails too, and nothing more is counted.
    for auth in [&right, &wrong] {
        let e = rc(client.sign(key.handle, auth, &digest).unwrap_err());
        assert!(e.is_lockout(), "{e}");
        assert_eq!(e.0, 0x0921);
    }
    // Certify of the key needs its authorization too: also refused.
    let e = rc(client
        .certify(
            key.handle,
            &right,
            platform.aik.handle,
            &AuthValue::empty(),
            b"n",
        )
        .unwrap_err());
    assert!(e.is_lockout());
    assert_eq!(client.da_state().unwrap().failed_tries, 32);

    // One second short of the recovery time: still locked.
    client
        .transport_mut()
        .set_time(Millis(T0).plus_seconds(599));
    assert!(rc(client.sign(key.handle, &right, &digest).unwrap_err()).is_lockout());
    // After recoveryTime one failure is forgiven: 31 < 32, the PIN works.
    client
        .transport_mut()
        .set_time(Millis(T0).plus_seconds(600));
    assert_eq!(client.da_state().unwrap().failed_tries, 31);
    client.sign(key.handle, &right, &digest).unwrap();

    // One more wrong PIN locks again; the lockout authorization resets.
    rc(client.sign(key.handle, &wrong, &digest).unwrap_err());
    assert!(client.da_state().unwrap().locked_out);
    client.dictionary_attack_lock_reset(&lockout_auth).unwrap();
    let da = client.da_state().unwrap();
    assert_eq!(da.failed_tries, 0);
    assert!(!da.locked_out);
    client.sign(key.handle, &right, &digest).unwrap();

    // A wrong lockout authorization fails (TPM_RC_AUTH_FAIL), and then
    // lockoutAuth itself is blocked for lockoutRecovery (a day).
    let e = rc(client.dictionary_attack_lock_reset(&wrong).unwrap_err());
    assert_eq!(e.0, 0x098E);
    let e = rc(client
        .dictionary_attack_lock_reset(&lockout_auth)
        .unwrap_err());
    assert!(e.is_lockout());
    let t = Millis(T0).plus_seconds(600 + 86_400);
    client.transport_mut().set_time(t);
    client.dictionary_attack_lock_reset(&lockout_auth).unwrap();
}

#[test]
fn parameters_change_with_lockout_auth_and_no_da_keys_are_exempt() {
    let mut client = TpmClient::new(Tpm::new(helpers::seed(8)));
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let empty = AuthValue::empty();
    client
        .dictionary_attack_parameters(&empty, 3, 60, 0)
        .unwrap();
    let da = client.da_state().unwrap();
    assert_eq!(
        (da.max_tries, da.recovery_time_s, da.lockout_recovery_s),
        (3, 60, 0)
    );

    // The SRK has noDA: a wrong authValue is TPM_RC_BAD_AUTH and not counted.
    let e = rc(client
        .create(
            platform.srk.handle,
            &AuthValue::from_pin("x"),
            &templates::signing_key_ecc_p256(),
            &empty,
        )
        .unwrap_err());
    assert!(e.is_bad_auth(), "{e}");
    assert_eq!(e.0, 0x09A2);
    assert_eq!(client.da_state().unwrap().failed_tries, 0);

    // Wrong lockout authorization with the reference error code.
    let e = rc(client
        .dictionary_attack_parameters(&AuthValue::from_pin("x"), 1, 1, 1)
        .unwrap_err());
    assert!(e.is_auth_fail());
}
