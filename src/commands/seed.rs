//! `pgboot seed`: apply only the seeds directory's pending files, to a database that is already
//! migrated; and [`files`], the list every command that plans works from: the versioned files,
//! the repeatable files, then the seeds when a seeds directory is configured.

use std::process::ExitCode;

use super::Context;
use crate::cli::MigrateArgs;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::history;
use crate::model::{Kind, Migration};
use crate::plan::{self, Plan};
use crate::repeatable::Why;
use crate::source::{self, Discovery};

/// Everything `plan` compares with the history, in run order: versioned files, repeatable files
/// (name order), then the seeds when `seeds` is asked for and a seeds directory is configured.
pub(super) fn files(cx: &Context<'_>, found: Discovery, seeds: bool) -> Result<Vec<Migration>> {
    files_of(cx.s, found, seeds)
}

/// [`files`] with only the settings (on the thread that reads the files while pgboot connects).
pub(super) fn files_of(s: &Settings, found: Discovery, seeds: bool) -> Result<Vec<Migration>> {
    let mut all = found.migrations;
    all.extend(found.repeatables);
    let Some(dir) = s.seeds.as_deref().filter(|_| seeds) else {
        return Ok(all);
    };
    let seeds = source::discover_seeds(dir, &s.vars)?;
    for w in &seeds.warnings {
        tracing::warn!("{w}");
    }
    // One history table: a seed must not take a migration's name.
    if let Some(s) = seeds
        .migrations
        .iter()
        .find(|s| all.iter().any(|m| m.name == s.name))
    {
        return Err(Error::Source(format!(
            "{}: a seed has the name of a migration ({}); the history identifies files by name, so rename the seed",
            s.path.display(),
            s.name
        )));
    }
    all.extend(seeds.migrations);
    Ok(all)
}

/// `pgboot seed`: the migrate path, with only seeds allowed to be pending.
pub async fn run(cx: &Context<'_>) -> Result<ExitCode> {
    if cx.s.seeds.is_none() {
        return Err(Error::Config(NOT_CONFIGURED.into()));
    }
    migrated(cx).await?;
    let args = MigrateArgs {
        seeds_only: true,
        ..MigrateArgs::default()
    };
    super::migrate::run(cx, &args).await
}

/// Refuses an unmigrated database (or history that disagrees with the files) before anything is
/// written: the history is read without being created, on a connection of its own. Migrate's
/// path, which `seed` then takes, creates the table before it plans and checks again under the
/// lock (a migrate may have run in between).
async fn migrated(cx: &Context<'_>) -> Result<()> {
    let table = cx.table()?;
    let files = files(cx, cx.discover()?, true)?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    let rows = history::load(&db, &table).await?;
    let plan = plan::plan(&rows, &files);
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    only_seeds(&plan)
}

const NOT_CONFIGURED: &str = "pgboot seed: no seeds directory is configured, and nothing seeds unless configured; set --seeds DIR, PGBOOT_SEEDS or seeds in pgboot.toml (for development and CI databases only)";

pub(super) fn is_seed(m: &Migration) -> bool {
    m.kind == Kind::Seed
}

/// For `pgboot seed`: the database must be migrated already; Err names what is pending.
/// `-- pgboot:always` files are always pending: `pgboot seed` leaves them to `migrate`.
pub(super) fn only_seeds(plan: &Plan<'_>) -> Result<()> {
    let other: Vec<&str> = plan
        .pending
        .iter()
        .filter(|m| !is_seed(m) && plan.why(&m.name) != Some(Why::Always))
        .map(|m| m.name.as_str())
        .collect();
    if other.is_empty() {
        return Ok(());
    }
    Err(Error::Config(format!(
        "pgboot seed: the database is not migrated: {} migration file(s) pending ({}); run `pgboot migrate` first (with seeds configured, it applies the seeds after the migrations)",
        other.len(),
        other.join(", ")
    )))
}
