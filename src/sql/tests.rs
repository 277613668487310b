//! Unit tests for the SQL lexer, splitter and analysis.

use super::*;
use proptest::prelude::*;

fn texts(src: &str) -> Vec<&str> {
    split(src).iter().map(|p| p.text(src)).collect()
}

fn stmts(src: &str) -> Vec<String> {
    split(src)
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.text(src).trim().to_string())
        .collect()
}

fn what(src: &str) -> Option<String> {
    match analyze(src).no_transaction {
        Some(NoTxReason::Statement { what, .. }) => Some(what),
        Some(NoTxReason::Directive) => Some("directive".to_string()),
        None => None,
    }
}

// ---- splitting -------------------------------------------------------

#[test]
fn splits_simple_statements() {
    let src = "create table a(x int);\ninsert into a values (1);\n";
    assert_eq!(
        texts(src),
        vec![
            "create table a(x int);",
            "\ninsert into a values (1);",
            "\n"
        ]
    );
    let p = split(src);
    assert!(!p[0].is_empty() && !p[1].is_empty() && p[2].is_empty());
    assert_eq!((p[1].line, p[1].column), (2, 1));
    assert_eq!(p[1].start, Some(23));
    assert_eq!(p[2].start, None);
    assert_eq!((p[2].line, p[2].column), (2, 26));
}

#[test]
fn empty_input_and_lone_semicolons() {
    assert!(split("").is_empty());
    let p = split(";;");
    assert_eq!(p.len(), 2);
    assert!(p.iter().all(Piece::is_empty));
    let p = split("  -- only a comment\n/* and another */  ");
    assert_eq!(p.len(), 1);
    assert!(p[0].is_empty());
}

#[test]
fn last_statement_without_semicolon() {
    assert_eq!(stmts("select 1; select 2"), vec!["select 1;", "select 2"]);
}

#[test]
fn semicolons_in_strings_are_not_separators() {
    assert_eq!(
        stmts("select 'a;b''c;'; select 2;"),
        vec!["select 'a;b''c;';", "select 2;"]
    );
}

#[test]
fn e_strings_with_backslash_escapes() {
    assert_eq!(
        stmts(r"select E'it\'s; \\'; select e'x\\'; select 3;"),
        vec![r"select E'it\'s; \\';", r"select e'x\\';", "select 3;"]
    );
    // In a plain string a backslash is an ordinary character.
    assert_eq!(
        stmts(r"select 'a\'; select 2;"),
        vec![r"select 'a\';", "select 2;"]
    );
    // An identifier ending in e is not an E-string prefix.
    assert_eq!(
        stmts(r"select some'x\'; select 2;"),
        vec![r"select some'x\';", "select 2;"]
    );
}

#[test]
fn prefixed_strings() {
    assert_eq!(
        stmts(r"select U&'d\0061t;', B'1;0', X'1F;', N'n;''x'; select 2;"),
        vec![
            r"select U&'d\0061t;', B'1;0', X'1F;', N'n;''x';",
            "select 2;"
        ]
    );
    assert_eq!(stmts("select U&\"a;b\"; select 2;").len(), 2);
}

#[test]
fn quoted_identifiers() {
    assert_eq!(
        stmts("select 1 as \"a;\"\"b\"; select 2;"),
        vec!["select 1 as \"a;\"\"b\";", "select 2;"]
    );
}

#[test]
fn comments() {
    assert_eq!(
        stmts("select 1 -- ; not here\n; select /* ; /* nested ; */ still ; */ 2;"),
        vec![
            "select 1 -- ; not here\n;",
            "select /* ; /* nested ; */ still ; */ 2;"
        ]
    );
    // The piece starts at the first significant token, after comments.
    let src = "-- header\n/* c */  select 1;";
    let p = split(src);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].start, Some(src.find("select").unwrap()));
    assert_eq!((p[0].line, p[0].column), (2, 10));
}

