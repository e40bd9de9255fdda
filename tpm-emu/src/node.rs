//! One field of a parsed buffer, with the byte span it came from: what the
//! [`crate::marshal::Reader`] records while it reads and what
//! [`crate::describe`] returns.

use serde::{Deserialize, Serialize};

/// One field of a parsed buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The specification's field name, e.g. `"objectAttributes"`.
    pub name: String,
    /// The value as a person reads it, e.g. `"0x00040072 (fixedTPM | …)"`.
    pub value: String,
    /// A one-line explanation.
    pub note: String,
    /// Where the field's type is specified, e.g. `"TPM 2.0 Part 2 §12.2.4"`.
    pub spec: String,
    /// Offset of the field's first byte in the described buffer.
    pub offset: usize,
    /// Number of bytes.
    pub len: usize,
    /// Sub-fields, in order. When present they cover the field's bytes
    /// exactly, without gaps or overlaps.
    pub children: Vec<Node>,
}

impl Node {
    pub(crate) fn open(name: &str, note: &str, spec: &str, offset: usize) -> Node {
        Node {
            name: name.to_string(),
            value: String::new(),
            note: note.to_string(),
            spec: spec.to_string(),
            offset,
            len: 0,
            children: Vec::new(),
        }
    }

    /// One past the last byte.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first node named `name` anywhere below (depth first).
    pub fn find(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.find(name)
            }
        })
    }
}
