//! Command-line interface (clap). Flags are the top configuration layer.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::exit::EXIT_CODES_HELP;

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
    Migrate(MigrateArgs),
    /// Show what `migrate` would do, changing nothing (alias: migrate --dry-run).
    Plan {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        create: CreateDatabase,
    },
    /// Adopt a database built by legacy initdb.d schema files: record files as applied without running them.
    Baseline(BaselineArgs),
    /// Adopt another tool's history (Flyway, golang-migrate, dbmate, sqlx, refinery, goose): record the files it applied as applied, without running them.
    Adopt(AdoptArgs),
    /// After a human fixed something: re-record checksums, remove failed rows, drop invalid indexes.
    Repair(RepairArgs),
    /// Apply only the seeds directory's pending files (--seeds / PGBOOT_SEEDS), to a database already migrated.
    Seed,
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
    /// Prove every migration idempotent: apply all into a scratch database, run each file again, compare (exit 7 on findings).
    Verify {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check every table with a tenant_id column: uuid NOT NULL, leading index, RLS enabled and forced, a tenant policy.
    CheckTenancy {
        /// Exit 7 when any error-severity finding is reported.
        #[arg(long)]
        strict: bool,
        /// Print a JSON array of {table, rule, severity, message}.
        #[arg(long)]
        json: bool,
    },
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

#[derive(Debug, Args, Default, Clone)]
pub struct MigrateArgs {
    /// Print the plan instead of applying it (same as `pgboot plan`).
    #[arg(long)]
    pub dry_run: bool,
    /// Run the tenancy check after migrating.
    #[arg(long)]
    pub check_tenancy: bool,
    /// With --check-tenancy: make its findings fatal (exit 7).
    #[arg(long, requires = "check_tenancy")]
    pub strict: bool,
    /// Print --dry-run's plan as JSON.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
    #[command(flatten)]
    pub create: CreateDatabase,
    /// `pgboot seed`: only seeds may be pending.
    #[arg(skip)]
    pub seeds_only: bool,
}

#[derive(Debug, Args, Default, Clone)]
pub struct CreateDatabase {
    /// Create the target database when it is missing (through the `postgres` maintenance database).
    #[arg(long)]
    pub create_database: bool,
    /// With --create-database: the template database to copy.
    #[arg(long, value_name = "NAME", requires = "create_database")]
    pub template: Option<String>,
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// Record every file up to and including this version as applied (kind `baseline`); dotted versions compare part by part (1.2 < 1.10).
    #[arg(
        long,
        value_name = "VERSION",
        conflicts_with = "detect",
        required_unless_present_any = ["detect", "from"]
    )]
    pub through: Option<String>,
    /// Replay the files in a scratch database and propose the longest prefix whose catalog equals the database's.
    #[arg(long)]
    pub detect: bool,
    /// Write the history rows (without it, only show what would be recorded).
    #[arg(long)]
    pub yes: bool,
    /// Allow a database that already has history.
    #[arg(long)]
    pub force: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Adopt this tool's history instead (the same as `pgboot adopt --from TOOL`).
    #[arg(long, value_name = "TOOL", conflicts_with_all = ["through", "detect"])]
    pub from: Option<Tool>,
    /// With --from: the tool's history table [default: the tool's own name, found through the search_path].
    #[arg(long, value_name = "[SCHEMA.]TABLE", requires = "from")]
    pub table: Option<String>,
}

impl BaselineArgs {
    /// `baseline --from TOOL` is `adopt --from TOOL`.
    pub fn adopt(&self) -> Option<AdoptArgs> {
        Some(AdoptArgs {
            from: self.from?,
            table: self.table.clone(),
            yes: self.yes,
            force: self.force,
            json: self.json,
        })
    }
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool whose history table to read.
    #[arg(long, value_name = "TOOL")]
    pub from: Tool,
    /// The tool's history table [default: the tool's own name, found through the search_path].
    #[arg(long, value_name = "[SCHEMA.]TABLE")]
    pub table: Option<String>,
    /// Write the history rows (without it, only show the mapping; nothing is written, not even
    /// pgboot's history table).
    #[arg(long)]
    pub yes: bool,
    /// Allow a database that already has pgboot history (files already in it are left as they are).
    #[arg(long)]
    pub force: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Another migration tool whose history `adopt` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// flyway_schema_history
    Flyway,
    /// schema_migrations (version bigint, dirty boolean): one row, every file up to it applied
    GolangMigrate,
    /// schema_migrations (version varchar): one row per applied file
    Dbmate,
    /// _sqlx_migrations
    Sqlx,
    /// refinery_schema_history
    Refinery,
    /// goose_db_version
    Goose,
}

