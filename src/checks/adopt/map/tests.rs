use std::path::PathBuf;

use super::*;
use crate::checks::adopt::checksum::{flyway_crc32, sha384_hex};

fn file(name: &str) -> Migration {
    let (version_text, version) = match name.strip_prefix('V') {
        Some(rest) => {
            let v = rest.split_once("__").unwrap().0.replace('_', ".");
            let first = v.split('.').next().unwrap().parse().unwrap();
            (v, first)
        }
        None => {
            let v = name.split_once('_').unwrap().0.to_owned();
            let n = v.parse().unwrap();
            (v, n)
        }
    };
    Migration {
        version,
        version_text,
        name: name.into(),
        path: PathBuf::from(format!("migrations/{name}.sql")),
        sql: format!("-- {name}\n"),
        checksum: "sha256-lf:x".into(),
        ..Default::default()
    }
}

fn row(v: &str) -> ToolRow {
    ToolRow {
        version: v.into(),
        description: None,
        checksum: None,
    }
}

fn text(m: &Migration) -> Result<Vec<u8>, String> {
    Ok(m.sql.clone().into_bytes())
}

fn states(m: &Mapping) -> Vec<(&str, State)> {
    m.files.iter().map(|f| (f.name.as_str(), f.state)).collect()
}

#[test]
fn dbmate_rows_map_by_number_gaps_and_missing_are_reported() {
    let files = [file("001_a"), file("002_b"), file("004_d"), file("005_e")];
    let h = ToolHistory {
        applied: vec![row("1"), row("004"), row("003")],
        ..Default::default()
    };
    let m = map(Tool::Dbmate, &h, &files, &[], &text).unwrap();
    assert_eq!(
        states(&m),
        [
            ("001_a", State::Adopted),
            ("002_b", State::Gap),
            ("004_d", State::Adopted),
            ("005_e", State::Pending)
        ]
    );
    assert_eq!(
        m.missing,
        [MissingFile {
            version: "003".into(),
            description: None
        }]
    );
    assert_eq!(m.to_record(), ["001_a", "004_d"]);
}

#[test]
fn golang_migrate_version_covers_every_file_up_to_it() {
    let files = [file("1_a"), file("2_b"), file("3_c")];
    let h = ToolHistory {
        through: Some(Through {
            version: "2".into(),
            baseline: false,
        }),
        ..Default::default()
    };
    let m = map(Tool::GolangMigrate, &h, &files, &[], &text).unwrap();
    assert_eq!(
        states(&m),
        [
            ("1_a", State::Adopted),
            ("2_b", State::Adopted),
            ("3_c", State::Pending)
        ]
    );
    assert!(m.missing.is_empty());
    // Its version must be a file.
    let h = ToolHistory {
        through: Some(Through {
            version: "4".into(),
            baseline: false,
        }),
        ..Default::default()
    };
    let m = map(Tool::GolangMigrate, &h, &files, &[], &text).unwrap();
    assert_eq!(m.missing.len(), 1);
    assert_eq!(m.count(State::Adopted), 3);
}

#[test]
fn flyway_versions_are_numbers_and_the_baseline_covers_older_files() {
    let files = [
        file("V1__a"),
        file("V1.1__b"),
        file("V1.9__c"),
        file("V1.10__d"),
        file("V2__e"),
    ];
    let crc = |m: &Migration| Recorded::FlywayCrc32(flyway_crc32(m.sql.as_bytes()));
    let h = ToolHistory {
        applied: vec![
            ToolRow {
                checksum: Some(crc(&files[2])),
                ..row("1.9")
            },
            ToolRow {
                checksum: Some(Recorded::FlywayCrc32(42)),
                ..row("1.10")
            },
        ],
        through: Some(Through {
            version: "1.1".into(),
            baseline: true,
        }),
        ..Default::default()
    };
    let m = map(Tool::Flyway, &h, &files, &[], &text).unwrap();
    assert_eq!(
        states(&m),
        [
            ("V1__a", State::Baselined),
            ("V1.1__b", State::Baselined),
            ("V1.9__c", State::Adopted),
            ("V1.10__d", State::Adopted),
            ("V2__e", State::Pending)
        ]
    );
    assert_eq!(m.files[2].checksum, Some(ChecksumCheck::Same));
    let changed: Vec<&str> = m.changed().map(|f| f.name.as_str()).collect();
    assert_eq!(changed, ["V1.10__d"]);
    assert_eq!(
        m.files[3].checksum,
        Some(ChecksumCheck::Changed {
            recorded: "crc32:42".into(),
            file: format!("crc32:{}", flyway_crc32(b"-- V1.10__d\n")),
        })
    );
    assert_eq!(m.files[0].checksum, None, "baselined: nothing to compare");
}

#[test]
fn sqlx_checksum_and_unreadable_files() {
    let files = [file("1_a"), file("2_b")];
    let h = ToolHistory {
        applied: vec![
            ToolRow {
                checksum: Some(Recorded::Sha384(sha384_hex(b"-- 1_a\n"))),
                ..row("1")
            },
            ToolRow {
                checksum: Some(Recorded::Sha384(sha384_hex(b"x"))),
                ..row("2")
            },
        ],
        ..Default::default()
    };
    let m = map(Tool::Sqlx, &h, &files, &[], &text).unwrap();
    assert_eq!(m.files[0].checksum, Some(ChecksumCheck::Same));
    assert!(matches!(
        m.files[1].checksum,
        Some(ChecksumCheck::Changed { .. })
    ));
    let unreadable = |_: &Migration| Err("gone".to_owned());
    let m = map(Tool::Sqlx, &h, &files, &[], &unreadable).unwrap();
    assert_eq!(
        m.files[0].checksum,
        Some(ChecksumCheck::NotCompared {
            reason: "gone".into()
        })
    );
}

#[test]
fn files_in_pgboot_history_stay_and_two_files_of_one_applied_version_are_refused() {
    let files = [file("001_a"), file("002_b")];
    let h = ToolHistory {
        applied: vec![row("1"), row("2")],
        ..Default::default()
    };
    let m = map(Tool::Dbmate, &h, &files, &["001_a"], &text).unwrap();
    assert_eq!(
        states(&m),
        [("001_a", State::Recorded), ("002_b", State::Adopted)]
    );
    assert_eq!(m.to_record(), ["002_b"]);

    let files = [file("001_a"), file("001_b"), file("002_c")];
    let e = map(Tool::Dbmate, &h, &files, &[], &text).unwrap_err();
    assert!(
        e.starts_with(
            "dbmate applied version 1, and 2 files have that version (001_a.sql, 001_b.sql)"
        ),
        "{e}"
    );
    // Two files of a version the tool did not apply: nothing to choose.
    let h = ToolHistory {
        applied: vec![row("2")],
        ..Default::default()
    };
    let m = map(Tool::Dbmate, &h, &files, &[], &text).unwrap();
    assert_eq!(m.count(State::Gap), 2);
}

#[test]
fn nothing_applied_means_everything_pending() {
    let files = [file("001_a")];
    let m = map(Tool::Goose, &ToolHistory::default(), &files, &[], &text).unwrap();
    assert_eq!(states(&m), [("001_a", State::Pending)]);
    assert!(m.to_record().is_empty());
}
