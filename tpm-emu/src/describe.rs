//! Byte-span descriptions of TPM structures, commands and responses, for an
//! inspector that highlights a field's bytes.
//!
//! Every [`Node`] is produced by the same unmarshalling code that the device
//! and the client use (the [`crate::marshal::Reader`] records where each field
//! started and ended while reading it), so offsets cannot disagree with the
//! parser. Malformed input yields an error, never a panic.

use crate::commands::{self, read_auth_area, read_command_header, read_handles, AuthAreaFault};
use crate::error::{Error, Malformed, MalformedKind, Result};
use crate::marshal::{Describe, Reader, Unmarshal};
pub use crate::node::Node;
use crate::types::{
    CommandCode, Tpm2bDigest, Tpm2bPublic, TpmSt, TpmsAttest, TpmtPublic, TpmtSignature,
};

/// Describes a buffer that must hold exactly one `T`, as a single top node
/// named `name`.
fn structure<T: Unmarshal + Describe>(
    bytes: &[u8],
    name: &'static str,
    note: &'static str,
) -> Result<Vec<Node>> {
    let mut r = Reader::traced(bytes, T::SPEC);
    r.field::<T>(name, note)?;
    r.finish()?;
    Ok(r.into_nodes())
}

/// A `TPM2B_PUBLIC` (TPM 2.0 Part 2 §12.2.5).
pub fn public(bytes: &[u8]) -> Result<Vec<Node>> {
    structure::<Tpm2bPublic>(
        bytes,
        "TPM2B_PUBLIC",
        "an object's public area, size-prefixed",
    )
}

/// A `TPMT_PUBLIC` (TPM 2.0 Part 2 §12.2.4).
pub fn public_area(bytes: &[u8]) -> Result<Vec<Node>> {
    structure::<TpmtPublic>(bytes, "TPMT_PUBLIC", "an object's public area")
}

/// A `TPMS_ATTEST` (TPM 2.0 Part 2 §10.12.12).
pub fn attest(bytes: &[u8]) -> Result<Vec<Node>> {
    structure::<TpmsAttest>(
        bytes,
        "TPMS_ATTEST",
        "the structure an attestation key signs",
    )
}

/// A `TPMT_SIGNATURE` (TPM 2.0 Part 2 §11.3.4).
pub fn signature(bytes: &[u8]) -> Result<Vec<Node>> {
    structure::<TpmtSignature>(bytes, "TPMT_SIGNATURE", "a signature with its algorithm")
}

/// A `TPM2B_PRIVATE` as made by this TPM (TPM 2.0 Part 1 §22–23): the
/// outer integrity HMAC and the encrypted sensitive area, which stays opaque.
pub fn private(bytes: &[u8]) -> Result<Vec<Node>> {
    let mut r = Reader::traced(bytes, "TPM 2.0 Part 2 §12.3.7");
    r.group(
        "TPM2B_PRIVATE",
        "a private area wrapped by its parent: only the parent's TPM can open it",
        "TPM 2.0 Part 2 §12.3.7",
        |r| {
            let size = r.field::<u16>("size", "number of bytes that follow")?;
            r.bounded(usize::from(size), |r| {
                r.group(
                    "buffer",
                    "integrityHMAC ‖ encSensitive (TPM 2.0 Part 1 §22–23, Protected Storage)",
                    "TPM 2.0 Part 1 §22–23",
                    |r| {
                        r.field::<Tpm2bDigest>(
                            "integrityHMAC",
                            "HMAC-SHA256 keyed by KDFa(parent seed, \"INTEGRITY\") over encSensitive ‖ Name",
                        )?;
                        let n = r.remaining();
                        r.bytes_field(
                            "encSensitive",
                            "TPM2B_SENSITIVE encrypted with AES-128-CFB under KDFa(parent seed, \"STORAGE\", Name)",
                            n,
                        )?;
                        Ok(())
                    },
                    |_| String::new(),
                )
            })
        },
        |_| format!("{} bytes", bytes.len()),
    )?;
    r.finish()?;
    Ok(r.into_nodes())
}

/// Command and response framing: TPM 2.0 Part 1 §18.
const FRAMING: &str = "TPM 2.0 Part 1 §18";

fn auth_fault(f: AuthAreaFault) -> Malformed {
    match f {
        AuthAreaFault::Size(m) | AuthAreaFault::TooMany(m) => m,
        AuthAreaFault::Session { malformed, .. } => malformed,
    }
}

/// A whole command buffer: header, handle area, authorization area,
/// parameters, under one node named after the command (e.g. `TPM2_Certify`).
pub fn command(bytes: &[u8]) -> Result<Vec<Node>> {
    let mut r = Reader::traced(bytes, FRAMING);
    let header = r.group(
        "header",
        "tag, size and command code",
        "TPM 2.0 Part 1 §18",
        read_command_header,
        |h| commands::command_name(h.code).to_string(),
    )?;
    if header.size as usize != bytes.len() {
        return Err(Error::Malformed(Malformed::new(
            2,
            MalformedKind::Size,
            "commandSize",
        )));
    }
    let spec = commands::spec(header.code).ok_or(Error::Malformed(Malformed::new(
        6,
        MalformedKind::Value,
        "commandCode",
    )))?;
    if !spec.handles.is_empty() {
        r.group(
            "handles",
            "the entities the command acts on",
            "TPM 2.0 Part 1 §18",
            |r| read_handles(r, spec).map_err(|f| f.malformed),
            |h| format!("{} handle(s)", h.len()),
        )?;
    }
    if header.tag == TpmSt::SESSIONS {
        read_auth_area(&mut r).map_err(auth_fault)?;
    }
    r.group(
        "parameters",
        "the command's parameters",
        spec.spec,
        |r| commands::read_command_params(header.code, r),
        |_| String::new(),
    )?;
    r.finish()?;
    Ok(vec![wrap(
        spec.name.to_string(),
        "a command: header, handles, authorization area if tagged TPM_ST_SESSIONS, parameters",
        spec.spec,
        bytes.len(),
        r.into_nodes(),
    )])
}

/// A whole response buffer to command `code`: header, handle, parameters,
/// session acknowledgements; an error response is its header alone.
pub fn response(code: CommandCode, bytes: &[u8]) -> Result<Vec<Node>> {
    let spec =
        commands::spec(code).ok_or(Error::Unsupported("command not implemented by this crate"))?;
    let mut r = Reader::traced(bytes, FRAMING);
    // An error response is described as its header; its code is in the node.
    let _outcome =
        commands::read_response(&mut r, spec, |r| commands::read_response_params(code, r))?;
    Ok(vec![wrap(
        format!("{} response", spec.name),
        "a response: header, then on success the handle, parameters and session acknowledgements",
        spec.spec,
        bytes.len(),
        r.into_nodes(),
    )])
}

fn wrap(name: String, note: &str, spec: &str, len: usize, children: Vec<Node>) -> Node {
    Node {
        value: format!("{len} bytes"),
        note: note.to_string(),
        spec: spec.to_string(),
        offset: 0,
        len,
        children,
        name,
    }
}
