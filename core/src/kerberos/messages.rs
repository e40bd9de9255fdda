//! Kerberos messages (RFC 4120 §5) and PKINIT's (RFC 4556 §3.2), as
//! `der`-derived structures. The ASN.1 each one implements is quoted above
//! it; every context tag is EXPLICIT unless the module says IMPLICIT, and
//! the APPLICATION-tagged messages are [`Application`] wrappers.

use super::asn1::{Application, Explicit, KerberosString};
use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::Sequence;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// The protocol version every message carries (RFC 4120 §5.4.1).
pub const PVNO: i32 = 5;

/// Message types (RFC 4120 §7.5.7).
pub mod msg_type {
    pub const AS_REQ: i32 = 10;
    pub const AS_REP: i32 = 11;
    pub const TGS_REQ: i32 = 12;
    pub const TGS_REP: i32 = 13;
    pub const AP_REQ: i32 = 14;
    pub const KRB_ERROR: i32 = 30;
}

/// Pre-authentication data types (RFC 4120 §7.5.2, RFC 4556 §3.2.1,
/// MS-KILE 2.2.3).
pub mod pa_type {
    /// PA-TGS-REQ: the AP-REQ that presents the TGT.
    pub const TGS_REQ: i32 = 1;
    pub const PK_AS_REQ: i32 = 16;
    pub const PK_AS_REP: i32 = 17;
    pub const PAC_REQUEST: i32 = 128;
}

/// Name types (RFC 4120 §7.5.8, RFC 6806 §5 for the enterprise name).
pub mod name_type {
    pub const PRINCIPAL: i32 = 1;
    pub const SRV_INST: i32 = 2;
    pub const ENTERPRISE: i32 = 10;
}

/// Key usages (RFC 4120 §7.5.1).
pub mod usage {
    /// AS-REP Ticket and TGS-REP Ticket, encrypted with the service key.
    pub const TICKET: u32 = 2;
    /// AS-REP encrypted part, with the client key (here the reply key).
    pub const AS_REP_ENC_PART: u32 = 3;
    /// TGS-REQ authenticator's checksum of the request body, keyed with
    /// the TGT's session key.
    pub const TGS_REQ_AUTH_CKSUM: u32 = 6;
    /// TGS-REQ authenticator, encrypted with the TGT's session key.
    pub const TGS_REQ_AUTH: u32 = 7;
    /// TGS-REP encrypted part, with the TGT's session key.
    pub const TGS_REP_ENC_PART: u32 = 8;
    /// The PAC's signatures (MS-PAC 2.8: KERB_NON_KERB_CKSUM_SALT).
    pub const PAC_CHECKSUM: u32 = 17;
}

/// Authorization data types (RFC 4120 §7.5.4; MS-KILE 2.2.5 for the PAC).
pub mod ad_type {
    pub const IF_RELEVANT: i32 = 1;
    pub const WIN2K_PAC: i32 = 128;
}

/// ```text
/// PrincipalName   ::= SEQUENCE {
///         name-type       [0] Int32,
///         name-string     [1] SEQUENCE OF KerberosString
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PrincipalName {
    pub name_type: Explicit<0, i32>,
    pub name_string: Explicit<1, Vec<KerberosString>>,
}

impl PrincipalName {
    /// A name of `name_type` with the given components; an error for a
    /// component that is not ASCII.
    pub fn new(name_type: i32, parts: &[&str]) -> der::Result<PrincipalName> {
        Ok(PrincipalName {
            name_type: Explicit(name_type),
            name_string: Explicit(
                parts
                    .iter()
                    .map(|p| KerberosString::new(p))
                    .collect::<der::Result<_>>()?,
            ),
        })
    }

