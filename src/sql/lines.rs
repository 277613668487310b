//! Byte offsets and character positions to 1-based line/column.
//!
//! Columns count characters, so answering one means counting the characters before it on its
//! line. [`LineIndex`] remembers the last position it answered and, when the next one is later
//! on the same line, counts only the characters in between: asked in increasing order (as
//! `split` and `analyze` ask for each piece), it does linear work over the whole input however
//! long its lines are.

/// Byte offsets where lines start. `\r\n`, lone `\r` and lone `\n` each end a line.
pub(super) struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
    /// The last position answered: (byte, line, column).
    last: (usize, usize, usize),
}

#[cfg(test)]
thread_local! {
    /// Bytes whose characters this thread counted for columns: the tests check the work done.
    pub(super) static COUNTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl<'a> LineIndex<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        let b = src.as_bytes();
        let mut starts = vec![0];
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
        }
        LineIndex {
            src,
            starts,
            last: (0, 1, 1),
        }
    }

    /// The 1-based (line, column) of `byte`; see [`line_col_of_byte`]. Linear overall when asked
    /// in increasing order; a position before the last one is counted from its line's start.
    pub(super) fn line_col(&mut self, byte: usize) -> (usize, usize) {
        let src = self.src;
        let mut byte = byte.min(src.len());
        while !src.is_char_boundary(byte) {
            byte -= 1;
        }
        let (last_byte, last_line, last_col) = self.last;
        // Number of line starts <= byte (at least 1 since starts[0] == 0).
        let line = if byte >= last_byte {
            // Walk forward from the last line: linear over all lines when asked in order.
            let mut line = last_line;
            while line < self.starts.len() && self.starts[line] <= byte {
                line += 1;
            }
            line
        } else {
            self.starts.partition_point(|&s| s <= byte)
        };
        let (from, col) = if line == last_line && byte >= last_byte {
            (last_byte, last_col)
        } else {
            (self.starts[line - 1], 1)
        };
        let column = col + src[from..byte].chars().count();
        #[cfg(test)]
        COUNTED.with(|c| c.set(c.get() + (byte - from)));
        self.last = (byte, line, column);
        (line, column)
    }
}

/// Convert a byte offset within `src` into a 1-based (line, column), column counted in characters.
/// Offsets inside a character are moved back to its start; offsets past the end are clamped to
/// `src.len()` (the position just after the last character).
pub fn line_col_of_byte(src: &str, byte: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(byte)
}

/// Convert a 1-based *character* position (as PostgreSQL's error `position` reports, counting
/// characters, not bytes) within `src` into a 1-based (line, column) with column counted in
/// characters. Out of range → clamp to the last char (position 0 is treated as 1).
pub fn line_col_of_char_pos(src: &str, char_pos: usize) -> (usize, usize) {
    let idx = char_pos.max(1) - 1;
    let byte = match src.char_indices().nth(idx) {
        Some((b, _)) => b,
        None => src.char_indices().next_back().map(|(b, _)| b).unwrap_or(0),
    };
    line_col_of_byte(src, byte)
}
