//! Hard links (`-H`): recreating the source's hard-link groups at the
//! destination, as rsync's receiver does (its `hlink.c`).
//!
//! A group is the set of listed non-directories sharing one source
//! device and inode. Members arrive in file-list order. The first member
//! that gets *done* — found up to date, created, or copied — becomes the
//! group's leader, and every other member is then hard-linked to it. Two
//! rules give rsync's output and its single copy per group:
//! - a regular file whose destination does not exist yet waits, unless
//!   it is the group's last listed member, so a new group is copied
//!   once, as its last member, and the others are linked to it
//!   afterwards (most recent first);
//! - a member met while another member is being copied waits for that
//!   copy, and is linked when it completes.
//!
//! Below protocol 29 rsync's file list is in the old order (full paths
//! as plain bytes, `a.txt` before `a/x`), which decides which member of
//! a group leads it; arsync's walk keeps the new order, so there the
//! members are held as they are met and handled once the walk is done,
//! in the old order ([`Transfer::hlink_replay_old`]).
//!
//! Which member is the last one listed is known from a census: when the
//! first file with a link count above one is met, the source is listed
//! once more (on a walker of its own, its messages dropped) and the
//! members of each group counted, as rsync's receiver knows them from
//! its file list. A link count counts names that are not listed too
//! (excluded, or outside the source: every file of one snapshot among
//! several hard-linked ones), and a member waiting for those would wait
//! to the end of the run. A tree without such files pays nothing. With
//! `-m` (whose pruning would list each subtree again per level) the link
//! count stands in.
//!
//! Memory goes only to files with a link count above one.

use super::*;

/// A group's identity: the source device and inode.
pub(super) type GroupKey = (u64, u64);

/// Hard-link bookkeeping for one run.
#[derive(Default)]
pub(super) struct Hlinks {
    groups: HashMap<GroupKey, Group>,
    /// Copies in flight whose group waits for them, by engine token.
    by_token: HashMap<u64, GroupKey>,
    /// Groups whose leader's copy completed, with the copy's token;
    /// linked at the end of the pass, where rsync's generator finds its
    /// finished files.
    finished: Vec<(u64, GroupKey)>,
    /// `--delay-updates`: groups whose leader is staged, linked once the
    /// staged files are in place (rsync links them as it moves them).
    after_delay: Vec<(GroupKey, Leader)>,
    /// Listed members of each group (see the module doc).
    census: Census,
    /// Groups in the order they were first met.
    order: Vec<GroupKey>,
    /// Below protocol 29: the members met in the walk, handled after it
    /// in the old file-list order.
    held: Vec<Held>,
}

/// A member held for the old file-list order.
struct Held {
    entry: Entry,
    dest: PathBuf,
    /// Its position in rsync's file list.
    index: u64,
}

#[derive(Default)]
struct Group {
    /// Members listed so far.
    seen: u64,
    /// Members handled and not skipped: a later member is not the first.
    active: u64,
    /// The member the others link to.
    leader: Option<Leader>,
    /// A member whose copy is in flight.
    sent: Option<Leader>,
    /// Members to link once `sent` completes, in linking order.
    waiting: Vec<Member>,
    /// Members whose destination did not exist, in list order (linked
    /// in reverse, like rsync's chain).
    deferred: Vec<Member>,
    /// `-X`: the leader was up to date but its xattrs changed (see
    /// [`Leader::xattr_stale`]).
    xattr_stale: bool,
}

#[derive(Clone)]
struct Leader {
    dest: PathBuf,
    name: Vec<u8>,
    /// `-X`: rsync's receiver changes an up-to-date leader's xattrs after
    /// the generator has itemized the members, so an existing member
    /// still shows `x` (`hf........x`).
    xattr_stale: bool,
}

struct Member {
    entry: Entry,
    dest: PathBuf,
    /// Found unchanged in a `--compare-dest`/`--copy-dest` dir and so
    /// not made: its link is itemized as new, not against that file.
    unneeded: bool,
}

/// How `handle` continues with a hard-linked entry.
pub(super) enum Arrival {
    /// Linked, or waiting for its group: nothing more to do now.
    Settled,
    /// Process it normally; `last`: no other member will follow.
    Process { last: bool },
}

/// The group of a listed entry, if it may have one.
fn group_of(e: &Entry) -> Option<GroupKey> {
    (!e.is_dir() && !e.is_missing() && e.stat.nlink > 1).then_some((e.stat.dev, e.stat.ino))
}

/// The census of each group's listed members (see the module doc).
#[derive(Default)]
enum Census {
    /// Not taken (no `-H`, or `-m`): a group has as many members as its
    /// link count says.
    #[default]
    Off,
    /// Taken when first needed, from the top level's counts and the
    /// directories below it that the walk descends into.
    Pending {
        counts: HashMap<GroupKey, u64>,
        dirs: Vec<Entry>,
        cfg: Box<WalkConfig>,
        recurse: bool,
    },
    Taken(HashMap<GroupKey, u64>),
}

