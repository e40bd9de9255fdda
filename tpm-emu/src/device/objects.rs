//! Loaded objects and their keys.

use core::fmt;

use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::CryptoRngCore;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use crate::types::{
    PublicKind, ResponseCode, SensitiveComposite, Tpm2bAuth, Tpm2bDigest, Tpm2bEccParameter,
    Tpm2bName, Tpm2bPrivateKeyRsa, Tpm2bPublicKeyRsa, TpmAlgId, TpmHandle, TpmsEccPoint,
    TpmsSignatureEcc, TpmsSignatureRsa, TpmtPublic, TpmtSensitive, TpmtSigScheme, TpmtSignature,
};

/// A private key held inside the device.
#[derive(Clone)]
pub(crate) enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ecc(p256::SecretKey),
    /// A keyed-hash object's secret: an HMAC key.
    KeyedHash(Vec<u8>),
}

/// An object in a transient slot (the reference implementation's object slots).
#[derive(Clone)]
pub(crate) struct Object {
    pub public: TpmtPublic,
    pub name: Tpm2bName,
    pub qualified_name: Tpm2bName,
    /// `TPM_RH_OWNER`, `TPM_RH_ENDORSEMENT`, `TPM_RH_PLATFORM` or `TPM_RH_NULL`.
    pub hierarchy: TpmHandle,
    pub auth_value: Vec<u8>,
    pub seed_value: Vec<u8>,
    pub key: PrivateKey,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Object")
            .field("name", &self.name)
            .field("hierarchy", &self.hierarchy)
            .finish_non_exhaustive()
    }
}

/// The Qualified Name of an entity whose parent has Qualified Name
/// `parent_qn` (a hierarchy's is its handle): `nameAlg ‖ H(parentQN ‖ Name)`
/// (TPM 2.0 Part 1 §16, "Names").
pub(crate) fn qualified_name(parent_qn: &[u8], name: &Tpm2bName) -> Tpm2bName {
    let mut qn = TpmAlgId::SHA256.0.to_be_bytes().to_vec();
    let mut h = Sha256::new();
    h.update(parent_qn);
    h.update(name.as_bytes());
    qn.extend_from_slice(&h.finalize());
    Tpm2bName::new(qn).unwrap_or_default()
}

/// Generates the key a validated template asks for, drawing from `rng`:
/// first the 32-byte `seedValue`, then the key (RSA-2048 with e = 65537, or
/// a NIST P-256 scalar by rejection sampling). Returns the public area with
/// `unique` filled in, the key and the seed value.
pub(crate) fn generate(
    template: &TpmtPublic,
    rng: &mut impl CryptoRngCore,
) -> Result<(TpmtPublic, PrivateKey, Vec<u8>), ResponseCode> {
    generate_with(template, &[], rng)
}

/// As [`generate`], with the caller's secret for a keyed-hash object
/// (`inSensitive.data` of TPM2_Create); a keyed-hash object without one
/// gets 32 random bytes. Its `unique` is SHA-256(seedValue ‖ secret)
/// (TPM 2.0 Part 1 §27.2.3, nameAlg SHA-256).
/// A generated object: its public area (with the unique field filled in),
/// its private key and its seedValue.
pub(crate) type Generation = (TpmtPublic, PrivateKey, Vec<u8>);

