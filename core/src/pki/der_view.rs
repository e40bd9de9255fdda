//! The inspector's views of X.509 certificates, PKCS#10 requests and CMS
//! SignedData: a small DER reader (X.690 §8.1: tag, length, contents) that
//! walks the bytes and names each element after the ASN.1 schema it belongs
//! to, with a readable value, a one-line note and the rule it comes from.
//!
//! Every field's offset and length is the element's whole TLV (identifier,
//! length and contents octets) as read from the artifact's bytes; children
//! are the elements inside, in byte order. The reader refuses what DER never
//! contains (indefinite lengths, lengths past their container, trailing
//! bytes) with an error, never a panic. Elements the views do not interpret
//! are shown by their ASN.1 type.

use super::oid;
use crate::artifact::Field;
use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::formats::encoding::{hex, hex_prefix};
use const_oid::ObjectIdentifier;
use der::asn1::{GeneralizedTime, UtcTime};
use der::Decode;

const WHAT: &str = "DER";

/// How deep the generic walker descends: more than any structure here
/// needs, little enough that crafted input cannot exhaust the stack.
const MAX_DEPTH: usize = 24;

// Universal tags (X.680 §8.4), as DER writes them (X.690 §8.1.2).
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OBJECT_IDENTIFIER: u8 = 0x06;
const UTF8_STRING: u8 = 0x0C;
const PRINTABLE_STRING: u8 = 0x13;
const TELETEX_STRING: u8 = 0x14;
const IA5_STRING: u8 = 0x16;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const VISIBLE_STRING: u8 = 0x1A;
/// GeneralString: Kerberos's KerberosString and Realm (RFC 4120 §5.2.1).
const GENERAL_STRING: u8 = 0x1B;
const BMP_STRING: u8 = 0x1E;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;

/// `[n]` constructed, context-specific.
const fn ctx(n: u8) -> u8 {
    0xA0 | n
}
/// `[n]` primitive, context-specific.
const fn ctx_primitive(n: u8) -> u8 {
    0x80 | n
}

const X690: &str = "ITU-T X.690 §8";

/// One DER element located in the artifact's bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    bytes: &'a [u8],
    /// The identifier octet.
    pub tag: u8,
    /// Offset of the identifier octet.
    pub start: usize,
    header: usize,
    len: usize,
}

impl<'a> Tlv<'a> {
    /// Identifier, length and contents octets.
    pub fn total(&self) -> usize {
        self.header + self.len
    }
    fn end(&self) -> usize {
        self.start + self.total()
    }
    fn value_start(&self) -> usize {
        self.start + self.header
    }
    /// The contents octets.
    pub fn value(&self) -> &'a [u8] {
        self.bytes
            .get(self.value_start()..self.end())
            .unwrap_or_default()
    }
    /// The whole element, as received.
    pub fn raw(&self) -> &'a [u8] {
        self.bytes.get(self.start..self.end()).unwrap_or_default()
    }
    fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }
    /// The elements inside a constructed element.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>> {
        if !self.constructed() {
            return Err(Error::malformed(
                WHAT,
                format!(
                    "byte {}: tag 0x{:02X} is primitive, not constructed",
                    self.start, self.tag
                ),
            ));
        }
        read_all(self.bytes, self.value_start(), self.end())
    }
    /// DER nested inside a primitive value (an OCTET STRING, or a BIT STRING
    /// after its unused-bits octet when `skip` is 1).
    fn nested(&self, skip: usize) -> Result<Vec<Tlv<'a>>> {
        read_all(self.bytes, self.value_start() + skip, self.end())
    }
    /// Exactly one element nested inside a primitive value.
    fn nested_one(&self, skip: usize) -> Result<Tlv<'a>> {
        let mut inner = self.nested(skip)?;
        match (inner.pop(), inner.is_empty()) {
            (Some(t), true) => Ok(t),
            _ => Err(Error::malformed(
                WHAT,
                format!(
                    "byte {}: expected one DER element inside",
                    self.value_start() + skip
                ),
            )),
        }
    }
    fn field(
        &self,
        name: impl Into<String>,
        value: impl Into<String>,
        note: &str,
        spec: &str,
    ) -> Field {
        Field::new(name, value, note, spec, self.start, self.total())
    }
}

fn malformed(at: usize, reason: impl std::fmt::Display) -> Error {
    Error::malformed(WHAT, format!("byte {at}: {reason}"))
}

/// Why a universal-class identifier octet cannot occur in DER, if it
/// cannot: tag 0 is end-of-contents, which only indefinite lengths use
/// (X.690 §8.1.5); SEQUENCE and SET are always constructed (§8.9.1,
/// §8.11.1); every other universal type but EXTERNAL, EMBEDDED PDV and
/// CHARACTER STRING is primitive in DER (§8.2–8.8 for BOOLEAN to REAL,
/// §10.2 for strings).
fn not_der_tag(tag: u8) -> Option<String> {
    if tag & 0xC0 != 0 {
        return None;
    }
    let number = tag & 0x1F;
    let constructed = tag & 0x20 != 0;
    match (number, constructed) {
        (0, _) => Some(format!(
            "tag 0x{tag:02X} is end-of-contents, which DER never has (X.690 §8.1.5, §10.1)"
        )),
        (16 | 17, false) => Some(format!(
            "tag 0x{tag:02X} is a primitive SEQUENCE or SET, which are always constructed (X.690 §8.9.1, §8.11.1)"
        )),
        (8 | 11 | 16 | 17 | 29, true) => None,
        (_, true) => Some(format!(
            "tag 0x{tag:02X} is a constructed form of a type DER encodes primitive (X.690 §10.2)"
        )),
        _ => None,
    }
}

/// Reads the element at `at`, which must end by `limit`.
fn read(bytes: &[u8], at: usize, limit: usize) -> Result<Tlv<'_>> {
    let tag = *bytes
        .get(at)
        .filter(|_| at < limit)
        .ok_or_else(|| malformed(at, "an element was expected, the bytes end"))?;
    if tag & 0x1F == 0x1F {
        return Err(malformed(
            at,
            "high-tag-number identifiers do not occur in these structures",
        ));
    }
    if let Some(reason) = not_der_tag(tag) {
        return Err(malformed(at, reason));
    }
    let first = *bytes
        .get(at + 1)
        .filter(|_| at + 1 < limit)
        .ok_or_else(|| malformed(at, "the length octet is missing"))?;
    let (len, header) = match first {
        0..=0x7F => (usize::from(first), 2),
        0x80 => {
            return Err(malformed(
                at,
                "indefinite length, which DER forbids (X.690 §10.1)",
            ))
        }
        _ => {
            let n = usize::from(first & 0x7F);
            if n > 4 {
                return Err(malformed(
                    at,
                    format!("a {n}-octet length is longer than any input here"),
                ));
            }
            let octets = bytes
                .get(at + 2..at + 2 + n)
                .filter(|_| at + 2 + n <= limit)
                .ok_or_else(|| malformed(at, "the length octets run past the end"))?;
            // X.690 §10.1: DER uses the fewest length octets, so no
            // leading zero octet and no long form for lengths below 128.
            if octets.first() == Some(&0) {
                return Err(malformed(
                    at,
                    "the length has a leading zero octet, which DER forbids (X.690 §10.1)",
                ));
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(malformed(
                    at,
                    format!("the length {len} is in the long form, which DER keeps for 128 and more (X.690 §10.1)"),
                ));
            }
            (len, 2 + n)
        }
    };
    let end = at
        .checked_add(header)
        .and_then(|v| v.checked_add(len))
        .ok_or_else(|| malformed(at, "the length overflows"))?;
    if end > limit || end > bytes.len() {
        return Err(malformed(
            at,
            format!("the element claims {len} bytes, more than its container holds"),
        ));
    }
    Ok(Tlv {
        bytes,
        tag,
        start: at,
        header,
        len,
    })
}

/// Reads consecutive elements filling `from..to` exactly.
fn read_all(bytes: &[u8], from: usize, to: usize) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        let t = read(bytes, at, to)?;
        at = t.end();
        out.push(t);
    }
    Ok(out)
}

/// The one element that makes up `bytes`, refusing trailing bytes.
pub(crate) fn top<'a>(bytes: &'a [u8], what: &'static str) -> Result<Tlv<'a>> {
    // `read`'s own error is already "malformed DER": keep only its reason.
    let t = read(bytes, 0, bytes.len()).map_err(|e| match e {
        Error::Malformed { reason, .. } => Error::malformed(what, reason),
        other => Error::malformed(what, other.to_string()),
    })?;
    if t.end() != bytes.len() {
        return Err(Error::malformed(
            what,
            format!("{} bytes follow the DER element", bytes.len() - t.end()),
        ));
    }
    Ok(t)
}

/// The elements of a constructed element, taken one by one as a schema
/// expects them.
struct Items<'a> {
    items: Vec<Tlv<'a>>,
    pos: usize,
    context: &'static str,
}

impl<'a> Items<'a> {
    fn of(t: &Tlv<'a>, context: &'static str) -> Result<Self> {
        Ok(Items {
            items: t.children()?,
            pos: 0,
            context,
        })
    }
    fn next(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>> {
        let t = self.next_any(what)?;
        if t.tag != tag {
            return Err(malformed(
                t.start,
                format!(
                    "{}: {what} should have tag 0x{tag:02X}, found 0x{:02X}",
                    self.context, t.tag
                ),
            ));
        }
        Ok(t)
    }
    fn next_any(&mut self, what: &str) -> Result<Tlv<'a>> {
        let t = self.items.get(self.pos).copied().ok_or_else(|| {
            Error::malformed(WHAT, format!("{}: {what} is missing", self.context))
        })?;
        self.pos += 1;
        Ok(t)
    }
    fn optional(&mut self, tag: u8) -> Option<Tlv<'a>> {
        let t = self.items.get(self.pos).copied().filter(|t| t.tag == tag)?;
        self.pos += 1;
        Some(t)
    }
    /// Elements the schema does not expect, shown by type.
    fn rest(&mut self) -> Result<Vec<Field>> {
        let rest: Vec<Tlv<'a>> = self.items.get(self.pos..).unwrap_or_default().to_vec();
        self.pos = self.items.len();
        rest.iter().map(|t| generic(t, 0)).collect()
    }
}

