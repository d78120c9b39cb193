//! Backups (`-b`, `--backup-dir`, `--suffix`): keeping the old version of a
//! destination entry before it is replaced or deleted.
//!
//! Names follow rsync: `NAME~` next to the file, or `BACKUP_DIR/PATH`
//! (relative to the destination) with missing directories created after
//! their destination counterparts. A file about to be replaced is
//! hard-linked to its backup name first, so the destination never lacks
//! the file; one being deleted is simply renamed.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use rustix::fs::Mode;
use rustix::io::Errno;

use crate::report::Report;
use crate::sys::{self, Kind, Stat};

/// Backup settings resolved against the destination.
#[derive(Clone, Debug)]
pub struct Backup {
    /// The destination root; backup names are built from paths below it.
    root: PathBuf,
    /// `--backup-dir`, relative to `root` unless absolute.
    dir: Option<PathBuf>,
    suffix: Vec<u8>,
    dry_run: bool,
    /// -vv: "backed up X to Y".
    verbose: bool,
}

impl Backup {
    pub fn new(
        root: &Path,
        dir: Option<&Path>,
        suffix: &OsString,
        dry_run: bool,
        verbose: bool,
    ) -> Backup {
        let dir = dir.map(|d| {
            if d.is_absolute() {
                d.to_path_buf()
            } else {
                root.join(d)
            }
        });
        Backup {
            root: root.to_path_buf(),
            dir,
            suffix: suffix.as_bytes().to_vec(),
            dry_run,
            verbose,
        }
    }

    /// The line rsync prints at -vv before the transfer, if any.
    pub fn announce(&self, shown_dir: Option<&Path>) -> Option<String> {
        let shown = shown_dir?;
        let exists = self.dir.as_ref().is_some_and(|d| sys::stat(d).is_ok());
        let shown = String::from_utf8_lossy(sys::bytes(shown)).into_owned();
        Some(if exists {
            format!("backup_dir is {shown}")
        } else {
            format!("(new) backup_dir is {shown}")
        })
    }

