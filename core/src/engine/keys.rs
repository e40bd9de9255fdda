//! Phase B: biometrics, the PIN, and the user key from the TPM's pool.

use super::wire::tokens::ACCESS_TOKEN;
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::clock::SimDuration;
use crate::device::{self, KeyAttestation};
use crate::error::Result;
use sha2::{Digest, Sha256};

/// Wire ids of phase B's artifacts.
use super::wire::keys as wire;

/// The user key as the app knows it: where it is loaded in the TPM.
#[derive(Clone, Debug)]
pub(crate) struct UserKey {
    pub loaded: device::LoadedKey,
}

impl Run {
    pub(crate) fn detect_sensor(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if self.world.device.biometric_sensor {
            out.note("A Windows Hello compatible sensor answered: the user will be offered biometric enrollment.");
        } else {
            out.note("No compatible biometric sensor: the PIN will be the only gesture.");
        }
        Ok(out)
    }

    pub(crate) fn enroll_biometric(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        if !self.world.device.biometric_sensor {
            out.skipped = Some("there is no biometric sensor on this device".into());
            return Ok(out);
        }
        // Every phase B table lets the user skip it: the PIN is enough.
        if self.world.config.options.skip_biometric {
            out.skipped = Some(
                "the user chose to skip biometric enrollment; the PIN alone will unlock the key"
                    .into(),
            );
            out.took = SimDuration::seconds(3);
            return Ok(out);
        }
        self.state.biometric_enrolled = true;
        out.note("The user enrolls a face. The template is kept by the biometric service on this device and only releases the key's use; it is not part of any message.");
        // Looking at the camera while Windows captures the face takes a while.
        out.took = SimDuration::seconds(45);
        Ok(out)
    }

    pub(crate) fn create_pin(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let options = &self.world.config.options;
        let violations = options.pin_policy.violations(&options.pin);
        let policy = &options.pin_policy;
        out.check(
            Actor::Cxh,
            "PIN meets the policy",
            format!(
                "a PIN of {} characters against the PIN complexity policy (length {}–{}, digits {:?}, lowercase {:?}, uppercase {:?}, special {:?})",
                options.pin.chars().count(),
                policy.min_length,
                policy.max_length,
                policy.digits,
                policy.lowercase,
                policy.uppercase,
                policy.special
            ),
            "Windows Hello for Business PIN complexity policy",
            if violations.is_empty() { Ok(()) } else { Err(violations.join("; ")) },
        );
        out.check(
            Actor::Cxh,
            "PIN confirmed",
            "the second entry against the first",
            "Windows Hello PIN setup",
            if options.pin == options.pin_confirmation {
                Ok(())
            } else {
                Err("the two PIN entries differ: the user must type the same PIN twice".into())
            },
        );
        out.note("The PIN stays on the device. It will become the authorisation value of the TPM key, not a secret sent to a server.");
        // Choosing a PIN and typing it twice.
        out.took = SimDuration::seconds(40);
        self.state.pin_chosen = out.ok();
        Ok(out)
    }

    pub(crate) fn request_key(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        // The nonce binds the attestation to this registration: it is the
        // SHA-256 of the access token the app will present (modelled).
        let token = self.take(ACCESS_TOKEN)?;
        let nonce: [u8; 32] = Sha256::digest(&token).into();
        let options = self.world.config.options.clone();
        let pool_before = self.world.device.pool_state();
        let mut log = Vec::new();
        let result = self.world.device.take_user_key(
            &nonce,
            &options.pin,
            options.wrong_pin_attempts,
            self.now,
            &mut log,
        );
        out.tpm.extend(log);
        out.note(format!(
            "The pool held {} ready key(s); the app takes one. Making a new RSA-2048 key now would take a few hundred milliseconds in a browser.",
            pool_before.ready
        ));
        if options.wrong_pin_attempts > 0 {
            let da = self.world.device.da_state();
            out.note(format!(
                "The user first typed a wrong PIN {} time(s): the TPM counted each failure ({} of {} before lockout).",
                options.wrong_pin_attempts, da.failed_tries, da.max_tries
            ));
        }
        match result {
            Ok((loaded, attestation)) => {
                out.check(
                    Actor::Tpm,
                    "PIN authorises the key",
                    "the PIN-derived authValue in the password session against the key's authValue",
                    "TPM 2.0 Part 1 §19.6.5 (password authorisation)",
                    Ok(()),
                );
                self.put_attestation(&attestation);
                self.state.user_key = Some(UserKey { loaded });
            }
            Err(failure) => {
                out.check(
                    Actor::Tpm,
                    "PIN authorises the key",
                    "the PIN-derived authValue in the password session against the key's authValue",
                    "TPM 2.0 Part 1 §19.6.5 (password authorisation), §19.8 (dictionary attack protection)",
                    Err(failure),
                );
            }
        }
        out.took = SimDuration(300);
        Ok(out)
    }

    fn put_attestation(&mut self, attestation: &KeyAttestation) {
        self.put(wire::USER_KEY_PUBLIC, attestation.public.clone());
        self.put(wire::ATTESTATION, attestation.attest.clone());
        self.put(wire::ATTESTATION_SIGNATURE, attestation.signature.clone());
        self.put(wire::AIK_CERTIFICATE, attestation.aik_certificate.clone());
    }

    pub(crate) fn return_key(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let public = self.take(wire::USER_KEY_PUBLIC)?;
        out.artifact(device::public_artifact(
            wire::USER_KEY_PUBLIC,
            "User key ukpub (TPM2B_PUBLIC)",
            &public,
        ));
        out.artifact(device::attest_artifact(
            wire::ATTESTATION,
            "Key attestation (TPMS_ATTEST)",
            &self.take(wire::ATTESTATION)?,
        ));
        out.artifact(device::signature_artifact(
            wire::ATTESTATION_SIGNATURE,
            "Attestation signature by the AIK (TPMT_SIGNATURE)",
            &self.take(wire::ATTESTATION_SIGNATURE)?,
        ));
        out.artifact(crate::enterprise_pki::certificate_artifact(
            wire::AIK_CERTIFICATE,
            "AIK certificate",
            &self.take(wire::AIK_CERTIFICATE)?,
            Some("issued by the world's attestation CA, standing in for Microsoft's AIK certification service"),
        ));
        // The app makes sure the TPM gave it the kind of key it asked for.
        out.check(
            Actor::Cxh,
            "Key is a non-exportable signing key",
            "objectAttributes of the TPMT_PUBLIC: fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth and sign set; restricted and decrypt clear; RSA-2048, e = 65537",
            "TPM 2.0 Part 2 §8.3 (TPMA_OBJECT)",
            crate::attestation::check_user_key_public(&public),
        );
        self.state.app_user_key = out.ok();
        Ok(out)
    }
}
