//! "Which flow is mine?": a few questions that lead to a flow.

use crate::session::Session;
use leptos::prelude::*;
use whfb_core::catalog::FlowId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Join {
    AzureAd,
    Hybrid,
    DomainOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustAnswer {
    Key,
    Certificate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInAnswer {
    Managed,
    Federated,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    pub join: Option<Join>,
    pub trust: Option<TrustAnswer>,
    pub sign_in: Option<SignInAnswer>,
    /// AD FS has the synchronous enrollment update (Windows Server 2016 KB4088889 or later).
    pub adfs_updated: Option<bool>,
}

/// The next question to ask, or the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    AskJoin,
    AskTrust,
    AskSignIn,
    AskAdfsUpdate,
    Flow {
        flow: FlowId,
        note: Option<&'static str>,
    },
}

pub fn next(a: Answers) -> Next {
    match a.join {
        None => Next::AskJoin,
        Some(Join::AzureAd) => match a.sign_in {
            None => Next::AskSignIn,
            Some(SignInAnswer::Managed) => Next::Flow { flow: FlowId::CloudManaged, note: None },
            Some(SignInAnswer::Federated) => Next::Flow { flow: FlowId::CloudFederated, note: None },
        },
        Some(Join::DomainOnly) => match a.trust {
            None => Next::AskTrust,
            Some(TrustAnswer::Key) => Next::Flow { flow: FlowId::OnPremKey, note: None },
            Some(TrustAnswer::Certificate) => Next::Flow { flow: FlowId::OnPremCert, note: None },
        },
        Some(Join::Hybrid) => match a.trust {
            None => Next::AskTrust,
            Some(TrustAnswer::Key) => match a.sign_in {
                None => Next::AskSignIn,
                Some(SignInAnswer::Managed) => Next::Flow { flow: FlowId::HybridKeyManaged, note: None },
                Some(SignInAnswer::Federated) => Next::Flow {
                    flow: FlowId::HybridKeyManaged,
                    note: Some("Federated key trust is supported but the documentation gives it no flow of its own: its phase A goes through AD FS as in the federated flows, and the rest matches this one."),
                },
            },
            Some(TrustAnswer::Certificate) => match a.adfs_updated {
                None => Next::AskAdfsUpdate,
                Some(true) => Next::Flow { flow: FlowId::HybridCertSyncFederated, note: None },
                Some(false) => Next::Flow { flow: FlowId::HybridCertAsync, note: None },
            },
        },
    }
}

#[component]
pub fn Guide(session: Session) -> impl IntoView {
    let answers = RwSignal::new(Answers::default());
    let choice = move |label: &'static str, testid: &'static str, set: fn(&mut Answers)| {
        view! {
            <button class="choice" data-testid=testid on:click=move |_| answers.update(set)>{label}</button>
        }
    };
    view! {
        <section class="guide" data-testid="guide" aria-labelledby="guide-title">
            <h2 id="guide-title">"Which flow is mine?"</h2>
            {move || match next(answers.get()) {
                Next::AskJoin => view! {
                    <p>"How are the devices joined?"</p>
                    <div class="choices">
                        {choice("Azure AD joined", "guide-join-aad", |a| a.join = Some(Join::AzureAd))}
                        {choice("Hybrid Azure AD joined", "guide-join-hybrid", |a| a.join = Some(Join::Hybrid))}
                        {choice("Domain joined, no Azure AD", "guide-join-domain", |a| a.join = Some(Join::DomainOnly))}
                    </div>
                }
                .into_any(),
                Next::AskTrust => view! {
                    <p>"How should domain controllers trust the credential?"</p>
                    <div class="choices">
                        {choice("Key trust: the public key itself", "guide-trust-key", |a| a.trust = Some(TrustAnswer::Key))}
                        {choice("Certificate trust: a certificate for the key", "guide-trust-cert", |a| a.trust = Some(TrustAnswer::Certificate))}
                    </div>
                }
                .into_any(),
                Next::AskSignIn => view! {
                    <p>"Who checks passwords when users sign in to Azure AD?"</p>
                    <div class="choices">
                        {choice("Azure AD (managed: hash sync or pass-through)", "guide-managed", |a| a.sign_in = Some(SignInAnswer::Managed))}
                        {choice("AD FS (federated)", "guide-federated", |a| a.sign_in = Some(SignInAnswer::Federated))}
                    </div>
                }
                .into_any(),
                Next::AskAdfsUpdate => view! {
                    <p>"Do the AD FS servers have synchronous certificate enrollment (Windows Server 2016 with KB4088889, or later)?"</p>
                    <div class="choices">
                        {choice("Yes", "guide-adfs-yes", |a| a.adfs_updated = Some(true))}
                        {choice("No, or not sure", "guide-adfs-no", |a| a.adfs_updated = Some(false))}
                    </div>
                }
                .into_any(),
                Next::Flow { flow, note } => view! {
                    <p data-testid="guide-result">
                        "Your flow: "
                        <a href=format!("?flow={}", flow.slug()) data-testid="guide-open" on:click=move |ev| {
                            ev.prevent_default();
                            session.open(flow, 0);
                        }>{flow.info().title}</a>
                    </p>
                    {note.map(|n| view! { <p class="muted">{n}</p> })}
                }
                .into_any(),
            }}
            <button class="link-button" data-testid="guide-reset" on:click=move |_| answers.set(Answers::default())>"Start over"</button>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flow_is_reachable() {
        let mut reached = std::collections::BTreeSet::new();
        let joins = [Join::AzureAd, Join::Hybrid, Join::DomainOnly];
        let trusts = [TrustAnswer::Key, TrustAnswer::Certificate];
        let sign_ins = [SignInAnswer::Managed, SignInAnswer::Federated];
        for join in joins {
            for trust in trusts {
                for sign_in in sign_ins {
                    for adfs in [true, false] {
                        let a = Answers {
                            join: Some(join),
                            trust: Some(trust),
                            sign_in: Some(sign_in),
                            adfs_updated: Some(adfs),
                        };
                        if let Next::Flow { flow, .. } = next(a) {
                            reached.insert(flow);
                        }
                    }
                }
            }
        }
        assert_eq!(reached.len(), 7);
    }

    #[test]
    fn questions_come_in_order() {
        let mut a = Answers::default();
        assert_eq!(next(a), Next::AskJoin);
        a.join = Some(Join::Hybrid);
        assert_eq!(next(a), Next::AskTrust);
        a.trust = Some(TrustAnswer::Certificate);
        assert_eq!(next(a), Next::AskAdfsUpdate);
        a.adfs_updated = Some(false);
        assert_eq!(
            next(a),
            Next::Flow {
                flow: FlowId::HybridCertAsync,
                note: None
            }
        );
    }
}
