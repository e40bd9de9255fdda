//! `whfb`: the provisioning flows on the command line, run by the same
//! engine the page uses. The only I/O of the core lives here.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use whfb_core::catalog::phase_span;
use whfb_core::edits::{self, EditedRun, Verdict};
use whfb_core::engine::Run;
use whfb_core::export;
use whfb_core::flows::FlowId;
use whfb_core::options::{SeedText, OPTION_KEYS};
use whfb_core::script::script;
use whfb_core::world::{World, WorldConfig};

const HELP: &str = "\
whfb: step through the Windows Hello for Business provisioning flows with real cryptography

Usage:
  whfb list                          every flow, with its phases
  whfb run FLOW [options]            run a flow and print its trace
  whfb mermaid FLOW                  the flow as a Mermaid sequence diagram
  whfb svg FLOW [--step N] [--dark]  the swimlane diagram as a self-contained SVG, as the page draws
                                     it: every step, or up to step N (the diagram's own number, or
                                     a step id like registration.register-key), light or dark
  whfb inspect FILE [--now TIME]     say what a value from a real deployment is, show it decoded
                                     and run every check it allows alone (FILE `-`: standard input):
                                     an msDS-KeyCredentialLink value (B:…) or its blob, a JWT, a
                                     certificate, request, CMS, CRL or public key (PEM or DER), a
                                     BCRYPT blob, a TPM2B_PUBLIC or TPMS_ATTEST, a SAML 1.1 assertion
                                     (XML); hex and base64 too.
                                     Exit status 3 when a check fails. Nothing is sent anywhere.
  whfb diagnose FILE                 read a device's `dsregcmd /status` output (FILE `-`: standard
                                     input): which flow it is in, which prerequisite fails and what
                                     that means, and the step of that flow that stops under it.
                                     Exit status 3 when a prerequisite is unmet
  whfb compare SIDE SIDE [--seed TEXT] [--json]
                                     two runs side by side, steps aligned by their ids, with what
                                     differs: a step in one run only, other actors, artifacts, check
                                     outcomes, status or time. SIDE is a flow with its conditions
                                     after a `?`: aadj-managed, 'hybrid-key-managed?mfa=none'
  whfb help                          this text

