//! What a person chooses about a run, as plain data: the seed's text, the
//! seeds' conditions (a sensor, the last MFA, the PIN and its policy, AD FS
//! up or down, Microsoft Entra Connect's schedule) and their one text form, shared
//! by links (`mfa=2`) and the command line (`--mfa 2`).

use crate::clock::SimDuration;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The text a run's seed comes from (`demo`, `42`, …): 1 to 64 characters,
/// so that it fits in a link and a file name. The command line and links
/// read it through [`SeedText::parse`], so both say the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SeedText(String);

impl SeedText {
    /// The longest seed, in characters.
    pub const MAX_CHARS: usize = 64;

    /// The seed of the demo runs (and of the known answers).
    pub fn demo() -> SeedText {
        SeedText("demo".into())
    }

    /// A seed's text, or why it cannot be one.
    pub fn parse(text: &str) -> Result<SeedText, String> {
        let n = text.chars().count();
        if n == 0 || n > Self::MAX_CHARS {
            return Err(format!(
                "the seed must be 1 to {} characters, not {n}",
                Self::MAX_CHARS
            ));
        }
        Ok(SeedText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SeedText {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        SeedText::parse(&text)
    }
}

impl From<SeedText> for String {
    fn from(seed: SeedText) -> String {
        seed.0
    }
}

impl fmt::Display for SeedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The PIN complexity policy (Windows Hello for Business PIN complexity
/// settings: length 4–127, default minimum 6; character classes allowed,
/// required or disallowed).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinPolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub digits: CharRule,
    pub lowercase: CharRule,
    pub uppercase: CharRule,
    pub special: CharRule,
}

/// Whether a class of characters may, must or must not appear in a PIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CharRule {
    Allowed,
    Required,
    Disallowed,
}

impl Default for PinPolicy {
    fn default() -> Self {
        PinPolicy {
            min_length: 6,
            max_length: 127,
            digits: CharRule::Allowed,
            lowercase: CharRule::Disallowed,
            uppercase: CharRule::Disallowed,
            special: CharRule::Disallowed,
        }
    }
}

impl PinPolicy {
    /// Every rule the PIN breaks, in words; empty when it complies.
    pub fn violations(&self, pin: &str) -> Vec<String> {
        let mut out = Vec::new();
        let len = pin.chars().count();
        if len < self.min_length {
            out.push(format!(
                "the PIN has {len} characters; the policy asks for at least {}",
                self.min_length
            ));
        }
        if len > self.max_length {
            out.push(format!(
                "the PIN has {len} characters; the policy allows at most {}",
                self.max_length
            ));
        }
        type Class = (&'static str, CharRule, fn(char) -> bool);
        let classes: [Class; 4] = [
            ("digits", self.digits, |c| c.is_ascii_digit()),
            ("lowercase letters", self.lowercase, |c| {
                c.is_ascii_lowercase()
            }),
            ("uppercase letters", self.uppercase, |c| {
                c.is_ascii_uppercase()
            }),
            ("special characters", self.special, |c| {
                c.is_ascii_punctuation() || c == ' '
            }),
        ];
        for (name, rule, test) in classes {
            let present = pin.chars().any(test);
            match rule {
                CharRule::Required if !present => out.push(format!("the policy requires {name}")),
                CharRule::Disallowed if present => {
                    out.push(format!("the policy does not allow {name}"))
                }
                _ => {}
            }
        }
        if pin.chars().any(|c| !c.is_ascii() || c.is_ascii_control()) {
            out.push("a PIN may only use printable ASCII characters".into());
        }
        out
    }
}

/// When the user last completed MFA, as the run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LastMfa {
    /// No MFA on record: the user is prompted.
    Never,
    /// This long before the run starts.
    Ago(SimDuration),
}

/// What became of the user's registered Windows Hello key by the first
/// sign-in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInKey {
    /// Registered from this device in phase C, as documented.
    #[default]
    Registered,
    /// An administrator deleted it from the user's authentication methods.
    Deleted,
    /// The device joined again since provisioning: the key stays filed
    /// under the device object it was registered from.
    OtherDevice,
}

