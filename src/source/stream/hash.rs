//! SHA-256 of a streamed file's text, on the reading thread or on a thread of its own.

use std::sync::mpsc::{sync_channel, SyncSender};

use sha2::{Digest, Sha256};

/// SHA-256 of the text read: on this thread, or on a thread of its own (the first pass).
pub(super) enum Hasher {
    Here(Sha256),
    Aside {
        tx: Option<SyncSender<Vec<u8>>>,
        handle: Option<std::thread::JoinHandle<Sha256>>,
        sum: Option<Sha256>,
    },
}

impl Hasher {
    pub(super) fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Here(sha) => sha.update(data),
            Hasher::Aside { tx: Some(tx), .. } => {
                let _ = tx.send(data.to_vec());
            }
            Hasher::Aside { .. } => {}
        }
    }

    pub(super) fn finish(&mut self) -> Sha256 {
        match self {
            Hasher::Here(sha) => sha.clone(),
            Hasher::Aside { tx, handle, sum } => {
                drop(tx.take());
                if let Some(h) = handle.take() {
                    // The hashing thread cannot panic (the build aborts on panic anyway).
                    *sum = h.join().ok();
                }
                sum.clone().unwrap_or_default()
            }
        }
    }
}

impl Hasher {
    /// A hasher on a thread of its own; this thread's if none can be started.
    pub(super) fn aside() -> Hasher {
        let (tx, rx) = sync_channel::<Vec<u8>>(16);
        let spawned = std::thread::Builder::new().spawn(move || {
            let mut sha = Sha256::new();
            for block in rx {
                sha.update(&block);
            }
            sha
        });
        match spawned {
            Ok(handle) => Hasher::Aside {
                tx: Some(tx),
                handle: Some(handle),
                sum: None,
            },
            Err(_) => Hasher::Here(Sha256::new()),
        }
    }
}
