//! Inspecting a value a person brings from a real deployment: an
//! msDS-KeyCredentialLink value as AD tools print it (DN-Binary), or its
//! blob in hex or base64; a JWT; a certificate, certificate request, CMS
//! message, CRL or public key (PEM, or DER in hex or base64); a BCRYPT
//! public key blob; a TPM2B_PUBLIC or TPMS_ATTEST; a SAML 1.1 assertion
//! (XML, or its base64) from a federated IdP. The value is read with
//! the same parsers as a run's artifacts, shown with the same decoded view,
//! and given every check that can run on it alone.
//!
//! Nothing here has a clock: "now", for validity periods and token times,
//! comes in.

use crate::artifact::{Artifact, ArtifactKind, Field};
use crate::clock::SimTime;
use crate::formats::encoding::{b64url_decode, hex, hex_digit};
use crate::formats::key_credential_link::DnBinary;
use crate::formats::{jws, BcryptRsaPublicBlob, Jws, KeyCredentialLink};
use crate::pki::oid;
use base64ct::{Base64, Encoding};
use rsa::traits::PublicKeyParts;
use tpm_emu::{Tpm2bPublic, TpmSt, TpmaObject, TpmsAttest, Unmarshal};
use whfb_model::inspect::{Finding, Inspection};

/// The largest value read: far beyond any artifact of these kinds.
pub const MAX_INPUT: usize = 1 << 20;

/// Reads `input` (text or bytes), says what it is, and checks it.
pub fn inspect(input: &[u8], now: SimTime) -> Result<Inspection, String> {
    if input.len() > MAX_INPUT {
        return Err(format!(
            "{} bytes is more than any value of these kinds: at most {MAX_INPUT} are read",
            input.len()
        ));
    }
    let (read_as, kind, bytes) = read(input)?;
    let fields = view(kind, &bytes);
    let mut inspection = Inspection {
        read_as,
        artifact: Artifact::decoded("inspected", kind.name(), kind, bytes.clone(), fields, None),
        findings: Vec::new(),
        not_checked: Vec::new(),
    };
    check(&mut inspection, kind, &bytes, now);
    Ok(inspection)
}

