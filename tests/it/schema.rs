//! Issue 3's proofs about the repository's own schema (`migrations/`), against a real
//! PostgreSQL: every file is idempotent, every tenant-scoped table is isolated by row level
//! security, and the pgvector migration behaves on servers with and without pgvector.
//!
//! Runs against the host's PostgreSQL (a throwaway cluster), or with `PGBOOT_TEST_PORT=<port>`
//! against a running server (the 13/15/17 container matrix).

use crate::support::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

/// Reference rows needed by the tenant fixtures (permissions, plans).
const FIXTURES_GLOBAL: &str = include_str!("../sql/fixtures_global.sql");
/// One tenant's rows in every tenant-scoped table (tenant = app.current_tenant_id).
const TENANT_FIXTURES: &str = include_str!("../sql/tenant_fixtures.sql");
/// `<table> <tenant>=<rows>,...` for every tenant-scoped table, found from the catalog (after
/// `scope.sql`: see [`scoped`]).
const TENANT_ROW_COUNTS: &str = include_str!("../sql/tenant_row_counts.sql");

const TENANT_A: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const TENANT_B: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/// Tenant-scoped tables (`tenant_tables` of `src/checks/scope.sql`, composed in front by
/// [`scoped`]). For each: the facts the tenancy rules are about, and the column lists to copy one
/// of its rows.
const TENANT_TABLES: &str = r#"
tenant_table_rows AS (
  SELECT t.qname,
         pg_catalog.format_type(t.atttypid, t.atttypmod) AS tenant_type,
         t.attnotnull,
         EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
                  WHERE co.conrelid = t.oid AND co.contype = 'f'
                    AND co.conkey = ARRAY[t.attnum]
                    AND co.confrelid = to_regclass('public.tenants')) AS fk_to_tenants,
         EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                  WHERE i.indrelid = t.oid AND i.indkey[0] = t.attnum AND i.indisvalid) AS leading_index,
         t.relrowsecurity,
         t.relforcerowsecurity,
         coalesce((SELECT string_agg(format('%s|%s|%s', p.polcmd,
                                            coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '-'),
                                            coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '-')),
                                     E'\n' ORDER BY p.polname)
                     FROM pg_catalog.pg_policy p WHERE p.polrelid = t.oid), '') AS policies,
         (SELECT string_agg(quote_ident(x.attname), ', ' ORDER BY x.attnum)
            FROM pg_catalog.pg_attribute x
           WHERE x.attrelid = t.oid AND x.attnum > 0 AND NOT x.attisdropped
             AND x.attgenerated = '' AND x.attidentity <> 'a') AS cols,
         (SELECT string_agg(CASE WHEN x.attname = 'tenant_id' THEN '$tenant$' ELSE quote_ident(x.attname) END,
                            ', ' ORDER BY x.attnum)
            FROM pg_catalog.pg_attribute x
           WHERE x.attrelid = t.oid AND x.attnum > 0 AND NOT x.attisdropped
             AND x.attgenerated = '' AND x.attidentity <> 'a') AS sel
    FROM tenant_tables t
)
SELECT * FROM tenant_table_rows ORDER BY 1
"#;

/// `WITH <src/checks/scope.sql>, <body>` with pgboot's default history schema, as pgboot
/// composes its own checks.
fn scoped(body: &str) -> String {
    pgboot::checks::scope::with_scope(body, "pgboot")
}

fn repo_migrations() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations")
}

fn has_vector(db: &TestDb) -> bool {
    db.count("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'") == 1
}

/// Files that need pgvector: they create the `vector` extension.
fn needs_vector(sql: &str) -> bool {
    sql.to_ascii_lowercase()
        .contains("create extension if not exists vector")
}

/// The repository's migrations copied to a temp dir, without the pgvector ones unless wanted.
/// Returns the dir and the (file name, text) pairs it holds, in order.
fn copy_migrations(with_vector: bool) -> (tempfile::TempDir, Vec<(String, String)>) {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo_migrations())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .filter(|(_, sql)| with_vector || !needs_vector(sql))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "migrations/ looks empty: {files:?}");
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, s)| (n.as_str(), s.as_str()))
        .collect();
    (migrations(&refs), files)
}

/// `pgboot migrate` of the repository's files. Serialized within this test binary: 001 creates
/// the cluster-wide role clientforge_app, and two databases creating it at once race.
fn migrate(db: &TestDb, dir: &Path) -> Run {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    pgboot(&db.url, dir, &["migrate"])
}

