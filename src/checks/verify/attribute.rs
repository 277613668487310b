//! Who did it: the difference between the snapshots before and after the second run, put on
//! the file and statement that caused each part of it, and the files whose second run changed
//! the catalog only until a later file undid it (information, not findings). Pure.

use std::collections::BTreeMap;

use super::second_run::FileRun;
use super::IdempotencyProblem;
use crate::checks::snapshot;
use crate::model::Migration;
use crate::sql;

/// A file whose second run changed the catalog's shape, undone by a later file: the sequence
/// still ends as it did. Not a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub file: String,
    pub line: Option<usize>,
    pub statement: Option<String>,
    pub undone_by: String,
    /// The shape lines the file's second run changed (`+ index public.t t_idx`).
    pub diff: Vec<String>,
}

impl Info {
    /// `001_a.sql:3 CREATE INDEX t_idx: its second run changes the catalog until 066_b.sql undoes it (+ index public.t t_idx); not a finding`
    pub fn headline(&self) -> String {
        let at = super::place(&self.file, self.line, self.statement.as_deref());
        let first = self.diff.first().map(String::as_str).unwrap_or("");
        let more = match self.diff.len() {
            0 | 1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        format!(
            "{at}: its second run changes the catalog until {} undoes it ({first}{more}); not a finding",
            self.undone_by
        )
    }
}

impl serde::Serialize for Info {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Info", 6)?;
        st.serialize_field("file", &self.file)?;
        st.serialize_field("line", &self.line)?;
        st.serialize_field("statement", &self.statement)?;
        st.serialize_field("undone_by", &self.undone_by)?;
        st.serialize_field("diff", &self.diff)?;
        st.serialize_field("headline", &self.headline())?;
        st.end()
    }
}

/// A snapshot or shape line, parsed: `(section, object, sub-object)`, e.g.
/// `("index", "public.t", Some("t_idx"))`. `column` lines name the column as sub-object in
/// both formats (the snapshot has the attnum before it). Diff prefixes are stripped.
fn key(line: &str) -> Option<(&str, &str, Option<&str>)> {
    let line = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("+ "))
        .unwrap_or(line);
    let mut w = line.split_whitespace();
    let section = w.next()?;
    let object = w.next()?;
    let third = w.next();
    let sub = match section {
        "column" => match third {
            Some(t) if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) => w.next(),
            other => other,
        },
        "constraint" | "index" | "policy" | "trigger" | "rule" => third,
        _ => None,
    };
    // Views and sequences are relations in the shape.
    let section = match section {
        "view" | "sequence" => "relation",
        s => s,
    };
    Some((section, object, sub))
}

/// The bare, lower-case name of a qualified object (`public."Deals"` → `deals`,
/// `s.f(integer)` → `f`).
fn bare(object: &str) -> String {
    let no_args = object.split('(').next().unwrap_or(object);
    no_args
        .rsplit('.')
        .next()
        .unwrap_or(no_args)
        .trim_matches('"')
        .to_ascii_lowercase()
}

/// Whether `text` (lower case) names `name` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    text.match_indices(name).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + name.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The names to look for in statements, the most specific first.
fn names_of(line: &str) -> Vec<String> {
    let Some((_, object, sub)) = key(line) else {
        return Vec::new();
    };
    let mut v = Vec::new();
    if let Some(s) = sub {
        v.push(s.trim_matches('"').to_ascii_lowercase());
    }
    v.push(bare(object));
    v
}

/// The statement of `m` that names one of `names` (tried in order; the last such statement of
/// the file): `(line, description)`.
fn statement_naming(m: &Migration, names: &[String]) -> Option<(usize, String)> {
    let pieces = sql::split(&m.sql);
    for name in names {
        let hit = pieces
            .iter()
            .filter(|p| !p.is_empty())
            .rfind(|p| mentions(&p.text(&m.sql).to_ascii_lowercase(), name));
        if let Some(p) = hit {
            return Some((p.line, super::describe_statement(p.text(&m.sql))));
        }
    }
    None
}

/// The shape lines each file's second run changed.
fn deltas(shape0: &[String], runs: &[FileRun]) -> Vec<Vec<String>> {
    let mut before = shape0;
    runs.iter()
        .map(|r| {
            let d = snapshot::diff(before, &r.shape);
            before = &r.shape;
            d
        })
        .collect()
}

fn inverse(line: &str) -> String {
    match line.strip_prefix("+ ") {
        Some(rest) => format!("- {rest}"),
        None => format!("+ {}", line.strip_prefix("- ").unwrap_or(line)),
    }
}

