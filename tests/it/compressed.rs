//! Compressed migrations (`.sql.gz`, `.sql.xz`, `.sql.zst`) and refused `.sh` scripts, as
//! docker-entrypoint-initdb.d users bring them, against a real PostgreSQL.

use std::io::Write;
use std::path::Path;

use crate::support::*;

const LOG: &str = "CREATE TABLE IF NOT EXISTS order_log (n serial, name text);\n";

fn log_as(name: &str) -> String {
    format!("{LOG}INSERT INTO order_log (name) VALUES ('{name}');\nSELECT '{name} complete!' AS status;\n")
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn xz(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    lzma_rs::xz_compress(&mut text.as_bytes(), &mut out).unwrap();
    out
}

fn zstd(text: &str) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(text.as_bytes(), ruzstd::encoding::CompressionLevel::Fastest)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn applied(db: &TestDb) -> Vec<String> {
    db.query("SELECT name FROM pgboot.schema_history ORDER BY version, name")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

/// Whether the database has no pgboot history and no `order_log`: nothing was applied.
fn untouched(db: &TestDb) -> bool {
    db.one("SELECT (to_regclass('pgboot.schema_history') IS NULL AND to_regclass('public.order_log') IS NULL)::text")
        .as_deref()
        == Some("true")
}

#[test]
fn plain_gz_xz_and_zst_apply_in_order_and_recompressing_is_not_drift() {
    let db = cluster().create_db("compressed");
    let dir = migrations(&[("001_plain.sql", &log_as("001_plain"))]);
    let d = dir.path();
    write(d, "002_gzip.sql.gz", &gzip(&log_as("002_gzip")));
    write(d, "003_xz.up.sql.xz", &xz(&log_as("003_xz")));
    // CRLF inside the compressed text: normalised like a plain file's.
    write(
        d,
        "004_zstd.sql.zst",
        &zstd(&log_as("004_zstd").replace('\n', "\r\n")),
    );
    write(d, "004_zstd.down.sql.gz", &gzip("DROP TABLE order_log;\n"));

    let r = pgboot(&db.url, d, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 4, already up to date 0"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("down.sql"), "{}", r.stderr);
    let order: Vec<String> = db
        .query("SELECT name FROM order_log ORDER BY n")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(order, ["001_plain", "002_gzip", "003_xz", "004_zstd"]);
    assert_eq!(
        applied(&db),
        ["001_plain", "002_gzip", "003_xz", "004_zstd"]
    );

    // Compress the plain file, decompress the gzip one, change formats: the same migrations.
    std::fs::remove_file(d.join("001_plain.sql")).unwrap();
    write(d, "001_plain.sql.gz", &gzip(&log_as("001_plain")));
    std::fs::remove_file(d.join("002_gzip.sql.gz")).unwrap();
    write(d, "002_gzip.sql", log_as("002_gzip").as_bytes());
    std::fs::remove_file(d.join("003_xz.up.sql.xz")).unwrap();
    write(d, "003_xz.sql.zst", &zstd(&log_as("003_xz")));

    let v = pgboot(&db.url, d, &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
    let r = pgboot(&db.url, d, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 0, already up to date 4"),
        "{}",
        r.stderr
    );
    assert_eq!(db.count("SELECT count(*) FROM order_log"), 4);

    // A changed text inside a compressed file is drift like any other.
    std::fs::remove_file(d.join("001_plain.sql.gz")).unwrap();
    write(
        d,
        "001_plain.sql.gz",
        &gzip("CREATE TABLE other (id int);\n"),
    );
    let v = pgboot(&db.url, d, &["validate"]);
    assert_eq!(v.code, 4, "{}", v.all());
}

#[test]
fn a_file_and_its_compressed_copy_exit_2_naming_both() {
    let db = cluster().create_db("compressed_twice");
    let dir = migrations(&[("001_a.sql", &log_as("001_a"))]);
    write(dir.path(), "001_a.sql.gz", &gzip(&log_as("001_a")));
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("001_a.sql and ")
            && r.stderr
                .contains("001_a.sql.gz are the same migration 001_a"),
        "{}",
        r.stderr
    );
    assert!(untouched(&db));
}

#[test]
fn a_corrupt_or_truncated_file_exits_2_before_anything_is_applied() {
    let db = cluster().create_db("compressed_corrupt");
    let text = log_as("002_b").repeat(20);
    let mut corrupt = gzip(&text);
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x55;
    let zst = zstd(&text);
    let cases: [(&str, Vec<u8>); 3] = [
        ("002_b.sql.gz", corrupt),
        ("002_b.sql.xz", xz(&text)[..40].to_vec()),
        ("002_b.sql.zst", zst[..zst.len() - 3].to_vec()),
    ];
    for (name, bytes) in cases {
        let dir = migrations(&[
            ("001_a.sql", &log_as("001_a")),
            ("003_c.sql", &log_as("003_c")),
        ]);
        write(dir.path(), name, &bytes);
        let r = pgboot(&db.url, dir.path(), &["migrate"]);
        assert_eq!(r.code, 2, "{name}: {}", r.all());
        assert!(
            r.stderr.contains(name) && r.stderr.contains("corrupt or truncated"),
            "{name}: {}",
            r.stderr
        );
        assert!(untouched(&db), "{name}: something was applied");
    }
}

#[test]
fn a_shell_script_exits_2_naming_it() {
    let db = cluster().create_db("shell_script");
    let dir = migrations(&[
        ("001_a.sql", &log_as("001_a")),
        (
            "002_create_users.sh",
            "#!/bin/sh\npsql -v ON_ERROR_STOP=1 -c 'CREATE ROLE app'\n",
        ),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    for hint in [
        "002_create_users.sh",
        "does not run shell scripts",
        "--create-database",
        "--create-database",
    ] {
        assert!(r.stderr.contains(hint), "{hint}: {}", r.stderr);
    }
    assert!(untouched(&db));
    // validate refuses it too: no command reads past it.
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 2, "{}", v.all());
}
