//! The history table's SQL text, the only copy: create, read, record, and what `repair` changes.
//! Pure: each function returns the text that `history` (or `apply`, inside a file's
//! transaction) sends.

use crate::config::TableName;
use crate::model::Migration;
use crate::pg::quote::quote_literal;

/// How a row came to be: applied by `migrate`, or recorded by `baseline` without running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Migrate,
    Baseline,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Migrate => "migrate",
            Kind::Baseline => "baseline",
        }
    }
}

pub fn create_sql(t: &TableName) -> String {
    format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
CREATE TABLE IF NOT EXISTS {q} (
    version        bigint           NOT NULL,
    name           text             PRIMARY KEY,
    checksum       text             NOT NULL,
    applied_at     timestamptz      NOT NULL DEFAULT now(),
    execution_ms   double precision NOT NULL,
    applied_by     text             NOT NULL DEFAULT current_user,
    pgboot_version text             NOT NULL,
    transactional  boolean          NOT NULL,
    success        boolean          NOT NULL,
    kind           text             NOT NULL DEFAULT 'migrate',
    progress       integer,
    error          text,
    run_id         text
);
COMMENT ON TABLE {q} IS 'Migrations applied by pgboot, one row per file';",
        schema = t.schema,
        q = t.qualified()
    )
}

/// The columns of pgboot 0.1's table; a table without them is another tool's.
pub const COLUMNS: &[&str] = &[
    "version",
    "name",
    "checksum",
    "applied_at",
    "execution_ms",
    "pgboot_version",
    "transactional",
    "success",
];

/// Columns added since 0.1, with their types: added to an older table before it is used.
pub const ADDED: &[(&str, &str)] = &[
    ("progress", "integer"),
    ("error", "text"),
    ("run_id", "text"),
];

/// One row, one column: the table's columns (comma-separated, in order), NULL when it is missing.
pub fn columns_sql(t: &TableName) -> String {
    format!(
        "SELECT (SELECT string_agg(a.attname::text, ',' ORDER BY a.attnum) \
         FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 \
         AND NOT a.attisdropped) FROM (SELECT to_regclass({}) AS oid) c WHERE c.oid IS NOT NULL",
        quote_literal(&t.qualified())
    )
}

/// Creates the table, or adds the columns an older pgboot did not have, under the file lock
/// (racers behind a transaction pooler hold no other lock).
pub fn ensure_sql(t: &TableName, file_key: i64, exists: bool) -> String {
    let body = if exists {
        let cols: Vec<String> = ADDED
            .iter()
            .map(|(c, ty)| format!("ADD COLUMN IF NOT EXISTS {c} {ty}"))
            .collect();
        format!("ALTER TABLE {} {};", t.qualified(), cols.join(", "))
    } else {
        create_sql(t)
    };
    format!("BEGIN;\nSELECT pg_advisory_xact_lock({file_key});\n{body}\nCOMMIT;")
}

/// A synchronous commit that writes WAL, so every asynchronous commit before it is durable
/// (PostgreSQL flushes the WAL up to a synchronous commit's record, which comes after theirs).
/// Rewrites a row this run committed with no change.
pub fn flush_sql(t: &TableName, name: &str) -> String {
    format!(
        "UPDATE {} SET applied_at = applied_at WHERE name = {}",
        t.qualified(),
        quote_literal(name)
    )
}

pub fn select_sql(t: &TableName) -> String {
    format!(
        "SELECT version, name, checksum, success, transactional, \
         to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), execution_ms, \
         progress, error, run_id FROM {} ORDER BY version, name",
        t.qualified()
    )
}

/// The INSERT that records a migration. `execution_ms` None: measured by the server as the
/// time since the transaction started (the row commits with the migration's transaction).
pub fn insert_sql(
    t: &TableName,
    m: &Migration,
    transactional: bool,
    success: bool,
    execution_ms: Option<f64>,
    kind: Kind,
) -> String {
    let ms = match execution_ms {
        Some(ms) => format!("{ms}"),
        None => "1000 * extract(epoch FROM clock_timestamp() - now())".into(),
    };
    format!(
        "INSERT INTO {} (version, name, checksum, execution_ms, pgboot_version, transactional, \
         success, kind) VALUES ({}, {}, {}, {ms}, {}, {transactional}, {success}, '{}')",
        t.qualified(),
        m.version,
        quote_literal(&m.name),
        quote_literal(&m.checksum),
        quote_literal(env!("CARGO_PKG_VERSION")),
        kind.as_str(),
    )
}

/// `repair`: record a drifted file's new checksum.
pub fn rechecksum_sql(t: &TableName, name: &str, checksum: &str) -> String {
    format!(
        "UPDATE {} SET checksum = {} WHERE name = {}",
        t.qualified(),
        quote_literal(checksum),
        quote_literal(name)
    )
}

/// `repair`: remove a failed row so the file runs again.
pub fn remove_failed_sql(t: &TableName, name: &str) -> String {
    format!(
        "DELETE FROM {} WHERE name = {} AND NOT success",
        t.qualified(),
        quote_literal(name)
    )
}

/// `repair`: a failed non-transactional file resumes where it stopped on the next run.
pub fn resume_sql(t: &TableName, name: &str) -> String {
    format!(
        "UPDATE {} SET error = NULL, run_id = NULL WHERE name = {} AND NOT success \
         AND progress IS NOT NULL",
        t.qualified(),
        quote_literal(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn t() -> TableName {
        TableName::parse("pgboot.schema_history").unwrap()
    }

    fn m() -> Migration {
        Migration {
            version: 7,
            name: "007_o'neil".into(),
            path: PathBuf::from("migrations/007_o'neil.sql"),
            sql: String::new(),
            checksum: "sha256-lf:abc".into(),
            origins: Vec::new(),
            variables: Vec::new(),
        }
    }

    #[test]
    fn insert_records_kind_and_quotes_names() {
        let s = insert_sql(&t(), &m(), true, true, None, Kind::Baseline);
        assert!(
            s.starts_with("INSERT INTO \"pgboot\".\"schema_history\""),
            "{s}"
        );
        assert!(s.contains("E'007_o''neil'"), "{s}");
        assert!(s.ends_with("true, true, 'baseline')"), "{s}");
        assert!(s.contains("clock_timestamp() - now()"), "{s}");
        let s = insert_sql(&t(), &m(), false, false, Some(1.5), Kind::Migrate);
        assert!(s.contains("E'sha256-lf:abc', 1.5, E'"), "{s}");
        assert!(s.ends_with("false, false, 'migrate')"), "{s}");
    }

    #[test]
    fn repair_statements() {
        assert_eq!(
            rechecksum_sql(&t(), "001_a", "sha256-lf:new"),
            "UPDATE \"pgboot\".\"schema_history\" SET checksum = E'sha256-lf:new' WHERE name = E'001_a'"
        );
        assert_eq!(
            remove_failed_sql(&t(), "001_a"),
            "DELETE FROM \"pgboot\".\"schema_history\" WHERE name = E'001_a' AND NOT success"
        );
    }
}
