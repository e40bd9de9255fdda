//! The PKINIT AS exchange (RFC 4556 §3.2, MS-PKCA) with Diffie-Hellman key
//! agreement: the client's AS-REQ, the KDC's checks and its AS-REP or
//! KRB-ERROR, and the client's checks as it opens the reply.
//!
//! Each side reads only the bytes that reach it and what it holds itself:
//! the KDC its accounts (with their msDS-KeyCredentialLink keys), its own
//! key and certificate and the krbtgt key; the client its Diffie-Hellman
//! pair, its nonces and the enterprise root it trusts.

use super::asn1::{Application, Explicit, KerberosString};
use super::crypto::{Etype, Key};
use super::dh::{self, DhKeyPair};
use super::messages::*;
use crate::artifact::Outcome;
use crate::catalog::Actor;
use crate::clock::{SimDuration, SimTime};
use crate::error::{Error, Result};
use crate::event::{Check, Checks};
use crate::pki::oid;
use der::asn1::{GeneralizedTime, OctetString};
use der::{Decode, Encode};
use rsa::{RsaPrivateKey, RsaPublicKey};
use sha1::{Digest, Sha1};

/// How far the client's clock may be from the KDC's: five minutes, the
/// Kerberos policy default ("Maximum tolerance for computer clock
/// synchronization", MS-KILE 3.3.5.1 via RFC 4120 §1.6).
pub const MAX_SKEW: SimDuration = SimDuration::minutes(5);
/// A TGT's life: ten hours, renewable for seven days (the domain's default
/// Kerberos policy).
pub(super) const TICKET_LIFETIME: SimDuration = SimDuration::minutes(10 * 60);
pub(super) const RENEW_LIFETIME: SimDuration = SimDuration::minutes(7 * 24 * 60);

/// Kerberos error codes (RFC 4120 §7.5.9, RFC 4556 §3.1.3): PKINIT's AS
/// exchange's and the TGS exchange's.
pub mod error_code {
    pub const C_PRINCIPAL_UNKNOWN: i32 = 6;
    pub const PADATA_TYPE_NOSUPP: i32 = 16;
    pub const PREAUTH_REQUIRED: i32 = 25;
    pub const SKEW: i32 = 37;
    pub const MODIFIED: i32 = 41;
    pub const WRONG_REALM: i32 = 68;
    pub const CLIENT_NOT_TRUSTED: i32 = 62;
    pub const CERTIFICATE_MISMATCH: i32 = 66;
    pub const CANT_VERIFY_CERTIFICATE: i32 = 70;
    pub const REVOKED_CERTIFICATE: i32 = 72;
    pub const CLIENT_NAME_MISMATCH: i32 = 75;
    pub const INCONSISTENT_KEY_PURPOSE: i32 = 77;
    pub const INVALID_SIG: i32 = 64;
    pub const DH_KEY_PARAMETERS_NOT_ACCEPTED: i32 = 65;
    pub const PA_CHECKSUM_MUST_BE_INCLUDED: i32 = 79;
    // The TGS exchange's (RFC 4120 §7.5.9).
    pub const S_PRINCIPAL_UNKNOWN: i32 = 7;
    pub const POLICY: i32 = 12;
    pub const TGT_REVOKED: i32 = 20;
    pub const BAD_INTEGRITY: i32 = 31;
    pub const TKT_EXPIRED: i32 = 32;
    pub const NOT_US: i32 = 35;
    pub const BADMATCH: i32 = 36;
    pub const INAPP_CKSUM: i32 = 50;

    /// The name RFC 4120 and RFC 4556 give a code.
    pub fn name(code: i32) -> &'static str {
        match code {
            C_PRINCIPAL_UNKNOWN => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
            PADATA_TYPE_NOSUPP => "KDC_ERR_PADATA_TYPE_NOSUPP",
            PREAUTH_REQUIRED => "KDC_ERR_PREAUTH_REQUIRED",
            SKEW => "KRB_AP_ERR_SKEW",
            MODIFIED => "KRB_AP_ERR_MODIFIED",
            WRONG_REALM => "KDC_ERR_WRONG_REALM",
            CLIENT_NOT_TRUSTED => "KDC_ERR_CLIENT_NOT_TRUSTED",
            CLIENT_NAME_MISMATCH => "KDC_ERR_CLIENT_NAME_MISMATCH",
            CERTIFICATE_MISMATCH => "KDC_ERR_CERTIFICATE_MISMATCH",
            CANT_VERIFY_CERTIFICATE => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
            REVOKED_CERTIFICATE => "KDC_ERR_REVOKED_CERTIFICATE",
            INCONSISTENT_KEY_PURPOSE => "KDC_ERR_INCONSISTENT_KEY_PURPOSE",
            INVALID_SIG => "KDC_ERR_INVALID_SIG",
            DH_KEY_PARAMETERS_NOT_ACCEPTED => "KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
            PA_CHECKSUM_MUST_BE_INCLUDED => "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED",
            S_PRINCIPAL_UNKNOWN => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
            POLICY => "KDC_ERR_POLICY",
            TGT_REVOKED => "KDC_ERR_TGT_REVOKED",
            BAD_INTEGRITY => "KRB_AP_ERR_BAD_INTEGRITY",
            TKT_EXPIRED => "KRB_AP_ERR_TKT_EXPIRED",
            NOT_US => "KRB_AP_ERR_NOT_US",
            BADMATCH => "KRB_AP_ERR_BADMATCH",
            INAPP_CKSUM => "KRB_AP_ERR_INAPP_CKSUM",
            _ => "KDC_ERR (unnamed)",
        }
    }
}

pub(super) fn der_err(what: &'static str) -> impl Fn(der::Error) -> Error {
    move |e| Error::malformed(what, e.to_string())
}

pub(super) fn time(t: SimTime) -> Result<GeneralizedTime> {
    GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(t.unix_seconds()))
        .map_err(der_err("KerberosTime"))
}

pub(super) fn sim(t: &GeneralizedTime) -> SimTime {
    SimTime::from_unix_seconds(t.to_unix_duration().as_secs())
}

pub(super) fn krbtgt(realm: &str) -> Result<PrincipalName> {
    PrincipalName::new(name_type::SRV_INST, &["krbtgt", realm]).map_err(der_err("sname"))
}

pub(super) fn realm_string(realm: &str) -> Result<KerberosString> {
    KerberosString::new(realm).map_err(der_err("realm"))
}

pub(super) fn octets(bytes: Vec<u8>) -> Result<OctetString> {
    OctetString::new(bytes).map_err(der_err("OCTET STRING"))
}

/// What the client puts in its AS-REQ.
#[derive(Debug)]
pub struct Logon<'a> {
    pub realm: &'a str,
    /// The client's name: the UPN as an enterprise name (RFC 6806 §5), as
    /// public smart-card clients send a name with an "@" (Devolutions'
    /// sspi-rs); which name type Windows itself sends is not published.
    pub upn: &'a str,
    pub now: SimTime,
    /// The request body's nonce, which the encrypted reply repeats.
    pub nonce: u32,
    /// The PKAuthenticator's nonce, which the KDC's signed DH value repeats.
    pub pk_nonce: u32,
    pub dh: &'a DhKeyPair,
    /// The certificate for the signing key: the self-signed one (key
    /// trust) or the one the enterprise CA issued (certificate trust).
    pub certificate: &'a [u8],
}

