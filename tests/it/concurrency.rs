//! Racing replicas, the lock, signals and session timeouts.

use crate::support::*;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn spawn(url: &str, dir: &std::path::Path, args: &[&str]) -> Child {
    pgboot_cmd()
        .env("DATABASE_URL", url)
        .env("PGBOOT_MIGRATIONS", dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_for(db: &TestDb, sql: &str, what: &str) {
    assert!(
        eventually(Duration::from_secs(20), || db.count(sql) > 0),
        "timed out waiting for {what}"
    );
}

/// Advisory locks in this test's database (other tests run in parallel in other databases).
const ADVISORY: &str = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

const SLEEPING: &str = "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid() AND datname = current_database()";

#[test]
fn eight_concurrent_runs_apply_everything_exactly_once() {
    let db = cluster().create_db("race");
    let dir = migrations(&[
        ("001_table.sql", "CREATE TABLE runs (migration text);\nINSERT INTO runs VALUES ('001');\nSELECT pg_sleep(0.5);\n"),
        ("002_index.sql", "CREATE INDEX CONCURRENTLY runs_migration ON runs (migration);\nINSERT INTO runs VALUES ('002');\n"),
        ("003_more.sql", "INSERT INTO runs VALUES ('003');\n"),
    ]);
    let children: Vec<Child> = (0..8)
        .map(|_| spawn(&db.url, dir.path(), &["migrate"]))
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().into())
        .collect();
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.all());
    }
    assert_eq!(
        db.count("SELECT count(*) FROM runs"),
        3,
        "a migration ran more than once"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM (SELECT DISTINCT migration FROM runs) d"),
        3
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE success"),
        3
    );
    assert_eq!(
        db.one(
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'runs_migration'::regclass"
        )
        .as_deref(),
        Some("true")
    );
    let applied: usize = runs
        .iter()
        .filter(|r| r.stderr.contains("applied 3,"))
        .count();
    assert_eq!(applied, 1, "exactly one run applies the files");
    assert!(
        runs.iter().any(|r| r
            .stderr
            .contains("waiting for the migration lock, held by pid")
            && r.stderr.contains("pgboot@")),
        "nobody logged the lock holder"
    );
    assert_eq!(db.count(ADVISORY), 0, "lock left behind");
}

fn interrupt(signal: i32, expected: i32) {
    let db = cluster().create_db("signal");
    let dir = migrations(&[(
        "001_slow.sql",
        "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n",
    )]);
    let child = spawn(&db.url, dir.path(), &["migrate"]);
    wait_for(&db, SLEEPING, "the migration to start sleeping");
    let started = Instant::now();
    unsafe { libc::kill(child.id() as i32, signal) };
    let r: Run = child.wait_with_output().unwrap().into();
    let took = started.elapsed();
    assert_eq!(r.code, expected, "{}", r.all());
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(
        db.count(SLEEPING),
        0,
        "the query is still running on the server"
    );
    assert_eq!(db.count(ADVISORY), 0, "lock not released");
    assert_eq!(
        db.one("SELECT to_regclass('slow')::text"),
        None,
        "not rolled back"
    );
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 0);
    // "interrupted by" the signal.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!(format!("interrupted_exit_{expected}"), r.stderr);
}

#[test]
fn sigterm_cancels_rolls_back_unlocks_and_exits_143() {
    interrupt(libc::SIGTERM, 143);
}

#[test]
fn sigint_exits_130() {
    interrupt(libc::SIGINT, 130);
}

#[test]
fn lock_timeout_exits_6_and_names_the_holder() {
    let db = cluster().create_db("locktimeout");
    let dir = migrations(&[("001_slow.sql", "SELECT pg_sleep(30);\n")]);
    let holder = spawn(&db.url, dir.path(), &["migrate"]);
    wait_for(&db, SLEEPING, "the first run to hold the lock");
    let r = pgboot(&db.url, dir.path(), &["migrate", "--lock-timeout", "1s"]);
    unsafe { libc::kill(holder.id() as i32, libc::SIGTERM) };
    let h: Run = holder.wait_with_output().unwrap().into();
    assert_eq!(h.code, 143, "{}", h.all());
    assert_eq!(r.code, 6, "{}", r.all());
    // "held by pid", "pgboot@<host>".
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("lock_timeout", r.stderr);
}

#[test]
fn session_statement_timeout_applies_to_migrations() {
    let db = cluster().create_db("stmttimeout");
    let dir = migrations(&[(
        "001_slow.sql",
        "CREATE TABLE t (id int);\nSELECT pg_sleep(5);\n",
    )]);
    let started = Instant::now();
    let r = pgboot(&db.url, dir.path(), &["--statement-timeout", "300ms"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(started.elapsed() < Duration::from_secs(4));
    // 57014.
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("statement_timeout", r.stderr);
    assert_eq!(db.one("SELECT to_regclass('t')::text"), None);
}
