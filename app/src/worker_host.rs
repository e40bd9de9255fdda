//! The worker's side of the protocol: holds the worlds and the open run with
//! its edits, answers the page, and uses idle time for work that is slow in
//! a browser — generating the keys the open flow will need and filling the
//! TPM's key pre-generation pool — so that stepping rarely waits.
//!
//! A run is the core's [`EditedRun`]: its world as it was when the run
//! opened, plus the edits in force. The core applies and replays edits and
//! decides which it refuses; here the page is only told to drop what came
//! after an edit ([`FromWorker::Rewound`]).
//!
//! Infrastructure keys can also be made by key makers, other workers on
//! other cores: the host orders the keys a new world lacks
//! ([`Host::next_key_order`], the open flow's in the order it needs them),
//! and a step that needs one still on its way waits for it
//! ([`Host::key_made`] resumes the run). Each key comes from its own stream
//! of the seed, so no byte of a run depends on who made it, or when.
//!
//! Plain Rust, no browser types: the worker binary wires it to
//! `postMessage`, and native tests drive it directly.

use crate::protocol::{FromWorker, ToWorker};
use whfb_core::edits::{Edit, EditedRun};
use whfb_core::engine::{Progress, Run};
use whfb_core::options::Options;
use whfb_core::seed::{KeyPurpose, KeyVault, MadeKey, Seed};
use whfb_core::world::{World, WorldConfig};
use whfb_model::compare::{compare, Comparison, Side};

/// Milliseconds from some fixed origin (`performance.now()` in a worker).
pub type Clock = Box<dyn Fn() -> f64>;

/// Worlds kept ready, one per seed and options: switching a condition back
/// and forth then costs nothing.
const WORLDS_KEPT: usize = 4;

pub struct Host {
    /// Worlds before any run, the most recently used last.
    worlds: Vec<(WorldConfig, World)>,
    open: Option<OpenRun>,
    clock: Clock,
    /// Whether other workers make infrastructure keys ([`Host::use_key_makers`]).
    key_makers: bool,
    /// Keys ordered from them and not arrived yet.
    in_flight: Vec<KeyOrder>,
    /// Those not handed to a key maker yet, the first needed first.
    queued: Vec<KeyOrder>,
    /// The step the open run waits at for a key on its way: (run, index).
    waiting: Option<(u32, usize)>,
}

/// What a key maker says to the worker that ordered keys from it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FromKeyMaker {
    Made(MadeKey),
    /// The order could not be met; `None` when it could not even be read
    /// (then none of this maker's orders will be met).
    Failed {
        order: Option<KeyOrder>,
        message: String,
    },
}

impl FromKeyMaker {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("unreadable message from a key maker: {e}"))
    }
}

/// What a key maker does with an order: the key, or why not.
pub fn make_ordered_key(text: &str) -> FromKeyMaker {
    let order: KeyOrder = match serde_json::from_str(text) {
        Ok(order) => order,
        Err(e) => {
            return FromKeyMaker::Failed {
                order: None,
                message: format!("unreadable key order: {e}"),
            }
        }
    };
    match MadeKey::make(&order.seed, order.purpose) {
        Ok(made) => FromKeyMaker::Made(made),
        Err(e) => FromKeyMaker::Failed {
            order: Some(order),
            message: e.to_string(),
        },
    }
}

/// An infrastructure key for another worker to make ([`MadeKey::make`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyOrder {
    pub seed: Seed,
    pub purpose: KeyPurpose,
}

/// The run the page is looking at.
struct OpenRun {
    id: u32,
    edited: EditedRun,
    /// Edits a link carried that wait for their step, in order.
    pending: Vec<Edit>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("run", &self.open.as_ref().map(|o| o.id))
            .field(
                "edits",
                &self.open.as_ref().map_or(0, |o| o.edited.edits().len()),
            )
            .finish_non_exhaustive()
    }
}

/// How many of the infrastructure keys a vault holds already.
fn keys_made(keys: &KeyVault) -> usize {
    KeyPurpose::ALL.iter().filter(|p| keys.has(**p)).count()
}

impl Host {
    pub fn new(clock: Clock) -> Self {
        Host {
            worlds: Vec::new(),
            open: None,
            clock,
            key_makers: false,
            in_flight: Vec::new(),
            queued: Vec::new(),
            waiting: None,
        }
    }

    /// From now on, infrastructure keys are ordered from other workers
    /// rather than made here (a step whose key is late still waits for it).
    pub fn use_key_makers(&mut self) {
        self.key_makers = true;
    }

    /// The next key to hand to a key maker: the open flow's first, in the
    /// order it needs them.
    pub fn next_key_order(&mut self) -> Option<KeyOrder> {
        (!self.queued.is_empty()).then(|| self.queued.remove(0))
    }

    /// Whether keys wait for a key maker.
    pub fn has_key_orders(&self) -> bool {
        !self.queued.is_empty()
    }

    /// Orders, before any world is built, the keys a message will need:
    /// each comes from the seed alone, so key makers can make them while
    /// this worker provisions the TPM.
    pub fn order_ahead(&mut self, message: &ToWorker) {
        let (seed, needed) = match message {
            ToWorker::Warm { seed, .. } => (seed, Vec::new()),
            ToWorker::Open { seed, flow, .. } => (seed, whfb_core::engine::keys_needed(*flow)),
            _ => return,
        };
        let seed = WorldConfig::new(seed.as_str()).seed();
        self.order_keys(seed, &needed);
    }

