//! insta settings for pgboot's output. Snapshots live in tests/it/snapshots/ and must not change
//! between runs nor between PostgreSQL 13, 15 and 17, so everything that varies is replaced by a
//! placeholder: timestamps, durations, ports, temporary paths, database and role names with
//! pids and counters, pids, the host name and the server version.
//!
//! ```ignore
//! let _s = snap::settings().bind_to_scope();
//! insta::assert_snapshot!("syntax_error", r.stderr);
//! ```

/// Settings with every filter below; bind them to the test's scope.
pub fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(true);
    s.set_omit_expression(true);
    // Temporary directories (tempfile's names) wherever they appear, also in JSON strings.
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_string_lossy();
    let tmp = escape(tmp.trim_end_matches('/'));
    s.add_filter(&format!(r"{tmp}/[A-Za-z0-9._-]+"), "[TMP]");
    for (pattern, replacement) in FILTERS {
        s.add_filter(pattern, *replacement);
    }
    s
}

/// (regex, replacement), applied in order.
const FILTERS: &[(&str, &str)] = &[
    // RFC 3339 and PostgreSQL timestamps.
    (
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)?",
        "[TIMESTAMP]",
    ),
    // Durations: log fields (`waited_ms=68`, `"duration_ms":5.9`) and text (`in 12 ms`).
    (r"\b([a-z_]+_ms)=\d+(\.\d+)?", "${1}=[N]"),
    (r#""([a-z_]+_ms)":\s*\d+(\.\d+)?"#, r#""${1}":"[N]""#),
    (r"\b\d+(\.\d+)? ms\b", "[N] ms"),
    // pids: lock holders, backends.
    (r"\bpid \d+", "pid [PID]"),
    (r"\bpid=\d+", "pid=[PID]"),
    // application_name is pgboot@<hostname>.
    (r"pgboot@[A-Za-z0-9._-]+", "pgboot@[HOST]"),
    // The client address the server saw (a container's gateway in the version matrix).
    (r"\bfrom (\d{1,3}\.){3}\d{1,3}\b", "from [CLIENT]"),
    // Ports on the loopback interface.
    (r"(127\.0\.0\.1|localhost):\d+", "$1:[PORT]"),
    (r"\bport \d+", "port [PORT]"),
    // Names made unique with a pid and a counter: test databases, verify's scratch databases.
    (
        r"\b([A-Za-z][A-Za-z0-9]*(_[A-Za-z][A-Za-z0-9]*)*)_\d+_\d+\b",
        "${1}_[PID]_[N]",
    ),
    // The server version.
    (
        r"PostgreSQL \d+(\.\d+)?( \([^)]*\))?",
        "PostgreSQL [VERSION]",
    ),
];

/// Escapes regex metacharacters so `text` matches itself.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