fn expect(t: &Tlv<'_>, tag: u8, what: &str) -> Result<()> {
    if t.tag == tag {
        Ok(())
    } else {
        Err(malformed(
            t.start,
            format!("{what} should have tag 0x{tag:02X}, found 0x{:02X}", t.tag),
        ))
    }
}

// ---------------------------------------------------------------- values

fn oid_of(t: &Tlv<'_>) -> Option<ObjectIdentifier> {
    (t.tag == OBJECT_IDENTIFIER)
        .then(|| ObjectIdentifier::from_bytes(t.value()).ok())
        .flatten()
}

fn oid_text(t: &Tlv<'_>) -> String {
    oid_of(t)
        .map(|o| oid::describe(&o))
        .unwrap_or_else(|| "(not a valid OBJECT IDENTIFIER)".into())
}

/// A small INTEGER in decimal, a large one by size and leading bytes.
fn integer_text(bytes: &[u8]) -> String {
    match bytes {
        [] => "(empty INTEGER)".into(),
        [first, ..] if first & 0x80 != 0 => format!("negative: 0x{}", hex_prefix(bytes, 16)),
        _ if bytes.len() <= 8 => {
            let n = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            n.to_string()
        }
        _ => {
            let significant = bytes.iter().skip_while(|b| **b == 0).count();
            format!("{}-bit integer: {}", significant * 8, hex_prefix(bytes, 16))
        }
    }
}

/// A serial number in hex.
fn serial_text(bytes: &[u8]) -> String {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.is_empty() {
        "0x0".into()
    } else {
        format!("0x{}", hex(&trimmed).to_uppercase())
    }
}

fn time_of(t: &Tlv<'_>) -> Option<SimTime> {
    let secs = match t.tag {
        UTC_TIME => UtcTime::from_der(t.raw())
            .ok()?
            .to_unix_duration()
            .as_secs(),
        GENERALIZED_TIME => GeneralizedTime::from_der(t.raw())
            .ok()?
            .to_unix_duration()
            .as_secs(),
        _ => return None,
    };
    Some(SimTime::from_unix_seconds(secs))
}

fn time_text(t: &Tlv<'_>) -> String {
    time_of(t)
        .map(|s| s.to_string())
        .unwrap_or_else(|| "(not a valid time)".into())
}

fn string_text(t: &Tlv<'_>) -> Option<String> {
    let v = t.value();
    match t.tag {
        UTF8_STRING => std::str::from_utf8(v).ok().map(str::to_string),
        PRINTABLE_STRING | IA5_STRING | VISIBLE_STRING | GENERAL_STRING => v
            .is_ascii()
            .then(|| v.iter().map(|b| char::from(*b)).collect()),
        // T.61 read as Latin-1, as most decoders do.
        TELETEX_STRING => Some(v.iter().map(|b| char::from(*b)).collect()),
        BMP_STRING => {
            if v.len() % 2 != 0 {
                return None;
            }
            let units = v.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<std::result::Result<String, _>>()
                .ok()
        }
        _ => None,
    }
}

fn bytes_text(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        "(empty)".into()
    } else {
        format!("{} bytes: {}", bytes.len(), hex_prefix(bytes, 16))
    }
}

/// The BIT STRING's bits without its unused-bits octet.
fn bit_string_bytes<'a>(t: &Tlv<'a>) -> &'a [u8] {
    t.value().get(1..).unwrap_or_default()
}

fn type_name(tag: u8) -> String {
    match tag {
        BOOLEAN => "BOOLEAN".into(),
        INTEGER => "INTEGER".into(),
        BIT_STRING => "BIT STRING".into(),
        OCTET_STRING => "OCTET STRING".into(),
        NULL => "NULL".into(),
        OBJECT_IDENTIFIER => "OBJECT IDENTIFIER".into(),
        UTF8_STRING => "UTF8String".into(),
        PRINTABLE_STRING => "PrintableString".into(),
        TELETEX_STRING => "TeletexString".into(),
        IA5_STRING => "IA5String".into(),
        UTC_TIME => "UTCTime".into(),
        GENERALIZED_TIME => "GeneralizedTime".into(),
        VISIBLE_STRING => "VisibleString".into(),
        GENERAL_STRING => "GeneralString".into(),
        BMP_STRING => "BMPString".into(),
        SEQUENCE => "SEQUENCE".into(),
        SET => "SET".into(),
        t if t & 0xC0 == 0x80 => format!("[{}]", t & 0x1F),
        t if t & 0xC0 == 0x40 => format!("[APPLICATION {}]", t & 0x1F),
        t => format!("tag 0x{t:02X}"),
    }
}

/// The value of any element, by its type.
fn value_text(t: &Tlv<'_>) -> String {
    match t.tag {
        BOOLEAN => match t.value() {
            [0x00] => "FALSE".into(),
            [0xFF] => "TRUE".into(),
            _ => "(not a DER BOOLEAN)".into(),
        },
        INTEGER => integer_text(t.value()),
        BIT_STRING => bytes_text(bit_string_bytes(t)),
        OCTET_STRING => bytes_text(t.value()),
        NULL => "NULL".into(),
        OBJECT_IDENTIFIER => oid_text(t),
        UTC_TIME | GENERALIZED_TIME => time_text(t),
        UTF8_STRING | PRINTABLE_STRING | TELETEX_STRING | IA5_STRING | VISIBLE_STRING
        | GENERAL_STRING | BMP_STRING => {
            string_text(t).unwrap_or_else(|| "(not valid text for its type)".into())
        }
        _ if t.constructed() => format!("{} bytes", t.value().len()),
        _ => bytes_text(t.value()),
    }
}

/// An element shown only by its ASN.1 type, with its elements inside.
fn generic(t: &Tlv<'_>, depth: usize) -> Result<Field> {
    let mut f = t.field(
        type_name(t.tag),
        value_text(t),
        "An element this view does not interpret, shown by its ASN.1 type.",
        X690,
    );
    if t.constructed() {
        if depth >= MAX_DEPTH {
            f.value = "(nested too deeply to show)".into();
        } else {
            f.children = t
                .children()?
                .iter()
                .map(|c| generic(c, depth + 1))
                .collect::<Result<_>>()?;
        }
    }
    Ok(f)
}

/// Generic fields for DER nested in a primitive value, when it parses.
fn nested_generic(t: &Tlv<'_>, skip: usize) -> Vec<Field> {
    t.nested(skip)
        .and_then(|inner| inner.iter().map(|c| generic(c, 1)).collect())
        .unwrap_or_default()
}

// ------------------------------------------------------- shared structures

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER,
/// parameters ANY DEFINED BY algorithm OPTIONAL }` (RFC 5280 §4.1.1.2).
fn algorithm(t: &Tlv<'_>, name: &str, note: &str, spec: &str) -> Result<Field> {
    expect(t, SEQUENCE, name)?;
    let mut it = Items::of(t, "AlgorithmIdentifier")?;
    let id = it.next(OBJECT_IDENTIFIER, "algorithm")?;
    let mut children = vec![id.field(
        "algorithm",
        oid_text(&id),
        "Which algorithm: an object identifier.",
        "RFC 5280 §4.1.1.2",
    )];
    if let Ok(p) = it.next_any("parameters") {
        let (value, note) = match p.tag {
            NULL => (
                "NULL".to_string(),
                "No parameters; RSA algorithm identifiers carry an explicit NULL.",
            ),
            OBJECT_IDENTIFIER => (oid_text(&p), "The named curve or other parameter set."),
            _ => (value_text(&p), "Algorithm parameters."),
        };
        let mut f = p.field("parameters", value, note, "RFC 5280 §4.1.1.2; RFC 4055 §5");
        if p.constructed() {
            f.children = generic(&p, 1)?.children;
        }
        children.push(f);
    }
    children.extend(it.rest()?);
    let value = oid_of(&id)
        .and_then(|o| oid::name(&o))
        .unwrap_or("unknown algorithm");
    Ok(t.field(name, value, note, spec).with_children(children))
}

