//! Marshalling of TPM structures: big-endian, sizes before contents
//! (TPM 2.0 Part 1, "Canonicalization"; Part 2, "Notation").
//!
//! One trait pair, [`Marshal`] and [`Unmarshal`], like tpm-rs `marshal.rs`.
//! The [`Reader`] that unmarshalling uses can also record, for every field it
//! reads, the byte span it read: [`crate::describe`] is built on that, so the
//! inspector's offsets are the parser's own and cannot drift from it.

use crate::error::{Malformed, MalformedKind};
use crate::node::Node;

/// Writes a value in the TPM's canonical form.
pub trait Marshal {
    /// Appends the canonical bytes of `self` to `out`.
    fn marshal(&self, out: &mut Vec<u8>);

    /// The canonical bytes of `self`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.marshal(&mut out);
        out
    }
}

/// Reads a value from its canonical form.
pub trait Unmarshal: Sized {
    /// Reads one value at the reader's position.
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed>;

    /// Reads one value that must fill `bytes` exactly: a buffer too short or
    /// too long is an error.
    fn from_bytes(bytes: &[u8]) -> crate::Result<Self> {
        let mut r = Reader::new(bytes);
        let value = Self::unmarshal(&mut r)?;
        r.finish()?;
        Ok(value)
    }
}

/// How a parsed value reads in the inspector, and where its type is defined.
pub trait Describe {
    /// The specification section that defines the type, e.g.
    /// `"TPM 2.0 Part 2 §12.2.4"`; empty for plain integers, whose fields take
    /// the section of the structure around them.
    const SPEC: &'static str = "";

    /// The value as a person reads it, e.g. `"0x000B (TPM_ALG_SHA256)"`.
    fn describe_value(&self) -> String;
}

