//! The page's state: what the URL asks for, the events the worker has sent,
//! playback, and the worker's status. Components read and write it through
//! signals; the worker is reached only through [`Session::post`].

use crate::playback::Playback;
use crate::protocol::{FromWorker, ToWorker};
use crate::route::Route;
use crate::worker_link::WorkerLink;
use leptos::prelude::*;
use whfb_core::catalog::FlowId;
use whfb_core::engine::{Event, Halt};

/// The key pool as the worker last reported it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolInfo {
    pub ready: usize,
    pub making: bool,
    pub target: usize,
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
    /// The last answer to a tamper request.
    pub tamper_result: RwSignal<Option<Result<String, String>>>,
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
            tamper_result: RwSignal::new(None),
            link: StoredValue::new_local(None),
        }
    }

    /// Starts the worker and begins preparing the world for the link's seed.
    pub fn connect(self) {
        match WorkerLink::spawn(move |message| self.receive(message)) {
            Ok(link) => {
                self.link.set_value(Some(link));
                let route = self.route.get_untracked();
                self.post(&ToWorker::Warm {
                    seed: route.seed.clone(),
                    options: route.options.clone(),
                });
                if let Some(flow) = route.flow {
                    self.open(flow, route.step.map_or(0, |s| s.saturating_sub(1)));
                }
            }
            Err(message) => self.notices.update(|n| n.push(message)),
        }
    }

    pub fn post(&self, message: &ToWorker) {
        self.link.with_value(|link| {
            if let Some(link) = link {
                link.post(message);
            }
        });
    }

    /// Opens `flow` and lands on step `step` (0-based).
    pub fn open(self, flow: FlowId, step: usize) {
        let id = self.run_id.get_untracked() + 1;
        self.run_id.set(id);
        self.opened.set(false);
        self.events.set(Vec::new());
        self.crypto_ms.set(Vec::new());
        self.halt.set(None);
        self.requested.set(None);
        self.tamper_result.set(None);
        let total = whfb_core::script::script(flow).steps.len();
        if step >= total {
            self.notices.update(|n| {
                n.push(format!("The link asks for step {} but this flow has {total} steps; showing the last one.", step + 1))
            });
        }
        let mut playback = Playback::new(total);
        playback.current = step.min(total.saturating_sub(1));
        self.playback.set(playback);
        self.route.update(|r| r.flow = Some(flow));
        let route = self.route.get_untracked();
        self.busy.set(Some("Preparing the run…".into()));
        self.post(&ToWorker::Open {
            run: id,
            flow,
            seed: route.seed,
            options: route.options,
        });
        self.request(playback.current);
    }

    /// Back to the catalog.
    pub fn close(self) {
        self.run_id.update(|id| *id += 1);
        self.opened.set(false);
        self.events.set(Vec::new());
        self.route.update(|r| {
            r.flow = None;
            r.step = None;
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

    fn receive(self, message: FromWorker) {
        let current = self.run_id.get_untracked();
        match message {
            FromWorker::Ready => {}
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
                self.crypto_ms.update(|c| c.push(crypto_ms));
                self.events.update(|e| e.push(*event));
            }
            FromWorker::Halted { run, halt } if run == current => {
                let step = halt.step;
                self.halt.set(Some(halt));
                self.playback.update(|p| p.halt_at(step));
            }
            FromWorker::Tampered { run, result, .. } if run == current => {
                self.tamper_result.set(Some(result))
            }
            FromWorker::Failed { run, message } if run.is_none() || run == Some(current) => {
                self.busy.set(None);
                self.notices.update(|n| n.push(message));
            }
            _ => {}
        }
    }

    /// The event of the step shown, once it has run.
    pub fn current_event(self) -> Option<Event> {
        let i = self.playback.with(|p| p.current);
        self.events.with(|e| e.get(i).cloned())
    }
}
