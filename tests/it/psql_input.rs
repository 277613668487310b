//! psql input expanded at discovery: `\i` / `\ir`, `\set` / `\unset` and `:variables`, and
//! `\copy … from 'file'`. A migrations directory written for `psql -v ON_ERROR_STOP=1 -f`
//! (docker-entrypoint-initdb.d) loads the same way with pgboot; included files and `\copy` data
//! are part of the checksum; errors name the included file.

use crate::support::*;

use std::path::Path;
use std::process::Command;

/// A migrations directory with files in subdirectories.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("pgboot-psql-")
        .tempdir()
        .unwrap();
    for (name, body) in files {
        let path = d.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
    d
}

const MAIN: &str = r#"\set ON_ERROR_STOP on
\ir lib/types.sql
\set tbl 'app items'
\set greeting 'it''s here'
CREATE TABLE :"tbl" (
  id positive PRIMARY KEY,
  label text,
  mood mood,
  note text DEFAULT :'greeting',
  owner text DEFAULT :'owner'
);
\copy "app items" (id, label, mood) from 'data/rows.csv' with (format csv, header)
INSERT INTO :"tbl" (id, label) VALUES (100, shout(:'greeting'));
\unset greeting
\i lib/views.sql
COPY "app items" (id, label) FROM stdin;
200	inline
\.
SELECT count(*) AS status FROM :"tbl";
"#;

const TYPES: &str = "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n\\ir nested.sql\nCREATE FUNCTION shout(t text) RETURNS text LANGUAGE sql AS $$ SELECT upper(t) $$;\n";
const NESTED: &str = "CREATE DOMAIN positive AS integer CHECK (VALUE > 0);\n";
const VIEWS: &str =
    "CREATE VIEW happy_items AS SELECT id, label FROM \"app items\" WHERE mood = 'happy';\n";
const ROWS: &str =
    "id,label,mood\n1,\"comma, inside\",happy\n2,\"quote \"\" inside\",sad\n3,plain,ok\n";

fn project() -> tempfile::TempDir {
    tree(&[
        ("001_main.sql", MAIN),
        ("lib/types.sql", TYPES),
        ("lib/nested.sql", NESTED),
        ("lib/views.sql", VIEWS),
        ("data/rows.csv", ROWS),
    ])
}

fn pgboot_with(url: &str, dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = pgboot_cmd();
    c.env("DATABASE_URL", url).env("PGBOOT_MIGRATIONS", dir);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c.args(args))
}

fn rows(db: &TestDb) -> String {
    db.one(
        "SELECT string_agg(format('%s|%s|%s|%s|%s', id, label, mood, note, owner), E'\\n' ORDER BY id) FROM \"app items\"",
    )
    .unwrap_or_default()
}

