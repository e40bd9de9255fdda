//! Chores for the workspace, in one place, so that what a developer runs is
//! what CI runs.
//!
//! ```text
//! cargo xtask serve   # install what is missing, then `trunk serve` on http://127.0.0.1:8080
//! cargo xtask test    # install what is missing, then every test layer
//! cargo xtask bench   # performance figures, printed
//! cargo xtask fuzz    # 10⁶ mutated inputs per parser, figures printed
//! ```
//!
//! Standard library only, so it builds in seconds on a fresh machine.

mod bench;
mod csp;
mod layers;
#[cfg(test)]
mod module_graph;
mod offline;
mod tools;

use std::process::ExitCode;

const HELP: &str = "\
cargo xtask <command> [options]

Commands:
  serve [--release] [--port N]   build and serve the explorer at http://127.0.0.1:8080 (trunk serve)
  test [LAYER...]                run the test layers and print one summary line each;
                                 layers: native, browser, e2e, lint (default: all four)
  build [--public-url URL]       release build into dist/ for any static host (default URL ./)
  bench [--runs N]               performance figures: each flow natively and in the page (release
                                 build, headless Chromium), their ratio, long tasks, file sizes
  fuzz [--inputs N]              every parser of outside input fed N mutated inputs (default
                                 1000000) in a release build: inputs, accepted, refused, panics
  setup                          install every tool the other commands need, then stop
  help                           this text

Tools are installed when missing, at pinned versions, under
$WHFB_TOOLS_DIR (default ~/.cache/whfb-explorer/tools); Chromium comes from Debian (apt).
";

/// `cargo xtask fuzz`: the fuzz tests of the core (core/tests/fuzz.rs)
/// and of the link parser (app/src/route.rs), in release, with `inputs`
/// per target instead of the suite's 10⁴.
fn fuzz(args: &[String]) -> Result<(), String> {
    let mut inputs = 1_000_000u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--inputs" => {
                inputs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or("--inputs needs a positive number")?;
            }
            other => return Err(format!("fuzz: unknown option `{other}`")),
        }
    }
    let root = tools::workspace_root();
    let started = std::time::Instant::now();
    for (package, target) in [
        ("whfb-core", &["--test", "fuzz"][..]),
        ("whfb-app", &["--lib", "fuzz"][..]),
    ] {
        let mut cmd = std::process::Command::new("cargo");
        cmd.current_dir(&root)
            .env("WHFB_FUZZ_INPUTS", inputs.to_string())
            .args(["test", "--release", "-p", package])
            .args(target)
            .args(["--", "--nocapture", "--test-threads", "2"]);
        tools::run(&mut cmd, &format!("the fuzz tests of {package}"))?;
    }
    println!(
        "fuzz: {inputs} inputs per target, 0 panics, in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "serve" => serve(rest),
        "test" => layers::run(rest),
        "build" => build(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz(rest),
        "setup" => tools::Toolchain::ensure(tools::Need::all()).map(|_| ()),
        "help" | "--help" | "-h" => {
            print!("{HELP}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{HELP}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask serve`: `trunk serve` with the pinned tools on PATH.
fn serve(args: &[String]) -> Result<(), String> {
    let mut release = false;
    let mut port = String::from("8080");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--release" => release = true,
            "--port" => port = it.next().ok_or("--port needs a number")?.clone(),
            other => return Err(format!("serve: unknown option `{other}`")),
        }
    }
    port.parse::<u16>()
        .map_err(|_| format!("serve: `{port}` is not a port number"))?;
    let tools = tools::Toolchain::ensure(tools::Need::serve())?;
    let mut cmd = tools.trunk();
    cmd.args(["serve", "--address", "127.0.0.1", "--port", &port]);
    if release {
        cmd.arg("--release");
    }
    println!("xtask: serving on http://127.0.0.1:{port}/ (Ctrl-C stops)");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start trunk: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("trunk serve exited with {status}"))
    }
}

/// `cargo xtask build`: the release build for static hosting.
fn build(args: &[String]) -> Result<(), String> {
    let mut public_url = String::from("./");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--public-url" => public_url = it.next().ok_or("--public-url needs a value")?.clone(),
            other => return Err(format!("build: unknown option `{other}`")),
        }
    }
    let tools = tools::Toolchain::ensure(tools::Need::serve())?;
    tools.release_build(&public_url)?;
    println!("xtask: dist/ is ready; serve it from any static host, at any path");
    Ok(())
}
