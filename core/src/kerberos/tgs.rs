//! Tickets made outside the domain controller and the TGS exchange that
//! turns them into the domain's own (cloud Kerberos trust).
//!
//! Microsoft Entra ID plays a read-only domain controller: the Microsoft
//! Entra Kerberos server object in Active Directory has its own krbtgt
//! account (krbtgt_AzureAD), whose key Entra ID also holds, and the key's
//! version number carries the object's RODC number in its upper 16 bits
//! (MS-KILE 3.1.5.8 for RODC key versions). Entra ID issues a partial TGT
//! with that key: the user's name and SID in a PAC, no groups. The client
//! presents it to a writable domain controller in a TGS-REQ for the
//! realm's krbtgt (RFC 4120 §3.3); the KDC recognises the RODC's key by
//! the version number, checks the ticket, the authenticator and the
//! clock, finds the user by SID, applies the RODC's password replication
//! policy, and answers with a full TGT under the domain's own krbtgt key.
//!
//! Each side reads only what reaches it: the KDC the TGS-REQ and what
//! Active Directory holds; the client the reply and the session key it
//! was given with the partial ticket.

use super::asn1::{Application, Explicit};
use super::crypto::{Etype, Key};
use super::messages::*;
use super::pac::{self, Identity, Signer};
use super::pkinit::{
    clock_within_skew, der_err, error_code, find_padata, first_aes, first_failure, krb_error,
    krbtgt, octets, padata_mut, realm_string, refused, sim, time, KdcAnswer, RENEW_LIFETIME,
    TICKET_LIFETIME,
};
use crate::catalog::Actor;
use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::event::{Check, Checks};
use der::{Decode, Encode};

/// The error codes (RFC 4120 §7.5.9), shared with PKINIT's.
pub use super::pkinit::error_code as code;

/// A key version number with an RODC's number in its upper 16 bits.
pub fn rodc_kvno(rodc: u16, version: u16) -> u32 {
    (u32::from(rodc) << 16) | u32::from(version)
}

/// What goes into a ticket-granting ticket.
#[derive(Debug)]
pub struct TicketSpec<'a> {
    pub realm: &'a str,
    pub identity: &'a Identity,
    pub session_key: &'a Key,
    pub starttime: SimTime,
    /// The key that encrypts the ticket and signs its PAC, with its
    /// version number and, for an RODC's key, the RODC's number.
    pub krbtgt: &'a Key,
    pub kvno: u32,
    pub rodc: Option<u16>,
    pub confounder: [u8; 16],
}

fn ticket_flags() -> Result<der::asn1::BitString> {
    flags(&[flag::FORWARDABLE, flag::RENEWABLE, flag::PRE_AUTHENT]).map_err(der_err("flags"))
}

/// The EncTicketPart and the Ticket (DER) for `spec`: the user's name,
/// the session key, ten hours renewable for seven days, and the PAC in
/// AD-IF-RELEVANT / AD-WIN2K-PAC (MS-KILE 3.3.5.6.3).
pub fn ticket(spec: &TicketSpec<'_>) -> Result<Vec<u8>> {
    let signer = Signer {
        key: spec.krbtgt,
        rodc: spec.rodc,
    };
    let pac = pac::build(
        spec.identity,
        Signer {
            rodc: None,
            ..signer
        },
        signer,
    )
    .map_err(|e| Error::malformed("PAC", e))?;
    let win2k_pac = vec![AuthorizationDataEntry {
        ad_type: Explicit(ad_type::WIN2K_PAC),
        ad_data: Explicit(octets(pac)?),
    }];
    let if_relevant = AuthorizationDataEntry {
        ad_type: Explicit(ad_type::IF_RELEVANT),
        ad_data: Explicit(octets(
            win2k_pac.to_der().map_err(der_err("AD-WIN2K-PAC"))?,
        )?),
    };
    let cname = PrincipalName::new(name_type::PRINCIPAL, &[&spec.identity.sam_account_name])
        .map_err(der_err("cname"))?;
    let part: EncTicketPart = Application(EncTicketPartBody {
        flags: Explicit(ticket_flags()?),
        key: Explicit(EncryptionKey {
            keytype: Explicit(spec.session_key.etype().number()),
            keyvalue: Explicit(octets(spec.session_key.bytes().to_vec())?),
        }),
        crealm: Explicit(realm_string(spec.realm)?),
        cname: Explicit(cname),
        transited: Explicit(TransitedEncoding {
            tr_type: Explicit(1),
            contents: Explicit(octets(Vec::new())?),
        }),
        authtime: Explicit(time(spec.identity.authtime)?),
        starttime: Some(Explicit(time(spec.starttime)?)),
        endtime: Explicit(time(spec.starttime.plus(TICKET_LIFETIME))?),
        renew_till: Some(Explicit(time(spec.starttime.plus(RENEW_LIFETIME))?)),
        authorization_data: Some(Explicit(vec![if_relevant])),
    });
    let ticket: Ticket = Application(TicketBody {
        tkt_vno: Explicit(PVNO),
        realm: Explicit(realm_string(spec.realm)?),
        sname: Explicit(krbtgt(spec.realm)?),
        enc_part: Explicit(EncryptedData {
            etype: Explicit(spec.krbtgt.etype().number()),
            kvno: Some(Explicit(spec.kvno)),
            cipher: Explicit(octets(spec.krbtgt.encrypt(
                usage::TICKET,
                spec.confounder,
                &part.to_der().map_err(der_err("EncTicketPart"))?,
            ))?),
        }),
    });
    ticket.to_der().map_err(der_err("Ticket"))
}

