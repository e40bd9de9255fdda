//! Diffie-Hellman for PKINIT (RFC 4556 §3.2.3.1): the 2048-bit MODP group
//! of RFC 3526 §3 (group 14), its public values in the forms the messages
//! carry, and the reply key made from the shared secret.
//!
//! Why group 14: RFC 4556 §3.2.1 names the Oakley 1024-bit MODP well-known
//! group 2 and the 2048-bit group 14 ("the KDC SHOULD support" both, with
//! group 2 for interoperability); 1024-bit Diffie-Hellman is no longer
//! acceptable, and group 14 is what current Windows clients and KDCs use.
//!
//! The private exponents are 512 bits drawn from the run's seeded stream:
//! RFC 4556 §3.2.1 asks that "the exponents should have at least twice as
//! many bits as the symmetric keys that will be derived from them" (an
//! AES-256 reply key), and a 512-bit exponent keeps the modular
//! exponentiation quick in a browser.

use super::crypto::{Etype, Key};
use der::asn1::{BitString, ObjectIdentifier, Uint};
use der::{Decode, Encode, Sequence};
use rsa::BigUint;
use sha1::{Digest, Sha1};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// The prime of RFC 3526 §3's 2048-bit MODP group: 2^2048 - 2^1984 - 1 +
/// 2^64 * ( [2^1918 pi] + 124476 ). The generator is 2.
const MODP_2048_P: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9",
    "DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF",
);
/// The group's size in bytes: the shared secret is this long (RFC 4556
/// §3.2.3.1: left-padded with zeros to the size of p).
const P_BYTES: usize = 256;

/// `dhpublicnumber` (ANSI X9.42; RFC 3279 §2.3.3): the algorithm of a
/// Diffie-Hellman SubjectPublicKeyInfo, which RFC 4556 §3.2.3.1 uses for
/// clientPublicValue.
pub const DH_PUBLIC_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10046.2.1");

fn prime() -> BigUint {
    // The constant is valid hex: parsing it cannot fail.
    BigUint::parse_bytes(MODP_2048_P.as_bytes(), 16).unwrap_or_default()
}

/// ```text
/// DomainParameters ::= SEQUENCE {
///       p       INTEGER, -- odd prime, p=jq +1
///       g       INTEGER, -- generator, g
///       q       INTEGER, -- factor of p-1
///       j       INTEGER OPTIONAL, -- subgroup factor
///       validationParms  ValidationParms OPTIONAL }
/// ```
/// (RFC 3279 §2.3.3)
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DomainParameters {
    pub p: Uint,
    pub g: Uint,
    pub q: Uint,
}

fn int(value: &BigUint) -> der::Result<Uint> {
    // Uint strips leading zeros and adds the sign octet DER needs.
    Uint::new(&value.to_bytes_be())
}

fn uint(value: &Uint) -> BigUint {
    BigUint::from_bytes_be(value.as_bytes())
}

/// One party's Diffie-Hellman key pair in group 14.
#[derive(Clone)]
pub struct DhKeyPair {
    private: BigUint,
    public: BigUint,
}

impl std::fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DhKeyPair(public {} bits)", self.public.bits())
    }
}

impl DhKeyPair {
    /// The pair whose private exponent is `secret` (512 bits from a seeded
    /// stream; a zero secret is moved to 2, never a trivial key).
    pub fn from_secret(secret: [u8; 64]) -> DhKeyPair {
        let mut private = BigUint::from_bytes_be(&secret);
        if private < BigUint::from(2u32) {
            private = BigUint::from(2u32);
        }
        let public = BigUint::from(2u32).modpow(&private, &prime());
        DhKeyPair { private, public }
    }

    /// The public value y = g^x mod p, big-endian.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.public.to_bytes_be()
    }

    /// clientPublicValue: a SubjectPublicKeyInfo with dhpublicnumber and
    /// the group's DomainParameters (q = (p-1)/2, p being a safe prime),
    /// and the public value as a DER INTEGER inside the BIT STRING (RFC
    /// 3279 §2.3.3; RFC 4556 §3.2.3.1).
    pub fn subject_public_key_info(&self) -> der::Result<SubjectPublicKeyInfoOwned> {
        let p = prime();
        let q: BigUint = (&p - BigUint::from(1u32)) >> 1usize;
        let params = DomainParameters {
            p: int(&p)?,
            g: int(&BigUint::from(2u32))?,
            q: int(&q)?,
        };
        Ok(SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned {
                oid: DH_PUBLIC_NUMBER,
                parameters: Some(der::Any::encode_from(&params)?),
            },
            subject_public_key: self.public_bit_string()?,
        })
    }

    /// The public value as KDCDHKeyInfo's subjectPublicKey: a BIT STRING
    /// holding the DER INTEGER (RFC 4556 §3.2.3.1, RFC 3279 §2.3.3).
    pub fn public_bit_string(&self) -> der::Result<BitString> {
        BitString::from_bytes(&int(&self.public)?.to_der()?)
    }

    /// The shared secret with the peer's public value, left-padded with
    /// zeros to the size of p (RFC 4556 §3.2.3.1's DHSharedSecret). The
    /// peer's value must lie strictly between 1 and p - 1 (SP 800-56A
    /// §5.6.2.3.1), or a party could force the secret.
    pub fn shared_secret(&self, peer: &[u8]) -> Result<Vec<u8>, String> {
        let p = prime();
        let y = BigUint::from_bytes_be(peer);
        if y <= BigUint::from(1u32) || y >= &p - BigUint::from(1u32) {
            return Err(
                "the Diffie-Hellman public value is not between 1 and p - 1 (group 14)".into(),
            );
        }
        let z = y.modpow(&self.private, &p).to_bytes_be();
        let mut out = vec![0u8; P_BYTES.saturating_sub(z.len())];
        out.extend_from_slice(&z);
        Ok(out)
    }
}