    /// Whether some world of `seed` has the key for `purpose` already.
    fn has_key(&self, seed: Seed, purpose: KeyPurpose) -> bool {
        let open = self.open.as_ref().map(|o| o.edited.run().world());
        self.worlds
            .iter()
            .map(|(_, w)| w)
            .chain(open)
            .any(|w| w.seed == seed && w.keys.has(purpose))
    }

    /// Orders every key of `needed` (then the rest) that no world of
    /// `seed` has and nobody is making yet; keys of `needed` still waiting
    /// for a key maker move to the front, in the order given.
    fn order_keys(&mut self, seed: Seed, needed: &[KeyPurpose]) {
        if !self.key_makers {
            return;
        }
        let rest = KeyPurpose::ALL.iter().filter(|p| !needed.contains(p));
        let mut queue = Vec::new();
        for &purpose in needed.iter().chain(rest) {
            let order = KeyOrder { seed, purpose };
            if self.has_key(seed, purpose) {
                continue;
            }
            if !self.in_flight.contains(&order) {
                self.in_flight.push(order);
                queue.push(order);
            } else if self.queued.contains(&order) {
                queue.push(order);
            }
        }
        self.queued.retain(|o| !queue.contains(o));
        queue.append(&mut self.queued);
        self.queued = queue;
    }

    /// A key maker's key arrived: every world of its seed gets it, and a
    /// run waiting for it goes on.
    pub fn key_made(&mut self, made: MadeKey, out: &mut dyn FnMut(FromWorker)) {
        let order = KeyOrder {
            seed: made.seed,
            purpose: made.purpose,
        };
        self.in_flight.retain(|o| *o != order);
        let key = match made.into_key() {
            Ok(key) => key,
            Err(e) => return self.key_failed(order, &e.to_string(), out),
        };
        let open = self.open.as_mut().map(|o| &mut o.edited);
        let open_worlds = open.into_iter().flat_map(|e| {
            let (run, origin) = e.worlds_mut();
            [run, origin]
        });
        for world in self.worlds.iter_mut().map(|(_, w)| w).chain(open_worlds) {
            if world.seed == order.seed && !world.keys.has(order.purpose) {
                world.keys.insert(order.purpose, key.clone());
            }
        }
        self.resume(out);
    }

    /// A key maker could not make a key (or its worker died): the run
    /// makes it itself when it needs it.
    pub fn key_failed(&mut self, order: KeyOrder, why: &str, out: &mut dyn FnMut(FromWorker)) {
        self.in_flight.retain(|o| *o != order);
        self.queued.retain(|o| *o != order);
        out(FromWorker::Busy {
            what: format!(
                "The {} is made here after all ({why})…",
                order.purpose.description()
            ),
        });
        self.resume(out);
    }

    /// Runs on the step that waited for a key.
    fn resume(&mut self, out: &mut dyn FnMut(FromWorker)) {
        if let Some((run, index)) = self.waiting.take() {
            self.run_through(run, index, out);
        }
    }

    /// The world for `seed` and `options`, built once and copied for each run.
    fn world(
        &mut self,
        seed: &str,
        options: &Options,
        out: &mut dyn FnMut(FromWorker),
    ) -> Result<World, String> {
        let config = WorldConfig {
            seed_text: seed.to_string(),
            options: options.clone(),
            ..WorldConfig::new(seed)
        };
        if let Some(i) = self.worlds.iter().position(|(c, _)| *c == config) {
            let entry = self.worlds.remove(i);
            let world = entry.1.clone();
            self.worlds.push(entry);
            return Ok(world);
        }
        out(FromWorker::Busy {
            what:
                "Provisioning the device's TPM: storage root key, endorsement key, attestation key…"
                    .into(),
        });
        let mut world =
            World::build(config.clone()).map_err(|e| format!("cannot build the world: {e}"))?;
        // Infrastructure keys come from the seed alone (one stream per
        // purpose), so those already made for another set of options are
        // the very same keys: reuse them rather than spend seconds again.
        if let Some(keys) = self.best_keys(&world) {
            world.keys = keys;
        }

        self.worlds.push((config, world.clone()));
        if self.worlds.len() > WORLDS_KEPT {
            self.worlds.remove(0);
        }
        self.report_pool(out);
        Ok(world)
    }

    /// Runs both sides to their end, each on a fresh copy of its world, and
    /// compares them (`whfb_model::compare`).
    fn compare(
        &mut self,
        a: Side,
        b: Side,
        seed: &str,
        out: &mut dyn FnMut(FromWorker),
    ) -> Result<Comparison, String> {
        let mut ran = |side: &Side, host: &mut Self| -> Result<Run, String> {
            let world = host.world(seed, &side.options, out)?;
            out(FromWorker::Busy {
                what: format!("Running {} to its end…", side.label()),
            });
            let mut run = Run::new(world, side.flow);
            run.run_to_end();
            Ok(run)
        };
        let first = ran(&a, self)?;
        let second = ran(&b, self)?;
        Ok(compare(a, first.events(), b, second.events()))
    }

    /// The fullest key vault made for the same seed as `world`.
    fn best_keys(&self, world: &World) -> Option<KeyVault> {
        let open = self.open.as_ref().map(|o| o.edited.run().world());
        self.worlds
            .iter()
            .map(|(_, w)| w)
            .chain(open)
            .filter(|w| w.seed == world.seed)
            .map(|w| &w.keys)
            .filter(|k| keys_made(k) > keys_made(&world.keys))
            .max_by_key(|k| keys_made(k))
            .cloned()
    }

