//! `pgboot validate`: the history checks without applying anything; exit 4 on any disagreement.

use std::process::ExitCode;

use super::Context;
use crate::apply;
use crate::checks::indexes;
use crate::error::{Error, Result};
use crate::history;

pub async fn run(cx: &Context<'_>) -> Result<ExitCode> {
    let table = cx.table()?;
    let files = super::seed::files(cx, cx.discover()?, true)?;
    let (target, tls) = cx.target()?;
    let db = cx.connect(&target, &tls).await?;
    let applied = history::load(&db, &table).await?;
    indexes::warn(&indexes::invalid(&db).await?);
    let sched = apply::schedule(&applied, &files);
    // Per pending file, the decisions `plan` shows (the same function builds them).
    for f in super::plan::plan_files(&sched) {
        let decisions = f.decisions().join("; ");
        let sep = if decisions.is_empty() { "" } else { "; " };
        tracing::info!(
            migration = %f.name,
            transactional = f.transactional,
            mode = %f.mode,
            decisions = %decisions,
            "pending {}: {}{sep}{decisions}",
            f.name,
            f.mode
        );
    }
    if !sched.plan.problems.is_empty() {
        return Err(Error::History(sched.plan.problems));
    }
    sched.prepared?;
    for w in &sched.plan.warnings {
        tracing::warn!("{w}");
    }
    let (up_to_date, pending) = (sched.plan.up_to_date, sched.plan.pending.len());
    let kinds = crate::repeatable::count_kinds(&applied, &sched.plan.pending);
    tracing::info!(
        up_to_date,
        pending,
        kinds = %kinds,
        "history and files agree: {up_to_date} applied, {pending} pending ({kinds})"
    );
    Ok(ExitCode::SUCCESS)
}
