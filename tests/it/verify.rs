//! `pgboot verify`, `pgboot check-tenancy` and `migrate --check-tenancy` against a real PostgreSQL.

use crate::support::*;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const HEADER: &str = "-- a migration\n-- second line\n";

/// A complete tenant setup: tenants, and one table that follows every rule.
const GOOD_TENANCY: &str = "\
CREATE TABLE IF NOT EXISTS tenants (id uuid PRIMARY KEY);
CREATE TABLE IF NOT EXISTS notes (
  id int PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS notes_tenant_id_idx ON notes (tenant_id);
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE notes FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON notes;
CREATE POLICY tenant_isolation ON notes
  USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid);
";

/// A tenant table that breaks every rule: nullable text tenant_id, no index, no RLS, no policy.
const BROKEN_TABLE: &str = "CREATE TABLE IF NOT EXISTS leaky (id int, tenant_id text);\n";

/// The scratch database named in verify's log.
fn find_scratch(log: &str) -> Option<String> {
    let at = log.find("pgboot_verify_")?;
    Some(
        log[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect(),
    )
}

fn scratch_name(r: &Run) -> String {
    find_scratch(&r.stderr)
        .unwrap_or_else(|| panic!("no scratch database in the log: {}", r.stderr))
}

/// Drops verify's scratch database at the end of the test if verify left it behind (the tests
/// assert that it did not, with [`assert_dropped`]).
fn scratch_guard(r: &Run) -> Option<DropDb> {
    find_scratch(&r.stderr).map(|name| cluster().drop_on_exit(&name))
}

fn assert_dropped(db: &TestDb, name: &str) {
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
        )),
        0,
        "scratch database {name} was left behind"
    );
}

fn verify(db: &TestDb, dir: &Path, json: bool) -> Run {
    let args: &[&str] = if json {
        &["verify", "--json"]
    } else {
        &["verify"]
    };
    let r = pgboot(&db.url, dir, args);
    assert!(!r.all().contains(PASSWORD), "the password leaked");
    r
}

#[test]
fn verify_catches_a_create_table_without_if_not_exists() {
    let db = cluster().create_db("verify_table");
    let dir = migrations(&[
        ("001_ok.sql", "CREATE TABLE IF NOT EXISTS fine (id int);\n"),
        (
            "002_tenants.sql",
            &format!(
                "{HEADER}CREATE TABLE tenants (id uuid PRIMARY KEY);\nSELECT 'done' AS status;\n"
            ),
        ),
    ]);
    let r = verify(&db, dir.path(), false);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 7, "{}", r.all());
    assert!(
        r.stdout.contains(
            "002_tenants.sql:3 CREATE TABLE tenants is not idempotent: relation \"tenants\" already exists; use IF NOT EXISTS"
        ),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("001_ok.sql"), "{}", r.stdout);
    assert_dropped(&db, &scratch_name(&r));
    // verify never touches the target database itself.
    assert_eq!(db.one("SELECT to_regclass('public.tenants')::text"), None);
}

#[test]
fn verify_catches_an_unguarded_create_policy() {
    let db = cluster().create_db("verify_policy");
    let dir = migrations(&[(
        "001_policy.sql",
        &format!("{GOOD_TENANCY}CREATE POLICY read_all ON notes FOR SELECT\n  USING (true);\n"),
    )]);
    let r = verify(&db, dir.path(), false);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 7, "{}", r.all());
    let line = GOOD_TENANCY.lines().count() + 1;
    assert!(
        r.stdout.contains(&format!(
            "001_policy.sql:{line} CREATE POLICY read_all is not idempotent"
        )),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains("already exists"), "{}", r.stdout);
    assert!(r.stdout.contains("DROP … IF EXISTS"), "{}", r.stdout);
    assert_dropped(&db, &scratch_name(&r));
}

#[test]
fn verify_catches_an_insert_that_adds_rows_again() {
    let db = cluster().create_db("verify_insert");
    let dir = migrations(&[(
        "003_seed.sql",
        "CREATE TABLE IF NOT EXISTS plans (code text);\n\nINSERT INTO plans (code) VALUES ('starter');\n",
    )]);
    let r = verify(&db, dir.path(), true);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 7, "{}", r.all());
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    // One finding: 003_seed.sql line 3, INSERT INTO, advice ON CONFLICT DO NOTHING, the diff
    // "- rows public.plans 1" / "+ rows public.plans 2"; the file is not idempotent.
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("verify_json_insert", out, { ".database" => "[scratch]" });
    assert_eq!(out["database"].as_str().unwrap(), scratch_name(&r));
    assert_dropped(&db, &scratch_name(&r));
}