    /// The components joined with "/", as klist prints them.
    pub fn display(&self) -> String {
        self.name_string
            .0
            .iter()
            .map(KerberosString::as_str)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// ```text
/// EncryptedData   ::= SEQUENCE {
///         etype   [0] Int32 -- EncryptionType --,
///         kvno    [1] UInt32 OPTIONAL,
///         cipher  [2] OCTET STRING -- ciphertext
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncryptedData {
    pub etype: Explicit<0, i32>,
    pub kvno: Option<Explicit<1, u32>>,
    pub cipher: Explicit<2, OctetString>,
}

/// ```text
/// EncryptionKey   ::= SEQUENCE {
///         keytype         [0] Int32 -- actually encryption type --,
///         keyvalue        [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncryptionKey {
    pub keytype: Explicit<0, i32>,
    pub keyvalue: Explicit<1, OctetString>,
}

impl EncryptionKey {
    /// The key it carries: an AES key of its type's length (RFC 4120
    /// §5.2.9), or why not.
    pub fn key(&self) -> Result<super::crypto::Key, String> {
        let etype = super::crypto::Etype::from_number(self.keytype.0)
            .ok_or_else(|| format!("keytype {} is not AES", self.keytype.0))?;
        super::crypto::Key::new(etype, self.keyvalue.0.as_bytes()).map_err(|e| e.to_string())
    }
}

/// ```text
/// PA-DATA         ::= SEQUENCE {
///         -- NOTE: first tag is [1], not [0]
///         padata-type     [1] Int32,
///         padata-value    [2] OCTET STRING -- might be encoded AP-REQ
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PaData {
    pub padata_type: Explicit<1, i32>,
    pub padata_value: Explicit<2, OctetString>,
}

/// ```text
/// KDC-REQ-BODY    ::= SEQUENCE {
///         kdc-options             [0] KDCOptions,
///         cname                   [1] PrincipalName OPTIONAL
///                                     -- Used only in AS-REQ --,
///         realm                   [2] Realm
///                                     -- Server's realm
///                                     -- Also client's in AS-REQ --,
///         sname                   [3] PrincipalName OPTIONAL,
///         from                    [4] KerberosTime OPTIONAL,
///         till                    [5] KerberosTime,
///         rtime                   [6] KerberosTime OPTIONAL,
///         nonce                   [7] UInt32,
///         etype                   [8] SEQUENCE OF Int32 -- EncryptionType
///                                     -- in preference order --,
///         addresses               [9] HostAddresses OPTIONAL,
///         enc-authorization-data  [10] EncryptedData OPTIONAL
///                                     -- AuthorizationData --,
///         additional-tickets      [11] SEQUENCE OF Ticket OPTIONAL
///                                        -- NOTE: not empty
/// }
/// ```
///
/// The fields this exchange never sends (addresses, enc-authorization-data,
/// additional-tickets) are left out: a request carrying them is refused
/// as malformed rather than read half.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KdcReqBody {
    pub kdc_options: Explicit<0, BitString>,
    pub cname: Option<Explicit<1, PrincipalName>>,
    pub realm: Explicit<2, KerberosString>,
    pub sname: Option<Explicit<3, PrincipalName>>,
    pub from: Option<Explicit<4, GeneralizedTime>>,
    pub till: Explicit<5, GeneralizedTime>,
    pub rtime: Option<Explicit<6, GeneralizedTime>>,
    pub nonce: Explicit<7, u32>,
    pub etype: Explicit<8, Vec<i32>>,
}

/// ```text
/// KDC-REQ         ::= SEQUENCE {
///         -- NOTE: first tag is [1], not [0]
///         pvno            [1] INTEGER (5) ,
///         msg-type        [2] INTEGER (10 -- AS -- | 12 -- TGS --),
///         padata          [3] SEQUENCE OF PA-DATA OPTIONAL
///                             -- NOTE: not empty --,
///         req-body        [4] KDC-REQ-BODY
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KdcReq {
    pub pvno: Explicit<1, i32>,
    pub msg_type: Explicit<2, i32>,
    pub padata: Option<Explicit<3, Vec<PaData>>>,
    pub req_body: Explicit<4, KdcReqBody>,
}

/// `AS-REQ ::= [APPLICATION 10] KDC-REQ`
pub type AsReq = Application<10, KdcReq>;

/// `TGS-REQ ::= [APPLICATION 12] KDC-REQ`
pub type TgsReq = Application<12, KdcReq>;

