//! The lexer: turns source text into tokens (words, literals, punctuation, whitespace and
//! comments) that cover the input byte for byte. Unterminated constructs run to the end of
//! the input and are reported as [`RawError`]s located by byte offset.
//!
//! psql input (see the `sql` module doc): a `\` where no statement is in progress is a
//! [`Kind::Meta`] token to the end of its line, and the data after `COPY … FROM STDIN;` or
//! `\copy … from stdin` is one [`Kind::CopyData`] token, never lexed as SQL.

use super::copy::{self, CopyDetector};
use super::meta;
use super::scs::Scs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
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
    /// A psql meta-command: a `\` where no statement is in progress, to the end of its line
    /// (with its `\n`).
    Meta,
    /// Inline COPY data. After `COPY … FROM STDIN;` the token starts just after the `;` (the rest
    /// of that line is part of it); after a `\copy … from stdin` meta token, on the next line.
    /// `data` is the rows' byte range; `terminated`: a `\.` line ends the rows and the token.
    CopyData {
        data_start: usize,
        data_end: usize,
        terminated: bool,
    },
}

impl Kind {
    /// Part of a statement: not whitespace, a comment, a meta-command or COPY data.
    pub(super) fn significant(self) -> bool {
        !matches!(
            self,
            Kind::Space | Kind::Comment | Kind::Meta | Kind::CopyData { .. }
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tok {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// An unterminated construct found by the lexer, located by byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RawError {
    pub(super) at: usize,
    pub(super) message: String,
    /// A backslash inside a statement.
    pub(super) stray_backslash: bool,
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
    /// `standard_conforming_strings` as the statements so far left it (see `scs`): when off,
    /// backslashes escape in plain `'…'` strings too.
    standard_strings: bool,
    scs: Scs,
    /// Follows the statement in progress: is it `COPY … FROM STDIN`?
    copy: CopyDetector,
    /// The `;` just pushed ended a `COPY … FROM STDIN` statement: its data follows.
    copy_in: bool,
    /// A stray backslash was reported already (only the first one is).
    stray: bool,
    /// Where a statement set `standard_conforming_strings`: (offset just after its `;`, value).
    scs_changes: Vec<(usize, bool)>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str, standard_strings: bool) -> Self {
        Lexer {
            src,
            b: src.as_bytes(),
            toks: Vec::new(),
            errors: Vec::new(),
            standard_strings,
            scs: Scs::new(),
            copy: CopyDetector::default(),
            copy_in: false,
            stray: false,
            scs_changes: Vec::new(),
        }
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn push(&mut self, kind: Kind, start: usize, end: usize) -> usize {
        let t = Tok { kind, start, end };
        self.toks.push(t);
        if kind.significant() {
            self.copy.feed(self.src, &t);
            if let Some(on) = self.scs.feed(self.src, &t) {
                self.standard_strings = on;
                self.scs_changes.push((end, on));
            }
            if kind == Kind::Semicolon && !self.scs.in_progress() {
                self.copy_in =
                    std::mem::take(&mut self.copy).client_copy() == Some(copy::FROM_STDIN);
            }
        }
        end
    }

    fn error(&mut self, at: usize, message: String) {
        self.errors.push(RawError {
            at,
            message,
            stray_backslash: false,
        });
    }

    fn run(mut self) -> Lexed {
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
                b'\'' => self.string(i, i + 1, !self.standard_strings),
                b'"' => self.quoted_ident(i, i + 1),
                b'$' => self.dollar(i),
                b';' => {
                    let end = self.push(Kind::Semicolon, i, i + 1);
                    match std::mem::take(&mut self.copy_in) {
                        true => self.copy_data(end, true),
                        false => end,
                    }
                }
                b'\\' => self.backslash(i),
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
        Lexed {
            toks: self.toks,
            errors: self.errors,
            scs_changes: self.scs_changes,
        }
    }

    /// A `\`: a meta-command where no statement is in progress, else a stray backslash.
    fn backslash(&mut self, start: usize) -> usize {
        if self.scs.in_progress() {
            if !std::mem::replace(&mut self.stray, true) {
                self.errors.push(RawError {
                    at: start,
                    message: "backslash inside a statement: psql would run a meta-command here; \
                              pgboot takes meta-commands only between statements (after the \
                              previous `;`)"
                        .to_string(),
                    stray_backslash: true,
                });
            }
            return self.push(Kind::Punct, start, start + 1);
        }
        let end = match self.src[start..].find('\n') {
            Some(k) => start + k + 1,
            None => self.b.len(),
        };
        self.push(Kind::Meta, start, end);
        let (name, args) = meta::parse_line(&self.src[start + 1..end]);
        if name == "copy" && meta::copy_from_stdin(args) {
            self.copy_data(end, false)
        } else {
            end
        }
    }

    /// The data after a `COPY … FROM STDIN` statement whose `;` ends at `from` (`statement`),
    /// or after a `\copy … from stdin` line ending at `from`; see [`Kind::CopyData`].
    fn copy_data(&mut self, from: usize, statement: bool) -> usize {
        let block = copy::data_block(self.src, from, statement);
        if let Some(at) = block.trailing {
            self.error(
                at,
                "text after `COPY … FROM STDIN;` on the same line: psql reads the COPY data \
                 from the next line on and would run this only after the data; end the line \
                 after the `;`"
                    .to_string(),
            );
        }
        let kind = Kind::CopyData {
            data_start: block.data.start,
            data_end: block.data.end,
            terminated: block.terminated,
        };
        self.push(kind, from, block.end)
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
    /// starts at `start` (before any prefix such as `E` or `U&`). `backslash_escapes`: an
    /// `E'…'` string, or a plain one while `standard_conforming_strings` is off.
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
        let what = if matches!(self.b[start], b'e' | b'E') {
            "unterminated E'…' string starting here"
        } else if backslash_escapes {
            "unterminated quoted string starting here (with standard_conforming_strings off, \
             a backslash escapes the next character)"
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
            // N'…' is a plain string; bit strings never take backslash escapes.
            (b'n', Some(b'\''), _) => return self.string(start, start + 2, !self.standard_strings),
            (b'b' | b'x', Some(b'\''), _) => return self.string(start, start + 2, false),
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

/// Tokenize the whole input. Whitespace and comments are tokens too, so the tokens cover every
/// byte of `src` in order.
pub(super) fn lex(src: &str) -> (Vec<Tok>, Vec<RawError>) {
    let l = Lexer::new(src, true).run();
    (l.toks, l.errors)
}

/// What [`lex_from`] found.
pub(super) struct Lexed {
    pub(super) toks: Vec<Tok>,
    pub(super) errors: Vec<RawError>,
    /// Every statement that set `standard_conforming_strings`: (offset just after its `;`, the
    /// value it set), in order.
    pub(super) scs_changes: Vec<(usize, bool)>,
}

/// Tokenize `src`, a stretch of a file that starts where no statement is in progress, with
/// `standard_conforming_strings` as the statements before it left it (see `incremental`).
pub(super) fn lex_from(src: &str, standard_strings: bool) -> Lexed {
    Lexer::new(src, standard_strings).run()
}

/// Whether `t` is the unquoted word `kw` (ASCII case-insensitive).
pub(super) fn word_is(src: &str, t: &Tok, kw: &str) -> bool {
    t.kind == Kind::Word && src[t.start..t.end].eq_ignore_ascii_case(kw)
}
