//! The inspector's view of a Kerberos message: the DER tree of
//! [`crate::pki::der_fields`], each element named as RFC 4120 §5 (and RFC
//! 4556, MS-KILE) names it, with numbers read out (message types,
//! pre-authentication types, name types, encryption types, error codes).
//!
//! The structure comes from the bytes; the names come from the schema of
//! the enclosing type, one table per SEQUENCE below. An element the
//! schema does not name keeps its ASN.1 type.

use super::pkinit::error_code;
use super::tgs::code;
use crate::artifact::Field;
use crate::error::Result;

const RFC4120: &str = "RFC 4120 §5";

/// The types whose fields the view names.
#[derive(Clone, Copy, Debug)]
enum K {
    KdcReq,
    KdcReqBody,
    KdcRep,
    KrbError,
    Ticket,
    ApReq,
    PaData,
    PrincipalName,
    EncryptedData,
    /// A value read as it is, with a number named by `Num`.
    Value(Num),
    /// SEQUENCE OF something.
    SeqOf(&'static K),
    /// An OCTET STRING holding DER of its own (a padata-value), shown
    /// decoded beneath it.
    Nested,
}

/// How an INTEGER is named.
#[derive(Clone, Copy, Debug)]
enum Num {
    Plain,
    MsgType,
    PaType,
    NameType,
    Etype,
    ErrorCode,
}

/// The fields of a SEQUENCE type: its context tag, name, type and note.
fn schema(k: K) -> &'static [(u8, &'static str, K, &'static str)] {
    use Num::*;
    use K::*;
    match k {
        KdcReq => &[
            (1, "pvno", Value(Plain), "Protocol version: 5."),
            (2, "msg-type", Value(MsgType), "10 for an AS-REQ, 12 for a TGS-REQ."),
            (3, "padata", SeqOf(&PaData), "Pre-authentication data: proof of who asks (PKINIT's signed AuthPack) or the ticket presented (PA-TGS-REQ)."),
            (4, "req-body", KdcReqBody, "What is asked for; a checksum of these bytes binds them to the pre-authentication."),
        ],
        KdcReqBody => &[
            (0, "kdc-options", Value(Plain), "Flags: forwardable, renewable, canonicalize..."),
            (1, "cname", PrincipalName, "The client's name (AS-REQ only)."),
            (2, "realm", Value(Plain), "The realm asked: the domain in capitals."),
            (3, "sname", PrincipalName, "The service: krbtgt/REALM for a TGT."),
            (4, "from", Value(Plain), "Start time asked."),
            (5, "till", Value(Plain), "End time asked; 20370913024805Z means no limit."),
            (6, "rtime", Value(Plain), "Renew-until time asked."),
            (7, "nonce", Value(Plain), "A fresh number the encrypted reply must repeat."),
            (8, "etype", SeqOf(&Value(Etype)), "Encryption types the client accepts, preferred first."),
        ],
        KdcRep => &[
            (0, "pvno", Value(Plain), "Protocol version: 5."),
            (1, "msg-type", Value(MsgType), "11 for an AS-REP, 13 for a TGS-REP."),
            (2, "padata", SeqOf(&PaData), "Pre-authentication data of the reply (PKINIT's signed Diffie-Hellman value)."),
            (3, "crealm", Value(Plain), "The client's realm."),
            (4, "cname", PrincipalName, "The client's name, as the KDC canonicalised it."),
            (5, "ticket", Ticket, "The ticket: opaque to the client, encrypted for the service."),
            (6, "enc-part", EncryptedData, "The client's part: the session key, the nonce and the times, encrypted for the client."),
        ],
        KrbError => &[
            (0, "pvno", Value(Plain), "Protocol version: 5."),
            (1, "msg-type", Value(MsgType), "30: an error."),
            (2, "ctime", Value(Plain), "The client's time, when known."),
            (3, "cusec", Value(Plain), "Microseconds of ctime."),
            (4, "stime", Value(Plain), "The KDC's time."),
            (5, "susec", Value(Plain), "Microseconds of stime."),
            (6, "error-code", Value(ErrorCode), "Why the KDC refused."),
            (7, "crealm", Value(Plain), "The client's realm."),
            (8, "cname", PrincipalName, "The client's name."),
            (9, "realm", Value(Plain), "The service's realm."),
            (10, "sname", PrincipalName, "The service asked."),
            (11, "e-text", Value(Plain), "The KDC's reason, in words."),
            (12, "e-data", Value(Plain), "Further error data."),
        ],
        Ticket => &[
            (0, "tkt-vno", Value(Plain), "Ticket format version: 5."),
            (1, "realm", Value(Plain), "The service's realm."),
            (2, "sname", PrincipalName, "The service the ticket is for."),
            (3, "enc-part", EncryptedData, "EncTicketPart, encrypted with the service's key (for a TGT, a krbtgt key): the client cannot read it."),
        ],
        ApReq => &[
            (0, "pvno", Value(Plain), "Protocol version: 5."),
            (1, "msg-type", Value(MsgType), "14: an AP-REQ."),
            (2, "ap-options", Value(Plain), "Flags."),
            (3, "ticket", Ticket, "The ticket presented."),
            (4, "authenticator", EncryptedData, "The client's time and a checksum of the request, encrypted with the ticket's session key: proof that the presenter holds it."),
        ],
        PaData => &[
            (1, "padata-type", Value(PaType), "Which pre-authentication."),
            (2, "padata-value", Nested, "Its value, DER of its own type, decoded beneath."),
        ],
        PrincipalName => &[
            (0, "name-type", Value(NameType), "How to read the name."),
            (1, "name-string", SeqOf(&Value(Plain)), "The name's components."),
        ],
        EncryptedData => &[
            (0, "etype", Value(Etype), "The encryption type."),
            (1, "kvno", Value(Plain), "The key's version number (for an RODC's key, its number in the upper 16 bits)."),
            (2, "cipher", Value(Plain), "Confounder and plaintext encrypted (CBC with ciphertext stealing), followed by an HMAC-SHA1-96 of them (RFC 3961 §5.3)."),
        ],
        Value(_) | SeqOf(_) | Nested => &[],
    }
}