/// An AS-REP carrying `spec`'s ticket, its encrypted part (the session
/// key, the times, the realm's krbtgt) under `client_key` with key usage 3:
/// the form in which Microsoft Entra ID hands out the partial TGT (the
/// `messageBuffer` of the PRT response's `tgt_ad`, as libhimmelblau and
/// ROADtools read it). No AS-REQ preceded it, so its nonce is 0.
pub fn as_rep(spec: &TicketSpec<'_>, client_key: &Key, confounder: [u8; 16]) -> Result<Vec<u8>> {
    let ticket_der = ticket(spec)?;
    let crealm = realm_string(spec.realm)?;
    let client = PrincipalName::new(name_type::PRINCIPAL, &[&spec.identity.sam_account_name])
        .map_err(der_err("cname"))?;
    let enc: EncAsRepPart = Application(EncKdcRepPart {
        key: Explicit(EncryptionKey {
            keytype: Explicit(spec.session_key.etype().number()),
            keyvalue: Explicit(octets(spec.session_key.bytes().to_vec())?),
        }),
        last_req: Explicit(vec![LastReqEntry {
            lr_type: Explicit(0),
            lr_value: Explicit(time(spec.starttime)?),
        }]),
        nonce: Explicit(0),
        key_expiration: None,
        flags: Explicit(ticket_flags()?),
        authtime: Explicit(time(spec.identity.authtime)?),
        starttime: Some(Explicit(time(spec.starttime)?)),
        endtime: Explicit(time(spec.starttime.plus(TICKET_LIFETIME))?),
        renew_till: Some(Explicit(time(spec.starttime.plus(RENEW_LIFETIME))?)),
        srealm: Explicit(crealm.clone()),
        sname: Explicit(krbtgt(spec.realm)?),
    });
    let rep: AsRep = Application(KdcRep {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::AS_REP),
        padata: None,
        crealm: Explicit(crealm),
        cname: Explicit(client),
        ticket: Explicit(Ticket::from_der(&ticket_der).map_err(der_err("Ticket"))?),
        enc_part: Explicit(EncryptedData {
            etype: Explicit(client_key.etype().number()),
            kvno: None,
            cipher: Explicit(octets(client_key.encrypt(
                usage::AS_REP_ENC_PART,
                confounder,
                &enc.to_der().map_err(der_err("EncASRepPart"))?,
            ))?),
        }),
    });
    rep.to_der().map_err(der_err("AS-REP"))
}

/// What a client reads from an AS-REP it was handed with its key: the
/// ticket (DER) and the session key, once the encrypted part opens with
/// `client_key` and names this realm's krbtgt.
pub fn open_handed_as_rep(
    as_rep: &[u8],
    client_key: &Key,
    realm: &str,
) -> std::result::Result<Handed, String> {
    let rep = AsRep::from_der(as_rep)
        .map_err(|e| format!("the AS-REP does not decode: {e}"))?
        .0;
    if rep.pvno.0 != PVNO || rep.msg_type.0 != msg_type::AS_REP {
        return Err(format!(
            "pvno {} and msg-type {}, not 5 and 11",
            rep.pvno.0, rep.msg_type.0
        ));
    }
    let plain = client_key
        .decrypt(usage::AS_REP_ENC_PART, rep.enc_part.0.cipher.0.as_bytes())
        .map_err(|e| e.to_string())?;
    let part = EncAsRepPart::from_der(&plain)
        .map_err(|e| format!("EncASRepPart does not decode: {e}"))?
        .0;
    let service = part.sname.0.display();
    if !service.eq_ignore_ascii_case(&format!("krbtgt/{realm}")) {
        return Err(format!("the ticket is for {service}, not krbtgt/{realm}"));
    }
    let session = part.key.0.key()?;
    let ticket = rep.ticket.0.to_der().map_err(|e| e.to_string())?;
    Ok(Handed {
        ticket,
        session_key: session,
        endtime: sim(&part.endtime.0),
        cname: rep.cname.0.display(),
    })
}

/// A ticket handed over in an AS-REP, as the client keeps it.
#[derive(Clone, Debug)]
pub struct Handed {
    pub ticket: Vec<u8>,
    pub session_key: Key,
    pub endtime: SimTime,
    /// The client's name as the AS-REP gives it: what the authenticator
    /// must name.
    pub cname: String,
}

/// What the client puts in its TGS-REQ.
#[derive(Debug)]
pub struct Request<'a> {
    pub realm: &'a str,
    /// The client's name as the ticket it presents names it.
    pub sam_account_name: &'a str,
    /// The ticket it presents (DER) and that ticket's session key.
    pub ticket: &'a [u8],
    pub session_key: &'a Key,
    /// The client's clock, which the authenticator carries.
    pub ctime: SimTime,
    pub nonce: u32,
    pub confounder: [u8; 16],
}

/// The TGS-REQ for the realm's krbtgt presenting `request.ticket`: an
/// AP-REQ in PA-TGS-REQ whose authenticator, encrypted under the ticket's
/// session key (key usage 7), carries the time and a checksum of the
/// request body (key usage 6), RFC 4120 §5.4.1, §5.5.1.
pub fn tgs_req(request: &Request<'_>) -> Result<Vec<u8>> {
    let till = time(SimTime::from_unix_seconds(2_136_422_885))?; // 20370913024805Z, "no end"
    let body = KdcReqBody {
        kdc_options: Explicit(
            flags(&[flag::FORWARDABLE, flag::RENEWABLE, flag::CANONICALIZE])
                .map_err(der_err("kdc-options"))?,
        ),
        cname: None,
        realm: Explicit(realm_string(request.realm)?),
        sname: Some(Explicit(krbtgt(request.realm)?)),
        from: None,
        till: Explicit(till),
        rtime: None,
        nonce: Explicit(request.nonce),
        etype: Explicit(vec![
            Etype::Aes256CtsHmacSha196.number(),
            Etype::Aes128CtsHmacSha196.number(),
        ]),
    };
    let body_der = body.to_der().map_err(der_err("KDC-REQ-BODY"))?;
    let authenticator: Authenticator = Application(AuthenticatorBody {
        authenticator_vno: Explicit(PVNO),
        crealm: Explicit(realm_string(request.realm)?),
        cname: Explicit(
            PrincipalName::new(name_type::PRINCIPAL, &[request.sam_account_name])
                .map_err(der_err("cname"))?,
        ),
        cksum: Some(Explicit(Checksum {
            cksumtype: Explicit(request.session_key.checksum_type()),
            checksum: Explicit(octets(
                request
                    .session_key
                    .checksum(usage::TGS_REQ_AUTH_CKSUM, &body_der)
                    .to_vec(),
            )?),
        })),
        cusec: Explicit(0),
        ctime: Explicit(time(request.ctime)?),
    });
    let ticket = Ticket::from_der(request.ticket).map_err(der_err("Ticket"))?;
    let ap_req: ApReq = Application(ApReqBody {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::AP_REQ),
        ap_options: Explicit(flags(&[]).map_err(der_err("ap-options"))?),
        ticket: Explicit(ticket),
        authenticator: Explicit(EncryptedData {
            etype: Explicit(request.session_key.etype().number()),
            kvno: None,
            cipher: Explicit(octets(request.session_key.encrypt(
                usage::TGS_REQ_AUTH,
                request.confounder,
                &authenticator.to_der().map_err(der_err("Authenticator"))?,
            ))?),
        }),
    });
    let req: TgsReq = Application(KdcReq {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::TGS_REQ),
        padata: Some(Explicit(vec![PaData {
            padata_type: Explicit(pa_type::TGS_REQ),
            padata_value: Explicit(octets(ap_req.to_der().map_err(der_err("AP-REQ"))?)?),
        }])),
        req_body: Explicit(body),
    });
    req.to_der().map_err(der_err("TGS-REQ"))
}

