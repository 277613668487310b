//! plan, repair, invalid indexes and --create-database against a real PostgreSQL (baseline:
//! baseline.rs).

use crate::support::*;

#[test]
fn failed_unique_index_concurrently_is_reported_and_repaired() {
    let db = cluster().create_db("invalidx");
    let dir = migrations(&[
        ("001_data.sql", "CREATE TABLE accounts (email text);\nINSERT INTO accounts VALUES ('a@x'), ('a@x'), ('b@x');\n"),
        ("002_unique.sql", "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_key ON accounts (email);\n"),
    ]);
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.all());
    // 23505 and the advice `DROP INDEX CONCURRENTLY IF EXISTS "public"."accounts_email_key";`
    insta::assert_snapshot!("unique_index_concurrently_fails", r.stderr);
    assert_eq!(db.one("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass").as_deref(), Some("false"));

    let s = pgboot(&db.url, dir.path(), &["status"]);
    assert!(s.stdout.contains("failed"), "{}", s.stdout);
    assert!(
        s.stderr.contains("invalid index public.accounts_email_key")
            && s.stderr.contains("DROP INDEX CONCURRENTLY"),
        "{}",
        s.stderr
    );
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 4, "{}", v.all());
    insta::assert_snapshot!("validate_invalid_index", v.stderr);

    let dry = pgboot(
        &db.url,
        dir.path(),
        &["repair", "--drop-invalid-indexes", "--all-failed"],
    );
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert!(
        dry.stdout.contains("--yes") && dry.stdout.contains("accounts_email_key"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'accounts_email_key'"),
        1,
        "changed without --yes"
    );

    db.query(
        "DELETE FROM accounts WHERE ctid = (SELECT max(ctid) FROM accounts WHERE email = 'a@x')",
    );
    let r = pgboot(
        &db.url,
        dir.path(),
        &[
            "repair",
            "--drop-invalid-indexes",
            "--all-failed",
            "--yes",
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let j: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    // Two actions: drop the invalid index, delete the failed row.
    insta::assert_json_snapshot!("repair_json", j);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'accounts_email_key'"),
        0
    );

    let r = pgboot(&db.url, dir.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.one("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'accounts_email_key'::regclass").as_deref(), Some("true"));
}

#[test]
fn repair_rerecords_drifted_checksums_only_with_yes() {
    let db = cluster().create_db("repairdrift");
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);\n")]);
    assert_eq!(pgboot(&db.url, dir.path(), &[]).code, 0);
    std::fs::write(
        dir.path().join("001_a.sql"),
        "-- reformatted by a human\nCREATE TABLE a (id int);\n",
    )
    .unwrap();
    assert_eq!(pgboot(&db.url, dir.path(), &[]).code, 4);

    let r = pgboot(&db.url, dir.path(), &["repair", "001_a"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout.contains("re-record checksum sha256-lf:") && r.stdout.contains(" -> sha256-lf:"),
        "{}",
        r.stdout
    );
    assert_eq!(
        pgboot(&db.url, dir.path(), &[]).code,
        4,
        "repaired without --yes"
    );

    let r = pgboot(&db.url, dir.path(), &["repair", "--all-drifted", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(pgboot(&db.url, dir.path(), &[]).code, 0);

    let r = pgboot(&db.url, dir.path(), &["repair", "001_a", "--yes"]);
    assert_eq!(r.code, 2, "an applied file needs no repair: {}", r.all());
    let r = pgboot(&db.url, dir.path(), &["repair"]);
    assert_eq!(r.code, 2, "{}", r.all());
}

#[test]
fn plan_and_migrate_agree_on_a_mixed_directory() {
    let db = cluster().create_db("plan");
    let dir = migrations(&[
        ("001_tx.sql", "CREATE TABLE t (id int, v text);\n"),
        ("002_cic.sql", "-- build without blocking writes\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_v ON t (v);\n"),
        ("003_own.sql", "BEGIN;\nALTER TABLE t ADD COLUMN w int;\nCOMMIT;\n"),
        ("004_directive.sql", "-- pgboot:no-transaction\nALTER TABLE t ADD COLUMN x int;\n"),
        ("005_trap.sql", "SELECT 'VACUUM' AS status;\n"),
    ]);
    let p = pgboot(&db.url, dir.path(), &["plan", "--json"]);
    assert_eq!(p.code, 0, "{}", p.all());
    let plan: serde_json::Value = serde_json::from_str(p.stdout.trim()).unwrap();
    let _s = snap::settings().bind_to_scope();
    // Five pending files; 002 with no_transaction_line 2, "CREATE INDEX CONCURRENTLY".
    insta::assert_json_snapshot!("plan_json", plan);
    let dry = pgboot(&db.url, dir.path(), &["migrate", "--dry-run", "--json"]);
    assert_eq!(dry.code, 0, "{}", dry.all());
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(dry.stdout.trim()).unwrap(),
        plan,
        "plan and migrate --dry-run differ"
    );
    assert_eq!(
        db.one("SELECT to_regclass('t')::text"),
        None,
        "plan changed something"
    );
    let pending = plan["pending"].as_array().unwrap();

    let text = pgboot(&db.url, dir.path(), &["plan"]);
    assert!(
        text.stdout.contains("line 2 has CREATE INDEX CONCURRENTLY")
            && text.stdout.contains("checks that would stop the run: none"),
        "{}",
        text.stdout
    );

    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let recorded: Vec<(String, bool)> = db
        .query("SELECT name, transactional FROM pgboot.schema_history ORDER BY version")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].as_deref() == Some("t")))
        .collect();
    let planned: Vec<(String, bool)> = pending
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["transactional"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recorded, planned,
        "migrate ran the files differently from the plan"
    );

    // A drifted file stops both the same way.
    std::fs::write(
        dir.path().join("001_tx.sql"),
        "CREATE TABLE t (id bigint);\n",
    )
    .unwrap();
    let p = pgboot(&db.url, dir.path(), &["plan"]);
    let m = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!((p.code, m.code), (4, 4), "{}\n{}", p.all(), m.all());
    assert!(
        p.stdout.contains("001_tx") && p.stdout.contains("checks that would stop the run:"),
        "{}",
        p.stdout
    );
}

