//! Edits: what a person does to a run between two steps — tamper with an
//! artifact on the wire, or move the simulated clock on — as engine
//! operations applied after a given step and replayed from the saved world.
//!
//! The engine (`whfb-core`'s `EditedRun`) applies them: an `EditedRun` is a world as it was when the run opened, the run, and
//! the edits in force. An edit at a step the run has gone past rebuilds the
//! run from the saved world and replays it: the engine is deterministic, so
//! the replay reproduces every byte up to the edit. The page's worker, the
//! command line and the tests all edit through this one type, so a tampered
//! run in the page can be reproduced headless and gives the same verdict.
//!
//! Edits have one text form, versioned, that links and the command line
//! share (see [`to_text`] and [`parse`]):
//!
//! ```text
//! v1:registration.register-key/tamper/key-registration-request/keep/eyJr…;tokens.mfa-result/advance/15
//! ```
//!
//! Each edit is `STEP/advance/MINUTES` or `STEP/tamper/ARTIFACT/MODE/BYTES`,
//! with STEP a step id (or, as old links wrote it, a number counted from 1),
//! MODE `keep` (the original signature stays), `sender` (the sender signs
//! the new bytes again) or `attacker` (an attacker signs them with a key of
//! their own), and BYTES the edited bytes in base64url without padding.
//! Edits are separated by `;`.

use crate::event::Halt;
use crate::script::Script;
use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};

/// The longest move of the clock one edit makes: a day.
pub const MAX_ADVANCE_MINUTES: u64 = 24 * 60;

/// The version prefix of the text form.
const VERSION: &str = "v1:";

/// Who signs the bytes of a tampered artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Resign {
    /// Nobody: the original signature stays, and no longer matches.
    Keep,
    /// The sender, with its own key, as an insider holding that key would.
    Sender,
    /// An attacker, with a key of their own that nobody trusts.
    Attacker,
}

impl Resign {
    pub fn slug(self) -> &'static str {
        match self {
            Resign::Keep => "keep",
            Resign::Sender => "sender",
            Resign::Attacker => "attacker",
        }
    }

    fn from_slug(slug: &str) -> Option<Resign> {
        [Resign::Keep, Resign::Sender, Resign::Attacker]
            .into_iter()
            .find(|r| r.slug() == slug)
    }
}

/// Something a person did to a run between two steps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edit {
    /// After step `after_step` (0-based), replace an artifact's bytes on the
    /// wire; `resign` says who signs them.
    Tamper {
        after_step: usize,
        artifact: String,
        #[serde(with = "crate::artifact::base64_bytes")]
        bytes: Vec<u8>,
        resign: Resign,
    },
    /// After step `after_step`, move the simulated clock on.
    Advance { after_step: usize, minutes: u64 },
}

impl Edit {
    /// The step after which the edit takes effect.
    pub fn after_step(&self) -> usize {
        match self {
            Edit::Tamper { after_step, .. } | Edit::Advance { after_step, .. } => *after_step,
        }
    }

    /// Whether `other` edits the same thing at the same point, so that it
    /// replaces this one (a second edit of one artifact starts from its
    /// original bytes; moves of the clock add up).
    pub fn replaced_by(&self, other: &Edit) -> bool {
        match (self, other) {
            (
                Edit::Tamper {
                    after_step: a,
                    artifact: x,
                    ..
                },
                Edit::Tamper {
                    after_step: b,
                    artifact: y,
                    ..
                },
            ) => a == b && x == y,
            _ => false,
        }
    }

    /// Whether the sender signed the edited bytes again.
    pub fn resigned(&self) -> bool {
        matches!(
            self,
            Edit::Tamper {
                resign: Resign::Sender,
                ..
            }
        )
    }

    /// The edit in words, naming the artifact by `title`.
    pub fn describe(&self, title: &str) -> String {
        match self {
            Edit::Tamper {
                after_step, resign, ..
            } => format!(
                "After step {}: {title} edited on the wire, {}",
                after_step + 1,
                match resign {
                    Resign::Keep => "its original signature kept",
                    Resign::Sender => "then re-signed with its sender's key",
                    Resign::Attacker => "then signed with an attacker's own key",
                }
            ),
            Edit::Advance {
                after_step,
                minutes,
            } => format!(
                "After step {}: the clock moved on by {minutes} min",
                after_step + 1
            ),
        }
    }
}

/// What became of a run's edits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// A check stopped the run.
    Caught { step: usize, text: String },
    /// The run reached its end with every check passing.
    Undetected { text: String },
    /// The run has not reached the step that would tell.
    Pending,
}

