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

/// The session lock is gone (its connection ended): nothing more may run.
pub const LOCK_LOST: &str = "PGB01";
/// The file's history row exists: another runner applied it.
pub const ALREADY_RECORDED: &str = "PGB02";
/// A non-transactional file stopped by an SQL error earlier: a human must look.
pub const FAILED_EARLIER: &str = "PGB03";
/// A live runner is applying this non-transactional file.
pub const OWNED_ELSEWHERE: &str = "PGB04";
/// Another runner took this non-transactional file over.
pub const TAKEN_OVER: &str = "PGB05";
/// A `CREATE INDEX CONCURRENTLY` left an invalid index.
pub const INVALID_INDEX: &str = "PGB06";

/// A heartbeat older than this, with no statement of its run active, means the owner is gone.
const STALE: &str = "30 seconds";

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
        "{}\nIF EXISTS (SELECT 1 FROM {} WHERE name = {}) THEN {} END IF;",
        lock_check(g),
        t.qualified(),
        quote_literal(&m.name),
        raise(ALREADY_RECORDED, "pgboot: the file is already recorded")
    );
    format!(
        "BEGIN;\nSELECT pg_advisory_xact_lock({});\n{}",
        g.file_key,
        do_block(&checks)
    )
}

/// Claims a non-transactional file and returns its progress (one row, one column). A row left
/// by a dead run is taken over; a live one's raises [`OWNED_ELSEWHERE`]. `fresh_owner_lives`:
/// without a session lock, an owner whose heartbeat is recent counts as alive.
pub fn claim_sql(t: &TableName, m: &Migration, g: &Guard, fresh_owner_lives: bool) -> String {
    let q = t.qualified();
    let name = quote_literal(&m.name);
    let run = quote_literal(&g.run_id);
    let heartbeat = if fresh_owner_lives {
        format!(" OR r.applied_at > now() - interval '{STALE}'")
    } else {
        String::new()
    };
    let body = format!(
        "DECLARE r record;\nBEGIN\n{lock}\nSELECT success, error, progress, run_id, applied_at INTO r \
         FROM {q} WHERE name = {name};\n\
         IF NOT FOUND THEN\n  INSERT INTO {q} (version, name, checksum, execution_ms, pgboot_version, \
         transactional, success, kind, progress, run_id) VALUES ({v}, {name}, {sum}, 0, {ver}, false, \
         false, 'migrate', 0, {run});\n\
         ELSIF r.success THEN {done}\n\
         ELSIF r.error IS NOT NULL OR r.progress IS NULL THEN {failed}\n\
         ELSIF r.run_id IS DISTINCT FROM {run} AND (EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a \
         WHERE a.pid <> pg_backend_pid() AND a.state <> 'idle' \
         AND a.query LIKE '/* pgboot run ' || r.run_id || ' */%'){heartbeat}) THEN {owned}\n\
         ELSE UPDATE {q} SET run_id = {run}, applied_at = now() WHERE name = {name};\nEND IF;",
        lock = lock_check(g),
        v = m.version,
        sum = quote_literal(&m.checksum),
        ver = quote_literal(env!("CARGO_PKG_VERSION")),
        done = raise(ALREADY_RECORDED, "pgboot: the file is already recorded"),
        failed = raise(FAILED_EARLIER, "pgboot: the file failed earlier"),
        owned = raise(OWNED_ELSEWHERE, "pgboot: another run is applying the file"),
    );
    let mut tag = "pgboot".to_string();
    while body.contains(&format!("${tag}$")) {
        tag.push('_');
    }
    format!(
        "BEGIN;\nSELECT pg_advisory_xact_lock({k});\nDO ${tag}${body}\nEND${tag}$;\n\
         SELECT progress FROM {q} WHERE name = {name};\nCOMMIT;",
        k = g.file_key
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

/// Before statement `i` when it runs inside a transaction with its progress record.
pub fn step_prefix(t: &TableName, m: &Migration, g: &Guard, i: usize) -> String {
    format!(
        "BEGIN;\nSELECT pg_advisory_xact_lock({});\n{}",
        g.file_key,
        do_block(&owner_check(t, m, g, i))
    )
}

/// After statement `i`: its progress, in the same transaction.
pub fn step_suffix(t: &TableName, m: &Migration, i: usize) -> String {
    format!("\n;\n{};\nCOMMIT;", progress_sql(t, m, i + 1))
}

/// The check alone, before a statement that cannot run in a transaction.
pub fn check_sql(t: &TableName, m: &Migration, g: &Guard, i: usize) -> String {
    do_block(&owner_check(t, m, g, i))
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
