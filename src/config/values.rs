//! The value types of the settings: durations, TLS modes, log formats, and the lenient
//! reading that lets `port = 5432` in TOML and `PGPORT=5432` read the same way.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

const DURATION_HINT: &str = "use e.g. 500ms, 30s, 2m or a number of seconds";

/// A duration setting: a humantime string (`500ms`, `30s`, `2m`) or a plain number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl FromStr for Dur {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err(format!("empty duration; {DURATION_HINT}"));
        }
        if let Ok(secs) = s.parse::<u64>() {
            return Ok(Dur(Duration::from_secs(secs)));
        }
        let problem = if let Ok(secs) = s.parse::<f64>() {
            if secs.is_nan() {
                "not a number"
            } else if secs < 0.0 || s.starts_with('-') {
                "negative"
            } else {
                match Duration::try_from_secs_f64(secs) {
                    Ok(d) => return Ok(Dur(d)),
                    Err(_) => "too large",
                }
            }
        } else if s.starts_with('-') {
            "negative"
        } else {
            return humantime::parse_duration(s)
                .map(Dur)
                .map_err(|e| format!("invalid duration {} ({e}); {DURATION_HINT}", shown(s)));
        };
        Err(format!(
            "invalid duration {}: {problem}; {DURATION_HINT}",
            shown(s)
        ))
    }
}

/// A value for an error message, cut short when it is long.
fn shown(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{:?}…", &s[..i]),
        None => format!("{s:?}"),
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
                // 1e300 stays "1e300" rather than three hundred digits.
                let big_or_tiny = v.abs() >= 1e15 || (v != 0.0 && v.abs() < 1e-6);
                Ok(Stringish(if big_or_tiny {
                    format!("{v:e}")
                } else {
                    v.to_string()
                }))
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Stringish, E> {
                Ok(Stringish(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

pub(super) fn opt_port<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u16>, D::Error> {
    let s = Stringish::deserialize(d)?;
    s.0.trim().parse().map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid port {}; use a number from 1 to 65535",
            shown(&s.0)
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

/// The log format is a flag type (cli), also read from the environment and the file.
pub use crate::cli::LogFormat;
