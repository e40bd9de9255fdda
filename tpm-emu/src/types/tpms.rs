//! Structures, `TPMS_*` (TPM 2.0 Part 2 §10–§13, §15).

use serde::{Deserialize, Serialize};

use crate::error::{Malformed, MalformedKind};
use crate::marshal::{Describe, Marshal, Reader, Unmarshal};
use crate::types::tpmt::check_hash;
use crate::types::{
    HandleType, Tpm2bAuth, Tpm2bData, Tpm2bDigest, Tpm2bEccParameter, Tpm2bName, Tpm2bNonce,
    Tpm2bPublicKeyRsa, Tpm2bSensitiveData, TpmAlgId, TpmCap, TpmEccCurve, TpmHandle, TpmPt, TpmSt,
    TpmaLocality, TpmaNv, TpmaSession, TpmlPcrSelection, TpmlTaggedTpmProperty, TpmtEccScheme,
    TpmtKdfScheme, TpmtRsaScheme, TpmtSymDefObject, TPM_GENERATED_VALUE,
};

/// `TPMI_YES_NO` (TPM 2.0 Part 2 §9.2): a byte that must be 0 or 1.
impl Marshal for bool {
    fn marshal(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl Unmarshal for bool {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let start = r.position();
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Malformed {
                offset: start,
                ..r.error(MalformedKind::Value)
            }),
        }
    }
}

impl Describe for bool {
    const SPEC: &'static str = "TPM 2.0 Part 2 §9.2";
    fn describe_value(&self) -> String {
        if *self { "YES (1)" } else { "NO (0)" }.to_string()
    }
}

// ---- key parameters -------------------------------------------------------------

/// `TPMS_RSA_PARMS` (TPM 2.0 Part 2 §12.2.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsRsaParms {
    /// `symmetric`: for a storage key, how children are protected.
    pub symmetric: TpmtSymDefObject,
    /// `scheme`.
    pub scheme: TpmtRsaScheme,
    /// `keyBits` (`TPMI_RSA_KEY_BITS`): 2048 on this TPM.
    pub key_bits: u16,
    /// `exponent`: 0 means the default, 65537 (2^16 + 1).
    pub exponent: u32,
}

impl TpmsRsaParms {
    /// The public exponent, with 0 read as 65537.
    pub fn effective_exponent(&self) -> u32 {
        if self.exponent == 0 {
            65537
        } else {
            self.exponent
        }
    }
}

impl Marshal for TpmsRsaParms {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.symmetric.marshal(out);
        self.scheme.marshal(out);
        self.key_bits.marshal(out);
        self.exponent.marshal(out);
    }
}

impl Unmarshal for TpmsRsaParms {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsRsaParms {
            symmetric: r.field("symmetric", "cipher protecting children, for a storage key")?,
            scheme: r.field("scheme", "signing or encryption scheme the key is bound to")?,
            key_bits: r.field_checked(
                "keyBits",
                "modulus size in bits (TPMI_RSA_KEY_BITS)",
                |b: &u16| (*b != 2048).then_some(MalformedKind::Value),
            )?,
            exponent: r.field("exponent", "public exponent; 0 means the default 65537")?,
        })
    }
}

impl Describe for TpmsRsaParms {
    const SPEC: &'static str = "TPM 2.0 Part 2 §12.2.3.5";
    fn describe_value(&self) -> String {
        format!(
            "RSA-{}, e = {}, {}",
            self.key_bits,
            self.effective_exponent(),
            self.scheme.describe_value()
        )
    }
}

/// `TPMS_ECC_PARMS` (TPM 2.0 Part 2 §12.2.3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsEccParms {
    /// `symmetric`: for a storage key, how children are protected.
    pub symmetric: TpmtSymDefObject,
    /// `scheme`.
    pub scheme: TpmtEccScheme,
    /// `curveID`.
    pub curve_id: TpmEccCurve,
    /// `kdf`.
    pub kdf: TpmtKdfScheme,
}

impl Marshal for TpmsEccParms {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.symmetric.marshal(out);
        self.scheme.marshal(out);
        self.curve_id.marshal(out);
        self.kdf.marshal(out);
    }
}

