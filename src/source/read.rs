//! Reading the files discovery found, several at a time: each file's text, cut to its up
//! section, expanded and checksummed (or, when large, only summarised: see `stream`). A
//! 10,000-file directory is read on every run, and most of that time is system calls, so the
//! files are shared among the machine's cores (`par`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{checksum, decode, expand_from, format, normalize, repeat, stream, Named};
use crate::error::{Error, Result};
use crate::model::{Format, Kind, Migration, Origin};

/// One file read: its migration, and the files its expansion read (`\i`, `\copy … from`).
pub(super) struct One {
    pub migration: Migration,
    pub read: Vec<PathBuf>,
}

/// Every file, in the order given; each file's own error in its place.
pub(super) fn read_all(
    dir: &Path,
    found: &[Named],
    vars: &BTreeMap<String, String>,
) -> Vec<Result<One>> {
    let threshold = stream::threshold();
    crate::par::map(found, |f| read_one(dir, f, vars, threshold))
}

fn read_one(dir: &Path, f: &Named, vars: &BTreeMap<String, String>, threshold: u64) -> Result<One> {
    let migration = |checksum| Migration {
        version: f.version,
        version_text: f.version_text.clone(),
        name: f.stem.clone(),
        path: f.path.clone(),
        checksum,
        format: f.format,
        kind: f.kind,
        ..Default::default()
    };
    // A large versioned file is only summarised here, and read again as it is applied
    // (`stream`). Repeatable files, seeds and Flyway-named files are always read whole (their
    // first-line marker and placeholders are checked on the text); so is any file with
    // another tool's up/down markers (`stream::scan` falls back).
    let streams = f.kind == Kind::Migrate && f.format != Format::Flyway;
    let limit = if streams { threshold } else { u64::MAX };
    let bytes = match stream::load(&f.path, f.compression, limit, f.regular)? {
        stream::Loaded::Bytes(bytes) => bytes,
        stream::Loaded::Streamed { checksum, summary } => {
            return Ok(One {
                migration: Migration {
                    streamed: Some(summary),
                    ..migration(checksum)
                },
                read: Vec::new(),
            })
        }
    };
    let text = normalize(&decode(&f.path, bytes)?);
    let cut = format::cut(&text, f.format).map_err(|e| {
        Error::Source(format!(
            "{}:{}: {}; nothing was applied",
            f.path.display(),
            e.line,
            e.message
        ))
    })?;
    let read = |p: &Path| std::fs::read(p);
    let mut x =
        expand_from(dir, &f.path, cut.up, cut.first_line, vars, &read).map_err(Error::Source)?;
    if x.origins.is_empty() && cut.first_line > 1 {
        x.origins.push(Origin {
            start: 0,
            file: f.path.clone(),
            line: cut.first_line,
            included_from: Vec::new(),
            copy_data: false,
        });
    }
    let always = repeat::always(&x.sql);
    if always && f.kind != Kind::Repeatable {
        return Err(Error::Source(format!(
            "{}:{}: {}; nothing was applied",
            f.path.display(),
            cut.first_line,
            repeat::ALWAYS_MISPLACED
        )));
    }
    let sum = checksum(&x.sql);
    Ok(One {
        migration: Migration {
            sql: x.sql,
            origins: x.origins,
            variables: x.variables,
            format: cut.format,
            no_transaction: cut.no_transaction,
            always,
            ..migration(sum)
        },
        read: x.read,
    })
}
