//! Unit tests for the SQL lexer, splitter and analysis.
//!
//! Input → output cases live as `.sql` files under `fixtures/`, one file per case, each with an
//! insta snapshot under `snapshots/` showing what [`render`] makes of it. The precise position
//! helpers, `leading_keywords`, `created_object` and the property tests stay as assertions.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::lexer::lex;
use super::lines::{LineIndex, COUNTED};
use super::notx::Stmt;
use super::*;
use proptest::prelude::*;

// ---- fixtures --------------------------------------------------------

/// A stable, human-readable account of what `analyze` and `split` make of `src`:
///
/// * the file-level decisions of [`analyze`]: the no-transaction reason (the first one found),
///   whether the file manages its own transaction, and every lex error with its position;
/// * every piece from [`split`], numbered, with its span as `line:col..line:col` (the end is the
///   position just after the piece) and byte range, where its statement starts (or `empty`),
///   and for statements their first keywords, what they create, and the per-statement rules:
///   `no-transaction: <label>` when PostgreSQL refuses it inside a transaction block and
///   `manages the transaction` for BEGIN/COMMIT/…;
/// * for a `COPY … FROM STDIN` piece, its data: the lines of the rows, how many, and whether a
///   `\.` line ended them; for a psql meta-command, its name, args and [`meta_action`] (and the
///   data of `\copy … from stdin`);
/// * when the file refers to psql variables, each reference (form, name, position) and the
///   file as [`interpolate`] rewrites it with [`lookup`]'s values;
/// * the piece's text, one source line per `|` row: line breaks show as `␊` (LF) and `␍` (CR),
///   tabs as `␉`, a byte order mark as `<BOM>`; a row ending in `|` ends the piece without a
///   line break.
fn render(src: &str) -> String {
    let a = analyze(src);
    let mut out = String::new();
    let no_tx = match &a.no_transaction {
        None => "none".to_string(),
        Some(NoTxReason::Directive) => "directive".to_string(),
        Some(NoTxReason::Statement { what, line, column }) => format!("{what} at {line}:{column}"),
        Some(NoTxReason::Marker { text, line }) => format!("{text} at {line}"),
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    writeln!(out, "no-transaction: {no_tx}").unwrap();
    writeln!(
        out,
        "manages the transaction: {}",
        yes_no(a.manages_transaction)
    )
    .unwrap();
    if let Some(c) = &a.client_copy {
        writeln!(out, "client copy: {} at {}:{}", c.what, c.line, c.column).unwrap();
    }
    if a.errors.is_empty() {
        writeln!(out, "lex errors: none").unwrap();
    }
    for e in &a.errors {
        writeln!(out, "lex error at {}:{}: {}", e.line, e.column, e.message).unwrap();
    }
    if let Some((line, column)) = a.stray_backslash {
        writeln!(out, "stray backslash at {line}:{column}").unwrap();
    }
    out.push_str(&render_variables(src));
    let pieces = split(src);
    assert_eq!(a.pieces, pieces, "analyze and split disagree");
    writeln!(out, "pieces: {}", pieces.len()).unwrap();
    for (n, p) in pieces.iter().enumerate() {
        let (l0, c0) = line_col_of_byte(src, p.range.start);
        let (l1, c1) = line_col_of_byte(src, p.range.end);
        let (b0, b1) = (p.range.start, p.range.end);
        write!(
            out,
            "\n[{}] {l0}:{c0}..{l1}:{c1} (bytes {b0}..{b1}) ",
            n + 1
        )
        .unwrap();
        let text = p.text(src);
        if let PieceKind::Meta(m) = &p.kind {
            writeln!(out, "meta-command at {}:{}", p.line, p.column).unwrap();
            assert_eq!(m.line, p.line);
            writeln!(
                out,
                "    \\{} «{}»: {:?}",
                m.name,
                m.args,
                meta_action(&m.name)
            )
            .unwrap();
            if let Some(d) = &m.data {
                out.push_str(&render_copy_data(src, d));
            }
            out.push_str(&show_text(text));
            continue;
        }
        match p.start {
            None => writeln!(out, "empty at {}:{}", p.line, p.column).unwrap(),
            Some(s) => {
                writeln!(out, "statement at {}:{} (byte {s})", p.line, p.column).unwrap();
                let words = leading_keywords(text, 4);
                if !words.is_empty() {
                    writeln!(out, "    keywords: {}", words.join(" ")).unwrap();
                }
                if let Some(c) = created_object(text) {
                    let qualified = |schema: &Option<String>, name: &str| match schema {
                        Some(s) => format!("{s}.{name}"),
                        None => name.to_string(),
                    };
                    write!(
                        out,
                        "    creates: {} {}",
                        c.kind,
                        qualified(&c.schema, &c.name)
                    )
                    .unwrap();
                    if let Some((schema, name)) = &c.on {
                        write!(out, " on {}", qualified(schema, name)).unwrap();
                    }
                    out.push('\n');
                }
                let toks = lex(text).0;
                let stmt = Stmt::new(text, &toks);
                if let Some(label) = stmt.no_tx_label() {
                    writeln!(out, "    no-transaction: {label}").unwrap();
                }
                if stmt.manages_transaction() {
                    writeln!(out, "    manages the transaction").unwrap();
                }
            }
        }
        if let PieceKind::CopyIn(d) = &p.kind {
            let statement = p.sql_text(src);
            assert!(statement.ends_with('\n') || p.range.start + statement.len() == src.len());
            out.push_str(&render_copy_data(src, d));
        }
        out.push_str(&show_text(text));
    }
    out
}

/// `    copy data: …` for [`render`]: the rows' lines, count, and whether `\.` ended them.
fn render_copy_data(src: &str, d: &CopyData) -> String {
    let data = &src[d.range.clone()];
    let rows = data.matches('\n').count() + usize::from(!data.is_empty() && !data.ends_with('\n'));
    let lines = match rows {
        0 => format!("no rows (line {})", d.line),
        n => format!(
            "lines {}..{} ({n} row{})",
            d.line,
            d.line + n - 1,
            if n == 1 { "" } else { "s" }
        ),
    };
    let end = match d.terminated {
        true => "ended by \\.",
        false => "unterminated: input ended before \\.",
    };
    format!("    copy data: {lines}, bytes {:?}, {end}\n", d.range)
}

/// The values [`render`] interpolates: none for names starting with `undefined`, a value with
/// a backslash for names containing `path`, else one with quotes.
fn lookup(name: &str) -> Option<String> {
    if name.starts_with("undefined") {
        None
    } else if name.contains("path") {
        Some("C:\\dir\\it's".to_string())
    } else {
        Some(format!("it's \"{name}\""))
    }
}

/// The variables section of [`render`] (nothing when `src` has none).
fn render_variables(src: &str) -> String {
    let vars = variables(src);
    if vars.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for v in &vars {
        let text = &src[v.range.clone()];
        writeln!(
            out,
            "variable {text} ({:?} {}) at {}:{}",
            v.form, v.name, v.line, v.column
        )
        .unwrap();
    }
    match interpolate(src, lookup) {
        Err(e) => writeln!(out, "interpolated: error: {e}").unwrap(),
        Ok(text) => {
            writeln!(out, "interpolated:").unwrap();
            out.push_str(&show_text(&text));
        }
    }
    out
}

/// One `    |` row per source line of `text`, with line breaks and other invisible characters
/// made visible (see [`render`]).
fn show_text(text: &str) -> String {
    let mut out = String::new();
    let mut row_open = false;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if !row_open {
            out.push_str("    |");
            row_open = true;
        }
        match ch {
            '\n' => {
                out.push_str("␊\n");
                row_open = false;
            }
            '\r' if chars.peek() == Some(&'\n') => out.push('␍'),
            '\r' => {
                out.push_str("␍\n");
                row_open = false;
            }
            '\t' => out.push('␉'),
            '\u{feff}' => out.push_str("<BOM>"),
            c if c.is_control() => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    if row_open {
        out.push_str("|\n");
    }
    out
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.sql", |path| {
        let text = read_utf8(path);
        insta::assert_snapshot!(render(&text));
    });
}

