//! Who holds what once the step has run: per actor, the secrets, keys,
//! tokens and records the core lists. Private keys are shown by name and
//! place only: those in the TPM never leave it, and the page never has them.

use leptos::prelude::*;
use whfb_model::catalog::Actor;
use whfb_model::event::{Holding, HoldingKind};

fn kind_label(kind: HoldingKind) -> &'static str {
    match kind {
        HoldingKind::Secret => "secret",
        HoldingKind::PrivateKey => "private key",
        HoldingKind::PublicKey => "public key",
        HoldingKind::Token => "token",
        HoldingKind::Certificate => "certificate",
        HoldingKind::Record => "record",
    }
}

fn kind_slug(kind: HoldingKind) -> &'static str {
    match kind {
        HoldingKind::Secret => "secret",
        HoldingKind::PrivateKey => "private-key",
        HoldingKind::PublicKey => "public-key",
        HoldingKind::Token => "token",
        HoldingKind::Certificate => "certificate",
        HoldingKind::Record => "record",
    }
}

/// The holdings grouped by actor, actors in the order they first appear.
fn by_actor(holdings: &[Holding]) -> Vec<(Actor, Vec<Holding>)> {
    let mut groups: Vec<(Actor, Vec<Holding>)> = Vec::new();
    for h in holdings {
        match groups.iter_mut().find(|(a, _)| *a == h.actor) {
            Some((_, items)) => items.push(h.clone()),
            None => groups.push((h.actor, vec![h.clone()])),
        }
    }
    groups
}

fn holding_row(h: Holding, previous: Option<&[Holding]>) -> impl IntoView {
    // New at this step, or changed by it.
    let new = previous.is_some_and(|p| !p.contains(&h));
    let private = h.kind == HoldingKind::PrivateKey;
    let place = if h.actor == Actor::Tpm {
        "held inside the TPM: never leaves it, never shown".to_string()
    } else {
        format!("held by {}: never shown", h.actor.name())
    };
    view! {
        <li class="holding" class:new=new data-testid="holding" data-kind=kind_slug(h.kind) data-new=new.to_string()>
            <p class="holding-line">
                <span class=format!("kind {}", kind_slug(h.kind))>{kind_label(h.kind)}</span>
                <strong data-testid="holding-item">{h.item}</strong>
                {new.then(|| view! { <span class="tag new-tag">"changed at this step"</span> })}
            </p>
            <p class="holding-detail" data-testid="holding-detail">{h.detail}</p>
            {private.then(|| view! { <p class="holding-place">{place}</p> })}
        </li>
    }
}

#[component]
pub fn Holdings(holdings: Vec<Holding>, previous: Option<Vec<Holding>>) -> impl IntoView {
    let groups = by_actor(&holdings);
    view! {
        <section class="holdings" data-testid="holdings">
            <h3>"Who holds what"</h3>
            {groups.is_empty().then(|| view! { <p class="muted">"Nothing is recorded for this step."</p> })}
            {groups
                .into_iter()
                .map(|(actor, items)| {
                    let changes = items
                        .iter()
                        .filter(|h| previous.as_ref().is_some_and(|p| !p.contains(h)))
                        .count();
                    // Open where the step changed something; the rest stay one line.
                    let open = changes > 0 || previous.is_none();
                    let count = items.len();
                    let open = RwSignal::new(open);
                    let items = StoredValue::new(items);
                    let previous = previous.clone();
                    view! {
                        <details
                            class="holder"
                            data-testid="holder"
                            data-actor=actor.slug()
                            open=open.get_untracked()
                            on:toggle=move |ev| {
                                use wasm_bindgen::JsCast;
                                if let Some(d) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                                    open.set(d.open());
                                }
                            }
                        >
                            <summary data-testid="holder-summary">
                                <span class="holder-name">{actor.name()}</span>
                                <span class="holder-count">
                                    {match changes {
                                        0 => format!("{count} item(s)"),
                                        n => format!("{count} item(s), {n} changed at this step"),
                                    }}
                                </span>
                            </summary>
                            // Closed groups are one line; their items are made when opened.
                            {move || open.get().then(|| view! {
                                <ul>
                                    {items.get_value()
                                        .into_iter()
                                        .map(|h| holding_row(h, previous.as_deref()))
                                        .collect_view()}
                                </ul>
                            })}
                        </details>
                    }
                })
                .collect_view()}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holdings_group_by_actor_in_order_of_appearance() {
        let h = |actor, item: &str| Holding {
            actor,
            kind: HoldingKind::Record,
            item: item.into(),
            detail: String::new(),
        };
        let groups = by_actor(&[h(Actor::User, "a"), h(Actor::Tpm, "b"), h(Actor::User, "c")]);
        let shape: Vec<(Actor, usize)> = groups.iter().map(|(a, i)| (*a, i.len())).collect();
        assert_eq!(shape, vec![(Actor::User, 2), (Actor::Tpm, 1)]);
    }
}
