//! JSON Web Signature in compact serialisation (RFC 7515 §7.1) carrying a
//! JSON Web Token claims set (RFC 7519), signed with RS256
//! (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3); and RSA JSON Web Keys
//! (RFC 7517, RFC 7518 §6.3, in `jws/jwk.rs`) with RFC 7638 thumbprints as key IDs;
//! the decoded view for the inspector is in `jws/view.rs`.
//!
//! ```text
//! BASE64URL(header JSON) '.' BASE64URL(claims JSON) '.' BASE64URL(signature)
//! └────────────── signing input (ASCII) ──────────┘
//! ```
//!
//! The parser accepts RS256 only: the algorithm is the verifier's choice,
//! never the token's, so `alg: none` and every other value are refused
//! before the payload is even decoded (RFC 8725 §3.1, §3.2).
//!
//! serde_json reads and writes the JSON. Objects are written in the order the
//! caller's `Map` iterates, so output is the same with or without serde_json's
//! `preserve_order` feature as long as the caller inserts keys in sorted order;
//! the header this module builds is always `alg`, `typ`, `kid`, then extras.

use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::formats::encoding::{b64url, b64url_decode};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use std::ops::Range;

mod jwk;
mod view;

pub use jwk::{thumbprint, Jwk, JwkSet};
pub use view::fields;

/// The one signature algorithm accepted and produced (RFC 7518 §3.1).
pub const RS256: &str = "RS256";

const WHAT: &str = "JWS";
const SIGNATURE: &str = "JWS signature";
const CLAIM: &str = "JWT claim";

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

/// Signs `claims` with `key`: header `{"alg":"RS256","typ":"JWT","kid":…}`
/// where `kid` is the RFC 7638 thumbprint of the public key.
pub fn sign(claims: &Map<String, Value>, key: &RsaPrivateKey) -> Result<String> {
    sign_with_header(&Map::new(), claims, key)
}

/// Like [`sign`], with further header parameters after `alg`, `typ`, `kid`.
/// `typ` and `kid` may be overridden; `alg` may only repeat `RS256`.
pub fn sign_with_header(
    extra_header: &Map<String, Value>,
    claims: &Map<String, Value>,
    key: &RsaPrivateKey,
) -> Result<String> {
    let mut header: Vec<(String, Value)> = vec![
        ("alg".into(), Value::from(RS256)),
        ("typ".into(), Value::from("JWT")),
        ("kid".into(), Value::from(thumbprint(&key.to_public_key()))),
    ];
    for (name, value) in extra_header {
        if name == "alg" {
            if value.as_str() != Some(RS256) {
                return Err(Error::Usage(format!(
                    "this signer makes RS256 signatures; the extra header asks for alg {value}"
                )));
            }
        } else if let Some(slot) = header.iter_mut().find(|(n, _)| n == name) {
            slot.1 = value.clone();
        } else {
            header.push((name.clone(), value.clone()));
        }
    }
    compact(&header, claims, |input| crate::rs256::sign(key, input))
}

/// The three segments of a compact JWS, `header.payload.signature`
/// (RFC 7515 §7.1), as they are: not decoded.
pub fn segments(token: &str) -> Result<[&str; 3]> {
    whfb_model::jws::segments(token).map_err(|reason| Error::malformed(WHAT, reason))
}

pub use whfb_model::jws::with_payload;

/// The token's `header.payload` signed again by `sign` (which returns the
/// RSASSA-PKCS1-v1_5 SHA-256 signature of the bytes it is given).
pub fn resign<F>(token: &str, sign: F) -> Result<String>
where
    F: FnOnce(&[u8]) -> Result<Vec<u8>>,
{
    let [header, payload, _] = segments(token)?;
    let input = format!("{header}.{payload}");
    let signature = sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&signature)))
}

/// Builds a compact JWS with the caller's header (which must say
/// `"alg":"RS256"`) and a signer that returns the RSASSA-PKCS1-v1_5 SHA-256
/// signature of the bytes it is given: for keys held elsewhere, such as a TPM.
pub fn sign_with<F>(
    header: &Map<String, Value>,
    claims: &Map<String, Value>,
    signer: F,
) -> Result<String>
where
    F: FnOnce(&[u8]) -> Result<Vec<u8>>,
{
    match header.get("alg") {
        Some(Value::String(alg)) if alg == RS256 => {}
        other => {
            return Err(Error::Usage(format!(
                "sign_with needs a header with \"alg\":\"RS256\", found {}",
                other.map_or_else(|| "no alg".to_string(), Value::to_string)
            )))
        }
    }
    let members: Vec<(String, Value)> =
        header.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    compact(&members, claims, signer)
}