/// The readable name of a number of kind `num`.
fn number_name(num: Num, n: i64) -> Option<String> {
    let name = match num {
        Num::Plain => return None,
        Num::MsgType => match n {
            10 => "AS-REQ",
            11 => "AS-REP",
            12 => "TGS-REQ",
            13 => "TGS-REP",
            14 => "AP-REQ",
            30 => "KRB-ERROR",
            _ => return None,
        },
        Num::PaType => match n {
            1 => "PA-TGS-REQ",
            16 => "PA-PK-AS-REQ",
            17 => "PA-PK-AS-REP",
            128 => "PA-PAC-REQUEST",
            161 => "KERB-KEY-LIST-REQ",
            _ => return None,
        },
        Num::NameType => match n {
            1 => "NT-PRINCIPAL",
            2 => "NT-SRV-INST",
            10 => "NT-ENTERPRISE",
            _ => return None,
        },
        Num::Etype => match n {
            17 => "aes128-cts-hmac-sha1-96",
            18 => "aes256-cts-hmac-sha1-96",
            23 => "rc4-hmac",
            _ => return None,
        },
        Num::ErrorCode => {
            let i = i32::try_from(n).ok()?;
            let name = code::name(i);
            if name == error_code::name(-1) {
                return None;
            }
            return Some(format!("{n} ({name})"));
        }
    };
    Some(format!("{n} ({name})"))
}

/// What the generic view says of an element it does not interpret.
const GENERIC: &str = "An element this view does not interpret, shown by its ASN.1 type.";

/// The ASN.1 name and a line about an element of kind `k`.
fn describe(k: K) -> (&'static str, &'static str) {
    match k {
        K::KdcReq => (
            "KDC-REQ",
            "The request: version, type, pre-authentication and body.",
        ),
        K::KdcReqBody => (
            "KDC-REQ-BODY",
            "What is asked for: options, names, times, a nonce and encryption types.",
        ),
        K::KdcRep => (
            "KDC-REP",
            "The reply: the client's name, the ticket and the client's encrypted part.",
        ),
        K::KrbError => (
            "KRB-ERROR",
            "The refusal: the error code and the KDC's reason.",
        ),
        K::Ticket => (
            "Ticket",
            "A ticket: realm, service and the encrypted part only the service can open.",
        ),
        K::ApReq => ("AP-REQ", "A ticket presented with an authenticator."),
        K::PaData => (
            "PA-DATA",
            "One piece of pre-authentication data: its type and its value.",
        ),
        K::PrincipalName => ("PrincipalName", "A name: its type and its components."),
        K::EncryptedData => (
            "EncryptedData",
            "An encryption type, the key's version and the cipher text.",
        ),
        K::SeqOf(_) => ("SEQUENCE OF", "The items, in order."),
        K::Value(_) | K::Nested => ("", "The field's value."),
    }
}

