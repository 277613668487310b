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
//!
//! # psql input
//!
//! Files written for `psql -v ON_ERROR_STOP=1` (pg_dump output, docker-entrypoint-initdb.d
//! scripts) hold more than SQL; the splitter reads them as psql does and says what each
//! [`Piece`] is in its [`PieceKind`]:
//!
//! * **COPY data.** After a top-level `COPY … FROM STDIN …;` every line after the line holding
//!   the `;` is data, up to and including a line that is exactly `\.` (or `\.` + CR), or the
//!   end of input. The data is not lexed (an apostrophe in a row is just a byte). The whole is
//!   one [`PieceKind::CopyIn`] piece whose statement part runs to the end of the `;`'s line;
//!   text after the `;` on that line other than a `--` comment is a [`LexError`] (psql would
//!   send the data first and run that text afterwards). Quoted newlines in CSV data are not
//!   special: psql does not look into the rows either.
//! * **Meta-commands.** A `\` where no statement is in progress (only whitespace and comments
//!   since the previous piece ended: usually the first thing on its line, but psql also takes
//!   one right after a `;`) starts a meta-command that runs to the end of its line: a
//!   [`PieceKind::Meta`] piece whose range covers the line including its line break (`\n`;
//!   psql reads lines up to `\n` only, and drops a CR before it). Several meta-commands or
//!   `\\` separators on one line are not split: the rest of the line is the first one's
//!   [`Meta::args`]. `\copy … from stdin` is followed by inline data like `COPY` (see
//!   [`Meta::data`]). [`meta_action`] classifies a command; [`parse_set`] reads `\set` args.
//! * **Stray backslashes.** A `\` inside a statement (psql would run a meta-command there, as in
//!   `SELECT 1 \gset`) is never valid SQL: the first one is both a [`LexError`] and
//!   [`Analysis::stray_backslash`].
//! * **Variables.** [`variables`] finds `:NAME`, `:'NAME'` and `:"NAME"` where psql substitutes
//!   them; [`interpolate`] substitutes them as psql does.
//!
//! ## For callers that run pieces
//!
//! Every piece whose [`Piece::is_empty`] is false must be dispatched on [`Piece::kind`]:
//!
//! * [`PieceKind::Sql`]: send [`Piece::text`] (through [`interpolate`] first, if variables are
//!   supported).
//! * [`PieceKind::CopyIn`]: send [`Piece::sql_text`] (the `COPY … FROM STDIN` statement) and
//!   stream the bytes of [`CopyData::range`] as COPY data, then end the COPY (the `\.` line is
//!   not data). [`CopyData::terminated`] false means the file ended inside the data (psql sends
//!   it anyway; pg_dump always writes `\.`). [`Analysis::client_copy`] still reports the first
//!   client-side COPY, for callers that refuse them.
//! * [`PieceKind::Meta`]: never send it to the server; act on [`meta_action`] of its name
//!   (nothing for [`MetaAction::Ignore`]; refuse with file:line and the advice for
//!   [`MetaAction::Refuse`] …). Meta pieces are not "empty", so that a caller that does not
//!   dispatch yet fails loudly on them (the server rejects `\…` as a syntax error) instead of
//!   skipping a `\connect` silently; statement indexes that count non-empty pieces count them.

use std::ops::Range;

#[cfg(test)]
mod bench;
mod copy;
mod created;
mod incremental;
mod lexer;
mod lines;
mod meta;
mod notx;
mod scs;
mod split;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_psql;
mod vars;

pub use created::{created_object, Created};
pub use incremental::{Event, Facts, Splitter, CHUNK};
pub use lines::{line_col_of_byte, line_col_of_char_pos};
pub use meta::{meta_action, parse_set, MetaAction};
pub use notx::{analyze, leading_keywords, runs_alone};
pub use scs::changes_standard_conforming_strings;
pub use split::split;
pub use vars::{interpolate, substitute, variables, UndefinedVariable, VarForm, VarRef};

