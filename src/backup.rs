//! Backups (`-b`, `--backup-dir`, `--suffix`): keeping the old version of a
//! destination entry before it is replaced or deleted.
//!
//! Names follow rsync: `NAME~` next to the file, or `BACKUP_DIR/PATH`
//! (relative to the destination) with missing directories created after
//! their destination counterparts. A file about to be replaced is
//! hard-linked to its backup name first, so the destination never lacks
//! the file; one being deleted is simply renamed.
//!
//! Both sides go through directory handles, never through a path a
//! symlink swapped into the destination could redirect: the entry through
//! its directory's handle (opened beneath the destination root as the
//! transfer opens it), the backup through the handle of its directory —
//! the entry's own for `NAME~`, else one opened beneath the backup dir,
//! whose missing levels are made with `mkdirat` and opened without
//! following symlinks; a non-directory in the way of one (a file, a
//! symlink) is replaced by a directory, and a directory where a backup
//! goes is removed, as rsync does. The backup dir itself is the user's
//! path (relative to DEST or absolute): opened once, by its path,
//! symlinks in it followed as rsync follows them. A backup that cannot be
//! made is reported with rsync's messages and the old version stays.
//! Under `--confine-root` a backup dir that resolves outside the root
//! (once its missing levels would be made) takes no backup at all and
//! nothing is made there: the callers fail as rsync 3.5's processes do
//! (see [`Failure::confined`]).

use std::ffi::OsString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::sys::Errno;

use crate::report::{Event, Report};
use crate::sys::{self, DirAt, Kind, Stat};

/// Where one backup goes: a name in a directory's handle, and its path
/// (for messages), and the path shown for it in rsync's messages.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub shown: PathBuf,
    pub path: PathBuf,
    pub dir: DirAt,
    pub name: Vec<u8>,
    /// `--inplace`: what the backup copy keeps of the old file (rsync
    /// gives it the old mtime with `-t`, owner with `-o`, group with `-g`).
    pub keeps: sys::KeepAttrs,
    /// The backup dir comes out of `--confine-root`'s root: the backup
    /// fails at the last moment, silently (see [`Backup::doomed`]).
    pub confined: bool,
}

/// A backup that could not be made: rsync's messages (without the
/// `[role] ` prefix), and whether rsync ends the run there (a backup-dir
/// level it could not make).
#[derive(Debug)]
pub struct Failure {
    pub lines: Vec<String>,
    pub fatal: bool,
    pub errno: Errno,
    /// The backup name is the entry itself (`--backup-dir` equal to the
    /// destination): nothing can be kept, and unlinking "the old backup"
    /// would delete the entry. rsync then reports it as vanished and
    /// replaces it; `lines` holds that message.
    pub itself: bool,
    /// rsync 3.5's ownership walk refused the backup dir (a symlink of
    /// another user on its way): that many refusal lines come first.
    pub refusals: usize,
    /// The backup dir comes out of `--confine-root`'s root (see
    /// [`Failure::confined`]).
    pub confined: bool,
}

impl From<Failure> for io::Error {
    fn from(f: Failure) -> io::Error {
        f.errno.into()
    }
}

/// Whether entry `a_name` of `a` and entry `b_name` of `b` are one and
/// the same directory entry (same directory, same name).
fn same_entry(a: &DirAt, a_name: &[u8], b: &DirAt, b_name: &[u8]) -> bool {
    if a_name != b_name {
        return false;
    }
    match (a.lstat(b"."), b.lstat(b".")) {
        (Ok(x), Ok(y)) => x.dev == y.dev && x.ino == y.ino,
        _ => false,
    }
}

impl Failure {
    /// The backup name is the entry itself (see [`Failure::itself`]).
    fn itself(path: &Path) -> Failure {
        let shown = sys::escape_name(sys::bytes(&sys::absolute(path)), sys::locale_is_utf8());
        Failure {
            lines: vec![format!("file has vanished: \"{shown}\"")],
            fatal: false,
            errno: Errno::NOENT,
            itself: true,
            refusals: 0,
            confined: false,
        }
    }

