//! The container image and docker-compose.yml against a real Docker engine.
//!
//! Needs the images tests/run.sh builds: `pgboot-test/postgres:13|15|17` (docker/pg/build-images.sh)
//! and the pgboot image built from docker/Dockerfile (`$PGBOOT_IMAGE`, default
//! `pgboot-test/pgboot:local`). Every test uses its own container, network and compose project
//! names and removes them when it ends, also when it fails (the `Cleanup` guard of
//! support/docker.rs, which has the Docker helpers; the rest comes from the harness).

use crate::support::docker::*;
use crate::support::{
    count, eventually, migrations, one, pgboot, query, repo_migrations, url, PASSWORD,
};
use std::path::Path;
use std::time::{Duration, Instant};

fn stem(file: &str) -> &str {
    file.trim_end_matches(".sql").trim_end_matches(".up")
}

/// `docker run -d` of the pgboot image on `network`, reaching the server as `db`.
fn run_pgboot(clean: &mut Cleanup, network: &str, migrations: &Path) -> String {
    let name = clean.container("pgboot");
    let net = format!("--network={network}");
    let mount = mount(migrations, "/migrations");
    let pw = format!("PGPASSWORD={PASSWORD}");
    let mut args = vec![
        "run",
        "-d",
        "--name",
        &name,
        &net,
        "-e",
        "PGHOST=db",
        "-e",
        "PGUSER=postgres",
        "-e",
        &pw,
        "-e",
        "PGDATABASE=postgres",
        "-e",
        "PGBOOT_LOG_FORMAT=text",
        "-v",
        &mount,
    ];
    let img = image();
    args.push(&img);
    docker_ok(&args);
    name
}

