//! The attestation CA: certifies TPM attestation keys for registration
//! services, standing in for Microsoft's AIK certification service
//! (modelled: the real service runs credential activation against the EK
//! certificate; here it checks that the EK certificate chains to the TPM
//! manufacturer and certifies the AIK). A party of its own: the device
//! holds the AIK certificate it issued, the registration services hold its
//! certificate as a trust anchor.

use super::verify_ecdsa_issued;
use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::seed::Seed;
use der::asn1::BitString;
use der::{Decode, Encode};
use p256::ecdsa::{DerSignature, SigningKey};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::str::FromStr;
use tpm_emu::TpmtPublic;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
};
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// `tcg-kp-AIKCertificate` (TCG Infrastructure WG, EK Credential Profile §3.2.x).
pub const TCG_KP_AIK_CERTIFICATE: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("2.23.133.8.3");
const CA_SUBJECT: &str = "CN=Emulated AIK Certification Service,O=whfb-flow-explorer (modelled)";

fn crypto(what: &'static str) -> impl Fn(der::Error) -> Error {
    move |e| Error::Crypto(format!("{what}: {e}"))
}

/// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
fn time(t: SimTime) -> Result<Time> {
    crate::pki::x509_time(t)
}

/// The CA: a P-256 key derived from the seed and its self-signed certificate.
#[derive(Clone, Debug)]
pub struct AttestationCa {
    key: SigningKey,
    certificate: Vec<u8>,
}

impl AttestationCa {
    pub fn new(seed: &Seed, start: SimTime) -> Result<Self> {
        let key = SigningKey::random(&mut seed.rng("device/attestation-ca"));
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key())
            .map_err(|e| Error::Crypto(format!("attestation CA key: {e}")))?;
        let validity = Validity {
            not_before: time(SimTime(start.0.saturating_sub(5 * 365 * 86_400_000)))?,
            not_after: time(SimTime(start.0.saturating_add(10 * 365 * 86_400_000)))?,
        };
        let subject = Name::from_str(CA_SUBJECT).map_err(crypto("attestation CA name"))?;
        let serial = SerialNumber::new(&[0x01]).map_err(crypto("serial"))?;
        let certificate =
            CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &key)
                .map_err(|e| Error::Crypto(format!("attestation CA certificate: {e}")))?
                .build::<DerSignature>()
                .map_err(|e| Error::Crypto(format!("attestation CA certificate: {e}")))?
                .to_der()
                .map_err(crypto("attestation CA certificate"))?;
        Ok(AttestationCa { key, certificate })
    }

    /// The CA's own certificate (DER).
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// Certifies an AIK, after checking that the TPM's EK certificate chains
    /// to its manufacturer's CA.
    pub fn certify_aik(
        &self,
        aik: &TpmtPublic,
        ek_certificate: &[u8],
        manufacturer_ca: &[u8],
        now: SimTime,
    ) -> Result<Vec<u8>> {
        verify_ecdsa_issued(ek_certificate, manufacturer_ca)
            .map_err(|e| Error::invalid("EK certificate", e))?;
        let aik_spki = SubjectPublicKeyInfoOwned::from_der(
            &aik.subject_public_key_info_der()
                .map_err(Error::tpm("reading the AIK's public key"))?,
        )
        .map_err(crypto("AIK public key"))?;
        let issuer = Name::from_str(CA_SUBJECT).map_err(crypto("attestation CA name"))?;
        let name = aik.name();
        let subject = Name::from_str(&format!(
            "CN=AIK {}",
            crate::formats::encoding::hex(&name.as_bytes()[2..10.min(name.len())])
        ))
        .map_err(crypto("AIK subject"))?;
        let ca_spki = SubjectPublicKeyInfoOwned::from_key(*self.key.verifying_key())
            .map_err(|e| Error::Crypto(format!("attestation CA key: {e}")))?;
        let mut extensions: Vec<Extension> = Vec::new();
        let aki = AuthorityKeyIdentifier::try_from(ca_spki.owned_to_ref())
            .map_err(|e| Error::Crypto(format!("AKI: {e}")))?;
        extensions.push(
            aki.to_extension(&subject, &extensions)
                .map_err(crypto("AKI"))?,
        );
        extensions.push(
            BasicConstraints {
                ca: false,
                path_len_constraint: None,
            }
            .to_extension(&subject, &extensions)
            .map_err(crypto("basicConstraints"))?,
        );
        extensions.push(
            KeyUsage(KeyUsages::DigitalSignature.into())
                .to_extension(&subject, &extensions)
                .map_err(crypto("keyUsage"))?,
        );
        extensions.push(
            ExtendedKeyUsage(vec![TCG_KP_AIK_CERTIFICATE])
                .to_extension(&subject, &extensions)
                .map_err(crypto("extKeyUsage"))?,
        );
        let signature_alg = AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ECDSA_WITH_SHA_256,
            parameters: None,
        };
        let tbs = TbsCertificate {
            version: Version::V3,
            serial_number: SerialNumber::new(&name.as_bytes()[2..18.min(name.len())])
                .map_err(crypto("serial"))?,
            signature: signature_alg.clone(),
            issuer,
            validity: Validity {
                not_before: time(SimTime(now.0.saturating_sub(86_400_000)))?,
                not_after: time(SimTime(now.0.saturating_add(5 * 365 * 86_400_000)))?,
            },
            subject,
            subject_public_key_info: aik_spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let tbs_der = tbs.to_der().map_err(crypto("AIK certificate"))?;
        let sig: DerSignature = signature::Signer::try_sign(&self.key, &tbs_der)
            .map_err(|e| Error::Crypto(format!("AIK certificate signature: {e}")))?;
        Certificate {
            tbs_certificate: tbs,
            signature_algorithm: signature_alg,
            signature: BitString::from_bytes(sig.as_bytes()).map_err(crypto("signature"))?,
        }
        .to_der()
        .map_err(crypto("AIK certificate"))
    }
}

use der::referenced::OwnedToRef;
