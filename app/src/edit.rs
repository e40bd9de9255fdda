//! Turning what a person types into the bytes of an edited artifact: the
//! claims of a token, a JSON body, or bytes in hex. Plain functions with
//! native tests; the page only calls them. Nothing here judges an edit:
//! the worker puts the bytes on the wire and the core's parsers and checks
//! meet them. Bad input is refused here only when it cannot become bytes
//! at all (broken JSON, a stray character in the hex), with a reason.

use whfb_model::artifact::ArtifactKind;
use whfb_model::jws;

/// How an artifact is edited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditMode {
    /// The decoded claims of a compact JWS, as JSON; header and signature stay.
    JwtClaims,
    /// A JSON document, as text.
    Json,
    /// Other text (a DN-Binary value), as text.
    Text,
    /// Anything else, as hex.
    Hex,
}

impl EditMode {
    pub fn of(kind: ArtifactKind) -> EditMode {
        match kind {
            ArtifactKind::Jwt => EditMode::JwtClaims,
            ArtifactKind::Json => EditMode::Json,
            k if k.is_text() => EditMode::Text,
            _ => EditMode::Hex,
        }
    }

    /// What the editor asks the person to change.
    pub fn label(self) -> &'static str {
        match self {
            EditMode::JwtClaims => "Claims (the token's payload, decoded from base64url)",
            EditMode::Json => "JSON body",
            EditMode::Text => "Text",
            EditMode::Hex => "Bytes in hex",
        }
    }
}

/// The text a person edits, for the artifact's bytes.
pub fn draft(mode: EditMode, bytes: &[u8]) -> Result<String, String> {
    match mode {
        EditMode::JwtClaims => jwt_claims(bytes),
        EditMode::Json | EditMode::Text => String::from_utf8(bytes.to_vec())
            .map_err(|_| "these bytes are not UTF-8 text, so they cannot be edited as text".into()),
        EditMode::Hex => Ok(hex_lines(bytes)),
    }
}

/// The bytes for an edited draft. `original` is the artifact as produced:
/// a token keeps its header and signature segments.
pub fn bytes(mode: EditMode, original: &[u8], text: &str) -> Result<Vec<u8>, String> {
    match mode {
        EditMode::JwtClaims => jwt_with_claims(original, text),
        EditMode::Json => {
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|e| format!("this is not valid JSON: {e}"))?;
            Ok(text.as_bytes().to_vec())
        }
        EditMode::Text => Ok(text.as_bytes().to_vec()),
        EditMode::Hex => parse_hex(text),
    }
}

/// A token's bytes as text.
fn token_text(token: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(token).map_err(|_| "the token is not text".to_string())
}

/// The payload of a compact JWS, decoded and indented for editing.
fn jwt_claims(token: &[u8]) -> Result<String, String> {
    let value = jws::payload(token_text(token)?)?;
    serde_json::to_string_pretty(&value).map_err(|e| format!("cannot show the claims: {e}"))
}

/// The token with its payload replaced by `claims` ([`jws::with_payload`]):
/// header and signature unchanged.
fn jwt_with_claims(token: &[u8], claims: &str) -> Result<Vec<u8>, String> {
    let value: serde_json::Value =
        serde_json::from_str(claims).map_err(|e| format!("the claims are not valid JSON: {e}"))?;
    jws::with_payload(token_text(token)?, &value).map(String::into_bytes)
}

/// Bytes as hex, sixteen to a line.
pub fn hex_lines(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|row| {
            row.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Hex digits in any case; spaces and line breaks between them are ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut digits = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            continue;
        }
        match c.to_digit(16) {
            // A hex digit is below 16: it fits a byte.
            Some(d) => digits.push(d as u8),
            None => {
                return Err(format!(
                    "\"{c}\" (character {}) is not a hex digit: use 0-9 and a-f",
                    i + 1
                ))
            }
        }
    }
    if digits.len() % 2 == 1 {
        return Err(format!(
            "there are {} hex digits: a byte takes two, so one is missing or extra",
            digits.len()
        ));
    }
    Ok(digits
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => (hi << 4) | lo,
            // `chunks_exact(2)` yields pairs only.
            _ => 0,
        })
        .collect())
}

