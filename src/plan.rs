//! What to do with each entry: rsync's generator decisions.
//!
//! Given a source entry and what currently sits at its destination, decide
//! whether to transfer content, create a directory, link or device, fix
//! attributes only, or skip — and compute the itemize flags rsync would
//! report for it. Nothing here writes to the destination.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::destfs::DestFs;
use crate::meta::{self, Receiver};
use crate::options::{BasisKind, Options};
use crate::sys::{Kind, Stat};
use crate::walk::Entry;

/// rsync's ITEM_* bits, as sent from generator to sender.
pub(crate) mod item {
    pub(crate) const REPORT_ATIME: u32 = 1 << 0;
    pub(crate) const REPORT_CHANGE: u32 = 1 << 1;
    pub(crate) const REPORT_SIZE: u32 = 1 << 2;
    pub(crate) const REPORT_TIMEFAIL: u32 = 1 << 2;
    pub(crate) const REPORT_TIME: u32 = 1 << 3;
    pub(crate) const REPORT_PERMS: u32 = 1 << 4;
    pub(crate) const REPORT_OWNER: u32 = 1 << 5;
    pub(crate) const REPORT_GROUP: u32 = 1 << 6;
    pub(crate) const REPORT_ACL: u32 = 1 << 7;
    pub(crate) const REPORT_XATTR: u32 = 1 << 8;
    pub(crate) const REPORT_CRTIME: u32 = 1 << 10;
    pub(crate) const BASIS_TYPE_FOLLOWS: u32 = 1 << 11;
    pub(crate) const XNAME_FOLLOWS: u32 = 1 << 12;
    pub(crate) const IS_NEW: u32 = 1 << 13;
    pub(crate) const LOCAL_CHANGE: u32 = 1 << 14;
    pub(crate) const TRANSFER: u32 = 1 << 15;
    pub(crate) const MISSING_DATA: u32 = 1 << 16;
    pub(crate) const DELETED: u32 = 1 << 17;
    pub(crate) const MATCHED: u32 = 1 << 18;

    /// Flags that make an item worth reporting.
    pub(crate) const SIGNIFICANT: u32 = !(BASIS_TYPE_FOLLOWS | XNAME_FOLLOWS | LOCAL_CHANGE);
}

/// What has to happen at the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Make sure a directory exists with the right attributes. `exists`:
    /// a directory is already there; `remove`: a non-directory is in the way.
    Dir { exists: bool, remove: Option<Stat> },
    /// Create (or atomically replace) a symlink.
    Symlink { replace: Option<Stat> },
    /// Create (or atomically replace) a device, fifo or socket.
    Node { replace: Option<Stat> },
    /// Copy the file's content. `remove`: a non-file in the way;
    /// `basis`: the existing destination file being replaced;
    /// `basis_dir`: a file in a `--link-dest`/`--compare-dest`/
    /// `--copy-dest` directory is what it is compared with.
    Transfer {
        remove: Option<Stat>,
        basis: Option<Stat>,
        basis_dir: bool,
    },
    /// Content is up to date; bring attributes in line with `current`.
    Attrs { current: Stat },
    /// A non-regular file that is not being preserved.
    SkipNonRegular,
    /// Left alone by an update rule (`--existing`, `--ignore-existing`,
    /// `-u`); a skipped directory's contents are skipped too.
    Skip(SkipWhy),
    /// `--link-dest`: an identical file in a basis directory is hard-linked
    /// in place of `replace` (if any).
    Link {
        from: PathBuf,
        replace: Option<Stat>,
    },
    /// `--compare-dest`: an identical file exists in a basis directory, so
    /// nothing goes to the destination (and an existing `remove` goes).
    Unneeded { remove: Option<Stat> },
    /// `--copy-dest`, or a basis file equal in content but not in
    /// attributes: copied locally from `from` rather than from the source
    /// (`remove`: a non-file in the way, cleared first).
    LocalCopy { from: PathBuf, remove: Option<Stat> },
}

/// How a basis directory's counterpart of an entry compares with it
/// (rsync's `match_level` in `try_dests_reg`/`try_dests_non`).
#[derive(Debug, Clone)]
pub(crate) struct BasisMatch {
    pub path: PathBuf,
    pub stat: Stat,
    /// 1: same type; 2: also passes the quick check; 3: also the same
    /// attributes.
    pub level: u8,
}

/// Why an update rule left an entry alone (rsync reports it at `-vv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipWhy {
    /// `--existing`: nothing there, and nothing new is created.
    NotCreating,
    /// `--ignore-existing`: something is already there.
    Exists,
    /// `-u`: the destination is newer.
    Newer,
    /// `--safe-links`: the link could lead outside the tree.
    UnsafeLink,
    /// `--max-size`: the file is larger.
    OverMaxSize,
    /// `--min-size`: the file is smaller.
    UnderMinSize,
    /// `--append`: the destination is not shorter than the source.
    NotShorter,
}

/// The generator's verdict on one entry.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub action: Action,
    /// Itemize flags computed against the destination as it was.
    pub iflags: u32,
    /// The mode the destination should get (rsync's `dest_mode()` applied).
    pub mode: u32,
    /// Settled by an identical basis item: rsync lists it only with `-ii`
    /// and says "NAME is uptodate" at `-vv`.
    pub basis_quiet: bool,
    /// `-X`, `-A`, `--fake-super`: what else to write where the item goes.
    pub extra: Option<Box<meta::ItemAttrs>>,
    /// The basis file that would have settled the entry (linked or copied
    /// from) but cannot be used: rsync's generator says why and decides
    /// as if the basis directories had nothing.
    pub refused_basis: Option<BasisRefused>,
}