/// Files whose second run changed the shape and a later file's second run changed it back.
pub fn transient(migrations: &[Migration], shape0: &[String], runs: &[FileRun]) -> Vec<Info> {
    let deltas = deltas(shape0, runs);
    let mut out = Vec::new();
    for (k, delta) in deltas.iter().enumerate() {
        if delta.is_empty() {
            continue;
        }
        let undone =
            (k + 1..deltas.len()).find(|&j| delta.iter().any(|l| deltas[j].contains(&inverse(l))));
        let Some(j) = undone else { continue };
        let m = &migrations[k];
        let found = statement_naming(m, &names_of(&delta[0]));
        out.push(Info {
            file: m.file_name(),
            line: found.as_ref().map(|f| f.0),
            statement: found.map(|f| f.1),
            undone_by: migrations[j].file_name(),
            diff: delta.clone(),
        });
    }
    out
}

/// Where a line of the end-to-end difference comes from: (file index, line, statement).
type Culprit = (usize, usize, String);

/// The lines put on one statement: its description, the lines, whether they are all row
/// counts, and the DML verb that changed them.
struct Group {
    statement: String,
    lines: Vec<String>,
    rows_only: bool,
    verb: Option<String>,
}

/// The last file that names one of `names`, at its last statement that does.
fn last_naming(migrations: &[Migration], names: &[String]) -> Option<Culprit> {
    migrations
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, m)| statement_naming(m, names).map(|(line, st)| (i, line, st)))
}

