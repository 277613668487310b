//! Streamed files (see `source::stream`: a large file discovery only summarised) are applied as
//! they are read again, in one transaction over several round trips: `BEGIN` and the checks
//! (`history::guard::file_prefix`), the SQL in simple queries of about 1 MiB, each
//! `COPY … FROM stdin` with its rows sent as they are read, then the history row and `COMMIT`
//! — what `tx::segmented` does for a file held in memory. Nothing holds the whole file.
//!
//! The checksum is computed again on the way; if the file changed since discovery, the
//! transaction is rolled back and the run stops, saying so. An error's position is mapped back
//! through the query's first line and column, and the report shows the file's lines around it,
//! read again from the file.

use std::pin::Pin;

use futures_util::SinkExt;
use tokio_postgres::CopyInSink;

use super::{copy, failure, guard_error, log_status_rows, rollback, Prepared};
use crate::config::TableName;
use crate::error::{Error, Result};
use crate::history::guard;
use crate::lock::Guard;
use crate::model::{Migration, MigrationFailure};
use crate::pg::db::Db;
use crate::pg::shutdown::Shutdown;
use crate::source::stream::{lines_around, Events};
use crate::sql::{Event, MetaAction};

/// Bytes of SQL per query.
const BATCH: usize = 1 << 20;

const ROLLED_BACK: &str = "the file was rolled back: none of its changes were kept";

pub(super) async fn run(
    db: &Db,
    table: &TableName,
    p: &Prepared<'_>,
    g: &Guard,
    shutdown: &Shutdown,
) -> Result<()> {
    let m = p.migration;
    let prefix = guard::file_prefix(table, m, g);
    if let Err(e) = db.client.batch_execute(&prefix).await {
        rollback(db).await;
        return Err(guard_error(&e, m)
            .unwrap_or_else(|| Error::db(format!("checking before {}", m.name), e)));
    }
    if let Err(e) = body(db, m, shutdown).await {
        rollback(db).await;
        return Err(e);
    }
    super::commit_file(db, table, m, g).await
}

/// SQL pieces gathered into one query: its text and the file (line, column) where it starts.
#[derive(Default)]
struct Batch {
    text: String,
    at: (usize, usize),
    /// The file line of the query's last line.
    last_line: usize,
}

/// A COPY in progress: its sink and the file lines of its statement and first row.
struct Copying {
    sink: Pin<Box<CopyInSink<bytes::Bytes>>>,
    line: usize,
    rows_line: usize,
}

async fn body(db: &Db, m: &Migration, shutdown: &Shutdown) -> Result<()> {
    let mut ev = Events::open(&m.path)?;
    let mut batch = Batch::default();
    let mut copying: Option<Copying> = None;
    while let Some(e) = ev.next_event()? {
        if let Some(sig) = shutdown.signalled() {
            return Err(Error::Interrupted(sig));
        }
        match e {
            Event::Sql {
                text, start, facts, ..
            } => {
                if batch.text.is_empty() {
                    batch.at = start;
                }
                batch.text.push_str(&text);
                // The server reads a query with the setting in force when it arrives.
                if facts.sets_scs || batch.text.len() >= BATCH {
                    send(db, m, &mut batch, shutdown).await?;
                }
            }
            Event::Meta { meta, text, .. } => {
                if crate::sql::meta_action(&meta.name) == MetaAction::Echo {
                    send(db, m, &mut batch, shutdown).await?;
                    tracing::info!(migration = %m.name, "echo: {}", meta.args);
                } else if !batch.text.is_empty() {
                    // Blanked, so positions in the query still point into the file.
                    batch
                        .text
                        .extend(text.chars().map(|c| if c == '\n' { c } else { ' ' }));
                }
            }
            Event::CopyStart {
                statement,
                start,
                line,
                rows_line,
                ..
            } => {
                send(db, m, &mut batch, shutdown).await?;
                match db.client.copy_in::<str, bytes::Bytes>(&statement).await {
                    Ok(sink) => {
                        copying = Some(Copying {
                            sink: Box::pin(sink),
                            line,
                            rows_line,
                        })
                    }
                    Err(e) => {
                        let q = Batch {
                            text: statement,
                            at: start,
                            last_line: line,
                        };
                        return Err(sql_error(m, &q, e, shutdown));
                    }
                }
            }
            Event::CopyRows(rows) => {
                // `feed`, not `send`: no flush per block (`finish` flushes).
                if let Some(c) = &mut copying {
                    if let Err(e) = c.sink.feed(bytes::Bytes::from(rows)).await {
                        return Err(copy_error(m, c, e, shutdown));
                    }
                }
            }
            Event::CopyEnd { .. } => {
                if let Some(mut c) = copying.take() {
                    match c.sink.as_mut().finish().await {
                        Ok(rows) => {
                            tracing::debug!(migration = %m.name, rows, line = c.line, "copied {rows} rows")
                        }
                        Err(e) => return Err(copy_error(m, &c, e, shutdown)),
                    }
                }
            }
            // Discovery found none: the file changed since.
            Event::Error(_) => break,
        }
    }
    send(db, m, &mut batch, shutdown).await?;
    while ev.next_event()?.is_some() {}
    let now = ev.checksum();
    if now != m.checksum {
        return Err(Error::Source(format!(
            "{}: the file changed while pgboot was running (checksum {} when the run started, {now} now); its transaction was rolled back and nothing after it ran; run pgboot again",
            m.path.display(),
            m.checksum
        )));
    }
    Ok(())
}

