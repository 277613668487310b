//! `pgboot config [--json]`: the effective configuration and where each value came from
//! (password redacted).

use std::process::ExitCode;

use crate::config::Settings;
use crate::error::Result;
use crate::report::views::indexmap_like::{Entry, Ordered};
use crate::report::views::ConfigView;

pub fn run(s: &Settings, fig: &figment::Figment, json: bool) -> Result<ExitCode> {
    let source = |k: &str| -> String {
        match fig.find_metadata(k) {
            Some(m) => match &m.source {
                Some(figment::Source::File(p)) => format!("file {}", p.display()),
                _ => m.name.to_string(),
            },
            None => "unset".into(),
        }
    };
    let mut out = Ordered::default();
    for (k, value) in s.entries() {
        let source = source(k);
        out.0.push((k.to_owned(), Entry { value, source }));
    }
    let target = match s.connection() {
        Ok(t) => t.to_string(),
        Err(e) => format!("invalid: {e}"),
    };
    let derived = Entry {
        value: Some(target),
        source: "derived".into(),
    };
    out.0.push(("target".into(), derived));
    crate::report::emit(&ConfigView(out), json);
    Ok(ExitCode::SUCCESS)
}
