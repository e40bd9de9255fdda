//! `cargo xtask test`: every test layer, one summary line each.
//!
//! - native: `cargo test --workspace`
//! - browser: wasm-bindgen-test in headless Chromium for rsa-keygen, tpm-emu,
//!   core and app, in one `cargo test --target wasm32-unknown-unknown` (the
//!   runner, wasm-bindgen-test-runner, is set in `.cargo/config.toml`)
//! - e2e: the release build served on 127.0.0.1 under a sub-path, driven by
//!   Playwright (playwright-core, Node's own test runner)
//! - lint: `cargo fmt --check`, `cargo clippy --all-targets -D warnings`, and
//!   no getrandom under whfb-core or tpm-emu (`cargo tree`)
//!
//! Every process started here is stopped by its PID when its layer ends.

use crate::tools::{self, Need, Toolchain};
use std::fs;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LAYERS: [&str; 4] = ["native", "browser", "e2e", "lint"];

/// The sub-path the end-to-end tests load the page from, as a GitHub Pages
/// project site would.
const SUB_PATH: &str = "whfb-flow-explorer";

struct Summary {
    layer: &'static str,
    result: Result<String, String>,
    seconds: f64,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut chosen: Vec<&'static str> = Vec::new();
    for arg in args {
        match LAYERS.iter().find(|l| **l == arg.as_str()) {
            Some(layer) => chosen.push(layer),
            None => {
                return Err(format!(
                    "test: unknown layer `{arg}` (layers: {})",
                    LAYERS.join(", ")
                ))
            }
        }
    }
    if chosen.is_empty() {
        chosen = LAYERS.to_vec();
    }
    let need = Need {
        page: chosen.contains(&"e2e"),
        browser: chosen.contains(&"browser"),
        e2e: chosen.contains(&"e2e"),
        analyser: chosen.contains(&"native"),
    };
    let tools = Toolchain::ensure(need)?;

    let mut summaries = Vec::new();
    for layer in chosen {
        eprintln!("\n===== {layer} =====");
        let started = Instant::now();
        let result = match layer {
            "native" => native(&tools),
            "browser" => browser(&tools),
            "e2e" => e2e(&tools),
            _ => lint(&tools),
        };
        summaries.push(Summary {
            layer,
            result,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    println!();
    let mut failed = 0;
    for s in &summaries {
        match &s.result {
            Ok(detail) => println!("{:<8} PASS  {detail} ({:.0} s)", s.layer, s.seconds),
            Err(detail) => {
                failed += 1;
                println!("{:<8} FAIL  {detail} ({:.0} s)", s.layer, s.seconds);
            }
        }
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} test layer(s) failed"))
    }
}

/// Runs a command, echoing its output, and counts the tests it reports.
fn counted(mut cmd: Command, what: &str) -> Result<TestCount, String> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    let mut count = TestCount::default();
    if let Some(stdout) = child.stdout.take() {
        use std::io::{BufRead, BufReader};
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            count.add_line(&line);
        }
    }
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
    if status.success() {
        Ok(count)
    } else {
        Err(format!(
            "{what} failed ({status}); {} passed, {} failed",
            count.passed, count.failed
        ))
    }
}

/// Totals from the `test result:` lines of libtest and wasm-bindgen-test, and
/// the `# pass` / `# fail` lines of Node's test runner.
#[derive(Clone, Copy, Debug, Default)]
struct TestCount {
    passed: u64,
    failed: u64,
}

impl TestCount {
    fn add_line(&mut self, line: &str) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.passed += number_before(rest, " passed");
            self.failed += number_before(rest, " failed");
        } else if let Some(n) = line
            .strip_prefix("ℹ pass ")
            .or_else(|| line.strip_prefix("# pass "))
        {
            self.passed += n.trim().parse().unwrap_or(0);
        } else if let Some(n) = line
            .strip_prefix("ℹ fail ")
            .or_else(|| line.strip_prefix("# fail "))
        {
            self.failed += n.trim().parse().unwrap_or(0);
        }
    }
}

