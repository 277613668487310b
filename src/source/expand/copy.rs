//! `\copy … from 'file'`: psql's client-side COPY, parsed into the server-side statement
//! pgboot sends with the file's rows.

/// The `COPY … FROM STDIN …;` line psql sends for `\copy target from … options`.
pub(super) fn copy_statement(target: &str, options: &str) -> String {
    let options = options
        .trim()
        .trim_end_matches(|c: char| c == ';' || c.is_whitespace());
    if options.is_empty() {
        format!("COPY {target} FROM STDIN;\n")
    } else {
        format!("COPY {target} FROM STDIN {options};\n")
    }
}

/// What a `\copy` reads.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Copy<'a> {
    /// `from 'file'` or `from file`.
    File {
        target: &'a str,
        file: String,
        options: &'a str,
    },
    /// `from stdin`: inline rows.
    Stdin { target: &'a str, options: &'a str },
    /// `to …`, `from program …`, `from pstdin`, or unreadable: left for apply to refuse.
    Other,
}

/// Reads `\copy` args as psql does: the table (and column list) up to `from`, the source, and
/// the rest as COPY options.
pub(super) fn parse_copy(args: &str) -> Copy<'_> {
    let b = args.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
            }
            c if depth == 0 && c.is_ascii_alphabetic() && (i == 0 || !is_word(b[i - 1])) => {
                let start = i;
                while i < b.len() && is_word(b[i]) {
                    i += 1;
                }
                let word = &args[start..i];
                if word.eq_ignore_ascii_case("to") && start > 0 {
                    return Copy::Other;
                }
                if word.eq_ignore_ascii_case("from") && start > 0 {
                    let target = args[..start].trim();
                    return source(target, args[i..].trim_start());
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Copy::Other
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80
}

/// The source after `from` and the options after it.
fn source<'a>(target: &'a str, rest: &'a str) -> Copy<'a> {
    if rest.starts_with('\'') {
        let Some((file, used)) = quoted(rest) else {
            return Copy::Other;
        };
        return Copy::File {
            target,
            file,
            options: &rest[used..],
        };
    }
    let end = rest
        .find(|c: char| c.is_whitespace() || c == ';')
        .unwrap_or(rest.len());
    let word = &rest[..end];
    let options = &rest[end..];
    match word.to_ascii_lowercase().as_str() {
        "" | "program" | "pstdin" | "stdout" | "pstdout" => Copy::Other,
        "stdin" => Copy::Stdin { target, options },
        _ => Copy::File {
            target,
            file: word.to_owned(),
            options,
        },
    }
}

/// A `'…'` word with `''` for a quote: its text and the bytes it took.
pub(super) fn quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, d)| *d) == Some('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, i + 1));
        }
        out.push(c);
    }
    None
}
