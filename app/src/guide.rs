//! "Which flow is mine?": a few questions that lead to a flow.
//!
//! The guide knows no flow by name: it filters the core's registry by the
//! answers so far and asks the next question only where the remaining flows
//! differ on it, so a flow added to the registry is found without a change
//! here.

use crate::session::Session;
use leptos::prelude::*;
use whfb_model::catalog::{Deployment, SignIn, Trust};
use whfb_model::flows::{Feature, FlowId};

/// What the person has said so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Answers {
    pub join: Option<Deployment>,
    pub trust: Option<Trust>,
    pub sign_in: Option<SignIn>,
    /// AD FS has the synchronous enrollment update (Windows Server 2016
    /// KB4088889 or later), i.e. registration returns a key receipt.
    pub adfs_updated: Option<bool>,
}

/// The questions, in the order they are asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Question {
    Join,
    Trust,
    SignIn,
    AdfsUpdate,
}

impl Question {
    const ORDER: [Question; 4] = [
        Question::Join,
        Question::Trust,
        Question::SignIn,
        Question::AdfsUpdate,
    ];

    /// What a flow would answer.
    fn of(self, flow: FlowId) -> String {
        let info = flow.info();
        match self {
            Question::Join => format!("{:?}", info.deployment),
            Question::Trust => format!("{:?}", info.trust),
            Question::SignIn => format!("{:?}", info.sign_in),
            Question::AdfsUpdate => info.has(Feature::KeyReceipt).to_string(),
        }
    }

    /// What the person answered, if they have.
    fn answered(self, a: &Answers) -> Option<String> {
        match self {
            Question::Join => a.join.map(|d| format!("{d:?}")),
            Question::Trust => a.trust.map(|t| format!("{t:?}")),
            Question::SignIn => a.sign_in.map(|s| format!("{s:?}")),
            Question::AdfsUpdate => a.adfs_updated.map(|u| u.to_string()),
        }
    }
}

/// The next question to ask, or the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Ask(Question),
    Flow(FlowId),
    /// The answers fit no flow the explorer shows.
    NoFlow,
}

/// The flows that fit every answer given so far.
fn candidates(a: &Answers) -> Vec<FlowId> {
    FlowId::all()
        .filter(|&f| {
            Question::ORDER
                .iter()
                .all(|q| q.answered(a).is_none_or(|answer| answer == q.of(f)))
        })
        .collect()
}

