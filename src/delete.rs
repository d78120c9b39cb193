//! Removing things from the destination: extraneous entries (`--delete*`),
//! entries in the way of a new item of another type, and
//! `--delete-missing-args` — with rsync's recursion order, `--max-delete`
//! accounting, backups (`-b`) instead of unlinking, and its messages.
//!
//! rsync deletes a directory's extraneous entries in reverse file-list
//! order, and a directory's contents (again in reverse) before the
//! directory itself; `deleting NAME` lines come out in that order.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use crate::sys::Errno;

use crate::backup::Backup;
use crate::destfs::DestFs;
use crate::filter::FilterStack;
use crate::options::Options;
use crate::report::{Event, Report};
use crate::sys::DirAt;
use crate::sys::{self, Kind, Stat};

/// Flags of one deletion, as rsync's DEL_* bits.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DelFlags {
    /// Delete a directory's contents too.
    pub recurse: bool,
    /// Making room for a new item: not logged, not counted, and a failure
    /// prints "could not make way for new TYPE".
    pub make_room: Option<&'static str>,
    /// The directory's contents were already removed.
    pub dir_is_empty: bool,
}

/// Outcome of one deletion (rsync's `enum delret`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DelResult {
    Success,
    Failure,
    AtLimit,
    NotEmpty,
}

/// Deletion state shared by a whole run.
pub(crate) struct Deleter {
    /// `--protocol` below 29: rsync's old file-list order (see [`Deleter::sort`]).
    plain_order: bool,
    /// `--max-delete`: deletions allowed in all.
    max: Option<u64>,
    count: u64,
    /// Deletions refused by the limit (reported at the end).
    skipped: u64,
    dry_run: bool,
    /// Where a named receiver path is shown from (the destination root).
    root: PathBuf,
    /// Protected names (rsync's implicit `P *SUFFIX` with `-b`).
    protect_suffix: Option<Vec<u8>>,
    /// `-vv`: the rule that keeps an entry is named (rsync's
    /// `--debug=filter`).
    debug: bool,
    /// The receiver's filter rules (protect/risk, and excludes unless
    /// `--delete-excluded`).
    filters: Option<RecvFilters>,
    /// The destination root's handle: entries below it are removed
    /// relative to their directory, opened beneath it without following
    /// symlinks, so a directory swapped for a symlink meanwhile cannot
    /// lead a deletion out of DEST.
    root_at: Option<DirAt>,
    /// `-K`: symlinks that stay inside DEST are followed on the way.
    keep_dirlinks: bool,
    /// The directory the last entry was removed from (relative to the
    /// root) and its handle.
    last_dir: Option<(Vec<u8>, DirAt)>,
    /// Where the removals go, and where directories are listed.
    fs: Arc<dyn DestFs>,
}

/// The filter rules as rsync's receiver applies them when deleting: the
/// per-directory merge files are read from the destination directories.
pub(crate) struct RecvFilters {
    root: FilterStack,
    delete_excluded: bool,
    /// Stacks of destination directories already entered, by path
    /// relative to the destination root (`""` for the root).
    entered: HashMap<Vec<u8>, FilterStack>,
}

impl RecvFilters {
    pub(crate) fn new(root: FilterStack, delete_excluded: bool) -> RecvFilters {
        RecvFilters {
            root,
            delete_excluded,
            entered: HashMap::new(),
        }
    }

    /// The rules in effect inside destination directory `rel` (relative
    /// to `root_dir`), entering each level's merge files once.
    fn stack(&mut self, root_dir: &Path, rel: &[u8]) -> FilterStack {
        if let Some(s) = self.entered.get(rel) {
            return s.clone();
        }
        let parent = match rel.iter().rposition(|&b| b == b'/') {
            Some(p) => self.stack(root_dir, &rel[..p]),
            None if rel.is_empty() => self.root.clone(),
            None => self.stack(root_dir, b""),
        };
        let real = if rel.is_empty() {
            root_dir.to_path_buf()
        } else {
            root_dir.join(sys::path_from(rel))
        };
        // The receiver reports no merge-file errors of its own here: the
        // sender has already stopped on them.
        let s = parent.enter(rel, &real).0;
        self.entered.insert(rel.to_vec(), s.clone());
        s
    }
}

