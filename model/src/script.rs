//! The script of each flow: its steps in order, who talks to whom, and what
//! each step means, in the project's own words.
//!
//! A script is plain data, expanded from the flow's [`Segment`]s. The engine
//! (`crate::engine`) executes it: each step names an [`Action`] whose
//! implementation does the real work and the real checks. The same script
//! drives the catalog, the swimlanes, the command line's Mermaid output and
//! the engine, so they cannot disagree.
//!
//! Every step has a stable [`StepId`], `segment.action`
//! (`registration.register-key`): links, edits and the command line name
//! steps by it, so a segment added to a flow later moves no step.

use crate::catalog::{Actor, Deployment, Phase, SignIn};
use crate::flows::{Feature, FlowId, Segment};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

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
    // Phase R: the device joins (Microsoft Entra join, hybrid join).
    FindTenant,
    PublishUserCertificate,
    SyncDevice,
    WriteBackDevice,
    DiscoverService,
    StartJoin,
    JoinSignIn,
    ExchangeJoinToken,
    CreateDeviceKeys,
    SignDeviceRequest,
    EnrollDevice,
    ValidateDeviceEnrollment,
    CreateDeviceObject,
    ReturnDeviceCertificate,
    InstallDeviceCertificate,
    // Windows sign-in with the password, after the join.
    SignInWithPassword,
    RequestSamlToken,
    IssueSamlToken,
    // Phase S: the first sign-in with the new credential.
    UnlockWithPin,
    RequestNonce,
    SignAssertion,
    RequestPrt,
    ValidatePrtRequest,
    IssuePrt,
    DecryptSessionKey,
    RequestAppToken,
    IssueAppToken,
    // Phase A: two factors, then an access token for the registration service.
    StartProvisioning,
    AskForToken,
    SignInRequest,
    FederatedSignIn,
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
    FetchReceiptSigners,
    ValidateRequest,
    Countersign,
    SubmitToCa,
    IssueCertificate,
    ReturnCertificateToRa,
    ReturnCertificate,
    InstallCertificate,
    // Kerberos sign-in to a domain controller (PKINIT).
    SignAuthPack,
    SendAsReq,
    CheckAsReq,
    ReturnAsRep,
    OpenAsRep,
    // Cloud Kerberos trust: the partial TGT exchanged for a full one.
    HandOverPartialTgt,
    SendTgsReq,
    CheckTgsReq,
    ReturnTgsRep,
    OpenTgsRep,
}

impl Action {
    /// Every action, in script order.
    pub const ALL: [Action; 77] = [
        Action::FindTenant,
        Action::PublishUserCertificate,
        Action::SyncDevice,
        Action::WriteBackDevice,
        Action::DiscoverService,
        Action::StartJoin,
        Action::JoinSignIn,
        Action::ExchangeJoinToken,
        Action::CreateDeviceKeys,
        Action::SignDeviceRequest,
        Action::EnrollDevice,
        Action::ValidateDeviceEnrollment,
        Action::CreateDeviceObject,
        Action::ReturnDeviceCertificate,
        Action::InstallDeviceCertificate,
        Action::SignInWithPassword,
        Action::RequestSamlToken,
        Action::IssueSamlToken,
        Action::UnlockWithPin,
        Action::RequestNonce,
        Action::SignAssertion,
        Action::RequestPrt,
        Action::ValidatePrtRequest,
        Action::IssuePrt,
        Action::DecryptSessionKey,
        Action::RequestAppToken,
        Action::IssueAppToken,
        Action::StartProvisioning,
        Action::AskForToken,
        Action::SignInRequest,
        Action::FederatedSignIn,
        Action::MfaDecision,
        Action::MfaChallenge,
        Action::MfaPrompt,
        Action::MfaApprove,
        Action::MfaResult,
        Action::IssueEnterpriseToken,
        Action::ExchangeEnterpriseToken,
        Action::IssueAccessToken,
        Action::DeliverToken,
        Action::DetectSensor,
        Action::EnrollBiometric,
        Action::CreatePin,
        Action::RequestKey,
        Action::ReturnKey,
        Action::RegisterKey,
        Action::ValidateRegistration,
        Action::StoreKey,
        Action::ReturnKeyId,
        Action::SignInBeforeSync,
        Action::WaitForSync,
        Action::SyncRead,
        Action::SyncChanges,
        Action::SyncWrite,
        Action::SignInAfterSync,
        Action::SignRequest,
        Action::SendRequest,
        Action::ReadKeyLinks,
        Action::ReturnKeyLinks,
        Action::FetchReceiptSigners,
        Action::ValidateRequest,
        Action::Countersign,
        Action::SubmitToCa,
        Action::IssueCertificate,
        Action::ReturnCertificateToRa,
        Action::ReturnCertificate,
        Action::InstallCertificate,
        Action::SignAuthPack,
        Action::SendAsReq,
        Action::CheckAsReq,
        Action::ReturnAsRep,
        Action::OpenAsRep,
        Action::HandOverPartialTgt,
        Action::SendTgsReq,
        Action::CheckTgsReq,
        Action::ReturnTgsRep,
        Action::OpenTgsRep,
    ];

    /// The second half of a step's id: the action in kebab case.
    pub fn slug(self) -> &'static str {
        match self {
            Action::FindTenant => "find-tenant",
            Action::PublishUserCertificate => "publish-user-certificate",
            Action::SyncDevice => "sync-device",
            Action::WriteBackDevice => "write-back-device",
            Action::DiscoverService => "discover-service",
            Action::StartJoin => "start-join",
            Action::JoinSignIn => "join-sign-in",
            Action::ExchangeJoinToken => "exchange-join-token",
            Action::CreateDeviceKeys => "create-device-keys",
            Action::SignDeviceRequest => "sign-device-request",
            Action::EnrollDevice => "enroll-device",
            Action::ValidateDeviceEnrollment => "validate-device-enrollment",
            Action::CreateDeviceObject => "create-device-object",
            Action::ReturnDeviceCertificate => "return-device-certificate",
            Action::InstallDeviceCertificate => "install-device-certificate",
            Action::SignInWithPassword => "sign-in-with-password",
            Action::RequestSamlToken => "request-saml-token",
            Action::IssueSamlToken => "issue-saml-token",
            Action::UnlockWithPin => "unlock-with-pin",
            Action::RequestNonce => "request-nonce",
            Action::SignAssertion => "sign-assertion",
            Action::RequestPrt => "request-prt",
            Action::ValidatePrtRequest => "validate-prt-request",
            Action::IssuePrt => "issue-prt",
            Action::DecryptSessionKey => "decrypt-session-key",
            Action::RequestAppToken => "request-app-token",
            Action::IssueAppToken => "issue-app-token",
            Action::StartProvisioning => "start-provisioning",
            Action::AskForToken => "ask-for-token",
            Action::SignInRequest => "sign-in-request",
            Action::FederatedSignIn => "federated-sign-in",
            Action::MfaDecision => "mfa-decision",
            Action::MfaChallenge => "mfa-challenge",
            Action::MfaPrompt => "mfa-prompt",
            Action::MfaApprove => "mfa-approve",
            Action::MfaResult => "mfa-result",
            Action::IssueEnterpriseToken => "issue-enterprise-token",
            Action::ExchangeEnterpriseToken => "exchange-enterprise-token",
            Action::IssueAccessToken => "issue-access-token",
            Action::DeliverToken => "deliver-token",
            Action::DetectSensor => "detect-sensor",
            Action::EnrollBiometric => "enroll-biometric",
            Action::CreatePin => "create-pin",
            Action::RequestKey => "request-key",
            Action::ReturnKey => "return-key",
            Action::RegisterKey => "register-key",
            Action::ValidateRegistration => "validate-registration",
            Action::StoreKey => "store-key",
            Action::ReturnKeyId => "return-key-id",
            Action::SignInBeforeSync => "sign-in-before-sync",
            Action::WaitForSync => "wait-for-sync",
            Action::SyncRead => "sync-read",
            Action::SyncChanges => "sync-changes",
            Action::SyncWrite => "sync-write",
            Action::SignInAfterSync => "sign-in-after-sync",
            Action::SignRequest => "sign-request",
            Action::SendRequest => "send-request",
            Action::ReadKeyLinks => "read-key-links",
            Action::ReturnKeyLinks => "return-key-links",
            Action::FetchReceiptSigners => "fetch-receipt-signers",
            Action::ValidateRequest => "validate-request",
            Action::Countersign => "countersign",
            Action::SubmitToCa => "submit-to-ca",
            Action::IssueCertificate => "issue-certificate",
            Action::ReturnCertificateToRa => "return-certificate-to-ra",
            Action::ReturnCertificate => "return-certificate",
            Action::InstallCertificate => "install-certificate",
            Action::SignAuthPack => "sign-auth-pack",
            Action::SendAsReq => "send-as-req",
            Action::CheckAsReq => "check-as-req",
            Action::ReturnAsRep => "return-as-rep",
            Action::OpenAsRep => "open-as-rep",
            Action::HandOverPartialTgt => "hand-over-partial-tgt",
            Action::SendTgsReq => "send-tgs-req",
            Action::CheckTgsReq => "check-tgs-req",
            Action::ReturnTgsRep => "return-tgs-rep",
            Action::OpenTgsRep => "open-tgs-rep",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.slug() == slug)
    }
}

