//! Microsoft Entra hybrid joined, certificate trust, before KB4088889: enrollment
//! waits for the directory sync to bring the key on premises.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "hybrid-cert-async",
    title: "Microsoft Entra hybrid joined, certificate trust (before KB4088889)",
    deployment: Deployment::Hybrid,
    trust: Trust::Certificate,
    sign_in: SignIn::Federated,
    features: &[],
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
        Segment::SyncBeforeEnrollment,
        Segment::CertificateEnrollment,
        Segment::SignIn,
        Segment::KerberosSignIn,
    ],
    summary: "The older hybrid certificate flow: enrollment cannot start until the next \
              directory sync has brought the registered key into on-premises AD.",
    source: "000_519e039b82969a10.txt, 004_71b17fa19346ff7e.txt",
};
