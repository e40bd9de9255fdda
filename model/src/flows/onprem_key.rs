//! Domain joined, on-premises key trust: AD FS and its Enterprise DRS, no
//! cloud at all.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "onprem-key",
    title: "Domain joined, on-premises key trust",
    deployment: Deployment::OnPremises,
    trust: Trust::Key,
    sign_in: SignIn::Federated,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, Kerberos, AdFs, Mfa, Edrs, Ad,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::KerberosSignIn,
    ],
    summary: "No cloud at all: AD FS issues the registration token after MFA and its \
              enterprise registration service writes the key straight into Active Directory, \
              where the domain controller finds it when the PIN signs in with PKINIT.",
    source: "001_9b06d6ff5d75a491.txt",
};