/// The TGS-REQ in `bytes`, as edited, sealed again by its client: the
/// authenticator opened with the session key, its checksum made that of the
/// (edited) request body, and encrypted afresh with `confounder`. What the
/// holder of the partial TGT's session key could do; the bytes must still
/// read as a TGS-REQ with PA-TGS-REQ.
pub fn reseal_tgs_req(bytes: &[u8], session_key: &Key, confounder: [u8; 16]) -> Result<Vec<u8>> {
    const WHAT: &str = "TGS-REQ";
    let mut req = TgsReq::from_der(bytes).map_err(der_err(WHAT))?;
    let body = req.0.req_body.0.to_der().map_err(der_err("KDC-REQ-BODY"))?;
    let pa = padata_mut(&mut req.0, pa_type::TGS_REQ, WHAT, "PA-TGS-REQ")?;
    let mut ap_req = ApReq::from_der(pa.padata_value.0.as_bytes()).map_err(der_err("AP-REQ"))?;
    let plain = session_key
        .decrypt(
            usage::TGS_REQ_AUTH,
            ap_req.0.authenticator.0.cipher.0.as_bytes(),
        )
        .map_err(|e| Error::malformed("authenticator", e.to_string()))?;
    let mut authenticator = Authenticator::from_der(&plain).map_err(der_err("Authenticator"))?;
    authenticator.0.cksum = Some(Explicit(Checksum {
        cksumtype: Explicit(session_key.checksum_type()),
        checksum: Explicit(octets(
            session_key
                .checksum(usage::TGS_REQ_AUTH_CKSUM, &body)
                .to_vec(),
        )?),
    }));
    ap_req.0.authenticator.0.cipher = Explicit(octets(session_key.encrypt(
        usage::TGS_REQ_AUTH,
        confounder,
        &authenticator.to_der().map_err(der_err("Authenticator"))?,
    ))?);
    pa.padata_value = Explicit(octets(ap_req.to_der().map_err(der_err("AP-REQ"))?)?);
    req.to_der().map_err(der_err(WHAT))
}

/// A read-only domain controller as a writable one knows it: its computer
/// object, its number, and its krbtgt account's current key and version.
/// Its password replication policy (MS-ADTS 3.1.1.8.1: the
/// msDS-NeverRevealGroup of its computer object) is read per account:
/// [`Account::denied_by_rodc_policy`].
#[derive(Clone, Debug)]
pub struct ReadOnlyKdc {
    /// The computer object's name (`AzureADKerberos`).
    pub name: String,
    /// The krbtgt account's sAMAccountName (`krbtgt_<number>`; its CN is
    /// `krbtgt_AzureAD`).
    pub krbtgt_account: String,
    pub number: u16,
    pub key: Key,
    pub version: u16,
}

/// An account as this exchange reads it.
#[derive(Clone, Debug)]
pub struct Account {
    pub sam_account_name: String,
    pub upn: String,
    pub sid: String,
    /// Member of a group the Denied RODC Password Replication Group holds
    /// (Domain Admins and the other privileged groups).
    pub denied_by_rodc_policy: bool,
}

/// What the writable domain controller's KDC holds.
#[derive(Debug)]
pub struct Kdc<'a> {
    pub realm: &'a str,
    pub krbtgt: &'a Key,
    pub krbtgt_kvno: u32,
    pub read_only: &'a [ReadOnlyKdc],
    pub accounts: &'a [Account],
}

/// The KDC's fresh values for one answer.
#[derive(Clone, Copy, Debug)]
pub struct Secrets {
    pub session_key: [u8; 32],
    pub ticket_confounder: [u8; 16],
    pub reply_confounder: [u8; 16],
}

