//! Non-transactional files, exactly once across crashes. The file is claimed first (its history
//! row, `progress` 0, this run's id). Then each statement either runs inside a transaction that
//! also checks the claim and records `progress + 1`, so statement and record commit together;
//! or, when PostgreSQL refuses it in a transaction (`CREATE INDEX CONCURRENTLY` …), runs alone
//! after the same check, tagged with the run's id, with its progress recorded right after (and
//! an index it built checked for validity first).
//!
//! A kill, a crash, a signal or a lost connection leaves the row claimed: the next run resumes at
//! the first statement not known to have committed. A statement that runs alone may have
//! committed before its progress was recorded: on resume, an index it built that is valid is
//! kept, an invalid one is dropped and built again; other such statements (VACUUM, REINDEX …) are
//! run again, which is harmless. An SQL error is recorded: the next run stops with exit 4 until a
//! human runs `pgboot repair NAME --yes`.

use std::time::{Duration, Instant};

use super::{
    copy, fail, guard_error, log_status_rows, original_position, relocate, rollback, Prepared,
};
use crate::config::TableName;
use crate::error::{describe_pg_error, Coordination, Error, Result};
use crate::history::guard::{self, Claim, ClaimState};
use crate::lock::Guard;
use crate::model::{HistoryProblem, Migration};
use crate::pg::db::Db;
use crate::pg::session::AS_CONNECTING_USER;
use crate::pg::shutdown::Shutdown;
use crate::sql::{self, Piece, PieceKind};

const NO_TX_FAILED: &str = "the file ran outside a transaction: the statements before this one committed and are recorded; this one failed and is recorded as failed: fix it, then `pgboot repair NAME --yes` resumes with it";
const NO_TX_INTERRUPTED: &str = "the file ran outside a transaction and was interrupted: the statements before this one committed and are recorded; the next run resumes with this one";

/// A statement's error and how many characters pgboot sent before the statement's text.
type StepError = (tokio_postgres::Error, usize);

