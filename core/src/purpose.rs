//! What each infrastructure key is for. A leaf: the seed's key vault, the
//! engine and the errors ("this step needs the … key") all name purposes.

use serde::{Deserialize, Serialize};

/// Infrastructure keys, each generated on first use from its own stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum KeyPurpose {
    AzureAdTokenSigning,
    AdFsTokenSigning,
    EnterpriseRootCa,
    /// The enterprise issuing CA (AD CS) under the root, which issues the
    /// enrollment agent's and the users' certificates.
    EnterpriseIssuingCa,
    EnrollmentAgent,
    /// The cloud device registration service's device CA
    /// (MS-Organization-Access), which issues device certificates.
    DeviceCa,
    /// The key of the self-signed certificate a domain-joined computer
    /// publishes on its computer object for the hybrid join (a software
    /// key here: which key storage Windows uses for it is not documented).
    HybridJoinCertificate,
    /// The Enterprise DRS's device CA on AD FS, which issues the device
    /// certificates of an on-premises device registration.
    EnterpriseDeviceCa,
    /// The domain controller's key, certified by the enterprise issuing CA
    /// for KDC Authentication: it signs the KDC's half of PKINIT.
    DomainController,
    /// A key of an attacker's own, which no party trusts: what an edit
    /// "signed by an attacker" uses. Not part of [`KeyPurpose::ALL`], the
    /// keys the flows need.
    Attacker,
}

impl KeyPurpose {
    pub const ALL: [KeyPurpose; 9] = [
        KeyPurpose::AzureAdTokenSigning,
        KeyPurpose::AdFsTokenSigning,
        KeyPurpose::EnterpriseRootCa,
        KeyPurpose::EnterpriseIssuingCa,
        KeyPurpose::EnrollmentAgent,
        KeyPurpose::DeviceCa,
        KeyPurpose::HybridJoinCertificate,
        KeyPurpose::EnterpriseDeviceCa,
        KeyPurpose::DomainController,
    ];

    /// The name of its random stream (`Seed::rng`): never change one, or
    /// every key made from it changes.
    pub(crate) fn label(self) -> &'static str {
        match self {
            KeyPurpose::AzureAdTokenSigning => "azure-ad/token-signing",
            KeyPurpose::AdFsTokenSigning => "adfs/token-signing",
            KeyPurpose::EnterpriseRootCa => "pki/root-ca",
            KeyPurpose::EnterpriseIssuingCa => "pki/issuing-ca",
            KeyPurpose::EnrollmentAgent => "pki/enrollment-agent",
            KeyPurpose::DeviceCa => "azure-drs/device-ca",
            KeyPurpose::HybridJoinCertificate => "device/hybrid-join-certificate",
            KeyPurpose::EnterpriseDeviceCa => "adfs-drs/device-ca",
            KeyPurpose::DomainController => "ad/domain-controller",
            KeyPurpose::Attacker => "attacker/signing-key",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            KeyPurpose::AzureAdTokenSigning => "Entra ID token-signing key (RSA-2048)",
            KeyPurpose::AdFsTokenSigning => "AD FS token-signing key (RSA-2048)",
            KeyPurpose::EnterpriseRootCa => "Enterprise root CA key (RSA-2048)",
            KeyPurpose::EnterpriseIssuingCa => "Enterprise issuing CA key (RSA-2048)",
            KeyPurpose::EnrollmentAgent => "AD FS enrollment agent key (RSA-2048)",
            KeyPurpose::DeviceCa => "device CA key of the Entra DRS (RSA-2048)",
            KeyPurpose::EnterpriseDeviceCa => {
                "device CA key of the Enterprise DRS on AD FS (RSA-2048)"
            }
            KeyPurpose::DomainController => "the domain controller's KDC key (RSA-2048)",
            KeyPurpose::HybridJoinCertificate => {
                "the computer's self-signed certificate key for the hybrid join (RSA-2048)"
            }
            KeyPurpose::Attacker => "an attacker's own key (RSA-2048)",
        }
    }
}