/// Sends the gathered SQL, if any.
async fn send(db: &Db, m: &Migration, batch: &mut Batch, shutdown: &Shutdown) -> Result<()> {
    if batch.text.trim().is_empty() {
        batch.text.clear();
        return Ok(());
    }
    batch.last_line = batch.at.0 + batch.text.matches('\n').count();
    match db.client.simple_query(&batch.text).await {
        Ok(msgs) => {
            log_status_rows(&m.name, &msgs);
            batch.text.clear();
            Ok(())
        }
        Err(e) => Err(sql_error(m, batch, e, shutdown)),
    }
}

/// A failed query: its position mapped to the file.
fn sql_error(m: &Migration, q: &Batch, e: tokio_postgres::Error, shutdown: &Shutdown) -> Error {
    let Some(f) = server_failure(m, &q.text, &e, None, shutdown) else {
        return other(m, e, shutdown);
    };
    let mut f = f;
    match f.line {
        Some(l) => {
            let (line, col) = q.at;
            f.line = Some(line + l - 1);
            if l == 1 {
                f.column = f.column.map(|c| c + col - 1);
            }
        }
        None => {
            f.outcome.push_str(&format!(
                " (the failing statement is between lines {} and {}: the file is streamed, so pgboot did not replay it to find the statement)",
                q.at.0, q.last_line
            ));
        }
    }
    Error::Migration(Box::new(with_snippet(m, f)))
}

/// A failed COPY: the row's line, from the server's CONTEXT.
fn copy_error(m: &Migration, c: &Copying, e: tokio_postgres::Error, shutdown: &Shutdown) -> Error {
    let context = e.as_db_error().and_then(|d| d.where_());
    let line = copy::row_line(context, c.rows_line).or(Some(c.line));
    match server_failure(m, "", &e, line, shutdown) {
        Some(f) => Error::Migration(Box::new(with_snippet(m, f))),
        None => other(m, e, shutdown),
    }
}

/// The server's error as report data, or None when it is not one.
fn server_failure(
    m: &Migration,
    sent: &str,
    e: &tokio_postgres::Error,
    line: Option<usize>,
    shutdown: &Shutdown,
) -> Option<MigrationFailure> {
    if shutdown.signalled().is_some() || e.as_db_error().is_none() {
        return None;
    }
    let file = m.path.display().to_string();
    Some(failure::failure(&file, sent, e, 0, line, ROLLED_BACK))
}

fn other(m: &Migration, e: tokio_postgres::Error, shutdown: &Shutdown) -> Error {
    match shutdown.signalled() {
        Some(sig) => Error::Interrupted(sig),
        None => Error::db(format!("applying {}", m.path.display()), e),
    }
}

/// The file's lines around the error, read again (the report shows them).
fn with_snippet(m: &Migration, mut f: MigrationFailure) -> MigrationFailure {
    f.sql = String::new();
    if let Some((first, text)) = f.line.and_then(|l| lines_around(&m.path, l, 2).ok()) {
        f.sql = text;
        f.sql_line = first;
    }
    f
}
