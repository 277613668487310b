//! Pure: which repeatable files (`R__<name>.sql`) and seeds run, from the history rows of their
//! kind. `plan` merges the result after the versioned files, so `migrate`, `plan`, `validate` and
//! `status` decide with the same function.
//!
//! - A repeatable file runs when it was never applied, when its checksum differs from the one
//!   its row recorded (a change is not drift: that is what the file is for), or on every migrate
//!   when its first line is `-- pgboot:always`. It keeps one history row, replaced by each
//!   application. A row whose file is gone is shown by `status` as `removed`, not an error.
//! - A seed runs once. A seed changed after it ran is a warning, not drift (exit 4): seeds are
//!   for disposable databases (dev, CI), where the fix is to recreate the database, and a seed
//!   must never stop a migration of the schema it fills.
//! - Both fail as versioned files do: a transactional file rolls back alone (exit 1); a
//!   non-transactional one that stopped on an SQL error blocks the next run (exit 4) until
//!   `pgboot repair NAME --yes`, and an interrupted one resumes.

use crate::model::{Applied, HistoryProblem, Kind, Migration};

/// Why a repeatable file or a seed runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Why {
    /// Never applied.
    New,
    /// Its text changed since it was last applied (repeatable files only).
    Changed,
    /// `-- pgboot:always`: every migrate.
    Always,
    /// An interrupted non-transactional run is resumed.
    Resume,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::New => "new",
            Why::Changed => "changed",
            Why::Always => "always",
            Why::Resume => "resume",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Why::New => "never applied",
            Why::Changed => "changed since it was last applied: applied again",
            Why::Always => "-- pgboot:always: applied on every migrate",
            Why::Resume => "interrupted earlier: resumed",
        }
    }
}

/// What becomes of one repeatable file or seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Run(Why),
    /// Applied, same text.
    UpToDate,
    /// A seed whose text changed after it ran: not applied again, a warning.
    SeedChanged {
        recorded: String,
    },
    /// Stops the run, as for a versioned file.
    Problem(HistoryProblem),
}

/// The history row of `f`: same name, same kind.
pub fn row<'a>(applied: &'a [Applied], f: &Migration) -> Option<&'a Applied> {
    applied
        .iter()
        .find(|a| a.name == f.name && a.kind == f.kind)
}

/// Decides for one repeatable file or seed. Pure.
pub fn decide(applied: &[Applied], f: &Migration) -> Decision {
    let Some(a) = row(applied, f) else {
        return Decision::Run(Why::New);
    };
    let same = a.checksum == f.checksum;
    match () {
        _ if a.failed() => Decision::Problem(HistoryProblem::Failed {
            name: a.name.clone(),
            error: a.error.clone(),
            progress: a.progress,
        }),
        // Resuming statements of another text would skip the wrong ones.
        _ if a.resumable() && !same => Decision::Problem(HistoryProblem::Drifted {
            name: a.name.clone(),
            recorded: a.checksum.clone(),
            actual: f.checksum.clone(),
        }),
        _ if a.resumable() => Decision::Run(Why::Resume),
        _ if !same && f.kind == Kind::Seed => Decision::SeedChanged {
            recorded: a.checksum.clone(),
        },
        _ if !same => Decision::Run(Why::Changed),
        _ if f.always => Decision::Run(Why::Always),
        _ => Decision::UpToDate,
    }
}

/// The warning for a seed changed after it ran.
pub fn seed_changed(f: &Migration, recorded: &str) -> String {
    format!(
        "seed {} changed after it was applied (recorded {recorded}, now {}); seeds run once and \
         it is not applied again: recreate the database to apply the new text, or put the change \
         in a new seed file",
        f.name, f.checksum
    )
}

/// What runs of the repeatable files and seeds, in order.
#[derive(Debug, Default)]
pub struct Extra<'a> {
    pub pending: Vec<&'a Migration>,
    pub why: Vec<(&'a str, Why)>,
    pub up_to_date: usize,
    pub problems: Vec<HistoryProblem>,
    pub warnings: Vec<String>,
}

/// `files`: the repeatable files in name order, then the seeds in run order. Pure.
pub fn plan<'a>(applied: &[Applied], files: &'a [Migration]) -> Extra<'a> {
    let mut out = Extra::default();
    for f in files {
        match decide(applied, f) {
            Decision::Run(why) => {
                out.pending.push(f);
                out.why.push((&f.name, why));
            }
            Decision::UpToDate => out.up_to_date += 1,
            Decision::SeedChanged { recorded } => {
                out.up_to_date += 1;
                out.warnings.push(seed_changed(f, &recorded));
            }
            Decision::Problem(p) => out.problems.push(p),
        }
    }
    out
}

/// Rows of repeatable files (and, when seeds are configured, of seeds) whose file is gone:
/// `status` shows them as removed. Pure.
pub fn removed<'a>(applied: &'a [Applied], files: &[Migration], seeds: bool) -> Vec<&'a Applied> {
    applied
        .iter()
        .filter(|a| a.kind == Kind::Repeatable || (seeds && a.kind == Kind::Seed))
        .filter(|a| !files.iter().any(|f| f.name == a.name && f.kind == a.kind))
        .collect()
}

/// A repeatable file or seed the next migrate does not apply, for `plan`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NotRun {
    pub name: String,
    pub kind: Kind,
    /// Why not: `up to date`, or a changed seed.
    pub why: String,
}

