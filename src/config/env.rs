//! The environment layer, lowest precedence first: `POSTGRES_*` (the postgres image's),
//! libpq's `PG*`, `DATABASE_URL`, then `PGBOOT_<SETTING>` for every setting.
//! A secret may come from `NAME_FILE` (Docker/Kubernetes secrets); setting NAME and NAME_FILE is an error.

use std::collections::BTreeMap;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::settings::{is_secret, keys};
use crate::error::{Error, Result};

/// Environment variables understood besides `PGBOOT_*`, lowest precedence first.
pub(super) const FOREIGN_ENV: &[(&str, &str)] = &[
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
const PGBOOT_NON_SETTINGS: &[&str] = &["PGBOOT_CONFIG", "PGBOOT_LOG", "PGBOOT_STREAM_THRESHOLD"];

/// One environment variable (or `_FILE` secret) as a figment provider of one key,
/// so that `pgboot config` can say exactly which variable a value came from.
pub(super) struct Var {
    origin: String,
    key: &'static str,
    value: String,
    /// `PGBOOT_VAR_<NAME>`: the value is `vars.NAME`.
    table_key: Option<String>,
}

impl Provider for Var {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.origin.clone())
    }
    fn data(&self) -> figment::Result<Map<Profile, Dict>> {
        let mut dict = Dict::new();
        let value = Value::from(self.value.clone());
        match &self.table_key {
            Some(name) => {
                let mut table = Dict::new();
                table.insert(name.clone(), value);
                dict.insert(self.key.to_owned(), Value::from(table));
            }
            None => {
                dict.insert(self.key.to_owned(), value);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// Reads one variable, or its `_FILE` twin, into a provider.
fn env_var(env: &BTreeMap<String, String>, name: &str, key: &'static str) -> Result<Option<Var>> {
    let file_name = format!("{name}_FILE");
    let secret = is_secret(key);
    match (env.get(name), env.get(&file_name).filter(|_| secret)) {
        (Some(_), Some(_)) => Err(Error::Config(format!(
            "both {name} and {file_name} are set; set only one of them"
        ))),
        (Some(v), None) => Ok(Some(Var {
            origin: format!("environment variable {name}"),
            key,
            value: v.clone(),
            table_key: None,
        })),
        (None, Some(path)) => {
            // io::Error's text names the problem, never the content.
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
                table_key: None,
            }))
        }
        (None, None) => Ok(None),
    }
}

/// The environment's providers, lowest precedence first.
pub(super) fn vars(env: &BTreeMap<String, String>) -> Result<Vec<Var>> {
    let mut out = Vec::new();
    for (name, key) in FOREIGN_ENV {
        out.extend(env_var(env, name, key)?);
    }

    let keys = keys();
    for (name, _) in env.range("PGBOOT_".to_owned()..) {
        let Some(rest) = name.strip_prefix("PGBOOT_") else {
            break;
        };
        if PGBOOT_NON_SETTINGS.contains(&name.as_str()) {
            continue;
        }
        if let Some(var) = rest.strip_prefix("VAR_") {
            // A psql variable, as `psql -v NAME=value`; the name keeps its case.
            out.push(Var {
                origin: format!("environment variable {name}"),
                key: "vars",
                value: env[name].clone(),
                table_key: Some(var.to_owned()),
            });
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let base = lower.strip_suffix("_file").unwrap_or(&lower);
        let Some(key) = keys
            .iter()
            .filter(|k| **k != "vars")
            .find(|k| **k == lower || (**k == base && is_secret(k)))
        else {
            return Err(Error::Config(format!(
                "unknown setting in environment variable {name}; known PGBOOT_ settings: {}",
                keys.iter()
                    .map(|k| match *k {
                        "vars" => "VAR_<NAME>".to_owned(),
                        k => k.to_ascii_uppercase(),
                    })
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
        out.extend(env_var(env, &plain, key)?);
    }
    Ok(out)
}
