//! The script of each flow: its steps in order, who talks to whom, and what
//! each step means, in the project's own words.
//!
//! A script is plain data. The engine (`crate::engine`) executes it: each
//! step names an [`Action`] whose implementation does the real work and the
//! real checks. The same script drives the catalog, the swimlanes, the
//! command line's Mermaid output and the engine, so they cannot disagree.

use crate::catalog::{Actor, FlowId, Phase, SignIn, Trust};
use serde::{Deserialize, Serialize};

/// What a step looks like on the swimlanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// An arrow from one lane to another: something travels.
    Message { from: Actor, to: Actor },
    /// A mark on one lane: the actor computes or checks something.
    Internal { actor: Actor },
    /// Simulated time passes on one lane (a sync cycle).
    Wait { actor: Actor },
}

impl StepKind {
    /// The lanes the step touches.
    pub fn actors(self) -> Vec<Actor> {
        match self {
            StepKind::Message { from, to } => vec![from, to],
            StepKind::Internal { actor } | StepKind::Wait { actor } => vec![actor],
        }
    }

    pub fn is_message(self) -> bool {
        matches!(self, StepKind::Message { .. })
    }
}

/// Which real work a step performs. Each variant is implemented once in the
/// engine and reused by every flow whose script names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    // Phase A: two factors, then an access token for the registration service.
    StartProvisioning,
    AskForToken,
    SignInRequest,
    MfaDecision,
    MfaChallenge,
    MfaPrompt,
    MfaApprove,
    MfaResult,
    IssueEnterpriseToken,
    ExchangeEnterpriseToken,
    IssueAccessToken,
    DeliverToken,
    // Phase B: gestures and the user key.
    DetectSensor,
    EnrollBiometric,
    CreatePin,
    RequestKey,
    ReturnKey,
    // Phase C: key registration.
    RegisterKey,
    ValidateRegistration,
    StoreKey,
    ReturnKeyId,
    // Directory synchronisation (hybrid).
    SignInBeforeSync,
    WaitForSync,
    SyncRead,
    SyncChanges,
    SyncWrite,
    SignInAfterSync,
    // Certificate enrollment.
    SignRequest,
    SendRequest,
    ReadKeyLinks,
    ReturnKeyLinks,
    ValidateRequest,
    Countersign,
    SubmitToCa,
    IssueCertificate,
    ReturnCertificateToRa,
    ReturnCertificate,
    InstallCertificate,
}

/// One step of a flow's script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepSpec {
    pub phase: Phase,
    pub kind: StepKind,
    pub action: Action,
    /// A few words for the arrow's label.
    pub title: &'static str,
    /// What happens and why it matters, for the narration panel.
    pub narration: &'static str,
}

/// What a phase is about, in one line, per flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhaseSpec {
    pub phase: Phase,
    pub name: &'static str,
    pub summary: &'static str,
}

/// The complete script of a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Script {
    pub flow: FlowId,
    pub phases: Vec<PhaseSpec>,
    pub steps: Vec<StepSpec>,
}

impl Script {
    /// The steps of one phase with their indices in the whole script.
    pub fn steps_in(&self, phase: Phase) -> impl Iterator<Item = (usize, &StepSpec)> {
        self.steps
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.phase == phase)
    }

    /// The index of the first step of a phase.
    pub fn first_step_of(&self, phase: Phase) -> Option<usize> {
        self.steps.iter().position(|s| s.phase == phase)
    }

    /// The script as a Mermaid sequence diagram.
    pub fn mermaid(&self) -> String {
        let info = self.flow.info();
        let mut out = String::from("sequenceDiagram\n");
        out.push_str(&format!("    title {}\n", info.title));
        for actor in info.actors {
            out.push_str(&format!(
                "    participant {} as {}\n",
                mermaid_id(*actor),
                actor.name()
            ));
        }
        let mut current = None;
        for step in &self.steps {
            if current != Some(step.phase) {
                if current.is_some() {
                    out.push_str("    end\n");
                }
                let name = self
                    .phases
                    .iter()
                    .find(|p| p.phase == step.phase)
                    .map_or("", |p| p.name);
                out.push_str(&format!(
                    "    rect rgba(128, 128, 128, 0.08)\n    Note over {},{}: Phase {} · {}\n",
                    mermaid_id(info.actors[0]),
                    mermaid_id(info.actors[info.actors.len() - 1]),
                    step.phase.letter(),
                    name
                ));
                current = Some(step.phase);
            }
            match step.kind {
                StepKind::Message { from, to } => {
                    out.push_str(&format!(
                        "    {}->>{}: {}\n",
                        mermaid_id(from),
                        mermaid_id(to),
                        step.title
                    ));
                }
                StepKind::Internal { actor } => {
                    out.push_str(&format!(
                        "    Note over {}: {}\n",
                        mermaid_id(actor),
                        step.title
                    ));
                }
                StepKind::Wait { actor } => {
                    out.push_str(&format!(
                        "    Note over {}: ⏳ {}\n",
                        mermaid_id(actor),
                        step.title
                    ));
                }
            }
        }
        if current.is_some() {
            out.push_str("    end\n");
        }
        out
    }
}

