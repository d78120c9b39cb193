//! How one file's bytes move, one [`DataPath`] per `--copy-engine`
//! strategy: in the kernel (`copy_file_range`), plain read/write through
//! the lane's buffer, and the two managed-buffer variants. Where the
//! kernel cannot copy a pair of files, [`Fallback`] switches to the next
//! path (written once, for every strategy that needs it).
//!
//! A path only knows how to move the next piece of a range; [`run`]
//! drives it (interruption, progress, end of file) and [`copy`] picks the
//! path for the run's choice, walking the source's data extents under
//! `-S` (see `sparse`) so that holes stay holes. Files of more than one
//! piece on the user-space paths go through `pipeline` (its own driver:
//! several pieces in flight), which hands what it did not finish back
//! to the stepwise path.
//!
//! `auto`, per file (numbers in benchmarks/README.md): `-S` → plain
//! read/write (zeros must be seen); a destination on XFS or btrfs →
//! `copy_file_range` (it shares extents); 64 KiB or less and not cached
//! (a one-byte `RWF_NOWAIT` probe) → a ring read and a write from the
//! pool buffer (the read does not block the ring's other lanes); else →
//! `copy_file_range`, or the
//! pipeline where the kernel refuses the pair (another file system).

use std::future::Future;
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use compio::BufResult;
use compio::buf::{IntoInner, IoBuf};
use compio::fs::File;
use compio::io::{AsyncReadAt, AsyncReadManagedAt, AsyncWriteAt};

use super::Config;
use super::pipeline::{self, Reader};
use super::sparse::{self, Holes};
use crate::options::EngineChoice;
use crate::sys::copy::{self as kernel, RangeError};

/// Why moving the bytes stopped early.
#[derive(Debug)]
pub(super) enum DataError {
    /// This path cannot move this file at all (nothing was written): a
    /// [`Fallback`] tries its second path.
    Unsupported,
    Read(io::Error),
    Write(io::Error),
    Interrupted,
}

/// What a path works on: the two files, the lane's reusable buffer, and
/// under `-S` the hole bookkeeping (only data runs are written then).
pub(super) struct Io<'a> {
    pub src: &'a File,
    pub dst: &'a File,
    /// Largest single read/write.
    pub chunk: usize,
    pub buf: &'a mut Vec<u8>,
    pub holes: Option<&'a mut Holes>,
    /// This file's bytes written so far (`--progress`).
    pub live: Option<&'a AtomicU64>,
    /// The destination's file system shares extents on
    /// `copy_file_range` (XFS, btrfs): `auto` leaves every size to it.
    pub shares_extents: bool,
}

/// One way of moving bytes.
pub(super) trait DataPath {
    /// Moves the next piece of `[pos, stop)`; returns its length, 0 at the
    /// source's end of file.
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError>;
}

/// `copy_file_range`: the kernel moves the bytes, no buffer involved.
pub(super) struct InKernel;

/// Plain `read` into the lane's buffer, then `write` (the `vec` engine).
pub(super) struct ReadWrite;

/// Reads into a buffer of the ring's pool, copies into the lane's buffer
/// to write (`read-managed`).
pub(super) struct ReadManaged;

/// Reads into a buffer of the ring's pool and writes straight from it
/// (`write-managed`).
pub(super) struct WriteManaged;

/// `first`, or `then` for the whole file where `first` is unsupported.
pub(super) struct Fallback<A, B> {
    first: A,
    then: B,
    switched: bool,
}

impl<A, B> Fallback<A, B> {
    pub(super) fn new(first: A, then: B) -> Self {
        Fallback {
            first,
            then,
            switched: false,
        }
    }
}

/// Largest `copy_file_range` call; between calls the lane yields so the
/// other files on this thread keep moving.
const IN_KERNEL_CHUNK: u64 = 8 << 20;

impl DataPath for InKernel {
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
        let len = (stop - pos).min(IN_KERNEL_CHUNK) as usize;
        match kernel::copy_range(io.src.as_fd(), io.dst.as_fd(), pos, len) {
            // Some files (procfs, some FUSE) report a size but copy
            // nothing in-kernel: they are read the plain way.
            Ok(0) if pos == 0 => Err(DataError::Unsupported),
            Ok(n) => {
                if n > 0 && (n as u64) < stop - pos {
                    YieldNow(false).await;
                }
                Ok(n)
            }
            Err(RangeError::NotInKernel(_)) if pos == 0 => Err(DataError::Unsupported),
            Err(RangeError::Refused(e)) => Err(DataError::Write(e)),
            Err(RangeError::NotInKernel(e) | RangeError::Failed(e)) => Err(DataError::Read(e)),
        }
    }
}

