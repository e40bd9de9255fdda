//! Microsoft Entra joined, federated: AD FS authenticates the user and vouches for
//! the MFA; Entra ID trades its token for the registration service's.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "aadj-federated",
    title: "Microsoft Entra joined, federated",
    deployment: Deployment::Cloud,
    trust: Trust::Key,
    sign_in: SignIn::Federated,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Cxh, Wam, CloudAp, AdFs, Mfa, AzureAd, Adrs, AadConnect, Ad,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::SignIn,
    ],
    summary: "AD FS authenticates the user and vouches for the MFA in an enterprise \
              token, which Entra ID trades for a registration token before the key is registered.",
    source: "001_9b06d6ff5d75a491.txt",
};