fn mermaid_id(actor: Actor) -> String {
    actor.slug().replace('-', "_")
}

/// Where a flow registers keys and who issues its tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Who authenticates the user: Azure AD (managed) or AD FS.
    pub authenticator: Actor,
    /// Who issues the registration service's access token.
    pub token_issuer: Actor,
    /// The registration service: ADRS or the Enterprise DRS.
    pub drs: Actor,
    /// Where the DRS writes the key: Azure AD or Active Directory.
    pub key_store: Actor,
}

impl Topology {
    pub fn of(flow: FlowId) -> Topology {
        let info = flow.info();
        let on_prem = info.deployment == crate::catalog::Deployment::OnPremises;
        let authenticator = match info.sign_in {
            SignIn::Managed => Actor::AzureAd,
            SignIn::Federated => Actor::AdFs,
        };
        Topology {
            authenticator,
            token_issuer: if on_prem { Actor::AdFs } else { Actor::AzureAd },
            drs: if on_prem { Actor::Edrs } else { Actor::Adrs },
            key_store: if on_prem { Actor::Ad } else { Actor::AzureAd },
        }
    }
}

fn msg(
    phase: Phase,
    from: Actor,
    to: Actor,
    action: Action,
    title: &'static str,
    narration: &'static str,
) -> StepSpec {
    StepSpec {
        phase,
        kind: StepKind::Message { from, to },
        action,
        title,
        narration,
    }
}

fn internal(
    phase: Phase,
    actor: Actor,
    action: Action,
    title: &'static str,
    narration: &'static str,
) -> StepSpec {
    StepSpec {
        phase,
        kind: StepKind::Internal { actor },
        action,
        title,
        narration,
    }
}

/// The script of a flow.
pub fn script(flow: FlowId) -> Script {
    let info = flow.info();
    let topo = Topology::of(flow);
    let mut steps = Vec::new();
    phase_a(flow, topo, &mut steps);
    phase_b(&mut steps);
    phase_c(flow, topo, &mut steps);
    match flow {
        FlowId::HybridKeyManaged => sync_phase_key_trust(&mut steps),
        FlowId::HybridCertAsync => {
            sync_phase_before_enrollment(&mut steps);
            certificate_phases(flow, &mut steps);
        }
        FlowId::HybridCertSyncFederated | FlowId::OnPremCert => {
            certificate_phases(flow, &mut steps)
        }
        _ => {}
    }
    Script {
        flow,
        phases: phase_specs(flow, info.trust),
        steps,
    }
}

