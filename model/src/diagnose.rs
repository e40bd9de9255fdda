//! "Diagnose your device": the output of `dsregcmd /status`, as Windows
//! prints it, read into the flow the device is in and the prerequisite
//! that stops provisioning, with the explorer's condition that reproduces
//! it. The engine then runs that flow under that condition to find the
//! step that stops (`whfb_core::diagnose`): the answer is the run's, not a
//! table's guess.
//!
//! The fields and their meanings are those of Microsoft Entra's page
//! "Troubleshoot devices by using the dsregcmd command" (Device State,
//! SSO State and Ngc Prerequisite Check sections). Sections may come in
//! any order; lines the reader does not know are counted and ignored.

use crate::flows::FlowId;
use crate::options::Prerequisite;
use serde::{Deserialize, Serialize};

/// The most text read: `dsregcmd /status` prints a few kilobytes.
pub const MAX_INPUT: usize = 256 * 1024;

/// One `Name : Value` line, with its section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub section: String,
    pub name: String,
    pub value: String,
}

/// The report's fields, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub fields: Vec<Field>,
    /// Lines that were neither a section heading nor a field.
    pub ignored: usize,
}

impl Report {
    /// Reads `dsregcmd /status` output. Text that holds no field at all is
    /// refused, with what was found instead.
    pub fn parse(input: &[u8]) -> Result<Report, String> {
        if input.len() > MAX_INPUT {
            return Err(format!(
                "the text is {} bytes; dsregcmd /status prints a few kilobytes, and at most {} KiB are read",
                input.len(),
                MAX_INPUT / 1024
            ));
        }
        // Windows PowerShell's `>` writes UTF-16 LE with a byte-order mark.
        let text = if input.starts_with(&[0xFF, 0xFE]) {
            let units: Vec<u16> = input[2..]
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            String::from_utf8_lossy(input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input))
                .into_owned()
        };
        let mut report = Report::default();
        let mut section = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.chars().all(|c| c == '+' || c == '-') {
                continue;
            }
            // `| Device State                                   |`
            if let Some(inner) = trimmed.strip_prefix('|').and_then(|t| t.strip_suffix('|')) {
                section = inner.trim().to_string();
                continue;
            }
            match trimmed.split_once(" : ") {
                Some((name, value)) if !name.trim().is_empty() && !section.is_empty() => {
                    report.fields.push(Field {
                        section: section.clone(),
                        name: name.trim().to_string(),
                        value: value.trim().to_string(),
                    })
                }
                _ => report.ignored += 1,
            }
        }
        if report.fields.is_empty() {
            return Err(
                "no field of dsregcmd /status was found: it prints sections headed like `| Device State |` and lines like `AzureAdJoined : YES`; paste its whole output"
                    .into(),
            );
        }
        Ok(report)
    }

    /// A field's value, by name, in any section.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
            .map(|f| f.value.as_str())
    }

    fn yes(&self, name: &str) -> Option<bool> {
        match self.get(name)?.to_ascii_uppercase().as_str() {
            "YES" => Some(true),
            "NO" => Some(false),
            _ => None,
        }
    }
}

/// One field of the prerequisite check as the device reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prereq {
    pub field: String,
    pub value: String,
    pub met: bool,
    /// What it means, in words.
    pub meaning: String,
    /// The explorer's condition that reproduces it (`prereq=remote-session`),
    /// or why there is none.
    pub condition: Result<String, String>,
}

/// What the device is and what stops it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub flow: FlowId,
    /// How the flow was told from the output, a reason per line.
    pub why_flow: Vec<String>,
    /// The prerequisite fields, in the order the device checks them.
    pub prerequisites: Vec<Prereq>,
    /// `PreReqResult`, as printed.
    pub result: Option<String>,
    /// The conditions for the explorer's link (`prereq=remote-session`),
    /// empty when every prerequisite is met.
    pub conditions: String,
    /// Fields of the prerequisite check the output did not have.
    pub missing: Vec<String>,
    pub ignored: usize,
}

/// A diagnosis with the run that checks it (`whfb_core::diagnose::run`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub diagnosis: Diagnosis,
    /// Where the run under the diagnosis's conditions stops, and why; with
    /// the step's id. `None`: it runs to its end.
    pub stop: Option<(String, crate::event::Halt)>,
}

