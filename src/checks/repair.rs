//! `pgboot repair`, for after a human has fixed something: re-record checksums of drifted
//! files, remove failed rows of non-transactional migrations, drop invalid indexes.
//! Shows every change; makes none without `--yes`.

use crate::checks::indexes::InvalidIndex;
use crate::config::TableName;
use crate::error::{Error, Result};
use crate::history;
use crate::pg::db::Db;
use crate::plan::{State, StatusRow};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Rechecksum {
        name: String,
        old: String,
        new: String,
    },
    RemoveFailed {
        name: String,
    },
    /// A failed non-transactional file whose progress is known: clear the error, so the next
    /// run resumes after the statements that committed.
    Resume {
        name: String,
        after: i64,
    },
    DropIndex {
        index: String,
        table: String,
        sql: String,
    },
}

impl Action {
    pub fn describe(&self) -> String {
        match self {
            Action::Rechecksum { name, old, new } => {
                format!("{name}: re-record checksum {old} -> {new}")
            }
            Action::RemoveFailed { name } => {
                format!("{name}: remove the failed row, so the file runs again")
            }
            Action::Resume { name, after } => format!(
                "{name}: clear the error, so the next run resumes after the {after} statement(s) that committed"
            ),
            Action::DropIndex { sql, table, .. } => format!("invalid index on {table}: {sql}"),
        }
    }

    fn sql(&self, t: &TableName) -> String {
        match self {
            Action::Rechecksum { name, new, .. } => history::sql::rechecksum_sql(t, name, new),
            Action::RemoveFailed { name } => history::sql::remove_failed_sql(t, name),
            Action::Resume { name, .. } => history::sql::resume_sql(t, name),
            Action::DropIndex { sql, .. } => sql.clone(),
        }
    }
}

pub struct Request<'a> {
    pub names: &'a [String],
    pub all_drifted: bool,
    pub all_failed: bool,
    pub drop_invalid_indexes: bool,
}

/// What to do, from the status rows and invalid indexes. Pure.
pub fn actions(
    req: &Request,
    rows: &[StatusRow],
    recorded: &dyn Fn(&str) -> Option<String>,
    invalid: &[InvalidIndex],
) -> Result<Vec<Action>> {
    if req.names.is_empty() && !req.all_drifted && !req.all_failed && !req.drop_invalid_indexes {
        return Err(Error::Config(
            "nothing to repair: name migrations, or pass --all-drifted, --all-failed or --drop-invalid-indexes".into(),
        ));
    }
    let mut out = Vec::new();
    let fix = |r: &StatusRow| -> Option<Action> {
        match r.state {
            State::Drifted => Some(Action::Rechecksum {
                name: r.name.clone(),
                old: recorded(&r.name).unwrap_or_default(),
                new: r.checksum.clone(),
            }),
            State::Failed => Some(match r.progress {
                Some(after) => Action::Resume {
                    name: r.name.clone(),
                    after,
                },
                None => Action::RemoveFailed {
                    name: r.name.clone(),
                },
            }),
            _ => None,
        }
    };
    for name in req.names {
        let row = rows.iter().find(|r| &r.name == name).ok_or_else(|| {
            Error::Config(format!(
                "{name}: no such migration in the files or the history; `pgboot status` lists them"
            ))
        })?;
        match fix(row) {
            Some(a) => out.push(a),
            None => {
                return Err(Error::Config(format!(
                    "{name} is {}: only drifted or failed migrations can be repaired",
                    row.state.as_str()
                )))
            }
        }
    }
    for r in rows {
        let wanted = (req.all_drifted && r.state == State::Drifted)
            || (req.all_failed && r.state == State::Failed);
        if wanted && !req.names.contains(&r.name) {
            out.extend(fix(r));
        }
    }
    if req.drop_invalid_indexes {
        out.extend(invalid.iter().map(|i| Action::DropIndex {
            index: format!("{}.{}", i.schema, i.name),
            table: i.table.clone(),
            sql: i.drop_sql(),
        }));
    }
    Ok(out)
}

/// Runs the actions, one statement each (DROP INDEX CONCURRENTLY cannot run in a transaction).
pub async fn execute(db: &Db, t: &TableName, actions: &[Action]) -> Result<()> {
    for a in actions {
        db.client
            .batch_execute(&a.sql(t))
            .await
            .map_err(|e| Error::db(format!("repair: {}", a.describe()), e))?;
        tracing::info!("repaired: {}", a.describe());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, state: State) -> StatusRow {
        StatusRow {
            version: 1,
            name: name.into(),
            kind: crate::model::Kind::Migrate,
            state,
            will_run: false,
            checksum: format!("sha256-lf:new-{name}"),
            applied_at: None,
            execution_ms: None,
            progress: None,
        }
    }

    #[test]
    fn a_failed_file_with_progress_resumes_instead_of_starting_over() {
        let mut failed = row("003_c", State::Failed);
        failed.progress = Some(2);
        let names = vec!["003_c".to_string()];
        let req = Request {
            names: &names,
            all_drifted: false,
            all_failed: false,
            drop_invalid_indexes: false,
        };
        let a = actions(&req, &[failed], &|_| None, &[]).unwrap();
        let want = Action::Resume {
            name: "003_c".into(),
            after: 2,
        };
        assert_eq!(a, [want]);
        assert!(a[0].describe().contains("resumes after the 2 statement(s)"));
        let t = TableName::parse("pgboot.schema_history").unwrap();
        assert!(a[0]
            .sql(&t)
            .starts_with("UPDATE \"pgboot\".\"schema_history\" SET error = NULL"));
    }

    #[test]
    fn picks_the_right_fix() {
        let rows = [
            row("001_a", State::Applied),
            row("002_b", State::Drifted),
            row("003_c", State::Failed),
            row("004_d", State::Drifted),
        ];
        let rec = |n: &str| Some(format!("sha256-lf:old-{n}"));
        let none: [InvalidIndex; 0] = [];
        let names = vec!["002_b".to_string()];
        let req = Request {
            names: &names,
            all_drifted: false,
            all_failed: true,
            drop_invalid_indexes: false,
        };
        let a = actions(&req, &rows, &rec, &none).unwrap();
        assert_eq!(a.len(), 2);
        assert!(
            matches!(&a[0], Action::Rechecksum { name, old, .. } if name == "002_b" && old == "sha256-lf:old-002_b")
        );
        assert_eq!(
            a[1],
            Action::RemoveFailed {
                name: "003_c".into()
            }
        );

        let req = Request {
            names: &[],
            all_drifted: true,
            all_failed: false,
            drop_invalid_indexes: false,
        };
        assert_eq!(actions(&req, &rows, &rec, &none).unwrap().len(), 2);

        let bad = vec!["001_a".to_string()];
        let req = Request {
            names: &bad,
            all_drifted: false,
            all_failed: false,
            drop_invalid_indexes: false,
        };
        assert!(actions(&req, &rows, &rec, &none)
            .unwrap_err()
            .to_string()
            .contains("is applied"));
        let req = Request {
            names: &[],
            all_drifted: false,
            all_failed: false,
            drop_invalid_indexes: false,
        };
        assert!(actions(&req, &rows, &rec, &none).is_err());
    }
}
