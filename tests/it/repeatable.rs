//! Repeatable migrations (`R__<name>.sql`) against a real PostgreSQL: re-applied when changed,
//! once; a failing one rolls back alone; `-- pgboot:always` runs on every migrate; `verify`
//! proves the repository's migrations plus repeatables idempotent.

use crate::support::*;

const TABLES: &str = "CREATE TABLE IF NOT EXISTS t (a int);\n\
CREATE TABLE IF NOT EXISTS runs (n serial, name text);\n";

/// A repeatable view that also logs each application (so the test can count them).
fn view(value: i32) -> String {
    format!(
        "CREATE OR REPLACE VIEW v AS SELECT {value} AS x;\nINSERT INTO runs (name) VALUES ('v{value}');\n"
    )
}

fn runs(db: &TestDb) -> Vec<String> {
    db.query("SELECT name FROM runs ORDER BY n")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

fn status(db: &TestDb, dir: &std::path::Path) -> Vec<serde_json::Value> {
    let s = pgboot(&db.url, dir, &["status", "--json"]);
    assert_eq!(s.code, 0, "{}", s.all());
    serde_json::from_str(s.stdout.trim()).unwrap()
}

fn row<'a>(rows: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no status row {name}: {rows:?}"))
}

#[test]
fn changed_view_is_applied_again_once_and_not_on_the_third_run() {
    let db = cluster().create_db("rep_changed");
    let dir = migrations(&[("001_tables.sql", TABLES), ("R__views.sql", &view(1))]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(db.one("SELECT x::text FROM v").as_deref(), Some("1"));
    assert_eq!(runs(&db), ["v1"]);
    assert!(
        r.stderr.contains("applied 2, already up to date 0"),
        "{}",
        r.stderr
    );
    let history = "SELECT name, kind, version::text FROM pgboot.schema_history ORDER BY name";
    assert_eq!(
        db.query(history),
        [
            [
                Some("001_tables".into()),
                Some("migrate".into()),
                Some("1".into())
            ],
            [
                Some("R__views".into()),
                Some("repeatable".into()),
                Some("0".into())
            ]
        ]
    );

    // Changed: not drift. validate agrees, status and plan say it will run again.
    std::fs::write(dir.path().join("R__views.sql"), view(2)).unwrap();
    let v = pgboot(&db.url, dir.path(), &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
    assert!(v.stderr.contains("1 repeatable"), "{}", v.stderr);
    let rows = status(&db, dir.path());
    let rep = row(&rows, "R__views");
    assert_eq!(
        (&rep["kind"], &rep["state"], &rep["will_run"]),
        (&"repeatable".into(), &"changed".into(), &true.into())
    );
    assert_eq!(row(&rows, "001_tables")["kind"], "migrate");
    let p = pgboot(&db.url, dir.path(), &["plan", "--json"]);
    assert_eq!(p.code, 0, "{}", p.all());
    let plan: serde_json::Value = serde_json::from_str(p.stdout.trim()).unwrap();
    assert_eq!(plan["pending"][0]["name"], "R__views");
    assert_eq!(plan["pending"][0]["kind"], "repeatable");
    assert_eq!(plan["pending"][0]["reason"], "changed");

    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("changed since it was last applied"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("applied 1, already up to date 1"),
        "{}",
        r.stderr
    );
    assert_eq!(db.one("SELECT x::text FROM v").as_deref(), Some("2"));
    assert_eq!(runs(&db), ["v1", "v2"]);
    // One row per repeatable, now with the checksum it applied.
    let checksum = db.one("SELECT checksum FROM pgboot.schema_history WHERE name = 'R__views'");
    assert_eq!(
        checksum.as_deref(),
        Some(row(&rows, "R__views")["checksum"].as_str().unwrap())
    );
    assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 2);

    // Third run: nothing changed, nothing runs.
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 0, already up to date 2"),
        "{}",
        r.stderr
    );
    assert_eq!(runs(&db), ["v1", "v2"]);
    let rows = status(&db, dir.path());
    assert_eq!(row(&rows, "R__views")["will_run"], false);
    let p = pgboot(&db.url, dir.path(), &["plan"]);
    assert!(
        p.stdout.contains("R__views") && p.stdout.contains("not run (repeatable)"),
        "{}",
        p.stdout
    );
}

