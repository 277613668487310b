//! The container image and docker-compose.yml against a real Docker engine.
//!
//! Needs the images tests/run.sh builds: `pgboot-test/postgres:13|15|17` (docker/pg/build-images.sh)
//! and the pgboot image built from docker/Dockerfile (`$PGBOOT_IMAGE`, default
//! `pgboot-test/pgboot:local`). Every test uses its own container, network and compose project
//! names and removes them when it ends, also when it fails (the `Cleanup` guard).

use crate::support::{Run, PASSWORD};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn image() -> String {
    std::env::var("PGBOOT_IMAGE").unwrap_or_else(|_| "pgboot-test/pgboot:local".into())
}

fn pg_image(major: u32) -> String {
    format!("pgboot-test/postgres:{major}")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A name no other test (or concurrent run) uses.
fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "pgbt-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn docker(args: &[&str]) -> Run {
    Command::new("docker").args(args).output().unwrap().into()
}

/// `docker <args>`, asserting success; returns trimmed stdout.
fn docker_ok(args: &[&str]) -> String {
    let r = docker(args);
    assert_eq!(r.code, 0, "docker {args:?} failed:\n{}", r.all());
    r.stdout.trim().to_owned()
}

/// `docker compose` when the plugin exists, otherwise `docker-compose` (v1, Debian's package).
fn compose_cmd() -> Command {
    let v2 = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if v2 {
        let mut c = Command::new("docker");
        c.arg("compose");
        c
    } else {
        Command::new("docker-compose")
    }
}

/// Everything a test created; removed on drop, whatever happened.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
    projects: Vec<Project>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.projects {
            let _ = p
                .cmd(&["down", "-v", "--remove-orphans", "-t", "1"])
                .output();
        }
        if !self.containers.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(self.containers.iter().map(String::as_str));
            let _ = docker(&args);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
    }
}

impl Cleanup {
    fn network(&mut self) -> String {
        let n = unique("net");
        docker_ok(&["network", "create", &n]);
        self.networks.push(n.clone());
        n
    }

    /// A PostgreSQL container (user postgres, password `PASSWORD`) on `network` as `db`, with
    /// 5432 published on a loopback port; returns (container name, host port) once it answers.
    fn postgres(&mut self, major: u32, network: Option<&str>) -> (String, u16) {
        let name = unique(&format!("pg{major}"));
        let pw = format!("POSTGRES_PASSWORD={PASSWORD}");
        let mut args = vec![
            "run",
            "-d",
            "--name",
            &name,
            "-e",
            &pw,
            "-p",
            "127.0.0.1::5432",
        ];
        let net_arg;
        if let Some(n) = network {
            net_arg = format!("--network={n}");
            args.extend([net_arg.as_str(), "--network-alias", "db"]);
        }
        let img = pg_image(major);
        args.push(&img);
        self.containers.push(name.clone());
        docker_ok(&args);
        let port = published_port(&name);
        wait_ready(&name, port);
        (name, port)
    }

    fn project(&mut self) -> Project {
        let p = Project {
            name: unique("cf"),
            db_port: crate::support::free_port(),
        };
        self.projects.push(p.clone());
        p
    }
}

fn published_port(container: &str) -> u16 {
    let out = docker_ok(&["port", container, "5432/tcp"]);
    out.lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no published port for {container}: {out:?}"))
}

fn url(port: u16, db: &str) -> String {
    format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/{db}?sslmode=disable")
}

/// Runs one query, or returns the error (the server may be down or starting).
fn try_query(url: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fut = async {
            let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            client.simple_query(sql).await
        };
        let msgs = tokio::time::timeout(Duration::from_secs(10), fut)
            .await
            .map_err(|_| "timeout".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect())
    })
}

fn one(url: &str, sql: &str) -> String {
    try_query(url, sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
        .unwrap_or_default()
}

/// Waits until the container's server answers over TCP (the image's init server is socket-only).
fn wait_ready(container: &str, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match try_query(&url(port, "postgres"), "SELECT 1") {
            Ok(_) => return,
            Err(e) if Instant::now() > deadline => panic!(
                "{container} not ready after 90 s: {e}\n{}",
                docker(&["logs", container]).all()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// Polls `cond` every 100 ms until it holds or `secs` pass.
fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    cond()
}

/// A migrations directory the image's non-root user can read when mounted.
fn readable_migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = crate::support::migrations(files);
    make_readable(d.path());
    d
}

fn make_readable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
}

/// The repository's migration files (name, contents), in order.
fn repo_migrations() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(repo().join("migrations"))
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let name = p.file_name()?.to_str()?.to_owned();
            let ok = name.ends_with(".sql")
                && !name.ends_with(".down.sql")
                && name.chars().next()?.is_ascii_digit();
            ok.then(|| (name, std::fs::read_to_string(&p).unwrap()))
        })
        .collect();
    v.sort();
    assert!(
        v.len() >= 6,
        "expected the ClientForge migrations, got {v:?}"
    );
    v
}

