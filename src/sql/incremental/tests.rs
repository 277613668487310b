//! The incremental splitter gives what the whole-text splitter gives, whatever the chunk size.

use super::*;
use crate::sql::{analyze, split, NoTxReason};
use proptest::prelude::*;

/// A comparable account of a file: one line per piece, COPY rows joined.
fn whole(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for p in split(src) {
        let (text, data) = match &p.kind {
            PieceKind::Sql => {
                out.push(format!(
                    "sql {:?} {}:{} empty={} {:?}",
                    crate::sql::line_col_of_byte(src, p.range.start),
                    p.line,
                    p.column,
                    p.is_empty(),
                    p.text(src)
                ));
                continue;
            }
            PieceKind::CopyIn(d) => {
                out.push(format!(
                    "copy {}:{} rows@{} {:?}",
                    p.line,
                    p.column,
                    d.line,
                    p.sql_text(src)
                ));
                (None, Some(d.clone()))
            }
            PieceKind::Meta(m) => {
                let end = m.data.as_ref().map_or(p.range.end, |d| d.range.start);
                let text = &src[p.range.start..end];
                (
                    Some(format!("meta {} {:?} {} {text:?}", m.name, m.args, m.line)),
                    m.data.clone(),
                )
            }
        };
        out.extend(text);
        if let Some(d) = data {
            if !d.range.is_empty() {
                out.push(format!("rows {:?}", &src[d.range.clone()]));
            }
            out.push(format!(
                "end {} {}",
                d.terminated,
                src[d.range.clone()].lines().count()
            ));
        }
    }
    out
}

/// Feeds `src` line by line (`lines` 1) or in blocks of `lines` lines.
fn streamed(src: &str, chunk: usize, lines: usize) -> (Vec<String>, Vec<LexError>, Vec<Event>) {
    let mut s = Splitter::with_chunk(chunk);
    let mut events = Vec::new();
    let all: Vec<&str> = src.split_inclusive('\n').collect();
    for block in all.chunks(lines) {
        if lines == 1 {
            s.push_line(block[0], &mut events);
        } else {
            s.push_text(&block.concat(), &mut events);
        }
    }
    s.finish(&mut events);
    let mut out: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    for e in &events {
        match e {
            Event::Sql {
                text,
                start,
                line,
                column,
                empty,
                ..
            } => out.push(format!(
                "sql {start:?} {line}:{column} empty={empty} {text:?}"
            )),
            Event::CopyStart {
                statement,
                line,
                column,
                rows_line,
                ..
            } => out.push(format!(
                "copy {line}:{column} rows@{rows_line} {statement:?}"
            )),
            Event::Meta { meta, text, .. } => out.push(format!(
                "meta {} {:?} {} {text:?}",
                meta.name, meta.args, meta.line
            )),
            Event::CopyRows(rows) => match out.last_mut() {
                Some(prev) if prev.starts_with("rows ") => {
                    let joined: String = serde_json::from_str(&prev[5..]).unwrap();
                    *prev = format!("rows {:?}", joined + rows);
                }
                _ => out.push(format!("rows {rows:?}")),
            },
            Event::CopyEnd { terminated, rows } => out.push(format!("end {terminated} {rows}")),
            Event::Error(e) => errors.push(e.clone()),
        }
    }
    (out, errors, events)
}