impl SignInKey {
    /// The value links and the command line use.
    pub fn slug(self) -> &'static str {
        match self {
            SignInKey::Registered => "registered",
            SignInKey::Deleted => "deleted",
            SignInKey::OtherDevice => "other-device",
        }
    }
}

/// What became of the user's logon certificate by the sign-in to a domain
/// controller (certificate trust).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserCertificate {
    /// As issued, with the SID security extension.
    #[default]
    Valid,
    /// Issued by a CA not updated for KB5014754: no SID extension, so only
    /// a weak (UPN) mapping.
    NoSid,
    /// Revoked after it was issued; the CA's CRL lists it.
    Revoked,
    /// Past its validity: the sign-in happens after the certificate's
    /// notAfter (nobody renewed it).
    Expired,
}

impl UserCertificate {
    /// The value links and the command line use.
    pub fn slug(self) -> &'static str {
        match self {
            UserCertificate::Valid => "valid",
            UserCertificate::NoSid => "no-sid",
            UserCertificate::Revoked => "revoked",
            UserCertificate::Expired => "expired",
        }
    }
}

/// What the device's Windows Hello for Business prerequisite check finds
/// when provisioning would start: every prerequisite met, or the one that
/// is not, by the field of `dsregcmd /status`'s "Ngc Prerequisite Check"
/// that reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prerequisite {
    #[default]
    Met,
    /// PolicyEnabled: no policy turns Windows Hello for Business on.
    PolicyDisabled,
    /// PostLogonEnabled: the policy does not let provisioning start after
    /// the sign-in.
    PostLogonDisabled,
    /// SessionIsNotRemote: the user is signed in over Remote Desktop.
    RemoteSession,
    /// DeviceEligible: the device does not meet the hardware requirements
    /// (a policy asks for a TPM the device does not have).
    DeviceIneligible,
    /// IsUserAzureAD: the user signed in with an account Microsoft Entra
    /// ID does not know (a local account, or a domain account not synced).
    UserNotInEntra,
}

impl Prerequisite {
    pub const ALL: [Prerequisite; 6] = [
        Prerequisite::Met,
        Prerequisite::PolicyDisabled,
        Prerequisite::PostLogonDisabled,
        Prerequisite::RemoteSession,
        Prerequisite::DeviceIneligible,
        Prerequisite::UserNotInEntra,
    ];

    /// The value links and the command line use.
    pub fn slug(self) -> &'static str {
        match self {
            Prerequisite::Met => "met",
            Prerequisite::PolicyDisabled => "policy-disabled",
            Prerequisite::PostLogonDisabled => "postlogon-disabled",
            Prerequisite::RemoteSession => "remote-session",
            Prerequisite::DeviceIneligible => "device-ineligible",
            Prerequisite::UserNotInEntra => "user-not-in-entra",
        }
    }

    /// The field of the "Ngc Prerequisite Check" section that says NO.
    pub fn field(self) -> Option<&'static str> {
        match self {
            Prerequisite::Met => None,
            Prerequisite::PolicyDisabled => Some("PolicyEnabled"),
            Prerequisite::PostLogonDisabled => Some("PostLogonEnabled"),
            Prerequisite::RemoteSession => Some("SessionIsNotRemote"),
            Prerequisite::DeviceIneligible => Some("DeviceEligible"),
            Prerequisite::UserNotInEntra => Some("IsUserAzureAD"),
        }
    }

    /// What the field's NO means, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            Prerequisite::Met => "every prerequisite is met",
            Prerequisite::PolicyDisabled => "no policy (Group Policy, Intune or the tenant's enrollment setting) turns Windows Hello for Business on for this user or device",
            Prerequisite::PostLogonDisabled => "the policy turns Windows Hello for Business on but does not let provisioning start after the sign-in",
            Prerequisite::RemoteSession => "the user is signed in over Remote Desktop, and provisioning only starts in a session at the device",
            Prerequisite::DeviceIneligible => "the device does not meet Windows Hello for Business's hardware requirements (a policy asks for a TPM, for example, and there is none)",
            Prerequisite::UserNotInEntra => "the user signed in with an account Microsoft Entra ID does not know: a local account, or a domain account that is not synchronised",
        }
    }
}

