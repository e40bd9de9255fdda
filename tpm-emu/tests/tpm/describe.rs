//! Byte-span descriptions: every node lies within its parent, children tile
//! their parent exactly, and malformed input is an error, never a panic.

use crate::helpers;

use tpm_emu::describe::{self, Node};
use tpm_emu::marshal::Marshal;
use tpm_emu::{AuthValue, KeyPool, Tpm2bPublic};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn check(node: &Node, lo: usize, hi: usize, path: &str) {
    let path = format!("{path}/{}", node.name);
    assert!(
        node.offset >= lo && node.end() <= hi,
        "{path}: {}..{} outside {lo}..{hi}",
        node.offset,
        node.end()
    );
    assert!(!node.spec.is_empty(), "{path}: no spec");
    if node.children.is_empty() {
        assert!(!node.value.is_empty(), "{path}: a leaf without a value");
        return;
    }
    let mut at = node.offset;
    for c in &node.children {
        assert_eq!(c.offset, at, "{path}/{}: gap or overlap", c.name);
        at = c.end();
        check(c, node.offset, node.end(), &path);
    }
    assert_eq!(at, node.end(), "{path}: children stop short");
}

/// A described buffer: one top node covering it all, well nested.
fn check_top(nodes: &[Node], len: usize) {
    assert_eq!(nodes.len(), 1);
    assert_eq!(
        (nodes[0].offset, nodes[0].len),
        (0, len),
        "{}",
        nodes[0].name
    );
    check(&nodes[0], 0, len, "");
}

/// Every proper prefix is refused.
fn prefixes_fail(bytes: &[u8], f: impl Fn(&[u8]) -> tpm_emu::Result<Vec<Node>>) {
    for n in 0..bytes.len() {
        assert!(
            f(&bytes[..n]).is_err(),
            "prefix {n} of {} described",
            bytes.len()
        );
    }
}

