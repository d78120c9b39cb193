//! The system calls of the copy engine (`engine/`): opening, linking,
//! renaming and removing the files it writes (through the ring where
//! io_uring has an op for it), moving bytes in the kernel
//! (`copy_file_range`), space management for `-S` and `--preallocate`
//! (`fallocate`, `SEEK_DATA`/`SEEK_HOLE`), and the checked close.
//!
//! Each call is a small typed function so that the engine reads as policy
//! (what to do when) and never names `rustix` or `libc` itself.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::Path;

use compio::BufResult;
use compio::buf::IntoInner;
use compio::driver::DriverType;
use compio::driver::op::{OpenFile, Rename, Unlink};
use compio::fs::{File, OpenOptions};
use rustix::fs::{AtFlags, CWD, FallocateFlags, Mode, OFlags, SeekFrom};
use rustix::io::Errno;

use super::{DirAt, Stat};

/// The type bits of a regular file, for a `Stat` built without asking.
pub(crate) const REGULAR_FILE: u32 = libc::S_IFREG;

/// How a file the engine writes is opened (always write-only, never
/// through a final symlink, close-on-exec).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Create {
    /// The destination itself (`--inplace`): made if missing, not
    /// truncated.
    InPlace,
    /// A new temp name: fails with `EEXIST` if the name is taken.
    Exclusive,
    /// An unnamed file (`O_TMPFILE`) in the directory `name` names.
    Unnamed,
}

impl Create {
    fn flags(self) -> OFlags {
        let base = OFlags::WRONLY | OFlags::CLOEXEC;
        match self {
            Create::InPlace => base | OFlags::CREATE | OFlags::NOFOLLOW,
            Create::Exclusive => base | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW,
            Create::Unnamed => base | OFlags::TMPFILE,
        }
    }
}

fn c_name(dir: &DirAt, name: &[u8]) -> io::Result<CString> {
    CString::new(super::bytes(&dir.name(name)).to_vec())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// Makes an open descriptor a ring-driven [`File`].
fn adopt(fd: OwnedFd) -> io::Result<File> {
    compio::runtime::Runtime::with_current(|rt| rt.attach(fd.as_raw_fd()))?;
    // SAFETY: `fd` was just opened and is owned here; `into_raw_fd` gives
    // up that ownership to the `File`, which alone closes it.
    Ok(unsafe { File::from_raw_fd(fd.into_raw_fd()) })
}

/// `openat` of `name` in `dir` through the ring, `mode` for a new file.
pub(crate) async fn open_at(dir: &DirAt, name: &[u8], how: Create, mode: u32) -> io::Result<File> {
    let op = OpenFile::new(
        dir.clone(),
        c_name(dir, name)?,
        how.flags(),
        Mode::from_raw_mode(mode),
    );
    let BufResult(r, op) = compio::runtime::submit(op).await;
    r?;
    adopt(op.into_inner())
}

/// Opens a source file for reading, never through a final symlink;
/// `noatime` adds `O_NOATIME` (refused with `EPERM` on others' files).
pub(crate) async fn open_source(path: &Path, noatime: bool) -> io::Result<File> {
    let noatime = if noatime { libc::O_NOATIME } else { 0 };
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | noatime)
        .open(path)
        .await
}

/// Whether an `O_TMPFILE` open failed because the filesystem (or kernel)
/// has no unnamed files, as opposed to a real error.
pub(crate) fn tmpfile_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOSYS)
    )
}

/// `renameat` through the ring.
pub(crate) async fn rename_at(
    from: &DirAt,
    from_name: &[u8],
    to: &DirAt,
    to_name: &[u8],
) -> io::Result<()> {
    let op = Rename::new(
        from.clone(),
        c_name(from, from_name)?,
        to.clone(),
        c_name(to, to_name)?,
    );
    compio::runtime::submit(op).await.0.map(|_| ())
}

/// `unlinkat` of a file through the ring.
pub(crate) async fn unlink_at(dir: &DirAt, name: &[u8]) -> io::Result<()> {
    let op = Unlink::new(dir.clone(), c_name(dir, name)?, false);
    compio::runtime::submit(op).await.0.map(|_| ())
}

