//! One `Serialize` struct per reporting command. `--json` prints the struct; the text form is
//! [`View::text`] of the same value.

use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::baseline::FileCheck;
use crate::checks::indexes::InvalidIndex;
use crate::checks::repair::Action;
use crate::checks::tenancy::{self, Finding};
use crate::checks::verify::IdempotencyProblem;
use crate::plan::StatusRow;

/// A command's output: JSON through `Serialize`, text through `text`.
pub trait View: Serialize {
    fn text(&self) -> String;
}

/// `pgboot plan` / `migrate --dry-run`.
#[derive(Debug, Serialize)]
pub struct PlanView {
    pub target: String,
    pub database: String,
    pub create_database: bool,
    pub pending: Vec<PlanFile>,
    pub up_to_date: usize,
    /// The checks that would stop the run.
    pub stops: Vec<String>,
    pub invalid_indexes: Vec<InvalidIndex>,
}

#[derive(Debug, Serialize)]
pub struct PlanFile {
    pub version: i64,
    pub name: String,
    pub file: String,
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

/// `pgboot status`: a JSON array, or a table.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct StatusView(pub Vec<StatusRow>);

impl View for StatusView {
    fn text(&self) -> String {
        let mut s = format!(
            "{:<16} {:<40} {:<8} {:<25} {:>10}\n",
            "VERSION", "NAME", "STATE", "APPLIED_AT", "MS"
        );
        for r in &self.0 {
            let ms = r.execution_ms.map(|m| format!("{m:.1}"));
            let _ = writeln!(
                s,
                "{:<16} {:<40} {:<8} {:<25} {:>10}",
                r.version,
                r.name,
                r.state.as_str(),
                r.applied_at.as_deref().unwrap_or("-"),
                ms.as_deref().unwrap_or("-")
            );
        }
        s
    }
}

/// `pgboot check-tenancy`: a JSON array of findings, or a table (nothing when clean).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct TenancyView(pub Vec<Finding>);

impl View for TenancyView {
    fn text(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        tenancy::render_table(&self.0)
    }
}

/// `pgboot verify`.
#[derive(Debug, Serialize)]
pub struct VerifyView {
    pub database: String,
    pub files: Vec<VerifyFile>,
    pub findings: Vec<IdempotencyProblem>,
    pub tenancy: Vec<Finding>,
}

#[derive(Debug, Serialize)]
pub struct VerifyFile {
    pub file: String,
    pub idempotent: bool,
    pub problems: usize,
}

impl View for VerifyView {
    fn text(&self) -> String {
        let mut s = String::new();
        for p in &self.findings {
            let _ = writeln!(s, "{}", p.headline());
            for d in &p.diff {
                let _ = writeln!(s, "    {d}");
            }
        }
        if !self.tenancy.is_empty() {
            s.push_str(&tenancy::render_table(&self.tenancy));
        }
        s
    }
}

/// `pgboot baseline`.
#[derive(Debug, Serialize)]
pub struct BaselineView {
    pub through: Option<i64>,
    pub detected: Option<Vec<FileCheck>>,
    pub record: Vec<String>,
    pub written: bool,
}

impl View for BaselineView {
    fn text(&self) -> String {
        let mut s = String::new();
        for c in self.detected.iter().flatten() {
            let state = if c.objects == 0 {
                "creates no named object".to_owned()
            } else if c.present() {
                format!("present ({} objects)", c.objects)
            } else {
                format!("missing {}", c.missing.join(", "))
            };
            let _ = writeln!(s, "  {:<40} {state}", c.name);
        }
        match self.through {
            Some(v) => {
                let _ = writeln!(
                    s,
                    "baseline through version {v}: would record {} file(s) as applied without running them:",
                    self.record.len()
                );
            }
            None => {
                s.push_str("no file's objects are all present: nothing to baseline; run migrate\n")
            }
        }
        for m in &self.record {
            let _ = writeln!(s, "  {m}");
        }
        if !self.written && !self.record.is_empty() {
            s.push_str("nothing was written: run again with --yes to record them\n");
        }
        s
    }
}

/// `pgboot repair`.
#[derive(Debug, Serialize)]
pub struct RepairView {
    /// Whether the actions were carried out (`--yes`).
    pub applied: bool,
    pub actions: Vec<Action>,
}

impl View for RepairView {
    fn text(&self) -> String {
        let mut s = String::new();
        if self.actions.is_empty() {
            s.push_str("nothing to repair\n");
        }
        for a in &self.actions {
            let _ = writeln!(s, "{}", a.describe());
        }
        if !self.applied && !self.actions.is_empty() {
            s.push_str("nothing was changed: run again with --yes to make these changes\n");
        }
        s
    }
}

/// `pgboot config`: every setting with its value and where it came from, then the target.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct ConfigView(pub indexmap_like::Ordered);

/// A JSON object that keeps insertion order (settings in display order).
pub mod indexmap_like {
    use serde::ser::SerializeMap;
    use serde::{Serialize, Serializer};

    #[derive(Debug, Serialize)]
    pub struct Entry {
        pub value: Option<String>,
        pub source: String,
    }

    #[derive(Debug, Default)]
    pub struct Ordered(pub Vec<(String, Entry)>);

    impl Serialize for Ordered {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in &self.0 {
                m.serialize_entry(k, v)?;
            }
            m.end()
        }
    }
}

impl View for ConfigView {
    fn text(&self) -> String {
        let mut s = String::new();
        for (k, e) in &self.0 .0 {
            if k == "target" {
                let _ = writeln!(s, "{:<22} {}", k, e.value.as_deref().unwrap_or("-"));
            } else {
                let v = e.value.as_deref().unwrap_or("-");
                let _ = writeln!(s, "{k:<22} {v:<50} ({})", e.source);
            }
        }
        s
    }
}