/// `Name ::= SEQUENCE OF RelativeDistinguishedName`, each a SET OF
/// `AttributeTypeAndValue ::= SEQUENCE { type, value }` (RFC 5280 §4.1.2.4).
fn name_field(t: &Tlv<'_>, field_name: &str, note: &str, spec: &str) -> Result<(Field, String)> {
    expect(t, SEQUENCE, field_name)?;
    let mut parts = Vec::new();
    let mut rdns = Vec::new();
    for rdn in t.children()? {
        expect(&rdn, SET, "RelativeDistinguishedName")?;
        let mut rdn_parts = Vec::new();
        let mut atvs = Vec::new();
        for atv in rdn.children()? {
            expect(&atv, SEQUENCE, "AttributeTypeAndValue")?;
            let mut it = Items::of(&atv, "AttributeTypeAndValue")?;
            let ty = it.next(OBJECT_IDENTIFIER, "type")?;
            let val = it.next_any("value")?;
            let ty_oid = oid_of(&ty);
            let short = ty_oid
                .as_ref()
                .and_then(oid::short_attribute_name)
                .map(str::to_string)
                .unwrap_or_else(|| ty_oid.map(|o| o.to_string()).unwrap_or_default());
            let text = string_text(&val).unwrap_or_else(|| value_text(&val));
            rdn_parts.push(format!("{short}={text}"));
            let long = ty_oid.as_ref().and_then(oid::name).unwrap_or("attribute");
            let mut children = vec![
                ty.field(
                    "type",
                    oid_text(&ty),
                    "The attribute type.",
                    "RFC 5280 §4.1.2.4",
                ),
                val.field(
                    "value",
                    text.clone(),
                    &format!("The {long} as a {}.", type_name(val.tag)),
                    "RFC 5280 §4.1.2.4",
                ),
            ];
            children.extend(it.rest()?);
            atvs.push(
                atv.field(
                    long,
                    text,
                    "One attribute of the name: its type and value.",
                    "RFC 5280 §4.1.2.4",
                )
                .with_children(children),
            );
        }
        let rdn_text = rdn_parts.join(" + ");
        parts.push(rdn_text.clone());
        rdns.push(
            rdn.field(
                "RelativeDistinguishedName",
                rdn_text,
                "One component of the name (a SET, usually of one attribute).",
                "RFC 5280 §4.1.2.4",
            )
            .with_children(atvs),
        );
    }
    let text = if parts.is_empty() {
        "(empty name)".to_string()
    } else {
        parts.join(", ")
    };
    Ok((
        t.field(field_name, text.clone(), note, spec)
            .with_children(rdns),
        text,
    ))
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
/// subjectPublicKey BIT STRING }` (RFC 5280 §4.1.2.7); an RSA key's BIT
/// STRING holds `RSAPublicKey ::= SEQUENCE { modulus, publicExponent }`
/// (RFC 8017 Appendix A.1.1).
fn spki(t: &Tlv<'_>, name: &str, note: &str, spec: &str) -> Result<Field> {
    expect(t, SEQUENCE, name)?;
    let mut it = Items::of(t, "SubjectPublicKeyInfo")?;
    let alg_t = it.next(SEQUENCE, "algorithm")?;
    let alg = algorithm(
        &alg_t,
        "algorithm",
        "The kind of key: rsaEncryption for RSA.",
        "RFC 5280 §4.1.2.7",
    )?;
    let key_t = it.next(BIT_STRING, "subjectPublicKey")?;
    let is_rsa = Items::of(&alg_t, "AlgorithmIdentifier")
        .ok()
        .and_then(|mut i| i.next(OBJECT_IDENTIFIER, "algorithm").ok())
        .and_then(|o| oid_of(&o))
        == Some(oid::RSA_ENCRYPTION);
    let mut summary = format!("{} key", alg.value);
    let mut key = key_t.field(
        "subjectPublicKey",
        bytes_text(bit_string_bytes(&key_t)),
        "The public key itself, inside a BIT STRING whose first octet counts unused bits (0).",
        "RFC 5280 §4.1.2.7",
    );
    if is_rsa {
        if let Some((children, text)) = rsa_public_key(&key_t) {
            key.children = children;
            key.value = text.clone();
            summary = text;
        }
    } else {
        key.children = nested_generic(&key_t, 1);
    }
    let mut children = vec![alg, key];
    children.extend(it.rest()?);
    Ok(t.field(name, summary, note, spec).with_children(children))
}

fn rsa_public_key(bits: &Tlv<'_>) -> Option<(Vec<Field>, String)> {
    if bits.value().first() != Some(&0) {
        return None;
    }
    let seq = bits.nested_one(1).ok()?;
    let mut it = Items::of(&seq, "RSAPublicKey").ok()?;
    let n = it.next(INTEGER, "modulus").ok()?;
    let e = it.next(INTEGER, "publicExponent").ok()?;
    let modulus = n.value();
    let significant = modulus.iter().skip_while(|b| **b == 0).count();
    let bits_len = modulus
        .iter()
        .find(|b| **b != 0)
        .map(|b| significant * 8 - b.leading_zeros() as usize)
        .unwrap_or(0);
    let exponent = integer_text(e.value());
    let text = format!("RSA-{bits_len}, e = {exponent}");
    let children = vec![seq
        .field(
            "RSAPublicKey",
            text.clone(),
            "The RSA public key: modulus n and public exponent e.",
            "RFC 8017 Appendix A.1.1",
        )
        .with_children(vec![
            n.field(
                "modulus",
                format!("{bits_len}-bit: {}", hex_prefix(modulus, 16)),
                "n, big-endian; a leading 00 octet keeps the INTEGER positive.",
                "RFC 8017 Appendix A.1.1",
            ),
            e.field(
                "publicExponent",
                exponent,
                "e, the public exponent (65537 almost everywhere).",
                "RFC 8017 Appendix A.1.1",
            ),
        ])];
    Some((children, text))
}

fn bit_string_signature(t: &Tlv<'_>, name: &str, note: &str, spec: &str) -> Result<Field> {
    expect(t, BIT_STRING, name)?;
    Ok(t.field(name, bytes_text(bit_string_bytes(t)), note, spec))
}

// ------------------------------------------------------------ certificate

/// The decoded view of a DER X.509 certificate (RFC 5280 §4.1): one field,
/// `Certificate`, covering all the bytes.
/// A SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), field by field.
/// Any DER element, field by field by its ASN.1 types alone: what the
/// inspector shows of a structure it has no schema for yet (the Kerberos
/// messages).
pub fn der_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "DER")?;
    Ok(vec![generic(&t, 0)?])
}

pub fn public_key_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "SubjectPublicKeyInfo")?;
    Ok(vec![spki(
        &t,
        "SubjectPublicKeyInfo",
        "A public key and its algorithm.",
        "RFC 5280 §4.1.2.7",
    )?])
}

pub fn certificate_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "X.509 certificate")?;
    Ok(vec![certificate(&t)?])
}

/// `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm,
/// signatureValue }` (RFC 5280 §4.1.1).
fn certificate(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "Certificate")?;
    let mut it = Items::of(t, "Certificate")?;
    let tbs_t = it.next(SEQUENCE, "tbsCertificate")?;
    let (tbs, subject, issuer) = tbs_certificate(&tbs_t)?;
    let alg = algorithm(
        &it.next(SEQUENCE, "signatureAlgorithm")?,
        "signatureAlgorithm",
        "How the issuer signed: must equal the signature field inside tbsCertificate.",
        "RFC 5280 §4.1.1.2",
    )?;
    let sig = bit_string_signature(
        &it.next(BIT_STRING, "signatureValue")?,
        "signatureValue",
        "The issuer's signature over the DER bytes of tbsCertificate.",
        "RFC 5280 §4.1.1.3",
    )?;
    let mut children = vec![tbs, alg, sig];
    children.extend(it.rest()?);
    let value = if subject == issuer {
        format!("{subject} (self-signed)")
    } else {
        format!("{subject}, issued by {issuer}")
    };
    Ok(t.field(
        "Certificate",
        value,
        "An X.509 certificate: the signed body, the algorithm, and the issuer's signature.",
        "RFC 5280 §4.1",
    )
    .with_children(children))
}

/// TBSCertificate (RFC 5280 §4.1.2); returns the field, subject and issuer.
fn tbs_certificate(t: &Tlv<'_>) -> Result<(Field, String, String)> {
    let mut it = Items::of(t, "TBSCertificate")?;
    let mut children = Vec::new();
    if let Some(v) = it.optional(ctx(0)) {
        let int = v.nested_one(0).ok().filter(|i| i.tag == INTEGER);
        let value = match int.map(|i| integer_text(i.value())) {
            Some(n) => match n.as_str() {
                "0" => "v1 (0)".to_string(),
                "1" => "v2 (1)".to_string(),
                "2" => "v3 (2)".to_string(),
                _ => n,
            },
            None => value_text(&v),
        };
        let mut f = v.field(
            "version",
            value,
            "v3 (encoded 2): the certificate has extensions. [0] EXPLICIT, absent means v1.",
            "RFC 5280 §4.1.2.1",
        );
        f.children = nested_generic(&v, 0);
        children.push(f);
    }
    let serial = it.next(INTEGER, "serialNumber")?;
    children.push(serial.field(
        "serialNumber",
        serial_text(serial.value()),
        "Positive integer the issuer assigns; unique among the certificates it issues.",
        "RFC 5280 §4.1.2.2",
    ));
    children.push(algorithm(
        &it.next(SEQUENCE, "signature")?,
        "signature",
        "The signature algorithm, repeated inside the signed part so it is covered too.",
        "RFC 5280 §4.1.2.3",
    )?);
    let (issuer, issuer_text) = name_field(
        &it.next(SEQUENCE, "issuer")?,
        "issuer",
        "Who signed the certificate: the issuing CA's subject name.",
        "RFC 5280 §4.1.2.4",
    )?;
    children.push(issuer);
    let validity = it.next(SEQUENCE, "validity")?;
    children.push(validity_field(&validity)?);
    let (subject, subject_text) = name_field(
        &it.next(SEQUENCE, "subject")?,
        "subject",
        "Whom the certificate is about: the holder of the key.",
        "RFC 5280 §4.1.2.6",
    )?;
    children.push(subject);
    children.push(spki(
        &it.next(SEQUENCE, "subjectPublicKeyInfo")?,
        "subjectPublicKeyInfo",
        "The public key the certificate binds to the subject.",
        "RFC 5280 §4.1.2.7",
    )?);
    for (tag, name) in [
        (ctx_primitive(1), "issuerUniqueID"),
        (ctx_primitive(2), "subjectUniqueID"),
    ] {
        if let Some(u) = it.optional(tag) {
            children.push(u.field(
                name,
                bytes_text(u.value()),
                "A unique identifier; conforming CAs do not write it.",
                "RFC 5280 §4.1.2.8",
            ));
        }
    }
    if let Some(exts) = it.optional(ctx(3)) {
        children.push(extensions_field(&exts)?);
    }
    children.extend(it.rest()?);
    let field = t
        .field(
            "tbsCertificate",
            format!("{} bytes, signed by the issuer", t.total()),
            "The body of the certificate: everything the issuer's signature covers.",
            "RFC 5280 §4.1.1.1, §4.1.2",
        )
        .with_children(children);
    Ok((field, subject_text, issuer_text))
}

