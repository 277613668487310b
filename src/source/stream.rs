//! Large files, read without holding them whole (issue 10: a 200 MB dump applies in the 64 MiB
//! a Kubernetes manifest allows).
//!
//! A file whose (decompressed) text is larger than [`threshold`] is read once at discovery,
//! streaming: through its decompressor, its BOM stripped and CRLF/CR turned into LF line by
//! line, its SHA-256 updated as it goes, and through the incremental splitter
//! (`sql::Splitter`), keeping only a summary ([`Streamed`]). Apply reads it again the same way
//! ([`Events`]) and checks that the checksum came out the same.
//!
//! The checksum is the one the in-memory path computes (over the normalised text), so a file
//! that grows past the threshold, or a threshold that changes, is never drift.
//!
//! Falls back to the in-memory path (returns None from [`scan`]) when the file uses what
//! `expand` rewrites (`\i`, `\ir`, `\set`, `\unset`, `\copy`, `:variables`), when it cannot run
//! in one transaction pgboot opens (a statement PostgreSQL refuses in a transaction block,
//! `-- pgboot:no-transaction`, its own BEGIN/COMMIT), or when it has anything the in-memory path
//! refuses (a lex error, a refused meta-command, `COPY … TO STDOUT`), so that those get exactly
//! the messages and handling they always had. pg_dump's output has none of these.
//!
//! Limits: a single line is held whole (a file of one 200 MB line is not bounded), and so is a
//! single statement (the splitter's buffer grows to hold it).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use sha2::{Digest, Sha256};

use super::compressed::{decompress_to, read_error, Compression};
use crate::error::{Error, Result};
use crate::model::Streamed;
use crate::sql::{self, Event, MetaAction, Splitter};
use hash::Hasher;

/// Files whose text is larger than this many bytes are streamed. `PGBOOT_STREAM_THRESHOLD`
/// (hidden: for tests and benchmarks) changes it.
pub const DEFAULT_THRESHOLD: u64 = 8 << 20;

pub fn threshold() -> u64 {
    std::env::var("PGBOOT_STREAM_THRESHOLD")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_THRESHOLD)
}

/// A file's text: read whole (small), or only summarised (large, see the module doc).
pub enum Loaded {
    Bytes(Vec<u8>),
    Streamed { checksum: String, summary: Streamed },
}

/// Reads a file whole when its text is at most `threshold` bytes; otherwise scans it streaming
/// and, unless it must fall back, returns only its summary.
/// `regular`: the directory entry says the path is a regular file (not a link, a pipe …).
pub fn load(
    path: &Path,
    compression: Compression,
    threshold: u64,
    regular: bool,
) -> Result<Loaded> {
    if compression == Compression::None && regular {
        if let Some(bytes) = read_small(path, threshold)? {
            return Ok(Loaded::Bytes(bytes));
        }
    }
    let (reader, empty, len) = open(path, compression)?;
    // A plain file's size is known: one allocation, no growing reads.
    let mut head = Vec::with_capacity(len.min(threshold).saturating_add(1) as usize);
    reader
        .take(threshold.saturating_add(1))
        .read_to_end(&mut head)
        .map_err(|e| read_error(path, compression, empty, e))?;
    if head.len() as u64 <= threshold {
        return Ok(Loaded::Bytes(head));
    }
    drop(head);
    match scan(path)? {
        Some((checksum, summary)) => Ok(Loaded::Streamed { checksum, summary }),
        None => Ok(Loaded::Bytes(super::compressed::read(path, compression)?)),
    }
}

/// Bytes a migration file usually fits in: [`read_small`] reads such a file in one call.
const SMALL: usize = 64 * 1024;

/// A regular plain file of fewer than [`SMALL`] bytes, read with three system calls (open,
/// one read, close): a read of a regular file returns less than asked only at its end, so
/// neither its size (statx) nor a read that returns 0 is needed. A 10,000-file directory is
/// read on every run. None: the file is larger (or above `threshold`: streamed), and is read
/// the general way.
fn read_small(path: &Path, threshold: u64) -> Result<Option<Vec<u8>>> {
    use std::cell::RefCell;
    thread_local! {
        static BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SMALL]);
    }
    let mut file =
        std::fs::File::open(path).map_err(|e| Error::Source(format!("{}: {e}", path.display())))?;
    BUF.with_borrow_mut(|buf| {
        let n = loop {
            match file.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(path, Compression::None, false, e)),
            }
        };
        // An empty file goes the general way too: its error says "the file is empty".
        let whole = n > 0 && n < buf.len() && n as u64 <= threshold;
        Ok(whole.then(|| buf[..n].to_vec()))
    })
}

