//! Tagged structures, `TPMT_*`: a selector followed by what it selects
//! (TPM 2.0 Part 2 §10.7, §11, §12).

use core::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Malformed, MalformedKind, Result};
use crate::marshal::{Describe, Marshal, Reader, Unmarshal};
use crate::types::{
    Tpm2bAuth, Tpm2bDigest, Tpm2bEccParameter, Tpm2bName, Tpm2bPrivateKeyRsa, Tpm2bPublicKeyRsa,
    Tpm2bSensitiveData, TpmAlgId, TpmEccCurve, TpmHandle, TpmSt, TpmaObject, TpmsEccParms,
    TpmsEccPoint, TpmsRsaParms, TpmsSignatureEcc, TpmsSignatureRsa,
};

/// Checks a `TPMI_ALG_HASH` value: only SHA-256 is implemented here.
pub(crate) fn check_hash(alg: &TpmAlgId) -> Option<MalformedKind> {
    (*alg != TpmAlgId::SHA256).then_some(MalformedKind::Hash)
}

/// The hashes OAEP may use here: SHA-256, and SHA-1, which JWE's `RSA-OAEP`
/// (RFC 7518 §4.3) requires of whoever decrypts it.
pub(crate) fn check_oaep_hash(alg: &TpmAlgId) -> Option<MalformedKind> {
    (*alg != TpmAlgId::SHA256 && *alg != TpmAlgId::SHA1).then_some(MalformedKind::Hash)
}

// ---- schemes ----------------------------------------------------------------