/// The KDC processes a TGS-REQ presenting a TGT from one of its read-only
/// domain controllers (here: the Entra Kerberos server object) and
/// answers with a full TGT, or a KRB-ERROR naming the first check that
/// failed.
pub fn kdc_answer(
    kdc: &Kdc<'_>,
    tgs_req: &[u8],
    now: SimTime,
    secrets: Secrets,
) -> Result<KdcAnswer> {
    let mut checks = Checks::new(Actor::Ad);
    let refuse = |checks: Checks, code: i32, cname: Option<PrincipalName>| -> Result<KdcAnswer> {
        let checks = checks.into_vec();
        let text = first_failure(&checks, code);
        Ok(KdcAnswer {
            checks,
            reply: krb_error(kdc.realm, code, &text, cname, now)?,
            error: Some(code),
        })
    };
    let Some(req) = checks.check(
        "TGS-REQ is well formed",
        "[APPLICATION 12] KDC-REQ, pvno 5, msg-type 12",
        "RFC 4120 §5.4.1",
        TgsReq::from_der(tgs_req)
            .map_err(|e| format!("the request does not decode: {e}"))
            .and_then(|r| {
                if r.0.pvno.0 != PVNO || r.0.msg_type.0 != msg_type::TGS_REQ {
                    Err(format!(
                        "pvno {} and msg-type {}, not 5 and 12",
                        r.0.pvno.0, r.0.msg_type.0
                    ))
                } else {
                    Ok(r.0)
                }
            }),
    ) else {
        return refuse(checks, error_code::MODIFIED, None);
    };
    let realm = req.req_body.0.realm.0.as_str().to_string();
    let wanted = req
        .req_body
        .0
        .sname
        .as_ref()
        .map(|s| s.0.display())
        .unwrap_or_default();
    if checks
        .check(
            "A TGT for this domain",
            format!(
                "realm \"{realm}\" and sname \"{wanted}\" against krbtgt/{}",
                kdc.realm
            ),
            "RFC 4120 §3.3.1",
            if !realm.eq_ignore_ascii_case(kdc.realm) {
                Err(format!(
                    "the request is for the realm {realm}, not {}",
                    kdc.realm
                ))
            } else if !wanted.eq_ignore_ascii_case(&format!("krbtgt/{}", kdc.realm)) {
                Err(format!(
                    "the request asks for {wanted}, not this domain's krbtgt"
                ))
            } else {
                Ok(())
            },
        )
        .is_none()
    {
        let code = if realm.eq_ignore_ascii_case(kdc.realm) {
            code::S_PRINCIPAL_UNKNOWN
        } else {
            error_code::WRONG_REALM
        };
        return refuse(checks, code, None);
    }
    let padata = req.padata.as_ref().map(|p| p.0.as_slice()).unwrap_or(&[]);
    let Some(ap_req) = checks.check(
        "AP-REQ presents a ticket",
        "padata PA-TGS-REQ (1): an AP-REQ with the ticket and an authenticator",
        "RFC 4120 §5.5.1, §7.5.2",
        find_padata::<ApReq>(padata, pa_type::TGS_REQ, "PA-TGS-REQ").and_then(|a| {
            if a.0.pvno.0 == PVNO && a.0.msg_type.0 == msg_type::AP_REQ {
                Ok(a.0)
            } else {
                Err("the PA-TGS-REQ is not an AP-REQ".into())
            }
        }),
    ) else {
        return refuse(checks, error_code::PREAUTH_REQUIRED, None);
    };
    let presented = &ap_req.ticket.0 .0;
    let components: Vec<&str> = presented
        .sname
        .0
        .name_string
        .0
        .iter()
        .map(|c| c.as_str())
        .collect();
    if checks
        .check(
            "The ticket is a TGT of this realm",
            format!(
                "tkt-vno {}, realm {}, sname {} against 5 and krbtgt/{}",
                presented.tkt_vno.0,
                presented.realm.0.as_str(),
                components.join("/"),
                kdc.realm
            ),
            "RFC 4120 §3.3.2, §5.3 (KRB_AP_ERR_NOT_US)",
            if presented.tkt_vno.0 != PVNO {
                Err(format!(
                    "the ticket's version is {}, not 5",
                    presented.tkt_vno.0
                ))
            } else if !presented.realm.0.as_str().eq_ignore_ascii_case(kdc.realm)
                || components.len() != 2
                || components[0] != "krbtgt"
                || !components[1].eq_ignore_ascii_case(kdc.realm)
            {
                Err(format!(
                    "the ticket is for {}@{}, not this realm's krbtgt",
                    components.join("/"),
                    presented.realm.0.as_str()
                ))
            } else {
                Ok(())
            },
        )
        .is_none()
    {
        return refuse(checks, code::NOT_US, None);
    }
    let Some(kvno) = checks.check(
        "The ticket names its key",
        "the ticket's enc-part carries a key version number",
        "RFC 4120 §5.2.9",
        presented
            .enc_part
            .0
            .kvno
            .as_ref()
            .map(|k| k.0)
            .ok_or_else(|| "the ticket has no kvno: no key can be chosen for it".to_string()),
    ) else {
        return refuse(checks, code::BAD_INTEGRITY, None);
    };
    let (rodc_number, version) = ((kvno >> 16) as u16, (kvno & 0xFFFF) as u16);
    // The key: the domain's krbtgt for its own tickets, an RODC's for one
    // whose number the version carries.
    let rodc = kdc.read_only.iter().find(|r| r.number == rodc_number);
    let Some(issuer) = checks.check(
        "The ticket's issuer is known",
        format!(
            "key version 0x{kvno:08X}: RODC number {rodc_number} in its upper 16 bits, against the read-only domain controllers whose krbtgt accounts this domain holds"
        ),
        "MS-KILE 3.1.5.8 (RODC key version numbers); MS-ADTS 3.1.1.8.1 (msDS-SecondaryKrbTgtNumber)",
        match rodc {
            _ if rodc_number == 0 => Err(
                "the ticket is the domain's own TGT, not one from a read-only domain controller: nothing to exchange".to_string(),
            ),
            Some(r) => Ok(r.clone()),
            None => Err(format!(
                "no read-only domain controller has the number {rodc_number}: the Microsoft Entra Kerberos server object that made this ticket is not in this domain"
            )),
        },
    ) else {
        let code = if rodc_number == 0 {
            error_code::MODIFIED
        } else {
            code::S_PRINCIPAL_UNKNOWN
        };
        return refuse(checks, code, None);
    };
    if checks
        .check(
            "The key version is current",
            format!(
                "version {version} of {}'s key against the version {} Active Directory holds",
                issuer.krbtgt_account, issuer.version
            ),
            "RFC 4120 §5.5.1; KRB_AP_ERR_BAD_INTEGRITY as a Windows KDC answers a ticket under a key it does not hold (impacket's reports; Samba's KDC says KRB_AP_ERR_BADKEYVER)",
            if version == issuer.version {
                Ok(())
            } else {
                Err(format!(
                    "the ticket was made with version {version} of {}'s key, and Active Directory holds version {}: the key changed in AD without the server object's other holder (Entra ID) learning it",
                    issuer.krbtgt_account, issuer.version
                ))
            },
        )
        .is_none()
    {
        return refuse(checks, code::BAD_INTEGRITY, None);
    }
    let Some(part) = checks.check(
        "The ticket opens with the RODC's key",
        format!(
            "EncTicketPart decrypted with {}'s key (key usage 2), its integrity checked",
            issuer.krbtgt_account
        ),
        "RFC 3961 §5.3; RFC 4120 §5.3",
        same_etype(&presented.enc_part.0, &issuer.key)
            .and_then(|_| {
                issuer
                    .key
                    .decrypt(usage::TICKET, presented.enc_part.0.cipher.0.as_bytes())
                    .map_err(|e| e.to_string())
            })
            .and_then(|plain| {
                EncTicketPart::from_der(&plain)
                    .map(|p| p.0)
                    .map_err(|e| format!("EncTicketPart does not decode: {e}"))
            }),
    ) else {
        return refuse(checks, code::BAD_INTEGRITY, None);
    };
    let cname = part.cname.0.clone();
    let endtime = sim(&part.endtime.0);
    if checks
        .check(
            "The ticket is valid now",
            format!("its end time {endtime} against the KDC's {now}"),
            "RFC 4120 §5.3 (KRB_AP_ERR_TKT_EXPIRED)",
            if now <= endtime {
                Ok(())
            } else {
                Err(format!("the ticket ended at {endtime}"))
            },
        )
        .is_none()
    {
        return refuse(checks, code::TKT_EXPIRED, Some(cname));
    }
    let session = part.key.0.key();
    let Some((session, authenticator)) = checks.check(
        "The authenticator opens with the session key",
        "the authenticator decrypted with the ticket's session key (key usage 7)",
        "RFC 4120 §3.2.3, §5.5.1",
        session.and_then(|key| {
            same_etype(&ap_req.authenticator.0, &key)?;
            let plain = key
                .decrypt(
                    usage::TGS_REQ_AUTH,
                    ap_req.authenticator.0.cipher.0.as_bytes(),
                )
                .map_err(|e| e.to_string())?;
            let a = Authenticator::from_der(&plain)
                .map_err(|e| format!("the authenticator does not decode: {e}"))?
                .0;
            Ok((key, a))
        }),
    ) else {
        return refuse(checks, code::BAD_INTEGRITY, Some(cname));
    };
    if checks
        .check(
            "The authenticator is the ticket's client's",
            "the authenticator's cname and crealm against the ticket's",
            "RFC 4120 §3.2.3 (KRB_AP_ERR_BADMATCH)",
            if authenticator.cname.0 == part.cname.0
                && authenticator
                    .crealm
                    .0
                    .as_str()
                    .eq_ignore_ascii_case(part.crealm.0.as_str())
            {
                Ok(())
            } else {
                Err(format!(
                    "the authenticator names {}, the ticket {}",
                    authenticator.cname.0.display(),
                    part.cname.0.display()
                ))
            },
        )
        .is_none()
    {
        return refuse(checks, code::BADMATCH, Some(cname));
    }
    let ctime = sim(&authenticator.ctime.0);
    if !clock_within_skew(&mut checks, "the authenticator's time", ctime, now) {
        return refuse(checks, error_code::SKEW, Some(cname));
    }
    let body_der = req.req_body.0.to_der().map_err(der_err("KDC-REQ-BODY"))?;
    if checks
        .check(
            "Request checksum",
            "the authenticator's checksum against the request body that arrived, keyed with the session key (key usage 6)",
            "RFC 4120 §5.5.1, §7.5.1",
            match &authenticator.cksum {
                None => Err("the authenticator has no checksum".to_string()),
                Some(c) if c.0.cksumtype.0 != session.checksum_type() => Err(format!(
                    "the checksum is of type {}, not {} (HMAC-SHA1-96 with the session key's AES)",
                    c.0.cksumtype.0,
                    session.checksum_type()
                )),
                Some(c) if c.0.checksum.0.as_bytes() == session.checksum(usage::TGS_REQ_AUTH_CKSUM, &body_der) => Ok(()),
                Some(_) => Err("the checksum is not of this request body: the body changed after the client sent it".into()),
            },
        )
        .is_none()
    {
        let inappropriate = authenticator
            .cksum
            .as_ref()
            .is_some_and(|c| c.0.cksumtype.0 != session.checksum_type());
        let code = if inappropriate {
            code::INAPP_CKSUM
        } else {
            error_code::MODIFIED
        };
        return refuse(checks, code, Some(cname));
    }
    let pac_bytes = part
        .authorization_data
        .as_ref()
        .and_then(|ad| find_pac(&ad.0));
    let signer = Signer {
        key: &issuer.key,
        rodc: Some(issuer.number),
    };
    let Some(identity) = checks.check(
        "The PAC is the RODC's",
        "AD-WIN2K-PAC in AD-IF-RELEVANT: its server and KDC signatures with the RODC's key, the KDC signature naming the RODC; the user's SID from UPN_DNS_INFO",
        "MS-PAC 2.8, 2.10; MS-KILE 3.3.5.6.3",
        pac_bytes
            .ok_or_else(|| "the ticket carries no PAC".to_string())
            .and_then(|pac| pac::read(&pac, Signer { rodc: None, ..signer }, signer)),
    ) else {
        return refuse(checks, error_code::MODIFIED, Some(cname));
    };
    let authtime = sim(&part.authtime.0);
    if checks
        .check(
            "The PAC is this ticket's",
            format!(
                "the PAC's client {} and time {} against the ticket's cname {} and authtime {authtime}",
                identity.sam_account_name,
                identity.authtime,
                part.cname.0.display()
            ),
            "MS-PAC 2.7 (PAC_CLIENT_INFO); KDC_ERR_TGT_REVOKED as Samba's KDC answers a PAC that does not match its ticket",
            if !part.cname.0.display().eq_ignore_ascii_case(&identity.sam_account_name) {
                Err(format!(
                    "the PAC names {}, the ticket {}",
                    identity.sam_account_name,
                    part.cname.0.display()
                ))
            } else if identity.authtime.unix_seconds() != authtime.unix_seconds() {
                Err(format!(
                    "the PAC's time is {}, the ticket's authtime {authtime}",
                    identity.authtime
                ))
            } else {
                Ok(())
            },
        )
        .is_none()
    {
        return refuse(checks, code::TGT_REVOKED, Some(cname));
    }
    let Some(account) = checks.check(
        "Account found by SID",
        format!(
            "the PAC's SID {} against the domain's objectSid values",
            identity.sid
        ),
        "MS-KILE 3.3.5.7 (the KDC rebuilds the PAC from the account)",
        kdc.accounts
            .iter()
            .find(|a| a.sid == identity.sid)
            .cloned()
            .ok_or_else(|| format!("no account has the SID {}", identity.sid)),
    ) else {
        return refuse(checks, error_code::C_PRINCIPAL_UNKNOWN, Some(cname));
    };
    if checks
        .check(
            "The RODC may vouch for the user",
            format!(
                "{}'s password replication policy for {}: not in the Denied RODC Password Replication Group (msDS-NeverRevealGroup)",
                issuer.name, account.sam_account_name
            ),
            "MS-ADTS 3.1.1.8.1 (RODC password replication policy); KDC_ERR_TGT_REVOKED as Samba's KDC answers (source4/kdc/pac-glue.c); Microsoft's cloud Kerberos trust documentation (privileged accounts)",
            if account.denied_by_rodc_policy {
                Err(format!(
                    "{} is in Domain Admins, which the Denied RODC Password Replication Group holds: a ticket from {} cannot stand for this account",
                    account.sam_account_name, issuer.name
                ))
            } else {
                Ok(())
            },
        )
        .is_none()
    {
        return refuse(checks, code::TGT_REVOKED, Some(cname));
    }
    // The full TGT, from what the directory holds.
    let etype = first_aes(&req.req_body.0);
    let new_session = Key::new(etype, &secrets.session_key[..etype.key_len()])
        .map_err(|e| Error::Crypto(e.to_string()))?;
    // The new ticket keeps the presented one's authtime (RFC 4120 §3.3.3).
    let full = Identity {
        sam_account_name: account.sam_account_name.clone(),
        upn: account.upn.clone(),
        dns_domain: kdc.realm.to_string(),
        sid: account.sid.clone(),
        authtime,
    };
    let new_ticket = ticket(&TicketSpec {
        realm: kdc.realm,
        identity: &full,
        session_key: &new_session,
        starttime: now,
        krbtgt: kdc.krbtgt,
        kvno: kdc.krbtgt_kvno,
        rodc: None,
        confounder: secrets.ticket_confounder,
    })?;
    let crealm = realm_string(kdc.realm)?;
    let client = PrincipalName::new(name_type::PRINCIPAL, &[&account.sam_account_name])
        .map_err(der_err("cname"))?;
    let enc: EncTgsRepPart = Application(EncKdcRepPart {
        key: Explicit(EncryptionKey {
            keytype: Explicit(etype.number()),
            keyvalue: Explicit(octets(new_session.bytes().to_vec())?),
        }),
        last_req: Explicit(vec![LastReqEntry {
            lr_type: Explicit(0),
            lr_value: Explicit(time(now)?),
        }]),
        nonce: Explicit(req.req_body.0.nonce.0),
        key_expiration: None,
        flags: Explicit(ticket_flags()?),
        authtime: Explicit(time(authtime)?),
        starttime: Some(Explicit(time(now)?)),
        endtime: Explicit(time(now.plus(TICKET_LIFETIME))?),
        renew_till: Some(Explicit(time(now.plus(RENEW_LIFETIME))?)),
        srealm: Explicit(crealm.clone()),
        sname: Explicit(krbtgt(kdc.realm)?),
    });
    let rep: TgsRep = Application(KdcRep {
        pvno: Explicit(PVNO),
        msg_type: Explicit(msg_type::TGS_REP),
        padata: None,
        crealm: Explicit(crealm),
        cname: Explicit(client),
        ticket: Explicit(Ticket::from_der(&new_ticket).map_err(der_err("Ticket"))?),
        enc_part: Explicit(EncryptedData {
            etype: Explicit(session.etype().number()),
            kvno: None,
            cipher: Explicit(octets(session.encrypt(
                usage::TGS_REP_ENC_PART,
                secrets.reply_confounder,
                &enc.to_der().map_err(der_err("EncTGSRepPart"))?,
            ))?),
        }),
    });
    Ok(KdcAnswer {
        checks: checks.into_vec(),
        reply: rep.to_der().map_err(der_err("TGS-REP"))?,
        error: None,
    })
}

