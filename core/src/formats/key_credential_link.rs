//! KEYCREDENTIALLINK_BLOB (MS-ADTS 2.2.20): one value of a user's
//! msDS-KeyCredentialLink attribute, the public key a domain controller or
//! Entra ID trusts for Windows Hello for Business sign-in; and its DN-Binary
//! string form (MS-DVRJ 2.3.4, MS-KPP 2.3.3) in `dn_binary.rs`.
//!
//! ```text
//! Version  u32 LE  0x00000200 (KEY_CREDENTIAL_LINK_VERSION_2, MS-ADTS 2.2.20.2)
//! then KEYCREDENTIALLINK_ENTRY structures, identifiers strictly increasing
//! (MS-ADTS 2.2.20.3):
//!   Length u16 LE (of Value) | Identifier u8 | Value
//! ```
//!
//! Identifiers (MS-ADTS 2.2.20.6): 0x01 KeyID = SHA-256 of the KeyMaterial
//! value; 0x02 KeyHash = SHA-256 of every byte after the KeyHash entry;
//! 0x03 KeyMaterial; 0x04 KeyUsage; 0x05 KeySource; 0x06 DeviceId;
//! 0x07 CustomKeyInformation (MS-ADTS 2.2.20.4);
//! 0x08 KeyApproximateLastLogonTimeStamp; 0x09 KeyCreationTime (FILETIME).
//!
//! A blob is built the way the specification's hashes force: entries
//! 0x03–0x09 first, KeyHash over them, KeyID over the key material, then
//! Version ‖ KeyID ‖ KeyHash ‖ entries. For RSA-2048 with every entry that is
//! 414 bytes, 828 hex characters in DN-Binary form.

use crate::artifact::Field;
use crate::clock::SimTime;
use crate::error::{Error, Result};
use crate::formats::bcrypt::BcryptRsaPublicBlob;
use crate::formats::codec::{Codec, Reader};
use crate::formats::encoding::{hex, hex_prefix};
use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha256};
use std::fmt;

pub use crate::formats::guid::Guid;
pub use dn_binary::DnBinary;

mod dn_binary;

/// KEY_CREDENTIAL_LINK_VERSION_2 (MS-ADTS 2.2.20.1), the only version.
pub const KEY_CREDENTIAL_LINK_VERSION_2: u32 = 0x0000_0200;

const NAME: &str = "KEYCREDENTIALLINK_BLOB";
/// Length of the Length and Identifier fields of an entry.
const ENTRY_HEADER_LEN: usize = 3;

// ---------------------------------------------------------------------------
// Identifiers and their values
// ---------------------------------------------------------------------------

/// What a KEYCREDENTIALLINK_ENTRY holds (MS-ADTS 2.2.20.6), in spec order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryIdentifier {
    KeyId = 0x01,
    KeyHash = 0x02,
    KeyMaterial = 0x03,
    KeyUsage = 0x04,
    KeySource = 0x05,
    DeviceId = 0x06,
    CustomKeyInformation = 0x07,
    KeyApproximateLastLogonTimeStamp = 0x08,
    KeyCreationTime = 0x09,
}

impl EntryIdentifier {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x01 => Self::KeyId,
            0x02 => Self::KeyHash,
            0x03 => Self::KeyMaterial,
            0x04 => Self::KeyUsage,
            0x05 => Self::KeySource,
            0x06 => Self::DeviceId,
            0x07 => Self::CustomKeyInformation,
            0x08 => Self::KeyApproximateLastLogonTimeStamp,
            0x09 => Self::KeyCreationTime,
            _ => return None,
        })
    }

    pub fn to_u8(self) -> u8 {
        self as u8
    }

    /// The specification's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::KeyId => "KeyID",
            Self::KeyHash => "KeyHash",
            Self::KeyMaterial => "KeyMaterial",
            Self::KeyUsage => "KeyUsage",
            Self::KeySource => "KeySource",
            Self::DeviceId => "DeviceId",
            Self::CustomKeyInformation => "CustomKeyInformation",
            Self::KeyApproximateLastLogonTimeStamp => "KeyApproximateLastLogonTimeStamp",
            Self::KeyCreationTime => "KeyCreationTime",
        }
    }

    /// The Value length MS-ADTS 2.2.20.6 fixes, if it fixes one.
    fn fixed_len(self) -> Option<usize> {
        match self {
            Self::KeyId | Self::KeyHash => Some(32),
            Self::KeyUsage | Self::KeySource => Some(1),
            Self::DeviceId => Some(16),
            Self::KeyApproximateLastLogonTimeStamp | Self::KeyCreationTime => Some(8),
            Self::KeyMaterial | Self::CustomKeyInformation => None,
        }
    }
}

/// `KeyID (0x01)`, or `unknown (0x0A)`.
fn identifier_label(id: u8) -> String {
    match EntryIdentifier::from_u8(id) {
        Some(e) => format!("{} (0x{id:02X})", e.name()),
        None => format!("unknown identifier (0x{id:02X})"),
    }
}

/// The KeyUsage value. MS-ADTS 2.2.20.1 defines NGC, FIDO and FEK; the others
/// are values seen on real directory objects (DSInternals `KeyUsage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// 0x00: PIN-reset admin key (seen in practice).
    AdminKey,
    /// 0x01 KEY_USAGE_NGC: a Windows Hello for Business ("next generation credential") key.
    Ngc,
    /// 0x02: a device's session transport key (seen in practice).
    Stk,
    /// 0x03: a BitLocker recovery key (seen in practice).
    BitlockerRecovery,
    /// 0x07 KEY_USAGE_FIDO: a FIDO2 security key.
    Fido,
    /// 0x08 KEY_USAGE_FEK: a file encryption key.
    Fek,
    /// Any other value, kept as read.
    Unknown(u8),
}

impl KeyUsage {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x00 => Self::AdminKey,
            0x01 => Self::Ngc,
            0x02 => Self::Stk,
            0x03 => Self::BitlockerRecovery,
            0x07 => Self::Fido,
            0x08 => Self::Fek,
            other => Self::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::AdminKey => 0x00,
            Self::Ngc => 0x01,
            Self::Stk => 0x02,
            Self::BitlockerRecovery => 0x03,
            Self::Fido => 0x07,
            Self::Fek => 0x08,
            Self::Unknown(v) => v,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::AdminKey => "AdminKey: PIN-reset admin key",
            Self::Ngc => "NGC: Windows Hello for Business user key",
            Self::Stk => "STK: device transport key",
            Self::BitlockerRecovery => "BitLocker recovery key",
            Self::Fido => "FIDO: FIDO2 security key",
            Self::Fek => "FEK: file encryption key",
            Self::Unknown(_) => "unknown usage",
        }
    }
}

/// The KeySource value. MS-ADTS 2.2.20.1 defines KEY_SOURCE_AD; Entra ID
/// (0x01) is what keys synchronised from Entra ID carry (DSInternals `KeySource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeySource {
    /// 0x00 KEY_SOURCE_AD: registered on premises.
    Ad,
    /// 0x01: registered in Entra ID and synchronised down.
    AzureAd,
    Unknown(u8),
}

impl KeySource {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0x00 => Self::Ad,
            0x01 => Self::AzureAd,
            other => Self::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::Ad => 0x00,
            Self::AzureAd => 0x01,
            Self::Unknown(v) => v,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Ad => "AD: registered in on-premises Active Directory",
            Self::AzureAd => "Entra ID: registered in Entra ID",
            Self::Unknown(_) => "unknown source",
        }
    }
}

/// The Flags byte of CUSTOM_KEY_INFORMATION (MS-ADTS 2.2.20.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CustomKeyFlags(pub u8);