    /// Hands keys the open run generated to its origin and to the kept
    /// worlds of the same seed, so that replays and new runs find them.
    fn share_keys(&mut self) {
        let Some(open) = &mut self.open else {
            return;
        };
        let world = open.edited.run().world().clone();
        let made = keys_made(&world.keys);
        let origin = open.edited.origin_mut();
        if made > keys_made(&origin.keys) {
            origin.keys = world.keys.clone();
        }
        if world.pki_if_built().is_some() && origin.pki_if_built().is_none() {
            // With its keys there, the PKI is two certificates to sign. Should
            // it fail, the replayed run builds it itself and reports why.
            let _ = origin.pki();
        }
        for (_, w) in &mut self.worlds {
            if w.seed == world.seed && keys_made(&w.keys) < made {
                w.keys = world.keys.clone();
            }
        }
    }

    fn report_pool(&self, out: &mut dyn FnMut(FromWorker)) {
        let device = match (&self.open, self.worlds.last()) {
            (Some(open), _) => &open.edited.run().world().device,
            (None, Some((_, world))) => &world.device,
            (None, None) => return,
        };
        let s = device.pool_state();
        out(FromWorker::Pool {
            ready: s.ready,
            making: s.making,
            target: s.target,
            created_total: s.created_total,
        });
    }

    pub fn handle(&mut self, message: ToWorker, out: &mut dyn FnMut(FromWorker)) {
        match message {
            ToWorker::Warm { seed, options } => match self.world(&seed, &options, out) {
                Ok(world) => self.order_keys(world.seed, &[]),
                Err(message) => out(FromWorker::Failed { run: None, message }),
            },
            ToWorker::Open {
                run,
                flow,
                seed,
                options,
                edits,
            } => match self.world(&seed, &options, out) {
                Ok(world) => {
                    let edited = EditedRun::new(world, flow);
                    let total = edited.run().script().steps.len();
                    self.waiting = None;
                    self.order_keys(edited.run().world().seed, &edited.run().keys_needed());
                    self.open = Some(OpenRun {
                        id: run,
                        edited,
                        pending: edits,
                    });
                    out(FromWorker::Opened { run, flow, total });
                }
                Err(message) => out(FromWorker::Failed {
                    run: Some(run),
                    message,
                }),
            },
            ToWorker::RunThrough { run, index } => self.run_through(run, index, out),
            ToWorker::Tamper {
                run,
                after_step,
                artifact,
                bytes,
                resign,
            } => {
                let edit = Edit::Tamper {
                    after_step,
                    artifact: artifact.clone(),
                    bytes,
                    resign,
                };
                let result = self.edit(run, edit, out);
                out(FromWorker::Tampered {
                    run,
                    artifact,
                    result,
                });
            }
            ToWorker::Advance {
                run,
                after_step,
                minutes,
            } => {
                let result = self.edit(
                    run,
                    Edit::Advance {
                        after_step,
                        minutes,
                    },
                    out,
                );
                out(FromWorker::Advanced { run, result });
            }
            ToWorker::Bundle { run } => out(self.bundle(run)),
            ToWorker::Diagnose { input, seed } => {
                out(FromWorker::Busy {
                    what: "Reading the report and running its flow…".into(),
                });
                let result =
                    whfb_core::diagnose::run(&input, |options| self.world(&seed, options, out));
                out(FromWorker::Diagnosed { result });
            }
            ToWorker::Compare { a, b, seed } => {
                let result = self.compare(a, b, &seed, out);
                out(FromWorker::Compared { result });
            }
            ToWorker::Inspect { input, now } => out(FromWorker::Inspected {
                result: whfb_core::inspect::inspect(
                    &input,
                    whfb_core::clock::SimTime::from_unix_seconds(now),
                ),
            }),
        }
    }

    /// Has the core apply an edit; an accepted one tells the page which
    /// events still hold. Refused edits change nothing.
    fn edit(
        &mut self,
        id: u32,
        edit: Edit,
        out: &mut dyn FnMut(FromWorker),
    ) -> Result<String, String> {
        let Some(open) = self.open.as_mut().filter(|o| o.id == id) else {
            return Err("that run is no longer open".into());
        };
        let keep = edit.after_step() + 1;
        let done = open.edited.edit(edit)?;
        out(FromWorker::Rewound {
            run: id,
            keep,
            edits: open.edited.edits().to_vec(),
        });
        Ok(done)
    }

    fn run_through(&mut self, id: u32, index: usize, out: &mut dyn FnMut(FromWorker)) {
        let Some(open) = &mut self.open else {
            out(FromWorker::Failed {
                run: Some(id),
                message: "no flow is open".into(),
            });
            return;
        };
        if open.id != id {
            // A newer run replaced this one; its steps are no longer wanted.
            return;
        }
        let total = open.edited.run().script().steps.len();
        if index >= total {
            out(FromWorker::Failed {
                run: Some(id),
                message: format!("the flow has {total} steps"),
            });
            return;
        }
        loop {
            apply_pending(open, out);
            let run = open.edited.run_mut();
            if run.events().len() > index || run.is_finished() {
                break;
            }
            let started = (self.clock)();
            match run.advance() {
                Progress::Ran => {}
                Progress::Ended => break,
                Progress::NeedsKey(purpose) => {
                    let order = KeyOrder {
                        seed: run.world().seed,
                        purpose,
                    };
                    if self.in_flight.contains(&order) {
                        // Another worker is making it: go on when it comes.
                        self.waiting = Some((id, index));
                        out(FromWorker::Busy {
                            what: format!(
                                "Waiting for the {} this step needs (made in another worker)…",
                                purpose.description()
                            ),
                        });
                        return;
                    }
                    // The idle work had not made it yet: make it now, then
                    // run the step again.
                    out(FromWorker::Busy {
                        what: format!("Making the {} this step needs…", purpose.description()),
                    });
                    if let Err(e) = run.world_mut().keys.make(purpose) {
                        out(FromWorker::Failed {
                            run: Some(id),
                            message: e.to_string(),
                        });
                        break;
                    }
                    continue;
                }
            }
            let Some(event) = run.events().last().cloned() else {
                break;
            };
            let crypto_ms = (self.clock)() - started;
            out(FromWorker::Stepped {
                run: id,
                event: Box::new(event),
                crypto_ms,
            });
            if let Some(halt) = run.halted() {
                out(FromWorker::Halted {
                    run: id,
                    halt: halt.clone(),
                });
            }
        }
        // Keys a step had to make on the spot serve replays too.
        self.share_keys();
        self.report_pool(out);
    }

