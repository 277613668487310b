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
pub mod format;
mod read;
pub mod repeat;
pub mod stream;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{Format, Kind, Migration};

pub use compressed::{decompress, Compression};
pub use expand::{expand, expand_from, normalize_path, Expanded};

/// The tag stored in front of every checksum, so a later algorithm can be told apart.
pub const CHECKSUM_TAG: &str = "sha256-lf:";

#[derive(Debug, Default)]
pub struct Discovery {
    /// The versioned files, in run order.
    pub migrations: Vec<Migration>,
    /// The repeatable files (`R__<name>.sql`), in name order; they run after the versioned ones.
    pub repeatables: Vec<Migration>,
    pub warnings: Vec<String>,
}

/// What a directory entry's name means.
#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    Migration {
        /// What the history's `version` column stores (see [`Migration::version`]).
        version: i64,
        /// The version as written (`001`, `1.10`).
        version_text: String,
        stem: String,
        /// What the name says: `Pgboot`, `UpSql` or `Flyway` (markers inside may say more).
        format: Format,
    },
    /// `R__<name>.sql`: a repeatable migration (see `repeat`).
    Repeatable { stem: String },
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
    if let Some(entry) = classify_flyway(stem) {
        return entry;
    }
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || stem.as_bytes().get(digits) != Some(&b'_') || stem.len() == digits + 1 {
        return Entry::Skipped(
            "a migration is named <digits>_<name>.sql (e.g. 001_initial_schema.sql) or V<version>__<name>.sql".into(),
        );
    }
    let format = if base.ends_with(".up.sql") {
        Format::UpSql
    } else {
        Format::Pgboot
    };
    match stem[..digits].parse::<i64>() {
        Ok(version) => Entry::Migration {
            version,
            version_text: stem[..digits].to_owned(),
            stem: stem.to_owned(),
            format,
        },
        Err(_) => Entry::Skipped(format!(
            "version {} is larger than {}",
            &stem[..digits],
            i64::MAX
        )),
    }
}

/// Flyway's and refinery's names: `V<version>__<description>`, `R__<description>` (repeatable),
/// `U<version>__<description>` (Flyway's undo, refinery's unversioned). None: not such a name.
fn classify_flyway(stem: &str) -> Option<Entry> {
    let (prefix, rest) = stem.split_at_checked(1)?;
    let (version, description) = rest.split_once("__")?;
    match prefix {
        "R" if version.is_empty() => Some(repeat::classify(stem, description)),
        "U" if format::version_parts(version).is_some() => {
            Some(Entry::Refused(UNDO_REFUSAL.into()))
        }
        "V" => {
            let Some(parts) = format::version_parts(version) else {
                return Some(Entry::Skipped(format!("V{version}__ is not a Flyway version: write numbers separated by dots, e.g. V1.2__{description}.sql")));
            };
            if description.is_empty() {
                return Some(Entry::Skipped(
                    "a Flyway migration is named V<version>__<description>.sql".into(),
                ));
            }
            Some(match i64::try_from(parts[0]) {
                Ok(v) => Entry::Migration {
                    version: v,
                    version_text: version.replace('_', "."),
                    stem: stem.to_owned(),
                    format: Format::Flyway,
                },
                Err(_) => Entry::Skipped(format!("version {version} is larger than {}", i64::MAX)),
            })
        }
        _ => None,
    }
}

/// Why a `U<version>__` file stops the run.
pub const UNDO_REFUSAL: &str = "a U<version>__ file is a Flyway undo migration or a refinery unversioned migration; pgboot runs neither: move undo files out of the migrations directory, and rename a refinery unversioned migration V<version>__<name>.sql";

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
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(CHECKSUM_TAG.len() + 2 * digest.len());
    s.push_str(CHECKSUM_TAG);
    for b in digest {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
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
    discover_dir(dir, vars, repeat::Dir::Migrations)
}

/// Reads the text of every streamed file into memory (see `stream`), for the commands that
/// replay files statement by statement in a scratch database (`verify`, `baseline --detect`).
/// A streamed file has no psql input to expand and no other tool's markers, so its text is the
/// normalised file, and its checksum does not change.
pub fn hold_in_memory(migrations: &mut [Migration]) -> Result<()> {
    for m in migrations.iter_mut().filter(|m| m.streamed.is_some()) {
        let name = m.path.file_name().unwrap_or_default().to_string_lossy();
        let (_, compression) = Compression::split(&name);
        let bytes = compressed::read(&m.path, compression)?;
        m.sql = normalize(&decode(&m.path, bytes)?);
        m.streamed = None;
    }
    Ok(())
}

/// Reads a seeds directory like [`discover`]: the same names and formats, every file of kind
/// `Seed`; a repeatable file there is refused (seeds run once).
pub fn discover_seeds(dir: &Path, vars: &BTreeMap<String, String>) -> Result<Discovery> {
    discover_dir(dir, vars, repeat::Dir::Seeds)
}