#[test]
fn create_database_with_template_and_without_createdb() {
    let c = cluster();
    let tpl = c.create_db("tpl");
    tpl.query("CREATE TABLE from_template (id int)");
    let name = unique("created");
    let _created = c.drop_on_exit(&name);
    let url = c.url(&name);
    let dir = migrations(&[("001_a.sql", "CREATE TABLE a (id int);")]);

    let p = pgboot(&url, dir.path(), &["plan", "--create-database"]);
    assert_eq!(p.code, 0, "{}", p.all());
    assert!(p.stdout.contains("would create"), "{}", p.stdout);
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 5, "{}", r.all());
    insta::assert_snapshot!("missing_database_without_create_database", r.stderr);

    let r = pgboot(
        &url,
        dir.path(),
        &["migrate", "--create-database", "--template", &tpl.name],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        query(
            &url,
            "SELECT to_regclass('from_template')::text, to_regclass('a')::text"
        )[0],
        vec![Some("from_template".to_owned()), Some("a".to_owned())]
    );
    let r = pgboot(&url, dir.path(), &["migrate", "--create-database"]);
    assert_eq!(r.code, 0, "an existing database is fine: {}", r.all());

    let role = unique("nocreatedb");
    query(
        &c.url("postgres"),
        &format!("CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"),
    );
    let _never = c.drop_on_exit(&format!("never_{role}"));
    let url = format!(
        "postgres://{role}:{PASSWORD}@127.0.0.1:{}/never_{role}?sslmode=disable",
        c.port
    );
    let r = pgboot(&url, dir.path(), &["migrate", "--create-database"]);
    query(&c.url("postgres"), &format!("DROP ROLE {role}"));
    assert_eq!(r.code, 5, "{}", r.all());
    insta::assert_snapshot!("create_database_without_createdb", r.stderr);
    assert!(!r.all().contains(PASSWORD));
}