impl DataPath for ReadWrite {
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
        let want = io.want(pos, stop);
        io.through_buf(want, pos).await
    }
}

impl DataPath for ReadManaged {
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
        managed_step(io, pos, stop, false).await
    }
}

impl DataPath for WriteManaged {
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
        managed_step(io, pos, stop, true).await
    }
}

impl<A: DataPath, B: DataPath> DataPath for Fallback<A, B> {
    async fn step(&mut self, io: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
        if !self.switched {
            match self.first.step(io, pos, stop).await {
                Err(DataError::Unsupported) => self.switched = true,
                other => return other,
            }
        }
        self.then.step(io, pos, stop).await
    }
}

/// A managed-buffer read; the bytes are written from the pool buffer
/// (`direct`) or from the lane's. With no pool buffer free, this piece
/// goes through the lane's buffer.
async fn managed_step(
    io: &mut Io<'_>,
    pos: u64,
    stop: u64,
    direct: bool,
) -> Result<usize, DataError> {
    let want = io.want(pos, stop);
    let pooled = match io.src.read_managed_at(want, pos).await {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(0),
        Err(e) if e.kind() == io::ErrorKind::ResourceBusy => {
            return io.through_buf(want, pos).await;
        }
        Err(e) => return Err(DataError::Read(e)),
    };
    let n = pooled.len();
    if n == 0 {
        return Ok(0);
    }
    if direct {
        let (w, _pooled) = io.put(pooled, pos).await;
        w?;
    } else {
        let mut b = std::mem::take(io.buf);
        b.clear();
        b.extend_from_slice(&pooled);
        drop(pooled);
        let (w, b) = io.put(b, pos).await;
        *io.buf = b;
        w?;
    }
    Ok(n)
}

impl Io<'_> {
    fn want(&self, pos: u64, stop: u64) -> usize {
        ((stop - pos) as usize).min(self.chunk)
    }

    /// Writes `b` at `pos`: all of it, or under `-S` its data runs.
    async fn put<B: IoBuf>(&mut self, b: B, pos: u64) -> (Result<(), DataError>, B) {
        match self.holes.as_deref_mut() {
            None => {
                let (r, b) = write_all_at(self.dst, b, pos).await;
                (r.map_err(DataError::Write), b)
            }
            Some(holes) => write_data(self.dst, b, pos, holes).await,
        }
    }

    /// Reads up to `want` bytes at `pos` into the lane's buffer and
    /// writes them; 0 at end of file.
    pub(super) async fn through_buf(&mut self, want: usize, pos: u64) -> Result<usize, DataError> {
        let n = read_buf(self.src, self.buf, want, pos)
            .await
            .map_err(DataError::Read)?;
        if n > 0 {
            let b = std::mem::take(self.buf);
            let (w, b) = self.put(b, pos).await;
            *self.buf = b;
            w?;
        }
        Ok(n)
    }
}

/// Moves `[start, stop)` with `path`; returns where it ended: `stop`, or
/// the source's end of file if that came first.
pub(super) async fn run(
    path: &mut impl DataPath,
    io: &mut Io<'_>,
    cfg: &Config,
    start: u64,
    stop: u64,
) -> Result<u64, DataError> {
    let mut pos = start;
    while pos < stop {
        if cfg.abort.load(Ordering::Relaxed) {
            return Err(DataError::Interrupted);
        }
        let n = path.step(io, pos, stop).await?;
        if n == 0 {
            break;
        }
        pos += n as u64;
        counted(io, cfg, n as u64);
    }
    Ok(pos)
}

/// `n` more bytes written: the bar's counter, this file's live counter,
/// and the pace (`--bwlimit`).
pub(super) fn counted(io: &Io<'_>, cfg: &Config, n: u64) {
    if let Some(c) = &cfg.progress {
        c.fetch_add(n, Ordering::Relaxed);
    }
    if let Some(c) = io.live {
        c.fetch_add(n, Ordering::Relaxed);
    }
    cfg.pace.moved(n);
}

