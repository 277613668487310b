//! One `Serialize` struct per reporting command. `--json` prints the struct; the text form is
//! [`View::text`] of the same value.

use std::fmt::Write as _;

use serde::Serialize;

use crate::checks::baseline::Detection;
use crate::checks::repair::Action;
use crate::checks::tenancy::{self, Finding};
use crate::checks::verify::{IdempotencyProblem, Info};
use crate::model::{Applied, Kind};
use crate::plan::StatusRow;

mod plan;
pub use plan::{CopyBlock, PlanFile, PlanView};

/// A command's output: JSON through `Serialize`, text through `text`.
pub trait View: Serialize {
    fn text(&self) -> String;
}

/// `pgboot status`: a JSON array, or a table.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct StatusView(pub Vec<StatusLine>);

/// A status row with the tool that applied it, for a row `adopt` recorded (`adopted_from`,
/// null otherwise).
#[derive(Debug, Serialize)]
pub struct StatusLine {
    #[serde(flatten)]
    pub row: StatusRow,
    pub adopted_from: Option<String>,
}

impl StatusView {
    /// The rows, each adopted row with its history row's `adopted_from`.
    pub fn new(rows: Vec<StatusRow>, history: &[Applied]) -> StatusView {
        let from = |r: &StatusRow| match r.kind {
            Kind::Adopted(_) => history
                .iter()
                .find(|a| a.name == r.name && a.kind.versioned())
                .and_then(|a| a.adopted_from.clone()),
            _ => None,
        };
        let lines = rows.into_iter().map(|row| StatusLine {
            adopted_from: from(&row),
            row,
        });
        StatusView(lines.collect())
    }
}

impl StatusLine {
    /// `adopted (flyway)` for an adopted row, else the kind.
    fn kind_text(&self) -> String {
        match &self.adopted_from {
            Some(tool) => format!("{} ({tool})", self.row.kind.as_str()),
            None => self.row.kind.as_str().to_owned(),
        }
    }
}

