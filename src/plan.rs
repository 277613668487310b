//! Pure: applied history × files found → what is pending, or why nothing may run.

use std::collections::HashMap;

use crate::model::{Applied, HistoryProblem, Kind, Migration};
use crate::repeatable::{self, Decision, Why};

#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub pending: Vec<&'a Migration>,
    /// Pending files older than the newest applied one: applied anyway, with a warning.
    pub out_of_order: Vec<&'a str>,
    pub up_to_date: usize,
    pub problems: Vec<HistoryProblem>,
    /// Why each pending repeatable file or seed runs (see `repeatable`).
    pub why: Vec<(&'a str, Why)>,
    /// Seeds changed after they ran: logged, not problems.
    pub warnings: Vec<String>,
}

impl Plan<'_> {
    /// Why a pending repeatable file or seed runs; None for a versioned file.
    pub fn why(&self, name: &str) -> Option<Why> {
        self.why.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
    }
}

/// Items by name, for lookups in linear time overall (a history can have 10,000 rows).
fn by_name<T>(items: &[T], name: impl Fn(&T) -> &str) -> HashMap<&str, &T> {
    items.iter().map(|x| (name(x), x)).collect()
}

/// Compares the history with the files. Pure; `all` must be in run order: the versioned files,
/// then the repeatable files (name order), then the seeds (see `repeatable`).
pub fn plan<'a>(rows: &[Applied], all: &'a [Migration]) -> Plan<'a> {
    let (migrations, others) = all.split_at(all.partition_point(|m| m.kind == Kind::Migrate));
    let applied: Vec<&Applied> = rows.iter().filter(|a| a.kind.versioned()).collect();
    let mut out = Plan::default();
    // Out of order: before (in run order) the last file that has a successful row. By position,
    // not by the version number, so that dotted versions (V1.9, V1.10) compare as they run.
    let files = by_name(migrations, |m| &m.name);
    let history = by_name(&applied, |a| &a.name);
    let last_applied = migrations
        .iter()
        .rposition(|m| history.get(m.name.as_str()).is_some_and(|a| a.success));
    for a in &applied {
        match files.get(a.name.as_str()).copied() {
            None => out.problems.push(HistoryProblem::Missing {
                name: a.name.clone(),
            }),
            Some(_) if a.failed() => out.problems.push(HistoryProblem::Failed {
                name: a.name.clone(),
                error: a.error.clone(),
                progress: a.progress,
            }),
            Some(m) if a.resumable() && m.checksum == a.checksum => {}
            Some(m) if m.checksum != a.checksum => out.problems.push(HistoryProblem::Drifted {
                name: a.name.clone(),
                recorded: a.checksum.clone(),
                actual: m.checksum.clone(),
            }),
            Some(_) => out.up_to_date += 1,
        }
    }
    for (i, m) in migrations.iter().enumerate() {
        // An interrupted non-transactional file is pending: the run resumes it.
        if history.get(m.name.as_str()).is_some_and(|a| !a.resumable()) {
            continue;
        }
        if last_applied.is_some_and(|n| i < n) {
            out.out_of_order.push(&m.name);
        }
        out.pending.push(m);
    }
    let extra = repeatable::plan(rows, others);
    out.pending.extend(extra.pending);
    (out.why, out.warnings) = (extra.why, extra.warnings);
    out.up_to_date += extra.up_to_date;
    out.problems.extend(extra.problems);
    out
}

/// The state of one migration, for `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Applied,
    Pending,
    Drifted,
    Missing,
    Failed,
    /// A non-transactional file whose run was interrupted: the next run resumes it.
    Interrupted,
    /// A repeatable file changed since it ran (it runs again), or a seed (it does not).
    Changed,
    /// A repeatable file's (or a seed's) row whose file is gone: not an error.
    Removed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Drifted => "drifted",
            State::Missing => "missing",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
            State::Changed => "changed",
            State::Removed => "removed",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub version: i64,
    pub name: String,
    /// `migrate`, `baseline`, `repeatable` or `seed` (the row's, else the file's).
    pub kind: Kind,
    pub state: State,
    /// Whether the next migrate applies it.
    pub will_run: bool,
    pub checksum: String,
    pub applied_at: Option<String>,
    pub execution_ms: Option<f64>,
    /// A non-transactional file not finished: statements known to have committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
}

