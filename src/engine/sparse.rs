//! `-S` and `--preallocate`: where the destination gets holes and
//! preallocated space, following rsync's receiver (`write_sparse`,
//! `sparse_end`, `do_fallocate`, `do_punch_hole`) closely enough that the
//! allocated blocks come out the same.
//!
//! rsync reads every byte of the source and turns runs of zeros into
//! holes while writing. Its rule, seen from the filesystem, is simple: a
//! block of the destination is allocated exactly when it holds a non-zero
//! byte (or was preallocated and never punched). arsync gets the same
//! result by scanning each buffer in 512-byte sectors aligned to the file
//! offset and writing only the runs of non-zero sectors; source holes
//! found with `SEEK_DATA`/`SEEK_HOLE` are not even read.

use std::os::fd::{AsFd, BorrowedFd};

use crate::sys::copy::{self as kernel, AllocError};

/// Zero detection granularity. Every filesystem block size is a multiple
/// of it, so an all-zero block is always made of all-zero sectors.
const SECTOR: u64 = 512;

/// rsync's `SPARSE_WRITE_SIZE`: a run of zeros between data shorter than
/// this is written rather than turned into a hole. It cannot cover a
/// whole block of any filesystem that has blocks of 1 KiB or more, so
/// writing it changes no allocation and saves a syscall.
const MIN_HOLE: usize = 1024;

/// Whether a slice is all zeros; the fold has no early exit so that the
/// compiler turns it into wide OR instructions.
fn is_zero(s: &[u8]) -> bool {
    s.iter().fold(0u8, |a, &b| a | b) == 0
}

/// The runs of `buf` (which sits at file offset `base`) that hold data,
/// as `(start, end)` indexes into `buf`, in order. Zero sectors at either
/// end are left out: they may join a hole in the next or previous buffer.
pub(super) fn data_ranges(buf: &[u8], base: u64, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let n = buf.len();
    let mut cur: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < n {
        let at = base + i as u64;
        let next = (at / SECTOR + 1) * SECTOR;
        let end = ((next - base) as usize).min(n);
        if !is_zero(&buf[i..end]) {
            cur = match cur {
                Some((s, e)) if i - e < MIN_HOLE => Some((s, end)),
                Some(r) => {
                    out.push(r);
                    Some((i, end))
                }
                None => Some((i, end)),
            };
        }
        i = end;
    }
    if let Some(r) = cur {
        out.push(r);
    }
}

/// The hole bookkeeping of one `-S` copy.
#[derive(Debug, Default)]
pub(super) struct Holes {
    /// End of the data written last: everything from here up to the next
    /// data is a hole.
    pub written_end: u64,
    /// A hole starting below this offset lies in allocated space
    /// (preallocated, or an in-place target's old data) and is punched;
    /// above it, skipping it is enough (rsync: `preallocated_len`).
    pub punch_below: u64,
    /// Reused scratch list for [`data_ranges`].
    pub ranges: Vec<(usize, usize)>,
}

impl Holes {
    /// Called before writing data at `at`: turns `[written_end, at)` into
    /// a hole where skipping it would leave allocated blocks (or old
    /// bytes) behind.
    pub(super) fn before_data(&mut self, dst: impl AsFd, at: u64) -> std::io::Result<()> {
        if at > self.written_end && self.written_end < self.punch_below {
            punch(dst, self.written_end, at - self.written_end)?;
        }
        Ok(())
    }
}

/// Deallocates `[pos, pos + len)` (reads back as zeros). Like rsync, falls
/// back to zeroing the range, then to writing zeros, where punching holes
/// is not supported.
pub(super) fn punch(fd: impl AsFd, pos: u64, len: u64) -> std::io::Result<()> {
    let fd = fd.as_fd();
    type Try = fn(BorrowedFd<'_>, u64, u64) -> Result<(), AllocError>;
    let tries: [Try; 2] = [kernel::punch_hole, kernel::zero_range];
    for attempt in tries {
        match attempt(fd, pos, len) {
            Ok(()) => return Ok(()),
            Err(AllocError::Unsupported) => {}
            Err(AllocError::Failed(e)) => return Err(e),
        }
    }
    kernel::write_zeros(fd, pos, len)
}

/// `--preallocate`: reserves the file's blocks, as rsync 3.5's
/// `do_fallocate`, including its quirk of asking for one byte more or
/// less than the size (odd sizes round up, even ones down) — the
/// allocated block count depends on it. Without `-S` the size is kept
/// (`FALLOC_FL_KEEP_SIZE`); with `-S` the file is extended, because holes
/// can only be punched below the end of file. Returns the length
/// reserved (0 if the filesystem cannot preallocate: rsync warns then,
/// arsync says nothing, and the copy goes on either way).
pub(super) fn preallocate(fd: impl AsFd, size: u64, sparse: bool) -> u64 {
    if size == 0 {
        return 0;
    }
    let len = if size & 1 == 1 { size + 1 } else { size - 1 };
    match kernel::allocate(fd.as_fd(), len, !sparse) {
        Ok(()) => len,
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(buf: &[u8], base: u64) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        data_ranges(buf, base, &mut v);
        v
    }

    #[test]
    fn all_zero_and_all_data() {
        assert!(ranges(&[0u8; 8192], 0).is_empty());
        assert_eq!(ranges(&[1u8; 8192], 0), vec![(0, 8192)]);
        assert!(ranges(&[], 0).is_empty());
    }

    #[test]
    fn holes_need_two_sectors() {
        let mut b = vec![1u8; 4096];
        // One zero sector between data is written…
        b[1024..1536].fill(0);
        assert_eq!(ranges(&b, 0), vec![(0, 4096)]);
        // …two make a hole.
        b[1024..2048].fill(0);
        assert_eq!(ranges(&b, 0), vec![(0, 1024), (2048, 4096)]);
    }

    #[test]
    fn leading_and_trailing_zeros_are_left_out() {
        let mut b = vec![0u8; 4096];
        b[600] = 7;
        b[3000] = 9;
        assert_eq!(ranges(&b, 0), vec![(512, 1024), (2560, 3072)]);
    }

    #[test]
    fn sectors_follow_the_file_offset() {
        // The buffer starts 100 bytes into a sector.
        let mut b = vec![0u8; 2000];
        b[0] = 1;
        b[1999] = 1;
        // Sectors: [0,412) [412,924) [924,1436) [1436,1948) [1948,2000).
        assert_eq!(ranges(&b, 100), vec![(0, 412), (1948, 2000)]);
    }

    #[test]
    fn a_one_byte_tail_is_data() {
        let mut b = vec![0u8; 5000];
        b[4999] = 1;
        assert_eq!(ranges(&b, 0), vec![(4608, 5000)]);
    }
}