/// Generates a scheme type: a `TPMI_ALG_*_SCHEME` selector and, for the
/// schemes that have one, the `TPMS_SCHEME_HASH` detail (`hashAlg`).
macro_rules! scheme {
    (
        $(#[$meta:meta])*
        $name:ident, $spec:literal, fault = $fault:ident,
        hashed = [$($hashed:ident),*], plain = [$($plain:ident),*]
    ) => {
        scheme! {
            $(#[$meta])*
            $name, $spec, fault = $fault,
            hashed = [$($hashed),*], plain = [$($plain),*], hashes = check_hash
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident, $spec:literal, fault = $fault:ident,
        hashed = [$($hashed:ident),*], plain = [$($plain:ident),*], hashes = $check:ident
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct $name {
            /// The scheme (`TPM_ALG_NULL` for none).
            pub scheme: TpmAlgId,
            /// The scheme's hash (`details.hashAlg`); `TPM_ALG_NULL` for a
            /// scheme without details.
            pub hash_alg: TpmAlgId,
        }

        impl $name {
            /// No scheme (`TPM_ALG_NULL`).
            pub const NULL: $name = $name { scheme: TpmAlgId::NULL, hash_alg: TpmAlgId::NULL };

            /// A scheme with a hash.
            pub fn new(scheme: TpmAlgId, hash_alg: TpmAlgId) -> Self {
                $name { scheme, hash_alg }
            }

            fn has_hash(scheme: TpmAlgId) -> bool {
                matches!(scheme, $(TpmAlgId::$hashed)|*)
            }

            fn is_allowed(scheme: TpmAlgId) -> bool {
                Self::has_hash(scheme) || matches!(scheme, TpmAlgId::NULL $(| TpmAlgId::$plain)*)
            }

            /// Whether this is `TPM_ALG_NULL`.
            pub fn is_null(&self) -> bool {
                self.scheme == TpmAlgId::NULL
            }
        }

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                self.scheme.marshal(out);
                if Self::has_hash(self.scheme) {
                    self.hash_alg.marshal(out);
                }
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
                let scheme = r.field_checked::<TpmAlgId>("scheme", "the scheme's algorithm", |s| {
                    (!Self::is_allowed(*s)).then_some(MalformedKind::$fault)
                })?;
                let hash_alg = if Self::has_hash(scheme) {
                    r.group(
                        "details",
                        "the scheme's parameters (TPMS_SCHEME_HASH)",
                        "TPM 2.0 Part 2 §11.1.17",
                        |r| r.field_checked::<TpmAlgId>("hashAlg", "hash used with the scheme", $check),
                        |h| h.to_string(),
                    )?
                } else {
                    TpmAlgId::NULL
                };
                Ok($name { scheme, hash_alg })
            }
        }

        impl Describe for $name {
            const SPEC: &'static str = $spec;
            fn describe_value(&self) -> String {
                let scheme = self.scheme.name().unwrap_or("unknown");
                if Self::has_hash(self.scheme) {
                    format!("{scheme} with {}", self.hash_alg.name().unwrap_or("unknown hash"))
                } else {
                    scheme.to_string()
                }
            }
        }
    };
}

scheme! {
    /// `TPMT_RSA_SCHEME` (TPM 2.0 Part 2 §11.2.4.2): an RSA key's scheme.
    TpmtRsaScheme, "TPM 2.0 Part 2 §11.2.4.2", fault = Value,
    hashed = [RSASSA, RSAPSS, OAEP], plain = [RSAES]
}

scheme! {
    /// `TPMT_RSA_DECRYPT` (TPM 2.0 Part 2 §11.2.4.4): the padding a command
    /// asks an RSA decryption to remove (`TPM_ALG_NULL`: the key's own).
    TpmtRsaDecrypt, "TPM 2.0 Part 2 §11.2.4.4", fault = Value,
    hashed = [OAEP], plain = [RSAES], hashes = check_oaep_hash
}

scheme! {
    /// `TPMT_ECC_SCHEME` (TPM 2.0 Part 2 §11.2.5.6): an ECC key's scheme.
    TpmtEccScheme, "TPM 2.0 Part 2 §11.2.5.6", fault = Scheme,
    hashed = [ECDSA, ECDH, ECSCHNORR, ECMQV, SM2], plain = []
}

scheme! {
    /// `TPMT_KDF_SCHEME` (TPM 2.0 Part 2 §11.2.3.3): an ECC key's KDF.
    TpmtKdfScheme, "TPM 2.0 Part 2 §11.2.3.3", fault = Kdf,
    hashed = [MGF1, KDF1_SP800_56A, KDF2, KDF1_SP800_108], plain = []
}

scheme! {
    /// `TPMT_KEYEDHASH_SCHEME` (TPM 2.0 Part 2 §11.1.23): a keyed-hash
    /// object's scheme. This TPM implements HMAC; XOR (an encryption scheme
    /// with a KDF) is refused as a value it does not take.
    TpmtKeyedHashScheme, "TPM 2.0 Part 2 §11.1.23", fault = Value,
    hashed = [HMAC], plain = []
}

scheme! {
    /// `TPMT_SIG_SCHEME` (TPM 2.0 Part 2 §11.2.1.5): the scheme a command
    /// asks a signing key to use (`TPM_ALG_NULL`: the key's own).
    TpmtSigScheme, "TPM 2.0 Part 2 §11.2.1.5", fault = Scheme,
    hashed = [RSASSA, RSAPSS, ECDSA, ECSCHNORR, SM2, HMAC], plain = []
}

// ---- TPMT_SYM_DEF_OBJECT ----------------------------------------------------

/// `TPMT_SYM_DEF_OBJECT` (TPM 2.0 Part 2 §11.1.7): the symmetric algorithm a
/// storage key uses to protect its children (`TPM_ALG_NULL` for other keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmtSymDefObject {
    /// `TPM_ALG_AES` or `TPM_ALG_NULL`.
    pub algorithm: TpmAlgId,
    /// Key size in bits (0 when `algorithm` is NULL).
    pub key_bits: u16,
    /// Block cipher mode (`TPM_ALG_NULL` when `algorithm` is NULL).
    pub mode: TpmAlgId,
}

impl TpmtSymDefObject {
    /// No symmetric algorithm.
    pub const NULL: TpmtSymDefObject = TpmtSymDefObject {
        algorithm: TpmAlgId::NULL,
        key_bits: 0,
        mode: TpmAlgId::NULL,
    };

    /// AES-128 in CFB mode, the storage-key default of the TCG profiles.
    pub const AES_128_CFB: TpmtSymDefObject = TpmtSymDefObject {
        algorithm: TpmAlgId::AES,
        key_bits: 128,
        mode: TpmAlgId::CFB,
    };

