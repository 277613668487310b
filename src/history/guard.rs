//! The checks every write makes in the transaction that writes, and the SQL that records a
//! non-transactional file's progress. Pure: each function returns text to send.
//!
//! A transactional file's batch is `BEGIN; <file lock>; <checks>; <file>; <history row>; COMMIT`,
//! one round trip. A non-transactional file is claimed (a history row with `progress` 0 and this
//! run's id), then each statement runs as `BEGIN; <file lock>; <checks>; <statement>;
//! <progress + 1>; COMMIT` when PostgreSQL allows it in a transaction, or alone after a check
//! when it does not (`CREATE INDEX CONCURRENTLY`, `VACUUM` …), its progress recorded right after.
//! A failed check raises one of the SQLSTATEs below, which `apply` turns into an exit code.

use crate::config::TableName;
use crate::lock::Guard;
use crate::model::Migration;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::pg::session::{AS_CONNECTING_USER, AS_FILE_ROLE, REMEMBER_FILE_ROLE};

/// The session lock is gone (its connection ended): nothing more may run.
pub const LOCK_LOST: &str = "PGB01";
/// The file's history row exists: another runner applied it.
pub const ALREADY_RECORDED: &str = "PGB02";
/// Another runner took this non-transactional file over.
pub const TAKEN_OVER: &str = "PGB05";
/// A `CREATE INDEX CONCURRENTLY` left an invalid index.
pub const INVALID_INDEX: &str = "PGB06";

/// Without a session lock, a heartbeat older than this, with no statement of its run active,
/// means the owner is gone.
const STALE: &str = "30 seconds";

/// Inside a transactional file's transaction: its commit does not wait for the WAL flush.
/// Only for the transaction, so the session (and the file's own settings) are untouched.
pub const ASYNC_COMMIT: &str = "SET LOCAL synchronous_commit = off;\n";

/// The guard for a transactional file that commits without waiting for the WAL flush (see
/// [`ASYNC_COMMIT`]): every file of a run but the last. Consistency does not depend on it — the
/// file commits together with its history row, so a server crash loses both or neither, and
/// the WAL is sequential, so any later synchronous commit (the last file's, a claim, a progress
/// record, [`super::sql::flush_sql`]) makes every earlier one durable.
pub fn async_commit(g: &Guard) -> Guard {
    let mut g = g.clone();
    g.local_settings.push_str(ASYNC_COMMIT);
    g
}

/// `DO $tag$ … $tag$` with a tag that does not occur in the body.
fn do_block(body: &str) -> String {
    let mut tag = "pgboot".to_string();
    while body.contains(&format!("${tag}$")) {
        tag.push('_');
    }
    format!("DO ${tag}$BEGIN\n{body}\nEND${tag}$;\n")
}

fn raise(code: &str, message: &str) -> String {
    format!(
        "RAISE EXCEPTION {} USING ERRCODE = '{code}';",
        quote_literal(message)
    )
}

fn lock_check(g: &Guard) -> String {
    format!(
        "IF NOT {} THEN {} END IF;",
        g.holds_lock_sql(),
        raise(LOCK_LOST, "pgboot: the migration lock was lost")
    )
}

/// Before a transactional file's body, in its transaction.
pub fn file_prefix(t: &TableName, m: &Migration, g: &Guard) -> String {
    let checks = format!(
        "{}\nIF EXISTS (SELECT 1 FROM {} WHERE name = {} AND {}) THEN {} END IF;",
        lock_check(g),
        t.qualified(),
        quote_literal(&m.name),
        super::sql::recorded_sql("", m),
        raise(ALREADY_RECORDED, "pgboot: the file is already recorded")
    );
    format!(
        "BEGIN;\n{}SELECT pg_advisory_xact_lock({});\n{}",
        g.local_settings,
        g.file_key,
        do_block(&checks)
    )
}

