//! `pgboot baseline`: adopt a database built without pgboot (docker-entrypoint-initdb.d, psql,
//! another tool) by recording files as applied without running them (`kind = 'baseline'`),
//! through a given version or through the prefix `--detect` finds.
//!
//! `--detect` replays: it applies the files in order to a scratch database (`replay`) and
//! compares the scratch catalog with the target's after every file, leaving the history schema
//! out. The answer is the longest prefix after which they are equal, so a file that a later
//! one undoes (an index created by file 20 and dropped by file 66) cannot stop the count early.
//! Per file only the cheap shape is compared (names, kinds, column types); where the shapes
//! are equal the full snapshot decides. No exact match: the closest prefix, with the
//! differences.

use crate::checks::replay::{self, Scratch};
use crate::checks::snapshot;
use crate::config::{TableName, Target};
use crate::error::{Error, Result};
use crate::history::sql::{insert_sql, Kind};
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::Tls;
use crate::source::format::version_parts;

/// Other tools' history tables: not part of the schema the files build, so left out of the
/// comparison (with their sequences, indexes and constraints).
const FOREIGN_HISTORY: &[&str] = &[
    "flyway_schema_history",
    "schema_migrations",
    "_sqlx_migrations",
    "refinery_schema_history",
    "goose_db_version",
];

/// Whether a snapshot or shape line is about another tool's history table. Pure.
pub fn foreign_history(line: &str) -> bool {
    let Some(object) = line.split_whitespace().nth(1) else {
        return false;
    };
    let bare = object
        .rsplit('.')
        .next()
        .unwrap_or(object)
        .trim_matches('"');
    FOREIGN_HISTORY.iter().any(|t| bare.starts_with(t))
}

fn without_foreign(lines: Vec<String>) -> Vec<String> {
    lines.into_iter().filter(|l| !foreign_history(l)).collect()
}

/// A file's version as numbers to order by (`V1.10__x.sql`: [1, 10]; `001_x.sql`: [1]).
fn parts(m: &Migration) -> Vec<u64> {
    version_parts(&m.version_text).unwrap_or_else(|| vec![m.version.max(0) as u64])
}

/// A version as `--through` takes it back: its numbers joined by dots (`1.10`, `2`). Pure.
pub fn version_of(m: &Migration) -> String {
    let p: Vec<String> = parts(m).iter().map(u64::to_string).collect();
    p.join(".")
}

/// `--through V`: the versioned files (in run order) up to and including version `v`, compared
/// in dotted-numeric order (`1.2` < `1.10` < `2`; `002` is `2`, `1.0` is `1`). Err: `v` is no
/// version, or no file has it (the message names the nearest versions). Pure.
pub fn through<'a>(
    files: &'a [Migration],
    v: &str,
) -> std::result::Result<Vec<&'a Migration>, String> {
    let Some(want) = version_parts(v.trim()) else {
        return Err(format!(
            "baseline --through {v}: not a version; give a file's version as its name writes it (1, 002, 1.10)"
        ));
    };
    if files.iter().any(|m| parts(m) == want) {
        return Ok(files.iter().filter(|m| parts(m) <= want).collect());
    }
    let named = |m: &Migration| format!("{} ({})", version_of(m), m.file_name());
    let below = files
        .iter()
        .filter(|m| parts(m) < want)
        .max_by_key(|m| parts(m));
    let above = files
        .iter()
        .filter(|m| parts(m) > want)
        .min_by_key(|m| parts(m));
    let nearest = match (below, above) {
        (Some(b), Some(a)) => format!("the nearest are {} and {}", named(b), named(a)),
        (Some(b), None) => format!("the last file is {}", named(b)),
        (None, Some(a)) => format!("the first file is {}", named(a)),
        (None, None) => "there are no migration files".to_owned(),
    };
    Err(format!(
        "baseline --through {v}: no migration file has version {v}; {nearest}"
    ))
}

/// The comparison after `files` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub files: usize,
    /// Shape lines that differ from the target's.
    pub shape_diff: Vec<String>,
    /// Full snapshot lines that differ, when the shapes were equal.
    pub full_diff: Option<Vec<String>>,
}

impl Point {
    fn exact(&self) -> bool {
        self.shape_diff.is_empty() && self.full_diff.as_ref().is_some_and(Vec::is_empty)
    }

    fn distance(&self) -> (usize, usize) {
        (
            self.shape_diff.len(),
            self.full_diff.as_ref().map_or(0, Vec::len),
        )
    }
}

/// The longest prefix whose catalog equals the target's, else the closest one (fewest
/// differing shape lines, then full lines; the longer prefix on a tie). None only without
/// points. Pure.
pub fn choose(points: &[Point]) -> Option<&Point> {
    if let Some(p) = points.iter().rev().find(|p| p.exact()) {
        return Some(p);
    }
    points.iter().rev().min_by_key(|p| p.distance())
}

