//! The executors: one per planned action (directory, attributes, skip,
//! symlink, device/special file, file copy, hard link), each carrying out
//! one entry's decision at the destination and returning its [`Effect`],
//! which the hard-link bookkeeping (`hlink`) then acts on — no executor
//! knows about hard-link groups.

use super::*;

/// One entry and what is at its destination, as the executors get it.
pub(super) struct Item<'i> {
    pub e: &'i Entry,
    pub dest: &'i Path,
    /// The handle of the directory it goes into, and its name there.
    pub at: DirAt,
    pub base: Vec<u8>,
    /// What is there (after `-K` and `--fake-super`).
    pub old: Option<Stat>,
    /// The destination root we created ourselves (it exists for the
    /// update rules, as rsync's receiver made it before the generator
    /// looked, but is new for itemizing).
    pub root_created: bool,
    /// Its name relative to the destination root.
    pub local: Vec<u8>,
}

impl Item<'_> {
    /// What to do with it.
    pub(super) fn decide(&self, planner: &Planner<'_>) -> Decision {
        if self.root_created {
            planner.plan(self.e, self.dest, &self.local, None)
        } else {
            planner.decide(self.e, self.dest, &self.local, self.old)
        }
    }
}

/// What an executor did, as far as the entry's hard-link group cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Effect {
    /// Nothing that concerns a group (failed, or left alone).
    None,
    /// The item is done at its destination; `xattr_stale`: an up-to-date
    /// item had its xattrs changed.
    Done { xattr_stale: bool },
    /// An update rule left it alone.
    Skipped,
    /// A new member waits for its group's last one.
    Deferred,
    /// A member found unchanged in a basis dir (not made in DEST) waits
    /// for its group's leader, to be linked to it.
    Unneeded,
    /// Its copy was handed to the engine (no token in a dry run).
    Copy(Option<u64>),
}

/// The message after a directory that could not be made or cleared.
const SKIP_CONTENTS: &str = "*** Skipping any contents from this failed directory ***";

