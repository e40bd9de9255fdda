//! The DN-Binary string form of an msDS-KeyCredentialLink value
//! (Object(DN-Binary), attribute syntax 2.5.5.7; MS-DVRJ 2.3.4, MS-KPP 2.3.3):
//! `B:<number of hex characters>:<HEX>:<owner DN>`.

use super::KeyCredentialLink;
use crate::artifact::Field;
use crate::error::{Error, Result};
use crate::formats::encoding::{hex_digit, hex_upper};
use std::fmt;

const DN_BINARY: &str = "DN-Binary";

/// An msDS-KeyCredentialLink value in its LDAP string form, Object(DN-Binary)
/// (attribute syntax 2.5.5.7; MS-DVRJ 2.3.4, MS-KPP 2.3.3):
/// `B:<number of hex characters>:<HEX>:<owner DN>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnBinary {
    binary: Vec<u8>,
    dn: String,
}

impl DnBinary {
    /// The value for `binary` on the object `dn` (which should not be empty:
    /// [`DnBinary::parse`] refuses an empty DN).
    pub fn new(binary: Vec<u8>, dn: impl Into<String>) -> Self {
        Self {
            binary,
            dn: dn.into(),
        }
    }

    /// Parses `B:<count>:<hex>:<DN>`. The count must equal the number of hex
    /// characters (even, since each byte is two); hex digits may be either case.
    pub fn parse(text: &str) -> Result<Self> {
        let parts = DnBinaryParts::split(text)?;
        let hex_text = &text[parts.hex.clone()];
        if let Some((i, c)) = hex_text
            .char_indices()
            .find(|&(_, c)| !c.is_ascii_hexdigit())
        {
            return Err(Error::malformed(
                DN_BINARY,
                format!(
                    "{c:?} at position {} is not a hex digit",
                    parts.hex.start + i
                ),
            ));
        }
        // Every character is an ASCII hex digit and their number is even (split checked).
        let binary: Vec<u8> = hex_text
            .as_bytes()
            .chunks(2)
            .map(|pair| {
                pair.iter()
                    .fold(0u8, |acc, &c| (acc << 4) | hex_digit(c).unwrap_or(0))
            })
            .collect();
        Ok(Self {
            binary,
            dn: text[parts.dn].to_string(),
        })
    }

    /// The binary part (here a KEYCREDENTIALLINK_BLOB).
    pub fn binary(&self) -> &[u8] {
        &self.binary
    }

    /// The owner DN.
    pub fn dn(&self) -> &str {
        &self.dn
    }

    /// The decoded view: tag, count, binary value (with the
    /// KEYCREDENTIALLINK_BLOB's fields mapped onto their hex characters) and
    /// owner DN. The ':' separators belong to no field.
    pub fn fields(text: &str) -> Result<Vec<Field>> {
        let value = Self::parse(text)?;
        let parts = DnBinaryParts::split(text)?;
        const SPEC: &str = "MS-DVRJ 2.3.4; MS-ADTS 3.1.1.2.2.2 (Object(DN-Binary))";
        let hex_at = parts.hex.start;
        // Each byte is two hex characters: a blob field at (o, l) covers (hex_at + 2o, 2l).
        let children = KeyCredentialLink::fields(&value.binary)
            .map(|fields| {
                fields
                    .into_iter()
                    .map(|f| to_hex_positions(f, hex_at))
                    .collect()
            })
            .unwrap_or_default();
        Ok(vec![
            Field::new(
                "Tag",
                "B",
                "Marks the DN-Binary form B:count:hex:DN.",
                SPEC,
                0,
                1,
            ),
            Field::new(
                "Count",
                format!(
                    "{} hex characters ({} bytes)",
                    parts.hex.len(),
                    value.binary.len()
                ),
                "How many hex characters follow: twice the number of bytes.",
                SPEC,
                parts.count.start,
                parts.count.len(),
            ),
            Field::new(
                "Binary value",
                format!("{} bytes, KEYCREDENTIALLINK_BLOB", value.binary.len()),
                "The binary part in uppercase hex: here a KEYCREDENTIALLINK_BLOB.",
                "MS-DVRJ 2.3.4; MS-ADTS 2.2.20.2",
                parts.hex.start,
                parts.hex.len(),
            )
            .with_children(children),
            Field::new(
                "Owner DN",
                value.dn.clone(),
                "Distinguished name (RFC 4514) of the object that holds the attribute.",
                SPEC,
                parts.dn.start,
                parts.dn.len(),
            ),
        ])
    }
}

fn to_hex_positions(mut f: Field, hex_at: usize) -> Field {
    f.offset = hex_at + 2 * f.offset;
    f.len *= 2;
    f.children = f
        .children
        .into_iter()
        .map(|c| to_hex_positions(c, hex_at))
        .collect();
    f
}

impl fmt::Display for DnBinary {
    /// `B:828:0002000020000166…:CN=…`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "B:{}:{}:{}",
            self.binary.len() * 2,
            hex_upper(&self.binary),
            self.dn
        )
    }
}

/// Byte ranges of the count, the hex and the DN in a DN-Binary string, with
/// every rule but the hex digits checked.
struct DnBinaryParts {
    count: std::ops::Range<usize>,
    hex: std::ops::Range<usize>,
    dn: std::ops::Range<usize>,
}

