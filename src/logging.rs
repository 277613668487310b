//! Logs on stderr through tracing-subscriber: readable text on a terminal, JSON lines otherwise
//! (or as `--log-format` says). The filter is `PGBOOT_LOG` (default `info`).

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

static JSON: OnceLock<bool> = OnceLock::new();

/// Whether logs (and the final error) are JSON.
pub fn is_json() -> bool {
    JSON.get().copied().unwrap_or(false)
}

/// JSON for `auto` when stderr is not a terminal: containers, CI and log shippers.
pub fn resolve(format: LogFormat) -> bool {
    match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    }
}

pub fn init(format: LogFormat) {
    let json = resolve(format);
    let _ = JSON.set(json);
    let (filter, bad) = match std::env::var("PGBOOT_LOG") {
        Ok(spec) => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (
                EnvFilter::new("info"),
                Some(format!(
                    "PGBOOT_LOG={spec:?} is not a valid filter ({e}); using info"
                )),
            ),
        },
        Err(_) => (EnvFilter::new("info"), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
    if let Some(msg) = bad {
        tracing::warn!("{msg}");
    }
}
