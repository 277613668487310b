//! Where to connect: the settings turned into a tokio-postgres config plus the TLS settings
//! tokio-postgres does not know.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::redact::{kv_pairs, percent_decode, scrub};
use super::{redact_url, Settings, SslMode};
use crate::error::{Error, Result};

const URL_HINT: &str =
    "expected postgres://user[:password]@host[:port]/dbname[?sslmode=...] or key=value pairs";

/// Where to connect, with the TLS settings tokio-postgres does not know.
#[derive(Clone)]
pub struct Target {
    pub pg: tokio_postgres::Config,
    pub sslmode: SslMode,
    pub sslrootcert: Option<PathBuf>,
}

impl Target {
    pub fn dbname(&self) -> &str {
        self.pg.get_dbname().unwrap_or("postgres")
    }
    pub fn user(&self) -> &str {
        self.pg.get_user().unwrap_or("postgres")
    }
}

impl fmt::Display for Target {
    /// A URL without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use tokio_postgres::config::Host;
        let hosts: Vec<String> = self
            .pg
            .get_hosts()
            .iter()
            .zip(self.pg.get_ports().iter().cycle())
            .map(|(h, p)| match h {
                Host::Tcp(h) if h.contains(':') => format!("[{h}]:{p}"),
                Host::Tcp(h) => format!("{h}:{p}"),
                Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        write!(
            f,
            "postgres://{}@{}/{}?sslmode={}",
            self.user(),
            hosts.join(","),
            self.dbname(),
            self.sslmode
        )
    }
}

impl Settings {
    /// Builds the connection: the URL first, then the individual settings fill what it leaves out.
    pub fn connection(&self) -> Result<Target> {
        let mut pg = tokio_postgres::Config::new();
        let mut sslmode = self.sslmode;
        let mut sslrootcert = self.sslrootcert.clone();
        if let Some(url) = &self.database_url {
            check_url(url)?;
            let (rest, params) = take_tls_params(url);
            pg = rest.parse().map_err(|e: tokio_postgres::Error| {
                let cause = std::error::Error::source(&e)
                    .map(|c| format!(" ({})", scrub(&c.to_string(), url)))
                    .unwrap_or_default();
                Error::Config(format!(
                    "invalid database URL {}: {e}{cause}; {URL_HINT}",
                    redact_url(url)
                ))
            })?;
            if let Some(mode) = params.sslmode {
                sslmode = Some(mode.parse().map_err(|e: String| {
                    Error::Config(format!("database URL {}: {e}", redact_url(url)))
                })?);
            }
            if let Some(root) = params.sslrootcert {
                sslrootcert = Some(PathBuf::from(root));
            }
        }
        if pg.get_hosts().is_empty() {
            match &self.host {
                Some(h) if h.starts_with('/') => {
                    pg.host_path(h);
                }
                Some(h) => {
                    for h in h.split(',') {
                        pg.host(h.trim());
                    }
                }
                None => {
                    pg.host("localhost");
                }
            }
        }
        if pg.get_ports().is_empty() {
            pg.port(self.port.unwrap_or(5432));
        }
        if pg.get_user().is_none() {
            pg.user(self.user.as_deref().unwrap_or("postgres"));
        }
        if pg.get_password().is_none() {
            if let Some(p) = &self.password {
                pg.password(p.as_str());
            }
        }
        if pg.get_dbname().is_none() {
            let db = self
                .dbname
                .clone()
                .or_else(|| pg.get_user().map(str::to_owned))
                .unwrap_or_else(|| "postgres".into());
            pg.dbname(&db);
        }
        if pg.get_application_name().is_none() {
            let name = self.application_name.clone().unwrap_or_else(|| {
                format!("pgboot@{}", gethostname::gethostname().to_string_lossy())
            });
            pg.application_name(&name);
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(
                self.connect_timeout
                    .map(|d| d.0)
                    .unwrap_or(Duration::from_secs(5)),
            );
        }
        let sslmode = sslmode.unwrap_or_default();
        pg.ssl_mode(match sslmode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        Ok(Target {
            pg,
            sslmode,
            sslrootcert,
        })
    }
}

fn is_url(conn: &str) -> bool {
    conn.starts_with("postgres://") || conn.starts_with("postgresql://")
}

/// Rejects URLs tokio-postgres would read differently from what was meant: it ends the user
/// info at the first `@`, so `u:p@@host` connects to the host `@host`, and an `@` in the
/// path or parameters turns everything before it into a user name.
pub(super) fn check_url(url: &str) -> Result<()> {
    if !is_url(url) {
        return Ok(());
    }
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    let Some(first_at) = rest.find('@') else {
        return Ok(());
    };
    let host = &rest[first_at + 1..];
    let host = &host[..host.find(['/', '?']).unwrap_or(host.len())];
    let problem = if rest[..first_at].contains(['/', '?']) {
        "an @ after the host"
    } else if host.contains('@') {
        "more than one @ before the host"
    } else {
        return Ok(());
    };
    Err(Error::Config(format!(
        "invalid database URL {}: {problem}; percent-encode @, / and ? in the user name, password or parameters (%40, %2F, %3F); {URL_HINT}",
        redact_url(url)
    )))
}

#[derive(Default, Debug, PartialEq)]
pub(super) struct TlsParams {
    pub sslmode: Option<String>,
    pub sslrootcert: Option<String>,
}

/// Removes `sslmode` and `sslrootcert` from a URL or key=value string: tokio-postgres
/// knows neither verify-ca/verify-full nor sslrootcert, pgboot handles them itself.
pub(super) fn take_tls_params(conn: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    let mut take = |k: &str, v: String| match k {
        "sslmode" => {
            params.sslmode = Some(v);
            true
        }
        "sslrootcert" => {
            params.sslrootcert = Some(v);
            true
        }
        _ => false,
    };
    if is_url(conn) {
        let Some((base, query)) = conn.split_once('?') else {
            return (conn.to_owned(), params);
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                !take(k, percent_decode(v))
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rest, params)
    } else {
        let (pairs, trouble) = kv_pairs(conn);
        if trouble.is_some() {
            // Left for tokio-postgres to reject.
            return (conn.to_owned(), params);
        }
        let mut rest = String::with_capacity(conn.len());
        let mut at = 0;
        for p in &pairs {
            if take(&conn[p.key.clone()], p.unquoted(conn)) {
                rest.push_str(&conn[at..p.key.start]);
                at = p.value.end;
            }
        }
        rest.push_str(&conn[at..]);
        (rest, params)
    }
}