/// Each field of the prerequisite check: the condition it maps to, for the
/// README's table and the diagnosis.
pub const TABLE: &[(&str, &str, &str)] = &[
    ("IsDeviceJoined", "scp=missing (hybrid join: no service connection point)", "device-registration.find-tenant; Entra joined and on-premises devices: not modelled (the explorer's joins succeed)"),
    ("IsUserAzureAD", "prereq=user-not-in-entra", "tokens.start-provisioning (on premises NO is normal)"),
    ("PolicyEnabled", "prereq=policy-disabled", "tokens.start-provisioning"),
    ("PostLogonEnabled", "prereq=postlogon-disabled", "tokens.start-provisioning"),
    ("DeviceEligible", "prereq=device-ineligible", "tokens.start-provisioning"),
    ("SessionIsNotRemote", "prereq=remote-session", "tokens.start-provisioning"),
    ("AdfsRefreshToken", "adfs=down (certificate trust, federated)", "where the run first needs AD FS"),
    ("LogonCertTemplateReady", "hellogroup=not-member (the template's enrollment permission, the closest modelled cause)", "the certificate request at the CA"),
    ("OnPremTgt", "kerberosserver=missing (cloud Kerberos trust)", "the first sign-in's Kerberos exchange"),
];

fn condition_for(field: &str, flow: FlowId) -> Result<String, String> {
    use crate::catalog::Deployment;
    let info = flow.info();
    let prereq = |p: Prerequisite| Ok(format!("prereq={}", p.slug()));
    match field {
        "IsDeviceJoined" if info.deployment == Deployment::Hybrid => Ok("scp=missing".into()),
        "IsDeviceJoined" => Err("the explorer's join always succeeds here: why this device did not join is not in the output".into()),
        "IsUserAzureAD" if info.deployment == Deployment::OnPremises => {
            Err("on premises the user is not an Entra ID user, and that is expected".into())
        }
        "IsUserAzureAD" => prereq(Prerequisite::UserNotInEntra),
        "PolicyEnabled" => prereq(Prerequisite::PolicyDisabled),
        "PostLogonEnabled" => prereq(Prerequisite::PostLogonDisabled),
        "DeviceEligible" => prereq(Prerequisite::DeviceIneligible),
        "SessionIsNotRemote" => prereq(Prerequisite::RemoteSession),
        "AdfsRefreshToken" => Ok("adfs=down".into()),
        "LogonCertTemplateReady" => Ok("hellogroup=not-member".into()),
        "OnPremTgt" => Ok("kerberosserver=missing".into()),
        _ => Err("the explorer has no condition for it".into()),
    }
}

fn meaning(field: &str) -> &'static str {
    match field {
        "IsDeviceJoined" => "the device is not joined to Microsoft Entra ID (on premises: not registered with AD FS), and only a joined device provisions",
        "IsUserAzureAD" => Prerequisite::UserNotInEntra.meaning(),
        "PolicyEnabled" => Prerequisite::PolicyDisabled.meaning(),
        "PostLogonEnabled" => Prerequisite::PostLogonDisabled.meaning(),
        "DeviceEligible" => Prerequisite::DeviceIneligible.meaning(),
        "SessionIsNotRemote" => Prerequisite::RemoteSession.meaning(),
        "CertEnrollment" => "how the user's certificate is enrolled: enrollment authority (certificate trust through AD FS), mobile device management, or none",
        "AdfsRefreshToken" => "the device holds no AD FS refresh token, which certificate trust needs to ask AD FS for the certificate",
        "AdfsRaIsReady" => "AD FS does not say, in its discovery metadata, that it is an enrollment registration authority",
        "LogonCertTemplateReady" => "the certificate template the logon certificate is issued from is not set up (or not readable)",
        "OnPremTgt" => "no partial TGT for the on-premises domain came with the PRT (cloud Kerberos trust)",
        _ => "",
    }
}

/// The fields of the prerequisite check, in the order the device checks
/// them; the certificate trust fields only where the device reports them.
const FIELDS: [&str; 6] = [
    "IsDeviceJoined",
    "IsUserAzureAD",
    "PolicyEnabled",
    "PostLogonEnabled",
    "DeviceEligible",
    "SessionIsNotRemote",
];

