//! Hiding passwords in connection strings, whether or not they parse.
//!
//! The rule: when a string does not read cleanly, hide more, not less. In a libpq key=value
//! string that stops making sense (an unbalanced quote, a word without `=`), everything after
//! `password` is hidden; in a URL, everything between the first `:` of the user info and the
//! last `@` of the authority, and a `password=` query parameter.

use std::ops::Range;

const HIDDEN: &str = "<redacted>";

/// Connection parameters whose value is a secret.
const SECRET_PARAMS: &[&str] = &["password", "sslpassword"];

/// libpq's connection parameters (and tokio-postgres' `keepalives_retries`). In a key=value
/// string, a key not among them after the password is most likely part of an unquoted
/// password with a space in it.
const KNOWN_PARAMS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "require_auth",
    "channel_binding",
    "connect_timeout",
    "client_encoding",
    "options",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "keepalives_retries",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "sslmode",
    "sslnegotiation",
    "sslcompression",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcertmode",
    "sslrootcert",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "gssdelegation",
    "service",
    "target_session_attrs",
    "load_balance_hosts",
];

fn is_secret_param(key: &str) -> bool {
    SECRET_PARAMS
        .iter()
        .any(|p| key.trim().eq_ignore_ascii_case(p))
}

/// One `key = value` pair of a libpq key=value string, as byte ranges into it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pair {
    pub key: Range<usize>,
    /// The raw value, quotes included.
    pub value: Range<usize>,
}

