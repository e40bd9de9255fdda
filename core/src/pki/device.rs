//! The device certificate a device registration service issues when a
//! device joins, and the device registration service's device CA.
//!
//! What the service writes into the certificate follows MS-DVRJ 3.1.5.1.1.3
//! (it adds the device ID it generated, `1.2.840.113556.1.5.284.2`, and the
//! registering user's object GUID, `.284.3`); the tenant ID (`.284.5`) and
//! the join type (`.284.7`, the text "1" for joined, "0" for registered)
//! are what public tools read from Microsoft Entra device certificates
//! (AADInternals' device identity research, its `Get-AADIntDeviceCertificate`
//! parsing). Each value is the extension's OCTET STRING holding an inner
//! OCTET STRING: the GUID's 16 bytes in the Windows in-memory order, or the
//! text's UTF-8 bytes. The CA's name is the issuer Windows shows on every
//! such certificate and that Microsoft's PKeyAuth challenge names
//! (`OU=82dbaca4-3e81-46ca-9c73-0950c1eaca97, CN=MS-Organization-Access,
//! DC=windows, DC=net`); its key and certificate are this run's.

use super::certificate::{
    authority_key_id, crypto, parse_certificate, plus_years, push_eku, push_extension, rsa_key,
    sign_certificate, spki, TbsParts,
};
use super::oid;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::formats::guid::Guid;
use der::asn1::{Ia5StringRef, OctetString, SetOfVec, Utf8StringRef};
use der::{Any, Decode, Encode};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;

/// The OU of the device CA's name: the same on every Microsoft Entra
/// device certificate.
pub const DEVICE_CA_OU: &str = "82dbaca4-3e81-46ca-9c73-0950c1eaca97";
/// The device CA's common name.
pub const DEVICE_CA_CN: &str = "MS-Organization-Access";
/// Join type `.284.7` of a joined device.
pub const JOIN_TYPE_JOINED: &str = "1";

const WHAT: &str = "device certificate";

/// The device CA's name: DC=net, DC=windows, CN=MS-Organization-Access,
/// OU=82dbaca4-… (in encoded order; RFC 4514 text reverses it).
fn device_ca_name() -> Result<Name> {
    ca_name(&["net", "windows"], DEVICE_CA_OU)
}

/// A device CA's name: the domain components (top first), then
/// CN=MS-Organization-Access and an OU naming the registration service.
fn ca_name(domain_components: &[&str], ou: &str) -> Result<Name> {
    let ia5 = |s: &str| -> Result<Any> {
        Any::encode_from(&Ia5StringRef::new(s).map_err(crypto("name"))?).map_err(crypto("name"))
    };
    let utf8 = |s: &str| -> Result<Any> {
        Any::encode_from(&Utf8StringRef::new(s).map_err(crypto("name"))?).map_err(crypto("name"))
    };
    let mut parts = Vec::new();
    for dc in domain_components {
        parts.push((const_oid::db::rfc4519::DOMAIN_COMPONENT, ia5(dc)?));
    }
    parts.push((const_oid::db::rfc4519::CN, utf8(DEVICE_CA_CN)?));
    parts.push((const_oid::db::rfc4519::OU, utf8(ou)?));
    let rdns = parts
        .into_iter()
        .map(|(oid, value)| {
            SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }])
                .map(RelativeDistinguishedName)
                .map_err(crypto("name"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RdnSequence(rdns))
}

/// The device CA's self-signed certificate: a CA for keyCertSign and
/// cRLSign, valid twenty years from `not_before`. The serial is taken from
/// the SHA-256 of the key, so it is stable for a key.
pub fn device_ca_certificate(key: &RsaPrivateKey, not_before: SimTime) -> Result<Vec<u8>> {
    super::certificate::self_signed_ca(key, device_ca_name()?, not_before, 20)
}