/// The encryption type an EncryptedData names must be its key's.
fn same_etype(data: &EncryptedData, key: &Key) -> std::result::Result<(), String> {
    if data.etype.0 == key.etype().number() {
        Ok(())
    } else {
        Err(format!(
            "it says etype {}, but its key is {} ({})",
            data.etype.0,
            key.etype().name(),
            key.etype().number()
        ))
    }
}

/// The PAC in a ticket's authorization data: AD-WIN2K-PAC inside
/// AD-IF-RELEVANT (MS-KILE 3.3.5.6.3).
fn find_pac(entries: &[AuthorizationDataEntry]) -> Option<Vec<u8>> {
    entries
        .iter()
        .filter(|e| e.ad_type.0 == ad_type::IF_RELEVANT)
        .filter_map(|e| Vec::<AuthorizationDataEntry>::from_der(e.ad_data.0.as_bytes()).ok())
        .flatten()
        .find(|e| e.ad_type.0 == ad_type::WIN2K_PAC)
        .map(|e| e.ad_data.0.as_bytes().to_vec())
}

/// What the client has once the TGS-REP opened.
#[derive(Clone, Debug)]
pub struct FullTgt {
    pub ticket: Vec<u8>,
    pub session_key: Key,
    pub endtime: SimTime,
}