    /// Whether this is `TPM_ALG_NULL`.
    pub fn is_null(&self) -> bool {
        self.algorithm == TpmAlgId::NULL
    }
}

impl Marshal for TpmtSymDefObject {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.algorithm.marshal(out);
        if !self.is_null() {
            self.key_bits.marshal(out);
            self.mode.marshal(out);
        }
    }
}

impl Unmarshal for TpmtSymDefObject {
    fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
        let algorithm = r.field_checked::<TpmAlgId>(
            "algorithm",
            "symmetric cipher protecting the children (TPM_ALG_NULL: not a storage key)",
            |a| (*a != TpmAlgId::AES && *a != TpmAlgId::NULL).then_some(MalformedKind::Symmetric),
        )?;
        if algorithm == TpmAlgId::NULL {
            return Ok(TpmtSymDefObject::NULL);
        }
        let key_bits = r.field_checked::<u16>("keyBits", "symmetric key size in bits", |b| {
            (*b != 128).then_some(MalformedKind::Value)
        })?;
        let mode = r.field_checked::<TpmAlgId>("mode", "block cipher mode", |m| {
            (!matches!(
                *m,
                TpmAlgId::CFB | TpmAlgId::CTR | TpmAlgId::OFB | TpmAlgId::CBC | TpmAlgId::ECB
            ))
            .then_some(MalformedKind::Mode)
        })?;
        Ok(TpmtSymDefObject {
            algorithm,
            key_bits,
            mode,
        })
    }
}

impl Describe for TpmtSymDefObject {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.1.7";
    fn describe_value(&self) -> String {
        if self.is_null() {
            "TPM_ALG_NULL".to_string()
        } else {
            format!(
                "{}-{} {}",
                self.algorithm.name().unwrap_or("?"),
                self.key_bits,
                self.mode.name().unwrap_or("?")
            )
        }
    }
}

// ---- TPMT_PUBLIC --------------------------------------------------------------

/// The type-specific half of a public area: `parameters`
/// (`TPMU_PUBLIC_PARMS`, Part 2 §12.2.3.7) and `unique`
/// (`TPMU_PUBLIC_ID`, §12.2.3.2), selected by `type`. Keeping them in one enum
/// makes a mismatched pair unrepresentable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PublicKind {
    /// `TPM_ALG_RSA`: `TPMS_RSA_PARMS` and the modulus.
    Rsa {
        /// `parameters.rsaDetail`.
        parameters: TpmsRsaParms,
        /// `unique.rsa`: the public modulus.
        unique: Tpm2bPublicKeyRsa,
    },
    /// `TPM_ALG_ECC`: `TPMS_ECC_PARMS` and the public point.
    Ecc {
        /// `parameters.eccDetail`.
        parameters: TpmsEccParms,
        /// `unique.ecc`: the public point.
        unique: TpmsEccPoint,
    },
    /// `TPM_ALG_KEYEDHASH`: `TPMS_KEYEDHASH_PARMS` (its scheme) and
    /// `unique.keyedHash`, the digest binding the secret to this public
    /// area (TPM 2.0 Part 1 §27.2.3: nameAlg(seedValue ‖ sensitive)).
    KeyedHash {
        /// `parameters.keyedHashDetail.scheme`.
        scheme: TpmtKeyedHashScheme,
        /// `unique.keyedHash`.
        unique: Tpm2bDigest,
    },
}

/// `TPMT_PUBLIC` (TPM 2.0 Part 2 §12.2.4): the public area of an object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmtPublic {
    /// `nameAlg`: the hash that forms the object's Name.
    pub name_alg: TpmAlgId,
    /// `objectAttributes`.
    pub object_attributes: TpmaObject,
    /// `authPolicy`: the policy digest for policy authorization (empty: none).
    pub auth_policy: Tpm2bDigest,
    /// `type`, `parameters` and `unique`.
    pub kind: PublicKind,
}

