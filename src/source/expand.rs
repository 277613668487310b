//! psql input expanded at discovery, so that the checksum covers everything a file runs:
//!
//! - `\i` / `\include` (path relative to the migrations directory: psql's is relative to its
//!   working directory, which for docker-entrypoint-initdb.d was that directory) and `\ir` /
//!   `\include_relative` (relative to the including file's directory): the line becomes a
//!   `-- pgboot: \i …` comment followed by the included file's text, recursively. A cycle, a
//!   missing file, or an included file that is itself a migration is an error naming the chain.
//! - `\set NAME value` / `\unset NAME` change the variables (which start as the configured
//!   `vars`) for the text after them; the lines stay (apply ignores them). `:NAME`, `:'NAME'`
//!   and `:"NAME"` in SQL are replaced as psql does; an undefined one is an error naming it and
//!   its file:line. COPY data and meta-command arguments are not interpolated.
//! - `\copy table [(cols)] from 'file' [options]` becomes `COPY table [(cols)] FROM STDIN
//!   [options];`, the file's rows (relative to the including file's directory) and a `\.` line;
//!   `\copy … from stdin` with inline rows becomes `COPY … FROM STDIN …;` with them. `\copy … to`,
//!   `from program` and `from pstdin` stay as written (apply refuses them).
//!
//! A file with none of these is returned unchanged, with no origins, so its checksum is what it
//! was before pgboot read psql input. Pure: files are read through the `read` callback.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::model::{included_from, Origin};
use crate::sql::{self, MetaAction, Piece, PieceKind};

/// An expanded file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expanded {
    pub sql: String,
    /// Empty when nothing was expanded (`sql` is then the input).
    pub origins: Vec<Origin>,
    /// The variables substituted, sorted.
    pub variables: Vec<String>,
    /// Every file read (included files, `\copy` data files), for discovery's warnings.
    pub read: Vec<PathBuf>,
}

/// Reads a file's bytes (the real file system in discovery, a map in tests).
pub type Reader<'a> = &'a dyn Fn(&Path) -> io::Result<Vec<u8>>;

/// Expands `text` (the normalised text of the migration at `path`, in directory `root`).
/// Errors are messages for `Error::Source`.
pub fn expand(
    root: &Path,
    path: &Path,
    text: &str,
    vars: &BTreeMap<String, String>,
    read: Reader<'_>,
) -> Result<Expanded, String> {
    expand_from(root, path, text, 1, vars, read)
}

/// [`expand`] for a part of a file (another tool's up section) that starts at its line
/// `first_line`: origins and messages name the file's own lines.
pub fn expand_from(
    root: &Path,
    path: &Path,
    text: &str,
    first_line: usize,
    vars: &BTreeMap<String, String>,
    read: Reader<'_>,
) -> Result<Expanded, String> {
    if !needs_expansion(text) {
        return Ok(Expanded {
            sql: text.to_owned(),
            ..Default::default()
        });
    }
    let mut x = Expander {
        root: lexical(root),
        vars: vars.clone(),
        read,
        out: String::with_capacity(text.len()),
        origins: Vec::new(),
        used: BTreeSet::new(),
        files: vec![lexical(path)],
        chain: Vec::new(),
        read_files: Vec::new(),
        skipped_lines: first_line.saturating_sub(1),
    };
    x.file(path, text)?;
    if x.out == text {
        return Ok(Expanded {
            sql: x.out,
            ..Default::default()
        });
    }
    Ok(Expanded {
        sql: x.out,
        origins: x.origins,
        variables: x.used.into_iter().collect(),
        read: x.read_files,
    })
}

