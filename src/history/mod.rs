//! The history table (default `pgboot.schema_history`): one row per migration file.

use tokio_postgres::SimpleQueryMessage;

use crate::config::TableName;
use crate::error::{Error, Result};
use crate::model::Applied;
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::quote::quote_literal;

fn create_sql(t: &TableName) -> String {
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

fn select_sql(t: &TableName) -> String {
    format!(
        "SELECT version, name, checksum, success, transactional, \
         to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), execution_ms \
         FROM {} ORDER BY version, name",
        t.qualified()
    )
}

fn parse_rows(msgs: &[SimpleQueryMessage]) -> Result<Vec<Applied>> {
    let bad = || Error::Database {
        context: "reading the history table".into(),
        message: "unexpected row format; is it a pgboot history table?".into(),
        source: None,
    };
    let mut out = Vec::new();
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            out.push(Applied {
                version: r.get(0).and_then(|v| v.parse().ok()).ok_or_else(bad)?,
                name: r.get(1).ok_or_else(bad)?.to_owned(),
                checksum: r.get(2).ok_or_else(bad)?.to_owned(),
                success: r.get(3) == Some("t"),
                transactional: r.get(4) == Some("t"),
                applied_at: r.get(5).unwrap_or_default().to_owned(),
                execution_ms: r.get(6).and_then(|v| v.parse().ok()).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// Creates the table when missing, otherwise reads it. Call with the lock held.
pub async fn ensure_and_load(db: &Db, t: &TableName) -> Result<Vec<Applied>> {
    let exists = db
        .client
        .simple_query(&format!(
            "SELECT to_regclass({})::text",
            quote_literal(&t.qualified())
        ))
        .await
        .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
    if crate::pg::db::first_value(&exists).is_none() {
        db.client.batch_execute(&create_sql(t)).await.map_err(|e| {
            Error::db(
                format!("creating the history table {t} (needs CREATE on the database)"),
                e,
            )
        })?;
        tracing::info!(table = %t, "created the history table");
        return Ok(Vec::new());
    }
    load_existing(db, t).await
}

/// Reads the table without creating it (status, validate): no table means no history.
pub async fn load(db: &Db, t: &TableName) -> Result<Vec<Applied>> {
    let sql = format!(
        "SELECT to_regclass({})::text IS NOT NULL",
        quote_literal(&t.qualified())
    );
    let exists = db
        .client
        .simple_query(&sql)
        .await
        .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
    if crate::pg::db::first_value(&exists).as_deref() != Some("t") {
        return Ok(Vec::new());
    }
    load_existing(db, t).await
}

async fn load_existing(db: &Db, t: &TableName) -> Result<Vec<Applied>> {
    let msgs = db
        .client
        .simple_query(&select_sql(t))
        .await
        .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
    parse_rows(&msgs)
}

/// The INSERT that records a migration. `execution_ms` None: measured by the server as the
/// time since the transaction started (the row commits with the migration's transaction).
pub fn insert_sql(
    t: &TableName,
    m: &Migration,
    transactional: bool,
    success: bool,
    execution_ms: Option<f64>,
) -> String {
    let ms = match execution_ms {
        Some(ms) => format!("{ms}"),
        None => "1000 * extract(epoch FROM clock_timestamp() - now())".into(),
    };
    format!(
        "INSERT INTO {} (version, name, checksum, execution_ms, pgboot_version, transactional, success) \
         VALUES ({}, {}, {}, {ms}, {}, {transactional}, {success})",
        t.qualified(),
        m.version,
        quote_literal(&m.name),
        quote_literal(&m.checksum),
        quote_literal(env!("CARGO_PKG_VERSION")),
    )
}

/// Records a migration outside any migration transaction (non-transactional files, failures).
pub async fn record(
    db: &Db,
    t: &TableName,
    m: &Migration,
    transactional: bool,
    success: bool,
    execution_ms: f64,
) -> Result<()> {
    db.client
        .batch_execute(&insert_sql(
            t,
            m,
            transactional,
            success,
            Some(execution_ms),
        ))
        .await
        .map_err(|e| Error::db(format!("recording {} in {t}", m.name), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            TableName::parse("pgboot.schema_history")
                .unwrap()
                .qualified(),
            "\"pgboot\".\"schema_history\""
        );
        assert_eq!(TableName::parse("history").unwrap().schema, "pgboot");
        assert!(TableName::parse("a.b.c").is_err());
        assert!(TableName::parse("x; drop").is_err());
        assert!(TableName::parse("Upper.case").is_err());
    }
}
