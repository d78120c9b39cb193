//! Reads rsync's list files (`--files-from`, `--exclude-from` and the other
//! rule files) in bounded memory, and lets a signal stop the reading.
//!
//! rsync reads these a character at a time into a fixed line buffer: a
//! longer line is cut, never grown, so `--files-from=/dev/zero` stays at a
//! few megabytes until a signal ends it. Slurping the file instead grows
//! without bound (issue 15: 24 GB before the kernel killed the run). Here
//! the bytes stream through a small buffer; each record keeps at most
//! `cap` bytes (callers pass one more than rsync's buffer holds, so their
//! over-long checks still fire) and the rest of it is dropped. Empty
//! records are counted, never stored: both readers skip them, and rule
//! files need only their count for rsync's line numbers, so an endless
//! run of terminators (`--from0` on `/dev/zero`, `yes ''`) costs nothing.
//! Hand-written because no crate cuts records while reading a stream
//! that may never end.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};

/// How a list file is read.
pub(crate) struct ListRead<'a> {
    /// Records end at NUL (`--from0`), else at CR, LF or CR LF (one line).
    pub from0: bool,
    /// The most bytes one record keeps.
    pub cap: usize,
    /// Set by a signal: reading stops with `ErrorKind::Interrupted`.
    pub stop: Option<&'a AtomicBool>,
}

/// The non-empty records of a list file, each with the number of its line
/// (1-based; CR LF ends one line, NUL ends one with `--from0`).
#[derive(Debug, Default)]
pub(crate) struct Lines {
    data: Vec<u8>,
    /// Where each record ends in `data`, and its line number.
    ends: Vec<(usize, usize)>,
}

impl Lines {
    /// The records in order, with their line numbers.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], usize)> {
        let mut start = 0;
        self.ends.iter().map(move |&(end, line)| {
            let rec = &self.data[start..end];
            start = end;
            (rec, line)
        })
    }

    /// Ends the record being read (at `line`) if it holds anything.
    fn close(&mut self, line: usize) {
        let start = self.ends.last().map_or(0, |e| e.0);
        if self.data.len() > start {
            self.ends.push((self.data.len(), line));
        }
    }
}

impl ListRead<'_> {
    /// Reads `r` to its end. A read error ends the data there when
    /// `keep_on_error` (rsync's `getc` loop on a rule file), else it is
    /// returned.
    pub(crate) fn read(&self, mut r: impl Read, keep_on_error: bool) -> std::io::Result<Lines> {
        let mut out = Lines::default();
        let mut line = 1usize;
        let mut len = 0usize; // bytes of the current record seen so far
        let mut after_cr = false;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.stopped() {
                return Err(ErrorKind::Interrupted.into());
            }
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) if keep_on_error => break,
                Err(e) => return Err(e),
            };
            for &b in &buf[..n] {
                let eol = if self.from0 {
                    b == 0
                } else {
                    b == b'\n' || b == b'\r'
                };
                if eol {
                    // The LF of a CR LF pair ends nothing more.
                    if !(after_cr && b == b'\n') {
                        out.close(line);
                        line = line.saturating_add(1);
                    }
                    after_cr = !self.from0 && b == b'\r';
                    len = 0;
                } else {
                    after_cr = false;
                    if len < self.cap {
                        out.data.push(b);
                    }
                    len = len.saturating_add(1);
                }
            }
        }
        out.close(line);
        Ok(out)
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

/// Standard input for a list that a signal may stop (`--files-from=-`):
/// while nothing waits to be read it looks at the flag every 100 ms, so
/// Ctrl-C at a terminal ends the run without waiting for Ctrl-D.
pub(crate) struct StoppableStdin<'a> {
    pub stop: &'a AtomicBool,
}

impl Read for StoppableStdin<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let stdin = std::io::stdin();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Err(ErrorKind::Interrupted.into());
            }
            if crate::sys::term::wait_readable(&stdin, 100)? {
                return stdin.lock().read(buf);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], from0: bool, cap: usize) -> Vec<(String, usize)> {
        let how = ListRead {
            from0,
            cap,
            stop: None,
        };
        how.read(data, false)
            .unwrap()
            .iter()
            .map(|(r, n)| (String::from_utf8_lossy(r).into_owned(), n))
            .collect()
    }

    fn owned(v: &[(&str, usize)]) -> Vec<(String, usize)> {
        v.iter().map(|(s, n)| (s.to_string(), *n)).collect()
    }

    #[test]
    fn long_records_are_cut_and_short_ones_kept() {
        assert_eq!(
            read(b"abcdef\nxy\n", false, 3),
            owned(&[("abc", 1), ("xy", 2)])
        );
    }

    #[test]
    fn empty_records_are_dropped_but_counted() {
        // CR LF is one line end; CR CR and LF CR are two.
        assert_eq!(
            read(b"a\r\n\nb\r\rc\n\rd", false, 10),
            owned(&[("a", 1), ("b", 3), ("c", 5), ("d", 7)])
        );
        assert_eq!(
            read(b"\0\0a\nb\0\r\n\0c", true, 10),
            owned(&[("a\nb", 3), ("\r\n", 4), ("c", 5)])
        );
    }

    #[test]
    fn an_endless_record_stays_bounded() {
        let how = ListRead {
            from0: false,
            cap: 100,
            stop: None,
        };
        let endless = std::io::repeat(0).take(50 << 20);
        let lines = how.read(endless, false).unwrap();
        assert_eq!(
            lines.iter().map(|(r, _)| r.len()).collect::<Vec<_>>(),
            [100]
        );
    }

    #[test]
    fn endless_empty_records_take_no_memory() {
        let how = ListRead {
            from0: true,
            cap: 100,
            stop: None,
        };
        let lines = how.read(std::io::repeat(0).take(50 << 20), false).unwrap();
        assert_eq!(lines.iter().count(), 0);
        assert_eq!(lines.data.capacity() + lines.ends.capacity(), 0);
    }

    #[test]
    fn a_set_stop_flag_ends_the_read() {
        let stop = AtomicBool::new(true);
        let how = ListRead {
            from0: true,
            cap: 10,
            stop: Some(&stop),
        };
        let err = how.read(std::io::repeat(0), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Interrupted);
    }
}
