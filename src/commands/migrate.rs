//! `pgboot migrate` (the default): wait, lock, check history against files, apply what is
//! pending, print a summary.

use std::process::ExitCode;

use super::Context;
use crate::apply::{self, Outcome};
use crate::checks::{indexes, tenancy};
use crate::cli::MigrateArgs;
use crate::error::{Error, Result};
use crate::history;

pub async fn run(cx: &Context<'_>, args: &MigrateArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    let found = cx.discover()?;
    // A file pgboot would refuse stops the run before it connects: nothing is created, not
    // even the history table. (Each file is lexed again when it is scheduled.)
    for m in &found.migrations {
        apply::prepare(m)?;
    }
    let (target, tls) = cx.target()?;
    let db = cx.connect_session(&target, &tls, &args.create).await?;
    let (applied, up_to_date) = cx
        .with_lock(&target, &tls, &db, async |db, guard| {
            let rows = history::ensure_and_load(db, &table, guard.file_key).await?;
            let sched = apply::schedule(&rows, &found.migrations);
            if !sched.plan.problems.is_empty() {
                return Err(Error::History(sched.plan.problems));
            }
            for name in &sched.plan.out_of_order {
                tracing::warn!(migration = %name, "pending, but older than the newest applied migration; applying it anyway");
            }
            // Every pending file was lexed before any runs: a broken file stops the run before it starts.
            let prepared = sched.prepared?;
            let mut elsewhere = 0;
            for p in &prepared {
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
            Ok((prepared.len() - elsewhere, sched.plan.up_to_date + elsewhere))
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