/// The Enterprise DRS's own device CA on AD FS: the same common name under
/// the AD domain's components, its OU naming the registration service
/// (MS-DVRJ 4's example issuer has this form, `DC=net, DC=mim1,
/// CN=MS-Organization-Access, OU=<GUID>`).
pub fn enterprise_device_ca_certificate(
    key: &RsaPrivateKey,
    domain_components: &[&str],
    service_id: Guid,
    not_before: SimTime,
) -> Result<Vec<u8>> {
    let name = ca_name(domain_components, &service_id.to_string())?;
    super::certificate::self_signed_ca(key, name, not_before, 20)
}

/// What the service certifies about a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceFacts {
    /// The device ID the service generated (MS-DVRJ 3.1.5.1.1.3).
    pub device_id: Guid,
    /// The object GUID of the account that registered the device: the
    /// user's for a join at setup, the computer's on premises; none for a
    /// hybrid join with Entra ID.
    pub user_object_id: Option<Guid>,
    /// The Entra tenant (`.284.5`), for a cloud registration.
    pub tenant_id: Option<Guid>,
    /// The AD domain's objectGUID (`.284.4`), for an on-premises one.
    pub domain_id: Option<Guid>,
}

/// Issues the device certificate for `device_key`: subject `CN=<device
/// ID>`, issued by the device CA, digitalSignature and keyEncipherment,
/// Client Authentication, and the device ID, user, tenant and join type
/// extensions. Valid ten years from `now`, dated back half an hour (as the
/// device certificates Windows shows are).
pub fn issue_device_certificate(
    ca_key: &RsaPrivateKey,
    ca_cert: &[u8],
    device_key: &RsaPublicKey,
    facts: DeviceFacts,
    now: SimTime,
) -> Result<Vec<u8>> {
    let ca = parse_certificate(ca_cert)?;
    let subject = super::certificate::cn_name(&facts.device_id.to_string())?;
    let info = spki(device_key)?;
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
    )?;
    push_eku(&mut extensions, &subject, vec![oid::CLIENT_AUTH])?;
    push_extension(&mut extensions, &subject, &authority_key_id(&ca)?)?;
    extensions.push(raw_extension(
        oid::DEVICE_ID,
        &facts.device_id.to_dotnet_bytes(),
    )?);
    if let Some(user) = facts.user_object_id {
        extensions.push(raw_extension(oid::DEVICE_USER_ID, &user.to_dotnet_bytes())?);
    }
    if let Some(domain) = facts.domain_id {
        extensions.push(raw_extension(oid::DOMAIN_ID, &domain.to_dotnet_bytes())?);
    }
    if let Some(tenant) = facts.tenant_id {
        extensions.push(raw_extension(oid::TENANT_ID, &tenant.to_dotnet_bytes())?);
    }
    extensions.push(raw_extension(oid::JOIN_TYPE, JOIN_TYPE_JOINED.as_bytes())?);
    let tbs = TbsParts {
        serial: positive_serial(&Sha256::digest(facts.device_id.to_rfc4122_bytes()))?,
        issuer: ca.tbs_certificate.subject.clone(),
        not_before: SimTime(now.0.saturating_sub(SimDuration::minutes(30).0)),
        not_after: plus_years(now, 10),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, ca_key)
}

/// The self-signed certificate a domain-joined computer writes into its
/// computer object's userCertificate before a hybrid join: subject and
/// issuer `CN=<device ID>`, digitalSignature, valid ten years from `now`
/// dated back half an hour. Entra Connect carries it to Entra ID, and the
/// join request's signed SID is verified with its key (AADInternals'
/// `Join-AADIntOnPremDeviceToAzureAD` makes the same shape; the extensions
/// and lifetime Windows gives it are not documented: modelled).
pub fn hybrid_join_certificate(
    key: &RsaPrivateKey,
    device_id: Guid,
    now: SimTime,
) -> Result<Vec<u8>> {
    let subject = super::certificate::cn_name(&device_id.to_string())?;
    let info = spki(&key.to_public_key())?;
    let mut extensions = Vec::new();
    push_extension(
        &mut extensions,
        &subject,
        &KeyUsage(KeyUsages::DigitalSignature.into()),
    )?;
    push_extension(
        &mut extensions,
        &subject,
        &super::certificate::own_key_id(&info)?,
    )?;
    let tbs = TbsParts {
        serial: positive_serial(&Sha256::digest(device_id.to_dotnet_bytes()))?,
        issuer: subject.clone(),
        not_before: SimTime(now.0.saturating_sub(SimDuration::minutes(30).0)),
        not_after: plus_years(now, 10),
        subject,
        spki: info,
    }
    .into_tbs(extensions)?;
    sign_certificate(tbs, key)
}