/// The repeatable files and seeds of `all` that will not run, in order. Pure.
pub fn not_run(applied: &[Applied], all: &[Migration]) -> Vec<NotRun> {
    let others = all.iter().filter(|m| !m.kind.versioned());
    others
        .filter_map(|f| {
            let why = match decide(applied, f) {
                Decision::UpToDate => "up to date (same checksum as applied)".to_owned(),
                Decision::SeedChanged { .. } => {
                    "changed after it was applied: seeds run once, not applied again".to_owned()
                }
                _ => return None,
            };
            Some(NotRun {
                name: f.name.clone(),
                kind: f.kind,
                why,
            })
        })
        .collect()
}

/// `2 migrate, 1 repeatable applied; 1 seed pending`: the kinds of the history's rows and of
/// the pending files, for `validate`.
pub fn count_kinds(applied: &[Applied], pending: &[&Migration]) -> String {
    let count = |kinds: &mut Vec<(Kind, usize)>, k: Kind| match kinds.iter_mut().find(|x| x.0 == k)
    {
        Some(x) => x.1 += 1,
        None => kinds.push((k, 1)),
    };
    let (mut rows, mut files) = (Vec::new(), Vec::new());
    applied.iter().for_each(|a| count(&mut rows, a.kind));
    pending.iter().for_each(|m| count(&mut files, m.kind));
    let list = |v: &mut Vec<(Kind, usize)>| {
        v.sort_by_key(|x| (kind_order(x.0), x.0.as_str()));
        let items: Vec<String> = v
            .iter()
            .map(|(k, n)| format!("{n} {}", k.as_str()))
            .collect();
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    format!(
        "history rows: {}; pending: {}",
        list(&mut rows),
        list(&mut files)
    )
}

/// The order `status` lists kinds in: the versioned sequence, repeatable files, seeds.
pub fn kind_order(k: Kind) -> u8 {
    match k {
        Kind::Migrate | Kind::Baseline | Kind::Adopted(_) => 0,
        Kind::Repeatable => 1,
        Kind::Seed => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::checksum;

    fn file(name: &str, kind: Kind, sql: &str) -> Migration {
        Migration {
            name: name.into(),
            path: format!("{name}.sql").into(),
            sql: sql.into(),
            checksum: checksum(sql),
            kind,
            always: crate::source::repeat::always(sql),
            ..Default::default()
        }
    }

    fn row_of(f: &Migration, sql: &str) -> Applied {
        Applied {
            name: f.name.clone(),
            checksum: checksum(sql),
            success: true,
            transactional: true,
            kind: f.kind,
            ..Default::default()
        }
    }

    #[test]
    fn repeatable_runs_when_new_or_changed_or_always() {
        let v = file(
            "R__views",
            Kind::Repeatable,
            "CREATE OR REPLACE VIEW v AS SELECT 2;",
        );
        assert_eq!(decide(&[], &v), Decision::Run(Why::New));
        let old = row_of(&v, "CREATE OR REPLACE VIEW v AS SELECT 1;");
        assert_eq!(decide(&[old], &v), Decision::Run(Why::Changed));
        let same = row_of(&v, &v.sql);
        assert_eq!(decide(std::slice::from_ref(&same), &v), Decision::UpToDate);
        let a = file(
            "R__analyze",
            Kind::Repeatable,
            "-- pgboot:always\nANALYZE;\n",
        );
        assert_eq!(
            decide(&[row_of(&a, &a.sql)], &a),
            Decision::Run(Why::Always)
        );
        // A versioned row of the same name is not this file's row.
        let other = Applied {
            kind: Kind::Migrate,
            ..same
        };
        assert_eq!(decide(&[other], &v), Decision::Run(Why::New));
    }

    #[test]
    fn seed_runs_once_and_a_change_is_a_warning() {
        let s = file("001_demo", Kind::Seed, "INSERT INTO t VALUES (2);");
        let p = plan(&[], std::slice::from_ref(&s));
        assert_eq!(p.pending.len(), 1);
        let changed = row_of(&s, "INSERT INTO t VALUES (1);");
        let p = plan(&[changed], std::slice::from_ref(&s));
        assert!(p.pending.is_empty() && p.problems.is_empty());
        assert_eq!(p.up_to_date, 1);
        assert!(
            p.warnings[0].contains("seed 001_demo changed"),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn failed_and_interrupted_as_for_versioned_files() {
        let v = file(
            "R__idx",
            Kind::Repeatable,
            "CREATE INDEX CONCURRENTLY i ON t (a);",
        );
        let mut r = row_of(&v, &v.sql);
        r.success = false;
        r.transactional = false;
        r.progress = Some(0);
        assert_eq!(
            decide(std::slice::from_ref(&r), &v),
            Decision::Run(Why::Resume)
        );
        r.checksum = checksum("other text");
        assert!(matches!(
            decide(&[r.clone()], &v),
            Decision::Problem(HistoryProblem::Drifted { .. })
        ));
        r.error = Some("boom".into());
        assert!(matches!(
            decide(&[r], &v),
            Decision::Problem(HistoryProblem::Failed { .. })
        ));
    }

    #[test]
    fn removed_rows_are_listed_not_errors() {
        let v = file("R__views", Kind::Repeatable, "x");
        let gone = Applied {
            name: "R__old".into(),
            kind: Kind::Repeatable,
            success: true,
            ..Default::default()
        };
        let seed = Applied {
            name: "001_demo".into(),
            kind: Kind::Seed,
            success: true,
            ..Default::default()
        };
        let rows = [gone, seed];
        let names = |seeds| -> Vec<String> {
            removed(&rows, std::slice::from_ref(&v), seeds)
                .iter()
                .map(|a| a.name.clone())
                .collect()
        };
        assert_eq!(names(false), ["R__old"]);
        assert_eq!(names(true), ["R__old", "001_demo"]);
    }
}
