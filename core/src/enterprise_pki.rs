//! The world's enterprise PKI as deployments build it: an offline root CA,
//! an enterprise issuing CA (AD CS) that the root certified, the AD FS
//! registration authority's enrollment agent certificate and a
//! service-communication certificate for the same AD FS key, both from the
//! issuing CA, and the templates the issuing CA offers, built from the
//! [`pki`] building blocks with the world's keys.

use crate::artifact::{Artifact, ArtifactKind};
use crate::clock::{SimDuration, SimTime};
use crate::error::Result;
use crate::event::Check;
use crate::pki::{self, EndEntity, Issuer, Publication, Template};
use crate::seed::{KeyPurpose, KeyVault};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// The certificate template Windows Hello for Business enrolls against.
pub const TEMPLATE_NAME: &str = pki::WINDOWS_HELLO_TEMPLATE;
/// The enterprise root CA's common name.
pub const ROOT_CN: &str = "Contoso Enterprise Root CA";
/// The enterprise issuing CA's common name (its AD CS CA name).
pub const ISSUING_CN: &str = "Contoso Issuing CA";
/// The host of the issuing CA, and of the web server where both CAs publish.
pub const CA_HOST: &str = "ca.contoso.com";
/// The forest's configuration partition, where AD CS publishes in LDAP.
const CONFIGURATION_DN: &str = "CN=Configuration,DC=contoso,DC=com";
/// The enrollment agent certificate's subject common name.
pub const AGENT_CN: &str = "ADFS Enrollment Agent (adfs.contoso.com)";
/// The AD FS service-communication certificate's subject common name: the
/// same key as the enrollment agent, but no Certificate Request Agent EKU.
pub const SERVICE_CN: &str = "adfs.contoso.com";

/// Serial numbers of the certificates the CAs issued before the run.
const ISSUING_SERIAL: u64 = 0x01;
const AGENT_SERIAL: u64 = 0x02;
const SERVICE_SERIAL: u64 = 0x03;
const KDC_SERIAL: u64 = 0x04;
/// The first serial number the CA gives during a run.
const FIRST_SERIAL: u64 = 0x1000;

/// Who countersigns a request: the enrollment agent as it should, or a
/// fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The AD FS key with its enrollment agent certificate.
    EnrollmentAgent,
    /// The AD FS key with its service-communication certificate, which
    /// lacks the Certificate Request Agent EKU.
    WithoutAgentEku,
    /// Nobody: the request reaches the CA with no SignerInfo.
    Nobody,
}

/// `ldap:///…` and `http://…/CertEnroll/…` locations for a CA's CRL and
/// certificate, following AD CS's default publication URLs (`certutil
/// -getreg CA\\CRLPublicationURLs` and `CACertPublicationURLs`: the CDP
/// and AIA containers under Public Key Services, and CertEnroll on the CA's
/// web server). `ldap` adds the LDAP ones, which only an enterprise CA
/// writes; an offline root publishes over HTTP.
pub fn publication(ca_name: &str, ldap: bool) -> Publication {
    let host_short = CA_HOST.split('.').next().unwrap_or(CA_HOST);
    let web = ca_name.replace(' ', "%20");
    let services = format!("CN=Public Key Services,CN=Services,{CONFIGURATION_DN}");
    let mut crl = Vec::new();
    let mut ca_issuers = Vec::new();
    if ldap {
        crl.push(format!(
            "ldap:///CN={ca_name},CN={host_short},CN=CDP,{services}?certificateRevocationList?base?objectClass=cRLDistributionPoint"
        ));
        ca_issuers.push(format!(
            "ldap:///CN={ca_name},CN=AIA,{services}?cACertificate?base?objectClass=certificationAuthority"
        ));
    }
    crl.push(format!("http://{CA_HOST}/CertEnroll/{web}.crl"));
    ca_issuers.push(format!("http://{CA_HOST}/CertEnroll/{CA_HOST}_{web}.crt"));
    Publication { crl, ca_issuers }
}

/// The enterprise PKI as two parties: the certification authority and the
/// registration authority on AD FS, each with what it holds. Every domain
/// member trusts the root (`ca.root_certificate`) and gets the issuing CA's
/// certificate (`ca.certificate`) from Active Directory.
#[derive(Clone, Debug)]
pub struct EnterprisePki {
    pub ca: CertificationAuthority,
    pub ra: RegistrationAuthority,
}

/// The enterprise issuing CA: its certificate and key, the root above it,
/// its templates, where it publishes, and its database of what it issued.
#[derive(Clone, Debug)]
pub struct CertificationAuthority {
    /// The offline root's self-signed certificate.
    pub root_certificate: Vec<u8>,
    /// The issuing CA's certificate, from the root.
    pub certificate: Vec<u8>,
    pub templates: Vec<Template>,
    pub publication: Publication,
    /// The CRLs as published at their distribution points: the root's
    /// (offline, issued when it last signed), the issuing CA's (weekly).
    pub root_crl: Vec<u8>,
    pub crl: Vec<u8>,
    key: RsaPrivateKey,
    /// What the CA issued during the run, in order (its database).
    pub issued: Vec<IssuedCertificate>,
    /// Whether it writes the SID security extension (KB5014754).
    pub writes_sid: bool,
    /// What it revoked, by serial, and when.
    pub revoked: Vec<(u64, SimTime)>,
}