#[test]
fn repeatables_run_after_every_pending_versioned_file_in_name_order() {
    let db = cluster().create_db("rep_order");
    let log = |name: &str| format!("INSERT INTO runs (name) VALUES ('{name}');\n");
    let dir = migrations(&[
        ("R__b.sql", &log("R__b")),
        ("R__a.sql", &log("R__a")),
        ("001_tables.sql", TABLES),
        ("002_more.sql", &log("002_more")),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(runs(&db), ["002_more", "R__a", "R__b"]);
}

#[test]
fn failing_repeatable_rolls_back_alone_and_exits_1_naming_it() {
    let db = cluster().create_db("rep_fail");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        ("R__a_ok.sql", "CREATE OR REPLACE VIEW a_ok AS SELECT 1 AS x;\n"),
        (
            "R__b_bad.sql",
            "CREATE TABLE b_partial (id int);\nCREATE OR REPLACE VIEW b AS SELECT no_such_column FROM t;\n",
        ),
        ("R__c_after.sql", "CREATE OR REPLACE VIEW c_after AS SELECT 1 AS x;\n"),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("R__b_bad.sql:2"), "{}", r.stderr);
    assert!(r.stderr.contains("no_such_column"), "{}", r.stderr);
    assert!(r.stderr.contains("rolled back"), "{}", r.stderr);
    // What ran before it stays; its own changes are gone; nothing after it ran.
    assert_eq!(
        db.one("SELECT to_regclass('a_ok')::text").as_deref(),
        Some("a_ok")
    );
    assert_eq!(db.one("SELECT to_regclass('b_partial')::text"), None);
    assert_eq!(db.one("SELECT to_regclass('c_after')::text"), None);
    let names: Vec<String> = db
        .query("SELECT name FROM pgboot.schema_history ORDER BY name")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    assert_eq!(names, ["001_tables", "R__a_ok"]);

    // Fixed: the next run applies it and the one after it.
    std::fs::write(
        dir.path().join("R__b_bad.sql"),
        "CREATE TABLE IF NOT EXISTS b_partial (id int);\nCREATE OR REPLACE VIEW b AS SELECT a FROM t;\n",
    )
    .unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 2, already up to date 2"),
        "{}",
        r.stderr
    );
}

#[test]
fn always_runs_on_every_migrate_and_says_so() {
    let db = cluster().create_db("rep_always");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        (
            "R__refresh.sql",
            "-- pgboot:always\nANALYZE t;\nINSERT INTO runs (name) VALUES ('refresh');\n",
        ),
    ]);
    for n in 1..=3 {
        let r = pgboot(&db.url, dir.path(), &["migrate"]);
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(runs(&db).len(), n, "run {n}: {}", r.stderr);
        if n > 1 {
            assert!(
                r.stderr
                    .contains("-- pgboot:always: applied on every migrate"),
                "{}",
                r.stderr
            );
            assert!(
                r.stderr.contains("applied 1, already up to date 1"),
                "{}",
                r.stderr
            );
        }
    }
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE name = 'R__refresh' AND kind = 'repeatable'"),
        1
    );
    let rows = status(&db, dir.path());
    let r = row(&rows, "R__refresh");
    assert_eq!(
        (&r["state"], &r["will_run"]),
        (&"applied".into(), &true.into())
    );
}

#[test]
fn non_transactional_repeatable_is_applied_again_when_changed() {
    let db = cluster().create_db("rep_notx");
    let idx = |cols: &str| {
        format!("DROP INDEX CONCURRENTLY IF EXISTS t_idx;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_idx ON t ({cols});\n")
    };
    let dir = migrations(&[("001_tables.sql", TABLES), ("R__idx.sql", &idx("a"))]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    std::fs::write(dir.path().join("R__idx.sql"), idx("a DESC")).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 1, already up to date 1"),
        "{}",
        r.stderr
    );
    let def = db.one("SELECT pg_get_indexdef('t_idx'::regclass)").unwrap();
    assert!(def.contains("a DESC"), "{def}");
    let row = db.query("SELECT kind, success::text, transactional::text FROM pgboot.schema_history WHERE name = 'R__idx'");
    assert_eq!(
        row,
        [[
            Some("repeatable".into()),
            Some("true".into()),
            Some("false".into())
        ]]
    );
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert!(
        r.stderr.contains("applied 0, already up to date 2"),
        "{}",
        r.all()
    );
}

#[test]
fn removed_repeatable_is_reported_by_status_not_an_error() {
    let db = cluster().create_db("rep_removed");
    let dir = migrations(&[("001_tables.sql", TABLES), ("R__views.sql", &view(1))]);
    assert_eq!(pgboot(&db.url, dir.path(), &["migrate"]).code, 0);
    std::fs::remove_file(dir.path().join("R__views.sql")).unwrap();
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(pgboot(&db.url, dir.path(), &["validate"]).code, 0);
    let rows = status(&db, dir.path());
    let r = row(&rows, "R__views");
    assert_eq!(
        (&r["kind"], &r["state"]),
        (&"repeatable".into(), &"removed".into())
    );
    let text = pgboot(&db.url, dir.path(), &["status"]);
    assert!(text.stdout.contains("removed"), "{}", text.stdout);
}

#[test]
fn always_marker_outside_a_repeatable_is_refused_before_anything_runs() {
    let db = cluster().create_db("rep_misplaced");
    let dir = migrations(&[("001_tables.sql", &format!("-- pgboot:always\n{TABLES}"))]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("001_tables.sql:1"), "{}", r.stderr);
    assert!(r.stderr.contains("R__<name>.sql"), "{}", r.stderr);
    assert_eq!(
        db.one("SELECT to_regclass('pgboot.schema_history')::text"),
        None
    );
}