impl View for StatusView {
    fn text(&self) -> String {
        let kinds: Vec<String> = self.0.iter().map(StatusLine::kind_text).collect();
        // As wide as the longest kind (`adopted (golang-migrate)`), at least 10.
        let k = kinds.iter().map(|x| x.chars().count()).fold(10, usize::max);
        let mut s = format!(
            "{:<16} {:<40} {:<k$} {:<11} {:<4} {:<25} {:>10}\n",
            "VERSION", "NAME", "KIND", "STATE", "RUNS", "APPLIED_AT", "MS"
        );
        for (l, kind) in self.0.iter().zip(&kinds) {
            let r = &l.row;
            let ms = r.execution_ms.map(|m| format!("{m:.1}"));
            let _ = writeln!(
                s,
                "{:<16} {:<40} {:<k$} {:<11} {:<4} {:<25} {:>10}",
                r.version,
                r.name,
                kind,
                r.state.as_str(),
                if r.will_run { "yes" } else { "no" },
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
    /// Files whose second run changed the catalog until a later file undid it: not findings.
    pub info: Vec<Info>,
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
        for i in &self.info {
            let _ = writeln!(s, "info: {}", i.headline());
        }
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
    /// The version recorded through (`2`, `1.10`), as `--through` took it or `--detect` found it.
    pub through: Option<String>,
    /// `--detect`: what the replay found.
    pub detected: Option<Detection>,
    pub record: Vec<String>,
    pub written: bool,
}

/// How many difference lines the text shows (`--json` has them all).
const SHOWN_DIFFERENCES: usize = 40;

impl View for BaselineView {
    fn text(&self) -> String {
        let mut s = String::new();
        if let Some(d) = &self.detected {
            let after = |n: usize, name: &Option<String>| match name {
                Some(name) => format!("after {n} file(s), through {name}"),
                None => "before any file (an empty database)".to_owned(),
            };
            if let Some(f) = &d.failed {
                let _ = writeln!(s, "the replay stopped after {} file(s): {f}", d.replayed);
            }
            match d.exact {
                Some(n) => {
                    let _ = writeln!(
                        s,
                        "the database's catalog matches exactly {}",
                        after(n, &d.closest_name)
                    );
                    if let Some(first) = d.also_matches {
                        let _ = writeln!(
                            s,
                            "note: it matches after {first} file(s) too: files {} to {n} change nothing the catalog shows (data only?), so the replay cannot tell whether they ran; check their rows before --yes, or baseline through an earlier version with --through",
                            first + 1
                        );
                    }
                }
                None => {
                    let kind = match d.shape_only {
                        true => "; names, kinds and column types only",
                        false => "",
                    };
                    let _ = writeln!(
                        s,
                        "no prefix of the files matches the database's catalog exactly; the closest is {}, with {} difference(s) (+ only in the database, - only after the files{kind}):",
                        after(d.closest, &d.closest_name),
                        d.differences.len()
                    );
                    for l in d.differences.iter().take(SHOWN_DIFFERENCES) {
                        let _ = writeln!(s, "    {l}");
                    }
                    if d.differences.len() > SHOWN_DIFFERENCES {
                        let _ = writeln!(
                            s,
                            "    … and {} more (--json lists them all)",
                            d.differences.len() - SHOWN_DIFFERENCES
                        );
                    }
                    let v = d.closest_version.as_deref().unwrap_or("VERSION");
                    let _ = writeln!(s, "nothing is proposed: if these differences are expected, record through that file with `pgboot baseline --through {v} --yes`");
                }
            }
        }
        match &self.through {
            Some(v) => {
                let verb = match self.written {
                    true => "recorded",
                    false => "would record",
                };
                let _ = writeln!(
                    s,
                    "baseline through version {v}: {verb} {} file(s) as applied without running them:",
                    self.record.len()
                );
            }
            None if self.detected.as_ref().is_some_and(|d| d.exact == Some(0)) => {
                s.push_str("nothing to baseline: run migrate\n")
            }
            None => {}
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

/// `pgboot adopt --from TOOL` (= `baseline --from TOOL`).
#[derive(Debug, Serialize)]
pub struct AdoptView {
    pub from: crate::cli::Tool,
    /// The tool's history table, `schema.name`.
    pub table: String,
    /// pgboot's history table, where the rows go.
    pub history_table: String,
    #[serde(flatten)]
    pub mapping: crate::checks::adopt::map::Mapping,
    /// The files recorded (or, without --yes, to record) as adopted.
    pub record: Vec<String>,
    pub written: bool,
}

/// `sha384:<96 hex>` is long for a terminal: the JSON has it whole.
fn short(checksum: &str) -> String {
    match checksum.strip_prefix("sha384:") {
        Some(h) if h.len() > 16 => format!("sha384:{}…", &h[..16]),
        _ => checksum.to_owned(),
    }
}

impl View for AdoptView {
    fn text(&self) -> String {
        use crate::checks::adopt::map::{ChecksumCheck, State};
        let tool = self.from.as_str();
        let m = &self.mapping;
        let mut s = format!("{tool}'s history {}:\n", self.table);
        for f in &m.files {
            let mut state = match f.state {
                State::Adopted => "adopted".to_owned(),
                State::Baselined => format!(
                    "adopted (within {tool}'s baseline {})",
                    m.through.as_ref().map_or("", |t| t.version.as_str())
                ),
                State::Recorded => "already in pgboot's history: left as it is".into(),
                State::Gap => {
                    format!("gap: {tool} applied later versions, not this one; not recorded")
                }
                State::Pending => "pending: migrate applies it".into(),
            };
            match &f.checksum {
                Some(ChecksumCheck::Same) => state.push_str("; unchanged since then (checksum)"),
                Some(ChecksumCheck::Changed { recorded, file }) => {
                    let _ = write!(
                        state,
                        "; CHANGED since {tool} applied it ({} then, {} now)",
                        short(recorded),
                        short(file)
                    );
                }
                Some(ChecksumCheck::NotCompared { reason }) => {
                    let _ = write!(state, "; checksum not compared: {reason}");
                }
                None => {}
            }
            let _ = writeln!(s, "  {:<40} {state}", f.name);
        }
        for x in &m.missing {
            let d = x
                .description
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            let _ = writeln!(s, "applied by {tool}, no file: version {}{d}", x.version);
        }
        for x in &m.skipped {
            let _ = writeln!(s, "not adopted: {}: {}", x.row, x.reason);
        }
        let changed = m.changed().count();
        if changed > 0 {
            let _ = writeln!(s, "note: {changed} file(s) changed since {tool} applied them: the database holds what the old text did. pgboot records each file with its checksum as it is now, so migrate will not call it drift; if the change matters, restore the applied text and put the change in a new migration.");
        }
        let gaps = m.count(State::Gap);
        if gaps > 0 {
            let _ = writeln!(s, "note: {gaps} file(s) older than {tool}'s newest version were not applied by {tool}: they are not recorded, so `pgboot migrate` will apply them (out of order, with a warning); check whether the database already has their changes first.");
        }
        if !m.missing.is_empty() {
            let _ = writeln!(s, "note: {} version(s) {tool} applied have no file: pgboot records nothing for them and does not need them; restore the file(s) and adopt again with --force to have them in pgboot's history.", m.missing.len());
        }
        let n = self.record.len();
        match (n, self.written) {
            (0, _) => s.push_str("nothing to record\n"),
            (_, true) => {
                let _ = writeln!(s, "recorded {n} file(s) in {} as adopted from {tool}, without running them; `pgboot migrate` applies the rest", self.history_table);
            }
            (_, false) => {
                let _ = writeln!(
                    s,
                    "would record {n} file(s) in {} as adopted from {tool}, without running them",
                    self.history_table
                );
                s.push_str("nothing was written (not even pgboot's history table): run again with --yes to record them\n");
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::State;

    fn row(name: &str, kind: Kind) -> StatusRow {
        StatusRow {
            version: 1,
            name: name.into(),
            kind,
            state: State::Applied,
            will_run: false,
            checksum: "sha256-lf:x".into(),
            applied_at: Some("2026-01-01T00:00:00.000Z".into()),
            execution_ms: Some(1.0),
            progress: None,
        }
    }

    #[test]
    fn status_names_the_tool_of_an_adopted_row() {
        let history = [
            Applied {
                name: "001_a".into(),
                kind: Kind::Adopted(""),
                adopted_from: Some("golang-migrate".into()),
                ..Default::default()
            },
            Applied {
                name: "002_b".into(),
                ..Default::default()
            },
        ];
        let rows = vec![row("001_a", Kind::Adopted("")), row("002_b", Kind::Migrate)];
        let v = StatusView::new(rows, &history);
        let text = v.text();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].contains(" adopted (golang-migrate) applied "),
            "{text}"
        );
        assert!(
            lines[2].contains(" migrate                  applied "),
            "{text}"
        );
        let state = |l: &str| l.find("STATE").or_else(|| l.find("applied"));
        assert!(lines.iter().all(|l| state(l) == state(lines[0])), "{text}");
        let j = serde_json::to_value(&v).unwrap();
        assert_eq!(j[0]["kind"], "adopted");
        assert_eq!(j[0]["adopted_from"], "golang-migrate");
        assert_eq!(j[1]["adopted_from"], serde_json::Value::Null);
        assert_eq!(j[1]["state"], "applied");
        // No adopted row: the table is as wide as before.
        let plain = StatusView::new(vec![row("002_b", Kind::Migrate)], &history).text();
        assert!(
            plain.starts_with(&format!(
                "{:<16} {:<40} KIND       STATE",
                "VERSION", "NAME"
            )),
            "{plain}"
        );
    }
}
