//! `--delete` in its four timings: per directory as it is reached
//! (during), recorded then done at the end (delay), or as a separate pass
//! over the whole tree before or after the transfer.

use std::collections::HashSet;

use super::*;

impl Transfer<'_> {
    /// rsync refuses to delete after an I/O error on the sending side
    /// (unless `--ignore-errors`), saying so once.
    fn deletion_blocked(&mut self) -> bool {
        if self.flow.flist_error && !self.ctx.opts.ignore_errors {
            if !self.disposal.warned_io {
                self.disposal.warned_io = true;
                self.report
                    .info("IO error encountered -- skipping file deletion");
            }
            return true;
        }
        false
    }

    /// Deletes (or, with `--delete-delay`, records) the entries of the
    /// destination directory `dir` that the source listing `entries` lacks.
    pub(super) fn delete_in_dir(&mut self, dir: &Path, existing: &DirListing, entries: &[Entry]) {
        if self.deletion_blocked() {
            return;
        }
        let names: HashSet<&[u8]> = entries.iter().map(|e| base_name(&e.name)).collect();
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
        if self.ctx.opts.delete == Some(DeleteWhen::Delay) {
            let doomed = self.doomed(dir, listed, &keep);
            for (n, st) in doomed.into_iter().rev() {
                self.disposal.delayed.push((dir.join(path_of(&n)), st));
            }
            return;
        }
        self.disposal.deleter.delete_extraneous(
            self.report,
            self.disposal.backup.as_mut(),
            dir,
            &listed,
            &keep,
        );
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
            .filter(|(n, st)| {
                !keep(n)
                    && !self.disposal.deleter.protects(
                        self.report,
                        dir,
                        n,
                        st.kind() == Kind::Dir,
                        false,
                    )
            })
            .collect();
        crate::delete::sort_like_rsync(&mut doomed);
        doomed
    }

    /// `--delete-delay`: the deletions recorded during the transfer.
    pub(super) fn run_delayed_deletes(&mut self) {
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
        if top.dot.is_some()
            && let Ok(l) = crate::scan::list_dir(&dest.path)
        {
            self.delete_in_dir(&dest.path, &l, &top.entries);
        }
        if self.ctx.opts.recursive() {
            self.delete_pass_below(walker, &top.entries, &dest.path);
        }
    }

    fn delete_pass_below(&mut self, walker: &mut Walker, entries: &[Entry], dest_root: &Path) {
        for e in entries.iter().filter(|e| e.is_dir()) {
            if self.stopping() {
                return;
            }
            let target = join_name(dest_root, &e.name);
            let Ok(listing) = crate::scan::list_dir(&target) else {
                continue;
            };
            let children = walker.list(e);
            self.forward(walker);
            // Not a content directory (a mount point, an implied dir).
            if e.preset.is_none() {
                self.delete_in_dir(&target, &listing, &children);
            }
            self.delete_pass_below(walker, &children, dest_root);
        }
    }
}
