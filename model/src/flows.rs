//! The registry of flows: each flow is data in a file of its own under
//! `flows/`, listed once in [`REGISTRY`].
//!
//! A flow is its metadata (slug, title, deployment, trust, sign-in), the
//! [`Feature`]s the engine branches on, its lanes, and the [`Segment`]s its
//! script is made of. The catalog, the guide, the command line, Mermaid,
//! the known answers and the tests iterate [`REGISTRY`]; the engine branches
//! on features and on the flow's [`Topology`](crate::script::Topology),
//! never on which flow it runs. ARCHITECTURE.md ("Adding a flow") walks
//! through adding one.

mod aadj_federated;
mod aadj_managed;
mod hybrid_cert_async;
mod hybrid_cert_sync;
mod hybrid_cloud_kerberos;
mod hybrid_key_federated;
mod hybrid_key_managed;
mod onprem_cert;
mod onprem_key;

use crate::catalog::{Actor, Deployment, SignIn, Trust};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Every flow, in catalog order.
pub static REGISTRY: &[&Flow] = &[
    &aadj_managed::FLOW,
    &aadj_federated::FLOW,
    &hybrid_key_managed::FLOW,
    &hybrid_key_federated::FLOW,
    &hybrid_cloud_kerberos::FLOW,
    &hybrid_cert_async::FLOW,
    &hybrid_cert_sync::FLOW,
    &onprem_key::FLOW,
    &onprem_cert::FLOW,
];

/// A named behaviour of a flow that the engine and the narration branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Feature {
    /// Key registration also returns a signed key receipt, and the
    /// registration authority accepts it for a key AD does not hold yet
    /// (synchronous certificate enrollment, AD FS with KB4088889 or later).
    KeyReceipt,
}

impl Feature {
    /// How the guide and the command line describe it.
    pub fn describe(self) -> &'static str {
        match self {
            Feature::KeyReceipt => "returns a key receipt (synchronous certificate enrollment)",
        }
    }
}

/// A stretch of steps shared by the flows that name it. The engine
/// implements each step once; a segment's form (who issues the token, which
/// registration service) follows from the flow's topology and features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Segment {
    /// Phase R: the device joins the directory before provisioning: the TPM
    /// makes the device key and the transport key, the registration service
    /// issues the device certificate and creates the device object.
    DeviceRegistration,
    /// Phase A: the password, a fresh second factor, and the registration
    /// service's access token (managed, federated or on premises).
    Tokens,
    /// Phase B: biometrics, the PIN and the TPM-held user key.
    Gestures,
    /// Phase C: the key registered with the cloud or the Enterprise DRS.
    Registration,
    /// Hybrid key trust: an on-premises sign-in refused, the directory
    /// sync, and the same sign-in accepted.
    KeySync,
    /// The directory sync that certificate enrollment waits for
    /// (hybrid certificate trust before KB4088889).
    SyncBeforeEnrollment,
    /// Certificate trust: request, registration authority, issuance,
    /// installation (phases D–G).
    CertificateEnrollment,
    /// Phase R, after the join (managed flows): the user signs in to
    /// Windows with the password, which brings the first Primary Refresh
    /// Token; provisioning's token request presents it.
    WindowsSignIn,
    /// Phase S: the first sign-in to Windows with the new credential: a
    /// nonce, the user key's assertion, the device-signed request, and the
    /// Primary Refresh Token with its session key.
    SignIn,
    /// Phase S on a domain: the PIN's sign-in to a domain controller with
    /// PKINIT (key trust or certificate trust), which ends with a TGT.
    KerberosSignIn,
    /// Phase S, cloud Kerberos trust: the partial TGT Entra ID returned
    /// with the PRT goes to a domain controller, which exchanges it for a
    /// full TGT (a TGS exchange).
    CloudKerberosSignIn,
}

