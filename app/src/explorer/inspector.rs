//! The inspector for the step shown: its checks, who holds what, and each
//! artifact as a decoded tree, a hex view linked to the tree, and its text
//! form, with copy and download — and, for bytes still on the wire, the
//! tamper editor. Every name, offset and length comes from the core's
//! parsers reading the live bytes.

use super::device_state::DeviceState;
use super::holdings::Holdings;
use super::tamper::{EditTarget, TamperEditor};
use crate::download::save_file;
use crate::protocol::Edit;
use crate::session::Session;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use whfb_model::artifact::{Artifact, Field, Outcome};
use whfb_model::event::{Check, Event, Holding, ReportSection, StepStatus};
use whfb_model::files;

#[component]
pub fn Inspector(session: Session) -> impl IntoView {
    let selected = RwSignal::new(0usize);
    // A new step starts on its first artifact, or on the one a followed
    // key was asked to be shown in.
    Effect::new(move |_| {
        let step = session.playback.with(|p| p.current);
        let focused = session.focus.with(|f| {
            f.as_ref()
                .filter(|f| f.step == step)
                .map(|f| f.artifact.clone())
        });
        let index = focused.and_then(|id| {
            session.events.with_untracked(|ev| {
                ev.get(step)
                    .and_then(|e| all_artifacts(e).iter().position(|(_, a)| a.id == id))
            })
        });
        selected.set(index.unwrap_or(0));
    });
    let event = Memo::new(move |_| session.current_event());
    view! {
        <section class="inspector" data-testid="inspector" aria-label="Inspector">
            {move || match event.get() {
                None => view! { <p class="muted">"The inspector shows this step's checks, artifacts and who holds what once it has run."</p> }.into_any(),
                Some(e) => {
                    let before = e
                        .index
                        .checked_sub(1)
                        .and_then(|i| session.events.with_untracked(|ev| ev.get(i).map(|p| (p.holdings.clone(), p.device_state.clone()))));
                    let (previous, previous_state) = before.unzip();
                    view! { <StepDetails session event=e previous previous_state selected /> }.into_any()
                }
            }}
        </section>
    }
}

/// Every artifact of a step, TPM exchanges included, in display order.
fn all_artifacts(e: &Event) -> Vec<(String, Artifact)> {
    let mut out: Vec<(String, Artifact)> = e
        .artifacts
        .iter()
        .map(|a| (a.title.clone(), a.clone()))
        .collect();
    for x in &e.tpm {
        out.push((format!("{} · command", x.name), x.command.clone()));
        out.push((
            format!("{} · response ({})", x.name, x.result),
            x.response.clone(),
        ));
    }
    out
}

