//! A small PostgreSQL-aware SQL lexer used to split migration files into
//! top-level statements and to detect statements that PostgreSQL refuses to
//! run inside a transaction block.
//!
//! The lexer understands `'…'` strings (with `''` doubling), `E'…'` strings
//! with backslash escapes, the `U&'…'`, `B'…'`, `X'…'` and `N'…'` prefixes,
//! `$tag$…$tag$` dollar quoting, `"quoted identifiers"`, `--` line comments
//! and nested `/* … */` block comments. It never panics: unterminated
//! constructs extend to the end of the input and are reported as
//! [`LexError`]s.
#![allow(dead_code)]

use std::ops::Range;

/// A top-level piece of a file, ending after its `;` (or at end of input).
/// Concatenating every piece's text in order gives back the whole input, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte range in the source.
    pub range: Range<usize>,
    /// Byte offset of the first significant token (None: only whitespace/comments).
    pub start: Option<usize>,
    /// 1-based line of the first significant token (or of `range.start` when `start` is None).
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl Piece {
    /// The source text of this piece.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.range.clone()).unwrap_or("")
    }

    /// True when the piece holds only whitespace, comments and possibly its `;`.
    pub fn is_empty(&self) -> bool {
        self.start.is_none()
    }
}

/// Why a migration file has to run outside a transaction block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTxReason {
    /// `-- pgboot:no-transaction` on the first line of the file (allow leading whitespace/BOM; case-insensitive).
    Directive,
    /// A statement PostgreSQL refuses inside a transaction block. `what` is a short label such as
    /// "VACUUM" or "CREATE INDEX CONCURRENTLY"; `line`/`column` locate the statement's first token.
    Statement {
        what: String,
        line: usize,
        column: usize,
    },
}

/// An unterminated string, quoted identifier, comment or dollar-quoted body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The result of [`analyze`].
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Every piece, as [`split`] returns.
    pub pieces: Vec<Piece>,
    /// The first reason found (the directive wins).
    pub no_transaction: Option<NoTxReason>,
    /// A top-level BEGIN / START TRANSACTION / COMMIT / END / ROLLBACK / ABORT /
    /// COMMIT PREPARED / PREPARE TRANSACTION statement.
    pub manages_transaction: bool,
    /// Unterminated constructs.
    pub errors: Vec<LexError>,
}

// ---------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identifier or keyword (unquoted).
    Word,
    /// Numeric literal.
    Number,
    /// `$1` style parameter.
    Param,
    /// Any string literal (`'…'`, `E'…'`, `U&'…'`, `B'…'`, `X'…'`, `N'…'`).
    Str,
    /// `"quoted identifier"` or `U&"…"`.
    QuotedIdent,
    /// `$tag$…$tag$`.
    Dollar,
    Semicolon,
    LParen,
    RParen,
    /// Any other single character (operators, punctuation).
    Punct,
    Space,
    Comment,
}

impl Kind {
    fn significant(self) -> bool {
        !matches!(self, Kind::Space | Kind::Comment)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

/// An unterminated construct found by the lexer, located by byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawError {
    at: usize,
    message: String,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn is_dollar_tag_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Advance `i` to the next UTF-8 character boundary (at most `len`).
fn next_boundary(src: &str, mut i: usize) -> usize {
    let len = src.len();
    if i >= len {
        return len;
    }
    i += 1;
    while i < len && !src.is_char_boundary(i) {
        i += 1;
    }
    i
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    toks: Vec<Tok>,
    errors: Vec<RawError>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            b: src.as_bytes(),
            toks: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) -> usize {
        self.toks.push(Tok { kind, start, end });
        end
    }

    fn error(&mut self, at: usize, message: String) {
        self.errors.push(RawError { at, message });
    }

    fn run(mut self) -> (Vec<Tok>, Vec<RawError>) {
        let len = self.b.len();
        let mut i = 0;
        // A byte order mark at the very start counts as whitespace.
        if self.src.starts_with('\u{feff}') {
            i = self.push(Kind::Space, 0, '\u{feff}'.len_utf8());
        }
        while i < len {
            let c = self.b[i];
            let next = self.at(i + 1);
            i = match c {
                _ if is_space(c) => {
                    let mut j = i + 1;
                    while j < len && is_space(self.b[j]) {
                        j += 1;
                    }
                    self.push(Kind::Space, i, j)
                }
                b'-' if next == Some(b'-') => {
                    let mut j = i + 2;
                    while j < len && self.b[j] != b'\n' && self.b[j] != b'\r' {
                        j += 1;
                    }
                    self.push(Kind::Comment, i, j)
                }
                b'/' if next == Some(b'*') => self.block_comment(i),
                b'\'' => self.string(i, i + 1, false),
                b'"' => self.quoted_ident(i, i + 1),
                b'$' => self.dollar(i),
                b';' => self.push(Kind::Semicolon, i, i + 1),
                b'(' => self.push(Kind::LParen, i, i + 1),
                b')' => self.push(Kind::RParen, i, i + 1),
                b'0'..=b'9' => self.number(i),
                b'.' if next.is_some_and(|n| n.is_ascii_digit()) => self.number(i),
                _ if is_ident_start(c) => self.word(i),
                _ => {
                    let j = next_boundary(self.src, i);
                    self.push(Kind::Punct, i, j)
                }
            };
        }
        (self.toks, self.errors)
    }

    fn block_comment(&mut self, start: usize) -> usize {
        let len = self.b.len();
        let mut depth = 1usize;
        let mut j = start + 2;
        while j < len {
            match (self.b[j], self.at(j + 1)) {
                (b'/', Some(b'*')) => {
                    depth += 1;
                    j += 2;
                }
                (b'*', Some(b'/')) => {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        return self.push(Kind::Comment, start, j);
                    }
                }
                _ => j += 1,
            }
        }
        self.error(
            start,
            "unterminated block comment starting here".to_string(),
        );
        self.push(Kind::Comment, start, len)
    }

