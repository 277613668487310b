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
    kind           text             NOT NULL DEFAULT 'migrate'
);
COMMENT ON TABLE {q} IS 'Migrations applied by pgboot, one row per file';",
        schema = t.schema,
        q = t.qualified()
    )
}

pub fn select_sql(t: &TableName) -> String {
    format!(
        "SELECT version, name, checksum, success, transactional, \
         to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), execution_ms \
         FROM {} ORDER BY version, name",
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