/// The files of the exact match that change nothing the catalog shows: the shortest prefix of
/// the run of exact matches that ends at `chosen` (equal to `chosen` when there is none). Pure.
pub fn first_of_run(points: &[Point], chosen: usize) -> usize {
    let Some(at) = points.iter().position(|p| p.files == chosen) else {
        return chosen;
    };
    let mut first = at;
    while first > 0 && points[first - 1].exact() {
        first -= 1;
    }
    points[first].files
}

/// What the replay found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Detection {
    /// The number of files after which the scratch catalog equals the target's.
    pub exact: Option<usize>,
    /// The closest prefix (the exact one when there is one).
    pub closest: usize,
    /// The last file of that prefix (None: no file).
    pub closest_name: Option<String>,
    /// Its version: what `--through` takes (`2`, `1.10`).
    pub closest_version: Option<String>,
    /// At `closest`: `+ line` only in the target, `- line` only after replaying the files.
    /// Full snapshot lines where the shapes were equal, else shape lines.
    pub differences: Vec<String>,
    /// Whether `differences` are shape lines (names, kinds, column types only).
    pub shape_only: bool,
    /// The shortest prefix that matches too, when the files after it up to `exact` change
    /// nothing the catalog shows (data only): the replay cannot tell whether those ran.
    pub also_matches: Option<usize>,
    /// Files the replay applied (all of them, unless one failed).
    pub replayed: usize,
    /// A file that failed in the scratch database: the replay stopped there.
    pub failed: Option<String>,
}

