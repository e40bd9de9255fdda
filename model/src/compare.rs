//! Two runs side by side: two flows, or one flow under two sets of
//! conditions. Steps are aligned by their stable ids (the longest common
//! subsequence of the two runs' ids, so order is kept), and each aligned
//! pair says what differs: a step present in one run only, other actors,
//! other artifacts (and, where both have one, how many bytes differ),
//! other check outcomes, another status, other simulated time.
//!
//! A side is written as a flow's slug with the run's conditions after a
//! `?`, in the names of the page's links: `hybrid-key-managed?mfa=none`.
//! The page's comparison link and `whfb compare` take the same text.

use crate::event::{Event, StepStatus};
use crate::flows::FlowId;
use crate::options::{Options, OPTION_KEYS};
use serde::{Deserialize, Serialize};

/// One run of a comparison: the flow and its conditions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Side {
    pub flow: FlowId,
    pub options: Options,
    /// The conditions as written (`mfa=none&sensor=0`), for the label and
    /// the link; empty for the defaults.
    pub conditions: String,
}

impl Side {
    /// Reads `FLOW` or `FLOW?key=value&…`; a wrong part is named.
    pub fn parse(text: &str) -> Result<Side, String> {
        let (slug, conditions) = text.trim().split_once('?').unwrap_or((text.trim(), ""));
        let flow = FlowId::from_slug(slug).ok_or_else(|| {
            let known: Vec<&str> = FlowId::all().map(|f| f.slug()).collect();
            format!(
                "\"{slug}\" is not a flow (the flows are {})",
                known.join(", ")
            )
        })?;
        let mut options = Options::default();
        let mut kept = Vec::new();
        for pair in conditions.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("\"{pair}\" is not a condition written key=value"))?;
            if !OPTION_KEYS.iter().any(|(k, _)| *k == key) {
                let keys: Vec<&str> = OPTION_KEYS.iter().map(|(k, _)| *k).collect();
                return Err(format!(
                    "\"{key}\" is not a condition (the conditions are {})",
                    keys.join(", ")
                ));
            }
            options.set(key, value)?;
            kept.push(format!("{key}={value}"));
        }
        Ok(Side {
            flow,
            options,
            conditions: kept.join("&"),
        })
    }

    /// The text [`Side::parse`] reads.
    pub fn text(&self) -> String {
        if self.conditions.is_empty() {
            self.flow.slug().to_string()
        } else {
            format!("{}?{}", self.flow.slug(), self.conditions)
        }
    }

    /// "hybrid-key-managed (mfa=none)".
    pub fn label(&self) -> String {
        if self.conditions.is_empty() {
            self.flow.slug().to_string()
        } else {
            format!("{} ({})", self.flow.slug(), self.conditions)
        }
    }
}

/// What differs about one artifact both steps carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteDiff {
    pub artifact: String,
    pub a_len: usize,
    pub b_len: usize,
    /// Bytes that differ at the same offset, over the shorter length.
    pub differing: usize,
    /// The first offset at which they differ.
    pub first: usize,
}

/// One way an aligned pair of steps differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Difference {
    /// Only one run has this step (`a`: the first run).
    OnlyIn { a: bool },
    /// The step is between other actors.
    Actors { a: String, b: String },
    /// Artifacts one step carries and the other does not.
    Artifacts {
        only_a: Vec<String>,
        only_b: Vec<String>,
    },
    /// A check one step makes and the other does not, or that came out
    /// otherwise (`None`: not made).
    Check {
        title: String,
        a: Option<bool>,
        b: Option<bool>,
    },
    /// Ran, skipped or failed.
    Status { a: String, b: String },
    /// The simulated time the step took, in seconds.
    Timing { a: u64, b: u64 },
}

impl Difference {
    /// In words, for the command line and the page.
    pub fn describe(&self, a: &str, b: &str) -> String {
        let outcome = |o: &Option<bool>| match o {
            None => "not made",
            Some(true) => "passes",
            Some(false) => "fails",
        };
        match self {
            Difference::OnlyIn { a: true } => format!("only in {a}"),
            Difference::OnlyIn { a: false } => format!("only in {b}"),
            Difference::Actors { a: x, b: y } => format!("actors: {x} in {a}, {y} in {b}"),
            Difference::Artifacts { only_a, only_b } => {
                let mut parts = Vec::new();
                if !only_a.is_empty() {
                    parts.push(format!("only {a} carries {}", only_a.join(", ")));
                }
                if !only_b.is_empty() {
                    parts.push(format!("only {b} carries {}", only_b.join(", ")));
                }
                format!("artifacts: {}", parts.join("; "))
            }
            Difference::Check { title, a: x, b: y } => format!(
                "check \"{title}\": {} in {a}, {} in {b}",
                outcome(x),
                outcome(y)
            ),
            Difference::Status { a: x, b: y } => format!("status: {x} in {a}, {y} in {b}"),
            Difference::Timing { a: x, b: y } => {
                format!("time taken: {x} s in {a}, {y} s in {b}")
            }
        }
    }
}

/// One row of the comparison: a step of either run or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The stable step id both runs share (or the one run's).
    pub id: String,
    pub title: String,
    pub phase: char,
    /// The step's index in each run.
    pub a: Option<usize>,
    pub b: Option<usize>,
    pub differences: Vec<Difference>,
    /// Artifacts both carry whose bytes differ (a seed's values, times,
    /// names: expected between runs, so not counted as a difference of
    /// the step).
    pub bytes: Vec<ByteDiff>,
}

