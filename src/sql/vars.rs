//! psql variables in SQL text: `:NAME`, `:'NAME'` and `:"NAME"`.

use std::fmt;
use std::ops::Range;

use super::lexer::{lex, Kind};
use super::lines::LineIndex;
use super::meta::is_var_char;

/// How a variable reference is written, and so how its value is substituted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarForm {
    /// `:NAME`: the value as is (psql lexes it as SQL).
    Plain,
    /// `:'NAME'`: the value as a string literal.
    Literal,
    /// `:"NAME"`: the value as a quoted identifier.
    Identifier,
}

/// A variable reference found by [`variables`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    pub name: String,
    pub form: VarForm,
    /// Byte range of the whole reference, from its `:`.
    pub range: Range<usize>,
    /// 1-based line and column (in characters) of the `:`.
    pub line: usize,
    pub column: usize,
}

/// The first variable [`interpolate`] found no value for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndefinedVariable {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for UndefinedVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: psql variable :{} is not set",
            self.line, self.column, self.name
        )
    }
}

impl std::error::Error for UndefinedVariable {}

/// Every variable reference in `src`, in order, where psql substitutes one: a `:` outside
/// strings, quoted identifiers, comments, dollar-quoted bodies, meta-command lines and COPY
/// data, followed by a NAME (ASCII letters, digits, `_`, and any non-ASCII character, as psql),
/// by `'NAME'` or by `"NAME"`. `::` is a cast and `:=` an assignment, not variables.
///
/// Limits: psql also substitutes inside meta-command args (`\echo :x`), which this leaves to
/// the caller (pass the args to it); an array slice `a[1:n]` is a reference to `n`, in psql too.
pub fn variables(src: &str) -> Vec<VarRef> {
    let (toks, _) = lex(src);
    let mut idx = LineIndex::new(src);
    let mut out = Vec::new();
    let mut skip_to = 0;
    for t in &toks {
        if t.start < skip_to || t.kind != Kind::Punct || &src[t.start..t.end] != ":" {
            continue;
        }
        let rest = &src[t.end..];
        if rest.starts_with(':') {
            // A `::` cast: its second colon starts nothing.
            skip_to = t.end + 1;
            continue;
        }
        let Some((form, len)) = reference(rest) else {
            continue;
        };
        let name = match form {
            VarForm::Plain => &rest[..len],
            _ => &rest[1..len - 1],
        };
        let (line, column) = idx.line_col(t.start);
        out.push(VarRef {
            name: name.to_string(),
            form,
            range: t.start..t.end + len,
            line,
            column,
        });
    }
    out
}

/// Whether `toks` (a stretch of `src`'s tokens) hold a reference [`variables`] would find.
pub(super) fn has_reference(src: &str, toks: &[super::lexer::Tok]) -> bool {
    let mut skip_to = 0;
    for t in toks {
        if t.start < skip_to || t.kind != Kind::Punct || &src[t.start..t.end] != ":" {
            continue;
        }
        let rest = &src[t.end..];
        if rest.starts_with(':') {
            skip_to = t.end + 1;
            continue;
        }
        if reference(rest).is_some() {
            return true;
        }
    }
    false
}

/// The reference after a `:`: its form and length.
fn reference(rest: &str) -> Option<(VarForm, usize)> {
    let name_len = |s: &str| s.find(|c: char| !is_var_char(c)).unwrap_or(s.len());
    let n = name_len(rest);
    if n > 0 {
        return Some((VarForm::Plain, n));
    }
    let (form, quote) = match rest.chars().next()? {
        '\'' => (VarForm::Literal, '\''),
        '"' => (VarForm::Identifier, '"'),
        _ => return None,
    };
    let n = name_len(&rest[1..]);
    (n > 0 && rest[1 + n..].starts_with(quote)).then_some((form, n + 2))
}

/// `src` with every reference [`variables`] finds replaced as psql does: [`VarForm::Plain`]
/// by the value, [`VarForm::Literal`] by the value quoted as libpq's `PQescapeLiteral` does
/// (`'…'` with quotes doubled; ` E'…'`, with a leading space and backslashes doubled too, when
/// it holds a backslash), [`VarForm::Identifier`] by the value quoted as `PQescapeIdentifier`
/// does (`"…"` with `"` doubled). The first reference `lookup` has no value for is an error (psql
/// would leave it as written).
///
/// Limit: psql lexes a plain value as part of the SQL (a value holding `;` can end a statement);
/// split the file first and interpolate each piece.
pub fn interpolate(
    src: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, UndefinedVariable> {
    let mut out = String::with_capacity(src.len());
    let mut at = 0;
    for v in variables(src) {
        let Some(value) = lookup(&v.name) else {
            return Err(UndefinedVariable {
                name: v.name,
                line: v.line,
                column: v.column,
            });
        };
        out.push_str(&src[at..v.range.start]);
        out.push_str(&substitute(v.form, &value));
        at = v.range.end;
    }
    out.push_str(&src[at..]);
    Ok(out)
}

/// A string literal as libpq's `PQescapeLiteral` writes it.
pub(super) fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    if value.contains('\\') {
        out.push_str(" E");
    }
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A quoted identifier as libpq's `PQescapeIdentifier` writes it.
pub(super) fn quote_identifier(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// The text psql puts in place of a reference of `form` to a variable holding `value` (see
/// [`interpolate`]).
pub fn substitute(form: VarForm, value: &str) -> String {
    match form {
        VarForm::Plain => value.to_owned(),
        VarForm::Literal => quote_literal(value),
        VarForm::Identifier => quote_identifier(value),
    }
}