/// How the input reads: its form, what it is, its bytes.
fn read(input: &[u8]) -> Result<(String, ArtifactKind, Vec<u8>), String> {
    if input.is_empty() {
        return Err("there is nothing to inspect: paste or drop a value".into());
    }
    // Text is UTF-8 without control characters other than white space;
    // anything else is bytes.
    let text = std::str::from_utf8(input)
        .ok()
        .filter(|t| !t.chars().any(|c| c.is_control() && !c.is_whitespace()));
    let Some(text) = text else {
        let kind = sniff(input)?;
        return Ok((format!("{} bytes", input.len()), kind, input.to_vec()));
    };
    let text = text.trim();
    if text.is_empty() {
        return Err("there is nothing to inspect: only white space".into());
    }
    if text.starts_with("-----BEGIN ") {
        let (label, der) = pem(text)?;
        let kind = match label.as_str() {
            "CERTIFICATE" => ArtifactKind::Certificate,
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => ArtifactKind::Pkcs10,
            "PKCS7" | "CMS" => ArtifactKind::Cms,
            "X509 CRL" => ArtifactKind::Crl,
            "PUBLIC KEY" => ArtifactKind::PublicKey,
            other => sniff(&der).map_err(|e| format!("a PEM block labelled {other}: {e}"))?,
        };
        let read_as = format!("PEM ({label}), {} bytes of DER", der.len());
        return Ok((read_as, kind, der));
    }
    if text.starts_with('<') {
        crate::formats::xml::parse(text)
            .map_err(|e| format!("it begins as XML does, but is {e}"))?;
        let what = if crate::formats::saml::locate(text).is_ok() {
            "XML holding a SAML 1.1 assertion"
        } else {
            "XML"
        };
        return Ok((what.into(), ArtifactKind::Xml, text.as_bytes().to_vec()));
    }
    if text.starts_with("B:") {
        DnBinary::parse(text).map_err(|e| format!("a DN-Binary value that does not read: {e}"))?;
        return Ok((
            "DN-Binary (an msDS-KeyCredentialLink value as AD tools print it)".into(),
            ArtifactKind::DnBinary,
            text.as_bytes().to_vec(),
        ));
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() == 3 && parts[0].starts_with("eyJ") {
        return Ok((
            "a JWT (compact JWS)".into(),
            ArtifactKind::Jwt,
            text.as_bytes().to_vec(),
        ));
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let unhexed: String = compact.chars().filter(|c| *c != ':').collect();
    let (form, bytes) = if !unhexed.is_empty()
        && unhexed.len() % 2 == 0
        && unhexed.bytes().all(|b| hex_digit(b).is_some())
    {
        ("hex", from_hex(&unhexed))
    } else if let Ok(bytes) = Base64::decode_vec(&compact) {
        ("base64", bytes)
    } else if let Ok(bytes) = b64url_decode(compact.trim_end_matches('=')) {
        ("base64url", bytes)
    } else {
        return Err(
            "this text is none of the forms read here: PEM (-----BEGIN …), a DN-Binary value (B:…), \
             a JWT (eyJ….….…), XML (<…), or bytes in hex or base64"
                .into(),
        );
    };
    let kind = sniff(&bytes).map_err(|e| format!("{form} of {} bytes: {e}", bytes.len()))?;
    Ok((format!("{form}, {} bytes", bytes.len()), kind, bytes))
}

fn from_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks_exact(2)
        .map(|p| (hex_digit(p[0]).unwrap_or(0) << 4) | hex_digit(p[1]).unwrap_or(0))
        .collect()
}

/// The label and bytes of the first PEM block (RFC 7468).
fn pem(text: &str) -> Result<(String, Vec<u8>), String> {
    let first = text.lines().next().unwrap_or_default().trim();
    let label = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or("the PEM header is not of the form -----BEGIN LABEL-----")?
        .to_string();
    let end = format!("-----END {label}-----");
    let body: String = text
        .lines()
        .skip(1)
        .take_while(|l| l.trim() != end)
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    if !text.lines().any(|l| l.trim() == end) {
        return Err(format!("the PEM block has no closing {end} line"));
    }
    let der = Base64::decode_vec(&body)
        .map_err(|_| format!("the PEM block's body ({label}) is not base64"))?;
    Ok((label, der))
}

/// What binary bytes are, from their first bytes and their structure.
fn sniff(bytes: &[u8]) -> Result<ArtifactKind, String> {
    let start = &bytes[..bytes.len().min(4)];
    if start == [0x00, 0x02, 0x00, 0x00] {
        return Ok(ArtifactKind::KeyCredentialLink);
    }
    if start == b"RSA1" {
        return Ok(ArtifactKind::BcryptRsaPublicBlob);
    }
    if start == [0xFF, 0x54, 0x43, 0x47] {
        return Ok(ArtifactKind::TpmsAttest);
    }
    // A size, then TPM_ALG_RSA or TPM_ALG_ECC: a TPM2B_PUBLIC, even cut
    // short (its parser then says where).
    if bytes.len() >= 4
        && u16::from_be_bytes([bytes[0], bytes[1]]) >= 0x10
        && matches!([bytes[2], bytes[3]], [0x00, 0x01] | [0x00, 0x23])
    {
        return Ok(ArtifactKind::TpmPublic);
    }
    if bytes.first() == Some(&0x30) {
        use der::Decode;
        if x509_cert::Certificate::from_der(bytes).is_ok() {
            return Ok(ArtifactKind::Certificate);
        }
        if x509_cert::request::CertReq::from_der(bytes).is_ok() {
            return Ok(ArtifactKind::Pkcs10);
        }
        if cms::content_info::ContentInfo::from_der(bytes).is_ok() {
            return Ok(ArtifactKind::Cms);
        }
        if x509_cert::crl::CertificateList::from_der(bytes).is_ok() {
            return Ok(ArtifactKind::Crl);
        }
        if spki::SubjectPublicKeyInfoOwned::from_der(bytes).is_ok() {
            return Ok(ArtifactKind::PublicKey);
        }
        return Err(match crate::pki::der_fields(bytes) {
            Err(e) => format!("it begins as DER does, but {e}"),
            Ok(_) => "a DER SEQUENCE, but not a certificate, certificate request, CMS message, CRL or public key".into(),
        });
    }
    // Base64 of XML: a SAML token as a saml1_1-bearer grant or a
    // WS-Federation POST carries it.
    if bytes.first() == Some(&b'<') {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| "it begins as XML does, but is not UTF-8".to_string())?;
        crate::formats::xml::parse(text)
            .map_err(|e| format!("it begins as XML does, but is {e}"))?;
        return Ok(ArtifactKind::Xml);
    }
    if matches!(bytes.first(), Some(0x6a..=0x6e | 0x7e))
        && crate::kerberos::view::fields(bytes).is_ok()
    {
        return Ok(ArtifactKind::Kerberos);
    }
    Err(format!(
        "bytes beginning {} are none of the kinds read here: KEYCREDENTIALLINK_BLOB (00020000), \
         BCRYPT_RSAKEY_BLOB (RSA1), TPMS_ATTEST (ff544347), TPM2B_PUBLIC, DER or a Kerberos message",
        hex(start)
    ))
}