fn sleeping_backends(port: u16) -> i64 {
    count(
        &url(port, "postgres"),
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()",
    )
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ---------------------------------------------------------------------------------------------

/// The image's contents and metadata: non-root numeric user, entrypoint, env, size.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn image_is_small_static_and_non_root() {
    let img = image();
    let user = docker_ok(&["image", "inspect", "-f", "{{.Config.User}}", &img]);
    let uid = user.split(':').next().unwrap();
    assert!(
        uid.parse::<u32>().map(|u| u != 0).unwrap_or(false),
        "USER must be a numeric non-root uid, got {user:?}"
    );
    assert_eq!(
        docker_ok(&[
            "image",
            "inspect",
            "-f",
            "{{json .Config.Entrypoint}} {{json .Config.Cmd}}",
            &img
        ]),
        r#"["/pgboot"] ["migrate"]"#
    );
    let env = docker_ok(&["image", "inspect", "-f", "{{json .Config.Env}}", &img]);
    assert!(env.contains("PGBOOT_MIGRATIONS=/migrations"), "{env}");
    let size: u64 = docker_ok(&["image", "inspect", "-f", "{{.Size}}", &img])
        .parse()
        .unwrap();
    assert!(size < 15_000_000, "image is {size} bytes, over 15 MB");
    let title = docker_ok(&[
        "image",
        "inspect",
        "-f",
        r#"{{ index .Config.Labels "org.opencontainers.image.title" }}"#,
        &img,
    ]);
    assert_eq!(title, "pgboot");
    // Scratch: the binary runs with nothing else in the image, and sees the baked migrations.
    let r = docker(&["run", "--rm", &img, "config"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("/migrations"), "{}", r.stdout);
    // No shell in the image.
    let r = docker(&["run", "--rm", "--entrypoint", "/bin/sh", &img, "-c", "true"]);
    assert_ne!(r.code, 0, "the image has a shell: {}", r.all());
}

/// Issue test 1: pgboot is PID 1: `docker stop` cancels the running statement, releases the lock, exits 143.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn docker_stop_cancels_statement_and_releases_lock() {
    let mut clean = Cleanup::default();
    let net = clean.network();
    let (_db, port) = clean.postgres(17, Some(&net));
    let dir = readable_migrations(&[(
        "001_sleep.sql",
        "-- sleeps so the test can stop the container mid-statement\nSELECT pg_sleep(60);\n",
    )]);
    let c = run_pgboot(&mut clean, &net, dir.path());
    assert!(
        eventually(secs(30), || sleeping_backends(port) == 1),
        "migration never started:\n{}",
        logs(&c)
    );
    let t0 = Instant::now();
    docker_ok(&["stop", "-t", "10", &c]);
    let took = t0.elapsed();
    let code = wait_exit(&c, 5);
    let out = logs(&c);
    assert!(
        took < Duration::from_secs(5),
        "docker stop took {took:?}:\n{out}"
    );
    assert_eq!(code, 143, "exit code:\n{out}");
    assert!(out.contains("SIGTERM"), "{out}");
    assert!(
        eventually(secs(3), || sleeping_backends(port) == 0),
        "a backend still runs the query"
    );
    let locks = count(
        &url(port, "postgres"),
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND d.datname = 'postgres'",
    );
    assert_eq!(locks, 0, "advisory lock still held");
    let applied = count(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(applied, 0, "the interrupted file must not be recorded");
    eprintln!("docker stop returned in {took:?}, exit {code}");
}

/// Issue test 2 + 6: The repo's docker-compose.yml: migrate starts before db exists, resolves `db` by
/// service name on the project's network once it appears, applies everything, exits 0; app
/// starts only afterwards.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn compose_migrates_before_app_starts() {
    let mut clean = Cleanup::default();
    let p = clean.project();
    let files = repo_migrations();

    // migrate alone: db is neither created nor resolvable yet.
    p.ok(&["up", "-d", "--no-deps", "migrate"]);
    let m = p.containers("migrate");
    assert_eq!(m.len(), 1);
    let m = m[0].clone();
    assert!(p.containers("db").is_empty());
    assert!(
        eventually(secs(30), || logs(&m).contains("waiting for PostgreSQL")),
        "migrate did not report waiting:\n{}",
        logs(&m)
    );
    std::thread::sleep(secs(2));
    assert_eq!(
        inspect(&m, "{{.State.Status}}"),
        "running",
        "migrate gave up before db existed:\n{}",
        logs(&m)
    );

    // Now the rest of the project.
    p.ok(&["up", "-d"]);
    let app = p.containers("app");
    assert_eq!(app.len(), 1, "app not created");
    let app = app[0].clone();
    assert_eq!(wait_exit(&m, 120), 0, "migrate:\n{}", logs(&m));
    assert_eq!(wait_exit(&app, 60), 0, "app:\n{}", logs(&app));

    let mlog = logs(&m);
    // The dev database is seeded too (PGBOOT_SEEDS in docker-compose.yml).
    let seeds = crate::seeds::repo_seeds();
    assert!(
        mlog.contains(&format!(
            "summary: applied {}, already up to date 0",
            files.len() + seeds.len()
        )),
        "{mlog}"
    );
    let alog = logs(&app);
    for (f, _) in &files {
        assert!(alog.contains(stem(f)), "app did not see {f}:\n{alog}");
    }
    // RFC 3339 timestamps in UTC compare as strings.
    let (m_end, app_start) = (
        inspect(&m, "{{.State.FinishedAt}}"),
        inspect(&app, "{{.State.StartedAt}}"),
    );
    assert!(
        app_start >= m_end,
        "app started at {app_start}, before migrate finished at {m_end}"
    );
    let n = count(
        &p.url(),
        "SELECT count(*) FROM pgboot.schema_history WHERE success AND kind = 'migrate'",
    );
    assert_eq!(n, files.len() as i64);
    let n = count(
        &p.url(),
        "SELECT count(*) FROM pgboot.schema_history WHERE success AND kind = 'seed'",
    );
    assert_eq!(n, seeds.len() as i64);
    crate::seeds::assert_clientforge_seed(&p.url());
    assert!(!mlog.contains(PASSWORD) && !mlog.contains("clientforge-dev"));
}