/// Copies up to `size` bytes (or to end of file) as the run chose;
/// returns the length copied. Under `-S` (`io.holes` set) the caller
/// still sets the length of a trailing hole.
pub(super) async fn copy(
    choice: EngineChoice,
    io: &mut Io<'_>,
    cfg: &Config,
    start: u64,
    size: u64,
) -> Result<u64, DataError> {
    if start > 0 {
        // --append: the part past the kept bytes, plainly.
        io.holes = None;
        let mut path = Fallback::new(InKernel, ReadWrite);
        return run(&mut path, io, cfg, start, size).await;
    }
    let sparse = io.holes.is_some();
    match choice {
        // The zeros of a sparse copy must be seen: `copy_file_range` would
        // copy allocated zeros as allocated blocks.
        // A small file whose source is not cached: a ring read (async,
        // where the in-kernel copy would block this thread's other lanes
        // on the disk) and a write from the pool buffer; 18% faster than
        // `copy_file_range` cold (10k x 4 KiB), up to 10% slower warm.
        EngineChoice::Auto
            if !sparse
                && size > 0
                && size <= cfg.small
                && !io.shares_extents
                && !kernel::start_cached(io.src.as_fd()) =>
        {
            whole(&mut WriteManaged, io, cfg, size).await
        }
        EngineChoice::Auto if !sparse => in_kernel_or_piped(io, cfg, size).await,
        EngineChoice::CopyFileRange if !sparse => {
            let mut path = Fallback::new(InKernel, ReadWrite);
            run(&mut path, io, cfg, 0, size).await
        }
        EngineChoice::Auto | EngineChoice::CopyFileRange => {
            whole(&mut ReadWrite, io, cfg, size).await
        }
        EngineChoice::Vec => piped(Reader::Owned, &mut ReadWrite, io, cfg, size).await,
        EngineChoice::ReadManaged => {
            piped(Reader::PoolCopied, &mut ReadManaged, io, cfg, size).await
        }
        EngineChoice::WriteManaged => piped(Reader::Pool, &mut WriteManaged, io, cfg, size).await,
    }
}

/// `auto` without `-S` for a file of more than one piece, or of any size
/// on XFS/btrfs (the rules and their numbers: benchmarks/README.md,
/// "Which engine `auto` picks"): the kernel copies — as fast as the
/// pipeline and cheaper in CPU here, warm or cold, and on XFS/btrfs it
/// shares the extents instead — and where it refuses this pair of files
/// (another file system: `EXDEV`; files it cannot copy), the pipelined
/// pool path.
async fn in_kernel_or_piped(io: &mut Io<'_>, cfg: &Config, size: u64) -> Result<u64, DataError> {
    if size == 0 {
        return Ok(0);
    }
    if cfg.abort.load(Ordering::Relaxed) {
        return Err(DataError::Interrupted);
    }
    match InKernel.step(io, 0, size).await {
        Err(DataError::Unsupported) => piped(Reader::Pool, &mut WriteManaged, io, cfg, size).await,
        Err(e) => Err(e),
        Ok(n) => {
            counted(io, cfg, n as u64);
            run(&mut InKernel, io, cfg, n as u64, size).await
        }
    }
}

/// A file of more than one chunk through the [`pipeline`] (reads into
/// `how`'s buffers), the rest — a file that ended early, `-S`, a small
/// file — stepwise with `path`.
async fn piped(
    how: Reader,
    path: &mut impl DataPath,
    io: &mut Io<'_>,
    cfg: &Config,
    size: u64,
) -> Result<u64, DataError> {
    if io.holes.is_some() || size <= io.chunk as u64 || cfg.depth <= 1 {
        return whole(path, io, cfg, size).await;
    }
    let reached = pipeline::run(how, cfg.depth, io, cfg, 0, size).await?;
    if reached < size {
        run(path, io, cfg, reached, size).await
    } else {
        Ok(reached)
    }
}

/// The whole file with `path`: every byte, or under `-S` the data extents.
async fn whole(
    path: &mut impl DataPath,
    io: &mut Io<'_>,
    cfg: &Config,
    size: u64,
) -> Result<u64, DataError> {
    if io.holes.is_some() {
        extents(path, io, cfg, size).await
    } else {
        run(path, io, cfg, 0, size).await
    }
}