/// The decoded view of `bytes` as `kind`, or the parser's reason.
fn view(kind: ArtifactKind, bytes: &[u8]) -> Result<Vec<Field>, String> {
    let text = || String::from_utf8_lossy(bytes).into_owned();
    let e = |e: crate::Error| e.to_string();
    match kind {
        ArtifactKind::Jwt => jws::fields(&text()).map_err(e),
        ArtifactKind::DnBinary => DnBinary::fields(&text()).map_err(e),
        ArtifactKind::KeyCredentialLink => KeyCredentialLink::fields(bytes).map_err(e),
        ArtifactKind::BcryptRsaPublicBlob => BcryptRsaPublicBlob::fields(bytes).map_err(e),
        ArtifactKind::Certificate => crate::pki::certificate_fields(bytes).map_err(e),
        ArtifactKind::Pkcs10 => crate::pki::request_fields(bytes).map_err(e),
        ArtifactKind::Cms => crate::pki::cms_fields(bytes).map_err(e),
        ArtifactKind::Crl => crate::pki::crl_fields(bytes).map_err(e),
        ArtifactKind::PublicKey => crate::pki::public_key_fields(bytes).map_err(e),
        ArtifactKind::Kerberos => crate::kerberos::view::fields(bytes).map_err(e),
        ArtifactKind::Xml => crate::formats::xml::fields(&text()).map_err(|e| e.to_string()),
        ArtifactKind::TpmPublic | ArtifactKind::TpmsAttest => {
            match crate::device::tpm_fields(kind, bytes) {
                fields if fields.is_empty() => Err(tpm_error(kind, bytes)),
                fields => Ok(fields),
            }
        }
        other => Err(format!("no view for {}", other.name())),
    }
}

/// Why TPM bytes do not parse, in the TPM parser's words (which name the
/// field and where).
fn tpm_error(kind: ArtifactKind, bytes: &[u8]) -> String {
    let why = match kind {
        ArtifactKind::TpmPublic => Tpm2bPublic::from_bytes(bytes).err().map(|e| e.to_string()),
        _ => TpmsAttest::from_bytes(bytes).err().map(|e| e.to_string()),
    };
    format!(
        "malformed {}: {}",
        kind.name(),
        why.unwrap_or_else(|| "no view".into())
    )
}