impl CustomKeyFlags {
    pub const NONE: Self = Self(0x00);
    /// CUSTOMKEYINFO_FLAGS_ATTESTATION (the specification reserves it).
    pub const ATTESTATION: Self = Self(0x01);
    /// CUSTOMKEYINFO_FLAGS_MFA_NOT_USED: the client proved only one factor
    /// when the key was created. MS-KPP 3.1.5.1.1.3 has the registration
    /// service write this value.
    pub const MFA_NOT_USED: Self = Self(0x02);

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for CustomKeyFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl fmt::Display for CustomKeyFlags {
    /// `0x03 (ATTESTATION | MFA_NOT_USED)`, `0x00 (none)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = Vec::new();
        if self.contains(Self::ATTESTATION) {
            names.push("ATTESTATION");
        }
        if self.contains(Self::MFA_NOT_USED) {
            names.push("MFA_NOT_USED");
        }
        if self.0 & !0x03 != 0 {
            names.push("unknown bits");
        }
        if names.is_empty() {
            names.push("none");
        }
        write!(f, "0x{:02X} ({})", self.0, names.join(" | "))
    }
}

/// CUSTOM_KEY_INFORMATION (MS-ADTS 2.2.20.4): Version and Flags, optionally
/// followed by VolType, SupportsNotification, FekKeyVersion, KeyStrength,
/// Reserved (10 bytes) and EncodedExtendedCKI. Only the total size tells the
/// two forms apart; the bytes after Flags are kept as read and shown field by
/// field as far as they go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomKeyInformation {
    flags: CustomKeyFlags,
    extended: Vec<u8>,
}

impl CustomKeyInformation {
    /// The Version field's only value.
    pub const VERSION: u8 = 1;

    /// The short (two-byte) form.
    pub fn new(flags: CustomKeyFlags) -> Self {
        Self {
            flags,
            extended: Vec::new(),
        }
    }

    pub fn flags(&self) -> CustomKeyFlags {
        self.flags
    }

    /// The bytes after Flags (empty in the short form).
    pub fn extended(&self) -> &[u8] {
        &self.extended
    }

    /// Reads the Value of a CustomKeyInformation entry.
    pub fn parse(value: &[u8]) -> Result<Self> {
        match value {
            [] | [_] => Err(Error::malformed(
                NAME,
                format!(
                    "CustomKeyInformation is {} byte(s); it holds at least Version and Flags (MS-ADTS 2.2.20.4)",
                    value.len()
                ),
            )),
            [version, ..] if *version != Self::VERSION => Err(Error::malformed(
                NAME,
                format!("CustomKeyInformation Version is {version}, MS-ADTS 2.2.20.4 requires 1"),
            )),
            [_, flags, rest @ ..] => Ok(Self {
                flags: CustomKeyFlags(*flags),
                extended: rest.to_vec(),
            }),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![Self::VERSION, self.flags.0];
        out.extend_from_slice(&self.extended);
        out
    }

    fn summary(&self) -> String {
        let form = if self.extended.is_empty() {
            String::new()
        } else {
            format!(", {} more bytes (long form)", self.extended.len())
        };
        format!("Version 1, Flags {}{form}", self.flags)
    }

    /// Field by field, from `at` (the offset of the Version byte).
    fn describe(&self, at: usize) -> Vec<Field> {
        const SPEC: &str = "MS-ADTS 2.2.20.4";
        let mut out = vec![
            Field::new("Version", "1", "Structure version; always 1.", SPEC, at, 1),
            Field::new(
                "Flags",
                self.flags.to_string(),
                "0x01 ATTESTATION (reserved by the specification); 0x02 MFA_NOT_USED: only one \
                 factor was proved when the key was created.",
                SPEC,
                at + 1,
                1,
            ),
        ];
        let ext = &self.extended;
        let mut pos = 0;
        let mut byte = |name: &str, note: &str, render: fn(u8) -> String, out: &mut Vec<Field>| {
            if let Some(&b) = ext.get(pos) {
                out.push(Field::new(name, render(b), note, SPEC, at + 2 + pos, 1));
                pos += 1;
            }
        };
        byte(
            "VolType",
            "Volume type, for BitLocker keys.",
            |b| {
                match b {
                    0 => "0x00 None",
                    1 => "0x01 OSV: operating system volume",
                    2 => "0x02 FDV: fixed data volume",
                    3 => "0x03 RDV: removable data volume",
                    _ => "unknown",
                }
                .to_string()
            },
            &mut out,
        );
        byte(
            "SupportsNotification",
            "Whether the key's device can receive notifications.",
            |b| {
                if b == 0 {
                    "0x00 no".into()
                } else {
                    format!("0x{b:02X} yes")
                }
            },
            &mut out,
        );
        byte(
            "FekKeyVersion",
            "Version of a file encryption key.",
            |b| b.to_string(),
            &mut out,
        );
        byte(
            "KeyStrength",
            "Strength of the key as the client judged it.",
            |b| {
                match b {
                    0 => "0x00 unknown",
                    1 => "0x01 weak",
                    2 => "0x02 normal",
                    _ => "other",
                }
                .to_string()
            },
            &mut out,
        );
        if pos < ext.len() {
            let n = (ext.len() - pos).min(10);
            out.push(Field::new(
                "Reserved",
                hex(&ext[pos..pos + n]),
                "Reserved bytes (10 in the specification).",
                SPEC,
                at + 2 + pos,
                n,
            ));
            pos += n;
        }
        if pos < ext.len() {
            out.push(Field::new(
                "EncodedExtendedCKI",
                hex_prefix(&ext[pos..], 16),
                "Further key information in an encoded form.",
                SPEC,
                at + 2 + pos,
                ext.len() - pos,
            ));
        }
        out
    }
}

/// A Windows FILETIME: 100-nanosecond ticks since 1601-01-01 UTC (MS-DTYP 2.3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileTime(pub u64);

impl FileTime {
    pub fn from_sim_time(t: SimTime) -> Self {
        FileTime(t.filetime())
    }

    /// The time, or `None` for a FILETIME before 1970.
    pub fn to_sim_time(self) -> Option<SimTime> {
        SimTime::from_filetime(self.0)
    }
}

impl fmt::Display for FileTime {
    /// `2026-11-22 09:00:00 UTC (FILETIME 134398116000000000)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_sim_time() {
            Some(t) => write!(f, "{t} (FILETIME {})", self.0),
            None => write!(f, "FILETIME {} (before 1970)", self.0),
        }
    }
}

/// Ticks (100 ns) from 0001-01-01 to 1601-01-01: a .NET `DateTime`'s
/// ticks minus this are a FILETIME.
const DOTNET_TICKS_AT_1601: u64 = 504_911_232_000_000_000;
/// `DateTime.ToBinary`'s Kind bits for `DateTimeKind.Utc` (bits 62–63 = 01).
const DOTNET_KIND_UTC: u64 = 0x4000_0000_0000_0000;
const DOTNET_TICKS_MASK: u64 = 0x3FFF_FFFF_FFFF_FFFF;

/// A key credential's time as the directory holds it. Version-2 values
/// whose KeySource is AD hold a FILETIME; those whose KeySource is Entra ID
/// hold a .NET `DateTime.ToBinary` value (a UTC DateTime: its ticks since
/// 0001-01-01 with the Kind bits 01). That is how DSInternals reads and
/// writes them (`DSInternals.Common/Data/Hello/KeyCredential.cs`,
/// `ConvertFromBinaryTime` / `ConvertToBinaryTime`: `FromFileTime` for
/// `KeySource.AD`, `FromBinary` otherwise); read the other way, a FILETIME
/// in a cloud-sourced value comes out in the year 426.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyTime {
    FileTime(FileTime),
    /// The raw `DateTime.ToBinary` value.
    DotNetBinary(u64),
}

impl KeyTime {
    /// `t` in the encoding values from `source` use.
    pub fn new(t: SimTime, source: KeySource) -> Self {
        let ft = t.filetime();
        match source {
            KeySource::Ad => KeyTime::FileTime(FileTime(ft)),
            _ => KeyTime::DotNetBinary((ft + DOTNET_TICKS_AT_1601) | DOTNET_KIND_UTC),
        }
    }

