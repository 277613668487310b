//! A small PostgreSQL-aware SQL lexer used to split migration files into
//! top-level statements and to detect statements that PostgreSQL refuses to
//! run inside a transaction block.
//!
//! The lexer understands `'…'` strings (with `''` doubling), `E'…'` strings
//! with backslash escapes, the `U&'…'`, `B'…'`, `X'…'` and `N'…'` prefixes,
//! `$tag$…$tag$` dollar quoting, `"quoted identifiers"`, `--` line comments
//! and nested `/* … */` block comments, and follows `SET
//! standard_conforming_strings` statement by statement (backslashes escape in
//! `'…'` while it is off; see `scs`). It never panics: unterminated constructs
//! extend to the end of the input and are reported as [`LexError`]s.

use std::ops::Range;

#[cfg(test)]
mod bench;
mod copy;
mod created;
mod lexer;
mod lines;
mod notx;
mod scs;
mod split;
#[cfg(test)]
mod tests;

pub use created::{created_object, Created};
pub use lines::{line_col_of_byte, line_col_of_char_pos};
pub use notx::{analyze, leading_keywords, runs_alone};
pub use split::split;

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

/// A statement that uses the client side of the COPY protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCopy {
    /// `COPY … FROM STDIN` or `COPY … TO STDOUT`.
    pub what: &'static str,
    pub line: usize,
    pub column: usize,
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
    /// The first `COPY … FROM STDIN` / `COPY … TO STDOUT`, which needs a client-side data stream.
    pub client_copy: Option<ClientCopy>,
    /// Unterminated constructs.
    pub errors: Vec<LexError>,
}
