//! What a step produces and what it checks: plain, serialisable data.
//!
//! Every artifact carries its real bytes and a decoded view whose field names,
//! offsets and lengths come from the parser that read those bytes, so the
//! inspector can highlight a field's bytes and a byte's field without any
//! hand-typed layout.

use serde::{Deserialize, Serialize};

/// One field of a decoded structure, as a reader sees it in the inspector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The specification's name for the field (`cbModulus`, `tbsCertificate`).
    pub name: String,
    /// The value, readable: `2048`, `RSA1 (0x31415352)`, `2026-11-22 10:00:00 UTC`.
    pub value: String,
    /// One line on what the field means.
    pub note: String,
    /// Where the rule comes from: `MS-ADTS 2.2.20.2`, `RFC 5280 §4.1.2.2`.
    pub spec: String,
    /// First byte of the field within the artifact's bytes.
    pub offset: usize,
    /// Length of the field in bytes.
    pub len: usize,
    /// Sub-fields, in byte order.
    pub children: Vec<Field>,
}

impl Field {
    /// A leaf field.
    pub fn new(
        name: impl Into<String>,
        value: impl Into<String>,
        note: impl Into<String>,
        spec: impl Into<String>,
        offset: usize,
        len: usize,
    ) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            note: note.into(),
            spec: spec.into(),
            offset,
            len,
            children: Vec::new(),
        }
    }

    /// The same field with sub-fields.
    #[must_use]
    pub fn with_children(mut self, children: Vec<Field>) -> Self {
        self.children = children;
        self
    }

    /// The byte range `offset..offset + len`.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }

    /// The same field moved `by` bytes to the right, with all its sub-fields:
    /// for a structure decoded on its own and then placed inside a larger one.
    #[must_use]
    pub fn shifted(mut self, by: usize) -> Self {
        self.offset += by;
        self.children = self.children.into_iter().map(|c| c.shifted(by)).collect();
        self
    }
}

/// The kind of an artifact: decides how it is decoded, shown and saved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArtifactKind {
    /// A JSON Web Token in compact JWS serialisation (RFC 7515, RFC 7519).
    Jwt,
    /// A JSON document (a request or response body, a key set).
    Json,
    /// BCRYPT_RSAKEY_BLOB with magic `RSA1` (MS-KPP, `bcrypt.h`).
    BcryptRsaPublicBlob,
    /// KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20).
    KeyCredentialLink,
    /// The DN-Binary string form of an msDS-KeyCredentialLink value.
    DnBinary,
    /// TPM2B_PUBLIC (TPM 2.0 Part 2 §12.2.5).
    TpmPublic,
    /// TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12).
    TpmsAttest,
    /// TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4).
    TpmtSignature,
    /// A TPM 2.0 command buffer (TPM 2.0 Part 3).
    TpmCommand,
    /// A TPM 2.0 response buffer (TPM 2.0 Part 3).
    TpmResponse,
    /// A PKCS#10 certification request, DER (RFC 2986).
    Pkcs10,
    /// A CMS SignedData, DER (RFC 5652).
    Cms,
    /// An X.509 certificate, DER (RFC 5280).
    Certificate,
    /// A certificate revocation list, DER (RFC 5280 §5).
    Crl,
    /// A SubjectPublicKeyInfo, DER (RFC 5280 §4.1.2.7).
    PublicKey,
    /// A Kerberos message, DER (RFC 4120 §5: AS-REQ, AS-REP, KRB-ERROR).
    Kerberos,
    /// An XML document: a WS-Trust message, a SAML assertion (W3C XML 1.0).
    Xml,
    /// A structure whose format is not public; the project's own design.
    Modelled,
}

impl ArtifactKind {
    /// What the structure is called where its format is defined.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jwt => "compact JWS (RFC 7515)",
            Self::Json => "JSON document",
            Self::BcryptRsaPublicBlob => "BCRYPT_RSAPUBLIC_BLOB",
            Self::KeyCredentialLink => "KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20)",
            Self::DnBinary => "DN-Binary value",
            Self::TpmPublic => "TPM2B_PUBLIC",
            Self::TpmsAttest => "TPMS_ATTEST",
            Self::TpmtSignature => "TPMT_SIGNATURE",
            Self::TpmCommand => "TPM 2.0 command",
            Self::TpmResponse => "TPM 2.0 response",
            Self::Pkcs10 => "PKCS#10 request (RFC 2986)",
            Self::Cms => "CMS SignedData (RFC 5652)",
            Self::Certificate => "X.509 certificate (RFC 5280)",
            Self::Crl => "X.509 CRL (RFC 5280 §5)",
            Self::PublicKey => "SubjectPublicKeyInfo",
            Self::Kerberos => "Kerberos message (RFC 4120 §5), DER",
            Self::Xml => "XML document",
            Self::Modelled => "modelled structure",
        }
    }

    /// The file extension a standard tool expects.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Json => "json",
            Self::DnBinary => "txt",
            Self::Pkcs10 => "csr",
            Self::Cms => "p7b",
            Self::Certificate => "crt",
            Self::Crl => "crl",
            Self::PublicKey => "pem",
            Self::Kerberos => "der",
            Self::Xml => "xml",
            Self::BcryptRsaPublicBlob
            | Self::KeyCredentialLink
            | Self::TpmPublic
            | Self::TpmsAttest
            | Self::TpmtSignature
            | Self::TpmCommand
            | Self::TpmResponse
            | Self::Modelled => "bin",
        }
    }

    /// The PEM label (RFC 7468) when the artifact has a PEM form.
    pub fn pem_label(self) -> Option<&'static str> {
        match self {
            Self::Pkcs10 => Some("CERTIFICATE REQUEST"),
            Self::Cms => Some("CMS"),
            Self::Certificate => Some("CERTIFICATE"),
            Self::Crl => Some("X509 CRL"),
            Self::PublicKey => Some("PUBLIC KEY"),
            _ => None,
        }
    }

    /// Whether the bytes are text (shown as text rather than only as hex).
    pub fn is_text(self) -> bool {
        matches!(self, Self::Jwt | Self::Json | Self::DnBinary | Self::Xml)
    }
}

