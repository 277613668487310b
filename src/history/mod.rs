//! The history table (default `pgboot.schema_history`): one row per migration file. Its SQL
//! text lives in `sql.rs`, the only place that writes it; this file loads and records.

pub mod sql;

use tokio_postgres::SimpleQueryMessage;

use crate::config::TableName;
use crate::error::{Error, Result};
use crate::model::Applied;
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::quote::quote_literal;
use sql::{create_sql, insert_sql, select_sql, Kind};

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
            Kind::Migrate,
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