pub(crate) fn generate_with(
    template: &TpmtPublic,
    data: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<Generation, ResponseCode> {
    let mut seed_value = vec![0u8; 32];
    rng.fill_bytes(&mut seed_value);
    let mut public = template.clone();
    let key = match &mut public.kind {
        PublicKind::KeyedHash { unique, .. } => {
            let bits = if data.is_empty() {
                let mut bits = vec![0u8; 32];
                rng.fill_bytes(&mut bits);
                bits
            } else {
                data.to_vec()
            };
            *unique = keyed_hash_unique(&seed_value, &bits);
            PrivateKey::KeyedHash(bits)
        }
        PublicKind::Rsa { parameters, unique } => {
            let e = rsa::BigUint::from(parameters.effective_exponent());
            // rsa's key generation, byte for byte, several times faster.
            let key = rsa_keygen::new_with_exp(rng, usize::from(parameters.key_bits), &e)
                .map_err(|_| ResponseCode::NO_RESULT)?;
            *unique = Tpm2bPublicKeyRsa::new(key.n().to_bytes_be())
                .map_err(|_| ResponseCode::NO_RESULT)?;
            PrivateKey::Rsa(Box::new(key))
        }
        PublicKind::Ecc { unique, .. } => {
            let secret = p256::SecretKey::random(rng);
            *unique = ecc_point(&secret.public_key());
            PrivateKey::Ecc(secret)
        }
    };
    Ok((public, key, seed_value))
}

/// `unique` of a keyed-hash object: SHA-256(seedValue ‖ secret).
fn keyed_hash_unique(seed_value: &[u8], bits: &[u8]) -> Tpm2bDigest {
    let mut h = Sha256::new();
    h.update(seed_value);
    h.update(bits);
    Tpm2bDigest::new(h.finalize().to_vec()).unwrap_or_default()
}

/// The `TPMS_ECC_POINT` of a P-256 public key.
pub(crate) fn ecc_point(pk: &p256::PublicKey) -> TpmsEccPoint {
    let point = pk.to_encoded_point(false);
    let coord = |c: Option<&p256::FieldBytes>| {
        Tpm2bEccParameter::new(c.map(|b| b.to_vec()).unwrap_or_default()).unwrap_or_default()
    };
    TpmsEccPoint {
        x: coord(point.x()),
        y: coord(point.y()),
    }
}

/// Left-pads a big-endian integer to `len` bytes.
fn pad(mut bytes: Vec<u8>, len: usize) -> Vec<u8> {
    if bytes.len() < len {
        let mut out = vec![0u8; len - bytes.len()];
        out.append(&mut bytes);
        out
    } else {
        bytes
    }
}

impl Object {
    /// The object's `TPMT_SENSITIVE`: for RSA the first prime, as a TPM
    /// stores it (the rest follows from the public modulus).
    pub(crate) fn sensitive(&self, auth_value: &[u8]) -> TpmtSensitive {
        let sensitive = match &self.key {
            PrivateKey::Rsa(k) => {
                use rsa::traits::PrivateKeyParts;
                let p = k
                    .primes()
                    .first()
                    .map(|p| p.to_bytes_be())
                    .unwrap_or_default();
                SensitiveComposite::Rsa(Tpm2bPrivateKeyRsa::new(pad(p, 128)).unwrap_or_default())
            }
            PrivateKey::Ecc(s) => SensitiveComposite::Ecc(
                Tpm2bEccParameter::new(s.to_bytes().to_vec()).unwrap_or_default(),
            ),
            PrivateKey::KeyedHash(bits) => SensitiveComposite::Bits(
                crate::types::Tpm2bSensitiveData::new(bits.clone()).unwrap_or_default(),
            ),
        };
        TpmtSensitive {
            auth_value: Tpm2bAuth::new(auth_value.to_vec()).unwrap_or_default(),
            seed_value: Tpm2bDigest::new(self.seed_value.clone()).unwrap_or_default(),
            sensitive,
        }
    }

    /// Decrypts `cipher_text` with this RSA key, removing `scheme`'s
    /// padding (RSAES-PKCS1-v1_5, or OAEP with SHA-1 or SHA-256 and
    /// `label`); `TPM_RC_SCHEME` for another scheme, `TPM_RC_VALUE` when the
    /// data is not a valid encryption to this key.
    pub(crate) fn rsa_decrypt(
        &self,
        scheme: crate::types::TpmtRsaDecrypt,
        cipher_text: &[u8],
        label: &[u8],
    ) -> Result<Vec<u8>, ResponseCode> {
        let PrivateKey::Rsa(k) = &self.key else {
            return Err(ResponseCode::KEY);
        };
        if cipher_text.len() != k.size() {
            return Err(ResponseCode::SIZE);
        }
        let label = String::from_utf8(label.to_vec()).map_err(|_| ResponseCode::VALUE)?;
        let result = match (scheme.scheme, scheme.hash_alg) {
            (TpmAlgId::RSAES, _) => k.decrypt(rsa::Pkcs1v15Encrypt, cipher_text),
            (TpmAlgId::OAEP, TpmAlgId::SHA1) => k.decrypt(oaep::<sha1::Sha1>(&label), cipher_text),
            (TpmAlgId::OAEP, TpmAlgId::SHA256) => k.decrypt(oaep::<Sha256>(&label), cipher_text),
            _ => return Err(ResponseCode::SCHEME),
        };
        result.map_err(|_| ResponseCode::VALUE)
    }

    /// HMAC of `data` with this keyed-hash object's secret, with SHA-256
    /// (TPM2_HMAC, TPM 2.0 Part 3 §15.5).
    pub(crate) fn hmac_sha256(&self, data: &[u8]) -> Result<Vec<u8>, ResponseCode> {
        use hmac::{Hmac, Mac};
        let PrivateKey::KeyedHash(bits) = &self.key else {
            return Err(ResponseCode::KEY);
        };
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(bits).map_err(|_| ResponseCode::KEY_SIZE)?;
        mac.update(data);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// Signs a digest with `scheme` (already checked against the key).
    pub(crate) fn sign_digest(
        &self,
        scheme: TpmtSigScheme,
        digest: &[u8],
    ) -> Result<TpmtSignature, ResponseCode> {
        match (&self.key, scheme.scheme) {
            (PrivateKey::Rsa(k), TpmAlgId::RSASSA) => {
                let sig = k
                    .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), digest)
                    .map_err(|_| ResponseCode::NO_RESULT)?;
                let len = k.size();
                Ok(TpmtSignature::Rsassa(TpmsSignatureRsa {
                    hash: scheme.hash_alg,
                    sig: Tpm2bPublicKeyRsa::new(pad(sig, len))
                        .map_err(|_| ResponseCode::NO_RESULT)?,
                }))
            }
            (PrivateKey::Ecc(s), TpmAlgId::ECDSA) => {
                use p256::ecdsa::signature::hazmat::PrehashSigner;
                let sk = p256::ecdsa::SigningKey::from(s);
                let sig: p256::ecdsa::Signature = sk
                    .sign_prehash(digest)
                    .map_err(|_| ResponseCode::NO_RESULT)?;
                let (r, s) = sig.split_bytes();
                Ok(TpmtSignature::Ecdsa(TpmsSignatureEcc {
                    hash: scheme.hash_alg,
                    signature_r: Tpm2bEccParameter::new(r.to_vec())
                        .map_err(|_| ResponseCode::NO_RESULT)?,
                    signature_s: Tpm2bEccParameter::new(s.to_vec())
                        .map_err(|_| ResponseCode::NO_RESULT)?,
                }))
            }
            _ => Err(ResponseCode::SCHEME),
        }
    }
}

