//! The pipelined user-space data path: several reads and writes of one
//! file in flight at once, so that on a warm page cache the copy into the
//! buffer (a read) overlaps with the copy out of the previous one (a
//! write, which ext4 hands to an io-wq worker), and on a cold one the
//! disk always has the next reads queued.
//!
//! Why it exists: a stepwise path (read a chunk, wait, write it, wait)
//! leaves the ring idle half the time; measured on 10 MB files it reached
//! a third of `copy_file_range`'s throughput. Here the file's range is
//! cut into `chunk`-sized pieces, up to `depth` of them are held at once
//! (being read, or read and being written; one at first, doubled at each
//! completed write), reads are issued in order
//! and each piece is written as soon as its read completes, from the very
//! buffer it was read into.
//!
//! Buffers, by `--copy-engine`:
//! - `write-managed` ([`Reader::Pool`]): the ring's provided-buffer pool
//!   (compio's `read_managed_at`, `IORING_OP_READ` with
//!   `IOSQE_BUFFER_SELECT`); the write goes out of the pool buffer itself
//!   and dropping it hands it back to the kernel. Two user copies per
//!   byte, no allocation per file.
//! - `read-managed` ([`Reader::PoolCopied`]): the same reads, then a
//!   `memcpy` into an owned buffer that is written (three copies; kept to
//!   measure what that copy costs).
//! - `vec` ([`Reader::Owned`]): plain reads into owned buffers, recycled
//!   within the file.
//!
//! The pool is per ring and shared by its lanes; a read that finds no
//! free buffer (`ENOBUFS`, compio's `ResourceBusy`) shrinks this file's
//! depth to what it already holds, and with nothing held goes through
//! the lane's own buffer once.
//!
//! Registered (fixed) buffers: compio 0.19 registers files
//! (`Proactor::register_files`) but not buffers, and its pool is a
//! provided-buffer ring (`IORING_REGISTER_PBUF_RING`), whose buffers
//! cannot be used with `READ_FIXED`/`WRITE_FIXED`. Using them would need
//! upstream a `register_buffers` on the proactor and `ReadFixedAt` /
//! `WriteFixedAt` ops taking a registered-buffer index (or a pool whose
//! buffers are also registered). For buffered file I/O the saving would
//! be the per-op page pinning only, which buffered reads and writes of
//! the page cache do not do anyway (they copy through the user address),
//! so nothing measurable is lost here.
//!
//! The path moves a plain range only: under `-S` the stepwise paths of
//! `datapath` write data runs in order. [`run`] returns where it stopped
//! (a short read ends the pipeline); the caller finishes the rest, if
//! any, stepwise — which also sees the true end of file.

use std::io;
use std::sync::atomic::Ordering;

use compio::BufResult;
use compio::buf::{IntoInner, IoBuf};
use compio::driver::BufferRef;
use compio::fs::File;
use compio::io::{AsyncReadAt, AsyncReadManagedAt};
use futures_util::future::{Either, LocalBoxFuture, select};
use futures_util::stream::{FuturesOrdered, FuturesUnordered, StreamExt};

use super::Config;
use super::datapath::{DataError, Io, counted, write_all_at};

/// Where a pipeline's pieces are read into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reader {
    /// The ring's buffer pool, written from directly (`write-managed`).
    Pool,
    /// The pool, copied into an owned buffer to write (`read-managed`).
    PoolCopied,
    /// Owned buffers (`vec`).
    Owned,
}

/// One piece's buffer.
enum Piece {
    Pool(BufferRef),
    Owned(Vec<u8>),
}

impl IoBuf for Piece {
    fn as_init(&self) -> &[u8] {
        match self {
            Piece::Pool(b) => b.as_init(),
            Piece::Owned(v) => v.as_init(),
        }
    }
}

/// A completed read of `want` bytes at `pos` (`None`: end of file).
struct Read {
    pos: u64,
    want: usize,
    got: io::Result<Option<Piece>>,
}

/// A completed write of `len` bytes; the buffer comes back for reuse.
struct Wrote {
    result: io::Result<()>,
    piece: Piece,
    len: usize,
}

enum Event {
    Read(Read),
    Wrote(Wrote),
}

/// What one pipeline holds in flight.
struct Flight<'a> {
    reads: FuturesOrdered<LocalBoxFuture<'a, Read>>,
    writes: FuturesUnordered<LocalBoxFuture<'a, Wrote>>,
}

impl<'a> Flight<'a> {
    fn held(&self) -> usize {
        self.reads.len() + self.writes.len()
    }

