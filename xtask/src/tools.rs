//! Every tool the build and the tests need, installed when missing, at pinned
//! versions (see `../shared/reference/TOOLCHAIN.md` for why these and not others).
//!
//! Cargo-installed tools live in their own folder per version under
//! `$WHFB_TOOLS_DIR` (default `~/.cache/whfb-explorer/tools`), so they survive
//! a fresh clone, never clash with other projects' versions, and a check is one
//! `stat`. Chromium and its driver come from Debian; npm packages from
//! `e2e/package-lock.json`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// trunk 0.22 needs a newer rustc than this machine has; 0.21.14 only builds with `--locked`.
const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Which groups of tools a command needs.
#[derive(Clone, Copy, Debug)]
pub struct Need {
    /// trunk, wasm-bindgen, wasm-opt: building the page.
    pub page: bool,
    /// wasm-bindgen-test-runner, Chromium and ChromeDriver: browser tests.
    pub browser: bool,
    /// playwright-core and Chromium: end-to-end tests.
    pub e2e: bool,
    /// tshark (Wireshark's command line): the native tests dissect the run
    /// bundle's Kerberos capture with it.
    pub analyser: bool,
}

impl Need {
    pub fn all() -> Self {
        Need {
            page: true,
            browser: true,
            e2e: true,
            analyser: true,
        }
    }
    pub fn serve() -> Self {
        Need {
            page: true,
            browser: false,
            e2e: false,
            analyser: false,
        }
    }
}

/// Where the tools are, once installed.
#[derive(Debug)]
pub struct Toolchain {
    pub root: PathBuf,
    /// Folders to put in front of PATH for every tool we start.
    path: Vec<PathBuf>,
}

impl Toolchain {
    /// Installs whatever `need` asks for and is missing; quick when all is there.
    pub fn ensure(need: Need) -> Result<Toolchain, String> {
        let started = Instant::now();
        let root = workspace_root();
        let dir = tools_dir();
        let mut path = Vec::new();

        ensure_wasm_target()?;
        if need.page || need.browser {
            let bindgen = wasm_bindgen_version(&root)?;
            path.push(cargo_tool(
                &dir,
                "wasm-bindgen-cli",
                &bindgen,
                "wasm-bindgen",
                false,
            )?);
        }
        if need.page {
            path.push(cargo_tool(&dir, "trunk", TRUNK_VERSION, "trunk", true)?);
        }
        if need.browser || need.e2e {
            ensure_chromium()?;
        }
        if need.analyser {
            ensure_tshark()?;
        }
        if need.page || need.e2e {
            // binaryen's wasm-opt (Debian's is too old) and playwright-core.
            ensure_npm_packages(&root.join("e2e"))?;
            path.push(root.join("e2e/node_modules/.bin"));
        }
        eprintln!(
            "xtask: tools ready ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
        Ok(Toolchain { root, path })
    }

    /// A command with the pinned tools first on PATH, run from the workspace root.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        let mut dirs = self.path.clone();
        if let Some(existing) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&existing));
        }
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
        cmd.env("CHROMEDRIVER", CHROMEDRIVER);
        cmd.current_dir(&self.root);
        cmd
    }

    /// `trunk`, offline: it must use the pinned tools, never download its own.
    pub fn trunk(&self) -> Command {
        let mut cmd = self.command("trunk");
        cmd.env("TRUNK_OFFLINE", "true");
        cmd
    }

    /// `trunk build --release` into `dist/` with the given public URL.
    pub fn release_build(&self, public_url: &str) -> Result<(), String> {
        let mut cmd = self.trunk();
        cmd.args(["build", "--release", "--public-url", public_url]);
        run(&mut cmd, "trunk build --release")?;
        let dist = self.root.join("dist");
        // The policy first: the service worker keeps index.html as it is.
        crate::csp::protect(&dist)?;
        crate::offline::write_service_worker(&dist)
    }
}

/// The workspace root: the parent of this crate's folder. `cargo run` says
/// where that is at run time; the path compiled in may be another
/// checkout's, when two share a target directory and cargo reuses the
/// binary.
pub fn workspace_root() -> PathBuf {
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    here.parent()
        .map_or_else(|| here.clone(), Path::to_path_buf)
}

