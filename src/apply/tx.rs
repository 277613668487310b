//! Transactional files: `BEGIN; <file lock and checks>; <file>; <history row>; COMMIT` in one
//! round trip, so the file and its row commit together or not at all. A file with its own
//! BEGIN/COMMIT is sent as written after the same checks, then recorded.

use super::psql::{self, Segment};
use super::{
    copy, fail, guard_error, log_status_rows, original_position, relocate, rollback, Prepared,
};
use crate::config::TableName;
use crate::error::{Error, Result};
use crate::history::{self, guard};
use crate::lock::Guard;
use crate::pg::db::Db;
use crate::pg::shutdown::Shutdown;
use crate::sql;

/// What happened to a failed file's changes: the failure report's "outcome".
const ROLLED_BACK: &str = "the file was rolled back: none of its changes were kept";
const OWN_TX_FAILED: &str = "the file manages its own transaction: its open transaction was rolled back, but statements committed before it are kept; recorded as failed";
const FOUND_BY_REPLAY: &str =
    " (the failing statement was found by replaying the file in a transaction that was rolled back)";

pub(super) async fn run(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<()> {
    let m = p.migration;
    if psql::needs_segments(&m.sql, &p.analysis) {
        return segmented(db, table, p, g, shutdown).await;
    }
    let prefix = guard::file_prefix(table, m, g);
    let text = psql::sendable(&m.sql, &p.analysis.pieces);
    // The history row as the connecting user; after COMMIT, the file's session changes undone.
    let batch = format!("{prefix}{text}\n;\n{}", guard::file_suffix(table, m, g));
    let e = match db.client.simple_query(&batch).await {
        Ok(msgs) => {
            log_status_rows(&m.name, &msgs);
            return Ok(());
        }
        Err(e) => e,
    };
    rollback(db).await;
    if let Some(g) = guard_error(&e, m) {
        return Err(g);
    }
    let file = m.path.display().to_string();
    let offset = prefix.chars().count();
    let mut err = fail(&file, m, e, offset, None, ROLLED_BACK, shutdown);
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

/// A transactional file with COPY data (or `\echo`): one transaction over several round trips —
/// the checks, each run of SQL, each COPY with its rows streamed, then the history row.
async fn segmented(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<()> {
    let m = p.migration;
    let file = m.path.display().to_string();
    let prefix = guard::file_prefix(table, m, g);
    if let Err(e) = db.client.batch_execute(&prefix).await {
        rollback(db).await;
        return Err(guard_error(&e, m)
            .unwrap_or_else(|| Error::db(format!("checking before {}", m.name), e)));
    }
    for seg in psql::segments(&m.sql, &p.analysis.pieces) {
        let failed = match seg {
            Segment::Echo(text) => {
                tracing::info!(migration = %m.name, "echo: {text}");
                continue;
            }
            Segment::Sql { text, offset_chars } => match db.client.simple_query(&text).await {
                Ok(msgs) => {
                    log_status_rows(&m.name, &msgs);
                    continue;
                }
                Err(e) => (e, offset_chars, None),
            },
            Segment::Copy { piece, data } => {
                let statement = piece.sql_text(&m.sql);
                match copy::copy_in(db, statement, &m.sql[data.range.clone()]).await {
                    Ok(rows) => {
                        tracing::debug!(migration = %m.name, rows, line = data.line, "copied {rows} rows");
                        continue;
                    }
                    Err(e) => {
                        let context = e.as_db_error().and_then(|d| d.where_());
                        let row = copy::row_line(context, data.line);
                        let offset = m.sql[..piece.range.start].chars().count();
                        (e, offset, row.or(Some(piece.line)))
                    }
                }
            }
        };
        let (e, offset, line) = failed;
        rollback(db).await;
        let pos = original_position(&e);
        let mut err = fail(&file, m, e, 0, line, ROLLED_BACK, shutdown);
        if let Error::Migration(mf) = &mut err {
            if line.is_none() || pos.is_some() {
                relocate(mf, pos, offset, &m.sql);
            }
            if mf.line.is_none() && replayable(&mf.sqlstate) {
                if let Some(piece) = locate_by_replay(db, p).await {
                    mf.line = Some(piece.line);
                    mf.column = Some(piece.column);
                    mf.outcome.push_str(FOUND_BY_REPLAY);
                }
            }
        }
        return Err(err);
    }
    super::commit_file(db, table, m, g).await
}

/// A file with its own BEGIN/COMMIT: the checks first, in a transaction of their own.
pub(super) async fn run_own(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<()> {
    let m = p.migration;
    let check = format!("{}COMMIT;", guard::file_prefix(table, m, g));
    if let Err(e) = db.client.batch_execute(&check).await {
        rollback(db).await;
        return Err(guard_error(&e, m)
            .unwrap_or_else(|| Error::db(format!("checking before {}", m.name), e)));
    }
    let started = std::time::Instant::now();
    match db.client.simple_query(&m.sql).await {
        Ok(msgs) => {
            log_status_rows(&m.name, &msgs);
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            history::record(db, table, m, true, true, ms, &g.reset).await
        }
        Err(e) => {
            rollback(db).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let _ = history::record(db, table, m, true, false, ms, &g.reset).await;
            let file = m.path.display().to_string();
            Err(fail(&file, m, e, 0, None, OWN_TX_FAILED, shutdown))
        }
    }
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
    let sql_pieces = p.analysis.pieces.iter().filter(|x| !x.is_empty());
    for piece in sql_pieces.filter(|x| x.kind == sql::PieceKind::Sql) {
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