/// A step's stable name: its segment and its action, written
/// `segment.action`. Inserting segments or steps elsewhere does not change
/// it, unlike the step's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StepId {
    pub segment: Segment,
    pub action: Action,
}

impl StepId {
    /// Reads `segment.action`; `None` when either half names nothing.
    pub fn parse(text: &str) -> Option<StepId> {
        let (segment, action) = text.split_once('.')?;
        Some(StepId {
            segment: Segment::from_slug(segment)?,
            action: Action::from_slug(action)?,
        })
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.segment.slug(), self.action.slug())
    }
}

impl Serialize for StepId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StepId, D::Error> {
        let text = String::deserialize(d)?;
        StepId::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("\"{text}\" is not a step id")))
    }
}

/// One step of a flow's script.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepSpec {
    /// The step's stable name.
    pub id: StepId,
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
    /// The phases the flow goes through, in order.
    pub fn phase_list(&self) -> Vec<Phase> {
        self.phases.iter().map(|p| p.phase).collect()
    }

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

    /// The index of the step with this id.
    pub fn position(&self, id: StepId) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// The step a link or the command line names: its id
    /// (`registration.register-key`), or a number counted from 1 at the
    /// first step of provisioning (phase A), as links made before steps had
    /// ids wrote it. The error says what is wrong, in words.
    pub fn resolve(&self, text: &str) -> std::result::Result<usize, String> {
        if let Ok(n) = text.parse::<usize>() {
            let first = self
                .steps
                .iter()
                .position(|s| s.id.segment == Segment::Tokens)
                .unwrap_or(0);
            return match n.checked_sub(1).map(|i| i + first) {
                Some(i) if i < self.steps.len() => Ok(i),
                _ => Err(format!(
                    "step {n} does not exist: the flow has steps 1 to {}",
                    self.steps.len() - first
                )),
            };
        }
        match StepId::parse(text) {
            Some(id) => self.position(id).ok_or_else(|| {
                format!("the flow has no step \"{text}\"")
            }),
            None => Err(format!(
                "\"{text}\" is neither a step number nor a step id such as \"registration.register-key\""
            )),
        }
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
    /// Who authenticates the user: Entra ID (managed) or AD FS.
    pub authenticator: Actor,
    /// Who issues the registration service's access token.
    pub token_issuer: Actor,
    /// The registration service: ADRS or the Enterprise DRS.
    pub drs: Actor,
    /// Where the DRS writes the key: Entra ID or Active Directory.
    pub key_store: Actor,
    /// Who issues the Primary Refresh Token at Windows sign-in: Entra ID,
    /// or on premises AD FS (an enterprise PRT, MS-OAPXBC's server role).
    pub prt_issuer: Actor,
}

impl Topology {
    pub fn of(flow: FlowId) -> Topology {
        let info = flow.info();
        let on_prem = info.deployment == Deployment::OnPremises;
        let authenticator = match info.sign_in {
            SignIn::Managed => Actor::AzureAd,
            SignIn::Federated => Actor::AdFs,
        };
        Topology {
            authenticator,
            token_issuer: if on_prem { Actor::AdFs } else { Actor::AzureAd },
            drs: if on_prem { Actor::Edrs } else { Actor::Adrs },
            key_store: if on_prem { Actor::Ad } else { Actor::AzureAd },
            prt_issuer: if on_prem { Actor::AdFs } else { Actor::AzureAd },
        }
    }
}

/// A message step; `script` fills in the segment half of its id.
fn msg(
    phase: Phase,
    from: Actor,
    to: Actor,
    action: Action,
    title: &'static str,
    narration: &'static str,
) -> StepSpec {
    step(
        phase,
        StepKind::Message { from, to },
        action,
        title,
        narration,
    )
}

/// A step on one lane; `script` fills in the segment half of its id.
fn internal(
    phase: Phase,
    actor: Actor,
    action: Action,
    title: &'static str,
    narration: &'static str,
) -> StepSpec {
    step(
        phase,
        StepKind::Internal { actor },
        action,
        title,
        narration,
    )
}

fn step(
    phase: Phase,
    kind: StepKind,
    action: Action,
    title: &'static str,
    narration: &'static str,
) -> StepSpec {
    StepSpec {
        id: StepId {
            segment: Segment::Tokens,
            action,
        },
        phase,
        kind,
        action,
        title,
        narration,
    }
}

/// The script of a flow: its segments' steps, in order.
pub fn script(flow: FlowId) -> Script {
    let topo = Topology::of(flow);
    let mut steps = Vec::new();
    let mut phases: Vec<PhaseSpec> = Vec::new();
    for &segment in flow.info().segments {
        let first = steps.len();
        match segment {
            Segment::DeviceRegistration => phase_r(flow, &mut steps),
            Segment::Tokens => phase_a(flow, topo, &mut steps),
            Segment::Gestures => phase_b(&mut steps),
            Segment::Registration => phase_c(flow, topo, &mut steps),
            Segment::KeySync => sync_phase_key_trust(&mut steps),
            Segment::SyncBeforeEnrollment => sync_steps(Phase::D, &mut steps),
            Segment::CertificateEnrollment => certificate_phases(flow, &mut steps),
            Segment::SignIn => phase_s(&mut steps),
            Segment::WindowsSignIn => windows_sign_in(topo, &mut steps),
            Segment::KerberosSignIn => kerberos_sign_in(flow, &mut steps),
            Segment::CloudKerberosSignIn => cloud_kerberos_sign_in(&mut steps),
        }
        for step in &mut steps[first..] {
            step.id.segment = segment;
        }
        // The first segment to reach a phase names it.
        for spec in phase_specs(flow, segment) {
            if !phases.iter().any(|p| p.phase == spec.phase) {
                phases.push(spec);
            }
        }
    }
    Script {
        flow,
        phases,
        steps,
    }
}

