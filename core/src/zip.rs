//! A minimal ZIP writer (PKWARE APPNOTE 6.3.x): stored entries, no
//! compression, so that a run's bundle downloads as one file that every
//! unzip tool opens. The files are small; compression would only add code.

use crate::export::File;

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), APPNOTE 4.4.7.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// MS-DOS date and time of the run's start (APPNOTE 4.4.6).
fn dos_datetime(time: crate::clock::SimTime) -> (u16, u16) {
    let (y, mo, d, h, mi, s) = time.civil();
    let year = u16::try_from(y.clamp(1980, 2107) - 1980).unwrap_or(0);
    let date = (year << 9) | ((mo as u16) << 5) | d as u16;
    let clock = ((h as u16) << 11) | ((mi as u16) << 5) | (s as u16 / 2);
    (clock, date)
}

/// The files as one ZIP archive, every entry dated `time`.
pub fn archive(files: &[File], time: crate::clock::SimTime) -> Vec<u8> {
    let (clock, date) = dos_datetime(time);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for file in files {
        let name = file.path.as_bytes();
        let crc = crc32(&file.bytes);
        let size = u32::try_from(file.bytes.len()).unwrap_or(u32::MAX);
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        // Local file header (APPNOTE 4.3.7); flag bit 11: names are UTF-8.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0x0800u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&clock.to_le_bytes());
        out.extend_from_slice(&date.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&file.bytes);
        // Central directory header (APPNOTE 4.3.12).
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0x0800u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&clock.to_le_bytes());
        central.extend_from_slice(&date.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&name_len.to_le_bytes());
        central.extend_from_slice(&[0u8; 8]);
        central.extend_from_slice(&0u32.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let central_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let central_size = u32::try_from(central.len()).unwrap_or(u32::MAX);
    let count = u16::try_from(files.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&central);
    // End of central directory record (APPNOTE 4.3.16).
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_answer() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn archive_has_headers_and_a_directory() {
        let files = vec![File {
            path: "a.txt".into(),
            bytes: b"hello".to_vec(),
        }];
        let zip = archive(&files, crate::clock::SimTime::DEFAULT_START);
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[30..35], b"a.txt");
        assert_eq!(&zip[35..40], b"hello");
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
    }
}
