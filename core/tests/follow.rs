//! Following the user's key through a run: its modulus, picked in the TPM's
//! public area, is found in every artifact that carries it, in the form
//! each carries it in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use whfb_core::artifact::Field;
use whfb_core::engine::Run;
use whfb_core::flows::FlowId;
use whfb_core::world::{World, WorldConfig};
use whfb_model::follow::{needle, occurrences, Carried};

fn find<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find_map(|f| {
        if f.name.contains(name) {
            Some(f)
        } else {
            find(&f.children, name)
        }
    })
}

#[test]
fn the_user_key_is_found_in_every_artifact_that_carries_it() {
    let mut world = World::build(WorldConfig::new("follow")).unwrap();
    world.warm_up_all().unwrap();
    let mut run = Run::new(world, FlowId::from_slug("hybrid-cert-sync").unwrap());
    run.run_to_end();
    let events = run.events();
    let public = events
        .iter()
        .flat_map(|e| &e.artifacts)
        .find(|a| a.id == "user-key-public")
        .expect("the TPM's public area of the user key");
    let unique = find(&public.fields, "unique").expect("the modulus field");
    let modulus = needle(&public.bytes[unique.offset..unique.offset + unique.len]);
    // The TPM2B's size before the modulus is not part of it.
    assert_eq!(modulus.len(), 256, "{}", unique.name);
    let found = occurrences(events, modulus);
    let ids = |carried: Carried| {
        found
            .iter()
            .filter(|o| o.carried == carried)
            .map(|o| o.artifact.as_str())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let same = ids(Carried::Same);
    for id in [
        "user-key-public",
        "key-credential-link",
        "certificate-request",
        "user-certificate",
        "kerberos-as-req",
    ] {
        assert!(same.contains(id), "{id} not among {same:?}");
    }
    assert!(
        same.iter().any(|id| id.contains("tpm2-create-response")),
        "{same:?}"
    );
    let text: std::collections::BTreeSet<_> = ids(Carried::Base64)
        .union(&ids(Carried::Base64Url))
        .copied()
        .collect();
    assert!(text.contains("key-registration-request"), "{text:?}");
    for o in &found {
        let artifact = events[o.step]
            .artifacts
            .iter()
            .chain(
                events[o.step]
                    .tpm
                    .iter()
                    .flat_map(|t| [&t.command, &t.response]),
            )
            .find(|a| a.id == o.artifact)
            .unwrap();
        assert!(o.offset + o.len <= artifact.bytes.len());
    }
    // Too short to mean anything: nothing.
    assert!(occurrences(events, &modulus[..4]).is_empty());
}
