//! Flyway, golang-migrate, refinery and goose: their history tables built in the shape their
//! documentation gives, filled as the tool fills them.

use std::hash::{Hash, Hasher};

use super::*;

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

    let _s = snaps().bind_to_scope();
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
    // status names the tool: in the kind column, and as `adopted_from` (null for the others).
    let r = pgboot(&db.url, dir.path(), &["status"]);
    assert_eq!(status_words(&r, "V1__init", 3), "adopted (flyway) applied");
    assert_eq!(status_words(&r, "V2__gap", 3), "migrate pending yes");
    assert_eq!(
        r.stdout.find("STATE"),
        status_line(&r, "V1__init").find("applied"),
        "the columns stay aligned: {}",
        r.stdout
    );
    let v = json(&pgboot(&db.url, dir.path(), &["status", "--json"]));
    // By name (the order of status rows is not what this test is about).
    let from: std::collections::BTreeMap<&str, (&str, Option<&str>)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let kind = r["kind"].as_str().unwrap();
            assert!(r.get("adopted_from").is_some(), "{r}");
            (
                r["name"].as_str().unwrap(),
                (kind, r["adopted_from"].as_str()),
            )
        })
        .collect();
    let adopted = ("adopted", Some("flyway"));
    assert_eq!(
        from.into_iter().collect::<Vec<_>>(),
        [
            ("V1.1__add", adopted),
            ("V1__init", adopted),
            ("V2__gap", ("migrate", None)),
            ("V3__three", adopted),
            ("V4__new", ("migrate", None))
        ]
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "applied 2, already up to date 3");
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
    let _s = snaps().bind_to_scope();
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
    let _s = snaps().bind_to_scope();
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
    assert_contains(
        &r.stderr,
        "there is no table goose_db_version on the search_path",
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
    assert_contains(&r.stderr, "there is no table refinery_schema_history on the search_path, where refinery keeps its history");
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
    let _s = snaps().bind_to_scope();
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
    assert_contains(&r.stderr, "applied 2, already up to date 2");
    for n in 1..=4 {
        assert_eq!(db.count(&format!("SELECT count(*) FROM g{n}")), 1, "g{n}");
    }
}
