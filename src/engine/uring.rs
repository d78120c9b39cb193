//! The compio (io_uring) engine: a few threads, each with its own ring and
//! a fixed number of "lanes" — tasks that each copy one file at a time —
//! so many files are in flight at once while memory stays bounded
//! (one reusable buffer per lane).
//!
//! Jobs come from one shared bounded queue, so an idle lane on any thread
//! takes the next file (natural load balancing); results go back on an
//! unbounded queue the driver drains in its own time.

use std::ffi::CString;
use std::future::Future;
use std::num::NonZero;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::thread::JoinHandle;

use compio::BufResult;
use compio::buf::{IntoInner, IoBuf};
use compio::driver::ProactorBuilder;
use compio::driver::op::{OpenFile, Rename, Unlink};
use compio::fs::{File, OpenOptions};
use compio::io::{AsyncReadAt, AsyncReadManagedAt, AsyncWriteAt};
use rustix::fs::OFlags;
use rustix::io::Errno;

use super::sparse::{self, Holes};
use super::{Config, CopyJob, Done, Engine, Outcome, temp_name};
use crate::backup::Target as BackupTarget;
use crate::meta::{self, Target};
use crate::options::EngineChoice;
use crate::sys::{self, DirAt, Stat};

/// How one file's bytes move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Vec,
    ReadManaged,
    WriteManaged,
    CopyFileRange,
}

/// Largest `copy_file_range` call; between calls the lane yields so the
/// other files on this thread keep moving.
const CFR_CHUNK: u64 = 8 << 20;

