//! Finds migration files in a directory, reads them as normalised text and checksums them.
//!
//! Names: `<digits>_<name>.sql` or `<digits>_<name>.up.sql`; `.down.sql` is ignored silently,
//! hidden files too; anything else gets one warning. Order: (version, file name).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Migration;

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
}

/// Classifies a file name. Pure.
pub fn classify(file_name: &str) -> Entry {
    if file_name.starts_with('.') || file_name.ends_with(".down.sql") {
        return Entry::Ignored;
    }
    let Some(stem) = file_name
        .strip_suffix(".up.sql")
        .or_else(|| file_name.strip_suffix(".sql"))
    else {
        return Entry::Skipped("not a .sql file".into());
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
    let digest = Sha256::digest(normalized.as_bytes());
    let mut s = String::with_capacity(CHECKSUM_TAG.len() + 64);
    s.push_str(CHECKSUM_TAG);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
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
pub fn discover(dir: &Path) -> Result<Discovery> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Source(format!(
            "migrations directory {}: {e}; set --migrations / PGBOOT_MIGRATIONS to the directory holding the .sql files",
            dir.display()
        ))
    })?;
    let mut found = Vec::new();
    let mut warnings = Vec::new();
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
        match classify(&file_name) {
            Entry::Ignored => {}
            _ if is_dir => warnings.push(format!("skipping {}: a directory", path.display())),
            Entry::Skipped(why) => warnings.push(format!("skipping {}: {why}", path.display())),
            Entry::Migration { version, stem } => found.push((version, file_name, stem, path)),
        }
    }
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut migrations: Vec<Migration> = Vec::with_capacity(found.len());
    for (version, _, name, path) in found {
        if let Some(prev) = migrations.iter().find(|m| m.name == name) {
            return Err(Error::Source(format!(
                "{} and {} are the same migration {name}; keep only one of them",
                prev.path.display(),
                path.display()
            )));
        }
        if let Some(prev) = migrations.last().filter(|m| m.version == version) {
            warnings.push(format!(
                "{} and {} share version {version}; they run in file-name order",
                prev.file_name(),
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
        let bytes =
            std::fs::read(&path).map_err(|e| Error::Source(format!("{}: {e}", path.display())))?;
        let sql = normalize(&decode(&path, bytes)?);
        let checksum = checksum(&sql);
        migrations.push(Migration {
            version,
            name,
            path,
            sql,
            checksum,
        });
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
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            classify("001_initial_schema.sql"),
            Entry::Migration {
                version: 1,
                stem: "001_initial_schema".into()
            }
        );
        assert_eq!(
            classify("20251110_sso.up.sql"),
            Entry::Migration {
                version: 20251110,
                stem: "20251110_sso".into()
            }
        );
        assert_eq!(classify("3_x.down.sql"), Entry::Ignored);
        assert_eq!(classify(".gitkeep"), Entry::Ignored);
        assert!(matches!(classify("README.md"), Entry::Skipped(_)));
        assert!(matches!(classify("migrate.ts"), Entry::Skipped(_)));
        assert!(matches!(classify("init.sql"), Entry::Skipped(_)));
        assert!(matches!(classify("001.sql"), Entry::Skipped(_)));
        assert!(matches!(classify("001_.sql"), Entry::Skipped(_)));
        assert!(matches!(
            classify("99999999999999999999_x.sql"),
            Entry::Skipped(_)
        ));
    }

    #[test]
    fn crlf_and_bom_do_not_change_the_checksum() {
        let lf = "CREATE TABLE t (id int);\nSELECT 1;\n";
        let crlf = "\u{feff}CREATE TABLE t (id int);\r\nSELECT 1;\r\n";
        let cr = "CREATE TABLE t (id int);\rSELECT 1;\r";
        assert_eq!(checksum(&normalize(lf)), checksum(&normalize(crlf)));
        assert_eq!(checksum(&normalize(lf)), checksum(&normalize(cr)));
        assert_ne!(
            checksum(&normalize(lf)),
            checksum(&normalize("SELECT 2;\n"))
        );
        assert!(checksum("").starts_with("sha256-lf:e3b0c442"));
    }

    #[test]
    fn invalid_utf8_names_offset() {
        let e = decode(
            Path::new("m/001_x.sql"),
            b"SELECT 1;\nSELECT '\xff';".to_vec(),
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("m/001_x.sql") && m.contains("byte offset 18") && m.contains("line 2"),
            "{m}"
        );
    }

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (n, body) in files {
            if let Some(dir) = n.strip_suffix('/') {
                std::fs::create_dir(d.path().join(dir)).unwrap();
            } else {
                std::fs::write(d.path().join(n), body).unwrap();
            }
        }
        d
    }

    #[test]
    fn order_gaps_duplicates_and_skips() {
        let d = tree(&[
            ("010_files_table.sql", "select 10;"),
            ("002_perf.sql", "select 2;"),
            ("001_initial.sql", "select 1;"),
            ("8_ai.up.sql", "select 8;"),
            ("8_ai.down.sql", "drop"),
            ("002_also.sql", "select 22;"),
            ("README.md", "# hi"),
            ("runner.ts", ""),
            ("old/", ""),
        ]);
        let got = discover(d.path()).unwrap();
        let names: Vec<_> = got.migrations.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "001_initial",
                "002_also",
                "002_perf",
                "8_ai",
                "010_files_table"
            ]
        );
        assert_eq!(got.migrations[3].version, 8);
        let w = got.warnings.join("\n");
        assert!(
            w.contains("README.md") && w.contains("runner.ts") && w.contains("old"),
            "{w}"
        );
        assert!(w.contains("share version 2"), "{w}");
        assert!(!w.contains("down"), "{w}");
        assert_eq!(got.warnings.len(), 4, "{w}");
    }

    #[test]
    fn missing_empty_and_clashing() {
        let e = discover(Path::new("/nonexistent/migrations")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/migrations"));
        assert_eq!(e.exit_code(), 2);
        let d = tree(&[("README.md", "")]);
        let e = discover(d.path()).unwrap_err();
        assert!(e.to_string().contains("no migration files"), "{e}");
        let d = tree(&[("1_a.sql", ""), ("1_a.up.sql", "")]);
        assert!(discover(d.path())
            .unwrap_err()
            .to_string()
            .contains("same migration 1_a"));
    }
}
