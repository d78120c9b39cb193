//! What the transfer does in a destination directory, as methods of its
//! handle ([`DirAt`]): make, link, remove and rename entries, set a
//! time or mode. Each names the entry by its bytes relative to the
//! handle, so callers never assemble `*at` calls themselves and every
//! write keeps going through the directory's handle (see `open_beneath`).
//!
//! Also the few path-level calls for places that have no handle (DEST
//! itself before it exists, `--mkpath`, absolute partial dirs, sources).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Arc;

use rustix::fs::{
    AtFlags, FileType, FlockOperation, Gid, Mode, OFlags, Timespec, Timestamps, UTIME_OMIT, Uid,
};
use rustix::io::Errno;

use super::{DirAt, Stat, path_from};

/// Opens entry `name` so that it can be locked, never through a symlink
/// nor blocking on a FIFO: for reading, or (a temp file is always
/// writable by its owner, perhaps not readable) for writing, which does
/// not change it.
fn open_to_lock(dir: &DirAt, name: &[u8]) -> Result<OwnedFd, Errno> {
    let base = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    match rustix::fs::openat(dir, dir.name(name), base | OFlags::RDONLY, Mode::empty()) {
        Err(Errno::ACCESS) => {
            rustix::fs::openat(dir, dir.name(name), base | OFlags::WRONLY, Mode::empty())
        }
        r => r,
    }
}

