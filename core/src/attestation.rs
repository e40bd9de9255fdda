//! What a device registration service checks of a TPM key attestation: the
//! AIK certificate against the attestation CAs it trusts, the TPMS_ATTEST
//! and its signature, and that the attested key is a Windows Hello user key.
//!
//! These are the service's checks: they read only the bytes that arrived
//! with the registration request and the service's own trust anchors, never
//! the device.

mod ca;

use crate::catalog::Actor;
use crate::error::{Error, Result};
use crate::event::{Check, Checks};
pub use ca::{AttestationCa, TCG_KP_AIK_CERTIFICATE};
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, VerifyingKey};
use rsa::RsaPublicKey;
use signature::Verifier;
use spki::DecodePublicKey;
use tpm_emu::{Tpm2bPublic, TpmSt, TpmaObject, TpmsAttest, TpmtPublic, TpmtSignature, Unmarshal};
use x509_cert::certificate::Certificate;
use x509_cert::ext::pkix::ExtendedKeyUsage;

/// The TPMT_PUBLIC inside a TPM2B_PUBLIC.
fn parse_public(tpm2b: &[u8]) -> Result<TpmtPublic> {
    Tpm2bPublic::from_bytes(tpm2b)
        .map(|p| p.0)
        .map_err(|e| Error::malformed("TPM2B_PUBLIC", e.to_string()))
}

/// Checks an AIK certificate against the attestation CAs a service trusts:
/// issued and signed by one of them, marked for AIKs. Returns the AIK's RSA
/// public key (RFC 5280 §6.1, a one-level path).
pub fn verify_aik_certificate(der: &[u8], trusted_cas: &[Vec<u8>]) -> Result<RsaPublicKey> {
    if trusted_cas.is_empty() {
        return Err(Error::invalid(
            "AIK certificate",
            "the service trusts no attestation CA",
        ));
    }
    let mut refusals = Vec::new();
    let issued = trusted_cas
        .iter()
        .map(|ca| verify_ecdsa_issued(der, ca))
        .find_map(|r| r.map_err(|e| refusals.push(e)).ok());
    if issued.is_none() {
        return Err(Error::invalid(
            "AIK certificate",
            format!(
                "no attestation CA the service trusts issued it ({})",
                refusals.join("; ")
            ),
        ));
    }
    let cert = Certificate::from_der(der)
        .map_err(|e| Error::malformed("AIK certificate", e.to_string()))?;
    let eku_ok = cert
        .tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .any(|e| {
            ExtendedKeyUsage::from_der(e.extn_value.as_bytes())
                .is_ok_and(|eku| eku.0.contains(&TCG_KP_AIK_CERTIFICATE))
        });
    if !eku_ok {
        return Err(Error::invalid(
            "AIK certificate",
            "it lacks the extended key usage tcg-kp-AIKCertificate (2.23.133.8.3)",
        ));
    }
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| Error::malformed("AIK certificate", e.to_string()))?;
    RsaPublicKey::from_public_key_der(&spki)
        .map_err(|e| Error::invalid("AIK certificate", format!("the AIK is not an RSA key: {e}")))
}

/// Checks that `der` is signed (ECDSA P-256, SHA-256) by the key of
/// `issuer_der` and names it as issuer.
pub(crate) fn verify_ecdsa_issued(
    der: &[u8],
    issuer_der: &[u8],
) -> std::result::Result<(), String> {
    let cert =
        Certificate::from_der(der).map_err(|e| format!("the certificate does not parse: {e}"))?;
    let issuer = Certificate::from_der(issuer_der)
        .map_err(|e| format!("the issuer certificate does not parse: {e}"))?;
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(format!(
            "issued by {}, not by {}",
            cert.tbs_certificate.issuer, issuer.tbs_certificate.subject
        ));
    }
    let spki = issuer
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| e.to_string())?;
    let key = VerifyingKey::from_public_key_der(&spki)
        .map_err(|e| format!("the issuer key is not P-256: {e}"))?;
    let tbs = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
    let sig_bytes = cert
        .signature
        .as_bytes()
        .ok_or("the signature is not whole bytes")?;
    let sig = DerSignature::from_bytes(sig_bytes)
        .map_err(|e| format!("the signature is not ECDSA: {e}"))?;
    key.verify(&tbs, &sig).map_err(|_| {
        format!(
            "the signature does not verify with the key of {}",
            issuer.tbs_certificate.subject
        )
    })
}

