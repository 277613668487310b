//! Unit tests for psql input: COPY data, meta-commands, variables. The fixtures `psql_*.sql`
//! show whole files (see `tests.rs`).

use super::lines::COUNTED;
use super::*;
use proptest::prelude::*;

fn kinds(src: &str) -> Vec<PieceKind> {
    split(src).into_iter().map(|p| p.kind).collect()
}

/// The first meta-command of `src`.
fn meta(src: &str) -> Meta {
    let found = split(src).into_iter().find_map(|p| match p.kind {
        PieceKind::Meta(m) => Some(m),
        _ => None,
    });
    found.unwrap_or_else(|| panic!("no meta-command in {src:?}"))
}

#[test]
fn copy_data_is_not_lexed() {
    let src = "COPY t FROM stdin;\na'b;\n\\.\nSELECT 'x';";
    let a = analyze(src);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert_eq!(a.pieces.len(), 2);
    let p = &a.pieces[0];
    assert_eq!(p.text(src), "COPY t FROM stdin;\na'b;\n\\.\n");
    assert_eq!(p.sql_text(src), "COPY t FROM stdin;\n");
    let PieceKind::CopyIn(d) = &p.kind else {
        panic!("{p:?}")
    };
    assert_eq!(&src[d.range.clone()], "a'b;\n");
    assert_eq!((d.line, d.terminated), (2, true));
    assert_eq!(a.client_copy.unwrap().what, "COPY … FROM STDIN");
    assert_eq!(a.pieces[1].kind, PieceKind::Sql);
}

#[test]
fn copy_terminator_is_exact() {
    for (data, terminated) in [
        ("\\.", true),
        ("\\.\n", true),
        ("\\.\r\n", true),
        ("\\.\r", true),
        (" \\.\n", false),
        ("\\. \n", false),
        ("\\.\r\r\n", false),
        ("\\\\.\n", false),
        ("x\\.\n", false),
    ] {
        let src = format!("COPY t FROM STDIN;\n{data}");
        let p = &split(&src)[0];
        let PieceKind::CopyIn(d) = &p.kind else {
            panic!("{data:?}: {p:?}")
        };
        assert_eq!(d.terminated, terminated, "{data:?}");
        assert_eq!(p.range, 0..src.len(), "{data:?}");
        let rows = if terminated { "" } else { data };
        assert_eq!(&src[d.range.clone()], rows, "{data:?}");
    }
}

/// Only `FROM STDIN` at the top level of a COPY statement has data after it.
#[test]
fn only_copy_from_stdin_has_data() {
    for src in [
        "COPY t TO STDOUT;\nx'\n",
        "COPY t FROM '/f';\nx'\n",
        "SELECT 'COPY t FROM stdin';\nx'\n",
        "COPY (SELECT 1 FROM stdin) TO STDOUT;\nx'\n",
        "CREATE TABLE stdin (a int);\nx'\n",
    ] {
        assert!(kinds(src).iter().all(|k| *k == PieceKind::Sql), "{src}");
        assert_eq!(analyze(src).errors.len(), 1, "{src}");
    }
    assert!(matches!(
        kinds("copy \"T\" (\"from\") from stdin csv header;\nx'\n\\.\n")[0],
        PieceKind::CopyIn(_)
    ));
}

#[test]
fn text_after_copy_semicolon_is_an_error() {
    let a = analyze("COPY t FROM stdin;  SELECT 1;\nrow\n\\.\n");
    assert_eq!(a.errors.len(), 1);
    assert_eq!((a.errors[0].line, a.errors[0].column), (1, 21));
    assert_eq!(a.pieces.len(), 1);
    for ok in [
        "COPY t FROM stdin;  -- c\n\\.\n",
        "COPY t FROM stdin; \t\r\n\\.\n",
    ] {
        assert!(analyze(ok).errors.is_empty(), "{ok:?}");
    }
}

#[test]
fn meta_command_lines() {
    let m = meta("\\set  x 'a b'  \r\n");
    assert_eq!(
        (m.name.as_str(), m.args.as_str(), m.line),
        ("set", "x 'a b'", 1)
    );
    let m = meta("\\echo\\\\ \\echo b");
    assert_eq!(
        (m.name.as_str(), m.args.as_str()),
        ("echo", "\\\\ \\echo b")
    );
    let m = meta("\\");
    assert_eq!((m.name.as_str(), m.args.as_str()), ("", ""));
    let m = meta("SELECT 1;\n\n  \\restrict k\n");
    assert_eq!((m.name.as_str(), m.line), ("restrict", 3));
    let p = &split("SELECT 1;\n\n  \\restrict k\nSELECT 2;")[1];
    assert_eq!(p.range, 9..25);
    assert_eq!((p.line, p.column, p.start), (3, 3, Some(13)));
    assert!(!p.is_empty());
    assert_eq!(p.sql_text("SELECT 1;\n\n  \\restrict k\nSELECT 2;"), "");
    // A meta-command ends the piece: what follows is the next statement.
    let src = "\\set x 1\nSELECT :x;";
    let ps = split(src);
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[1].text(src), "SELECT :x;");
}

