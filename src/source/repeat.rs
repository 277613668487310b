//! Repeatable migrations (`R__<name>.sql`, Flyway's convention) and the `-- pgboot:always`
//! marker: how `source` recognises them. Pure.
//!
//! A repeatable file has no version: it runs after every pending versioned file, in name order,
//! whenever its checksum differs from the one recorded when it last ran (or it never ran). Its
//! first line `-- pgboot:always` makes it run on every migrate (`ANALYZE`, a grants refresh).

use super::Entry;
use crate::model::Kind;

/// The first-line marker of a repeatable file that runs on every migrate.
pub const ALWAYS: &str = "-- pgboot:always";

/// `R__<description>` (the text after `R`, `rest`, starts with `__`).
pub fn classify(stem: &str, description: &str) -> Entry {
    if description.is_empty() {
        return Entry::Skipped(
            "a repeatable migration is named R__<name>.sql, e.g. R__views.sql".into(),
        );
    }
    Entry::Repeatable {
        stem: stem.to_owned(),
    }
}

/// Whether the file's first line is `-- pgboot:always` (case and surrounding blanks ignored),
/// or its second line when the first is `-- pgboot:no-transaction` (which must come first).
pub fn always(text: &str) -> bool {
    let is = |line: &str, marker: &str| line.trim().eq_ignore_ascii_case(marker);
    let mut lines = text.lines();
    match lines.next() {
        Some(first) if is(first, "-- pgboot:no-transaction") => {
            lines.next().is_some_and(|l| is(l, ALWAYS))
        }
        Some(first) => is(first, ALWAYS),
        None => false,
    }
}

/// Why `-- pgboot:always` in a versioned file (or a seed) stops the run, after `file:1: `.
pub const ALWAYS_MISPLACED: &str = "-- pgboot:always only applies to repeatable migrations (R__<name>.sql), which run after the versioned files; a versioned file or a seed runs once. Rename it R__<name>.sql, or remove the line";

/// Why an `R__` file in the seeds directory stops the run.
pub const SEED_REPEATABLE: &str = "a repeatable migration (R__) in the seeds directory: seeds run once each; put repeatable files in the migrations directory, or name the seed <digits>_<name>.sql";

/// Which directory `source` reads: the words its messages use and the kind its files get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Migrations,
    Seeds,
}

impl Dir {
    pub fn what(self) -> &'static str {
        match self {
            Dir::Migrations => "migrations directory",
            Dir::Seeds => "seeds directory",
        }
    }

    pub fn one(self) -> &'static str {
        match self {
            Dir::Migrations => "migration",
            Dir::Seeds => "seed",
        }
    }

    pub fn example(self) -> &'static str {
        match self {
            Dir::Migrations => "001_initial_schema.sql",
            Dir::Seeds => "001_demo_tenants.sql",
        }
    }

    pub fn setting(self) -> &'static str {
        match self {
            Dir::Migrations => "set --migrations / PGBOOT_MIGRATIONS to the directory holding the .sql files",
            Dir::Seeds => "set --seeds / PGBOOT_SEEDS / seeds in pgboot.toml to the directory holding the seed .sql files",
        }
    }

    pub fn elsewhere(self) -> &'static str {
        match self {
            Dir::Migrations => "point --migrations / PGBOOT_MIGRATIONS elsewhere",
            Dir::Seeds => "point --seeds / PGBOOT_SEEDS elsewhere (or unset it: nothing seeds unless configured)",
        }
    }

    /// The kind of a versioned-looking file in this directory.
    pub fn kind(self) -> Kind {
        match self {
            Dir::Migrations => Kind::Migrate,
            Dir::Seeds => Kind::Seed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::classify;

    #[test]
    fn repeatable_names() {
        assert_eq!(
            classify("R__views.sql"),
            Entry::Repeatable {
                stem: "R__views".into()
            }
        );
        assert_eq!(
            classify("R__grants.sql.gz"),
            Entry::Repeatable {
                stem: "R__grants".into()
            }
        );
        assert!(matches!(classify("R__.sql"), Entry::Skipped(_)));
        // Not R__: a plain name that starts with R is skipped as before.
        assert!(matches!(classify("Readme.sql"), Entry::Skipped(_)));
    }

    #[test]
    fn always_is_the_first_line_only() {
        assert!(always("-- pgboot:always\nANALYZE;\n"));
        assert!(always("  -- PGBOOT:ALWAYS  \r\nANALYZE;"));
        assert!(!always("ANALYZE;\n-- pgboot:always\n"));
        assert!(!always("-- pgboot:always-not\n"));
        assert!(!always(""));
        assert!(always(
            "-- pgboot:no-transaction\n-- pgboot:always\nVACUUM t;\n"
        ));
        assert!(!always("-- something\n-- pgboot:always\n"));
    }
}