impl Unmarshal for TpmsEccParms {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsEccParms {
            symmetric: r.field("symmetric", "cipher protecting children, for a storage key")?,
            scheme: r.field(
                "scheme",
                "signing or key-exchange scheme the key is bound to",
            )?,
            curve_id: r.field_checked("curveID", "the elliptic curve", |c: &TpmEccCurve| {
                (*c != TpmEccCurve::NIST_P256).then_some(MalformedKind::Curve)
            })?,
            kdf: r.field("kdf", "key derivation for ECDH (TPM_ALG_NULL: none)")?,
        })
    }
}

impl Describe for TpmsEccParms {
    const SPEC: &'static str = "TPM 2.0 Part 2 §12.2.3.6";
    fn describe_value(&self) -> String {
        format!(
            "{}, {}",
            self.curve_id.name().unwrap_or("unknown curve"),
            self.scheme.describe_value()
        )
    }
}

/// `TPMS_ECC_POINT` (TPM 2.0 Part 2 §11.2.5.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TpmsEccPoint {
    /// `x`.
    pub x: Tpm2bEccParameter,
    /// `y`.
    pub y: Tpm2bEccParameter,
}

impl Marshal for TpmsEccPoint {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.x.marshal(out);
        self.y.marshal(out);
    }
}

impl Unmarshal for TpmsEccPoint {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsEccPoint {
            x: r.field("x", "x coordinate")?,
            y: r.field("y", "y coordinate")?,
        })
    }
}

impl Describe for TpmsEccPoint {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.2.5.2";
    fn describe_value(&self) -> String {
        format!("point ({} + {} bytes)", self.x.len(), self.y.len())
    }
}

// ---- signatures -------------------------------------------------------------------

/// `TPMS_SIGNATURE_RSA` (TPM 2.0 Part 2 §11.3.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsSignatureRsa {
    /// `hash`: the hash that was signed.
    pub hash: TpmAlgId,
    /// `sig`: the signature, as long as the modulus.
    pub sig: Tpm2bPublicKeyRsa,
}

impl Marshal for TpmsSignatureRsa {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.hash.marshal(out);
        self.sig.marshal(out);
    }
}

impl Unmarshal for TpmsSignatureRsa {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsSignatureRsa {
            hash: r.field_checked("hash", "hash algorithm of the signed digest", check_hash)?,
            sig: r.field("sig", "the signature value, big-endian, modulus length")?,
        })
    }
}

impl Describe for TpmsSignatureRsa {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.3.1";
    fn describe_value(&self) -> String {
        format!(
            "{} bytes over a {} digest",
            self.sig.len(),
            self.hash.name().unwrap_or("?")
        )
    }
}

/// `TPMS_SIGNATURE_ECC` (TPM 2.0 Part 2 §11.3.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsSignatureEcc {
    /// `hash`.
    pub hash: TpmAlgId,
    /// `signatureR`.
    pub signature_r: Tpm2bEccParameter,
    /// `signatureS`.
    pub signature_s: Tpm2bEccParameter,
}

impl Marshal for TpmsSignatureEcc {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.hash.marshal(out);
        self.signature_r.marshal(out);
        self.signature_s.marshal(out);
    }
}

impl Unmarshal for TpmsSignatureEcc {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsSignatureEcc {
            hash: r.field_checked("hash", "hash algorithm of the signed digest", check_hash)?,
            signature_r: r.field("signatureR", "ECDSA r")?,
            signature_s: r.field("signatureS", "ECDSA s")?,
        })
    }
}

impl Describe for TpmsSignatureEcc {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.3.2";
    fn describe_value(&self) -> String {
        format!("ECDSA over a {} digest", self.hash.name().unwrap_or("?"))
    }
}

// ---- attestation --------------------------------------------------------------------

/// `TPMS_CLOCK_INFO` (TPM 2.0 Part 2 §10.11.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TpmsClockInfo {
    /// `clock`: milliseconds the TPM has been powered, persistent across resets.
    pub clock: u64,
    /// `resetCount`: TPM Resets since the last TPM2_Clear.
    pub reset_count: u32,
    /// `restartCount`: TPM Restarts or Resumes since the last Reset.
    pub restart_count: u32,
    /// `safe`: no clock value has been reported that may repeat.
    pub safe: bool,
}

