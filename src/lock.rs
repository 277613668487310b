//! The migration lock: a session-level advisory lock on a dedicated connection that stays
//! idle outside any transaction, so `CREATE INDEX CONCURRENTLY` in a migration cannot deadlock on it.
//! While waiting, the holder (pid, application_name, client address, since when) is logged.
//!
//! Correctness never rests on that lock alone. Every write also takes the *file lock*, a second
//! advisory key, in the transaction that writes (or, around a non-transactional file, on the
//! migration connection), and checks the history there: see [`Guard`]. A backend left running
//! by a killed pgboot still holds the file lock, so a new run waits for it ([`drain`]).
//! Behind a pooler in transaction mode (PgBouncer), session locks are meaningless; [`pooled`]
//! detects it and the run coordinates with the file lock alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::pg::db::{first_value, Db};
use crate::pg::quote::quote_literal;
use crate::pg::session;
use crate::pg::shutdown::Shutdown;

pub struct Lock {
    db: Arc<Db>,
    key: i64,
    /// The backend that holds it: the guard checks that it still does.
    pid: i32,
    /// Keeps the idle lock connection alive under `idle_session_timeout`.
    keepalive: Option<tokio::task::JoinHandle<()>>,
}

/// What every write checks, in the transaction that writes.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The file lock's key: taken by every write, transaction-scoped.
    pub file_key: i64,
    /// Session mode: the migration lock's key and the backend holding it.
    pub session: Option<(i64, i32)>,
    /// Identifies this run in the history (non-transactional files) and in the server's
    /// activity view (`/* pgboot run … */` before statements that cannot run in a transaction).
    pub run_id: String,
    /// `SET LOCAL …;` for every transaction: behind a transaction pooler the session settings
    /// (`statement_timeout`, `lock_timeout`) cannot travel in the startup packet.
    pub local_settings: String,
    /// Sent after every file: `pg::session::RESET`, plus `CHECK_CLIENT` with a session lock.
    pub reset: String,
}

impl Guard {
    pub fn new(history_table: &str, session: Option<&Lock>) -> Guard {
        let n = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Guard {
            file_key: file_key(history_table),
            session: session.map(|l| (l.key, l.pid)),
            run_id: format!("{}-{n:08x}", std::process::id()),
            local_settings: String::new(),
            reset: match session {
                Some(_) => format!("{}{}", session::RESET, session::CHECK_CLIENT),
                None => session::RESET.to_owned(),
            },
        }
    }

    /// Every transaction also sets these (name, milliseconds) with `SET LOCAL`.
    pub fn with_local_settings(mut self, settings: &[(&str, u128)]) -> Guard {
        self.local_settings = settings
            .iter()
            .map(|(name, ms)| format!("SET LOCAL {name} = {ms};\n"))
            .collect();
        self
    }

    /// SQL that is true while this run still holds the migration lock (always, without one).
    pub fn holds_lock_sql(&self) -> String {
        match self.session {
            None => "true".into(),
            Some((key, pid)) => {
                let (hi, lo) = split_key(key);
                format!(
                    "EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' \
                     AND granted AND pid = {pid} AND classid = {hi} AND objid = {lo} AND objsubid = 1)"
                )
            }
        }
    }

    /// The comment that marks a statement of this run in `pg_stat_activity.query`.
    pub fn tag(&self) -> String {
        format!("/* pgboot run {} */ ", self.run_id)
    }
}

/// `pg_locks` shows a bigint advisory key as two oids.
fn split_key(key: i64) -> (u64, u64) {
    let k = key as u64;
    (k >> 32, k & 0xffff_ffff)
}

/// The file lock's key: derived from the history table, apart from the migration lock's.
pub fn file_key(history_table: &str) -> i64 {
    key(&format!("{history_table}#file"))
}

