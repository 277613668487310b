//! `pgboot baseline`: adopt a database built by the legacy initdb.d schema files. Records files
//! as applied without running them (`kind = 'baseline'`), through a given version or through the
//! version `--detect` proposes from the catalog.

use crate::config::TableName;
use crate::error::{Error, Result};
use crate::history::sql::{insert_sql, Kind};
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::quote::{quote_ident, quote_literal};
use crate::sql::{self, Created};

/// The objects a file's top-level CREATE statements name. Pure.
pub fn objects(m: &Migration) -> Vec<Created> {
    sql::split(&m.sql)
        .iter()
        .filter(|p| !p.is_empty())
        .filter_map(|p| sql::created_object(p.text(&m.sql)))
        .collect()
}

fn regclass(schema: &Option<String>, name: &str) -> String {
    let q = match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(name)),
        None => quote_ident(name),
    };
    format!("to_regclass({})", quote_literal(&q))
}

fn in_schema(col: &str, schema: &Option<String>) -> String {
    match schema {
        Some(s) => format!("{col} = {}", quote_literal(s)),
        None => format!("{col} = ANY (current_schemas(false))"),
    }
}

/// A boolean SQL expression: does the object exist? Pure.
pub fn exists_sql(c: &Created) -> String {
    let name = quote_literal(&c.name);
    match c.kind {
        // An index lives in its table's schema, whatever the search_path says.
        "index" => {
            let schema = c
                .schema
                .clone()
                .or_else(|| c.on.as_ref().and_then(|o| o.0.clone()));
            format!("{} IS NOT NULL", regclass(&schema, &c.name))
        }
        "table" | "view" | "materialized view" | "sequence" => {
            format!("{} IS NOT NULL", regclass(&c.schema, &c.name))
        }
        "function" | "procedure" => format!(
            "EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE p.proname = {name} AND {})",
            in_schema("n.nspname", &c.schema)
        ),
        "type" => format!(
            "EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.typname = {name} AND {})",
            in_schema("n.nspname", &c.schema)
        ),
        "policy" | "trigger" => {
            let (table_schema, table) = c.on.clone().unwrap_or((None, String::new()));
            let (cat, col, rel) = match c.kind {
                "policy" => ("pg_policy", "polname", "polrelid"),
                _ => ("pg_trigger", "tgname", "tgrelid"),
            };
            let on = regclass(&table_schema, &table);
            format!("EXISTS (SELECT 1 FROM {cat} WHERE {col} = {name} AND {rel} = {on})")
        }
        "extension" => format!("EXISTS (SELECT 1 FROM pg_extension WHERE extname = {name})"),
        "schema" => format!("EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = {name})"),
        _ => "false".into(),
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileCheck {
    pub version: i64,
    pub name: String,
    pub objects: usize,
    /// Objects the file creates that the database lacks, e.g. `table public.deals`.
    pub missing: Vec<String>,
}

impl FileCheck {
    pub fn present(&self) -> bool {
        self.objects > 0 && self.missing.is_empty()
    }
}

/// Checks each file's objects against the catalog, one round trip per file.
pub async fn detect(db: &Db, migrations: &[Migration]) -> Result<Vec<FileCheck>> {
    let mut out = Vec::new();
    for m in migrations {
        let objs = objects(m);
        let mut missing = Vec::new();
        if !objs.is_empty() {
            let cols: Vec<String> = objs
                .iter()
                .map(|o| format!("({})::text", exists_sql(o)))
                .collect();
            let msgs = db
                .client
                .simple_query(&format!("SELECT {}", cols.join(", ")))
                .await
                .map_err(|e| Error::db(format!("checking the objects of {}", m.name), e))?;
            let row = msgs.iter().find_map(|x| match x {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            });
            for (i, o) in objs.iter().enumerate() {
                if row.and_then(|r| r.get(i)) != Some("true") {
                    let qualified = match &o.schema {
                        Some(s) => format!("{s}.{}", o.name),
                        None => o.name.clone(),
                    };
                    missing.push(format!("{} {qualified}", o.kind));
                }
            }
        }
        out.push(FileCheck {
            version: m.version,
            name: m.name.clone(),
            objects: objs.len(),
            missing,
        });
    }
    Ok(out)
}

/// The version to baseline through: the last file of the longest run of files whose objects all
/// exist (files that create no named object do not break the run). Pure.
pub fn propose(checks: &[FileCheck]) -> Option<i64> {
    let mut last = None;
    for c in checks {
        if c.objects == 0 {
            continue;
        }
        if !c.present() {
            break;
        }
        last = Some(c.version);
    }
    last
}

/// Records the files as applied without running them.
pub async fn record(db: &Db, t: &TableName, files: &[&Migration]) -> Result<()> {
    record_as(db, t, files, Kind::Baseline).await
}

/// Records the files as applied without running them, as `kind` (baseline, or adopted from
/// another tool), in one transaction.
pub async fn record_as(db: &Db, t: &TableName, files: &[&Migration], kind: Kind) -> Result<()> {
    let mut sql = String::from("BEGIN;\n");
    for m in files {
        let transactional = crate::apply::prepare(m)
            .map(|p| p.mode.transactional())
            .unwrap_or(true);
        let row = insert_sql(t, m, transactional, true, Some(0.0), kind);
        sql.push_str(&row);
        sql.push_str(";\n");
    }
    sql.push_str("COMMIT;");
    db.client
        .batch_execute(&sql)
        .await
        .map_err(|e| Error::db(format!("recording the files as {}", kind.as_str()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fc(version: i64, objects: usize, missing: usize) -> FileCheck {
        FileCheck {
            version,
            name: format!("{version:03}_x"),
            objects,
            missing: vec!["table t".into(); missing],
        }
    }

    #[test]
    fn proposal_is_the_longest_present_prefix() {
        assert_eq!(
            propose(&[fc(1, 3, 0), fc(2, 2, 0), fc(8, 1, 1), fc(9, 1, 0)]),
            Some(2)
        );
        assert_eq!(propose(&[fc(1, 3, 0), fc(2, 0, 0), fc(3, 1, 0)]), Some(3));
        assert_eq!(propose(&[fc(1, 3, 1)]), None);
        assert_eq!(propose(&[]), None);
    }

    #[test]
    fn existence_sql() {
        let c = sql::created_object("CREATE POLICY p ON public.deals USING (true)").unwrap();
        assert_eq!(exists_sql(&c), "EXISTS (SELECT 1 FROM pg_policy WHERE polname = E'p' AND polrelid = to_regclass(E'\"public\".\"deals\"'))");
        let c = sql::created_object("CREATE TABLE IF NOT EXISTS tenants (id int)").unwrap();
        assert_eq!(exists_sql(&c), "to_regclass(E'\"tenants\"') IS NOT NULL");
    }
}
