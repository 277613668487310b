//! Queries from the tests: simple queries over a connection of their own, rows as text.

use std::time::Duration;

pub type Rows = Vec<Vec<Option<String>>>;

/// Runs a simple query and returns every row as text, or the error (the server may be down or
/// starting). Connecting gives up after 10 s; never panics.
pub fn try_query(url: &str, sql: &str) -> Result<Rows, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let connect = tokio_postgres::connect(url, tokio_postgres::NoTls);
        let (client, conn) = tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .map_err(|_| "connect: timeout".to_owned())?
            .map_err(|e| format!("connect: {e:?}"))?;
        tokio::spawn(conn);
        let msgs = client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(msgs
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect())
    })
}

/// Runs a simple query and returns every row as text; panics on error.
pub fn query(url: &str, sql: &str) -> Rows {
    try_query(url, sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// First column of the first row.
pub fn one(url: &str, sql: &str) -> Option<String> {
    query(url, sql)
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

/// A `count(*)`-like query's number.
pub fn count(url: &str, sql: &str) -> i64 {
    one(url, sql)
        .unwrap_or_else(|| panic!("{sql}: no value"))
        .parse()
        .unwrap()
}