    /// Reads 8 little-endian bytes the way a value from `source` holds them.
    pub fn read(v: &[u8], source: Option<KeySource>) -> Self {
        let raw = filetime(v).0;
        match source {
            Some(KeySource::Ad) | None => KeyTime::FileTime(FileTime(raw)),
            Some(_) => KeyTime::DotNetBinary(raw),
        }
    }

    pub fn to_bytes(self) -> [u8; 8] {
        match self {
            KeyTime::FileTime(ft) => ft.0.to_le_bytes(),
            KeyTime::DotNetBinary(raw) => raw.to_le_bytes(),
        }
    }

    /// The time, or `None` before 1970 (or for a .NET value whose Kind is
    /// not UTC, which these values never use).
    pub fn to_sim_time(self) -> Option<SimTime> {
        match self {
            KeyTime::FileTime(ft) => ft.to_sim_time(),
            KeyTime::DotNetBinary(raw) if raw & !DOTNET_TICKS_MASK == DOTNET_KIND_UTC => (raw
                & DOTNET_TICKS_MASK)
                .checked_sub(DOTNET_TICKS_AT_1601)
                .and_then(SimTime::from_filetime),
            KeyTime::DotNetBinary(_) => None,
        }
    }
}

impl fmt::Display for KeyTime {
    /// `2026-11-22 09:00:00 UTC (FILETIME 134398116000000000)` or
    /// `2026-11-22 09:00:00 UTC (.NET DateTime binary 0x48DE…)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.to_sim_time()) {
            (KeyTime::FileTime(ft), _) => ft.fmt(f),
            (KeyTime::DotNetBinary(raw), Some(t)) => {
                write!(f, "{t} (.NET DateTime binary 0x{raw:016X}, UTC)")
            }
            (KeyTime::DotNetBinary(raw), None) => {
                write!(
                    f,
                    ".NET DateTime binary 0x{raw:016X} (not a UTC time after 1970)"
                )
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Entries and the blob
// ---------------------------------------------------------------------------

/// KEYCREDENTIALLINK_ENTRY (MS-ADTS 2.2.20.3) as it is on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCredentialEntry {
    identifier: u8,
    value: Vec<u8>,
}

impl KeyCredentialEntry {
    /// An entry; fails when the value is too long for the u16 Length.
    pub fn new(identifier: EntryIdentifier, value: Vec<u8>) -> Result<Self> {
        if value.len() > usize::from(u16::MAX) {
            return Err(Error::Usage(format!(
                "a {} value of {} bytes does not fit a KEYCREDENTIALLINK_ENTRY (at most 65535)",
                identifier.name(),
                value.len()
            )));
        }
        Ok(Self {
            identifier: identifier.to_u8(),
            value,
        })
    }

    /// The raw Identifier byte.
    pub fn identifier(&self) -> u8 {
        self.identifier
    }

    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Bytes the entry takes: Length, Identifier, Value.
    pub fn encoded_len(&self) -> usize {
        ENTRY_HEADER_LEN + self.value.len()
    }
}

impl Codec for KeyCredentialEntry {
    const NAME: &'static str = "KEYCREDENTIALLINK_ENTRY";

    fn encode(&self, out: &mut Vec<u8>) {
        // Values longer than u16::MAX cannot be built (new) or read (read).
        let len = u16::try_from(self.value.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.push(self.identifier);
        out.extend_from_slice(&self.value);
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let len = r.u16_le("Length")?;
        let identifier = r.u8("Identifier")?;
        let field = format!("the Value of the {} entry", identifier_label(identifier));
        let value = r.take(usize::from(len), &field)?.to_vec();
        Ok(Self { identifier, value })
    }
}

/// Reads Version and the entries without judging them: the shared first step
/// of [`KeyCredentialLink::parse`] and of the decoded view.
fn read_layout(r: &mut Reader<'_>) -> Result<(u32, Vec<KeyCredentialEntry>)> {
    let version = r.u32_le("Version")?;
    let mut entries = Vec::new();
    while !r.is_empty() {
        if r.remaining() < ENTRY_HEADER_LEN {
            return Err(Error::malformed(
                NAME,
                format!(
                    "{} byte(s) left after the last entry at offset {}: too few for an entry's Length and \
                     Identifier (3 bytes); the blob is truncated or has trailing bytes",
                    r.remaining(),
                    r.pos()
                ),
            ));
        }
        entries.push(KeyCredentialEntry::read(r)?);
    }
    Ok((version, entries))
}

/// What a KEYCREDENTIALLINK_BLOB needs to be built: the pieces of
/// MS-KPP 3.1.5.1.1.3's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCredentialParams {
    /// The public key, as the client sent it in `kngc`.
    pub key_material: BcryptRsaPublicBlob,
    pub usage: KeyUsage,
    pub source: KeySource,
    /// The `deviceid` claim of the registration's access token.
    pub device_id: Guid,
    /// CUSTOM_KEY_INFORMATION Flags (the short form is written).
    pub flags: CustomKeyFlags,
    pub created: SimTime,
    pub last_logon: SimTime,
}

/// A checked KEYCREDENTIALLINK_BLOB: version 2, entries in strictly
/// increasing order with the lengths MS-ADTS 2.2.20.6 gives, KeyID,
/// KeyMaterial and KeyUsage present, KeyID and (when present) KeyHash
/// matching their hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCredentialLink {
    entries: Vec<KeyCredentialEntry>,
    key_id: [u8; 32],
    key_hash: Option<[u8; 32]>,
    key_material: Vec<u8>,
    usage: KeyUsage,
    source: Option<KeySource>,
    device_id: Option<Guid>,
    custom: Option<CustomKeyInformation>,
    last_logon: Option<KeyTime>,
    created: Option<KeyTime>,
}

impl KeyCredentialLink {
    /// Builds the blob with all nine entries (414 bytes for RSA-2048):
    /// entries 0x03–0x09, KeyHash over them, KeyID over the key material.
    pub fn build(p: &KeyCredentialParams) -> Result<Self> {
        use EntryIdentifier as Id;
        let material = p.key_material.to_bytes();
        let after_hash = vec![
            KeyCredentialEntry::new(Id::KeyMaterial, material.clone())?,
            KeyCredentialEntry::new(Id::KeyUsage, vec![p.usage.to_u8()])?,
            KeyCredentialEntry::new(Id::KeySource, vec![p.source.to_u8()])?,
            KeyCredentialEntry::new(Id::DeviceId, p.device_id.to_dotnet_bytes().to_vec())?,
            KeyCredentialEntry::new(
                Id::CustomKeyInformation,
                CustomKeyInformation::new(p.flags).to_bytes(),
            )?,
            KeyCredentialEntry::new(
                Id::KeyApproximateLastLogonTimeStamp,
                KeyTime::new(p.last_logon, p.source).to_bytes().to_vec(),
            )?,
            KeyCredentialEntry::new(
                Id::KeyCreationTime,
                KeyTime::new(p.created, p.source).to_bytes().to_vec(),
            )?,
        ];
        let mut tail = Vec::new();
        for e in &after_hash {
            e.encode(&mut tail);
        }
        let mut entries = vec![
            KeyCredentialEntry::new(Id::KeyId, Sha256::digest(&material).to_vec())?,
            KeyCredentialEntry::new(Id::KeyHash, Sha256::digest(&tail).to_vec())?,
        ];
        entries.extend(after_hash);
        Self::from_entries(entries)
    }

