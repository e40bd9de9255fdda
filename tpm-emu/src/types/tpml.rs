//! Lists, `TPML_*` (TPM 2.0 Part 2 §10.9): a `UINT32` count, then the items.

use serde::{Deserialize, Serialize};

use crate::error::{Malformed, MalformedKind};
use crate::marshal::{Describe, Marshal, Reader, Unmarshal};
use crate::types::{TpmsPcrSelection, TpmsTaggedProperty};

/// `TPML_PCR_SELECTION` (TPM 2.0 Part 2 §10.9.7): at most one bank per
/// implemented hash (`HASH_COUNT`, 1 here).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TpmlPcrSelection(pub Vec<TpmsPcrSelection>);

impl Marshal for TpmlPcrSelection {
    fn marshal(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).marshal(out);
        for s in &self.0 {
            s.marshal(out);
        }
    }
}

impl Unmarshal for TpmlPcrSelection {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let count = r.field_checked::<u32>("count", "number of banks selected", |c| {
            (*c > 1).then_some(MalformedKind::Size)
        })?;
        let mut items = Vec::new();
        for _ in 0..count {
            items.push(r.field("pcrSelections", "one bank's selection")?);
        }
        Ok(TpmlPcrSelection(items))
    }
}

impl Describe for TpmlPcrSelection {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.9.7";
    fn describe_value(&self) -> String {
        if self.0.is_empty() {
            "no PCRs".to_string()
        } else {
            format!("{} bank(s)", self.0.len())
        }
    }
}

/// `TPML_TAGGED_TPM_PROPERTY` (TPM 2.0 Part 2 §10.9.8), at most
/// `MAX_TPM_PROPERTIES` (127) items.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct TpmlTaggedTpmProperty(pub Vec<TpmsTaggedProperty>);

/// `MAX_TPM_PROPERTIES` for a 1024-byte capability buffer.
pub(crate) const MAX_TPM_PROPERTIES: u32 = 127;

impl Marshal for TpmlTaggedTpmProperty {
    fn marshal(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).marshal(out);
        for p in &self.0 {
            p.marshal(out);
        }
    }
}

impl Unmarshal for TpmlTaggedTpmProperty {
    fn unmarshal(r: &mut Reader<'_>) -> Result<Self, Malformed> {
        let count = r.field_checked::<u32>("count", "number of properties", |c| {
            (*c > MAX_TPM_PROPERTIES).then_some(MalformedKind::Size)
        })?;
        let mut items = Vec::new();
        for _ in 0..count {
            items.push(r.field("tpmProperty", "one property")?);
        }
        Ok(TpmlTaggedTpmProperty(items))
    }
}

impl Describe for TpmlTaggedTpmProperty {
    const SPEC: &'static str = "TPM 2.0 Part 2 §10.9.8";
    fn describe_value(&self) -> String {
        format!("{} properties", self.0.len())
    }
}
