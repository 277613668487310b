//! `pgboot baseline` against a real PostgreSQL: `--detect` by replay (databases built by psql
//! from files 1..N propose exactly N, also when a later file drops what an earlier one
//! created), `--through`, and no command writing anything without `--yes`.
//! (The baseline tests used to live in operate.rs.)

use crate::support::*;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repo's migrations/, without 011 when this server has no pgvector.
fn repo_migrations_dir(db: &TestDb) -> tempfile::TempDir {
    let vector =
        db.count("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") == 1;
    let files = repo_migrations();
    let files: Vec<(&str, &str)> = files
        .iter()
        .filter(|(name, _)| vector || !name.starts_with("011"))
        .map(|(name, sql)| (name.as_str(), sql.as_str()))
        .collect();
    migrations(&files)
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// What docker-entrypoint-initdb.d did: `psql -v ON_ERROR_STOP=1 -f` for each of the first
/// `n` files, no history.
fn build_with_psql(db: &TestDb, dir: &Path, n: usize) {
    for f in sorted_files(dir).iter().take(n) {
        let r = run(Command::new(pg_bin().join("psql"))
            .env("PGPASSWORD", PASSWORD)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
            .arg(f));
        assert_eq!(r.code, 0, "psql -f {}: {}", f.display(), r.all());
    }
}

fn no_pgboot_schema(db: &TestDb) -> bool {
    db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboot'") == 0
}

/// Whether the scratch database this run's log names is still there (0: dropped).
fn scratch_left(db: &TestDb, r: &Run) -> i64 {
    let at = r
        .stderr
        .find("pgboot_baseline_")
        .unwrap_or_else(|| panic!("no scratch database in the log: {}", r.stderr));
    let name: String = r.stderr[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let _guard = cluster().drop_on_exit(&name);
    db.count(&format!(
        "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
    ))
}

/// A tree where later files undo earlier ones: 002's index is dropped by 005, 003's column
/// is dropped by 006, 004's table is renamed by 007.
const UNDOING: &[(&str, &str)] = &[
    ("001_t.sql", "CREATE TABLE IF NOT EXISTS t (id int PRIMARY KEY, a text);\n"),
    ("002_idx.sql", "CREATE INDEX IF NOT EXISTS t_a_idx ON t (a);\n"),
    ("003_col.sql", "ALTER TABLE t ADD COLUMN IF NOT EXISTS tmp int;\n"),
    ("004_u.sql", "CREATE TABLE IF NOT EXISTS u (id int);\n"),
    ("005_drop_idx.sql", "-- 002's index was a mistake\nDROP INDEX IF EXISTS t_a_idx;\n"),
    ("006_drop_col.sql", "ALTER TABLE t DROP COLUMN IF EXISTS tmp;\n"),
    (
        "007_rename.sql",
        "DO $$ BEGIN\n  IF to_regclass('public.v') IS NULL THEN ALTER TABLE u RENAME TO v; END IF;\nEND $$;\n",
    ),
    ("008_w.sql", "CREATE TABLE IF NOT EXISTS w (id int);\n"),
];

#[test]
fn detect_proposes_exactly_n_for_a_database_built_from_files_1_to_n() {
    let dir = migrations(UNDOING);
    for n in [1, 2, 4, 5, 6, 7, 8] {
        let db = cluster().create_db(&format!("detect{n}"));
        build_with_psql(&db, dir.path(), n);
        let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--json"]);
        assert_eq!(r.code, 0, "N = {n}: {}", r.all());
        let v = r.json();
        assert_eq!(v["detected"]["exact"], n, "N = {n}: {v:#}");
        assert_eq!(v["through"], n.to_string(), "N = {n}: {v:#}");
        assert_eq!(v["record"].as_array().unwrap().len(), n, "N = {n}: {v:#}");
        assert_eq!(v["written"], false);
        assert!(no_pgboot_schema(&db), "N = {n}: wrote without --yes");
        assert_eq!(
            scratch_left(&db, &r),
            0,
            "N = {n}: scratch database left behind"
        );
    }
}

#[test]
fn detect_on_a_database_with_a_hand_made_change_proposes_nothing_and_lists_it() {
    let dir = migrations(UNDOING);
    let db = cluster().create_db("detect_hotfix");
    build_with_psql(&db, dir.path(), 8);
    db.query("CREATE INDEX hotfix_idx ON w (id); ALTER TABLE t ALTER COLUMN a SET DEFAULT 'x'");
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--yes"]);
    assert_eq!(r.code, 7, "{}", r.all());
    assert_contains(&r.stdout, "no prefix of the files matches the database's catalog exactly; the closest is after 8 file(s), through 008_w.sql, with 1 difference(s)");
    assert_contains(&r.stdout, "+ index public.w hotfix_idx");
    assert_contains(&r.stdout, "`pgboot baseline --through 8 --yes`");
    assert!(no_pgboot_schema(&db), "wrote without an exact match");
    // The closest prefix, its one shape difference, the command to record through it.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("baseline_detect_mismatch", r.stdout);
    // Without the index, the shapes are equal and the full snapshots show the default.
    db.query("DROP INDEX hotfix_idx");
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--json"]);
    assert_eq!(r.code, 7, "{}", r.all());
    let v = r.json();
    assert_eq!(v["detected"]["exact"], serde_json::Value::Null);
    assert_eq!(v["detected"]["closest"], 8);
    assert_eq!(v["detected"]["shape_only"], false);
    let diff: Vec<&str> = v["detected"]["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        diff,
        [
            "- column public.t 0002 a text",
            "+ column public.t 0002 a text default 'x'::text"
        ]
    );
    assert!(no_pgboot_schema(&db));
    assert_eq!(scratch_left(&db, &r), 0);
}

#[test]
fn detect_names_data_only_files_it_cannot_tell_apart() {
    let dir = migrations(&[
        ("001_t.sql", "CREATE TABLE IF NOT EXISTS t (id int);\n"),
        ("002_seed.sql", "INSERT INTO t VALUES (1);\n"),
    ]);
    let db = cluster().create_db("detect_seed");
    build_with_psql(&db, dir.path(), 1);
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(
        &r.stdout,
        "note: it matches after 1 file(s) too: files 2 to 2 change nothing the catalog shows",
    );
}

#[test]
fn detect_on_the_repository_migrations_built_by_psql_proposes_the_last_file() {
    let db = cluster().create_db("detect_repo");
    let dir = repo_migrations_dir(&db);
    let files = sorted_files(dir.path());
    build_with_psql(&db, dir.path(), files.len());
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = r.json();
    assert_eq!(v["detected"]["exact"], files.len(), "{v:#}");
    let last = files.last().unwrap().file_name().unwrap().to_str().unwrap();
    assert_eq!(v["detected"]["closest_name"], last, "{v:#}");
    assert!(no_pgboot_schema(&db));
}

#[test]
fn baseline_detect_adopts_an_initdb_built_database_then_migrate_applies_only_newer_files() {
    let db = cluster().create_db("baseline");
    let dir = repo_migrations_dir(&db);
    build_with_psql(&db, dir.path(), 2);
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = r.json();
    // Exact after 2 (002_performance_optimization), through 2, record 001 and 002, nothing
    // written; the replay went through every file.
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("baseline_detect_json", v, { ".detected.replayed" => "[files]" });
    assert!(no_pgboot_schema(&db), "wrote without --yes");

    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stdout, "the database's catalog matches exactly after 2 file(s), through 002_performance_optimization.sql");
    assert_contains(&r.stdout, "recorded 2 file(s)");
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE kind = 'baseline'"),
        2
    );

    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let total = sorted_files(dir.path()).len() as i64;
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE kind = 'migrate'"),
        total - 2
    );
    assert_contains(&r.stderr, "already up to date 2");

    let r = pgboot(&db.url, dir.path(), &["baseline", "--through", "1"]);
    assert_eq!(
        r.code,
        2,
        "history exists: refuse without --force: {}",
        r.all()
    );
    // The history has one row per file, 011 included only where pgvector is available.
    assert_contains(
        &r.stderr,
        &format!("({total} rows in pgboot.schema_history)"),
    );
    let mut s = snap::settings();
    s.add_filter(r"\(\d+ rows in", "([ROWS] rows in");
    let _s = s.bind_to_scope();
    insta::assert_snapshot!("baseline_refused_without_force", r.stderr);
}

