//! One entry at the destination (rsync's generator work): what is there
//! (`look`), the decision, its execution by the action's executor (see
//! `exec`) and the hard-link bookkeeping that follows from its effect; and
//! the shared steps the executors use: attributes, making room, atomic
//! creation of links and nodes, and handing files to the engine.

use super::*;

/// `-K` applies: the source has a directory where the destination has a
/// symlink.
fn opts_keep_dirlinks(opts: &Options, e: &Entry, old: &Stat) -> bool {
    opts.keep_dirlinks && e.is_dir() && old.kind() == Kind::Symlink
}

impl Transfer<'_> {
    pub(super) fn wanted(&self, e: &Entry, d: &Decision) -> Wanted {
        Wanted {
            mode: d.mode,
            uid: e.stat.uid,
            gid: e.stat.gid,
            mtime: e.stat.mtime,
            mtime_nsec: e.stat.mtime_nsec,
            // rsync's -U leaves directories' access times alone.
            atime: (self.ctx.opts.atimes && !e.is_dir()).then_some(e.stat.atime),
            kind: e.kind(),
        }
    }

    /// Applies attributes to a path, with an item's `-X`/`-A`/
    /// `--fake-super` work if any; `None` after reporting a failure. The
    /// failures of that work are reported (as rsync's receiver does) and
    /// the rest still applies.
    pub(super) fn apply_attrs_ext(
        &mut self,
        path: &Path,
        current: &Stat,
        want: &Wanted,
        policy: &Policy,
        extra: Option<&meta::ItemAttrs>,
    ) -> Option<meta::Updated> {
        let attrs = destfs::Attrs {
            current,
            want,
            policy,
            extra,
        };
        let r = match self.at_of(path) {
            Ok((d, base)) => self.ctx.fs.set_attrs(&d, &base, attrs),
            Err(errno) => Err(meta::AttrError {
                what: "failed to set times on",
                errno,
            }),
        };
        match r {
            Ok((u, soft)) => {
                if !soft.is_empty() {
                    let shown = format!("\"{}\"", self.recv_shown(&self.local_of(path)));
                    for e in soft {
                        // rsync sets xattrs in the receiver's pass over
                        // the item, the rest in the generator's.
                        let role = match e {
                            meta::SoftError::Xattr(_) => "receiver",
                            _ => "generator",
                        };
                        self.report.error(format!("[{role}] {}", e.message(&shown)));
                    }
                }
                Some(u)
            }
            Err(e) => {
                let local = self.local_of(path);
                let shown = format!("\"{}\"", self.recv_shown(&local));
                let msg = format!("[generator] {}", e.message(&shown));
                self.report.error(msg);
                None
            }
        }
    }

    /// Removes what is in the way of a new item (rsync's `delete_item`
    /// with a DEL_FOR_* flag): recursively with `--force` or `--delete`,
    /// else only an empty directory; backed up with `-b`. Returns whether
    /// the way is clear.
    pub(super) fn make_room(&mut self, path: &Path, old: &Stat, what: &'static str) -> bool {
        let flags = DelFlags {
            recurse: self.ctx.opts.force || self.ctx.opts.delete.is_some(),
            make_room: Some(what),
            dir_is_empty: false,
        };
        let r = self.disposal.deleter.delete_item(
            self.report,
            self.disposal.backup.as_mut(),
            path,
            old,
            flags,
        );
        r == DelResult::Success
    }

    /// `--remove-source-files` for an item handled right away (up to date,
    /// or a link or node made).
    pub(super) fn maybe_remove_source(&mut self, e: &Entry) {
        if self.ctx.opts.remove_source_files
            && e.kind() != Kind::Dir
            && let Some(line) = self.remove_source(&SourceToRemove::of(e, self.ctx.opts.copy_links))
        {
            self.report.info(line);
        }
    }

    /// Handles one entry at `dest` and says what to do with its contents
    /// (for a directory).
    pub(super) fn handle(
        &mut self,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
    ) -> Next {
        if e.is_missing() {
            self.delete_missing(dest, known);
            return Next::Stop;
        }
        match self.hlink_key(e) {
            Some(_) if self.hlink_hold(e, dest) => Next::Stop,
            Some(key) => self.handle_member(key, e, dest, known, root_created),
            None => self.handle_as(e, dest, known, root_created, None),
        }
    }

    /// [`Transfer::handle`] for a member of hard-link group `key`.
    pub(super) fn handle_member(
        &mut self,
        key: GroupKey,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
    ) -> Next {
        let skips = self.update_rule_skips(e, dest, known);
        match self.hlink_arrive(key, e, dest, skips) {
            Arrival::Settled => Next::Stop,
            Arrival::Process { last } => {
                self.handle_as(e, dest, known, root_created, Some((key, last)))
            }
        }
    }

    /// Whether an update rule (`--existing`, `--ignore-existing`, `-u`)
    /// leaves the entry alone.
    fn update_rule_skips(&self, e: &Entry, dest: &Path, known: Known) -> bool {
        let old = match known {
            Known::Listed(st) => st,
            Known::Unknown => self.ctx.fs.lstat_path(dest).ok(),
        };
        self.ctx.planner.update_rule(e, old).is_some()
    }

    /// [`Transfer::handle`] once hard links are sorted out: `hl` is the
    /// entry's group and whether it is the group's last member. Looks at
    /// the destination, decides, and has the action's executor carry the
    /// decision out; the hard-link bookkeeping follows from its effect.
    pub(super) fn handle_as(
        &mut self,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
        hl: Option<(GroupKey, bool)>,
    ) -> Next {
        let Some(item) = self.look(e, dest, known, root_created) else {
            return Next::Stop;
        };
        let d = item.decide(&self.ctx.planner);
        let defer = matches!(hl, Some((_, false)));
        let (next, effect) = self.execute(&item, &d, defer);
        if let Some((key, last)) = hl {
            self.hlink_effect(key, last, &item, effect);
        }
        next
    }

    /// Looks at what is at entry `e`'s destination `dest` (the generator's
    /// half of an entry): through the handle of its directory (one that
    /// could not be opened fails each entry in it), with `-K` and
    /// `--fake-super` applied. `None` after reporting a failure.
    pub(super) fn look<'i>(
        &mut self,
        e: &'i Entry,
        dest: &'i Path,
        known: Known,
        root_created: bool,
    ) -> Option<Item<'i>> {
        let looked = self.at_of(dest).and_then(|(at, base)| {
            let old = match known {
                Known::Listed(st) => st,
                Known::Unknown => match self.ctx.fs.lstat(&at, &base) {
                    Ok(s) => Some(s),
                    Err(Errno::NOENT) => None,
                    Err(err) => return Err(err),
                },
            };
            Ok((at, base, old))
        });
        let (at, base, old) = match looked {
            Ok(x) => x,
            Err(err) => {
                let msg = format!(
                    "[generator] recv_generator: failed to stat \"{}\": {}",
                    self.shown(dest),
                    sys::errno_text(err)
                );
                self.report.error(msg);
                return None;
            }
        };
        let old = self.seen_as(e, dest, &at, &base, old)?;
        // Without -p, new items take their permissions from the default
        // ACL of the directory they go into.
        if !self.ctx.opts.perms {
            let dir = if e.name == b"." {
                dest
            } else {
                dest.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            };
            if let Some(w) = self.ctx.attrs.enter_dir(dir) {
                self.report.warning(w);
            }
        }
        Some(Item {
            e,
            dest,
            at,
            base,
            old,
            root_created,
            local: self.local_of(dest),
        })
    }

    /// The destination item `old` as the transfer sees it: with `-K`, a
    /// symlink to a directory stands for that directory when the source
    /// has a directory there; with `--fake-super`, as its %stat record
    /// says it is. `None` after reporting a failure.
    fn seen_as(
        &mut self,
        e: &Entry,
        dest: &Path,
        at: &DirAt,
        base: &[u8],
        old: Option<Stat>,
    ) -> Option<Option<Stat>> {
        let old = match old {
            Some(st) if opts_keep_dirlinks(self.ctx.opts, e, &st) => {
                match self.ctx.fs.stat(at, base) {
                    Ok(t) if t.kind() == Kind::Dir => Some(t),
                    _ => Some(st),
                }
            }
            other => other,
        };
        match old {
            Some(st) if self.ctx.attrs.fake_super() => match self.ctx.attrs.dest_stat(dest, st) {
                Ok(st) => Some(Some(st)),
                Err(msg) => {
                    self.report.error(msg);
                    None
                }
            },
            other => Some(other),
        }
    }

    /// Carries decision `d` out for `item` with the action's executor.
    /// `defer`: the entry is a hard-linked member that is not its group's
    /// last, so a new file waits for the last one.
    pub(super) fn execute(&mut self, item: &Item<'_>, d: &Decision, defer: bool) -> (Next, Effect) {
        let stop = |effect| (Next::Stop, effect);
        if let Some(why) = &d.refused_basis {
            let msg = match why {
                BasisRefused::Outside(from) => format!(
                    "[generator] open \"{}\": {}",
                    self.shown(from),
                    sys::errno_text(Errno::LOOP)
                ),
                BasisRefused::TempClimbs(tmp) => format!(
                    "[generator] mkstemp \"{}\" failed: {}",
                    self.shown(tmp),
                    sys::errno_text(Errno::INVAL)
                ),
            };
            self.report.error(msg);
        }
        match &d.action {
            Action::Dir { exists, remove } => (
                self.exec_dir(item, d, *exists, remove.as_ref()),
                Effect::None,
            ),
            Action::Attrs { current } => stop(self.exec_attrs(item, d, current)),
            Action::Skip(why) => (self.exec_skip(item, *why), Effect::Skipped),
            Action::SkipNonRegular => {
                let name = &item.e.name;
                self.report.event(Event::NonRegular { name });
                stop(Effect::None)
            }
            Action::Symlink { replace } => stop(self.exec_symlink(item, d, replace.as_ref())),
            Action::Node { replace } => stop(self.exec_node(item, d, replace.as_ref())),
            Action::Transfer {
                remove,
                basis,
                basis_dir,
            } => {
                // rsync's generator defers a new member only when nothing,
                // not even a basis-dir file, can be its basis.
                let defer = defer && basis.is_none() && !basis_dir;
                stop(self.exec_transfer(item, d, remove.as_ref(), basis.is_none(), defer))
            }
            Action::LocalCopy { from, remove } => {
                if let Some(r) = remove
                    && !self.make_room(item.dest, r, "regular file")
                {
                    return stop(Effect::None);
                }
                stop(Effect::Copy(
                    self.submit_copy(item.e, d, from, item.dest, true),
                ))
            }
            Action::Link { from, replace } => stop(self.exec_link(item, d, from, replace.as_ref())),
            Action::Unneeded { remove } => {
                // A member found in a basis dir is not in DEST: rsync's
                // generator links it to the group's leader once there is
                // one; the last such member lets a waiting one lead.
                stop(match self.exec_unneeded(item, d, remove.as_ref()) {
                    true if defer => Effect::Unneeded,
                    true => Effect::Skipped,
                    false => Effect::None,
                })
            }
        }
    }

    /// `-H`: what an executor's effect means for the entry's group.
    fn hlink_effect(&mut self, key: GroupKey, last: bool, item: &Item<'_>, effect: Effect) {
        let (e, dest) = (item.e, item.dest);
        match effect {
            Effect::None => {}
            Effect::Done { xattr_stale } => {
                if xattr_stale {
                    self.hlink_xattr_stale(key);
                }
                self.hlink_done(key, e, dest);
            }
            Effect::Skipped => self.hlink_skipped(key, last),
            Effect::Deferred => self.hlink_defer(key, e, dest, false),
            Effect::Unneeded => self.hlink_defer(key, e, dest, true),
            Effect::Copy(Some(token)) => self.hlink_sent(key, token, e, dest),
            // A dry run copies nothing: the member is done at once.
            Effect::Copy(None) => self.hlink_done(key, e, dest),
        }
    }

    /// `--delete-missing-args`: a source argument that does not exist
    /// removes its destination counterpart (a non-empty directory only
    /// with `--force` or `--delete`).
    fn delete_missing(&mut self, dest: &Path, known: Known) {
        let old = match known {
            Known::Listed(st) => st,
            Known::Unknown => self.ctx.fs.lstat_path(dest).ok(),
        };
        let Some(old) = old else { return };
        let flags = DelFlags {
            recurse: self.ctx.opts.force || self.ctx.opts.delete.is_some(),
            make_room: None,
            dir_is_empty: false,
        };
        let deleter = &mut self.disposal.deleter;
        let backup = self.disposal.backup.as_mut();
        self.report
            .unordered(|r| deleter.delete_item(r, backup, dest, &old, flags));
    }

    /// Prints an entry's item line, or — when an identical basis item
    /// settled it — only what rsync prints for that (`-ii` line,
    /// `-vv` "is uptodate").
    pub(super) fn item(&mut self, d: &Decision, e: &Entry, link: Option<&[u8]>) {
        if !d.basis_quiet {
            let iflags = d.iflags;
            self.report.event(Event::Item { iflags, e, link });
            return;
        }
        self.report.event(Event::BasisMatch {
            iflags: d.iflags,
            e,
            link,
        });
    }

    /// Hands a file copy (from the source, or from a basis file) to the
    /// engine; its line is printed when it completes.
    /// Returns the engine token (none in a dry run: nothing is copied).
    pub(super) fn submit_copy(
        &mut self,
        e: &Entry,
        d: &Decision,
        from: &Path,
        dest: &Path,
        fresh: bool,
    ) -> Option<u64> {
        let opts = self.ctx.opts;
        let rec = (!d.basis_quiet).then(|| self.report.record(d.iflags, e, None));
        if opts.dry_run {
            match &rec {
                Some(r) => self.report.would_transfer(r),
                None => self.item(d, e, None),
            }
            return None;
        }
        if d.basis_quiet {
            self.item(d, e, None);
        }
        if self.flow.doomed {
            // After a copy --confine-root dooms (see `Flow::doomed`):
            // listed as rsync's sender lists it, never written.
            self.list_only(rec.as_ref());
            return None;
        }
        // --delay-updates: the file is built in the staging dir and moved
        // into place at the end.
        let mut target = dest.to_path_buf();
        let mut delayed = None;
        let mut fresh = fresh;
        let mut staged_at = None;
        if opts.delay_updates
            && let Some(pd) = &opts.partial_dir
        {
            let staged = engine::partial_path(pd, dest);
            let base = staged
                .file_name()
                .map(|n| sys::bytes(Path::new(n)).to_vec())
                .unwrap_or_default();
            let at = self.partial_dir_at(dest, true);
            fresh = match &at {
                Ok(d) => self.ctx.fs.lstat(d, &base).is_err(),
                Err(_) => true,
            };
            staged_at = Some(at);
            delayed = Some((staged.clone(), dest.to_path_buf()));
            target = staged;
        }
        // The copy lands through the handle of its directory (for a staged
        // copy, --delay-updates, the partial dir's).
        let dir = match staged_at {
            None => self.at_of(dest).ok().map(|(d, _)| d),
            Some(at) => at.ok(),
        };
        if self.ctx.temp_refused && !fresh && delayed.is_none() && self.backup_confined_out() {
            // rsync writes the temp file in --temp-dir (outside the root),
            // then its receiver dies at the backup: listed, doomed.
            self.drain_all();
            self.list_only(rec.as_ref());
            self.flow.doomed = true;
            return None;
        }
        // -b: where the version being replaced goes (directories made now,
        // unless the copy is refused before its temp file exists).
        let backup_to = match &self.disposal.backup {
            Some(_) if !fresh && delayed.is_none() && !self.ctx.temp_refused => {
                self.backup_target(dest, dir.as_ref(), rec.as_ref()).ok()?
            }
            _ => None,
        };
        let doomed = backup_to.as_ref().is_some_and(|to| to.confined);
        let append_from = self.append_from(d);
        let slot = self.report.reserve();
        let live = rec.as_ref().and_then(|r| self.report.watch(slot, r));
        let token = self.copies.add(Pending {
            slot,
            rec,
            from_source: from == &*e.src(),
            backup: backup_to
                .as_ref()
                .map(|to| (dest.to_path_buf(), to.path.clone())),
            delayed,
            dest: Some(dest.to_path_buf()),
            src: opts
                .remove_source_files
                .then(|| SourceToRemove::of(e, opts.copy_links)),
            appended_to: append_from,
        });
        let job = CopyJob {
            token,
            src: from.to_path_buf(),
            dest: target,
            dir,
            size: e.stat.size,
            fresh,
            new_ids: (self.ctx.recv.euid, self.new_file_gid()),
            backup: backup_to.map(|to| Arc::new(to) as Arc<dyn engine::BeforeCommit>),
            want: self.wanted(e, d),
            policy: Policy::new(opts, self.ctx.recv, e.stat.gid),
            extra: self.job_attrs(d),
            append_from,
            verify: opts.append == crate::options::Append::Verify,
            live,
        };
        self.drain_ready();
        self.copies.submit(job, &mut || self.report.tick());
        self.flow.doomed |= doomed;
        Some(token)
    }

    /// `-b`: where the version `dest` replaces goes (directories made
    /// now); `Err` when the copy must not go ahead.
    fn backup_target(
        &mut self,
        dest: &Path,
        dir: Option<&DirAt>,
        rec: Option<&crate::report::ItemRec>,
    ) -> Result<Option<crate::backup::Target>, ()> {
        let Some(b) = self.disposal.backup.as_ref() else {
            return Ok(None);
        };
        match b.prepare(dest, dir) {
            Ok(to) => Ok(to),
            // --confine-root refuses the backup dir: an --inplace file is
            // left as it is, silently, as rsync's is; else the copy goes
            // ahead and fails at its backup, everything before it landed
            // first, as in rsync's receiver.
            Err(f) if f.confined && self.ctx.opts.inplace => Err(()),
            Err(f) if f.confined => {
                let to = b.doomed(dest);
                self.drain_all();
                Ok(Some(to))
            }
            Err(f) => {
                // No backup, no copy: the destination stays as it is.
                if let Some(l) = rec.and_then(|r| self.report.item_line_of(r)) {
                    self.report.info(l);
                }
                self.backup_failed(f, "receiver");
                Err(())
            }
        }
    }

    /// A copy's item line, printed in its turn, without the copy.
    fn list_only(&mut self, rec: Option<&crate::report::ItemRec>) {
        if let Some(l) = rec.and_then(|r| self.report.item_line_of(r)) {
            let slot = self.report.reserve();
            self.report.complete(slot, vec![l], Vec::new());
        }
    }

    /// `--confine-root` refuses the backup dir (see `Backup::confined_out`).
    pub(super) fn backup_confined_out(&self) -> bool {
        let b = self.disposal.backup.as_ref();
        b.is_some_and(|b| b.confined_out())
    }

    /// `--append`: the destination's current length, kept (a shorter file
    /// is all the plan lets through).
    fn append_from(&self, d: &Decision) -> u64 {
        match (&d.action, self.ctx.opts.append) {
            (_, crate::options::Append::No) => 0,
            (
                Action::Transfer {
                    basis: Some(st), ..
                },
                _,
            ) => st.size,
            _ => 0,
        }
    }

    /// The `-X`/`-A`/`--fake-super` work a file copy carries to the engine
    /// (and, without those, whether the new file's mode must be looked at
    /// because its directory has a default ACL).
    fn job_attrs(&self, d: &Decision) -> Option<Box<meta::ItemAttrs>> {
        match &d.extra {
            // The engine builds a new file unless --inplace: whatever the
            // old destination had is gone.
            Some(x) if self.ctx.opts.inplace => Some(x.clone()),
            Some(x) => Some(Box::new(x.for_new_file())),
            None if self.ctx.attrs.new_file_needs_stat() => {
                Some(Box::new(meta::ItemAttrs::stat_only()))
            }
            None => None,
        }
    }

    /// A backup that could not be made: rsync's messages; the run ends
    /// there when rsync's does (exit 11), else it is partial.
    pub(super) fn backup_failed(&mut self, f: crate::backup::Failure, role: &str) {
        f.print(self.report, role);
        if f.fatal {
            self.flow.fail_first(f.lines.join("\n"), ExitCode::FileIo);
        }
    }

    /// Creates a symlink or node, atomically over an existing non-directory
    /// (made under a temporary name, then renamed into place).
    /// `make` gets the destination, the directory's handle and the name
    /// to create in it.
    pub(super) fn create_node(
        &mut self,
        dest: &Path,
        atomic: bool,
        make: impl Fn(&dyn DestFs, &DirAt, &[u8]) -> Result<(), Errno>,
    ) -> Result<(), Option<String>> {
        let (at, base) = self.at_of(dest).map_err(|e| Some(sys::errno_text(e)))?;
        if !atomic || self.ctx.opts.temp_dir.is_some() {
            if atomic {
                match (self.disposal.backup.take(), self.ctx.fs.lstat(&at, &base)) {
                    (Some(mut b), Ok(st)) => {
                        let made = b.make(self.report, dest, &st);
                        self.disposal.backup = Some(b);
                        if let Err(e) = made
                            && e.kind() != std::io::ErrorKind::NotFound
                        {
                            // Not backed up: left in place.
                            return Err(Some(sys::io_error_text(&e)));
                        }
                    }
                    (b, _) => {
                        self.disposal.backup = b;
                        let _ = self.ctx.fs.unlink(&at, &base);
                    }
                }
            }
            let fs = self.ctx.fs.as_ref();
            return make(fs, &at, &base).map_err(|e| Some(sys::errno_text(e)));
        }
        // -b: the item being replaced is kept (hard-linked) first.
        if let Some(b) = self.disposal.backup.clone() {
            match b.keep_before_replace(dest) {
                Ok(Some(to)) => b.report(self.report, dest, &to),
                Ok(None) => {}
                Err(f) if f.itself => f.lines.into_iter().for_each(|l| self.report.vanished(l)),
                Err(f) => {
                    // Not backed up: the old item stays.
                    self.backup_failed(f, "generator");
                    return Err(None);
                }
            }
        }
        let final_base = match dest.file_name() {
            Some(n) => sys::bytes(Path::new(n)).to_vec(),
            None => base.clone(),
        };
        let tmp_dir = match &at {
            DirAt::Fd(_) => at.clone(),
            DirAt::Path(_) => DirAt::Path(
                dest.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .to_path_buf(),
            ),
        };
        for _ in 0..100 {
            let tmp = engine::temp_name(Path::new(""), &final_base);
            let tmp = sys::bytes(&tmp);
            let fs = self.ctx.fs.as_ref();
            match make(fs, &tmp_dir, tmp) {
                Ok(()) => {
                    return fs.rename(&tmp_dir, tmp, &at, &base).map_err(|e| {
                        let _ = fs.unlink(&tmp_dir, tmp);
                        Some(sys::errno_text(e))
                    });
                }
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(Some(sys::errno_text(e))),
            }
        }
        Err(Some(sys::errno_text(Errno::EXIST)))
    }
}
