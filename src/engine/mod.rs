//! The data path: moving file content from source to destination.
//!
//! The rest of arsync sees one narrow interface, [`Engine`]: submit a
//! [`CopyJob`], collect [`Done`] results in any order. How bytes move (and
//! how many files are in flight) is the engine's business, so strategies
//! can be added without touching the walk, the plan or the report.
//!
//! Every job is crash-safe: content goes to a temporary `.NAME.XXXXXX`
//! beside the destination (or in `--temp-dir`), gets its attributes, and
//! is renamed over the final name only when complete — and only when
//! closing it reported no error (a network or FUSE file system reports
//! failed write-back there). A hard link to the old file therefore keeps
//! the old content (`cp -al` snapshots rely on it), and a crash never
//! leaves a truncated file under the final name. `--inplace` is the
//! documented exception.
//!
//! Inside: `uring` runs the threads and lanes, `copy` copies one file
//! (in the order: open `sink`, move the bytes along a `datapath`, set the
//! attributes, commit or discard), `sparse` lays out holes, `error` words
//! failures as rsync does.

mod copy;
mod datapath;
mod error;
pub(crate) mod pace;
mod pipeline;
mod sink;
mod sparse;
mod uring;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

use crate::meta::{ItemAttrs, Policy, Wanted};
use crate::options::{EngineChoice, Options};
use crate::sys::DirAt;

pub(crate) use crate::tempname::{temp_dir_name, temp_name};

/// `-b`, as the transfer side provides it: the engine calls it at the
/// last moment, so the old version is kept only when the new one is
/// ready to replace it. Errors are rsync's lines, without the
/// `[receiver] ` role (the engine adds it).
pub(crate) trait BeforeCommit: Send + Sync + std::fmt::Debug {
    /// The current file `base` in `dir` (the destination `dest`) is about
    /// to be replaced by a rename: keep it. A failure leaves it in place
    /// and ends the run.
    fn keep_replaced(&self, dest: &Path, dir: &DirAt, base: &[u8]) -> Result<(), Vec<String>>;
    /// `--inplace`: the current file `base` in `dir` is about to be
    /// overwritten: keep a copy with its modification time and owner.
    fn keep_copy(&self, dir: &DirAt, base: &[u8]) -> Result<(), String>;
    /// The copy is written to a named temp file beside the destination,
    /// never an unnamed one: a backup known to fail (rsync 3.5's
    /// `--confine-root`) leaves the directory as rsync's receiver does,
    /// its temp file made and removed.
    fn named_temp(&self) -> bool {
        false
    }
}

/// Where `--partial-dir` keeps the partial version of `dest`.
pub(crate) fn partial_path(partial_dir: &Path, dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default();
    if partial_dir.is_absolute() {
        partial_dir.join(name)
    } else {
        dest.parent()
            .unwrap_or(Path::new(""))
            .join(partial_dir)
            .join(name)
    }
}

/// One file to copy.
#[derive(Debug, Clone)]
pub(crate) struct CopyJob {
    /// Caller's handle, returned in [`Done`].
    pub token: u64,
    pub src: PathBuf,
    /// Final destination path.
    pub dest: PathBuf,
    /// The handle of `dest`'s directory: the temp file, the final name
    /// and the rename are all made relative to it, so that no symlink
    /// swapped into the destination's path can redirect them (`None`:
    /// by path, e.g. `--delay-updates` staging).
    pub dir: Option<crate::sys::DirAt>,
    /// Size seen when listing; content is copied up to end of file.
    pub size: u64,
    /// Nothing exists at `dest` (the plan saw it missing), so the file can
    /// be built unnamed and linked in.
    pub fresh: bool,
    /// The owner and group a file created at `dest` gets before any
    /// chown (ours, or the directory's group under set-gid).
    pub new_ids: (u32, u32),
    /// `-b`: keeps the current destination just before the new version
    /// replaces it.
    pub backup: Option<Arc<dyn BeforeCommit>>,
    pub want: Wanted,
    pub policy: Policy,
    /// `-X`, `-A`, `--fake-super`: applied to the new file before it is
    /// put in place (`None` without those options).
    pub extra: Option<Box<ItemAttrs>>,
    /// `--append`: the destination's first bytes are kept; only what lies
    /// past them is copied (0: the whole file).
    pub append_from: u64,
    /// `--append-verify`: the whole file is checked against the source
    /// afterwards and sent again whole on a mismatch.
    pub verify: bool,
    /// `--progress`: the bytes of this file written so far, for the
    /// report to show while the copy goes on.
    pub live: Option<Arc<AtomicU64>>,
}

