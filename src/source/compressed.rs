//! Compressed migration files, as docker-entrypoint-initdb.d accepts them: `.sql.gz`, `.sql.xz`,
//! `.sql.zst` (and `.up.sql.gz` …).
//!
//! The file is read through its decoder into the buffer that becomes the migration's text: the
//! compressed bytes are never held whole, and nothing is preallocated from a size a header
//! claims (the output grows as it is decoded; zstd's window is capped at ruzstd's default of
//! 128 MiB, zstd's own default limit). Every decoder is pure Rust, so the musl build stays static:
//! flate2 on miniz_oxide, lzma-rs, ruzstd. Integrity checks are enforced: gzip's CRC32 and length,
//! xz's block checks and index, zstd's content checksum when the frame has one.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::error::{Error, Result};

/// How a migration file is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
}

impl Compression {
    /// Splits a compression suffix (`.gz`, `.xz`, `.zst`) off a file name. Pure.
    pub fn split(file_name: &str) -> (&str, Compression) {
        for (suffix, c) in [
            (".gz", Compression::Gzip),
            (".xz", Compression::Xz),
            (".zst", Compression::Zstd),
        ] {
            if let Some(base) = file_name.strip_suffix(suffix) {
                return (base, c);
            }
        }
        (file_name, Compression::None)
    }

    /// The format's name and the command that tests a file of it.
    fn tool(self) -> (&'static str, &'static str) {
        match self {
            Compression::None => ("plain", "cat"),
            Compression::Gzip => ("gzip", "gzip -t"),
            Compression::Xz => ("xz", "xz -t"),
            Compression::Zstd => ("zstd", "zstd -t"),
        }
    }
}

/// Reads the whole stream through the decoder. Pure apart from the reader; the error says what
/// is wrong with the data.
pub fn decompress(input: impl Read, compression: Compression) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    decompress_to(input, compression, &mut out)?;
    Ok(out)
}

/// Decodes the whole stream into `out` as it is read (see `stream` for a reader over it).
pub fn decompress_to(
    input: impl Read,
    compression: Compression,
    out: &mut impl Write,
) -> io::Result<()> {
    match compression {
        Compression::None => {
            let mut input = input;
            io::copy(&mut input, out)?;
        }
        Compression::Gzip => {
            // Multi-member like `gzip -d`: `cat a.gz b.gz` is one valid file.
            let mut d = flate2::bufread::MultiGzDecoder::new(BufReader::new(input));
            io::copy(&mut d, out)?;
        }
        Compression::Xz => {
            lzma_rs::xz_decompress(&mut BufReader::new(input), out).map_err(|e| match e {
                lzma_rs::error::Error::IoError(e) | lzma_rs::error::Error::HeaderTooShort(e) => e,
                // lzma-rs keeps only the text of some read errors.
                e if e.to_string().contains("failed to fill whole buffer") => {
                    io::ErrorKind::UnexpectedEof.into()
                }
                e => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
            })?;
        }
        Compression::Zstd => zstd(BufReader::new(input), out)?,
    }
    Ok(())
}

/// Every frame of a zstd stream (skippable frames skipped), checksums verified.
fn zstd(mut input: impl BufRead, out: &mut impl Write) -> io::Result<()> {
    let invalid = |e: FrameDecoderError| match e {
        FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::BadMagicNumber(_)) => {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "no zstd frame here (bad magic number)",
            )
        }
        e if ends_early(&e) => io::ErrorKind::UnexpectedEof.into(),
        e => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    };
    let mut decoder = FrameDecoder::new();
    let mut frames = 0usize;
    while frames == 0 || !input.fill_buf()?.is_empty() {
        match decoder.reset(&mut input) {
            Ok(()) => {}
            Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                length,
                ..
            })) => {
                let skipped = io::copy(&mut (&mut input).take(length.into()), &mut io::sink())?;
                if skipped != u64::from(length) {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                frames += 1;
                continue;
            }
            Err(e) => return Err(invalid(e)),
        }
        while !decoder.is_finished() {
            decoder
                .decode_blocks(&mut input, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(invalid)?;
            decoder.collect_to_writer(&mut *out)?;
        }
        decoder.collect_to_writer(&mut *out)?;
        if let (Some(stored), Some(computed)) = (
            decoder.get_checksum_from_data(),
            decoder.get_calculated_checksum(),
        ) {
            if stored != computed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "content checksum mismatch (stored {stored:08x}, computed {computed:08x})"
                    ),
                ));
            }
        }
        frames += 1;
    }
    Ok(())
}

/// Whether an error was caused by input that ended early.
fn ends_early(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::UnexpectedEof)
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// Reads a migration file's bytes, decompressed. A corrupt or truncated file is an error naming
/// the file, the format and what went wrong.
pub fn read(path: &Path, compression: Compression) -> Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).map_err(|e| Error::Source(format!("{}: {e}", path.display())))?;
    let empty = file.metadata().is_ok_and(|m| m.len() == 0);
    decompress(file, compression).map_err(|e| read_error(path, compression, empty, e))
}

/// The error for a file that could not be read or decoded (`empty`: the file has no bytes).
pub fn read_error(path: &Path, compression: Compression, empty: bool, e: io::Error) -> Error {
    let (format, test) = compression.tool();
    let what = match e.kind() {
        _ if empty => "the file is empty".to_owned(),
        io::ErrorKind::UnexpectedEof => "the data ends early".to_owned(),
        _ => e.to_string(),
    };
    let msg = match compression {
        Compression::None => format!("{}: {what}", path.display()),
        _ => format!(
            "{}: not valid {format} data: {what}; it is corrupt or truncated (`{test}` checks it): compress it again, or replace it with the plain .sql file",
            path.display()
        ),
    };
    Error::Source(msg)
}