/// A top-level piece of a file: a statement ending after its `;` (or at end of input), a COPY
/// statement with its data, or a psql meta-command line (see [`PieceKind`]). A piece starts
/// where the previous one ended, so it includes the whitespace and comments before it.
/// Concatenating every piece's text in order gives back the whole input, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Byte range in the source.
    pub range: Range<usize>,
    /// Byte offset of the first significant token, or of a meta-command's `\` (None: only
    /// whitespace/comments).
    pub start: Option<usize>,
    /// 1-based line of the first significant token (or of `range.start` when `start` is None).
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What the piece is; callers must dispatch on it (see the module doc).
    pub kind: PieceKind,
}

impl Piece {
    /// The source text of this piece.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.range.clone()).unwrap_or("")
    }

    /// True when the piece holds only whitespace, comments and possibly its `;`. Meta-command
    /// and COPY pieces are never empty.
    pub fn is_empty(&self) -> bool {
        self.start.is_none()
    }

    /// The SQL to send for this piece: the whole text for [`PieceKind::Sql`]; for
    /// [`PieceKind::CopyIn`] the `COPY … FROM STDIN` statement without its data (up to the
    /// end of the `;`'s line); for [`PieceKind::Meta`] nothing (`""`).
    pub fn sql_text<'a>(&self, src: &'a str) -> &'a str {
        match &self.kind {
            PieceKind::Sql => self.text(src),
            PieceKind::CopyIn(d) => src.get(self.range.start..d.range.start).unwrap_or(""),
            PieceKind::Meta(_) => "",
        }
    }
}

/// What a [`Piece`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PieceKind {
    /// An SQL statement (or only whitespace/comments).
    Sql,
    /// `COPY … FROM STDIN …;` followed by its data: the statement is
    /// `range.start..data.range.start` (up to the end of the `;`'s line, see
    /// [`Piece::sql_text`]); the rows are `data.range`; the `\.` line, if any, ends the
    /// piece.
    CopyIn(CopyData),
    /// A psql meta-command line.
    Meta(Meta),
}

/// Inline COPY data: the lines after `COPY … FROM STDIN;` or `\copy … from stdin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyData {
    /// Byte range of the rows, each with its line break, without the `\.` line. Empty when
    /// `\.` (or the end of input) follows at once.
    pub range: Range<usize>,
    /// 1-based line of the first row (with no rows: of `range.start`).
    pub line: usize,
    /// False when the input ended before a `\.` line.
    pub terminated: bool,
}

/// A psql meta-command, e.g. `\restrict key` or `\set name 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The command without its backslash, as psql reads it: everything up to the first
    /// whitespace or backslash (`restrict`, `i`, `set`, `!` …; case matters, as in psql).
    pub name: String,
    /// The rest of the line, trimmed (not unquoted, variables not substituted).
    pub args: String,
    /// 1-based line of the backslash.
    pub line: usize,
    /// The inline rows of `\copy … from stdin` (None for every other command).
    pub data: Option<CopyData>,
}

/// Why a migration file has to run outside a transaction block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTxReason {
    /// `-- pgboot:no-transaction` on the first line of the file (allow leading whitespace/BOM; case-insensitive).
    Directive,
    /// Another tool's marker (dbmate's `transaction:false`, goose's `NO TRANSACTION`,
    /// sql-migrate's `notransaction`; see `source::format`), as written, and its line.
    Marker { text: String, line: usize },
    /// A statement PostgreSQL refuses inside a transaction block. `what` is a short label such as
    /// "VACUUM" or "CREATE INDEX CONCURRENTLY"; `line`/`column` locate the statement's first token.
    Statement {
        what: String,
        line: usize,
        column: usize,
    },
}

/// An unterminated string, quoted identifier, comment or dollar-quoted body; a backslash inside
/// a statement; text after `COPY … FROM STDIN;` on the same line.
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
    /// Unterminated constructs, the first stray backslash, text after a `COPY … FROM STDIN;`.
    pub errors: Vec<LexError>,
    /// The (line, column) of the first `\` inside a statement (a psql meta-command pgboot does
    /// not run there); also in `errors`.
    pub stray_backslash: Option<(usize, usize)>,
}
