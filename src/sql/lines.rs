//! Byte offsets and character positions to 1-based line/column.

/// Byte offsets where lines start. `\r\n`, lone `\r` and lone `\n` each end a line.
pub(super) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(super) fn new(src: &str) -> Self {
        let b = src.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if b.get(i + 1) != Some(&b'\n') => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex { starts }
    }

    pub(super) fn line_col(&self, src: &str, byte: usize) -> (usize, usize) {
        let mut byte = byte.min(src.len());
        while !src.is_char_boundary(byte) {
            byte -= 1;
        }
        // Number of line starts <= byte (at least 1 since starts[0] == 0).
        let line = self.starts.partition_point(|&s| s <= byte);
        let line_start = self.starts[line - 1];
        let column = src[line_start..byte].chars().count() + 1;
        (line, column)
    }
}

/// Convert a byte offset within `src` into a 1-based (line, column), column counted in characters.
/// Offsets inside a character are moved back to its start; offsets past the end are clamped to
/// `src.len()` (the position just after the last character).
pub fn line_col_of_byte(src: &str, byte: usize) -> (usize, usize) {
    LineIndex::new(src).line_col(src, byte)
}

/// Convert a 1-based *character* position (as PostgreSQL's error `position` reports, counting
/// characters, not bytes) within `src` into a 1-based (line, column) with column counted in
/// characters. Out of range → clamp to the last char (position 0 is treated as 1).
pub fn line_col_of_char_pos(src: &str, char_pos: usize) -> (usize, usize) {
    let idx = char_pos.max(1) - 1;
    let byte = match src.char_indices().nth(idx) {
        Some((b, _)) => b,
        None => src.char_indices().last().map(|(b, _)| b).unwrap_or(0),
    };
    line_col_of_byte(src, byte)
}