/// Whether a file has anything [`expand`] changes.
fn needs_expansion(text: &str) -> bool {
    // Most files have neither a backslash nor a `:name`: nothing to lex (a 10,000-file history
    // reads every file on every run).
    if !text.contains('\\') && !may_have_variable(text) {
        return false;
    }
    let meta = sql::split(text).iter().any(|p| match &p.kind {
        PieceKind::Meta(m) => matches!(
            sql::meta_action(&m.name),
            MetaAction::Include { .. } | MetaAction::Set | MetaAction::Unset | MetaAction::Copy
        ),
        _ => false,
    });
    meta || !sql::variables(text).is_empty()
}

/// Whether `text` has a `:` that psql could read as a variable's start: after an odd run of
/// colons (`::` is a cast), followed by a variable-name byte or a quote. False means no
/// variable for certain; true means look closer.
fn may_have_variable(text: &str) -> bool {
    let b = text.as_bytes();
    let mut run = 0;
    for (i, &c) in b.iter().enumerate() {
        if c != b':' {
            run = 0;
            continue;
        }
        run += 1;
        let next = b.get(i + 1).copied().unwrap_or(b' ');
        let starts_name =
            next.is_ascii_alphanumeric() || matches!(next, b'_' | b'\'' | b'"') || next >= 0x80;
        if run % 2 == 1 && starts_name {
            return true;
        }
    }
    false
}

struct Expander<'a> {
    root: PathBuf,
    vars: BTreeMap<String, String>,
    read: Reader<'a>,
    out: String,
    origins: Vec<Origin>,
    used: BTreeSet<String>,
    /// The files being expanded, outermost first (lexically normalised), for cycles.
    files: Vec<PathBuf>,
    /// The `\i` lines that led to the current file: (file, line).
    chain: Vec<(PathBuf, usize)>,
    read_files: Vec<PathBuf>,
    /// Lines of the migration before `text` (another tool's markers and down section are cut
    /// off): added to the migration's own line numbers.
    skipped_lines: usize,
}

