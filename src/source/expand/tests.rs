use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use super::*;

fn files(list: &[(&str, &str)]) -> HashMap<PathBuf, Vec<u8>> {
    list.iter()
        .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
        .collect()
}

fn run(
    fs: &HashMap<PathBuf, Vec<u8>>,
    main: &str,
    vars: &[(&str, &str)],
) -> Result<Expanded, String> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let read = |p: &Path| {
        fs.get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    };
    let path = Path::new("m").join(main);
    let text = String::from_utf8(fs[&path].clone()).unwrap();
    expand(Path::new("m"), &path, &text, &vars, &read)
}

fn migration(x: &Expanded) -> crate::model::Migration {
    crate::model::Migration {
        version: 1,
        name: "001_main".into(),
        path: "m/001_main.sql".into(),
        sql: x.sql.clone(),
        checksum: String::new(),
        origins: x.origins.clone(),
        variables: x.variables.clone(),
        ..Default::default()
    }
}

#[test]
fn a_plain_file_is_unchanged_and_has_no_origins() {
    let src = "CREATE TABLE t (a int);\nSELECT a::text, '::x' FROM t; -- :y\n";
    let fs = files(&[("m/001_main.sql", src)]);
    let x = run(&fs, "001_main.sql", &[]).unwrap();
    assert_eq!(x.sql, src);
    assert!(x.origins.is_empty());
    // A \set without references changes nothing either.
    let src = "\\set ON_ERROR_STOP on\nSELECT 1;\n";
    let fs = files(&[("m/001_main.sql", src)]);
    let x = run(&fs, "001_main.sql", &[]).unwrap();
    assert_eq!(x.sql, src);
    assert!(x.origins.is_empty());
}

#[test]
fn includes_are_expanded_recursively_with_a_source_map() {
    let fs = files(&[
        (
            "m/001_main.sql",
            "SELECT 1;\n\\ir lib/a.sql\nSELECT 2;\n\\i lib/c.sql\nSELECT 3;\n",
        ),
        ("m/lib/a.sql", "SELECT 'a1';\n\\ir b.sql\nSELECT 'a3';"),
        ("m/lib/b.sql", "SELECT 'b1';\nSELECT 'b2';\n"),
        ("m/lib/c.sql", "SELECT 'c1';\n"),
    ]);
    let x = run(&fs, "001_main.sql", &[]).unwrap();
    assert_eq!(
        x.sql,
        "SELECT 1;\n-- pgboot: \\ir lib/a.sql\nSELECT 'a1';\n-- pgboot: \\ir b.sql\nSELECT 'b1';\nSELECT 'b2';\nSELECT 'a3';\nSELECT 2;\n-- pgboot: \\i lib/c.sql\nSELECT 'c1';\nSELECT 3;\n"
    );
    let m = migration(&x);
    let at = |line| m.at(line, 1);
    assert_eq!(at(1), "m/001_main.sql:1:1");
    assert_eq!(at(2), "m/001_main.sql:2:1");
    assert_eq!(at(3), "m/lib/a.sql:1:1, included from m/001_main.sql:2");
    assert_eq!(
        at(6),
        "m/lib/b.sql:2:1, included from m/lib/a.sql:2, included from m/001_main.sql:2"
    );
    assert_eq!(at(7), "m/lib/a.sql:3:1, included from m/001_main.sql:2");
    assert_eq!(at(8), "m/001_main.sql:3:1");
    assert_eq!(at(10), "m/lib/c.sql:1:1, included from m/001_main.sql:4");
    assert_eq!(at(11), "m/001_main.sql:5:1");
    assert_eq!(
        m.included_files(),
        ["m/lib/a.sql", "m/lib/b.sql", "m/lib/c.sql"]
    );
    assert_eq!(x.read.len(), 3);
}

