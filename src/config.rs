//! Layered configuration (figment): defaults < config file < environment < command line.
//!
//! Every value remembers where it came from (figment's metadata), which `pgboot config` prints.
//! The environment layer itself is ordered: POSTGRES_* < libpq PG* < DATABASE_URL < PGBOOT_*.
//! Secrets may come from `NAME_FILE` (Docker/Kubernetes secrets); setting NAME and NAME_FILE is an error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A duration setting: a humantime string (`500ms`, `30s`, `2m`) or a plain number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(Dur(Duration::from_secs(secs)));
        }
        if let Ok(secs) = s.parse::<f64>() {
            if secs.is_finite() && secs >= 0.0 {
                return Ok(Dur(Duration::from_secs_f64(secs)));
            }
        }
        humantime::parse_duration(s).map(Dur).map_err(|e| {
            format!("invalid duration {s:?} ({e}); use e.g. 500ms, 30s, 2m or a number of seconds")
        })
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

impl Serialize for Dur {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Stringish::deserialize(d)?;
        v.0.parse().map_err(serde::de::Error::custom)
    }
}

/// Accepts a string, an integer, a float or a bool and keeps its text, so that
/// `port = 5432` in TOML and `PGPORT=5432` in the environment read the same way.
struct Stringish(String);

impl<'de> Deserialize<'de> for Stringish {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Stringish;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_owned()))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn opt_port<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<u16>, D::Error> {
    let s = Stringish::deserialize(d)?;
    s.0.trim().parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid port {:?}; use a number from 1 to 65535",
            s.0
        ))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl FromStr for SslMode {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "disable" => SslMode::Disable,
            "prefer" | "allow" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                "invalid sslmode {other:?}; use disable, prefer, require, verify-ca or verify-full"
            ))
            }
        })
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(LogFormat::Auto),
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "invalid log format {other:?}; use text, json or auto"
            )),
        }
    }
}

/// The effective settings. Field names are the config-file keys and, upper-cased with
/// a `PGBOOT_` prefix, the environment variables.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_port",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<SslMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sslrootcert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Dur>,
    pub migrations: PathBuf,
    pub wait_timeout: Dur,
    /// How long to wait for the migration lock; unset waits as long as the holder runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<Dur>,
    /// `statement_timeout` set on the migration session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<Dur>,
    /// `lock_timeout` set on the migration session (PostgreSQL's, not pgboot's lock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lock_timeout: Option<Dur>,
    pub log_format: LogFormat,
    pub history_table: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: None,
            host: None,
            port: None,
            user: None,
            password: None,
            dbname: None,
            sslmode: None,
            sslrootcert: None,
            application_name: None,
            connect_timeout: None,
            migrations: PathBuf::from("./migrations"),
            wait_timeout: Dur(Duration::from_secs(60)),
            lock_timeout: None,
            statement_timeout: None,
            session_lock_timeout: None,
            log_format: LogFormat::Auto,
            history_table: "pgboot.schema_history".into(),
        }
    }
}

/// Every setting, in display order. Must list each field of [`Settings`].
pub const KEYS: &[&str] = &[
    "database_url",
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "application_name",
    "connect_timeout",
    "migrations",
    "wait_timeout",
    "lock_timeout",
    "statement_timeout",
    "session_lock_timeout",
    "log_format",
    "history_table",
];

/// Settings that may be read from a file named by `NAME_FILE`.
const SECRET_KEYS: &[&str] = &["password", "database_url"];

/// The command-line layer: only what was given is serialized, so it overrides nothing else.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lock_timeout: Option<Dur>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_table: Option<String>,
}

/// One environment variable (or `_FILE` secret) as a figment provider of one key,
/// so that `pgboot config` can say exactly which variable a value came from.
struct Var {
    origin: String,
    key: &'static str,
    value: String,
}