/// The advisory lock key: derived from the history table, so two histories in one database do not collide.
pub fn key(history_table: &str) -> i64 {
    let d = Sha256::digest(format!("pgboot:{history_table}").as_bytes());
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn holder_sql(key: i64) -> String {
    let (hi, lo) = split_key(key);
    format!(
        "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(host(a.client_addr), 'local'), \
         to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 1 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        hi,
        lo
    )
}

async fn holder(db: &Db, key: i64) -> Option<String> {
    let msgs = db.client.simple_query(&holder_sql(key)).await.ok()?;
    msgs.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => Some(format!(
            "pid {} ({}, from {}, since {})",
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3).unwrap_or("?")
        )),
        _ => None,
    })
}

/// Takes the lock, polling `pg_try_advisory_lock` so the wait can log its holder and honour the timeout.
/// `idle`: the migration connection, kept busy while this waits so that an
/// `idle_session_timeout` does not end it before the lock comes.
pub async fn acquire(
    db: Db,
    idle: &Db,
    history_table: &str,
    timeout: Option<Duration>,
    shutdown: &Shutdown,
) -> Result<Lock> {
    let key = key(history_table);
    let started = Instant::now();
    let try_sql = format!(
        "SELECT pg_try_advisory_lock({key}), pg_backend_pid(), \
         (SELECT setting FROM pg_catalog.pg_settings WHERE name = 'idle_session_timeout')"
    );
    let mut delay = Duration::from_millis(25);
    let mut last_holder: Option<String> = None;
    loop {
        let got = db
            .client
            .simple_query(&try_sql)
            .await
            .map_err(|e| Error::db("taking the migration lock", e))?;
        if first_value(&got).as_deref() == Some("t") {
            if last_holder.is_some() {
                tracing::info!(
                    waited_ms = started.elapsed().as_millis() as u64,
                    "migration lock acquired"
                );
            }
            let pid = nth_value(&got, 1).and_then(|p| p.parse().ok()).unwrap_or(0);
            let idle_ms: u64 = nth_value(&got, 2).and_then(|v| v.parse().ok()).unwrap_or(0);
            let db = Arc::new(db);
            let keepalive = (idle_ms > 0).then(|| {
                let every = Duration::from_millis((idle_ms / 3).clamp(10, 10_000));
                tracing::debug!(
                    idle_session_timeout_ms = idle_ms,
                    "keeping the lock connection alive every {every:?}"
                );
                let db = db.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(every).await;
                        if db.client.simple_query("SELECT 1").await.is_err() {
                            break;
                        }
                    }
                })
            });
            return Ok(Lock {
                db,
                key,
                pid,
                keepalive,
            });
        }
        idle.client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| Error::db("waiting for the migration lock", e))?;
        let now_holder = holder(&db, key).await;
        if now_holder.is_some() && now_holder != last_holder {
            tracing::info!(
                holder = now_holder.as_deref().unwrap_or("?"),
                "waiting for the migration lock, held by {}",
                now_holder.as_deref().unwrap_or("?")
            );
            last_holder = now_holder;
        }
        let mut sleep = delay;
        if let Some(t) = timeout {
            let left = t.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(Error::LockTimeout {
                    waited: t,
                    holder: last_holder,
                });
            }
            sleep = sleep.min(left);
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            sig = shutdown.wait() => return Err(Error::Interrupted(sig)),
        }
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

fn nth_value(msgs: &[tokio_postgres::SimpleQueryMessage], n: usize) -> Option<String> {
    msgs.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(n).map(str::to_owned),
        _ => None,
    })
}

