//! The seeded kill rounds: a run of the fault set on a fresh database, killed (pgboot, or the
//! postmaster) at a point drawn from the PRNG, the rerun, and the checks of what they left.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::cluster::*;
use crate::support::faultset::{self, Expect, FaultSet, XorShift};
use crate::support::*;

pub(super) fn kills() -> (usize, usize) {
    let Ok(v) = std::env::var("PGBOOT_FAULT_KILLS") else {
        return (10, 10);
    };
    let bad = || panic!("PGBOOT_FAULT_KILLS is N or A+B (pgboot kills + postmaster kills): {v:?}");
    match v.split_once('+') {
        Some((a, b)) => (
            a.trim().parse().unwrap_or_else(|_| bad()),
            b.trim().parse().unwrap_or_else(|_| bad()),
        ),
        None => {
            let n: usize = v.trim().parse().unwrap_or_else(|_| bad());
            (n - n / 2, n / 2)
        }
    }
}

fn file_count() -> u32 {
    std::env::var("PGBOOT_FAULT_FILES")
        .map(|v| v.parse().expect("PGBOOT_FAULT_FILES is a number"))
        .unwrap_or(300)
}

fn fault_set() -> FaultSet {
    FaultSet::generate(file_count(), 50, "f", 0.2)
}

/// Runs with the default durability mode, spelled out so that the suite keeps covering it: every
/// transactional file but the run's last commits with `synchronous_commit = off` (the fault
/// cluster has it on), so a postmaster kill can lose commits the server acknowledged.
fn spawn_migrate(url: &str, dir: &Path) -> Child {
    pgboot_cmd()
        .env("DATABASE_URL", url)
        .env("PGBOOT_MIGRATIONS", dir)
        .env("PGBOOT_SYNC_EVERY_FILE", "false")
        .arg("migrate")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits up to `limit` for the child; kills it when it takes longer. Its exit code, -9 when killed.
fn wait_child(child: &mut Child, limit: Duration) -> i32 {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or(-9);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return -9;
        }
        sleep_ms(20);
    }
}

