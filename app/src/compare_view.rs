//! "Compare two runs": two flows, or one flow under two sets of conditions,
//! run to their end in the worker and shown side by side, steps aligned by
//! their stable ids, with what differs marked (`whfb_model::compare`). The
//! link (`?compare=…&with=…`) reproduces the comparison.

use crate::session::Session;
use leptos::prelude::*;
use whfb_model::compare::{Comparison, Row, Side};
use whfb_model::flows::FlowId;

/// A link to `side`'s run at step `id`.
fn step_link(side: &Side, id: &str, seed: &str) -> String {
    let mut link = format!("./?flow={}&step={id}", side.flow.slug());
    if seed != crate::route::DEFAULT_SEED {
        link.push_str(&format!("&seed={}", js_sys::encode_uri_component(seed)));
    }
    if !side.conditions.is_empty() {
        link.push('&');
        link.push_str(&side.conditions);
    }
    link
}

#[component]
pub fn ComparePanel(session: Session) -> impl IntoView {
    let asked = session.route.with_untracked(|r| r.compare.clone());
    let first = RwSignal::new(
        asked
            .as_ref()
            .map_or_else(|| "aadj-managed".to_string(), |(a, _)| a.clone()),
    );
    let second = RwSignal::new(
        asked
            .as_ref()
            .map_or_else(|| "aadj-federated".to_string(), |(_, b)| b.clone()),
    );
    let problem = RwSignal::new(None::<String>);
    let only_differing = RwSignal::new(false);
    let section = NodeRef::<leptos::html::Section>::new();
    let run = move || {
        let (a, b) = (first.get_untracked(), second.get_untracked());
        let read = |which: &str, text: &str| {
            Side::parse(text).map_err(|e| format!("The {which} run cannot be read: {e}."))
        };
        match (read("first", &a), read("second", &b)) {
            (Ok(x), Ok(y)) => {
                problem.set(None);
                session.route.update(|r| r.compare = Some((a, b)));
                session.compare(x, y);
            }
            (Err(e), _) | (_, Err(e)) => {
                problem.set(Some(e));
                session.comparison.set(None);
            }
        }
    };
    // A comparison link runs at once, and shows where it is.
    if asked.is_some() {
        run();
        Effect::new(move |_| {
            if let Some(el) = section.get() {
                request_animation_frame(move || el.scroll_into_view());
            }
        });
    }
    let slugs: Vec<&'static str> = FlowId::all().map(|f| f.slug()).collect();
    view! {
        <section class="inspect compare" data-testid="compare" aria-labelledby="compare-title" node_ref=section>
            <h2 id="compare-title">"Compare two runs"</h2>
            <p>
                "Two flows, or one flow under two sets of conditions: each runs to its end here, and the steps are lined up by their ids, "
                "with what differs marked: a step only one run has, other actors, other artifacts, other checks or outcomes, other time taken. "
                "Write a run as a flow, with its conditions after a ? as in the explorer's links: "
                <code>"hybrid-key-managed?mfa=none"</code>"."
            </p>
            <form class="compare-form" on:submit=move |ev| {
                ev.prevent_default();
                run();
            }>
                <datalist id="compare-flows">
                    {slugs.into_iter().map(|s| view! { <option value=s></option> }).collect_view()}
                </datalist>
                <label>
                    "First run (A)"
                    <input
                        type="text"
                        list="compare-flows"
                        spellcheck="false"
                        data-testid="compare-a"
                        prop:value=move || first.get()
                        on:input=move |ev| first.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Second run (B)"
                    <input
                        type="text"
                        list="compare-flows"
                        spellcheck="false"
                        data-testid="compare-b"
                        prop:value=move || second.get()
                        on:input=move |ev| second.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" data-testid="compare-run" disabled=move || session.comparing.get()>
                    {move || if session.comparing.get() { "Running both…" } else { "Compare" }}
                </button>
            </form>
            {move || problem.get().map(|p| view! { <p class="compare-error" role="alert" data-testid="compare-error">{p}</p> })}
            {move || {
                session.comparing.get().then(|| {
                    let what = session.busy.get().unwrap_or_else(|| "Running both flows to their end…".into());
                    view! { <p class="muted" role="status" data-testid="compare-busy">{what}</p> }
                })
            }}
            {move || match session.comparison.get() {
                None => None,
                Some(Err(why)) => Some(view! {
                    <p class="compare-error" role="alert" data-testid="compare-error">{format!("The runs could not be compared: {why}")}</p>
                }.into_any()),
                Some(Ok(c)) => Some(view! { <ComparisonTable session comparison=c only_differing /> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn ComparisonTable(
    session: Session,
    comparison: Comparison,
    only_differing: RwSignal<bool>,
) -> impl IntoView {
    let seed = session.route.with_untracked(|r| r.seed.clone());
    let differing = comparison.differing().count();
    let summary = format!(
        "{} (A) and {} (B): {} steps lined up by id, {} of them differ.",
        comparison.a.label(),
        comparison.b.label(),
        comparison.rows.len(),
        differing
    );
    let (a, b) = (comparison.a.clone(), comparison.b.clone());
    let rows = comparison
        .rows
        .iter()
        .map(|row| table_row(row, &a, &b, &seed, only_differing))
        .collect_view();
    view! {
        <p class="compare-summary" data-testid="compare-summary" role="status">{summary}</p>
        <label class="compare-filter">
            <input type="checkbox" data-testid="compare-only-differing" prop:checked=move || only_differing.get() on:change=move |ev| only_differing.set(event_target_checked(&ev)) />
            " Only the steps that differ"
        </label>
        <div class="compare-scroll">
            <table class="compare-table" data-testid="compare-table">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Same or different"</span></th>
                        <th scope="col">"A"</th>
                        <th scope="col">"B"</th>
                        <th scope="col">"Step"</th>
                        <th scope="col">"What differs"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

fn table_row(
    row: &Row,
    a: &Side,
    b: &Side,
    seed: &str,
    only_differing: RwSignal<bool>,
) -> impl IntoView {
    let differs = row.differs();
    let cell = |side: &Side, index: Option<usize>| match index {
        Some(i) => view! { <a href=step_link(side, &row.id, seed)>{i + 1}</a> }.into_any(),
        None => view! { <span class="muted" aria-label="not in this run">"–"</span> }.into_any(),
    };
    let said: Vec<String> = row
        .differences
        .iter()
        .map(|d| d.describe("A", "B"))
        .collect();
    let bytes = (!row.bytes.is_empty()).then(|| {
        let list = row
            .bytes
            .iter()
            .map(|d| {
                if d.a_len == d.b_len {
                    format!("{}: {} of {} bytes, from byte {}", d.artifact, d.differing, d.a_len, d.first)
                } else {
                    format!("{}: {} bytes in A, {} in B", d.artifact, d.a_len, d.b_len)
                }
            })
            .collect::<Vec<_>>()
            .join("; ");
        view! { <p class="compare-bytes muted">{format!("Bytes differ (values of each run): {list}")}</p> }
    });
    view! {
        <tr
            class:differs=differs
            class:hidden=move || only_differing.get() && !differs
            data-testid="compare-row"
            data-step-id=row.id.clone()
            data-differs=differs.to_string()
        >
            <td class="compare-mark" aria-label=if differs { "differs" } else { "same" }>{if differs { "≠" } else { "=" }}</td>
            <td>{cell(a, row.a)}</td>
            <td>{cell(b, row.b)}</td>
            <td>
                <span class="phase-letter">{row.phase.to_string()}</span>" "{row.title.clone()}
                <code class="compare-id">{row.id.clone()}</code>
            </td>
            <td>
                <ul class="compare-differences">
                    {said.into_iter().map(|d| view! { <li>{d}</li> }).collect_view()}
                </ul>
                {bytes}
            </td>
        </tr>
    }
}
