//! The destination as a transfer sees and changes it, behind one trait
//! (rsync's `syscall.c` idea): what is there (stat, listing, opening a
//! directory, comparing content for `-c`) and every change (make, link,
//! remove, rename, and the attributes `meta` decides on). The real one
//! acts through directory handles (see `sys::dir_ops`); the dry-run one
//! reads the real destination but only records the changes it is asked
//! for and says they worked, so code that goes through a [`DestFs`] needs
//! no dry-run branch of its own; the in-memory one (`mem`, tests only)
//! holds a whole destination tree, so the planner and the executors are
//! tested without a file system.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::meta::{self, ItemAttrs, Policy, Target, Wanted};
use crate::sys::Errno;
use crate::sys::{self, DirAt, Stat};

#[cfg(test)]
pub(crate) mod mem;

/// What setting an item's attributes did: what changed and the soft
/// failures of its `-X`/`-A`/`--fake-super` work, or the failure that
/// stopped it.
pub(crate) type AttrResult = Result<(meta::Updated, Vec<meta::SoftError>), meta::AttrError>;

/// One change to the destination, as the dry-run [`DestFs`] records it:
/// the operation and the path it names (relative to its directory's
/// handle when it has one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Mkdir(PathBuf),
    Symlink(PathBuf),
    Mknod(PathBuf),
    Link(PathBuf),
    Unlink(PathBuf),
    Rmdir(PathBuf),
    Rename(PathBuf, PathBuf),
    Chmod(PathBuf),
}

/// What a transfer finds at the destination and where its changes go.
/// Entries are named by their directory's handle and their name in it.
pub(crate) trait DestFs: Send + Sync {
    // What is there: the real destination's, which a dry run reads too
    // (the in-memory destination answers from its tree).

    /// `lstat` of entry `name`.
    fn lstat(&self, at: &DirAt, name: &[u8]) -> Result<Stat, Errno> {
        at.lstat(name)
    }
    /// `stat` of entry `name`, through a final symlink (`-K`).
    fn stat(&self, at: &DirAt, name: &[u8]) -> Result<Stat, Errno> {
        at.stat(name)
    }
    /// `lstat` by path (basis dirs, DEST's parent, the hard-link checks).
    fn lstat_path(&self, path: &Path) -> Result<Stat, Errno> {
        sys::lstat(path)
    }
    /// Opens directory entry `name` for what goes below it, never through
    /// a symlink.
    fn open_dir(&self, at: &DirAt, name: &[u8]) -> Result<DirAt, Errno> {
        at.open_dir(name)
    }
    /// The entries of directory `dir`, in its listing order.
    fn list(&self, dir: &Path) -> Result<Vec<(Vec<u8>, Stat)>, Errno> {
        let listing = crate::scan::list_dir(dir)?;
        Ok(listing.iter().map(|(n, s)| (n.to_vec(), *s)).collect())
    }
    /// A symlink's target, by path.
    fn readlink_path(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        sys::fs::readlink(path)
    }
    /// `-c`: whether file `dest` holds the same bytes as source `src`.
    fn same_content(&self, src: &Path, dest: &Path) -> Result<bool, Errno> {
        sys::fs::same_content(src, dest).map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
    }

    // Changes.