/// Opens a file through its decompressor; also says whether the file is empty.
/// The file's text as a reader, whether the file is empty, and (for a plain file) its size.
fn open(path: &Path, compression: Compression) -> Result<(Box<dyn Read + Send>, bool, u64)> {
    let file =
        std::fs::File::open(path).map_err(|e| Error::Source(format!("{}: {e}", path.display())))?;
    let size = file.metadata().map_or(0, |m| m.len());
    let empty = size == 0;
    if compression == Compression::None {
        return Ok((Box::new(file), empty, size));
    }
    // The decoders write; a thread runs one into a bounded channel that this end reads.
    let (tx, rx) = sync_channel::<Vec<u8>>(4);
    let handle = std::thread::spawn(move || {
        let mut w = ChannelWriter {
            tx,
            buf: Vec::with_capacity(BLOCK),
        };
        decompress_to(file, compression, &mut w)?;
        w.flush()
    });
    Ok((
        Box::new(ChannelReader {
            rx,
            cur: Vec::new(),
            pos: 0,
            handle: Some(handle),
        }),
        empty,
        0,
    ))
}

const BLOCK: usize = 64 * 1024;

struct ChannelWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= BLOCK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.buf, Vec::with_capacity(BLOCK));
        // The reader stopped reading (it had enough): stop decoding.
        self.tx
            .send(block)
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
    }
}

struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    cur: Vec<u8>,
    pos: usize,
    handle: Option<std::thread::JoinHandle<io::Result<()>>>,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.cur.len() {
                let n = out.len().min(self.cur.len() - self.pos);
                out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(block) => {
                    self.cur = block;
                    self.pos = 0;
                }
                // The decoder is done: its result is the end of the stream, or the error.
                Err(_) => {
                    return match self.handle.take().map(|h| h.join()) {
                        None | Some(Ok(Ok(()))) => Ok(0),
                        Some(Ok(Err(e))) => Err(e),
                        Some(Err(_)) => Err(io::Error::other("the decoder thread panicked")),
                    }
                }
            }
        }
    }
}

/// A file's normalised text, in blocks of whole lines (about 64 KiB, or one longer line), with
/// its checksum computed as it goes.
pub struct TextLines {
    path: PathBuf,
    compression: Compression,
    empty: bool,
    reader: Box<dyn Read + Send>,
    /// Raw bytes read and not yet returned (after the block's last line break).
    raw: Vec<u8>,
    /// Where the next read goes in `raw`, and how much of `raw` the last block used.
    len: usize,
    used: usize,
    text: String,
    /// Raw bytes before `raw` (for the UTF-8 error).
    offset: usize,
    first: bool,
    eof: bool,
    sha: Hasher,
    bytes: u64,
}

impl TextLines {
    pub fn open(path: &Path) -> Result<TextLines> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let compression = Compression::split(&name).1;
        let (reader, empty, _) = open(path, compression)?;
        Ok(TextLines {
            path: path.to_owned(),
            compression,
            empty,
            reader,
            raw: vec![0; BLOCK],
            len: 0,
            used: 0,
            text: String::new(),
            offset: 0,
            first: true,
            eof: false,
            sha: Hasher::Here(Sha256::new()),
            bytes: 0,
        })
    }

    /// The next block of whole lines, normalised; None at the end.
    pub fn next_text(&mut self) -> Result<Option<&str>> {
        // Drop the block returned last time.
        self.raw.copy_within(self.used..self.len, 0);
        self.len -= self.used;
        self.offset += self.used;
        self.used = 0;
        let end = loop {
            if let Some(i) = memchr::memrchr(b'\n', &self.raw[..self.len]) {
                break i + 1;
            }
            if self.eof {
                break self.len;
            }
            if self.len == self.raw.len() {
                // A line longer than the buffer: grow it.
                self.raw.resize(self.raw.len() * 2, 0);
            }
            let n = loop {
                match self.reader.read(&mut self.raw[self.len..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(read_error(&self.path, self.compression, self.empty, e)),
                }
            };
            self.eof = n == 0;
            self.len += n;
        };
        if end == 0 {
            return Ok(None);
        }
        self.used = end;
        let block = match std::str::from_utf8(&self.raw[..end]) {
            Ok(b) => b,
            Err(e) => return Err(self.not_utf8(e.valid_up_to())),
        };
        let mut block = block;
        if std::mem::take(&mut self.first) {
            block = block.strip_prefix('\u{feff}').unwrap_or(block);
        }
        let text: &str = if block.contains('\r') {
            self.text = block.replace("\r\n", "\n").replace('\r', "\n");
            &self.text
        } else {
            block
        };
        self.sha.update(text.as_bytes());
        self.bytes += text.len() as u64;
        Ok(Some(text))
    }

    /// The error for invalid UTF-8 at `at` in the current block, with its line (counted by
    /// reading the file again: an error path).
    fn not_utf8(&self, at: usize) -> Error {
        let offset = self.offset + at;
        let line = open(&self.path, self.compression)
            .ok()
            .map(|(r, _, _)| {
                1 + io::BufReader::new(r)
                    .take(offset as u64)
                    .bytes()
                    .filter(|b| matches!(b, Ok(b'\n')))
                    .count()
            })
            .unwrap_or(0);
        Error::Source(format!(
            "{}: not valid UTF-8 at byte offset {offset} (line {line}); save the file as UTF-8",
            self.path.display()
        ))
    }

    /// The checksum of everything read (call at the end).
    pub fn checksum(&mut self) -> String {
        super::tagged(self.sha.finish().finalize().as_slice())
    }

    /// Hashes on a thread of its own, so that reading and splitting a large file do not wait
    /// for SHA-256 (the first pass over a dump, before anything runs).
    fn hash_aside(&mut self) {
        self.sha = Hasher::aside();
    }
}

