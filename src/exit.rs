//! Exit codes are part of the interface: each has a constant, a line of `--help` text, and the
//! README's table. `Error::exit_code` maps every error to one of them.

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
    /// Not the user's fault: the runtime or the signal handlers could not start, or a bug.
    pub const INTERNAL: u8 = 70;
}

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    done, or nothing was pending
  1    a migration failed (rolled back if it ran in a transaction)
  2    usage or configuration error, or an unreadable migrations directory or file
  3    the database was not ready within the wait timeout
  4    history and files disagree (changed checksum, missing file, failed migration),
       or adopt found a migration the other tool did not finish
  5    a permanent connection error (authentication, missing database, TLS)
  6    the migration lock was not acquired in time, or was lost; or another runner applied a file first
  7    checks found problems (verify, check-tenancy --strict, migrate --check-tenancy --strict,
       baseline --detect without an exact match)
  70   internal error (the runtime or signal handlers failed, or a bug): please report it
  130  interrupted by SIGINT
  143  terminated by SIGTERM";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

/// After a signal, the run gets this long to cancel, roll back and unlock before pgboot exits anyway.
pub const GRACE: std::time::Duration = std::time::Duration::from_millis(2500);

impl Signal {
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => code::SIGINT,
            Signal::Term => code::SIGTERM,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}