#[test]
fn dollar_quoting() {
    let src = "create function f() returns int as $$ select 1; $$ language sql;\n\
               create function g() returns int as $body$ begin; $$ ; $body$ language plpgsql;\n\
               select $1, $2;";
    let s = stmts(src);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s[1].ends_with("$body$ language plpgsql;"));
    assert_eq!(s[2], "select $1, $2;");
    // $1 is a parameter, not a quote; a tag cannot start with a digit.
    assert_eq!(stmts("select $1; select $2;").len(), 2);
    assert_eq!(stmts("select $1a$ x; y $1a$;").len(), 2);
    // Identifiers may contain `$`.
    assert_eq!(stmts("select a$b$ from t; select 2;").len(), 2);
    // Non-ASCII tags.
    assert_eq!(stmts("select $é$ ; $é$; select 2;").len(), 2);
}

#[test]
fn parentheses_keep_statements_together() {
    assert_eq!(
        stmts("create rule r as on insert to t do instead (insert into a values (1); insert into b values (2)); select 1;"),
        vec![
            "create rule r as on insert to t do instead (insert into a values (1); insert into b values (2));",
            "select 1;"
        ]
    );
}

#[test]
fn begin_atomic_bodies() {
    let src = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
               BEGIN ATOMIC\n\
                 SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n\
                 SELECT a + 1;\n\
               END;\n\
               CREATE OR REPLACE PROCEDURE p() begin atomic insert into t values (1); end;\n\
               SELECT 1;";
    let s = stmts(src);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!(s[0].starts_with("CREATE FUNCTION") && s[0].ends_with("END;"));
    assert!(s[1].starts_with("CREATE OR REPLACE PROCEDURE") && s[1].ends_with("end;"));
    assert_eq!(s[2], "SELECT 1;");
    let a = analyze(src);
    assert!(!a.manages_transaction);
    assert!(a.no_transaction.is_none());
}

#[test]
fn begin_outside_routine_is_not_atomic_body() {
    // A plain BEGIN; splits normally.
    assert_eq!(
        stmts("BEGIN; SELECT 1; COMMIT;"),
        vec!["BEGIN;", "SELECT 1;", "COMMIT;"]
    );
}

#[test]
fn realistic_migration_file() {
    let src = "-- 0003: add search\r\n\
               CREATE TABLE docs (id int PRIMARY KEY, body text DEFAULT 'a;b');\r\n\
               CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\r\n\
               BEGIN\r\n  NEW.body := NEW.body || ';'; -- VACUUM;\r\n  RETURN NEW;\r\nEND\r\n$fn$;\r\n\
               /* build it online */\r\n\
               CREATE UNIQUE INDEX CONCURRENTLY docs_body ON docs (body);\r\n";
    let a = analyze(src);
    assert!(a.errors.is_empty());
    assert!(!a.manages_transaction);
    let stmts: Vec<&Piece> = a.pieces.iter().filter(|p| !p.is_empty()).collect();
    assert_eq!(stmts.len(), 3);
    assert_eq!((stmts[0].line, stmts[0].column), (2, 1));
    assert_eq!((stmts[1].line, stmts[1].column), (3, 1));
    assert_eq!((stmts[2].line, stmts[2].column), (10, 1));
    assert_eq!(
        leading_keywords(stmts[2].text(src), 4),
        vec!["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"]
    );
    assert_eq!(
        a.no_transaction,
        Some(NoTxReason::Statement {
            what: "CREATE INDEX CONCURRENTLY".into(),
            line: 10,
            column: 1
        })
    );
}

#[test]
fn unterminated_atomic_body_extends_to_end() {
    let src = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2;";
    let p = split(src);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].range, 0..src.len());
}

// ---- analysis --------------------------------------------------------

