//! The catalog: who takes part in provisioning, and the seven flows.
//!
//! The flows are the ones the Windows Hello for Business provisioning
//! documentation describes (see `../shared/seeds/` and PROTOCOL.md §1). The
//! summaries here are the project's own words. This one table serves the
//! catalog page, the engine and the command line.

use serde::{Deserialize, Serialize};

/// A party on a swimlane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Actor {
    /// The person at the keyboard.
    User,
    /// The provisioning application hosted in the Cloud Experience Host.
    Cxh,
    /// The Azure AD Web Account Manager plug-in, which fetches tokens.
    Wam,
    /// The device's TPM, with its key pre-generation pool.
    Tpm,
    /// A Windows Hello compatible biometric sensor.
    Sensor,
    /// Azure Active Directory, the cloud token issuer.
    AzureAd,
    /// The second-factor service: Azure MFA, an MFA server or a third party.
    Mfa,
    /// The Azure Device Registration Service.
    Adrs,
    /// The on-premises security token service (AD FS).
    AdFs,
    /// The Enterprise Device Registration Service hosted on AD FS.
    Edrs,
    /// The certificate registration authority on the AD FS farm.
    Ra,
    /// The enterprise issuing certificate authority.
    Ca,
    /// Active Directory: domain controllers and the user object.
    Ad,
    /// Azure AD Connect, which synchronises the directories.
    AadConnect,
}

impl Actor {
    /// Every actor, in the order lanes are drawn (left to right).
    pub const ALL: [Actor; 14] = [
        Actor::User,
        Actor::Sensor,
        Actor::Tpm,
        Actor::Cxh,
        Actor::Wam,
        Actor::AdFs,
        Actor::Mfa,
        Actor::AzureAd,
        Actor::Adrs,
        Actor::AadConnect,
        Actor::Edrs,
        Actor::Ad,
        Actor::Ra,
        Actor::Ca,
    ];

    /// The lane label.
    pub fn name(self) -> &'static str {
        match self {
            Actor::User => "User",
            Actor::Cxh => "Provisioning app (CXH)",
            Actor::Wam => "Web Account Manager",
            Actor::Tpm => "TPM",
            Actor::Sensor => "Biometric sensor",
            Actor::AzureAd => "Azure AD",
            Actor::Mfa => "MFA service",
            Actor::Adrs => "Azure DRS",
            Actor::AdFs => "AD FS (STS)",
            Actor::Edrs => "Enterprise DRS",
            Actor::Ra => "Registration authority",
            Actor::Ca => "Issuing CA",
            Actor::Ad => "Active Directory",
            Actor::AadConnect => "Azure AD Connect",
        }
    }

    /// A short, stable identifier for URLs, file names and test ids.
    pub fn slug(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Cxh => "cxh",
            Actor::Wam => "wam",
            Actor::Tpm => "tpm",
            Actor::Sensor => "sensor",
            Actor::AzureAd => "azure-ad",
            Actor::Mfa => "mfa",
            Actor::Adrs => "adrs",
            Actor::AdFs => "adfs",
            Actor::Edrs => "edrs",
            Actor::Ra => "ra",
            Actor::Ca => "ca",
            Actor::Ad => "ad",
            Actor::AadConnect => "aad-connect",
        }
    }

    /// Where the actor runs.
    pub fn place(self) -> Place {
        match self {
            Actor::User => Place::Person,
            Actor::Cxh | Actor::Wam | Actor::Tpm | Actor::Sensor => Place::Device,
            Actor::AzureAd | Actor::Mfa | Actor::Adrs => Place::Cloud,
            Actor::AdFs | Actor::Edrs | Actor::Ra | Actor::Ca | Actor::Ad | Actor::AadConnect => {
                Place::OnPremises
            }
        }
    }
}

/// Where an actor lives: groups the lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Place {
    Person,
    Device,
    Cloud,
    OnPremises,
}

/// How the device is joined, and so where the user's key is registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Deployment {
    /// Azure AD joined: the cloud is the only directory.
    Cloud,
    /// Hybrid Azure AD joined: on-premises AD synchronised with Azure AD.
    Hybrid,
    /// Domain joined, with AD FS as the identity provider.
    OnPremises,
}

impl Deployment {
    pub const ALL: [Deployment; 3] = [
        Deployment::Cloud,
        Deployment::Hybrid,
        Deployment::OnPremises,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Deployment::Cloud => "Cloud",
            Deployment::Hybrid => "Hybrid",
            Deployment::OnPremises => "On-premises",
        }
    }

    pub fn join(self) -> &'static str {
        match self {
            Deployment::Cloud => "Azure AD joined",
            Deployment::Hybrid => "Hybrid Azure AD joined",
            Deployment::OnPremises => "Domain joined",
        }
    }
}

/// How domain controllers come to trust the user's credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Trust {
    /// The registered public key itself is trusted.
    Key,
    /// A certificate issued for the key is trusted.
    Certificate,
}

