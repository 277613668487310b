//! One connection: connect with TLS, drive it, and log the server's NOTICEs and WARNINGs
//! (tokio-postgres drops them unless `poll_message` is driven by hand).

use std::sync::{Arc, Mutex};

use futures_util::future::poll_fn;
use tokio_postgres::{AsyncMessage, CancelToken, Client};

use crate::config::Target;
use crate::pg::tls::Tls;

pub struct Db {
    pub client: Client,
    tls: Tls,
    /// The migration whose statements are running, to tag notices with.
    context: Arc<Mutex<Option<String>>>,
}

impl Db {
    pub async fn connect(target: &Target, tls: &Tls) -> Result<Db, tokio_postgres::Error> {
        let (client, mut conn) = target.pg.connect(tls.clone()).await?;
        let context: Arc<Mutex<Option<String>>> = Arc::default();
        let ctx = context.clone();
        tokio::spawn(async move {
            while let Some(msg) = poll_fn(|cx| conn.poll_message(cx)).await {
                match msg {
                    Ok(AsyncMessage::Notice(n)) => {
                        let migration = ctx.lock().ok().and_then(|g| g.clone());
                        let code = n.code().code();
                        match (migration, n.severity()) {
                            (Some(m), "WARNING") => {
                                tracing::warn!(migration = %m, sqlstate = code, "server: {}", n.message())
                            }
                            (Some(m), _) => {
                                tracing::info!(migration = %m, sqlstate = code, "server: {}", n.message())
                            }
                            (None, _) => {
                                tracing::debug!(sqlstate = code, "server: {}", n.message())
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "connection ended");
                        break;
                    }
                }
            }
        });
        Ok(Db {
            client,
            tls: tls.clone(),
            context,
        })
    }

    pub fn set_context(&self, migration: Option<&str>) {
        if let Ok(mut g) = self.context.lock() {
            *g = migration.map(str::to_owned);
        }
    }

    /// The cancel token with the same TLS connector as the connection.
    pub fn canceller(&self) -> (CancelToken, Tls) {
        (self.client.cancel_token(), self.tls.clone())
    }
}

/// First column of the first row of a simple query's result, as text.
pub fn first_value(msgs: &[tokio_postgres::SimpleQueryMessage]) -> Option<String> {
    msgs.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
        _ => None,
    })
}
