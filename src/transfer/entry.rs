//! Acting on one entry's plan at the destination (rsync's generator work):
//! directories, links, devices, attribute fixes, and handing files to the
//! engine.

use rustix::fs::AtFlags;

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
            atime: (self.opts.atimes && !e.is_dir()).then_some(e.stat.atime),
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
        let r = match self.at_of(path) {
            Ok((d, base)) => {
                use std::os::fd::AsFd;
                let name = d.name(&base);
                meta::apply_full(
                    Target::<std::fs::File>::At(d.as_fd(), &name),
                    current,
                    want,
                    policy,
                    extra,
                )
            }
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
            recurse: self.opts.force || self.opts.delete.is_some(),
            make_room: Some(what),
            dir_is_empty: false,
        };
        let r = self
            .deleter
            .delete_item(&mut self.report, self.backup.as_mut(), path, old, flags);
        r == DelResult::Success
    }

    /// `--remove-source-files` for an item handled right away (up to date,
    /// or a link or node made).
    pub(super) fn maybe_remove_source(&mut self, e: &Entry) {
        if self.opts.remove_source_files
            && e.kind() != Kind::Dir
            && let Some(line) = self.remove_source(&e.src, &e.name, &e.stat)
        {
            self.report.info(line);
        }
    }

    /// Handles one entry at `dest` and says what to do with its contents
    /// (for a directory).
    pub(super) fn handle(
        &mut self,
        planner: &Planner<'_>,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
    ) -> Next {
        if e.is_missing() {
            self.delete_missing(dest, known);
            return Next::Stop;
        }
        let hl = match self.hlink_key(e) {
            Some(key) => match self.hlink_arrive(
                planner,
                key,
                e,
                dest,
                self.update_rule_skips(planner, e, dest, known),
            ) {
                Arrival::Settled => return Next::Stop,
                Arrival::Process { last } => Some((key, last)),
            },
            None => None,
        };
        self.handle_as(planner, e, dest, known, root_created, hl)
    }

    /// Whether an update rule (`--existing`, `--ignore-existing`, `-u`)
    /// leaves the entry alone.
    fn update_rule_skips(
        &self,
        planner: &Planner<'_>,
        e: &Entry,
        dest: &Path,
        known: Known,
    ) -> bool {
        let old = match known {
            Known::Listed(st) => st,
            Known::Unknown => sys::lstat(dest).ok(),
        };
        planner.update_rule(e, old).is_some()
    }

    /// [`Transfer::handle`] once hard links are sorted out: `hl` is the
    /// entry's group and whether it is the group's last member.
    pub(super) fn handle_as(
        &mut self,
        planner: &Planner<'_>,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
        hl: Option<(GroupKey, bool)>,
    ) -> Next {
        // Everything below goes through the handle of the entry's
        // directory; one that could not be opened fails each entry in it.
        let looked = self.at_of(dest).and_then(|(at, base)| {
            let old = match known {
                Known::Listed(st) => st,
                Known::Unknown => match at.lstat(&base) {
                    Ok(s) => Some(s),
                    Err(Errno::NOENT) => None,
                    Err(err) => return Err(err),
                },
            };
            Ok((at, base, old))
        });
        let (at, base, real_old) = match looked {
            Ok(x) => x,
            Err(err) => {
                let msg = format!(
                    "[generator] recv_generator: failed to stat \"{}\": {}",
                    self.shown(dest),
                    sys::errno_text(err)
                );
                self.report.error(msg);
                return Next::Stop;
            }
        };
        // -K: a symlink to a directory stands for that directory when the
        // source has a directory there.
        let real_old = match real_old {
            Some(st) if opts_keep_dirlinks(self.opts, e, &st) => match at.stat(&base) {
                Ok(t) if t.kind() == Kind::Dir => Some(t),
                _ => Some(st),
            },
            other => other,
        };
        // --fake-super: the destination as its %stat records say it is.
        let real_old = match real_old {
            Some(st) if self.attrs.fake_super() => match self.attrs.dest_stat(dest, st) {
                Ok(st) => Some(st),
                Err(msg) => {
                    self.report.error(msg);
                    return Next::Stop;
                }
            },
            other => other,
        };
        // Without -p, new items take their permissions from the default
        // ACL of the directory they go into.
        if !self.opts.perms {
            let dir = if e.name == b"." {
                dest
            } else {
                dest.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
            };
            if let Some(w) = self.attrs.enter_dir(dir) {
                self.report.warning(w);
            }
        }
        let old = if root_created { None } else { real_old };
        let local = self.local_of(dest);
        // The destination root we created ourselves exists for the update
        // rules (rsync's receiver made it before the generator looked).
        let d = if root_created {
            planner.plan(e, dest, &local, None)
        } else {
            planner.decide(e, dest, &local, old)
        };
        let kind = e.kind();
        let opts = self.opts;
        match &d.action {
            Action::Dir { exists, remove } => {
                if let Some(r) = remove
                    && !self.make_room(dest, r, "directory")
                {
                    self.report
                        .error_raw("*** Skipping any contents from this failed directory ***");
                    return Next::Stop;
                }
                self.item(&d, e, None);
                // The destination root we created ourselves is new for
                // itemizing, but already exists on disk.
                let on_disk = *exists || (root_created && !opts.dry_run);
                let mut current = real_old.filter(|s| s.kind() == Kind::Dir);
                if !on_disk {
                    if opts.dry_run {
                        self.push_dir(dest, e, None, None);
                        return Next::Descend { fresh: true };
                    }
                    let mut mode = d.mode & 0o7777;
                    // rsync's incremental recursion makes a new directory
                    // early, owner-only, while the parent is being filled,
                    // and sets its permissions when it gets to it (an ACL
                    // write sees that mode as the old one).
                    if opts.inc_recurse() && opts.times && !opts.omit_dir_times {
                        mode &= 0o700;
                    }
                    // A normal user (and --fake-super, like root) must be
                    // able to fill the directory.
                    if !self.recv.am_root || self.recv.fake_super {
                        mode |= 0o700;
                    }
                    if let Err(err) =
                        rustix::fs::mkdirat(&at, at.name(&base), Mode::from_raw_mode(mode))
                        && err != Errno::EXIST
                    {
                        let msg = format!(
                            "[generator] recv_generator: mkdir \"{}\" failed: {}",
                            self.shown(dest),
                            sys::errno_text(err)
                        );
                        self.report.error(msg);
                        self.report
                            .error_raw("*** Skipping any contents from this failed directory ***");
                        return Next::Stop;
                    }
                    current = at.lstat(&base).ok();
                }
                let created = !*exists;
                let mut restore = None;
                if let Some(cur) = current {
                    let mut want = self.wanted(e, &d);
                    // A new directory keeps a set-gid bit inherited from
                    // its parent when permissions are not preserved.
                    if !opts.perms && created && cur.mode & 0o2000 != 0 {
                        want.mode |= 0o2000;
                    }
                    let mut policy = Policy::new(opts, &self.recv, e.stat.gid);
                    // Times are set now (as rsync does) and re-checked
                    // once the contents are written; -O leaves them alone.
                    policy.set_times &= !opts.omit_dir_times;
                    if !self.recv.am_root && want.mode & 0o700 != 0o700 && !opts.dry_run {
                        restore = Some(want.mode & 0o7777);
                        want.mode |= 0o700;
                    }
                    let mut extra = d.extra.clone();
                    if let Some(x) = extra.as_mut()
                        && created
                    {
                        x.forget_dest();
                    }
                    self.apply_attrs_ext(dest, &cur, &want, &policy, extra.as_deref());
                }
                self.push_dir(dest, e, restore, current);
                Next::Descend { fresh: created }
            }
            Action::Attrs { current } => {
                let want = self.wanted(e, &d);
                let mut policy = Policy::new(opts, &self.recv, e.stat.gid);
                if kind == Kind::File && opts.checksum {
                    policy.accurate_time = true;
                }
                if kind == Kind::Symlink && (!opts.times || opts.omit_link_times) {
                    policy.set_times = false;
                }
                let current = *current;
                let updated =
                    self.apply_attrs_ext(dest, &current, &want, &policy, d.extra.as_deref());
                // -vv without -i: rsync's set_file_attrs reports each
                // up-to-date non-directory by name.
                if opts.info_name() > 1 && opts.format_has_i() == 0 {
                    let name = self.report.esc(&e.name);
                    match updated {
                        Some(u) if u.any() => self.report.info(name),
                        Some(_) => self.report.info(format!("{name} is uptodate")),
                        None => {}
                    }
                }
                self.report.item(d.iflags, e, e.link.as_deref());
                if kind == Kind::File {
                    self.drop_partial(dest);
                }
                self.maybe_remove_source(e);
                if let Some((key, _)) = hl {
                    if d.iflags & crate::plan::item::REPORT_XATTR != 0 {
                        self.hlink_xattr_stale(key);
                    }
                    self.hlink_done(planner, key, e, dest);
                }
                Next::Stop
            }
            Action::Skip(why) => {
                let name = self.report.esc(&e.name);
                // `--safe-links` speaks at -v, the update rules at -vv.
                let line = match why {
                    SkipWhy::UnsafeLink => (opts.info_name() > 0).then(|| {
                        let target = self.report.esc(e.link.as_deref().unwrap_or_default());
                        format!("ignoring unsafe symlink \"{name}\" -> \"{target}\"")
                    }),
                    _ if opts.info_name() < 2 => None,
                    SkipWhy::NotCreating => Some(format!(
                        "not creating new {} \"{name}\"",
                        if kind == Kind::Dir {
                            "directory"
                        } else {
                            "file"
                        }
                    )),
                    SkipWhy::Exists => Some(format!("{name} exists")),
                    SkipWhy::Newer => Some(format!("{name} is newer")),
                    SkipWhy::OverMaxSize => Some(format!("{name} is over max-size")),
                    SkipWhy::UnderMinSize => Some(format!("{name} is under min-size")),
                };
                if let Some(line) = line {
                    self.report.info(line);
                }
                if let Some((key, last)) = hl {
                    self.hlink_skipped(planner, key, last);
                }
                match (kind, why) {
                    // rsync's skip_dir: nothing below a directory --existing
                    // does not create is acted on, but the sender still
                    // lists (and counts) it.
                    (Kind::Dir, SkipWhy::NotCreating) => Next::CountOnly,
                    // A directory over a non-directory kept by
                    // --ignore-existing: rsync still visits the contents
                    // (each fails to stat) and touches the path's time.
                    (Kind::Dir, SkipWhy::Exists) => {
                        self.push_dir(dest, e, None, None);
                        Next::Descend { fresh: false }
                    }
                    _ => Next::Stop,
                }
            }
            Action::SkipNonRegular => {
                let name = self.report.esc(&e.name);
                self.report
                    .info(format!("skipping non-regular file \"{name}\""));
                Next::Stop
            }
            Action::Symlink { replace } => {
                let target = e.link.clone().unwrap_or_default();
                if let Some(r) = replace
                    && r.kind() == Kind::Dir
                    && !self.make_room(dest, r, "symlink")
                {
                    return Next::Stop;
                }
                let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
                if !opts.dry_run {
                    let fake = self.recv.fake_super;
                    if let Err(msg) = self.create_node(dest, atomic, |d, p| {
                        if fake {
                            meta::fake::create_as_file_at(d, p, &target)
                        } else {
                            rustix::fs::symlinkat(path_of(&target), d, p)
                        }
                    }) {
                        // None: already reported (a backup that failed).
                        let Some(msg) = msg else { return Next::Stop };
                        let msg = format!(
                            "[generator] symlink \"{}\" -> \"{}\" failed: {msg}",
                            self.shown(dest),
                            self.report.esc(&target)
                        );
                        self.report.error(msg);
                        return Next::Stop;
                    }
                    let want = self.wanted(e, &d);
                    let mut policy = Policy::new(opts, &self.recv, e.stat.gid);
                    policy.set_times &= !opts.omit_link_times;
                    if let Ok(cur) = at.lstat(&base) {
                        let mut extra = d.extra.clone();
                        if let Some(x) = extra.as_mut() {
                            x.forget_dest();
                        }
                        self.apply_attrs_ext(dest, &cur, &want, &policy, extra.as_deref());
                    }
                }
                self.item(&d, e, Some(&target));
                self.maybe_remove_source(e);
                if let Some((key, _)) = hl {
                    self.hlink_done(planner, key, e, dest);
                }
                Next::Stop
            }
            Action::Node { replace } => {
                if let Some(r) = replace
                    && r.kind() == Kind::Dir
                    && !self.make_room(
                        dest,
                        r,
                        if kind.is_device() {
                            "device file"
                        } else {
                            "special file"
                        },
                    )
                {
                    return Next::Stop;
                }
                let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
                if !opts.dry_run {
                    let ft = FileType::from_raw_mode(e.stat.mode);
                    let perm = Mode::from_raw_mode(d.mode & 0o7777);
                    let rdev = e.stat.rdev;
                    let fake = self.recv.fake_super;
                    if let Err(msg) = self.create_node(dest, atomic, |d, p| {
                        if fake {
                            meta::fake::create_as_file_at(d, p, b"")
                        } else {
                            rustix::fs::mknodat(d, p, ft, perm, rdev)
                        }
                    }) {
                        let Some(msg) = msg else { return Next::Stop };
                        let msg =
                            format!("[generator] mknod \"{}\" failed: {msg}", self.shown(dest));
                        self.report.error(msg);
                        return Next::Stop;
                    }
                    let want = self.wanted(e, &d);
                    let policy = Policy::new(opts, &self.recv, e.stat.gid);
                    if let Ok(cur) = at.lstat(&base) {
                        let mut extra = d.extra.clone();
                        if let Some(x) = extra.as_mut() {
                            x.forget_dest();
                        }
                        self.apply_attrs_ext(dest, &cur, &want, &policy, extra.as_deref());
                    }
                }
                self.item(&d, e, None);
                self.maybe_remove_source(e);
                if let Some((key, _)) = hl {
                    self.hlink_done(planner, key, e, dest);
                }
                Next::Stop
            }
            Action::Transfer { remove, basis } => {
                if let Some(r) = remove
                    && !self.make_room(dest, r, "regular file")
                {
                    return Next::Stop;
                }
                // -H: a new member waits for the group's last one.
                if let Some((key, false)) = hl
                    && basis.is_none()
                {
                    self.hlink_defer(key, e, dest);
                    return Next::Stop;
                }
                self.report.stats.num_transferred += 1;
                self.report.stats.transferred_size += e.stat.size;
                let fresh = basis.is_none();
                let token = self.submit_copy(e, &d, &e.src, dest, fresh);
                self.hlink_after_copy(planner, hl, token, e, dest);
                Next::Stop
            }
            Action::LocalCopy { from } => {
                let from = from.clone();
                let token = self.submit_copy(e, &d, &from, dest, true);
                self.hlink_after_copy(planner, hl, token, e, dest);
                Next::Stop
            }
            Action::Link { from, replace } => {
                if let Some(r) = replace {
                    let ok = if r.kind() == Kind::File {
                        opts.dry_run
                            || matches!(
                                rustix::fs::unlinkat(&at, at.name(&base), AtFlags::empty()),
                                Ok(()) | Err(Errno::NOENT)
                            )
                    } else {
                        self.make_room(dest, r, "regular file")
                    };
                    if !ok {
                        return Next::Stop;
                    }
                }
                if !opts.dry_run
                    && let Err(err) = rustix::fs::linkat(
                        rustix::fs::CWD,
                        from,
                        &at,
                        at.name(&base),
                        AtFlags::empty(),
                    )
                {
                    // rsync falls back to copying from the basis file.
                    if kind == Kind::File {
                        let from = from.clone();
                        let token = self.submit_copy(e, &d, &from, dest, true);
                        self.hlink_after_copy(planner, hl, token, e, dest);
                        return Next::Stop;
                    }
                    let msg = format!(
                        "[generator] failed to hard-link {} with {}: {}",
                        self.report.esc(sys::bytes(from)),
                        self.report.esc(&local),
                        sys::errno_text(err)
                    );
                    self.report.error(msg);
                    return Next::Stop;
                }
                self.item(&d, e, e.link.as_deref());
                self.maybe_remove_source(e);
                if let Some((key, _)) = hl {
                    self.hlink_done(planner, key, e, dest);
                }
                Next::Stop
            }
            Action::Unneeded { remove } => {
                if remove.is_some() && !opts.dry_run {
                    let _ = rustix::fs::unlinkat(&at, at.name(&base), AtFlags::empty());
                }
                self.item(&d, e, e.link.as_deref());
                self.maybe_remove_source(e);
                Next::Stop
            }
        }
    }

    /// `--delete-missing-args`: a source argument that does not exist
    /// removes its destination counterpart (a non-empty directory only
    /// with `--force` or `--delete`).
    fn delete_missing(&mut self, dest: &Path, known: Known) {
        let old = match known {
            Known::Listed(st) => st,
            Known::Unknown => sys::lstat(dest).ok(),
        };
        let Some(old) = old else { return };
        let flags = DelFlags {
            recurse: self.opts.force || self.opts.delete.is_some(),
            make_room: None,
            dir_is_empty: false,
        };
        let deleter = &mut self.deleter;
        let backup = self.backup.as_mut();
        self.report
            .unordered(|r| deleter.delete_item(r, backup, dest, &old, flags));
    }

    /// Prints an entry's item line, or — when an identical basis item
    /// settled it — only what rsync prints for that (`-ii` line,
    /// `-vv` "is uptodate").
    fn item(&mut self, d: &Decision, e: &Entry, link: Option<&[u8]>) {
        if !d.basis_quiet {
            self.report.item(d.iflags, e, link);
            return;
        }
        let opts = self.opts;
        if opts.format_has_i() > 1 || (opts.format_has_i() > 0 && opts.info_name() > 1) {
            self.report.item(d.iflags, e, link);
        } else if opts.info_name() > 1 && opts.format_has_i() == 0 {
            let mut name = self.report.esc(&e.name);
            if e.is_dir() {
                name.push('/');
            }
            self.report.info(format!("{name} is uptodate"));
        }
    }

    /// Hands a file copy (from the source, or from a basis file) to the
    /// engine; its line is printed when it completes.
    /// Returns the engine token (none in a dry run: nothing is copied).
    fn submit_copy(
        &mut self,
        e: &Entry,
        d: &Decision,
        from: &Path,
        dest: &Path,
        fresh: bool,
    ) -> Option<u64> {
        let opts = self.opts;
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
                Ok(d) => d.lstat(&base).is_err(),
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
        // -b: where the version being replaced goes (directories made now).
        let backup_to = match &self.backup {
            Some(b) if !fresh && delayed.is_none() => match b.prepare(dest, dir.as_ref()) {
                Ok(to) => to,
                Err(f) => {
                    // No backup, no copy: the destination stays as it is.
                    if let Some(l) = rec.as_ref().and_then(|r| self.report.item_line_of(r)) {
                        self.report.info(l);
                    }
                    self.backup_failed(f, "receiver");
                    return None;
                }
            },
            _ => None,
        };
        let slot = self.report.reserve();
        let token = self.next_token;
        self.next_token += 1;
        self.pending.insert(
            token,
            Pending {
                slot,
                rec,
                from_source: from == e.src.as_path(),
                backup: backup_to
                    .as_ref()
                    .map(|to| (dest.to_path_buf(), to.path.clone())),
                delayed,
                dest: Some(dest.to_path_buf()),
                src: opts
                    .remove_source_files
                    .then(|| (e.src.clone(), e.name.clone(), e.stat)),
            },
        );
        let job = CopyJob {
            token,
            src: from.to_path_buf(),
            dest: target,
            dir,
            size: e.stat.size,
            fresh,
            new_ids: (self.recv.euid, self.new_file_gid()),
            backup: backup_to.map(|to| Arc::new(to) as Arc<dyn engine::BeforeCommit>),
            want: self.wanted(e, d),
            policy: Policy::new(opts, &self.recv, e.stat.gid),
            extra: self.job_attrs(d),
        };
        self.drain_ready();
        if let Some(engine) = self.engine.as_mut() {
            engine.submit(job);
        }
        Some(token)
    }

    /// With `-H`, a member whose copy was handed over leads its group
    /// once the copy is done (at once in a dry run).
    fn hlink_after_copy(
        &mut self,
        planner: &Planner<'_>,
        hl: Option<(GroupKey, bool)>,
        token: Option<u64>,
        e: &Entry,
        dest: &Path,
    ) {
        let Some((key, _)) = hl else { return };
        match token {
            Some(t) => self.hlink_sent(key, t, e, dest),
            None => self.hlink_done(planner, key, e, dest),
        }
    }

    /// The `-X`/`-A`/`--fake-super` work a file copy carries to the engine
    /// (and, without those, whether the new file's mode must be looked at
    /// because its directory has a default ACL).
    fn job_attrs(&self, d: &Decision) -> Option<Box<meta::ItemAttrs>> {
        match &d.extra {
            // The engine builds a new file unless --inplace: whatever the
            // old destination had is gone.
            Some(x) if self.opts.inplace => Some(x.clone()),
            Some(x) => Some(Box::new(x.for_new_file())),
            None if self.attrs.new_file_needs_stat() => {
                Some(Box::new(meta::ItemAttrs::stat_only()))
            }
            None => None,
        }
    }

    /// A backup that could not be made: rsync's messages; the run ends
    /// there when rsync's does (exit 11), else it is partial.
    pub(super) fn backup_failed(&mut self, f: crate::backup::Failure, role: &str) {
        for l in &f.lines {
            self.report.error(format!("[{role}] {l}"));
        }
        if f.fatal && self.fatal.is_none() {
            self.fatal = Some(f.lines.join("\n"));
            self.fatal_code = ExitCode::FileIo;
            self.abort.store(true, Ordering::Relaxed);
        }
    }

    /// Creates a symlink or node, atomically over an existing non-directory
    /// (made under a temporary name, then renamed into place).
    /// `make` gets the directory's handle and the name to create in it.
    pub(super) fn create_node(
        &mut self,
        dest: &Path,
        atomic: bool,
        make: impl Fn(&DirAt, &Path) -> Result<(), Errno>,
    ) -> Result<(), Option<String>> {
        let (at, base) = self.at_of(dest).map_err(|e| Some(sys::errno_text(e)))?;
        let name = at.name(&base);
        if !atomic || self.opts.temp_dir.is_some() {
            if atomic {
                match (self.backup.take(), at.lstat(&base)) {
                    (Some(mut b), Ok(st)) => {
                        let made = b.make(&mut self.report, dest, &st);
                        self.backup = Some(b);
                        if let Err(e) = made
                            && e.kind() != std::io::ErrorKind::NotFound
                        {
                            // Not backed up: left in place.
                            return Err(Some(sys::io_error_text(&e)));
                        }
                    }
                    (b, _) => {
                        self.backup = b;
                        let _ = rustix::fs::unlinkat(&at, &name, AtFlags::empty());
                    }
                }
            }
            return make(&at, &name).map_err(|e| Some(sys::errno_text(e)));
        }
        // -b: the item being replaced is kept (hard-linked) first.
        if let Some(b) = self.backup.clone() {
            match b.keep_before_replace(dest) {
                Ok(Some(to)) => b.report(&mut self.report, dest, &to),
                Ok(None) => {}
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
            let tmp = tmp_dir.name(sys::bytes(&engine::temp_name(Path::new(""), &final_base)));
            match make(&tmp_dir, &tmp) {
                Ok(()) => {
                    return rustix::fs::renameat(&tmp_dir, &tmp, &at, &name).map_err(|e| {
                        let _ = rustix::fs::unlinkat(&tmp_dir, &tmp, AtFlags::empty());
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
