//! Kerberos (RFC 4120) as the domain controller and the client speak it at
//! a Windows Hello for Business sign-in: the cryptography of the AES
//! encryption types (RFC 3961, RFC 3962), checked against the RFCs' own
//! vectors; the messages; PKINIT's AS exchange (key trust and certificate
//! trust); the PAC and the TGS exchange of cloud Kerberos trust; a keytab
//! writer and the inspector's named view of a message.

pub mod asn1;
pub mod crypto;
pub mod dh;
pub mod keytab;
pub mod messages;
pub mod pac;
pub mod pkinit;
pub mod tgs;
pub mod view;
