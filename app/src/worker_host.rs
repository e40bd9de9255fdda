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
//! Plain Rust, no browser types: the worker binary wires it to
//! `postMessage`, and native tests drive it directly.

use crate::protocol::{FromWorker, ToWorker};
use whfb_core::edits::{Edit, EditedRun};
use whfb_core::engine::{Progress, Run};
use whfb_core::options::Options;
use whfb_core::seed::{KeyPurpose, KeyVault};
use whfb_core::world::{World, WorldConfig};

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
            what: "Provisioning the device's TPM: endorsement key, attestation key, device key…"
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
                edits,
            } => match self.world(&seed, &options, out) {
                Ok(world) => {
                    let edited = EditedRun::new(world, flow);
                    let total = edited.run().script().steps.len();
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
    /// Each piece is at most one key generation (about a second in wasm).
    pub fn idle(&mut self, out: &mut dyn FnMut(FromWorker)) -> bool {
        if let Some(open) = &mut self.open {
            match open.edited.run_mut().warm_up_one() {
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
            // a key generation at the step that takes a key from it.
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

    /// The access token of Azure AD joined, managed: step 9, index 8.
    const TOKEN_STEP: usize = 8;

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

    /// Opens Azure AD joined, managed and runs it to its access token.
    fn at_the_token(host: &mut Host, run: u32) -> Event {
        open(host, run, flow_id("aadj-managed"), Options::default());
        let got = run_through(host, run, TOKEN_STEP);
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
                after_step: TOKEN_STEP,
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
            edited_token(&token, "upn", "mallory@contoso.com"),
            Resign::Sender,
        );
        assert!(got.iter().any(|m| matches!(
            m,
            FromWorker::Rewound { keep, edits, .. } if *keep == TOKEN_STEP + 1 && edits.len() == 1
        )));
        let got = run_through(&mut host, 1, last);
        // Nothing later reads the upn claim: the sender's key vouches for it.
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
        // Step 16 sends the registration; step 17 checks it.
        let register = 15;
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
        let bytes = edited_token(&token, "upn", "mallory@contoso.com");
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
            .any(|m| matches!(m, FromWorker::Rewound { keep, .. } if *keep == TOKEN_STEP + 1)));
        let b = events(&run_through(&mut replayed, 7, last));

        assert_eq!(a.len(), last - TOKEN_STEP);
        assert_eq!(a, b);
        // And a clock move added to both lands both on the same bytes again.
        for (host, run) in [(&mut direct, 1), (&mut replayed, 7)] {
            assert!(accepted(&send(
                host,
                ToWorker::Advance {
                    run,
                    after_step: 12,
                    minutes: 2,
                },
            )));
        }
        let a = events(&run_through(&mut direct, 1, last));
        let b = events(&run_through(&mut replayed, 7, last));
        assert_eq!(a.first().map(|e| e.index), Some(13));
        assert_eq!(a, b);
    }

    #[test]
    fn refused_edits_say_why_and_change_nothing() {
        let mut host = host();
        open(&mut host, 1, flow_id("aadj-managed"), Options::default());
        let attestation_step = 14;
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
}