    /// Reads and checks a blob. Structural problems are [`Error::Malformed`];
    /// a KeyID or KeyHash that does not match is [`Error::Invalid`], naming
    /// the check and both hashes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        Self::from_slice(bytes)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_vec()
    }

    /// The DN-Binary value for the user object `owner_dn`.
    pub fn to_dn_binary(&self, owner_dn: &str) -> DnBinary {
        DnBinary::new(self.to_bytes(), owner_dn)
    }

    /// The entries in order, KeyID first.
    pub fn entries(&self) -> &[KeyCredentialEntry] {
        &self.entries
    }

    /// KeyID: SHA-256 of the KeyMaterial value.
    pub fn key_id(&self) -> [u8; 32] {
        self.key_id
    }

    /// KeyID in base64: for an NGC key, what [`BcryptRsaPublicBlob::key_id`] gives.
    pub fn key_id_base64(&self) -> String {
        Base64::encode_string(&self.key_id)
    }

    pub fn key_hash(&self) -> Option<[u8; 32]> {
        self.key_hash
    }

    /// The KeyMaterial value, as stored.
    pub fn key_material(&self) -> &[u8] {
        &self.key_material
    }

    /// The KeyMaterial read as a BCRYPT_RSAPUBLIC_BLOB (the NGC form).
    pub fn key_material_blob(&self) -> Result<BcryptRsaPublicBlob> {
        BcryptRsaPublicBlob::parse(&self.key_material)
    }

    pub fn usage(&self) -> KeyUsage {
        self.usage
    }

    pub fn source(&self) -> Option<KeySource> {
        self.source
    }

    pub fn device_id(&self) -> Option<Guid> {
        self.device_id
    }

    pub fn custom_key_information(&self) -> Option<&CustomKeyInformation> {
        self.custom.as_ref()
    }

    pub fn last_logon(&self) -> Option<KeyTime> {
        self.last_logon
    }

    pub fn created(&self) -> Option<KeyTime> {
        self.created
    }

    /// Checks entries (already read) and decodes their values.
    fn from_entries(entries: Vec<KeyCredentialEntry>) -> Result<Self> {
        use EntryIdentifier as Id;
        let mut key_id = None;
        let mut key_hash = None;
        let mut key_material = None;
        let mut usage = None;
        let mut source = None;
        let mut device_id = None;
        let mut custom = None;
        let mut last_logon = None;
        let mut created = None;
        let mut hash_index = None;
        let mut offset = 4;
        let mut previous: Option<(EntryIdentifier, usize)> = None;
        for (i, entry) in entries.iter().enumerate() {
            let id = EntryIdentifier::from_u8(entry.identifier).ok_or_else(|| {
                Error::malformed(
                    NAME,
                    format!(
                        "the entry at offset {offset} has identifier 0x{:02X}, which MS-ADTS 2.2.20.6 does not define",
                        entry.identifier
                    ),
                )
            })?;
            if let Some((prev, prev_offset)) = previous {
                if id == prev {
                    return Err(Error::malformed(
                        NAME,
                        format!(
                            "the {} entry appears twice, at offsets {prev_offset} and {offset}",
                            id.name()
                        ),
                    ));
                }
                if id < prev {
                    return Err(Error::malformed(
                        NAME,
                        format!(
                            "entries out of order: {} at offset {offset} follows {}; MS-ADTS 2.2.20.2 \
                             requires increasing identifiers",
                            identifier_label(entry.identifier),
                            identifier_label(prev.to_u8())
                        ),
                    ));
                }
            }
            let v = entry.value.as_slice();
            if let Some(expected) = id.fixed_len() {
                if v.len() != expected {
                    return Err(Error::malformed(
                        NAME,
                        format!(
                            "the {} entry at offset {offset} holds {} byte(s); MS-ADTS 2.2.20.6 says {expected}",
                            id.name(),
                            v.len()
                        ),
                    ));
                }
            }
            match id {
                Id::KeyId => key_id = Some(array32(v)),
                Id::KeyHash => {
                    key_hash = Some(array32(v));
                    hash_index = Some(i);
                }
                Id::KeyMaterial if v.is_empty() => {
                    return Err(Error::malformed(NAME, "the KeyMaterial entry is empty"));
                }
                Id::KeyMaterial => key_material = Some(v.to_vec()),
                Id::KeyUsage => usage = Some(KeyUsage::from_u8(byte(v))),
                Id::KeySource => source = Some(KeySource::from_u8(byte(v))),
                Id::DeviceId => device_id = Some(Guid::from_dotnet_bytes(array16(v))),
                Id::CustomKeyInformation => custom = Some(CustomKeyInformation::parse(v)?),
                Id::KeyApproximateLastLogonTimeStamp => last_logon = Some(KeyTime::read(v, source)),
                Id::KeyCreationTime => created = Some(KeyTime::read(v, source)),
            }
            previous = Some((id, offset));
            offset += entry.encoded_len();
        }
        let missing = |name: &str| {
            Error::malformed(
                NAME,
                format!("the {name} entry is missing; MS-ADTS 2.2.20.6 requires KeyID, KeyMaterial and KeyUsage"),
            )
        };
        let key_id = key_id.ok_or_else(|| missing("KeyID"))?;
        let key_material = key_material.ok_or_else(|| missing("KeyMaterial"))?;
        let usage = usage.ok_or_else(|| missing("KeyUsage"))?;

        let material_hash: [u8; 32] = Sha256::digest(&key_material).into();
        if material_hash != key_id {
            return Err(Error::invalid(
                NAME,
                format!(
                    "KeyID check failed: the KeyID entry holds {}, but SHA-256 of the KeyMaterial value is {}",
                    hex_prefix(&key_id, 8),
                    hex_prefix(&material_hash, 8)
                ),
            ));
        }
        if let (Some(stored), Some(i)) = (key_hash, hash_index) {
            let mut tail = Vec::new();
            for e in &entries[i + 1..] {
                e.encode(&mut tail);
            }
            let actual: [u8; 32] = Sha256::digest(&tail).into();
            if actual != stored {
                return Err(Error::invalid(
                    NAME,
                    format!(
                        "KeyHash check failed: the KeyHash entry holds {}, but SHA-256 of the {} bytes after it is {}",
                        hex_prefix(&stored, 8),
                        tail.len(),
                        hex_prefix(&actual, 8)
                    ),
                ));
            }
        }
        Ok(Self {
            entries,
            key_id,
            key_hash,
            key_material,
            usage,
            source,
            device_id,
            custom,
            last_logon,
            created,
        })
    }

    /// The decoded view: Version, then every entry with its Length,
    /// Identifier and Value (KeyMaterial further split into the BCRYPT blob's
    /// fields, CustomKeyInformation into its fields). The fields tile the
    /// bytes. The view reads the layout only, so a tampered blob is still
    /// shown, with the failed check in the KeyID or KeyHash note.
    pub fn fields(bytes: &[u8]) -> Result<Vec<Field>> {
        let mut r = Reader::new(NAME, bytes);
        let (version, entries) = read_layout(&mut r)?;
        let version_value = if version == KEY_CREDENTIAL_LINK_VERSION_2 {
            format!("0x{version:08X} (KEY_CREDENTIAL_LINK_VERSION_2)")
        } else {
            format!("0x{version:08X} (wrong: must be 0x00000200)")
        };
        let mut out = vec![Field::new(
            "Version",
            version_value,
            "Structure version, little-endian u32.",
            "MS-ADTS 2.2.20.1, 2.2.20.2",
            0,
            4,
        )];
        let material = entries
            .iter()
            .find(|e| e.identifier == EntryIdentifier::KeyMaterial.to_u8())
            .map(|e| e.value.as_slice());
        let source = entries
            .iter()
            .find(|e| e.identifier == EntryIdentifier::KeySource.to_u8() && e.value.len() == 1)
            .map(|e| KeySource::from_u8(e.value[0]));
        let mut offset = 4;
        for (i, entry) in entries.iter().enumerate() {
            let value_at = offset + ENTRY_HEADER_LEN;
            let tail_after = || {
                let mut tail = Vec::new();
                for e in &entries[i + 1..] {
                    e.encode(&mut tail);
                }
                tail
            };
            let (value, note, spec, children) =
                describe_value(entry, value_at, material, source, tail_after);
            let len = entry.value.len();
            out.push(
                Field::new(
                    identifier_label(entry.identifier),
                    value.clone(),
                    note,
                    "MS-ADTS 2.2.20.3, 2.2.20.6",
                    offset,
                    entry.encoded_len(),
                )
                .with_children(vec![
                    Field::new(
                        "Length",
                        len.to_string(),
                        "Length of Value in bytes, little-endian u16.",
                        "MS-ADTS 2.2.20.3",
                        offset,
                        2,
                    ),
                    Field::new(
                        "Identifier",
                        identifier_label(entry.identifier),
                        "What the Value holds.",
                        "MS-ADTS 2.2.20.3, 2.2.20.6",
                        offset + 2,
                        1,
                    ),
                    Field::new("Value", value, "", spec, value_at, len).with_children(children),
                ]),
            );
            offset += entry.encoded_len();
        }
        Ok(out)
    }
}