/// Whether `a` and `b` share server sessions: a pooler in transaction (or statement) mode.
/// `a` sets a session setting and notes its backend; `b` opens a transaction and looks;
/// while `b` holds it, `a` looks again. Direct connections and session pooling keep each client
/// on its own backend, so nothing changes and `b` sees nothing: no false positive. A pooler that
/// hands `b` the server `a` used, or `a` another one, shows; one that happens to hand `a` its
/// old server back does not, so the probe is repeated.
pub async fn pooled(a: &Db, b: &Db) -> Result<bool> {
    const TRIALS: usize = 5;
    let probe = |e| Error::db("probing for a connection pooler", e);
    let row = |msgs: &[tokio_postgres::SimpleQueryMessage]| (first_value(msgs), nth_value(msgs, 1));
    let mut pooled = false;
    for trial in 0..TRIALS {
        let nonce = format!("{}-{trial}", Guard::new("probe", None).run_id);
        let set = format!(
            "SELECT set_config('pgboot.probe', {}, false), pg_backend_pid()",
            quote_literal(&nonce)
        );
        let read = "SELECT current_setting('pgboot.probe', true), pg_backend_pid()";
        let (_, a_pid) = row(&a.client.simple_query(&set).await.map_err(probe)?);
        b.client.batch_execute("BEGIN").await.map_err(probe)?;
        let seen_by_b = b.client.simple_query(read).await.map_err(probe);
        let (b_value, b_pid) = match &seen_by_b {
            Ok(msgs) => row(msgs),
            Err(_) => (None, None),
        };
        // b on a's server: shared. Checked before a looks again, which with a pool of one
        // server would wait for b.
        pooled = b_value.as_deref() == Some(nonce.as_str()) || b_pid == a_pid;
        let seen_by_a = match pooled {
            true => None,
            false => Some(a.client.simple_query(read).await.map_err(probe)),
        };
        let _ = b.client.batch_execute("ROLLBACK").await;
        seen_by_b?;
        if let Some(seen) = seen_by_a {
            let (a_value, a_pid_again) = row(&seen?);
            pooled = a_value.as_deref() != Some(nonce.as_str()) || a_pid_again != a_pid;
        }
        if pooled {
            break;
        }
    }
    let _ = a.client.batch_execute("RESET pgboot.probe").await;
    Ok(pooled)
}

/// Makes the server end this session's running statement soon after pgboot dies (PostgreSQL
/// 14+: `client_connection_check_interval`), so a killed run leaves no backend applying a file
/// for long. Best effort: older servers only notice at the next write to the socket.
pub async fn end_with_client(db: &Db) {
    if let Err(e) = db.client.batch_execute(session::CHECK_CLIENT).await {
        tracing::debug!(error = %e, "client_connection_check_interval not set");
    }
}

/// Waits until no other backend holds the file lock: a backend of a killed pgboot may still be
/// running a file's statements. Logs whom it waits for.
pub async fn drain(db: &Db, guard: &Guard, timeout: Duration, shutdown: &Shutdown) -> Result<()> {
    let k = guard.file_key;
    let try_sql = format!("SELECT pg_try_advisory_lock({k})");
    let started = Instant::now();
    let mut logged = false;
    loop {
        let got = db
            .client
            .simple_query(&try_sql)
            .await
            .map_err(|e| Error::db("waiting for earlier runs' backends", e))?;
        if first_value(&got).as_deref() == Some("t") {
            db.client
                .simple_query(&format!("SELECT pg_advisory_unlock({k})"))
                .await
                .map_err(|e| Error::db("waiting for earlier runs' backends", e))?;
            if logged {
                tracing::info!(
                    waited_ms = started.elapsed().as_millis() as u64,
                    "the earlier run's backend is gone"
                );
            }
            return Ok(());
        }
        if !logged {
            let h = holder(db, k).await.unwrap_or_else(|| "?".into());
            tracing::warn!(holder = %h, "a backend of an earlier pgboot run is still applying a file ({h}); waiting for it to end before reading the history");
            logged = true;
        }
        if started.elapsed() >= timeout {
            return Err(Error::LockTimeout {
                waited: timeout,
                holder: holder(db, k).await,
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            sig = shutdown.wait() => return Err(Error::Interrupted(sig)),
        }
    }
}

impl Lock {
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Releases the lock. Dropping the connection would release it too; this says so explicitly.
    pub async fn release(self) -> Result<()> {
        if let Some(k) = &self.keepalive {
            k.abort();
        }
        self.db
            .client
            .simple_query(&format!("SELECT pg_advisory_unlock({})", self.key))
            .await
            .map_err(|e| Error::db("releasing the migration lock", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn key_depends_on_table() {
        assert_eq!(
            super::key("pgboot.schema_history"),
            super::key("pgboot.schema_history")
        );
        assert_ne!(
            super::key("pgboot.schema_history"),
            super::key("other.history")
        );
    }
}