/// A file's events, as `sql::Splitter` makes them from its lines.
pub struct Events {
    lines: TextLines,
    splitter: Splitter,
    queue: VecDeque<Event>,
    buf: Vec<Event>,
    done: bool,
}

impl Events {
    pub fn open(path: &Path) -> Result<Events> {
        Ok(Events {
            lines: TextLines::open(path)?,
            splitter: Splitter::default(),
            queue: VecDeque::new(),
            buf: Vec::new(),
            done: false,
        })
    }

    pub fn next_event(&mut self) -> Result<Option<Event>> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            if self.done {
                return Ok(None);
            }
            match self.lines.next_text()? {
                Some(text) => self.splitter.push_text(text, &mut self.buf),
                None => {
                    self.splitter.finish(&mut self.buf);
                    self.done = true;
                }
            }
            self.queue.extend(self.buf.drain(..));
        }
    }

    /// Whether the file starts with `-- pgboot:no-transaction` (known after the first event).
    pub fn directive(&self) -> bool {
        self.splitter.directive()
    }

    /// The checksum of the text read so far: the file's, once [`Events::next_event`] returned None.
    pub fn checksum(&mut self) -> String {
        self.lines.checksum()
    }

    pub fn bytes(&self) -> u64 {
        self.lines.bytes
    }
}

/// Lines `line - before ..= line` of a file's normalised text, read again: (the first one's
/// number, their text). For error reports on a streamed file.
pub fn lines_around(path: &Path, line: usize, before: usize) -> Result<(usize, String)> {
    let first = line.saturating_sub(before).max(1);
    let mut lines = TextLines::open(path)?;
    let (mut n, mut out) = (0, String::new());
    while let Some(text) = lines.next_text()? {
        for l in text.split_inclusive('\n') {
            n += 1;
            if n >= first {
                out.push_str(l);
            }
            if n >= line {
                return Ok((first, out));
            }
        }
    }
    Ok((first, out))
}

/// Reads a file streaming and summarises it; None when it must be held in memory instead (see
/// the module doc).
pub fn scan(path: &Path) -> Result<Option<(String, Streamed)>> {
    let mut ev = Events::open(path)?;
    ev.splitter = Splitter::default().counting_rows();
    ev.lines.hash_aside();
    let mut s = Streamed::default();
    while let Some(e) = ev.next_event()? {
        if ev.directive() {
            return Ok(None);
        }
        match e {
            Event::Sql {
                facts, text, start, ..
            } => {
                // Another tool's up/down markers: `format::cut` needs the whole text.
                if super::format::has_marker(&text, start.1 == 1)
                    || facts.no_transaction.is_some()
                    || facts.manages_transaction
                    || facts.client_copy.is_some()
                    || facts.variables
                {
                    return Ok(None);
                }
            }
            Event::Meta { meta, .. } => match sql::meta_action(&meta.name) {
                MetaAction::Ignore | MetaAction::Echo => s.ignored.push((meta.name, meta.line)),
                _ => return Ok(None),
            },
            Event::CopyStart { line, .. } => s.copy_blocks.push((line, 0)),
            Event::CopyRows(_) => {}
            Event::CopyEnd { rows, .. } => {
                if let Some(b) = s.copy_blocks.last_mut() {
                    b.1 = rows;
                }
            }
            Event::Error(_) => return Ok(None),
        }
    }
    s.bytes = ev.bytes();
    Ok(Some((ev.checksum(), s)))
}

mod hash;

#[cfg(test)]
mod tests;