fn compact<F>(header: &[(String, Value)], claims: &Map<String, Value>, signer: F) -> Result<String>
where
    F: FnOnce(&[u8]) -> Result<Vec<u8>>,
{
    let header_json = json_object(header.iter().map(|(k, v)| (k.as_str(), v)))?;
    let claims_json = json_object(claims.iter().map(|(k, v)| (k.as_str(), v)))?;
    let mut out = b64url(header_json.as_bytes());
    out.push('.');
    out.push_str(&b64url(claims_json.as_bytes()));
    // RFC 7515 §5.1 step 5: the signature covers the ASCII of the two segments and the dot.
    let signature = signer(out.as_bytes())?;
    if signature.is_empty() {
        return Err(Error::Crypto(
            "the signer returned an empty signature".into(),
        ));
    }
    out.push('.');
    out.push_str(&b64url(&signature));
    Ok(out)
}

/// A compact JSON object with members in the given order.
fn json_object<'a>(members: impl Iterator<Item = (&'a str, &'a Value)>) -> Result<String> {
    let mut out = String::from("{");
    for (i, (name, value)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&to_json(name)?);
        out.push(':');
        out.push_str(&to_json(value)?);
    }
    out.push('}');
    Ok(out)
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    // Strings and `Value`s always serialise; the error path is for completeness.
    serde_json::to_string(value).map_err(|e| Error::Usage(format!("JSON encoding failed: {e}")))
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// A parsed compact JWS whose header says RS256. Parsing checks the syntax
/// only; [`Jws::verify`] checks the signature.
#[derive(Clone, Debug, PartialEq)]
pub struct Jws {
    compact: String,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    signature: Vec<u8>,
    /// Length of `header.payload`, the signing input, within `compact`.
    signing_input_len: usize,
}

impl Jws {
    /// Parses a compact JWS (RFC 7515 §5.2 steps 1–7, RFC 7519 §7.2).
    /// Refuses: anything but three segments; non-base64url segments; a header
    /// or payload that is not a UTF-8 JSON object; duplicate names; a missing
    /// `alg` or one other than RS256 (including `none`); a `crit` header; an
    /// empty signature.
    pub fn parse(compact: &str) -> Result<Jws> {
        let seg = Segments::split(compact)?;
        let header = decode_object(Part::Header, seg.text(compact, 0))?;
        let header = unique(Part::Header, header)?;
        check_header(&header)?;
        let claims = decode_object(Part::Payload, seg.text(compact, 1))?;
        let claims = unique(Part::Payload, claims)?;
        let signature = decode_segment(Part::Signature, seg.text(compact, 2))?;
        if signature.is_empty() {
            return Err(Error::malformed(
                WHAT,
                "the signature segment is empty: an RS256 token must be signed",
            ));
        }
        Ok(Jws {
            compact: compact.to_string(),
            header,
            claims,
            signature,
            signing_input_len: seg.ranges[1].end,
        })
    }

    /// Checks the RS256 signature with `key` (RFC 7515 §5.2 step 8).
    pub fn verify(&self, key: &RsaPublicKey) -> Result<()> {
        if self.signature.len() != key.size() {
            return Err(Error::invalid(
                SIGNATURE,
                format!(
                    "the signature is {} bytes; an RS256 signature made with this {}-bit key is {} bytes",
                    self.signature.len(),
                    key.n().bits(),
                    key.size()
                ),
            ));
        }
        crate::rs256::verify(key, self.signing_input().as_bytes(), &self.signature)
            .map_err(|_| {
                Error::invalid(
                    SIGNATURE,
                    "the RSASSA-PKCS1-v1_5 SHA-256 signature does not match header.payload under this key: \
                     the token was altered or signed by another key",
                )
            })
    }