/// `renameat` within one directory, at once (no ring).
pub(crate) fn rename_now(dir: &DirAt, from: &[u8], to: &[u8]) -> io::Result<()> {
    Ok(rustix::fs::renameat(
        dir,
        dir.name(from),
        dir,
        dir.name(to),
    )?)
}

/// `unlinkat` of a file, at once (no ring).
pub(crate) fn unlink_now(dir: &DirAt, name: &[u8]) -> io::Result<()> {
    Ok(rustix::fs::unlinkat(dir, dir.name(name), AtFlags::empty())?)
}

/// Gives the open (unnamed) file `fd` the name `name` in `dir`. Root may
/// link the descriptor itself; others go through `/proc/self/fd`.
/// `EEXIST` if the name is taken.
pub(crate) fn link_fd(fd: BorrowedFd<'_>, dir: &DirAt, name: &[u8]) -> io::Result<()> {
    let dest = dir.name(name);
    match rustix::fs::linkat(fd, "", dir, &dest, AtFlags::EMPTY_PATH) {
        Err(Errno::NOENT | Errno::PERM | Errno::ACCESS | Errno::INVAL) => {
            let proc = format!("/proc/self/fd/{}", fd.as_raw_fd());
            Ok(rustix::fs::linkat(
                CWD,
                proc.as_str(),
                dir,
                &dest,
                AtFlags::SYMLINK_FOLLOW,
            )?)
        }
        other => Ok(other?),
    }
}

/// Locks the open file `fd` (`flock`, exclusive, without waiting): a temp
/// file being written is locked so that no other run takes it for a
/// killed run's debris.
pub(crate) fn lock(fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(rustix::fs::flock(
        fd,
        rustix::fs::FlockOperation::NonBlockingLockExclusive,
    )?)
}

/// `mkdir` of `rel` below `dir` (or of a path, for [`DirAt::Path`]).
pub(crate) fn make_dir_at(dir: &DirAt, rel: &Path, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::mkdirat(dir, rel, Mode::from_raw_mode(mode))?)
}

/// `mkdir` of a path.
pub(crate) fn make_dir(path: &Path, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::mkdir(path, Mode::from_raw_mode(mode))?)
}

/// `fstat` of an open file.
pub(crate) fn stat_fd(fd: BorrowedFd<'_>) -> io::Result<Stat> {
    Ok(rustix::fs::fstat(fd).map(Stat::from)?)
}

/// `ftruncate`: sets the file's length.
pub(crate) fn set_len(fd: BorrowedFd<'_>, len: u64) -> io::Result<()> {
    Ok(rustix::fs::ftruncate(fd, len)?)
}

/// `fchmod` with permission bits `mode`.
pub(crate) fn chmod_fd(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    Ok(rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))?)
}

/// Why `copy_file_range` did not copy.
#[derive(Debug)]
pub(crate) enum RangeError {
    /// This pair of files cannot be copied in the kernel (`EXDEV`,
    /// `EINVAL`, `ENOSYS`, `EOPNOTSUPP`, `EPERM`): read and write instead.
    NotInKernel(io::Error),
    /// The destination refused the bytes (`ENOSPC`, `EDQUOT`, `EFBIG`,
    /// `EROFS`).
    Refused(io::Error),
    /// Anything else (taken as a read error).
    Failed(io::Error),
}

/// One `copy_file_range` of up to `len` bytes at `pos` in both files;
/// `Ok(0)` at the source's end (or where the kernel copies nothing).
pub(crate) fn copy_range(
    src: BorrowedFd<'_>,
    dst: BorrowedFd<'_>,
    pos: u64,
    len: usize,
) -> Result<usize, RangeError> {
    let (mut off_in, mut off_out) = (pos, pos);
    rustix::fs::copy_file_range(src, Some(&mut off_in), dst, Some(&mut off_out), len).map_err(|e| {
        match e {
            Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM => {
                RangeError::NotInKernel(e.into())
            }
            Errno::NOSPC | Errno::DQUOT | Errno::FBIG | Errno::ROFS => {
                RangeError::Refused(e.into())
            }
            _ => RangeError::Failed(e.into()),
        }
    })
}

