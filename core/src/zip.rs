//! A minimal ZIP writer (PKWARE APPNOTE 6.3.x): stored entries, no
//! compression, so that a run's bundle downloads as one file that every
//! unzip tool opens. The files are small; compression would only add code.

use crate::error::{Error, Result};
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

/// The largest size or offset a 32-bit field holds in an archive without
/// ZIP64: 0xFFFFFFFF itself says "the value is in the ZIP64 extra field or
/// end record" (APPNOTE 4.4.1.4; the fields of 4.4.8, 4.4.9, 4.4.16, 4.4.23,
/// 4.4.24), and readers take it so.
const MAX_SIZE: u32 = 0xFFFF_FFFE;

/// The most entries an archive without ZIP64 counts: 0xFFFF likewise points
/// to the ZIP64 end record (APPNOTE 4.4.1.4, 4.4.21, 4.4.22).
const MAX_ENTRIES: u16 = 0xFFFE;

/// The longest file name: its length is a plain 16-bit field (APPNOTE 4.4.10).
const MAX_NAME: u16 = 0xFFFF;

/// `value` as a 32-bit size or offset field; `what` names it in the error.
fn size_field(value: usize, what: impl FnOnce() -> String) -> Result<u32> {
    match u32::try_from(value) {
        Ok(v) if v <= MAX_SIZE => Ok(v),
        _ => Err(Error::TooLarge {
            what: what(),
            limit: format!(
                "a ZIP archive without ZIP64 records sizes and offsets of at most {MAX_SIZE} bytes (APPNOTE 4.4.1.4)"
            ),
        }),
    }
}

/// The length of `path` as a file name length field.
fn name_field(path: &str) -> Result<u16> {
    u16::try_from(path.len()).map_err(|_| Error::TooLarge {
        what: format!(
            "the name of the file `{}…` ({} bytes)",
            path.chars().take(40).collect::<String>(),
            path.len()
        ),
        limit: format!("a ZIP file name has at most {MAX_NAME} bytes (APPNOTE 4.4.10)"),
    })
}

/// The number of files as an entry count field.
fn count_field(count: usize) -> Result<u16> {
    match u16::try_from(count) {
        Ok(c) if c <= MAX_ENTRIES => Ok(c),
        _ => Err(Error::TooLarge {
            what: format!("an archive of {count} files"),
            limit: format!(
                "a ZIP archive without ZIP64 holds at most {MAX_ENTRIES} entries (APPNOTE 4.4.21, 4.4.22)"
            ),
        }),
    }
}