    fn local<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }

    /// Whether deleting `path` makes a backup: without a backup dir,
    /// files that already are backups (end in the suffix) are just deleted.
    pub fn applies_to(&self, path: &Path) -> bool {
        if self.dir.is_some() {
            return true;
        }
        let name = sys::bytes(path);
        !(name.len() > self.suffix.len() && name.ends_with(&self.suffix))
    }

    /// Where `path` (a destination path) is backed up to.
    pub fn name_for(&self, path: &Path) -> PathBuf {
        let mut name = match &self.dir {
            Some(d) => d.join(self.local(path)).into_os_string().into_vec(),
            None => path.as_os_str().as_bytes().to_vec(),
        };
        name.extend_from_slice(&self.suffix);
        PathBuf::from(OsString::from_vec(name))
    }

    /// Creates the missing directories of a backup path, each with the
    /// permissions and owner of its destination counterpart.
    fn make_parents(&self, backup: &Path) -> io::Result<()> {
        let (Some(dir), Some(parent)) = (&self.dir, backup.parent()) else {
            return Ok(());
        };
        let mut missing = Vec::new();
        let mut p = parent.to_path_buf();
        while sys::lstat(&p).is_err() {
            missing.push(p.clone());
            if !p.pop() || p.as_os_str().is_empty() {
                break;
            }
        }
        for d in missing.iter().rev() {
            let counterpart = d
                .strip_prefix(dir)
                .ok()
                .map(|rel| self.root.join(rel))
                .and_then(|c| sys::lstat(&c).ok())
                .filter(|st| st.kind() == Kind::Dir);
            let mode = counterpart.map_or(0o777, |st| st.mode & 0o7777);
            match rustix::fs::mkdir(d, Mode::from_raw_mode(mode)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
            if let Some(st) = counterpart {
                let _ = rustix::fs::chmod(d, Mode::from_raw_mode(st.mode & 0o7777));
                let _ = rustix::fs::chownat(
                    rustix::fs::CWD,
                    d,
                    Some(rustix::fs::Uid::from_raw(st.uid)),
                    Some(rustix::fs::Gid::from_raw(st.gid)),
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                );
            }
        }
        Ok(())
    }

    /// Backs up `path` (currently `st`) ahead of its deletion: renamed to
    /// its backup name. Directories are not backed up.
    pub fn make(&mut self, report: &mut Report, path: &Path, st: &Stat) -> io::Result<()> {
        if st.kind() == Kind::Dir {
            return if self.dry_run {
                Ok(())
            } else {
                rustix::fs::rmdir(path).map_err(Into::into)
            };
        }
        let to = self.name_for(path);
        if !self.dry_run {
            self.make_parents(&to)?;
            if let Err(e) = rustix::fs::rename(path, &to) {
                if e != Errno::XDEV {
                    return Err(e.into());
                }
                copy_across(path, &to, st)?;
                rustix::fs::unlink(path)?;
            }
        }
        self.report(report, path, &to);
        Ok(())
    }

    /// Backs up a file that is about to be replaced: a hard link under the
    /// backup name (the original stays in place until the new version is
    /// renamed over it), or a copy across filesystems.
    pub fn keep_before_replace(&self, path: &Path) -> io::Result<Option<PathBuf>> {
        let st = match sys::lstat(path) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let to = self.name_for(path);
        if self.dry_run {
            return Ok(Some(to));
        }
        self.make_parents(&to)?;
        match rustix::fs::unlink(&to) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) if e == Errno::ISDIR => {
                let _ = rustix::fs::rmdir(&to);
            }
            Err(e) => return Err(e.into()),
        }
        match rustix::fs::link(path, &to) {
            Ok(()) => {}
            Err(Errno::XDEV | Errno::PERM | Errno::MLINK) => copy_across(path, &to, &st)?,
            Err(e) => return Err(e.into()),
        }
        Ok(Some(to))
    }

    /// The -vv line for a backup, if -vv.
    pub fn line(&self, report: &Report, from: &Path, to: &Path) -> Option<String> {
        self.verbose.then(|| {
            let from = report.esc(sys::bytes(self.local(from)));
            let to = report.esc(sys::bytes(self.local(to)));
            format!("backed up {from} to {to}")
        })
    }

    /// Prints the -vv line for a backup.
    pub fn report(&self, report: &mut Report, from: &Path, to: &Path) {
        if let Some(l) = self.line(report, from, to) {
            report.info(l);
        }
    }

    /// The backup name for a file the engine is about to replace, with
    /// its directories made; the engine links it at the last moment.
    pub fn prepare(&self, path: &Path) -> Option<PathBuf> {
        let to = self.name_for(path);
        if !self.dry_run && self.make_parents(&to).is_err() {
            return None;
        }
        Some(to)
    }
}

/// A plain copy of a file, symlink or node (used when a rename or link
/// cannot cross filesystems).
fn copy_across(from: &Path, to: &Path, st: &Stat) -> io::Result<()> {
    match st.kind() {
        Kind::Symlink => {
            let target = rustix::fs::readlink(from, Vec::new())?;
            rustix::fs::symlink(target.as_c_str(), to)?;
        }
        Kind::File => {
            std::fs::copy(from, to)?;
        }
        _ => {
            rustix::fs::mknodat(
                rustix::fs::CWD,
                to,
                rustix::fs::FileType::from_raw_mode(st.mode),
                Mode::from_raw_mode(st.mode & 0o7777),
                st.rdev,
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let b = Backup::new(Path::new("dst"), None, &OsString::from("~"), false, false);
        assert_eq!(
            b.name_for(Path::new("dst/sub/f")),
            PathBuf::from("dst/sub/f~")
        );
        assert!(b.applies_to(Path::new("dst/f")));
        assert!(!b.applies_to(Path::new("dst/f~")));
        let b = Backup::new(
            Path::new("dst"),
            Some(Path::new("BK")),
            &OsString::new(),
            false,
            false,
        );
        assert_eq!(
            b.name_for(Path::new("dst/sub/f")),
            PathBuf::from("dst/BK/sub/f")
        );
        assert!(b.applies_to(Path::new("dst/f~")));
    }
}