/// What a hybrid join's self-signed certificate says: the device ID its
/// subject names and its key, once its own signature verifies.
pub fn read_hybrid_join_certificate(der: &[u8]) -> Result<(Guid, RsaPublicKey)> {
    const WHAT: &str = "self-signed computer certificate";
    let cert = parse_certificate(der)?;
    if cert.tbs_certificate.subject != cert.tbs_certificate.issuer {
        return Err(Error::invalid(
            WHAT,
            "its issuer is not its subject: it is not self-signed",
        ));
    }
    verify_issued_by(der, der)?;
    let cn = super::certificate::common_name(&cert.tbs_certificate.subject).unwrap_or_default();
    let id = Guid::parse(&cn).map_err(|_| {
        Error::invalid(
            WHAT,
            format!("its subject CN \"{cn}\" is not a device ID (a GUID)"),
        )
    })?;
    let key = rsa_key(&cert.tbs_certificate.subject_public_key_info)
        .map_err(|e| Error::invalid(WHAT, e))?;
    Ok((id, key))
}

/// A 16-byte positive serial number from a digest.
fn positive_serial(digest: &[u8]) -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[0] &= 0x7F;
    SerialNumber::new(&bytes).map_err(crypto("serial number"))
}

/// A non-critical extension whose value is an OCTET STRING of `content`.
fn raw_extension(id: const_oid::ObjectIdentifier, content: &[u8]) -> Result<Extension> {
    let inner = OctetString::new(content)
        .and_then(|o| o.to_der())
        .map_err(crypto("extension value"))?;
    Ok(Extension {
        extn_id: id,
        critical: false,
        extn_value: OctetString::new(inner).map_err(crypto("extension value"))?,
    })
}

/// What a device certificate says, read back from its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCertificate {
    /// The subject's common name (the device ID as text).
    pub subject_cn: String,
    /// The device ID extension (`.284.2`).
    pub device_id: Guid,
    /// The tenant ID extension (`.284.5`), if present.
    pub tenant_id: Option<Guid>,
    /// The join type extension (`.284.7`), if present.
    pub join_type: Option<String>,
    /// The certified key.
    pub public_key: RsaPublicKey,
}

/// Reads a device certificate's subject, its device extensions and its key.
pub fn read_device_certificate(der: &[u8]) -> Result<DeviceCertificate> {
    let cert = parse_certificate(der)?;
    let inner = |id: &const_oid::ObjectIdentifier| -> Result<Option<Vec<u8>>> {
        match super::certificate::extension(&cert, id) {
            None => Ok(None),
            Some(ext) => OctetString::from_der(ext.extn_value.as_bytes())
                .map(|o| Some(o.as_bytes().to_vec()))
                .map_err(|e| {
                    Error::malformed(WHAT, format!("extension {id} is not an OCTET STRING: {e}"))
                }),
        }
    };
    let guid = |bytes: Vec<u8>, what: &str| -> Result<Guid> {
        let array: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
            Error::malformed(
                WHAT,
                format!("the {what} holds {} bytes, not a GUID's 16", bytes.len()),
            )
        })?;
        Ok(Guid::from_dotnet_bytes(array))
    };
    let device_id = match inner(&oid::DEVICE_ID)? {
        Some(bytes) => guid(bytes, "device ID extension")?,
        None => {
            return Err(Error::invalid(
                WHAT,
                "it has no device ID extension (1.2.840.113556.1.5.284.2)",
            ))
        }
    };
    let tenant_id = inner(&oid::TENANT_ID)?
        .map(|b| guid(b, "tenant ID extension"))
        .transpose()?;
    let join_type = inner(&oid::JOIN_TYPE)?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let public_key = rsa_key(&cert.tbs_certificate.subject_public_key_info)
        .map_err(|e| Error::invalid(WHAT, e))?;
    Ok(DeviceCertificate {
        subject_cn: super::certificate::common_name(&cert.tbs_certificate.subject)
            .unwrap_or_default(),
        device_id,
        tenant_id,
        join_type,
        public_key,
    })
}

