//! Phase R for a domain-joined computer: Microsoft Entra hybrid join in a
//! managed domain, the "synchronised join".
//!
//! The computer finds its tenant in the service connection point (Microsoft's
//! hybrid join configuration documents the object and its `azureADName` and
//! `azureADId` keywords), writes a self-signed certificate naming its device
//! ID into its computer object's `userCertificate`, and Microsoft Entra
//! Connect carries the computer to Entra ID as a device object. The join
//! request is then MS-DVRJ's with `JoinType` 6 and, instead of a user's
//! bearer token, `ServerAdJoinData.ClientIdentity`: the computer's SID and a
//! timestamp signed with the self-signed certificate's key (`Type`
//! `sha256signed`), sent with PUT to `EnrollmentServer/device/<device ID>`,
//! as AADInternals' `Join-AADIntDeviceToAzureAD` sends it. The service checks
//! that signature with the certificate that was synchronised, never with
//! anything the device holds.

use super::join::{check_join_type, AcceptedJoin, JOIN_TYPE_HYBRID};
use super::wire::join as wire;
use super::wire::{json_artifact, unb64};
use super::{Run, StepOutput};
use crate::catalog::{Actor, Deployment};
use crate::clock::{SimDuration, SimTime};
use crate::enterprise_pki::certificate_artifact;
use crate::error::{Error, Result};
use crate::formats::encoding::base64;
use crate::formats::guid::Guid;
use crate::pki;
use crate::seed::KeyPurpose;
use crate::world::{SyncedComputer, SCP_RDN};
use serde_json::{json, Value};

/// How far the signed timestamp may be from the service's clock (modelled:
/// the service's tolerance is not published).
const CLIENT_IDENTITY_SKEW: SimDuration = SimDuration::minutes(5);
/// The domain controller the join task talked to, named in the request.
use crate::world::DOMAIN_CONTROLLER;

