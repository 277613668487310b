//! Which relations the checks look at, written once in `scope.sql`: the user schemas, the
//! relations in them that no extension owns, and the tenant-scoped tables. The tenancy check,
//! verify's row counts, the catalog snapshot, `tests/it/schema.rs` and the psql checks in
//! `tests/sql/` all compose it in front of their own CTEs.

use crate::pg::quote::quote_literal;

/// CTE definitions (`scope_namespaces`, `scope_relations`, `tenant_tables`), no leading `WITH`.
pub const CTES: &str = include_str!("scope.sql");

/// How `scope.sql` writes the history schema: the default, marked, exactly once.
const HISTORY_SCHEMA: &str = "'pgboot' /* history schema */";

/// `WITH <scope.sql>, <body>`, with `history_schema` in place of the default (as a literal: the
/// simple-query protocol has no parameters). `body` starts at its first own CTE and ends with
/// its SELECT. The same text `tests/sql/check_schema.sh` builds, apart from the substitution.
pub fn with_scope(body: &str, history_schema: &str) -> String {
    let ctes = CTES.replacen(HISTORY_SCHEMA, &quote_literal(history_schema), 1);
    format!("WITH\n{ctes},\n{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "own AS (SELECT qname FROM tenant_tables)\nSELECT qname FROM own";

    #[test]
    fn the_history_schema_is_written_once() {
        assert_eq!(CTES.matches(HISTORY_SCHEMA).count(), 1);
        assert_eq!(CTES.matches("'pgboot'").count(), 1);
    }

    #[test]
    fn composes_one_with_and_substitutes_the_history_schema_once() {
        let q = with_scope(BODY, "ops's \\ history");
        assert!(q.starts_with("WITH\n"), "{q}");
        assert!(q.ends_with(BODY), "{q}");
        assert_eq!(q.matches(r"E'ops''s \\ history'").count(), 1, "{q}");
        assert!(!q.contains("'pgboot'"), "{q}");
        assert_eq!(crate::sql::leading_keywords(&q, 1), ["WITH"]);
    }

    #[test]
    fn the_composed_text_is_one_statement() {
        // scope.sql ends with a CTE (not a comment) so that `,` and the body follow, and holds no
        // statement separator.
        assert!(CTES.trim_end().ends_with(')'));
        let a = crate::sql::analyze(&with_scope(BODY, "pgboot"));
        assert_eq!(a.pieces.iter().filter(|p| !p.is_empty()).count(), 1);
    }

    #[test]
    fn defines_the_three_ctes_in_order() {
        let at = |name: &str| {
            CTES.find(&format!("\n{name} AS ("))
                .unwrap_or_else(|| panic!("{name} not defined"))
        };
        assert!(at("scope_namespaces") < at("scope_relations"));
        assert!(at("scope_relations") < at("tenant_tables"));
        assert!(!crate::sql::leading_keywords(CTES, 1).contains(&"WITH".to_string()));
    }
}