/// The phases a segment runs in, named for this flow.
fn phase_specs(flow: FlowId, segment: Segment) -> Vec<PhaseSpec> {
    let on_prem = flow.info().deployment == Deployment::OnPremises;
    let receipt = flow.has(Feature::KeyReceipt);
    let signs_in = flow.info().has_segment(Segment::WindowsSignIn);
    match segment {
        Segment::DeviceRegistration => vec![PhaseSpec {
            phase: Phase::R,
            name: if signs_in {
                "Device registration and Windows sign-in"
            } else {
                "Device registration"
            },
            summary: match (flow.info().deployment, flow.info().sign_in) {
                (Deployment::OnPremises, _) => "Before anyone can provision, the domain-joined computer registers with the Enterprise DRS on AD FS (AD FS vouches for it as a domain computer, and the service certifies its TPM device key and writes the device into Active Directory); then the user signs in to Windows with the password, which brings an enterprise Primary Refresh Token from AD FS.",
                (Deployment::Hybrid, SignIn::Federated) => "Before anyone can provision, the domain-joined computer registers with Microsoft Entra ID (it finds the tenant in AD, AD FS vouches for it as a domain computer, and the registration service certifies its TPM device key); then the user signs in to Windows with the password, which AD FS turns into a SAML token that brings a Primary Refresh Token from Entra ID.",
                (Deployment::Hybrid, SignIn::Managed) => "Before anyone can provision, the domain-joined computer registers with Microsoft Entra ID (it finds the tenant in AD, publishes a self-signed certificate that Microsoft Entra Connect carries to Entra ID, proves it is that computer, and the service certifies its TPM device key); then the user signs in to Windows with the password, which brings a Primary Refresh Token.",
                (Deployment::Cloud, SignIn::Federated) => "Before anyone can provision, the device joins Microsoft Entra ID after the user signs in at AD FS (its TPM makes a device key and a transport key, and the registration service certifies the device); then the user signs in to Windows with the password, which AD FS turns into a SAML token that brings a Primary Refresh Token from Entra ID.",
                (Deployment::Cloud, SignIn::Managed) => "Before anyone can provision, the device joins Microsoft Entra ID (its TPM makes a device key and a transport key, and the registration service certifies the device); then the user signs in to Windows with the password, which brings a Primary Refresh Token.",
            },
        }],
        // Phase R is named by the device registration that precedes it.
        Segment::WindowsSignIn => Vec::new(),
        // Phase S is named by the Entra sign-in where there is one.
        Segment::CloudKerberosSignIn => Vec::new(),
        Segment::KerberosSignIn => vec![PhaseSpec {
            phase: Phase::S,
            name: "First sign-in with the PIN",
            summary: "The user signs in to Windows with the new PIN: the TPM signs a PKINIT request with the user key, the domain controller checks it against Active Directory and answers with a Kerberos TGT.",
        }],
        Segment::SignIn => vec![PhaseSpec {
            phase: Phase::S,
            name: "First sign-in with the PIN",
            summary: if flow.info().has_segment(Segment::CloudKerberosSignIn) {
                "The user signs in to Windows with the new PIN: the TPM-held key answers Entra ID's nonce for a Primary Refresh Token and, with it, a partial Kerberos ticket for the domain, which a domain controller exchanges for a full TGT."
            } else if flow.info().has_segment(Segment::KerberosSignIn) {
                "The user signs in to Windows with the new PIN: the TPM-held key answers Entra ID's nonce for a Primary Refresh Token whose session key only this device's TPM can open, and signs a PKINIT request for which the domain controller returns a Kerberos TGT."
            } else {
                "The user signs in to Windows with the new PIN: the TPM-held key answers Entra ID's nonce, and Entra ID returns a Primary Refresh Token whose session key only this device's TPM can open."
            },
        }],
        Segment::Tokens => vec![PhaseSpec {
            phase: Phase::A,
            name: "Two factors, one token",
            summary: match (on_prem, flow.info().sign_in) {
                (true, _) => "WAM presents the enterprise PRT to AD FS, which has a second factor done (unless one is still fresh) and issues a token for the Enterprise DRS.",
                (false, SignIn::Federated) => "WAM presents the PRT to Entra ID, which sends it to AD FS for the second factor; AD FS's token after MFA is what Entra ID trades for the registration service's access token.",
                (false, SignIn::Managed) => "WAM presents the PRT to Entra ID, a second factor is done (unless one is still fresh), and the provisioning app obtains an access token for Entra ID's registration service.",
            },
        }],
        Segment::Gestures => vec![PhaseSpec {
            phase: Phase::B,
            name: "Gestures and the user key",
            summary: "Biometrics are offered if a sensor is present, a PIN is set, and the TPM hands over a pre-generated key with its attestation.",
        }],
        Segment::Registration => vec![PhaseSpec {
            phase: Phase::C,
            name: "Key registration",
            summary: if on_prem {
                "The Enterprise DRS checks the token and the attestation, then writes the public key into the user's msDS-KeyCredentialLink."
            } else {
                "ADRS checks the token and the attestation, then adds the public key to the user's object in Entra ID."
            },
        }],
        Segment::KeySync => vec![PhaseSpec {
            phase: Phase::D,
            name: "Directory sync",
            summary: "Microsoft Entra Connect copies the key into on-premises AD; until then domain controllers refuse it.",
        }],
        Segment::SyncBeforeEnrollment => vec![PhaseSpec {
            phase: Phase::D,
            name: "Sync, then certificate request",
            summary: "Enrollment waits for Microsoft Entra Connect to bring the key on premises, then a PKCS#10 request goes to the registration authority. (The documentation draws this flow without lettered phases: the letters D to G here are the explorer's.)",
        }],
        Segment::CertificateEnrollment => vec![
            PhaseSpec {
                phase: Phase::D,
                name: "Certificate request",
                summary: if receipt {
                    "The app signs a PKCS#10 request with the same TPM key and sends it, with the key receipt, to the AD FS registration authority."
                } else {
                    "The app signs a PKCS#10 request with the same TPM key and sends it to the AD FS registration authority."
                },
            },
            PhaseSpec {
                phase: Phase::E,
                name: "Registration authority",
                summary: if receipt {
                    "The RA matches the request's key to a registered key, or failing that checks the key receipt, and countersigns as enrollment agent."
                } else {
                    "The RA matches the request's key to a key registered in AD and countersigns as enrollment agent."
                },
            },
            PhaseSpec {
                phase: Phase::F,
                name: "Issuance",
                summary: "The enterprise CA checks the enrollment agent's signature and the template's rules, then issues the certificate.",
            },
            PhaseSpec {
                phase: Phase::G,
                name: "Installation",
                summary: "The app puts the certificate in the user's Personal store, next to the TPM key it certifies.",
            },
        ],
    }
}

/// Device registration: Microsoft Entra join for a cloud device, hybrid
/// join for a domain-joined one.
fn phase_r(flow: FlowId, steps: &mut Vec<StepSpec>) {
    let info = flow.info();
    match (info.deployment, info.sign_in) {
        (Deployment::OnPremises, _) => enterprise_join(steps),
        (Deployment::Hybrid, SignIn::Managed) => hybrid_join(steps),
        (Deployment::Hybrid, SignIn::Federated) => hybrid_federated_join(steps),
        (_, sign_in) => entra_join(sign_in, steps),
    }
}

/// The steps a domain-joined computer's join task takes in every form of
/// its registration.
fn find_tenant_in_ad() -> StepSpec {
    msg(Phase::R, Actor::Dsreg, Actor::Ad, Action::FindTenant, "Find the tenant in AD",
        "The computer is already joined to the AD domain. At start-up its join task reads the service connection point that Microsoft Entra Connect set up in the forest's configuration partition: the keywords there name the tenant to register with.")
}

fn computer_signs_request() -> StepSpec {
    msg(Phase::R, Actor::Tpm, Actor::Dsreg, Action::SignDeviceRequest, "Certificate request, signed in the TPM",
        "The join request carries a PKCS#10 certificate request for the device key. The TPM signs it with that key, which proves the request comes from whoever holds the key.")
}

fn certificate_to_computer(service: Actor) -> StepSpec {
    msg(
        Phase::R,
        service,
        Actor::Dsreg,
        Action::ReturnDeviceCertificate,
        "Device certificate",
        "The service answers with the device certificate.",
    )
}

fn computer_installs_certificate() -> StepSpec {
    internal(Phase::R, Actor::Dsreg, Action::InstallDeviceCertificate, "Install the certificate",
        "The task checks that the certificate certifies its own device key and names its device ID, then installs it in the computer's certificate store with the key in the TPM.")
}

