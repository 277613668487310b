//! Seeds (`--seeds DIR` / `PGBOOT_SEEDS` / `seeds` in pgboot.toml) against a real PostgreSQL:
//! applied only when configured, after the migrations and repeatables, once each; a changed
//! seed is a warning; `pgboot seed` applies only seeds; the repository's ClientForge seed
//! respects row level security.

use std::path::Path;

use crate::repeatable::clientforge_files;
use crate::support::*;

const TABLES: &str = "CREATE TABLE IF NOT EXISTS runs (n serial, name text);\n";

fn log(name: &str) -> String {
    format!("INSERT INTO runs (name) VALUES ('{name}');\n")
}

fn runs(db: &TestDb) -> Vec<String> {
    db.query("SELECT name FROM runs ORDER BY n")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect()
}

/// `pgboot <args>` with a seeds directory configured through PGBOOT_SEEDS.
fn with_seeds(db: &TestDb, dir: &Path, seeds: &Path, args: &[&str]) -> Run {
    run(pgboot_cmd()
        .env("DATABASE_URL", &db.url)
        .env("PGBOOT_MIGRATIONS", dir)
        .env("PGBOOT_SEEDS", seeds)
        .args(args))
}

fn kinds(db: &TestDb) -> Vec<(String, String)> {
    db.query("SELECT name, kind FROM pgboot.schema_history ORDER BY applied_at, name")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect()
}

#[test]
fn seeds_apply_only_when_configured_once_each_after_migrations() {
    let db = cluster().create_db("seeds_once");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        ("R__refresh.sql", &log("R__refresh")),
    ]);
    let seeds = migrations(&[
        ("002_deals.sql", &log("seed 002_deals")),
        ("001_tenants.sql", &log("seed 001_tenants")),
    ]);

    // Not configured: nothing seeds.
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(runs(&db), ["R__refresh"]);
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE kind = 'seed'"),
        0
    );

    // Configured: after the migrations, in order, recorded as seeds.
    let r = with_seeds(&db, dir.path(), seeds.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "applied 2, already up to date 2");
    assert_eq!(
        runs(&db),
        ["R__refresh", "seed 001_tenants", "seed 002_deals"]
    );
    let seed_rows =
        db.query("SELECT name FROM pgboot.schema_history WHERE kind = 'seed' ORDER BY name");
    assert_eq!(
        seed_rows,
        [[Some("001_tenants".into())], [Some("002_deals".into())]]
    );

    // Once each.
    let r = with_seeds(&db, dir.path(), seeds.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "applied 0, already up to date 4");
    assert_eq!(runs(&db).len(), 3);

    // status shows every row's kind; without seeds configured the seed rows are still listed.
    for s in [
        with_seeds(&db, dir.path(), seeds.path(), &["status", "--json"]),
        pgboot(&db.url, dir.path(), &["status", "--json"]),
    ] {
        assert_eq!(s.code, 0, "{}", s.all());
        let rows = s.json();
        let rows = rows.as_array().unwrap();
        let got: Vec<(&str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap(),
                    r["kind"].as_str().unwrap(),
                    r["state"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("001_tables", "migrate", "applied"),
                ("R__refresh", "repeatable", "applied"),
                ("001_tenants", "seed", "applied"),
                ("002_deals", "seed", "applied")
            ]
        );
    }
}

