//! Kerberos encryption and checksums for the AES encryption types:
//! aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18), as RFC
//! 3962 defines them over RFC 3961's simplified profile.
//!
//! Built on the RustCrypto `aes`, `hmac` and `sha1` crates of this
//! workspace. CBC mode with ciphertext stealing is written out here over the
//! block cipher: the chaining is a few lines, and the stealing (RFC 3962 §5:
//! the last two blocks swapped, the last one truncated) is not what a plain
//! CBC crate does. PBKDF2 (RFC 8018 §5.2) is written out over `hmac` for
//! the same reason there is no `pbkdf2` crate in the build graph: one loop.
//!
//! Nothing here draws randomness: the confounder of every encryption comes
//! in from the caller (the run's seeded streams), so tickets are
//! reproducible.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::fmt;

/// The AES block, and the size of a confounder (RFC 3962 §6).
const BLOCK: usize = 16;
/// HMAC-SHA1-96: the first 96 bits of HMAC-SHA1 (RFC 3962 §6, h = 12).
pub const MAC_LEN: usize = 12;
/// The default PBKDF2 iteration count for the AES types (RFC 3962 §4).
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// The two encryption types of RFC 3962 (RFC 3961 §8's numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Etype {
    Aes128CtsHmacSha196,
    Aes256CtsHmacSha196,
}

impl Etype {
    /// The etype number carried in EncryptedData and keytabs.
    pub fn number(self) -> i32 {
        match self {
            Etype::Aes128CtsHmacSha196 => 17,
            Etype::Aes256CtsHmacSha196 => 18,
        }
    }

    pub fn from_number(n: i32) -> Option<Etype> {
        match n {
            17 => Some(Etype::Aes128CtsHmacSha196),
            18 => Some(Etype::Aes256CtsHmacSha196),
            _ => None,
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Etype::Aes128CtsHmacSha196 => 16,
            Etype::Aes256CtsHmacSha196 => 32,
        }
    }

    /// Its name in RFC 3962 (and in klist, Wireshark and ktutil).
    pub fn name(self) -> &'static str {
        match self {
            Etype::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            Etype::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
        }
    }
}

/// What can go wrong opening an encrypted part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CryptoError {
    /// Shorter than a confounder and a MAC.
    TooShort(usize),
    /// The HMAC over the decrypted text does not match: the wrong key, the
    /// wrong key usage, or bytes changed in transit
    /// (KRB_AP_ERR_BAD_INTEGRITY, RFC 4120 §7.5.9).
    Integrity,
    /// A key of the wrong length for its type.
    KeyLength { etype: Etype, got: usize },
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::TooShort(n) => write!(
                f,
                "the ciphertext has {n} bytes; a confounder and a MAC alone take {}",
                BLOCK + MAC_LEN
            ),
            CryptoError::Integrity => write!(
                f,
                "the checksum over the decrypted text does not match (KRB_AP_ERR_BAD_INTEGRITY): another key, another key usage, or changed bytes"
            ),
            CryptoError::KeyLength { etype, got } => write!(
                f,
                "{} takes a {}-byte key, not {got} bytes",
                etype.name(),
                etype.key_len()
            ),
        }
    }
}

impl std::error::Error for CryptoError {}

/// A Kerberos key: its type and its bytes (EncryptionKey, RFC 4120 §5.2.9).
/// Its length always fits its type.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    etype: Etype,
    bytes: Vec<u8>,
}

/// The cipher for a key whose length was checked when it was made.
fn cipher(key: &[u8]) -> Aes {
    match Aes::new(key) {
        Ok(aes) => aes,
        // Only 16 and 32 bytes reach here (Key::new checks, DK keeps the
        // length); an all-zero AES-256 key would be the answer otherwise.
        Err(_) => Aes::Aes256(Box::new(aes::Aes256::new(&[0u8; 32].into()))),
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are simulated, but a log is no place for key bytes.
        write!(f, "Key({}, {} bytes)", self.etype.name(), self.bytes.len())
    }
}

