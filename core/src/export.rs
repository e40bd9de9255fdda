//! A run as files: every artifact in the format standard tools open, the
//! trace as JSON, and a README naming the tool for each file. The command
//! line writes these to a folder; the page offers them as one ZIP.

pub use whfb_model::files::{file_bytes, file_name, text_form, tool_for};

use crate::artifact::ArtifactKind;
use crate::engine::{Run, StepStatus};
use crate::error::{Error, Result};
use serde::Serialize;

/// One file of the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// What the index says about one file.
#[derive(Clone, Debug, Serialize)]
struct IndexEntry {
    file: String,
    step: usize,
    phase: char,
    artifact: String,
    title: String,
    kind: ArtifactKind,
    /// The file's own size (a PEM file is larger than the DER it holds).
    bytes: usize,
    /// The size of the artifact as it travelled.
    artifact_bytes: usize,
    open_with: &'static str,
    modelled: Option<String>,
}

/// Every file of a run's bundle.
pub fn bundle(run: &Run) -> Result<Vec<File>> {
    let mut files = Vec::new();
    let mut index = Vec::new();
    for event in run.events() {
        let mut seen = std::collections::BTreeSet::new();
        let artifacts = event
            .artifacts
            .iter()
            .chain(event.tpm.iter().flat_map(|x| [&x.command, &x.response]));
        for (n, artifact) in artifacts.enumerate() {
            let mut name = file_name(event, artifact);
            if !seen.insert(name.clone()) {
                name = format!(
                    "{:02}-{}-{}.{}",
                    event.index + 1,
                    artifact.id,
                    n,
                    artifact.kind.extension()
                );
            }
            let data = file_bytes(artifact);
            index.push(IndexEntry {
                file: format!("artifacts/{name}"),
                step: event.index + 1,
                phase: event.phase.letter(),
                artifact: artifact.id.clone(),
                title: artifact.title.clone(),
                kind: artifact.kind,
                bytes: data.len(),
                artifact_bytes: artifact.bytes.len(),
                open_with: tool_for(artifact.kind),
                modelled: artifact.modelled.clone(),
            });
            files.push(File {
                path: format!("artifacts/{name}"),
                bytes: data,
            });
        }
    }
    let traffic = crate::network::traffic(run);
    if !traffic.is_empty() {
        let all: Vec<_> = traffic.iter().map(|t| t.exchange.clone()).collect();
        files.push(File {
            path: NETWORK.into(),
            bytes: crate::capture::pcapng(&all),
        });
    }
    let exchanges = kerberos_exchanges(run);
    if !exchanges.is_empty() {
        files.push(File {
            path: CAPTURE.into(),
            bytes: crate::capture::pcapng(&exchanges),
        });
        files.push(File {
            path: KEYTAB.into(),
            bytes: crate::kerberos::keytab::keytab(&run.kerberos_keys()),
        });
    }
    files.push(File {
        path: "index.json".into(),
        bytes: to_json(&index)?,
    });
    files.push(File {
        path: "trace.json".into(),
        bytes: to_json(run.events())?,
    });
    files.push(File {
        path: "README.md".into(),
        bytes: readme(run, &index).into_bytes(),
    });
    Ok(files)
}

/// The run's Kerberos exchanges as a capture, and the keys that open them.
const CAPTURE: &str = "kerberos.pcapng";
/// Every exchange between the device and a server (`network.rs`).
const NETWORK: &str = "network.pcapng";
const KEYTAB: &str = "kerberos.keytab";

/// Every AS-REQ and TGS-REQ the run sent, with the reply it got, at its
/// step's time: from the device to the domain controller on port 88.
fn kerberos_exchanges(run: &Run) -> Vec<crate::capture::Exchange> {
    crate::network::traffic(run)
        .into_iter()
        .map(|t| t.exchange)
        .filter(|x| x.server_port == 88)
        .collect()
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::Usage(format!("cannot write JSON: {e}")))
}

