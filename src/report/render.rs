//! A failed migration rendered rustc-style (file:line:column, the SQLSTATE, message, detail,
//! hint and the source line with a caret), and the final error, printed once.

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::error::Error;
use crate::model::MigrationFailure;

impl MigrationFailure {
    fn location(&self) -> String {
        let at = match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{}:{l}:{c}", self.file),
            (Some(l), None) => format!("{}:{l}", self.file),
            _ => self.file.clone(),
        };
        format!("{at}{}", self.included_from.as_deref().unwrap_or(""))
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
        // `sql` may be only a stretch of the file (a streamed file), starting at `sql_line`.
        let base = self.sql_line.max(1);
        let idx = line.checked_sub(base)?;
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
                first + base,
                text.clone(),
                span_start + trimmed..span_start + target.len().max(trimmed + 1),
            ));
        }
        Some((first + base, text, start..end.max(start)))
    }
}

impl fmt::Display for MigrationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title())
    }
}

/// The final error as one JSON line (`--log-format json`).
#[derive(serde::Serialize)]
struct ErrorLine<'a> {
    level: &'static str,
    exit_code: u8,
    message: String,
    #[serde(flatten)]
    migration: Option<FailureFields<'a>>,
}

/// A failed statement's fields, beside the message.
#[derive(serde::Serialize)]
struct FailureFields<'a> {
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    sqlstate: &'a str,
    detail: Option<&'a str>,
    hint: Option<&'a str>,
    context: Option<&'a str>,
    internal_query: Option<&'a str>,
    internal_position: Option<usize>,
    advice: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    included_from: Option<&'a str>,
    rendered: String,
}

impl<'a> FailureFields<'a> {
    fn of(m: &'a MigrationFailure) -> Self {
        FailureFields {
            file: &m.file,
            line: m.line,
            column: m.column,
            sqlstate: &m.sqlstate,
            detail: m.detail.as_deref(),
            hint: m.hint.as_deref(),
            context: m.context.as_deref(),
            internal_query: m.internal.as_ref().map(|i| i.0.as_str()),
            internal_position: m.internal.as_ref().map(|i| i.1),
            advice: m.advice.as_deref(),
            included_from: m.included_from.as_deref(),
            rendered: m.render(false),
        }
    }
}

/// Prints the final error once: rendered text on a terminal or in text mode, one JSON line in JSON mode.
pub fn print_error(err: &Error, json: bool) {
    if json {
        let line = ErrorLine {
            level: "ERROR",
            exit_code: err.exit_code(),
            message: err.to_string(),
            migration: match err {
                Error::Migration(m) => Some(FailureFields::of(m)),
                _ => None,
            },
        };
        match serde_json::to_string(&line) {
            Ok(s) => eprintln!("{s}"),
            Err(_) => eprintln!("error: {err}"),
        }
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
}
