//! Tampering, as a person in the middle would: edit an artifact that is
//! still on the wire and send it on, keeping its signature or having its
//! sender sign it again. The worker applies the edit through the engine and
//! the later steps' real parsers and checks meet it; this page only says
//! which check did, or — honestly — that none did.

use crate::edit::{self, EditMode};
use crate::protocol::{Edit, Resign};
use crate::session::{EditAnswer, Session};
use leptos::prelude::*;
use whfb_model::artifact::Artifact;
use whfb_model::edits::Verdict;
use whfb_model::event::TamperTarget;

/// An artifact the person may edit: on the wire after `step`.
#[derive(Clone, Debug)]
pub struct EditTarget {
    pub session: Session,
    pub step: usize,
    pub target: TamperTarget,
}

#[component]
pub fn TamperEditor(artifact: Artifact, edit: EditTarget) -> impl IntoView {
    let mode = EditMode::of(artifact.kind);
    let EditTarget {
        session,
        step,
        target,
    } = edit;
    let original = StoredValue::new(artifact.bytes.clone());
    let id = StoredValue::new(artifact.id.clone());
    let first = edit::draft(mode, &artifact.bytes);
    let text = RwSignal::new(first.clone().unwrap_or_default());
    let error = RwSignal::new(first.err());
    let flip_at = RwSignal::new(String::new());
    let sent = RwSignal::new(false);
    let send = move |resign: Resign| match original
        .with_value(|o| edit::bytes(mode, o, &text.get_untracked()))
    {
        Ok(bytes) => {
            error.set(None);
            sent.set(true);
            session.tamper(step, id.get_value(), bytes, resign);
        }
        Err(why) => error.set(Some(why)),
    };
    let flip = move || {
        let offset = flip_at.get_untracked();
        match offset.trim().parse::<usize>() {
            Ok(n) => match edit::flip_byte(&text.get_untracked(), n) {
                Ok(t) => {
                    error.set(None);
                    text.set(t);
                }
                Err(why) => error.set(Some(why)),
            },
            Err(_) => error.set(Some(format!(
                "\"{offset}\" is not an offset: give the byte's position, counting from 0"
            ))),
        }
    };
    let resign = target.resign.clone();
    let can_resign = resign.is_ok();
    let attacker = target.attacker.clone();
    let can_attack = attacker.is_ok();
    let mode_slug = match mode {
        EditMode::JwtClaims => "jwt",
        EditMode::Json => "json",
        EditMode::Text => "text",
        EditMode::Hex => "hex",
    };

    view! {
        <div class="tamper" data-testid="tamper-editor" data-mode=mode_slug>
            <p class="tamper-intro">
                "Change what travels, then send it on. The next steps parse and check whatever you send, exactly as they would the original."
            </p>
            <label class="tamper-field">
                <span>{mode.label()}</span>
                <textarea
                    data-testid="tamper-text"
                    rows="12"
                    spellcheck="false"
                    autocomplete="off"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                ></textarea>
            </label>
            {(mode == EditMode::Hex).then(|| view! {
                <div class="flip">
                    <label>
                        <span>"Flip every bit of the byte at offset"</span>
                        <input
                            type="number"
                            min="0"
                            inputmode="numeric"
                            data-testid="tamper-flip-offset"
                            prop:value=move || flip_at.get()
                            on:input=move |ev| flip_at.set(event_target_value(&ev))
                        />
                    </label>
                    <button data-testid="tamper-flip" on:click=move |_| flip()>"Flip"</button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="tamper-error" role="alert" data-testid="tamper-error">{format!("Cannot send this: {e}.")}</p> })}
            <div class="tamper-actions">
                <button data-testid="tamper-keep" on:click=move |_| send(Resign::Keep)>
                    "Send with the original signature"
                </button>
                <button
                    data-testid="tamper-resign"
                    disabled=!can_resign
                    on:click=move |_| send(Resign::Sender)
                >
                    "Re-sign with the sender's key and send"
                </button>
                <button
                    data-testid="tamper-attacker"
                    disabled=!can_attack
                    title=attacker.clone().err().unwrap_or_default()
                    on:click=move |_| send(Resign::Attacker)
                >
                    "Sign with an attacker's own key and send"
                </button>
                <button
                    class="link-button"
                    data-testid="tamper-reset"
                    on:click=move |_| {
                        error.set(None);
                        text.set(original.with_value(|o| edit::draft(mode, o)).unwrap_or_default());
                    }
                >
                    "Start again from the original"
                </button>
            </div>
            {match resign {
                Ok(who) => view! {
                    <p class="muted resign-who" data-testid="resign-who">
                        {format!("Re-signing uses {who}: what an insider holding that key could do.")}
                    </p>
                }
                .into_any(),
                Err(why) => view! {
                    <p class="resign-refused" data-testid="resign-refused">
                        <strong>"No re-signing here: "</strong>
                        {why}
                    </p>
                }
                .into_any(),
            }}
            {move || {
                let result = match session.edit_result.get() {
                    Some(EditAnswer::Tamper(r)) if sent.get() => Some(r),
                    _ => None,
                };
                result.map(|r| match r {
                    Ok(done) => view! { <p class="tamper-done" role="status" data-testid="tamper-done">{format!("Sent: {done}.")}</p> }.into_any(),
                    Err(why) => view! { <p class="tamper-error" role="alert" data-testid="tamper-refused">{format!("Refused: {why}.")}</p> }.into_any(),
                })
            }}
        </div>
    }
}