/// Every migration known to the files or the history, in run order. Pure. `all` as for
/// [`plan`]; seed rows are compared with files only when seed files are given.
pub fn status(history: &[Applied], all: &[Migration]) -> Vec<StatusRow> {
    let (migrations, others) = all.split_at(all.partition_point(|m| m.kind == Kind::Migrate));
    let applied: Vec<&Applied> = history.iter().filter(|a| a.kind.versioned()).collect();
    let by_row = by_name(&applied, |a| &a.name);
    let files = by_name(migrations, |m| &m.name);
    let mut rows: Vec<StatusRow> = migrations
        .iter()
        .map(|m| {
            let a = by_row.get(m.name.as_str()).map(|a| **a);
            let state = match a {
                None => State::Pending,
                Some(a) if a.resumable() => State::Interrupted,
                Some(a) if a.failed() => State::Failed,
                Some(a) if a.checksum != m.checksum => State::Drifted,
                Some(_) => State::Applied,
            };
            StatusRow {
                version: m.version,
                name: m.name.clone(),
                kind: a.map_or(m.kind, |a| a.kind),
                state,
                will_run: matches!(state, State::Pending | State::Interrupted),
                checksum: m.checksum.clone(),
                applied_at: a.map(|a| a.applied_at.clone()),
                execution_ms: a.map(|a| a.execution_ms),
                progress: a.filter(|a| !a.success).and_then(|a| a.progress),
            }
        })
        .collect();
    rows.extend(others.iter().map(|m| repeatable_row(history, m)));
    for a in applied {
        if !files.contains_key(a.name.as_str()) {
            rows.push(row_without_file(a, State::Missing));
        }
    }
    // Seed rows are compared with files only when seeds are configured (given here).
    let seeds = others.iter().any(|m| m.kind == Kind::Seed);
    for a in repeatable::removed(history, others, seeds) {
        rows.push(row_without_file(a, State::Removed));
    }
    if !seeds {
        let kept = history.iter().filter(|a| a.kind == Kind::Seed);
        rows.extend(kept.map(|a| row_without_file(a, State::Applied)));
    }
    rows.sort_by(|x, y| {
        let key = |r: &StatusRow| (repeatable::kind_order(r.kind), run_order(r));
        (key(x), &x.name).cmp(&(key(y), &y.name))
    });
    rows
}

/// A status row's place in the run: a Flyway name's dotted version (`V1.10__x` after
/// `V1.2__y`), otherwise its version number. Rows without a file have only their name.
fn run_order(r: &StatusRow) -> Vec<u64> {
    r.name
        .strip_prefix(['V', 'v'])
        .and_then(|rest| rest.split_once("__"))
        .and_then(|(v, _)| crate::source::format::version_parts(v))
        .unwrap_or_else(|| vec![u64::try_from(r.version).unwrap_or(0)])
}

/// A repeatable file or a seed: its state and whether the next migrate applies it.
fn repeatable_row(history: &[Applied], m: &Migration) -> StatusRow {
    let a = repeatable::row(history, m);
    let (state, will_run) = match repeatable::decide(history, m) {
        Decision::Run(Why::New) => (State::Pending, true),
        Decision::Run(Why::Changed) => (State::Changed, true),
        Decision::Run(Why::Always) => (State::Applied, true),
        Decision::Run(Why::Resume) => (State::Interrupted, true),
        Decision::UpToDate => (State::Applied, false),
        Decision::SeedChanged { .. } => (State::Changed, false),
        Decision::Problem(HistoryProblem::Drifted { .. }) => (State::Drifted, false),
        Decision::Problem(_) => (State::Failed, false),
    };
    StatusRow {
        version: m.version,
        name: m.name.clone(),
        kind: m.kind,
        state,
        will_run,
        checksum: m.checksum.clone(),
        applied_at: a.map(|a| a.applied_at.clone()),
        execution_ms: a.map(|a| a.execution_ms),
        progress: a.filter(|a| !a.success).and_then(|a| a.progress),
    }
}

