//! Other tools' migration files (dbmate, goose, Flyway names) applied to databases whose tables
//! already hold rows: only the up sections run, nothing is dropped, the right files apply.

use crate::support::*;

const LLM_CACHE_DBMATE: &str = "-- migrate:up
create table if not exists llm_cache (key text primary key, value text not null);

-- migrate:down
drop table if exists llm_cache;
";

fn history(db: &TestDb) -> Vec<(String, String)> {
    db.query("SELECT name, transactional::text FROM pgboot.schema_history ORDER BY version, name")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
}

#[test]
fn dbmate_down_sections_never_run() {
    let db = cluster().create_db("fmt_dbmate");
    db.query("CREATE TABLE llm_cache (key text PRIMARY KEY, value text NOT NULL); INSERT INTO llm_cache SELECT g::text, 'v' || g FROM generate_series(1, 1000) g");
    let dir = migrations(&[
        ("20240101000000_llm_cache.sql", LLM_CACHE_DBMATE),
        (
            "20240102000000_cache_index.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY IF NOT EXISTS llm_cache_value ON llm_cache (value);\n\n-- migrate:down\nDROP INDEX llm_cache_value;\nDROP TABLE llm_cache;\n",
        ),
    ]);
    let plan = pgboot(&db.url, dir.path(), &["plan", "--json"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let files = v["pending"].as_array().unwrap();
    assert_eq!(files[0]["format"], "dbmate");
    assert_eq!(files[0]["transactional"], true);
    assert_eq!(files[1]["transactional"], false);
    assert_eq!(files[1]["no_transaction_line"], 1);
    let text = pgboot(&db.url, dir.path(), &["plan"]);
    assert!(
        text.stdout
            .contains("format dbmate: only its up section runs"),
        "{}",
        text.stdout
    );

    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.count("SELECT count(*) FROM llm_cache"), 1000);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_indexes WHERE indexname = 'llm_cache_value'"),
        1
    );
    assert_eq!(
        history(&db),
        [
            ("20240101000000_llm_cache".into(), "true".into()),
            ("20240102000000_cache_index".into(), "false".into())
        ]
    );

    // Editing a down section is not drift: the checksum covers what runs.
    let f = dir.path().join("20240101000000_llm_cache.sql");
    std::fs::write(
        &f,
        LLM_CACHE_DBMATE.replace("drop table if exists llm_cache;", "drop table llm_cache;"),
    )
    .unwrap();
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
    // Editing the up section is.
    std::fs::write(
        &f,
        LLM_CACHE_DBMATE.replace("value text not null", "value text"),
    )
    .unwrap();
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 4, "{}", v.all());
}

