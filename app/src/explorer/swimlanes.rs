//! The swimlane diagram (SVG): a lane per actor, phases as bands, each
//! message an arrow drawn when its step is reached, internal steps as marks.

use super::status_class;
use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::{Phase, Place};
use whfb_model::layout::{
    fitted, layout_sized, Shape, BAND_HEAD, HEADER, MARGIN, MIN_LANE_WIDTH, ROW, SHORT_NAMES_BELOW,
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
    // Every lane shares the width, or on a phone (compact mode) the
    // lanes of the current step and its neighbours do, the others folded
    // to strips. One layout at a time: the elements stay and move to their
    // new places (style/main.css animates that), so stepping slides the
    // lanes rather than redrawing the diagram.
    let all_lanes = RwSignal::new(false);
    // Paper gets every lane, whatever the screen.
    let printing = RwSignal::new(false);
    let before = window_event_listener_untyped("beforeprint", move |_| printing.set(true));
    let after = window_event_listener_untyped("afterprint", move |_| printing.set(false));
    on_cleanup(move || {
        before.remove();
        after.remove();
    });
    let geometry = Memo::new(move |_| {
        let available = available.get();
        let every = all_lanes.get() || printing.get();
        let current = (!every).then(|| pb.with(|p| p.current));
        script.with_value(|s| fitted(s, available, current))
    });
    // Compact mode applies on this screen (whether or not it is on).
    let narrow = Memo::new(move |_| {
        let available = available.get();
        script.with_value(|s| fitted(s, available, Some(0)).compact)
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
        // The flow's structure: the elements, built once; where they are
        // drawn comes from `geometry` as it changes.
        let shape = script.with_value(|s| layout_sized(s, MIN_LANE_WIDTH));
        let width = move || geometry.with(|g| g.width);
        let height = move || geometry.with(|g| g.height);
        let lane = move |k: usize| geometry.with(|g| g.lanes[k].clone());
        let join_band = shape.bands.iter().find(|b| b.phase == Phase::R).cloned();
        let join_height = join_band.as_ref().map_or(0.0, |b| b.height - BAND_HEAD);
        let in_join = move || {
            let cur = pb.with(|p| p.current);
            script.with_value(|s| s.steps.get(cur).is_some_and(|st| st.phase == Phase::R))
        };
        let is_folded = move || folded.get() && !in_join();
        let shift = move || if is_folded() { join_height } else { 0.0 };
        let below = move || format!("translate(0 {})", -shift());
        let phase_of = move |i: usize| script.with_value(|s| s.steps.get(i).map(|st| st.phase));

        let heads = shape
            .lanes
            .iter()
            .enumerate()
            .map(|(k, l)| {
                let actor = l.actor;
                let place = match actor.place() {
                    Place::Person => "person",
                    Place::Device => "device",
                    Place::Cloud => "cloud",
                    Place::OnPremises => "onprem",
                };
                let involved = move || {
                    let cur = pb.with(|p| p.current);
                    script.with_value(|s| s.steps.get(cur).is_some_and(|st| st.kind.actors().contains(&actor)))
                };
                let x = move || lane(k).x;
                let w = move || lane(k).width;
                let head_x = move || x() - w() / 2.0 + 3.0_f64.min(w() / 4.0);
                let head_w = move || w() - 6.0_f64.min(w() / 2.0);
                let shown = move || {
                    let l = lane(k);
                    if l.collapsed() {
                        ""
                    } else if l.width < SHORT_NAMES_BELOW {
                        actor.short_name()
                    } else {
                        actor.name()
                    }
                };
                view! {
                    <g
                        class=format!("lane {place}")
                        class:involved=involved
                        class:collapsed=move || lane(k).collapsed()
                        data-testid="lane"
                        data-actor=actor.slug()
                    >
                        <path d=move || format!("M {} {} V {HEADER}", x(), HEADER - 6.0) class="lane-line"></path>
                        <title>{actor.name()}</title>
                        <rect x=head_x y=8 width=head_w height=HEADER - 20.0 rx="6" class="lane-head"></rect>
                        <foreignObject x=head_x y=10 width=head_w height=HEADER - 24.0>
                            <div class="lane-name" class:narrow=move || w() < 60.0 title=actor.name()>{shown}</div>
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
                    viewBox=move || format!("0 0 {} {HEADER}", width())
                    width=width
                    height=HEADER
                    role="img"
                    aria-label=format!("Actors: {actors}")
                >
                    {heads}
                </svg>
                <svg
                    class="lane-body"
                    viewBox=move || format!("0 {HEADER} {} {}", width(), height() - HEADER - shift())
                    width=width
                    height=move || height() - HEADER - shift()
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
                    {shape
                        .bands
                        .iter()
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
                            // A narrow (compact) diagram shortens the label
                            // rather than run it under the fold control; the
                            // whole label stays in its tooltip.
                            let full = label.clone();
                            let shown = move || {
                                // Bold 12 px type: about 7 px a character.
                                let reserve = if foldable { 110.0 } else { 0.0 };
                                let fits = ((width() - MARGIN * 2.0 - reserve) / 7.0).max(8.0) as usize;
                                if full.chars().count() <= fits {
                                    full.clone()
                                } else {
                                    let cut: String = full.chars().take(fits.saturating_sub(1)).collect();
                                    format!("{}…", cut.trim_end())
                                }
                            };
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
                                        <title>{label}</title>
                                        {shown}
                                    </text>
                                    {foldable.then(|| view! {
                                        <text
                                            x=move || width() - MARGIN
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
                    {(0..shape.lanes.len())
                        .map(|k| view! {
                            <path
                                d=move || format!("M {} {HEADER} V {}", lane(k).x, height() - MARGIN - shift())
                                class="lane-line"
                                class:collapsed=move || lane(k).collapsed()
                            ></path>
                        })
                        .collect_view()}
                    {shape
                        .rows
                        .iter()
                        .map(|r| {
                            let i = r.index;
                            let y = r.y;
                            let row = move || geometry.with(|g| g.rows[i].clone());
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
                                Shape::Arrow { .. } => {
                                    // From just off one lane to the arrowhead's tip at the other.
                                    let ends = move || match row().shape {
                                        Shape::Arrow { x1, x2 } => {
                                            let dir = if x2 > x1 { 1.0 } else { -1.0 };
                                            (x1 + dir * 4.0, x2 - dir * 6.0)
                                        }
                                        _ => (0.0, 0.0),
                                    };
                                    view! {
                                        <path
                                            d=move || {
                                                let (a, b) = ends();
                                                format!("M {a} {y} L {b} {y}")
                                            }
                                            class="arrow shape"
                                            data-testid="step-shape"
                                            marker-end="url(#arrowhead)"
                                            style=move || {
                                                let (a, b) = ends();
                                                format!("--len: {:.0}", (b - a).abs())
                                            }
                                        ></path>
                                    }
                                    .into_any()
                                }
                                Shape::Mark { .. } => view! {
                                    <rect x=move || row().shape_x() - 7.0 y=y - 7.0 width="14" height="14" rx="3" class="mark shape" data-testid="step-shape"></rect>
                                }
                                .into_any(),
                                Shape::Wait { .. } => view! {
                                    <g class="wait">
                                        <circle cx=move || row().shape_x() cy=y r="8" class="mark shape" data-testid="step-shape"></circle>
                                        <path
                                            d=move || {
                                                let x = row().shape_x();
                                                format!("M {x} {} L {x} {y} L {} {}", y - 5.0, x + 4.0, y + 3.0)
                                            }
                                            class="clock-hand"
                                        ></path>
                                    </g>
                                }
                                .into_any(),
                            };
                            let is_arrow = matches!(r.shape, Shape::Arrow { .. });
                            let label_y = if is_arrow { y - 7.0 } else { y + 4.0 };
                            let id = script.with_value(|s| s.steps.get(i).map(|st| st.id.to_string()).unwrap_or_default());
                            let in_fold = phase_of(i) == Some(Phase::R);
                            let label = format!("{}. {}", i + 1, r.label);
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
                                    <rect x="0" y=y - ROW / 2.0 width=width height=ROW class="hit"></rect>
                                    {shape}
                                    // Moved by a transform, which slides, rather than by `x`.
                                    <text
                                        x="0"
                                        y=label_y
                                        transform=move || format!("translate({} 0)", row().label_x)
                                        text-anchor=move || row().anchor
                                        class="step-label"
                                    >
                                        {label}
                                    </text>
                                </g>
                            }
                        })
                        .collect_view()}
                </svg>
        }
    };
    view! {
        <div
            class="swimlanes"
            class:compact=move || geometry.with(|g| g.compact)
            node_ref=scroller
            data-testid="swimlanes"
            data-lane-width=move || geometry.with(|g| g.lane_width.to_string())
        >
            {body}
        </div>
        // On a phone: every lane at its narrowest, scrolling sideways, or
        // the lanes around the current step.
        <Show when=move || narrow.get()>
            <button
                type="button"
                class="lanes-toggle"
                class:selected=move || all_lanes.get()
                title="Show every lane at its narrowest, the diagram scrolling sideways, rather than the lanes of this step and its neighbours"
                data-testid="lanes-toggle"
                aria-pressed=move || all_lanes.get().to_string()
                on:click=move |_| all_lanes.update(|a| *a = !*a)
            >
                "All lanes"
            </button>
        </Show>
    }
}
