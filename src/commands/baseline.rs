//! `pgboot baseline --through V | --detect [--yes] [--force] [--json]`: adopt a database built
//! without pgboot by recording files as applied without running them.

use std::process::ExitCode;

use super::Context;
use crate::checks::baseline;
use crate::cli::BaselineArgs;
use crate::error::{Error, Result};
use crate::history;
use crate::model::Migration;
use crate::report::views::BaselineView;

pub async fn run(cx: &Context<'_>, args: &BaselineArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    let found = cx.discover()?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    cx.with_lock(&target, &tls, &db, async |db, guard| {
        let applied = history::ensure_and_load(db, &table, guard.file_key).await?;
        if !applied.is_empty() && !args.force {
            return Err(Error::Config(format!(
                "the database already has history ({} rows in {table}); baseline adopts databases without one: pass --force to add rows anyway",
                applied.len()
            )));
        }
        let detected = match args.detect {
            true => Some(baseline::detect(db, &found.migrations).await?),
            false => None,
        };
        let through = args
            .through
            .or_else(|| detected.as_deref().and_then(baseline::propose));
        let files: Vec<&Migration> = found
            .migrations
            .iter()
            .filter(|m| through.is_some_and(|v| m.version <= v))
            .filter(|m| !applied.iter().any(|a| a.name == m.name))
            .collect();
        let write = args.yes && !files.is_empty();
        let view = BaselineView {
            through,
            detected,
            record: files.iter().map(|m| m.name.clone()).collect(),
            written: write,
        };
        crate::report::emit(&view, args.json);
        if write {
            baseline::record(db, &table, &files).await?;
            let through = through.unwrap_or_default();
            tracing::info!(through, files = files.len(), "baseline recorded");
        }
        Ok(ExitCode::SUCCESS)
    })
    .await
}