fn stem(file: &str) -> &str {
    file.trim_end_matches(".sql").trim_end_matches(".up")
}

/// `docker run -d` of the pgboot image on `network`, reaching the server as `db`.
fn run_pgboot(clean: &mut Cleanup, network: &str, migrations: &Path, extra_env: &[&str]) -> String {
    let name = unique("pgboot");
    let net = format!("--network={network}");
    let mount = format!("{}:/migrations:ro", migrations.display());
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
    for e in extra_env {
        args.extend(["-e", e]);
    }
    let img = image();
    args.push(&img);
    clean.containers.push(name.clone());
    docker_ok(&args);
    name
}

/// Waits for a container to exit (at most `secs`), returns its exit code.
fn wait_exit(container: &str, secs: u64) -> i32 {
    let exited = eventually(secs, || {
        docker_ok(&["inspect", "-f", "{{.State.Status}}", container]) == "exited"
    });
    assert!(
        exited,
        "{container} still running after {secs} s:\n{}",
        docker(&["logs", container]).all()
    );
    docker_ok(&["inspect", "-f", "{{.State.ExitCode}}", container])
        .parse()
        .unwrap()
}

fn logs(container: &str) -> String {
    docker(&["logs", container]).all()
}

fn sleeping_backends(port: u16) -> i64 {
    one(
        &url(port, "postgres"),
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()",
    )
    .parse()
    .unwrap()
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
    let c = run_pgboot(&mut clean, &net, dir.path(), &[]);
    assert!(
        eventually(30, || sleeping_backends(port) == 1),
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
        eventually(3, || sleeping_backends(port) == 0),
        "a backend still runs the query"
    );
    let locks = one(
        &url(port, "postgres"),
        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
         WHERE l.locktype = 'advisory' AND d.datname = 'postgres'",
    );
    assert_eq!(locks, "0", "advisory lock still held");
    let applied = one(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(applied, "0", "the interrupted file must not be recorded");
    eprintln!("docker stop returned in {took:?}, exit {code}");
}

/// Container ids of one compose service (running or not).
fn service_containers(p: &Project, service: &str) -> Vec<String> {
    let proj = format!("label=com.docker.compose.project={}", p.name);
    let svc = format!("label=com.docker.compose.service={service}");
    docker_ok(&["ps", "-a", "-q", "--filter", &proj, "--filter", &svc])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[derive(Clone)]
struct Project {
    name: String,
    db_port: u16,
}

impl Project {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = compose_cmd();
        c.current_dir(repo())
            .env("CLIENTFORGE_DB_PORT", self.db_port.to_string())
            .env("PGBOOT_IMAGE", image())
            .env_remove("POSTGRES_USER")
            .env_remove("POSTGRES_PASSWORD")
            .env_remove("POSTGRES_DB")
            .args(["-p", &self.name])
            .args([
                "-f",
                "docker-compose.yml",
                "-f",
                "docker/compose.local-images.yml",
            ])
            .args(args);
        c
    }
    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(r.code, 0, "compose {args:?}:\n{}", r.all());
        r
    }
    /// The compose file's default credentials (docker-compose.yml).
    fn url(&self) -> String {
        format!(
            "postgres://postgres:clientforge-dev@127.0.0.1:{}/clientforge?sslmode=disable",
            self.db_port
        )
    }
}

fn started_at(container: &str) -> String {
    docker_ok(&["inspect", "-f", "{{.State.StartedAt}}", container])
}