/// The Microsoft Entra Kerberos server object (cloud Kerberos trust): the
/// read-only-domain-controller-style object in Active Directory whose
/// krbtgt_AzureAD key Entra ID also holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KerberosServer {
    /// Created with `Set-AzureADKerberosServer`: AD and Entra ID hold the
    /// same key.
    #[default]
    Present,
    /// Never created: Entra ID has no key for the domain and issues no
    /// partial TGT.
    Missing,
    /// Its krbtgt_AzureAD password was reset in AD (as a krbtgt reset
    /// script does) instead of with `Set-AzureADKerberosServer
    /// -RotateServerKey`: Entra ID still uses the old key.
    Rotated,
}

impl KerberosServer {
    /// The value links and the command line use.
    pub fn slug(self) -> &'static str {
        match self {
            KerberosServer::Present => "present",
            KerberosServer::Missing => "missing",
            KerberosServer::Rotated => "rotated",
        }
    }
}

/// What a person can change about a run: the seeds' conditions and faults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// A Windows Hello compatible biometric sensor is present.
    pub biometric_sensor: bool,
    /// When the user last did MFA.
    pub last_mfa: LastMfa,
    /// The password the user types at sign-in (the account's real one by default).
    pub password: Option<String>,
    /// The PIN, as typed the first time.
    pub pin: String,
    /// The PIN, as typed the second time.
    pub pin_confirmation: String,
    pub pin_policy: PinPolicy,
    /// How many times the user mistypes the PIN before getting it right
    /// (each one an authorisation failure the TPM counts).
    pub wrong_pin_attempts: u32,
    /// The federation server (AD FS) answers.
    pub federation_available: bool,
    /// Microsoft Entra Connect's schedule.
    pub sync_interval: SimDuration,
    /// How long before the run starts Microsoft Entra Connect last ran.
    pub last_sync_ago: SimDuration,
    /// Keys the TPM pre-generates.
    pub pool_size: usize,
    /// How many times the user mistypes the PIN at the first sign-in
    /// before getting it right (the TPM's count goes on from provisioning).
    pub sign_in_wrong_pins: u32,
    /// An administrator disabled the device object in the directory.
    pub device_disabled: bool,
    /// With a sensor present, the user skips biometric enrollment.
    pub skip_biometric: bool,
    /// The computer's organisational unit is outside Microsoft Entra
    /// Connect's sync scope, so a hybrid join never finds its device object.
    pub computer_out_of_sync_scope: bool,
    /// What became of the user's key by the first sign-in.
    pub sign_in_key: SignInKey,
    /// The forest has no service connection point for device registration
    /// (Microsoft Entra Connect's device options were never run).
    pub scp_missing: bool,
    /// AD FS cannot reach the cloud registration service, so it has never
    /// downloaded the keys that sign key receipts.
    pub receipt_signers_unreachable: bool,
    /// AD FS's service account is not a member of the group the Windows
    /// Hello for Business certificate template grants Enroll to.
    pub adfs_not_in_hello_group: bool,
    /// The domain controller has no KDC certificate (none enrolled from
    /// the Kerberos Authentication template), so it cannot do PKINIT.
    pub dc_certificate_missing: bool,
    /// What became of the user's logon certificate (certificate trust).
    pub user_certificate: UserCertificate,
    /// The Microsoft Entra Kerberos server object (cloud Kerberos trust).
    pub kerberos_server: KerberosServer,
    /// The user is a member of a privileged group (Domain Admins), which
    /// the domain's Denied RODC Password Replication Group contains.
    pub privileged_user: bool,
    /// How many minutes the client's clock runs ahead of the domain
    /// controller's at the sign-in to the domain.
    pub clock_skew_minutes: u32,
    /// What the prerequisite check finds when provisioning would start.
    #[serde(default)]
    pub prerequisite: Prerequisite,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            biometric_sensor: true,
            last_mfa: LastMfa::Never,
            password: None,
            pin: "246810".into(),
            pin_confirmation: "246810".into(),
            pin_policy: PinPolicy::default(),
            wrong_pin_attempts: 0,
            federation_available: true,
            sync_interval: SimDuration::minutes(30),
            last_sync_ago: SimDuration::minutes(12),
            pool_size: 2,
            sign_in_wrong_pins: 0,
            device_disabled: false,
            skip_biometric: false,
            computer_out_of_sync_scope: false,
            sign_in_key: SignInKey::Registered,
            scp_missing: false,
            receipt_signers_unreachable: false,
            adfs_not_in_hello_group: false,
            dc_certificate_missing: false,
            user_certificate: UserCertificate::Valid,
            kerberos_server: KerberosServer::Present,
            privileged_user: false,
            clock_skew_minutes: 0,
            prerequisite: Prerequisite::Met,
        }
    }
}

