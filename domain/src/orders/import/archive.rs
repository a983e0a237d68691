//! The zip checks made before calamine reads a byte: entries, sizes, compression ratio, and the
//! declared sizes proved by unpacking into nothing.

use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::{
    ImportError, MAX_COMPRESSION_RATIO, MAX_ENTRY_BYTES, MAX_UNPACKED_BYTES, MAX_ZIP_ENTRIES,
    RATIO_CHECKED_FROM,
};

/// Opens the .xlsx as a zip and refuses it from its central directory before calamine reads a
/// byte of it: too many entries, an entry or the whole unpacking to more than the caps, or a
/// big entry packed suspiciously well (a zip bomb). The declared sizes may lie, so every entry
/// is then unpacked once into nothing, never past its declared size plus one byte: what calamine
/// reads afterwards is at most what was declared.
pub(super) fn check_archive(bytes: &[u8]) -> Result<(), ImportError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::NotXlsx)?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(ImportError::TooManyEntries {
            max_entries: MAX_ZIP_ENTRIES,
        });
    }
    let too_large = ImportError::UnpackedTooLarge {
        max_bytes: MAX_UNPACKED_BYTES,
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| ImportError::NotXlsx)?;
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            return Err(too_large);
        }
        total = total.saturating_add(size);
        if total > MAX_UNPACKED_BYTES {
            return Err(too_large);
        }
    }
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| ImportError::NotXlsx)?;
        let size = entry.size();
        if size > RATIO_CHECKED_FROM
            && size / entry.compressed_size().max(1) > MAX_COMPRESSION_RATIO
        {
            return Err(ImportError::SuspiciousCompression);
        }
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| ImportError::NotXlsx)?;
        let declared = entry.size();
        let shared_strings = entry
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        let mut limited = (&mut entry).take(declared.saturating_add(1));
        let (unpacked, unique_count) =
            unpack_counting(&mut limited, shared_strings).map_err(|_| ImportError::Damaged)?;
        if unpacked > declared {
            return Err(ImportError::Damaged);
        }
        // calamine reserves room for `uniqueCount` strings before reading one: a made-up count
        // would have it ask for terabytes. A real `<si>` takes at least 5 bytes.
        if unique_count > (declared / 4).max(MIN_UNIQUE_COUNT_ALLOWED) {
            return Err(ImportError::Damaged);
        }
    }
    Ok(())
}

/// Any shared strings table may declare this many strings, whatever its size.
pub(super) const MIN_UNIQUE_COUNT_ALLOWED: u64 = 2_000_000;

/// Reads an entry to its end into nothing: the bytes read and, when `find_count`, the largest
/// number written after any `uniqueCount` attribute in it (saturating), wherever the chunks
/// happen to be cut.
pub(super) fn unpack_counting(
    reader: &mut impl Read,
    find_count: bool,
) -> std::io::Result<(u64, u64)> {
    const NAME: &[u8; 11] = b"uniqueCount";
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    // The last bytes seen, the number being read after the name, or the `="` between.
    let mut last = [0u8; 11];
    let mut after_name = false;
    let mut value: Option<u64> = None;
    let mut largest: u64 = 0;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        if !find_count {
            continue;
        }
        for &b in &chunk[..n] {
            if let Some(v) = value {
                if b.is_ascii_digit() {
                    value = Some(v.saturating_mul(10).saturating_add(u64::from(b - b'0')));
                    continue;
                }
                largest = largest.max(v);
                value = None;
            } else if after_name {
                if b.is_ascii_digit() {
                    value = Some(u64::from(b - b'0'));
                    after_name = false;
                    continue;
                }
                if !(b.is_ascii_whitespace() || matches!(b, b'=' | b'"' | b'\'')) {
                    after_name = false;
                }
            }
            last.copy_within(1.., 0);
            last[10] = b;
            if &last == NAME {
                after_name = true;
            }
        }
    }
    if let Some(v) = value {
        largest = largest.max(v);
    }
    Ok((total, largest))
}

#[cfg(test)]
mod unique_count {
    use super::unpack_counting;

    /// The count is found however the reads cut the text, and with spaces around `=`.
    #[test]
    fn found_across_any_cut() {
        let text = format!(
            "<?xml?>{}<sst count=\"3\" uniqueCount  =  '98765432100'>uniqueCoun<si/>",
            " ".repeat(70_000)
        );
        for cut in [1usize, 7, 11, 64 * 1024 - 5, text.len()] {
            struct Cut<'a>(&'a [u8], usize);
            impl std::io::Read for Cut<'_> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.0.len().min(self.1).min(buf.len());
                    buf[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let (total, count) =
                unpack_counting(&mut Cut(text.as_bytes(), cut), true).expect("read");
            assert_eq!(total, text.len() as u64);
            assert_eq!(count, 98_765_432_100, "cut {cut}");
        }
    }
}
