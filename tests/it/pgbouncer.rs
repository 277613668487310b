//! pgboot behind a real PgBouncer (support/pgbouncer.rs), in transaction and session pooling,
//! with the default lock mode (auto), which has to detect the pooler.
//!
//! The invariants are checked on a direct connection to the server, never through the pooler:
//! a session advisory lock taken through a transaction pooler stays on whichever server
//! connection ran it, and the pool keeps that connection open after every client has left.

use crate::support::faultset::{self, Expect, FaultSet};
use crate::support::pgbouncer::{PgBouncer, PoolMode};
use crate::support::*;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// 102 files: 100 transactional (000 creates the ledger), 034 and 068 without a transaction.
fn racer_set() -> FaultSet {
    FaultSet::generate(102, 34, "t", 0.3)
}

struct Racer {
    child: Child,
    stderr: tempfile::NamedTempFile,
}

/// `n` concurrent `pgboot migrate` runs through `url`; their exit codes (-9: killed after
/// `limit`) and stderr.
fn race(url: &str, dir: &std::path::Path, n: usize, limit: Duration) -> Vec<Run> {
    let racers: Vec<Racer> = (0..n)
        .map(|_| {
            let stderr = tempfile::NamedTempFile::new().unwrap();
            let child = pgboot_cmd()
                .env("DATABASE_URL", url)
                .env("PGBOOT_MIGRATIONS", dir)
                .args(["migrate", "--lock-timeout", "30s"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr.reopen().unwrap())
                .spawn()
                .unwrap();
            Racer { child, stderr }
        })
        .collect();
    let started = Instant::now();
    racers
        .into_iter()
        .map(|mut r| {
            let code = loop {
                if let Some(s) = r.child.try_wait().unwrap() {
                    break s.code().unwrap_or(-1);
                }
                if started.elapsed() > limit {
                    let _ = r.child.kill();
                    let _ = r.child.wait();
                    break -9;
                }
                sleep_ms(20);
            };
            Run {
                code,
                stdout: String::new(),
                stderr: std::fs::read_to_string(r.stderr.path()).unwrap_or_default(),
            }
        })
        .collect()
}

/// The first error-ish lines of each failed run, for the assertion message.
fn failures(runs: &[Run]) -> String {
    runs.iter()
        .enumerate()
        .filter(|(_, r)| r.code != 0)
        .map(|(i, r)| {
            let lines: Vec<&str> = r
                .stderr
                .lines()
                .filter(|l| !l.contains(" INFO "))
                .take(4)
                .collect();
            format!("racer {i}: exit {}: {}", r.code, lines.join(" / "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn eight_racers_exactly_once(mode: PoolMode) {
    let db = cluster().create_db(&format!("bouncer_{}", mode.as_str()));
    let bouncer = PgBouncer::start(cluster(), mode);
    let set = racer_set();
    let dir = set.dir();
    let started = Instant::now();
    let runs = race(
        &bouncer.url(&db.name),
        dir.path(),
        8,
        Duration::from_secs(180),
    );
    let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    // Checked on the server directly, while the pooler (and its server connections) still run.
    let violations = faultset::check(
        &db.url,
        &set,
        Expect::Complete,
        Duration::from_secs(3),
        false,
    );
    eprintln!(
        "pgbouncer {} pooling, 8 racers, {} files: exit codes {codes:?} in {:.1}s; violations: {}",
        mode.as_str(),
        set.count(),
        started.elapsed().as_secs_f64(),
        if violations.is_empty() {
            "none".to_owned()
        } else {
            violations.join(" || ")
        }
    );
    assert!(
        codes.iter().all(|&c| c == 0) && violations.is_empty(),
        "{} pooling broke \"exactly once\":\nexit codes {codes:?}\n{}\n{}",
        mode.as_str(),
        violations.join("\n"),
        failures(&runs)
    );
}

#[test]
fn transaction_pooling_eight_racers_apply_every_statement_exactly_once() {
    eight_racers_exactly_once(PoolMode::Transaction);
}

#[test]
fn session_pooling_eight_racers_apply_every_statement_exactly_once() {
    eight_racers_exactly_once(PoolMode::Session);
}

#[test]
fn transaction_pooling_later_runs_are_not_blocked_after_a_race() {
    let db = cluster().create_db("bouncer_later");
    let bouncer = PgBouncer::start(cluster(), PoolMode::Transaction);
    let set = racer_set();
    let dir = set.dir();
    let url = bouncer.url(&db.name);
    let runs = race(&url, dir.path(), 8, Duration::from_secs(180));
    let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    // A deploy later: nothing to do, so every run must be done in well under its lock timeout.
    let mut later = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let r = pgboot(&url, dir.path(), &["migrate", "--lock-timeout", "10s"]);
        later.push((r.code, started.elapsed(), r));
    }
    let leftover = faultset::leftovers(&db.url, Duration::from_secs(3), false);
    eprintln!(
        "pgbouncer transaction pooling: race exit codes {codes:?}; later runs: {:?}; {}",
        later
            .iter()
            .map(|(c, t, _)| format!("exit {c} in {:.1}s", t.as_secs_f64()))
            .collect::<Vec<_>>(),
        leftover.as_deref().unwrap_or("no lock left")
    );
    for (code, took, r) in &later {
        assert_eq!(*code, 0, "a later run is blocked: {}", r.all());
        assert!(*took < Duration::from_secs(5), "a later run took {took:?}");
    }
    assert_eq!(leftover, None);
}

/// Behind a transaction pooler the startup packet's options are dropped (PgBouncer's
/// `ignore_startup_parameters`): statement_timeout must still hold, sent with SET LOCAL.
#[test]
fn transaction_pooling_keeps_the_statement_timeout() {
    let db = cluster().create_db("bouncer_timeout");
    let bouncer = PgBouncer::start(cluster(), PoolMode::Transaction);
    let dir = migrations(&[(
        "001_slow.sql",
        "CREATE TABLE slow (a int);\nSELECT pg_sleep(3);\n",
    )]);
    let r = pgboot(
        &bouncer.url(&db.name),
        dir.path(),
        &["migrate", "--statement-timeout", "300ms"],
    );
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("57014"), "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'slow'"),
        0
    );
}

/// Forcing a session lock through a transaction pooler is refused before anything runs.
#[test]
fn session_lock_mode_behind_a_transaction_pooler_is_refused() {
    let db = cluster().create_db("bouncer_session");
    let bouncer = PgBouncer::start(cluster(), PoolMode::Transaction);
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);\n")]);
    let mut cmd = pgboot_cmd();
    cmd.env("DATABASE_URL", bouncer.url(&db.name))
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_LOCK_MODE", "session")
        .arg("migrate");
    let r = run(&mut cmd);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("PgBouncer"), "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'a'"),
        0
    );
    // Through session pooling, the session lock is right.
    let session = PgBouncer::start(cluster(), PoolMode::Session);
    let mut cmd = pgboot_cmd();
    cmd.env("DATABASE_URL", session.url(&db.name))
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_LOCK_MODE", "session")
        .arg("migrate");
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}", r.all());
}