impl Key {
    pub fn new(etype: Etype, bytes: &[u8]) -> Result<Key, CryptoError> {
        if bytes.len() != etype.key_len() {
            return Err(CryptoError::KeyLength {
                etype,
                got: bytes.len(),
            });
        }
        Ok(Key {
            etype,
            bytes: bytes.to_vec(),
        })
    }

    pub fn etype(&self) -> Etype {
        self.etype
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// string-to-key (RFC 3962 §4): tkey = random-to-key(PBKDF2-HMAC-SHA1(
    /// passphrase, salt, iterations, key length)); key = DK(tkey,
    /// "kerberos"). For an Active Directory account the salt is the realm
    /// in capitals followed by the user's name (RFC 4120 §4's default).
    pub fn from_password(etype: Etype, password: &str, salt: &[u8], iterations: u32) -> Key {
        let tkey = pbkdf2_hmac_sha1(password.as_bytes(), salt, iterations, etype.key_len());
        Key {
            etype,
            bytes: derive(&cipher(&tkey), b"kerberos"),
        }
    }

    /// DK(key, usage ‖ which): the key RFC 3961 §5.3 derives for one key
    /// usage (`which`: 0x99 checksum, 0xAA encryption, 0x55 integrity).
    fn for_usage(&self, usage: u32, which: u8) -> Vec<u8> {
        let mut constant = usage.to_be_bytes().to_vec();
        constant.push(which);
        derive(&cipher(&self.bytes), &constant)
    }

    /// encrypt (RFC 3961 §5.3): the confounder and the plaintext encrypted
    /// under Ke with CBC-CTS and a zero IV, followed by HMAC-SHA1-96 under
    /// Ki of the same bytes.
    pub fn encrypt(&self, usage: u32, confounder: [u8; BLOCK], plaintext: &[u8]) -> Vec<u8> {
        let ke = self.for_usage(usage, 0xAA);
        let ki = self.for_usage(usage, 0x55);
        let mut data = confounder.to_vec();
        data.extend_from_slice(plaintext);
        let mut out = cts_encrypt(&cipher(&ke), &data);
        out.extend_from_slice(&hmac_sha1(&ki, &data)[..MAC_LEN]);
        out
    }

    /// decrypt (RFC 3961 §5.3): the plaintext without its confounder, once
    /// the MAC over it holds.
    pub fn decrypt(&self, usage: u32, ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if ciphertext.len() < BLOCK + MAC_LEN {
            return Err(CryptoError::TooShort(ciphertext.len()));
        }
        let (encrypted, mac) = ciphertext.split_at(ciphertext.len() - MAC_LEN);
        let ke = self.for_usage(usage, 0xAA);
        let ki = self.for_usage(usage, 0x55);
        let data = cts_decrypt(&cipher(&ke), encrypted);
        // Constant-time enough for a simulation; the comparison is the check.
        if hmac_sha1(&ki, &data)[..MAC_LEN] != *mac {
            return Err(CryptoError::Integrity);
        }
        Ok(data[BLOCK..].to_vec())
    }

    /// The keyed checksum hmac-sha1-96-aes128/256 (RFC 3962 §7, checksum
    /// types 15 and 16): HMAC-SHA1-96 under Kc = DK(key, usage ‖ 0x99).
    pub fn checksum(&self, usage: u32, data: &[u8]) -> [u8; MAC_LEN] {
        let kc = self.for_usage(usage, 0x99);
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&hmac_sha1(&kc, data)[..MAC_LEN]);
        out
    }

    /// The checksum type that goes with the key's type.
    pub fn checksum_type(&self) -> i32 {
        match self.etype {
            Etype::Aes128CtsHmacSha196 => 15,
            Etype::Aes256CtsHmacSha196 => 16,
        }
    }
}

/// HMAC-SHA1 (RFC 2104).
fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    // HMAC accepts a key of any length, so `new_from_slice` cannot fail.
    let mut mac = match <Hmac<Sha1> as Mac>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 20],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2 with HMAC-SHA1 as its PRF (RFC 8018 §5.2).
