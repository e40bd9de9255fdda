//! Error responses as a TPM gives them: codes, and the handle, parameter and
//! session numbers (TPM 2.0 Part 2 §6.6).

use crate::helpers;

use tpm_emu::{
    templates, AuthValue, Error, PublicKind, ResponseCode, Tpm, TpmClient, TpmHandle, Transport,
};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

/// The response code of a raw exchange, checking the error-response shape.
fn raw(tpm: &mut Tpm, command: &[u8]) -> u32 {
    let r = tpm.transact(command);
    let rc = u32::from_be_bytes([r[6], r[7], r[8], r[9]]);
    if rc != 0 {
        assert_eq!(
            r,
            [&[0x80, 0x01, 0, 0, 0, 10][..], &rc.to_be_bytes()].concat()
        );
    }
    rc
}

const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0x00, 0x08];
const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0x00, 0x00];

#[test]
fn framing_errors() {
    let mut tpm = Tpm::new(helpers::seed(9));
    assert_eq!(
        raw(&mut tpm, &GET_RANDOM_8),
        0x100,
        "TPM_RC_INITIALIZE before Startup"
    );
    assert_eq!(raw(&mut tpm, &STARTUP_CLEAR), 0);
    assert_eq!(raw(&mut tpm, &STARTUP_CLEAR), 0x100, "a second Startup");
    assert_eq!(raw(&mut tpm, &GET_RANDOM_8), 0);
    assert_eq!(raw(&mut tpm, &[]), 0x09A, "TPM_RC_INSUFFICIENT: no tag");
    assert_eq!(
        raw(&mut tpm, &[0x80, 0x01, 0, 0]),
        0x09A,
        "TPM_RC_INSUFFICIENT: no size"
    );
    let mut bad_tag = GET_RANDOM_8;
    bad_tag[1] = 0x03;
    assert_eq!(raw(&mut tpm, &bad_tag), 0x01E, "TPM_RC_BAD_TAG");
    let mut lie = GET_RANDOM_8;
    lie[5] = 13;
    assert_eq!(raw(&mut tpm, &lie), 0x142, "TPM_RC_COMMAND_SIZE");
    assert_eq!(
        raw(&mut tpm, &GET_RANDOM_8[..11]),
        0x142,
        "truncated: the size disagrees"
    );
    let mut unknown = GET_RANDOM_8;
    unknown[9] = 0x7F;
    assert_eq!(raw(&mut tpm, &unknown), 0x143, "TPM_RC_COMMAND_CODE");
    // Parameters ending early: TPM_RC_INSUFFICIENT for parameter 1.
    assert_eq!(
        raw(&mut tpm, &[0x80, 0x01, 0, 0, 0, 11, 0, 0, 0x01, 0x7B, 0x00]),
        0x1DA
    );
    // Bytes after the parameters: TPM_RC_SIZE.
    assert_eq!(
        raw(
            &mut tpm,
            &[0x80, 0x01, 0, 0, 0, 13, 0, 0, 0x01, 0x7B, 0x00, 0x08, 0x00]
        ),
        0x095
    );
    // Sessions on a command that takes none.
    let flush = [
        0x80, 0x02, 0, 0, 0, 23, 0, 0, 0x01, 0x65, 0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1, 0, 0,
    ];
    assert_eq!(raw(&mut tpm, &flush), 0x145, "TPM_RC_AUTH_CONTEXT");
}

#[test]
fn handle_and_session_errors() {
    let (mut client, platform) = helpers::provisioned(10);
    let empty = AuthValue::empty();
    let err = |e: Error| match e {
        Error::Tpm(rc) => rc.0,
        other => panic!("{other:?}"),
    };
    // A transient handle that is not loaded: TPM_RC_REFERENCE_H0.
    assert_eq!(
        err(client.read_public(TpmHandle(0x8000_0007)).unwrap_err()),
        0x910
    );
    // A persistent handle that does not exist: TPM_RC_HANDLE, handle 1.
    assert_eq!(
        err(client.read_public(TpmHandle(0x8100_0001)).unwrap_err()),
        0x18B
    );
    // A handle of the wrong type: TPM_RC_VALUE, handle 1.
    assert_eq!(
        err(client.read_public(TpmHandle::RH_OWNER).unwrap_err()),
        0x184
    );
    // FlushContext of nothing: TPM_RC_HANDLE for parameter 1.
    assert_eq!(
        err(client.flush_context(TpmHandle(0x8000_0007)).unwrap_err()),
        0x1CB
    );
    // An undefined NV index: TPM_RC_HANDLE, handle 1.
    assert_eq!(
        err(client.nv_read_public(TpmHandle(0x0180_0001)).unwrap_err()),
        0x18B
    );
    // Reading past the end of the EK certificate: TPM_RC_NV_RANGE.
    assert_eq!(
        err(client
            .nv_read(tpm_emu::EK_CERT_NV_INDEX, 0, 1024)
            .unwrap_err()),
        0x146
    );
    // Signing with a storage key: TPM_RC_KEY, handle 1.
    assert_eq!(
        err(client
            .sign(platform.srk.handle, &empty, &[0; 32])
            .unwrap_err()),
        0x19C
    );
    // The EK needs a policy session for USER role: TPM_RC_AUTH_UNAVAILABLE.
    assert_eq!(
        err(client
            .create(
                platform.ek.handle,
                &empty,
                &templates::signing_key_ecc_p256(),
                &empty
            )
            .unwrap_err()),
        0x12F
    );
    // Creating under a signing key: TPM_RC_TYPE, handle 1.
    assert_eq!(
        err(client
            .create(
                platform.aik.handle,
                &empty,
                &templates::signing_key_ecc_p256(),
                &empty
            )
            .unwrap_err()),
        0x18A
    );
}