/// A directory opened for reading (its names, `fchmod`), never through a
/// symlink.
const READ_DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl DirAt {
    /// `mkdir` of entry `name` with permissions `mode` (less the umask).
    pub(crate) fn mkdir(&self, name: &[u8], mode: u32) -> Result<(), Errno> {
        rustix::fs::mkdirat(self, self.name(name), Mode::from_raw_mode(mode))
    }

    /// Makes entry `name` a symlink to `target`.
    pub(crate) fn symlink(&self, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        rustix::fs::symlinkat(path_from(target), self, self.name(name))
    }

    /// Makes entry `name` a device or special file: the type from
    /// `st_mode`, permissions `perm`, device number `rdev`.
    pub(crate) fn mknod(
        &self,
        name: &[u8],
        st_mode: u32,
        perm: u32,
        rdev: u64,
    ) -> Result<(), Errno> {
        let ft = FileType::from_raw_mode(st_mode);
        rustix::fs::mknodat(self, self.name(name), ft, Mode::from_raw_mode(perm), rdev)
    }

    /// Makes entry `name` a hard link to the file at `existing` (a path).
    pub(crate) fn link_from(&self, name: &[u8], existing: &Path) -> Result<(), Errno> {
        rustix::fs::linkat(
            rustix::fs::CWD,
            existing,
            self,
            self.name(name),
            AtFlags::empty(),
        )
    }

    /// Hard-links entry `name` as `to_name` in directory `to`.
    pub(crate) fn link_to(&self, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno> {
        rustix::fs::linkat(
            self,
            self.name(name),
            to,
            to.name(to_name),
            AtFlags::empty(),
        )
    }

    /// Removes non-directory entry `name`.
    pub(crate) fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        rustix::fs::unlinkat(self, self.name(name), AtFlags::empty())
    }

    /// Removes empty directory entry `name`.
    pub(crate) fn rmdir(&self, name: &[u8]) -> Result<(), Errno> {
        rustix::fs::unlinkat(self, self.name(name), AtFlags::REMOVEDIR)
    }

    /// Renames entry `name` to `to_name` in directory `to`.
    pub(crate) fn rename(&self, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno> {
        rustix::fs::renameat(self, self.name(name), to, to.name(to_name))
    }

    /// Sets entry `name`'s modification time (not through a symlink),
    /// leaving its access time alone.
    pub(crate) fn set_mtime(&self, name: &[u8], sec: i64, nsec: u32) -> Result<(), Errno> {
        let ts = Timestamps {
            last_access: Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_OMIT,
            },
            last_modification: Timespec {
                tv_sec: sec,
                tv_nsec: nsec.into(),
            },
        };
        rustix::fs::utimensat(self, self.name(name), &ts, AtFlags::SYMLINK_NOFOLLOW)
    }

    /// Sets entry `name`'s permissions.
    pub(crate) fn chmod(&self, name: &[u8], mode: u32) -> Result<(), Errno> {
        rustix::fs::chmodat(
            self,
            self.name(name),
            Mode::from_raw_mode(mode),
            AtFlags::empty(),
        )
    }

    /// `--inplace` as a normal user: gives regular file `name` its
    /// owner's write permission, as rsync does when the file cannot be
    /// opened for writing, and returns the mode it had (`None`: not a
    /// regular file of ours without that bit, so nothing changed). The
    /// file is opened `O_PATH` without following a symlink and changed
    /// through `/proc/self/fd`, so a symlink put there is never followed.
    pub(crate) fn add_user_write(&self, name: &[u8]) -> Result<Option<u32>, Errno> {
        let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(self, self.name(name), flags, Mode::empty())?;
        let st = rustix::fs::fstat(&fd)?;
        let ours = st.st_uid == rustix::process::geteuid().as_raw();
        let regular = FileType::from_raw_mode(st.st_mode) == FileType::RegularFile;
        if !ours || !regular || st.st_mode & 0o200 != 0 {
            return Ok(None);
        }
        let proc_path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        rustix::fs::chmod(proc_path.as_str(), Mode::from_raw_mode(st.st_mode | 0o200))?;
        Ok(Some(st.st_mode & 0o7777))
    }

    /// Opens subdirectory `name` for reading (its names, its mode and
    /// owner), without following a symlink there.
    pub(crate) fn open_dir_read(&self, name: &[u8]) -> Result<OwnedFd, Errno> {
        rustix::fs::openat(self, self.name(name), READ_DIR_FLAGS, Mode::empty())
    }

    /// Removes entry `name`, a temp file a killed run left behind, if it
    /// proves stale: a regular file with one link, owned by us (unless we
    /// are root), unchanged since `before` (its ctime: a file
    /// being written, or just linked in, is newer), and not locked (a
    /// live named temp file is). `before`: nanoseconds since the epoch.
    /// `Ok(false)`: left alone.
    pub(crate) fn remove_stale_temp(&self, name: &[u8], before: i128) -> Result<bool, Errno> {
        let fd = open_to_lock(self, name)?;
        let st = rustix::fs::fstat(&fd)?;
        let euid = rustix::process::geteuid();
        let stale = FileType::from_raw_mode(st.st_mode) == FileType::RegularFile
            && st.st_nlink == 1
            && (euid.is_root() || st.st_uid == euid.as_raw())
            && i128::from(st.st_ctime) * 1_000_000_000 + i128::from(st.st_ctime_nsec) < before;
        if !stale {
            return Ok(false);
        }
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Err(Errno::WOULDBLOCK) => return Ok(false),
            r => r?,
        }
        // Still the same file under that name.
        let now = rustix::fs::statat(self, self.name(name), AtFlags::SYMLINK_NOFOLLOW)?;
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
            return Ok(false);
        }
        rustix::fs::unlinkat(self, self.name(name), AtFlags::empty())?;
        Ok(true)
    }

    /// The target of symlink entry `name`.
    pub(crate) fn readlink(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        rustix::fs::readlinkat(self, self.name(name), Vec::new()).map(|t| t.into_bytes())
    }

    /// The status of the directory itself: through the handle, or its
    /// path (following a final symlink, as a path handle is used).
    pub(crate) fn own_stat(&self) -> Result<Stat, Errno> {
        match self {
            DirAt::Fd(fd) => rustix::fs::fstat(fd.as_fd()).map(Stat::from),
            DirAt::Path(p) => super::stat(p),
        }
    }

    /// The device and inode of the directory an open handle stands for
    /// (`None` for a path, or if it cannot be read).
    pub(crate) fn dev_ino(&self) -> Option<(u64, u64)> {
        match self {
            DirAt::Fd(fd) => rustix::fs::fstat(fd.as_fd())
                .ok()
                .map(|st| (st.st_dev, st.st_ino)),
            DirAt::Path(_) => None,
        }
    }
}

/// An open directory as a handle for `*at` calls.
pub(crate) fn dir_handle(fd: OwnedFd) -> DirAt {
    DirAt::Fd(Arc::new(fd))
}

/// Gives an open file or directory permissions `mode` and, when `owner`
/// is given, that owner and group (failures of the latter ignored: only
/// root can give files away).
pub(crate) fn set_mode_owner(
    fd: BorrowedFd<'_>,
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<(), Errno> {
    let r = rustix::fs::fchmod(fd, Mode::from_raw_mode(mode & 0o7777));
    if let Some((uid, gid)) = owner {
        let _ = rustix::fs::fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    }
    r
}

/// Which of the source's attributes a [`copy_file`] copy takes besides
/// its permissions (always kept).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeepAttrs {
    pub mtime: bool,
    pub owner: bool,
    pub group: bool,
}

impl KeepAttrs {
    pub(crate) const ALL: KeepAttrs = KeepAttrs {
        mtime: true,
        owner: true,
        group: true,
    };
    pub(crate) const NONE: KeepAttrs = KeepAttrs {
        mtime: false,
        owner: false,
        group: false,
    };
}