/// The artifact's title in this run, for an edit's summary.
fn title_of(session: Session, artifact: &str) -> String {
    session.events.with_untracked(|events| {
        events
            .iter()
            .flat_map(|e| e.artifacts.iter())
            .find(|a| a.id == artifact)
            .map_or_else(|| artifact.to_string(), |a| a.title.clone())
    })
}

fn describe(session: Session, edit: &Edit) -> String {
    let title = match edit {
        Edit::Tamper { artifact, .. } => title_of(session, artifact),
        Edit::Advance { .. } => String::new(),
    };
    edit.describe(&title)
}

/// The edits in force and what became of them.
#[component]
pub fn EditsBanner(session: Session) -> impl IntoView {
    move || {
        let edits = session.edits.get();
        if edits.is_empty() {
            return ().into_any();
        }
        let total = session.playback.with(|p| p.total);
        let ran = session.events.with(Vec::len);
        let halt = session.halt.get();
        let verdict = match whfb_model::edits::verdict(&edits, halt.as_ref(), ran >= total) {
            Verdict::Caught { step, text } => {
                view! {
                    <p class="verdict caught" data-testid="edit-verdict" data-verdict="caught">
                        {text}
                        " "
                        <button class="link-button" data-testid="show-halt" on:click=move |_| session.playback.update(|p| p.jump(step))>
                            "Show that step"
                        </button>
                    </p>
                }
                .into_any()
            }
            Verdict::Undetected { text } => view! {
                <p class="verdict undetected" data-testid="edit-verdict" data-verdict="undetected">{text}</p>
            }
            .into_any(),
            Verdict::Pending if session.following() => view! {
                <p class="verdict pending" data-testid="edit-verdict" data-verdict="pending">
                    "Running the rest of the flow to see which check meets the change…"
                </p>
            }
            .into_any(),
            Verdict::Pending => view! {
                <p class="verdict pending" data-testid="edit-verdict" data-verdict="open">
                    "Step on to see which check meets the change."
                </p>
            }
            .into_any(),
        };
        view! {
            <div class="edits" data-testid="edits" data-version=session.edit_version.get().to_string()>
                <p class="edits-title">"This run was changed by hand:"</p>
                <ul>
                    {edits.iter().map(|e| view! { <li data-testid="edit">{describe(session, e)}</li> }).collect_view()}
                </ul>
                {verdict}
                <button data-testid="undo-edits" on:click=move |_| session.reopen()>"Undo the changes"</button>
            </div>
        }
        .into_any()
    }
}