fn number_before(text: &str, marker: &str) -> u64 {
    text.find(marker)
        .and_then(|end| text[..end].rsplit(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn native(tools: &Toolchain) -> Result<String, String> {
    let mut cmd = tools.command("cargo");
    cmd.args(["test", "--workspace", "--color", "never"]);
    let count = counted(cmd, "cargo test --workspace")?;
    Ok(format!(
        "{} tests passed (cargo test --workspace)",
        count.passed
    ))
}

fn browser(tools: &Toolchain) -> Result<String, String> {
    // One cargo invocation: one build graph for the four crates' test
    // binaries, each then run by wasm-bindgen-test-runner in headless
    // Chromium (through ChromeDriver, which the toolchain points at).
    let mut cmd = tools.command("cargo");
    cmd.args(["test", "--target", "wasm32-unknown-unknown"]);
    for krate in BROWSER_CRATES {
        cmd.args(["-p", krate]);
    }
    // The runner's limit is for a whole test binary, 20 s by default;
    // the flows' binary alone runs every flow in the browser.
    cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    let total = counted(cmd, "cargo test --target wasm32-unknown-unknown")?;
    if total.passed == 0 {
        return Err("no browser test ran".into());
    }
    Ok(format!(
        "{} tests passed in headless Chromium (rsa-keygen, tpm-emu, core, app)",
        total.passed
    ))
}

/// The crates whose tests also run in the browser.
const BROWSER_CRATES: [&str; 4] = ["rsa-keygen", "tpm-emu", "whfb-core", "whfb-app"];

fn e2e(tools: &Toolchain) -> Result<String, String> {
    tools.release_build("./")?;
    // The site root holds the build twice: at `/` and at `/<SUB_PATH>/`.
    let site = tools.root.join("target/e2e-site");
    let _ = fs::remove_dir_all(&site);
    fs::create_dir_all(&site).map_err(|e| format!("cannot create {}: {e}", site.display()))?;
    let dist = tools.root.join("dist");
    copy_dir(&dist, &site).and_then(|()| copy_dir(&dist, &site.join(SUB_PATH)))?;

    let (server, port) = Server::serve_dir(tools, &site)?;
    let mut cmd = tools.command("node");
    cmd.args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .current_dir(tools.root.join("e2e"))
        .env(
            "E2E_BASE_URL",
            format!("http://127.0.0.1:{port}/{SUB_PATH}/"),
        )
        .env("E2E_ROOT_URL", format!("http://127.0.0.1:{port}/"));
    let result = counted(cmd, "node --test (Playwright)");
    drop(server);
    let count = result?;
    if count.passed == 0 {
        return Err("no end-to-end test ran".into());
    }
    Ok(format!(
        "{} end-to-end tests passed (Playwright, Chromium, release build under /{SUB_PATH}/)",
        count.passed
    ))
}

fn lint(tools: &Toolchain) -> Result<String, String> {
    tools::run(
        tools.command("cargo").args(["fmt", "--all", "--check"]),
        "cargo fmt --check",
    )?;
    tools::run(
        tools.command("cargo").args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy",
    )?;
    tools::run(
        tools.command("cargo").args([
            "clippy",
            "-p",
            "whfb-app",
            "-p",
            "whfb-core",
            "-p",
            "tpm-emu",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy --target wasm32-unknown-unknown",
    )?;
    tools::run(
        tools.command("cargo").args([
            "clippy",
            "-p",
            "whfb-app",
            "--no-default-features",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy -p whfb-app --no-default-features (the page's binary)",
    )?;
    no_randomness_of_their_own(tools)?;
    page_links_no_cryptography(tools)?;
    Ok(
        "rustfmt and clippy (native and wasm32, page and worker) clean; no getrandom under \
        whfb-core or tpm-emu; the page's binary links no whfb-core, RSA or DER"
            .into(),
    )
}

/// `whfb-core` and `tpm-emu` draw no randomness of their own: neither may
/// depend on `getrandom`, on any target (ARCHITECTURE.md, invariants). The
/// app is the only place that may wire the platform's randomness in.
fn no_randomness_of_their_own(tools: &Toolchain) -> Result<(), String> {
    for package in ["whfb-core", "tpm-emu"] {
        let tree = dependency_tree(tools, &["-p", package, "--target", "all"])?;
        if let Some(line) = tree.lines().find(|l| l.contains("getrandom")) {
            return Err(format!(
                "{package} depends on getrandom ({}): the core and the TPM must take \
                 every random stream from their seed",
                line.trim()
            ));
        }
    }
    Ok(())
}

/// The page's binary (the app without its `worker` feature) links no
/// engine: no whfb-core, no RSA, no DER (ARCHITECTURE.md, invariants).
fn page_links_no_cryptography(tools: &Toolchain) -> Result<(), String> {
    let tree = dependency_tree(
        tools,
        &[
            "-p",
            "whfb-app",
            "--no-default-features",
            "--target",
            "wasm32-unknown-unknown",
        ],
    )?;
    for name in [
        "whfb-core ",
        "tpm-emu ",
        "rsa-keygen ",
        "rsa ",
        "der ",
        "p256 ",
        "sha2 ",
    ] {
        if let Some(line) = tree.lines().find(|l| l.contains(&format!("── {name}"))) {
            return Err(format!(
                "the page's binary depends on {}({}): only the worker may link the engine",
                name,
                line.trim()
            ));
        }
    }
    if !tree.contains("whfb-model ") {
        return Err("the page's dependency tree does not show whfb-model: is the check reading the right tree?".into());
    }
    Ok(())
}

/// `cargo tree -e normal,no-proc-macro` with `args`, as text.
fn dependency_tree(tools: &Toolchain, args: &[&str]) -> Result<String, String> {
    let output = tools
        .command("cargo")
        // Proc-macros run on the host and are not linked: leave them out.
        .args(["tree", "-e", "normal,no-proc-macro"])
        .args(args)
        .output()
        .map_err(|e| format!("cargo tree: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo tree {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A server process, stopped by its PID when dropped.
pub(crate) struct Server(Child);

impl Server {
    /// A static server for `dir` on a free local port, and the port.
    pub(crate) fn serve_dir(tools: &Toolchain, dir: &Path) -> Result<(Server, u16), String> {
        let port = free_port()?;
        let server = Server::start(
            tools
                .command("python3")
                .args([
                    "-m",
                    "http.server",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--directory",
                ])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            port,
        )?;
        Ok((server, port))
    }

    fn start(cmd: &mut Command, port: u16) -> Result<Server, String> {
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start the static server: {e}"))?;
        let server = Server(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "the static server did not listen on port {port} within 15 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.0.id();
        let _ = self.0.kill();
        let _ = self.0.wait();
        eprintln!("xtask: stopped the static server (pid {pid})");
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)
                .map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_libtest_and_node_summaries() {
        let mut c = TestCount::default();
        c.add_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out");
        c.add_line("test result: FAILED. 3 passed; 2 failed; 0 ignored");
        c.add_line("ℹ pass 7");
        c.add_line("ℹ fail 1");
        assert_eq!((c.passed, c.failed), (22, 3));
    }
}