fn phase_specs(flow: FlowId, trust: Trust) -> Vec<PhaseSpec> {
    let on_prem = flow.info().deployment == crate::catalog::Deployment::OnPremises;
    let mut phases = vec![
        PhaseSpec {
            phase: Phase::A,
            name: "Two factors, one token",
            summary: if on_prem {
                "AD FS checks the password, makes sure a second factor is fresh, and issues a token for the Enterprise DRS."
            } else {
                "The user proves two factors and the provisioning app obtains an access token for the Azure registration service."
            },
        },
        PhaseSpec {
            phase: Phase::B,
            name: "Gestures and the user key",
            summary: "Biometrics are offered if a sensor is present, a PIN is set, and the TPM hands over a pre-generated key with its attestation.",
        },
        PhaseSpec {
            phase: Phase::C,
            name: "Key registration",
            summary: if on_prem {
                "The Enterprise DRS checks the token and the attestation, then writes the public key into the user's msDS-KeyCredentialLink."
            } else {
                "ADRS checks the token and the attestation, then adds the public key to the user's object in Azure AD."
            },
        },
    ];
    match (flow, trust) {
        (FlowId::HybridKeyManaged, _) => phases.push(PhaseSpec {
            phase: Phase::D,
            name: "Directory sync",
            summary: "Azure AD Connect copies the key into on-premises AD; until then domain controllers refuse it.",
        }),
        (_, Trust::Certificate) => {
            let d = match flow {
                FlowId::HybridCertAsync => PhaseSpec {
                    phase: Phase::D,
                    name: "Sync, then certificate request",
                    summary: "Enrollment waits for Azure AD Connect to bring the key on premises, then a PKCS#10 request goes to the registration authority.",
                },
                FlowId::HybridCertSyncFederated => PhaseSpec {
                    phase: Phase::D,
                    name: "Certificate request",
                    summary: "The app signs a PKCS#10 request with the same TPM key and sends it, with the key receipt, to the AD FS registration authority.",
                },
                _ => PhaseSpec {
                    phase: Phase::D,
                    name: "Certificate request",
                    summary: "The app signs a PKCS#10 request with the same TPM key and sends it to the AD FS registration authority.",
                },
            };
            phases.push(d);
            phases.push(PhaseSpec {
                phase: Phase::E,
                name: "Registration authority",
                summary: if flow == FlowId::HybridCertSyncFederated {
                    "The RA matches the request's key to a registered key, or failing that checks the key receipt, and countersigns as enrollment agent."
                } else {
                    "The RA matches the request's key to a key registered in AD and countersigns as enrollment agent."
                },
            });
            phases.push(PhaseSpec {
                phase: Phase::F,
                name: "Issuance",
                summary: "The enterprise CA checks the enrollment agent's signature and the template's rules, then issues the certificate.",
            });
            phases.push(PhaseSpec {
                phase: Phase::G,
                name: "Installation",
                summary: "The app puts the certificate in the user's Personal store, next to the TPM key it certifies.",
            });
        }
        _ => {}
    }
    phases
}

