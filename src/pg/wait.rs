//! Waits for PostgreSQL: exponential backoff with jitter (10 ms, doubling up to 50 ms, each
//! delay plus up to 100 % jitter, so at most 100 ms between attempts) until the wait timeout.
//! A refused or "starting up" attempt costs the server next to nothing, and a short ceiling is
//! what keeps the time from "ready to accept connections" to the first statement low (a 1 s
//! ceiling gave up to 2 s with jitter; see bench/readiness.sh). Transient failures keep waiting; permanent ones (authentication, missing database,
//! TLS) fail at once. A hot standby is no target. A failed attempt is logged when its reason changes.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};

use crate::config::Target;
use crate::error::{describe_pg_error, Error, Result};
use crate::pg::db::{first_value, Db};
use crate::pg::shutdown::Shutdown;
use crate::pg::tls::Tls;

/// The first retry's delay, and the ceiling the delays double up to; jitter adds up to as much again.
const MIN_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_millis(50);

/// Why one attempt failed.
#[derive(Debug)]
pub enum Failure {
    Transient(String),
    Permanent(Error),
}

/// SQLSTATEs that mean "not yet": starting up / shutting down / recovery, too many
/// connections, cannot connect now, connection failure, admin shutdown.
const TRANSIENT_STATES: &[&str] = &["57P03", "53300", "08001", "08006", "57P01", "57P02"];

/// Sorts a connection error into transient or permanent. Pure apart from walking the error.
pub fn classify(err: &tokio_postgres::Error, target: &Target) -> Failure {
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        if TRANSIENT_STATES.contains(&code) {
            return Failure::Transient(format!("{} (SQLSTATE {code})", db.message()));
        }
        let msg = match code {
            "28P01" | "28000" => format!(
                "authentication failed for user {:?} at {target}: {} (SQLSTATE {code}); check the user and password (PGPASSWORD, POSTGRES_PASSWORD, the URL or their _FILE forms) and pg_hba.conf",
                target.user(),
                db.message()
            ),
            "3D000" => {
                return Failure::Permanent(Error::MissingDatabase(format!(
                    "database {:?} does not exist on {target} (SQLSTATE 3D000); create it, pass --create-database, or set PGDATABASE / POSTGRES_DB / the URL to an existing one",
                    target.dbname()
                )))
            }
            _ => format!("cannot connect to {target}: {}", describe_pg_error(err)),
        };
        return Failure::Permanent(Error::Connection(msg));
    }
    let mut io = false;
    let mut tls = false;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = src {
        io |= e.is::<std::io::Error>();
        tls |= e.is::<rustls::Error>();
        src = e.source();
    }
    let text = describe_pg_error(err);
    // rustls reports certificate problems as io::Error wrapping rustls::Error: permanent.
    if tls
        || (!io && text.contains("TLS"))
        || text.contains("InvalidCertificate")
        || text.contains("certificate")
    {
        return Failure::Permanent(Error::Connection(format!(
            "TLS with {target} failed: {text}; check sslmode, sslrootcert / PGSSLROOTCERT and the server's certificate"
        )));
    }
    Failure::Transient(text)
}

/// Connects once and checks the server is a writable primary.
async fn attempt(target: &Target, tls: &Tls) -> std::result::Result<Db, Failure> {
    let db = Db::connect(target, tls)
        .await
        .map_err(|e| classify(&e, target))?;
    let rows = db
        .client
        .simple_query("SELECT pg_is_in_recovery()")
        .await
        .map_err(|e| classify(&e, target))?;
    if first_value(&rows).as_deref() == Some("t") {
        return Err(Failure::Transient(
            "the server is a hot standby (in recovery); waiting for a primary".into(),
        ));
    }
    Ok(db)
}

/// Waits until a connection works, the timeout passes, a permanent error occurs or a signal comes.
pub async fn connect(
    target: &Target,
    tls: &Tls,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<Db> {
    connect_logged(target, tls, timeout, shutdown, true).await
}

/// [`connect`] for a second connection to a server already reached: retried alike (too many
/// clients, a restart), logged only when it had to wait.
pub async fn connect_again(
    target: &Target,
    tls: &Tls,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<Db> {
    connect_logged(target, tls, timeout, shutdown, false).await
}

async fn connect_logged(
    target: &Target,
    tls: &Tls,
    timeout: Duration,
    shutdown: &Shutdown,
    log: bool,
) -> Result<Db> {
    let started = Instant::now();
    let mut last_reason = String::new();
    let mut attempts = 0u32;
    let backoff = ExponentialBuilder::default()
        .with_min_delay(MIN_DELAY)
        .with_max_delay(MAX_DELAY)
        .with_factor(2.0)
        .with_jitter()
        .without_max_times();
    let retry = (|| attempt(target, tls))
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|f| matches!(f, Failure::Transient(_)))
        .notify(|f, next| {
            attempts += 1;
            if let Failure::Transient(reason) = f {
                if *reason != last_reason {
                    tracing::info!(target_db = %target, attempt = attempts, retry_in_ms = next.as_millis() as u64, "waiting for PostgreSQL: {reason}");
                    last_reason = reason.clone();
                }
            }
        });
    let outcome = tokio::select! {
        r = tokio::time::timeout(timeout, retry) => r,
        sig = shutdown.wait() => return Err(Error::InterruptedWaiting(sig)),
    };
    match outcome {
        Ok(Ok(db)) => {
            if log || attempts > 0 {
                tracing::info!(target_db = %target, waited_ms = started.elapsed().as_millis() as u64, "connected");
            }
            Ok(db)
        }
        Ok(Err(Failure::Permanent(e))) => Err(e),
        Ok(Err(Failure::Transient(reason))) => Err(Error::NotReady {
            waited: started.elapsed(),
            last: reason,
        }),
        Err(_) => Err(Error::NotReady {
            waited: timeout,
            last: if last_reason.is_empty() {
                "no answer".into()
            } else {
                last_reason
            },
        }),
    }
}
