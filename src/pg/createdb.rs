//! `--create-database`: create the target database when it is missing, through the `postgres`
//! maintenance database (ephemeral CI databases). Replicas racing to create it are fine.

use std::time::Duration;

use crate::config::Target;
use crate::error::{describe_pg_error, Error, Result};
use crate::pg::db::{first_value, Db};
use crate::pg::quote::{quote_ident, quote_literal};
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::Tls;
use crate::pg::wait;

/// A connection to the maintenance database of the target's server (waiting for it as usual).
pub async fn maintenance(
    target: &Target,
    tls: &Tls,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<Db> {
    let mut maint = target.clone();
    maint.pg.dbname("postgres");
    wait::connect(&maint, tls, timeout, shutdown).await
}

/// `CREATE DATABASE`, explaining a missing CREATEDB privilege. Returns false if it already existed.
pub async fn create(db: &Db, name: &str, template: Option<&str>, role: &str) -> Result<bool> {
    let exists = db
        .client
        .simple_query(&format!(
            "SELECT 1 FROM pg_database WHERE datname = {}",
            quote_literal(name)
        ))
        .await
        .map_err(|e| Error::db("looking up the database", e))?;
    if first_value(&exists).is_some() {
        return Ok(false);
    }
    let mut sql = format!("CREATE DATABASE {}", quote_ident(name));
    if let Some(t) = template {
        sql.push_str(&format!(" TEMPLATE {}", quote_ident(t)));
    }
    match db.client.batch_execute(&sql).await {
        Ok(()) => {
            tracing::info!(database = name, template = template.unwrap_or("template1"), "created the database");
            Ok(true)
        }
        Err(e) if e.code().map(|c| c.code()) == Some("42P04") => Ok(false),
        Err(e) if e.code().map(|c| c.code()) == Some("42501") => Err(Error::Connection(format!(
            "cannot create database {name:?}: role {role:?} lacks the CREATEDB privilege; grant it (ALTER ROLE {} CREATEDB) or create the database beforehand",
            quote_ident(role)
        ))),
        Err(e) => Err(Error::Connection(format!(
            "cannot create database {name:?}: {}",
            describe_pg_error(&e)
        ))),
    }
}

/// Makes sure the target database exists before pgboot connects to it.
pub async fn ensure(
    target: &Target,
    tls: &Tls,
    template: Option<&str>,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<()> {
    let db = maintenance(target, tls, timeout, shutdown).await?;
    create(&db, target.dbname(), template, target.user()).await?;
    Ok(())
}
