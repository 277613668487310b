//! Statements PostgreSQL refuses to run inside a transaction block, statements that manage
//! the transaction themselves, and the `-- pgboot:no-transaction` directive.

use std::ops::Range;

use super::lexer::{lex, word_is, Kind, Tok};
use super::lines::LineIndex;
use super::split::{split_raw, to_piece};
use super::{Analysis, ClientCopy, LexError, NoTxReason};

/// `-- pgboot:no-transaction` as the first thing in the file (after an optional BOM and
/// whitespace), case-insensitive, followed by end of line/input or whitespace.
pub(super) fn has_directive(src: &str) -> bool {
    let s = src.strip_prefix('\u{feff}').unwrap_or(src);
    let s = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{b}');
    let Some(rest) = s.strip_prefix("--") else {
        return false;
    };
    let rest = rest.trim_start_matches([' ', '\t']);
    const D: &str = "pgboot:no-transaction";
    match rest.get(..D.len()) {
        Some(head) if head.eq_ignore_ascii_case(D) => {
            !matches!(rest[D.len()..].chars().next(), Some(c) if !c.is_whitespace())
        }
        _ => false,
    }
}

/// A view of a statement's significant tokens (without the terminating `;`).
pub(super) struct Stmt<'a> {
    pub(super) src: &'a str,
    pub(super) toks: Vec<Tok>,
}

impl<'a> Stmt<'a> {
    pub(super) fn new(src: &'a str, toks: &[Tok]) -> Self {
        let mut v: Vec<Tok> = toks
            .iter()
            .filter(|t| t.kind.significant())
            .copied()
            .collect();
        if v.last().is_some_and(|t| t.kind == Kind::Semicolon) {
            v.pop();
        }
        Stmt { src, toks: v }
    }

