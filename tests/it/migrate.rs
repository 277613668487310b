//! `pgboot migrate`, `status` and `validate` against a real PostgreSQL.

use crate::support::*;

const ORDER_LOG: &str = "CREATE TABLE IF NOT EXISTS order_log (n serial, name text);\n";

fn log_as(name: &str) -> String {
    format!("{ORDER_LOG}INSERT INTO order_log (name) VALUES ('{name}');\n")
}

#[test]
fn naming_ordering_gaps_duplicates_up_sql_and_skips() {
    let db = cluster().create_db("naming");
    let dir = migrations(&[
        ("010_ten.sql", &log_as("010_ten")),
        ("002_two.sql", &log_as("002_two")),
        ("001_one.sql", &log_as("001_one")),
        ("8_eight.up.sql", &log_as("8_eight")),
        ("8_eight.down.sql", "DROP TABLE order_log;"),
        ("002_also.sql", &log_as("002_also")),
        ("README.md", "# notes"),
        ("runner.ts", "export {}"),
    ]);
    std::fs::create_dir(dir.path().join("legacy")).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let order: Vec<String> = db
        .query("SELECT name FROM order_log ORDER BY n")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(
        order,
        ["001_one", "002_also", "002_two", "8_eight", "010_ten"]
    );
    for skipped in ["README.md", "runner.ts", "legacy"] {
        assert!(
            r.stderr.contains(skipped),
            "no warning for {skipped}: {}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("share version 2"), "{}", r.stderr);
    assert!(!r.stderr.contains("down.sql"), "{}", r.stderr);
    let names: Vec<String> = db
        .query("SELECT name FROM pgboot.schema_history ORDER BY version, name")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(
        names,
        ["001_one", "002_also", "002_two", "8_eight", "010_ten"]
    );
}

#[test]
fn fresh_apply_then_second_run_changes_nothing() {
    let db = cluster().create_db("fresh");
    let dir = migrations(&[
        ("001_init.sql", "/**\n * Initial\n */\nCREATE TABLE IF NOT EXISTS t (id int);\nDO $$ BEGIN RAISE NOTICE 'hello from the migration'; END $$;\nSELECT 'Initial schema complete!' AS status;\n"),
        ("002_more.sql", "ALTER TABLE t ADD COLUMN IF NOT EXISTS name text;\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("hello from the migration") && r.stderr.contains("001_init"),
        "notice not logged: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("Initial schema complete!"),
        "status row not logged: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains("applied 2, already up to date 0"),
        "{}",
        r.stderr
    );
    let row = db.query("SELECT version, checksum, success, transactional, applied_by, pgboot_version, execution_ms >= 0 FROM pgboot.schema_history WHERE name = '001_init'");
    let row = &row[0];
    assert_eq!(row[0].as_deref(), Some("1"));
    assert!(row[1].as_deref().unwrap().starts_with("sha256-lf:"));
    assert_eq!(row[2].as_deref(), Some("t"));
    assert_eq!(row[3].as_deref(), Some("t"));
    assert_eq!(row[4].as_deref(), Some("postgres"));
    assert_eq!(row[5].as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(row[6].as_deref(), Some("t"));

    let before = db.query("SELECT name, applied_at FROM pgboot.schema_history ORDER BY name");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 0, already up to date 2"),
        "{}",
        r.stderr
    );
    assert_eq!(
        db.query("SELECT name, applied_at FROM pgboot.schema_history ORDER BY name"),
        before
    );

    let s = pgboot(&db.url, dir.path(), &["status", "--json"]);
    assert_eq!(s.code, 0, "{}", s.all());
    let v: serde_json::Value = serde_json::from_str(s.stdout.trim()).unwrap();
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("status_json_applied", v, {
        "[].applied_at" => "[applied_at]",
        "[].execution_ms" => "[execution_ms]",
    });
}

#[test]
fn syntax_error_on_line_37_rolls_back_the_file_and_stops() {
    let db = cluster().create_db("syntax");
    let mut body = String::from("CREATE TABLE half_done (id int);\n");
    for i in 2..=36 {
        body.push_str(&format!("-- filler line {i}\n"));
    }
    body.push_str("CREATE TABLEE broken (id int);\n");
    body.push_str("CREATE TABLE after_error (id int);\n");
    let dir = migrations(&[
        ("001_ok.sql", "CREATE TABLE ok_table (id int);"),
        ("002_broken.sql", &body),
        ("003_never.sql", "CREATE TABLE never_runs (id int);"),
    ]);
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    // file:line:col, SQLSTATE 42601, the source line with a caret, "rolled back".
    insta::assert_snapshot!("syntax_error_line_37", r.stderr);
    assert_eq!(
        db.one("SELECT to_regclass('ok_table')::text").as_deref(),
        Some("ok_table")
    );
    assert_eq!(
        db.one("SELECT to_regclass('half_done')::text"),
        None,
        "the failed file was not rolled back"
    );
    assert_eq!(
        db.one("SELECT to_regclass('never_runs')::text"),
        None,
        "a file after the failure ran"
    );
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 1);

    // The same failure as the last JSON line with --log-format json.
    let r = pgboot(&db.url, dir.path(), &["--log-format", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let last = r.stderr.lines().last().unwrap_or_default();
    let err: serde_json::Value =
        serde_json::from_str(last).unwrap_or_else(|e| panic!("not JSON ({e}): {last}"));
    insta::assert_json_snapshot!("syntax_error_line_37_json", err);
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 1);
}

#[test]
fn error_inside_plpgsql_body_points_into_the_function() {
    let db = cluster().create_db("plpgsql");
    let body = "\
CREATE TABLE IF NOT EXISTS audit (id int);
CREATE OR REPLACE FUNCTION public.backfill() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO audit VALUES (1);
  UPDATE no_such_table SET x = 1;
END
$fn$;
SELECT backfill();
";
    let dir = migrations(&[("001_fn.sql", body)]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    // 001_fn.sql:6:10 (line 6 is the UPDATE; `no_such_table` starts at column 10), 42P01, the
    // context "PL/pgSQL function backfill() line 4" and the internal query.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("plpgsql_error", r.stderr);
    assert_eq!(
        db.one("SELECT to_regclass('audit')::text"),
        None,
        "not rolled back"
    );
}

#[test]
fn no_transaction_detection_runs_vacuum_and_concurrently_outside_a_transaction() {
    let db = cluster().create_db("notx");
    let real = "\
CREATE TABLE IF NOT EXISTS items (id int, tenant_id int);
CREATE INDEX CONCURRENTLY IF NOT EXISTS items_tenant ON items (tenant_id);
VACUUM ANALYZE items;
SELECT 'Performance optimization complete!' AS status;
";
    // Every dangerous word below hides in a string, a comment, a quoted name or a body.
    let traps = "\
-- VACUUM ANALYZE in a comment
/* CREATE INDEX CONCURRENTLY x ON y (z); /* nested VACUUM */ still comment */
CREATE TABLE IF NOT EXISTS \"vacuum\" (note text);
INSERT INTO \"vacuum\" VALUES ('VACUUM; CREATE INDEX CONCURRENTLY i ON t (c);');
INSERT INTO \"vacuum\" VALUES (E'it''s \\' VACUUM');
CREATE OR REPLACE FUNCTION trap() RETURNS text LANGUAGE sql AS $body$ SELECT 'VACUUM'::text $body$;
DO $do$ BEGIN PERFORM 'CREATE INDEX CONCURRENTLY'; END $do$;
";
    let forced = "-- pgboot:no-transaction\nCREATE TABLE IF NOT EXISTS forced (id int);\n";
    let dir = migrations(&[
        ("001_items.sql", real),
        ("002_traps.sql", traps),
        ("003_forced.sql", forced),
    ]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("line 2") && r.stderr.contains("CREATE INDEX CONCURRENTLY"),
        "no warning naming the line: {}",
        r.stderr
    );
    let tx: Vec<(String, String)> = db
        .query("SELECT name, transactional::text FROM pgboot.schema_history ORDER BY name")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    assert_eq!(
        tx,
        [
            ("001_items".into(), "false".into()),
            ("002_traps".into(), "true".into()),
            ("003_forced".into(), "false".into())
        ]
    );
    assert_eq!(
        db.one("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'items_tenant'::regclass")
            .as_deref(),
        Some("true")
    );
    assert_eq!(db.count("SELECT count(*) FROM \"vacuum\""), 2);
}

#[test]
fn failed_non_transactional_file_is_recorded_and_blocks_the_next_run() {
    let db = cluster().create_db("notxfail");
    let body = "CREATE TABLE IF NOT EXISTS kept (id int);\nVACUUM kept;\nSELECT 1/0;\n";
    let dir = migrations(&[("001_partial.sql", body)]);
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    // 001_partial.sql:3, 22012, and that the file is recorded as failed part-way.
    insta::assert_snapshot!("no_transaction_file_fails_part_way", r.stderr);
    assert_eq!(
        db.one("SELECT success::text FROM pgboot.schema_history")
            .as_deref(),
        Some("false")
    );
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!("failed_part_way_blocks_the_next_run", r.stderr);
    let s = pgboot(&db.url, dir.path(), &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_str(s.stdout.trim()).unwrap();
    insta::assert_json_snapshot!("status_json_failed", v, {
        "[].applied_at" => "[applied_at]",
        "[].execution_ms" => "[execution_ms]",
    });
}

#[test]
fn own_transaction_file_runs_as_written() {
    let db = cluster().create_db("owntx");
    let body = "BEGIN;\nCREATE TABLE own (id int);\nCOMMIT;\n";
    let dir = migrations(&[("001_own.sql", body)]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.stderr
            .contains("there is already a transaction in progress"),
        "{}",
        r.stderr
    );
    assert_eq!(
        db.one("SELECT to_regclass('own')::text").as_deref(),
        Some("own")
    );
}

#[test]
fn drift_exits_4_and_crlf_is_not_drift() {
    let db = cluster().create_db("drift");
    let dir = migrations(&[
        (
            "001_a.sql",
            "CREATE TABLE a (id int);\nSELECT 'done' AS status;\n",
        ),
        ("002_b.sql", "CREATE TABLE b (id int);\n"),
    ]);
    assert_eq!(pgboot(&db.url, dir.path(), &[]).code, 0);

    std::fs::write(
        dir.path().join("001_a.sql"),
        "\u{feff}CREATE TABLE a (id int);\r\nSELECT 'done' AS status;\r\n",
    )
    .unwrap();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "CRLF + BOM was taken as drift: {}", r.all());
    assert_eq!(pgboot(&db.url, dir.path(), &["validate"]).code, 0);

    std::fs::write(
        dir.path().join("001_a.sql"),
        "CREATE TABLE a (id bigint);\n",
    )
    .unwrap();
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!("drift_changed_after_applied", r.stderr);
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 4, "{}", v.all());
    let s = pgboot(&db.url, dir.path(), &["status"]);
    assert_eq!(s.code, 0);
    assert!(s.stdout.contains("drifted"), "{}", s.stdout);

    std::fs::write(
        dir.path().join("001_a.sql"),
        "CREATE TABLE a (id int);\nSELECT 'done' AS status;\n",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("002_b.sql")).unwrap();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!("drift_file_removed", r.stderr);
}

#[test]
fn late_file_is_applied_with_a_warning() {
    let db = cluster().create_db("late");
    let dir = migrations(&[("001_a.sql", "SELECT 1;"), ("003_c.sql", "SELECT 3;")]);
    assert_eq!(pgboot(&db.url, dir.path(), &[]).code, 0);
    std::fs::write(dir.path().join("002_b.sql"), "CREATE TABLE late (id int);").unwrap();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("002_b") && r.stderr.contains("older than the newest applied"),
        "{}",
        r.stderr
    );
    assert_eq!(
        db.one("SELECT to_regclass('late')::text").as_deref(),
        Some("late")
    );
}

#[test]
fn bad_directories_and_files_exit_2_before_touching_the_database() {
    let db = cluster().create_db("baddir");
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(
        &db.url,
        std::path::Path::new("/nonexistent/migrations"),
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("missing_directory", r.stderr);

    let empty = migrations(&[("README.md", "")]);
    let r = pgboot(&db.url, empty.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("no_migration_files", r.stderr);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("001_bad.sql"),
        b"SELECT 1;\nSELECT '\xff\xfe';\n",
    )
    .unwrap();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("invalid_utf8", r.stderr);

    let dir = migrations(&[
        ("001_ok.sql", "CREATE TABLE first (id int);"),
        ("002_open.sql", "SELECT $x$ never closed;\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("unterminated_dollar_quote", r.stderr);
    assert_eq!(
        db.one("SELECT to_regclass('first')::text"),
        None,
        "a file ran although a later one cannot be lexed"
    );
    // Refused before anything is written (the files are read while pgboot connects): not even
    // the history table is created.
    assert_eq!(
        db.one("SELECT to_regclass('pgboot.schema_history')::text"),
        None
    );
}

#[test]
fn only_files_that_will_run_are_checked_and_a_bad_one_stops_the_run_before_any_write() {
    let db = cluster().create_db("checkpending");
    // 001 holds a meta-command pgboot refuses; baseline records it without running it.
    let dir = migrations(&[
        (
            "001_old.sql",
            "\\connect other\nCREATE TABLE old (id int);\n",
        ),
        ("002_new.sql", "CREATE TABLE new (id int);\n"),
    ]);
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--through", "1", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    // Recorded with the same checksum, 001 will not run, so it is not checked.
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT to_regclass('new')::text").as_deref(),
        Some("new")
    );
    // A pending file pgboot refuses stops the run, with the history table already there:
    // nothing of the pending files before it is applied or recorded.
    std::fs::write(dir.path().join("003_ok.sql"), "CREATE TABLE ok (id int);\n").unwrap();
    std::fs::write(dir.path().join("004_bad.sql"), "SELECT $x$ never closed;\n").unwrap();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("004_bad.sql:1:8: unterminated dollar-quoted string"),
        "{}",
        r.all()
    );
    assert_eq!(db.one("SELECT to_regclass('ok')::text"), None);
    assert_eq!(
        db.one("SELECT count(*)::text FROM pgboot.schema_history")
            .as_deref(),
        Some("2")
    );
}

#[test]
fn json_logs_are_json_lines_with_the_migration_name() {
    let db = cluster().create_db("json");
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);")]);
    let r: Run = pgboot_cmd()
        .env("DATABASE_URL", &db.url)
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_LOG_FORMAT", "json")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.all());
    let mut saw_applied = false;
    for line in r.stderr.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["migration"] == "001_a" && v.get("duration_ms").is_some() {
            saw_applied = true;
        }
    }
    assert!(saw_applied, "{}", r.stderr);
}

#[test]
fn runtime_error_without_a_position_is_located_by_replay() {
    let db = cluster().create_db("replay");
    let body = "CREATE TABLE u (id int PRIMARY KEY);\nINSERT INTO u VALUES (1);\n\nINSERT INTO u VALUES (2);\n  INSERT INTO u VALUES (1);\nSELECT 'never' AS status;\n";
    let dir = migrations(&[("001_dup.sql", body)]);
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    // 001_dup.sql:5:3, 23505 and the detail "Key (id)=(1) already exists".
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("unique_violation_located_by_replay", r.stderr);
    assert_eq!(
        db.one("SELECT to_regclass('u')::text"),
        None,
        "the replay must leave nothing behind"
    );
}

#[test]
fn new_creates_the_next_numbered_file_from_the_template() {
    let db = cluster().create_db("newfile");
    let dir = migrations(&[
        ("001_initial_schema.sql", "SELECT 1;"),
        ("011_pgvector.sql", "SELECT 11;"),
        ("README.md", ""),
    ]);
    let r = pgboot(&db.url, dir.path(), &["new", "Add SSO"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let path = dir.path().join("012_add_sso.sql");
    assert_eq!(r.stdout.trim(), path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("/**") && text.contains("Created: ") && text.contains("IF NOT EXISTS"),
        "{text}"
    );
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("Add Sso migration complete!"),
        "{}",
        r.stderr
    );
    let again = pgboot(&db.url, dir.path(), &["new", "Add SSO"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(dir.path().join("013_add_sso.sql").exists());
}
