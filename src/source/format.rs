//! Other tools' migration files: which tool a file was written for, and the part of it that
//! tool would run on `up`. Pure.
//!
//! - **dbmate:** `-- migrate:up [transaction:false]` … `-- migrate:down`.
//! - **goose:** `-- +goose Up` … `-- +goose Down`, `-- +goose NO TRANSACTION`,
//!   `-- +goose StatementBegin` / `StatementEnd` (comments to pgboot: its lexer finds statement
//!   ends itself). Annotations are case-insensitive, as goose reads them.
//! - **sql-migrate:** `-- +migrate Up [notransaction]` … `-- +migrate Down`.
//! - **golang-migrate, sqlx:** `.up.sql` names (their `.down.sql` files are ignored by `source`).
//! - **Flyway, refinery:** `V<version>__<description>.sql` names, `<version>` dotted (`1.10`,
//!   or `1_10` as Flyway also allows), ordered as numbers.
//!
//! Markers are found line by line, at the start of a line, as the tools themselves find them.
//! A file with any tool's down marker never runs its down part. Everything outside the up
//! section is not run and not checksummed: editing a down section is not drift.

use crate::model::Format;

/// What runs of a file, and why it might run outside a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cut<'a> {
    pub format: Format,
    /// The text that runs: the whole file, or its up section (the lines after the up marker up
    /// to the down marker).
    pub up: &'a str,
    /// 1-based line of the file where `up` starts.
    pub first_line: usize,
    /// The tool's own "no transaction" marker, as written, and its line.
    pub no_transaction: Option<(String, usize)>,
}

/// A file pgboot will not run as written, with the 1-based line to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Up,
    Down,
    NoTransaction,
    /// StatementBegin / StatementEnd: only comments to pgboot.
    Statement,
    /// goose's `ENVSUB ON`: `${VAR}` substitution pgboot does not do.
    Envsub,
    Unknown,
}

/// One marker line: its tool, meaning, options text (after the marker) and line.
struct Found<'a> {
    format: Format,
    marker: Marker,
    options: &'a str,
    line: usize,
    start: usize,
    end: usize,
}

/// Reads one line as a marker of dbmate, goose or sql-migrate.
fn marker(line: &str) -> Option<(Format, Marker, &str)> {
    let rest = line.strip_prefix("--")?;
    let trimmed = rest.trim_start();
    if let Some(opts) = strip_prefix_ci(trimmed, "migrate:up") {
        if opts.is_empty() || opts.starts_with(char::is_whitespace) {
            return Some((Format::Dbmate, Marker::Up, opts.trim()));
        }
    }
    if let Some(opts) = strip_prefix_ci(trimmed, "migrate:down") {
        if opts.is_empty() || opts.starts_with(char::is_whitespace) {
            return Some((Format::Dbmate, Marker::Down, opts.trim()));
        }
    }
    for (prefix, format) in [("+goose", Format::Goose), ("+migrate", Format::SqlMigrate)] {
        let Some(cmd) = strip_prefix_ci(trimmed, prefix) else {
            continue;
        };
        if !cmd.starts_with(char::is_whitespace) {
            continue;
        }
        let cmd = cmd.trim();
        let word = cmd.split_whitespace().next().unwrap_or("");
        let opts = cmd[word.len()..].trim();
        let m = match word.to_ascii_lowercase().as_str() {
            "up" => Marker::Up,
            "down" => Marker::Down,
            "statementbegin" | "statementend" => Marker::Statement,
            "no" if opts.eq_ignore_ascii_case("transaction") => Marker::NoTransaction,
            "envsub" if opts.eq_ignore_ascii_case("on") => Marker::Envsub,
            "envsub" if opts.eq_ignore_ascii_case("off") => Marker::Statement,
            _ => Marker::Unknown,
        };
        return Some((format, m, if m == Marker::Unknown { cmd } else { opts }));
    }
    None
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Every marker line of `text`, in order.
fn markers(text: &str) -> Vec<Found<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let end = start + line.len();
        if line.starts_with("--") {
            if let Some((format, marker, options)) = marker(line.trim_end()) {
                out.push(Found {
                    format,
                    marker,
                    options,
                    line: i + 1,
                    start,
                    end,
                });
            }
        }
        start = end;
    }
    out
}

/// Whether `text` has a line that is one of dbmate's, goose's or sql-migrate's markers;
/// `at_line_start`: whether `text` itself starts at the start of a line.
pub fn has_marker(text: &str, at_line_start: bool) -> bool {
    let mut lines = text.split('\n');
    if !at_line_start {
        lines.next();
    }
    lines.any(|l| l.starts_with("--") && marker(l.trim_end()).is_some())
}

/// The tool's name as the messages say it.
pub fn tool(f: Format) -> &'static str {
    match f {
        Format::Pgboot => "pgboot",
        Format::UpSql => "golang-migrate/sqlx",
        Format::Flyway => "Flyway/refinery",
        Format::Dbmate => "dbmate",
        Format::Goose => "goose",
        Format::SqlMigrate => "sql-migrate",
    }
}

