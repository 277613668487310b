//! pgboot: bootstraps PostgreSQL schemas. See README.md.
//!
//! The modules in data-flow order. Each uses only modules listed above it:
//! a run parses flags (`cli`), layers the configuration (`config`), reads the migration files
//! (`source`) and splits them (`sql`), waits for and connects to the server (`pg`), takes the
//! migration lock (`lock`), reads the history (`history`), decides what runs (`plan`), applies it
//! (`apply`), runs checks (`checks`), and reports (`report`). `commands` wires one subcommand each.

/// Exit codes, their help text, the signals.
pub mod exit;

/// The data between stages: migrations, history rows, problems, failures (pure).
pub mod model;

/// The one error type; its variant decides the exit code.
pub mod error;

/// Flags (clap): the top configuration layer.
pub mod cli;

/// Layered settings: defaults < file < environment < flags; the connection target.
pub mod config;

/// tracing setup: text or JSON.
pub mod logging;

/// Plain work on several threads, results in order (reading 10,000 files).
pub mod par;

/// Discover migration files, read them as text, checksum them (pure apart from reading).
pub mod source;

/// `pgboot new`: the next file name and its template.
pub mod scaffold;

/// Lexer, line index, splitter, no-transaction rules, created objects (pure).
pub mod sql;

/// Connect, TLS, wait, create database, cancel on signals, quoting.
pub mod pg;

/// The migration lock on its own connection.
pub mod lock;

/// The history table: its SQL text, load and record.
pub mod history;

/// Repeatable files (`R__`) and seeds: which run, from the history rows of their kind (pure).
pub mod repeatable;

/// History × files → pending files, problems, status (pure).
pub mod plan;

/// Run one file; a failure becomes report data.
pub mod apply;

/// Tenancy, verify, snapshot, invalid indexes, baseline, repair.
pub mod checks;

/// Rendering: errors, and one view struct per reporting command.
pub mod report;

/// One file per subcommand; the shared context and `with_lock`.
pub mod commands;