impl Marshal for TpmsClockInfo {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.clock.marshal(out);
        self.reset_count.marshal(out);
        self.restart_count.marshal(out);
        self.safe.marshal(out);
    }
}

impl Unmarshal for TpmsClockInfo {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsClockInfo {
            clock: r.field("clock", "milliseconds of TPM operation; never goes back")?,
            reset_count: r.field(
                "resetCount",
                "TPM Resets since the last TPM2_Clear (obfuscated when the signer is in the owner hierarchy)",
            )?,
            restart_count: r.field(
                "restartCount",
                "restarts since the last Reset (obfuscated when the signer is in the owner hierarchy)",
            )?,
            safe: r.field("safe", "YES: this clock value cannot have been reported before")?,
        })
    }
}

impl Describe for TpmsClockInfo {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.11.1";
    fn describe_value(&self) -> String {
        format!("clock {} ms", self.clock)
    }
}

/// `TPMS_CERTIFY_INFO` (TPM 2.0 Part 2 §10.12.3): what TPM2_Certify attests.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsCertifyInfo {
    /// `name`: the certified object's Name.
    pub name: Tpm2bName,
    /// `qualifiedName`: the certified object's Qualified Name.
    pub qualified_name: Tpm2bName,
}

impl Marshal for TpmsCertifyInfo {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.name.marshal(out);
        self.qualified_name.marshal(out);
    }
}

impl Unmarshal for TpmsCertifyInfo {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsCertifyInfo {
            name: r.field("name", "Name of the certified object: nameAlg ‖ H(its TPMT_PUBLIC)")?,
            qualified_name: r.field(
                "qualifiedName",
                "Qualified Name of the certified object: binds it to its parents up to the hierarchy",
            )?,
        })
    }
}

impl Describe for TpmsCertifyInfo {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.12.3";
    fn describe_value(&self) -> String {
        "certified object's Name and Qualified Name".to_string()
    }
}

/// `TPMS_QUOTE_INFO` (TPM 2.0 Part 2 §10.12.4).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsQuoteInfo {
    /// `pcrSelect`.
    pub pcr_select: TpmlPcrSelection,
    /// `pcrDigest`.
    pub pcr_digest: Tpm2bDigest,
}

impl Marshal for TpmsQuoteInfo {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.pcr_select.marshal(out);
        self.pcr_digest.marshal(out);
    }
}

impl Unmarshal for TpmsQuoteInfo {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsQuoteInfo {
            pcr_select: r.field("pcrSelect", "the PCRs quoted")?,
            pcr_digest: r.field("pcrDigest", "digest of the selected PCR values")?,
        })
    }
}

impl Describe for TpmsQuoteInfo {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.12.4";
    fn describe_value(&self) -> String {
        "PCR selection and digest".to_string()
    }
}

/// `TPM_GENERATED` (TPM 2.0 Part 2 §6.2), the first field of a `TPMS_ATTEST`.
struct Magic(u32);

impl Unmarshal for Magic {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(Magic(r.u32()?))
    }
}

impl Describe for Magic {
    const SPEC: &'static str = "TPM 2.0 Part 2 §6.2";
    fn describe_value(&self) -> String {
        if self.0 == TPM_GENERATED_VALUE {
            format!("0x{:08X} (TPM_GENERATED_VALUE)", self.0)
        } else {
            format!("0x{:08X}", self.0)
        }
    }
}

/// `TPMU_ATTEST` (TPM 2.0 Part 2 §10.12.11), selected by `TPMS_ATTEST.type`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TpmuAttest {
    /// `certify` (`TPM_ST_ATTEST_CERTIFY`).
    Certify(TpmsCertifyInfo),
    /// `quote` (`TPM_ST_ATTEST_QUOTE`).
    Quote(TpmsQuoteInfo),
}

/// `TPMS_ATTEST` (TPM 2.0 Part 2 §10.12.12): the structure an attestation
/// key signs. Its first four bytes are always `TPM_GENERATED_VALUE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsAttest {
    /// `qualifiedSigner`: Qualified Name of the signing key.
    pub qualified_signer: Tpm2bName,
    /// `extraData`: the caller's qualifying data (a nonce).
    pub extra_data: Tpm2bData,
    /// `clockInfo`.
    pub clock_info: TpmsClockInfo,
    /// `firmwareVersion` (obfuscated when the signer is in the owner hierarchy).
    pub firmware_version: u64,
    /// `attested`, with `type` implied by the arm.
    pub attested: TpmuAttest,
}

