//! `pgboot migrate` (the default): wait, lock, check history against files, apply what is
//! pending, print a summary.

use std::process::ExitCode;

use super::reading::Files;
use super::Context;
use crate::apply::{self, Outcome};
use crate::checks::{indexes, tenancy};
use crate::cli::MigrateArgs;
use crate::error::{Error, Result};
use crate::history::{self, guard::async_commit, sql::flush_sql};
use crate::lock::Guard;
use crate::model::Migration;
use crate::pg::db::Db;
use crate::plan;

pub async fn run(cx: &Context<'_>, args: &MigrateArgs) -> Result<ExitCode> {
    let table = cx.table()?;
    // The files are read, and those that may run are checked, on threads of their own while
    // pgboot connects, takes the lock and reads the history (`reading`). A file pgboot would
    // refuse still stops the run with nothing written, not even the history table: every write
    // waits for the check.
    let (mut reading, hint) = cx.read_in_background(true);
    let (target, tls) = cx.target()?;
    if args.create.create_database {
        reading.check().await?;
    }
    let db = tokio::select! {
        e = reading.failed() => return Err(e),
        db = cx.connect_session(&target, &tls, &args.create) => db?,
    };
    let (applied, up_to_date) = cx
        .with_lock(&target, &tls, &db, async |db, guard| {
            let (rows, current) = history::load_and_shape(db, &table).await?;
            hint.send(&rows);
            let mut files = reading.value().await?;
            let (migrations, checked) = files.split();
            let first = plan::plan(&rows, migrations);
            let mut all = Files::prepare(migrations, checked, &first.pending)?;
            // Only now may the history table be created or upgraded (and read again).
            let upgraded;
            let plan = match current {
                true => first,
                false => {
                    upgraded = history::ensure_and_load(db, &table, guard.file_key).await?;
                    plan::plan(&upgraded, migrations)
                }
            };
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
            // Read again after creating or upgrading the table: the same rows.
            let pending: std::collections::HashSet<*const Migration> =
                plan.pending.iter().map(|m| *m as *const Migration).collect();
            all.retain(|p| pending.contains(&(p.migration as *const Migration)));
            let prepared: Vec<&apply::Prepared> = all
                .iter()
                .filter(|p| !args.seeds_only || super::seed::is_seed(p.migration))
                .collect();
            let mut durable = Durability::new(cx.s.sync_every_file);
            let result = apply_all(cx, db, &table, &plan, &prepared, guard, &mut durable).await;
            let elsewhere = durable.flush(db, &table, result).await?;
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

/// Applies the pending files in order; returns how many another runner applied first.
async fn apply_all<'m>(
    cx: &Context<'_>,
    db: &Db,
    table: &crate::config::TableName,
    plan: &crate::plan::Plan<'_>,
    prepared: &[&'m apply::Prepared<'m>],
    guard: &Guard,
    durable: &mut Durability<'m>,
) -> Result<usize> {
    let fast = async_commit(guard);
    let mut elsewhere = 0;
    for (i, &p) in prepared.iter().enumerate() {
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
        let is_async = durable.may_defer(&p.mode, i + 1 == prepared.len());
        let g = if is_async { &fast } else { guard };
        let ms = match apply::apply(db, table, p, g, cx.shutdown).await {
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
        durable.committed(p.migration, is_async);
        tracing::info!(
            migration = %p.migration.name,
            duration_ms = (ms * 1000.0).round() / 1000.0,
            transactional = p.mode.transactional(),
            "applied {} in {ms:.1} ms",
            p.migration.name
        );
    }
    Ok(elsewhere)
}

/// Which commits wait for the WAL flush. Every transactional file but the run's last commits
/// asynchronously (unless `sync_every_file`); whatever stops the run, a synchronous commit
/// follows the last asynchronous one before pgboot exits, so every recorded file is durable.
struct Durability<'m> {
    sync_every_file: bool,
    /// The last file committed asynchronously with no synchronous commit after it.
    unflushed: Option<&'m Migration>,
    deferred: usize,
}

impl<'m> Durability<'m> {
    fn new(sync_every_file: bool) -> Self {
        Durability {
            sync_every_file,
            unflushed: None,
            deferred: 0,
        }
    }

    /// Whether a file may commit without waiting for the flush. Pure. Non-transactional files
    /// (their claims and progress records) and files with their own BEGIN/COMMIT never do.
    fn may_defer(&self, mode: &apply::Mode, last: bool) -> bool {
        !self.sync_every_file && !last && *mode == apply::Mode::Transaction
    }

    fn committed(&mut self, m: &'m Migration, deferred: bool) {
        if deferred {
            self.unflushed = Some(m);
            self.deferred += 1;
        } else {
            // A synchronous commit flushes the WAL up to itself: every earlier commit too.
            self.unflushed = None;
        }
    }

    /// Ends the run's asynchronous commits with a synchronous one, on every path. When the run
    /// succeeded and the flush fails, the run fails: exit 0 promises durability.
    async fn flush<T>(
        &mut self,
        db: &Db,
        table: &crate::config::TableName,
        result: Result<T>,
    ) -> Result<T> {
        let Some(m) = self.unflushed.take() else {
            return result;
        };
        let flushed = db.client.batch_execute(&flush_sql(table, &m.name)).await;
        match (result, flushed) {
            (r, Ok(())) => {
                tracing::debug!(
                    deferred = self.deferred,
                    "flushed the WAL after {} asynchronous commits",
                    self.deferred
                );
                r
            }
            (Ok(_), Err(e)) => Err(Error::db(
                format!(
                    "making the run's commits durable (a synchronous commit after {})",
                    m.name
                ),
                e,
            )),
            (Err(first), Err(e)) => {
                tracing::warn!(error = %e, "could not make the commits before the failure durable: after a server crash, the next run applies what was lost");
                Err(first)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::NoTxReason;

    #[test]
    fn only_transactional_files_before_the_last_defer_their_flush() {
        let d = Durability::new(false);
        assert!(d.may_defer(&apply::Mode::Transaction, false));
        assert!(!d.may_defer(&apply::Mode::Transaction, true));
        assert!(!d.may_defer(&apply::Mode::OwnTransaction, false));
        assert!(!d.may_defer(&apply::Mode::NoTransaction(NoTxReason::Directive), false));
        assert!(!Durability::new(true).may_defer(&apply::Mode::Transaction, false));
    }

    #[test]
    fn a_synchronous_commit_flushes_the_ones_before() {
        let m = |n: &str| Migration {
            version: 1,
            name: n.into(),
            path: n.into(),
            sql: String::new(),
            checksum: String::new(),
            origins: Vec::new(),
            variables: Vec::new(),
            ..Default::default()
        };
        let (a, b) = (m("001_a"), m("002_b"));
        let mut d = Durability::new(false);
        d.committed(&a, true);
        d.committed(&b, true);
        assert_eq!(d.unflushed.map(|m| m.name.as_str()), Some("002_b"));
        d.committed(&a, false);
        assert!(d.unflushed.is_none());
        assert_eq!(d.deferred, 2);
    }
}