/// (value, note, spec, children) for an entry's Value at `at`.
fn describe_value(
    entry: &KeyCredentialEntry,
    at: usize,
    material: Option<&[u8]>,
    source: Option<KeySource>,
    tail_after: impl Fn() -> Vec<u8>,
) -> (String, String, &'static str, Vec<Field>) {
    use EntryIdentifier as Id;
    let v = entry.value.as_slice();
    let Some(id) = EntryIdentifier::from_u8(entry.identifier) else {
        return (
            format!("{} bytes: {}", v.len(), hex_prefix(v, 16)),
            "An identifier MS-ADTS 2.2.20.6 does not define.".into(),
            "MS-ADTS 2.2.20.6",
            Vec::new(),
        );
    };
    let wrong_len = id.fixed_len().is_some_and(|n| n != v.len());
    if wrong_len {
        return (
            format!("{} bytes: {}", v.len(), hex_prefix(v, 16)),
            format!(
                "{} must hold {} bytes; this one holds {}.",
                id.name(),
                id.fixed_len().unwrap_or_default(),
                v.len()
            ),
            "MS-ADTS 2.2.20.6",
            Vec::new(),
        );
    }
    match id {
        Id::KeyId => {
            let check = match material {
                Some(m) => {
                    let h = Sha256::digest(m);
                    if h.as_slice() == v {
                        "Check: matches SHA-256 of KeyMaterial.".to_string()
                    } else {
                        format!("Check FAILED: SHA-256 of KeyMaterial is {}.", hex_prefix(&h, 8))
                    }
                }
                None => "Check impossible: no KeyMaterial entry.".to_string(),
            };
            (
                format!("{} (hex {})", Base64::encode_string(v), hex_prefix(v, 8)),
                format!(
                    "SHA-256 of the KeyMaterial value; in base64 it is the key ID the client and the \
                     directory use. {check}"
                ),
                "MS-ADTS 2.2.20.6",
                Vec::new(),
            )
        }
        Id::KeyHash => {
            let tail = tail_after();
            let h = Sha256::digest(&tail);
            let check = if h.as_slice() == v {
                format!("Check: matches SHA-256 of the {} bytes after this entry.", tail.len())
            } else {
                format!(
                    "Check FAILED: SHA-256 of the {} bytes after this entry is {}.",
                    tail.len(),
                    hex_prefix(&h, 8)
                )
            };
            (
                hex(v),
                format!("SHA-256 of every byte after this entry: it seals the entries that follow. {check}"),
                "MS-ADTS 2.2.20.6",
                Vec::new(),
            )
        }
        Id::KeyMaterial => match BcryptRsaPublicBlob::parse(v) {
            Ok(blob) => (
                format!(
                    "BCRYPT_RSAPUBLIC_BLOB: RSA-{}, e = {} ({} bytes)",
                    blob.bit_length(),
                    crate::formats::bcrypt::exponent_decimal(blob.exponent()),
                    v.len()
                ),
                "The public key. For a Windows Hello (NGC) key it is the BCRYPT_RSAPUBLIC_BLOB the client \
                 sent as kngc, byte for byte."
                    .into(),
                "MS-ADTS 2.2.20.5.1, 2.2.20.6; MS-KPP 3.1.5.1.1.3",
                blob.describe().into_iter().map(|f| f.shifted(at)).collect(),
            ),
            Err(e) => (
                format!("{} bytes: {}", v.len(), hex_prefix(v, 16)),
                format!("The public key, in a form other than a BCRYPT_RSAPUBLIC_BLOB ({e})."),
                "MS-ADTS 2.2.20.6",
                Vec::new(),
            ),
        },
        Id::KeyUsage => {
            let u = KeyUsage::from_u8(byte(v));
            (
                format!("0x{:02X} {}", byte(v), u.describe()),
                "What the key is for: NGC 0x01 (Windows Hello for Business), FIDO 0x07, FEK 0x08 in the \
                 specification; AdminKey 0x00, STK 0x02 and BitLocker recovery 0x03 seen in practice."
                    .into(),
                "MS-ADTS 2.2.20.1, 2.2.20.6",
                Vec::new(),
            )
        }
        Id::KeySource => {
            let s = KeySource::from_u8(byte(v));
            (
                format!("0x{:02X} {}", byte(v), s.describe()),
                "Where the key was registered: AD 0x00 (KEY_SOURCE_AD) or Entra ID 0x01 (keys synchronised \
                 from Entra ID)."
                    .into(),
                "MS-ADTS 2.2.20.1, 2.2.20.6",
                Vec::new(),
            )
        }
        Id::DeviceId => (
            Guid::from_dotnet_bytes(array16(v)).to_string(),
            "The registered device the key belongs to, as a Windows GUID structure: the first three \
             groups are little-endian, so the bytes read differently from the text."
                .into(),
            "MS-ADTS 2.2.20.6; MS-DTYP 2.3.4",
            Vec::new(),
        ),
        Id::CustomKeyInformation => match CustomKeyInformation::parse(v) {
            Ok(c) => (
                c.summary(),
                "Extra facts about the key: a version byte, flags, and in the long form volume and \
                 strength details."
                    .into(),
                "MS-ADTS 2.2.20.4",
                c.describe(at),
            ),
            Err(e) => (
                hex_prefix(v, 16),
                e.to_string(),
                "MS-ADTS 2.2.20.4",
                Vec::new(),
            ),
        },
        Id::KeyApproximateLastLogonTimeStamp => (
            KeyTime::read(v, source).to_string(),
            format!("About when the key was last used to sign in; {}", time_encoding(source)),
            "MS-ADTS 2.2.20.6; MS-DTYP 2.3.3",
            Vec::new(),
        ),
        Id::KeyCreationTime => (
            KeyTime::read(v, source).to_string(),
            format!("About when the key was registered; {}", time_encoding(source)),
            "MS-ADTS 2.2.20.6; MS-DTYP 2.3.3",
            Vec::new(),
        ),
    }
}

/// How a time entry is encoded, for the field's note.
fn time_encoding(source: Option<KeySource>) -> &'static str {
    match source {
        Some(KeySource::Ad) | None => {
            "a FILETIME (100 ns ticks since 1601-01-01 UTC), little-endian, as values whose \
             KeySource is AD hold it."
        }
        Some(_) => {
            "a .NET DateTime.ToBinary value (100 ns ticks since 0001-01-01, Kind bits 01 = UTC), \
             little-endian, as values whose KeySource is Entra ID hold it (DSInternals reads it \
             with DateTime.FromBinary)."
        }
    }
}

/// The one byte of a KeyUsage or KeySource value (callers have checked the length).
fn byte(v: &[u8]) -> u8 {
    v.first().copied().unwrap_or_default()
}