impl Tool {
    /// The name as `--from` takes it and the history's `adopted_from` records it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Flyway => "flyway",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Sqlx => "sqlx",
            Tool::Refinery => "refinery",
            Tool::Goose => "goose",
        }
    }

    /// The tool's own table name, unqualified: the tools find it through the search_path.
    pub fn default_table(self) -> &'static str {
        match self {
            Tool::Flyway => "flyway_schema_history",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Refinery => "refinery_schema_history",
            Tool::Goose => "goose_db_version",
        }
    }
}

#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Migrations to repair (history names such as 001_initial_schema): a drifted one gets its
    /// checksum re-recorded, a failed one has its failed row removed.
    pub names: Vec<String>,
    /// Re-record the checksum of every drifted migration.
    #[arg(long)]
    pub all_drifted: bool,
    /// Remove every failed row left by a non-transactional migration, so it can run again.
    #[arg(long)]
    pub all_failed: bool,
    /// Drop invalid indexes (left by a failed CREATE INDEX CONCURRENTLY) with DROP INDEX CONCURRENTLY.
    #[arg(long)]
    pub drop_invalid_indexes: bool,
    /// Make the changes (without it, only show them).
    #[arg(long)]
    pub yes: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The flags every command takes, and the top configuration layer: serialized into figment,
/// where only the flags given override anything. Field names are the settings' names.
/// Durations stay text here and are parsed with the other layers, so a bad value is a
/// configuration error naming the setting, like one from the environment or the file.
#[derive(Debug, Args, Default, Serialize)]
pub struct Global {
    /// Config file (TOML) [default: ./pgboot.toml when present]
    #[arg(long, global = true, env = "PGBOOT_CONFIG", value_name = "PATH")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// postgres://user[:password]@host[:port]/db[?sslmode=...]; prefer DATABASE_URL_FILE for secrets
    #[arg(long, global = true, value_name = "URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Directory of migration files [default: ./migrations]
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<PathBuf>,
    /// Directory of seed files, applied after the migrations, each once [default: none: no seeds]
    #[arg(long, global = true, value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeds: Option<PathBuf>,
    /// How long to wait for the database, e.g. 500ms, 30s, 2m [default: 60s]
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_timeout: Option<String>,
    /// How long to wait for the migration lock [default: as long as the holder runs]
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<String>,
    /// statement_timeout for the migration session [default: the server's]
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<String>,
    /// lock_timeout for the migration session [default: the server's]
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        allow_hyphen_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lock_timeout: Option<String>,
    /// Log format: text, json or auto (text on a terminal, JSON otherwise) [default: auto]
    #[arg(long, global = true, value_name = "FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// History table [default: pgboot.schema_history]
    #[arg(long, global = true, value_name = "SCHEMA.TABLE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_table: Option<String>,
    /// How runners coordinate: session (an advisory lock on a connection of its own),
    /// transaction (per-file transaction locks, for PgBouncer in transaction pooling), or auto
    /// (detect a transaction pooler) [default: auto]
    #[arg(long, global = true, value_name = "MODE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_mode: Option<LockMode>,
    /// Make every transactional file's commit wait for the WAL flush, instead of only the run's
    /// last commit (a successful exit means every recorded file is durable either way)
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sync_every_file: bool,
    /// Set a psql variable for :NAME, :'NAME' and :"NAME" in migrations, like psql -v (repeatable)
    #[arg(long = "var", global = true, value_name = "NAME=VALUE", value_parser = parse_var)]
    #[serde(
        rename = "vars",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "vars_table"
    )]
    pub var: Vec<(String, String)>,
}

/// `NAME=VALUE` of `--var`.
fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

/// `--var` flags as the `vars` table (a later flag for the same name wins).
fn vars_table<S: serde::Serializer>(vars: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let map: std::collections::BTreeMap<&str, &str> =
        vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    serde::Serialize::serialize(&map, s)
}

/// How concurrent runs coordinate (`lock_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LockMode {
    /// Probe the connection: a transaction pooler in front means `transaction`, else `session`.
    #[default]
    Auto,
    /// A session advisory lock on a dedicated connection, checked before every file.
    Session,
    /// No session state: every file (and every statement of a non-transactional file) takes a
    /// transaction-scoped advisory lock and checks the history in the same transaction.
    Transaction,
}

impl std::str::FromStr for LockMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LockMode::Auto),
            "session" => Ok(LockMode::Session),
            "transaction" => Ok(LockMode::Transaction),
            other => Err(format!(
                "invalid lock mode {other:?}; use auto, session or transaction"
            )),
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LogFormat::Auto),
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "invalid log format {other:?}; use text, json or auto"
            )),
        }
    }
}
