//! The one error type. Every failure ends up here, and its variant decides the exit code.

use std::process::ExitCode;
use std::time::Duration;

use crate::plan::Problem;
use crate::report::MigrationFailure;

/// Exit codes: part of the interface, documented in the README and `--help`.
pub mod code {
    pub const MIGRATION_FAILED: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const NOT_READY: u8 = 3;
    pub const HISTORY_MISMATCH: u8 = 4;
    pub const CONNECTION: u8 = 5;
    pub const LOCK_TIMEOUT: u8 = 6;
    pub const FINDINGS: u8 = 7;
    pub const SIGINT: u8 = 130;
    pub const SIGTERM: u8 = 143;
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done, or nothing was pending
  1    a migration failed (rolled back if it ran in a transaction)
  2    usage or configuration error, or an unreadable migrations directory or file
  3    the database was not ready within the wait timeout
  4    history and files disagree (changed checksum, missing file, failed migration)
  5    a permanent connection error (authentication, missing database, TLS)
  6    the migration lock was not acquired within the lock timeout
  7    checks found problems (verify, check-tenancy --strict, migrate --check-tenancy --strict)
  130  interrupted by SIGINT
  143  terminated by SIGTERM";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, settings or config file. The message names the setting and what to do.
    #[error("{0}")]
    Config(String),
    /// The migrations directory or one of its files cannot be used.
    #[error("{0}")]
    Source(String),
    /// A migration statement failed. Rendered with the source snippet by `report`.
    #[error("{0}")]
    Migration(Box<MigrationFailure>),
    /// Any other database error during the run (history table, lost connection...).
    #[error("{context}: {message}")]
    Database { context: String, message: String },
    #[error("database not ready after {}: {last}", humantime::format_duration(*.waited))]
    NotReady { waited: Duration, last: String },
    #[error("{}", crate::plan::describe_problems(.0))]
    History(Vec<Problem>),
    /// The target database does not exist (SQLSTATE 3D000).
    #[error("{0}")]
    MissingDatabase(String),
    /// Authentication failure, missing database, TLS misconfiguration: retrying cannot help.
    #[error("{0}")]
    Connection(String),
    #[error("migration lock not acquired within {}{}", humantime::format_duration(*.waited), .holder.as_deref().map(|h| format!("; held by {h}")).unwrap_or_default())]
    LockTimeout {
        waited: Duration,
        holder: Option<String>,
    },
    /// A check (verify, check-tenancy) found problems; the findings were already printed.
    #[error("{0}")]
    Findings(String),
    #[error("interrupted by {}; the running statement was cancelled and rolled back, the lock released", .0.name())]
    Interrupted(Signal),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Source(_) => code::USAGE,
            Error::Migration(_) | Error::Database { .. } => code::MIGRATION_FAILED,
            Error::NotReady { .. } => code::NOT_READY,
            Error::History(_) => code::HISTORY_MISMATCH,
            Error::Connection(_) | Error::MissingDatabase(_) => code::CONNECTION,
            Error::LockTimeout { .. } => code::LOCK_TIMEOUT,
            Error::Findings(_) => code::FINDINGS,
            Error::Interrupted(Signal::Int) => code::SIGINT,
            Error::Interrupted(Signal::Term) => code::SIGTERM,
        }
    }

    pub fn db(context: impl Into<String>, err: &tokio_postgres::Error) -> Self {
        Error::Database {
            context: context.into(),
            message: describe_pg_error(err),
        }
    }
}

impl From<Error> for ExitCode {
    fn from(e: Error) -> Self {
        ExitCode::from(e.exit_code())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A one-line description of a tokio-postgres error, with the server's SQLSTATE, detail and hint when present.
pub fn describe_pg_error(err: &tokio_postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        let mut s = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(d) = db.detail() {
            s.push_str(&format!("; detail: {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    // Walk the source chain: tokio-postgres' Display hides the io/TLS cause.
    let mut s = err.to_string();
    let mut src = std::error::Error::source(err);
    while let Some(e) = src {
        let m = e.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        src = e.source();
    }
    s
}
