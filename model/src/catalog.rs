//! The catalog's vocabulary: who takes part (the actors), how a deployment
//! is joined, trusted and signed in to, and the phases of provisioning.
//!
//! The flows themselves are data in [`crate::flows`], one file each (see
//! `../shared/seeds/` and PROTOCOL.md §1 for where they come from).

use serde::{Deserialize, Serialize};

/// A party on a swimlane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Actor {
    /// The person at the keyboard.
    User,
    /// The provisioning application hosted in the Cloud Experience Host.
    Cxh,
    /// The Entra ID Web Account Manager plug-in, which fetches tokens.
    Wam,
    /// The device's join task (the Automatic-Device-Join scheduled task,
    /// which runs `dsregcmd /join` as SYSTEM): it hybrid joins a domain
    /// joined computer to Microsoft Entra ID.
    Dsreg,
    /// The Cloud Authentication Provider's Entra ID plug-in (CloudAP), which
    /// signs the user in to Windows and holds the Primary Refresh Token.
    CloudAp,
    /// Windows' Kerberos client (the Kerberos package in LSA), which signs
    /// the user in to the domain with PKINIT and holds the TGT.
    Kerberos,
    /// The device's TPM, with its key pre-generation pool.
    Tpm,
    /// A Windows Hello compatible biometric sensor.
    Sensor,
    /// Microsoft Entra ID, the cloud token issuer.
    AzureAd,
    /// The second-factor service: Entra MFA, an MFA server or a third party.
    Mfa,
    /// The Entra ID device registration service.
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
    /// Microsoft Entra Connect, which synchronises the directories.
    AadConnect,
}

impl Actor {
    /// Every actor, in the order lanes are drawn (left to right).
    pub const ALL: [Actor; 17] = [
        Actor::User,
        Actor::Sensor,
        Actor::Tpm,
        Actor::Dsreg,
        Actor::Cxh,
        Actor::Wam,
        Actor::CloudAp,
        Actor::Kerberos,
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
            Actor::CloudAp => "CloudAP (sign-in)",
            Actor::Kerberos => "Kerberos (sign-in)",
            Actor::Dsreg => "Join task (dsregcmd)",
            Actor::Tpm => "TPM",
            Actor::Sensor => "Biometric sensor",
            Actor::AzureAd => "Entra ID",
            Actor::Mfa => "MFA service",
            Actor::Adrs => "Entra DRS",
            Actor::AdFs => "AD FS (STS)",
            Actor::Edrs => "Enterprise DRS",
            Actor::Ra => "Registration authority",
            Actor::Ca => "Issuing CA",
            Actor::Ad => "Active Directory",
            Actor::AadConnect => "Microsoft Entra Connect",
        }
    }

    /// The name in a few letters, for a lane head too narrow for
    /// [`Actor::name`] (the full name goes to its tooltip and label).
    pub fn short_name(self) -> &'static str {
        match self {
            Actor::User => "User",
            Actor::Cxh => "CXH",
            Actor::Wam => "WAM",
            Actor::CloudAp => "CloudAP",
            Actor::Kerberos => "Kerberos",
            Actor::Dsreg => "dsreg",
            Actor::Tpm => "TPM",
            Actor::Sensor => "Sensor",
            Actor::AzureAd => "Entra ID",
            Actor::Mfa => "MFA",
            Actor::Adrs => "DRS",
            Actor::AdFs => "AD FS",
            Actor::Edrs => "EDRS",
            Actor::Ra => "RA",
            Actor::Ca => "CA",
            Actor::Ad => "AD",
            Actor::AadConnect => "Connect",
        }
    }

    /// A short, stable identifier for URLs, file names and test ids.
    pub fn slug(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Cxh => "cxh",
            Actor::Wam => "wam",
            Actor::CloudAp => "cloudap",
            Actor::Kerberos => "kerberos",
            Actor::Dsreg => "dsreg",
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
            Actor::Cxh
            | Actor::Wam
            | Actor::CloudAp
            | Actor::Kerberos
            | Actor::Dsreg
            | Actor::Tpm
            | Actor::Sensor => Place::Device,
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
    /// Microsoft Entra joined: the cloud is the only directory.
    Cloud,
    /// Microsoft Entra hybrid joined: on-premises AD synchronised with Entra ID.
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
            Deployment::Cloud => "Microsoft Entra joined",
            Deployment::Hybrid => "Microsoft Entra hybrid joined",
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
    /// Microsoft Entra ID issues a partial Kerberos ticket for the
    /// on-premises realm with the key of an Entra Kerberos server object
    /// that Active Directory also holds; a domain controller exchanges it
    /// for a full one. No certificate, no wait for a sync.
    CloudKerberos,
}