/// The hex draft with the byte at `offset` inverted (every bit flipped).
pub fn flip_byte(text: &str, offset: usize) -> Result<String, String> {
    let mut bytes = parse_hex(text)?;
    let len = bytes.len();
    let Some(b) = bytes.get_mut(offset) else {
        return Err(format!(
            "there is no byte at offset {offset}: the bytes run from 0 to {}",
            len.saturating_sub(1)
        ));
    };
    *b = !*b;
    Ok(hex_lines(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64UrlUnpadded, Encoding};

    fn b64(text: &str) -> String {
        Base64UrlUnpadded::encode_string(text.as_bytes())
    }

    fn token(claims: &str) -> Vec<u8> {
        format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64(claims)
        )
        .into_bytes()
    }

    #[test]
    fn unchanged_claims_give_back_the_same_token() {
        let t = token(r#"{"aud":"urn:x","exp":1795341621,"upn":"alex@contoso.com"}"#);
        let text = draft(EditMode::JwtClaims, &t).unwrap_or_default();
        assert!(text.contains("\n  \"aud\": \"urn:x\""), "{text}");
        assert_eq!(bytes(EditMode::JwtClaims, &t, &text), Ok(t));
    }

    #[test]
    fn an_edited_claim_changes_only_the_payload() {
        let t = token(r#"{"aud":"urn:x","exp":1}"#);
        let text = draft(EditMode::JwtClaims, &t)
            .unwrap_or_default()
            .replace("urn:x", "urn:y");
        let edited = bytes(EditMode::JwtClaims, &t, &text).unwrap_or_default();
        let edited = String::from_utf8(edited).unwrap_or_default();
        let parts: Vec<&str> = edited.split('.').collect();
        let original = String::from_utf8(t).unwrap_or_default();
        let before: Vec<&str> = original.split('.').collect();
        assert_eq!(parts[0], before[0]);
        assert_eq!(parts[2], before[2]);
        assert_eq!(parts[1], b64(r#"{"aud":"urn:y","exp":1}"#));
    }

    #[test]
    fn broken_input_is_refused_with_a_reason() {
        let t = token(r#"{"a":1}"#);
        let e = bytes(EditMode::JwtClaims, &t, "{\"a\": ").unwrap_err();
        assert!(e.contains("not valid JSON"), "{e}");
        assert!(bytes(EditMode::Json, b"{}", "[1,").is_err());
        assert!(draft(EditMode::JwtClaims, b"only.two").is_err());
        assert!(parse_hex("0g").unwrap_err().contains("\"g\""));
        assert!(parse_hex("abc").unwrap_err().contains("3 hex digits"));
        assert!(flip_byte("00", 1)
            .unwrap_err()
            .contains("no byte at offset 1"));
    }

    #[test]
    fn hex_round_trips_and_flips() {
        let data: Vec<u8> = (0u8..40).collect();
        let text = hex_lines(&data);
        assert_eq!(text.lines().count(), 3);
        assert_eq!(parse_hex(&text), Ok(data));
        assert_eq!(parse_hex(" 0A ff\n10 "), Ok(vec![0x0a, 0xff, 0x10]));
        assert_eq!(flip_byte("00 0f", 1), Ok("00 f0".to_string()));
    }

    #[test]
    fn json_and_text_keep_what_was_typed() {
        let body = "{\n  \"a\": 1\n}";
        assert_eq!(draft(EditMode::Json, body.as_bytes()), Ok(body.to_string()));
        assert_eq!(
            bytes(EditMode::Json, b"", body),
            Ok(body.as_bytes().to_vec())
        );
        assert_eq!(EditMode::of(ArtifactKind::DnBinary), EditMode::Text);
        assert_eq!(EditMode::of(ArtifactKind::Certificate), EditMode::Hex);
    }
}
