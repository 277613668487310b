//! The data that flows between the stages, with no I/O: a migration file, a history row, the
//! reasons history and files disagree, and a failed statement. Every module may use it.

use std::path::PathBuf;

/// A migration file as found and read by `source`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Migration {
    /// The version as the history stores it: the number before the first `_`, or for a
    /// Flyway-named file (`V1.10__x.sql`) the first part of its dotted version.
    pub version: i64,
    /// The version as written in the file name (`001`, `20240105120000`, `1.10`); files run in
    /// the order of its numeric parts (see `source::format::version_parts`).
    pub version_text: String,
    /// The identity in the history: the file's whole stem, e.g. `001_initial_schema`.
    pub name: String,
    pub path: PathBuf,
    /// The file's text with a UTF-8 BOM stripped and CRLF/CR turned into LF; for a file with
    /// psql input (`\i`, `\ir`, `\set`, `:variables`, `\copy … from 'file'`), the text as
    /// `source` expanded it (see [`Migration::origins`]). The checksum is over this text.
    pub sql: String,
    pub checksum: String,
    /// Where each stretch of [`Migration::sql`] comes from, when `source` expanded the file
    /// (empty for a file that needed no expansion: then `sql` is the file's text).
    pub origins: Vec<Origin>,
    /// The psql variables the expanded text used, sorted, without duplicates.
    pub variables: Vec<String>,
    /// The tool the file was written for; only its up section is in [`Migration::sql`].
    pub format: Format,
    /// The tool's own "no transaction" marker (dbmate's `transaction:false`, goose's
    /// `NO TRANSACTION`, sql-migrate's `notransaction`), as written, and its line.
    pub no_transaction: Option<(String, usize)>,
    /// What the file is: versioned (`Migrate`, runs once), `Repeatable` (`R__<name>.sql`, runs
    /// again when its text changes) or a `Seed` (from the seeds directory, runs once).
    pub kind: Kind,
    /// A repeatable file whose first line is `-- pgboot:always`: it runs on every migrate.
    pub always: bool,
    /// A large file that is not held in memory (see `source::stream`): `sql` is empty, and
    /// apply reads the file again as it runs it. None: `sql` holds the text.
    pub streamed: Option<Streamed>,
}

/// The history's `kind` column: how a row came to be, and what a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kind {
    /// A versioned file applied by `migrate` (runs once).
    #[default]
    Migrate,
    /// A versioned file recorded by `pgboot baseline` without running.
    Baseline,
    /// `R__<name>.sql`: applied again whenever its checksum changes (one row, updated).
    Repeatable,
    /// A file of the seeds directory: applied once, a later change is only a warning.
    Seed,
    /// A versioned file recorded by `pgboot adopt` because another tool (named, e.g. `dbmate`;
    /// empty when read back from the history, whose `adopted_from` column names it) applied it.
    Adopted(&'static str),
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Migrate => "migrate",
            Kind::Baseline => "baseline",
            Kind::Repeatable => "repeatable",
            Kind::Seed => "seed",
            Kind::Adopted(_) => "adopted",
        }
    }

    /// The history's text; an unknown kind (a later pgboot's) reads as `migrate`.
    pub fn parse(s: &str) -> Kind {
        match s {
            "baseline" => Kind::Baseline,
            "repeatable" => Kind::Repeatable,
            "seed" => Kind::Seed,
            "adopted" => Kind::Adopted(""),
            _ => Kind::Migrate,
        }
    }

    /// A row of the versioned sequence (applied or baselined): what drift and order checks see.
    pub fn versioned(self) -> bool {
        matches!(self, Kind::Migrate | Kind::Baseline | Kind::Adopted(_))
    }
}

/// The tool a migration file was written for, as its name and markers tell (see
/// `source::format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// `<digits>_<name>.sql`, no other tool's markers.
    #[default]
    Pgboot,
    /// `<digits>_<name>.up.sql` (golang-migrate, sqlx).
    UpSql,
    /// `V<version>__<description>.sql` (Flyway, refinery).
    Flyway,
    /// `-- migrate:up` / `-- migrate:down` sections.
    Dbmate,
    /// `-- +goose Up` / `-- +goose Down` sections.
    Goose,
    /// `-- +migrate Up` / `-- +migrate Down` sections.
    SqlMigrate,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pgboot => "pgboot",
            Format::UpSql => "up.sql",
            Format::Flyway => "flyway",
            Format::Dbmate => "dbmate",
            Format::Goose => "goose",
            Format::SqlMigrate => "sql-migrate",
        }
    }
}