/// Every check that can run on the value alone.
fn check(out: &mut Inspection, kind: ArtifactKind, bytes: &[u8], now: SimTime) {
    match kind {
        ArtifactKind::DnBinary => {
            if let Ok(value) = DnBinary::parse(&String::from_utf8_lossy(bytes)) {
                key_credential_link(out, value.binary());
            }
        }
        ArtifactKind::KeyCredentialLink => key_credential_link(out, bytes),
        ArtifactKind::BcryptRsaPublicBlob => match BcryptRsaPublicBlob::parse(bytes) {
            Ok(blob) => bcrypt(out, &blob, "BCRYPT_RSAKEY_BLOB"),
            Err(e) => out.findings.push(Finding::new(
                "BCRYPT_RSAKEY_BLOB reads",
                "magic RSA1, the header's lengths against the bytes that follow",
                "MS-KPP; bcrypt.h BCRYPT_RSAKEY_BLOB",
                Err(e.to_string()),
            )),
        },
        ArtifactKind::Jwt => jwt(out, &String::from_utf8_lossy(bytes), now),
        ArtifactKind::Xml => saml(out, &String::from_utf8_lossy(bytes), now),
        ArtifactKind::Certificate => certificate(out, bytes, now),
        ArtifactKind::Pkcs10 => {
            let verified = crate::pki::verify_request(bytes);
            out.findings.push(Finding::new(
                "Request's self-signature",
                "the signature over certificationRequestInfo, verified with the public key the request carries: whoever made it holds that key",
                "RFC 2986 §3",
                verified.as_ref().map(|_| ()).map_err(|e| e.to_string()),
            ));
            if let Ok(key) = verified {
                rsa_size(out, key.size() * 8, "the request's public key");
            }
        }
        ArtifactKind::TpmsAttest => {
            let attest = TpmsAttest::from_bytes(bytes);
            out.findings.push(Finding::new(
                "Made by a TPM, certifying a key",
                "magic TPM_GENERATED_VALUE (0xFF544347) and type TPM_ST_ATTEST_CERTIFY (0x8017)",
                "TPM 2.0 Part 2 §10.12.12, §6.2",
                match &attest {
                    Err(e) => Err(format!("the TPMS_ATTEST does not parse: {e}")),
                    Ok(a) if a.type_() == TpmSt::ATTEST_CERTIFY => Ok(()),
                    Ok(a) => Err(format!("the type is {:?}, not TPM_ST_ATTEST_CERTIFY", a.type_())),
                },
            ));
            out.not_checked.push(
                "The attestation's signature: the AIK certificate that verifies it is not part of this value."
                    .into(),
            );
        }
        ArtifactKind::TpmPublic => tpm_public(out, bytes),
        ArtifactKind::PublicKey => {
            use rsa::pkcs8::DecodePublicKey;
            let key = rsa::RsaPublicKey::from_public_key_der(bytes);
            out.findings.push(Finding::new(
                "RSA public key",
                "the SubjectPublicKeyInfo holds an RSA key",
                "RFC 5280 §4.1.2.7; RFC 8017 A.1.1",
                key.as_ref().map(|_| ()).map_err(|e| e.to_string()),
            ));
            if let Ok(key) = key {
                rsa_size(out, key.size() * 8, "the key");
            }
        }
        ArtifactKind::Cms => match crate::pki::chain_certificates(bytes) {
            // A certs-only SignedData (RFC 5652 §5.2's degenerate case), as
            // a CA answers with a certificate chain.
            Ok(certs) if crate::pki::signed_content_and_signer(bytes).is_err() => {
                out.findings.push(Finding::new(
                    "Certificates only",
                    format!("a SignedData without signers, carrying {} certificates that decode", certs.len()),
                    "RFC 5652 §5.2",
                    if certs.is_empty() {
                        Err("it carries no certificate either".into())
                    } else {
                        Ok(())
                    },
                ));
            }
            _ => out.findings.push(Finding::new(
                "SignedData with its signer",
                "the ContentInfo holds a SignedData whose content and signer's certificate can be read",
                "RFC 5652 §5",
                crate::pki::signed_content_and_signer(bytes).map(|_| ()),
            )),
        },
        _ => {}
    }
}

