//! `pgboot migrate` (the default): wait, lock, check history against files, apply what is
//! pending, print a summary.

use std::process::ExitCode;

use super::Context;
use crate::apply::{self, Outcome};
use crate::checks::{indexes, tenancy};
use crate::cli::MigrateArgs;
use crate::error::{Error, Result};
use crate::history;
use crate::plan;

pub async fn run(cx: &Context<'_>, args: &MigrateArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    let files = super::seed::files(cx, cx.discover()?, true)?;
    // Every file is lexed and checked once, before connecting: a file pgboot would refuse
    // stops the run with nothing created, not even the history table.
    let all: Vec<apply::Prepared> = files.iter().map(apply::prepare).collect::<Result<_>>()?;
    let (target, tls) = cx.target()?;
    let db = cx.connect_session(&target, &tls, &args.create).await?;
    let (applied, up_to_date) = cx
        .with_lock(&target, &tls, &db, async |db, guard| {
            let rows = history::ensure_and_load(db, &table, guard.file_key).await?;
            let plan = plan::plan(&rows, &files);
            if !plan.problems.is_empty() {
                return Err(Error::History(plan.problems));
            }
            if args.seeds_only {
                super::seed::only_seeds(&plan)?;
            }
            for w in &plan.warnings {
                tracing::warn!("{w}");
            }
            for name in &plan.out_of_order {
                tracing::warn!(migration = %name, "pending, but older than the newest applied migration; applying it anyway");
            }
            let prepared: Vec<&apply::Prepared> = all
                .iter()
                .filter(|p| plan.pending.iter().any(|m| std::ptr::eq(*m, p.migration)))
                .filter(|p| !args.seeds_only || super::seed::is_seed(p.migration))
                .collect();
            let mut elsewhere = 0;
            for &p in &prepared {
                if let Some(why) = plan.why(&p.migration.name) {
                    let kind = p.migration.kind.as_str();
                    tracing::info!(migration = %p.migration.name, kind, reason = why.as_str(), "{kind}: {}", why.describe());
                }
                if p.mode == apply::Mode::OwnTransaction {
                    tracing::info!(migration = %p.migration.name, "runs {}", p.mode.describe());
                }
                if let Some(sig) = cx.shutdown.signalled() {
                    return Err(Error::Interrupted(sig));
                }
                let ms = match apply::apply(db, &table, p, guard, cx.shutdown).await {
                    Err(Error::Migration(mut f)) if !p.mode.transactional() => {
                        indexes::advise(db, &mut f).await;
                        return Err(Error::Migration(f));
                    }
                    Ok(Outcome::AppliedElsewhere) => {
                        tracing::info!(migration = %p.migration.name, "applied by another runner");
                        elsewhere += 1;
                        continue;
                    }
                    Ok(Outcome::Applied(ms)) => ms,
                    Err(e) => return Err(e),
                };
                tracing::info!(
                    migration = %p.migration.name,
                    duration_ms = (ms * 1000.0).round() / 1000.0,
                    transactional = p.mode.transactional(),
                    "applied {} in {ms:.1} ms",
                    p.migration.name
                );
            }
            Ok((prepared.len() - elsewhere, plan.up_to_date + elsewhere))
        })
        .await?;
    let total_ms = cx.started.elapsed().as_millis() as u64;
    tracing::info!(
        applied,
        up_to_date,
        total_ms,
        "summary: applied {applied}, already up to date {up_to_date}, total {total_ms} ms"
    );
    if args.check_tenancy {
        tenancy::after_migrate(&db, args.strict).await?;
    }
    Ok(ExitCode::SUCCESS)
}
