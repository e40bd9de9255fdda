//! Kerberos (RFC 4120) as the domain controller and the client speak it at
//! a Windows Hello for Business sign-in. So far: the cryptography of the
//! AES encryption types (RFC 3961, RFC 3962), checked against the RFCs'
//! own vectors; the messages and the KDC come next (issue: on-premises
//! sign-in with real Kerberos).

pub mod asn1;
pub mod crypto;
pub mod dh;
pub mod keytab;
pub mod messages;
pub mod pac;
pub mod pkinit;
pub mod tgs;
