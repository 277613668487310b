//! Quoting for SQL text sent over the simple-query protocol (which has no parameters): the only
//! copy in the crate.

/// `"name"`, with embedded double quotes doubled: an identifier, whatever its spelling.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `E'...'`: a string literal, with quotes and backslashes escaped.
pub fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal() {
        assert_eq!(super::quote_literal("a'b\\c"), "E'a''b\\\\c'");
    }

    #[test]
    fn ident() {
        assert_eq!(super::quote_ident(r#"a"b"#), r#""a""b""#);
        assert_eq!(super::quote_ident("Tenants"), r#""Tenants""#);
    }
}
