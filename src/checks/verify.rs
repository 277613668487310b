//! `pgboot verify`: the CI gate that every migration is idempotent.
//!
//! 1. Creates a scratch database on the target's server (`pgboot_verify_<pid>_<n>`), dropped at
//!    the end whatever happens (`DROP DATABASE IF EXISTS … WITH (FORCE)`).
//! 2. Applies every file into it with pgboot's own apply path (history table included), then
//!    snapshots the catalog and the row count of every table.
//! 3. Runs every file a second time, statement by statement in autocommit (as psql would),
//!    snapshotting after each file.
//! 4. Reports each statement that fails on the second run (with advice for the usual
//!    SQLSTATEs) and each file whose second run changes the snapshot.
//! 5. Runs the tenancy check on the scratch database.
//!
//! Exit 7 on any finding, 0 when clean.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::apply;
use crate::checks::scope;
use crate::checks::snapshot;
use crate::checks::tenancy;
use crate::config::TableName;
use crate::config::Target;
use crate::error::{Error, Result};
use crate::history;
use crate::lock::Guard;
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::quote::quote_ident;
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::Tls;
use crate::sql;

/// Row counts of every table in scope (`scope_relations` of `scope.sql`, composed in front by
/// [`scope::with_scope`] with the history schema), as snapshot lines (`rows <schema.table> <n>`):
/// an INSERT that adds rows on every run changes them. One query, `query_to_xml` (PostgreSQL 13+).
const ROW_COUNTS: &str = r#"
row_counts AS (
  SELECT format('rows %s %s', r.qname,
                (xpath('/row/c/text()',
                       query_to_xml(format('SELECT count(*) AS c FROM %s', r.qname),
                                    false, true, '')))[1]::text) AS line
    FROM scope_relations r
   WHERE r.relkind IN ('r', 'p', 'm')
     AND (r.relkind <> 'm' OR r.relispopulated)
)
SELECT line FROM row_counts ORDER BY 1
"#;

/// A problem found on the second run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyProblem {
    pub file: String,
    pub line: Option<usize>,
    /// E.g. `CREATE TABLE tenants`, `INSERT INTO`.
    pub statement: Option<String>,
    pub sqlstate: Option<String>,
    pub message: String,
    pub advice: Option<String>,
    /// Snapshot lines the second run removed (`- `) or added (`+ `).
    pub diff: Vec<String>,
}

impl IdempotencyProblem {
    /// `001_initial_schema.sql:13 CREATE TABLE tenants is not idempotent: relation "tenants" already exists; use IF NOT EXISTS`
    pub fn headline(&self) -> String {
        let at = match self.line {
            Some(l) => format!("{}:{l}", self.file),
            None => self.file.clone(),
        };
        let what = self
            .statement
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        let advice = self
            .advice
            .as_deref()
            .map(|a| format!("; {a}"))
            .unwrap_or_default();
        format!("{at}{what} is not idempotent: {}{advice}", self.message)
    }
}

/// The fields, plus the `headline` a person reads.
impl serde::Serialize for IdempotencyProblem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("IdempotencyProblem", 8)?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("statement", &self.statement)?;
        st.serialize_field("sqlstate", &self.sqlstate)?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("advice", &self.advice)?;
        st.serialize_field("diff", &self.diff)?;
        st.serialize_field("headline", &self.headline())?;
        st.end()
    }
}

/// What to do about an error a statement raises when it runs a second time.
pub fn advice_for(sqlstate: &str) -> Option<&'static str> {
    Some(match sqlstate {
        "42P07" | "42P06" => "use IF NOT EXISTS",
        "42710" => "drop it first with DROP … IF EXISTS, or create it in a DO block that checks the catalog first",
        "42723" => "use CREATE OR REPLACE",
        "42701" => "use ADD COLUMN IF NOT EXISTS",
        "23505" => "use INSERT … ON CONFLICT DO NOTHING",
        "42704" | "42P01" | "3F000" | "42883" => "use IF EXISTS",
        "42703" => "guard it with a DO block that checks information_schema.columns",
        _ => return None,
    })
}

/// How a statement is named in messages: `CREATE TABLE tenants`, or its first keywords.
pub fn describe_statement(stmt: &str) -> String {
    if let Some(c) = sql::created_object(stmt) {
        return format!("CREATE {} {}", c.kind.to_ascii_uppercase(), c.name);
    }
    let words = sql::leading_keywords(stmt, 3);
    let n = match words.first().map(String::as_str) {
        Some("INSERT") | Some("ALTER") | Some("DROP") | Some("GRANT") | Some("COMMENT") => {
            2.min(words.len())
        }
        _ => words.len().min(2),
    };
    words[..n].join(" ")
}

