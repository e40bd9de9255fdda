//! The page's state: what the URL asks for, the events the worker has sent,
//! playback, the edits in force, and the worker's status. Components read
//! and write it through signals; the worker is reached only through
//! [`Session::post`].

use crate::playback::Playback;
use crate::protocol::{Edit, FromWorker, Resign, ToWorker};
use crate::route::Route;
use crate::worker_link::WorkerLink;
use leptos::prelude::*;
use whfb_model::event::{Event, Halt, StepStatus};
use whfb_model::flows::FlowId;
use whfb_model::options::Options;

/// The worker's answer to the last edit asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditAnswer {
    /// To a tamper request: what was done, or why it was refused.
    Tamper(Result<String, String>),
    /// To a move of the clock.
    Advance(Result<String, String>),
}

impl EditAnswer {
    pub fn result(&self) -> &Result<String, String> {
        match self {
            EditAnswer::Tamper(r) | EditAnswer::Advance(r) => r,
        }
    }
}

/// The key pool as the worker last reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolInfo {
    pub ready: usize,
    pub making: bool,
    pub target: usize,
}

/// Bytes a person asked to follow through the run ("Follow the key").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowQuery {
    /// What they are: "unique of TPM2B_PUBLIC of the user key".
    pub what: String,
    pub bytes: Vec<u8>,
}

/// A place in the run to show: a step, one of its artifacts, a byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Focus {
    pub step: usize,
    pub artifact: String,
    pub offset: usize,
    pub len: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct Session {
    pub route: RwSignal<Route>,
    /// Identifies the current run; answers for older runs are ignored.
    pub run_id: RwSignal<u32>,
    pub opened: RwSignal<bool>,
    pub events: RwSignal<Vec<Event>>,
    /// Engine time per step, in the worker (ms).
    pub crypto_ms: RwSignal<Vec<f64>>,
    pub playback: RwSignal<Playback>,
    /// The highest step asked of the worker for this run.
    pub requested: RwSignal<Option<usize>>,
    pub busy: RwSignal<Option<String>>,
    pub pool: RwSignal<Option<PoolInfo>>,
    pub halt: RwSignal<Option<Halt>>,
    /// Problems to show: a broken link, a worker failure.
    pub notices: RwSignal<Vec<String>>,
    /// The edits in force on this run, as the worker confirmed them.
    pub edits: RwSignal<Vec<Edit>>,
    /// The last answer to an edit: what was done, or why it was refused.
    pub edit_result: RwSignal<Option<EditAnswer>>,
    /// An edit was just accepted: once the rest of the run is known, show
    /// the step that caught it.
    follow: RwSignal<bool>,
    /// Counts the edits the worker accepted on this page, so that what
    /// shows their outcome can tell a new outcome from the last one.
    pub edit_version: RwSignal<u32>,
    /// The run is being packed for download.
    pub packing: RwSignal<bool>,
    /// The last value a person asked to inspect: what it is, or why it
    /// could not be read; `None` before any, or while it is read.
    pub inspection: RwSignal<Option<Result<whfb_model::inspect::Inspection, String>>>,
    /// A value is being read.
    pub inspecting: RwSignal<bool>,
    /// The last comparison of two runs asked for, or why it failed; `None`
    /// before any.
    pub comparison: RwSignal<Option<Result<whfb_model::compare::Comparison, String>>>,
    /// Two runs are being run and compared.
    pub comparing: RwSignal<bool>,
    /// The last device report diagnosed, or why it could not be read.
    pub diagnosis: RwSignal<Option<Result<whfb_model::diagnose::Finding, String>>>,
    /// A report is being read and its flow run.
    pub diagnosing: RwSignal<bool>,
    /// Bytes being followed through the run.
    pub followed: RwSignal<Option<FollowQuery>>,
    /// Where an occurrence of followed bytes was asked to be shown.
    pub focus: RwSignal<Option<Focus>>,
    link: StoredValue<Option<WorkerLink>, LocalStorage>,
}

impl Session {
    pub fn new(route: Route) -> Session {
        let notices = route.notices.clone();
        Session {
            route: RwSignal::new(route),
            run_id: RwSignal::new(0),
            opened: RwSignal::new(false),
            events: RwSignal::new(Vec::new()),
            crypto_ms: RwSignal::new(Vec::new()),
            playback: RwSignal::new(Playback::new(0)),
            requested: RwSignal::new(None),
            busy: RwSignal::new(None),
            pool: RwSignal::new(None),
            halt: RwSignal::new(None),
            notices: RwSignal::new(notices),
            edits: RwSignal::new(Vec::new()),
            edit_result: RwSignal::new(None),
            follow: RwSignal::new(false),
            edit_version: RwSignal::new(0),
            packing: RwSignal::new(false),
            inspection: RwSignal::new(None),
            inspecting: RwSignal::new(false),
            comparison: RwSignal::new(None),
            comparing: RwSignal::new(false),
            diagnosis: RwSignal::new(None),
            diagnosing: RwSignal::new(false),
            followed: RwSignal::new(None),
            focus: RwSignal::new(None),
            link: StoredValue::new_local(None),
        }
    }

