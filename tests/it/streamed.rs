//! Large files are streamed (issue 10): read at discovery and again as they run, never held
//! whole. The threshold is lowered with the hidden `PGBOOT_STREAM_THRESHOLD` so the files stay
//! small enough for a fast test, yet larger than the splitter's 1 MiB chunk, so COPY rows and
//! statements cross chunk boundaries.

use crate::support::*;

use std::io::Write;
use std::path::Path;

/// pgboot with files over 4 KiB streamed.
fn streamed(url: &str, dir: &Path, args: &[&str]) -> Run {
    pgboot_cmd()
        .env("DATABASE_URL", url)
        .env("PGBOOT_MIGRATIONS", dir)
        .env("PGBOOT_STREAM_THRESHOLD", "4096")
        .args(args)
        .output()
        .unwrap()
        .into()
}

/// A pg_dump-like file: a table, `rows` COPY rows (one of them `bad` when given: its line is
/// returned), an index, a status row.
fn dump(rows: usize, bad: Option<usize>) -> (String, usize) {
    let mut s = String::from(
        "\\restrict k\nSET client_encoding = 'UTF8';\nCREATE TABLE items (id int PRIMARY KEY, note text);\nCOPY items (id, note) FROM stdin;\n",
    );
    let mut bad_line = 0;
    for i in 0..rows {
        if Some(i) == bad {
            bad_line = 5 + i;
            s.push_str("not-a-number\tbad\n");
        } else {
            s.push_str(&format!("{i}\tnote {i}: tab\\there, it's fine\n"));
        }
    }
    s.push_str("\\.\nCREATE INDEX items_note ON items (note);\n\\unrestrict k\n");
    (s, bad_line)
}

fn gzip(path: &Path, text: &str) {
    let f = std::fs::File::create(path).unwrap();
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap();
}

