//! Invalid indexes: a failed `CREATE INDEX CONCURRENTLY` leaves one behind, and a rerun with
//! IF NOT EXISTS silently keeps it. Indexes still being built are not reported.

use crate::error::{Error, Result};
use crate::model::MigrationFailure;
use crate::pg::db::Db;
use crate::pg::quote::quote_ident;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvalidIndex {
    pub schema: String,
    pub name: String,
    pub table: String,
}

impl InvalidIndex {
    pub fn drop_sql(&self) -> String {
        format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}.{};",
            quote_ident(&self.schema),
            quote_ident(&self.name)
        )
    }
}

const SQL: &str = "SELECT n.nspname, c.relname, t.relname
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND i.indexrelid NOT IN (SELECT index_relid FROM pg_stat_progress_create_index WHERE index_relid IS NOT NULL)
ORDER BY 1, 2";

pub async fn invalid(db: &Db) -> Result<Vec<InvalidIndex>> {
    let msgs = db
        .client
        .simple_query(SQL)
        .await
        .map_err(|e| Error::db("looking for invalid indexes", e))?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(InvalidIndex {
                schema: r.get(0)?.to_owned(),
                name: r.get(1)?.to_owned(),
                table: r.get(2)?.to_owned(),
            }),
            _ => None,
        })
        .collect())
}

/// One warning per invalid index, with the statement that removes it.
pub fn warn(list: &[InvalidIndex]) {
    for i in list {
        tracing::warn!(index = %i.name, table = %i.table, "invalid index {}.{} on {} (left by a failed CREATE INDEX CONCURRENTLY); drop it with: {}  or run: pgboot repair --drop-invalid-indexes --yes", i.schema, i.name, i.table, i.drop_sql());
    }
}

/// After a non-transactional file failed: name the invalid indexes it left, with the statements
/// that drop them, in the failure's advice. Best effort: the report stands without it.
pub async fn advise(db: &Db, failure: &mut MigrationFailure) {
    let Ok(list) = invalid(db).await else { return };
    if let Some(text) = describe(&list) {
        failure.advice = Some(match failure.advice.take() {
            Some(a) => format!("{a}; {text}"),
            None => text,
        });
    }
}

/// Text for an error report.
pub fn describe(list: &[InvalidIndex]) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    let stmts: Vec<String> = list.iter().map(InvalidIndex::drop_sql).collect();
    Some(format!(
        "invalid indexes left behind: run {} before retrying (or pgboot repair --drop-invalid-indexes --yes)",
        stmts.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn drop_statement_quotes() {
        let i = super::InvalidIndex {
            schema: "public".into(),
            name: "Odd\"name".into(),
            table: "t".into(),
        };
        assert_eq!(
            i.drop_sql(),
            "DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"Odd\"\"name\";"
        );
    }
}