/// ```text
/// Ticket          ::= [APPLICATION 1] SEQUENCE {
///         tkt-vno         [0] INTEGER (5),
///         realm           [1] Realm,
///         sname           [2] PrincipalName,
///         enc-part        [3] EncryptedData -- EncTicketPart
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TicketBody {
    pub tkt_vno: Explicit<0, i32>,
    pub realm: Explicit<1, KerberosString>,
    pub sname: Explicit<2, PrincipalName>,
    pub enc_part: Explicit<3, EncryptedData>,
}

pub type Ticket = Application<1, TicketBody>;

/// ```text
/// TransitedEncoding       ::= SEQUENCE {
///         tr-type         [0] Int32 -- must be registered --,
///         contents        [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TransitedEncoding {
    pub tr_type: Explicit<0, i32>,
    pub contents: Explicit<1, OctetString>,
}

/// ```text
/// EncTicketPart   ::= [APPLICATION 3] SEQUENCE {
///         flags                   [0] TicketFlags,
///         key                     [1] EncryptionKey,
///         crealm                  [2] Realm,
///         cname                   [3] PrincipalName,
///         transited               [4] TransitedEncoding,
///         authtime                [5] KerberosTime,
///         starttime               [6] KerberosTime OPTIONAL,
///         endtime                 [7] KerberosTime,
///         renew-till              [8] KerberosTime OPTIONAL,
///         caddr                   [9] HostAddresses OPTIONAL,
///         authorization-data      [10] AuthorizationData OPTIONAL
/// }
/// ```
///
/// Without caddr. The TGTs of PKINIT carry no authorization-data; the
/// cloud Kerberos trust tickets carry a PAC with the user's identity
/// (`super::pac`).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncTicketPartBody {
    pub flags: Explicit<0, BitString>,
    pub key: Explicit<1, EncryptionKey>,
    pub crealm: Explicit<2, KerberosString>,
    pub cname: Explicit<3, PrincipalName>,
    pub transited: Explicit<4, TransitedEncoding>,
    pub authtime: Explicit<5, GeneralizedTime>,
    pub starttime: Option<Explicit<6, GeneralizedTime>>,
    pub endtime: Explicit<7, GeneralizedTime>,
    pub renew_till: Option<Explicit<8, GeneralizedTime>>,
    pub authorization_data: Option<Explicit<10, Vec<AuthorizationDataEntry>>>,
}

pub type EncTicketPart = Application<3, EncTicketPartBody>;

/// ```text
/// AuthorizationData       ::= SEQUENCE OF SEQUENCE {
///         ad-type         [0] Int32,
///         ad-data         [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AuthorizationDataEntry {
    pub ad_type: Explicit<0, i32>,
    pub ad_data: Explicit<1, OctetString>,
}

/// ```text
/// Checksum        ::= SEQUENCE {
///         cksumtype       [0] Int32,
///         checksum        [1] OCTET STRING
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Checksum {
    pub cksumtype: Explicit<0, i32>,
    pub checksum: Explicit<1, OctetString>,
}

/// ```text
/// AP-REQ          ::= [APPLICATION 14] SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (14),
///         ap-options      [2] APOptions,
///         ticket          [3] Ticket,
///         authenticator   [4] EncryptedData -- Authenticator
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct ApReqBody {
    pub pvno: Explicit<0, i32>,
    pub msg_type: Explicit<1, i32>,
    pub ap_options: Explicit<2, BitString>,
    pub ticket: Explicit<3, Ticket>,
    pub authenticator: Explicit<4, EncryptedData>,
}

pub type ApReq = Application<14, ApReqBody>;

