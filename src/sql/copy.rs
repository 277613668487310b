//! `COPY … FROM STDIN` and `COPY … TO STDOUT`: the forms that need a client on the other end of
//! the COPY protocol. pgboot refuses them before anything runs, until it streams COPY data
//! itself; server-side `COPY … FROM 'file'` and `PROGRAM` are ordinary statements.

use super::lexer::Kind;
use super::notx::Stmt;

impl Stmt<'_> {
    /// `COPY … FROM STDIN` or `COPY … TO STDOUT` (any case), at the statement's top level.
    pub(super) fn client_copy(&self) -> Option<&'static str> {
        if self.kind(0) != Some(Kind::Word) || !self.is(0, "COPY") {
            return None;
        }
        // COPY table [(columns)] FROM … | COPY (query) TO …: the direction word follows the
        // table name and its column list, or the parenthesised query, at depth 0.
        let mut i = 1;
        while i < self.toks.len() {
            if self.kind(i) == Some(Kind::LParen) {
                i = self.skip_parens(i);
                continue;
            }
            if self.is(i, "FROM") {
                return self.is(i + 1, "STDIN").then_some("COPY … FROM STDIN");
            }
            if self.is(i, "TO") {
                return self.is(i + 1, "STDOUT").then_some("COPY … TO STDOUT");
            }
            i += 1;
        }
        None
    }
}