#[test]
fn baseline_through_records_without_running() {
    let db = cluster().create_db("through");
    let dir = migrations(&[
        ("001_a.sql", "CREATE TABLE a (id int);"),
        ("002_b.sql", "CREATE TABLE b (id int);"),
        ("003_c.sql", "CREATE TABLE c (id int);"),
    ]);
    db.query("CREATE TABLE a (id int); CREATE TABLE b (id int);");
    let r = pgboot(&db.url, dir.path(), &["baseline", "--through", "2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(no_pgboot_schema(&db), "wrote without --yes");
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--through", "2", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "a baselined file ran again: {}", r.all());
    assert_eq!(
        history_kinds(&db),
        "001_a:baseline,002_b:baseline,003_c:migrate"
    );
}

/// `name:kind` of every history row, by name.
fn history_kinds(db: &TestDb) -> String {
    db.one("SELECT string_agg(name || ':' || kind, ',' ORDER BY name) FROM pgboot.schema_history")
        .unwrap_or_default()
}

#[test]
fn baseline_through_a_dotted_version_compares_it_part_by_part() {
    let db = cluster().create_db("through_dotted");
    // Run order: 1, 1.2, 1.10, 2 (1.10 is not 1.1, nor before 1.2).
    let dir = migrations(&[
        ("V1__a.sql", "CREATE TABLE a (id int);"),
        ("V1.10__c.sql", "CREATE TABLE c (id int);"),
        ("V1.2__b.sql", "CREATE TABLE b (id int);"),
        ("V2__d.sql", "CREATE TABLE d (id int);"),
    ]);
    db.query("CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE TABLE c (id int);");
    // A version no file has: refused, naming the nearest, before anything is written.
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--through", "1.5", "--yes"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert_contains(&r.stderr, "no migration file has version 1.5; the nearest are 1.2 (V1.2__b.sql) and 1.10 (V1.10__c.sql)");
    assert!(no_pgboot_schema(&db), "wrote after refusing");
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--through", "1.10", "--json"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let v = r.json();
    assert_eq!(v["through"], "1.10", "{v:#}");
    assert_eq!(
        v["record"],
        serde_json::json!(["V1__a", "V1.2__b", "V1.10__c"])
    );
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--through", "1.10", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(
        &r.stdout,
        "baseline through version 1.10: recorded 3 file(s)",
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "a baselined file ran again: {}", r.all());
    assert_eq!(
        history_kinds(&db),
        "V1.10__c:baseline,V1.2__b:baseline,V1__a:baseline,V2__d:migrate"
    );
}

/// Every schema, relation, function and type of the database, and its roles' names: what a
/// write would change.
fn everything(db: &TestDb) -> Option<String> {
    db.one(
        "SELECT string_agg(x, ',' ORDER BY x) FROM (
           SELECT 'n:' || nspname AS x FROM pg_namespace
           UNION ALL SELECT 'c:' || oid::regclass::text FROM pg_class
           UNION ALL SELECT 'p:' || oid::regprocedure::text FROM pg_proc
           UNION ALL SELECT 't:' || oid::regtype::text FROM pg_type) s",
    )
}