/// Counts the group members in `entries` into `counts`, and keeps the
/// directories the walk descends into below them: all of them when
/// `recurse`, else the named paths below implied ones (`-R`,
/// `--files-from`).
fn count_members(
    entries: &[Entry],
    recurse: bool,
    counts: &mut HashMap<GroupKey, u64>,
    dirs: &mut Vec<Entry>,
) {
    for e in entries {
        if let Some(k) = group_of(e) {
            *counts.entry(k).or_default() += 1;
        }
        if e.is_dir() && (recurse || e.preset().is_some()) {
            dirs.push(e.clone());
        }
    }
}

/// Lists `dirs` and everything below them as the walk will, adding
/// their members to `counts`; `stop` ends the count early.
fn count_below(
    cfg: &WalkConfig,
    mut dirs: Vec<Entry>,
    recurse: bool,
    counts: &mut HashMap<GroupKey, u64>,
    stop: &dyn Fn() -> bool,
) {
    while let Some(d) = dirs.pop() {
        if stop() {
            break;
        }
        let listing = crate::walk::list_detached(cfg, &d);
        count_members(&listing.entries, recurse, counts, &mut dirs);
    }
}

impl Transfer<'_> {
    /// The group an entry belongs to, with `-H`: none when it is the
    /// only member listed (a plain file to rsync too, and nothing to keep
    /// for it).
    pub(super) fn hlink_key(&mut self, e: &Entry) -> Option<GroupKey> {
        let key = group_of(e).filter(|_| self.ctx.opts.hard_links)?;
        (self.listed_members(key, e.stat.nlink) > 1).then_some(key)
    }

    /// `-H`: prepares the census of each group's listed members (see the
    /// module doc) from the top level.
    pub(super) fn hlink_census(
        &mut self,
        walker: &Walker,
        top: &crate::walk::TopLevel,
        dest: &Dest,
    ) {
        let cfg = walker.cfg();
        if !self.ctx.opts.hard_links || cfg.prune {
            return;
        }
        // As the walk descends (`process_list`).
        let recurse = self.ctx.opts.recursive() && !dest.solo;
        let (mut counts, mut dirs) = (HashMap::new(), Vec::new());
        count_members(&top.entries, recurse, &mut counts, &mut dirs);
        let cfg = Box::new(cfg.clone());
        self.hlinks.census = Census::Pending {
            counts,
            dirs,
            cfg,
            recurse,
        };
        // DEST inside a source: counted before anything lands there.
        if self.lister.dest_in_src {
            self.take_census();
        }
    }

    /// Counts a pending census (see the module doc).
    fn take_census(&mut self) {
        self.hlinks.census = match std::mem::take(&mut self.hlinks.census) {
            Census::Pending {
                mut counts,
                dirs,
                cfg,
                recurse,
            } => {
                let abort = std::sync::Arc::clone(&self.flow.abort);
                let stop = move || abort.load(std::sync::atomic::Ordering::Relaxed);
                count_below(&cfg, dirs, recurse, &mut counts, &stop);
                Census::Taken(counts)
            }
            other => other,
        };
    }

    /// How many members group `key` has in the listing (its link count
    /// without a census), counting them the first time one is asked for.
    fn listed_members(&mut self, key: GroupKey, nlink: u64) -> u64 {
        self.take_census();
        match &self.hlinks.census {
            Census::Taken(counts) => counts.get(&key).copied().unwrap_or(0),
            _ => nlink,
        }
    }

    /// A member arrives: linked at once when its group has a leader,
    /// queued when a copy is in flight, else processed normally (rsync's
    /// `hard_link_check`).
    pub(super) fn hlink_arrive(
        &mut self,
        key: GroupKey,
        e: &Entry,
        dest: &Path,
        skipped: bool,
    ) -> Arrival {
        let members = self.listed_members(key, e.stat.nlink);
        let g = match self.hlinks.groups.entry(key) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                self.hlinks.order.push(key);
                v.insert(Group::default())
            }
        };
        g.seen += 1;
        let last = g.seen >= members;
        // An update rule skips a member before rsync looks at its group.
        if skipped {
            return Arrival::Process { last };
        }
        let first = g.active == 0;
        g.active += 1;
        if !first {
            if let Some(l) = g.leader.clone() {
                self.link_member(e, dest, &l, false);
                return Arrival::Settled;
            }
            if g.sent.is_some() {
                // Linked in the order they come once the copy is done.
                g.waiting.push(Member {
                    entry: e.clone(),
                    dest: dest.to_path_buf(),
                    unneeded: false,
                });
                return Arrival::Settled;
            }
        }
        Arrival::Process { last }
    }

    /// Below protocol 29 a member is held (see the module doc); `false`
    /// when it is handled now.
    pub(super) fn hlink_hold(&mut self, e: &Entry, dest: &Path) -> bool {
        if self.ctx.opts.protocol >= 29 {
            return false;
        }
        self.hlinks.held.push(Held {
            entry: e.clone(),
            dest: dest.to_path_buf(),
            index: self.report.entry_at(),
        });
        true
    }

    /// Below protocol 29, once the walk is done: the held members in the
    /// old file-list order, each handled as it would have been met there
    /// (its generator lines under its name in that order).
    pub(super) fn hlink_replay_old(&mut self) {
        let mut held = std::mem::take(&mut self.hlinks.held);
        held.sort_by(|a, b| a.entry.local_name().cmp(b.entry.local_name()));
        for h in held {
            if self.stopping() {
                break;
            }
            let Some(key) = self.hlink_key(&h.entry) else {
                continue;
            };
            self.report.at_entry(h.index);
            self.report.old_link_key(Some(h.entry.local_name()));
            self.handle_member(key, &h.entry, &h.dest, Known::Unknown, false);
        }
        self.report.old_link_key(None);
    }

    /// A regular file with no destination yet, and more members to come:
    /// it waits for the copy of a later one (`unneeded`: see [`Member`]).
    pub(super) fn hlink_defer(&mut self, key: GroupKey, e: &Entry, dest: &Path, unneeded: bool) {
        if let Some(g) = self.hlinks.groups.get_mut(&key) {
            g.deferred.push(Member {
                entry: e.clone(),
                dest: dest.to_path_buf(),
                unneeded,
            });
        }
    }

    /// An update rule skipped a member. If it was the last one, the latest
    /// waiting member takes its place and is processed now (rsync's
    /// `handle_skipped_hlink`).
    pub(super) fn hlink_skipped(&mut self, key: GroupKey, last: bool) {
        let Some(g) = self.hlinks.groups.get_mut(&key) else {
            return;
        };
        if !last || g.leader.is_some() || g.sent.is_some() {
            return;
        }
        if let Some(m) = g.deferred.pop() {
            self.handle_as(&m.entry, &m.dest, Known::Unknown, false, Some((key, true)));
        }
    }

    /// A member's copy went to the engine: the group waits for it.
    pub(super) fn hlink_sent(&mut self, key: GroupKey, token: u64, e: &Entry, dest: &Path) {
        if let Some(g) = self.hlinks.groups.get_mut(&key) {
            g.sent = Some(Leader {
                dest: dest.to_path_buf(),
                name: e.name.to_vec(),
                xattr_stale: false,
            });
            self.hlinks.by_token.insert(token, key);
        }
    }

    /// The engine finished a copy; `ok`: it succeeded.
    pub(super) fn hlink_copied(&mut self, token: u64, ok: bool) {
        let Some(key) = self.hlinks.by_token.remove(&token) else {
            return;
        };
        if ok {
            self.hlinks.finished.push((token, key));
        } else if let Some(g) = self.hlinks.groups.get_mut(&key) {
            // Nothing to link to: the members that waited are not made.
            g.sent = None;
            g.waiting.clear();
        }
    }

    /// Links the members of groups whose copies have completed.
    pub(super) fn hlink_finish_copied(&mut self) {
        let mut finished = std::mem::take(&mut self.hlinks.finished);
        // Copies complete in any order; rsync links (and lists) the
        // members in file-list order, which is submission order.
        finished.sort_unstable_by_key(|&(token, _)| token);
        let staged = self.ctx.opts.delay_updates && !self.ctx.opts.dry_run;
        for (_, key) in finished {
            let leader = self.hlinks.groups.get_mut(&key).and_then(|g| g.sent.take());
            match leader {
                // Not at its name yet: a link to it would find nothing.
                Some(l) if staged => self.hlinks.after_delay.push((key, l)),
                Some(l) => self.hlink_lead(key, l.dest, l.name),
                None => {}
            }
        }
    }

    /// `--delay-updates`: links the members of the groups whose leaders
    /// were staged, now that the staged files are in place.
    pub(super) fn hlink_finish_delayed(&mut self) {
        for (key, l) in std::mem::take(&mut self.hlinks.after_delay) {
            self.hlink_lead(key, l.dest, l.name);
        }
    }

    /// Groups still waiting once the list is done were promised more
    /// members than came: by their link count where no census was taken
    /// (`-m`), or by a census of a source that changed since. The latest
    /// waiting member is processed as the last one. Returns whether any
    /// was.
    pub(super) fn hlink_orphans(&mut self) -> bool {
        let mut any = false;
        for key in self.hlinks.order.clone() {
            let Some(g) = self.hlinks.groups.get_mut(&key) else {
                continue;
            };
            if g.leader.is_some() || g.sent.is_some() {
                continue;
            }
            if let Some(m) = g.deferred.pop() {
                any = true;
                self.handle_as(&m.entry, &m.dest, Known::Unknown, false, Some((key, true)));
            }
        }
        any
    }

    /// A member is done at `dest`: it leads its group, and the members
    /// waiting for it are linked to it.
    pub(super) fn hlink_done(&mut self, key: GroupKey, e: &Entry, dest: &Path) {
        self.hlink_lead(key, dest.to_path_buf(), e.name.to_vec());
    }

    /// An up-to-date member about to lead its group had its xattrs
    /// changed (see [`Leader::xattr_stale`]).
    pub(super) fn hlink_xattr_stale(&mut self, key: GroupKey) {
        if let Some(g) = self.hlinks.groups.get_mut(&key) {
            g.xattr_stale = true;
        }
    }

    fn hlink_lead(&mut self, key: GroupKey, dest: PathBuf, name: Vec<u8>) {
        let Some(g) = self.hlinks.groups.get_mut(&key) else {
            return;
        };
        let leader = Leader {
            dest,
            name,
            xattr_stale: g.xattr_stale,
        };
        g.leader = Some(leader.clone());
        let mut members = std::mem::take(&mut g.waiting);
        let mut deferred = std::mem::take(&mut g.deferred);
        deferred.reverse();
        members.extend(deferred);
        for m in members {
            self.link_member(&m.entry, &m.dest, &leader, m.unneeded);
        }
    }

    /// Makes `dest` a hard link to the leader's file, unless it already
    /// is one (rsync's `maybe_hard_link`), and reports it.
    fn link_member(&mut self, e: &Entry, dest: &Path, leader: &Leader, unneeded: bool) {
        use crate::plan::item::REPORT_XATTR;
        use crate::plan::item::{LOCAL_CHANGE, XNAME_FOLLOWS};
        let opts = self.ctx.opts;
        // --fake-super: owner and mode as the %stat record says.
        let fs = self.ctx.fs.as_ref();
        let on_disk = fs
            .lstat_path(dest)
            .ok()
            .map(|st| self.ctx.attrs.dest_stat(dest, st).unwrap_or(st));
        let leader_st = fs.lstat_path(&leader.dest).ok();
        let stale = if leader.xattr_stale { REPORT_XATTR } else { 0 };
        let mode = self.ctx.planner.mode_for(e, on_disk.as_ref());
        if let (Some(o), Some(l)) = (on_disk, leader_st)
            && o.dev == l.dev
            && o.ino == l.ino
        {
            let iflags = self
                .ctx
                .planner
                .itemize(e, Some(&o), LOCAL_CHANGE | XNAME_FOLLOWS, mode);
            let iflags = iflags | stale;
            self.report.event(Event::ItemLinked {
                iflags,
                e,
                xname: b"",
            });
            let name = &e.name;
            self.report.event(Event::UpToDate {
                name,
                changed: false,
            });
            self.maybe_remove_source(e);
            return;
        }
        // A new member matching a basis item is itemized against that
        // item; one already linked to the group through --link-dest is
        // quiet.
        let mut old = on_disk;
        let mut quiet = false;
        if old.is_none()
            && !unneeded
            && let Some(st) =
                self.ctx
                    .planner
                    .hlink_basis(e, &self.local_of(dest), leader_st.as_ref())
        {
            quiet = self.ctx.planner.basis_is_link() && self.report.linked_basis_quiet();
            if quiet {
                let name = &e.name;
                self.report.event(Event::LinkedBasis { name });
            }
            old = Some(st);
        }
        if let Some(o) = on_disk
            && o.kind() == Kind::Dir
            && !self.make_room(dest, &o, "regular file")
        {
            return;
        }
        if !opts.dry_run {
            let atomic = on_disk.is_some_and(|o| o.kind() != Kind::Dir);
            let from = leader.dest.clone();
            if let Err(msg) = self.create_node(dest, atomic, |fs, d, p| fs.link_from(d, p, &from)) {
                let Some(msg) = msg else { return };
                let msg = format!(
                    "[generator] link {} => {} failed: {msg}",
                    self.shown(dest),
                    self.report.esc(&leader.name)
                );
                self.report.error(msg);
                return;
            }
        }
        if !quiet {
            let old = old.filter(|o| o.kind() != Kind::Dir);
            let planner = &self.ctx.planner;
            let flags = LOCAL_CHANGE | XNAME_FOLLOWS;
            let mut iflags = planner.itemize_xname(e, old.as_ref(), flags, mode, true);
            if old.is_some() {
                iflags |= stale;
            }
            let xname = &leader.name;
            self.report.event(Event::ItemLinked { iflags, e, xname });
        }
        self.maybe_remove_source(e);
    }
}
