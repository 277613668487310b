//! Test harness: a throwaway PostgreSQL cluster per test binary and a fresh database per test
//! (`cluster`), queries (`query`), and helpers to run the pgboot binary. `docker` has the Docker
//! engine helpers, `snap` the insta settings that redact what varies between runs.

pub mod docker;
pub mod snap;

mod cluster;
pub mod faultset;
pub mod pgbouncer;
mod query;

pub use cluster::*;
pub use query::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The superuser's password. Distinctive, so tests can prove it never appears in any output.
pub const PASSWORD: &str = "Pw-7f3a9c-never-print-me";
/// A migrations directory built from (file name, contents) pairs.
pub fn migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("pgboot-mig-")
        .tempdir()
        .unwrap();
    for (name, body) in files {
        std::fs::write(d.path().join(name), body).unwrap();
    }
    d
}

/// The pgboot binary with a clean environment (no PG*/PGBOOT* from the caller).
pub fn pgboot_cmd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pgboot"));
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c.env("PGBOOT_LOG_FORMAT", "text");
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// stdout as one JSON document (`--json`); panics with the output when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.all()))
    }
}

/// Asserts that `text` (a command's stdout or stderr) contains `needle`, showing `text` when not.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "no {needle:?} in:\n{text}");
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// `pgboot <args>` against a database and a migrations directory.
pub fn pgboot(url: &str, dir: &Path, args: &[&str]) -> Run {
    pgboot_cmd()
        .env("DATABASE_URL", url)
        .env("PGBOOT_MIGRATIONS", dir)
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// Runs a command to completion, capturing its output.
pub fn run(cmd: &mut Command) -> Run {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
        .into()
}

pub fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Polls `cond` every 50 ms until it holds or `timeout` passes; whether it held.
pub fn eventually(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        sleep_ms(50);
    }
    cond()
}

/// The repository's root directory.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's migration files (name, contents), in order: numbered `*.sql`, no `*.down.sql`.
pub fn repo_migrations() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(repo().join("migrations"))
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_owned();
            let ok = name.ends_with(".sql")
                && !name.ends_with(".down.sql")
                && name.chars().next()?.is_ascii_digit();
            ok.then(|| (name, std::fs::read_to_string(&p).unwrap()))
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 6,
        "expected the ClientForge migrations, got {v:?}"
    );
    v
}

/// `pg_dump --schema-only` of `url` without pgboot's history, the dump's random `\restrict`
/// key and its version header: what differential tests compare. `extra`: more pg_dump flags.
pub fn schema_only(url: &str, extra: &[&str]) -> String {
    let out = Command::new(pg_bin().join("pg_dump"))
        .args(["--schema-only", "--exclude-schema=pgboot"])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("-- Dumped")
                && !l.starts_with("\\restrict")
                && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
