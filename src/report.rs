//! What the user reads: a failed migration rendered rustc-style (file:line:column, the SQLSTATE,
//! message, detail, hint and the source line with a caret), the status table, the final error.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::error::Error;
use crate::sql;

/// A statement of a migration failed on the server.
#[derive(Debug, Clone, Default)]
pub struct MigrationFailure {
    /// The file as the user names it, e.g. `migrations/001_initial_schema.sql`.
    pub file: String,
    /// The normalised text of the file (what was sent).
    pub sql: String,
    /// 1-based line and column (characters) of the error in `sql`.
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub severity: String,
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// The server's CONTEXT (`where`): the PL/pgSQL function and line, for example.
    pub context: Option<String>,
    /// A query the server ran internally (in a PL/pgSQL body) and the 1-based position in it.
    pub internal: Option<(String, usize)>,
    /// What happened to the file's changes.
    pub outcome: String,
    /// pgboot's own advice, when it recognises the error.
    pub advice: Option<String>,
}

/// Builds the failure from the server's error. `offset_chars`: characters sent before the
/// file's text in the same query (the wrapping `BEGIN;`), or the statement's offset in the file.
pub fn failure(
    file: &str,
    src: &str,
    err: &tokio_postgres::Error,
    offset_chars: usize,
    fallback_line: Option<usize>,
    outcome: &str,
) -> MigrationFailure {
    let mut f = MigrationFailure {
        file: file.to_owned(),
        sql: src.to_owned(),
        outcome: outcome.to_owned(),
        ..Default::default()
    };
    let Some(db) = err.as_db_error() else {
        f.severity = "ERROR".into();
        f.message = crate::error::describe_pg_error(err);
        f.line = fallback_line;
        return f;
    };
    f.severity = db.severity().to_owned();
    f.sqlstate = db.code().code().to_owned();
    f.message = db.message().to_owned();
    f.detail = db.detail().map(str::to_owned);
    f.hint = db.hint().map(str::to_owned);
    f.context = db.where_().map(str::to_owned);
    match db.position() {
        Some(tokio_postgres::error::ErrorPosition::Original(p)) => {
            // PostgreSQL counts characters, 1-based, across the whole query string.
            let p = (*p as usize).saturating_sub(offset_chars);
            if p >= 1 && p <= src.chars().count() + 1 {
                let (l, c) = sql::line_col_of_char_pos(src, p);
                f.line = Some(l);
                f.column = Some(c);
            }
        }
        Some(tokio_postgres::error::ErrorPosition::Internal { position, query }) => {
            f.internal = Some((query.clone(), *position as usize));
        }
        None => {}
    }
    if f.line.is_none() {
        if let Some((l, c)) = locate_in_function(src, f.context.as_deref(), f.internal.as_ref()) {
            f.line = Some(l);
            f.column = c;
        } else {
            f.line = fallback_line;
        }
    }
    f.advice = advice(&f);
    f
}

