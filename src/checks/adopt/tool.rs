//! Each tool's history table as `adopt` reads it: the columns that make it that tool's, and its
//! rows turned into a tool-neutral [`ToolHistory`]. Pure.
//!
//! - **Flyway** `flyway_schema_history`: one row per applied script by `installed_rank`; `type`
//!   `SQL` (checksum: CRC-32), `BASELINE` (every version up to it counts as applied), `SCHEMA`
//!   (Flyway created schemas), `DELETE` / `UNDO_*` (a version no longer applied); `version` NULL is
//!   a repeatable script; `success = false` a failed one.
//! - **golang-migrate** `schema_migrations (version bigint, dirty boolean)`: one row; every file up
//!   to `version` is applied; `dirty` means that version failed part-way.
//! - **dbmate** `schema_migrations (version varchar)`: one row per applied file.
//! - **sqlx** `_sqlx_migrations`: one row per applied file, SHA-384 checksum, `success`.
//! - **refinery** `refinery_schema_history (version, name, applied_on, checksum)`.
//! - **goose** `goose_db_version (id, version_id, is_applied, tstamp)`: the latest row of each
//!   version decides; version 0 is goose's own first row.

use serde::Serialize;

use crate::cli::Tool;

use super::checksum::Recorded;

/// What another tool's history says, in terms that do not depend on the tool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolHistory {
    /// The versions the tool applied, each once, with what it recorded.
    pub applied: Vec<ToolRow>,
    /// Every file up to and including this version counts as applied.
    pub through: Option<Through>,
    /// Rows that map to no file, and why.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolRow {
    /// The version as the tool wrote it (`3`, `20240105120000`, `1.10`).
    pub version: String,
    /// The tool's description of the migration, when it stores one.
    pub description: Option<String>,
    /// The tool's checksum, when it stores one pgboot can recompute.
    pub checksum: Option<Recorded>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Through {
    pub version: String,
    /// Flyway's baseline: the tool did not run these files either; it took them as applied.
    pub baseline: bool,
}

/// A row of the tool's table that maps to no file, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub row: String,
    pub reason: String,
}

/// The columns adopt reads from the tool's table (it may have more).
pub fn columns(tool: Tool) -> &'static [&'static str] {
    match tool {
        Tool::Flyway => &[
            "installed_rank",
            "version",
            "description",
            "type",
            "script",
            "checksum",
            "success",
        ],
        Tool::GolangMigrate => &["version", "dirty"],
        Tool::Dbmate => &["version"],
        Tool::Sqlx => &["version", "description", "success", "checksum"],
        Tool::Refinery => &["version", "name", "checksum"],
        Tool::Goose => &["id", "version_id", "is_applied"],
    }
}

/// The tool whose table has these columns, by the columns only it has.
pub fn looks_like(cols: &[&str]) -> Option<Tool> {
    let has = |c: &str| cols.contains(&c);
    if has("installed_rank") {
        Some(Tool::Flyway)
    } else if has("version_id") && has("is_applied") {
        Some(Tool::Goose)
    } else if has("dirty") {
        Some(Tool::GolangMigrate)
    } else if has("installed_on") && has("execution_time") {
        Some(Tool::Sqlx)
    } else if has("applied_on") {
        Some(Tool::Refinery)
    } else if cols == ["version"] {
        Some(Tool::Dbmate)
    } else {
        None
    }
}

/// Whether `cols` are `tool`'s table's; when not, what is wrong and what they look like.
pub fn check_columns(tool: Tool, table: &str, cols: &[&str]) -> Result<(), String> {
    let missing = columns(tool).iter().find(|c| !cols.contains(c));
    let other = looks_like(cols).filter(|t| *t != tool);
    if missing.is_none() && other.is_none() {
        return Ok(());
    }
    let what = match missing {
        Some(c) => format!(
            "{table} has no {c} column, so it is not {}'s",
            tool.as_str()
        ),
        None => format!("{table} is not {}'s", tool.as_str()),
    };
    let like = match other {
        Some(o) => format!(
            "its columns ({}) are {}'s: did you mean --from {}?",
            cols.join(", "),
            o.as_str(),
            o.as_str()
        ),
        None => format!(
            "its columns ({}) are no known tool's; name the right table with --table schema.name",
            cols.join(", ")
        ),
    };
    Err(format!("{what}; {like}"))
}

type Row = Vec<Option<String>>;

fn get(r: &Row, i: usize) -> Option<&str> {
    r.get(i).and_then(|v| v.as_deref())
}

/// Reads the rows that `sql::rows_sql(tool, …)` returns. Err: the history says a migration did
/// not finish; the message says what to do.
pub fn parse(tool: Tool, table: &str, rows: &[Row]) -> Result<ToolHistory, String> {
    match tool {
        Tool::Flyway => flyway(table, rows),
        Tool::GolangMigrate => golang_migrate(table, rows),
        Tool::Dbmate => Ok(ToolHistory {
            applied: rows
                .iter()
                .filter_map(|r| get(r, 0))
                .map(|v| ToolRow {
                    version: v.to_owned(),
                    description: None,
                    checksum: None,
                })
                .collect(),
            ..Default::default()
        }),
        Tool::Sqlx => sqlx(table, rows),
        Tool::Refinery => Ok(ToolHistory {
            applied: rows
                .iter()
                .filter_map(|r| {
                    Some(ToolRow {
                        version: get(r, 0)?.to_owned(),
                        description: get(r, 1).map(str::to_owned),
                        checksum: get(r, 2)
                            .and_then(|c| c.trim().parse().ok())
                            .map(Recorded::Refinery),
                    })
                })
                .collect(),
            ..Default::default()
        }),
        Tool::Goose => Ok(goose(rows)),
    }
}