impl Provider for Var {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.origin.clone())
    }
    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        let mut dict = Dict::new();
        dict.insert(self.key.to_owned(), Value::from(self.value.clone()));
        Ok(Profile::Default.collect(dict))
    }
}

/// Gives a provider a name of our choosing ("default", "command line") for `pgboot config`.
struct Named<P> {
    name: &'static str,
    inner: P,
}

impl<P: Provider> Provider for Named<P> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }
    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        self.inner.data()
    }
}

/// Environment variables understood besides `PGBOOT_*`, lowest precedence first.
const FOREIGN_ENV: &[(&str, &str)] = &[
    ("POSTGRES_USER", "user"),
    ("POSTGRES_PASSWORD", "password"),
    ("POSTGRES_DB", "dbname"),
    ("PGHOST", "host"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("DATABASE_URL", "database_url"),
];

/// `PGBOOT_*` variables that are not settings.
const PGBOOT_NON_SETTINGS: &[&str] = &["PGBOOT_CONFIG", "PGBOOT_LOG"];

/// Reads one variable, or its `_FILE` twin, into a provider.
fn env_var(env: &BTreeMap<String, String>, name: &str, key: &'static str) -> Result<Option<Var>> {
    let file_name = format!("{name}_FILE");
    let secret = SECRET_KEYS.contains(&key);
    match (env.get(name), env.get(&file_name).filter(|_| secret)) {
        (Some(_), Some(_)) => Err(Error::Config(format!(
            "both {name} and {file_name} are set; set only one of them"
        ))),
        (Some(v), None) => Ok(Some(Var {
            origin: format!("environment variable {name}"),
            key,
            value: v.clone(),
        })),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::Config(format!(
                    "{file_name}={path}: cannot read the secret file: {e}; mount the secret or unset {file_name}"
                ))
            })?;
            let value = text
                .strip_suffix("\r\n")
                .or_else(|| text.strip_suffix('\n'))
                .unwrap_or(&text)
                .to_owned();
            Ok(Some(Var {
                origin: format!("file {path} (from {file_name})"),
                key,
                value,
            }))
        }
        (None, None) => Ok(None),
    }
}

/// Where the config file is and whether it must exist.
pub struct ConfigFile {
    pub path: PathBuf,
    pub required: bool,
}

impl ConfigFile {
    pub fn new(explicit: Option<PathBuf>) -> Self {
        match explicit {
            Some(path) => ConfigFile {
                path,
                required: true,
            },
            None => ConfigFile {
                path: PathBuf::from("pgboot.toml"),
                required: false,
            },
        }
    }
}

