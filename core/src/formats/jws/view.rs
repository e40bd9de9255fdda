//! The decoded view of a compact JWS for the inspector: segment byte ranges,
//! and each header parameter and claim with a readable value, a one-line
//! explanation and the rule it comes from.

use super::{decode_object_text, decode_segment, Part, Segments, RS256};
use crate::artifact::Field;
use crate::clock::SimTime;
use crate::error::Result;
use crate::formats::encoding::hex_prefix;
use serde_json::Value;

/// The decoded view of a compact JWS: the protected header, the payload and
/// the signature, each with the byte range of its base64url segment in
/// `compact` (the dots between belong to no field); children are the header
/// parameters and the claims, which live inside the base64url and so carry
/// their segment's range.
///
/// The view reads the structure only: it shows a token the parser refuses
/// (another `alg`, a duplicate claim) so that the reader can see why.
pub fn fields(compact: &str) -> Result<Vec<Field>> {
    let seg = Segments::split(compact)?;
    let range = |i: usize| (seg.ranges[i].start, seg.ranges[i].len());
    let (header_text, header) = decode_object_text(Part::Header, seg.text(compact, 0))?;
    let (payload_text, claims) = decode_object_text(Part::Payload, seg.text(compact, 1))?;
    let signature = decode_segment(Part::Signature, seg.text(compact, 2))?;
    let alg = header
        .0
        .iter()
        .find(|(k, _)| k == "alg")
        .and_then(|(_, v)| v.as_str());

    let (h_at, h_len) = range(0);
    let header_children = header
        .0
        .iter()
        .map(|(name, value)| {
            let (note, spec) = header_note(name);
            Field::new(name, render(name, value), note, spec, h_at, h_len)
        })
        .collect();
    let (p_at, p_len) = range(1);
    let claim_children = claims
        .0
        .iter()
        .map(|(name, value)| {
            let (note, spec) = claim_note(name, value);
            Field::new(name, render(name, value), note, spec, p_at, p_len)
        })
        .collect();
    let (s_at, s_len) = range(2);
    let signature_value = if signature.is_empty() {
        "(empty)".to_string()
    } else {
        format!("{} bytes: {}", signature.len(), hex_prefix(&signature, 16))
    };
    let signature_note = if alg == Some(RS256) {
        "RSASSA-PKCS1-v1_5 SHA-256 signature over the ASCII bytes of header.payload, \
         both segments exactly as they appear, dot included."
            .to_string()
    } else {
        format!(
            "Signature for alg {}: not an algorithm this explorer accepts.",
            alg.unwrap_or("(none given)")
        )
    };
    Ok(vec![
        Field::new(
            "Protected header",
            header_text,
            "Base64url of the JSON header: how the token is signed and with which key.",
            "RFC 7515 §4, §7.1",
            h_at,
            h_len,
        )
        .with_children(header_children),
        Field::new(
            "Payload (claims set)",
            payload_text,
            "Base64url of the JSON claims: who issued the token, for which service, about whom, and until when.",
            "RFC 7519 §4",
            p_at,
            p_len,
        )
        .with_children(claim_children),
        Field::new(
            "Signature",
            signature_value,
            signature_note,
            "RFC 7515 §5.1, RFC 7518 §3.3",
            s_at,
            s_len,
        ),
    ])
}

/// Claims whose value is a NumericDate.
const TIME_CLAIMS: [&str; 4] = ["iat", "nbf", "exp", "auth_time"];

/// A value as a reader wants it: strings bare, string arrays comma-separated,
/// times with their calendar date, anything else as compact JSON.
fn render(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) if TIME_CLAIMS.contains(&name) => match n.as_u64() {
            Some(secs) => format!("{secs} ({})", SimTime::from_unix_seconds(secs)),
            None => format!("{n} (not a whole number of seconds)"),
        },
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

