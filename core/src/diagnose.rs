//! "Diagnose your device" (`whfb diagnose`, the page's panel): a device's
//! `dsregcmd /status` output read into its flow and its first unmet
//! prerequisite (`whfb_model::diagnose`), then that flow run under the
//! condition that reproduces it, so the step that stops is the engine's
//! answer.

pub use whfb_model::diagnose::{diagnose, Diagnosis, Finding, Report, TABLE};

use crate::engine::Run;
use crate::options::Options;
use crate::world::{World, WorldConfig};

/// The options a diagnosis's conditions set.
pub fn options(diagnosis: &Diagnosis) -> Result<Options, String> {
    let mut options = Options::default();
    for pair in diagnosis.conditions.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        options.set(key, value)?;
    }
    Ok(options)
}

/// Reads `input`, diagnoses it and runs its flow in the world `world`
/// makes for the diagnosis's options (the command line builds one; the
/// page's worker reuses the keys it has).
pub fn run(
    input: &[u8],
    world: impl FnOnce(&Options) -> Result<World, String>,
) -> Result<Finding, String> {
    let report = Report::parse(input)?;
    let diagnosis = diagnose(&report)?;
    let world = world(&options(&diagnosis)?)?;
    let mut run = Run::new(world, diagnosis.flow);
    run.run_to_end();
    let stop = run.halted().map(|h| {
        let id = run
            .script()
            .steps
            .get(h.step)
            .map(|s| s.id.to_string())
            .unwrap_or_default();
        (id, h.clone())
    });
    Ok(Finding { diagnosis, stop })
}

/// A world for `seed` and `options`, its keys made as needed.
pub fn world(seed: &str, options: &Options) -> Result<World, String> {
    let mut config = WorldConfig::new(seed);
    config.options = options.clone();
    World::build(config).map_err(|e| format!("cannot build the world: {e}"))
}

/// The finding as text, for the command line.
pub fn text(finding: &Finding) -> String {
    let d = &finding.diagnosis;
    let mut out = format!("Flow: {} ({})\n", d.flow.slug(), d.flow.info().title);
    for why in &d.why_flow {
        out.push_str(&format!("  - {why}\n"));
    }
    out.push_str("\nNgc Prerequisite Check:\n");
    for p in &d.prerequisites {
        out.push_str(&format!(
            "  {} {} : {}{}\n",
            if p.met { "✓" } else { "✗" },
            p.field,
            p.value,
            if p.met {
                String::new()
            } else {
                format!(" — {}", p.meaning)
            }
        ));
    }
    if let Some(result) = &d.result {
        out.push_str(&format!("  PreReqResult : {result}\n"));
    }
    if !d.missing.is_empty() {
        out.push_str(&format!("  not in the output: {}\n", d.missing.join(", ")));
    }
    let unmet = d.prerequisites.iter().find(|p| !p.met);
    match (unmet, &finding.stop) {
        (None, None) => out.push_str("\nEvery prerequisite is met: the flow runs to its end.\n"),
        (None, Some((id, halt))) => out.push_str(&format!(
            "\nEvery prerequisite is met, yet the run stops at step {} ({id}): {} — {}\n",
            halt.step + 1,
            halt.check,
            halt.reason
        )),
        (Some(p), _) => {
            match &p.condition {
                Ok(condition) => out.push_str(&format!(
                    "\nFirst unmet: {} — the explorer's condition {condition}\n",
                    p.field
                )),
                Err(why) => out.push_str(&format!(
                    "\nFirst unmet: {} — not reproduced: {why}\n",
                    p.field
                )),
            }
            match &finding.stop {
                Some((id, halt)) => out.push_str(&format!(
                    "The run stops at step {} ({id}): {} — {}\n",
                    halt.step + 1,
                    halt.check,
                    halt.reason
                )),
                None => out.push_str("The run under that condition does not stop.\n"),
            }
        }
    }
    let mut link = format!("?flow={}", d.flow.slug());
    if let Some((id, _)) = &finding.stop {
        link.push_str(&format!("&step={id}"));
    }
    if !d.conditions.is_empty() {
        link.push('&');
        link.push_str(&d.conditions);
    }
    out.push_str(&format!("In the explorer: {link}\n"));
    if d.ignored > 0 {
        out.push_str(&format!(
            "({} lines not read: not fields of dsregcmd /status)\n",
            d.ignored
        ));
    }
    out
}
