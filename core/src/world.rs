//! The world a flow runs in: a tenant, its user, the device, the identity
//! providers, the directories and the PKI, every key generated for real from
//! one seed.
//!
//! Keys are derived per purpose (`Seed::rng("azure-ad/token-signing")`), so a
//! key is the same whichever order things are generated in, and a world only
//! generates the keys its flow needs: the command line, the tests and the
//! page's Web Worker all get byte-identical keys for the same seed.

use crate::attestation::AttestationCa;
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::device::Device;
use crate::enterprise_pki::EnterprisePki;
use crate::error::{Error, Result};
use crate::formats::key_credential_link::Guid;
use crate::options::{LastMfa, Options};
use crate::seed::Seed;
use crate::seed::{KeyPurpose, KeyVault};
use rsa::RsaPublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Everything a world is built from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorldConfig {
    /// The text the seed came from, kept for links and file names.
    pub seed_text: String,
    pub start: SimTime,
    pub options: Options,
}

impl WorldConfig {
    pub fn new(seed_text: impl Into<String>) -> Self {
        WorldConfig {
            seed_text: seed_text.into(),
            start: SimTime::DEFAULT_START,
            options: Options::default(),
        }
    }

    pub fn seed(&self) -> Seed {
        Seed::from_text(&self.seed_text)
    }
}

/// The organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tenant {
    pub id: Guid,
    pub name: &'static str,
    pub domain: &'static str,
    /// The NetBIOS name of the AD domain.
    pub netbios: &'static str,
    /// The AD domain's distinguished name.
    pub domain_dn: &'static str,
    /// The AD domain's SID (`S-1-5-21-…`), the prefix of its accounts' SIDs.
    pub domain_sid: String,
}

impl Tenant {
    /// Entra ID's token issuer for this tenant.
    pub fn azure_issuer(&self) -> String {
        format!("https://sts.windows.net/{}/", self.id)
    }
}

/// AD FS's service account (a group managed service account), which
/// submits the enrollment agent's requests to the CA.
pub const ADFS_SERVICE_ACCOUNT: &str = "adfssvc$";

/// Where AD FS's service account lives in AD.
const ADFS_SERVICE_ACCOUNT_DN: &str = "CN=adfssvc,CN=Managed Service Accounts,DC=contoso,DC=com";

/// The domain controller the on-premises services and the join task talk to.
pub const DOMAIN_CONTROLLER: &str = "DC01.contoso.com";
/// The Active Directory domain's DNS name.
pub const DOMAIN: &str = "contoso.com";
/// Its Kerberos realm: the DNS name in capitals.
pub const REALM: &str = "CONTOSO.COM";

/// What a domain controller's KDC holds beyond the directory: its key and
/// certificate (from the enterprise issuing CA), the krbtgt key that
/// encrypts every TGT, and the trust anchors a domain member has (the
/// enterprise root and the issuing CA, which the domain's NTAuth store
/// names).
#[derive(Clone, Debug)]
pub struct DomainController {
    pub key: rsa::RsaPrivateKey,
    pub certificate: Vec<u8>,
    pub krbtgt: crate::kerberos::crypto::Key,
    /// The krbtgt key's version number.
    pub krbtgt_kvno: u32,
    pub root_certificate: Vec<u8>,
    pub issuing_certificate: Vec<u8>,
}

/// The last year a world can start in (its certificates run twenty years on).
pub const LAST_START_YEAR: i64 = 9979;

/// AD FS's token issuer.
pub const ADFS_ISSUER: &str = "http://adfs.contoso.com/adfs/services/trust";
/// Where the AD FS farm answers (MS-DVRD §4's example form).
pub const ADFS_HOST: &str = "adfs.contoso.com";
/// The audience of a token for the Entra ID device registration service (MS-KPP).
pub const ADRS_AUDIENCE: &str = "urn:ms-drs:enterpriseregistration.windows.net";
/// The resource identifier of the Device Registration Service on AD FS.
/// The Enterprise DRS's host name (MS-DVRD's example form,
/// `enterpriseregistration.<domain>`).
pub const EDRS_HOST: &str = "enterpriseregistration.contoso.com";
pub const EDRS_AUDIENCE: &str = "urn:ms-drs:434DF4A9-3CF2-4C1D-917E-2CD2B72F515A";
/// The audience of a federation token for Entra ID.
pub const AZURE_FEDERATION_AUDIENCE: &str = "urn:federation:MicrosoftOnline";
/// The public client that asks for device registration tokens.
pub const DRS_CLIENT_ID: &str = "dd762716-544d-4aeb-a526-687b73838a22";