#[test]
fn every_exchange_of_a_flow_is_described_and_tiled() {
    let (mut client, platform) = helpers::provisioned(20);
    let mut pool = KeyPool::new(1, &platform);
    pool.fill_one(&mut client).unwrap();
    let key = pool.take(&mut client, b"nonce").unwrap();
    let pin = AuthValue::from_pin("987654");
    let srk = platform.srk.handle;
    let (_, bound) = client
        .change_auth_and_reload(
            key.handle,
            &AuthValue::empty(),
            srk,
            &AuthValue::empty(),
            &key.public,
            &pin,
        )
        .unwrap();
    let sig = client.sign(bound.handle, &pin, &[3; 32]).unwrap();
    let _ = client
        .sign(bound.handle, &AuthValue::from_pin("111111"), &[3; 32])
        .unwrap_err();
    client.da_state().unwrap();
    client.hash(b"data", tpm_emu::TpmHandle::RH_OWNER).unwrap();
    client.get_random(8).unwrap();
    client
        .dictionary_attack_parameters(&AuthValue::empty(), 32, 600, 86_400)
        .unwrap();
    client
        .dictionary_attack_lock_reset(&AuthValue::empty())
        .unwrap();
    client.flush_context(bound.handle).unwrap();

    let exchanges = client.take_exchanges();
    let names: Vec<&str> = exchanges.iter().map(|e| e.name).collect();
    for cmd in [
        "TPM2_Startup",
        "TPM2_CreatePrimary",
        "TPM2_Create",
        "TPM2_Load",
        "TPM2_Certify",
        "TPM2_ObjectChangeAuth",
        "TPM2_Sign",
        "TPM2_GetCapability",
        "TPM2_NV_Read",
        "TPM2_NV_ReadPublic",
        "TPM2_Hash",
        "TPM2_GetRandom",
        "TPM2_DictionaryAttackParameters",
        "TPM2_DictionaryAttackLockReset",
        "TPM2_FlushContext",
    ] {
        assert!(names.contains(&cmd), "{cmd} missing from the flow");
    }
    for e in &exchanges {
        let c = e.describe_command().unwrap();
        assert_eq!(c[0].name, e.name);
        check_top(&c, e.command.len());
        let r = e.describe_response().unwrap();
        check_top(&r, e.response.len());
        prefixes_fail(&e.command, describe::command);
        prefixes_fail(&e.response, |b| describe::response(e.command_code, b));
    }

    // Field names, values and offsets as the parser read them.
    let create = exchanges
        .iter()
        .rev()
        .find(|e| e.name == "TPM2_Create")
        .unwrap();
    let nodes = create.describe_command().unwrap();
    let attrs = nodes[0].find("objectAttributes").unwrap();
    assert_eq!(
        attrs.value,
        "0x00040072 (fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth | sign)"
    );
    assert_eq!(
        &create.command[attrs.offset..attrs.end()],
        &[0x00, 0x04, 0x00, 0x72]
    );
    let certify = exchanges.iter().find(|e| e.name == "TPM2_Certify").unwrap();
    let nodes = certify.describe_response().unwrap();
    let attest = nodes[0].find("attestationData").unwrap();
    assert_eq!(
        &certify.response[attest.offset..attest.end()],
        &key.attestation.attest_bytes[..]
    );
    assert_eq!(
        attest.find("magic").unwrap().value,
        "0xFF544347 (TPM_GENERATED_VALUE)"
    );
    let rc = exchanges
        .iter()
        .rev()
        .find(|e| e.name == "TPM2_Sign")
        .unwrap();
    let nodes = rc.describe_response().unwrap();
    assert!(nodes[0]
        .find("responseCode")
        .unwrap()
        .value
        .starts_with("TPM_RC_AUTH_FAIL (0x098E)"));

    // Structures on their own.
    let public = Tpm2bPublic(key.public.clone()).to_bytes();
    check_top(&describe::public(&public).unwrap(), public.len());
    prefixes_fail(&public, describe::public);
    let area = key.public.to_bytes();
    check_top(&describe::public_area(&area).unwrap(), area.len());
    let att = &key.attestation.attest_bytes;
    check_top(&describe::attest(att).unwrap(), att.len());
    prefixes_fail(att, describe::attest);
    for s in [key.attestation.signature.to_bytes(), sig.to_bytes()] {
        check_top(&describe::signature(&s).unwrap(), s.len());
        prefixes_fail(&s, describe::signature);
    }
    let private = key.private.to_bytes();
    check_top(&describe::private(&private).unwrap(), private.len());
    // Too long is an error too.
    let mut long = att.clone();
    long.push(0);
    assert!(describe::attest(&long).is_err());
}

#[test]
fn a_withheld_authvalue_is_marked_not_shown_as_a_value() {
    let (mut client, platform) = crate::helpers::provisioned(31);
    let (key, _) = crate::helpers::user_key(&mut client, &platform, "246810");
    client.take_exchanges();
    client
        .sign(
            key.handle,
            &tpm_emu::AuthValue::from_pin("246810"),
            &[7u8; 32],
        )
        .unwrap();
    let exchange = client.take_exchanges().pop().unwrap();
    assert!(exchange.has_withheld());
    let (offset, len) = exchange.withheld[0];
    assert_eq!(len, 32, "the SHA-256 authValue");
    assert!(exchange.command[offset..offset + len]
        .iter()
        .all(|b| *b == 0));
    let text = format!("{:?}", exchange.describe_command().unwrap());
    assert!(text.contains("withheld: 32 byte(s)"), "{text}");
    // With the empty authValue there is nothing to withhold.
    client
        .sign(
            platform.srk.handle,
            &tpm_emu::AuthValue::empty(),
            &[7u8; 32],
        )
        .ok();
    let exchange = client.take_exchanges().pop().unwrap();
    assert!(!exchange.has_withheld());
}