/// Device writeback: in a federated domain AD FS knows devices only from
/// the device objects in AD, which Microsoft Entra Connect writes back
/// from Entra ID at its next cycle.
fn device_writeback(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    steps.push(step(R, StepKind::Wait { actor: AadConnect }, Action::WaitForSync, "Wait for the next sync cycle",
        "In a federated domain AD FS knows devices only from device objects in Active Directory (for its device authentication and the access rules that use it), and only Microsoft Entra Connect's device writeback puts one there, at its next cycle (every 30 minutes by default). The simulated clock jumps there."));
    steps.push(msg(R, AadConnect, Ad, Action::WriteBackDevice, "Device writeback",
        "Microsoft Entra Connect reads the new device object from Entra ID and writes it into Active Directory as an msDS-Device object with its ID and device key: from now on AD FS knows this device too."));
}

/// A domain-joined computer registers with the Enterprise DRS on AD FS
/// (MS-DVRD's discovery, MS-DVRJ's join with JoinType 6 and the computer's
/// token): no cloud at all.
fn enterprise_join(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    steps.push(msg(R, Dsreg, Ad, Action::FindTenant, "Find the registration service in AD",
        "The computer is already joined to the AD domain. At start-up its join task reads the service connection point in the forest's configuration partition: on premises its keyword names the Enterprise DRS on the AD FS farm."));
    steps.push(msg(R, Dsreg, Edrs, Action::DiscoverService, "Discovery",
        "The task asks the registration service for its discovery document, which lists where to join and which resource to ask AD FS a token for."));
    steps.push(msg(R, Dsreg, Tpm, Action::CreateDeviceKeys, "Device key and transport key",
        "The TPM creates two RSA-2048 keys that never leave it: the device key, which will prove the device's identity from now on, and the transport key."));
    steps.push(msg(R, Dsreg, AdFs, Action::JoinSignIn, "The computer signs in to AD FS",
        "The computer proves who it is to AD FS with its own domain account. AD FS checks that the caller is a domain computer and issues a token for the registration service saying so: account type DJ, the computer's object GUID and SID, and permission to register a device."));
    steps.push(computer_signs_request());
    steps.push(msg(R, Dsreg, Edrs, Action::EnrollDevice, "Join request",
        "The task posts the certificate request, the transport key and its device facts to the Enterprise DRS as a domain join, with the computer's token as bearer."));
    steps.push(internal(R, Edrs, Action::ValidateDeviceEnrollment, "Check token and request",
        "The registration service checks AD FS's signature on the token, its issuer, audience and lifetime, and the claims a domain join needs, then the certificate request and the transport key."));
    steps.push(msg(R, Edrs, Ad, Action::CreateDeviceObject, "Device object in AD",
        "The service issues the device certificate from its own device CA and writes an msDS-Device object into Active Directory, named by the computer's object GUID, holding the device key: from now on AD FS knows this device."));
    steps.push(certificate_to_computer(Edrs));
    steps.push(computer_installs_certificate());
}

/// Microsoft Entra hybrid join in a federated domain: the computer signs in
/// to AD FS with its own Kerberos identity, AD FS vouches for it with the
/// claims Microsoft's hybrid join configuration lists, and Entra ID trades
/// that for a registration token; no sync to wait for.
fn hybrid_federated_join(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    steps.push(find_tenant_in_ad());
    steps.push(msg(R, Dsreg, Tpm, Action::CreateDeviceKeys, "Device key and transport key",
        "The TPM creates two RSA-2048 keys that never leave it: the device key, which will prove the device's identity from now on, and the transport key, to which Entra ID will later encrypt the session keys it hands this device."));
    steps.push(msg(R, Dsreg, AdFs, Action::JoinSignIn, "The computer signs in to AD FS",
        "In a federated domain the computer proves who it is to AD FS with its own domain account (integrated Windows authentication at the WS-Trust endpoint). AD FS checks that the caller is a domain computer and issues a token for Entra ID saying so: account type DJ, the computer's object GUID and SID."));
    steps.push(msg(R, Dsreg, AzureAd, Action::ExchangeJoinToken, "Exchange for a registration token",
        "Entra ID checks AD FS's signature, the issuer, audience and lifetime, and that the token describes a domain-joined computer, then issues an access token for its device registration service."));
    steps.push(computer_signs_request());
    steps.push(msg(R, Dsreg, Adrs, Action::EnrollDevice, "Hybrid join request",
        "The task posts the certificate request, the transport key and its device facts to the registration service, as a hybrid join, with the computer's access token as bearer."));
    steps.push(internal(R, Adrs, Action::ValidateDeviceEnrollment, "Check token and request",
        "The registration service checks the token (signature, issuer, audience, lifetime) and that it names a domain-joined computer, then the certificate request and the transport key as for any join."));
    steps.push(msg(R, Adrs, AzureAd, Action::CreateDeviceObject, "Create the device object",
        "The service picks a device ID, issues the device certificate from its device CA, and creates the device object with the device key, the transport key and the computer's SID, by which Microsoft Entra Connect will later match it to the computer account."));
    steps.push(certificate_to_computer(Adrs));
    steps.push(computer_installs_certificate());
    device_writeback(steps);
}

/// Microsoft Entra hybrid join in a managed domain (the synchronised join:
/// MS-DVRJ's request with JoinType 6, authenticated by the computer's
/// self-signed certificate that Microsoft Entra Connect carried to Entra ID).
fn hybrid_join(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    steps.push(find_tenant_in_ad());
    steps.push(msg(R, Dsreg, Tpm, Action::CreateDeviceKeys, "Device key and transport key",
        "The TPM creates two RSA-2048 keys that never leave it: the device key, which will prove the device's identity from now on, and the transport key, to which Entra ID will later encrypt the session keys it hands this device."));
    steps.push(msg(R, Dsreg, Ad, Action::PublishUserCertificate, "Self-signed certificate on the computer object",
        "The task picks the device's ID, makes a self-signed certificate whose subject is that ID, and writes it into the userCertificate attribute of its own computer object. This certificate is how Entra ID will recognise the computer."));
    steps.push(step(R, StepKind::Wait { actor: AadConnect }, Action::WaitForSync, "Wait for the next sync cycle",
        "In a managed domain Entra ID learns of a computer only through Microsoft Entra Connect, which runs every 30 minutes by default. Until its next cycle the join cannot complete; the simulated clock jumps there."));
    steps.push(msg(R, AadConnect, AzureAd, Action::SyncDevice, "Computer becomes a device object",
        "Microsoft Entra Connect reads the computer object and, since its userCertificate holds a self-signed certificate naming a device ID, creates a device object in Entra ID with that ID, the computer's SID and the certificate. The device is known but not yet registered (the portal shows it as pending)."));
    steps.push(computer_signs_request());
    steps.push(msg(R, Dsreg, Adrs, Action::EnrollDevice, "Hybrid join request",
        "The task sends the registration service the certificate request, the transport key and its device facts. In place of a user's token it sends the computer's SID and the time, signed with the self-signed certificate's key: proof that it is the computer Microsoft Entra Connect synchronised."));
    steps.push(internal(R, Adrs, Action::ValidateDeviceEnrollment, "Check the computer's proof",
        "The service looks up the device object the request names, verifies the signed SID with the key of the certificate synchronised for it, checks that the SID is that computer's and the time recent, then checks the certificate request and the transport key as for any join."));
    steps.push(msg(R, Adrs, AzureAd, Action::CreateDeviceObject, "Complete the device object",
        "The service issues the device certificate from its device CA for the device key, and records the device key and the transport key on the device object, which is now registered: the computer is Microsoft Entra hybrid joined."));
    steps.push(certificate_to_computer(Adrs));
    steps.push(computer_installs_certificate());
}