#[test]
fn cycles_missing_files_and_included_migrations_are_errors_naming_the_chain() {
    let fs = files(&[
        ("m/001_main.sql", "\\ir lib/a.sql\n"),
        ("m/lib/a.sql", "SELECT 1;\n\\ir ../lib/./b.sql\n"),
        ("m/lib/b.sql", "\\i lib/a.sql\n"),
    ]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(
        e.contains("include cycle: m/001_main.sql → m/lib/a.sql → m/lib/b.sql → m/lib/a.sql"),
        "{e}"
    );

    let fs = files(&[
        ("m/001_main.sql", "SELECT 1;\n\\ir lib/a.sql\n"),
        ("m/lib/a.sql", "\n\\ir gone.sql\n"),
    ]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(e.contains("m/lib/gone.sql:1, included from m/lib/a.sql:2, included from m/001_main.sql:2: cannot read the included file"), "{e}");

    let fs = files(&[
        ("m/001_main.sql", "\\i 002_other.sql\n"),
        ("m/002_other.sql", "SELECT 1;\n"),
    ]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(e.contains("itself a migration"), "{e}");
}

#[test]
fn set_and_unset_apply_in_order_with_every_form() {
    let fs = files(&[(
        "m/001_main.sql",
        "\\set s 'it''s'\n\\set id my table\nCREATE TABLE :\"id\" (a text);\nINSERT INTO :\"id\" VALUES (:'s'), (:v);\n\\set v '''w'''\nINSERT INTO :\"id\" VALUES (:v);\n\\unset s\nSELECT 1;\n",
    )]);
    let x = run(&fs, "001_main.sql", &[("v", "'cfg'"), ("s", "ignored")]).unwrap();
    assert_eq!(
        x.sql,
        "\\set s 'it''s'\n\\set id my table\nCREATE TABLE \"mytable\" (a text);\nINSERT INTO \"mytable\" VALUES ('it''s'), ('cfg');\n\\set v '''w'''\nINSERT INTO \"mytable\" VALUES ('w');\n\\unset s\nSELECT 1;\n"
    );
    assert_eq!(x.variables, ["id", "s", "v"]);
    // Backslashes make an E'' literal, as PQescapeLiteral does.
    let fs = files(&[("m/001_main.sql", "SELECT :'p';\n")]);
    let x = run(&fs, "001_main.sql", &[("p", "a\\b")]).unwrap();
    assert_eq!(x.sql, "SELECT  E'a\\\\b';\n");
}

#[test]
fn an_undefined_variable_names_it_the_file_and_the_line() {
    let fs = files(&[
        ("m/001_main.sql", "SELECT 1;\n\\ir lib/a.sql\n"),
        ("m/lib/a.sql", "\\set x 1\n\\unset x\nSELECT :x;\n"),
    ]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(
        e.starts_with("m/lib/a.sql:3, included from m/001_main.sql:2: psql variable :x is not set"),
        "{e}"
    );
    assert!(e.contains("--var x="), "{e}");
    // psql would substitute a variable in a \set value; pgboot says it does not.
    let fs = files(&[("m/001_main.sql", "\\set a 1\n\\set b :a\nSELECT :b;\n")]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(
        e.starts_with("m/001_main.sql:2: `\\set b :a` uses a variable"),
        "{e}"
    );
    let fs = files(&[("m/001_main.sql", "\\set b 'x:a'\nSELECT :'b';\n")]);
    assert_eq!(
        run(&fs, "001_main.sql", &[]).unwrap().sql,
        "\\set b 'x:a'\nSELECT 'x:a';\n"
    );
    // Used before its \set.
    let fs = files(&[("m/001_main.sql", "SELECT :'y';\n\\set y 1\n")]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(e.starts_with("m/001_main.sql:1: psql variable :y"), "{e}");
}

#[test]
fn copy_from_a_file_becomes_inline_copy_data() {
    let fs = files(&[
        (
            "m/001_main.sql",
            "CREATE TABLE t (a int, b text);\n\\copy t (a, b) from 'data/t.csv' with (format csv, header);\nSELECT 1;\n\\copy t from stdin\n3\tz\n\\.\n",
        ),
        ("m/data/t.csv", "a,b\n1,x\n2,\"y\"\n"),
    ]);
    let x = run(&fs, "001_main.sql", &[]).unwrap();
    assert_eq!(
        x.sql,
        "CREATE TABLE t (a int, b text);\nCOPY t (a, b) FROM STDIN with (format csv, header);\na,b\n1,x\n2,\"y\"\n\\.\nSELECT 1;\nCOPY t FROM STDIN;\n3\tz\n\\.\n"
    );
    let m = migration(&x);
    assert_eq!(
        m.at(4, 1),
        "m/data/t.csv:2:1, included from m/001_main.sql:2"
    );
    assert_eq!(m.at(7, 1), "m/001_main.sql:3:1");
    assert_eq!(m.copy_files(), ["m/data/t.csv"]);
    // The file's pieces are what apply expects: COPY data, SQL.
    let a = crate::sql::analyze(&x.sql);
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    let copies = a
        .pieces
        .iter()
        .filter(|p| matches!(p.kind, crate::sql::PieceKind::CopyIn(_)))
        .count();
    assert_eq!(copies, 2);
}

#[test]
fn copy_to_and_from_program_stay_for_apply_to_refuse() {
    for args in [
        "t to 'out.csv'",
        "t from program 'cat x'",
        "t from pstdin",
        "(select 1) to stdout",
    ] {
        assert_eq!(parse_copy(args), Copy::Other, "{args}");
    }
    assert_eq!(
        parse_copy("\"from\" (a) FROM data.csv csv header;"),
        Copy::File {
            target: "\"from\" (a)",
            file: "data.csv".into(),
            options: " csv header;"
        }
    );
    assert_eq!(
        parse_copy("public.t from 'it''s.csv'"),
        Copy::File {
            target: "public.t",
            file: "it's.csv".into(),
            options: ""
        }
    );
    let fs = files(&[("m/001_main.sql", "\\copy t from 'missing.csv'\n")]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(
        e.contains("m/001_main.sql:1: \\copy from m/missing.csv: cannot read it"),
        "{e}"
    );
    let fs = files(&[
        ("m/001_main.sql", "\\copy t from 'd.csv'\n"),
        ("m/d.csv", "1\n\\.\n2\n"),
    ]);
    let e = run(&fs, "001_main.sql", &[]).unwrap_err();
    assert!(e.contains("line 2 is `\\.`"), "{e}");
}

#[test]
fn paths_are_normalised_lexically() {
    assert_eq!(
        normalize_path(Path::new("./m/lib/../a/./b.sql")),
        PathBuf::from("m/a/b.sql")
    );
    assert_eq!(normalize_path(Path::new("../x")), PathBuf::from("../x"));
}

#[test]
fn the_quick_check_never_hides_a_variable() {
    for with in [
        "SELECT :x;",
        "SELECT :'x';",
        "SELECT :\"x\";",
        "SELECT a:::x;",
        "SELECT :é;",
        "SELECT 1:_x;",
    ] {
        assert!(super::may_have_variable(with), "{with}");
    }
    for without in [
        "SELECT a::text, '{}'::jsonb;",
        "CREATE TABLE t (id int);",
        "SELECT 'a: b';",
        "SELECT x ::int;",
    ] {
        assert!(!super::may_have_variable(without), "{without}");
    }
    // Whatever the quick check says, expansion agrees with the full check.
    proptest::proptest!(|(text in "[a-z: '\"\\\\\n;]{0,40}")| {
        let full = !crate::sql::variables(&text).is_empty();
        if full {
            proptest::prop_assert!(super::may_have_variable(&text), "{:?}", text);
        }
    });
}
