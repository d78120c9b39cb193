//! An in-memory destination (tests only): a whole tree of directories,
//! files, symlinks and nodes keyed by path, with a kernel's rules for what
//! each change may do (`EEXIST`, `ENOENT`, `ENOTDIR`, `ENOTEMPTY`, `EISDIR`,
//! rename over a non-directory, the umask, chown clearing set-id bits).
//! The planner and the executors are tested against it: its root lies
//! under a path that does not exist, so anything that bypasses [`DestFs`]
//! fails instead of touching a real file system.
//!
//! Directories are named by path ([`DirAt::Path`]); a handle ([`DirAt::Fd`])
//! is refused with `EBADF`. No xattrs or ACLs: `set_attrs` with an item's
//! `-X`/`-A` work panics.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::{AttrResult, Attrs, DestFs, Op};
use crate::sys::mode::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::sys::{DirAt, Errno, Kind, Stat};

/// One item: its stat, and a symlink's target or a file's bytes.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub st: Stat,
    pub data: Vec<u8>,
}

#[derive(Default)]
struct Tree {
    nodes: BTreeMap<PathBuf, Node>,
    ops: Vec<Op>,
    next_ino: u64,
    /// Changes naming these paths fail with the error given.
    failing: Vec<(PathBuf, Errno)>,
}

impl Tree {
    /// The error a change naming `k` is to fail with, if any.
    fn refuses(&self, k: &Path) -> Result<(), Errno> {
        match self.failing.iter().find(|(p, _)| p == k) {
            Some((_, e)) => Err(*e),
            None => Ok(()),
        }
    }
}

/// The in-memory destination (see the module header).
pub(crate) struct Mem {
    tree: Mutex<Tree>,
    umask: u32,
    /// Owner of what it makes.
    uid: u32,
    gid: u32,
    /// The time new items get.
    now: i64,
}

/// A path as a key: `.` components and trailing slashes dropped, `..`
/// taken lexically (the tree's symlinks are resolved by [`Mem::resolve`]).
fn key(p: &Path) -> PathBuf {
    let mut k = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                k.pop();
            }
            c => k.push(c),
        }
    }
    k
}

