//! Who holds what after a step: the secrets, keys, tokens and records each
//! actor has, read off each party's state (the world's and the run's),
//! never off which steps ran. Private keys that live in the TPM
//! are listed as held by the TPM; their bytes are never shown, because the
//! engine never has them.

use super::{ClockMarks, Holding, HoldingKind, Run};
use crate::catalog::{Actor, Trust};
use crate::seed::KeyPurpose;

impl Run {
    /// The clock and its deadlines now.
    pub fn clock_marks(&self) -> ClockMarks {
        ClockMarks {
            now: self.now,
            mfa_fresh_until: self
                .world
                .azure_ad
                .last_mfa
                .map(|t| t.plus(super::tokens::MFA_FRESHNESS)),
            last_sync: self.world.sync.last_run,
            next_sync: self.world.sync.next_run_after(self.now),
        }
    }

    /// What each actor of the flow holds now.
    pub fn holdings(&self) -> Vec<Holding> {
        use HoldingKind::*;
        let mut out = Vec::new();
        let mut hold = |actor: Actor, kind: HoldingKind, item: &str, detail: String| {
            out.push(Holding {
                actor,
                kind,
                item: item.to_string(),
                detail,
            });
        };
        let world = &self.world;
        let info = self.flow.info();
        let user = &world.user;

        hold(
            Actor::User,
            Secret,
            "Password",
            format!("for {}; only its salted hash is stored anywhere", user.upn),
        );
        if self.state.pin_chosen {
            hold(
                Actor::User,
                Secret,
                "PIN",
                "chosen and confirmed; stored nowhere: it becomes the TPM key's authorisation value".into(),
            );
        }
        if self.state.biometric_enrolled {
            hold(
                Actor::Sensor,
                Secret,
                "Face template",
                "kept by the biometric service on this device; it only unlocks the key".into(),
            );
        }

        let da = world.device.da_state();
        hold(
            Actor::Tpm,
            PrivateKey,
            "Storage root key (SRK)",
            "ECC P-256, created from the storage primary seed; never leaves the TPM".into(),
        );
        hold(
            Actor::Tpm,
            PrivateKey,
            "Endorsement key (EK)",
            "ECC P-256, created from the endorsement primary seed; never leaves the TPM".into(),
        );
        hold(
            Actor::Tpm,
            Certificate,
            "EK certificate",
            "issued by the TPM manufacturer's CA, read from NV index 0x01C0000A".into(),
        );
        hold(
            Actor::Tpm,
            PrivateKey,
            "Attestation key (AIK)",
            "restricted RSA-2048 signing key: signs only what the TPM itself produced".into(),
        );
        // The device keys are held from the step that makes them (made ahead
        // of need or not, they are the same keys), or from the start when
        // the device joined before the run.
        let device_keys_made = world.device.id().is_some()
            || self
                .events
                .iter()
                .any(|e| e.action == crate::script::Action::CreateDeviceKeys);
        if device_keys_made {
            hold(
                Actor::Tpm,
                PrivateKey,
                "Device key",
                match world.device.id() {
                    Some(id) => format!("RSA-2048; proves the device is {id}"),
                    None => "RSA-2048; the device has not joined yet".into(),
                },
            );
            hold(
                Actor::Tpm,
                PrivateKey,
                "Transport key",
                "RSA-2048 decryption key: what the cloud encrypts session keys to; never leaves the TPM".into(),
            );
        }
        let pool = world.device.pool_state();
        hold(
            Actor::Tpm,
            Record,
            "Key pre-generation pool",
            format!(
                "{} of {} keys ready{}",
                pool.ready,
                pool.target,
                if pool.making { ", one being made" } else { "" }
            ),
        );
        if self.state.user_key.is_some() {
            hold(
                Actor::Tpm,
                PrivateKey,
                "User key ukpriv",
                "RSA-2048, bound to the PIN; never leaves the TPM".into(),
            );
        }
        hold(
            Actor::Tpm,
            Record,
            "Dictionary-attack counter",
            format!(
                "{} of {} failed authorisations{}",
                da.failed_tries,
                da.max_tries,
                if da.locked_out { ": locked out" } else { "" }
            ),
        );

        if self.state.app_token {
            hold(
                Actor::Cxh,
                Token,
                "Access token",
                format!("for {}", super::registration_audience(self)),
            );
        }
        if self.state.app_user_key {
            hold(
                Actor::Cxh,
                PublicKey,
                "User key ukpub",
                "with the TPM's attestation of it".into(),
            );
        }
        if let Some(kid) = &self.state.key_id {
            hold(Actor::Cxh, Record, "Key ID", kid.clone());
        }
        if let Some(dc) = &self.state.key_writer_dc {
            hold(
                Actor::Cxh,
                Record,
                "Domain controller that wrote the key",
                format!("{dc}, from the Enterprise DRS's pctx"),
            );
        }
        if self
            .wire
            .contains_key(super::wire::registration::KEY_RECEIPT)
        {
            hold(
                Actor::Cxh,
                Token,
                "Key receipt",
                "signed by the registration service (modelled format)".into(),
            );
        }
        // The hybrid join's task holds what it made; elsewhere the setup
        // screens joined the device.
        let joiner = if info.actors.contains(&Actor::Dsreg) {
            Actor::Dsreg
        } else {
            Actor::Cxh
        };
        if info.actors.contains(&Actor::Dsreg) {
            if let Some(id) = self.state.hybrid_device_id {
                hold(
                    Actor::Dsreg,
                    PrivateKey,
                    "Self-signed certificate key",
                    format!("RSA-2048, a software key here; its certificate names device {id}"),
                );
            }
            if let Some((domain, id)) = &self.state.scp_tenant {
                hold(
                    Actor::Dsreg,
                    Record,
                    "Tenant from the service connection point",
                    format!("{domain} ({id})"),
                );
            }
        }
        if let Some(entry) = world.device.machine_store().last() {
            hold(
                joiner,
                Certificate,
                "Device certificate",
                format!(
                    "in the computer's store; {}; issued by {}; thumbprint {}",
                    entry.subject, entry.issuer, entry.thumbprint
                ),
            );
        }
        if let Some(entry) = world.device.personal_store().last() {
            hold(
                Actor::Cxh,
                Certificate,
                "Certificate in the Personal store",
                format!("{}; thumbprint {}", entry.subject, entry.thumbprint),
            );
        }
        if let Some(prt) = &self.state.prt {
            hold(
                Actor::CloudAp,
                Token,
                "Primary Refresh Token",
                format!(
                    "{}…, valid 14 days",
                    prt.chars().take(12).collect::<String>()
                ),
            );
        }
        if world.device.holds_session_key() {
            hold(
                Actor::Tpm,
                PrivateKey,
                "PRT session key",
                "an HMAC key (keyed-hash object) the TPM decrypted with the transport key and now holds; it derives the keys that prove possession of the PRT"
                    .into(),
            );
        }
        if info.actors.contains(&Actor::Wam) && self.state.wam_token {
            hold(
                Actor::Wam,
                Token,
                "Access token (cached)",
                "WAM keeps tokens for the signed-in account".into(),
            );
        }

        // The same words whether or not the engine has made the key yet:
        // when a key is made (ahead of need, in which worker) changes no
        // byte of a run, and that includes what the page says is held.
        const KEY: &str = "RSA-2048, generated";
        if info.actors.contains(&Actor::AzureAd) {
            if self
                .keys_needed()
                .contains(&KeyPurpose::AzureAdTokenSigning)
            {
                hold(Actor::AzureAd, PrivateKey, "Token-signing key", KEY.into());
            }
            hold(
                Actor::AzureAd,
                Record,
                "User object",
                format!(
                    "{}, password hash, {} registered key(s)",
                    user.upn,
                    world.azure_ad.user_keys.len()
                ),
            );
            if let Some(t) = world.azure_ad.last_mfa {
                hold(Actor::AzureAd, Record, "Last MFA", t.to_string());
            }
            issued_prts(&mut hold, Actor::AzureAd, &world.azure_ad.sign_ins.prts);
            for c in &world.azure_ad.synced_computers {
                hold(
                    Actor::AzureAd,
                    Record,
                    "Synchronised computer",
                    format!(
                        "device {} ({}), SID {}: pending until it completes its hybrid join",
                        c.device_id, c.name, c.sid
                    ),
                );
            }
            let devices = &world.azure_ad.devices;
            hold(
                Actor::AzureAd,
                Record,
                "Device objects",
                if devices.is_empty() {
                    "none: no device has joined".into()
                } else {
                    devices
                        .iter()
                        .map(|d| {
                            format!(
                                "{} ({}), device key{}",
                                d.name,
                                d.id,
                                if d.transport_key.is_some() {
                                    " and transport key"
                                } else {
                                    ""
                                }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            );
        }
        if info.actors.contains(&Actor::AdFs) {
            hold(Actor::AdFs, PrivateKey, "Token-signing key", KEY.into());
            let trusts = &world.adfs.relying_parties;
            hold(
                Actor::AdFs,
                Record,
                "Relying party trusts",
                if trusts.is_empty() {
                    "none".into()
                } else {
                    trusts
                        .iter()
                        .map(|rp| format!("{} ({})", rp.name, rp.identifier))
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            );
            issued_prts(&mut hold, Actor::AdFs, &world.adfs.sign_ins.prts);
        }
        if info.actors.contains(&Actor::Mfa) {
            hold(
                Actor::Mfa,
                Record,
                "Registered method",
                "Authenticator app with number matching".into(),
            );
        }
        if self.keys_needed().contains(&KeyPurpose::DeviceCa) {
            hold(
                Actor::Adrs,
                PrivateKey,
                "Device CA key",
                format!("{KEY}; signs device certificates as MS-Organization-Access"),
            );
        }
        for drs in [Actor::Adrs, Actor::Edrs] {
            if info.actors.contains(&drs) {
                hold(
                    drs,
                    PublicKey,
                    "Trusted token issuer",
                    "the token-signing public key of its identity provider".into(),
                );
                hold(
                    drs,
                    PublicKey,
                    "Trusted attestation CA",
                    "checks AIK certificates".into(),
                );
            }
        }
        if info.actors.contains(&Actor::Ad) {
            hold(
                Actor::Ad,
                Record,
                "msDS-KeyCredentialLink",
                format!(
                    "{} value(s) on {}",
                    world.directory.key_credential_link.len(),
                    user.dn
                ),
            );
            if info.actors.contains(&Actor::Dsreg) {
                let computer = &world.directory.computer;
                hold(
                    Actor::Ad,
                    Record,
                    "Computer object",
                    format!(
                        "{} ({}); {} userCertificate value(s)",
                        computer.sam_account_name,
                        computer.sid,
                        computer.user_certificates.len()
                    ),
                );
            }
        }
        if info.trust == Trust::CloudKerberos {
            // Both halves of the Microsoft Entra Kerberos server object.
            if let Ok(Some((number, _, version))) = world.entra_kerberos_domain() {
                hold(
                    Actor::AzureAd,
                    PrivateKey,
                    "Kerberos server key (KerberosDomain)",
                    format!(
                        "its copy of krbtgt_{number}'s key, version {version}: it makes partial TGTs for {}",
                        crate::world::REALM
                    ),
                );
            }
            if let Ok(Some(server)) = world.ad_kerberos_server() {
                hold(
                    Actor::Ad,
                    PrivateKey,
                    "Entra Kerberos server object",
                    format!(
                        "{} (an RODC, number {}) and {}'s key, version {}; its password replication policy denies privileged accounts",
                        server.name, server.number, server.krbtgt_account, server.version
                    ),
                );
            }
            hold(
                Actor::Ad,
                PrivateKey,
                "krbtgt key",
                "aes256-cts-hmac-sha1-96: it encrypts every full TGT the domain's KDCs issue"
                    .into(),
            );
        }
        if self.state.partial_tgt.is_some() {
            hold(
                Actor::Kerberos,
                Token,
                "Partial TGT",
                format!(
                    "krbtgt/{} for {} from Entra ID, with its session key: the user's SID, no groups",
                    crate::world::REALM,
                    user.sam_account_name
                ),
            );
        }
        if let Some(tgt) = &self.state.full_tgt {
            hold(
                Actor::Kerberos,
                Token,
                "Kerberos TGT",
                format!(
                    "krbtgt/{} for {}, until {}, with its session key, from the domain controller",
                    crate::world::REALM,
                    user.sam_account_name,
                    tgt.endtime
                ),
            );
        }
        if info.actors.contains(&Actor::Kerberos) && info.trust != Trust::CloudKerberos {
            hold(
                Actor::Ad,
                PrivateKey,
                "KDC key and certificate",
                format!(
                    "{}'s key; its certificate from the enterprise issuing CA for KDC Authentication",
                    crate::world::DOMAIN_CONTROLLER
                ),
            );
            hold(
                Actor::Ad,
                PrivateKey,
                "krbtgt key",
                "aes256-cts-hmac-sha1-96: it encrypts every TGT the domain's KDCs issue".into(),
            );
        }
        if let Some(tgt) = &self.state.tgt {
            let holder = if info.actors.contains(&Actor::Kerberos) {
                Actor::Kerberos
            } else {
                Actor::User
            };
            hold(
                holder,
                Token,
                "Kerberos TGT",
                format!(
                    "krbtgt/{} for {}, until {}, with its session key",
                    crate::world::REALM,
                    user.sam_account_name,
                    tgt.endtime
                ),
            );
        }
        if info.actors.contains(&Actor::AadConnect) {
            hold(
                Actor::AadConnect,
                Record,
                "Sync schedule",
                format!(
                    "every {}; last run {}",
                    world.sync.interval, world.sync.last_run
                ),
            );
            hold(
                Actor::AadConnect,
                Record,
                "Delta watermark",
                format!(
                    "changes in Entra ID up to {} are imported",
                    world.sync.watermark
                ),
            );
        }
        if info.trust == Trust::Certificate {
            hold(Actor::Ra, PrivateKey, "Enrollment agent key", KEY.into());
            hold(
                Actor::Ra,
                Certificate,
                "Enrollment agent certificate",
                "EKU Certificate Request Agent (1.3.6.1.4.1.311.20.2.1)".into(),
            );
            if let Some(signers) = &world.adfs.receipt_signers {
                hold(
                    Actor::Ra,
                    PublicKey,
                    "Key receipt signers",
                    if signers.is_empty() {
                        "none: the cloud registration service could not be reached".into()
                    } else {
                        format!(
                            "{} key(s) downloaded from the cloud registration service",
                            signers.len()
                        )
                    },
                );
            }
            hold(
                Actor::Ca,
                PrivateKey,
                "Issuing CA signing key",
                format!(
                    "{KEY}; its certificate, {}, comes from the offline root, {}",
                    crate::enterprise_pki::ISSUING_CN,
                    crate::enterprise_pki::ROOT_CN
                ),
            );
            // Whether the PKI is built yet depends on when the worker got to
            // it: an unbuilt PKI has issued nothing, and says the same.
            let issued = world.pki_if_built().map_or(&[][..], |p| &p.ca.issued[..]);
            hold(
                Actor::Ca,
                Record,
                "Issued certificates",
                match issued.last() {
                    None => "none yet".into(),
                    Some(last) => format!(
                        "{} in this run; the last, serial 0x{:X}, to {} from template {}",
                        issued.len(),
                        last.serial,
                        last.requester,
                        last.template
                    ),
                },
            );
            hold(Actor::Ca, Record, "Certificate template", format!("{}: Smart Card Logon and Client Authentication, one enrollment-agent signature, Enroll for {} (AD FS's account is a member), the subject and SID from Active Directory", crate::enterprise_pki::TEMPLATE_NAME, crate::pki::HELLO_USERS_GROUP));
        }
        out
    }
}

/// A PRT issuer's record of the PRTs it issued, when it issued any.
fn issued_prts(
    hold: &mut impl FnMut(Actor, HoldingKind, &str, String),
    issuer: Actor,
    prts: &[crate::world::IssuedPrt],
) {
    if let Some(prt) = prts.last() {
        hold(
            issuer,
            HoldingKind::Record,
            "Issued PRTs",
            format!(
                "{} in this run; the last for {} on device {}, with its session key",
                prts.len(),
                prt.upn,
                prt.device_id
            ),
        );
    }
}
