//! Two runs side by side (`whfb_core::compare`): steps aligned by id, and
//! exactly the steps that differ marked, with what differs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use whfb_core::compare::{compare, Comparison, Difference, Side};
use whfb_core::engine::Run;
use whfb_core::world::{World, WorldConfig};

fn world(side: &Side) -> World {
    static DEFAULT: OnceLock<World> = OnceLock::new();
    if side.conditions.is_empty() {
        return DEFAULT
            .get_or_init(|| {
                let mut w = World::build(WorldConfig::new("compare")).expect("world builds");
                w.warm_up_all().expect("keys generate");
                w
            })
            .clone();
    }
    let mut config = WorldConfig::new("compare");
    config.options = side.options.clone();
    World::build(config).expect("world builds")
}

fn side_by_side(a: &str, b: &str) -> Comparison {
    let (a, b) = (Side::parse(a).unwrap(), Side::parse(b).unwrap());
    let mut ra = Run::new(world(&a), a.flow);
    ra.run_to_end();
    let mut rb = Run::new(world(&b), b.flow);
    rb.run_to_end();
    compare(a, ra.events(), b, rb.events())
}

fn differing(c: &Comparison) -> Vec<&str> {
    c.differing().map(|r| r.id.as_str()).collect()
}

#[test]
fn managed_and_federated_entra_join_differ_exactly_where_ad_fs_takes_part() {
    let c = side_by_side("aadj-managed", "aadj-federated");
    assert_eq!(
        differing(&c),
        [
            "device-registration.join-sign-in",
            "device-registration.exchange-join-token",
            "device-registration.wait-for-sync",
            "device-registration.write-back-device",
            "windows-sign-in.request-saml-token",
            "windows-sign-in.issue-saml-token",
            "windows-sign-in.validate-prt-request",
            "tokens.sign-in-request",
            "tokens.federated-sign-in",
            "tokens.mfa-decision",
            "tokens.mfa-challenge",
            "tokens.mfa-result",
            "tokens.issue-enterprise-token",
            "tokens.exchange-enterprise-token",
        ]
    );
    // Every step of both runs is in a row, in each run's order.
    let a: Vec<usize> = c.rows.iter().filter_map(|r| r.a).collect();
    let b: Vec<usize> = c.rows.iter().filter_map(|r| r.b).collect();
    assert_eq!(a, (0..a.len()).collect::<Vec<_>>());
    assert_eq!(b, (0..b.len()).collect::<Vec<_>>());
    // What differs, said.
    let join = c
        .rows
        .iter()
        .find(|r| r.id == "device-registration.join-sign-in")
        .unwrap();
    assert!(join.differences.contains(&Difference::Actors {
        a: "Provisioning app (CXH) → Entra ID".into(),
        b: "Provisioning app (CXH) → AD FS (STS)".into(),
    }));
    let saml = c
        .rows
        .iter()
        .find(|r| r.id == "windows-sign-in.request-saml-token")
        .unwrap();
    assert_eq!(saml.differences, [Difference::OnlyIn { a: false }]);
    let text = c.text();
    assert!(text.starts_with(
        "Comparing aadj-managed (A) with aadj-federated (B): 52 steps aligned by id, 14 differ."
    ));
    assert!(text.contains("check \"Password (first factor)\": passes in A, not made in B"));
}

#[test]
fn key_trust_and_cloud_kerberos_trust_differ_in_the_key_sync_and_the_kerberos_sign_in() {
    let c = side_by_side("hybrid-key-managed", "hybrid-cloud-kerberos");
    let only_a: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.b.is_none())
        .map(|r| r.id.as_str())
        .collect();
    let only_b: Vec<&str> = c
        .rows
        .iter()
        .filter(|r| r.a.is_none())
        .map(|r| r.id.as_str())
        .collect();
    // Key trust waits for Entra Connect to write the key to AD before an
    // on-premises sign-in works; cloud Kerberos trust needs no sync and
    // gets its TGT from a partial one Entra ID issues.
    assert!(
        only_a.iter().all(|id| id.starts_with("key-sync.")),
        "{only_a:?}"
    );
    assert_eq!(only_a.len(), 6);
    assert!(
        only_b.iter().all(|id| id.starts_with("cloud-kerberos.")),
        "{only_b:?}"
    );
    assert_eq!(only_b.len(), 5);
    let both: Vec<&str> = c
        .differing()
        .filter(|r| r.a.is_some() && r.b.is_some())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(both, ["sign-in.issue-prt"]);
    let prt = c.rows.iter().find(|r| r.id == "sign-in.issue-prt").unwrap();
    assert_eq!(
        prt.differences,
        [Difference::Artifacts {
            only_a: vec![],
            only_b: vec!["partial-tgt-as-rep".into(), "tgt-ad".into()]
        }]
    );
}

#[test]
fn one_flow_under_two_conditions_differs_only_where_the_condition_acts() {
    let c = side_by_side("aadj-managed?mfa=none", "aadj-managed?mfa=5");
    assert_eq!(
        differing(&c),
        [
            "tokens.mfa-challenge",
            "tokens.mfa-prompt",
            "tokens.mfa-approve",
            "tokens.mfa-result"
        ]
    );
    let approve = c
        .rows
        .iter()
        .find(|r| r.id == "tokens.mfa-approve")
        .unwrap();
    assert!(approve.differences.contains(&Difference::Status {
        a: "ran".into(),
        b: "skipped".into()
    }));
    // Bytes that differ between runs (times, nonces) are counted apart.
    assert!(c.rows.iter().any(|r| !r.bytes.is_empty()));
    // A run beside itself: nothing differs, not even a byte.
    let same = side_by_side("onprem-key", "onprem-key");
    assert_eq!(same.differing().count(), 0);
    assert!(same.rows.iter().all(|r| r.bytes.is_empty()));
}

#[test]
fn a_side_is_read_or_refused_with_what_is_wrong() {
    let side = Side::parse("hybrid-key-managed?mfa=none&sensor=0").unwrap();
    assert_eq!(side.text(), "hybrid-key-managed?mfa=none&sensor=0");
    assert_eq!(Side::parse(&side.text()).unwrap(), side);
    assert_eq!(side.label(), "hybrid-key-managed (mfa=none&sensor=0)");
    for (text, says) in [
        ("nope", "\"nope\" is not a flow"),
        ("aadj-managed?colour=blue", "\"colour\" is not a condition"),
        (
            "aadj-managed?mfa",
            "\"mfa\" is not a condition written key=value",
        ),
        ("aadj-managed?mfa=soon", "mfa"),
    ] {
        let why = Side::parse(text).unwrap_err();
        assert!(why.contains(says), "{text}: {why}");
    }
}
