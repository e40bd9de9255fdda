//! A seeded property test: malformed commands of every command code never
//! panic the device and always get a well-formed response.

use crate::helpers;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use tpm_emu::{templates, AuthValue, CommandCode, Tpm, TpmClient, TpmHandle};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const CASES: u32 = 100_000;

/// A provisioned device (ECC keys only, so mutated commands stay fast) and
/// one valid command of every command code the device implements.
fn corpus() -> (Tpm, Vec<Vec<u8>>) {
    let mut client = TpmClient::new(Tpm::new(helpers::seed(30)));
    client.set_redact_secrets(false);
    let platform = client
        .provision_with_aik(&templates::aik_ecc_p256())
        .unwrap();
    let pin = AuthValue::from_pin("424242");
    let (key, public) = helpers::bound_key(
        &mut client,
        &platform,
        &templates::signing_key_ecc_p256(),
        &pin,
    );
    let base = client.transport().clone();
    client.take_exchanges();

    // Run each command once on a scratch copy, recording the bytes.
    let empty = AuthValue::empty();
    let srk = platform.srk.handle;
    let created = client
        .create(srk, &empty, &templates::signing_key_ecc_p256(), &empty)
        .unwrap();
    client
        .load(srk, &empty, &created.private, &created.public)
        .unwrap();
    client
        .create_primary(
            TpmHandle::RH_OWNER,
            &empty,
            &templates::srk_ecc_p256(),
            &empty,
        )
        .unwrap();
    client.read_public(key.handle).unwrap();
    client
        .object_change_auth(key.handle, &pin, srk, &empty)
        .unwrap();
    client
        .certify(key.handle, &pin, platform.aik.handle, &empty, b"nonce")
        .unwrap();
    client.sign(key.handle, &pin, &[7; 32]).unwrap();
    client.get_random(16).unwrap();
    client.hash(b"abc", TpmHandle::RH_OWNER).unwrap();
    client.tpm_properties(tpm_emu::TpmPt::PERMANENT, 8).unwrap();
    client.nv_read_public(tpm_emu::EK_CERT_NV_INDEX).unwrap();
    client.nv_read(tpm_emu::EK_CERT_NV_INDEX, 0, 64).unwrap();
    client
        .dictionary_attack_parameters(&empty, 32, 600, 86_400)
        .unwrap();
    client.dictionary_attack_lock_reset(&empty).unwrap();
    client.flush_context(key.handle).unwrap();
    let _ = public;
    let mut commands: Vec<Vec<u8>> = client
        .take_exchanges()
        .into_iter()
        .map(|e| e.command)
        .collect();
    // TPM2_Startup, valid only on a fresh device, and an unknown command.
    commands.push(vec![0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0]);
    commands.push(vec![0x80, 0x01, 0, 0, 0, 10, 0, 0, 0x01, 0x7F]);
    let codes: Vec<u32> = commands
        .iter()
        .map(|c| u32::from_be_bytes([c[6], c[7], c[8], c[9]]))
        .collect();
    for c in [
        CommandCode::STARTUP,
        CommandCode::GET_RANDOM,
        CommandCode::CREATE_PRIMARY,
        CommandCode::CREATE,
        CommandCode::LOAD,
        CommandCode::READ_PUBLIC,
        CommandCode::OBJECT_CHANGE_AUTH,
        CommandCode::CERTIFY,
        CommandCode::SIGN,
        CommandCode::DICTIONARY_ATTACK_LOCK_RESET,
        CommandCode::DICTIONARY_ATTACK_PARAMETERS,
        CommandCode::FLUSH_CONTEXT,
        CommandCode::GET_CAPABILITY,
        CommandCode::NV_READ_PUBLIC,
        CommandCode::NV_READ,
        CommandCode::HASH,
    ] {
        assert!(codes.contains(&c.0), "no corpus command for {c}");
    }
    (base, commands)
}

#[derive(Clone, Copy, Debug)]
enum Mutation {
    RandomBytes,
    Truncate,
    BitFlips,
    SizeLie,
    Splice,
}

