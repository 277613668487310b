//! A scratch database on the target's server where migration files are applied in order with
//! pgboot's own apply path: `verify` proves them idempotent there, `baseline --detect` finds the
//! prefix that built the target. Created as `pgboot_<purpose>_<pid>_<n>` (needs CREATEDB) and
//! dropped at the end whatever happens (`DROP DATABASE IF EXISTS … WITH (FORCE)`), also on
//! SIGTERM: the command's grace period lets the cancelled work return and the drop run.
//! The target database itself is never written.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_postgres::error::SqlState;

use crate::apply;
use crate::checks::snapshot;
use crate::config::{TableName, Target};
use crate::error::{Error, Result};
use crate::history;
use crate::lock::Guard;
use crate::model::Migration;
use crate::pg::db::Db;
use crate::pg::quote::quote_ident;
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::Tls;

/// What a failure in the scratch database means for the user: the usual "recorded as failed"
/// notes speak of a history that is dropped with the scratch database.
const SCRATCH_OUTCOME: &str = "this ran in the scratch database, which is dropped at the end: nothing was applied to the target database or recorded in its history; fix the file (or its order) and run the check again";

fn scratch_name(purpose: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0);
    format!("pgboot_{purpose}_{}_{n}", std::process::id())
}

/// A connection to the scratch database, with what applying there needs.
pub struct Scratch<'a> {
    pub name: String,
    pub db: Db,
    pub table: &'a TableName,
    guard: Guard,
    shutdown: &'a Shutdown,
    /// `snapshot::query` and `snapshot::shape_query` for this history schema.
    snapshot_sql: String,
    shape_sql: String,
    /// Whether `pgboot_shape` is prepared on the connection (planned once: the shape is taken
    /// after every file). The apply path's session reset deallocates it.
    prepared: Cell<bool>,
}

/// The target database's own search_path setting, if it has one: one row, or none.
const TARGET_SEARCH_PATH: &str =
    "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'search_path' AND source = 'database'";

/// The prepared shape statement's name.
const SHAPE_STATEMENT: &str = "pgboot_shape";

impl Scratch<'_> {
    /// Applies one file exactly as `migrate` would (its history row goes into the scratch
    /// database's own history table). A failure says that it happened in the scratch database.
    pub async fn apply(&self, m: &Migration) -> Result<()> {
        if let Some(sig) = self.shutdown.signalled() {
            return Err(Error::Interrupted(sig));
        }
        let p = apply::prepare(m)?;
        self.prepared.set(false);
        match apply::apply(&self.db, self.table, &p, &self.guard, self.shutdown).await {
            Ok(_) => Ok(()),
            Err(Error::Migration(mut mf)) => {
                mf.outcome = SCRATCH_OUTCOME.to_owned();
                Err(Error::Migration(mf))
            }
            Err(e) => Err(e),
        }
    }

    /// The full catalog snapshot (no row counts).
    pub async fn snapshot(&self) -> Result<Vec<String>> {
        snapshot::query_lines(&self.db, &self.snapshot_sql, "taking the catalog snapshot").await
    }

    /// The catalog's shape (see `catalog_shape.sql`), through a prepared statement; prepared
    /// again when a file (`DEALLOCATE ALL`, `DISCARD ALL`) or the session reset dropped it.
    pub async fn shape(&self) -> Result<Vec<String>> {
        let execute = format!("EXECUTE {SHAPE_STATEMENT}");
        if self.prepared.get() {
            match self.db.client.simple_query(&execute).await {
                Ok(msgs) => return Ok(snapshot::rows_as_lines(&msgs)),
                Err(e) if e.code() == Some(&SqlState::INVALID_SQL_STATEMENT_NAME) => {}
                Err(e) => return Err(Error::db("taking the catalog shape", e)),
            }
        }
        let both = format!(
            "PREPARE {SHAPE_STATEMENT} AS\n{};\n{execute}",
            self.shape_sql.trim_end().trim_end_matches(';')
        );
        match self.db.client.simple_query(&both).await {
            Ok(msgs) => {
                self.prepared.set(true);
                Ok(snapshot::rows_as_lines(&msgs))
            }
            // The name is taken (a file's own statement, a pooler's shared session): unprepared.
            Err(e) if e.code() == Some(&SqlState::DUPLICATE_PSTATEMENT) => {
                snapshot::query_lines(&self.db, &self.shape_sql, "taking the catalog shape").await
            }
            Err(e) => Err(Error::db("taking the catalog shape", e)),
        }
    }

    pub fn shutdown(&self) -> &Shutdown {
        self.shutdown
    }
}

