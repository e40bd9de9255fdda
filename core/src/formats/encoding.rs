//! Small text encodings shared by the formats: hex for display and for
//! DN-Binary, base64url (RFC 4648 §5, no padding) for JOSE.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use std::fmt::Write as _;

/// Lowercase hex, for display.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Uppercase hex, as DN-Binary values are written.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// The first `n` bytes in hex, with `…` when there is more: for messages.
pub(crate) fn hex_prefix(bytes: &[u8], n: usize) -> String {
    if bytes.len() <= n {
        hex(bytes)
    } else {
        format!("{}…", hex(&bytes[..n]))
    }
}

/// A hex digit's value, either case.
pub(crate) fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Standard base64 with padding (RFC 4648 §4), as JSON bodies carry bytes.
pub(crate) fn base64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

/// base64url without padding (RFC 7515 §2, "Base64url Encoding").
pub(crate) fn b64url(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes base64url without padding; the reason says what is wrong with
/// the text, for an error message.
pub(crate) fn b64url_decode(text: &str) -> std::result::Result<Vec<u8>, String> {
    if let Some((i, c)) = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(match c {
            '=' => format!("padding '=' at position {i}: base64url here carries no padding"),
            '+' | '/' => format!(
                "'{c}' at position {i} belongs to standard base64; base64url uses '-' and '_'"
            ),
            _ => format!("character {c:?} at position {i} is not in the base64url alphabet"),
        });
    }
    if text.len() % 4 == 1 {
        return Err(format!(
            "{} characters cannot be base64url: no byte string encodes to a length of 4k+1",
            text.len()
        ));
    }
    Base64UrlUnpadded::decode_vec(text).map_err(|_| {
        "the last character carries bits that must be zero (non-canonical base64url)".into()
    })
}

/// Percent-encoding of a query value or a form field (RFC 3986 §2.1: every
/// byte but the unreserved characters).
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_both_cases() {
        assert_eq!(hex(&[0x0a, 0xff]), "0aff");
        assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
        assert_eq!(hex_prefix(&[1, 2, 3], 2), "0102…");
        assert_eq!(hex_prefix(&[1, 2], 2), "0102");
        assert_eq!(hex_digit(b'F'), Some(15));
        assert_eq!(hex_digit(b'g'), None);
    }

    #[test]
    fn base64url_round_trip_and_specific_errors() {
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64url_decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(b64url_decode("AQ==").unwrap_err().contains("padding"));
        assert!(b64url_decode("+/8")
            .unwrap_err()
            .contains("standard base64"));
        assert!(b64url_decode("A A")
            .unwrap_err()
            .contains("not in the base64url alphabet"));
        assert!(b64url_decode("AAAAA").unwrap_err().contains("4k+1"));
        assert!(b64url_decode("AB").unwrap_err().contains("non-canonical"));
    }
}