/// Puts each line of `diff` (the snapshot before the second run → after it) on a file and a
/// statement. Row counts of a table whose relation also changed go with the relation (a table
/// created or dropped again is not "adds rows").
pub fn findings(
    migrations: &[Migration],
    shape0: &[String],
    runs: &[FileRun],
    diff: &[String],
) -> Vec<IdempotencyProblem> {
    let deltas = deltas(shape0, runs);
    let relations: Vec<&str> = diff
        .iter()
        .filter_map(|l| key(l))
        .filter(|k| k.0 == "relation")
        .map(|k| k.1)
        .collect();
    let mut groups: BTreeMap<(usize, usize), Group> = BTreeMap::new();
    // Nothing names it (dynamic SQL): the last file's first statement, so the finding still
    // has a statement and a line to start from.
    let fallback = migrations
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, m)| {
            let p = sql::split(&m.sql).into_iter().find(|p| !p.is_empty())?;
            Some((i, p.line, super::describe_statement(p.text(&m.sql))))
        })
        .unwrap_or((0, 1, String::new()));
    for line in diff {
        let Some((section, object, _)) = key(line) else {
            continue;
        };
        let rows_only = section == "rows" && !relations.contains(&object);
        let mut verb = None;
        let culprit = if rows_only {
            let table = bare(object);
            let change = runs.iter().enumerate().rev().find_map(|(i, r)| {
                r.row_changes
                    .iter()
                    .rev()
                    // An UPDATE leaves the count as it is.
                    .find(|c| c.table == table && c.verb != "UPDATE")
                    .map(|c| (i, c))
            });
            match change {
                Some((i, c)) => {
                    verb = Some(c.verb.clone());
                    Some((i, c.line, c.statement.clone()))
                }
                None => last_naming(migrations, &[table]),
            }
        } else {
            let lookup = match section {
                "rows" => ("relation", object, None),
                _ => key(line).unwrap_or((section, object, None)),
            };
            // The last file whose second run changed this object's shape.
            let by_shape = deltas.iter().enumerate().rev().find_map(|(i, d)| {
                d.iter()
                    .filter_map(|l| key(l))
                    .any(|k| {
                        k.0 == lookup.0
                            && k.1 == lookup.1
                            && (lookup.2.is_none() || k.2 == lookup.2)
                    })
                    .then_some(i)
            });
            let names = names_of(line);
            match by_shape {
                Some(i) => statement_naming(&migrations[i], &names)
                    .map(|(l, s)| (i, l, s))
                    .or(Some((i, 1, String::new()))),
                None => last_naming(migrations, &names),
            }
        };
        let (i, l, st) = culprit.unwrap_or_else(|| fallback.clone());
        let g = groups.entry((i, l)).or_insert_with(|| Group {
            statement: st,
            lines: Vec::new(),
            rows_only: true,
            verb: None,
        });
        g.lines.push(line.clone());
        g.rows_only &= rows_only;
        if g.verb.is_none() {
            g.verb = verb;
        }
    }
    groups
        .into_iter()
        .map(|((i, line), g)| {
            let (message, advice) = match (g.rows_only, g.verb.as_deref()) {
                (true, Some("DELETE")) => (
                    "its second run deletes rows the first run left",
                    "guard it so a second run deletes nothing the first run kept",
                ),
                (true, Some("INSERT" | "COPY" | "MERGE")) => (
                    "its second run adds rows",
                    "use INSERT … ON CONFLICT DO NOTHING or WHERE NOT EXISTS",
                ),
                (true, _) => (
                    "its second run changes a table's row count",
                    "guard the statement so a second run leaves the rows as they are",
                ),
                (false, _) => (
                    "its second run changes the catalog and no later file undoes it",
                    "guard the statement so a second run leaves the schema as it is (IF NOT EXISTS, CREATE OR REPLACE, a DO block that checks the catalog)",
                ),
            };
            IdempotencyProblem {
                file: migrations[i].file_name(),
                line: Some(line),
                statement: (!g.statement.is_empty()).then_some(g.statement),
                sqlstate: None,
                message: message.to_owned(),
                advice: Some(advice.to_owned()),
                diff: g.lines,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::second_run::RowChange;
    use super::*;

    fn mig(version: i64, name: &str, sql: &str) -> Migration {
        Migration {
            version,
            name: name.into(),
            path: format!("migrations/{name}.sql").into(),
            sql: sql.into(),
            checksum: String::new(),
            origins: Vec::new(),
            variables: Vec::new(),
            ..Default::default()
        }
    }

    fn run(shape: &[&str]) -> FileRun {
        FileRun {
            shape: shape.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keys_of_snapshot_and_shape_lines() {
        assert_eq!(
            key("+ column public.t 0002 c integer"),
            Some(("column", "public.t", Some("c")))
        );
        assert_eq!(
            key("column public.t c integer not null"),
            Some(("column", "public.t", Some("c")))
        );
        assert_eq!(
            key("- index public.t t_idx CREATE INDEX …"),
            Some(("index", "public.t", Some("t_idx")))
        );
        assert_eq!(
            key("view public.v SELECT 1"),
            Some(("relation", "public.v", None))
        );
        assert_eq!(bare("public.\"Deals\""), "deals");
        assert_eq!(bare("s.f(integer, text)"), "f");
    }

    #[test]
    fn mentions_whole_identifiers_only() {
        assert!(mentions("create index t_idx on t (a)", "t"));
        assert!(!mentions("create table tenants (id int)", "t"));
        assert!(mentions("drop index if exists t_idx;", "t_idx"));
    }

    #[test]
    fn a_create_undone_by_a_later_drop_is_information() {
        let ms = [
            mig(1, "001_a", "CREATE TABLE IF NOT EXISTS t (a int);\n"),
            mig(2, "002_b", "-- x\nDROP TABLE IF EXISTS t;\n"),
        ];
        let s0: Vec<String> = Vec::new();
        let runs = [
            run(&["column public.t a integer", "relation public.t r"]),
            run(&[]),
        ];
        let info = transient(&ms, &s0, &runs);
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].file, "001_a.sql");
        assert_eq!(info[0].line, Some(1));
        assert_eq!(info[0].undone_by, "002_b.sql");
        assert!(
            info[0]
                .headline()
                .starts_with("001_a.sql:1 CREATE TABLE t: its second run changes the catalog until 002_b.sql undoes it (+ column public.t a integer and 1 more)"),
            "{}",
            info[0].headline()
        );
    }

    #[test]
    fn rows_go_to_the_insert_and_a_recreated_table_is_not_rows() {
        let ms = [
            mig(1, "001_a", "CREATE TABLE IF NOT EXISTS old (a int);\n"),
            mig(
                2,
                "002_b",
                "CREATE TABLE IF NOT EXISTS plans (code text);\n\nINSERT INTO plans VALUES ('a');\n",
            ),
        ];
        let s0 = v(&["relation public.plans r"]);
        let mut r1 = run(&["relation public.old r", "relation public.plans r"]);
        r1.row_changes.clear();
        let mut r2 = run(&["relation public.old r", "relation public.plans r"]);
        r2.row_changes.push(RowChange {
            line: 3,
            verb: "INSERT".into(),
            table: "plans".into(),
            rows: 1,
            statement: "INSERT INTO".into(),
        });
        r2.row_changes.push(RowChange {
            line: 4,
            verb: "UPDATE".into(),
            table: "plans".into(),
            rows: 2,
            statement: "UPDATE plans".into(),
        });
        let diff = v(&[
            "+ relation public.old kind=r",
            "+ rows public.old 0",
            "- rows public.plans 1",
            "+ rows public.plans 2",
        ]);
        let f = findings(&ms, &s0, &[r1, r2], &diff);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].file, "001_a.sql");
        assert_eq!(f[0].line, Some(1));
        assert!(f[0].message.contains("catalog"), "{}", f[0].message);
        assert_eq!(f[0].diff.len(), 2);
        assert_eq!(f[1].file, "002_b.sql");
        assert_eq!(f[1].line, Some(3));
        assert!(
            f[1].headline()
                .starts_with("002_b.sql:3 INSERT INTO is not idempotent: its second run adds rows"),
            "{}",
            f[1].headline()
        );
    }
}
