//! Prints every command and response of a short flow, field by field, the
//! way an inspector would show them.
//!
//! `cargo run -p tpm-emu --example inspect`

use tpm_emu::describe::Node;
use tpm_emu::{templates, AuthValue, Tpm, TpmClient, TpmSeed};

fn print(node: &Node, depth: usize, bytes: &[u8]) {
    let span = &bytes[node.offset..node.end()];
    let hex: String = span.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let more = if span.len() > 8 { "…" } else { "" };
    println!(
        "{:indent$}{} [{}..{}] {hex}{more} = {}   ({}; {})",
        "",
        node.name,
        node.offset,
        node.end(),
        node.value,
        node.spec,
        node.note,
        indent = depth * 2
    );
    for c in &node.children {
        print(c, depth + 1, bytes);
    }
}

fn main() -> tpm_emu::Result<()> {
    let mut client = TpmClient::new(Tpm::new(TpmSeed([1; 32])));
    let platform = client.provision_with_aik(&templates::aik_ecc_p256())?;
    let empty = AuthValue::empty();
    let pin = AuthValue::from_pin("123456");
    let created = client.create(
        platform.srk.handle,
        &empty,
        &templates::user_key_rsa_2048(),
        &pin,
    )?;
    let key = client.load(
        platform.srk.handle,
        &empty,
        &created.private,
        &created.public,
    )?;
    client.certify(key.handle, &pin, platform.aik.handle, &empty, b"nonce")?;
    let _ = client.sign(key.handle, &AuthValue::from_pin("000000"), &[0; 32]);
    for e in client.take_exchanges() {
        println!("==== {}", e.name);
        for n in e.describe_command()? {
            print(&n, 0, &e.command);
        }
        for n in e.describe_response()? {
            print(&n, 0, &e.response);
        }
    }
    Ok(())
}
