//! GUIDs: device IDs, tenant and object IDs.
//!
//! The text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` reads the 16 bytes in
//! RFC 4122 order (big-endian groups). Windows stores a GUID in memory, and in
//! the DeviceId entry of a KEYCREDENTIALLINK_BLOB, as the `GUID` structure
//! (MS-DTYP 2.3.4: Data1 u32, Data2 u16, Data3 u16, Data4 [u8; 8]) with the
//! integers little-endian: the .NET `Guid.ToByteArray()` order, where the first
//! three groups are byte-reversed.

use crate::error::{Error, Result};
use crate::formats::encoding::hex_digit;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A GUID, held in RFC 4122 (text) byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Guid([u8; 16]);

impl Guid {
    /// The all-zero GUID (a DeviceId entry may hold it: "no device").
    pub const NIL: Guid = Guid([0; 16]);

    /// From the 16 bytes in text order.
    pub const fn from_rfc4122_bytes(bytes: [u8; 16]) -> Self {
        Guid(bytes)
    }

    /// The 16 bytes in text order.
    pub const fn to_rfc4122_bytes(self) -> [u8; 16] {
        self.0
    }

    /// From the Windows / .NET in-memory layout (MS-DTYP 2.3.4).
    pub fn from_dotnet_bytes(b: [u8; 16]) -> Self {
        Guid(swap_first_three_groups(b))
    }

    /// The Windows / .NET in-memory layout (MS-DTYP 2.3.4): Data1, Data2 and
    /// Data3 little-endian, Data4 as is.
    pub fn to_dotnet_bytes(self) -> [u8; 16] {
        swap_first_three_groups(self.0)
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (either case; braces allowed).
    pub fn parse(text: &str) -> Result<Self> {
        let inner = text
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(text);
        if !inner.is_ascii() {
            return Err(Error::malformed(
                "GUID",
                format!("{text:?} holds a character that is not a hex digit or '-'"),
            ));
        }
        let bytes = inner.as_bytes();
        if bytes.len() != 36 {
            return Err(Error::malformed(
                "GUID",
                format!(
                    "{text:?} has {} characters; a GUID is 36 (8-4-4-4-12 hex digits)",
                    bytes.len()
                ),
            ));
        }
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &c) in bytes.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return Err(Error::malformed(
                        "GUID",
                        format!("{text:?}: expected '-' at position {i}"),
                    ));
                }
                continue;
            }
            let v = hex_digit(c).ok_or_else(|| {
                Error::malformed(
                    "GUID",
                    format!(
                        "{text:?}: {:?} at position {i} is not a hex digit",
                        c as char
                    ),
                )
            })?;
            out[nibbles / 2] |= if nibbles % 2 == 0 { v << 4 } else { v };
            nibbles += 1;
        }
        Ok(Guid(out))
    }
}

fn swap_first_three_groups(mut b: [u8; 16]) -> [u8; 16] {
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    b
}

impl fmt::Display for Guid {
    /// Lowercase `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Guid {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Guid::parse(s)
    }
}

impl Serialize for Guid {
    /// As its text form, the way JSON documents and claims carry GUIDs.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Guid::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TEXT: &str = "00112233-4455-6677-8899-aabbccddeeff";

    #[test]
    fn text_round_trip() {
        let g = Guid::parse(TEXT).unwrap();
        assert_eq!(g.to_string(), TEXT);
        assert_eq!(Guid::parse(&TEXT.to_uppercase()).unwrap(), g);
        assert_eq!(Guid::parse(&format!("{{{TEXT}}}")).unwrap(), g);
        assert_eq!(g.to_rfc4122_bytes()[0], 0x00);
        assert_eq!(g.to_rfc4122_bytes()[15], 0xff);
    }

    #[test]
    fn dotnet_order_reverses_the_first_three_groups() {
        let g = Guid::parse(TEXT).unwrap();
        // What .NET's new Guid("00112233-…").ToByteArray() returns.
        let dotnet = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(g.to_dotnet_bytes(), dotnet);
        assert_eq!(Guid::from_dotnet_bytes(dotnet), g);
    }

    #[test]
    fn malformed_text_is_refused_with_a_reason() {
        for (bad, reason) in [
            ("", "has 0 characters"),
            ("00112233-4455-6677-8899-aabbccddeef", "has 35 characters"),
            (
                "00112233x4455-6677-8899-aabbccddeeff",
                "expected '-' at position 8",
            ),
            (
                "0011223g-4455-6677-8899-aabbccddeeff",
                "'g' at position 7 is not a hex digit",
            ),
            (
                "é0112233-4455-6677-8899-aabbccddeef",
                "not a hex digit or '-'",
            ),
        ] {
            let err = Guid::parse(bad).unwrap_err().to_string();
            assert!(err.contains(reason), "{bad:?}: {err}");
        }
    }

    #[test]
    fn serde_uses_the_text_form() {
        let g = Guid::parse(TEXT).unwrap();
        let json = serde_json::to_string(&g).unwrap();
        assert_eq!(json, format!("\"{TEXT}\""));
        assert_eq!(serde_json::from_str::<Guid>(&json).unwrap(), g);
        assert!(serde_json::from_str::<Guid>("\"nope\"").is_err());
    }
}