#[test]
fn a_large_dump_streams_and_checksums_like_the_file_held_in_memory() {
    let (text, _) = dump(120_000, None);
    assert!(text.len() > 2 << 20, "{}", text.len());
    let dir = migrations(&[("001_dump.sql", &text)]);
    let gz = tempfile::tempdir().unwrap();
    gzip(&gz.path().join("001_dump.sql.gz"), &text);
    let (a, b, c) = (
        cluster().create_db("stream_plain"),
        cluster().create_db("stream_gz"),
        cluster().create_db("in_memory"),
    );
    // plan and validate report the file's decisions without holding it.
    let plan = streamed(&a.url, dir.path(), &["plan", "--json"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let f = &plan["pending"][0];
    assert_eq!(f["streamed"], true, "{f}");
    assert_eq!(
        f["copy_blocks"],
        serde_json::json!([{"line": 4, "rows": 120000}])
    );
    assert_eq!(
        f["ignored"],
        serde_json::json!(["\\restrict (line 1)", "\\unrestrict (line 120007)"])
    );
    let v = streamed(&a.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(
        v.stderr.contains(
            "pending 001_dump: in a transaction; large: streamed, not held in memory; COPY data: 1 block(s), 120000 row(s), at line 4; not run: \\restrict (line 1), \\unrestrict (line 120007)"
        ),
        "{}",
        v.stderr
    );
    for (db, d) in [(&a, dir.path()), (&b, gz.path())] {
        let r = streamed(&db.url, d, &["migrate"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(db.count("SELECT count(*) FROM items"), 120_000);
        assert_eq!(
            db.one("SELECT note FROM items WHERE id = 7").unwrap(),
            "note 7: tab\there, it's fine"
        );
    }
    let r = pgboot(&c.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let sum = "SELECT checksum FROM pgboot.schema_history";
    assert_eq!(a.one(sum), c.one(sum));
    assert_eq!(b.one(sum), c.one(sum));
    assert_eq!(schema_only(&a.url, &[]), schema_only(&c.url, &[]));
    // Applied streamed, validated held in memory (and the other way): no drift.
    assert_eq!(pgboot(&a.url, gz.path(), &["validate"]).code, 0);
    assert_eq!(streamed(&c.url, dir.path(), &["validate"]).code, 0);
}

#[test]
fn a_bad_copy_row_in_a_streamed_file_is_reported_at_its_own_line() {
    let (text, line) = dump(100_000, Some(90_000));
    let gz = tempfile::tempdir().unwrap();
    gzip(&gz.path().join("001_dump.sql.gz"), &text);
    let db = cluster().create_db("stream_bad_row");
    let r = streamed(&db.url, gz.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let at = format!("001_dump.sql.gz:{line}");
    assert!(r.stderr.contains(&at), "{at}: {}", r.stderr);
    assert!(
        r.stderr.contains("invalid input syntax for type integer"),
        "{}",
        r.stderr
    );
    // The report shows the row, read again from the file.
    assert!(r.stderr.contains("not-a-number"), "{}", r.stderr);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    assert_eq!(db.one("SELECT to_regclass('items')::text"), None);
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 0);
}

#[test]
fn a_statement_error_past_the_first_megabyte_points_at_its_line_and_column() {
    let mut text = String::from("CREATE TABLE t (id int, v text);\n");
    for i in 0..40_000 {
        text.push_str(&format!("INSERT INTO t VALUES ({i}, 'value {i}');\n"));
    }
    let line = 40_002;
    text.push_str("INSERT INTO t VALUES (1, 'x'); SELECT nope FROM t;\nSELECT 1;\n");
    assert!(text.len() > 1 << 20);
    let dir = migrations(&[("001_inserts.sql", &text)]);
    let db = cluster().create_db("stream_sql_error");
    let r = streamed(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    let at = format!("001_inserts.sql:{line}:39");
    assert!(r.stderr.contains(&at), "{at}: {}", r.stderr);
    assert!(
        r.stderr.contains("column \"nope\" does not exist"),
        "{}",
        r.stderr
    );
    assert_eq!(db.one("SELECT to_regclass('t')::text"), None);
}

#[test]
fn a_large_file_with_psql_input_or_no_transaction_is_held_in_memory_and_still_runs() {
    let mut text = String::from("\\set n 3\nCREATE TABLE t (id int);\n");
    for i in 0..2000 {
        text.push_str(&format!("INSERT INTO t VALUES ({i} + :n);\n"));
    }
    text.push_str("CREATE INDEX CONCURRENTLY t_id ON t (id);\n");
    let dir = migrations(&[("001_vars.sql", &text)]);
    let db = cluster().create_db("stream_fallback");
    let plan = streamed(&db.url, dir.path(), &["plan", "--json"]);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    assert_eq!(plan["pending"][0]["streamed"], serde_json::Value::Null);
    assert_eq!(plan["pending"][0]["transactional"], false);
    let r = streamed(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.count("SELECT count(*) FROM t WHERE id >= 3"), 2000);
}

#[test]
fn a_streamed_file_that_changes_during_the_run_is_rolled_back() {
    let (text, _) = dump(2_000, None);
    let dir = migrations(&[
        ("001_wait.sql", "SELECT pg_sleep(3);\n"),
        ("002_dump.sql", &text),
    ]);
    let db = cluster().create_db("stream_changed");
    let child = pgboot_cmd()
        .env("DATABASE_URL", &db.url)
        .env("PGBOOT_MIGRATIONS", dir.path())
        .env("PGBOOT_STREAM_THRESHOLD", "4096")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Discovery is done long before 001's sleep ends; 002 is read again after it.
    sleep_ms(1500);
    std::fs::write(
        dir.path().join("002_dump.sql"),
        text.replace("note 7:", "note 8:"),
    )
    .unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("002_dump.sql: the file changed while pgboot was running"),
        "{}",
        r.stderr
    );
    assert_eq!(db.one("SELECT to_regclass('items')::text"), None);
    assert_eq!(
        db.one("SELECT string_agg(name, ',') FROM pgboot.schema_history"),
        Some("001_wait".into())
    );
}

#[test]
fn standard_conforming_strings_off_in_a_streamed_file_reads_later_strings_with_escapes() {
    let mut text = String::from("CREATE TABLE s (v text);\n");
    for i in 0..500 {
        text.push_str(&format!("INSERT INTO s VALUES ('plain {i}');\n"));
    }
    text.push_str("SET standard_conforming_strings = off;\nINSERT INTO s VALUES ('it\\'s');\n");
    text.push_str("SET standard_conforming_strings = on;\nINSERT INTO s VALUES ('back\\slash');\n");
    let dir = migrations(&[("001_scs.sql", &text)]);
    let db = cluster().create_db("stream_scs");
    let plan = streamed(&db.url, dir.path(), &["plan", "--json"]);
    assert!(plan.stdout.contains("\"streamed\":true"), "{}", plan.all());
    let r = streamed(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.count("SELECT count(*) FROM s WHERE v = 'it''s'"), 1);
    assert_eq!(
        db.count("SELECT count(*) FROM s WHERE v = 'back\\slash'"),
        1
    );
}
