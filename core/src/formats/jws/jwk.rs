//! RSA JSON Web Keys (RFC 7517 §4, RFC 7518 §6.3.1), JWK Sets (RFC 7517 §5)
//! and RFC 7638 thumbprints, which this project uses as `kid`.

use super::{json_type, RS256};
use crate::error::{Error, Result};
use crate::formats::encoding::{b64url, b64url_decode};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

const JWK: &str = "JWK";
const JWK_SET: &str = "JWK Set";

/// The RFC 7638 thumbprint of an RSA key: base64url of the SHA-256 of
/// `{"e":…,"kty":"RSA","n":…}` (required members only, sorted, no spaces).
pub fn thumbprint(key: &RsaPublicKey) -> String {
    rsa_thumbprint(&key.n().to_bytes_be(), &key.e().to_bytes_be())
}

fn rsa_thumbprint(n: &[u8], e: &[u8]) -> String {
    // base64url text needs no JSON escaping, so plain formatting is canonical.
    let canonical = format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64url(e), b64url(n));
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// An RSA public JSON Web Key (RFC 7517 §4, RFC 7518 §6.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jwk {
    n: Vec<u8>,
    e: Vec<u8>,
    kid: Option<String>,
    use_: Option<String>,
    alg: Option<String>,
}

impl Jwk {
    /// The JWK a token issuer publishes for its signing key: `use` "sig",
    /// `alg` RS256, `kid` the RFC 7638 thumbprint.
    pub fn from_public_key(key: &RsaPublicKey) -> Jwk {
        Jwk {
            n: key.n().to_bytes_be(),
            e: key.e().to_bytes_be(),
            kid: Some(thumbprint(key)),
            use_: Some("sig".into()),
            alg: Some(RS256.into()),
        }
    }

    /// Reads an RSA JWK (the `kty`, `n`, `e` members; `kid`, `use`, `alg` when
    /// present). Private members (`d`, `p`, …) are refused: a published key
    /// set must not carry them.
    pub fn from_value(value: &Value) -> Result<Jwk> {
        let obj = value.as_object().ok_or_else(|| {
            Error::malformed(
                JWK,
                format!("a JWK is a JSON object, found {}", json_type(value)),
            )
        })?;
        let text = |name: &str| -> Result<Option<String>> {
            match obj.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(Error::malformed(
                    JWK,
                    format!("\"{name}\" must be a string, found {}", json_type(other)),
                )),
            }
        };
        match text("kty")?.as_deref() {
            Some("RSA") => {}
            Some(other) => {
                return Err(Error::malformed(JWK, format!("kty \"{other}\" is not RSA")));
            }
            None => return Err(Error::malformed(JWK, "\"kty\" is missing (RFC 7517 §4.1)")),
        }
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            if obj.contains_key(private) {
                return Err(Error::invalid(
                    JWK,
                    format!("the key carries the private member \"{private}\": only public keys belong here"),
                ));
            }
        }
        let number = |name: &str| -> Result<Vec<u8>> {
            let t = text(name)?.ok_or_else(|| {
                Error::malformed(JWK, format!("\"{name}\" is missing (RFC 7518 §6.3.1)"))
            })?;
            let bytes = b64url_decode(&t).map_err(|reason| {
                Error::malformed(JWK, format!("\"{name}\" is not base64url: {reason}"))
            })?;
            if bytes.is_empty() {
                return Err(Error::malformed(JWK, format!("\"{name}\" is empty")));
            }
            Ok(bytes)
        };
        Ok(Jwk {
            n: number("n")?,
            e: number("e")?,
            kid: text("kid")?,
            use_: text("use")?,
            alg: text("alg")?,
        })
    }

    /// The JSON form: `kty`, `use`, `alg`, `kid`, `n`, `e`.
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("kty".into(), "RSA".into());
        if let Some(u) = &self.use_ {
            m.insert("use".into(), u.as_str().into());
        }
        if let Some(a) = &self.alg {
            m.insert("alg".into(), a.as_str().into());
        }
        if let Some(k) = &self.kid {
            m.insert("kid".into(), k.as_str().into());
        }
        m.insert("n".into(), b64url(&self.n).into());
        m.insert("e".into(), b64url(&self.e).into());
        Value::Object(m)
    }

    /// The `rsa` crate's key.
    pub fn to_public_key(&self) -> Result<RsaPublicKey> {
        RsaPublicKey::new(
            BigUint::from_bytes_be(&self.n),
            BigUint::from_bytes_be(&self.e),
        )
        .map_err(|e| Error::invalid(JWK, format!("not a usable RSA public key: {e}")))
    }

    /// The key's RFC 7638 thumbprint (whatever its `kid` says).
    pub fn thumbprint(&self) -> String {
        rsa_thumbprint(&self.n, &self.e)
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `use` (RFC 7517 §4.2).
    pub fn key_use(&self) -> Option<&str> {
        self.use_.as_deref()
    }

    pub fn alg(&self) -> Option<&str> {
        self.alg.as_deref()
    }
}