#[component]
fn StepDetails(
    session: Session,
    event: Event,
    previous: Option<Vec<Holding>>,
    previous_state: Option<Vec<ReportSection>>,
    selected: RwSignal<usize>,
) -> impl IntoView {
    let artifacts = StoredValue::new(all_artifacts(&event));
    let count = artifacts.with_value(Vec::len);
    let checks = event.checks.clone();
    let total = session.playback.with_untracked(|p| p.total);
    // Edits meet later steps: none after the last one, or after a failure.
    let editable = event.index + 1 < total && !matches!(event.status, StepStatus::Failed { .. });
    let targets = StoredValue::new(if editable {
        event.tamperable.clone()
    } else {
        Vec::new()
    });
    let step = event.index;
    view! {
        <div class="inspector-grid">
            <div class="inspector-side">
                <section class="checks" data-testid="checks">
                    <h3>{format!("Checks ({})", checks.len())}</h3>
                    {if checks.is_empty() {
                        view! { <p class="muted">"Nothing is verified at this step."</p> }.into_any()
                    } else {
                        view! { <ul>{checks.into_iter().map(|c| view! { <CheckRow check=c /> }).collect_view()}</ul> }.into_any()
                    }}
                </section>
                <DeviceState sections=event.device_state.clone() previous=previous_state />
                <Holdings holdings=event.holdings.clone() previous />
            </div>
            <section class="artifacts" data-testid="artifacts">
                <h3>{format!("Artifacts ({count})")}</h3>
                {(count == 0).then(|| view! { <p class="muted">"Nothing travels or is produced at this step."</p> })}
                <FollowPanel session />
                <div class="artifact-tabs" role="tablist">
                    {artifacts
                        .with_value(|a| a.iter().map(|(t, art)| (t.clone(), art.id.clone())).collect::<Vec<_>>())
                        .into_iter()
                        .enumerate()
                        .map(|(i, (title, id))| {
                            let on_wire = targets.with_value(|t| t.iter().any(|t| t.artifact == id));
                            view! {
                                <button
                                    role="tab"
                                    data-testid="artifact-tab"
                                    data-artifact=id
                                    data-editable=on_wire.to_string()
                                    class:selected=move || selected.get() == i
                                    aria-selected=move || (selected.get() == i).to_string()
                                    on:click=move |_| selected.set(i)
                                >
                                    {title}
                                    {on_wire.then(|| view! { <span class="wire-mark" title="still on the wire: can be edited">" ✎"</span> })}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
                {move || {
                    let i = selected.get();
                    artifacts.with_value(|a| a.get(i).cloned()).map(|(_, art)| {
                        let edit = targets
                            .with_value(|t| t.iter().find(|t| t.artifact == art.id).cloned())
                            .map(|target| EditTarget { session, step, target });
                        let edited = session.edits.with(|edits| {
                            edits.iter().any(|e| matches!(e, Edit::Tamper { after_step, artifact, .. } if *after_step == step && *artifact == art.id))
                        });
                        let highlight = session.focus.with(|f| {
                            f.as_ref()
                                .filter(|f| f.step == step && f.artifact == art.id)
                                .map(|f| (f.offset, f.len))
                        });
                        view! { <ArtifactView artifact=art edit edited session highlight /> }
                    })
                }}
            </section>
        </div>
    }
}

/// Where the followed bytes appear in the steps run so far, each a link
/// to the step, the artifact and the byte range.
#[component]
fn FollowPanel(session: Session) -> impl IntoView {
    move || {
        let query = session.followed.get()?;
        let needle = whfb_model::follow::needle(&query.bytes).to_vec();
        let found = session
            .events
            .with(|ev| whfb_model::follow::occurrences(ev, &needle));
        let count = found.len();
        let steps = found
            .iter()
            .map(|o| o.step)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        Some(view! {
            <section class="follow-panel" data-testid="follow-panel" aria-label="Where these bytes appear">
                <header>
                    <h4>{format!("Where these {} bytes appear", needle.len())}</h4>
                    <button data-testid="follow-close" on:click=move |_| { session.followed.set(None); session.focus.set(None); }>"Close"</button>
                </header>
                <p class="muted">{format!("{}: {count} places in {steps} steps of the run so far.", query.what)}</p>
                <ul>
                    {found.into_iter().map(|o| {
                        let focus = crate::session::Focus { step: o.step, artifact: o.artifact.clone(), offset: o.offset, len: o.len };
                        let focus_now = focus.clone();
                        let here = move || session.focus.with(|f| f.as_ref() == Some(&focus_now));
                        view! {
                            <li>
                                <button
                                    class="follow-hit"
                                    class:current=here
                                    data-testid="follow-hit"
                                    data-artifact=o.artifact.clone()
                                    data-step=o.step
                                    on:click=move |_| {
                                        let step = focus.step;
                                        session.focus.set(Some(focus.clone()));
                                        session.playback.update(|p| p.jump(step));
                                    }
                                >
                                    <span class="step-no">{format!("Step {}", o.step + 1)}</span>
                                    {format!(" {} — {}, bytes {}..{}, {}", o.step_title, o.artifact_title, o.offset, o.offset + o.len, o.carried.describe())}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        })
    }
}

#[component]
fn CheckRow(check: Check) -> impl IntoView {
    let (mark, class, reason) = match (&check.outcome, check.expect_refusal) {
        (Outcome::Pass, _) => ("✓", "pass", None),
        (Outcome::Fail { reason }, true) => (
            "⊘",
            "refused",
            Some(format!("Refused, as this step shows: {reason}")),
        ),
        (Outcome::Fail { reason }, false) => ("✗", "fail", Some(reason.clone())),
    };
    view! {
        <li class=format!("check {class}") data-testid="check" data-outcome=class>
            <span class="mark" aria-hidden="true">{mark}</span>
            <div>
                <p class="title"><strong data-testid="check-title">{check.title}</strong><span class="who">{format!(" · {}", check.actor.name())}</span></p>
                <p class="compared">{check.compared}</p>
                {reason.map(|r| view! { <p class="reason" data-testid="check-reason">{r}</p> })}
                {(!check.rule.is_empty()).then(|| view! { <p class="rule">{check.rule}</p> })}
            </div>
        </li>
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Decoded,
    Hex,
    Text,
}

/// One artifact: decoded tree, hex view and text form, with copy and
/// download; and, for bytes still on the wire, an editor to tamper with them.
#[component]
pub fn ArtifactView(
    artifact: Artifact,
    /// Set when the bytes are still on the wire for a later step.
    #[prop(optional_no_strip)]
    edit: Option<EditTarget>,
    /// An edit of these bytes is in force in this run.
    #[prop(optional)]
    edited: bool,
    /// A run's artifact: its fields can be followed through the run.
    #[prop(optional)]
    session: Option<Session>,
    /// Bytes to mark from the start (a followed key found here).
    #[prop(optional_no_strip)]
    highlight: Option<(usize, usize)>,
) -> impl IntoView {
    let view_mode = RwSignal::new(View::Decoded);
    let hover = RwSignal::new(None::<(usize, usize)>);
    let title = artifact.title.clone();
    let bytes_for_follow = StoredValue::new(artifact.bytes.clone());
    let follow = session.map(|session| {
        Callback::new(move |(name, offset, len): (String, usize, usize)| {
            let bytes =
                bytes_for_follow.with_value(|b| b.get(offset..offset + len).map(<[u8]>::to_vec));
            if let Some(bytes) = bytes {
                session.focus.set(None);
                session.followed.set(Some(crate::session::FollowQuery {
                    what: format!("{name} of {title}"),
                    bytes,
                }));
                // The list opens above the artifact: bring it into view.
                request_animation_frame(|| {
                    let panel = web_sys::window().and_then(|w| w.document()).and_then(|d| {
                        d.query_selector("[data-testid=\"follow-panel\"]")
                            .ok()
                            .flatten()
                    });
                    if let Some(panel) = panel {
                        panel.scroll_into_view_with_bool(true);
                    }
                });
            }
        })
    });
    let editing = RwSignal::new(false);
    let art = StoredValue::new(artifact.clone());
    let (text_label, text_form) = files::text_form(&artifact);
    let text_form = StoredValue::new(text_form);
    let can_edit = edit.is_some();
    let edit = StoredValue::new(edit);
    view! {
        <article class="artifact" data-testid="artifact" data-kind=format!("{:?}", artifact.kind) data-artifact=artifact.id.clone()>
            <header>
                <h4 class="artifact-title" data-testid="artifact-title">{artifact.title.clone()}</h4>
                <span class="tag">{format!("{:?} · {} bytes", artifact.kind, artifact.bytes.len())}</span>
                {artifact.modelled.clone().map(|m| view! { <span class="tag modelled" data-testid="modelled" title=m.clone()>{format!("modelled: {m}")}</span> })}
                {edited.then(|| view! { <span class="tag edited" data-testid="edited-tag">"edited on the wire after this step"</span> })}
            </header>
            // Three toggle buttons for the view (a group, not a tab list: the
            // row also holds the editor's, copy and download buttons).
            <div class="view-switch" role="group" aria-label="View and actions">
                <button data-testid="view-decoded" class:selected=move || view_mode.get() == View::Decoded aria-pressed=move || (view_mode.get() == View::Decoded).to_string() on:click=move |_| view_mode.set(View::Decoded)>"Decoded"</button>
                <button data-testid="view-hex" class:selected=move || view_mode.get() == View::Hex aria-pressed=move || (view_mode.get() == View::Hex).to_string() on:click=move |_| view_mode.set(View::Hex)>"Hex"</button>
                <button data-testid="view-text" class:selected=move || view_mode.get() == View::Text aria-pressed=move || (view_mode.get() == View::Text).to_string() on:click=move |_| view_mode.set(View::Text)>{text_label}</button>
                <span class="spacer"></span>
                {can_edit.then(|| view! {
                    <button
                        class="tamper-toggle"
                        data-testid="tamper-open"
                        class:selected=move || editing.get()
                        aria-expanded=move || editing.get().to_string()
                        on:click=move |_| editing.update(|e| *e = !*e)
                    >
                        "Tamper…"
                    </button>
                })}
                <button data-testid="copy" on:click=move |_| copy_text(&text_form.get_value())>"Copy"</button>
                <button data-testid="download" on:click=move |_| art.with_value(download)>"Download"</button>
            </div>
            {move || {
                let target = edit.get_value().filter(|_| editing.get())?;
                Some(view! { <TamperEditor artifact=art.get_value() edit=target /> })
            }}
            {move || match view_mode.get() {
                View::Decoded => view! {
                    <div class="decoded" data-testid="decoded">
                        {art.with_value(|a| a.unreadable.clone()).map(|why| view! {
                            <p class="unreadable" data-testid="unreadable" role="status">
                                {format!("These bytes do not parse as a {}: {why}", art.with_value(|a| a.kind.name()))}
                            </p>
                        })}
                        <FieldTree fields=art.with_value(|a| a.fields.clone()) hover follow />
                    </div>
                    <HexView bytes=art.with_value(|a| a.bytes.clone()) fields=art.with_value(|a| a.fields.clone()) hover pinned=highlight />
                }
                .into_any(),
                View::Hex => view! { <HexView bytes=art.with_value(|a| a.bytes.clone()) fields=art.with_value(|a| a.fields.clone()) hover pinned=highlight /> }.into_any(),
                View::Text => view! { <pre class="text-form" data-testid="text-form">{text_form.get_value()}</pre> }.into_any(),
            }}
        </article>
    }
}

#[component]
fn FieldTree(
    fields: Vec<Field>,
    hover: RwSignal<Option<(usize, usize)>>,
    follow: Option<Callback<(String, usize, usize)>>,
) -> impl IntoView {
    if fields.is_empty() {
        return view! { <p class="muted">"No decoded view for these bytes."</p> }.into_any();
    }
    view! { <ul class="tree">{fields.into_iter().map(|f| field_node(f, hover, follow)).collect_view()}</ul> }.into_any()
}

fn field_node(
    field: Field,
    hover: RwSignal<Option<(usize, usize)>>,
    follow: Option<Callback<(String, usize, usize)>>,
) -> AnyView {
    let range = (field.offset, field.len);
    let has_children = !field.children.is_empty();
    let follow_name = field.name.clone();
    let children = field.children;
    let name = field.name.clone();
    view! {
        <li
            class="field"
            data-testid="field"
            data-name=name
            data-offset=field.offset
            data-len=field.len
            class:hl=move || hover.get() == Some(range)
            on:mouseenter=move |ev| {
                ev.stop_propagation();
                hover.set(Some(range));
            }
            on:mouseleave=move |_| hover.set(None)
        >
            <div class="field-line" title=field.spec.clone()>
                <span class="name">{field.name}</span>
                <span class="value">{field.value}</span>
                <span class="range">{format!("@{} +{}", field.offset, field.len)}</span>
                {follow.filter(|_| field.len >= whfb_model::follow::MIN_LEN).map(|follow| {
                    let name = follow_name.clone();
                    let follow_name = follow_name.clone();
                    view! {
                        <button
                            class="follow"
                            data-testid="follow"
                            title="Where else in the run these bytes appear"
                            aria-label=format!("Follow {} through the run", follow_name)
                            on:click=move |ev| {
                                ev.stop_propagation();
                                follow.run((name.clone(), range.0, range.1));
                            }
                        >
                            "Follow"
                        </button>
                    }
                })}
            </div>
            {(!field.note.is_empty()).then(|| view! { <div class="note">{field.note}</div> })}
            {has_children.then(|| view! { <ul>{children.into_iter().map(|c| field_node(c, hover, follow)).collect_view()}</ul> })}
        </li>
    }
    .into_any()
}

/// The deepest field containing byte `offset`.
fn field_at(fields: &[Field], offset: usize) -> Option<(usize, usize)> {
    let f = fields.iter().find(|f| f.range().contains(&offset))?;
    field_at(&f.children, offset).or(Some((f.offset, f.len)))
}

/// The bytes as hex rows with their ASCII, as one piece of HTML: a
/// certificate has a couple of thousand bytes, and building a node for each
/// from WebAssembly would pause the page on every step.
fn hex_html(bytes: &[u8]) -> String {
    const PER_ROW: usize = 16;
    let mut html = String::with_capacity(bytes.len() * 40);
    for (i, row) in bytes.chunks(PER_ROW).enumerate() {
        let start = i * PER_ROW;
        html.push_str(&format!(
            "<div class=\"hex-row\"><span class=\"hex-offset\">{start:06x}</span>"
        ));
        for (j, b) in row.iter().enumerate() {
            html.push_str(&format!(
                "<span class=\"byte\" data-offset=\"{}\">{b:02x}</span>",
                start + j
            ));
        }
        html.push_str("<span class=\"hex-ascii\">");
        for b in row {
            match b {
                b'<' => html.push_str("&lt;"),
                b'>' => html.push_str("&gt;"),
                b'&' => html.push_str("&amp;"),
                b if b.is_ascii_graphic() => html.push(char::from(*b)),
                _ => html.push('.'),
            }
        }
        html.push_str("</span></div>");
    }
    html
}

#[component]
fn HexView(
    bytes: Vec<u8>,
    fields: Vec<Field>,
    hover: RwSignal<Option<(usize, usize)>>,
    /// Bytes marked for as long as the view shows (a followed key).
    pinned: Option<(usize, usize)>,
) -> impl IntoView {
    let fields = StoredValue::new(fields);
    let container = NodeRef::<leptos::html::Div>::new();
    // The followed bytes, marked once the rows exist, and brought into view.
    Effect::new(move |_| {
        if let (Some(el), Some(range)) = (container.get(), pinned) {
            if let Some(first) = mark_bytes(&el, range, "followed", true) {
                first.scroll_into_view_with_bool(false);
            }
        }
    });
    // One listener for every byte: `mouseover` bubbles to the view.
    let over = move |ev: leptos::ev::MouseEvent| {
        let offset = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .filter(|el| el.class_list().contains("byte"))
            .and_then(|el| el.get_attribute("data-offset"))
            .and_then(|v| v.parse::<usize>().ok());
        if let Some(offset) = offset {
            let hit = fields.with_value(|f| field_at(f, offset));
            if hover.get_untracked() != hit {
                hover.set(hit);
            }
        }
    };
    // Highlights the bytes of the hovered field, and clears the last ones.
    Effect::new(move |last: Option<Option<(usize, usize)>>| {
        let now = hover.get();
        if let Some(el) = container.get() {
            if let Some(range) = last.flatten() {
                mark_bytes(&el, range, "hl", false);
            }
            if let Some(range) = now {
                mark_bytes(&el, range, "hl", true);
            }
        }
        now
    });
    view! {
        <div
            class="hex"
            data-testid="hex"
            // A scrolling region: reachable and scrollable with the keyboard.
            tabindex="0"
            role="region"
            aria-label="Bytes in hexadecimal"
            node_ref=container
            on:mouseover=over
            on:mouseleave=move |_| hover.set(None)
            inner_html=hex_html(&bytes)
        ></div>
    }
}

/// Sets or clears `class` on the byte spans of `(offset, len)` in a hex
/// view; gives back the first span.
fn mark_bytes(
    view: &web_sys::Element,
    (offset, len): (usize, usize),
    class: &str,
    on: bool,
) -> Option<web_sys::Element> {
    let spans = view.query_selector_all(".byte").ok()?;
    let mut first = None;
    for i in offset..offset.saturating_add(len) {
        let Some(span) = u32::try_from(i)
            .ok()
            .and_then(|i| spans.item(i))
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            break;
        };
        let _ = span.class_list().toggle_with_force(class, on);
        first.get_or_insert(span);
    }
    first
}

fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// Offers the artifact as a file, in the form standard tools open.
fn download(artifact: &Artifact) {
    save_file(
        &files::saved_name(artifact),
        &files::file_bytes(artifact),
        "application/octet-stream",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_rows_carry_each_byte_with_its_offset() {
        let html = hex_html(b"<a&b>\x00");
        assert!(html.starts_with("<div class=\"hex-row\"><span class=\"hex-offset\">000000</span>"));
        assert!(html.contains("<span class=\"byte\" data-offset=\"5\">00</span>"));
        assert!(html.ends_with("<span class=\"hex-ascii\">&lt;a&amp;b&gt;.</span></div>"));
        assert_eq!(hex_html(&[0u8; 17]).matches("hex-row").count(), 2);
    }

    #[test]
    fn hovering_a_byte_finds_the_deepest_field() {
        let tree = vec![Field::new("outer", "", "", "", 0, 10).with_children(vec![
            Field::new("a", "", "", "", 0, 4),
            Field::new("b", "", "", "", 4, 6)
                .with_children(vec![Field::new("b1", "", "", "", 5, 2)]),
        ])];
        assert_eq!(field_at(&tree, 1), Some((0, 4)));
        assert_eq!(field_at(&tree, 6), Some((5, 2)));
        assert_eq!(field_at(&tree, 9), Some((4, 6)));
        assert_eq!(field_at(&tree, 10), None);
    }
}
