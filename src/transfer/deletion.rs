//! `--delete` in its four timings: per directory as it is reached
//! (during), recorded then done at the end (delay), or as a separate pass
//! over the whole tree before or after the transfer.

use std::collections::HashSet;

use crate::walk::Diag;

use super::*;

impl Transfer<'_> {
    /// rsync refuses to delete after an I/O error on the sending side
    /// (unless `--ignore-errors`), saying so once.
    pub(super) fn deletion_blocked(&mut self) -> bool {
        if self.flow.flist_error && !self.ctx.opts.ignore_errors {
            if !self.disposal.warned_io {
                self.disposal.warned_io = true;
                self.report.io_error_no_deletion();
            }
            return true;
        }
        false
    }

    /// Deletes (or, with `--delete-delay`, records) the entries of the
    /// destination directory `dir` that the source listing `entries` lacks.
    pub(super) fn delete_in_dir(&mut self, dir: &Path, existing: &DirListing, entries: &[Entry]) {
        self.delete_in_dir_also(dir, existing, entries, &[]);
    }

    /// [`Self::delete_in_dir`], keeping the names `also` as well.
    fn delete_in_dir_also(
        &mut self,
        dir: &Path,
        existing: &DirListing,
        entries: &[Entry],
        also: &[Vec<u8>],
    ) {
        if self.deletion_blocked() {
            return;
        }
        let mut names: HashSet<&[u8]> = entries.iter().map(|e| base_name(&e.name)).collect();
        names.extend(also.iter().map(Vec::as_slice));
        let listed: Vec<(Vec<u8>, Stat)> =
            existing.iter().map(|(n, st)| (n.to_vec(), *st)).collect();
        let Some(listed) = self.same_fs_only(dir, listed) else {
            return;
        };
        let keep = |n: &[u8]| names.contains(n);
        // A directory that could not be opened safely (a -K symlink leading
        // out of the destination): its entries cannot be removed either.
        if let Err(err) = self.dir_handle(dir) {
            let doomed = self.doomed(dir, listed, &keep);
            for (n, st) in doomed.into_iter().rev() {
                let what = if st.kind() == Kind::Dir {
                    "rmdir"
                } else {
                    "unlink"
                };
                let local = self.local_of(&dir.join(path_of(&n)));
                let msg = format!(
                    "[generator] delete_file: {what}({}) failed: {}",
                    self.report.esc(&local),
                    sys::errno_text(err)
                );
                self.report.error(msg);
            }
            return;
        }
        if self.deletions_deferred() {
            let doomed = self.doomed(dir, listed, &keep);
            for (n, st) in doomed.into_iter().rev() {
                self.disposal.delayed.push((dir.join(path_of(&n)), st));
            }
            return;
        }
        let during = self.ctx.opts.delete == Some(DeleteWhen::During);
        if during {
            self.report.deleting_in(Some(&self.local_of(dir)));
        }
        self.disposal.deleter.delete_extraneous(
            self.report,
            self.disposal.backup.as_mut(),
            dir,
            &listed,
            &keep,
        );
        if during {
            self.report.deleting_in(None);
        }
    }

    /// The entries of `dir` that go: not kept by the source listing nor
    /// protected by the rules, in rsync's file-list order.
    fn doomed(
        &mut self,
        dir: &Path,
        listed: Vec<(Vec<u8>, Stat)>,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Vec<(Vec<u8>, Stat)> {
        let mut doomed: Vec<(Vec<u8>, Stat)> = listed
            .into_iter()
            .filter(|(n, st)| self.disposal.deleter.goes(self.report, dir, n, st, keep))
            .collect();
        self.disposal.deleter.sort(&mut doomed);
        doomed
    }

    /// Whether a deletion is recorded now and done later: `--delete-delay`,
    /// and during a `--delete-before`/`--delete-after` pass, where an I/O
    /// error anywhere in the list stops every deletion.
    fn deletions_deferred(&self) -> bool {
        self.ctx.opts.delete == Some(DeleteWhen::Delay) || self.disposal.in_pass
    }

    /// The deletions recorded so far, unless an I/O error since stops
    /// them (rsync's guard, see [`Self::deletion_blocked`]).
    pub(super) fn run_delayed_deletes(&mut self) {
        // --delete-delay: what was recorded before an error still goes, as
        // in rsync; a pass's deletions wait for its whole listing.
        let in_pass = self.disposal.in_pass;
        if self.disposal.delayed.is_empty() || in_pass && self.deletion_blocked() {
            self.disposal.delayed.clear();
            return;
        }
        let doomed = std::mem::take(&mut self.disposal.delayed);
        for (path, st) in doomed {
            let flags = DelFlags {
                recurse: true,
                ..DelFlags::default()
            };
            self.disposal.deleter.delete_item(
                self.report,
                self.disposal.backup.as_mut(),
                &path,
                &st,
                flags,
            );
        }
    }

    /// `--delete-before` / `--delete-after`: every content directory of
    /// the transfer, walked on its own.
    pub(super) fn delete_pass(
        &mut self,
        walker: &mut Walker,
        top: &crate::walk::TopLevel,
        dest: &Dest,
    ) {
        if dest.solo || self.ctx.opts.dry_run && dest.fresh {
            return;
        }
        self.disposal.in_pass = true;
        if let Some(dot) = &top.dot {
            self.report.event(Event::DeletingIn { name: b"." });
            if let Ok(l) = crate::scan::list_dir(&dest.path) {
                let also = self.removed_from(dot);
                self.delete_in_dir_also(&dest.path, &l, &top.entries, &also);
            }
        }
        if self.ctx.opts.recursive() {
            // Without `.`, the top entries are the named directories.
            let named = top.dot.is_none();
            self.delete_pass_below(walker, &top.entries, &dest.path, named);
        }
        self.run_delayed_deletes();
        self.disposal.in_pass = false;
    }

    /// `--remove-source-files` removed source file `src`: a later
    /// `--delete-after` pass, which lists the source again, still counts
    /// it as there (see `Disposal::removed`).
    pub(super) fn keep_for_delete_after(&mut self, src: &Path) {
        if self.ctx.opts.delete != Some(DeleteWhen::After) {
            return;
        }
        if let (Some(dir), Some(name)) = (src.parent(), src.file_name()) {
            let name = sys::bytes(Path::new(name)).to_vec();
            self.disposal
                .removed
                .entry(dir.to_path_buf())
                .or_default()
                .push(name);
        }
    }

    /// The names `--remove-source-files` removed from directory `dir`
    /// (from each of its sources).
    fn removed_from(&mut self, dir: &Entry) -> Vec<Vec<u8>> {
        let removed = &mut self.disposal.removed;
        let src = dir.src();
        std::iter::once(&*src)
            .chain(dir.more_srcs().iter().map(PathBuf::as_path))
            .filter_map(|s| removed.remove(s))
            .flatten()
            .collect()
    }

    /// rsync without incremental recursion builds the whole file list
    /// before it deletes anything, so an I/O error anywhere in it stops
    /// every deletion: with `--delete`/`--delete-delay` and no incremental
    /// recursion (or with `-H`, where rsync behaves the same), the source
    /// is listed once ahead for its errors.
    pub(super) fn list_ahead_for_errors(
        &mut self,
        walker: &mut Walker,
        top: &crate::walk::TopLevel,
    ) {
        let o = self.ctx.opts;
        let during = matches!(o.delete, Some(DeleteWhen::During | DeleteWhen::Delay));
        // With -H, rsync's generator deletes nothing before the whole list
        // is in either (seen: an error anywhere stops every deletion).
        if during && (!o.inc_recurse() || o.hard_links) && o.recursive() {
            self.list_below(walker, &top.entries);
        }
    }

    fn list_below(&mut self, walker: &mut Walker, entries: &[Entry]) {
        for e in entries.iter().filter(|e| e.is_dir()) {
            if self.stopping() || self.flow.flist_error {
                return;
            }
            let children = walker.list(e);
            self.pass_diags(walker);
            self.list_below(walker, &children);
        }
    }

    fn delete_pass_below(
        &mut self,
        walker: &mut Walker,
        entries: &[Entry],
        dest_root: &Path,
        top: bool,
    ) {
        for e in entries.iter().filter(|e| e.is_dir()) {
            if self.stopping() {
                return;
            }
            if top && e.is_content_dir() {
                self.report.event(Event::DeletingIn { name: &e.name });
            }
            let target = join_name(dest_root, &e.name);
            // The whole source is listed, as rsync's full file list is,
            // even where DEST has no directory: an I/O error anywhere in
            // it stops every deletion of the pass.
            let children = walker.list(e);
            self.pass_diags(walker);
            // Not a content directory (a mount point, an implied dir).
            if e.is_content_dir()
                && let Ok(listing) = crate::scan::list_dir(&target)
            {
                let also = self.removed_from(e);
                self.delete_in_dir_also(&target, &listing, &children, &also);
            }
            self.delete_pass_below(walker, &children, dest_root, false);
        }
    }

    /// What a pass's own listing found: its errors stop deletion, but their
    /// lines are the transfer walk's to print (rsync lists once).
    fn pass_diags(&mut self, walker: &mut Walker) {
        walker.shadowed_size = 0;
        for d in std::mem::take(&mut walker.diags) {
            match d {
                Diag::Error(_) | Diag::ErrorRaw(_) | Diag::Receiver { .. } => {
                    self.flow.flist_error = true
                }
                Diag::Fatal(_) => self.flow.diag(self.report, d),
                _ => {}
            }
        }
    }
}