/// Page-aligned buffers for the ring's buffer pool (each its own
/// anonymous mapping). compio's default allocator (`Box`) returns
/// malloc's blocks, which start 16 bytes into a page; on AMD Zen the
/// kernel's `rep movsb` copy between such a buffer and a page-cache page
/// runs several times slower than between page-aligned ones (perf showed
/// 83% of a 1 GiB write-managed copy in `copy_folio_from_iter_atomic`;
/// compio's own docs point at the same erratum, compio issue 472).
pub(crate) struct PageAligned;

impl compio::driver::BufferAllocator for PageAligned {
    fn allocate(len: u32) -> std::ptr::NonNull<std::mem::MaybeUninit<u8>> {
        let size = (len as usize).max(1);
        // SAFETY: a new private anonymous mapping with no address hint
        // touches no existing memory; the result is checked below.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        let layout =
            std::alloc::Layout::array::<u8>(size).unwrap_or(std::alloc::Layout::new::<u8>());
        if p == libc::MAP_FAILED {
            std::alloc::handle_alloc_error(layout);
        }
        std::ptr::NonNull::new(p.cast()).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
    }

    /// # Safety
    /// `ptr` must come from [`Self::allocate`] with the same `len`.
    unsafe fn deallocate(ptr: std::ptr::NonNull<std::mem::MaybeUninit<u8>>, len: u32) {
        // SAFETY: the caller passes a pointer `allocate` mapped with this
        // `len` (the trait's contract), unmapped once, here.
        unsafe {
            libc::munmap(ptr.as_ptr().cast(), (len as usize).max(1));
        }
    }
}

/// Whether the start of `fd` is in the page cache: a one-byte
/// `preadv2(RWF_NOWAIT)`, which fails with `EAGAIN` instead of waiting for
/// the disk (and starts the readahead then). `true` when it cannot tell
/// (a kernel or file without `RWF_NOWAIT`): the caller's warm choice.
pub(crate) fn start_cached(fd: BorrowedFd<'_>) -> bool {
    let mut byte = [0u8; 1];
    let mut bufs = [std::io::IoSliceMut::new(&mut byte)];
    !matches!(
        rustix::io::preadv2(fd, &mut bufs, 0, rustix::io::ReadWriteFlags::NOWAIT),
        Err(Errno::AGAIN)
    )
}

/// Why an `fallocate` did nothing.
#[derive(Debug)]
pub(crate) enum AllocError {
    /// The filesystem does not do this (`EOPNOTSUPP`, `ENOSYS`, `EINVAL`).
    Unsupported,
    Failed(io::Error),
}

fn fallocate(
    fd: BorrowedFd<'_>,
    mode: FallocateFlags,
    pos: u64,
    len: u64,
) -> Result<(), AllocError> {
    rustix::fs::fallocate(fd, mode, pos, len).map_err(|e| match e {
        Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL => AllocError::Unsupported,
        e => AllocError::Failed(e.into()),
    })
}

/// Deallocates `[pos, pos + len)`, keeping the size.
pub(crate) fn punch_hole(fd: BorrowedFd<'_>, pos: u64, len: u64) -> Result<(), AllocError> {
    let mode = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
    fallocate(fd, mode, pos, len)
}

/// Makes `[pos, pos + len)` read as zeros (`FALLOC_FL_ZERO_RANGE`).
pub(crate) fn zero_range(fd: BorrowedFd<'_>, pos: u64, len: u64) -> Result<(), AllocError> {
    fallocate(fd, FallocateFlags::ZERO_RANGE, pos, len)
}

/// Reserves `[0, len)`; `keep_size` leaves the file's length as it is.
pub(crate) fn allocate(fd: BorrowedFd<'_>, len: u64, keep_size: bool) -> Result<(), AllocError> {
    let mode = if keep_size {
        FallocateFlags::KEEP_SIZE
    } else {
        FallocateFlags::empty()
    };
    fallocate(fd, mode, 0, len)
}

