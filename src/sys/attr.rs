//! Setting the attributes of one file system entry: owner, times and
//! permissions, on whichever handle the caller has ([`Target`]: an open
//! file, an entry of an open directory, or a path). Owner, times and
//! status never follow a final symlink (the entry itself is changed, as
//! rsync changes it); chmod of a directory entry refuses a symlink (Linux
//! cannot chmod one), chmod of a path follows (callers pass no symlinks).
//!
//! Not the `filetime` crate: it has no directory-relative (`*at`) calls,
//! which the destination's directory handles need (see `sys::DirAt`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, Gid, Mode, OFlags, Timespec, Timestamps, UTIME_OMIT, Uid};

use super::{Errno, Kind, Stat};

/// Where the attributes are applied: an open file (a temp file we just
/// wrote), an entry of an open directory (directories, links, devices,
/// up-to-date files in the destination), or a path.
pub(crate) enum Target<'a, F: AsFd> {
    Fd(F),
    At(BorrowedFd<'a>, &'a Path),
    Path(&'a Path),
}

/// `chown` to `uid`/`gid` (`fchown`, or `fchownat` without following).
pub(crate) fn chown<F: AsFd>(target: &Target<'_, F>, uid: u32, gid: u32) -> Result<(), Errno> {
    let (uid, gid) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    match target {
        Target::Fd(fd) => rustix::fs::fchown(fd, uid, gid),
        Target::At(d, p) => rustix::fs::chownat(d, *p, uid, gid, AtFlags::SYMLINK_NOFOLLOW),
        Target::Path(p) => rustix::fs::chownat(CWD, *p, uid, gid, AtFlags::SYMLINK_NOFOLLOW),
    }
}

/// The target's status, not following a symlink.
pub(crate) fn stat<F: AsFd>(target: &Target<'_, F>) -> Result<Stat, Errno> {
    let st = match target {
        Target::Fd(fd) => rustix::fs::fstat(fd),
        Target::At(d, p) => rustix::fs::statat(d, *p, AtFlags::SYMLINK_NOFOLLOW),
        Target::Path(p) => rustix::fs::lstat(*p),
    };
    st.map(Stat::from)
}

/// Sets the access time (whole seconds) and/or the modification time
/// (seconds, nanoseconds); `None` leaves that time as it is.
pub(crate) fn set_times<F: AsFd>(
    target: &Target<'_, F>,
    atime: Option<i64>,
    mtime: Option<(i64, u32)>,
) -> Result<(), Errno> {
    let omit = Timespec {
        tv_sec: 0,
        tv_nsec: UTIME_OMIT,
    };
    let ts = Timestamps {
        last_access: atime.map_or(omit, |a| Timespec {
            tv_sec: a,
            tv_nsec: 0,
        }),
        last_modification: mtime.map_or(omit, |(s, ns)| Timespec {
            tv_sec: s,
            tv_nsec: ns as _,
        }),
    };
    match target {
        Target::Fd(fd) => rustix::fs::futimens(fd, &ts),
        Target::At(d, p) => rustix::fs::utimensat(d, *p, &ts, AtFlags::SYMLINK_NOFOLLOW),
        Target::Path(p) => rustix::fs::utimensat(CWD, *p, &ts, AtFlags::SYMLINK_NOFOLLOW),
    }
}

/// Sets the permission bits `mode & 0o7777`. A path is changed with
/// `chmod` (callers pass no symlinks); an entry of a directory never
/// through a symlink (see [`chmod_nofollow`]).
pub(crate) fn chmod<F: AsFd>(target: &Target<'_, F>, mode: u32) -> Result<(), Errno> {
    let mode = Mode::from_raw_mode(mode & 0o7777);
    match target {
        Target::Fd(fd) => rustix::fs::fchmod(fd, mode),
        Target::At(d, p) => chmod_nofollow(*d, p, mode),
        Target::Path(p) => rustix::fs::chmod(*p, mode),
    }
}

/// chmod of entry `name` of directory `dir` that never follows a symlink
/// there (one swapped in meanwhile): the entry is opened with
/// `O_PATH | O_NOFOLLOW` and changed through `/proc/self/fd` (`fchmod`
/// refuses `O_PATH` handles); without /proc, a plain `fchmodat`.
fn chmod_nofollow(dir: BorrowedFd<'_>, name: &Path, mode: Mode) -> Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    // Opened without following, a symlink is the link itself: refused as
    // rsync 3.5 refuses it (a -K symlink kept as a directory included).
    if Kind::from_mode(rustix::fs::fstat(&fd)?.st_mode) == Kind::Symlink {
        return Err(Errno::LOOP);
    }
    match rustix::fs::chmod(format!("/proc/self/fd/{}", fd.as_raw_fd()), mode) {
        Err(Errno::NOENT) => rustix::fs::chmodat(dir, name, mode, AtFlags::empty()),
        r => r,
    }
}

/// A path naming entry `name` of the open directory `dir` through
/// `/proc/self/fd`, for the calls that only take paths (xattrs, ACLs):
/// the directory stays the one opened, whatever happens to its path. A
/// directory known by path only (`AT_FDCWD`, see `sys::DirAt`) leaves
/// `name` relative to the current directory.
pub(crate) fn entry_path(dir: BorrowedFd<'_>, name: &Path) -> PathBuf {
    if dir.as_raw_fd() == CWD.as_raw_fd() {
        return name.to_path_buf();
    }
    Path::new(&format!("/proc/self/fd/{}", dir.as_raw_fd())).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_times_and_mode_through_each_target() {
        let dir = std::env::temp_dir().join(format!("arsync-sys-attr-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, b"x").unwrap();
        std::os::unix::fs::symlink("f", dir.join("ln")).unwrap();
        let d = std::fs::File::open(&dir).unwrap();
        let at = Target::<std::fs::File>::At(d.as_fd(), Path::new("f"));
        set_times(&at, Some(1_000), Some((2_000, 5))).unwrap();
        chmod(&at, 0o100_640).unwrap();
        let st = stat(&Target::<std::fs::File>::Path(&f)).unwrap();
        assert_eq!((st.atime, st.mtime, st.mtime_nsec), (1_000, 2_000, 5));
        assert_eq!(st.perms(), 0o640);
        set_times(
            &Target::Fd(std::fs::File::open(&f).unwrap()),
            None,
            Some((3, 0)),
        )
        .unwrap();
        let st = stat(&at).unwrap();
        assert_eq!((st.atime, st.mtime), (1_000, 3));
        chown(&at, st.uid, st.gid).unwrap();
        // A symlink entry is refused, never followed.
        let ln = Target::<std::fs::File>::At(d.as_fd(), Path::new("ln"));
        assert_eq!(chmod(&ln, 0o600), Err(Errno::LOOP));
        assert_eq!(stat(&ln).unwrap().kind(), Kind::Symlink);
        assert!(entry_path(d.as_fd(), Path::new("f")).starts_with("/proc/self/fd"));
        assert_eq!(entry_path(CWD, Path::new("f")), Path::new("f"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
