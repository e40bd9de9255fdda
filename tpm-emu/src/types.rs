//! TPM 2.0 data types, split by prefix family as in tpm-rs and in TPM 2.0
//! Part 2: constants (`TPM_*`), response codes, attributes (`TPMA_*`), sized
//! buffers (`TPM2B_*`), structures (`TPMS_*`), tagged structures and unions
//! (`TPMT_*`, `TPMU_*`) and lists (`TPML_*`).

mod constants;
mod rc;
mod tpm2b;
mod tpma;
mod tpml;
mod tpms;
pub(crate) mod tpmt;

pub use constants::{
    CommandCode, HandleType, TpmAlgId, TpmCap, TpmEccCurve, TpmHandle, TpmPt, TpmSt, TpmSu,
    TPMA_PERMANENT_IN_LOCKOUT, TPM_GENERATED_VALUE,
};
pub use rc::{Location, ResponseCode};
pub(crate) use tpm2b::Tpm2bPrivateKeyRsa;
pub use tpm2b::{
    Tpm2bAttest, Tpm2bAuth, Tpm2bCreationData, Tpm2bData, Tpm2bDigest, Tpm2bEccParameter,
    Tpm2bMaxBuffer, Tpm2bMaxNvBuffer, Tpm2bName, Tpm2bNonce, Tpm2bNvPublic, Tpm2bPrivate,
    Tpm2bPublic, Tpm2bPublicKeyRsa, Tpm2bSensitiveCreate, Tpm2bSensitiveData,
};
pub use tpma::{TpmaLocality, TpmaNv, TpmaObject, TpmaSession};
pub(crate) use tpml::MAX_TPM_PROPERTIES;
pub use tpml::{TpmlPcrSelection, TpmlTaggedTpmProperty};
pub use tpms::{
    TpmsAttest, TpmsAuthCommand, TpmsAuthResponse, TpmsCapabilityData, TpmsCertifyInfo,
    TpmsClockInfo, TpmsCreationData, TpmsEccParms, TpmsEccPoint, TpmsNvPublic, TpmsPcrSelection,
    TpmsQuoteInfo, TpmsRsaParms, TpmsSensitiveCreate, TpmsSignatureEcc, TpmsSignatureRsa,
    TpmsTaggedProperty, TpmuAttest,
};
pub use tpmt::{
    PublicKind, TpmtEccScheme, TpmtKdfScheme, TpmtKeyedHashScheme, TpmtPublic, TpmtRsaDecrypt,
    TpmtRsaScheme, TpmtSigScheme, TpmtSignature, TpmtSymDefObject, TpmtTkCreation, TpmtTkHashcheck,
};
pub(crate) use tpmt::{SensitiveComposite, TpmtSensitive};

#[cfg(test)]
mod tests;
