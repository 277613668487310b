//! Command-line interface (clap). Flags are the top configuration layer.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::{Dur, LogFormat, Overrides};
use crate::error::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(
    name = "pgboot",
    version,
    about = "Waits for PostgreSQL, takes a lock, applies migrations/ in order, records each file and exits with a code that says what happened.",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub global: Global,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Wait for the database, lock, apply pending migrations, record them (the default).
    Migrate,
    /// Only wait until the database accepts a query, then exit 0.
    Wait,
    /// Show applied, pending, drifted, missing and failed migrations.
    Status {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check the history against the files without applying anything (exit 4 on any disagreement).
    Validate,
    /// Create migrations/<next number>_<name>.sql from the template (header, idempotent example, status line).
    New {
        /// What the migration does, e.g. add_sso
        name: String,
    },
    /// Print the effective configuration and where each value came from (password redacted).
    Config {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct Global {
    /// Config file (TOML) [default: ./pgboot.toml when present]
    #[arg(long, global = true, env = "PGBOOT_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// postgres://user[:password]@host[:port]/db[?sslmode=...]; prefer DATABASE_URL_FILE for secrets
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Directory of migration files [default: ./migrations]
    #[arg(long, global = true, value_name = "DIR")]
    pub migrations: Option<PathBuf>,
    /// How long to wait for the database, e.g. 500ms, 30s, 2m [default: 60s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub wait_timeout: Option<Dur>,
    /// How long to wait for the migration lock [default: as long as the holder runs]
    #[arg(long, global = true, value_name = "DURATION")]
    pub lock_timeout: Option<Dur>,
    /// statement_timeout for the migration session [default: the server's]
    #[arg(long, global = true, value_name = "DURATION")]
    pub statement_timeout: Option<Dur>,
    /// lock_timeout for the migration session [default: the server's]
    #[arg(long, global = true, value_name = "DURATION")]
    pub session_lock_timeout: Option<Dur>,
    /// Log format: text, json or auto (text on a terminal, JSON otherwise) [default: auto]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// History table [default: pgboot.schema_history]
    #[arg(long, global = true, value_name = "SCHEMA.TABLE")]
    pub history_table: Option<String>,
}

impl Global {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.database_url.clone(),
            migrations: self.migrations.clone(),
            wait_timeout: self.wait_timeout,
            lock_timeout: self.lock_timeout,
            statement_timeout: self.statement_timeout,
            session_lock_timeout: self.session_lock_timeout,
            log_format: self.log_format,
            history_table: self.history_table.clone(),
        }
    }
}
