//! verify's second run: every file again, statement by statement in autocommit (as `psql -f`
//! would), recording what each statement did (its error, or the rows a DML statement touched)
//! and the catalog's shape after each file. No full snapshot here: those are taken once before
//! and once after the whole run.

use futures_util::SinkExt;
use tokio_postgres::SimpleQueryMessage;

use super::{advice_for, describe_statement, IdempotencyProblem};
use crate::checks::replay::Scratch;
use crate::error::{Error, Result};
use crate::model::Migration;
use crate::pg::session;
use crate::sql::{self, PieceKind};

/// A statement of the second run that inserted, deleted or copied rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    pub line: usize,
    /// `INSERT`, `COPY`, `DELETE`, `MERGE`, `UPDATE`.
    pub verb: String,
    /// The target's name, lower case, without schema (`plans`).
    pub table: String,
    pub rows: u64,
    pub statement: String,
}

/// One file's second run.
#[derive(Debug, Clone, Default)]
pub struct FileRun {
    /// Statements that failed: findings already.
    pub failures: Vec<IdempotencyProblem>,
    pub row_changes: Vec<RowChange>,
    /// The catalog's shape after the file.
    pub shape: Vec<String>,
    pub statements: usize,
}

/// The verb and target table of a DML statement (`INSERT INTO s.t …` → `("INSERT", "t")`),
/// from the statement's first significant token on. Pure.
pub fn dml_target(stmt: &str) -> Option<(String, String)> {
    let words = sql::leading_keywords(stmt, 2);
    let verb = words.first()?.clone();
    let skip = match (verb.as_str(), words.get(1).map(String::as_str)) {
        ("INSERT", Some("INTO")) | ("DELETE", Some("FROM")) | ("MERGE", Some("INTO")) => 2,
        ("UPDATE", _) | ("COPY", _) => 1,
        _ => return None,
    };
    let mut rest = stmt.trim_start();
    for _ in 0..skip {
        let end = rest.find(char::is_whitespace)?;
        rest = rest[end..].trim_start();
    }
    if rest.to_ascii_uppercase().starts_with("ONLY ") {
        rest = rest[5..].trim_start();
    }
    let name: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '(' && *c != ';')
        .collect();
    let bare = name.rsplit('.').next()?.trim_matches('"');
    let bare = match name.ends_with('"') {
        true => bare.to_owned(),
        false => bare.to_ascii_lowercase(),
    };
    (!bare.is_empty()).then_some((verb, bare))
}

/// The apply path's session reset, without dropping prepared statements and plans: the shape's
/// statement survives it. (Should the text change so that they go too, the shape is prepared
/// again: slower, still right.)
fn reset_keeping_plans() -> String {
    session::RESET
        .replace("DEALLOCATE ALL;\n", "")
        .replace("DISCARD PLANS;\n", "")
}

/// The rows a CommandComplete reported, summed over the messages.
fn rows_of(msgs: &[SimpleQueryMessage]) -> u64 {
    msgs.iter()
        .map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => *n,
            _ => 0,
        })
        .sum()
}

/// Runs `m` a second time. SQL errors are findings; anything else (a lost connection, a
/// signal) stops the check.
pub async fn run_file(s: &Scratch<'_>, m: &Migration) -> Result<FileRun> {
    let analysis = sql::analyze(&m.sql);
    let mut out = match batch(s, m, &analysis).await? {
        Some(out) => out,
        None => one_by_one(s, m, &analysis).await?,
    };
    // A file that left a transaction block open (or aborted) must not leak into the next, nor
    // its session settings: each file from a fresh session, as `psql -f` gives it, and the
    // snapshots rendered with the same search_path as the first run's (a pg_dump header empties
    // it, and pg_get_*def qualify names by it).
    let _ = s.db.client.batch_execute("ROLLBACK").await;
    s.db.client
        .batch_execute(&reset_keeping_plans())
        .await
        .map_err(|e| Error::db(format!("resetting the session after {}", m.file_name()), e))?;
    out.shape = s.shape().await?;
    Ok(out)
}

/// A row change, when the statement is DML that touched rows.
fn row_change(m: &Migration, piece: &sql::Piece, rows: u64) -> Option<RowChange> {
    let text = piece.text(&m.sql);
    let from_start = piece
        .start
        .map(|b| &m.sql[b..piece.range.end])
        .unwrap_or(text);
    let (verb, table) = dml_target(from_start).filter(|_| rows > 0)?;
    Some(RowChange {
        line: piece.line,
        verb,
        table,
        rows,
        statement: describe_statement(text),
    })
}