/// Maps "PL/pgSQL function name(...) line N at ..." to the file, when the function is defined in it.
/// Returns the line, and the column when the internal query can be found on that line.
pub fn locate_in_function(
    src: &str,
    context: Option<&str>,
    internal: Option<&(String, usize)>,
) -> Option<(usize, Option<usize>)> {
    let ctx = context?;
    let at = ctx.find("PL/pgSQL function ")? + "PL/pgSQL function ".len();
    let rest = &ctx[at..];
    let name = rest[..rest.find('(')?]
        .rsplit('.')
        .next()?
        .trim_matches('"')
        .to_ascii_lowercase();
    let body_line: usize = rest
        .split(" line ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    // The CREATE FUNCTION statement that defines it.
    let lower = src.to_ascii_lowercase();
    let piece = sql::split(src).into_iter().find(|p| {
        let t = &lower[p.range.clone()];
        t.contains("function") && {
            let words: Vec<&str> = t
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .filter(|w| !w.is_empty())
                .collect();
            words
                .windows(2)
                .any(|w| w[0] == "function" && w[1].rsplit('.').next() == Some(name.as_str()))
        }
    })?;
    // PL/pgSQL numbers lines from the start of the body string ($tag$ or ').
    let text = &src[piece.range.clone()];
    let open = find_body_open(text)?;
    let (open_line, _) = sql::line_col_of_byte(src, piece.range.start + open);
    let line = open_line + body_line - 1;
    let column = internal.and_then(|(q, pos)| {
        let line_text = src.lines().nth(line - 1)?;
        let first = q.lines().next()?.trim();
        let start = line_text.find(first)?;
        let col0 = line_text[..start].chars().count();
        Some(col0 + pos)
    });
    Some((line, column))
}

/// Byte offset, within a CREATE FUNCTION statement, just after the opening quote of its body.
fn find_body_open(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let tag_end = text[i + 1..].find('$').map(|j| i + 1 + j)?;
            let tag = &text[i + 1..tag_end];
            if tag.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !tag.starts_with(|c: char| c.is_ascii_digit())
            {
                return Some(tag_end + 1);
            }
        }
        if b[i] == b'\'' {
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Advice pgboot can add for errors it recognises.
fn advice(f: &MigrationFailure) -> Option<String> {
    let msg = f.message.to_ascii_lowercase();
    // The extension is not installed on the server. PostgreSQL 15+: 0A000 feature_not_supported,
    // `extension "vector" is not available`; 13 and 14: 58P01 undefined_file, `could not open
    // extension control file ".../extension/vector.control": No such file or directory`.
    if (f.sqlstate == "0A000" || f.sqlstate == "58P01")
        && msg.contains("extension")
        && (msg.contains("\"vector\"") || msg.contains("/vector.control\""))
    {
        return Some("this server has no pgvector; use an image with pgvector, e.g. pgvector/pgvector:pg17, or install postgresql-17-pgvector".into());
    }
    if f.sqlstate == "25001" {
        return Some("the statement cannot run inside a transaction block; put `-- pgboot:no-transaction` on the file's first line, or move it to a file of its own".into());
    }
    None
}

impl MigrationFailure {
    fn location(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        }
    }

    fn title(&self) -> String {
        let code = if self.sqlstate.is_empty() {
            String::new()
        } else {
            format!(" [{}]", self.sqlstate)
        };
        format!("{}: {}{code}", self.location(), self.message)
    }

    /// rustc-style rendering with the offending line and a caret.
    pub fn render(&self, color: bool) -> String {
        let mut notes: Vec<String> = Vec::new();
        if let Some(d) = &self.detail {
            notes.push(format!("detail: {d}"));
        }
        if let Some(h) = &self.hint {
            notes.push(format!("hint: {h}"));
        }
        if let Some(c) = &self.context {
            notes.push(format!("context: {}", c.replace('\n', "\n         ")));
        }
        if let Some((q, p)) = &self.internal {
            notes.push(format!("internal query (position {p}): {q}"));
        }
        if let Some(a) = &self.advice {
            notes.push(format!("pgboot: {a}"));
        }
        notes.push(self.outcome.clone());

        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let title = Level::ERROR.primary_title(self.title());
        let group = match self.line.and_then(|l| self.snippet(l)) {
            Some((line_start, text, span)) => title.element(
                Snippet::source(text)
                    .line_start(line_start)
                    .path(self.file.as_str())
                    .annotation(
                        AnnotationKind::Primary
                            .span(span)
                            .label(self.message.as_str()),
                    ),
            ),
            None => title.element(Level::NOTE.message(format!("in {}", self.file))),
        };
        let mut report = vec![group];
        for n in &notes {
            report.push(Group::with_title(Level::NOTE.secondary_title(n.as_str())));
        }
        renderer.render(&report)
    }

    /// A few lines around the error, and the byte span of the caret within them.
    fn snippet(&self, line: usize) -> Option<(usize, String, std::ops::Range<usize>)> {
        let lines: Vec<&str> = self.sql.split('\n').collect();
        let idx = line.checked_sub(1)?;
        let target = lines.get(idx)?;
        let first = idx.saturating_sub(2);
        let mut text = String::new();
        let mut span_start = 0;
        for (i, l) in lines[first..=idx].iter().enumerate() {
            if first + i == idx {
                span_start = text.len();
            }
            text.push_str(l);
            text.push('\n');
        }
        let col = self.column.unwrap_or(1).max(1);
        let byte_col = target
            .char_indices()
            .nth(col - 1)
            .map(|(b, _)| b)
            .unwrap_or(target.len());
        let width = target[byte_col..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != ';' && *c != '(' && *c != ')')
            .map(char::len_utf8)
            .sum::<usize>()
            .max(1);
        let start = span_start + byte_col;
        let end = (start + width).min(text.len());
        if self.column.is_none() {
            let trimmed = target.len() - target.trim_start().len();
            return Some((
                first + 1,
                text.clone(),
                span_start + trimmed..span_start + target.len().max(trimmed + 1),
            ));
        }
        Some((first + 1, text, start..end.max(start)))
    }
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title())
    }
}