#[test]
fn no_command_writes_anything_without_yes() {
    let db = cluster().create_db("nowrite");
    let dir = migrations(UNDOING);
    build_with_psql(&db, dir.path(), 3);
    let before = everything(&db);
    for args in [
        &["baseline", "--detect"][..],
        &["baseline", "--through", "2"],
        &[
            "repair",
            "--all-drifted",
            "--all-failed",
            "--drop-invalid-indexes",
        ],
        &["status"],
        &["validate"],
        &["plan"],
        &["verify"],
        &["check-tenancy"],
    ] {
        let r = pgboot(&db.url, dir.path(), args);
        assert!([0, 7].contains(&r.code), "{args:?} failed: {}", r.all());
        assert_eq!(everything(&db), before, "{args:?} wrote: {}", r.all());
    }
    assert!(no_pgboot_schema(&db));
}

#[test]
fn detect_replays_with_the_databases_own_search_path() {
    let db = cluster().create_db("detect_path");
    db.query(&format!(
        "ALTER DATABASE \"{}\" SET search_path = app, public",
        db.name
    ));
    // With the database's search_path, `items` lands in schema app.
    let dir = migrations(&[
        (
            "001_app.sql",
            "CREATE SCHEMA IF NOT EXISTS app;\nCREATE TABLE IF NOT EXISTS items (id int);\n",
        ),
        (
            "002_more.sql",
            "CREATE TABLE IF NOT EXISTS more (id int);\n",
        ),
    ]);
    build_with_psql(&db, dir.path(), 1);
    assert_eq!(
        db.one("SELECT relnamespace::regnamespace::text FROM pg_class WHERE relname = 'items'")
            .as_deref(),
        Some("app")
    );
    let r = pgboot(&db.url, dir.path(), &["baseline", "--detect", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v = r.json();
    assert_eq!(v["detected"]["exact"], 1, "{v:#}");
    assert_eq!(scratch_left(&db, &r), 0);
}
