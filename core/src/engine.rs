//! The engine: runs a flow's script step by step against a world.
//!
//! A [`Run`] owns its world. Each call to [`Run::step`] executes the next
//! step's action for real — keys, signatures, checks — and records an
//! [`Event`]: plain data the command line prints and the page renders.
//!
//! What travels between actors is kept as bytes on the *wire*: a producer
//! writes an artifact's bytes there, and its consumer parses those bytes again
//! before checking them. That is what makes tampering honest: flip a byte on
//! the wire and the consumer's real parser and real checks meet it.
//!
//! When a check fails, the run halts after that step: nothing downstream
//! happens, as in the real system.

mod certificate;
mod cloud_kerberos;
mod device_state;
mod enterprise_join;
mod federated_join;
mod federation;
mod holdings;
mod hybrid_join;
mod join;
mod kerberos;
mod keys;
mod registration;
mod sign_in;
mod sync;
mod tamper;
mod tokens;
mod wire;

use crate::artifact::{Artifact, Outcome};
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::flows::{Feature, FlowId, Segment};
use crate::script::{script, Action, Script, StepKind, StepSpec, Topology};
use crate::seed::KeyPurpose;
use crate::world::World;
use std::collections::BTreeMap;

pub use whfb_model::event::{
    Check, ClockMarks, Event, Halt, Holding, HoldingKind, ReportSection, StepStatus, TamperTarget,
    TpmExchange,
};

/// What one call to [`Run::advance`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// The next step ran: its event is the run's last.
    Ran,
    /// The run is over (it reached its end or a check stopped it).
    Ended,
    /// The next step needs this key, which the world does not hold yet:
    /// nothing ran. Make it and call again.
    NeedsKey(KeyPurpose),
}

/// A step whose action could not run: one failed check that says why.
fn failed_output(spec: &StepSpec, error: &Error) -> StepOutput {
    let mut out = StepOutput::default();
    out.check(
        actor_of(spec.kind),
        "Step completed",
        spec.title,
        "",
        Err(error.to_string()),
    );
    out
}

/// What a step's action produced, before it becomes an [`Event`].
#[derive(Debug, Default)]
pub(crate) struct StepOutput {
    pub artifacts: Vec<Artifact>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub tpm: Vec<TpmExchange>,
    pub skipped: Option<String>,
    /// Extra simulated time the step takes (typing, waiting for a sync).
    pub took: SimDuration,
}

impl StepOutput {
    /// Records a check; returns whether it passed, so a step can stop early.
    pub fn check(
        &mut self,
        actor: Actor,
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        result: std::result::Result<(), String>,
    ) -> bool {
        let passed = result.is_ok();
        self.checks
            .push(Check::new(actor, title, compared, rule, result));
        passed
    }

    /// Records a check that `found` is `expected` (the model's
    /// [`equal`](whfb_model::event::equal): the reason names both).
    pub fn check_eq<T: PartialEq + std::fmt::Display + ?Sized>(
        &mut self,
        actor: Actor,
        title: &str,
        compared: impl Into<String>,
        rule: &str,
        (what, expected, found): (&str, &T, &T),
    ) -> bool {
        let result = whfb_model::event::equal(what, expected, found);
        self.check(actor, title, compared, rule, result)
    }

    /// Records the checks a party's check function made; whether they all
    /// passed.
    pub fn record(&mut self, checks: Vec<Check>) -> bool {
        let passed = checks.iter().all(|c| c.outcome.passed());
        self.checks.extend(checks);
        passed
    }

    /// Whether every check so far held as expected.
    pub fn ok(&self) -> bool {
        self.checks.iter().all(Check::as_expected)
    }

    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    pub fn artifact(&mut self, artifact: Artifact) {
        self.artifacts.push(artifact);
    }
}

