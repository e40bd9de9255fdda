//! The swimlane diagram (SVG): a lane per actor, phases as bands, each
//! message an arrow drawn when its step is reached, internal steps as marks.

use super::status_class;
use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::{Phase, Place};
use whfb_model::layout::{
    lane_width_for, layout_sized, Shape, BAND_HEAD, HEADER, MARGIN, ROW, SHORT_NAMES_BELOW,
};
use whfb_model::script::Script;

/// What a vertical scrollbar may take from the diagram's width.
const SCROLLBAR: f64 = 18.0;

/// The width the diagram has on this screen, before it is measured: the
/// page's column (`.page`, and beside the step's details from 1280 px:
/// `style/main.css`) less its padding and border.
fn estimated_width() -> f64 {
    let screen = web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .unwrap_or(1280.0);
    let column = if screen >= 1280.0 {
        (screen.min(1600.0) - 44.0) * 2.0 / 3.0 - 2.0
    } else {
        screen.min(1248.0) - 34.0
    };
    column - SCROLLBAR
}

#[component]
pub fn Swimlanes(session: Session, script: StoredValue<Script>) -> impl IntoView {
    let pb = session.playback;
    let scroller = NodeRef::<leptos::html::Div>::new();
    // Lanes share the width the diagram has (names shorten in narrow
    // lanes), down to a minimum below which the diagram scrolls sideways.
    let available = RwSignal::new(estimated_width());
    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            // Room for a vertical scrollbar, which a long flow shows once
            // its rows are drawn (and which changes no resize event).
            let width = f64::from(el.client_width()) - SCROLLBAR;
            if width > 0.0 {
                available.set(width);
            }
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            request_animation_frame(measure);
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    let lane_width = Memo::new(move |_| {
        let available = available.get();
        script.with_value(|s| lane_width_for(s, available))
    });

    // Keep the current step in view as it moves: its arrow or mark, centred
    // across when the lanes are wider than the screen. At the next frame,
    // when the browser lays the page out anyway: scrolling at once would
    // force a layout of its own in the middle of rendering (on a deep link,
    // the page's longest task).
    Effect::new(move |_| {
        let current = pb.with(|p| p.current);
        request_animation_frame(move || {
            let Some(container) = scroller.get_untracked() else {
                return;
            };
            let selector = format!("[data-step=\"{current}\"] .shape");
            if let Ok(Some(shape)) = container.query_selector(&selector) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                options.set_inline(web_sys::ScrollLogicalPosition::Center);
                shape.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
    });

    // Device registration (phase R) folds away to its heading: what comes
    // after moves up. It stays open while the current step is one of its own.
    let folded = RwSignal::new(false);
    let body = move || {
        let geometry = script.with_value(|s| layout_sized(s, lane_width.get()));
        let (width, height) = (geometry.width, geometry.height);
        let short = geometry.lane_width < SHORT_NAMES_BELOW;
        let lane = geometry.lane_width;
        let join_band = geometry.bands.iter().find(|b| b.phase == Phase::R).cloned();
        let join_height = join_band.as_ref().map_or(0.0, |b| b.height - BAND_HEAD);
        let in_join = move || {
            let cur = pb.with(|p| p.current);
            script.with_value(|s| s.steps.get(cur).is_some_and(|st| st.phase == Phase::R))
        };
        let is_folded = move || folded.get() && !in_join();
        let shift = move || if is_folded() { join_height } else { 0.0 };
        let below = move || format!("translate(0 {})", -shift());
        let phase_of = move |i: usize| script.with_value(|s| s.steps.get(i).map(|st| st.phase));

        let lanes = geometry.lanes.clone();
        let bands = geometry.bands.clone();
        let rows = geometry.rows.clone();
        let heads = lanes
        .clone()
        .into_iter()
        .map(|l| {
            let place = match l.actor.place() {
                Place::Person => "person",
                Place::Device => "device",
                Place::Cloud => "cloud",
                Place::OnPremises => "onprem",
            };
            let involved = move || {
                let cur = pb.with(|p| p.current);
                script.with_value(|s| s.steps.get(cur).is_some_and(|st| st.kind.actors().contains(&l.actor)))
            };
            view! {
                <g class=format!("lane {place}") class:involved=involved data-testid="lane" data-actor=l.actor.slug()>
                    <line x1=l.x y1=HEADER - 6.0 x2=l.x y2=HEADER class="lane-line"></line>
                    <title>{l.actor.name()}</title>
                    <rect x=l.x - lane / 2.0 + 3.0 y=8 width=lane - 6.0 height=HEADER - 20.0 rx="6" class="lane-head"></rect>
                    <foreignObject x=l.x - lane / 2.0 + 3.0 y=10 width=lane - 6.0 height=HEADER - 24.0>
                        <div class="lane-name" class:narrow=lane < 60.0 title=l.actor.name()>{if short { l.actor.short_name() } else { l.actor.name() }}</div>
                    </foreignObject>
                </g>
            }
        })
        .collect_view();
        let actors = script.with_value(|s| {
            s.flow
                .info()
                .actors
                .iter()
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        });
        view! {
                // The actors' names stay on top while the steps scroll under them.
                <svg
                    class="lane-heads"
                    data-testid="lane-heads"
                    viewBox=format!("0 0 {width} {HEADER}")
                    width=width
                    height=HEADER
                    role="img"
                    aria-label=format!("Actors: {actors}")
                >
                    {heads}
                </svg>
                <svg
                    class="lane-body"
                    viewBox=move || format!("0 {HEADER} {width} {}", height - HEADER - shift())
                    width=width
                    height=move || height - HEADER - shift()
                    // A group, not an image: its steps are controls one can
                    // reach and choose.
                    role="group"
                    aria-label="Sequence of messages between the actors"
                >
                    <defs>
                        <marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"></path>
                        </marker>
                    </defs>
                    {bands
                        .into_iter()
                        .map(|b| {
                            let phase = b.phase;
                            let first = b.first_step;
                            let active = move || {
                                let cur = pb.with(|p| p.current);
                                script.with_value(|s| s.steps.get(cur).map(|st| st.phase)) == Some(phase)
                            };
                            let foldable = phase == Phase::R;
                            let band_height = b.height;
                            let label = format!("Phase {} · {}", phase.letter(), b.name);
                            view! {
                                <g
                                    class="band"
                                    class:active=active
                                    class:folded=move || foldable && is_folded()
                                    data-testid="band"
                                    data-phase=phase.letter().to_string()
                                    transform=move || (!foldable).then(below)
                                >
                                    <rect
                                        x="0"
                                        y=b.y
                                        width=width
                                        height=move || if foldable && is_folded() { BAND_HEAD } else { band_height }
                                        class="band-bg"
                                    ></rect>
                                    <text
                                        x=MARGIN
                                        y=b.y + BAND_HEAD * 0.65
                                        class="band-label"
                                        on:click=move |_| pb.update(|p| p.jump(first))
                                    >
                                        {label}
                                    </text>
                                    {foldable.then(|| view! {
                                        <text
                                            x=width - MARGIN
                                            y=b.y + BAND_HEAD * 0.65
                                            text-anchor="end"
                                            class="band-fold"
                                            role="button"
                                            tabindex="0"
                                            data-testid="fold-join"
                                            aria-expanded=move || (!is_folded()).to_string()
                                            on:click=move |_| folded.update(|f| *f = !*f)
                                            on:keydown=move |ev| {
                                                if ev.key() == "Enter" || ev.key() == " " {
                                                    ev.prevent_default();
                                                    folded.update(|f| *f = !*f);
                                                }
                                            }
                                        >
                                            {move || if is_folded() { "▸ show its steps" } else { "▾ fold" }}
                                        </text>
                                    })}
                                </g>
                            }
                        })
                        .collect_view()}
                    {lanes
                        .iter()
                        .map(|l| view! { <line x1=l.x y1=HEADER x2=l.x y2=move || height - MARGIN - shift() class="lane-line"></line> })
                        .collect_view()}
                    {rows
                        .into_iter()
                        .map(|r| {
                            let i = r.index;
                            let state = move || {
                                let cur = pb.with(|p| p.current);
                                if i == cur {
                                    "current"
                                } else if i < cur {
                                    "past"
                                } else {
                                    "future"
                                }
                            };
                            let status = move || session.events.with(|e| e.get(i).map(|ev| status_class(&ev.status)).unwrap_or("pending"));
                            let shape = match r.shape {
                                Shape::Arrow { x1, x2 } => {
                                    let dir = if x2 > x1 { 1.0 } else { -1.0 };
                                    let (a, b) = (x1 + dir * 4.0, x2 - dir * 6.0);
                                    let length = (b - a).abs();
                                    view! {
                                        <line
                                            x1=a
                                            y1=r.y
                                            x2=b
                                            y2=r.y
                                            class="arrow shape"
                                            data-testid="step-shape"
                                            marker-end="url(#arrowhead)"
                                            style=format!("--len: {length:.0}")
                                        ></line>
                                    }
                                    .into_any()
                                }
                                Shape::Mark { x } => view! {
                                    <rect x=x - 7.0 y=r.y - 7.0 width="14" height="14" rx="3" class="mark shape" data-testid="step-shape"></rect>
                                }
                                .into_any(),
                                Shape::Wait { x } => view! {
                                    <g class="wait">
                                        <circle cx=x cy=r.y r="8" class="mark shape" data-testid="step-shape"></circle>
                                        <path d=format!("M {x} {} L {x} {} L {} {}", r.y - 5.0, r.y, x + 4.0, r.y + 3.0) class="clock-hand"></path>
                                    </g>
                                }
                                .into_any(),
                            };
                            let is_arrow = matches!(r.shape, Shape::Arrow { .. });
                            let label_y = if is_arrow { r.y - 7.0 } else { r.y + 4.0 };
                            let anchor = r.anchor;
                            let id = script.with_value(|s| s.steps.get(i).map(|st| st.id.to_string()).unwrap_or_default());
                            let in_fold = phase_of(i) == Some(Phase::R);
                            view! {
                                <g
                                    class=move || format!("step {} {}", state(), status())
                                    class:hidden-step=move || in_fold && is_folded()
                                    transform=move || (!in_fold).then(below)
                                    data-testid="step"
                                    data-step=i.to_string()
                                    data-step-id=id
                                    data-state=state
                                    data-status=status
                                    on:click=move |_| pb.update(|p| p.jump(i))
                                >
                                    <rect x="0" y=r.y - ROW / 2.0 width=width height=ROW class="hit"></rect>
                                    {shape}
                                    <text x=r.label_x y=label_y text-anchor=anchor class="step-label">
                                        {format!("{}. {}", i + 1, r.label)}
                                    </text>
                                </g>
                            }
                        })
                        .collect_view()}
                </svg>
        }
    };
    view! {
        <div class="swimlanes" node_ref=scroller data-testid="swimlanes" data-lane-width=move || lane_width.get().to_string()>
            {body}
        </div>
    }
}