    /// Starts the worker, begins preparing the world for the link's seed and
    /// opens the link's flow, if it has one. Once only: later calls do nothing.
    pub fn connect(self) {
        if self.link.with_value(Option::is_some) {
            return;
        }
        self.start_worker();
        let route = self.route.get_untracked();
        if let Some(flow) = route.flow {
            let step = route.step.map_or(0, |s| s.saturating_sub(1));
            self.open_with(flow, step, route.edits);
        }
    }

    /// Has the engine read, show and check `input` (pasted or dropped):
    /// nothing leaves the page, the worker reads it.
    pub fn inspect(self, input: Vec<u8>) {
        self.inspecting.set(true);
        self.inspection.set(None);
        let now = (js_sys::Date::now() / 1000.0) as u64;
        self.post(&ToWorker::Inspect { input, now });
    }

    /// Has the worker read a device's report and run its flow.
    pub fn diagnose(self, input: Vec<u8>) {
        self.diagnosing.set(true);
        self.diagnosis.set(None);
        let seed = self.route.with_untracked(|r| r.seed.clone());
        self.post(&ToWorker::Diagnose { input, seed });
    }

    /// Has the worker run both sides to their end with the link's seed and
    /// compare them.
    pub fn compare(self, a: whfb_model::compare::Side, b: whfb_model::compare::Side) {
        self.comparing.set(true);
        self.comparison.set(None);
        let seed = self.route.with_untracked(|r| r.seed.clone());
        self.post(&ToWorker::Compare { a, b, seed });
    }

    fn start_worker(self) {
        match WorkerLink::spawn(move |message| self.receive(message)) {
            Ok(link) => {
                self.link.set_value(Some(link));
                let route = self.route.get_untracked();
                self.post(&ToWorker::Warm {
                    seed: route.seed,
                    options: route.options,
                });
            }
            // Said once, however often the page tries again.
            Err(message) => self.notices.update(|n| {
                if !n.contains(&message) {
                    n.push(message)
                }
            }),
        }
    }

    /// Sends `message` to the worker, starting it first if the page has not
    /// yet (a flow picked in the first frame).
    pub fn post(&self, message: &ToWorker) {
        if self.link.with_value(Option::is_none) {
            self.start_worker();
        }
        self.link.with_value(|link| {
            if let Some(link) = link {
                link.post(message);
            }
        });
    }

    /// Opens `flow` and lands on step `step` (0-based), with no edits.
    pub fn open(self, flow: FlowId, step: usize) {
        self.open_with(flow, step, Vec::new());
    }

    /// Opens `flow` on step `step` with `edits` (from a link), which the
    /// worker applies as their steps come.
    pub fn open_with(self, flow: FlowId, step: usize, edits: Vec<Edit>) {
        let id = self.run_id.get_untracked() + 1;
        self.run_id.set(id);
        self.opened.set(false);
        self.events.set(Vec::new());
        self.crypto_ms.set(Vec::new());
        self.halt.set(None);
        self.requested.set(None);
        self.edits.set(Vec::new());
        self.edit_result.set(None);
        self.follow.set(false);
        self.packing.set(false);
        let total = whfb_model::script::script(flow).steps.len();
        if step >= total {
            self.notices.update(|n| {
                n.push(format!("The link asks for step {} but this flow has {total} steps; showing the last one.", step + 1))
            });
        }
        let mut playback = Playback::new(total);
        playback.current = step.min(total.saturating_sub(1));
        playback.speed = self.playback.with_untracked(|p| p.speed);
        self.playback.set(playback);
        self.route.update(|r| {
            r.flow = Some(flow);
            r.edits = edits.clone();
        });
        let route = self.route.get_untracked();
        self.busy.set(Some("Preparing the run…".into()));
        self.post(&ToWorker::Open {
            run: id,
            flow,
            seed: route.seed,
            options: route.options,
            edits,
        });
        self.request(playback.current);
    }

    /// Opens the current flow again, on the step shown: after a change of
    /// conditions, or to drop every edit.
    pub fn reopen(self) {
        let Some(flow) = self.route.with_untracked(|r| r.flow) else {
            return;
        };
        let step = self.playback.with_untracked(|p| p.current);
        self.open(flow, step);
    }

    /// Sets one condition of the run by its link name (`mfa`, `pin`, …) and
    /// runs the flow again with it. The error says what the value should be.
    pub fn set_condition(self, key: &str, value: &str) -> Result<(), String> {
        let mut options = self.route.with_untracked(|r| r.options.clone());
        options.set(key, value)?;
        self.set_options(options);
        Ok(())
    }

    /// Runs the flow again with `options`, if they differ from the current ones.
    pub fn set_options(self, options: Options) {
        if self.route.with_untracked(|r| r.options == options) {
            return;
        }
        self.route.update(|r| r.options = options);
        self.reopen();
    }

    /// Back to the catalog.
    pub fn close(self) {
        self.run_id.update(|id| *id += 1);
        self.opened.set(false);
        self.events.set(Vec::new());
        self.edits.set(Vec::new());
        self.route.update(|r| {
            r.flow = None;
            r.step = None;
            r.edits.clear();
        });
    }

