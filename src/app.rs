//! The commands, wired from the modules: cli → config → logging → source → sql → wait → lock →
//! history → plan → apply → report.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use crate::apply;
use crate::baseline;
use crate::cli::{BaselineArgs, Cli, Command, CreateDatabase, MigrateArgs, RepairArgs};
use crate::config::{self, Settings, Target};
use crate::createdb;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::history::{self, TableName};
use crate::indexes;
use crate::lock;
use crate::logging;
use crate::plan;
use crate::repair;
use crate::shutdown::Shutdown;
use crate::source::{self, Discovery};
use crate::sql;
use crate::tls;
use crate::wait;

/// After a signal, the run gets this long to cancel, roll back and unlock before pgboot exits anyway.
const GRACE: Duration = Duration::from_millis(2500);

pub fn run() -> Result<ExitCode> {
    let started = Instant::now();
    let cli = Cli::parse();
    let (settings, figment) = match config::load(&cli.global) {
        Ok(v) => v,
        Err(e) => {
            // Logging is not set up yet: honour an explicit JSON request for this one error.
            let fmt = cli
                .global
                .log_format
                .or_else(|| std::env::var("PGBOOT_LOG_FORMAT").ok()?.parse().ok());
            logging::init(fmt.unwrap_or_default());
            return Err(e);
        }
    };
    logging::init(settings.log_format);
    let command = cli
        .command
        .unwrap_or(Command::Migrate(MigrateArgs::default()));
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
        Command::Migrate(args) if args.dry_run => {
            plan_cmd(s, shutdown, args.json, &args.create).await
        }
        Command::Migrate(args) => migrate(s, shutdown, started, &args).await,
        Command::Plan { json, create } => plan_cmd(s, shutdown, json, &create).await,
        Command::Wait => {
            let (target, tls) = connection(s)?;
            wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => status(s, shutdown, json).await,
        Command::Validate => validate(s, shutdown).await,
        Command::Verify { json } => crate::verify::run(s, shutdown, json).await,
        Command::CheckTenancy { strict, json } => {
            crate::tenancy::run(s, shutdown, strict, json).await
        }
        Command::Baseline(args) => baseline_cmd(s, shutdown, &args).await,
        Command::Repair(args) => repair_cmd(s, shutdown, &args).await,
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

/// Waits for the database, creating it first with --create-database.
async fn connect(
    s: &Settings,
    target: &Target,
    tls: &tls::Tls,
    create: &CreateDatabase,
    shutdown: &Shutdown,
) -> Result<Db> {
    if create.create_database {
        createdb::ensure(
            target,
            tls,
            create.template.as_deref(),
            s.wait_timeout.0,
            shutdown,
        )
        .await?;
    }
    wait::connect(target, tls, s.wait_timeout.0, shutdown).await
}

/// What a run would do: the same function decides for `migrate` and `plan`, so they cannot disagree.
struct Schedule<'a> {
    plan: plan::Plan<'a>,
    /// Every pending file, lexed; Err: the first file that cannot be lexed (the run would stop).
    prepared: Result<Vec<apply::Prepared<'a>>>,
}

fn schedule<'a>(applied: &[plan::Applied], found: &'a Discovery) -> Schedule<'a> {
    let plan = plan::plan(applied, &found.migrations);
    let prepared = plan.pending.iter().map(|m| apply::prepare(m)).collect();
    Schedule { plan, prepared }
}