fn same(src: &str) {
    let want = whole(src);
    let a = analyze(src);
    let mut want_errors = a.errors.clone();
    want_errors.sort_by_key(|e| (e.line, e.column));
    for (chunk, lines) in [
        (1, 1),
        (2, 1),
        (7, 1),
        (31, 1),
        (64, 1),
        (1000, 1),
        (CHUNK, 1),
        (1, 3),
        (16, 2),
        (64, 5),
        (100, 50),
        (CHUNK, 1000),
    ] {
        let (got, mut errors, events) = streamed(src, chunk, lines);
        assert_eq!(got, want, "chunk {chunk}: {src:?}");
        errors.sort_by_key(|e| (e.line, e.column));
        assert_eq!(errors, want_errors, "chunk {chunk}: {src:?}");
        let no_tx = events.iter().find_map(|e| match e {
            Event::Sql { facts, line, .. } => facts.no_transaction.map(|w| (w, *line)),
            _ => None,
        });
        let want_no_tx = match &a.no_transaction {
            Some(NoTxReason::Statement { what, line, .. }) => Some((what.clone(), *line)),
            _ => None,
        };
        if !has_directive(src) {
            assert_eq!(
                no_tx.map(|(w, l)| (w.to_string(), l)),
                want_no_tx,
                "chunk {chunk}: {src:?}"
            );
        }
        let manages = events
            .iter()
            .any(|e| matches!(e, Event::Sql { facts, .. } if facts.manages_transaction));
        assert_eq!(manages, a.manages_transaction, "chunk {chunk}: {src:?}");
    }
}

#[test]
fn fixtures_split_the_same_in_any_chunk_size() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sql/fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // The splitter is fed normalised text (LF only, no BOM), as `source` reads it.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        same(&text);
        n += 1;
    }
    assert!(n > 20);
}

const DUMP: &str = "\\restrict k\nSET standard_conforming_strings = off;\nINSERT INTO t VALUES ('it\\'s; fine');\nSET standard_conforming_strings = on;\nCOPY t (a, b) FROM stdin;\n1\tit's\n2\t\\N\n\\.\nSELECT 'a;b'; SELECT $$x;\ny$$;\nCOPY u FROM stdin;\n\\.\nCOPY v FROM stdin;\nx\ny\nCREATE INDEX CONCURRENTLY i ON t (a);\nBEGIN;\n";

#[test]
fn dumps_strings_and_unterminated_data() {
    same(DUMP);
    same("SELECT 1; SELECT 'never\nends;\nSELECT 2;\n");
    same("SELECT 1 \\gset\nSELECT 2 \\x\n");
    same("COPY t FROM stdin; SELECT 1;\n1\n\\.\n");
    same("\\copy t from stdin\n1\n2\n\\.\nSELECT :x, :'y', 1::int;\n");
    same("-- pgboot:no-transaction\nVACUUM;\n");
    same("SELECT 1");
}

#[test]
fn a_statement_larger_than_the_chunk_grows_the_buffer_and_stays_linear() {
    let mut src = String::from("INSERT INTO t VALUES\n");
    for i in 0..2000 {
        src.push_str(&format!("  ({i}, 'row {i}; with a semicolon'),\n"));
    }
    src.push_str("  (0, 'end');\nSELECT 1;\n");
    same(&src);
}

#[test]
fn copy_rows_are_streamed_in_bounded_blocks() {
    let mut src = String::from("COPY t FROM stdin;\n");
    for i in 0..20_000 {
        src.push_str(&format!("{i}\tsome text for row {i}\n"));
    }
    src.push_str("\\.\nSELECT 1;\n");
    let (_, _, events) = streamed(&src, 4096, 1);
    let biggest = events
        .iter()
        .map(|e| match e {
            Event::CopyRows(r) => r.len(),
            _ => 0,
        })
        .max()
        .unwrap();
    assert!(biggest < ROWS + 4096, "{biggest}");
    same(&src);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn any_mix_splits_the_same(parts in proptest::collection::vec(prop_oneof![
        Just("SELECT 1;\n"), Just("SELECT 'a\n;b';"), Just("\n"), Just("COPY t FROM stdin;\n"),
        Just("1\tx\n"), Just("\\.\n"), Just("\\.x\n"), Just("\\."), Just("$$;$$;"), Just("-- c;\n"), Just("/* ; */"),
        Just("\\echo hi\n"), Just("SET standard_conforming_strings = off;\n"), Just("'\\'';\n"),
        Just("E'\\'';"), Just("RESET ALL;\n"), Just("CREATE FUNCTION f() BEGIN ATOMIC SELECT 1; END;\n"),
    ], 0..30)) {
        let src: String = parts.concat();
        same(&src);
    }
}