/// The decoded view of a DER CRL (RFC 5280 §5.1): one field,
/// `CertificateList`, covering all the bytes.
pub fn crl_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "X.509 CRL")?;
    expect(&t, SEQUENCE, "CertificateList")?;
    let mut it = Items::of(&t, "CertificateList")?;
    let tbs_t = it.next(SEQUENCE, "tbsCertList")?;
    let (tbs, issuer, revoked) = tbs_cert_list(&tbs_t)?;
    let alg = algorithm(
        &it.next(SEQUENCE, "signatureAlgorithm")?,
        "signatureAlgorithm",
        "How the CA signed the list: must equal the signature field inside tbsCertList.",
        "RFC 5280 §5.1.1.2",
    )?;
    let sig = bit_string_signature(
        &it.next(BIT_STRING, "signatureValue")?,
        "signatureValue",
        "The CA's signature over the DER bytes of tbsCertList.",
        "RFC 5280 §5.1.1.3",
    )?;
    let mut children = vec![tbs, alg, sig];
    children.extend(it.rest()?);
    Ok(vec![t
        .field(
            "CertificateList",
            format!("issued by {issuer}, {revoked} revoked"),
            "A certificate revocation list: which certificates the CA has revoked, signed by it, valid until nextUpdate.",
            "RFC 5280 §5.1",
        )
        .with_children(children)])
}

/// TBSCertList (RFC 5280 §5.1.2); returns the field, the issuer and how
/// many certificates it revokes.
fn tbs_cert_list(t: &Tlv<'_>) -> Result<(Field, String, usize)> {
    const SPEC: &str = "RFC 5280 §5.1.2";
    let mut it = Items::of(t, "TBSCertList")?;
    let mut children = Vec::new();
    if let Some(v) = it.optional(INTEGER) {
        let n = integer_text(v.value());
        children.push(v.field(
            "version",
            if n == "1" { "v2 (1)".to_string() } else { n },
            "v2 (encoded 1): the list has extensions.",
            "RFC 5280 §5.1.2.1",
        ));
    }
    children.push(algorithm(
        &it.next(SEQUENCE, "signature")?,
        "signature",
        "The signature algorithm, repeated inside the signed part.",
        "RFC 5280 §5.1.2.2",
    )?);
    let (issuer, issuer_text) = name_field(
        &it.next(SEQUENCE, "issuer")?,
        "issuer",
        "The CA whose certificates the list covers.",
        "RFC 5280 §5.1.2.3",
    )?;
    children.push(issuer);
    let this = it.next_any("thisUpdate")?;
    children.push(this.field(
        "thisUpdate",
        time_text(&this),
        "When the CA issued this list.",
        "RFC 5280 §5.1.2.4",
    ));
    if let Some(next) = it
        .optional(UTC_TIME)
        .or_else(|| it.optional(GENERALIZED_TIME))
    {
        children.push(next.field(
            "nextUpdate",
            time_text(&next),
            "When the next list is due: a relying party treats this one as stale after it.",
            "RFC 5280 §5.1.2.5",
        ));
    }
    let mut revoked = 0;
    if let Some(list) = it.optional(SEQUENCE) {
        revoked = list.children()?.len();
        children.push(
            list.field(
                "revokedCertificates",
                format!("{revoked} certificates"),
                "The serial numbers the CA revoked, with when.",
                "RFC 5280 §5.1.2.6",
            )
            .with_children(nested_generic(&list, 0)),
        );
    }
    if let Some(exts) = it.optional(ctx(0)) {
        let inner = exts.children()?;
        let list = match inner.as_slice() {
            [one] => extensions_field(one)?,
            _ => {
                return Err(malformed(
                    exts.start,
                    "[0] should hold one Extensions SEQUENCE",
                ))
            }
        };
        children.push(
            exts.field(
                "crlExtensions",
                list.value.clone(),
                "The list's own extensions, [0] EXPLICIT.",
                "RFC 5280 §5.1.2.7, §5.2",
            )
            .with_children(vec![list]),
        );
    }
    children.extend(it.rest()?);
    let field = t
        .field(
            "tbsCertList",
            format!("{} bytes, signed by the CA", t.total()),
            "The body of the list: everything the CA's signature covers.",
            SPEC,
        )
        .with_children(children);
    Ok((field, issuer_text, revoked))
}

/// `Validity ::= SEQUENCE { notBefore Time, notAfter Time }`.
fn validity_field(t: &Tlv<'_>) -> Result<Field> {
    let mut it = Items::of(t, "Validity")?;
    let nb = it.next_any("notBefore")?;
    let na = it.next_any("notAfter")?;
    let time = |x: &Tlv<'_>, name: &str, note: &str| -> Result<Field> {
        if x.tag != UTC_TIME && x.tag != GENERALIZED_TIME {
            return Err(malformed(
                x.start,
                format!("{name} is not a UTCTime or GeneralizedTime"),
            ));
        }
        let spec = if x.tag == UTC_TIME {
            "RFC 5280 §4.1.2.5.1"
        } else {
            "RFC 5280 §4.1.2.5.2"
        };
        Ok(x.field(name, time_text(x), note, spec))
    };
    let mut children = vec![
        time(
            &nb,
            "notBefore",
            "First moment the certificate is valid (UTCTime through 2049).",
        )?,
        time(&na, "notAfter", "Last moment the certificate is valid.")?,
    ];
    children.extend(it.rest()?);
    Ok(t.field(
        "validity",
        format!("{} to {}", time_text(&nb), time_text(&na)),
        "The period during which the issuer vouches for the binding.",
        "RFC 5280 §4.1.2.5",
    )
    .with_children(children))
}

/// `extensions [3] EXPLICIT Extensions` (certificates) or the bare
/// `Extensions ::= SEQUENCE OF Extension` (an extensionRequest).
fn extensions_field(t: &Tlv<'_>) -> Result<Field> {
    let seq = if t.tag == ctx(3) {
        let mut inner = t.children()?;
        match (inner.pop(), inner.is_empty()) {
            (Some(s), true) => s,
            _ => {
                return Err(malformed(
                    t.start,
                    "[3] should hold one Extensions SEQUENCE",
                ))
            }
        }
    } else {
        *t
    };
    expect(&seq, SEQUENCE, "Extensions")?;
    let exts: Vec<Field> = seq
        .children()?
        .iter()
        .map(extension)
        .collect::<Result<_>>()?;
    let count = exts.len();
    let list = Field::new(
        "Extensions",
        format!("{count} extensions"),
        "SEQUENCE OF Extension.",
        "RFC 5280 §4.1.2.9",
        seq.start,
        seq.total(),
    )
    .with_children(exts);
    if t.tag == ctx(3) {
        Ok(t.field(
            "extensions",
            format!("{count} extensions"),
            "What the key may be used for and extra names and identifiers; [3] EXPLICIT, v3 only.",
            "RFC 5280 §4.1.2.9",
        )
        .with_children(vec![list]))
    } else {
        Ok(list)
    }
}

/// `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE,
/// extnValue OCTET STRING }` (RFC 5280 §4.1.2.9, §4.2).
fn extension(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "Extension")?;
    let mut it = Items::of(t, "Extension")?;
    let id_t = it.next(OBJECT_IDENTIFIER, "extnID")?;
    let id = oid_of(&id_t);
    let mut children = vec![id_t.field(
        "extnID",
        oid_text(&id_t),
        "Which extension this is.",
        "RFC 5280 §4.1.2.9",
    )];
    let critical = it.optional(BOOLEAN);
    if let Some(c) = critical {
        children.push(c.field(
            "critical",
            value_text(&c),
            "TRUE: a relying party that does not understand the extension must reject the certificate.",
            "RFC 5280 §4.2",
        ));
    }
    let value_t = it.next(OCTET_STRING, "extnValue")?;
    let id_text = id.map(|o| o.to_string()).unwrap_or_default();
    let decoded = known_extension(&id_text, &value_t).ok();
    let (name, spec, summary, inner) = match decoded {
        Some(d) => d,
        None => (
            id.as_ref()
                .and_then(oid::name)
                .unwrap_or("extension")
                .to_string(),
            "RFC 5280 §4.2",
            bytes_text(value_t.value()),
            nested_generic(&value_t, 0),
        ),
    };
    children.push(
        value_t
            .field(
                "extnValue",
                summary.clone(),
                "The extension's own DER structure, wrapped in an OCTET STRING.",
                spec,
            )
            .with_children(inner),
    );
    children.extend(it.rest()?);
    let is_critical = critical.map(|c| c.value() == [0xFF]).unwrap_or(false);
    let value = if is_critical {
        format!("{summary} (critical)")
    } else {
        summary
    };
    Ok(t.field(name, value, extension_note(&id_text), spec)
        .with_children(children))
}

fn extension_note(id: &str) -> &'static str {
    match id {
        "2.5.29.19" => "Whether the subject is a CA that may sign certificates.",
        "2.5.29.15" => "The basic operations the key may perform.",
        "2.5.29.37" => {
            "The purposes the certificate is for; sign-in and enrollment checks read these."
        }
        "2.5.29.17" => "Further names of the subject; Windows reads the UPN from here.",
        "2.5.29.14" => "An identifier of this certificate's key, for building chains.",
        "2.5.29.35" => "The identifier of the issuer's key that signed this certificate.",
        "1.3.6.1.4.1.311.21.7" => {
            "The AD CS template the certificate was issued from, and its version."
        }
        "2.5.29.31" => {
            "Where the issuer publishes its certificate revocation list; a domain controller fetches it to check the certificate at sign-in."
        }
        "1.3.6.1.5.5.7.1.1" => {
            "Where the issuer's own certificate can be fetched, to build the chain."
        }
        "1.3.6.1.4.1.311.25.2" => {
            "The objectSid of the account the CA built the subject from: domain controllers map the certificate to that account by it (strong mapping)."
        }
        _ => "An extension this view shows by its ASN.1 types.",
    }
}

