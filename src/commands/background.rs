//! Work on a thread of its own while the command waits for the server: reading, hashing and
//! lexing every migration file overlaps connecting, the lock and the history read (a no-op
//! `migrate` over 10,000 applied files spends about as long on each).

use tokio::sync::oneshot;

use crate::error::{Error, Result};

pub struct Background<T> {
    /// What the work is, for its errors.
    what: &'static str,
    state: State<T>,
}

enum State<T> {
    Running(oneshot::Receiver<Result<T>>),
    Done(Result<T>),
    Taken,
}

impl<T: Send + 'static> Background<T> {
    /// Runs `f` on a new thread (`what` names the work in errors).
    pub fn spawn(what: &'static str, f: impl FnOnce() -> Result<T> + Send + 'static) -> Self {
        let (tx, rx) = oneshot::channel();
        let state = match std::thread::Builder::new().spawn(move || {
            let _ = tx.send(f());
        }) {
            Ok(_) => State::Running(rx),
            Err(e) => State::Done(Err(Error::internal(what, e))),
        };
        Background { what, state }
    }

    async fn settle(&mut self) {
        if let State::Running(rx) = &mut self.state {
            let what = self.what;
            let r = rx.await.unwrap_or_else(|_| {
                Err(Error::internal(
                    what,
                    std::io::Error::other("the thread ended without a result"),
                ))
            });
            self.state = State::Done(r);
        }
    }

    /// Waits for the work; its error, if it failed (the value waits for [`Background::value`]).
    pub async fn check(&mut self) -> Result<()> {
        self.settle().await;
        if let State::Done(Err(_)) = &self.state {
            if let State::Done(Err(e)) = std::mem::replace(&mut self.state, State::Taken) {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Resolves only if the work failed, with its error; when it succeeds this stays pending
    /// (a `select!` branch that never fires). Cancel-safe.
    pub async fn failed(&mut self) -> Error {
        match self.check().await {
            Err(e) => e,
            Ok(()) => std::future::pending().await,
        }
    }

    /// The work's result, waiting for it if needed.
    pub async fn value(mut self) -> Result<T> {
        self.settle().await;
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Done(r) => r,
            State::Running(_) | State::Taken => Err(Error::internal(
                self.what,
                std::io::Error::other("its result was already taken"),
            )),
        }
    }
}
