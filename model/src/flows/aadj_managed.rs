//! Microsoft Entra joined, managed: Entra ID checks the password and runs MFA
//! itself; the key is registered with the Entra ID device registration service.
//! The run begins with the device's Microsoft Entra join and ends with the
//! user's first sign-in with the PIN.

use super::{Flow, Segment};
use crate::catalog::{Actor::*, Deployment, SignIn, Trust};

pub(super) const FLOW: Flow = Flow {
    slug: "aadj-managed",
    title: "Microsoft Entra joined, managed",
    deployment: Deployment::Cloud,
    trust: Trust::Key,
    sign_in: SignIn::Managed,
    features: &[],
    actors: &[User, Sensor, Tpm, Cxh, Wam, CloudAp, Mfa, AzureAd, Adrs],
    segments: &[
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::SignIn,
    ],
    summary: "From the device's join to the first sign-in with the PIN: Entra ID \
              authenticates the user and runs MFA itself, the device registers the new \
              TPM-held public key with the cloud registration service, and the PIN then \
              brings a Primary Refresh Token.",
    source: "001_9b06d6ff5d75a491.txt",
};