pub fn pbkdf2_hmac_sha1(password: &[u8], salt: &[u8], iterations: u32, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut index = 1u32;
    while out.len() < len {
        let mut first = salt.to_vec();
        first.extend_from_slice(&index.to_be_bytes());
        let mut u = hmac_sha1(password, &first);
        let mut t = u;
        for _ in 1..iterations {
            u = hmac_sha1(password, &u);
            for (t, u) in t.iter_mut().zip(u) {
                *t ^= u;
            }
        }
        out.extend_from_slice(&t);
        index += 1;
    }
    out.truncate(len);
    out
}

/// n-fold (RFC 3961 §5.1): stretches or shrinks `input` to `n` bytes by
/// concatenating copies of it, each rotated 13 bits further right, to the
/// least common multiple of the two lengths, and adding the `n`-byte
/// pieces with end-around carry (ones' complement addition).
pub fn n_fold(input: &[u8], n: usize) -> Vec<u8> {
    let len = input.len();
    if len == 0 || n == 0 {
        return vec![0; n];
    }
    let lcm = len / gcd(len, n) * n;
    let bits = 8 * len;
    // Bit i of the rotated copy k (0 = the leftmost bit).
    let bit = |k: usize, i: usize| -> u8 {
        let source = (i + bits - (13 * k) % bits) % bits;
        (input[source / 8] >> (7 - source % 8)) & 1
    };
    let mut sum = vec![0u32; n];
    for piece in 0..lcm / n {
        for (byte, total) in sum.iter_mut().enumerate() {
            let mut value = 0u32;
            for b in 0..8 {
                let position = (piece * n + byte) * 8 + b;
                value = (value << 1) | u32::from(bit(position / bits, position % bits));
            }
            *total += value;
        }
    }
    // Carries move left; the one out of the top byte comes round to the
    // bottom, until none is left.
    loop {
        let mut carry = 0u32;
        for total in sum.iter_mut().rev() {
            *total += carry;
            carry = *total >> 8;
            *total &= 0xff;
        }
        if carry == 0 {
            break;
        }
        sum[n - 1] += carry;
    }
    sum.into_iter().map(|b| b as u8).collect()
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// DK(key, constant) = random-to-key(DR(key, constant)) (RFC 3961 §5.1);
/// random-to-key is the identity for AES (RFC 3962 §6). DR encrypts the
/// constant, n-folded to a block, then each output again, until there
/// are enough bytes for a key.
fn derive(key: &Aes, constant: &[u8]) -> Vec<u8> {
    let mut block = [0u8; BLOCK];
    block.copy_from_slice(&n_fold(constant, BLOCK));
    let mut out = Vec::with_capacity(key.len());
    while out.len() < key.len() {
        block = key.encrypt_block(block);
        out.extend_from_slice(&block);
    }
    out.truncate(key.len());
    out
}

/// AES with a 128- or 256-bit key: the block cipher every function here
/// runs on (its key schedule, so boxed).
pub enum Aes {
    Aes128(Box<aes::Aes128>),
    Aes256(Box<aes::Aes256>),
}

impl fmt::Debug for Aes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AES-{}", self.len() * 8)
    }
}

impl Aes {
    /// The cipher for a 16- or 32-byte key.
    pub fn new(key: &[u8]) -> Result<Aes, CryptoError> {
        if let Ok(k) = <[u8; 16]>::try_from(key) {
            return Ok(Aes::Aes128(Box::new(aes::Aes128::new(&k.into()))));
        }
        match <[u8; 32]>::try_from(key) {
            Ok(k) => Ok(Aes::Aes256(Box::new(aes::Aes256::new(&k.into())))),
            Err(_) => Err(CryptoError::KeyLength {
                etype: Etype::Aes256CtsHmacSha196,
                got: key.len(),
            }),
        }
    }

    fn len(&self) -> usize {
        match self {
            Aes::Aes128(_) => 16,
            Aes::Aes256(_) => 32,
        }
    }

    fn encrypt_block(&self, block: [u8; BLOCK]) -> [u8; BLOCK] {
        let mut b = aes::Block::from(block);
        match self {
            Aes::Aes128(c) => c.encrypt_block(&mut b),
            Aes::Aes256(c) => c.encrypt_block(&mut b),
        }
        b.into()
    }