impl Transfer<'_> {
    /// A directory: made if missing (or the way cleared first), its
    /// attributes set, and opened for its contents.
    pub(super) fn exec_dir(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        exists: bool,
        remove: Option<&Stat>,
    ) -> Next {
        let (e, dest) = (item.e, item.dest);
        if let Some(r) = remove
            && !self.make_room(dest, r, "directory")
        {
            // A backup --confine-root refuses: rsync's incremental
            // recursion tries to make way a second time, early, and fails
            // the same way.
            if self.ctx.opts.inc_recurse() && self.backup_confined_out() {
                self.make_room(dest, r, "directory");
            }
            self.report.error_raw(SKIP_CONTENTS);
            // rsync's sender still lists the contents: they count.
            return Next::CountOnly;
        }
        self.item(d, e, None);
        let opts = self.ctx.opts;
        // The destination root we created ourselves is new for itemizing,
        // but already exists on disk.
        let on_disk = exists || (item.root_created && !opts.dry_run);
        let mut current = item.old.filter(|s| s.kind() == Kind::Dir);
        if !on_disk {
            if opts.dry_run {
                self.push_dir(dest, e, None, None);
                return Next::Descend { fresh: true };
            }
            match self.make_dir(item, d) {
                Some(st) => current = st,
                None => return Next::CountOnly,
            }
        }
        let created = !exists;
        let restore = match current {
            Some(cur) => self.dir_attrs(item, d, &cur, created),
            None => None,
        };
        self.push_dir(dest, e, restore, current);
        Next::Descend { fresh: created }
    }

    /// Makes a missing directory; what is there then (`None` after
    /// reporting a failure).
    fn make_dir(&mut self, item: &Item<'_>, d: &Decision) -> Option<Option<Stat>> {
        let opts = self.ctx.opts;
        let mut mode = d.mode & 0o7777;
        // rsync's incremental recursion makes a new directory early,
        // owner-only, while the parent is being filled, and sets its
        // permissions when it gets to it (an ACL write sees that mode as
        // the old one).
        if opts.inc_recurse() && opts.times && !opts.omit_dir_times {
            mode &= 0o700;
        }
        // A normal user (and --fake-super, like root) must be able to
        // fill the directory.
        if !self.ctx.recv.am_root || self.ctx.recv.fake_super {
            mode |= 0o700;
        }
        if let Err(err) = self.ctx.fs.mkdir(&item.at, &item.base, mode)
            && err != Errno::EXIST
        {
            let msg = format!(
                "[generator] recv_generator: mkdir \"{}\" failed: {}",
                self.shown(item.dest),
                sys::errno_text(err)
            );
            self.report.error(msg);
            self.report.error_raw(SKIP_CONTENTS);
            return None;
        }
        Some(self.ctx.fs.lstat(&item.at, &item.base).ok())
    }

    /// Sets a directory's attributes; the permissions to restore once
    /// its contents are written, if it must be writable meanwhile.
    fn dir_attrs(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        cur: &Stat,
        created: bool,
    ) -> Option<u32> {
        let (opts, recv) = (self.ctx.opts, self.ctx.recv);
        let e = item.e;
        let mut want = self.wanted(e, d);
        // A new directory keeps a set-gid bit inherited from its parent
        // when permissions are not preserved.
        if !opts.perms && created && cur.mode & 0o2000 != 0 {
            want.mode |= 0o2000;
        }
        let mut policy = Policy::new(opts, recv, e.stat.gid);
        // Times are set now (as rsync does) and re-checked once the
        // contents are written; -O leaves them alone.
        policy.set_times &= !opts.omit_dir_times;
        let mut extra = d.extra.clone();
        if let Some(x) = extra.as_mut()
            && created
        {
            x.forget_dest();
        }
        self.apply_attrs_ext(item.dest, cur, &want, &policy, extra.as_deref());
        // A normal user must be able to fill the directory: rsync then
        // adds u+rwx by a chmod of its own, restored once it is filled.
        if recv.am_root || want.mode & 0o700 == 0o700 || opts.dry_run {
            return None;
        }
        self.open_up_dir(item, want.mode | 0o700);
        Some(want.mode & 0o7777)
    }

    /// rsync's `u+rwx` on a directory a normal user fills, with its
    /// message when refused (the directory is left as it is).
    fn open_up_dir(&mut self, item: &Item<'_>, mode: u32) {
        if let Err(err) = self.ctx.fs.chmod(&item.at, &item.base, mode) {
            let msg = format!(
                "[generator] failed to modify permissions on \"{}\": {}",
                self.recv_shown(&self.local_of(item.dest)),
                sys::errno_text(err)
            );
            self.report.error(msg);
        }
    }

    /// An item that is there already: only its attributes are set.
    pub(super) fn exec_attrs(&mut self, item: &Item<'_>, d: &Decision, current: &Stat) -> Effect {
        let (opts, e) = (self.ctx.opts, item.e);
        let kind = e.kind();
        let want = self.wanted(e, d);
        let mut policy = Policy::new(opts, self.ctx.recv, e.stat.gid);
        if kind == Kind::File && opts.checksum {
            policy.accurate_time = true;
        }
        if kind == Kind::Symlink && (!opts.times || opts.omit_link_times) {
            policy.set_times = false;
        }
        let updated = self.apply_attrs_ext(item.dest, current, &want, &policy, d.extra.as_deref());
        if let Some(u) = updated {
            let (name, changed) = (&e.name, u.any());
            self.report.event(Event::UpToDate { name, changed });
        }
        let (iflags, link) = (d.iflags, e.link());
        self.report.event(Event::Item { iflags, e, link });
        if kind == Kind::File {
            self.drop_partial(item.dest, true);
        }
        self.maybe_remove_source(e);
        Effect::Done {
            xattr_stale: d.iflags & crate::plan::item::REPORT_XATTR != 0,
        }
    }

    /// An entry an update rule (or `--safe-links`) leaves alone.
    pub(super) fn exec_skip(&mut self, item: &Item<'_>, why: SkipWhy) -> Next {
        let e = item.e;
        self.report.event(Event::Skipped { e, why });
        match (e.kind(), why) {
            // rsync's skip_dir: nothing below a directory --existing does
            // not create is acted on, but the sender still lists (and
            // counts) it.
            (Kind::Dir, SkipWhy::NotCreating) => Next::CountOnly,
            // A directory over a non-directory kept by --ignore-existing:
            // rsync still visits the contents (each fails to stat, or is
            // looked up through a symlink there) and touches the path's time.
            (Kind::Dir, SkipWhy::Exists) => {
                self.push_dir(item.dest, e, None, None);
                self.follow_kept_dir(item.dest);
                Next::Descend { fresh: false }
            }
            _ => Next::Stop,
        }
    }

    /// A symlink, made (atomically over a non-directory) with its
    /// attributes.
    pub(super) fn exec_symlink(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        replace: Option<&Stat>,
    ) -> Effect {
        let (e, dest) = (item.e, item.dest);
        let target = e.link().unwrap_or_default().to_vec();
        if let Some(r) = replace
            && r.kind() == Kind::Dir
            && !self.make_room(dest, r, "symlink")
        {
            return Effect::None;
        }
        let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
        if !self.ctx.opts.dry_run {
            let fake = self.ctx.recv.fake_super;
            if let Err(msg) = self.create_node(dest, atomic, |fs, d, p| {
                if fake {
                    meta::fake::create_as_file_at(d, &d.name(p), &target)
                } else {
                    fs.symlink(d, p, &target)
                }
            }) {
                // None: already reported (a backup that failed).
                if let Some(msg) = msg {
                    let msg = format!(
                        "[generator] symlink \"{}\" -> \"{}\" failed: {msg}",
                        self.shown(dest),
                        self.report.esc(&target)
                    );
                    self.report.error(msg);
                }
                return Effect::None;
            }
            let mut policy = Policy::new(self.ctx.opts, self.ctx.recv, e.stat.gid);
            policy.set_times &= !self.ctx.opts.omit_link_times;
            self.new_node_attrs(item, d, &policy);
        }
        self.item(d, e, Some(&target));
        self.maybe_remove_source(e);
        Effect::Done { xattr_stale: false }
    }

    /// A device or special file, made (atomically over a non-directory)
    /// with its attributes.
    pub(super) fn exec_node(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        replace: Option<&Stat>,
    ) -> Effect {
        let (e, dest) = (item.e, item.dest);
        let what = if e.kind().is_device() {
            "device file"
        } else {
            "special file"
        };
        if let Some(r) = replace
            && r.kind() == Kind::Dir
            && !self.make_room(dest, r, what)
        {
            return Effect::None;
        }
        let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
        if !self.ctx.opts.dry_run {
            let (st_mode, perm, rdev) = (e.stat.mode, d.mode & 0o7777, e.stat.rdev);
            let fake = self.ctx.recv.fake_super;
            if let Err(msg) = self.create_node(dest, atomic, |fs, d, p| {
                if fake {
                    meta::fake::create_as_file_at(d, &d.name(p), b"")
                } else {
                    fs.mknod(d, p, st_mode, perm, rdev)
                }
            }) {
                if let Some(msg) = msg {
                    let msg = format!("[generator] mknod \"{}\" failed: {msg}", self.shown(dest));
                    self.report.error(msg);
                }
                return Effect::None;
            }
            let policy = Policy::new(self.ctx.opts, self.ctx.recv, e.stat.gid);
            self.new_node_attrs(item, d, &policy);
        }
        self.item(d, e, None);
        self.maybe_remove_source(e);
        Effect::Done { xattr_stale: false }
    }

    /// Sets the attributes of a symlink or node just made (whatever the
    /// old destination item had is gone).
    fn new_node_attrs(&mut self, item: &Item<'_>, d: &Decision, policy: &Policy) {
        let want = self.wanted(item.e, d);
        if let Ok(cur) = self.ctx.fs.lstat(&item.at, &item.base) {
            let mut extra = d.extra.clone();
            if let Some(x) = extra.as_mut() {
                x.forget_dest();
            }
            self.apply_attrs_ext(item.dest, &cur, &want, policy, extra.as_deref());
        }
    }

    /// A file whose content is sent: the way cleared, then handed to the
    /// engine (`fresh`: nothing to update in place); `defer`: a new
    /// hard-link member that waits for its group's last one instead.
    pub(super) fn exec_transfer(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        remove: Option<&Stat>,
        fresh: bool,
        defer: bool,
    ) -> Effect {
        let (e, dest) = (item.e, item.dest);
        if let Some(r) = remove
            && !self.make_room(dest, r, "regular file")
        {
            return Effect::None;
        }
        if defer {
            return Effect::Deferred;
        }
        self.report.event(Event::Sending { size: e.stat.size });
        Effect::Copy(self.submit_copy(e, d, &e.src(), dest, fresh))
    }

    /// `--compare-dest` found the file unchanged: nothing is written, and
    /// what is at the destination goes (a file quietly; another type as
    /// for a transfer, which a non-empty directory refuses without
    /// `--force`: then the file is left out, and `false` comes back).
    pub(super) fn exec_unneeded(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        remove: Option<&Stat>,
    ) -> bool {
        match remove {
            Some(r) if r.kind() == Kind::File => {
                let _ = self.ctx.fs.unlink(&item.at, &item.base);
            }
            Some(r) if !self.make_room(item.dest, r, "regular file") => return false,
            _ => {}
        }
        self.item(d, item.e, item.e.link());
        self.remove_source_if_file(item.e);
        true
    }

    /// A hard link to a basis file (`--link-dest`); a file falls back to
    /// a copy from it if linking fails.
    pub(super) fn exec_link(
        &mut self,
        item: &Item<'_>,
        d: &Decision,
        from: &Path,
        replace: Option<&Stat>,
    ) -> Effect {
        let (e, dest) = (item.e, item.dest);
        if let Some(r) = replace {
            let ok = if r.kind() == Kind::File {
                let unlinked = self.ctx.fs.unlink(&item.at, &item.base);
                matches!(unlinked, Ok(()) | Err(Errno::NOENT))
            } else {
                self.make_room(dest, r, "regular file")
            };
            if !ok {
                return Effect::None;
            }
        }
        if let Err(err) = self.ctx.fs.link_from(&item.at, &item.base, from) {
            // rsync falls back to copying from the basis file.
            if e.kind() == Kind::File {
                return Effect::Copy(self.submit_copy(e, d, from, dest, true));
            }
            let msg = format!(
                "[generator] failed to hard-link {} with {}: {}",
                self.report.esc(sys::bytes(from)),
                self.report.esc(&item.local),
                sys::errno_text(err)
            );
            self.report.error(msg);
            return Effect::None;
        }
        self.item(d, e, e.link());
        self.remove_source_if_file(e);
        Effect::Done { xattr_stale: false }
    }

    /// `--remove-source-files` after a `--link-dest`/`--compare-dest`
    /// match: rsync removes a matched regular file from the source, but
    /// not a matched symlink or node (nothing was sent for it).
    fn remove_source_if_file(&mut self, e: &Entry) {
        if e.kind() == Kind::File {
            self.maybe_remove_source(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit;
    use super::*;
    use std::os::unix::fs::{MetadataExt, symlink};

    /// A source tree, an empty destination, and the run's options.
    struct Fixture {
        src: tempfile::TempDir,
        dst: tempfile::TempDir,
        opts: Options,
    }

    fn fixture(set: impl FnOnce(&mut Options)) -> Fixture {
        Fixture {
            src: tempfile::tempdir().unwrap(),
            dst: tempfile::tempdir().unwrap(),
            opts: testkit::options(set),
        }
    }

    impl Fixture {
        /// [`Fixture::run`] with destination `fs`.
        fn run_on<R>(&self, fs: Arc<dyn DestFs>, f: impl FnOnce(&mut Transfer<'_>) -> R) -> R {
            let path = self.dst.path().to_path_buf();
            let root = DestRoot {
                at: sys::open_root(&path).unwrap(),
                path,
            };
            testkit::with_transfer(&self.opts, root, fs, f)
        }

        fn entry(&self, name: &str) -> Entry {
            let p = self.src.path().join(name);
            let st = sys::lstat(&p).unwrap();
            let mut e = Entry::new(name.as_bytes().to_vec(), st, p.clone());
            if st.kind() == Kind::Symlink {
                let t = std::fs::read_link(&p).unwrap();
                e.rare_mut().link = Some(sys::bytes(&t).to_vec());
            }
            e
        }

        fn dest(&self, name: &str) -> PathBuf {
            self.dst.path().join(name)
        }

        /// Runs `f` with a driver for this destination (no engine: copies
        /// are only counted).
        fn run<R>(&self, f: impl FnOnce(&mut Transfer<'_>) -> R) -> R {
            self.run_on(destfs::for_dry_run(self.opts.dry_run), f)
        }

        /// Looks, decides and executes entry `name`.
        fn handle(&self, name: &str) -> (Action, Next, Effect) {
            let e = self.entry(name);
            let dest = self.dest(name);
            self.run(|t| {
                let item = t.look(&e, &dest, Known::Unknown, false).unwrap();
                let d = item.decide(&t.ctx.planner);
                let (next, effect) = t.execute(&item, &d, false);
                (d.action, next, effect)
            })
        }
    }

    #[test]
    fn a_missing_directory_is_made_and_entered() {
        let f = fixture(|_| {});
        std::fs::create_dir(f.src.path().join("d")).unwrap();
        let (action, next, effect) = f.handle("d");
        assert!(matches!(action, Action::Dir { exists: false, .. }));
        assert_eq!(next, Next::Descend { fresh: true });
        assert_eq!(effect, Effect::None);
        assert!(f.dest("d").is_dir());
    }

    #[test]
    fn a_dry_run_makes_nothing_but_enters_the_new_directory() {
        let f = fixture(|o| o.dry_run = true);
        std::fs::create_dir(f.src.path().join("d")).unwrap();
        let e = f.entry("d");
        let dest = f.dest("d");
        let depth = f.run(|t| {
            let item = t.look(&e, &dest, Known::Unknown, false).unwrap();
            let d = item.decide(&t.ctx.planner);
            assert_eq!(t.execute(&item, &d, false).0, Next::Descend { fresh: true });
            t.dirs.stack.len()
        });
        assert_eq!(depth, 1);
        assert!(!dest.exists());
    }

    #[test]
    fn a_symlink_replaces_a_file_atomically() {
        let f = fixture(|_| {});
        symlink("target/x", f.src.path().join("l")).unwrap();
        std::fs::write(f.dest("l"), b"old").unwrap();
        let (action, next, effect) = f.handle("l");
        assert!(matches!(action, Action::Symlink { replace: Some(_) }));
        assert_eq!(next, Next::Stop);
        assert_eq!(effect, Effect::Done { xattr_stale: false });
        assert_eq!(
            std::fs::read_link(f.dest("l")).unwrap(),
            Path::new("target/x")
        );
        // No temporary name is left behind.
        assert_eq!(std::fs::read_dir(f.dst.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_fifo_is_made() {
        let f = fixture(|_| {});
        let dir = sys::open_root(f.src.path()).unwrap();
        dir.mknod(b"p", crate::sys::mode::S_IFIFO, 0o640, 0)
            .unwrap();
        let (action, _, effect) = f.handle("p");
        assert!(matches!(action, Action::Node { replace: None }));
        assert_eq!(effect, Effect::Done { xattr_stale: false });
        let st = sys::lstat(&f.dest("p")).unwrap();
        assert_eq!(st.kind(), Kind::Fifo);
        assert_eq!(st.mode & 0o7777, 0o640);
    }

    #[test]
    fn an_up_to_date_file_only_gets_its_attributes() {
        let f = fixture(|_| {});
        std::fs::write(f.src.path().join("a"), b"same").unwrap();
        std::fs::write(f.dest("a"), b"same").unwrap();
        let src = sys::lstat(&f.src.path().join("a")).unwrap();
        sys::open_root(f.dst.path())
            .unwrap()
            .set_mtime(b"a", src.mtime, src.mtime_nsec)
            .unwrap();
        std::fs::set_permissions(
            f.dest("a"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let (action, _, effect) = f.handle("a");
        assert!(matches!(action, Action::Attrs { .. }));
        assert_eq!(effect, Effect::Done { xattr_stale: false });
        assert_eq!(
            std::fs::metadata(f.dest("a")).unwrap().mode() & 0o7777,
            src.mode & 0o7777
        );
    }

    #[test]
    fn a_changed_file_is_handed_over_as_a_copy() {
        let f = fixture(|_| {});
        std::fs::write(f.src.path().join("a"), b"new content").unwrap();
        let e = f.entry("a");
        let dest = f.dest("a");
        let (effect, counted, deferred) = f.run(|t| {
            let item = t.look(&e, &dest, Known::Unknown, false).unwrap();
            let d = item.decide(&t.ctx.planner);
            // A new hard-link member that is not its group's last waits.
            let deferred = t.execute(&item, &d, true).1;
            let n = t.report.stats().num_transferred;
            let (_, effect) = t.execute(&item, &d, false);
            (effect, t.report.stats().num_transferred - n, deferred)
        });
        assert_eq!(deferred, Effect::Deferred);
        // The engine gets a token; its result is collected later.
        assert_eq!(effect, Effect::Copy(Some(0)));
        assert_eq!(counted, 1);
    }

    #[test]
    fn a_basis_file_is_hard_linked() {
        let f = fixture(|_| {});
        std::fs::write(f.src.path().join("a"), b"basis").unwrap();
        let basis = f.src.path().join("a");
        let e = f.entry("a");
        let dest = f.dest("a");
        let effect = f.run(|t| {
            let item = t.look(&e, &dest, Known::Unknown, false).unwrap();
            let d = Decision {
                action: Action::Link {
                    from: basis.clone(),
                    replace: None,
                },
                iflags: 0,
                mode: e.stat.mode,
                basis_quiet: false,
                extra: None,
                refused_basis: None,
            };
            t.execute(&item, &d, false).1
        });
        assert_eq!(effect, Effect::Done { xattr_stale: false });
        assert_eq!(
            std::fs::metadata(&dest).unwrap().ino(),
            std::fs::metadata(&basis).unwrap().ino()
        );
    }

    #[test]
    fn a_dry_run_link_goes_through_the_dry_run_destination() {
        let f = fixture(|o| o.dry_run = true);
        std::fs::write(f.src.path().join("a"), b"basis").unwrap();
        std::fs::write(f.dest("a"), b"old").unwrap();
        let basis = f.src.path().join("a");
        let e = f.entry("a");
        let dest = f.dest("a");
        let fs = Arc::new(destfs::DryRun::recording());
        let effect = f.run_on(fs.clone(), |t| {
            let item = t.look(&e, &dest, Known::Unknown, false).unwrap();
            let d = Decision {
                action: Action::Link {
                    from: basis.clone(),
                    replace: item.old,
                },
                iflags: 0,
                mode: e.stat.mode,
                basis_quiet: false,
                extra: None,
                refused_basis: None,
            };
            t.execute(&item, &d, false).1
        });
        assert_eq!(effect, Effect::Done { xattr_stale: false });
        assert_eq!(
            fs.ops(),
            [destfs::Op::Unlink("a".into()), destfs::Op::Link("a".into())]
        );
        // The old file is still there.
        assert_eq!(std::fs::read(&dest).unwrap(), b"old");
    }

    #[test]
    fn hard_linked_files_are_copied_once_and_linked() {
        let f = fixture(|o| o.hard_links = true);
        std::fs::write(f.src.path().join("a"), b"data").unwrap();
        std::fs::hard_link(f.src.path().join("a"), f.src.path().join("b")).unwrap();
        let (a, b) = (f.entry("a"), f.entry("b"));
        let (da, db) = (f.dest("a"), f.dest("b"));
        f.run(|t| {
            // The first member waits for its group's last one...
            assert_eq!(t.handle(&a, &da, Known::Unknown, false), Next::Stop);
            assert!(t.copies.take(0).is_none());
            // ...which is copied (token 0)...
            assert_eq!(t.handle(&b, &db, Known::Unknown, false), Next::Stop);
            // ...by the engine; once it is done, the first is linked to it.
            std::fs::copy(f.src.path().join("b"), &db).unwrap();
            t.complete(0, Outcome::Copied(4));
            t.hlink_finish_copied();
        });
        let ino = |p: &Path| std::fs::metadata(p).unwrap().ino();
        assert_eq!(ino(&da), ino(&db));
        assert_eq!(std::fs::read(&da).unwrap(), b"data");
    }

    #[test]
    fn update_rules_skip_and_say_so_to_the_hard_link_groups() {
        let f = fixture(|o| o.ignore_existing = true);
        std::fs::write(f.src.path().join("a"), b"new").unwrap();
        std::fs::write(f.dest("a"), b"old").unwrap();
        let (action, next, effect) = f.handle("a");
        assert!(matches!(action, Action::Skip(SkipWhy::Exists)));
        assert_eq!((next, effect), (Next::Stop, Effect::Skipped));
        assert_eq!(std::fs::read(f.dest("a")).unwrap(), b"old");
    }
}