async fn migrate(
    s: &Settings,
    shutdown: &Shutdown,
    started: Instant,
    args: &MigrateArgs,
) -> Result<ExitCode> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (target, tls) = connection(s)?;
    let db = connect(s, &session_target(s, &target), &tls, &args.create, shutdown).await?;
    shutdown.set_cancel(Some(db.canceller()));
    let lock = take_lock(s, &target, &tls, shutdown).await?;
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
    if args.check_tenancy {
        crate::tenancy::after_migrate(&db, args.strict).await?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn migrate_locked(
    db: &Db,
    table: &TableName,
    found: &Discovery,
    shutdown: &Shutdown,
) -> Result<(usize, usize)> {
    let applied = history::ensure_and_load(db, table).await?;
    let Schedule { plan, prepared } = schedule(&applied, found);
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    for name in &plan.out_of_order {
        tracing::warn!(migration = %name, "pending, but older than the newest applied migration; applying it anyway");
    }
    // Every pending file was lexed before any runs: a broken file stops the run before it starts.
    let prepared = prepared?;
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

async fn plan_cmd(
    s: &Settings,
    shutdown: &Shutdown,
    json: bool,
    create: &CreateDatabase,
) -> Result<ExitCode> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (target, tls) = connection(s)?;
    // Changes nothing: a missing database is reported as "would be created", not created.
    let (applied, invalid, would_create) =
        match wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await {
            Ok(db) => (
                history::load(&db, &table).await?,
                indexes::invalid(&db).await?,
                false,
            ),
            Err(Error::MissingDatabase(_)) if create.create_database => {
                (Vec::new(), Vec::new(), true)
            }
            Err(e) => return Err(e),
        };
    let Schedule { plan, prepared } = schedule(&applied, &found);
    let lex_error = prepared.as_ref().err().map(|e| e.to_string());
    let mut stops: Vec<String> = plan.problems.iter().map(|p| p.describe()).collect();
    stops.extend(lex_error.clone());
    let files: Vec<serde_json::Value> = plan
        .pending
        .iter()
        .map(|m| {
            let mode = apply::prepare(m).map(|p| p.mode);
            let (tx, line, statement) = match &mode {
                Ok(apply::Mode::NoTransaction(sql::NoTxReason::Statement {
                    what, line, ..
                })) => (false, Some(*line), Some(what.clone())),
                Ok(apply::Mode::NoTransaction(sql::NoTxReason::Directive)) => {
                    (false, Some(1), Some("-- pgboot:no-transaction".to_owned()))
                }
                _ => (true, None, None),
            };
            serde_json::json!({
                "version": m.version,
                "name": m.name,
                "file": m.path.display().to_string(),
                "transactional": tx,
                "mode": mode.as_ref().map(|m| m.describe()).unwrap_or_else(|e| e.to_string()),
                "no_transaction_line": line,
                "no_transaction_statement": statement,
                "out_of_order": plan.out_of_order.contains(&m.name.as_str()),
            })
        })
        .collect();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "target": target.to_string(),
                "create_database": would_create,
                "pending": files,
                "up_to_date": plan.up_to_date,
                "stops": stops,
                "invalid_indexes": invalid,
            })
        );
    } else {
        if would_create {
            println!(
                "database {:?} does not exist: migrate --create-database would create it",
                target.dbname()
            );
        }
        println!(
            "plan for {target}: {} pending, {} already applied",
            files.len(),
            plan.up_to_date
        );
        for f in &files {
            let late = if f["out_of_order"] == true {
                " (older than the newest applied: applied anyway, with a warning)"
            } else {
                ""
            };
            println!(
                "  {:<40} {}{late}",
                f["name"].as_str().unwrap_or(""),
                f["mode"].as_str().unwrap_or("")
            );
        }
        if stops.is_empty() {
            println!("checks that would stop the run: none");
        } else {
            println!("checks that would stop the run:");
            for s in &stops {
                println!("  - {s}");
            }
        }
        for i in &invalid {
            println!(
                "invalid index {}.{} on {}: {}",
                i.schema,
                i.name,
                i.table,
                i.drop_sql()
            );
        }
    }
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    prepared?;
    Ok(ExitCode::SUCCESS)
}

async fn read_history(
    s: &Settings,
    shutdown: &Shutdown,
) -> Result<(Discovery, Vec<plan::Applied>, Db)> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (target, tls) = connection(s)?;
    let db = wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await?;
    let applied = history::load(&db, &table).await?;
    Ok((found, applied, db))
}

async fn status(s: &Settings, shutdown: &Shutdown, json: bool) -> Result<ExitCode> {
    let (found, applied, db) = read_history(s, shutdown).await?;
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
    indexes::warn(&indexes::invalid(&db).await?);
    Ok(ExitCode::SUCCESS)
}

