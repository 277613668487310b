//! Finds migration files in a directory, reads them as normalised text and checksums them.
//!
//! Names: `<digits>_<name>.sql` or `<digits>_<name>.up.sql`, either optionally compressed
//! (`.gz`, `.xz`, `.zst`: see `compressed`); `.down.sql` is ignored silently, hidden files too;
//! `.sh` scripts are refused (initdb.d ran them, pgboot does not, and must not skip them
//! silently); anything else gets one warning. Order: (version, file name).
//!
//! A migration's name, its identity in the history, is the stem without the compression and
//! `.sql`/`.up.sql` suffixes, and its checksum is over the decompressed, normalised text: so
//! compressing or decompressing an applied file is not drift.

mod compressed;
mod expand;
pub mod stream;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Migration;

pub use compressed::{decompress, Compression};
pub use expand::{expand, normalize_path, Expanded};

/// The tag stored in front of every checksum, so a later algorithm can be told apart.
pub const CHECKSUM_TAG: &str = "sha256-lf:";

#[derive(Debug, Default)]
pub struct Discovery {
    pub migrations: Vec<Migration>,
    pub warnings: Vec<String>,
}

/// What a directory entry's name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    Migration {
        version: i64,
        stem: String,
    },
    /// `.down.sql`, hidden files: skipped without a word.
    Ignored,
    /// Anything else: skipped with a warning that says why.
    Skipped(String),
    /// A file initdb.d would have run and pgboot will not: an error, naming it, that says what
    /// to do instead.
    Refused(String),
}

/// Why a `.sh` file stops the run, after its path.
pub const SHELL_REFUSAL: &str = "pgboot does not run shell scripts (docker-entrypoint-initdb.d did), and will not skip one silently; move it out of the migrations directory and do its work another way: values from the environment with \\set and PGBOOT_VAR_* variables (or --var) in a .sql migration, databases with --create-database, anything else by running the script as a separate step before or after pgboot";

/// Classifies a file name. Pure.
pub fn classify(file_name: &str) -> Entry {
    classify_compressed(file_name).0
}

/// Classifies a file name and tells how the file is compressed. Pure.
pub fn classify_compressed(file_name: &str) -> (Entry, Compression) {
    let (base, compression) = Compression::split(file_name);
    (classify_base(file_name, base), compression)
}

fn classify_base(file_name: &str, base: &str) -> Entry {
    if file_name.starts_with('.') || base.ends_with(".down.sql") {
        return Entry::Ignored;
    }
    if file_name.ends_with(".sh") {
        return Entry::Refused(SHELL_REFUSAL.into());
    }
    let Some(stem) = base
        .strip_suffix(".up.sql")
        .or_else(|| base.strip_suffix(".sql"))
    else {
        return Entry::Skipped("not a .sql file (nor .sql.gz, .sql.xz, .sql.zst)".into());
    };
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || stem.as_bytes().get(digits) != Some(&b'_') || stem.len() == digits + 1 {
        return Entry::Skipped(
            "a migration is named <digits>_<name>.sql, e.g. 001_initial_schema.sql".into(),
        );
    }
    match stem[..digits].parse::<i64>() {
        Ok(version) => Entry::Migration {
            version,
            stem: stem.to_owned(),
        },
        Err(_) => Entry::Skipped(format!(
            "version {} is larger than {}",
            &stem[..digits],
            i64::MAX
        )),
    }
}

/// Strips a UTF-8 BOM and turns CRLF and lone CR into LF. Pure.
pub fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.contains('\r') {
        return text.to_owned();
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// `sha256-lf:<hex>` of the normalised text. Pure.
pub fn checksum(normalized: &str) -> String {
    tagged(&Sha256::digest(normalized.as_bytes()))
}

/// `sha256-lf:<hex>` of a digest.
fn tagged(digest: &[u8]) -> String {
    let mut s = String::with_capacity(CHECKSUM_TAG.len() + 64);
    s.push_str(CHECKSUM_TAG);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Decodes a file's bytes, naming the byte offset (and line) of the first invalid sequence.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
        Error::Source(format!(
            "{}: not valid UTF-8 at byte offset {offset} (line {line}); save the file as UTF-8",
            path.display()
        ))
    })
}