/// Gives a SEQUENCE or value of kind `k` its ASN.1 name and note, where the
/// generic view had only its type.
fn label(field: &mut Field, k: K) {
    if field.note != GENERIC {
        return;
    }
    let (name, note) = describe(k);
    if !name.is_empty() && field.name == "SEQUENCE" {
        field.name = name.into();
    }
    field.note = note.into();
}

/// The context tag number of a field the generic view named `[n]`.
fn context_tag(field: &Field) -> Option<u8> {
    field
        .name
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The APPLICATION tag number of a field named `[APPLICATION n]`.
fn application_tag(field: &Field) -> Option<u8> {
    field
        .name
        .strip_prefix("[APPLICATION ")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Names a message by its APPLICATION tag and its fields by the schema.
fn message(der: &[u8], field: &mut Field, depth: usize) {
    let (name, k, spec) = match application_tag(field) {
        Some(1) => ("Ticket", K::Ticket, "RFC 4120 §5.3"),
        Some(10) => ("AS-REQ", K::KdcReq, "RFC 4120 §5.4.1"),
        Some(11) => ("AS-REP", K::KdcRep, "RFC 4120 §5.4.2"),
        Some(12) => ("TGS-REQ", K::KdcReq, "RFC 4120 §5.4.1"),
        Some(13) => ("TGS-REP", K::KdcRep, "RFC 4120 §5.4.2"),
        Some(14) => ("AP-REQ", K::ApReq, "RFC 4120 §5.5.1"),
        Some(30) => ("KRB-ERROR", K::KrbError, "RFC 4120 §5.9.1"),
        _ => return,
    };
    field.name = format!(
        "{name} [APPLICATION {}]",
        application_tag(field).unwrap_or(0)
    );
    field.spec = spec.into();
    field.note = format!("A Kerberos {name}, its fields below as the RFC names them.");
    if let Some(seq) = field.children.first_mut() {
        label(seq, k);
        structure(der, seq, k, depth);
    }
}

/// Names the children of the SEQUENCE `field` as type `k` has them.
fn structure(der: &[u8], field: &mut Field, k: K, depth: usize) {
    let table = schema(k);
    for child in &mut field.children {
        let Some(n) = context_tag(child) else {
            continue;
        };
        let Some(&(_, name, inner, note)) = table.iter().find(|(t, ..)| *t == n) else {
            continue;
        };
        child.name = format!("{name} [{n}]");
        child.note = note.into();
        child.spec = RFC4120.into();
        if let Some(value) = child.children.first_mut() {
            typed(der, value, inner, depth);
            if value.children.is_empty() || matches!(inner, K::PrincipalName | K::SeqOf(_)) {
                child.value = value.value.clone();
            }
        }
    }
}

/// Reads `field` as type `k`.
fn typed(der: &[u8], field: &mut Field, k: K, depth: usize) {
    if !matches!(k, K::Ticket) {
        label(field, k);
    }
    match k {
        K::Value(num) => {
            if let Some(named) = field
                .value
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| number_name(num, n))
            {
                field.value = named;
            }
        }
        K::SeqOf(inner) => {
            for item in &mut field.children {
                typed(der, item, *inner, depth);
            }
            let values: Vec<&str> = field
                .children
                .iter()
                .filter(|c| c.children.is_empty())
                .map(|c| c.value.as_str())
                .collect();
            if !values.is_empty() && values.len() == field.children.len() {
                field.value = values.join(", ");
            }
        }
        K::Ticket => message(der, field, depth),
        K::Nested => {
            // The value's own DER, named where it is a Kerberos message
            // (PA-TGS-REQ's AP-REQ), by its ASN.1 types otherwise.
            let Some(inner) = der
                .get(field.offset..field.offset + field.len)
                .and_then(content)
            else {
                return;
            };
            if depth >= 4 {
                return;
            }
            let at = field.offset + field.len - inner.len();
            if let Ok(mut tree) = crate::pki::der_fields(inner) {
                for top in &mut tree {
                    message(inner, top, depth + 1);
                }
                field.children = tree.into_iter().map(|f| f.shifted(at)).collect();
            }
        }
        other => {
            structure(der, field, other, depth);
            if let K::PrincipalName = other {
                // name-string's components, joined with "/".
                if let Some(parts) = field
                    .children
                    .iter()
                    .find(|c| c.name.starts_with("name-string"))
                    .map(|c| c.value.replace(", ", "/"))
                {
                    field.value = parts;
                }
            }
        }
    }
}

/// The contents of a DER OCTET STRING (tag 0x04, definite length).
fn content(tlv: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = tlv.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() == len).then_some(rest)
}

