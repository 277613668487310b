//! `COPY … FROM STDIN` and `COPY … TO STDOUT`: the forms that need a client on the other end of
//! the COPY protocol (server-side `COPY … FROM 'file'` and `PROGRAM` are ordinary statements),
//! and the inline data psql reads after `COPY … FROM STDIN;` in a file.

use std::ops::Range;

use super::lexer::{word_is, Kind, Tok};
use super::notx::Stmt;

pub(super) const FROM_STDIN: &str = "COPY … FROM STDIN";
pub(super) const TO_STDOUT: &str = "COPY … TO STDOUT";

/// Recognises `COPY … FROM STDIN` / `COPY … TO STDOUT` one significant token at a time, so that
/// the lexer knows, at the `;` that ends a statement, whether data lines follow.
#[derive(Default)]
pub(super) struct CopyDetector {
    state: State,
    /// Parenthesis depth after `COPY` (column list, `(query)`).
    depth: usize,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing seen yet.
    #[default]
    Start,
    /// After `COPY`, looking for `FROM` / `TO` at depth 0.
    Target,
    From,
    To,
    Found(&'static str),
    No,
}

impl CopyDetector {
    /// Feed one significant token of the statement.
    pub(super) fn feed(&mut self, src: &str, t: &Tok) {
        self.state = match self.state {
            State::Start if word_is(src, t, "COPY") => State::Target,
            State::Start => State::No,
            // COPY table [(columns)] FROM … | COPY (query) TO …: the direction word follows the
            // table name and its column list, or the parenthesised query, at depth 0.
            State::Target => match t.kind {
                Kind::LParen => {
                    self.depth += 1;
                    State::Target
                }
                Kind::RParen => {
                    self.depth = self.depth.saturating_sub(1);
                    State::Target
                }
                _ if self.depth == 0 && word_is(src, t, "FROM") => State::From,
                _ if self.depth == 0 && word_is(src, t, "TO") => State::To,
                _ => State::Target,
            },
            State::From if word_is(src, t, "STDIN") => State::Found(FROM_STDIN),
            State::To if word_is(src, t, "STDOUT") => State::Found(TO_STDOUT),
            State::From | State::To => State::No,
            s @ (State::Found(_) | State::No) => s,
        };
    }

    /// [`FROM_STDIN`] or [`TO_STDOUT`] if the tokens so far make one.
    pub(super) fn client_copy(&self) -> Option<&'static str> {
        match self.state {
            State::Found(what) => Some(what),
            _ => None,
        }
    }
}

impl Stmt<'_> {
    /// `COPY … FROM STDIN` or `COPY … TO STDOUT` (any case), at the statement's top level.
    pub(super) fn client_copy(&self) -> Option<&'static str> {
        let mut d = CopyDetector::default();
        for t in &self.toks {
            d.feed(self.src, t);
        }
        d.client_copy()
    }
}

/// Where inline COPY data lies; see [`data_block`].
pub(super) struct DataBlock {
    /// The rows, each with its `\n`, without the `\.` line.
    pub(super) data: Range<usize>,
    pub(super) terminated: bool,
    /// End of the block: after the `\.` line, or the end of input.
    pub(super) end: usize,
    /// After a statement: where text other than whitespace or a `--` comment follows the `;`
    /// on its line.
    pub(super) trailing: Option<usize>,
}

/// The data block that starts at `from`: just after the `;` of a `COPY … FROM STDIN` statement
/// (`statement`: the rest of that line comes first and is not data), or at the start of the
/// line after a `\copy … from stdin`. As psql reads it: lines end at `\n`, and a line that is
/// exactly `\.` (or `\.` and a CR) ends the data, or the end of input does.
pub(super) fn data_block(src: &str, from: usize, statement: bool) -> DataBlock {
    let len = src.len();
    let line_end = |p: usize| src[p..].find('\n').map(|k| p + k);
    let mut p = from;
    let mut trailing = None;
    if statement {
        let eol = line_end(from).map_or(len, |n| n + 1);
        let rest = &src[from..eol];
        let text = rest.trim_start();
        if !text.is_empty() && !text.starts_with("--") {
            trailing = Some(from + rest.len() - text.len());
        }
        p = eol;
    }
    let data_start = p;
    while p < len {
        let nl = line_end(p);
        let line = &src[p..nl.unwrap_or(len)];
        if line == "\\." || line == "\\.\r" {
            return DataBlock {
                data: data_start..p,
                terminated: true,
                end: nl.map_or(len, |n| n + 1),
                trailing,
            };
        }
        p = nl.map_or(len, |n| n + 1);
    }
    DataBlock {
        data: data_start..len,
        terminated: false,
        end: len,
        trailing,
    }
}