fn lines(db: &TestDb, sql: &str) -> Vec<String> {
    db.query(sql)
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(conn);
    client
}

fn rows_of(msgs: &[SimpleQueryMessage]) -> Vec<Vec<String>> {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(
                (0..r.len())
                    .map(|i| r.get(i).unwrap_or("").to_owned())
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}

fn affected(msgs: &[SimpleQueryMessage]) -> u64 {
    msgs.iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::CommandComplete(n) => Some(*n),
            _ => None,
        })
        .sum()
}

/// A LOGIN role for one test run, dropped when this goes out of scope (also on panic).
struct LoginRole {
    name: String,
    password: String,
    admin_url: String,
}

impl LoginRole {
    fn create(db: &TestDb, grant: &str) -> LoginRole {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("pgboot_t_{}_{nanos}", std::process::id());
        let password = format!("pw{nanos:x}{}", std::process::id());
        query(
            &db.url,
            &format!(
                "CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB PASSWORD '{password}'; GRANT {grant} TO {name}"
            ),
        );
        LoginRole {
            name,
            password,
            admin_url: db.url.clone(),
        }
    }

    fn url(&self, db: &TestDb) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}?sslmode=disable",
            self.name, self.password, db.port, db.name
        )
    }
}

impl Drop for LoginRole {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            query(
                &self.admin_url,
                &format!("DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}", self.name),
            )
        });
    }
}

