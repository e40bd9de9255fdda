//! An artifact as a file: the tool that opens it, its bytes (PEM where a PEM
//! form exists), its text form and its file name. The page's inspector and
//! the command line's bundle (`whfb-core`'s `export`) use the same functions.

use crate::artifact::{Artifact, ArtifactKind};
use crate::event::Event;
use base64ct::{Base64, Encoding};

/// The standard tool that opens an artifact of this kind.
pub fn tool_for(kind: ArtifactKind) -> &'static str {
    match kind {
        ArtifactKind::Jwt => "any JWT library or jwt.io-style decoder; verify RS256 with the issuer's key from the JWK set",
        ArtifactKind::Json => "jq, or any JSON viewer",
        ArtifactKind::BcryptRsaPublicBlob => "a hex viewer (xxd); layout in MS-KPP / bcrypt.h BCRYPT_RSAKEY_BLOB",
        ArtifactKind::KeyCredentialLink => "DSInternals (Get-ADKeyCredential) or the dsinternals Python package; layout in MS-ADTS 2.2.20",
        ArtifactKind::DnBinary => "a text editor; the hex part is a KEYCREDENTIALLINK_BLOB",
        ArtifactKind::TpmPublic | ArtifactKind::TpmsAttest | ArtifactKind::TpmtSignature => {
            "tpm2_print -t TPM2B_PUBLIC / TPMS_ATTEST / TPMT_SIGNATURE (tpm2-tools)"
        }
        ArtifactKind::TpmCommand | ArtifactKind::TpmResponse => "tpm2-tools' tpm2_rc_decode for response codes; a hex viewer for the rest",
        ArtifactKind::Pkcs10 => "openssl req -in FILE -noout -text -verify",
        ArtifactKind::Cms => "openssl cms -cmsout -print -inform DER -in FILE",
        ArtifactKind::Certificate => "openssl x509 -in FILE -noout -text",
        ArtifactKind::Crl => "openssl crl -in FILE -noout -text",
        ArtifactKind::PublicKey => "openssl pkey -pubin -in FILE -noout -text",
        ArtifactKind::Kerberos => "openssl asn1parse -inform DER -i -in FILE (its ASN.1 structure; RFC 4120 §5 names the fields)",
        ArtifactKind::Xml => "xmllint --format FILE; a SAML assertion's signature: xmlsec1 --verify --trusted-pem adfs-signing-certificate.pem --id-attr:AssertionID urn:oasis:names:tc:SAML:1.0:assertion:Assertion FILE",
        ArtifactKind::Modelled => "a hex viewer: the format is the project's own",
    }
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out.into_bytes()
}

/// The artifact's bytes as its file: PEM where a PEM form exists.
pub fn file_bytes(artifact: &Artifact) -> Vec<u8> {
    match artifact.kind.pem_label() {
        Some(label) if artifact.kind != ArtifactKind::Cms => pem(label, &artifact.bytes),
        _ => artifact.bytes.clone(),
    }
}

/// How the artifact reads as text: PEM where it has a PEM form, the text
/// itself for tokens and JSON, base64 otherwise; with the label for a button.
pub fn text_form(artifact: &Artifact) -> (&'static str, String) {
    let label = match artifact.kind.pem_label() {
        Some(_) if artifact.kind != ArtifactKind::Cms => "PEM",
        _ if artifact.kind.is_text() => "Text",
        _ => "Base64",
    };
    let text = match label {
        "Base64" => Base64::encode_string(&artifact.bytes),
        _ => String::from_utf8(file_bytes(artifact))
            .unwrap_or_else(|_| Base64::encode_string(&artifact.bytes)),
    };
    (label, text)
}

/// A file name for an artifact of a step: `07-access-token.jwt`.
pub fn file_name(event: &Event, artifact: &Artifact) -> String {
    format!("{:02}-{}", event.index + 1, saved_name(artifact))
}

/// The name an artifact is saved under on its own: `access-token.jwt`;
/// PEM forms end in `.pem`, as [`file_bytes`] writes them.
pub fn saved_name(artifact: &Artifact) -> String {
    let ext = match artifact.kind {
        ArtifactKind::Certificate
        | ArtifactKind::Crl
        | ArtifactKind::Pkcs10
        | ArtifactKind::PublicKey => "pem",
        other => other.extension(),
    };
    format!("{}.{ext}", artifact.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_wraps_at_64_columns() {
        let text = String::from_utf8(pem("CERTIFICATE", &[0u8; 100])).unwrap_or_default();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert!(text
            .lines()
            .all(|l| l.len() <= 64 || l.starts_with("-----")));
    }
}