/// The relation a snapshot line is about (`public.t` in `column public.t 0001 id integer`).
fn line_object(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("+ "))?;
    rest.split_whitespace().nth(1)
}

/// For a file whose second run changed the snapshot: the first statement that names one of the
/// changed objects (row counts point at the INSERT), and the advice.
fn attribute_diff(m: &Migration, pieces: &[&sql::Piece], diff: &[String]) -> IdempotencyProblem {
    let rows_changed = diff.iter().any(|l| l[2..].starts_with("rows "));
    let names: Vec<String> = diff
        .iter()
        .filter_map(|l| line_object(l))
        .filter_map(|o| o.rsplit('.').next())
        .map(|n| n.trim_matches('"').to_ascii_lowercase())
        .collect();
    let culprit = pieces.iter().find(|p| {
        let text = p.text(&m.sql).to_ascii_lowercase();
        let is_insert =
            sql::leading_keywords(&text, 1).first().map(String::as_str) == Some("INSERT");
        (!rows_changed || is_insert) && names.iter().any(|n| text.contains(n.as_str()))
    });
    let (message, advice) = if rows_changed {
        (
            "its second run adds rows".to_string(),
            "use INSERT … ON CONFLICT DO NOTHING or WHERE NOT EXISTS".to_string(),
        )
    } else {
        (
            "its second run changes the catalog".to_string(),
            "guard the statement so a second run leaves the schema as it is".to_string(),
        )
    };
    IdempotencyProblem {
        file: m.file_name(),
        line: culprit.map(|p| p.line),
        statement: culprit.map(|p| describe_statement(p.text(&m.sql))),
        sqlstate: None,
        message,
        advice: Some(advice),
        diff: diff.to_vec(),
    }
}

fn scratch_name() -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    format!("pgboot_verify_{}_{n}", std::process::id())
}

/// What `verify` found in its scratch database.
pub struct Report {
    /// The scratch database's name (already dropped).
    pub database: String,
    pub problems: Vec<IdempotencyProblem>,
    /// Tenant-scoped tables the tenancy check looked at.
    pub tables: usize,
    pub tenancy: Vec<tenancy::Finding>,
}

/// Creates the scratch database through `admin`, proves every file idempotent there, and drops
/// it whatever happens.
pub async fn verify(
    admin: &Db,
    target: &Target,
    tls: &Tls,
    table: &TableName,
    migrations: &[Migration],
    shutdown: &Shutdown,
) -> Result<Report> {
    // Lex every file before creating anything.
    for m in migrations {
        apply::prepare(m)?;
    }
    let name = scratch_name();
    if let Err(e) = admin
        .client
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
        .await
    {
        if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) {
            return Err(Error::Connection(format!(
                "role {:?} lacks CREATEDB: `pgboot verify` applies the migrations to a scratch database it creates and drops; grant it with `ALTER ROLE {} CREATEDB`, or run verify as a role that has it (server: {})",
                target.user(),
                quote_ident(target.user()),
                crate::error::describe_pg_error(&e)
            )));
        }
        return Err(Error::db(
            format!("creating the scratch database {name}"),
            e,
        ));
    }
    tracing::info!(database = %name, "created the scratch database {name}; it is dropped at the end");
    let mut scratch_target = target.clone();
    scratch_target.pg.dbname(&name);
    let outcome = verify_in(&scratch_target, tls, table, migrations, shutdown).await;
    shutdown.set_cancel(None);
    let dropped = admin
        .client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&name)
        ))
        .await;
    if let Err(e) = &dropped {
        tracing::error!(database = %name, "could not drop the scratch database {name}: {}; drop it by hand", crate::error::describe_pg_error(e));
    } else {
        tracing::info!(database = %name, "dropped the scratch database {name}");
    }
    let (problems, tables, tenancy) = outcome?;
    dropped.map_err(|e| Error::db(format!("dropping the scratch database {name}"), e))?;
    Ok(Report {
        database: name,
        problems,
        tables,
        tenancy,
    })
}

type Outcome = (Vec<IdempotencyProblem>, usize, Vec<tenancy::Finding>);