/// What discovery learned about a streamed file while it read it once: enough for `plan` and
/// `validate` to report the same decisions as for a file held in memory. A streamed file has no
/// includes, variables, `\copy`, refused meta-command or lex error, and runs in a transaction
/// that pgboot opens (any of these makes `source` hold the file in memory instead).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Bytes of its normalised text.
    pub bytes: u64,
    /// `COPY … FROM stdin` blocks: (the statement's line, the rows that follow it).
    pub copy_blocks: Vec<(usize, usize)>,
    /// Meta-commands accepted and not run, and `\echo`s: (name, line).
    pub ignored: Vec<(String, usize)>,
}

/// A stretch of an expanded migration's text and the file it comes from. A stretch starts at
/// [`Origin::start`] and runs to the next origin's start (or the end of the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Byte offset in [`Migration::sql`].
    pub start: usize,
    /// The file, as the user names it (the migrations directory joined with its path).
    pub file: PathBuf,
    /// 1-based line in `file` of the line of the expanded text that holds `start`.
    pub line: usize,
    /// The `\i` / `\ir` lines that led here, outermost first: (file, line).
    pub included_from: Vec<(PathBuf, usize)>,
    /// The stretch is the rows of a `\copy … from 'file'` (`file` is the data file).
    pub copy_data: bool,
}

impl Migration {
    /// The origin of 1-based line `line` of [`Migration::sql`] and the line in its file; None
    /// when the file was not expanded.
    pub fn origin_of_line(&self, line: usize) -> Option<(&Origin, usize)> {
        if self.origins.is_empty() || line == 0 {
            return None;
        }
        let offset = line_start(&self.sql, line);
        let i = self
            .origins
            .partition_point(|o| o.start <= offset)
            .saturating_sub(1);
        let o = &self.origins[i];
        let o_line = 1 + self.sql[..o.start.min(self.sql.len())]
            .matches('\n')
            .count();
        Some((o, o.line + line.saturating_sub(o_line)))
    }

    /// `file:line:column` of a position in [`Migration::sql`], in the file it comes from, with
    /// `, included from f:l` for each `\i` that led there (innermost first).
    pub fn at(&self, line: usize, column: usize) -> String {
        match self.origin_of_line(line) {
            None => format!("{}:{line}:{column}", self.path.display()),
            Some((o, l)) => format!(
                "{}:{l}:{column}{}",
                o.file.display(),
                included_from(&o.included_from)
            ),
        }
    }

    /// The included files, in the order they were first read.
    pub fn included_files(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for o in &self.origins {
            let f = o.file.display().to_string();
            if !o.included_from.is_empty() && !o.copy_data && !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    /// The `\copy` data files, in order.
    pub fn copy_files(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for o in &self.origins {
            let f = o.file.display().to_string();
            if o.copy_data && !out.contains(&f) {
                out.push(f);
            }
        }
        out
    }

    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.name.clone())
    }
}

/// `, included from a.sql:3, included from 001_b.sql:7` (innermost first), or "".
pub fn included_from(chain: &[(PathBuf, usize)]) -> String {
    chain
        .iter()
        .rev()
        .map(|(f, l)| format!(", included from {}:{l}", f.display()))
        .collect()
}

/// Byte offset of the start of 1-based line `line` (the end of the text past the last line).
fn line_start(text: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    text.match_indices('\n')
        .nth(line - 2)
        .map(|(i, _)| i + 1)
        .unwrap_or(text.len())
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Default)]
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
    pub kind: Kind,
    /// An adopted row (`kind = adopted`): the tool that applied it, as the history's
    /// `adopted_from` column names it (`flyway`, `dbmate`, …).
    pub adopted_from: Option<String>,
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
    /// Another tool's history (read by `adopt`) says one of its migrations did not finish:
    /// golang-migrate's dirty flag, a Flyway or sqlx row with success = false.
    Unfinished { table: String, what: String },
}

impl HistoryProblem {
    pub fn name(&self) -> &str {
        match self {
            HistoryProblem::Drifted { name, .. }
            | HistoryProblem::Missing { name }
            | HistoryProblem::Failed { name, .. } => name,
            HistoryProblem::ForeignTable { table, .. }
            | HistoryProblem::Unfinished { table, .. } => table,
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
            HistoryProblem::Unfinished { what, .. } => what.clone(),
        }
    }
}

pub fn describe_problems(problems: &[HistoryProblem]) -> String {
    // Another tool's unfinished migration (adopt): not a disagreement with the files.
    if let [HistoryProblem::Unfinished { what, .. }] = problems {
        return format!("{what}; nothing was written");
    }
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
    /// The normalised text of the file (what was sent), or, for a streamed file, the lines
    /// around the error.
    pub sql: String,
    /// The file line of `sql`'s first line (0 or 1: `sql` is the whole file).
    pub sql_line: usize,
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
    /// `file` was read through `\i` / `\ir`: `, included from 001_y.sql:7` (innermost first).
    pub included_from: Option<String>,
}