impl TpmtPublic {
    /// `type`: `TPM_ALG_RSA` or `TPM_ALG_ECC`.
    pub fn type_(&self) -> TpmAlgId {
        match self.kind {
            PublicKind::Rsa { .. } => TpmAlgId::RSA,
            PublicKind::Ecc { .. } => TpmAlgId::ECC,
            PublicKind::KeyedHash { .. } => TpmAlgId::KEYEDHASH,
        }
    }

    /// The object's Name: `nameAlg` ‖ SHA-256(marshalled `TPMT_PUBLIC`)
    /// (TPM 2.0 Part 1 §16, "Names"). This TPM implements only SHA-256 as a
    /// name algorithm.
    pub fn name(&self) -> Tpm2bName {
        let mut name = Vec::with_capacity(34);
        self.name_alg.marshal(&mut name);
        name.extend_from_slice(&Sha256::digest(self.to_bytes()));
        Tpm2bName::new(name).unwrap_or_default()
    }

    /// The RSA public key, for an RSA object.
    pub fn rsa_public_key(&self) -> Result<rsa::RsaPublicKey> {
        match &self.kind {
            PublicKind::Rsa { parameters, unique } => {
                let n = rsa::BigUint::from_bytes_be(unique.as_bytes());
                let e = rsa::BigUint::from(parameters.effective_exponent());
                rsa::RsaPublicKey::new(n, e).map_err(|_| Error::Crypto("invalid RSA public key"))
            }
            _ => Err(Error::Unsupported("not an RSA key")),
        }
    }

    /// The NIST P-256 public key, for an ECC object.
    pub fn ecc_public_key(&self) -> Result<p256::PublicKey> {
        match &self.kind {
            PublicKind::Ecc { parameters, unique } => {
                if parameters.curve_id != TpmEccCurve::NIST_P256 {
                    return Err(Error::Unsupported("not a NIST P-256 key"));
                }
                let x = unique.x.as_bytes();
                let y = unique.y.as_bytes();
                if x.len() != 32 || y.len() != 32 {
                    return Err(Error::Crypto("ECC point coordinates are not 32 bytes"));
                }
                let mut sec1 = Vec::with_capacity(65);
                sec1.push(0x04);
                sec1.extend_from_slice(x);
                sec1.extend_from_slice(y);
                p256::PublicKey::from_sec1_bytes(&sec1)
                    .map_err(|_| Error::Crypto("ECC point is not on NIST P-256"))
            }
            _ => Err(Error::Unsupported("not an ECC key")),
        }
    }

    /// The DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7) of the key.
    pub fn subject_public_key_info_der(&self) -> Result<Vec<u8>> {
        use spki::EncodePublicKey;
        let doc = match &self.kind {
            PublicKind::Rsa { .. } => self.rsa_public_key()?.to_public_key_der(),
            PublicKind::Ecc { .. } => self.ecc_public_key()?.to_public_key_der(),
            PublicKind::KeyedHash { .. } => {
                return Err(Error::Unsupported("a keyed-hash object has no public key"))
            }
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|_| Error::Crypto("SubjectPublicKeyInfo encoding failed"))
    }

    /// Whether the key is a restricted decryption key: a storage parent.
    pub fn is_storage_parent(&self) -> bool {
        let a = self.object_attributes;
        a.contains(TpmaObject::RESTRICTED)
            && a.contains(TpmaObject::DECRYPT)
            && !a.contains(TpmaObject::SIGN)
    }

    /// The key's own signing scheme (`parameters.scheme` as a sig scheme).
    pub(crate) fn sig_scheme(&self) -> TpmtSigScheme {
        match &self.kind {
            PublicKind::Rsa { parameters, .. } => {
                TpmtSigScheme::new(parameters.scheme.scheme, parameters.scheme.hash_alg)
            }
            PublicKind::Ecc { parameters, .. } => {
                TpmtSigScheme::new(parameters.scheme.scheme, parameters.scheme.hash_alg)
            }
            PublicKind::KeyedHash { scheme, .. } => {
                TpmtSigScheme::new(scheme.scheme, scheme.hash_alg)
            }
        }
    }

    /// The symmetric definition of a storage key.
    pub(crate) fn symmetric(&self) -> TpmtSymDefObject {
        match &self.kind {
            PublicKind::Rsa { parameters, .. } => parameters.symmetric,
            PublicKind::Ecc { parameters, .. } => parameters.symmetric,
            PublicKind::KeyedHash { .. } => TpmtSymDefObject::NULL,
        }
    }

