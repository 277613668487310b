//! `COPY … FROM stdin` with the data inline in the file (pg_dump's format): the statement goes
//! over the COPY protocol and the rows follow it, streamed in chunks from the file's text, in
//! the file's transaction (or, in a non-transactional file, in the statement's own).

use futures_util::SinkExt;

use crate::pg::db::Db;

/// Bytes per CopyData message.
const CHUNK: usize = 64 * 1024;

/// Sends `statement` and streams `data` (the rows, without `\.`). Returns the rows copied.
pub(super) async fn copy_in(
    db: &Db,
    statement: &str,
    data: &str,
) -> Result<u64, tokio_postgres::Error> {
    let sink = db.client.copy_in::<str, bytes::Bytes>(statement).await?;
    let mut sink = std::pin::pin!(sink);
    for chunk in data.as_bytes().chunks(CHUNK) {
        sink.send(bytes::Bytes::copy_from_slice(chunk)).await?;
    }
    sink.as_mut().finish().await
}

/// The file line of the data row a COPY error names (`CONTEXT: COPY t, line 3, column a: …`),
/// given the file line of the first row. Pure.
pub(super) fn row_line(context: Option<&str>, first_row_line: usize) -> Option<usize> {
    let ctx = context?;
    let at = ctx.find("COPY ")?;
    let rest = &ctx[at..];
    let n: usize = rest
        .split(", line ")
        .nth(1)?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some(first_row_line + n.saturating_sub(1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn row_lines() {
        let ctx = "COPY events, line 3, column qty: \"-1\"";
        assert_eq!(super::row_line(Some(ctx), 40), Some(42));
        assert_eq!(super::row_line(Some("COPY t, line 1"), 7), Some(7));
        assert_eq!(super::row_line(Some("SQL function f"), 7), None);
        assert_eq!(super::row_line(None, 7), None);
    }
}