impl Trust {
    pub fn name(self) -> &'static str {
        match self {
            Trust::Key => "Key trust",
            Trust::Certificate => "Certificate trust",
        }
    }
}

/// Who authenticates the user when a token is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignIn {
    /// Azure AD checks the credentials itself.
    Managed,
    /// An on-premises STS (AD FS) authenticates the user.
    Federated,
}

impl SignIn {
    pub fn name(self) -> &'static str {
        match self {
            SignIn::Managed => "Managed",
            SignIn::Federated => "Federated",
        }
    }
}

/// A phase of provisioning, lettered as in the documentation's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    A,
    B,
    C,
    D,
    E,
    F,
    G,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::A,
        Phase::B,
        Phase::C,
        Phase::D,
        Phase::E,
        Phase::F,
        Phase::G,
    ];

    pub fn letter(self) -> char {
        match self {
            Phase::A => 'A',
            Phase::B => 'B',
            Phase::C => 'C',
            Phase::D => 'D',
            Phase::E => 'E',
            Phase::F => 'F',
            Phase::G => 'G',
        }
    }

    pub fn from_letter(c: char) -> Option<Phase> {
        Phase::ALL
            .into_iter()
            .find(|p| p.letter() == c.to_ascii_uppercase())
    }
}

/// One of the seven provisioning flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FlowId {
    CloudManaged,
    CloudFederated,
    HybridKeyManaged,
    HybridCertAsync,
    HybridCertSyncFederated,
    OnPremKey,
    OnPremCert,
}

impl FlowId {
    pub const ALL: [FlowId; 7] = [
        FlowId::CloudManaged,
        FlowId::CloudFederated,
        FlowId::HybridKeyManaged,
        FlowId::HybridCertAsync,
        FlowId::HybridCertSyncFederated,
        FlowId::OnPremKey,
        FlowId::OnPremCert,
    ];

    /// The identifier used in URLs and on the command line.
    pub fn slug(self) -> &'static str {
        match self {
            FlowId::CloudManaged => "aadj-managed",
            FlowId::CloudFederated => "aadj-federated",
            FlowId::HybridKeyManaged => "hybrid-key-managed",
            FlowId::HybridCertAsync => "hybrid-cert-async",
            FlowId::HybridCertSyncFederated => "hybrid-cert-sync",
            FlowId::OnPremKey => "onprem-key",
            FlowId::OnPremCert => "onprem-cert",
        }
    }

    /// Looks a flow up by its slug.
    pub fn from_slug(slug: &str) -> Option<FlowId> {
        FlowId::ALL.into_iter().find(|f| f.slug() == slug)
    }

    /// The catalog entry.
    pub fn info(self) -> &'static FlowInfo {
        &FLOWS[self as usize]
    }
}

/// What the catalog says about a flow.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct FlowInfo {
    pub id: FlowId,
    pub title: &'static str,
    pub deployment: Deployment,
    pub trust: Trust,
    pub sign_in: SignIn,
    /// The phases, in order.
    pub phases: &'static [Phase],
    /// One line, in the project's own words.
    pub summary: &'static str,
    /// The actors drawn as lanes, left to right.
    pub actors: &'static [Actor],
    /// Which documentation page the flow comes from (file in `shared/seeds`).
    pub source: &'static str,
}

const A_C: &[Phase] = &[Phase::A, Phase::B, Phase::C];
const A_D: &[Phase] = &[Phase::A, Phase::B, Phase::C, Phase::D];
const A_G: &[Phase] = &Phase::ALL;

