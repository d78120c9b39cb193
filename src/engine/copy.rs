//! One file copied, start to end: open the source and the [`Sink`], lay
//! out the destination's space (`--preallocate`, `--inplace`, `-S`), move
//! the bytes along the run's [`datapath`], set the attributes, then commit
//! (or discard). Each step is its own function; this one only orders them
//! and decides what a failure leaves behind.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::Ordering;

use compio::fs::File;

use super::datapath::{self, DataError, Io};
use super::error::CopyError;
use super::sink::{self, Place, Sink, shown};
use super::sparse::{self, Holes};
use super::{Config, CopyJob, Outcome};
use crate::meta::{self, Target};
use crate::sys::copy as kernel;
use crate::sys::{Kind, Stat};

/// Copies one file; `buf` is the lane's reusable buffer.
pub(super) async fn copy_one(job: &CopyJob, cfg: &Config, buf: &mut Vec<u8>) -> Outcome {
    match copy_file(job, cfg, buf).await {
        Ok(outcome) => outcome,
        Err(e) => e.into(),
    }
}

async fn copy_file(job: &CopyJob, cfg: &Config, buf: &mut Vec<u8>) -> Result<Outcome, CopyError> {
    if cfg.abort.load(Ordering::Relaxed) {
        return Err(CopyError::Interrupted);
    }
    let _busy = cfg.pace.busy();
    let src = open_source(job, cfg).await?;
    let place = Place::of(job);
    let backup = job.backup.as_deref();
    let mut sink = match Sink::open(&place, job.fresh, create_mode(job), backup, cfg).await {
        Ok(s) => s,
        Err(e) => {
            let _ = src.close().await;
            return Err(e);
        }
    };
    let mut written = write_content(&src, &sink, &place, job, cfg, buf, job.append_from).await;
    let mut resent = None;
    if matches!(written, Ok(len) if len < job.size) {
        // The source ended early: rsync's sender says so, and its second
        // pass sends the file again whole, at the size it has then (it
        // shrank while being copied). Short of that too (a `/sys` file
        // that lies about its size), the update is discarded.
        let short = CopyError::ShortRead {
            src: shown(&job.src),
        };
        let now = kernel::stat_fd(src.as_fd()).map_or(job.size, |s| s.size.min(job.size));
        // What the first pass wrote beyond the new end must not stay.
        if let Some(c) = &job.live {
            c.store(0, std::sync::atomic::Ordering::Relaxed);
        }
        written = match kernel::set_len(sink.file().as_fd(), 0) {
            Ok(()) => write_content(&src, &sink, &place, job, cfg, buf, 0).await,
            Err(err) => Err(CopyError::Truncate {
                dest: shown(&place.dest),
                err,
            }),
        };
        match written {
            Ok(len) if len < now => written = Err(short),
            Ok(_) => resent = Some(short.to_string()),
            Err(_) => {}
        }
    }
    let mut redone = false;
    if let Ok(len) = written
        && job.verify
        && job.append_from > 0
        && !kernel::same_content(src.as_fd(), sink.file().as_fd(), len).unwrap_or(false)
    {
        // --append-verify: the kept bytes were not the source's; send the
        // whole file again, as rsync's second pass does.
        redone = true;
        written = write_content(&src, &sink, &place, job, cfg, buf, 0).await;
    }
    let _ = src.close().await;
    sink.give_back_mode();
    let attrs = written
        .and_then(|len| set_attrs(&sink, &place, job, cfg, len))
        .map(|o| match (o, resent) {
            (Outcome::Copied(n), _) if redone => Outcome::Redone(n),
            (Outcome::Copied(n), Some(msg)) => Outcome::Resent(n, msg),
            (o, _) => o,
        })
        .and_then(|attrs| synced(&sink, &place, cfg).map(|()| attrs));
    match attrs {
        Ok(attrs) => {
            sink.commit(&place, backup).await?;
            Ok(attrs)
        }
        Err(e) => {
            sink.discard(&place, cfg, e.keeps_partial()).await;
            Err(e)
        }
    }
}

