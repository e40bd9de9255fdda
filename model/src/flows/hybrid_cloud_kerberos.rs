//! Microsoft Entra hybrid joined, cloud Kerberos trust, managed: the key is
//! registered in Entra ID only. At sign-in Entra ID returns, with the
//! Primary Refresh Token, a partial TGT for the on-premises realm, made
//! with the key of the Microsoft Entra Kerberos server object that Active
//! Directory also holds; a domain controller exchanges it for a full TGT.
//! No user certificate, no wait for Microsoft Entra Connect (seed 003's
//! recommended trust model for hybrid deployments).

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "hybrid-cloud-kerberos",
    title: "Microsoft Entra hybrid joined, cloud Kerberos trust, managed",
    deployment: Deployment::Hybrid,
    trust: Trust::CloudKerberos,
    sign_in: SignIn::Managed,
    features: &[],
    actors: &[
        User, Sensor, Tpm, Dsreg, Cxh, Wam, CloudAp, Kerberos, Mfa, AzureAd, Adrs, AadConnect, Ad,
    ],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::SignIn,
        Segment::CloudKerberosSignIn,
    ],
    summary: "From the computer's hybrid join to the first sign-in: the key is registered in \
              Entra ID only, and the PIN's sign-in brings a partial Kerberos ticket from Entra ID \
              that a domain controller exchanges for a full one, with no certificate and no wait \
              for a sync.",
    source: "003_88a0b354500eb015.txt",
};