/// Reads the directory. A missing directory, or one without a migration, is an error naming the path.
/// Each file's psql input (`\i`, `\ir`, `\set`, `:variables`, `\copy … from 'file'`) is
/// expanded (see `expand`) with `vars` as the variables' starting values; the checksum is over
/// the expanded text, so editing an included file or a `\copy` data file, or changing a
/// variable's value, is drift.
pub fn discover(dir: &Path, vars: &BTreeMap<String, String>) -> Result<Discovery> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Source(format!(
            "migrations directory {}: {e}; set --migrations / PGBOOT_MIGRATIONS to the directory holding the .sql files",
            dir.display()
        ))
    })?;
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    // Skipped entries are reported after expansion: files and directories that migrations
    // include are not worth a warning.
    let mut skipped: Vec<(std::path::PathBuf, String)> = Vec::new();
    let mut refused = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::Source(format!("reading {}: {e}", dir.display())))?;
        let path = entry.path();
        let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
            warnings.push(format!(
                "skipping {}: the file name is not valid UTF-8",
                path.display()
            ));
            continue;
        };
        let is_dir = path.is_dir();
        let (kind, compression) = classify_compressed(&file_name);
        match kind {
            Entry::Ignored => {}
            _ if is_dir => skipped.push((path, "a directory".into())),
            Entry::Skipped(why) => skipped.push((path, why)),
            Entry::Refused(why) => refused.push((path.display().to_string(), why)),
            Entry::Migration { version, stem } => {
                found.push((version, file_name, stem, path, compression))
            }
        }
    }
    if !refused.is_empty() {
        refused.sort();
        let why = refused[0].1.clone();
        let paths: Vec<String> = refused.into_iter().map(|(p, _)| p).collect();
        return Err(Error::Source(format!("{}: {why}", paths.join(", "))));
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    // Every clash is found before any file is read.
    let mut seen: HashMap<&str, &Path> = HashMap::with_capacity(found.len());
    for (_, _, name, path, _) in &found {
        if let Some(prev) = seen.insert(name, path) {
            return Err(Error::Source(format!(
                "{} and {} are the same migration {name}; keep only one of them",
                prev.display(),
                path.display()
            )));
        }
    }

    let mut migrations: Vec<Migration> = Vec::with_capacity(found.len());
    let mut read_files: Vec<std::path::PathBuf> = Vec::new();
    let threshold = stream::threshold();
    for (version, _, name, path, compression) in found {
        if let Some(prev) = migrations.last().filter(|m| m.version == version) {
            warnings.push(format!(
                "{} and {} share version {version}; they run in file-name order",
                prev.file_name(),
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
        // A large file is only summarised here, and read again as it is applied (`stream`).
        let bytes = match stream::load(&path, compression, threshold)? {
            stream::Loaded::Bytes(bytes) => bytes,
            stream::Loaded::Streamed { checksum, summary } => {
                migrations.push(Migration {
                    version,
                    name,
                    path,
                    sql: String::new(),
                    checksum,
                    origins: Vec::new(),
                    variables: Vec::new(),
                    streamed: Some(summary),
                });
                continue;
            }
        };
        let text = normalize(&decode(&path, bytes)?);
        let x =
            expand(dir, &path, &text, vars, &|p: &Path| std::fs::read(p)).map_err(Error::Source)?;
        read_files.extend(x.read);
        let checksum = checksum(&x.sql);
        migrations.push(Migration {
            version,
            name,
            path,
            sql: x.sql,
            checksum,
            origins: x.origins,
            variables: x.variables,
            streamed: None,
        });
    }
    for (path, why) in skipped {
        let p = normalize_path(&path);
        if !read_files.iter().any(|f| f.starts_with(&p)) {
            warnings.push(format!("skipping {}: {why}", path.display()));
        }
    }
    if migrations.is_empty() {
        return Err(Error::Source(format!(
            "no migration files in {}; add files named like 001_initial_schema.sql, or point --migrations / PGBOOT_MIGRATIONS elsewhere",
            dir.display()
        )));
    }
    Ok(Discovery {
        migrations,
        warnings,
    })
}

#[cfg(test)]
mod tests;