/// Microsoft Entra join at the out-of-box experience (MS-DVRJ; the join
/// request as public implementations send it to the cloud service).
fn entra_join(sign_in: SignIn, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    steps.push(msg(R, User, Cxh, Action::StartJoin, "Work account at setup",
        "On a new device, the out-of-box experience (run by the Cloud Experience Host) asks who the device belongs to. The user enters a work account and its password: the device is about to join the organisation's Microsoft Entra tenant."));
    if sign_in == SignIn::Federated {
        steps.push(msg(R, Cxh, AdFs, Action::JoinSignIn, "Sign in at AD FS",
            "The account's domain is federated, so Entra ID sends the setup screens to AD FS, which checks the password against Active Directory and issues a token for Entra ID naming the user."));
        steps.push(msg(R, Cxh, AzureAd, Action::ExchangeJoinToken, "Exchange for a registration token",
            "Entra ID checks AD FS's signature, the issuer, audience and lifetime, finds the user, and issues an access token for its device registration service: only a signed-in user may join a device, and the token says who that was."));
    } else {
        steps.push(msg(R, Cxh, AzureAd, Action::JoinSignIn, "Sign in to join",
            "The setup screens sign the user in to Entra ID with the password. Entra ID checks it and issues an access token for its device registration service: only a signed-in user may join a device, and the token says who that was."));
    }
    steps.push(msg(R, Cxh, Tpm, Action::CreateDeviceKeys, "Device key and transport key",
        "The TPM creates two RSA-2048 keys that never leave it: the device key, which will prove the device's identity from now on, and the transport key, to which Entra ID will later encrypt the session keys it hands this device."));
    steps.push(msg(R, Tpm, Cxh, Action::SignDeviceRequest, "Certificate request, signed in the TPM",
        "The join request carries a PKCS#10 certificate request for the device key. The TPM signs it with that key, which proves the request comes from whoever holds the key. Its subject is a placeholder: the service names the device."));
    steps.push(msg(R, Cxh, Adrs, Action::EnrollDevice, "Join request",
        "The device posts the certificate request, the transport key as a BCRYPT RSA public blob, and a few facts about itself (type, OS version, name, join type) to the device registration service, with the user's access token as bearer."));
    steps.push(internal(R, Adrs, Action::ValidateDeviceEnrollment, "Check token and request",
        "The registration service checks the token (signature, issuer, audience, lifetime), that the certificate request verifies with its own key and is RSA-2048 with SHA-256, and that the transport key is a well-formed RSA-2048 public blob."));
    steps.push(msg(R, Adrs, AzureAd, Action::CreateDeviceObject, "Create the device object",
        "The service picks a new device ID, issues the device certificate from its device CA (subject: the device ID), and creates the device object in Entra ID with the device key and the transport key. From now on Entra ID knows this device by that key."));
    steps.push(msg(R, Adrs, Cxh, Action::ReturnDeviceCertificate, "Device certificate",
        "The service answers with the device certificate and the user it registered the device for."));
    steps.push(internal(R, Cxh, Action::InstallDeviceCertificate, "Install the certificate",
        "The device checks that the certificate certifies its own device key and reads its device ID from it, then installs it in the computer's certificate store with the key in the TPM. The device is now Microsoft Entra joined."));
    if sign_in == SignIn::Federated {
        device_writeback(steps);
    }
}

/// The user's first sign-in to Windows on the joined device, with the
/// password: CloudAP sends it inside a device-signed request for a Primary
/// Refresh Token (MS-OAPXBC 3.2.5.1.2.1, grant_type `password`; §4's
/// example), which is what later token requests present instead of the
/// password.
fn windows_sign_in(topo: Topology, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::R;
    let issuer = topo.prt_issuer;
    if issuer == AdFs {
        // On premises the PRT is AD FS's: MS-OAPXBC's server role, §4's
        // example sends exactly this request to /adfs/oauth2/token.
        steps.push(msg(R, User, CloudAp, Action::SignInWithPassword, "Password at the sign-in screen",
            "The computer has registered with the Enterprise DRS; now the user signs in to Windows with the password, the only credential there is so far. Besides the domain logon, Windows hands it to the cloud authentication provider (CloudAP), whose AD FS plug-in wants an enterprise Primary Refresh Token for the user on this device."));
        steps.push(msg(R, CloudAp, AdFs, Action::RequestNonce, "Ask for a nonce",
            "CloudAP first asks AD FS's token endpoint for a nonce, a fresh value the signed request must carry, so that a recorded request cannot be replayed."));
        steps.push(msg(R, CloudAp, AdFs, Action::RequestPrt, "PRT request with the password, signed by the device",
            "CloudAP puts the user name, the password and the nonce in a request that the TPM signs with the device key, with the certificate the Enterprise DRS issued attached: the password is checked once, here, and tied to this device."));
        steps.push(internal(R, AdFs, Action::ValidatePrtRequest, "Check device, nonce and password",
            "AD FS checks the device certificate against the Enterprise DRS's device CA and the signature, finds the device object the service wrote into Active Directory and that it is enabled, that the nonce is one it issued and still fresh, and the password against Active Directory."));
        steps.push(msg(R, AdFs, CloudAp, Action::IssuePrt, "Enterprise PRT and session key",
            "AD FS answers with an enterprise Primary Refresh Token for this user on this device and a session key encrypted to the transport key the Enterprise DRS recorded at registration. The PRT records a password sign-in: no second factor yet."));
    } else if topo.authenticator == AdFs {
        // A federated domain: Entra ID does not hold the password. CloudAP
        // trades it for AD FS's SAML token first, then presents that token
        // in the PRT request ("Understanding Primary Refresh Token"; the
        // saml1_1-bearer grant as roadlib and AADInternals send it).
        steps.push(msg(R, User, CloudAp, Action::SignInWithPassword, "Password at the sign-in screen",
            "The device has joined; now the user signs in to Windows on it with the password, the only credential there is so far. Windows hands it to the cloud authentication provider (CloudAP), which needs a Primary Refresh Token for the user on this device. The user's domain is federated: Entra ID cannot check this password, AD FS can."));
        steps.push(msg(R, CloudAp, AdFs, Action::RequestSamlToken, "WS-Trust request with the password",
            "CloudAP posts a WS-Trust request to AD FS's usernamemixed endpoint: a SOAP envelope whose security header carries the user name and the password, asking for a token for Entra ID (urn:federation:MicrosoftOnline). AD FS checks the password against Active Directory and that it has a relying party trust for Entra ID."));
        steps.push(msg(R, AdFs, CloudAp, Action::IssueSamlToken, "SAML token for Entra ID",
            "AD FS answers with a SAML 1.1 assertion for Entra ID, signed with its token-signing key: the user's source anchor (ImmutableID) and UPN, and that the user signed in with a password. CloudAP does not read it further; Entra ID will."));
        steps.push(msg(R, CloudAp, AzureAd, Action::RequestNonce, "Ask for a nonce",
            "CloudAP asks Entra ID for a nonce, a fresh value the signed request must carry, so that a recorded request cannot be replayed."));
        steps.push(msg(R, CloudAp, AzureAd, Action::RequestPrt, "PRT request with AD FS's token, signed by the device",
            "In place of the password, CloudAP puts AD FS's SAML assertion (grant type saml1_1-bearer) and the nonce in a request that the TPM signs with the device key, with the device certificate attached."));
        steps.push(internal(R, AzureAd, Action::ValidatePrtRequest, "Check device, nonce and AD FS's token",
            "Entra ID checks the device certificate and signature against the device it registered and the nonce, then the assertion: its XML signature against the token-signing certificate in the federated domain's settings, the issuer, the audience, the validity window, and the user its ImmutableID names."));
        steps.push(msg(R, AzureAd, CloudAp, Action::IssuePrt, "PRT and session key",
            "Entra ID answers with a Primary Refresh Token for this user on this device and a session key encrypted to the device's transport key. The PRT records a federated password sign-in: no second factor yet."));
    } else {
        steps.push(msg(R, User, CloudAp, Action::SignInWithPassword, "Password at the sign-in screen",
            "The device has joined; now the user signs in to Windows on it with the password, the only credential there is so far. Windows hands it to the cloud authentication provider (CloudAP), which needs a Primary Refresh Token for the user on this device."));
        steps.push(msg(R, CloudAp, AzureAd, Action::RequestNonce, "Ask for a nonce",
            "CloudAP first asks Entra ID for a nonce, a fresh value the signed request must carry, so that a recorded request cannot be replayed."));
        steps.push(msg(R, CloudAp, AzureAd, Action::RequestPrt, "PRT request with the password, signed by the device",
            "CloudAP puts the user name, the password and the nonce in a request that the TPM signs with the device key, with the device certificate attached: the password is checked once, here, and tied to this device."));
        steps.push(internal(R, AzureAd, Action::ValidatePrtRequest, "Check device, nonce and password",
            "Entra ID checks the device certificate and signature against the device it has just registered, that the nonce is one it issued and still fresh, and the password against the hash it holds for the user (a managed domain: the password, or its hash synchronised from AD, is Entra ID's to check)."));
        steps.push(msg(R, AzureAd, CloudAp, Action::IssuePrt, "PRT and session key",
            "Entra ID answers with a Primary Refresh Token for this user on this device and a session key encrypted to the device's transport key. The PRT records a password sign-in: no second factor yet."));
    }
    steps.push(msg(R, CloudAp, Tpm, Action::DecryptSessionKey, "Decrypt the session key",
        "The TPM opens the session key with the transport key and keeps it. From now on CloudAP and the Web Account Manager ask for tokens with the PRT, signed with keys derived from the session key, instead of sending the password again."));
}