#[test]
fn detects_no_transaction_statements() {
    let cases = [
        ("VACUUM;", "VACUUM"),
        ("vacuum analyze t;", "VACUUM"),
        ("VACUUM (ANALYZE) t;", "VACUUM"),
        (
            "create index concurrently i on t(x);",
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "create /*x*/ unique\n index concurrently i on t(x);",
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);",
            "CREATE INDEX CONCURRENTLY",
        ),
        (
            "DROP INDEX CONCURRENTLY IF EXISTS i;",
            "DROP INDEX CONCURRENTLY",
        ),
        (
            "REINDEX (VERBOSE) TABLE CONCURRENTLY t;",
            "REINDEX CONCURRENTLY",
        ),
        ("REINDEX INDEX CONCURRENTLY i;", "REINDEX CONCURRENTLY"),
        ("REINDEX (CONCURRENTLY) TABLE t;", "REINDEX CONCURRENTLY"),
        ("REINDEX SCHEMA public;", "REINDEX SCHEMA"),
        ("REINDEX DATABASE d;", "REINDEX DATABASE"),
        ("REINDEX SYSTEM;", "REINDEX SYSTEM"),
        ("CREATE DATABASE d;", "CREATE DATABASE"),
        ("drop database if exists d;", "DROP DATABASE"),
        ("CREATE TABLESPACE ts LOCATION '/x';", "CREATE TABLESPACE"),
        ("DROP TABLESPACE ts;", "DROP TABLESPACE"),
        ("ALTER SYSTEM SET work_mem = '64MB';", "ALTER SYSTEM"),
        (
            "ALTER DATABASE d SET TABLESPACE ts;",
            "ALTER DATABASE SET TABLESPACE",
        ),
        (
            "ALTER DATABASE \"My Db\" SET TABLESPACE ts;",
            "ALTER DATABASE SET TABLESPACE",
        ),
        ("CLUSTER;", "CLUSTER"),
        ("cluster verbose", "CLUSTER"),
        ("CLUSTER (VERBOSE);", "CLUSTER"),
        (
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
            "CREATE SUBSCRIPTION",
        ),
        ("DROP SUBSCRIPTION s;", "DROP SUBSCRIPTION"),
        (
            "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
            "DETACH PARTITION CONCURRENTLY",
        ),
        (
            "ALTER TABLE IF EXISTS s.p DETACH PARTITION s.c CONCURRENTLY;",
            "DETACH PARTITION CONCURRENTLY",
        ),
        (
            "ALTER SUBSCRIPTION s REFRESH PUBLICATION;",
            "ALTER SUBSCRIPTION ... REFRESH",
        ),
        (
            "ALTER SUBSCRIPTION s SET PUBLICATION p;",
            "ALTER SUBSCRIPTION with refresh",
        ),
        ("DISCARD ALL;", "DISCARD ALL"),
        ("\u{feff}VACUUM;", "VACUUM"),
        (
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = true);",
            "CREATE SUBSCRIPTION",
        ),
    ];
    for (src, expected) in cases {
        assert_eq!(what(src).as_deref(), Some(expected), "{src}");
    }
}

#[test]
fn allowed_statements_do_not_trigger() {
    let cases = [
        "CREATE INDEX i ON t (x);",
        "CREATE UNIQUE INDEX i ON t (concurrently);",
        "DROP INDEX i;",
        "REINDEX TABLE t;",
        "REINDEX INDEX i;",
        "REINDEX (CONCURRENTLY false) TABLE t;",
        "CLUSTER t USING i;",
        "CLUSTER VERBOSE t;",
        "ALTER TYPE mood ADD VALUE 'meh';",
        "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'ok';",
        "ALTER DATABASE d SET work_mem = '1MB';",
        "ALTER TABLE p DETACH PARTITION c;",
        "ALTER TABLE p DETACH PARTITION c FINALIZE;",
        "ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false);",
        "ALTER SUBSCRIPTION s DISABLE;",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = false, slot_name = 's');",
        "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false);",
        "DISCARD PLANS;",
        "ANALYZE t;",
        "SELECT 'VACUUM';",
        "SELECT E'it\\'s; VACUUM';",
        "SELECT 1; -- VACUUM;\n",
        "/* VACUUM; */ SELECT 1;",
        "/* outer /* VACUUM; */ CREATE INDEX CONCURRENTLY i ON t(x); */ SELECT 1;",
        "SELECT 1 AS \"vacuum\";",
        "\"vacuum\";",
        "SELECT $$ VACUUM; $$;",
        "SELECT $tag$ ; VACUUM; $notit$ ; $tag$;",
        "DO $$ BEGIN VACUUM; END $$;",
        "SELECT 'CREATE INDEX CONCURRENTLY i ON t(x)';",
        "-- CREATE INDEX CONCURRENTLY i ON t(x);\nSELECT 1;",
        "CREATE FUNCTION f() RETURNS void AS $$ CREATE INDEX CONCURRENTLY i ON t(x); $$ LANGUAGE sql;",
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC VACUUM; END;",
        "SELECT vacuum FROM t;",
    ];
    for src in cases {
        assert_eq!(what(src), None, "{src}");
    }
}

