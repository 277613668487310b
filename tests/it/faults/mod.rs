//! Fault injection: kill -9 of pgboot and of the postmaster at random points of a run, each
//! followed by a rerun that must finish the job exactly once; and 32 racing replicas.
//!
//! The schedule is drawn from a seeded PRNG; the seed is printed (`PGBOOT_FAULT_SEED=<n>`
//! replays it). `PGBOOT_FAULT_KILLS` sets the number of kills: `A+B` (A of pgboot, B of the
//! postmaster) or `N` (half each); default `10+10`. `PGBOOT_FAULT_FILES` sets the size of the
//! migration set (default 300). bench/faults.sh runs a long version.
//!
//! Every round runs on a fresh database of a private cluster, so each kill lands in a run that
//! still has work to do; the kill times are uniform over the duration of an unkilled run of the
//! same set, measured first (the calibration round, itself checked).
//!
//! The tests stay in this file, so `faults::kill_9` (bench/faults.sh) and the README's filters
//! still name them; `rounds` runs the kill rounds, `cluster` is the server side.

mod cluster;
mod rounds;

use crate::support::faultset::{self, Expect, FaultSet};
use crate::support::*;
use cluster::{crash, SETTLE};
use rounds::{kill_suite, kills, Kill};

use std::process::{Child, Stdio};
use std::time::Instant;

#[test]
fn kill_9_pgboot_mid_run_then_rerun_applies_everything_exactly_once() {
    let (n, _) = kills();
    kill_suite(Kill::Pgboot, n, 0);
}

#[test]
fn kill_9_postmaster_mid_run_then_recovery_and_rerun_apply_everything_exactly_once() {
    let (_, n) = kills();
    kill_suite(Kill::Postmaster, n, 0x9e37_79b9_7f4a_7c15);
}

/// Every transactional file but the last commits without waiting for the WAL flush. A server
/// crash right after pgboot exits 0 — or exits 1 on a failed file — must lose nothing it
/// recorded. `wal_writer_delay = 10s` keeps the WAL writer from flushing those commits first,
/// so without the run's closing synchronous commit this test loses files.
#[test]
fn server_crash_right_after_the_run_loses_no_recorded_file() {
    let c = Cluster::init_with(&[
        "synchronous_commit = on",
        "wal_writer_delay = 10s",
        "log_min_messages = fatal",
    ]);
    c.start();
    let good: Vec<(String, String)> = (1..=30)
        .map(|v| {
            (
                format!("{v:03}_t.sql"),
                format!(
                    "CREATE TABLE t_{v:03} (id int);\nINSERT INTO t_{v:03} VALUES ({v});\n\
                     SELECT current_setting('synchronous_commit') AS status;\n"
                ),
            )
        })
        .collect();
    let mut failing = good.clone();
    failing.push(("031_fails.sql".into(), "SELECT 1 / 0;\n".into()));
    // (case, files, extra args, exit code, synchronous_commit inside each applied file)
    type Case<'a> = (
        &'a str,
        &'a [(String, String)],
        &'a [&'a str],
        i32,
        Vec<&'a str>,
    );
    let cases: [Case; 3] = [
        (
            "exit 0",
            &good,
            &[],
            0,
            [vec!["off"; 29], vec!["on"]].concat(),
        ),
        ("exit 1", &failing, &[], 1, vec!["off"; 30]),
        (
            "--sync-every-file",
            &good,
            &["--sync-every-file"],
            0,
            vec!["on"; 30],
        ),
    ];
    for (case, files, args, code, modes) in cases {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_str()))
            .collect();
        let dir = migrations(&refs);
        let db = c.create_db("durable");
        let r = pgboot(&db.url, dir.path(), &[&["migrate"], args].concat());
        assert_eq!(r.code, code, "{case}: {}", r.all());
        let seen: Vec<&str> = r
            .stderr
            .lines()
            .filter_map(|l| l.split("status: ").nth(1))
            .map(|v| v.split_whitespace().next().unwrap_or(""))
            .collect();
        assert_eq!(
            seen, modes,
            "{case}: synchronous_commit per file\n{}",
            r.stderr
        );
        crash(&c);
        let recorded = count(
            &db.url,
            "SELECT count(*) FROM pgboot.schema_history WHERE success",
        );
        let tables = count(
            &db.url,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 't\\_%' AND relkind = 'r'",
        );
        assert_eq!(
            (recorded, tables),
            (30, 30),
            "{case}: files recorded and tables kept after a crash right after exit {code}"
        );
        let sum: Vec<String> = (1..=30)
            .map(|v| format!("(SELECT count(*) FROM t_{v:03})"))
            .collect();
        let rows = count(&db.url, &format!("SELECT {}", sum.join(" + ")));
        assert_eq!(rows, 30, "{case}: rows kept");
        drop(db);
    }
    c.stop();
}

#[test]
fn thirty_two_racers_on_two_hundred_files() {
    let db = cluster().create_db("racers");
    let set = FaultSet::generate(200, 50, "r", 0.05);
    let dir = set.dir();
    let started = Instant::now();
    let children: Vec<Child> = (0..32)
        .map(|_| {
            pgboot_cmd()
                .env("DATABASE_URL", &db.url)
                .env("PGBOOT_MIGRATIONS", dir.path())
                .args(["migrate", "--lock-timeout", "300s"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap().into())
        .collect();
    let wall = started.elapsed();
    let codes: Vec<i32> = runs.iter().map(|r| r.code).collect();
    let per_file = db.query(
        "SELECT n::text, count(*)::text FROM (SELECT version, count(*) FILTER (WHERE success) n \
         FROM pgboot.schema_history GROUP BY version) h GROUP BY n ORDER BY n",
    );
    let rows: Vec<String> = per_file
        .iter()
        .map(|r| {
            format!(
                "{} file(s) with {} success row(s)",
                r[1].as_deref().unwrap(),
                r[0].as_deref().unwrap()
            )
        })
        .collect();
    eprintln!(
        "32 racers, {} files: exit codes {codes:?}; history: {}; wall time {:.1}s",
        set.count(),
        rows.join(", "),
        wall.as_secs_f64()
    );
    for r in &runs {
        assert_eq!(r.code, 0, "{}", r.all());
    }
    assert_eq!(
        rows,
        vec![format!("{} file(s) with 1 success row(s)", set.count())]
    );
    let v = faultset::check(&db.url, &set, Expect::Complete, SETTLE, true);
    assert!(v.is_empty(), "{}", v.join("\n"));
}