/// The person being provisioned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserAccount {
    pub upn: String,
    pub display_name: String,
    pub object_id: Guid,
    pub sam_account_name: String,
    pub dn: String,
    /// The on-premises account's SID (a domain SID and a RID).
    pub sid: String,
    /// The real password (what the directories hold a hash of).
    #[serde(skip)]
    pub password: String,
    /// Salt and SHA-256 hash of the password, as the directories hold it
    /// (modelled: real directories use other hash functions).
    pub password_salt: [u8; 16],
    pub password_hash: [u8; 32],
}

impl UserAccount {
    pub fn hash_password(salt: &[u8; 16], password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(salt);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// `CONTOSO\alex`, as enrollment requests name the requester.
    pub fn down_level_name(&self, tenant: &Tenant) -> String {
        format!("{}\\{}", tenant.netbios, self.sam_account_name)
    }
}

/// A key registered for the user in a directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegisteredKey {
    /// base64 of SHA-256 over the BCRYPT blob.
    pub key_id: String,
    /// The KEYCREDENTIALLINK_BLOB.
    pub blob: Vec<u8>,
    pub device_id: Guid,
    pub created: SimTime,
}

/// A device object as a directory holds it after device registration:
/// its ID, its name, the public half of its device key and, where the
/// device sent one, its transport key (MS-DVRJ).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredDevice {
    pub id: Guid,
    pub name: String,
    pub public_key: RsaPublicKey,
    pub transport_key: Option<RsaPublicKey>,
    /// Who registered it (the user's UPN), when a user did.
    pub registered_by: Option<String>,
    /// An administrator can disable a device object; Entra ID then refuses
    /// the device's sign-ins.
    pub enabled: bool,
}

/// The computer object of a domain-joined device in AD: what its join task
/// reads and writes, and what Microsoft Entra Connect synchronises.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComputerObject {
    pub dn: String,
    /// `DESKTOP-…$`.
    pub sam_account_name: String,
    /// objectSid: the domain's SID and the computer's RID.
    pub sid: String,
    pub object_guid: Guid,
    /// userCertificate values (DER).
    pub user_certificates: Vec<Vec<u8>>,
}

/// A computer Microsoft Entra Connect synchronised to Entra ID before it
/// hybrid joined: a device object that holds no device key yet (the
/// portal's "pending" state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncedComputer {
    pub device_id: Guid,
    pub name: String,
    /// onPremisesSecurityIdentifier.
    pub sid: String,
    /// The self-signed certificate from the computer's userCertificate.
    pub user_certificate: Vec<u8>,
}

/// The service connection point's distinguished name under the forest's
/// configuration partition (the GUID is the one Microsoft's hybrid join
/// documentation and Entra Connect use).
pub const SCP_RDN: &str =
    "CN=62a0ff2e-97b9-4513-943f-0d221bd30080,CN=Device Registration Configuration,CN=Services";

/// A Primary Refresh Token as Entra ID keeps it: the token it handed out,
/// the session key that goes with it, for whom and which device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedPrt {
    pub token: String,
    pub session_key: [u8; 32],
    pub upn: String,
    pub device_id: Guid,
    pub issued: SimTime,
}

/// What a PRT issuer (Entra ID, or AD FS on premises) remembers of the
/// sign-ins it served: the nonces it handed out, with when (a signed
/// request must carry a recent one), and the PRTs it issued.
#[derive(Clone, Debug, Default)]
pub struct SignInLedger {
    pub nonces: Vec<(String, SimTime)>,
    pub prts: Vec<IssuedPrt>,
}

/// Looks a device up by the ID a request names.
pub fn find_device<'a>(devices: &'a [RegisteredDevice], id: &str) -> Option<&'a RegisteredDevice> {
    devices
        .iter()
        .find(|d| d.id.to_string().eq_ignore_ascii_case(id))
}