fn header_note(name: &str) -> (&'static str, &'static str) {
    match name {
        "alg" => (
            "Signature algorithm. RS256 is RSASSA-PKCS1-v1_5 with SHA-256. A verifier decides which \
             algorithm it accepts and never takes this value on trust.",
            "RFC 7515 §4.1.1, RFC 7518 §3.1",
        ),
        "typ" => (
            "Media type of the whole object; \"JWT\" says the payload is a JWT claims set.",
            "RFC 7515 §4.1.9, RFC 7519 §5.1",
        ),
        "kid" => (
            "Names the signing key, so the verifier can pick it from the keys the issuer publishes.",
            "RFC 7515 §4.1.4",
        ),
        "x5t" => (
            "Base64url SHA-1 thumbprint of the signer's X.509 certificate; Entra ID sends it alongside kid.",
            "RFC 7515 §4.1.7",
        ),
        "x5t#S256" => (
            "Base64url SHA-256 thumbprint of the signer's X.509 certificate.",
            "RFC 7515 §4.1.8",
        ),
        "x5c" => (
            "The signer's certificate chain, base64 DER, leaf first.",
            "RFC 7515 §4.1.6",
        ),
        "jku" => ("URL of a JWK Set holding the signing key.", "RFC 7515 §4.1.2"),
        "jwk" => ("The signing public key itself, as a JWK.", "RFC 7515 §4.1.3"),
        "cty" => ("Media type of the payload, for nested tokens.", "RFC 7515 §4.1.10"),
        "crit" => (
            "Extensions the receiver must understand or refuse the token.",
            "RFC 7515 §4.1.11",
        ),
        "use" => (
            "Not a registered JWS header parameter: a Microsoft extension. \"ngc\" marks a request \
             signed with the Windows Hello (NGC) key.",
            "Microsoft extension",
        ),
        _ => (
            "A header parameter not described here.",
            "RFC 7515 §4.2–4.3",
        ),
    }
}

fn claim_note(name: &str, value: &Value) -> (String, &'static str) {
    let (note, spec): (&str, &str) = match name {
        "iss" => (
            "Issuer: who made and signed the token. The receiver compares it with the issuer it trusts.",
            "RFC 7519 §4.1.1",
        ),
        "sub" => ("Subject: the principal the token speaks about.", "RFC 7519 §4.1.2"),
        "aud" => (
            "Audience: the service or services meant to accept the token; any other must refuse it.",
            "RFC 7519 §4.1.3",
        ),
        "exp" => (
            "Expiry: the token must not be accepted at or after this time.",
            "RFC 7519 §4.1.4",
        ),
        "nbf" => ("Not before: the token must not be accepted before this time.", "RFC 7519 §4.1.5"),
        "iat" => ("Issued at: when the issuer made the token.", "RFC 7519 §4.1.6"),
        "jti" => ("Unique token ID, which lets a receiver spot a replay.", "RFC 7519 §4.1.7"),
        "upn" => (
            "User principal name (user@domain) of the signed-in user; the registration service finds \
             the user object by it.",
            "Microsoft identity platform token claims; MS-KPP 3.1.5.1.1.3",
        ),
        "unique_name" => (
            "A readable name for the user, kept for older (v1) token consumers.",
            "Microsoft identity platform token claims",
        ),
        "amr" => {
            return (amr_note(value), "RFC 8176 §2; Microsoft identity platform token claims");
        }
        "deviceid" => (
            "ID of the registered device the user signed in on; key registration requires it and \
             writes it to the key's DeviceId entry.",
            "MS-KPP 3.1.5.1.1.3",
        ),
        "tid" => ("Tenant (directory) ID the user signed in to.", "Microsoft identity platform token claims"),
        "oid" => (
            "Object ID of the user in Entra ID: the same for every application.",
            "Microsoft identity platform token claims",
        ),
        "scp" => (
            "Delegated permissions (scopes) granted to the client application, space-separated.",
            "Microsoft identity platform token claims",
        ),
        "appid" => (
            "Client ID of the application that asked for the token.",
            "Microsoft identity platform token claims",
        ),
        "auth_time" => (
            "When the user last actually authenticated. Freshness rules, such as MFA within the last \
             10 minutes, are checked against it.",
            "OpenID Connect Core 1.0 §2",
        ),
        "nonce" => (
            "Value from the request echoed back, tying the token to that request.",
            "OpenID Connect Core 1.0 §2",
        ),
        "request_nonce" => (
            "A nonce handed out by the token service and signed back, proving the request is fresh.",
            "Microsoft sign-in request (modelled)",
        ),
        "grant_type" => ("Which OAuth 2.0 grant the request uses.", "RFC 6749 §4"),
        "client_id" => ("The application making the request.", "RFC 6749 §2.2"),
        "resource" => ("The service the requested token is for.", "Microsoft (AD FS / Entra ID v1)"),
        _ => ("A claim not described here.", "RFC 7519 §4.2–4.3"),
    };
    (note.to_string(), spec)
}

