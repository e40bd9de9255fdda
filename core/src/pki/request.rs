//! The PKCS#10 certification request (RFC 2986) the client makes with its
//! Windows Hello key, and its verification.
//!
//! ```text
//! CertificationRequest ::= SEQUENCE {
//!      certificationRequestInfo CertificationRequestInfo,
//!      signatureAlgorithm AlgorithmIdentifier{{ SignatureAlgorithms }},
//!      signature          BIT STRING }
//!
//! CertificationRequestInfo ::= SEQUENCE {
//!      version       INTEGER { v1(0) } (v1,...),
//!      subject       Name,
//!      subjectPKInfo SubjectPublicKeyInfo{{ PKInfoAlgorithms }},
//!      attributes    [0] Attributes{{ CRIAttributes }} }
//! ```

use super::certificate::{cn_name, crypto, rsa_key, sha256_with_rsa, signed_part, spki, upn_san};
use super::oid;
use crate::error::{Error, Result};
use der::asn1::{BitString, SetOfVec};
use der::{Decode, Encode};
use rsa::RsaPublicKey;
use x509_cert::attr::Attribute;
use x509_cert::ext::AsExtension;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};

const WHAT: &str = "PKCS#10 request";

/// A PKCS#10 request for `upn`'s key: subject `CN=<upn>`, an extensionRequest
/// (RFC 2985 §5.4.2) asking for the UPN as a subjectAltName otherName, and
/// sha256WithRSAEncryption. `sign` receives the DER of the
/// CertificationRequestInfo and returns the RSASSA-PKCS1-v1_5 / SHA-256
/// signature over it, hashing the bytes itself: in the engine the TPM makes it
/// with the user key. The signature is not checked here, so that a request
/// signed by the wrong key can travel on and meet the verifier's check.
pub fn build_request(
    upn: &str,
    public: &RsaPublicKey,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let subject = cn_name(upn)?;
    let san = upn_san(upn)?
        .to_extension(&subject, &[])
        .map_err(crypto("subjectAltName"))?;
    let extension_request =
        Attribute::try_from(ExtensionReq(vec![san])).map_err(crypto("extensionRequest"))?;
    let info = CertReqInfo {
        version: Version::V1,
        subject,
        public_key: spki(public)?,
        attributes: SetOfVec::try_from(vec![extension_request]).map_err(crypto("attributes"))?,
    };
    let info_der = info.to_der().map_err(crypto("CertificationRequestInfo"))?;
    let signature = sign(&info_der)?;
    let request = CertReq {
        info,
        algorithm: sha256_with_rsa(),
        signature: BitString::from_bytes(&signature).map_err(crypto("signature"))?,
    };
    request.to_der().map_err(crypto("CertificationRequest"))
}

/// A PKCS#10 request with subject `CN=<cn>`, the key `public`, no
/// attributes, and sha256WithRSAEncryption: the device's request at join
/// (MS-DVRJ 3.1.5.1.1.1 asks for RSA-2048 and SHA-256, nothing more).
/// `sign` works as in [`build_request`].
pub fn build_plain_request(
    cn: &str,
    public: &RsaPublicKey,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let info = CertReqInfo {
        version: Version::V1,
        subject: cn_name(cn)?,
        public_key: spki(public)?,
        attributes: SetOfVec::new(),
    };
    let info_der = info.to_der().map_err(crypto("CertificationRequestInfo"))?;
    let signature = sign(&info_der)?;
    CertReq {
        info,
        algorithm: sha256_with_rsa(),
        signature: BitString::from_bytes(&signature).map_err(crypto("signature"))?,
    }
    .to_der()
    .map_err(crypto("CertificationRequest"))
}

/// Reads a PKCS#10 request and verifies its self-signature (RFC 2986 §3:
/// the signature proves the requester holds the private key) over the
/// CertificationRequestInfo bytes exactly as received. Returns the request's
/// RSA key.
pub fn verify_request(der: &[u8]) -> Result<RsaPublicKey> {
    let request = CertReq::from_der(der).map_err(|e| Error::malformed(WHAT, e.to_string()))?;
    if request.algorithm.oid != oid::SHA256_WITH_RSA {
        return Err(Error::invalid(
            WHAT,
            format!(
                "the signature algorithm is {}, not sha256WithRSAEncryption",
                oid::describe(&request.algorithm.oid)
            ),
        ));
    }
    let key = rsa_key(&request.info.public_key).map_err(|e| Error::invalid(WHAT, e))?;
    let info = signed_part(der, WHAT)?;
    let signature = request
        .signature
        .as_bytes()
        .ok_or_else(|| Error::malformed(WHAT, "the signature BIT STRING has unused bits"))?;
    crate::rs256::verify(&key, &info, signature).map_err(|e| {
        Error::invalid(
            WHAT,
            format!(
                "{e} with the key inside the request: it was signed by another key, or changed after signing"
            ),
        )
    })?;
    Ok(key)
}

/// The request in `der`, as edited, signed again by `sign` (which receives
/// the DER of its CertificationRequestInfo, as in [`build_request`]): what an
/// insider holding the requester's key could do with edited bytes. The
/// bytes must still read as a PKCS#10 request.
pub fn resign_request(der: &[u8], sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    let mut request = CertReq::from_der(der).map_err(|e| Error::malformed(WHAT, e.to_string()))?;
    let info_der = request
        .info
        .to_der()
        .map_err(crypto("CertificationRequestInfo"))?;
    let signature = sign(&info_der)?;
    request.algorithm = sha256_with_rsa();
    request.signature = BitString::from_bytes(&signature).map_err(crypto("signature"))?;
    request.to_der().map_err(crypto("CertificationRequest"))
}
