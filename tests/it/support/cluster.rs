//! The throwaway PostgreSQL clusters: initdb + pg_ctl on a free loopback port in a temp dir (run
//! as `nobody` when the tests run as root), the shared cluster of this test binary (stopped at
//! exit, which fails the run if a test left a database behind), and one database per test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::{count, one, query, try_query, PASSWORD};

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    pub bin: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

static CLUSTERS: Mutex<Vec<(PathBuf, PathBuf)>> = Mutex::new(Vec::new());

/// The shared cluster's bin directory and port, for the leftover check at exit.
static SHARED: OnceLock<(PathBuf, u16)> = OnceLock::new();

/// Runs at exit, after every test: fails the run when the shared cluster still holds a database
/// (every test's database is dropped by its [`TestDb`] or [`DropDb`] guard, also when the test
/// fails), then stops every cluster this binary started.
extern "C" fn stop_all() {
    let leftovers = SHARED
        .get()
        .and_then(|(bin, port)| leftover_databases(bin, *port));
    if let Ok(list) = CLUSTERS.lock() {
        for (bin, data) in list.iter() {
            let _ = as_pg_user(Command::new(bin.join("pg_ctl")))
                .args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(data)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    if let Some(names) = leftovers {
        eprintln!("\nerror: test databases left behind on the shared cluster: {names}");
        // Nothing can panic here (atexit); `_exit` makes the run fail without running exit
        // handlers twice.
        unsafe { libc::_exit(1) };
    }
}

/// Non-template databases other than `postgres`, through psql (no async runtime at exit).
/// `None` when there are none, or when psql is missing or fails: the check is best effort.
fn leftover_databases(bin: &Path, port: u16) -> Option<String> {
    let out = Command::new(bin.join("psql"))
        .env("PGPASSWORD", PASSWORD)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "postgres"])
        .args(["-d", "postgres", "-X", "-A", "-t", "-c"])
        .arg("SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let names = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !names.is_empty()).then_some(names)
}

/// The directory holding initdb/pg_ctl: $PG_BIN, `pg_config --bindir`, or the newest /usr/lib/postgresql/*/bin.
pub fn pg_bin() -> PathBuf {
    if let Ok(p) = std::env::var("PG_BIN") {
        return PathBuf::from(p);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if p.join("initdb").exists() {
            return p;
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL not found: install it (the README's test command does) or set PG_BIN")
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql")
        .1
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// Runs the command as `nobody` when we are root: initdb and postgres refuse to run as root.
pub fn as_pg_user(cmd: Command) -> Command {
    if !is_root() {
        return cmd;
    }
    let mut wrapped = Command::new("setpriv");
    wrapped.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
    wrapped.arg(cmd.get_program());
    wrapped.args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    wrapped
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// initdb into a fresh temp dir; not started.
    pub fn init() -> Cluster {
        Self::init_with(&[])
    }

    pub fn init_with(extra_conf: &[&str]) -> Cluster {
        let bin = pg_bin();
        let tmp = tempfile::Builder::new()
            .prefix("pgboot-test-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        if is_root() {
            let _ = Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(&dir)
                .status();
            let _ = Command::new("chmod").args(["755"]).arg(&dir).status();
        }
        let data = dir.join("data");
        let out = as_pg_user(Command::new(bin.join("initdb")))
            .args([
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .arg("-D")
            .arg(&data)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\nshared_buffers = 32MB\n"
        );
        for line in extra_conf {
            conf.push_str(line);
            conf.push('\n');
        }
        let conf_path = data.join("postgresql.conf");
        let mut existing = std::fs::read_to_string(&conf_path).unwrap();
        existing.push_str(&conf);
        std::fs::write(&conf_path, existing).unwrap();
        CLUSTERS.lock().unwrap().push((bin.clone(), data));
        Cluster {
            port,
            dir,
            bin,
            _tmp: Some(tmp),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn start(&self) {
        let out = as_pg_user(Command::new(self.bin.join("pg_ctl")))
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("log"))
            .stdout(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
        );
    }

    pub fn stop(&self) {
        let _ = as_pg_user(Command::new(self.bin.join("pg_ctl")))
            .args(["stop", "-m", "fast", "-w", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    pub fn url(&self, db: &str) -> String {
        url(self.port, db)
    }

    /// A new, empty database for one test, dropped when the [`TestDb`] goes out of scope.
    pub fn create_db(&self, prefix: &str) -> TestDb {
        let name = unique(prefix);
        query(
            &self.url("postgres"),
            &format!("CREATE DATABASE {}", quote_ident(&name)),
        );
        TestDb {
            url: self.url(&name),
            _guard: self.drop_on_exit(&name),
            name,
            port: self.port,
        }
    }

    /// A guard that drops the database `name` when it goes out of scope: for databases a test
    /// makes pgboot create (`--create-database`, verify's scratch databases).
    pub fn drop_on_exit(&self, name: &str) -> DropDb {
        DropDb {
            admin_url: self.url("postgres"),
            name: name.to_owned(),
        }
    }
}

/// The superuser's URL for database `db` on a loopback port.
pub fn url(port: u16, db: &str) -> String {
    format!("postgres://postgres:{PASSWORD}@127.0.0.1:{port}/{db}?sslmode=disable")
}

/// A name no other test of this run, nor a concurrent run, uses: `<what>_<pid>_<n>`.
pub fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{what}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Drops its database (`DROP DATABASE IF EXISTS … WITH (FORCE)`) when dropped; errors are
/// ignored, so it never panics, also while a failing test unwinds.
pub struct DropDb {
    admin_url: String,
    name: String,
}

impl Drop for DropDb {
    fn drop(&mut self) {
        let _ = try_query(
            &self.admin_url,
            &format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ),
        );
    }
}

/// The shared cluster of this test binary, started on first use and stopped at exit.
///
/// With `PGBOOT_TEST_PORT` set, the tests use the server already listening on that loopback
/// port instead (user postgres, password [`PASSWORD`]): this is how the version matrix runs the
/// same suites against PostgreSQL 13, 15 and 17 containers.
pub fn cluster() -> &'static Cluster {
    static C: OnceLock<Cluster> = OnceLock::new();
    C.get_or_init(|| {
        let c = match std::env::var("PGBOOT_TEST_PORT") {
            Ok(port) => Cluster {
                port: port.parse().expect("PGBOOT_TEST_PORT is a port number"),
                dir: PathBuf::new(),
                bin: PathBuf::new(),
                _tmp: None,
            },
            Err(_) => {
                unsafe { libc::atexit(stop_all) };
                let c = Cluster::init();
                c.start();
                let _ = SHARED.set((c.bin.clone(), c.port));
                c
            }
        };
        // The repository's 001 creates the cluster-wide role clientforge_app if it is missing;
        // tests migrating it into several databases at once would race on pg_authid (23505),
        // which its existence check cannot see. A real server has it from its first migration.
        query(
            &c.url("postgres"),
            "DO $$ BEGIN CREATE ROLE clientforge_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE \
             NOREPLICATION NOBYPASSRLS; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
        );
        c
    })
}

/// One test's database; dropped (with its sessions) when this goes out of scope.
pub struct TestDb {
    pub url: String,
    pub name: String,
    pub port: u16,
    _guard: DropDb,
}

impl TestDb {
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        query(&self.url, sql)
    }
    /// First column of the first row.
    pub fn one(&self, sql: &str) -> Option<String> {
        one(&self.url, sql)
    }
    pub fn count(&self, sql: &str) -> i64 {
        count(&self.url, sql)
    }
}
