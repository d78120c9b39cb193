//! Typed file-system calls for the listing side (walk, scan, meta): open a
//! directory, stat relative to a directory descriptor, read a link, size a
//! block device, compare two files' bytes (`-c`). Thin wrappers over rustix that return [`Stat`] and
//! [`Errno`], so callers name neither rustix nor libc.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, Mode, OFlags};

use super::{Errno, Stat};

/// Opens directory `path` for listing (read-only, close-on-exec); with
/// `follow_link` false a symlink at `path` fails (`ELOOP`/`ENOTDIR`).
pub(crate) fn open_dir(path: &Path, follow_link: bool) -> Result<OwnedFd, Errno> {
    let nofollow = if follow_link {
        OFlags::empty()
    } else {
        OFlags::NOFOLLOW
    };
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | nofollow,
        Mode::empty(),
    )
}

/// `fstat(2)`.
pub(crate) fn fstat(fd: impl AsFd) -> Result<Stat, Errno> {
    rustix::fs::fstat(fd).map(Stat::from)
}

/// `fstatat(2)` of `name` in directory `dir`, not following a final
/// symlink.
pub(crate) fn lstat_at<P: rustix::path::Arg>(dir: impl AsFd, name: P) -> Result<Stat, Errno> {
    rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map(Stat::from)
}

/// `fstatat(2)` of `name` in directory `dir`, following symlinks.
pub(crate) fn stat_at<P: rustix::path::Arg>(dir: impl AsFd, name: P) -> Result<Stat, Errno> {
    rustix::fs::statat(dir, name, AtFlags::empty()).map(Stat::from)
}

/// `readlink(2)`: a symlink's target bytes.
pub(crate) fn readlink(path: &Path) -> Result<Vec<u8>, Errno> {
    rustix::fs::readlink(path, Vec::new()).map(|t| t.into_bytes())
}

/// The capacity of the block device at `path` (its end offset), if it can
/// be opened and sought.
pub(crate) fn block_device_size(path: &Path) -> Option<u64> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    rustix::fs::seek(&fd, rustix::fs::SeekFrom::End(0)).ok()
}

/// Opens `path` for reading without following a final symlink (a symlink
/// fails with `ELOOP`).
pub(crate) fn open_read_nofollow(path: &Path) -> Result<OwnedFd, Errno> {
    rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
}

/// `-c`'s comparison: whether `src` and `dest` hold the same bytes. The
/// destination is opened without following a final symlink (a link put
/// there is not a match).
pub(crate) fn same_content(src: &Path, dest: &Path) -> std::io::Result<bool> {
    let mut a = std::fs::File::open(src)?;
    let mut b = std::fs::File::from(open_read_nofollow(dest)?);
    let (mut ba, mut bb) = (vec![0u8; 256 * 1024], vec![0u8; 256 * 1024]);
    loop {
        let na = read_full(&mut a, &mut ba)?;
        let nb = read_full(&mut b, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the file ends.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Creates (or truncates) regular file `name` in `dir` with mode 0600, never
/// through a symlink, and writes all of `content` into it.
pub(crate) fn write_private_file_at(
    dir: impl AsFd,
    name: &Path,
    content: &[u8],
) -> Result<(), Errno> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::from_raw_mode(0o600),
    )?;
    let mut done = 0;
    while done < content.len() {
        match rustix::io::write(&fd, &content[done..]) {
            Ok(0) => return Err(Errno::IO),
            Ok(n) => done += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The current directory as a directory handle (`AT_FDCWD`): `*_at` calls
/// on it take paths relative to the current directory.
#[cfg(test)]
pub(crate) fn cwd() -> std::os::fd::BorrowedFd<'static> {
    rustix::fs::CWD
}

/// Whether this process may write `path` (`access(W_OK)`, real ids).
pub(crate) fn may_write(path: &Path) -> bool {
    rustix::fs::access(path, rustix::fs::Access::WRITE_OK).is_ok()
}

/// A device number's major and minor parts.
pub(crate) fn major_minor(rdev: u64) -> (u32, u32) {
    (rustix::fs::major(rdev), rustix::fs::minor(rdev))
}

/// A device number from its major and minor parts.
pub(crate) fn makedev(major: u32, minor: u32) -> u64 {
    rustix::fs::makedev(major, minor)
}

/// `fsync(2)`: the file's data and metadata reach the disk (`--fsync`).
pub(crate) fn sync_data(fd: impl AsFd) -> Result<(), Errno> {
    rustix::fs::fsync(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_calls_agree_with_std() {
        let dir = std::env::temp_dir().join(format!("arsync-sys-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("f"), b"abc").unwrap();
        std::os::unix::fs::symlink("sub", dir.join("ln")).unwrap();
        let fd = open_dir(&dir, false).unwrap();
        assert_eq!(lstat_at(&fd, "f").unwrap().size, 3);
        assert_eq!(
            lstat_at(&fd, "ln").unwrap().kind(),
            super::super::Kind::Symlink
        );
        assert_eq!(stat_at(&fd, "ln").unwrap().kind(), super::super::Kind::Dir);
        assert_eq!(fstat(&fd).unwrap().kind(), super::super::Kind::Dir);
        assert_eq!(readlink(&dir.join("ln")).unwrap(), b"sub");
        assert!(open_dir(&dir.join("ln"), false).is_err());
        assert!(open_dir(&dir.join("ln"), true).is_ok());
        assert_eq!(lstat_at(&fd, "none").unwrap_err(), Errno::NOENT);
        assert_eq!(block_device_size(&dir.join("none")), None);
        write_private_file_at(&fd, Path::new("new"), b"hello").unwrap();
        let st = lstat_at(&fd, "new").unwrap();
        assert_eq!((st.size, st.perms()), (5, 0o600));
        assert_eq!(
            write_private_file_at(&fd, Path::new("ln"), b"x").unwrap_err(),
            Errno::LOOP
        );
        assert_eq!(
            open_read_nofollow(&dir.join("ln")).unwrap_err(),
            Errno::LOOP
        );
        assert!(open_read_nofollow(&dir.join("new")).is_ok());
        assert!(may_write(&dir.join("new")));
        assert!(!may_write(&dir.join("none")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn device_numbers_round_trip() {
        assert_eq!(major_minor(makedev(8, 17)), (8, 17));
        assert_eq!(major_minor(makedev(259, 70_000)), (259, 70_000));
    }
}