/// The first sign-in with the new credential (MS-OAPXBC 3.1.5.1: the nonce,
/// the Primary Refresh Token request and response).
fn phase_s(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::S;
    steps.push(msg(S, User, CloudAp, Action::UnlockWithPin, "PIN at the sign-in screen",
        "Later, at the Windows sign-in screen, the user types the PIN instead of the password. The PIN is not checked by anyone on the network: it only authorises the TPM to use the user key."));
    steps.push(msg(S, CloudAp, AzureAd, Action::RequestNonce, "Ask for a nonce",
        "The cloud authentication provider (CloudAP) first asks Entra ID for a nonce, a fresh value that the signed request must carry, so that no recorded sign-in can be replayed."));
    steps.push(msg(S, CloudAp, Tpm, Action::SignAssertion, "Sign the nonce with the user key",
        "CloudAP builds an assertion naming the user and carrying the nonce, and the TPM signs it with the Windows Hello key, authorised by the PIN. A wrong PIN is a refused TPM2_Sign that the TPM counts."));
    steps.push(msg(S, CloudAp, AzureAd, Action::RequestPrt, "PRT request, signed by the device",
        "The assertion travels inside a request that the TPM signs with the device key, with the device certificate attached: Entra ID learns in one message which user, which key and which device."));
    steps.push(internal(S, AzureAd, Action::ValidatePrtRequest, "Check device, nonce and key",
        "Entra ID checks the device certificate and signature against the device it registered, that the nonce is one it issued and still fresh, and the assertion's signature against the key registered for this user from this device in key registration."));
    steps.push(msg(S, AzureAd, CloudAp, Action::IssuePrt, "PRT and session key",
        "Entra ID answers with a Primary Refresh Token and a new session key, encrypted (RSA-OAEP) to the transport key the device registered when it joined: only this device's TPM can open it."));
    steps.push(msg(S, CloudAp, Tpm, Action::DecryptSessionKey, "Decrypt the session key",
        "CloudAP hands the encrypted key to the TPM, which decrypts it with the transport key. With the PRT and its session key the device gets tokens for apps without asking the user again."));
    steps.push(msg(S, CloudAp, AzureAd, Action::RequestAppToken, "Token request signed with the session key",
        "When an app needs a token, CloudAP asks Entra ID with the PRT. It signs the request (HS256) with a key derived from the session key and a fresh context: a PRT copied off the device is no use without the session key."));
    steps.push(msg(S, AzureAd, CloudAp, Action::IssueAppToken, "Access token, encrypted to the session key",
        "Entra ID finds the PRT, derives the same key from the session key it kept and the request's context, and checks the signature. It answers with an access token for the app, encrypted under another key derived from the session key, which CloudAP derives in turn to read it."));
}

/// The PIN's sign-in to a domain controller with PKINIT (RFC 4556,
/// MS-PKCA): key trust with a self-signed certificate for the user key,
/// certificate trust with the certificate the enterprise CA issued.
fn kerberos_sign_in(flow: FlowId, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::S;
    let certificate = flow.info().trust == crate::catalog::Trust::Certificate;
    if !flow.info().has_segment(Segment::SignIn) {
        steps.push(msg(S, User, Kerberos, Action::UnlockWithPin, "PIN at the sign-in screen",
            "Later, at the Windows sign-in screen, the user types the PIN instead of the password. Nobody on the network checks the PIN: it only authorises the TPM to use the user key."));
    }
    steps.push(msg(S, Kerberos, Tpm, Action::SignAuthPack, "Sign the AuthPack with the user key",
        if certificate {
            "Windows' Kerberos client builds a PKINIT AuthPack: the time, a nonce, a checksum of the request and its Diffie-Hellman public value. The TPM signs it with the user key, which the PIN authorises, and the certificate the enterprise CA issued for that key goes alongside."
        } else {
            "Windows' Kerberos client builds a PKINIT AuthPack: the time, a nonce, a checksum of the request and its Diffie-Hellman public value. There is no certificate from a CA in key trust: the client makes a self-signed one for the user key. The TPM signs both, authorised by the PIN."
        }));
    steps.push(msg(S, Kerberos, Ad, Action::SendAsReq, "AS-REQ with PKINIT",
        "The AS-REQ asks a domain controller for a ticket-granting ticket for the user, with the signed AuthPack as its PA-PK-AS-REQ pre-authentication."));
    steps.push(internal(S, Ad, Action::CheckAsReq, "Check the request against the directory",
        if certificate {
            "The KDC verifies the AuthPack's signature and checksum and the clock, then the certificate: it must chain to a CA in the domain's NTAuth store, be valid and not revoked, carry the Smart Card Logon EKU, and map strongly to the account through its SID extension (KB5014754)."
        } else {
            "The KDC verifies the AuthPack's signature and checksum and the clock, then looks for the signing key in the user's msDS-KeyCredentialLink: key trust ignores the certificate and trusts the key Active Directory holds."
        }));
    steps.push(msg(S, Ad, Kerberos, Action::ReturnAsRep, "AS-REP and the TGT",
        "The KDC answers with its own Diffie-Hellman value, signed with its domain controller certificate, a TGT encrypted with the krbtgt key, and the session key encrypted with the reply key both sides derive from Diffie-Hellman."));
    steps.push(internal(S, Kerberos, Action::OpenAsRep, "Check the domain controller and open the reply",
        "The client checks the domain controller's certificate (issued by the enterprise CA for KDC Authentication) and its signature, derives the reply key and opens its part of the reply: the user has a TGT and is signed in to the domain."));
}

/// Cloud Kerberos trust's sign-in to a domain controller: the partial TGT
/// Entra ID returned with the PRT, presented in a TGS-REQ for the realm's
/// krbtgt (RFC 4120 §3.3), and the full TGT the domain controller issues
/// in its place (MS-KILE 3.3.5.7's handling of a TGT from a read-only
/// domain controller, whose role the Entra Kerberos server object plays).
fn cloud_kerberos_sign_in(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::S;
    steps.push(msg(S, CloudAp, Kerberos, Action::HandOverPartialTgt, "Partial TGT to the Kerberos client",
        "Entra ID's answer carried more than the PRT: a partial ticket-granting ticket for the on-premises domain, and its session key encrypted under the PRT's session key. CloudAP has the TPM derive the key that opens it and hands ticket and key to Windows' Kerberos client. The ticket names the user and nothing more: no groups, no rights."));
    steps.push(msg(S, Kerberos, Ad, Action::SendTgsReq, "TGS-REQ with the partial TGT",
        "The Kerberos client finds a domain controller and asks it for a ticket-granting ticket, presenting the partial one with an authenticator encrypted under its session key, the way any ticket is presented to a KDC."));
    steps.push(internal(S, Ad, Action::CheckTgsReq, "Recognise Entra ID's key and look the user up",
        "The ticket's key version names a read-only domain controller: the Microsoft Entra Kerberos server object, whose krbtgt_AzureAD key Entra ID shares. The KDC opens the ticket with that key, checks the authenticator and the clock, finds the user by the SID the ticket carries, and checks that this server object may vouch for the user: its password replication policy refuses privileged accounts."));
    steps.push(msg(S, Ad, Kerberos, Action::ReturnTgsRep, "TGS-REP with a full TGT",
        "The KDC answers with a new ticket-granting ticket for the user, made from what Active Directory holds and encrypted with the domain's own krbtgt key, and its session key encrypted under the partial ticket's."));
    steps.push(internal(S, Kerberos, Action::OpenTgsRep, "Open the reply: a full TGT",
        "The client opens the reply with the partial ticket's session key and checks its nonce: the user holds a domain TGT, without any certificate and without the key ever having been copied to Active Directory."));
}