/// The request body: a TGT for the user, forwardable and renewable, AES
/// only (RFC 4120 §5.4.1).
fn request_body(logon: &Logon<'_>) -> Result<KdcReqBody> {
    let till = time(SimTime::from_unix_seconds(2_136_422_885))?; // 20370913024805Z, "no end"
    Ok(KdcReqBody {
        kdc_options: Explicit(
            flags(&[
                flag::FORWARDABLE,
                flag::RENEWABLE,
                flag::CANONICALIZE,
                flag::RENEWABLE_OK,
            ])
            .map_err(der_err("kdc-options"))?,
        ),
        cname: Some(Explicit(
            PrincipalName::new(name_type::ENTERPRISE, &[logon.upn]).map_err(der_err("cname"))?,
        )),
        realm: Explicit(realm_string(logon.realm)?),
        sname: Some(Explicit(krbtgt(logon.realm)?)),
        from: None,
        till: Explicit(till),
        rtime: Some(Explicit(till)),
        nonce: Explicit(logon.nonce),
        etype: Explicit(vec![
            Etype::Aes256CtsHmacSha196.number(),
            Etype::Aes128CtsHmacSha196.number(),
        ]),
    })
}

/// The AS-REQ with PA-PK-AS-REQ: an AuthPack (the PKAuthenticator with the
/// time, a nonce and the SHA-1 of the request body; the client's DH public
/// value) in a CMS SignedData that `sign` signs with the user key, the
/// certificate attached (RFC 4556 §3.2.1), and PA-PAC-REQUEST (MS-KILE
/// 2.2.3).
pub fn as_req(logon: &Logon<'_>, sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>) -> Result<Vec<u8>> {
    let body = request_body(logon)?;
    let checksum = Sha1::digest(body.to_der().map_err(der_err("KDC-REQ-BODY"))?).to_vec();
    let auth_pack = AuthPack {
        pk_authenticator: Explicit(PkAuthenticator {
            cusec: Explicit(0),
            ctime: Explicit(time(logon.now)?),
            nonce: Explicit(logon.pk_nonce),
            pa_checksum: Some(Explicit(octets(checksum)?)),
        }),
        client_public_value: Some(Explicit(
            logon
                .dh
                .subject_public_key_info()
                .map_err(der_err("clientPublicValue"))?,
        )),
        supported_cms_types: None,
        client_dh_nonce: None,
    };
    let signed = crate::pki::sign_typed(
        &auth_pack.to_der().map_err(der_err("AuthPack"))?,
        ID_PKINIT_AUTH_DATA,
        logon.certificate,
        logon.now,
        sign,
    )?;
    let pk = PaPkAsReq {
        signed_auth_pack: octets(signed)?,
    };
    let pac = PaPacRequest {
        include_pac: Explicit(true),
    };
    let req: AsReq = Application(KdcReq {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::AS_REQ),
        padata: Some(Explicit(vec![
            PaData {
                padata_type: Explicit(pa_type::PK_AS_REQ),
                padata_value: Explicit(octets(pk.to_der().map_err(der_err("PA-PK-AS-REQ"))?)?),
            },
            PaData {
                padata_type: Explicit(pa_type::PAC_REQUEST),
                padata_value: Explicit(octets(pac.to_der().map_err(der_err("PA-PAC-REQUEST"))?)?),
            },
        ])),
        req_body: Explicit(body),
    });
    req.to_der().map_err(der_err("AS-REQ"))
}

/// The AS-REQ in `bytes`, as edited, signed again by its client: the
/// AuthPack's paChecksum made the SHA-1 of the (edited) request body and the
/// AuthPack signed afresh by `sign` under the certificate it carried. What
/// an insider holding the user key (the TPM and the PIN) could do; the
/// bytes must still read as an AS-REQ with PA-PK-AS-REQ.
pub fn resign_as_req(
    bytes: &[u8],
    now: SimTime,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    const WHAT: &str = "AS-REQ";
    let mut req = AsReq::from_der(bytes).map_err(der_err(WHAT))?;
    let body = req.0.req_body.0.to_der().map_err(der_err("KDC-REQ-BODY"))?;
    let pa = padata_mut(&mut req.0, pa_type::PK_AS_REQ, WHAT, "PA-PK-AS-REQ")?;
    let pk = PaPkAsReq::from_der(pa.padata_value.0.as_bytes()).map_err(der_err("PA-PK-AS-REQ"))?;
    let signed = pk.signed_auth_pack.as_bytes();
    let (content, certificate) = crate::pki::signed_content_and_signer(signed)
        .map_err(|e| Error::malformed("signedAuthPack", e))?;
    let mut auth_pack = AuthPack::from_der(&content).map_err(der_err("AuthPack"))?;
    auth_pack.pk_authenticator.0.pa_checksum =
        Some(Explicit(octets(Sha1::digest(&body).to_vec())?));
    let resigned = crate::pki::sign_typed(
        &auth_pack.to_der().map_err(der_err("AuthPack"))?,
        ID_PKINIT_AUTH_DATA,
        &certificate,
        now,
        sign,
    )?;
    let pk = PaPkAsReq {
        signed_auth_pack: octets(resigned)?,
    };
    pa.padata_value = Explicit(octets(pk.to_der().map_err(der_err("PA-PK-AS-REQ"))?)?);
    req.to_der().map_err(der_err(WHAT))
}

/// The pre-authentication data of `padata_type` in the request `req` (a
/// `what`), to be edited; an error naming `name` when it is not there.
pub(super) fn padata_mut<'a>(
    req: &'a mut KdcReq,
    padata_type: i32,
    what: &'static str,
    name: &str,
) -> Result<&'a mut PaData> {
    req.padata
        .as_mut()
        .ok_or_else(|| Error::malformed(what, "no pre-authentication data"))?
        .0
        .iter_mut()
        .find(|p| p.padata_type.0 == padata_type)
        .ok_or_else(|| Error::malformed(what, format!("no {name}")))
}

/// The pre-authentication data of `padata_type` in `padata`, decoded as
/// `T` (named `what` in the reason when it is missing or does not decode).
pub(super) fn find_padata<'a, T: Decode<'a>>(
    padata: &'a [PaData],
    padata_type: i32,
    what: &str,
) -> std::result::Result<T, String> {
    let found = padata
        .iter()
        .find(|p| p.padata_type.0 == padata_type)
        .ok_or_else(|| format!("the message carries no {what}"))?;
    T::from_der(found.padata_value.0.as_bytes()).map_err(|e| format!("{what} does not decode: {e}"))
}

/// An account as the KDC reads it from Active Directory.
#[derive(Clone, Debug)]
pub struct KdcAccount {
    pub sam_account_name: String,
    pub upn: String,
    /// objectSid, which a certificate's SID extension must name (strong
    /// mapping, KB5014754).
    pub sid: String,
    /// The public keys in the account's msDS-KeyCredentialLink.
    pub key_credentials: Vec<RsaPublicKey>,
}

