//! The Privilege Attribute Certificate (MS-PAC) as the cloud Kerberos trust
//! tickets carry it: the user's identity only, in three buffers a protocol
//! analyser decodes — PAC_CLIENT_INFO (the name and the ticket's authtime),
//! UPN_DNS_INFO with its extension (UPN, DNS domain, sAMAccountName and
//! SID), PAC_REQUESTOR (the SID again, which a KDC requires in a ticket
//! from a read-only domain controller, MS-KILE 3.3.5.6.4.8) — and the two
//! signatures that bind them to the ticket's issuer.
//!
//! ```text
//! PACTYPE          { ULONG cBuffers; ULONG Version (0); PAC_INFO_BUFFER Buffers[]; }   MS-PAC 2.3
//! PAC_INFO_BUFFER  { ULONG ulType; ULONG cbBufferSize; ULONG64 Offset; }               MS-PAC 2.4
//! PAC_CLIENT_INFO  { FILETIME ClientId; USHORT NameLength; WCHAR Name[]; }             MS-PAC 2.7
//! UPN_DNS_INFO     { USHORT UpnLength, UpnOffset, DnsDomainNameLength,
//!                    DnsDomainNameOffset; ULONG Flags;
//!                    USHORT SamNameLength, SamNameOffset, SidLength, SidOffset; }      MS-PAC 2.10
//! PAC_SIGNATURE_DATA { ULONG SignatureType; UCHAR Signature[]; USHORT RODCIdentifier; } MS-PAC 2.8
//! PAC_REQUESTOR    { RPC_SID Sid; }                                                    MS-PAC 2.14
//! ```
//! Every number little-endian; each buffer starts on an 8-byte boundary;
//! strings are UTF-16LE without a terminator.
//!
//! A domain controller's PAC also holds KERB_VALIDATION_INFO (the groups,
//! NDR-encoded): not built here. Which buffers Entra ID's partial TGT
//! carries is not published; Microsoft describes it as holding the user's
//! SID and no groups, which is what this PAC holds (modelled).

use super::crypto::{Key, MAC_LEN};
use super::messages::usage;
use crate::clock::SimTime;

/// Buffer types (MS-PAC 2.4).
pub mod buffer {
    pub const SERVER_CHECKSUM: u32 = 6;
    pub const PRIVSVR_CHECKSUM: u32 = 7;
    pub const CLIENT_INFO: u32 = 10;
    pub const UPN_DNS_INFO: u32 = 12;
    pub const REQUESTOR: u32 = 18;
}

/// UPN_DNS_INFO's flag S: the structure carries the SAM name and the SID.
const FLAG_EXTENDED: u32 = 0x2;

/// Who the PAC says the client is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub sam_account_name: String,
    pub upn: String,
    pub dns_domain: String,
    /// objectSid, as `S-1-5-21-…`.
    pub sid: String,
    /// The ticket's authtime, which PAC_CLIENT_INFO repeats.
    pub authtime: SimTime,
}

/// The key that signs, and for a read-only domain controller (or the
/// Entra Kerberos server object) its number, which the KDC signature
/// repeats as RODCIdentifier (MS-PAC 2.8).
#[derive(Clone, Copy, Debug)]
pub struct Signer<'a> {
    pub key: &'a Key,
    pub rodc: Option<u16>,
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn from_utf16(bytes: &[u8]) -> Result<String, String> {
    if bytes.len() % 2 != 0 {
        return Err("a UTF-16 string of an odd number of bytes".into());
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).map_err(|_| "a string that is not UTF-16".into())
}

