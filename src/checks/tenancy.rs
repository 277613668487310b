//! `pgboot check-tenancy`: every table with a `tenant_id` column must keep tenants apart.
//!
//! One catalog query (one round trip) collects the facts per table; pure functions turn them
//! into findings. Rules, per tenant-scoped table (any ordinary or partitioned table with a
//! `tenant_id` column, outside pg_catalog, information_schema, pg_toast, temp schemas, the
//! history schema and extensions: `tenant_tables` in `scope.sql`):
//!
//! | rule | severity |
//! |---|---|
//! | `tenant_id_type`: tenant_id is `uuid NOT NULL` | error |
//! | `tenant_index`: an index has tenant_id as its first column | error |
//! | `rls_enabled`: row level security is enabled | error |
//! | `rls_forced`: row level security is forced (applies to the table owner too) | warning |
//! | `tenant_policy`: at least one policy references tenant_id | error |

use crate::error::{Error, Result};
use crate::pg::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub table: String,
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
}

/// What the catalog says about one tenant-scoped table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableFacts {
    /// `schema.table`, quoted where needed.
    pub table: String,
    /// `format_type` of the tenant_id column, e.g. `uuid`.
    pub tenant_type: String,
    pub tenant_not_null: bool,
    /// A valid index whose first column is tenant_id.
    pub leading_index: bool,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    /// Policies whose USING or WITH CHECK expression mentions tenant_id.
    pub tenant_policies: u32,
}

/// The facts for every tenant-scoped table (`tenant_tables` of `scope.sql`, composed in front by
/// [`crate::checks::scope::with_scope`] with the history schema).
const FACTS: &str = r#"
facts AS (
  SELECT t.qname,
         pg_catalog.format_type(t.atttypid, t.atttypmod) AS tenant_type,
         t.attnotnull,
         EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                  WHERE i.indrelid = t.oid AND i.indkey[0] = t.attnum AND i.indisvalid) AS leading_index,
         t.relrowsecurity,
         t.relforcerowsecurity,
         (SELECT count(*) FROM pg_catalog.pg_policy p
           WHERE p.polrelid = t.oid
             AND (coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '') ~ '\mtenant_id\M'
                  OR coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '') ~ '\mtenant_id\M')) AS tenant_policies
    FROM tenant_tables t
)
SELECT * FROM facts ORDER BY 1
"#;

/// One row of [`FACTS`], as text (simple-query protocol).
pub fn parse_row(cols: &[Option<&str>]) -> TableFacts {
    let text = |i: usize| cols.get(i).copied().flatten().unwrap_or("").to_owned();
    let flag = |i: usize| cols.get(i).copied().flatten() == Some("t");
    TableFacts {
        table: text(0),
        tenant_type: text(1),
        tenant_not_null: flag(2),
        leading_index: flag(3),
        rls_enabled: flag(4),
        rls_forced: flag(5),
        tenant_policies: text(6).parse().unwrap_or(0),
    }
}

/// The rules, applied to one table.
pub fn table_findings(t: &TableFacts) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |rule: &'static str, severity: Severity, message: String| {
        out.push(Finding {
            table: t.table.clone(),
            rule,
            severity,
            message,
        })
    };
    if t.tenant_type != "uuid" || !t.tenant_not_null {
        let what = match (t.tenant_type == "uuid", t.tenant_not_null) {
            (true, false) => "tenant_id is nullable".to_string(),
            (false, true) => format!("tenant_id is {}, not uuid", t.tenant_type),
            _ => format!("tenant_id is a nullable {}, not uuid", t.tenant_type),
        };
        add(
            "tenant_id_type",
            Severity::Error,
            format!("{what}; declare it `tenant_id uuid NOT NULL`"),
        );
    }
    if !t.leading_index {
        add(
            "tenant_index",
            Severity::Error,
            format!(
                "no index has tenant_id as its first column; every tenant query filters on it: CREATE INDEX IF NOT EXISTS … ON {} (tenant_id, …)",
                t.table
            ),
        );
    }
    if !t.rls_enabled {
        add(
            "rls_enabled",
            Severity::Error,
            format!(
                "row level security is not enabled, so every tenant sees every row: ALTER TABLE {} ENABLE ROW LEVEL SECURITY",
                t.table
            ),
        );
    }
    if !t.rls_forced {
        add(
            "rls_forced",
            Severity::Warning,
            format!(
                "row level security is not forced, so the table owner bypasses it: ALTER TABLE {} FORCE ROW LEVEL SECURITY",
                t.table
            ),
        );
    }
    if t.tenant_policies == 0 {
        add(
            "tenant_policy",
            Severity::Error,
            "no policy references tenant_id; add one such as USING (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)".into(),
        );
    }
    out
}

/// Every finding, tables in catalog order.
pub fn findings(tables: &[TableFacts]) -> Vec<Finding> {
    tables.iter().flat_map(table_findings).collect()
}

pub fn has_errors(f: &[Finding]) -> bool {
    f.iter().any(|x| x.severity == Severity::Error)
}