fn readme(run: &Run, index: &[IndexEntry]) -> String {
    let info = run.flow().info();
    let config = &run.world().config;
    let mut s = format!(
        "# {}\n\nA run of the Windows Hello for Business flow explorer.\n\n- flow: `{}`\n- seed: `{}` (the same seed gives byte-identical files)\n- start: {}\n- steps run: {} of {}\n",
        info.title,
        info.slug,
        config.seed_text,
        config.start,
        run.events().len(),
        run.script().steps.len()
    );
    if let Some(h) = run.halted() {
        s.push_str(&format!(
            "- stopped at step {}: {} failed: {}\n",
            h.step + 1,
            h.check,
            h.reason
        ));
    }
    s.push_str(
        "\n`trace.json` holds every step with its checks; `index.json` describes every file.\n",
    );
    let traffic = crate::network::traffic(run);
    if !traffic.is_empty() {
        s.push_str(&format!(
            "\n## The run on the network\n\n`{NETWORK}` holds every exchange between the device and a server, in the run's order, each on a TCP connection of its own at its step's time. HTTP is shown as it travels inside TLS, with the TLS removed, on port 80 so that analysers dissect it as HTTP; Kerberos is on port 88. The addresses are modelled: the device is 10.0.0.50, the domain controller 10.0.0.10, the AD FS farm 10.0.0.20, Microsoft's services 203.0.113.0/24 (a documentation range). Open it with Wireshark or its command line:\n\n    tshark -r {NETWORK}\n\n| step | exchange |\n| --- | --- |\n"
        ));
        for t in &traffic {
            s.push_str(&format!("| {} | {} |\n", t.step, t.summary));
        }
        s.push_str("\nLeft out of the capture:\n\n");
        for what in crate::network::LEFT_OUT {
            s.push_str(&format!("- {what}\n"));
        }
    }
    if !kerberos_exchanges(run).is_empty() {
        s.push_str(&format!(
            "\n## The Kerberos exchange\n\n`{CAPTURE}` is the run's Kerberos traffic with the domain controller as a packet capture (pcapng; Kerberos over TCP port 88, each exchange its own connection). `{KEYTAB}` holds the simulated realm's krbtgt key (and, in cloud Kerberos trust, the Microsoft Entra Kerberos server object's key, under the realm's krbtgt with its RODC key version) and, as labelled entries, each exchange's reply key (from Diffie-Hellman: no realm key opens a PKINIT reply; in cloud Kerberos trust the client key that came with the partial TGT) and TGT session key. The keys are simulated, made from the run's seed. Open both with Wireshark or its command line:\n\n    tshark -r {CAPTURE} -o kerberos.decrypt:TRUE -o kerberos.file:{KEYTAB} -V\n"
        ));
    }
    s.push_str("\n## Files\n\n| file | what | open with |\n| --- | --- | --- |\n");
    for e in index {
        let modelled = if e.modelled.is_some() {
            " (modelled format)"
        } else {
            ""
        };
        s.push_str(&format!(
            "| `{}` | {}{} | {} |\n",
            e.file, e.title, modelled, e.open_with
        ));
    }
    s
}

/// A text trace of the run, one block per step.
pub fn text_trace(run: &Run) -> String {
    let mut s = String::new();
    for e in run.events() {
        let lane = match e.kind {
            crate::script::StepKind::Message { from, to } => {
                format!("{} → {}", from.name(), to.name())
            }
            crate::script::StepKind::Internal { actor } => actor.name().to_string(),
            crate::script::StepKind::Wait { actor } => format!("{} (waits)", actor.name()),
        };
        let status = match &e.status {
            StepStatus::Done => "done".to_string(),
            StepStatus::Skipped { why } => format!("skipped: {why}"),
            StepStatus::Failed { check, reason } => format!("FAILED: {check}: {reason}"),
        };
        s.push_str(&format!(
            "{} {:>2}. [{}] {} — {}  ({status})\n",
            e.phase.letter(),
            e.index + 1,
            e.time,
            lane,
            e.title
        ));
        for note in &e.notes {
            s.push_str(&format!("        · {note}\n"));
        }
        for c in &e.checks {
            let mark = match (&c.outcome, c.expect_refusal) {
                (crate::artifact::Outcome::Pass, _) => "✓".to_string(),
                (crate::artifact::Outcome::Fail { reason }, true) => {
                    format!("⊘ refused as expected: {reason}")
                }
                (crate::artifact::Outcome::Fail { reason }, false) => format!("✗ {reason}"),
            };
            s.push_str(&format!("        {} {} — {}\n", mark, c.title, c.compared));
        }
        for a in &e.artifacts {
            s.push_str(&format!(
                "        ▸ {} ({} bytes)\n",
                a.title,
                a.bytes.len()
            ));
        }
        for t in &e.tpm {
            s.push_str(&format!("        ⚙ {} → {}\n", t.name, t.result));
        }
    }
    if let Some(h) = run.halted() {
        s.push_str(&format!(
            "\nThe run stopped at step {}: {} — {}\n",
            h.step + 1,
            h.check,
            h.reason
        ));
    }
    s
}

/// Parses `2026-11-22T09:00:00Z` into simulated time.
pub fn parse_time(text: &str) -> Result<crate::clock::SimTime> {
    let bad = || Error::Usage(format!("`{text}` is not a time like 2026-11-22T09:00:00Z"));
    let t = text.strip_suffix('Z').ok_or_else(bad)?;
    let (date, time) = t.split_once('T').ok_or_else(bad)?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let h: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d.as_slice(), h.as_slice()) else {
        return Err(bad());
    };
    let (y, m, day, hh, mm, ss) = (*y, *m, *day, *hh, *mm, *ss);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || hh > 23
        || mm > 59
        || ss > 59
        || hh < 0
        || mm < 0
        || ss < 0
    {
        return Err(bad());
    }
    // Days from civil (Howard Hinnant).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    let t = crate::clock::SimTime::from_unix_seconds(u64::try_from(secs).map_err(|_| bad())?);
    if t.civil().2 as i64 != day {
        return Err(bad());
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_and_print_the_same() {
        let t = parse_time("2026-11-22T09:00:00Z").unwrap_or(crate::clock::SimTime(0));
        assert_eq!(t, crate::clock::SimTime::DEFAULT_START);
        for bad in [
            "2026-11-22",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "x",
            "2026-11-22T09:00:00",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }
}