    pub(super) fn text(&self, i: usize) -> &'a str {
        self.toks
            .get(i)
            .map(|t| &self.src[t.start..t.end])
            .unwrap_or("")
    }

    pub(super) fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    pub(super) fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| word_is(self.src, t, kw))
    }

    pub(super) fn is_any(&self, i: usize, kws: &[&str]) -> bool {
        kws.iter().any(|k| self.is(i, k))
    }

    /// If token `i` is `(`, the index just after its matching `)` (or the end); else `i`.
    pub(super) fn skip_parens(&self, i: usize) -> usize {
        if self.kind(i) != Some(Kind::LParen) {
            return i;
        }
        let mut depth = 0usize;
        let mut j = i;
        while j < self.toks.len() {
            match self.toks[j].kind {
                Kind::LParen => depth += 1,
                Kind::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return j + 1;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        j
    }

    /// Index of the first word `kw` at or after `from`.
    fn find(&self, from: usize, kw: &str) -> Option<usize> {
        (from..self.toks.len()).find(|&i| self.is(i, kw))
    }

    /// Whether the option `name` in `range` is present and not followed by a false value.
    fn option_enabled(&self, range: Range<usize>, name: &str) -> bool {
        let end = range.end.min(self.toks.len());
        let Some(i) = (range.start..end).find(|&i| self.is(i, name)) else {
            return false;
        };
        let mut v = i + 1;
        if v < end && self.text(v) == "=" {
            v += 1;
        }
        if v >= end {
            return true;
        }
        let value = self.text(v).trim_matches('\'').to_ascii_lowercase();
        !matches!(value.as_str(), "false" | "off" | "0" | "no")
    }

    /// Whether the option `name` in `range` is present and explicitly set to a false value.
    fn option_disabled(&self, range: Range<usize>, name: &str) -> bool {
        let end = range.end.min(self.toks.len());
        (range.start..end).any(|i| self.is(i, name)) && !self.option_enabled(range, name)
    }

    pub(super) fn manages_transaction(&self) -> bool {
        if self.is(0, "BEGIN") {
            return !self.is(1, "ATOMIC");
        }
        if self.is(0, "ROLLBACK") {
            // ROLLBACK [WORK|TRANSACTION] TO [SAVEPOINT] x stays inside the transaction.
            let i = if self.is_any(1, &["WORK", "TRANSACTION"]) {
                2
            } else {
                1
            };
            return !self.is(i, "TO");
        }
        self.is_any(0, &["COMMIT", "END", "ABORT"])
            || (self.is(0, "START") && self.is(1, "TRANSACTION"))
            || (self.is(0, "PREPARE") && self.is(1, "TRANSACTION"))
    }

    /// The label of a statement PostgreSQL refuses inside a transaction block.
    pub(super) fn no_tx_label(&self) -> Option<&'static str> {
        let w0 = self.text(0).to_ascii_uppercase();
        if self.kind(0) != Some(Kind::Word) {
            return None;
        }
        match w0.as_str() {
            "VACUUM" => Some("VACUUM"),
            "CREATE" => {
                let i = if self.is(1, "UNIQUE") { 2 } else { 1 };
                if self.is(i, "INDEX") && self.is(i + 1, "CONCURRENTLY") {
                    Some("CREATE INDEX CONCURRENTLY")
                } else if self.is(1, "DATABASE") {
                    Some("CREATE DATABASE")
                } else if self.is(1, "TABLESPACE") {
                    Some("CREATE TABLESPACE")
                } else if self.is(1, "SUBSCRIPTION") {
                    // Only creating the replication slot is refused inside a transaction block;
                    // `connect = false` implies `create_slot = false`.
                    let all = 2..self.toks.len();
                    let no_slot = self.option_disabled(all.clone(), "CREATE_SLOT")
                        || self.option_disabled(all, "CONNECT");
                    (!no_slot).then_some("CREATE SUBSCRIPTION")
                } else {
                    None
                }
            }
            "DROP" => {
                if self.is(1, "INDEX") && self.is(2, "CONCURRENTLY") {
                    Some("DROP INDEX CONCURRENTLY")
                } else if self.is(1, "DATABASE") {
                    Some("DROP DATABASE")
                } else if self.is(1, "TABLESPACE") {
                    Some("DROP TABLESPACE")
                } else if self.is(1, "SUBSCRIPTION") {
                    Some("DROP SUBSCRIPTION")
                } else {
                    None
                }
            }
            "REINDEX" => {
                let i = self.skip_parens(1);
                let opts_concurrently = i > 1 && self.option_enabled(1..i, "CONCURRENTLY");
                if self.is(i + 1, "CONCURRENTLY") || opts_concurrently {
                    Some("REINDEX CONCURRENTLY")
                } else if self.is(i, "SCHEMA") {
                    Some("REINDEX SCHEMA")
                } else if self.is(i, "DATABASE") {
                    Some("REINDEX DATABASE")
                } else if self.is(i, "SYSTEM") {
                    Some("REINDEX SYSTEM")
                } else {
                    None
                }
            }
            "ALTER" => {
                if self.is(1, "SYSTEM") {
                    Some("ALTER SYSTEM")
                } else if self.is(1, "DATABASE")
                    && matches!(self.kind(2), Some(Kind::Word | Kind::QuotedIdent))
                    && self.is(3, "SET")
                    && self.is(4, "TABLESPACE")
                    // `SET tablespace = …` / `TO …` would be a (nonexistent) parameter.
                    && !(self.is(5, "TO") || self.text(5) == "=")
                {
                    Some("ALTER DATABASE SET TABLESPACE")
                } else if self.is(1, "TABLE") {
                    let d = self.find(2, "DETACH")?;
                    if self.is(d + 1, "PARTITION") && self.find(d + 2, "CONCURRENTLY").is_some() {
                        Some("DETACH PARTITION CONCURRENTLY")
                    } else {
                        None
                    }
                } else if self.is(1, "SUBSCRIPTION") {
                    // ALTER SUBSCRIPTION name REFRESH PUBLICATION / {SET|ADD|DROP} PUBLICATION
                    // (the latter refresh by default unless WITH (refresh = false)).
                    if self.is(3, "REFRESH") && self.is(4, "PUBLICATION") {
                        Some("ALTER SUBSCRIPTION ... REFRESH")
                    } else if self.is_any(3, &["SET", "ADD", "DROP"])
                        && self.is(4, "PUBLICATION")
                        && (self.find(5, "REFRESH").is_none()
                            || self.option_enabled(5..self.toks.len(), "REFRESH"))
                    {
                        Some("ALTER SUBSCRIPTION with refresh")
                    } else {
                        None
                    }
                } else {
                    None
                }
            }
            "CLUSTER" => {
                // Only the form without a table name.
                let mut i = 1;
                if self.is(i, "VERBOSE") {
                    i += 1;
                } else {
                    i = self.skip_parens(i);
                }
                (i >= self.toks.len()).then_some("CLUSTER")
            }
            "DISCARD" if self.is(1, "ALL") => Some("DISCARD ALL"),
            _ => None,
        }
    }
}