#[test]
fn a_psql_project_loads_like_psql_loads_it() {
    let dir = project();
    let by_psql = cluster().create_db("psqlin_psql");
    let out = Command::new(pg_bin().join("psql"))
        .current_dir(dir.path())
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "owner=alice"])
        .args(["-d", &by_psql.url, "-f", "001_main.sql"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let by_pgboot = cluster().create_db("psqlin_pgboot");
    let env = [("PGBOOT_VAR_owner", "alice")];
    let plan = pgboot_with(&by_pgboot.url, dir.path(), &env, &["plan", "--json"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let f = &v["pending"][0];
    let names = |key: &str| -> Vec<String> {
        f[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key}: {f}"))
            .iter()
            .map(|s| {
                let s = s.as_str().unwrap();
                s[s.len().min(dir.path().to_str().unwrap().len() + 1)..].to_owned()
            })
            .collect()
    };
    assert_eq!(
        names("includes"),
        ["lib/types.sql", "lib/nested.sql", "lib/views.sql"]
    );
    assert_eq!(names("copy_files"), ["data/rows.csv"]);
    assert_eq!(
        f["variables"],
        serde_json::json!(["greeting", "owner", "tbl"])
    );
    // No "skipping lib: a directory" for directories the migration reads.
    assert!(!plan.stderr.contains("skipping"), "{}", plan.stderr);

    let r = pgboot_with(&by_pgboot.url, dir.path(), &env, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        schema_only(&by_psql.url, &[]),
        schema_only(&by_pgboot.url, &[])
    );
    let want = "1|comma, inside|happy|it's here|alice\n2|quote \" inside|sad|it's here|alice\n3|plain|ok|it's here|alice\n100|IT'S HERE||it's here|alice\n200|inline||it's here|alice";
    assert_eq!(rows(&by_psql), want);
    assert_eq!(rows(&by_pgboot), want);
    assert_eq!(
        by_pgboot
            .one("SELECT count(*)::text FROM happy_items")
            .as_deref(),
        Some("1")
    );

    // Run again: nothing pending, nothing drifted.
    let r = pgboot_with(&by_pgboot.url, dir.path(), &env, &["validate"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn editing_an_included_file_or_the_copy_data_or_a_variable_is_drift() {
    let dir = project();
    let db = cluster().create_db("psqlin_drift");
    let env = [("PGBOOT_VAR_owner", "bob")];
    let r = pgboot_with(&db.url, dir.path(), &env, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let validate = |env: &[(&str, &str)]| pgboot_with(&db.url, dir.path(), env, &["validate"]);
    assert_eq!(validate(&env).code, 0);

    let nested = dir.path().join("lib/nested.sql");
    std::fs::write(&nested, format!("{NESTED}-- an edit\n")).unwrap();
    let r = validate(&env);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(r.all().contains("001_main"), "{}", r.all());
    std::fs::write(&nested, NESTED).unwrap();
    assert_eq!(validate(&env).code, 0);

    let csv = dir.path().join("data/rows.csv");
    std::fs::write(&csv, format!("{ROWS}4,more,ok\n")).unwrap();
    assert_eq!(validate(&env).code, 4);
    std::fs::write(&csv, ROWS).unwrap();
    assert_eq!(validate(&env).code, 0);

    // The values are part of the text that ran.
    assert_eq!(validate(&[("PGBOOT_VAR_owner", "carol")]).code, 4);
}

#[test]
fn an_error_in_an_included_file_names_it_its_line_and_the_include() {
    let dir = tree(&[
        (
            "001_main.sql",
            "CREATE TABLE before_include (a int);\n\\ir lib/bad.sql\n",
        ),
        (
            "lib/bad.sql",
            "CREATE TABLE inside_include (a int);\nSELECT * FROM no_such_table;\n",
        ),
    ]);
    let db = cluster().create_db("psqlin_err");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let all = r.all();
    assert!(all.contains("lib/bad.sql:2:15"), "{all}");
    assert!(all.contains("included from"), "{all}");
    assert!(all.contains("001_main.sql:2"), "{all}");
    assert!(all.contains("no_such_table"), "{all}");
    assert_eq!(db.one("SELECT to_regclass('before_include')::text"), None);
    assert_eq!(db.one("SELECT to_regclass('inside_include')::text"), None);

    // A missing included file stops everything before anything runs.
    let dir = tree(&[
        ("001_ok.sql", "CREATE TABLE first_ok (a int);\n"),
        ("002_main.sql", "\\i lib/gone.sql\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.all().contains("gone.sql"), "{}", r.all());
    assert!(r.all().contains("included from"), "{}", r.all());
    assert_eq!(db.one("SELECT to_regclass('first_ok')::text"), None);
}

#[test]
fn an_undefined_variable_stops_the_run_before_anything_is_applied() {
    let dir = tree(&[
        ("001_ok.sql", "CREATE TABLE not_applied (a int);\n"),
        ("002_vars.sql", "SELECT 1;\nSELECT :'nope';\n"),
    ]);
    let db = cluster().create_db("psqlin_undef");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let all = r.all();
    assert!(all.contains("002_vars.sql:2"), "{all}");
    assert!(all.contains(":nope"), "{all}");
    assert_eq!(db.one("SELECT to_regclass('not_applied')::text"), None);
}

#[test]
fn vars_come_from_the_config_file_the_environment_and_flags_and_the_flag_wins() {
    let dir = tree(&[(
        "001_vars.sql",
        "CREATE TABLE :\"t\" (x int);\nINSERT INTO :\"t\" VALUES (:n);\n",
    )]);
    let conf = tempfile::tempdir().unwrap();
    let toml = conf.path().join("pgboot.toml");
    std::fs::write(&toml, "[vars]\nt = \"from_file\"\nn = \"41\"\n").unwrap();
    let toml = toml.to_str().unwrap();
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], &'a str);
    let cases: [Case; 3] = [
        (&[], &[], "from_file"),
        (&[("PGBOOT_VAR_t", "from_env")], &[], "from_env"),
        (
            &[("PGBOOT_VAR_t", "from_env")],
            &["--var", "t=from_flag", "--var", "n=42"],
            "from_flag",
        ),
    ];
    for (env, flags, table) in cases {
        let db = cluster().create_db("psqlin_vars");
        let mut args = vec!["--config", toml, "migrate"];
        args.extend_from_slice(flags);
        let r = pgboot_with(&db.url, dir.path(), env, &args);
        assert_eq!(r.code, 0, "{table}: {}", r.all());
        let n = if flags.is_empty() { "41" } else { "42" };
        assert_eq!(
            db.one(&format!("SELECT x::text FROM {table}")).as_deref(),
            Some(n),
            "{table}"
        );
    }
}

/// Every construct pgboot refuses exits 2 before anything runs, and its message (file:line and
/// the next step) is pinned by a snapshot.
#[test]
fn refused_constructs_are_pinned() {
    use crate::support::snap;
    let _s = snap::settings().bind_to_scope();
    let cases: [(&str, &str, &str); 8] = [
        (
            "connect",
            "001_a.sql",
            "CREATE TABLE a (id int);\n\\connect other\n",
        ),
        ("if", "001_a.sql", "\\if :flag\nSELECT 1;\n\\endif\n"),
        ("gset", "001_a.sql", "SELECT 1 AS one \\gset\n"),
        ("shell", "001_a.sql", "\\! rm -rf /\n"),
        (
            "copy_to_stdout",
            "001_a.sql",
            "CREATE TABLE a (id int);\nCOPY a TO STDOUT;\n",
        ),
        (
            "undefined_variable",
            "001_a.sql",
            "CREATE TABLE a (id int);\nSELECT :'who';\n",
        ),
        (
            "copy_to_file",
            "001_a.sql",
            "\\copy (SELECT 1) to 'out.csv'\n",
        ),
        ("shell_script", "00_init.sh", "#!/bin/sh\ncreatedb x\n"),
    ];
    for (label, name, text) in cases {
        let db = cluster().create_db("refused");
        let dir = migrations(&[(name, text)]);
        let r = pgboot(&db.url, dir.path(), &["migrate", "--log-format", "text"]);
        assert_eq!(r.code, 2, "{label}: {}", r.all());
        assert_eq!(
            db.count("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'schema_history')"),
            0,
            "{label}: nothing may be applied"
        );
        let error: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .collect();
        insta::assert_snapshot!(format!("refused_{label}"), error.join("\n"));
    }
}
