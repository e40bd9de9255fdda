//! The run's network traffic as one capture: every exchange between the
//! device and a server, in the run's order, for a protocol analyser.
//!
//! - HTTP/1.1 as it is inside TLS (the TLS itself is left out), on port 80
//!   so analysers dissect it as HTTP: the device's calls to Microsoft Entra
//!   ID, its device registration service, AD FS (its STS, its enterprise
//!   DRS and its certificate registration authority).
//! - Kerberos on TCP port 88 (RFC 4120 §7.2.2), with the domain controller.
//!
//! Which step sends which request, and which step's artifact is its reply,
//! is the table [`CALLS`], by stable step id. A request whose artifact is a
//! JSON view of another wire form travels in that form here: fields
//! form-encoded (RFC 6749 appendix B), query parameters in the URL, headers
//! as headers. What the capture leaves out, and why, is [`LEFT_OUT`].
//!
//! Addresses are modelled: the device 10.0.0.50, the domain controller
//! 10.0.0.10, the AD FS farm 10.0.0.20, and Microsoft's services in the
//! documentation range 203.0.113.0/24 (RFC 5737).

use crate::artifact::ArtifactKind;
use crate::capture::{kerberos_record, Exchange};
use crate::catalog::Actor;
use crate::clock::SimTime;
use crate::engine::Run;
use crate::event::Event;
use crate::formats::encoding::percent_encode;
use serde_json::Value;

pub const DEVICE: [u8; 4] = [10, 0, 0, 50];
pub const DOMAIN_CONTROLLER: [u8; 4] = [10, 0, 0, 10];
const ADFS: [u8; 4] = [10, 0, 0, 20];
const ENTRA: [u8; 4] = [203, 0, 113, 10];
const ADRS: [u8; 4] = [203, 0, 113, 20];

const ENTRA_HOST: &str = "login.microsoftonline.com";
const ADRS_HOST: &str = "enterpriseregistration.windows.net";

/// The address a host name resolves to in the capture.
fn address(host: &str) -> [u8; 4] {
    match host {
        ENTRA_HOST => ENTRA,
        ADRS_HOST => ADRS,
        _ => ADFS,
    }
}

/// The messages of the run's steps that a capture does not hold.
pub const LEFT_OUT: &[&str] = &[
    "traffic between servers: Entra Connect's synchronisation, the registration authority's LDAP reads and its DCOM submission to the CA, the DRS's directory writes",
    "the hybrid join's LDAP search for the service connection point and its write of the computer's userCertificate",
    "the device's Kerberos-authenticated WS-Trust call to AD FS's windowstransport endpoint at a federated hybrid join, which the run shows as a summary",
    "the join token's exchange with Entra ID after a federated join, and WAM's POST of AD FS's token to login.srf, which the run shows as notes",
    "in a managed domain, Entra ID's answer to the authorize request with the PRT: the run goes on to the MFA and the access token without modelling the authorization code's redemption as HTTP",
    "the MFA prompt on the user's phone, and everything between the device's own components",
];

