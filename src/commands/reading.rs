//! The files a run works from, read while pgboot connects (see `background`): every file is
//! read and checksummed, and every file that may run is lexed and checked (`apply::check`).
//! A file the history already records with the same checksum does not run, so once the
//! history has arrived ([`Hint`]) such files are not lexed: a no-op run over 10,000 applied
//! files lexes none. What a run reports does not depend on that timing: only the pending
//! files' checks count ([`Files::prepare`]).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Instant;

use super::background::Background;
use crate::apply::{self, Checked, Prepared};
use crate::config::Settings;
use crate::error::Result;
use crate::model::{Applied, Migration};

/// What the history says is applied: name to checksum, for every successful row.
type Recorded = HashMap<String, String>;

pub struct Files {
    pub migrations: Vec<Migration>,
    /// Per file: its check, or None when it was not lexed (recorded with this checksum).
    checked: Vec<Option<Result<Checked>>>,
}

/// Tells the reading thread what the history records, once it is read.
pub struct Hint(mpsc::Sender<Recorded>);

impl Hint {
    pub fn send(self, rows: &[Applied]) {
        let recorded = rows
            .iter()
            .filter(|r| r.success)
            .map(|r| (r.name.clone(), r.checksum.clone()))
            .collect();
        let _ = self.0.send(recorded);
    }
}

pub fn start(s: Settings, seeds: bool) -> (Background<Files>, Hint) {
    let (tx, rx) = mpsc::channel::<Recorded>();
    let bg = Background::spawn("reading the migration files", move || {
        let started = Instant::now();
        let found = crate::source::discover(&s.migrations, &s.vars)?;
        for w in &found.warnings {
            tracing::warn!("{w}");
        }
        let migrations = super::seed::files_of(&s, found, seeds)?;
        // The history, if it has arrived; otherwise every file is checked.
        let recorded = rx.try_recv().ok();
        let skip = |m: &Migration| {
            !m.always
                && recorded
                    .as_ref()
                    .and_then(|r| r.get(&m.name))
                    .is_some_and(|sum| *sum == m.checksum)
        };
        let checked = crate::par::map(&migrations, |m| (!skip(m)).then(|| apply::check(m)));
        let ms = started.elapsed().as_millis() as u64;
        let lexed = checked.iter().filter(|c| c.is_some()).count();
        tracing::debug!(
            files = migrations.len(),
            lexed,
            ms,
            "read {} files and checked {lexed} in {ms} ms",
            migrations.len()
        );
        Ok(Files {
            migrations,
            checked,
        })
    });
    (bg, Hint(tx))
}

impl Files {
    /// The pending files, checked, in run order; the first one pgboot would refuse is the error.
    pub fn prepare<'a>(
        migrations: &'a [Migration],
        checked: &mut [Option<Result<Checked>>],
        pending: &[&'a Migration],
    ) -> Result<Vec<Prepared<'a>>> {
        let index: HashMap<*const Migration, usize> = migrations
            .iter()
            .enumerate()
            .map(|(i, m)| (m as *const Migration, i))
            .collect();
        pending
            .iter()
            .map(|&m| {
                let c = index
                    .get(&(m as *const Migration))
                    .and_then(|&i| checked[i].take());
                // Not checked on the reading thread: checked now.
                c.unwrap_or_else(|| apply::check(m)).map(|c| c.on(m))
            })
            .collect()
    }

    /// The parts [`Files::prepare`] takes.
    pub fn split(&mut self) -> (&[Migration], &mut [Option<Result<Checked>>]) {
        (&self.migrations, &mut self.checked)
    }
}
