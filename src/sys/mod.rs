//! Thin, typed wrappers over the system facts every stage shares: file
//! status, error text in rsync's `Text (errno)` shape, path display.
//!
//! Also the destination's directory handles ([`DirAt`], [`open_beneath`]):
//! every write into the destination names its directory by an open handle
//! reached one component at a time without following symlinks, so a
//! directory swapped for a symlink during a run cannot redirect writes.
//!
//! The kernel's one door: only `sys` names rustix or libc, and only `sys`
//! holds `unsafe` (checked by `tests/architecture.rs`). Syscalls go through
//! rustix (safe wrappers); FFI to the C library is kept to what rustix
//! does not offer: `strerror_r` here, the name-service lookups
//! ([`ids`]), glibc's iconv for `--iconv` ([`iconv`]), `localtime_r` ([`time`]) and a test pseudo-terminal
//! ([`term`]), each `unsafe` block with its `// SAFETY:` reason. Topics:
//! [`attr`] (owner, times, mode of one entry), [`fs`] (listing-side
//! calls), [`xattr`], [`mode`] (`st_mode` bits). `sys` imports nothing
//! from the crate but the leaf module `text`.

pub(crate) mod attr;
pub(crate) mod fs;
pub(crate) mod iconv;
pub(crate) mod ids;
pub(crate) mod mode;
pub(crate) mod term;
pub(crate) mod time;
pub(crate) mod trust;
pub(crate) mod xattr;

pub(crate) mod copy;

use std::collections::VecDeque;
use std::ffi::{CStr, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
pub(crate) use rustix::io::Errno;

pub(crate) use crate::text::{escape_name, locale_is_utf8};

mod dir_ops;
pub(crate) use dir_ops::{
    KeepAttrs, copy_file, dir_handle, mkdir, mkdir_all, rmdir, set_mode_owner, unlink,
};

/// File types as rsync distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDev,
    BlockDev,
    Unknown,
}

impl Kind {
    pub(crate) fn from_mode(mode: u32) -> Kind {
        match mode & libc::S_IFMT {
            libc::S_IFREG => Kind::File,
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFLNK => Kind::Symlink,
            libc::S_IFIFO => Kind::Fifo,
            libc::S_IFSOCK => Kind::Socket,
            libc::S_IFCHR => Kind::CharDev,
            libc::S_IFBLK => Kind::BlockDev,
            _ => Kind::Unknown,
        }
    }

    /// rsync's "special" files: fifos and sockets (`--specials`).
    pub(crate) fn is_special(self) -> bool {
        matches!(self, Kind::Fifo | Kind::Socket)
    }

    /// Character and block devices (`--devices`).
    pub(crate) fn is_device(self) -> bool {
        matches!(self, Kind::CharDev | Kind::BlockDev)
    }
}

/// The parts of `struct stat` arsync uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stat {
    /// Full `st_mode`, type bits included.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Access time, whole seconds (all `-U` compares and sets, as rsync).
    pub atime: i64,
    pub rdev: u64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

impl Stat {
    pub(crate) fn kind(&self) -> Kind {
        Kind::from_mode(self.mode)
    }

    /// Permission bits rsync's `--perms` preserves (incl. suid/sgid/sticky).
    pub(crate) fn perms(&self) -> u32 {
        self.mode & 0o7777
    }
}

impl From<rustix::fs::Stat> for Stat {
    fn from(s: rustix::fs::Stat) -> Stat {
        Stat {
            mode: s.st_mode,
            uid: s.st_uid,
            gid: s.st_gid,
            size: s.st_size as u64,
            mtime: s.st_mtime,
            mtime_nsec: s.st_mtime_nsec as u32,
            atime: s.st_atime,
            rdev: s.st_rdev,
            dev: s.st_dev,
            ino: s.st_ino,
            nlink: s.st_nlink,
        }
    }
}

/// `lstat(2)` of a path.
pub(crate) fn lstat(path: &Path) -> Result<Stat, rustix::io::Errno> {
    rustix::fs::lstat(path).map(Stat::from)
}

/// `stat(2)` of a path (following symlinks).
pub(crate) fn stat(path: &Path) -> Result<Stat, rustix::io::Errno> {
    rustix::fs::stat(path).map(Stat::from)
}

/// The C library's text for an errno, without Rust's "(os error N)" suffix.
pub(crate) fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: strerror_r (the XSI/GNU variant libc exposes as `strerror_r`)
    // writes a NUL-terminated string into `buf` (at most buf.len() bytes) or
    // returns a pointer to a static string; both are valid C strings we only
    // read before returning.
    let text = unsafe {
        let p = libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len());
        if p != 0 {
            return format!("Unknown error {errno}");
        }
        CStr::from_ptr(buf.as_ptr().cast())
    };
    text.to_string_lossy().into_owned()
}

/// rsync's `TEXT (N)` rendering of an errno, as in
/// `failed: No such file or directory (2)`.
pub(crate) fn errno_text(errno: rustix::io::Errno) -> String {
    let n = errno.raw_os_error();
    format!("{} ({n})", strerror(n))
}