    fn decrypt_block(&self, block: [u8; BLOCK]) -> [u8; BLOCK] {
        let mut b = aes::Block::from(block);
        match self {
            Aes::Aes128(c) => c.decrypt_block(&mut b),
            Aes::Aes256(c) => c.decrypt_block(&mut b),
        }
        b.into()
    }
}

fn xor(a: [u8; BLOCK], b: &[u8]) -> [u8; BLOCK] {
    let mut out = a;
    for (o, b) in out.iter_mut().zip(b) {
        *o ^= b;
    }
    out
}

/// CBC with ciphertext stealing and a zero IV (RFC 3962 §5): CBC over the
/// input padded with zeros to whole blocks, then the last two blocks
/// swapped and the (new) last one cut to the length of the last input
/// block. One block or less is plain CBC of one zero-padded block.
pub fn cts_encrypt(key: &Aes, data: &[u8]) -> Vec<u8> {
    let blocks = data.len().div_ceil(BLOCK).max(1);
    let mut previous = [0u8; BLOCK];
    let mut out: Vec<[u8; BLOCK]> = Vec::with_capacity(blocks);
    for chunk in 0..blocks {
        let mut block = [0u8; BLOCK];
        let part = &data[(chunk * BLOCK).min(data.len())..((chunk + 1) * BLOCK).min(data.len())];
        block[..part.len()].copy_from_slice(part);
        previous = key.encrypt_block(xor(block, &previous));
        out.push(previous);
    }
    if blocks == 1 {
        return out[0].to_vec();
    }
    out.swap(blocks - 2, blocks - 1);
    let mut bytes: Vec<u8> = out.concat();
    bytes.truncate(data.len());
    bytes
}

