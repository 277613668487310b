//! SIGTERM / SIGINT, also as PID 1 in a container: remember the signal, cancel the running
//! query on the server (with the connection's own TLS connector) and let the run unwind.

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio_postgres::CancelToken;

use crate::exit::Signal;
use crate::pg::tls::Tls;

#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Receiver<Option<Signal>>,
    cancel: Arc<Mutex<Option<(CancelToken, Tls)>>>,
}

impl Shutdown {
    /// Installs the handlers. Must run inside the runtime.
    pub fn install() -> std::io::Result<Shutdown> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let (tx, rx) = watch::channel(None);
        let cancel: Arc<Mutex<Option<(CancelToken, Tls)>>> = Arc::default();
        let to_cancel = cancel.clone();
        tokio::spawn(async move {
            let sig = tokio::select! {
                _ = term.recv() => Signal::Term,
                _ = int.recv() => Signal::Int,
            };
            tracing::warn!(signal = sig.name(), "signal received: cancelling the running statement, rolling back and releasing the lock");
            let _ = tx.send(Some(sig));
            let token = to_cancel.lock().ok().and_then(|mut g| g.take());
            if let Some((token, tls)) = token {
                if let Err(e) = token.cancel_query(tls).await {
                    tracing::warn!(error = %e, "could not send the cancel request");
                }
            }
            // Keep the sender alive so receivers see the value and no "closed" state.
            std::future::pending::<()>().await;
        });
        Ok(Shutdown { signal: rx, cancel })
    }

    /// The signal received so far, if any.
    pub fn signalled(&self) -> Option<Signal> {
        *self.signal.borrow()
    }

    /// Resolves once a signal arrives.
    pub async fn wait(&self) -> Signal {
        let mut rx = self.signal.clone();
        loop {
            if let Some(s) = *rx.borrow_and_update() {
                return s;
            }
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }

    /// Which connection's query to cancel when a signal comes.
    pub fn set_cancel(&self, token: Option<(CancelToken, Tls)>) {
        if let Ok(mut g) = self.cancel.lock() {
            *g = token;
        }
    }
}