/// How a request's body travels.
#[derive(Clone, Copy)]
enum Body {
    /// A JSON object's members as `application/x-www-form-urlencoded`.
    Form,
    /// A JWT as the `request` of a JWT-bearer grant (MS-OAPXBC 3.2.5.1.2.1).
    JwtBearer,
    /// The artifact's bytes, of this media type.
    Raw(&'static str),
    /// A JSON view of a GET: `url` or `query` (and `headers`) members.
    Get,
}

/// How a reply travels.
#[derive(Clone, Copy)]
enum Reply {
    /// The artifact's bytes, 200, of this media type.
    Raw(&'static str),
    /// A string member of a JSON artifact as the body (the JWE of a PRT
    /// token response).
    Member(&'static str, &'static str),
    /// A JSON view of a redirect: `status` and `headers`.
    Redirect,
    /// A token endpoint's JSON answer around the artifact's JWT; only
    /// `token_type` and `access_token` (RFC 6749 §5.1), the rest not
    /// modelled.
    AccessToken,
}

/// One HTTP call: the step that sends it and the artifact it carries; the
/// step (and artifact) that answers it.
struct Call {
    step: &'static str,
    /// The server the step talks to, and the host it answers at.
    server: Actor,
    host: &'static str,
    method: &'static str,
    path: &'static str,
    request: &'static str,
    body: Body,
    /// The bearer token in the Authorization header: the newest artifact of
    /// this id so far.
    bearer: Option<&'static str>,
    reply_step: &'static str,
    reply: &'static str,
    answer: Reply,
    /// Where the engine put the request's URL on the wire, when it is
    /// the run's own (the hybrid join's, with the device's id), and its
    /// method.
    wire_url: Option<(&'static str, &'static str)>,
}

const JSON: &str = "application/json";
const SOAP: &str = "application/soap+xml; charset=utf-8";
const ADFS_HOST: &str = crate::world::ADFS_HOST;
const EDRS_HOST: &str = crate::world::EDRS_HOST;

/// Every HTTP call the capture shows. Paths: MS-OAPXBC 3.1.5.1.1 and
/// 3.2.5.1.2 (the token endpoint; `common` as ROADtools sends it), MS-KPP
/// 3.1.5.1.1 (key registration), MS-DVRJ 3.1.5.1.1 and AADInternals (device
/// registration), MS-DVRD 3.1.5.1 (discovery), WS-Trust 1.3 as MSAL sends it
/// (usernamemixed), WS-Federation (`/adfs/ls/`), MS-OAPX 3.2.5.1.2 (the RA's
/// token endpoint).
const CALLS: &[Call] = &[
    Call {
        step: "device-registration.join-sign-in",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "join-token-request",
        body: Body::Form,
        bearer: None,
        reply_step: "device-registration.join-sign-in",
        reply: "join-access-token",
        answer: Reply::AccessToken,
        wire_url: None,
    },
    Call {
        step: "device-registration.discover-service",
        server: Actor::Edrs,
        host: EDRS_HOST,
        method: "GET",
        path: "/EnrollmentServer/contract?api-version=1.2",
        request: "",
        body: Body::Get,
        bearer: None,
        reply_step: "device-registration.discover-service",
        reply: "drs-discovery",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "device-registration.enroll-device",
        server: Actor::Adrs,
        host: ADRS_HOST,
        method: "POST",
        path: "/EnrollmentServer/device/?api-version=2.0",
        request: "join-request",
        body: Body::Raw(JSON),
        bearer: Some("join-access-token"),
        reply_step: "device-registration.return-device-certificate",
        reply: "join-response",
        answer: Reply::Raw(JSON),
        // A hybrid join PUTs to the computer's own device id.
        wire_url: Some(("PUT", "join-request-url")),
    },
    Call {
        step: "device-registration.enroll-device",
        server: Actor::Edrs,
        host: ADFS_HOST,
        method: "POST",
        path: "/EnrollmentServer/device/?api-version=1.0",
        request: "join-request",
        body: Body::Raw(JSON),
        bearer: Some("join-adfs-token"),
        reply_step: "device-registration.return-device-certificate",
        reply: "join-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "windows-sign-in.request-saml-token",
        server: Actor::AdFs,
        host: ADFS_HOST,
        method: "POST",
        path: "/adfs/services/trust/13/usernamemixed",
        request: "ws-trust-request",
        body: Body::Raw(SOAP),
        bearer: None,
        reply_step: "windows-sign-in.issue-saml-token",
        reply: "ws-trust-response",
        answer: Reply::Raw(SOAP),
        wire_url: None,
    },
    Call {
        step: "windows-sign-in.request-nonce",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "nonce-request",
        body: Body::Form,
        bearer: None,
        reply_step: "windows-sign-in.request-nonce",
        reply: "nonce-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "windows-sign-in.request-nonce",
        server: Actor::AdFs,
        host: ADFS_HOST,
        method: "POST",
        path: "/adfs/oauth2/token",
        request: "nonce-request",
        body: Body::Form,
        bearer: None,
        reply_step: "windows-sign-in.request-nonce",
        reply: "nonce-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "windows-sign-in.request-prt",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "prt-request",
        body: Body::JwtBearer,
        bearer: None,
        reply_step: "windows-sign-in.issue-prt",
        reply: "prt-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "windows-sign-in.request-prt",
        server: Actor::AdFs,
        host: ADFS_HOST,
        method: "POST",
        path: "/adfs/oauth2/token",
        request: "prt-request",
        body: Body::JwtBearer,
        bearer: None,
        reply_step: "windows-sign-in.issue-prt",
        reply: "prt-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "tokens.request-nonce",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "nonce-request",
        body: Body::Form,
        bearer: None,
        reply_step: "tokens.request-nonce",
        reply: "nonce-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "tokens.request-nonce",
        server: Actor::AdFs,
        host: ADFS_HOST,
        method: "POST",
        path: "/adfs/oauth2/token",
        request: "nonce-request",
        body: Body::Form,
        bearer: None,
        reply_step: "tokens.request-nonce",
        reply: "nonce-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    // Federated: Entra ID sends the browser on to AD FS.
    Call {
        step: "tokens.sign-in-request",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "GET",
        path: "/common/oauth2/authorize",
        request: "sign-in-request",
        body: Body::Get,
        bearer: None,
        reply_step: "tokens.sign-in-request",
        reply: "idp-redirect",
        answer: Reply::Redirect,
        wire_url: None,
    },
    Call {
        step: "tokens.federated-sign-in",
        server: Actor::AdFs,
        host: ADFS_HOST,
        method: "GET",
        path: "/adfs/ls/",
        request: "ws-federation-request",
        body: Body::Get,
        bearer: None,
        reply_step: "tokens.issue-enterprise-token",
        reply: "enterprise-token",
        answer: Reply::Raw("text/xml; charset=utf-8"),
        wire_url: None,
    },
    Call {
        step: "registration.register-key",
        server: Actor::Adrs,
        host: ADRS_HOST,
        method: "POST",
        path: "/EnrollmentServer/key/?api-version=1.0",
        request: "key-registration-request",
        body: Body::Raw(JSON),
        bearer: Some("access-token"),
        reply_step: "registration.return-key-id",
        reply: "key-registration-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "registration.register-key",
        server: Actor::Edrs,
        host: ADFS_HOST,
        method: "POST",
        path: "/EnrollmentServer/key/?api-version=1.0",
        request: "key-registration-request",
        body: Body::Raw(JSON),
        bearer: Some("access-token"),
        reply_step: "registration.return-key-id",
        reply: "key-registration-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "enrollment.send-request",
        server: Actor::Ra,
        host: ADFS_HOST,
        method: "POST",
        path: "/adfs/oauth2/token",
        request: "ra-enrollment-request",
        body: Body::Form,
        bearer: None,
        reply_step: "enrollment.return-certificate",
        reply: "certificate-token-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "sign-in.request-nonce",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "nonce-request",
        body: Body::Form,
        bearer: None,
        reply_step: "sign-in.request-nonce",
        reply: "nonce-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "sign-in.request-prt",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "prt-request",
        body: Body::JwtBearer,
        bearer: None,
        reply_step: "sign-in.issue-prt",
        reply: "prt-response",
        answer: Reply::Raw(JSON),
        wire_url: None,
    },
    Call {
        step: "sign-in.request-app-token",
        server: Actor::AzureAd,
        host: ENTRA_HOST,
        method: "POST",
        path: "/common/oauth2/token",
        request: "prt-token-request",
        body: Body::JwtBearer,
        bearer: None,
        reply_step: "sign-in.issue-app-token",
        reply: "prt-token-response",
        answer: Reply::Member("jwe", "application/jose"),
        wire_url: None,
    },
];

fn artifact<'a>(event: &'a Event, id: &str) -> Option<&'a [u8]> {
    event
        .artifacts
        .iter()
        .find(|a| a.id == id)
        .map(|a| a.bytes.as_slice())
}

fn json(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice(bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The path and query of an absolute URL.
fn path_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    Some(format!("/{}", rest.split_once('/')?.1))
}

/// `name=value&…`, each part percent-encoded.
fn form(members: &serde_json::Map<String, Value>) -> String {
    members
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(&text(v))))
        .collect::<Vec<_>>()
        .join("&")
}

