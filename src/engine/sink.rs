//! Where a copy's bytes go and how they become the destination.
//!
//! [`Sink::open`] makes the file written to: a `.NAME.XXXXXX` temp file
//! (beside the destination or in `--temp-dir`), an unnamed `O_TMPFILE`
//! inode where nothing exists yet, or the destination itself under
//! `--inplace`. [`Sink::commit`] puts a complete file in place — only if
//! closing it reported no error, and after the before-commit hook (`-b`)
//! kept the old version. [`Sink::discard`] removes an incomplete one, or
//! keeps it where `--partial`/`--partial-dir` ask.

use std::io;
use std::os::fd::AsFd;
use std::path::{Component, Path, PathBuf};

use compio::fs::File;

use super::error::CopyError;
use super::{BeforeCommit, Config, CopyJob, TempRefusal, temp_dir_name, temp_name};
use crate::sys::copy::{self as kernel, Create, FsKind};
use crate::sys::{self, DirAt};

/// The destination of one job: its path (for messages) and its name in
/// its directory's handle (for every call that touches it).
#[derive(Clone, Debug)]
pub(super) struct Place {
    pub dest: PathBuf,
    pub dir: DirAt,
    pub base: Vec<u8>,
}

impl Place {
    pub(super) fn of(job: &CopyJob) -> Place {
        let dir = match &job.dir {
            Some(d) => d.clone(),
            None => DirAt::Path(parent_of(&job.dest).to_path_buf()),
        };
        let base = job
            .dest
            .file_name()
            .map(|n| sys::bytes(Path::new(n)).to_vec())
            .unwrap_or_default();
        Place {
            dest: job.dest.clone(),
            dir,
            base,
        }
    }

    /// The temp name rsync would show for this destination.
    fn shown_temp(&self) -> String {
        shown(&temp_name(parent_of(&self.dest), &self.base))
    }
}

/// A path as rsync's messages show it (absolute, escaped).
pub(super) fn shown(p: &Path) -> String {
    sys::escape_name(sys::bytes(&sys::absolute(p)), sys::locale_is_utf8())
}

