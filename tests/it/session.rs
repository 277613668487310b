//! Every file starts from a fresh session's state: what one file SETs (search_path,
//! statement_timeout, role, temporary objects) does not reach the next, the configured session
//! settings survive, and the history is always written as the connecting user.

use crate::support::*;

fn owner(db: &TestDb, table: &str) -> String {
    db.one(&format!(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'public.{table}'::regclass"
    ))
    .unwrap_or_default()
}

/// pg_dump's header empties search_path for the rest of the session.
const DUMP_HEADER: (&str, &str) = (
    "001_dump.sql",
    "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.a (id int);\n",
);
const UNQUALIFIED: (&str, &str) = ("002_b.sql", "CREATE TABLE b (id int);\n");

#[test]
fn a_run_ends_like_the_files_applied_in_separate_runs() {
    let together = cluster().create_db("together");
    let dir = migrations(&[DUMP_HEADER, UNQUALIFIED]);
    let r = pgboot(&together.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());

    let apart = cluster().create_db("apart");
    let first = migrations(&[DUMP_HEADER]);
    assert_eq!(pgboot(&apart.url, first.path(), &["migrate"]).code, 0);
    let r = pgboot(&apart.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        schema_only(&together.url, &["--no-owner"]),
        schema_only(&apart.url, &["--no-owner"])
    );
    assert_eq!(together.count("SELECT count(*) FROM public.b"), 0);
}

#[test]
fn a_set_statement_timeout_does_not_lift_the_configured_one_for_later_files() {
    let db = cluster().create_db("timeout_leak");
    let dir = migrations(&[
        (
            "001_lift.sql",
            "SET statement_timeout = 0;\nCREATE TABLE a (id int);\n",
        ),
        (
            "002_slow.sql",
            "CREATE TABLE slow (id int);\nSELECT pg_sleep(2);\n",
        ),
    ]);
    let r = pgboot(
        &db.url,
        dir.path(),
        &["migrate", "--statement-timeout", "500ms"],
    );
    assert_eq!(
        r.code,
        1,
        "002 is cancelled as if it ran alone: {}",
        r.all()
    );
    assert!(r.stderr.contains("57014"), "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pg_class WHERE relname = 'slow'"),
        0
    );
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 1);
}

#[test]
fn set_role_in_a_file_ends_with_the_file_and_history_is_written_as_the_connecting_user() {
    let db = cluster().create_db("set_role");
    let role = format!("{}_app", db.name);
    db.query(&format!(
        "CREATE ROLE {role} NOLOGIN; GRANT CREATE ON SCHEMA public TO {role}; GRANT CREATE ON DATABASE \"{}\" TO {role}",
        db.name
    ));
    let dir = migrations(&[
        (
            "001_as_app.sql",
            &format!("SET ROLE {role};\nCREATE TABLE owned_by_app (id int);\n"),
        ),
        ("002_after.sql", "CREATE TABLE owned_by_me (id int);\n"),
        (
            "003_no_tx.sql",
            &format!("-- pgboot:no-transaction\nSET ROLE {role};\nCREATE TABLE no_tx_app (id int);\nCREATE INDEX CONCURRENTLY no_tx_app_id ON no_tx_app (id);\nCREATE TABLE no_tx_app2 (id int);\n"),
        ),
        ("004_after.sql", "CREATE TABLE owned_by_me_too (id int);\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(owner(&db, "owned_by_app"), role);
    assert_eq!(owner(&db, "owned_by_me"), "postgres");
    // Within a non-transactional file the role holds from statement to statement, as in psql.
    assert_eq!(owner(&db, "no_tx_app"), role);
    assert_eq!(owner(&db, "no_tx_app2"), role);
    assert_eq!(owner(&db, "owned_by_me_too"), "postgres");
    assert_eq!(
        db.count(
            "SELECT count(*) FROM pgboot.schema_history WHERE success AND applied_by = 'postgres'"
        ),
        4
    );
    db.query(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
}

#[test]
fn temporary_objects_end_with_their_file() {
    let db = cluster().create_db("temp");
    let dir = migrations(&[
        ("001_temp.sql", "CREATE TEMP TABLE scratch (a int);\nINSERT INTO scratch VALUES (1);\n"),
        ("002_temp.sql", "CREATE TEMP TABLE scratch (a int);\nCREATE TABLE kept AS SELECT count(*) AS n FROM scratch;\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.one("SELECT n::text FROM kept").as_deref(), Some("0"));
}

/// Old pg_dump output turns standard_conforming_strings off and then writes 'it\'s': read the
/// way the server reads it, in a transactional file too, and back on for the next file.
#[test]
fn standard_conforming_strings_off_in_a_file() {
    let db = cluster().create_db("scs");
    let dir = migrations(&[
        (
            "001_old_dump.sql",
            "CREATE TABLE quotes (q text);\nSET standard_conforming_strings = off;\nINSERT INTO quotes VALUES ('it\\'s');\n",
        ),
        ("002_next.sql", "INSERT INTO quotes VALUES ('back\\slash');\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rows = db.query("SELECT q FROM quotes ORDER BY q");
    let rows: Vec<String> = rows.into_iter().map(|r| r[0].clone().unwrap()).collect();
    assert_eq!(rows, ["back\\slash", "it's"]);
}