#[test]
fn copy_meta_command_from_stdin_has_data() {
    let src = "\\copy t (a) from stdin with csv\n'x\n\\.\nSELECT 1;";
    let ps = split(src);
    assert_eq!(ps.len(), 2);
    let PieceKind::Meta(m) = &ps[0].kind else {
        panic!("{:?}", ps[0])
    };
    let d = m.data.as_ref().unwrap();
    assert_eq!(
        (&src[d.range.clone()], d.line, d.terminated),
        ("'x\n", 2, true)
    );
    for (args, inline) in [
        ("t from stdin", true),
        ("t FROM STDIN", true),
        ("t (\"from\", b) from stdin csv", true),
        ("(select 'from stdin') to stdout", false),
        ("t from pstdin", false),
        ("t from 'stdin'", false),
        ("\"from\" from '/x'", false),
        ("stdin to 'f'", false),
        ("t from", false),
    ] {
        let src = format!("\\copy {args}\nrow\n");
        let m = meta(&src);
        assert_eq!(m.data.is_some(), inline, "{args}");
    }
}

#[test]
fn stray_backslash() {
    let a = analyze("SELECT 1\n  AS x \\gset\nSELECT 2 \\g\n");
    assert_eq!(a.stray_backslash, Some((2, 8)));
    assert_eq!(a.errors.len(), 1, "only the first one: {:?}", a.errors);
    assert_eq!((a.errors[0].line, a.errors[0].column), (2, 8));
    for fine in [
        "SELECT E'\\\\', '\\', $$\\$$, \"\\\", 1; -- \\\n/* \\ */",
        "SELECT 1;\\echo x\n",
    ] {
        let a = analyze(fine);
        assert_eq!(a.stray_backslash, None, "{fine}");
        assert!(a.errors.is_empty(), "{fine}: {:?}", a.errors);
    }
}

#[test]
fn meta_actions() {
    use MetaAction::*;
    assert_eq!(meta_action("restrict"), Ignore);
    assert_eq!(meta_action("unrestrict"), Ignore);
    assert_eq!(meta_action("i"), Include { relative: false });
    assert_eq!(meta_action("include"), Include { relative: false });
    assert_eq!(meta_action("ir"), Include { relative: true });
    assert_eq!(meta_action("include_relative"), Include { relative: true });
    assert_eq!(meta_action("set"), Set);
    assert_eq!(meta_action("unset"), Unset);
    assert_eq!(meta_action("echo"), Echo);
    assert_eq!(meta_action("copy"), Copy);
    let advice = |name: &str| match meta_action(name) {
        Refuse(a) => a,
        other => panic!("{name}: {other:?}"),
    };
    assert!(advice("c").contains("separate pgboot target per database"));
    assert_eq!(advice("c"), advice("connect"));
    assert!(advice("if").contains("\\if"));
    assert_eq!(advice("endif"), advice("if"));
    assert!(advice("gset").contains("\\gset"));
    assert!(advice("!").contains("shell"));
    assert!(advice("pset").contains("run the file with psql"));
    // Case matters, as in psql.
    assert_eq!(advice("I"), advice("pset"));
    assert_eq!(advice(""), advice("pset"));
}

#[test]
fn set_args() {
    let set = parse_set;
    let ok = |n: &str, v: &str| Some((n.to_string(), v.to_string()));
    assert_eq!(set("ON_ERROR_STOP on"), ok("ON_ERROR_STOP", "on"));
    assert_eq!(set("x"), ok("x", ""));
    assert_eq!(set("x a b  c"), ok("x", "abc"));
    assert_eq!(set("x 'it''s a' b"), ok("x", "it's ab"));
    assert_eq!(set("x pre'fix'post"), ok("x", "prefixpost"));
    assert_eq!(set("x '\\n\\t\\x41\\101\\q\\\\'"), ok("x", "\n\tAAq\\"));
    assert_eq!(set("x '\\xz'"), ok("x", "xz"));
    assert_eq!(set("x \"Mixed Case\""), ok("x", "\"Mixed Case\""));
    assert_eq!(set("x 'é'"), ok("x", "é"));
    assert_eq!(set("x :y"), ok("x", ":y"));
    assert_eq!(set(""), None);
    assert_eq!(set("x 'open"), None);
    assert_eq!(set("x \"open"), None);
    assert_eq!(set("x `date`"), None);
    assert_eq!(set("x 1 \\\\ \\echo"), None);
    assert_eq!(set("a-b 1"), None);
    assert_eq!(set("'x' 1"), ok("x", "1"));
    assert_eq!(set("x '\\377'"), None, "not UTF-8");
}

fn vars(src: &str) -> Vec<(VarForm, String, usize, usize)> {
    variables(src)
        .into_iter()
        .map(|v| {
            assert_eq!(line_col_of_byte(src, v.range.start), (v.line, v.column));
            (v.form, v.name, v.line, v.column)
        })
        .collect()
}

