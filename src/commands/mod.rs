//! One file per subcommand. A command file turns its arguments into the domain call and its
//! result into a view or an exit code; nothing else. The shared [`Context`] holds the settings,
//! connects and owns the shutdown handling; [`Context::with_lock`] takes the migration lock and
//! releases it on every path.

mod adopt;
mod background;
mod baseline;
mod check_tenancy;
mod config;
mod migrate;
mod new;
mod plan;
mod reading;
mod repair;
mod seed;
mod status;
mod validate;
mod verify;
mod wait;

use std::process::ExitCode;
use std::time::Instant;

use crate::cli::{Cli, Command, CreateDatabase, LockMode, MigrateArgs};
use crate::config::TableName;
use crate::config::{self as settings, Settings, Target};
use crate::error::{Error, Result};
use crate::exit::GRACE;
use crate::lock::{self, Guard};
use crate::logging;
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::{self, Tls};
use crate::pg::{createdb, wait as pgwait, Db};
use crate::source::{self, Discovery};
use background::Background;

/// Loads the configuration, sets up logging and runs the command.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let started = Instant::now();
    let (settings, figment) = match settings::load(&cli.global) {
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
    // The two commands that need no server run before the runtime starts.
    match command {
        Command::Config { json } => return config::run(&settings, &figment, json),
        Command::New { name } => return new::run(&settings, &name),
        _ => {}
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("starting the async runtime", e))?;
    rt.block_on(async move {
        let shutdown =
            Shutdown::install().map_err(|e| Error::internal("installing signal handlers", e))?;
        let cx = Context {
            s: &settings,
            shutdown: &shutdown,
            started,
        };
        let mut work = std::pin::pin!(dispatch(command, &cx));
        tokio::select! {
            r = &mut work => r,
            sig = shutdown.wait() => match tokio::time::timeout(GRACE, &mut work).await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(_)) => Err(Error::Interrupted(sig)),
                Err(_) => Err(Error::InterruptedUnconfirmed(sig)),
            },
        }
    })
}

async fn dispatch(command: Command, cx: &Context<'_>) -> Result<ExitCode> {
    match command {
        Command::Migrate(args) if args.dry_run => plan::run(cx, args.json, &args.create).await,
        Command::Migrate(args) => migrate::run(cx, &args).await,
        Command::Plan { json, create } => plan::run(cx, json, &create).await,
        Command::Wait => wait::run(cx).await,
        Command::Seed => seed::run(cx).await,
        Command::Status { json } => status::run(cx, json).await,
        Command::Validate => validate::run(cx).await,
        Command::Verify { json } => verify::run(cx, json).await,
        Command::CheckTenancy { strict, json } => check_tenancy::run(cx, strict, json).await,
        Command::Baseline(args) => match args.adopt() {
            Some(adopt) => adopt::run(cx, &adopt).await,
            None => baseline::run(cx, &args).await,
        },
        Command::Adopt(args) => adopt::run(cx, &args).await,
        Command::Repair(args) => repair::run(cx, &args).await,
        Command::Config { .. } | Command::New { .. } => Err(Error::internal(
            "dispatching a command",
            std::io::Error::other("config and new run before the runtime starts"),
        )),
    }
}

/// What every command that talks to the server shares: settings, connecting, shutdown.
pub struct Context<'a> {
    pub s: &'a Settings,
    pub shutdown: &'a Shutdown,
    pub started: Instant,
}