/// A SAML 1.1 assertion from a federated IdP, as Entra ID would read it.
fn saml(out: &mut Inspection, text: &str, now: SimTime) {
    use crate::formats::saml;
    let assertion = match saml::read(text) {
        Ok(a) => a,
        Err(e) => {
            out.findings.push(Finding::new(
                "SAML 1.1 assertion",
                "an Assertion with its Conditions, AttributeStatement and AuthenticationStatement",
                "OASIS SAML 1.1 core §2.3",
                Err(e),
            ));
            return;
        }
    };
    let signed = saml::key_info_certificate(text).and_then(|der| {
        let key = crate::pki::certificate_public_key(&der).map_err(|e| e.to_string())?;
        saml::verify(text, &key)
    });
    out.findings.push(Finding::new(
        "Signature matches the content and the certificate it carries",
        "the digest of the canonical assertion against the signed DigestValue, and the signature over SignedInfo against the KeyInfo certificate's key",
        "W3C XML Signature §3.2; exclusive c14n",
        signed,
    ));
    out.findings.push(Finding::new(
        "Within its validity",
        assertion.window(now),
        "SAML 1.1 core §2.3.2.1",
        assertion.valid_at(now),
    ));
    out.findings.push(Finding::new(
        "For Entra ID",
        format!(
            "the audiences {:?} must include urn:federation:MicrosoftOnline",
            assertion.audiences
        ),
        "SAML 1.1 core §2.3.2.1.3; Entra ID's federation",
        if assertion
            .audiences
            .iter()
            .any(|a| a == "urn:federation:MicrosoftOnline")
        {
            Ok(())
        } else {
            Err("Entra ID accepts only tokens for urn:federation:MicrosoftOnline".into())
        },
    ));
    let immutable = assertion.attribute("ImmutableID");
    out.findings.push(Finding::new(
        "Names the user by ImmutableID",
        "the NameIdentifier, which Entra ID matches against the users' source anchor, and the ImmutableID attribute agree",
        "Entra ID federation (the source anchor)",
        match immutable.first() {
            None => Err("no ImmutableID attribute".into()),
            Some(id) if *id != assertion.name_id => Err(format!(
                "the NameIdentifier \"{}\" differs from the ImmutableID \"{id}\"",
                assertion.name_id
            )),
            Some(_) => Ok(()),
        },
    ));
    let methods = assertion.attribute("authnmethodsreferences");
    out.findings.push(Finding::new(
        "Vouches for MFA",
        format!("authnmethodsreferences {methods:?} must include http://schemas.microsoft.com/claims/multipleauthn"),
        "Entra ID federation (federatedIdpMfaBehavior)",
        if methods.contains(&"http://schemas.microsoft.com/claims/multipleauthn") {
            Ok(())
        } else {
            Err("no multipleauthn: Entra ID will not count this sign-in as MFA".into())
        },
    ));
    out.not_checked.push("Whether the signing certificate is the one the federated domain's settings in Entra ID hold, and whether a user has this ImmutableID: both live in the tenant.".into());
}