    /// Finds the key named by the header's `kid` in `keys` and verifies with it.
    pub fn verify_with_set(&self, keys: &JwkSet) -> Result<()> {
        let kid = self.kid().ok_or_else(|| {
            Error::invalid(SIGNATURE, "the header has no kid to look the key up by")
        })?;
        self.verify(&keys.find(kid)?.to_public_key()?)
    }

    /// The token as received.
    pub fn as_str(&self) -> &str {
        &self.compact
    }

    /// The JOSE header (RFC 7515 §4).
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The JWT claims set (RFC 7519 §4).
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// `BASE64URL(header) '.' BASE64URL(payload)`: the bytes the signature covers.
    pub fn signing_input(&self) -> &str {
        &self.compact[..self.signing_input_len]
    }

    /// The signature bytes (base64url-decoded).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The header's `kid`, when present.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The header's `typ`, when it is a string.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// A claim's raw value.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A string claim; an error when it is missing or not a string.
    pub fn string_claim(&self, name: &str) -> Result<&str> {
        match self.required(name)? {
            Value::String(s) => Ok(s),
            other => Err(wrong_type(name, "a string", other)),
        }
    }

    /// A claim that must be a non-negative integer.
    pub fn u64_claim(&self, name: &str) -> Result<u64> {
        let value = self.required(name)?;
        value
            .as_u64()
            .ok_or_else(|| wrong_type(name, "a non-negative whole number", value))
    }

    /// A NumericDate claim (RFC 7519 §2): whole seconds since 1970-01-01 UTC.
    pub fn numeric_date(&self, name: &str) -> Result<SimTime> {
        let value = self.required(name)?;
        value
            .as_u64()
            .map(SimTime::from_unix_seconds)
            .ok_or_else(|| {
                wrong_type(
                    name,
                    "a NumericDate (whole seconds since 1970, RFC 7519 §2)",
                    value,
                )
            })
    }

    /// `iat`, required (RFC 7519 §4.1.6).
    pub fn iat(&self) -> Result<SimTime> {
        self.numeric_date("iat")
    }

    /// `exp`, required (RFC 7519 §4.1.4).
    pub fn exp(&self) -> Result<SimTime> {
        self.numeric_date("exp")
    }

    /// `nbf` (RFC 7519 §4.1.5): `None` when absent, an error when mistyped.
    pub fn nbf(&self) -> Result<Option<SimTime>> {
        match self.claims.get("nbf") {
            None => Ok(None),
            Some(_) => self.numeric_date("nbf").map(Some),
        }
    }

    /// `aud` (RFC 7519 §4.1.3): one string or an array of strings.
    pub fn aud(&self) -> Result<Vec<&str>> {
        match self.required("aud")? {
            Value::String(s) => Ok(vec![s.as_str()]),
            Value::Array(items) => strings("aud", items),
            other => Err(wrong_type("aud", "a string or an array of strings", other)),
        }
    }

    /// `amr` (RFC 8176; OpenID Connect Core §2): an array of method names.
    pub fn amr(&self) -> Result<Vec<&str>> {
        self.array_claim("amr")
    }

    /// A claim that must be an array of strings.
    pub fn array_claim(&self, name: &str) -> Result<Vec<&str>> {
        match self.required(name)? {
            Value::Array(items) => strings(name, items),
            other => Err(wrong_type(name, "an array of strings", other)),
        }
    }

    /// Lenient [`Jws::u64_claim`]: `None` when absent or not a non-negative integer.
    pub fn number_claim(&self, name: &str) -> Option<u64> {
        self.u64_claim(name).ok()
    }

    /// Lenient [`Jws::aud`]: empty when absent or mistyped.
    pub fn audiences(&self) -> Vec<String> {
        owned(self.aud())
    }

    /// Lenient [`Jws::array_claim`]: empty when absent or mistyped.
    pub fn string_list_claim(&self, name: &str) -> Vec<String> {
        owned(self.array_claim(name))
    }

    fn required(&self, name: &str) -> Result<&Value> {
        self.claims
            .get(name)
            .ok_or_else(|| Error::malformed(CLAIM, format!("\"{name}\" is missing")))
    }
}

fn owned(list: Result<Vec<&str>>) -> Vec<String> {
    list.map(|v| v.into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

fn strings<'a>(name: &str, items: &'a [Value]) -> Result<Vec<&'a str>> {
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| wrong_type(name, "an array of strings", v))
        })
        .collect()
}