#[test]
fn a_failing_statement_is_reported_at_its_line_in_the_file() {
    let db = cluster().create_db("fmt_line");
    let dir = migrations(&[(
        "20240101000000_bad.sql",
        "-- comment\n-- migrate:up\nCREATE TABLE a (id int);\nSELECT * FROM missing_table;\n-- migrate:down\nDROP TABLE a;\n",
    )]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(
        r.stderr.contains("20240101000000_bad.sql:4:"),
        "{}",
        r.stderr
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'a'"),
        0
    );
}

#[test]
fn goose_up_sections_and_no_transaction() {
    let db = cluster().create_db("fmt_goose");
    db.query("CREATE TABLE accounts (id int PRIMARY KEY, name text); INSERT INTO accounts SELECT g, 'a' || g FROM generate_series(1, 50) g");
    let dir = migrations(&[
        (
            "00001_accounts.sql",
            "-- +goose Up\nCREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, name text);\n-- +goose StatementBegin\nCREATE OR REPLACE FUNCTION account_count() RETURNS bigint AS $$\nBEGIN\n  RETURN (SELECT count(*) FROM accounts);\nEND;\n$$ LANGUAGE plpgsql;\n-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\nDROP FUNCTION account_count();\n-- +goose StatementEnd\nDROP TABLE accounts;\n",
        ),
        (
            "00002_accounts_name.sql",
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_name ON accounts (name);\n-- +goose Down\nDROP INDEX CONCURRENTLY accounts_name;\n",
        ),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.one("SELECT account_count()::text").unwrap(), "50");
    assert_eq!(
        db.count("SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_name'"),
        1
    );
    assert_eq!(
        history(&db),
        [
            ("00001_accounts".into(), "true".into()),
            ("00002_accounts_name".into(), "false".into())
        ]
    );
}

#[test]
fn flyway_names_run_in_version_order() {
    let db = cluster().create_db("fmt_flyway");
    db.query("CREATE TABLE order_log (n serial, name text); INSERT INTO order_log (name) VALUES ('before')");
    let log = |n: &str| format!("INSERT INTO order_log (name) VALUES ('{n}');\n");
    let dir = migrations(&[
        ("V1.10__c.sql", &log("1.10")),
        ("V2__d.sql", &log("2")),
        ("V1__a.sql", &log("1")),
        ("V1.9__b.sql", &log("1.9")),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let order: Vec<String> = db
        .query("SELECT name FROM order_log ORDER BY n")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(order, ["before", "1", "1.9", "1.10", "2"]);
    // V2.1 is not "out of order" although its history version (2) equals the newest; V1.11 is.
    std::fs::write(dir.path().join("V2.1__e.sql"), log("2.1")).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stderr.contains("older than"), "{}", r.stderr);
    std::fs::write(dir.path().join("V1.11__late.sql"), log("1.11")).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("older than the newest applied"),
        "{}",
        r.stderr
    );
}

#[test]
fn refused_files_apply_nothing() {
    for (file, text, expect) in [
        // Repeatable files run (tests/it/repeatable.rs), with Flyway's rules for placeholders.
        (
            "R__views.sql",
            "CREATE OR REPLACE VIEW ${v} AS SELECT 1;\n",
            "R__views.sql:1: Flyway placeholder ${v}",
        ),
        ("U2__undo.sql", "DROP TABLE t;\n", "undo"),
        (
            "20240101000000_down_only.sql",
            "-- migrate:down\nDROP TABLE t;\n",
            "20240101000000_down_only.sql:1: a dbmate file without an up marker",
        ),
        (
            "V3__placeholder.sql",
            "CREATE SCHEMA ${tenant};\n",
            "V3__placeholder.sql:1: Flyway placeholder ${tenant}",
        ),
    ] {
        let db = cluster().create_db("fmt_refused");
        db.query("CREATE TABLE t (id int); INSERT INTO t VALUES (1)");
        let dir = migrations(&[("V1__ok.sql", "CREATE TABLE ok (id int);\n"), (file, text)]);
        let r = pgboot(&db.url, dir.path(), &["migrate"]);
        assert_eq!(r.code, 2, "{file}: {}", r.all());
        assert!(r.stderr.contains(expect), "{file}: {}", r.stderr);
        assert_eq!(db.count("SELECT count(*) FROM t"), 1);
        assert_eq!(
            db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboot'"),
            0,
            "{file}"
        );
    }
}

#[test]
fn a_large_file_with_sections_is_cut_not_streamed() {
    let db = cluster().create_db("fmt_large");
    db.query("CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT g, 'x' FROM generate_series(1, 10) g");
    // Over the (lowered) streaming threshold, with its down section at the end.
    let mut text = String::from("-- migrate:up\n");
    for i in 11..2000 {
        text.push_str(&format!(
            "INSERT INTO big VALUES ({i}, 'y') ON CONFLICT DO NOTHING;\n"
        ));
    }
    text.push_str("-- migrate:down\nDROP TABLE big;\n");
    let dir = migrations(&[("20240101000000_big.sql", &text)]);
    let r = run(pgboot_cmd()
        .env("DATABASE_URL", &db.url)
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_STREAM_THRESHOLD", "4096")
        .arg("migrate"));
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.count("SELECT count(*) FROM big"), 1999);
}