/// The first 32 bytes as an array (callers have checked the length).
fn array32(v: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = v.len().min(32);
    out[..n].copy_from_slice(&v[..n]);
    out
}

/// The first 16 bytes as an array (callers have checked the length).
fn array16(v: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let n = v.len().min(16);
    out[..n].copy_from_slice(&v[..n]);
    out
}

/// A little-endian FILETIME (callers have checked the length is 8).
fn filetime(v: &[u8]) -> FileTime {
    let mut b = [0u8; 8];
    let n = v.len().min(8);
    b[..n].copy_from_slice(&v[..n]);
    FileTime(u64::from_le_bytes(b))
}

impl Codec for KeyCredentialLink {
    const NAME: &'static str = NAME;

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&KEY_CREDENTIAL_LINK_VERSION_2.to_le_bytes());
        for e in &self.entries {
            e.encode(out);
        }
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let (version, entries) = read_layout(r)?;
        if version != KEY_CREDENTIAL_LINK_VERSION_2 {
            return Err(Error::malformed(
                NAME,
                format!(
                    "Version is 0x{version:08X}; MS-ADTS 2.2.20.2 requires KEY_CREDENTIAL_LINK_VERSION_2 (0x00000200)"
                ),
            ));
        }
        Self::from_entries(entries)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::formats::test_support::{
        assert_tiles, blessing, mutate, other_key, user_key, write_fixture,
    };
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};
    use rsa::traits::PublicKeyParts;

    pub(super) const KAT_BIN: &[u8] =
        include_bytes!("../../tests/data/formats/key-credential-link.bin");
    pub(super) const KAT_DN_BINARY: &str =
        include_str!("../../tests/data/formats/key-credential-link.txt");
    pub(super) const OWNER_DN: &str = "CN=Alex Wilber,OU=Users,DC=contoso,DC=com";
    const DEVICE: &str = "6f9619ff-8b86-d011-b42d-00c04fc964ff";

    /// The fixture's inputs: the values MS-KPP 3.1.5.1.1.3 prescribes
    /// (KEY_USAGE_NGC, KEY_SOURCE_AD, CustomKeyInformation 1/0x02, both
    /// times the server's) for the fixture user key.
    pub(super) fn kat_params() -> KeyCredentialParams {
        KeyCredentialParams {
            key_material: BcryptRsaPublicBlob::from_public_key(&user_key().to_public_key())
                .unwrap(),
            usage: KeyUsage::Ngc,
            source: KeySource::Ad,
            device_id: Guid::parse(DEVICE).unwrap(),
            flags: CustomKeyFlags::MFA_NOT_USED,
            created: SimTime::DEFAULT_START,
            last_logon: SimTime::DEFAULT_START,
        }
    }

    pub(super) fn kat() -> Vec<u8> {
        KeyCredentialLink::build(&kat_params()).unwrap().to_bytes()
    }

    /// An independent writer for tests: Version ‖ KeyID ‖ KeyHash ‖ entries,
    /// with both hashes computed here, from raw (identifier, value) pairs.
    fn independent_blob(after_hash: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let entry = |id: u8, v: &[u8]| {
            let mut e = (v.len() as u16).to_le_bytes().to_vec();
            e.push(id);
            e.extend_from_slice(v);
            e
        };
        let tail: Vec<u8> = after_hash
            .iter()
            .flat_map(|(id, v)| entry(*id, v))
            .collect();
        let material = after_hash
            .iter()
            .find(|(id, _)| *id == 0x03)
            .map_or(&[][..], |(_, v)| v.as_slice());
        let mut out = vec![0x00, 0x02, 0x00, 0x00];
        out.extend(entry(0x01, &Sha256::digest(material)));
        out.extend(entry(0x02, &Sha256::digest(&tail)));
        out.extend(tail);
        out
    }

    /// The KAT's entries 0x03–0x09, assembled by hand from the layout rules.
    fn kat_entries_by_hand() -> Vec<(u8, Vec<u8>)> {
        let key = user_key().to_public_key();
        // BCRYPT_RSAPUBLIC_BLOB by hand: "RSA1", 2048, 3, 256, 0, 0, e, n.
        let mut rsa1 = b"RSA1".to_vec();
        for v in [2048u32, 3, 256, 0, 0] {
            rsa1.extend_from_slice(&v.to_le_bytes());
        }
        rsa1.extend_from_slice(&[0x01, 0x00, 0x01]);
        rsa1.extend_from_slice(&key.n().to_bytes_be());
        // 2026-11-22 09:00:00 UTC: (1795338000 + 11644473600) s × 10^7.
        let ft = 134_398_116_000_000_000u64.to_le_bytes().to_vec();
        vec![
            (0x03, rsa1),
            (0x04, vec![0x01]),
            (0x05, vec![0x00]),
            // 6f9619ff-8b86-d011-b42d-00c04fc964ff with the first three groups byte-reversed.
            (
                0x06,
                vec![
                    0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f,
                    0xc9, 0x64, 0xff,
                ],
            ),
            (0x07, vec![0x01, 0x02]),
            (0x08, ft.clone()),
            (0x09, ft),
        ]
    }

    fn err(bytes: &[u8]) -> Error {
        KeyCredentialLink::parse(bytes).unwrap_err()
    }

    #[test]
    #[ignore = "writes fixtures; run with WHFB_BLESS=1"]
    fn bless_key_credential_link_fixtures() {
        if blessing() {
            let bin = kat();
            write_fixture("key-credential-link.bin", &bin);
            let text = DnBinary::new(bin, OWNER_DN).to_string();
            write_fixture("key-credential-link.txt", format!("{text}\n").as_bytes());
        }
    }

    #[test]
    fn known_answer_blob_matches_the_fixture_and_the_layout_rules() {
        assert_eq!(kat(), KAT_BIN);
        assert_eq!(independent_blob(&kat_entries_by_hand()), KAT_BIN);
    }

    #[test]
    fn rsa_2048_blob_with_all_nine_entries_is_414_bytes() {
        let bytes = kat();
        assert_eq!(
            4 + (3 + 32)
                + (3 + 32)
                + (3 + 283)
                + (3 + 1)
                + (3 + 1)
                + (3 + 16)
                + (3 + 2)
                + (3 + 8)
                + (3 + 8),
            414
        );
        assert_eq!(bytes.len(), 414);
        let kcl = KeyCredentialLink::parse(&bytes).unwrap();
        let ids: Vec<u8> = kcl
            .entries()
            .iter()
            .map(KeyCredentialEntry::identifier)
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(&bytes[..4], &[0x00, 0x02, 0x00, 0x00]);
    }

    #[test]
    fn key_times_are_encoded_as_their_source_holds_them() {
        // 2022-03-15 12:00:03 UTC.
        let t = SimTime::from_unix_seconds(1_647_345_603);
        // AD: a FILETIME (the DSInternals-compatible Go port's test vector).
        let ad = KeyTime::new(t, KeySource::Ad);
        assert_eq!(
            ad.to_bytes(),
            [0x80, 0xa3, 0x22, 0x34, 0x64, 0x38, 0xd8, 0x01]
        );
        // Entra ID: DateTime.ToBinary of the UTC time, ticks since 0001-01-01
        // with the Kind bits 01.
        let cloud = KeyTime::new(t, KeySource::AzureAd);
        assert_eq!(
            cloud.to_bytes(),
            [0x80, 0xa3, 0x99, 0x56, 0x7b, 0x06, 0xda, 0x48]
        );
        for (time, source) in [(ad, KeySource::Ad), (cloud, KeySource::AzureAd)] {
            let back = KeyTime::read(&time.to_bytes(), Some(source));
            assert_eq!(back, time);
            assert_eq!(back.to_sim_time(), Some(t));
        }
        // Read the wrong way, neither is the time: a cloud value read as a
        // FILETIME lands millennia ahead, and a FILETIME read as .NET binary
        // has no UTC Kind (DateTime.FromBinary would put it in the fifth century).
        let misread = KeyTime::read(&cloud.to_bytes(), Some(KeySource::Ad)).to_sim_time();
        assert!(misread.is_some_and(|m| m.civil().0 > 9999), "{misread:?}");
        assert_eq!(
            KeyTime::read(&ad.to_bytes(), Some(KeySource::AzureAd)).to_sim_time(),
            None
        );
        assert!(cloud
            .to_string()
            .starts_with("2022-03-15 12:00:03 UTC (.NET DateTime binary"));
    }

    #[test]
    fn round_trip_keeps_every_value() {
        let p = kat_params();
        let built = KeyCredentialLink::build(&p).unwrap();
        let parsed = KeyCredentialLink::parse(&built.to_bytes()).unwrap();
        assert_eq!(parsed, built);
        assert_eq!(parsed.to_bytes(), built.to_bytes());
        assert_eq!(parsed.key_material_blob().unwrap(), p.key_material);
        assert_eq!(parsed.usage(), KeyUsage::Ngc);
        assert_eq!(parsed.source(), Some(KeySource::Ad));
        assert_eq!(parsed.device_id(), Some(p.device_id));
        assert_eq!(
            parsed.custom_key_information().unwrap().flags(),
            CustomKeyFlags::MFA_NOT_USED
        );
        assert_eq!(parsed.created().unwrap().to_sim_time(), Some(p.created));
        assert_eq!(
            parsed.last_logon().unwrap().to_sim_time(),
            Some(p.last_logon)
        );
        let other = KeyCredentialParams {
            key_material: BcryptRsaPublicBlob::from_public_key(&other_key().to_public_key())
                .unwrap(),
            usage: KeyUsage::Fido,
            source: KeySource::AzureAd,
            flags: CustomKeyFlags::ATTESTATION | CustomKeyFlags::MFA_NOT_USED,
            ..p
        };
        let other = KeyCredentialLink::parse(&KeyCredentialLink::build(&other).unwrap().to_bytes())
            .unwrap();
        assert_eq!(other.usage(), KeyUsage::Fido);
        assert_eq!(other.source(), Some(KeySource::AzureAd));
        assert_eq!(other.custom_key_information().unwrap().flags().0, 0x03);
    }

    #[test]
    fn key_id_is_the_bcrypt_blob_key_id() {
        let p = kat_params();
        let kcl = KeyCredentialLink::parse(&kat()).unwrap();
        assert_eq!(kcl.key_id(), p.key_material.sha256());
        assert_eq!(kcl.key_id_base64(), p.key_material.key_id());
        assert_eq!(kcl.key_material(), p.key_material.to_bytes().as_slice());
        // The KeyID value sits at offset 4 + 3.
        assert_eq!(
            &kat()[7..39],
            Sha256::digest(p.key_material.to_bytes()).as_slice()
        );
    }

    #[test]
    fn key_hash_covers_every_byte_after_it() {
        let bytes = kat();
        // Version 4 + KeyID entry 35 + KeyHash entry 35: the hashed tail starts at 74.
        let kcl = KeyCredentialLink::parse(&bytes).unwrap();
        assert_eq!(
            kcl.key_hash().unwrap().as_slice(),
            Sha256::digest(&bytes[74..]).as_slice()
        );
        assert_eq!(&bytes[42..74], Sha256::digest(&bytes[74..]).as_slice());
    }

    #[test]
    fn device_id_is_stored_in_dotnet_order() {
        let bytes = kat();
        // DeviceId entry: 74 + (3 + 283) + (3 + 1) + (3 + 1) = 368, value at 371.
        assert_eq!(bytes[370], 0x06);
        assert_eq!(
            &bytes[371..387],
            &Guid::parse(DEVICE).unwrap().to_dotnet_bytes()
        );
    }

    #[test]
    fn tampered_key_material_fails_the_key_id_check() {
        let mut bytes = kat();
        bytes[200] ^= 0x01; // inside the modulus
        let e = err(&bytes);
        assert!(matches!(e, Error::Invalid { .. }));
        let text = e.to_string();
        assert!(
            text.contains("KeyID check failed: the KeyID entry holds "),
            "{text}"
        );
        assert!(text.contains(&hex_prefix(&kat()[7..39], 8)), "{text}");
    }

    #[test]
    fn tampered_later_entry_fails_the_key_hash_check() {
        let mut bytes = kat();
        bytes[375] ^= 0x80; // inside DeviceId
        let e = err(&bytes);
        assert!(matches!(e, Error::Invalid { .. }));
        let text = e.to_string();
        assert!(text.contains("KeyHash check failed"), "{text}");
        assert!(
            text.contains("SHA-256 of the 340 bytes after it is "),
            "{text}"
        );
        // A changed timestamp, the last byte of the blob, is caught the same way.
        let mut last = kat();
        last[413] ^= 0x01;
        assert!(err(&last).to_string().contains("KeyHash check failed"));
    }

    #[test]
    fn truncated_and_trailing_bytes_are_refused() {
        let bytes = kat();
        assert!(err(&bytes[..413])
            .to_string()
            .contains("truncated: the Value of the KeyCreationTime (0x09) entry needs 8 bytes at offset 406, only 7 left"));
        assert!(err(&bytes[..3])
            .to_string()
            .contains("Version needs 4 bytes"));
        assert!(err(&bytes[..412]).to_string().contains("truncated"));
        let text = err(&bytes[..405]).to_string();
        assert!(
            text.contains("2 byte(s) left after the last entry at offset 403"),
            "{text}"
        );
        let mut long = bytes.clone();
        long.push(0);
        assert!(err(&long)
            .to_string()
            .contains("1 byte(s) left after the last entry at offset 414"));
        let mut again = bytes.clone();
        again.extend_from_slice(&[8, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(err(&again)
            .to_string()
            .contains("the KeyCreationTime entry appears twice, at offsets 403 and 414"));
        let mut unknown = bytes;
        unknown.extend_from_slice(&[0, 0, 0x0A]);
        assert!(err(&unknown)
            .to_string()
            .contains("identifier 0x0A, which MS-ADTS 2.2.20.6 does not define"));
    }

    #[test]
    fn structural_rules_each_have_their_own_message() {
        let entries = kat_entries_by_hand();
        let mut swapped = entries.clone();
        swapped.swap(1, 2); // KeySource before KeyUsage
        assert!(err(&independent_blob(&swapped)).to_string().contains(
            "entries out of order: KeyUsage (0x04) at offset 364 follows KeySource (0x05)"
        ));
        let mut dup = entries.clone();
        dup.insert(2, (0x04, vec![0x01]));
        assert!(err(&independent_blob(&dup))
            .to_string()
            .contains("the KeyUsage entry appears twice"));
        let mut wide = entries.clone();
        wide[1].1 = vec![0x01, 0x00];
        assert!(err(&independent_blob(&wide))
            .to_string()
            .contains("the KeyUsage entry at offset 360 holds 2 byte(s); MS-ADTS 2.2.20.6 says 1"));
        let mut no_usage = entries.clone();
        no_usage.remove(1);
        assert!(err(&independent_blob(&no_usage))
            .to_string()
            .contains("the KeyUsage entry is missing"));
        let no_material: Vec<_> = entries[1..].to_vec();
        assert!(err(&independent_blob(&no_material))
            .to_string()
            .contains("the KeyMaterial entry is missing"));
        let mut empty_material = entries.clone();
        empty_material[0].1.clear();
        assert!(err(&independent_blob(&empty_material))
            .to_string()
            .contains("KeyMaterial entry is empty"));
        let mut cki_v2 = entries.clone();
        cki_v2[4].1 = vec![0x02, 0x00];
        assert!(err(&independent_blob(&cki_v2))
            .to_string()
            .contains("CustomKeyInformation Version is 2"));
        let mut cki_short = entries.clone();
        cki_short[4].1 = vec![0x01];
        assert!(err(&independent_blob(&cki_short))
            .to_string()
            .contains("CustomKeyInformation is 1 byte(s)"));
        let mut v1 = kat();
        v1[1] = 0x01;
        assert!(err(&v1).to_string().contains("Version is 0x00000100"));
        // Every one of these is a parse failure, not a failed hash check.
        assert!(matches!(
            err(&independent_blob(&swapped)),
            Error::Malformed { .. }
        ));
    }

    #[test]
    fn optional_entries_and_long_custom_key_information_are_accepted() {
        let entries = kat_entries_by_hand();
        let minimal = independent_blob(&entries[..2]);
        let kcl = KeyCredentialLink::parse(&minimal).unwrap();
        assert_eq!(kcl.to_bytes(), minimal);
        assert_eq!(
            (kcl.source(), kcl.device_id(), kcl.created()),
            (None, None, None)
        );

        let mut long = entries.clone();
        let mut cki = vec![0x01, 0x00, 0x01, 0x01, 0x01, 0x02];
        cki.extend_from_slice(&[0; 10]);
        cki.extend_from_slice(&[0xAA, 0xBB]);
        long[4].1 = cki.clone();
        let bytes = independent_blob(&long);
        let kcl = KeyCredentialLink::parse(&bytes).unwrap();
        assert_eq!(kcl.to_bytes(), bytes);
        assert_eq!(kcl.custom_key_information().unwrap().extended(), &cki[2..]);
        let fields = KeyCredentialLink::fields(&bytes).unwrap();
        assert_tiles(&fields, 0, bytes.len());
        let cki_field = fields
            .iter()
            .find(|f| f.name.starts_with("CustomKeyInformation"))
            .unwrap();
        let names: Vec<&str> = cki_field.children[2]
            .children
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "Version",
                "Flags",
                "VolType",
                "SupportsNotification",
                "FekKeyVersion",
                "KeyStrength",
                "Reserved",
                "EncodedExtendedCKI"
            ]
        );
        // No KeyHash entry at all is allowed (it is only recommended).
        let mut no_hash = vec![0x00, 0x02, 0x00, 0x00];
        no_hash.extend_from_slice(&independent_blob(&entries[..2])[4..39]);
        no_hash.extend_from_slice(&independent_blob(&entries[..2])[74..]);
        assert_eq!(KeyCredentialLink::parse(&no_hash).unwrap().key_hash(), None);
    }

    #[test]
    fn fields_tile_the_bytes_and_explain_each_entry() {
        let bytes = kat();
        let fields = KeyCredentialLink::fields(&bytes).unwrap();
        assert_tiles(&fields, 0, bytes.len());
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Version",
                "KeyID (0x01)",
                "KeyHash (0x02)",
                "KeyMaterial (0x03)",
                "KeyUsage (0x04)",
                "KeySource (0x05)",
                "DeviceId (0x06)",
                "CustomKeyInformation (0x07)",
                "KeyApproximateLastLogonTimeStamp (0x08)",
                "KeyCreationTime (0x09)"
            ]
        );
        let entry = |name: &str| fields.iter().find(|f| f.name.starts_with(name)).unwrap();
        assert_eq!(
            fields[0].value,
            "0x00000200 (KEY_CREDENTIAL_LINK_VERSION_2)"
        );
        assert!(entry("KeyID").note.contains("Check: matches"));
        assert!(entry("KeyHash")
            .note
            .contains("Check: matches SHA-256 of the 340 bytes"));
        assert_eq!(
            entry("KeyUsage").value,
            "0x01 NGC: Windows Hello for Business user key"
        );
        assert_eq!(
            entry("KeySource").value,
            "0x00 AD: registered in on-premises Active Directory"
        );
        assert_eq!(entry("DeviceId").value, DEVICE);
        assert_eq!(
            entry("CustomKeyInformation").value,
            "Version 1, Flags 0x02 (MFA_NOT_USED)"
        );
        assert_eq!(
            entry("KeyCreationTime").value,
            "2026-11-22 09:00:00 UTC (FILETIME 134398116000000000)"
        );
        let material = entry("KeyMaterial");
        assert_eq!(
            material.value,
            "BCRYPT_RSAPUBLIC_BLOB: RSA-2048, e = 65537 (283 bytes)"
        );
        let value = &material.children[2];
        assert_eq!((value.offset, value.len), (77, 283));
        assert_eq!(value.children[0].children[0].name, "Magic");
        assert_eq!(value.children[0].children[0].offset, 77);
        for f in &fields[1..] {
            let kids: Vec<&str> = f.children.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(kids, ["Length", "Identifier", "Value"]);
            assert!(f.spec.starts_with("MS-ADTS 2.2.20"));
        }
    }

    #[test]
    fn fields_show_a_tampered_blob_with_the_failed_check() {
        let mut bytes = kat();
        bytes[200] ^= 0x01;
        let fields = KeyCredentialLink::fields(&bytes).unwrap();
        assert_tiles(&fields, 0, bytes.len());
        assert!(fields[1]
            .note
            .contains("Check FAILED: SHA-256 of KeyMaterial is "));
        assert!(fields[2].note.contains("Check FAILED"));
        assert!(KeyCredentialLink::fields(&bytes[..100]).is_err());
    }

    #[test]
    fn entry_codec_round_trips_and_refuses_short_and_long_input() {
        let e = KeyCredentialEntry::new(EntryIdentifier::KeyUsage, vec![0x01]).unwrap();
        let bytes = e.to_vec();
        assert_eq!(bytes, [0x01, 0x00, 0x04, 0x01]);
        assert_eq!(KeyCredentialEntry::from_slice(&bytes).unwrap(), e);
        assert!(KeyCredentialEntry::from_slice(&bytes[..3]).is_err());
        assert!(KeyCredentialEntry::from_slice(&[&bytes[..], &[0]].concat()).is_err());
        assert!(KeyCredentialEntry::new(EntryIdentifier::KeyMaterial, vec![0; 65_536]).is_err());
        let c = CustomKeyInformation::new(CustomKeyFlags::NONE);
        assert_eq!(CustomKeyInformation::parse(&c.to_bytes()).unwrap(), c);
        assert_eq!(CustomKeyFlags(0x04).to_string(), "0x04 (unknown bits)");
        assert_eq!(FileTime(0).to_string(), "FILETIME 0 (before 1970)");
    }

    /// 20,000 mutated blobs: parsing and the view answer, they never panic. Half the blob mutants get their hashes
    /// recomputed so that the checks after the hashes are reached too.
    #[test]
    fn parsing_never_panics() {
        let valid = kat();
        let entries = kat_entries_by_hand();
        let mut rng = ChaCha20Rng::seed_from_u64(0xADF5);
        let mut accepted = 0;
        for i in 0..20_000 {
            let blob = match i % 3 {
                0 => mutate(&mut rng, &valid),
                1 => {
                    // Mutate one value, then rehash: reaches the per-entry rules.
                    let mut e = entries.clone();
                    let k = (rng.next_u32() as usize) % e.len();
                    e[k].1 = mutate(&mut rng, &e[k].1);
                    if rng.next_u32() % 4 == 0 {
                        e[k].0 = rng.next_u32() as u8;
                    }
                    independent_blob(&e)
                }
                _ => {
                    let mut t = mutate(&mut rng, &valid[74..]);
                    let mut b = valid[..74].to_vec();
                    b.append(&mut t);
                    b
                }
            };
            if let Ok(kcl) = KeyCredentialLink::parse(&blob) {
                accepted += 1;
                assert_eq!(kcl.to_bytes(), blob, "parse must be exact");
                let _ = kcl.key_material_blob();
            }
            let _ = KeyCredentialLink::fields(&blob);
        }
        assert!(accepted > 0);
    }
}