/// Rebuilds the private key of `public` from a decrypted sensitive area,
/// checking that the two belong together (`TPM_RC_BINDING` if not).
pub(crate) fn rebuild_key(
    public: &TpmtPublic,
    sensitive: &TpmtSensitive,
) -> Result<PrivateKey, ResponseCode> {
    match (&public.kind, &sensitive.sensitive) {
        (PublicKind::Rsa { parameters, unique }, SensitiveComposite::Rsa(prime)) => {
            let n = rsa::BigUint::from_bytes_be(unique.as_bytes());
            let p = rsa::BigUint::from_bytes_be(prime.as_bytes());
            let zero = rsa::BigUint::from(0u32);
            let one = rsa::BigUint::from(1u32);
            if p <= one || n <= p || (&n % &p) != zero {
                return Err(ResponseCode::BINDING);
            }
            let q = &n / &p;
            let e = rsa::BigUint::from(parameters.effective_exponent());
            let key = rsa::RsaPrivateKey::from_p_q(p, q, e).map_err(|_| ResponseCode::BINDING)?;
            if key.n() != &n {
                return Err(ResponseCode::BINDING);
            }
            Ok(PrivateKey::Rsa(Box::new(key)))
        }
        (PublicKind::KeyedHash { unique, .. }, SensitiveComposite::Bits(bits)) => {
            if keyed_hash_unique(sensitive.seed_value.as_bytes(), bits.as_bytes()) != *unique {
                return Err(ResponseCode::BINDING);
            }
            Ok(PrivateKey::KeyedHash(bits.as_bytes().to_vec()))
        }
        (PublicKind::Ecc { unique, .. }, SensitiveComposite::Ecc(d)) => {
            let secret =
                p256::SecretKey::from_slice(d.as_bytes()).map_err(|_| ResponseCode::BINDING)?;
            if ecc_point(&secret.public_key()) != *unique {
                return Err(ResponseCode::BINDING);
            }
            Ok(PrivateKey::Ecc(secret))
        }
        _ => Err(ResponseCode::TYPE),
    }
}

/// OAEP with `D` for the hash and MGF1, and `label` (the TPM's label ends in
/// a zero byte, which the label string carries: RFC 8017 §7.1 hashes the
/// label's bytes as given).
fn oaep<D>(label: &str) -> rsa::Oaep
where
    D: 'static + sha2::digest::Digest + sha2::digest::DynDigest + Send + Sync,
{
    if label.is_empty() {
        rsa::Oaep::new::<D>()
    } else {
        rsa::Oaep::new_with_label::<D, _>(label)
    }
}