#[test]
fn verify_reports_a_tenant_table_without_rls() {
    let db = cluster().create_db("verify_rls");
    let dir = migrations(&[(
        "001_t.sql",
        "CREATE TABLE IF NOT EXISTS tenants (id uuid PRIMARY KEY);\n\
         CREATE TABLE IF NOT EXISTS docs (id int, tenant_id uuid NOT NULL REFERENCES tenants (id));\n\
         CREATE INDEX IF NOT EXISTS docs_tenant_id_idx ON docs (tenant_id);\n",
    )]);
    let r = verify(&db, dir.path(), true);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 7, "{}", r.all());
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    // No findings; tenancy: public.docs rls_enabled, rls_forced, tenant_policy.
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("verify_json_tenancy", out, { ".database" => "[scratch]" });
    assert_dropped(&db, &scratch_name(&r));
}

#[test]
fn verify_passes_on_the_repository_migrations() {
    let db = cluster().create_db("verify_repo");
    let vector =
        db.count("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") == 1;
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .filter(|(_, s)| {
            vector
                || !s
                    .to_ascii_lowercase()
                    .contains("create extension if not exists vector")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 5);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let dir = migrations(&refs);
    let r = verify(&db, dir.path(), true);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 0, "{}", r.all());
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(out["files"].as_array().unwrap().len(), files.len());
    assert_eq!(out["findings"], serde_json::json!([]));
    // Idempotent files that undo nothing: no information lines either.
    assert_eq!(out["info"], serde_json::json!([]));
    assert_eq!(out["tenancy"], serde_json::json!([]));
    assert!(r.stderr.contains("tenant-scoped tables"), "{}", r.stderr);
    assert_dropped(&db, &scratch_name(&r));
}