fn parent_of(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A temp name for `base`, without a directory.
fn temp_base(base: &[u8]) -> Vec<u8> {
    sys::bytes(&temp_name(Path::new(""), base)).to_vec()
}

/// How the file being written becomes the destination.
#[derive(Debug)]
enum Kind {
    /// `--inplace`: writing the destination itself; `restore`: the mode
    /// to give back to a read-only file made writable for the write.
    InPlace { restore: Option<u32> },
    /// A named temp file `name` in `dir` (`shown` for messages), renamed
    /// over the destination.
    Named {
        dir: DirAt,
        name: Vec<u8>,
        shown: PathBuf,
    },
    /// An unnamed `O_TMPFILE` inode, given its name only when complete: a
    /// crash leaves nothing behind. `fresh` (nothing at the destination):
    /// linked in under the final name, one directory entry instead of two
    /// plus a rename; otherwise linked under a temp name and at once
    /// renamed over the old file, so the temp name lives for two calls.
    Unnamed { fresh: bool },
}

/// The file being written, and how it becomes the destination.
#[derive(Debug)]
pub(super) struct Sink {
    file: File,
    kind: Kind,
}

/// Attempts at a free temp name before giving up.
const TEMP_TRIES: usize = 100;

impl Sink {
    /// Opens the file to write for `place`: a new file gets `mode`.
    /// `fresh`: nothing exists at the destination (an unnamed file may be
    /// used). Under `--inplace`, `backup` first keeps a copy of the old
    /// file.
    pub(super) async fn open(
        place: &Place,
        fresh: bool,
        mode: u32,
        backup: Option<&dyn BeforeCommit>,
        cfg: &Config,
    ) -> Result<Sink, CopyError> {
        if cfg.inplace {
            return Sink::open_in_place(place, mode, backup).await;
        }
        if cfg.temp_dir.is_none() && !backup.is_some_and(|b| b.named_temp()) {
            match kernel::open_at(&place.dir, b".", Create::Unnamed, mode).await {
                Ok(file) => {
                    let kind = Kind::Unnamed { fresh };
                    return Ok(Sink { file, kind });
                }
                // Filesystems without O_TMPFILE: a named temp file.
                Err(e) if kernel::tmpfile_unsupported(&e) => {}
                Err(err) => {
                    let tmp = place.shown_temp();
                    return Err(CopyError::Mkstemp { tmp, err });
                }
            }
        }
        Sink::open_named(place, mode, cfg).await
    }

    async fn open_in_place(
        place: &Place,
        mode: u32,
        backup: Option<&dyn BeforeCommit>,
    ) -> Result<Sink, CopyError> {
        // The old content must be saved before it is overwritten.
        if let Some(hook) = backup
            && place.dir.lstat(&place.base).is_ok()
        {
            hook.keep_copy(&place.dir, &place.base)
                .map_err(CopyError::BackupCopy)?;
        }
        let open = || kernel::open_at(&place.dir, &place.base, Create::InPlace, mode);
        let failed = |err| CopyError::OpenDest {
            dest: shown(&place.dest),
            err,
        };
        match open().await {
            Ok(file) => Ok(Sink {
                file,
                kind: Kind::InPlace { restore: None },
            }),
            // A normal user's read-only file: rsync makes it writable for
            // the write and gives its mode back afterwards.
            Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
                let Ok(Some(old)) = place.dir.add_user_write(&place.base) else {
                    return Err(failed(err));
                };
                match open().await {
                    Ok(file) => Ok(Sink {
                        file,
                        kind: Kind::InPlace { restore: Some(old) },
                    }),
                    Err(err) => {
                        let _ = place.dir.chmod(&place.base, old);
                        Err(failed(err))
                    }
                }
            }
            Err(err) => Err(failed(err)),
        }
    }

    async fn open_named(place: &Place, mode: u32, cfg: &Config) -> Result<Sink, CopyError> {
        if let (Some(d), Some(why)) = (&cfg.temp_dir, cfg.temp_refusal) {
            let mut name = place.base.clone();
            name.extend_from_slice(b".XXXXXX");
            let tmp = shown(&d.join(sys::path_from(&name)));
            return Err(match why {
                // rsync's `mkstemp` of NAME.XXXXXX there fails with EINVAL.
                TempRefusal::Climbs => CopyError::Mkstemp {
                    tmp,
                    err: io::Error::from_raw_os_error(sys::Errno::INVAL.raw_os_error()),
                },
                TempRefusal::Untrusted => CopyError::MkstempRefused { tmp },
                TempRefusal::Confined => CopyError::TempConfined { tmp },
            });
        }
        let (dir, shown_dir) = match &cfg.temp_dir {
            Some(d) => (DirAt::Path(d.clone()), d.clone()),
            None => (place.dir.clone(), parent_of(&place.dest).to_path_buf()),
        };
        let mut last = None;
        for _ in 0..TEMP_TRIES {
            let name = match &cfg.temp_dir {
                Some(_) => temp_dir_name(&place.base),
                None => temp_base(&place.base),
            };
            let tmp = shown_dir.join(sys::path_from(&name));
            match kernel::open_at(&dir, &name, Create::Exclusive, mode).await {
                Ok(file) => {
                    // Locked while it lives: a later run's clean-up of
                    // stale temp files sees it is in use.
                    let _ = kernel::lock(file.as_fd());
                    let (dir, shown) = (dir, tmp);
                    let kind = Kind::Named { dir, name, shown };
                    return Ok(Sink { file, kind });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some((tmp, e)),
                Err(err) => {
                    let tmp = shown(&tmp);
                    return Err(CopyError::Mkstemp { tmp, err });
                }
            }
        }
        let (tmp, err) = last.unwrap_or_else(|| (shown_dir, io::Error::other("no name")));
        let tmp = shown(&tmp);
        Err(CopyError::Mkstemp { tmp, err })
    }

    /// The file being written.
    pub(super) fn file(&self) -> &File {
        &self.file
    }

    /// Gives a file made writable for `--inplace` its old mode back, once
    /// the content is written and before the attributes are set (so
    /// that `-p` still sets the source's, as in rsync).
    pub(super) fn give_back_mode(&mut self) {
        if let Kind::InPlace {
            restore: Some(mode),
        } = self.kind
        {
            let _ = kernel::chmod_fd(self.file.as_fd(), mode);
        }
    }

    /// The directory the file being written is in (a `--temp-dir` one
    /// for a named temp file there).
    pub(super) fn dir<'a>(&'a self, place: &'a Place) -> &'a DirAt {
        match &self.kind {
            Kind::Named { dir, .. } => dir,
            _ => &place.dir,
        }
    }

    /// Whether this is the destination itself (`--inplace`).
    pub(super) fn in_place(&self) -> bool {
        matches!(self.kind, Kind::InPlace { .. })
    }

    /// The name rsync's messages give the file being written: the temp
    /// name it would have used (the destination under `--inplace`).
    pub(super) fn shown_name(&self, place: &Place) -> String {
        match &self.kind {
            Kind::InPlace { .. } => shown(&place.dest),
            Kind::Named { shown: t, .. } => shown(t),
            Kind::Unnamed { .. } => place.shown_temp(),
        }
    }

    /// Puts the complete file in place: closes it (a close that reports
    /// an error leaves the destination as it was and the file is
    /// removed), lets `backup` keep the old version, then renames (or
    /// links) it over the destination.
    pub(super) async fn commit(
        self,
        place: &Place,
        backup: Option<&dyn BeforeCommit>,
    ) -> Result<(), CopyError> {
        let Sink { file, kind } = self;
        match kind {
            Kind::InPlace { .. } => close_checked(file).await.map_err(|err| CopyError::Close {
                name: shown(&place.dest),
                err,
            }),
            Kind::Named {
                dir,
                name,
                shown: tmp,
            } => {
                let tmp = shown(&tmp);
                let placed = match close_checked(file).await {
                    Err(err) => Err(CopyError::Close { name: tmp, err }),
                    Ok(()) => match keep_old(place, backup) {
                        Ok(()) => rename_or_copy(&dir, &name, place)
                            .await
                            .map_err(|err| rename_failed(tmp, place, err)),
                        Err(e) => Err(e),
                    },
                };
                if placed.is_err() {
                    let _ = kernel::unlink_at(&dir, &name).await;
                }
                placed
            }
            Kind::Unnamed { fresh } => commit_unnamed(file, fresh, place, backup).await,
        }
    }

    /// Closes an incomplete file and removes it, or (`keep_partial`, with
    /// `--partial`) keeps it under the destination's name or in
    /// `--partial-dir`.
    pub(super) async fn discard(self, place: &Place, cfg: &Config, keep_partial: bool) {
        let mut keep = keep_partial && cfg.partial;
        // With --partial-dir the partial file goes there, not over the target.
        let keep_dir = match (&cfg.partial_dir, keep) {
            (Some(d), true) => partial_dir_of(d, place).unwrap_or_else(|| {
                keep = false;
                place.dir.clone()
            }),
            _ => place.dir.clone(),
        };
        let Sink { file, kind } = self;
        match kind {
            Kind::InPlace { .. } => {
                let _ = file.close().await;
            }
            Kind::Named { dir, name, .. } => {
                let _ = file.close().await;
                if keep {
                    let _ = kernel::rename_at(&dir, &name, &keep_dir, &place.base).await;
                } else {
                    let _ = kernel::unlink_at(&dir, &name).await;
                }
            }
            Kind::Unnamed { fresh } => {
                if keep {
                    let _ = link_unnamed(&file, fresh, &keep_dir, &place.base);
                }
                // Closing an unnamed file frees it.
                let _ = file.close().await;
            }
        }
    }
}

/// `-b`: the hook keeps the version about to be replaced.
fn keep_old(place: &Place, backup: Option<&dyn BeforeCommit>) -> Result<(), CopyError> {
    match backup {
        Some(hook) => hook
            .keep_replaced(&place.dest, &place.dir, &place.base)
            .map_err(CopyError::Backup),
        None => Ok(()),
    }
}

/// Renames the finished temp file over the destination. A `--temp-dir`
/// on another file system cannot be renamed from (EXDEV): rsync then
/// copies the file over the final name; arsync copies it (with its mode,
/// owner and mtime) to a temp name beside the destination and renames
/// that, so the final name never holds a partial file.
async fn rename_or_copy(dir: &DirAt, name: &[u8], place: &Place) -> io::Result<()> {
    let renamed = kernel::rename_at(dir, name, &place.dir, &place.base).await;
    match renamed {
        Err(e) if sys::Errno::from_io_error(&e) == Some(sys::Errno::XDEV) => {
            let near = temp_name(Path::new(""), &place.base);
            let near = sys::bytes(&near).to_vec();
            let copied = sys::copy_file(dir, name, &place.dir, &near, sys::KeepAttrs::ALL)
                .and_then(|()| kernel::rename_now(&place.dir, &near, &place.base));
            if copied.is_err() {
                let _ = kernel::unlink_now(&place.dir, &near);
            } else {
                let _ = kernel::unlink_now(dir, name);
            }
            copied
        }
        r => r,
    }
}

fn rename_failed(tmp: String, place: &Place, err: io::Error) -> CopyError {
    let name = sys::escape_name(&place.base, sys::locale_is_utf8());
    CopyError::Rename { tmp, name, err }
}

/// An unnamed file: its pending writes are flushed through a duplicate
/// (checked as a close would be) while it stays open, since closing it
/// would free it; then it is linked in and closed.
async fn commit_unnamed(
    file: File,
    fresh: bool,
    place: &Place,
    backup: Option<&dyn BeforeCommit>,
) -> Result<(), CopyError> {
    let checked = flush_if_close_can_fail(&file, place).map_err(|err| CopyError::Close {
        name: place.shown_temp(),
        err,
    });
    let placed = checked
        .and_then(|()| keep_old(place, backup))
        .and_then(|()| {
            link_unnamed(&file, fresh, &place.dir, &place.base)
                .map_err(|err| rename_failed(place.shown_temp(), place, err))
        });
    let closed = close_checked(file).await;
    placed?;
    closed.map_err(|err| {
        // Nothing was there before: leave nothing rather than a file whose
        // close failed. (An update's old version is gone by now; the new
        // one, flushed without error, stays.)
        if fresh {
            let _ = kernel::unlink_now(&place.dir, &place.base);
        }
        CopyError::Close {
            name: place.shown_temp(),
            err,
        }
    })
}

/// Gives an unnamed temp file its final name, `base` in `dir`: directly
/// when `fresh`, unless something appeared there meanwhile; otherwise
/// under a temp name that is at once renamed over the old file.
fn link_unnamed(file: &File, fresh: bool, dir: &DirAt, base: &[u8]) -> io::Result<()> {
    if fresh {
        match kernel::link_fd(file.as_fd(), dir, base) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            other => return other,
        }
    }
    let tmp = link_under_temp_name(file, dir, base)?;
    kernel::rename_now(dir, &tmp, base).inspect_err(|_| {
        let _ = kernel::unlink_now(dir, &tmp);
    })
}

