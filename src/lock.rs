//! The migration lock: a session-level advisory lock on a dedicated connection that stays
//! idle outside any transaction, so `CREATE INDEX CONCURRENTLY` in a migration cannot deadlock on it.
//! While waiting, the holder (pid, application_name, client address, since when) is logged.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::pg::db::{first_value, Db};
use crate::pg::shutdown::Shutdown;

pub struct Lock {
    db: Db,
    key: i64,
}

/// The advisory lock key: derived from the history table, so two histories in one database do not collide.
pub fn key(history_table: &str) -> i64 {
    let d = Sha256::digest(format!("pgboot:{history_table}").as_bytes());
    i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

fn holder_sql(key: i64) -> String {
    let k = key as u64;
    format!(
        "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'), coalesce(host(a.client_addr), 'local'), \
         to_char(a.state_change AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {} AND l.objid = {} AND l.objsubid = 1 \
         AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        k >> 32,
        k & 0xffff_ffff
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
pub async fn acquire(
    db: Db,
    history_table: &str,
    timeout: Option<Duration>,
    shutdown: &Shutdown,
) -> Result<Lock> {
    let key = key(history_table);
    let started = Instant::now();
    let try_sql = format!("SELECT pg_try_advisory_lock({key})");
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
            return Ok(Lock { db, key });
        }
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

impl Lock {
    /// Releases the lock. Dropping the connection would release it too; this says so explicitly.
    pub async fn release(self) -> Result<()> {
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