impl Row {
    pub fn differs(&self) -> bool {
        !self.differences.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub a: Side,
    pub b: Side,
    pub rows: Vec<Row>,
}

impl Comparison {
    /// The rows whose steps differ.
    pub fn differing(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.differs())
    }

    /// The comparison as text: every step, `=` where the same and `≠` with
    /// what differs.
    pub fn text(&self) -> String {
        let (a, b) = (self.a.label(), self.b.label());
        let mut out = format!(
            "Comparing {a} (A) with {b} (B): {} steps aligned by id, {} differ.\n\n",
            self.rows.len(),
            self.differing().count()
        );
        let place = |i: Option<usize>| i.map_or("-".to_string(), |i| (i + 1).to_string());
        for row in &self.rows {
            out.push_str(&format!(
                "{} {:>3} {:>3}  {} · {} ({})\n",
                if row.differs() { "≠" } else { "=" },
                place(row.a),
                place(row.b),
                row.phase,
                row.title,
                row.id
            ));
            for d in &row.differences {
                out.push_str(&format!("          {}\n", d.describe("A", "B")));
            }
        }
        out
    }
}

fn actors(event: &Event) -> String {
    event
        .kind
        .actors()
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(" → ")
}

fn status(event: &Event) -> String {
    match &event.status {
        StepStatus::Done => "ran".into(),
        StepStatus::Skipped { .. } => "skipped".into(),
        StepStatus::Failed { check, .. } => format!("failed ({check})"),
    }
}

/// The pairs of indexes whose ids match, in order: the longest common
/// subsequence of the two runs' step ids.
fn align(a: &[Event], b: &[Event]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    // lengths[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lengths = vec![vec![0u16; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lengths[i][j] = if a[i].id == b[j].id {
                lengths[i + 1][j + 1] + 1
            } else {
                lengths[i + 1][j].max(lengths[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i].id == b[j].id {
            pairs.push((i, j));
            i += 1;
            j += 1;
        } else if lengths[i + 1][j] >= lengths[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

fn only(event: &Event, a: bool) -> Row {
    Row {
        id: event.id.to_string(),
        title: event.title.clone(),
        phase: event.phase.letter(),
        a: a.then_some(event.index),
        b: (!a).then_some(event.index),
        differences: vec![Difference::OnlyIn { a }],
        bytes: Vec::new(),
    }
}

fn both(x: &Event, y: &Event) -> Row {
    let mut differences = Vec::new();
    let (ax, ay) = (actors(x), actors(y));
    if ax != ay {
        differences.push(Difference::Actors { a: ax, b: ay });
    }
    let ids = |e: &Event| e.artifacts.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    let (ix, iy) = (ids(x), ids(y));
    let only_a: Vec<String> = ix.iter().filter(|i| !iy.contains(i)).cloned().collect();
    let only_b: Vec<String> = iy.iter().filter(|i| !ix.contains(i)).cloned().collect();
    if !only_a.is_empty() || !only_b.is_empty() {
        differences.push(Difference::Artifacts { only_a, only_b });
    }
    let mut titles: Vec<&str> = x.checks.iter().map(|c| c.title.as_str()).collect();
    for c in &y.checks {
        if !titles.contains(&c.title.as_str()) {
            titles.push(&c.title);
        }
    }
    for title in titles {
        let outcome = |e: &Event| {
            e.checks
                .iter()
                .find(|c| c.title == title)
                .map(|c| c.outcome.passed())
        };
        let (ox, oy) = (outcome(x), outcome(y));
        if ox != oy {
            differences.push(Difference::Check {
                title: title.to_string(),
                a: ox,
                b: oy,
            });
        }
    }
    let (sx, sy) = (status(x), status(y));
    if sx != sy {
        differences.push(Difference::Status { a: sx, b: sy });
    }
    let (tx, ty) = (x.elapsed.as_secs(), y.elapsed.as_secs());
    if tx != ty {
        differences.push(Difference::Timing { a: tx, b: ty });
    }
    let bytes = x
        .artifacts
        .iter()
        .filter_map(|p| {
            let q = y.artifacts.iter().find(|q| q.id == p.id)?;
            let shared = p.bytes.len().min(q.bytes.len());
            let differing = (0..shared).filter(|&k| p.bytes[k] != q.bytes[k]).count();
            let first = (0..shared)
                .find(|&k| p.bytes[k] != q.bytes[k])
                .unwrap_or(shared);
            (differing > 0 || p.bytes.len() != q.bytes.len()).then(|| ByteDiff {
                artifact: p.id.clone(),
                a_len: p.bytes.len(),
                b_len: q.bytes.len(),
                differing,
                first,
            })
        })
        .collect();
    Row {
        id: x.id.to_string(),
        title: x.title.clone(),
        phase: x.phase.letter(),
        a: Some(x.index),
        b: Some(y.index),
        differences,
        bytes,
    }
}

/// The two runs' events side by side.
pub fn compare(a: Side, a_events: &[Event], b: Side, b_events: &[Event]) -> Comparison {
    let pairs = align(a_events, b_events);
    let mut rows = Vec::with_capacity(a_events.len().max(b_events.len()));
    let (mut i, mut j) = (0, 0);
    for (pi, pj) in pairs
        .into_iter()
        .chain(std::iter::once((a_events.len(), b_events.len())))
    {
        rows.extend(a_events[i..pi].iter().map(|e| only(e, true)));
        rows.extend(b_events[j..pj].iter().map(|e| only(e, false)));
        if let (Some(x), Some(y)) = (a_events.get(pi), b_events.get(pj)) {
            rows.push(both(x, y));
        }
        (i, j) = (pi + 1, pj + 1);
    }
    Comparison { a, b, rows }
}