/// Prints the final error once: rendered text on a terminal or in text mode, one JSON line in JSON mode.
pub fn print_error(err: &Error, json: bool) {
    if json {
        let mut obj = serde_json::json!({
            "level": "ERROR",
            "exit_code": err.exit_code(),
            "message": err.to_string(),
        });
        if let Error::Migration(m) = err {
            obj["file"] = m.file.clone().into();
            obj["line"] = m.line.into();
            obj["column"] = m.column.into();
            obj["sqlstate"] = m.sqlstate.clone().into();
            obj["detail"] = m.detail.clone().into();
            obj["hint"] = m.hint.clone().into();
            obj["context"] = m.context.clone().into();
            obj["internal_query"] = m.internal.as_ref().map(|i| i.0.clone()).into();
            obj["internal_position"] = m.internal.as_ref().map(|i| i.1).into();
            obj["advice"] = m.advice.clone().into();
            obj["rendered"] = m.render(false).into();
        }
        eprintln!("{obj}");
        return;
    }
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal();
    match err {
        Error::Migration(m) => eprintln!("{}", m.render(color)),
        other => eprintln!("error: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_the_spot() {
        let f = MigrationFailure {
            file: "migrations/001_x.sql".into(),
            sql: "CREATE TABLE a (id int);\nSELEC 1;\nSELECT 2;\n".into(),
            line: Some(2),
            column: Some(1),
            severity: "ERROR".into(),
            sqlstate: "42601".into(),
            message: "syntax error at or near \"SELEC\"".into(),
            outcome: "rolled back".into(),
            ..Default::default()
        };
        let out = f.render(false);
        assert!(out.contains("migrations/001_x.sql:2:1"), "{out}");
        assert!(out.contains("SELEC 1;"), "{out}");
        assert!(out.contains("^^^^^"), "{out}");
        assert!(out.contains("42601"), "{out}");
    }

    #[test]
    fn pgvector_advice_on_every_version() {
        let f = |sqlstate: &str, message: &str| MigrationFailure {
            sqlstate: sqlstate.into(),
            message: message.into(),
            ..Default::default()
        };
        let pg17 = f("0A000", "extension \"vector\" is not available");
        let pg13 = f(
            "58P01",
            "could not open extension control file \"/usr/share/postgresql/13/extension/vector.control\": No such file or directory",
        );
        for m in [pg17, pg13] {
            let a = advice(&m).unwrap_or_default();
            assert!(a.contains("pgvector/pgvector:pg17"), "{a:?}");
        }
        let other = f("0A000", "extension \"postgis\" is not available");
        assert_eq!(advice(&other), None);
    }

    #[test]
    fn function_context_maps_to_file_line() {
        let src = "-- header\nCREATE OR REPLACE FUNCTION public.boom() RETURNS void\nLANGUAGE plpgsql AS $fn$\nBEGIN\n  PERFORM 1;\n  INSERT INTO missing_table VALUES (1);\nEND\n$fn$;\nSELECT boom();\n";
        let ctx = "PL/pgSQL function boom() line 4 at SQL statement";
        let internal = ("INSERT INTO missing_table VALUES (1)".to_string(), 13);
        let (line, col) = locate_in_function(src, Some(ctx), Some(&internal)).unwrap();
        assert_eq!(line, 6);
        assert_eq!(col, Some(15));
        assert_eq!(&src.lines().nth(5).unwrap()[14..27], "missing_table");
    }
}
