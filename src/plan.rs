//! Pure: applied history × files found → what is pending, or why nothing may run.

use std::collections::HashMap;

use crate::model::{Applied, HistoryProblem, Migration};

#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub pending: Vec<&'a Migration>,
    /// Pending files older than the newest applied one: applied anyway, with a warning.
    pub out_of_order: Vec<&'a str>,
    pub up_to_date: usize,
    pub problems: Vec<HistoryProblem>,
}

/// Items by name, for lookups in linear time overall (a history can have 10,000 rows).
fn by_name<T>(items: &[T], name: impl Fn(&T) -> &str) -> HashMap<&str, &T> {
    items.iter().map(|x| (name(x), x)).collect()
}

/// Compares the history with the files. Pure; `migrations` must be in run order.
pub fn plan<'a>(applied: &[Applied], migrations: &'a [Migration]) -> Plan<'a> {
    let mut out = Plan::default();
    let newest = applied
        .iter()
        .filter(|a| a.success)
        .map(|a| a.version)
        .max();
    let files = by_name(migrations, |m| &m.name);
    let rows = by_name(applied, |a| &a.name);
    for a in applied {
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
    for m in migrations {
        // An interrupted non-transactional file is pending: the run resumes it.
        if rows.get(m.name.as_str()).is_some_and(|a| !a.resumable()) {
            continue;
        }
        if newest.is_some_and(|n| m.version < n) {
            out.out_of_order.push(&m.name);
        }
        out.pending.push(m);
    }
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
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    pub version: i64,
    pub name: String,
    pub state: State,
    pub checksum: String,
    pub applied_at: Option<String>,
    pub execution_ms: Option<f64>,
    /// A non-transactional file not finished: statements known to have committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
}

/// Every migration known to the files or the history, in run order. Pure.
pub fn status(applied: &[Applied], migrations: &[Migration]) -> Vec<StatusRow> {
    let history = by_name(applied, |a| &a.name);
    let files = by_name(migrations, |m| &m.name);
    let mut rows: Vec<StatusRow> = migrations
        .iter()
        .map(|m| {
            let a = history.get(m.name.as_str()).copied();
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
                state,
                checksum: m.checksum.clone(),
                applied_at: a.map(|a| a.applied_at.clone()),
                execution_ms: a.map(|a| a.execution_ms),
                progress: a.filter(|a| !a.success).and_then(|a| a.progress),
            }
        })
        .collect();
    for a in applied {
        if !files.contains_key(a.name.as_str()) {
            rows.push(StatusRow {
                version: a.version,
                name: a.name.clone(),
                state: State::Missing,
                checksum: a.checksum.clone(),
                applied_at: Some(a.applied_at.clone()),
                execution_ms: Some(a.execution_ms),
                progress: None,
            });
        }
    }
    rows.sort_by(|x, y| (x.version, &x.name).cmp(&(y.version, &y.name)));
    rows
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
