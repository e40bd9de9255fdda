//! The pieces of Kerberos's ASN.1 (RFC 4120 §5) that the `der` crate does
//! not have: the `[APPLICATION n]` and EXPLICIT `[n]` wrappers written out
//! as types, and `KerberosString`, a GeneralString (universal tag 27), which
//! `der` 0.7's tag set lacks.
//!
//! Every tag in RFC 4120's module and RFC 4556's is EXPLICIT unless marked
//! IMPLICIT ("DEFINITIONS EXPLICIT TAGS"), so a field `name [n] Type` is an
//! [`Explicit<n, Type>`]: the structures' fields carry no attributes, and
//! the derive encodes each in order.

use der::{
    DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Tag, TagNumber, Writer,
};
use std::fmt;

/// `[n] EXPLICIT T`: a constructed context-specific tag around T's whole
/// encoding.
#[derive(Clone, PartialEq, Eq)]
pub struct Explicit<const N: u8, T>(pub T);

impl<const N: u8, T: fmt::Debug> fmt::Debug for Explicit<N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const N: u8, T> FixedTag for Explicit<N, T> {
    const TAG: Tag = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::new(N),
    };
}

impl<const N: u8, T: Encode> EncodeValue for Explicit<N, T> {
    fn value_len(&self) -> der::Result<Length> {
        self.0.encoded_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode(writer)
    }
}

impl<'a, const N: u8, T: der::Decode<'a>> DecodeValue<'a> for Explicit<N, T> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |r| T::decode(r).map(Explicit))
    }
}

impl<const N: u8, T> From<T> for Explicit<N, T> {
    fn from(value: T) -> Self {
        Explicit(value)
    }
}

/// `[APPLICATION n] T`: how RFC 4120 names its messages (AS-REQ is
/// `[APPLICATION 10] KDC-REQ`), a constructed application tag around T.
#[derive(Clone, PartialEq, Eq)]
pub struct Application<const N: u8, T>(pub T);

impl<const N: u8, T: fmt::Debug> fmt::Debug for Application<N, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[APPLICATION {N}] ")?;
        self.0.fmt(f)
    }
}

impl<const N: u8, T> FixedTag for Application<N, T> {
    const TAG: Tag = Tag::Application {
        constructed: true,
        number: TagNumber::new(N),
    };
}

impl<const N: u8, T: Encode> EncodeValue for Application<N, T> {
    fn value_len(&self) -> der::Result<Length> {
        self.0.encoded_len()
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.encode(writer)
    }
}

impl<'a, const N: u8, T: der::Decode<'a>> DecodeValue<'a> for Application<N, T> {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        reader.read_nested(header.length, |r| T::decode(r).map(Application))
    }
}

/// The identifier octet of GeneralString (X.680 §41; universal 27).
const GENERAL_STRING: u8 = 0x1B;

/// ```text
/// KerberosString  ::= GeneralString (IA5String)
/// ```
///
/// RFC 4120 §5.2.1: a GeneralString whose characters are IA5, so ASCII.
/// Encoded and decoded here byte by byte, since `der`'s tag set has no
/// GeneralString; anything but ASCII is refused both ways.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KerberosString(String);

impl KerberosString {
    pub fn new(text: &str) -> der::Result<KerberosString> {
        if text.is_ascii() {
            Ok(KerberosString(text.to_string()))
        } else {
            Err(der::Tag::Ia5String.value_error())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KerberosString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for KerberosString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Encode for KerberosString {
    fn encoded_len(&self) -> der::Result<Length> {
        let len = Length::try_from(self.0.len())?;
        len.encoded_len()? + len + Length::ONE
    }

    fn encode(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write_byte(GENERAL_STRING)?;
        Length::try_from(self.0.len())?.encode(writer)?;
        writer.write(self.0.as_bytes())
    }
}

impl<'a> der::Decode<'a> for KerberosString {
    fn decode<R: Reader<'a>>(reader: &mut R) -> der::Result<Self> {
        let tag = reader.read_byte()?;
        if tag != GENERAL_STRING {
            return Err(der::ErrorKind::TagUnexpected {
                expected: None,
                actual: Tag::try_from(tag).unwrap_or(Tag::Null),
            }
            .into());
        }
        let len = Length::decode(reader)?;
        let bytes = reader.read_slice(len)?;
        match std::str::from_utf8(bytes) {
            Ok(text) if text.is_ascii() => Ok(KerberosString(text.to_string())),
            _ => Err(Tag::Ia5String.value_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{Decode, Encode};

    #[test]
    fn a_kerberos_string_is_a_general_string() {
        let s = KerberosString::new("CONTOSO.COM").unwrap();
        let der = s.to_der().unwrap();
        assert_eq!(der[0], 0x1B);
        assert_eq!(der[1] as usize, "CONTOSO.COM".len());
        assert_eq!(KerberosString::from_der(&der).unwrap(), s);
        assert!(KerberosString::new("Zoë").is_err());
        // An IA5String in its place, or non-ASCII bytes, are refused.
        assert!(KerberosString::from_der(&[0x16, 1, b'a']).is_err());
        assert!(KerberosString::from_der(&[0x1B, 1, 0xE9]).is_err());
        assert!(KerberosString::from_der(&[0x1B, 5, b'a']).is_err());
    }

    #[test]
    fn explicit_and_application_wrap_the_whole_encoding() {
        let v: Explicit<1, i32> = Explicit(5);
        assert_eq!(v.to_der().unwrap(), [0xA1, 3, 0x02, 1, 5]);
        let a: Application<10, Explicit<1, i32>> = Application(v.clone());
        let der = a.to_der().unwrap();
        assert_eq!(der, [0x6A, 5, 0xA1, 3, 0x02, 1, 5]);
        assert_eq!(
            Application::<10, Explicit<1, i32>>::from_der(&der).unwrap(),
            a
        );
        // Another number is another tag.
        assert!(Explicit::<2, i32>::from_der(&v.to_der().unwrap()).is_err());
    }
}