fn wrong_type(name: &str, expected: &str, found: &Value) -> Error {
    Error::malformed(
        CLAIM,
        format!("\"{name}\" must be {expected}, found {}", json_type(found)),
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_u64() => "a whole number",
        Value::Number(n) if n.is_i64() => "a negative number",
        Value::Number(_) => "a fractional number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Which of the three segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Header,
    Payload,
    Signature,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Header => "protected header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        }
    }
}

/// The byte ranges of the three segments.
struct Segments {
    ranges: [Range<usize>; 3],
}

impl Segments {
    fn split(compact: &str) -> Result<Segments> {
        if compact.is_empty() {
            return Err(Error::malformed(WHAT, "the token is empty"));
        }
        let dots: Vec<usize> = compact.match_indices('.').map(|(i, _)| i).collect();
        match dots.len() {
            2 => Ok(Segments {
                ranges: [0..dots[0], dots[0] + 1..dots[1], dots[1] + 1..compact.len()],
            }),
            0 => Err(Error::malformed(
                WHAT,
                "found 1 segment and no '.': a compact JWS is header.payload.signature (RFC 7515 §7.1)",
            )),
            4 => Err(Error::malformed(
                WHAT,
                "found 5 segments: that is the shape of an encrypted JWE (RFC 7516 §7.1), not a signed JWS",
            )),
            n => Err(Error::malformed(
                WHAT,
                format!(
                    "found {} segments separated by '.'; a compact JWS has exactly 3 (RFC 7515 §7.1)",
                    n + 1
                ),
            )),
        }
    }

    fn text<'a>(&self, compact: &'a str, i: usize) -> &'a str {
        &compact[self.ranges[i].clone()]
    }
}

fn decode_segment(part: Part, text: &str) -> Result<Vec<u8>> {
    if text.is_empty() && part != Part::Signature {
        return Err(Error::malformed(
            WHAT,
            format!("the {} segment is empty", part.name()),
        ));
    }
    b64url_decode(text).map_err(|reason| {
        Error::malformed(
            WHAT,
            format!("the {} segment is not base64url: {reason}", part.name()),
        )
    })
}

/// A JSON object's members in document order, duplicates kept, so that the
/// parser can refuse duplicates and the view can show members as written.
#[derive(Debug)]
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    members.push(entry);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// Decodes a segment holding a JSON object: (the JSON text, its members).
fn decode_object_text(part: Part, segment: &str) -> Result<(String, Members)> {
    let bytes = decode_segment(part, segment)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::malformed(WHAT, format!("the {} is not UTF-8 text", part.name())))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        Error::malformed(WHAT, format!("the {} is not valid JSON: {e}", part.name()))
    })?;
    if !value.is_object() {
        return Err(Error::malformed(
            WHAT,
            format!(
                "the {} is JSON but not an object: found {}",
                part.name(),
                json_type(&value)
            ),
        ));
    }
    let members: Members = serde_json::from_str(&text).map_err(|e| {
        Error::malformed(WHAT, format!("the {} is not valid JSON: {e}", part.name()))
    })?;
    Ok((text, members))
}

fn decode_object(part: Part, segment: &str) -> Result<Members> {
    decode_object_text(part, segment).map(|(_, m)| m)
}

/// The members as a map, refusing duplicate names (RFC 7515 §4, RFC 7519 §4).
fn unique(part: Part, members: Members) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for (name, value) in members.0 {
        if map.contains_key(&name) {
            let (rule, kind) = match part {
                Part::Payload => ("RFC 7519 §4", "claim"),
                _ => ("RFC 7515 §4", "header parameter"),
            };
            return Err(Error::malformed(
                WHAT,
                format!(
                    "the {} names the {kind} \"{name}\" twice; duplicates are refused ({rule})",
                    part.name()
                ),
            ));
        }
        map.insert(name, value);
    }
    Ok(map)
}