    /// A string literal whose body starts at `body` (just after the opening quote); the token
    /// starts at `start` (before any prefix such as `E` or `U&`).
    fn string(&mut self, start: usize, body: usize, backslash_escapes: bool) -> usize {
        let len = self.b.len();
        let mut j = body;
        while j < len {
            match self.b[j] {
                b'\\' if backslash_escapes => j += 2,
                b'\'' => {
                    if self.at(j + 1) == Some(b'\'') {
                        j += 2;
                    } else {
                        return self.push(Kind::Str, start, j + 1);
                    }
                }
                _ => j += 1,
            }
        }
        let what = if backslash_escapes {
            "unterminated E'…' string starting here"
        } else {
            "unterminated quoted string starting here"
        };
        self.error(start, what.to_string());
        self.push(Kind::Str, start, len)
    }

    fn quoted_ident(&mut self, start: usize, body: usize) -> usize {
        let len = self.b.len();
        let mut j = body;
        while j < len {
            if self.b[j] == b'"' {
                if self.at(j + 1) == Some(b'"') {
                    j += 2;
                } else {
                    return self.push(Kind::QuotedIdent, start, j + 1);
                }
            } else {
                j += 1;
            }
        }
        self.error(
            start,
            "unterminated quoted identifier starting here".to_string(),
        );
        self.push(Kind::QuotedIdent, start, len)
    }

    fn dollar(&mut self, start: usize) -> usize {
        let len = self.b.len();
        let next = self.at(start + 1);
        if next.is_some_and(|n| n.is_ascii_digit()) {
            let mut j = start + 1;
            while j < len && self.b[j].is_ascii_digit() {
                j += 1;
            }
            return self.push(Kind::Param, start, j);
        }
        // Opening delimiter: `$$` or `$tag$` with tag = [A-Za-z_\x80-\xff][A-Za-z_0-9\x80-\xff]*.
        let mut j = start + 1;
        if next.is_some_and(is_ident_start) {
            j += 1;
            while j < len && is_dollar_tag_cont(self.b[j]) {
                j += 1;
            }
        }
        if self.at(j) != Some(b'$') {
            let end = next_boundary(self.src, start);
            return self.push(Kind::Punct, start, end);
        }
        let body = j + 1;
        // Both delimiter ends are ASCII `$`, so these slices are on char boundaries.
        let tag = &self.src[start..body];
        match self.src[body..].find(tag) {
            Some(k) => self.push(Kind::Dollar, start, body + k + tag.len()),
            None => {
                let message = format!("unterminated dollar-quoted string {tag} starting here");
                self.error(start, message);
                self.push(Kind::Dollar, start, len)
            }
        }
    }

    fn number(&mut self, start: usize) -> usize {
        let len = self.b.len();
        let mut j = start + 1;
        while j < len
            && (self.b[j].is_ascii_alphanumeric() || self.b[j] == b'_' || self.b[j] == b'.')
        {
            j += 1;
        }
        self.push(Kind::Number, start, j)
    }

    fn word(&mut self, start: usize) -> usize {
        let c = self.b[start];
        let n1 = self.at(start + 1);
        let n2 = self.at(start + 2);
        match (c.to_ascii_lowercase(), n1, n2) {
            (b'e', Some(b'\''), _) => return self.string(start, start + 2, true),
            (b'b' | b'x' | b'n', Some(b'\''), _) => return self.string(start, start + 2, false),
            (b'u', Some(b'&'), Some(b'\'')) => return self.string(start, start + 3, false),
            (b'u', Some(b'&'), Some(b'"')) => return self.quoted_ident(start, start + 3),
            _ => {}
        }
        let len = self.b.len();
        let mut j = start + 1;
        while j < len && is_ident_cont(self.b[j]) {
            j += 1;
        }
        // Identifier bytes include every byte >= 0x80, so `j` is on a char boundary.
        self.push(Kind::Word, start, j)
    }
}

fn lex(src: &str) -> (Vec<Tok>, Vec<RawError>) {
    Lexer::new(src).run()
}

// ---------------------------------------------------------------------------
// Line/column
// ---------------------------------------------------------------------------

/// Byte offsets where lines start. `\r\n`, lone `\r` and lone `\n` each end a line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(src: &str) -> Self {
        let b = src.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    fn line_col(&self, src: &str, byte: usize) -> (usize, usize) {
        let mut byte = byte.min(src.len());
        while !src.is_char_boundary(byte) {
            byte -= 1;
        }
        // Number of line starts <= byte (at least 1 since starts[0] == 0).
        let line = self.starts.partition_point(|&s| s <= byte);
        let line_start = self.starts[line - 1];
        let column = src[line_start..byte].chars().count() + 1;
        (line, column)
    }
}

