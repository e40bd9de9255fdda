//! BCRYPT_RSAPUBLIC_BLOB: how Windows CNG exports an RSA public key, and the
//! `kngc` value of a key registration request (MS-KPP 3.1.5.1.1.1).
//!
//! Layout (`bcrypt.h`, BCRYPT_RSAKEY_BLOB followed by the key):
//!
//! ```text
//! offset  size          field
//!      0  4 (u32 LE)    Magic        0x31415352 "RSA1" = BCRYPT_RSAPUBLIC_MAGIC
//!      4  4 (u32 LE)    BitLength    modulus size in bits
//!      8  4 (u32 LE)    cbPublicExp  length of PublicExponent
//!     12  4 (u32 LE)    cbModulus    length of Modulus
//!     16  4 (u32 LE)    cbPrime1     0 in a public blob
//!     20  4 (u32 LE)    cbPrime2     0 in a public blob
//!     24  cbPublicExp   PublicExponent  big-endian
//!      …  cbModulus     Modulus         big-endian
//! ```
//!
//! RSA-2048 with e = 65537 gives 24 + 3 + 256 = 283 bytes. Base64 of the
//! SHA-256 of these bytes is the key ID the client expects back, and the same
//! 32 bytes are the KeyID entry of the KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20.6).

use crate::artifact::Field;
use crate::error::{Error, Result};
use crate::formats::codec::{Codec, Reader};
use crate::formats::encoding::hex_prefix;
use base64ct::{Base64, Encoding};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use sha2::{Digest, Sha256};

/// `RSA1`: an RSA public key blob.
pub const BCRYPT_RSAPUBLIC_MAGIC: u32 = 0x3141_5352;
/// `RSA2`: an RSA private key blob (public part, primes).
pub const BCRYPT_RSAPRIVATE_MAGIC: u32 = 0x3241_5352;
/// `RSA3`: an RSA private key blob with every CRT value and the private exponent.
pub const BCRYPT_RSAFULLPRIVATE_MAGIC: u32 = 0x3341_5352;

/// Length of the BCRYPT_RSAKEY_BLOB header.
pub const HEADER_LEN: usize = 24;

const SPEC: &str = "bcrypt.h BCRYPT_RSAKEY_BLOB";
const NAME: &str = "BCRYPT_RSAPUBLIC_BLOB";

/// The six-u32 header, BCRYPT_RSAKEY_BLOB, exactly as it is on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BcryptRsaKeyBlob {
    pub magic: u32,
    pub bit_length: u32,
    pub cb_public_exp: u32,
    pub cb_modulus: u32,
    pub cb_prime1: u32,
    pub cb_prime2: u32,
}

impl Codec for BcryptRsaKeyBlob {
    const NAME: &'static str = "BCRYPT_RSAKEY_BLOB";

    fn encode(&self, out: &mut Vec<u8>) {
        for v in [
            self.magic,
            self.bit_length,
            self.cb_public_exp,
            self.cb_modulus,
            self.cb_prime1,
            self.cb_prime2,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            magic: r.u32_le("Magic")?,
            bit_length: r.u32_le("BitLength")?,
            cb_public_exp: r.u32_le("cbPublicExp")?,
            cb_modulus: r.u32_le("cbModulus")?,
            cb_prime1: r.u32_le("cbPrime1")?,
            cb_prime2: r.u32_le("cbPrime2")?,
        })
    }
}

/// An RSA public key as a BCRYPT_RSAPUBLIC_BLOB. Only [`Self::from_public_key`]
/// and [`Self::parse`] make one, so a value always encodes to a valid blob:
/// magic `RSA1`, no primes, minimal big-endian exponent and modulus, and a
/// BitLength that is the modulus's true size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BcryptRsaPublicBlob {
    bit_length: u32,
    exponent: Vec<u8>,
    modulus: Vec<u8>,
}

