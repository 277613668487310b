//! Runs one migration file and records it.
//!
//! - Transactional (the default): `BEGIN; <file>; INSERT history; COMMIT` in one round trip,
//!   so the file and its history row commit together or not at all.
//! - The file manages its own transaction (top-level BEGIN/COMMIT): sent as written, then recorded.
//! - No transaction (a statement PostgreSQL refuses in a transaction block, or
//!   `-- pgboot:no-transaction`): statement by statement; a failure is recorded as failed.

use std::time::Instant;

use tokio_postgres::SimpleQueryMessage;

use crate::config::TableName;
use crate::error::{Coordination, Error, Result};
use crate::history;
use crate::lock::Guard;
use crate::model::{Applied, Migration};
use crate::pg::db::Db;
use crate::pg::shutdown::Shutdown;
use crate::plan;
use crate::sql::{self, Analysis, NoTxReason};

mod copy;
mod failure;
mod notx;
mod psql;
mod stream;
mod tx;

/// How a file will run. Shared by `migrate` and everything that describes a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Transaction,
    OwnTransaction,
    NoTransaction(NoTxReason),
}

impl Mode {
    pub fn of(a: &Analysis) -> Mode {
        match (&a.no_transaction, a.manages_transaction) {
            (Some(r), _) => Mode::NoTransaction(r.clone()),
            (None, true) => Mode::OwnTransaction,
            (None, false) => Mode::Transaction,
        }
    }

    pub fn transactional(&self) -> bool {
        !matches!(self, Mode::NoTransaction(_))
    }

    pub fn describe(&self) -> String {
        match self {
            Mode::Transaction => "in a transaction".into(),
            Mode::OwnTransaction => "as written (the file has its own BEGIN/COMMIT)".into(),
            Mode::NoTransaction(NoTxReason::Directive) => {
                "statement by statement, outside a transaction (-- pgboot:no-transaction)".into()
            }
            Mode::NoTransaction(NoTxReason::Statement { what, line, .. }) => format!(
                "statement by statement, outside a transaction: line {line} has {what}, which PostgreSQL refuses in a transaction block"
            ),
            Mode::NoTransaction(NoTxReason::Marker { text, line }) => {
                format!("statement by statement, outside a transaction (line {line}: {text})")
            }
        }
    }
}

/// A file ready to run: its text checked by the lexer before anything is sent.
pub struct Prepared<'a> {
    pub migration: &'a Migration,
    pub analysis: Analysis,
    pub mode: Mode,
}

/// What a run would do: the same function decides for `migrate`, `plan` and `validate`, so they
/// cannot disagree.
pub struct Schedule<'a> {
    pub plan: plan::Plan<'a>,
    /// Every pending file, lexed; Err: the first file that cannot be lexed (the run would stop).
    pub prepared: Result<Vec<Prepared<'a>>>,
}

pub fn schedule<'a>(applied: &[Applied], migrations: &'a [Migration]) -> Schedule<'a> {
    let plan = plan::plan(applied, migrations);
    let prepared = plan.pending.iter().map(|m| prepare(m)).collect();
    Schedule { plan, prepared }
}

/// What [`check`] found in a file, apart from the file: [`Checked::on`] makes it [`Prepared`].
/// Sendable, so the files can be checked on another thread while pgboot connects.
pub struct Checked {
    analysis: Analysis,
    mode: Mode,
}

impl Checked {
    pub fn on(self, migration: &Migration) -> Prepared<'_> {
        Prepared {
            migration,
            analysis: self.analysis,
            mode: self.mode,
        }
    }
}

/// Lexes a file; an unterminated string or comment is an error naming file:line:column.
pub fn prepare(m: &Migration) -> Result<Prepared<'_>> {
    check(m).map(|c| c.on(m))
}

/// [`prepare`] without the borrow.
pub fn check(m: &Migration) -> Result<Checked> {
    let analysis = sql::analyze(&m.sql);
    // Before the lex errors: a meta-command pgboot refuses says why better than the lexer.
    psql::check(m, &analysis)?;
    if let Some(e) = analysis.errors.first() {
        return Err(Error::Source(format!(
            "{}: {}; nothing was applied",
            m.at(e.line, e.column),
            e.message
        )));
    }
    let mode = match (Mode::of(&analysis), &m.no_transaction) {
        (Mode::NoTransaction(r), _) => Mode::NoTransaction(r),
        (_, Some((text, line))) => Mode::NoTransaction(NoTxReason::Marker {
            text: text.clone(),
            line: *line,
        }),
        (mode, None) => mode,
    };
    Ok(Checked { analysis, mode })
}

/// Logs the seed convention's closing `SELECT '…' AS status` rows.
fn log_status_rows(name: &str, msgs: &[SimpleQueryMessage]) {
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            if r.columns().len() == 1 && r.columns()[0].name() == "status" {
                if let Some(v) = r.get(0) {
                    tracing::info!(migration = %name, status = v, "status: {v}");
                }
            }
        }
    }
}

/// What became of a pending file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// This run applied it, in this many milliseconds.
    Applied(f64),
    /// Another runner applied it first (transaction-pooling mode, where runners share the work).
    AppliedElsewhere,
}