fn phase_a(flow: FlowId, topo: Topology, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::A;
    let idp = topo.authenticator;
    steps.push(msg(A, User, Cxh, Action::StartProvisioning, "Set up a PIN",
        "The user has just signed in to Windows with the password, and CloudAP holds the PRT that sign-in brought: that is the first factor. Windows checks that the device is joined and that policy asks for Windows Hello for Business, then the provisioning app in the Cloud Experience Host starts."));
    steps.push(msg(A, Cxh, Wam, Action::AskForToken, "Token for the registration service",
        "The provisioning app cannot talk to the registration service anonymously: it asks the Web Account Manager plug-in for an access token whose audience is the device registration service. The request is interactive and asks for the multi-factor method meant for provisioning a credential (amr_values=ngcmfa), so the user may be prompted."));
    if topo.prt_issuer == AdFs {
        steps.push(msg(A, Wam, AdFs, Action::RequestNonce, "Ask for a nonce",
            "WAM will present the enterprise PRT, and the PRT's signed header must carry a nonce AD FS issued: it asks for a fresh one first."));
        steps.push(msg(A, Wam, AdFs, Action::SignInRequest, "Authorization request with the PRT",
            "WAM opens AD FS's authorization endpoint (/adfs/oauth2/authorize) for the Enterprise DRS with amr_values=ngcmfa and, instead of the password, the enterprise PRT in the x-ms-RefreshTokenCredential header, signed (HS256) with a key the TPM derives from the session key. AD FS finds the PRT it issued and checks the signature: that authenticates the user and the device. The PRT records only a password sign-in, so ngcmfa needs a second factor."));
    } else {
        steps.push(msg(A, Wam, AzureAd, Action::RequestNonce, "Ask for a nonce",
            "WAM will present the PRT, and the PRT's signed header must carry a nonce Entra ID issued: it asks for a fresh one first."));
        steps.push(msg(A, Wam, AzureAd, Action::SignInRequest, "Authorization request with the PRT",
            if idp == AzureAd {
                "WAM opens Entra ID's authorization endpoint for the registration service with amr_values=ngcmfa and, instead of the password, the PRT in the x-ms-RefreshTokenCredential header: a JWT carrying the PRT and the nonce, signed (HS256) with a key the TPM derives from the session key. Entra ID finds the PRT it issued, derives the same key and checks the signature: that authenticates the user and the device. The PRT records only a password sign-in, so ngcmfa needs a second factor."
            } else {
                "WAM opens Entra ID's authorization endpoint for the registration service with amr_values=ngcmfa and the PRT in the x-ms-RefreshTokenCredential header, signed (HS256) with a key the TPM derives from the session key. Entra ID finds the PRT and checks the signature: that authenticates the user and the device. The PRT records a federated password sign-in, and the domain's settings leave the second factor to AD FS: Entra ID answers with a redirect there."
            }));
        if idp == AdFs {
            steps.push(msg(A, Wam, AdFs, Action::FederatedSignIn, "Sign in at AD FS for the second factor",
                "WAM follows the redirect to AD FS with a WS-Federation sign-in request for Entra ID that asks for multiple authentication (wauth=multipleauthn). AD FS checks that it has a relying party trust for Entra ID and finds the user in Active Directory; it authenticates the user without a password prompt (integrated Windows authentication on the corporate network), then turns to the second factor."));
        }
    }
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
                "With both factors done, AD FS issues a token for Entra ID, signed with its token-signing key. It says who the user is and that MFA was performed."));
            steps.push(msg(A, Wam, AzureAd, Action::ExchangeEnterpriseToken, "Exchange the enterprise token",
                "WAM hands the enterprise token to Entra ID. Entra ID trusts AD FS through the federation settings of the domain: it checks the signature with the federation signing key, the issuer, the audience, the lifetime and the MFA claim."));
            steps.push(msg(A, AzureAd, Wam, Action::IssueAccessToken, "ADRS access token",
                "Entra ID mints a token whose audience is its device registration service (ADRS) and signs it with its own key. The amr claim records that MFA was done so that a credential may be provisioned (ngcmfa)."));
        }
        _ => {
            let narration = if idp == AdFs {
                "AD FS issues the access token for its Enterprise Device Registration Service, signed with its token-signing key. The amr claim records the MFA, which the registration service will insist on."
            } else {
                "Entra ID mints a token whose audience is its device registration service (ADRS) and signs it with its own key. The amr claim records that MFA was done so that a credential may be provisioned (ngcmfa)."
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
            "ADRS adds the key to the user's object in Entra ID, with a reference to the device that made it."
        } else {
            "The Enterprise DRS adds a value to msDS-KeyCredentialLink on the user's AD object: a KEYCREDENTIALLINK_BLOB, in DN-Binary form, that names the device."
        }));
    let receipt = flow.has(Feature::KeyReceipt);
    steps.push(msg(C, drs, Cxh, Action::ReturnKeyId,
        if receipt { "Key ID and key receipt" } else { "Key ID" },
        if receipt {
            "The service answers with a key identifier it generated and a key receipt: a signed statement that this key was registered for this user, which the registration authority can check before the key reaches on-premises AD."
        } else if cloud {
            "The service answers with the user's name and a key identifier it generated for the registration, a GUID. The app checks both, and for the user, provisioning with the cloud is done."
        } else {
            "The Enterprise DRS answers with the user's name and a key identifier it generated, a GUID. (The ID that names the key in msDS-KeyCredentialLink is another one: the SHA-256 of the key.)"
        }));
}

fn sync_steps(phase: Phase, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    steps.push(step(phase, StepKind::Wait { actor: AadConnect }, Action::WaitForSync,
        "Wait for the next sync cycle",
        "Microsoft Entra Connect runs on a schedule, every 30 minutes by default. Nothing moves the key on premises until its next cycle starts; the simulated clock jumps there."));
    steps.push(msg(phase, AadConnect, AzureAd, Action::SyncRead, "What changed?",
        "At the start of the cycle Microsoft Entra Connect asks Entra ID for the changes since its last run."));
    steps.push(msg(phase, AzureAd, AadConnect, Action::SyncChanges, "The user's new key",
        "Entra ID returns the user's newly registered public key with its key ID and device reference."));
    steps.push(msg(phase, AadConnect, Ad, Action::SyncWrite, "Write msDS-KeyCredentialLink",
        "Microsoft Entra Connect writes the key into the user's msDS-KeyCredentialLink attribute in on-premises AD, as a KEYCREDENTIALLINK_BLOB in DN-Binary form."));
}

fn sync_phase_key_trust(steps: &mut Vec<StepSpec>) {
    use Actor::*;
    steps.push(msg(Phase::D, User, Ad, Action::SignInBeforeSync, "Sign in on premises (too early)",
        "If the user signs in to a domain resource now, Windows sends the domain controller a Kerberos AS-REQ with PKINIT: an AuthPack signed in the TPM with the Windows Hello key, under a self-signed certificate for it. The KDC checks the signature and the clock, then looks for that public key in the user's msDS-KeyCredentialLink and does not find it: the key is only in Entra ID so far. It answers with a KRB-ERROR, KDC_ERR_CLIENT_NOT_TRUSTED."));
    sync_steps(Phase::D, steps);
    steps.push(msg(Phase::D, User, Ad, Action::SignInAfterSync, "Sign in on premises",
        "The same AS-REQ again: now the KDC finds the key in msDS-KeyCredentialLink. It answers with an AS-REP: its Diffie-Hellman value signed with its own certificate from the enterprise CA, which the client checks (key trust needs that domain controller certificate too), and a TGT. Both sides derive the reply key from the Diffie-Hellman exchange, and the client opens its part of the reply with it."));
}