#[test]
fn show_text_marks_line_breaks_and_the_end() {
    assert_eq!(show_text(""), "");
    assert_eq!(show_text("a;"), "    |a;|\n");
    assert_eq!(show_text("\n"), "    |␊\n");
    assert_eq!(
        show_text("a\r\nb\rc\n "),
        "    |a␍␊\n    |b␍\n    |c␊\n    | |\n"
    );
    assert_eq!(show_text("x\r"), "    |x␍\n");
    assert_eq!(show_text("\u{feff}\ty"), "    |<BOM>␉y|\n");
}

fn read_utf8(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Pieces are in order and non-overlapping, and the pieces plus the gaps between them (and
/// after the last one) give back every byte of the input, for every migration in the repo's
/// `migrations/` and every fixture. Pieces are also documented to leave no gaps at all.
#[test]
fn corpus_pieces_keep_every_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let migrations = files_under(&root.join("migrations"));
    let fixtures: Vec<PathBuf> = files_under(&root.join("src/sql/fixtures"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    assert!(!migrations.is_empty(), "no files under migrations/");
    assert!(!fixtures.is_empty(), "no fixtures");
    for path in migrations.iter().chain(&fixtures) {
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        let src = read_utf8(path);
        let a = analyze(&src);
        if migrations.contains(path) {
            assert!(a.errors.is_empty(), "{name}: {:?}", a.errors);
        }
        for pieces in [split(&src), a.pieces] {
            let mut rebuilt = Vec::with_capacity(src.len());
            let mut at = 0;
            for p in &pieces {
                assert!(
                    p.range.start >= at,
                    "{name}: {p:?} overlaps or is out of order"
                );
                assert!(p.range.start < p.range.end, "{name}: {p:?} is zero-length");
                assert_eq!(p.range.start, at, "{name}: gap before {p:?}");
                let text = src.get(p.range.clone());
                assert!(text.is_some(), "{name}: {p:?} is not on char boundaries");
                if let Some(s) = p.start {
                    assert!(p.range.contains(&s), "{name}: {p:?} starts outside itself");
                }
                rebuilt.extend_from_slice(&src.as_bytes()[at..p.range.start]);
                rebuilt.extend_from_slice(p.text(&src).as_bytes());
                at = p.range.end;
            }
            rebuilt.extend_from_slice(&src.as_bytes()[at..]);
            assert_eq!(at, src.len(), "{name}: bytes after the last piece");
            assert!(
                rebuilt == src.as_bytes(),
                "{name}: pieces do not rebuild the input"
            );
        }
    }
}

trait ConcatText {
    fn concat_text(&self, src: &str) -> String;
}

impl ConcatText for Vec<Piece> {
    fn concat_text(&self, src: &str) -> String {
        self.iter().map(|p| p.text(src)).collect()
    }
}

// ---- positions ------------------------------------------------------

#[test]
fn multibyte_line_col() {
    let src = "select 'é✓😀';\n  select '✓';\n😀 x";
    let p = split(src);
    assert_eq!(p.len(), 3);
    assert_eq!((p[1].line, p[1].column), (2, 3));
    assert_eq!((p[2].line, p[2].column), (3, 1));
    // Character positions: 'é' is char 9, '✓' char 10, '😀' char 11, `'` char 12.
    assert_eq!(line_col_of_char_pos(src, 9), (1, 9));
    assert_eq!(line_col_of_char_pos(src, 12), (1, 12));
    // Second line starts at char 15.
    assert_eq!(line_col_of_char_pos(src, 15), (2, 1));
    assert_eq!(line_col_of_char_pos(src, 17), (2, 3));
    // Out of range clamps to the last char.
    assert_eq!(line_col_of_char_pos(src, 10_000), (3, 3));
    assert_eq!(line_col_of_char_pos(src, 0), (1, 1));
    assert_eq!(line_col_of_char_pos("", 5), (1, 1));
    // Byte offsets inside a char move back to its start.
    let e = src.find('é').unwrap();
    assert_eq!(line_col_of_byte(src, e), (1, 9));
    assert_eq!(line_col_of_byte(src, e + 1), (1, 9));
    assert_eq!(line_col_of_byte(src, e + 2), (1, 10));
    assert_eq!(line_col_of_byte(src, src.len() + 10), (3, 4));
}

/// Bytes whose characters `f` counted for columns.
fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = COUNTED.with(|c| c.get());
    let out = f();
    (out, COUNTED.with(|c| c.get()) - before)
}

/// Asked for every statement of a one-line file in order, the index counts each byte at most
/// once (counting from the line start each time was quadratic: 35 s for 2 MiB).
#[test]
fn line_index_counts_each_byte_once_in_order() {
    let src = "SELECT 'é', 1; ".repeat(20_000);
    let mut idx = LineIndex::new(&src);
    let (last, work) = counted(|| {
        let mut last = (0, 0);
        for (at, _) in src.match_indices("SELECT") {
            let (line, column) = idx.line_col(at);
            assert_eq!(line, 1);
            assert!(column > last.1);
            last = (line, column);
        }
        last
    });
    assert_eq!(last.1, src.chars().count() - 14);
    assert!(work <= src.len(), "{work} > {}", src.len());
}

/// `analyze` and `split` locate every piece of a one-line file, and its lex error, counting
/// each byte at most once.
#[test]
fn analyze_counts_each_byte_once_on_one_line() {
    let src = format!("{} SELECT 'unterminated", "SELECT 1; ".repeat(20_000));
    let (a, work) = counted(|| analyze(&src));
    assert_eq!(a.pieces.len(), 20_001);
    assert_eq!(a.pieces[20_000].column, 200_002);
    assert_eq!((a.errors[0].line, a.errors[0].column), (1, 200_009));
    assert!(work <= src.len(), "analyze: {work} > {}", src.len());
    let (_, work) = counted(|| split(&src));
    assert!(work <= src.len(), "split: {work} > {}", src.len());
}

/// Prints `analyze` throughput (see `bench/lexer.sh`); sizes in MiB from `PGBOOT_BENCH_MIB`.
#[test]
#[ignore = "benchmark: bench/lexer.sh --cargo"]
fn bench_analyze() {
    let sizes: Vec<usize> = std::env::var("PGBOOT_BENCH_MIB")
        .unwrap_or_else(|_| "1,2,8".to_string())
        .split(',')
        .map(|s| s.trim().parse().expect("PGBOOT_BENCH_MIB: sizes in MiB"))
        .collect();
    super::bench::run(&sizes);
}

#[test]
fn crlf_and_cr_line_endings() {
    let src = "select 1;\r\nselect 2;\rselect 3;\n\r\nselect 4;";
    let p = split(src);
    let pos: Vec<(usize, usize)> = p.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(pos, vec![(1, 1), (2, 1), (3, 1), (5, 1)]);
    // The '\n' of a CRLF is on the same line as its '\r'.
    assert_eq!(line_col_of_char_pos(src, 10), (1, 10));
    assert_eq!(line_col_of_char_pos(src, 11), (1, 11));
    assert_eq!(line_col_of_char_pos(src, 12), (2, 1));
    let a = analyze("select 1;\r\n\r\n  'x");
    assert_eq!((a.errors[0].line, a.errors[0].column), (3, 3));
}

/// The forms the fixtures do not show; the piece count tells how the probe lexed.
#[test]
fn standard_conforming_strings_more_forms() {
    let probe = "SELECT 'a\\'; SELECT 2; --';\n";
    let statements = |set: &str| {
        let a = analyze(&format!("{set}\n{probe}"));
        assert!(a.errors.is_empty(), "{set}: {:?}", a.errors);
        a.pieces.iter().filter(|p| !p.is_empty()).count()
    };
    assert_eq!(statements("SET standard_conforming_strings = off;"), 2);
    assert_eq!(statements("SET standard_conforming_strings = 'FALSE';"), 2);
    assert_eq!(
        statements("SET standard_conforming_strings = off; DISCARD ALL;"),
        4
    );
    assert_eq!(statements("SET standard_conforming_strings = o;"), 3);
    assert_eq!(statements("SET standard_conforming_strings = '';"), 3);
    // Only at the top level: not inside a routine body or parentheses.
    assert_eq!(
        statements("CREATE PROCEDURE p() BEGIN ATOMIC SET standard_conforming_strings = off; END;"),
        3
    );
    // An unterminated value is an error, not a panic.
    assert_eq!(
        analyze("SET standard_conforming_strings = 'off")
            .errors
            .len(),
        1
    );
}

#[test]
fn leading_keywords_examples() {
    assert_eq!(
        leading_keywords(
            "  -- c\n create /* x */ unique\n index concurrently i on t",
            3
        ),
        vec!["CREATE", "UNIQUE", "INDEX"]
    );
    assert_eq!(leading_keywords("vacuum (analyze) t", 3), vec!["VACUUM"]);
    assert_eq!(leading_keywords("select", 3), vec!["SELECT"]);
    assert!(leading_keywords("-- only", 3).is_empty());
    assert!(leading_keywords("select 1", 0).is_empty());
    assert_eq!(leading_keywords("\u{feff}vacuum", 3), vec!["VACUUM"]);
}

// ---- property tests --------------------------------------------------

fn sqlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        any::<char>().prop_map(|c| c.to_string()),
        "\\PC{0,4}",
        Just("'".to_string()),
        Just("''".to_string()),
        Just("$$".to_string()),
        Just("$a$".to_string()),
        Just("$1".to_string()),
        Just("$".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("--".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just(";".to_string()),
        Just("E'\\'".to_string()),
        Just("e'".to_string()),
        Just("\\".to_string()),
        Just("\"".to_string()),
        Just("U&'".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just(" BEGIN ".to_string()),
        Just(" ATOMIC ".to_string()),
        Just(" END ".to_string()),
        Just(" CASE ".to_string()),
        Just("CREATE FUNCTION ".to_string()),
        Just(" VACUUM ".to_string()),
        Just("SET standard_conforming_strings = off;".to_string()),
        Just("RESET ALL;".to_string()),
        Just("é".to_string()),
        Just("😀".to_string()),
        Just("\u{feff}".to_string()),
    ];
    prop::collection::vec(frag, 0..40).prop_map(|v| v.concat())
}

fn naive_line_col(src: &str, char_pos: usize) -> (usize, usize) {
    let chars: Vec<char> = src.chars().collect();
    if chars.is_empty() {
        return (1, 1);
    }
    let target = char_pos.clamp(1, chars.len()) - 1;
    let (mut line, mut col) = (1, 1);
    for (i, &c) in chars.iter().enumerate() {
        if i == target {
            return (line, col);
        }
        let next = chars.get(i + 1).copied();
        if c == '\n' || (c == '\r' && next != Some('\n')) {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    unreachable!()
}

/// (line, column) of `byte` counted from the start of `src`, character by character.
fn naive_line_col_of_byte(src: &str, byte: usize) -> (usize, usize) {
    let (mut line, mut col) = (1, 1);
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if i + c.len_utf8() > byte {
            break;
        }
        let next = chars.peek().map(|&(_, n)| n);
        if c == '\n' || (c == '\r' && next != Some('\n')) {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    (line, col)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The incremental index gives the naive answers, for positions in order (as pieces ask)
    /// and in any order, inside characters and past the end.
    #[test]
    fn line_index_matches_naive(src in sqlish(), mut at in prop::collection::vec(0usize..300, 0..30), sort in any::<bool>()) {
        if sort {
            at.sort_unstable();
        }
        let mut idx = LineIndex::new(&src);
        for &b in &at {
            prop_assert_eq!(idx.line_col(b), naive_line_col_of_byte(&src, b), "byte {}", b);
            prop_assert_eq!(line_col_of_byte(&src, b), naive_line_col_of_byte(&src, b));
        }
    }

    #[test]
    fn never_panics(src in sqlish()) {
        let _ = split(&src);
        let a = analyze(&src);
        for e in &a.errors {
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
        let _ = leading_keywords(&src, 3);
    }

    #[test]
    fn never_panics_arbitrary(src in any::<String>()) {
        let _ = analyze(&src);
    }

    #[test]
    fn pieces_cover_input(src in sqlish()) {
        let pieces = split(&src);
        prop_assert_eq!(pieces.concat_text(&src), src.clone());
        let mut at = 0;
        for p in &pieces {
            prop_assert_eq!(p.range.start, at);
            prop_assert!(p.range.end > p.range.start);
            prop_assert!(src.is_char_boundary(p.range.start));
            prop_assert!(src.is_char_boundary(p.range.end));
            if let Some(s) = p.start {
                prop_assert!(p.range.contains(&s));
                prop_assert!(src.is_char_boundary(s));
                prop_assert_eq!((p.line, p.column), line_col_of_byte(&src, s));
            } else {
                prop_assert_eq!((p.line, p.column), line_col_of_byte(&src, p.range.start));
            }
            at = p.range.end;
        }
        prop_assert_eq!(at, src.len());
        prop_assert_eq!(analyze(&src).pieces, pieces);
    }

    #[test]
    fn char_pos_matches_naive(src in sqlish(), pos in 0usize..200) {
        prop_assert_eq!(line_col_of_char_pos(&src, pos), naive_line_col(&src, pos));
    }
}

// ---- created objects ---------------------------------------------------

fn c(sql: &str) -> Option<(&'static str, Option<String>, String, Option<String>)> {
    created_object(sql).map(|c| (c.kind, c.schema, c.name, c.on.map(|o| o.1)))
}

#[test]
fn names_of_created_objects() {
    assert_eq!(
        c("CREATE TABLE IF NOT EXISTS public.Tenants (id int)"),
        Some(("table", Some("public".into()), "tenants".into(), None))
    );
    assert_eq!(
        c("create unique index concurrently if not exists \"Idx\" on t (a)"),
        Some(("index", None, "Idx".into(), Some("t".into())))
    );
    assert_eq!(c("CREATE INDEX ON t (a)"), None);
    assert_eq!(
        c("CREATE OR REPLACE FUNCTION app.f() RETURNS int AS $$ select 1 $$ LANGUAGE sql"),
        Some(("function", Some("app".into()), "f".into(), None))
    );
    assert_eq!(
        c("CREATE MATERIALIZED VIEW IF NOT EXISTS s.mv AS SELECT 1"),
        Some(("materialized view", Some("s".into()), "mv".into(), None))
    );
    assert_eq!(
        c("CREATE POLICY tenant_isolation ON public.contacts USING (true)"),
        Some((
            "policy",
            None,
            "tenant_isolation".into(),
            Some("contacts".into())
        ))
    );
    assert_eq!(
        c("CREATE EXTENSION IF NOT EXISTS vector"),
        Some(("extension", None, "vector".into(), None))
    );
    assert_eq!(
        c("/* x */ CREATE TYPE status AS ENUM ('a')"),
        Some(("type", None, "status".into(), None))
    );
    assert_eq!(
        c("CREATE TRIGGER trg BEFORE UPDATE ON deals FOR EACH ROW EXECUTE FUNCTION f()"),
        Some(("trigger", None, "trg".into(), Some("deals".into())))
    );
    assert_eq!(c("ALTER TABLE t ADD COLUMN x int"), None);
    assert_eq!(c("SELECT 'CREATE TABLE x'"), None);
}

#[test]
fn statements_that_run_alone() {
    for alone in [
        "CREATE INDEX CONCURRENTLY i ON t (a)",
        "vacuum t",
        "-- c\nCOMMIT",
        "BEGIN",
        "DROP INDEX CONCURRENTLY IF EXISTS i",
    ] {
        assert!(runs_alone(alone), "{alone}");
    }
    for not in [
        "INSERT INTO t VALUES (1)",
        "CREATE INDEX i ON t (a)",
        "SELECT pg_sleep(1)",
        "BEGIN ATOMIC",
    ] {
        assert!(!runs_alone(not), "{not}");
    }
}