impl DnBinaryParts {
    fn split(text: &str) -> Result<Self> {
        let err = |reason: String| Error::malformed(DN_BINARY, reason);
        if !text.starts_with("B:") {
            return Err(err("a DN-Binary value starts with \"B:\"".into()));
        }
        let count_start = 2;
        let count_end = text[count_start..]
            .find(':')
            .map(|i| count_start + i)
            .ok_or_else(|| err("no ':' after the character count".into()))?;
        let count_text = &text[count_start..count_end];
        if count_text.is_empty() || !count_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!(
                "the count {count_text:?} is not a decimal number"
            )));
        }
        let count: usize = count_text
            .parse()
            .map_err(|_| err(format!("the count {count_text} is too large")))?;
        let hex_start = count_end + 1;
        let hex_end = text[hex_start..]
            .find(':')
            .map_or(text.len(), |i| hex_start + i);
        let found = hex_end - hex_start;
        if count != found {
            return Err(err(format!(
                "wrong count: B:{count}: announces {count} hex characters, the value has {found}"
            )));
        }
        if count % 2 != 0 {
            return Err(err(format!(
                "odd number of hex characters ({count}): each byte takes two"
            )));
        }
        if hex_end == text.len() {
            return Err(err("no ':' and owner DN after the binary value".into()));
        }
        let dn = hex_end + 1..text.len();
        if dn.is_empty() {
            return Err(err("the owner DN after the last ':' is empty".into()));
        }
        Ok(Self {
            count: count_start..count_end,
            hex: hex_start..hex_end,
            dn,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::tests::{kat, KAT_BIN, KAT_DN_BINARY, OWNER_DN};
    use super::*;
    use crate::formats::encoding::hex;
    use crate::formats::test_support::{assert_tiles, mutate_text};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn dn_binary_known_answer_and_round_trip() {
        let text = KAT_DN_BINARY.trim_end();
        assert!(text.starts_with("B:828:0002000020000"));
        assert!(text.ends_with(&format!(":{OWNER_DN}")));
        let built = KeyCredentialLink::parse(&kat())
            .unwrap()
            .to_dn_binary(OWNER_DN)
            .to_string();
        assert_eq!(built, text);
        let parsed = DnBinary::parse(text).unwrap();
        assert_eq!(parsed.binary(), KAT_BIN);
        assert_eq!(parsed.dn(), OWNER_DN);
        assert_eq!(parsed.to_string(), text);
        // Lowercase hex reads the same.
        let lower = format!("B:828:{}:{OWNER_DN}", hex(KAT_BIN));
        assert_eq!(DnBinary::parse(&lower).unwrap(), parsed);
        // A DN may itself contain ':'.
        let odd_dn = DnBinary::new(vec![0xAB], "CN=a:b,DC=x");
        assert_eq!(DnBinary::parse(&odd_dn.to_string()).unwrap(), odd_dn);
    }

    #[test]
    fn dn_binary_errors_are_specific() {
        let hex = hex_upper(KAT_BIN);
        let cases = [
            (format!("X:828:{hex}:{OWNER_DN}"), "starts with \"B:\""),
            ("B:828".to_string(), "no ':' after the character count"),
            (
                format!("B:82a:{hex}:{OWNER_DN}"),
                "the count \"82a\" is not a decimal number",
            ),
            (
                format!("B::{hex}:{OWNER_DN}"),
                "the count \"\" is not a decimal number",
            ),
            (
                format!("B:830:{hex}:{OWNER_DN}"),
                "wrong count: B:830: announces 830 hex characters, the value has 828",
            ),
            (
                format!("B:827:{}:{OWNER_DN}", &hex[..827]),
                "odd number of hex characters (827)",
            ),
            (
                format!("B:828:{}G:{OWNER_DN}", &hex[..827]),
                "'G' at position 833 is not a hex digit",
            ),
            (
                format!("B:828:{hex}"),
                "no ':' and owner DN after the binary value",
            ),
            (
                format!("B:828:{hex}:"),
                "the owner DN after the last ':' is empty",
            ),
            (
                format!("B:99999999999999999999999:{hex}:{OWNER_DN}"),
                "too large",
            ),
        ];
        for (input, expected) in cases {
            let e = DnBinary::parse(&input).unwrap_err();
            assert!(matches!(
                e,
                Error::Malformed {
                    what: "DN-Binary",
                    ..
                }
            ));
            assert!(e.to_string().contains(expected), "{expected}: {e}");
        }
    }

    #[test]
    fn dn_binary_fields_map_blob_fields_onto_hex() {
        let text = KAT_DN_BINARY.trim_end();
        let fields = DnBinary::fields(text).unwrap();
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Tag", "Count", "Binary value", "Owner DN"]);
        assert_eq!(&text[fields[1].range()], "828");
        assert_eq!(fields[2].offset, 6);
        assert_eq!(fields[2].len, 828);
        assert_eq!(&text[fields[3].range()], OWNER_DN);
        // The blob's fields tile the hex, two characters per byte.
        assert_tiles(&fields[2].children, 6, 828);
        let key_id = &fields[2].children[1];
        assert_eq!(&text[key_id.range()], &hex_upper(&KAT_BIN[4..39]));
    }

    /// 20,000 mutated DN-Binary strings: parsing and the view answer, they never panic.
    #[test]
    fn parsing_never_panics() {
        let text = KAT_DN_BINARY.trim_end().to_string();
        let mut rng = ChaCha20Rng::seed_from_u64(0xD4B1);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let dn = mutate_text(&mut rng, &text, b"B:0123456789ABCDEFabcdef,=CN");
            if let Ok(v) = DnBinary::parse(&dn) {
                accepted += 1;
                assert_eq!(
                    DnBinary::parse(&v.to_string()).unwrap().binary(),
                    v.binary()
                );
            }
            let _ = DnBinary::fields(&dn);
        }
        assert!(accepted > 0);
    }
}