type Decoded = (String, &'static str, String, Vec<Field>);

/// The extension's name, rule, summary and decoded contents.
fn known_extension(id: &str, value: &Tlv<'_>) -> Result<Decoded> {
    let inner = value.nested_one(0)?;
    match id {
        "2.5.29.19" => basic_constraints(&inner),
        "2.5.29.15" => key_usage(&inner),
        "2.5.29.37" => ext_key_usage(&inner),
        "2.5.29.17" => subject_alt_name(&inner),
        "2.5.29.14" => {
            expect(&inner, OCTET_STRING, "SubjectKeyIdentifier")?;
            let text = hex(inner.value());
            Ok((
                "subjectKeyIdentifier".into(),
                "RFC 5280 §4.2.1.2",
                text.clone(),
                vec![inner.field(
                    "KeyIdentifier",
                    text,
                    "SHA-1 of the subjectPublicKey bits (method 1).",
                    "RFC 5280 §4.2.1.2",
                )],
            ))
        }
        "2.5.29.35" => authority_key_identifier(&inner),
        "1.3.6.1.4.1.311.21.7" => certificate_template(&inner),
        "2.5.29.20" => {
            expect(&inner, INTEGER, "CRLNumber")?;
            let n = integer_text(inner.value());
            Ok((
                "cRLNumber".into(),
                "RFC 5280 §5.2.3",
                n.clone(),
                vec![inner.field(
                    "CRLNumber",
                    n,
                    "A number that grows with each list the CA issues.",
                    "RFC 5280 §5.2.3",
                )],
            ))
        }
        "2.5.29.31" => crl_distribution_points(&inner),
        "1.3.6.1.5.5.7.1.1" => authority_info_access(&inner),
        "1.3.6.1.4.1.311.25.2" => {
            let (summary, f) = general_names(&inner, "GeneralNames")?;
            Ok((
                "szOID_NTDS_CA_SECURITY_EXT (SID)".into(),
                "MS-WCCE 2.2.2.7.7.4",
                summary,
                vec![f],
            ))
        }
        _ => Err(malformed(value.start, "not an extension this view decodes")),
    }
}

fn basic_constraints(t: &Tlv<'_>) -> Result<Decoded> {
    expect(t, SEQUENCE, "BasicConstraints")?;
    let mut it = Items::of(t, "BasicConstraints")?;
    let mut children = Vec::new();
    let ca = it.optional(BOOLEAN);
    let is_ca = ca.map(|c| c.value() == [0xFF]).unwrap_or(false);
    if let Some(c) = ca {
        children.push(c.field(
            "cA",
            value_text(&c),
            "TRUE: the key may sign certificates.",
            "RFC 5280 §4.2.1.9",
        ));
    }
    let mut summary = format!("CA: {}", if is_ca { "TRUE" } else { "FALSE" });
    if let Some(p) = it.optional(INTEGER) {
        summary.push_str(&format!(", pathLen {}", integer_text(p.value())));
        children.push(p.field(
            "pathLenConstraint",
            integer_text(p.value()),
            "How many CA certificates may follow this one in a chain.",
            "RFC 5280 §4.2.1.9",
        ));
    }
    children.extend(it.rest()?);
    let f = t
        .field(
            "BasicConstraints",
            summary.clone(),
            "SEQUENCE { cA, pathLenConstraint }.",
            "RFC 5280 §4.2.1.9",
        )
        .with_children(children);
    Ok((
        "basicConstraints".into(),
        "RFC 5280 §4.2.1.9",
        summary,
        vec![f],
    ))
}

const KEY_USAGE_BITS: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

fn key_usage(t: &Tlv<'_>) -> Result<Decoded> {
    expect(t, BIT_STRING, "KeyUsage")?;
    let bits = bit_string_bytes(t);
    let names: Vec<&str> = KEY_USAGE_BITS
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            bits.get(i / 8)
                .map(|b| b & (0x80 >> (i % 8)) != 0)
                .unwrap_or(false)
        })
        .map(|(_, n)| *n)
        .collect();
    let summary = if names.is_empty() {
        "(no bits set)".to_string()
    } else {
        names.join(", ")
    };
    let f = t.field(
        "KeyUsage",
        summary.clone(),
        "A BIT STRING; bit 0 is digitalSignature, bit 5 keyCertSign, bit 6 cRLSign.",
        "RFC 5280 §4.2.1.3",
    );
    Ok(("keyUsage".into(), "RFC 5280 §4.2.1.3", summary, vec![f]))
}

fn ext_key_usage(t: &Tlv<'_>) -> Result<Decoded> {
    expect(t, SEQUENCE, "ExtKeyUsageSyntax")?;
    let mut names = Vec::new();
    let mut children = Vec::new();
    for p in t.children()? {
        expect(&p, OBJECT_IDENTIFIER, "KeyPurposeId")?;
        let text = oid_text(&p);
        names.push(
            oid_of(&p)
                .and_then(|o| oid::name(&o))
                .map(str::to_string)
                .unwrap_or_else(|| text.clone()),
        );
        children.push(p.field(
            "KeyPurposeId",
            text,
            "One purpose the certificate may be used for.",
            "RFC 5280 §4.2.1.12",
        ));
    }
    let summary = names.join(", ");
    let f = t
        .field(
            "ExtKeyUsageSyntax",
            summary.clone(),
            "SEQUENCE OF KeyPurposeId.",
            "RFC 5280 §4.2.1.12",
        )
        .with_children(children);
    Ok(("extKeyUsage".into(), "RFC 5280 §4.2.1.12", summary, vec![f]))
}

/// `GeneralNames ::= SEQUENCE OF GeneralName` (RFC 5280 §4.2.1.6).
fn subject_alt_name(t: &Tlv<'_>) -> Result<Decoded> {
    let (summary, f) = general_names(t, "GeneralNames")?;
    Ok((
        "subjectAltName".into(),
        "RFC 5280 §4.2.1.6",
        summary,
        vec![f],
    ))
}

fn general_names(t: &Tlv<'_>, name: &str) -> Result<(String, Field)> {
    let mut texts = Vec::new();
    let mut children = Vec::new();
    for g in t.children()? {
        let (text, f) = general_name(&g)?;
        texts.push(text);
        children.push(f);
    }
    let summary = texts.join(", ");
    Ok((
        summary.clone(),
        t.field(
            name,
            summary,
            "SEQUENCE OF GeneralName.",
            "RFC 5280 §4.2.1.6",
        )
        .with_children(children),
    ))
}

fn general_name(g: &Tlv<'_>) -> Result<(String, Field)> {
    const SPEC: &str = "RFC 5280 §4.2.1.6";
    let ascii = |g: &Tlv<'_>| String::from_utf8_lossy(g.value()).into_owned();
    Ok(match g.tag {
        // otherName [0] IMPLICIT SEQUENCE { type-id OBJECT IDENTIFIER,
        //                                   value [0] EXPLICIT ANY }
        t if t == ctx(0) => {
            let mut it = Items::of(g, "OtherName")?;
            let ty = it.next(OBJECT_IDENTIFIER, "type-id")?;
            let val = it.next(ctx(0), "value")?;
            let inner = val.children().ok().and_then(|c| c.into_iter().next());
            let is_upn = oid_of(&ty) == Some(oid::USER_PRINCIPAL_NAME);
            let is_sid = oid_of(&ty) == Some(oid::NTDS_OBJECTSID);
            let text = inner
                .as_ref()
                .map(|i| {
                    if is_sid && i.tag == OCTET_STRING && i.value().is_ascii() {
                        String::from_utf8_lossy(i.value()).into_owned()
                    } else {
                        string_text(i).unwrap_or_else(|| value_text(i))
                    }
                })
                .unwrap_or_default();
            let mut value_field = val.field(
                "value",
                text.clone(),
                if is_upn {
                    "The user principal name as a UTF8String, [0] EXPLICIT."
                } else if is_sid {
                    "The SID's text (S-1-5-21-…) as an OCTET STRING, [0] EXPLICIT."
                } else {
                    "The name's value, [0] EXPLICIT."
                },
                SPEC,
            );
            value_field.children = val
                .children()
                .ok()
                .map(|cs| cs.iter().filter_map(|c| generic(c, 1).ok()).collect())
                .unwrap_or_default();
            let mut children = vec![
                ty.field(
                    "type-id",
                    oid_text(&ty),
                    "What kind of name this otherName holds.",
                    SPEC,
                ),
                value_field,
            ];
            children.extend(it.rest()?);
            let label = if is_upn {
                "UPN"
            } else if is_sid {
                "SID"
            } else {
                "otherName"
            };
            (
                format!("{label} {text}"),
                g.field(
                    if is_upn {
                        "otherName (UPN)"
                    } else if is_sid {
                        "otherName (SID)"
                    } else {
                        "otherName"
                    },
                    text,
                    if is_upn {
                        "Microsoft's user principal name (szOID_NT_PRINCIPAL_NAME), which Windows maps to the account at sign-in."
                    } else if is_sid {
                        "The account's objectSid (szOID_NTDS_OBJECTSID)."
                    } else {
                        "A name form identified by an object identifier."
                    },
                    SPEC,
                )
                .with_children(children),
            )
        }
        t if t == ctx_primitive(1) => {
            let text = ascii(g);
            (
                format!("email {text}"),
                g.field("rfc822Name", text, "An email address.", SPEC),
            )
        }
        t if t == ctx_primitive(2) => {
            let text = ascii(g);
            (
                format!("DNS {text}"),
                g.field("dNSName", text, "A DNS host name.", SPEC),
            )
        }
        t if t == ctx_primitive(6) => {
            let text = ascii(g);
            (
                format!("URI {text}"),
                g.field("uniformResourceIdentifier", text, "A URI.", SPEC),
            )
        }
        t if t == ctx_primitive(7) => {
            let text = match g.value() {
                [a, b, c, d] => format!("{a}.{b}.{c}.{d}"),
                v => hex(v),
            };
            (
                format!("IP {text}"),
                g.field("iPAddress", text, "An IP address.", SPEC),
            )
        }
        t if t == ctx(4) => {
            let inner = g.children()?;
            let (children, text) = match inner.first() {
                Some(n) if inner.len() == 1 => {
                    let (f, text) =
                        name_field(n, "Name", "The directory name.", "RFC 5280 §4.1.2.4")?;
                    (vec![f], text)
                }
                _ => (generic(g, 1)?.children, value_text(g)),
            };
            (
                format!("DirName {text}"),
                g.field(
                    "directoryName",
                    text,
                    "A distinguished name, [4] EXPLICIT.",
                    SPEC,
                )
                .with_children(children),
            )
        }
        _ => {
            let f = generic(g, 1)?;
            (
                f.value.clone(),
                Field {
                    note: "A GeneralName form this view does not decode.".into(),
                    spec: SPEC.into(),
                    ..f
                },
            )
        }
    })
}