/// The data path for one file. `auto` uses `copy_file_range` for every
/// size: in-kernel copies measured the same wall time as read/write
/// through the ring for large files at about half the CPU, and one call
/// instead of two ops for small ones (see benchmarks/README.md).
fn method_for(choice: EngineChoice, _size: u64) -> Method {
    match choice {
        EngineChoice::Auto => Method::CopyFileRange,
        EngineChoice::Vec => Method::Vec,
        EngineChoice::ReadManaged => Method::ReadManaged,
        EngineChoice::WriteManaged => Method::WriteManaged,
        EngineChoice::CopyFileRange => Method::CopyFileRange,
    }
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

/// Why copying the bytes stopped early.
enum DataError {
    Read(std::io::Error),
    Write(std::io::Error),
    Interrupted,
}

pub struct UringEngine {
    jobs: Option<flume::Sender<Vec<CopyJob>>>,
    done: std::sync::mpsc::Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
    /// Jobs not yet sent: the queue is crossed in batches, because each
    /// crossing costs lock traffic and a wake-up on both sides.
    batch: Vec<CopyJob>,
    /// Jobs sent and not yet done.
    outstanding: usize,
    /// Keep at least this many jobs with the workers before batching up.
    low_water: usize,
}

/// Jobs per queue crossing once the workers are busy.
const BATCH: usize = 64;

impl UringEngine {
    pub fn start(cfg: Config) -> UringEngine {
        let (jobs_tx, jobs_rx) = flume::bounded::<Vec<CopyJob>>(cfg.threads * 2);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Done>();
        let low_water = cfg.threads * cfg.lanes;
        let cfg = Arc::new(cfg);
        let threads = (0..cfg.threads)
            .map(|i| {
                let rx = jobs_rx.clone();
                let tx = done_tx.clone();
                let cfg = Arc::clone(&cfg);
                std::thread::Builder::new()
                    .name(format!("arsync-io-{i}"))
                    .spawn(move || worker(rx, tx, cfg))
                    .expect("spawning an I/O thread")
            })
            .collect();
        UringEngine {
            jobs: Some(jobs_tx),
            done: done_rx,
            threads,
            batch: Vec::with_capacity(BATCH),
            outstanding: 0,
            low_water,
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let n = batch.len();
        if let Some(tx) = &self.jobs {
            // Workers only exit once the queue is closed, so a send can
            // only fail if they all died; the jobs are then lost, and
            // counting them as done keeps the driver from waiting forever.
            if tx.send(batch).is_ok() {
                self.outstanding += n;
            }
        }
    }
}

impl Engine for UringEngine {
    fn submit(&mut self, job: CopyJob) {
        self.batch.push(job);
        if self.batch.len() >= BATCH || self.outstanding < self.low_water {
            self.flush();
        }
    }

    fn try_done(&mut self) -> Option<Done> {
        let d = self.done.try_recv().ok()?;
        self.outstanding -= 1;
        Some(d)
    }

    fn wait_done(&mut self) -> Option<Done> {
        self.flush();
        if self.outstanding == 0 {
            return None;
        }
        let d = self.done.recv().ok()?;
        self.outstanding -= 1;
        Some(d)
    }

    fn in_flight(&self) -> usize {
        self.outstanding + self.batch.len()
    }
}

impl Drop for UringEngine {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One ring per thread. `tuned` asks the kernel not to interrupt this
/// thread's blocking syscalls (`copy_file_range`, `futimens`) to deliver
/// completions (COOP/DEFER_TASKRUN); older kernels refuse those flags, so
/// the caller retries without them.
fn build_runtime(cfg: &Config, tuned: bool) -> std::io::Result<compio::runtime::Runtime> {
    let mut proactor = ProactorBuilder::new();
    let pool = cfg.lanes.clamp(1, 1 << 15).next_power_of_two() as u16;
    proactor
        .buffer_pool_size(NonZero::new(pool).unwrap_or(NonZero::<u16>::MIN))
        .buffer_pool_buffer_len(cfg.chunk);
    if tuned {
        proactor
            .coop_taskrun(true)
            .taskrun_flag(true)
            .single_issuer(true)
            .defer_taskrun(true);
    }
    compio::runtime::RuntimeBuilder::new()
        .with_proactor(proactor)
        .build()
}

fn worker(
    jobs: flume::Receiver<Vec<CopyJob>>,
    done: std::sync::mpsc::Sender<Done>,
    cfg: Arc<Config>,
) {
    let rt = match build_runtime(&cfg, true).or_else(|_| build_runtime(&cfg, false)) {
        Ok(rt) => rt,
        Err(e) => {
            // No usable async driver at all: fail each job clearly.
            while let Ok(batch) = jobs.recv() {
                for job in batch {
                    let _ = done.send(Done {
                        token: job.token,
                        outcome: Outcome::Fatal(format!(
                            "cannot start the I/O engine: {}",
                            sys::io_error_text(&e)
                        )),
                    });
                }
            }
            return;
        }
    };
    rt.block_on(async {
        // Only one task per thread waits on the cross-thread queue; it
        // hands jobs to this thread's lanes through a local queue. Waking
        // many tasks from another thread at once (as closing a shared
        // queue does) can stall compio's bounded remote-wake queue.
        let (local_tx, local_rx) = flume::bounded::<CopyJob>(cfg.lanes);
        let mut lanes = Vec::with_capacity(cfg.lanes);
        for _ in 0..cfg.lanes {
            let jobs = local_rx.clone();
            let done = done.clone();
            let cfg = Arc::clone(&cfg);
            lanes.push(compio::runtime::spawn(async move {
                let mut buf: Vec<u8> = Vec::new();
                while let Ok(job) = jobs.recv_async().await {
                    let (outcome, b) = copy_one(&job, &cfg, buf).await;
                    buf = b;
                    if done
                        .send(Done {
                            token: job.token,
                            outcome,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
            }));
        }
        drop(local_rx);
        'feed: while let Ok(batch) = jobs.recv_async().await {
            for job in batch {
                if local_tx.send_async(job).await.is_err() {
                    break 'feed;
                }
            }
        }
        drop(local_tx);
        for l in lanes {
            let _ = l.await;
        }
    });
}

fn shown(p: &Path) -> String {
    sys::escape_name(sys::bytes(&sys::absolute(p)), sys::locale_is_utf8())
}

fn errno_of(e: &std::io::Error) -> String {
    sys::io_error_text(e)
}

/// How the file being written becomes the destination.
enum SinkKind {
    /// `--inplace`: writing the destination itself.
    InPlace,
    /// A named `.NAME.XXXXXX` temp file in `dir` (the destination's
    /// directory, or `--temp-dir`), renamed over the destination.
    Named {
        dir: DirAt,
        name: Vec<u8>,
        /// Its path, for messages.
        shown: PathBuf,
    },
    /// An unnamed `O_TMPFILE` inode, linked in under the destination name
    /// when complete. Used when nothing exists at the destination: one
    /// directory entry is made instead of two plus a rename, and a crash
    /// leaves nothing behind at all.
    Unnamed,
}

/// Where the bytes go while they are being written.
struct Sink {
    file: File,
    kind: SinkKind,
}

impl Sink {
    /// The name to show in messages: the temp name rsync would have used.
    fn shown_name(&self, job: &CopyJob) -> String {
        match &self.kind {
            SinkKind::InPlace => shown(&job.dest),
            SinkKind::Named { shown: t, .. } => shown(t),
            SinkKind::Unnamed => shown(&temp_name(
                parent_of(&job.dest),
                base_of(&job.dest).as_slice(),
            )),
        }
    }
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn base_of(p: &Path) -> Vec<u8> {
    p.file_name()
        .map(|n| sys::bytes(Path::new(n)).to_vec())
        .unwrap_or_default()
}

/// The destination's directory: the handle the transfer opened for it
/// (see `sys::DirAt`), or its path when there is none.
fn dest_dir(job: &CopyJob) -> DirAt {
    match &job.dir {
        Some(d) => d.clone(),
        None => DirAt::Path(parent_of(&job.dest).to_path_buf()),
    }
}

/// A temp name for `base`, without a directory.
fn temp_base(base: &[u8]) -> Vec<u8> {
    sys::bytes(&temp_name(Path::new(""), base)).to_vec()
}

fn c_name(dir: &DirAt, name: &[u8]) -> std::io::Result<CString> {
    CString::new(sys::bytes(&dir.name(name)).to_vec())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

/// `openat` of `name` in `dir`, through the ring.
async fn open_in(dir: &DirAt, name: &[u8], flags: OFlags, mode: u32) -> std::io::Result<File> {
    let op = OpenFile::new(
        dir.clone(),
        c_name(dir, name)?,
        flags | OFlags::CLOEXEC,
        rustix::fs::Mode::from_raw_mode(mode),
    );
    let BufResult(r, op) = compio::runtime::submit(op).await;
    r?;
    let fd: OwnedFd = op.into_inner();
    compio::runtime::Runtime::with_current(|rt| rt.attach(fd.as_raw_fd()))?;
    // SAFETY: `fd` was just opened and is owned here; `into_raw_fd` gives
    // up that ownership to the `File`, which alone closes it.
    Ok(unsafe { File::from_raw_fd(fd.into_raw_fd()) })
}

/// `renameat` through the ring.
async fn rename_in(
    from: &DirAt,
    from_name: &[u8],
    to: &DirAt,
    to_name: &[u8],
) -> std::io::Result<()> {
    let op = Rename::new(
        from.clone(),
        c_name(from, from_name)?,
        to.clone(),
        c_name(to, to_name)?,
    );
    compio::runtime::submit(op).await.0.map(|_| ())
}

/// `unlinkat` of a file through the ring.
async fn unlink_in(dir: &DirAt, name: &[u8]) -> std::io::Result<()> {
    let op = Unlink::new(dir.clone(), c_name(dir, name)?, false);
    compio::runtime::submit(op).await.0.map(|_| ())
}

/// Permissions a new temp file is created with: the wanted ones, plus
/// owner-write so we can fill it (fixed by fchmod afterwards if needed).
fn create_mode(job: &CopyJob) -> u32 {
    (job.want.mode & 0o777) | 0o200
}

fn mkstemp_failed(path: &Path, e: &std::io::Error) -> Outcome {
    Outcome::Failed(format!(
        "[receiver] mkstemp \"{}\" failed: {}",
        shown(path),
        errno_of(e)
    ))
}

/// `-b`: the destination (`base` in `dir`), hard-linked (or copied across
/// filesystems, or where a link is refused) under its backup name while it
/// is still in place; both through their directories' handles. A failure
/// gives rsync's lines: the backup name that could not be written.
fn keep_backup(
    dest: &Path,
    dir: &DirAt,
    base: &[u8],
    to: &BackupTarget,
) -> Result<(), Vec<String>> {
    let failed = |op, e: Errno| {
        crate::backup::Failure::keep(op, dest, &to.path, &to.shown, e)
            .lines
            .into_iter()
            .map(|l| format!("[receiver] {l}"))
            .collect::<Vec<_>>()
    };
    let name = to.dir.name(&to.name);
    match rustix::fs::unlinkat(&to.dir, &name, rustix::fs::AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(failed("unlink", e)),
    }
    let linked = rustix::fs::linkat(
        dir,
        dir.name(base),
        &to.dir,
        &name,
        rustix::fs::AtFlags::empty(),
    );
    match linked {
        // Gone meanwhile: nothing left to keep.
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(_) => crate::backup::copy_file(dir, base, &to.dir, &to.name, false)
            .map_err(|e| failed("open", Errno::from_io_error(&e).unwrap_or(Errno::IO))),
    }
}

/// `--inplace -b`: a copy of the old file that keeps its modification
/// time and owner, as rsync's backup copy does (its content is about to
/// change in place, so a hard link would not do).
fn copy_keeping_attrs(dir: &DirAt, base: &[u8], to: &BackupTarget) -> std::io::Result<()> {
    let _ = rustix::fs::unlinkat(&to.dir, to.dir.name(&to.name), rustix::fs::AtFlags::empty());
    crate::backup::copy_file(dir, base, &to.dir, &to.name, true)
}

async fn open_sink(job: &CopyJob, cfg: &Config) -> Result<Sink, Outcome> {
    let create_mode = create_mode(job);
    let dir = dest_dir(job);
    let base = base_of(&job.dest);
    if cfg.inplace {
        // --inplace -b: the old content must be saved before it is
        // overwritten.
        if let Some(to) = &job.backup_to
            && dir.lstat(&base).is_ok()
        {
            copy_keeping_attrs(&dir, &base, to).map_err(|e| {
                Outcome::Failed(format!(
                    "[receiver] backup \"{}\" failed: {}",
                    shown(&to.path),
                    errno_of(&e)
                ))
            })?;
        }
        let file = open_in(
            &dir,
            &base,
            OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW,
            create_mode,
        )
        .await
        .map_err(|e| {
            Outcome::Failed(format!(
                "[receiver] open \"{}\" failed: {}",
                shown(&job.dest),
                errno_of(&e)
            ))
        })?;
        return Ok(Sink {
            file,
            kind: SinkKind::InPlace,
        });
    }
    if job.fresh && cfg.temp_dir.is_none() {
        match open_in(&dir, b".", OFlags::WRONLY | OFlags::TMPFILE, create_mode).await {
            Ok(file) => {
                return Ok(Sink {
                    file,
                    kind: SinkKind::Unnamed,
                });
            }
            // Filesystems without O_TMPFILE: fall back to a named temp.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOSYS)
                ) => {}
            Err(e) => {
                return Err(mkstemp_failed(&temp_name(parent_of(&job.dest), &base), &e));
            }
        }
    }
    let (tmp_dir, shown_dir) = match &cfg.temp_dir {
        Some(d) => (DirAt::Path(d.clone()), d.clone()),
        None => (dir, parent_of(&job.dest).to_path_buf()),
    };
    let mut last = None;
    for _ in 0..100 {
        let name = temp_base(&base);
        let tmp_shown = shown_dir.join(sys::path_from(&name));
        match open_in(
            &tmp_dir,
            &name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW,
            create_mode,
        )
        .await
        {
            Ok(file) => {
                return Ok(Sink {
                    file,
                    kind: SinkKind::Named {
                        dir: tmp_dir,
                        name,
                        shown: tmp_shown,
                    },
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some((tmp_shown, e)),
            Err(e) => return Err(mkstemp_failed(&tmp_shown, &e)),
        }
    }
    let (tmp, e) = last.unwrap_or_else(|| (shown_dir.clone(), std::io::Error::other("no name")));
    Err(mkstemp_failed(&tmp, &e))
}

/// Gives an unnamed temp file its final name, `base` in `dir`. Root links
/// the descriptor directly; others go through /proc. If something
/// appeared at the destination meanwhile, link under a temp name and
/// rename over it.
fn link_unnamed(file: &File, dir: &DirAt, base: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, CWD};
    let dest = dir.name(base);
    let direct = rustix::fs::linkat(file.as_fd(), "", dir, &dest, AtFlags::EMPTY_PATH);
    let proc = || format!("/proc/self/fd/{}", file.as_fd().as_raw_fd());
    let r = match direct {
        Err(Errno::NOENT | Errno::PERM | Errno::ACCESS | Errno::INVAL) => {
            rustix::fs::linkat(CWD, proc().as_str(), dir, &dest, AtFlags::SYMLINK_FOLLOW)
        }
        other => other,
    };
    match r {
        Err(Errno::EXIST) => {
            let tmp = dir.name(&temp_base(base));
            rustix::fs::linkat(CWD, proc().as_str(), dir, &tmp, AtFlags::SYMLINK_FOLLOW)?;
            rustix::fs::renameat(dir, &tmp, dir, &dest).inspect_err(|_| {
                let _ = rustix::fs::unlinkat(dir, &tmp, AtFlags::empty());
            })?;
            Ok(())
        }
        other => other.map_err(Into::into),
    }
}

/// Writes all of `buf` at `pos`, however the kernel splits it.
async fn write_all_at<B: IoBuf>(file: &File, mut buf: B, pos: u64) -> (std::io::Result<()>, B) {
    let len = buf.as_init().len();
    let mut off = 0;
    while off < len {
        let mut w = file;
        let BufResult(r, slice) = w.write_at(buf.slice(off..len), pos + off as u64).await;
        buf = slice.into_inner();
        match r {
            Ok(0) => {
                return (
                    Err(std::io::Error::from(std::io::ErrorKind::WriteZero)),
                    buf,
                );
            }
            Ok(n) => off += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), buf),
        }
    }
    (Ok(()), buf)
}

/// Reads one chunk into the lane's `Vec`; `Ok(0)` at end of file.
async fn read_vec(src: &File, buf: &mut Vec<u8>, want: usize, pos: u64) -> std::io::Result<usize> {
    let mut b = std::mem::take(buf);
    b.clear();
    if b.capacity() < want {
        b.reserve_exact(want);
    }
    let BufResult(r, b) = src.read_at(b, pos).await;
    *buf = b;
    r
}

/// Moves `size` bytes (or up to end of file) from `src` to `dst` with
/// `method`; returns the number of bytes written.
async fn copy_data(
    method: Method,
    src: &File,
    dst: &File,
    size: u64,
    cfg: &Config,
    buf: &mut Vec<u8>,
) -> Result<u64, DataError> {
    let mut pos: u64 = 0;
    let mut method = method;
    while pos < size {
        if cfg.abort.load(Ordering::Relaxed) {
            return Err(DataError::Interrupted);
        }
        let want = ((size - pos) as usize).min(cfg.chunk);
        let n = match method {
            Method::CopyFileRange => {
                let len = (size - pos).min(CFR_CHUNK) as usize;
                let mut off_in = pos;
                let mut off_out = pos;
                match rustix::fs::copy_file_range(
                    src.as_fd(),
                    Some(&mut off_in),
                    dst.as_fd(),
                    Some(&mut off_out),
                    len,
                ) {
                    // Some files (procfs, some FUSE) report a size but
                    // copy nothing in-kernel: read them the plain way.
                    Ok(0) if pos == 0 => {
                        method = Method::Vec;
                        continue;
                    }
                    Ok(0) => break,
                    Ok(n) => {
                        if (n as u64) < size - pos {
                            YieldNow(false).await;
                        }
                        n
                    }
                    Err(
                        Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM,
                    ) if pos == 0 => {
                        method = Method::Vec;
                        continue;
                    }
                    Err(e @ (Errno::NOSPC | Errno::DQUOT | Errno::FBIG | Errno::ROFS)) => {
                        return Err(DataError::Write(e.into()));
                    }
                    Err(e) => return Err(DataError::Read(e.into())),
                }
            }
            Method::Vec => {
                let n = read_vec(src, buf, want, pos)
                    .await
                    .map_err(DataError::Read)?;
                if n == 0 {
                    break;
                }
                let (w, b) = write_all_at(dst, std::mem::take(buf), pos).await;
                *buf = b;
                w.map_err(DataError::Write)?;
                n
            }
            Method::ReadManaged | Method::WriteManaged => {
                let got = match src.read_managed_at(want, pos).await {
                    Ok(g) => g,
                    // No free pool buffer: read this chunk the plain way.
                    Err(e) if e.kind() == std::io::ErrorKind::ResourceBusy => {
                        let n = read_vec(src, buf, want, pos)
                            .await
                            .map_err(DataError::Read)?;
                        if n == 0 {
                            break;
                        }
                        let (w, b) = write_all_at(dst, std::mem::take(buf), pos).await;
                        *buf = b;
                        w.map_err(DataError::Write)?;
                        pos += n as u64;
                        count_progress(cfg, n);
                        continue;
                    }
                    Err(e) => return Err(DataError::Read(e)),
                };
                let Some(pooled) = got else { break };
                let n = pooled.len();
                if n == 0 {
                    break;
                }
                if method == Method::WriteManaged {
                    let (w, _pooled) = write_all_at(dst, pooled, pos).await;
                    w.map_err(DataError::Write)?;
                } else {
                    let mut b = std::mem::take(buf);
                    b.clear();
                    b.extend_from_slice(&pooled);
                    drop(pooled);
                    let (w, b) = write_all_at(dst, b, pos).await;
                    *buf = b;
                    w.map_err(DataError::Write)?;
                }
                n
            }
        };
        pos += n as u64;
        count_progress(cfg, n);
    }
    Ok(pos)
}

/// Adds written bytes to the progress bar's counter, if there is one.
fn count_progress(cfg: &Config, n: usize) {
    if let Some(c) = &cfg.progress {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }
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

/// `-S`: copies up to `size` bytes (or to end of file) leaving holes for
/// the source's holes and for runs of zeros, as rsync does. Returns the
/// length copied; the caller sets the length of a trailing hole.
///
/// Source holes are skipped with `SEEK_DATA`/`SEEK_HOLE`; data is read
/// into the lane's buffer (or the managed pool) because the zeros have to
/// be seen: `copy_file_range` would copy allocated zeros as allocated
/// blocks, so `auto` and `copy-file-range` read through a `Vec` here.
async fn copy_sparse(
    method: Method,
    src: &File,
    dst: &File,
    size: u64,
    cfg: &Config,
    buf: &mut Vec<u8>,
    holes: &mut Holes,
) -> Result<u64, DataError> {
    // Only a regular file can be searched for holes, and a file that has
    // shrunk since it was listed ends at its end of file.
    let (mut seekable, mut end) = match rustix::fs::fstat(src.as_fd()) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => (true, size.min(st.st_size as u64)),
        _ => (false, size),
    };
    let mut pos = 0u64;
    'extents: while pos < end {
        let (data, stop) = if seekable {
            match rustix::fs::seek(src.as_fd(), rustix::fs::SeekFrom::Data(pos)) {
                Ok(d) => {
                    let h =
                        rustix::fs::seek(src.as_fd(), rustix::fs::SeekFrom::Hole(d)).unwrap_or(end);
                    (d, h.min(end))
                }
                // Nothing but a hole up to end of file.
                Err(Errno::NXIO) => break,
                Err(_) => {
                    seekable = false;
                    (pos, end)
                }
            }
        } else {
            (pos, end)
        };
        let mut p = data;
        while p < stop {
            if cfg.abort.load(Ordering::Relaxed) {
                return Err(DataError::Interrupted);
            }
            let want = ((stop - p) as usize).min(cfg.chunk);
            let pooled = match method {
                Method::ReadManaged | Method::WriteManaged => {
                    match src.read_managed_at(want, p).await {
                        Ok(g) => g,
                        // No free pool buffer: this chunk goes through the Vec.
                        Err(e) if e.kind() == std::io::ErrorKind::ResourceBusy => None,
                        Err(e) => return Err(DataError::Read(e)),
                    }
                }
                _ => None,
            };
            let n = match pooled {
                Some(pooled) if method == Method::WriteManaged => {
                    let n = pooled.len();
                    if n > 0 {
                        let (w, _pooled) = write_data(dst, pooled, p, holes).await;
                        w?;
                    }
                    n
                }
                Some(pooled) => {
                    let mut b = std::mem::take(buf);
                    b.clear();
                    b.extend_from_slice(&pooled);
                    drop(pooled);
                    let n = b.len();
                    let (w, b) = write_data(dst, b, p, holes).await;
                    *buf = b;
                    w?;
                    n
                }
                None => {
                    let n = read_vec(src, buf, want, p).await.map_err(DataError::Read)?;
                    if n > 0 {
                        let (w, b) = write_data(dst, std::mem::take(buf), p, holes).await;
                        *buf = b;
                        w?;
                    }
                    n
                }
            };
            if n == 0 {
                // The file ended early (it shrank while being copied).
                end = p;
                break 'extents;
            }
            p += n as u64;
        }
        pos = stop.max(p);
    }
    Ok(end)
}

/// `--partial-dir`: the directory an interrupted file is kept in, made if
/// missing. A relative one is opened below the destination directory's
/// handle; an absolute one (or one climbing out with `..`) by path.
/// `None`: it could not be opened safely (the file is not kept).
fn partial_dir_of(pd: &Path, job: &CopyJob) -> Option<DirAt> {
    let mode = rustix::fs::Mode::from_raw_mode(0o700);
    let climbs = pd
        .components()
        .any(|c| c == std::path::Component::ParentDir);
    let dir = dest_dir(job);
    if let (false, false, DirAt::Fd(fd)) = (pd.is_absolute(), climbs, &dir) {
        let _ = rustix::fs::mkdirat(&dir, pd, mode);
        return sys::open_beneath(fd.as_fd(), sys::bytes(pd), false)
            .ok()
            .map(|f| DirAt::Fd(std::sync::Arc::new(f)));
    }
    let p = super::partial_path(pd, &job.dest);
    let parent = parent_of(&p).to_path_buf();
    let _ = rustix::fs::mkdir(&parent, mode);
    Some(DirAt::Path(parent))
}

async fn discard(sink: Sink, job: &CopyJob, cfg: &Config, keep_partial: bool) {
    let mut keep = keep_partial && cfg.partial;
    // With --partial-dir the partial file goes there, not over the target.
    let keep_name = base_of(&job.dest);
    let keep_dir = match (&cfg.partial_dir, keep) {
        (Some(d), true) => match partial_dir_of(d, job) {
            Some(at) => at,
            None => {
                keep = false;
                dest_dir(job)
            }
        },
        _ => dest_dir(job),
    };
    let Sink { file, kind } = sink;
    match kind {
        SinkKind::InPlace => {
            let _ = file.close().await;
        }
        SinkKind::Named { dir, name, .. } => {
            let _ = file.close().await;
            if keep {
                let _ = rename_in(&dir, &name, &keep_dir, &keep_name).await;
            } else {
                let _ = unlink_in(&dir, &name).await;
            }
        }
        SinkKind::Unnamed => {
            if keep {
                let _ = link_unnamed(&file, &keep_dir, &keep_name);
            }
            // Closing an unnamed file frees it.
            let _ = file.close().await;
        }
    }
}

/// Copies one file; returns the outcome and the lane's buffer for reuse.
async fn copy_one(job: &CopyJob, cfg: &Config, mut buf: Vec<u8>) -> (Outcome, Vec<u8>) {
    if cfg.abort.load(Ordering::Relaxed) {
        return (Outcome::Interrupted, buf);
    }

    // --open-noatime, as rsync: no fallback without it (O_NOATIME is
    // refused with EPERM on other users' files, and rsync reports that).
    let noatime = if cfg.open_noatime { libc::O_NOATIME } else { 0 };
    let src = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | noatime)
        .open(&job.src)
        .await
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (
                Outcome::Vanished(format!("file has vanished: \"{}\"", shown(&job.src))),
                buf,
            );
        }
        Err(e) => {
            return (
                Outcome::SenderFailed(format!(
                    "[sender] send_files failed to open \"{}\": {}",
                    shown(&job.src),
                    errno_of(&e)
                )),
                buf,
            );
        }
    };
    let sink = match open_sink(job, cfg).await {
        Ok(s) => s,
        Err(o) => {
            let _ = src.close().await;
            return (o, buf);
        }
    };

    let inplace = matches!(sink.kind, SinkKind::InPlace);
    // What an --inplace target held before: its type (--write-devices
    // writes into devices, which cannot be truncated or punched) and size.
    let before = if inplace {
        rustix::fs::fstat(sink.file.as_fd()).ok().map(Stat::from)
    } else {
        None
    };
    let target_is_file = before.is_none_or(|st| st.kind() == sys::Kind::File);
    let old_size = before.map_or(0, |st| st.size);
    // rsync's receive_data prologue: preallocate when asked (an in-place
    // file only if it grows), else start an in-place -S copy from an
    // empty file so that its holes need no punching.
    let mut holes = Holes::default();
    let mut stale_below = 0;
    let mut prealloc_len = 0;
    if cfg.preallocate && job.size > 0 && (!inplace || job.size > old_size) {
        prealloc_len = sparse::preallocate(sink.file.as_fd(), job.size, cfg.sparse);
        holes.punch_below = prealloc_len;
        stale_below = old_size;
    } else if inplace {
        if cfg.sparse && target_is_file && rustix::fs::ftruncate(sink.file.as_fd(), 0).is_ok() {
            holes.punch_below = 0;
        } else {
            holes.punch_below = old_size;
            stale_below = old_size;
        }
    }

    let method = method_for(cfg.choice, job.size);
    let copied = if cfg.sparse {
        copy_sparse(
            method, &src, &sink.file, job.size, cfg, &mut buf, &mut holes,
        )
        .await
        .and_then(|end| {
            // rsync's sparse_end: a trailing hole is made by setting the
            // length. Old bytes of an in-place target under it go too
            // (rsync leaves them when it preallocated; arsync does not).
            if end > holes.written_end && target_is_file {
                let stale_end = end.min(stale_below);
                if stale_end > holes.written_end {
                    sparse::punch(
                        sink.file.as_fd(),
                        holes.written_end,
                        stale_end - holes.written_end,
                    )
                    .map_err(DataError::Write)?;
                }
                rustix::fs::ftruncate(sink.file.as_fd(), end)
                    .map_err(|e| DataError::Write(e.into()))?;
            }
            Ok(end)
        })
    } else {
        copy_data(method, &src, &sink.file, job.size, cfg, &mut buf).await
    };
    let _ = src.close().await;
    let pos = match copied {
        Ok(n) => n,
        Err(err) => {
            let outcome = match err {
                DataError::Interrupted => Outcome::Interrupted,
                DataError::Read(e) => Outcome::SenderFailed(format!(
                    "[sender] read errors mapping \"{}\": {}",
                    shown(&job.src),
                    errno_of(&e)
                )),
                DataError::Write(e) => Outcome::Fatal(format!(
                    "[receiver] write failed on \"{}\": {}",
                    sink.shown_name(job),
                    errno_of(&e)
                )),
            };
            let keep = matches!(outcome, Outcome::Interrupted);
            discard(sink, job, cfg, keep).await;
            return (outcome, buf);
        }
    };

    // --inplace: a shorter source leaves old bytes past the new end;
    // --preallocate may have reserved a byte past it (rsync's ftruncate
    // after receive_data). Devices have no length to set.
    if (inplace || prealloc_len > pos)
        && target_is_file
        && let Err(e) = rustix::fs::ftruncate(sink.file.as_fd(), pos)
    {
        let _ = sink.file.close().await;
        return (
            Outcome::Failed(format!(
                "[receiver] ftruncate \"{}\" failed: {}",
                shown(&job.dest),
                sys::errno_text(e)
            )),
            buf,
        );
    }

    // A temp file we just created is in a known state (our mode under the
    // umask, our ids, "now" as mtime), so spare the fstat. An --inplace
    // target is an existing file and is looked at, and so is a new file
    // that may have inherited a default ACL.
    let fresh_file =
        !matches!(sink.kind, SinkKind::InPlace) && !job.extra.as_ref().is_some_and(|x| x.stat_new);
    let known = fresh_file.then(|| Stat {
        mode: libc::S_IFREG | (create_mode(job) & !cfg.umask),
        uid: job.new_ids.0,
        gid: job.new_ids.1,
        size: pos,
        mtime: i64::MIN,
        atime: i64::MIN,
        nlink: 1,
        ..Stat::default()
    });
    let current = match known
        .map(Ok)
        .unwrap_or_else(|| rustix::fs::fstat(sink.file.as_fd()).map(Stat::from))
    {
        Ok(st) => st,
        Err(e) => {
            let target = sink.shown_name(job);
            discard(sink, job, cfg, false).await;
            return (
                Outcome::Failed(format!(
                    "[receiver] stat \"{target}\" failed: {}",
                    sys::errno_text(e)
                )),
                buf,
            );
        }
    };
    let mut policy = job.policy;
    policy.accurate_time = true;
    let applied = meta::apply_full(
        Target::Fd(sink.file.as_fd()),
        &current,
        &job.want,
        &policy,
        job.extra.as_deref(),
    );
    // rsync names the temp file in these messages. A failed chown,
    // utime or chmod stops the attributes there, but the file is still
    // put in place, with the owner-only mode rsync creates its temp files
    // with (nothing after the failure was applied).
    let shown_tmp = || format!("\"{}\"", sink.shown_name(job));
    let (soft, failed) = match applied {
        Ok((_, soft)) => (soft, None),
        Err(e) => {
            if !matches!(sink.kind, SinkKind::InPlace) {
                let initial = (job.want.mode & 0o700) | 0o200;
                let _ =
                    rustix::fs::fchmod(sink.file.as_fd(), rustix::fs::Mode::from_raw_mode(initial));
            }
            (
                Vec::new(),
                Some(format!("[receiver] {}", e.message(&shown_tmp()))),
            )
        }
    };
    let soft: Vec<String> = soft
        .iter()
        .map(|e| format!("[receiver] {}", e.message(&shown_tmp())))
        .collect();
    if let Some(to) = &job.backup_to
        && !matches!(sink.kind, SinkKind::InPlace)
        && let Err(lines) = keep_backup(&job.dest, &dest_dir(job), &base_of(&job.dest), to)
    {
        discard(sink, job, cfg, false).await;
        return (Outcome::BackupFailed(lines), buf);
    }
    let Sink { file, kind } = sink;
    // Messages name the temp file; only build that name on failure.
    let placed = match kind {
        SinkKind::InPlace => Ok(()),
        SinkKind::Unnamed => {
            let r = link_unnamed(&file, &dest_dir(job), &base_of(&job.dest));
            let _ = file.close().await;
            r.map_err(|e| {
                let shown = shown(&temp_name(parent_of(&job.dest), &base_of(&job.dest)));
                (shown, e)
            })
        }
        SinkKind::Named {
            dir,
            name,
            shown: tmp,
        } => {
            let _ = file.close().await;
            match rename_in(&dir, &name, &dest_dir(job), &base_of(&job.dest)).await {
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = unlink_in(&dir, &name).await;
                    Err((shown(&tmp), e))
                }
            }
        }
    };
    if let Err((shown_tmp, e)) = placed {
        let name = sys::escape_name(&base_of(&job.dest), sys::locale_is_utf8());
        return (
            Outcome::Failed(format!(
                "[receiver] rename \"{shown_tmp}\" -> \"{name}\": {}",
                errno_of(&e)
            )),
            buf,
        );
    }
    match failed {
        Some(msg) => (Outcome::Failed(msg), buf),
        None if soft.is_empty() => (Outcome::Copied(pos), buf),
        None => (Outcome::CopiedWithErrors(pos, soft), buf),
    }
}
