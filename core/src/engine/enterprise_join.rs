//! Phase R on premises: a domain-joined computer registers with the
//! Enterprise DRS on AD FS.
//!
//! MS-DVRD gives the discovery document (`GET
//! https://enterpriseregistration.<domain>/EnrollmentServer/contract?api-version=1.2`,
//! its `DeviceJoinService` naming the join endpoint and the resource to ask
//! a token for). MS-DVRJ gives the join: `JoinType` 6 (a domain join), a
//! bearer token that must carry `PermitDeviceRegistrationClaim`,
//! `accounttype` = `DJ`, `onpremobjectguid` and `primarysid` (§2.2.1,
//! §3.1.5.1.1.3), the msDS-Device object the service writes under
//! `CN=RegisteredDevices` with `msDS-DeviceID` the computer's objectGUID,
//! and the certificate it signs with its own issuer (§2.3.1): the device ID
//! (`.284.2`), the authenticating account's objectGUID (`.284.3`) and the
//! domain's objectGUID (`.284.4`).

use super::wire::join as wire;
use super::wire::json_artifact;
use super::{Run, StepOutput};
use crate::catalog::Actor;
use crate::error::{Error, Result};
use crate::world::{ADFS_HOST, EDRS_AUDIENCE, EDRS_HOST};
use serde_json::json;

/// The claim that lets an account register a device (MS-DVRJ §2.2.1).
pub(crate) const PERMIT_DEVICE_REGISTRATION: &str =
    "http://schemas.microsoft.com/authorization/claims/PermitDeviceRegistrationClaim";

impl Run {
    /// Whether the device registers with the Enterprise DRS on premises.
    pub(crate) fn enterprise_join(&self) -> bool {
        self.flow.info().deployment == crate::catalog::Deployment::OnPremises
    }

    /// MS-DVRD's discovery: where to join, and which token to bring.
    pub(crate) fn discover_service(&mut self) -> Result<StepOutput> {
        let mut out = StepOutput::default();
        let host = self.state.scp_drs.clone().ok_or_else(|| {
            Error::Usage("the device has not found its registration service".into())
        })?;
        let url = format!("https://{host}/EnrollmentServer/contract?api-version=1.2");
        out.note(format!("GET {url}, with Accept: application/json."));
        // The Enterprise DRS's side: its own configuration.
        let document = json!({
            "DeviceRegistrationService": {
                "RegistrationEndpoint": format!("https://{ADFS_HOST}/EnrollmentServer/DeviceEnrollmentWebService.svc"),
                "RegistrationResourceId": EDRS_AUDIENCE,
                "ServiceVersion": "1.0",
            },
            "AuthenticationService": {
                "OAuth2": {
                    "AuthCodeEndpoint": format!("https://{ADFS_HOST}/adfs/oauth2/authorize"),
                    "TokenEndpoint": format!("https://{ADFS_HOST}/adfs/oauth2/token"),
                },
            },
            "IdentityProviderService": {
                "PassiveAuthEndpoint": format!("https://{ADFS_HOST}/adfs/ls"),
            },
            "DeviceJoinService": {
                "JoinEndpoint": format!("https://{ADFS_HOST}/EnrollmentServer/device/"),
                "JoinResourceId": EDRS_AUDIENCE,
                "ServiceVersion": "1.0",
            },
            "KeyProvisioningService": {
                "KeyProvisionEndpoint": format!("https://{ADFS_HOST}/EnrollmentServer/key/"),
                "KeyProvisionResourceId": EDRS_AUDIENCE,
                "ServiceVersion": "1.0",
            },
        });
        let answer = if host.eq_ignore_ascii_case(EDRS_HOST) {
            document
        } else {
            json!({ "error": format!("no registration service answers at {host}") })
        };
        self.put(
            wire::DISCOVERY,
            serde_json::to_vec(&answer)
                .map_err(|e| Error::malformed("discovery", e.to_string()))?,
        );
        out.artifact(json_artifact(
            wire::DISCOVERY,
            "Discovery document (MS-DVRD)",
            &answer,
            None,
        ));
        // The device's side: the document as it arrived.
        let Some(got) = self.take_json(
            wire::DISCOVERY,
            &mut out,
            Actor::Dsreg,
            "Document is well formed",
            "MS-DVRD 3.1.5.1.1.2",
        )?
        else {
            return Ok(out);
        };
        let endpoint = got["DeviceJoinService"]["JoinEndpoint"]
            .as_str()
            .unwrap_or_default();
        let resource = got["DeviceJoinService"]["JoinResourceId"]
            .as_str()
            .unwrap_or_default();
        out.check(
            Actor::Dsreg,
            "The service offers a device join",
            format!(
                "DeviceJoinService: JoinEndpoint \"{endpoint}\", JoinResourceId \"{resource}\""
            ),
            "MS-DVRD 2.2.2 (DeviceJoinService)",
            if !endpoint.starts_with("https://") {
                Err("the document names no https join endpoint".into())
            } else if resource.is_empty() {
                Err("the document names no resource to ask a token for".into())
            } else {
                Ok(())
            },
        );
        if out.ok() {
            self.state.edrs_join = Some((endpoint.to_string(), resource.to_string()));
        }
        Ok(out)
    }
}

/// The on-premises device's msDS-Device object (MS-DVRJ 3.1.5.1.1.3).
pub(crate) fn device_object(
    run: &Run,
    device_id: crate::formats::guid::Guid,
    display_name: &str,
    owner_sid: &str,
    cert: &[u8],
    device_key: &rsa::RsaPublicKey,
    os_version: &str,
) -> Result<serde_json::Value> {
    use crate::formats::encoding::{base64, hex_upper};
    use rsa::pkcs8::EncodePublicKey;
    use sha1::{Digest, Sha1};
    let spki = device_key
        .to_public_key_der()
        .map_err(|e| Error::Crypto(format!("encoding the device key: {e}")))?;
    let thumbprint = hex_upper(&Sha1::digest(cert));
    let key_hash = base64(&sha2::Sha256::digest(spki.as_bytes()));
    Ok(json!({
        "dn": format!("CN={device_id},CN=RegisteredDevices,{}", run.world.tenant.domain_dn),
        "objectClass": ["top", "msDS-Device"],
        "msDS-DeviceID": base64(&device_id.to_dotnet_bytes()),
        "altSecurityIdentities": format!("X509:<SHA1-TP-PUBKEY>{thumbprint}+{key_hash}"),
        "displayName": display_name,
        "msDS-IsEnabled": true,
        "msDS-DeviceTrustType": 2,
        "msDS-DeviceObjectVersion": 2,
        "msDS-DeviceOSType": "Windows",
        "msDS-DeviceOSVersion": os_version,
        "msDS-RegisteredOwner": owner_sid,
        "msDS-RegisteredUsers": [owner_sid],
        "msDS-CloudIsManaged": false,
    }))
}
