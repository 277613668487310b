//! Unit tests of `source`: names, formats, checksums, refusals.

use super::*;

#[test]
fn names() {
    assert_eq!(
        classify("001_initial_schema.sql"),
        Entry::Migration {
            version: 1,
            version_text: "001".into(),
            stem: "001_initial_schema".into(),
            format: Format::Pgboot,
        }
    );
    assert_eq!(
        classify("20251110_sso.up.sql"),
        Entry::Migration {
            version: 20251110,
            version_text: "20251110".into(),
            stem: "20251110_sso".into(),
            format: Format::UpSql,
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
        version_text: "001".into(),
        stem: stem.into(),
        format: Format::Pgboot,
    };
    for (file, compression) in [
        ("001_x.sql", Compression::None),
        ("001_x.sql.gz", Compression::Gzip),
        ("001_x.sql.xz", Compression::Xz),
        ("001_x.sql.zst", Compression::Zstd),
        ("001_x.up.sql.gz", Compression::Gzip),
        ("001_x.up.sql.zst", Compression::Zstd),
    ] {
        let (entry, c) = classify_compressed(file);
        let Entry::Migration { format, .. } = &entry else {
            panic!("{file}: {entry:?}")
        };
        let want = if file.contains(".up.") {
            Format::UpSql
        } else {
            Format::Pgboot
        };
        assert_eq!(*format, want, "{file}");
        let plain = match entry {
            Entry::Migration {
                version,
                version_text,
                stem,
                ..
            } => Entry::Migration {
                version,
                version_text,
                stem,
                format: Format::Pgboot,
            },
            other => other,
        };
        assert_eq!((plain, c), (m(1, "001_x"), compression), "{file}");
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
        "\\set",
        "PGBOOT_VAR_",
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
    let e = discover(d.path(), &Default::default()).unwrap_err();
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
    let mut found = discover(d.path(), &Default::default())?;
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
    let got = discover(d.path(), &Default::default()).unwrap();
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
    let e = discover(Path::new("/nonexistent/migrations"), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/migrations"));
    assert_eq!(e.exit_code(), 2);
    let d = tree(&[("README.md", "")]);
    let e = discover(d.path(), &Default::default()).unwrap_err();
    assert!(e.to_string().contains("no migration files"), "{e}");
    let d = tree(&[("1_a.sql", ""), ("1_a.up.sql", "")]);
    assert!(discover(d.path(), &Default::default())
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
    let e = discover(d.path(), &Default::default()).unwrap_err();
    let m = e.to_string();
    assert_eq!(e.exit_code(), 2);
    assert!(
        m.contains("2_b.sql and ") && m.contains("2_b.sql.gz are the same migration 2_b"),
        "{m}"
    );
}

#[test]
fn flyway_names() {
    let m = |v: i64, text: &str, stem: &str| Entry::Migration {
        version: v,
        version_text: text.into(),
        stem: stem.into(),
        format: Format::Flyway,
    };
    assert_eq!(classify("V1__init.sql"), m(1, "1", "V1__init"));
    assert_eq!(classify("V1.10__x.sql"), m(1, "1.10", "V1.10__x"));
    assert_eq!(classify("V2_1__x.sql.gz"), m(2, "2.1", "V2_1__x"));
    assert!(matches!(classify("R__views.sql"), Entry::Repeatable { stem } if stem == "R__views"));
    assert!(matches!(classify("U3__undo.sql"), Entry::Refused(m) if m.contains("undo")));
    assert!(matches!(classify("V1.x__bad.sql"), Entry::Skipped(_)));
    assert!(matches!(classify("V1__.sql"), Entry::Skipped(_)));
    // Not Flyway: a plain name that starts with V is still skipped as before.
    assert!(matches!(classify("Vacuum.sql"), Entry::Skipped(_)));
}

#[test]
fn flyway_versions_run_in_numeric_order() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["V1.10__c.sql", "V1.9__b.sql", "V1__a.sql", "V2__d.sql"] {
        std::fs::write(dir.path().join(f), "SELECT 1;\n").unwrap();
    }
    let got = discover(dir.path(), &Default::default()).unwrap();
    let names: Vec<&str> = got.migrations.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["V1__a", "V1.9__b", "V1.10__c", "V2__d"]);
    assert!(got.warnings.is_empty(), "{:?}", got.warnings);
}

#[test]
fn another_tools_file_keeps_only_its_up_section() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("20240101000000_cache.sql");
    let text = "-- migrate:up\nCREATE TABLE c (k text);\n-- migrate:down\nDROP TABLE c;\n";
    std::fs::write(&p, text).unwrap();
    let got = discover(dir.path(), &Default::default()).unwrap();
    let m = &got.migrations[0];
    assert_eq!(m.sql, "CREATE TABLE c (k text);\n");
    assert_eq!(m.format, Format::Dbmate);
    // Line 1 of what runs is line 2 of the file.
    assert_eq!(m.at(1, 1), format!("{}:2:1", p.display()));
    // Editing the down section is not drift.
    let before = m.checksum.clone();
    std::fs::write(&p, text.replace("DROP TABLE c;", "DROP TABLE IF EXISTS c;")).unwrap();
    let again = discover(dir.path(), &Default::default()).unwrap();
    assert_eq!(again.migrations[0].checksum, before);
    // A refusal names file:line.
    std::fs::write(&p, "DROP TABLE c;\n-- migrate:down\n").unwrap();
    let e = discover(dir.path(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("20240101000000_cache.sql:2:"), "{e}");
}