/// A JWK Set document, `{"keys":[…]}` (RFC 7517 §5): what an issuer
/// publishes so that token consumers can find a key by `kid`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

impl JwkSet {
    pub fn new(keys: Vec<Jwk>) -> Self {
        JwkSet { keys }
    }

    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// Reads a JWK Set. Keys of another `kty` are skipped, as RFC 7517 §5
    /// asks; a broken RSA key is an error naming its index.
    pub fn from_value(value: &Value) -> Result<JwkSet> {
        let keys = value.get("keys").and_then(Value::as_array).ok_or_else(|| {
            Error::malformed(JWK_SET, "a JWK Set is an object with a \"keys\" array")
        })?;
        let mut out = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if key
                .get("kty")
                .and_then(Value::as_str)
                .is_some_and(|k| k != "RSA")
            {
                continue;
            }
            let jwk = Jwk::from_value(key)
                .map_err(|e| Error::malformed(JWK_SET, format!("keys[{i}]: {e}")))?;
            out.push(jwk);
        }
        Ok(JwkSet { keys: out })
    }

    /// Parses a JWK Set document.
    pub fn parse(text: &str) -> Result<JwkSet> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::malformed(JWK_SET, format!("not valid JSON: {e}")))?;
        Self::from_value(&value)
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "keys".into(),
            Value::Array(self.keys.iter().map(Jwk::to_value).collect()),
        );
        Value::Object(m)
    }

    /// The key with this `kid`.
    pub fn find(&self, kid: &str) -> Result<&Jwk> {
        self.keys
            .iter()
            .find(|k| k.kid() == Some(kid))
            .ok_or_else(|| {
                let known: Vec<&str> = self.keys.iter().filter_map(Jwk::kid).collect();
                Error::invalid(
                    JWK_SET,
                    format!(
                        "no key with kid \"{kid}\" among the {} published ({})",
                        known.len(),
                        known.join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{other_key, user_key};
    use serde_json::json;

    #[test]
    fn rfc_7638_thumbprint_example() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let jwk = Jwk::from_value(&json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(thumbprint(&jwk.to_public_key().unwrap()), jwk.thumbprint());
        assert_eq!(jwk.kid(), Some("2011-04-29"));
    }

    #[test]
    fn jwk_round_trips_and_sets_find_by_kid() {
        let key = user_key().to_public_key();
        let jwk = Jwk::from_public_key(&key);
        let v = jwk.to_value();
        assert_eq!(v["kty"], "RSA");
        assert_eq!(v["use"], "sig");
        assert_eq!(v["alg"], "RS256");
        assert_eq!(v["e"], "AQAB");
        assert_eq!(v["kid"], thumbprint(&key).as_str());
        assert_eq!(Jwk::from_value(&v).unwrap(), jwk);
        assert_eq!(jwk.to_public_key().unwrap(), key);
        assert_eq!(jwk.key_use(), Some("sig"));
        assert_eq!(jwk.alg(), Some("RS256"));

        let other = Jwk::from_public_key(&other_key().to_public_key());
        let set = JwkSet::new(vec![jwk.clone(), other.clone()]);
        let text = serde_json::to_string(&set.to_value()).unwrap();
        let back = JwkSet::parse(&text).unwrap();
        assert_eq!(back, set);
        assert_eq!(back.find(other.kid().unwrap()).unwrap(), &other);
        let e = back.find("nope").unwrap_err().to_string();
        assert!(
            e.contains("no key with kid \"nope\" among the 2 published"),
            "{e}"
        );
    }

    #[test]
    fn jwk_errors_are_specific() {
        let n = b64url(&user_key().to_public_key().n().to_bytes_be());
        let cases = [
            (json!([1]), "a JWK is a JSON object"),
            (json!({"n": n, "e": "AQAB"}), "\"kty\" is missing"),
            (json!({"kty": "EC"}), "kty \"EC\" is not RSA"),
            (json!({"kty": "RSA", "e": "AQAB"}), "\"n\" is missing"),
            (
                json!({"kty": "RSA", "n": n, "e": "AQ=="}),
                "\"e\" is not base64url",
            ),
            (
                json!({"kty": "RSA", "n": n, "e": 65537}),
                "\"e\" must be a string",
            ),
            (
                json!({"kty": "RSA", "n": n, "e": "AQAB", "d": "AQ"}),
                "private member \"d\"",
            ),
        ];
        for (value, expected) in cases {
            let e = Jwk::from_value(&value).unwrap_err().to_string();
            assert!(e.contains(expected), "{value}: {e}");
        }
        let set =
            JwkSet::from_value(&json!({"keys": [{"kty": "EC", "crv": "P-256"}, {"kty": "RSA"}]}));
        assert!(set.unwrap_err().to_string().contains("keys[1]: "));
        let only_ec = JwkSet::from_value(&json!({"keys": [{"kty": "EC"}]})).unwrap();
        assert!(only_ec.keys().is_empty());
        assert!(JwkSet::parse("{}")
            .unwrap_err()
            .to_string()
            .contains("\"keys\" array"));
        assert!(JwkSet::parse("nope").is_err());
    }
}