/// The seven flows, indexed by `FlowId as usize`.
pub static FLOWS: [FlowInfo; 7] = [
    FlowInfo {
        id: FlowId::CloudManaged,
        title: "Azure AD joined, managed",
        deployment: Deployment::Cloud,
        trust: Trust::Key,
        sign_in: SignIn::Managed,
        phases: A_C,
        summary: "Azure AD authenticates the user and runs MFA itself, then the device \
                  registers the new TPM-held public key with the cloud registration service.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::Mfa,
            Actor::AzureAd,
            Actor::Adrs,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
    FlowInfo {
        id: FlowId::CloudFederated,
        title: "Azure AD joined, federated",
        deployment: Deployment::Cloud,
        trust: Trust::Key,
        sign_in: SignIn::Federated,
        phases: A_C,
        summary: "AD FS authenticates the user and vouches for the MFA in an enterprise \
                  token, which Azure AD trades for a registration token before the key is registered.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::AdFs,
            Actor::Mfa,
            Actor::AzureAd,
            Actor::Adrs,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
    FlowInfo {
        id: FlowId::HybridKeyManaged,
        title: "Hybrid Azure AD joined, key trust, managed",
        deployment: Deployment::Hybrid,
        trust: Trust::Key,
        sign_in: SignIn::Managed,
        phases: A_D,
        summary: "The key is registered in Azure AD, and domain controllers only accept it \
                  once Azure AD Connect has copied it into the user's msDS-KeyCredentialLink.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::Mfa,
            Actor::AzureAd,
            Actor::Adrs,
            Actor::AadConnect,
            Actor::Ad,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
    FlowInfo {
        id: FlowId::HybridCertAsync,
        title: "Hybrid Azure AD joined, certificate trust (before KB4088889)",
        deployment: Deployment::Hybrid,
        trust: Trust::Certificate,
        sign_in: SignIn::Federated,
        phases: A_G,
        summary: "The older hybrid certificate flow: enrollment cannot start until the next \
                  directory sync has brought the registered key into on-premises AD.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::AdFs,
            Actor::Mfa,
            Actor::AzureAd,
            Actor::Adrs,
            Actor::AadConnect,
            Actor::Ad,
            Actor::Ra,
            Actor::Ca,
        ],
        source: "000_519e039b82969a10.txt, 004_71b17fa19346ff7e.txt",
    },
    FlowInfo {
        id: FlowId::HybridCertSyncFederated,
        title: "Hybrid Azure AD joined, synchronous certificate trust, federated",
        deployment: Deployment::Hybrid,
        trust: Trust::Certificate,
        sign_in: SignIn::Federated,
        phases: A_G,
        summary: "Key registration also returns a signed key receipt, so the AD FS registration \
                  authority can have a sign-in certificate issued at once, without waiting for sync.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::AdFs,
            Actor::Mfa,
            Actor::AzureAd,
            Actor::Adrs,
            Actor::Ad,
            Actor::Ra,
            Actor::Ca,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
    FlowInfo {
        id: FlowId::OnPremKey,
        title: "Domain joined, on-premises key trust",
        deployment: Deployment::OnPremises,
        trust: Trust::Key,
        sign_in: SignIn::Federated,
        phases: A_C,
        summary: "No cloud at all: AD FS issues the registration token after MFA and its \
                  enterprise registration service writes the key straight into Active Directory.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::AdFs,
            Actor::Mfa,
            Actor::Edrs,
            Actor::Ad,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
    FlowInfo {
        id: FlowId::OnPremCert,
        title: "Domain joined, on-premises certificate trust",
        deployment: Deployment::OnPremises,
        trust: Trust::Certificate,
        sign_in: SignIn::Federated,
        phases: A_G,
        summary: "As on-premises key trust, then the registration authority checks the request's \
                  key against AD, countersigns it and the enterprise CA issues a certificate.",
        actors: &[
            Actor::User,
            Actor::Sensor,
            Actor::Tpm,
            Actor::Cxh,
            Actor::Wam,
            Actor::AdFs,
            Actor::Mfa,
            Actor::Edrs,
            Actor::Ad,
            Actor::Ra,
            Actor::Ca,
        ],
        source: "001_9b06d6ff5d75a491.txt",
    },
];

/// The phase letters of a flow as the catalog prints them: `A–C`, `A–G`.
pub fn phase_span(phases: &[Phase]) -> String {
    match (phases.first(), phases.last()) {
        (Some(first), Some(last)) if first != last => {
            format!("{}–{}", first.letter(), last.letter())
        }
        (Some(only), _) => only.letter().to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_are_indexed_by_their_id() {
        for (i, flow) in FLOWS.iter().enumerate() {
            assert_eq!(flow.id as usize, i, "{}", flow.title);
            assert_eq!(flow.id.info().title, flow.title);
        }
    }

    #[test]
    fn seven_flows_cover_every_deployment() {
        assert_eq!(FLOWS.len(), 7);
        for deployment in Deployment::ALL {
            assert!(
                FLOWS.iter().any(|f| f.deployment == deployment),
                "{deployment:?}"
            );
        }
    }

    #[test]
    fn slugs_round_trip_and_are_unique() {
        for id in FlowId::ALL {
            assert_eq!(FlowId::from_slug(id.slug()), Some(id));
        }
        assert_eq!(FlowId::from_slug("no-such-flow"), None);
    }

    #[test]
    fn phase_spans_read_as_in_the_documentation() {
        assert_eq!(phase_span(FlowId::CloudManaged.info().phases), "A–C");
        assert_eq!(phase_span(FlowId::HybridKeyManaged.info().phases), "A–D");
        assert_eq!(phase_span(FlowId::OnPremCert.info().phases), "A–G");
    }

    #[test]
    fn certificate_flows_involve_the_pki_and_key_flows_do_not() {
        for flow in &FLOWS {
            let has_ca = flow.actors.contains(&Actor::Ca);
            assert_eq!(has_ca, flow.trust == Trust::Certificate, "{}", flow.title);
        }
    }

    #[test]
    fn lanes_follow_the_global_lane_order() {
        for flow in &FLOWS {
            let positions: Vec<usize> = flow
                .actors
                .iter()
                .map(|a| Actor::ALL.iter().position(|b| a == b).unwrap_or(usize::MAX))
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", flow.title);
        }
    }
}
