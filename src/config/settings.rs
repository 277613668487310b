//! The settings: their one list (the [`Settings`] struct), their value types, and the layers
//! (defaults < config file < environment < command line) that fill them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

use super::values::opt_port;
use super::{env, redact_url, Dur, LogFormat, SslMode, TableName};
use crate::cli::Global;
use crate::cli::LockMode;
use crate::error::{Error, Result};

/// The effective settings, and the one list of them: field order is display order, a field's
/// serde default is the setting's default. Field names are the config-file keys and, upper-cased
/// with a `PGBOOT_` prefix, the environment variables. Foreign environment names (libpq's,
/// the postgres image's) are in `env.rs`, secrets in [`SECRETS`], flags in [`Global`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_port",
        skip_serializing_if = "Option::is_none"
    )]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dbname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslmode: Option<SslMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sslrootcert: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Dur>,
    #[serde(default = "default_migrations")]
    pub migrations: PathBuf,
    #[serde(default = "default_wait_timeout")]
    pub wait_timeout: Dur,
    /// How long to wait for the migration lock; unset waits as long as the holder runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout: Option<Dur>,
    /// `statement_timeout` set on the migration session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<Dur>,
    /// `lock_timeout` set on the migration session (PostgreSQL's, not pgboot's lock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_lock_timeout: Option<Dur>,
    #[serde(default)]
    pub log_format: LogFormat,
    #[serde(default = "default_history_table")]
    pub history_table: String,
    #[serde(default)]
    pub lock_mode: LockMode,
    /// Every transactional file's commit waits for its WAL flush. Off (the default): every file
    /// of a run but the last commits with `synchronous_commit = off`, and the run ends with a
    /// synchronous commit, which makes them all durable before pgboot exits.
    #[serde(default, deserialize_with = "flag")]
    pub sync_every_file: bool,
    /// psql variables for `:NAME`, `:'NAME'` and `:"NAME"` in migrations, as `psql -v NAME=value`
    /// set them: `[vars]` in the file, `PGBOOT_VAR_<NAME>`, `--var NAME=VALUE`; merged name by
    /// name, the higher layer winning. A migration's `\set` overrides them for the text after it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The seeds directory: applied after the migrations (and by `pgboot seed`), each file once.
    /// Unset: nothing seeds (production).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeds: Option<PathBuf>,
}

/// A yes/no setting: a TOML boolean, or `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off` from
/// the environment.
fn flag<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    let text = match Raw::deserialize(d)? {
        Raw::Bool(b) => return Ok(b),
        Raw::Int(i) => i.to_string(),
        Raw::Text(t) => t,
    };
    parse_flag(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "invalid value {text:?}; use true or false (also 1/0, yes/no, on/off)"
        ))
    })
}

fn parse_flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn default_migrations() -> PathBuf {
    PathBuf::from("./migrations")
}

fn default_wait_timeout() -> Dur {
    Dur(Duration::from_secs(60))
}

fn default_history_table() -> String {
    "pgboot.schema_history".into()
}

impl Default for Settings {
    /// Every field's serde default: what an empty configuration reads as.
    fn default() -> Self {
        serde_json::from_str("{}").expect("every setting has a default")
    }
}

/// How a secret setting is shown by `pgboot config`. Secrets may also come from `NAME_FILE`.
#[derive(Clone, Copy)]
pub(super) enum Secret {
    /// Shown as `<redacted>`.
    Whole,
    /// A connection string: shown with its password redacted.
    ConnString,
}

pub(super) const SECRETS: &[(&str, Secret)] = &[
    ("password", Secret::Whole),
    ("database_url", Secret::ConnString),
];

pub(super) fn is_secret(key: &str) -> bool {
    SECRETS.iter().any(|(k, _)| *k == key)
}

/// PostgreSQL's `statement_timeout` and `lock_timeout` are `int` milliseconds.
const PG_MS_SETTINGS: &[&str] = &["statement_timeout", "session_lock_timeout"];
const PG_MAX_MS: u128 = i32::MAX as u128;