/// A SID in its binary form (MS-DTYP 2.4.2.2): revision, sub-authority
/// count, the 48-bit authority big-endian, the sub-authorities
/// little-endian.
pub fn sid_bytes(sid: &str) -> Result<Vec<u8>, String> {
    let parts: Vec<&str> = sid.split('-').collect();
    if parts.len() < 3 || parts[0] != "S" || parts[1] != "1" {
        return Err(format!("\"{sid}\" is not a SID"));
    }
    let number = |p: &str| {
        p.parse::<u64>()
            .map_err(|_| format!("\"{sid}\" is not a SID"))
    };
    let authority = number(parts[2])?;
    let subs = &parts[3..];
    if subs.len() > 15 || authority >= 1 << 48 {
        return Err(format!("\"{sid}\" is not a SID"));
    }
    let mut out = vec![1, subs.len() as u8];
    out.extend_from_slice(&authority.to_be_bytes()[2..]);
    for s in subs {
        let v = u32::try_from(number(s)?).map_err(|_| format!("\"{sid}\" is not a SID"))?;
        out.extend_from_slice(&v.to_le_bytes());
    }
    Ok(out)
}

/// The text form of a binary SID.
pub fn sid_text(bytes: &[u8]) -> Result<String, String> {
    let bad = || "the SID is truncated".to_string();
    let (&revision, rest) = bytes.split_first().ok_or_else(bad)?;
    let (&count, rest) = rest.split_first().ok_or_else(bad)?;
    if revision != 1 || rest.len() != 6 + 4 * count as usize {
        return Err(format!(
            "a SID of revision {revision} with {count} sub-authorities in {} bytes",
            bytes.len()
        ));
    }
    let mut authority = [0u8; 8];
    authority[2..].copy_from_slice(&rest[..6]);
    let mut out = format!("S-1-{}", u64::from_be_bytes(authority));
    for c in rest[6..].chunks_exact(4) {
        out.push_str(&format!(
            "-{}",
            u32::from_le_bytes([c[0], c[1], c[2], c[3]])
        ));
    }
    Ok(out)
}

/// A length or offset of a PAC structure, which must fit 16 bits.
fn short(n: usize) -> Result<u16, String> {
    u16::try_from(n).map_err(|_| format!("{n} bytes do not fit a PAC's 16-bit length"))
}

fn client_info(identity: &Identity) -> Result<Vec<u8>, String> {
    let name = utf16(&identity.sam_account_name);
    let mut out = identity.authtime.filetime().to_le_bytes().to_vec();
    out.extend_from_slice(&short(name.len())?.to_le_bytes());
    out.extend_from_slice(&name);
    Ok(out)
}

fn upn_dns_info(identity: &Identity) -> Result<Vec<u8>, String> {
    let upn = utf16(&identity.upn);
    let dns = utf16(&identity.dns_domain);
    let sam = utf16(&identity.sam_account_name);
    let sid = sid_bytes(&identity.sid)?;
    // The fields take 20 bytes, padded to 24; the strings follow, each
    // 8-aligned as Windows lays them out.
    let mut tail = Vec::new();
    let mut place = |bytes: &[u8]| -> Result<u16, String> {
        while (24 + tail.len()) % 8 != 0 {
            tail.push(0);
        }
        let offset = short(24 + tail.len())?;
        tail.extend_from_slice(bytes);
        Ok(offset)
    };
    let upn_offset = place(&upn)?;
    let dns_offset = place(&dns)?;
    let sam_offset = place(&sam)?;
    let sid_offset = place(&sid)?;
    let mut out = Vec::new();
    for v in [short(upn.len())?, upn_offset, short(dns.len())?, dns_offset] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&FLAG_EXTENDED.to_le_bytes());
    for v in [short(sam.len())?, sam_offset, short(sid.len())?, sid_offset] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    // 20 bytes of fields, padded to the 24 the offsets count from.
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&tail);
    Ok(out)
}