    /// The open run so far as one ZIP, dated at the run's start so that the
    /// same run gives the same file.
    fn bundle(&self, id: u32) -> FromWorker {
        let Some(open) = self.open.as_ref().filter(|o| o.id == id) else {
            return FromWorker::Failed {
                run: Some(id),
                message: "that run is no longer open, so it cannot be downloaded".into(),
            };
        };
        let run = open.edited.run();
        match whfb_core::export::bundle(run)
            .and_then(|files| whfb_core::zip::archive(&files, run.world().config.start))
        {
            Ok(bytes) => FromWorker::Bundle {
                run: id,
                name: bundle_name(run, !open.edited.edits().is_empty()),
                bytes,
            },
            Err(e) => FromWorker::Failed {
                run: Some(id),
                message: format!("the run could not be packed for download: {e}"),
            },
        }
    }

    /// Does one piece of background work; returns whether there is more.
    /// Each piece is at most one key generation (a few hundred milliseconds in wasm).
    pub fn idle(&mut self, out: &mut dyn FnMut(FromWorker)) -> bool {
        if let Some(open) = &mut self.open {
            // Keys other workers are making are not made twice: while they
            // come, this worker fills the TPM's pool instead.
            let run = open.edited.run();
            let awaited = run.keys_needed().into_iter().any(|purpose| {
                !run.world().keys.has(purpose)
                    && self.in_flight.contains(&KeyOrder {
                        seed: run.world().seed,
                        purpose,
                    })
            });
            let warm_up = if awaited {
                Ok(None)
            } else {
                open.edited.run_mut().warm_up_one()
            };
            match warm_up {
                Ok(Some(what)) => {
                    self.share_keys();
                    out(FromWorker::Busy {
                        what: format!("Prepared ahead of need: {what}"),
                    });
                    return true;
                }
                Ok(None) => {}
                Err(e) => {
                    out(FromWorker::Failed {
                        run: None,
                        message: e.to_string(),
                    });
                    return false;
                }
            }
            if let Ok(true) = open.edited.run_mut().world_mut().device.fill_pool_one() {
                self.report_pool(out);
                return true;
            }
            // Replays start from the origin: a full pool there spares them
            // a key generation at the step that takes a key from it. Not
            // while the run waits for a key from another worker: its arrival
            // would wait for this slice.
            if self.waiting.is_some() {
                return false;
            }
            if let Ok(true) = open.edited.origin_mut().device.fill_pool_one() {
                return true;
            }
        }
        if let Some((_, world)) = self.worlds.last_mut() {
            match world.device.fill_pool_one() {
                Ok(true) => {
                    self.report_pool(out);
                    return true;
                }
                Ok(false) => {}
                Err(e) => out(FromWorker::Failed {
                    run: None,
                    message: format!("the key pool could not be filled: {e}"),
                }),
            }
        }
        false
    }
}

/// Applies the link's edits whose step the run has just reached; one the
/// engine refuses is dropped, and the page told why.
fn apply_pending(open: &mut OpenRun, out: &mut dyn FnMut(FromWorker)) {
    while let Some(edit) = open.pending.first() {
        let ran = open.edited.run().events().len();
        if edit.after_step() + 1 != ran {
            if edit.after_step() + 1 < ran {
                // Its step has gone by (an earlier edit replayed the run).
                open.pending.remove(0);
                continue;
            }
            return;
        }
        let edit = open.pending.remove(0);
        let step = edit.after_step() + 1;
        match open.edited.edit(edit) {
            Ok(_) => out(FromWorker::Rewound {
                run: open.id,
                keep: step,
                edits: open.edited.edits().to_vec(),
            }),
            Err(why) => out(FromWorker::Failed {
                run: Some(open.id),
                message: format!("The link's change after step {step} was not made: {why}"),
            }),
        }
    }
}