/// The names of the settings, in display order: the fields of [`Settings`], as serde's derive
/// hands them to `Deserializer::deserialize_struct`.
pub fn keys() -> &'static [&'static str] {
    struct FieldNames;
    #[derive(Debug)]
    struct Fields(&'static [&'static str]);
    impl fmt::Display for Fields {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("field names")
        }
    }
    impl std::error::Error for Fields {}
    impl serde::de::Error for Fields {
        fn custom<T: fmt::Display>(_: T) -> Self {
            Fields(&[])
        }
    }
    impl<'de> serde::Deserializer<'de> for FieldNames {
        type Error = Fields;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
            Err(Fields(&[]))
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Fields> {
            Err(Fields(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }
    match Settings::deserialize(FieldNames) {
        Err(Fields(fields)) => fields,
        Ok(_) => unreachable!("FieldNames never yields a value"),
    }
}

impl Settings {
    fn validate(&self, fig: &Figment) -> Result<()> {
        TableName::parse(&self.history_table)?;
        for name in self.vars.keys() {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii())
            {
                let from = fig
                    .find_metadata(&format!("vars.{name}"))
                    .map(|m| describe_source(m, "var"))
                    .unwrap_or_default();
                return Err(Error::Config(format!(
                    "invalid configuration: psql variable name {name:?}: use letters, digits and _{from}"
                )));
            }
        }
        let durations = serde_json::to_value(self).unwrap_or_default();
        for key in PG_MS_SETTINGS {
            let Some(d) = durations
                .get(key)
                .and_then(|v| v.as_str()?.parse::<Dur>().ok())
            else {
                continue;
            };
            let ms = d.0.as_millis();
            let problem = if ms > PG_MAX_MS {
                format!("{d} is more than PostgreSQL allows (at most {PG_MAX_MS}ms, about 24 days 20 hours)")
            } else if ms == 0 && !d.0.is_zero() {
                format!("{d} is less than 1ms, PostgreSQL's unit (it would be sent as 0, which turns the timeout off)")
            } else {
                continue;
            };
            let from = fig
                .find_metadata(key)
                .map(|m| describe_source(m, key))
                .unwrap_or_default();
            return Err(Error::Config(format!(
                "invalid configuration: setting {key}: {problem}{from}"
            )));
        }
        Ok(())
    }

    /// Each setting with its display value (secrets redacted), for `pgboot config`.
    pub fn entries(&self) -> Vec<(&'static str, Option<String>)> {
        let values = serde_json::to_value(self).unwrap_or_default();
        keys()
            .iter()
            .map(|&k| {
                let v = match values.get(k) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                };
                let v = match SECRETS.iter().find(|(s, _)| *s == k) {
                    Some((_, Secret::Whole)) => v.map(|_| "<redacted>".to_owned()),
                    Some((_, Secret::ConnString)) => v.map(|u| redact_url(&u)),
                    None => v,
                };
                (k, v)
            })
            .collect()
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

/// The config file, already parsed: a syntax error is reported by [`read_toml`] without the
/// file's text, which may hold a password.
struct TomlFile {
    path: PathBuf,
    dict: Dict,
}

impl Provider for TomlFile {
    fn metadata(&self) -> Metadata {
        Metadata::from("TOML file", self.path.as_path())
    }
    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// Reads and parses the config file. Errors name the file, line and column and the kind of
/// problem, never the content (toml's own message quotes the offending line).
fn read_toml(path: &Path) -> Result<TomlFile> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Config(format!(
            "config file {}: cannot read it: {e}",
            path.display()
        ))
    })?;
    let dict = Toml::from_str::<Dict>(&text).map_err(|e| {
        let at = e
            .span()
            .map(|span| {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                format!(":{line}:{column}")
            })
            .unwrap_or_default();
        let kind: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        Error::Config(format!(
            "config file {}{at}: not valid TOML: {} (the line is not shown: it may hold a secret)",
            path.display(),
            kind.join("; ")
        ))
    })?;
    Ok(TomlFile {
        path: path.to_owned(),
        dict,
    })
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
    flags: &Global,
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
        fig = fig.merge(read_toml(&file.path)?);
    } else if file.required {
        return Err(Error::Config(format!(
            "config file {} does not exist; fix --config / PGBOOT_CONFIG or create the file",
            file.path.display()
        )));
    }

    for var in env::vars(env)? {
        fig = fig.merge(var);
    }

    Ok(fig.merge(Named {
        name: "command line",
        inner: Serialized::defaults(flags),
    }))
}

/// Extracts settings, turning figment's errors into messages that name the key and its source.
pub fn extract(fig: &Figment) -> Result<Settings> {
    let settings: Settings = fig.extract().map_err(|errs| {
        let lines: Vec<String> = errs
            .into_iter()
            .map(|e| {
                let key = e.path.join(".");
                let from = e
                    .metadata
                    .as_ref()
                    .map(|m| describe_source(m, &key))
                    .unwrap_or_default();
                let what = match &e.kind {
                    figment::error::Kind::UnknownField(f, _) => {
                        format!(
                            "unknown setting {f:?}; known settings: {}",
                            keys().join(", ")
                        )
                    }
                    // A secret's value is never echoed, not even when it is malformed.
                    figment::error::Kind::InvalidType(_, exp)
                    | figment::error::Kind::InvalidValue(_, exp)
                        if is_secret(&key) =>
                    {
                        format!("invalid value (not shown: it is a secret); expected {exp}")
                    }
                    _ if is_secret(&key) => "invalid value (not shown: it is a secret)".into(),
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
    settings.validate(fig)?;
    Ok(settings)
}

/// " (in FILE)", " (from VARIABLE)" or " (from --flag)".
fn describe_source(m: &Metadata, key: &str) -> String {
    match &m.source {
        Some(figment::Source::File(p)) => format!(" (in {})", p.display()),
        _ if m.name == "command line" && !key.is_empty() => {
            format!(" (from --{})", key.replace('_', "-"))
        }
        _ => format!(" (from {})", m.name),
    }
}
