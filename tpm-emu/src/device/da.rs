//! Dictionary-attack protection (TPM 2.0 Part 1, "Dictionary Attack
//! Protection"; the reference
//! implementation's `DA.c` and `SessionProcess.c`).
//!
//! Every wrong authValue for a DA-protected entity (an object without
//! `noDA`, or `TPM_RH_LOCKOUT`) counts. At `maxTries` failures the TPM
//! refuses every DA-protected authorization, right or wrong, with
//! `TPM_RC_LOCKOUT`. One failure is forgotten per `recoveryTime` seconds
//! since the last failure ("self-healing"); TPM2_DictionaryAttackLockReset,
//! authorized with lockoutAuth, forgets them all. A wrong lockoutAuth
//! disables lockoutAuth itself for `lockoutRecovery` seconds.
//!
//! Time is the caller's clock only ([`crate::Millis`]).

use serde::{Deserialize, Serialize};

use crate::device::Millis;

/// The dictionary-attack state, as the typed layer reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaState {
    /// `failedTries` (`TPM_PT_LOCKOUT_COUNTER`).
    pub failed_tries: u32,
    /// `maxTries` (`TPM_PT_MAX_AUTH_FAIL`).
    pub max_tries: u32,
    /// `recoveryTime` in seconds (`TPM_PT_LOCKOUT_INTERVAL`): one failure is
    /// forgotten per interval; 0 turns DA protection off.
    pub recovery_time_s: u32,
    /// `lockoutRecovery` in seconds (`TPM_PT_LOCKOUT_RECOVERY`).
    pub lockout_recovery_s: u32,
    /// Whether DA-protected authorizations are refused (`TPMA_PERMANENT.inLockout`).
    pub locked_out: bool,
    /// When the lockout ends by self-healing, if locked out (known only to
    /// the device, not reported by TPM2_GetCapability).
    pub lockout_until: Option<Millis>,
    /// When the next failure is forgiven, if any are counted (device only).
    pub next_forgiveness: Option<Millis>,
    /// Whether lockoutAuth may be used now (device only; a wrong lockoutAuth
    /// blocks it for `lockoutRecovery`).
    pub lockout_auth_available: Option<bool>,
}

/// The DA counters and timers.
#[derive(Clone, Debug)]
pub(crate) struct Da {
    pub failed_tries: u32,
    pub max_tries: u32,
    /// Seconds.
    pub recovery_time: u32,
    /// Seconds.
    pub lockout_recovery: u32,
    /// When the self-healing interval started (ms, caller's clock).
    self_heal_timer: u64,
    /// When lockoutAuth was last failed (ms).
    lockout_timer: u64,
    pub lockout_auth_enabled: bool,
}

impl Da {
    pub(crate) fn new(max_tries: u32, recovery_time: u32, lockout_recovery: u32, now: u64) -> Self {
        Da {
            failed_tries: 0,
            max_tries,
            recovery_time,
            lockout_recovery,
            self_heal_timer: now,
            lockout_timer: now,
            lockout_auth_enabled: true,
        }
    }

    /// Whether DA-protected entities are locked out.
    pub(crate) fn locked_out(&self) -> bool {
        self.failed_tries >= self.max_tries
    }

    /// `DASelfHeal()`: forgets failures for each whole `recoveryTime` since
    /// the timer, and re-enables lockoutAuth after `lockoutRecovery`.
    pub(crate) fn self_heal(&mut self, now: u64) {
        if self.failed_tries != 0 {
            if self.recovery_time == 0 {
                self.failed_tries = 0;
            } else {
                let interval = u64::from(self.recovery_time) * 1000;
                let decrease = now.saturating_sub(self.self_heal_timer) / interval;
                let decrease32 = u32::try_from(decrease).unwrap_or(u32::MAX);
                self.failed_tries = self.failed_tries.saturating_sub(decrease32);
                self.self_heal_timer = self
                    .self_heal_timer
                    .saturating_add(decrease.saturating_mul(interval));
            }
        }
        if !self.lockout_auth_enabled
            && self.lockout_recovery != 0
            && now.saturating_sub(self.lockout_timer) / 1000 >= u64::from(self.lockout_recovery)
        {
            self.lockout_auth_enabled = true;
        }
    }

    /// `IncrementLockout()` + `DARegisterFailure()` for an ordinary entity.
    pub(crate) fn register_failure(&mut self, now: u64) {
        if self.recovery_time != 0 {
            self.failed_tries = self.failed_tries.saturating_add(1);
        }
        self.self_heal_timer = now;
    }

    /// A wrong lockoutAuth: lockoutAuth is disabled until `lockoutRecovery`
    /// passes (or, if that is 0, until the next TPM2_Startup).
    pub(crate) fn register_lockout_failure(&mut self, now: u64) {
        self.lockout_auth_enabled = false;
        self.lockout_timer = now;
    }

    pub(crate) fn state(&self) -> DaState {
        let interval = u64::from(self.recovery_time) * 1000;
        let healing = self.recovery_time != 0 && self.failed_tries > 0;
        DaState {
            failed_tries: self.failed_tries,
            max_tries: self.max_tries,
            recovery_time_s: self.recovery_time,
            lockout_recovery_s: self.lockout_recovery,
            locked_out: self.locked_out(),
            lockout_until: (healing && self.locked_out()).then(|| {
                let steps =
                    u64::from(self.failed_tries - self.max_tries.min(self.failed_tries)) + 1;
                Millis(
                    self.self_heal_timer
                        .saturating_add(steps.saturating_mul(interval)),
                )
            }),
            next_forgiveness: healing
                .then(|| Millis(self.self_heal_timer.saturating_add(interval))),
            lockout_auth_available: Some(self.lockout_auth_enabled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn one_failure_is_forgiven_per_recovery_time() {
        let mut da = Da::new(3, 600, 86_400, 0);
        for t in [1_000, 2_000, 3_000] {
            da.register_failure(t);
        }
        assert!(da.locked_out());
        assert_eq!(da.state().lockout_until, Some(Millis(3_000 + 600_000)));
        da.self_heal(3_000 + 599_999);
        assert!(da.locked_out());
        da.self_heal(3_000 + 600_000);
        assert_eq!(da.failed_tries, 2);
        assert!(!da.locked_out());
        da.self_heal(3_000 + 1_800_000);
        assert_eq!(da.failed_tries, 0);
    }
}
