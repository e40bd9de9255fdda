//! Microsoft Entra hybrid joined, synchronous certificate trust, federated: the
//! registration returns a key receipt that lets enrollment proceed at once.

use super::{Feature, Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "hybrid-cert-sync",
    title: "Microsoft Entra hybrid joined, synchronous certificate trust, federated",
    deployment: Deployment::Hybrid,
    trust: Trust::Certificate,
    sign_in: SignIn::Federated,
    features: &[Feature::KeyReceipt],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, Kerberos, AdFs, Mfa, AzureAd, Adrs,
        AadConnect, Ad, Ra, Ca,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::CertificateEnrollment,
        Segment::SignIn,
        Segment::KerberosSignIn,
    ],
    summary: "Key registration also returns a signed key receipt, so the AD FS registration \
              authority can have a sign-in certificate issued at once, without waiting for sync.",
    source: "001_9b06d6ff5d75a491.txt",
};