/// Why a basis file found for an entry is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BasisRefused {
    /// `--confine-root`: it lies outside the root (opening it: `ELOOP`).
    Outside(PathBuf),
    /// A local copy from it would be built in a relative `--temp-dir`
    /// that climbs out with `..`: the generator's `mkstemp` of this temp
    /// name fails with `EINVAL`, as the receiver's will.
    TempClimbs(PathBuf),
}

impl Decision {
    fn new(action: Action, iflags: u32, mode: u32) -> Decision {
        Decision {
            action,
            iflags,
            mode,
            basis_quiet: false,
            extra: None,
            refused_basis: None,
        }
    }

    fn quiet(mut self) -> Decision {
        self.basis_quiet = true;
        self
    }

    fn with_refused(mut self, basis: Option<BasisRefused>) -> Decision {
        self.refused_basis = basis;
        self
    }
}

/// Inputs the decisions depend on besides the entry itself.
pub(crate) struct Planner<'a> {
    pub opts: &'a Options,
    pub recv: &'a Receiver,
    /// `--link-dest`/`--copy-dest`/`--compare-dest` directories, as paths
    /// usable from here (relative ones already joined to the destination).
    pub basis: Option<(BasisKind, Vec<PathBuf>)>,
    /// The attribute options (`-X`, `-A`, `-E`, `--fake-super`, default
    /// permissions from the destination directory's default ACL).
    pub attrs: &'a meta::RunAttrs,
    /// What the destination and the basis directories hold, read through
    /// the run's destination (the in-memory one in tests).
    pub fs: Arc<dyn DestFs>,
    /// A relative `--temp-dir` that climbs out with `..`, as resolved
    /// from the destination root (rsync 3.5's `mkstemp` fails there).
    pub temp_climbs: Option<PathBuf>,
}

