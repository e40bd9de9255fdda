//! What a run records, step by step, as plain data: the events the command
//! line prints and the page renders, with their checks, TPM exchanges,
//! holdings and clock. The engine (`whfb-core`) produces them; nothing here
//! computes them.

use crate::artifact::{Artifact, Outcome};
use crate::catalog::{Actor, Phase};
use crate::clock::{SimDuration, SimTime};
use crate::script::{Action, StepId, StepKind};
use serde::{Deserialize, Serialize};
use std::fmt;

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
    /// A check `actor` made, and how it came out (`Err` gives the reason).
    pub fn new(
        actor: Actor,
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        result: Result<(), String>,
    ) -> Check {
        Check {
            actor,
            title: title.into(),
            compared: compared.into(),
            rule: rule.into(),
            outcome: Outcome::of(result),
            expect_refusal: false,
        }
    }

    /// Whether the check came out as the flow expects.
    pub fn as_expected(&self) -> bool {
        self.outcome.passed() != self.expect_refusal
    }

    /// The outcome as a `Result`: the reason when the check failed.
    pub fn result(&self) -> Result<(), &str> {
        match &self.outcome {
            Outcome::Pass => Ok(()),
            Outcome::Fail { reason } => Err(reason),
        }
    }
}

/// Whether `found` is `expected`; the reason names both when it is not.
/// What [`Checks::check_eq`] and the engine's steps compare values with.
pub fn equal<T: PartialEq + fmt::Display + ?Sized>(
    what: &str,
    expected: &T,
    found: &T,
) -> Result<(), String> {
    if expected == found {
        Ok(())
    } else {
        Err(format!("{what} is {found}, not {expected}"))
    }
}

/// The checks one party makes, in order: a service's check functions fill
/// it and the engine records it in the step's event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checks {
    actor: Actor,
    list: Vec<Check>,
}

impl Checks {
    /// No checks yet, by `actor`.
    pub fn new(actor: Actor) -> Checks {
        Checks {
            actor,
            list: Vec::new(),
        }
    }

    /// Records a check; gives back the value it produced when it passed,
    /// so the next check can use it.
    pub fn check<T>(
        &mut self,
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        result: Result<T, String>,
    ) -> Option<T> {
        let (value, result) = match result {
            Ok(v) => (Some(v), Ok(())),
            Err(e) => (None, Err(e)),
        };
        self.list
            .push(Check::new(self.actor, title, compared, rule, result));
        value
    }

    /// Records that `found` is `expected` (see [`equal`]); whether it was.
    pub fn check_eq<T: PartialEq + fmt::Display + ?Sized>(
        &mut self,
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        (what, expected, found): (&str, &T, &T),
    ) -> bool {
        self.check(title, compared, rule, equal(what, expected, found))
            .is_some()
    }

    /// Whether every check so far passed.
    pub fn passed(&self) -> bool {
        self.list.iter().all(|c| c.outcome.passed())
    }

    /// The checks, in the order they were made.
    pub fn into_vec(self) -> Vec<Check> {
        self.list
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
    /// What the device would say about itself once the step has run, in the
    /// sections and names of `dsregcmd /status`.
    #[serde(default)]
    pub device_state: Vec<ReportSection>,
}

/// One section of `dsregcmd /status` ("Device State", "Ngc Prerequisite
/// Check"…): its entries as name and value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSection {
    pub name: String,
    pub entries: Vec<(String, String)>,
}

impl ReportSection {
    /// The value of the entry `name`, if the section has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// An artifact a person may edit before the next step reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TamperTarget {
    pub artifact: String,
    /// Who would sign the edited bytes again, or why nobody can.
    pub resign: std::result::Result<String, String>,
    /// Whether an attacker could sign the edited bytes with a key of their
    /// own (what they would then have done), or why not.
    #[serde(default = "no_attacker")]
    pub attacker: std::result::Result<String, String>,
}

/// What traces written before the `attacker` member say.
fn no_attacker() -> std::result::Result<String, String> {
    Err("this trace does not say".into())
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
    /// When Microsoft Entra Connect last ran, and when it runs next.
    pub last_sync: SimTime,
    pub next_sync: SimTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_keep_their_order_values_and_reasons() {
        let mut checks = Checks::new(Actor::Ca);
        assert_eq!(
            checks.check("Parses", "the bytes", "RFC 5280", Ok(7)),
            Some(7)
        );
        assert!(checks.check_eq(
            "Template",
            "name",
            "MS-WCCE",
            ("the template", "WHfB", "WHfB")
        ));
        assert!(!checks.check_eq("Serial", "serial", "RFC 5280", ("the serial", &1, &2)));
        assert!(!checks.passed());
        let list = checks.into_vec();
        assert_eq!(list.len(), 3);
        assert!(list.iter().all(|c| c.actor == Actor::Ca));
        assert_eq!(list[2].result(), Err("the serial is 2, not 1"));
        assert_eq!(list[0].result(), Ok(()));
        assert!(!list[2].as_expected() && list[1].as_expected());
    }
}