/// Issue test 3: Five migrate replicas started together: each file applied exactly once, all exit 0.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn compose_replicas_race_safely() {
    let mut clean = Cleanup::default();
    let p = clean.project();
    let files = repo_migrations();
    p.ok(&["up", "-d", "--scale", "migrate=5", "migrate"]);
    let ms = p.containers("migrate");
    assert_eq!(ms.len(), 5, "expected 5 migrate containers");
    let mut applied_total = 0;
    for m in &ms {
        let code = wait_exit(m, 180);
        let log = logs(m);
        assert_eq!(code, 0, "{m}:\n{log}");
        let line = log
            .lines()
            .find(|l| l.contains("summary: applied "))
            .unwrap_or_else(|| panic!("no summary:\n{log}"));
        let n: usize = line
            .split("summary: applied ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap();
        applied_total += n;
    }
    let seeds = crate::seeds::repo_seeds().len();
    assert_eq!(
        applied_total,
        files.len() + seeds,
        "files applied across replicas"
    );
    let rows = query(
        &p.url(),
        "SELECT name FROM pgboot.schema_history WHERE kind = 'migrate' ORDER BY name",
    );
    let names: Vec<_> = rows.iter().map(|r| r[0].clone().unwrap()).collect();
    let want: Vec<_> = files.iter().map(|(f, _)| stem(f).to_owned()).collect();
    assert_eq!(names, want);
}

/// Issue test 4: The server is killed in the middle of a transactional migration and started again: the
/// interrupted file is all or nothing, and a rerun completes.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn server_killed_mid_migration_then_rerun_completes() {
    let mut clean = Cleanup::default();
    let net = clean.network();
    let (db, port) = clean.postgres(17, Some(&net));
    let dir = readable_migrations(&[
        ("001_first.sql", "CREATE TABLE first_t (id int);\n"),
        (
            "002_slow.sql",
            "CREATE TABLE slow_t (id int);\nINSERT INTO slow_t SELECT generate_series(1, 1000);\nSELECT pg_sleep(20);\n",
        ),
    ]);
    let c = run_pgboot(&mut clean, &net, dir.path());
    assert!(
        eventually(secs(30), || sleeping_backends(port) == 1),
        "slow migration never started:\n{}",
        logs(&c)
    );
    docker_ok(&["kill", &db]);
    let code = wait_exit(&c, 30);
    assert_ne!(code, 0, "pgboot cannot have succeeded:\n{}", logs(&c));

    docker_ok(&["start", &db]);
    let port = published_port(&db);
    wait_ready(&db, port);
    let u = url(port, "postgres");
    let state = |u: &str| {
        let table = one(u, "SELECT to_regclass('public.slow_t') IS NOT NULL").unwrap();
        let row = count(
            u,
            "SELECT count(*) FROM pgboot.schema_history WHERE name = '002_slow'",
        );
        (table, row)
    };
    let before = state(&u);
    assert!(
        before == ("f".into(), 0) || before == ("t".into(), 1),
        "half-applied after the crash: table exists={}, history rows={}",
        before.0,
        before.1
    );

    let c2 = run_pgboot(&mut clean, &net, dir.path());
    assert_eq!(wait_exit(&c2, 90), 0, "rerun:\n{}", logs(&c2));
    assert_eq!(state(&u), ("t".into(), 1));
    assert_eq!(count(&u, "SELECT count(*) FROM slow_t"), 1000);
    assert_eq!(count(&u, "SELECT count(*) FROM pgboot.schema_history"), 2);
    eprintln!("first run exited {code}; after restart: {before:?}");
}