/// Copies file `name` of `dir` to `to_name` in `to_dir` (replacing a
/// file there), with the source's permissions, neither side through a
/// symlink; `keep` says which other attributes it takes from the source
/// (an owner only where we may give files away).
pub(crate) fn copy_file(
    dir: &DirAt,
    name: &[u8],
    to_dir: &DirAt,
    to_name: &[u8],
    keep: KeepAttrs,
) -> io::Result<()> {
    let from = rustix::fs::openat(
        dir,
        dir.name(name),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&from)?;
    let perms = Mode::from_raw_mode(st.st_mode & 0o7777);
    let to = rustix::fs::openat(
        to_dir,
        to_dir.name(to_name),
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        perms,
    )?;
    rustix::fs::fchmod(&to, perms)?;
    let mut from = std::fs::File::from(from);
    let mut to = std::fs::File::from(to);
    io::copy(&mut from, &mut to)?;
    if keep.mtime {
        let ts = Timestamps {
            last_access: Timespec {
                tv_sec: 0,
                tv_nsec: UTIME_OMIT,
            },
            last_modification: Timespec {
                tv_sec: st.st_mtime as _,
                tv_nsec: st.st_mtime_nsec as _,
            },
        };
        rustix::fs::futimens(&to, &ts)?;
    }
    if keep.owner || keep.group {
        // Only root can give a file away; elsewhere the copy is ours anyway.
        let _ = rustix::fs::fchown(
            &to,
            keep.owner.then(|| Uid::from_raw(st.st_uid)),
            keep.group.then(|| Gid::from_raw(st.st_gid)),
        );
    }
    Ok(())
}

/// `mkdir` by path, with permissions `mode` (less the umask).
pub(crate) fn mkdir(path: &Path, mode: u32) -> Result<(), Errno> {
    rustix::fs::mkdir(path, Mode::from_raw_mode(mode))
}

/// `mkdir -p` by path: the directory and its missing parents.
pub(crate) fn mkdir_all(path: &Path) -> Result<(), Errno> {
    std::fs::create_dir_all(path).map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
}

/// `unlink` by path.
pub(crate) fn unlink(path: &Path) -> Result<(), Errno> {
    rustix::fs::unlink(path)
}

/// `rmdir` by path.
pub(crate) fn rmdir(path: &Path) -> Result<(), Errno> {
    rustix::fs::rmdir(path)
}

#[cfg(test)]
mod tests {
    use super::super::open_root;
    use super::*;
    use crate::sys::Kind;

    fn root() -> (tempfile::TempDir, DirAt) {
        let t = tempfile::tempdir().unwrap();
        let at = open_root(t.path()).unwrap();
        (t, at)
    }