fn signature(key: &Key, rodc: Option<u16>, value: &[u8; MAC_LEN]) -> Vec<u8> {
    let mut out = (key.checksum_type() as u32).to_le_bytes().to_vec();
    out.extend_from_slice(value);
    if let Some(n) = rodc {
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

/// Lays the buffers out as a PACTYPE, each 8-aligned; returns the PAC and
/// where each buffer's bytes start.
fn layout(buffers: &[(u32, Vec<u8>)]) -> (Vec<u8>, Vec<usize>) {
    let header = 8 + 16 * buffers.len();
    let mut out = Vec::new();
    out.extend_from_slice(&(buffers.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut offset = header;
    let mut offsets = Vec::new();
    for (kind, bytes) in buffers {
        offset = offset.div_ceil(8) * 8;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offsets.push(offset);
        offset += bytes.len();
    }
    for ((_, bytes), at) in buffers.iter().zip(&offsets) {
        out.resize(*at, 0);
        out.extend_from_slice(bytes);
    }
    out.resize(out.len().div_ceil(8) * 8, 0);
    (out, offsets)
}

/// The PAC for `identity`, signed (MS-PAC 2.8.1): the server signature
/// over the whole PAC with both signatures' values zeroed, keyed with the
/// ticket's key (`server`); the KDC signature over the server signature's
/// value, keyed with the issuing KDC's krbtgt key (`kdc`). For a TGT both
/// keys are the same krbtgt key.
pub fn build(identity: &Identity, server: Signer<'_>, kdc: Signer<'_>) -> Result<Vec<u8>, String> {
    let zero = [0u8; MAC_LEN];
    let buffers = vec![
        (buffer::CLIENT_INFO, client_info(identity)?),
        (buffer::UPN_DNS_INFO, upn_dns_info(identity)?),
        (buffer::REQUESTOR, sid_bytes(&identity.sid)?),
        (buffer::SERVER_CHECKSUM, signature(server.key, None, &zero)),
        // The RODCIdentifier is written after the server signature is
        // made: everything after SignatureType counts as zero then, as
        // Samba (`[flag(NDR_REMAINING)] DATA_BLOB signature`), Heimdal and
        // Wireshark zero it.
        (
            buffer::PRIVSVR_CHECKSUM,
            signature(kdc.key, kdc.rodc.map(|_| 0), &zero),
        ),
    ];
    let (mut pac, offsets) = layout(&buffers);
    let server_value = server.key.checksum(usage::PAC_CHECKSUM, &pac);
    pac[offsets[3] + 4..offsets[3] + 4 + MAC_LEN].copy_from_slice(&server_value);
    let kdc_value = kdc.key.checksum(usage::PAC_CHECKSUM, &server_value);
    pac[offsets[4] + 4..offsets[4] + 4 + MAC_LEN].copy_from_slice(&kdc_value);
    if let Some(n) = kdc.rodc {
        let at = offsets[4] + 4 + MAC_LEN;
        pac[at..at + 2].copy_from_slice(&n.to_le_bytes());
    }
    Ok(pac)
}

/// A PAC as read: its buffers by type.
struct Parsed<'a> {
    buffers: Vec<(u32, usize, &'a [u8])>,
}

fn parse(pac: &[u8]) -> Result<Parsed<'_>, String> {
    let u32_at = |at: usize| -> Result<u32, String> {
        pac.get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("the PAC ends at byte {}, inside its header", pac.len()))
    };
    let count = u32_at(0)? as usize;
    if u32_at(4)? != 0 {
        return Err("the PAC's version is not 0".into());
    }
    if count == 0 || count > 64 || 8 + 16 * count > pac.len() {
        return Err(format!(
            "{count} buffers cannot fit a PAC of {} bytes",
            pac.len()
        ));
    }
    let mut buffers = Vec::new();
    for i in 0..count {
        let at = 8 + 16 * i;
        let kind = u32_at(at)?;
        let size = u32_at(at + 4)? as usize;
        let offset = u64::from(u32_at(at + 8)?) | (u64::from(u32_at(at + 12)?) << 32);
        let bytes = usize::try_from(offset)
            .ok()
            .and_then(|o| pac.get(o..o.checked_add(size)?).map(|b| (o, b)))
            .ok_or_else(|| format!("buffer {i} (type {kind}) lies outside the PAC"))?;
        buffers.push((kind, bytes.0, bytes.1));
    }
    Ok(Parsed { buffers })
}

impl<'a> Parsed<'a> {
    fn one(&self, kind: u32, what: &str) -> Result<(usize, &'a [u8]), String> {
        let mut found = self.buffers.iter().filter(|b| b.0 == kind);
        let first = found
            .next()
            .ok_or_else(|| format!("the PAC has no {what}"))?;
        if found.next().is_some() {
            return Err(format!("the PAC has two {what} buffers"));
        }
        Ok((first.1, first.2))
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, String> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| "UPN_DNS_INFO is truncated".to_string())
}

fn string_at(bytes: &[u8], length_at: usize) -> Result<Vec<u8>, String> {
    let len = u16_at(bytes, length_at)? as usize;
    let offset = u16_at(bytes, length_at + 2)? as usize;
    bytes
        .get(offset..offset + len)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| "a UPN_DNS_INFO string lies outside the buffer".to_string())
}

/// What a KDC reads from a PAC: the signatures checked first (the server
/// signature with `server`, the KDC signature with `kdc`, whose RODC
/// number must match), then the identity. The reason names what failed.
pub fn read(pac: &[u8], server: Signer<'_>, kdc: Signer<'_>) -> Result<Identity, String> {
    let parsed = parse(pac)?;
    let (server_at, server_sig) = parsed.one(buffer::SERVER_CHECKSUM, "server signature")?;
    let (kdc_at, kdc_sig) = parsed.one(buffer::PRIVSVR_CHECKSUM, "KDC signature")?;
    let value = |sig: &[u8], key: &Key, what: &str| -> Result<[u8; MAC_LEN], String> {
        let kind = sig
            .get(..4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("the {what} is truncated"))?;
        if kind != key.checksum_type() as u32 {
            return Err(format!(
                "the {what} is of type {kind}, not {} (HMAC-SHA1-96 with the key's AES)",
                key.checksum_type()
            ));
        }
        sig.get(4..4 + MAC_LEN)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| format!("the {what} is truncated"))
    };
    let server_value = value(server_sig, server.key, "server signature")?;
    let kdc_value = value(kdc_sig, kdc.key, "KDC signature")?;
    let rodc = kdc_sig
        .get(4 + MAC_LEN..4 + MAC_LEN + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]));
    if rodc != kdc.rodc {
        return Err(format!(
            "the KDC signature names RODC {rodc:?}, not {:?}",
            kdc.rodc
        ));
    }
    // Both signature buffers zeroed after their SignatureType, the
    // RODCIdentifier with them (MS-PAC 2.8.1 as Samba and Wireshark read it).
    let mut zeroed = pac.to_vec();
    zeroed[server_at + 4..server_at + server_sig.len()].fill(0);
    zeroed[kdc_at + 4..kdc_at + kdc_sig.len()].fill(0);
    if server.key.checksum(usage::PAC_CHECKSUM, &zeroed) != server_value {
        return Err(
            "the server signature does not verify: the PAC changed, or another key made it".into(),
        );
    }
    if kdc.key.checksum(usage::PAC_CHECKSUM, &server_value) != kdc_value {
        return Err("the KDC signature does not verify".into());
    }
    let (_, info) = parsed.one(buffer::CLIENT_INFO, "PAC_CLIENT_INFO")?;
    let filetime = info
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .ok_or_else(|| "PAC_CLIENT_INFO is truncated".to_string())?;
    let name_len = info
        .get(8..10)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
        .ok_or_else(|| "PAC_CLIENT_INFO is truncated".to_string())?;
    let client_name = info
        .get(10..10 + name_len)
        .ok_or_else(|| "PAC_CLIENT_INFO's name is truncated".to_string())
        .and_then(from_utf16)?;
    let (_, upn_dns) = parsed.one(buffer::UPN_DNS_INFO, "UPN_DNS_INFO")?;
    let flags = upn_dns
        .get(8..12)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| "UPN_DNS_INFO is truncated".to_string())?;
    if flags & FLAG_EXTENDED == 0 {
        return Err("UPN_DNS_INFO carries no SID (flag S is not set)".into());
    }
    let identity = Identity {
        upn: from_utf16(&string_at(upn_dns, 0)?)?,
        dns_domain: from_utf16(&string_at(upn_dns, 4)?)?,
        sam_account_name: from_utf16(&string_at(upn_dns, 12)?)?,
        sid: sid_text(&string_at(upn_dns, 16)?)?,
        authtime: SimTime::from_filetime(filetime)
            .ok_or_else(|| "PAC_CLIENT_INFO's time is before 1970".to_string())?,
    };
    if !client_name.eq_ignore_ascii_case(&identity.sam_account_name) {
        return Err(format!(
            "PAC_CLIENT_INFO names {client_name}, UPN_DNS_INFO {}",
            identity.sam_account_name
        ));
    }
    let (_, requestor) = parsed.one(buffer::REQUESTOR, "PAC_REQUESTOR")?;
    let requestor = sid_text(requestor)?;
    if requestor != identity.sid {
        return Err(format!(
            "PAC_REQUESTOR names {requestor}, UPN_DNS_INFO {}",
            identity.sid
        ));
    }
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kerberos::crypto::Etype;

    fn identity() -> Identity {
        Identity {
            sam_account_name: "alice".into(),
            upn: "alice@contoso.com".into(),
            dns_domain: "CONTOSO.COM".into(),
            sid: "S-1-5-21-1004336348-1177238915-682003330-1105".into(),
            authtime: SimTime::from_unix_seconds(1_700_000_000),
        }
    }

    #[test]
    fn a_sid_reads_back_and_matches_its_known_bytes() {
        // S-1-5-32-544 (BUILTIN\Administrators), MS-DTYP 2.4.2.2's example form.
        assert_eq!(
            sid_bytes("S-1-5-32-544").unwrap(),
            [1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 2, 0, 0]
        );
        let sid = identity().sid;
        assert_eq!(sid_text(&sid_bytes(&sid).unwrap()).unwrap(), sid);
        assert!(sid_bytes("S-1-x").is_err());
        assert!(sid_text(&[1, 5, 0]).is_err());
    }

    #[test]
    fn the_pac_reads_back_under_its_keys_and_nothing_else() {
        let rodc_key = Key::new(Etype::Aes256CtsHmacSha196, &[7; 32]).unwrap();
        let other = Key::new(Etype::Aes256CtsHmacSha196, &[8; 32]).unwrap();
        let server = Signer {
            key: &rodc_key,
            rodc: None,
        };
        let kdc = Signer {
            key: &rodc_key,
            rodc: Some(0x1234),
        };
        let pac = build(&identity(), server, kdc).unwrap();
        assert_eq!(pac.len() % 8, 0);
        assert_eq!(read(&pac, server, kdc).unwrap(), identity());
        let wrong = Signer {
            key: &other,
            rodc: None,
        };
        assert!(read(&pac, wrong, kdc)
            .unwrap_err()
            .contains("server signature"));
        let not_rodc = Signer {
            key: &rodc_key,
            rodc: None,
        };
        assert!(read(&pac, server, not_rodc).unwrap_err().contains("RODC"));
        // One changed byte of the name breaks the server signature.
        let mut edited = pac.clone();
        let at = edited.len() - 20;
        edited[at] ^= 1;
        assert!(read(&edited, server, kdc).is_err());
        // Truncations and absurd counts are refused, never a panic.
        for n in 0..pac.len() {
            let _ = read(&pac[..n], server, kdc);
        }
        let mut huge = pac.clone();
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read(&huge, server, kdc).is_err());
    }
}
