//! Microsoft Entra hybrid joined, key trust, managed: the key is registered in the
//! cloud and reaches on-premises AD with the next directory sync. The run
//! begins with the computer's hybrid join and ends with the user's first
//! sign-in to Entra ID with the PIN.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "hybrid-key-managed",
    title: "Microsoft Entra hybrid joined, key trust, managed",
    deployment: Deployment::Hybrid,
    trust: Trust::Key,
    sign_in: SignIn::Managed,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, Mfa, AzureAd, Adrs, AadConnect, Ad,
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
    summary: "From the computer's hybrid join to the first sign-in: the key is registered in \
              Entra ID, and domain controllers only accept it once Microsoft Entra Connect has \
              copied it into the user's msDS-KeyCredentialLink.",
    source: "001_9b06d6ff5d75a491.txt",
};
