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
use crate::error::{Error, Result};
use crate::history;
use crate::pg::db::Db;
mod failure;

use crate::model::{Applied, Migration};
use crate::pg::shutdown::Shutdown;
use crate::plan;
use crate::sql::{self, Analysis, NoTxReason};

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

/// Lexes a file; an unterminated string or comment is an error naming file:line:column.
pub fn prepare(m: &Migration) -> Result<Prepared<'_>> {
    let analysis = sql::analyze(&m.sql);
    // Before the lex errors: the data rows after `COPY … FROM stdin` do not lex as SQL.
    if let Some(c) = &analysis.client_copy {
        return Err(Error::Source(format!(
            "{}:{}:{}: {} needs a client-side data stream, which pgboot does not provide yet; \
             nothing was applied. Load the data with psql, or put it in INSERT statements",
            m.path.display(),
            c.line,
            c.column,
            c.what
        )));
    }
    if let Some(e) = analysis.errors.first() {
        return Err(Error::Source(format!(
            "{}:{}:{}: {}; nothing was applied",
            m.path.display(),
            e.line,
            e.column,
            e.message
        )));
    }
    let mode = Mode::of(&analysis);
    Ok(Prepared {
        migration: m,
        analysis,
        mode,
    })
}

/// What happened to a failed file's changes, by how it ran: the failure report's "outcome".
const ROLLED_BACK: &str = "the file was rolled back: none of its changes were kept";
const OWN_TX_FAILED: &str = "the file manages its own transaction: its open transaction was rolled back, but statements committed before it are kept; recorded as failed";
const NO_TX_FAILED: &str = "the file ran outside a transaction: statements before this one were kept; recorded as failed (see `pgboot status`)";
const FOUND_BY_REPLAY: &str =
    " (the failing statement was found by replaying the file in a transaction that was rolled back)";

const TX_PREFIX: &str = "BEGIN;\n";

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

/// Applies one file. Returns its duration in milliseconds.
pub async fn apply(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    shutdown: &Shutdown,
) -> Result<f64> {
    let m = p.migration;
    let file = m.path.display().to_string();
    db.set_context(Some(&m.name));
    let started = Instant::now();
    let result = match &p.mode {
        Mode::Transaction => {
            let batch = format!(
                "{TX_PREFIX}{}\n;\n{};\nCOMMIT;",
                m.sql,
                history::sql::insert_sql(table, m, true, true, None, history::sql::Kind::Migrate)
            );
            match db.client.simple_query(&batch).await {
                Ok(msgs) => {
                    log_status_rows(&m.name, &msgs);
                    Ok(())
                }
                Err(e) => {
                    rollback(db).await;
                    let mut err = fail(&file, m, e, TX_PREFIX.len(), None, ROLLED_BACK, shutdown);
                    if let Error::Migration(mf) = &mut err {
                        if mf.line.is_none() && replayable(&mf.sqlstate) {
                            if let Some(piece) = locate_by_replay(db, p).await {
                                mf.line = Some(piece.line);
                                mf.column = Some(piece.column);
                                mf.outcome.push_str(FOUND_BY_REPLAY);
                            }
                        }
                    }
                    Err(err)
                }
            }
        }
        Mode::OwnTransaction => match db.client.simple_query(&m.sql).await {
            Ok(msgs) => {
                log_status_rows(&m.name, &msgs);
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                history::record(db, table, m, true, true, ms).await
            }
            Err(e) => {
                rollback(db).await;
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let _ = history::record(db, table, m, true, false, ms).await;
                Err(fail(&file, m, e, 0, None, OWN_TX_FAILED, shutdown))
            }
        },
        Mode::NoTransaction(reason) => {
            if let NoTxReason::Statement { what, line, .. } = reason {
                tracing::warn!(migration = %m.name, line, "runs outside a transaction, statement by statement: line {line} has {what}");
            } else {
                tracing::warn!(migration = %m.name, "runs outside a transaction, statement by statement (-- pgboot:no-transaction)");
            }
            let mut outcome = Ok(());
            for piece in p.analysis.pieces.iter().filter(|p| !p.is_empty()) {
                match db.client.simple_query(piece.text(&m.sql)).await {
                    Ok(msgs) => log_status_rows(&m.name, &msgs),
                    Err(e) => {
                        let ms = started.elapsed().as_secs_f64() * 1000.0;
                        let _ = history::record(db, table, m, false, false, ms).await;
                        // The server's position is relative to the statement sent.
                        let offset = m.sql[..piece.range.start].chars().count();
                        let pos = original_position(&e);
                        let mut f = fail(&file, m, e, 0, Some(piece.line), NO_TX_FAILED, shutdown);
                        if let Error::Migration(mf) = &mut f {
                            relocate(mf, pos, offset, &m.sql);
                        }
                        outcome = Err(f);
                        break;
                    }
                }
            }
            match outcome {
                Ok(()) => {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    history::record(db, table, m, false, true, ms).await
                }
                Err(e) => Err(e),
            }
        }
    };
    db.set_context(None);
    result.map(|()| started.elapsed().as_secs_f64() * 1000.0)
}

/// Ends a failed transaction, if one is open. Its "no transaction in progress" warning (a
/// syntax error fails the whole batch before BEGIN runs) is not the migration's, so it is not logged.
async fn rollback(db: &Db) {
    db.set_context(None);
    let _ = db.client.batch_execute("ROLLBACK").await;
}

/// Errors worth a replay: not cancellations, timeouts, lost connections or resource limits.
fn replayable(sqlstate: &str) -> bool {
    sqlstate.len() == 5 && !matches!(&sqlstate[..2], "57" | "53" | "08" | "58" | "XX")
}

/// A runtime error (a constraint violation, a division by zero) has no position, and the whole
/// file ran as one query. Runs the statements one by one inside a transaction that is always
/// rolled back, and returns the first that fails.
async fn locate_by_replay<'a>(db: &Db, p: &'a Prepared<'_>) -> Option<&'a sql::Piece> {
    db.client.batch_execute("BEGIN").await.ok()?;
    let mut found = None;
    for piece in p.analysis.pieces.iter().filter(|x| !x.is_empty()) {
        if db
            .client
            .batch_execute(piece.text(&p.migration.sql))
            .await
            .is_err()
        {
            found = Some(piece);
            break;
        }
    }
    let _ = db.client.batch_execute("ROLLBACK").await;
    found
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