/// Apply with pgboot, snapshot, run every file a second time as psql would, snapshot again.
#[test]
fn migrations_are_idempotent() {
    let db = cluster().create_db("schema_idem");
    let (dir, files) = copy_migrations(has_vector(&db));
    let r = migrate(&db, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(
        db.count("SELECT count(*) FROM pgboot.schema_history WHERE success"),
        files.len() as i64
    );

    let snapshot = pgboot::checks::snapshot::query("pgboot");
    let before = lines(&db, &snapshot);
    // The snapshot covers what the proof is about: a snapshot blind to a kind of object
    // would call any change to it idempotent.
    for section in [
        "schema ",
        "extension ",
        "relation ",
        "column ",
        "constraint ",
        "index ",
        "policy ",
        "trigger ",
        "view ",
        "function ",
    ] {
        assert!(
            before.iter().any(|l| l.starts_with(section)),
            "no `{section}` line in the snapshot"
        );
    }
    assert!(before
        .iter()
        .any(|l| l.starts_with("relation public.contacts ")
            && l.contains(" rls=t force_rls=t ")
            && l.contains("clientforge_app=SELECT")));
    assert!(before.iter().any(
        |l| l.starts_with("column public.contacts ") && l.contains(" tenant_id uuid not null")
    ));
    assert!(before
        .iter()
        .any(|l| l.starts_with("column ") && l.contains(" default ")));

    for (name, sql) in &files {
        // As `psql -f` would send it: the file's text, simple-query protocol. Fails the test on error.
        let msgs = rt().block_on(async {
            let c = connect(&db.url).await;
            c.simple_query(sql).await
        });
        if let Err(e) = msgs {
            panic!("{name} failed on its second run: {e:?}");
        }
    }
    let after = lines(&db, &snapshot);
    let added: Vec<&String> = after.iter().filter(|l| !before.contains(l)).collect();
    let removed: Vec<&String> = before.iter().filter(|l| !after.contains(l)).collect();
    assert!(
        added.is_empty() && removed.is_empty() && before.len() == after.len(),
        "the second run changed the catalog:\nremoved: {removed:#?}\nadded: {added:#?}"
    );
}

/// Static rules for every tenant-scoped table, then the behaviour through a LOGIN member of
/// clientforge_app: tenant A cannot see, change or create tenant B's rows; no tenant = no rows.
#[test]
fn every_tenant_table_is_isolated() {
    let db = cluster().create_db("schema_tenancy");
    let (dir, _) = copy_migrations(has_vector(&db));
    let r = migrate(&db, dir.path());
    assert_eq!(r.code, 0, "{}", r.all());

    // --- static rules, from the catalog
    let tables = db.query(&scoped(TENANT_TABLES));
    assert!(
        tables.len() >= 20,
        "too few tenant tables: {}",
        tables.len()
    );
    let mut problems = Vec::new();
    let mut expressions = BTreeSet::new();
    let col = |row: &Vec<Option<String>>, i: usize| row[i].clone().unwrap_or_default();
    for row in &tables {
        let t = col(row, 0);
        if col(row, 1) != "uuid" {
            problems.push(format!("{t}: tenant_id is {}, not uuid", col(row, 1)));
        }
        if col(row, 2) != "t" {
            problems.push(format!("{t}: tenant_id is nullable"));
        }
        if col(row, 3) != "t" {
            problems.push(format!("{t}: no FK (tenant_id) -> public.tenants"));
        }
        if col(row, 4) != "t" {
            problems.push(format!("{t}: no index leading with tenant_id"));
        }
        if col(row, 5) != "t" {
            problems.push(format!("{t}: row level security not enabled"));
        }
        if col(row, 6) != "t" {
            problems.push(format!("{t}: row level security not forced"));
        }
        let tenant_policies: Vec<String> = col(row, 7)
            .lines()
            .filter(|p| p.contains("tenant_id"))
            .map(str::to_owned)
            .collect();
        if tenant_policies.is_empty() {
            problems.push(format!("{t}: no policy on tenant_id"));
        }
        expressions.extend(tenant_policies);
    }
    assert!(
        problems.is_empty(),
        "tenancy rules violated:\n{problems:#?}"
    );
    // One policy shape everywhere, keyed on the transaction's tenant setting.
    assert_eq!(
        expressions.len(),
        1,
        "tenant policies differ between tables: {expressions:#?}"
    );
    let expr = expressions.iter().next().unwrap();
    assert!(
        expr.starts_with("*|")
            && expr.contains("current_setting('app.current_tenant_id'::text, true)"),
        "{expr}"
    );

    // --- fixtures for two tenants, as superuser
    query(&db.url, FIXTURES_GLOBAL);
    for tenant in [TENANT_A, TENANT_B] {
        query(
            &db.url,
            &format!(
                "BEGIN;\nSELECT set_config('app.current_tenant_id', '{tenant}', true);\n{TENANT_FIXTURES}\n;COMMIT;"
            ),
        );
    }
    let counts_before = lines(&db, &scoped(TENANT_ROW_COUNTS));
    assert_eq!(counts_before.len(), tables.len());
    let missing: Vec<&String> = counts_before
        .iter()
        .filter(|l| !(l.contains(&format!("{TENANT_A}=")) && l.contains(&format!("{TENANT_B}="))))
        .collect();
    assert!(
        missing.is_empty(),
        "tenant-scoped tables without fixture rows for both tenants (add them to tests/sql/tenant_fixtures.sql): {missing:#?}"
    );

    // --- behaviour, as a LOGIN member of clientforge_app
    let role = LoginRole::create(&db, "clientforge_app");
    let app_url = role.url(&db);
    let mut failures = Vec::new();
    rt().block_on(async {
        let c = connect(&app_url).await;
        for row in &tables {
            let t = col(row, 0);
            let (cols, sel) = (col(row, 8), col(row, 9).replace("$tenant$", &format!("'{TENANT_B}'::uuid")));
            c.batch_execute(&format!(
                "BEGIN; SELECT set_config('app.current_tenant_id', '{TENANT_A}', true)"
            ))
            .await
            .unwrap();
            // read
            match c
                .simple_query(&format!(
                    "SELECT count(*), count(*) FILTER (WHERE tenant_id = '{TENANT_A}') FROM {t}"
                ))
                .await
            {
                Ok(m) => {
                    let r = &rows_of(&m)[0];
                    if r[1] == "0" {
                        failures.push(format!("{t}: tenant A sees none of its own rows"));
                    }
                    if r[0] != r[1] {
                        failures.push(format!("{t}: tenant A sees {} rows, {} its own", r[0], r[1]));
                    }
                }
                Err(e) => failures.push(format!("{t}: SELECT failed: {e:?}")),
            }
            // update, delete, insert, move: each in a savepoint, undone
            let probes = [
                ("UPDATE of B's rows", format!("UPDATE {t} SET tenant_id = tenant_id WHERE tenant_id = '{TENANT_B}'"), false),
                ("DELETE of B's rows", format!("DELETE FROM {t} WHERE tenant_id = '{TENANT_B}'"), false),
                ("INSERT for B", format!("INSERT INTO {t} ({cols}) SELECT {sel} FROM {t} LIMIT 1"), true),
                ("moving a row to B", format!("UPDATE {t} SET tenant_id = '{TENANT_B}' WHERE ctid = (SELECT ctid FROM {t} LIMIT 1)"), true),
            ];
            for (what, sql, must_fail) in probes {
                c.batch_execute("SAVEPOINT probe").await.unwrap();
                match c.simple_query(&sql).await {
                    Ok(m) if affected(&m) > 0 => {
                        failures.push(format!("{t}: {what} affected {} rows", affected(&m)))
                    }
                    Ok(_) if must_fail => failures.push(format!("{t}: {what} did not fail")),
                    Ok(_) => {}
                    Err(e) if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) => {}
                    Err(e) => failures.push(format!("{t}: {what} failed with {e:?} instead of 42501")),
                }
                c.batch_execute("ROLLBACK TO SAVEPOINT probe").await.unwrap();
            }
            c.batch_execute("ROLLBACK").await.unwrap();
        }
        if let Ok(m) = c
            .simple_query(&format!(
                "BEGIN; SELECT set_config('app.current_tenant_id', '{TENANT_A}', true); SELECT id::text FROM public.tenants; ROLLBACK"
            ))
            .await
        {
            let seen: Vec<String> = rows_of(&m).into_iter().skip(1).map(|r| r[0].clone()).collect();
            if seen != [TENANT_A] {
                failures.push(format!("public.tenants: tenant A sees {seen:?}"));
            }
        }
        drop(c);

        // A fresh session with no tenant: nothing visible, no error; same with the setting ''.
        let c = connect(&app_url).await;
        for row in &tables {
            let t = col(row, 0);
            for setup in ["", "SET app.current_tenant_id = '';"] {
                match c.simple_query(&format!("{setup} SELECT count(*) FROM {t}")).await {
                    Ok(m) => {
                        let n = rows_of(&m)[0][0].clone();
                        if n != "0" {
                            failures.push(format!("{t}: a session without tenant ({setup:?}) sees {n} rows"));
                        }
                    }
                    Err(e) => failures.push(format!("{t}: a session without tenant ({setup:?}) gets {e:?}")),
                }
            }
            c.batch_execute("RESET app.current_tenant_id").await.unwrap();
        }
    });
    drop(role);
    assert!(
        failures.is_empty(),
        "tenant isolation broken:\n{failures:#?}"
    );
    // The probes were undone: every tenant's rows are as they were.
    assert_eq!(lines(&db, &scoped(TENANT_ROW_COUNTS)), counts_before);
}

