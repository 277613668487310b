//! Exactly once, with real faults: a lost lock connection, kill -9 of pgboot inside a
//! transactional and a non-transactional file, an interrupted CREATE INDEX CONCURRENTLY, COPY
//! from the client, and another tool's history table. (PgBouncer and the seeded fault suite are
//! in `pgbouncer` and `faults`.)

use crate::support::*;

use std::process::{Child, Stdio};
use std::time::Duration;

fn spawn(url: &str, dir: &std::path::Path, extra_env: &[(&str, &str)]) -> Child {
    let mut cmd = pgboot_cmd();
    cmd.env("DATABASE_URL", url)
        .env("PGBOOT_MIGRATIONS", dir)
        .arg("migrate")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

fn wait_until(db: &TestDb, sql: &str, what: &str) {
    assert!(
        eventually(Duration::from_secs(20), || db.count(sql) > 0),
        "timed out waiting for {what}"
    );
}

fn sleeping(secs: &str) -> String {
    format!("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep({secs})%' AND pid <> pg_backend_pid() AND datname = current_database()")
}

/// Each marker of the ledger, with how often it was inserted.
fn ledger(db: &TestDb) -> Vec<(String, i64)> {
    db.query("SELECT step, count(*) FROM ledger GROUP BY step ORDER BY step")
        .into_iter()
        .map(|r| {
            let step = r[0].clone().unwrap_or_default();
            (step, r[1].as_deref().unwrap_or("0").parse().unwrap())
        })
        .collect()
}

fn once(steps: &[&str]) -> Vec<(String, i64)> {
    steps.iter().map(|s| (s.to_string(), 1)).collect()
}

const LEDGER: (&str, &str) = ("000_ledger.sql", "CREATE TABLE ledger (step text);\n");

const NO_TX: &str = "-- pgboot:no-transaction\nINSERT INTO ledger VALUES ('step 1');\nSELECT pg_sleep(3);\nINSERT INTO ledger VALUES ('step 3');\n";

#[test]
fn kill_9_inside_a_non_transactional_file_resumes_without_repeating() {
    let db = cluster().create_db("kill_notx");
    let dir = migrations(&[LEDGER, ("001_steps.sql", NO_TX)]);
    let mut child = spawn(&db.url, dir.path(), &[]);
    wait_until(&db, &sleeping("3"), "the sleep");
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The backend of the killed run is still sleeping; the rerun must not repeat step 1.
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("resuming 001_steps"), "{}", r.all());
    assert_eq!(ledger(&db), once(&["step 1", "step 3"]));
    let row = db.one("SELECT success::text || ' ' || progress FROM pgboot.schema_history WHERE name = '001_steps'");
    assert_eq!(row.as_deref(), Some("true 3"));
}

#[test]
fn kill_9_during_a_long_transactional_statement_and_an_immediate_rerun() {
    let db = cluster().create_db("kill_tx");
    let dir = migrations(&[
        LEDGER,
        (
            "001_slow.sql",
            "INSERT INTO ledger VALUES ('slow');\nSELECT pg_sleep(2);\n",
        ),
        ("002_next.sql", "INSERT INTO ledger VALUES ('next');\n"),
    ]);
    let mut child = spawn(&db.url, dir.path(), &[]);
    wait_until(&db, &sleeping("2"), "the sleep");
    child.kill().unwrap();
    child.wait().unwrap();
    // At once: the orphaned backend still holds the file lock inside its transaction.
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(ledger(&db), once(&["next", "slow"]));
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE success"),
        3
    );
}

#[test]
fn terminating_the_lock_connection_stops_the_run_before_its_next_statement() {
    let db = cluster().create_db("lock_lost");
    let dir = migrations(&[
        LEDGER,
        ("001_steps.sql", NO_TX),
        ("002_after.sql", "INSERT INTO ledger VALUES ('after');\n"),
    ]);
    let child = spawn(&db.url, dir.path(), &[]);
    wait_until(&db, &sleeping("3"), "the sleep");
    // The session lock's holder: pgboot's idle lock connection.
    let killed = db.count("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid IN (SELECT pid FROM pg_stat_activity WHERE state = 'idle' AND datname = current_database())) t");
    assert_eq!(killed, 1, "one lock holder");
    let out = child.wait_with_output().unwrap();
    let r: Run = out.into();
    assert_eq!(r.code, 6, "{}", r.all());
    assert!(r.stderr.contains("migration lock was lost"), "{}", r.all());
    // Step 3 never ran after the lock was gone; 002 neither.
    assert_eq!(ledger(&db), once(&["step 1"]));
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(ledger(&db), once(&["after", "step 1", "step 3"]));
}