/// The client's checks of the reply (RFC 4120 §3.3.4): a KRB-ERROR is a
/// refusal with its code and text; a TGS-REP must open with the session
/// key of the ticket it presented (key usage 8), repeat the request's
/// nonce and name this realm's krbtgt.
pub fn open_tgs_rep(
    reply: &[u8],
    session_key: &Key,
    nonce: u32,
    realm: &str,
    by: Actor,
) -> (Vec<Check>, Option<FullTgt>) {
    let mut checks = Checks::new(by);
    let tgt = open(reply, session_key, nonce, realm, &mut checks);
    (checks.into_vec(), tgt)
}

fn open(
    reply: &[u8],
    session_key: &Key,
    nonce: u32,
    realm: &str,
    checks: &mut Checks,
) -> Option<FullTgt> {
    if refused(reply, "a TGS-REP", checks) {
        return None;
    }
    let rep = checks.check(
        "Reply is a TGS-REP",
        "[APPLICATION 13] KDC-REP, pvno 5, msg-type 13",
        "RFC 4120 §5.4.2",
        TgsRep::from_der(reply)
            .map_err(|e| format!("the reply does not decode: {e}"))
            .and_then(|r| {
                if r.0.pvno.0 == PVNO && r.0.msg_type.0 == msg_type::TGS_REP {
                    Ok(r.0)
                } else {
                    Err(format!(
                        "pvno {} and msg-type {}, not 5 and 13",
                        r.0.pvno.0, r.0.msg_type.0
                    ))
                }
            }),
    )?;
    let part = checks.check(
        "Reply opens with the partial ticket's session key",
        "the encrypted part decrypted with the session key that came with the partial TGT (key usage 8)",
        "RFC 4120 §3.3.4, §7.5.1",
        session_key
            .decrypt(usage::TGS_REP_ENC_PART, rep.enc_part.0.cipher.0.as_bytes())
            .map_err(|e| e.to_string())
            .and_then(|plain| {
                EncTgsRepPart::from_der(&plain)
                    .map(|p| p.0)
                    .map_err(|e| format!("EncTGSRepPart does not decode: {e}"))
            }),
    )?;
    checks.check(
        "Reply nonce and service",
        format!("the encrypted part's nonce against the request's, its service krbtgt/{realm}"),
        "RFC 4120 §3.3.4",
        if part.nonce.0 != nonce {
            Err(format!("the nonce is {}, not {nonce}", part.nonce.0))
        } else if !part
            .sname
            .0
            .display()
            .eq_ignore_ascii_case(&format!("krbtgt/{realm}"))
        {
            Err(format!("the ticket is for {}", part.sname.0.display()))
        } else {
            Ok(())
        },
    )?;
    let session_key = checks.check(
        "Session key",
        "an AES key of its type's length",
        "RFC 4120 §5.2.9",
        part.key.0.key(),
    )?;
    let ticket = checks.check(
        "The ticket is kept",
        "the new TGT, as it arrived",
        "RFC 4120 §5.3",
        rep.ticket.0.to_der().map_err(|e| e.to_string()),
    )?;
    Some(FullTgt {
        ticket,
        session_key,
        endtime: sim(&part.endtime.0),
    })
}