    /// The backup dir comes out of `--confine-root`'s root: rsync 3.5
    /// says nothing, and the old version stays. Its callers differ (as
    /// rsync's processes do): a copy's backup ends the run (see
    /// [`Backup::prepare`]), a deletion is reported (`ELOOP`), an item the
    /// generator would have replaced (a symlink, a node, a hard link) or
    /// a `--delay-updates` file is silently left as it is.
    fn confined() -> Failure {
        Failure {
            lines: Vec::new(),
            fatal: false,
            errno: Errno::LOOP,
            itself: false,
            refusals: 0,
            confined: true,
        }
    }

    fn mkdir(shown: &Path, e: Errno) -> Failure {
        Failure {
            lines: vec![format!(
                "backup mkdir {} failed: {}",
                sys::escape_name(sys::bytes(shown), sys::locale_is_utf8()),
                sys::errno_text(e)
            )],
            fatal: true,
            errno: e,
            itself: false,
            refusals: 0,
            confined: false,
        }
    }

    fn io(e: Errno) -> Failure {
        Failure {
            lines: vec![sys::errno_text(e)],
            fatal: false,
            errno: e,
            itself: false,
            refusals: 0,
            confined: false,
        }
    }

    /// Prints the failure as rsync's `role` does: the refusals, then the
    /// lines (`[role] LINE`).
    pub(crate) fn print(&self, report: &mut Report, role: &str) {
        for _ in 0..self.refusals {
            report.error_raw(sys::trust::REFUSAL);
        }
        for l in &self.lines {
            report.error(format!("[{role}] {l}"));
        }
    }

    /// The backup dir leads through a symlink of an untrusted user, as
    /// rsync 3.5 reports it (its opens fail with `ELOOP`): for a file
    /// below a subdirectory, the `lstat` of that `level` of the backup dir
    /// (as shown), fatal; else the link or rename of the backup
    /// itself — fatal for a replaced file (three refusals: rsync's
    /// receiver tries three opens), not for a deleted one (two).
    fn refused(
        level: Option<&Path>,
        from: &Path,
        to: &Path,
        shown_to: &Path,
        replace: bool,
    ) -> Failure {
        let e = Errno::LOOP;
        if let Some(level) = level {
            let shown = sys::escape_name(sys::bytes(level), sys::locale_is_utf8());
            return Failure {
                lines: vec![format!(
                    "backup lstat {shown} failed: {}",
                    sys::errno_text(e)
                )],
                fatal: true,
                errno: e,
                itself: false,
                refusals: 1,
                confined: false,
            };
        }
        let mut f = Failure::keep("unlink", from, to, shown_to, e);
        f.fatal = replace;
        f.refusals = if replace { 3 } else { 2 };
        f
    }

    /// rsync's lines for a backup link/copy that failed: `op` (`unlink`
    /// of an old backup, `open` for the copy) on the backup name.
    pub fn keep(op: &str, from: &Path, to: &Path, shown_to: &Path, e: Errno) -> Failure {
        let esc = |p: &Path| sys::escape_name(sys::bytes(p), sys::locale_is_utf8());
        let err = sys::errno_text(e);
        Failure {
            lines: vec![
                format!("{op} \"{}\": {err}", esc(&sys::absolute(to))),
                format!(
                    "keep_backup failed: \"{}\" -> \"{}\": {err}",
                    esc(&sys::absolute(from)),
                    esc(shown_to)
                ),
            ],
            fatal: false,
            errno: e,
            itself: false,
            refusals: 0,
            confined: false,
        }
    }
}

