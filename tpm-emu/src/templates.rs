//! Public-area templates for the keys a platform provisions.

use crate::types::{
    PublicKind, Tpm2bDigest, Tpm2bEccParameter, Tpm2bPublicKeyRsa, TpmAlgId, TpmEccCurve,
    TpmaObject, TpmsEccParms, TpmsEccPoint, TpmsRsaParms, TpmtEccScheme, TpmtKdfScheme, TpmtPublic,
    TpmtRsaScheme, TpmtSymDefObject,
};

/// The TCG's standard EK authPolicy: `PolicySecret(TPM_RH_ENDORSEMENT)` with
/// SHA-256 (TCG EK Credential Profile, "EK Templates"): using the EK needs
/// the endorsement hierarchy's authorization.
pub const EK_AUTH_POLICY_SHA256: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
    0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
];

/// Attributes of a non-duplicable key whose private part the TPM generated.
const FIXED_GENERATED: TpmaObject = TpmaObject(
    TpmaObject::FIXED_TPM.0 | TpmaObject::FIXED_PARENT.0 | TpmaObject::SENSITIVE_DATA_ORIGIN.0,
);

/// The ECC NIST P-256 endorsement key template, "L-2" of the TCG EK
/// Credential Profile (low range): a restricted decryption (storage) key,
/// `fixedTPM | fixedParent | sensitiveDataOrigin | adminWithPolicy |
/// restricted | decrypt` (0x000300B2), the standard EK authPolicy, AES-128-CFB,
/// no scheme, no KDF, and `unique` of two 32-byte zero coordinates.
pub fn ek_ecc_p256() -> TpmtPublic {
    TpmtPublic {
        name_alg: TpmAlgId::SHA256,
        object_attributes: FIXED_GENERATED
            | TpmaObject::ADMIN_WITH_POLICY
            | TpmaObject::RESTRICTED
            | TpmaObject::DECRYPT,
        auth_policy: Tpm2bDigest::new(EK_AUTH_POLICY_SHA256.to_vec()).unwrap_or_default(),
        kind: PublicKind::Ecc {
            parameters: TpmsEccParms {
                symmetric: TpmtSymDefObject::AES_128_CFB,
                scheme: TpmtEccScheme::NULL,
                curve_id: TpmEccCurve::NIST_P256,
                kdf: TpmtKdfScheme::NULL,
            },
            unique: TpmsEccPoint {
                x: Tpm2bEccParameter::new(vec![0; 32]).unwrap_or_default(),
                y: Tpm2bEccParameter::new(vec![0; 32]).unwrap_or_default(),
            },
        },
    }
}

/// An ECC NIST P-256 storage root key template, after the TCG TPM v2.0
/// Provisioning Guidance: `fixedTPM | fixedParent | sensitiveDataOrigin |
/// userWithAuth | noDA | restricted | decrypt` (0x00030472), no policy,
/// AES-128-CFB for its children, empty `unique`.
pub fn srk_ecc_p256() -> TpmtPublic {
    TpmtPublic {
        name_alg: TpmAlgId::SHA256,
        object_attributes: FIXED_GENERATED
            | TpmaObject::USER_WITH_AUTH
            | TpmaObject::NO_DA
            | TpmaObject::RESTRICTED
            | TpmaObject::DECRYPT,
        auth_policy: Tpm2bDigest::empty(),
        kind: PublicKind::Ecc {
            parameters: TpmsEccParms {
                symmetric: TpmtSymDefObject::AES_128_CFB,
                scheme: TpmtEccScheme::NULL,
                curve_id: TpmEccCurve::NIST_P256,
                kdf: TpmtKdfScheme::NULL,
            },
            unique: TpmsEccPoint::default(),
        },
    }
}

fn rsa_2048(attributes: TpmaObject, scheme: TpmtRsaScheme) -> TpmtPublic {
    TpmtPublic {
        name_alg: TpmAlgId::SHA256,
        object_attributes: attributes,
        auth_policy: Tpm2bDigest::empty(),
        kind: PublicKind::Rsa {
            parameters: TpmsRsaParms {
                symmetric: TpmtSymDefObject::NULL,
                scheme,
                key_bits: 2048,
                exponent: 0,
            },
            unique: Tpm2bPublicKeyRsa::empty(),
        },
    }
}