fn flyway(table: &str, rows: &[Row]) -> Result<ToolHistory, String> {
    let mut h = ToolHistory::default();
    for r in rows {
        let rank = get(r, 0).unwrap_or("?");
        let version = get(r, 1);
        let description = get(r, 2).map(str::to_owned);
        let kind = get(r, 3).unwrap_or("");
        let script = get(r, 4).unwrap_or("");
        if get(r, 6) != Some("t") {
            return Err(format!(
                "Flyway recorded {script} (version {}, installed_rank {rank}) in {table} as failed \
                 (success = false): Flyway stops there too, and pgboot will not guess what it left \
                 behind. Fix the database by hand, remove the failed row (`flyway repair`) or \
                 finish the migration with Flyway, then adopt again",
                version.unwrap_or("none")
            ));
        }
        let row = |v: &str| format!("installed_rank {rank}: version {v} ({script})");
        match (kind, version) {
            ("SCHEMA", _) => h.skipped.push(Skipped {
                row: format!("installed_rank {rank}: {script}"),
                reason: "Flyway's record that it created these schemas: nothing to adopt".into(),
            }),
            ("BASELINE", Some(v)) => {
                h.through = Some(Through {
                    version: v.to_owned(),
                    baseline: true,
                })
            }
            (_, Some(v)) if kind == "DELETE" || kind.starts_with("UNDO") => {
                h.applied.retain(|a| a.version != v);
                h.skipped.push(Skipped {
                    row: row(v),
                    reason: format!(
                        "Flyway no longer counts version {v} as applied ({kind}); nor does pgboot"
                    ),
                });
            }
            (_, None) => h.skipped.push(Skipped {
                row: format!("installed_rank {rank}: {script}"),
                reason: "a repeatable migration (R__): pgboot does not run repeatable \
                         migrations, so it records none; keep what it defines in a versioned file"
                    .into(),
            }),
            (_, Some(v)) => h.applied.push(ToolRow {
                version: v.to_owned(),
                description,
                checksum: match kind.contains("SQL") {
                    true => get(r, 5)
                        .and_then(|c| c.trim().parse().ok())
                        .map(Recorded::FlywayCrc32),
                    false => None,
                },
            }),
        }
    }
    Ok(h)
}

fn golang_migrate(table: &str, rows: &[Row]) -> Result<ToolHistory, String> {
    let mut h = ToolHistory::default();
    // One row; should there be more, the highest version is the state golang-migrate reads.
    let Some(r) = rows.iter().rfind(|r| get(r, 0).is_some()) else {
        return Ok(h);
    };
    let v = get(r, 0).unwrap_or_default();
    if get(r, 1) == Some("t") {
        return Err(format!(
            "golang-migrate marked version {v} dirty in {table}: that migration failed part-way, \
             and nothing records how far it got. Fix the database by hand (finish or undo what \
             version {v} does), then run `migrate force {v}` if its changes are all there or \
             `migrate force <the version before it>` if none are, and adopt again"
        ));
    }
    h.through = Some(Through {
        version: v.to_owned(),
        baseline: false,
    });
    Ok(h)
}

fn sqlx(table: &str, rows: &[Row]) -> Result<ToolHistory, String> {
    let mut h = ToolHistory::default();
    for r in rows {
        let Some(v) = get(r, 0) else { continue };
        let description = get(r, 1).map(str::to_owned);
        if get(r, 2) != Some("t") {
            return Err(format!(
                "sqlx recorded version {v} ({}) in {table} as failed (success = false): sqlx \
                 refuses to go on from there too (a dirty database). Fix the database by hand, \
                 delete that row, then adopt again",
                description.as_deref().unwrap_or("")
            ));
        }
        h.applied.push(ToolRow {
            version: v.to_owned(),
            description,
            checksum: get(r, 3).map(|c| Recorded::Sha384(c.to_ascii_lowercase())),
        });
    }
    Ok(h)
}

fn goose(rows: &[Row]) -> ToolHistory {
    let mut h = ToolHistory::default();
    for r in rows {
        let Some(v) = get(r, 0) else { continue };
        if v == "0" {
            continue; // goose's own first row, not a migration
        }
        if get(r, 1) == Some("t") {
            h.applied.push(ToolRow {
                version: v.to_owned(),
                description: None,
                checksum: None,
            });
        } else {
            h.skipped.push(Skipped {
                row: format!("version {v}"),
                reason: "goose rolled it back (its latest row has is_applied = false)".into(),
            });
        }
    }
    h
}

#[cfg(test)]
mod tests;