/// Analyze a migration file: split it, find the first reason it must run outside a
/// transaction block, whether it manages transactions itself, and any lex errors.
pub fn analyze(src: &str) -> Analysis {
    let (toks, raw_errors) = lex(src);
    let mut idx = LineIndex::new(src);
    let raw = split_raw(src, &toks);
    let mut no_transaction = has_directive(src).then_some(NoTxReason::Directive);
    let mut manages_transaction = false;
    let mut client_copy = None;
    let mut pieces = Vec::with_capacity(raw.len());
    for r in &raw {
        let piece = to_piece(src, &mut idx, &toks, r);
        if r.first.is_some() {
            let stmt = Stmt::new(src, &toks[r.toks.clone()]);
            if stmt.manages_transaction() {
                manages_transaction = true;
            }
            if client_copy.is_none() {
                client_copy = stmt.client_copy().map(|what| ClientCopy {
                    what,
                    line: piece.line,
                    column: piece.column,
                });
            }
            if no_transaction.is_none() {
                if let Some(what) = stmt.no_tx_label() {
                    no_transaction = Some(NoTxReason::Statement {
                        what: what.to_string(),
                        line: piece.line,
                        column: piece.column,
                    });
                }
            }
        }
        pieces.push(piece);
    }
    let mut stray_backslash = None;
    let errors = raw_errors
        .into_iter()
        .map(|e| {
            let (line, column) = idx.line_col(e.at);
            if e.stray_backslash {
                stray_backslash = Some((line, column));
            }
            LexError {
                line,
                column,
                message: e.message,
            }
        })
        .collect();
    Analysis {
        pieces,
        no_transaction,
        manages_transaction,
        client_copy,
        errors,
        stray_backslash,
    }
}

/// Whether a statement must run on its own, outside any transaction pgboot opens: PostgreSQL
/// refuses it in a transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM` …), or it is
/// transaction control itself (`BEGIN`, `COMMIT` …).
pub fn runs_alone(stmt: &str) -> bool {
    let (toks, _) = lex(stmt);
    let s = Stmt::new(stmt, &toks);
    s.no_tx_label().is_some() || s.manages_transaction()
}

/// The first `n` significant words of a statement, uppercased, skipping comments, e.g.
/// `["CREATE","UNIQUE","INDEX"]`. Stops early at the first significant token that is not a
/// plain word (a string, a parenthesis, an operator, `;` …). Used for messages.
pub fn leading_keywords(stmt: &str, n: usize) -> Vec<String> {
    let (toks, _) = lex(stmt);
    toks.iter()
        .filter(|t| t.kind.significant())
        .take_while(|t| t.kind == Kind::Word)
        .take(n)
        .map(|t| stmt[t.start..t.end].to_ascii_uppercase())
        .collect()
}