impl TpmsAttest {
    /// `magic`: always `TPM_GENERATED_VALUE` (0xFF544347).
    pub fn magic(&self) -> u32 {
        TPM_GENERATED_VALUE
    }

    /// `type`: `TPM_ST_ATTEST_CERTIFY` or `TPM_ST_ATTEST_QUOTE`.
    pub fn type_(&self) -> TpmSt {
        match self.attested {
            TpmuAttest::Certify(_) => TpmSt::ATTEST_CERTIFY,
            TpmuAttest::Quote(_) => TpmSt::ATTEST_QUOTE,
        }
    }

    /// The certify information, for a TPM2_Certify attestation.
    pub fn certify_info(&self) -> Option<&TpmsCertifyInfo> {
        match &self.attested {
            TpmuAttest::Certify(c) => Some(c),
            TpmuAttest::Quote(_) => None,
        }
    }
}

impl Marshal for TpmsAttest {
    fn marshal(&self, out: &mut Vec<u8>) {
        TPM_GENERATED_VALUE.marshal(out);
        self.type_().marshal(out);
        self.qualified_signer.marshal(out);
        self.extra_data.marshal(out);
        self.clock_info.marshal(out);
        self.firmware_version.marshal(out);
        match &self.attested {
            TpmuAttest::Certify(c) => c.marshal(out),
            TpmuAttest::Quote(q) => q.marshal(out),
        }
    }
}

impl Unmarshal for TpmsAttest {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.field_checked::<Magic>(
            "magic",
            "0xFF 'TCG': the TPM made this structure; a restricted key signs nothing else that starts so",
            |m| (m.0 != TPM_GENERATED_VALUE).then_some(MalformedKind::Value),
        )?;
        let type_ = r.field_checked::<TpmSt>("type", "what is attested (TPMI_ST_ATTEST)", |t| {
            (*t != TpmSt::ATTEST_CERTIFY && *t != TpmSt::ATTEST_QUOTE)
                .then_some(MalformedKind::Selector)
        })?;
        let qualified_signer = r.field(
            "qualifiedSigner",
            "Qualified Name of the key that signed this",
        )?;
        let extra_data = r.field(
            "extraData",
            "the caller's qualifying data, e.g. a nonce, echoed",
        )?;
        let clock_info = r.field("clockInfo", "the TPM's clock when it signed")?;
        let firmware_version =
            r.field("firmwareVersion", "TPM firmware version (vendor-defined)")?;
        let attested = if type_ == TpmSt::ATTEST_CERTIFY {
            TpmuAttest::Certify(r.field("attested", "TPMU_ATTEST.certify: the certified object")?)
        } else {
            TpmuAttest::Quote(r.field("attested", "TPMU_ATTEST.quote: the quoted PCRs")?)
        };
        Ok(TpmsAttest {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }
}

impl Describe for TpmsAttest {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.12.12";
    fn describe_value(&self) -> String {
        match self.attested {
            TpmuAttest::Certify(_) => {
                "certification of an object (TPM_ST_ATTEST_CERTIFY)".to_string()
            }
            TpmuAttest::Quote(_) => "PCR quote (TPM_ST_ATTEST_QUOTE)".to_string(),
        }
    }
}

// ---- object creation ----------------------------------------------------------------

/// `TPMS_SENSITIVE_CREATE` (TPM 2.0 Part 2 §11.1.15): secrets the caller
/// gives an object being created.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TpmsSensitiveCreate {
    /// `userAuth`: the new object's authValue.
    pub user_auth: Tpm2bAuth,
    /// `data`: secret data (empty for an asymmetric key).
    pub data: Tpm2bSensitiveData,
}

impl core::fmt::Debug for TpmsSensitiveCreate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "TpmsSensitiveCreate {{ user_auth: {} bytes, data: {} bytes }}",
            self.user_auth.len(),
            self.data.len()
        )
    }
}

impl Marshal for TpmsSensitiveCreate {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.user_auth.marshal(out);
        self.data.marshal(out);
    }
}