fn check_header(header: &Map<String, Value>) -> Result<()> {
    match header.get("alg") {
        None => {
            return Err(Error::malformed(
                WHAT,
                "the header has no \"alg\" parameter (RFC 7515 §4.1.1 makes it required)",
            ))
        }
        Some(Value::String(alg)) if alg == RS256 => {}
        Some(Value::String(alg)) if alg.eq_ignore_ascii_case("none") => {
            return Err(Error::malformed(
                WHAT,
                format!(
                    "alg \"{alg}\" marks an unsecured token with no signature (RFC 7518 §3.6): \
                     refused, only RS256 is accepted"
                ),
            ))
        }
        Some(Value::String(alg)) => {
            return Err(Error::malformed(
                WHAT,
                format!(
                    "alg \"{alg}\" is not accepted: only RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3)"
                ),
            ))
        }
        Some(other) => {
            return Err(Error::malformed(
                WHAT,
                format!("\"alg\" must be a string, found {}", json_type(other)),
            ))
        }
    }
    if header.contains_key("crit") {
        return Err(Error::malformed(
            WHAT,
            "the header lists critical extensions (\"crit\") that this parser does not implement (RFC 7515 §4.1.11)",
        ));
    }
    if let Some(kid) = header.get("kid") {
        if !kid.is_string() {
            return Err(Error::malformed(
                WHAT,
                format!("\"kid\" must be a string, found {}", json_type(kid)),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::formats::test_support::{
        blessing, mutate, mutate_text, other_key, user_key, write_fixture,
    };
    use base64ct::{Base64UrlUnpadded, Encoding};
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};
    use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
    use rsa::Pkcs1v15Sign;
    use serde_json::json;
    use sha2::{Digest, Sha256};
    use signature::{SignatureEncoding, Signer, Verifier};

    const KAT: &str = include_str!("../../tests/data/formats/jws-rs256-access-token.jwt");

    /// Fixed claims, keys inserted in sorted order so that the JSON text is
    /// the same with and without serde_json's `preserve_order`.
    pub(super) fn kat_claims() -> Map<String, Value> {
        let t = SimTime::DEFAULT_START.unix_seconds();
        let mut m = Map::new();
        for (k, v) in [
            ("amr", json!(["pwd", "mfa", "ngcmfa"])),
            (
                "aud",
                json!("urn:ms-drs:enterpriseregistration.windows.net"),
            ),
            ("deviceid", json!("6f9619ff-8b86-d011-b42d-00c04fc964ff")),
            ("exp", json!(t + 3600)),
            ("iat", json!(t)),
            (
                "iss",
                json!("https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"),
            ),
            ("nbf", json!(t)),
            ("upn", json!("alex@contoso.com")),
        ] {
            m.insert(k.into(), v);
        }
        m
    }

    pub(super) fn token() -> String {
        sign(&kat_claims(), user_key()).unwrap()
    }

    pub(super) fn b64(text: &str) -> String {
        b64url(text.as_bytes())
    }

    /// A token whose header and payload are the given JSON texts, with a dummy signature.
    fn raw(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", b64(header), b64(payload), b64url(&[1u8; 8]))
    }

    fn parse_err(token: &str) -> String {
        Jws::parse(token).unwrap_err().to_string()
    }

    #[test]
    fn known_answer_token_matches_the_fixture() {
        assert_eq!(token(), KAT.trim_end());
    }

    #[test]
    #[ignore = "writes fixtures; run with WHFB_BLESS=1"]
    fn bless_jws_fixture() {
        if blessing() {
            write_fixture(
                "jws-rs256-access-token.jwt",
                format!("{}\n", token()).as_bytes(),
            );
        }
    }

    #[test]
    fn sign_then_parse_round_trips() {
        let t = token();
        assert_eq!(t.matches('.').count(), 2);
        let jws = Jws::parse(&t).unwrap();
        assert_eq!(jws.as_str(), t);
        assert_eq!(jws.claims(), &kat_claims());
        let kid = thumbprint(&user_key().to_public_key());
        assert_eq!(jws.kid(), Some(kid.as_str()));
        assert_eq!(jws.typ(), Some("JWT"));
        assert_eq!(jws.signature().len(), 256);
        assert!(t.starts_with(jws.signing_input()));
        // The header is written alg, typ, kid, compact.
        let header = b64url_decode(t.split('.').next().unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(header).unwrap(),
            format!(r#"{{"alg":"RS256","typ":"JWT","kid":"{kid}"}}"#)
        );
        jws.verify(&user_key().to_public_key()).unwrap();
    }

    #[test]
    fn extra_header_fields_follow_and_may_override() {
        let mut extra = Map::new();
        extra.insert("x5t".into(), json!("abc"));
        extra.insert("kid".into(), json!("my-key"));
        let t = sign_with_header(&extra, &kat_claims(), user_key()).unwrap();
        let header =
            String::from_utf8(b64url_decode(t.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(
            header,
            r#"{"alg":"RS256","typ":"JWT","kid":"my-key","x5t":"abc"}"#
        );
        Jws::parse(&t)
            .unwrap()
            .verify(&user_key().to_public_key())
            .unwrap();
        extra.insert("alg".into(), json!("HS256"));
        assert!(matches!(
            sign_with_header(&extra, &kat_claims(), user_key()),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn sign_with_an_external_signer() {
        let mut header = Map::new();
        header.insert("alg".into(), json!("RS256"));
        header.insert("kid".into(), json!("device"));
        let signer = SigningKey::<Sha256>::new(user_key().clone());
        let t = sign_with(&header, &kat_claims(), |input| {
            Ok(signer.sign(input).to_vec())
        })
        .unwrap();
        Jws::parse(&t)
            .unwrap()
            .verify(&user_key().to_public_key())
            .unwrap();
        header.insert("alg".into(), json!("none"));
        assert!(sign_with(&header, &kat_claims(), |_| Ok(vec![1])).is_err());
        header.insert("alg".into(), json!("RS256"));
        assert!(matches!(
            sign_with(&header, &kat_claims(), |_| Ok(vec![])),
            Err(Error::Crypto(_))
        ));
    }

    /// The signature checked without this module: decode, hash, verify.
    #[test]
    fn signature_verifies_independently() {
        let t = token();
        let (input, sig) = t.rsplit_once('.').unwrap();
        let sig = Base64UrlUnpadded::decode_vec(sig).unwrap();
        let digest = Sha256::digest(input.as_bytes());
        let key = user_key().to_public_key();
        key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &sig)
            .unwrap();
        let vk = VerifyingKey::<Sha256>::new(key);
        vk.verify(
            input.as_bytes(),
            &Signature::try_from(sig.as_slice()).unwrap(),
        )
        .unwrap();
    }

    fn assert_signature_invalid(result: Result<()>) {
        match result {
            Err(Error::Invalid { what, .. }) => assert_eq!(what, "JWS signature"),
            other => panic!("expected an invalid signature, got {other:?}"),
        }
    }

    #[test]
    fn tampered_payload_fails_verification() {
        let t = token();
        let parts: Vec<&str> = t.split('.').collect();
        let payload = String::from_utf8(b64url_decode(parts[1]).unwrap()).unwrap();
        let forged = payload.replace("alex@contoso.com", "alex@contoso.org");
        assert_ne!(forged, payload);
        let forged = format!("{}.{}.{}", parts[0], b64(&forged), parts[2]);
        let jws = Jws::parse(&forged).unwrap();
        assert_eq!(jws.string_claim("upn").unwrap(), "alex@contoso.org");
        assert_signature_invalid(jws.verify(&user_key().to_public_key()));
    }

    #[test]
    fn tampered_signature_fails_verification() {
        let t = token();
        let (input, sig) = t.rsplit_once('.').unwrap();
        let mut sig = b64url_decode(sig).unwrap();
        sig[100] ^= 0x01;
        let jws = Jws::parse(&format!("{input}.{}", b64url(&sig))).unwrap();
        assert_signature_invalid(jws.verify(&user_key().to_public_key()));
        sig.pop();
        let short = Jws::parse(&format!("{input}.{}", b64url(&sig))).unwrap();
        let e = short
            .verify(&user_key().to_public_key())
            .unwrap_err()
            .to_string();
        assert!(e.contains("the signature is 255 bytes"), "{e}");
    }

    #[test]
    fn verify_with_a_key_set_finds_the_key_by_kid() {
        let mine = Jwk::from_public_key(&user_key().to_public_key());
        let other = Jwk::from_public_key(&other_key().to_public_key());
        let jws = Jws::parse(&token()).unwrap();
        jws.verify_with_set(&JwkSet::new(vec![other.clone(), mine]))
            .unwrap();
        let e = jws.verify_with_set(&JwkSet::new(vec![other])).unwrap_err();
        assert!(e.to_string().contains("no key with kid"), "{e}");
    }

    #[test]
    fn wrong_key_fails_verification() {
        let jws = Jws::parse(&token()).unwrap();
        assert_signature_invalid(jws.verify(&other_key().to_public_key()));
    }

    #[test]
    fn alg_none_and_other_algorithms_are_refused() {
        let unsecured = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(r#"{"sub":"x"}"#));
        let e = Jws::parse(&unsecured).unwrap_err();
        assert!(matches!(e, Error::Malformed { what: "JWS", .. }));
        assert!(
            e.to_string()
                .contains("alg \"none\" marks an unsecured token"),
            "{e}"
        );
        assert!(parse_err(&raw(r#"{"alg":"None"}"#, "{}")).contains("unsecured"));
        assert!(
            parse_err(&raw(r#"{"alg":"HS256"}"#, "{}")).contains("alg \"HS256\" is not accepted")
        );
        assert!(
            parse_err(&raw(r#"{"alg":"rs256"}"#, "{}")).contains("alg \"rs256\" is not accepted")
        );
        assert!(parse_err(&raw(r#"{"alg":256}"#, "{}"))
            .contains("\"alg\" must be a string, found a whole number"));
        assert!(parse_err(&raw(r#"{"typ":"JWT"}"#, "{}")).contains("no \"alg\" parameter"));
    }

    #[test]
    fn malformed_tokens_get_specific_messages() {
        let good = token();
        let parts: Vec<&str> = good.split('.').collect();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "the token is empty"),
            ("eyJhbGciOiJSUzI1NiJ9".into(), "found 1 segment and no '.'"),
            ("a.b".into(), "found 2 segments"),
            (format!("{good}.x"), "found 4 segments"),
            ("a.b.c.d.e".into(), "encrypted JWE"),
            (
                format!(".{}.{}", parts[1], parts[2]),
                "the protected header segment is empty",
            ),
            (
                format!("{}..{}", parts[0], parts[2]),
                "the payload segment is empty",
            ),
            (
                format!("{}.{}.", parts[0], parts[1]),
                "the signature segment is empty",
            ),
            (
                format!("!!.{}.{}", parts[1], parts[2]),
                "protected header segment is not base64url: character '!'",
            ),
            (
                format!("{}.{}=.{}", parts[0], parts[1], parts[2]),
                "payload segment is not base64url: padding",
            ),
            (
                format!("{}.{}.{}+", parts[0], parts[1], parts[2]),
                "signature segment is not base64url: '+'",
            ),
            (
                raw("{not json", "{}"),
                "the protected header is not valid JSON",
            ),
            (
                raw("[1,2]", "{}"),
                "the protected header is JSON but not an object: found an array",
            ),
            (
                raw("\"RS256\"", "{}"),
                "protected header is JSON but not an object: found a string",
            ),
            (
                format!("{}.{}.AQ", b64url(&[0xff, 0xfe]), parts[1]),
                "the protected header is not UTF-8",
            ),
            (
                raw(r#"{"alg":"RS256"}"#, "[]"),
                "the payload is JSON but not an object",
            ),
            (
                raw(r#"{"alg":"RS256"}"#, "{\"a\":"),
                "the payload is not valid JSON",
            ),
            (
                raw(r#"{"alg":"RS256","alg":"RS256"}"#, "{}"),
                "names the header parameter \"alg\" twice",
            ),
            (
                raw(r#"{"alg":"RS256"}"#, r#"{"exp":1,"exp":2}"#),
                "names the claim \"exp\" twice",
            ),
            (
                raw(r#"{"alg":"RS256","crit":["exp"]}"#, "{}"),
                "critical extensions",
            ),
            (
                raw(r#"{"alg":"RS256","kid":7}"#, "{}"),
                "\"kid\" must be a string",
            ),
        ];
        for (input, expected) in cases {
            let e = Jws::parse(&input).unwrap_err();
            assert!(matches!(e, Error::Malformed { .. }), "{input:?}: {e:?}");
            assert!(e.to_string().contains(expected), "{input:?}: {e}");
        }
    }

    #[test]
    fn claim_helpers_are_typed() {
        let jws = Jws::parse(&token()).unwrap();
        let t = SimTime::DEFAULT_START;
        assert_eq!(jws.iat().unwrap(), t);
        assert_eq!(jws.exp().unwrap().unix_seconds(), t.unix_seconds() + 3600);
        assert_eq!(jws.nbf().unwrap(), Some(t));
        assert_eq!(
            jws.aud().unwrap(),
            ["urn:ms-drs:enterpriseregistration.windows.net"]
        );
        assert_eq!(jws.amr().unwrap(), ["pwd", "mfa", "ngcmfa"]);
        assert_eq!(jws.string_claim("upn").unwrap(), "alex@contoso.com");
        assert_eq!(jws.number_claim("exp"), Some(t.unix_seconds() + 3600));
        assert_eq!(
            jws.audiences(),
            ["urn:ms-drs:enterpriseregistration.windows.net"]
        );
        assert_eq!(jws.string_list_claim("amr"), ["pwd", "mfa", "ngcmfa"]);

        let odd = Jws::parse(&raw(
            r#"{"alg":"RS256"}"#,
            r#"{"aud":["a","b"],"exp":"soon","iat":-5,"nbf":1.5,"amr":"pwd","upn":3,"scp":[1]}"#,
        ))
        .unwrap();
        assert_eq!(odd.aud().unwrap(), ["a", "b"]);
        let msg = |r: Result<SimTime>| r.unwrap_err().to_string();
        assert_eq!(
            msg(odd.exp()),
            "malformed JWT claim: \"exp\" must be a NumericDate (whole seconds since 1970, RFC 7519 §2), found a string"
        );
        assert!(msg(odd.iat()).contains("found a negative number"));
        assert!(odd
            .nbf()
            .unwrap_err()
            .to_string()
            .contains("found a fractional number"));
        assert!(odd
            .amr()
            .unwrap_err()
            .to_string()
            .contains("\"amr\" must be an array of strings, found a string"));
        assert!(odd
            .string_claim("upn")
            .unwrap_err()
            .to_string()
            .contains("must be a string, found a whole number"));
        assert!(odd
            .array_claim("scp")
            .unwrap_err()
            .to_string()
            .contains("found a whole number"));
        assert_eq!(
            odd.string_claim("tid").unwrap_err().to_string(),
            "malformed JWT claim: \"tid\" is missing"
        );
        assert_eq!(odd.number_claim("exp"), None);
        assert!(odd.string_list_claim("amr").is_empty());
        let single = Jws::parse(&raw(r#"{"alg":"RS256"}"#, r#"{"aud":5}"#)).unwrap();
        assert!(single
            .aud()
            .unwrap_err()
            .to_string()
            .contains("a string or an array of strings"));
        assert!(single.audiences().is_empty());
        assert_eq!(single.nbf().unwrap(), None);
    }

    /// 20,000 mutated tokens: parsing and the view answer, they never panic.
    #[test]
    fn parsing_never_panics() {
        let valid = token();
        let parts: Vec<String> = valid.split('.').map(str::to_string).collect();
        let header = String::from_utf8(b64url_decode(&parts[0]).unwrap()).unwrap();
        let payload = String::from_utf8(b64url_decode(&parts[1]).unwrap()).unwrap();
        let b64_alphabet: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain(*b"-_.")
            .collect();
        let json_alphabet = br#"{}[]":,0123456789-.eE truefalsnl\u"alg RS256 none exp"#;
        let mut rng = ChaCha20Rng::seed_from_u64(0x7515);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let input = match rng.next_u32() % 3 {
                0 => mutate_text(&mut rng, &valid, &b64_alphabet),
                1 => format!(
                    "{}.{}.{}",
                    b64(&mutate_text(&mut rng, &header, json_alphabet)),
                    parts[1],
                    parts[2]
                ),
                _ => format!(
                    "{}.{}.{}",
                    parts[0],
                    b64url(&mutate(&mut rng, payload.as_bytes())),
                    parts[2]
                ),
            };
            if let Ok(jws) = Jws::parse(&input) {
                parsed += 1;
                let _ = jws.iat();
                let _ = jws.aud();
                let _ = jws.amr();
            }
            let _ = fields(&input);
        }
        assert!(parsed > 0);
    }
}