/// What the run has learnt and holds so far, beyond the wire.
#[derive(Clone, Debug, Default)]
pub(crate) struct RunState {
    /// The TPM user key, once the app has it.
    pub user_key: Option<keys::UserKey>,
    /// Set by the MFA decision: the prompt is needed.
    pub mfa_needed: bool,
    /// Whether the user enrolled a biometric.
    pub biometric_enrolled: bool,
    /// The key ID the registration service returned.
    pub key_id: Option<String>,
    /// The domain controller the Enterprise DRS says wrote the key (its
    /// response's `pctx`), once the app has checked who signed it.
    pub key_writer_dc: Option<String>,
    /// The KEYCREDENTIALLINK_BLOB the registration wrote.
    pub key_credential: Option<Vec<u8>>,
    /// The nonce CloudAP got from Entra ID for the sign-in.
    pub nonce: Option<String>,
    /// The Primary Refresh Token CloudAP holds, and its session key.
    pub prt: Option<String>,
    /// Whether CloudAP's PRT has its session key in the TPM.
    pub session_key_in_tpm: bool,
    /// The tenant the service connection point named (domain, ID), as the
    /// hybrid-joining device read it.
    pub scp_tenant: Option<(String, crate::formats::guid::Guid)>,
    /// The Enterprise DRS the service connection point named (on premises).
    pub scp_drs: Option<String>,
    /// The join endpoint and resource the Enterprise DRS's discovery
    /// document named.
    pub edrs_join: Option<(String, String)>,
    /// The device ID a hybrid-joining device picked for itself.
    pub hybrid_device_id: Option<crate::formats::guid::Guid>,
    /// What the registration service accepted from the device's join request.
    pub accepted_join: Option<join::AcceptedJoin>,
    /// The DN-Binary values the RA read from AD.
    pub ra_key_links: Vec<String>,
    /// The user AD FS took from the logon certificate request's assertion,
    /// once it checked the token.
    pub ra_user: Option<String>,
    /// The user chose a PIN that met the policy and confirmed it.
    pub pin_chosen: bool,
    /// WAM holds the access token the identity provider issued.
    pub wam_token: bool,
    /// The provisioning app holds the access token WAM handed it.
    pub app_token: bool,
    /// The provisioning app holds the user key's public half and attestation.
    pub app_user_key: bool,
    /// The Kerberos client's Diffie-Hellman pair and nonces, once it built
    /// an AS-REQ; the AS-REQ before it is sent; the KDC's answer before it
    /// is sent; the TGT the client obtained.
    pub kerberos: Option<kerberos::KerberosClient>,
    pub as_req: Option<Vec<u8>>,
    pub as_rep: Option<Vec<u8>>,
    pub tgt: Option<crate::kerberos::pkinit::Tgt>,
    /// The reply key and session key of every TGT the client obtained, with
    /// the step that obtained it: what the run bundle's keytab holds beside
    /// the krbtgt key.
    pub kerberos_keys: Vec<(String, &'static str, crate::kerberos::crypto::Key)>,
    /// Cloud Kerberos trust: the `tgt_ad` member of the PRT response, as
    /// CloudAP keeps it; the partial TGT and its session key the Kerberos
    /// client was handed; its TGS-REQ's nonce; the KDC's answer before it
    /// is sent; the full TGT.
    pub tgt_ad: Option<String>,
    pub partial_tgt: Option<crate::kerberos::tgs::Handed>,
    pub tgs_nonce: u32,
    pub tgs_rep: Option<Vec<u8>>,
    pub full_tgt: Option<crate::kerberos::tgs::FullTgt>,
}

/// A flow being run against a world.
#[derive(Clone, Debug)]
pub struct Run {
    pub(crate) world: World,
    pub(crate) flow: FlowId,
    pub(crate) script: Script,
    pub(crate) topo: Topology,
    pub(crate) now: SimTime,
    /// Bytes in flight or held, by artifact id.
    pub(crate) wire: BTreeMap<String, Vec<u8>>,
    pub(crate) state: RunState,
    events: Vec<Event>,
    halted: Option<Halt>,
    /// What happened between steps (the clock moved, bytes were edited),
    /// told in the next step's notes.
    pending_notes: Vec<String>,
}

impl Run {
    /// A run of `flow` in `world`, before its first step.
    pub fn new(mut world: World, flow: FlowId) -> Run {
        let now = world.config.start;
        // An on-premises forest's service connection point names the
        // Enterprise DRS, not a tenant.
        if flow.info().deployment == crate::catalog::Deployment::OnPremises {
            world.directory.scp_keywords =
                vec![format!("enterpriseDrsName:{}", crate::world::EDRS_HOST)];
        }
        if world.config.options.scp_missing {
            world.directory.scp_keywords.clear();
        }
        Run {
            script: script(flow),
            topo: Topology::of(flow),
            flow,
            now,
            world,
            wire: BTreeMap::new(),
            state: RunState::default(),
            events: Vec::new(),
            halted: None,
            pending_notes: Vec::new(),
        }
    }