#[test]
fn idle_session_timeout_does_not_take_the_lock_away() {
    let db = cluster().create_db("idle_timeout");
    if db.count("SELECT current_setting('server_version_num')::int") < 140000 {
        eprintln!("idle_session_timeout needs PostgreSQL 14+: skipped");
        return;
    }
    db.query(&format!(
        "ALTER DATABASE \"{}\" SET idle_session_timeout = '1s'",
        db.name
    ));
    let dir = migrations(&[LEDGER, ("001_steps.sql", NO_TX)]);
    let first = spawn(&db.url, dir.path(), &[]);
    wait_until(&db, &sleeping("3"), "the sleep");
    sleep_ms(1500);
    // A second run 1.5 s later: the first one's idle lock connection must still hold the lock.
    let second = pgboot(&db.url, dir.path(), &["migrate"]);
    let first: Run = first.wait_with_output().unwrap().into();
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(ledger(&db), once(&["step 1", "step 3"]));
}

#[test]
fn an_interrupted_create_index_concurrently_is_rebuilt_not_recorded_invalid() {
    let db = cluster().create_db("cic");
    let dir = migrations(&[
        LEDGER,
        (
            "001_index.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_step ON ledger (step);\nINSERT INTO ledger VALUES ('indexed');\n",
        ),
    ]);
    // Build the set up to 000, then leave an INVALID index of that name, as an interrupted
    // build does (a unique index over duplicates fails the same way).
    let zero = migrations(&[LEDGER]);
    assert_eq!(pgboot(&db.url, zero.path(), &["migrate"]).code, 0);
    db.query("INSERT INTO ledger VALUES ('dup'), ('dup')");
    let _ = try_query(
        &db.url,
        "CREATE UNIQUE INDEX CONCURRENTLY ledger_step ON ledger (step)",
    );
    db.query("DELETE FROM ledger");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_index WHERE NOT indisvalid AND indexrelid = 'ledger_step'::regclass"),
        1
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("left INVALID"), "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pg_index WHERE NOT indisvalid"),
        0
    );
    // Rebuilt as the file says: not unique.
    assert_eq!(
        db.one("SELECT indisunique::text FROM pg_index WHERE indexrelid = 'ledger_step'::regclass")
            .as_deref(),
        Some("false")
    );
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
}

#[test]
fn copy_rows_inline_load_and_copy_to_the_client_is_refused() {
    // pg_dump's format: the rows follow the statement, up to \.; in a transactional file and
    // in a non-transactional one (a statement of its own there).
    for (name, directive) in [
        ("001_dump.sql", ""),
        ("002_dump.sql", "-- pgboot:no-transaction\n"),
    ] {
        let table = name.replace(".sql", "").replace("0", "t");
        let sql = format!("{directive}CREATE TABLE {table} (a int, b text);\n\nCOPY public.{table} (a, b) FROM stdin;\n1\tit's\n2\t\\N\n\\.\nSELECT 'done' AS status;\n");
        let dir = migrations(&[(name, &sql)]);
        let db = cluster().create_db("copy");
        let r = pgboot(&db.url, dir.path(), &["migrate"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM {table} WHERE b = 'it''s' OR b IS NULL"
            )),
            2
        );
    }
    // A bad row names its own line, and the file is rolled back.
    let dir = migrations(&[(
        "003_bad.sql",
        "CREATE TABLE t3 (a int);\nCOPY t3 FROM stdin;\n1\n2\nthree\n\\.\n",
    )]);
    let db = cluster().create_db("copy_bad");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("003_bad.sql:5"),
        "the row's line: {}",
        r.all()
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 't3'"),
        0
    );
    // COPY … TO STDOUT needs a client terminal: refused before anything runs.
    let dir = migrations(&[(
        "004_out.sql",
        "-- pgboot:no-transaction\nCREATE TABLE t4 (a int);\nCOPY (SELECT 1) TO STDOUT;\n",
    )]);
    let db = cluster().create_db("copy_out");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("004_out.sql:3:1: COPY"), "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 't4'"),
        0
    );
    let p = pgboot(&db.url, dir.path(), &["plan"]);
    assert_eq!(p.code, 2, "plan names the stop too: {}", p.all());
}

#[test]
fn another_tools_history_table_exits_4_and_says_what_it_looks_like() {
    let db = cluster().create_db("foreign");
    db.query("CREATE TABLE public.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)");
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);\n")]);
    let cmd = |args: &[&str]| {
        let mut c = pgboot_cmd();
        c.env("DATABASE_URL", &db.url)
            .env("PGBOOT_MIGRATIONS", dir.path())
            .env("PGBOOT_HISTORY_TABLE", "public.schema_migrations")
            .args(args);
        run(&mut c)
    };
    for args in [&["migrate"][..], &["status"], &["validate"]] {
        let r = cmd(args);
        assert_eq!(r.code, 4, "{args:?}: {}", r.all());
        assert!(r.stderr.contains("golang-migrate"), "{}", r.all());
        assert!(r.stderr.contains("--history-table"), "{}", r.all());
    }
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'a'"),
        0
    );
    // A pgboot table with a row it cannot read: exit 4 as well, not a raw SQL error.
    let db = cluster().create_db("nullsum");
    assert_eq!(pgboot(&db.url, dir.path(), &["migrate"]).code, 0);
    db.query("ALTER TABLE pgboot.schema_history ALTER checksum DROP NOT NULL; UPDATE pgboot.schema_history SET checksum = NULL");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(r.stderr.contains("no checksum"), "{}", r.all());
}