/// How a job went.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Bytes of content written.
    Copied(u64),
    /// `--append-verify`: the appended file did not match the source and
    /// was sent again whole (rsync warns and itemizes it a second time).
    Redone(u64),
    /// Copied, but some extended attributes could not be set (rsync's
    /// messages, text after `NAME: `); the run is partial.
    CopiedWithErrors(u64, Vec<String>),
    /// The source disappeared before it could be opened (rsync: exit 24).
    Vanished(String),
    /// A receiver-side failure reported like rsync (text after `NAME: `);
    /// the run is partial. rsync still lists the file: its data was sent.
    Failed(String),
    /// As `Failed`, after rsync 3.5's refusal line (an operator path that
    /// leads through a symlink of an untrusted user).
    Refused(String),
    /// A sender-side failure (the source could not be read); the file is
    /// not listed.
    SenderFailed(String),
    /// A failure that ends the run (rsync exits 11 on write errors).
    Fatal(String),
    /// `-b`: the old version could not be backed up (rsync's messages);
    /// it stays in place and the run ends (exit 11). The file is listed.
    BackupFailed(Vec<String>),
    /// The source ended before its listed size, also when copied a second
    /// time: rsync's sender line (text after `NAME: `), printed once per
    /// try, then its "failed verification -- update discarded"; the old
    /// destination stays.
    ShortRead(String),
    /// The source ended before its listed size, and a second copy of it
    /// whole, at the size it had by then, was complete: committed (as
    /// rsync's second pass does). rsync's sender line for the first try.
    Resent(u64, String),
    /// Interrupted by a signal; the temp file was removed (or, with
    /// `--partial`, moved into place).
    Interrupted,
    /// `--temp-dir` outside `--confine-root`'s root: rsync 3.5 writes the
    /// temp file there but can neither stat it nor rename it into place
    /// (`ELOOP`), and removes it; its two lines name this temp path. The
    /// run is partial; nothing lands.
    TempConfined(String),
}

/// A finished job.
#[derive(Debug)]
pub(crate) struct Done {
    pub token: u64,
    pub outcome: Outcome,
}

/// Why rsync 3.5 refuses `--temp-dir` file by file: every copy fails
/// (before its temp file exists, or — confined — before it lands).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TempRefusal {
    /// Relative and climbing out with `..` (see
    /// [`Options::temp_dir_climbs`]): `mkstemp` fails with `EINVAL`.
    Climbs,
    /// Through a symlink of an untrusted user (rsync 3.5's ownership
    /// walk, see `sys::trust`): its refusal line, then `ELOOP`.
    Untrusted,
    /// Outside `--confine-root`'s root (see [`Outcome::TempConfined`]).
    Confined,
}

impl TempRefusal {
    /// The verdict on `temp_dir` (as resolved) under `opts`.
    pub(crate) fn of(opts: &Options, temp_dir: Option<&Path>) -> Option<TempRefusal> {
        let temp_dir = temp_dir?;
        if opts.temp_dir_climbs() {
            return Some(TempRefusal::Climbs);
        }
        let untrusted = !opts.insecure_links && crate::sys::trust::follows_untrusted_link(temp_dir);
        if untrusted {
            return Some(TempRefusal::Untrusted);
        }
        let root = opts.confine_root.as_deref();
        let confined = root.is_some_and(|r| crate::sys::trust::escapes_root(temp_dir, r));
        confined.then_some(TempRefusal::Confined)
    }
}

/// Settings shared by all jobs of a run.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub inplace: bool,
    pub partial: bool,
    /// `--partial-dir`: an interrupted file is kept there (relative to its
    /// destination directory unless absolute) instead of under its name.
    pub partial_dir: Option<PathBuf>,
    pub temp_dir: Option<PathBuf>,
    /// Why rsync 3.5 would refuse every temp file in `temp_dir`, if it
    /// would (set by the transfer's setup).
    pub temp_refusal: Option<TempRefusal>,
    /// Threads with their own io_uring ring, at most: `ARSYNC_THREADS`,
    /// else (`None`) two per core, counted only once a second thread is
    /// wanted (see [`Config::threads`]).
    pub threads: Option<usize>,
    /// Files in flight per thread.
    pub lanes: usize,
    /// Largest single read/write.
    pub chunk: usize,
    /// Pieces of one file in flight on the pipelined paths (see
    /// `pipeline`; 1: stepwise).
    pub depth: usize,
    /// `auto`: files up to this size go through the ring (read + write),
    /// larger ones to `copy_file_range`.
    pub small: u64,
    /// Which data path moves the bytes.
    pub choice: EngineChoice,
    /// The process umask (new files' permissions are masked by it).
    pub umask: u32,
    /// `-S`: runs of zeros become holes (see `sparse`).
    pub sparse: bool,
    /// `--preallocate`: fallocate() each file to its size first.
    pub preallocate: bool,
    /// `--open-noatime`: sources are opened with O_NOATIME.
    pub open_noatime: bool,
    /// Set by the signal handler: stop, clean up, report `Interrupted`.
    pub abort: Arc<AtomicBool>,
    /// The terminal progress bar's byte counter: every chunk written is
    /// added to it (`None`: no bar).
    pub progress: Option<Arc<AtomicU64>>,
    /// `--bwlimit`, `--timeout`, `--stop-at`: the run's shared pace.
    pub pace: Arc<pace::Pace>,
    /// `--fsync`: each file is fsynced before it is put in place.
    pub fsync: bool,
}