impl Pair {
    /// The value without its quotes and backslash escapes.
    pub fn unquoted(&self, s: &str) -> String {
        let raw = &s[self.value.clone()];
        let inner = raw
            .strip_prefix('\'')
            .map(|r| r.strip_suffix('\'').unwrap_or(r))
            .unwrap_or(raw);
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                out.extend(chars.next());
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// Tokenizes a key=value string as libpq and tokio-postgres do. Returns the pairs read and,
/// when the string stops making sense, the byte offset where it did. An unterminated quoted
/// value is returned as a pair running to the end of the string.
pub(super) fn kv_pairs(s: &str) -> (Vec<Pair>, Option<usize>) {
    let mut pairs = Vec::new();
    let mut it = s.char_indices().peekable();
    let pos = |it: &mut std::iter::Peekable<std::str::CharIndices>| {
        it.peek().map(|&(i, _)| i).unwrap_or(s.len())
    };
    loop {
        while it.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        let key_start = pos(&mut it);
        while it
            .next_if(|&(_, c)| !c.is_whitespace() && c != '=')
            .is_some()
        {}
        let key_end = pos(&mut it);
        if key_start == key_end {
            return (pairs, it.peek().map(|&(i, _)| i));
        }
        while it.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        if it.next_if(|&(_, c)| c == '=').is_none() {
            return (pairs, Some(key_start));
        }
        while it.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        let value_start = pos(&mut it);
        let mut terminated = true;
        if it.next_if(|&(_, c)| c == '\'').is_some() {
            terminated = false;
            while let Some((_, c)) = it.next() {
                match c {
                    '\\' => {
                        it.next();
                    }
                    '\'' => {
                        terminated = true;
                        break;
                    }
                    _ => {}
                }
            }
        } else {
            while let Some((_, c)) = it.next_if(|&(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    it.next();
                }
            }
        }
        let value_end = pos(&mut it);
        if value_start == value_end {
            return (pairs, Some(key_start));
        }
        pairs.push(Pair {
            key: key_start..key_end,
            value: value_start..value_end,
        });
        if !terminated {
            return (pairs, Some(value_start));
        }
    }
}

/// Hides the password of a `postgres://user:password@host/db` URL, a `?password=` parameter
/// or a `password=...` pair, also when the string is malformed.
pub fn redact_url(url: &str) -> String {
    replace(url, &secret_spans(url))
}

/// The byte ranges of `s` that may hold a password.
fn secret_spans(s: &str) -> Vec<Range<usize>> {
    match s.find("://") {
        Some(scheme_end) => url_spans(s, scheme_end + 3),
        None => kv_spans(s),
    }
}

fn url_spans(url: &str, start: usize) -> Vec<Range<usize>> {
    let rest = &url[start..];
    let mut spans = Vec::new();
    // tokio-postgres takes the user info up to the first '@' anywhere; a second '@' before
    // the path (`u:p@ss@host`) is taken as part of it here, to hide the whole of `p@ss`.
    if let Some(first_at) = rest.find('@') {
        let host_end = rest[first_at..]
            .find(['/', '?'])
            .map_or(rest.len(), |i| first_at + i);
        let last_at = rest[..host_end].rfind('@').unwrap_or(first_at);
        if let Some(colon) = rest[..last_at].find(':') {
            spans.push(start + colon + 1..start + last_at);
        }
    }
    // Any `?` may start the parameters: overlapping spans are merged, and hiding too much is fine.
    let Some(q) = rest.find('?') else {
        return spans;
    };
    let mut offset = start + q + 1;
    let mut password_at = None;
    let mut malformed = false;
    for part in url[offset..].split('&') {
        match part.split_once('=') {
            Some((k, v)) if is_secret_param(&percent_decode(k)) => {
                let v_start = offset + k.len() + 1;
                password_at.get_or_insert(v_start);
                spans.push(v_start..v_start + v.len());
            }
            Some(_) => {}
            None => malformed |= !part.is_empty(),
        }
        offset += part.len() + 1;
    }
    if let (true, Some(from)) = (malformed, password_at) {
        spans.push(from..url.len());
    }
    spans
}

fn kv_spans(s: &str) -> Vec<Range<usize>> {
    let (pairs, trouble) = kv_pairs(s);
    let mut spans = Vec::new();
    let mut after_password = false;
    let mut unknown_after_password = false;
    for p in &pairs {
        let key = &s[p.key.clone()];
        if is_secret_param(key) {
            spans.push(p.value.clone());
            after_password = true;
        } else if after_password && !KNOWN_PARAMS.contains(&key) {
            unknown_after_password = true;
        }
    }
    if trouble.is_none() && !unknown_after_password {
        return spans;
    }
    // The string does not parse: everything after the first `password` may be part of it.
    let lower = s.to_ascii_lowercase();
    if let Some(at) = SECRET_PARAMS.iter().filter_map(|p| lower.find(p)).min() {
        let mut from = at + lower[at..].find("password").unwrap_or(0) + "password".len();
        let tail = &s[from..];
        let trimmed = tail.trim_start();
        from += tail.len() - trimmed.len();
        if let Some(after_eq) = trimmed.strip_prefix('=') {
            from += 1 + after_eq.len() - after_eq.trim_start().len();
        }
        spans.push(from..s.len());
    } else if let Some(last_at) = s.rfind('@') {
        // Not key=value at all: perhaps a URL with a broken scheme (`postgres:/u:pw@host`).
        let from = s[..last_at].find(':').map_or(0, |c| c + 1);
        spans.push(from..last_at);
    }
    spans
}

/// Merges overlapping or touching spans, in order.
fn merged(spans: &[Range<usize>]) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = spans.iter().filter(|r| !r.is_empty()).cloned().collect();
    spans.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for r in spans {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Replaces each span with `<redacted>`.
fn replace(s: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for r in merged(spans) {
        out.push_str(&s[at..r.start]);
        out.push_str(HIDDEN);
        at = r.end;
    }
    out.push_str(&s[at..]);
    out
}

/// Hides, in a message about `conn`, every `quoted` word found in a hidden part of `conn`:
/// a parser's complaint (`unknown option \`...\``) may quote part of a password.
pub(super) fn scrub(message: &str, conn: &str) -> String {
    let hidden: Vec<String> = merged(&secret_spans(conn))
        .into_iter()
        .flat_map(|r| [conn[r.clone()].to_owned(), percent_decode(&conn[r])])
        .collect();
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('`');
    out.push_str(parts.next().unwrap_or(""));
    for (i, part) in parts.enumerate() {
        out.push('`');
        let quoted = i % 2 == 0;
        if quoted && hidden.iter().any(|h| h.contains(part)) {
            out.push_str(HIDDEN);
        } else {
            out.push_str(part);
        }
    }
    out
}

pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