fn phase_a(flow: FlowId, topo: Topology, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::A;
    let idp = topo.authenticator;
    steps.push(msg(A, User, Cxh, Action::StartProvisioning, "Set up a PIN",
        "The user has just signed in to Windows with a password: that is the first factor. Windows checks that the device is joined and that policy asks for Windows Hello for Business, then the provisioning app in the Cloud Experience Host starts."));
    steps.push(msg(A, Cxh, Wam, Action::AskForToken, "Token for the registration service",
        "The provisioning app cannot talk to the registration service anonymously: it asks the Web Account Manager plug-in for an access token whose audience is the device registration service."));
    steps.push(msg(A, Wam, idp, Action::SignInRequest, "Sign-in request, signed by the device",
        if idp == AzureAd {
            "WAM sends Azure AD a request signed with the device key, carrying the user's password-based sign-in. Azure AD verifies the device signature against the device it registered and checks the password."
        } else {
            "In a federated domain WAM turns to AD FS, the STS on premises, with a request signed by the device key that carries the user's password. AD FS checks the device signature and the password against Active Directory."
        }));
    steps.push(internal(A, idp, Action::MfaDecision, "Is the last MFA fresh?",
        "Two factors are required before a new credential is made. If the user completed MFA less than 10 minutes ago (during device setup, for example), that MFA still counts and nobody is prompted again."));
    steps.push(msg(A, idp, Mfa, Action::MfaChallenge, "Second factor needed",
        "The identity provider asks the MFA service to verify the user with a second factor. When the last MFA is still fresh this exchange is skipped."));
    steps.push(msg(
        A,
        Mfa,
        User,
        Action::MfaPrompt,
        "Approve the sign-in?",
        "The MFA service reaches the user on their registered method and shows a number to match.",
    ));
    steps.push(msg(A, User, Mfa, Action::MfaApprove, "Approved",
        "The user confirms on their phone. Provisioning waits here until MFA succeeds, fails or times out."));
    steps.push(msg(A, Mfa, idp, Action::MfaResult, "MFA completed",
        "The MFA service reports success and the time it happened; that time is what later checks of MFA freshness compare against."));
    match (flow.info().sign_in, idp) {
        (SignIn::Federated, _) if topo.token_issuer == AzureAd => {
            steps.push(msg(A, AdFs, Wam, Action::IssueEnterpriseToken, "Enterprise token",
                "With both factors done, AD FS issues a token for Azure AD, signed with its token-signing key. It says who the user is and that MFA was performed."));
            steps.push(msg(A, Wam, AzureAd, Action::ExchangeEnterpriseToken, "Exchange the enterprise token",
                "WAM hands the enterprise token to Azure AD. Azure AD trusts AD FS through the federation settings of the domain: it checks the signature with the federation signing key, the issuer, the audience, the lifetime and the MFA claim."));
            steps.push(msg(A, AzureAd, Wam, Action::IssueAccessToken, "ADRS access token",
                "Azure AD mints a token whose audience is its device registration service (ADRS) and signs it with its own key. The amr claim records that MFA was done so that a credential may be provisioned (ngcmfa)."));
        }
        _ => {
            let narration = if idp == AdFs {
                "AD FS issues the access token for its Enterprise Device Registration Service, signed with its token-signing key. The amr claim records the MFA, which the registration service will insist on."
            } else {
                "Azure AD mints a token whose audience is its device registration service (ADRS) and signs it with its own key. The amr claim records that MFA was done so that a credential may be provisioned (ngcmfa)."
            };
            steps.push(msg(
                A,
                idp,
                Wam,
                Action::IssueAccessToken,
                if idp == AdFs {
                    "EDRS access token"
                } else {
                    "ADRS access token"
                },
                narration,
            ));
        }
    }
    steps.push(msg(A, Wam, Cxh, Action::DeliverToken, "Access token",
        "WAM returns the access token to the provisioning app, which keeps it for key registration."));
}

fn phase_b(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::B;
    steps.push(msg(B, Cxh, Sensor, Action::DetectSensor, "Biometric sensor?",
        "The app looks for a Windows Hello compatible biometric sensor. Without one, the PIN is the only gesture."));
    steps.push(msg(B, User, Sensor, Action::EnrollBiometric, "Enroll face or fingerprint",
        "With a sensor present the user may enroll a face or fingerprint, or skip. The biometric template stays on the device: it only ever unlocks the key, it is never sent anywhere."));
    steps.push(msg(B, User, Cxh, Action::CreatePin, "PIN, typed twice",
        "A PIN is always required: it is the fall-back when biometrics fail. The user types it twice; the app checks both entries agree and that the PIN meets the complexity policy. The PIN is never sent to an identity provider."));
    steps.push(msg(B, Cxh, Tpm, Action::RequestKey, "A key from the pool",
        "Generating an RSA key takes a while, so the TPM keeps a pool of keys made ahead of time. The app takes one, binds it to the PIN, and asks the TPM to attest that the key lives in this TPM."));
    steps.push(msg(B, Tpm, Cxh, Action::ReturnKey, "Public key and attestation",
        "The TPM returns the public half of the user key (ukpub) and an attestation signed by its attestation key. The private half (ukpriv) never leaves the TPM."));
}