fn discover_dir(
    dir: &Path,
    vars: &BTreeMap<String, String>,
    role: repeat::Dir,
) -> Result<Discovery> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Source(format!(
            "{} {}: {e}; {}",
            role.what(),
            dir.display(),
            role.setting()
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
        // The directory entry's type costs no system call (a 10,000-file directory is read on
        // every run); a symbolic link is followed.
        let (is_dir, regular) = match entry.file_type() {
            Ok(t) if !t.is_symlink() => (t.is_dir(), t.is_file()),
            _ => (path.is_dir(), false),
        };
        let (kind, compression) = classify_compressed(&file_name);
        match kind {
            Entry::Ignored => {}
            _ if is_dir => skipped.push((path, "a directory".into())),
            Entry::Skipped(why) => skipped.push((path, why)),
            Entry::Refused(why) => refused.push((path.display().to_string(), why)),
            Entry::Repeatable { .. } if role == repeat::Dir::Seeds => {
                refused.push((path.display().to_string(), repeat::SEED_REPEATABLE.into()))
            }
            Entry::Repeatable { stem } => found.push(Named {
                order: Vec::new(),
                version: 0,
                version_text: String::new(),
                file_name,
                stem,
                path,
                compression,
                regular,
                format: Format::Flyway,
                kind: Kind::Repeatable,
            }),
            Entry::Migration {
                version,
                version_text,
                stem,
                format,
            } => found.push(Named {
                order: format::version_parts(&version_text).unwrap_or_default(),
                version,
                version_text,
                file_name,
                stem,
                path,
                compression,
                regular,
                format,
                kind: role.kind(),
            }),
        }
    }
    if !refused.is_empty() {
        return Err(Error::Source(refusals(refused)));
    }
    // Repeatable files after the versioned ones, in name order.
    let last = |n: &Named| n.kind == Kind::Repeatable;
    found.sort_by(|a, b| (last(a), &a.order, &a.file_name).cmp(&(last(b), &b.order, &b.file_name)));

    // Every clash is found before any file is read.
    let mut seen: HashMap<&str, &Path> = HashMap::with_capacity(found.len());
    for Named {
        stem: name, path, ..
    } in &found
    {
        if let Some(prev) = seen.insert(name, path) {
            return Err(Error::Source(format!(
                "{} and {} are the same {} {name}; keep only one of them",
                prev.display(),
                path.display(),
                role.one()
            )));
        }
    }

    let mut migrations: Vec<Migration> = Vec::with_capacity(found.len());
    let mut read_files: Vec<std::path::PathBuf> = Vec::new();
    let mut last_order: Option<&Vec<u64>> = None;
    // Every file read at once (several threads); the first error in run order wins.
    let files = read::read_all(dir, &found, vars);
    for (f, one) in found.iter().zip(files) {
        if let Some(prev) = migrations
            .last()
            .filter(|_| f.kind != Kind::Repeatable && last_order == Some(&f.order))
        {
            warnings.push(format!(
                "{} and {} share version {}; they run in file-name order",
                prev.file_name(),
                f.file_name,
                f.order
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(".")
            ));
        }
        last_order = Some(&f.order);
        let one = one?;
        read_files.extend(one.read);
        migrations.push(one.migration);
    }
    for (path, why) in skipped {
        let p = normalize_path(&path);
        if !read_files.iter().any(|f| f.starts_with(&p)) {
            warnings.push(format!("skipping {}: {why}", path.display()));
        }
    }
    if migrations.is_empty() {
        return Err(Error::Source(format!(
            "no {} files in {}; add files named like {}, or {}",
            role.one(),
            dir.display(),
            role.example(),
            role.elsewhere()
        )));
    }
    let repeatables =
        migrations.split_off(migrations.partition_point(|m| m.kind != Kind::Repeatable));
    Ok(Discovery {
        migrations,
        repeatables,
        warnings,
    })
}

/// A migration file found by name, not read yet.
struct Named {
    /// The version's numeric parts: the run order, then the file name.
    order: Vec<u64>,
    version: i64,
    version_text: String,
    file_name: String,
    stem: String,
    path: std::path::PathBuf,
    compression: Compression,
    /// The directory entry is a regular file (a link is not: it is read the general way).
    regular: bool,
    format: Format,
    kind: Kind,
}

/// The refused files, grouped by why (`a.sh, b.sh: <why>`), one group per line.
fn refusals(mut refused: Vec<(String, String)>) -> String {
    refused.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    let mut groups: Vec<(Vec<String>, String)> = Vec::new();
    for (path, why) in refused {
        match groups.iter_mut().find(|g| g.1 == why) {
            Some(g) => g.0.push(path),
            None => groups.push((vec![path], why)),
        }
    }
    groups
        .into_iter()
        .map(|(paths, why)| format!("{}: {why}", paths.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