/// Verifies that `der` was signed by the key of the CA certificate `ca`
/// (sha256WithRSAEncryption over the TBSCertificate as received).
pub fn verify_issued_by(der: &[u8], ca: &[u8]) -> Result<()> {
    let cert = parse_certificate(der)?;
    let ca = parse_certificate(ca)?;
    if cert.signature_algorithm.oid != oid::SHA256_WITH_RSA {
        return Err(Error::invalid(
            WHAT,
            format!(
                "it is signed with {}, not sha256WithRSAEncryption",
                oid::describe(&cert.signature_algorithm.oid)
            ),
        ));
    }
    let ca_key = rsa_key(&ca.tbs_certificate.subject_public_key_info)
        .map_err(|e| Error::invalid("device CA certificate", e))?;
    let tbs = super::certificate::signed_part(der, WHAT)?;
    let signature = cert
        .signature
        .as_bytes()
        .ok_or_else(|| Error::malformed(WHAT, "the signature BIT STRING has unused bits"))?;
    crate::rs256::verify(&ca_key, &tbs, signature)
        .map_err(|e| Error::invalid(WHAT, format!("{e} with the device CA's key")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{KeyPurpose, KeyVault, Seed};

    #[test]
    fn a_device_certificate_names_the_device_and_chains_to_the_device_ca() {
        let mut keys = KeyVault::new(Seed::from_text("device-ca"));
        keys.make(KeyPurpose::DeviceCa).unwrap();
        keys.make(KeyPurpose::Attacker).unwrap();
        let ca_key = keys.key(KeyPurpose::DeviceCa).unwrap().clone();
        let device_key = keys.key(KeyPurpose::Attacker).unwrap().to_public_key();
        let start = SimTime::DEFAULT_START;
        let ca = device_ca_certificate(&ca_key, start).unwrap();
        let facts = DeviceFacts {
            device_id: Guid::parse("20b802d5-2957-4d01-86af-58d019ef7b4b").unwrap(),
            user_object_id: Some(Guid::parse("11111111-2222-3333-4444-555555555555").unwrap()),
            tenant_id: Some(Guid::parse("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee").unwrap()),
            domain_id: None,
        };
        let der = issue_device_certificate(&ca_key, &ca, &device_key, facts, start).unwrap();
        verify_issued_by(&der, &ca).unwrap();
        let read = read_device_certificate(&der).unwrap();
        assert_eq!(read.device_id, facts.device_id);
        assert_eq!(read.subject_cn, "20b802d5-2957-4d01-86af-58d019ef7b4b");
        assert_eq!(read.tenant_id, facts.tenant_id);
        assert_eq!(read.join_type.as_deref(), Some("1"));
        assert_eq!(read.public_key, device_key);
        // Another CA's certificate does not verify it.
        assert!(verify_issued_by(
            &der,
            &device_ca_certificate(&keys.key(KeyPurpose::Attacker).unwrap().clone(), start)
                .unwrap()
        )
        .is_err());
        // One flipped bit in the signed part breaks the signature.
        let mut tampered = der.clone();
        let at = tampered.len() / 3;
        tampered[at] ^= 0x01;
        assert!(
            verify_issued_by(&tampered, &ca).is_err()
                || read_device_certificate(&tampered).is_err()
        );
    }
}