/// The text table printed by `check-tenancy`.
pub fn render_table(f: &[Finding]) -> String {
    let w_table = f.iter().map(|x| x.table.len()).max().unwrap_or(0).max(5);
    let w_rule = f.iter().map(|x| x.rule.len()).max().unwrap_or(0).max(4);
    let mut s = format!(
        "{:<w_table$}  {:<w_rule$}  {:<8}  MESSAGE\n",
        "TABLE", "RULE", "SEVERITY"
    );
    for x in f {
        s.push_str(&format!(
            "{:<w_table$}  {:<w_rule$}  {:<8}  {}\n",
            x.table,
            x.rule,
            x.severity.as_str(),
            x.message
        ));
    }
    s
}

/// Reads the facts (one round trip) and applies the rules. Returns (tables checked, findings).
pub async fn check(db: &Db, history_schema: &str) -> Result<(usize, Vec<Finding>)> {
    let sql = crate::checks::scope::with_scope(FACTS, history_schema);
    let msgs = db
        .client
        .simple_query(&sql)
        .await
        .map_err(|e| Error::db("reading the catalog for the tenancy check", e))?;
    let tables: Vec<TableFacts> = msgs
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(parse_row(
                &(0..r.len()).map(|i| r.get(i)).collect::<Vec<_>>(),
            )),
            _ => None,
        })
        .collect();
    Ok((tables.len(), findings(&tables)))
}

pub fn summary(tables: usize, f: &[Finding]) -> String {
    let errors = f.iter().filter(|x| x.severity == Severity::Error).count();
    format!(
        "tenancy check: {tables} tenant-scoped tables, {errors} errors, {} warnings",
        f.len() - errors
    )
}

/// `migrate --check-tenancy [--strict]`: after migrating, log each finding as a warning;
/// with `strict`, error findings fail the run (exit 7).
pub async fn after_migrate(db: &Db, strict: bool) -> Result<()> {
    let (tables, f) = check(db, "pgboot").await?;
    for x in &f {
        tracing::warn!(table = %x.table, rule = x.rule, severity = x.severity.as_str(), "tenancy: {}: {}", x.table, x.message);
    }
    let line = summary(tables, &f);
    tracing::info!(tables, findings = f.len(), "{line}");
    if strict && has_errors(&f) {
        return Err(Error::Findings(format!(
            "{line} (--strict: errors fail the run)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> TableFacts {
        TableFacts {
            table: "public.contacts".into(),
            tenant_type: "uuid".into(),
            tenant_not_null: true,
            leading_index: true,
            rls_enabled: true,
            rls_forced: true,
            tenant_policies: 1,
        }
    }

    fn rules(f: &[Finding]) -> Vec<(&str, Severity)> {
        f.iter().map(|x| (x.rule, x.severity)).collect()
    }

    #[test]
    fn a_good_table_has_no_findings() {
        assert!(findings(&[good()]).is_empty());
    }

    #[test]
    fn every_rule_fires_on_a_broken_table() {
        let t = TableFacts {
            table: "public.leaky".into(),
            tenant_type: "text".into(),
            tenant_not_null: false,
            leading_index: false,
            rls_enabled: false,
            rls_forced: false,
            tenant_policies: 0,
        };
        let f = findings(&[t]);
        assert_eq!(
            rules(&f),
            [
                ("tenant_id_type", Severity::Error),
                ("tenant_index", Severity::Error),
                ("rls_enabled", Severity::Error),
                ("rls_forced", Severity::Warning),
                ("tenant_policy", Severity::Error),
            ]
        );
        assert!(f.iter().all(|x| x.table == "public.leaky"));
        assert!(f[0].message.contains("nullable text"), "{}", f[0].message);
        assert!(has_errors(&f));
    }

    #[test]
    fn not_forced_alone_is_only_a_warning() {
        let f = findings(&[TableFacts {
            rls_forced: false,
            ..good()
        }]);
        assert_eq!(rules(&f), [("rls_forced", Severity::Warning)]);
        assert!(!has_errors(&f));
    }

    #[test]
    fn type_and_nullability_messages() {
        let nullable = table_findings(&TableFacts {
            tenant_not_null: false,
            ..good()
        });
        assert!(nullable[0].message.starts_with("tenant_id is nullable"));
        let bigint = table_findings(&TableFacts {
            tenant_type: "bigint".into(),
            ..good()
        });
        assert!(bigint[0]
            .message
            .starts_with("tenant_id is bigint, not uuid"));
    }

    #[test]
    fn parses_catalog_rows() {
        let row = [
            Some("public.t"),
            Some("uuid"),
            Some("t"),
            Some("f"),
            Some("t"),
            Some("f"),
            Some("2"),
        ];
        assert_eq!(
            parse_row(&row),
            TableFacts {
                table: "public.t".into(),
                tenant_type: "uuid".into(),
                tenant_not_null: true,
                leading_index: false,
                rls_enabled: true,
                rls_forced: false,
                tenant_policies: 2,
            }
        );
    }

    #[test]
    fn table_and_json_output() {
        let f = findings(&[TableFacts {
            rls_enabled: false,
            ..good()
        }]);
        let text = render_table(&f);
        assert!(text.starts_with("TABLE"), "{text}");
        assert!(
            text.contains("public.contacts  rls_enabled  error"),
            "{text}"
        );
        let j = serde_json::to_value(&f[0]).unwrap();
        assert_eq!(j["rule"], "rls_enabled");
        assert_eq!(j["severity"], "error");
        assert_eq!(j["table"], "public.contacts");
    }
}