/// A ticket's encrypted part opened with `key`, and its PAC's identity
/// checked under the same key: what a test or a keytab holder reads.
pub fn open_ticket_identity(
    ticket: &[u8],
    key: &Key,
    rodc: Option<u16>,
) -> std::result::Result<Identity, String> {
    let part = super::pkinit::open_ticket(ticket, key)?;
    let pac = part
        .authorization_data
        .as_ref()
        .and_then(|ad| find_pac(&ad.0))
        .ok_or_else(|| "the ticket carries no PAC".to_string())?;
    let signer = Signer { key, rodc };
    pac::read(
        &pac,
        Signer {
            rodc: None,
            ..signer
        },
        signer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::Outcome;

    fn key(b: u8) -> Key {
        Key::new(Etype::Aes256CtsHmacSha196, &[b; 32]).unwrap()
    }

    struct Setup {
        rodc: ReadOnlyKdc,
        krbtgt: Key,
        accounts: Vec<Account>,
        identity: Identity,
        session: Key,
        now: SimTime,
    }

    fn setup() -> Setup {
        let now = SimTime::from_unix_seconds(1_750_000_000);
        let identity = Identity {
            sam_account_name: "alice".into(),
            upn: "alice@contoso.com".into(),
            dns_domain: "CONTOSO.COM".into(),
            sid: "S-1-5-21-1-2-3-1105".into(),
            authtime: now,
        };
        Setup {
            rodc: ReadOnlyKdc {
                name: "AzureADKerberos".into(),
                krbtgt_account: "krbtgt_AzureAD".into(),
                number: 0x4B2A,
                key: key(1),
                version: 1,
            },
            krbtgt: key(2),
            accounts: vec![Account {
                sam_account_name: "alice".into(),
                upn: "alice@contoso.com".into(),
                sid: identity.sid.clone(),
                denied_by_rodc_policy: false,
            }],
            identity,
            session: key(3),
            now,
        }
    }

    const SECRETS: Secrets = Secrets {
        session_key: [6; 32],
        ticket_confounder: [7; 16],
        reply_confounder: [8; 16],
    };

    impl Setup {
        /// The partial TGT's spec, under `key` as RODC `number`'s.
        fn spec<'a>(&'a self, key: &'a Key, number: u16) -> TicketSpec<'a> {
            TicketSpec {
                realm: "CONTOSO.COM",
                identity: &self.identity,
                session_key: &self.session,
                starttime: self.now,
                krbtgt: key,
                kvno: rodc_kvno(number, 1),
                rodc: Some(number),
                confounder: [4; 16],
            }
        }

        /// The TGS-REQ presenting a partial TGT under `key` as RODC `number`'s.
        fn request(&self, key: &Key, number: u16, ctime: SimTime) -> Vec<u8> {
            let partial = ticket(&self.spec(key, number)).unwrap();
            tgs_req(&Request {
                realm: "CONTOSO.COM",
                sam_account_name: "alice",
                ticket: &partial,
                session_key: &self.session,
                ctime,
                nonce: 77,
                confounder: [5; 16],
            })
            .unwrap()
        }

        fn kdc(&self) -> Kdc<'_> {
            Kdc {
                realm: "CONTOSO.COM",
                krbtgt: &self.krbtgt,
                krbtgt_kvno: 2,
                read_only: std::slice::from_ref(&self.rodc),
                accounts: &self.accounts,
            }
        }
    }

    fn exchange(s: &Setup, ctime: SimTime) -> (KdcAnswer, Vec<Check>, Option<FullTgt>) {
        let req = s.request(&s.rodc.key, s.rodc.number, ctime);
        let answer = kdc_answer(&s.kdc(), &req, s.now, SECRETS).unwrap();
        let (checks, tgt) = open_tgs_rep(
            &answer.reply,
            &s.session,
            77,
            "CONTOSO.COM",
            Actor::Kerberos,
        );
        (answer, checks, tgt)
    }

    #[test]
    fn a_partial_tgt_becomes_a_full_one_under_the_domain_key() {
        let s = setup();
        let (answer, checks, tgt) = exchange(&s, s.now);
        assert_eq!(answer.error, None, "{:?}", answer.checks);
        assert!(checks.iter().all(|c| c.outcome == Outcome::Pass));
        let tgt = tgt.unwrap();
        // The full TGT opens with the domain's krbtgt key, not the RODC's,
        // and its PAC names the account.
        let who = open_ticket_identity(&tgt.ticket, &s.krbtgt, None).unwrap();
        assert_eq!(who.sid, s.identity.sid);
        assert!(open_ticket_identity(&tgt.ticket, &s.rodc.key, None).is_err());
    }

    #[test]
    fn each_fault_is_refused_with_its_code() {
        let s = setup();
        let (answer, _, _) = exchange(&s, s.now.plus(crate::clock::SimDuration::minutes(6)));
        assert_eq!(answer.error, Some(error_code::SKEW));
        let mut rotated = setup();
        rotated.rodc.version = 2;
        rotated.rodc.key = key(9);
        assert_eq!(
            exchange(&rotated, rotated.now).0.error,
            Some(code::BAD_INTEGRITY)
        );
        let mut gone = setup();
        let number = gone.rodc.number;
        gone.rodc.number = number + 1;
        // The ticket names an RODC the domain does not have.
        let req = gone.request(&key(1), number, gone.now);
        assert_eq!(
            kdc_answer(&gone.kdc(), &req, gone.now, SECRETS)
                .unwrap()
                .error,
            Some(code::S_PRINCIPAL_UNKNOWN)
        );
        let mut admin = setup();
        admin.accounts[0].denied_by_rodc_policy = true;
        let (answer, checks, tgt) = exchange(&admin, admin.now);
        assert_eq!(answer.error, Some(code::TGT_REVOKED));
        assert!(tgt.is_none());
        assert!(format!("{checks:?}").contains("Denied RODC"));
    }

    #[test]
    fn damaged_messages_are_refused_never_a_panic() {
        let s = setup();
        let req = s.request(&s.rodc.key, s.rodc.number, s.now);
        let kdc = s.kdc();
        let secrets = SECRETS;
        let good = kdc_answer(&kdc, &req, s.now, secrets).unwrap();
        assert_eq!(good.error, None);
        let view = crate::kerberos::view::fields(&req).unwrap();
        fn find(fields: &[crate::artifact::Field], name: &str) -> Option<std::ops::Range<usize>> {
            fields.iter().find_map(|f| {
                if f.name.starts_with(name) {
                    Some(f.range())
                } else {
                    find(&f.children, name)
                }
            })
        }
        let options = find(&view, "ap-options").unwrap();
        // RFC 4120 §6.2: a name type is a hint; names compare without it.
        let hint = find(&view, "name-type").unwrap();
        let handed = as_rep(&s.spec(&s.rodc.key, s.rodc.number), &key(9), [3; 16]).unwrap();
        assert!(open_handed_as_rep(&handed, &key(9), "CONTOSO.COM").is_ok());
        // Every truncation and every single-bit flip of each message: a
        // refusal or a KRB-ERROR, never a panic, and never a TGT from a
        // changed request.
        let mut damaged: Vec<(usize, Vec<u8>)> = Vec::new();
        for (which, bytes) in [(0, &req), (1, &good.reply), (2, &handed)] {
            for n in 0..bytes.len() {
                damaged.push((which, bytes[..n].to_vec()));
                let mut flipped = bytes.clone();
                flipped[n] ^= 1 << (n % 8);
                damaged.push((which, flipped));
            }
        }
        for (which, bytes) in damaged {
            let _ = crate::kerberos::view::fields(&bytes);
            match which {
                0 => {
                    let answer = kdc_answer(&kdc, &bytes, s.now, secrets);
                    // Flips inside an encrypted part or a checksum are
                    // caught; only DER-level no-ops could pass, and the
                    // der crate accepts none.
                    // Only the AP-REQ's ap-options, which nothing protects
                    // (RFC 4120 §5.5.1), the ticket's sname name type (a
                    // hint) and the letter case of a realm (a Windows KDC
                    // compares realms without it) may change without a
                    // refusal.
                    if let Ok(a) = answer {
                        let at = bytes.iter().zip(req.iter()).position(|(a, b)| a != b);
                        let harmless = at.is_some_and(|at| {
                            options.contains(&at)
                                || hint.contains(&at)
                                || (bytes[at] != req[at]
                                    && bytes[at].eq_ignore_ascii_case(&req[at]))
                        });
                        assert!(
                            a.error.is_some() || bytes == req || harmless,
                            "a change at byte {at:?} was accepted"
                        );
                    }
                }
                1 => {
                    let (_, tgt) =
                        open_tgs_rep(&bytes, &s.session, 77, "CONTOSO.COM", Actor::Kerberos);
                    let _ = tgt;
                }
                _ => {
                    let _ = open_handed_as_rep(&bytes, &key(9), "CONTOSO.COM");
                }
            }
        }
    }
}
