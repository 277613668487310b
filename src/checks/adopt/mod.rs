//! `pgboot adopt --from TOOL`: take over a database another migration tool built. Reads that
//! tool's history table (`tool`: its columns and rows, pure), maps each version it applied to a
//! migration file (`map`, pure), compares the checksum the tool stored where pgboot can
//! recompute it (`checksum`, pure), and records the files it applied as applied without running
//! them (`kind = 'adopted'`, `adopted_from = TOOL`) through baseline's history-writing code. The
//! SQL that reads the tool's table is in `sql`; this file does the reading.

pub mod checksum;
pub mod map;
pub mod sql;
pub mod tool;

use tokio_postgres::SimpleQueryMessage;

use crate::cli::Tool;
use crate::error::{Error, Result};
use crate::model::{HistoryProblem, Migration};
use crate::pg::db::Db;
use tool::ToolHistory;

/// Where to read the tool's history: `--table [schema.]name`, or the tool's own table name
/// found through the search_path, as the tool finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolTable {
    pub schema: Option<String>,
    pub name: String,
}

fn ident_ok(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '$')
        && s.len() <= 63
}

impl ToolTable {
    pub fn parse(tool: Tool, table: Option<&str>) -> Result<ToolTable> {
        let Some(s) = table else {
            return Ok(ToolTable {
                schema: None,
                name: tool.default_table().to_owned(),
            });
        };
        let (schema, name) = match s.split_once('.') {
            Some((a, b)) => (Some(a), b),
            None => (None, s),
        };
        if !schema.is_none_or(ident_ok) || !ident_ok(name) {
            return Err(Error::Config(format!(
                "--table {s:?} is not a table name: write [schema.]table, e.g. public.{}",
                tool.default_table()
            )));
        }
        Ok(ToolTable {
            schema: schema.map(str::to_owned),
            name: name.to_owned(),
        })
    }
}

impl std::fmt::Display for ToolTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// The tool's table as found: `schema.name`, and what its rows say.
#[derive(Debug)]
pub struct Found {
    pub table: String,
    pub history: ToolHistory,
}

type Rows = Vec<Vec<Option<String>>>;

async fn rows(db: &Db, sql: &str, what: String) -> Result<Rows> {
    let msgs = db
        .client
        .simple_query(sql)
        .await
        .map_err(|e| Error::db(what, e))?;
    Ok(msgs
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect())
}

/// Reads the tool's history. Errors: no such table, or not that tool's (exit 2); a migration
/// the tool did not finish (exit 4).
pub async fn read(db: &Db, tool: Tool, t: &ToolTable) -> Result<Found> {
    let located = rows(
        db,
        &sql::locate_sql(t),
        format!("looking for {}'s history table {t}", tool.as_str()),
    )
    .await?;
    let Some([Some(schema), Some(name), cols]) = located.first().map(Vec::as_slice) else {
        let place = match &t.schema {
            Some(_) => String::new(),
            None => " on the search_path".into(),
        };
        return Err(Error::Config(format!(
            "there is no table {t}{place}, where {} keeps its history: check --from and the \
             database, or name the table with --table schema.name",
            tool.as_str()
        )));
    };
    let table = format!("{schema}.{name}");
    let cols = cols.as_deref().unwrap_or_default();
    let cols: Vec<&str> = cols.split(',').collect();
    tool::check_columns(tool, &table, &cols).map_err(Error::Config)?;
    let found = rows(
        db,
        &sql::rows_sql(tool, &sql::quoted(t)),
        format!("reading {}'s history table {table}", tool.as_str()),
    )
    .await?;
    let history = tool::parse(tool, &table, &found).map_err(|what| {
        Error::History(vec![HistoryProblem::Unfinished {
            table: table.clone(),
            what,
        }])
    })?;
    Ok(Found { table, history })
}

/// A file's bytes as the other tool read them (decompressed, not normalised), for its checksum.
pub fn read_raw(m: &Migration) -> std::result::Result<Vec<u8>, String> {
    let (_, compression) = crate::source::Compression::split(&m.file_name());
    let f = std::fs::File::open(&m.path).map_err(|e| format!("{}: {e}", m.path.display()))?;
    crate::source::decompress(f, compression).map_err(|e| format!("{}: {e}", m.path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        let t = ToolTable::parse(Tool::Sqlx, None).unwrap();
        assert_eq!(t.to_string(), "_sqlx_migrations");
        let t = ToolTable::parse(Tool::Flyway, Some("app.flyway_schema_history")).unwrap();
        assert_eq!(t.schema.as_deref(), Some("app"));
        assert!(ToolTable::parse(Tool::Flyway, Some("a.b.c")).is_err());
        let e = ToolTable::parse(Tool::Goose, Some("x; drop")).unwrap_err();
        assert!(
            e.to_string().contains("e.g. public.goose_db_version"),
            "{e}"
        );
    }
}