/// 011 needs pgvector: applied where the server has it, otherwise exit 1 with advice naming an
/// image that has it, and the files before 011 stay applied.
#[test]
fn pgvector_migration_applies_or_fails_with_advice() {
    let db = cluster().create_db("schema_vector");
    let (dir, files) = copy_migrations(true);
    let vector_files: Vec<&String> = files
        .iter()
        .filter(|(_, s)| needs_vector(s))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(vector_files.len(), 1, "{vector_files:?}");
    let r = migrate(&db, dir.path());
    let applied: BTreeMap<String, String> = db
        .query("SELECT name || '.sql', success::text FROM pgboot.schema_history")
        .into_iter()
        .map(|r| (r[0].clone().unwrap(), r[1].clone().unwrap()))
        .collect();
    if has_vector(&db) {
        assert_eq!(r.code, 0, "{}", r.all());
        assert_eq!(applied.len(), files.len(), "{applied:?}");
        assert_eq!(
            db.one("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'public.embeddings'::regclass AND attname = 'embedding'")
                .as_deref(),
            Some("vector(1536)")
        );
        assert_eq!(
            db.count(
                "SELECT count(*) FROM pg_indexes WHERE indexname = 'embeddings_embedding_hnsw_idx'"
            ),
            1
        );
    } else {
        assert_eq!(r.code, 1, "{}", r.all());
        assert!(r.stderr.contains("pgvector/pgvector:pg17"), "{}", r.stderr);
        assert!(r.stderr.contains(vector_files[0].as_str()), "{}", r.stderr);
        assert!(
            !applied.contains_key(vector_files[0].as_str()),
            "{applied:?}"
        );
        assert_eq!(applied.len(), files.len() - 1, "{applied:?}");
        assert_eq!(
            db.one("SELECT to_regclass('public.embeddings')::text"),
            None
        );
    }
    assert!(!r.all().contains(PASSWORD));
}
