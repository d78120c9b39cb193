//! Collecting finished copies from the engine, and the work left for the
//! end of a run: directory times and permissions.

use super::*;

impl Transfer<'_> {
    /// `--delay-updates`: moves every staged file into place (backing up
    /// what it replaces with `-b`), then removes the emptied staging dirs.
    pub(super) fn finish_delayed_updates(&mut self) {
        let mut staged = std::mem::take(&mut self.staged);
        staged.sort_by_key(|(t, _, _)| *t);
        for (_, from, to) in staged {
            if let Some(b) = self.backup.clone() {
                match b.keep_before_replace(&to) {
                    Ok(Some(bk)) => b.report(&mut self.report, &to, &bk),
                    Ok(None) => {}
                    Err(f) => {
                        // Not backed up: the old file stays, the staged one
                        // is not moved over it.
                        self.backup_failed(f, "receiver");
                        continue;
                    }
                }
            }
            let base = |p: &Path| {
                p.file_name()
                    .map(|n| sys::bytes(Path::new(n)).to_vec())
                    .unwrap_or_default()
            };
            let moved = self.at_of(&to).and_then(|(to_dir, to_base)| {
                let from_dir = self.partial_dir_at(&to, false)?;
                rustix::fs::renameat(
                    &from_dir,
                    from_dir.name(&base(&from)),
                    &to_dir,
                    to_dir.name(&to_base),
                )?;
                Ok((to_dir, from_dir))
            });
            match moved {
                Ok((to_dir, from_dir)) => {
                    let parent = matches!(from_dir, DirAt::Fd(_)).then_some(&to_dir);
                    remove_partial_dir(parent, self.opts.partial_dir.as_deref(), &from);
                }
                Err(e) => {
                    let local = self.local_of(&to);
                    let msg = format!(
                        "[receiver] rename failed for \"{}\" (from {}): {}",
                        self.recv_shown(&local),
                        self.report.esc(&self.local_of(&from)),
                        sys::errno_text(e)
                    );
                    self.report.error(msg);
                }
            }
        }
    }

    /// `--partial-dir`: a partial file left by an earlier run is removed
    /// once the file is complete (and its directory, if now empty).
    pub(super) fn drop_partial(&self, dest: &Path) {
        if self.opts.delay_updates || self.opts.dry_run {
            return;
        }
        if let Some(pd) = &self.opts.partial_dir {
            let p = engine::partial_path(pd, dest);
            let Ok(at) = self.partial_dir_at(dest, false) else {
                return;
            };
            let base = p
                .file_name()
                .map(|n| sys::bytes(Path::new(n)).to_vec())
                .unwrap_or_default();
            let flags = rustix::fs::AtFlags::empty();
            // A relative partial dir is per-directory scratch space and
            // goes when empty; an absolute one is the user's to keep.
            if rustix::fs::unlinkat(&at, at.name(&base), flags).is_ok() && pd.is_relative() {
                let parent = match (&at, self.at_of(dest)) {
                    (DirAt::Fd(_), Ok((d, _))) => Some(d),
                    _ => None,
                };
                remove_partial_dir(parent.as_ref(), Some(pd), &p);
            }
        }
    }

    pub(super) fn complete(&mut self, token: u64, outcome: Outcome) {
        let Some(p) = self.pending.remove(&token) else {
            return;
        };
        let (outcome, soft) = match outcome {
            Outcome::CopiedWithErrors(n, soft) => (Outcome::Copied(n), soft),
            o => (o, Vec::new()),
        };
        self.hlink_copied(token, matches!(outcome, Outcome::Copied(_)));
        match outcome {
            Outcome::Copied(n) => {
                if let Some((staged, dest)) = p.delayed {
                    self.staged.push((token, staged, dest));
                }
                if p.from_source {
                    self.report.stats.literal_data += n;
                }
                let mut out: Vec<String> = Vec::new();
                if let Some(dest) = &p.dest {
                    self.drop_partial(dest);
                }
                if let (Some(b), Some((from, to))) = (&self.backup, &p.backup)
                    && let Some(l) = b.line(&self.report, from, to)
                {
                    out.push(l);
                }
                if let Some((src, name, st)) = p.src
                    && let Some(l) = self.remove_source(&src, &name, &st)
                {
                    out.push(l);
                }
                match &p.rec {
                    Some(rec) => self.report.transferred(p.slot, rec, n, out, soft),
                    None => self.report.complete(p.slot, out, soft),
                }
            }
            Outcome::CopiedWithErrors(..) => {}
            Outcome::Vanished(msg) => {
                self.report.errors.vanished = true;
                self.report.complete(p.slot, vec![msg], Vec::new());
            }
            Outcome::Failed(msg) => {
                let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
                self.report
                    .complete(p.slot, line.into_iter().collect(), vec![msg]);
            }
            Outcome::SenderFailed(msg) => {
                self.report.complete(p.slot, Vec::new(), vec![msg]);
            }
            Outcome::Fatal(msg) => {
                self.report.complete(p.slot, Vec::new(), vec![msg.clone()]);
                self.fatal = Some(msg);
                self.abort.store(true, Ordering::Relaxed);
            }
            Outcome::BackupFailed(lines) => {
                let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
                self.report
                    .complete(p.slot, line.into_iter().collect(), lines.clone());
                if self.fatal.is_none() {
                    self.fatal = Some(lines.join("\n"));
                    self.fatal_code = ExitCode::FileIo;
                }
                self.abort.store(true, Ordering::Relaxed);
            }
            Outcome::Interrupted => {
                self.report.complete(p.slot, Vec::new(), Vec::new());
            }
        }
    }

    pub(super) fn drain_ready(&mut self) {
        while let Some(d) = self.engine.as_mut().and_then(|e| e.try_done()) {
            self.complete(d.token, d.outcome);
        }
    }

    pub(super) fn drain_all(&mut self) {
        while let Some(d) = self.engine.as_mut().and_then(|e| e.wait_done()) {
            self.complete(d.token, d.outcome);
        }
        // A fatal error set `abort` to stop the other lanes; it is not a signal.
        if self.fatal.is_some() {
            self.abort.store(false, Ordering::Relaxed);
        }
    }

    /// `-K`: directory `dest` (just pushed, opened as `at`) may be one
    /// handled before under another name: a kept symlink to it, or a
    /// directory reached through one. rsync sets a directory's time when
    /// its own contents are done (with incremental recursion, i.e. without
    /// --delete-before/-after/-delay, --delay-updates or -m), else all at
    /// the end in list order; so the later name's time is the one that
    /// stays, and what a kept symlink then adds to its target leaves that
    /// target's time fresh. The earlier entry is settled here: set now,
    /// before the symlink's contents arrive, if `dest` is such a symlink
    /// with incremental recursion; skipped at the end in any case where
    /// `dest` names the directory itself.
    pub(super) fn settle_same_dir(&mut self, dest: &Path, at: &Result<DirAt, Errno>) {
        use std::os::fd::AsFd;
        let Some(idx) = self.dir_fixes.len().checked_sub(1) else {
            return;
        };
        let Ok(DirAt::Fd(fd)) = at else { return };
        let Ok(st) = rustix::fs::fstat(fd.as_fd()) else {
            return;
        };
        let id = (st.st_dev, st.st_ino);
        let Some(earlier) = self.dir_ids.insert(id, idx) else {
            return;
        };
        // An enclosing directory (a symlink looping back): still open.
        let path = &self.dir_fixes[earlier].path;
        if self.opts.dry_run
            || self.dir_fixes[earlier].settled
            || self.dir_stack.iter().any(|d| sys::same_path(&d.path, path))
        {
            return;
        }
        let is_link = self
            .at_of(dest)
            .and_then(|(d, base)| d.lstat(&base))
            .is_ok_and(|s| s.kind() == Kind::Symlink);
        let o = self.opts;
        // rsync touches up a finished directory's time only with
        // incremental recursion, and not with --delete-delay.
        let incremental = o.inc_recurse() && o.delete != Some(DeleteWhen::Delay);
        if !is_link {
            self.dir_fixes[earlier].settled = true;
        } else if incremental {
            // Its own files land first, then its time is set.
            self.drain_all();
            let f = &self.dir_fixes[earlier];
            let (path, mtime, nsec) = (f.path.clone(), f.mtime, f.mtime_nsec);
            if let Ok((d, base)) = self.at_of(&path) {
                self.set_dir_time(&d, &base, mtime, nsec);
            }
            self.dir_fixes[earlier].settled = true;
        }
    }

    /// Sets the mtime of directory `base` in `at` (not through a symlink)
    /// if it differs, as rsync's touch_up_dirs: failures are ignored (any
    /// problem was reported when the directory was handled).
    fn set_dir_time(&self, at: &DirAt, base: &[u8], mtime: i64, mtime_nsec: u32) {
        let name = at.name(base);
        // Like rsync's touch_up_dirs: compare with the window (whole
        // seconds by default), so sub-second differences are left alone.
        let differs = match at.lstat(base) {
            Ok(st) => !self
                .opts
                .same_time(mtime, mtime_nsec, st.mtime, st.mtime_nsec),
            Err(_) => false,
        };
        if self.opts.times && !self.opts.omit_dir_times && differs {
            let ts = rustix::fs::Timestamps {
                last_access: rustix::fs::Timespec {
                    tv_sec: 0,
                    tv_nsec: rustix::fs::UTIME_OMIT,
                },
                last_modification: rustix::fs::Timespec {
                    tv_sec: mtime,
                    tv_nsec: mtime_nsec as _,
                },
            };
            let _ = rustix::fs::utimensat(at, &name, &ts, rustix::fs::AtFlags::SYMLINK_NOFOLLOW);
        }
    }

    /// Sets directory times (and restores permissions) once their
    /// contents are final, deepest first.
    pub(super) fn finish_dirs(&mut self) {
        if self.opts.dry_run {
            return;
        }
        let fixes = std::mem::take(&mut self.dir_fixes);
        // Siblings share their parent's handle.
        let mut last: Option<(PathBuf, DirAt)> = None;
        for f in fixes.iter().rev() {
            let parent = f.path.parent().unwrap_or(Path::new(""));
            let (at, base) = match &last {
                Some((p, at)) if p == parent && f.path != self.dest_root => {
                    match f.path.file_name() {
                        Some(n) => (at.clone(), sys::bytes(Path::new(n)).to_vec()),
                        None => continue,
                    }
                }
                _ => match self.at_of(&f.path) {
                    Ok((at, base)) => {
                        last = Some((parent.to_path_buf(), at.clone()));
                        (at, base)
                    }
                    // rsync's touch_up_dirs ignores failures here.
                    Err(_) => continue,
                },
            };
            let name = at.name(&base);
            if !f.settled {
                self.set_dir_time(&at, &base, f.mtime, f.mtime_nsec);
            }
            if let Some(m) = f.restore_mode {
                let _ = rustix::fs::chmodat(
                    &at,
                    &name,
                    Mode::from_raw_mode(m),
                    rustix::fs::AtFlags::empty(),
                );
            }
        }
    }
}

/// Removes a relative `--partial-dir` once empty: below `parent` (the
/// handle of the directory it lies in), else the directory holding
/// `partial_file` by path. Failure just means it is not empty.
fn remove_partial_dir(parent: Option<&DirAt>, pd: Option<&Path>, partial_file: &Path) {
    match (parent, pd) {
        (Some(d), Some(pd)) => {
            let _ = rustix::fs::unlinkat(d, d.name(sys::bytes(pd)), rustix::fs::AtFlags::REMOVEDIR);
        }
        _ => {
            if let Some(dir) = partial_file.parent() {
                let _ = rustix::fs::rmdir(dir);
            }
        }
    }
}