pub(super) async fn run(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<()> {
    let m = p.migration;
    let started = Instant::now();
    let (start, resuming) = claim(db, table, m, g, shutdown).await?;
    // The statements, in order: what progress counts. Ignored meta-commands and `\echo` are
    // not statements.
    let pieces: Vec<&Piece> = p
        .analysis
        .pieces
        .iter()
        .filter(|x| !x.is_empty() && !matches!(x.kind, PieceKind::Meta(_)))
        .collect();
    if resuming {
        let line = pieces.get(start).map(|x| x.line).unwrap_or(0);
        let next = start + 1;
        tracing::warn!(migration = %m.name, resume_at = next, line, "resuming {}: {start} statement(s) committed in an earlier run that was interrupted; continuing with statement {next} (line {line})", m.name);
    }
    for (i, piece) in pieces.iter().enumerate().skip(start) {
        if let Some(sig) = shutdown.signalled() {
            return Err(Error::Interrupted(sig));
        }
        let text = piece.text(&m.sql);
        let step = match &piece.kind {
            PieceKind::CopyIn(data) => {
                let rows = &m.sql[data.range.clone()];
                copy_step(db, table, m, g, i, piece.sql_text(&m.sql), rows).await
            }
            _ if sql::runs_alone(text) => {
                alone(db, table, m, g, i, text, resuming && i == start).await
            }
            _ => in_transaction(db, table, m, g, i, text).await,
        };
        if let Err((e, sent_before)) = step {
            return Err(stopped(db, table, m, g, piece, e, sent_before, started, shutdown).await);
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // The file is done: undo its session changes, then record it as the connecting user.
    let finish = format!("{}{};", g.reset, guard::finish_sql(table, m, g, ms));
    let done = db
        .client
        .simple_query(&finish)
        .await
        .map_err(|e| Error::db(format!("recording {} as applied", m.name), e))?;
    let updated = done
        .iter()
        .any(|x| matches!(x, tokio_postgres::SimpleQueryMessage::CommandComplete(n) if *n == 1));
    if !updated {
        return Err(Error::db_message(
            format!("recording {} as applied", m.name),
            "its history row is no longer this run's: another run took the file over",
        ));
    }
    Ok(())
}

/// Claims the file; returns how many of its statements already committed and whether the
/// claim resumes an interrupted run. Waits while a live run (or a backend of a dead one) is
/// applying it.
async fn claim(
    db: &Db,
    table: &TableName,
    m: &Migration,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<(usize, bool)> {
    let ask = guard::claim_state_sql(table, m, g);
    let mut waiting = false;
    let err = |e| Error::db(format!("claiming {} in the history", m.name), e);
    loop {
        let rows = match db.client.simple_query(&ask).await {
            Ok(rows) => rows,
            Err(e) => {
                rollback(db).await;
                return Err(err(e));
            }
        };
        let cols = last_row(&rows);
        let state = ClaimState::parse(&cols.iter().map(|c| c.as_deref()).collect::<Vec<_>>());
        let (then, outcome) = match guard::decide(&state, g.session.is_some()) {
            Claim::Start => (guard::claim_start_sql(table, m, g), Ok((0, false))),
            Claim::Resume(n) => (guard::claim_resume_sql(table, m, g), Ok((n as usize, true))),
            other => ("ROLLBACK".to_owned(), Err(other)),
        };
        if let Err(e) = db.client.batch_execute(&then).await {
            rollback(db).await;
            return Err(err(e));
        }
        let wait = match outcome {
            Ok(v) => return Ok(v),
            Err(Claim::Busy) => true,
            Err(other) => return Err(claim_error(other, m)),
        };
        if wait && !waiting {
            tracing::info!(migration = %m.name, "another run (or a backend a killed run left) is applying {}; waiting for it", m.name);
            waiting = true;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            sig = shutdown.wait() => return Err(Error::Interrupted(sig)),
        }
    }
}

/// The error for a claim that cannot go on.
fn claim_error(c: Claim, m: &Migration) -> Error {
    let file = m.file_name();
    match c {
        Claim::Done => Error::Coordination(Coordination {
            message: format!("{file} was recorded by another runner while this run held the migration lock: behind a pooler in transaction mode (PgBouncer) session locks do not hold, so use lock_mode = transaction or auto; nothing of {file} was applied by this run"),
            applied_elsewhere: true,
        }),
        Claim::Failed => Error::History(vec![HistoryProblem::Failed {
            name: m.name.clone(),
            error: None,
            progress: None,
        }]),
        _ => Error::Coordination(Coordination {
            message: format!("the migration lock was lost before {file} could run: its connection ended (idle_session_timeout, pg_terminate_backend, a server restart); nothing of {file} ran; run pgboot again"),
            applied_elsewhere: false,
        }),
    }
}

fn last_row(msgs: &[tokio_postgres::SimpleQueryMessage]) -> Vec<Option<String>> {
    msgs.iter()
        .rev()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Statement `i` and its progress in one transaction, after the checks.
async fn in_transaction(
    db: &Db,
    table: &TableName,
    m: &Migration,
    g: &Guard,
    i: usize,
    text: &str,
) -> std::result::Result<(), StepError> {
    let prefix = guard::step_prefix(table, m, g, i);
    let batch = format!("{prefix}{text}{}", guard::step_suffix(table, m, i));
    match db.client.simple_query(&batch).await {
        Ok(msgs) => {
            log_status_rows(&m.name, &msgs);
            Ok(())
        }
        Err(e) => {
            rollback(db).await;
            Err((e, prefix.chars().count()))
        }
    }
}

/// `COPY … FROM stdin` and its rows, with the checks and its progress, in one transaction.
async fn copy_step(
    db: &Db,
    table: &TableName,
    m: &Migration,
    g: &Guard,
    i: usize,
    statement: &str,
    rows: &str,
) -> std::result::Result<(), StepError> {
    let prefix = guard::step_prefix(table, m, g, i);
    let result = async {
        db.client.batch_execute(&prefix).await.map_err(|e| (e, 0))?;
        copy::copy_in(db, statement, rows)
            .await
            .map_err(|e| (e, 0))?;
        db.client
            .batch_execute(&guard::step_suffix(table, m, i))
            .await
            .map_err(|e| (e, 0))
    }
    .await;
    if result.is_err() {
        rollback(db).await;
    }
    result
}

/// A statement PostgreSQL refuses in a transaction: check, run it alone (tagged), then record.
async fn alone(
    db: &Db,
    table: &TableName,
    m: &Migration,
    g: &Guard,
    i: usize,
    text: &str,
    resuming: bool,
) -> std::result::Result<(), StepError> {
    let check = guard::check_sql(table, m, g, i);
    db.client.batch_execute(&check).await.map_err(|e| (e, 0))?;
    let index = sql::created_object(text).filter(|c| c.kind == "index");
    let schema = index
        .as_ref()
        .and_then(|c| c.schema.clone().or_else(|| c.on.as_ref()?.0.clone()));
    let mut skip = false;
    if let Some(c) = &index {
        // An interrupted build leaves an INVALID index that IF NOT EXISTS would keep; on resume,
        // the interrupted run may also have built it whole.
        let state = db
            .client
            .simple_query(&guard::index_state_sql(schema.as_deref(), &c.name))
            .await
            .map_err(|e| (e, 0))?;
        match crate::pg::db::first_value(&state).as_deref() {
            Some("valid") if resuming => {
                tracing::info!(migration = %m.name, index = %c.name, "index {} was built by the interrupted run and is valid: kept", c.name);
                skip = true;
            }
            Some("invalid") => {
                let drop = guard::drop_index_sql(schema.as_deref(), &c.name);
                tracing::warn!(migration = %m.name, index = %c.name, "index {} was left INVALID by the interrupted run: {drop}, then building it again", c.name);
                let tagged = format!("{}{drop}", g.tag());
                db.client.batch_execute(&tagged).await.map_err(|e| (e, 0))?;
            }
            _ => {}
        }
    }
    if !skip {
        let tag = g.tag();
        match db.client.simple_query(&format!("{tag}{text}")).await {
            Ok(msgs) => log_status_rows(&m.name, &msgs),
            Err(e) => return Err((e, tag.chars().count())),
        }
    }
    let progress = guard::progress_sql(table, m, i + 1);
    let valid = match &index {
        Some(c) => guard::index_valid_sql(schema.as_deref(), &c.name),
        None => String::new(),
    };
    let after = format!("BEGIN;\n{AS_CONNECTING_USER}{valid}{progress};\nCOMMIT;");
    if let Err(e) = db.client.batch_execute(&after).await {
        rollback(db).await;
        return Err((e, 0));
    }
    Ok(())
}

/// SQLSTATEs that interrupt rather than fail: the statement did not run to its end, and
/// running it again is the cure (cancel, shutdown, crash, lost connection, serialization).
fn interruption(sqlstate: &str) -> bool {
    matches!(&sqlstate[..2.min(sqlstate.len())], "57" | "08" | "40")
}

/// A statement stopped: an SQL error is recorded (the next run stops with exit 4); an
/// interruption leaves the claim for the next run to resume.
#[allow(clippy::too_many_arguments)]
async fn stopped(
    db: &Db,
    table: &TableName,
    m: &Migration,
    g: &Guard,
    piece: &Piece,
    e: tokio_postgres::Error,
    sent_before: usize,
    started: Instant,
    shutdown: &Shutdown,
) -> Error {
    if let Some(err) = guard_error(&e, m) {
        return err;
    }
    let code = e.code().map(|c| c.code().to_owned()).unwrap_or_default();
    let interrupted =
        shutdown.signalled().is_some() || e.as_db_error().is_none() || interruption(&code);
    let outcome = match interrupted {
        true => NO_TX_INTERRUPTED.to_owned(),
        false => {
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            let error = describe_pg_error(&e);
            let fail = format!("{}{};", g.reset, guard::fail_sql(table, m, g, ms, &error));
            let _ = db.client.batch_execute(&fail).await;
            NO_TX_FAILED.replace("NAME", &m.name)
        }
    };
    // The server's position counts from the start of what was sent.
    let pos = original_position(&e).map(|p| p.saturating_sub(sent_before as u32));
    let offset = m.sql[..piece.range.start].chars().count();
    let file = m.path.display().to_string();
    let line = match &piece.kind {
        PieceKind::CopyIn(data) => {
            copy::row_line(e.as_db_error().and_then(|d| d.where_()), data.line)
        }
        _ => None,
    };
    let mut f = fail(
        &file,
        m,
        e,
        0,
        line.or(Some(piece.line)),
        &outcome,
        shutdown,
    );
    if let Error::Migration(mf) = &mut f {
        relocate(mf, pos.filter(|p| *p > 0), offset, &m.sql);
    }
    f
}