/// The names of the settings [`Options::set`] understands, with what each takes.
pub const OPTION_KEYS: [(&str, &str); 23] = [
    ("sensor", "1 or 0: a biometric sensor is present"),
    (
        "biometric",
        "enroll or skip: what the user does when a sensor is present",
    ),
    ("mfa", "minutes since the user's last MFA, or none"),
    ("pin", "the PIN the user types (both times)"),
    ("pin2", "a different PIN confirmation"),
    (
        "wrongpin",
        "how many wrong PINs the user types first (0-64)",
    ),
    ("adfs", "up or down: whether the federation server answers"),
    ("password", "the password the user types"),
    ("sync", "Microsoft Entra Connect's sync interval in minutes"),
    ("lastsync", "minutes since Microsoft Entra Connect last ran"),
    (
        "signinwrongpin",
        "how many wrong PINs the user types at the first sign-in (0-64)",
    ),
    (
        "device",
        "enabled or disabled: the device object in the directory",
    ),
    (
        "computersync",
        "in-scope or out-of-scope: whether Microsoft Entra Connect syncs the computer (hybrid join)",
    ),
    (
        "scp",
        "configured or missing: the forest's service connection point for device registration",
    ),
    (
        "hellokey",
        "registered, deleted or other-device: the user's key in Entra ID at the first sign-in",
    ),
    (
        "cloudreg",
        "reachable or unreachable: whether AD FS can download the key receipt signers from the cloud registration service",
    ),
    (
        "hellogroup",
        "member or not-member: whether AD FS's service account is in the group the certificate template lets enroll",
    ),
    (
        "dccert",
        "present or missing: whether the domain controller has a KDC certificate for PKINIT",
    ),
    (
        "usercert",
        "valid, no-sid, revoked or expired: the user's logon certificate at the sign-in to the domain (certificate trust)",
    ),
    (
        "kerberosserver",
        "present, missing or rotated: the Microsoft Entra Kerberos server object (cloud Kerberos trust)",
    ),
    (
        "privileged",
        "1 or 0: the user is in Domain Admins, which the Denied RODC Password Replication Group holds",
    ),
    (
        "skew",
        "minutes the client's clock runs ahead of the domain controller's (0-1440)",
    ),
    (
        "prereq",
        "met, policy-disabled, postlogon-disabled, remote-session, device-ineligible or user-not-in-entra: what the prerequisite check finds when provisioning would start",
    ),
];