/// Entra ID: the user's registered keys, the last MFA, the registered devices.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AzureAdState {
    /// The user object's key list (searchableDeviceKey).
    pub user_keys: Vec<RegisteredKey>,
    /// When the user last completed MFA.
    pub last_mfa: Option<SimTime>,
    /// The devices registered with Entra ID, with their device keys: what
    /// Entra ID verifies a device-signed request against.
    #[serde(skip)]
    pub devices: Vec<RegisteredDevice>,
    /// The nonces and Primary Refresh Tokens Entra ID issued.
    #[serde(skip)]
    pub sign_ins: SignInLedger,
    /// Computers synchronised from AD that have not completed their
    /// hybrid join.
    #[serde(skip)]
    pub synced_computers: Vec<SyncedComputer>,
}

/// On-premises Active Directory: the user object's msDS-KeyCredentialLink
/// and the device objects.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DirectoryState {
    /// Values of msDS-KeyCredentialLink, in DN-Binary string form.
    pub key_credential_link: Vec<String>,
    /// Device objects (msDS-Device), written by the Enterprise DRS at
    /// on-premises device registration or by Microsoft Entra Connect's device
    /// writeback: what AD FS verifies a device-signed request against.
    #[serde(skip)]
    pub devices: Vec<RegisteredDevice>,
    /// The device's computer object (the device is domain joined in the
    /// hybrid and on-premises flows).
    #[serde(skip)]
    pub computer: ComputerObject,
    /// The keywords of the forest's service connection point for device
    /// registration: `azureADName:<domain>` and `azureADId:<tenant ID>`.
    #[serde(skip)]
    pub scp_keywords: Vec<String>,
    /// The security groups the flows read, with their members.
    #[serde(skip)]
    pub groups: Vec<Group>,
}

/// A security group of the domain and the distinguished names of its
/// members (`member`; a primary group such as Domain Users counts its
/// members by their primaryGroupID instead, which is folded in here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub principal: crate::pki::Principal,
    pub members: Vec<String>,
}

/// A device registration service (Entra DRS or the Enterprise DRS on AD
/// FS): the attestation roots it accepts an AIK certificate from.
#[derive(Clone, Debug, Default)]
pub struct RegistrationServiceState {
    /// Certificates (DER) of the attestation CAs whose AIK certificates the
    /// service accepts.
    pub trusted_attestation_cas: Vec<Vec<u8>>,
    /// The certificate of the service's device CA, made the first time it
    /// issues a device certificate.
    pub device_ca_certificate: Option<Vec<u8>>,
}

/// AD FS: the relying parties it issues tokens to, and what its
/// registration authority trusts beyond Active Directory.
#[derive(Clone, Debug, Default)]
pub struct AdFsState {
    /// The relying party trusts (`Get-AdfsRelyingPartyTrust`): AD FS issues
    /// a token only to a relying party it has a trust for.
    pub relying_parties: Vec<RelyingPartyTrust>,
    /// The keys whose key receipts the registration authority accepts: the
    /// cloud registration service's signing keys, which AD FS downloads from
    /// it (at start and periodically). `None` until the run shows it.
    pub receipt_signers: Option<Vec<RsaPublicKey>>,
    /// The nonces and enterprise PRTs AD FS issued (MS-OAPXBC's server).
    pub sign_ins: SignInLedger,
}

/// One relying party trust of AD FS: its identifier and display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingPartyTrust {
    pub identifier: String,
    pub name: String,
}

impl AdFsState {
    /// AD FS as the deployments set it up: a trust for Entra ID (the
    /// federated domain's "Microsoft Office 365 Identity Platform") and the
    /// Device Registration Service that AD FS hosts.
    pub fn configured() -> AdFsState {
        let trust = |identifier: &str, name: &str| RelyingPartyTrust {
            identifier: identifier.into(),
            name: name.into(),
        };
        AdFsState {
            relying_parties: vec![
                trust(
                    AZURE_FEDERATION_AUDIENCE,
                    "Microsoft Office 365 Identity Platform",
                ),
                trust(EDRS_AUDIENCE, "Device Registration Service"),
            ],
            receipt_signers: None,
            sign_ins: SignInLedger::default(),
        }
    }

