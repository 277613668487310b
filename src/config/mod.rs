//! Layered configuration (figment): defaults < config file < environment < command line.
//!
//! Every value remembers where it came from (figment's metadata), which `pgboot config` prints.
//! The settings are listed once, as the fields of [`Settings`] (`settings.rs`); the file keys,
//! the `PGBOOT_*` variables, the defaults and `pgboot config`'s rows all come from that struct;
//! their value types are in `values.rs`.
//! The environment layer (`env.rs`) is itself ordered: POSTGRES_* < libpq PG* < DATABASE_URL <
//! PGBOOT_*. Secrets may come from `NAME_FILE` (Docker/Kubernetes secrets). The command-line
//! layer is [`crate::cli::Global`] itself. `target.rs` turns the settings into a connection;
//! `redact.rs` hides passwords in connection strings, also malformed ones.
//!
//! This module uses only `cli` and `error` of the crate.

mod env;
mod redact;
mod settings;
mod table;
mod target;
#[cfg(test)]
mod tests;
mod values;

use std::collections::BTreeMap;

use figment::Figment;

pub use redact::redact_url;
pub use settings::Settings;
pub use table::TableName;
pub use target::Target;
/// The type of the duration settings (nothing outside this module names it today).
#[allow(unused_imports)]
pub use values::Dur;
pub use values::{LogFormat, SslMode};

use crate::cli::Global;
use crate::error::Result;

/// Loads settings from the real process environment, the config file (`flags.config`, else
/// `./pgboot.toml` when present) and the flags.
pub fn load(flags: &Global) -> Result<(Settings, Figment)> {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let file = settings::ConfigFile::new(flags.config.clone());
    let fig = settings::figment(&file, &env, flags)?;
    let settings = settings::extract(&fig)?;
    Ok((settings, fig))
}