impl Unmarshal for TpmsSensitiveCreate {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsSensitiveCreate {
            user_auth: r.field(
                "userAuth",
                "the new object's authValue, sent in the clear inside the command",
            )?,
            data: r.field(
                "data",
                "secret data for the object; empty for an asymmetric key",
            )?,
        })
    }
}

impl Describe for TpmsSensitiveCreate {
    const SPEC: &'static str = "TPM 2.0 Part 2 §11.1.15";
    fn describe_value(&self) -> String {
        format!(
            "userAuth {} bytes, data {} bytes",
            self.user_auth.len(),
            self.data.len()
        )
    }
}

/// `TPMS_CREATION_DATA` (TPM 2.0 Part 2 §15.1): the circumstances of an
/// object's creation, which the creation ticket vouches for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsCreationData {
    /// `pcrSelect`.
    pub pcr_select: TpmlPcrSelection,
    /// `pcrDigest`.
    pub pcr_digest: Tpm2bDigest,
    /// `locality`.
    pub locality: TpmaLocality,
    /// `parentNameAlg`.
    pub parent_name_alg: TpmAlgId,
    /// `parentName`.
    pub parent_name: Tpm2bName,
    /// `parentQualifiedName`.
    pub parent_qualified_name: Tpm2bName,
    /// `outsideInfo`.
    pub outside_info: Tpm2bData,
}

impl Marshal for TpmsCreationData {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.pcr_select.marshal(out);
        self.pcr_digest.marshal(out);
        self.locality.marshal(out);
        self.parent_name_alg.marshal(out);
        self.parent_name.marshal(out);
        self.parent_qualified_name.marshal(out);
        self.outside_info.marshal(out);
    }
}

impl Unmarshal for TpmsCreationData {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsCreationData {
            pcr_select: r.field("pcrSelect", "PCRs selected at creation")?,
            pcr_digest: r.field("pcrDigest", "digest of those PCRs (empty if none)")?,
            locality: r.field("locality", "locality of the creating command")?,
            parent_name_alg: r.field("parentNameAlg", "name algorithm of the parent")?,
            parent_name: r.field("parentName", "Name of the parent (a handle for a primary)")?,
            parent_qualified_name: r
                .field("parentQualifiedName", "Qualified Name of the parent")?,
            outside_info: r.field("outsideInfo", "caller data recorded with the creation")?,
        })
    }
}

impl Describe for TpmsCreationData {
    const SPEC: &'static str = "TPM 2.0 Part 2 §15.1";
    fn describe_value(&self) -> String {
        "creation circumstances".to_string()
    }
}

// ---- NV -------------------------------------------------------------------------------

/// `TPMS_NV_PUBLIC` (TPM 2.0 Part 2 §13.5): an NV index's public area.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsNvPublic {
    /// `nvIndex`.
    pub nv_index: TpmHandle,
    /// `nameAlg`.
    pub name_alg: TpmAlgId,
    /// `attributes`.
    pub attributes: TpmaNv,
    /// `authPolicy`.
    pub auth_policy: Tpm2bDigest,
    /// `dataSize`.
    pub data_size: u16,
}

impl TpmsNvPublic {
    /// The index's Name: `nameAlg` ‖ SHA-256(marshalled `TPMS_NV_PUBLIC`).
    pub fn name(&self) -> Tpm2bName {
        use sha2::{Digest, Sha256};
        let mut name = Vec::with_capacity(34);
        self.name_alg.marshal(&mut name);
        name.extend_from_slice(&Sha256::digest(self.to_bytes()));
        Tpm2bName::new(name).unwrap_or_default()
    }
}

impl Marshal for TpmsNvPublic {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.nv_index.marshal(out);
        self.name_alg.marshal(out);
        self.attributes.marshal(out);
        self.auth_policy.marshal(out);
        self.data_size.marshal(out);
    }
}

impl Unmarshal for TpmsNvPublic {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsNvPublic {
            nv_index: r.field_checked("nvIndex", "the index's handle", |h: &TpmHandle| {
                (h.handle_type() != HandleType::NvIndex).then_some(MalformedKind::Value)
            })?,
            name_alg: r.field_checked("nameAlg", "hash forming the index's Name", check_hash)?,
            attributes: r.field("attributes", "who may read and write the index")?,
            auth_policy: r.field("authPolicy", "policy digest for the index (empty: none)")?,
            data_size: r.field_checked("dataSize", "size of the data in bytes", |s: &u16| {
                (*s > 2048).then_some(MalformedKind::Size)
            })?,
        })
    }
}