/// A cursor over bytes being unmarshalled.
///
/// Errors carry the offset and the name of the field being read. In traced
/// mode (used by [`crate::describe`]) the reader also builds a tree of
/// [`Node`]s, one per field, with the exact span each one consumed.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// One past the last byte this reader may read (a bounded area such as a
    /// command's authorization area ends before the buffer does).
    end: usize,
    /// The field being read, for error messages.
    current: &'static str,
    /// The parameter number (1-based) being read, 0 outside a parameter area.
    parameter: u8,
    /// Open nodes, outermost first, when tracing.
    trace: Option<Vec<Node>>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            end: buf.len(),
            current: "",
            parameter: 0,
            trace: None,
        }
    }

    /// A reader that records a [`Node`] for every field it reads; fields
    /// whose type names no section take `spec`.
    pub(crate) fn traced(buf: &'a [u8], spec: &str) -> Self {
        let root = Node::open("", "", spec, 0);
        Reader {
            trace: Some(vec![root]),
            ..Reader::new(buf)
        }
    }

    /// The offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// An error of `kind` at the current position.
    pub fn error(&self, kind: MalformedKind) -> Malformed {
        Malformed {
            offset: self.pos,
            kind,
            context: self.current,
            parameter: (self.parameter > 0).then_some(self.parameter),
        }
    }

    /// Fails with a "too long" error unless every byte has been read.
    pub fn finish(&self) -> Result<(), Malformed> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(Malformed::new(
                self.pos,
                MalformedKind::Trailing,
                "end of buffer",
            ))
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        if n > self.remaining() {
            return Err(self.error(MalformedKind::Insufficient));
        }
        let out = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or_else(|| self.error(MalformedKind::Insufficient))?;
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Malformed> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads a `UINT8`.
    pub fn u8(&mut self) -> Result<u8, Malformed> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `UINT16`.
    pub fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `UINT32`.
    pub fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `UINT64`.
    pub fn u64(&mut self) -> Result<u64, Malformed> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    // ---- fields and the trace --------------------------------------------

    fn open(&mut self, name: &'static str, note: &'static str, spec: &'static str) {
        let pos = self.pos;
        if let Some(stack) = self.trace.as_mut() {
            let inherited = stack.last().map(|n| n.spec.as_str()).unwrap_or("");
            let spec = if spec.is_empty() { inherited } else { spec };
            let node = Node::open(name, note, spec, pos);
            stack.push(node);
        }
    }

    fn close(&mut self, value: Option<String>) {
        let pos = self.pos;
        if let Some(stack) = self.trace.as_mut() {
            // The root is never closed, so an open node always has a parent.
            if stack.len() > 1 {
                if let Some(mut node) = stack.pop() {
                    node.len = pos - node.offset;
                    node.value = match value {
                        Some(v) if !v.is_empty() => v,
                        _ if node.len == 0 => "(none)".to_string(),
                        _ => format!("{} bytes", node.len),
                    };
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    }
                }
            }
        }
    }

    /// Whether this reader records nodes.
    pub(crate) fn is_traced(&self) -> bool {
        self.trace.is_some()
    }

    /// Reads a field named `name` (the specification's field name).
    pub(crate) fn field<T: Unmarshal + Describe>(
        &mut self,
        name: &'static str,
        note: &'static str,
    ) -> Result<T, Malformed> {
        let saved = self.current;
        self.current = name;
        self.open(name, note, T::SPEC);
        let value = T::unmarshal(self)?;
        let shown = self.is_traced().then(|| value.describe_value());
        self.close(shown);
        self.current = saved;
        Ok(value)
    }

    /// Reads a field and checks its value: `check` names the fault, if any,
    /// which is reported at the field's first byte (the value was readable
    /// but is not one this TPM accepts in this place, e.g. an unimplemented
    /// hash algorithm in a `TPMI_ALG_HASH`).
    pub(crate) fn field_checked<T: Unmarshal + Describe>(
        &mut self,
        name: &'static str,
        note: &'static str,
        check: impl FnOnce(&T) -> Option<MalformedKind>,
    ) -> Result<T, Malformed> {
        let start = self.pos;
        let value = self.field::<T>(name, note)?;
        match check(&value) {
            None => Ok(value),
            Some(kind) => Err(Malformed {
                offset: start,
                context: name,
                ..self.error(kind)
            }),
        }
    }

    /// Like [`Reader::field_checked`], for the next parameter.
    pub(crate) fn param_checked<T: Unmarshal + Describe>(
        &mut self,
        name: &'static str,
        note: &'static str,
        check: impl FnOnce(&T) -> Option<MalformedKind>,
    ) -> Result<T, Malformed> {
        self.parameter = self.parameter.saturating_add(1);
        self.field_checked(name, note, check)
    }

    /// Reads the next command or response parameter: a field whose errors
    /// carry the parameter's number, as TPM response codes do.
    pub(crate) fn param<T: Unmarshal + Describe>(
        &mut self,
        name: &'static str,
        note: &'static str,
    ) -> Result<T, Malformed> {
        self.parameter = self.parameter.saturating_add(1);
        self.field(name, note)
    }

    /// Restarts parameter numbering (at the start of a parameter area).
    pub(crate) fn start_parameters(&mut self) {
        self.parameter = 0;
    }

    /// Leaves the parameter area: later errors carry no parameter number.
    pub(crate) fn end_parameters(&mut self) {
        self.parameter = 0;
    }

    /// Reads `n` raw bytes as a leaf field.
    pub(crate) fn bytes_field(
        &mut self,
        name: &'static str,
        note: &'static str,
        n: usize,
    ) -> Result<&'a [u8], Malformed> {
        let saved = self.current;
        self.current = name;
        self.open(name, note, "");
        let bytes = self.take(n)?;
        let shown = self.is_traced().then(|| hex_summary(bytes));
        self.close(shown);
        self.current = saved;
        Ok(bytes)
    }

    /// Groups the fields read by `f` under one node (a union arm, a header,
    /// an area of a command). `value` describes the group once read.
    pub(crate) fn group<R>(
        &mut self,
        name: &'static str,
        note: &'static str,
        spec: &'static str,
        f: impl FnOnce(&mut Self) -> Result<R, Malformed>,
        value: impl FnOnce(&R) -> String,
    ) -> Result<R, Malformed> {
        let saved = self.current;
        self.current = name;
        self.open(name, note, spec);
        let out = f(self)?;
        let shown = self.is_traced().then(|| value(&out));
        self.close(shown);
        self.current = saved;
        Ok(out)
    }

    /// Runs `f`, which must consume exactly `size` bytes: the contents of a
    /// sized structure (a TPM2B holding a structure). As in the reference
    /// implementation, the contents are parsed first and the size checked
    /// after, so a short buffer reports `TPM_RC_INSUFFICIENT` and a size that
    /// disagrees with the contents reports `TPM_RC_SIZE`.
    pub(crate) fn sized<R>(
        &mut self,
        size: usize,
        f: impl FnOnce(&mut Self) -> Result<R, Malformed>,
    ) -> Result<R, Malformed> {
        let start = self.pos;
        let out = f(self)?;
        if self.pos - start != size {
            return Err(Malformed {
                offset: start,
                ..self.error(MalformedKind::Size)
            });
        }
        Ok(out)
    }

    /// Runs `f` with reading limited to the next `len` bytes (a bounded area
    /// such as the authorization area, whose size field says where it ends).
    /// Fails with `TPM_RC_INSUFFICIENT` if fewer than `len` bytes remain.
    pub(crate) fn bounded<R>(
        &mut self,
        len: usize,
        f: impl FnOnce(&mut Self) -> Result<R, Malformed>,
    ) -> Result<R, Malformed> {
        if len > self.remaining() {
            return Err(self.error(MalformedKind::Insufficient));
        }
        let outer = self.end;
        self.end = self.pos + len;
        let out = f(self);
        self.end = outer;
        out
    }

    /// The nodes recorded so far (the children of the root).
    pub(crate) fn into_nodes(self) -> Vec<Node> {
        match self.trace {
            Some(mut stack) => {
                // Only the root remains open when parsing succeeded.
                stack.truncate(1);
                stack.pop().map(|root| root.children).unwrap_or_default()
            }
            None => Vec::new(),
        }
    }
}

