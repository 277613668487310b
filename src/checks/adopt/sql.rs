//! The SQL text `adopt` sends to read another tool's history table, the only copy. Pure. (The
//! rows it writes are pgboot's own history rows: `history::sql::insert_sql`.)

use crate::cli::Tool;
use crate::pg::quote::{quote_ident, quote_literal};

use super::ToolTable;

/// The table quoted for SQL: `"schema"."name"`, or `"name"` (found through the search_path, as
/// the tools themselves find it).
pub fn quoted(t: &ToolTable) -> String {
    match &t.schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(&t.name)),
        None => quote_ident(&t.name),
    }
}

/// One row when the table exists: its schema, its name and its columns (comma-separated, in
/// order); no row when it does not.
pub fn locate_sql(t: &ToolTable) -> String {
    format!(
        "SELECT n.nspname, c.relname, (SELECT string_agg(a.attname::text, ',' ORDER BY a.attnum) \
         FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 \
         AND NOT a.attisdropped) FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.oid = to_regclass({})",
        quote_literal(&quoted(t))
    )
}

/// The rows `tool::parse` reads, in the column order it expects. `q`: the table, quoted.
pub fn rows_sql(tool: Tool, q: &str) -> String {
    match tool {
        Tool::Flyway => format!(
            "SELECT installed_rank, version, description, type, script, checksum, success \
             FROM {q} ORDER BY installed_rank"
        ),
        Tool::GolangMigrate => format!("SELECT version, dirty FROM {q} ORDER BY version"),
        Tool::Dbmate => format!("SELECT version FROM {q} ORDER BY version"),
        Tool::Sqlx => format!(
            "SELECT version, description, success, encode(checksum, 'hex') FROM {q} ORDER BY version"
        ),
        Tool::Refinery => format!("SELECT version, name, checksum FROM {q} ORDER BY version"),
        // goose: the latest row of each version decides (a down adds is_applied = false).
        Tool::Goose => format!(
            "SELECT DISTINCT ON (version_id) version_id, is_applied FROM {q} \
             ORDER BY version_id, id DESC"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let t = ToolTable::parse(Tool::Dbmate, None).unwrap();
        assert_eq!(quoted(&t), "\"schema_migrations\"");
        assert!(locate_sql(&t).ends_with("to_regclass(E'\"schema_migrations\"')"));
        let t = ToolTable::parse(Tool::Flyway, Some("App.flyway_history")).unwrap();
        assert_eq!(quoted(&t), "\"App\".\"flyway_history\"");
        assert!(rows_sql(Tool::Goose, &quoted(&t)).contains("DISTINCT ON (version_id)"));
    }
}