/// Replays the files in a scratch database and compares each prefix with the target (`db`).
pub async fn detect(
    db: &Db,
    target: &Target,
    tls: &Tls,
    table: &TableName,
    migrations: &[Migration],
    shutdown: &Shutdown,
) -> Result<Detection> {
    for m in migrations {
        crate::apply::prepare(m)?;
    }
    let target_full = without_foreign(
        snapshot::query_lines(
            db,
            &snapshot::query(&table.schema),
            "taking the catalog snapshot",
        )
        .await?,
    );
    let target_shape = without_foreign(
        snapshot::query_lines(
            db,
            &snapshot::shape_query(&table.schema),
            "taking the catalog shape",
        )
        .await?,
    );
    tracing::info!(
        lines = target_full.len(),
        "baseline: the target's catalog has {} lines; replaying {} files in a scratch database",
        target_full.len(),
        migrations.len()
    );
    replay::with_scratch(db, target, tls, table, "baseline", shutdown, async |s| {
        let point = async |s: &Scratch<'_>, files: usize| -> Result<Point> {
            let shape = s.shape().await?;
            let shape_diff = snapshot::diff(&shape, &target_shape);
            let full_diff = match shape_diff.is_empty() {
                true => Some(snapshot::diff(&s.snapshot().await?, &target_full)),
                false => None,
            };
            Ok(Point {
                files,
                shape_diff,
                full_diff,
            })
        };
        let mut points = vec![point(s, 0).await?];
        let mut failed = None;
        for (i, m) in migrations.iter().enumerate() {
            match s.apply(m).await {
                Ok(()) => {}
                Err(Error::Migration(f)) => {
                    tracing::warn!(migration = %m.name, "baseline: {} failed in the scratch database, the replay stops there: {}", m.file_name(), f.message);
                    failed = Some(format!("{}: {}", m.file_name(), f.message));
                    break;
                }
                Err(e) => return Err(e),
            }
            points.push(point(s, i + 1).await?);
            if (i + 1) % 50 == 0 {
                tracing::info!("baseline: replayed {} of {} files", i + 1, migrations.len());
            }
        }
        let replayed = points.len() - 1;
        let best = choose(&points).cloned().unwrap_or(Point {
            files: 0,
            shape_diff: Vec::new(),
            full_diff: None,
        });
        let exact = best.exact().then_some(best.files);
        let also_matches = exact
            .map(|n| first_of_run(&points, n))
            .filter(|&first| Some(first) != exact);
        tracing::info!(
            replayed,
            exact = exact.is_some(),
            closest = best.files,
            "baseline: replayed {replayed} files; {}",
            match exact {
                Some(n) => format!("the catalog matches after {n} exactly"),
                None => format!("no prefix matches exactly; the closest is {}", best.files),
            }
        );
        let shape_only = best.full_diff.is_none();
        let last = best.files.checked_sub(1).map(|i| &migrations[i]);
        Ok(Detection {
            exact,
            closest: best.files,
            closest_name: last.map(Migration::file_name),
            closest_version: last.map(version_of),
            differences: best.full_diff.unwrap_or(best.shape_diff),
            shape_only,
            also_matches,
            replayed,
            failed,
        })
    })
    .await
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

    fn p(files: usize, shape: usize, full: Option<usize>) -> Point {
        Point {
            files,
            shape_diff: vec!["+ relation public.t r".into(); shape],
            full_diff: full.map(|n| vec!["+ index public.t i CREATE INDEX".into(); n]),
        }
    }

    #[test]
    fn the_longest_exact_prefix_wins_even_after_a_mismatch() {
        // Matches after 2, not after 3 (file 3 creates an index), again after 4 (file 4 drops it).
        let points = [
            p(0, 5, None),
            p(1, 2, None),
            p(2, 0, Some(0)),
            p(3, 1, None),
            p(4, 0, Some(0)),
            p(5, 3, None),
        ];
        assert_eq!(choose(&points).map(|p| p.files), Some(4));
    }

    #[test]
    fn files_that_change_no_catalog_after_the_match_are_named() {
        let points = [
            p(0, 5, None),
            p(1, 0, Some(0)),
            p(2, 0, Some(0)),
            p(3, 0, Some(0)),
        ];
        assert_eq!(choose(&points).map(|p| p.files), Some(3));
        assert_eq!(first_of_run(&points, 3), 1);
        let points = [p(0, 5, None), p(1, 0, Some(0)), p(2, 1, None)];
        assert_eq!(first_of_run(&points, 1), 1);
    }

    #[test]
    fn without_an_exact_match_the_closest_wins() {
        let points = [
            p(0, 5, None),
            p(1, 0, Some(3)),
            p(2, 0, Some(1)),
            p(3, 1, None),
        ];
        let best = choose(&points).unwrap();
        assert_eq!(best.files, 2);
        assert!(!best.exact());
        // A tie goes to the longer prefix.
        let points = [p(0, 5, None), p(1, 2, None), p(2, 2, None)];
        assert_eq!(choose(&points).map(|p| p.files), Some(2));
        assert_eq!(choose(&[]), None);
    }

    fn file(name: &str, version_text: &str) -> Migration {
        Migration {
            version: version_text
                .split(['.', '_'])
                .next()
                .unwrap()
                .parse()
                .unwrap(),
            version_text: version_text.into(),
            name: name.into(),
            path: format!("migrations/{name}.sql").into(),
            ..Default::default()
        }
    }

    fn names(files: &[&Migration]) -> Vec<String> {
        files.iter().map(|m| m.name.clone()).collect()
    }

    #[test]
    fn through_compares_dotted_versions_part_by_part() {
        // In run order: 1 < 1.2 < 1.10 < 2.
        let files = [
            file("V1__a", "1"),
            file("V1.2__b", "1.2"),
            file("V1.10__c", "1.10"),
            file("V2__d", "2"),
        ];
        assert_eq!(
            names(&through(&files, "1.10").unwrap()),
            ["V1__a", "V1.2__b", "V1.10__c"]
        );
        assert_eq!(
            names(&through(&files, "1.2").unwrap()),
            ["V1__a", "V1.2__b"]
        );
        assert_eq!(names(&through(&files, "1").unwrap()), ["V1__a"]);
        // 1.0 is 1, and 1_10 is 1.10, as Flyway reads them.
        assert_eq!(names(&through(&files, "1.0").unwrap()), ["V1__a"]);
        assert_eq!(through(&files, "1_10").unwrap().len(), 3);
        assert_eq!(through(&files, "2").unwrap().len(), 4);
        assert_eq!(version_of(&files[2]), "1.10");
    }

    #[test]
    fn through_a_version_no_file_has_names_the_nearest() {
        let files = [
            file("V1__a", "1"),
            file("V1.2__b", "1.2"),
            file("V1.10__c", "1.10"),
        ];
        let e = through(&files, "1.5").unwrap_err();
        assert_eq!(
            e,
            "baseline --through 1.5: no migration file has version 1.5; the nearest are \
             1.2 (V1.2__b.sql) and 1.10 (V1.10__c.sql)"
        );
        assert!(through(&files, "0")
            .unwrap_err()
            .ends_with("the first file is 1 (V1__a.sql)"));
        assert!(through(&files, "3")
            .unwrap_err()
            .ends_with("the last file is 1.10 (V1.10__c.sql)"));
        assert!(through(&[], "1")
            .unwrap_err()
            .ends_with("there are no migration files"));
        assert!(through(&files, "1.x")
            .unwrap_err()
            .contains("not a version"));
        assert!(through(&files, "").unwrap_err().contains("not a version"));
    }

    #[test]
    fn through_reads_zero_padded_numbers_and_keeps_files_that_share_a_version() {
        let files = [
            file("001_a", "001"),
            file("002_b", "002"),
            file("002_c", "002"),
            file("010_d", "010"),
        ];
        assert_eq!(
            names(&through(&files, "2").unwrap()),
            ["001_a", "002_b", "002_c"]
        );
        assert_eq!(names(&through(&files, "002").unwrap()).len(), 3);
        assert_eq!(through(&files, "10").unwrap().len(), 4);
        assert_eq!(version_of(&files[3]), "10");
        let e = through(&files, "3").unwrap_err();
        assert!(
            e.ends_with("the nearest are 2 (002_c.sql) and 10 (010_d.sql)"),
            "{e}"
        );
    }

    #[test]
    fn other_tools_history_tables_are_left_out() {
        assert!(foreign_history("relation public.schema_migrations r"));
        assert!(foreign_history(
            "index public.flyway_schema_history flyway_schema_history_pk"
        ));
        assert!(foreign_history("relation public.goose_db_version_id_seq S"));
        assert!(!foreign_history("relation public.deals r"));
        assert!(!foreign_history("schema"));
    }
}