    fn summary(&self) -> String {
        let key = match &self.kind {
            PublicKind::Rsa { parameters, .. } => format!("RSA-{}", parameters.key_bits),
            PublicKind::Ecc { parameters, .. } => match parameters.curve_id {
                TpmEccCurve::NIST_P256 => "ECC NIST P-256".to_string(),
                other => format!("ECC curve {other}"),
            },
            PublicKind::KeyedHash { scheme, .. } if scheme.is_null() => "keyed-hash".to_string(),
            PublicKind::KeyedHash { .. } => "keyed-hash (HMAC)".to_string(),
        };
        let a = self.object_attributes;
        let role = if a.contains(TpmaObject::RESTRICTED) && a.contains(TpmaObject::SIGN) {
            "restricted signing key (attestation key)"
        } else if self.is_storage_parent() {
            "restricted decryption key (storage parent)"
        } else if a.contains(TpmaObject::SIGN) && a.contains(TpmaObject::DECRYPT) {
            "signing and decryption key"
        } else if a.contains(TpmaObject::SIGN) {
            "signing key"
        } else if a.contains(TpmaObject::DECRYPT) {
            "decryption key"
        } else {
            "key"
        };
        format!("{key} {role}")
    }
}

impl Marshal for TpmtPublic {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.type_().marshal(out);
        self.name_alg.marshal(out);
        self.object_attributes.marshal(out);
        self.auth_policy.marshal(out);
        match &self.kind {
            PublicKind::Rsa { parameters, unique } => {
                parameters.marshal(out);
                unique.marshal(out);
            }
            PublicKind::Ecc { parameters, unique } => {
                parameters.marshal(out);
                unique.marshal(out);
            }
            PublicKind::KeyedHash { scheme, unique } => {
                scheme.marshal(out);
                unique.marshal(out);
            }
        }
    }
}

impl Unmarshal for TpmtPublic {
    fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
        let type_ =
            r.field_checked::<TpmAlgId>("type", "the key's algorithm (TPMI_ALG_PUBLIC)", |t| {
                (*t != TpmAlgId::RSA && *t != TpmAlgId::ECC && *t != TpmAlgId::KEYEDHASH)
                    .then_some(MalformedKind::Type)
            })?;
        let name_alg = r.field_checked::<TpmAlgId>(
            "nameAlg",
            "hash of this public area that forms the object's Name",
            check_hash,
        )?;
        let object_attributes = r.field::<TpmaObject>(
            "objectAttributes",
            "what the key may do and whether it can leave this TPM",
        )?;
        let auth_policy = r.field::<Tpm2bDigest>(
            "authPolicy",
            "policy digest that can authorize use (empty: no policy)",
        )?;
        let kind = if type_ == TpmAlgId::RSA {
            let parameters = r.field::<TpmsRsaParms>(
                "parameters",
                "RSA parameters (TPMU_PUBLIC_PARMS.rsaDetail)",
            )?;
            let unique = r.field::<Tpm2bPublicKeyRsa>(
                "unique",
                "the RSA public modulus n (TPMU_PUBLIC_ID.rsa)",
            )?;
            PublicKind::Rsa { parameters, unique }
        } else if type_ == TpmAlgId::KEYEDHASH {
            let scheme = r.field::<TpmtKeyedHashScheme>(
                "parameters",
                "keyed-hash parameters: the scheme (TPMU_PUBLIC_PARMS.keyedHashDetail)",
            )?;
            let unique = r.field::<Tpm2bDigest>(
                "unique",
                "digest binding the secret to this public area (TPMU_PUBLIC_ID.keyedHash)",
            )?;
            PublicKind::KeyedHash { scheme, unique }
        } else {
            let parameters = r.field::<TpmsEccParms>(
                "parameters",
                "ECC parameters (TPMU_PUBLIC_PARMS.eccDetail)",
            )?;
            let unique =
                r.field::<TpmsEccPoint>("unique", "the ECC public point (TPMU_PUBLIC_ID.ecc)")?;
            PublicKind::Ecc { parameters, unique }
        };
        Ok(TpmtPublic {
            name_alg,
            object_attributes,
            auth_policy,
            kind,
        })
    }
}

