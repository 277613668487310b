//! The commands, wired from the modules: cli → config → logging → source → sql → wait → lock →
//! history → plan → apply → report.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::apply;
use crate::cli::{Cli, Command};
use crate::config::{self, Settings, Target};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::history::{self, TableName};
use crate::lock;
use crate::logging;
use crate::plan;
use crate::shutdown::Shutdown;
use crate::source::{self, Discovery};
use crate::tls;
use crate::wait;

/// After a signal, the run gets this long to cancel, roll back and unlock before pgboot exits anyway.
const GRACE: Duration = Duration::from_millis(2500);

pub fn run() -> Result<ExitCode> {
    let started = Instant::now();
    let cli = Cli::parse();
    let overrides = cli.global.overrides();
    let (settings, figment) = match config::load(cli.global.config.clone(), &overrides) {
        Ok(v) => v,
        Err(e) => {
            // Logging is not set up yet: honour an explicit JSON request for this one error.
            let fmt = overrides
                .log_format
                .or_else(|| std::env::var("PGBOOT_LOG_FORMAT").ok()?.parse().ok());
            logging::init(fmt.unwrap_or_default());
            return Err(e);
        }
    };
    logging::init(settings.log_format);
    let command = cli.command.unwrap_or(Command::Migrate);
    if let Command::Config { json } = command {
        print_config(&settings, &figment, json)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::New { name } = &command {
        let path = crate::scaffold::create(&settings.migrations, name)?;
        println!("{}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let shutdown = Shutdown::install()
            .map_err(|e| Error::Config(format!("cannot install signal handlers: {e}")))?;
        let work = std::pin::pin!(dispatch(command, &settings, &shutdown, started));
        let mut work = work;
        tokio::select! {
            r = &mut work => r,
            sig = shutdown.wait() => match tokio::time::timeout(GRACE, &mut work).await {
                Ok(Err(e)) => Err(e),
                _ => Err(Error::Interrupted(sig)),
            },
        }
    })
}

async fn dispatch(
    command: Command,
    s: &Settings,
    shutdown: &Shutdown,
    started: Instant,
) -> Result<ExitCode> {
    match command {
        Command::Migrate => migrate(s, shutdown, started).await,
        Command::Wait => {
            let (target, tls) = connection(s)?;
            wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => status(s, shutdown, json).await,
        Command::Validate => validate(s, shutdown).await,
        Command::Config { .. } | Command::New { .. } => {
            unreachable!("handled before the runtime starts")
        }
    }
}

fn connection(s: &Settings) -> Result<(Target, tls::Tls)> {
    let target = s.connection()?;
    let tls = tls::connector(&target)?;
    Ok((target, tls))
}

fn discover(s: &Settings) -> Result<Discovery> {
    let found = source::discover(&s.migrations)?;
    for w in &found.warnings {
        tracing::warn!("{w}");
    }
    Ok(found)
}

/// The migration session's settings go in the startup packet: no extra round trip.
fn session_target(s: &Settings, target: &Target) -> Target {
    let mut t = target.clone();
    let mut opts = Vec::new();
    if let Some(d) = s.statement_timeout {
        opts.push(format!("-c statement_timeout={}", d.0.as_millis()));
    }
    if let Some(d) = s.session_lock_timeout {
        opts.push(format!("-c lock_timeout={}", d.0.as_millis()));
    }
    if !opts.is_empty() {
        let existing =
            t.pg.get_options()
                .map(|o| format!("{o} "))
                .unwrap_or_default();
        t.pg.options(format!("{existing}{}", opts.join(" ")));
    }
    t
}

async fn migrate(s: &Settings, shutdown: &Shutdown, started: Instant) -> Result<ExitCode> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (target, tls) = connection(s)?;
    let db = wait::connect(
        &session_target(s, &target),
        &tls,
        s.wait_timeout.0,
        shutdown,
    )
    .await?;
    shutdown.set_cancel(Some(db.canceller()));
    let lock_db = Db::connect(&target, &tls)
        .await
        .map_err(|e| Error::db("opening the lock connection", &e))?;
    let lock = lock::acquire(
        lock_db,
        &s.history_table,
        s.lock_timeout.map(|d| d.0),
        shutdown,
    )
    .await?;
    let result = migrate_locked(&db, &table, &found, shutdown).await;
    let released = lock.release().await;
    shutdown.set_cancel(None);
    let (applied, up_to_date) = result?;
    released?;
    tracing::info!(
        applied,
        up_to_date,
        total_ms = started.elapsed().as_millis() as u64,
        "summary: applied {applied}, already up to date {up_to_date}, total {} ms",
        started.elapsed().as_millis()
    );
    Ok(ExitCode::SUCCESS)
}

async fn migrate_locked(
    db: &Db,
    table: &TableName,
    found: &Discovery,
    shutdown: &Shutdown,
) -> Result<(usize, usize)> {
    let applied = history::ensure_and_load(db, table).await?;
    let plan = plan::plan(&applied, &found.migrations);
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    for name in &plan.out_of_order {
        tracing::warn!(migration = %name, "pending, but older than the newest applied migration; applying it anyway");
    }
    // Lex every pending file before running any: a broken file stops the run before it starts.
    let prepared = plan
        .pending
        .iter()
        .map(|m| apply::prepare(m))
        .collect::<Result<Vec<_>>>()?;
    for p in &prepared {
        if p.mode == apply::Mode::OwnTransaction {
            tracing::info!(migration = %p.migration.name, "runs {}", p.mode.describe());
        }
        if let Some(sig) = shutdown.signalled() {
            return Err(Error::Interrupted(sig));
        }
        let ms = apply::apply(db, table, p, shutdown).await?;
        tracing::info!(
            migration = %p.migration.name,
            duration_ms = (ms * 1000.0).round() / 1000.0,
            transactional = p.mode.transactional(),
            "applied {} in {ms:.1} ms",
            p.migration.name
        );
    }
    Ok((prepared.len(), plan.up_to_date))
}

async fn read_history(
    s: &Settings,
    shutdown: &Shutdown,
) -> Result<(Discovery, Vec<plan::Applied>)> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (target, tls) = connection(s)?;
    let db = wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await?;
    let applied = history::load(&db, &table).await?;
    Ok((found, applied))
}

