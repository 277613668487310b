//! The history table (default `pgboot.schema_history`): one row per migration file. Its SQL
//! text lives in `sql.rs`, the only place that writes it; this file loads and records.

pub mod sql;

use tokio_postgres::SimpleQueryMessage;

use crate::config::TableName;
use crate::error::{Error, Result};
use crate::model::{Applied, HistoryProblem, Migration};
use crate::pg::db::Db;
pub mod guard;

use sql::{insert_sql, select_sql, Kind};

/// Reads the rows. A row pgboot cannot read (a NULL checksum, a version that is no number)
/// means the table is not, or no longer, pgboot's.
fn parse_rows(t: &TableName, msgs: &[SimpleQueryMessage]) -> Result<Vec<Applied>> {
    let foreign = |what: String| {
        Error::History(vec![HistoryProblem::ForeignTable {
            table: t.to_string(),
            what,
        }])
    };
    let text = |r: &tokio_postgres::SimpleQueryRow, i: usize| r.get(i).map(str::to_owned);
    let mut out = Vec::new();
    for m in msgs {
        if let SimpleQueryMessage::Row(r) = m {
            let name = text(r, 1).ok_or_else(|| foreign("a row has no name".into()))?;
            let version = r.get(0).and_then(|v| v.parse().ok());
            let version = version.ok_or_else(|| foreign(format!("row {name} has no version")))?;
            let checksum =
                text(r, 2).ok_or_else(|| foreign(format!("row {name} has no checksum")))?;
            out.push(Applied {
                version,
                name,
                checksum,
                success: r.get(3) == Some("t"),
                transactional: r.get(4) == Some("t"),
                applied_at: r.get(5).unwrap_or_default().to_owned(),
                execution_ms: r.get(6).and_then(|v| v.parse().ok()).unwrap_or_default(),
                kind: crate::model::Kind::parse(r.get(7).unwrap_or_default()),
                progress: r.get(8).and_then(|v| v.parse().ok()),
                error: text(r, 9),
                run_id: text(r, 10),
                adopted_from: text(r, 11),
            });
        }
    }
    Ok(out)
}

/// What the table is: missing, pgboot's (maybe from an older version), or another tool's.
enum Shape {
    Missing,
    Current,
    /// An older pgboot's table, with its columns: lacks some of [`sql::ADDED`].
    Older(Vec<String>),
}

/// Another tool's history table, by its columns: what to call it in the message.
fn looks_like(columns: &[&str]) -> &'static str {
    let has = |c: &str| columns.contains(&c);
    if has("installed_rank") {
        "Flyway's flyway_schema_history"
    } else if has("dirty") {
        "golang-migrate's schema_migrations"
    } else if has("version_id") && has("is_applied") {
        "goose's goose_db_version"
    } else if has("installed_on") && has("description") {
        "sqlx's _sqlx_migrations"
    } else if columns == ["version"] {
        "dbmate's schema_migrations"
    } else {
        "another tool's table"
    }
}

async fn shape(db: &Db, t: &TableName) -> Result<Shape> {
    let msgs = db
        .client
        .simple_query(&sql::columns_sql(t))
        .await
        .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
    let Some(list) = crate::pg::db::first_value(&msgs) else {
        return Ok(Shape::Missing);
    };
    let columns: Vec<&str> = list.split(',').collect();
    if let Some(missing) = sql::COLUMNS.iter().find(|c| !columns.contains(c)) {
        return Err(Error::History(vec![HistoryProblem::ForeignTable {
            table: t.to_string(),
            what: format!(
                "it has no {missing} column; its columns ({}) look like {}",
                columns.join(", "),
                looks_like(&columns)
            ),
        }]));
    }
    match sql::ADDED.iter().all(|(c, _)| columns.contains(c)) {
        true => Ok(Shape::Current),
        false => Ok(Shape::Older(
            columns.iter().map(|c| (*c).to_owned()).collect(),
        )),
    }
}

/// Creates the table when missing (or adds the columns a table of pgboot 0.1 lacks), then
/// reads it. Safe for racers: the DDL runs under the file lock.
pub async fn ensure_and_load(db: &Db, t: &TableName, file_key: i64) -> Result<Vec<Applied>> {
    let exists = match shape(db, t).await? {
        Shape::Current => return load_existing(db, t).await,
        Shape::Older(_) => true,
        Shape::Missing => false,
    };
    db.client
        .batch_execute(&sql::ensure_sql(t, file_key, exists))
        .await
        .map_err(|e| {
            let what = if exists { "upgrading" } else { "creating" };
            Error::db(
                format!("{what} the history table {t} (needs CREATE on the database)"),
                e,
            )
        })?;
    if !exists {
        tracing::info!(table = %t, "created the history table");
    }
    load_existing(db, t).await
}

/// [`load`], writing nothing, and whether the table is as this pgboot writes it (false: it is
/// missing or older, and [`ensure_and_load`] must write before a run records anything).
pub async fn load_and_shape(db: &Db, t: &TableName) -> Result<(Vec<Applied>, bool)> {
    let s = shape(db, t).await?;
    let current = matches!(s, Shape::Current);
    Ok((load_as(db, t, s).await?, current))
}

/// Reads the table without creating it (status, validate): no table means no history.
pub async fn load(db: &Db, t: &TableName) -> Result<Vec<Applied>> {
    let s = shape(db, t).await?;
    load_as(db, t, s).await
}

async fn load_as(db: &Db, t: &TableName, shape: Shape) -> Result<Vec<Applied>> {
    match shape {
        Shape::Missing => Ok(Vec::new()),
        Shape::Current => load_existing(db, t).await,
        // An older pgboot's table: the columns it lacks read as NULL.
        Shape::Older(columns) => {
            let mut old = sql::select_sql(t);
            for (c, ty) in sql::ADDED
                .iter()
                .filter(|(c, _)| !columns.iter().any(|x| x == c))
            {
                old = old.replace(&format!(", {c}"), &format!(", NULL::{ty} AS {c}"));
            }
            let msgs = db
                .client
                .simple_query(&old)
                .await
                .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
            parse_rows(t, &msgs)
        }
    }
}

async fn load_existing(db: &Db, t: &TableName) -> Result<Vec<Applied>> {
    let msgs = db
        .client
        .simple_query(&select_sql(t))
        .await
        .map_err(|e| Error::db(format!("reading the history table {t}"), e))?;
    parse_rows(t, &msgs)
}

/// Records a migration outside any migration transaction (a file with its own BEGIN/COMMIT),
/// after `reset` (the session reset that ends every file), so as the connecting user.
pub async fn record(
    db: &Db,
    t: &TableName,
    m: &Migration,
    transactional: bool,
    success: bool,
    execution_ms: f64,
    reset: &str,
) -> Result<()> {
    let row = insert_sql(
        t,
        m,
        transactional,
        success,
        Some(execution_ms),
        Kind::Migrate,
    );
    db.client
        .batch_execute(&format!("{reset}{row}"))
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
