//! Domain joined, on-premises certificate trust: on-premises key trust,
//! then the AD FS registration authority and the enterprise CA.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "onprem-cert",
    title: "Domain joined, on-premises certificate trust",
    deployment: Deployment::OnPremises,
    trust: Trust::Certificate,
    sign_in: SignIn::Federated,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, Kerberos, AdFs, Mfa, Edrs, Ad, Ra, Ca,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::CertificateEnrollment,
        Segment::KerberosSignIn,
    ],
    summary: "As on-premises key trust, then the registration authority checks the request's \
              key against AD, countersigns it and the enterprise CA issues the certificate the \
              PIN then signs in to the domain with.",
    source: "001_9b06d6ff5d75a491.txt",
};