/// What the domain controller's KDC holds.
#[derive(Debug)]
pub struct Kdc<'a> {
    pub realm: &'a str,
    /// The krbtgt account's key, which encrypts every TGT.
    pub krbtgt: &'a Key,
    pub krbtgt_kvno: u32,
    pub key: &'a RsaPrivateKey,
    /// Its KDC certificate; `None` when none was ever enrolled, and then
    /// it cannot do PKINIT at all.
    pub certificate: Option<&'a [u8]>,
    pub accounts: &'a [KdcAccount],
    /// Certificate trust: the CA the domain's NTAuth store names, the root
    /// above it and its CRL. `None` where no CA issues logon certificates.
    pub certificate_trust: Option<CertificateTrust<'a>>,
}

/// What a KDC checks a logon certificate against.
#[derive(Clone, Copy, Debug)]
pub struct CertificateTrust<'a> {
    pub root: &'a [u8],
    /// The issuing CA, published in NTAuth: it may issue logon certificates.
    pub ntauth: &'a [u8],
    /// Its CRL, as published at its distribution point.
    pub crl: &'a [u8],
}

/// The KDC's fresh values for one answer, from the run's seeded streams.
#[derive(Clone, Copy, Debug)]
pub struct KdcSecrets {
    pub dh: [u8; 64],
    pub session_key: [u8; 32],
    pub ticket_confounder: [u8; 16],
    pub reply_confounder: [u8; 16],
}

/// The KDC's answer: its checks, and the AS-REP or the KRB-ERROR it sends.
#[derive(Debug)]
pub struct KdcAnswer {
    pub checks: Vec<Check>,
    pub reply: Vec<u8>,
    /// The error code, when the reply is a KRB-ERROR.
    pub error: Option<i32>,
}