impl Options {
    /// Sets one condition by name, as a link (`mfa=2`) or the command line
    /// (`--mfa 2`) writes it; the error says what the value should be.
    pub fn set(&mut self, key: &str, value: &str) -> std::result::Result<(), String> {
        let minutes = |max: u64| -> std::result::Result<SimDuration, String> {
            match value.parse::<u64>() {
                Ok(m) if m <= max => Ok(SimDuration::minutes(m)),
                _ => Err(format!(
                    "{key} must be a number of minutes from 0 to {max}, not \"{value}\""
                )),
            }
        };
        // How many wrong PINs someone types: 0 to 64 (32 locks the TPM out).
        let wrong_pins = || -> std::result::Result<u32, String> {
            match value.parse::<u32>() {
                Ok(n) if n <= 64 => Ok(n),
                _ => Err(format!(
                    "{key} must be a number from 0 to 64, not \"{value}\""
                )),
            }
        };
        match key {
            "sensor" => match value {
                "1" | "yes" | "true" => self.biometric_sensor = true,
                "0" | "no" | "false" => self.biometric_sensor = false,
                _ => return Err(format!("sensor must be 1 or 0, not \"{value}\"")),
            },
            "mfa" => {
                self.last_mfa = if value == "none" {
                    LastMfa::Never
                } else {
                    LastMfa::Ago(minutes(24 * 60).map_err(|_| {
                        format!("mfa must be minutes since the last MFA (0 to 1440) or \"none\", not \"{value}\"")
                    })?)
                }
            }
            "pin" => {
                if value.chars().count() > 200 {
                    return Err("the PIN is too long to type (over 200 characters)".into());
                }
                self.pin = value.to_string();
                self.pin_confirmation = value.to_string();
            }
            "pin2" => {
                if value.chars().count() > 200 {
                    return Err(
                        "the PIN confirmation is too long to type (over 200 characters)".into(),
                    );
                }
                self.pin_confirmation = value.to_string();
            }
            "wrongpin" => self.wrong_pin_attempts = wrong_pins()?,
            "adfs" => match value {
                "down" => self.federation_available = false,
                "up" => self.federation_available = true,
                _ => return Err(format!("adfs must be \"up\" or \"down\", not \"{value}\"")),
            },
            "password" => self.password = Some(value.to_string()),
            "sync" => {
                let d = minutes(24 * 60)?;
                if d.0 == 0 {
                    return Err("sync must be at least 1 minute".into());
                }
                self.sync_interval = d;
            }
            "lastsync" => self.last_sync_ago = minutes(24 * 60)?,
            "signinwrongpin" => self.sign_in_wrong_pins = wrong_pins()?,
            "biometric" => match value {
                "skip" => self.skip_biometric = true,
                "enroll" => self.skip_biometric = false,
                _ => {
                    return Err(format!(
                        "biometric must be \"enroll\" or \"skip\", not \"{value}\""
                    ))
                }
            },
            "device" => match value {
                "disabled" => self.device_disabled = true,
                "enabled" => self.device_disabled = false,
                _ => {
                    return Err(format!(
                        "device must be \"enabled\" or \"disabled\", not \"{value}\""
                    ))
                }
            },
            "hellokey" => {
                self.sign_in_key = [SignInKey::Registered, SignInKey::Deleted, SignInKey::OtherDevice]
                    .into_iter()
                    .find(|k| k.slug() == value)
                    .ok_or_else(|| {
                        format!("hellokey must be \"registered\", \"deleted\" or \"other-device\", not \"{value}\"")
                    })?;
            }
            "cloudreg" => match value {
                "unreachable" => self.receipt_signers_unreachable = true,
                "reachable" => self.receipt_signers_unreachable = false,
                _ => {
                    return Err(format!(
                        "cloudreg must be \"reachable\" or \"unreachable\", not \"{value}\""
                    ))
                }
            },
            "dccert" => match value {
                "missing" => self.dc_certificate_missing = true,
                "present" => self.dc_certificate_missing = false,
                _ => {
                    return Err(format!(
                        "dccert must be \"present\" or \"missing\", not \"{value}\""
                    ))
                }
            },
            "prereq" => {
                self.prerequisite = Prerequisite::ALL
                    .into_iter()
                    .find(|p| p.slug() == value)
                    .ok_or_else(|| {
                        let all: Vec<&str> = Prerequisite::ALL.iter().map(|p| p.slug()).collect();
                        format!("prereq must be one of {}, not \"{value}\"", all.join(", "))
                    })?;
            }
            "usercert" => {
                self.user_certificate = [
                    UserCertificate::Valid,
                    UserCertificate::NoSid,
                    UserCertificate::Revoked,
                    UserCertificate::Expired,
                ]
                .into_iter()
                .find(|c| c.slug() == value)
                .ok_or_else(|| {
                    format!(
                        "usercert must be \"valid\", \"no-sid\", \"revoked\" or \"expired\", not \"{value}\""
                    )
                })?;
            }
            "kerberosserver" => {
                self.kerberos_server = [
                    KerberosServer::Present,
                    KerberosServer::Missing,
                    KerberosServer::Rotated,
                ]
                .into_iter()
                .find(|c| c.slug() == value)
                .ok_or_else(|| {
                    format!(
                        "kerberosserver must be \"present\", \"missing\" or \"rotated\", not \"{value}\""
                    )
                })?;
            }
            "privileged" => match value {
                "1" => self.privileged_user = true,
                "0" => self.privileged_user = false,
                _ => return Err(format!("privileged must be 1 or 0, not \"{value}\"")),
            },
            "skew" => match value.parse::<u32>() {
                Ok(m) if m <= 1440 => self.clock_skew_minutes = m,
                _ => {
                    return Err(format!(
                        "skew must be a number of minutes from 0 to 1440, not \"{value}\""
                    ))
                }
            },
            "hellogroup" => match value {
                "not-member" => self.adfs_not_in_hello_group = true,
                "member" => self.adfs_not_in_hello_group = false,
                _ => {
                    return Err(format!(
                        "hellogroup must be \"member\" or \"not-member\", not \"{value}\""
                    ))
                }
            },
            "scp" => match value {
                "missing" => self.scp_missing = true,
                "configured" => self.scp_missing = false,
                _ => {
                    return Err(format!(
                        "scp must be \"configured\" or \"missing\", not \"{value}\""
                    ))
                }
            },
            "computersync" => match value {
                "out-of-scope" => self.computer_out_of_sync_scope = true,
                "in-scope" => self.computer_out_of_sync_scope = false,
                _ => {
                    return Err(format!(
                        "computersync must be \"in-scope\" or \"out-of-scope\", not \"{value}\""
                    ))
                }
            },
            other => return Err(format!("there is no setting \"{other}\"")),
        }
        Ok(())
    }