/// Opens the source; `--open-noatime` as rsync: no fallback without it
/// (O_NOATIME is refused with EPERM on other users' files, and rsync
/// reports that).
async fn open_source(job: &CopyJob, cfg: &Config) -> Result<File, CopyError> {
    kernel::open_source(&job.src, cfg.open_noatime)
        .await
        .map_err(|err| {
            let src = shown(&job.src);
            if err.kind() == io::ErrorKind::NotFound {
                CopyError::Vanished { src }
            } else {
                CopyError::OpenSource { src, err }
            }
        })
}

/// `--fsync`: the data reaches the disk before the file gets its name.
fn synced(sink: &Sink, place: &Place, cfg: &Config) -> Result<(), CopyError> {
    if !cfg.fsync {
        return Ok(());
    }
    crate::sys::fs::sync_data(sink.file().as_fd()).map_err(|err| CopyError::Fsync {
        name: shown(&place.dest),
        err: err.into(),
    })
}

/// Permissions a new file is created with: the wanted ones, plus
/// owner-write so we can fill it (fixed by fchmod afterwards if needed).
fn create_mode(job: &CopyJob) -> u32 {
    (job.want.mode & 0o777) | 0o200
}

/// Moves the content and sets the final length; returns the length.
async fn write_content(
    src: &File,
    sink: &Sink,
    place: &Place,
    job: &CopyJob,
    cfg: &Config,
    buf: &mut Vec<u8>,
    start: u64,
) -> Result<u64, CopyError> {
    let dst = sink.file().as_fd();
    let mut space = Space::prepare(sink, job.size, cfg);
    let mut io = Io {
        src,
        dst: sink.file(),
        chunk: cfg.chunk,
        buf,
        holes: cfg.sparse.then_some(&mut space.holes),
        live: job.live.as_deref(),
        shares_extents: sink::fs_kind(sink.dir(place), sink.file()).shares_extents(),
    };
    let copied = datapath::copy(cfg.choice, &mut io, cfg, start, job.size).await;
    let len = copied
        .and_then(|end| match cfg.sparse {
            true => space.sparse_end(dst, end).map_err(DataError::Write),
            false => Ok(end),
        })
        .map_err(|e| match e {
            DataError::Interrupted => CopyError::Interrupted,
            DataError::Read(err) => CopyError::Read {
                src: shown(&job.src),
                err,
            },
            DataError::Unsupported => CopyError::Read {
                src: shown(&job.src),
                err: io::ErrorKind::Unsupported.into(),
            },
            // rsync names the destination, not the file being written.
            DataError::Write(err) => CopyError::Write {
                name: shown(&place.dest),
                err,
            },
        })?;
    space
        .set_final_len(dst, len)
        .map_err(|err| CopyError::Truncate {
            dest: shown(&place.dest),
            err,
        })?;
    Ok(len)
}

/// The destination's space before and after the bytes move, as rsync's
/// `receive_data` prologue and epilogue lay it out.
struct Space {
    /// Whether the file has a length to set: not a device written under
    /// `--inplace --write-devices` (it cannot be truncated or punched).
    has_len: bool,
    in_place: bool,
    holes: Holes,
    /// Old bytes of an `--inplace` target lie below this offset.
    stale_below: u64,
    /// Bytes `--preallocate` reserved.
    prealloc_len: u64,
}

impl Space {
    /// Preallocates when asked (an in-place file only if it grows), else
    /// starts an in-place `-S` copy from an empty file so that its holes
    /// need no punching.
    fn prepare(sink: &Sink, size: u64, cfg: &Config) -> Space {
        let fd = sink.file().as_fd();
        let in_place = sink.in_place();
        let before = if in_place {
            kernel::stat_fd(fd).ok()
        } else {
            None
        };
        let old_size = before.map_or(0, |st| st.size);
        let mut space = Space {
            has_len: before.is_none_or(|st| st.kind() == Kind::File),
            in_place,
            holes: Holes::default(),
            stale_below: 0,
            prealloc_len: 0,
        };
        if cfg.preallocate && size > 0 && (!in_place || size > old_size) {
            space.prealloc_len = sparse::preallocate(fd, size, cfg.sparse);
            space.holes.punch_below = space.prealloc_len;
            space.stale_below = old_size;
        } else if in_place {
            if cfg.sparse && space.has_len && kernel::set_len(fd, 0).is_ok() {
                space.holes.punch_below = 0;
            } else {
                space.holes.punch_below = old_size;
                space.stale_below = old_size;
            }
        }
        space
    }

