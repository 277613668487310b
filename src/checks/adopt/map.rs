//! Another tool's history × the migration files → what `adopt` records. Pure.
//!
//! Versions are compared as numbers (`source::format::version_parts`): dbmate's `"001"` is file
//! `001_x.sql`, Flyway's `1.10` is `V1.10__x.sql` and never `V1.1__x.sql`. Nothing is guessed: a
//! version the tool applied with no file, and a file older than the tool's newest version that
//! the tool did not apply, are reported and not recorded.

use serde::Serialize;

use crate::cli::Tool;
use crate::model::Migration;
use crate::source::format::version_parts;

use super::checksum::Recorded;
use super::tool::{Skipped, Through, ToolHistory, ToolRow};

/// What becomes of one migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The tool applied it: recorded as applied (`kind = 'adopted'`), not run.
    Adopted,
    /// Within Flyway's baseline: Flyway took it as applied without running it; pgboot records
    /// it the same way (`kind = 'adopted'`).
    Baselined,
    /// Already in pgboot's history (`--force`): left as it is.
    Recorded,
    /// Older than the newest version the tool applied, but the tool did not apply it: not
    /// recorded, so `migrate` would apply it (out of order, with a warning).
    Gap,
    /// Newer than everything the tool applied: `migrate` applies it.
    Pending,
}

impl State {
    pub fn records(self) -> bool {
        matches!(self, State::Adopted | State::Baselined)
    }
}

/// The tool's checksum of an adopted file against the file as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ChecksumCheck {
    Same,
    /// The file changed since the tool applied it.
    Changed {
        recorded: String,
        file: String,
    },
    NotCompared {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMapping {
    /// The version as the file name writes it.
    pub version: String,
    pub name: String,
    pub state: State,
    /// Only where the tool stored a checksum pgboot can recompute (sqlx, Flyway, refinery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumCheck>,
}

/// A version the tool applied that no file has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingFile {
    pub version: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    /// Every migration file, in order.
    pub files: Vec<FileMapping>,
    pub missing: Vec<MissingFile>,
    pub skipped: Vec<Skipped>,
    pub through: Option<Through>,
}

impl Mapping {
    /// The names of the files to record, in order.
    pub fn to_record(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.state.records())
            .map(|f| f.name.as_str())
            .collect()
    }

    pub fn count(&self, state: State) -> usize {
        self.files.iter().filter(|f| f.state == state).count()
    }

    pub fn changed(&self) -> impl Iterator<Item = &FileMapping> {
        self.files
            .iter()
            .filter(|f| matches!(f.checksum, Some(ChecksumCheck::Changed { .. })))
    }
}

/// A file's version as numbers (its name's version; the history's version number otherwise).
fn parts(m: &Migration) -> Vec<u64> {
    version_parts(&m.version_text).unwrap_or_else(|| vec![m.version.max(0) as u64])
}

/// The tool's bytes of a file, as the tool read it; Err: why they cannot be compared.
pub type RawReader<'a> = &'a dyn Fn(&Migration) -> Result<Vec<u8>, String>;

/// Maps the tool's history onto the files. `recorded`: the names already in pgboot's history.
/// Err: two files carry a version the tool applied (the tool cannot have; pgboot will not pick).
pub fn map(
    tool: Tool,
    h: &ToolHistory,
    files: &[Migration],
    recorded: &[&str],
    raw: RawReader<'_>,
) -> Result<Mapping, String> {
    let file_parts: Vec<Vec<u64>> = files.iter().map(parts).collect();
    // For each file, the tool's row that applied it.
    let mut applied_by: Vec<Option<&ToolRow>> = vec![None; files.len()];
    let mut missing = Vec::new();
    let mut newest: Option<Vec<u64>> = None;
    for row in &h.applied {
        let Some(p) = version_parts(&row.version) else {
            missing.push(MissingFile {
                version: row.version.clone(),
                description: Some("not a version pgboot can compare with its files".into()),
            });
            continue;
        };
        let same: Vec<usize> = (0..files.len()).filter(|&i| file_parts[i] == p).collect();
        match same[..] {
            [] => missing.push(MissingFile {
                version: row.version.clone(),
                description: row.description.clone(),
            }),
            [i] => applied_by[i] = Some(row),
            _ => {
                let names: Vec<String> = same.iter().map(|&i| files[i].file_name()).collect();
                return Err(format!(
                    "{} applied version {}, and {} files have that version ({}): rename all but \
                     the one it applied, so that each version names one file, then adopt again",
                    tool.as_str(),
                    row.version,
                    same.len(),
                    names.join(", ")
                ));
            }
        }
        newest = newest.max(Some(p));
    }
    let through = h
        .through
        .as_ref()
        .and_then(|t| Some((t, version_parts(&t.version)?)));
    if let Some((t, p)) = &through {
        // golang-migrate applied every file up to its version, which must be a file; Flyway's
        // baseline version need not be.
        if !t.baseline && !file_parts.contains(p) {
            missing.push(MissingFile {
                version: t.version.clone(),
                description: None,
            });
        }
        newest = newest.max(Some(p.clone()));
    }
    let mut out = Vec::with_capacity(files.len());
    for (i, m) in files.iter().enumerate() {
        let p = &file_parts[i];
        let within = through.as_ref().filter(|(_, t)| p <= t).map(|(t, _)| t);
        let state = if recorded.contains(&m.name.as_str()) {
            State::Recorded
        } else if applied_by[i].is_some() {
            State::Adopted
        } else if let Some(t) = within {
            match t.baseline {
                true => State::Baselined,
                false => State::Adopted,
            }
        } else if newest.as_ref().is_some_and(|n| p < n) {
            State::Gap
        } else {
            State::Pending
        };
        let checksum = match (state, applied_by[i].and_then(|r| r.checksum.as_ref())) {
            (State::Adopted, Some(rec)) => Some(compare(rec, m, raw)),
            _ => None,
        };
        out.push(FileMapping {
            version: m.version_text.clone(),
            name: m.name.clone(),
            state,
            checksum,
        });
    }
    Ok(Mapping {
        files: out,
        missing,
        skipped: h.skipped.clone(),
        through: h.through.clone(),
    })
}

fn compare(rec: &Recorded, m: &Migration, raw: RawReader<'_>) -> ChecksumCheck {
    let bytes = match raw(m) {
        Ok(b) => b,
        Err(reason) => return ChecksumCheck::NotCompared { reason },
    };
    // refinery hashes the name after `V<version>__`.
    let name = m.name.split_once("__").map_or(m.name.as_str(), |(_, n)| n);
    match rec.of(&bytes, name, m.version) {
        Some(now) if &now == rec => ChecksumCheck::Same,
        Some(now) => ChecksumCheck::Changed {
            recorded: rec.show(),
            file: now.show(),
        },
        None => ChecksumCheck::NotCompared {
            reason: "its version does not fit the tool's".into(),
        },
    }
}

#[cfg(test)]
mod tests;
