//! A real PgBouncer in front of a test cluster: `PgBouncer::start(cluster(), PoolMode::Transaction)`.
//!
//! The ini it writes (see [`PgBouncer::ini`]) is the minimum a pooler in production has:
//! a wildcard database entry pointing at the cluster, md5 auth against an auth_file holding
//! postgres/[`PASSWORD`] in plain text (PgBouncer then logs in to the server with SCRAM using that
//! password), and `ignore_startup_parameters = extra_float_digits,options`: without it PgBouncer
//! refuses any client that sends `options` in its startup packet (pgboot does, for
//! `--statement-timeout` / `--session-lock-timeout`), and with it those settings are silently
//! dropped. Run as `nobody` when the tests run as root; killed (SIGKILL) on drop.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{as_pg_user, free_port, Cluster, PASSWORD};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
}

impl PoolMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
        }
    }
}

pub struct PgBouncer {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
    _tmp: tempfile::TempDir,
}

/// `$PGBOUNCER`, or `pgbouncer` on PATH, or Debian's /usr/sbin/pgbouncer.
pub fn pgbouncer_bin() -> PathBuf {
    if let Ok(p) = std::env::var("PGBOUNCER") {
        return PathBuf::from(p);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let p = d.join("pgbouncer");
            if p.is_file() {
                return p;
            }
        }
    }
    for p in [
        "/usr/sbin/pgbouncer",
        "/usr/local/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
    ] {
        if Path::new(p).is_file() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "PgBouncer not found: the pgbouncer:: tests need it (`apt-get install pgbouncer`, \
         or set PGBOUNCER to the binary)"
    );
}

impl PgBouncer {
    /// The ini for a pooler on `port` in front of `server_port`.
    pub fn ini(dir: &Path, port: u16, server_port: u16, mode: PoolMode) -> String {
        format!(
            "[databases]\n\
             * = host=127.0.0.1 port={server_port}\n\
             \n\
             [pgbouncer]\n\
             listen_addr = 127.0.0.1\n\
             listen_port = {port}\n\
             unix_socket_dir =\n\
             auth_type = md5\n\
             auth_file = {users}\n\
             admin_users = postgres\n\
             pool_mode = {mode}\n\
             max_client_conn = 500\n\
             default_pool_size = 10\n\
             reserve_pool_size = 0\n\
             ignore_startup_parameters = extra_float_digits,options\n\
             logfile = {log}\n\
             log_connections = 0\n\
             log_disconnections = 0\n\
             server_login_retry = 1\n",
            users = dir.join("userlist.txt").display(),
            log = dir.join("pgbouncer.log").display(),
            mode = mode.as_str(),
        )
    }

    /// Starts PgBouncer in front of `server` and waits until it accepts connections.
    pub fn start(server: &Cluster, mode: PoolMode) -> PgBouncer {
        let bin = pgbouncer_bin();
        let tmp = tempfile::Builder::new()
            .prefix("pgboot-bouncer-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        let port = free_port();
        std::fs::write(
            dir.join("userlist.txt"),
            format!("\"postgres\" \"{PASSWORD}\"\n"),
        )
        .unwrap();
        let ini = dir.join("pgbouncer.ini");
        std::fs::write(&ini, Self::ini(&dir, port, server.port, mode)).unwrap();
        if unsafe { libc::geteuid() } == 0 {
            let _ = Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(&dir)
                .status();
        }
        let mut cmd = Command::new(&bin);
        cmd.arg(&ini);
        let child = as_pg_user(cmd)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "starting {} failed ({e}): `apt-get install pgbouncer`",
                    bin.display()
                )
            });
        let mut b = PgBouncer {
            port,
            dir,
            child,
            _tmp: tmp,
        };
        b.wait_ready();
        b
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pgbouncer exited at start ({status}):\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "pgbouncer does not listen on {} after 20s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// PgBouncer's stderr and log file, for failure messages.
    pub fn log(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("{}{}", read("stderr.log"), read("pgbouncer.log"))
    }

    /// A URL to `db` through the pooler.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/{db}?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