fn phase_c(flow: FlowId, topo: Topology, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::C;
    let drs = topo.drs;
    let cloud = drs == Adrs;
    steps.push(msg(C, Cxh, drs, Action::RegisterKey, "Register the public key",
        if cloud {
            "The app posts the public key to ADRS as a BCRYPT RSA public blob, with the access token as bearer and the attestation and device details alongside."
        } else {
            "The app posts the public key to the Enterprise DRS on AD FS as a BCRYPT RSA public blob, with the EDRS access token as bearer and the attestation alongside."
        }));
    steps.push(internal(C, drs, Action::ValidateRegistration, "Check token and attestation",
        "The registration service verifies the token's signature, audience and lifetime, insists the MFA is still fresh, and checks the attestation: signed by a genuine TPM's attestation key, naming exactly the key being registered."));
    steps.push(msg(C, drs, topo.key_store, Action::StoreKey,
        if cloud { "Add key to the user object" } else { "Write msDS-KeyCredentialLink" },
        if cloud {
            "ADRS adds the key to the user's object in Azure AD, with a reference to the device that made it."
        } else {
            "The Enterprise DRS adds a value to msDS-KeyCredentialLink on the user's AD object: a KEYCREDENTIALLINK_BLOB, in DN-Binary form, that names the device."
        }));
    steps.push(msg(C, drs, Cxh, Action::ReturnKeyId,
        if flow == FlowId::HybridCertSyncFederated { "Key ID and key receipt" } else { "Key ID" },
        if flow == FlowId::HybridCertSyncFederated {
            "The service answers with the key ID and a key receipt: a signed statement that this key was registered for this user, which the registration authority can check before the key reaches on-premises AD."
        } else if cloud {
            "The service answers with the key ID, the SHA-256 of the registered key blob. For the user, provisioning with the cloud is done."
        } else {
            "The Enterprise DRS answers with the key ID, the SHA-256 of the registered key blob."
        }));
}

fn sync_steps(phase: Phase, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    steps.push(StepSpec {
        phase,
        kind: StepKind::Wait { actor: AadConnect },
        action: Action::WaitForSync,
        title: "Wait for the next sync cycle",
        narration: "Azure AD Connect runs on a schedule, every 30 minutes by default. Nothing moves the key on premises until its next cycle starts; the simulated clock jumps there.",
    });
    steps.push(msg(phase, AadConnect, AzureAd, Action::SyncRead, "What changed?",
        "At the start of the cycle Azure AD Connect asks Azure AD for the changes since its last run."));
    steps.push(msg(phase, AzureAd, AadConnect, Action::SyncChanges, "The user's new key",
        "Azure AD returns the user's newly registered public key with its key ID and device reference."));
    steps.push(msg(phase, AadConnect, Ad, Action::SyncWrite, "Write msDS-KeyCredentialLink",
        "Azure AD Connect writes the key into the user's msDS-KeyCredentialLink attribute in on-premises AD, as a KEYCREDENTIALLINK_BLOB in DN-Binary form."));
}

fn sync_phase_key_trust(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    steps.push(msg(Phase::D, User, Ad, Action::SignInBeforeSync, "Sign in on premises (too early)",
        "If the user tries to sign in to an on-premises resource now, the domain controller looks for the key in msDS-KeyCredentialLink and does not find it: the key is only in Azure AD so far. The sign-in is refused."));
    sync_steps(Phase::D, steps);
    steps.push(msg(Phase::D, User, Ad, Action::SignInAfterSync, "Sign in on premises",
        "Now the domain controller finds the key, checks a signature the TPM made with it over the domain controller's challenge, and the sign-in succeeds."));
}

fn sync_phase_before_enrollment(steps: &mut Vec<StepSpec>) {
    sync_steps(Phase::D, steps);
}