/// `-S`: copies the source's data extents (found with `SEEK_DATA` /
/// `SEEK_HOLE`; its holes are not even read) up to `size` or its end of
/// file; returns that end.
async fn extents(
    path: &mut impl DataPath,
    io: &mut Io<'_>,
    cfg: &Config,
    size: u64,
) -> Result<u64, DataError> {
    // Only a regular file can be searched for holes, and a file that has
    // shrunk since it was listed ends at its end of file.
    let (mut seekable, end) = match kernel::stat_fd(io.src.as_fd()) {
        Ok(st) if st.kind() == crate::sys::Kind::File => (true, size.min(st.size)),
        _ => (false, size),
    };
    let mut pos = 0u64;
    while pos < end {
        let (data, stop) = if seekable {
            match kernel::next_data(io.src.as_fd(), pos) {
                Ok(Some(d)) => {
                    let h = kernel::next_hole(io.src.as_fd(), d).unwrap_or(end);
                    (d, h.min(end))
                }
                // Nothing but a hole up to end of file.
                Ok(None) => break,
                Err(_) => {
                    seekable = false;
                    (pos, end)
                }
            }
        } else {
            (pos, end)
        };
        let reached = run(path, io, cfg, data, stop).await?;
        if reached < stop {
            // The file ended early (it shrank while being copied).
            return Ok(reached);
        }
        pos = stop;
    }
    Ok(end)
}

