//! Reads rsync's list files (`--files-from`, `--exclude-from` and the other
//! rule files) in bounded memory, and lets a signal stop the reading.
//!
//! rsync reads these a character at a time into a fixed line buffer: a
//! longer line is cut, never grown, so `--files-from=/dev/zero` stays at a
//! few megabytes until a signal ends it. Slurping the file instead grows
//! without bound (issue 15: 24 GB before the kernel killed the run). Here
//! the bytes stream through a small buffer; each record keeps at most
//! `cap` bytes (callers pass one more than rsync's buffer holds, so their
//! over-long checks still fire) and the rest of it is dropped. The records
//! come back in one buffer with their terminators, so the callers' own
//! line splitting (line numbers included) is unchanged. Hand-written
//! because no crate cuts records while reading a stream that may never end.

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicBool, Ordering};

/// How a list file is read.
pub(crate) struct ListRead<'a> {
    /// Whether a byte ends a record (`\n`/`\r`, or NUL with `--from0`).
    pub ends: fn(u8) -> bool,
    /// The most bytes one record keeps.
    pub cap: usize,
    /// Empty records are dropped (a `--files-from` list skips them).
    pub skip_empty: bool,
    /// Set by a signal: reading stops with `ErrorKind::Interrupted`.
    pub stop: Option<&'a AtomicBool>,
}

/// Whether a byte ends a line of a list file: NUL with `--from0`, else
/// CR or LF.
pub(crate) fn line_end(from0: bool) -> fn(u8) -> bool {
    if from0 {
        |b| b == 0
    } else {
        |b| b == b'\n' || b == b'\r'
    }
}

impl ListRead<'_> {
    /// Reads `r` to its end. A read error ends the data there when
    /// `keep_on_error` (rsync's `getc` loop on a rule file), else it is
    /// returned.
    pub(crate) fn read(&self, mut r: impl Read, keep_on_error: bool) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut len = 0usize; // bytes of the current record seen so far
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if self.stopped() {
                return Err(ErrorKind::Interrupted.into());
            }
            let n = match r.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) if keep_on_error => return Ok(out),
                Err(e) => return Err(e),
            };
            for &b in &buf[..n] {
                if (self.ends)(b) {
                    if len > 0 || !self.skip_empty {
                        out.push(b);
                    }
                    len = 0;
                } else {
                    if len < self.cap {
                        out.push(b);
                    }
                    len = len.saturating_add(1);
                }
            }
        }
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

    fn read(data: &[u8], cap: usize, skip_empty: bool) -> Vec<u8> {
        let how = ListRead {
            ends: line_end(false),
            cap,
            skip_empty,
            stop: None,
        };
        how.read(data, false).unwrap()
    }

    #[test]
    fn long_records_are_cut_and_short_ones_kept() {
        assert_eq!(read(b"abcdef\nxy\n", 3, false), b"abc\nxy\n");
        assert_eq!(read(b"a\r\n\nb", 3, false), b"a\r\n\nb");
    }

    #[test]
    fn empty_records_can_be_dropped() {
        assert_eq!(read(b"\n\na\n\n\rb\n", 10, true), b"a\nb\n");
    }

    #[test]
    fn an_endless_record_stays_bounded() {
        let how = ListRead {
            ends: line_end(false),
            cap: 100,
            skip_empty: true,
            stop: None,
        };
        let endless = std::io::repeat(0).take(50 << 20);
        assert_eq!(how.read(endless, false).unwrap().len(), 100);
    }

    #[test]
    fn a_set_stop_flag_ends_the_read() {
        let stop = AtomicBool::new(true);
        let how = ListRead {
            ends: line_end(true),
            cap: 10,
            skip_empty: true,
            stop: Some(&stop),
        };
        let err = how.read(std::io::repeat(0), false).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Interrupted);
    }
}
