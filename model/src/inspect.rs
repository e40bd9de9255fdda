//! What inspecting a value a person brings gives: how it was read, the
//! artifact it is (decoded tree and bytes, as a run's artifacts are shown),
//! and every check that can run on the value alone. The engine
//! (`whfb_core::inspect`) produces it; the page and `whfb inspect` show it.

use crate::artifact::{Artifact, Outcome};
use serde::{Deserialize, Serialize};

/// One check made on the value alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What is checked: "KeyID".
    pub title: String,
    /// What was compared with what.
    pub compared: String,
    /// The rule behind it: a specification section.
    pub rule: String,
    pub outcome: Outcome,
}

impl Finding {
    pub fn new(
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        result: Result<(), String>,
    ) -> Finding {
        Finding {
            title: title.into(),
            compared: compared.into(),
            rule: rule.into(),
            outcome: Outcome::of(result),
        }
    }
}

/// A value, read and checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// How the input was read: "PEM (CERTIFICATE), 1,146 bytes of DER".
    pub read_as: String,
    /// What it is, with its decoded view.
    pub artifact: Artifact,
    /// The checks that can run on it alone, in order.
    pub findings: Vec<Finding>,
    /// What could not be checked from the value alone, and why.
    pub not_checked: Vec<String>,
}