/// `CRLDistributionPoints ::= SEQUENCE OF DistributionPoint`, each
/// `SEQUENCE { distributionPoint [0] DistributionPointName OPTIONAL, … }`
/// with `fullName [0] GeneralNames` (RFC 5280 §4.2.1.13).
fn crl_distribution_points(t: &Tlv<'_>) -> Result<Decoded> {
    const SPEC: &str = "RFC 5280 §4.2.1.13";
    expect(t, SEQUENCE, "CRLDistributionPoints")?;
    let mut texts = Vec::new();
    let mut points = Vec::new();
    for dp in t.children()? {
        expect(&dp, SEQUENCE, "DistributionPoint")?;
        let mut it = Items::of(&dp, "DistributionPoint")?;
        let mut children = Vec::new();
        let mut text = String::new();
        if let Some(name) = it.optional(ctx(0)) {
            let inner = name.nested_one(0)?;
            let mut grand = Vec::new();
            if inner.tag == ctx(0) {
                let (t_text, mut f) = general_names(&inner, "fullName")?;
                f.note = "The CRL's locations, as GeneralNames, [0] IMPLICIT.".into();
                f.spec = SPEC.into();
                text = t_text;
                grand.push(f);
            } else {
                grand.push(generic(&inner, 1)?);
            }
            children.push(
                name.field(
                    "distributionPoint",
                    text.clone(),
                    "The name of the point, [0] EXPLICIT DistributionPointName.",
                    SPEC,
                )
                .with_children(grand),
            );
        }
        children.extend(it.rest()?);
        texts.push(text.clone());
        points.push(
            dp.field(
                "DistributionPoint",
                text,
                "One place the CRL is published.",
                SPEC,
            )
            .with_children(children),
        );
    }
    let summary = texts.join("; ");
    let f = t
        .field(
            "CRLDistributionPoints",
            summary.clone(),
            "SEQUENCE OF DistributionPoint.",
            SPEC,
        )
        .with_children(points);
    Ok(("cRLDistributionPoints".into(), SPEC, summary, vec![f]))
}

/// `AuthorityInfoAccessSyntax ::= SEQUENCE OF AccessDescription`, each
/// `SEQUENCE { accessMethod OBJECT IDENTIFIER, accessLocation GeneralName }`
/// (RFC 5280 §4.2.2.1).
fn authority_info_access(t: &Tlv<'_>) -> Result<Decoded> {
    const SPEC: &str = "RFC 5280 §4.2.2.1";
    expect(t, SEQUENCE, "AuthorityInfoAccessSyntax")?;
    let mut texts = Vec::new();
    let mut descriptions = Vec::new();
    for ad in t.children()? {
        expect(&ad, SEQUENCE, "AccessDescription")?;
        let mut it = Items::of(&ad, "AccessDescription")?;
        let method = it.next(OBJECT_IDENTIFIER, "accessMethod")?;
        let location = it.next_any("accessLocation")?;
        let (text, mut loc) = general_name(&location)?;
        loc.name = format!("accessLocation: {}", loc.name);
        let mut children = vec![
            method.field(
                "accessMethod",
                oid_text(&method),
                "What is found there: id-ad-caIssuers is the issuer's certificate.",
                SPEC,
            ),
            loc,
        ];
        children.extend(it.rest()?);
        texts.push(text.clone());
        descriptions.push(
            ad.field(
                "AccessDescription",
                text,
                "One access method and location.",
                SPEC,
            )
            .with_children(children),
        );
    }
    let summary = texts.join("; ");
    let f = t
        .field(
            "AuthorityInfoAccessSyntax",
            summary.clone(),
            "SEQUENCE OF AccessDescription.",
            SPEC,
        )
        .with_children(descriptions);
    Ok(("authorityInfoAccess".into(), SPEC, summary, vec![f]))
}

/// `AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0],
/// authorityCertIssuer [1], authorityCertSerialNumber [2] }` (RFC 5280 §4.2.1.1).
fn authority_key_identifier(t: &Tlv<'_>) -> Result<Decoded> {
    const SPEC: &str = "RFC 5280 §4.2.1.1";
    expect(t, SEQUENCE, "AuthorityKeyIdentifier")?;
    let mut it = Items::of(t, "AuthorityKeyIdentifier")?;
    let mut children = Vec::new();
    let mut summary = String::new();
    if let Some(k) = it.optional(ctx_primitive(0)) {
        summary = hex(k.value());
        children.push(k.field(
            "keyIdentifier",
            summary.clone(),
            "The issuer's subjectKeyIdentifier, [0] IMPLICIT.",
            SPEC,
        ));
    }
    if let Some(i) = it.optional(ctx(1)) {
        let (text, mut f) = general_names(&i, "authorityCertIssuer")?;
        f.note = "The issuer's issuer, as GeneralNames, [1] IMPLICIT.".into();
        f.spec = SPEC.into();
        if summary.is_empty() {
            summary = text;
        }
        children.push(f);
    }
    if let Some(s) = it.optional(ctx_primitive(2)) {
        children.push(s.field(
            "authorityCertSerialNumber",
            serial_text(s.value()),
            "The issuer certificate's serial number, [2] IMPLICIT.",
            SPEC,
        ));
    }
    children.extend(it.rest()?);
    let f = t
        .field(
            "AuthorityKeyIdentifier",
            summary.clone(),
            "Identifies the key that signed this certificate.",
            SPEC,
        )
        .with_children(children);
    Ok(("authorityKeyIdentifier".into(), SPEC, summary, vec![f]))
}

/// `CertificateTemplateOID ::= SEQUENCE { templateID OBJECT IDENTIFIER,
/// templateMajorVersion INTEGER OPTIONAL, templateMinorVersion INTEGER
/// OPTIONAL }` (MS-WCCE 2.2.2.7.7.2).
fn certificate_template(t: &Tlv<'_>) -> Result<Decoded> {
    const SPEC: &str = "MS-WCCE 2.2.2.7.7.2";
    expect(t, SEQUENCE, "CertificateTemplateOID")?;
    let mut it = Items::of(t, "CertificateTemplateOID")?;
    let id = it.next(OBJECT_IDENTIFIER, "templateID")?;
    let mut children = vec![id.field(
        "templateID",
        oid_text(&id),
        "The template's msPKI-Cert-Template-OID (specific to the forest).",
        SPEC,
    )];
    let mut versions = Vec::new();
    for (name, note) in [
        (
            "templateMajorVersion",
            "The template's revision when the certificate was issued.",
        ),
        ("templateMinorVersion", "The template's minor revision."),
    ] {
        if let Some(v) = it.optional(INTEGER) {
            versions.push(integer_text(v.value()));
            children.push(v.field(name, integer_text(v.value()), note, SPEC));
        }
    }
    children.extend(it.rest()?);
    let summary = format!("{}, version {}", oid_text(&id), versions.join("."));
    let f = t
        .field(
            "CertificateTemplateOID",
            summary.clone(),
            "Which template, and which version of it.",
            SPEC,
        )
        .with_children(children);
    Ok(("certificateTemplate".into(), SPEC, summary, vec![f]))
}

// ---------------------------------------------------------------- PKCS#10

/// The decoded view of a DER PKCS#10 request (RFC 2986 §4): one field,
/// `CertificationRequest`, covering all the bytes.
pub fn request_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "PKCS#10 request")?;
    Ok(vec![request(&t)?])
}

fn request(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "CertificationRequest")?;
    let mut it = Items::of(t, "CertificationRequest")?;
    let info_t = it.next(SEQUENCE, "certificationRequestInfo")?;
    let (info, subject) = request_info(&info_t)?;
    let alg = algorithm(
        &it.next(SEQUENCE, "signatureAlgorithm")?,
        "signatureAlgorithm",
        "How the requester signed: sha256WithRSAEncryption with the key being certified.",
        "RFC 2986 §4.2",
    )?;
    let sig = bit_string_signature(
        &it.next(BIT_STRING, "signature")?,
        "signature",
        "The requester's signature over certificationRequestInfo, made with the private key of subjectPKInfo: proof of possession.",
        "RFC 2986 §4.2",
    )?;
    let mut children = vec![info, alg, sig];
    children.extend(it.rest()?);
    Ok(t.field(
        "CertificationRequest",
        format!("request for {subject}"),
        "A PKCS#10 request: who, which key, what extensions are asked for, signed by that key.",
        "RFC 2986 §4",
    )
    .with_children(children))
}