/// Convert a byte offset within `src` into a 1-based (line, column), column counted in characters.
/// Offsets inside a character are moved back to its start; offsets past the end are clamped to
/// `src.len()` (the position just after the last character).
pub fn line_col_of_byte(src: &str, byte: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(src, byte)
}

/// Convert a 1-based *character* position (as PostgreSQL's error `position` reports, counting
/// characters, not bytes) within `src` into a 1-based (line, column) with column counted in
/// characters. Out of range → clamp to the last char (position 0 is treated as 1).
pub fn line_col_of_char_pos(src: &str, char_pos: usize) -> (usize, usize) {
    let idx = char_pos.max(1) - 1;
    let byte = match src.char_indices().nth(idx) {
        Some((b, _)) => b,
        None => src.char_indices().last().map(|(b, _)| b).unwrap_or(0),
    };
    line_col_of_byte(src, byte)
}

// ---------------------------------------------------------------------------
// Splitting
// ---------------------------------------------------------------------------

/// A piece together with the indexes of its tokens.
struct RawPiece {
    range: Range<usize>,
    toks: Range<usize>,
    /// Token index of the first significant token that is not the terminating `;`.
    first: Option<usize>,
}

fn word_is(src: &str, t: &Tok, kw: &str) -> bool {
    t.kind == Kind::Word && src[t.start..t.end].eq_ignore_ascii_case(kw)
}

/// Per-statement state used to decide whether a `;` ends the statement.
#[derive(Default)]
struct StmtState {
    paren_depth: usize,
    /// Nesting of BEGIN ATOMIC / BEGIN / CASE … END, only inside a SQL-standard routine body.
    atomic_depth: usize,
    /// First few words (uppercased) while the statement consists only of words.
    head: Vec<String>,
    only_words: bool,
    prev_was_begin: bool,
}

impl StmtState {
    fn new() -> Self {
        StmtState {
            only_words: true,
            ..Default::default()
        }
    }

    /// CREATE [OR REPLACE] {FUNCTION|PROCEDURE}
    fn is_routine(&self) -> bool {
        let h: Vec<&str> = self.head.iter().map(String::as_str).collect();
        matches!(
            h.as_slice(),
            ["CREATE", "FUNCTION" | "PROCEDURE", ..]
                | ["CREATE", "OR", "REPLACE", "FUNCTION" | "PROCEDURE", ..]
        )
    }

    /// Feed one significant token; returns true if it is a `;` that ends the statement.
    fn feed(&mut self, src: &str, t: &Tok) -> bool {
        let was_begin = std::mem::replace(&mut self.prev_was_begin, false);
        match t.kind {
            Kind::Semicolon => return self.paren_depth == 0 && self.atomic_depth == 0,
            Kind::LParen => self.paren_depth += 1,
            Kind::RParen => self.paren_depth = self.paren_depth.saturating_sub(1),
            Kind::Word => {
                if self.only_words && self.head.len() < 4 {
                    self.head.push(src[t.start..t.end].to_ascii_uppercase());
                }
                if self.atomic_depth > 0 {
                    if word_is(src, t, "BEGIN") || word_is(src, t, "CASE") {
                        self.atomic_depth += 1;
                    } else if word_is(src, t, "END") {
                        self.atomic_depth -= 1;
                    }
                } else if word_is(src, t, "BEGIN") {
                    self.prev_was_begin = true;
                } else if was_begin
                    && word_is(src, t, "ATOMIC")
                    && self.paren_depth == 0
                    && self.is_routine()
                {
                    self.atomic_depth = 1;
                }
            }
            _ => {}
        }
        if t.kind != Kind::Word {
            self.only_words = false;
        }
        false
    }
}

fn split_raw(src: &str, toks: &[Tok]) -> Vec<RawPiece> {
    let mut out = Vec::new();
    let mut piece_start = 0usize;
    let mut tok_start = 0usize;
    let mut first: Option<usize> = None;
    let mut st = StmtState::new();
    for (i, t) in toks.iter().enumerate() {
        if !t.kind.significant() {
            continue;
        }
        if st.feed(src, t) {
            out.push(RawPiece {
                range: piece_start..t.end,
                toks: tok_start..i + 1,
                first: first.take(),
            });
            piece_start = t.end;
            tok_start = i + 1;
            st = StmtState::new();
        } else if first.is_none() && t.kind != Kind::Semicolon {
            first = Some(i);
        }
    }
    if piece_start < src.len() {
        out.push(RawPiece {
            range: piece_start..src.len(),
            toks: tok_start..toks.len(),
            first,
        });
    }
    out
}

fn to_piece(src: &str, idx: &LineIndex, toks: &[Tok], raw: &RawPiece) -> Piece {
    let start = raw.first.map(|i| toks[i].start);
    let (line, column) = idx.line_col(src, start.unwrap_or(raw.range.start));
    Piece {
        range: raw.range.clone(),
        start,
        line,
        column,
    }
}

/// Split the whole input into pieces (including empty ones), never panicking.
///
/// A piece ends after a `;` that is outside strings, comments, quoted identifiers, dollar-quoted
/// bodies, parentheses and SQL-standard `BEGIN ATOMIC … END` routine bodies; the last piece ends
/// at the end of input. An empty input yields no pieces.
pub fn split(src: &str) -> Vec<Piece> {
    let (toks, _) = lex(src);
    let idx = LineIndex::new(src);
    split_raw(src, &toks)
        .iter()
        .map(|r| to_piece(src, &idx, &toks, r))
        .collect()
}

