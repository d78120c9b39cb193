//! Walking the file list in rsync's order: every entry of a listing,
//! each directory followed by its own contents, with the listings of the
//! subdirectories asked for ahead on the scanner's threads.

use super::*;
use std::collections::HashSet;

impl Transfer<'_> {
    /// Counts a listing and everything below it without acting on any
    /// of it (the sender lists what the receiver skips).
    pub(super) fn count_only(&mut self, walker: &mut Walker, entries: &[Entry]) {
        for e in entries {
            if self.stopping() {
                return;
            }
            self.count(e);
            if e.is_dir() && (self.ctx.opts.recursive() || e.preset().is_some()) {
                let children = walker.list(e);
                self.forward(walker);
                self.count_only(walker, &children);
            }
            self.count_pruned(e.pruned_after());
        }
    }

    /// Processes a sorted listing: every entry in order, each directory
    /// followed by its own contents when recursing. `level` describes the
    /// destination directory the entries go into.
    pub(super) fn process_list(
        &mut self,
        walker: &mut Walker,
        entries: &[Entry],
        dest: &Dest,
        level: Level<'_>,
        mut first_level: Option<Vec<Entry>>,
    ) {
        let opts = self.ctx.opts;
        if level.content && matches!(opts.delete, Some(DeleteWhen::During | DeleteWhen::Delay)) {
            match level.existing {
                Some(l) => self.delete_in_dir(level.dir, l, entries),
                // rsync visits every content directory, a new one too: after
                // an I/O error it says so there.
                None => {
                    if !level.fresh {
                        self.dest_not_a_dir(level.dir);
                    }
                    self.deletion_blocked();
                }
            }
        }
        if let Some(l) = level.existing {
            self.remove_debris(level.dir, l, entries);
        }
        let recurse = opts.recursive() && !dest.solo;
        let mut tickets = match first_level {
            Some(_) => std::collections::VecDeque::new(),
            None => self.request_listings(entries, dest, &level, recurse),
        };
        let cleaned = self.delete_below_first(walker, entries, dest, &level, recurse);
        // With incremental recursion rsync's sender lists a whole
        // directory before any of its subdirectories: their entries come
        // after all of these in its file list (the `to-chk` of
        // `--progress`). Its one list otherwise puts each directory's
        // contents right after it.
        let whole = opts.inc_recurse();
        let first = self.report.counted();
        if whole && !entries.is_empty() {
            entries.iter().for_each(|e| self.count(e));
            self.report.list_started(self.report.counted() - 1);
        }
        for (i, e) in entries.iter().enumerate() {
            if let Some(before) = i.checked_sub(1).filter(|_| !whole) {
                self.count_pruned(entries[before].pruned_after());
            }
            let ticket = match tickets.front() {
                Some(&(at, t)) if at == i => {
                    tickets.pop_front();
                    Some(t)
                }
                _ => None,
            };
            if self.flow.doomed && e.is_dir() {
                self.end_doomed();
            }
            if self.stopping() {
                if let Some(t) = ticket {
                    self.lister.scanner.cancel(t);
                }
                continue;
            }
            match whole {
                true => self.report.at_entry(first + i as u64),
                false => self.count(e),
            }
            // In solo mode the one item takes DEST's name; it has no
            // children (that is what made it solo).
            let target = if dest.solo {
                dest.path.clone()
            } else {
                join_name(&dest.path, &e.name)
            };
            let descends = e.is_dir() && (recurse || e.preset().is_some());
            self.report.generator_next(descends);
            let next = if e.implied() && !opts.implied_dirs {
                self.pass_implied(&target)
            } else {
                let known = level.known(dest, &e.name);
                self.handle(e, &target, known, false)
            };
            let Next::Descend { fresh } = next else {
                if let Some(t) = ticket {
                    self.lister.scanner.cancel(t);
                }
                if next == Next::CountOnly && (recurse || e.preset().is_some()) {
                    let children = walker.list(e);
                    self.forward(walker);
                    self.count_only(walker, &children);
                }
                continue;
            };
            if recurse || (e.preset().is_some() && !dest.solo) {
                let listed = first_level
                    .take()
                    .or_else(|| self.lister.prelisted.remove(&e.name[..]));
                let (children, listing) = self.children(walker, e, &target, fresh, listed, ticket);
                let below = Level {
                    dir: &target,
                    fresh,
                    content: e.is_content_dir() && !cleaned.contains(&e.name[..]),
                    existing: listing.as_ref(),
                };
                self.process_list(walker, &children, dest, below, None);
            }
            self.leave_dir();
        }
        if let Some(last) = entries.last().filter(|_| !whole) {
            self.count_pruned(last.pruned_after());
        }
        if self.flow.doomed {
            self.end_doomed();
        }
    }

    /// Asks the scanner threads for the listings of the subdirectories
    /// among `entries` (source, and destination where one exists) before
    /// they are reached, so listing overlaps with handling.
    fn request_listings(
        &mut self,
        entries: &[Entry],
        dest: &Dest,
        level: &Level<'_>,
        recurse: bool,
    ) -> std::collections::VecDeque<(usize, Ticket)> {
        if !self.lister.ahead() {
            return std::collections::VecDeque::new();
        }
        let keep_dirlinks = self.ctx.opts.keep_dirlinks;
        // Only directories have one: by index, not a slot per entry (16
        // bytes each, 3.2 MB for a directory of 200,000 files).
        entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| {
                if !(recurse || e.preset().is_some()) || !e.is_dir() {
                    return None;
                }
                let existing_dir = match level.existing {
                    // -K: a symlink may stand for a directory.
                    Some(l) if !l.is_lean() => l.get(base_name(&e.name)).is_some_and(|s| {
                        s.kind() == Kind::Dir || (keep_dirlinks && s.kind() == Kind::Symlink)
                    }),
                    _ => !level.fresh,
                };
                let target = join_name(&dest.path, &e.name);
                Some((
                    i,
                    self.lister
                        .scanner
                        .request(e, existing_dir.then_some(target.as_path())),
                ))
            })
            .collect()
    }

    /// The source listing of directory entry `e` and the destination
    /// listing of `target` (none when `fresh`: a listing taken before it
    /// was replaced or created is stale, its children are new): the first
    /// level listed during setup, the scanner's, or listed here.
    fn children(
        &mut self,
        walker: &mut Walker,
        e: &Entry,
        target: &Path,
        fresh: bool,
        first_level: Option<Vec<Entry>>,
        ticket: Option<Ticket>,
    ) -> (Vec<Entry>, Option<DirListing>) {
        let need = dest_need(self.ctx.opts);
        let list_dest = |fresh: bool| {
            if fresh {
                None
            } else {
                crate::scan::list_dest_dir(target, need).ok()
            }
        };
        let (children, listing) = match (first_level, ticket) {
            (Some(c), _) => (c, list_dest(fresh)),
            (None, Some(t)) => {
                let (src, dst) = self.lister.scanner.collect(t);
                let children = match src {
                    Some(l) => self.absorb(l),
                    None => {
                        let c = walker.list(e);
                        self.forward(walker);
                        c
                    }
                };
                (children, dst.and_then(Result::ok))
            }
            (None, None) => {
                let c = walker.list(e);
                self.lister.merge_setup_pending = false;
                self.forward(walker);
                (c, list_dest(fresh))
            }
        };
        let listing = match listing {
            _ if fresh => None,
            // -K: a symlink kept as the directory is listed through.
            None if self.ctx.opts.keep_dirlinks => crate::scan::list_dir_following(target).ok(),
            l => l,
        };
        (children, listing)
    }

    /// The listing of an existing destination directory (none when we
    /// just made it, or in solo mode).
    pub(super) fn listing_of(&self, dest: &Dest, fresh: bool) -> Option<DirListing> {
        if fresh || dest.solo {
            return None;
        }
        crate::scan::list_dest_dir(&dest.path, dest_need(self.ctx.opts)).ok()
    }

    /// [`Transfer::listing_of`] for DEST itself, taken from the listing
    /// started ahead when it is of the same path and succeeded.
    pub(super) fn root_listing(
        &self,
        dest: &Dest,
        fresh: bool,
        ahead: Option<crate::scan::ListingAhead>,
    ) -> Option<DirListing> {
        if fresh || dest.solo {
            return None;
        }
        match ahead.and_then(|a| a.take(&dest.path)) {
            Some(l) => Some(l),
            None => self.listing_of(dest, fresh),
        }
    }
}

