//! The flow explorer: phase stepper, swimlanes, playback controls, the
//! simulated clock, the run's conditions, narration and the inspector for
//! the step shown.

mod clock;
mod conditions;
mod device_state;
mod export;
mod holdings;
mod inspector;
mod print;
mod swimlanes;
mod tamper;

use crate::playback::SPEEDS;
use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::{phase_span, Phase};
use whfb_model::event::{Event, StepStatus};
use whfb_model::flows::FlowId;
use whfb_model::script::{script, Script, StepKind};

pub use clock::ClockBar;
pub use conditions::Conditions;
pub use holdings::Holdings;
pub use inspector::{ArtifactView, Inspector};
pub use swimlanes::Swimlanes;
pub use tamper::{EditTarget, EditsBanner};

/// Everything shown for an open flow.
#[component]
pub fn Explorer(session: Session, flow: FlowId) -> impl IntoView {
    let script = StoredValue::new(script(flow));
    let info = flow.info();
    let embed = session.route.with_untracked(|r| r.embed);
    let (help_open, set_help_open) = signal(false);
    // Presenter mode: full screen, the diagram and the narration only.
    let presenting = RwSignal::new(false);
    use_keyboard(session, script, set_help_open, presenting);
    use_autoplay(session);
    use_step_requests(session);
    // What sits below the diagram comes a frame later: the first frame of a
    // link to a flow then builds the heading, the phases and the lanes only,
    // and the main thread is free between the two (a long first task would
    // freeze the page while it loads).
    let below = RwSignal::new(false);
    request_animation_frame(move || {
        set_timeout(move || below.set(true), std::time::Duration::ZERO)
    });

    let printing = RwSignal::new(false);
    print::follow_print_events(printing);
    follow_fullscreen(presenting);
    view! {
        <section
            class="explorer"
            class:presenting=move || presenting.get()
            data-testid="explorer"
            data-flow=flow.slug()
            data-run=move || session.run_id.get().to_string()
            data-presenting=move || presenting.get().to_string()
        >
            {move || presenting.get().then(|| view! {
                <button class="present-exit" data-testid="present-exit" title="Leave presenter mode (P or Esc)" on:click=move |_| set_presenting(presenting, false)>
                    "Leave presenter mode"
                </button>
            })}
            <header class="explorer-head" class:hidden=embed>
                <button class="link-button" data-testid="back-to-catalog" on:click=move |_| session.close()>
                    "← All flows"
                </button>
                <h1 data-testid="flow-heading">{info.title}</h1>
                <p class="flow-meta">
                    <span class="tag trust">{info.trust.name()}</span>
                    <span class="tag">{info.sign_in.name()}</span>
                    <span class="tag phases">{format!("Phases {}", phase_span(&script.with_value(|s| s.phase_list())))}</span>
                    <PoolStatus session />
                </p>
            </header>
            // From 1280 px the step's details sit beside the diagram
            // (style/main.css); below, they stack under it.
            <div class="explorer-body">
                <div class="explorer-main">
                    <PhaseStepper session script />
                    <div class="stage">
                        <Swimlanes session script />
                    </div>
                    <Controls session script set_help_open printing presenting />
                </div>
                <div class="explorer-side" data-testid="explorer-side">
                    {move || below.get().then(|| view! {
                        <ClockBar session flow />
                        {(!embed).then(|| view! { <Conditions session flow /> })}
                        <Narration session script />
                        {(!embed).then(|| view! { <Inspector session /> })}
                    })}
                </div>
            </div>
            <KeyHelp open=help_open set_open=set_help_open />
            {(!embed).then(|| view! { <print::PrintWalkthrough session script printing /> })}
        </section>
    }
}

/// The key pool's state, as the worker reports it.
#[component]
fn PoolStatus(session: Session) -> impl IntoView {
    move || {
        session.pool.get().map(|p| {
            let text = if p.making {
                format!("TPM key pool: {} of {} ready, one being made", p.ready, p.target)
            } else {
                format!("TPM key pool: {} of {} ready", p.ready, p.target)
            };
            view! { <span class="tag pool" data-testid="pool-status" data-ready=p.ready data-making=p.making.to_string()>{text}</span> }
        })
    }
}