/// Lets the other tasks of this runtime run once.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Writes all of `buf` at `pos`, however the kernel splits it.
pub(super) async fn write_all_at<B: IoBuf>(
    file: &File,
    mut buf: B,
    pos: u64,
) -> (io::Result<()>, B) {
    let len = buf.as_init().len();
    let mut off = 0;
    while off < len {
        let mut w = file;
        let BufResult(r, slice) = w.write_at(buf.slice(off..len), pos + off as u64).await;
        buf = slice.into_inner();
        match r {
            Ok(0) => return (Err(io::Error::from(io::ErrorKind::WriteZero)), buf),
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// Reads one piece into the lane's buffer; `Ok(0)` at end of file.
async fn read_buf(src: &File, buf: &mut Vec<u8>, want: usize, pos: u64) -> io::Result<usize> {
    let mut b = std::mem::take(buf);
    b.clear();
    if b.capacity() < want {
        b.reserve_exact(want);
    }
    let BufResult(r, b) = src.read_at(b, pos).await;
    *buf = b;
    r
}

/// Writes the data runs of `b` (file offset `base`) and leaves the zero
/// runs as holes; returns the buffer for reuse.
async fn write_data<B: IoBuf>(
    dst: &File,
    mut b: B,
    base: u64,
    holes: &mut Holes,
) -> (Result<(), DataError>, B) {
    let mut ranges = std::mem::take(&mut holes.ranges);
    sparse::data_ranges(b.as_init(), base, &mut ranges);
    let mut result = Ok(());
    for &(x, y) in &ranges {
        let at = base + x as u64;
        if let Err(e) = holes.before_data(dst.as_fd(), at) {
            result = Err(DataError::Write(e));
            break;
        }
        let (w, slice) = write_all_at(dst, b.slice(x..y), at).await;
        b = slice.into_inner();
        if let Err(e) = w {
            result = Err(DataError::Write(e));
            break;
        }
        holes.written_end = base + y as u64;
    }
    holes.ranges = ranges;
    (result, b)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use super::*;

    /// Refuses every file, counting the attempts.
    struct Refuses(usize);

    impl DataPath for Refuses {
        async fn step(&mut self, _: &mut Io<'_>, _: u64, _: u64) -> Result<usize, DataError> {
            self.0 += 1;
            Err(DataError::Unsupported)
        }
    }

    /// "Moves" up to 3 bytes a step without touching the files.
    struct Threes(usize);

    impl DataPath for Threes {
        async fn step(&mut self, _: &mut Io<'_>, pos: u64, stop: u64) -> Result<usize, DataError> {
            self.0 += 1;
            Ok((stop - pos).min(3) as usize)
        }
    }

    /// Runs `f` with an `Io` over a source holding `data` and an empty
    /// destination; returns `f`'s result and the destination's bytes.
    fn with_io<T>(
        data: &[u8],
        chunk: usize,
        sparse: bool,
        f: impl AsyncFnOnce(&mut Io<'_>) -> T,
    ) -> (T, Vec<u8>) {
        let tmp = tempfile::tempdir().unwrap();
        let (s, d) = (tmp.path().join("s"), tmp.path().join("d"));
        std::fs::write(&s, data).unwrap();
        let out = compio::runtime::Runtime::new().unwrap().block_on(async {
            let src = File::open(&s).await.unwrap();
            let dst = File::create(&d).await.unwrap();
            let mut buf = Vec::new();
            let mut holes = Holes::default();
            let mut io = Io {
                src: &src,
                dst: &dst,
                chunk,
                buf: &mut buf,
                holes: sparse.then_some(&mut holes),
                live: None,
                shares_extents: false,
            };
            f(&mut io).await
        });
        (out, std::fs::read(&d).unwrap())
    }

    #[test]
    fn fallback_switches_once_for_the_whole_file() {
        let cfg = Config::for_tests();
        let (r, _) = with_io(b"", 4096, false, async |io: &mut Io<'_>| {
            let mut path = Fallback::new(Refuses(0), Threes(0));
            let end = run(&mut path, io, &cfg, 0, 10).await.unwrap();
            (end, path.first.0, path.then.0)
        });
        // Asked once, then never again; the second path did all 4 steps.
        assert_eq!(r, (10, 1, 4));
    }

    #[test]
    fn fallback_keeps_a_path_that_works() {
        let cfg = Config::for_tests();
        let (r, _) = with_io(b"", 4096, false, async |io: &mut Io<'_>| {
            let mut path = Fallback::new(Threes(0), Refuses(0));
            let end = run(&mut path, io, &cfg, 0, 7).await.unwrap();
            (end, path.first.0, path.then.0)
        });
        assert_eq!(r, (7, 3, 0));
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8 + 1).collect()
    }

    const CHOICES: [EngineChoice; 5] = [
        EngineChoice::Auto,
        EngineChoice::Vec,
        EngineChoice::ReadManaged,
        EngineChoice::WriteManaged,
        EngineChoice::CopyFileRange,
    ];

    #[test]
    fn every_choice_copies_exactly_and_counts_progress() {
        let data = pattern(3 * 4096 + 17);
        for choice in CHOICES {
            for sparse in [false, true] {
                copies_all_of(&data, choice, Config::for_tests(), sparse);
            }
        }
    }

    /// Copies `data` whole with `choice` under `cfg` and checks the
    /// length, the content and the progress counted.
    fn copies_all_of(data: &[u8], choice: EngineChoice, cfg: Config, sparse: bool) {
        let counter = Arc::new(AtomicU64::new(0));
        let cfg = Config {
            progress: Some(Arc::clone(&counter)),
            ..cfg
        };
        let size = data.len() as u64;
        let (r, got) = with_io(data, 4096, sparse, async |io: &mut Io<'_>| {
            copy(choice, io, &cfg, 0, size).await
        });
        assert_eq!(r.unwrap(), size, "{choice:?} sparse={sparse}");
        assert!(got == data, "{choice:?} sparse={sparse}: content");
        assert_eq!(counter.load(Ordering::Relaxed), size);
    }

    #[test]
    fn a_source_that_shrank_ends_at_its_end() {
        let data = pattern(5000);
        for choice in CHOICES {
            for sparse in [false, true] {
                let cfg = Config::for_tests();
                let (r, got) = with_io(&data, 4096, sparse, async |io: &mut Io<'_>| {
                    copy(choice, io, &cfg, 0, 9000).await
                });
                assert_eq!(r.unwrap(), 5000, "{choice:?} sparse={sparse}");
                assert!(got == data);
            }
        }
    }

    #[test]
    fn a_pipeline_deeper_than_the_pool_copies_exactly() {
        // The test runtime's pool has 8 buffers; 32 pieces in flight find
        // it empty and must shrink, not fail.
        let data = pattern(40 * 4096 + 5);
        for choice in [EngineChoice::WriteManaged, EngineChoice::ReadManaged] {
            let cfg = Config {
                depth: 32,
                ..Config::for_tests()
            };
            copies_all_of(&data, choice, cfg, false);
        }
    }

    #[test]
    fn zeros_are_not_written_under_sparse() {
        let mut data = vec![0u8; 16384];
        data[..100].fill(9);
        let cfg = Config::for_tests();
        let (r, got) = with_io(&data, 4096, true, async |io: &mut Io<'_>| {
            let end = copy(EngineChoice::Auto, io, &cfg, 0, 16384).await.unwrap();
            (end, io.holes.as_ref().map(|h| h.written_end))
        });
        // All 16 KiB are accounted for, but only the first sector was
        // written: the caller sets the length over the trailing hole.
        assert_eq!(r, (16384, Some(512)));
        assert_eq!(got.len(), 512);
    }

    #[test]
    fn an_abort_stops_the_copy() {
        let cfg = Config::for_tests();
        cfg.abort.store(true, Ordering::Relaxed);
        let (r, got) = with_io(&pattern(100), 4096, false, async |io: &mut Io<'_>| {
            copy(EngineChoice::Vec, io, &cfg, 0, 100).await
        });
        assert!(matches!(r, Err(DataError::Interrupted)));
        assert!(got.is_empty());
    }
}
