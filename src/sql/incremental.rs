//! Splitting a file that is read line by line, without holding it whole: the same pieces as
//! [`split`](super::split), as [`Event`]s, with a bounded buffer.
//!
//! Lines accumulate to about [`CHUNK`] bytes; the whole-text lexer splits them; every piece but
//! the last is emitted, and the last one (usually whitespace, or a statement the next lines
//! finish) is carried over and lexed again with the lines that follow. What carries across:
//! the file line and column where the buffer starts, and `standard_conforming_strings` as the
//! statements before it left it. A statement larger than the chunk grows the buffer (the next
//! lex waits until the buffer has doubled, so the work stays linear).
//!
//! COPY data is never buffered whole: when the buffer ends inside the rows of a
//! `COPY … FROM STDIN`, the statement and the rows so far are emitted, and the lines that follow
//! are forwarded as [`Event::CopyRows`] (in blocks of about 64 KiB) up to the `\.` line.
//!
//! Lex errors are reported only once their piece is complete (an unterminated string at the end
//! of a chunk is usually finished by the next lines); at the end of input they are final. Pure.

use super::lexer::{lex_from, Kind};
use super::lines::LineIndex;
use super::notx::{has_directive, Stmt};
use super::split::{split_raw, to_piece};
use super::vars::has_reference;
use super::{LexError, Meta, PieceKind};

/// Bytes of lines lexed at a time.
pub const CHUNK: usize = 1 << 20;
/// Bytes of COPY rows per [`Event::CopyRows`].
const ROWS: usize = 64 * 1024;

/// What the lexer knows about an SQL piece's statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// A statement PostgreSQL refuses inside a transaction block (its label).
    pub no_transaction: Option<&'static str>,
    /// BEGIN, COMMIT … at the top level.
    pub manages_transaction: bool,
    /// `COPY … FROM STDIN` without data (cannot happen: the lexer attaches its data) or
    /// `COPY … TO STDOUT`.
    pub client_copy: Option<&'static str>,
    /// The statement sets `standard_conforming_strings`: what follows goes in a new query.
    pub sets_scs: bool,
    /// The statement holds a psql variable reference.
    pub variables: bool,
}

/// One step of a file, in order; concatenating the texts gives back the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An SQL piece: a statement with the whitespace and comments before it (or only those:
    /// `empty`). `line`/`column`: its first significant token (or its start).
    Sql {
        text: String,
        /// Where `text` starts (line, column), for positions within a query made of pieces.
        start: (usize, usize),
        line: usize,
        column: usize,
        empty: bool,
        facts: Facts,
    },
    /// A psql meta-command line (its text, with its line break). For `\copy … from stdin`
    /// [`Event::CopyRows`] and [`Event::CopyEnd`] follow.
    Meta {
        meta: Meta,
        text: String,
        start: (usize, usize),
    },
    /// A `COPY … FROM STDIN` statement (the text up to the end of its `;`'s line); its rows
    /// follow as [`Event::CopyRows`], then [`Event::CopyEnd`].
    CopyStart {
        statement: String,
        start: (usize, usize),
        line: usize,
        column: usize,
        /// File line of the first row.
        rows_line: usize,
    },
    /// Rows of COPY data, whole lines with their line breaks.
    CopyRows(String),
    /// The end of COPY data: a `\.` line (`terminated`), or the end of input.
    CopyEnd {
        terminated: bool,
        /// The rows (lines) of the block.
        rows: usize,
    },
    /// An unterminated construct, a stray backslash, text after `COPY … FROM STDIN;`.
    Error(LexError),
}

/// The splitter; feed it lines with [`Splitter::push_line`], then call [`Splitter::finish`].
pub struct Splitter {
    buf: String,
    /// File line of the buffer's first line, and the characters before the buffer on it.
    line: usize,
    col: usize,
    /// `standard_conforming_strings` at the start of the buffer.
    scs: bool,
    /// Lex when the buffer reaches this many bytes.
    lex_at: usize,
    chunk: usize,
    /// Inside COPY data: the rows not yet emitted.
    copy: Option<String>,
    /// Rows of the COPY block in progress, and whether its last one lacks its line break.
    copy_rows: usize,
    copy_partial: bool,
    /// Whether COPY rows are emitted ([`Splitter::counting_rows`] turns it off).
    keep_rows: bool,
    started: bool,
    directive: bool,
    stray: bool,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::with_chunk(CHUNK)
    }
}