impl Describe for TpmsNvPublic {
    const SPEC: &'static str = "TPM 2.0 Part 2 §13.5";
    fn describe_value(&self) -> String {
        format!(
            "NV index 0x{:08X}, {} bytes",
            self.nv_index.0, self.data_size
        )
    }
}

// ---- PCR selection, properties ---------------------------------------------------------

/// `TPMS_PCR_SELECTION` (TPM 2.0 Part 2 §10.6.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsPcrSelection {
    /// `hash`: the PCR bank.
    pub hash: TpmAlgId,
    /// `pcrSelect`: a bit map, PCR 0 in bit 0 of the first byte.
    pub pcr_select: Vec<u8>,
}

impl Marshal for TpmsPcrSelection {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.hash.marshal(out);
        // Unmarshal bounds the selection to 3 bytes.
        (self.pcr_select.len() as u8).marshal(out);
        out.extend_from_slice(&self.pcr_select);
    }
}

impl Unmarshal for TpmsPcrSelection {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let hash = r.field_checked("hash", "the PCR bank", check_hash)?;
        let size = r.field_checked::<u8>(
            "sizeofSelect",
            "bytes in the bit map (PCR_SELECT_MIN..MAX = 3)",
            |s| (*s != 3).then_some(MalformedKind::Value),
        )?;
        let pcr_select =
            r.bytes_field("pcrSelect", "bit map of selected PCRs", usize::from(size))?;
        Ok(TpmsPcrSelection {
            hash,
            pcr_select: pcr_select.to_vec(),
        })
    }
}

impl Describe for TpmsPcrSelection {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.6.2";
    fn describe_value(&self) -> String {
        let pcrs: Vec<String> = (0..self.pcr_select.len() * 8)
            .filter(|i| self.pcr_select[i / 8] & (1 << (i % 8)) != 0)
            .map(|i| i.to_string())
            .collect();
        format!(
            "{} PCRs [{}]",
            self.hash.name().unwrap_or("?"),
            pcrs.join(", ")
        )
    }
}

/// `TPMS_TAGGED_PROPERTY` (TPM 2.0 Part 2 §10.8.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsTaggedProperty {
    /// `property`.
    pub property: TpmPt,
    /// `value`.
    pub value: u32,
}

impl Marshal for TpmsTaggedProperty {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.property.marshal(out);
        self.value.marshal(out);
    }
}

impl Unmarshal for TpmsTaggedProperty {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsTaggedProperty {
            property: r.field("property", "which property")?,
            value: r.field("value", "its value")?,
        })
    }
}

impl Describe for TpmsTaggedProperty {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.8.3";
    fn describe_value(&self) -> String {
        format!("{} = {}", self.property.name().unwrap_or("?"), self.value)
    }
}

/// `TPMS_CAPABILITY_DATA` (TPM 2.0 Part 2 §10.10.2), for the one capability
/// this TPM reports: `TPM_CAP_TPM_PROPERTIES`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TpmsCapabilityData {
    /// `data.tpmProperties`.
    pub tpm_properties: TpmlTaggedTpmProperty,
}

impl Marshal for TpmsCapabilityData {
    fn marshal(&self, out: &mut Vec<u8>) {
        TpmCap::TPM_PROPERTIES.marshal(out);
        self.tpm_properties.marshal(out);
    }
}

impl Unmarshal for TpmsCapabilityData {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.field_checked::<TpmCap>("capability", "which capability group", |c| {
            (*c != TpmCap::TPM_PROPERTIES).then_some(MalformedKind::Selector)
        })?;
        Ok(TpmsCapabilityData {
            tpm_properties: r.field("data", "TPMU_CAPABILITIES.tpmProperties")?,
        })
    }
}

impl Describe for TpmsCapabilityData {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.10.2";
    fn describe_value(&self) -> String {
        format!("{} TPM properties", self.tpm_properties.0.len())
    }
}

