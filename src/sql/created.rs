//! What a `CREATE` statement creates (`baseline --detect`).

use super::lexer::{lex, Kind};
use super::notx::Stmt;

/// What a `CREATE` statement creates, for telling whether a file already ran (`baseline --detect`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// `table`, `index`, `view`, `materialized view`, `function`, `procedure`, `type`, `policy`,
    /// `extension`, `schema`, `sequence` or `trigger`.
    pub kind: &'static str,
    pub schema: Option<String>,
    pub name: String,
    /// The table a policy, trigger or index is on.
    pub on: Option<(Option<String>, String)>,
}

/// Parses `CREATE … <kind> [IF NOT EXISTS] [schema.]name` from one statement. Identifiers are
/// folded to lower case unless quoted. `None` for other statements and unnamed indexes.
pub fn created_object(stmt: &str) -> Option<Created> {
    let (toks, _) = lex(stmt);
    let s = Stmt::new(stmt, &toks);
    if !s.is(0, "CREATE") {
        return None;
    }
    let mut i = 1;
    if s.is(i, "OR") && s.is(i + 1, "REPLACE") {
        i += 2;
    }
    while s.is_any(
        i,
        &[
            "TEMP",
            "TEMPORARY",
            "UNLOGGED",
            "UNIQUE",
            "RECURSIVE",
            "GLOBAL",
            "LOCAL",
            "TRUSTED",
            "CONSTRAINT",
        ],
    ) {
        i += 1;
    }
    let kind = if s.is(i, "MATERIALIZED") && s.is(i + 1, "VIEW") {
        i += 1;
        "materialized view"
    } else {
        const KINDS: &[&str] = &[
            "table",
            "index",
            "view",
            "function",
            "procedure",
            "type",
            "policy",
            "extension",
            "schema",
            "sequence",
            "trigger",
        ];
        let k = KINDS.iter().find(|k| s.is(i, k))?;
        k
    };
    i += 1;
    if kind == "index" && s.is(i, "CONCURRENTLY") {
        i += 1;
    }
    if s.is(i, "IF") && s.is(i + 1, "NOT") && s.is(i + 2, "EXISTS") {
        i += 3;
    }
    if kind == "index" && s.is(i, "ON") {
        return None;
    }
    let (schema, name, next) = qualified_name(&s, i)?;
    let on = if matches!(kind, "policy" | "trigger" | "index") {
        (next..s.toks.len()).find(|&j| s.is(j, "ON")).and_then(|j| {
            let (sc, n, _) = qualified_name(&s, j + 1)?;
            Some((sc, n))
        })
    } else {
        None
    };
    Some(Created {
        kind,
        schema,
        name,
        on,
    })
}

fn ident(s: &Stmt<'_>, i: usize) -> Option<String> {
    match s.kind(i)? {
        Kind::Word => Some(s.text(i).to_lowercase()),
        Kind::QuotedIdent => {
            let t = s.text(i);
            let inner = t.strip_prefix('"')?.strip_suffix('"')?;
            Some(inner.replace("\"\"", "\""))
        }
        _ => None,
    }
}

/// `[schema.]name` at token `i`: (schema, name, index after the name).
fn qualified_name(s: &Stmt<'_>, i: usize) -> Option<(Option<String>, String, usize)> {
    let first = ident(s, i)?;
    if s.kind(i + 1) == Some(Kind::Punct) && s.text(i + 1) == "." {
        let second = ident(s, i + 2)?;
        return Some((Some(first), second, i + 3));
    }
    Some((None, first, i + 1))
}