/// `whfb-aadj-managed-demo.zip`: the flow and the seed, in file-name-safe
/// characters; `-edited` when the run was tampered with or its clock moved.
fn bundle_name(run: &Run, edited: bool) -> String {
    let seed: String = run
        .world()
        .config
        .seed_text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let suffix = if edited { "-edited" } else { "" };
    format!("whfb-{}-{seed}{suffix}.zip", run.flow().slug())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{self, EditMode};
    use crate::flow_id;
    use whfb_core::edits::Resign;
    use whfb_core::engine::{Event, Halt};
    use whfb_core::flows::FlowId;

    fn host() -> Host {
        Host::new(Box::new(|| 0.0))
    }

    /// Runs `run` through step `index`.
    fn run_through(host: &mut Host, run: u32, index: usize) -> Vec<FromWorker> {
        send(host, ToWorker::RunThrough { run, index })
    }

    /// Everything the host says in answer to `message`.
    fn send(host: &mut Host, message: ToWorker) -> Vec<FromWorker> {
        let mut got = Vec::new();
        host.handle(message, &mut |m| got.push(m));
        got
    }

    fn open(host: &mut Host, run: u32, flow: FlowId, options: Options) {
        let got = send(
            host,
            ToWorker::Open {
                run,
                flow,
                seed: "host-tests".into(),
                options,
                edits: Vec::new(),
            },
        );
        assert!(got
            .iter()
            .any(|m| matches!(m, FromWorker::Opened { run: r, .. } if *r == run)));
    }

    fn events(got: &[FromWorker]) -> Vec<Event> {
        got.iter()
            .filter_map(|m| match m {
                FromWorker::Stepped { event, .. } => Some((**event).clone()),
                _ => None,
            })
            .collect()
    }

    fn halt(got: &[FromWorker]) -> Option<Halt> {
        got.iter().find_map(|m| match m {
            FromWorker::Halted { halt, .. } => Some(halt.clone()),
            _ => None,
        })
    }

    fn last_step(flow: FlowId) -> usize {
        whfb_core::script::script(flow).steps.len() - 1
    }

    /// The index of the step `id` of Microsoft Entra joined, managed.
    fn aadj_step(id: &str) -> usize {
        whfb_core::script::script(flow_id("aadj-managed"))
            .resolve(id)
            .unwrap()
    }

    /// The access token of Microsoft Entra joined, managed.
    fn token_step() -> usize {
        aadj_step("tokens.issue-access-token")
    }

    /// The token's bytes with one claim changed, as the page's editor makes them.
    fn edited_token(event: &Event, claim: &str, value: &str) -> Vec<u8> {
        let token = event
            .artifacts
            .iter()
            .find(|a| a.id == "access-token")
            .expect("the step carries the access token");
        let text = edit::draft(EditMode::JwtClaims, &token.bytes).unwrap();
        let mut claims: serde_json::Value = serde_json::from_str(&text).unwrap();
        claims[claim] = serde_json::Value::from(value);
        let text = serde_json::to_string_pretty(&claims).unwrap();
        edit::bytes(EditMode::JwtClaims, &token.bytes, &text).unwrap()
    }

    /// Opens Microsoft Entra joined, managed and runs it to its access token.
    fn at_the_token(host: &mut Host, run: u32) -> Event {
        open(host, run, flow_id("aadj-managed"), Options::default());
        let got = run_through(host, run, token_step());
        let token_event = events(&got).pop().unwrap();
        assert!(token_event
            .tamperable
            .iter()
            .any(|t| t.artifact == "access-token" && t.resign.is_ok() && t.attacker.is_ok()));
        token_event
    }

    fn tamper(host: &mut Host, run: u32, bytes: Vec<u8>, resign: Resign) -> Vec<FromWorker> {
        send(
            host,
            ToWorker::Tamper {
                run,
                after_step: token_step(),
                artifact: "access-token".into(),
                bytes,
                resign,
            },
        )
    }

    fn accepted(got: &[FromWorker]) -> bool {
        got.iter().any(|m| {
            matches!(
                m,
                FromWorker::Tampered { result: Ok(_), .. }
                    | FromWorker::Advanced { result: Ok(_), .. }
            )
        })
    }

    /// A long session switches conditions many times: the worker keeps
    /// the four most recently used worlds and drops the rest, so its
    /// memory stays bounded whatever the page asks for.
    #[test]
    fn the_worker_keeps_at_most_four_worlds() {
        use whfb_core::clock::SimDuration;
        use whfb_core::options::LastMfa;
        let mut host = host();
        let options = |minutes: u64| Options {
            last_mfa: LastMfa::Ago(SimDuration::minutes(minutes)),
            ..Options::default()
        };
        for (run, minutes) in (1..=7).zip([1, 2, 3, 4, 5, 6, 7]) {
            open(&mut host, run, flow_id("aadj-managed"), options(minutes));
            assert!(host.worlds.len() <= WORLDS_KEPT, "{}", host.worlds.len());
        }
        assert_eq!(host.worlds.len(), WORLDS_KEPT);
        // The most recently used are kept; going back to one of them
        // builds no new world.
        let kept: Vec<_> = host.worlds.iter().map(|(c, _)| c.options.clone()).collect();
        assert_eq!(kept, (4..=7).map(options).collect::<Vec<_>>());
        open(&mut host, 8, flow_id("aadj-managed"), options(5));
        assert_eq!(host.worlds.len(), WORLDS_KEPT);
        assert_eq!(
            host.worlds.last().map(|(c, _)| c.options.clone()),
            Some(options(5))
        );
    }

    #[test]
    fn a_run_steps_through_and_reports_each_event() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        let got = run_through(&mut host, 1, 2);
        let steps: Vec<usize> = events(&got).iter().map(|e| e.index).collect();
        assert_eq!(steps, vec![0, 1, 2]);
    }

    #[test]
    fn stale_runs_and_bad_steps_are_answered_not_crashed() {
        let mut host = host();
        let got = run_through(&mut host, 9, 0);
        assert!(matches!(got.last(), Some(FromWorker::Failed { .. })));
        open(&mut host, 2, flow_id("onprem-key"), Options::default());
        let got = run_through(&mut host, 2, 999);
        assert!(matches!(got.last(), Some(FromWorker::Failed { .. })));
        let got = send(&mut host, ToWorker::Bundle { run: 1 });
        assert!(matches!(got.last(), Some(FromWorker::Failed { .. })));
    }

    #[test]
    fn messages_survive_json() {
        let m = ToWorker::RunThrough { run: 3, index: 7 };
        assert_eq!(ToWorker::from_json(&m.to_json()), Ok(m));
        let m = FromWorker::Rewound {
            run: 1,
            keep: 3,
            edits: vec![Edit::Advance {
                after_step: 2,
                minutes: 15,
            }],
        };
        assert_eq!(FromWorker::from_json(&m.to_json()), Ok(m));
        let m = ToWorker::Tamper {
            run: 1,
            after_step: 8,
            artifact: "access-token".into(),
            bytes: vec![0, 1, 0xfa],
            resign: Resign::Sender,
        };
        assert!(m.to_json().contains(r#""bytes":"AAH6""#), "{}", m.to_json());
        assert_eq!(ToWorker::from_json(&m.to_json()), Ok(m));
        assert!(ToWorker::from_json("{nonsense").is_err());
        assert!(ToWorker::from_json(
            r#"{"Tamper":{"run":1,"after_step":8,"artifact":"a","bytes":"not base64!","resign":"Keep"}}"#
        )
        .is_err());
    }

    #[test]
    fn an_edited_token_with_its_old_signature_fails_the_signature_check() {
        let mut host = host();
        let token = at_the_token(&mut host, 1);
        let got = tamper(
            &mut host,
            1,
            edited_token(&token, "aud", "urn:someone-else"),
            Resign::Keep,
        );
        assert!(accepted(&got), "{got:?}");
        let got = run_through(&mut host, 1, last_step(flow_id("aadj-managed")));
        let halt = halt(&got).expect("the edit is caught");
        assert_eq!(halt.check, "Access token signature");
        assert_eq!(halt.actor, whfb_core::catalog::Actor::Adrs);
    }

    #[test]
    fn a_token_an_attacker_signed_fails_the_signature_check() {
        let mut host = host();
        let token = at_the_token(&mut host, 1);
        let got = tamper(
            &mut host,
            1,
            edited_token(&token, "upn", "mallory@contoso.com"),
            Resign::Attacker,
        );
        assert!(accepted(&got), "{got:?}");
        let got = run_through(&mut host, 1, last_step(flow_id("aadj-managed")));
        let halt = halt(&got).expect("the attacker's key is trusted by nobody");
        assert_eq!(halt.check, "Access token signature");
        assert!(
            halt.reason.contains("signed by another key"),
            "{}",
            halt.reason
        );
    }

    #[test]
    fn a_re_signed_token_meets_the_checks_on_what_it_says() {
        let mut host = host();
        let token = at_the_token(&mut host, 1);
        let last = last_step(flow_id("aadj-managed"));
        assert!(accepted(&tamper(
            &mut host,
            1,
            edited_token(&token, "aud", "urn:someone-else"),
            Resign::Sender,
        )));
        let got = run_through(&mut host, 1, last);
        let caught = halt(&got).expect("the audience is checked");
        assert_eq!(caught.check, "Access token audience");

        // A second edit of the same token replaces the first, and the run is
        // rebuilt from the token on: the page drops what came after it.
        let got = tamper(
            &mut host,
            1,
            edited_token(&token, "unique_name", "mallory@contoso.com"),
            Resign::Sender,
        );
        assert!(got.iter().any(|m| matches!(
            m,
            FromWorker::Rewound { keep, edits, .. } if *keep == token_step() + 1 && edits.len() == 1
        )));
        let got = run_through(&mut host, 1, last);
        // Nothing later reads unique_name: the sender's key vouches for it.
        assert_eq!(halt(&got), None);
        assert_eq!(events(&got).last().map(|e| e.index), Some(last));
    }

    #[test]
    fn moving_the_clock_before_registration_makes_the_mfa_stale() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        let last = last_step(flow_id("aadj-managed"));
        let got = run_through(&mut host, 1, last);
        assert_eq!(halt(&got), None);
        // The app sends the registration; the next step checks it.
        let register = aadj_step("registration.register-key");
        let got = send(
            &mut host,
            ToWorker::Advance {
                run: 1,
                after_step: register,
                minutes: 15,
            },
        );
        assert!(accepted(&got), "{got:?}");
        assert!(got
            .iter()
            .any(|m| matches!(m, FromWorker::Rewound { keep, .. } if *keep == register + 1)));
        let got = run_through(&mut host, 1, last);
        let halt = halt(&got).expect("stale MFA is refused");
        assert_eq!(halt.check, "MFA is still fresh");
        assert_eq!(halt.step, register + 1);
        let first = events(&got).into_iter().next().unwrap();
        assert!(
            first.notes.iter().any(|n| n.contains("15 min")),
            "{:?}",
            first.notes
        );
    }

    #[test]
    fn the_same_edits_replay_to_the_same_bytes() {
        let flow = flow_id("aadj-managed");
        let last = last_step(flow);

        // One host edits the token as soon as it is there…
        let mut direct = host();
        let token = at_the_token(&mut direct, 1);
        let bytes = edited_token(&token, "unique_name", "mallory@contoso.com");
        assert!(accepted(&tamper(
            &mut direct,
            1,
            bytes.clone(),
            Resign::Sender
        )));
        let a = events(&run_through(&mut direct, 1, last));

        // …the other runs to the end first, so the edit needs a replay.
        let mut replayed = host();
        at_the_token(&mut replayed, 7);
        run_through(&mut replayed, 7, last);
        let got = tamper(&mut replayed, 7, bytes, Resign::Sender);
        assert!(got
            .iter()
            .any(|m| matches!(m, FromWorker::Rewound { keep, .. } if *keep == token_step() + 1)));
        let b = events(&run_through(&mut replayed, 7, last));

        assert_eq!(a.len(), last - token_step());
        assert_eq!(a, b);
        // And a clock move added to both lands both on the same bytes again.
        for (host, run) in [(&mut direct, 1), (&mut replayed, 7)] {
            assert!(accepted(&send(
                host,
                ToWorker::Advance {
                    run,
                    after_step: token_step() + 4,
                    minutes: 2,
                },
            )));
        }
        let a = events(&run_through(&mut direct, 1, last));
        let b = events(&run_through(&mut replayed, 7, last));
        assert_eq!(a.first().map(|e| e.index), Some(token_step() + 5));
        assert_eq!(a, b);
    }

    #[test]
    fn refused_edits_say_why_and_change_nothing() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        let attestation_step = aadj_step("gestures.return-key");
        let got = run_through(&mut host, 1, attestation_step);
        let event = events(&got).pop().unwrap();
        let attest = event
            .artifacts
            .iter()
            .find(|a| a.id == "key-attestation")
            .unwrap();
        let refusals = [
            ToWorker::Tamper {
                run: 1,
                after_step: attestation_step,
                artifact: attest.id.clone(),
                bytes: attest.bytes.clone(),
                resign: Resign::Sender,
            },
            ToWorker::Tamper {
                run: 1,
                after_step: attestation_step,
                artifact: "no-such-artifact".into(),
                bytes: vec![1],
                resign: Resign::Keep,
            },
            ToWorker::Advance {
                run: 1,
                after_step: attestation_step + 1,
                minutes: 5,
            },
            ToWorker::Advance {
                run: 1,
                after_step: attestation_step,
                minutes: 0,
            },
            ToWorker::Advance {
                run: 2,
                after_step: 0,
                minutes: 5,
            },
        ];
        for message in refusals {
            let got = send(&mut host, message.clone());
            let why = got.iter().find_map(|m| match m {
                FromWorker::Tampered {
                    result: Err(why), ..
                }
                | FromWorker::Advanced {
                    result: Err(why), ..
                } => Some(why.clone()),
                _ => None,
            });
            assert!(why.is_some_and(|w| !w.is_empty()), "{message:?}: {got:?}");
            assert!(!got.iter().any(|m| matches!(m, FromWorker::Rewound { .. })));
        }
        let got = send(
            &mut host,
            ToWorker::Tamper {
                run: 1,
                after_step: attestation_step,
                artifact: attest.id.clone(),
                bytes: attest.bytes.clone(),
                resign: Resign::Sender,
            },
        );
        assert!(got.iter().any(|m| matches!(
            m,
            FromWorker::Tampered { result: Err(why), .. } if why.contains("restricted")
        )));
        // The run goes on as if nothing had been asked.
        let got = run_through(&mut host, 1, last_step(flow_id("aadj-managed")));
        assert_eq!(halt(&got), None);
    }

    #[test]
    fn the_bundle_is_a_zip_of_the_run() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        run_through(&mut host, 1, 3);
        let got = send(&mut host, ToWorker::Bundle { run: 1 });
        let Some(FromWorker::Bundle { name, bytes, .. }) = got.last() else {
            panic!("{got:?}");
        };
        assert_eq!(name, "whfb-aadj-managed-host-tests.zip");
        assert_eq!(&bytes[..2], b"PK");
        let text = String::from_utf8_lossy(bytes);
        for file in ["README.md", "trace.json", "index.json", "artifacts/"] {
            assert!(text.contains(file), "{file}");
        }
    }

    #[test]
    fn keys_made_for_one_set_of_options_serve_the_next() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        while host.idle(&mut |_| {}) {}
        let mut options = Options::default();
        options.set("mfa", "2").unwrap();
        open(&mut host, 2, flow_id("aadj-managed"), options);
        let open = host.open.as_ref().unwrap();
        assert!(open
            .edited
            .run()
            .world()
            .keys
            .has(KeyPurpose::AzureAdTokenSigning));
        assert!(open
            .edited
            .origin()
            .keys
            .has(KeyPurpose::AzureAdTokenSigning));
    }

    #[test]
    fn a_links_edits_are_made_as_their_steps_come() {
        let mut host = Host::new(Box::new(|| 0.0));
        let flow = flow_id("aadj-managed");
        let register = whfb_core::script::script(flow)
            .resolve("registration.register-key")
            .unwrap();
        let mut got = Vec::new();
        host.handle(
            ToWorker::Open {
                run: 1,
                flow,
                seed: "host-tests".into(),
                options: Options::default(),
                edits: vec![Edit::Advance {
                    after_step: register,
                    minutes: 15,
                }],
            },
            &mut |m| got.push(m),
        );
        let got = run_through(&mut host, 1, last_step(flow));
        let rewound = got.iter().position(|m| matches!(m, FromWorker::Rewound { keep, edits, .. } if *keep == register + 1 && edits.len() == 1));
        let halted = got.iter().position(
            |m| matches!(m, FromWorker::Halted { halt, .. } if halt.check == "MFA is still fresh"),
        );
        assert!(
            rewound.is_some() && halted.is_some() && rewound < halted,
            "{got:?}"
        );
    }

    /// Hands `order` to a key maker and what it answers back to the host.
    fn deliver(host: &mut Host, order: KeyOrder) -> Vec<FromWorker> {
        let text = serde_json::to_string(&order).unwrap();
        let answer = FromKeyMaker::from_json(&make_ordered_key(&text).to_json()).unwrap();
        let FromKeyMaker::Made(made) = answer else {
            panic!("no key: {answer:?}");
        };
        let mut got = Vec::new();
        host.key_made(made, &mut |m| got.push(m));
        got
    }

    fn take_orders(host: &mut Host) -> Vec<KeyOrder> {
        std::iter::from_fn(|| host.next_key_order()).collect()
    }

    #[test]
    fn a_flow_opened_after_a_warm_up_has_its_keys_made_first() {
        let mut host = host();
        host.use_key_makers();
        send(
            &mut host,
            ToWorker::Warm {
                seed: "host-tests".into(),
                options: Options::default(),
            },
        );
        // The catalog's warm-up orders every key; one is already with a maker.
        let first = host.next_key_order().unwrap();
        assert_eq!(first.purpose, KeyPurpose::ALL[0]);
        open(
            &mut host,
            1,
            flow_id("hybrid-cert-sync"),
            Options::default(),
        );
        let rest: Vec<KeyPurpose> = take_orders(&mut host).iter().map(|o| o.purpose).collect();
        assert_eq!(
            rest,
            [
                KeyPurpose::AdFsTokenSigning,
                KeyPurpose::DeviceCa,
                KeyPurpose::EnterpriseRootCa,
                KeyPurpose::EnterpriseIssuingCa,
                KeyPurpose::EnrollmentAgent,
                KeyPurpose::DomainController,
                KeyPurpose::HybridJoinCertificate,
                KeyPurpose::EnterpriseDeviceCa,
            ]
        );
    }

    fn waits(got: &[FromWorker]) -> bool {
        matches!(got.last(), Some(FromWorker::Busy { what }) if what.starts_with("Waiting for the"))
    }

    #[test]
    fn keys_made_by_other_workers_in_any_order_give_the_same_run() {
        let flow = flow_id("hybrid-cert-sync");
        let mut alone = host();
        open(&mut alone, 1, flow, Options::default());
        let expected = events(&run_through(&mut alone, 1, last_step(flow)));
        assert_eq!(expected.len(), last_step(flow) + 1);

        let mut host = host();
        host.use_key_makers();
        open(&mut host, 1, flow, Options::default());
        let orders = take_orders(&mut host);
        let purposes: Vec<KeyPurpose> = orders.iter().map(|o| o.purpose).collect();
        // In the order the flow needs them: AD FS signs first.
        assert_eq!(
            purposes,
            [
                KeyPurpose::AdFsTokenSigning,
                KeyPurpose::AzureAdTokenSigning,
                KeyPurpose::DeviceCa,
                KeyPurpose::EnterpriseRootCa,
                KeyPurpose::EnterpriseIssuingCa,
                KeyPurpose::EnrollmentAgent,
                KeyPurpose::DomainController,
                KeyPurpose::HybridJoinCertificate,
                KeyPurpose::EnterpriseDeviceCa,
            ]
        );
        open(&mut host, 2, flow, Options::default());
        assert!(!host.has_key_orders(), "each key is ordered once");
        let mut got = run_through(&mut host, 2, last_step(flow));
        assert!(
            waits(&got),
            "the run waits for the AD FS key: {:?}",
            got.last()
        );
        let before = events(&got).len();
        assert!(before > 0 && before < expected.len());
        // Keys arrive last-ordered first; the run goes on once its key is in.
        for order in orders.into_iter().rev() {
            got.extend(deliver(&mut host, order));
        }
        assert!(!waits(&got));
        let run = events(&got);
        assert_eq!(run.len(), expected.len());
        for (a, b) in run.iter().zip(&expected) {
            assert_eq!(
                a, b,
                "step {}: the same bytes whoever made the keys",
                a.index
            );
        }
        assert!(!host.has_key_orders());
    }

    #[test]
    fn a_key_maker_that_fails_leaves_the_key_to_the_run() {
        let flow = flow_id("aadj-managed");
        let mut host = host();
        host.use_key_makers();
        open(&mut host, 1, flow, Options::default());
        let orders = take_orders(&mut host);
        assert_eq!(orders[0].purpose, KeyPurpose::AzureAdTokenSigning);
        let got = run_through(&mut host, 1, last_step(flow));
        assert!(waits(&got));
        // Every maker dies: the run makes each key itself.
        let mut after = Vec::new();
        for order in &orders {
            host.key_failed(*order, "the worker died", &mut |m| after.push(m));
        }
        assert!(after
            .iter()
            .any(|m| matches!(m, FromWorker::Busy { what } if what.contains("the worker died"))));
        assert_eq!(
            events(&got).len() + events(&after).len(),
            last_step(flow) + 1
        );
    }

    #[test]
    fn key_makers_answer_what_they_cannot_read_or_make() {
        let unreadable = make_ordered_key("{not an order");
        assert!(matches!(
            &unreadable,
            FromKeyMaker::Failed { order: None, message } if message.starts_with("unreadable key order")
        ));
        assert_eq!(
            FromKeyMaker::from_json(&unreadable.to_json()).unwrap(),
            unreadable
        );
        assert!(FromKeyMaker::from_json("[1]").is_err());
        // A key that arrives broken is made by the run instead.
        let mut host = host();
        host.use_key_makers();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        let orders = take_orders(&mut host);
        let order = orders[0];
        let mut made = MadeKey::make(&order.seed, order.purpose).unwrap();
        made.p.truncate(10);
        let mut got = Vec::new();
        host.key_made(made, &mut |m| got.push(m));
        assert!(got.iter().any(
            |m| matches!(m, FromWorker::Busy { what } if what.contains("made here after all"))
        ));
        // The other keys arrive whole.
        for order in &orders[1..] {
            deliver(&mut host, *order);
        }
        let got = run_through(&mut host, 1, last_step(flow_id("aadj-managed")));
        assert_eq!(events(&got).len(), last_step(flow_id("aadj-managed")) + 1);
    }
}