/// The registration authority on AD FS: its enrollment agent certificate
/// and key, and its service-communication certificate.
#[derive(Clone, Debug)]
pub struct RegistrationAuthority {
    pub agent_certificate: Vec<u8>,
    /// The AD FS service-communication certificate (Server Authentication).
    pub service_certificate: Vec<u8>,
    agent_key: RsaPrivateKey,
}

/// A row of the CA's database: one certificate it issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub serial: u64,
    pub requester: String,
    pub template: String,
    pub issued_at: SimTime,
}

fn days_before(t: SimTime, days: u64) -> SimTime {
    SimTime(t.0.saturating_sub(SimDuration::minutes(days * 24 * 60).0))
}

impl EnterprisePki {
    /// Sets the PKI up as it stood before the run: the root two years old,
    /// the issuing CA certified by it a year ago, the enrollment agent and
    /// service certificates issued a month ago; the templates grant Enroll
    /// to groups of the domain whose SID is `domain_sid`.
    pub fn build(keys: &KeyVault, start: SimTime, domain_sid: &str) -> Result<Self> {
        let ca = CertificationAuthority::build(keys, start, domain_sid)?;
        let agent_key = keys.key(KeyPurpose::EnrollmentAgent)?.clone();
        let agent_since = days_before(start, 30);
        let agent_public = agent_key.to_public_key();
        let agent_certificate = pki::enrollment_agent_certificate(
            &ca.key,
            &ca.certificate,
            &ca.publication,
            &agent_public,
            AGENT_CN,
            AGENT_SERIAL,
            agent_since,
            true,
        )?;
        let service_certificate = pki::enrollment_agent_certificate(
            &ca.key,
            &ca.certificate,
            &ca.publication,
            &agent_public,
            SERVICE_CN,
            SERVICE_SERIAL,
            agent_since,
            false,
        )?;
        Ok(EnterprisePki {
            ca,
            ra: RegistrationAuthority {
                agent_certificate,
                service_certificate,
                agent_key,
            },
        })
    }
}

impl CertificationAuthority {
    /// The root and the issuing CA as they stood before the run (the root
    /// two years old, the issuing CA certified a year ago), their CRLs, and
    /// the templates, which grant Enroll to groups of the domain whose SID
    /// is `domain_sid`. The same keys and start give the same bytes.
    pub fn build(keys: &KeyVault, start: SimTime, domain_sid: &str) -> Result<Self> {
        let root_key = keys.key(KeyPurpose::EnterpriseRootCa)?.clone();
        let key = keys.key(KeyPurpose::EnterpriseIssuingCa)?.clone();
        let root_certificate =
            pki::root_certificate(&root_key, ROOT_CN, days_before(start, 2 * 365), 20)?;
        let certificate = pki::subordinate_ca_certificate(
            &root_key,
            &root_certificate,
            &publication(ROOT_CN, false),
            &key.to_public_key(),
            ISSUING_CN,
            ISSUING_SERIAL,
            days_before(start, 365),
            10,
        )?;
        let publication = publication(ISSUING_CN, true);
        // The offline root's CRL, which an administrator brings online
        // periodically (here a month before the run, good for six months:
        // the world's choice); the issuing CA's, published a day before the
        // run, good for a week (AD CS's default CRL period). Nothing is
        // revoked.
        let root_since = days_before(start, 30);
        let root_crl = pki::revocation_list(
            &root_key,
            &root_certificate,
            root_since,
            root_since.plus(SimDuration::minutes(182 * 24 * 60)),
            2,
        )?;
        let crl_since = days_before(start, 1);
        let crl = pki::revocation_list(
            &key,
            &certificate,
            crl_since,
            crl_since.plus(SimDuration::minutes(7 * 24 * 60)),
            52,
        )?;
        Ok(CertificationAuthority {
            root_certificate,
            certificate,
            templates: vec![
                Template::windows_hello(domain_sid),
                Template::administrator(domain_sid),
            ],
            publication,
            root_crl,
            crl,
            key,
            issued: Vec::new(),
            writes_sid: true,
            revoked: Vec::new(),
        })
    }

    /// Revokes the certificate with `serial` at `now` and publishes a new
    /// CRL listing it (the next number, good for the usual week).
    pub fn revoke(&mut self, serial: u64, now: SimTime) -> Result<()> {
        self.revoked.push((serial, now));
        self.crl = pki::revocation_list_with(
            &self.key,
            &self.certificate,
            now,
            now.plus(SimDuration::minutes(7 * 24 * 60)),
            53,
            &self.revoked,
        )?;
        Ok(())
    }