/// `2026-11-22 09:00:00Z`: .NET's universal sortable format ("u"), which
/// the signed client identity carries.
pub(crate) fn universal_sortable(t: SimTime) -> String {
    let (y, mo, d, h, mi, s) = t.civil();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// Reads [`universal_sortable`]'s form back.
fn parse_universal_sortable(text: &str) -> Option<SimTime> {
    let b = text.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[19] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    u64::try_from(secs).ok().map(SimTime::from_unix_seconds)
}

impl Run {
    /// Whether this run's device registration is a hybrid join.
    pub(crate) fn hybrid_join(&self) -> bool {
        self.flow.info().deployment == Deployment::Hybrid
    }

    /// The join task reads the service connection point from AD.
    pub(crate) fn find_tenant(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let scp_dn = format!("{SCP_RDN},CN=Configuration,{}", self.world.tenant.domain_dn);
        let query = json!({
            "baseObject": scp_dn,
            "scope": "baseObject",
            "filter": "(objectClass=serviceConnectionPoint)",
            "attributes": ["keywords"],
        });
        self.put(
            wire::SCP_QUERY,
            serde_json::to_vec(&query)
                .map_err(|e| Error::malformed("LDAP query", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::SCP_QUERY,
            "LDAP search for the service connection point",
            &query,
            Some("an LDAP search (RFC 4511 §4.5.1) shown as JSON"),
        ));
        // AD's side: its own configuration partition, the query as it came.
        let Some(asked) = self.take_json(
            wire::SCP_QUERY,
            &mut out,
            Actor::Ad,
            "Query is well formed",
            "RFC 4511 §4.5.1",
        )?
        else {
            return Ok(out);
        };
        let own_dn = format!("{SCP_RDN},CN=Configuration,{}", self.world.tenant.domain_dn);
        let base = asked["baseObject"].as_str().unwrap_or_default();
        // A forest never configured for device registration has no such
        // object: LDAP's noSuchObject.
        let configured = !self.world.directory.scp_keywords.is_empty();
        let entry = if configured && base.eq_ignore_ascii_case(&own_dn) {
            json!({
                "dn": own_dn,
                "objectClass": ["top", "leaf", "connectionPoint", "serviceConnectionPoint"],
                "keywords": self.world.directory.scp_keywords,
            })
        } else {
            json!({ "resultCode": 32, "diagnosticMessage": "noSuchObject" })
        };
        self.put(
            wire::SCP_ENTRY,
            serde_json::to_vec(&entry)
                .map_err(|e| Error::malformed("LDAP entry", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::SCP_ENTRY,
            "Service connection point",
            &entry,
            Some("the object and its keywords are those Microsoft's hybrid join configuration describes; shown as JSON"),
        ));
        // The device's side: the keywords as they arrived.
        let Some(got) = self.take_json(
            wire::SCP_ENTRY,
            &mut out,
            Actor::Dsreg,
            "Answer is well formed",
            "RFC 4511 §4.5.2",
        )?
        else {
            return Ok(out);
        };
        let keywords: Vec<String> = got["keywords"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let keyword = |name: &str| {
            keywords
                .iter()
                .find_map(|k| k.strip_prefix(name).map(str::to_string))
        };
        // On premises the keyword names the Enterprise DRS instead (the
        // on-premises Windows Hello for Business deployment guide's
        // `enterpriseDrsName:`).
        if self.flow.info().deployment == Deployment::OnPremises {
            let drs = keyword("enterpriseDrsName:");
            out.check(
                Actor::Dsreg,
                "The forest names a registration service",
                format!("keywords {keywords:?}"),
                "Windows Hello for Business on premises: the service connection point's enterpriseDrsName",
                match &drs {
                    Some(host) if !host.is_empty() => Ok(()),
                    _ => Err("no enterpriseDrsName keyword: the forest is not configured for device registration".into()),
                },
            );
            self.state.scp_drs = drs;
            return Ok(out);
        }
        let tenant = match (keyword("azureADName:"), keyword("azureADId:")) {
            (Some(name), Some(id)) => Guid::parse(&id)
                .map(|id| (name, id))
                .map_err(|_| format!("azureADId \"{id}\" is not a GUID")),
            _ if keywords.is_empty() => Err(
                "no service connection point: the forest is not configured for hybrid join"
                    .to_string(),
            ),
            _ => Err("the keywords lack azureADName or azureADId".to_string()),
        };
        out.check(
            Actor::Dsreg,
            "The forest names a tenant",
            format!("keywords {keywords:?}"),
            "Microsoft Entra hybrid join: the service connection point's keywords",
            tenant.as_ref().map(|_| ()).map_err(Clone::clone),
        );
        if let Ok(tenant) = tenant {
            self.state.scp_tenant = Some(tenant);
        }
        Ok(out)
    }

    /// The join task writes a self-signed certificate naming its device ID
    /// into its own computer object.
    pub(crate) fn publish_user_certificate(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let key = self
            .world
            .keys
            .key(KeyPurpose::HybridJoinCertificate)?
            .clone();
        // In a hybrid join the device picks its own ID.
        let device_id = self.world.new_device_id();
        let cert = pki::hybrid_join_certificate(&key, device_id, self.now)?;
        self.state.hybrid_device_id = Some(device_id);
        let computer = self.world.directory.computer.clone();
        let modify = json!({
            "object": computer.dn,
            "boundAs": format!("{}\\{}", self.world.tenant.netbios, computer.sam_account_name),
            "changes": [{
                "operation": "replace",
                "attribute": "userCertificate",
                "values": [base64(&cert)],
            }],
        });
        self.put(
            wire::USER_CERTIFICATE_WRITE,
            serde_json::to_vec(&modify)
                .map_err(|e| Error::malformed("LDAP modify", e.to_string()))?,
        );
        out.artifact(certificate_artifact(
            "computer-self-signed-certificate",
            "Self-signed certificate naming the device ID",
            &cert,
            Some("the shape public tools give it (AADInternals); its exact extensions and lifetime are not documented"),
        ));
        out.artifact(json_artifact(
            wire::USER_CERTIFICATE_WRITE,
            "LDAP modify of the computer object",
            &modify,
            Some("an LDAP modify (RFC 4511 §4.6) shown as JSON; the computer binds with its own Kerberos identity"),
        ));
        // AD's side: a computer may write its own userCertificate.
        let Some(body) = self.take_json(
            wire::USER_CERTIFICATE_WRITE,
            &mut out,
            Actor::Ad,
            "Modify is well formed",
            "RFC 4511 §4.6",
        )?
        else {
            return Ok(out);
        };
        let object = body["object"].as_str().unwrap_or_default();
        let bound = body["boundAs"].as_str().unwrap_or_default();
        let own = &self.world.directory.computer;
        let own_name = format!("{}\\{}", self.world.tenant.netbios, own.sam_account_name);
        out.check(
            Actor::Ad,
            "A computer writes only its own object",
            format!("{bound} modifies {object}"),
            "AD: SELF's write access to its own userCertificate (modelled)",
            if !object.eq_ignore_ascii_case(&own.dn) {
                Err(format!("there is no computer object {object}"))
            } else if !bound.eq_ignore_ascii_case(&own_name) {
                Err(format!("{bound} may not write {object}"))
            } else {
                Ok(())
            },
        );
        if !out.ok() {
            return Ok(out);
        }
        let values = body["changes"][0]["values"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut stored = Vec::new();
        for v in values {
            stored.push(unb64("userCertificate", v.as_str())?);
        }
        self.world.directory.computer.user_certificates = stored;
        Ok(out)
    }

    /// Microsoft Entra Connect carries the computer to Entra ID.
    pub(crate) fn sync_device(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        self.world.sync.last_run = self.now;
        let connect = Actor::AadConnect;
        let computer = self.world.directory.computer.clone();
        if self.world.config.options.computer_out_of_sync_scope {
            out.note("The computer's organisational unit is outside Microsoft Entra Connect's sync scope: this cycle does not read it.");
            out.took = SimDuration::minutes(2);
            return Ok(out);
        }
        // The sync rules take a computer to Entra ID only with a usable
        // certificate in userCertificate.
        let found = computer.user_certificates.iter().find_map(|der| {
            pki::read_hybrid_join_certificate(der)
                .ok()
                .map(|(id, _)| (id, der.clone()))
        });
        out.check(
            connect,
            "The computer carries a device certificate",
            format!(
                "{} userCertificate value(s) of {}: a self-signed certificate whose subject is a device ID",
                computer.user_certificates.len(),
                computer.sam_account_name
            ),
            "Microsoft Entra Connect's device sync rules (modelled)",
            match &found {
                Some(_) => Ok(()),
                None => Err("no userCertificate value is a self-signed certificate naming a device ID, so the computer is not synchronised".into()),
            },
        );
        let Some((device_id, cert)) = found else {
            return Ok(out);
        };
        let name = computer.sam_account_name.trim_end_matches('$').to_string();
        let export = json!({
            "objectType": "Device",
            "sourceAnchor": base64(&device_id.to_dotnet_bytes()),
            "deviceId": device_id.to_string(),
            "displayName": name,
            "onPremisesSecurityIdentifier": computer.sid,
            "deviceOSType": "Windows",
            "deviceTrustType": "ServerAd",
            "accountEnabled": true,
            "userCertificate": [base64(&cert)],
        });
        out.artifact(json_artifact(
            "synced-device",
            "Device object exported to Entra ID",
            &export,
            Some("the attributes AADInternals' synchronisation API sends for a device; the sync protocol itself is not public"),
        ));
        self.world
            .azure_ad
            .synced_computers
            .retain(|c| c.device_id != device_id);
        self.world.azure_ad.synced_computers.push(SyncedComputer {
            device_id,
            name,
            sid: computer.sid,
            user_certificate: cert,
        });
        out.took = SimDuration::minutes(2);
        Ok(out)
    }

    /// The hybrid join request: JoinType 6 and the signed client identity.
    pub(crate) fn enroll_hybrid_device(
        &mut self,
        csr: Vec<u8>,
        transport: Vec<u8>,
    ) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let device_id = self
            .state
            .hybrid_device_id
            .ok_or_else(|| Error::Usage("the device has not chosen its device ID".into()))?;
        let (domain, tenant_id) = self
            .state
            .scp_tenant
            .clone()
            .ok_or_else(|| Error::Usage("the device has not found its tenant".into()))?;
        let key = self
            .world
            .keys
            .key(KeyPurpose::HybridJoinCertificate)?
            .clone();
        let identity = format!(
            "{}.{}",
            self.world.directory.computer.sid,
            universal_sortable(self.now)
        );
        let signed = crate::rs256::sign(&key, identity.as_bytes())?;
        let body = json!({
            "CertificateRequest": { "Type": "pkcs10", "Data": base64(&csr) },
            "JoinType": JOIN_TYPE_HYBRID,
            "ServerAdJoinData": {
                "TransportKey": base64(&transport),
                "TargetDomain": domain,
                "DeviceType": "Windows",
                "OSVersion": super::join::OS_VERSION,
                "DeviceDisplayName": self.world.device.name,
                "SourceDomainController": DOMAIN_CONTROLLER,
                "TargetDomainId": tenant_id.to_string(),
                "ClientIdentity": {
                    "Type": "sha256signed",
                    "Sid": identity,
                    "SignedBlob": base64(&signed),
                },
            },
            "Attributes": { "ReuseDevice": "true", "ReturnClientSid": "true" },
        });
        let url = format!(
            "https://{}/EnrollmentServer/device/{device_id}?api-version=1.0",
            super::join::DRS_HOST
        );
        self.put(wire::JOIN_URL, url.clone().into_bytes());
        self.put(
            wire::JOIN_REQUEST,
            serde_json::to_vec(&body)
                .map_err(|e| Error::malformed("join request", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::JOIN_REQUEST,
            "Hybrid join request (MS-DVRJ, JoinType 6)",
            &body,
            Some("the ServerAdJoinData members are those AADInternals sends for a hybrid join; MS-DVRJ does not describe them"),
        ));
        out.artifact(super::wire::bcrypt_artifact(
            "transport-key-blob",
            "Transport key (BCRYPT_RSAPUBLIC_BLOB)",
            &transport,
        ));
        out.note(format!(
            "PUT {url}, with no Authorization header: the signed client identity authenticates the computer."
        ));
        Ok(out)
    }

    /// The service checks the computer's proof against what Entra Connect
    /// synchronised, then the request itself.
    pub(crate) fn validate_hybrid_enrollment(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let drs = Actor::Adrs;
        let url = String::from_utf8_lossy(&self.take(wire::JOIN_URL)?).into_owned();
        let named = url
            .split("/EnrollmentServer/device/")
            .nth(1)
            .and_then(|rest| rest.split('?').next())
            .unwrap_or_default()
            .to_string();
        let Some(body) = self.take_json(
            wire::JOIN_REQUEST,
            &mut out,
            drs,
            "Request is well formed",
            "MS-DVRJ 3.1.5.1.1.1",
        )?
        else {
            return Ok(out);
        };
        let synced = Guid::parse(&named).ok().and_then(|id| {
            self.world
                .azure_ad
                .synced_computers
                .iter()
                .find(|c| c.device_id == id)
                .cloned()
        });
        out.check(
            drs,
            "The device object exists",
            format!(
                "device {named} against the {} computer(s) Microsoft Entra Connect synchronised",
                self.world.azure_ad.synced_computers.len()
            ),
            "DSREG_E_DIRECTORY_FAILURE, as dsregcmd /status reports a join before the sync",
            match &synced {
                Some(_) => Ok(()),
                None => Err(format!(
                    "The device object by the given id ({named}) is not found."
                )),
            },
        );
        let Some(synced) = synced else {
            return Ok(out);
        };
        let data = &body["ServerAdJoinData"];
        let identity = &data["ClientIdentity"];
        let kind = identity["Type"].as_str().unwrap_or_default();
        out.check_eq(
            drs,
            "Client identity type",
            format!("ClientIdentity.Type \"{kind}\""),
            "AADInternals' hybrid join request",
            ("the type", "sha256signed", kind),
        );
        let sid_text = identity["Sid"].as_str().unwrap_or_default().to_string();
        let signature = unb64("ClientIdentity.SignedBlob", identity["SignedBlob"].as_str());
        let cert_key = pki::read_hybrid_join_certificate(&synced.user_certificate).map(|(_, k)| k);
        out.check(
            drs,
            "Signed by the synchronised certificate's key",
            "RSASSA-PKCS1-v1_5 SHA-256 over ClientIdentity.Sid, verified with the key of the userCertificate Microsoft Entra Connect synchronised",
            "RFC 8017 §8.2; AADInternals' hybrid join request",
            match (&cert_key, &signature) {
                (Ok(key), Ok(sig)) => crate::rs256::verify(key, sid_text.as_bytes(), sig),
                (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
            },
        );
        let (sid, stamp) = sid_text.rsplit_once('.').unwrap_or((sid_text.as_str(), ""));
        out.check_eq(
            drs,
            "The SID is the computer's",
            format!("SID {sid} against the device object's onPremisesSecurityIdentifier"),
            "AADInternals' hybrid join request (Sid)",
            ("the SID", synced.sid.as_str(), sid),
        );
        let signed_at = parse_universal_sortable(stamp);
        out.check(
            drs,
            "Signed recently",
            format!(
                "timestamp \"{stamp}\" within {CLIENT_IDENTITY_SKEW} of {}",
                self.now
            ),
            "modelled: the service's tolerance is not published",
            match signed_at {
                None => Err(format!(
                    "\"{stamp}\" is not a time in the form 2026-11-22 09:00:00Z"
                )),
                Some(t)
                    if self.now.since(t) > CLIENT_IDENTITY_SKEW
                        || t.since(self.now) > CLIENT_IDENTITY_SKEW =>
                {
                    Err(format!(
                        "the identity was signed at {t}, too far from {}",
                        self.now
                    ))
                }
                Some(_) => Ok(()),
            },
        );
        let target = data["TargetDomainId"].as_str().unwrap_or_default();
        let own = self.world.tenant.id.to_string();
        out.check_eq(
            drs,
            "For this tenant",
            format!("TargetDomainId {target}"),
            "AADInternals' hybrid join request (TargetDomainId)",
            ("the tenant", own.as_str(), target),
        );
        check_join_type(&mut out, drs, &body, JOIN_TYPE_HYBRID, "hybrid join");
        let keys = self.check_join_keys(
            &mut out,
            &body["CertificateRequest"],
            data["TransportKey"].as_str(),
        );
        if let (true, Some((device_key, transport_key))) = (out.ok(), keys) {
            self.state.accepted_join = Some(AcceptedJoin {
                device_key,
                transport_key,
                display_name: data["DeviceDisplayName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                user: None,
                device_id: Some(synced.device_id),
                on_prem_sid: Some(synced.sid.clone()),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_universal_sortable_time_reads_back() {
        for t in [
            SimTime::DEFAULT_START,
            SimTime(0),
            SimTime::from_unix_seconds(2_524_608_000),
        ] {
            let text = universal_sortable(t);
            assert_eq!(parse_universal_sortable(&text), Some(t), "{text}");
        }
        assert_eq!(
            universal_sortable(SimTime::from_unix_seconds(951_782_400)),
            "2000-02-29 00:00:00Z"
        );
        for bad in [
            "",
            "2026-11-22 09:00:00",
            "2026-13-01 00:00:00Z",
            "2026-11-22T09:00:00Z",
        ] {
            assert_eq!(parse_universal_sortable(bad), None, "{bad}");
        }
    }
}