/// The inverse of [`cts_encrypt`]. Any length of at least one block comes
/// back as the same length of plaintext.
pub fn cts_decrypt(key: &Aes, data: &[u8]) -> Vec<u8> {
    let block_at = |i: usize| -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        let part = &data[(i * BLOCK).min(data.len())..((i + 1) * BLOCK).min(data.len())];
        b[..part.len()].copy_from_slice(part);
        b
    };
    let blocks = data.len().div_ceil(BLOCK).max(1);
    if blocks == 1 {
        return key.decrypt_block(block_at(0)).to_vec();
    }
    let mut out = Vec::with_capacity(data.len());
    let mut previous = [0u8; BLOCK];
    for i in 0..blocks - 2 {
        let c = block_at(i);
        out.extend_from_slice(&xor(key.decrypt_block(c), &previous));
        previous = c;
    }
    // The swapped pair: the full block is the last CBC block; the partial
    // one is the head of the one before it, whose tail its decryption gives.
    let last_full = block_at(blocks - 2);
    let tail_len = data.len() - (blocks - 1) * BLOCK;
    let tail = &data[(blocks - 1) * BLOCK..];
    let d = key.decrypt_block(last_full);
    let mut before_last = d;
    before_last[..tail_len].copy_from_slice(tail);
    out.extend_from_slice(&xor(key.decrypt_block(before_last), &previous));
    let last = xor(d, &before_last);
    out.extend_from_slice(&last[..tail_len]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.chars().filter(char::is_ascii_hexdigit).collect();
        (0..digits.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3961 Appendix A.1.
    #[test]
    fn n_fold_gives_rfc_3961_s_answers() {
        for (bits, input, expected) in [
            (64, "012345", "be072631276b1955"),
            (56, "password", "78a07b6caf85fa"),
            (64, "Rough Consensus, and Running Code", "bb6ed30870b7f0e0"),
            (
                168,
                "password",
                "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e",
            ),
            (
                192,
                "MASSACHVSETTS INSTITVTE OF TECHNOLOGY",
                "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b",
            ),
            (168, "Q", "518a54a215a8452a518a54a215a8452a518a54a215"),
            (168, "ba", "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"),
            (64, "kerberos", "6b65726265726f73"),
            (128, "kerberos", "6b65726265726f737b9b5b2b93132b93"),
            (
                168,
                "kerberos",
                "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4",
            ),
            (
                256,
                "kerberos",
                "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4",
            ),
        ] {
            assert_eq!(
                n_fold(input.as_bytes(), bits / 8),
                hex(expected),
                "{bits}-fold(\"{input}\")"
            );
        }
    }

    /// RFC 3962 Appendix B: PBKDF2 outputs and the AES keys string-to-key
    /// makes of them, for both key lengths.
    #[test]
    fn string_to_key_gives_rfc_3962_s_answers() {
        let clef = "\u{1d11e}";
        assert_eq!(clef.as_bytes(), hex("f09d849e"));
        // Iterations, pass phrase, salt, PBKDF2's 256 bits, the two keys.
        type Case = (
            u32,
            String,
            Vec<u8>,
            &'static str,
            &'static str,
            &'static str,
        );
        let cases: [Case; 7] = [
            (
                1,
                "password".into(),
                b"ATHENA.MIT.EDUraeburn".to_vec(),
                "cd ed b5 28 1b b2 f8 01 56 5a 11 22 b2 56 35 15 0a d1 f7 a0 4b b9 f3 a3 33 ec c0 e2 e1 f7 08 37",
                "42 26 3c 6e 89 f4 fc 28 b8 df 68 ee 09 79 9f 15",
                "fe 69 7b 52 bc 0d 3c e1 44 32 ba 03 6a 92 e6 5b bb 52 28 09 90 a2 fa 27 88 39 98 d7 2a f3 01 61",
            ),
            (
                2,
                "password".into(),
                b"ATHENA.MIT.EDUraeburn".to_vec(),
                "01 db ee 7f 4a 9e 24 3e 98 8b 62 c7 3c da 93 5d a0 53 78 b9 32 44 ec 8f 48 a9 9e 61 ad 79 9d 86",
                "c6 51 bf 29 e2 30 0a c2 7f a4 69 d6 93 bd da 13",
                "a2 e1 6d 16 b3 60 69 c1 35 d5 e9 d2 e2 5f 89 61 02 68 56 18 b9 59 14 b4 67 c6 76 22 22 58 24 ff",
            ),
            (
                1200,
                "password".into(),
                b"ATHENA.MIT.EDUraeburn".to_vec(),
                "5c 08 eb 61 fd f7 1e 4e 4e c3 cf 6b a1 f5 51 2b a7 e5 2d db c5 e5 14 2f 70 8a 31 e2 e6 2b 1e 13",
                "4c 01 cd 46 d6 32 d0 1e 6d be 23 0a 01 ed 64 2a",
                "55 a6 ac 74 0a d1 7b 48 46 94 10 51 e1 e8 b0 a7 54 8d 93 b0 ab 30 a8 bc 3f f1 62 80 38 2b 8c 2a",
            ),
            (
                5,
                "password".into(),
                hex("1234567878563412"),
                "d1 da a7 86 15 f2 87 e6 a1 c8 b1 20 d7 06 2a 49 3f 98 d2 03 e6 be 49 a6 ad f4 fa 57 4b 6e 64 ee",
                "e9 b2 3d 52 27 37 47 dd 5c 35 cb 55 be 61 9d 8e",
                "97 a4 e7 86 be 20 d8 1a 38 2d 5e bc 96 d5 90 9c ab cd ad c8 7c a4 8f 57 45 04 15 9f 16 c3 6e 31",
            ),
            (
                1200,
                "X".repeat(64),
                b"pass phrase equals block size".to_vec(),
                "13 9c 30 c0 96 6b c3 2b a5 5f db f2 12 53 0a c9 c5 ec 59 f1 a4 52 f5 cc 9a d9 40 fe a0 59 8e d1",
                "59 d1 bb 78 9a 82 8b 1a a5 4e f9 c2 88 3f 69 ed",
                "89 ad ee 36 08 db 8b c7 1f 1b fb fe 45 94 86 b0 56 18 b7 0c ba e2 20 92 53 4e 56 c5 53 ba 4b 34",
            ),
            (
                1200,
                "X".repeat(65),
                b"pass phrase exceeds block size".to_vec(),
                "9c ca d6 d4 68 77 0c d5 1b 10 e6 a6 87 21 be 61 1a 8b 4d 28 26 01 db 3b 36 be 92 46 91 5e c8 2a",
                "cb 80 05 dc 5f 90 17 9a 7f 02 10 4c 00 18 75 1d",
                "d7 8c 5c 9c b8 72 a8 c9 da d4 69 7f 0b b5 b2 d2 14 96 c8 2b eb 2c ae da 21 12 fc ee a0 57 40 1b",
            ),
            (
                50,
                clef.into(),
                b"EXAMPLE.COMpianist".to_vec(),
                "6b 9c f2 6d 45 45 5a 43 a5 b8 bb 27 6a 40 3b 39 e7 fe 37 a0 c4 1e 02 c2 81 ff 30 69 e1 e9 4f 52",
                "f1 49 c1 f2 e1 54 a7 34 52 d4 3e 7f e6 2a 56 e5",
                "4b 6d 98 39 f8 44 06 df 1f 09 cc 16 6d b4 b8 3c 57 18 48 b7 84 a3 d6 bd c3 46 58 9a 3e 39 3f 9e",
            ),
        ];
        for (iterations, password, salt, pbkdf2, aes128, aes256) in cases {
            let what = format!("{iterations} iterations, salt {salt:02x?}");
            // The 128-bit output is the first half of the 256-bit one.
            assert_eq!(
                pbkdf2_hmac_sha1(password.as_bytes(), &salt, iterations, 32),
                hex(pbkdf2),
                "{what}"
            );
            assert_eq!(
                pbkdf2_hmac_sha1(password.as_bytes(), &salt, iterations, 16),
                hex(pbkdf2)[..16],
                "{what}"
            );
            let key = Key::from_password(Etype::Aes128CtsHmacSha196, &password, &salt, iterations);
            assert_eq!(key.bytes(), hex(aes128), "{what}: AES-128 key");
            let key = Key::from_password(Etype::Aes256CtsHmacSha196, &password, &salt, iterations);
            assert_eq!(key.bytes(), hex(aes256), "{what}: AES-256 key");
        }
    }

    /// RFC 3962 Appendix B: CBC with ciphertext stealing under the key
    /// "chicken teriyaki", zero IV, for inputs of 17 to 64 bytes.
    #[test]
    fn cts_gives_rfc_3962_s_answers_and_comes_back() {
        let key = Aes::new(b"chicken teriyaki").unwrap();
        let input = b"I would like the General Gau's Chicken, please, and wonton soup.";
        for (len, output) in [
            (17, "c6 35 35 68 f2 bf 8c b4 d8 a5 80 36 2d a7 ff 7f 97"),
            (
                31,
                "fc 00 78 3e 0e fd b2 c1 d4 45 d4 c8 ef f7 ed 22 97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5",
            ),
            (
                32,
                "39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8 97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84",
            ),
            (
                47,
                "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84 b3 ff fd 94 0c 16 a1 8c 1b 55 49 d2 f8 38 02 9e \
                 39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5",
            ),
            (
                48,
                "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84 9d ad 8b bb 96 c4 cd c0 3b c1 03 e1 a1 94 bb d8 \
                 39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8",
            ),
            (
                64,
                "97 68 72 68 d6 ec cc c0 c0 7b 25 e2 5e cf e5 84 39 31 25 23 a7 86 62 d5 be 7f cb cc 98 eb f5 a8 \
                 48 07 ef e8 36 ee 89 a5 26 73 0d bc 2f 7b c8 40 9d ad 8b bb 96 c4 cd c0 3b c1 03 e1 a1 94 bb d8",
            ),
        ] {
            let encrypted = cts_encrypt(&key, &input[..len]);
            assert_eq!(encrypted, hex(output), "{len} bytes");
            assert_eq!(cts_decrypt(&key, &encrypted), input[..len], "{len} bytes back");
        }
    }

    fn aes256(text: &str) -> Key {
        Key::new(Etype::Aes256CtsHmacSha196, &hex(text)).unwrap()
    }

    /// MIT krb5's `t_derive.c` (DK for aes256, usage 2) and `t_cksums.c`
    /// (hmac-sha1-96-aes256 of "fourteen", usage 4).
    #[test]
    fn derived_keys_and_checksum_give_mit_krb5_s_answers() {
        let base = aes256("fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161");
        for (which, expected) in [
            (
                0x99,
                "bfab388bdcb238e9f9c98d6a878304f04d30c82556375ac507a7a852790f4674",
            ),
            (
                0xaa,
                "c7cfd9cd75fe793a586a542d87e0d1396f1134a104bb1a9190b8c90ada3ddf37",
            ),
            (
                0x55,
                "97151b4c76945063e2eb0529dc067d97d7bba90776d8126d91f34f3101aea8ba",
            ),
        ] {
            assert_eq!(base.for_usage(2, which), hex(expected), "{which:#x}");
        }
        let key = aes256("b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
        assert_eq!(
            key.checksum(4, b"fourteen").to_vec(),
            hex("e08739e3279e2903ec8e3836")
        );
        assert_eq!(key.checksum_type(), 16);
    }

    /// MIT krb5's `t_decrypt.c`: known aes256 ciphertexts open with their
    /// key and usage, and with nothing else.
    #[test]
    fn known_ciphertexts_open_and_an_edit_or_another_usage_does_not() {
        for (usage, key, plaintext, ciphertext) in [
            (
                0,
                "17f275f2954f2ed1f90c377ba7f4d6a369aa0136e0bf0c927ad6133c693759a9",
                "",
                "e5094c55ee7b38262e2b044280b069379a95bf95bd8376fb3281b435",
            ),
            (
                1,
                "b9477e1ff0329c0050e20ce6c72d2dff27e8fe541ab0954429a9cb5b4f7b1e2a",
                "1",
                "406150b97aeb76d43b36b62cc1ecdfbe6f40e95755e0beb5c27825f3a4",
            ),
            (
                2,
                "b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7",
                "9 bytesss",
                "09957aa25fcaf88f7b39e4406e633012d5fea21853f6478da7065caef41fd454a40824eec5",
            ),
            (
                3,
                "e5a72be9b7926c1225bafef9c1872e7ba4cdb2b17893d84abd90acdd8764d966",
                "13 bytes byte",
                "d8f1aafeec84587cc3e700a774e56651a6d693e174ec4473b5e6d96f80297a653fb818ad893e719f96",
            ),
            (
                4,
                "f1c795e9248a09338d82c3f8d5b567040b0110736845041347235b1404231398",
                "30 bytes bytes bytes bytes byt",
                "d1137a4d634cfece924dbc3bf6790648bd5cff7de0e7b99460211d0daef3d79a295c688858f3b34b9cbd6eebae81daf6b734d4d498b6714f1c1d",
            ),
        ] {
            let key = aes256(key);
            let ciphertext = hex(ciphertext);
            assert_eq!(key.decrypt(usage, &ciphertext).unwrap(), plaintext.as_bytes());
            assert_eq!(key.decrypt(usage + 1, &ciphertext), Err(CryptoError::Integrity));
            let mut edited = ciphertext.clone();
            edited[0] ^= 1;
            assert_eq!(key.decrypt(usage, &edited), Err(CryptoError::Integrity));
            // Encrypting again with the confounder that decryption finds
            // gives the same bytes.
            let ke = key.for_usage(usage, 0xAA);
            let data = cts_decrypt(
                &Aes::new(&ke).unwrap(),
                &ciphertext[..ciphertext.len() - MAC_LEN],
            );
            let confounder: [u8; 16] = data[..16].try_into().unwrap();
            assert_eq!(key.encrypt(usage, confounder, plaintext.as_bytes()), ciphertext);
        }
    }

    #[test]
    fn short_or_mis_sized_input_is_an_error_not_a_panic() {
        let key = aes256("b1ae4cd8462aff1677053cc9279aac30b796fb81ce21474dd3ddbcfea4ec76d7");
        for len in 0..BLOCK + MAC_LEN {
            assert_eq!(
                key.decrypt(1, &vec![7; len]),
                Err(CryptoError::TooShort(len))
            );
        }
        assert!(matches!(
            Key::new(Etype::Aes256CtsHmacSha196, &[0; 16]),
            Err(CryptoError::KeyLength { got: 16, .. })
        ));
        assert_eq!(Etype::from_number(18), Some(Etype::Aes256CtsHmacSha196));
        assert_eq!(Etype::from_number(23), None);
    }
}
