//! Unit tests of `format`: what runs of each tool's files.

use super::*;

fn up(text: &str) -> (Format, &str, usize, Option<(String, usize)>) {
    let c = cut(text, Format::Pgboot).unwrap();
    (c.format, c.up, c.first_line, c.no_transaction)
}

fn err(text: &str) -> FormatError {
    cut(text, Format::Pgboot).unwrap_err()
}

#[test]
fn plain_files_run_whole() {
    let t = "CREATE TABLE t (id int);\n-- a comment about migrate\n";
    assert_eq!(up(t), (Format::Pgboot, t, 1, None));
    let c = cut(t, Format::UpSql).unwrap();
    assert_eq!((c.format, c.up), (Format::UpSql, t));
}

#[test]
fn dbmate_runs_only_its_up_section() {
    let t = "-- migrate:up\ncreate table if not exists llm_cache (key text primary key);\n\n-- migrate:down\ndrop table if exists llm_cache;\n";
    let (f, u, line, nt) = up(t);
    assert_eq!(f, Format::Dbmate);
    assert_eq!(
        u,
        "create table if not exists llm_cache (key text primary key);\n\n"
    );
    assert!(!u.contains("drop"));
    assert_eq!((line, nt), (2, None));
}

#[test]
fn dbmate_transaction_false_and_leading_comments() {
    let t = "-- created by dbmate\n\n--migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n--migrate:down\nDROP INDEX i;\n";
    let (f, u, line, nt) = up(t);
    assert_eq!(f, Format::Dbmate);
    assert_eq!(u, "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    assert_eq!(line, 4);
    assert_eq!(nt, Some(("--migrate:up transaction:false".into(), 3)));
}

#[test]
fn dbmate_up_only_and_no_trailing_newline() {
    let (f, u, line, _) = up("-- migrate:up\nSELECT 1;");
    assert_eq!((f, u, line), (Format::Dbmate, "SELECT 1;", 2));
}

#[test]
fn goose_sections_are_case_insensitive() {
    let t = "-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n-- +goose StatementEnd\n-- +goose down\nDROP FUNCTION f();\n";
    let (f, u, line, nt) = up(t);
    assert_eq!(f, Format::Goose);
    assert!(u.starts_with("-- +goose StatementBegin\nCREATE FUNCTION"));
    assert!(!u.contains("DROP"));
    assert_eq!(line, 3);
    assert_eq!(nt, Some(("-- +goose NO TRANSACTION".into(), 1)));
    let (f, u, _, nt) = up("-- +goose up\nSELECT 1;\n-- +GOOSE DOWN\nSELECT 2;\n");
    assert_eq!((f, u, nt), (Format::Goose, "SELECT 1;\n", None));
}

#[test]
fn sql_migrate_notransaction() {
    let t = "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- +migrate Down\nDROP INDEX i;\n";
    let (f, u, line, nt) = up(t);
    assert_eq!(f, Format::SqlMigrate);
    assert_eq!(u, "CREATE INDEX CONCURRENTLY i ON t (a);\n");
    assert_eq!(line, 2);
    assert_eq!(nt.map(|x| x.1), Some(1));
}

#[test]
fn a_down_section_never_runs() {
    // Down without up: refused, not run whole.
    let e = err("DROP TABLE t;\n-- migrate:down\nDROP TABLE u;\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("without an up marker"), "{}", e.message);
    let e = err("-- +goose Down\nDROP TABLE t;\n-- +goose Up\nCREATE TABLE t ();\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("without an up marker") || e.message.contains("before the up"));
}

#[test]
fn refusals_name_the_line() {
    let e = err("CREATE TABLE t ();\n-- migrate:up\nSELECT 1;\n");
    assert_eq!(e.line, 1);
    assert!(
        e.message.contains("before the up marker on line 2"),
        "{}",
        e.message
    );
    let e = err("-- migrate:up\nSELECT 1;\n-- migrate:up\nSELECT 2;\n");
    assert_eq!(e.line, 3);
    let e = err("-- migrate:up\nSELECT 1;\n-- +goose Down\n");
    assert_eq!(e.line, 3);
    assert!(e.message.contains("one tool's markers"), "{}", e.message);
    let e = err("-- migrate:up transaction:maybe\nSELECT 1;\n");
    assert_eq!(e.line, 1);
    assert!(e.message.contains("transaction:false"), "{}", e.message);
    let e = err("-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("PGBOOT_VAR_"), "{}", e.message);
    let e = err("-- +goose Up\n-- +goose Sideways\n");
    assert_eq!(e.line, 2);
    // A block comment before the marker is fine.
    assert!(cut(
        "/* header\n SELECT */\n-- migrate:up\nSELECT 1;\n",
        Format::Pgboot
    )
    .is_ok());
}

#[test]
fn markers_only_at_the_start_of_a_line() {
    let t = "SELECT 1; -- migrate:down\n  -- +goose Down\nSELECT 2;\n";
    assert_eq!(up(t), (Format::Pgboot, t, 1, None));
    // `-- migrate:downgrade` is not a marker.
    let t = "-- migrate:downgrade notes\nSELECT 1;\n";
    assert_eq!(up(t).0, Format::Pgboot);
}

#[test]
fn flyway_placeholders_are_refused() {
    let e = cut("SELECT 1;\nCREATE SCHEMA ${schema_name};\n", Format::Flyway).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains(":'schema_name'"), "{}", e.message);
    assert!(cut("SELECT '${not closed';\n", Format::Flyway).is_ok());
    // Only Flyway replaces them.
    assert!(cut("SELECT '${x}';\n", Format::Pgboot).is_ok());
}

#[test]
fn versions_order_as_numbers() {
    assert_eq!(version_parts("1.10"), Some(vec![1, 10]));
    assert_eq!(version_parts("1_10"), Some(vec![1, 10]));
    assert_eq!(version_parts("1.0"), Some(vec![1]));
    assert_eq!(version_parts("001"), Some(vec![1]));
    assert!(version_parts("1.9") < version_parts("1.10"));
    assert!(version_parts("2") > version_parts("1.10"));
    assert_eq!(version_parts("1..2"), None);
    assert_eq!(version_parts("1.a"), None);
    assert_eq!(version_parts(""), None);
}