impl BcryptRsaPublicBlob {
    /// The blob of an RSA public key.
    ///
    /// Fails only for a key too large for the header's u32 lengths, which the
    /// `rsa` crate cannot produce; the `Result` keeps that case an error
    /// rather than a silent truncation.
    pub fn from_public_key(key: &RsaPublicKey) -> Result<Self> {
        let modulus = key.n().to_bytes_be();
        let exponent = key.e().to_bytes_be();
        let too_big = |_| Error::Usage("RSA key too large for a BCRYPT_RSAKEY_BLOB".into());
        let bit_length = u32::try_from(key.n().bits()).map_err(too_big)?;
        u32::try_from(modulus.len()).map_err(too_big)?;
        u32::try_from(exponent.len()).map_err(too_big)?;
        Ok(Self {
            bit_length,
            exponent,
            modulus,
        })
    }

    /// Reads a blob, refusing anything that is not exactly one well-formed
    /// public RSA blob (see the module documentation for the rules).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        Self::from_slice(bytes)
    }

    /// The blob's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// The `rsa` crate's key. Fails for numbers that are not a usable RSA key
    /// (even modulus, exponent 1 or even, modulus over 4096 bits).
    pub fn to_public_key(&self) -> Result<RsaPublicKey> {
        RsaPublicKey::new(
            BigUint::from_bytes_be(&self.modulus),
            BigUint::from_bytes_be(&self.exponent),
        )
        .map_err(|e| Error::invalid(NAME, format!("not a usable RSA public key: {e}")))
    }

    /// Modulus size in bits (BitLength).
    pub fn bit_length(&self) -> u32 {
        self.bit_length
    }

    /// The public exponent, big-endian, minimal.
    pub fn exponent(&self) -> &[u8] {
        &self.exponent
    }

    /// The modulus, big-endian, minimal.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// SHA-256 over the blob: the KeyID entry of a KEYCREDENTIALLINK_BLOB.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(self.to_vec()).into()
    }

    /// The key ID: base64 (standard alphabet, padded) of [`Self::sha256`].
    /// The client computes it to recognise its key in the registration
    /// response, and it is the base64 form of the AD KeyID.
    pub fn key_id(&self) -> String {
        Base64::encode_string(&self.sha256())
    }

    /// The header this blob encodes with.
    fn header(&self) -> BcryptRsaKeyBlob {
        // Lengths fit in u32: checked in from_public_key, and parse read them from u32s.
        BcryptRsaKeyBlob {
            magic: BCRYPT_RSAPUBLIC_MAGIC,
            bit_length: self.bit_length,
            cb_public_exp: u32::try_from(self.exponent.len()).unwrap_or(u32::MAX),
            cb_modulus: u32::try_from(self.modulus.len()).unwrap_or(u32::MAX),
            cb_prime1: 0,
            cb_prime2: 0,
        }
    }

    /// The decoded view of a blob: the header with its six fields, then the
    /// exponent and the modulus. The top-level fields tile the bytes.
    pub fn fields(bytes: &[u8]) -> Result<Vec<Field>> {
        let blob = Self::parse(bytes)?;
        Ok(blob.describe())
    }

    /// The decoded view of this blob's bytes (offsets from the blob's start).
    pub(crate) fn describe(&self) -> Vec<Field> {
        let h = self.header();
        let u32_field = |name: &str, value: String, note: &str, offset: usize| {
            Field::new(name, value, note, SPEC, offset, 4)
        };
        let header = Field::new(
            "BCRYPT_RSAKEY_BLOB",
            "RSA public key header",
            "Six little-endian u32 values that say what kind of key follows and how long each part is.",
            SPEC,
            0,
            HEADER_LEN,
        )
        .with_children(vec![
            u32_field(
                "Magic",
                format!("RSA1 (0x{:08X})", h.magic),
                "BCRYPT_RSAPUBLIC_MAGIC: a public RSA key. RSA2 or RSA3 here would mean private key material.",
                0,
            ),
            u32_field(
                "BitLength",
                h.bit_length.to_string(),
                "Size of the modulus in bits.",
                4,
            ),
            u32_field(
                "cbPublicExp",
                h.cb_public_exp.to_string(),
                "Length in bytes of the public exponent after the header.",
                8,
            ),
            u32_field(
                "cbModulus",
                h.cb_modulus.to_string(),
                "Length in bytes of the modulus after the exponent.",
                12,
            ),
            u32_field(
                "cbPrime1",
                h.cb_prime1.to_string(),
                "Length of the first prime factor: 0, a public blob carries no primes.",
                16,
            ),
            u32_field(
                "cbPrime2",
                h.cb_prime2.to_string(),
                "Length of the second prime factor: 0, a public blob carries no primes.",
                20,
            ),
        ]);
        let exp_offset = HEADER_LEN;
        let mod_offset = exp_offset + self.exponent.len();
        vec![
            header,
            Field::new(
                "PublicExponent",
                exponent_text(&self.exponent),
                "The public exponent e, big-endian (unlike the little-endian header).",
                SPEC,
                exp_offset,
                self.exponent.len(),
            ),
            Field::new(
                "Modulus",
                format!(
                    "{}-bit: {} ({} bytes)",
                    self.bit_length,
                    hex_prefix(&self.modulus, 8),
                    self.modulus.len()
                ),
                "The modulus n, big-endian. With e it is the whole public key.",
                SPEC,
                mod_offset,
                self.modulus.len(),
            ),
        ]
    }
}