/// The KDC processes an AS-REQ with PA-PK-AS-REQ for a key-trust logon
/// (RFC 4556 §3.2.2, MS-PKCA 3.1.5.2.1): the request's form, the signature
/// over the AuthPack, the checksum binding it to the request body, the
/// clock, the account, and the signing key among the account's
/// msDS-KeyCredentialLink keys; then it answers with an AS-REP whose reply
/// key comes from Diffie-Hellman (RFC 4556 §3.2.3.1), or a KRB-ERROR that
/// names the first check that failed.
pub fn kdc_answer(
    kdc: &Kdc<'_>,
    as_req: &[u8],
    now: SimTime,
    secrets: KdcSecrets,
) -> Result<KdcAnswer> {
    let mut checks = Checks::new(Actor::Ad);
    let refuse = |checks: Checks, code: i32, cname: Option<PrincipalName>| -> Result<KdcAnswer> {
        let checks = checks.into_vec();
        let reason = first_failure(&checks, code);
        let error = krb_error(kdc.realm, code, &reason, cname, now)?;
        Ok(KdcAnswer {
            checks,
            reply: error,
            error: Some(code),
        })
    };
    let Some(req) = checks.check(
        "AS-REQ is well formed",
        "[APPLICATION 10] KDC-REQ, pvno 5, msg-type 10",
        "RFC 4120 §5.4.1",
        AsReq::from_der(as_req)
            .map_err(|e| format!("the request does not decode: {e}"))
            .and_then(|r| {
                if r.0.pvno.0 != PVNO || r.0.msg_type.0 != msg_type::AS_REQ {
                    Err(format!(
                        "pvno {} and msg-type {}, not 5 and 10",
                        r.0.pvno.0, r.0.msg_type.0
                    ))
                } else {
                    Ok(r.0)
                }
            }),
    ) else {
        return refuse(checks, error_code::MODIFIED, None);
    };
    let cname = req.req_body.0.cname.as_ref().map(|c| c.0.clone());
    let realm = req.req_body.0.realm.0.as_str().to_string();
    if checks
        .check(
            "Realm is this domain's",
            format!("realm \"{realm}\" against {}", kdc.realm),
            "RFC 4120 §3.1.2 (KDC_ERR_WRONG_REALM); RFC 6806",
            if realm.eq_ignore_ascii_case(kdc.realm) {
                Ok(())
            } else {
                Err(format!(
                    "the request is for the realm {realm}, not {}",
                    kdc.realm
                ))
            },
        )
        .is_none()
    {
        return refuse(checks, error_code::WRONG_REALM, cname);
    }
    let padata = req.padata.as_ref().map(|p| p.0.as_slice()).unwrap_or(&[]);
    let Some(pk) = checks.check(
        "PKINIT pre-authentication",
        format!(
            "padata types {:?} must include PA-PK-AS-REQ (16)",
            padata.iter().map(|p| p.padata_type.0).collect::<Vec<_>>()
        ),
        "RFC 4556 §3.2.1",
        find_padata::<PaPkAsReq>(padata, pa_type::PK_AS_REQ, "PA-PK-AS-REQ"),
    ) else {
        return refuse(checks, error_code::PREAUTH_REQUIRED, cname);
    };
    let Some(kdc_certificate) = checks.check(
        "The KDC can do PKINIT",
        "a certificate for KDC Authentication on this domain controller",
        "RFC 4556 §3.2.2; Kerberos Authentication certificate template",
        kdc.certificate.ok_or_else(|| {
            "the domain controller has no KDC certificate: no Kerberos Authentication certificate was enrolled, so it cannot answer PKINIT".to_string()
        }),
    ) else {
        return refuse(checks, error_code::PADATA_TYPE_NOSUPP, cname);
    };
    let signed = pk.signed_auth_pack.as_bytes();
    let Some((content, cert)) = checks.check(
        "AuthPack signature",
        "the CMS SignedData over the AuthPack, verified with the key of the certificate it carries; eContentType id-pkinit-authData",
        "RFC 4556 §3.2.2; RFC 5652 §5.6",
        crate::pki::verify_signed_content_of(signed, ID_PKINIT_AUTH_DATA),
    ) else {
        return refuse(checks, error_code::INVALID_SIG, cname);
    };
    let Some(auth_pack) = checks.check(
        "AuthPack is well formed",
        "AuthPack with a PKAuthenticator and a clientPublicValue",
        "RFC 4556 §3.2.1",
        AuthPack::from_der(&content).map_err(|e| format!("the AuthPack does not decode: {e}")),
    ) else {
        return refuse(checks, error_code::MODIFIED, cname);
    };
    let authenticator = &auth_pack.pk_authenticator.0;
    let body_der = req.req_body.0.to_der().map_err(der_err("KDC-REQ-BODY"))?;
    let expected = Sha1::digest(&body_der);
    let included = checks.check(
        "Request checksum",
        "paChecksum against the SHA-1 of the KDC-REQ-BODY that arrived",
        "RFC 4556 §3.2.1 (paChecksum MUST be present), §3.2.2",
        match &authenticator.pa_checksum {
            None => Err("the PKAuthenticator has no paChecksum".to_string()),
            Some(c) if c.0.as_bytes() != expected.as_slice() => Err(
                "paChecksum is not the SHA-1 of the request body: the body changed after the client signed".into(),
            ),
            Some(_) => Ok(()),
        },
    );
    if included.is_none() {
        let code = if authenticator.pa_checksum.is_none() {
            error_code::PA_CHECKSUM_MUST_BE_INCLUDED
        } else {
            error_code::MODIFIED
        };
        return refuse(checks, code, cname);
    }
    let ctime = sim(&authenticator.ctime.0);
    if !clock_within_skew(&mut checks, "the client's time", ctime, now) {
        return refuse(checks, error_code::SKEW, cname);
    }
    let name = cname
        .as_ref()
        .map(PrincipalName::display)
        .unwrap_or_default();
    let Some(account) = checks.check(
        "Account exists",
        format!("cname \"{name}\" against the domain's user accounts (UPN for an enterprise name)"),
        "RFC 6806 §5; RFC 4120 §7.5.9",
        cname
            .as_ref()
            .and_then(|c| {
                kdc.accounts.iter().find(|a| match c.name_type.0 {
                    name_type::ENTERPRISE => a.upn.eq_ignore_ascii_case(&c.display()),
                    _ => a.sam_account_name.eq_ignore_ascii_case(&c.display()),
                })
            })
            .cloned()
            .ok_or_else(|| format!("no account is named \"{name}\"")),
    ) else {
        return refuse(checks, error_code::C_PRINCIPAL_UNKNOWN, cname);
    };
    let signing_key = crate::pki::certificate_public_key(&cert);
    // MS-PKCA 3.1.5.2.1.4: the key found on another account than the one
    // the request names is a name mismatch.
    let owner = signing_key.as_ref().ok().and_then(|k| {
        kdc.accounts
            .iter()
            .find(|a| a.key_credentials.contains(k))
            .map(|a| a.sam_account_name.clone())
    });
    if let Some(other) = owner.filter(|o| *o != account.sam_account_name) {
        checks.check::<()>(
            "Key belongs to the account named",
            format!(
                "the signing key, found in {other}'s msDS-KeyCredentialLink, against the account the request names, {}",
                account.sam_account_name
            ),
            "MS-PKCA 3.1.5.2.1.4",
            Err(format!(
                "the key is {other}'s, but the request names {}",
                account.sam_account_name
            )),
        );
        return refuse(checks, error_code::CLIENT_NAME_MISMATCH, cname);
    }
    // A certificate from a CA is checked as one (MS-PKCA 3.1.5.2.1's
    // certificate mappings); a self-signed one only by its key (key trust,
    // 3.1.5.2.1.4, which ignores chain errors).
    let self_signed = crate::pki::self_issued(&cert);
    if let (Some(trust), false) = (kdc.certificate_trust, self_signed) {
        // Certificate trust (MS-PKCA 3.1.5.2.1; RFC 4556 §3.2.2).
        if let Err(code) = check_certificate(&mut checks, &cert, &account, trust, now) {
            return refuse(checks, code, cname);
        }
    } else if checks
        .check(
            "Key found in msDS-KeyCredentialLink",
            format!(
                "the public key of the certificate that signed the AuthPack against the {} key(s) in {}'s msDS-KeyCredentialLink",
                account.key_credentials.len(),
                account.sam_account_name
            ),
            "MS-PKCA 3.1.5.2.1.4 (key trust); KDC_ERR_CLIENT_NOT_TRUSTED as Windows and Samba's KDC answer",
            match signing_key {
                Err(e) => Err(e.to_string()),
                Ok(_) if account.key_credentials.is_empty() => Err(format!(
                    "msDS-KeyCredentialLink is empty for {}: the key has not reached this domain controller",
                    account.sam_account_name
                )),
                Ok(k) if account.key_credentials.contains(&k) => Ok(()),
                Ok(_) => Err("the signing key is not among the account's key credentials".into()),
            },
        )
        .is_none()
    {
        return refuse(checks, error_code::CLIENT_NOT_TRUSTED, cname);
    }
    let Some(client_public) = checks.check(
        "Diffie-Hellman value",
        "clientPublicValue: dhpublicnumber over the 2048-bit MODP group 14, a value between 1 and p - 1",
        "RFC 4556 §3.2.3.1; RFC 3526 §3",
        auth_pack
            .client_public_value
            .as_ref()
            .ok_or_else(|| "the AuthPack has no clientPublicValue (no Diffie-Hellman)".to_string())
            .and_then(|spki| dh::read_subject_public_key_info(&spki.0)),
    ) else {
        return refuse(checks, error_code::DH_KEY_PARAMETERS_NOT_ACCEPTED, cname);
    };
    // The answer.
    let ours = DhKeyPair::from_secret(secrets.dh);
    let shared = ours.shared_secret(&client_public).map_err(Error::Usage)?;
    let etype = first_aes(&req.req_body.0);
    let reply_key = dh::reply_key(etype, &shared, b"", b"");
    let key_info = KdcDhKeyInfo {
        subject_public_key: Explicit(ours.public_bit_string().map_err(der_err("DH value"))?),
        nonce: Explicit(authenticator.nonce.0),
        dh_key_expiration: None,
    };
    let dh_signed = crate::pki::sign_typed(
        &key_info.to_der().map_err(der_err("KDCDHKeyInfo"))?,
        ID_PKINIT_DH_KEY_DATA,
        kdc_certificate,
        now,
        |bytes| crate::rs256::sign(kdc.key, bytes),
    )?;
    let pk_rep: PaPkAsRep = Explicit(DhRepInfo {
        dh_signed_data: octets(dh_signed)?,
        server_dh_nonce: None,
    });
    let session = Key::new(etype, &secrets.session_key[..etype.key_len()])
        .map_err(|e| Error::Crypto(e.to_string()))?;
    let session_key = EncryptionKey {
        keytype: Explicit(etype.number()),
        keyvalue: Explicit(octets(session.bytes().to_vec())?),
    };
    let ticket_flags = flags(&[
        flag::FORWARDABLE,
        flag::RENEWABLE,
        flag::INITIAL,
        flag::PRE_AUTHENT,
    ])
    .map_err(der_err("flags"))?;
    let crealm = realm_string(kdc.realm)?;
    let client = PrincipalName::new(name_type::PRINCIPAL, &[&account.sam_account_name])
        .map_err(der_err("cname"))?;
    let endtime = now.plus(TICKET_LIFETIME);
    let renew_till = now.plus(RENEW_LIFETIME);
    let enc_ticket: EncTicketPart = Application(EncTicketPartBody {
        flags: Explicit(ticket_flags.clone()),
        key: Explicit(session_key.clone()),
        crealm: Explicit(crealm.clone()),
        cname: Explicit(client.clone()),
        transited: Explicit(TransitedEncoding {
            tr_type: Explicit(1),
            contents: Explicit(octets(Vec::new())?),
        }),
        authtime: Explicit(time(now)?),
        starttime: Some(Explicit(time(now)?)),
        endtime: Explicit(time(endtime)?),
        renew_till: Some(Explicit(time(renew_till)?)),
        authorization_data: None,
    });
    let ticket: Ticket = Application(TicketBody {
        tkt_vno: Explicit(PVNO),
        realm: Explicit(crealm.clone()),
        sname: Explicit(krbtgt(kdc.realm)?),
        enc_part: Explicit(EncryptedData {
            etype: Explicit(kdc.krbtgt.etype().number()),
            kvno: Some(Explicit(kdc.krbtgt_kvno)),
            cipher: Explicit(octets(kdc.krbtgt.encrypt(
                usage::TICKET,
                secrets.ticket_confounder,
                &enc_ticket.to_der().map_err(der_err("EncTicketPart"))?,
            ))?),
        }),
    });
    let enc_rep: EncAsRepPart = Application(EncKdcRepPart {
        key: Explicit(session_key),
        last_req: Explicit(vec![LastReqEntry {
            lr_type: Explicit(0),
            lr_value: Explicit(time(now)?),
        }]),
        nonce: Explicit(req.req_body.0.nonce.0),
        key_expiration: None,
        flags: Explicit(ticket_flags),
        authtime: Explicit(time(now)?),
        starttime: Some(Explicit(time(now)?)),
        endtime: Explicit(time(endtime)?),
        renew_till: Some(Explicit(time(renew_till)?)),
        srealm: Explicit(crealm.clone()),
        sname: Explicit(krbtgt(kdc.realm)?),
    });
    let rep: AsRep = Application(KdcRep {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::AS_REP),
        padata: Some(Explicit(vec![PaData {
            padata_type: Explicit(pa_type::PK_AS_REP),
            padata_value: Explicit(octets(pk_rep.to_der().map_err(der_err("PA-PK-AS-REP"))?)?),
        }])),
        crealm: Explicit(crealm),
        cname: Explicit(client),
        ticket: Explicit(ticket),
        enc_part: Explicit(EncryptedData {
            etype: Explicit(etype.number()),
            kvno: None,
            cipher: Explicit(octets(reply_key.encrypt(
                usage::AS_REP_ENC_PART,
                secrets.reply_confounder,
                &enc_rep.to_der().map_err(der_err("EncASRepPart"))?,
            ))?),
        }),
    });
    Ok(KdcAnswer {
        checks: checks.into_vec(),
        reply: rep.to_der().map_err(der_err("AS-REP"))?,
        error: None,
    })
}