fn parent_of(k: &Path) -> PathBuf {
    k.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// What `name` of directory `at` is called here.
fn at_key(at: &DirAt, name: &[u8]) -> Result<PathBuf, Errno> {
    match at {
        DirAt::Path(_) => Ok(key(&at.name(name))),
        DirAt::Fd(_) => Err(Errno::BADF),
    }
}

impl Mem {
    /// A tree holding only directory `root` (and the directories above it).
    pub(crate) fn with_root(root: &Path) -> Mem {
        let m = Mem {
            tree: Mutex::default(),
            umask: 0o022,
            uid: 0,
            gid: 0,
            now: 1_700_000_000,
        };
        let mut k = PathBuf::new();
        for c in key(root).components() {
            k.push(c);
            m.put(&k, S_IFDIR | 0o755, b"");
        }
        m.take_ops();
        m
    }

    /// A new item as this tree makes it: a fresh inode, its owner, now.
    fn new_node(&self, t: &mut Tree, mode: u32, data: &[u8]) -> Node {
        t.next_ino += 1;
        let st = Stat {
            mode,
            uid: self.uid,
            gid: self.gid,
            size: data.len() as u64,
            mtime: self.now,
            mtime_nsec: 0,
            atime: self.now,
            rdev: 0,
            dev: 1,
            ino: t.next_ino,
            nlink: 1,
        };
        Node {
            st,
            data: data.to_vec(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tree> {
        self.tree.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts an item at `path` as a test sets the scene (its parent must
    /// exist); mode with type bits, `data` a file's bytes or a link's
    /// target.
    pub(crate) fn put(&self, path: &Path, mode: u32, data: &[u8]) -> Stat {
        let mut t = self.lock();
        let node = self.new_node(&mut t, mode, data);
        let st = node.st;
        t.nodes.insert(key(path), node);
        st
    }

    /// The item at `path`, if any.
    pub(crate) fn get(&self, path: &Path) -> Option<Node> {
        self.lock().nodes.get(&key(path)).cloned()
    }

    /// Changes the item at `path` as a test sets the scene.
    pub(crate) fn edit(&self, path: &Path, f: impl FnOnce(&mut Node)) {
        if let Some(n) = self.lock().nodes.get_mut(&key(path)) {
            f(n);
        }
    }

    /// The names directly below `dir`, sorted.
    pub(crate) fn names(&self, dir: &Path) -> Vec<String> {
        self.list(dir)
            .unwrap_or_default()
            .into_iter()
            .map(|(n, _)| String::from_utf8_lossy(&n).into_owned())
            .collect()
    }

    /// Makes every later change naming `path` fail with `errno`.
    pub(crate) fn fail(&self, path: &Path, errno: Errno) {
        self.lock().failing.push((key(path), errno));
    }

    /// The changes made so far (by `DestFs` calls), and forgets them.
    pub(crate) fn take_ops(&self) -> Vec<Op> {
        std::mem::take(&mut self.lock().ops)
    }

    /// Makes a new item at `k`: its parent must be a directory, and the
    /// name free.
    fn create(&self, k: PathBuf, mode: u32, data: &[u8], op: Op) -> Result<(), Errno> {
        let mut t = self.lock();
        t.refuses(&k)?;
        match t.nodes.get(&parent_of(&k)) {
            Some(p) if p.st.kind() == Kind::Dir => {}
            Some(_) => return Err(Errno::NOTDIR),
            None => return Err(Errno::NOENT),
        }
        if t.nodes.contains_key(&k) {
            return Err(Errno::EXIST);
        }
        let node = self.new_node(&mut t, mode, data);
        t.nodes.insert(k, node);
        t.ops.push(op);
        Ok(())
    }

    /// Removes the item at `k`: a directory only with `dir` and when
    /// empty, anything else only without.
    fn remove(&self, k: PathBuf, dir: bool, op: Op) -> Result<(), Errno> {
        let mut t = self.lock();
        t.refuses(&k)?;
        let is_dir = match t.nodes.get(&k) {
            None => return Err(Errno::NOENT),
            Some(n) => n.st.kind() == Kind::Dir,
        };
        match (dir, is_dir) {
            (true, false) => return Err(Errno::NOTDIR),
            (false, true) => return Err(Errno::ISDIR),
            _ => {}
        }
        if is_dir && t.nodes.keys().any(|c| c.parent() == Some(k.as_path())) {
            return Err(Errno::NOTEMPTY);
        }
        t.nodes.remove(&k);
        t.ops.push(op);
        Ok(())
    }

    /// The item at `k`, through symlinks (relative to their directory).
    fn resolve(&self, k: &Path) -> Result<Node, Errno> {
        let t = self.lock();
        let mut k = k.to_path_buf();
        for _ in 0..40 {
            let n = t.nodes.get(&k).ok_or(Errno::NOENT)?;
            if n.st.kind() != Kind::Symlink {
                return Ok(n.clone());
            }
            k = key(&parent_of(&k).join(crate::sys::path_from(&n.data)));
        }
        Err(Errno::LOOP)
    }

    /// Changes the item at `k` (an attribute change).
    fn change(&self, k: &Path, f: impl FnOnce(&mut Stat)) -> Result<(), Errno> {
        let mut t = self.lock();
        t.refuses(k)?;
        let n = t.nodes.get_mut(k).ok_or(Errno::NOENT)?;
        f(&mut n.st);
        Ok(())
    }
}

impl DestFs for Mem {
    fn lstat(&self, at: &DirAt, name: &[u8]) -> Result<Stat, Errno> {
        self.lstat_path(&at_key(at, name)?)
    }
    fn stat(&self, at: &DirAt, name: &[u8]) -> Result<Stat, Errno> {
        self.resolve(&at_key(at, name)?).map(|n| n.st)
    }
    fn lstat_path(&self, path: &Path) -> Result<Stat, Errno> {
        let t = self.lock();
        t.nodes.get(&key(path)).map(|n| n.st).ok_or(Errno::NOENT)
    }
    fn open_dir(&self, at: &DirAt, name: &[u8]) -> Result<DirAt, Errno> {
        let k = at_key(at, name)?;
        match self.lstat_path(&k)?.kind() {
            Kind::Dir => Ok(DirAt::Path(k)),
            Kind::Symlink => Err(Errno::LOOP),
            _ => Err(Errno::NOTDIR),
        }
    }
    fn list(&self, dir: &Path) -> Result<Vec<(Vec<u8>, Stat)>, Errno> {
        let k = key(dir);
        let t = self.lock();
        match t.nodes.get(&k) {
            Some(n) if n.st.kind() == Kind::Dir => {}
            Some(_) => return Err(Errno::NOTDIR),
            None => return Err(Errno::NOENT),
        }
        let below = t
            .nodes
            .iter()
            .filter(|(c, _)| c.parent() == Some(k.as_path()));
        let name =
            |c: &Path| crate::sys::bytes(Path::new(c.file_name().unwrap_or_default())).to_vec();
        Ok(below.map(|(c, n)| (name(c), n.st)).collect())
    }
    fn readlink_path(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        match self.get(path) {
            Some(n) if n.st.kind() == Kind::Symlink => Ok(n.data),
            Some(_) => Err(Errno::INVAL),
            None => Err(Errno::NOENT),
        }
    }
    fn same_content(&self, src: &Path, dest: &Path) -> Result<bool, Errno> {
        let (a, b) = (self.get(src), self.get(dest));
        match (a, b) {
            (Some(a), Some(b)) => Ok(a.data == b.data),
            _ => Err(Errno::NOENT),
        }
    }
    fn mkdir(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        let mode = S_IFDIR | (mode & 0o7777 & !self.umask);
        self.create(k.clone(), mode, b"", Op::Mkdir(k))
    }
    fn mkdir_path(&self, path: &Path, mode: u32) -> Result<(), Errno> {
        self.mkdir(&DirAt::Path(PathBuf::new()), crate::sys::bytes(path), mode)
    }
    fn mkdir_all(&self, path: &Path) -> Result<(), Errno> {
        let mut k = PathBuf::new();
        for c in key(path).components() {
            k.push(c);
            match self.mkdir_path(&k, 0o777) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
    fn symlink(&self, at: &DirAt, name: &[u8], target: &[u8]) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        self.create(k.clone(), S_IFLNK | 0o777, target, Op::Symlink(k))
    }
    fn mknod(
        &self,
        at: &DirAt,
        name: &[u8],
        st_mode: u32,
        perm: u32,
        rdev: u64,
    ) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        let mode = (st_mode & S_IFMT) | (perm & 0o7777 & !self.umask);
        self.create(k.clone(), mode, b"", Op::Mknod(k.clone()))?;
        self.change(&k, |st| st.rdev = rdev)
    }
    fn link_from(&self, at: &DirAt, name: &[u8], existing: &Path) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        let from = key(existing);
        let mut t = self.lock();
        t.refuses(&k)?;
        let mut node = t.nodes.get(&from).cloned().ok_or(Errno::NOENT)?;
        if node.st.kind() == Kind::Dir {
            return Err(Errno::PERM);
        }
        if t.nodes.contains_key(&k) {
            return Err(Errno::EXIST);
        }
        if !t.nodes.contains_key(&parent_of(&k)) {
            return Err(Errno::NOENT);
        }
        node.st.nlink += 1;
        let ino = node.st.ino;
        for n in t.nodes.values_mut().filter(|n| n.st.ino == ino) {
            n.st.nlink = node.st.nlink;
        }
        t.nodes.insert(k.clone(), node);
        t.ops.push(Op::Link(k));
        Ok(())
    }
    fn unlink(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        self.remove(k.clone(), false, Op::Unlink(k))
    }
    fn rmdir(&self, at: &DirAt, name: &[u8]) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        self.remove(k.clone(), true, Op::Rmdir(k))
    }
    fn rmdir_path(&self, path: &Path) -> Result<(), Errno> {
        self.remove(key(path), true, Op::Rmdir(key(path)))
    }
    fn rename(&self, at: &DirAt, name: &[u8], to: &DirAt, to_name: &[u8]) -> Result<(), Errno> {
        let (from, dest) = (at_key(at, name)?, at_key(to, to_name)?);
        let mut t = self.lock();
        t.refuses(&from)?;
        t.refuses(&dest)?;
        let node = t.nodes.get(&from).cloned().ok_or(Errno::NOENT)?;
        if let Some(old) = t.nodes.get(&dest) {
            match (node.st.kind() == Kind::Dir, old.st.kind() == Kind::Dir) {
                (false, true) => return Err(Errno::ISDIR),
                (true, false) => return Err(Errno::NOTDIR),
                _ => {}
            }
        }
        // The item and everything below it move.
        let moved: Vec<PathBuf> = t
            .nodes
            .keys()
            .filter(|p| p.starts_with(&from))
            .cloned()
            .collect();
        for p in moved {
            if let Some(n) = t.nodes.remove(&p) {
                let rest = p
                    .strip_prefix(&from)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                t.nodes.insert(dest.join(rest), n);
            }
        }
        t.ops.push(Op::Rename(from, dest));
        Ok(())
    }
    fn remove_stale_temp(&self, at: &DirAt, name: &[u8]) -> Result<bool, Errno> {
        self.unlink(at, name).map(|()| true)
    }
    fn unlink_path(&self, path: &Path) -> Result<(), Errno> {
        self.remove(key(path), false, Op::Unlink(key(path)))
    }
    fn chmod(&self, at: &DirAt, name: &[u8], mode: u32) -> Result<(), Errno> {
        let k = at_key(at, name)?;
        self.change(&k, |st| st.mode = (st.mode & S_IFMT) | (mode & 0o7777))?;
        self.lock().ops.push(Op::Chmod(k));
        Ok(())
    }
    fn set_attrs(&self, at: &DirAt, name: &[u8], attrs: Attrs<'_>) -> AttrResult {
        assert!(
            attrs.extra.is_none(),
            "the in-memory destination has no xattrs or ACLs"
        );
        let door = Door {
            mem: self,
            key: at_key(at, name).map_err(|errno| crate::meta::AttrError {
                what: "failed to set times on",
                errno,
            })?,
        };
        attrs.apply(&door)
    }
}

/// One item's attributes, as `meta` changes them.
struct Door<'m> {
    mem: &'m Mem,
    key: PathBuf,
}

impl crate::meta::AttrDoor for Door<'_> {
    fn chown(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        self.mem.change(&self.key, |st| {
            st.uid = uid;
            st.gid = gid;
            // As the kernel does for a file that is not a directory.
            if st.mode & S_IFMT == S_IFREG {
                st.mode &= !0o6000;
            }
        })
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.mem.lstat_path(&self.key)
    }
    fn set_times(&self, atime: Option<i64>, mtime: Option<(i64, u32)>) -> Result<(), Errno> {
        self.mem.change(&self.key, |st| {
            if let Some(a) = atime {
                st.atime = a;
            }
            if let Some((s, ns)) = mtime {
                (st.mtime, st.mtime_nsec) = (s, ns);
            }
        })
    }
    fn chmod(&self, mode: u32) -> Result<(), Errno> {
        self.mem.change(&self.key, |st| {
            st.mode = (st.mode & S_IFMT) | (mode & 0o7777)
        })
    }
    fn with_on<R>(&self, _: impl FnOnce(crate::meta::run::On<'_>) -> R) -> Option<R> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (Mem, DirAt) {
        let m = Mem::with_root(Path::new("/nonexistent-arsync/dst"));
        (m, DirAt::Path("/nonexistent-arsync/dst".into()))
    }

    #[test]
    fn it_keeps_a_kernel_s_rules() {
        let (m, at) = root();
        m.mkdir(&at, b"d", 0o777).unwrap();
        assert_eq!(m.lstat(&at, b"d").unwrap().mode, S_IFDIR | 0o755);
        assert_eq!(m.mkdir(&at, b"d", 0o755), Err(Errno::EXIST));
        assert_eq!(m.mkdir(&at, b"x/y", 0o755), Err(Errno::NOENT));
        m.symlink(&at, b"d/l", b"../f").unwrap();
        assert_eq!(m.rmdir(&at, b"d"), Err(Errno::NOTEMPTY));
        assert_eq!(m.unlink(&at, b"d"), Err(Errno::ISDIR));
        assert_eq!(m.stat(&at, b"d/l"), Err(Errno::NOENT));
        m.put(
            Path::new("/nonexistent-arsync/dst/f"),
            S_IFREG | 0o644,
            b"x",
        );
        assert_eq!(m.stat(&at, b"d/l").unwrap().size, 1);
        m.rename(&at, b"d", &at, b"e").unwrap();
        assert_eq!(m.names(Path::new("/nonexistent-arsync/dst")), ["e", "f"]);
        assert_eq!(m.open_dir(&at, b"f").err(), Some(Errno::NOTDIR));
        assert!(m.lstat(&DirAt::Path("/elsewhere".into()), b"f").is_err());
    }
}
