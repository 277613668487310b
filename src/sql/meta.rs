//! psql meta-commands: reading a `\name args` line, what pgboot should do with each command
//! ([`meta_action`]), and the arguments of `\set` ([`parse_set`]).

/// psql's whitespace in meta-command lines.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// A meta-command line after its backslash → (name, args): the name runs to the first
/// whitespace or backslash (as psql reads it), the args are the rest of the line, trimmed.
pub(super) fn parse_line(line: &str) -> (&str, &str) {
    let end = line
        .find(|c: char| is_space(c) || c == '\\')
        .unwrap_or(line.len());
    (&line[..end], line[end..].trim_matches(is_space))
}

/// Whether `\copy` args read inline data: `… from stdin` (psql's `pstdin` is its standard
/// input, not the file). Words in quotes or parentheses (`(query)`, a column list) are skipped.
pub(super) fn copy_from_stdin(args: &str) -> bool {
    let mut after_from = false;
    let mut depth = 0usize;
    let mut chars = args.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '\'' | '"' => {
                // A quoted word: a table name, or a file name after `from`.
                if depth == 0 && after_from {
                    return false;
                }
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            _ if is_space(c) => {}
            _ => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if is_space(d) || matches!(d, '(' | ')' | '\'' | '"') {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                let word = &args[i..end];
                if depth > 0 {
                    continue;
                }
                if after_from {
                    return word.eq_ignore_ascii_case("stdin");
                }
                if word.eq_ignore_ascii_case("to") {
                    return false;
                }
                after_from = word.eq_ignore_ascii_case("from");
            }
        }
    }
    false
}

/// What pgboot should do with a psql meta-command, by its name ([`Meta::name`](super::Meta)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaAction {
    /// `\restrict` / `\unrestrict` (pg_dump 17.6+ guards its output against a malicious
    /// server with them): nothing to do.
    Ignore,
    /// `\i` / `\include` (path relative to the current directory) and `\ir` /
    /// `\include_relative` (`relative`: to the directory of the file holding the command).
    Include { relative: bool },
    /// `\set NAME value…` (see [`parse_set`]); without args psql lists the variables.
    Set,
    /// `\unset NAME`.
    Unset,
    /// `\echo`, `\qecho`, `\warn`: print the args.
    Echo,
    /// `\copy`: client-side COPY from or to a file or program named in the args, or from
    /// inline data ([`Meta::data`](super::Meta) is Some for `\copy … from stdin`).
    Copy,
    /// Anything else; the advice says what to do instead.
    Refuse(&'static str),
}

/// Classify a meta-command by its name (without the backslash; case-sensitive, as psql).
pub fn meta_action(name: &str) -> MetaAction {
    match name {
        "restrict" | "unrestrict" => MetaAction::Ignore,
        "i" | "include" => MetaAction::Include { relative: false },
        "ir" | "include_relative" => MetaAction::Include { relative: true },
        "set" => MetaAction::Set,
        "unset" => MetaAction::Unset,
        "echo" | "qecho" | "warn" => MetaAction::Echo,
        "copy" => MetaAction::Copy,
        "c" | "connect" => MetaAction::Refuse(
            "\\connect switches to another database or user mid-file; use a separate pgboot \
             target per database",
        ),
        "if" | "elif" | "else" | "endif" => MetaAction::Refuse(
            "psql conditionals (\\if … \\endif) are not supported; decide in SQL (a DO block) \
             or split the file",
        ),
        "gset" | "gexec" => MetaAction::Refuse(
            "\\gset and \\gexec feed query results back into psql; compute in SQL instead \
             (a DO block with EXECUTE, or a CTE)",
        ),
        "!" => MetaAction::Refuse("\\! runs a shell command; pgboot does not run shell commands"),
        "q" | "quit" => {
            MetaAction::Refuse("\\q would stop the file here; remove it and what follows it")
        }
        _ => MetaAction::Refuse(
            "pgboot does not run this psql meta-command; remove it, or run the file with psql",
        ),
    }
}

/// psql's variable-name characters: ASCII letters, digits, `_`, and any non-ASCII character.
pub(super) fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()
}

/// The name and value of `\set NAME [value …]` from its [`Meta::args`](super::Meta), as psql
/// reads them: the args split at whitespace; `'…'` quotes a part, with `''` for a quote and
/// the backslash escapes `\n \t \b \r \f`, `\` + 1–3 octal digits, `\x` + 1–2 hex digits, and
/// `\` + any other character for that character; `"…"` is kept with its quotes; a word may mix
/// quoted and bare parts; the value is every arg after the name, concatenated without spaces
/// (`\set x a b` sets `ab`); a lone name sets the empty string.
///
/// None when psql would not set anything (no args: it lists the variables), the name is not
/// letters, digits and `_`, a quote is unterminated, an escape does not make UTF-8, or the args
/// hold what this does not do: a backtick (psql runs a shell command), a bare backslash
/// (another meta-command on the line). `:NAME` references are not substituted; they stay as
/// text.
pub fn parse_set(args: &str) -> Option<(String, String)> {
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut chars = args.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        if is_space(c) {
            in_word = false;
            continue;
        }
        if !in_word {
            words.push(Vec::new());
            in_word = true;
        }
        let w = words.last_mut()?;
        match c {
            '`' | '\\' => return None,
            '\'' => loop {
                match chars.next()? {
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        w.push(b'\'');
                    }
                    '\'' => break,
                    '\\' => unescape(&mut chars, w)?,
                    d => w.extend_from_slice(d.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            },
            '"' => {
                w.push(b'"');
                loop {
                    let d = chars.next()?;
                    w.extend_from_slice(d.encode_utf8(&mut [0; 4]).as_bytes());
                    if d == '"' {
                        break;
                    }
                }
            }
            d => w.extend_from_slice(d.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    let mut words = words.into_iter();
    let name = String::from_utf8(words.next()?).ok()?;
    if name.is_empty() || !name.chars().all(is_var_char) {
        return None;
    }
    let value = String::from_utf8(words.flatten().collect()).ok()?;
    Some((name, value))
}

/// One backslash escape inside `'…'` in meta-command args (after the backslash).
fn unescape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, w: &mut Vec<u8>) -> Option<()> {
    let c = chars.next()?;
    let digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, first: u32, radix, max| {
        let mut v = first;
        for _ in 1..max {
            match chars.peek().and_then(|d| d.to_digit(radix)) {
                Some(d) => {
                    v = v * radix + d;
                    chars.next();
                }
                None => break,
            }
        }
        // psql stores the low byte (`\777` wraps).
        v as u8
    };
    match c {
        'n' => w.push(b'\n'),
        't' => w.push(b'\t'),
        'b' => w.push(0x08),
        'r' => w.push(b'\r'),
        'f' => w.push(0x0c),
        '0'..='7' => {
            let first = c.to_digit(8)?;
            w.push(digits(chars, first, 8, 3));
        }
        'x' if chars.peek().is_some_and(|d| d.is_ascii_hexdigit()) => {
            let first = chars.next()?.to_digit(16)?;
            w.push(digits(chars, first, 16, 2));
        }
        d => w.extend_from_slice(d.encode_utf8(&mut [0; 4]).as_bytes()),
    }
    Some(())
}
