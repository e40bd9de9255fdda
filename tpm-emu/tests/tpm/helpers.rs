//! Shared set-up for the integration tests.

#![allow(dead_code)]

use tpm_emu::{templates, AuthValue, Loaded, Provisioned, Tpm, TpmClient, TpmSeed, TpmtPublic};

/// A seed made of one repeated byte.
pub fn seed(b: u8) -> TpmSeed {
    TpmSeed([b; 32])
}

/// A started, provisioned TPM with an RSA-2048 AIK.
pub fn provisioned(b: u8) -> (TpmClient<Tpm>, Provisioned) {
    let mut client = TpmClient::new(Tpm::new(seed(b)));
    let platform = client.provision().unwrap();
    (client, platform)
}

/// Creates a key from `template` under the SRK with an empty authValue,
/// loads it, and binds it to `auth` with TPM2_ObjectChangeAuth. Returns the
/// loaded handle and the public area.
pub fn bound_key(
    client: &mut TpmClient<Tpm>,
    platform: &Provisioned,
    template: &TpmtPublic,
    auth: &AuthValue,
) -> (Loaded, TpmtPublic) {
    let empty = AuthValue::empty();
    let srk = platform.srk.handle;
    let created = client.create(srk, &empty, template, &empty).unwrap();
    let loaded = client
        .load(srk, &empty, &created.private, &created.public)
        .unwrap();
    let (_, rebound) = client
        .change_auth_and_reload(loaded.handle, &empty, srk, &empty, &created.public, auth)
        .unwrap();
    (rebound, created.public)
}

/// An RSA-2048 user key bound to `pin`.
pub fn user_key(
    client: &mut TpmClient<Tpm>,
    platform: &Provisioned,
    pin: &str,
) -> (Loaded, TpmtPublic) {
    bound_key(
        client,
        platform,
        &templates::user_key_rsa_2048(),
        &AuthValue::from_pin(pin),
    )
}