impl Planner<'_> {
    /// A destination (or basis) symlink's target as the receiver reads it.
    fn dest_link(&self, path: &Path) -> Option<Vec<u8>> {
        if self.attrs.fake_super() {
            self.attrs.read_dest_link(path)
        } else {
            self.fs.readlink_path(path).ok()
        }
    }

    fn mtime_differs(&self, e: &Entry, st: &Stat) -> bool {
        !self
            .opts
            .same_time(e.stat.mtime, e.stat.mtime_nsec, st.mtime, st.mtime_nsec)
    }

    /// rsync's `quick_check_ok()` for regular files.
    fn quick_check_ok(&self, e: &Entry, dest: &Path, st: &Stat) -> bool {
        if st.size != e.stat.size {
            return false;
        }
        if self.opts.checksum {
            return self.fs.same_content(&e.src(), dest).unwrap_or(false);
        }
        if self.opts.size_only {
            return true;
        }
        if self.opts.ignore_times {
            return false;
        }
        !self.mtime_differs(e, st)
    }

    /// rsync's `try_dests_non` for a missing symlink or node: link (or
    /// skip, for `--compare-dest`) an identical basis item; itemize
    /// against a similar one.
    fn basis_non_regular(
        &self,
        e: &Entry,
        local: &[u8],
        mode: u32,
        create: Action,
    ) -> Option<Decision> {
        use item::*;
        let (bkind, _) = self.basis.as_ref()?;
        let m = self.find_basis(e, local)?;
        // --confine-root: a link outside the root cannot be hard-linked;
        // rsync quietly makes the item anew, as for --copy-dest.
        let bkind = match bkind {
            BasisKind::Link if self.outside_root(&m.path) => &BasisKind::Copy,
            k => k,
        };
        if m.level == 3 {
            // rsync only links with --link-dest (an 'h' line); the others
            // count as matched ('.' for compare, 'c' for copy).
            let chg = match bkind {
                BasisKind::Link => LOCAL_CHANGE | XNAME_FOLLOWS,
                BasisKind::Compare => 0,
                BasisKind::Copy => LOCAL_CHANGE,
            };
            let iflags = self.itemize(e, Some(&m.stat), chg | MATCHED, mode);
            let action = match bkind {
                BasisKind::Link => Action::Link {
                    from: m.path,
                    replace: None,
                },
                BasisKind::Compare => Action::Unneeded { remove: None },
                BasisKind::Copy => create,
            };
            return Some(Decision::new(action, iflags, mode).quiet());
        }
        let iflags = self.itemize(e, Some(&m.stat), LOCAL_CHANGE | REPORT_CHANGE, mode);
        Some(Decision::new(create, iflags, mode))
    }

    /// rsync's `unchanged_attrs()`: times, permissions and ownership as
    /// the options preserve them.
    fn unchanged_attrs(&self, e: &Entry, path: &Path, st: &Stat) -> bool {
        let o = self.opts;
        let kind = e.kind();
        if kind == Kind::Symlink {
            if o.times && !o.omit_link_times && self.mtime_differs(e, st) {
                return false;
            }
        } else {
            if o.times && self.mtime_differs(e, st) {
                return false;
            }
            let mode = self.mode_for(e, Some(st));
            if o.perms && (st.mode & 0o7777) != (mode & 0o7777) {
                return false;
            }
        }
        if o.owner && self.recv.am_root && st.uid != e.stat.uid {
            return false;
        }
        if o.group && st.gid != e.stat.gid && self.may_chgrp(e.stat.gid) {
            return false;
        }
        !self.attrs.basis_differs(&meta::run::Examine {
            src: &e.src(),
            via_link: e.via_link(),
            src_stat: &e.stat,
            want_mode: self.mode_for(e, Some(st)),
            cmp: Some((path, st)),
            cmp_stays: false,
            set_before_itemize: false,
        })
    }

    /// Looks for `local` (the entry's path below the destination) in the
    /// basis directories: the first exact match, else the best one.
    pub(crate) fn find_basis(&self, e: &Entry, local: &[u8]) -> Option<BasisMatch> {
        let (_, dirs) = self.basis.as_ref()?;
        let kind = e.kind();
        let mut best: Option<BasisMatch> = None;
        for dir in dirs {
            let path = dir.join(crate::sys::path_from(local));
            let Ok(st) = self.fs.lstat_path(&path) else {
                continue;
            };
            if st.kind() != kind {
                continue;
            }
            let mut level = 1;
            let quick = match kind {
                Kind::File => self.quick_check_ok(e, &path, &st),
                Kind::Symlink => self.dest_link(&path).as_deref() == e.link(),
                k if k.is_device() => st.rdev == e.stat.rdev,
                _ => true,
            };
            if quick {
                level = 2;
                if self.unchanged_attrs(e, &path, &st) {
                    return Some(BasisMatch {
                        path,
                        stat: st,
                        level: 3,
                    });
                }
            }
            if best.as_ref().is_none_or(|b| b.level < level) {
                best = Some(BasisMatch {
                    path,
                    stat: st,
                    level,
                });
            }
        }
        best
    }

    /// Whether the basis directories are `--link-dest` ones.
    pub(crate) fn basis_is_link(&self) -> bool {
        matches!(self.basis, Some((BasisKind::Link, _)))
    }

    /// For a hard-link member with no destination yet: the basis item it
    /// matches, as rsync's `hard_link_check` looks for one. With
    /// `--link-dest` that is a basis file already linked to the group's
    /// file (`leader`); otherwise one passing the quick check, preferring
    /// one whose attributes match too.
    pub(crate) fn hlink_basis(
        &self,
        e: &Entry,
        local: &[u8],
        leader: Option<&Stat>,
    ) -> Option<Stat> {
        let (kind, dirs) = self.basis.as_ref()?;
        let mut found = None;
        for dir in dirs {
            let path = dir.join(crate::sys::path_from(local));
            let Ok(st) = self.fs.lstat_path(&path) else {
                continue;
            };
            if *kind == BasisKind::Link {
                if leader.is_some_and(|l| l.dev == st.dev && l.ino == st.ino) {
                    return Some(st);
                }
                continue;
            }
            if !self.quick_check_ok(e, &path, &st) {
                continue;
            }
            found = Some(st);
            if self.unchanged_attrs(e, &path, &st) {
                break;
            }
        }
        found
    }

    /// rsync's `itemize()`: the change flags for `e` against `old` (the
    /// destination before any change; `None` when it did not exist).
    pub(crate) fn itemize(&self, e: &Entry, old: Option<&Stat>, iflags: u32, mode: u32) -> u32 {
        self.itemize_xname(e, old, iflags, mode, false)
    }

    /// [`Planner::itemize`] for a line naming another path after `=>`
    /// (`xname`: a hard-link member linked to its leader): without `-t`
    /// rsync then reports the time (`T`) as for a transfer.
    pub(crate) fn itemize_xname(
        &self,
        e: &Entry,
        old: Option<&Stat>,
        mut iflags: u32,
        mode: u32,
        xname: bool,
    ) -> u32 {
        use item::*;
        let o = self.opts;
        let Some(st) = old else {
            return iflags | IS_NEW;
        };
        let kind = e.kind();
        let keep_time = o.times
            && !(kind == Kind::Dir && o.omit_dir_times)
            && !(kind == Kind::Symlink && o.omit_link_times);
        if kind == Kind::File && e.stat.size != st.size {
            iflags |= REPORT_SIZE;
        }
        let time_flag = if keep_time {
            self.mtime_differs(e, st)
        } else {
            iflags & (TRANSFER | LOCAL_CHANGE) != 0
                && iflags & MATCHED == 0
                && (iflags & XNAME_FOLLOWS == 0 || xname)
        };
        if time_flag {
            iflags |= REPORT_TIME;
        }
        let perms_differ = if o.perms {
            (st.mode & 0o7777) != (mode & 0o7777)
        } else {
            self.attrs.exec_differs(st.mode, mode)
        };
        if kind != Kind::Symlink && perms_differ {
            iflags |= REPORT_PERMS;
        }
        if o.owner && self.recv.am_root && e.stat.uid != st.uid {
            iflags |= REPORT_OWNER;
        }
        if o.group && e.stat.gid != st.gid && self.may_chgrp(e.stat.gid) {
            iflags |= REPORT_GROUP;
        }
        // -U: rsync reports a differing access time (whole seconds) as `u`,
        // except for directories and symlinks.
        if o.atimes && !matches!(kind, Kind::Dir | Kind::Symlink) && e.stat.atime != st.atime {
            iflags |= REPORT_ATIME;
        }
        iflags
    }

    fn may_chgrp(&self, gid: u32) -> bool {
        self.recv.am_root || self.recv.groups.contains(&gid)
    }

    pub(crate) fn mode_for(&self, e: &Entry, existing: Option<&Stat>) -> u32 {
        if self.opts.perms {
            e.stat.mode
        } else {
            self.attrs
                .dest_mode(e.stat.mode, existing.map(|s| s.mode), self.recv.dflt_perms)
        }
    }

    /// Decides what to do with `e`, whose destination is `dest` and
    /// currently holds `old` (`None` if nothing is there).
    /// `local` is the entry's path below the destination directory (for
    /// the basis directories).
    pub(crate) fn decide(
        &self,
        e: &Entry,
        dest: &Path,
        local: &[u8],
        old: Option<Stat>,
    ) -> Decision {
        match self.update_rule(e, old) {
            Some(why) => Decision::new(Action::Skip(why), 0, e.stat.mode),
            None => self.plan(e, dest, local, old),
        }
    }

    /// The update rules rsync's recv_generator checks before anything
    /// else: `--existing`, `--ignore-existing`, `-u`.
    pub(crate) fn update_rule(&self, e: &Entry, old: Option<Stat>) -> Option<SkipWhy> {
        let o = self.opts;
        let kind = e.kind();
        let old_kind = old.map(|s| s.kind());
        if o.existing && old.is_none() {
            return Some(SkipWhy::NotCreating);
        }
        if o.ignore_existing && old.is_some() && (kind != Kind::Dir || old_kind != Some(Kind::Dir))
        {
            return Some(SkipWhy::Exists);
        }
        // rsync's generator checks the size limits before `-u`.
        if kind == Kind::File {
            if o.max_size.is_some_and(|m| e.stat.size > m) {
                return Some(SkipWhy::OverMaxSize);
            }
            if o.min_size.is_some_and(|m| e.stat.size < m) {
                return Some(SkipWhy::UnderMinSize);
            }
        }
        // A change of file type always updates, whatever the dates.
        if o.update
            && kind == Kind::File
            && let Some(st) = old
            && st.kind() == Kind::File
            && e.stat.mtime - st.mtime < o.modify_window
        {
            return Some(SkipWhy::Newer);
        }
        None
    }

    /// What to do with an entry the update rules let through.
    pub(crate) fn plan(&self, e: &Entry, dest: &Path, local: &[u8], old: Option<Stat>) -> Decision {
        let mut d = self.plan_base(e, dest, local, old);
        if self.attrs.examines() {
            self.examine_ext(e, dest, local, old, &mut d);
        }
        d
    }

    /// `-X`, `-A`, `--fake-super`: itemize's `x`, `a` and ACL-adjusted `p`
    /// against what the decision compared with, and the work to apply.
    fn examine_ext(
        &self,
        e: &Entry,
        dest: &Path,
        local: &[u8],
        old: Option<Stat>,
        d: &mut Decision,
    ) {
        use item::*;
        if matches!(d.action, Action::Skip(_) | Action::SkipNonRegular) {
            return;
        }
        let kind = e.kind();
        // What itemize compared with: nothing (new), a basis item, or the
        // destination itself.
        let basis_path = || self.find_basis(e, local).map(|m| (m.path, m.stat));
        let cmp: Option<(PathBuf, Stat)> = if d.iflags & IS_NEW != 0 {
            None
        } else {
            match &d.action {
                Action::Link { from, .. } | Action::LocalCopy { from, .. } => {
                    self.fs.lstat_path(from).ok().map(|st| (from.clone(), st))
                }
                Action::Unneeded { .. } => basis_path(),
                _ => match old {
                    Some(st) if st.kind() == kind => Some((dest.to_path_buf(), st)),
                    _ => basis_path(),
                },
            }
        };
        let stays = matches!(
            d.action,
            Action::Attrs { .. } | Action::Dir { exists: true, .. }
        ) && cmp.as_ref().is_some_and(|(p, _)| p == dest);
        let v = self.attrs.examine(&meta::run::Examine {
            src: &e.src(),
            via_link: e.via_link(),
            src_stat: &e.stat,
            want_mode: d.mode,
            cmp: cmp.as_ref().map(|(p, st)| (p.as_path(), st)),
            cmp_stays: stays,
            set_before_itemize: matches!(d.action, Action::Attrs { .. }) && kind != Kind::Dir,
        });
        if cmp.is_some() || d.iflags & IS_NEW != 0 {
            if v.xattr {
                d.iflags |= REPORT_XATTR;
            }
            if v.acl {
                d.iflags |= REPORT_ACL;
            }
            match v.perms {
                Some(true) => d.iflags |= REPORT_PERMS,
                Some(false) => d.iflags &= !REPORT_PERMS,
                None => {}
            }
        }
        d.extra = v.item;
    }

    fn plan_base(&self, e: &Entry, dest: &Path, local: &[u8], old: Option<Stat>) -> Decision {
        let o = self.opts;
        match e.kind() {
            Kind::Dir => self.plan_dir(e, local, old),
            Kind::Symlink
                if o.links
                    && o.safe_links
                    && crate::walk::unsafe_symlink(e.link().unwrap_or_default(), &e.name) =>
            {
                Decision::new(Action::Skip(SkipWhy::UnsafeLink), 0, e.stat.mode)
            }
            Kind::Symlink if o.links => self.plan_symlink(e, dest, local, old),
            k if (k.is_device() && o.devices && self.recv.am_root)
                || (k.is_special() && o.specials) =>
            {
                self.plan_node(e, local, old)
            }
            Kind::File => self.plan_file(e, dest, local, old),
            _ => Decision::new(Action::SkipNonRegular, 0, e.stat.mode),
        }
    }

    /// A directory: made, or its attributes checked.
    fn plan_dir(&self, e: &Entry, local: &[u8], old: Option<Stat>) -> Decision {
        use item::*;
        let (exists, remove) = match old {
            Some(st) if st.kind() == Kind::Dir => (true, None),
            Some(st) => (false, Some(st)),
            None => (false, None),
        };
        let cur = if exists { old } else { None };
        let mode = self.mode_for(e, cur.as_ref());
        if !exists && let Some(m) = self.find_basis(e, local) {
            // rsync's try_dests_non: a matching basis directory is
            // itemized against; an equal one makes the new directory a
            // quiet local change.
            let action = Action::Dir { exists, remove };
            if m.level == 3 {
                let iflags = self.itemize(e, Some(&m.stat), LOCAL_CHANGE | MATCHED, mode);
                return Decision::new(action, iflags, mode).quiet();
            }
            let iflags = self.itemize(e, Some(&m.stat), LOCAL_CHANGE, mode);
            return Decision::new(action, iflags, mode);
        }
        let iflags = self.itemize(e, cur.as_ref(), if exists { 0 } else { LOCAL_CHANGE }, mode);
        Decision::new(Action::Dir { exists, remove }, iflags, mode)
    }

    /// A symlink (links preserved): kept when it points the same way.
    fn plan_symlink(&self, e: &Entry, dest: &Path, local: &[u8], old: Option<Stat>) -> Decision {
        use item::*;
        let mode = self.mode_for(e, old.filter(|s| s.kind() != Kind::Dir).as_ref());
        if let Some(st) = old
            && st.kind() == Kind::Symlink
        {
            let cur_target = self.dest_link(dest);
            if cur_target.as_deref() == e.link() {
                let iflags = self.itemize(e, Some(&st), 0, mode);
                return Decision::new(Action::Attrs { current: st }, iflags, mode);
            }
        }
        // A non-symlink being replaced counts as new.
        if old.is_none()
            && let Some(d) =
                self.basis_non_regular(e, local, mode, Action::Symlink { replace: None })
        {
            return d;
        }
        let basis = old.filter(|s| s.kind() == Kind::Symlink);
        let iflags = self.itemize(e, basis.as_ref(), LOCAL_CHANGE | REPORT_CHANGE, mode);
        Decision::new(Action::Symlink { replace: old }, iflags, mode)
    }

    /// A device or special file (preserved): kept when of the same type
    /// (and device number).
    fn plan_node(&self, e: &Entry, local: &[u8], old: Option<Stat>) -> Decision {
        use item::*;
        let kind = e.kind();
        let mode = self.mode_for(e, old.filter(|s| s.kind() != Kind::Dir).as_ref());
        let same_type = old.map(|s| s.kind()) == Some(kind);
        if let Some(st) = old
            && same_type
            && (!kind.is_device() || st.rdev == e.stat.rdev)
        {
            let iflags = self.itemize(e, Some(&st), 0, mode);
            return Decision::new(Action::Attrs { current: st }, iflags, mode);
        }
        if old.is_none()
            && let Some(d) = self.basis_non_regular(e, local, mode, Action::Node { replace: None })
        {
            return d;
        }
        let basis = old.filter(|_| same_type);
        let iflags = self.itemize(e, basis.as_ref(), LOCAL_CHANGE | REPORT_CHANGE, mode);
        Decision::new(Action::Node { replace: old }, iflags, mode)
    }

    /// A regular file: up to date, settled by a basis file, or sent.
    fn plan_file(&self, e: &Entry, dest: &Path, local: &[u8], old: Option<Stat>) -> Decision {
        use item::*;
        let o = self.opts;
        let (existing, remove) = match old {
            Some(st) if st.kind() == Kind::File => (Some(st), None),
            // --write-devices: a device in the way is written into, like
            // an existing file (in place).
            Some(st) if o.write_devices && st.kind().is_device() => (Some(st), None),
            Some(st) => (None, Some(st)),
            None => (None, None),
        };
        let mut mode = self.mode_for(e, existing.as_ref());
        let mut compare_to = existing;
        let mut basis_dir = false;
        let mut refused = None;
        if let Some((bkind, _)) = &self.basis
            && (existing.is_none() || *bkind != BasisKind::Copy)
            && let Some(m) = self.find_basis(e, local)
        {
            match self.by_basis(e, m, *bkind, existing, remove, mode) {
                Ok(d) => match self.usable_basis(d, e) {
                    Ok(d) => return d,
                    Err(why) => refused = Some(why),
                },
                // rsync's receiver opens the basis file as the one being
                // replaced: without -p the new file takes its mode.
                Err(Some(st)) => {
                    mode = self.mode_for(e, Some(&st));
                    compare_to = Some(st);
                    basis_dir = true;
                }
                Err(None) => {}
            }
        }
        if let Some(st) = existing
            && self.quick_check_ok(e, dest, &st)
        {
            let iflags = self.itemize(e, Some(&st), 0, mode);
            let d = Decision::new(Action::Attrs { current: st }, iflags, mode);
            return d.with_refused(refused);
        }
        // --append: a destination (or basis-dir file) at least as long is
        // left alone, silently; rsync then makes no file at all (gen8278).
        // Another type in the way is made way for first (gen19874).
        if o.append != crate::options::Append::No
            && remove.is_none()
            && compare_to.is_some_and(|st| st.size >= e.stat.size)
        {
            let d = Decision::new(Action::Skip(SkipWhy::NotShorter), 0, mode);
            return d.with_refused(refused);
        }
        let mut flags = TRANSFER;
        if o.checksum {
            flags |= REPORT_CHANGE;
        }
        let iflags = self.itemize(e, compare_to.as_ref(), flags, mode);
        let action = Action::Transfer {
            remove,
            basis: existing,
            basis_dir,
        };
        Decision::new(action, iflags, mode).with_refused(refused)
    }

    /// `d` if the basis file it opens (to link it or copy from it) can
    /// be used, else (`Err`) why not: outside `--confine-root`'s root, or
    /// a local copy whose temp file cannot be made.
    fn usable_basis(&self, d: Decision, e: &Entry) -> Result<Decision, BasisRefused> {
        match &d.action {
            Action::Link { from, .. } | Action::LocalCopy { from, .. }
                if self.outside_root(from) =>
            {
                Err(BasisRefused::Outside(from.clone()))
            }
            Action::LocalCopy { .. } if !self.opts.dry_run => match &self.temp_climbs {
                Some(dir) => {
                    let base = Path::new(crate::sys::path_from(&e.name)).file_name();
                    let mut name = base.unwrap_or_default().to_os_string();
                    name.push(".XXXXXX");
                    Err(BasisRefused::TempClimbs(dir.join(name)))
                }
                None => Ok(d),
            },
            _ => Ok(d),
        }
    }

    /// `--confine-root`: whether `path` resolves outside the root.
    fn outside_root(&self, path: &Path) -> bool {
        let root = self.opts.confine_root.as_deref();
        root.is_some_and(|r| crate::sys::trust::escapes_root(path, r))
    }

    /// A file with basis match `m` (`--link-dest`, `--compare-dest`,
    /// `--copy-dest` of kind `bkind`): the decision it settles, else
    /// (`Err`) what to itemize the transfer against, if it changes that.
    fn by_basis(
        &self,
        e: &Entry,
        m: BasisMatch,
        bkind: BasisKind,
        existing: Option<Stat>,
        remove: Option<Stat>,
        mode: u32,
    ) -> Result<Decision, Option<Stat>> {
        use item::*;
        let same_inode = |st: &Stat| st.dev == m.stat.dev && st.ino == m.stat.ino;
        match (m.level, bkind) {
            (3, BasisKind::Link) if existing.as_ref().is_some_and(same_inode) => Err(None),
            (3, BasisKind::Link) => {
                let iflags = self.itemize(e, Some(&m.stat), LOCAL_CHANGE | XNAME_FOLLOWS, mode);
                let action = Action::Link {
                    from: m.path,
                    replace: existing.or(remove),
                };
                Ok(Decision::new(action, iflags, mode).quiet())
            }
            (3, BasisKind::Compare) => {
                let iflags = self.itemize(e, Some(&m.stat), 0, mode);
                // A non-file in the way goes first, as for a transfer.
                let action = Action::Unneeded {
                    remove: existing.or(remove),
                };
                Ok(Decision::new(action, iflags, mode).quiet())
            }
            // With a file in place, only an exact match counts.
            _ if existing.is_some() => Err(None),
            (2 | 3, _) => {
                let mode = self.mode_for(e, None);
                let iflags = self.itemize(e, Some(&m.stat), LOCAL_CHANGE, mode);
                let action = Action::LocalCopy {
                    from: m.path,
                    remove,
                };
                let d = Decision::new(action, iflags, mode);
                Ok(if m.level == 3 { d.quiet() } else { d })
            }
            // Same type only: transferred, itemized against it.
            _ => Err(Some(m.stat)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision for entry `e` over `old` (nothing is read from disk for
    /// these: the destination is described by its status alone).
    fn decide(opts: &Options, e: &Entry, old: Option<Stat>) -> Action {
        let recv = Receiver::for_options(opts);
        let (attrs, _) = meta::RunAttrs::new(opts, &recv);
        let planner = Planner {
            opts,
            recv: &recv,
            basis: None,
            attrs: &attrs,
            fs: crate::destfs::for_dry_run(true),
            temp_climbs: None,
        };
        planner
            .decide(e, Path::new("/nonexistent/dest"), b"x", old)
            .action
    }

    fn stat(mode: u32, size: u64, mtime: i64) -> Stat {
        Stat {
            mode,
            size,
            mtime,
            nlink: 1,
            ..Stat::default()
        }
    }

    fn file(size: u64, mtime: i64) -> Stat {
        stat(crate::sys::mode::S_IFREG | 0o644, size, mtime)
    }

    fn entry(st: Stat) -> Entry {
        Entry::new(b"x".to_vec(), st, "/nonexistent/src/x".into())
    }

    fn opts(set: impl FnOnce(&mut Options)) -> Options {
        let mut o = Options {
            links: true,
            times: true,
            perms: true,
            ..Options::default()
        };
        set(&mut o);
        o
    }

    #[test]
    fn files_by_quick_check() {
        let o = opts(|_| {});
        let e = entry(file(10, 1000));
        assert!(matches!(
            decide(&o, &e, None),
            Action::Transfer {
                remove: None,
                basis: None,
                ..
            }
        ));
        assert!(matches!(
            decide(&o, &e, Some(file(10, 1000))),
            Action::Attrs { .. }
        ));
        assert!(matches!(
            decide(&o, &e, Some(file(10, 999))),
            Action::Transfer { basis: Some(_), .. }
        ));
        assert!(matches!(
            decide(&o, &e, Some(file(11, 1000))),
            Action::Transfer { basis: Some(_), .. }
        ));
        let size_only = opts(|o| o.size_only = true);
        assert!(matches!(
            decide(&size_only, &e, Some(file(10, 5))),
            Action::Attrs { .. }
        ));
        let ignore_times = opts(|o| o.ignore_times = true);
        assert!(matches!(
            decide(&ignore_times, &e, Some(file(10, 1000))),
            Action::Transfer { .. }
        ));
    }

    #[test]
    fn another_type_in_the_way_is_replaced() {
        let o = opts(|_| {});
        let dir = stat(crate::sys::mode::S_IFDIR | 0o755, 0, 1000);
        let e = entry(file(10, 1000));
        assert!(matches!(
            decide(&o, &e, Some(dir)),
            Action::Transfer {
                remove: Some(_),
                basis: None,
                ..
            }
        ));
        let d = entry(dir);
        assert!(matches!(
            decide(&o, &d, Some(file(1, 1))),
            Action::Dir {
                exists: false,
                remove: Some(_)
            }
        ));
        assert!(matches!(
            decide(&o, &d, Some(dir)),
            Action::Dir {
                exists: true,
                remove: None
            }
        ));
    }

    #[test]
    fn specials_only_when_asked() {
        let fifo = entry(stat(crate::sys::mode::S_IFIFO | 0o600, 0, 1));
        assert!(matches!(
            decide(&opts(|_| {}), &fifo, None),
            Action::SkipNonRegular
        ));
        let o = opts(|o| o.specials = true);
        assert!(matches!(
            decide(&o, &fifo, None),
            Action::Node { replace: None }
        ));
        assert!(matches!(
            decide(
                &o,
                &fifo,
                Some(stat(crate::sys::mode::S_IFIFO | 0o600, 0, 1))
            ),
            Action::Attrs { .. }
        ));
    }

    #[test]
    fn update_rules_come_first() {
        let e = entry(file(10, 1000));
        let skip = |o: &Options, old| match decide(o, &e, old) {
            Action::Skip(why) => Some(why),
            _ => None,
        };
        let existing = opts(|o| o.existing = true);
        assert_eq!(skip(&existing, None), Some(SkipWhy::NotCreating));
        assert_eq!(skip(&existing, Some(file(1, 1))), None);
        let ignore = opts(|o| o.ignore_existing = true);
        assert_eq!(skip(&ignore, Some(file(1, 1))), Some(SkipWhy::Exists));
        assert_eq!(skip(&ignore, None), None);
        let update = opts(|o| o.update = true);
        assert_eq!(skip(&update, Some(file(1, 2000))), Some(SkipWhy::Newer));
        assert_eq!(skip(&update, Some(file(1, 10))), None);
        let max = opts(|o| o.max_size = Some(5));
        assert_eq!(skip(&max, None), Some(SkipWhy::OverMaxSize));
        let min = opts(|o| o.min_size = Some(50));
        assert_eq!(skip(&min, None), Some(SkipWhy::UnderMinSize));
    }

    #[test]
    fn unsafe_symlinks_are_skipped_with_safe_links() {
        let mut e = entry(stat(crate::sys::mode::S_IFLNK | 0o777, 4, 1));
        e.rare_mut().link = Some(b"/etc".to_vec());
        let o = opts(|o| o.safe_links = true);
        assert!(matches!(
            decide(&o, &e, None),
            Action::Skip(SkipWhy::UnsafeLink)
        ));
        e.rare_mut().link = Some(b"sibling".to_vec());
        assert!(matches!(
            decide(&o, &e, None),
            Action::Symlink { replace: None }
        ));
    }

    /// The planner over an in-memory destination (`destfs::mem`): what it
    /// reads there (`-c` content, symlink targets, basis directories)
    /// comes from the scene, so these decisions depend on content, not
    /// only on the stat given.
    mod on_mem {
        use super::*;
        use crate::destfs::mem::Mem;
        use crate::sys::mode::{S_IFDIR, S_IFLNK, S_IFREG};

        const DST: &str = "/nonexistent-arsync-plan/dst";
        const SRC: &str = "/nonexistent-arsync-plan/src";
        const BASIS: &str = "/nonexistent-arsync-plan/basis";
        const T: i64 = 1_600_000_000;

        struct Scene {
            mem: Arc<Mem>,
            opts: Options,
        }

        fn scene(set: impl FnOnce(&mut Options)) -> Scene {
            let mem = Arc::new(Mem::with_root(Path::new(DST)));
            for d in [SRC, BASIS] {
                mem.put(Path::new(d), S_IFDIR | 0o755, b"");
            }
            Scene {
                mem,
                opts: opts(set),
            }
        }

        impl Scene {
            /// Puts `data` at `path` with `mode` and mtime `T`.
            fn put(&self, path: &Path, mode: u32, data: &[u8]) -> Stat {
                self.mem.put(path, mode, data);
                self.mem.edit(path, |n| n.st.mtime = T);
                self.mem.get(path).map(|n| n.st).unwrap_or_default()
            }

            /// Source entry `x` and its destination item (if any), decided.
            fn decide(&self, src: (u32, &[u8]), dest: Option<(u32, &[u8])>) -> Decision {
                let sp = Path::new(SRC).join("x");
                let st = self.put(&sp, src.0, src.1);
                let mut e = Entry::new(b"x".to_vec(), st, sp);
                if src.0 & crate::sys::mode::S_IFMT == S_IFLNK {
                    e.rare_mut().link = Some(src.1.to_vec());
                }
                let dp = Path::new(DST).join("x");
                let old = dest.map(|(m, d)| self.put(&dp, m, d));
                let recv = Receiver::for_options(&self.opts);
                let (attrs, _) = meta::RunAttrs::new(&self.opts, &recv);
                let planner = Planner {
                    opts: &self.opts,
                    recv: &recv,
                    basis: self.opts.basis.clone(),
                    attrs: &attrs,
                    fs: self.mem.clone(),
                    temp_climbs: None,
                };
                planner.decide(&e, &dp, b"x", old)
            }
        }

        const F: u32 = S_IFREG | 0o644;

        #[test]
        fn checksum_compares_content_not_times() {
            let s = scene(|o| o.checksum = true);
            // Same size and time, other bytes: sent.
            let d = s.decide((F, b"abcd"), Some((F, b"abce")));
            assert!(matches!(d.action, Action::Transfer { basis: Some(_), .. }));
            assert_eq!(d.iflags & item::REPORT_CHANGE, item::REPORT_CHANGE);
            // Same bytes: only attributes.
            let d = s.decide((F, b"abcd"), Some((F, b"abcd")));
            assert!(matches!(d.action, Action::Attrs { .. }));
        }

        #[test]
        fn without_checksum_same_size_and_time_is_up_to_date() {
            let s = scene(|_| {});
            let d = s.decide((F, b"abcd"), Some((F, b"abce")));
            assert!(matches!(d.action, Action::Attrs { .. }));
        }

        #[test]
        fn symlink_target_decides() {
            let s = scene(|_| {});
            let l = S_IFLNK | 0o777;
            let d = s.decide((l, b"t/x"), Some((l, b"t/x")));
            assert!(matches!(d.action, Action::Attrs { .. }));
            let d = s.decide((l, b"t/x"), Some((l, b"t/y")));
            assert!(matches!(d.action, Action::Symlink { replace: Some(_) }));
        }

        #[test]
        fn link_dest_identical_file_is_linked_quietly() {
            let s = scene(|o| o.basis = Some((BasisKind::Link, vec![BASIS.into()])));
            s.put(&Path::new(BASIS).join("x"), F, b"abcd");
            let d = s.decide((F, b"abcd"), None);
            match &d.action {
                Action::Link { from, replace } => {
                    assert_eq!(from, &Path::new(BASIS).join("x"));
                    assert!(replace.is_none());
                }
                a => panic!("{a:?}"),
            }
            assert!(d.basis_quiet);
        }

        #[test]
        fn link_dest_other_content_is_sent_against_it() {
            let s = scene(|o| o.basis = Some((BasisKind::Link, vec![BASIS.into()])));
            s.put(&Path::new(BASIS).join("x"), F, b"old");
            let d = s.decide((F, b"abcd"), None);
            assert!(matches!(
                d.action,
                Action::Transfer {
                    basis: None,
                    basis_dir: true,
                    ..
                }
            ));
            // Itemized against the basis file, not as new.
            assert_eq!(d.iflags & item::IS_NEW, 0);
        }

        #[test]
        fn compare_dest_identical_file_is_unneeded() {
            let s = scene(|o| o.basis = Some((BasisKind::Compare, vec![BASIS.into()])));
            s.put(&Path::new(BASIS).join("x"), F, b"abcd");
            let d = s.decide((F, b"abcd"), None);
            assert!(matches!(d.action, Action::Unneeded { remove: None }));
        }

        #[test]
        fn copy_dest_same_content_other_mode_is_copied_locally() {
            let s = scene(|o| o.basis = Some((BasisKind::Copy, vec![BASIS.into()])));
            s.put(&Path::new(BASIS).join("x"), S_IFREG | 0o600, b"abcd");
            let d = s.decide((F, b"abcd"), None);
            assert!(matches!(d.action, Action::LocalCopy { .. }));
            assert!(!d.basis_quiet);
        }

        #[test]
        fn basis_of_another_type_is_passed_over() {
            let s = scene(|o| o.basis = Some((BasisKind::Link, vec![BASIS.into()])));
            s.put(&Path::new(BASIS).join("x"), S_IFDIR | 0o755, b"");
            let d = s.decide((F, b"abcd"), None);
            assert!(matches!(
                d.action,
                Action::Transfer {
                    basis_dir: false,
                    ..
                }
            ));
            assert_eq!(d.iflags & item::IS_NEW, item::IS_NEW);
        }
    }
}
