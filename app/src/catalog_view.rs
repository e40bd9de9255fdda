//! The catalog of provisioning flows, grouped by deployment.

use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::{phase_span, Deployment};
use whfb_model::flows::FlowId;

/// Every flow of the core's catalog, grouped by how the device is joined.
#[component]
pub fn Catalog(session: Session) -> impl IntoView {
    view! {
        <section class="catalog" data-testid="catalog" aria-labelledby="catalog-title">
            <div class="catalog-intro">
                <h1 id="catalog-title">"Provisioning flows"</h1>
                <p>
                    "Pick a flow to watch a Windows Hello for Business credential being made: "
                    "every token, key, request and certificate on the way is computed in this page, "
                    "for real, and can be checked with standard tools."
                </p>
                <p class="names-note" data-testid="names-note">
                    "Names: Microsoft Entra ID was called Azure Active Directory (Azure AD) until 2023, "
                    "Microsoft Entra Connect was Azure AD Connect, and a Microsoft Entra hybrid joined device "
                    "was hybrid Azure AD joined. The documentation these flows follow uses both."
                </p>
            </div>
            {Deployment::ALL
                .into_iter()
                .map(|deployment| view! { <DeploymentGroup deployment session /> })
                .collect_view()}
        </section>
    }
}

#[component]
fn DeploymentGroup(deployment: Deployment, session: Session) -> impl IntoView {
    let flows: Vec<FlowId> = FlowId::all()
        .filter(|f| f.info().deployment == deployment)
        .collect();
    view! {
        <section class="catalog-group" data-testid="catalog-group" data-deployment=deployment.name()>
            <h2>
                {deployment.name()}
                <span class="join">{deployment.join()}</span>
            </h2>
            <ul class="flow-list">
                {flows.into_iter().map(|flow| view! { <FlowCard flow session /> }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn FlowCard(flow: FlowId, session: Session) -> impl IntoView {
    let id = flow;
    let flow = id.info();
    let href = format!("?flow={}", flow.slug);
    view! {
        <li class="flow-card" data-testid="flow-card" data-flow=flow.slug>
            <h3 class="flow-title" data-testid="flow-title">
                <a
                    href=href
                    data-testid="open-flow"
                    on:click=move |ev| {
                        // Plain clicks open in place; modified clicks keep their meaning.
                        if !(ev.ctrl_key() || ev.meta_key() || ev.shift_key()) {
                            ev.prevent_default();
                            session.open(id, 0);
                        }
                    }
                >
                    {flow.title}
                </a>
            </h3>
            <div class="flow-tags">
                <span class="tag trust" data-testid="flow-trust">{flow.trust.name()}</span>
                <span class="tag sign-in" data-testid="flow-sign-in">{flow.sign_in.name()}</span>
                <span class="tag phases" data-testid="flow-phases" title="Phases">
                    {format!("Phases {}", phase_span(&whfb_model::script::script(flow.id()).phase_list()))}
                </span>
            </div>
            <p class="flow-summary" data-testid="flow-summary">{flow.summary}</p>
        </li>
    }
}