/// After a transactional file's body, in its transaction: its history row, written as the
/// connecting user, the COMMIT, then the reset that undoes what the file set in the session.
pub fn file_suffix(t: &TableName, m: &Migration, g: &Guard) -> String {
    let row = super::sql::insert_sql(t, m, true, true, None, super::sql::Kind::Migrate);
    format!("{AS_CONNECTING_USER}{row};\nCOMMIT;\n{}", g.reset)
}

/// A claim's first half, in a transaction it leaves open under the file lock: one row with
/// the lock check and the file's history row, if any (see [`ClaimState`]).
pub fn claim_state_sql(t: &TableName, m: &Migration, g: &Guard) -> String {
    format!(
        "BEGIN;\nSELECT pg_advisory_xact_lock({k});\n\
         SELECT {held}, r.name IS NOT NULL, r.success, r.error IS NOT NULL, r.progress, \
         r.applied_at > now() - interval '{STALE}', \
         EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid <> pg_backend_pid() \
         AND a.state <> 'idle' AND a.query LIKE '/* pgboot run ' || r.run_id || ' */%') \
         FROM (SELECT 1) one LEFT JOIN {q} r ON r.name = {name} AND {recorded}",
        k = g.file_key,
        held = g.holds_lock_sql(),
        q = t.qualified(),
        name = quote_literal(&m.name),
        recorded = super::sql::recorded_sql("r.", m),
    )
}

/// What the claim found. Columns of [`claim_state_sql`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClaimState {
    pub holds_lock: bool,
    pub exists: bool,
    pub success: bool,
    pub failed: bool,
    pub progress: Option<i64>,
    /// The owner's heartbeat is recent.
    pub fresh: bool,
    /// A statement tagged with the owner's run id is running.
    pub busy: bool,
}

impl ClaimState {
    pub fn parse(cols: &[Option<&str>]) -> ClaimState {
        let flag = |i: usize| cols.get(i).copied().flatten() == Some("t");
        ClaimState {
            holds_lock: flag(0),
            exists: flag(1),
            success: flag(2),
            failed: flag(3),
            progress: cols.get(4).copied().flatten().and_then(|v| v.parse().ok()),
            fresh: flag(5),
            busy: flag(6),
        }
    }
}

/// What to do about a claim. Pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nobody started the file: insert its row (progress 0).
    Start,
    /// A dead run left it after `progress` statements: take it over and resume.
    Resume(i64),
    /// Applied already.
    Done,
    /// Stopped by an SQL error earlier (or a failed row of pgboot 0.1).
    Failed,
    /// A live run (or a backend of a dead one) is applying it: wait.
    Busy,
    /// This run no longer holds the migration lock.
    LockLost,
}

/// `session`: this run holds the migration lock, so an owner can only be a dead run (whose
/// backend may still be busy); without it, a recent heartbeat also means a live owner.
pub fn decide(s: &ClaimState, session: bool) -> Claim {
    match () {
        _ if !s.holds_lock => Claim::LockLost,
        _ if !s.exists => Claim::Start,
        _ if s.success => Claim::Done,
        _ if s.failed || s.progress.is_none() => Claim::Failed,
        _ if s.busy || (!session && s.fresh) => Claim::Busy,
        _ => Claim::Resume(s.progress.unwrap_or(0)),
    }
}

/// A claim's second half: the row for a new start, committed.
pub fn claim_start_sql(t: &TableName, m: &Migration, g: &Guard) -> String {
    // A repeatable file's earlier (finished) row gives way to the new claim.
    let forget = match m.kind {
        crate::model::Kind::Repeatable => format!("{};\n", super::sql::forget_sql(t, &m.name)),
        _ => String::new(),
    };
    format!(
        "{forget}INSERT INTO {} (version, name, checksum, execution_ms, pgboot_version, transactional, \
         success, kind, progress, run_id) VALUES ({}, {}, {}, 0, {}, false, false, '{}', 0, {});\n\
         COMMIT;",
        t.qualified(),
        m.version,
        quote_literal(&m.name),
        quote_literal(&m.checksum),
        quote_literal(env!("CARGO_PKG_VERSION")),
        m.kind.as_str(),
        quote_literal(&g.run_id)
    )
}