impl Segment {
    /// Every segment; its slug is the first half of a step's id.
    pub const ALL: [Segment; 11] = [
        Segment::DeviceRegistration,
        Segment::WindowsSignIn,
        Segment::Tokens,
        Segment::Gestures,
        Segment::Registration,
        Segment::KeySync,
        Segment::SyncBeforeEnrollment,
        Segment::CertificateEnrollment,
        Segment::SignIn,
        Segment::KerberosSignIn,
        Segment::CloudKerberosSignIn,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Segment::DeviceRegistration => "device-registration",
            Segment::Tokens => "tokens",
            Segment::Gestures => "gestures",
            Segment::Registration => "registration",
            Segment::KeySync => "key-sync",
            Segment::SyncBeforeEnrollment => "sync",
            Segment::CertificateEnrollment => "enrollment",
            Segment::WindowsSignIn => "windows-sign-in",
            Segment::SignIn => "sign-in",
            Segment::KerberosSignIn => "kerberos",
            Segment::CloudKerberosSignIn => "cloud-kerberos",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Segment> {
        Segment::ALL.into_iter().find(|s| s.slug() == slug)
    }
}

/// One flow, as data.
#[derive(Debug, PartialEq, Eq)]
pub struct Flow {
    /// The identifier used in URLs and on the command line.
    pub slug: &'static str,
    pub title: &'static str,
    pub deployment: Deployment,
    pub trust: Trust,
    pub sign_in: SignIn,
    pub features: &'static [Feature],
    /// The actors drawn as lanes, left to right.
    pub actors: &'static [Actor],
    /// What the script is made of, in order.
    pub segments: &'static [Segment],
    /// One line, in the project's own words.
    pub summary: &'static str,
    /// Which documentation page the flow comes from (file in `shared/seeds`),
    /// or why none describes it.
    pub source: &'static str,
}

impl Flow {
    pub fn id(&'static self) -> FlowId {
        FlowId(self)
    }

    pub fn has(&self, feature: Feature) -> bool {
        self.features.contains(&feature)
    }

    pub fn has_segment(&self, segment: Segment) -> bool {
        self.segments.contains(&segment)
    }
}

/// A flow of the registry: copied freely, compared and serialised by slug.
#[derive(Clone, Copy)]
pub struct FlowId(&'static Flow);

impl FlowId {
    /// Every flow of the registry, in catalog order.
    pub fn all() -> impl Iterator<Item = FlowId> {
        REGISTRY.iter().map(|f| FlowId(f))
    }

    /// Looks a flow up by its slug.
    pub fn from_slug(slug: &str) -> Option<FlowId> {
        FlowId::all().find(|f| f.slug() == slug)
    }

    pub fn slug(self) -> &'static str {
        self.0.slug
    }

    /// The flow's definition.
    pub fn info(self) -> &'static Flow {
        self.0
    }

    pub fn has(self, feature: Feature) -> bool {
        self.0.has(feature)
    }

    /// Its position in the registry (catalog order).
    fn position(self) -> usize {
        REGISTRY
            .iter()
            .position(|f| f.slug == self.0.slug)
            .unwrap_or(usize::MAX)
    }
}

impl PartialEq for FlowId {
    fn eq(&self, other: &Self) -> bool {
        self.0.slug == other.0.slug
    }
}

impl Eq for FlowId {}

impl std::hash::Hash for FlowId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.slug.hash(state);
    }
}

impl PartialOrd for FlowId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FlowId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.position().cmp(&other.position())
    }
}

impl fmt::Debug for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FlowId({})", self.0.slug)
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.slug)
    }
}

impl Serialize for FlowId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.slug)
    }
}

