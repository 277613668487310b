//! Splitting a file into top-level statements ([`Piece`]s).

use std::ops::Range;

use super::lexer::{lex, word_is, Kind, Tok};
use super::lines::LineIndex;
use super::{meta, CopyData, Meta, Piece, PieceKind};

/// A piece together with the indexes of its tokens.
pub(super) struct RawPiece {
    pub(super) range: Range<usize>,
    pub(super) toks: Range<usize>,
    /// Token index of the first significant token that is not the terminating `;`.
    pub(super) first: Option<usize>,
}

/// Per-statement state used to decide whether a `;` ends the statement.
#[derive(Default)]
pub(super) struct StmtState {
    paren_depth: usize,
    /// Nesting of BEGIN ATOMIC / BEGIN / CASE … END, only inside a SQL-standard routine body.
    atomic_depth: usize,
    /// First few words (uppercased) while the statement consists only of words.
    head: Vec<String>,
    only_words: bool,
    prev_was_begin: bool,
}

impl StmtState {
    pub(super) fn new() -> Self {
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
    pub(super) fn feed(&mut self, src: &str, t: &Tok) -> bool {
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

pub(super) fn split_raw(src: &str, toks: &[Tok]) -> Vec<RawPiece> {
    let mut out = Vec::new();
    let mut piece_start = 0usize;
    let mut tok_start = 0usize;
    let mut first: Option<usize> = None;
    let mut st = StmtState::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let ends = match t.kind {
            // The lexer makes a meta-command only where no statement is in progress.
            Kind::Meta => {
                first = Some(i);
                true
            }
            _ if !t.kind.significant() => false,
            _ => {
                let ends = st.feed(src, t);
                if !ends && first.is_none() && t.kind != Kind::Semicolon {
                    first = Some(i);
                }
                ends
            }
        };
        if !ends {
            i += 1;
            continue;
        }
        // COPY data follows its statement's `;` or its `\copy` line at once.
        let last = match toks.get(i + 1) {
            Some(Tok {
                kind: Kind::CopyData { .. },
                ..
            }) => i + 1,
            _ => i,
        };
        let end = toks[last].end;
        out.push(RawPiece {
            range: piece_start..end,
            toks: tok_start..last + 1,
            first: first.take(),
        });
        piece_start = end;
        tok_start = last + 1;
        st = StmtState::new();
        i = last + 1;
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

/// The piece for `raw`; `idx` answers fastest when pieces come in order.
pub(super) fn to_piece(src: &str, idx: &mut LineIndex, toks: &[Tok], raw: &RawPiece) -> Piece {
    let first = raw.first.map(|i| toks[i]);
    let start = first.map(|t| t.start);
    let (line, column) = idx.line_col(start.unwrap_or(raw.range.start));
    let data = match toks[raw.toks.clone()].last().map(|t| t.kind) {
        Some(Kind::CopyData {
            data_start,
            data_end,
            terminated,
        }) => Some(CopyData {
            range: data_start..data_end,
            line: idx.line_col(data_start).0,
            terminated,
        }),
        _ => None,
    };
    let kind = match (first, data) {
        (Some(t), data) if t.kind == Kind::Meta => {
            let (name, args) = meta::parse_line(&src[t.start + 1..t.end]);
            PieceKind::Meta(Meta {
                name: name.to_string(),
                args: args.to_string(),
                line,
                data,
            })
        }
        (_, Some(data)) => PieceKind::CopyIn(data),
        (_, None) => PieceKind::Sql,
    };
    Piece {
        range: raw.range.clone(),
        start,
        line,
        column,
        kind,
    }
}

/// Split the whole input into pieces (including empty ones), never panicking.
///
/// A piece ends after a `;` that is outside strings, comments, quoted identifiers, dollar-quoted
/// bodies, parentheses and SQL-standard `BEGIN ATOMIC … END` routine bodies, after the data that
/// follows `COPY … FROM STDIN;`, or after a psql meta-command line (see the module doc); the last
/// piece ends at the end of input. An empty input yields no pieces.
pub fn split(src: &str) -> Vec<Piece> {
    let (toks, _) = lex(src);
    let mut idx = LineIndex::new(src);
    split_raw(src, &toks)
        .iter()
        .map(|r| to_piece(src, &mut idx, &toks, r))
        .collect()
}