async fn status(s: &Settings, shutdown: &Shutdown, json: bool) -> Result<ExitCode> {
    let (found, applied) = read_history(s, shutdown).await?;
    let rows = plan::status(&applied, &found.migrations);
    if json {
        let arr: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "version": r.version,
                    "name": r.name,
                    "state": r.state.as_str(),
                    "checksum": r.checksum,
                    "applied_at": r.applied_at,
                    "execution_ms": r.execution_ms,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(arr));
    } else {
        println!(
            "{:<16} {:<40} {:<8} {:<25} {:>10}",
            "VERSION", "NAME", "STATE", "APPLIED_AT", "MS"
        );
        for r in &rows {
            println!(
                "{:<16} {:<40} {:<8} {:<25} {:>10}",
                r.version,
                r.name,
                r.state.as_str(),
                r.applied_at.as_deref().unwrap_or("-"),
                r.execution_ms
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "-".into())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn validate(s: &Settings, shutdown: &Shutdown) -> Result<ExitCode> {
    let (found, applied) = read_history(s, shutdown).await?;
    let plan = plan::plan(&applied, &found.migrations);
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    for m in &plan.pending {
        apply::prepare(m)?;
    }
    tracing::info!(
        up_to_date = plan.up_to_date,
        pending = plan.pending.len(),
        "history and files agree: {} applied, {} pending",
        plan.up_to_date,
        plan.pending.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn print_config(s: &Settings, fig: &figment::Figment, json: bool) -> Result<()> {
    let entries = s.entries();
    let source = |k: &str| -> String {
        match fig.find_metadata(k) {
            Some(m) => match &m.source {
                Some(figment::Source::File(p)) => format!("file {}", p.display()),
                _ => m.name.to_string(),
            },
            None => "unset".into(),
        }
    };
    let target = s
        .connection()
        .map(|t| t.to_string())
        .unwrap_or_else(|e| format!("invalid: {e}"));
    if json {
        let mut map = serde_json::Map::new();
        for (k, v) in &entries {
            map.insert(
                (*k).into(),
                serde_json::json!({ "value": v, "source": source(k) }),
            );
        }
        map.insert(
            "target".into(),
            serde_json::json!({ "value": target, "source": "derived" }),
        );
        println!("{}", serde_json::Value::Object(map));
    } else {
        for (k, v) in &entries {
            println!(
                "{:<22} {:<50} ({})",
                k,
                v.as_deref().unwrap_or("-"),
                source(k)
            );
        }
        println!("{:<22} {target}", "target");
    }
    Ok(())
}