impl<'de> Deserialize<'de> for FlowId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FlowId, D::Error> {
        let slug = String::deserialize(d)?;
        FlowId::from_slug(&slug)
            .ok_or_else(|| serde::de::Error::custom(format!("there is no flow \"{slug}\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Place;
    use crate::script::{script, Topology};
    use std::collections::BTreeSet;

    #[test]
    fn slugs_are_unique_and_round_trip() {
        let mut seen = BTreeSet::new();
        for flow in FlowId::all() {
            assert!(seen.insert(flow.slug()), "{flow} twice");
            assert_eq!(FlowId::from_slug(flow.slug()), Some(flow));
            let json = serde_json::to_string(&flow).unwrap();
            assert_eq!(serde_json::from_str::<FlowId>(&json).unwrap(), flow);
        }
        assert_eq!(FlowId::from_slug("no-such-flow"), None);
        assert!(serde_json::from_str::<FlowId>("\"no-such-flow\"").is_err());
    }

    #[test]
    fn every_deployment_has_a_flow() {
        for deployment in Deployment::ALL {
            assert!(
                FlowId::all().any(|f| f.info().deployment == deployment),
                "{deployment:?}"
            );
        }
    }

    #[test]
    fn certificate_flows_involve_the_pki_and_key_flows_do_not() {
        for flow in FlowId::all() {
            let info = flow.info();
            let has_ca = info.actors.contains(&Actor::Ca);
            assert_eq!(has_ca, info.trust == Trust::Certificate, "{flow}");
            assert_eq!(
                info.has_segment(Segment::CertificateEnrollment),
                info.trust == Trust::Certificate,
                "{flow}"
            );
        }
    }

    #[test]
    fn lanes_follow_the_global_lane_order_and_each_takes_part() {
        for flow in FlowId::all() {
            let info = flow.info();
            let positions: Vec<usize> = info
                .actors
                .iter()
                .map(|a| Actor::ALL.iter().position(|b| a == b).unwrap_or(usize::MAX))
                .collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{flow}");
            let steps = script(flow).steps;
            for actor in info.actors {
                assert!(
                    steps.iter().any(|s| s.kind.actors().contains(actor)),
                    "{flow}: {actor:?} idle"
                );
            }
            for step in &steps {
                for actor in step.kind.actors() {
                    assert!(
                        info.actors.contains(&actor),
                        "{flow}: {} uses {actor:?}",
                        step.id
                    );
                }
            }
        }
    }

    #[test]
    fn features_fit_the_flow() {
        for flow in FlowId::all() {
            let info = flow.info();
            if info.has(Feature::KeyReceipt) {
                // A receipt comes from the cloud registration service and is
                // read by the registration authority.
                assert_eq!(Topology::of(flow).drs, Actor::Adrs, "{flow}");
                assert!(info.has_segment(Segment::CertificateEnrollment), "{flow}");
            }
            // Cloud-registered keys reach AD only through a sync, unless a
            // receipt vouches for them; on-premises and cloud-only flows
            // have no sync.
            // (A cloud flow may still show AD for the device writeback
            // that AD FS needs; the user's key is not checked there.)
            let key_used_on_premises = info.deployment == Deployment::Hybrid;
            let cloud_key = Topology::of(flow).key_store == Actor::AzureAd;
            // Cloud Kerberos trust needs no key on premises at all.
            let synced = info.has_segment(Segment::KeySync)
                || info.has_segment(Segment::SyncBeforeEnrollment);
            assert_eq!(
                synced,
                key_used_on_premises
                    && cloud_key
                    && !info.has(Feature::KeyReceipt)
                    && info.trust != Trust::CloudKerberos,
                "{flow}"
            );
            // The MFA service may be in the cloud for any deployment;
            // Entra ID takes part in every deployment but on-premises.
            assert_eq!(
                info.actors
                    .iter()
                    .any(|a| a.place() == Place::Cloud && *a != Actor::Mfa),
                info.deployment != Deployment::OnPremises,
                "{flow}"
            );
        }
    }

    #[test]
    fn flows_differ_in_what_the_guide_asks() {
        // The guide tells flows apart by deployment, trust, sign-in and
        // features: no two flows may agree on all four.
        let mut seen = BTreeSet::new();
        for flow in FlowId::all() {
            let i = flow.info();
            let key = format!(
                "{:?} {:?} {:?} {:?}",
                i.deployment, i.trust, i.sign_in, i.features
            );
            assert!(seen.insert(key), "{flow} is indistinguishable");
        }
    }

    #[test]
    fn the_join_is_shown_only_where_it_is_modelled() {
        // Every flow opens with its device's registration: Microsoft Entra
        // join, hybrid join (managed or federated) or registration with the
        // Enterprise DRS.
        for flow in FlowId::all() {
            let info = flow.info();
            assert_eq!(info.segments[0], Segment::DeviceRegistration, "{flow}");
            // The sign-in to Entra ID comes last, in every flow whose user
            // signs in to Entra ID (cloud and hybrid), and only there; only
            // the sign-in to a domain controller follows it.
            assert_eq!(
                info.has_segment(Segment::SignIn),
                info.deployment != Deployment::OnPremises,
                "{flow}"
            );
            let last = if info.has_segment(Segment::KerberosSignIn) {
                Segment::KerberosSignIn
            } else if info.has_segment(Segment::CloudKerberosSignIn) {
                Segment::CloudKerberosSignIn
            } else {
                Segment::SignIn
            };
            if info.has_segment(Segment::SignIn) || info.has_segment(Segment::KerberosSignIn) {
                assert_eq!(info.segments.last(), Some(&last), "{flow}");
            }
            // Only cloud Kerberos trust exchanges a partial TGT, and it
            // gets it with the PRT.
            assert_eq!(
                info.has_segment(Segment::CloudKerberosSignIn),
                info.trust == Trust::CloudKerberos,
                "{flow}"
            );
        }
    }
}