/// The fast path: the whole file in one round trip, when it is plain SQL that may run in a
/// transaction (no COPY data, no meta-command, no BEGIN/COMMIT, nothing that must run alone).
/// The simple-query protocol runs it as one implicit transaction: when every statement
/// succeeds the end state is the one statement-by-statement autocommit reaches; when one fails
/// nothing of it stays and `None` sends the file through [`one_by_one`], which finds each
/// failing statement as psql would.
async fn batch(s: &Scratch<'_>, m: &Migration, a: &sql::Analysis) -> Result<Option<FileRun>> {
    let pieces: Vec<&sql::Piece> = a.pieces.iter().filter(|p| !p.is_empty()).collect();
    let plain = pieces.iter().all(|p| matches!(p.kind, PieceKind::Sql));
    if !plain || a.manages_transaction || a.no_transaction.is_some() || pieces.len() < 2 {
        return Ok(None);
    }
    let msgs = match s.db.client.simple_query(&m.sql).await {
        Ok(msgs) => msgs,
        Err(e) if e.as_db_error().is_some() && s.shutdown().signalled().is_none() => {
            return Ok(None)
        }
        Err(e) => {
            return Err(match s.shutdown().signalled() {
                Some(sig) => Error::Interrupted(sig),
                None => Error::db(format!("running {} a second time", m.file_name()), e),
            })
        }
    };
    let completes = msgs.iter().filter_map(|x| match x {
        SimpleQueryMessage::CommandComplete(n) => Some(*n),
        _ => None,
    });
    let row_changes = pieces
        .iter()
        .zip(completes)
        .filter_map(|(p, rows)| row_change(m, p, rows))
        .collect();
    Ok(Some(FileRun {
        row_changes,
        statements: pieces.len(),
        ..Default::default()
    }))
}

/// Statement by statement in autocommit, as `psql -f` runs a file.
async fn one_by_one(s: &Scratch<'_>, m: &Migration, a: &sql::Analysis) -> Result<FileRun> {
    let mut out = FileRun::default();
    for piece in a.pieces.iter().filter(|p| !p.is_empty()) {
        if let Some(sig) = s.shutdown().signalled() {
            return Err(Error::Interrupted(sig));
        }
        let text = piece.text(&m.sql);
        let result = match &piece.kind {
            // \set, \echo, \restrict …: client-side, nothing to run again. (\copy's rows are
            // loaded by the first run only.)
            PieceKind::Meta(_) => continue,
            PieceKind::Sql => s.db.client.simple_query(text).await.map(|m| rows_of(&m)),
            PieceKind::CopyIn(d) => {
                let data = m.sql.get(d.range.clone()).unwrap_or("");
                copy_in(s, piece.sql_text(&m.sql), data).await
            }
        };
        out.statements += 1;
        match result {
            Ok(rows) => out.row_changes.extend(row_change(m, piece, rows)),
            Err(e) => {
                if let Some(sig) = s.shutdown().signalled() {
                    return Err(Error::Interrupted(sig));
                }
                let Some(dbe) = e.as_db_error() else {
                    return Err(Error::db(
                        format!("running {} a second time", m.file_name()),
                        e,
                    ));
                };
                let code = dbe.code().code();
                if code == "25P02" {
                    continue; // the file's own transaction block is aborted: already reported
                }
                out.failures.push(IdempotencyProblem {
                    file: m.file_name(),
                    line: Some(piece.line),
                    statement: Some(describe_statement(text)),
                    sqlstate: Some(code.to_owned()),
                    message: dbe.message().to_owned(),
                    advice: advice_for(code).map(str::to_owned),
                    diff: Vec::new(),
                });
            }
        }
    }
    Ok(out)
}

async fn copy_in(
    s: &Scratch<'_>,
    statement: &str,
    data: &str,
) -> Result<u64, tokio_postgres::Error> {
    let sink = s.db.client.copy_in::<str, bytes::Bytes>(statement).await?;
    let mut sink = std::pin::pin!(sink);
    sink.send(bytes::Bytes::copy_from_slice(data.as_bytes()))
        .await?;
    sink.as_mut().finish().await
}

#[cfg(test)]
mod tests {
    use super::dml_target;

    fn t(s: &str) -> Option<(String, String)> {
        dml_target(s)
    }

    #[test]
    fn the_reset_keeps_prepared_statements_only() {
        let r = super::reset_keeping_plans();
        assert!(
            !r.contains("DEALLOCATE") && !r.contains("DISCARD PLANS"),
            "{r}"
        );
        assert!(
            r.contains("RESET ALL;") && r.contains("DISCARD TEMP;"),
            "{r}"
        );
    }

    #[test]
    fn dml_targets() {
        let p = |v: &str, n: &str| Some((v.to_owned(), n.to_owned()));
        assert_eq!(
            t("INSERT INTO plans (code) VALUES ('a')"),
            p("INSERT", "plans")
        );
        assert_eq!(
            t("insert into public.Plans values (1)"),
            p("INSERT", "plans")
        );
        assert_eq!(
            t("INSERT INTO \"Odd\".\"Name\"(a) VALUES (1)"),
            p("INSERT", "Name")
        );
        assert_eq!(t("DELETE FROM ONLY s.t WHERE true"), p("DELETE", "t"));
        assert_eq!(t("UPDATE t SET a = 1"), p("UPDATE", "t"));
        assert_eq!(t("COPY public.t (a, b) FROM stdin;"), p("COPY", "t"));
        assert_eq!(t("SELECT 1"), None);
        assert_eq!(t("CREATE TABLE t (a int)"), None);
    }
}
