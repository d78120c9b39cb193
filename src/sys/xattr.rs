//! Extended attribute calls (`*listxattr`, `*getxattr`, `*setxattr`,
//! `*removexattr`) on a path — following a final symlink or not — or an
//! open descriptor, with the "buffer too small" retries done here.
//!
//! Not the `xattr` crate: it has no `BorrowedFd` API (a transfer sets the
//! xattrs of the temp file it holds open), and one code path for paths and
//! descriptors keeps the callers' filters identical.

use std::ffi::CString;
use std::os::fd::BorrowedFd;
use std::path::Path;

use rustix::fs::XattrFlags;

use super::Errno;

/// Where the xattr syscalls go: a path (optionally following a final
/// symlink) or an open descriptor.
#[derive(Clone, Copy, Debug)]
pub(crate) enum On<'a> {
    Path(&'a Path, bool),
    Fd(BorrowedFd<'a>),
}

/// All names, the NUL-separated list split up.
pub(crate) fn list(on: On<'_>) -> Result<Vec<Vec<u8>>, Errno> {
    let mut buf = vec![0u8; 1024];
    loop {
        let r = match on {
            On::Path(p, true) => rustix::fs::listxattr(p, &mut buf[..]),
            On::Path(p, false) => rustix::fs::llistxattr(p, &mut buf[..]),
            On::Fd(fd) => rustix::fs::flistxattr(fd, &mut buf[..]),
        };
        match r {
            Ok(n) => {
                return Ok(buf[..n]
                    .split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect());
            }
            Err(Errno::RANGE) => {
                let need = match on {
                    On::Path(p, true) => rustix::fs::listxattr_query(p),
                    On::Path(p, false) => rustix::fs::llistxattr_query(p),
                    On::Fd(fd) => rustix::fs::flistxattr_query(fd),
                }?;
                buf.resize(need + 1024, 0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// The value of `name` (`ENODATA` if there is none).
pub(crate) fn get(on: On<'_>, name: &[u8]) -> Result<Vec<u8>, Errno> {
    let cname = cstring(name)?;
    let mut buf = vec![0u8; 256];
    loop {
        let r = match on {
            On::Path(p, true) => rustix::fs::getxattr(p, cname.as_c_str(), &mut buf[..]),
            On::Path(p, false) => rustix::fs::lgetxattr(p, cname.as_c_str(), &mut buf[..]),
            On::Fd(fd) => rustix::fs::fgetxattr(fd, cname.as_c_str(), &mut buf[..]),
        };
        match r {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(Errno::RANGE) => {
                let need = match on {
                    On::Path(p, true) => rustix::fs::getxattr_query(p, cname.as_c_str()),
                    On::Path(p, false) => rustix::fs::lgetxattr_query(p, cname.as_c_str()),
                    On::Fd(fd) => rustix::fs::fgetxattr_query(fd, cname.as_c_str()),
                }?;
                buf.resize(need + 256, 0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sets `name` to `value` (created or replaced).
pub(crate) fn set(on: On<'_>, name: &[u8], value: &[u8]) -> Result<(), Errno> {
    let cname = cstring(name)?;
    let flags = XattrFlags::empty();
    match on {
        On::Path(p, true) => rustix::fs::setxattr(p, cname.as_c_str(), value, flags),
        On::Path(p, false) => rustix::fs::lsetxattr(p, cname.as_c_str(), value, flags),
        On::Fd(fd) => rustix::fs::fsetxattr(fd, cname.as_c_str(), value, flags),
    }
}

/// Removes `name` (`ENODATA` if there is none).
pub(crate) fn remove(on: On<'_>, name: &[u8]) -> Result<(), Errno> {
    let cname = cstring(name)?;
    match on {
        On::Path(p, true) => rustix::fs::removexattr(p, cname.as_c_str()),
        On::Path(p, false) => rustix::fs::lremovexattr(p, cname.as_c_str()),
        On::Fd(fd) => rustix::fs::fremovexattr(fd, cname.as_c_str()),
    }
}

/// A name as a C string; one holding a NUL is `EINVAL`.
fn cstring(name: &[u8]) -> Result<CString, Errno> {
    CString::new(name).map_err(|_| Errno::INVAL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_list_remove_on_path_and_fd() {
        let dir = std::env::temp_dir().join(format!("arsync-sys-xattr-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("f");
        std::fs::write(&f, b"").unwrap();
        let on = On::Path(&f, false);
        if let Err(e) = set(on, b"user.a", b"1") {
            std::fs::remove_dir_all(&dir).unwrap();
            // The compat suite needs user xattrs too: CI must have them.
            assert!(
                std::env::var_os("CI").is_none_or(|v| v != "true"),
                "CI=true but {} has no user xattrs: {e:?}",
                dir.display()
            );
            eprintln!("skipped: no user xattrs on {} ({e:?})", dir.display());
            return;
        }
        // A value larger than the first buffer takes the retry path.
        let big = vec![b'x'; 3000];
        let file = std::fs::File::open(&f).unwrap();
        use std::os::fd::AsFd;
        set(On::Fd(file.as_fd()), b"user.big", &big).unwrap();
        assert_eq!(get(on, b"user.a").unwrap(), b"1");
        assert_eq!(get(On::Fd(file.as_fd()), b"user.big").unwrap(), big);
        let mut names = list(On::Path(&f, true)).unwrap();
        names.sort();
        assert_eq!(names, vec![b"user.a".to_vec(), b"user.big".to_vec()]);
        remove(on, b"user.a").unwrap();
        assert_eq!(get(on, b"user.a").unwrap_err(), Errno::NODATA);
        assert_eq!(remove(on, b"user.a").unwrap_err(), Errno::NODATA);
        assert_eq!(get(on, b"us\0er").unwrap_err(), Errno::INVAL);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