/// ```text
/// Authenticator   ::= [APPLICATION 2] SEQUENCE  {
///         authenticator-vno       [0] INTEGER (5),
///         crealm                  [1] Realm,
///         cname                   [2] PrincipalName,
///         cksum                   [3] Checksum OPTIONAL,
///         cusec                   [4] Microseconds,
///         ctime                   [5] KerberosTime,
///         subkey                  [6] EncryptionKey OPTIONAL,
///         seq-number              [7] UInt32 OPTIONAL,
///         authorization-data      [8] AuthorizationData OPTIONAL
/// }
/// ```
///
/// Without subkey, seq-number and authorization-data: the TGS exchange
/// here answers under the TGT's session key (key usage 8).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AuthenticatorBody {
    pub authenticator_vno: Explicit<0, i32>,
    pub crealm: Explicit<1, KerberosString>,
    pub cname: Explicit<2, PrincipalName>,
    pub cksum: Option<Explicit<3, Checksum>>,
    pub cusec: Explicit<4, u32>,
    pub ctime: Explicit<5, GeneralizedTime>,
}

pub type Authenticator = Application<2, AuthenticatorBody>;

/// ```text
/// KDC-REP         ::= SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (11 -- AS -- | 13 -- TGS --),
///         padata          [2] SEQUENCE OF PA-DATA OPTIONAL
///                                 -- NOTE: not empty --,
///         crealm          [3] Realm,
///         cname           [4] PrincipalName,
///         ticket          [5] Ticket,
///         enc-part        [6] EncryptedData
///                                 -- EncASRepPart or EncTGSRepPart,
///                                 -- as appropriate
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KdcRep {
    pub pvno: Explicit<0, i32>,
    pub msg_type: Explicit<1, i32>,
    pub padata: Option<Explicit<2, Vec<PaData>>>,
    pub crealm: Explicit<3, KerberosString>,
    pub cname: Explicit<4, PrincipalName>,
    pub ticket: Explicit<5, Ticket>,
    pub enc_part: Explicit<6, EncryptedData>,
}

/// `AS-REP ::= [APPLICATION 11] KDC-REP`
pub type AsRep = Application<11, KdcRep>;

/// `TGS-REP ::= [APPLICATION 13] KDC-REP`
pub type TgsRep = Application<13, KdcRep>;

/// ```text
/// LastReq         ::=     SEQUENCE OF SEQUENCE {
///         lr-type         [0] Int32,
///         lr-value        [1] KerberosTime
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct LastReqEntry {
    pub lr_type: Explicit<0, i32>,
    pub lr_value: Explicit<1, GeneralizedTime>,
}

/// ```text
/// EncKDCRepPart   ::= SEQUENCE {
///         key             [0] EncryptionKey,
///         last-req        [1] LastReq,
///         nonce           [2] UInt32,
///         key-expiration  [3] KerberosTime OPTIONAL,
///         flags           [4] TicketFlags,
///         authtime        [5] KerberosTime,
///         starttime       [6] KerberosTime OPTIONAL,
///         endtime         [7] KerberosTime,
///         renew-till      [8] KerberosTime OPTIONAL,
///         srealm          [9] Realm,
///         sname           [10] PrincipalName,
///         caddr           [11] HostAddresses OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct EncKdcRepPart {
    pub key: Explicit<0, EncryptionKey>,
    pub last_req: Explicit<1, Vec<LastReqEntry>>,
    pub nonce: Explicit<2, u32>,
    pub key_expiration: Option<Explicit<3, GeneralizedTime>>,
    pub flags: Explicit<4, BitString>,
    pub authtime: Explicit<5, GeneralizedTime>,
    pub starttime: Option<Explicit<6, GeneralizedTime>>,
    pub endtime: Explicit<7, GeneralizedTime>,
    pub renew_till: Option<Explicit<8, GeneralizedTime>>,
    pub srealm: Explicit<9, KerberosString>,
    pub sname: Explicit<10, PrincipalName>,
}

/// `EncASRepPart ::= [APPLICATION 25] EncKDCRepPart`
pub type EncAsRepPart = Application<25, EncKdcRepPart>;

/// `EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart`
pub type EncTgsRepPart = Application<26, EncKdcRepPart>;