fn row_without_file(a: &Applied, state: State) -> StatusRow {
    StatusRow {
        version: a.version,
        name: a.name.clone(),
        kind: a.kind,
        state,
        will_run: false,
        checksum: a.checksum.clone(),
        applied_at: Some(a.applied_at.clone()),
        execution_ms: Some(a.execution_ms),
        progress: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::describe_problems;
    use crate::source::checksum;
    use std::path::PathBuf;

    fn m(version: i64, name: &str, sql: &str) -> Migration {
        Migration {
            version,
            name: name.into(),
            path: PathBuf::from(format!("{name}.sql")),
            sql: sql.into(),
            checksum: checksum(sql),
            origins: Vec::new(),
            variables: Vec::new(),
            ..Default::default()
        }
    }

    fn a(mig: &Migration) -> Applied {
        Applied {
            version: mig.version,
            name: mig.name.clone(),
            checksum: mig.checksum.clone(),
            success: true,
            transactional: true,
            applied_at: "2026-01-01T00:00:00Z".into(),
            execution_ms: 1.0,
            progress: None,
            error: None,
            run_id: None,
            kind: Kind::Migrate,
            adopted_from: None,
        }
    }

    #[test]
    fn fresh_database_runs_everything() {
        let ms = [m(1, "001_a", "x"), m(2, "002_b", "y")];
        let p = plan(&[], &ms);
        assert_eq!(p.pending.len(), 2);
        assert!(p.problems.is_empty() && p.out_of_order.is_empty());
    }

    #[test]
    fn up_to_date_runs_nothing() {
        let ms = [m(1, "001_a", "x"), m(2, "002_b", "y")];
        let applied: Vec<_> = ms.iter().map(a).collect();
        let p = plan(&applied, &ms);
        assert!(p.pending.is_empty());
        assert_eq!(p.up_to_date, 2);
    }

    #[test]
    fn drift_missing_and_failed_are_problems() {
        let ms = [
            m(1, "001_a", "x"),
            m(2, "002_b", "changed"),
            m(3, "003_c", "z"),
        ];
        let mut applied: Vec<_> = ms.iter().map(a).collect();
        applied[1].checksum = checksum("original");
        applied[2].success = false;
        applied.push(Applied {
            name: "004_gone".into(),
            version: 4,
            ..a(&ms[0])
        });
        let p = plan(&applied, &ms);
        assert_eq!(p.problems.len(), 3, "{:?}", p.problems);
        assert!(matches!(&p.problems[0], HistoryProblem::Drifted { name, .. } if name == "002_b"));
        assert_eq!(
            p.problems[1],
            HistoryProblem::Failed {
                name: "003_c".into(),
                error: None,
                progress: None,
            }
        );
        assert_eq!(
            p.problems[2],
            HistoryProblem::Missing {
                name: "004_gone".into()
            }
        );
        let text = describe_problems(&p.problems);
        assert!(
            text.contains("002_b") && text.contains("new migration") && text.contains("004_gone")
        );
    }

    #[test]
    fn late_file_is_pending_and_flagged() {
        let ms = [
            m(1, "001_a", "x"),
            m(2, "002_late", "y"),
            m(3, "003_c", "z"),
        ];
        let applied = [a(&ms[0]), a(&ms[2])];
        let p = plan(&applied, &ms);
        assert_eq!(
            p.pending
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>(),
            ["002_late"]
        );
        assert_eq!(p.out_of_order, ["002_late"]);
    }

    #[test]
    fn status_orders_dotted_flyway_versions_as_they_run() {
        let m = |name: &str, version: i64| Migration {
            version,
            name: name.into(),
            path: format!("{name}.sql").into(),
            checksum: "c".into(),
            ..Default::default()
        };
        let files = [
            m("V1__init", 1),
            m("V1.1__add", 1),
            m("V1.2__b", 1),
            m("V1.10__c", 1),
            m("V2__d", 2),
        ];
        let rows = status(&[], &files);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            ["V1__init", "V1.1__add", "V1.2__b", "V1.10__c", "V2__d"]
        );
    }

    #[test]
    fn status_lists_every_state() {
        let ms = [
            m(1, "001_a", "x"),
            m(2, "002_b", "y"),
            m(3, "003_c", "z"),
            m(5, "005_e", "e"),
        ];
        let mut applied: Vec<_> = ms[..3].iter().map(a).collect();
        applied[1].checksum = checksum("old");
        applied[2].success = false;
        applied.push(Applied {
            name: "004_gone".into(),
            version: 4,
            ..a(&ms[0])
        });
        let rows = status(&applied, &ms);
        let states: Vec<_> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                ("001_a", "applied"),
                ("002_b", "drifted"),
                ("003_c", "failed"),
                ("004_gone", "missing"),
                ("005_e", "pending")
            ]
        );
    }

    #[test]
    fn interrupted_no_transaction_file_is_pending_and_resumes() {
        let ms = [m(1, "001_a", "x"), m(2, "002_b", "y"), m(3, "003_c", "z")];
        let mut applied: Vec<_> = ms.iter().take(2).map(a).collect();
        applied[1].success = false;
        applied[1].transactional = false;
        applied[1].progress = Some(2);
        let p = plan(&applied, &ms);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let pending: Vec<_> = p.pending.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(pending, ["002_b", "003_c"]);
        assert_eq!(p.up_to_date, 1);
        assert_eq!(status(&applied, &ms)[1].state, State::Interrupted);
        // Changed since it was interrupted: resuming would skip the wrong statements.
        applied[1].checksum = checksum("y before the edit");
        let p = plan(&applied, &ms);
        assert!(
            matches!(&p.problems[..], [HistoryProblem::Drifted { name, .. }] if name == "002_b")
        );
        // Stopped by an SQL error: a human decides (exit 4), and the message names repair.
        applied[1].checksum = ms[1].checksum.clone();
        applied[1].error = Some("ERROR: boom (SQLSTATE XX000)".into());
        let p = plan(&applied, &ms);
        let text = p.problems[0].describe();
        assert!(text.contains("pgboot repair 002_b --yes"), "{text}");
        assert!(text.contains("after the 2 statement(s)"), "{text}");
        assert_eq!(status(&applied, &ms)[1].state, State::Failed);
    }
}
