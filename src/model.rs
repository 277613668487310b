//! The data that flows between the stages, with no I/O: a migration file, a history row, the
//! reasons history and files disagree, and a failed statement. Every module may use it.

use std::path::PathBuf;

/// A migration file as found and read by `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    /// The identity in the history: the file's whole stem, e.g. `001_initial_schema`.
    pub name: String,
    pub path: PathBuf,
    /// The file's text with a UTF-8 BOM stripped and CRLF/CR turned into LF.
    pub sql: String,
    pub checksum: String,
}

impl Migration {
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.name.clone())
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub version: i64,
    pub name: String,
    pub checksum: String,
    pub success: bool,
    pub transactional: bool,
    pub applied_at: String,
    pub execution_ms: f64,
    /// A non-transactional file: how many of its statements are known to have committed.
    pub progress: Option<i64>,
    /// The SQL error that stopped a non-transactional file.
    pub error: Option<String>,
    /// The run that started a non-transactional file and has not finished it.
    pub run_id: Option<String>,
}

impl Applied {
    /// A file that was applied completely.
    pub fn done(&self) -> bool {
        self.success
    }

    /// A non-transactional file whose run was interrupted (killed, crashed, signalled, its
    /// connection lost): the next run resumes it after `progress` statements.
    pub fn resumable(&self) -> bool {
        !self.success && self.error.is_none() && self.progress.is_some()
    }

    /// A non-transactional file stopped by an SQL error, or a failed row of pgboot 0.1.
    pub fn failed(&self) -> bool {
        !self.success && !self.resumable()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryProblem {
    /// An applied file's text changed since it ran.
    Drifted {
        name: String,
        recorded: String,
        actual: String,
    },
    /// An applied file is gone from the directory.
    Missing { name: String },
    /// A non-transactional migration failed part-way: a human must look.
    Failed {
        name: String,
        /// The server's error, when recorded.
        error: Option<String>,
        /// Statements that committed before the failing one.
        progress: Option<i64>,
    },
    /// The history table is not pgboot's: another tool's table under the same name, or rows
    /// pgboot cannot read.
    ForeignTable { table: String, what: String },
}

impl HistoryProblem {
    pub fn name(&self) -> &str {
        match self {
            HistoryProblem::Drifted { name, .. }
            | HistoryProblem::Missing { name }
            | HistoryProblem::Failed { name, .. } => name,
            HistoryProblem::ForeignTable { table, .. } => table,
        }
    }

    /// What happened and what to do, in one sentence.
    pub fn describe(&self) -> String {
        match self {
            HistoryProblem::Drifted { name, recorded, actual } => format!(
                "{name}: the file changed after it was applied (recorded {recorded}, now {actual}); \
                 restore the original text and put the change in a new migration"
            ),
            HistoryProblem::Missing { name } => format!(
                "{name}: applied, but the file is no longer in the migrations directory; restore it \
                 (migrations are never deleted once applied)"
            ),
            HistoryProblem::Failed {
                name,
                error,
                progress,
            } => {
                let error = error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
                let resume = match progress {
                    Some(n) => format!(
                        "; it resumes after the {n} statement(s) that committed, which do not run again"
                    ),
                    None => "; the file then runs again from its first statement".into(),
                };
                format!(
                    "{name}: a previous run failed part-way outside a transaction{error}; check \
                     what it left behind, fix the database or the file, then run \
                     `pgboot repair {name} --yes`{resume}"
                )
            }
            HistoryProblem::ForeignTable { table, what } => format!(
                "{table} is not a pgboot history table: {what}; point --history-table \
                 (PGBOOT_HISTORY_TABLE) at another name, or adopt the other tool's history \
                 (see the README, \"Moving from another tool\")"
            ),
        }
    }
}

pub fn describe_problems(problems: &[HistoryProblem]) -> String {
    let mut s = format!(
        "the history and the migration files disagree ({} problem{}); nothing was applied:",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  - ");
        s.push_str(&p.describe());
    }
    s
}

/// A statement of a migration failed on the server.
#[derive(Debug, Clone, Default)]
pub struct MigrationFailure {
    /// The file as the user names it, e.g. `migrations/001_initial_schema.sql`.
    pub file: String,
    /// The normalised text of the file (what was sent).
    pub sql: String,
    /// 1-based line and column (characters) of the error in `sql`.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub severity: String,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The server's CONTEXT (`where`): the PL/pgSQL function and line, for example.
    pub context: Option<String>,
    /// A query the server ran internally (in a PL/pgSQL body) and the 1-based position in it.
    pub internal: Option<(String, usize)>,
    /// What happened to the file's changes.
    pub outcome: String,
    /// pgboot's own advice, when it recognises the error.
    pub advice: Option<String>,
}