/// An attestation key (AIK) template: a restricted RSA-2048 signing key,
/// RSASSA with SHA-256, `fixedTPM | fixedParent | sensitiveDataOrigin |
/// userWithAuth | restricted | sign` (0x00050072). Being restricted, it only
/// signs structures the TPM made (or digests with a TPM hash ticket).
pub fn aik_rsa_2048() -> TpmtPublic {
    rsa_2048(
        FIXED_GENERATED | TpmaObject::USER_WITH_AUTH | TpmaObject::RESTRICTED | TpmaObject::SIGN,
        TpmtRsaScheme::new(TpmAlgId::RSASSA, TpmAlgId::SHA256),
    )
}

/// A user signing key template: RSA-2048, e = 65537, RSASSA with SHA-256,
/// `fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign`
/// (0x00040072): it cannot leave the TPM and every use needs its authValue.
pub fn user_key_rsa_2048() -> TpmtPublic {
    rsa_2048(
        FIXED_GENERATED | TpmaObject::USER_WITH_AUTH | TpmaObject::SIGN,
        TpmtRsaScheme::new(TpmAlgId::RSASSA, TpmAlgId::SHA256),
    )
}

/// An RSA-2048 decryption key template: e = 65537, no scheme (the caller
/// names RSAES or OAEP at each TPM2_RSA_Decrypt), `fixedTPM | fixedParent |
/// sensitiveDataOrigin | userWithAuth | decrypt` (0x00020072): a key others
/// encrypt to, whose private half stays in the TPM.
pub fn decryption_key_rsa_2048() -> TpmtPublic {
    rsa_2048(
        FIXED_GENERATED | TpmaObject::USER_WITH_AUTH | TpmaObject::DECRYPT,
        TpmtRsaScheme::NULL,
    )
}

/// An ECC NIST P-256 signing key template (ECDSA with SHA-256), with the
/// same attributes as [`user_key_rsa_2048`]; fast to create.
pub fn signing_key_ecc_p256() -> TpmtPublic {
    TpmtPublic {
        name_alg: TpmAlgId::SHA256,
        object_attributes: FIXED_GENERATED | TpmaObject::USER_WITH_AUTH | TpmaObject::SIGN,
        auth_policy: Tpm2bDigest::empty(),
        kind: PublicKind::Ecc {
            parameters: TpmsEccParms {
                symmetric: TpmtSymDefObject::NULL,
                scheme: TpmtEccScheme::new(TpmAlgId::ECDSA, TpmAlgId::SHA256),
                curve_id: TpmEccCurve::NIST_P256,
                kdf: TpmtKdfScheme::NULL,
            },
            unique: TpmsEccPoint::default(),
        },
    }
}

/// A restricted ECC NIST P-256 signing key (an ECC attestation key).
pub fn aik_ecc_p256() -> TpmtPublic {
    let mut t = signing_key_ecc_p256();
    t.object_attributes = t.object_attributes | TpmaObject::RESTRICTED;
    t
}

/// An HMAC key the caller brings into the TPM (a keyed-hash object,
/// TPM 2.0 Part 2 §12.2.3.3 with the HMAC scheme and SHA-256): `fixedTPM |
/// fixedParent | userWithAuth | sign`, sensitiveDataOrigin clear since the
/// secret comes from outside. What a session key is held as once it is in
/// the TPM.
pub fn hmac_key_sha256() -> TpmtPublic {
    TpmtPublic {
        name_alg: TpmAlgId::SHA256,
        object_attributes: TpmaObject::FIXED_TPM
            | TpmaObject::FIXED_PARENT
            | TpmaObject::USER_WITH_AUTH
            | TpmaObject::SIGN,
        auth_policy: Tpm2bDigest::empty(),
        kind: PublicKind::KeyedHash {
            scheme: crate::types::TpmtKeyedHashScheme::new(TpmAlgId::HMAC, TpmAlgId::SHA256),
            unique: Tpm2bDigest::empty(),
        },
    }
}