// ---------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------

/// `-- pgboot:no-transaction` as the first thing in the file (after an optional BOM and
/// whitespace), case-insensitive, followed by end of line/input or whitespace.
fn has_directive(src: &str) -> bool {
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
struct Stmt<'a> {
    src: &'a str,
    toks: Vec<Tok>,
}

impl<'a> Stmt<'a> {
    fn new(src: &'a str, toks: &[Tok]) -> Self {
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

    fn text(&self, i: usize) -> &'a str {
        self.toks
            .get(i)
            .map(|t| &self.src[t.start..t.end])
            .unwrap_or("")
    }

    fn kind(&self, i: usize) -> Option<Kind> {
        self.toks.get(i).map(|t| t.kind)
    }

    fn is(&self, i: usize, kw: &str) -> bool {
        self.toks.get(i).is_some_and(|t| word_is(self.src, t, kw))
    }

    fn is_any(&self, i: usize, kws: &[&str]) -> bool {
        kws.iter().any(|k| self.is(i, k))
    }

    /// If token `i` is `(`, the index just after its matching `)` (or the end); else `i`.
    fn skip_parens(&self, i: usize) -> usize {
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

    fn manages_transaction(&self) -> bool {
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
    fn no_tx_label(&self) -> Option<&'static str> {
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
    let idx = LineIndex::new(src);
    let raw = split_raw(src, &toks);
    let mut no_transaction = has_directive(src).then_some(NoTxReason::Directive);
    let mut manages_transaction = false;
    let mut pieces = Vec::with_capacity(raw.len());
    for r in &raw {
        let piece = to_piece(src, &idx, &toks, r);
        if r.first.is_some() {
            let stmt = Stmt::new(src, &toks[r.toks.clone()]);
            if stmt.manages_transaction() {
                manages_transaction = true;
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
    let errors = raw_errors
        .into_iter()
        .map(|e| {
            let (line, column) = idx.line_col(src, e.at);
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
        errors,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn texts(src: &str) -> Vec<&str> {
        split(src).iter().map(|p| p.text(src)).collect()
    }

    fn stmts(src: &str) -> Vec<String> {
        split(src)
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.text(src).trim().to_string())
            .collect()
    }

    fn what(src: &str) -> Option<String> {
        match analyze(src).no_transaction {
            Some(NoTxReason::Statement { what, .. }) => Some(what),
            Some(NoTxReason::Directive) => Some("directive".to_string()),
            None => None,
        }
    }

    // ---- splitting -------------------------------------------------------

    #[test]
    fn splits_simple_statements() {
        let src = "create table a(x int);\ninsert into a values (1);\n";
        assert_eq!(
            texts(src),
            vec![
                "create table a(x int);",
                "\ninsert into a values (1);",
                "\n"
            ]
        );
        let p = split(src);
        assert!(!p[0].is_empty() && !p[1].is_empty() && p[2].is_empty());
        assert_eq!((p[1].line, p[1].column), (2, 1));
        assert_eq!(p[1].start, Some(23));
        assert_eq!(p[2].start, None);
        assert_eq!((p[2].line, p[2].column), (2, 26));
    }

    #[test]
    fn empty_input_and_lone_semicolons() {
        assert!(split("").is_empty());
        let p = split(";;");
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(Piece::is_empty));
        let p = split("  -- only a comment\n/* and another */  ");
        assert_eq!(p.len(), 1);
        assert!(p[0].is_empty());
    }

    #[test]
    fn last_statement_without_semicolon() {
        assert_eq!(stmts("select 1; select 2"), vec!["select 1;", "select 2"]);
    }

    #[test]
    fn semicolons_in_strings_are_not_separators() {
        assert_eq!(
            stmts("select 'a;b''c;'; select 2;"),
            vec!["select 'a;b''c;';", "select 2;"]
        );
    }

    #[test]
    fn e_strings_with_backslash_escapes() {
        assert_eq!(
            stmts(r"select E'it\'s; \\'; select e'x\\'; select 3;"),
            vec![r"select E'it\'s; \\';", r"select e'x\\';", "select 3;"]
        );
        // In a plain string a backslash is an ordinary character.
        assert_eq!(
            stmts(r"select 'a\'; select 2;"),
            vec![r"select 'a\';", "select 2;"]
        );
        // An identifier ending in e is not an E-string prefix.
        assert_eq!(
            stmts(r"select some'x\'; select 2;"),
            vec![r"select some'x\';", "select 2;"]
        );
    }

    #[test]
    fn prefixed_strings() {
        assert_eq!(
            stmts(r"select U&'d\0061t;', B'1;0', X'1F;', N'n;''x'; select 2;"),
            vec![
                r"select U&'d\0061t;', B'1;0', X'1F;', N'n;''x';",
                "select 2;"
            ]
        );
        assert_eq!(stmts("select U&\"a;b\"; select 2;").len(), 2);
    }

    #[test]
    fn quoted_identifiers() {
        assert_eq!(
            stmts("select 1 as \"a;\"\"b\"; select 2;"),
            vec!["select 1 as \"a;\"\"b\";", "select 2;"]
        );
    }

    #[test]
    fn comments() {
        assert_eq!(
            stmts("select 1 -- ; not here\n; select /* ; /* nested ; */ still ; */ 2;"),
            vec![
                "select 1 -- ; not here\n;",
                "select /* ; /* nested ; */ still ; */ 2;"
            ]
        );
        // The piece starts at the first significant token, after comments.
        let src = "-- header\n/* c */  select 1;";
        let p = split(src);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].start, Some(src.find("select").unwrap()));
        assert_eq!((p[0].line, p[0].column), (2, 10));
    }

    #[test]
    fn dollar_quoting() {
        let src = "create function f() returns int as $$ select 1; $$ language sql;\n\
                   create function g() returns int as $body$ begin; $$ ; $body$ language plpgsql;\n\
                   select $1, $2;";
        let s = stmts(src);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[1].ends_with("$body$ language plpgsql;"));
        assert_eq!(s[2], "select $1, $2;");
        // $1 is a parameter, not a quote; a tag cannot start with a digit.
        assert_eq!(stmts("select $1; select $2;").len(), 2);
        assert_eq!(stmts("select $1a$ x; y $1a$;").len(), 2);
        // Identifiers may contain `$`.
        assert_eq!(stmts("select a$b$ from t; select 2;").len(), 2);
        // Non-ASCII tags.
        assert_eq!(stmts("select $é$ ; $é$; select 2;").len(), 2);
    }

    #[test]
    fn parentheses_keep_statements_together() {
        assert_eq!(
            stmts("create rule r as on insert to t do instead (insert into a values (1); insert into b values (2)); select 1;"),
            vec![
                "create rule r as on insert to t do instead (insert into a values (1); insert into b values (2));",
                "select 1;"
            ]
        );
    }

    #[test]
    fn begin_atomic_bodies() {
        let src = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
                   BEGIN ATOMIC\n\
                     SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n\
                     SELECT a + 1;\n\
                   END;\n\
                   CREATE OR REPLACE PROCEDURE p() begin atomic insert into t values (1); end;\n\
                   SELECT 1;";
        let s = stmts(src);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].starts_with("CREATE FUNCTION") && s[0].ends_with("END;"));
        assert!(s[1].starts_with("CREATE OR REPLACE PROCEDURE") && s[1].ends_with("end;"));
        assert_eq!(s[2], "SELECT 1;");
        let a = analyze(src);
        assert!(!a.manages_transaction);
        assert!(a.no_transaction.is_none());
    }

