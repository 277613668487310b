//! A text snapshot of the catalog of the application schemas (one line per object, sorted), to
//! prove that re-running migrations changes nothing. The query lives in `catalog_snapshot.sql`,
//! composed after `scope.sql` (shared with `tests/sql/check_schema.sh` and the schema tests).

use tokio_postgres::SimpleQueryMessage;

use crate::checks::scope;
use crate::error::{Error, Result};
use crate::pg::db::Db;

/// The snapshot's own CTEs and its SELECT; [`query`] puts `scope.sql` in front.
pub const CATALOG: &str = include_str!("catalog_snapshot.sql");

/// The catalog's shape: a cheap subset of the snapshot (names, kinds, column types), taken
/// after every file where a full snapshot would cost too much. Equal snapshots have equal
/// shapes; see `catalog_shape.sql`.
pub const SHAPE: &str = include_str!("catalog_shape.sql");

/// The snapshot query, with `history_schema` out of scope: one SELECT returning one text column
/// (`line`), deterministically ordered. (`verify` sends it together with its row counts through
/// [`query_lines`]: one round trip.)
pub fn query(history_schema: &str) -> String {
    scope::with_scope(CATALOG, history_schema)
}

/// The shape query, with `history_schema` out of scope (see [`SHAPE`]).
pub fn shape_query(history_schema: &str) -> String {
    scope::with_scope(SHAPE, history_schema)
}

/// Runs a query whose first column is text and returns that column, row by row.
pub async fn query_lines(db: &Db, sql: &str, context: &str) -> Result<Vec<String>> {
    let msgs = db
        .client
        .simple_query(sql)
        .await
        .map_err(|e| Error::db(context, e))?;
    Ok(rows_as_lines(&msgs))
}

pub fn rows_as_lines(msgs: &[SimpleQueryMessage]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r.get(0).unwrap_or("").to_owned()),
            _ => None,
        })
        .collect()
}

/// Lines only in `before` (prefixed `- `) and only in `after` (prefixed `+ `), in sorted order.
/// Both inputs are multisets: a line that appears twice after and once before is one `+`.
pub fn diff(before: &[String], after: &[String]) -> Vec<String> {
    let mut a: Vec<&String> = before.iter().collect();
    let mut b: Vec<&String> = after.iter().collect();
    a.sort();
    b.sort();
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                out.push(format!("- {x}"));
                i += 1;
            }
            (Some(_), Some(y)) => {
                out.push(format!("+ {y}"));
                j += 1;
            }
            (Some(x), None) => {
                out.push(format!("- {x}"));
                i += 1;
            }
            (None, Some(y)) => {
                out.push(format!("+ {y}"));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::diff;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn identical_is_empty() {
        let a = v(&["relation a", "relation b"]);
        assert!(diff(&a, &a).is_empty());
    }

    #[test]
    fn removed_and_added_lines() {
        let before = v(&["index t i1", "policy t p", "relation t rls=true"]);
        let after = v(&["index t i1", "index t i2", "relation t rls=false"]);
        assert_eq!(
            diff(&before, &after),
            v(&[
                "+ index t i2",
                "- policy t p",
                "+ relation t rls=false",
                "- relation t rls=true"
            ])
        );
    }

    #[test]
    fn duplicates_count() {
        let before = v(&["policy t p"]);
        let after = v(&["policy t p", "policy t p"]);
        assert_eq!(diff(&before, &after), v(&["+ policy t p"]));
        assert_eq!(diff(&after, &before), v(&["- policy t p"]));
    }

    #[test]
    fn the_query_is_one_select() {
        let a = crate::sql::analyze(&super::query("pgboot"));
        assert_eq!(a.pieces.iter().filter(|p| !p.is_empty()).count(), 1);
        let a = crate::sql::analyze(&super::shape_query("pgboot"));
        assert_eq!(a.pieces.iter().filter(|p| !p.is_empty()).count(), 1);
    }

    /// Every shape section is a section of the full snapshot, so equal snapshots cannot have
    /// different shapes for want of a section.
    #[test]
    fn shape_sections_are_snapshot_sections() {
        for section in [
            "schema",
            "extension",
            "relation",
            "column",
            "constraint",
            "index",
            "policy",
            "trigger",
            "function",
            "type",
        ] {
            let line = format!("format('{section} ");
            assert!(super::SHAPE.contains(&line), "{section}");
            assert!(super::CATALOG.contains(&line), "{section}");
        }
    }
}