/// rsync's file-list order for one directory's entries: non-directories
/// by name, then directories as if named `name/`.
pub(crate) fn sort_like_rsync(v: &mut [(Vec<u8>, Stat)]) {
    v.sort_by(|(an, a), (bn, b)| {
        let ad = a.kind() == Kind::Dir;
        let bd = b.kind() == Kind::Dir;
        match (ad, bd) {
            (false, false) => an.cmp(bn),
            (false, true) => std::cmp::Ordering::Less,
            (true, false) => std::cmp::Ordering::Greater,
            (true, true) => an.iter().chain(b"/").cmp(bn.iter().chain(b"/")),
        }
    });
}

/// `-vv`: rsync's line naming the rule that protects (or risks) an entry.
fn say_verdict(report: &mut Report, verdict: &str, is_dir: bool, rel: &[u8], why: &[u8]) {
    report.info(format!(
        "[generator] {verdict} {} {} because of pattern {}",
        if is_dir { "directory" } else { "file" },
        report.esc(rel),
        report.esc(why),
    ));
}

impl Deleter {
    /// The deletion state of a run into destination root `root` (open as
    /// `root_at`), with the receiver's `filters`; `debug`: `-vv` names
    /// the rules that keep entries.
    pub(crate) fn new(
        opts: &Options,
        root: &Path,
        root_at: DirAt,
        filters: Option<RecvFilters>,
        debug: bool,
        fs: Arc<dyn DestFs>,
    ) -> Deleter {
        // rsync's implicit "P *~": backups in the destination survive --delete.
        let protect = opts.backup
            && opts.backup_dir.is_none()
            && opts.delete.is_some()
            && !opts.delete_excluded;
        Deleter {
            plain_order: opts.protocol < 29,
            max: opts.max_delete,
            count: 0,
            skipped: 0,
            dry_run: opts.dry_run,
            root: root.to_path_buf(),
            protect_suffix: protect.then(|| opts.suffix.as_bytes().to_vec()),
            filters,
            debug,
            root_at: Some(root_at),
            keep_dirlinks: opts.keep_dirlinks,
            last_dir: None,
            fs,
        }
    }

    /// Sorts one directory's entries in the order rsync deletes them
    /// (backwards): [`sort_like_rsync`], or below protocol 29 plain names
    /// (directories not after the files).
    pub(crate) fn sort(&self, v: &mut [(Vec<u8>, Stat)]) {
        match self.plain_order {
            true => v.sort_by(|a, b| a.0.cmp(&b.0)),
            false => sort_like_rsync(v),
        }
    }

    /// Removes `path` (a directory with `is_dir`), relative to its
    /// directory's handle when it lies below the destination root.
    fn remove(&mut self, path: &Path, is_dir: bool) -> Result<(), Errno> {
        if let Some(DirAt::Fd(root)) = &self.root_at
            && let Some(rel) = sys::strip_root(path, &self.root)
            && !rel.is_empty()
        {
            let (parent, name) = match rel.iter().rposition(|&b| b == b'/') {
                Some(i) => (&rel[..i], &rel[i + 1..]),
                None => (&b""[..], rel),
            };
            if parent.is_empty() {
                let root = DirAt::Fd(root.clone());
                return self.remove_in(&root, name, is_dir);
            }
            // A directory's entries go one after another: its handle is
            // opened once for them.
            let cached = matches!(&self.last_dir, Some((p, _)) if p.as_slice() == parent);
            if !cached {
                let fd = sys::open_beneath(root.as_fd(), parent, self.keep_dirlinks)?;
                self.last_dir = Some((parent.to_vec(), DirAt::Fd(Arc::new(fd))));
            }
            let r = match &self.last_dir {
                Some((_, at)) => self.remove_in(at, name, is_dir),
                None => Err(Errno::BADF),
            };
            if is_dir {
                // That directory may have been the one held.
                self.last_dir = None;
            }
            return r;
        }
        if is_dir {
            self.fs.rmdir_path(path)
        } else {
            self.fs.unlink_path(path)
        }
    }