fn finished_at(container: &str) -> String {
    docker_ok(&["inspect", "-f", "{{.State.FinishedAt}}", container])
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
    let m = service_containers(&p, "migrate");
    assert_eq!(m.len(), 1);
    let m = m[0].clone();
    assert!(service_containers(&p, "db").is_empty());
    assert!(
        eventually(30, || logs(&m).contains("waiting for PostgreSQL")),
        "migrate did not report waiting:\n{}",
        logs(&m)
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        docker_ok(&["inspect", "-f", "{{.State.Status}}", &m]),
        "running",
        "migrate gave up before db existed:\n{}",
        logs(&m)
    );

    // Now the rest of the project.
    p.ok(&["up", "-d"]);
    let app = service_containers(&p, "app");
    assert_eq!(app.len(), 1, "app not created");
    let app = app[0].clone();
    assert_eq!(wait_exit(&m, 120), 0, "migrate:\n{}", logs(&m));
    assert_eq!(wait_exit(&app, 60), 0, "app:\n{}", logs(&app));

    let mlog = logs(&m);
    assert!(
        mlog.contains(&format!(
            "summary: applied {}, already up to date 0",
            files.len()
        )),
        "{mlog}"
    );
    let alog = logs(&app);
    for (f, _) in &files {
        assert!(alog.contains(stem(f)), "app did not see {f}:\n{alog}");
    }
    // RFC 3339 timestamps in UTC compare as strings.
    let (m_end, app_start) = (finished_at(&m), started_at(&app));
    assert!(
        app_start >= m_end,
        "app started at {app_start}, before migrate finished at {m_end}"
    );
    let n = one(
        &p.url(),
        "SELECT count(*) FROM pgboot.schema_history WHERE success",
    );
    assert_eq!(n, files.len().to_string());
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
    let ms = service_containers(&p, "migrate");
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
    assert_eq!(applied_total, files.len(), "files applied across replicas");
    let rows = try_query(
        &p.url(),
        "SELECT name FROM pgboot.schema_history ORDER BY name",
    )
    .unwrap();
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
    let c = run_pgboot(&mut clean, &net, dir.path(), &[]);
    assert!(
        eventually(30, || sleeping_backends(port) == 1),
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
        let table = one(u, "SELECT to_regclass('public.slow_t') IS NOT NULL");
        let row = one(
            u,
            "SELECT count(*) FROM pgboot.schema_history WHERE name = '002_slow'",
        );
        (table, row)
    };
    let before = state(&u);
    assert!(
        before == ("f".into(), "0".into()) || before == ("t".into(), "1".into()),
        "half-applied after the crash: table exists={}, history rows={}",
        before.0,
        before.1
    );

    let c2 = run_pgboot(&mut clean, &net, dir.path(), &[]);
    assert_eq!(wait_exit(&c2, 90), 0, "rerun:\n{}", logs(&c2));
    assert_eq!(state(&u), ("t".into(), "1".into()));
    assert_eq!(one(&u, "SELECT count(*) FROM slow_t"), "1000");
    assert_eq!(one(&u, "SELECT count(*) FROM pgboot.schema_history"), "2");
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
        one(&u, "CREATE DATABASE clientforge");
        let u = url(port, "clientforge");

        let pairs: Vec<(&str, &str)> = base.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let dir = crate::support::migrations(&pairs);
        let r = crate::support::pgboot(&u, dir.path(), &["migrate"]);
        assert_eq!(r.code, 0, "pg{major}, 001-010:\n{}", r.all());
        assert_eq!(
            one(&u, "SELECT count(*) FROM pgboot.schema_history"),
            base.len().to_string(),
            "pg{major}"
        );

        let (vf, vb) = vector[0];
        std::fs::write(dir.path().join(vf), vb).unwrap();
        let r = crate::support::pgboot(&u, dir.path(), &["migrate"]);
        let has_vector = one(
            &u,
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'",
        ) == "1";
        assert_eq!(has_vector, major == 17, "pgvector only in the 17 image");
        if has_vector {
            assert_eq!(r.code, 0, "pg{major}, 011:\n{}", r.all());
            assert_eq!(
                one(&u, "SELECT count(*) FROM pgboot.schema_history"),
                files.len().to_string()
            );
        } else {
            assert_eq!(r.code, 1, "pg{major}, 011 without pgvector:\n{}", r.all());
            assert!(
                r.all().contains("pgvector/pgvector:pg17"),
                "pg{major}: no pgvector hint:\n{}",
                r.all()
            );
            assert_eq!(
                one(&u, "SELECT count(*) FROM pgboot.schema_history"),
                base.len().to_string(),
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
    let name = unique("pgboot-dns");
    let netarg = format!("--network={net}");
    let pw = format!("PGPASSWORD={PASSWORD}");
    clean.containers.push(name.clone());
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
    let n = one(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(n, repo_migrations().len().to_string());
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
    let name = unique("pgboot-k8s");
    let netarg = format!("--network={net}");
    let mount = format!("{}:/run/secrets/db:ro", secrets.path().display());
    clean.containers.push(name.clone());
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
    let n = one(
        &url(port, "postgres"),
        "SELECT count(*) FROM pgboot.schema_history",
    );
    assert_eq!(n, repo_migrations().len().to_string());
}