/// The KDC's checks of a logon certificate under certificate trust, in
/// order, stopping at the first refusal with its error code: the chain to
/// the NTAuth CA and the root (RFC 4556 §3.2.2), the validity period, the
/// Smart Card Logon or PKINIT client EKU, revocation against the CA's CRL,
/// the strong mapping by the SID extension (KB5014754 full enforcement,
/// MS-PKCA 3.1.5.2.1.5–6) and the UPN.
fn check_certificate(
    checks: &mut Checks,
    cert: &[u8],
    account: &KdcAccount,
    trust: CertificateTrust<'_>,
    now: SimTime,
) -> std::result::Result<(), i32> {
    use error_code::*;
    let chain = crate::pki::verify_issued_by(cert, trust.ntauth)
        .and_then(|_| crate::pki::verify_issued_by(trust.ntauth, trust.root))
        .map_err(|e| e.to_string());
    checks
        .check(
            "Certificate chains to an NTAuth CA",
            "the certificate against the issuing CA in the domain's NTAuth store, and that CA against the enterprise root",
            "RFC 4556 §3.2.2 (KDC_ERR_CANT_VERIFY_CERTIFICATE); MS-PKCA 3.1.5.2.1",
            chain,
        )
        .ok_or(CANT_VERIFY_CERTIFICATE)?;
    checks
        .check(
            "Certificate is valid now",
            format!("the validity period against the KDC's time, {now}"),
            "RFC 5280 §6.1.3",
            crate::pki::valid_at(cert, now),
        )
        .ok_or(CLIENT_NOT_TRUSTED)?;
    checks
        .check(
            "Smart Card Logon EKU",
            "the extended key usages must include Smart Card Logon (1.3.6.1.4.1.311.20.2.2) or id-pkinit-KPClientAuth",
            "RFC 4556 §3.2.2 (KDC_ERR_INCONSISTENT_KEY_PURPOSE)",
            crate::pki::logon_eku(cert).and_then(|(fit, _)| {
                if fit {
                    Ok(())
                } else {
                    Err("the certificate is not for smart card logon".into())
                }
            }),
        )
        .ok_or(INCONSISTENT_KEY_PURPOSE)?;
    checks
        .check(
            "Certificate not revoked",
            "the certificate's serial against the issuing CA's CRL",
            "RFC 4556 §3.2.2 (KDC_ERR_REVOKED_CERTIFICATE); RFC 5280 §6.3",
            crate::pki::revoked_in(cert, trust.crl, trust.ntauth).and_then(|revoked| {
                if revoked {
                    Err("the issuing CA's CRL lists this certificate as revoked".into())
                } else {
                    Ok(())
                }
            }),
        )
        .ok_or(REVOKED_CERTIFICATE)?;
    checks
        .check(
            "Strong mapping: the SID extension",
            format!(
                "the certificate's SID security extension against {}'s objectSid, {}",
                account.sam_account_name, account.sid
            ),
            "KB5014754 (full enforcement); MS-PKCA 3.1.5.2.1.5, 3.1.5.2.1.6 (KDC_ERR_CERTIFICATE_MISMATCH)",
            match crate::pki::sid_of(cert) {
                Err(e) => Err(e),
                Ok(None) => Err(
                    "the certificate has no SID extension, and a UPN alone is a weak mapping".into(),
                ),
                Ok(Some(sid)) if sid == account.sid => Ok(()),
                Ok(Some(sid)) => Err(format!("the certificate names {sid}, not the account's SID")),
            },
        )
        .ok_or(CERTIFICATE_MISMATCH)?;
    checks
        .check(
            "Certificate names the account",
            format!("the subjectAltName UPN against {}", account.upn),
            "MS-PKCA 3.1.5.2.1.2 (KDC_ERR_CLIENT_NAME_MISMATCH)",
            crate::pki::upns_of(cert).and_then(|upns| {
                if upns.iter().any(|u| u.eq_ignore_ascii_case(&account.upn)) {
                    Ok(())
                } else {
                    Err(format!("the certificate names {upns:?}"))
                }
            }),
        )
        .ok_or(CLIENT_NAME_MISMATCH)?;
    Ok(())
}

/// A KRB-ERROR from the KDC (RFC 4120 §5.9.1), its e-text the reason.
pub(super) fn krb_error(
    realm: &str,
    code: i32,
    reason: &str,
    cname: Option<PrincipalName>,
    now: SimTime,
) -> Result<Vec<u8>> {
    // e-text is a KerberosString: ASCII only.
    let text: String = reason.chars().filter(char::is_ascii).collect();
    let error: KrbError = Application(KrbErrorBody {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::KRB_ERROR),
        ctime: None,
        cusec: None,
        stime: Explicit(time(now)?),
        susec: Explicit(0),
        error_code: Explicit(code),
        crealm: cname
            .as_ref()
            .map(|_| realm_string(realm))
            .transpose()?
            .map(Explicit),
        cname: cname.map(Explicit),
        realm: Explicit(realm_string(realm)?),
        sname: Explicit(krbtgt(realm)?),
        e_text: Some(Explicit(
            KerberosString::new(&text).map_err(der_err("e-text"))?,
        )),
        e_data: None,
    });
    error.to_der().map_err(der_err("KRB-ERROR"))
}