impl Describe for TpmtPublic {
    const SPEC: &'static str = "TPM 2.0 Part 2 §12.2.4";
    fn describe_value(&self) -> String {
        self.summary()
    }
}

// ---- TPMT_SIGNATURE ---------------------------------------------------------

/// `TPMT_SIGNATURE` (TPM 2.0 Part 2 §11.3.4): `sigAlg` then the signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TpmtSignature {
    /// `TPM_ALG_NULL`: no signature (e.g. TPM2_Certify with a NULL key).
    Null,
    /// `TPM_ALG_RSASSA`: RSASSA-PKCS1-v1_5.
    Rsassa(TpmsSignatureRsa),
    /// `TPM_ALG_RSAPSS`: RSASSA-PSS.
    Rsapss(TpmsSignatureRsa),
    /// `TPM_ALG_ECDSA`.
    Ecdsa(TpmsSignatureEcc),
}

impl TpmtSignature {
    /// `sigAlg`.
    pub fn sig_alg(&self) -> TpmAlgId {
        match self {
            TpmtSignature::Null => TpmAlgId::NULL,
            TpmtSignature::Rsassa(_) => TpmAlgId::RSASSA,
            TpmtSignature::Rsapss(_) => TpmAlgId::RSAPSS,
            TpmtSignature::Ecdsa(_) => TpmAlgId::ECDSA,
        }
    }

    /// Verifies this signature over `message` (hashed with the signature's
    /// hash) with the public key of `key`.
    pub fn verify(&self, key: &TpmtPublic, message: &[u8]) -> Result<()> {
        let digest = Sha256::digest(message);
        self.verify_digest(key, &digest)
    }

    /// Verifies this signature over an already computed SHA-256 `digest`.
    pub fn verify_digest(&self, key: &TpmtPublic, digest: &[u8]) -> Result<()> {
        match self {
            TpmtSignature::Rsassa(sig) if sig.hash == TpmAlgId::SHA256 => key
                .rsa_public_key()?
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    digest,
                    sig.sig.as_bytes(),
                )
                .map_err(|_| Error::Crypto("RSASSA signature does not verify")),
            TpmtSignature::Ecdsa(sig) if sig.hash == TpmAlgId::SHA256 => {
                use p256::ecdsa::signature::hazmat::PrehashVerifier;
                let vk = p256::ecdsa::VerifyingKey::from(key.ecc_public_key()?);
                let mut rs = [0u8; 64];
                let (r, s) = (sig.signature_r.as_bytes(), sig.signature_s.as_bytes());
                if r.len() > 32 || s.len() > 32 {
                    return Err(Error::Crypto("ECDSA signature component too long"));
                }
                rs[32 - r.len()..32].copy_from_slice(r);
                rs[64 - s.len()..].copy_from_slice(s);
                let signature = p256::ecdsa::Signature::from_slice(&rs)
                    .map_err(|_| Error::Crypto("ECDSA signature out of range"))?;
                vk.verify_prehash(digest, &signature)
                    .map_err(|_| Error::Crypto("ECDSA signature does not verify"))
            }
            _ => Err(Error::Unsupported(
                "signature scheme or hash not verifiable here",
            )),
        }
    }
}

impl Marshal for TpmtSignature {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.sig_alg().marshal(out);
        match self {
            TpmtSignature::Null => {}
            TpmtSignature::Rsassa(s) | TpmtSignature::Rsapss(s) => s.marshal(out),
            TpmtSignature::Ecdsa(s) => s.marshal(out),
        }
    }
}