fn mutate(rng: &mut ChaCha8Rng, valid: &[u8]) -> (Mutation, Vec<u8>) {
    let mut c = valid.to_vec();
    let pick = |rng: &mut ChaCha8Rng, n: usize| (rng.next_u32() as usize) % n.max(1);
    match rng.next_u32() % 5 {
        0 => {
            let n = pick(rng, 80);
            let mut v = vec![0u8; n];
            rng.fill_bytes(&mut v);
            // Half the time keep a plausible header so the body gets parsed.
            if n >= 10 && rng.next_u32() % 2 == 0 {
                v[..10].copy_from_slice(&valid[..10]);
                v[2..6].copy_from_slice(&(n as u32).to_be_bytes());
            }
            (Mutation::RandomBytes, v)
        }
        1 => {
            let n = pick(rng, c.len());
            c.truncate(n);
            (Mutation::Truncate, c)
        }
        2 => {
            for _ in 0..1 + pick(rng, 4) {
                let i = pick(rng, c.len());
                c[i] ^= 1 << (rng.next_u32() % 8);
            }
            (Mutation::BitFlips, c)
        }
        3 => {
            let lie = match rng.next_u32() % 3 {
                0 => c.len() as u32 + 1 + rng.next_u32() % 16,
                1 => (c.len() as u32).saturating_sub(1 + rng.next_u32() % 16),
                _ => rng.next_u32(),
            };
            if lie != c.len() as u32 {
                c[2..6].copy_from_slice(&lie.to_be_bytes());
            }
            (Mutation::SizeLie, c)
        }
        _ => {
            // Cut or insert bytes inside the body, then fix the size field so
            // the parser sees the damage (sizes inside no longer agree).
            let i = 10 + pick(rng, c.len().saturating_sub(10));
            if rng.next_u32() % 2 == 0 && i < c.len() {
                let n = 1 + pick(rng, (c.len() - i).min(8));
                c.drain(i..i + n);
            } else {
                let mut extra = vec![0u8; 1 + pick(rng, 8)];
                rng.fill_bytes(&mut extra);
                c.splice(i..i, extra);
            }
            let len = c.len() as u32;
            c[2..6].copy_from_slice(&len.to_be_bytes());
            (Mutation::Splice, c)
        }
    }
}

/// A response is well formed: a 10-byte error `TPM_ST_NO_SESSIONS` / 10 /
/// non-zero code, or a success whose size field is right and which parses.
fn check_response(command: &[u8], response: &[u8]) -> u32 {
    assert!(
        response.len() >= 10,
        "short response {response:02x?} to {command:02x?}"
    );
    let size = u32::from_be_bytes([response[2], response[3], response[4], response[5]]) as usize;
    assert_eq!(size, response.len());
    let rc = u32::from_be_bytes([response[6], response[7], response[8], response[9]]);
    if rc != 0 {
        assert_eq!(
            &response[..6],
            &[0x80, 0x01, 0, 0, 0, 10],
            "error response to {command:02x?}"
        );
        assert_eq!(response.len(), 10);
    } else {
        assert_eq!(
            &response[..2],
            &command[..2],
            "success tag differs from the command's"
        );
        let code = CommandCode(u32::from_be_bytes([
            command[6], command[7], command[8], command[9],
        ]));
        tpm_emu::describe::response(code, response).unwrap();
        tpm_emu::describe::command(command).unwrap();
    }
    rc
}

#[test]
fn malformed_commands_get_well_formed_error_responses() {
    let (base, commands) = corpus();
    let mut rng = ChaCha8Rng::seed_from_u64(0x7E57_F022);
    let mut successes = 0u32;
    let mut codes = std::collections::BTreeMap::<u32, u32>::new();
    for case in 0..CASES {
        let valid = &commands[case as usize % commands.len()];
        let (mutation, command) = mutate(&mut rng, valid);
        let mut tpm = base.clone();
        let response = tpm.execute(&command);
        let rc = check_response(&command, &response);
        *codes.entry(rc).or_default() += 1;
        // The inspector must not panic on it either.
        let _ = tpm_emu::describe::command(&command);
        match mutation {
            Mutation::Truncate | Mutation::SizeLie => {
                assert_ne!(rc, 0, "{mutation:?} {command:02x?}")
            }
            _ => {
                if rc == 0 {
                    successes += 1;
                }
            }
        }
    }
    // Some bit flips land where any value is valid (a digest, a nonce).
    assert!(successes > 0);
    // The damage reaches every layer: header, handles, sessions, parameters.
    let with = |f: &dyn Fn(u32) -> bool| {
        codes
            .iter()
            .filter(|(rc, _)| f(**rc))
            .map(|(_, n)| n)
            .sum::<u32>()
    };
    let parameter_faults = with(&|rc| rc & 0x0C0 == 0x0C0);
    let handle_faults = with(&|rc| rc & 0x0C0 == 0x080 && rc & 0x800 == 0 && rc & 0x700 != 0);
    let session_faults = with(&|rc| rc & 0x0C0 == 0x080 && rc & 0x800 != 0);
    println!(
        "{CASES} cases, {successes} successes, {} distinct codes",
        codes.len()
    );
    println!("parameter faults {parameter_faults}, handle faults {handle_faults}, session faults {session_faults}");
    println!("{codes:x?}");
    assert!(parameter_faults > 0 && handle_faults > 0 && session_faults > 0);
}
