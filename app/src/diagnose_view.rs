//! "Diagnose your device": a person pastes (or chooses the file of) their
//! device's `dsregcmd /status` output; the worker reads it, tells the flow
//! and the first unmet prerequisite, runs that flow under the condition
//! that reproduces it and says where it stops (`whfb_core::diagnose`). A
//! link opens the flow on that step. Nothing leaves the page.

use crate::session::Session;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use whfb_model::diagnose::Finding;

/// The explorer's link for a finding: its flow, at the step that stops,
/// under its conditions.
fn link(finding: &Finding, seed: &str) -> String {
    let d = &finding.diagnosis;
    let mut link = format!("./?flow={}", d.flow.slug());
    if let Some((id, _)) = &finding.stop {
        link.push_str(&format!("&step={id}"));
    }
    if seed != crate::route::DEFAULT_SEED {
        link.push_str(&format!("&seed={}", js_sys::encode_uri_component(seed)));
    }
    if !d.conditions.is_empty() {
        link.push('&');
        link.push_str(&d.conditions);
    }
    link
}

#[component]
pub fn DiagnosePanel(session: Session) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let run = move || session.diagnose(text.get_untracked().into_bytes());
    let choose = move |ev: leptos::ev::Event| {
        let Some(file) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
        else {
            return;
        };
        let name = file.name();
        session.diagnosing.set(true);
        session.diagnosis.set(None);
        crate::inspect_view::read_bytes(file, move |read| match read {
            Ok(bytes) => {
                text.set(format!("(the file {name}, {} bytes)", bytes.len()));
                session.diagnose(bytes);
            }
            Err(why) => {
                session.diagnosing.set(false);
                session.diagnosis.set(Some(Err(why)));
            }
        });
    };
    view! {
        <section class="inspect diagnose" data-testid="diagnose" aria-labelledby="diagnose-title">
            <h2 id="diagnose-title">"Diagnose your device"</h2>
            <p>
                "Paste what " <code>"dsregcmd /status"</code> " prints on the device (or choose the file you saved it to). "
                "The page says which flow the device is in, which prerequisite stops provisioning and what that means, "
                "then runs that flow under the same condition and shows the step that stops. It is read in this page: nothing is sent anywhere."
            </p>
            <textarea
                data-testid="diagnose-input"
                aria-label="Output of dsregcmd /status"
                rows="6"
                spellcheck="false"
                placeholder="| Device State |   AzureAdJoined : YES   …   | Ngc Prerequisite Check |   PolicyEnabled : NO"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <div class="inspect-actions">
                <button data-testid="diagnose-run" disabled=move || session.diagnosing.get() on:click=move |_| run()>
                    {move || if session.diagnosing.get() { "Reading…" } else { "Diagnose" }}
                </button>
                <label>
                    "or choose a file: "
                    <input type="file" accept=".txt,.log,text/plain" data-testid="diagnose-file" on:change=choose />
                </label>
            </div>
            {move || match session.diagnosis.get() {
                None => None,
                Some(Err(why)) => Some(view! {
                    <p class="compare-error" role="alert" data-testid="diagnose-error">{format!("This could not be read: {why}.")}</p>
                }.into_any()),
                Some(Ok(finding)) => Some(view! { <FindingView session finding /> }.into_any()),
            }}
        </section>
    }
}

#[component]
fn FindingView(session: Session, finding: Finding) -> impl IntoView {
    let seed = session.route.with_untracked(|r| r.seed.clone());
    let href = link(&finding, &seed);
    let d = finding.diagnosis.clone();
    let unmet = d.prerequisites.iter().find(|p| !p.met).cloned();
    let verdict = match (&unmet, &finding.stop) {
        (None, None) => {
            "Every prerequisite in the report is met: the flow runs to its end.".to_string()
        }
        (None, Some((_, halt))) => format!(
            "Every prerequisite in the report is met, yet the run stops at step {}: {} — {}.",
            halt.step + 1,
            halt.check,
            halt.reason
        ),
        (Some(p), stop) => {
            let condition = match &p.condition {
                Ok(c) => format!("Under the explorer's condition {c}"),
                Err(why) => format!("The explorer cannot reproduce it ({why})"),
            };
            match stop {
                Some((_, halt)) => format!(
                    "First unmet: {}. {condition}, the run stops at step {}: {} — {}.",
                    p.field,
                    halt.step + 1,
                    halt.check,
                    halt.reason
                ),
                None => format!(
                    "First unmet: {}. {condition}; the run does not stop.",
                    p.field
                ),
            }
        }
    };
    let open = if finding.stop.is_some() {
        "Open the flow at the step that stops"
    } else {
        "Open the flow"
    };
    view! {
        <div class="diagnosis" data-testid="diagnosis">
            <p data-testid="diagnose-flow">
                <strong>{d.flow.info().title}</strong>" "<code>{d.flow.slug()}</code>
            </p>
            <ul class="diagnose-why">
                {d.why_flow.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
            </ul>
            <h3>"Ngc Prerequisite Check"</h3>
            <ul class="checks diagnose-fields">
                {d.prerequisites.iter().map(|p| {
                    let mark = if p.met { "✓" } else { "✗" };
                    view! {
                        <li class=if p.met { "pass" } else { "fail" } data-testid="diagnose-field" data-field=p.field.clone() data-met=p.met.to_string()>
                            <span aria-hidden="true">{mark}" "</span>
                            <code>{format!("{} : {}", p.field, p.value)}</code>
                            {(!p.met).then(|| view! { <span>{format!(" — {}", p.meaning)}</span> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {d.result.clone().map(|r| view! { <p><code>{format!("PreReqResult : {r}")}</code></p> })}
            {(!d.missing.is_empty()).then(|| view! { <p class="muted">{format!("Not in the report: {}.", d.missing.join(", "))}</p> })}
            <p class="diagnose-verdict" data-testid="diagnose-verdict">{verdict}</p>
            <p><a href=href data-testid="diagnose-open">{open}</a></p>
            {(d.ignored > 0).then(|| view! { <p class="muted">{format!("{} lines were not fields of dsregcmd /status and were left out.", d.ignored)}</p> })}
        </div>
    }
}