/// Same as [`errno_text`] for a `std::io::Error`.
pub(crate) fn io_error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{} ({n})", strerror(n)),
        None => e.to_string(),
    }
}

/// Joins `path` onto the current directory and removes `.` components and
/// doubled slashes, the way rsync's `full_fname()` shows paths in messages.
/// Symlinks are not resolved.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
    };
    let mut out = base;
    for c in path.components() {
        match c {
            Component::RootDir => out = PathBuf::from("/"),
            Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => out.push(".."),
            Component::Normal(n) => out.push(n),
        }
    }
    out
}

/// Calls `f` with each name in directory `fd` (`.` and `..` left out),
/// in readdir order. One buffer, no allocation per entry: a re-sync lists
/// every directory of both trees. An error stops the listing after the
/// names already passed on.
pub(crate) fn each_name(fd: BorrowedFd<'_>, mut f: impl FnMut(&CStr)) -> Result<(), Errno> {
    let mut buf: Vec<u8> = Vec::with_capacity(32 * 1024);
    let mut dir = rustix::fs::RawDir::new(fd, buf.spare_capacity_mut());
    while let Some(item) = dir.next() {
        let item = item?;
        let name = item.file_name();
        let b = name.to_bytes();
        if b != b"." && b != b".." {
            f(name);
        }
    }
    Ok(())
}

/// A path's bytes.
pub(crate) fn bytes(p: &Path) -> &[u8] {
    p.as_os_str().as_bytes()
}

/// A path's bytes without trailing slashes (`/` stays), `""` read as `.`.
fn trimmed(p: &Path) -> &[u8] {
    let mut b = bytes(p);
    while b.len() > 1 && b.ends_with(b"/") {
        b = &b[..b.len() - 1];
    }
    if b.is_empty() { b"." } else { b }
}

/// Whether two paths built from the same root name the same place, by
/// their bytes: `Path`'s `==` compares component by component, which
/// shows in a per-file hot path; paths made by `join` from one root only
/// differ in trailing slashes.
pub(crate) fn same_path(a: &Path, b: &Path) -> bool {
    trimmed(a) == trimmed(b)
}

/// `path` below `root`, by bytes (see [`same_path`]); `Path`'s
/// component-wise `strip_prefix` when the bytes do not line up.
pub(crate) fn strip_root<'a>(path: &'a Path, root: &Path) -> Option<&'a [u8]> {
    let (p, r) = (trimmed(path), trimmed(root));
    if p == r {
        return Some(b"");
    }
    if let Some(rest) = p.strip_prefix(r) {
        if r == b"/" {
            return Some(rest);
        }
        if let Some(rest) = rest.strip_prefix(b"/") {
            return Some(rest);
        }
    }
    path.strip_prefix(root).ok().map(bytes)
}

/// A path from bytes.
pub(crate) fn path_from(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

/// The process umask, read once (reading it requires setting it, two
/// syscalls): arsync never changes it, so later calls take the first
/// answer.
pub(crate) fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        use rustix::fs::Mode;
        let old = rustix::process::umask(Mode::from_raw_mode(0o022));
        rustix::process::umask(old);
        old.as_raw_mode()
    })
}

/// The cores this process may run on (CPU affinity and a cgroup's quota,
/// as `std::thread::available_parallelism` counts them; 2 when unknown),
/// asked once: the question reads three files under /proc and /sys
/// (some 20 syscalls), and the engine and the scanner both ask it.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(2, usize::from))
}

/// A destination directory as the `*at` calls take it: an open handle
/// (`O_PATH`, see [`open_beneath`]), or — where no handle exists, as for
/// directories a dry run only pretends to make — its path.
#[derive(Clone, Debug)]
pub(crate) enum DirAt {
    Fd(Arc<OwnedFd>),
    Path(PathBuf),
}

impl AsFd for DirAt {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            DirAt::Fd(f) => f.as_fd(),
            DirAt::Path(_) => rustix::fs::CWD,
        }
    }
}

impl DirAt {
    /// What to pass along with [`AsFd::as_fd`] to name entry `name` of
    /// this directory.
    pub(crate) fn name(&self, name: &[u8]) -> PathBuf {
        match self {
            DirAt::Fd(_) => path_from(name).to_path_buf(),
            DirAt::Path(p) => p.join(path_from(name)),
        }
    }

    /// `lstat` of entry `name`.
    pub(crate) fn lstat(&self, name: &[u8]) -> Result<Stat, Errno> {
        rustix::fs::statat(self, self.name(name), AtFlags::SYMLINK_NOFOLLOW).map(Stat::from)
    }

    /// `stat` of entry `name`, following a final symlink.
    pub(crate) fn stat(&self, name: &[u8]) -> Result<Stat, Errno> {
        rustix::fs::statat(self, self.name(name), AtFlags::empty()).map(Stat::from)
    }