#[test]
fn fresh_database_runs_migrations_then_repeatables_then_seeds() {
    let db = cluster().create_db("seeds_fresh");
    let dir = migrations(&[
        ("R__refresh.sql", &log("R__refresh")),
        ("001_tables.sql", TABLES),
        ("002_more.sql", &log("002_more")),
    ]);
    let seeds = migrations(&[("001_demo.sql", &log("seed"))]);
    let r = with_seeds(&db, dir.path(), seeds.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(runs(&db), ["002_more", "R__refresh", "seed"]);
    let k = kinds(&db);
    assert_eq!(
        k.last().unwrap(),
        &("001_demo".into(), "seed".into()),
        "{k:?}"
    );
}

#[test]
fn changed_seed_is_a_warning_not_exit_4() {
    let db = cluster().create_db("seeds_changed");
    let dir = migrations(&[("001_tables.sql", TABLES)]);
    let seeds = migrations(&[("001_demo.sql", &log("seed v1"))]);
    assert_eq!(
        with_seeds(&db, dir.path(), seeds.path(), &["migrate"]).code,
        0
    );
    std::fs::write(seeds.path().join("001_demo.sql"), log("seed v2")).unwrap();
    for args in [&["migrate"][..], &["validate"], &["plan"]] {
        let r = with_seeds(&db, dir.path(), seeds.path(), args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
        assert!(
            r.all()
                .contains("seed 001_demo changed after it was applied"),
            "{args:?}: {}",
            r.all()
        );
    }
    assert_eq!(runs(&db), ["seed v1"]);
    let s = with_seeds(&db, dir.path(), seeds.path(), &["status", "--json"]);
    let rows = s.json();
    let rows = rows.as_array().unwrap();
    let seed = rows.iter().find(|r| r["name"] == "001_demo").unwrap();
    assert_eq!(
        (&seed["state"], &seed["will_run"]),
        (&"changed".into(), &false.into())
    );
}

#[test]
fn seed_command_applies_only_seeds_to_a_migrated_database() {
    let db = cluster().create_db("seeds_cmd");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        (
            "R__always.sql",
            &format!("-- pgboot:always\n{}", log("always")),
        ),
    ]);
    let seeds = migrations(&[("001_demo.sql", &log("seed"))]);

    // Not configured: a clear error.
    let r = pgboot(&db.url, dir.path(), &["seed"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert_contains(&r.stderr, "no seeds directory is configured");

    // Not migrated yet: names what is pending, applies nothing.
    let r = with_seeds(&db, dir.path(), seeds.path(), &["seed"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("not migrated") && r.stderr.contains("001_tables"),
        "{}",
        r.stderr
    );
    assert_eq!(db.one("SELECT to_regclass('runs')::text"), None);
    // ... and writes nothing: not even the history table or its schema.
    assert_eq!(
        db.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgboot'"),
        0,
        "the refusal created the history schema"
    );

    assert_eq!(pgboot(&db.url, dir.path(), &["migrate"]).code, 0);
    // --seeds as a flag this time. The always file is left to migrate.
    let flag = seeds.path().to_str().unwrap();
    let r = pgboot(&db.url, dir.path(), &["seed", "--seeds", flag]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "applied 1, already up to date 1");
    assert_eq!(runs(&db), ["always", "seed"]);
    let r = pgboot(&db.url, dir.path(), &["seed", "--seeds", flag]);
    assert!(r.stderr.contains("applied 0"), "{}", r.all());
}

#[test]
fn seeds_directory_problems_are_refused_before_anything_runs() {
    let db = cluster().create_db("seeds_refused");
    let dir = migrations(&[("001_tables.sql", TABLES)]);
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("001_tables.sql", "SELECT 1;")],
            "a seed has the name of a migration",
        ),
        (&[("R__demo.sql", "SELECT 1;")], "seeds run once each"),
        (&[("-- notes.txt", "")], "no seed files in"),
    ];
    for (files, expect) in cases {
        let seeds = migrations(files);
        let r = with_seeds(&db, dir.path(), seeds.path(), &["migrate"]);
        assert_eq!(r.code, 2, "{expect}: {}", r.all());
        assert!(r.stderr.contains(expect), "{expect}: {}", r.stderr);
    }
    let r = with_seeds(
        &db,
        dir.path(),
        Path::new("/nonexistent/seeds"),
        &["migrate"],
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert_contains(&r.stderr, "seeds directory /nonexistent/seeds");
    assert_eq!(
        db.one("SELECT to_regclass('pgboot.schema_history')::text"),
        None
    );
}

/// The repository's seed on the repository's migrations: two tenants with users, accounts,
/// contacts and deals; idempotent; and tenant A's rows are invisible to tenant B through the
/// application role.
#[test]
fn clientforge_seed_fills_two_tenants_that_cannot_see_each_other() {
    let db = cluster().create_db("seeds_clientforge");
    let files = clientforge_files(&db);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = migrations(&refs);
    let seeds = repo().join("seeds");
    let r = with_seeds(&db, dir.path(), &seeds, &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_contains(&r.stderr, "ClientForge demo seed complete!");
    assert_clientforge_seed(&db.url);

    // Idempotent: the seed's text run again (as psql -f would) changes nothing.
    let text = std::fs::read_to_string(seeds.join("001_clientforge_demo.sql")).unwrap();
    let before = seed_counts(&db.url);
    query(&db.url, &text);
    assert_eq!(seed_counts(&db.url), before);
}

/// Row counts per seeded table, as the migrating (superuser) role sees them.
fn seed_counts(url: &str) -> Vec<i64> {
    ["tenants", "users", "accounts", "contacts", "deals"]
        .iter()
        .map(|t| count(url, &format!("SELECT count(*) FROM public.{t}")))
        .collect()
}

/// What the seed must have left: both tenants' rows, each visible only to its own tenant
/// through clientforge_app. Shared with the compose test (docker.rs).
pub fn assert_clientforge_seed(url: &str) {
    assert_eq!(seed_counts(url), [2, 3, 3, 3, 3]);
    let as_tenant = |tenant: &str, sql: &str| {
        count(
            url,
            &format!("SET ROLE clientforge_app; SET app.current_tenant_id = '{tenant}'; {sql}"),
        )
    };
    const A: &str = "a0000000-0000-4000-8000-000000000001";
    const B: &str = "b0000000-0000-4000-8000-000000000001";
    for table in ["tenants", "users", "accounts", "contacts", "deals"] {
        let key = if table == "tenants" {
            "id"
        } else {
            "tenant_id"
        };
        let a_rows = format!("SELECT count(*) FROM public.{table} WHERE {key} = '{A}'");
        let all = format!("SELECT count(*) FROM public.{table}");
        assert_eq!(
            as_tenant(B, &a_rows),
            0,
            "{table}: tenant B sees tenant A's rows"
        );
        assert_eq!(as_tenant(A, &a_rows), as_tenant(A, &all), "{table}");
        assert!(
            as_tenant(A, &a_rows) > 0,
            "{table}: tenant A sees none of its rows"
        );
        assert!(
            as_tenant(B, &all) > 0,
            "{table}: tenant B sees none of its rows"
        );
    }
}

/// The repository's seed files (seeds/), by name.
pub fn repo_seeds() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("seeds"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    v.sort();
    v
}

/// What `plan` (text) and `status --json` say about each kind: a versioned file applied, a
/// repeatable changed, one marked always, one removed, a seed pending.
#[test]
fn plan_and_status_show_each_kind() {
    let db = cluster().create_db("seeds_kinds");
    let dir = migrations(&[
        ("001_tables.sql", TABLES),
        ("R__changed.sql", "SELECT 1;\n"),
        ("R__gone.sql", "SELECT 1;\n"),
        ("R__refresh.sql", "-- pgboot:always\nANALYZE runs;\n"),
        ("R__same.sql", "SELECT 1;\n"),
    ]);
    assert_eq!(pgboot(&db.url, dir.path(), &["migrate"]).code, 0);
    std::fs::write(dir.path().join("R__changed.sql"), "SELECT 2;\n").unwrap();
    std::fs::remove_file(dir.path().join("R__gone.sql")).unwrap();
    let seeds = migrations(&[("001_demo.sql", &log("seed"))]);
    let p = with_seeds(&db, dir.path(), seeds.path(), &["plan"]);
    assert_eq!(p.code, 0, "{}", p.all());
    let s = with_seeds(&db, dir.path(), seeds.path(), &["status", "--json"]);
    assert_eq!(s.code, 0, "{}", s.all());
    let v = s.json();
    let _s = snap::settings().bind_to_scope();
    insta::assert_snapshot!("plan_kinds", p.stdout);
    insta::assert_json_snapshot!("status_kinds", v, {
        "[].applied_at" => "[applied_at]",
        "[].execution_ms" => "[execution_ms]",
    });
}
