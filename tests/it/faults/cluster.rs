//! The fault tests' server side: a private cluster whose commits are acknowledged only once
//! written, kill -9 of its postmaster, and crash recovery.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// How long a killed client's backend, or a restarted server, gets to leave no trace.
pub(super) const SETTLE: Duration = Duration::from_secs(5);

pub(super) fn drop_db(c: &Cluster, name: &str) {
    query(
        &c.url("postgres"),
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
}

/// A private cluster for one fault test: commits reach the kernel before they are acknowledged
/// (the harness turns synchronous_commit off), so a crash loses nothing that was reported done.
pub(super) fn fault_cluster() -> Cluster {
    let c = Cluster::init_with(&["synchronous_commit = on", "log_min_messages = fatal"]);
    c.start();
    c
}

pub(super) fn postmaster_pid(c: &Cluster) -> i32 {
    let pidfile = std::fs::read_to_string(c.data().join("postmaster.pid"))
        .expect("postmaster.pid (is the cluster running?)");
    pidfile.lines().next().unwrap().trim().parse().unwrap()
}

/// `pg_ctl start` after a crash: crash recovery runs; retried while the dead postmaster's
/// children still hold its shared memory.
pub(super) fn restart_after_crash(c: &Cluster) {
    let started = Instant::now();
    loop {
        let out = as_pg_user(Command::new(c.bin.join("pg_ctl")))
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(c.data())
            .arg("-l")
            .arg(c.dir.join("log"))
            .stdout(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the cluster does not restart after kill -9 of the postmaster: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(c.dir.join("log")).unwrap_or_default()
        );
        sleep_ms(200);
    }
}

/// kill -9 of the postmaster and all its processes, then crash recovery.
pub(super) fn crash(c: &Cluster) {
    let pid = postmaster_pid(c);
    assert_eq!(
        unsafe { libc::getpgid(pid) },
        pid,
        "pg_ctl starts the postmaster in its own group"
    );
    unsafe { libc::kill(-pid, libc::SIGKILL) };
    restart_after_crash(c);
}