impl Unmarshal for TpmtSignature {
    fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
        let alg = r.field_checked::<TpmAlgId>(
            "sigAlg",
            "signature algorithm (selects the union below)",
            |a| {
                (!matches!(
                    *a,
                    TpmAlgId::NULL | TpmAlgId::RSASSA | TpmAlgId::RSAPSS | TpmAlgId::ECDSA
                ))
                .then_some(MalformedKind::Scheme)
            },
        )?;
        Ok(match alg {
            TpmAlgId::RSASSA => TpmtSignature::Rsassa(r.field(
                "signature",
                "RSASSA-PKCS1-v1_5 signature (TPMU_SIGNATURE.rsassa)",
            )?),
            TpmAlgId::RSAPSS => TpmtSignature::Rsapss(
                r.field("signature", "RSASSA-PSS signature (TPMU_SIGNATURE.rsapss)")?,
            ),
            TpmAlgId::ECDSA => TpmtSignature::Ecdsa(
                r.field("signature", "ECDSA signature (TPMU_SIGNATURE.ecdsa)")?,
            ),
            _ => TpmtSignature::Null,
        })
    }
}

impl Describe for TpmtSignature {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.3.4";
    fn describe_value(&self) -> String {
        match self {
            TpmtSignature::Null => "no signature (TPM_ALG_NULL)".to_string(),
            TpmtSignature::Rsassa(s) => format!("RSASSA-PKCS1-v1_5, {} bytes", s.sig.len()),
            TpmtSignature::Rsapss(s) => format!("RSASSA-PSS, {} bytes", s.sig.len()),
            TpmtSignature::Ecdsa(_) => "ECDSA (r, s)".to_string(),
        }
    }
}

// ---- tickets ------------------------------------------------------------------

macro_rules! ticket {
    ($(#[$meta:meta])* $name:ident, $tag:ident, $spec:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub struct $name {
            /// `hierarchy`: whose proof value keyed the HMAC.
            pub hierarchy: TpmHandle,
            /// `digest`: the HMAC (empty for a NULL ticket).
            pub digest: Tpm2bDigest,
        }

        impl $name {
            /// The structure tag, `TPM_ST_*`.
            pub const TAG: TpmSt = TpmSt::$tag;

            /// A NULL ticket: hierarchy `TPM_RH_NULL` and an empty digest.
            pub fn null() -> Self {
                $name { hierarchy: TpmHandle::RH_NULL, digest: Tpm2bDigest::empty() }
            }
        }

        impl Marshal for $name {
            fn marshal(&self, out: &mut Vec<u8>) {
                Self::TAG.marshal(out);
                self.hierarchy.marshal(out);
                self.digest.marshal(out);
            }
        }

        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
                r.field_checked::<TpmSt>("tag", "ticket structure tag", |t| {
                    (*t != TpmSt::$tag).then_some(MalformedKind::Tag)
                })?;
                let hierarchy = r.field_checked::<TpmHandle>(
                    "hierarchy",
                    "hierarchy whose proof value keys the ticket HMAC (TPMI_RH_HIERARCHY+)",
                    |h| (!matches!(
                        *h,
                        TpmHandle::RH_OWNER | TpmHandle::RH_ENDORSEMENT | TpmHandle::RH_PLATFORM | TpmHandle::RH_NULL
                    ))
                    .then_some(MalformedKind::Value),
                )?;
                let digest = r.field::<Tpm2bDigest>("digest", "HMAC proving the TPM produced the ticket")?;
                Ok($name { hierarchy, digest })
            }
        }

        impl Describe for $name {
            const SPEC: &'static str = $spec;
            fn describe_value(&self) -> String {
                if self.digest.is_empty() {
                    format!("NULL ticket ({})", self.hierarchy)
                } else {
                    format!("ticket for {}", self.hierarchy)
                }
            }
        }
    };
}

ticket! {
    /// `TPMT_TK_CREATION` (TPM 2.0 Part 2 §10.7.3): proof that the TPM created
    /// an object with the given creation data.
    TpmtTkCreation, CREATION, "TPM 2.0 Part 2 §10.7.3"
}

ticket! {
    /// `TPMT_TK_HASHCHECK` (TPM 2.0 Part 2 §10.7.6): proof that the TPM hashed
    /// the data behind a digest, and that the data did not begin with
    /// `TPM_GENERATED_VALUE`; a restricted key signs a digest only with one.
    TpmtTkHashcheck, HASHCHECK, "TPM 2.0 Part 2 §10.7.6"
}

// ---- TPMT_SENSITIVE (never leaves the device) ----------------------------------