/// Links the unnamed file under a free temp name beside `base`.
fn link_under_temp_name(file: &File, dir: &DirAt, base: &[u8]) -> io::Result<Vec<u8>> {
    let mut last = io::Error::other("no free temp name");
    for _ in 0..TEMP_TRIES {
        let tmp = temp_base(base);
        match kernel::link_fd(file.as_fd(), dir, &tmp) {
            Ok(()) => return Ok(tmp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// `--partial-dir`: the directory an interrupted file is kept in, made if
/// missing. A relative one is opened below the destination directory's
/// handle; an absolute one (or one climbing out with `..`) by path.
/// `None`: it could not be opened safely (the file is not kept).
fn partial_dir_of(pd: &Path, place: &Place) -> Option<DirAt> {
    let climbs = pd.components().any(|c| c == Component::ParentDir);
    if let (false, false, DirAt::Fd(fd)) = (pd.is_absolute(), climbs, &place.dir) {
        let _ = kernel::make_dir_at(&place.dir, pd, 0o700);
        return sys::open_beneath(fd.as_fd(), sys::bytes(pd), false)
            .ok()
            .map(|f| DirAt::Fd(std::sync::Arc::new(f)));
    }
    let p = super::partial_path(pd, &place.dest);
    let parent = parent_of(&p).to_path_buf();
    let _ = kernel::make_dir(&parent, 0o700);
    Some(DirAt::Path(parent))
}

/// Closes `file`, with what closing reported.
async fn close_checked(file: File) -> io::Result<()> {
    fault::or(kernel::close(file).await)
}

/// Reports what a close would, keeping `file` open — where a close can
/// report anything: on ext4, XFS, btrfs and tmpfs it cannot (no `flush`
/// file operation), and the `fcntl(F_DUPFD)` + `close` pair is spared.
fn flush_if_close_can_fail(file: &File, place: &Place) -> io::Result<()> {
    if fs_kind(&place.dir, file).close_can_fail() {
        fault::or(kernel::flush(file))
    } else {
        fault::or(Ok(()))
    }
}

thread_local! {
    /// The destination directory this thread asked about last, and its
    /// file system's kind. Held (not just its address) so that the answer
    /// cannot go to another directory.
    static LAST_DIR: std::cell::RefCell<Option<(std::sync::Arc<std::os::fd::OwnedFd>, FsKind)>> =
        const { std::cell::RefCell::new(None) };
}

/// The kind of file system `file` (made in `dir`) is on: asked of the
/// kernel (`fstatfs`) once per directory in a row, as files come mostly
/// directory by directory.
pub(super) fn fs_kind(dir: &DirAt, file: &File) -> FsKind {
    let DirAt::Fd(fd) = dir else {
        return kernel::fs_kind(file.as_fd());
    };
    LAST_DIR.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((d, kind)) = &*last
            && std::sync::Arc::ptr_eq(d, fd)
        {
            return *kind;
        }
        let kind = kernel::fs_kind(fd.as_fd());
        *last = Some((std::sync::Arc::clone(fd), kind));
        kind
    })
}

/// Test seam: a close can be made to fail, as a network filesystem's
/// does when writing back fails.
#[cfg(not(test))]
mod fault {
    #[inline]
    pub(super) fn or(r: std::io::Result<()>) -> std::io::Result<()> {
        r
    }
}

#[cfg(test)]
mod fault {
    use std::cell::Cell;

    thread_local! {
        static FAIL: Cell<Option<i32>> = const { Cell::new(None) };
    }

    /// The next close (or flush) on this thread fails with `errno`.
    pub(super) fn fail_next_close(errno: i32) {
        FAIL.with(|f| f.set(Some(errno)));
    }

    pub(super) fn or(r: std::io::Result<()>) -> std::io::Result<()> {
        match FAIL.with(|f| f.take()) {
            Some(errno) => Err(std::io::Error::from_raw_os_error(errno)),
            None => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::engine::datapath::write_all_at;

    const EIO: i32 = 5;

    fn config() -> Config {
        Config::for_tests()
    }

    /// A destination `f` in a fresh directory (reached by its handle),
    /// holding `old` unless `None`.
    fn place(old: Option<&[u8]>) -> (tempfile::TempDir, Place) {
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("f");
        if let Some(old) = old {
            std::fs::write(&dest, old).unwrap();
        }
        let dir = sys::open_root(tmp.path()).unwrap();
        let base = b"f".to_vec();
        (tmp, Place { dest, dir, base })
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Records the calls of the `-b` hook; fails them if asked.
    #[derive(Debug, Default)]
    struct Hook {
        calls: Mutex<Vec<&'static str>>,
        fail: bool,
    }

    impl BeforeCommit for Hook {
        fn keep_replaced(&self, _: &Path, _: &DirAt, _: &[u8]) -> Result<(), Vec<String>> {
            self.calls.lock().unwrap().push("replaced");
            match self.fail {
                true => Err(vec!["keep_backup failed".into()]),
                false => Ok(()),
            }
        }
        fn keep_copy(&self, _: &DirAt, _: &[u8]) -> Result<(), String> {
            self.calls.lock().unwrap().push("copy");
            Ok(())
        }
    }

    /// Opens a sink for `place`, writes `data` and commits it, the close
    /// failing with EIO if `fail_close`.
    fn write_and_commit(
        place: &Place,
        fresh: bool,
        cfg: &Config,
        hook: Option<&dyn BeforeCommit>,
        fail_close: bool,
    ) -> Result<(), CopyError> {
        compio::runtime::Runtime::new().unwrap().block_on(async {
            let sink = Sink::open(place, fresh, 0o644, hook, cfg).await?;
            let (w, _) = write_all_at(sink.file(), b"new content".to_vec(), 0).await;
            w.unwrap();
            if fail_close {
                fault::fail_next_close(EIO);
            }
            sink.commit(place, hook).await
        })
    }

    #[test]
    fn a_failing_close_leaves_the_old_file_in_place() {
        let (tmp, place) = place(Some(b"old"));
        let hook = Hook::default();
        let r = write_and_commit(&place, false, &config(), Some(&hook), true);
        match r {
            Err(CopyError::Close { name, err }) => {
                assert!(name.contains("/.f."), "the temp file is named: {name}");
                assert_eq!(err.raw_os_error(), Some(EIO));
            }
            r => panic!("commit went on after a failed close: {r:?}"),
        }
        assert_eq!(std::fs::read(&place.dest).unwrap(), b"old");
        assert_eq!(names(tmp.path()), ["f"], "the temp file is removed");
        assert!(hook.calls.lock().unwrap().is_empty(), "no backup made");
    }

    #[test]
    fn a_failing_close_of_an_unnamed_file_leaves_nothing() {
        let (tmp, place) = place(None);
        let r = write_and_commit(&place, true, &config(), None, true);
        assert!(matches!(r, Err(CopyError::Close { .. })), "{r:?}");
        assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
    }

    #[test]
    fn a_failing_close_in_place_is_reported() {
        let (_tmp, place) = place(Some(b"old"));
        let cfg = Config {
            inplace: true,
            ..config()
        };
        let r = write_and_commit(&place, false, &cfg, None, true);
        match r {
            Err(CopyError::Close { name, .. }) => assert!(name.ends_with("/f"), "{name}"),
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn commit_keeps_the_old_version_then_replaces_it() {
        for fresh in [false, true] {
            let (tmp, place) = place((!fresh).then_some(b"old".as_slice()));
            let hook = Hook::default();
            write_and_commit(&place, fresh, &config(), Some(&hook), false).unwrap();
            assert_eq!(std::fs::read(&place.dest).unwrap(), b"new content");
            assert_eq!(names(tmp.path()), ["f"]);
            assert_eq!(*hook.calls.lock().unwrap(), ["replaced"]);
        }
    }

    #[test]
    fn a_failed_backup_leaves_the_old_file_and_no_temp() {
        let (tmp, place) = place(Some(b"old"));
        let hook = Hook {
            fail: true,
            ..Hook::default()
        };
        let r = write_and_commit(&place, false, &config(), Some(&hook), false);
        match r {
            Err(e @ CopyError::Backup(_)) => {
                assert_eq!(e.to_string(), "[receiver] keep_backup failed")
            }
            r => panic!("{r:?}"),
        }
        assert_eq!(std::fs::read(&place.dest).unwrap(), b"old");
        assert_eq!(names(tmp.path()), ["f"]);
    }

    #[test]
    fn in_place_backup_is_a_copy_made_before_opening() {
        let (_tmp, place) = place(Some(b"old"));
        let hook = Hook::default();
        let cfg = Config {
            inplace: true,
            ..config()
        };
        write_and_commit(&place, false, &cfg, Some(&hook), false).unwrap();
        assert_eq!(*hook.calls.lock().unwrap(), ["copy"]);
        assert_eq!(std::fs::read(&place.dest).unwrap(), b"new content");
    }

    /// Opens a sink, writes a part, and discards it.
    fn write_and_discard(place: &Place, fresh: bool, cfg: &Config, keep: bool) {
        compio::runtime::Runtime::new().unwrap().block_on(async {
            let sink = Sink::open(place, fresh, 0o644, None, cfg).await.unwrap();
            let (w, _) = write_all_at(sink.file(), b"part".to_vec(), 0).await;
            w.unwrap();
            sink.discard(place, cfg, keep).await;
        })
    }

    #[test]
    fn discard_removes_or_keeps_the_partial_file() {
        for fresh in [false, true] {
            // Not interrupted: removed, even with --partial.
            let (tmp, place) = place((!fresh).then_some(b"old".as_slice()));
            let partial = Config {
                partial: true,
                ..config()
            };
            write_and_discard(&place, fresh, &partial, false);
            let left: &[&str] = if fresh { &[] } else { &["f"] };
            assert_eq!(names(tmp.path()), left);
            // Interrupted without --partial: removed.
            write_and_discard(&place, fresh, &config(), true);
            assert_eq!(names(tmp.path()), left);
            // Interrupted with --partial: kept under the final name.
            write_and_discard(&place, fresh, &partial, true);
            assert_eq!(std::fs::read(&place.dest).unwrap(), b"part");
            assert_eq!(names(tmp.path()), ["f"]);
        }
    }

    #[test]
    fn discard_keeps_the_partial_file_in_partial_dir() {
        let (tmp, place) = place(Some(b"old"));
        let cfg = Config {
            partial: true,
            partial_dir: Some(PathBuf::from(".partial")),
            ..config()
        };
        write_and_discard(&place, false, &cfg, true);
        assert_eq!(std::fs::read(&place.dest).unwrap(), b"old");
        let kept = tmp.path().join(".partial/f");
        assert_eq!(std::fs::read(kept).unwrap(), b"part");
    }
}
