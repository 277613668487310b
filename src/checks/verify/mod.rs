//! `pgboot verify`: the CI gate that every migration is idempotent.
//!
//! 1. Creates a scratch database on the target's server (`replay`), dropped at the end
//!    whatever happens.
//! 2. Applies every file into it with pgboot's own apply path (history table included), then
//!    snapshots the catalog and the row count of every table, once.
//! 3. Runs every file a second time, statement by statement in autocommit (as psql would),
//!    taking only the catalog's cheap shape after each file (`second_run`).
//! 4. Snapshots once more. The sequence run twice must end as it ended once, and no statement
//!    may fail: each failing statement is a finding (with advice for the usual SQLSTATEs), and
//!    each part of the difference between the two snapshots is a finding put on the statement
//!    that caused it (`attribute`). A file whose second run changed the shape until a later
//!    file undid it is information, not a finding.
//! 5. Runs the tenancy check on the scratch database.
//!
//! Exit 7 on any finding, 0 when clean.

mod attribute;
mod second_run;

use std::time::Instant;

pub use attribute::Info;

use crate::apply;
use crate::checks::replay;
use crate::checks::scope;
use crate::checks::snapshot;
use crate::checks::tenancy;
use crate::config::TableName;
use crate::config::Target;
use crate::error::Result;
use crate::model::Migration;
use crate::pg::db::Db;
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
        let at = place(&self.file, self.line, self.statement.as_deref());
        let advice = self
            .advice
            .as_deref()
            .map(|a| format!("; {a}"))
            .unwrap_or_default();
        format!("{at} is not idempotent: {}{advice}", self.message)
    }
}

/// Where a finding or an info line is: `001_a.sql:13 CREATE TABLE tenants`, `001_a.sql:13`
/// without a statement, `001_a.sql` without a line. Pure.
pub(super) fn place(file: &str, line: Option<usize>, statement: Option<&str>) -> String {
    let mut at = match line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_owned(),
    };
    if let Some(s) = statement {
        at.push(' ');
        at.push_str(s);
    }
    at
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

/// What `verify` found in its scratch database.
pub struct Report {
    /// The scratch database's name (already dropped).
    pub database: String,
    pub problems: Vec<IdempotencyProblem>,
    /// Files whose second run changed the catalog until a later file undid it.
    pub info: Vec<Info>,
    /// Tenant-scoped tables the tenancy check looked at.
    pub tables: usize,
    pub tenancy: Vec<tenancy::Finding>,
}

/// Creates the scratch database through `admin`, proves the sequence idempotent there, and
/// drops it whatever happens.
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
    let snap_sql = format!(
        "{}\n;\n{}",
        snapshot::query(&table.schema),
        scope::with_scope(ROW_COUNTS, &table.schema)
    );
    replay::with_scratch(admin, target, tls, table, "verify", shutdown, async |s| {
        let database = s.name.clone();
        let n = migrations.len();
        let t = Instant::now();
        for m in migrations {
            s.apply(m).await?;
            tracing::debug!(migration = %m.name, "first run applied");
        }
        tracing::info!(
            files = n,
            ms = t.elapsed().as_millis() as u64,
            "verify: first run: applied {n} files"
        );
        let t = Instant::now();
        let before = snapshot::query_lines(&s.db, &snap_sql, "taking the snapshot").await?;
        let shape0 = s.shape().await?;
        tracing::info!(
            lines = before.len(),
            ms = t.elapsed().as_millis() as u64,
            "verify: snapshot after the first run: {} lines",
            before.len()
        );
        // Second run: statement by statement, autocommit, as psql would. Its "already exists,
        // skipping" NOTICEs are expected: logged at debug level.
        let t = Instant::now();
        let mut runs = Vec::with_capacity(n);
        for m in migrations {
            runs.push(second_run::run_file(s, m).await?);
        }
        let statements: usize = runs.iter().map(|r| r.statements).sum();
        let failed: usize = runs.iter().map(|r| r.failures.len()).sum();
        tracing::info!(
            files = n,
            statements,
            failed,
            ms = t.elapsed().as_millis() as u64,
            "verify: second run: {n} files, {statements} statements, {failed} failed"
        );
        let after = snapshot::query_lines(&s.db, &snap_sql, "taking the snapshot").await?;
        let diff = snapshot::diff(&before, &after);
        let mut problems: Vec<IdempotencyProblem> = runs
            .iter()
            .flat_map(|r| r.failures.iter().cloned())
            .collect();
        if !diff.is_empty() {
            problems.extend(attribute::findings(migrations, &shape0, &runs, &diff));
        }
        problems.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        let info = attribute::transient(migrations, &shape0, &runs);
        tracing::info!(
            differences = diff.len(),
            findings = problems.len(),
            info = info.len(),
            "verify: snapshot after the second run: {} lines differ",
            diff.len()
        );
        let (tables, tenancy) = tenancy::check(&s.db, &table.schema).await?;
        Ok(Report {
            database,
            problems,
            info,
            tables,
            tenancy,
        })
    })
    .await
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
    fn place_names_what_it_has() {
        assert_eq!(
            place("a.sql", Some(3), Some("INSERT INTO")),
            "a.sql:3 INSERT INTO"
        );
        assert_eq!(place("a.sql", Some(3), None), "a.sql:3");
        assert_eq!(
            place("a.sql", None, Some("INSERT INTO")),
            "a.sql INSERT INTO"
        );
        assert_eq!(place("a.sql", None, None), "a.sql");
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
}