    /// rsync's `sparse_end`: a trailing hole is made by setting the
    /// length. Old bytes of an in-place target under it go too (rsync
    /// leaves them when it preallocated; arsync does not).
    fn sparse_end(&self, fd: BorrowedFd<'_>, end: u64) -> io::Result<u64> {
        let written = self.holes.written_end;
        if end > written && self.has_len {
            let stale_end = end.min(self.stale_below);
            if stale_end > written {
                sparse::punch(fd, written, stale_end - written)?;
            }
            kernel::set_len(fd, end)?;
        }
        Ok(end)
    }

    /// `--inplace`: a shorter source leaves old bytes past the new end;
    /// `--preallocate` may have reserved a byte past it (rsync's
    /// ftruncate after `receive_data`).
    fn set_final_len(&self, fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
        if (self.in_place || self.prealloc_len > len) && self.has_len {
            kernel::set_len(fd, len)?;
        }
        Ok(())
    }
}

/// How setting the attributes went. A failed chown, utime or chmod stops
/// the attributes there, but the file is still put in place.
struct Attrs {
    /// rsync's line for the failure that stopped them.
    failed: Option<String>,
    /// Lines for extended attributes that could not be set.
    soft: Vec<String>,
    len: u64,
}

impl From<Attrs> for Outcome {
    fn from(a: Attrs) -> Outcome {
        match a.failed {
            Some(msg) => Outcome::Failed(msg),
            None if a.soft.is_empty() => Outcome::Copied(a.len),
            None => Outcome::CopiedWithErrors(a.len, a.soft),
        }
    }
}

/// Gives the written file its attributes. rsync names the temp file in
/// these messages.
fn set_attrs(
    sink: &Sink,
    place: &Place,
    job: &CopyJob,
    cfg: &Config,
    len: u64,
) -> Result<Outcome, CopyError> {
    let fd = sink.file().as_fd();
    let current = current_stat(sink, job, cfg, len).map_err(|err| CopyError::Stat {
        name: sink.shown_name(place),
        err,
    })?;
    let mut policy = job.policy;
    policy.accurate_time = true;
    let applied = meta::apply_full(
        &Target::Fd(fd),
        &current,
        &job.want,
        &policy,
        job.extra.as_deref(),
    );
    let shown_tmp = || format!("\"{}\"", sink.shown_name(place));
    let attrs = match applied {
        Ok((_, soft)) => Attrs {
            failed: None,
            soft: soft
                .iter()
                .map(|e| format!("[receiver] {}", e.message(&shown_tmp())))
                .collect(),
            len,
        },
        Err(e) => {
            // The new file keeps the owner-only mode rsync creates its
            // temp files with (nothing after the failure was applied).
            if !sink.in_place() {
                let _ = kernel::chmod_fd(fd, (job.want.mode & 0o700) | 0o200);
            }
            Attrs {
                failed: Some(format!("[receiver] {}", e.message(&shown_tmp()))),
                soft: Vec::new(),
                len,
            }
        }
    };
    Ok(attrs.into())
}

/// The written file's status. A file we just created is in a known state
/// (our mode under the umask, our ids, "now" as mtime), so the fstat is
/// spared; an `--inplace` target is an existing file and is looked at,
/// and so is a new file that may have inherited a default ACL.
fn current_stat(sink: &Sink, job: &CopyJob, cfg: &Config, len: u64) -> io::Result<Stat> {
    let stat_new = job.extra.as_ref().is_some_and(|x| x.stat_new);
    if sink.in_place() || stat_new {
        return kernel::stat_fd(sink.file().as_fd());
    }
    Ok(Stat {
        mode: kernel::REGULAR_FILE | (create_mode(job) & !cfg.umask),
        uid: job.new_ids.0,
        gid: job.new_ids.1,
        size: len,
        mtime: i64::MIN,
        atime: i64::MIN,
        nlink: 1,
        ..Stat::default()
    })
}