    fn now_nanos() -> i128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i128
    }

    #[test]
    fn only_a_stale_unlocked_lone_regular_file_is_removed() {
        let (t, at) = root();
        let p = |n: &str| t.path().join(n);
        for n in ["stale", "locked", "linked", "fifo"] {
            std::fs::write(p(n), b"x").unwrap();
        }
        std::fs::hard_link(p("linked"), p("other")).unwrap();
        std::fs::remove_file(p("fifo")).unwrap();
        at.mknod(b"fifo", FileType::Fifo.as_raw_mode(), 0o644, 0)
            .unwrap();
        std::os::unix::fs::symlink("stale", p("link")).unwrap();
        let held = std::fs::File::open(p("locked")).unwrap();
        rustix::fs::flock(&held, FlockOperation::NonBlockingLockExclusive).unwrap();
        let later = now_nanos() + 1_000_000_000;
        // Changed after `before`: a run may still be writing it.
        assert_eq!(
            at.remove_stale_temp(b"stale", now_nanos() - 60_000_000_000),
            Ok(false)
        );
        assert_eq!(at.remove_stale_temp(b"locked", later), Ok(false));
        assert_eq!(at.remove_stale_temp(b"linked", later), Ok(false));
        assert_eq!(at.remove_stale_temp(b"fifo", later), Ok(false));
        assert!(
            at.remove_stale_temp(b"link", later).is_err(),
            "not followed"
        );
        assert_eq!(at.remove_stale_temp(b"stale", later), Ok(true));
        let mut left: Vec<_> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["fifo", "link", "linked", "locked", "other"]);
    }

    #[test]
    fn make_and_remove_entries_through_the_handle() {
        let (t, at) = root();
        at.mkdir(b"d", 0o755).unwrap();
        assert_eq!(at.lstat(b"d").unwrap().kind(), Kind::Dir);
        assert_eq!(at.mkdir(b"d", 0o755), Err(Errno::EXIST));
        at.symlink(b"l", b"d").unwrap();
        assert_eq!(at.lstat(b"l").unwrap().kind(), Kind::Symlink);
        assert_eq!(
            std::fs::read_link(t.path().join("l")).unwrap(),
            Path::new("d")
        );
        at.mknod(b"f", libc::S_IFIFO, 0o600, 0).unwrap();
        assert_eq!(at.lstat(b"f").unwrap().kind(), Kind::Fifo);
        at.unlink(b"l").unwrap();
        at.unlink(b"f").unwrap();
        assert_eq!(at.unlink(b"d"), Err(Errno::ISDIR));
        at.rmdir(b"d").unwrap();
        assert_eq!(at.lstat(b"d").err(), Some(Errno::NOENT));
    }

    #[test]
    fn links_and_renames_between_handles() {
        let (t, at) = root();
        std::fs::write(t.path().join("a"), b"x").unwrap();
        at.mkdir(b"sub", 0o755).unwrap();
        let sub = at.open_dir(b"sub").unwrap();
        at.link_to(b"a", &sub, b"b").unwrap();
        sub.link_from(b"c", &t.path().join("a")).unwrap();
        assert_eq!(at.lstat(b"a").unwrap().nlink, 3);
        sub.rename(b"b", &at, b"moved").unwrap();
        assert!(t.path().join("moved").exists());
        assert!(!t.path().join("sub/b").exists());
        sub.unlink(b"c").unwrap();
        at.rmdir(b"sub").unwrap();
        assert!(!t.path().join("sub").exists());
    }

    #[test]
    fn times_and_modes_are_set_without_following_links() {
        let (t, at) = root();
        std::fs::write(t.path().join("f"), b"").unwrap();
        at.set_mtime(b"f", 1_000_000_000, 5).unwrap();
        let st = at.lstat(b"f").unwrap();
        assert_eq!((st.mtime, st.mtime_nsec), (1_000_000_000, 5));
        at.chmod(b"f", 0o640).unwrap();
        assert_eq!(at.lstat(b"f").unwrap().mode & 0o7777, 0o640);
        at.symlink(b"l", b"f").unwrap();
        at.set_mtime(b"l", 2_000_000_000, 0).unwrap();
        assert_eq!(at.lstat(b"f").unwrap().mtime, 1_000_000_000);
        assert_eq!(at.lstat(b"l").unwrap().mtime, 2_000_000_000);
    }

    #[test]
    fn files_are_copied_with_their_attributes_and_links_read() {
        let (t, at) = root();
        std::fs::write(t.path().join("f"), b"data").unwrap();
        at.chmod(b"f", 0o640).unwrap();
        at.set_mtime(b"f", 1_500_000_000, 0).unwrap();
        at.mkdir(b"d", 0o755).unwrap();
        let d = dir_handle(at.open_dir_read(b"d").unwrap());
        copy_file(&at, b"f", &d, b"g", KeepAttrs::ALL).unwrap();
        let st = d.lstat(b"g").unwrap();
        assert_eq!(
            (st.mode & 0o7777, st.mtime, st.size),
            (0o640, 1_500_000_000, 4)
        );
        copy_file(&at, b"f", &d, b"h", KeepAttrs::NONE).unwrap();
        assert_ne!(d.lstat(b"h").unwrap().mtime, 1_500_000_000);
        at.symlink(b"l", b"f").unwrap();
        assert_eq!(at.readlink(b"l").unwrap(), b"f");
        // Never through a symlink.
        assert_eq!(at.open_dir_read(b"l").err(), Some(Errno::NOTDIR));
        let fd = at.open_dir_read(b"d").unwrap();
        set_mode_owner(fd.as_fd(), 0o700, None).unwrap();
        assert_eq!(at.lstat(b"d").unwrap().mode & 0o7777, 0o700);
        let own = d.own_stat().unwrap();
        assert_eq!(own.ino, at.lstat(b"d").unwrap().ino);
    }

    #[test]
    fn a_path_handle_names_entries_below_its_path() {
        let (t, _) = root();
        let at = DirAt::Path(t.path().to_path_buf());
        at.mkdir(b"d", 0o700).unwrap();
        assert!(t.path().join("d").is_dir());
        assert_eq!(at.dev_ino(), None);
        let fd = open_root(t.path()).unwrap();
        let st = crate::sys::stat(t.path()).unwrap();
        assert_eq!(fd.dev_ino(), Some((st.dev, st.ino)));
        mkdir(&t.path().join("p"), 0o700).unwrap();
        mkdir_all(&t.path().join("p/q/r")).unwrap();
        assert!(t.path().join("p/q/r").is_dir());
        std::fs::remove_dir_all(t.path().join("p/q")).unwrap();
        rmdir(&t.path().join("p")).unwrap();
        std::fs::write(t.path().join("u"), b"").unwrap();
        unlink(&t.path().join("u")).unwrap();
        assert_eq!(unlink(&t.path().join("u")), Err(Errno::NOENT));
    }
}