/// A claim's second half: the row taken over from a dead run, committed.
pub fn claim_resume_sql(t: &TableName, m: &Migration, g: &Guard) -> String {
    format!(
        "UPDATE {} SET run_id = {}, applied_at = now() WHERE name = {};\nCOMMIT;",
        t.qualified(),
        quote_literal(&g.run_id),
        quote_literal(&m.name)
    )
}

/// The check before statement `i` (0-based) of a claimed file: still ours, still at `i`.
fn owner_check(t: &TableName, m: &Migration, g: &Guard, i: usize) -> String {
    format!(
        "{}\nIF NOT EXISTS (SELECT 1 FROM {} WHERE name = {} AND run_id = {} AND progress = {i} \
         AND NOT success) THEN {} END IF;",
        lock_check(g),
        t.qualified(),
        quote_literal(&m.name),
        quote_literal(&g.run_id),
        raise(TAKEN_OVER, "pgboot: another run took the file over")
    )
}

/// Before statement `i` when it runs inside a transaction with its progress record: the
/// checks as the connecting user, then the statement as whatever role the file set.
pub fn step_prefix(t: &TableName, m: &Migration, g: &Guard, i: usize) -> String {
    format!(
        "BEGIN;\n{}{REMEMBER_FILE_ROLE}{AS_CONNECTING_USER}SELECT pg_advisory_xact_lock({});\n{}{AS_FILE_ROLE}",
        g.local_settings,
        g.file_key,
        do_block(&owner_check(t, m, g, i))
    )
}

/// After statement `i`: its progress, in the same transaction, as the connecting user.
pub fn step_suffix(t: &TableName, m: &Migration, i: usize) -> String {
    format!(
        "\n;\n{AS_CONNECTING_USER}{};\nCOMMIT;",
        progress_sql(t, m, i + 1)
    )
}

/// The check alone, before a statement that cannot run in a transaction.
pub fn check_sql(t: &TableName, m: &Migration, g: &Guard, i: usize) -> String {
    format!(
        "BEGIN;\n{AS_CONNECTING_USER}{}COMMIT;",
        do_block(&owner_check(t, m, g, i))
    )
}

/// Records that `done` statements have committed (the heartbeat too).
pub fn progress_sql(t: &TableName, m: &Migration, done: usize) -> String {
    format!(
        "UPDATE {} SET progress = {done}, applied_at = now() WHERE name = {}",
        t.qualified(),
        quote_literal(&m.name)
    )
}

/// After a `CREATE INDEX CONCURRENTLY` and before its progress: the index must be valid.
pub fn index_valid_sql(schema: Option<&str>, name: &str) -> String {
    let rel = match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    };
    let body = format!(
        "IF EXISTS (SELECT 1 FROM pg_catalog.pg_index WHERE indexrelid = to_regclass({r}) \
         AND NOT indisvalid) THEN {} END IF;",
        raise(
            INVALID_INDEX,
            &format!("pgboot: index {rel} is INVALID after CREATE INDEX CONCURRENTLY")
        ),
        r = quote_literal(&rel)
    );
    do_block(&body)
}

/// The index a resumed `CREATE INDEX CONCURRENTLY` built before the interruption: `valid`
/// (skip the statement), `invalid` (drop it, then build again) or no row.
pub fn index_state_sql(schema: Option<&str>, name: &str) -> String {
    let rel = match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    };
    format!(
        "SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_catalog.pg_index \
         WHERE indexrelid = to_regclass({})",
        quote_literal(&rel)
    )
}