/// `TPMU_SENSITIVE_COMPOSITE` (TPM 2.0 Part 2 §12.3.2.3): the private key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum SensitiveComposite {
    /// `rsa`: one prime factor (the other follows from the modulus).
    Rsa(Tpm2bPrivateKeyRsa),
    /// `ecc`: the private scalar.
    Ecc(Tpm2bEccParameter),
    /// `bits`: a keyed-hash object's secret (an HMAC key).
    Bits(Tpm2bSensitiveData),
}

/// `TPMT_SENSITIVE` (TPM 2.0 Part 2 §12.3.2.4): an object's secrets. Only
/// ever marshalled to be encrypted into a `TPM2B_PRIVATE`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TpmtSensitive {
    /// `authValue`: the USER authorization value.
    pub auth_value: Tpm2bAuth,
    /// `seedValue`: for a storage key, the seed protecting its children; for
    /// other keys, an obfuscation value.
    pub seed_value: Tpm2bDigest,
    /// `sensitive`.
    pub sensitive: SensitiveComposite,
}

impl fmt::Debug for TpmtSensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TpmtSensitive(..)")
    }
}

impl TpmtSensitive {
    pub(crate) fn sensitive_type(&self) -> TpmAlgId {
        match self.sensitive {
            SensitiveComposite::Rsa(_) => TpmAlgId::RSA,
            SensitiveComposite::Ecc(_) => TpmAlgId::ECC,
            SensitiveComposite::Bits(_) => TpmAlgId::KEYEDHASH,
        }
    }
}

impl Marshal for TpmtSensitive {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.sensitive_type().marshal(out);
        self.auth_value.marshal(out);
        self.seed_value.marshal(out);
        match &self.sensitive {
            SensitiveComposite::Rsa(p) => p.marshal(out),
            SensitiveComposite::Ecc(d) => d.marshal(out),
            SensitiveComposite::Bits(b) => b.marshal(out),
        }
    }
}

impl Unmarshal for TpmtSensitive {
    fn unmarshal(r: &mut Reader<'_>) -> core::result::Result<Self, Malformed> {
        let t = r.field_checked::<TpmAlgId>("sensitiveType", "", |t| {
            (*t != TpmAlgId::RSA && *t != TpmAlgId::ECC && *t != TpmAlgId::KEYEDHASH)
                .then_some(MalformedKind::Type)
        })?;
        let auth_value = r.field::<Tpm2bAuth>("authValue", "")?;
        let seed_value = r.field::<Tpm2bDigest>("seedValue", "")?;
        let sensitive = if t == TpmAlgId::RSA {
            SensitiveComposite::Rsa(r.field("sensitive", "")?)
        } else if t == TpmAlgId::KEYEDHASH {
            SensitiveComposite::Bits(r.field("sensitive", "")?)
        } else {
            SensitiveComposite::Ecc(r.field("sensitive", "")?)
        };
        Ok(TpmtSensitive {
            auth_value,
            seed_value,
            sensitive,
        })
    }
}

impl Describe for TpmtSensitive {
    fn describe_value(&self) -> String {
        "(sensitive)".to_string()
    }
}

/// `TPM2B_SENSITIVE` (TPM 2.0 Part 2 §12.3.2.5): the size-prefixed form that
/// is encrypted inside a `TPM2B_PRIVATE`.
pub(crate) fn marshal_tpm2b_sensitive(s: &TpmtSensitive) -> Vec<u8> {
    let inner = s.to_bytes();
    let mut out = Vec::with_capacity(inner.len() + 2);
    (inner.len() as u16).marshal(&mut out);
    out.extend_from_slice(&inner);
    out
}

/// Parses a decrypted `TPM2B_SENSITIVE`, which must fill `bytes` exactly.
pub(crate) fn unmarshal_tpm2b_sensitive(
    bytes: &[u8],
) -> core::result::Result<TpmtSensitive, Malformed> {
    let mut r = Reader::new(bytes);
    let size = r.u16()?;
    let s = r.sized(usize::from(size), TpmtSensitive::unmarshal)?;
    r.finish()?;
    Ok(s)
}
