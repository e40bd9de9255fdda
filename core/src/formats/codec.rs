//! The one marshalling approach for the hand-written binary formats
//! (BCRYPT_RSAKEY_BLOB, KEYCREDENTIALLINK_BLOB), after rustls `msgs/codec.rs`:
//! a type writes itself into a `Vec<u8>` and reads itself from a [`Reader`]
//! that knows how much is left and says exactly where input ran short.
//!
//! Both formats are little-endian (Windows structures), so the reader only
//! offers little-endian integers.

use crate::error::{Error, Result};

/// A structure with a fixed binary encoding.
pub trait Codec: Sized {
    /// The specification's name for the structure, used in error messages.
    const NAME: &'static str;

    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one structure from the reader, leaving it after the last byte read.
    fn read(reader: &mut Reader<'_>) -> Result<Self>;

    /// The encoding as a fresh vector.
    fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Reads exactly one structure: input left over after it is an error.
    fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut reader = Reader::new(Self::NAME, bytes);
        let value = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }
}

/// A cursor over input bytes. Every read is bounds-checked and a short read
/// names the field, its offset and how many bytes were missing.
#[derive(Debug)]
pub struct Reader<'a> {
    what: &'static str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`; `what` names the structure in error messages.
    pub fn new(what: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            what,
            bytes,
            pos: 0,
        }
    }

    /// The name given to [`Reader::new`].
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Offset of the next byte to read.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The next `n` bytes, which hold `field`.
    pub fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8]> {
        if n > self.remaining() {
            return Err(Error::malformed(
                self.what,
                format!(
                    "truncated: {field} needs {n} byte{} at offset {}, only {} left",
                    plural(n),
                    self.pos,
                    self.remaining()
                ),
            ));
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.bytes[start..self.pos])
    }

    /// The next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    pub fn u8(&mut self, field: &str) -> Result<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    pub fn u16_le(&mut self, field: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    pub fn u32_le(&mut self, field: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    pub fn u64_le(&mut self, field: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos;
        self.pos = self.bytes.len();
        &self.bytes[start..]
    }

    /// Succeeds only when every byte has been read.
    pub fn finish(self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(Error::malformed(
                self.what,
                format!(
                    "{n} trailing byte{} after the end of the structure at offset {}",
                    plural(n),
                    self.pos
                ),
            )),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_tracks_position() {
        let bytes = [1, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 9];
        let mut r = Reader::new("test", &bytes);
        assert_eq!(r.u8("a").unwrap(), 1);
        assert_eq!(r.u16_le("b").unwrap(), 0x1234);
        assert_eq!(r.u32_le("c").unwrap(), 0x1234_5678);
        assert_eq!(r.pos(), 7);
        assert_eq!(r.rest(), &[9]);
        assert!(r.finish().is_ok());
    }

    #[test]
    fn short_read_names_field_offset_and_shortfall() {
        let mut r = Reader::new("test", &[1, 2, 3]);
        r.u8("first").unwrap();
        let err = r.u32_le("cbModulus").unwrap_err();
        assert_eq!(
            err.to_string(),
            "malformed test: truncated: cbModulus needs 4 bytes at offset 1, only 2 left"
        );
    }

    #[test]
    fn finish_refuses_trailing_bytes() {
        let mut r = Reader::new("test", &[1, 2, 3]);
        r.u8("first").unwrap();
        assert_eq!(
            r.finish().unwrap_err().to_string(),
            "malformed test: 2 trailing bytes after the end of the structure at offset 1"
        );
    }
}