fn request_info(t: &Tlv<'_>) -> Result<(Field, String)> {
    const SPEC: &str = "RFC 2986 §4.1";
    let mut it = Items::of(t, "CertificationRequestInfo")?;
    let version = it.next(INTEGER, "version")?;
    let mut children = vec![version.field(
        "version",
        match version.value() {
            [0] => "v1 (0)".to_string(),
            v => integer_text(v),
        },
        "Always v1 (0).",
        SPEC,
    )];
    let (subject, subject_text) = name_field(
        &it.next(SEQUENCE, "subject")?,
        "subject",
        "The name asked for in the certificate.",
        SPEC,
    )?;
    children.push(subject);
    children.push(spki(
        &it.next(SEQUENCE, "subjectPKInfo")?,
        "subjectPKInfo",
        "The public key to certify: here the Windows Hello key in the TPM.",
        SPEC,
    )?);
    let attrs = it.next(ctx(0), "attributes")?;
    let list: Vec<Field> = attrs
        .children()?
        .iter()
        .map(request_attribute)
        .collect::<Result<_>>()?;
    children.push(
        attrs
            .field(
                "attributes",
                format!("{} attributes", list.len()),
                "Extra information about the request, [0] IMPLICIT SET OF Attribute.",
                SPEC,
            )
            .with_children(list),
    );
    children.extend(it.rest()?);
    Ok((
        t.field(
            "certificationRequestInfo",
            format!("{} bytes, signed by the requester", t.total()),
            "The body of the request: what the signature covers.",
            SPEC,
        )
        .with_children(children),
        subject_text,
    ))
}

/// `Attribute ::= SEQUENCE { type OBJECT IDENTIFIER, values SET OF ANY }`.
fn request_attribute(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "Attribute")?;
    let mut it = Items::of(t, "Attribute")?;
    let ty = it.next(OBJECT_IDENTIFIER, "type")?;
    let values = it.next(SET, "values")?;
    let id = oid_of(&ty);
    let mut children = vec![ty.field("type", oid_text(&ty), "Which attribute.", "RFC 2986 §4.1")];
    let (name, summary, value_children, spec) = if id == Some(oid::EXTENSION_REQUEST) {
        let exts: Vec<Field> = values
            .children()?
            .iter()
            .map(extensions_field)
            .collect::<Result<_>>()?;
        let summary = exts
            .iter()
            .flat_map(|e| e.children.iter())
            .map(|e| format!("{}: {}", e.name, e.value))
            .collect::<Vec<_>>()
            .join("; ");
        (
            "extensionRequest".to_string(),
            summary,
            exts,
            "RFC 2985 §5.4.2",
        )
    } else {
        let inner = generic(&values, 0)?.children;
        let summary = inner
            .iter()
            .map(|f| f.value.clone())
            .collect::<Vec<_>>()
            .join(", ");
        (
            id.as_ref()
                .and_then(oid::name)
                .unwrap_or("attribute")
                .to_string(),
            summary,
            inner,
            "RFC 2985 §5.4",
        )
    };
    children.push(
        values
            .field(
                "values",
                summary.clone(),
                "The attribute's values, a SET.",
                spec,
            )
            .with_children(value_children),
    );
    children.extend(it.rest()?);
    let note = if name == "extensionRequest" {
        "The extensions the requester asks the CA to put in the certificate: here the UPN subjectAltName."
    } else {
        "A request attribute."
    };
    Ok(t.field(name, summary, note, spec).with_children(children))
}

// -------------------------------------------------------------------- CMS

/// The decoded view of a DER CMS ContentInfo holding a SignedData (RFC 5652):
/// one field, `ContentInfo`, covering all the bytes. The PKCS#10 in eContent
/// and the certificates are decoded in place, at their offsets in these bytes.
pub fn cms_fields(der: &[u8]) -> Result<Vec<Field>> {
    let t = top(der, "CMS ContentInfo")?;
    Ok(vec![content_info(&t)?])
}

fn content_info(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "ContentInfo")?;
    let mut it = Items::of(t, "ContentInfo")?;
    let ty = it.next(OBJECT_IDENTIFIER, "contentType")?;
    let content = it.next(ctx(0), "content")?;
    let is_signed = oid_of(&ty) == Some(oid::ID_SIGNED_DATA);
    let inner = content.children()?;
    let content_children = match inner.as_slice() {
        [sd] if is_signed => vec![signed_data(sd)?],
        _ => inner.iter().map(|c| generic(c, 1)).collect::<Result<_>>()?,
    };
    let mut children = vec![
        ty.field(
            "contentType",
            oid_text(&ty),
            "What the content is: signedData.",
            "RFC 5652 §3",
        ),
        content
            .field(
                "content",
                if is_signed { "SignedData" } else { "content" },
                "The content itself, [0] EXPLICIT.",
                "RFC 5652 §3",
            )
            .with_children(content_children),
    ];
    children.extend(it.rest()?);
    Ok(t.field(
        "ContentInfo",
        oid_text(&ty),
        "The CMS envelope: a content type and the content.",
        "RFC 5652 §3",
    )
    .with_children(children))
}

