//! `pgboot adopt --from TOOL [--table SCHEMA.NAME] [--yes] [--force] [--json]` (also
//! `baseline --from TOOL`): record the files another tool applied as applied, without running
//! them. Shows the mapping first; writes only with `--yes`, and without it writes nothing, not
//! even pgboot's history table.

use std::process::ExitCode;

use super::Context;
use crate::checks::adopt::{self, map, ToolTable};
use crate::checks::baseline;
use crate::cli::AdoptArgs;
use crate::error::{Error, Result};
use crate::history::{self, sql::Kind};
use crate::model::Migration;
use crate::report::views::AdoptView;

pub async fn run(cx: &Context<'_>, args: &AdoptArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    let from = ToolTable::parse(args.from, args.table.as_deref())?;
    let found = cx.discover()?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    cx.with_lock(&target, &tls, &db, async |db, guard| {
        // Read only: the table is created (or upgraded) just before writing, with --yes.
        let applied = history::load(db, &table).await?;
        if !applied.is_empty() && !args.force {
            return Err(Error::Config(format!(
                "the database already has pgboot history ({} rows in {table}); adopt takes over a database without one: pass --force to record the other files anyway (those in the history are left as they are)",
                applied.len()
            )));
        }
        let tool = adopt::read(db, args.from, &from).await?;
        let recorded: Vec<&str> = applied.iter().map(|a| a.name.as_str()).collect();
        let mapping = map::map(
            args.from,
            &tool.history,
            &found.migrations,
            &recorded,
            &adopt::read_raw,
        )
        .map_err(Error::Config)?;
        let names = mapping.to_record();
        let files: Vec<&Migration> = found
            .migrations
            .iter()
            .filter(|m| names.contains(&m.name.as_str()))
            .collect();
        let write = args.yes && !files.is_empty();
        if write {
            history::ensure_and_load(db, &table, guard.file_key).await?;
            baseline::record_as(db, &table, &files, Kind::Adopted(args.from.as_str())).await?;
            tracing::info!(from = args.from.as_str(), files = files.len(), "adopted");
        }
        let view = AdoptView {
            from: args.from,
            table: tool.table,
            history_table: table.to_string(),
            record: names.iter().map(|n| (*n).to_owned()).collect(),
            mapping,
            written: write,
        };
        crate::report::emit(&view, args.json);
        Ok(ExitCode::SUCCESS)
    })
    .await
}
