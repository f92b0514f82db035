//! File formats. Nothing outside this module knows how a file is laid out.
//!
//! - [`mrc`]: MRC2014 / CCP4 density maps.
//! - [`pdb`], [`mmcif`]: atomic models.
//! - [`fasta`]: protein sequences.
//! - [`builder`]: the residue policy shared by the structure readers.
//!
//! Shared rules: `.gz` is accepted on input (and produced on output when the
//! path ends in `.gz`); every error names the file; writers never leave a
//! half-written file behind ([`write_atomically`]).

pub mod builder;
pub mod bytes;
pub mod fasta;
pub mod mmcif;
pub mod mrc;
pub mod pdb;
pub mod tsv;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// An I/O or format error, always tied to the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    // The I/O error is part of the message, not a `source`, so that error chains
    // printed with `{:#}` do not say it twice.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

impl FileError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        FileError::Io {
            path: path.to_path_buf(),
            error: source,
        }
    }
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        FileError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// True when the path names a gzip file by its extension.
pub fn is_gz(path: &Path) -> bool {
    path.extension()
        .map(|e| e.eq_ignore_ascii_case("gz"))
        .unwrap_or(false)
}

/// Reads a whole file, decompressing it when it starts with the gzip magic bytes
/// (whatever its name says: EMDB serves `.map.gz`, users rename files).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    let raw = std::fs::read(path).map_err(|e| FileError::io(path, e))?;
    if raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| FileError::format(path, format!("corrupt gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads a whole text file (gzip allowed); invalid UTF-8 is an error naming the file.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::format(
            path,
            format!(
                "not a text file (invalid UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so that a crash or error never leaves a half-written output. Compresses
/// with gzip when the path ends in `.gz`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| FileError::format(path, "not a file path"))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        if is_gz(path) {
            let mut gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
            gz.write_all(bytes)?;
            w = gz.finish()?;
        } else {
            w.write_all(bytes)?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(FileError::io(path, e));
    }
    Ok(())
}

/// Reads a structure, choosing PDB or mmCIF by content (an mmCIF file starts
/// with `data_` after comments and blank lines), not by extension.
pub fn read_structure(path: &Path) -> Result<crate::structure::Structure, FileError> {
    let text = read_text(path)?;
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    if first.is_some_and(|l| l.starts_with("data_")) {
        mmcif::parse(&text).map_err(|m| FileError::format(path, m))
    } else {
        pdb::parse(&text).map_err(|m| FileError::format(path, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_and_gz_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.txt", "a.txt.gz"] {
            let p = dir.path().join(name);
            write_atomically(&p, b"hello mapfold").unwrap();
            assert_eq!(read_bytes(&p).unwrap(), b"hello mapfold");
        }
        // No temporary files are left behind.
        let n = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(n, 2);
    }

    #[test]
    fn missing_file_error_names_it() {
        let e = read_bytes(Path::new("/no/such/file.mrc")).unwrap_err();
        assert!(e.to_string().contains("/no/such/file.mrc"));
    }
}