// ---- authorization area ------------------------------------------------------------------

/// `TPMS_AUTH_COMMAND` (TPM 2.0 Part 2 §10.13.2): one session in a
/// command's authorization area.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmsAuthCommand {
    /// `sessionHandle` (`TPM_RS_PW` for a password).
    pub session_handle: TpmHandle,
    /// `nonce` (empty for a password session).
    pub nonce: Tpm2bNonce,
    /// `sessionAttributes`.
    pub session_attributes: TpmaSession,
    /// `hmac`: for a password session, the authValue itself.
    pub hmac: Tpm2bAuth,
}

impl core::fmt::Debug for TpmsAuthCommand {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TpmsAuthCommand")
            .field("session_handle", &self.session_handle)
            .field("session_attributes", &self.session_attributes)
            .field("hmac", &format_args!("{} bytes", self.hmac.len()))
            .finish()
    }
}

impl TpmsAuthCommand {
    /// A password session (`TPM_RS_PW`; TPM 2.0 Part 1, "Password
    /// Authorizations") carrying `auth` in the clear.
    pub fn password(auth: &crate::AuthValue) -> Self {
        TpmsAuthCommand {
            session_handle: TpmHandle::RS_PW,
            nonce: Tpm2bNonce::empty(),
            session_attributes: TpmaSession::CONTINUE_SESSION,
            hmac: Tpm2bAuth::new(auth.as_bytes().to_vec()).unwrap_or_default(),
        }
    }
}

impl Marshal for TpmsAuthCommand {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.session_handle.marshal(out);
        self.nonce.marshal(out);
        self.session_attributes.marshal(out);
        self.hmac.marshal(out);
    }
}

impl Unmarshal for TpmsAuthCommand {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsAuthCommand {
            session_handle: r.field_checked(
                "sessionHandle",
                "TPM_RS_PW: a password session",
                |h: &TpmHandle| {
                    (!(*h == TpmHandle::RS_PW
                        || matches!(
                            h.handle_type(),
                            HandleType::HmacSession | HandleType::PolicySession
                        )))
                    .then_some(MalformedKind::Value)
                },
            )?,
            nonce: r.field("nonce", "caller nonce; empty for a password session")?,
            session_attributes: r.field(
                "sessionAttributes",
                "how the session is used in this command",
            )?,
            hmac: r.field(
                "hmac",
                "for a password session, the authValue itself, in the clear",
            )?,
        })
    }
}

impl Describe for TpmsAuthCommand {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.13.2";
    fn describe_value(&self) -> String {
        if self.session_handle == TpmHandle::RS_PW {
            format!("password session, {}-byte authValue", self.hmac.len())
        } else {
            format!("session 0x{:08X}", self.session_handle.0)
        }
    }
}

/// `TPMS_AUTH_RESPONSE` (TPM 2.0 Part 2 §10.13.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmsAuthResponse {
    /// `nonce`.
    pub nonce: Tpm2bNonce,
    /// `sessionAttributes`.
    pub session_attributes: TpmaSession,
    /// `hmac`.
    pub hmac: Tpm2bAuth,
}

impl TpmsAuthResponse {
    /// The answer to a password session: empty nonce, `continueSession`,
    /// empty HMAC (TPM 2.0 Part 1, "Password Authorizations").
    pub fn password() -> Self {
        TpmsAuthResponse {
            nonce: Tpm2bNonce::empty(),
            session_attributes: TpmaSession::CONTINUE_SESSION,
            hmac: Tpm2bAuth::empty(),
        }
    }
}

impl Marshal for TpmsAuthResponse {
    fn marshal(&self, out: &mut Vec<u8>) {
        self.nonce.marshal(out);
        self.session_attributes.marshal(out);
        self.hmac.marshal(out);
    }
}

impl Unmarshal for TpmsAuthResponse {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        Ok(TpmsAuthResponse {
            nonce: r.field("nonce", "TPM nonce; empty for a password session")?,
            session_attributes: r.field("sessionAttributes", "session state after the command")?,
            hmac: r.field("hmac", "response HMAC; empty for a password session")?,
        })
    }
}

impl Describe for TpmsAuthResponse {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.13.3";
    fn describe_value(&self) -> String {
        "session acknowledgement".to_string()
    }
}
