//! A failed statement → the report data ([`MigrationFailure`]): the file, line and column
//! (PostgreSQL counts characters), the server's fields, a line inside a PL/pgSQL body, and
//! pgboot's advice for the errors it recognises. Rendering is `report`'s.

use crate::error::describe_pg_error;
use crate::model::MigrationFailure;
use crate::sql;

const NO_PGVECTOR: &str = "this server has no pgvector; use an image with pgvector, e.g. pgvector/pgvector:pg17, or install postgresql-17-pgvector";
const NOT_IN_A_TRANSACTION: &str = "the statement cannot run inside a transaction block; put `-- pgboot:no-transaction` on the file's first line, or move it to a file of its own";

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
        f.message = describe_pg_error(err);
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
        return Some(NO_PGVECTOR.into());
    }
    if f.sqlstate == "25001" {
        return Some(NOT_IN_A_TRANSACTION.into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