    /// The domain controller's certificate, issued half a year before
    /// `start` (AD CS's Kerberos Authentication template: autoenrolled by
    /// every domain controller), for the key `kdc` and the DNS names
    /// `names` (the host first, then the domain).
    pub fn kdc_certificate(
        &self,
        kdc: &RsaPublicKey,
        names: &[&str],
        start: SimTime,
    ) -> Result<Vec<u8>> {
        pki::kdc_certificate(
            &self.key,
            &self.certificate,
            &self.publication,
            kdc,
            names,
            KDC_SERIAL,
            days_before(start, 182),
        )
    }
}

impl RegistrationAuthority {
    /// The RA's countersignature of a PKCS#10 request as enrollment agent
    /// (CMS SignedData).
    pub fn countersign(&self, csr: &[u8], requester: &str, now: SimTime) -> Result<Vec<u8>> {
        self.countersign_as(csr, requester, now, Signer::EnrollmentAgent)
    }

    /// The request as `signer` leaves it: countersigned with the enrollment
    /// agent certificate, with the service certificate, or not at all.
    pub fn countersign_as(
        &self,
        csr: &[u8],
        requester: &str,
        now: SimTime,
        signer: Signer,
    ) -> Result<Vec<u8>> {
        match signer {
            Signer::EnrollmentAgent => pki::countersign(
                csr,
                &self.agent_key,
                &self.agent_certificate,
                requester,
                now,
            ),
            Signer::WithoutAgentEku => pki::countersign(
                csr,
                &self.agent_key,
                &self.service_certificate,
                requester,
                now,
            ),
            Signer::Nobody => pki::unsigned_request(csr),
        }
    }

    /// An edited countersigned request, countersigned again with the
    /// enrollment agent key (see [`pki::recountersign`]).
    pub fn recountersign(&self, cms: &[u8], requester: &str, now: SimTime) -> Result<Vec<u8>> {
        pki::recountersign(
            cms,
            &self.agent_key,
            &self.agent_certificate,
            requester,
            now,
        )
    }
}

impl CertificationAuthority {
    /// An edited certificate, signed again with the issuing CA's key.
    pub fn resign_certificate(&self, cert: &[u8]) -> Result<Vec<u8>> {
        pki::resign_certificate(cert, &self.key)
    }

    /// The CA's checks of a countersigned request for `template`, submitted
    /// by the account `caller`, and, when they hold, the certificate,
    /// recorded in what the CA issued. The CA reads both the caller and the
    /// account the request is for from `directory`. Serial numbers follow
    /// that record, so they advance only when a certificate is issued.
    pub fn issue(
        &mut self,
        cms: &[u8],
        template: &str,
        caller: &str,
        directory: &[EndEntity],
        now: SimTime,
    ) -> (Vec<Check>, Option<Vec<u8>>) {
        let serial = FIRST_SERIAL + self.issued.len() as u64;
        let issuer = Issuer {
            key: &self.key,
            certificate: &self.certificate,
            templates: &self.templates,
            publication: &self.publication,
            writes_sid: self.writes_sid,
        };
        let outcome = pki::check_and_issue(cms, template, &issuer, caller, directory, serial, now);
        if outcome.certificate.is_some() {
            self.issued.push(IssuedCertificate {
                serial,
                requester: outcome.account.clone().unwrap_or_default(),
                template: template.to_string(),
                issued_at: now,
            });
        }
        (outcome.checks, outcome.certificate)
    }
}

/// A PKCS#10 request whose signature comes from `sign` (the TPM).
pub fn build_request(
    upn: &str,
    public: &RsaPublicKey,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    pki::build_request(upn, public, sign)
}

/// The request's key, once its self-signature verifies.
pub fn verify_request(der: &[u8]) -> Result<RsaPublicKey> {
    pki::verify_request(der)
}

/// The public key a certificate certifies.
pub fn certificate_key(der: &[u8]) -> Result<RsaPublicKey> {
    pki::certificate_public_key(der)
}

/// A certificate as an artifact, with its decoded view (or, when the bytes
/// do not decode, why not: a tampered certificate still shows).
pub fn certificate_artifact(id: &str, title: &str, der: &[u8], modelled: Option<&str>) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Certificate,
        der.to_vec(),
        pki::certificate_fields(der),
        modelled,
    )
}

/// A CRL as an artifact.
pub fn crl_artifact(id: &str, title: &str, der: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Crl,
        der.to_vec(),
        pki::crl_fields(der),
        None,
    )
}

/// A PKCS#10 request as an artifact.
pub fn request_artifact(id: &str, title: &str, der: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Pkcs10,
        der.to_vec(),
        pki::request_fields(der),
        None,
    )
}

/// A CMS SignedData as an artifact.
pub fn cms_artifact(id: &str, title: &str, der: &[u8]) -> Artifact {
    Artifact::decoded(
        id,
        title,
        ArtifactKind::Cms,
        der.to_vec(),
        pki::cms_fields(der),
        None,
    )
}