fn tools_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WHFB_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/whfb-explorer/tools")
}

/// Runs a command to completion; an error names it.
pub fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn ensure_wasm_target() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
        .ok_or("`rustup target list --installed` failed: is rustup installed?")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    eprintln!("xtask: installing the {WASM_TARGET} target");
    run(
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
        "rustup target add",
    )
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
fn wasm_bindgen_version(root: &Path) -> Result<String, String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

/// `cargo install` into a folder of its own per version; returns its `bin/`.
fn cargo_tool(
    dir: &Path,
    krate: &str,
    version: &str,
    binary: &str,
    locked: bool,
) -> Result<PathBuf, String> {
    let short = krate.trim_end_matches("-cli");
    let prefix = dir.join(format!("{short}-{version}"));
    let bin = prefix.join("bin");
    if bin.join(binary).is_file() {
        return Ok(bin);
    }
    eprintln!("xtask: installing {krate} {version} (once; this takes minutes on 2 cores)");
    let started = Instant::now();
    let mut cmd = Command::new("cargo");
    cmd.args(["install", krate, "--version", version, "--root"])
        .arg(&prefix);
    // wasm-bindgen-cli's lock file names a version the registry mirror lacks, so
    // it must resolve afresh; trunk 0.21.14 only compiles with its own lock file.
    if locked {
        cmd.arg("--locked");
    }
    run(&mut cmd, &format!("cargo install {krate}"))?;
    eprintln!(
        "xtask: {krate} {version} installed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(bin)
}

fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return check_chromium_versions();
    }
    eprintln!("xtask: installing Debian's chromium and chromium-driver");
    apt_install(&["chromium", "chromium-driver"])?;
    check_chromium_versions()
}

/// Debian's tshark, which reads pcapng and decrypts Kerberos with a keytab.
fn ensure_tshark() -> Result<(), String> {
    if output(Command::new("tshark").arg("--version")).is_some() {
        return Ok(());
    }
    eprintln!("xtask: installing Debian's tshark (Wireshark's command line)");
    apt_install(&["tshark"])
}

/// `apt-get install` of Debian packages, through sudo when not root.
fn apt_install(packages: &[&str]) -> Result<(), String> {
    let sudo = !is_root();
    let apt = |args: &[&str]| {
        let mut cmd = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            cmd.arg("apt-get");
        }
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(&mut apt(&["update", "-qq"]), "apt-get update")?;
    let mut args = vec!["install", "-y", "-qq"];
    args.extend_from_slice(packages);
    run(
        &mut apt(&args),
        &format!("apt-get install {}", packages.join(" ")),
    )
}

/// Chromium and ChromeDriver must be the same major version.
fn check_chromium_versions() -> Result<(), String> {
    let major = |program: &str| {
        output(Command::new(program).arg("--version")).and_then(|v| {
            v.split_whitespace()
                .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
                .and_then(|w| w.split('.').next().map(str::to_string))
        })
    };
    match (major(CHROMIUM), major(CHROMEDRIVER)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (a, b) => Err(format!(
            "chromium ({}) and chromedriver ({}) must have the same major version: \
             run `apt-get install chromium chromium-driver`",
            a.unwrap_or_else(|| "?".into()),
            b.unwrap_or_else(|| "?".into())
        )),
    }
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0")
}

/// `npm ci` in `dir` when node_modules does not match package-lock.json.
fn ensure_npm_packages(dir: &Path) -> Result<(), String> {
    let lock = std::fs::read(dir.join("package-lock.json")).map_err(|e| {
        format!(
            "cannot read {}: {e}",
            dir.join("package-lock.json").display()
        )
    })?;
    let stamp_path = dir.join("node_modules/.xtask-lock-hash");
    let want = format!("{:016x}", fnv1a(&lock));
    if std::fs::read_to_string(&stamp_path).is_ok_and(|have| have == want) {
        return Ok(());
    }
    eprintln!("xtask: npm ci in {}", dir.display());
    let mut cmd = Command::new("npm");
    cmd.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    run(&mut cmd, "npm ci")?;
    std::fs::write(&stamp_path, want)
        .map_err(|e| format!("cannot write {}: {e}", stamp_path.display()))
}

/// FNV-1a: enough to notice that a lock file changed.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