/// Hex of short buffers in full; of long ones, the start and the length.
pub(crate) fn hex_summary(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "(empty)".to_string();
    }
    if bytes.len() <= 32 {
        hex(bytes)
    } else {
        format!("{}… ({} bytes)", hex(&bytes[..16]), bytes.len())
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

// ---- primitive integers ----------------------------------------------------

impl Marshal for u8 {
    fn marshal(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}
impl Unmarshal for u8 {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.u8()
    }
}
impl Describe for u8 {
    fn describe_value(&self) -> String {
        format!("0x{self:02X} ({self})")
    }
}

impl Marshal for u16 {
    fn marshal(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}
impl Unmarshal for u16 {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.u16()
    }
}
impl Describe for u16 {
    fn describe_value(&self) -> String {
        format!("0x{self:04X} ({self})")
    }
}

impl Marshal for u32 {
    fn marshal(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}
impl Unmarshal for u32 {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.u32()
    }
}
impl Describe for u32 {
    fn describe_value(&self) -> String {
        format!("0x{self:08X} ({self})")
    }
}

impl Marshal for u64 {
    fn marshal(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_be_bytes());
    }
}
impl Unmarshal for u64 {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        r.u64()
    }
}
impl Describe for u64 {
    fn describe_value(&self) -> String {
        format!("0x{self:016X} ({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn integers_are_big_endian() {
        assert_eq!(0x0102u16.to_bytes(), [1, 2]);
        assert_eq!(0x01020304u32.to_bytes(), [1, 2, 3, 4]);
        assert_eq!(u64::from_bytes(&[0, 0, 0, 0, 0, 0, 1, 0]), Ok(256));
    }

    #[test]
    fn too_short_and_too_long_are_errors() {
        let short = u32::from_bytes(&[1, 2, 3]).unwrap_err();
        assert!(matches!(
            short,
            crate::Error::Malformed(Malformed {
                kind: MalformedKind::Insufficient,
                ..
            })
        ));
        let long = u16::from_bytes(&[1, 2, 3]).unwrap_err();
        assert!(matches!(
            long,
            crate::Error::Malformed(Malformed {
                kind: MalformedKind::Trailing,
                offset: 2,
                ..
            })
        ));
    }
}
