//! Differential: what psql loads from a pg_dump file, pgboot loads the same way. Databases with
//! real content (ClientForge with fixture rows; a schema with functions, triggers, domains,
//! enums, partitions and sequences) are dumped in plain format, with COPY and with --inserts, by
//! the host's pg_dump (15, which writes `\restrict`) and, when Docker and the test image are
//! there, by PostgreSQL 17's. Each dump is loaded with `psql -v ON_ERROR_STOP=1 -f` into one
//! fresh database and by pgboot into another (and by pgboot streaming it, the threshold lowered:
//! the same plan decisions and checksum); `pg_dump --schema-only` and every table's row count
//! must match.

use crate::support::*;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const FIXTURES_GLOBAL: &str = include_str!("../sql/fixtures_global.sql");
const TENANT_FIXTURES: &str = include_str!("../sql/tenant_fixtures.sql");
const TENANTS: [&str; 2] = [
    "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
    "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
];

/// Functions, triggers, domains, enums, partitions, sequences, and data that tests the COPY
/// text format: tabs, newlines, backslashes, quotes, NULLs, semicolons, unicode.
const VARIETY: &str = r#"
CREATE SCHEMA variety;
CREATE TYPE variety.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN variety.positive AS integer CHECK (VALUE > 0);
CREATE SEQUENCE variety.ticket_seq START 1000 INCREMENT 7;
CREATE TABLE variety.events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  at date NOT NULL,
  mood variety.mood,
  qty variety.positive,
  note text,
  ticket bigint DEFAULT nextval('variety.ticket_seq'),
  PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
CREATE TABLE variety.events_2025 PARTITION OF variety.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE variety.events_2026 PARTITION OF variety.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE variety.audit (id serial PRIMARY KEY, what text, payload jsonb);
CREATE FUNCTION variety.log_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO variety.audit (what, payload) VALUES (TG_OP || ';' || TG_TABLE_NAME, to_jsonb(NEW));
  RETURN NEW;
END $$;
CREATE TRIGGER events_log AFTER INSERT ON variety.events_2025 FOR EACH ROW EXECUTE FUNCTION variety.log_event();
CREATE VIEW variety.happy AS SELECT id, at, note FROM variety.events WHERE mood = 'happy';
INSERT INTO variety.events (at, mood, qty, note) VALUES
  ('2025-03-01', 'happy', 1, E'tab\there, newline\nthere, backslash \\ and a quote '' ; semicolon'),
  ('2025-04-01', 'sad', 2, NULL),
  ('2026-05-01', 'ok', 3, 'ünïcödé — \. not the end'),
  ('2026-06-01', NULL, 4, E'\\.');
"#;