impl Expander<'_> {
    /// Starts a stretch of `file` at its line `line` at the current end of the output.
    fn origin(&mut self, file: &Path, line: usize, copy_data: bool) {
        let line = self.own_line(line);
        let start = self.out.len();
        if self.origins.last().is_some_and(|o| o.start == start) {
            self.origins.pop();
        }
        self.origins.push(Origin {
            start,
            file: file.to_owned(),
            line,
            included_from: self.chain.clone(),
            copy_data,
        });
    }

    /// `file:line` of the current file, with the chain that led to it.
    fn at(&self, file: &Path, line: usize) -> String {
        let line = self.own_line(line);
        format!("{}:{line}{}", file.display(), included_from(&self.chain))
    }

    /// A line of the text being expanded as a line of its file: only the migration's own text
    /// (no `\i` chain) can be a part of its file.
    fn own_line(&self, line: usize) -> usize {
        if self.chain.is_empty() {
            line + self.skipped_lines
        } else {
            line
        }
    }

    fn file(&mut self, path: &Path, text: &str) -> Result<(), String> {
        let pieces = sql::split(text);
        let refs = sql::variables(text);
        self.origin(path, 1, false);
        for p in &pieces {
            match &p.kind {
                PieceKind::Sql => self.sql_piece(path, text, p, &refs)?,
                PieceKind::CopyIn(_) => self.out.push_str(p.text(text)),
                PieceKind::Meta(meta) => {
                    let bs = p.start.unwrap_or(p.range.start);
                    let lead = &text[p.range.start..bs];
                    let line_end = text[bs..]
                        .find('\n')
                        .map_or(text.len(), |i| bs + i + 1)
                        .min(p.range.end);
                    let command = text[bs..line_end].trim_end();
                    match sql::meta_action(&meta.name) {
                        MetaAction::Include { relative } => {
                            let target = self.include_target(path, meta, relative)?;
                            self.out.push_str(lead);
                            self.out.push_str("-- pgboot: ");
                            self.out.push_str(command);
                            self.out.push('\n');
                            self.include(path, meta.line, &target)?;
                            self.origin(path, meta.line + 1, false);
                        }
                        MetaAction::Set => {
                            if refers_to_variable(&meta.args) {
                                return Err(format!(
                                    "{}: `\\set {}` uses a variable in its value, which pgboot does not substitute; write the value out, or set it with [vars] / PGBOOT_VAR_<NAME> / --var",
                                    self.at(path, meta.line),
                                    meta.args
                                ));
                            }
                            match sql::parse_set(&meta.args) {
                                Some((name, value)) => {
                                    self.vars.insert(name, value);
                                }
                                None if meta.args.trim().is_empty() => {}
                                None => {
                                    return Err(format!(
                                        "{}: cannot read `\\set {}`: write \\set NAME value, with the value in single quotes if it holds spaces (backquotes and :variables in \\set are not supported)",
                                        self.at(path, meta.line),
                                        meta.args
                                    ))
                                }
                            }
                            self.out.push_str(p.text(text));
                        }
                        MetaAction::Unset => {
                            if let Some(name) = meta.args.split_whitespace().next() {
                                self.vars.remove(name);
                            }
                            self.out.push_str(p.text(text));
                        }
                        MetaAction::Copy => match parse_copy(&meta.args) {
                            Copy::File {
                                target,
                                file,
                                options,
                            } => {
                                let dir = path.parent().unwrap_or(Path::new(""));
                                let data_path = normalize_path(&dir.join(&file));
                                let data = self.read_data(path, meta.line, &data_path)?;
                                self.out.push_str(lead);
                                self.out.push_str(&copy_statement(target, options));
                                self.chain.push((path.to_owned(), meta.line));
                                self.origin(&data_path, 1, true);
                                self.chain.pop();
                                self.out.push_str(&data);
                                self.out.push_str("\\.\n");
                                self.origin(path, meta.line + 1, false);
                            }
                            Copy::Stdin { target, options } => {
                                let data =
                                    meta.data.as_ref().map_or(p.range.end, |d| d.range.start);
                                self.out.push_str(lead);
                                self.out.push_str(&copy_statement(target, options));
                                self.out.push_str(&text[data.max(line_end)..p.range.end]);
                            }
                            Copy::Other => self.out.push_str(p.text(text)),
                        },
                        _ => self.out.push_str(p.text(text)),
                    }
                }
            }
        }
        Ok(())
    }

    /// An SQL piece with its variables substituted.
    fn sql_piece(
        &mut self,
        path: &Path,
        text: &str,
        p: &Piece,
        refs: &[sql::VarRef],
    ) -> Result<(), String> {
        let mut s = String::new();
        let mut at = p.range.start;
        for v in refs
            .iter()
            .filter(|v| v.range.start >= p.range.start && v.range.end <= p.range.end)
        {
            let Some(value) = self.vars.get(&v.name) else {
                return Err(format!(
                    "{}:{}{}: psql variable :{} is not set; set it with \\set {} … before it, [vars] in pgboot.toml, PGBOOT_VAR_{} or --var {}=… (write :: for a cast); nothing was applied",
                    path.display(),
                    v.line,
                    included_from(&self.chain),
                    v.name,
                    v.name,
                    v.name,
                    v.name
                ));
            };
            s.push_str(&text[at..v.range.start]);
            s.push_str(&sql::substitute(v.form, value));
            at = v.range.end;
            self.used.insert(v.name.clone());
        }
        s.push_str(&text[at..p.range.end]);
        let shifted = s.matches('\n').count() != p.text(text).matches('\n').count();
        self.out.push_str(&s);
        if shifted {
            // A value with line breaks: the lines after it are the file's again.
            let (line, _) = sql::line_col_of_byte(text, p.range.end);
            self.origin(path, line, false);
        }
        Ok(())
    }

    /// The file a `\i` / `\ir` names.
    fn include_target(
        &self,
        path: &Path,
        meta: &sql::Meta,
        relative: bool,
    ) -> Result<PathBuf, String> {
        let Some(name) = first_arg(&meta.args) else {
            return Err(format!(
                "{}: \\{} needs a file name",
                self.at(path, meta.line),
                meta.name
            ));
        };
        let base = if relative {
            path.parent().unwrap_or(Path::new("")).to_owned()
        } else {
            self.root.clone()
        };
        Ok(normalize_path(&base.join(name)))
    }

    /// Reads and expands an included file.
    fn include(&mut self, from: &Path, line: usize, target: &Path) -> Result<(), String> {
        self.chain.push((from.to_owned(), line));
        let here = self.at(target, 1);
        if self.files.iter().any(|f| f == target) {
            let mut names: Vec<String> =
                self.files.iter().map(|f| f.display().to_string()).collect();
            names.push(target.display().to_string());
            return Err(format!(
                "include cycle: {}; an included file must not include itself, directly or not",
                names.join(" → ")
            ));
        }
        if target.parent() == Some(self.root.as_path()) {
            let name = target.file_name().unwrap_or_default().to_string_lossy();
            if matches!(
                super::classify(&name),
                super::Entry::Migration { .. } | super::Entry::Repeatable { .. }
            ) {
                return Err(format!(
                    "{here}: an included file is itself a migration, which would also run on its own; rename it without the version prefix or move it into a subdirectory"
                ));
            }
        }
        let bytes = (self.read)(target)
            .map_err(|e| format!("{here}: cannot read the included file: {e}"))?;
        let text = super::normalize(
            &super::decode(target, bytes)
                .map_err(|e| format!("{e}{}", included_from(&self.chain)))?,
        );
        self.read_files.push(target.to_owned());
        self.files.push(target.to_owned());
        self.file(target, &text)?;
        if !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push('\n');
        }
        self.files.pop();
        self.chain.pop();
        Ok(())
    }

    /// The rows of a `\copy … from 'file'`, ending with a line break.
    fn read_data(&mut self, from: &Path, line: usize, data_path: &Path) -> Result<String, String> {
        let here = format!(
            "{}: \\copy from {}",
            self.at(from, line),
            data_path.display()
        );
        let bytes = (self.read)(data_path).map_err(|e| format!("{here}: cannot read it: {e}"))?;
        let mut data = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{here}: not valid UTF-8 at byte offset {}; save it as UTF-8",
                e.utf8_error().valid_up_to()
            )
        })?;
        if let Some(n) = data.split('\n').position(|l| l == "\\." || l == "\\.\r") {
            return Err(format!(
                "{here}: line {} is `\\.`, which would end the data early",
                n + 1
            ));
        }
        if !data.is_empty() && !data.ends_with('\n') {
            data.push('\n');
        }
        self.read_files.push(data_path.to_owned());
        Ok(data)
    }
}

/// Whether meta-command args hold `:NAME`, `:'NAME'` or `:"NAME"` outside quotes, which psql
/// would substitute.
fn refers_to_variable(args: &str) -> bool {
    let mut quote = None;
    let mut chars = args.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ':')
                if chars
                    .peek()
                    .is_some_and(|d| matches!(d, '\'' | '"' | '_') || d.is_alphanumeric()) =>
            {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// The first argument of `\i`: a `'quoted'` name or the first word.
fn first_arg(args: &str) -> Option<String> {
    let args = args.trim();
    if args.starts_with('\'') {
        return quoted(args).map(|(s, _)| s).filter(|s| !s.is_empty());
    }
    args.split_whitespace().next().map(str::to_owned)
}

/// `a/./b/../c` → `a/c`, without touching the file system (so a path in an error is the one
/// the user wrote, and cycles are found between the same names).
pub fn normalize_path(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn lexical(p: &Path) -> PathBuf {
    normalize_path(p)
}

mod copy;
use copy::{copy_statement, parse_copy, quoted, Copy};
#[cfg(test)]
mod tests;