/// Applies one file under `guard` (see `lock`): every write checks, in its own transaction,
/// that this run may still write and that nobody else recorded the file.
pub async fn apply(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    guard: &Guard,
    shutdown: &Shutdown,
) -> Result<Outcome> {
    let m = p.migration;
    db.set_context(Some(&m.name));
    let started = Instant::now();
    let result = match &p.mode {
        // A large file, read again as it runs (`source::stream`).
        Mode::Transaction if m.streamed.is_some() => {
            stream::run(db, table, p, guard, shutdown).await
        }
        Mode::Transaction => tx::run(db, table, p, guard, shutdown).await,
        Mode::OwnTransaction => tx::run_own(db, table, p, guard, shutdown).await,
        Mode::NoTransaction(reason) => {
            if let NoTxReason::Statement { what, line, .. } = reason {
                tracing::warn!(migration = %m.name, line, "runs outside a transaction, statement by statement: line {line} has {what}");
            } else if let NoTxReason::Marker { text, line } = reason {
                tracing::warn!(migration = %m.name, line, "runs outside a transaction, statement by statement: line {line} has {text}");
            } else {
                tracing::warn!(migration = %m.name, "runs outside a transaction, statement by statement (-- pgboot:no-transaction)");
            }
            notx::run(db, table, p, guard, shutdown).await
        }
    };
    db.set_context(None);
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(()) => Ok(Outcome::Applied(ms)),
        Err(Error::Coordination(c)) if c.applied_elsewhere && guard.session.is_none() => {
            Ok(Outcome::AppliedElsewhere)
        }
        Err(Error::Migration(mut mf)) => {
            to_origin(m, &mut mf);
            Err(Error::Migration(mf))
        }
        Err(e) => Err(e),
    }
}

/// Points a failure in an expanded file (see `source`) at the file and line it comes from: an
/// included file, a `\copy` data file, or the migration's own line.
fn to_origin(m: &Migration, mf: &mut crate::model::MigrationFailure) {
    let Some(line) = mf.line else { return };
    let Some((o, local)) = m.origin_of_line(line) else {
        return;
    };
    if o.file != m.path {
        mf.file = o.file.display().to_string();
    }
    mf.line = Some(local);
    if !o.included_from.is_empty() {
        mf.included_from = Some(crate::model::included_from(&o.included_from));
    }
    // The snippet: the stretch's lines, at their lines in the file.
    let start = m.sql[..o.start.min(m.sql.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let end = m
        .origins
        .iter()
        .find(|n| n.start > o.start)
        .map_or(m.sql.len(), |n| n.start);
    let mut sql = "\n".repeat(o.line.saturating_sub(1));
    sql.push_str(&m.sql[start..end]);
    mf.sql = sql;
}

/// A failed guard check (see `history::guard`) as the error it stands for, or None.
fn guard_error(e: &tokio_postgres::Error, m: &Migration) -> Option<Error> {
    use history::guard::*;
    let code = e.as_db_error()?.code().code();
    let file = m.file_name();
    let (message, applied_elsewhere) = match code {
        LOCK_LOST => (format!("the migration lock was lost before {file} could run: its connection ended (idle_session_timeout, pg_terminate_backend, a server restart, or a pooler in transaction mode); {file} was rolled back and nothing after it ran; run pgboot again"), false),
        ALREADY_RECORDED => (format!("{file} was recorded by another runner while this run held the migration lock: behind a pooler in transaction mode (PgBouncer) session locks do not hold, so use lock_mode = transaction or auto (--lock-mode, PGBOOT_LOCK_MODE); nothing of {file} was applied by this run"), true),
        TAKEN_OVER => (format!("another run took {file} over while this run was applying it (this run's heartbeat went stale); nothing more of it ran here; run pgboot again to check the outcome"), false),
        _ => return None,
    };
    Some(Error::Coordination(Coordination {
        message,
        applied_elsewhere,
    }))
}

/// The end of a transactional file sent in several round trips: its history row, COMMIT and
/// the session reset (`history::guard::file_suffix`).
async fn commit_file(db: &Db, table: &TableName, m: &Migration, g: &Guard) -> Result<()> {
    let end = history::guard::file_suffix(table, m, g);
    if let Err(e) = db.client.batch_execute(&end).await {
        rollback(db).await;
        return Err(Error::db(format!("recording {}", m.name), e));
    }
    Ok(())
}

/// Ends a failed transaction, if one is open. Its "no transaction in progress" warning (a
/// syntax error fails the whole batch before BEGIN runs) is not the migration's, so it is not logged.
async fn rollback(db: &Db) {
    db.set_context(None);
    let _ = db.client.batch_execute("ROLLBACK").await;
}

/// Re-computes the position for a statement sent on its own.
fn relocate(
    mf: &mut crate::model::MigrationFailure,
    position: Option<u32>,
    offset_chars: usize,
    src: &str,
) {
    if let Some(p) = position {
        let (l, c) = sql::line_col_of_char_pos(src, offset_chars + p as usize);
        mf.line = Some(l);
        mf.column = Some(c);
    }
}

/// The server's 1-based character position in the statement sent, when it gave one.
fn original_position(e: &tokio_postgres::Error) -> Option<u32> {
    match e.as_db_error()?.position()? {
        tokio_postgres::error::ErrorPosition::Original(p) => Some(*p),
        _ => None,
    }
}

fn fail(
    file: &str,
    m: &Migration,
    e: tokio_postgres::Error,
    offset_chars: usize,
    fallback_line: Option<usize>,
    outcome: &str,
    shutdown: &Shutdown,
) -> Error {
    if let Some(sig) = shutdown.signalled() {
        return Error::Interrupted(sig);
    }
    if e.as_db_error().is_none() {
        return Error::db(format!("applying {file}"), e);
    }
    Error::Migration(Box::new(failure::failure(
        file,
        &m.sql,
        &e,
        offset_chars,
        fallback_line,
        outcome,
    )))
}