/// ```text
/// KRB-ERROR       ::= [APPLICATION 30] SEQUENCE {
///         pvno            [0] INTEGER (5),
///         msg-type        [1] INTEGER (30),
///         ctime           [2] KerberosTime OPTIONAL,
///         cusec           [3] Microseconds OPTIONAL,
///         stime           [4] KerberosTime,
///         susec           [5] Microseconds,
///         error-code      [6] Int32,
///         crealm          [7] Realm OPTIONAL,
///         cname           [8] PrincipalName OPTIONAL,
///         realm           [9] Realm -- service realm --,
///         sname           [10] PrincipalName -- service name --,
///         e-text          [11] KerberosString OPTIONAL,
///         e-data          [12] OCTET STRING OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KrbErrorBody {
    pub pvno: Explicit<0, i32>,
    pub msg_type: Explicit<1, i32>,
    pub ctime: Option<Explicit<2, GeneralizedTime>>,
    pub cusec: Option<Explicit<3, u32>>,
    pub stime: Explicit<4, GeneralizedTime>,
    pub susec: Explicit<5, u32>,
    pub error_code: Explicit<6, i32>,
    pub crealm: Option<Explicit<7, KerberosString>>,
    pub cname: Option<Explicit<8, PrincipalName>>,
    pub realm: Explicit<9, KerberosString>,
    pub sname: Explicit<10, PrincipalName>,
    pub e_text: Option<Explicit<11, KerberosString>>,
    pub e_data: Option<Explicit<12, OctetString>>,
}

pub type KrbError = Application<30, KrbErrorBody>;

/// ```text
/// PA-PAC-REQUEST ::= SEQUENCE {
///     include-pac[0] BOOLEAN
/// }
/// ```
/// (MS-KILE 2.2.3: Windows asks for the PAC in every AS-REQ.)
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PaPacRequest {
    pub include_pac: Explicit<0, bool>,
}

// RFC 4556 §3.2.1 and §3.2.3 (module KerberosV5-PK-INIT-SPEC, EXPLICIT
// TAGS).

/// ```text
/// PA-PK-AS-REQ ::= SEQUENCE {
///    signedAuthPack          [0] IMPLICIT OCTET STRING,
///             -- Contains a CMS type ContentInfo encoded
///             -- according to [RFC3852].
///             -- The contentType field of the type ContentInfo
///             -- is id-signedData (1.2.840.113549.1.7.2),
///             -- and the content field is a SignedData.
///             -- The eContentType field for the type SignedData is
///             -- id-pkinit-authData (1.3.6.1.5.2.3.1), and the
///             -- eContent field contains the DER encoding of the
///             -- type AuthPack.
///    trustedCertifiers       [1] SEQUENCE OF
///                ExternalPrincipalIdentifier OPTIONAL,
///    kdcPkId                 [2] IMPLICIT OCTET STRING
///                                OPTIONAL,
///    ...
/// }
/// ```
///
/// Without trustedCertifiers and kdcPkId, which Windows does not send at
/// logon.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PaPkAsReq {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    pub signed_auth_pack: OctetString,
}

/// ```text
/// PKAuthenticator ::= SEQUENCE {
///    cusec                   [0] INTEGER (0..999999),
///    ctime                   [1] KerberosTime,
///             -- cusec and ctime are used as in [RFC4120], for
///             -- replay prevention.
///    nonce                   [2] INTEGER (0..4294967295),
///             -- Chosen randomly; this nonce does not need to
///             -- match with the nonce in the KDC-REQ-BODY.
///    paChecksum              [3] OCTET STRING OPTIONAL,
///             -- MUST be present.
///             -- Contains the SHA1 checksum, performed over
///             -- KDC-REQ-BODY.
///    ...
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkAuthenticator {
    pub cusec: Explicit<0, u32>,
    pub ctime: Explicit<1, GeneralizedTime>,
    pub nonce: Explicit<2, u32>,
    pub pa_checksum: Option<Explicit<3, OctetString>>,
}

/// ```text
/// AuthPack ::= SEQUENCE {
///    pkAuthenticator         [0] PKAuthenticator,
///    clientPublicValue       [1] SubjectPublicKeyInfo OPTIONAL,
///             -- Type SubjectPublicKeyInfo is defined in
///             -- [RFC3280].
///             -- Specifies Diffie-Hellman domain parameters
///             -- and the client's public key value [IEEE1363].
///    supportedCMSTypes       [2] SEQUENCE OF AlgorithmIdentifier
///                                OPTIONAL,
///    clientDHNonce           [3] DHNonce OPTIONAL,
///    ...
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct AuthPack {
    pub pk_authenticator: Explicit<0, PkAuthenticator>,
    pub client_public_value: Option<Explicit<1, SubjectPublicKeyInfoOwned>>,
    pub supported_cms_types: Option<Explicit<2, Vec<AlgorithmIdentifierOwned>>>,
    pub client_dh_nonce: Option<Explicit<3, OctetString>>,
}