/// `65537` for exponents that fit in a u64, hex otherwise.
pub(crate) fn exponent_decimal(e: &[u8]) -> String {
    if e.len() <= 8 {
        e.iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
            .to_string()
    } else {
        format!("0x{}", hex_prefix(e, 8))
    }
}

/// `65537 (0x010001)`.
fn exponent_text(e: &[u8]) -> String {
    if e.len() <= 8 {
        format!(
            "{} (0x{})",
            exponent_decimal(e),
            crate::formats::encoding::hex(e)
        )
    } else {
        exponent_decimal(e)
    }
}

/// Significant bits of a big-endian number with no leading zero byte.
fn bits(be: &[u8]) -> u64 {
    match be.first() {
        None | Some(0) => 0,
        Some(&top) => (be.len() as u64 - 1) * 8 + u64::from(8 - top.leading_zeros()),
    }
}

/// `0x31415352 ("RSA1")` or just the hex when the bytes are not printable.
fn magic_text(magic: u32) -> String {
    let b = magic.to_le_bytes();
    if b.iter().all(|c| c.is_ascii_graphic()) {
        format!("0x{magic:08X} (\"{}\")", String::from_utf8_lossy(&b))
    } else {
        format!("0x{magic:08X}")
    }
}

impl Codec for BcryptRsaPublicBlob {
    const NAME: &'static str = NAME;