/// Builds the layered figment. Pure apart from reading the config file and `_FILE` secrets.
pub fn figment(
    file: &ConfigFile,
    env: &BTreeMap<String, String>,
    cli: &Overrides,
) -> Result<Figment> {
    let mut fig = Figment::from(Named {
        name: "default",
        inner: Serialized::defaults(Settings::default()),
    });

    if file.path.exists() {
        if file.path.is_dir() {
            return Err(Error::Config(format!(
                "config file {} is a directory; pass a TOML file to --config",
                file.path.display()
            )));
        }
        fig = fig.merge(Toml::file_exact(&file.path));
    } else if file.required {
        return Err(Error::Config(format!(
            "config file {} does not exist; fix --config / PGBOOT_CONFIG or create the file",
            file.path.display()
        )));
    }

    for (name, key) in FOREIGN_ENV {
        if let Some(var) = env_var(env, name, key)? {
            fig = fig.merge(var);
        }
    }

    for (name, _) in env.range("PGBOOT_".to_owned()..) {
        let Some(rest) = name.strip_prefix("PGBOOT_") else {
            break;
        };
        if PGBOOT_NON_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let base = lower.strip_suffix("_file").unwrap_or(&lower);
        let Some(key) = KEYS
            .iter()
            .find(|k| **k == lower || (**k == base && SECRET_KEYS.contains(k)))
        else {
            return Err(Error::Config(format!(
                "unknown setting in environment variable {name}; known PGBOOT_ settings: {}",
                KEYS.iter()
                    .map(|k| k.to_ascii_uppercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        if lower.ends_with("_file")
            && env.contains_key(&format!("PGBOOT_{}", base.to_ascii_uppercase()))
        {
            continue; // reported by env_var as "both set"
        }
        let plain = format!("PGBOOT_{}", key.to_ascii_uppercase());
        if let Some(var) = env_var(env, &plain, key)? {
            fig = fig.merge(var);
        }
    }

    Ok(fig.merge(Named {
        name: "command line",
        inner: Serialized::defaults(cli),
    }))
}

/// Extracts settings, turning figment's errors into messages that name the key and its source.
pub fn extract(fig: &Figment) -> Result<Settings> {
    let settings: Settings = fig.extract().map_err(|errs| {
        let lines: Vec<String> = errs
            .into_iter()
            .map(|e| {
                let key = e.path.join(".");
                let from = e.metadata.as_ref().map(describe_source).unwrap_or_default();
                let what = match &e.kind {
                    figment::error::Kind::UnknownField(f, _) => {
                        format!("unknown setting {f:?}; known settings: {}", KEYS.join(", "))
                    }
                    kind => kind.to_string(),
                };
                if key.is_empty() {
                    format!("{what}{from}")
                } else {
                    format!("setting {key}: {what}{from}")
                }
            })
            .collect();
        Error::Config(format!("invalid configuration: {}", lines.join("; ")))
    })?;
    settings.validate()?;
    Ok(settings)
}

fn describe_source(m: &Metadata) -> String {
    match &m.source {
        Some(figment::Source::File(p)) => format!(" (in {})", p.display()),
        _ => format!(" (from {})", m.name),
    }
}

/// Loads settings from the real process environment.
pub fn load(config: Option<PathBuf>, cli: &Overrides) -> Result<(Settings, Figment)> {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let fig = figment(&ConfigFile::new(config), &env, cli)?;
    let settings = extract(&fig)?;
    Ok((settings, fig))
}

impl Settings {
    fn validate(&self) -> Result<()> {
        crate::history::TableName::parse(&self.history_table)?;
        Ok(())
    }

    /// Each setting with its display value (secrets redacted), for `pgboot config`.
    pub fn entries(&self) -> Vec<(&'static str, Option<String>)> {
        let d = |o: &Option<Dur>| o.map(|d| d.to_string());
        KEYS.iter()
            .map(|&k| {
                let v = match k {
                    "database_url" => self.database_url.as_deref().map(redact_url),
                    "host" => self.host.clone(),
                    "port" => self.port.map(|p| p.to_string()),
                    "user" => self.user.clone(),
                    "password" => self.password.as_ref().map(|_| "<redacted>".to_owned()),
                    "dbname" => self.dbname.clone(),
                    "sslmode" => self.sslmode.map(|m| m.to_string()),
                    "sslrootcert" => self.sslrootcert.as_ref().map(|p| p.display().to_string()),
                    "application_name" => self.application_name.clone(),
                    "connect_timeout" => d(&self.connect_timeout),
                    "migrations" => Some(self.migrations.display().to_string()),
                    "wait_timeout" => Some(self.wait_timeout.to_string()),
                    "lock_timeout" => d(&self.lock_timeout),
                    "statement_timeout" => d(&self.statement_timeout),
                    "session_lock_timeout" => d(&self.session_lock_timeout),
                    "log_format" => Some(format!("{:?}", self.log_format).to_lowercase()),
                    "history_table" => Some(self.history_table.clone()),
                    _ => unreachable!("KEYS lists only Settings fields"),
                };
                (k, v)
            })
            .collect()
    }

    /// Builds the connection: the URL first, then the individual settings fill what it leaves out.
    pub fn connection(&self) -> Result<Target> {
        let mut pg = tokio_postgres::Config::new();
        let mut sslmode = self.sslmode;
        let mut sslrootcert = self.sslrootcert.clone();
        if let Some(url) = &self.database_url {
            let (rest, params) = take_tls_params(url);
            pg = rest.parse().map_err(|e| {
                Error::Config(format!(
                    "invalid database URL {}: {e}; expected postgres://user[:password]@host[:port]/dbname[?sslmode=...]",
                    redact_url(url)
                ))
            })?;
            if let Some(mode) = params.sslmode {
                sslmode = Some(mode.parse().map_err(|e| {
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

#[derive(Default, Debug, PartialEq)]
struct TlsParams {
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Removes `sslmode` and `sslrootcert` from a URL or key=value string: tokio-postgres
/// knows neither verify-ca/verify-full nor sslrootcert, pgboot handles them itself.
fn take_tls_params(conn: &str) -> (String, TlsParams) {
    let mut params = TlsParams::default();
    let mut take = |k: &str, v: &str| match k {
        "sslmode" => {
            params.sslmode = Some(v.to_owned());
            true
        }
        "sslrootcert" => {
            params.sslrootcert = Some(percent_decode(v));
            true
        }
        _ => false,
    };
    if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        let Some((base, query)) = conn.split_once('?') else {
            return (conn.to_owned(), params);
        };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                !take(k, v)
            })
            .collect();
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        (rest, params)
    } else {
        let kept: Vec<&str> = conn
            .split_whitespace()
            .filter(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                !take(k.trim(), v.trim_matches('\''))
            })
            .collect();
        (kept.join(" "), params)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Hides the password of a `postgres://user:password@host/db` URL or a `password=...` pair.
pub fn redact_url(url: &str) -> String {
    if let Some(scheme_end) = url.find("://") {
        let after = &url[scheme_end + 3..];
        let authority_end = after.find(['/', '?']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                return format!(
                    "{}{}:<redacted>{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[scheme_end + 3 + at..]
                );
            }
        }
        // A password can also hide in the query string.
        return redact_pairs(url, '&');
    }
    redact_pairs(url, ' ')
}

fn redact_pairs(s: &str, sep: char) -> String {
    let (head, query) = match (sep, s.split_once('?')) {
        ('&', Some((h, q))) => (format!("{h}?"), q),
        ('&', None) => return s.to_owned(),
        _ => (String::new(), s),
    };
    let parts: Vec<String> = query
        .split(sep)
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.trim().eq_ignore_ascii_case("password") => format!("{k}=<redacted>"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{head}{}", parts.join(&sep.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load_with(
        file: Option<&Path>,
        e: &[(&str, &str)],
        cli: Overrides,
    ) -> Result<(Settings, Figment)> {
        let cf = match file {
            Some(p) => ConfigFile::new(Some(p.to_owned())),
            None => ConfigFile {
                path: PathBuf::from("/nonexistent/pgboot.toml"),
                required: false,
            },
        };
        let fig = figment(&cf, &env(e), &cli)?;
        Ok((extract(&fig)?, fig))
    }

    fn source(fig: &Figment, key: &str) -> String {
        fig.find_metadata(key)
            .map(|m| m.name.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn defaults() {
        let (s, fig) = load_with(None, &[], Overrides::default()).unwrap();
        assert_eq!(s.migrations, PathBuf::from("./migrations"));
        assert_eq!(s.wait_timeout, Dur(Duration::from_secs(60)));
        assert_eq!(s.history_table, "pgboot.schema_history");
        assert!(s.lock_timeout.is_none());
        assert_eq!(source(&fig, "wait_timeout"), "default");
    }

    #[test]
    fn file_then_env_then_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgboot.toml");
        std::fs::write(
            &path,
            "migrations = \"from-file\"\nwait_timeout = \"10s\"\nlock_timeout = 7\nport = 6000\n",
        )
        .unwrap();

        let (s, _) = load_with(Some(&path), &[], Overrides::default()).unwrap();
        assert_eq!(s.migrations, PathBuf::from("from-file"));
        assert_eq!(s.lock_timeout, Some(Dur(Duration::from_secs(7))));
        assert_eq!(s.port, Some(6000));

        let e = [
            ("PGBOOT_MIGRATIONS", "from-env"),
            ("PGBOOT_WAIT_TIMEOUT", "500ms"),
        ];
        let (s, fig) = load_with(Some(&path), &e, Overrides::default()).unwrap();
        assert_eq!(s.migrations, PathBuf::from("from-env"));
        assert_eq!(s.wait_timeout, Dur(Duration::from_millis(500)));
        assert_eq!(
            source(&fig, "migrations"),
            "environment variable PGBOOT_MIGRATIONS"
        );
        assert_eq!(s.port, Some(6000), "untouched keys keep the file's value");

        let cli = Overrides {
            migrations: Some("from-flag".into()),
            ..Default::default()
        };
        let (s, fig) = load_with(Some(&path), &e, cli).unwrap();
        assert_eq!(s.migrations, PathBuf::from("from-flag"));
        assert_eq!(s.wait_timeout, Dur(Duration::from_millis(500)));
        assert_eq!(source(&fig, "migrations"), "command line");
    }

    #[test]
    fn env_families_in_order() {
        let e = [
            ("POSTGRES_USER", "pg_image_user"),
            ("POSTGRES_DB", "imagedb"),
            ("PGUSER", "libpq_user"),
        ];
        let (s, fig) = load_with(None, &e, Overrides::default()).unwrap();
        assert_eq!(s.user.as_deref(), Some("libpq_user"));
        assert_eq!(s.dbname.as_deref(), Some("imagedb"));
        assert_eq!(source(&fig, "dbname"), "environment variable POSTGRES_DB");

        let e = [
            ("DATABASE_URL", "postgres://a@h/db1"),
            ("PGBOOT_DATABASE_URL", "postgres://b@h/db2"),
        ];
        let (s, _) = load_with(None, &e, Overrides::default()).unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://b@h/db2"));
    }

    #[test]
    fn file_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret-from-file\n").unwrap();
        let pwp = pw.to_str().unwrap();
        let (s, fig) = load_with(
            None,
            &[("POSTGRES_PASSWORD_FILE", pwp)],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.password.as_deref(), Some("s3cret-from-file"));
        assert!(source(&fig, "password").contains("POSTGRES_PASSWORD_FILE"));

        let url = dir.path().join("url");
        std::fs::write(&url, "postgres://u:p@h/d\r\n").unwrap();
        let (s, _) = load_with(
            None,
            &[("PGBOOT_DATABASE_URL_FILE", url.to_str().unwrap())],
            Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.database_url.as_deref(), Some("postgres://u:p@h/d"));

        let err = load_with(
            None,
            &[("PGPASSWORD", "x"), ("PGPASSWORD_FILE", pwp)],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("both PGPASSWORD and PGPASSWORD_FILE"),
            "{err}"
        );
        let err = load_with(
            None,
            &[("PGBOOT_PASSWORD", "x"), ("PGBOOT_PASSWORD_FILE", pwp)],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("both PGBOOT_PASSWORD and PGBOOT_PASSWORD_FILE"),
            "{err}"
        );
        let err = load_with(
            None,
            &[("DATABASE_URL_FILE", "/nonexistent/secret")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("DATABASE_URL_FILE=/nonexistent/secret"),
            "{err}"
        );
    }

    #[test]
    fn bad_values_name_the_setting_and_source() {
        let err = load_with(
            None,
            &[("PGBOOT_WAIT_TIMEOUT", "soon")],
            Overrides::default(),
        )
        .unwrap_err();
        let m = err.to_string();
        assert!(
            m.contains("wait_timeout") && m.contains("PGBOOT_WAIT_TIMEOUT") && m.contains("30s"),
            "{m}"
        );
        let err = load_with(None, &[("PGPORT", "http")], Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("PGPORT"), "{err}");
        let err = load_with(None, &[("PGBOOT_MIGRATION", "x")], Overrides::default()).unwrap_err();
        assert!(err.to_string().contains("PGBOOT_MIGRATION"), "{err}");
        let err = load_with(
            None,
            &[("PGBOOT_HISTORY_TABLE", "bad name;")],
            Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("history_table"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgboot.toml");
        std::fs::write(&path, "migratons = \"x\"\n").unwrap();
        let err = load_with(Some(&path), &[], Overrides::default()).unwrap_err();
        let m = err.to_string();
        assert!(m.contains("migratons") && m.contains("pgboot.toml"), "{m}");
    }

    #[test]
    fn durations() {
        assert_eq!("30".parse::<Dur>().unwrap().0, Duration::from_secs(30));
        assert_eq!("1.5".parse::<Dur>().unwrap().0, Duration::from_millis(1500));
        assert_eq!(
            "500ms".parse::<Dur>().unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!("2m".parse::<Dur>().unwrap().0, Duration::from_secs(120));
        assert!("-1".parse::<Dur>().is_err());
    }

    #[test]
    fn connection_from_url_and_parts() {
        let s = Settings {
            database_url: Some("postgres://app:pw@db.example:6543/crm?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=3".into()),
            password: Some("ignored".into()),
            ..Default::default()
        };
        let t = s.connection().unwrap();
        assert_eq!(t.sslmode, SslMode::VerifyFull);
        assert_eq!(t.sslrootcert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(t.pg.get_password(), Some(&b"pw"[..]));
        assert_eq!(
            t.to_string(),
            "postgres://app@db.example:6543/crm?sslmode=verify-full"
        );

        let s = Settings {
            host: Some("db".into()),
            user: Some("u".into()),
            password: Some("secret".into()),
            ..Default::default()
        };
        let t = s.connection().unwrap();
        assert_eq!(
            t.dbname(),
            "u",
            "dbname defaults to the user, as libpq does"
        );
        assert_eq!(t.to_string(), "postgres://u@db:5432/u?sslmode=prefer");
        assert!(t.pg.get_application_name().unwrap().starts_with("pgboot@"));
        assert!(!t.to_string().contains("secret"));

        let s = Settings {
            database_url: Some("postgres://u:topsecret@h/d?sslmode=sometimes".into()),
            ..Default::default()
        };
        let m = s.connection().err().unwrap().to_string();
        assert!(m.contains("sslmode") && !m.contains("topsecret"), "{m}");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://u:p%40ss@h:5/d?x=1"),
            "postgres://u:<redacted>@h:5/d?x=1"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(
            redact_url("postgres://h/d?user=u&password=zz"),
            "postgres://h/d?user=u&password=<redacted>"
        );
        assert_eq!(
            redact_url("host=h password=zz user=u"),
            "host=h password=<redacted> user=u"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@h/d"),
            "postgres://u:<redacted>@h/d"
        );
    }

    #[test]
    fn keys_match_fields() {
        let v = serde_json::to_value(Settings {
            database_url: Some(String::new()),
            host: Some(String::new()),
            port: Some(1),
            user: Some(String::new()),
            password: Some(String::new()),
            dbname: Some(String::new()),
            sslmode: Some(SslMode::Disable),
            sslrootcert: Some(PathBuf::new()),
            application_name: Some(String::new()),
            connect_timeout: Some(Dur(Duration::ZERO)),
            lock_timeout: Some(Dur(Duration::ZERO)),
            statement_timeout: Some(Dur(Duration::ZERO)),
            session_lock_timeout: Some(Dur(Duration::ZERO)),
            ..Default::default()
        })
        .unwrap();
        let fields: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(fields.len(), KEYS.len());
        for k in KEYS {
            assert!(v.get(k).is_some(), "{k}");
        }
    }
}
