//! Docker engine helpers for tests/it/docker.rs: `docker`/`docker compose` commands, containers,
//! networks and compose projects that are removed when the test ends (the [`Cleanup`] guard).
//!
//! Needs the images tests/run.sh builds: `pgboot-test/postgres:13|15|17`
//! (docker/pg/build-images.sh) and the pgboot image built from docker/Dockerfile
//! (`$PGBOOT_IMAGE`, default `pgboot-test/pgboot:local`).

use super::{eventually, free_port, repo, run, try_query, url, Run, PASSWORD};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The pgboot image under test.
pub fn image() -> String {
    std::env::var("PGBOOT_IMAGE").unwrap_or_else(|_| "pgboot-test/pgboot:local".into())
}

pub fn pg_image(major: u32) -> String {
    format!("pgboot-test/postgres:{major}")
}

pub fn docker(args: &[&str]) -> Run {
    run(Command::new("docker").args(args))
}

/// `docker <args>`, asserting success; returns trimmed stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let r = docker(args);
    assert_eq!(r.code, 0, "docker {args:?} failed:\n{}", r.all());
    r.stdout.trim().to_owned()
}

/// `docker inspect -f <format> <object>`.
pub fn inspect(object: &str, format: &str) -> String {
    docker_ok(&["inspect", "-f", format, object])
}

/// A container's logs, stdout and stderr.
pub fn logs(container: &str) -> String {
    docker(&["logs", container]).all()
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
pub struct Cleanup {
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
            let _ = Command::new("docker").args(&args).output();
        }
        for n in &self.networks {
            let _ = Command::new("docker").args(["network", "rm", n]).output();
        }
    }
}

impl Cleanup {
    /// A container name to be removed at the end; `docker run --name` it.
    pub fn container(&mut self, what: &str) -> String {
        let name = super::unique(&format!("pgbt-{what}"));
        self.containers.push(name.clone());
        name
    }

    pub fn network(&mut self) -> String {
        let n = super::unique("pgbt-net");
        docker_ok(&["network", "create", &n]);
        self.networks.push(n.clone());
        n
    }

    /// A PostgreSQL container (user postgres, password `PASSWORD`) on `network` as `db`, with
    /// 5432 published on a loopback port; returns (container name, host port) once it answers.
    pub fn postgres(&mut self, major: u32, network: Option<&str>) -> (String, u16) {
        let name = self.container(&format!("pg{major}"));
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
        docker_ok(&args);
        let port = published_port(&name);
        wait_ready(&name, port);
        (name, port)
    }

    /// A compose project of the repo's docker-compose.yml, brought down at the end.
    pub fn project(&mut self) -> Project {
        let p = Project {
            name: super::unique("pgbt-cf"),
            db_port: free_port(),
        };
        self.projects.push(p.clone());
        p
    }
}

/// The loopback port a container's 5432 is published on.
pub fn published_port(container: &str) -> u16 {
    let out = docker_ok(&["port", container, "5432/tcp"]);
    out.lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no published port for {container}: {out:?}"))
}

/// Waits until the container's server answers over TCP (the image's init server is socket-only).
pub fn wait_ready(container: &str, port: u16) {
    let mut last = String::new();
    let ready = eventually(Duration::from_secs(90), || {
        match try_query(&url(port, "postgres"), "SELECT 1") {
            Ok(_) => true,
            Err(e) => {
                last = e;
                false
            }
        }
    });
    assert!(
        ready,
        "{container} not ready after 90 s: {last}\n{}",
        logs(container)
    );
}

/// Waits for a container to exit (at most `secs`), returns its exit code.
pub fn wait_exit(container: &str, secs: u64) -> i32 {
    let exited = eventually(Duration::from_secs(secs), || {
        inspect(container, "{{.State.Status}}") == "exited"
    });
    assert!(
        exited,
        "{container} still running after {secs} s:\n{}",
        logs(container)
    );
    inspect(container, "{{.State.ExitCode}}").parse().unwrap()
}

/// A migrations directory the image's non-root user can read when mounted.
pub fn readable_migrations(files: &[(&str, &str)]) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let d = super::migrations(files);
    let mode = |m| std::fs::Permissions::from_mode(m);
    std::fs::set_permissions(d.path(), mode(0o755)).unwrap();
    for e in std::fs::read_dir(d.path()).unwrap() {
        std::fs::set_permissions(e.unwrap().path(), mode(0o644)).unwrap();
    }
    d
}

/// A compose project: the repo's docker-compose.yml with the local images, under its own name.
#[derive(Clone)]
pub struct Project {
    pub name: String,
    pub db_port: u16,
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

    /// `docker compose <args>`, asserting success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = run(&mut self.cmd(args));
        assert_eq!(r.code, 0, "compose {args:?}:\n{}", r.all());
        r
    }

    /// The compose file's default credentials (docker-compose.yml).
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:clientforge-dev@127.0.0.1:{}/clientforge?sslmode=disable",
            self.db_port
        )
    }

    /// Container ids of one service (running or not).
    pub fn containers(&self, service: &str) -> Vec<String> {
        let proj = format!("label=com.docker.compose.project={}", self.name);
        let svc = format!("label=com.docker.compose.service={service}");
        docker_ok(&["ps", "-a", "-q", "--filter", &proj, "--filter", &svc])
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// The `-v` argument that mounts `dir` read-only at `at`.
pub fn mount(dir: &Path, at: &str) -> String {
    format!("{}:{at}:ro", dir.display())
}
