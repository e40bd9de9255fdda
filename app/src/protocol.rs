//! Messages between the page and the Web Worker that runs the engine.
//!
//! All cryptography runs in the worker: the TPM emulator with its key pool,
//! the identity providers' keys, the PKI. The page sends what the user asks
//! for and receives plain events to render. Messages travel as JSON.

use serde::{Deserialize, Serialize};
use whfb_model::compare::{Comparison, Side};
use whfb_model::event::{Event, Halt};
use whfb_model::flows::FlowId;
use whfb_model::options::Options;

/// Something a person did to a run between two steps: the core's edits,
/// which the worker applies and replays.
pub use whfb_model::edits::{Edit, Resign};

/// From the page to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Build the world for a seed ahead of need, and start filling the pool.
    Warm { seed: String, options: Options },
    /// Start a run of `flow` (a fresh copy of the seed's world), with no edits.
    Open {
        run: u32,
        flow: FlowId,
        seed: String,
        options: Options,
        /// Edits a link carries, applied as their steps come.
        #[serde(default)]
        edits: Vec<Edit>,
    },
    /// Execute steps until step `index` has run.
    RunThrough { run: u32, index: usize },
    /// Replace an artifact's bytes on the wire after step `after_step`,
    /// optionally re-signing them with the sender's key.
    Tamper {
        run: u32,
        after_step: usize,
        artifact: String,
        #[serde(with = "whfb_model::artifact::base64_bytes")]
        bytes: Vec<u8>,
        /// Who signs the edited bytes: nobody, the sender, or an attacker.
        resign: Resign,
    },
    /// Move the simulated clock on after step `after_step`.
    Advance {
        run: u32,
        after_step: usize,
        minutes: u64,
    },
    /// The run so far as one ZIP: every artifact, the trace, a README.
    Bundle { run: u32 },
    /// Read, show and check a value a person brought (pasted or dropped):
    /// `now` is the page's clock, in Unix seconds, for validity periods.
    Inspect {
        #[serde(with = "whfb_model::artifact::base64_bytes")]
        input: Vec<u8>,
        now: u64,
    },
    /// Read a device's `dsregcmd /status` output, and run the flow it is
    /// in under the condition that reproduces its unmet prerequisite.
    Diagnose {
        #[serde(with = "whfb_model::artifact::base64_bytes")]
        input: Vec<u8>,
        seed: String,
    },
    /// Run two flows (or one under two sets of conditions) to their end
    /// with `seed`, and compare them step by step.
    Compare { a: Side, b: Side, seed: String },
}

/// From the worker to the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FromWorker {
    /// The worker's code is loaded and listening.
    Ready,
    /// The key pre-generation pool changed.
    Pool {
        ready: usize,
        making: bool,
        target: usize,
        created_total: u64,
    },
    /// Slow work is under way (shown where the user waits).
    Busy { what: String },
    /// A run is ready to step.
    Opened {
        run: u32,
        flow: FlowId,
        total: usize,
    },
    /// A step ran. `crypto_ms` is how long the engine took, in the worker.
    Stepped {
        run: u32,
        event: Box<Event>,
        crypto_ms: f64,
    },
    /// A check stopped the run.
    Halted { run: u32, halt: Halt },
    /// An edit was accepted: the run was rebuilt through step `keep - 1`;
    /// events from `keep` on are no longer true and will come again.
    /// `edits` are every edit now in force, in order.
    Rewound {
        run: u32,
        keep: usize,
        edits: Vec<Edit>,
    },
    /// A tamper request was applied (or refused, with the reason).
    Tampered {
        run: u32,
        artifact: String,
        result: Result<String, String>,
    },
    /// A move of the clock was applied (or refused, with the reason).
    Advanced {
        run: u32,
        result: Result<String, String>,
    },
    /// The run's bundle, as a ZIP file.
    Bundle {
        run: u32,
        name: String,
        #[serde(with = "whfb_model::artifact::base64_bytes")]
        bytes: Vec<u8>,
    },
    /// What the value to inspect is, or why it could not be read.
    Inspected {
        result: Result<whfb_model::inspect::Inspection, String>,
    },
    /// What a device's report says, or why it could not be read.
    Diagnosed {
        result: Result<whfb_model::diagnose::Finding, String>,
    },
    /// Two runs side by side, or why they could not be run.
    Compared { result: Result<Comparison, String> },
    /// Something could not be done; the message says what and why.
    Failed { run: Option<u32>, message: String },
}

impl ToWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable message for the worker: {e}"))
    }
}

impl FromWorker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(
                r#"{{"Failed":{{"run":null,"message":"cannot encode the worker's message: {e}"}}}}"#
            )
        })
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable message from the worker: {e}"))
    }
}