/// Issue test 5: The ClientForge migrations on PostgreSQL 13, 15 and 17: 001–010 everywhere, 011 only where
/// pgvector is installed; without it pgboot exits 1 and names an image that has it.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn clientforge_migrations_on_each_version() {
    let files = repo_migrations();
    let (vector, base): (Vec<_>, Vec<_>) = files.iter().partition(|(f, _)| f.contains("pgvector"));
    assert_eq!(vector.len(), 1, "expected one pgvector migration");
    for major in [13, 15, 17] {
        let mut clean = Cleanup::default();
        let (_db, port) = clean.postgres(major, None);
        let u = url(port, "postgres");
        query(&u, "CREATE DATABASE clientforge");
        let u = url(port, "clientforge");

        let pairs: Vec<(&str, &str)> = base.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let dir = migrations(&pairs);
        let r = pgboot(&u, dir.path(), &["migrate"]);
        assert_eq!(r.code, 0, "pg{major}, 001-010:\n{}", r.all());
        assert_eq!(
            count(&u, "SELECT count(*) FROM pgboot.schema_history"),
            base.len() as i64,
            "pg{major}"
        );

        let (vf, vb) = vector[0];
        std::fs::write(dir.path().join(vf), vb).unwrap();
        let r = pgboot(&u, dir.path(), &["migrate"]);
        let has_vector = count(
            &u,
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'",
        ) == 1;
        assert_eq!(has_vector, major == 17, "pgvector only in the 17 image");
        if has_vector {
            assert_eq!(r.code, 0, "pg{major}, 011:\n{}", r.all());
            assert_eq!(
                count(&u, "SELECT count(*) FROM pgboot.schema_history"),
                files.len() as i64
            );
        } else {
            assert_eq!(r.code, 1, "pg{major}, 011 without pgvector:\n{}", r.all());
            assert!(
                r.all().contains("pgvector/pgvector:pg17"),
                "pg{major}: no pgvector hint:\n{}",
                r.all()
            );
            assert_eq!(
                count(&u, "SELECT count(*) FROM pgboot.schema_history"),
                base.len() as i64,
                "the failed file must not be recorded"
            );
        }
        assert!(!r.all().contains(PASSWORD));
    }
}

/// Issue test 6: Name resolution inside the scratch image on a user-defined network (no /etc/resolv.conf
/// tricks, no libc NSS): pgboot reaches the server by its alias and applies the baked-in set.
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn resolves_db_by_name_on_a_user_defined_network() {
    let mut clean = Cleanup::default();
    let net = clean.network();
    let (_db, port) = clean.postgres(17, Some(&net));
    let name = clean.container("pgboot-dns");
    let netarg = format!("--network={net}");
    let pw = format!("PGPASSWORD={PASSWORD}");
    // No mount: the image's own /migrations.
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        &netarg,
        "-e",
        "PGHOST=db",
        "-e",
        &pw,
        "-e",
        "PGBOOT_LOG_FORMAT=json",
        &image(),
    ]);
    let code = wait_exit(&name, 90);
    let out = logs(&name);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("postgres://postgres@db:5432/postgres"),
        "{out}"
    );
    let n = count(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(n, repo_migrations().len() as i64);
}

/// The Kubernetes manifests' setup: read-only root filesystem, all capabilities dropped, the
/// URL and password from secret files (`DATABASE_URL_FILE`, `PGPASSWORD_FILE`).
#[test]
#[ignore = "needs a Docker engine and the local images: tests/run.sh runs it with --ignored"]
fn read_only_root_and_secret_files() {
    let mut clean = Cleanup::default();
    let net = clean.network();
    let (_db, port) = clean.postgres(17, Some(&net));
    let secrets = readable_migrations(&[
        ("database-url", "postgres://postgres@db:5432/postgres\n"),
        ("password", &format!("{PASSWORD}\n")),
    ]);
    let name = clean.container("pgboot-k8s");
    let netarg = format!("--network={net}");
    let mount = mount(secrets.path(), "/run/secrets/db");
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        &netarg,
        "--read-only",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges",
        "-v",
        &mount,
        "-e",
        "DATABASE_URL_FILE=/run/secrets/db/database-url",
        "-e",
        "PGPASSWORD_FILE=/run/secrets/db/password",
        &image(),
    ]);
    let code = wait_exit(&name, 90);
    let out = logs(&name);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(PASSWORD), "password in the logs:\n{out}");
    let n = count(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(n, repo_migrations().len() as i64);
}