fn key_credential_link(out: &mut Inspection, bytes: &[u8]) {
    match KeyCredentialLink::parse(bytes) {
        Ok(link) => {
            out.findings.push(Finding::new(
                "KeyID",
                format!(
                    "the KeyID entry against SHA-256 of the KeyMaterial: {}",
                    link.key_id_base64()
                ),
                "MS-ADTS 2.2.20.3 (KeyID)",
                Ok(()),
            ));
            out.findings.push(Finding::new(
                "KeyHash",
                "the KeyHash entry against SHA-256 of every entry after it",
                "MS-ADTS 2.2.20.3 (KeyHash)",
                Ok(()),
            ));
            match link.key_material_blob() {
                Ok(blob) => bcrypt(out, &blob, "KeyMaterial"),
                Err(e) => out.findings.push(Finding::new(
                    "KeyMaterial is an RSA public key",
                    "the KeyMaterial entry as a BCRYPT_RSAKEY_BLOB",
                    "MS-ADTS 2.2.20.6; MS-KPP",
                    Err(e.to_string()),
                )),
            }
            out.findings.push(Finding::new(
                "KeyUsage is NGC",
                format!("KeyUsage 0x{:02X}: Windows Hello for Business keys are KEY_USAGE_NGC (0x01)", link.usage().to_u8()),
                "MS-ADTS 2.2.20.6 (KeyUsage)",
                if link.usage().to_u8() == 0x01 {
                    Ok(())
                } else {
                    Err(format!("KeyUsage is 0x{:02X}: this key is not a Windows Hello key", link.usage().to_u8()))
                },
            ));
            out.findings.push(Finding::new(
                "The key names its device",
                "a DeviceId entry: the device that holds the key",
                "MS-ADTS 2.2.20.6 (DeviceId)",
                match link.device_id() {
                    Some(id) => {
                        out.not_checked.push(format!(
                            "Whether device {id} is registered: that is the directory's to say."
                        ));
                        Ok(())
                    }
                    None => Err("no DeviceId entry".into()),
                },
            ));
        }
        Err(e) => out.findings.push(Finding::new(
            "KeyID and KeyHash",
            "the KeyID entry against SHA-256 of the KeyMaterial, the KeyHash entry against SHA-256 of the entries after it",
            "MS-ADTS 2.2.20.3",
            Err(e.to_string()),
        )),
    }
}

fn bcrypt(out: &mut Inspection, blob: &BcryptRsaPublicBlob, what: &str) {
    rsa_size(out, blob.bit_length() as usize, what);
    let exponent = blob.exponent();
    out.findings.push(Finding::new(
        "Public exponent 65537",
        format!("{what}'s exponent, 0x{}", hex(exponent)),
        "MS-KPP (the TPM's RSA keys use 65537)",
        if exponent
            .iter()
            .skip_while(|b| **b == 0)
            .eq([0x01, 0x00, 0x01].iter())
        {
            Ok(())
        } else {
            Err(format!("the exponent is 0x{}", hex(exponent)))
        },
    ));
}

fn rsa_size(out: &mut Inspection, bits: usize, what: &str) {
    out.findings.push(Finding::new(
        "RSA-2048",
        format!("{what}: {bits} bits"),
        "Windows Hello for Business keys are RSA-2048 in the TPM",
        if bits == 2048 {
            Ok(())
        } else {
            Err(format!("{bits} bits, not 2048"))
        },
    ));
}

fn jwt(out: &mut Inspection, text: &str, now: SimTime) {
    let parsed = match Jws::parse(text) {
        Ok(p) => p,
        Err(e) => {
            out.findings.push(Finding::new(
                "A signed JWT",
                "three base64url parts, a JSON header naming alg, JSON claims",
                "RFC 7515 §7.1; RFC 7519 §7.2",
                Err(e.to_string()),
            ));
            return;
        }
    };
    let alg = parsed
        .header()
        .get("alg")
        .and_then(|a| a.as_str())
        .unwrap_or_default()
        .to_string();
    out.findings.push(Finding::new(
        "Signed, not alg none",
        format!("header alg {alg:?}"),
        "RFC 7518 §3.1; RFC 8725 §3.1",
        if alg.is_empty() || alg.eq_ignore_ascii_case("none") {
            Err("the token is not signed".into())
        } else {
            Ok(())
        },
    ));
    match parsed.exp() {
        Ok(exp) => out.findings.push(Finding::new(
            "Not expired",
            format!("exp {exp} against now, {now}"),
            "RFC 7519 §4.1.4",
            if now < exp {
                Ok(())
            } else {
                Err(format!("the token expired at {exp}"))
            },
        )),
        Err(e) => out.findings.push(Finding::new(
            "Not expired",
            "the exp claim",
            "RFC 7519 §4.1.4",
            Err(e.to_string()),
        )),
    }
    if let Ok(Some(nbf)) = parsed.nbf() {
        out.findings.push(Finding::new(
            "Already valid",
            format!("nbf {nbf} against now, {now}"),
            "RFC 7519 §4.1.5",
            if nbf <= now {
                Ok(())
            } else {
                Err(format!("the token is valid only from {nbf}"))
            },
        ));
    }
    let audiences = parsed.audiences();
    out.findings.push(Finding::new(
        "Names its audience",
        format!("aud {audiences:?}: a service must refuse a token not addressed to it"),
        "RFC 7519 §4.1.3",
        if audiences.is_empty() {
            Err("the token has no aud claim".into())
        } else {
            Ok(())
        },
    ));
    out.not_checked.push(format!(
        "The signature: the issuer's key ({}) is not part of the token.",
        parsed
            .kid()
            .map(|k| format!("kid {k}"))
            .unwrap_or_else(|| "no kid".into())
    ));
}