fn signed_data(t: &Tlv<'_>) -> Result<Field> {
    const SPEC: &str = "RFC 5652 §5.1";
    expect(t, SEQUENCE, "SignedData")?;
    let mut it = Items::of(t, "SignedData")?;
    let version = it.next(INTEGER, "version")?;
    let mut children = vec![version.field(
        "version",
        integer_text(version.value()),
        "CMSVersion: 1 for id-data content, X.509 certificates and issuerAndSerialNumber signers.",
        SPEC,
    )];
    let digests = it.next(SET, "digestAlgorithms")?;
    let algs: Vec<Field> = digests
        .children()?
        .iter()
        .map(|a| {
            algorithm(
                a,
                "DigestAlgorithmIdentifier",
                "A digest algorithm a signer uses.",
                SPEC,
            )
        })
        .collect::<Result<_>>()?;
    children.push(
        digests
            .field(
                "digestAlgorithms",
                algs.iter()
                    .map(|a| a.value.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                "The digest algorithms of all signers, listed up front for one-pass processing.",
                SPEC,
            )
            .with_children(algs),
    );
    children.push(encap_content_info(&it.next(SEQUENCE, "encapContentInfo")?)?);
    let mut signer_count = 0;
    if let Some(certs) = it.optional(ctx(0)) {
        let list: Vec<Field> = certs
            .children()?
            .iter()
            .map(|c| certificate(c).or_else(|_| generic(c, 1)))
            .collect::<Result<_>>()?;
        children.push(
            certs
                .field(
                    "certificates",
                    format!("{} certificates", list.len()),
                    "Certificates to help the verifier: here the enrollment agent's. [0] IMPLICIT.",
                    "RFC 5652 §5.1, §10.2.3",
                )
                .with_children(list),
        );
    }
    if let Some(crls) = it.optional(ctx(1)) {
        let mut f = generic(&crls, 0)?;
        f.name = "crls".into();
        f.spec = SPEC.into();
        children.push(f);
    }
    let signers = it.next(SET, "signerInfos")?;
    let list: Vec<Field> = signers
        .children()?
        .iter()
        .map(signer_info)
        .collect::<Result<_>>()?;
    signer_count += list.len();
    children.push(
        signers
            .field(
                "signerInfos",
                format!("{signer_count} signers"),
                "One SignerInfo per signature; empty means nobody signed.",
                SPEC,
            )
            .with_children(list),
    );
    children.extend(it.rest()?);
    Ok(t.field(
        "SignedData",
        format!("{signer_count} signers"),
        "Content with any number of signatures over it.",
        SPEC,
    )
    .with_children(children))
}

fn encap_content_info(t: &Tlv<'_>) -> Result<Field> {
    const SPEC: &str = "RFC 5652 §5.2";
    let mut it = Items::of(t, "EncapsulatedContentInfo")?;
    let ty = it.next(OBJECT_IDENTIFIER, "eContentType")?;
    let mut children = vec![ty.field(
        "eContentType",
        oid_text(&ty),
        "The type of the signed content: id-data, plain bytes (a DER PKCS#10, or text).",
        SPEC,
    )];
    if let Some(explicit) = it.optional(ctx(0)) {
        let inner = explicit.children()?;
        let octets = match inner.as_slice() {
            [o] if o.tag == OCTET_STRING => *o,
            _ => {
                return Err(malformed(
                    explicit.start,
                    "eContent should hold one OCTET STRING",
                ))
            }
        };
        let nested = octets
            .nested_one(0)
            .ok()
            .and_then(|r| request(&r).ok())
            .map(|r| vec![r])
            .unwrap_or_else(|| nested_generic(&octets, 0));
        let is_request = nested
            .first()
            .map(|f| f.name == "CertificationRequest")
            .unwrap_or(false);
        // Printable UTF-8 (a JSON document) reads as itself.
        let text = std::str::from_utf8(octets.value())
            .ok()
            .filter(|t| !t.is_empty() && t.chars().all(|c| !c.is_control()));
        children.push(
            explicit
                .field(
                    "eContent",
                    match (is_request, text) {
                        (true, _) => format!("PKCS#10 request, {} bytes", octets.value().len()),
                        (false, Some(text)) => text.to_string(),
                        (false, None) => bytes_text(octets.value()),
                    },
                    "The signed content, an OCTET STRING inside [0] EXPLICIT; the messageDigest is over its contents.",
                    SPEC,
                )
                .with_children(vec![octets
                    .field(
                        "OCTET STRING",
                        bytes_text(octets.value()),
                        "The content octets the signer hashed.",
                        SPEC,
                    )
                    .with_children(nested)]),
        );
    }
    children.extend(it.rest()?);
    Ok(t.field(
        "encapContentInfo",
        oid_text(&ty),
        "The signed content and its type.",
        SPEC,
    )
    .with_children(children))
}

fn signer_info(t: &Tlv<'_>) -> Result<Field> {
    const SPEC: &str = "RFC 5652 §5.3";
    expect(t, SEQUENCE, "SignerInfo")?;
    let mut it = Items::of(t, "SignerInfo")?;
    let version = it.next(INTEGER, "version")?;
    let mut children = vec![version.field(
        "version",
        integer_text(version.value()),
        "1 when the signer is named by issuer and serial number.",
        SPEC,
    )];
    let sid = it.next_any("sid")?;
    let mut signer_text = String::new();
    if sid.tag == SEQUENCE {
        let mut sit = Items::of(&sid, "IssuerAndSerialNumber")?;
        let (issuer, issuer_text) = name_field(
            &sit.next(SEQUENCE, "issuer")?,
            "issuer",
            "The issuer of the signer's certificate.",
            "RFC 5652 §10.2.4",
        )?;
        let serial = sit.next(INTEGER, "serialNumber")?;
        let serial_value = serial_text(serial.value());
        signer_text = format!("certificate {serial_value} from {issuer_text}");
        let mut sid_children = vec![
            issuer,
            serial.field(
                "serialNumber",
                serial_value,
                "The serial number of the signer's certificate.",
                "RFC 5652 §10.2.4",
            ),
        ];
        sid_children.extend(sit.rest()?);
        children.push(
            sid.field(
                "sid (issuerAndSerialNumber)",
                signer_text.clone(),
                "Which certificate's key signed: found among the certificates by issuer and serial.",
                SPEC,
            )
            .with_children(sid_children),
        );
    } else if sid.tag == ctx_primitive(0) {
        signer_text = format!("key {}", hex(sid.value()));
        children.push(sid.field(
            "sid (subjectKeyIdentifier)",
            signer_text.clone(),
            "Which key signed, by its subjectKeyIdentifier, [0] IMPLICIT.",
            SPEC,
        ));
    } else {
        children.push(generic(&sid, 1)?);
    }
    children.push(algorithm(
        &it.next(SEQUENCE, "digestAlgorithm")?,
        "digestAlgorithm",
        "The hash of the content and of the signed attributes.",
        SPEC,
    )?);
    if let Some(attrs) = it.optional(ctx(0)) {
        let list: Vec<Field> = attrs
            .children()?
            .iter()
            .map(cms_attribute)
            .collect::<Result<_>>()?;
        children.push(
            attrs
                .field(
                    "signedAttrs",
                    format!("{} attributes", list.len()),
                    "Attributes the signature covers; their DER with a SET tag is what is signed. [0] IMPLICIT.",
                    "RFC 5652 §5.3, §5.4",
                )
                .with_children(list),
        );
    }
    children.push(algorithm(
        &it.next(SEQUENCE, "signatureAlgorithm")?,
        "signatureAlgorithm",
        "The signature algorithm: rsaEncryption means RSASSA-PKCS1-v1_5 with the digestAlgorithm.",
        SPEC,
    )?);
    let sig = it.next(OCTET_STRING, "signature")?;
    children.push(sig.field(
        "signature",
        bytes_text(sig.value()),
        "The enrollment agent's signature over the signed attributes.",
        "RFC 5652 §5.3, §5.5",
    ));
    if let Some(attrs) = it.optional(ctx(1)) {
        let list: Vec<Field> = attrs
            .children()?
            .iter()
            .map(cms_attribute)
            .collect::<Result<_>>()?;
        children.push(
            attrs
                .field(
                    "unsignedAttrs",
                    format!("{} attributes", list.len()),
                    "Attributes outside the signature, [1] IMPLICIT.",
                    SPEC,
                )
                .with_children(list),
        );
    }
    children.extend(it.rest()?);
    Ok(t.field(
        "SignerInfo",
        signer_text,
        "One signer: who, with which algorithms, what they signed.",
        SPEC,
    )
    .with_children(children))
}

/// A CMS attribute, `SEQUENCE { attrType, attrValues SET OF }` (RFC 5652 §5.3),
/// named and decoded for the ones an enroll-on-behalf-of request carries.
fn cms_attribute(t: &Tlv<'_>) -> Result<Field> {
    expect(t, SEQUENCE, "Attribute")?;
    let mut it = Items::of(t, "Attribute")?;
    let ty = it.next(OBJECT_IDENTIFIER, "attrType")?;
    let values = it.next(SET, "attrValues")?;
    let id = oid_of(&ty).map(|o| o.to_string()).unwrap_or_default();
    let items = values.children()?;
    let first = items.first();
    let (name, note, spec, summary, value_children): (&str, &str, &str, String, Vec<Field>) =
        match (id.as_str(), first) {
            ("1.2.840.113549.1.9.3", Some(v)) => (
                "contentType",
                "The type of the signed content, repeated under the signature; must equal eContentType.",
                "RFC 5652 §11.1",
                oid_text(v),
                vec![v.field("ContentType", oid_text(v), "An object identifier.", "RFC 5652 §11.1")],
            ),
            ("1.2.840.113549.1.9.4", Some(v)) => (
                "messageDigest",
                "SHA-256 of the eContent octets: the signature covers the content through this value.",
                "RFC 5652 §11.2",
                hex(v.value()),
                vec![v.field("MessageDigest", hex(v.value()), "An OCTET STRING.", "RFC 5652 §11.2")],
            ),
            ("1.2.840.113549.1.9.5", Some(v)) => (
                "signingTime",
                "When the signer says it signed (UTCTime through 2049).",
                "RFC 5652 §11.3",
                time_text(v),
                vec![v.field("SigningTime", time_text(v), "A UTCTime or GeneralizedTime.", "RFC 5652 §11.3")],
            ),
            ("1.3.6.1.4.1.311.13.2.1", Some(v)) => {
                let (summary, f) = name_value_pair(v)?;
                (
                    "enrollmentNameValuePair",
                    "Name-value pairs for the CA; requestername names the account the agent enrolls for.",
                    "MS-WCCE 2.2.2.7.10",
                    summary,
                    vec![f],
                )
            }
            _ => {
                let inner: Vec<Field> = items.iter().map(|c| generic(c, 1)).collect::<Result<_>>()?;
                let summary = inner.iter().map(|f| f.value.clone()).collect::<Vec<_>>().join(", ");
                (
                    oid_of(&ty).as_ref().and_then(oid::name).unwrap_or("attribute"),
                    "An attribute this view shows by its ASN.1 types.",
                    "RFC 5652 §5.3",
                    summary,
                    inner,
                )
            }
        };
    let mut children = vec![
        ty.field(
            "attrType",
            oid_text(&ty),
            "Which attribute.",
            "RFC 5652 §5.3",
        ),
        values
            .field(
                "attrValues",
                summary.clone(),
                "The attribute's values, a SET (one value here).",
                spec,
            )
            .with_children(value_children),
    ];
    children.extend(it.rest()?);
    Ok(t.field(name, summary, note, spec).with_children(children))
}

/// `EnrollmentNameValuePair ::= SEQUENCE { name BMPString, value BMPString }`.
fn name_value_pair(t: &Tlv<'_>) -> Result<(String, Field)> {
    const SPEC: &str = "MS-WCCE 2.2.2.7.10";
    expect(t, SEQUENCE, "EnrollmentNameValuePair")?;
    let mut it = Items::of(t, "EnrollmentNameValuePair")?;
    let name = it.next(BMP_STRING, "name")?;
    let value = it.next(BMP_STRING, "value")?;
    let name_text = string_text(&name).unwrap_or_default();
    let value_text_ = string_text(&value).unwrap_or_default();
    let summary = format!(
        "{} = {}",
        name_text.trim_end_matches('\0'),
        value_text_.trim_end_matches('\0')
    );
    let mut children = vec![
        name.field(
            "name",
            name_text,
            "The pair's name, a BMPString (UTF-16BE).",
            SPEC,
        ),
        value.field(
            "value",
            value_text_,
            "The pair's value: the requester's DOMAIN\\user name.",
            SPEC,
        ),
    ];
    children.extend(it.rest()?);
    Ok((
        summary.clone(),
        t.field(
            "EnrollmentNameValuePair",
            summary,
            "One name and its value.",
            SPEC,
        )
        .with_children(children),
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `depth` nested SEQUENCEs around a NULL, with 3-octet lengths.
    fn nested(depth: usize) -> Vec<u8> {
        let mut der = vec![NULL, 0x00];
        for _ in 0..depth {
            let len = der.len();
            // The fewest length octets, as DER asks.
            let mut next = vec![SEQUENCE];
            match len {
                0..=0x7F => next.push(len as u8),
                0x80..=0xFF => next.extend([0x81, len as u8]),
                0x100..=0xFFFF => next.extend([0x82, (len >> 8) as u8, len as u8]),
                _ => next.extend([0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]),
            }
            next.extend_from_slice(&der);
            der = next;
        }
        der
    }

    #[test]
    fn generic_walker_stops_at_its_depth_limit() {
        let der = nested(5000);
        let t = top(&der, "test").unwrap();
        let f = generic(&t, 0).unwrap();
        let mut depth = 0;
        let mut node = &f;
        while let Some(child) = node.children.first() {
            depth += 1;
            node = child;
        }
        assert_eq!(depth, MAX_DEPTH);
        assert_eq!(node.value, "(nested too deeply to show)");
    }

    #[test]
    fn reader_refuses_what_der_forbids() {
        // Indefinite length.
        assert!(top(&[SEQUENCE, 0x80, 0x00, 0x00], "t").is_err());
        // Length past the end.
        assert!(top(&[OCTET_STRING, 0x05, 0x00], "t").is_err());
        // A child running past its parent.
        let t = top(&[SEQUENCE, 0x02, OCTET_STRING, 0x05], "t").unwrap();
        assert!(t.children().is_err());
        // Five length octets; high tag numbers; trailing bytes.
        assert!(top(&[OCTET_STRING, 0x85, 0, 0, 0, 0, 1, 0], "t").is_err());
        assert!(top(&[0x1F, 0x01, 0x00], "t").is_err());
        assert!(top(&[NULL, 0x00, 0x00], "t").is_err());
        assert!(top(&[], "t").is_err());
        // The long form for a short length, and a leading zero length octet
        // (X.690 §10.1: DER uses the fewest octets).
        assert!(top(&[OCTET_STRING, 0x81, 0x01, 0xAB], "t").is_err());
        assert!(top(&[OCTET_STRING, 0x82, 0x00, 0x80], "t").is_err());
        let mut long = vec![OCTET_STRING, 0x81, 0x80];
        long.extend([0xAB; 0x80]);
        let ok = top(&long, "t").unwrap();
        assert_eq!((ok.start, ok.total(), ok.value().len()), (0, 131, 0x80));
    }
}