#[test]
fn a_history_table_of_pgboot_0_1_gets_the_new_columns() {
    let db = cluster().create_db("upgrade");
    db.query("CREATE SCHEMA pgboot; CREATE TABLE pgboot.schema_history (version bigint NOT NULL, name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), execution_ms double precision NOT NULL, applied_by text NOT NULL DEFAULT current_user, pgboot_version text NOT NULL, transactional boolean NOT NULL, success boolean NOT NULL, kind text NOT NULL DEFAULT 'migrate')");
    let dir = migrations(&[LEDGER, ("001_steps.sql", NO_TX)]);
    let s = pgboot(&db.url, dir.path(), &["status"]);
    assert_eq!(s.code, 0, "{}", s.all());
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE success AND progress = 3"),
        1
    );
}

#[test]
fn a_signal_while_waiting_for_the_database_says_nothing_ran() {
    let port = free_port(); // nobody listens there
    let dir = migrations(&[LEDGER]);
    let child = pgboot_cmd()
        .env("DATABASE_URL", url(port, "nowhere"))
        .env("PGBOOT_MIGRATIONS", dir.path())
        .args(["migrate", "--wait-timeout", "30s"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    sleep_ms(500);
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 143, "{}", r.all());
    assert!(
        r.stderr
            .contains("while waiting for the database; nothing had run"),
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("rolled back"), "{}", r.all());
}

/// 53300 (too many clients) on the lock connection is waited out like on the first connection,
/// not reported as a failed migration.
#[test]
fn too_many_clients_on_the_lock_connection_is_retried() {
    let c = Cluster::init_with(&["max_connections = 4", "superuser_reserved_connections = 0"]);
    c.start();
    let url = c.url("postgres");
    // Three sessions busy for 3 s leave one slot: pgboot's first connection gets it.
    let busy: Vec<Child> = (0..3)
        .map(|_| {
            std::process::Command::new("psql")
                .arg(&url)
                .args(["-Xqc", "SELECT pg_sleep(3)"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    assert!(
        eventually(Duration::from_secs(10), || {
            try_query(&url, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' AND pid <> pg_backend_pid()")
                .ok()
                .and_then(|r| r.first()?.first()?.clone())
                .as_deref()
                == Some("3")
        }),
        "the busy sessions"
    );
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);\n")]);
    let r = pgboot(&url, dir.path(), &["migrate", "--wait-timeout", "20s"]);
    for mut b in busy {
        let _ = b.wait();
    }
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("too many clients"),
        "it had to wait: {}",
        r.all()
    );
    // The lock connection, the second one, logs "connected" only when it had to wait.
    assert_eq!(r.stderr.matches("INFO connected").count(), 2, "{}", r.all());
    assert_eq!(count(&url, "SELECT count(*) FROM pgboot.schema_history"), 1);
    c.stop();
}

/// SIGTERM while the backend cannot answer the cancel (stopped with SIGSTOP): after the grace
/// period pgboot says the cancel was not confirmed, and exits 143 anyway.
#[test]
fn an_unconfirmed_cancel_is_reported_as_such() {
    if std::env::var("PGBOOT_TEST_PORT").is_ok() {
        eprintln!("the backend's pid is not ours to signal on an external server: skipped");
        return;
    }
    let db = cluster().create_db("unconfirmed");
    let dir = migrations(&[("001_slow.sql", "SELECT pg_sleep(20);\n")]);
    let child = spawn(&db.url, dir.path(), &[]);
    wait_until(&db, &sleeping("20"), "the sleep");
    let backend = db
        .one("SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid() AND datname = current_database()")
        .unwrap();
    let backend: i32 = backend.parse().unwrap();
    unsafe {
        libc::kill(backend, libc::SIGSTOP);
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let started = std::time::Instant::now();
    let r: Run = child.wait_with_output().unwrap().into();
    let took = started.elapsed();
    unsafe {
        libc::kill(backend, libc::SIGCONT);
    }
    db.query(&format!("SELECT pg_terminate_backend({backend})"));
    assert_eq!(r.code, 143, "{}", r.all());
    assert!(
        r.stderr.contains("did not confirm the cancel"),
        "{}",
        r.all()
    );
    assert!(took < Duration::from_secs(10), "it took {took:?}");
}