/// Backup settings resolved against the destination.
#[derive(Clone, Debug)]
pub(crate) struct Backup {
    /// The destination root; backup names are built from paths below it.
    root: PathBuf,
    /// The destination root's handle (its path where it has none).
    root_at: DirAt,
    /// `-K`: symlinks that stay inside DEST are followed on the way to an
    /// entry's directory, as the transfer follows them.
    keep_dirlinks: bool,
    /// `--backup-dir`, relative to `root` unless absolute.
    dir: Option<PathBuf>,
    /// The backup dir's handle, opened (and made) at the first backup.
    dir_at: Arc<OnceLock<DirAt>>,
    /// `--insecure-links`: no ownership walk of the backup dir.
    insecure_links: bool,
    /// The walk's verdict on the backup dir, made at the first backup.
    untrusted: Arc<OnceLock<bool>>,
    /// `--confine-root`: the root the backup dir must resolve inside.
    confine: Option<PathBuf>,
    /// Whether the backup dir (as it will be once made) comes out of the
    /// root: judged at the first backup.
    escapes: Arc<OnceLock<bool>>,
    suffix: Vec<u8>,
    /// What an `--inplace` backup copy keeps of the old file.
    copy_keeps: sys::KeepAttrs,
    dry_run: bool,
}

fn fd_at(fd: OwnedFd) -> DirAt {
    sys::dir_handle(fd)
}

/// `path`'s last component, and the directory part (`.` for none).
fn split(path: &Path) -> (PathBuf, Vec<u8>) {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let base = path
        .file_name()
        .map(|n| sys::bytes(Path::new(n)).to_vec())
        .unwrap_or_else(|| sys::bytes(path).to_vec());
    (dir, base)
}

/// `rel`'s directory part and last component (`""` for the first at top).
fn split_rel(rel: &[u8]) -> (&[u8], &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => (&b""[..], rel),
    }
}

impl Backup {
    pub(crate) fn new(
        root: &Path,
        root_at: DirAt,
        keep_dirlinks: bool,
        dir: Option<&Path>,
        suffix: &OsString,
        dry_run: bool,
        copy_keeps: sys::KeepAttrs,
    ) -> Backup {
        let dir = dir.map(|d| {
            if d.is_absolute() {
                d.to_path_buf()
            } else {
                root.join(d)
            }
        });
        Backup {
            root: root.to_path_buf(),
            root_at,
            keep_dirlinks,
            dir,
            dir_at: Arc::new(OnceLock::new()),
            insecure_links: false,
            untrusted: Arc::new(OnceLock::new()),
            confine: None,
            escapes: Arc::new(OnceLock::new()),
            suffix: suffix.as_bytes().to_vec(),
            dry_run,
            copy_keeps,
        }
    }

    /// Tells the report where backups go (rsync says so at -vv before
    /// the transfer, when there is a backup dir).
    pub(crate) fn announce(&self, report: &mut Report, shown_dir: Option<&Path>) {
        if let Some(shown) = shown_dir {
            let exists = self.dir.as_ref().is_some_and(|d| sys::stat(d).is_ok());
            let shown = sys::bytes(shown);
            report.event(Event::BackupDir { shown, exists });
        }
    }

    /// `--insecure-links`: the backup dir is used without rsync 3.5's
    /// ownership walk.
    pub(crate) fn insecure_links(mut self, insecure: bool) -> Backup {
        self.insecure_links = insecure;
        self
    }

    /// `--confine-root`: backups go only to a backup dir inside `root`
    /// (`None`: anywhere).
    pub(crate) fn confine(mut self, root: Option<&Path>) -> Backup {
        self.confine = root.map(Path::to_path_buf);
        self
    }

