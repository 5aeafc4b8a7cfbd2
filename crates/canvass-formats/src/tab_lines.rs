//! The line layer North Carolina's two tab-delimited files share (the voter file and the voter
//! history file): the first line read for sniffing a header, byte positions for progress bars
//! and resuming, blank lines skipped, a read failure ending the rows, and each row checked
//! (length, encoding, column count, control characters) and put in layout order before the
//! format reads its values.

use std::io::BufRead;

use crate::{FormatsError, ncvoter::RowError};

#[derive(Debug)]
pub(crate) struct TabLines<R> {
    input: R,
    /// The number of the last line read.
    line: u64,
    buffer: Vec<u8>,
    /// Bytes consumed so far, for progress bars and resuming.
    position: u64,
    /// A header-less file's first line (and its length with the line ending), read while
    /// sniffing, returned first.
    pending: Option<(Vec<u8>, usize)>,
    /// A read failed: no more rows.
    failed: bool,
}

impl<R: BufRead> TabLines<R> {
    /// Reads the first line, refusing an empty file or a first line not in UTF-8. The lines go
    /// on after it (it was a header) unless [`TabLines::replay_first`] makes it the first row.
    pub(crate) fn open(mut input: R) -> Result<(Self, String), FormatsError> {
        let mut first = Vec::new();
        let read = read_line(&mut input, &mut first)?;
        if read == 0 {
            return Err(FormatsError::Refused("the file is empty".into()));
        }
        let text = String::from_utf8(first)
            .map_err(|_| FormatsError::Refused("the first line is not UTF-8: save the file as UTF-8".into()))?;
        let lines = Self { input, line: 1, buffer: Vec::new(), position: read as u64, pending: None, failed: false };
        Ok((lines, text))
    }

    /// The first line was a row of a file without a header: it is returned first.
    pub(crate) fn replay_first(&mut self, first: String) {
        // The position still counts the first line's bytes, its line ending included.
        self.pending = Some((first.into_bytes(), self.position as usize));
        self.position = 0;
        self.line = 0;
    }

    /// Bytes of the file read so far.
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// Skips the lines before byte `position` without parsing them: resuming an import whose
    /// rows up to there are committed. The position must fall at the start of a line.
    pub(crate) fn skip_to(&mut self, position: u64) -> Result<(), FormatsError> {
        // Nothing committed yet: start after the header, where the reader already is.
        if position == 0 {
            return Ok(());
        }
        while self.position < position {
            let read = match self.pending.take() {
                Some((_, read)) => read,
                None => {
                    self.buffer.clear();
                    read_line(&mut self.input, &mut self.buffer)?
                }
            };
            if read == 0 {
                return Err(FormatsError::Refused(
                    "the file ends before the point the interrupted import reached: is it the same file?".into(),
                ));
            }
            self.position += read as u64;
            self.line += 1;
        }
        if self.position != position {
            return Err(FormatsError::Refused(
                "the interrupted import stopped inside a line of this file: is it the same file?".into(),
            ));
        }
        Ok(())
    }

    /// The next line that is not blank (a trailing newline at the end of the file is not a
    /// row), with its number; None at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatsError> {
        loop {
            let bytes = match self.pending.take() {
                Some((bytes, read)) => {
                    self.position += read as u64;
                    bytes
                }
                None => {
                    self.buffer.clear();
                    let read = read_line(&mut self.input, &mut self.buffer)?;
                    if read == 0 {
                        return Ok(None);
                    }
                    self.position += read as u64;
                    std::mem::take(&mut self.buffer)
                }
            };
            self.line += 1;
            if !bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Some((self.line, bytes)));
            }
        }
    }

    /// The row error reporting a read failure on the line it happened on; reading stops.
    pub(crate) fn fail(&mut self, error: &FormatsError) -> RowError {
        // Stop: a reader that failed once may fail forever.
        self.failed = true;
        RowError { line: self.line + 1, column: None, reason: format!("could not read the file: {error}") }
    }

    pub(crate) fn has_failed(&self) -> bool {
        self.failed
    }
}

/// How a file's columns map onto its layout.
#[derive(Debug)]
pub(crate) struct RowShape {
    /// For each column of the file, the layout column it fills (None: ignored).
    pub mapping: Vec<Option<usize>>,
    /// How many columns the layout has.
    pub layout_columns: usize,
    /// The longest line accepted.
    pub max_line_bytes: usize,
}

impl RowShape {
    /// A row's values in layout order (absent columns empty), every value trimmed of spaces
    /// and NCSBE's quotes; `name` gives a layout column's name for the errors.
    pub(crate) fn values(
        &self,
        bytes: &[u8],
        line: u64,
        name: impl Fn(usize) -> Option<&'static str>,
    ) -> Result<Vec<String>, RowError> {
        let refuse = |column: Option<&'static str>, reason: String| RowError { line, column, reason };
        if bytes.len() > self.max_line_bytes {
            return Err(refuse(None, format!("the line is longer than {} bytes", self.max_line_bytes)));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|_| refuse(None, "not UTF-8: the file may be in another encoding (save it as UTF-8)".into()))?;
        let fields = split(text);
        if fields.len() != self.mapping.len() {
            return Err(refuse(
                None,
                format!(
                    "{} columns where the header has {} (a truncated or damaged line?)",
                    fields.len(),
                    self.mapping.len()
                ),
            ));
        }
        let mut values = vec![String::new(); self.layout_columns];
        for (field, target) in fields.iter().zip(&self.mapping) {
            if let Some(index) = target {
                let value = field.trim();
                if value.chars().any(char::is_control) {
                    return Err(refuse(name(*index), "contains a control character".into()));
                }
                values[*index] = value.to_owned();
            }
        }
        Ok(values)
    }
}

/// Reads one line (without its end) into `buffer`; returns the bytes consumed.
fn read_line(input: &mut impl BufRead, buffer: &mut Vec<u8>) -> Result<usize, FormatsError> {
    let read = input.read_until(b'\n', buffer)?;
    while buffer.last().is_some_and(|byte| *byte == b'\n' || *byte == b'\r') {
        buffer.pop();
    }
    Ok(read)
}

/// Splits on tabs and removes the double quotes NCSBE puts around every value.
pub(crate) fn split(text: &str) -> Vec<&str> {
    text.split('\t')
        .map(|field| {
            let field = field.trim();
            field.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(field)
        })
        .collect()
}