    /// The trust for `identifier`, if AD FS has one.
    pub fn relying_party(&self, identifier: &str) -> Option<&RelyingPartyTrust> {
        self.relying_parties
            .iter()
            .find(|rp| rp.identifier == identifier)
    }
}

/// Microsoft Entra Connect: its schedule and its cursor into Entra ID.
#[derive(Clone, Debug, Serialize)]
pub struct SyncSchedule {
    pub interval: SimDuration,
    pub last_run: SimTime,
    /// The delta-import watermark: changes in Entra ID up to this time were
    /// imported by an earlier cycle, so a delta import asks only for later
    /// ones.
    pub watermark: SimTime,
}

impl SyncSchedule {
    /// The start of the first cycle strictly after `now`.
    pub fn next_run_after(&self, now: SimTime) -> SimTime {
        let interval = self.interval.0.max(60_000);
        let mut next = self.last_run.0.saturating_add(interval);
        if next <= now.0 {
            let behind = now.0 - next;
            next = next.saturating_add((behind / interval + 1) * interval);
        }
        SimTime(next)
    }
}

/// Everything that exists before the flow starts.
#[derive(Clone, Debug)]
pub struct World {
    pub config: WorldConfig,
    pub seed: Seed,
    pub tenant: Tenant,
    pub user: UserAccount,
    pub device: Device,
    /// The attestation CA that certified the device's AIK (modelled).
    pub attestation_ca: AttestationCa,
    pub keys: KeyVault,
    pub azure_ad: AzureAdState,
    pub directory: DirectoryState,
    /// The Entra ID device registration service.
    pub adrs: RegistrationServiceState,
    /// The Enterprise Device Registration Service on AD FS.
    pub edrs: RegistrationServiceState,
    pub adfs: AdFsState,
    pub sync: SyncSchedule,
    /// The enterprise PKI, set up the first time a flow needs it.
    pki: Option<EnterprisePki>,
    /// The domain controller's KDC, set up the first time a sign-in reaches it.
    domain_controller: Option<DomainController>,
}

impl World {
    /// The enterprise PKI (root CA, enrollment agent, template), built on first use.
    pub fn pki(&mut self) -> Result<&mut EnterprisePki> {
        if self.pki.is_none() {
            let mut pki =
                EnterprisePki::build(&self.keys, self.config.start, &self.tenant.domain_sid)?;
            // A CA not updated for KB5014754 writes no SID extension.
            pki.ca.writes_sid =
                self.config.options.user_certificate != crate::options::UserCertificate::NoSid;
            self.pki = Some(pki);
        }
        self.pki
            .as_mut()
            .ok_or_else(|| Error::Crypto("the enterprise PKI could not be kept".into()))
    }

    /// The domain controller's KDC, set up on first use: its certificate
    /// from the enterprise issuing CA (the same CA, byte for byte, whether
    /// or not the flow also enrolls users), the krbtgt key from the seed.
    pub fn domain_controller(&mut self) -> Result<&DomainController> {
        if self.domain_controller.is_none() {
            let ca = match &self.pki {
                Some(pki) => pki.ca.clone(),
                None => crate::enterprise_pki::CertificationAuthority::build(
                    &self.keys,
                    self.config.start,
                    &self.tenant.domain_sid,
                )?,
            };
            let key = self.keys.key(KeyPurpose::DomainController)?.clone();
            let certificate = ca.kdc_certificate(
                &key.to_public_key(),
                &[DOMAIN_CONTROLLER, DOMAIN],
                self.config.start,
            )?;
            let (krbtgt, krbtgt_kvno) = self.domain_krbtgt()?;
            self.domain_controller = Some(DomainController {
                key,
                certificate,
                krbtgt,
                krbtgt_kvno,
                root_certificate: ca.root_certificate.clone(),
                issuing_certificate: ca.certificate.clone(),
            });
        }
        self.domain_controller
            .as_ref()
            .ok_or_else(|| Error::Crypto("the domain controller could not be kept".into()))
    }