/// Phases (R, then A–G) as buttons; the current one highlighted.
#[component]
fn PhaseStepper(session: Session, script: StoredValue<Script>) -> impl IntoView {
    let phases = script.with_value(|s| s.phases.clone());
    let current_phase = move || {
        let i = session.playback.with(|p| p.current);
        script.with_value(|s| s.steps.get(i).map(|st| st.phase))
    };
    view! {
        <nav class="phase-stepper" aria-label="Phases" data-testid="phase-stepper">
            {phases
                .into_iter()
                .map(|p| {
                    let phase = p.phase;
                    let first = script.with_value(|s| s.first_step_of(phase)).unwrap_or(0);
                    view! {
                        <button
                            class="phase-button"
                            data-testid="phase-button"
                            data-phase=phase.letter().to_string()
                            class:current=move || current_phase() == Some(phase)
                            aria-current=move || (current_phase() == Some(phase)).then_some("step")
                            title=p.summary
                            on:click=move |_| {
                                session.playback.update(|pb| pb.jump(first));
                            }
                        >
                            <span class="letter">{phase.letter().to_string()}</span>
                            <span class="name">{p.name}</span>
                        </button>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// Step, play, speed, restart, scrubber.
#[component]
fn Controls(
    session: Session,
    script: StoredValue<Script>,
    set_help_open: WriteSignal<bool>,
    printing: RwSignal<bool>,
    presenting: RwSignal<bool>,
) -> impl IntoView {
    let total = script.with_value(|s| s.steps.len());
    let pb = session.playback;
    let ticks = script.with_value(|s| {
        s.steps
            .iter()
            .enumerate()
            .map(|(i, st)| (i, st.phase, st.title))
            .collect::<Vec<_>>()
    });
    view! {
        <div class="controls" data-testid="controls">
            <div class="buttons">
                <button data-testid="restart" title="Restart (Home)" on:click=move |_| pb.update(|p| p.restart())>"⟲"</button>
                <button data-testid="step-back" title="Step back (←)" aria-label="Step back" on:click=move |_| pb.update(|p| p.back())>"◀"</button>
                <button
                    data-testid="play"
                    class="play"
                    aria-label=move || if pb.with(|p| p.playing) { "Pause" } else { "Play" }
                    title="Play or pause (Space)"
                    on:click=move |_| pb.update(|p| p.toggle())
                >
                    {move || if pb.with(|p| p.playing) { "❚❚" } else { "▶" }}
                </button>
                <button data-testid="step-forward" title="Step forward (→)" aria-label="Step forward" on:click=move |_| pb.update(|p| p.forward())>"▶|"</button>
                <label class="speed">
                    "Speed "
                    <select
                        data-testid="speed"
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            if let Ok(i) = v.parse::<usize>() {
                                pb.update(|p| p.speed = i.min(SPEEDS.len() - 1));
                            }
                        }
                        prop:value=move || pb.with(|p| p.speed.to_string())
                    >
                        {SPEEDS.iter().enumerate().map(|(i, s)| view! { <option value=i.to_string()>{format!("{s}×")}</option> }).collect_view()}
                    </select>
                </label>
                <span class="position" data-testid="position">
                    {move || format!("Step {} of {}", pb.with(|p| p.current) + 1, total)}
                </span>
                <button class="keys" data-testid="show-keys" title="Keyboard shortcuts (?)" on:click=move |_| set_help_open.set(true)>"?"</button>
                <span class="spacer"></span>
                <button
                    class="download-run"
                    data-testid="download-run"
                    title="Every artifact of the steps run so far, the trace as JSON and a README naming the tool for each file"
                    disabled=move || session.packing.get() || session.events.with(Vec::is_empty)
                    on:click=move |_| session.download_run()
                >
                    {move || if session.packing.get() { "Packing…" } else { "Download the run (ZIP)" }}
                </button>
                <button
                    class="present"
                    data-testid="present"
                    title="Presenter mode (P): full screen, the diagram and the narration in large type; step with the arrow keys, Page Up and Page Down, or a clicker"
                    on:click=move |_| set_presenting(presenting, true)
                >
                    "Present"
                </button>
                <EmbedButton session />
                <export::ExportMenu session script />
                <print::PrintButton session printing total />
            </div>
            <div class="scrubber" data-testid="scrubber" role="group" aria-label="Steps">
                {ticks
                    .into_iter()
                    .map(|(i, phase, title)| {
                        let status = move || session.events.with(|e| e.get(i).map(|ev| status_class(&ev.status)));
                        view! {
                            <button
                                class="tick"
                                data-testid="tick"
                                data-phase=phase.letter().to_string()
                                class:current=move || pb.with(|p| p.current == i)
                                class:seen=move || pb.with(|p| i <= p.current)
                                class:failed=move || status() == Some("failed")
                                class:skipped=move || status() == Some("skipped")
                                title=format!("{} · {}", phase.letter(), title)
                                aria-label=format!("Step {}: {}", i + 1, title)
                                on:click=move |_| pb.update(|p| p.jump(i))
                            ></button>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

pub(crate) fn status_class(status: &StepStatus) -> &'static str {
    match status {
        StepStatus::Done => "done",
        StepStatus::Skipped { .. } => "skipped",
        StepStatus::Failed { .. } => "failed",
    }
}

/// The current step in words, read out through an aria-live region.
#[component]
fn Narration(session: Session, script: StoredValue<Script>) -> impl IntoView {
    let current = move || session.playback.with(|p| p.current);
    let spec = move || script.with_value(|s| s.steps.get(current()).cloned());
    let event = move || session.current_event();
    view! {
        <section class="narration" data-testid="narration" aria-live="polite" aria-atomic="true">
            {move || {
                let Some(step) = spec() else { return ().into_any() };
                let phase_name = script.with_value(|s| {
                    s.phases.iter().find(|p| p.phase == step.phase).map(|p| p.name).unwrap_or_default()
                });
                let lane = match step.kind {
                    StepKind::Message { from, to } => format!("{} → {}", from.name(), to.name()),
                    StepKind::Internal { actor } => actor.name().to_string(),
                    StepKind::Wait { actor } => format!("{} waits", actor.name()),
                };
                view! {
                    <p class="where">
                        <span class="phase-letter" data-testid="narration-phase">{step.phase.letter().to_string()}</span>
                        {format!(" {phase_name} · {lane}")}
                    </p>
                    <h2 data-testid="narration-title">{step.title}</h2>
                    <p class="text" data-testid="narration-text">{step.narration}</p>
                    <EventSummary event=event() />
                }
                .into_any()
            }}
            {move || session.busy.get().filter(|_| event().is_none()).map(|b| view! { <p class="busy" data-testid="busy" role="status">{b}</p> })}
            {move || session.halt.get().map(|h| view! {
                <p class="halt" data-testid="halt" role="alert">
                    {format!("The run stopped at step {}: {} — {}", h.step + 1, h.check, h.reason)}
                </p>
            })}
            <EditsBanner session />
        </section>
    }
}

#[component]
fn EventSummary(event: Option<Event>) -> impl IntoView {
    let Some(e) = event else {
        return view! { <p class="pending" data-testid="step-pending">"Running this step…"</p> }
            .into_any();
    };
    let status = match &e.status {
        StepStatus::Done => "Done".to_string(),
        StepStatus::Skipped { why } => format!("Skipped: {why}"),
        StepStatus::Failed { check, reason } => format!("Failed: {check} — {reason}"),
    };
    view! {
        <div class="event-summary" data-testid="event-summary" data-status=status_class(&e.status)>
            <p class="status">
                <span class=format!("badge {}", status_class(&e.status))>{status}</span>
                <span class="time" data-testid="sim-time">{format!(" {}", e.time)}</span>
                {(e.elapsed.0 >= 60_000).then(|| view! { <span class="elapsed">{format!(" (+{})", e.elapsed)}</span> })}
            </p>
            <ul class="notes">
                {e.notes.into_iter().map(|n| view! { <li data-testid="note">{n}</li> }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// The keyboard shortcuts, shown with `?`.
#[component]
fn KeyHelp(open: ReadSignal<bool>, set_open: WriteSignal<bool>) -> impl IntoView {
    view! {
        <div class="key-help" data-testid="key-help" role="dialog" aria-label="Keyboard shortcuts" hidden=move || !open.get()>
            <h2>"Keyboard"</h2>
            <dl>
                <dt>"← →"</dt><dd>"step back, step forward"</dd>
                <dt>"Page Up Page Down"</dt><dd>"step back, step forward (a presentation clicker)"</dd>
                <dt>"Space"</dt><dd>"play or pause"</dd>
                <dt>"Home End"</dt><dd>"first step, last step"</dd>
                <dt>"R, A–G"</dt><dd>"jump to a phase (R: device registration)"</dd>
                <dt>"P"</dt><dd>"presenter mode, on or off"</dd>
                <dt>"?"</dt><dd>"this help (Esc closes it)"</dd>
            </dl>
            <button data-testid="close-keys" on:click=move |_| set_open.set(false)>"Close"</button>
        </div>
    }
}

/// The HTML to embed the current step in another page (a wiki, a
/// slide): an iframe of this run's link with `embed=1`.
pub fn embed_snippet(page_url: &str, route: &crate::route::Route, title: &str) -> String {
    let mut embedded = route.clone();
    embedded.embed = true;
    let step = embedded.step.unwrap_or(1);
    let escape = |t: &str| {
        t.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    format!(
        "<iframe src=\"{}{}\" title=\"{}, step {step}\" width=\"960\" height=\"640\" loading=\"lazy\"></iframe>",
        escape(page_url),
        escape(&embedded.to_query()),
        escape(title)
    )
}

/// Copies the embed snippet for the step shown.
#[component]
fn EmbedButton(session: Session) -> impl IntoView {
    let copied = RwSignal::new(false);
    view! {
        <button
            class="embed"
            data-testid="copy-embed"
            title="Copy the HTML that embeds this step in another page (an iframe)"
            on:click=move |_| {
                let Some(window) = web_sys::window() else { return };
                let location = window.location();
                let page = format!(
                    "{}{}",
                    location.origin().unwrap_or_default(),
                    location.pathname().unwrap_or_default()
                );
                let route = session.route.get_untracked();
                let title = route.flow.map(|f| f.info().title).unwrap_or_default();
                let snippet = embed_snippet(&page, &route, title);
                let _ = window.navigator().clipboard().write_text(&snippet);
                copied.set(true);
                set_timeout(move || copied.set(false), std::time::Duration::from_secs(2));
            }
        >
            {move || if copied.get() { "Copied" } else { "Copy embed" }}
        </button>
    }
}

/// Enters or leaves presenter mode: the page goes full screen (where the
/// browser allows it) and back.
fn set_presenting(presenting: RwSignal<bool>, on: bool) {
    if presenting.get_untracked() == on {
        return;
    }
    presenting.set(on);
    // The diagram's size changes: bring the current step back into view.
    request_animation_frame(|| {
        let current = web_sys::window().and_then(|w| w.document()).and_then(|d| {
            d.query_selector("[data-testid=\"step\"][data-state=\"current\"]")
                .ok()
                .flatten()
        });
        if let Some(step) = current {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Center);
            step.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if on {
        if let Some(root) = document.document_element() {
            // Refused without a user gesture or in a frame without
            // `allowfullscreen`: the mode then works in the window as it is,
            // and the refusal (a rejected promise) is caught, not reported.
            use wasm_bindgen::JsCast;
            let request = js_sys::Reflect::get(&root, &"requestFullscreen".into())
                .ok()
                .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
                .and_then(|f| f.call0(&root).ok())
                .and_then(|p| p.dyn_into::<js_sys::Promise>().ok());
            if let Some(promise) = request {
                let ignore =
                    wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(
                        |_: wasm_bindgen::JsValue| {},
                    );
                let _ = promise.catch(&ignore);
                ignore.forget();
            }
        }
    } else if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
    }
}

/// Leaving full screen (Esc, which the browser keeps for itself) leaves
/// presenter mode too.
fn follow_fullscreen(presenting: RwSignal<bool>) {
    let handle = window_event_listener_untyped("fullscreenchange", move |_| {
        let full = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.fullscreen_element())
            .is_some();
        if !full {
            presenting.set(false);
        }
    });
    on_cleanup(move || handle.remove());
}

/// ← → Page Up/Down Space Home End R A–G P ?
fn use_keyboard(
    session: Session,
    script: StoredValue<Script>,
    set_help_open: WriteSignal<bool>,
    presenting: RwSignal<bool>,
) {
    let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        // Typing in a field is not navigation.
        if let Some(target) = ev.target() {
            use wasm_bindgen::JsCast;
            if let Some(el) = target.dyn_ref::<web_sys::Element>() {
                if matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") {
                    return;
                }
                // Space on a focused button or disclosure presses it.
                if matches!(el.tag_name().as_str(), "BUTTON" | "SUMMARY")
                    && matches!(ev.key().as_str(), " " | "Spacebar" | "Enter")
                {
                    return;
                }
            }
        }
        let pb = session.playback;
        let key = ev.key();
        let handled = match key.as_str() {
            "ArrowRight" | "PageDown" => {
                pb.update(|p| p.forward());
                true
            }
            "ArrowLeft" | "PageUp" => {
                pb.update(|p| p.back());
                true
            }
            " " | "Spacebar" => {
                pb.update(|p| p.toggle());
                true
            }
            "Home" => {
                pb.update(|p| p.home());
                true
            }
            "End" => {
                pb.update(|p| p.end());
                true
            }
            "?" => {
                set_help_open.update(|o| *o = !*o);
                true
            }
            "Escape" => {
                set_help_open.set(false);
                set_presenting(presenting, false);
                true
            }
            "p" | "P" => {
                set_presenting(presenting, !presenting.get_untracked());
                true
            }
            k if k.chars().count() == 1 => match k.chars().next().and_then(Phase::from_letter) {
                Some(phase) => {
                    let phases: Vec<Phase> =
                        script.with_value(|s| s.steps.iter().map(|st| st.phase).collect());
                    pb.update(|p| {
                        p.jump_to_phase(&phases, phase);
                    });
                    true
                }
                None => false,
            },
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    });
    on_cleanup(move || handle.remove());
}

/// While playing, one step every `interval_ms`.
fn use_autoplay(session: Session) {
    let timer: StoredValue<Option<leptos::leptos_dom::helpers::IntervalHandle>, LocalStorage> =
        StoredValue::new_local(None);
    Effect::new(move |_| {
        let (playing, interval) = session.playback.with(|p| (p.playing, p.interval_ms()));
        timer.update_value(|t| {
            if let Some(h) = t.take() {
                h.clear();
            }
        });
        if playing {
            let handle = set_interval_with_handle(
                move || {
                    // Wait for the worker rather than run ahead of the events.
                    let have = session.events.with_untracked(|e| e.len());
                    let current = session.playback.with_untracked(|p| p.current);
                    if current < have {
                        session.playback.update(|p| p.forward());
                    }
                },
                std::time::Duration::from_millis(u64::from(interval)),
            );
            if let Ok(h) = handle {
                timer.set_value(Some(h));
            }
        }
    });
    on_cleanup(move || {
        timer.update_value(|t| {
            if let Some(h) = t.take() {
                h.clear();
            }
        });
    });
}

/// Asks the worker for steps the user moves to, and keeps the URL in step.
fn use_step_requests(session: Session) {
    Effect::new(move |_| {
        let current = session.playback.with(|p| p.current);
        if session.events.with(|e| current >= e.len()) {
            session.request(current);
        }
        if session
            .route
            .with_untracked(|r| r.step != Some(current + 1))
        {
            session.route.update(|r| r.step = Some(current + 1));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::Route;

    #[test]
    fn the_embed_snippet_is_an_iframe_of_this_step_with_its_text_escaped() {
        let route = Route::parse("?flow=aadj-managed&step=registration.register-key&mfa=15");
        let html = embed_snippet("https://example.org/explorer/", &route, "A <b> & \"c\"");
        assert!(
            html.starts_with("<iframe src=\"https://example.org/explorer/?"),
            "{html}"
        );
        assert!(html.contains("embed=1"), "{html}");
        assert!(html.contains("mfa=15"), "{html}");
        assert!(
            html.contains("&amp;"),
            "the query's & is escaped in the attribute: {html}"
        );
        assert!(
            html.contains("title=\"A &lt;b&gt; &amp; &quot;c&quot;, step"),
            "{html}"
        );
        assert!(html.ends_with("loading=\"lazy\"></iframe>"), "{html}");
        // What the iframe opens is this step of this run, embedded.
        let src = html
            .split('"')
            .nth(1)
            .unwrap()
            .replace("&amp;", "&")
            .replace("https://example.org/explorer/", "");
        let opened = Route::parse(&src);
        assert!(opened.embed);
        assert_eq!(opened.flow, route.flow);
        assert_eq!(opened.step, route.step);
        assert_eq!(opened.options, route.options);
    }
}