    fn encode(&self, out: &mut Vec<u8>) {
        self.header().encode(out);
        out.extend_from_slice(&self.exponent);
        out.extend_from_slice(&self.modulus);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let h = BcryptRsaKeyBlob::read(r)?;
        match h.magic {
            BCRYPT_RSAPUBLIC_MAGIC => {}
            BCRYPT_RSAPRIVATE_MAGIC | BCRYPT_RSAFULLPRIVATE_MAGIC => {
                return Err(Error::invalid(
                    NAME,
                    format!(
                        "magic {} marks a PRIVATE key blob: a private key must never be sent; \
                         only the public blob (RSA1, 0x31415352) may leave the device",
                        magic_text(h.magic)
                    ),
                ));
            }
            other => {
                return Err(Error::malformed(
                    NAME,
                    format!(
                        "magic {} is not RSA1 (0x31415352, BCRYPT_RSAPUBLIC_MAGIC)",
                        magic_text(other)
                    ),
                ));
            }
        }
        for (name, value) in [("cbPrime1", h.cb_prime1), ("cbPrime2", h.cb_prime2)] {
            if value != 0 {
                return Err(Error::invalid(
                    NAME,
                    format!("{name} is {value}: a public blob carries no primes, so it must be 0"),
                ));
            }
        }
        if h.cb_public_exp == 0 {
            return Err(Error::malformed(
                NAME,
                "cbPublicExp is 0: there is no public exponent",
            ));
        }
        if h.cb_modulus == 0 {
            return Err(Error::malformed(
                NAME,
                "cbModulus is 0: there is no modulus",
            ));
        }
        let needed = h.bit_length.div_ceil(8);
        if needed != h.cb_modulus {
            return Err(Error::malformed(
                NAME,
                format!(
                    "lengths do not add up: BitLength {} needs a {needed}-byte modulus, cbModulus says {}",
                    h.bit_length, h.cb_modulus
                ),
            ));
        }
        // u32 -> usize is lossless on every target this crate builds for
        // (32- and 64-bit); were it not, take() would report truncation.
        let len = |v: u32| usize::try_from(v).unwrap_or(usize::MAX);
        let exponent = r.take(len(h.cb_public_exp), "PublicExponent")?.to_vec();
        let modulus = r.take(len(h.cb_modulus), "Modulus")?.to_vec();
        if modulus.iter().all(|&b| b == 0) {
            return Err(Error::malformed(NAME, "the modulus is zero"));
        }
        if bits(&modulus) != u64::from(h.bit_length) {
            return Err(Error::malformed(
                NAME,
                format!(
                    "lengths do not add up: the modulus has {} significant bits, BitLength says {}",
                    if modulus.first() == Some(&0) {
                        "a leading zero byte and fewer".to_string()
                    } else {
                        bits(&modulus).to_string()
                    },
                    h.bit_length
                ),
            ));
        }
        if exponent.iter().all(|&b| b == 0) {
            return Err(Error::malformed(NAME, "the public exponent is zero"));
        }
        // Leading zeros would give one key several encodings, hence several key IDs.
        if exponent.first() == Some(&0) {
            return Err(Error::malformed(
                NAME,
                "the public exponent starts with a zero byte: it must be minimal",
            ));
        }
        Ok(Self {
            bit_length: h.bit_length,
            exponent,
            modulus,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{assert_tiles, mutate, other_key, user_key};
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    fn blob_bytes() -> Vec<u8> {
        BcryptRsaPublicBlob::from_public_key(&user_key().to_public_key())
            .unwrap()
            .to_bytes()
    }

    fn err(bytes: &[u8]) -> String {
        BcryptRsaPublicBlob::parse(bytes).unwrap_err().to_string()
    }

    fn with_u32(mut bytes: Vec<u8>, offset: usize, value: u32) -> Vec<u8> {
        bytes[offset..offset + 4].copy_from_slice(&value.to_le_bytes());
        bytes
    }

    #[test]
    fn rsa_2048_blob_is_283_bytes_with_the_documented_header() {
        let bytes = blob_bytes();
        assert_eq!(bytes.len(), 283);
        assert_eq!(&bytes[0..4], b"RSA1");
        assert_eq!(&bytes[4..8], &2048u32.to_le_bytes());
        assert_eq!(&bytes[8..12], &3u32.to_le_bytes());
        assert_eq!(&bytes[12..16], &256u32.to_le_bytes());
        assert_eq!(&bytes[16..24], &[0u8; 8]);
        assert_eq!(&bytes[24..27], &[0x01, 0x00, 0x01]);
        let key = user_key().to_public_key();
        assert_eq!(&bytes[27..], key.n().to_bytes_be().as_slice());
    }

    #[test]
    fn round_trips_bytes_and_key() {
        let bytes = blob_bytes();
        let blob = BcryptRsaPublicBlob::parse(&bytes).unwrap();
        assert_eq!(blob.to_bytes(), bytes);
        assert_eq!(blob.bit_length(), 2048);
        assert_eq!(blob.exponent(), &[1, 0, 1]);
        assert_eq!(blob.to_public_key().unwrap(), user_key().to_public_key());
        let other = BcryptRsaPublicBlob::from_public_key(&other_key().to_public_key()).unwrap();
        assert_ne!(other, blob);
    }

    #[test]
    fn key_id_is_base64_of_sha256_of_the_blob() {
        let bytes = blob_bytes();
        let blob = BcryptRsaPublicBlob::parse(&bytes).unwrap();
        let digest = Sha256::digest(&bytes);
        assert_eq!(blob.sha256().as_slice(), digest.as_slice());
        assert_eq!(blob.key_id(), Base64::encode_string(&digest));
        assert_eq!(blob.key_id().len(), 44);
        assert!(blob.key_id().ends_with('='));
    }

    #[test]
    fn too_short_inputs_say_what_is_missing() {
        let bytes = blob_bytes();
        assert_eq!(
            err(&[]),
            "malformed BCRYPT_RSAPUBLIC_BLOB: truncated: Magic needs 4 bytes at offset 0, only 0 left"
        );
        assert!(err(&bytes[..23]).contains("cbPrime2 needs 4 bytes at offset 20, only 3 left"));
        assert!(
            err(&bytes[..25]).contains("PublicExponent needs 3 bytes at offset 24, only 1 left")
        );
        assert!(err(&bytes[..282]).contains("Modulus needs 256 bytes at offset 27, only 255 left"));
    }

    #[test]
    fn too_long_input_is_refused() {
        let mut bytes = blob_bytes();
        bytes.push(0);
        assert_eq!(
            err(&bytes),
            "malformed BCRYPT_RSAPUBLIC_BLOB: 1 trailing byte after the end of the structure at offset 283"
        );
    }

    #[test]
    fn private_magics_are_refused_as_private() {
        for (magic, label) in [
            (BCRYPT_RSAPRIVATE_MAGIC, "RSA2"),
            (BCRYPT_RSAFULLPRIVATE_MAGIC, "RSA3"),
        ] {
            let e = BcryptRsaPublicBlob::parse(&with_u32(blob_bytes(), 0, magic)).unwrap_err();
            assert!(matches!(e, Error::Invalid { .. }));
            let text = e.to_string();
            assert!(text.contains(label), "{text}");
            assert!(text.contains("private key must never be sent"), "{text}");
        }
    }

    #[test]
    fn other_magics_are_refused() {
        // "ECS1", an ECDSA P-256 public blob.
        let text = err(&with_u32(blob_bytes(), 0, 0x3153_4345));
        assert!(
            text.contains("magic 0x31534345 (\"ECS1\") is not RSA1"),
            "{text}"
        );
        assert!(err(&with_u32(blob_bytes(), 0, 0)).contains("magic 0x00000000 is not RSA1"));
    }

    #[test]
    fn primes_in_a_public_blob_are_refused() {
        assert!(err(&with_u32(blob_bytes(), 16, 128)).contains("cbPrime1 is 128"));
        assert!(err(&with_u32(blob_bytes(), 20, 1)).contains("cbPrime2 is 1"));
    }

    #[test]
    fn lengths_that_do_not_add_up_are_refused() {
        assert!(err(&with_u32(blob_bytes(), 4, 2056))
            .contains("BitLength 2056 needs a 257-byte modulus, cbModulus says 256"));
        assert!(err(&with_u32(blob_bytes(), 12, 255))
            .contains("BitLength 2048 needs a 256-byte modulus, cbModulus says 255"));
        assert!(err(&with_u32(blob_bytes(), 4, 2047))
            .contains("the modulus has 2048 significant bits, BitLength says 2047"));
        // The exponent claims 4 bytes: everything after it shifts, the modulus comes up short.
        assert!(err(&with_u32(blob_bytes(), 8, 4))
            .contains("Modulus needs 256 bytes at offset 28, only 255 left"));
        assert!(err(&with_u32(blob_bytes(), 8, 0)).contains("cbPublicExp is 0"));
        assert!(err(&with_u32(with_u32(blob_bytes(), 12, 0), 4, 0)).contains("cbModulus is 0"));
    }

    #[test]
    fn zero_or_padded_numbers_are_refused() {
        let mut zero = blob_bytes();
        zero[27..].fill(0);
        assert!(err(&zero).contains("the modulus is zero"));
        let mut padded = blob_bytes();
        padded[27] = 0;
        assert!(err(&padded).contains("a leading zero byte"));
        let mut e0 = blob_bytes();
        e0[24..27].fill(0);
        assert!(err(&e0).contains("the public exponent is zero"));
        let mut e_pad = blob_bytes();
        e_pad[24] = 0;
        assert!(err(&e_pad).contains("must be minimal"));
    }

    #[test]
    fn unusable_numbers_parse_but_do_not_become_a_key() {
        let mut even = blob_bytes();
        even[26] = 0x02; // e = 0x010002, even
        let blob = BcryptRsaPublicBlob::parse(&even).unwrap();
        assert!(matches!(blob.to_public_key(), Err(Error::Invalid { .. })));
    }

    #[test]
    fn fields_tile_the_283_bytes() {
        let bytes = blob_bytes();
        let fields = BcryptRsaPublicBlob::fields(&bytes).unwrap();
        assert_tiles(&fields, 0, bytes.len());
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["BCRYPT_RSAKEY_BLOB", "PublicExponent", "Modulus"]);
        let header: Vec<(&str, &str)> = fields[0]
            .children
            .iter()
            .map(|f| (f.name.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            header,
            [
                ("Magic", "RSA1 (0x31415352)"),
                ("BitLength", "2048"),
                ("cbPublicExp", "3"),
                ("cbModulus", "256"),
                ("cbPrime1", "0"),
                ("cbPrime2", "0"),
            ]
        );
        assert_eq!(fields[1].value, "65537 (0x010001)");
        assert!(fields[2].value.starts_with("2048-bit: "));
        assert!(BcryptRsaPublicBlob::fields(&bytes[..100]).is_err());
    }

    #[test]
    fn header_codec_round_trips() {
        let h = BcryptRsaKeyBlob {
            magic: BCRYPT_RSAPUBLIC_MAGIC,
            bit_length: 2048,
            cb_public_exp: 3,
            cb_modulus: 256,
            cb_prime1: 0,
            cb_prime2: 0,
        };
        let bytes = h.to_vec();
        assert_eq!(bytes.len(), HEADER_LEN);
        assert_eq!(BcryptRsaKeyBlob::from_slice(&bytes).unwrap(), h);
        assert!(BcryptRsaKeyBlob::from_slice(&bytes[..23]).is_err());
        assert!(BcryptRsaKeyBlob::from_slice(&[bytes.as_slice(), &[0]].concat()).is_err());
    }

    /// 20,000 mutated and random inputs: the parser answers, it never panics.
    #[test]
    fn parsing_never_panics() {
        let valid = blob_bytes();
        let mut rng = ChaCha20Rng::seed_from_u64(0xB1_0B);
        let mut accepted = 0;
        for i in 0..20_000 {
            let input = if i % 10 == 0 {
                let mut random = vec![0u8; (rng.next_u32() % 300) as usize];
                rng.fill_bytes(&mut random);
                random
            } else {
                mutate(&mut rng, &valid)
            };
            if let Ok(blob) = BcryptRsaPublicBlob::parse(&input) {
                accepted += 1;
                assert_eq!(blob.to_bytes(), input, "parse must be exact");
                let _ = blob.to_public_key();
            }
            let _ = BcryptRsaPublicBlob::fields(&input);
        }
        // Bit flips in the modulus leave a valid blob: some inputs must pass.
        assert!(accepted > 0);
    }
}
