//! Messages between the page and the Web Worker that runs the engine.
//!
//! All cryptography runs in the worker: the TPM emulator with its key pool,
//! the identity providers' keys, the PKI. The page sends what the user asks
//! for and receives plain events to render. Messages travel as JSON.

use serde::{Deserialize, Serialize};
use whfb_core::catalog::FlowId;
use whfb_core::engine::{Event, Halt};
use whfb_core::world::Options;

/// From the page to the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Build the world for a seed ahead of need, and start filling the pool.
    Warm { seed: String, options: Options },
    /// Start a run of `flow` (a fresh copy of the seed's world).
    Open {
        run: u32,
        flow: FlowId,
        seed: String,
        options: Options,
    },
    /// Execute steps until step `index` has run.
    RunThrough { run: u32, index: usize },
    /// Replace an artifact's bytes on the wire of the current run, optionally
    /// re-signing it with its sender's key, before the next step consumes it.
    Tamper {
        run: u32,
        artifact: String,
        bytes: Vec<u8>,
        resign: bool,
    },
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
    /// A tamper request was applied (or refused, with the reason).
    Tampered {
        run: u32,
        artifact: String,
        result: Result<String, String>,
    },
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