    fn mkdir(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno>;
    /// `mkdir` by path, for DEST itself and `--mkpath` (no handle yet).
    fn mkdir_path(&self, path: &Path, mode: u32) -> Result<(), Errno>;
    /// `mkdir -p` by path (the directories on the way to a `-R` path).
    fn mkdir_all(&self, path: &Path) -> Result<(), Errno>;
    fn symlink(&self, at: &DirAt, name: &[u8], target: &[u8]) -> Result<(), Errno>;
    fn mknod(
        &self,
        at: &DirAt,
        name: &[u8],
        st_mode: u32,
        perm: u32,
        rdev: u64,
    ) -> Result<(), Errno>;
    /// Makes entry `name` a hard link to the file at path `existing`.
    fn link_from(&self, at: &DirAt, name: &[u8], existing: &Path) -> Result<(), Errno>;
    fn unlink(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno>;
    fn rmdir(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno>;
    /// `rmdir` by path (a partial dir outside any handle).
    fn rmdir_path(&self, path: &Path) -> Result<(), Errno>;
    fn rename(&self, at: &DirAt, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno>;
    /// Removes `name`, a temp file of an earlier arsync run, if it proves
    /// stale (see `DirAt::remove_stale_temp`); whether it did.
    fn remove_stale_temp(&self, at: &DirAt, name: &[u8]) -> Result<bool, Errno>;
    /// `unlink` by path (an item outside any handle).
    fn unlink_path(&self, path: &Path) -> Result<(), Errno>;
    /// `chmod` of entry `name` (a normal user's `u+rwx` on a directory).
    fn chmod(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno>;
    /// Gives entry `name` (now `current`) the attributes `meta` decides
    /// on for `want` under `policy`, with the item's `extra` work.
    fn set_attrs(&self, at: &DirAt, name: &[u8], attrs: Attrs<'_>) -> AttrResult;
}

/// What [`DestFs::set_attrs`] is asked to do for one item.
#[derive(Clone, Copy)]
pub(crate) struct Attrs<'a> {
    pub current: &'a Stat,
    pub want: &'a Wanted,
    pub policy: &'a Policy,
    pub extra: Option<&'a ItemAttrs>,
}

impl Attrs<'_> {
    /// Applies them through `door` (`meta::apply_full`).
    pub(crate) fn apply(&self, door: &impl meta::AttrDoor) -> AttrResult {
        meta::apply_full(door, self.current, self.want, self.policy, self.extra)
    }
}

/// The destination of a run: the real one, or a dry run's.
pub(crate) fn for_dry_run(dry_run: bool) -> Arc<dyn DestFs> {
    if dry_run {
        Arc::new(DryRun::default())
    } else {
        Arc::new(Real::new())
    }
}

/// Does what it is asked.
pub(crate) struct Real {
    /// Temp files changed since then may belong to a run going on now: a
    /// margin before this run started, for coarse file system clocks.
    /// Nanoseconds since the epoch.
    stale_before: i128,
}

impl Real {
    pub(crate) fn new() -> Real {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        Real {
            stale_before: now - STALE_MARGIN_NANOS,
        }
    }
}

/// How long before this run's start a temp file must have last changed to
/// be taken for a killed run's: 2 s.
const STALE_MARGIN_NANOS: i128 = 2_000_000_000;

impl DestFs for Real {
    fn mkdir(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno> {
        at.mkdir(name, mode)
    }
    fn mkdir_path(&self, path: &Path, mode: u32) -> Result<(), Errno> {
        sys::mkdir(path, mode)
    }
    fn mkdir_all(&self, path: &Path) -> Result<(), Errno> {
        sys::mkdir_all(path)
    }
    fn symlink(&self, at: &DirAt, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        at.symlink(name, target)
    }
    fn mknod(
        &self,
        at: &DirAt,
        name: &[u8],
        st_mode: u32,
        perm: u32,
        rdev: u64,
    ) -> Result<(), Errno> {
        at.mknod(name, st_mode, perm, rdev)
    }
    fn link_from(&self, at: &DirAt, name: &[u8], existing: &Path) -> Result<(), Errno> {
        at.link_from(name, existing)
    }
    fn unlink(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        at.unlink(name)
    }
    fn rmdir(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        at.rmdir(name)
    }
    fn rmdir_path(&self, path: &Path) -> Result<(), Errno> {
        sys::rmdir(path)
    }
    fn rename(&self, at: &DirAt, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno> {
        at.rename(name, to, to_name)
    }
    fn remove_stale_temp(&self, at: &DirAt, name: &[u8]) -> Result<bool, Errno> {
        at.remove_stale_temp(name, self.stale_before)
    }
    fn unlink_path(&self, path: &Path) -> Result<(), Errno> {
        sys::unlink(path)
    }
    fn chmod(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno> {
        at.chmod(name, mode & 0o7777)
    }
    fn set_attrs(&self, at: &DirAt, name: &[u8], attrs: Attrs<'_>) -> AttrResult {
        let path = at.name(name);
        attrs.apply(&Target::<std::fs::File>::At(at.as_fd(), &path))
    }
}

/// Changes nothing and reports success; a recording one (for tests)
/// keeps each operation, by the path it names. A run's does not, so a
/// dry run of a large tree costs no memory for it.
#[derive(Default)]
pub(crate) struct DryRun {
    ops: Option<Mutex<Vec<Op>>>,
}

impl DryRun {
    /// A dry run that keeps what it was asked to do.
    #[cfg(test)]
    pub(crate) fn recording() -> DryRun {
        DryRun {
            ops: Some(Mutex::default()),
        }
    }

    /// What was asked for so far, in order (when recording).
    #[cfg(test)]
    pub(crate) fn ops(&self) -> Vec<Op> {
        match &self.ops {
            Some(m) => m.lock().map(|v| v.clone()).unwrap_or_default(),
            None => Vec::new(),
        }
    }

    fn record(&self, op: impl FnOnce() -> Op) -> Result<(), Errno> {
        if let Some(Ok(mut v)) = self.ops.as_ref().map(Mutex::lock) {
            v.push(op());
        }
        Ok(())
    }
}

impl DestFs for DryRun {
    fn mkdir(&self, at: &DirAt, name: &[u8], _: u32) -> Result<(), Errno> {
        self.record(|| Op::Mkdir(at.name(name)))
    }
    fn mkdir_path(&self, path: &Path, _: u32) -> Result<(), Errno> {
        self.record(|| Op::Mkdir(path.to_path_buf()))
    }
    fn mkdir_all(&self, path: &Path) -> Result<(), Errno> {
        self.record(|| Op::Mkdir(path.to_path_buf()))
    }
    fn symlink(&self, at: &DirAt, name: &[u8], _: &[u8]) -> Result<(), Errno> {
        self.record(|| Op::Symlink(at.name(name)))
    }
    fn mknod(&self, at: &DirAt, name: &[u8], _: u32, _: u32, _: u64) -> Result<(), Errno> {
        self.record(|| Op::Mknod(at.name(name)))
    }
    fn link_from(&self, at: &DirAt, name: &[u8], _: &Path) -> Result<(), Errno> {
        self.record(|| Op::Link(at.name(name)))
    }
    fn unlink(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        self.record(|| Op::Unlink(at.name(name)))
    }
    fn rmdir(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        self.record(|| Op::Rmdir(at.name(name)))
    }
    fn rmdir_path(&self, path: &Path) -> Result<(), Errno> {
        self.record(|| Op::Rmdir(path.to_path_buf()))
    }
    fn rename(&self, at: &DirAt, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno> {
        self.record(|| Op::Rename(at.name(name), to.name(to_name)))
    }
    fn remove_stale_temp(&self, at: &DirAt, name: &[u8]) -> Result<bool, Errno> {
        self.record(|| Op::Unlink(at.name(name))).map(|()| true)
    }
    fn unlink_path(&self, path: &Path) -> Result<(), Errno> {
        self.record(|| Op::Unlink(path.to_path_buf()))
    }
    fn chmod(&self, at: &DirAt, name: &[u8], _: u32) -> Result<(), Errno> {
        self.record(|| Op::Chmod(at.name(name)))
    }
    /// Works out what would change (reading the real item), changing
    /// nothing whatever the policy says.
    fn set_attrs(&self, at: &DirAt, name: &[u8], attrs: Attrs<'_>) -> AttrResult {
        let policy = Policy {
            dry_run: true,
            ..*attrs.policy
        };
        let path = at.name(name);
        let target = Target::<std::fs::File>::At(at.as_fd(), &path);
        Attrs {
            policy: &policy,
            ..attrs
        }
        .apply(&target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_changes_nothing_and_records_everything() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let at = sys::open_root(t.path()).unwrap();
        let fs = DryRun::recording();
        fs.mkdir(&at, b"d", 0o755).unwrap();
        fs.symlink(&at, b"l", b"f").unwrap();
        fs.unlink(&at, b"f").unwrap();
        fs.rename(&at, b"f", &at, b"g").unwrap();
        fs.mkdir_path(&t.path().join("p"), 0o755).unwrap();
        // Nothing changed: still only the one file.
        let names: Vec<_> = std::fs::read_dir(t.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        assert_eq!(
            fs.ops(),
            [
                Op::Mkdir("d".into()),
                Op::Symlink("l".into()),
                Op::Unlink("f".into()),
                Op::Rename("f".into(), "g".into()),
                Op::Mkdir(t.path().join("p")),
            ]
        );
    }

    #[test]
    fn a_run_s_dry_run_keeps_no_record() {
        let fs = DryRun::default();
        fs.mkdir_path(Path::new("/nonexistent/x"), 0o755).unwrap();
        assert!(fs.ops().is_empty());
    }

    #[test]
    fn the_real_one_changes_the_destination() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("f"), b"x").unwrap();
        let at = sys::open_root(t.path()).unwrap();
        let fs = for_dry_run(false);
        fs.mkdir(&at, b"d", 0o755).unwrap();
        fs.link_from(&at, b"h", &t.path().join("f")).unwrap();
        fs.rename(&at, b"h", &at, b"g").unwrap();
        fs.unlink(&at, b"f").unwrap();
        fs.rmdir(&at, b"d").unwrap();
        assert_eq!(std::fs::read(t.path().join("g")).unwrap(), b"x");
        assert!(!t.path().join("f").exists());
        assert!(!t.path().join("d").exists());
        assert_eq!(fs.unlink(&at, b"f"), Err(Errno::NOENT));
    }
}
