//! `--fake-super` on the filesystem (rsync's `x_lstat()`, `do_readlink()`,
//! `do_symlink()` and `do_mknod()` when `am_root < 0`).
//!
//! An unprivileged receiver cannot make devices, give files away or set
//! set-id bits, so rsync keeps what it could not do in
//! `user.rsync.%stat` ([`super::xattr::FakeStat`]) and makes what it can:
//! symlinks, devices, fifos and sockets become regular files (mode 0600;
//! a symlink's file holds its target). Every stat of a path — source or
//! destination — then goes through the record, so a later run (or a
//! fake-super sender) sees the item as it "really" is.

use std::io::Read;
use std::path::Path;

use crate::sys::Errno;

use super::xattr::{self, FAKE_STAT_NAME, FakeStat};
use crate::sys::{Kind, Stat};

/// rsync's `get_stat_xattr()` applied to a stat: the record's mode (type
/// included), device number, owner and group replace the real ones.
/// Real devices, fifos and sockets carry no record (Linux allows no
/// `user.*` names on them). A real symlink cannot carry one either: rsync
/// then reports it as owned by 0:0. `Err`: rsync's fatal "Corrupt …"
/// message.
pub(crate) fn overlay(path: &Path, mut st: Stat) -> Result<Stat, String> {
    let kind = st.kind();
    if kind.is_device() || kind.is_special() {
        return Ok(st);
    }
    match xattr::read_fake_stat(path) {
        Ok(None) => {}
        Ok(Some(f)) => {
            st.mode = f.mode;
            st.rdev = crate::sys::fs::makedev(f.rdev_major, f.rdev_minor);
            st.uid = f.uid;
            st.gid = f.gid;
        }
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(format!(
                "Corrupt {FAKE_STAT_NAME} xattr attached to \"{}\": {e}",
                crate::text::escape_name(
                    crate::sys::bytes(&crate::sys::absolute(path)),
                    crate::text::locale_is_utf8()
                )
            ));
        }
        Err(e) if e.raw_os_error() == Some(Errno::PERM.raw_os_error()) && kind == Kind::Symlink => {
            st.uid = 0;
            st.gid = 0;
        }
        Err(_) => {}
    }
    Ok(st)
}

/// rsync's `do_readlink()` under `--fake-super`: a "symlink" stored as a
/// regular file holds its target as content. A real symlink is read as
/// usual by the sender; the receiver treats it as having no target, so it
/// is replaced by a fake one.
pub(crate) fn read_link(path: &Path, sender: bool) -> Result<Vec<u8>, Errno> {
    match crate::sys::fs::open_read_nofollow(path) {
        Ok(fd) => {
            let mut f = std::fs::File::from(fd);
            let mut buf = Vec::new();
            f.read_to_end(&mut buf)
                .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
            Ok(buf)
        }
        Err(Errno::LOOP) if sender => crate::sys::fs::readlink(path),
        Err(Errno::LOOP) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// rsync's `do_symlink()` / `do_mknod()` under `--fake-super`: a regular
/// file, mode 0600, holding `content` (a symlink's target).
#[cfg(test)]
pub(crate) fn create_as_file(path: &Path, content: &[u8]) -> Result<(), Errno> {
    create_as_file_at(crate::sys::fs::cwd(), path, content)
}

/// [`create_as_file`] for entry `name` of directory `dir`.
pub(crate) fn create_as_file_at<D: std::os::fd::AsFd>(
    dir: D,
    name: &Path,
    content: &[u8],
) -> Result<(), Errno> {
    crate::sys::fs::write_private_file_at(dir, name, content)
}

/// The record a destination item should carry: rsync's `set_stat_xattr()`
/// writes the wanted mode and device number, and the owner and group only
/// as far as they are preserved (0 otherwise, as rsync's file list holds
/// no id then).
pub(crate) fn wanted(mode: u32, rdev: u64, uid: Option<u32>, gid: Option<u32>) -> FakeStat {
    let is_dev = Kind::from_mode(mode).is_device();
    FakeStat {
        mode,
        rdev_major: if is_dev {
            crate::sys::fs::major_minor(rdev).0
        } else {
            0
        },
        rdev_minor: if is_dev {
            crate::sys::fs::major_minor(rdev).1
        } else {
            0
        },
        uid: uid.unwrap_or(0),
        gid: gid.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlink_as_file_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let d = tempfile::tempdir()?;
        let f = d.path().join("l");
        create_as_file(&f, b"target/x")?;
        assert_eq!(read_link(&f, false)?, b"target/x");
        let st = crate::sys::lstat(&f)?;
        assert_eq!(st.mode & 0o7777, 0o600);
        let real = d.path().join("real");
        std::os::unix::fs::symlink("t", &real)?;
        assert_eq!(read_link(&real, true)?, b"t");
        assert!(read_link(&real, false)?.is_empty());
        Ok(())
    }

    #[test]
    fn overlay_uses_the_record() -> Result<(), Box<dyn std::error::Error>> {
        let d = tempfile::tempdir()?;
        let f = d.path().join("f");
        std::fs::write(&f, b"")?;
        let st = crate::sys::lstat(&f)?;
        if xattr::write_fake_stat(&f, &xattr::FakeStatAction::Write("20640 1,3 7:8".into()))
            .is_err()
        {
            return Ok(()); // no user xattrs here
        }
        let o = overlay(&f, st)?;
        assert_eq!(o.kind(), Kind::CharDev);
        assert_eq!((o.uid, o.gid, o.mode & 0o7777), (7, 8, 0o640));
        assert_eq!(o.rdev, crate::sys::fs::makedev(1, 3));
        Ok(())
    }
}
