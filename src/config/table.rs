//! The `history_table` setting: a validated `schema.table` name.

use crate::error::{Error, Result};

/// A validated `schema.table` name, quoted for SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: String,
    pub table: String,
}

fn valid_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 63
}

impl TableName {
    pub fn parse(s: &str) -> Result<TableName> {
        let (schema, table) = s.split_once('.').unwrap_or(("pgboot", s));
        if !valid_ident(schema) || !valid_ident(table) {
            return Err(Error::Config(format!(
                "setting history_table: {s:?} is not a valid name; use schema.table in lower case letters, digits and _ (default pgboot.schema_history)"
            )));
        }
        Ok(TableName {
            schema: schema.into(),
            table: table.into(),
        })
    }

    pub fn qualified(&self) -> String {
        format!("\"{}\".\"{}\"", self.schema, self.table)
    }
}

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}