    /// rsync 3.5's walks of the backup dir (see `sys::trust`): backing up
    /// `path` fails as rsync's does when the backup dir leads through a
    /// symlink of an untrusted user, or (`--confine-root`) out of the
    /// root. `replace`: the backup of a file about to be replaced (else
    /// of one being deleted).
    fn refusal(&self, path: &Path, replace: bool) -> Result<(), Failure> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let rel = match sys::strip_root(path, &self.root) {
            Some(rel) if !rel.is_empty() && !self.insecure_links => rel,
            _ => return self.confined(dir),
        };
        if !*self
            .untrusted
            .get_or_init(|| sys::trust::follows_untrusted_link(dir))
        {
            return self.confined(dir);
        }
        let (parent, _) = split_rel(rel);
        let level = (!parent.is_empty()).then(|| dir.join(sys::path_from(parent)));
        let level = level.as_deref().map(|l| self.local(l));
        let to = self.name_for(path);
        Err(Failure::refused(level, path, &to, self.local(&to), replace))
    }

    /// `--confine-root`: a backup dir that comes out of the root (once
    /// its missing levels are made) takes no backup (see
    /// [`Failure::confined`]); nothing is made or written there.
    fn confined(&self, dir: &Path) -> Result<(), Failure> {
        let Some(root) = &self.confine else {
            return Ok(());
        };
        let out = *self
            .escapes
            .get_or_init(|| sys::trust::escapes_root_once_made(dir, root));
        if out {
            return Err(Failure::confined());
        }
        Ok(())
    }

    /// Whether `--confine-root` refuses the backup dir (see
    /// [`Backup::confined`]).
    pub(crate) fn confined_out(&self) -> bool {
        self.dir
            .as_deref()
            .is_some_and(|d| self.confined(d).is_err())
    }

    fn local<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// Whether deleting `path` makes a backup: without a backup dir,
    /// files that already are backups (end in the suffix) are just deleted.
    pub(crate) fn applies_to(&self, path: &Path) -> bool {
        if self.dir.is_some() {
            return true;
        }
        let name = sys::bytes(path);
        !(name.len() > self.suffix.len() && name.ends_with(&self.suffix))
    }

    /// Where `path` (a destination path) is backed up to.
    pub(crate) fn name_for(&self, path: &Path) -> PathBuf {
        let mut name = match &self.dir {
            Some(d) => d.join(self.local(path)).into_os_string().into_vec(),
            None => path.as_os_str().as_bytes().to_vec(),
        };
        name.extend_from_slice(&self.suffix);
        PathBuf::from(OsString::from_vec(name))
    }

    /// The handle of destination entry `path`'s directory and its name
    /// there: opened beneath the root without following symlinks (but
    /// the ones `-K` keeps); by path outside the root.
    fn entry_at(&self, path: &Path) -> Result<(DirAt, Vec<u8>), Errno> {
        let rel = sys::strip_root(path, &self.root).filter(|r| !r.is_empty());
        let (DirAt::Fd(root), Some(rel)) = (&self.root_at, rel) else {
            let (dir, base) = split(path);
            return Ok((DirAt::Path(dir), base));
        };
        let (parent, name) = split_rel(rel);
        if parent.is_empty() {
            return Ok((self.root_at.clone(), name.to_vec()));
        }
        let fd = sys::open_beneath(root.as_fd(), parent, self.keep_dirlinks)?;
        Ok((fd_at(fd), name.to_vec()))
    }

    /// Destination directory `rel` (below the root), as `lstat` sees it,
    /// if it is a directory: the model for its backup-dir counterpart.
    fn counterpart(&self, rel: &[u8]) -> Option<Stat> {
        let st = match &self.root_at {
            DirAt::Fd(root) if !rel.is_empty() => {
                let (parent, name) = split_rel(rel);
                let dir = if parent.is_empty() {
                    self.root_at.clone()
                } else {
                    fd_at(sys::open_beneath(root.as_fd(), parent, self.keep_dirlinks).ok()?)
                };
                dir.lstat(name).ok()?
            }
            DirAt::Fd(_) => self.root_at.own_stat().ok()?,
            DirAt::Path(_) => sys::lstat(&self.root.join(sys::path_from(rel))).ok()?,
        };
        (st.kind() == Kind::Dir).then_some(st)
    }

    /// The backup dir's handle, made (with its missing parents) the
    /// first time a backup goes there.
    fn backup_dir_at(&self, dir: &Path) -> Result<DirAt, Failure> {
        if let Some(d) = self.dir_at.get() {
            return Ok(d.clone());
        }
        // The user's path (relative to DEST or absolute), symlinks in it
        // followed as rsync follows them; only the levels below it that
        // the backups make or enter never go through a symlink.
        let failed = |e| Failure::mkdir(self.local(dir), e);
        make_by_path(dir).map_err(failed)?;
        let at = sys::open_root(dir).map_err(failed)?;
        Ok(self.dir_at.get_or_init(|| at).clone())
    }

    /// Where destination entry `path` (`base` in directory `src`) is
    /// backed up: its handle made ready (missing backup-dir levels made
    /// after their destination counterparts).
    fn target(&self, path: &Path, src: &DirAt, base: &[u8]) -> Result<Target, Failure> {
        let to = self.name_for(path);
        let mut name = base.to_vec();
        name.extend_from_slice(&self.suffix);
        let Some(dir) = &self.dir else {
            clear_dir(src, &name).map_err(Failure::io)?;
            return Ok(Target {
                shown: self.local(&to).to_path_buf(),
                path: to,
                dir: src.clone(),
                name,
                keeps: self.copy_keeps,
                confined: false,
            });
        };
        let rel = match sys::strip_root(path, &self.root) {
            Some(rel) if !rel.is_empty() => rel,
            // Not below the destination: the name as it is.
            _ => {
                let (d, name) = split(&to);
                return Ok(Target {
                    shown: self.local(&to).to_path_buf(),
                    path: to,
                    dir: DirAt::Path(d),
                    name,
                    keeps: self.copy_keeps,
                    confined: false,
                });
            }
        };
        let mut cur = self.backup_dir_at(dir)?;
        let (parent, _) = split_rel(rel);
        if !parent.is_empty() {
            let fast = match &cur {
                DirAt::Fd(fd) => sys::open_beneath(fd.as_fd(), parent, false).ok(),
                DirAt::Path(_) => None,
            };
            cur = match fast {
                Some(fd) => fd_at(fd),
                // Missing levels, or something else than a directory in
                // the way (a symlink, a file): level by level, as rsync
                // replaces what is in the way by a directory.
                None => {
                    let mut done = 0;
                    for c in parent.split(|&b| b == b'/') {
                        done += c.len();
                        let upto = &parent[..done];
                        done += 1;
                        if !c.is_empty() {
                            cur = make_level(&cur, c, || self.counterpart(upto)).map_err(|e| {
                                Failure::mkdir(self.local(&dir.join(sys::path_from(upto))), e)
                            })?;
                        }
                    }
                    cur
                }
            };
        }
        clear_dir(&cur, &name).map_err(Failure::io)?;
        Ok(Target {
            shown: self.local(&to).to_path_buf(),
            path: to,
            dir: cur,
            name,
            keeps: self.copy_keeps,
            confined: false,
        })
    }

    /// Backs up `path` (currently `st`) ahead of its deletion: renamed to
    /// its backup name. Directories are not backed up.
    pub(crate) fn make(&mut self, report: &mut Report, path: &Path, st: &Stat) -> io::Result<()> {
        if self.dry_run {
            if st.kind() != Kind::Dir {
                let to = self.name_for(path);
                self.report(report, path, &to);
            }
            return Ok(());
        }
        let (src, base) = self.entry_at(path)?;
        if st.kind() == Kind::Dir {
            return src.rmdir(&base).map_err(Into::into);
        }
        if let Err(f) = self.refusal(path, false) {
            f.print(report, "generator");
            return Err(f.errno.into());
        }
        let to = self.target(path, &src, &base)?;
        if let Err(e) = src.rename(&base, &to.dir, &to.name) {
            if e != Errno::XDEV {
                return Err(e.into());
            }
            copy_across(&src, &base, &to, st)?;
            src.unlink(&base)?;
        }
        self.report(report, path, &to.path);
        Ok(())
    }

    /// Backs up a file that is about to be replaced: a hard link under the
    /// backup name (the original stays in place until the new version is
    /// renamed over it), or a copy across filesystems.
    pub(crate) fn keep_before_replace(&self, path: &Path) -> Result<Option<PathBuf>, Failure> {
        let found = self
            .entry_at(path)
            .and_then(|(src, base)| src.lstat(&base).map(|st| (src, base, st)));
        let (src, base, st) = match found {
            Ok(f) => f,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(Failure::io(e)),
        };
        if self.dry_run {
            return Ok(Some(self.name_for(path)));
        }
        self.refusal(path, true)?;
        let to = self.target(path, &src, &base)?;
        if same_entry(&src, &base, &to.dir, &to.name) {
            return Err(Failure::itself(path));
        }
        let failed = |op, e| Failure::keep(op, path, &to.path, self.local(&to.path), e);
        match to.dir.unlink(&to.name) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(failed("unlink", e)),
        }
        match src.link_to(&base, &to.dir, &to.name) {
            Ok(()) => {}
            Err(_) => copy_across(&src, &base, &to, &st)
                .map_err(|e| failed("open", Errno::from_io_error(&e).unwrap_or(Errno::IO)))?,
        }
        Ok(Some(to.path))
    }

    /// The -vv line for a backup, if -vv.
    pub(crate) fn line(&self, report: &Report, from: &Path, to: &Path) -> Option<String> {
        let (from, to) = (sys::bytes(self.local(from)), sys::bytes(self.local(to)));
        report.backed_up_line(from, to)
    }

    /// Tells the report about a backup (rsync names it at -vv).
    pub(crate) fn report(&self, report: &mut Report, from: &Path, to: &Path) {
        let (from, to) = (sys::bytes(self.local(from)), sys::bytes(self.local(to)));
        report.event(Event::BackedUp { from, to });
    }

    /// Where a file the engine is about to replace goes (its directories
    /// made); the engine links it at the last moment. `dir` is the handle
    /// of the file's directory, where the caller has one.
    pub(crate) fn prepare(
        &self,
        path: &Path,
        dir: Option<&DirAt>,
    ) -> Result<Option<Target>, Failure> {
        if self.dry_run {
            let to = self.name_for(path);
            let (d, name) = split(&to);
            return Ok(Some(Target {
                shown: self.local(&to).to_path_buf(),
                path: to,
                dir: DirAt::Path(d),
                name,
                keeps: self.copy_keeps,
                confined: false,
            }));
        }
        let (src, base) = match dir {
            Some(d) => (d.clone(), split(path).1),
            None => match self.entry_at(path) {
                Ok(found) => found,
                // Nothing there to back up (the engine finds it gone too).
                Err(Errno::NOENT) => return Ok(None),
                Err(e) => return Err(Failure::io(e)),
            },
        };
        self.refusal(path, true)?;
        self.target(path, &src, &base).map(Some)
    }

    /// A copy's backup that `--confine-root` refuses (see
    /// [`Failure::confined`]): as rsync 3.5's receiver, the new version is
    /// written to its temp file, and the backup then fails silently at
    /// the last moment, which ends the run (exit 11) with the old file in
    /// place and the temp file gone. Nothing is made in the backup dir.
    pub(crate) fn doomed(&self, path: &Path) -> Target {
        let to = self.name_for(path);
        let (d, name) = split(&to);
        Target {
            shown: self.local(&to).to_path_buf(),
            path: to,
            dir: DirAt::Path(d),
            name,
            keeps: self.copy_keeps,
            confined: true,
        }
    }
}