/// What an `amr` value means, in this project's words.
fn amr_meaning(method: &str) -> &'static str {
    match method {
        "pwd" => "password",
        "mfa" => "more than one authentication factor",
        "ngcmfa" => "MFA recent enough to provision a Windows Hello for Business key",
        "rsa" => "proof of holding an RSA key, such as a Windows Hello key or a certificate",
        "otp" => "one-time passcode",
        "fed" => "a federated identity provider (such as AD FS) authenticated the user",
        "wia" => "Windows integrated authentication (Kerberos or NTLM)",
        "sms" => "code sent by text message",
        "tel" => "telephone call",
        "pin" => "PIN",
        "fpt" => "fingerprint",
        "face" => "face recognition",
        "hwk" => "proof of a hardware-held key",
        "swk" => "proof of a software-held key",
        "sc" => "smart card",
        "kba" => "knowledge-based questions",
        "mca" => "several channels",
        _ => "not a value this explorer knows",
    }
}

fn amr_note(value: &Value) -> String {
    let methods: Vec<&str> = value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if methods.is_empty() {
        return "Authentication methods used; expected an array of method names.".into();
    }
    let listed: Vec<String> = methods
        .iter()
        .map(|m| format!("{m} = {}", amr_meaning(m)))
        .collect();
    format!("Authentication methods used: {}.", listed.join("; "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::tests::{b64, token};
    use super::*;

    #[test]
    fn fields_map_each_segment_and_explain_claims() {
        let t = token();
        let fields = fields(&t).unwrap();
        let parts: Vec<&str> = t.split('.').collect();
        let (h, p, s) = (parts[0].len(), parts[1].len(), parts[2].len());
        let ranges: Vec<(usize, usize)> = fields.iter().map(|f| (f.offset, f.len)).collect();
        assert_eq!(ranges, [(0, h), (h + 1, p), (h + 1 + p + 1, s)]);
        assert_eq!(h + 1 + p + 1 + s, t.len());
        assert_eq!(&t[fields[1].range()], parts[1]);

        let header: Vec<&str> = fields[0].children.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(header, ["alg", "typ", "kid"]);
        assert!(fields[0]
            .children
            .iter()
            .all(|c| c.range() == fields[0].range()));
        let claim = |name: &str| fields[1].children.iter().find(|f| f.name == name).unwrap();
        assert_eq!(claim("iat").value, "1795338000 (2026-11-22 09:00:00 UTC)");
        assert_eq!(claim("exp").value, "1795341600 (2026-11-22 10:00:00 UTC)");
        assert_eq!(claim("exp").spec, "RFC 7519 §4.1.4");
        assert_eq!(claim("amr").value, "pwd, mfa, ngcmfa");
        assert!(
            claim("amr")
                .note
                .contains("ngcmfa = MFA recent enough to provision"),
            "{}",
            claim("amr").note
        );
        assert!(claim("deviceid").spec.contains("MS-KPP"));
        assert!(fields[1]
            .children
            .iter()
            .all(|c| c.range() == fields[1].range()));
        assert!(fields[2].value.starts_with("256 bytes: "));
        assert!(fields[1]
            .children
            .iter()
            .all(|c| !c.note.is_empty() && !c.spec.is_empty()));

        // The view shows what the parser refuses, so the reader can see why.
        let unsecured = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"sub":"x","sub":"y"}"#)
        );
        let v = super::fields(&unsecured).unwrap();
        assert_eq!(v[1].children.len(), 2);
        assert_eq!(v[2].value, "(empty)");
        assert!(v[2].note.contains("alg none"));
        assert!(super::fields("a.b").is_err());
    }
}
