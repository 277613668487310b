//! psql input in a migration file, as docker-entrypoint-initdb.d fed it to psql: what pgboot
//! runs, ignores or refuses before anything is sent. Pure.
//!
//! - `COPY … FROM stdin` with inline rows (pg_dump's data) runs over the COPY protocol.
//! - `\restrict` / `\unrestrict` (pg_dump 17.6+, 16.10+, 15.14+ …) are accepted and ignored;
//!   `\echo` is logged.
//! - `\i`, `\ir`, `\set`, `\unset`, psql variables and `\copy … from 'file'` / `from stdin`
//!   were expanded by `source` at discovery; the `\set` / `\unset` lines that remain are
//!   ignored.
//! - Every other meta-command (`\connect`, `\if`, `\gset`, `\!` …), `\copy … to` / `from
//!   program` / `from pstdin`, `COPY … TO STDOUT`, and a variable still in the text are refused
//!   with the file, line and what to do instead.

use crate::error::{Error, Result};
use crate::model::Migration;
use crate::sql::{self, Analysis, MetaAction, Piece, PieceKind};

/// Refuses what pgboot cannot run, before anything runs.
pub(super) fn check(m: &Migration, a: &Analysis) -> Result<()> {
    let at = |line: usize, column: usize| m.at(line, column);
    for p in &a.pieces {
        match &p.kind {
            PieceKind::Meta(meta) => {
                let next = match sql::meta_action(&meta.name) {
                    MetaAction::Ignore | MetaAction::Echo | MetaAction::Set | MetaAction::Unset => {
                        continue
                    }
                    MetaAction::Refuse(advice) => advice.to_string(),
                    MetaAction::Include { .. } => "the include was not expanded when the file was read (a bug in pgboot); paste the included file's text in place".into(),
                    MetaAction::Copy => "pgboot runs \\copy only from a file beside the migration (\\copy t from 'data/t.csv' csv) or from stdin with the rows inline; \\copy … to, from program and from pstdin need a terminal or a shell: use COPY … FROM stdin with the rows inline, or INSERT statements".into(),
                };
                return Err(Error::Source(format!(
                    "{}: \\{} is a psql meta-command that pgboot does not run; {next}; nothing was applied",
                    at(meta.line, 1),
                    meta.name
                )));
            }
            PieceKind::Sql if is_copy(p, &m.sql) => {
                // The piece is the COPY statement: its first token is where the piece says.
                if let Some(c) = sql::analyze(p.text(&m.sql)).client_copy {
                    return Err(Error::Source(format!(
                        "{}: {} sends rows to a client terminal, which a migration does not have; nothing was applied. Write them to a table, or read them with psql",
                        at(p.line, p.column),
                        c.what
                    )));
                }
            }
            _ => {}
        }
    }
    if let Some(v) = sql::variables(&m.sql).first() {
        return Err(Error::Source(format!(
            "{}: psql variable :{} is not defined (set it with \\set, [vars] in pgboot.toml, PGBOOT_VAR_<NAME> or --var NAME=VALUE, or write :: for a cast); nothing was applied",
            at(v.line, v.column),
            v.name
        )));
    }
    Ok(())
}

fn is_copy(p: &Piece, src: &str) -> bool {
    !p.is_empty()
        && sql::leading_keywords(p.text(src), 1)
            .first()
            .map(String::as_str)
            == Some("COPY")
}

/// Whether the file needs more than one round trip in its transaction: COPY data, `\echo`, or
/// a statement that changes `standard_conforming_strings` (the server reads the rest of a
/// query string with the setting it had when the string arrived).
pub(super) fn needs_segments(src: &str, a: &Analysis) -> bool {
    a.pieces.iter().any(|p| match &p.kind {
        PieceKind::CopyIn(_) => true,
        PieceKind::Meta(meta) => sql::meta_action(&meta.name) == MetaAction::Echo,
        PieceKind::Sql => changes_scs(p, src),
    })
}

fn changes_scs(p: &Piece, src: &str) -> bool {
    !p.is_empty() && sql::changes_standard_conforming_strings(p.text(src))
}

/// The file's text with every ignored meta-command line blanked (spaces, line breaks kept), so
/// the server's character positions still point into the file.
pub(super) fn sendable(src: &str, pieces: &[Piece]) -> String {
    let mut out = String::with_capacity(src.len());
    for p in pieces {
        match &p.kind {
            PieceKind::Meta(_) => out.extend(p.text(src).chars().map(|c| match c {
                '\n' | '\r' => c,
                _ => ' ',
            })),
            _ => out.push_str(p.text(src)),
        }
    }
    out
}

/// What one round trip of a segmented transactional file does.
pub(super) enum Segment<'a> {
    /// Consecutive SQL pieces: the text and its first character's offset in the file.
    Sql { text: String, offset_chars: usize },
    /// `COPY … FROM stdin` and its rows.
    Copy {
        piece: &'a Piece,
        data: &'a sql::CopyData,
    },
    /// `\echo`: a log line.
    Echo(&'a str),
}