/// The verdict on `edits` for a run that stopped at `halt` or, with
/// `finished`, reached its end. The page and the command line say the same.
pub fn verdict(edits: &[Edit], halt: Option<&Halt>, finished: bool) -> Verdict {
    match (halt, finished) {
        (Some(h), _) => Verdict::Caught {
            step: h.step,
            text: format!(
                "The run now stops at step {}, where {} checks “{}”: {}",
                h.step + 1,
                h.actor.name(),
                h.check,
                h.reason
            ),
        },
        (None, true) if edits.iter().any(Edit::resigned) => Verdict::Undetected {
            text: "Nothing in the real system would catch this edit: the sender's key vouches \
                   for it. The run reached its end and every later check passed."
                .into(),
        },
        (None, true) if edits.iter().any(|e| matches!(e, Edit::Tamper { .. })) => {
            Verdict::Undetected {
                text: "No later check noticed the change: the run reached its end and every \
                       check passed."
                    .into(),
            }
        }
        (None, true) => Verdict::Undetected {
            text: "The run reached its end with the clock moved on: every check still passed."
                .into(),
        },
        (None, false) => Verdict::Pending,
    }
}

/// The edits in their text form (see the module's documentation).
pub fn to_text(edits: &[Edit], script: &Script) -> String {
    let step = |i: usize| {
        script
            .steps
            .get(i)
            .map_or_else(|| (i + 1).to_string(), |s| s.id.to_string())
    };
    let parts: Vec<String> = edits
        .iter()
        .map(|e| match e {
            Edit::Tamper {
                after_step,
                artifact,
                bytes,
                resign,
            } => format!(
                "{}/tamper/{artifact}/{}/{}",
                step(*after_step),
                resign.slug(),
                Base64UrlUnpadded::encode_string(bytes)
            ),
            Edit::Advance {
                after_step,
                minutes,
            } => format!("{}/advance/{minutes}", step(*after_step)),
        })
        .collect();
    format!("{VERSION}{}", parts.join(";"))
}

/// Reads the text form against the flow's script; the error says which
/// edit is wrong and why.
pub fn parse(text: &str, script: &Script) -> Result<Vec<Edit>, String> {
    let body = text.trim().strip_prefix(VERSION).ok_or_else(|| {
        format!("edits start with \"{VERSION}\" (the version of their text form)")
    })?;
    let mut edits = Vec::new();
    for (n, part) in body.split(';').filter(|p| !p.is_empty()).enumerate() {
        let edit = parse_one(part, script).map_err(|why| format!("edit {}: {why}", n + 1))?;
        edits.push(edit);
    }
    if edits.is_empty() {
        return Err("the list names no edit".into());
    }
    Ok(edits)
}

fn parse_one(part: &str, script: &Script) -> Result<Edit, String> {
    let fields: Vec<&str> = part.split('/').collect();
    let after_step = script.resolve(fields[0])?;
    match fields.as_slice() {
        [_, "advance", minutes] => Ok(Edit::Advance {
            after_step,
            minutes: minutes
                .parse()
                .map_err(|_| format!("\"{minutes}\" is not a number of minutes"))?,
        }),
        [_, "tamper", artifact, mode, bytes] => Ok(Edit::Tamper {
            after_step,
            artifact: (*artifact).to_string(),
            resign: Resign::from_slug(mode).ok_or_else(|| {
                format!("\"{mode}\" is not a way to sign: keep, sender or attacker")
            })?,
            bytes: Base64UrlUnpadded::decode_vec(bytes)
                .map_err(|_| "the bytes are not base64url without padding".to_string())?,
        }),
        _ => Err(format!(
            "\"{part}\" is neither STEP/advance/MINUTES nor STEP/tamper/ARTIFACT/MODE/BYTES"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::FlowId;
    use crate::script::script;

    #[test]
    fn the_text_form_reads_back_and_names_steps_by_id() {
        let flow = FlowId::from_slug("aadj-managed").unwrap();
        let s = script(flow);
        let register = s.resolve("registration.register-key").unwrap();
        let edits = vec![
            Edit::Advance {
                after_step: s.resolve("tokens.mfa-decision").unwrap(),
                minutes: 15,
            },
            Edit::Tamper {
                after_step: register,
                artifact: "key-registration-request".into(),
                bytes: b"{\"kngc\":1}".to_vec(),
                resign: Resign::Keep,
            },
        ];
        let text = to_text(&edits, &s);
        assert!(text.starts_with("v1:tokens.mfa-decision/advance/15;registration.register-key/tamper/key-registration-request/keep/"), "{text}");
        assert_eq!(parse(&text, &s).unwrap(), edits);
        // A number, as old links wrote steps, counts from phase A's first
        // step (the managed flows' phase A asks for a nonce first now).
        assert_eq!(
            parse("v1:5/advance/15", &s).unwrap(),
            vec![edits[0].clone()]
        );
    }

    #[test]
    fn a_bad_edit_list_says_what_is_wrong() {
        let s = script(FlowId::from_slug("aadj-managed").unwrap());
        for (text, want) in [
            ("tokens.mfa-decision/advance/15", "start with \"v1:\""),
            ("v1:", "names no edit"),
            ("v1:nowhere.at-all/advance/1", "edit 1"),
            (
                "v1:tokens.mfa-decision/advance/soon",
                "not a number of minutes",
            ),
            (
                "v1:tokens.mfa-decision/tamper/x/forge/AA",
                "not a way to sign",
            ),
            ("v1:tokens.mfa-decision/tamper/x/keep/!!", "not base64url"),
            ("v1:tokens.mfa-decision/jump", "neither"),
        ] {
            let err = parse(text, &s).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