    /// The domain's krbtgt key (aes256-cts-hmac-sha1-96) and its version
    /// number, which every domain controller of the domain holds.
    pub fn domain_krbtgt(&self) -> Result<(crate::kerberos::crypto::Key, u32)> {
        let key = crate::kerberos::crypto::Key::new(
            crate::kerberos::crypto::Etype::Aes256CtsHmacSha196,
            &self.seed.bytes::<32>("ad/krbtgt-key"),
        )
        .map_err(|e| Error::Crypto(e.to_string()))?;
        Ok((key, 2))
    }

    /// The Microsoft Entra Kerberos server object as Active Directory
    /// holds it (cloud Kerberos trust): the AzureADKerberos computer
    /// object, an RODC with its own number, and its krbtgt_AzureAD account's
    /// key. `Set-AzureADKerberosServer` made it before the run, and gave
    /// Entra ID the same key ([`World::entra_kerberos_domain`]). `None`
    /// when it was never made.
    pub fn ad_kerberos_server(&self) -> Result<Option<crate::kerberos::tgs::ReadOnlyKdc>> {
        use crate::options::KerberosServer;
        let (number, key, version) = match self.config.options.kerberos_server {
            KerberosServer::Missing => return Ok(None),
            KerberosServer::Present => self.entra_kerberos_key(1)?,
            // Its password was reset in AD: a new key, a new version.
            KerberosServer::Rotated => self.entra_kerberos_key(2)?,
        };
        Ok(Some(crate::kerberos::tgs::ReadOnlyKdc {
            name: "AzureADKerberos".into(),
            krbtgt_account: format!("krbtgt_{number}"),
            number,
            key,
            version,
        }))
    }

    /// Entra ID's KerberosDomain for the domain (cloud Kerberos trust): the
    /// server object's number, and the key and key version Entra ID makes
    /// partial TGTs with. `None` when no server object was made.
    pub fn entra_kerberos_domain(
        &self,
    ) -> Result<Option<(u16, crate::kerberos::crypto::Key, u16)>> {
        use crate::options::KerberosServer;
        match self.config.options.kerberos_server {
            KerberosServer::Missing => Ok(None),
            // A reset in AD does not reach Entra ID: it keeps version 1.
            KerberosServer::Present | KerberosServer::Rotated => {
                self.entra_kerberos_key(1).map(Some)
            }
        }
    }

    /// Version `version` of the server object's key, with its RODC number
    /// (seeded: an odd number from 1 to 32767, never 0; MS-KILE 3.1.5.8
    /// puts it in a key version's upper 16 bits).
    fn entra_kerberos_key(&self, version: u16) -> Result<(u16, crate::kerberos::crypto::Key, u16)> {
        let number = (u16::from_be_bytes(self.seed.bytes("ad/azure-ad-kerberos-number")) >> 1) | 1;
        let key = crate::kerberos::crypto::Key::new(
            crate::kerberos::crypto::Etype::Aes256CtsHmacSha196,
            &self
                .seed
                .bytes::<32>(&format!("ad/krbtgt-azure-ad-key/{version}")),
        )
        .map_err(|e| Error::Crypto(e.to_string()))?;
        Ok((number, key, version))
    }

    /// The domain controller, if a step has reached it.
    pub fn domain_controller_if_built(&self) -> Option<&DomainController> {
        self.domain_controller.as_ref()
    }

    /// Generates the device keys, every infrastructure key and the PKI now
    /// (tests and the command line use it to pay the cost once, up front).
    pub fn warm_up_all(&mut self) -> Result<()> {
        self.device.keys()?;
        for purpose in KeyPurpose::ALL {
            self.keys.make(purpose)?;
        }
        self.pki()?;
        Ok(())
    }

    /// The state of the registration service `drs` (ADRS or the Enterprise DRS).
    pub fn registration_service(&self, drs: Actor) -> &RegistrationServiceState {
        if drs == Actor::Edrs {
            &self.edrs
        } else {
            &self.adrs
        }
    }