async fn validate(s: &Settings, shutdown: &Shutdown) -> Result<ExitCode> {
    let (found, applied, db) = read_history(s, shutdown).await?;
    indexes::warn(&indexes::invalid(&db).await?);
    let Schedule { plan, prepared } = schedule(&applied, &found);
    if !plan.problems.is_empty() {
        return Err(Error::History(plan.problems));
    }
    prepared?;
    tracing::info!(
        up_to_date = plan.up_to_date,
        pending = plan.pending.len(),
        "history and files agree: {} applied, {} pending",
        plan.up_to_date,
        plan.pending.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The migration lock, on a connection of its own that stays idle outside any transaction.
async fn take_lock(
    s: &Settings,
    target: &Target,
    tls: &tls::Tls,
    shutdown: &Shutdown,
) -> Result<lock::Lock> {
    let lock_db = Db::connect(target, tls)
        .await
        .map_err(|e| Error::db("opening the lock connection", &e))?;
    lock::acquire(
        lock_db,
        &s.history_table,
        s.lock_timeout.map(|d| d.0),
        shutdown,
    )
    .await
}

/// Connects and takes the migration lock, for the commands that write history.
async fn locked(s: &Settings, shutdown: &Shutdown) -> Result<(Db, lock::Lock)> {
    let (target, tls) = connection(s)?;
    let db = wait::connect(&target, &tls, s.wait_timeout.0, shutdown).await?;
    let lock = take_lock(s, &target, &tls, shutdown).await?;
    Ok((db, lock))
}

async fn repair_cmd(s: &Settings, shutdown: &Shutdown, args: &RepairArgs) -> Result<ExitCode> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (db, lock) = locked(s, shutdown).await?;
    let result = async {
        let applied = history::load(&db, &table).await?;
        let rows = plan::status(&applied, &found.migrations);
        let invalid = if args.drop_invalid_indexes {
            indexes::invalid(&db).await?
        } else {
            Vec::new()
        };
        let recorded = |name: &str| {
            applied
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.checksum.clone())
        };
        let req = repair::Request {
            names: &args.names,
            all_drifted: args.all_drifted,
            all_failed: args.all_failed,
            drop_invalid_indexes: args.drop_invalid_indexes,
        };
        let actions = repair::actions(&req, &rows, &recorded, &invalid)?;
        if args.json {
            println!(
                "{}",
                serde_json::json!({ "applied": args.yes, "actions": actions })
            );
        } else {
            if actions.is_empty() {
                println!("nothing to repair");
            }
            for a in &actions {
                println!("{}", a.describe());
            }
            if !args.yes && !actions.is_empty() {
                println!("nothing was changed: run again with --yes to make these changes");
            }
        }
        if args.yes {
            repair::execute(&db, &table, &actions).await?;
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    let released = lock.release().await;
    let code = result?;
    released?;
    Ok(code)
}

async fn baseline_cmd(s: &Settings, shutdown: &Shutdown, args: &BaselineArgs) -> Result<ExitCode> {
    let table = TableName::parse(&s.history_table)?;
    let found = discover(s)?;
    let (db, lock) = locked(s, shutdown).await?;
    let result = async {
        let applied = history::ensure_and_load(&db, &table).await?;
        if !applied.is_empty() && !args.force {
            return Err(Error::Config(format!(
                "the database already has history ({} rows in {table}); baseline adopts databases without one: pass --force to add rows anyway",
                applied.len()
            )));
        }
        let checks = if args.detect { Some(baseline::detect(&db, &found.migrations).await?) } else { None };
        let through = match (args.through, &checks) {
            (Some(v), _) => Some(v),
            (None, Some(c)) => baseline::propose(c),
            (None, None) => None,
        };
        let files: Vec<&source::Migration> = found
            .migrations
            .iter()
            .filter(|m| through.is_some_and(|v| m.version <= v) && !applied.iter().any(|a| a.name == m.name))
            .collect();
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "through": through,
                    "detected": checks,
                    "record": files.iter().map(|m| &m.name).collect::<Vec<_>>(),
                    "written": args.yes && !files.is_empty(),
                })
            );
        } else {
            for c in checks.iter().flatten() {
                let state = if c.objects == 0 { "creates no named object".to_owned() } else if c.present() { format!("present ({} objects)", c.objects) } else { format!("missing {}", c.missing.join(", ")) };
                println!("  {:<40} {state}", c.name);
            }
            match through {
                Some(v) => println!("baseline through version {v}: would record {} file(s) as applied without running them:", files.len()),
                None => println!("no file's objects are all present: nothing to baseline; run migrate"),
            }
            for m in &files {
                println!("  {}", m.name);
            }
            if !args.yes && !files.is_empty() {
                println!("nothing was written: run again with --yes to record them");
            }
        }
        if args.yes && !files.is_empty() {
            baseline::record(&db, &table, &files).await?;
            tracing::info!(through = through.unwrap_or_default(), files = files.len(), "baseline recorded");
        }
        Ok(ExitCode::SUCCESS)
    }
    .await;
    let released = lock.release().await;
    let code = result?;
    released?;
    Ok(code)
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
