//! `SET standard_conforming_strings`: with it off, PostgreSQL reads backslash escapes in plain
//! `'…'` (and `N'…'`) strings as in `E'…'` ones, so `'it\'s'` is one string. pg_dump of old
//! databases emits `SET standard_conforming_strings = off;` before such data.
//!
//! The lexer follows the setting statement by statement, as psql does (it sends each statement
//! on its own and lexes the next one with the value the server reports): a top-level
//! `SET [SESSION | LOCAL] standard_conforming_strings {= | TO} value` changes how strings lex
//! after the `;` that ends it, and so do `… TO DEFAULT`, `RESET standard_conforming_strings`,
//! `RESET ALL` and `DISCARD ALL` (back to on, the server's default). A file starts with it on.
//!
//! Not followed: `SET LOCAL` lasts only to the end of its transaction, and a rolled-back
//! transaction undoes a `SET`; both are treated as a plain `SET`, which is what a file that
//! sets it means in practice. Nor `set_config(…)`, a `SET` run by a function or `DO` block, or a
//! database or role default (a file starts with it on).
//!
//! Caveat: the server lexes a whole query string (one simple-query message) before running any
//! of it, with the value in force when the message arrives: a `SET` only changes the strings of
//! later messages. Sent as one query string, `SET standard_conforming_strings = off; SELECT
//! 'it\'s';` fails with "unterminated quoted string"; sent statement by statement (psql, or
//! pgboot's no-transaction mode) it works, and that is what this lexer follows.

use super::lexer::{word_is, Kind, Tok};
use super::split::StmtState;

/// Follows the statements of a file while it is being lexed (see the module doc).
pub(super) struct Scs {
    stmt: StmtState,
    /// The statement's first significant tokens (enough for the forms above).
    head: Vec<Tok>,
    /// Whether the statement has more tokens than `head` keeps.
    long: bool,
}

const HEAD: usize = 6;

impl Scs {
    pub(super) fn new() -> Self {
        Scs {
            stmt: StmtState::new(),
            head: Vec::with_capacity(HEAD),
            long: false,
        }
    }

    /// Whether a statement is in progress: a significant token came since the last `;` that
    /// ended one (or since the start).
    pub(super) fn in_progress(&self) -> bool {
        !self.head.is_empty()
    }

    /// Feed one significant token. Returns the new value of `standard_conforming_strings`
    /// when `t` is the `;` that ends a statement setting it.
    pub(super) fn feed(&mut self, src: &str, t: &Tok) -> Option<bool> {
        if !self.stmt.feed(src, t) {
            if self.head.len() < HEAD {
                self.head.push(*t);
            } else {
                self.long = true;
            }
            return None;
        }
        let value = (!self.long).then(|| setting(src, &self.head)).flatten();
        *self = Scs::new();
        value
    }
}

/// The value a statement (its significant tokens, without `;`) gives the setting, if any.
fn setting(src: &str, toks: &[Tok]) -> Option<bool> {
    let is = |i: usize, kw: &str| toks.get(i).is_some_and(|t| word_is(src, t, kw));
    let is_name = |i: usize| {
        toks.get(i).is_some_and(|t| {
            // Parameter names ignore case, even quoted.
            word_is(src, t, "standard_conforming_strings")
                || (t.kind == Kind::QuotedIdent
                    && src[t.start..t.end].eq_ignore_ascii_case("\"standard_conforming_strings\""))
        })
    };
    if is(0, "RESET") && toks.len() == 2 && (is_name(1) || is(1, "ALL")) {
        return Some(true);
    }
    if is(0, "DISCARD") && is(1, "ALL") && toks.len() == 2 {
        return Some(true);
    }
    if !is(0, "SET") {
        return None;
    }
    let name = if is(1, "SESSION") || is(1, "LOCAL") {
        2
    } else {
        1
    };
    let op = toks.get(name + 1)?;
    let op_ok = word_is(src, op, "TO") || (op.kind == Kind::Punct && &src[op.start..op.end] == "=");
    if !is_name(name) || !op_ok || toks.len() != name + 3 {
        return None;
    }
    let v = toks[name + 2];
    let text = &src[v.start..v.end];
    match v.kind {
        Kind::Word if text.eq_ignore_ascii_case("DEFAULT") => Some(true),
        Kind::Word | Kind::Number => parse_bool(text),
        Kind::Str => parse_bool(text.strip_prefix('\'')?.strip_suffix('\'')?),
        _ => None,
    }
}

/// PostgreSQL's `parse_bool`: true/false, yes/no and unique prefixes of them, on/off (at
/// least two letters), 1/0; any case. None for anything else (the server refuses the SET).
fn parse_bool(s: &str) -> Option<bool> {
    let s = s.to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1" {
        Some(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0" {
        Some(false)
    } else {
        None
    }
}

/// Whether a statement (one piece's text) changes `standard_conforming_strings` (`SET`, `RESET`,
/// `DISCARD ALL` …). The server reads a query string with the setting in force when it arrives,
/// so a caller must send what follows such a statement in a query of its own.
pub fn changes_standard_conforming_strings(stmt: &str) -> bool {
    // A last statement may lack its `;`: end it, so the statement counts.
    let text = format!("{stmt}\n;");
    let (toks, _) = super::lexer::lex(&text);
    let mut scs = Scs::new();
    toks.iter()
        .filter(|t| t.kind.significant())
        .any(|t| scs.feed(&text, t).is_some())
}