/// A structure produced by a step: the real bytes and their decoded view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Stable within a run, and a file name stem: `adrs-access-token`.
    pub id: String,
    /// What a reader calls it: "ADRS access token".
    pub title: String,
    pub kind: ArtifactKind,
    /// Serialised as base64: a quarter of the size of a JSON array of numbers,
    /// and what a reader of `trace.json` can paste into a decoder.
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
    /// The decoded view, from the parser that read `bytes`.
    pub fields: Vec<Field>,
    /// Why there is no decoded view: the parser's own words, when the bytes
    /// do not parse as their kind (an edited artifact, say).
    #[serde(default)]
    pub unreadable: Option<String>,
    /// Why the format is the project's own design, when no public spec defines it.
    pub modelled: Option<String>,
}

impl Artifact {
    /// An artifact whose decoded view is what `view` (its kind's parser)
    /// made of the bytes; a parser's error becomes the `unreadable` reason.
    pub fn decoded<E: std::fmt::Display>(
        id: &str,
        title: &str,
        kind: ArtifactKind,
        bytes: Vec<u8>,
        view: std::result::Result<Vec<Field>, E>,
        modelled: Option<&str>,
    ) -> Artifact {
        let (fields, unreadable) = match view {
            Ok(fields) => (fields, None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        Artifact {
            id: id.into(),
            title: title.into(),
            kind,
            bytes,
            fields,
            unreadable,
            modelled: modelled.map(str::to_string),
        }
    }
}

/// Whether a check held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Pass,
    Fail { reason: String },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Self::Pass)
    }

    /// A check's result as its outcome: `Err` gives the reason it failed.
    pub fn of(result: Result<(), String>) -> Outcome {
        match result {
            Ok(()) => Outcome::Pass,
            Err(reason) => Outcome::Fail { reason },
        }
    }
}

/// `Vec<u8>` as a standard base64 string in serialised forms.
pub mod base64_bytes {
    use base64ct::{Base64, Encoding};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Base64::encode_string(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Base64::decode_vec(&text)
            .map_err(|_| serde::de::Error::custom("bytes are not valid base64"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_do_not_parse_say_why_instead_of_an_empty_view() {
        let good = Artifact::decoded(
            "a",
            "A",
            ArtifactKind::Jwt,
            b"x".to_vec(),
            Ok::<_, String>(vec![Field::new("n", "v", "note", "spec", 0, 1)]),
            None,
        );
        assert_eq!((good.fields.len(), &good.unreadable), (1, &None));
        let token = "eyJhbGciOiJSUzI1NiJ9.not base64!.sig";
        let bad = Artifact::decoded(
            "b",
            "B",
            ArtifactKind::Jwt,
            token.as_bytes().to_vec(),
            Err::<Vec<Field>, _>("the payload segment is not base64url"),
            None,
        );
        assert!(bad.fields.is_empty());
        let why = bad.unreadable.expect("a reason");
        assert!(!why.is_empty());
        // Old traces without the member still read.
        let json = serde_json::to_string(&good)
            .unwrap()
            .replace(",\"unreadable\":null", "");
        assert!(!json.contains("unreadable"));
        assert_eq!(serde_json::from_str::<Artifact>(&json).unwrap(), good);
    }

    #[test]
    fn artifacts_travel_as_json_with_base64_bytes() {
        let a = Artifact {
            id: "x".into(),
            title: "X".into(),
            kind: ArtifactKind::Json,
            bytes: vec![0, 1, 2, 250],
            fields: vec![Field::new("n", "v", "note", "spec", 0, 4)],
            unreadable: None,
            modelled: None,
        };
        let json = serde_json::to_string(&a).unwrap();
        assert!(json.contains(r#""bytes":"AAEC+g==""#), "{json}");
        assert_eq!(serde_json::from_str::<Artifact>(&json).unwrap(), a);
        let bad = json.replace("AAEC+g==", "not base64!");
        assert!(serde_json::from_str::<Artifact>(&bad).is_err());
    }
}