fn certificate_phases(flow: FlowId, steps: &mut Vec<StepSpec>) {
    use Actor::*;
    use Phase::{D, E, F, G};
    let receipt = flow.has(Feature::KeyReceipt);
    steps.push(msg(D, Cxh, Tpm, Action::SignRequest, "Sign the certificate request",
        "The app builds a PKCS#10 certificate request for the same key that was just registered, and has the TPM sign it: the PIN authorises the use of the key."));
    steps.push(msg(D, Cxh, Ra, Action::SendRequest,
        if receipt { "Certificate request and key receipt" } else { "Certificate request" },
        if receipt {
            "Through the Web Account Manager, the app asks AD FS for a token for its Windows Hello certificate service: an OAuth logon certificate request carrying the PKCS#10 and the key receipt, authenticated by the token AD FS issued in phase A. Neither the user nor the template is the client's to name."
        } else {
            "Through the Web Account Manager, the app asks AD FS for a token for its Windows Hello certificate service: an OAuth logon certificate request carrying the PKCS#10, authenticated by the token AD FS issued in phase A. Neither the user nor the template is the client's to name."
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
    if receipt {
        steps.push(msg(D, Adrs, Ra, Action::FetchReceiptSigners, "Receipt signers",
            "To check a key receipt, AD FS needs the keys the cloud registration service signs receipts with. It downloads them from the service when it starts and refreshes them from time to time, which is why the AD FS farm must reach enterpriseregistration.windows.net. This is the copy AD FS holds when the request arrives."));
    }
    steps.push(internal(E, Ra, Action::ValidateRequest,
        if receipt { "Match the key, or check the receipt" } else { "Match the key" },
        if receipt {
            "AD FS checks that this is a logon certificate request and that the token it carries is one AD FS issued and still valid: the user is whoever that token names. Then the request's own signature, and the key: among the user's registered keys or, if it has not reached AD yet, vouched for by the signed key receipt. Neither, and AD FS answers MSIS9711."
        } else {
            "AD FS checks that this is a logon certificate request and that the token it carries is one AD FS issued and still valid: the user is whoever that token names. Then the request's own signature, and whether its key is among the user's keys in AD. No match, no certificate (MSIS9711)."
        }));
    steps.push(internal(E, Ra, Action::Countersign, "Sign as enrollment agent",
        "The RA wraps the request in a CMS SignedData signed with its enrollment agent certificate, naming the user it enrolls on behalf of."));
    steps.push(msg(F, Ra, Ca, Action::SubmitToCa, "Countersigned request",
        "The RA submits the countersigned request to the enterprise issuing CA for the Windows Hello authentication template."));
    steps.push(internal(F, Ca, Action::IssueCertificate, "Check agent and user, issue",
        "The issuing CA checks that the request carries a valid signature from an enrollment agent certificate with the Certificate Request Agent policy. The template grants Enroll to a group, and the account that submitted the request, AD FS's, must be in it. The CA then looks up, in Active Directory, the user the agent enrolls for, and builds the certificate from the directory, not from the request: the user's distinguished name as subject, the UPN as alternative name, and the SID extension by which domain controllers map the certificate to the account, with the addresses where the CA publishes its revocation list and its own certificate."));
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
        "Token response with the certificate",
        "AD FS answers the token request with the certificate in x5c: a CMS chain holding it, the issuing CA's certificate and the root's. WAM hands it to the app.",
    ));
    steps.push(internal(G, Cxh, Action::InstallCertificate, "Install in the Personal store",
        "The app takes the certificate for its key and the issuing CA's certificate from the chain, checks that it chains to the enterprise root it already trusts, then installs it in the user's Personal store. Provisioning is over: Windows tells the user, in the Action Center, that the PIN can now be used to sign in, on premises too."));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn flow(slug: &str) -> FlowId {
        FlowId::from_slug(slug).unwrap()
    }

    #[test]
    fn phases_come_in_order_and_each_is_named() {
        for flow in FlowId::all() {
            let script = script(flow);
            let mut seen: Vec<Phase> = script.steps.iter().map(|s| s.phase).collect();
            seen.dedup();
            assert!(seen.windows(2).all(|w| w[0] < w[1]), "{flow}: {seen:?}");
            assert_eq!(
                script.phases.iter().map(|p| p.phase).collect::<Vec<_>>(),
                seen,
                "{flow}"
            );
            assert_eq!(script.phase_list(), seen);
        }
    }

    #[test]
    fn step_ids_are_unique_and_read_back() {
        for flow in FlowId::all() {
            let script = script(flow);
            let mut ids = BTreeSet::new();
            for (i, step) in script.steps.iter().enumerate() {
                let text = step.id.to_string();
                assert!(ids.insert(text.clone()), "{flow}: {text} twice");
                assert_eq!(StepId::parse(&text), Some(step.id));
                assert_eq!(script.resolve(&text), Ok(i));
                let json = serde_json::to_string(&step.id).unwrap();
                assert_eq!(serde_json::from_str::<StepId>(&json).unwrap(), step.id);
            }
        }
    }

    #[test]
    fn steps_are_named_by_id_or_by_the_number_old_links_carry() {
        let s = script(flow("hybrid-cert-sync"));
        // Numbers count from provisioning's first step, after the device's
        // registration and the Windows sign-in (20 steps here), as links
        // made before those existed had.
        assert_eq!(s.resolve("1"), Ok(20));
        assert_eq!(s.resolve("registration.register-key"), s.resolve("20"));
        assert_eq!(s.steps[39].id.to_string(), "registration.register-key");
        assert!(s.resolve("0").unwrap_err().contains("does not exist"));
        assert!(s.resolve("999").unwrap_err().contains("does not exist"));
        assert!(s
            .resolve("key-sync.wait-for-sync")
            .unwrap_err()
            .contains("no step"));
        assert!(s.resolve("nonsense").unwrap_err().contains("neither"));
        assert!(s
            .resolve("tokens.nonsense")
            .unwrap_err()
            .contains("neither"));
    }

    #[test]
    fn every_action_has_a_slug_that_reads_back() {
        for action in Action::ALL {
            assert_eq!(Action::from_slug(action.slug()), Some(action));
        }
        for segment in Segment::ALL {
            assert_eq!(Segment::from_slug(segment.slug()), Some(segment));
        }
    }

    #[test]
    fn federated_cloud_flows_go_through_ad_fs_then_azure_ad() {
        for flow in FlowId::all() {
            let steps = script(flow).steps;
            let exchange = steps
                .iter()
                .position(|s| s.action == Action::ExchangeEnterpriseToken);
            let enterprise = steps
                .iter()
                .position(|s| s.action == Action::IssueEnterpriseToken);
            let topo = Topology::of(flow);
            let federated_cloud =
                topo.authenticator == Actor::AdFs && topo.token_issuer == Actor::AzureAd;
            assert_eq!(exchange.is_some(), federated_cloud, "{flow}");
            assert!(enterprise < exchange || !federated_cloud, "{flow}");
        }
    }

    #[test]
    fn only_flows_with_the_feature_return_a_key_receipt() {
        for flow in FlowId::all() {
            let titles: Vec<&str> = script(flow).steps.iter().map(|s| s.title).collect();
            let has_receipt = titles.iter().any(|t| t.contains("receipt"));
            assert_eq!(has_receipt, flow.has(Feature::KeyReceipt), "{flow}");
        }
    }

    #[test]
    fn mermaid_names_every_participant_and_message() {
        for flow in FlowId::all() {
            let script = script(flow);
            let text = script.mermaid();
            assert!(text.starts_with("sequenceDiagram\n"));
            for actor in flow.info().actors {
                assert!(text.contains(&format!("as {}\n", actor.name())), "{flow}");
            }
            let arrows = text.matches("->>").count();
            assert_eq!(
                arrows,
                script.steps.iter().filter(|s| s.kind.is_message()).count()
            );
        }
    }
}
