//! "Follow the key": where the same bytes appear across a run. A field
//! picked in one artifact (the user key's modulus in the TPM's public area,
//! say) is looked for in every artifact of every step, TPM exchanges
//! included, as it is carried in each: the same bytes (big-endian, as the
//! TPM, BCRYPT blobs, DER and Kerberos carry an RSA modulus), or encoded in
//! text, as JSON and JWTs carry bytes (base64url in a JWK's `n`, base64 in
//! a JSON body, hex).
//!
//! A pure search over what the page already holds: no cryptography, no
//! engine.

use crate::artifact::Artifact;
use crate::event::Event;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};

/// Fewer bytes than this would be found by chance: a key, a hash or an
/// identifier is longer.
pub const MIN_LEN: usize = 8;

/// How the bytes are carried where they were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Carried {
    /// The same bytes.
    Same,
    /// base64url without padding (RFC 4648 §5), as a JWK's `n` or a JWT.
    Base64Url,
    /// base64 (RFC 4648 §4), as JSON bodies carry bytes.
    Base64,
    /// Hexadecimal digits, upper or lower case.
    Hex,
}

impl Carried {
    /// The conversion, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Carried::Same => "the same bytes",
            Carried::Base64Url => "as base64url text (RFC 4648 §5)",
            Carried::Base64 => "as base64 text (RFC 4648 §4)",
            Carried::Hex => "as hexadecimal text",
        }
    }
}

/// One place the bytes were found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// The step, 0-based.
    pub step: usize,
    pub step_title: String,
    pub artifact: String,
    pub artifact_title: String,
    /// Where in the artifact's bytes, and how many.
    pub offset: usize,
    pub len: usize,
    pub carried: Carried,
}

/// The bytes to look for, from a field: a TPM2B's size prefix and a DER
/// INTEGER's leading zero (there only to keep the number positive) are not
/// part of the value.
pub fn needle(field_bytes: &[u8]) -> &[u8] {
    let value = match field_bytes {
        [hi, lo, rest @ ..]
            if usize::from(u16::from_be_bytes([*hi, *lo])) == rest.len()
                && rest.len() >= MIN_LEN =>
        {
            rest
        }
        other => other,
    };
    match value {
        [0, rest @ ..] if rest.first().is_some_and(|b| b & 0x80 != 0) => rest,
        other => other,
    }
}

/// Every place `needle` appears in the run's artifacts, step by step, in
/// each of the forms an artifact carries bytes in. Empty when the needle is
/// shorter than [`MIN_LEN`].
pub fn occurrences(events: &[Event], needle: &[u8]) -> Vec<Occurrence> {
    if needle.len() < MIN_LEN {
        return Vec::new();
    }
    let mut forms: Vec<(Carried, Vec<u8>)> = vec![
        (Carried::Same, needle.to_vec()),
        (Carried::Hex, hex(needle, b"0123456789abcdef")),
        (Carried::Hex, hex(needle, b"0123456789ABCDEF")),
    ];
    // Inside longer base64 text the bytes start anywhere in a 3-byte group,
    // and the characters of a partial group depend on their neighbours:
    // look for each of the three alignments, whole groups only.
    for skip in 0..3 {
        let part = &needle[skip..];
        let part = &part[..part.len() / 3 * 3];
        if part.len() >= MIN_LEN {
            forms.push((
                Carried::Base64Url,
                Base64UrlUnpadded::encode_string(part).into_bytes(),
            ));
            forms.push((Carried::Base64, Base64::encode_string(part).into_bytes()));
        }
    }
    let mut found = Vec::new();
    for event in events {
        let tpm = event.tpm.iter().flat_map(|x| [&x.command, &x.response]);
        for artifact in event.artifacts.iter().chain(tpm) {
            for (carried, form) in &forms {
                for offset in positions(&artifact.bytes, form) {
                    push(&mut found, event, artifact, offset, form.len(), *carried);
                }
            }
        }
    }
    found
}

fn push(
    found: &mut Vec<Occurrence>,
    event: &Event,
    artifact: &Artifact,
    offset: usize,
    len: usize,
    carried: Carried,
) {
    // The same place found twice (base64 and base64url agree on most
    // alphabets' letters): keep the first.
    let seen = found
        .iter()
        .any(|o| o.step == event.index && o.artifact == artifact.id && o.offset == offset);
    if !seen {
        found.push(Occurrence {
            step: event.index,
            step_title: event.title.clone(),
            artifact: artifact.id.clone(),
            artifact_title: artifact.title.clone(),
            offset,
            len,
            carried,
        });
    }
}

fn hex(bytes: &[u8], digits: &[u8; 16]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|b| [digits[usize::from(b >> 4)], digits[usize::from(b & 15)]])
        .collect()
}

/// Where `needle` starts in `haystack`, without overlaps.
fn positions(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > haystack.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if haystack[i..i + needle.len()] == *needle {
            out.push(i);
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_needles() {
        assert_eq!(positions(b"abcabcab", b"abc"), vec![0, 3]);
        assert_eq!(positions(b"ab", b"abc"), Vec::<usize>::new());
        assert_eq!(needle(&[0x00, 0x80, 1]), &[0x80, 1]);
        assert_eq!(needle(&[0x00, 0x10, 1]), &[0x00, 0x10, 1]);
        let tpm2b = [[0x00, 0x08].as_slice(), &[0xAA; 8]].concat();
        assert_eq!(needle(&tpm2b), &[0xAA; 8]);
        assert_eq!(hex(&[0xAB, 0x01], b"0123456789abcdef"), b"ab01");
    }
}