    #[test]
    fn begin_outside_routine_is_not_atomic_body() {
        // A plain BEGIN; splits normally.
        assert_eq!(
            stmts("BEGIN; SELECT 1; COMMIT;"),
            vec!["BEGIN;", "SELECT 1;", "COMMIT;"]
        );
    }

    #[test]
    fn realistic_migration_file() {
        let src = "-- 0003: add search\r\n\
                   CREATE TABLE docs (id int PRIMARY KEY, body text DEFAULT 'a;b');\r\n\
                   CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\r\n\
                   BEGIN\r\n  NEW.body := NEW.body || ';'; -- VACUUM;\r\n  RETURN NEW;\r\nEND\r\n$fn$;\r\n\
                   /* build it online */\r\n\
                   CREATE UNIQUE INDEX CONCURRENTLY docs_body ON docs (body);\r\n";
        let a = analyze(src);
        assert!(a.errors.is_empty());
        assert!(!a.manages_transaction);
        let stmts: Vec<&Piece> = a.pieces.iter().filter(|p| !p.is_empty()).collect();
        assert_eq!(stmts.len(), 3);
        assert_eq!((stmts[0].line, stmts[0].column), (2, 1));
        assert_eq!((stmts[1].line, stmts[1].column), (3, 1));
        assert_eq!((stmts[2].line, stmts[2].column), (10, 1));
        assert_eq!(
            leading_keywords(stmts[2].text(src), 4),
            vec!["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"]
        );
        assert_eq!(
            a.no_transaction,
            Some(NoTxReason::Statement {
                what: "CREATE INDEX CONCURRENTLY".into(),
                line: 10,
                column: 1
            })
        );
    }