/// The files as one ZIP archive, every entry dated `time`. A file, a name or
/// an archive too large for ZIP without ZIP64 is an error rather than a
/// field that readers would misread.
pub fn archive(files: &[File], time: crate::clock::SimTime) -> Result<Vec<u8>> {
    let (clock, date) = dos_datetime(time);
    let count = count_field(files.len())?;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for file in files {
        let name = file.path.as_bytes();
        let name_len = name_field(&file.path)?;
        let size = size_field(file.bytes.len(), || {
            format!("the file `{}` ({} bytes)", file.path, file.bytes.len())
        })?;
        let offset = size_field(out.len(), || {
            format!(
                "the archive before the file `{}` ({} bytes)",
                file.path,
                out.len()
            )
        })?;
        let crc = crc32(&file.bytes);
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
    let central_offset = size_field(out.len(), || {
        format!(
            "the archive before its central directory ({} bytes)",
            out.len()
        )
    })?;
    let central_size = size_field(central.len(), || {
        format!("the central directory ({} bytes)", central.len())
    })?;
    out.extend_from_slice(&central);
    // End of central directory record (APPNOTE 4.3.16).
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimTime;
    use std::io::Read;

    fn file(path: &str, bytes: &[u8]) -> File {
        File {
            path: path.into(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn crc32_known_answer() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn archive_has_headers_and_a_directory() {
        let zip = archive(&[file("a.txt", b"hello")], SimTime::DEFAULT_START).unwrap();
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[30..35], b"a.txt");
        assert_eq!(&zip[35..40], b"hello");
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
    }

    /// The `zip` crate, an independent reader, finds every file with its
    /// name, size, CRC-32 (checked again as it reads the content), content
    /// and date. The CRCs are Python's `zlib.crc32` of the same bytes.
    #[test]
    fn an_independent_reader_reads_back_every_file() {
        let all_bytes: Vec<u8> = (0..=255).collect();
        let files = [
            (
                file("README.md", b"A run of the flow explorer.\n"),
                0x9E6F_A77C,
            ),
            (file("artifacts/01-empty.bin", b""), 0x0000_0000),
            (file("artifacts/02-every-byte.bin", &all_bytes), 0x2905_8C73),
            // A UTF-8 name (flag bit 11, APPNOTE 4.4.4).
            (file("artifacts/03-größe.txt", b"hello"), 0x3610_A686),
        ];
        let plain: Vec<File> = files.iter().map(|(f, _)| f.clone()).collect();
        let bytes = archive(&plain, SimTime::DEFAULT_START).unwrap();

        let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.len(), files.len());
        for (i, (want, crc)) in files.iter().enumerate() {
            let mut entry = zip.by_index(i).unwrap();
            assert_eq!(entry.name(), want.path);
            assert_eq!(entry.compression(), ::zip::CompressionMethod::Stored);
            assert_eq!(entry.size(), want.bytes.len() as u64, "{}", want.path);
            assert_eq!(entry.compressed_size(), want.bytes.len() as u64);
            assert_eq!(entry.crc32(), *crc, "{}", want.path);
            assert_eq!(crc32(&want.bytes), *crc);
            let modified = entry.last_modified().unwrap();
            assert_eq!(
                (modified.year(), modified.month(), modified.day()),
                (2026, 11, 22)
            );
            assert_eq!(
                (modified.hour(), modified.minute(), modified.second()),
                (9, 0, 0)
            );
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            assert_eq!(content, want.bytes, "{}", want.path);
        }
    }

    #[test]
    fn a_name_of_65535_bytes_fits_and_one_of_70000_characters_does_not() {
        let longest = "n".repeat(usize::from(MAX_NAME));
        let bytes = archive(&[file(&longest, b"x")], SimTime::DEFAULT_START).unwrap();
        let mut zip = ::zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(zip.by_index(0).unwrap().name(), longest);

        let too_long = "n".repeat(70_000);
        let err = archive(&[file(&too_long, b"x")], SimTime::DEFAULT_START).unwrap_err();
        let Error::TooLarge { what, limit } = &err else {
            panic!("expected TooLarge, got {err:?}")
        };
        assert!(what.contains("(70000 bytes)"), "{what}");
        assert!(what.len() < 100, "the message quotes only the name's start");
        assert!(limit.contains("65535"), "{limit}");
    }

    /// Sizes and offsets stop one below 0xFFFFFFFF, which means "see ZIP64";
    /// checked on the field function itself rather than with 4 GiB of data.
    #[test]
    fn sizes_and_offsets_stop_below_the_zip64_marker() {
        assert_eq!(size_field(0, String::new), Ok(0));
        assert_eq!(size_field(0xFFFF_FFFE, String::new), Ok(0xFFFF_FFFE));
        let err = size_field(0xFFFF_FFFF, || {
            "the file `big.bin` (4294967295 bytes)".into()
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file `big.bin` (4294967295 bytes) is too large: a ZIP archive without ZIP64 \
             records sizes and offsets of at most 4294967294 bytes (APPNOTE 4.4.1.4)"
        );
        #[cfg(target_pointer_width = "64")]
        assert!(size_field(1 << 32, String::new).is_err());
    }

    #[test]
    fn the_entry_count_stops_below_the_zip64_marker() {
        assert_eq!(count_field(0xFFFE), Ok(0xFFFE));
        assert!(matches!(count_field(0xFFFF), Err(Error::TooLarge { .. })));
        assert!(matches!(count_field(70_000), Err(Error::TooLarge { .. })));
    }
}
