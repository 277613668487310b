//! `pgboot baseline --through V | --detect [--yes] [--force] [--json]`: adopt a database built
//! without pgboot by recording files as applied without running them. Reads only, unless
//! `--yes`: the history table is created (under the migration lock) only to write to it.

use std::process::ExitCode;

use super::Context;
use crate::checks::baseline;
use crate::cli::BaselineArgs;
use crate::config::TableName;
use crate::error::{Error, Result};
use crate::history;
use crate::model::{Applied, Migration};
use crate::report::views::BaselineView;

fn refuse_history(applied: &[Applied], table: &TableName, force: bool) -> Result<()> {
    if applied.is_empty() || force {
        return Ok(());
    }
    Err(Error::Config(format!(
        "the database already has history ({} rows in {table}); baseline adopts databases without one: pass --force to add rows anyway",
        applied.len()
    )))
}

pub async fn run(cx: &Context<'_>, args: &BaselineArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    let mut found = cx.discover()?;
    if args.detect {
        // The replay reads each file's text: large files are read whole here.
        crate::source::hold_in_memory(&mut found.migrations)?;
    }
    // A version no file has is refused before connecting.
    let through: Option<Vec<&Migration>> = match &args.through {
        Some(v) => Some(baseline::through(&found.migrations, v).map_err(Error::Config)?),
        None => None,
    };
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    cx.shutdown.set_cancel(Some(db.canceller()));
    // Read without creating anything: no table means no history.
    let applied = history::load(&db, &table).await?;
    refuse_history(&applied, &table, args.force)?;
    let detected = match args.detect {
        true => Some(
            baseline::detect(&db, &target, &tls, &table, &found.migrations, cx.shutdown).await?,
        ),
        false => None,
    };
    cx.shutdown.set_cancel(None);
    // The files to record: through --through's version, or the prefix that matched exactly.
    let files: Vec<&Migration> = match (&detected, through) {
        (Some(d), _) => found.migrations.iter().take(d.exact.unwrap_or(0)).collect(),
        (None, Some(files)) => files,
        (None, None) => Vec::new(),
    };
    let files: Vec<&Migration> = files
        .into_iter()
        .filter(|m| !applied.iter().any(|a| a.name == m.name))
        .collect();
    let through = match &detected {
        Some(d) => d.exact.filter(|&n| n > 0).and(d.closest_version.clone()),
        None => args.through.clone(),
    };
    let write = args.yes && !files.is_empty();
    if write {
        cx.with_lock(&target, &tls, &db, async |db, guard| {
            let applied = history::ensure_and_load(db, &table, guard.file_key).await?;
            refuse_history(&applied, &table, args.force)?;
            baseline::record(db, &table, &files).await
        })
        .await?;
        tracing::info!(through, files = files.len(), "baseline recorded");
    }
    let exact = detected.as_ref().map(|d| d.exact.is_some());
    let view = BaselineView {
        through,
        detected,
        record: files.iter().map(|m| m.name.clone()).collect(),
        written: write,
    };
    crate::report::emit(&view, args.json);
    if exact == Some(false) {
        return Err(Error::Findings(
            "baseline --detect: no prefix of the files matches the database's catalog exactly; nothing was written".into(),
        ));
    }
    Ok(ExitCode::SUCCESS)
}