#[test]
fn statement_reason_position_and_first_wins() {
    let src = "SELECT 1;\n  -- c\n  VaCuUm;\nCREATE DATABASE d;";
    assert_eq!(
        analyze(src).no_transaction,
        Some(NoTxReason::Statement {
            what: "VACUUM".into(),
            line: 3,
            column: 3
        })
    );
}

#[test]
fn directive() {
    for src in [
        "-- pgboot:no-transaction\nCREATE TABLE t();",
        "\u{feff}  --PGBOOT:No-Transaction\r\nSELECT 1;",
        "-- pgboot:no-transaction",
        "\n-- pgboot:no-transaction because of reasons\nVACUUM;",
    ] {
        assert_eq!(
            analyze(src).no_transaction,
            Some(NoTxReason::Directive),
            "{src:?}"
        );
    }
    for src in [
        "-- pgboot:no-transactional\nSELECT 1;",
        "SELECT 1;\n-- pgboot:no-transaction\n",
        "-- something else\n-- pgboot:no-transaction\n",
        "/* -- pgboot:no-transaction */",
    ] {
        assert_eq!(analyze(src).no_transaction, None, "{src:?}");
    }
}

#[test]
fn manages_transaction() {
    for src in [
        "BEGIN;\nCREATE TABLE t();\nCOMMIT;",
        "begin isolation level serializable; select 1; end;",
        "START TRANSACTION; SELECT 1;",
        "SELECT 1; ROLLBACK;",
        "ABORT;",
        "COMMIT PREPARED 'x';",
        "PREPARE TRANSACTION 'x';",
        "-- c\n/* c */ commit",
    ] {
        assert!(analyze(src).manages_transaction, "{src:?}");
    }
    for src in [
        "DO $$ BEGIN PERFORM 1; END $$;",
        "DO $body$\nBEGIN\n  IF true THEN\n    COMMIT;\n  END IF;\nEND\n$body$;",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
        "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;",
        "SELECT 'BEGIN'; SELECT \"commit\" FROM t;",
        "PREPARE q AS SELECT 1;",
        "SAVEPOINT a; ROLLBACK TO SAVEPOINT a; ROLLBACK WORK TO a;",
        "-- BEGIN;\nSELECT 1;",
    ] {
        assert!(!analyze(src).manages_transaction, "{src:?}");
    }
}

#[test]
fn unterminated_constructs() {
    let cases = [
        ("select 1;\nselect $body$ x;\n", (2, 8), "$body$"),
        ("select 'abc;\nselect 2;", (1, 8), "quoted string"),
        ("select E'abc\\';", (1, 8), "E'"),
        ("select \"abc;", (1, 8), "quoted identifier"),
        ("select 1; /* a /* b */ select 2;", (1, 11), "block comment"),
        ("select $$", (1, 8), "$$"),
    ];
    for (src, (line, column), needle) in cases {
        let a = analyze(src);
        assert_eq!(a.errors.len(), 1, "{src:?}");
        let e = &a.errors[0];
        assert_eq!((e.line, e.column), (line, column), "{src:?}");
        assert!(e.message.contains(needle), "{src:?}: {}", e.message);
        assert!(e.message.contains("unterminated"), "{}", e.message);
        // The last piece extends to the end of input.
        assert_eq!(a.pieces.last().unwrap().range.end, src.len());
        assert_eq!(a.pieces.concat_text(src), src);
    }
    let a = analyze("select $body$ x;\n");
    assert_eq!(
        a.errors[0].message,
        "unterminated dollar-quoted string $body$ starting here"
    );
    assert!(analyze("select 1;").errors.is_empty());
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

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