#[test]
fn variable_references() {
    use VarForm::*;
    let v = |f, n: &str, l, c| (f, n.to_string(), l, c);
    assert_eq!(
        vars("SELECT :a, :'b', :\"c\"\n, a::int, x:::d, f(e := 1), :\"\", : g, :é"),
        vec![
            v(Plain, "a", 1, 8),
            v(Literal, "b", 1, 12),
            v(Identifier, "c", 1, 18),
            v(Plain, "d", 2, 14),
            v(Plain, "é", 2, 39),
        ]
    );
    assert!(vars("SELECT ':a', \":a\", $$:a$$, E'\\':a' -- :a\n/* :a */").is_empty());
    assert!(vars("\\echo :a\nCOPY t FROM stdin;\n:a\n\\.\n").is_empty());
}

#[test]
fn interpolation() {
    let lookup = |n: &str| match n {
        "t" => Some("my table".to_string()),
        "q" => Some("it's \"q\"".to_string()),
        "b" => Some("a\\b'".to_string()),
        _ => None,
    };
    assert_eq!(
        interpolate("SELECT :t, :'q', :\"q\", :'b', :\"b\", x::int;", lookup).unwrap(),
        "SELECT my table, 'it''s \"q\"', \"it's \"\"q\"\"\",  E'a\\\\b''', \"a\\b'\", x::int;"
    );
    let e = interpolate("SELECT 1;\n  SELECT :t, :nope, :other", lookup).unwrap_err();
    assert_eq!((e.name.as_str(), e.line, e.column), ("nope", 2, 14));
    assert_eq!(e.to_string(), "2:14: psql variable :nope is not set");
    assert_eq!(interpolate("", lookup).unwrap(), "");
}

/// Many COPY blocks and meta-commands: positions are still counted once.
#[test]
fn psql_input_is_linear() {
    let block = "COPY t FROM stdin;\n1\tO'Brien\n\\.\n\\echo x\nSELECT :v, 'é';\n";
    let src = block.repeat(20_000);
    let before = COUNTED.with(|c| c.get());
    let a = analyze(&src);
    let work = COUNTED.with(|c| c.get()) - before;
    // The last line break is an empty piece.
    assert_eq!(a.pieces.len(), 60_001);
    assert!(a.errors.is_empty());
    assert!(work <= src.len(), "{work} > {}", src.len());
    assert_eq!(variables(&src).len(), 20_000);
}

fn psqlish() -> impl Strategy<Value = String> {
    let frag = prop_oneof![
        "\\PC{0,3}",
        Just("COPY t FROM stdin;".to_string()),
        Just("COPY t TO stdout;".to_string()),
        Just("\\.".to_string()),
        Just("\\".to_string()),
        Just("\\echo ".to_string()),
        Just("\\copy t from stdin".to_string()),
        Just(":".to_string()),
        Just(":a".to_string()),
        Just(":'a'".to_string()),
        Just(":\"a\"".to_string()),
        Just("::".to_string()),
        Just("'".to_string()),
        Just("\"".to_string()),
        Just("$$".to_string()),
        Just("--".to_string()),
        Just("/*".to_string()),
        Just(";".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\r".to_string()),
        Just("é".to_string()),
    ];
    prop::collection::vec(frag, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn psql_pieces_cover_input(src in psqlish()) {
        let pieces = split(&src);
        let mut at = 0;
        for p in &pieces {
            prop_assert_eq!(p.range.start, at);
            prop_assert!(p.range.end > p.range.start);
            if let Some(s) = p.start {
                prop_assert_eq!((p.line, p.column), line_col_of_byte(&src, s));
            }
            let data = match &p.kind {
                PieceKind::CopyIn(d) => Some(d),
                PieceKind::Meta(m) => m.data.as_ref(),
                PieceKind::Sql => None,
            };
            if let Some(d) = data {
                prop_assert!(p.range.start <= d.range.start && d.range.end <= p.range.end);
                prop_assert_eq!(d.line, line_col_of_byte(&src, d.range.start).0);
                prop_assert!(src.is_char_boundary(d.range.start));
                prop_assert!(src.is_char_boundary(d.range.end));
            }
            at = p.range.end;
        }
        prop_assert_eq!(at, src.len());
        let a = analyze(&src);
        prop_assert_eq!(a.pieces, pieces);
        if let Some((line, column)) = a.stray_backslash {
            prop_assert!(a.errors.iter().any(|e| (e.line, e.column) == (line, column)));
        }
    }

    #[test]
    fn variables_never_panic(src in psqlish()) {
        for v in variables(&src) {
            prop_assert!(src[v.range.clone()].starts_with(':'));
            prop_assert_eq!((v.line, v.column), line_col_of_byte(&src, v.range.start));
        }
        let all = interpolate(&src, |n| Some(n.to_uppercase()));
        prop_assert!(all.is_ok());
        let _ = interpolate(&src, |_| None);
        let _ = parse_set(&src);
    }
}
