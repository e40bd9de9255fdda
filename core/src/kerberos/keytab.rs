//! A keytab in MIT's file format, version 0x0502 (the format `ktutil`,
//! `klist -k` and Wireshark's `kerberos.file` read): a two-byte version,
//! then entries, each a 32-bit length and the entry. All numbers are
//! big-endian in version 2.
//!
//! ```text
//! keytab_entry {
//!     int32_t size;
//!     uint16_t num_components;
//!     counted_octet_string realm;
//!     counted_octet_string components[num_components];
//!     uint32_t name_type;
//!     uint32_t timestamp;
//!     uint8_t vno8;
//!     keyblock key;        // uint16_t type; counted_octet_string contents
//!     uint32_t vno;
//! };
//! counted_octet_string { uint16_t length; uint8_t data[length]; };
//! ```
//! (MIT krb5, `doc/formats/keytab_file_format.rst`.)

use super::crypto::Key;
use crate::clock::SimTime;

/// One key of the keytab: whose, which version, when.
#[derive(Clone, Debug)]
pub struct Entry {
    pub realm: String,
    /// The principal's components: `["krbtgt", "CONTOSO.COM"]`.
    pub components: Vec<String>,
    pub name_type: u32,
    pub timestamp: SimTime,
    pub kvno: u32,
    pub key: Key,
}

fn counted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The keytab file holding `entries`, in order.
pub fn keytab(entries: &[Entry]) -> Vec<u8> {
    let mut out = vec![0x05, 0x02];
    for e in entries {
        let mut entry = Vec::new();
        entry.extend_from_slice(&(e.components.len() as u16).to_be_bytes());
        counted(&mut entry, e.realm.as_bytes());
        for c in &e.components {
            counted(&mut entry, c.as_bytes());
        }
        entry.extend_from_slice(&e.name_type.to_be_bytes());
        entry.extend_from_slice(&(e.timestamp.unix_seconds() as u32).to_be_bytes());
        entry.push(e.kvno as u8);
        entry.extend_from_slice(&(e.key.etype().number() as u16).to_be_bytes());
        counted(&mut entry, e.key.bytes());
        entry.extend_from_slice(&e.kvno.to_be_bytes());
        out.extend_from_slice(&(entry.len() as i32).to_be_bytes());
        out.extend_from_slice(&entry);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kerberos::crypto::Etype;

    #[test]
    fn an_entry_is_laid_out_as_mit_documents() {
        let key = Key::new(Etype::Aes256CtsHmacSha196, &[7; 32]).unwrap();
        let bytes = keytab(&[Entry {
            realm: "CONTOSO.COM".into(),
            components: vec!["krbtgt".into(), "CONTOSO.COM".into()],
            name_type: 2,
            timestamp: SimTime::from_unix_seconds(0x0102_0304),
            kvno: 2,
            key,
        }]);
        assert_eq!(&bytes[..2], &[5, 2]);
        let size = i32::from_be_bytes(bytes[2..6].try_into().unwrap()) as usize;
        assert_eq!(bytes.len(), 6 + size);
        let e = &bytes[6..];
        assert_eq!(&e[..2], &[0, 2]); // two components
        assert_eq!(&e[2..4], &[0, 11]);
        assert_eq!(&e[4..15], b"CONTOSO.COM");
        assert_eq!(&e[15..17], &[0, 6]);
        assert_eq!(&e[17..23], b"krbtgt");
        let tail = &e[e.len() - 4 - 32 - 2 - 2 - 1 - 4 - 4..];
        assert_eq!(&tail[..4], &[0, 0, 0, 2]); // name type
        assert_eq!(&tail[4..8], &[1, 2, 3, 4]); // timestamp
        assert_eq!(tail[8], 2); // vno8
        assert_eq!(&tail[9..11], &[0, 18]); // aes256-cts-hmac-sha1-96
        assert_eq!(&tail[11..13], &[0, 32]);
        assert_eq!(&tail[tail.len() - 4..], &[0, 0, 0, 2]);
    }
}