    #[test]
    fn unterminated_atomic_body_extends_to_end() {
        let src = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2;";
        let p = split(src);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].range, 0..src.len());
    }

    // ---- analysis --------------------------------------------------------

    #[test]
    fn detects_no_transaction_statements() {
        let cases = [
            ("VACUUM;", "VACUUM"),
            ("vacuum analyze t;", "VACUUM"),
            ("VACUUM (ANALYZE) t;", "VACUUM"),
            (
                "create index concurrently i on t(x);",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "create /*x*/ unique\n index concurrently i on t(x);",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (x);",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "DROP INDEX CONCURRENTLY IF EXISTS i;",
                "DROP INDEX CONCURRENTLY",
            ),
            (
                "REINDEX (VERBOSE) TABLE CONCURRENTLY t;",
                "REINDEX CONCURRENTLY",
            ),
            ("REINDEX INDEX CONCURRENTLY i;", "REINDEX CONCURRENTLY"),
            ("REINDEX (CONCURRENTLY) TABLE t;", "REINDEX CONCURRENTLY"),
            ("REINDEX SCHEMA public;", "REINDEX SCHEMA"),
            ("REINDEX DATABASE d;", "REINDEX DATABASE"),
            ("REINDEX SYSTEM;", "REINDEX SYSTEM"),
            ("CREATE DATABASE d;", "CREATE DATABASE"),
            ("drop database if exists d;", "DROP DATABASE"),
            ("CREATE TABLESPACE ts LOCATION '/x';", "CREATE TABLESPACE"),
            ("DROP TABLESPACE ts;", "DROP TABLESPACE"),
            ("ALTER SYSTEM SET work_mem = '64MB';", "ALTER SYSTEM"),
            (
                "ALTER DATABASE d SET TABLESPACE ts;",
                "ALTER DATABASE SET TABLESPACE",
            ),
            (
                "ALTER DATABASE \"My Db\" SET TABLESPACE ts;",
                "ALTER DATABASE SET TABLESPACE",
            ),
            ("CLUSTER;", "CLUSTER"),
            ("cluster verbose", "CLUSTER"),
            ("CLUSTER (VERBOSE);", "CLUSTER"),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
                "CREATE SUBSCRIPTION",
            ),
            ("DROP SUBSCRIPTION s;", "DROP SUBSCRIPTION"),
            (
                "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;",
                "DETACH PARTITION CONCURRENTLY",
            ),
            (
                "ALTER TABLE IF EXISTS s.p DETACH PARTITION s.c CONCURRENTLY;",
                "DETACH PARTITION CONCURRENTLY",
            ),
            (
                "ALTER SUBSCRIPTION s REFRESH PUBLICATION;",
                "ALTER SUBSCRIPTION ... REFRESH",
            ),
            (
                "ALTER SUBSCRIPTION s SET PUBLICATION p;",
                "ALTER SUBSCRIPTION with refresh",
            ),
            ("DISCARD ALL;", "DISCARD ALL"),
            ("\u{feff}VACUUM;", "VACUUM"),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = true);",
                "CREATE SUBSCRIPTION",
            ),
        ];
        for (src, expected) in cases {
            assert_eq!(what(src).as_deref(), Some(expected), "{src}");
        }
    }

    #[test]
    fn allowed_statements_do_not_trigger() {
        let cases = [
            "CREATE INDEX i ON t (x);",
            "CREATE UNIQUE INDEX i ON t (concurrently);",
            "DROP INDEX i;",
            "REINDEX TABLE t;",
            "REINDEX INDEX i;",
            "REINDEX (CONCURRENTLY false) TABLE t;",
            "CLUSTER t USING i;",
            "CLUSTER VERBOSE t;",
            "ALTER TYPE mood ADD VALUE 'meh';",
            "ALTER TYPE mood ADD VALUE IF NOT EXISTS 'meh' BEFORE 'ok';",
            "ALTER DATABASE d SET work_mem = '1MB';",
            "ALTER TABLE p DETACH PARTITION c;",
            "ALTER TABLE p DETACH PARTITION c FINALIZE;",
            "ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false);",
            "ALTER SUBSCRIPTION s DISABLE;",
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (create_slot = false, slot_name = 's');",
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p WITH (connect = false);",
            "DISCARD PLANS;",
            "ANALYZE t;",
            "SELECT 'VACUUM';",
            "SELECT E'it\\'s; VACUUM';",
            "SELECT 1; -- VACUUM;\n",
            "/* VACUUM; */ SELECT 1;",
            "/* outer /* VACUUM; */ CREATE INDEX CONCURRENTLY i ON t(x); */ SELECT 1;",
            "SELECT 1 AS \"vacuum\";",
            "\"vacuum\";",
            "SELECT $$ VACUUM; $$;",
            "SELECT $tag$ ; VACUUM; $notit$ ; $tag$;",
            "DO $$ BEGIN VACUUM; END $$;",
            "SELECT 'CREATE INDEX CONCURRENTLY i ON t(x)';",
            "-- CREATE INDEX CONCURRENTLY i ON t(x);\nSELECT 1;",
            "CREATE FUNCTION f() RETURNS void AS $$ CREATE INDEX CONCURRENTLY i ON t(x); $$ LANGUAGE sql;",
            "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC VACUUM; END;",
            "SELECT vacuum FROM t;",
        ];
        for src in cases {
            assert_eq!(what(src), None, "{src}");
        }
    }

    #[test]
    fn statement_reason_position_and_first_wins() {
        let src = "SELECT 1;\n  -- c\n  VaCuUm;\nCREATE DATABASE d;";
        assert_eq!(
            analyze(src).no_transaction,
            Some(NoTxReason::Statement {
                what: "VACUUM".into(),
                line: 3,
                column: 3
            })
        );
    }

    #[test]
    fn directive() {
        for src in [
            "-- pgboot:no-transaction\nCREATE TABLE t();",
            "\u{feff}  --PGBOOT:No-Transaction\r\nSELECT 1;",
            "-- pgboot:no-transaction",
            "\n-- pgboot:no-transaction because of reasons\nVACUUM;",
        ] {
            assert_eq!(
                analyze(src).no_transaction,
                Some(NoTxReason::Directive),
                "{src:?}"
            );
        }
        for src in [
            "-- pgboot:no-transactional\nSELECT 1;",
            "SELECT 1;\n-- pgboot:no-transaction\n",
            "-- something else\n-- pgboot:no-transaction\n",
            "/* -- pgboot:no-transaction */",
        ] {
            assert_eq!(analyze(src).no_transaction, None, "{src:?}");
        }
    }

    #[test]
    fn manages_transaction() {
        for src in [
            "BEGIN;\nCREATE TABLE t();\nCOMMIT;",
            "begin isolation level serializable; select 1; end;",
            "START TRANSACTION; SELECT 1;",
            "SELECT 1; ROLLBACK;",
            "ABORT;",
            "COMMIT PREPARED 'x';",
            "PREPARE TRANSACTION 'x';",
            "-- c\n/* c */ commit",
        ] {
            assert!(analyze(src).manages_transaction, "{src:?}");
        }
        for src in [
            "DO $$ BEGIN PERFORM 1; END $$;",
            "DO $body$\nBEGIN\n  IF true THEN\n    COMMIT;\n  END IF;\nEND\n$body$;",
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
            "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;",
            "SELECT 'BEGIN'; SELECT \"commit\" FROM t;",
            "PREPARE q AS SELECT 1;",
            "SAVEPOINT a; ROLLBACK TO SAVEPOINT a; ROLLBACK WORK TO a;",
            "-- BEGIN;\nSELECT 1;",
        ] {
            assert!(!analyze(src).manages_transaction, "{src:?}");
        }
    }

    #[test]
    fn unterminated_constructs() {
        let cases = [
            ("select 1;\nselect $body$ x;\n", (2, 8), "$body$"),
            ("select 'abc;\nselect 2;", (1, 8), "quoted string"),
            ("select E'abc\\';", (1, 8), "E'"),
            ("select \"abc;", (1, 8), "quoted identifier"),
            ("select 1; /* a /* b */ select 2;", (1, 11), "block comment"),
            ("select $$", (1, 8), "$$"),
        ];
        for (src, (line, column), needle) in cases {
            let a = analyze(src);
            assert_eq!(a.errors.len(), 1, "{src:?}");
            let e = &a.errors[0];
            assert_eq!((e.line, e.column), (line, column), "{src:?}");
            assert!(e.message.contains(needle), "{src:?}: {}", e.message);
            assert!(e.message.contains("unterminated"), "{}", e.message);
            // The last piece extends to the end of input.
            assert_eq!(a.pieces.last().unwrap().range.end, src.len());
            assert_eq!(a.pieces.concat_text(src), src);
        }
        let a = analyze("select $body$ x;\n");
        assert_eq!(
            a.errors[0].message,
            "unterminated dollar-quoted string $body$ starting here"
        );
        assert!(analyze("select 1;").errors.is_empty());
    }

    trait ConcatText {
        fn concat_text(&self, src: &str) -> String;
    }

    impl ConcatText for Vec<Piece> {
        fn concat_text(&self, src: &str) -> String {
            self.iter().map(|p| p.text(src)).collect()
        }
    }

    // ---- positions ------------------------------------------------------

    #[test]
    fn multibyte_line_col() {
        let src = "select 'é✓😀';\n  select '✓';\n😀 x";
        let p = split(src);
        assert_eq!(p.len(), 3);
        assert_eq!((p[1].line, p[1].column), (2, 3));
        assert_eq!((p[2].line, p[2].column), (3, 1));
        // Character positions: 'é' is char 9, '✓' char 10, '😀' char 11, `'` char 12.
        assert_eq!(line_col_of_char_pos(src, 9), (1, 9));
        assert_eq!(line_col_of_char_pos(src, 12), (1, 12));
        // Second line starts at char 15.
        assert_eq!(line_col_of_char_pos(src, 15), (2, 1));
        assert_eq!(line_col_of_char_pos(src, 17), (2, 3));
        // Out of range clamps to the last char.
        assert_eq!(line_col_of_char_pos(src, 10_000), (3, 3));
        assert_eq!(line_col_of_char_pos(src, 0), (1, 1));
        assert_eq!(line_col_of_char_pos("", 5), (1, 1));
        // Byte offsets inside a char move back to its start.
        let e = src.find('é').unwrap();
        assert_eq!(line_col_of_byte(src, e), (1, 9));
        assert_eq!(line_col_of_byte(src, e + 1), (1, 9));
        assert_eq!(line_col_of_byte(src, e + 2), (1, 10));
        assert_eq!(line_col_of_byte(src, src.len() + 10), (3, 4));
    }

    #[test]
    fn crlf_and_cr_line_endings() {
        let src = "select 1;\r\nselect 2;\rselect 3;\n\r\nselect 4;";
        let p = split(src);
        let pos: Vec<(usize, usize)> = p.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(pos, vec![(1, 1), (2, 1), (3, 1), (5, 1)]);
        // The '\n' of a CRLF is on the same line as its '\r'.
        assert_eq!(line_col_of_char_pos(src, 10), (1, 10));
        assert_eq!(line_col_of_char_pos(src, 11), (1, 11));
        assert_eq!(line_col_of_char_pos(src, 12), (2, 1));
        let a = analyze("select 1;\r\n\r\n  'x");
        assert_eq!((a.errors[0].line, a.errors[0].column), (3, 3));
    }

    #[test]
    fn leading_keywords_examples() {
        assert_eq!(
            leading_keywords(
                "  -- c\n create /* x */ unique\n index concurrently i on t",
                3
            ),
            vec!["CREATE", "UNIQUE", "INDEX"]
        );
        assert_eq!(leading_keywords("vacuum (analyze) t", 3), vec!["VACUUM"]);
        assert_eq!(leading_keywords("select", 3), vec!["SELECT"]);
        assert!(leading_keywords("-- only", 3).is_empty());
        assert!(leading_keywords("select 1", 0).is_empty());
        assert_eq!(leading_keywords("\u{feff}vacuum", 3), vec!["VACUUM"]);
    }

    // ---- property tests --------------------------------------------------

    fn sqlish() -> impl Strategy<Value = String> {
        let frag = prop_oneof![
            any::<char>().prop_map(|c| c.to_string()),
            "\\PC{0,4}",
            Just("'".to_string()),
            Just("''".to_string()),
            Just("$$".to_string()),
            Just("$a$".to_string()),
            Just("$1".to_string()),
            Just("$".to_string()),
            Just("/*".to_string()),
            Just("*/".to_string()),
            Just("--".to_string()),
            Just("\n".to_string()),
            Just("\r\n".to_string()),
            Just("\r".to_string()),
            Just(";".to_string()),
            Just("E'\\'".to_string()),
            Just("e'".to_string()),
            Just("\\".to_string()),
            Just("\"".to_string()),
            Just("U&'".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just(" BEGIN ".to_string()),
            Just(" ATOMIC ".to_string()),
            Just(" END ".to_string()),
            Just(" CASE ".to_string()),
            Just("CREATE FUNCTION ".to_string()),
            Just(" VACUUM ".to_string()),
            Just("é".to_string()),
            Just("😀".to_string()),
            Just("\u{feff}".to_string()),
        ];
        prop::collection::vec(frag, 0..40).prop_map(|v| v.concat())
    }

    fn naive_line_col(src: &str, char_pos: usize) -> (usize, usize) {
        let chars: Vec<char> = src.chars().collect();
        if chars.is_empty() {
            return (1, 1);
        }
        let target = char_pos.clamp(1, chars.len()) - 1;
        let (mut line, mut col) = (1, 1);
        for (i, &c) in chars.iter().enumerate() {
            if i == target {
                return (line, col);
            }
            let next = chars.get(i + 1).copied();
            if c == '\n' || (c == '\r' && next != Some('\n')) {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
        }
        unreachable!()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn never_panics(src in sqlish()) {
            let _ = split(&src);
            let a = analyze(&src);
            for e in &a.errors {
                prop_assert!(e.line >= 1 && e.column >= 1);
            }
            let _ = leading_keywords(&src, 3);
        }

        #[test]
        fn never_panics_arbitrary(src in any::<String>()) {
            let _ = analyze(&src);
        }

        #[test]
        fn pieces_cover_input(src in sqlish()) {
            let pieces = split(&src);
            prop_assert_eq!(pieces.concat_text(&src), src.clone());
            let mut at = 0;
            for p in &pieces {
                prop_assert_eq!(p.range.start, at);
                prop_assert!(p.range.end > p.range.start);
                prop_assert!(src.is_char_boundary(p.range.start));
                prop_assert!(src.is_char_boundary(p.range.end));
                if let Some(s) = p.start {
                    prop_assert!(p.range.contains(&s));
                    prop_assert!(src.is_char_boundary(s));
                    prop_assert_eq!((p.line, p.column), line_col_of_byte(&src, s));
                } else {
                    prop_assert_eq!((p.line, p.column), line_col_of_byte(&src, p.range.start));
                }
                at = p.range.end;
            }
            prop_assert_eq!(at, src.len());
            prop_assert_eq!(analyze(&src).pieces, pieces);
        }

        #[test]
        fn char_pos_matches_naive(src in sqlish(), pos in 0usize..200) {
            prop_assert_eq!(line_col_of_char_pos(&src, pos), naive_line_col(&src, pos));
        }
    }
}

#[cfg(test)]
mod created_tests {
    use super::*;

    fn c(sql: &str) -> Option<(&'static str, Option<String>, String, Option<String>)> {
        created_object(sql).map(|c| (c.kind, c.schema, c.name, c.on.map(|o| o.1)))
    }

    #[test]
    fn names_of_created_objects() {
        assert_eq!(
            c("CREATE TABLE IF NOT EXISTS public.Tenants (id int)"),
            Some(("table", Some("public".into()), "tenants".into(), None))
        );
        assert_eq!(
            c("create unique index concurrently if not exists \"Idx\" on t (a)"),
            Some(("index", None, "Idx".into(), Some("t".into())))
        );
        assert_eq!(c("CREATE INDEX ON t (a)"), None);
        assert_eq!(
            c("CREATE OR REPLACE FUNCTION app.f() RETURNS int AS $$ select 1 $$ LANGUAGE sql"),
            Some(("function", Some("app".into()), "f".into(), None))
        );
        assert_eq!(
            c("CREATE MATERIALIZED VIEW IF NOT EXISTS s.mv AS SELECT 1"),
            Some(("materialized view", Some("s".into()), "mv".into(), None))
        );
        assert_eq!(
            c("CREATE POLICY tenant_isolation ON public.contacts USING (true)"),
            Some((
                "policy",
                None,
                "tenant_isolation".into(),
                Some("contacts".into())
            ))
        );
        assert_eq!(
            c("CREATE EXTENSION IF NOT EXISTS vector"),
            Some(("extension", None, "vector".into(), None))
        );
        assert_eq!(
            c("/* x */ CREATE TYPE status AS ENUM ('a')"),
            Some(("type", None, "status".into(), None))
        );
        assert_eq!(
            c("CREATE TRIGGER trg BEFORE UPDATE ON deals FOR EACH ROW EXECUTE FUNCTION f()"),
            Some(("trigger", None, "trg".into(), Some("deals".into())))
        );
        assert_eq!(c("ALTER TABLE t ADD COLUMN x int"), None);
        assert_eq!(c("SELECT 'CREATE TABLE x'"), None);
    }
}