/// Cuts a file into [`Segment`]s at COPY data and `\echo` lines.
pub(super) fn segments<'a>(src: &str, pieces: &'a [Piece]) -> Vec<Segment<'a>> {
    let mut out = Vec::new();
    let mut sql = String::new();
    let mut sql_start = 0usize;
    let mut chars = 0usize;
    let flush = |out: &mut Vec<Segment<'a>>, sql: &mut String, start: usize| {
        if !sql.trim().is_empty() {
            out.push(Segment::Sql {
                text: std::mem::take(sql),
                offset_chars: start,
            });
        }
        sql.clear();
    };
    for p in pieces {
        let text = p.text(src);
        match &p.kind {
            PieceKind::CopyIn(data) => {
                flush(&mut out, &mut sql, sql_start);
                out.push(Segment::Copy { piece: p, data });
            }
            PieceKind::Meta(meta) if sql::meta_action(&meta.name) == MetaAction::Echo => {
                flush(&mut out, &mut sql, sql_start);
                out.push(Segment::Echo(&meta.args));
            }
            PieceKind::Meta(_) => {
                if sql.is_empty() {
                    sql_start = chars;
                }
                sql.extend(text.chars().map(|c| if c == '\n' { c } else { ' ' }));
            }
            PieceKind::Sql => {
                if sql.is_empty() {
                    sql_start = chars;
                }
                sql.push_str(text);
                if changes_scs(p, src) {
                    flush(&mut out, &mut sql, sql_start);
                }
            }
        }
        chars += text.chars().count();
    }
    flush(&mut out, &mut sql, sql_start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn m(sql: &str) -> Migration {
        Migration {
            version: 1,
            name: "001_dump".into(),
            path: PathBuf::from("migrations/001_dump.sql"),
            sql: sql.into(),
            checksum: String::new(),
            origins: Vec::new(),
            variables: Vec::new(),
            streamed: None,
        }
    }

    const DUMP: &str = "\\restrict k\nSET x = 1;\nCOPY t (a) FROM stdin;\n1\nit's\n\\.\n\\echo loaded\nSELECT 2;\n\\unrestrict k\n";

    #[test]
    fn a_dump_is_accepted_and_cut_at_its_copy_and_echo() {
        let mig = m(DUMP);
        let a = sql::analyze(&mig.sql);
        check(&mig, &a).unwrap();
        assert!(needs_segments(&mig.sql, &a));
        let segs = segments(&mig.sql, &a.pieces);
        let kinds: Vec<String> = segs
            .iter()
            .map(|s| match s {
                Segment::Sql { text, offset_chars } => {
                    format!("sql@{offset_chars}:{}", text.trim())
                }
                Segment::Copy { data, .. } => {
                    format!("copy@{}:{:?}", data.line, &mig.sql[data.range.clone()])
                }
                Segment::Echo(t) => format!("echo:{t}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "sql@0:SET x = 1;",
                "copy@4:\"1\\nit's\\n\"",
                "echo:loaded",
                "sql@69:SELECT 2;",
            ]
        );
        // Ignored lines are blanked, so positions still point into the file.
        let s = sendable(&mig.sql, &a.pieces);
        assert_eq!(s.chars().count(), mig.sql.chars().count());
        assert!(s.starts_with("           \nSET x = 1;"), "{s:?}");
    }

    #[test]
    fn refusals_name_the_line_and_the_next_step() {
        for (src, wants) in [
            (
                "SELECT 1;\n\\connect other\n",
                ["001_dump.sql:2:1", "\\connect", "separate pgboot target"],
            ),
            (
                "\\copy t to 'out.csv'\n",
                ["001_dump.sql:1:1", "\\copy", "from a file beside"],
            ),
            (
                "SELECT :'who';\n",
                ["001_dump.sql:1:8", ":who", "not defined"],
            ),
            (
                "CREATE TABLE t (a int);\nCOPY t TO STDOUT;\n",
                ["001_dump.sql:2:1", "TO STDOUT", "client terminal"],
            ),
            ("\\i other.sql\n", ["001_dump.sql:1:1", "\\i", "included"]),
        ] {
            let mig = m(src);
            let e = check(&mig, &sql::analyze(src)).unwrap_err().to_string();
            for w in wants {
                assert!(e.contains(w), "{w}: {e}");
            }
            assert!(e.contains("nothing was applied"), "{e}");
        }
        // Casts are no variables.
        let ok = m("SELECT 1::int, now()::date;\n");
        check(&ok, &sql::analyze(&ok.sql)).unwrap();
        // \set lines left by the expansion are ignored.
        let ok = m("\\set ON_ERROR_STOP on\nSELECT 1;\n\\unset x\n");
        check(&ok, &sql::analyze(&ok.sql)).unwrap();
    }

    #[test]
    fn a_standard_conforming_strings_change_ends_a_round_trip() {
        let src = "CREATE TABLE t (a text);\nSET standard_conforming_strings = off;\nINSERT INTO t VALUES ('it\\'s');\n";
        let a = sql::analyze(src);
        assert!(a.errors.is_empty(), "{:?}", a.errors);
        assert!(needs_segments(src, &a));
        let segs = segments(src, &a.pieces);
        let texts: Vec<&str> = segs
            .iter()
            .map(|s| match s {
                Segment::Sql { text, .. } => text.trim(),
                _ => "?",
            })
            .collect();
        assert_eq!(
            texts,
            [
                "CREATE TABLE t (a text);\nSET standard_conforming_strings = off;",
                "INSERT INTO t VALUES ('it\\'s');"
            ]
        );
        let plain = "SELECT 1;\n";
        assert!(!needs_segments(plain, &sql::analyze(plain)));
    }
}