/// A certificate's fitness for Windows Hello for Business sign-in with
/// PKINIT (certificate trust): what the KDC checks that the certificate
/// alone can answer (kerberos/pkinit.rs runs the same rules in a run).
fn certificate(out: &mut Inspection, der: &[u8], now: SimTime) {
    out.findings.push(Finding::new(
        "Valid now",
        format!("the validity period against now, {now}"),
        "RFC 5280 §6.1.3",
        crate::pki::valid_at(der, now),
    ));
    out.findings.push(Finding::new(
        "Smart Card Logon EKU",
        "the extended key usages must include Smart Card Logon (1.3.6.1.4.1.311.20.2.2) or id-pkinit-KPClientAuth for a Kerberos sign-in",
        "RFC 4556 §3.2.2 (KDC_ERR_INCONSISTENT_KEY_PURPOSE)",
        crate::pki::logon_eku(der).and_then(|(fit, ekus)| {
            if fit {
                Ok(())
            } else if ekus.is_empty() {
                Err("the certificate has no extended key usages".into())
            } else {
                Err(format!(
                    "the certificate's EKUs are {}",
                    ekus.iter().map(oid::describe).collect::<Vec<_>>().join(", ")
                ))
            }
        }),
    ));
    out.findings.push(Finding::new(
        "Names a user (UPN)",
        "a user principal name in subjectAltName, which the KDC matches to the account",
        "MS-PKCA 3.1.5.2.1.2",
        crate::pki::upns_of(der).and_then(|upns| {
            if upns.is_empty() {
                Err("the certificate names no UPN".into())
            } else {
                Ok(())
            }
        }),
    ));
    out.findings.push(Finding::new(
        "Strong mapping: the SID extension",
        "the szOID_NTDS_CA_SECURITY_EXT extension with the account's SID, without which full enforcement refuses the certificate",
        "KB5014754; MS-PKCA 3.1.5.2.1.5",
        match crate::pki::sid_of(der) {
            Err(e) => Err(e),
            Ok(None) => Err("the certificate has no SID extension: a UPN alone is a weak mapping".into()),
            Ok(Some(sid)) => {
                out.not_checked.push(format!(
                    "Whether {sid} is the account's objectSid: that is the directory's to say."
                ));
                Ok(())
            }
        },
    ));
    if let Ok(key) = crate::pki::certificate_public_key(der) {
        rsa_size(out, key.size() * 8, "the certificate's key");
    }
    out.not_checked.push(
        "The issuer's signature, the chain to an NTAuth CA and revocation: the CA certificates and the CRL are not part of this value."
            .into(),
    );
}

