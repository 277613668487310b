//! `pgboot plan` (and `migrate --dry-run`, `validate`'s per-file lines): what a run would do.

use std::fmt::Write as _;

use serde::Serialize;

use super::View;
use crate::checks::indexes::InvalidIndex;

/// `pgboot plan` / `migrate --dry-run`.
#[derive(Debug, Serialize)]
pub struct PlanView {
    pub target: String,
    pub database: String,
    pub create_database: bool,
    pub pending: Vec<PlanFile>,
    pub up_to_date: usize,
    /// Repeatable files and seeds that will not run (see `repeatable`).
    pub not_run: Vec<crate::repeatable::NotRun>,
    /// Seeds changed after they ran: a warning, not a stop.
    pub warnings: Vec<String>,
    /// The checks that would stop the run.
    pub stops: Vec<String>,
    pub invalid_indexes: Vec<InvalidIndex>,
}

#[derive(Debug, Serialize)]
pub struct PlanFile {
    pub version: i64,
    pub name: String,
    /// `migrate` (versioned), `repeatable` or `seed`.
    pub kind: crate::model::Kind,
    /// Why a repeatable file or seed runs: new, changed, always, resume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<crate::repeatable::Why>,
    pub file: String,
    /// The tool the file was written for (its name and markers): pgboot, up.sql, flyway,
    /// dbmate, goose, sql-migrate.
    pub format: crate::model::Format,
    pub transactional: bool,
    pub mode: String,
    pub no_transaction_line: Option<usize>,
    pub no_transaction_statement: Option<String>,
    pub out_of_order: bool,
    /// Files read through `\i` / `\ir` (part of the migration's text and checksum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// psql variables substituted (their values are part of the checksum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<String>,
    /// Data files of `\copy … from 'file'` (part of the checksum).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copy_files: Vec<String>,
    /// `COPY … FROM stdin` blocks: the statement's line and the rows that follow it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copy_blocks: Vec<CopyBlock>,
    /// psql meta-commands accepted and not run (`\restrict`, `\unrestrict`), and `\echo`s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// A large file: read again as it runs, never held whole in memory.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub streamed: bool,
}

impl PlanFile {
    /// What the file's psql input does, one phrase each (includes, variables, `\copy` data,
    /// COPY blocks, meta-commands not run); `plan` and `validate` both show them.
    pub fn decisions(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(why) = self.reason {
            out.push(format!("{}: {}", self.kind.as_str(), why.describe()));
        }
        // R__ names are Flyway's too; "repeatable" already says so.
        let repeatable = self.kind == crate::model::Kind::Repeatable;
        if let Some(f) = format_note(self.format).filter(|_| !repeatable) {
            out.push(f);
        }
        if self.streamed {
            out.push("large: streamed, not held in memory".to_string());
        }
        if !self.includes.is_empty() {
            out.push(format!("includes {}", self.includes.join(", ")));
        }
        if !self.variables.is_empty() {
            out.push(format!("variables {}", self.variables.join(", ")));
        }
        if !self.copy_files.is_empty() {
            out.push(format!("\\copy data {}", self.copy_files.join(", ")));
        }
        if !self.copy_blocks.is_empty() {
            let rows: usize = self.copy_blocks.iter().map(|b| b.rows).sum();
            let at: Vec<String> = self
                .copy_blocks
                .iter()
                .map(|b| b.line.to_string())
                .collect();
            out.push(format!(
                "COPY data: {} block(s), {rows} row(s), at line {}",
                self.copy_blocks.len(),
                at.join(", ")
            ));
        }
        if !self.ignored.is_empty() {
            out.push(format!("not run: {}", self.ignored.join(", ")));
        }
        out
    }
}

/// One `COPY … FROM stdin` with its inline rows.
#[derive(Debug, Serialize)]
pub struct CopyBlock {
    pub line: usize,
    pub rows: usize,
}

/// What plan says about a file written for another tool.
fn format_note(f: crate::model::Format) -> Option<String> {
    use crate::model::Format::*;
    match f {
        Pgboot => None,
        UpSql => Some("format up.sql (golang-migrate, sqlx): its .down.sql is ignored".into()),
        Flyway => Some("format flyway (V<version>__ name)".into()),
        Dbmate | Goose | SqlMigrate => {
            Some(format!("format {}: only its up section runs", f.as_str()))
        }
    }
}

impl View for PlanView {
    fn text(&self) -> String {
        let mut s = String::new();
        if self.create_database {
            let _ = writeln!(
                s,
                "database {:?} does not exist: migrate --create-database would create it",
                self.database
            );
        }
        let _ = writeln!(
            s,
            "plan for {}: {} pending, {} already applied",
            self.target,
            self.pending.len(),
            self.up_to_date
        );
        for f in &self.pending {
            let late = if f.out_of_order {
                " (older than the newest applied: applied anyway, with a warning)"
            } else {
                ""
            };
            let _ = writeln!(s, "  {:<40} {}{late}", f.name, f.mode);
            let expanded = f.decisions();
            if !expanded.is_empty() {
                let _ = writeln!(s, "  {:<40} {}", "", expanded.join("; "));
            }
        }
        for n in &self.not_run {
            let _ = writeln!(
                s,
                "  {:<40} not run ({}): {}",
                n.name,
                n.kind.as_str(),
                n.why
            );
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        if self.stops.is_empty() {
            s.push_str("checks that would stop the run: none\n");
        } else {
            s.push_str("checks that would stop the run:\n");
            for x in &self.stops {
                let _ = writeln!(s, "  - {x}");
            }
        }
        for i in &self.invalid_indexes {
            let _ = writeln!(
                s,
                "invalid index {}.{} on {}: {}",
                i.schema,
                i.name,
                i.table,
                i.drop_sql()
            );
        }
        s
    }
}