/// Writes `len` zero bytes at `pos` (`pwrite`, synchronously).
pub(crate) fn write_zeros(fd: BorrowedFd<'_>, pos: u64, len: u64) -> io::Result<()> {
    let zeros = [0u8; 4096];
    let mut done = 0u64;
    while done < len {
        let n = (len - done).min(zeros.len() as u64) as usize;
        match rustix::io::pwrite(fd, &zeros[..n], pos + done) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(w) => done += w as u64,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `lseek(SEEK_DATA)`: the first data at or after `pos`; `None` when only
/// a hole is left up to end of file.
pub(crate) fn next_data(fd: BorrowedFd<'_>, pos: u64) -> io::Result<Option<u64>> {
    match rustix::fs::seek(fd, SeekFrom::Data(pos)) {
        Ok(d) => Ok(Some(d)),
        Err(Errno::NXIO) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `lseek(SEEK_HOLE)`: the first hole (or end of file) at or after `pos`.
pub(crate) fn next_hole(fd: BorrowedFd<'_>, pos: u64) -> io::Result<u64> {
    Ok(rustix::fs::seek(fd, SeekFrom::Hole(pos))?)
}

/// Closes `file`, with what closing reported. The ring's close op
/// returns it; compio's polling driver (used where io_uring is refused)
/// drops the descriptor without looking, so there a duplicate is closed
/// first ([`flush`]), which reports the same write-back errors.
pub(crate) async fn close(file: File) -> io::Result<()> {
    let polled = compio::runtime::Runtime::with_current(|rt| rt.driver_type()) == DriverType::Poll;
    let flushed = if polled { flush(&file) } else { Ok(()) };
    let closed = file.close().await;
    flushed.and(closed)
}

/// Reports what closing the file now would report (a network or FUSE
/// filesystem writes back on every close, and says so if that fails),
/// while keeping it open: closes a duplicate of `fd`. For a file that
/// must stay open past the check (an unnamed file until it is linked).
pub(crate) fn flush(fd: impl AsFd) -> io::Result<()> {
    let dup = rustix::io::fcntl_dupfd_cloexec(fd.as_fd(), 0)?;
    let raw = dup.into_raw_fd();
    // SAFETY: `raw` was just duplicated and is owned by nobody else
    // (`into_raw_fd` gave up the `OwnedFd`); it is closed exactly once,
    // here, and never used again.
    let r = unsafe { libc::close(raw) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The file systems the engine tells apart (by `statfs`'s `f_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FsKind {
    /// ext2/3/4 (one magic number).
    Ext4,
    Xfs,
    Btrfs,
    Tmpfs,
    /// Anything else, FUSE and network file systems included.
    Other,
}

impl FsKind {
    /// Whether closing a file here can report an error of its own (a
    /// write-back failure): these four have no `flush` file operation, so
    /// their close always succeeds; any other may (FUSE, NFS, CIFS …).
    pub(crate) fn close_can_fail(self) -> bool {
        self == FsKind::Other
    }

    /// Whether `copy_file_range` here shares the extents instead of
    /// copying them (reflink; XFS made with `-m reflink=1`, the default
    /// since xfsprogs 5.1, and btrfs; measured: a 1 GiB copy in ~6 ms).
    pub(crate) fn shares_extents(self) -> bool {
        matches!(self, FsKind::Xfs | FsKind::Btrfs)
    }
}

/// The kind of file system `fd` (a file or directory, `O_PATH` too) is on;
/// `Other` when `fstatfs` fails.
pub(crate) fn fs_kind(fd: BorrowedFd<'_>) -> FsKind {
    let Ok(st) = rustix::fs::fstatfs(fd) else {
        return FsKind::Other;
    };
    #[allow(clippy::unnecessary_cast)]
    match st.f_type as i64 {
        t if t == libc::EXT4_SUPER_MAGIC as i64 => FsKind::Ext4,
        t if t == libc::XFS_SUPER_MAGIC as i64 => FsKind::Xfs,
        t if t == libc::BTRFS_SUPER_MAGIC as i64 => FsKind::Btrfs,
        t if t == libc::TMPFS_MAGIC as i64 => FsKind::Tmpfs,
        _ => FsKind::Other,
    }
}

/// Whether the first `len` bytes of two files are equal (read with
/// `pread`, so neither file offset moves): `--append-verify`'s check.
/// `b` may be open for writing only: it is reopened for reading through
/// `/proc/self/fd`.
pub(crate) fn same_content(a: BorrowedFd<'_>, b: BorrowedFd<'_>, len: u64) -> io::Result<bool> {
    let proc = format!("/proc/self/fd/{}", b.as_raw_fd());
    let b = rustix::fs::openat(
        CWD,
        proc.as_str(),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let b = b.as_fd();
    let mut x = vec![0u8; 1 << 20];
    let mut y = vec![0u8; 1 << 20];
    let mut pos = 0u64;
    while pos < len {
        let want = ((len - pos) as usize).min(x.len());
        let n = rustix::io::pread(a, &mut x[..want], pos)?;
        if n == 0 {
            return Ok(false);
        }
        let mut got = 0;
        while got < n {
            let m = rustix::io::pread(b, &mut y[got..n], pos + got as u64)?;
            if m == 0 {
                return Ok(false);
            }
            got += m;
        }
        if x[..n] != y[..n] {
            return Ok(false);
        }
        pos += n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn holes_are_found_and_punched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let mut f = std::fs::File::create(&p).unwrap();
        f.write_all(&[7u8; 8192]).unwrap();
        f.set_len(1 << 20).unwrap();
        let fd = f.as_fd();
        assert_eq!(next_data(fd, 0).unwrap(), Some(0));
        let hole = next_hole(fd, 0).unwrap();
        assert!((8192..1 << 20).contains(&hole));
        assert_eq!(next_data(fd, 1 << 20).unwrap_or(None), None);
        match punch_hole(fd, 0, 4096) {
            Ok(()) => assert_eq!(std::fs::read(&p).unwrap()[..4096], [0u8; 4096]),
            Err(AllocError::Unsupported) => {}
            Err(AllocError::Failed(e)) => panic!("punch: {e}"),
        }
    }

    #[test]
    fn only_unknown_file_systems_can_fail_a_close() {
        let f = tempfile::tempfile().unwrap();
        // Whatever /tmp is here, the answer follows from the kind.
        let kind = fs_kind(f.as_fd());
        assert_eq!(kind.close_can_fail(), kind == FsKind::Other);
        assert!(!FsKind::Ext4.close_can_fail());
        assert!(FsKind::Other.close_can_fail());
    }

    #[test]
    fn a_file_just_written_is_cached() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"cached").unwrap();
        assert!(start_cached(f.as_fd()));
        // An empty file has nothing to wait for either.
        let e = tempfile::tempfile().unwrap();
        assert!(start_cached(e.as_fd()));
    }

    #[test]
    fn flush_keeps_the_file_open() {
        let f = tempfile::tempfile().unwrap();
        flush(&f).unwrap();
        // The original is still open and usable.
        assert!(stat_fd(f.as_fd()).is_ok());
    }

    #[test]
    fn files_open_write_and_close_on_either_driver() {
        for driver in [DriverType::Poll, DriverType::IoUring] {
            let mut proactor = compio::driver::ProactorBuilder::new();
            proactor.driver_type(driver);
            let built = compio::runtime::RuntimeBuilder::new()
                .with_proactor(proactor)
                .build();
            // io_uring may be refused here (seccomp, sysctl).
            let Ok(rt) = built else { continue };
            assert_eq!(rt.driver_type(), driver);
            let tmp = tempfile::tempdir().unwrap();
            let dir = DirAt::Path(tmp.path().to_path_buf());
            rt.block_on(async {
                let f = open_at(&dir, b"x", Create::Exclusive, 0o600).await.unwrap();
                assert!(open_at(&dir, b"x", Create::Exclusive, 0o600).await.is_err());
                flush(&f).unwrap();
                close(f).await.unwrap();
                rename_at(&dir, b"x", &dir, b"y").await.unwrap();
                unlink_at(&dir, b"y").await.unwrap();
            });
            assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none());
        }
    }

    #[test]
    fn copy_range_copies_and_classifies() {
        let mut a = tempfile::tempfile().unwrap();
        a.write_all(b"hello world").unwrap();
        let b = tempfile::tempfile().unwrap();
        let n = copy_range(a.as_fd(), b.as_fd(), 0, 64).unwrap();
        assert_eq!(n, 11);
        assert_eq!(stat_fd(b.as_fd()).unwrap().size, 11);
        // A read-only destination is refused with EBADF: not "in-kernel
        // unsupported", a plain failure.
        let ro = std::fs::File::open("/proc/self/exe").unwrap();
        assert!(matches!(
            copy_range(a.as_fd(), ro.as_fd(), 0, 4),
            Err(RangeError::Failed(_))
        ));
    }
}