impl Splitter {
    /// A splitter that lexes `chunk` bytes at a time (tests use small ones).
    pub fn with_chunk(chunk: usize) -> Self {
        let chunk = chunk.max(1);
        Splitter {
            buf: String::new(),
            line: 1,
            col: 0,
            scs: true,
            lex_at: chunk,
            chunk,
            copy: None,
            copy_rows: 0,
            copy_partial: false,
            keep_rows: true,
            started: false,
            directive: false,
            stray: false,
        }
    }

    /// A splitter that only counts COPY rows ([`Event::CopyEnd::rows`]) without emitting them
    /// (a COPY block carried in one chunk is still emitted whole), for a pass that only
    /// summarises a file.
    pub fn counting_rows(mut self) -> Self {
        self.keep_rows = false;
        self
    }

    /// Whether the file starts with `-- pgboot:no-transaction` (known after the first lex).
    pub fn directive(&self) -> bool {
        self.directive
    }

    /// One line of the file, with its `\n` (the last line may lack it).
    pub fn push_line(&mut self, line: &str, out: &mut Vec<Event>) {
        self.push_text(line, out);
    }

    /// Whole lines of the file (only the file's last line may lack its `\n`).
    pub fn push_text(&mut self, mut text: &str, out: &mut Vec<Event>) {
        while !text.is_empty() {
            if let Some(rows) = &mut self.copy {
                // The rows run to a line that is exactly `\.`.
                let (end, n) = scan_rows(text);
                self.line += n;
                self.copy_rows += n;
                let Some((data, after)) = end else {
                    self.copy_partial = !text.ends_with('\n');
                    if self.keep_rows {
                        rows.push_str(text);
                        if rows.len() >= ROWS {
                            out.push(Event::CopyRows(std::mem::take(rows)));
                        }
                    }
                    return;
                };
                // The `\.` line.
                self.line += usize::from(after > data + 2);
                if self.keep_rows {
                    rows.push_str(&text[..data]);
                }
                if !rows.is_empty() {
                    out.push(Event::CopyRows(std::mem::take(rows)));
                }
                self.copy = None;
                out.push(Event::CopyEnd {
                    terminated: true,
                    rows: std::mem::take(&mut self.copy_rows),
                });
                text = &text[after..];
                continue;
            }
            let room = self.lex_at.saturating_sub(self.buf.len());
            if text.len() < room {
                self.buf.push_str(text);
                return;
            }
            // Up to the end of the line that fills the buffer.
            let cut = memchr::memchr(b'\n', &text.as_bytes()[room..])
                .map_or(text.len(), |i| room + i + 1);
            self.buf.push_str(&text[..cut]);
            text = &text[cut..];
            self.process(false, out);
        }
    }