    /// Removes entry `name` of directory `at`.
    fn remove_in(&self, at: &DirAt, name: &[u8], is_dir: bool) -> Result<(), Errno> {
        if is_dir {
            self.fs.rmdir(at, name)
        } else {
            self.fs.unlink(at, name)
        }
    }

    fn local<'a>(&self, path: &'a Path) -> &'a [u8] {
        match path.strip_prefix(&self.root) {
            Ok(rel) if rel.as_os_str().is_empty() => b".",
            Ok(rel) => sys::bytes(rel),
            Err(_) => sys::bytes(path),
        }
    }

    fn log_delete(&self, report: &mut Report, path: &Path, kind: Kind) {
        let local = self.local(path).to_vec();
        report.deleted(&local, kind);
    }

    /// Whether entry `name` of destination directory `dir` is kept from
    /// deletion: the implicit backup rule, or the filter rules (with
    /// `ignore_perishable` inside a directory being deleted, as rsync).
    pub(crate) fn protects(
        &mut self,
        report: &mut Report,
        dir: &Path,
        name: &[u8],
        is_dir: bool,
        ignore_perishable: bool,
    ) -> bool {
        if self.filters.is_none() && self.protect_suffix.is_none() {
            return false;
        }
        let rel = self.rel_name(dir, name);
        if let Some(f) = self.filters.as_mut() {
            let rel_dir = &rel[..rel.len() - name.len()];
            let rel_dir = rel_dir.strip_suffix(b"/").unwrap_or(rel_dir);
            let stack = f.stack(&self.root, rel_dir);
            if !self.debug {
                if stack.protected_ex(&rel, is_dir, f.delete_excluded, ignore_perishable) {
                    return true;
                }
            } else if let Some((include, why)) =
                stack.receiver_verdict(&rel, is_dir, f.delete_excluded, ignore_perishable)
            {
                let verdict = if include { "risking" } else { "protecting" };
                say_verdict(report, verdict, is_dir, &rel, &why);
                return !include;
            }
        }
        // rsync's implicit "P *SUFFIX", after the user's rules.
        let suffix = self.protect_suffix.as_deref().unwrap_or_default();
        if suffix.is_empty() || name.len() <= suffix.len() || !name.ends_with(suffix) {
            return false;
        }
        if self.debug {
            let pattern = [&b"*"[..], suffix].concat();
            say_verdict(report, "protecting", is_dir, &rel, &pattern);
        }
        true
    }

    /// Whether entry `name` (`st`) of destination directory `dir` is
    /// deleted: not in the source (`keep`) and not protected. rsync
    /// checks the rules on every entry it lists for deletion, so under
    /// `-vv` the rule that keeps an entry the source also has is named.
    pub(crate) fn goes(
        &mut self,
        report: &mut Report,
        dir: &Path,
        name: &[u8],
        st: &Stat,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> bool {
        let is_dir = st.kind() == Kind::Dir;
        if self.debug {
            let protected = self.protects(report, dir, name, is_dir, false);
            return !protected && !keep(name);
        }
        !keep(name) && !self.protects(report, dir, name, is_dir, false)
    }

    /// `name` in destination directory `dir`, relative to the root.
    fn rel_name(&self, dir: &Path, name: &[u8]) -> Vec<u8> {
        let mut rel: Vec<u8> = match dir.strip_prefix(&self.root) {
            Ok(r) => sys::bytes(r).to_vec(),
            Err(_) => sys::bytes(dir).to_vec(),
        };
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(name);
        rel
    }

    /// rsync's `delete_item()`.
    pub(crate) fn delete_item(
        &mut self,
        report: &mut Report,
        backup: Option<&mut Backup>,
        path: &Path,
        st: &Stat,
        flags: DelFlags,
    ) -> DelResult {
        if !flags.dir_is_empty {
            // A new deletion from outside: the destination may have
            // changed since the last one, so no handle is reused.
            self.last_dir = None;
        }
        let is_dir = st.kind() == Kind::Dir;
        let mut ret;
        let mut backup = backup;
        let mut backed_up = false;
        'attempt: {
            if is_dir && !flags.dir_is_empty {
                ret = self.delete_dir_contents(report, backup.as_deref_mut(), path, flags);
                if matches!(ret, DelResult::NotEmpty | DelResult::AtLimit) {
                    break 'attempt;
                }
            }
            if flags.make_room.is_none()
                && let Some(max) = self.max
            {
                if self.count >= max {
                    self.skipped += 1;
                    ret = DelResult::AtLimit;
                    break 'attempt;
                }
                self.count += 1;
            }
            let r: Result<(), Errno> = if self.dry_run {
                Ok(())
            } else if is_dir {
                self.remove(path, true)
            } else if let Some(b) = backup.filter(|b| b.applies_to(path)) {
                backed_up = true;
                b.make(report, path, st)
                    .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
            } else {
                self.remove(path, false)
            };
            match r {
                Ok(()) => {
                    if flags.make_room.is_none() {
                        self.log_delete(report, path, st.kind());
                    }
                    ret = DelResult::Success;
                }
                Err(e) if is_dir && (e == Errno::NOTEMPTY || e == Errno::EXIST) => {
                    report.not_empty(self.local(path));
                    ret = DelResult::NotEmpty;
                }
                Err(Errno::NOENT) => {
                    if flags.make_room.is_none() && self.max.is_some() {
                        self.count = self.count.saturating_sub(1);
                    }
                    ret = DelResult::Success;
                }
                Err(e) => {
                    let what = match (is_dir, backed_up) {
                        (true, _) => "rmdir",
                        (false, true) => "make_backup",
                        (false, false) => "unlink",
                    };
                    let name = report.esc(self.local(path));
                    report.error(format!(
                        "[generator] delete_file: {what}({name}) failed: {}",
                        sys::errno_text(e)
                    ));
                    ret = DelResult::Failure;
                }
            }
        }
        if ret != DelResult::Success
            && let Some(what) = flags.make_room
        {
            let name = report.esc(self.local(path));
            report.error_raw(format!("could not make way for new {what}: {name}"));
            report.event(Event::Partial);
        }
        ret
    }

    /// rsync's `delete_dir_contents()`: without `recurse` it only reports
    /// whether the directory is empty.
    fn delete_dir_contents(
        &mut self,
        report: &mut Report,
        mut backup: Option<&mut Backup>,
        dir: &Path,
        flags: DelFlags,
    ) -> DelResult {
        let mut children = self.fs.list(dir).unwrap_or_default();
        let mut ret = DelResult::Success;
        // Children the rules keep (perishable rules aside) pin the
        // directory, as in rsync, which checks them as it reads them.
        let before = children.len();
        children.retain(|(n, st)| !self.protects(report, dir, n, st.kind() == Kind::Dir, true));
        if children.len() != before {
            ret = DelResult::NotEmpty;
        }
        self.sort(&mut children);
        if !children.is_empty() {
            if !flags.recurse {
                ret = DelResult::NotEmpty;
            } else {
                let inner = DelFlags {
                    recurse: false,
                    make_room: None,
                    dir_is_empty: true,
                };
                for (name, st) in children.iter().rev() {
                    let child = dir.join(sys::path_from(name));
                    if st.kind() == Kind::Dir {
                        let deeper = DelFlags {
                            recurse: true,
                            ..inner
                        };
                        if self.delete_dir_contents(report, backup.as_deref_mut(), &child, deeper)
                            != DelResult::Success
                        {
                            ret = DelResult::NotEmpty;
                        }
                    }
                    if self.delete_item(report, backup.as_deref_mut(), &child, st, inner)
                        != DelResult::Success
                    {
                        ret = DelResult::NotEmpty;
                    }
                }
            }
        }
        if ret == DelResult::NotEmpty {
            report.not_empty(self.local(dir));
        }
        ret
    }

    /// Deletes the entries of destination directory `dir` whose names are
    /// not in `keep` (rsync's `delete_in_dir`), in reverse file-list order.
    /// `protect` says whether a name must be kept anyway (filters).
    pub(crate) fn delete_extraneous(
        &mut self,
        report: &mut Report,
        mut backup: Option<&mut Backup>,
        dir: &Path,
        existing: &[(Vec<u8>, Stat)],
        keep: &dyn Fn(&[u8]) -> bool,
    ) {
        self.last_dir = None;
        let mut doomed: Vec<(Vec<u8>, Stat)> = existing
            .iter()
            .filter(|(n, st)| self.goes(report, dir, n, st, keep))
            .cloned()
            .collect();
        self.sort(&mut doomed);
        for (name, st) in doomed.iter().rev() {
            let path = dir.join(sys::path_from(name));
            let flags = DelFlags {
                recurse: true,
                ..DelFlags::default()
            };
            self.delete_item(report, backup.as_deref_mut(), &path, st, flags);
        }
    }

    /// The warning rsync prints when `--max-delete` stopped deletions.
    pub(crate) fn finish(&self, report: &mut Report) {
        if self.max.is_some() && self.skipped > 0 {
            report.warning(format!(
                "Deletions stopped due to --max-delete limit ({} skipped)",
                self.skipped
            ));
            report.event(Event::DeleteLimit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destfs;
    use crate::options::DeleteWhen;

    fn deleter(set: impl FnOnce(&mut Options)) -> (Deleter, Report, tempfile::TempDir) {
        let mut opts = Options::default();
        set(&mut opts);
        let t = tempfile::tempdir().unwrap();
        let at = sys::open_root(t.path()).unwrap();
        let d = Deleter::new(&opts, t.path(), at, None, false, destfs::for_dry_run(false));
        (d, Report::new("arsync", &opts), t)
    }

    #[test]
    fn backups_in_the_destination_survive_delete() {
        let (mut d, mut r, t) = deleter(|o| {
            o.backup = true;
            o.delete = Some(DeleteWhen::During);
            o.suffix = "~".into();
        });
        assert!(d.protects(&mut r, t.path(), b"file~", false, false));
        assert!(!d.protects(&mut r, t.path(), b"file", false, false));
        // The suffix alone is a name like any other.
        assert!(!d.protects(&mut r, t.path(), b"~", false, false));
        // With a backup dir (or --delete-excluded) nothing is implied.
        let (mut d, mut r, t) = deleter(|o| {
            o.backup = true;
            o.delete = Some(DeleteWhen::During);
            o.suffix = "~".into();
            o.backup_dir = Some("bak".into());
        });
        assert!(!d.protects(&mut r, t.path(), b"file~", false, false));
    }

    #[test]
    fn extraneous_entries_go_and_kept_ones_stay() {
        let (mut d, mut r, t) = deleter(|o| o.delete = Some(DeleteWhen::During));
        std::fs::write(t.path().join("gone"), b"").unwrap();
        std::fs::write(t.path().join("kept"), b"").unwrap();
        std::fs::create_dir_all(t.path().join("dir/sub")).unwrap();
        std::fs::write(t.path().join("dir/sub/f"), b"").unwrap();
        let listed: Vec<(Vec<u8>, Stat)> = ["gone", "kept", "dir"]
            .iter()
            .map(|n| {
                (
                    n.as_bytes().to_vec(),
                    sys::lstat(&t.path().join(n)).unwrap(),
                )
            })
            .collect();
        d.delete_extraneous(&mut r, None, t.path(), &listed, &|n: &[u8]| n == b"kept");
        assert!(t.path().join("kept").exists());
        assert!(!t.path().join("gone").exists());
        assert!(!t.path().join("dir").exists());
        let del = &r.stats().deleted;
        assert_eq!((del.reg, del.dir), (2, 2));
        assert_eq!(r.exit_code(), crate::exit::ExitCode::Ok);
    }

    #[test]
    fn max_delete_stops_and_says_so() {
        let (mut d, mut r, t) = deleter(|o| {
            o.delete = Some(DeleteWhen::During);
            o.max_delete = Some(1);
        });
        for n in ["a", "b", "c"] {
            std::fs::write(t.path().join(n), b"").unwrap();
        }
        let listed: Vec<(Vec<u8>, Stat)> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                (
                    n.as_bytes().to_vec(),
                    sys::lstat(&t.path().join(n)).unwrap(),
                )
            })
            .collect();
        d.delete_extraneous(&mut r, None, t.path(), &listed, &|_: &[u8]| false);
        let left = ["a", "b", "c"]
            .iter()
            .filter(|n| t.path().join(n).exists())
            .count();
        assert_eq!(left, 2);
        d.finish(&mut r);
        assert_eq!(r.exit_code(), crate::exit::ExitCode::DelLimit);
    }
}