/// Opens level `name` of `parent` (a backup-dir level: never through a
/// symlink), making it first if missing: with the permissions and owner
/// of `model()` (its destination counterpart), or else the default ones.
fn make_level(
    parent: &DirAt,
    name: &[u8],
    model: impl FnOnce() -> Option<Stat>,
) -> Result<DirAt, Errno> {
    match parent.open_dir(name) {
        Ok(at) => return Ok(at),
        Err(Errno::NOENT) => {}
        // Not a directory (a symlink, even to one, or a file): removed
        // for a real directory, as rsync does.
        Err(Errno::NOTDIR | Errno::LOOP) => match parent.unlink(name) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        },
        Err(e) => return Err(e),
    }
    let model = model();
    let mode = model.map_or(0o777, |st| st.mode & 0o7777);
    match parent.mkdir(name, mode) {
        Ok(()) | Err(Errno::EXIST) => {}
        Err(e) => return Err(e),
    }
    // Opened for real (fchmod refuses O_PATH handles), never a symlink.
    let fd = parent.open_dir_read(name)?;
    if let Some(st) = model {
        let _ = sys::set_mode_owner(fd.as_fd(), st.mode, Some((st.uid, st.gid)));
    }
    Ok(fd_at(fd))
}

/// A directory where a backup is about to go (`name` in `dir`) is
/// removed with its contents, as rsync does; anything else stays for the
/// link or rename to replace. Nothing is followed through a symlink.
fn clear_dir(dir: &DirAt, name: &[u8]) -> Result<(), Errno> {
    match dir.lstat(name) {
        Ok(st) if st.kind() == Kind::Dir => remove_tree(dir, name),
        _ => Ok(()),
    }
}