fn content_db() -> TestDb {
    let db = cluster().create_db("dump_src");
    let files: Vec<(String, String)> = repo_migrations()
        .into_iter()
        .filter(|(n, _)| !n.contains("pgvector"))
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let dir = migrations(&pairs);
    let r = pgboot(&db.url, dir.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    query(&db.url, FIXTURES_GLOBAL);
    for t in TENANTS {
        query(
            &db.url,
            &format!("BEGIN;\nSELECT set_config('app.current_tenant_id', '{t}', true);\n{TENANT_FIXTURES}\n;COMMIT;"),
        );
    }
    query(&db.url, VARIETY);
    db
}

fn psql(url: &str, file: &Path) -> (bool, String) {
    let out = Command::new(pg_bin().join("psql"))
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn row_counts(url: &str) -> String {
    let sql = "SELECT format('%I.%I %s', n.nspname, c.relname, \
               (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgboot') \
               AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1";
    let rows = query(url, sql);
    rows.into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Loads `dump` both ways and compares; returns (psql, pgboot) load times.
fn load_both(dump: &str, label: &str) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("001_dump.sql");
    std::fs::write(&file, dump).unwrap();
    let by_psql = cluster().create_db("by_psql");
    let t = Instant::now();
    let (ok, err) = psql(&by_psql.url, &file);
    let psql_time = t.elapsed();
    assert!(ok, "{label}: psql could not load it: {err}");
    let by_pgboot = cluster().create_db("by_pgboot");
    // plan reports the psql decisions before anything runs.
    let plan = pgboot(&by_pgboot.url, dir.path(), &["plan", "--json"]);
    assert_eq!(plan.code, 0, "{label}: {}", plan.all());
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let file = &plan["pending"][0];
    let ignored = file["ignored"].to_string();
    assert!(
        ignored.contains("\\\\restrict (line "),
        "{label}: {ignored}"
    );
    let blocks = file["copy_blocks"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(blocks > 0, dump.contains("FROM stdin;"), "{label}: {file}");
    let t = Instant::now();
    let r = pgboot(&by_pgboot.url, dir.path(), &["migrate"]);
    let pgboot_time = t.elapsed();
    assert_eq!(r.code, 0, "{label}: {}", r.all());
    assert_eq!(
        schema_only(&by_psql.url, &[]),
        schema_only(&by_pgboot.url, &[]),
        "{label}: schemas differ"
    );
    let counts = row_counts(&by_psql.url);
    assert!(counts.contains("variety.audit 2"), "{label}: {counts}");
    assert_eq!(
        counts,
        row_counts(&by_pgboot.url),
        "{label}: row counts differ"
    );
    // Streamed (the threshold lowered below the dump's size): the same plan, database and checksum.
    let streamed = |args: &[&str], url: &str| -> Run {
        pgboot_cmd()
            .env("DATABASE_URL", url)
            .env("PGBOOT_MIGRATIONS", dir.path())
            .env("PGBOOT_STREAM_THRESHOLD", "1024")
            .args(args)
            .output()
            .unwrap()
            .into()
    };
    let by_stream = cluster().create_db("by_stream");
    let splan = streamed(&["plan", "--json"], &by_stream.url);
    assert_eq!(splan.code, 0, "{label}: {}", splan.all());
    let splan: serde_json::Value = serde_json::from_str(&splan.stdout).unwrap();
    let sfile = &splan["pending"][0];
    assert_eq!(sfile["streamed"], true, "{label}: {sfile}");
    for key in ["copy_blocks", "ignored", "mode", "transactional"] {
        assert_eq!(sfile[key], file[key], "{label}: {key}");
    }
    let r = streamed(&["migrate"], &by_stream.url);
    assert_eq!(r.code, 0, "{label}: {}", r.all());
    assert_eq!(
        schema_only(&by_psql.url, &[]),
        schema_only(&by_stream.url, &[]),
        "{label}: schemas differ (streamed)"
    );
    assert_eq!(counts, row_counts(&by_stream.url), "{label}: streamed");
    let sum = "SELECT checksum FROM pgboot.schema_history";
    assert_eq!(by_stream.one(sum), by_pgboot.one(sum), "{label}");
    (psql_time, pgboot_time)
}

fn dump_with(pg_dump: &mut Command, label: &str) -> String {
    let out = pg_dump.output().unwrap();
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pg_dump_files_load_like_psql_loads_them() {
    let src = content_db();
    let mut report = Vec::new();
    for inserts in [false, true] {
        let label = format!("pg_dump 15{}", if inserts { " --inserts" } else { "" });
        let mut cmd = Command::new(pg_bin().join("pg_dump"));
        cmd.args(["--exclude-schema=pgboot", &src.url]);
        if inserts {
            cmd.arg("--inserts");
        }
        let dump = dump_with(&mut cmd, &label);
        assert!(
            dump.contains("\\restrict"),
            "{label}: a current pg_dump writes \\restrict"
        );
        assert_eq!(dump.contains("FROM stdin;"), !inserts, "{label}");
        let (a, b) = load_both(&dump, &label);
        report.push(format!("{label}: psql {a:.2?}, pgboot {b:.2?}"));
        if !inserts {
            compressed_copy_is_the_same_migration(&dump);
        }
    }
    // PostgreSQL 17's pg_dump (it writes `SET transaction_timeout`), loaded into a PostgreSQL 17
    // server, both from the test image, when Docker has it.
    report.push(pg17(&src));
    eprintln!("{}", report.join("\n"));
}

fn docker_has(image: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// pg_dump 17 of `src`, loaded into a PostgreSQL 17 container by psql and by pgboot.
fn pg17(src: &TestDb) -> String {
    use crate::support::docker::Cleanup;
    let image = "pgboot-test/postgres:17";
    if !docker_has(image) || std::env::var("PGBOOT_TEST_PORT").is_ok() {
        return "pg_dump 17: skipped (no Docker image)".into();
    }
    let mut cleanup = Cleanup::default();
    let (container, port) = cleanup.postgres(17, None);
    let server = |db: &str| url(port, db);
    // The roles the dump grants to come from the migrations.
    let files: Vec<(String, String)> = repo_migrations()
        .into_iter()
        .filter(|(n, _)| n.starts_with("001"))
        .collect();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    let roles = migrations(&pairs);
    let r = pgboot(&server("postgres"), roles.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let pg_dump17 = |args: &[&str]| {
        let mut c = Command::new("docker");
        c.args([
            "run",
            "--rm",
            "--network",
            "host",
            "--entrypoint",
            "/usr/lib/postgresql/17/bin/pg_dump",
            image,
        ]);
        c.args(args);
        dump_with(&mut c, "pg_dump 17")
    };
    let dump = pg_dump17(&["--exclude-schema=pgboot", &src.url]);
    assert!(dump.contains("\\restrict") && dump.contains("transaction_timeout"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("001_dump.sql"), &dump).unwrap();
    for db in ["by_psql", "by_pgboot"] {
        query(&server("postgres"), &format!("CREATE DATABASE {db}"));
    }
    let t = Instant::now();
    let (ok, err) = psql(&server("by_psql"), &dir.path().join("001_dump.sql"));
    let a = t.elapsed();
    assert!(ok, "pg_dump 17: psql could not load it: {err}");
    let t = Instant::now();
    let r = pgboot(&server("by_pgboot"), dir.path(), &["migrate"]);
    let b = t.elapsed();
    assert_eq!(r.code, 0, "pg_dump 17: {}", r.all());
    let schema17 = |db: &str| {
        pg_dump17(&["--schema-only", "--exclude-schema=pgboot", &server(db)])
            .lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        schema17("by_psql"),
        schema17("by_pgboot"),
        "pg_dump 17: schemas differ"
    );
    let counts = row_counts(&server("by_psql"));
    assert!(counts.contains("variety.audit 2"), "{counts}");
    assert_eq!(
        counts,
        row_counts(&server("by_pgboot")),
        "pg_dump 17: row counts differ"
    );
    let _ = container;
    format!("pg_dump 17: psql {a:.2?}, pgboot {b:.2?}")
}

/// A gzip copy of a dump: the same database and the same checksum as the plain file.
fn compressed_copy_is_the_same_migration(dump: &str) {
    use std::io::Write;
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("001_dump.sql"), dump).unwrap();
    let gz = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(gz.path().join("001_dump.sql.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    enc.write_all(dump.as_bytes()).unwrap();
    enc.finish().unwrap();
    let (a, b) = (
        cluster().create_db("dump_plain"),
        cluster().create_db("dump_gz"),
    );
    assert_eq!(pgboot(&a.url, plain.path(), &["migrate"]).code, 0);
    let r = pgboot(&b.url, gz.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(schema_only(&a.url, &[]), schema_only(&b.url, &[]));
    assert_eq!(row_counts(&a.url), row_counts(&b.url));
    let sum = "SELECT checksum FROM pgboot.schema_history";
    assert_eq!(a.one(sum), b.one(sum));
    // Applied plain, validated against the compressed copy: no drift.
    let v = pgboot(&a.url, gz.path(), &["validate"]);
    assert_eq!(v.code, 0, "{}", v.all());
}
