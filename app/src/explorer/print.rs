//! Printing a flow (or saving it as PDF): the title, the whole diagram,
//! then every step with its narration, checks and artifacts; the print
//! stylesheet (`@media print` in style/main.css) hides every control.
//!
//! The walkthrough is built only while printing: for a long flow it is a
//! few thousand elements, which the screen never needs. The "Print" button
//! first has the engine run the flow to its end, so that every step has
//! its results; printing from the browser's menu prints the steps run so
//! far and says which have not run.

use crate::session::Session;
use leptos::prelude::*;
use whfb_model::artifact::Outcome;
use whfb_model::event::StepStatus;
use whfb_model::script::{Script, StepKind};

/// Prints once every step has run (or the run stopped at a failed check).
#[component]
pub fn PrintButton(session: Session, printing: RwSignal<bool>, total: usize) -> impl IntoView {
    let wanted = RwSignal::new(false);
    Effect::new(move |_| {
        if !wanted.get() {
            return;
        }
        let ran = session.events.with(Vec::len);
        if ran >= total || session.halt.with(Option::is_some) {
            wanted.set(false);
            printing.set(true);
            // Once the walkthrough is in the page.
            request_animation_frame(|| {
                if let Some(window) = web_sys::window() {
                    let _ = window.print();
                }
            });
        }
    });
    view! {
        <button
            class="print"
            data-testid="print"
            title="Print the whole flow, or save it as PDF: the diagram, then every step with its narration, checks and artifacts"
            disabled=move || wanted.get()
            on:click=move |_| {
                wanted.set(true);
                session.request(total.saturating_sub(1));
            }
        >
            {move || if wanted.get() { "Running every step…" } else { "Print" }}
        </button>
    }
}

/// Keeps `printing` true while the browser prints, however printing began.
pub fn follow_print_events(printing: RwSignal<bool>) {
    let before = window_event_listener_untyped("beforeprint", move |_| printing.set(true));
    let after = window_event_listener_untyped("afterprint", move |_| printing.set(false));
    on_cleanup(move || {
        before.remove();
        after.remove();
    });
}

/// Every step, for the printed page.
#[component]
pub fn PrintWalkthrough(
    session: Session,
    script: StoredValue<Script>,
    printing: RwSignal<bool>,
) -> impl IntoView {
    move || {
        if !printing.get() {
            return None;
        }
        let steps = script.with_value(|s| s.steps.clone());
        let events = session.events.get();
        let not_run = steps.len().saturating_sub(events.len());
        Some(view! {
            <section class="print-walkthrough" data-testid="print-walkthrough">
                <h2>"Step by step"</h2>
                {(not_run > 0).then(|| view! {
                    <p class="muted">{format!("{not_run} steps had not run when this was printed: they are listed without results.")}</p>
                })}
                <ol>
                    {steps.into_iter().enumerate().map(|(i, step)| {
                        let event = events.get(i).cloned();
                        let lanes = match step.kind {
                            StepKind::Message { from, to } => format!("{} → {}", from.name(), to.name()),
                            StepKind::Internal { actor } | StepKind::Wait { actor } => actor.name().to_string(),
                        };
                        view! {
                            <li class="print-step" data-testid="print-step">
                                <h3>
                                    <span class="phase-letter">{step.phase.letter().to_string()}</span>
                                    {format!(" {}. {}", i + 1, step.title)}
                                </h3>
                                <p class="lanes">{lanes}</p>
                                <p>{step.narration}</p>
                                {match event {
                                    None => view! { <p class="muted">"Not run."</p> }.into_any(),
                                    Some(e) => {
                                        let status = match &e.status {
                                            StepStatus::Done => format!("Done at {}", e.time),
                                            StepStatus::Skipped { why } => format!("Skipped: {why}"),
                                            StepStatus::Failed { check, reason } => format!("Failed at \"{check}\": {reason}"),
                                        };
                                        view! {
                                            <p class="status">{status}</p>
                                            {(!e.checks.is_empty()).then(|| view! {
                                                <ul class="print-checks">
                                                    {e.checks.into_iter().map(|c| {
                                                        let (mark, why) = match c.outcome {
                                                            Outcome::Pass => ("✓", String::new()),
                                                            Outcome::Fail { reason } => ("✗", format!(": {reason}")),
                                                        };
                                                        view! { <li>{format!("{mark} {} ({}){why}", c.title, c.actor.name())}</li> }
                                                    }).collect_view()}
                                                </ul>
                                            })}
                                            {(!e.artifacts.is_empty()).then(|| view! {
                                                <p class="print-artifacts">
                                                    {format!("Artifacts: {}", e.artifacts.iter().map(|a| a.title.as_str()).collect::<Vec<_>>().join("; "))}
                                                </p>
                                            })}
                                        }
                                        .into_any()
                                    }
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </section>
        })
    }
}