    /// The end of input: everything left is emitted.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if let Some(rows) = self.copy.take() {
            if !rows.is_empty() {
                out.push(Event::CopyRows(rows));
            }
            let partial = std::mem::take(&mut self.copy_partial);
            out.push(Event::CopyEnd {
                terminated: false,
                rows: std::mem::take(&mut self.copy_rows) + usize::from(partial),
            });
            return;
        }
        self.process(true, out);
    }

    /// File (line, column) of a (line, column) in the buffer.
    fn abs(&self, line: usize, column: usize) -> (usize, usize) {
        if line == 1 {
            (self.line, column + self.col)
        } else {
            (self.line + line - 1, column)
        }
    }

    fn process(&mut self, last: bool, out: &mut Vec<Event>) {
        let mut buf = std::mem::take(&mut self.buf);
        if !self.started {
            self.started = true;
            self.directive = has_directive(&buf);
        }
        let lexed = lex_from(&buf, self.scs);
        let toks = &lexed.toks;
        let raw = split_raw(&buf, toks);
        let mut idx = LineIndex::new(&buf);
        // The last piece is carried over, unless it is COPY data running to the end of the
        // buffer: that is streamed.
        let (mut carry, mut open_copy) = (None, false);
        if let Some(r) = raw.last().filter(|_| !last) {
            match toks[r.toks.clone()].last().map(|t| t.kind) {
                Some(Kind::CopyData {
                    terminated: false, ..
                }) => open_copy = true,
                _ => carry = Some(r.range.start),
            }
        }
        let emit = if carry.is_some() {
            raw.len() - 1
        } else {
            raw.len()
        };
        for (i, r) in raw[..emit].iter().enumerate() {
            let (l, c) = idx.line_col(r.range.start);
            let start = self.abs(l, c);
            let piece = to_piece(&buf, &mut idx, toks, r);
            let (line, column) = self.abs(piece.line, piece.column);
            let data = match piece.kind {
                PieceKind::Sql => {
                    let facts = match r.first {
                        None => Facts::default(),
                        Some(_) => {
                            let stmt = Stmt::new(&buf, &toks[r.toks.clone()]);
                            Facts {
                                no_transaction: stmt.no_tx_label(),
                                manages_transaction: stmt.manages_transaction(),
                                client_copy: stmt.client_copy(),
                                sets_scs: lexed
                                    .scs_changes
                                    .iter()
                                    .any(|(at, _)| *at > r.range.start && *at <= r.range.end),
                                variables: has_reference(&buf, &toks[r.toks.clone()]),
                            }
                        }
                    };
                    out.push(Event::Sql {
                        text: buf[r.range.clone()].to_owned(),
                        start,
                        line,
                        column,
                        empty: r.first.is_none(),
                        facts,
                    });
                    None
                }
                PieceKind::CopyIn(d) => {
                    out.push(Event::CopyStart {
                        statement: buf[r.range.start..d.range.start].to_owned(),
                        start,
                        line,
                        column,
                        rows_line: self.abs(d.line, 1).0,
                    });
                    Some(d)
                }
                PieceKind::Meta(mut meta) => {
                    meta.line = line;
                    let data = meta.data.take();
                    let end = data.as_ref().map_or(r.range.end, |d| d.range.start);
                    let text = buf[r.range.start..end].to_owned();
                    out.push(Event::Meta { meta, text, start });
                    data
                }
            };
            if let Some(d) = data {
                let rows = &buf[d.range.clone()];
                let lines = newlines(rows);
                if open_copy && i + 1 == emit {
                    // Continued by the lines that follow (if the file goes on).
                    self.copy_rows = lines;
                    self.copy_partial = !rows.is_empty() && !rows.ends_with('\n');
                    self.copy = Some(match self.keep_rows {
                        true => String::from(rows),
                        false => String::new(),
                    });
                    continue;
                }
                if !rows.is_empty() {
                    out.push(Event::CopyRows(rows.to_owned()));
                }
                out.push(Event::CopyEnd {
                    terminated: d.terminated,
                    rows: lines + usize::from(!rows.is_empty() && !rows.ends_with('\n')),
                });
            }
        }
        let limit = carry.unwrap_or(usize::MAX);
        for e in lexed.errors.iter().filter(|e| e.at < limit) {
            if e.stray_backslash && std::mem::replace(&mut self.stray, true) {
                continue;
            }
            let (l, c) = idx.line_col(e.at);
            let (line, column) = self.abs(l, c);
            out.push(Event::Error(LexError {
                line,
                column,
                message: e.message.clone(),
            }));
        }
        // `standard_conforming_strings` where the carried piece (or the next line) starts.
        let at = carry.unwrap_or(buf.len());
        if let Some((_, on)) = lexed.scs_changes.iter().rev().find(|(o, _)| *o <= at) {
            self.scs = *on;
        }
        let (l, c) = idx.line_col(at);
        let (line, column) = self.abs(l, c);
        self.line = line;
        self.col = column - 1;
        buf.drain(..at);
        self.buf = buf;
        self.lex_at = self.chunk.max(2 * self.buf.len());
    }
}

/// COPY rows that start `text` (at the start of a line), read once: where they end, if a line
/// of `text` is exactly `\.` (the end of the rows, the end of the `\.` line), and the line
/// breaks before that line (or in the whole text). SIMD searches (memchr): a dump's rows are
/// almost all of its bytes.
fn scan_rows(text: &str) -> (Option<(usize, usize)>, usize) {
    let b = text.as_bytes();
    let mut from = 0;
    let end = loop {
        let at = match from {
            0 if b.starts_with(b"\\.") => Some(0),
            _ => memchr::memmem::find(&b[from..], b"\n\\.").map(|i| from + i + 1),
        };
        let Some(start) = at else { break None };
        match b.get(start + 2) {
            None => break Some((start, start + 2)),
            Some(b'\n') => break Some((start, start + 3)),
            // `\.x`: a row like any other.
            Some(_) => from = start + 1,
        }
    };
    let upto = end.map_or(b.len(), |(start, _)| start);
    (end, newlines(&text[..upto]))
}

fn newlines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

#[cfg(test)]
mod tests;