#[test]
fn verify_passes_on_our_migrations_plus_repeatables() {
    let db = cluster().create_db("rep_verify");
    let mut files = clientforge_files(&db);
    files.push((
        "R__deal_totals.sql".into(),
        "CREATE OR REPLACE FUNCTION public.deal_total(p_tenant uuid) RETURNS numeric\n\
         LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(amount), 0) FROM public.deals WHERE tenant_id = p_tenant $$;\n\
         REVOKE ALL ON FUNCTION public.deal_total(uuid) FROM PUBLIC;\n\
         GRANT EXECUTE ON FUNCTION public.deal_total(uuid) TO clientforge_app;\n"
            .into(),
    ));
    files.push((
        "R__analyze.sql".into(),
        "-- pgboot:always\nANALYZE public.deals;\n".into(),
    ));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = migrations(&refs);
    let r = pgboot(&db.url, dir.path(), &["verify", "--json"]);
    let _guard = find_scratch_guard(&r);
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let names: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"R__deal_totals.sql") && names.contains(&"R__analyze.sql"),
        "{names:?}"
    );
    assert!(v["findings"].as_array().unwrap().is_empty(), "{v}");
}

/// verify's scratch database, dropped at the end if verify left it behind.
fn find_scratch_guard(r: &Run) -> Option<DropDb> {
    let at = r.stderr.find("pgboot_verify_")?;
    let name: String = r.stderr[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some(cluster().drop_on_exit(&name))
}

/// The repository's migrations; without pgvector on this server, all but the pgvector one
/// (the docker tests run that one on an image that has it). The harness creates the
/// cluster-wide role clientforge_app first (see `support::cluster`).
pub fn clientforge_files(db: &TestDb) -> Vec<(String, String)> {
    let vector = db.count("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") > 0;
    let mut files = repo_migrations();
    files.retain(|(f, _)| vector || !f.contains("pgvector"));
    files
}

#[test]
fn failed_non_transactional_repeatable_blocks_until_repaired() {
    let db = cluster().create_db("rep_repair");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        (
            "R__idx.sql",
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b_idx ON t (b);\n",
        ),
    ]);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("R__idx.sql:1"), "{}", r.stderr);
    // As for a versioned file: exit 4 until a human looks.
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(
        r.stderr.contains("pgboot repair R__idx --yes"),
        "{}",
        r.stderr
    );
    // Fix the database, repair, run again.
    db.query("ALTER TABLE t ADD COLUMN b int");
    let r = pgboot(&db.url, dir.path(), &["repair", "R__idx", "--yes"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.one("SELECT to_regclass('t_b_idx')::text").as_deref(),
        Some("t_b_idx")
    );
    let row =
        db.query("SELECT kind, success::text FROM pgboot.schema_history WHERE name = 'R__idx'");
    assert_eq!(row, [[Some("repeatable".into()), Some("true".into())]]);
}

#[test]
fn transaction_lock_mode_reapplies_changed_and_always_files() {
    let db = cluster().create_db("rep_txmode");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        ("R__views.sql", &view(1)),
        (
            "R__always.sql",
            "-- pgboot:always\nINSERT INTO runs (name) VALUES ('always');\n",
        ),
    ]);
    let tx = |dir: &std::path::Path| {
        run(pgboot_cmd()
            .env("DATABASE_URL", &db.url)
            .env("PGBOOT_MIGRATIONS", dir)
            .env("PGBOOT_LOCK_MODE", "transaction")
            .arg("migrate"))
    };
    assert_eq!(tx(dir.path()).code, 0);
    std::fs::write(dir.path().join("R__views.sql"), view(2)).unwrap();
    let r = tx(dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        r.stderr.contains("applied 2, already up to date 1"),
        "{}",
        r.stderr
    );
    assert_eq!(runs(&db), ["always", "v1", "always", "v2"]);
}

/// Racers (directly, then behind PgBouncer in transaction pooling, where runners share the work
/// through per-file transaction locks): a changed repeatable is applied exactly once.
#[test]
fn racers_apply_a_changed_repeatable_exactly_once() {
    use crate::support::pgbouncer::{PgBouncer, PoolMode};
    let bouncer = PgBouncer::start(cluster(), PoolMode::Transaction);
    for pooled in [false, true] {
        let db = cluster().create_db("rep_race");
        let url = if pooled {
            bouncer.url(&db.name)
        } else {
            db.url.clone()
        };
        let dir = migrations(&[("001_tables.sql", TABLES), ("R__views.sql", &view(1))]);
        let race = || {
            let children: Vec<_> = (0..6)
                .map(|_| {
                    pgboot_cmd()
                        .env("DATABASE_URL", &url)
                        .env("PGBOOT_MIGRATIONS", dir.path())
                        .arg("migrate")
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            for c in children {
                let r: Run = c.wait_with_output().unwrap().into();
                assert_eq!(r.code, 0, "pooled={pooled}: {}", r.all());
            }
        };
        race();
        assert_eq!(runs(&db), ["v1"], "pooled={pooled}");
        std::fs::write(dir.path().join("R__views.sql"), view(2)).unwrap();
        race();
        assert_eq!(runs(&db), ["v1", "v2"], "pooled={pooled}");
        assert_eq!(db.count("SELECT count(*) FROM pgboot.schema_history"), 2);
    }
}