    /// A run of provisioning alone: the device registered before it (as
    /// in a flow that does not show its registration), and no sign-in
    /// after it. What `whfb run --provisioning-only` runs.
    pub fn provisioning_only(mut world: World, flow: FlowId) -> Result<Run> {
        world.register_device_beforehand()?;
        let mut run = Run::new(world, flow);
        // The Windows sign-in that brought the PRT provisioning presents
        // happened before, too: run it, then keep only what it left.
        if flow.info().has_segment(Segment::WindowsSignIn) {
            let full = std::mem::take(&mut run.script.steps);
            run.script.steps = full
                .iter()
                .filter(|s| s.id.segment == Segment::WindowsSignIn)
                .cloned()
                .collect();
            run.run_to_end();
            if let Some(halt) = run.halted() {
                return Err(Error::Usage(format!(
                    "the Windows sign-in before provisioning failed: {}: {}",
                    halt.check, halt.reason
                )));
            }
            run.events.clear();
            run.wire.clear();
            run.pending_notes.clear();
            run.script.steps = full;
        }
        let around = |s: Segment| {
            matches!(
                s,
                Segment::DeviceRegistration
                    | Segment::WindowsSignIn
                    | Segment::SignIn
                    | Segment::KerberosSignIn
                    | Segment::CloudKerberosSignIn
            )
        };
        run.script.steps.retain(|step| !around(step.id.segment));
        let kept: Vec<_> = run.script.steps.iter().map(|s| s.phase).collect();
        run.script.phases.retain(|p| kept.contains(&p.phase));
        Ok(run)
    }

    pub fn flow(&self) -> FlowId {
        self.flow
    }