/// A TPM object's public area: an RSA-2048 key made in this TPM that
/// cannot leave it, as Windows Hello for Business keys are.
fn tpm_public(out: &mut Inspection, bytes: &[u8]) {
    let public = match Tpm2bPublic::from_bytes(bytes) {
        Ok(p) => p.0,
        Err(e) => {
            out.findings.push(Finding::new(
                "TPM2B_PUBLIC reads",
                "the size, then a TPMT_PUBLIC filling it",
                "TPM 2.0 Part 2 §12.2.5",
                Err(e.to_string()),
            ));
            return;
        }
    };
    let a = public.object_attributes;
    let needed = [
        (TpmaObject::FIXED_TPM, "fixedTPM"),
        (TpmaObject::FIXED_PARENT, "fixedParent"),
        (TpmaObject::SENSITIVE_DATA_ORIGIN, "sensitiveDataOrigin"),
    ];
    let missing: Vec<&str> = needed
        .iter()
        .filter(|(flag, _)| !a.contains(*flag))
        .map(|(_, name)| *name)
        .collect();
    out.findings.push(Finding::new(
        "Made in this TPM, cannot leave it",
        "objectAttributes fixedTPM, fixedParent and sensitiveDataOrigin",
        "TPM 2.0 Part 2 §8.3 (TPMA_OBJECT)",
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} not set: the key could have been imported or could be duplicated",
                missing.join(", ")
            ))
        },
    ));
    match public.rsa_public_key() {
        Ok(key) => rsa_size(out, key.size() * 8, "the TPM key"),
        Err(e) => out.findings.push(Finding::new(
            "RSA-2048",
            "the object's type and size",
            "Windows Hello for Business keys are RSA-2048 in the TPM",
            Err(e.to_string()),
        )),
    }
}

/// The inspection as text, for the command line: what it is, the decoded
/// tree (each field with its byte range), the checks, what was not checked.
pub fn text(inspection: &Inspection) -> String {
    fn tree(out: &mut String, fields: &[Field], depth: usize) {
        for f in fields {
            out.push_str(&format!(
                "{:indent$}{}: {}  [{}..{}]\n",
                "",
                f.name,
                f.value,
                f.offset,
                f.offset + f.len,
                indent = 2 + 2 * depth
            ));
            tree(out, &f.children, depth + 1);
        }
    }
    let a = &inspection.artifact;
    let mut out = format!(
        "{} ({} bytes), read as {}\n\n",
        a.kind.name(),
        a.bytes.len(),
        inspection.read_as
    );
    if let Some(why) = &a.unreadable {
        out.push_str(&format!("  no decoded view: {why}\n"));
    }
    tree(&mut out, &a.fields, 0);
    out.push_str("\nChecks on the value alone:\n");
    if inspection.findings.is_empty() {
        out.push_str("  none for this kind\n");
    }
    for f in &inspection.findings {
        match &f.outcome {
            crate::artifact::Outcome::Pass => out.push_str(&format!(
                "  PASS {}: {} ({})\n",
                f.title, f.compared, f.rule
            )),
            crate::artifact::Outcome::Fail { reason } => out.push_str(&format!(
                "  FAIL {}: {reason}\n       checked: {} ({})\n",
                f.title, f.compared, f.rule
            )),
        }
    }
    if !inspection.not_checked.is_empty() {
        out.push_str("\nNot checked:\n");
        for n in &inspection.not_checked {
            out.push_str(&format!("  {n}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_kinds_are_told_apart() {
        let blob = b"RSA1\x00\x08\x00\x00";
        assert!(matches!(sniff(blob), Ok(ArtifactKind::BcryptRsaPublicBlob)));
        let err = inspect(b"hello there", SimTime::from_unix_seconds(0)).unwrap_err();
        assert!(err.contains("none of the forms"), "{err}");
        let err = inspect(b"  \n", SimTime::from_unix_seconds(0)).unwrap_err();
        assert!(err.contains("white space"), "{err}");
        let err = inspect(b"deadbeef", SimTime::from_unix_seconds(0)).unwrap_err();
        assert!(
            err.contains("hex of 4 bytes") && err.contains("deadbeef"),
            "{err}"
        );
        let err = inspect(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
            SimTime::from_unix_seconds(0),
        )
        .unwrap_err();
        assert!(err.contains("no closing"), "{err}");
    }
}