    /// The devices the directory behind `idp` knows: Entra ID's own, or the
    /// device objects in Active Directory that AD FS and the Enterprise DRS
    /// read.
    pub fn devices_known_to(&self, idp: Actor) -> &[RegisteredDevice] {
        if idp == Actor::AzureAd || idp == Actor::Adrs {
            &self.azure_ad.devices
        } else {
            &self.directory.devices
        }
    }

    /// The sign-ins a PRT issuer served: AD FS's, or else Entra ID's.
    pub fn sign_ins(&self, issuer: Actor) -> &SignInLedger {
        if issuer == Actor::AdFs {
            &self.adfs.sign_ins
        } else {
            &self.azure_ad.sign_ins
        }
    }

    pub fn sign_ins_mut(&mut self, issuer: Actor) -> &mut SignInLedger {
        if issuer == Actor::AdFs {
            &mut self.adfs.sign_ins
        } else {
            &mut self.azure_ad.sign_ins
        }
    }

    /// The receipt signers AD FS trusts: what it downloaded from the cloud
    /// registration service (none if it never could).
    pub fn adfs_receipt_signers(&self) -> &[RsaPublicKey] {
        self.adfs.receipt_signers.as_deref().unwrap_or_default()
    }

    /// The cloud registration service's device CA certificate
    /// (MS-Organization-Access), made on first use from its key.
    pub fn device_ca_certificate(&mut self) -> Result<Vec<u8>> {
        if let Some(der) = &self.adrs.device_ca_certificate {
            return Ok(der.clone());
        }
        let key = self.keys.key(KeyPurpose::DeviceCa)?;
        let not_before = SimTime(self.config.start.0.saturating_sub(3 * 365 * 86_400_000));
        let der = crate::pki::device_ca_certificate(key, not_before)?;
        self.adrs.device_ca_certificate = Some(der.clone());
        Ok(der)
    }

    /// The Enterprise DRS's device CA certificate, made the first time it
    /// issues a device certificate.
    pub fn enterprise_device_ca_certificate(&mut self) -> Result<Vec<u8>> {
        if let Some(der) = &self.edrs.device_ca_certificate {
            return Ok(der.clone());
        }
        let key = self.keys.key(KeyPurpose::EnterpriseDeviceCa)?;
        let not_before = SimTime(self.config.start.0.saturating_sub(3 * 365 * 86_400_000));
        let components: Vec<&str> = self.tenant.domain.split('.').rev().collect();
        let der = crate::pki::enterprise_device_ca_certificate(
            key,
            &components,
            self.seed.guid("adfs/drs-object-guid"),
            not_before,
        )?;
        self.edrs.device_ca_certificate = Some(der.clone());
        Ok(der)
    }

    /// What Active Directory tells a reader about the accounts an
    /// enrollment can be for: each account's names, SID and groups (the
    /// CA's lookup of a requester).
    pub fn directory_accounts(&self) -> Vec<crate::pki::EndEntity> {
        let groups_of = |dn: &str| {
            self.directory
                .groups
                .iter()
                .filter(|g| g.members.iter().any(|m| m.eq_ignore_ascii_case(dn)))
                .map(|g| g.principal.clone())
                .collect()
        };
        let user = &self.user;
        vec![
            crate::pki::EndEntity {
                account: user.down_level_name(&self.tenant),
                dn: user.dn.clone(),
                upn: user.upn.clone(),
                sid: user.sid.clone(),
                groups: groups_of(&user.dn),
            },
            crate::pki::EndEntity {
                account: self.adfs_service_account(),
                dn: ADFS_SERVICE_ACCOUNT_DN.to_string(),
                upn: String::new(),
                sid: format!("{}-1106", self.tenant.domain_sid),
                groups: groups_of(ADFS_SERVICE_ACCOUNT_DN),
            },
        ]
    }

    /// `CONTOSO\adfssvc$`: AD FS's service account as the CA's transport
    /// authenticates it.
    pub fn adfs_service_account(&self) -> String {
        format!("{}\\{ADFS_SERVICE_ACCOUNT}", self.tenant.netbios)
    }

    /// The AD domain's objectGUID.
    pub fn domain_guid(&self) -> Guid {
        self.seed.guid("ad/domain-object-guid")
    }