/// Everything that runs inside the scratch database; its connection is closed on return.
async fn verify_in(
    target: &Target,
    tls: &Tls,
    table: &TableName,
    migrations: &[Migration],
    shutdown: &Shutdown,
) -> Result<Outcome> {
    let db = Db::connect(target, tls)
        .await
        .map_err(|e| Error::db("connecting to the scratch database", e))?;
    shutdown.set_cancel(Some(db.canceller()));
    // First pass: exactly as `migrate` applies them.
    // The scratch database is verify's alone: a guard without a session lock.
    let guard = Guard::new(&table.to_string(), None);
    history::ensure_and_load(&db, table, guard.file_key).await?;
    for m in migrations {
        if let Some(sig) = shutdown.signalled() {
            return Err(Error::Interrupted(sig));
        }
        let p = apply::prepare(m)?;
        apply::apply(&db, table, &p, &guard, shutdown).await?;
        tracing::debug!(migration = %m.name, "first run applied");
    }
    let snap_sql = format!(
        "{}\n;\n{}",
        snapshot::query(&table.schema),
        scope::with_scope(ROW_COUNTS, &table.schema)
    );
    let mut before = snapshot::query_lines(&db, &snap_sql, "taking the snapshot").await?;
    // Second pass: statement by statement, autocommit, as psql would.
    let mut problems = Vec::new();
    for m in migrations {
        let analysis = sql::analyze(&m.sql);
        let pieces: Vec<&sql::Piece> = analysis.pieces.iter().filter(|p| !p.is_empty()).collect();
        // The second run's "already exists, skipping" NOTICEs are expected: logged at debug level.
        for piece in &pieces {
            if let Some(sig) = shutdown.signalled() {
                return Err(Error::Interrupted(sig));
            }
            let text = piece.text(&m.sql);
            if let Err(e) = db.client.simple_query(text).await {
                if let Some(sig) = shutdown.signalled() {
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
                problems.push(IdempotencyProblem {
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
        // A file that left a transaction block open (or aborted) must not leak into the next.
        let _ = db.client.batch_execute("ROLLBACK").await;
        let after = snapshot::query_lines(&db, &snap_sql, "taking the snapshot").await?;
        let diff = snapshot::diff(&before, &after);
        if !diff.is_empty() {
            problems.push(attribute_diff(m, &pieces, &diff));
        }
        before = after;
    }
    let (tables, findings) = tenancy::check(&db, &table.schema).await?;
    Ok((problems, tables, findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_names_file_line_statement_and_advice() {
        let p = IdempotencyProblem {
            file: "001_initial_schema.sql".into(),
            line: Some(13),
            statement: Some(describe_statement("CREATE TABLE tenants (id uuid)")),
            sqlstate: Some("42P07".into()),
            message: "relation \"tenants\" already exists".into(),
            advice: advice_for("42P07").map(str::to_owned),
            diff: vec![],
        };
        assert_eq!(
            p.headline(),
            "001_initial_schema.sql:13 CREATE TABLE tenants is not idempotent: relation \"tenants\" already exists; use IF NOT EXISTS"
        );
    }

    #[test]
    fn advice_for_the_usual_sqlstates() {
        assert_eq!(advice_for("42P06"), Some("use IF NOT EXISTS"));
        assert!(advice_for("42710").unwrap().contains("DROP … IF EXISTS"));
        assert_eq!(advice_for("42723"), Some("use CREATE OR REPLACE"));
        assert_eq!(advice_for("42701"), Some("use ADD COLUMN IF NOT EXISTS"));
        assert!(advice_for("23505")
            .unwrap()
            .contains("ON CONFLICT DO NOTHING"));
        assert_eq!(advice_for("22012"), None);
    }

    #[test]
    fn statements_are_named() {
        assert_eq!(
            describe_statement("CREATE POLICY p ON public.t USING (true)"),
            "CREATE POLICY p"
        );
        assert_eq!(
            describe_statement("-- c\nINSERT INTO t VALUES (1)"),
            "INSERT INTO"
        );
        assert_eq!(
            describe_statement("ALTER TABLE t ADD COLUMN c int"),
            "ALTER TABLE"
        );
    }

    #[test]
    fn a_row_count_diff_points_at_the_insert() {
        let sql =
            "CREATE TABLE IF NOT EXISTS plans (code text);\n\nINSERT INTO plans VALUES ('a');\n";
        let m = Migration {
            version: 3,
            name: "003_seed".into(),
            path: "migrations/003_seed.sql".into(),
            sql: sql.into(),
            checksum: String::new(),
            origins: Vec::new(),
            variables: Vec::new(),
            streamed: None,
        };
        let a = sql::analyze(sql);
        let pieces: Vec<&sql::Piece> = a.pieces.iter().filter(|p| !p.is_empty()).collect();
        let diff = vec![
            "- rows public.plans 1".to_string(),
            "+ rows public.plans 2".to_string(),
        ];
        let p = attribute_diff(&m, &pieces, &diff);
        assert_eq!(p.line, Some(3));
        assert_eq!(p.statement.as_deref(), Some("INSERT INTO"));
        assert!(
            p.headline().contains("ON CONFLICT DO NOTHING"),
            "{}",
            p.headline()
        );
        assert!(
            p.headline().starts_with("003_seed.sql:3 INSERT INTO"),
            "{}",
            p.headline()
        );
    }
}
