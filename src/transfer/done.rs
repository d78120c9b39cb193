//! Collecting finished copies from the engine, and the work left for the
//! end of a run: directory times and permissions.

use super::*;

impl Transfer<'_> {
    /// `--delay-updates`: moves every staged file into place (backing up
    /// what it replaces with `-b`), then removes the emptied staging dirs.
    pub(super) fn finish_delayed_updates(&mut self) {
        for (_, from, to) in self.copies.take_staged() {
            if let Some(b) = self.disposal.backup.clone() {
                match b.keep_before_replace(&to) {
                    Ok(Some(bk)) => b.report(self.report, &to, &bk),
                    Ok(None) => {}
                    Err(f) if f.itself => f.lines.into_iter().for_each(|l| self.report.vanished(l)),
                    Err(f) if f.confined => {
                        // The backup dir comes out of --confine-root's
                        // root: the old file stays, silently, as in rsync
                        // 3.5, which leaves the staged copy behind too;
                        // arsync removes it (and an emptied staging dir).
                        self.discard_staged(&from, &to);
                        continue;
                    }
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
                let fs = self.ctx.fs.as_ref();
                fs.rename(&from_dir, &base(&from), &to_dir, &to_base)?;
                Ok((to_dir, from_dir))
            });
            match moved {
                Ok((to_dir, from_dir)) => {
                    let parent = matches!(from_dir, DirAt::Fd(_)).then_some(&to_dir);
                    let pd = self.ctx.opts.partial_dir.as_deref();
                    remove_partial_dir(self.ctx.fs.as_ref(), parent, pd, &from);
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

    /// `--delay-updates`: the staged copy `from` of `to` is removed rather
    /// than moved into place, and its staging dir if that empties it.
    fn discard_staged(&self, from: &Path, to: &Path) {
        let Ok(dir) = self.partial_dir_at(to, false) else {
            return;
        };
        if let Some(name) = from.file_name() {
            let _ = self.ctx.fs.unlink(&dir, sys::bytes(Path::new(name)));
        }
        self.unstage(Some(&(from.to_path_buf(), to.to_path_buf())));
    }

    /// `--delay-updates`: a copy that failed leaves nothing staged, so its
    /// staging dir goes if it is empty now (rsync leaves no `.~tmp~`).
    fn unstage(&self, delayed: Option<&(PathBuf, PathBuf)>) {
        let Some((staged, dest)) = delayed else {
            return;
        };
        let parent = self.at_of(dest).ok().map(|(d, _)| d);
        let pd = self.ctx.opts.partial_dir.as_deref();
        remove_partial_dir(self.ctx.fs.as_ref(), parent.as_ref(), pd, staged);
    }

    /// `--partial-dir`: a partial file left by an earlier run is removed
    /// once the file is complete (and its directory, if now empty).
    /// `up_to_date`: the file needed no copy — under `--delay-updates` a
    /// stale `.~tmp~/NAME` goes then too (a copy's own staged file waits).
    pub(super) fn drop_partial(&mut self, dest: &Path, up_to_date: bool) {
        if (self.ctx.opts.delay_updates && !up_to_date) || self.ctx.opts.dry_run {
            return;
        }
        if let Some(pd) = &self.ctx.opts.partial_dir {
            let p = engine::partial_path(pd, dest);
            if !self.partial_walk_allows(pd, &p) {
                return;
            }
            let Ok(at) = self.partial_dir_at(dest, false) else {
                return;
            };
            let base = p
                .file_name()
                .map(|n| sys::bytes(Path::new(n)).to_vec())
                .unwrap_or_default();
            // A relative partial dir is per-directory scratch space and
            // goes when empty; an absolute one is the user's to keep.
            let fs = self.ctx.fs.as_ref();
            if fs.unlink(&at, &base).is_ok() && pd.is_relative() {
                let parent = match (&at, self.at_of(dest)) {
                    (DirAt::Fd(_), Ok((d, _))) => Some(d),
                    _ => None,
                };
                remove_partial_dir(fs, parent.as_ref(), Some(pd), &p);
            }
        }
    }

    pub(super) fn complete(&mut self, token: u64, outcome: Outcome) {
        let Some(p) = self.copies.take(token) else {
            return;
        };
        let mut resent = None;
        let (outcome, soft, redone) = match outcome {
            Outcome::CopiedWithErrors(n, soft) => (Outcome::Copied(n), soft, false),
            Outcome::Redone(n) => (Outcome::Copied(n), Vec::new(), true),
            Outcome::Resent(n, msg) => {
                resent = Some(msg);
                (Outcome::Copied(n), Vec::new(), false)
            }
            o => (o, Vec::new(), false),
        };
        self.hlink_copied(token, matches!(outcome, Outcome::Copied(_)));
        if !matches!(outcome, Outcome::Copied(_)) {
            self.unstage(p.delayed.as_ref());
        }
        match outcome {
            Outcome::Copied(n) => {
                if let Some((staged, dest)) = p.delayed {
                    self.copies.stage(token, staged, dest);
                }
                if p.from_source {
                    // --append sends only what lies past the kept bytes.
                    self.report
                        .event(Event::Literal(n.saturating_sub(p.appended_to)));
                }
                let mut out: Vec<String> = Vec::new();
                if let Some(dest) = &p.dest {
                    self.drop_partial(dest, false);
                }
                if let (Some(b), Some((from, to))) = (&self.disposal.backup, &p.backup)
                    && let Some(l) = b.line(self.report, from, to)
                {
                    out.push(l);
                }
                if let Some(src) = p.src
                    && let Some(l) = self.remove_source(&src)
                {
                    out.push(l);
                }
                if redone && let Some(rec) = &p.rec {
                    out.extend(self.verify_failed(rec));
                }
                if let Some(msg) = resent {
                    out.extend(self.sent_again(p.rec.as_ref(), msg));
                }
                match &p.rec {
                    Some(rec) => self.report.transferred(p.slot, rec, n, out, soft),
                    None => self.report.complete(p.slot, out, soft),
                }
            }
            Outcome::CopiedWithErrors(..) | Outcome::Redone(_) | Outcome::Resent(..) => {}
            Outcome::Vanished(msg) => {
                self.report.event(Event::Vanished);
                self.report.complete_vanished(p.slot, msg);
            }
            Outcome::Refused(msg) => self.copy_failed(&p, vec![msg], true),
            Outcome::Failed(msg) => self.copy_failed(&p, vec![msg], false),
            Outcome::TempConfined(tmp) => self.temp_confined(&p, &tmp),
            Outcome::ShortRead(msg) => {
                let name = p
                    .rec
                    .as_ref()
                    .map(|r| self.report.esc(&r.name))
                    .unwrap_or_default();
                let fail = format!("ERROR: {name} failed verification -- update discarded.");
                // Listed (-v) for each of rsync's two tries.
                let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
                let lines: Vec<String> = line.iter().cloned().chain(line.clone()).collect();
                self.report.complete(p.slot, lines, vec![msg.clone()]);
                let rname = p.rec.as_ref().map(|r| r.name.clone()).unwrap_or_default();
                self.report.short_first_try(&rname);
                self.report.error(msg);
                self.report.error_raw(fail);
            }
            Outcome::SenderFailed(msg) => {
                self.report.complete(p.slot, Vec::new(), vec![msg]);
            }
            // rsync stops at the first fatal error; the copies that were
            // in flight with it say nothing more.
            Outcome::Fatal(_) if self.flow.fatal.is_some() => {
                self.report.complete(p.slot, Vec::new(), Vec::new());
            }
            Outcome::Fatal(msg) => {
                // Listed (-v) as the transfer it began as.
                let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
                self.report
                    .complete(p.slot, line.into_iter().collect(), vec![msg.clone()]);
                self.flow.fatal = Some(msg);
                self.flow.stop();
            }
            Outcome::BackupFailed(lines) => {
                let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
                self.report
                    .complete(p.slot, line.into_iter().collect(), lines.clone());
                self.flow.fail_first(lines.join("\n"), ExitCode::FileIo);
                self.flow.stop();
            }
            Outcome::Interrupted => {
                self.report.complete(p.slot, Vec::new(), Vec::new());
            }
        }
    }

    /// A copy the receiving side could not make: rsync's sender sent the
    /// file before its receiver failed (a temp file it could not make,
    /// say), so it is counted as sent and listed, then `msg` (after
    /// rsync 3.5's refusal line when `refused`).
    fn copy_failed(&mut self, p: &Pending, errors: Vec<String>, refused: bool) {
        if let (true, Some(rec)) = (p.from_source, &p.rec) {
            let sent = rec.stat.size.saturating_sub(p.appended_to);
            self.report.event(Event::Literal(sent));
        }
        let line = p.rec.as_ref().and_then(|r| self.report.item_line_of(r));
        let out = line.into_iter().collect();
        if refused {
            self.report.complete_refused(p.slot, out, errors);
        } else {
            self.report.complete(p.slot, out, errors);
        }
    }

    /// `--temp-dir` outside `--confine-root`'s root: rsync's two lines,
    /// the second naming the file as the receiver does (relative to DEST).
    fn temp_confined(&mut self, p: &Pending, tmp: &str) {
        let local = p
            .dest
            .as_deref()
            .map(|d| self.local_of(d))
            .unwrap_or_default();
        let loop_text = sys::errno_text(Errno::LOOP);
        let rename = format!(
            "[receiver] rename \"{tmp}\" -> \"{}\": {loop_text}",
            self.report.esc(&local)
        );
        let stat = format!("[receiver] stat \"{tmp}\" failed: {loop_text}");
        self.copy_failed(p, vec![stat, rename], false);
    }

    pub(super) fn drain_ready(&mut self) {
        while let Some(d) = self.copies.try_done() {
            self.complete(d.token, d.outcome);
        }
    }

    /// The end of the list a doomed copy's directory goes on with (see
    /// `Flow::doomed`): the doomed copy fails there, and the run ends.
    pub(super) fn end_doomed(&mut self) {
        self.flow.doomed = false;
        self.drain_all();
        self.flow.fail_first(String::new(), ExitCode::FileIo);
        self.flow.receiver_died = true;
    }

    pub(super) fn drain_all(&mut self) {
        while let Some(d) = self.copies.wait_done(&mut || self.report.tick()) {
            self.complete(d.token, d.outcome);
        }
        self.flow.lanes_stopped();
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
        let Some(idx) = self.dirs.fixes.len().checked_sub(1) else {
            return;
        };
        let Some(id) = at.as_ref().ok().and_then(DirAt::dev_ino) else {
            return;
        };
        let Some(earlier) = self.dirs.ids.insert(id, idx) else {
            return;
        };
        // An enclosing directory (a symlink looping back): still open.
        let path = &self.dirs.fixes[earlier].path;
        if self.ctx.opts.dry_run
            || self.dirs.fixes[earlier].settled
            || self.dirs.open(path).is_some()
        {
            return;
        }
        let is_link = |path: &Path| {
            self.at_of(path)
                .and_then(|(d, base)| d.lstat(&base))
                .is_ok_and(|s| s.kind() == Kind::Symlink)
        };
        // A kept symlink named first keeps its own touch-up: rsync's
        // touch_up_dirs sets the time of the link itself (lstat, then
        // utimensat without following), not of the directory.
        let (is_link, earlier_is_link) = (is_link(dest), is_link(path));
        let o = self.ctx.opts;
        // rsync touches up a finished directory's time only with
        // incremental recursion, and not with --delete-delay.
        let incremental = o.inc_recurse() && o.delete != Some(DeleteWhen::Delay);
        if !is_link {
            self.dirs.fixes[earlier].settled = !earlier_is_link;
        } else if incremental {
            // Its own files land first, then its time is set.
            self.drain_all();
            let f = &self.dirs.fixes[earlier];
            let (path, mtime, nsec) = (f.path.clone(), f.mtime, f.mtime_nsec);
            if let Ok((d, base)) = self.at_of(&path) {
                self.set_dir_time(&d, &base, mtime, nsec);
            }
            self.dirs.fixes[earlier].settled = true;
        }
    }

    /// Sets the mtime of directory `base` in `at` (not through a symlink)
    /// if it differs, as rsync's touch_up_dirs: failures are ignored (any
    /// problem was reported when the directory was handled).
    fn set_dir_time(&self, at: &DirAt, base: &[u8], mtime: i64, mtime_nsec: u32) {
        // Like rsync's touch_up_dirs: compare with the window (whole
        // seconds by default), so sub-second differences are left alone.
        let differs = match at.lstat(base) {
            Ok(st) => !self
                .ctx
                .opts
                .same_time(mtime, mtime_nsec, st.mtime, st.mtime_nsec),
            Err(_) => false,
        };
        if self.ctx.opts.times && !self.ctx.opts.omit_dir_times && differs {
            let _ = at.set_mtime(base, mtime, mtime_nsec);
        }
    }

    /// Sets directory times (and restores permissions) once their
    /// contents are final, deepest first.
    pub(super) fn finish_dirs(&mut self) {
        if self.ctx.opts.dry_run || self.flow.receiver_died {
            return;
        }
        let fixes = std::mem::take(&mut self.dirs.fixes);
        // Siblings share their parent's handle.
        let mut last: Option<(PathBuf, DirAt)> = None;
        for f in fixes.iter().rev() {
            let parent = f.path.parent().unwrap_or(Path::new(""));
            let (at, base) = match &last {
                Some((p, at)) if p == parent && f.path != self.ctx.root.path => {
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
            if !f.settled {
                self.set_dir_time(&at, &base, f.mtime, f.mtime_nsec);
            }
            if let Some(m) = f.restore_mode {
                let _ = at.chmod(&base, m);
            }
        }
    }
}

/// Removes a relative `--partial-dir` once empty: below `parent` (the
/// handle of the directory it lies in), else the directory holding
/// `partial_file` by path. Failure just means it is not empty.
fn remove_partial_dir(
    fs: &dyn DestFs,
    parent: Option<&DirAt>,
    pd: Option<&Path>,
    partial_file: &Path,
) {
    match (parent, pd) {
        (Some(d), Some(pd)) => {
            let _ = fs.rmdir(d, sys::bytes(pd));
        }
        _ => {
            if let Some(dir) = partial_file.parent() {
                let _ = fs.rmdir_path(dir);
            }
        }
    }
}

impl Transfer<'_> {
    /// `--append-verify` found the kept bytes wrong and sent the file
    /// again: rsync's warning, and the item's line for the second send
    /// (the size is right by then; the time is set only after it).
    /// A source that shrank while being copied, committed as its second
    /// copy found it: rsync's sender error (the run is partial), its
    /// warning (-v), and the file listed again for that second try.
    fn sent_again(&mut self, rec: Option<&crate::report::ItemRec>, msg: String) -> Option<String> {
        self.report.error(msg);
        let rec = rec?;
        self.report.short_first_try(&rec.name);
        self.report.item_line_of(rec)
    }

    fn verify_failed(&mut self, rec: &crate::report::ItemRec) -> Option<String> {
        let name = self.report.esc(&rec.name);
        self.report.warning(format!(
            "WARNING: {name} failed verification -- update retained (will try again)."
        ));
        let again = crate::report::ItemRec {
            iflags: crate::plan::item::TRANSFER | (rec.iflags & crate::plan::item::REPORT_TIME),
            ..rec.clone()
        };
        self.report.item_line_of(&again)
    }
}
