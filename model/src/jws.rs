//! A compact JWS as text, for the editor and the engine alike: its three
//! segments (RFC 7515 §7.1), its payload decoded, and the same token with a
//! new payload. No signature is made or checked here: signing again is the
//! engine's (`whfb-core`'s `formats::jws::resign`), in the worker.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::Value;

/// The three segments of a compact JWS, `header.payload.signature`
/// (RFC 7515 §7.1), as they are: not decoded.
pub fn segments(token: &str) -> Result<[&str; 3], String> {
    let mut parts = token.trim().split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err("the token does not have the three parts header.payload.signature".into()),
    }
}

/// The token's payload, decoded from base64url and read as JSON.
pub fn payload(token: &str) -> Result<Value, String> {
    let [_, payload, _] = segments(token)?;
    let json = Base64UrlUnpadded::decode_vec(payload)
        .map_err(|_| "the token's payload is not base64url".to_string())?;
    serde_json::from_slice(&json).map_err(|e| format!("the token's payload is not JSON: {e}"))
}

/// The token with its payload replaced by `claims`, written compactly and
/// encoded in base64url (RFC 7515 §7.1); header and signature unchanged, so
/// the signature no longer matches unless the claims are the same. Claims
/// written back unchanged give back the original bytes: tokens are made
/// with their members in the sorted order `serde_json` writes.
pub fn with_payload(token: &str, claims: &Value) -> Result<String, String> {
    let [header, _, signature] = segments(token)?;
    let compact =
        serde_json::to_string(claims).map_err(|e| format!("cannot write the claims: {e}"))?;
    Ok(format!(
        "{header}.{}.{signature}",
        Base64UrlUnpadded::encode_string(compact.as_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 appendix A.2's token: its payload reads back, and written
    /// back unchanged it gives the same bytes.
    const A2: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPo";

    #[test]
    fn a_token_splits_into_three_segments_and_takes_a_new_payload() {
        let claims = payload(A2).unwrap();
        assert_eq!(claims["iss"], "joe");
        let edited = with_payload(A2, &serde_json::json!({"iss": "eve"})).unwrap();
        let [h, p, s] = segments(&edited).unwrap();
        assert_eq!((h, s), ("eyJhbGciOiJSUzI1NiJ9", "cC4hiUPo"));
        assert_eq!(p, "eyJpc3MiOiJldmUifQ");
        assert_eq!(payload(&edited).unwrap()["iss"], "eve");
        for bad in ["a.b", "a.b.c.d", ""] {
            assert!(segments(bad).unwrap_err().contains("three parts"), "{bad}");
        }
        assert!(payload("a.!!.c").unwrap_err().contains("not base64url"));
        assert!(payload("a.bm90IGpzb24.c").unwrap_err().contains("not JSON"));
    }
}