/// The flow and the first unmet prerequisite of a device's report.
pub fn diagnose(report: &Report) -> Result<Diagnosis, String> {
    let slug = |s: &str| FlowId::from_slug(s).ok_or_else(|| format!("no flow {s}"));
    let mut why = Vec::new();
    let entra = report.yes("AzureAdJoined");
    let domain = report.yes("DomainJoined");
    let enterprise = report.yes("EnterpriseJoined");
    let enrollment = report.get("CertEnrollment").map(str::to_ascii_lowercase);
    let certificate = enrollment.as_deref() == Some("enrollment authority");
    let federated =
        report.yes("EnterprisePrt") == Some(true) || report.get("AdfsRefreshToken").is_some();
    let flow = match (entra, domain, enterprise) {
        (Some(true), Some(true), _) => {
            why.push("AzureAdJoined and DomainJoined are YES: Microsoft Entra hybrid joined".into());
            if certificate {
                why.push("CertEnrollment is enrollment authority: certificate trust, the certificate from AD FS".into());
                why.push("whether certificates are issued as the user signs in or after a sync cannot be told from the output: the synchronous flow is shown".into());
                slug("hybrid-cert-sync")?
            } else if report.get("OnPremTgt").is_some() || report.get("CloudTgt").is_some() {
                why.push("CertEnrollment is not an enrollment authority and the SSO State reports OnPremTgt: cloud Kerberos trust".into());
                slug("hybrid-cloud-kerberos")?
            } else if federated {
                why.push("no certificate enrollment; EnterprisePrt or AdfsRefreshToken shows AD FS: key trust, federated".into());
                slug("hybrid-key-federated")?
            } else {
                why.push("no certificate enrollment and nothing shows AD FS: key trust, managed".into());
                slug("hybrid-key-managed")?
            }
        }
        (Some(true), _, _) => {
            why.push("AzureAdJoined is YES and DomainJoined is not: Microsoft Entra joined".into());
            if federated {
                why.push("EnterprisePrt or AdfsRefreshToken shows AD FS: a federated domain".into());
                slug("aadj-federated")?
            } else {
                why.push("nothing shows AD FS: a managed domain".into());
                slug("aadj-managed")?
            }
        }
        // Domain joined, not Entra joined, and the device has tried a
        // hybrid join (dsregcmd's Diagnostic Data keeps the attempt).
        (Some(false), Some(true), _)
            if ["Previous Registration", "Error Phase", "Client ErrorCode"]
                .iter()
                .any(|f| report.get(f).is_some()) =>
        {
            why.push("DomainJoined is YES, AzureAdJoined NO, and the Diagnostic Data records a join attempt: a Microsoft Entra hybrid join that has not happened".into());
            if let Some(phase) = report.get("Error Phase") {
                why.push(format!("the attempt failed in its {phase} phase"));
            }
            why.push("no certificate enrollment is reported: key trust, managed, is shown".into());
            slug("hybrid-key-managed")?
        }
        (_, _, Some(true)) | (Some(false), Some(true), _) => {
            why.push("the device is domain joined (or registered with AD FS) without Microsoft Entra ID: on premises".into());
            if certificate {
                why.push("CertEnrollment is enrollment authority: certificate trust".into());
                slug("onprem-cert")?
            } else {
                why.push("no certificate enrollment: key trust".into());
                slug("onprem-key")?
            }
        }
        _ => {
            return Err(format!(
                "the output does not say how the device is joined: the Device State section's AzureAdJoined and DomainJoined {}",
                if report.get("AzureAdJoined").is_none() && report.get("DomainJoined").is_none() {
                    "are missing"
                } else {
                    "are neither YES nor NO"
                }
            ))
        }
    };
    let mut prerequisites = Vec::new();
    let mut missing = Vec::new();
    let mut extra: Vec<&str> = Vec::new();
    for field in [
        "AdfsRefreshToken",
        "AdfsRaIsReady",
        "LogonCertTemplateReady",
    ] {
        if report.get(field).is_some() {
            extra.push(field);
        }
    }
    if flow.slug() == "hybrid-cloud-kerberos" && report.get("OnPremTgt").is_some() {
        extra.push("OnPremTgt");
    }
    for field in FIELDS.iter().copied().chain(extra) {
        let Some(value) = report.get(field) else {
            missing.push(field.to_string());
            continue;
        };
        // `LogonCertTemplateReady : YES ( StateReady )`.
        let upper = value.to_ascii_uppercase();
        let upper = upper.split_whitespace().next().unwrap_or_default();
        // On premises, IsUserAzureAD NO is expected.
        let met = upper == "YES"
            || (field == "IsUserAzureAD"
                && flow.info().deployment == crate::catalog::Deployment::OnPremises);
        prerequisites.push(Prereq {
            field: field.to_string(),
            value: value.to_string(),
            met,
            meaning: meaning(field).to_string(),
            condition: condition_for(field, flow),
        });
    }
    let conditions = prerequisites
        .iter()
        .find(|p| !p.met)
        .and_then(|p| p.condition.clone().ok())
        .unwrap_or_default();
    Ok(Diagnosis {
        flow,
        why_flow: why,
        prerequisites,
        result: report.get("PreReqResult").map(str::to_string),
        conditions,
        missing,
        ignored: report.ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "+------+\n| Ngc Prerequisite Check |\n+------+\n  IsDeviceJoined : YES\n   IsUserAzureAD : YES\n   PolicyEnabled : NO\n\n| Device State |\n   AzureAdJoined : YES\n    DomainJoined : YES\nsomething else entirely\n";

    #[test]
    fn sections_in_any_order_and_unknown_lines_are_read_or_counted() {
        let report = Report::parse(HYBRID.as_bytes()).unwrap();
        assert_eq!(report.get("PolicyEnabled"), Some("NO"));
        assert_eq!(report.fields[0].section, "Ngc Prerequisite Check");
        assert_eq!(report.ignored, 1);
        let d = diagnose(&report).unwrap();
        assert_eq!(d.flow.slug(), "hybrid-key-managed");
        assert_eq!(d.conditions, "prereq=policy-disabled");
        assert_eq!(
            d.missing,
            ["PostLogonEnabled", "DeviceEligible", "SessionIsNotRemote"]
        );
        // Windows PowerShell's `>` writes UTF-16 LE with a byte-order mark.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(HYBRID.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(Report::parse(&utf16).unwrap(), report);
    }

    #[test]
    fn the_first_unmet_prerequisite_gives_the_condition() {
        for (field, condition) in [
            ("SessionIsNotRemote", "prereq=remote-session"),
            ("DeviceEligible", "prereq=device-ineligible"),
            ("PostLogonEnabled", "prereq=postlogon-disabled"),
            ("IsUserAzureAD", "prereq=user-not-in-entra"),
        ] {
            let text = format!(
                "| Device State |\nAzureAdJoined : YES\nDomainJoined : NO\n| Ngc Prerequisite Check |\n{field} : NO\n"
            );
            let d = diagnose(&Report::parse(text.as_bytes()).unwrap()).unwrap();
            assert_eq!(d.flow.slug(), "aadj-managed");
            assert_eq!(d.conditions, condition, "{field}");
        }
        // Every prerequisite met: no condition.
        let text = "| Device State |\nAzureAdJoined : YES\nDomainJoined : NO\n| Ngc Prerequisite Check |\nPolicyEnabled : YES\n";
        assert_eq!(
            diagnose(&Report::parse(text.as_bytes()).unwrap())
                .unwrap()
                .conditions,
            ""
        );
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        let refused = |input: &[u8]| Report::parse(input).and_then(|r| diagnose(&r)).unwrap_err();
        assert!(refused(b"hello world").contains("no field of dsregcmd /status"));
        assert!(refused(&vec![b'a'; MAX_INPUT + 1]).contains("at most 256 KiB"));
        assert!(refused(b"| Ngc Prerequisite Check |\nPolicyEnabled : NO\n")
            .contains("does not say how the device is joined"));
        assert!(
            refused(b"| Device State |\nAzureAdJoined : maybe\nDomainJoined : perhaps\n")
                .contains("neither YES nor NO")
        );
        // Invalid UTF-8 and deep junk: read as far as it goes, never a panic.
        let junk: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
        let _ = Report::parse(&junk);
    }
}