    /// The settings that differ from the defaults, as `(key, value)` pairs
    /// that [`Options::set`] reads back.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let d = Options::default();
        let mut out = Vec::new();
        if self.biometric_sensor != d.biometric_sensor {
            out.push((
                "sensor",
                if self.biometric_sensor { "1" } else { "0" }.to_string(),
            ));
        }
        if self.last_mfa != d.last_mfa {
            out.push((
                "mfa",
                match self.last_mfa {
                    LastMfa::Never => "none".to_string(),
                    LastMfa::Ago(ago) => (ago.0 / 60_000).to_string(),
                },
            ));
        }
        if self.pin != d.pin {
            out.push(("pin", self.pin.clone()));
        }
        if self.pin_confirmation != self.pin {
            out.push(("pin2", self.pin_confirmation.clone()));
        }
        if self.wrong_pin_attempts != 0 {
            out.push(("wrongpin", self.wrong_pin_attempts.to_string()));
        }
        if self.federation_available != d.federation_available {
            out.push((
                "adfs",
                if self.federation_available {
                    "up"
                } else {
                    "down"
                }
                .to_string(),
            ));
        }
        if let Some(p) = &self.password {
            out.push(("password", p.clone()));
        }
        if self.sync_interval != d.sync_interval {
            out.push(("sync", (self.sync_interval.0 / 60_000).to_string()));
        }
        if self.last_sync_ago != d.last_sync_ago {
            out.push(("lastsync", (self.last_sync_ago.0 / 60_000).to_string()));
        }
        if self.sign_in_wrong_pins != 0 {
            out.push(("signinwrongpin", self.sign_in_wrong_pins.to_string()));
        }
        if self.device_disabled {
            out.push(("device", "disabled".to_string()));
        }
        if self.skip_biometric {
            out.push(("biometric", "skip".to_string()));
        }
        if self.computer_out_of_sync_scope {
            out.push(("computersync", "out-of-scope".to_string()));
        }
        if self.receipt_signers_unreachable {
            out.push(("cloudreg", "unreachable".to_string()));
        }
        if self.scp_missing {
            out.push(("scp", "missing".to_string()));
        }
        if self.adfs_not_in_hello_group {
            out.push(("hellogroup", "not-member".to_string()));
        }
        if self.sign_in_key != SignInKey::Registered {
            out.push(("hellokey", self.sign_in_key.slug().to_string()));
        }
        if self.dc_certificate_missing {
            out.push(("dccert", "missing".to_string()));
        }
        if self.user_certificate != UserCertificate::Valid {
            out.push(("usercert", self.user_certificate.slug().to_string()));
        }
        if self.kerberos_server != KerberosServer::Present {
            out.push(("kerberosserver", self.kerberos_server.slug().to_string()));
        }
        if self.privileged_user {
            out.push(("privileged", "1".to_string()));
        }
        if self.clock_skew_minutes != 0 {
            out.push(("skew", self.clock_skew_minutes.to_string()));
        }
        if self.prerequisite != Prerequisite::Met {
            out.push(("prereq", self.prerequisite.slug().to_string()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_policy_names_each_broken_rule() {
        let policy = PinPolicy::default();
        assert!(policy.violations("246810").is_empty());
        assert_eq!(
            policy.violations("1234"),
            vec!["the PIN has 4 characters; the policy asks for at least 6"]
        );
        assert!(policy.violations("24681a")[0].contains("does not allow lowercase"));
        assert!(policy.violations(&"1".repeat(128))[0].contains("at most 127"));
        let strict = PinPolicy {
            uppercase: CharRule::Required,
            lowercase: CharRule::Allowed,
            ..PinPolicy::default()
        };
        assert!(strict.violations("abc123")[0].contains("requires uppercase"));
    }

    #[test]
    fn options_read_back_what_they_write() {
        let mut o = Options::default();
        for (k, v) in [
            ("sensor", "0"),
            ("mfa", "15"),
            ("pin", "13579"),
            ("pin2", "97531"),
            ("wrongpin", "3"),
            ("adfs", "down"),
            ("sync", "15"),
            ("lastsync", "29"),
            ("cloudreg", "unreachable"),
            ("hellogroup", "not-member"),
            ("dccert", "missing"),
            ("usercert", "no-sid"),
            ("kerberosserver", "rotated"),
            ("privileged", "1"),
            ("skew", "7"),
            ("prereq", "remote-session"),
        ] {
            o.set(k, v).unwrap();
        }
        let mut again = Options::default();
        for (k, v) in o.to_pairs() {
            again.set(k, &v).unwrap();
        }
        assert_eq!(again, o);
        assert!(Options::default().to_pairs().is_empty());
        for (k, v) in [
            ("sensor", "maybe"),
            ("mfa", "-3"),
            ("wrongpin", "99999999999"),
            ("adfs", "sideways"),
            ("cloudreg", "down"),
            ("hellogroup", "no"),
            ("dccert", "gone"),
            ("usercert", "lost"),
            ("kerberosserver", "gone"),
            ("privileged", "yes"),
            ("skew", "-2"),
            ("skew", "1441"),
            ("prereq", "unmet"),
            ("sync", "0"),
            ("bogus", "1"),
        ] {
            assert!(Options::default().set(k, v).is_err(), "{k}={v}");
        }
    }

    #[test]
    fn a_seed_is_1_to_64_characters() {
        assert_eq!(SeedText::parse("demo").unwrap().as_str(), "demo");
        assert!(SeedText::parse(&"é".repeat(64)).is_ok());
        for bad in ["", &"x".repeat(65)] {
            let err = SeedText::parse(bad).unwrap_err();
            assert!(err.contains("1 to 64 characters"), "{err}");
        }
        assert!(serde_json::from_str::<SeedText>("\"\"").is_err());
    }
}