/// The public value in a clientPublicValue, once its algorithm and
/// parameters are group 14's.
pub fn read_subject_public_key_info(spki: &SubjectPublicKeyInfoOwned) -> Result<Vec<u8>, String> {
    if spki.algorithm.oid != DH_PUBLIC_NUMBER {
        return Err(format!(
            "clientPublicValue's algorithm is {}, not dhpublicnumber",
            spki.algorithm.oid
        ));
    }
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .ok_or("clientPublicValue has no domain parameters")?
        .decode_as::<DomainParameters>()
        .map_err(|e| format!("the domain parameters do not decode: {e}"))?;
    if uint(&params.p) != prime() || uint(&params.g) != BigUint::from(2u32) {
        return Err(
            "the domain parameters are not the 2048-bit MODP group 14 (RFC 3526 §3) this KDC accepts"
                .into(),
        );
    }
    read_public_bit_string(&spki.subject_public_key)
}

/// The public value in a BIT STRING holding a DER INTEGER.
pub fn read_public_bit_string(bits: &BitString) -> Result<Vec<u8>, String> {
    let bytes = bits
        .as_bytes()
        .ok_or("the public value's BIT STRING has unused bits")?;
    let value =
        Uint::from_der(bytes).map_err(|e| format!("the public value is not an INTEGER: {e}"))?;
    Ok(uint(&value).to_bytes_be())
}

/// octetstring2key (RFC 4556 §3.2.3.1): k-truncate(SHA1(0x00 ‖ x) ‖
/// SHA1(0x01 ‖ x) ‖ …) with x = DHSharedSecret ‖ n_c ‖ n_k (the client's
/// and the KDC's DH nonces, empty when absent), to the key length of
/// `etype`, then random-to-key (the identity for AES).
pub fn reply_key(
    etype: Etype,
    shared_secret: &[u8],
    client_nonce: &[u8],
    server_nonce: &[u8],
) -> Key {
    let mut x = shared_secret.to_vec();
    x.extend_from_slice(client_nonce);
    x.extend_from_slice(server_nonce);
    let mut out = Vec::new();
    let mut counter = 0u8;
    while out.len() < etype.key_len() {
        out.extend_from_slice(
            &Sha1::new()
                .chain_update([counter])
                .chain_update(&x)
                .finalize(),
        );
        counter = counter.wrapping_add(1);
    }
    out.truncate(etype.key_len());
    // The length is the type's: Key::new cannot refuse it.
    match Key::new(etype, &out) {
        Ok(key) => key,
        Err(_) => Key::from_password(etype, "", b"", 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prime_is_rfc_3526_s_group_14() {
        let p = prime();
        assert_eq!(p.bits(), 2048);
        // 2^2048 - 2^1984 - 1 + 2^64 * (floor(2^1918 pi) + 124476): the top
        // and bottom 64 bits are all ones.
        let bytes = p.to_bytes_be();
        assert_eq!(&bytes[..8], &[0xff; 8]);
        assert_eq!(&bytes[248..], &[0xff; 8]);
    }

    #[test]
    fn both_parties_reach_the_same_secret_and_reply_key() {
        let client = DhKeyPair::from_secret([1; 64]);
        let kdc = DhKeyPair::from_secret([2; 64]);
        let a = client.shared_secret(&kdc.public_bytes()).unwrap();
        let b = kdc.shared_secret(&client.public_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 256);
        let key = reply_key(Etype::Aes256CtsHmacSha196, &a, b"", b"");
        assert_eq!(key.bytes().len(), 32);
        // The public value goes through its SPKI and comes back.
        let spki = client.subject_public_key_info().unwrap();
        assert_eq!(
            read_subject_public_key_info(&spki).unwrap(),
            client.public_bytes()
        );
        let bits = kdc.public_bit_string().unwrap();
        assert_eq!(read_public_bit_string(&bits).unwrap(), kdc.public_bytes());
    }

    #[test]
    fn trivial_public_values_are_refused() {
        let me = DhKeyPair::from_secret([3; 64]);
        let p = prime().to_bytes_be();
        let p_minus_1 = (prime() - BigUint::from(1u32)).to_bytes_be();
        for bad in [vec![0u8], vec![1u8], p_minus_1, p] {
            assert!(me.shared_secret(&bad).is_err());
        }
    }

    /// octetstring2key over a known input, as Python computes it:
    /// `(sha1(b"\0" + x).digest() + sha1(b"\1" + x).digest())[:32]` with
    /// x = bytes(range(256)) + b"nc" + b"nk".
    #[test]
    fn the_reply_key_is_the_sha1_stream_python_computes() {
        let secret: Vec<u8> = (0..=255u8).collect();
        let key = reply_key(Etype::Aes256CtsHmacSha196, &secret, b"nc", b"nk");
        let hex: String = key.bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, EXPECTED);
    }

    const EXPECTED: &str = "fe342cadbfc2fb14dc901e619f3d36214a444ce1b8b2288ee1bc69ffcf93653b";
}