impl Transfer<'_> {
    /// `-K` (see `Lister::early_deletes`): rsync's generator deletes in
    /// each subdirectory of a listing as it reaches that directory's
    /// entry, before the sub-lists bring any contents. With a kept link
    /// two names can be one directory (`a -> real`): what this run writes
    /// through `a/` must not look extraneous in `real/`, and what `real/`
    /// lost must be gone when `a/` is looked at. Cleans them now, in
    /// order; returns the names done (their own level deletes no more).
    fn delete_below_first(
        &mut self,
        walker: &mut Walker,
        entries: &[Entry],
        dest: &Dest,
        level: &Level<'_>,
        recurse: bool,
    ) -> HashSet<Vec<u8>> {
        let mut done = HashSet::new();
        if !self.lister.early_deletes || !recurse || level.fresh {
            return done;
        }
        for e in entries.iter().filter(|e| e.is_dir() && e.is_content_dir()) {
            let target = join_name(&dest.path, &e.name);
            let Ok(existing) = crate::scan::list_dir_following(&target) else {
                continue;
            };
            let children = walker.list(e);
            self.forward(walker);
            self.delete_in_dir(&target, &existing, &children);
            self.lister.prelisted.insert(e.name.to_vec(), children);
            done.insert(e.name.to_vec());
        }
        done
    }

    /// With DEST inside a source, lists the whole source below `entries`
    /// before anything is made (see `Lister::dest_in_src`).
    pub(super) fn list_before_acting(&mut self, walker: &mut Walker, entries: &[Entry]) {
        if !self.lister.dest_in_src || !self.ctx.opts.recursive() {
            return;
        }
        for e in entries.iter().filter(|e| e.is_dir()) {
            let children = walker.list(e);
            self.forward(walker);
            self.list_before_acting(walker, &children);
            self.lister.prelisted.insert(e.name.to_vec(), children);
        }
    }

    /// A content directory whose DEST path is not a directory (kept by
    /// `--ignore-existing`): rsync's generator still opens it to delete in
    /// it, fails, and that I/O error stops later deletions.
    fn dest_not_a_dir(&mut self, dir: &Path) {
        let not_dir = std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir());
        if !not_dir {
            return;
        }
        let full = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let shown = self.report.esc(full.as_os_str().as_encoded_bytes());
        let msg = format!(
            "[generator] opendir \"{shown}\" failed: {}",
            sys::errno_text(sys::Errno::NOTDIR)
        );
        self.report.error(msg);
        self.flow.flist_error = true;
    }
}
