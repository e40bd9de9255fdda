//! Edits applied by the engine: an [`EditedRun`] is a world as it was when
//! the run opened, the run, and the edits in force. An edit at a step the
//! run has gone past rebuilds the run from the saved world and replays it:
//! the engine is deterministic, so the replay reproduces every byte up to the
//! edit. The page's worker, the command line and the tests all edit through
//! this one type. What an edit is, its verdict and its text form are plain
//! data in `whfb-model` (re-exported here).

pub use whfb_model::edits::*;

use crate::engine::Run;
use crate::flows::FlowId;
use crate::world::World;

/// A run with the edits in force, and the world it started from.
#[derive(Clone, Debug)]
pub struct EditedRun {
    origin: World,
    flow: FlowId,
    run: Run,
    edits: Vec<Edit>,
}

impl EditedRun {
    /// A fresh run of `flow` in a copy of `origin`, with no edits.
    pub fn new(origin: World, flow: FlowId) -> Self {
        EditedRun {
            run: Run::new(origin.clone(), flow),
            origin,
            flow,
            edits: Vec::new(),
        }
    }

    /// A run of `flow` with `edits` applied in order, each as its step comes.
    pub fn with_edits(origin: World, flow: FlowId, edits: &[Edit]) -> Result<Self, String> {
        let mut edited = EditedRun::new(origin, flow);
        for edit in edits {
            edited
                .run
                .run_through(edit.after_step())
                .map_err(|e| e.to_string())?;
            edited.edit(edit.clone())?;
        }
        Ok(edited)
    }

    pub fn run(&self) -> &Run {
        &self.run
    }

    pub fn run_mut(&mut self) -> &mut Run {
        &mut self.run
    }

    /// The world every replay starts from.
    pub fn origin(&self) -> &World {
        &self.origin
    }

    pub fn origin_mut(&mut self) -> &mut World {
        &mut self.origin
    }

    /// The run's world and the origin together (a key that arrives belongs
    /// in both).
    pub fn worlds_mut(&mut self) -> (&mut World, &mut World) {
        (self.run.world_mut(), &mut self.origin)
    }

    pub fn flow(&self) -> FlowId {
        self.flow
    }

    /// The edits in force, in the order of their steps.
    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// The verdict on the edits so far.
    pub fn verdict(&self) -> Verdict {
        verdict(&self.edits, self.run.halted(), self.run.is_finished())
    }

    /// Applies an edit after its step: directly when the run stands right
    /// there, otherwise on a replay from the saved world. A refused edit
    /// changes nothing; the error says why, in words.
    pub fn edit(&mut self, edit: Edit) -> Result<String, String> {
        let k = edit.after_step();
        let total = self.run.script().steps.len();
        let have = self.run.events().len();
        if k >= have {
            return Err(format!("step {} has not run yet", k + 1));
        }
        if k + 1 >= total {
            return Err("this is the flow's last step: no later step would meet the change".into());
        }
        if let Some(h) = self.run.halted().filter(|h| h.step <= k) {
            return Err(format!(
                "the run stopped at step {}: no later step runs, so nothing would meet the change",
                h.step + 1
            ));
        }
        if let Edit::Advance { minutes, .. } = &edit {
            if !(1..=MAX_ADVANCE_MINUTES).contains(minutes) {
                return Err(format!(
                    "the clock moves on by 1 to {MAX_ADVANCE_MINUTES} minutes at a time, not {minutes}"
                ));
            }
        }
        let kept: Vec<Edit> = self
            .edits
            .iter()
            .filter(|e| e.after_step() <= k && !e.replaced_by(&edit))
            .cloned()
            .collect();
        let mut candidate = if have == k + 1 && kept.len() == self.edits.len() {
            self.run.clone()
        } else {
            replay(&self.origin, self.flow, &kept, k)?
        };
        let done = apply(&mut candidate, &edit)?;
        self.run = candidate;
        self.edits = kept;
        self.edits.push(edit);
        Ok(done)
    }
}

/// A fresh run from `origin`, stepped through step `through` with `edits`
/// applied after their steps, in order.
pub fn replay(origin: &World, flow: FlowId, edits: &[Edit], through: usize) -> Result<Run, String> {
    let mut run = Run::new(origin.clone(), flow);
    let mut pending = edits.iter().peekable();
    loop {
        while let Some(edit) = pending.next_if(|e| e.after_step() + 1 == run.events().len()) {
            apply(&mut run, edit)
                .map_err(|why| format!("an earlier change no longer applies: {why}"))?;
        }
        if run.events().len() > through || run.step().is_none() {
            break;
        }
    }
    if run.events().len() <= through {
        return Err(format!(
            "replayed with the earlier changes, the run no longer reaches step {}",
            through + 1
        ));
    }
    Ok(run)
}

/// One edit, through the engine's own operations.
fn apply(run: &mut Run, edit: &Edit) -> Result<String, String> {
    match edit {
        Edit::Tamper {
            artifact,
            bytes,
            resign: Resign::Sender,
            ..
        } => run
            .tamper_resigned(artifact, bytes.clone())
            .map_err(|e| e.to_string()),
        Edit::Tamper {
            artifact,
            bytes,
            resign: Resign::Attacker,
            ..
        } => run
            .tamper_attacker_signed(artifact, bytes.clone())
            .map_err(|e| e.to_string()),
        Edit::Tamper {
            artifact,
            bytes,
            resign: Resign::Keep,
            ..
        } => run
            .tamper(artifact, bytes.clone())
            .map(|()| "the bytes were replaced; the original signature was kept".to_string())
            .map_err(|e| e.to_string()),
        Edit::Advance { minutes, .. } => {
            let by = crate::clock::SimDuration::minutes(*minutes);
            run.advance_clock(by);
            Ok(format!(
                "the clock moved on by {by}; it is now {}",
                run.now()
            ))
        }
    }
}
