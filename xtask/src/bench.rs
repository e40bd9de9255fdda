//! `cargo xtask bench`: the performance figures of issue "the page as fast
//! as the same code natively", in one run on the release build. Each flow
//! natively (`whfb run`, release) and in the page (a deep link to its last
//! step and stepping at top speed, from fresh loads, in headless Chromium),
//! their ratio, the longest main-thread task, and the gzipped size of every
//! file the page loads. It prints; it judges nothing.

use crate::layers::Server;
use crate::tools::{self, Need, Toolchain};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Runs the benchmark; `args` may say `--runs N` (default 3, the median is
/// printed) and `--flows a,b` (default every flow).
pub fn run(args: &[String]) -> Result<(), String> {
    let mut runs = 3usize;
    let mut only: Vec<String> = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => {
                runs = it
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| (1..=20).contains(n))
                    .ok_or("--runs needs a number from 1 to 20")?;
            }
            "--flows" => {
                only = it
                    .next()
                    .ok_or("--flows needs flow slugs, like aadj-managed,hybrid-cert-sync")?
                    .split(',')
                    .map(str::to_string)
                    .collect();
            }
            other => return Err(format!("bench: unknown option `{other}`")),
        }
    }
    let tools = Toolchain::ensure(Need::all())?;
    let native = native_times(&tools, runs, &only)?;
    tools.release_build("./")?;
    let page = page_figures(&tools, runs, &only)?;
    print_report(&native, &page, runs);
    Ok(())
}

/// Median milliseconds of `whfb run <slug> --seed demo`, per flow, in the
/// order `whfb list` gives.
fn native_times(
    tools: &Toolchain,
    runs: usize,
    only: &[String],
) -> Result<Vec<(String, f64)>, String> {
    tools::run(
        tools
            .command("cargo")
            .args(["build", "--release", "-p", "whfb-core", "--bin", "whfb"]),
        "cargo build --release --bin whfb",
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| tools.root.join("target"), std::path::PathBuf::from);
    let whfb = target.join("release/whfb");
    let list = Command::new(&whfb)
        .arg("list")
        .output()
        .map_err(|e| format!("whfb list: {e}"))?;
    let slugs: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|slug| only.is_empty() || only.contains(slug))
        .collect();
    if slugs.is_empty() {
        return Err(format!("bench: no flow named {}", only.join(", ")));
    }
    let mut out = Vec::new();
    for slug in slugs {
        let mut times = Vec::new();
        for _ in 0..runs {
            let t0 = Instant::now();
            let status = Command::new(&whfb)
                .args(["run", &slug, "--seed", "demo"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("whfb run {slug}: {e}"))?;
            if !status.success() {
                return Err(format!("whfb run {slug} exited with {status}"));
            }
            times.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        out.push((slug, median(&mut times)));
    }
    Ok(out)
}

/// What the page did, one `BENCH {json}` line per flow and per file.
#[derive(Debug, Default)]
struct PageFigures {
    flows: Vec<FlowFigures>,
    files: Vec<(String, u64, u64)>,
}

#[derive(Debug, Default)]
struct FlowFigures {
    flow: String,
    steps: u64,
    deep_link_ms: f64,
    stepping_ms: f64,
    first_step_ms: f64,
    longest_task_ms: f64,
}

fn page_figures(tools: &Toolchain, runs: usize, only: &[String]) -> Result<PageFigures, String> {
    let dist = tools.root.join("dist");
    let (server, port) = Server::serve_dir(tools, &dist)?;
    let output = tools
        .command("node")
        .args(["bench/bench.mjs", &runs.to_string()])
        .current_dir(tools.root.join("e2e"))
        .env("E2E_BASE_URL", format!("http://127.0.0.1:{port}/"))
        .env("BENCH_DIST", &dist)
        .env("BENCH_FLOWS", only.join(","))
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("node bench/bench.mjs: {e}"))?;
    drop(server);
    if !output.status.success() {
        return Err(format!(
            "the page benchmark failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout)
        ));
    }
    let mut figures = PageFigures::default();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Some(json) = line.strip_prefix("BENCH ") else {
            continue;
        };
        if let Some(file) = string_field(json, "file") {
            figures.files.push((
                file,
                number_field(json, "raw") as u64,
                number_field(json, "gzip") as u64,
            ));
        } else if let Some(flow) = string_field(json, "flow") {
            figures.flows.push(FlowFigures {
                flow,
                steps: number_field(json, "steps") as u64,
                deep_link_ms: number_field(json, "deep_link_ms"),
                stepping_ms: number_field(json, "stepping_ms"),
                first_step_ms: number_field(json, "first_step_ms"),
                longest_task_ms: number_field(json, "longest_task_ms"),
            });
        }
    }
    Ok(figures)
}

fn print_report(native: &[(String, f64)], page: &PageFigures, runs: usize) {
    println!("\nmedians of {runs} run(s); page figures from fresh loads of the release build in headless Chromium\n");
    println!(
        "{:<22} {:>6} {:>10} {:>10} {:>7} {:>10} {:>11} {:>9}",
        "flow", "steps", "native ms", "deep link", "ratio", "stepping", "first step", "long task"
    );
    for f in &page.flows {
        let native_ms = native
            .iter()
            .find(|(s, _)| *s == f.flow)
            .map_or(f64::NAN, |(_, ms)| *ms);
        println!(
            "{:<22} {:>6} {:>10.0} {:>10.0} {:>6.1}× {:>10.0} {:>11.0} {:>9.0}",
            f.flow,
            f.steps,
            native_ms,
            f.deep_link_ms,
            f.deep_link_ms / native_ms,
            f.stepping_ms,
            f.first_step_ms,
            f.longest_task_ms
        );
    }
    println!("\n{:<40} {:>10} {:>10}", "file", "raw KiB", "gzip KiB");
    let (mut raw, mut gzip) = (0, 0);
    for (name, r, g) in &page.files {
        raw += r;
        gzip += g;
        println!(
            "{:<40} {:>10.1} {:>10.1}",
            name,
            *r as f64 / 1024.0,
            *g as f64 / 1024.0
        );
    }
    println!(
        "{:<40} {:>10.1} {:>10.1}",
        "everything the page loads",
        raw as f64 / 1024.0,
        gzip as f64 / 1024.0
    );
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// `"name":"value"` in one flat JSON line the bench script wrote.
fn string_field(json: &str, name: &str) -> Option<String> {
    let key = format!("\"{name}\":\"");
    let start = json.find(&key)? + key.len();
    let end = json[start..].find('"')?;
    Some(json[start..start + end].to_string())
}

/// `"name":number` in one flat JSON line the bench script wrote.
fn number_field(json: &str, name: &str) -> f64 {
    let key = format!("\"{name}\":");
    json.find(&key)
        .map(|i| &json[i + key.len()..])
        .and_then(|rest| {
            let end = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e'))
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_read_back() {
        let line =
            r#"{"flow":"aadj-managed","steps":19,"deep_link_ms":1530.5,"longest_task_ms":0}"#;
        assert_eq!(string_field(line, "flow").unwrap(), "aadj-managed");
        assert_eq!(number_field(line, "steps"), 19.0);
        assert_eq!(number_field(line, "deep_link_ms"), 1530.5);
        assert!(number_field(line, "missing").is_nan());
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
