//! What the device would say about itself after a step, in the sections and
//! names of `dsregcmd /status` (Microsoft Entra's "Troubleshoot devices by
//! using the dsregcmd command" lists each field). Read off the state the
//! device and the run hold, never typed per step: join it and
//! `AzureAdJoined` turns YES, register a key and `NgcSet` does.
//!
//! Only what this run models is reported: the SSO State section only where
//! the run shows the sign-in that obtains a Primary Refresh Token, and a
//! device registered before the run shows no certificate details, since
//! none were drawn.

use super::{ReportSection, Run};
use crate::catalog::{Deployment, Trust};
use crate::formats::encoding::hex_upper;
use sha1::{Digest, Sha1};

fn yes(b: bool) -> String {
    if b { "YES" } else { "NO" }.to_string()
}

fn section(name: &str, entries: Vec<(&str, String)>) -> ReportSection {
    ReportSection {
        name: name.to_string(),
        entries: entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

impl Run {
    /// The prerequisite the run's conditions leave unmet, if any. On
    /// premises, an account Entra ID does not know is the rule, not a
    /// fault.
    pub(crate) fn unmet_prerequisite(&self) -> crate::options::Prerequisite {
        use crate::options::Prerequisite;
        let on_prem = self.flow.info().deployment == Deployment::OnPremises;
        match self.world.config.options.prerequisite {
            Prerequisite::UserNotInEntra if on_prem => Prerequisite::Met,
            other => other,
        }
    }

    /// The device's report on itself now.
    pub fn device_report(&self) -> Vec<ReportSection> {
        let world = &self.world;
        let info = self.flow.info();
        let device = &world.device;
        let joined = device.joined();
        let on_prem = info.deployment == Deployment::OnPremises;
        // Hybrid and on-premises devices were domain joined before the run.
        let domain_joined = info.deployment != Deployment::Cloud;
        let mut out = Vec::new();

        let mut state = vec![
            ("AzureAdJoined", yes(joined.is_some() && !on_prem)),
            ("EnterpriseJoined", yes(joined.is_some() && on_prem)),
            ("DomainJoined", yes(domain_joined)),
        ];
        if domain_joined {
            state.push(("DomainName", world.tenant.netbios.to_string()));
        }
        state.push((
            "Device Name",
            if domain_joined {
                format!("{}.{}", device.name, world.tenant.domain)
            } else {
                device.name.clone()
            },
        ));
        out.push(section("Device State", state));

        if let Some(joined) = joined {
            let mut details = vec![("DeviceId", joined.id.to_string())];
            if let Some(der) = &joined.certificate {
                details.push(("Thumbprint", hex_upper(&Sha1::digest(der))));
                if let Ok((from, to)) = crate::pki::certificate_validity(der) {
                    // dsregcmd prints milliseconds: `2026-11-22 08:30:26.000 UTC`.
                    let at = |t: crate::clock::SimTime| t.to_string().replace(" UTC", ".000 UTC");
                    details.push((
                        "DeviceCertificateValidity",
                        format!("[ {} -- {} ]", at(from), at(to)),
                    ));
                }
            }
            details.push(("KeyProvider", "Microsoft Platform Crypto Provider".into()));
            details.push(("TpmProtected", yes(true)));
            out.push(section("Device Details", details));
            if !on_prem {
                out.push(section(
                    "Tenant Details",
                    vec![
                        ("TenantName", world.tenant.name.to_string()),
                        ("TenantId", world.tenant.id.to_string()),
                    ],
                ));
            }
        }

        let mut user = vec![("NgcSet", yes(self.state.key_id.is_some()))];
        if let Some(kid) = &self.state.key_id {
            user.push(("NgcKeyId", kid.clone()));
        }
        user.push(("WorkplaceJoined", yes(false)));
        out.push(section("User State", user));

        // The SSO state only where the run shows a sign-in that gets a PRT:
        // Entra ID's (AzureAdPrt…), or on premises AD FS's enterprise PRT
        // (EnterprisePrt…), the field names of Microsoft's dsregcmd page.
        let shows_prt = info.has_segment(crate::flows::Segment::SignIn)
            || info.has_segment(crate::flows::Segment::WindowsSignIn);
        if shows_prt {
            let issuer = self.topo.prt_issuer;
            let prt = world
                .sign_ins(issuer)
                .prts
                .last()
                .filter(|_| self.state.prt.is_some());
            let at = |t: crate::clock::SimTime| t.to_string().replace(" UTC", ".000 UTC");
            let expiry = |t: crate::clock::SimTime| {
                at(t.plus(crate::clock::SimDuration::seconds(14 * 24 * 3600)))
            };
            let mut sso = Vec::new();
            if issuer == crate::catalog::Actor::AdFs {
                sso.push(("EnterprisePrt", yes(prt.is_some())));
                if let Some(prt) = prt {
                    sso.push(("EnterprisePrtUpdateTime", at(prt.issued)));
                    sso.push(("EnterprisePrtExpiryTime", expiry(prt.issued)));
                    sso.push((
                        "EnterprisePrtAuthority",
                        format!("https://{}:443/adfs", crate::world::ADFS_HOST),
                    ));
                }
            } else {
                sso.push(("AzureAdPrt", yes(prt.is_some())));
                if let Some(prt) = prt {
                    sso.push(("AzureAdPrtUpdateTime", at(prt.issued)));
                    sso.push(("AzureAdPrtExpiryTime", expiry(prt.issued)));
                }
            }
            // Cloud Kerberos trust: whether the PRT came with a partial TGT
            // for the domain (the field Microsoft's troubleshooting names).
            if info.trust == crate::catalog::Trust::CloudKerberos {
                sso.push(("OnPremTgt", yes(self.state.tgt_ad.is_some())));
            }
            out.push(section("SSO State", sso));
        }

        let unmet = self.unmet_prerequisite().field();
        let met = |field: &str| unmet != Some(field);
        let ready = joined.is_some() && unmet.is_none();
        out.push(section(
            "Ngc Prerequisite Check",
            vec![
                ("IsDeviceJoined", yes(joined.is_some())),
                ("IsUserAzureAD", yes(!on_prem && met("IsUserAzureAD"))),
                ("PolicyEnabled", yes(met("PolicyEnabled"))),
                ("PostLogonEnabled", yes(met("PostLogonEnabled"))),
                ("DeviceEligible", yes(met("DeviceEligible"))),
                ("SessionIsNotRemote", yes(met("SessionIsNotRemote"))),
                (
                    "CertEnrollment",
                    if info.trust == Trust::Certificate {
                        "enrollment authority".into()
                    } else {
                        "none".into()
                    },
                ),
                (
                    "PreReqResult",
                    if ready {
                        "WillProvision"
                    } else {
                        "WillNotProvision"
                    }
                    .into(),
                ),
            ],
        ));
        out
    }
}