impl Trust {
    pub fn name(self) -> &'static str {
        match self {
            Trust::Key => "Key trust",
            Trust::Certificate => "Certificate trust",
            Trust::CloudKerberos => "Cloud Kerberos trust",
        }
    }
}

/// Who authenticates the user when a token is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignIn {
    /// Entra ID checks the credentials itself.
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

/// A phase of a flow. A to G are provisioning's phases, lettered as in the
/// documentation's tables; R is the device registration that comes before
/// them and S the first sign-in with the new credential after them (the
/// documentation describes both but letters neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    R,
    A,
    B,
    C,
    D,
    E,
    F,
    G,
    S,
}

impl Phase {
    pub const ALL: [Phase; 9] = [
        Phase::R,
        Phase::A,
        Phase::B,
        Phase::C,
        Phase::D,
        Phase::E,
        Phase::F,
        Phase::G,
        Phase::S,
    ];

    pub fn letter(self) -> char {
        match self {
            Phase::R => 'R',
            Phase::A => 'A',
            Phase::B => 'B',
            Phase::C => 'C',
            Phase::D => 'D',
            Phase::E => 'E',
            Phase::F => 'F',
            Phase::G => 'G',
            Phase::S => 'S',
        }
    }

    /// Whether the phase is one of provisioning's (A to G).
    pub fn is_provisioning(self) -> bool {
        !matches!(self, Phase::R | Phase::S)
    }

    pub fn from_letter(c: char) -> Option<Phase> {
        Phase::ALL
            .into_iter()
            .find(|p| p.letter() == c.to_ascii_uppercase())
    }
}

/// A flow's phases as the catalog prints them: provisioning's as a span
/// (`A–C`, `A–G`), with device registration before it and the first
/// sign-in after it where the flow shows them (`R, A–C, S`).
pub fn phase_span(phases: &[Phase]) -> String {
    let provisioning: Vec<Phase> = phases
        .iter()
        .copied()
        .filter(|p| p.is_provisioning())
        .collect();
    let span = match (provisioning.first(), provisioning.last()) {
        (Some(first), Some(last)) if first != last => {
            format!("{}–{}", first.letter(), last.letter())
        }
        (Some(only), _) => only.letter().to_string(),
        _ => String::new(),
    };
    let mut parts = Vec::new();
    if phases.contains(&Phase::R) {
        parts.push("R".to_string());
    }
    if !span.is_empty() {
        parts.push(span);
    }
    if phases.contains(&Phase::S) {
        parts.push("S".to_string());
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_spans_read_as_in_the_documentation() {
        assert_eq!(phase_span(&[Phase::A, Phase::B, Phase::C]), "A–C");
        assert_eq!(phase_span(&Phase::ALL), "R, A–G, S");
        assert_eq!(
            phase_span(&[Phase::R, Phase::A, Phase::B, Phase::C]),
            "R, A–C"
        );
        assert_eq!(
            phase_span(&[Phase::R, Phase::A, Phase::B, Phase::C, Phase::S]),
            "R, A–C, S"
        );
        assert_eq!(phase_span(&[Phase::D]), "D");
        assert_eq!(phase_span(&[]), "");
    }

    #[test]
    fn phase_letters_round_trip() {
        for phase in Phase::ALL {
            assert_eq!(Phase::from_letter(phase.letter()), Some(phase));
            assert_eq!(
                Phase::from_letter(phase.letter().to_ascii_lowercase()),
                Some(phase)
            );
        }
        assert_eq!(Phase::from_letter('Z'), None);
    }
}