    /// Opens subdirectory `name` without following a symlink there.
    pub(crate) fn open_dir(&self, name: &[u8]) -> Result<DirAt, Errno> {
        rustix::fs::openat(self, self.name(name), DIR_FLAGS, Mode::empty())
            .map(|fd| DirAt::Fd(Arc::new(fd)))
    }
}

/// How directory handles are opened: for use as the base of `*at` calls
/// only, never through a symlink.
const DIR_FLAGS: OFlags = OFlags::PATH
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Most symlinks one resolution follows (the kernel's limit too).
const MAX_LINKS: usize = 40;

/// Opens the directory `rel` (a relative path) below `root` as a handle,
/// so that no symlink can lead it out of `root`.
///
/// Without `follow_safe` no symlink is followed at all (`ELOOP`); this
/// takes one `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` where the
/// kernel has it. With `follow_safe` (`-K`) it walks one component at a
/// time with `O_NOFOLLOW`, and a symlink is followed only when its target
/// is relative and stays below `root`, as rsync 3.5's receiver does;
/// any other symlink gives `ELOOP`.
pub(crate) fn open_beneath(
    root: BorrowedFd<'_>,
    rel: &[u8],
    follow_safe: bool,
) -> Result<OwnedFd, Errno> {
    if !follow_safe {
        let rel_or_dot: &[u8] = if rel.is_empty() { b"." } else { rel };
        match rustix::fs::openat2(
            root,
            path_from(rel_or_dot),
            DIR_FLAGS,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        ) {
            // A final symlink (ENOTDIR under O_NOFOLLOW) is told apart below.
            Err(Errno::NOSYS | Errno::PERM | Errno::AGAIN | Errno::NOTDIR) => {}
            Err(Errno::XDEV) => return Err(Errno::LOOP),
            r => return r,
        }
    }
    let mut todo: VecDeque<Vec<u8>> = rel.split(|&b| b == b'/').map(<[u8]>::to_vec).collect();
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        if c.is_empty() || c == b"." {
            continue;
        }
        if c == b".." {
            // Above `root`: outside the destination.
            if stack.pop().is_none() {
                return Err(Errno::LOOP);
            }
            continue;
        }
        let cur = stack.last().map_or(root, |f| f.as_fd());
        match rustix::fs::openat(cur, path_from(&c), DIR_FLAGS, Mode::empty()) {
            Ok(fd) => stack.push(fd),
            Err(Errno::NOTDIR | Errno::LOOP) => {
                let Ok(target) = rustix::fs::readlinkat(cur, path_from(&c), Vec::new()) else {
                    return Err(Errno::NOTDIR);
                };
                let target = target.as_bytes();
                links += 1;
                if !follow_safe || target.starts_with(b"/") || links > MAX_LINKS {
                    return Err(Errno::LOOP);
                }
                for t in target.rsplit(|&b| b == b'/') {
                    todo.push_front(t.to_vec());
                }
            }
            Err(e) => return Err(e),
        }
    }
    match stack.pop() {
        Some(fd) => Ok(fd),
        None => rustix::fs::openat(root, ".", DIR_FLAGS, Mode::empty()),
    }
}

/// Opens the destination root itself as a handle (following symlinks:
/// DEST names its directory however it likes, as rsync's `chdir`).
pub(crate) fn open_root(path: &Path) -> Result<DirAt, Errno> {
    let p: &Path = if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    };
    rustix::fs::open(p, DIR_FLAGS.difference(OFlags::NOFOLLOW), Mode::empty())
        .map(|fd| DirAt::Fd(Arc::new(fd)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_beneath_refuses_escaping_links() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("real/deep")).unwrap();
        std::fs::create_dir_all(t.path().join("outside")).unwrap();
        std::os::unix::fs::symlink("real", root.join("inside")).unwrap();
        std::os::unix::fs::symlink("../outside", root.join("out")).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../real/deep", root.join("real/up")).unwrap();
        let r = rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let r = r.as_fd();
        assert!(open_beneath(r, b"real/deep", false).is_ok());
        assert!(open_beneath(r, b"", false).is_ok());
        assert_eq!(open_beneath(r, b"inside", false).err(), Some(Errno::LOOP));
        assert!(open_beneath(r, b"inside", true).is_ok());
        assert!(open_beneath(r, b"real/up", true).is_ok());
        assert_eq!(open_beneath(r, b"out", true).err(), Some(Errno::LOOP));
        assert_eq!(open_beneath(r, b"abs", true).err(), Some(Errno::LOOP));
        assert_eq!(open_beneath(r, b"missing", true).err(), Some(Errno::NOENT));
    }

    #[test]
    fn strerror_matches_rsync_shape() {
        assert_eq!(
            errno_text(rustix::io::Errno::NOENT),
            "No such file or directory (2)"
        );
    }

    #[test]
    fn absolute_is_lexical() {
        assert_eq!(absolute(Path::new("/a/./b//c")), PathBuf::from("/a/b/c"));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(absolute(Path::new("./x")), cwd.join("x"));
    }
}