/// Removes directory `name` of `dir` and everything in it, through
/// handles opened without following symlinks.
fn remove_tree(dir: &DirAt, name: &[u8]) -> Result<(), Errno> {
    let fd = dir.open_dir_read(name)?;
    let mut entries = Vec::new();
    sys::each_name(fd.as_fd(), |n| entries.push(n.to_bytes().to_vec()))?;
    let at = fd_at(fd);
    for n in entries {
        match at.unlink(&n) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(Errno::ISDIR | Errno::PERM)
                if at.lstat(&n).is_ok_and(|s| s.kind() == Kind::Dir) =>
            {
                remove_tree(&at, &n)?
            }
            Err(e) => return Err(e),
        }
    }
    dir.rmdir(name)
}

/// Makes the backup dir `dir` (a path of the user's) and its missing
/// parents, as rsync 3.5 does: plain `mkdir` with mode 0777 less the
/// umask, owned by whoever runs the copy (only the levels below the
/// backup dir follow their destination counterparts).
fn make_by_path(dir: &Path) -> Result<(), Errno> {
    let mut missing = Vec::new();
    let mut p = dir.to_path_buf();
    while sys::lstat(&p).is_err() {
        missing.push(p.clone());
        if !p.pop() || p.as_os_str().is_empty() {
            break;
        }
    }
    for d in missing.iter().rev() {
        match sys::mkdir(d, 0o777) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A plain copy of a file, symlink or node (`name` in `dir`) to `to`
/// (used when a rename or link cannot cross filesystems).
fn copy_across(dir: &DirAt, name: &[u8], to: &Target, st: &Stat) -> io::Result<()> {
    match st.kind() {
        Kind::Symlink => to.dir.symlink(&to.name, &dir.readlink(name)?)?,
        Kind::File => copy_file(dir, name, &to.dir, &to.name, sys::KeepAttrs::NONE)?,
        _ => to.dir.mknod(&to.name, st.mode, st.mode & 0o7777, st.rdev)?,
    }
    Ok(())
}

/// Copies a file between directory handles (see [`sys::copy_file`]).
pub(crate) use crate::sys::copy_file;

/// The engine's `-b` step: it calls these at the last moment, through the
/// destination directory's handle and the backup directory's.
impl crate::engine::BeforeCommit for Target {
    /// Hard-links the destination (`base` in `dir`) under its backup name
    /// while it is still in place (copies it across filesystems, or where
    /// a link is refused). A failure gives rsync's lines: the backup name
    /// that could not be written.
    fn keep_replaced(&self, dest: &Path, dir: &DirAt, base: &[u8]) -> Result<(), Vec<String>> {
        if self.confined {
            return Err(Vec::new());
        }
        let failed = |op, e: Errno| Failure::keep(op, dest, &self.path, &self.shown, e).lines;
        // The backup name is the file itself: nothing to keep, and never
        // unlink it (see `Failure::itself`).
        if same_entry(dir, base, &self.dir, &self.name) {
            return Ok(());
        }
        match self.dir.unlink(&self.name) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(failed("unlink", e)),
        }
        match dir.link_to(base, &self.dir, &self.name) {
            // Gone meanwhile: nothing left to keep.
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(_) => copy_file(dir, base, &self.dir, &self.name, sys::KeepAttrs::NONE)
                .map_err(|e| failed("open", Errno::from_io_error(&e).unwrap_or(Errno::IO))),
        }
    }

    fn named_temp(&self) -> bool {
        self.confined
    }

    /// `--inplace -b`: a copy of the old file with its permissions, and its
    /// modification time, owner and group as `-t`, `-o`, `-g` ask, as
    /// rsync's backup copy (its content is about to change in place, so a
    /// hard link would not do).
    fn keep_copy(&self, dir: &DirAt, base: &[u8]) -> Result<(), String> {
        if same_entry(dir, base, &self.dir, &self.name) {
            return Ok(());
        }
        let _ = self.dir.unlink(&self.name);
        copy_file(dir, base, &self.dir, &self.name, self.keeps).map_err(|e| {
            let shown = sys::escape_name(
                sys::bytes(&sys::absolute(&self.path)),
                sys::locale_is_utf8(),
            );
            format!("backup \"{shown}\" failed: {}", sys::io_error_text(&e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let root = DirAt::Path(PathBuf::from("dst"));
        let b = Backup::new(
            Path::new("dst"),
            root.clone(),
            false,
            None,
            &OsString::from("~"),
            false,
            sys::KeepAttrs::NONE,
        );
        assert_eq!(
            b.name_for(Path::new("dst/sub/f")),
            PathBuf::from("dst/sub/f~")
        );
        assert!(b.applies_to(Path::new("dst/f")));
        assert!(!b.applies_to(Path::new("dst/f~")));
        let b = Backup::new(
            Path::new("dst"),
            root,
            false,
            Some(Path::new("BK")),
            &OsString::new(),
            false,
            sys::KeepAttrs::NONE,
        );
        assert_eq!(
            b.name_for(Path::new("dst/sub/f")),
            PathBuf::from("dst/BK/sub/f")
        );
        assert!(b.applies_to(Path::new("dst/f~")));
    }

    #[test]
    fn a_backup_dir_out_of_the_confinement_takes_no_backup() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path();
        let (root, dest) = (base.join("root"), base.join("root/d"));
        std::fs::create_dir_all(&dest).unwrap();
        std::fs::write(dest.join("f"), b"old").unwrap();
        let backup = |dir: &Path| {
            Backup::new(
                &dest,
                DirAt::Path(dest.clone()),
                false,
                Some(dir),
                &OsString::from("~"),
                false,
                sys::KeepAttrs::NONE,
            )
            .confine(Some(&root))
        };
        let out = backup(&base.join("out/bk"));
        assert!(out.confined_out());
        let f = out.keep_before_replace(&dest.join("f")).unwrap_err();
        assert!(f.confined && !f.fatal && f.lines.is_empty());
        assert_eq!(f.errno, Errno::LOOP);
        let doomed = out.doomed(&dest.join("f"));
        assert!(doomed.confined);
        use crate::engine::BeforeCommit;
        assert!(doomed.named_temp());
        assert_eq!(
            doomed.keep_replaced(&dest.join("f"), &DirAt::Path(dest.clone()), b"f"),
            Err(Vec::<String>::new())
        );
        assert!(!base.join("out").exists(), "nothing made outside");
        let inside = backup(Path::new("../bk"));
        assert!(!inside.confined_out());
        assert!(
            inside
                .keep_before_replace(&dest.join("f"))
                .unwrap()
                .is_some()
        );
        assert_eq!(std::fs::read(root.join("bk/f~")).unwrap(), b"old");
    }
}