fn certificate_phases(flow: FlowId, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::{D, E, F, G};
    let receipt = flow == FlowId::HybridCertSyncFederated;
    steps.push(msg(D, Cxh, Tpm, Action::SignRequest, "Sign the certificate request",
        "The app builds a PKCS#10 certificate request for the same key that was just registered, and has the TPM sign it: the PIN authorises the use of the key."));
    steps.push(msg(D, Cxh, Ra, Action::SendRequest,
        if receipt { "Certificate request and key receipt" } else { "Certificate request" },
        if receipt {
            "The request and the key receipt go to the certificate registration authority on the AD FS farm."
        } else {
            "The request goes to the certificate registration authority on the AD FS farm."
        }));
    steps.push(msg(
        D,
        Ra,
        Ad,
        Action::ReadKeyLinks,
        "Read msDS-KeyCredentialLink",
        "The registration authority asks Active Directory for the keys registered for this user.",
    ));
    steps.push(msg(
        D,
        Ad,
        Ra,
        Action::ReturnKeyLinks,
        "Registered keys",
        "Active Directory returns the values of the user's msDS-KeyCredentialLink attribute.",
    ));
    steps.push(internal(E, Ra, Action::ValidateRequest,
        if receipt { "Match the key, or check the receipt" } else { "Match the key" },
        if receipt {
            "The RA checks the request's own signature and looks for its public key among the registered keys. If the key has not reached AD yet, the signed key receipt from the registration service vouches for it instead."
        } else {
            "The RA checks the request's own signature and looks for its public key among the keys registered in AD. No match, no certificate."
        }));
    steps.push(internal(E, Ra, Action::Countersign, "Sign as enrollment agent",
        "The RA wraps the request in a CMS SignedData signed with its enrollment agent certificate, naming the user it enrolls on behalf of."));
    steps.push(msg(F, Ra, Ca, Action::SubmitToCa, "Countersigned request",
        "The RA submits the countersigned request to the enterprise issuing CA for the Windows Hello authentication template."));
    steps.push(internal(F, Ca, Action::IssueCertificate, "Check the agent, issue",
        "The CA checks that the request carries a valid signature from an enrollment agent certificate with the Certificate Request Agent policy, that the template allows it, and issues a certificate for the user's key."));
    steps.push(msg(
        F,
        Ca,
        Ra,
        Action::ReturnCertificateToRa,
        "Issued certificate",
        "The CA returns the certificate to the registration authority.",
    ));
    steps.push(msg(
        F,
        Ra,
        Cxh,
        Action::ReturnCertificate,
        "Issued certificate",
        "The RA passes the certificate back to the provisioning app.",
    ));
    steps.push(internal(G, Cxh, Action::InstallCertificate, "Install in the Personal store",
        "The app checks the certificate is for its key and chains to the enterprise root, then installs it in the user's Personal store. Provisioning is over: the user can sign in with the PIN, on premises too."));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Phase, FLOWS};

    #[test]
    fn every_flow_runs_its_catalog_phases_in_order() {
        for info in &FLOWS {
            let script = script(info.id);
            let mut seen: Vec<Phase> = script.steps.iter().map(|s| s.phase).collect();
            seen.dedup();
            assert_eq!(seen, info.phases, "{}", info.title);
            assert_eq!(
                script.phases.iter().map(|p| p.phase).collect::<Vec<_>>(),
                info.phases
            );
        }
    }

    #[test]
    fn steps_only_use_the_flows_lanes() {
        for info in &FLOWS {
            for step in script(info.id).steps {
                for actor in step.kind.actors() {
                    assert!(
                        info.actors.contains(&actor),
                        "{}: {:?} uses {:?}",
                        info.title,
                        step.action,
                        actor
                    );
                }
            }
        }
    }

    #[test]
    fn every_lane_of_a_flow_takes_part() {
        for info in &FLOWS {
            let steps = script(info.id).steps;
            for actor in info.actors {
                assert!(
                    steps.iter().any(|s| s.kind.actors().contains(actor)),
                    "{}: {:?} idle",
                    info.title,
                    actor
                );
            }
        }
    }

    #[test]
    fn federated_cloud_flows_go_through_ad_fs_then_azure_ad() {
        let steps = script(FlowId::CloudFederated).steps;
        let exchange = steps
            .iter()
            .position(|s| s.action == Action::ExchangeEnterpriseToken);
        let enterprise = steps
            .iter()
            .position(|s| s.action == Action::IssueEnterpriseToken);
        assert!(enterprise < exchange && exchange.is_some());
        assert!(script(FlowId::CloudManaged)
            .steps
            .iter()
            .all(|s| s.action != Action::ExchangeEnterpriseToken));
    }

    #[test]
    fn only_the_synchronous_flow_returns_a_key_receipt() {
        for info in &FLOWS {
            let titles: Vec<&str> = script(info.id).steps.iter().map(|s| s.title).collect();
            let has_receipt = titles.iter().any(|t| t.contains("receipt"));
            assert_eq!(
                has_receipt,
                info.id == FlowId::HybridCertSyncFederated,
                "{}",
                info.title
            );
        }
    }

    #[test]
    fn mermaid_names_every_participant_and_message() {
        let script = script(FlowId::HybridKeyManaged);
        let text = script.mermaid();
        assert!(text.starts_with("sequenceDiagram\n"));
        assert!(text.contains("participant aad_connect as Azure AD Connect"));
        let arrows = text.matches("->>").count();
        assert_eq!(
            arrows,
            script.steps.iter().filter(|s| s.kind.is_message()).count()
        );
    }
}
