//! Microsoft Entra hybrid joined, key trust, federated. The provisioning page
//! (seed 001) lists federated key trust among the supported configurations
//! its diagrams leave out. Built from the shared segments: phase A goes
//! through AD FS as in the other federated flows, and the rest is hybrid key
//! trust, the key reaching on-premises AD with the directory sync.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "hybrid-key-federated",
    title: "Microsoft Entra hybrid joined, key trust, federated",
    deployment: Deployment::Hybrid,
    trust: Trust::Key,
    sign_in: SignIn::Federated,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, AdFs, Mfa, AzureAd, Adrs, AadConnect, Ad,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::KeySync,
        Segment::SignIn,
    ],
    summary: "AD FS signs the user in and vouches for the MFA; the key registered in Entra ID \
              is only accepted on premises after Microsoft Entra Connect has written it to AD.",
    source: "001_9b06d6ff5d75a491.txt (named as supported, not drawn)",
};
