//! The worker's side of the protocol: holds the worlds and the current run,
//! answers the page, and uses idle time for work that is slow in a browser —
//! generating the keys the open flow will need and filling the TPM's key
//! pre-generation pool — so that stepping rarely waits.
//!
//! Plain Rust, no browser types: the worker binary wires it to
//! `postMessage`, and native tests drive it directly.

use crate::protocol::{FromWorker, ToWorker};
use whfb_core::engine::Run;
use whfb_core::world::{Options, World, WorldConfig};

/// Milliseconds from some fixed origin (`performance.now()` in a worker).
pub type Clock = Box<dyn Fn() -> f64>;

pub struct Host {
    /// The world for the last seed and options asked for, before any run.
    base: Option<(WorldConfig, World)>,
    run: Option<(u32, Run)>,
    clock: Clock,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("run", &self.run.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl Host {
    pub fn new(clock: Clock) -> Self {
        Host {
            base: None,
            run: None,
            clock,
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
        if let Some((c, w)) = &self.base {
            if *c == config {
                return Ok(w.clone());
            }
        }
        out(FromWorker::Busy {
            what: "Provisioning the device's TPM: endorsement key, attestation key, device key…"
                .into(),
        });
        let world =
            World::build(config.clone()).map_err(|e| format!("cannot build the world: {e}"))?;
        self.base = Some((config, world.clone()));
        self.report_pool(out);
        Ok(world)
    }

    fn report_pool(&self, out: &mut dyn FnMut(FromWorker)) {
        let device = match (&self.run, &self.base) {
            (Some((_, run)), _) => &run.world().device,
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
            ToWorker::Warm { seed, options } => {
                if let Err(message) = self.world(&seed, &options, out) {
                    out(FromWorker::Failed { run: None, message });
                }
            }
            ToWorker::Open {
                run,
                flow,
                seed,
                options,
            } => match self.world(&seed, &options, out) {
                Ok(world) => {
                    let r = Run::new(world, flow);
                    let total = r.script().steps.len();
                    self.run = Some((run, r));
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
                artifact,
                bytes,
                resign,
            } => {
                let result = match &mut self.run {
                    Some((id, r)) if *id == run => {
                        let applied = if resign {
                            r.tamper_resigned(&artifact, bytes)
                        } else {
                            r.tamper(&artifact, bytes).map(|()| {
                                "the bytes were replaced; the original signature was kept"
                                    .to_string()
                            })
                        };
                        applied.map_err(|e| e.to_string())
                    }
                    _ => Err("that run is no longer open".to_string()),
                };
                out(FromWorker::Tampered {
                    run,
                    artifact,
                    result,
                });
            }
        }
    }

    fn run_through(&mut self, id: u32, index: usize, out: &mut dyn FnMut(FromWorker)) {
        let Some((current, run)) = &mut self.run else {
            out(FromWorker::Failed {
                run: Some(id),
                message: "no flow is open".into(),
            });
            return;
        };
        if *current != id {
            // A newer run replaced this one; its steps are no longer wanted.
            return;
        }
        if index >= run.script().steps.len() {
            out(FromWorker::Failed {
                run: Some(id),
                message: format!("the flow has {} steps", run.script().steps.len()),
            });
            return;
        }
        while run.events().len() <= index && !run.is_finished() {
            let started = (self.clock)();
            let Some(event) = run.step().cloned() else {
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
        self.report_pool(out);
    }

    /// Does one piece of background work; returns whether there is more.
    /// Each piece is at most one key generation (about a second in wasm).
    pub fn idle(&mut self, out: &mut dyn FnMut(FromWorker)) -> bool {
        if let Some((_, run)) = &mut self.run {
            match run.warm_up_one() {
                Ok(Some(what)) => {
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
            if let Ok(true) = run.world_mut().device.fill_pool_one() {
                self.report_pool(out);
                return true;
            }
        }
        if let Some((_, world)) = &mut self.base {
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

#[cfg(test)]
mod tests {
    use super::*;
    use whfb_core::catalog::FlowId;

    fn host() -> Host {
        Host::new(Box::new(|| 0.0))
    }

    #[test]
    fn a_run_steps_through_and_reports_each_event() {
        let mut host = host();
        let mut got = Vec::new();
        host.handle(
            ToWorker::Open {
                run: 1,
                flow: FlowId::CloudManaged,
                seed: "demo".into(),
                options: Options::default(),
            },
            &mut |m| got.push(m),
        );
        assert!(got
            .iter()
            .any(|m| matches!(m, FromWorker::Opened { run: 1, .. })));
        got.clear();
        host.handle(ToWorker::RunThrough { run: 1, index: 2 }, &mut |m| {
            got.push(m)
        });
        let steps: Vec<usize> = got
            .iter()
            .filter_map(|m| match m {
                FromWorker::Stepped { event, .. } => Some(event.index),
                _ => None,
            })
            .collect();
        assert_eq!(steps, vec![0, 1, 2]);
    }

    #[test]
    fn stale_runs_and_bad_steps_are_answered_not_crashed() {
        let mut host = host();
        let mut got = Vec::new();
        host.handle(ToWorker::RunThrough { run: 9, index: 0 }, &mut |m| {
            got.push(m)
        });
        assert!(matches!(got.last(), Some(FromWorker::Failed { .. })));
        host.handle(
            ToWorker::Open {
                run: 2,
                flow: FlowId::OnPremKey,
                seed: "x".into(),
                options: Options::default(),
            },
            &mut |m| got.push(m),
        );
        got.clear();
        host.handle(ToWorker::RunThrough { run: 2, index: 999 }, &mut |m| {
            got.push(m)
        });
        assert!(matches!(got.last(), Some(FromWorker::Failed { .. })));
    }

    #[test]
    fn messages_survive_json() {
        let m = ToWorker::RunThrough { run: 3, index: 7 };
        assert_eq!(ToWorker::from_json(&m.to_json()), Ok(m));
        assert!(ToWorker::from_json("{nonsense").is_err());
    }
}
