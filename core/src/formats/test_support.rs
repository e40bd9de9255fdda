//! Shared test helpers: fixture keys, byte-range checks, input mutation for
//! the no-panic tests, and regeneration of the known-answer fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::artifact::Field;
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use std::sync::OnceLock;

/// Seed of the fixture user key (`ChaCha20Rng::seed_from_u64`).
pub(crate) const USER_KEY_SEED: u64 = 0x5748_4642; // "WHFB"
/// Seed of the second key, the "wrong key" of the tests.
pub(crate) const OTHER_KEY_SEED: u64 = 2;

/// The fixture user key, RSA-2048, as committed in PKCS#8 PEM form.
/// `seeded_key_matches_the_fixture` checks it is the key the seed gives.
pub(crate) const USER_KEY_PEM: &str = include_str!("../../tests/data/formats/user-key-rsa2048.pem");

/// Where the known-answer fixtures live.
pub(crate) const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/formats");

/// An RSA-2048 key from a seed: deterministic for a given `rsa` version.
pub(crate) fn seeded_key(seed: u64) -> RsaPrivateKey {
    rsa_keygen::new(&mut ChaCha20Rng::seed_from_u64(seed), 2048).unwrap()
}

pub(crate) fn user_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::from_pkcs8_pem(USER_KEY_PEM).unwrap())
}

pub(crate) fn other_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| seeded_key(OTHER_KEY_SEED))
}

/// Whether the fixture-writing tests should write (`WHFB_BLESS=1`).
pub(crate) fn blessing() -> bool {
    std::env::var_os("WHFB_BLESS").is_some_and(|v| v == "1")
}

/// Writes a fixture file (only when blessing).
pub(crate) fn write_fixture(name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(FIXTURE_DIR).unwrap();
    std::fs::write(format!("{FIXTURE_DIR}/{name}"), bytes).unwrap();
}

/// Checks that `fields` lie side by side from `start` and cover `len` bytes,
/// and that every field with children is tiled by them in the same way.
pub(crate) fn assert_tiles(fields: &[Field], start: usize, len: usize) {
    let mut at = start;
    for f in fields {
        assert_eq!(
            f.offset, at,
            "field {} starts at {}, expected {at}",
            f.name, f.offset
        );
        if !f.children.is_empty() {
            assert_tiles(&f.children, f.offset, f.len);
        }
        at += f.len;
    }
    assert_eq!(
        at,
        start + len,
        "fields end at {at}, expected {}",
        start + len
    );
}

/// One to four random edits of `input`: bit flips, byte changes, truncation,
/// insertion, deletion, duplication, or a fresh random string.
pub(crate) fn mutate(rng: &mut ChaCha20Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.next_u32() % 4 {
        let pos = |rng: &mut ChaCha20Rng, len: usize| (rng.next_u32() as usize) % (len + 1);
        match rng.next_u32() % 7 {
            0 if !v.is_empty() => {
                let i = pos(rng, v.len() - 1);
                v[i] ^= 1 << (rng.next_u32() % 8);
            }
            1 if !v.is_empty() => {
                let i = pos(rng, v.len() - 1);
                v[i] = rng.next_u32() as u8;
            }
            2 => {
                let n = pos(rng, v.len());
                v.truncate(n);
            }
            3 => {
                let i = pos(rng, v.len());
                let mut extra = vec![0u8; 1 + (rng.next_u32() % 8) as usize];
                rng.fill_bytes(&mut extra);
                v.splice(i..i, extra);
            }
            4 => {
                let a = pos(rng, v.len());
                let b = a + pos(rng, v.len() - a).min(16);
                v.drain(a..b);
            }
            5 => {
                let a = pos(rng, v.len());
                let b = a + pos(rng, v.len() - a).min(32);
                let chunk = v[a..b].to_vec();
                let i = pos(rng, v.len());
                v.splice(i..i, chunk);
            }
            _ => {
                let mut fresh = vec![0u8; (rng.next_u32() % 64) as usize];
                rng.fill_bytes(&mut fresh);
                v = fresh;
            }
        }
    }
    v
}

/// Like [`mutate`] for text, with replacement characters drawn mostly from
/// `alphabet` so that mutants get past the first syntax check.
pub(crate) fn mutate_text(rng: &mut ChaCha20Rng, input: &str, alphabet: &[u8]) -> String {
    let mut bytes = mutate(rng, input.as_bytes());
    for b in &mut bytes {
        if !alphabet.is_empty() && !alphabet.contains(b) && rng.next_u32() % 8 != 0 {
            *b = alphabet[(rng.next_u32() as usize) % alphabet.len()];
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn seeded_key_matches_the_fixture() {
    // If this fails after a dependency update, the `rsa` crate now makes a
    // different key from the same seed: every seeded world changes with it.
    assert_eq!(&seeded_key(USER_KEY_SEED), user_key());
}

#[test]
fn mutation_changes_input_and_tiles_check_works() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let input = b"0123456789abcdef";
    let changed = (0..100)
        .filter(|_| mutate(&mut rng, input) != input)
        .count();
    assert!(changed > 90);
    let f = |o, l| Field::new("f", "", "", "", o, l);
    assert_tiles(
        &[f(0, 2), f(2, 3).with_children(vec![f(2, 1), f(3, 2)])],
        0,
        5,
    );
}

/// Regenerates the user key fixture: `WHFB_BLESS=1 cargo test -p whfb-core --lib bless -- --ignored`.
#[test]
#[ignore = "writes fixtures; run with WHFB_BLESS=1"]
fn bless_user_key() {
    if blessing() {
        let pem = seeded_key(USER_KEY_SEED)
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap();
        write_fixture("user-key-rsa2048.pem", pem.as_bytes());
    }
}
