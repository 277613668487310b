use super::*;

fn rows(v: &[&[Option<&str>]]) -> Vec<Row> {
    v.iter()
        .map(|r| r.iter().map(|c| c.map(str::to_owned)).collect())
        .collect()
}

#[test]
fn columns_decide_whose_table_it_is() {
    let gm = ["version", "dirty"];
    assert_eq!(looks_like(&gm), Some(Tool::GolangMigrate));
    assert_eq!(looks_like(&["version"]), Some(Tool::Dbmate));
    let e = check_columns(Tool::Dbmate, "public.schema_migrations", &gm).unwrap_err();
    assert_eq!(
        e,
        "public.schema_migrations is not dbmate's; its columns (version, dirty) are \
         golang-migrate's: did you mean --from golang-migrate?"
    );
    let e = check_columns(
        Tool::GolangMigrate,
        "public.schema_migrations",
        &["version"],
    )
    .unwrap_err();
    assert!(
        e.starts_with("public.schema_migrations has no dirty column"),
        "{e}"
    );
    assert!(e.contains("--from dbmate"), "{e}");
    let e = check_columns(Tool::Sqlx, "t", &["a", "b"]).unwrap_err();
    assert!(e.contains("no known tool's"), "{e}");
    let flyway = [
        "installed_rank",
        "version",
        "description",
        "type",
        "script",
        "checksum",
        "installed_by",
        "installed_on",
        "execution_time",
        "success",
    ];
    assert_eq!(check_columns(Tool::Flyway, "t", &flyway), Ok(()));
    let sqlx = [
        "version",
        "description",
        "installed_on",
        "success",
        "checksum",
        "execution_time",
    ];
    assert_eq!(check_columns(Tool::Sqlx, "t", &sqlx), Ok(()));
    let goose = ["id", "version_id", "is_applied", "tstamp"];
    assert_eq!(check_columns(Tool::Goose, "t", &goose), Ok(()));
    let refinery = ["version", "name", "applied_on", "checksum"];
    assert_eq!(check_columns(Tool::Refinery, "t", &refinery), Ok(()));
    assert!(check_columns(Tool::Refinery, "t", &sqlx).is_err());
}

#[test]
fn golang_migrate_one_row_is_everything_up_to_it_and_dirty_is_refused() {
    let h = parse(Tool::GolangMigrate, "t", &rows(&[&[Some("3"), Some("f")]])).unwrap();
    assert_eq!(
        h.through,
        Some(Through {
            version: "3".into(),
            baseline: false
        })
    );
    assert!(h.applied.is_empty());
    let e = parse(
        Tool::GolangMigrate,
        "public.schema_migrations",
        &rows(&[&[Some("3"), Some("t")]]),
    )
    .unwrap_err();
    assert!(
        e.contains("version 3 dirty in public.schema_migrations"),
        "{e}"
    );
    assert!(e.contains("`migrate force 3`"), "{e}");
    assert_eq!(
        parse(Tool::GolangMigrate, "t", &[]).unwrap(),
        ToolHistory::default()
    );
}

#[test]
fn flyway_rows() {
    let r = rows(&[
        &[
            Some("0"),
            None,
            Some("<< Flyway Schema Creation >>"),
            Some("SCHEMA"),
            Some("\"app\""),
            None,
            Some("t"),
        ],
        &[
            Some("1"),
            Some("1"),
            Some("<< Flyway Baseline >>"),
            Some("BASELINE"),
            Some("<< Flyway Baseline >>"),
            None,
            Some("t"),
        ],
        &[
            Some("2"),
            Some("1.1"),
            Some("add x"),
            Some("SQL"),
            Some("V1.1__add_x.sql"),
            Some("-123"),
            Some("t"),
        ],
        &[
            Some("3"),
            None,
            Some("views"),
            Some("SQL"),
            Some("R__views.sql"),
            Some("5"),
            Some("t"),
        ],
        &[
            Some("4"),
            Some("2"),
            Some("java"),
            Some("JDBC"),
            Some("db.migration.V2__Java"),
            None,
            Some("t"),
        ],
        &[
            Some("5"),
            Some("3"),
            Some("gone"),
            Some("SQL"),
            Some("V3__gone.sql"),
            Some("7"),
            Some("t"),
        ],
        &[
            Some("6"),
            Some("3"),
            Some("gone"),
            Some("DELETE"),
            Some("V3__gone.sql"),
            Some("7"),
            Some("t"),
        ],
    ]);
    let h = parse(Tool::Flyway, "t", &r).unwrap();
    assert_eq!(
        h.through,
        Some(Through {
            version: "1".into(),
            baseline: true
        })
    );
    let applied: Vec<(&str, Option<&Recorded>)> = h
        .applied
        .iter()
        .map(|a| (a.version.as_str(), a.checksum.as_ref()))
        .collect();
    assert_eq!(
        applied,
        [("1.1", Some(&Recorded::FlywayCrc32(-123))), ("2", None)]
    );
    let skipped: Vec<&str> = h.skipped.iter().map(|s| s.row.as_str()).collect();
    assert_eq!(
        skipped,
        [
            "installed_rank 0: \"app\"",
            "installed_rank 3: R__views.sql",
            "installed_rank 6: version 3 (V3__gone.sql)"
        ]
    );
    let failed = rows(&[&[
        Some("1"),
        Some("1"),
        Some("x"),
        Some("SQL"),
        Some("V1__x.sql"),
        Some("1"),
        Some("f"),
    ]]);
    let e = parse(Tool::Flyway, "public.flyway_schema_history", &failed).unwrap_err();
    assert!(
        e.contains(
            "V1__x.sql (version 1, installed_rank 1) in public.flyway_schema_history as failed"
        ),
        "{e}"
    );
    assert!(e.contains("`flyway repair`"), "{e}");
}

#[test]
fn sqlx_refinery_dbmate_goose_rows() {
    let h = parse(
        Tool::Sqlx,
        "t",
        &rows(&[&[Some("1"), Some("init"), Some("t"), Some("ABCD")]]),
    )
    .unwrap();
    assert_eq!(h.applied[0].checksum, Some(Recorded::Sha384("abcd".into())));
    let e = parse(
        Tool::Sqlx,
        "t",
        &rows(&[&[Some("2"), Some("bad"), Some("f"), Some("ab")]]),
    )
    .unwrap_err();
    assert!(
        e.contains("version 2 (bad)") && e.contains("delete that row"),
        "{e}"
    );

    let h = parse(
        Tool::Refinery,
        "t",
        &rows(&[&[Some("1"), Some("initial"), Some("18446744073709551615")]]),
    )
    .unwrap();
    assert_eq!(h.applied[0].checksum, Some(Recorded::Refinery(u64::MAX)));

    let h = parse(
        Tool::Dbmate,
        "t",
        &rows(&[&[Some("20240101")], &[Some("20240102")]]),
    )
    .unwrap();
    assert_eq!(h.applied.len(), 2);

    let h = parse(
        Tool::Goose,
        "t",
        &rows(&[
            &[Some("0"), Some("t")],
            &[Some("1"), Some("t")],
            &[Some("2"), Some("f")],
        ]),
    )
    .unwrap();
    assert_eq!(h.applied.len(), 1);
    assert_eq!(h.applied[0].version, "1");
    assert_eq!(h.skipped[0].row, "version 2");
}