/// Drops an index an interrupted `CREATE INDEX CONCURRENTLY` left invalid.
pub fn drop_index_sql(schema: Option<&str>, name: &str) -> String {
    let rel = match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    };
    format!("DROP INDEX CONCURRENTLY IF EXISTS {rel}")
}

/// The file is done.
pub fn finish_sql(t: &TableName, m: &Migration, g: &Guard, ms: f64) -> String {
    format!(
        "UPDATE {} SET success = true, run_id = NULL, execution_ms = {ms}, applied_at = now() \
         WHERE name = {} AND run_id = {}",
        t.qualified(),
        quote_literal(&m.name),
        quote_literal(&g.run_id)
    )
}

/// An SQL error stopped the file: a human must look (`pgboot repair NAME --yes` resumes).
pub fn fail_sql(t: &TableName, m: &Migration, g: &Guard, ms: f64, error: &str) -> String {
    format!(
        "UPDATE {} SET error = {}, run_id = NULL, execution_ms = {ms} WHERE name = {} AND run_id = {}",
        t.qualified(),
        quote_literal(error),
        quote_literal(&m.name),
        quote_literal(&g.run_id)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(cols: &[Option<&str>]) -> ClaimState {
        ClaimState::parse(cols)
    }

    #[test]
    fn claims() {
        let t = Some("t");
        let f = Some("f");
        let fresh = state(&[t, f, None, None, None, None, f]);
        assert_eq!(decide(&fresh, true), Claim::Start);
        let lost = state(&[f, f, None, None, None, None, f]);
        assert_eq!(decide(&lost, true), Claim::LockLost);
        let done = state(&[t, t, t, f, Some("3"), f, f]);
        assert_eq!(decide(&done, false), Claim::Done);
        let failed = state(&[t, t, f, t, Some("2"), f, f]);
        assert_eq!(decide(&failed, true), Claim::Failed);
        let legacy_failed = state(&[t, t, f, f, None, f, f]);
        assert_eq!(decide(&legacy_failed, true), Claim::Failed);
        // Interrupted, owner's statement still running (a killed pgboot's backend): wait.
        let busy = state(&[t, t, f, f, Some("2"), f, t]);
        assert_eq!(decide(&busy, true), Claim::Busy);
        // Interrupted, nothing running: with the session lock the owner is dead.
        let heartbeat = state(&[t, t, f, f, Some("2"), t, f]);
        assert_eq!(decide(&heartbeat, true), Claim::Resume(2));
        // Without it, a recent heartbeat is a live owner between two statements.
        assert_eq!(decide(&heartbeat, false), Claim::Busy);
        let stale = state(&[t, t, f, f, Some("2"), f, f]);
        assert_eq!(decide(&stale, false), Claim::Resume(2));
    }

    #[test]
    fn async_commit_is_local_to_each_file_transaction() {
        let g = Guard::new("pgboot.schema_history", None);
        let a = async_commit(&g);
        let t = TableName::parse("pgboot.schema_history").unwrap();
        let m = Migration {
            version: 1,
            name: "001_a".into(),
            path: "001_a.sql".into(),
            sql: "SELECT 1;".into(),
            checksum: String::new(),
            origins: Vec::new(),
            variables: Vec::new(),
            ..Default::default()
        };
        let p = file_prefix(&t, &m, &a);
        assert!(
            p.starts_with("BEGIN;\nSET LOCAL synchronous_commit = off;\n"),
            "{p}"
        );
        assert!(!file_prefix(&t, &m, &g).contains("synchronous_commit"));
        // The session reset after the file is the same either way: nothing to undo.
        assert_eq!(a.reset, g.reset);
    }

    #[test]
    fn do_blocks_pick_a_tag_the_body_does_not_use() {
        assert!(do_block("x").starts_with("DO $pgboot$"));
        let b = do_block("SELECT '$pgboot$'");
        assert!(b.starts_with("DO $pgboot_$"), "{b}");
    }
}