/// ```text
/// DHRepInfo ::= SEQUENCE {
///    dhSignedData            [0] IMPLICIT OCTET STRING,
///             -- Contains a CMS type ContentInfo encoded according
///             -- to [RFC3852].
///             -- The contentType field of the type ContentInfo is
///             -- id-signedData (1.2.840.113549.1.7.2), and the
///             -- content field is a SignedData.
///             -- The eContentType field for the type SignedData is
///             -- id-pkinit-DHKeyData (1.3.6.1.5.2.3.2), and the
///             -- eContent field contains the DER encoding of the
///             -- type KDCDHKeyInfo.
///    serverDHNonce           [1] DHNonce OPTIONAL,
///    ...
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DhRepInfo {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    pub dh_signed_data: OctetString,
    pub server_dh_nonce: Option<Explicit<1, OctetString>>,
}

/// ```text
/// PA-PK-AS-REP ::= CHOICE {
///    dhInfo                  [0] DHRepInfo,
///    encKeyPack              [1] IMPLICIT OCTET STRING,
///    ...
/// }
/// ```
///
/// Only the Diffie-Hellman alternative: the one this exchange uses.
pub type PaPkAsRep = Explicit<0, DhRepInfo>;

/// ```text
/// KDCDHKeyInfo ::= SEQUENCE {
///    subjectPublicKey        [0] BIT STRING,
///             -- The KDC's DH public key.
///             -- The DH public key value is encoded as a BIT
///             -- STRING according to [RFC3279].
///    nonce                   [1] INTEGER (0..4294967295),
///             -- Contains the nonce in the pkAuthenticator field
///             -- in the request if the DH keys are NOT reused,
///             -- 0 otherwise.
///    dhKeyExpiration         [2] KerberosTime OPTIONAL,
///             -- Expiration time for KDC's key pair,
///             -- present if and only if the DH keys are reused.
///    ...
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct KdcDhKeyInfo {
    pub subject_public_key: Explicit<0, BitString>,
    pub nonce: Explicit<1, u32>,
    pub dh_key_expiration: Option<Explicit<2, GeneralizedTime>>,
}

/// The eContentType of the signed AuthPack (RFC 4556 §3.2.1).
pub const ID_PKINIT_AUTH_DATA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.2.3.1");
/// The eContentType of the KDC's signed DH key (RFC 4556 §3.2.3.1).
pub const ID_PKINIT_DH_KEY_DATA: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("1.3.6.1.5.2.3.2");

/// `KerberosFlags ::= BIT STRING (SIZE (32..MAX))`: the flags as 32 bits,
/// bit 0 the most significant (RFC 4120 §5.2.8).
pub fn flags(bits: &[usize]) -> der::Result<BitString> {
    let mut word = 0u32;
    for &bit in bits {
        if bit < 32 {
            word |= 1 << (31 - bit);
        }
    }
    BitString::from_bytes(&word.to_be_bytes())
}

/// The numbers of the flags set in a KerberosFlags value.
pub fn flag_bits(flags: &BitString) -> Vec<usize> {
    flags
        .raw_bytes()
        .iter()
        .enumerate()
        .flat_map(|(i, byte)| {
            (0..8)
                .filter(move |b| byte & (0x80 >> b) != 0)
                .map(move |b| i * 8 + b)
        })
        .collect()
}

/// Ticket flags and KDC options by number (RFC 4120 §5.3, §5.4.1).
pub mod flag {
    pub const FORWARDABLE: usize = 1;
    pub const PROXIABLE: usize = 3;
    pub const RENEWABLE: usize = 8;
    pub const INITIAL: usize = 9;
    pub const PRE_AUTHENT: usize = 10;
    pub const CANONICALIZE: usize = 15;
    pub const RENEWABLE_OK: usize = 27;
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::{DateTime, Decode, Encode};