Options of `run`:
  --seed TEXT       the seed: the same seed gives byte-identical keys, tokens and certificates (default: demo)
  --start TIME      simulated start time, like 2026-11-22T09:00:00Z (the default)
  --out DIR         write every artifact to DIR/artifacts in a format standard tools open,
                    with DIR/index.json, DIR/trace.json and DIR/README.md naming the tool for each file
  --json            print the trace as JSON instead of text
  --provisioning-only
                    run provisioning alone: the device registered before the run, no sign-in after it
  --edits TEXT      tamper with the wire or move the clock, as the page does, in the text form
                    the page's links use: v1:EDIT;EDIT… with each EDIT one of
                      STEP/advance/MINUTES                 move the clock on after STEP
                      STEP/tamper/ARTIFACT/MODE/BYTES      replace ARTIFACT's bytes after STEP
                    STEP is a step id (registration.register-key) or a number counted from 1,
                    ARTIFACT an artifact id shown in the trace, MODE keep (the original signature
                    stays), sender (the sender signs again) or attacker (an attacker's own key
                    signs), BYTES the new bytes in base64url without padding
  --KEY VALUE       a condition of the run (the same names as in the page's links):
";

fn help() -> String {
    let mut text = HELP.to_string();
    for (key, what) in OPTION_KEYS {
        text.push_str(&format!("                      --{key:<9} {what}\n"));
    }
    text.push_str("\nFlows: ");
    let slugs: Vec<&str> = FlowId::all().map(|f| f.slug()).collect();
    text.push_str(&slugs.join(", "));
    text.push_str(
        "\n\nExample:\n  whfb run hybrid-cert-sync --seed demo --out run/\n  openssl x509 -in run/artifacts/*-user-certificate.pem -noout -text\n\nA run stops at the first check that fails, as the real system would; the exit status is then 3.\nWith --edits, the last line says what became of the edits, as the page does.\n",
    );
    text
}

/// Writes to standard output. A reader that went away (`whfb run … | head`)
/// ends the program quietly, as the writer of a pipe does, rather than with
/// a panic.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("whfb: cannot write the output: {e}");
        std::process::exit(1);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("whfb: {message}\n(see `whfb help`)");
            ExitCode::from(2)
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode, String> {
    let Some((command, rest)) = args.split_first() else {
        emit(&help());
        return Ok(ExitCode::SUCCESS);
    };
    match command.as_str() {
        "help" | "--help" | "-h" => {
            emit(&help());
            Ok(ExitCode::SUCCESS)
        }
        "list" => {
            for flow in FlowId::all() {
                let info = flow.info();
                emit(&format!(
                    "{:<20} {:<6} {}\n{:<27} {}\n",
                    info.slug,
                    phase_span(&script(flow).phase_list()),
                    info.title,
                    "",
                    info.summary
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
        "mermaid" => {
            let flow = flow_arg(rest.first())?;
            if rest.len() > 1 {
                return Err(format!("mermaid takes one flow, not also `{}`", rest[1]));
            }
            emit(&script(flow).mermaid());
            Ok(ExitCode::SUCCESS)
        }
        "svg" => svg(rest),
        "run" => run(rest),
        "inspect" => inspect(rest),
        "compare" => compare(rest),
        "diagnose" => diagnose(rest),
        other => Err(format!("unknown command `{other}`")),
    }
}

/// `whfb svg FLOW [--step N] [--dark]`: the diagram, as the page exports it.
fn svg(args: &[String]) -> Result<ExitCode, String> {
    use whfb_core::svg::{diagram, Theme};
    let flow = flow_arg(args.first())?;
    let script = script(flow);
    let mut up_to = None;
    let mut theme = Theme::Light;
    let mut it = args.iter().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--dark" => theme = Theme::Dark,
            "--step" => {
                let value = it.next().ok_or("--step needs a step number or id")?;
                let index = match value.parse::<usize>() {
                    Ok(n) if (1..=script.steps.len()).contains(&n) => n - 1,
                    Ok(n) => {
                        return Err(format!(
                            "{} has steps 1 to {}, not {n}",
                            flow.slug(),
                            script.steps.len()
                        ))
                    }
                    Err(_) => script
                        .steps
                        .iter()
                        .position(|s| s.id.to_string() == *value)
                        .ok_or_else(|| format!("{} has no step {value}", flow.slug()))?,
                };
                up_to = Some(index);
            }
            other => return Err(format!("svg does not take `{other}`")),
        }
    }
    emit(&diagram(&script, up_to, theme));
    Ok(ExitCode::SUCCESS)
}

/// `whfb inspect FILE [--now TIME]`: the value read, decoded and checked.
fn inspect(args: &[String]) -> Result<ExitCode, String> {
    let mut file: Option<&String> = None;
    let mut now: Option<whfb_core::clock::SimTime> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--now" {
            let value = it
                .next()
                .ok_or("--now needs a time, like 2026-11-22T09:00:00Z")?;
            now = Some(export::parse_time(value).map_err(|e| e.to_string())?);
        } else if file.is_none() {
            file = Some(arg);
        } else {
            return Err(format!("inspect takes one file, not also `{arg}`"));
        }
    }
    let file = file.ok_or("name a file to inspect, or `-` for standard input")?;
    let input = if file == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .map_err(|e| format!("reading standard input: {e}"))?;
        bytes
    } else {
        std::fs::read(file).map_err(|e| format!("reading {file}: {e}"))?
    };
    // The command line is where the clock is read; the core is handed it.
    let now = now.unwrap_or_else(|| {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        whfb_core::clock::SimTime::from_unix_seconds(seconds)
    });
    let inspection = whfb_core::inspect::inspect(&input, now)?;
    emit(&whfb_core::inspect::text(&inspection));
    let failed = inspection.findings.iter().any(|f| !f.outcome.passed());
    Ok(if failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn flow_arg(arg: Option<&String>) -> Result<FlowId, String> {
    let slug = arg.ok_or("name a flow, e.g. `aadj-managed` (`whfb list` shows them all)")?;
    FlowId::from_slug(slug)
        .ok_or_else(|| format!("there is no flow `{slug}`; `whfb list` shows them all"))
}

/// `whfb diagnose FILE` (`-`: standard input): the flow a device is in and
/// what stops its provisioning, from its `dsregcmd /status` output. Exit
/// status 3 when a prerequisite is unmet.
fn diagnose(args: &[String]) -> Result<ExitCode, String> {
    let [file] = args else {
        return Err(
            "diagnose takes one file: the output of dsregcmd /status, or - for standard input"
                .into(),
        );
    };
    let input = if file == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        bytes
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))?
    };
    let finding = whfb_core::diagnose::run(&input, |o| whfb_core::diagnose::world("demo", o))
        .map_err(|e| format!("diagnose: {e}"))?;
    emit(&whfb_core::diagnose::text(&finding));
    let unmet = finding.diagnosis.prerequisites.iter().any(|p| !p.met);
    Ok(if unmet {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// `whfb compare SIDE SIDE [--seed TEXT] [--json]`: two runs side by side,
/// steps aligned by id (`whfb_core::compare`). Exit status 0 either way: a
/// difference is the answer, not a failure.
fn compare(args: &[String]) -> Result<ExitCode, String> {
    use whfb_core::compare::{compare, Side};
    let mut sides = Vec::new();
    let mut seed = SeedText::parse("demo")?;
    let mut json = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--seed" => {
                let value = it.next().ok_or("--seed needs a value")?;
                seed = SeedText::parse(value)?;
            }
            other if other.starts_with("--") => {
                return Err(format!("compare: unknown option `{other}`"))
            }
            side => sides.push(Side::parse(side).map_err(|e| format!("compare: {e}"))?),
        }
    }
    let [a, b]: [Side; 2] = sides.try_into().map_err(|_| {
        "compare takes two runs, each a flow with its conditions after a `?`: whfb compare aadj-managed 'aadj-managed?mfa=none'".to_string()
    })?;
    let ran = |side: &Side| -> Result<Run, String> {
        let mut config = WorldConfig::new("demo");
        config.seed_text = seed.clone().into();
        config.options = side.options.clone();
        let world = World::build(config).map_err(|e| format!("cannot build the world: {e}"))?;
        let mut run = Run::new(world, side.flow);
        run.run_to_end();
        Ok(run)
    };
    let (ra, rb) = (ran(&a)?, ran(&b)?);
    let comparison = compare(a, ra.events(), b, rb.events());
    if json {
        let text = serde_json::to_string_pretty(&comparison).map_err(|e| e.to_string())?;
        emit(&format!("{text}\n"));
    } else {
        emit(&comparison.text());
    }
    Ok(ExitCode::SUCCESS)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let flow = flow_arg(args.first())?;
    let mut config = WorldConfig::new("demo");
    let mut out: Option<PathBuf> = None;
    let mut json = false;
    let mut provisioning_only = false;
    let mut edit_text: Option<String> = None;
    let mut it = args[1..].iter();
    while let Some(arg) = it.next() {
        let Some(key) = arg.strip_prefix("--") else {
            return Err(format!("unexpected argument `{arg}`"));
        };
        if key == "json" {
            json = true;
            continue;
        }
        if key == "provisioning-only" {
            provisioning_only = true;
            continue;
        }
        let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
        match key {
            "seed" => {
                config.seed_text = SeedText::parse(value)?.into();
            }
            "start" => config.start = export::parse_time(value).map_err(|e| e.to_string())?,
            "out" => out = Some(PathBuf::from(value)),
            "edits" => edit_text = Some(value.clone()),
            _ => config
                .options
                .set(key, value)
                .map_err(|e| format!("--{key}: {e}"))?,
        }
    }
    let started = Instant::now();
    let script = whfb_core::script::script(flow);
    let edits = match &edit_text {
        Some(text) => edits::parse(text, &script).map_err(|e| format!("--edits: {e}"))?,
        None => Vec::new(),
    };
    if provisioning_only && !edits.is_empty() {
        return Err(
            "--provisioning-only and --edits cannot be combined: edits name the steps of the whole flow"
                .into(),
        );
    }
    let world = World::build(config).map_err(|e| format!("cannot build the world: {e}"))?;
    let mut edited = EditedRun::with_edits(world.clone(), flow, &edits)
        .map_err(|e| format!("--edits: the edit was refused: {e}"))?;
    let mut alone = provisioning_only
        .then(|| Run::provisioning_only(world, flow))
        .transpose()
        .map_err(|e| format!("cannot register the device before the run: {e}"))?;
    let run = match &mut alone {
        Some(run) => {
            run.run_to_end();
            &*run
        }
        None => {
            edited.run_mut().run_to_end();
            edited.run()
        }
    };
    if json {
        let text = serde_json::to_string_pretty(run.events()).map_err(|e| e.to_string())?;
        emit(&format!("{text}\n"));
    } else {
        emit(&export::text_trace(run));
    }
    if let Some(dir) = out {
        let files = export::bundle(run).map_err(|e| e.to_string())?;
        for file in &files {
            let path = dir.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, &file.bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        eprintln!(
            "whfb: wrote {} files to {} in {:.2} s",
            files.len(),
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    if !edits.is_empty() {
        match edited.verdict() {
            Verdict::Caught { text, .. } | Verdict::Undetected { text } => {
                emit(&format!("{text}\n"))
            }
            Verdict::Pending => {}
        }
    }
    Ok(if run.halted().is_some() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