/// Creates a scratch database through `admin`, runs `f` connected to it (history table
/// created), and drops it whatever `f` returned.
pub async fn with_scratch<T>(
    admin: &Db,
    target: &Target,
    tls: &Tls,
    table: &TableName,
    purpose: &str,
    shutdown: &Shutdown,
    f: impl AsyncFnOnce(&Scratch<'_>) -> Result<T>,
) -> Result<T> {
    let name = scratch_name(purpose);
    if let Err(e) = admin
        .client
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
        .await
    {
        if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
            return Err(Error::Connection(format!(
                "role {:?} lacks CREATEDB: `pgboot {purpose}` applies the migrations to a scratch database it creates and drops; grant it with `ALTER ROLE {} CREATEDB`, or run {purpose} as a role that has it (server: {})",
                target.user(),
                quote_ident(target.user()),
                crate::error::describe_pg_error(&e)
            )));
        }
        return Err(Error::db(
            format!("creating the scratch database {name}"),
            e,
        ));
    }
    tracing::info!(database = %name, "created the scratch database {name}; it is dropped at the end");
    // A throwaway database needs no durable commits. A database setting, so the session reset
    // between files keeps it and no startup option has to pass a pooler. Best effort.
    let fast = format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        quote_ident(&name)
    );
    if let Err(e) = admin.client.batch_execute(&fast).await {
        tracing::debug!("could not turn synchronous_commit off in the scratch database: {e}");
    }
    // The target's own search_path (ALTER DATABASE … SET search_path), so the files run and
    // the catalog renders there as on the target.
    let own = admin
        .client
        .simple_query(TARGET_SEARCH_PATH)
        .await
        .map_err(|e| Error::db("reading the database's search_path", e));
    if let Some(path) = own.ok().as_deref().and_then(crate::pg::db::first_value) {
        let set = format!(
            "ALTER DATABASE {} SET search_path = {path}",
            quote_ident(&name)
        );
        if let Err(e) = admin.client.batch_execute(&set).await {
            tracing::warn!(
                "could not give the scratch database the target's search_path ({path}): {e}"
            );
        }
    }
    let mut scratch_target = target.clone();
    scratch_target.pg.dbname(&name);
    let outcome = run_in(&scratch_target, tls, table, &name, shutdown, f).await;
    shutdown.set_cancel(None);
    let dropped = admin
        .client
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&name)
        ))
        .await;
    if let Err(e) = &dropped {
        tracing::error!(database = %name, "could not drop the scratch database {name}: {}; drop it by hand", crate::error::describe_pg_error(e));
    } else {
        tracing::info!(database = %name, "dropped the scratch database {name}");
    }
    let value = outcome?;
    dropped.map_err(|e| Error::db(format!("dropping the scratch database {name}"), e))?;
    Ok(value)
}

/// Everything that runs inside the scratch database; its connection is closed on return.
async fn run_in<T>(
    target: &Target,
    tls: &Tls,
    table: &TableName,
    name: &str,
    shutdown: &Shutdown,
    f: impl AsyncFnOnce(&Scratch<'_>) -> Result<T>,
) -> Result<T> {
    let db = Db::connect(target, tls)
        .await
        .map_err(|e| Error::db("connecting to the scratch database", e))?;
    shutdown.set_cancel(Some(db.canceller()));
    // The scratch database is this run's alone: a guard without a session lock.
    let guard = Guard::new(&table.to_string(), None);
    // Its own history table, created quietly: a "created the history table" line in the log
    // would read as a write to the target.
    db.client
        .batch_execute(&history::sql::ensure_sql(table, guard.file_key, false))
        .await
        .map_err(|e| Error::db("creating the history table in the scratch database", e))?;
    let scratch = Scratch {
        name: name.to_owned(),
        db,
        table,
        guard,
        shutdown,
        snapshot_sql: snapshot::query(&table.schema),
        shape_sql: snapshot::shape_query(&table.schema),
        prepared: Cell::new(false),
    };
    f(&scratch).await
}
