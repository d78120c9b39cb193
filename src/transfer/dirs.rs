//! The destination directories as handles: the ones being filled, and
//! how any destination path is reached from the root's handle without
//! following a symlink (see `sys::open_beneath`).

use super::*;

impl Transfer<'_> {
    pub(super) fn leave_dir(&mut self) {
        self.dirs.leave();
    }

    pub(super) fn shown(&self, p: &Path) -> String {
        self.report.esc(sys::bytes(&sys::absolute(p)))
    }

    /// The group new files in the innermost open directory get.
    pub(super) fn new_file_gid(&self) -> u32 {
        match self.dirs.innermost_gid() {
            Some(gid) => gid,
            None => {
                let parent = self.ctx.root.path.clone();
                let root = DirAt::Path(PathBuf::new());
                match self.ctx.fs.stat(&root, sys::bytes(&parent)) {
                    Ok(st) if st.mode & 0o2000 != 0 => st.gid,
                    _ => self.ctx.recv.egid,
                }
            }
        }
    }

    pub(super) fn push_dir(
        &mut self,
        dest: &Path,
        e: &Entry,
        restore: Option<u32>,
        current: Option<Stat>,
    ) {
        self.dirs.fixes.push(DirFix {
            path: dest.to_path_buf(),
            mtime: e.stat.mtime,
            mtime_nsec: e.stat.mtime_nsec,
            restore_mode: restore,
            settled: false,
        });
        let new_file_gid = match current {
            Some(st) if st.mode & 0o2000 != 0 => st.gid,
            _ => self.ctx.recv.egid,
        };
        let at = self.open_dir(dest);
        if self.ctx.opts.keep_dirlinks {
            self.settle_same_dir(dest, &at);
        }
        self.dirs.stack.push(OpenDir {
            path: dest.to_path_buf(),
            at,
            new_file_gid,
        });
    }

    /// Opens destination directory `dest` (just handled) for the entries
    /// below it: relative to its parent's handle, never through a symlink
    /// except the ones `-K` keeps (see `sys::open_beneath`).
    pub(super) fn open_dir(&self, dest: &Path) -> Result<DirAt, Errno> {
        if sys::same_path(dest, &self.ctx.root.path) {
            return Ok(self.ctx.root.at.clone());
        }
        let (d, base) = self.at_of(dest)?;
        match self.ctx.fs.open_dir(&d, &base) {
            Ok(at) => Ok(at),
            Err(Errno::NOTDIR | Errno::LOOP) if self.ctx.opts.keep_dirlinks => {
                self.resolve_dir(dest, true)
            }
            // Nothing there to open: a dry run only pretends to make it.
            Err(_) if matches!(d, DirAt::Path(_)) || self.ctx.opts.dry_run => {
                Ok(DirAt::Path(dest.to_path_buf()))
            }
            Err(e) => Err(e),
        }
    }

    /// The handle of destination directory `dir`: the root's, an open
    /// one's, or resolved anew below the root.
    pub(super) fn dir_handle(&self, dir: &Path) -> Result<DirAt, Errno> {
        if sys::same_path(dir, &self.ctx.root.path) {
            return Ok(self.ctx.root.at.clone());
        }
        if let Some(d) = self.dirs.open(dir) {
            return d.at.clone();
        }
        self.resolve_dir(dir, self.ctx.opts.keep_dirlinks)
    }

    /// A directory `--ignore-existing` keeps where DEST has a symlink:
    /// rsync looks up what is below it through the symlink, so its handle
    /// follows it too, as `-K` does (only a relative target that stays
    /// below the root).
    pub(super) fn follow_kept_dir(&mut self, dest: &Path) {
        let refused = self.dirs.stack.last().is_some_and(|top| {
            top.path == dest && matches!(top.at, Err(Errno::NOTDIR | Errno::LOOP))
        });
        if refused {
            let at = self.resolve_dir(dest, true);
            if let Some(top) = self.dirs.stack.last_mut() {
                top.at = at;
            }
        }
    }

    /// Opens `dir` component by component from the root (see
    /// `sys::open_beneath`); a path outside the root is used as it is.
    fn resolve_dir(&self, dir: &Path, follow_safe: bool) -> Result<DirAt, Errno> {
        match (&self.ctx.root.at, dir.strip_prefix(&self.ctx.root.path)) {
            (DirAt::Fd(root), Ok(rel)) => {
                use std::os::fd::AsFd;
                sys::open_beneath(root.as_fd(), sys::bytes(rel), follow_safe)
                    .map(|fd| DirAt::Fd(Arc::new(fd)))
            }
            _ => Ok(DirAt::Path(dir.to_path_buf())),
        }
    }

    /// `--partial-dir`: the handle of the partial dir for destination
    /// entry `dest` (made first if `create`). A relative one lies in
    /// `dest`'s directory and is opened below its handle; an absolute one
    /// (or one climbing out with `..`) is the user's path.
    pub(super) fn partial_dir_at(&self, dest: &Path, create: bool) -> Result<DirAt, Errno> {
        let Some(pd) = &self.ctx.opts.partial_dir else {
            return Err(Errno::INVAL);
        };
        let climbs = pd
            .components()
            .any(|c| c == std::path::Component::ParentDir);
        if pd.is_absolute() || climbs {
            let p = engine::partial_path(pd, dest);
            let dir = p.parent().unwrap_or(Path::new("")).to_path_buf();
            if create {
                let _ = self.ctx.fs.mkdir_path(&dir, 0o700);
            }
            return Ok(DirAt::Path(dir));
        }
        let (d, _) = self.at_of(dest)?;
        if create {
            match self.ctx.fs.mkdir(&d, sys::bytes(pd), 0o700) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        match &d {
            DirAt::Fd(fd) => {
                use std::os::fd::AsFd;
                sys::open_beneath(fd.as_fd(), sys::bytes(pd), false).map(|f| DirAt::Fd(Arc::new(f)))
            }
            DirAt::Path(_) => Ok(DirAt::Path(d.name(sys::bytes(pd)))),
        }
    }

    /// Where destination entry `dest` is: its directory's handle and its
    /// name in it. The destination root itself is named by its path.
    pub(super) fn at_of(&self, dest: &Path) -> Result<(DirAt, Vec<u8>), Errno> {
        if sys::same_path(dest, &self.ctx.root.path) {
            return Ok((DirAt::Path(PathBuf::new()), sys::bytes(dest).to_vec()));
        }
        let parent = dest.parent().unwrap_or(Path::new(""));
        let base = match dest.file_name() {
            Some(n) => sys::bytes(Path::new(n)).to_vec(),
            None => return Ok((DirAt::Path(PathBuf::new()), sys::bytes(dest).to_vec())),
        };
        Ok((self.dir_handle(parent)?, base))
    }
}