/// What the client has once the reply opened: the TGT and its session key.
#[derive(Clone, Debug)]
pub struct Tgt {
    /// The Ticket as it arrived (DER), opaque to the client.
    pub ticket: Vec<u8>,
    pub session_key: Key,
    pub reply_key: Key,
    pub endtime: SimTime,
    /// The KDC's certificate, from its signed DH value.
    pub kdc_certificate: Vec<u8>,
}

/// What the client expects of the reply.
#[derive(Debug)]
pub struct Expect<'a> {
    pub nonce: u32,
    pub pk_nonce: u32,
    pub dh: &'a DhKeyPair,
    /// The enterprise root the client trusts and the issuing CA under it
    /// (the domain's NTAuth and the client's root store).
    pub root: &'a [u8],
    pub issuing: &'a [u8],
    pub now: SimTime,
}

/// The client's checks of the KDC's reply (RFC 4556 §3.2.4): a KRB-ERROR is
/// a refusal with its code and text; an AS-REP must carry a DH value
/// signed by a certificate from the enterprise CA with the KDC
/// Authentication EKU, for this request's nonce; the reply key from
/// Diffie-Hellman must open the encrypted part, which must repeat the
/// request's nonce.
pub fn open_as_rep(reply: &[u8], expect: &Expect<'_>, by: Actor) -> (Vec<Check>, Option<Tgt>) {
    let mut checks = Checks::new(by);
    let tgt = open(reply, expect, &mut checks);
    (checks.into_vec(), tgt)
}

/// The KDC's clock check (RFC 4120 §5.2.3, KRB_AP_ERR_SKEW): `ctime` (what
/// the request says, named `what`) at most [`MAX_SKEW`] from `now`.
pub(super) fn clock_within_skew(
    checks: &mut Checks,
    what: &str,
    ctime: SimTime,
    now: SimTime,
) -> bool {
    let skew = if ctime > now {
        ctime.since(now)
    } else {
        now.since(ctime)
    };
    checks
        .check(
            "Clock skew",
            format!("{what} {ctime} against the KDC's {now}: at most {MAX_SKEW} apart"),
            "RFC 4120 §5.2.3 (KRB_AP_ERR_SKEW); Kerberos policy, 5 minutes",
            if skew <= MAX_SKEW {
                Ok(())
            } else {
                Err(format!("the clocks are {skew} apart"))
            },
        )
        .is_some()
}

/// The first AES type a request lists (its preference order), AES-256
/// when it lists none the KDC knows.
pub(super) fn first_aes(body: &KdcReqBody) -> Etype {
    body.etype
        .0
        .iter()
        .find_map(|n| Etype::from_number(*n))
        .unwrap_or(Etype::Aes256CtsHmacSha196)
}

/// The first failed check's reason, for a KRB-ERROR's e-text; the code's
/// name when none failed.
pub(super) fn first_failure(checks: &[Check], code: i32) -> String {
    checks
        .iter()
        .rev()
        .find_map(|c| match &c.outcome {
            Outcome::Fail { reason } => Some(reason.clone()),
            Outcome::Pass => None,
        })
        .unwrap_or_else(|| error_code::name(code).to_string())
}

/// A client's first check of a reply: a KRB-ERROR is a refusal, recorded
/// with its code and the KDC's text (`expected`: the reply it wanted).
/// Whether the reply was one.
pub(super) fn refused(reply: &[u8], expected: &str, checks: &mut Checks) -> bool {
    let Ok(error) = KrbError::from_der(reply) else {
        return false;
    };
    let e = &error.0;
    checks.check::<()>(
        "The KDC issues a TGT",
        format!("the reply: {expected}, or a KRB-ERROR with its code"),
        "RFC 4120 §5.9.1",
        Err(format!(
            "{} ({}): {}",
            error_code::name(e.error_code.0),
            e.error_code.0,
            e.e_text.as_ref().map(|t| t.0.as_str()).unwrap_or("")
        )),
    );
    true
}

fn open(reply: &[u8], expect: &Expect<'_>, checks: &mut Checks) -> Option<Tgt> {
    if refused(reply, "an AS-REP", checks) {
        return None;
    }
    let rep = checks.check(
        "Reply is an AS-REP",
        "[APPLICATION 11] KDC-REP, pvno 5, msg-type 11",
        "RFC 4120 §5.4.2",
        AsRep::from_der(reply)
            .map_err(|e| format!("the reply does not decode: {e}"))
            .map(|r| r.0),
    )?;
    let padata = rep.padata.as_ref().map(|p| p.0.as_slice()).unwrap_or(&[]);
    let rep_info = checks.check(
        "PA-PK-AS-REP with the KDC's DH value",
        "padata type 17, dhInfo",
        "RFC 4556 §3.2.3",
        find_padata::<PaPkAsRep>(padata, pa_type::PK_AS_REP, "PA-PK-AS-REP"),
    )?;
    let signed = rep_info.0.dh_signed_data.as_bytes();
    let (content, kdc_cert) = checks.check(
        "KDC signature over its DH value",
        "the CMS SignedData over KDCDHKeyInfo, verified with the certificate it carries; eContentType id-pkinit-DHKeyData",
        "RFC 4556 §3.2.4",
        crate::pki::verify_signed_content_of(signed, ID_PKINIT_DH_KEY_DATA),
    )?;
    checks.check(
        "KDC certificate",
        "issued by the enterprise issuing CA under the trusted root, valid now, with the KDC Authentication EKU",
        "RFC 4556 §3.2.4 (id-pkinit-KPKdc); MS-PKCA 3.1.5.2.1",
        crate::pki::verify_issued_by(&kdc_cert, expect.issuing)
            .and_then(|_| crate::pki::verify_issued_by(expect.issuing, expect.root))
            .map_err(|e| e.to_string())
            .and_then(|_| crate::pki::certificate_validity(&kdc_cert).map_err(|e| e.to_string()))
            .and_then(|(from, to)| {
                if expect.now < from || expect.now > to {
                    Err(format!("the certificate is valid from {from} to {to}"))
                } else {
                    Ok(())
                }
            })
            .and_then(|_| crate::pki::certificate_ekus(&kdc_cert))
            .and_then(|ekus| {
                if ekus.contains(&oid::KDC_AUTHENTICATION) {
                    Ok(())
                } else {
                    Err("the certificate lacks the KDC Authentication EKU (1.3.6.1.5.2.3.5)".into())
                }
            }),
    )?;
    let key_info = checks.check(
        "The KDC answers this request",
        "KDCDHKeyInfo's nonce against the PKAuthenticator's",
        "RFC 4556 §3.2.3.1",
        KdcDhKeyInfo::from_der(&content)
            .map_err(|e| format!("KDCDHKeyInfo does not decode: {e}"))
            .and_then(|info| {
                if info.nonce.0 == expect.pk_nonce {
                    Ok(info)
                } else {
                    Err(format!(
                        "the nonce is {}, not the {} this client sent",
                        info.nonce.0, expect.pk_nonce
                    ))
                }
            }),
    )?;
    let etype = Etype::from_number(rep.enc_part.0.etype.0);
    let opened = checks.check(
        "Reply opens with the Diffie-Hellman key",
        "the reply key from the shared secret (octetstring2key), decrypting the encrypted part (key usage 3)",
        "RFC 4556 §3.2.3.1; RFC 3962",
        etype
            .ok_or_else(|| format!("etype {} is not AES", rep.enc_part.0.etype.0))
            .and_then(|etype| {
                let peer = dh::read_public_bit_string(&key_info.subject_public_key.0)?;
                let shared = expect.dh.shared_secret(&peer)?;
                let reply_key = dh::reply_key(etype, &shared, b"", b"");
                let plain = reply_key
                    .decrypt(usage::AS_REP_ENC_PART, rep.enc_part.0.cipher.0.as_bytes())
                    .map_err(|e| e.to_string())?;
                let part = EncAsRepPart::from_der(&plain)
                    .map_err(|e| format!("EncASRepPart does not decode: {e}"))?;
                Ok((reply_key, part.0))
            }),
    )?;
    let (reply_key, part) = opened;
    checks.check(
        "Reply nonce",
        "the encrypted part's nonce against the request's",
        "RFC 4120 §3.1.5",
        if part.nonce.0 == expect.nonce {
            Ok(())
        } else {
            Err(format!(
                "the nonce is {}, not {}",
                part.nonce.0, expect.nonce
            ))
        },
    )?;
    let session_key = checks.check(
        "Session key",
        "an AES key of its type's length",
        "RFC 4120 §5.2.9",
        part.key.0.key(),
    )?;
    Some(Tgt {
        ticket: rep.ticket.0.to_der().ok()?,
        session_key,
        reply_key,
        endtime: sim(&part.endtime.0),
        kdc_certificate: kdc_cert,
    })
}