/// The app's and the registration service's rule for a Windows Hello user
/// key: a non-exportable RSA-2048 signing key (TPM 2.0 Part 2 §8.3).
pub fn check_user_key_public(tpm2b: &[u8]) -> std::result::Result<(), String> {
    let public = parse_public(tpm2b).map_err(|e| e.to_string())?;
    let attrs = public.object_attributes;
    let required = [
        (TpmaObject::FIXED_TPM, "fixedTPM"),
        (TpmaObject::FIXED_PARENT, "fixedParent"),
        (TpmaObject::SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
        (TpmaObject::USER_WITH_AUTH, "userWithAuth"),
        (TpmaObject::SIGN, "sign"),
    ];
    let missing: Vec<&str> = required
        .iter()
        .filter(|(bit, _)| !attrs.contains(*bit))
        .map(|(_, name)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "objectAttributes 0x{:08X} lack {}",
            attrs.0,
            missing.join(", ")
        ));
    }
    for (bit, name) in [
        (TpmaObject::RESTRICTED, "restricted"),
        (TpmaObject::DECRYPT, "decrypt"),
    ] {
        if attrs.contains(bit) {
            return Err(format!("objectAttributes 0x{:08X} set {name}", attrs.0));
        }
    }
    let key = public.rsa_public_key().map_err(|e| e.to_string())?;
    use rsa::traits::PublicKeyParts;
    let bits = key.n().bits();
    if bits != 2048 {
        return Err(format!("the key has {bits} bits, not 2048"));
    }
    if key.e() != &rsa::BigUint::from(65_537u32) {
        return Err(format!("the public exponent is {}, not 65537", key.e()));
    }
    Ok(())
}

/// A registration service's checks of a TPM2_Certify attestation: the
/// structure is one a TPM made, the AIK signed it, and it names the key.
/// Stops at the first check that fails.
pub fn verify_certification(
    aik: &RsaPublicKey,
    certify_info: &[u8],
    signature: &[u8],
    key_public: &[u8],
    by: Actor,
) -> Vec<Check> {
    let mut rows = Checks::new(by);
    let attest = TpmsAttest::from_bytes(certify_info).map_err(|e| e.to_string());
    let certify = attest.as_ref().map_err(Clone::clone).and_then(|a| {
        if a.type_() == TpmSt::ATTEST_CERTIFY {
            a.certify_info()
                .cloned()
                .ok_or_else(|| "no certify information".to_string())
        } else {
            Err(format!(
                "type is {:?}, not TPM_ST_ATTEST_CERTIFY",
                a.type_()
            ))
        }
    });
    rows.check("Attestation was made by a TPM", "magic TPM_GENERATED_VALUE (0xFF544347) and type TPM_ST_ATTEST_CERTIFY (0x8017) in the TPMS_ATTEST", "TPM 2.0 Part 2 §10.12.12", certify.as_ref().map(|_| ()).map_err(Clone::clone));
    let Ok(certify) = certify else {
        return rows.into_vec();
    };
    let signed = TpmtSignature::from_bytes(signature)
        .map_err(|e| format!("the TPMT_SIGNATURE does not parse: {e}"))
        .and_then(rsassa_bytes_checked)
        .and_then(|sig| crate::rs256::verify(aik, certify_info, &sig));
    let ok = signed.is_ok();
    rows.check("Attestation signature", "the AIK's RSASSA SHA-256 signature over the TPMS_ATTEST bytes, verified with the public key in the AIK certificate", "TPM 2.0 Part 3 §18.2 (TPM2_Certify)", signed);
    if !ok {
        return rows.into_vec();
    }
    let named = parse_public(key_public)
        .map_err(|e| e.to_string())
        .and_then(|public| {
            let name = public.name();
            if name.as_bytes() == certify.name.as_bytes() {
                Ok(())
            } else {
                Err(format!(
                    "the attestation names {}…, the key's Name is {}…",
                    crate::formats::encoding::hex(
                        &certify.name.as_bytes()[..8.min(certify.name.len())]
                    ),
                    crate::formats::encoding::hex(&name.as_bytes()[..8.min(name.len())])
                ))
            }
        });
    rows.check(
        "Attestation names this key",
        "attested.certify.name against nameAlg ‖ SHA-256 of the key's TPMT_PUBLIC",
        "TPM 2.0 Part 1 §16 (Names), Part 2 §10.12.3",
        named,
    );
    rows.into_vec()
}

fn rsassa_bytes_checked(signature: TpmtSignature) -> std::result::Result<Vec<u8>, String> {
    match signature {
        TpmtSignature::Rsassa(s) if s.hash == tpm_emu::TpmAlgId::SHA256 => {
            Ok(s.sig.as_bytes().to_vec())
        }
        other => Err(format!(
            "the signature is {:?}, not RSASSA with SHA-256",
            other.sig_alg()
        )),
    }
}

/// The extraData (the caller's nonce) of a TPMS_ATTEST.
pub fn attest_extra_data(certify_info: &[u8]) -> std::result::Result<Vec<u8>, String> {
    TpmsAttest::from_bytes(certify_info)
        .map(|a| a.extra_data.as_bytes().to_vec())
        .map_err(|e| format!("the TPMS_ATTEST does not parse: {e}"))
}