impl Context<'_> {
    pub fn table(&self) -> Result<TableName> {
        TableName::parse(&self.s.history_table)
    }

    /// The migration files, warnings logged.
    pub fn discover(&self) -> Result<Discovery> {
        let found = source::discover(&self.s.migrations, &self.s.vars)?;
        for w in &found.warnings {
            tracing::warn!("{w}");
        }
        Ok(found)
    }

    /// [`Context::discover`] with the seeds, read and checked on threads of their own while
    /// the command connects: see `reading`.
    pub fn read_in_background(&self, seeds: bool) -> (Background<reading::Files>, reading::Hint) {
        reading::start(self.s.clone(), seeds)
    }

    pub fn target(&self) -> Result<(Target, Tls)> {
        let target = self.s.connection()?;
        let tls = tls::connector(&target)?;
        Ok((target, tls))
    }

    /// Waits for the database and connects.
    pub async fn connect(&self, target: &Target, tls: &Tls) -> Result<Db> {
        pgwait::connect(target, tls, self.s.wait_timeout.0, self.shutdown).await
    }

    /// The migration session: its settings go in the startup packet (no extra round trip), and
    /// with `--create-database` a missing database is created first.
    pub async fn connect_session(
        &self,
        target: &Target,
        tls: &Tls,
        create: &CreateDatabase,
    ) -> Result<Db> {
        if create.create_database {
            let t = create.template.as_deref();
            createdb::ensure(target, tls, t, self.s.wait_timeout.0, self.shutdown).await?;
        }
        self.connect(&session_target(self.s, target), tls).await
    }

    /// Coordinates with other runs (see `lock`), runs `f` with `db` and the guard its writes
    /// must check, and releases the lock on every path; a signal cancels `db`'s running
    /// statement meanwhile. Session mode: the migration lock on a connection of its own, then a
    /// wait for backends that killed runs left behind. Transaction mode (a pooler): no session
    /// state; the guard's per-file transaction locks alone.
    pub async fn with_lock<T>(
        &self,
        target: &Target,
        tls: &Tls,
        db: &Db,
        f: impl AsyncFnOnce(&Db, &Guard) -> Result<T>,
    ) -> Result<T> {
        self.shutdown.set_cancel(Some(db.canceller()));
        let result = self.locked(target, tls, db, f).await;
        self.shutdown.set_cancel(None);
        result
    }

    async fn locked<T>(
        &self,
        target: &Target,
        tls: &Tls,
        db: &Db,
        f: impl AsyncFnOnce(&Db, &Guard) -> Result<T>,
    ) -> Result<T> {
        let table = &self.s.history_table;
        let mode = self.s.lock_mode;
        if mode == LockMode::Transaction {
            return self.without_session_lock(db, f).await;
        }
        // The lock connection: retried like the first one (53300 too many clients …).
        let lock_db =
            pgwait::connect_again(target, tls, self.s.wait_timeout.0, self.shutdown).await?;
        let pooled = lock::pooled(db, &lock_db).await?;
        match (mode, pooled) {
            (LockMode::Session, true) => return Err(Error::Config(SESSION_BEHIND_POOLER.into())),
            (_, true) => {
                tracing::info!("a connection pooler in transaction mode (PgBouncer?) is in front of the server: coordinating with per-file transaction locks (lock_mode = transaction)");
                drop(lock_db);
                return self.without_session_lock(db, f).await;
            }
            _ => {}
        }
        let timeout = self.s.lock_timeout.map(|d| d.0);
        let lock = lock::acquire(lock_db, db, table, timeout, self.shutdown).await?;
        let guard = Guard::new(table, Some(&lock));
        let drain_for = timeout.unwrap_or(self.s.wait_timeout.0);
        let result = match lock::drain(db, &guard, drain_for, self.shutdown).await {
            Ok(()) => {
                lock::end_with_client(db).await;
                f(db, &guard).await
            }
            Err(e) => Err(e),
        };
        let released = lock.release().await;
        let value = result?;
        released?;
        Ok(value)
    }

    async fn without_session_lock<T>(
        &self,
        db: &Db,
        f: impl AsyncFnOnce(&Db, &Guard) -> Result<T>,
    ) -> Result<T> {
        let mut local = Vec::new();
        if let Some(d) = self.s.statement_timeout {
            local.push(("statement_timeout", d.0.as_millis()));
        }
        if let Some(d) = self.s.session_lock_timeout {
            local.push(("lock_timeout", d.0.as_millis()));
        }
        let guard = Guard::new(&self.s.history_table, None).with_local_settings(&local);
        f(db, &guard).await
    }
}

const SESSION_BEHIND_POOLER: &str = "setting lock_mode is session, but the connection goes through a pooler in transaction mode (PgBouncer?), where a session advisory lock lands on a shared server connection and protects nothing; set lock_mode = transaction or auto (--lock-mode, PGBOOT_LOCK_MODE), or connect to PostgreSQL directly or through session pooling";

/// `statement_timeout` and `lock_timeout` for the migration session, as startup options.
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