/// The named field tree of the Kerberos message `der`.
pub fn fields(der: &[u8]) -> Result<Vec<Field>> {
    let mut tree = crate::pki::der_fields(der)?;
    for top in &mut tree {
        message(der, top, 0);
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimTime;
    use crate::kerberos::crypto::{Etype, Key};
    use crate::kerberos::pac::Identity;
    use crate::kerberos::tgs;

    fn find<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
        fields.iter().find_map(|f| {
            if f.name.starts_with(name) {
                Some(f)
            } else {
                find(&f.children, name)
            }
        })
    }

    #[test]
    fn a_tgs_req_reads_with_the_rfc_s_names() {
        let key = Key::new(Etype::Aes256CtsHmacSha196, &[1; 32]).unwrap();
        let now = SimTime::from_unix_seconds(1_750_000_000);
        let identity = Identity {
            sam_account_name: "alice".into(),
            upn: "alice@contoso.com".into(),
            dns_domain: "CONTOSO.COM".into(),
            sid: "S-1-5-21-1-2-3-1105".into(),
            authtime: now,
        };
        let ticket = tgs::ticket(&tgs::TicketSpec {
            realm: "CONTOSO.COM",
            identity: &identity,
            session_key: &key,
            starttime: now,
            krbtgt: &key,
            kvno: tgs::rodc_kvno(7, 1),
            rodc: Some(7),
            confounder: [0; 16],
        })
        .unwrap();
        let req = tgs::tgs_req(&tgs::Request {
            realm: "CONTOSO.COM",
            sam_account_name: "alice",
            ticket: &ticket,
            session_key: &key,
            ctime: now,
            nonce: 5,
            confounder: [0; 16],
        })
        .unwrap();
        let view = fields(&req).unwrap();
        assert!(view[0].name.starts_with("TGS-REQ"), "{}", view[0].name);
        assert_eq!(find(&view, "msg-type").unwrap().value, "12 (TGS-REQ)");
        assert_eq!(find(&view, "padata-type").unwrap().value, "1 (PA-TGS-REQ)");
        assert_eq!(find(&view, "sname").unwrap().value, "krbtgt/CONTOSO.COM");
        assert!(find(&view, "etype [8]")
            .unwrap()
            .value
            .contains("aes256-cts-hmac-sha1-96"));
        // PA-TGS-REQ's value reads as the AP-REQ it holds, its ranges
        // within the whole message.
        let ap_req = find(&view, "AP-REQ").unwrap();
        assert_eq!(req[ap_req.offset], 0x6E);
        assert_eq!(
            find(&view, "authenticator").unwrap().name,
            "authenticator [4]"
        );
        // A ticket on its own reads as one too, its key version shown.
        let view = fields(&ticket).unwrap();
        assert!(view[0].name.starts_with("Ticket"));
        assert_eq!(
            find(&view, "kvno").unwrap().value,
            (7u32 << 16 | 1).to_string()
        );
        // Not Kerberos: the generic view, unnamed.
        assert!(fields(&[0x30, 0x03, 0x02, 0x01, 0x05]).is_ok());
    }
}