/// The TGT's encrypted part, opened with the krbtgt key: what a KDC reads
/// when the ticket comes back.
pub fn open_ticket(ticket: &[u8], krbtgt: &Key) -> std::result::Result<EncTicketPartBody, String> {
    let ticket =
        Ticket::from_der(ticket).map_err(|e| format!("the Ticket does not decode: {e}"))?;
    let plain = krbtgt
        .decrypt(usage::TICKET, ticket.0.enc_part.0.cipher.0.as_bytes())
        .map_err(|e| e.to_string())?;
    EncTicketPart::from_der(&plain)
        .map(|t| t.0)
        .map_err(|e| format!("EncTicketPart does not decode: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{kdc_certificate, root_certificate, self_signed_logon_certificate};
    use crate::pki::{subordinate_ca_certificate, Publication};
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use std::sync::OnceLock;

    const REALM: &str = "CONTOSO.COM";
    const UPN: &str = "alex.wilber@contoso.com";
    const NOW: SimTime = SimTime::DEFAULT_START;

    struct World {
        root: Vec<u8>,
        issuing: Vec<u8>,
        dc_key: RsaPrivateKey,
        dc_cert: Vec<u8>,
        user: RsaPrivateKey,
        user_cert: Vec<u8>,
        krbtgt: Key,
    }

    fn world() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(|| {
            let key =
                |seed: u64| rsa_keygen::new(&mut ChaCha20Rng::seed_from_u64(seed), 2048).unwrap();
            let (root_key, issuing_key, dc_key, user) = (key(11), key(12), key(13), key(14));
            let year = SimDuration::minutes(365 * 24 * 60);
            let root = root_certificate(
                &root_key,
                "Contoso Enterprise Root CA",
                SimTime(NOW.0 - 2 * year.0),
                20,
            )
            .unwrap();
            let none = Publication {
                crl: Vec::new(),
                ca_issuers: Vec::new(),
            };
            let issuing = subordinate_ca_certificate(
                &root_key,
                &root,
                &none,
                &issuing_key.to_public_key(),
                "Contoso Issuing CA",
                1,
                SimTime(NOW.0 - year.0),
                10,
            )
            .unwrap();
            let dc_cert = kdc_certificate(
                &issuing_key,
                &issuing,
                &none,
                &dc_key.to_public_key(),
                &["DC01.contoso.com", "contoso.com"],
                7,
                SimTime(NOW.0 - year.0 / 2),
            )
            .unwrap();
            let user_cert = self_signed_logon_certificate(
                &user.to_public_key(),
                UPN,
                NOW,
                NOW.plus(SimDuration::minutes(30 * 24 * 60)),
                |tbs| crate::rs256::sign(&user, tbs),
            )
            .unwrap();
            let krbtgt = Key::new(Etype::Aes256CtsHmacSha196, &[0x42; 32]).unwrap();
            World {
                root,
                issuing,
                dc_key,
                dc_cert,
                user,
                user_cert,
                krbtgt,
            }
        })
    }

    fn account(keys: Vec<RsaPublicKey>) -> KdcAccount {
        KdcAccount {
            sam_account_name: "alexw".into(),
            upn: UPN.into(),
            sid: "S-1-5-21-1-2-3-1104".into(),
            key_credentials: keys,
        }
    }

    const SECRETS: KdcSecrets = KdcSecrets {
        dh: [9; 64],
        session_key: [5; 32],
        ticket_confounder: [6; 16],
        reply_confounder: [7; 16],
    };

    fn exchange(
        accounts: &[KdcAccount],
        edit: impl FnOnce(&mut Vec<u8>),
        kdc_now: SimTime,
    ) -> (KdcAnswer, (Vec<Check>, Option<Tgt>)) {
        let w = world();
        let dh = DhKeyPair::from_secret([8; 64]);
        let logon = Logon {
            realm: REALM,
            upn: UPN,
            now: NOW,
            nonce: 0x1234_5678,
            pk_nonce: 0x0bad_cafe,
            dh: &dh,
            certificate: &w.user_cert,
        };
        let mut req = as_req(&logon, |bytes| crate::rs256::sign(&w.user, bytes)).unwrap();
        edit(&mut req);
        let kdc = Kdc {
            realm: REALM,
            krbtgt: &w.krbtgt,
            krbtgt_kvno: 2,
            key: &w.dc_key,
            certificate: Some(&w.dc_cert),
            accounts,
            certificate_trust: None,
        };
        let answer = kdc_answer(&kdc, &req, kdc_now, SECRETS).unwrap();
        let expect = Expect {
            nonce: 0x1234_5678,
            pk_nonce: 0x0bad_cafe,
            dh: &dh,
            root: &w.root,
            issuing: &w.issuing,
            now: NOW,
        };
        let opened = open_as_rep(&answer.reply, &expect, Actor::CloudAp);
        (answer, opened)
    }

    fn failed(checks: &[Check]) -> Option<(&str, String)> {
        checks.iter().find_map(|c| match &c.outcome {
            Outcome::Fail { reason } => Some((c.title.as_str(), reason.clone())),
            Outcome::Pass => None,
        })
    }

    #[test]
    fn a_registered_key_gets_a_tgt_the_client_opens_and_the_kdc_reads_back() {
        let w = world();
        let (answer, (checks, tgt)) =
            exchange(&[account(vec![w.user.to_public_key()])], |_| {}, NOW);
        assert_eq!(answer.error, None, "{:?}", failed(&answer.checks));
        assert!(failed(&answer.checks).is_none());
        assert!(failed(&checks).is_none(), "{:?}", failed(&checks));
        let tgt = tgt.unwrap();
        assert_eq!(tgt.session_key.bytes(), &[5; 32]);
        assert_eq!(tgt.endtime, NOW.plus(TICKET_LIFETIME));
        assert_eq!(tgt.kdc_certificate, w.dc_cert);
        // The ticket opens with the krbtgt key and names the user.
        let part = open_ticket(&tgt.ticket, &w.krbtgt).unwrap();
        assert_eq!(part.cname.0.display(), "alexw");
        assert_eq!(part.key.0.keyvalue.0.as_bytes(), &[5; 32]);
        assert!(open_ticket(&tgt.ticket, &tgt.reply_key).is_err());
        // The AS-REP parses as RFC 4120's and its enc-part opens only with
        // the reply key.
        let rep = AsRep::from_der(&answer.reply).unwrap();
        assert_eq!(rep.0.msg_type.0, 11);
        assert!(tgt
            .reply_key
            .decrypt(3, rep.0.enc_part.0.cipher.0.as_bytes())
            .is_ok());
        assert!(w
            .krbtgt
            .decrypt(3, rep.0.enc_part.0.cipher.0.as_bytes())
            .is_err());
    }

    #[test]
    fn before_the_key_reaches_ad_the_kdc_refuses_and_the_client_reads_why() {
        let (answer, (checks, tgt)) = exchange(&[account(Vec::new())], |_| {}, NOW);
        assert_eq!(answer.error, Some(error_code::CLIENT_NOT_TRUSTED));
        let (title, reason) = failed(&answer.checks).unwrap();
        assert_eq!(title, "Key found in msDS-KeyCredentialLink");
        assert!(reason.contains("empty"), "{reason}");
        let error = KrbError::from_der(&answer.reply).unwrap();
        assert_eq!(error.0.error_code.0, 62);
        assert!(tgt.is_none());
        let (title, reason) = failed(&checks).unwrap();
        assert_eq!(title, "The KDC issues a TGT");
        assert!(
            reason.starts_with("KDC_ERR_CLIENT_NOT_TRUSTED (62)"),
            "{reason}"
        );
    }

    #[test]
    fn another_key_an_unknown_user_a_skewed_clock_and_an_edited_body_are_refused() {
        let w = world();
        let mine = || vec![account(vec![w.user.to_public_key()])];
        let other = vec![account(vec![w.dc_key.to_public_key()])];
        let (a, _) = exchange(&other, |_| {}, NOW);
        assert_eq!(a.error, Some(error_code::CLIENT_NOT_TRUSTED));
        // The key is another account's.
        let mallory = KdcAccount {
            sam_account_name: "mallory".into(),
            upn: "mallory@contoso.com".into(),
            sid: "S-1-5-21-1-2-3-1105".into(),
            key_credentials: vec![w.user.to_public_key()],
        };
        let (a, _) = exchange(&[account(Vec::new()), mallory], |_| {}, NOW);
        assert_eq!(a.error, Some(error_code::CLIENT_NAME_MISMATCH));
        let nobody = vec![KdcAccount {
            upn: "someone@contoso.com".into(),
            ..account(Vec::new())
        }];
        let (a, _) = exchange(&nobody, |_| {}, NOW);
        assert_eq!(a.error, Some(error_code::C_PRINCIPAL_UNKNOWN));
        let (a, _) = exchange(&mine(), |_| {}, NOW.plus(SimDuration::minutes(6)));
        assert_eq!(a.error, Some(error_code::SKEW));
        // The request's nonce changed after the AuthPack was signed.
        let (a, _) = exchange(
            &mine(),
            |req| {
                let at = req
                    .windows(4)
                    .position(|w| w == 0x1234_5678u32.to_be_bytes())
                    .unwrap();
                req[at + 3] ^= 1;
            },
            NOW,
        );
        assert_eq!(a.error, Some(error_code::MODIFIED));
        assert_eq!(failed(&a.checks).unwrap().0, "Request checksum");
        // A byte of the signed AuthPack changed.
        let (a, _) = exchange(
            &mine(),
            |req| {
                let at = req
                    .windows(4)
                    .position(|w| w == 0x0bad_cafeu32.to_be_bytes())
                    .unwrap();
                req[at] ^= 1;
            },
            NOW,
        );
        assert_eq!(a.error, Some(error_code::INVALID_SIG));
        // Junk is a KRB-ERROR too, never a panic.
        let kdc = Kdc {
            realm: REALM,
            krbtgt: &w.krbtgt,
            krbtgt_kvno: 2,
            key: &w.dc_key,
            certificate: Some(&w.dc_cert),
            accounts: &mine(),
            certificate_trust: None,
        };
        for junk in [&b""[..], b"\x6a\x00", b"junk"] {
            let a = kdc_answer(&kdc, junk, NOW, SECRETS).unwrap();
            assert!(KrbError::from_der(&a.reply).is_ok());
        }
    }

    #[test]
    fn the_client_refuses_a_reply_it_cannot_trust() {
        let w = world();
        let dh = DhKeyPair::from_secret([8; 64]);
        let (answer, _) = exchange(&[account(vec![w.user.to_public_key()])], |_| {}, NOW);
        // Another nonce was expected.
        let expect = Expect {
            nonce: 1,
            pk_nonce: 0x0bad_cafe,
            dh: &dh,
            root: &w.root,
            issuing: &w.issuing,
            now: NOW,
        };
        let (checks, tgt) = open_as_rep(&answer.reply, &expect, Actor::CloudAp);
        assert!(tgt.is_none());
        assert_eq!(failed(&checks).unwrap().0, "Reply nonce");
        // Another trust anchor: the KDC's certificate does not chain.
        let expect = Expect {
            nonce: 0x1234_5678,
            pk_nonce: 0x0bad_cafe,
            dh: &dh,
            root: &w.user_cert,
            issuing: &w.root,
            now: NOW,
        };
        let (checks, _) = open_as_rep(&answer.reply, &expect, Actor::CloudAp);
        assert_eq!(failed(&checks).unwrap().0, "KDC certificate");
        // Another DH pair cannot open the reply.
        let stranger = DhKeyPair::from_secret([1; 64]);
        let expect = Expect {
            nonce: 0x1234_5678,
            pk_nonce: 0x0bad_cafe,
            dh: &stranger,
            root: &w.root,
            issuing: &w.issuing,
            now: NOW,
        };
        let (checks, _) = open_as_rep(&answer.reply, &expect, Actor::CloudAp);
        assert_eq!(
            failed(&checks).unwrap().0,
            "Reply opens with the Diffie-Hellman key"
        );
    }
}