pub fn next(a: Answers) -> Next {
    let left = candidates(&a);
    if let [only] = left.as_slice() {
        if a.join.is_some() {
            return Next::Flow(*only);
        }
    }
    for q in Question::ORDER {
        if q.answered(&a).is_some() {
            continue;
        }
        let first = left.first().map(|&f| q.of(f));
        if left.iter().any(|&f| Some(q.of(f)) != first) || q == Question::Join {
            return Next::Ask(q);
        }
    }
    match left.first() {
        Some(&flow) => Next::Flow(flow),
        None => Next::NoFlow,
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
                Next::Ask(Question::Join) => view! {
                    <p>"How are the devices joined?"</p>
                    <div class="choices">
                        {choice("Microsoft Entra joined", "guide-join-aad", |a| a.join = Some(Deployment::Cloud))}
                        {choice("Microsoft Entra hybrid joined", "guide-join-hybrid", |a| a.join = Some(Deployment::Hybrid))}
                        {choice("Domain joined, no Entra ID", "guide-join-domain", |a| a.join = Some(Deployment::OnPremises))}
                    </div>
                }
                .into_any(),
                Next::Ask(Question::Trust) => view! {
                    <p>"How should domain controllers trust the credential?"</p>
                    <div class="choices">
                        {choice("Key trust: the public key itself", "guide-trust-key", |a| a.trust = Some(Trust::Key))}
                        {choice("Certificate trust: a certificate for the key", "guide-trust-cert", |a| a.trust = Some(Trust::Certificate))}
                        {(answers.get().join == Some(Deployment::Hybrid)).then(|| choice(
                            "Cloud Kerberos trust: Entra ID issues a partial Kerberos ticket",
                            "guide-trust-cloud-kerberos",
                            |a| a.trust = Some(Trust::CloudKerberos),
                        ))}
                    </div>
                    {(answers.get().join == Some(Deployment::Hybrid)).then(|| view! {
                        <p class="muted" data-testid="guide-trust-advice">
                            "Microsoft recommends cloud Kerberos trust over key trust where the clients support it (Windows 10 21H2 or Windows 11 with the February 2022 updates): it needs no certificate authority and no certificates, not even on the domain controllers, and no wait for Microsoft Entra Connect. It needs enough Windows Server 2016 or later domain controllers in each site (updated to exchange partial tickets), the Microsoft Entra Kerberos server object in each domain (Set-AzureADKerberosServer), and it does not sign in members of privileged groups such as Domain Admins."
                        </p>
                    })}
                }
                .into_any(),
                Next::Ask(Question::SignIn) => view! {
                    <p>"Who checks passwords when users sign in to Entra ID?"</p>
                    <div class="choices">
                        {choice("Entra ID (managed: hash sync or pass-through)", "guide-managed", |a| a.sign_in = Some(SignIn::Managed))}
                        {choice("AD FS (federated)", "guide-federated", |a| a.sign_in = Some(SignIn::Federated))}
                    </div>
                }
                .into_any(),
                Next::Ask(Question::AdfsUpdate) => view! {
                    <p>"Do the AD FS servers have synchronous certificate enrollment (Windows Server 2016 with KB4088889, or later)?"</p>
                    <div class="choices">
                        {choice("Yes", "guide-adfs-yes", |a| a.adfs_updated = Some(true))}
                        {choice("No, or not sure", "guide-adfs-no", |a| a.adfs_updated = Some(false))}
                    </div>
                }
                .into_any(),
                Next::Flow(flow) => view! {
                    <p data-testid="guide-result">
                        "Your flow: "
                        <a href=format!("?flow={}", flow.slug()) data-testid="guide-open" on:click=move |ev| {
                            ev.prevent_default();
                            session.open(flow, 0);
                        }>{flow.info().title}</a>
                    </p>
                    <p class="muted">{flow.info().summary}</p>
                }
                .into_any(),
                Next::NoFlow => view! {
                    <p data-testid="guide-none">"None of the flows shown here fits these answers. Start over to try others."</p>
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

    fn every_answer() -> Vec<Answers> {
        let mut out = Vec::new();
        for join in Deployment::ALL {
            for trust in [Trust::Key, Trust::Certificate, Trust::CloudKerberos] {
                for sign_in in [SignIn::Managed, SignIn::Federated] {
                    for adfs in [true, false] {
                        out.push(Answers {
                            join: Some(join),
                            trust: Some(trust),
                            sign_in: Some(sign_in),
                            adfs_updated: Some(adfs),
                        });
                    }
                }
            }
        }
        out
    }

    /// Answers one question at a time, as a person clicking would.
    fn walk(full: Answers) -> (Next, usize) {
        let mut a = Answers::default();
        let mut asked = 0;
        loop {
            match next(a) {
                Next::Ask(q) => {
                    asked += 1;
                    match q {
                        Question::Join => a.join = full.join,
                        Question::Trust => a.trust = full.trust,
                        Question::SignIn => a.sign_in = full.sign_in,
                        Question::AdfsUpdate => a.adfs_updated = full.adfs_updated,
                    }
                }
                done => return (done, asked),
            }
        }
    }

    #[test]
    fn every_flow_is_reachable_and_fits_its_answers() {
        let mut reached = std::collections::BTreeSet::new();
        for full in every_answer() {
            if let (Next::Flow(flow), asked) = walk(full) {
                let info = flow.info();
                assert_eq!(Some(info.deployment), full.join);
                assert!(asked <= Question::ORDER.len());
                reached.insert(flow);
            }
        }
        let all: std::collections::BTreeSet<FlowId> = FlowId::all().collect();
        assert_eq!(reached, all);
    }

    #[test]
    fn questions_come_in_order_and_only_where_flows_differ() {
        let mut a = Answers::default();
        assert_eq!(next(a), Next::Ask(Question::Join));
        a.join = Some(Deployment::Hybrid);
        assert_eq!(next(a), Next::Ask(Question::Trust));
        a.trust = Some(Trust::Certificate);
        // The hybrid certificate flows are all federated: no sign-in question.
        assert_eq!(next(a), Next::Ask(Question::AdfsUpdate));
        a.adfs_updated = Some(false);
        assert_eq!(next(a), Next::Flow(crate::flow_id("hybrid-cert-async")));

        let mut a = Answers {
            join: Some(Deployment::Cloud),
            ..Answers::default()
        };
        // Microsoft Entra joined flows are all key trust.
        assert_eq!(next(a), Next::Ask(Question::SignIn));
        a.sign_in = Some(SignIn::Federated);
        assert_eq!(next(a), Next::Flow(crate::flow_id("aadj-federated")));
    }

    #[test]
    fn hybrid_key_trust_asks_who_signs_in() {
        let a = Answers {
            join: Some(Deployment::Hybrid),
            trust: Some(Trust::Key),
            ..Answers::default()
        };
        assert_eq!(next(a), Next::Ask(Question::SignIn));
        let federated = Answers {
            sign_in: Some(SignIn::Federated),
            ..a
        };
        assert_eq!(
            next(federated),
            Next::Flow(crate::flow_id("hybrid-key-federated"))
        );
    }
}