    fn time(s: u64) -> GeneralizedTime {
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(s)).unwrap()
    }

    fn body() -> KdcReqBody {
        KdcReqBody {
            kdc_options: Explicit(
                flags(&[
                    flag::FORWARDABLE,
                    flag::RENEWABLE,
                    flag::CANONICALIZE,
                    flag::RENEWABLE_OK,
                ])
                .unwrap(),
            ),
            cname: Some(Explicit(
                PrincipalName::new(name_type::ENTERPRISE, &["alex.wilber@contoso.com"]).unwrap(),
            )),
            realm: Explicit(KerberosString::new("CONTOSO.COM").unwrap()),
            sname: Some(Explicit(
                PrincipalName::new(name_type::SRV_INST, &["krbtgt", "CONTOSO.COM"]).unwrap(),
            )),
            from: None,
            till: Explicit(time(2_147_483_647 - 1)),
            rtime: None,
            nonce: Explicit(0x7fff_0001),
            etype: Explicit(vec![18, 17]),
        }
    }

    #[test]
    fn an_as_req_round_trips_and_starts_as_rfc_4120_says() {
        let pac = PaPacRequest {
            include_pac: Explicit(true),
        }
        .to_der()
        .unwrap();
        let req: AsReq = Application(KdcReq {
            pvno: Explicit(PVNO),
            msg_type: Explicit(msg_type::AS_REQ),
            padata: Some(Explicit(vec![PaData {
                padata_type: Explicit(pa_type::PAC_REQUEST),
                padata_value: Explicit(OctetString::new(pac).unwrap()),
            }])),
            req_body: Explicit(body()),
        });
        let der = req.to_der().unwrap();
        // [APPLICATION 10] (0x6A), then the SEQUENCE, then [1] pvno 5.
        let content = |tlv: &[u8]| -> Vec<u8> {
            let skip = match tlv[1] {
                n if n & 0x80 == 0 => 2,
                n => 2 + usize::from(n & 0x7f),
            };
            tlv[skip..].to_vec()
        };
        assert_eq!(der[0], 0x6A);
        let sequence = content(&der);
        assert_eq!(sequence[0], 0x30);
        assert_eq!(&content(&sequence)[..5], &[0xA1, 0x03, 0x02, 0x01, 0x05]);
        assert_eq!(AsReq::from_der(&der).unwrap(), req);
        // kdc-options: forwardable, renewable, canonicalize, renewable-ok.
        assert_eq!(body().kdc_options.0.raw_bytes(), &[0x40, 0x81, 0x00, 0x10]);
        assert_eq!(flag_bits(&body().kdc_options.0), vec![1, 8, 15, 27]);
    }

    #[test]
    fn a_truncated_or_retagged_message_is_an_error() {
        let der = Application::<10, KdcReqBody>(body()).to_der().unwrap();
        for cut in [1, der.len() / 2, der.len() - 1] {
            assert!(Application::<10, KdcReqBody>::from_der(&der[..cut]).is_err());
        }
        let mut retagged = der.clone();
        retagged[0] = 0x6B;
        assert!(Application::<10, KdcReqBody>::from_der(&retagged).is_err());
        // A realm that is not a GeneralString.
        let mut ia5 = der;
        let at = ia5.windows(2).position(|w| w == [0x1B, 11]).unwrap();
        ia5[at] = 0x16;
        assert!(Application::<10, KdcReqBody>::from_der(&ia5).is_err());
    }

    #[test]
    fn kerberos_time_is_generalized_time_without_fractions() {
        let t = time(1_795_341_600);
        let der = Explicit::<5, GeneralizedTime>(t).to_der().unwrap();
        assert_eq!(&der[2..4], &[0x18, 15]);
        assert_eq!(&der[4..], b"20261122100000Z");
        let _ = DateTime::from_unix_duration(std::time::Duration::from_secs(0)).unwrap();
    }
}