/// The part of `text` that runs, for a file whose name says `named` (`Pgboot`, `UpSql` or
/// `Flyway`). Markers of dbmate, goose or sql-migrate decide over the name.
pub fn cut(text: &str, named: Format) -> Result<Cut<'_>, FormatError> {
    let found = markers(text);
    let Some(first) = found.first() else {
        if named == Format::Flyway {
            flyway_placeholders(text)?;
        }
        return Ok(Cut {
            format: named,
            up: text,
            first_line: 1,
            no_transaction: None,
        });
    };
    let format = first.format;
    if let Some(other) = found.iter().find(|f| f.format != format) {
        return Err(FormatError {
            line: other.line,
            message: format!(
                "a {} marker in a file that line {} marks as {}; keep one tool's markers per file",
                tool(other.format),
                first.line,
                tool(format)
            ),
        });
    }
    let name = tool(format);
    let ups: Vec<&Found> = found.iter().filter(|f| f.marker == Marker::Up).collect();
    let downs: Vec<&Found> = found.iter().filter(|f| f.marker == Marker::Down).collect();
    let Some(up) = ups.first() else {
        let line = downs.first().map_or(first.line, |d| d.line);
        return Err(FormatError {
            line,
            message: format!("a {name} file without an up marker ({}); pgboot runs only what {name} runs on up, and will not guess which part that is: add the up marker above the statements to run", up_marker(format)),
        });
    };
    if let Some(second) = ups.get(1) {
        return Err(FormatError {
            line: second.line,
            message: format!(
                "a second up marker (the first is on line {}); keep one up section",
                up.line
            ),
        });
    }
    if let Some(d) = downs.iter().find(|d| d.line < up.line) {
        return Err(FormatError {
            line: d.line,
            message: format!(
                "the down marker comes before the up marker on line {}; {name} requires the up section first",
                up.line
            ),
        });
    }
    if let Some(u) = found.iter().find(|f| f.marker == Marker::Unknown) {
        return Err(FormatError {
            line: u.line,
            message: format!("an annotation pgboot does not know ({}); remove it, or check its spelling against {name}'s documentation", u.options),
        });
    }
    if let Some(e) = found.iter().find(|f| f.marker == Marker::Envsub) {
        return Err(FormatError {
            line: e.line,
            message: "goose's ENVSUB ON substitutes ${VAR} from the environment, which pgboot does not do; write :'VAR' (psql variables) and set it with PGBOOT_VAR_VAR, --var VAR=value or vars in pgboot.toml, then remove the annotation".into(),
        });
    }
    if let Some(line) = statement_before(text, up.start) {
        return Err(FormatError {
            line,
            message: format!("SQL before the up marker on line {}: {name} runs only the up section, so pgboot does too, and will not skip a statement silently; move it below the up marker", up.line),
        });
    }
    let end = downs.first().map_or(text.len(), |d| d.start);
    let mut no_transaction = None;
    match format {
        Format::Dbmate | Format::SqlMigrate if !up.options.is_empty() => {
            let opts = up.options.to_ascii_lowercase();
            let off = opts
                .split_whitespace()
                .any(|o| o == "transaction:false" || o == "notransaction");
            if !off {
                return Err(FormatError {
                    line: up.line,
                    message: format!(
                        "an up-marker option pgboot does not know ({}); {name}'s option is {}",
                        up.options,
                        if format == Format::Dbmate {
                            "transaction:false"
                        } else {
                            "notransaction"
                        }
                    ),
                });
            }
            no_transaction = Some((text[up.start..up.end].trim_end().to_owned(), up.line));
        }
        Format::Goose => {
            if let Some(n) = found.iter().find(|f| f.marker == Marker::NoTransaction) {
                no_transaction = Some((text[n.start..n.end].trim_end().to_owned(), n.line));
            }
        }
        _ => {}
    }
    Ok(Cut {
        format,
        up: &text[up.end..end],
        first_line: up.line + 1,
        no_transaction,
    })
}

fn up_marker(f: Format) -> &'static str {
    match f {
        Format::Goose => "-- +goose Up",
        Format::SqlMigrate => "-- +migrate Up",
        _ => "-- migrate:up",
    }
}

/// The line of the first line before `end` that holds more than whitespace and `--` comments.
fn statement_before(text: &str, end: usize) -> Option<usize> {
    let mut in_block = false;
    for (i, line) in text[..end].lines().enumerate() {
        let t = line.trim();
        if in_block {
            if t.contains("*/") {
                in_block = false;
            }
            continue;
        }
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.contains("*/");
            continue;
        }
        return Some(i + 1);
    }
    None
}

/// Flyway replaces `${name}` placeholders (and fails on an undefined one); pgboot does not, so
/// a Flyway file that uses one is refused rather than run with the text as written.
fn flyway_placeholders(text: &str) -> Result<(), FormatError> {
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(p) = rest.find("${") {
            let after = &rest[p + 2..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.')))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                return Err(FormatError {
                    line: i + 1,
                    message: format!("Flyway placeholder ${{{name}}}: Flyway replaces it, pgboot does not; write :'{var}' (a psql variable) and set it with PGBOOT_VAR_{var}, --var {var}=value or vars in pgboot.toml", var = name.replace([':', '.'], "_")),
                });
            }
            rest = after;
        }
    }
    Ok(())
}

/// A Flyway/refinery version (`1`, `1.10`, `1_10`, `2024.01.05.1`) as numbers to order by,
/// trailing zero parts dropped (`1.0` is `1`, as Flyway compares them). None: not a version.
pub fn version_parts(text: &str) -> Option<Vec<u64>> {
    let mut parts: Vec<u64> = text
        .split(['.', '_'])
        .map(|p| {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                p.parse::<u64>().ok()
            }
        })
        .collect::<Option<_>>()?;
    while parts.len() > 1 && parts.last() == Some(&0) {
        parts.pop();
    }
    Some(parts)
}

#[cfg(test)]
mod tests;
