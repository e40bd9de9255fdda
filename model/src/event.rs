//! What a run records, step by step, as plain data: the events the command
//! line prints and the page renders, with their checks, TPM exchanges,
//! holdings and clock. The engine (`whfb-core`) produces them; nothing here
//! computes them.

use crate::artifact::{Artifact, Outcome};
use crate::catalog::{Actor, Phase};
use crate::clock::{SimDuration, SimTime};
use crate::script::{Action, StepId, StepKind};
use serde::{Deserialize, Serialize};

/// What the page and the command line need to know about one check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Who performs the check.
    pub actor: Actor,
    /// What is checked: "Token signature".
    pub title: String,
    /// What was compared with what.
    pub compared: String,
    /// The rule behind it: a specification section, or "modelled".
    pub rule: String,
    pub outcome: Outcome,
    /// The step exists to show this check refusing (a sign-in before sync).
    pub expect_refusal: bool,
}

impl Check {
    /// Whether the check came out as the flow expects.
    pub fn as_expected(&self) -> bool {
        self.outcome.passed() != self.expect_refusal
    }
}

/// One TPM command and its response, as bytes and decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TpmExchange {
    /// `TPM2_Certify`
    pub name: String,
    pub command: Artifact,
    pub response: Artifact,
    /// The response code, readable: `TPM_RC_SUCCESS`, `TPM_RC_AUTH_FAIL (0x098E)`.
    pub result: String,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepStatus {
    /// It ran and every check held.
    Done,
    /// It did not need to happen in this run (a fresh MFA, no sensor).
    Skipped { why: String },
    /// A check failed: the run stops here.
    Failed { check: String, reason: String },
}

/// The record of one executed step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub index: usize,
    /// The step's stable name (`registration.register-key`).
    pub id: StepId,
    pub phase: Phase,
    pub kind: StepKind,
    pub action: Action,
    pub title: String,
    pub narration: String,
    /// Simulated time when the step ended.
    pub time: SimTime,
    /// Simulated time that passed during the step.
    pub elapsed: SimDuration,
    pub status: StepStatus,
    /// What this run's conditions changed about the step.
    pub notes: Vec<String>,
    pub artifacts: Vec<Artifact>,
    pub checks: Vec<Check>,
    pub tpm: Vec<TpmExchange>,
    /// What each actor holds once the step has run.
    pub holdings: Vec<Holding>,
    /// The simulated clock and its deadlines once the step has run.
    pub clock: ClockMarks,
    /// The artifacts of this step that are still on the wire for a later
    /// step to read, and whether their sender could sign an edit again.
    pub tamperable: Vec<TamperTarget>,
}

/// An artifact a person may edit before the next step reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TamperTarget {
    pub artifact: String,
    /// Who would sign the edited bytes again, or why nobody can.
    pub resign: std::result::Result<String, String>,
}

/// Why a run stopped before its end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    pub step: usize,
    pub actor: Actor,
    pub check: String,
    pub reason: String,
}

/// What kind of thing an actor holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HoldingKind {
    /// Something only its holder knows (a password, a PIN).
    Secret,
    /// A private key; `detail` says where it lives.
    PrivateKey,
    /// A public key or a trust anchor.
    PublicKey,
    /// A signed token or receipt.
    Token,
    /// A certificate.
    Certificate,
    /// A directory entry, a counter, a schedule.
    Record,
}

/// One thing an actor holds at this point of the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    pub actor: Actor,
    pub kind: HoldingKind,
    pub item: String,
    pub detail: String,
}

/// The simulated clock and the deadlines that matter to the flows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockMarks {
    pub now: SimTime,
    /// When the user's last MFA stops counting as fresh (10 minutes after it).
    pub mfa_fresh_until: Option<SimTime>,
    /// When Azure AD Connect last ran, and when it runs next.
    pub last_sync: SimTime,
    pub next_sync: SimTime,
}