#[test]
fn verify_drops_the_scratch_database_on_sigterm() {
    let db = cluster().create_db("verify_term");
    let dir = migrations(&[
        ("001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);\n"),
        ("002_slow.sql", "SELECT pg_sleep(60);\n"),
    ]);
    let mut child = pgboot_cmd()
        .env("DATABASE_URL", &db.url)
        .env("PGBOOT_MIGRATIONS", dir.path())
        .arg("verify")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let mut name = None;
    while name.is_none() {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains("created the scratch database") {
            name = find_scratch(&line);
        }
        log.push_str(&line);
    }
    let name = name.unwrap_or_else(|| panic!("no scratch database: {log}"));
    let _scratch = cluster().drop_on_exit(&name);
    // Wait until the slow statement runs in the scratch database.
    eventually(Duration::from_secs(5), || {
        db.count(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND query LIKE '%pg_sleep%'"
        )) > 0
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert_eq!(status.code(), Some(143), "{log}{rest}");
    assert_dropped(&db, &name);
}

/// A LOGIN role without CREATEDB, dropped at the end.
struct Role(String, String);
impl Drop for Role {
    fn drop(&mut self) {
        let _ =
            std::panic::catch_unwind(|| query(&self.1, &format!("DROP ROLE IF EXISTS {}", self.0)));
    }
}

#[test]
fn verify_without_createdb_exits_5_naming_createdb() {
    let db = cluster().create_db("verify_nocreatedb");
    let role = Role(unique("pgboot_nocreatedb"), db.url.clone());
    let pw = "role-pw-4242";
    query(
        &db.url,
        &format!("CREATE ROLE {} LOGIN NOCREATEDB PASSWORD '{pw}'", role.0),
    );
    let url = format!(
        "postgres://{}:{pw}@127.0.0.1:{}/{}?sslmode=disable",
        role.0, db.port, db.name
    );
    let dir = migrations(&[("001_a.sql", "CREATE TABLE IF NOT EXISTS a (id int);\n")]);
    let r = pgboot(&url, dir.path(), &["verify"]);
    assert_eq!(r.code, 5, "{}", r.all());
    // CREATEDB, and the advice `ALTER ROLE "<role>" CREATEDB` (the role name is redacted).
    assert!(
        r.stderr
            .contains(&format!("ALTER ROLE \"{}\" CREATEDB", role.0)),
        "{}",
        r.stderr
    );
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("verify_without_createdb", r.stderr);
    assert!(!r.all().contains(pw));
}

#[test]
fn check_tenancy_reports_every_rule_and_strict_exits_7() {
    let db = cluster().create_db("tenancy_broken");
    let dir = migrations(&[("001_t.sql", &format!("{GOOD_TENANCY}{BROKEN_TABLE}"))]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());

    let r = pgboot(&db.url, dir.path(), &["check-tenancy"]);
    assert_eq!(r.code, 0, "{}", r.all());
    for rule in [
        "tenant_id_type",
        "tenant_index",
        "rls_enabled",
        "rls_forced",
        "tenant_policy",
    ] {
        assert!(
            r.stdout
                .lines()
                .any(|l| l.starts_with("public.leaky") && l.contains(rule)),
            "{rule} missing: {}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains("public.notes"), "{}", r.stdout);

    let r = pgboot(&db.url, dir.path(), &["check-tenancy", "--strict"]);
    assert_eq!(r.code, 7, "{}", r.all());

    let r = pgboot(&db.url, dir.path(), &["check-tenancy", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let arr: serde_json::Value = serde_json::from_str(r.stdout.trim()).expect("a JSON array");
    // Five findings, all on public.leaky, each with a message; only rls_forced is a warning.
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("check_tenancy_json", arr);
}

#[test]
fn migrate_check_tenancy_strict() {
    let good = cluster().create_db("tenancy_good");
    let dir = migrations(&[("001_t.sql", GOOD_TENANCY)]);
    let r = pgboot(
        &good.url,
        dir.path(),
        &["migrate", "--check-tenancy", "--strict"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("1 tenant-scoped tables, 0 errors"),
        "{}",
        r.stderr
    );

    let bad = cluster().create_db("tenancy_bad");
    let dir = migrations(&[("001_t.sql", GOOD_TENANCY), ("002_leaky.sql", BROKEN_TABLE)]);
    let r = pgboot(&bad.url, dir.path(), &["migrate", "--check-tenancy"]);
    assert_eq!(
        r.code,
        0,
        "without --strict findings are warnings: {}",
        r.all()
    );
    assert!(r.stderr.contains("public.leaky"), "{}", r.stderr);
    let r = pgboot(
        &bad.url,
        dir.path(),
        &["migrate", "--check-tenancy", "--strict"],
    );
    assert_eq!(r.code, 7, "{}", r.all());
    // The public.leaky findings (rls_enabled, ...) and the error.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("migrate_check_tenancy_strict_fails", r.stderr);
    // The migrations themselves were applied and recorded.
    assert_eq!(bad.count("SELECT count(*) FROM pgboot.schema_history"), 2);
}

#[test]
fn cancelling_pairs_are_information_not_findings() {
    let db = cluster().create_db("verify_pairs");
    let dir = migrations(&[
        (
            "001_t.sql",
            "CREATE TABLE IF NOT EXISTS t (id int, a text);\n",
        ),
        (
            "002_idx.sql",
            "-- an index\nCREATE INDEX IF NOT EXISTS t_a_idx ON t (a);\n",
        ),
        ("003_tmp.sql", "CREATE TABLE IF NOT EXISTS tmp (id int);\n"),
        ("004_drop_tmp.sql", "DROP TABLE IF EXISTS tmp;\n"),
        ("005_drop_idx.sql", "DROP INDEX IF EXISTS t_a_idx;\n"),
    ]);
    let r = verify(&db, dir.path(), false);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("info: 002_idx.sql:2 CREATE INDEX t_a_idx: its second run changes the catalog until 005_drop_idx.sql undoes it (+ index public.t t_a_idx); not a finding"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("info: 003_tmp.sql:1 CREATE TABLE tmp: its second run changes the catalog until 004_drop_tmp.sql undoes it"),
        "{}",
        r.stdout
    );
    // A table created and dropped again is not "adds rows".
    assert!(!r.all().contains("adds rows"), "{}", r.all());
    assert!(!r.all().contains("is not idempotent"), "{}", r.all());
    // A log line per phase, with counts.
    for phase in [
        "verify: first run: applied 5 files",
        "verify: second run: 5 files, 5 statements, 0 failed",
        "verify: snapshot after the second run: 0 lines differ",
    ] {
        assert!(r.stderr.contains(phase), "{phase}: {}", r.stderr);
    }
    let r = verify(&db, dir.path(), true);
    let _scratch2 = scratch_guard(&r);
    assert_eq!(r.code, 0, "{}", r.all());
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(out["findings"], serde_json::json!([]));
    assert_eq!(out["info"].as_array().unwrap().len(), 2, "{out:#}");
    assert_eq!(out["info"][0]["undone_by"], "005_drop_idx.sql");
}

#[test]
fn a_real_non_idempotent_file_among_cancelling_pairs_is_a_finding_with_its_line() {
    let db = cluster().create_db("verify_real");
    let dir = migrations(&[
        ("001_t.sql", "CREATE TABLE IF NOT EXISTS t (id int);\n"),
        ("002_drop.sql", "DROP TABLE IF EXISTS t;\n"),
        (
            "003_type.sql",
            &format!("{HEADER}CREATE TYPE mood AS ENUM ('ok', 'meh');\n"),
        ),
        (
            "004_old.sql",
            "CREATE TABLE IF NOT EXISTS old_name (id int);\n",
        ),
        (
            "005_rename.sql",
            "DO $$ BEGIN\n  IF to_regclass('public.new_name') IS NULL THEN\n    ALTER TABLE old_name RENAME TO new_name;\n  END IF;\nEND $$;\n",
        ),
    ]);
    let r = verify(&db, dir.path(), true);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 7, "{}", r.all());
    let out: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    // 003_type.sql:3 CREATE TYPE mood (42710, already exists); 004_old.sql:1 CREATE TABLE
    // old_name (its second run creates the table again and nothing drops it: + relation,
    // + rows 0 and the column, not "adds rows"); 001/002 are information.
    let _s = snap::settings().bind_to_scope();
    insta::assert_json_snapshot!("verify_json_real_and_pairs", out, { ".database" => "[scratch]" });
    assert_dropped(&db, &scratch_name(&r));
}

#[test]
fn a_first_run_failure_says_it_happened_in_the_scratch_database() {
    let db = cluster().create_db("verify_first_fails");
    let dir = migrations(&[(
        "001_a.sql",
        "-- pgboot:no-transaction\nCREATE TABLE IF NOT EXISTS a (id int);\nSELECT 1/0;\n",
    )]);
    let r = verify(&db, dir.path(), false);
    let _scratch = scratch_guard(&r);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("001_a.sql:3"), "{}", r.stderr);
    assert!(
        r.stderr.contains("note: this ran in the scratch database, which is dropped at the end: nothing was applied to the target database or recorded in its history"),
        "{}",
        r.stderr
    );
    // Not the notes about a history that went with the scratch database.
    assert!(!r.stderr.contains("recorded as failed"), "{}", r.stderr);
    assert!(!r.stderr.contains("pgboot repair"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("created the history table"),
        "{}",
        r.stderr
    );
    assert_dropped(&db, &scratch_name(&r));
    assert_eq!(db.one("SELECT to_regclass('public.a')::text"), None);
}

#[test]
fn a_file_that_empties_the_search_path_does_not_leak_into_the_second_runs_snapshot() {
    let db = cluster().create_db("verify_search_path");
    let dir = migrations(&[
        (
            "001_types.sql",
            "DO $$ BEGIN\n  IF to_regtype('public.mood') IS NULL THEN CREATE TYPE public.mood AS ENUM ('ok'); END IF;\nEND $$;\n\
             CREATE TABLE IF NOT EXISTS public.t (m public.mood);\n",
        ),
        (
            "002_dump_header.sql",
            "SELECT pg_catalog.set_config('search_path', '', false);\n\
             CREATE TABLE IF NOT EXISTS public.u (m public.mood);\n",
        ),
    ]);
    let r = verify(&db, dir.path(), false);
    let _scratch = scratch_guard(&r);
    // Without a fresh session per file, the second snapshot renders `public.mood` where the
    // first rendered `mood`: a difference no file made.
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("is not idempotent"), "{}", r.stdout);
    assert_dropped(&db, &scratch_name(&r));
}