fn http_request(
    method: &str,
    host: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if method != "GET" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn http_reply(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        _ => "",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The request line's target and the request's headers and body, or `None`
/// when the artifact does not read as its form (an edited one, say).
fn request(
    call: &Call,
    event: &Event,
    bearer: Option<&[u8]>,
    wire_url: Option<&str>,
) -> Option<Vec<u8>> {
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(token) = bearer {
        headers.push((
            "Authorization".into(),
            format!("Bearer {}", std::str::from_utf8(token).ok()?),
        ));
    }
    let bytes = artifact(event, call.request);
    let (target, body) = match call.body {
        Body::Get => {
            let view = bytes.and_then(json);
            let target = match &view {
                Some(v) if v.contains_key("url") => path_of(&text(&v["url"]))?,
                Some(v) => match v.get("query") {
                    Some(Value::Object(q)) => format!("{}?{}", call.path, form(q)),
                    _ => call.path.to_string(),
                },
                None if call.request.is_empty() => call.path.to_string(),
                None => return None,
            };
            if let Some(Value::Object(h)) = view.as_ref().and_then(|v| v.get("headers")) {
                headers.extend(h.iter().map(|(k, v)| (k.clone(), text(v))));
            }
            (target, Vec::new())
        }
        Body::Form => {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            (call.path.to_string(), form(&json(bytes?)?).into_bytes())
        }
        Body::JwtBearer => {
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            let body = format!(
                "grant_type={}&request={}",
                percent_encode("urn:ietf:params:oauth:grant-type:jwt-bearer"),
                std::str::from_utf8(bytes?).ok()?
            );
            (call.path.to_string(), body.into_bytes())
        }
        Body::Raw(media) => {
            headers.push(("Content-Type".into(), media.into()));
            (call.path.to_string(), bytes?.to_vec())
        }
    };
    let (method, target) = match (call.wire_url, wire_url) {
        (Some((method, _)), Some(url)) => (method, path_of(url)?),
        _ => (call.method, target),
    };
    Some(http_request(method, call.host, &target, &headers, &body))
}

fn reply(call: &Call, event: &Event) -> Option<Vec<u8>> {
    let bytes = artifact(event, call.reply)?;
    match call.answer {
        Reply::Raw(media) => Some(http_reply(
            200,
            &[("Content-Type".into(), media.into())],
            bytes,
        )),
        Reply::Member(name, media) => {
            let member = json(bytes)?.get(name).map(text)?;
            Some(http_reply(
                200,
                &[("Content-Type".into(), media.into())],
                member.as_bytes(),
            ))
        }
        Reply::AccessToken => {
            let token = std::str::from_utf8(bytes).ok()?;
            let body = serde_json::json!({ "token_type": "Bearer", "access_token": token });
            Some(http_reply(
                200,
                &[("Content-Type".into(), JSON.into())],
                body.to_string().as_bytes(),
            ))
        }
        Reply::Redirect => {
            let view = json(bytes)?;
            let status = view.get("status").and_then(Value::as_u64).unwrap_or(302) as u16;
            let headers = match view.get("headers") {
                Some(Value::Object(h)) => h.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
                _ => Vec::new(),
            };
            Some(http_reply(status, &headers, b""))
        }
    }
}

/// One exchange of the capture, and what it is for a reader.
#[derive(Clone, Debug)]
pub struct Traffic {
    pub exchange: Exchange,
    /// "HTTP POST login.microsoftonline.com/common/oauth2/token" or "Kerberos".
    pub summary: String,
    /// The step that sent it, counted from 1.
    pub step: usize,
}

/// Every exchange of the run between the device and a server, in order.
pub fn traffic(run: &Run) -> Vec<Traffic> {
    let events = run.events();
    let mut out: Vec<Traffic> = Vec::new();
    let mut kerberos_request: Option<(Vec<u8>, SimTime, usize)> = None;
    for (n, event) in events.iter().enumerate() {
        let id = event.id.to_string();
        let actors = event.kind.actors();
        if let Some(call) = CALLS
            .iter()
            .find(|c| c.step == id && actors.contains(&c.server))
        {
            let bearer = call
                .bearer
                .and_then(|b| events[..n].iter().rev().find_map(|e| artifact(e, b)));
            let answered = events[n..]
                .iter()
                .find(|e| e.id.to_string() == call.reply_step);
            let wire_url = call
                .wire_url
                .and_then(|(_, id)| run.wire(id))
                .and_then(|url| std::str::from_utf8(url).ok());
            if let (Some(request), Some(reply)) = (
                request(call, event, bearer, wire_url),
                answered.and_then(|e| reply(call, e)),
            ) {
                let port = 49_700 + out.len() as u16;
                out.push(Traffic {
                    exchange: Exchange {
                        client: DEVICE,
                        server: address(call.host),
                        client_port: port,
                        server_port: 80,
                        request,
                        reply,
                        time: event.time,
                    },
                    summary: format!("HTTP {} {}{}", call.method, call.host, call.path),
                    step: event.index + 1,
                });
            }
        }
        for artifact in event
            .artifacts
            .iter()
            .filter(|a| a.kind == ArtifactKind::Kerberos)
        {
            match artifact.bytes.first() {
                // [APPLICATION 10] or [APPLICATION 12]: an AS-REQ or a
                // TGS-REQ opens an exchange.
                Some(0x6A | 0x6C) => {
                    kerberos_request = Some((artifact.bytes.clone(), event.time, event.index))
                }
                // AS-REP, TGS-REP or KRB-ERROR: the reply closes it (an
                // AS-REP handed over in a PRT response had no request).
                Some(0x6B | 0x6D | 0x7E) => {
                    if let Some((request, time, index)) = kerberos_request.take() {
                        let port = 49_700 + out.len() as u16;
                        out.push(Traffic {
                            exchange: Exchange {
                                client: DEVICE,
                                server: DOMAIN_CONTROLLER,
                                client_port: port,
                                server_port: 88,
                                request: kerberos_record(&request),
                                reply: kerberos_record(&artifact.bytes),
                                time,
                            },
                            summary: "Kerberos".into(),
                            step: index + 1,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}