    /// The next completion, reads and writes alike; `None` when idle.
    async fn next(&mut self) -> Option<Event> {
        match (self.reads.is_empty(), self.writes.is_empty()) {
            (true, true) => None,
            (false, true) => self.reads.next().await.map(Event::Read),
            (true, false) => self.writes.next().await.map(Event::Wrote),
            (false, false) => match select(self.reads.next(), self.writes.next()).await {
                Either::Left((r, _)) => r.map(Event::Read),
                Either::Right((w, _)) => w.map(Event::Wrote),
            },
        }
    }
}

/// Moves `[start, stop)` with up to `depth` pieces of `io.chunk` bytes in
/// flight; returns where it stopped: `stop`, or the end of a short read
/// (end of file, most likely — the caller goes on from there stepwise).
pub(super) async fn run(
    how: Reader,
    depth: usize,
    io: &mut Io<'_>,
    cfg: &Config,
    start: u64,
    stop: u64,
) -> Result<u64, DataError> {
    let (src, dst) = (io.src, io.dst);
    let chunk = io.chunk.max(1);
    // Slow start: one piece, doubled at each completed write up to
    // `cap`. A file just over one piece holds few buffers, and the files
    // ahead of it on this ring get their (small) writes in first — which
    // keeps rsync's order of failures when a small file system fills up.
    let (mut limit, mut cap) = (1, depth.max(1));
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut flight = Flight {
        reads: FuturesOrdered::new(),
        writes: FuturesUnordered::new(),
    };
    let (mut next, mut end) = (start, stop);
    loop {
        if cfg.abort.load(Ordering::Relaxed) {
            return Err(DataError::Interrupted);
        }
        while next < end && flight.held() < limit {
            let want = ((end - next) as usize).min(chunk);
            let f = read(src, how, want, next, spare.pop());
            flight.reads.push_back(Box::pin(f));
            next += want as u64;
        }
        let Some(event) = flight.next().await else {
            break;
        };
        let read = match event {
            Event::Wrote(w) => {
                w.result.map_err(DataError::Write)?;
                counted(io, cfg, w.len as u64);
                limit = (limit * 2).min(cap);
                if let Piece::Owned(v) = w.piece {
                    spare.push(v);
                }
                continue;
            }
            Event::Read(r) => r,
        };
        match read.got {
            Ok(piece) => {
                let n = piece.as_ref().map_or(0, |p| p.as_init().len());
                if n < read.want {
                    // A short read: stop asking; later reads are dropped
                    // (their buffers return when they complete).
                    end = read.pos + n as u64;
                    next = end;
                    flight.reads = FuturesOrdered::new();
                }
                if let Some(p) = piece.filter(|_| n > 0) {
                    flight.writes.push(Box::pin(write(dst, p, read.pos)));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::ResourceBusy => {
                // No pool buffer free: ask again from here, holding less.
                flight.reads = FuturesOrdered::new();
                next = read.pos;
                cap = flight.held().max(1);
                limit = limit.min(cap);
                if flight.held() == 0 {
                    let n = io.through_buf(read.want, read.pos).await?;
                    counted(io, cfg, n as u64);
                    next += n as u64;
                    if n < read.want {
                        end = next;
                    }
                }
            }
            Err(e) => return Err(DataError::Read(e)),
        }
    }
    Ok(end)
}

/// Reads up to `want` bytes at `pos` into a piece of the kind `how`
/// says; `spare` is an owned buffer to reuse.
async fn read(src: &File, how: Reader, want: usize, pos: u64, spare: Option<Vec<u8>>) -> Read {
    let got = match how {
        Reader::Pool => src
            .read_managed_at(want, pos)
            .await
            .map(|p| p.map(Piece::Pool)),
        Reader::PoolCopied => src.read_managed_at(want, pos).await.map(|p| {
            p.map(|p| {
                let mut v = spare.unwrap_or_default();
                v.clear();
                v.extend_from_slice(&p);
                Piece::Owned(v)
            })
        }),
        Reader::Owned => {
            let mut v = spare.unwrap_or_default();
            v.clear();
            v.reserve(want);
            let BufResult(r, slice) = src.read_at(v.slice(0..want), pos).await;
            let v = slice.into_inner();
            r.map(|_| Some(Piece::Owned(v)))
        }
    };
    Read { pos, want, got }
}

/// Writes all of `piece` at `pos`.
async fn write(dst: &File, piece: Piece, pos: u64) -> Wrote {
    let len = piece.as_init().len();
    let (result, piece) = write_all_at(dst, piece, pos).await;
    Wrote { result, piece, len }
}
