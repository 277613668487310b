//! The one error type. Every failure ends up here, and its variant decides the exit code.

use std::process::ExitCode;
use std::time::Duration;

use crate::exit::{code, Signal};
use crate::model::{HistoryProblem, MigrationFailure};

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
    Database {
        context: String,
        /// The server's message, SQLSTATE, detail and hint, or the I/O or TLS cause.
        message: String,
        #[source]
        source: Option<tokio_postgres::Error>,
    },
    #[error("database not ready after {}: {last}", humantime::format_duration(*.waited))]
    NotReady { waited: Duration, last: String },
    #[error("{}", crate::model::describe_problems(.0))]
    History(Vec<HistoryProblem>),
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
    /// Runners got in each other's way: the lock was lost, another runner recorded a file this
    /// run was about to apply, or took over a file it was applying. Nothing of the file ran here.
    #[error("{}", .0.message)]
    Coordination(Coordination),
    /// A check (verify, check-tenancy) found problems; the findings were already printed.
    #[error("{0}")]
    Findings(String),
    #[error("interrupted by {}; the running statement was cancelled and rolled back, the lock released", .0.name())]
    Interrupted(Signal),
    /// A signal while waiting for the database: nothing had run.
    #[error("interrupted by {} while waiting for the database; nothing had run", .0.name())]
    InterruptedWaiting(Signal),
    /// A signal, and the server did not confirm the cancel within the grace period.
    #[error("interrupted by {}; the server did not confirm the cancel within {}: the statement may still be running until the server notices this connection is gone (a transactional file then rolls back; a non-transactional one resumes on the next run)", .0.name(), humantime::format_duration(crate::exit::GRACE))]
    InterruptedUnconfirmed(Signal),
    /// Not the user's fault: the environment failed pgboot (the runtime, signal handlers) or a
    /// bug. The message says what pgboot was doing.
    #[error("internal error while {context}: {source}; please report it")]
    Internal {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Source(_) => code::USAGE,
            Error::Migration(_) | Error::Database { .. } => code::MIGRATION_FAILED,
            Error::NotReady { .. } => code::NOT_READY,
            Error::History(_) => code::HISTORY_MISMATCH,
            Error::Connection(_) | Error::MissingDatabase(_) => code::CONNECTION,
            Error::LockTimeout { .. } | Error::Coordination(_) => code::LOCK_TIMEOUT,
            Error::Findings(_) => code::FINDINGS,
            Error::Interrupted(s)
            | Error::InterruptedWaiting(s)
            | Error::InterruptedUnconfirmed(s) => s.exit_code(),
            Error::Internal { .. } => code::INTERNAL,
        }
    }

    /// A database error, its cause kept.
    pub fn db(context: impl Into<String>, err: tokio_postgres::Error) -> Self {
        Error::Database {
            context: context.into(),
            message: describe_pg_error(&err),
            source: Some(err),
        }
    }

    /// A database-side failure that is not a driver error.
    pub fn db_message(context: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Database {
            context: context.into(),
            message: message.into(),
            source: None,
        }
    }

    pub fn internal(
        context: &'static str,
        err: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Internal {
            context,
            source: err.into(),
        }
    }
}

/// How runners got in each other's way (exit 6).
#[derive(Debug)]
pub struct Coordination {
    pub message: String,
    /// The file was applied by another runner: behind a transaction pooler, where runners share
    /// the work, the run goes on; with a session lock it must not happen.
    pub applied_elsewhere: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every variant, with the exit code the README promises for it.
    fn table() -> Vec<(Error, u8)> {
        let io = || std::io::Error::other("x");
        vec![
            (Error::Config("c".into()), 2),
            (Error::Source("s".into()), 2),
            (Error::Migration(Box::default()), 1),
            (
                Error::Database {
                    context: "c".into(),
                    message: "m".into(),
                    source: None,
                },
                1,
            ),
            (
                Error::NotReady {
                    waited: Duration::from_secs(1),
                    last: "l".into(),
                },
                3,
            ),
            (Error::History(Vec::new()), 4),
            (Error::MissingDatabase("d".into()), 5),
            (Error::Connection("c".into()), 5),
            (
                Error::LockTimeout {
                    waited: Duration::from_secs(1),
                    holder: None,
                },
                6,
            ),
            (
                Error::Coordination(Coordination {
                    message: "m".into(),
                    applied_elsewhere: false,
                }),
                6,
            ),
            (Error::Findings("f".into()), 7),
            (Error::Interrupted(Signal::Int), 130),
            (Error::Interrupted(Signal::Term), 143),
            (Error::InterruptedWaiting(Signal::Int), 130),
            (Error::InterruptedUnconfirmed(Signal::Term), 143),
            (Error::internal("starting the runtime", io()), 70),
        ]
    }

    #[test]
    fn every_variant_maps_to_its_documented_exit_code() {
        let readme = include_str!("../README.md");
        for (e, want) in table() {
            assert_eq!(e.exit_code(), want, "{e:?}");
            let help = format!("\n  {want:<4} ");
            assert!(
                crate::exit::EXIT_CODES_HELP.contains(&help),
                "--help lacks {want}"
            );
            let row = format!("\n| {want} ");
            let signal_row = "\n| 130 / 143 |";
            assert!(
                readme.contains(&row) || (want >= 130 && readme.contains(signal_row)),
                "README's exit code table lacks {want}"
            );
        }
    }

    #[test]
    fn internal_keeps_its_cause() {
        let e = Error::internal("installing signal handlers", std::io::Error::other("no fd"));
        let cause = std::error::Error::source(&e).map(|c| c.to_string());
        assert_eq!(cause.as_deref(), Some("no fd"));
        assert!(e.to_string().contains("installing signal handlers"), "{e}");
    }
}