/// Largest single read or write, and the size of the ring's pool
/// buffers. Measured on the 2-core VM (benchmarks/README.md, "Copy
/// engines, 2026-12-05"): 256 KiB pieces, 8 in flight, copied a warm
/// 1 GiB file fastest of 64 KiB-1 MiB x 1-8.
const CHUNK: usize = 256 << 10;

/// Pieces of one file in flight on the pipelined paths.
const DEPTH: usize = 8;

/// `auto`'s largest file for the ring path (see `datapath::copy`):
/// 4 KiB files copied cold through the ring took 0.82x the time of
/// `copy_file_range`, warm the same; on the cold mixed tree thresholds of
/// 16, 64 and 256 KiB were within the noise (0.90-1.00x), and 256 KiB
/// cost 10-15% more CPU (benchmarks/README.md, 2026-12-05).
const SMALL: u64 = 64 << 10;

impl Config {
    pub(crate) fn new(opts: &Options, abort: Arc<AtomicBool>) -> Config {
        let (threads, lanes) = (opts.threads, opts.lanes.unwrap_or(16));
        Config {
            inplace: opts.inplace,
            partial: opts.partial,
            partial_dir: opts.partial_dir.clone(),
            temp_dir: opts.temp_dir.clone(),
            temp_refusal: None,
            threads,
            lanes,
            chunk: pace::Pace::new(opts.bwlimit).chunk(opts.chunk.unwrap_or(CHUNK)),
            depth: opts.depth.unwrap_or(DEPTH),
            small: SMALL,
            choice: opts.engine,
            umask: crate::sys::umask(),
            sparse: opts.sparse,
            preallocate: opts.preallocate,
            open_noatime: opts.open_noatime,
            abort,
            progress: None,
            pace: Arc::new(pace::Pace::new(opts.bwlimit)),
            fsync: opts.fsync,
        }
    }
}

impl Config {
    /// I/O threads at most: what `ARSYNC_THREADS` said (read with the
    /// options, see `Options::read_env`), else two per core. Lanes per
    /// thread are `ARSYNC_LANES` or 16.
    ///
    /// Two rings per core: a ring thread stalls on the syscalls io_uring
    /// has no op for (copy_file_range, linkat, futimens), and a second
    /// thread per core keeps the core busy meanwhile (measured on 2
    /// cores: 4 threads beat 2 or 3 by 10-30% on 10k small files).
    pub(crate) fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| (crate::sys::cores() * 2).clamp(2, 16))
    }

    /// Defaults for unit tests: one thread, one lane, nothing optional.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Config {
        Config {
            inplace: false,
            partial: false,
            partial_dir: None,
            temp_dir: None,
            temp_refusal: None,
            threads: Some(1),
            lanes: 1,
            chunk: 1 << 20,
            depth: DEPTH,
            small: SMALL,
            choice: EngineChoice::Auto,
            umask: 0o022,
            sparse: false,
            preallocate: false,
            open_noatime: false,
            abort: Arc::new(AtomicBool::new(false)),
            progress: None,
            pace: Arc::new(pace::Pace::new(None)),
            fsync: false,
        }
    }
}

/// A content mover.
pub(crate) trait Engine {
    /// Queues a job; while the engine is saturated, waits, calling `idle`
    /// every [`TICK`] (the report shows live progress from there).
    fn submit(&mut self, job: CopyJob, idle: &mut dyn FnMut());
    /// A finished job if one is ready.
    fn try_done(&mut self) -> Option<Done>;
    /// Waits for the next finished job, calling `idle` every [`TICK`];
    /// `None` when nothing is in flight.
    fn wait_done(&mut self, idle: &mut dyn FnMut()) -> Option<Done>;
}

/// How often a driver waiting on the engine gets control back.
pub(crate) const TICK: std::time::Duration = std::time::Duration::from_millis(100);

/// Starts the engine for this run.
pub(crate) fn start(cfg: Config) -> Box<dyn Engine> {
    Box::new(uring::UringEngine::start(cfg))
}