    /// Makes sure the worker runs the flow at least through step `index`.
    pub fn request(self, index: usize) {
        if self.halt.get_untracked().is_some() {
            return;
        }
        if self.requested.get_untracked().is_some_and(|r| r >= index) {
            return;
        }
        self.requested.set(Some(index));
        self.post(&ToWorker::RunThrough {
            run: self.run_id.get_untracked(),
            index,
        });
    }

    /// Puts edited bytes of `artifact` on the wire after step `after_step`.
    pub fn tamper(self, after_step: usize, artifact: String, bytes: Vec<u8>, resign: Resign) {
        self.edit_result.set(None);
        self.post(&ToWorker::Tamper {
            run: self.run_id.get_untracked(),
            after_step,
            artifact,
            bytes,
            resign,
        });
    }

    /// Moves the simulated clock on after step `after_step`.
    pub fn advance(self, after_step: usize, minutes: u64) {
        self.edit_result.set(None);
        self.post(&ToWorker::Advance {
            run: self.run_id.get_untracked(),
            after_step,
            minutes,
        });
    }

    /// Asks the worker for the run as a ZIP; the page saves it when it comes.
    pub fn download_run(self) {
        self.packing.set(true);
        self.post(&ToWorker::Bundle {
            run: self.run_id.get_untracked(),
        });
    }

    fn receive(self, message: FromWorker) {
        let current = self.run_id.get_untracked();
        match message {
            FromWorker::Ready => {}
            FromWorker::Diagnosed { result } => {
                self.diagnosing.set(false);
                self.busy.set(None);
                self.diagnosis.set(Some(result));
            }
            FromWorker::Compared { result } => {
                self.comparing.set(false);
                self.busy.set(None);
                self.comparison.set(Some(result));
            }
            FromWorker::Inspected { result } => {
                self.inspecting.set(false);
                self.inspection.set(Some(result));
            }
            FromWorker::Pool {
                ready,
                making,
                target,
                ..
            } => self.pool.set(Some(PoolInfo {
                ready,
                making,
                target,
            })),
            FromWorker::Busy { what } => self.busy.set(Some(what)),
            FromWorker::Opened { run, .. } if run == current => {
                self.opened.set(true);
            }
            FromWorker::Stepped {
                run,
                event,
                crypto_ms,
            } if run == current => {
                self.busy.set(None);
                let index = event.index;
                let failed = matches!(event.status, StepStatus::Failed { .. });
                self.crypto_ms.update(|c| {
                    c.truncate(index);
                    c.push(crypto_ms);
                });
                self.events.update(|e| {
                    e.truncate(index);
                    if e.len() == index {
                        e.push(*event);
                    }
                });
                let last = self.playback.with_untracked(|p| p.total.saturating_sub(1));
                if index >= last && !failed {
                    // The run reached its end: nothing caught the edit.
                    self.follow.set(false);
                }
            }
            FromWorker::Halted { run, halt } if run == current => {
                let step = halt.step;
                self.halt.set(Some(halt));
                self.playback.update(|p| {
                    p.halt_at(step);
                    if self.follow.get_untracked() {
                        p.jump(step);
                    }
                });
                self.follow.set(false);
            }
            FromWorker::Rewound { run, keep, edits } if run == current => {
                self.events.update(|e| e.truncate(keep));
                self.crypto_ms.update(|c| c.truncate(keep));
                self.halt.set(None);
                self.playback.update(|p| p.clear_halt());
                self.requested.set(keep.checked_sub(1));
                self.route.update(|r| r.edits = edits.clone());
                self.edits.set(edits);
                self.edit_version.update(|v| *v += 1);
            }
            FromWorker::Tampered { run, result, .. } if run == current => {
                self.answer(EditAnswer::Tamper(result));
            }
            FromWorker::Advanced { run, result } if run == current => {
                self.answer(EditAnswer::Advance(result));
            }
            FromWorker::Bundle { run, name, bytes } if run == current => {
                self.packing.set(false);
                crate::download::save_file(&name, &bytes, "application/zip");
            }
            FromWorker::Failed { run, message } if run.is_none() || run == Some(current) => {
                self.busy.set(None);
                self.packing.set(false);
                self.notices.update(|n| n.push(message));
            }
            _ => {}
        }
    }

    /// An answer to an edit; once accepted, the rest of the flow runs to
    /// show which check, if any, meets the change.
    fn answer(self, answer: EditAnswer) {
        let accepted = answer.result().is_ok();
        self.edit_result.set(Some(answer));
        if accepted {
            self.follow.set(true);
            let last = self.playback.with_untracked(|p| p.total.saturating_sub(1));
            self.request(last);
        }
    }

    /// The event of the step shown, once it has run.
    pub fn current_event(self) -> Option<Event> {
        let i = self.playback.with(|p| p.current);
        self.events.with(|e| e.get(i).cloned())
    }

    /// Whether the run is still being worked out after an edit.
    pub fn following(self) -> bool {
        self.follow.get()
    }
}
