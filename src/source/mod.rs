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

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::Migration;

pub use compressed::{decompress, Compression};

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
pub const SHELL_REFUSAL: &str = "pgboot does not run shell scripts (docker-entrypoint-initdb.d did), and will not skip one silently; move it out of the migrations directory and do its work another way: values from the environment by writing the .sql file in an earlier step, databases with --create-database, anything else by running the script as a separate step before or after pgboot";

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
            _ if is_dir => warnings.push(format!("skipping {}: a directory", path.display())),
            Entry::Skipped(why) => warnings.push(format!("skipping {}: {why}", path.display())),
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
    for (version, _, name, path, compression) in found {
        if let Some(prev) = migrations.last().filter(|m| m.version == version) {
            warnings.push(format!(
                "{} and {} share version {version}; they run in file-name order",
                prev.file_name(),
                path.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
        let bytes = compressed::read(&path, compression)?;
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
    fn compressed_names() {
        let m = |v: i64, stem: &str| Entry::Migration {
            version: v,
            stem: stem.into(),
        };
        for (file, compression) in [
            ("001_x.sql", Compression::None),
            ("001_x.sql.gz", Compression::Gzip),
            ("001_x.sql.xz", Compression::Xz),
            ("001_x.sql.zst", Compression::Zstd),
            ("001_x.up.sql.gz", Compression::Gzip),
            ("001_x.up.sql.zst", Compression::Zstd),
        ] {
            assert_eq!(
                classify_compressed(file),
                (m(1, "001_x"), compression),
                "{file}"
            );
        }
        for ignored in [
            "3_x.down.sql.gz",
            "3_x.down.sql.xz",
            "3_x.down.sql.zst",
            ".1_x.sql.gz",
        ] {
            assert_eq!(classify(ignored), Entry::Ignored, "{ignored}");
        }
        for skipped in [
            "dump.gz",
            "001_x.tar.gz",
            "001_x.sql.bz2",
            "001_x.gz.sql.txt",
            "001_.sql.gz",
        ] {
            assert!(matches!(classify(skipped), Entry::Skipped(_)), "{skipped}");
        }
        // Only the last suffix is a compression: a file compressed twice is not SQL text.
        assert!(matches!(classify("001_x.sql.gz.gz"), Entry::Skipped(_)));
        assert_eq!(classify("001_x.gz.sql"), m(1, "001_x.gz"));
    }

    #[test]
    fn shell_scripts_are_refused_with_what_to_do_instead() {
        let Entry::Refused(why) = classify("00_init-user-db.sh") else {
            panic!("a .sh file must be refused");
        };
        for hint in [
            "does not run shell scripts",
            "earlier step",
            "--create-database",
            "separate step",
        ] {
            assert!(why.contains(hint), "{hint}: {why}");
        }
        assert_eq!(classify(".hidden.sh"), Entry::Ignored);
        // initdb.d ignores these too: a warning is enough.
        assert!(matches!(classify("init.sh.gz"), Entry::Skipped(_)));

        let d = tree(&[
            ("001_a.sql", "select 1;"),
            (
                "00_init-user-db.sh",
                "#!/bin/sh\npsql -c 'create database x'\n",
            ),
            ("zz_last.sh", ""),
            ("README.md", ""),
        ]);
        let e = discover(d.path()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let m = e.to_string();
        assert!(
            m.contains("00_init-user-db.sh")
                && m.contains("zz_last.sh")
                && m.contains("--create-database"),
            "{m}"
        );
        assert!(!m.contains("README"), "{m}");
    }

    /// The plain text and its gzip, xz and zstd copies, made by the crates pgboot decodes with.
    fn all_formats(text: &str) -> [(&'static str, Vec<u8>); 4] {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(text.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut text.as_bytes(), &mut xz).unwrap();
        let zst = ruzstd::encoding::compress_to_vec(
            text.as_bytes(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        [
            ("sql", text.as_bytes().to_vec()),
            ("sql.gz", gz),
            ("sql.xz", xz),
            ("sql.zst", zst),
        ]
    }

    /// Discovers one file, alone in a directory.
    fn discover_one(file_name: &str, bytes: &[u8]) -> Result<Migration> {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(file_name), bytes).unwrap();
        let mut found = discover(d.path())?;
        assert_eq!(found.migrations.len(), 1);
        Ok(found.migrations.remove(0))
    }

    #[test]
    fn every_format_gives_the_same_name_and_checksum() {
        let text = "/** Users */\r\nCREATE TABLE IF NOT EXISTS users (id int, name text);\r\nINSERT INTO users VALUES (1, 'Zoë');\r\nSELECT 'Users complete!' AS status;\r\n".repeat(20);
        let want = checksum(&normalize(&text));
        for (ext, bytes) in all_formats(&text) {
            for name in [format!("007_users.{ext}"), format!("007_users.up.{ext}")] {
                let m = discover_one(&name, &bytes).unwrap();
                assert_eq!((m.version, m.name.as_str()), (7, "007_users"), "{name}");
                assert_eq!(m.checksum, want, "{name}");
                assert_eq!(m.sql, normalize(&text), "{name}");
                assert_eq!(m.file_name(), name);
            }
        }
    }

    #[test]
    fn files_written_by_the_command_line_tools_decode_alike() {
        let plain = fixture("001_fixture.sql");
        assert!(
            plain.contains(&b'\r'),
            "the fixture keeps its CRLF line ends"
        );
        let want = discover_one("001_fixture.sql", &plain).unwrap();
        for ext in ["gz", "xz", "zst"] {
            let name = format!("001_fixture.sql.{ext}");
            let got = discover_one(&name, &fixture(&name)).unwrap();
            assert_eq!(
                (got.name, got.checksum),
                (want.name.clone(), want.checksum.clone()),
                "{name}"
            );
        }
    }

    #[test]
    fn concatenated_members_and_frames_decode_whole() {
        let [_, (_, gz), _, (_, zst)] = all_formats("SELECT 1;\n");
        // `cat a.gz b.gz`, `cat a.zst b.zst` and a skippable frame (zstd metadata) in between.
        let mut skippable = 0x184D_2A50u32.to_le_bytes().to_vec();
        skippable.extend(3u32.to_le_bytes());
        skippable.extend(b"abc");
        for (c, bytes) in [
            (Compression::Gzip, [gz.clone(), gz].concat()),
            (Compression::Zstd, [zst.clone(), skippable, zst].concat()),
        ] {
            let out = decompress(&bytes[..], c).unwrap();
            assert_eq!(out, b"SELECT 1;\nSELECT 1;\n", "{c:?}");
        }
    }

    fn fixture(name: &str) -> Vec<u8> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compressed");
        std::fs::read(dir.join(name)).unwrap()
    }

    #[test]
    fn corrupt_and_truncated_files_are_errors_naming_the_file() {
        let text = "CREATE TABLE IF NOT EXISTS t (id int);\n".repeat(50);
        let mut sources: Vec<(String, Vec<u8>, bool)> = all_formats(&text)
            .into_iter()
            .skip(1)
            // lzma-rs writes xz without an integrity check (like `xz -C none`): only its
            // structure can be found broken, not a flipped bit in the data.
            .map(|(ext, bytes)| (ext.to_owned(), bytes, ext != "sql.xz"))
            .collect();
        for ext in ["sql.gz", "sql.xz", "sql.zst"] {
            sources.push((ext.into(), fixture(&format!("001_fixture.{ext}")), true));
        }
        for (ext, bytes, checked) in sources {
            let name = format!("001_t.{ext}");
            let mut cases = vec![
                ("truncated", bytes[..bytes.len() / 2].to_vec()),
                ("tail cut", bytes[..bytes.len() - 1].to_vec()),
                ("header only", bytes[..4].to_vec()),
                ("empty", Vec::new()),
                ("not compressed", text.as_bytes().to_vec()),
                ("trailing garbage", [&bytes[..], b"garbage"].concat()),
            ];
            if checked {
                // A flipped bit in the data, and one in the stored check at the end.
                for (what, at) in [("flipped", bytes.len() / 2), ("check", bytes.len() - 2)] {
                    let mut flipped = bytes.clone();
                    flipped[at] ^= 0x10;
                    cases.push((what, flipped));
                }
            }
            for (what, bytes) in cases {
                let e = discover_one(&name, &bytes).unwrap_err();
                let m = e.to_string();
                assert_eq!(e.exit_code(), 2, "{name} {what}: {m}");
                assert!(
                    m.contains(&name) && m.contains("corrupt or truncated"),
                    "{name} {what}: {m}"
                );
            }
        }
    }

    #[test]
    fn invalid_utf8_inside_a_compressed_file_reads_like_a_plain_one() {
        let text = "SELECT 1;\nSELECT '\u{fffd}';";
        let bad = text.replace('\u{fffd}', "\u{1}");
        let mut bytes = bad.into_bytes();
        *bytes.iter_mut().find(|b| **b == 1).unwrap() = 0xff;
        let plain = discover_one("001_x.sql", &bytes).unwrap_err().to_string();
        let plain_why = plain.split_once(": ").unwrap().1.to_owned();
        assert!(
            plain_why.contains("byte offset 18") && plain_why.contains("line 2"),
            "{plain}"
        );
        let gz = {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&bytes).unwrap();
            e.finish().unwrap()
        };
        let m = discover_one("001_x.sql.gz", &gz).unwrap_err().to_string();
        assert!(m.ends_with(&plain_why) && m.contains("001_x.sql.gz"), "{m}");
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
        // A plain file and its compressed copy: found before any file is read (the .gz here is
        // not even valid gzip), naming both.
        let d = tree(&[
            ("1_a.sql", ""),
            ("2_b.sql", ""),
            ("2_b.sql.gz", "not gzip"),
            ("1_0.sql.zst", "x"),
        ]);
        let e = discover(d.path()).unwrap_err();
        let m = e.to_string();
        assert_eq!(e.exit_code(), 2);
        assert!(
            m.contains("2_b.sql and ") && m.contains("2_b.sql.gz are the same migration 2_b"),
            "{m}"
        );
    }
}