/// After a kill, seen from the server: how many files the history has, and which markers of
/// the non-transactional files the ledger has (the most recent last).
fn applied(url: &str) -> String {
    let exists = |t: &str| {
        !query(
            url,
            &format!("SELECT 1 WHERE to_regclass('{t}') IS NOT NULL"),
        )
        .is_empty()
    };
    let history = if exists("pgboot.schema_history") {
        query(
            url,
            "SELECT count(*) FILTER (WHERE success) || ' files in the history' FROM pgboot.schema_history",
        )[0][0]
            .clone()
            .unwrap_or_default()
    } else {
        "no history".into()
    };
    let ledger = if exists("public.ledger") {
        query(
            url,
            "SELECT coalesce(string_agg(file, ' ' ORDER BY at), '') FROM ledger WHERE file NOT LIKE '%:1' \
             OR file IN (SELECT file FROM ledger WHERE file LIKE '%:1' ORDER BY at DESC LIMIT 1)",
        )[0][0]
            .clone()
            .unwrap_or_default()
    } else {
        String::new()
    };
    let invalid = query(
        url,
        "SELECT count(*)::text FROM pg_index WHERE NOT indisvalid",
    )[0][0]
        .clone()
        .unwrap_or_default();
    format!(" ({history}; ledger …{ledger}; {invalid} invalid index(es))")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kill {
    None,
    Pgboot,
    Postmaster,
}

struct Round {
    kill: Kill,
    at_ms: u64,
    /// The killed run's exit code (-9: killed), or the unkilled run's.
    first: i32,
    /// How long the first run lasted.
    first_ms: u64,
    /// Postmaster kills: the whole process group.
    group: bool,
    /// What the killed run left: files in the history, markers of the non-transactional files.
    progress: String,
    /// The rerun's exit code and how long it took.
    rerun: Option<(i32, u64)>,
    violations: Vec<String>,
}

impl Round {
    fn line(&self, i: usize) -> String {
        let rerun = self
            .rerun
            .map(|(c, ms)| format!("rerun exit {c} in {ms} ms"))
            .unwrap_or_default();
        let verdict = if self.violations.is_empty() {
            "ok".to_owned()
        } else {
            format!("FAIL: {}", self.violations.join(" || "))
        };
        format!(
            "round {i:>3} {:?}{}@{}ms: first exit {}{}, {rerun}: {verdict}",
            self.kill,
            if self.group { "+backends" } else { "" },
            self.at_ms,
            self.first,
            self.progress
        )
    }
}

/// One round on a fresh database: run, kill at `at_ms` (unless `Kill::None`), rerun, check.
fn round(c: &Cluster, set: &FaultSet, dir: &Path, kill: Kill, at_ms: u64, group: bool) -> Round {
    let db = c.create_db("fault");
    let mut violations = Vec::new();
    let spawned = Instant::now();
    let mut child = spawn_migrate(&db.url, dir);
    let first;
    let mut progress = String::new();
    match kill {
        Kill::None => first = wait_child(&mut child, Duration::from_secs(300)),
        Kill::Pgboot => {
            sleep_ms(at_ms);
            let _ = child.kill(); // SIGKILL
            first = wait_child(&mut child, Duration::from_secs(10));
            progress = applied(&db.url);
        }
        Kill::Postmaster => {
            sleep_ms(at_ms);
            let pid = postmaster_pid(c);
            // Odd rounds: the postmaster alone; its backends finish the statement they run
            // (a CREATE INDEX CONCURRENTLY completes) and exit when they notice. Even rounds:
            // the whole process group at once (pg_ctl starts the postmaster in a session of its
            // own), as the OOM killer or a power cut would: statements die mid-way.
            if group && unsafe { libc::getpgid(pid) } == pid {
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            } else {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            restart_after_crash(c);
            first = wait_child(&mut child, Duration::from_secs(120));
            progress = applied(&db.url);
            for v in faultset::check(&db.url, set, Expect::Partial, SETTLE, true) {
                violations.push(format!("after crash recovery, before the rerun: {v}"));
            }
        }
    }
    let first_ms = spawned.elapsed().as_millis() as u64;
    let mut rerun = None;
    if kill != Kill::None {
        // At once, as an orchestrator restarting a crashed container would.
        let started = Instant::now();
        let r = pgboot(&db.url, dir, &["migrate", "--lock-timeout", "120s"]);
        let ms = started.elapsed().as_millis() as u64;
        if r.code != 0 {
            let tail: String = r
                .stderr
                .lines()
                .filter(|l| l.contains("ERROR") || l.contains("error") || l.contains("failed"))
                .take(3)
                .collect::<Vec<_>>()
                .join(" / ");
            violations.push(format!("rerun exited {}: {tail}", r.code));
        }
        rerun = Some((r.code, ms));
    } else if first != 0 {
        violations.push(format!("unkilled run exited {first}"));
    }
    violations.extend(faultset::check(
        &db.url,
        set,
        Expect::Complete,
        SETTLE,
        true,
    ));
    drop_db(c, &db.name);
    Round {
        kill,
        at_ms,
        first,
        first_ms,
        group,
        progress,
        rerun,
        violations,
    }
}

/// Runs the calibration round and `n` kill rounds of one kind; prints every round and a
/// summary line; panics if any round broke an invariant.
pub(super) fn kill_suite(kill: Kill, n: usize, seed_offset: u64) {
    let seed = faultset::seed();
    let mut rng = XorShift::new(seed.wrapping_add(seed_offset));
    let set = fault_set();
    let dir = set.dir();
    let c = fault_cluster();
    let started = Instant::now();
    let calibration = round(&c, &set, dir.path(), Kill::None, 0, false);
    let run_ms = calibration.first_ms;
    eprintln!(
        "faults {kill:?}: PGBOOT_FAULT_SEED={seed}, {} files ({} without a transaction), {n} kills \
         uniform in [0, {run_ms}) ms (an unkilled run's duration)",
        set.count(),
        set.notx.len()
    );
    let mut rounds = vec![calibration];
    eprintln!("{}", rounds[0].line(0));
    for i in 1..=n {
        // A fraction of the run, so a seed replays the same points of the run on a faster or
        // slower machine.
        let at = run_ms * rng.range(0, 10_000) / 10_000;
        let r = round(
            &c,
            &set,
            dir.path(),
            kill,
            at,
            kill == Kill::Postmaster && i % 2 == 0,
        );
        eprintln!("{}", r.line(i));
        rounds.push(r);
    }
    c.stop();
    let failed: Vec<(usize, &Round)> = rounds
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.violations.is_empty())
        .collect();
    let count = |pat: &str| {
        rounds
            .iter()
            .filter(|r| r.violations.iter().any(|v| v.contains(pat)))
            .count()
    };
    eprintln!(
        "FAULTS SUMMARY kill={kill:?} seed={seed} files={} rounds={} failed={} rerun_nonzero={} \
         duplicate_statements={} invalid_index={} leftovers={} history={} tables={} wall={}s",
        set.count(),
        n,
        failed.len(),
        count("rerun exited"),
        count("more than once"),
        count("INVALID"),
        count("left on the server"),
        count("history"),
        count("tables:"),
        started.elapsed().as_secs()
    );
    assert!(
        failed.is_empty(),
        "{} of {} rounds broke \"exactly once\" (replay: PGBOOT_FAULT_SEED={seed}):\n{}",
        failed.len(),
        rounds.len(),
        failed
            .iter()
            .map(|(i, r)| r.line(*i))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
