//! The history table's SQL text, the only copy: create, read, record, and what `repair` changes.
//! Pure: each function returns the text that `history` (or `apply`, inside a file's
//! transaction) sends.

use crate::config::TableName;
use crate::model::Migration;
use crate::pg::quote::quote_literal;

pub use crate::model::Kind;

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
    run_id         text,
    adopted_from   text
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
    ("adopted_from", "text"),
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
         kind, progress, error, run_id, adopted_from FROM {} ORDER BY version, name",
        t.qualified()
    )
}

/// The INSERT that records a migration. `execution_ms` None: measured by the server as the
/// time since the transaction started (the row commits with the migration's transaction).
/// `Kind::Migrate` means "applied by running it" and records the file's own kind (`migrate`,
/// `repeatable` or `seed`). A repeatable file keeps one row: its earlier row is deleted first,
/// in the same transaction.
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
    let kind = match kind {
        Kind::Migrate => m.kind,
        other => other,
    };
    let replace = match kind {
        Kind::Repeatable => format!("{};\n", forget_sql(t, &m.name)),
        _ => String::new(),
    };
    // adopted_from only for adopted rows: the other statements stay as pgboot 0.1 wrote them.
    let (from_col, from_val) = match kind {
        Kind::Adopted(tool) => (", adopted_from", format!(", {}", quote_literal(tool))),
        _ => ("", String::new()),
    };
    format!(
        "{replace}INSERT INTO {} (version, name, checksum, execution_ms, pgboot_version, transactional, \
         success, kind{from_col}) VALUES ({}, {}, {}, {ms}, {}, {transactional}, {success}, '{}'{from_val})",
        t.qualified(),
        m.version,
        quote_literal(&m.name),
        quote_literal(&m.checksum),
        quote_literal(env!("CARGO_PKG_VERSION")),
        kind.as_str(),
    )
}

/// Deletes a repeatable file's row before its new application is recorded (same transaction).
pub fn forget_sql(t: &TableName, name: &str) -> String {
    format!(
        "DELETE FROM {} WHERE name = {}",
        t.qualified(),
        quote_literal(name)
    )
}

/// The condition on a history row (columns prefixed with `p`, e.g. `r.`) under which `m` counts
/// as recorded, so that a runner must not apply it (again): for a versioned file or a seed, any
/// row of its name; for a repeatable file, an unfinished row, or a finished one of the same text
/// (another runner applied this text); for a `-- pgboot:always` file, only an unfinished row.
pub fn recorded_sql(p: &str, m: &Migration) -> String {
    match (m.kind, m.always) {
        (Kind::Repeatable, true) => format!("NOT {p}success"),
        (Kind::Repeatable, false) => format!(
            "(NOT {p}success OR {p}checksum = {})",
            quote_literal(&m.checksum)
        ),
        _ => "true".into(),
    }
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
            ..Default::default()
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
        let s = insert_sql(&t(), &m(), true, true, Some(0.0), Kind::Adopted("dbmate"));
        assert!(s.contains("success, kind, adopted_from) VALUES"), "{s}");
        assert!(s.ends_with("true, true, 'adopted', E'dbmate')"), "{s}");
    }

    #[test]
    fn the_table_has_every_added_column() {
        let create = create_sql(&t());
        for (c, ty) in ADDED {
            assert!(create.contains(&format!("    {c} ")), "{c}");
            assert!(
                ensure_sql(&t(), 1, true).contains(&format!("ADD COLUMN IF NOT EXISTS {c} {ty}"))
            );
        }
    }

    #[test]
    fn a_repeatable_replaces_its_row_and_counts_as_recorded_only_for_its_text() {
        let r = Migration {
            name: "R__views".into(),
            checksum: "sha256-lf:v2".into(),
            kind: Kind::Repeatable,
            ..m()
        };
        let s = insert_sql(&t(), &r, true, true, None, Kind::Migrate);
        assert!(
            s.starts_with(
                "DELETE FROM \"pgboot\".\"schema_history\" WHERE name = E'R__views';\nINSERT"
            ),
            "{s}"
        );
        assert!(s.ends_with("true, true, 'repeatable')"), "{s}");
        assert_eq!(
            recorded_sql("r.", &r),
            "(NOT r.success OR r.checksum = E'sha256-lf:v2')"
        );
        let always = Migration { always: true, ..r };
        assert_eq!(recorded_sql("", &always), "NOT success");
        // Versioned files and seeds: any row of the name; a seed is recorded as a seed.
        assert_eq!(recorded_sql("", &m()), "true");
        let seed = Migration {
            kind: Kind::Seed,
            ..m()
        };
        let s = insert_sql(&t(), &seed, true, true, None, Kind::Migrate);
        assert!(s.starts_with("INSERT") && s.ends_with("'seed')"), "{s}");
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