#[test]
fn template_and_blob_errors() {
    let (mut client, platform) = helpers::provisioned(11);
    let empty = AuthValue::empty();
    let srk = platform.srk.handle;
    let err = |e: Error| match e {
        Error::Tpm(rc) => rc,
        other => panic!("{other:?}"),
    };
    // RSA-1024: TPMI_RSA_KEY_BITS refuses it, TPM_RC_VALUE for parameter 2.
    let mut t = templates::user_key_rsa_2048();
    if let PublicKind::Rsa { parameters, .. } = &mut t.kind {
        parameters.key_bits = 1024;
    }
    assert_eq!(
        err(client.create(srk, &empty, &t, &empty).unwrap_err()).0,
        0x2C4
    );
    // A restricted signing key without a scheme: TPM_RC_SCHEME, parameter 2.
    let mut t = templates::aik_rsa_2048();
    if let PublicKind::Rsa { parameters, .. } = &mut t.kind {
        parameters.scheme = tpm_emu::TpmtRsaScheme::NULL;
    }
    assert_eq!(
        err(client.create(srk, &empty, &t, &empty).unwrap_err()).0,
        0x2D2
    );
    // Neither sign nor decrypt: TPM_RC_ATTRIBUTES, parameter 2.
    let mut t = templates::signing_key_ecc_p256();
    t.object_attributes = tpm_emu::TpmaObject(t.object_attributes.0 & !tpm_emu::TpmaObject::SIGN.0);
    let rc = err(client.create(srk, &empty, &t, &empty).unwrap_err());
    assert_eq!(rc, ResponseCode::ATTRIBUTES.at_parameter(2));

    // A tampered private area: TPM_RC_INTEGRITY for parameter 1.
    let created = client
        .create(srk, &empty, &templates::signing_key_ecc_p256(), &empty)
        .unwrap();
    let mut bytes = created.private.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let tampered = tpm_emu::Tpm2bPrivate::new(bytes).unwrap();
    let rc = err(client
        .load(srk, &empty, &tampered, &created.public)
        .unwrap_err());
    assert_eq!(rc.0, 0x1DF);
    // The right private area with another public area: also integrity.
    let other = client
        .create(srk, &empty, &templates::signing_key_ecc_p256(), &empty)
        .unwrap();
    let rc = err(client
        .load(srk, &empty, &created.private, &other.public)
        .unwrap_err());
    assert_eq!(rc.0, 0x1DF);
    client
        .load(srk, &empty, &created.private, &created.public)
        .unwrap();
}

#[test]
fn object_memory_runs_out_and_flush_frees_it() {
    let mut client = TpmClient::new(Tpm::new(helpers::seed(12)));
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let empty = AuthValue::empty();
    let created = client
        .create(
            platform.srk.handle,
            &empty,
            &templates::signing_key_ecc_p256(),
            &empty,
        )
        .unwrap();
    let mut handles = Vec::new();
    let rc = loop {
        match client.load(
            platform.srk.handle,
            &empty,
            &created.private,
            &created.public,
        ) {
            Ok(l) => handles.push(l.handle),
            Err(Error::Tpm(rc)) => break rc,
            Err(e) => panic!("{e:?}"),
        }
    };
    assert_eq!(rc, ResponseCode::OBJECT_MEMORY);
    assert_eq!(handles.len(), 5, "8 slots: SRK, EK and AIK use 3");
    client.flush_context(handles[2]).unwrap();
    let again = client
        .load(
            platform.srk.handle,
            &empty,
            &created.private,
            &created.public,
        )
        .unwrap();
    assert_eq!(again.handle, handles[2], "the freed slot is reused");
}