    /// The device ID a registration service gives this world's device: a
    /// GUID it generates (MS-DVRJ 3.1.5.1.1.3), drawn from the seed.
    pub fn new_device_id(&self) -> Guid {
        self.seed.guid("device/id")
    }

    /// Registers the device as if it had joined before the run began: Azure
    /// AD and AD hold it with its device key (the Enterprise DRS wrote it, or
    /// Microsoft Entra Connect's device writeback did), and the device knows its
    /// ID. For the flows whose run does not show the device's registration.
    pub fn register_device_beforehand(&mut self) -> Result<()> {
        let id = self.new_device_id();
        let keys = self.device.keys()?.clone();
        let registered = RegisteredDevice {
            id,
            name: self.device.name.clone(),
            public_key: keys.device_public,
            transport_key: Some(keys.transport_public),
            registered_by: None,
            enabled: true,
        };
        self.azure_ad.devices.push(registered.clone());
        self.directory.devices.push(registered);
        // No certificate: nothing of this registration is shown.
        self.device.join(crate::device::Joined {
            id,
            certificate: None,
        });
        Ok(())
    }

    /// The device certificate of a device that joined before the run: the
    /// registration service issued it then (thirty days before the start),
    /// and the device has held it since. Issued from the device CA the
    /// first time it is asked for, so a flow that never needs it never
    /// makes the device CA's key; on premises from the Enterprise DRS's
    /// device CA, naming the domain (MS-DVRJ 2.3.1), not a tenant.
    pub fn earlier_device_certificate(&mut self, on_premises: bool) -> Result<Vec<u8>> {
        let Some(joined) = self.device.joined() else {
            return Err(Error::Usage("the device has not joined".into()));
        };
        if let Some(der) = &joined.certificate {
            return Ok(der.clone());
        }
        let id = joined.id;
        let issued = SimTime(self.config.start.0.saturating_sub(30 * 86_400_000));
        let (ca_cert, ca_key, facts) = if on_premises {
            let facts = crate::pki::DeviceFacts {
                device_id: id,
                user_object_id: Some(id),
                tenant_id: None,
                domain_id: Some(self.domain_guid()),
            };
            (
                self.enterprise_device_ca_certificate()?,
                self.keys.key(KeyPurpose::EnterpriseDeviceCa)?.clone(),
                facts,
            )
        } else {
            let facts = crate::pki::DeviceFacts {
                device_id: id,
                user_object_id: None,
                tenant_id: Some(self.tenant.id),
                domain_id: None,
            };
            (
                self.device_ca_certificate()?,
                self.keys.key(KeyPurpose::DeviceCa)?.clone(),
                facts,
            )
        };
        let device_key = self.device.keys()?.device_public.clone();
        let der =
            crate::pki::issue_device_certificate(&ca_key, &ca_cert, &device_key, facts, issued)?;
        self.device.join(crate::device::Joined {
            id,
            certificate: Some(der.clone()),
        });
        Ok(der)
    }

    /// The PKI if a flow has built it already.
    pub fn pki_if_built(&self) -> Option<&EnterprisePki> {
        self.pki.as_ref()
    }