    pub fn script(&self) -> &Script {
        &self.script
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The events so far, in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Why the run stopped early, if it did.
    pub fn halted(&self) -> Option<&Halt> {
        self.halted.as_ref()
    }

    /// Every step ran, or a check stopped the run.
    pub fn is_finished(&self) -> bool {
        self.halted.is_some() || self.events.len() >= self.script.steps.len()
    }

    /// The next step to run, if any.
    pub fn next_step(&self) -> Option<&StepSpec> {
        if self.halted.is_some() {
            return None;
        }
        self.script.steps.get(self.events.len())
    }

    /// Executes the next step and returns its event; `None` once finished.
    /// A key the step needs and the world lacks is made here, on the spot:
    /// what the command line and the tests want. The page's worker drives
    /// [`Run::advance`] instead, so it can make keys ahead or elsewhere.
    pub fn step(&mut self) -> Option<&Event> {
        loop {
            match self.advance() {
                Progress::Ran => return self.events.last(),
                Progress::Ended => return None,
                Progress::NeedsKey(purpose) => {
                    if let Err(error) = self.world.keys.make(purpose) {
                        // A key that cannot be made fails the step, as any
                        // error of its action does.
                        let spec = self.next_step()?.clone();
                        let started = self.now;
                        let output = failed_output(&spec, &error);
                        self.record(spec, started, output);
                        return self.events.last();
                    }
                }
            }
        }
    }

    /// Executes the next step unless it needs a key the world does not
    /// hold yet. Then nothing of the run changes: the caller makes the key
    /// (`world_mut().keys.make`, or `seed::make_key` in another worker and
    /// `KeyVault::insert`) and calls again. Keys come from per-purpose
    /// streams, so when and where a key is made changes no byte of the run.
    pub fn advance(&mut self) -> Progress {
        let Some(spec) = self.next_step().cloned() else {
            return Progress::Ended;
        };
        // While a key the flow uses is missing, a step may stop half-way for
        // it: keep the run as it was, to go back to.
        let missing = self
            .keys_needed()
            .into_iter()
            .any(|p| !self.world.keys.has(p));
        let before = missing.then(|| self.clone());
        let started = self.now;
        // A message takes a moment on the network; the action adds the rest.
        if spec.kind.is_message() {
            self.now = self.now.plus(SimDuration(400));
        }
        let output = match (self.execute(spec.action), before) {
            (Ok(out), _) => out,
            (Err(Error::NeedsKey(purpose)), Some(before)) => {
                *self = before;
                return Progress::NeedsKey(purpose);
            }
            (Err(error), _) => failed_output(&spec, &error),
        };
        self.record(spec, started, output);
        Progress::Ran
    }

    /// Records the event of the step `spec` that started at `started`.
    fn record(&mut self, spec: StepSpec, started: SimTime, output: StepOutput) {
        let index = self.events.len();
        self.now = self.now.plus(output.took);
        let failed = output.checks.iter().find(|c| !c.as_expected()).cloned();
        let status = match (&failed, &output.skipped) {
            (Some(check), _) => StepStatus::Failed {
                check: check.title.clone(),
                reason: match &check.outcome {
                    Outcome::Fail { reason } => reason.clone(),
                    Outcome::Pass => format!("{} was expected to refuse, and did not", check.title),
                },
            },
            (None, Some(why)) => StepStatus::Skipped { why: why.clone() },
            (None, None) => StepStatus::Done,
        };
        let mut notes = std::mem::take(&mut self.pending_notes);
        notes.extend(output.notes);
        if let (Some(check), StepStatus::Failed { reason, .. }) = (&failed, &status) {
            self.halted = Some(Halt {
                step: index,
                actor: check.actor,
                check: check.title.clone(),
                reason: reason.clone(),
            });
        }
        self.events.push(Event {
            index,
            id: spec.id,
            phase: spec.phase,
            kind: spec.kind,
            action: spec.action,
            title: spec.title.to_string(),
            narration: spec.narration.to_string(),
            time: self.now,
            elapsed: self.now.since(started),
            status,
            notes,
            artifacts: output.artifacts,
            checks: output.checks,
            tpm: output.tpm,
            holdings: Vec::new(),
            clock: self.clock_marks(),
            tamperable: Vec::new(),
            device_state: Vec::new(),
        });
        let holdings = self.holdings();
        let tamperable = self.tamper_targets();
        let device_state = self.device_report();
        if let Some(event) = self.events.last_mut() {
            event.holdings = holdings;
            event.tamperable = tamperable;
            event.device_state = device_state;
        }
    }

    /// Runs every remaining step.
    pub fn run_to_end(&mut self) -> &[Event] {
        while self.step().is_some() {}
        &self.events
    }

    /// Runs steps until `index` has been executed (or the run stops).
    pub fn run_through(&mut self, index: usize) -> Result<()> {
        if index >= self.script.steps.len() {
            return Err(Error::Usage(format!(
                "step {} does not exist: the flow has {} steps",
                index + 1,
                self.script.steps.len()
            )));
        }
        while self.events.len() <= index && self.step().is_some() {}
        Ok(())
    }

    /// The bytes of an artifact currently on the wire.
    pub fn wire(&self, id: &str) -> Option<&[u8]> {
        self.wire.get(id).map(Vec::as_slice)
    }

    /// Replaces the bytes of an artifact on the wire, as an attacker in the
    /// middle would; the consumer's checks will meet the new bytes.
    pub fn tamper(&mut self, id: &str, bytes: Vec<u8>) -> Result<()> {
        match self.wire.get_mut(id) {
            Some(slot) => {
                *slot = bytes;
                self.pending_notes.push(format!(
                    "`{id}` was edited on the wire; its original signature was kept."
                ));
                Ok(())
            }
            None => Err(Error::Usage(format!(
                "no artifact `{id}` is on the wire at this point of the run"
            ))),
        }
    }

    /// The infrastructure keys this flow will use, in the order it needs them.
    pub fn keys_needed(&self) -> Vec<KeyPurpose> {
        keys_needed(self.flow)
    }

    /// Prepares one slow thing ahead of need (an RSA-2048 key takes a few
    /// tenths of a second in a browser): the device key and transport key in
    /// the TPM, then the next infrastructure key this flow uses that does not
    /// exist yet, then the enterprise PKI. Returns what it prepared, or
    /// `None` when everything is ready. Keys come from per-purpose seeded
    /// streams, and the device keys are always the TPM's first creations
    /// ([`crate::device::Device::keys`]), so preparing them early changes no
    /// byte of the run.
    pub fn warm_up_one(&mut self) -> Result<Option<String>> {
        if self.world.device.keys_if_made().is_none() {
            self.world.device.keys()?;
            return Ok(Some(
                "the device key and the transport key (in the TPM)".into(),
            ));
        }
        for purpose in self.keys_needed() {
            if !self.world.keys.has(purpose) {
                self.world.keys.make(purpose)?;
                return Ok(Some(purpose.description().to_string()));
            }
        }
        if self.flow.info().trust == crate::catalog::Trust::Certificate
            && self.world.pki_if_built().is_none()
        {
            self.world.pki()?;
            return Ok(Some(
                "the enterprise PKI (root CA and enrollment agent certificates)".into(),
            ));
        }
        Ok(None)
    }

    /// Moves the simulated clock forward between steps, as if the user
    /// waited: MFA goes stale, tokens expire, a sync cycle comes round.
    pub fn advance_clock(&mut self, by: SimDuration) {
        self.now = self.now.plus(by);
        self.pending_notes.push(format!(
            "The clock was moved forward by {by} before this step; it is now {}.",
            self.now
        ));
    }

    /// Mutable access to the world, for fault injection between steps.
    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    fn execute(&mut self, action: Action) -> Result<StepOutput> {
        use Action::*;
        match action {
            FindTenant => self.find_tenant(),
            PublishUserCertificate => self.publish_user_certificate(),
            SyncDevice => self.sync_device(),
            WriteBackDevice => self.write_back_device(),
            DiscoverService => self.discover_service(),
            StartJoin => self.start_join(),
            JoinSignIn => self.join_sign_in(),
            ExchangeJoinToken => self.exchange_join_token(),
            CreateDeviceKeys => self.create_device_keys(),
            SignDeviceRequest => self.sign_device_request(),
            EnrollDevice => self.enroll_device(),
            ValidateDeviceEnrollment => self.validate_device_enrollment(),
            CreateDeviceObject => self.create_device_object(),
            ReturnDeviceCertificate => self.return_device_certificate(),
            InstallDeviceCertificate => self.install_device_certificate(),
            SignInWithPassword => self.sign_in_with_password(),
            RequestSamlToken => self.request_saml_token(),
            IssueSamlToken => self.issue_saml_token(),
            UnlockWithPin => self.unlock_with_pin(),
            RequestNonce => self.request_nonce(),
            SignAssertion => self.sign_assertion(),
            RequestPrt => self.request_prt(),
            ValidatePrtRequest => self.validate_prt_request(),
            IssuePrt => self.issue_prt(),
            DecryptSessionKey => self.decrypt_session_key(),
            RequestAppToken => self.request_app_token(),
            IssueAppToken => self.issue_app_token(),
            StartProvisioning => self.start_provisioning(),
            AskForToken => self.ask_for_token(),
            SignInRequest => self.sign_in_request(),
            FederatedSignIn => self.federated_sign_in(),
            MfaDecision => self.mfa_decision(),
            MfaChallenge => self.mfa_challenge(),
            MfaPrompt => self.mfa_prompt(),
            MfaApprove => self.mfa_approve(),
            MfaResult => self.mfa_result(),
            IssueEnterpriseToken => self.issue_enterprise_token(),
            ExchangeEnterpriseToken => self.exchange_enterprise_token(),
            IssueAccessToken => self.issue_access_token(),
            DeliverToken => self.deliver_token(),
            DetectSensor => self.detect_sensor(),
            EnrollBiometric => self.enroll_biometric(),
            CreatePin => self.create_pin(),
            RequestKey => self.request_key(),
            ReturnKey => self.return_key(),
            RegisterKey => self.register_key(),
            ValidateRegistration => self.validate_registration(),
            StoreKey => self.store_key(),
            ReturnKeyId => self.return_key_id(),
            SignInBeforeSync => self.sign_in_on_premises(true),
            WaitForSync => self.wait_for_sync(),
            SyncRead => self.sync_read(),
            SyncChanges => self.sync_changes(),
            SyncWrite => self.sync_write(),
            SignInAfterSync => self.sign_in_on_premises(false),
            SignRequest => self.sign_request(),
            SendRequest => self.send_request(),
            ReadKeyLinks => self.read_key_links(),
            ReturnKeyLinks => self.return_key_links(),
            FetchReceiptSigners => self.fetch_receipt_signers(),
            ValidateRequest => self.validate_request(),
            Countersign => self.countersign(),
            SubmitToCa => self.submit_to_ca(),
            IssueCertificate => self.issue_certificate(),
            ReturnCertificateToRa => self.return_certificate_to_ra(),
            ReturnCertificate => self.return_certificate(),
            InstallCertificate => self.install_certificate(),
            SignAuthPack => self.sign_auth_pack(),
            SendAsReq => self.send_as_req(),
            CheckAsReq => self.check_as_req(),
            ReturnAsRep => self.return_as_rep(),
            OpenAsRep => self.open_as_rep(),
            HandOverPartialTgt => self.hand_over_partial_tgt(),
            SendTgsReq => self.send_tgs_req(),
            CheckTgsReq => self.check_tgs_req(),
            ReturnTgsRep => self.return_tgs_rep(),
            OpenTgsRep => self.open_tgs_rep(),
        }
    }

    /// The segment of the step being executed (or next to run).
    pub(crate) fn current_segment(&self) -> Option<Segment> {
        self.script
            .steps
            .get(self.events.len())
            .map(|s| s.id.segment)
    }

    /// The keys that open the run's Kerberos messages, for a keytab: the
    /// krbtgt key (it opens every TGT) and, labelled by the step that
    /// obtained them, each AS-REP's reply key (from Diffie-Hellman) and its
    /// TGT's session key.
    pub fn kerberos_keys(&self) -> Vec<crate::kerberos::keytab::Entry> {
        use crate::kerberos::keytab::Entry;
        use crate::kerberos::messages::name_type;
        let realm = crate::world::REALM.to_string();
        let mut out = Vec::new();
        let krbtgt = |kvno: u32, key: crate::kerberos::crypto::Key| Entry {
            realm: realm.clone(),
            components: vec!["krbtgt".into(), realm.clone()],
            name_type: name_type::SRV_INST as u32,
            timestamp: self.world.config.start,
            kvno,
            key,
        };
        if let Some(dc) = self.world.domain_controller_if_built() {
            out.push(krbtgt(dc.krbtgt_kvno, dc.krbtgt.clone()));
        } else if self.state.full_tgt.is_some() || self.state.tgs_rep.is_some() {
            if let Ok((key, kvno)) = self.world.domain_krbtgt() {
                out.push(krbtgt(kvno, key));
            }
        }
        // Cloud Kerberos trust: the server object's keys, Entra ID's and
        // AD's (they differ once AD's was reset), under the realm's krbtgt
        // with their RODC key versions.
        if self.state.tgt_ad.is_some() {
            let entra = self.world.entra_kerberos_domain().ok().flatten();
            let ad = self.world.ad_kerberos_server().ok().flatten();
            let entra_version = entra.as_ref().map(|(n, _, v)| (*n, *v));
            if let Some((number, key, version)) = entra {
                out.push(krbtgt(
                    crate::kerberos::tgs::rodc_kvno(number, version),
                    key,
                ));
            }
            if let Some(r) = ad.filter(|r| Some((r.number, r.version)) != entra_version) {
                out.push(krbtgt(
                    crate::kerberos::tgs::rodc_kvno(r.number, r.version),
                    r.key,
                ));
            }
        }
        for (step, what, key) in &self.state.kerberos_keys {
            out.push(Entry {
                realm: realm.clone(),
                components: vec![(*what).into(), step.clone()],
                name_type: name_type::PRINCIPAL as u32,
                timestamp: self.world.config.start,
                kvno: 0,
                key: key.clone(),
            });
        }
        out
    }

    /// The device's ID as the device knows it; an error before it joined.
    pub(crate) fn device_id(&self) -> Result<crate::formats::guid::Guid> {
        self.world.device.id().ok_or_else(|| {
            Error::Usage("the device has not joined yet, so it has no device ID".into())
        })
    }

    /// Puts bytes on the wire under `id` and returns them for the artifact view.
    pub(crate) fn put(&mut self, id: &str, bytes: Vec<u8>) -> Vec<u8> {
        self.wire.insert(id.to_string(), bytes.clone());
        bytes
    }

    /// The bytes under `id`, or an error naming what is missing.
    pub(crate) fn take(&self, id: &str) -> Result<Vec<u8>> {
        self.wire
            .get(id)
            .cloned()
            .ok_or_else(|| Error::Usage(format!("`{id}` has not been produced yet in this run")))
    }

    /// The text under `id` (tokens, JSON).
    pub(crate) fn take_text(&self, id: &str) -> Result<String> {
        String::from_utf8(self.take(id)?)
            .map_err(|_| Error::malformed("message", format!("`{id}` is not UTF-8 text")))
    }

    /// The JSON body under `id` as `actor` receives it. Bytes that are not
    /// JSON (a tampered body) fail the receiver's check `title` and give
    /// `None`: the step stops there.
    pub(crate) fn take_json(
        &self,
        id: &str,
        out: &mut StepOutput,
        actor: Actor,
        title: &str,
        rule: &str,
    ) -> Result<Option<serde_json::Value>> {
        match serde_json::from_slice(&self.take(id)?) {
            Ok(body) => Ok(Some(body)),
            Err(e) => {
                out.check(actor, title, "a JSON body", rule, Err(e.to_string()));
                Ok(None)
            }
        }
    }
}

/// The audience of the registration service's access token in this run.
pub(crate) fn registration_audience(run: &Run) -> &'static str {
    if run.topo.token_issuer == Actor::AzureAd {
        crate::world::ADRS_AUDIENCE
    } else {
        crate::world::EDRS_AUDIENCE
    }
}

fn actor_of(kind: StepKind) -> Actor {
    match kind {
        StepKind::Message { to, .. } => to,
        StepKind::Internal { actor } | StepKind::Wait { actor } => actor,
    }
}

/// The infrastructure keys `flow` uses, in the order it needs them: known
/// before any world is built, so that they can be made ahead of need.
pub fn keys_needed(flow: FlowId) -> Vec<KeyPurpose> {
    let info = flow.info();
    let topo = Topology::of(flow);
    let mut keys = Vec::new();
    // The join: Entra ID signs the user's token, the device CA certifies
    // the device.
    // A hybrid join: the computer's self-signed certificate, then the
    // device CA.
    if info.segments.contains(&Segment::DeviceRegistration) {
        match (info.deployment, info.sign_in) {
            (crate::catalog::Deployment::OnPremises, _) => {
                keys.push(KeyPurpose::AdFsTokenSigning);
                keys.push(KeyPurpose::EnterpriseDeviceCa);
            }
            (crate::catalog::Deployment::Hybrid, crate::catalog::SignIn::Managed) => {
                keys.push(KeyPurpose::HybridJoinCertificate);
            }
            (_, crate::catalog::SignIn::Federated) => {
                keys.push(KeyPurpose::AdFsTokenSigning);
                keys.push(KeyPurpose::AzureAdTokenSigning);
            }
            _ => keys.push(KeyPurpose::AzureAdTokenSigning),
        }
        if info.deployment != crate::catalog::Deployment::OnPremises {
            keys.push(KeyPurpose::DeviceCa);
        }
    }
    if (topo.authenticator == Actor::AdFs || topo.token_issuer == Actor::AdFs)
        && !keys.contains(&KeyPurpose::AdFsTokenSigning)
    {
        keys.push(KeyPurpose::AdFsTokenSigning);
    }
    // The key receipt is signed by the cloud registration service.
    if (topo.token_issuer == Actor::AzureAd || flow.has(Feature::KeyReceipt))
        && !keys.contains(&KeyPurpose::AzureAdTokenSigning)
    {
        keys.push(KeyPurpose::AzureAdTokenSigning);
    }
    if info.trust == crate::catalog::Trust::Certificate {
        keys.push(KeyPurpose::EnterpriseRootCa);
        keys.push(KeyPurpose::EnterpriseIssuingCa);
        keys.push(KeyPurpose::EnrollmentAgent);
    }
    // A sign-in on premises reaches a domain controller, whose KDC
    // certificate the enterprise issuing CA under the root issued.
    if info.segments.contains(&Segment::KeySync) || info.segments.contains(&Segment::KerberosSignIn)
    {
        for purpose in [
            KeyPurpose::EnterpriseRootCa,
            KeyPurpose::EnterpriseIssuingCa,
            KeyPurpose::DomainController,
        ] {
            if !keys.contains(&purpose) {
                keys.push(purpose);
            }
        }
    }
    // The sign-in presents the device certificate, which a device that
    // joined before the run was given by the device CA then.
    if info.segments.contains(&Segment::SignIn) && !keys.contains(&KeyPurpose::DeviceCa) {
        keys.push(KeyPurpose::DeviceCa);
    }
    keys
}