    /// Builds the world: the tenant, the user, and the device with its TPM
    /// provisioned (storage root key, endorsement key and certificate,
    /// attestation key, device key). Infrastructure keys come later, on use.
    pub fn build(config: WorldConfig) -> Result<World> {
        // Certificates run up to twenty years past the start, and X.509
        // times end with the year 9999 (RFC 5280 §4.1.2.5).
        let year = config.start.civil().0;
        if year > LAST_START_YEAR {
            return Err(Error::Usage(format!(
                "the start {} is too late: the world's certificates run twenty years past the start, and certificate times end in the year 9999, so the start must be in {LAST_START_YEAR} or earlier",
                config.start
            )));
        }
        let seed = config.seed();
        let domain_sid = {
            let d = seed.bytes::<12>("ad/domain-sid");
            let word = |i: usize| u32::from_le_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]]);
            format!("S-1-5-21-{}-{}-{}", word(0), word(4), word(8))
        };
        let tenant = Tenant {
            id: seed.guid("tenant-id"),
            name: "Contoso",
            domain: "contoso.com",
            netbios: "CONTOSO",
            domain_dn: "DC=contoso,DC=com",
            domain_sid: domain_sid.clone(),
        };
        let password = String::from("Sunflower-7-Harbor");
        let password_salt: [u8; 16] = seed.bytes("user/password-salt");
        let user = UserAccount {
            upn: "alex.wilber@contoso.com".into(),
            display_name: "Alex Wilber".into(),
            object_id: seed.guid("user/object-id"),
            sam_account_name: "alexw".into(),
            sid: format!("{domain_sid}-1104"),
            dn: "CN=Alex Wilber,OU=Staff,DC=contoso,DC=com".into(),
            password_hash: UserAccount::hash_password(&password_salt, &password),
            password,
            password_salt,
        };
        let start = config.start;
        let attestation_ca = AttestationCa::new(&seed, start)?;
        // The device has not joined yet: no directory knows it.
        let device = Device::provision(&seed, &config.options, start, &attestation_ca)?;
        // Both registration services accept AIK certificates from the
        // attestation CA: they hold its certificate, not its key.
        let registration = RegistrationServiceState {
            trusted_attestation_cas: vec![attestation_ca.certificate().to_vec()],
            device_ca_certificate: None,
        };
        let azure_ad = AzureAdState {
            devices: Vec::new(),
            sign_ins: SignInLedger::default(),
            synced_computers: Vec::new(),
            user_keys: Vec::new(),
            last_mfa: match config.options.last_mfa {
                LastMfa::Never => None,
                LastMfa::Ago(d) => Some(SimTime(start.0.saturating_sub(d.0))),
            },
        };
        let last_run = SimTime(start.0.saturating_sub(config.options.last_sync_ago.0));
        let sync = SyncSchedule {
            interval: config.options.sync_interval,
            last_run,
            watermark: last_run,
        };
        let directory = DirectoryState {
            key_credential_link: Vec::new(),
            devices: Vec::new(),
            computer: ComputerObject {
                dn: format!("CN={},CN=Computers,{}", device.name, tenant.domain_dn),
                sam_account_name: format!("{}$", device.name),
                sid: format!("{domain_sid}-1105"),
                object_guid: seed.guid("ad/computer-object-guid"),
                user_certificates: Vec::new(),
            },
            scp_keywords: vec![
                format!("azureADName:{}", tenant.domain),
                format!("azureADId:{}", tenant.id),
            ],
            groups: vec![
                // The well-known RIDs of Domain Users and Domain Computers
                // (MS-DTYP 2.4.2.4); a group managed service account's
                // primary group is Domain Computers.
                Group {
                    principal: crate::pki::Principal::in_domain("Domain Users", &domain_sid, 513),
                    members: vec![user.dn.clone()],
                },
                Group {
                    principal: crate::pki::Principal::in_domain(
                        "Domain Computers",
                        &domain_sid,
                        515,
                    ),
                    members: vec![ADFS_SERVICE_ACCOUNT_DN.to_string()],
                },
                // The deployment guide's group: the users who get Windows
                // Hello for Business, and AD FS's account, which enrolls on
                // their behalf.
                Group {
                    principal: crate::pki::hello_users_group(&domain_sid),
                    members: if config.options.adfs_not_in_hello_group {
                        vec![user.dn.clone()]
                    } else {
                        vec![user.dn.clone(), ADFS_SERVICE_ACCOUNT_DN.to_string()]
                    },
                },
            ],
        };
        Ok(World {
            keys: KeyVault::new(seed),
            seed,
            tenant,
            user,
            device,
            attestation_ca,
            azure_ad,
            directory,
            adrs: registration.clone(),
            edrs: registration,
            adfs: AdFsState::configured(),
            sync,
            pki: None,
            domain_controller: None,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_sync_is_the_first_cycle_after_now() {
        let s = SyncSchedule {
            interval: SimDuration::minutes(30),
            last_run: SimTime(0),
            watermark: SimTime(0),
        };
        assert_eq!(s.next_run_after(SimTime(60_000)), SimTime(1_800_000));
        assert_eq!(s.next_run_after(SimTime(1_800_000)), SimTime(3_600_000));
        assert_eq!(s.next_run_after(SimTime(5_000_000)), SimTime(5_400_000));
    }
}
