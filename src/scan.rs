//! Directory listings made ahead of the walk, on helper threads and on
//! the caller's when it would otherwise wait: for each directory, the
//! source side (as the walker would list it) and the matching destination
//! directory.
//!
//! On a re-sync every source entry needs the status of its destination
//! counterpart. Nearly all of a no-change run is the kernel's getdents and
//! fstatat for both trees, so the point is to keep every core on them:
//! each side of a directory is a task of its own, tasks wait in the order
//! the depth-first walk needs them, a listed directory queues its
//! subdirectories at once (speculation the walk claims or drops), and the
//! caller lists instead of sleeping. The destination listing also tells
//! `--delete` what is extraneous; without `--delete`, DEST's own listing
//! made ahead keeps only arsync's temp files past [`LEAN_OVER`] entries
//! (the walk then stats each name, as rsync does), so a huge directory's
//! re-sync does not hold both sides' status at once.

use std::collections::{HashMap, VecDeque};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use crate::sys::Errno;

use crate::sys::Stat;
use crate::walk::{Entry, Listing, WalkConfig, list_detached};

/// The entries of one destination directory, with their status, in the
/// order the directory listed them.
///
/// Names live in one buffer and are found by binary search over an index
/// sorted by name: a listing costs two allocations however many entries
/// it has, which matters when a no-change run lists 100,000 of them.
#[derive(Debug, Default)]
pub(crate) struct DirListing {
    /// All names, back to back.
    names: Vec<u8>,
    /// Readdir order: where each name sits in `names`, and its status.
    items: Vec<(u32, u32, Stat)>,
    /// Indices into `items`, sorted by name.
    by_name: Vec<u32>,
    /// Where in `by_name` the last lookup ended: the walk asks for names
    /// in sorted order, so the next one is usually right after it.
    hint: std::cell::Cell<usize>,
    /// Made for [`DestNeed::Temps`] (see [`DestNeed::lean_over`]) the
    /// listing keeps only arsync's own temp files: `get` then knows
    /// nothing of other names, which the caller looks up one by one.
    lean: bool,
}

/// Entries past which a destination listing made on a listing thread
/// keeps no entry's status when nothing needs the whole listing:
/// the walk then stats each destination name as it reaches it, as rsync
/// does. 80 bytes of status, the name and a 4-byte index per entry were
/// ~19 MB for a directory of 200,000 files, more than half a no-change
/// run's peak memory (benchmarks/README.md, "Huge directories").
pub(crate) const LEAN_OVER: usize = 32 * 1024;

impl DirListing {
    fn name_of(&self, i: u32) -> &[u8] {
        let (off, len, _) = self.items[i as usize];
        &self.names[off as usize..(off + len) as usize]
    }

    fn push(&mut self, name: &[u8], st: Stat) {
        let off = self.names.len() as u32;
        self.names.extend_from_slice(name);
        self.items.push((off, name.len() as u32, st));
    }

    /// Whether the listing kept only our temp files (see `lean`): a name
    /// it does not have may still exist.
    pub(crate) fn is_lean(&self) -> bool {
        self.lean
    }

    /// Builds the by-name index once every entry is in.
    fn seal(mut self) -> DirListing {
        let mut order: Vec<u32> = (0..self.items.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.name_of(a).cmp(self.name_of(b)));
        self.by_name = order;
        self
    }

    /// The temp files of earlier arsync runs in this directory: each name,
    /// with the final name it was for (as cut to fit, `tempname::cut`).
    pub(crate) fn our_temps(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.items.len() as u32).filter_map(|i| {
            let name = self.name_of(i);
            crate::tempname::ours(name).map(|f| (name, f))
        })
    }

    /// The status of `name` (a plain name, no slash), if present.
    pub(crate) fn get(&self, name: &[u8]) -> Option<Stat> {
        let at = |k: usize| self.items[self.by_name[k] as usize].2;
        let h = self.hint.get();
        if h < self.by_name.len() && self.name_of(self.by_name[h]) == name {
            self.hint.set(h + 1);
            return Some(at(h));
        }
        let k = self
            .by_name
            .binary_search_by(|&i| self.name_of(i).cmp(name))
            .ok()?;
        self.hint.set(k + 1);
        Some(at(k))
    }

    /// All names and their status in the order the directory listed them
    /// (rsync's receiver looks at them in that order, which shows in its
    /// `-vv` filter lines).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &Stat)> {
        (0..self.items.len() as u32).map(|i| (self.name_of(i), &self.items[i as usize].2))
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }
}

/// Lists `dir` (not following a final symlink): every entry with its lstat.
pub(crate) fn list_dir(dir: &Path) -> Result<DirListing, Errno> {
    list_dir_with(dir, false, usize::MAX)
}

/// How much of a destination directory's listing the run needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DestNeed {
    /// Every entry with its status: `--delete` during the walk compares
    /// the whole directory with the source's.
    Whole,
    /// Only arsync's own temp files (for the debris clean-up); every
    /// other name the walk stats as it reaches it, as rsync's generator
    /// does. Copying one file into a directory of 100,000 took 0.23 s
    /// when each of them was stat'ed, against rsync's 0.035 s.
    Temps,
}

impl DestNeed {
    /// Entries past which a listing made for this need goes lean (see
    /// [`DirListing::is_lean`]): never for `Whole`; at once on the
    /// caller's thread, where a stat by name later costs what the
    /// listing's own would; past [`LEAN_OVER`] on a listing thread, whose
    /// stats overlap with the walk.
    fn lean_over(self, on_caller: bool) -> usize {
        match self {
            DestNeed::Whole => usize::MAX,
            DestNeed::Temps if on_caller => 0,
            DestNeed::Temps => LEAN_OVER,
        }
    }
}

/// Lists destination directory `dir` on the caller's thread for `need`.
pub(crate) fn list_dest_dir(dir: &Path, need: DestNeed) -> Result<DirListing, Errno> {
    list_dir_with(dir, false, need.lean_over(true))
}

/// [`list_dir`] of what a symlink at `dir` points to (`-K`: a symlink to
/// a directory stands for it).
pub(crate) fn list_dir_following(dir: &Path) -> Result<DirListing, Errno> {
    list_dir_with(dir, true, usize::MAX)
}

/// Lists `dir`; with more than `lean_over` entries the listing goes lean
/// (see [`DirListing::is_lean`]) and only our temp files are stat'ed.
/// The names come first, so that a lean listing stats nothing else.
fn list_dir_with(dir: &Path, follow_link: bool, lean_over: usize) -> Result<DirListing, Errno> {
    let fd = crate::sys::fs::open_dir(dir, follow_link)?;
    // Back to back, each with its NUL.
    let mut names: Vec<u8> = Vec::new();
    let mut count = 0usize;
    crate::sys::each_name(fd.as_fd(), |name| {
        names.extend_from_slice(name.to_bytes_with_nul());
        count += 1;
    })?;
    let mut listing = DirListing {
        lean: count > lean_over,
        ..DirListing::default()
    };
    for name in names.split_inclusive(|&b| b == 0) {
        let Ok(name) = std::ffi::CStr::from_bytes_with_nul(name) else {
            continue;
        };
        if listing.lean && crate::tempname::ours(name.to_bytes()).is_none() {
            continue;
        }
        match crate::sys::fs::lstat_at(&fd, name) {
            Ok(st) => listing.push(name.to_bytes(), st),
            // Gone since readdir: it does not exist any more.
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(listing.seal())
}

/// The listing of DEST's own directory, made on a thread of its own while
/// the caller lists the sources' top level: with one huge directory on
/// each side, the two listings are most of a no-change run, and each
/// gets a core.
pub(crate) struct ListingAhead {
    path: PathBuf,
    job: JoinHandle<Result<DirListing, Errno>>,
}

impl ListingAhead {
    /// Starts listing `path` for `need` (on a thread: see
    /// [`DestNeed::lean_over`]); `None` when no thread can be had (the
    /// caller lists when it needs to).
    pub(crate) fn start(path: PathBuf, need: DestNeed) -> Option<ListingAhead> {
        let p = path.clone();
        let lean_over = need.lean_over(false);
        let job = std::thread::Builder::new()
            .name("arsync-dest-list".into())
            .spawn(move || list_dir_with(&p, false, lean_over))
            .ok()?;
        Some(ListingAhead { path, job })
    }

    /// The listing, if it was of `path` and succeeded; otherwise the
    /// caller lists again (and sees any error itself, at the time it
    /// would have).
    pub(crate) fn take(self, path: &Path) -> Option<DirListing> {
        if self.path != path {
            return None;
        }
        self.job.join().ok()?.ok()
    }
}

/// Identifies a prefetch request.
pub(crate) type Ticket = u64;

/// The last component of a listed name.
fn base_of(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'/') {
        Some(p) => &name[p + 1..],
        None => name,
    }
}

/// One side of a directory to list.
enum Task {
    Src(Ticket, Box<Entry>),
    Dest(Ticket, PathBuf),
}

impl Task {
    fn ticket(&self) -> Ticket {
        match self {
            Task::Src(t, _) | Task::Dest(t, _) => *t,
        }
    }
}

/// What a speculative listing is filed under until the caller asks for
/// it: the source directories and the destination directory.
type SpecKey = (PathBuf, Vec<PathBuf>, Option<PathBuf>);

/// What the threads produced for a ticket so far.
struct Slot {
    src: Option<Listing>,
    /// `None` while pending; stays `None` when not requested.
    dest: Option<Result<DirListing, Errno>>,
    want_dest: bool,
    /// A thread took one of its tasks: it counts against [`AHEAD`].
    started: bool,
    /// Entries listed so far (they count against [`AHEAD_ENTRIES`]).
    entries: usize,
    /// The destination directory listed, for the subdirectories' own.
    dest_path: Option<PathBuf>,
    /// Listed on speculation (a subdirectory of this parent) and not
    /// asked for yet: found by its key, dropped if the caller moves on.
    spec: Option<(Ticket, SpecKey)>,
    /// Dropped while a thread was still listing it.
    discarded: bool,
    /// Its tasks being listed right now.
    running: u8,
    /// Its tasks still in the queue: the queue is searched for them only
    /// when there are some (a directory of 20,000 subdirectories queues
    /// 40,000 tasks).
    queued: u8,
}

impl Slot {
    fn new(dest_path: Option<PathBuf>, spec: Option<(Ticket, SpecKey)>) -> Slot {
        Slot {
            src: None,
            dest: None,
            want_dest: dest_path.is_some(),
            started: false,
            entries: 0,
            dest_path,
            spec,
            discarded: false,
            running: 0,
            queued: 0,
        }
    }

    fn complete(&self) -> bool {
        self.src.is_some() && (!self.want_dest || self.dest.is_some())
    }
}

/// State shared by the caller and the listing threads.
#[derive(Default)]
struct State {
    /// Tasks not taken yet, in the order the walk will need them
    /// (depth first: a directory's subdirectories go before the rest).
    queue: VecDeque<Task>,
    slots: HashMap<Ticket, Slot>,
    /// Tickets started and not yet collected.
    ahead: usize,
    /// Entries listed for those tickets so far.
    ahead_entries: usize,
    /// The ticket the caller waits for: taken even when [`AHEAD`] is
    /// reached, and the only one whose completion wakes the caller.
    urgent: Option<Ticket>,
    /// Listing threads asleep, waiting for work (wake-ups cost a
    /// syscall each: only made when someone sleeps).
    idle: usize,
    closed: bool,
    next: Ticket,
    /// Speculative tickets by key, and by parent.
    spec: HashMap<SpecKey, Ticket>,
    spec_children: HashMap<Ticket, Vec<Ticket>>,
}

struct Shared {
    state: std::sync::Mutex<State>,
    /// Signals the threads: work queued, room made, or closing.
    work: std::sync::Condvar,
    /// Signals the caller: a task finished.
    done: std::sync::Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A listing thread cannot panic while holding the lock (it only
        // moves values in and out), so poisoning only follows a panic
        // elsewhere; the state is still consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Helper threads that list directories ahead of the walk. Each
/// directory is two tasks, its source and its destination side, so two
/// threads can work on the directory the walk needs next and hand it over
/// sooner. Tasks wait in walk order; the threads stop taking new ones
/// when [`AHEAD`] directories (or [`AHEAD_ENTRIES`] entries) are listed
/// but not yet collected, so memory stays bounded however wide the tree
/// is.
pub(crate) struct Scanner {
    shared: std::sync::Arc<Shared>,
    /// Started at the first request (see [`Scanner::spawn`]).
    threads: Vec<JoinHandle<()>>,
    /// Whether the threads were started (a run that lists no directory
    /// never starts them).
    spawned: bool,
    /// The directory collected last: once the caller has asked for its
    /// subdirectories, the speculative ones it did not ask for go.
    last_collected: Option<Ticket>,
    /// Requested since the last collect: they go to the front of the
    /// queue together, in order, when the caller next waits.
    batch: Vec<Task>,
    /// `-m` needs the walker's own look-ahead cache: list on the caller.
    serial: bool,
    /// For the listings the caller makes itself.
    cfg: WalkConfig,
    /// What the destination listings are for.
    dest_need: DestNeed,
}

/// Directories listed ahead of the walk at most, and entries in them: the
/// threads keep going while both are below. On the 100k-file tree, 128
/// directories ahead keep both cores busier than 32 (0.37 s against
/// 0.43 s for a no-change run, 12 MiB peak RSS against 9); the entry
/// budget keeps trees of huge directories from holding many of them.
const AHEAD: usize = 128;
const AHEAD_ENTRIES: usize = 32 * 1024;

/// Listing threads: one per core besides the caller's, which lists too
/// when it would otherwise wait. More threads than cores only add
/// hand-offs (measured: three threads on two cores are 20-30% slower
/// than two on a no-change re-sync); past a few, the kernel's stat path
/// is shared anyway.
fn threads_wanted() -> usize {
    let cores = crate::sys::cores();
    cores.saturating_sub(1).clamp(1, 3)
}

fn worker(shared: &Shared, cfg: &WalkConfig, need: DestNeed) {
    let mut st = shared.lock();
    loop {
        let front = st.queue.front().map(Task::ticket);
        let take = front.is_some_and(|t| {
            st.urgent == Some(t) || st.has_room() || st.slots.get(&t).is_some_and(|s| s.started)
        });
        let Some(t) = front.filter(|_| take) else {
            if st.closed {
                return;
            }
            st.idle += 1;
            st = shared
                .work
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            st.idle -= 1;
            continue;
        };
        let Some(task) = st.take(0) else {
            continue;
        };
        st.start(t);
        drop(st);
        let result = run(cfg, need, task);
        st = shared.lock();
        if st.store(t, result) {
            shared.done.notify_one();
        }
        if st.idle > 0 && !st.queue.is_empty() {
            shared.work.notify_one();
        }
    }
}

/// One side of a directory, listed.
enum Side {
    Src(Listing),
    Dest(Result<DirListing, Errno>),
}

/// Lists one side of a directory (on a listing thread, or on the caller
/// as it waits, when none could be started).
fn run(cfg: &WalkConfig, need: DestNeed, task: Task) -> Side {
    match task {
        Task::Src(_, dir) => Side::Src(list_detached(cfg, &dir)),
        Task::Dest(_, path) => Side::Dest(list_dir_with(&path, false, need.lean_over(false))),
    }
}

impl State {
    /// Queues `task` first.
    fn push_front(&mut self, task: Task) {
        if let Some(slot) = self.slots.get_mut(&task.ticket()) {
            slot.queued += 1;
        }
        self.queue.push_front(task);
    }

    /// Takes the task at `i` out of the queue.
    fn take(&mut self, i: usize) -> Option<Task> {
        let task = self.queue.remove(i)?;
        if let Some(slot) = self.slots.get_mut(&task.ticket()) {
            slot.queued -= 1;
        }
        Some(task)
    }

    /// Where a queued task of `t` is, if any.
    fn queued_task(&self, t: Ticket) -> Option<usize> {
        if self.slots.get(&t).is_none_or(|s| s.queued == 0) {
            return None;
        }
        self.queue.iter().position(|task| task.ticket() == t)
    }

    /// Whether another directory may be started ahead of the walk.
    fn has_room(&self) -> bool {
        self.ahead < AHEAD && self.ahead_entries < AHEAD_ENTRIES
    }

    /// Notes that a task of `t` was taken: the ticket now counts
    /// against [`AHEAD`].
    fn start(&mut self, t: Ticket) {
        if let Some(slot) = self.slots.get_mut(&t) {
            slot.running += 1;
            if !slot.started {
                slot.started = true;
                self.ahead += 1;
            }
        }
    }

    /// Stores what a task produced; whether the caller waits for it.
    /// A directory complete with both sides queues its subdirectories on
    /// speculation (see [`State::speculate`]).
    fn store(&mut self, t: Ticket, result: Side) -> bool {
        let urgent = self.urgent == Some(t);
        let Some(slot) = self.slots.get_mut(&t) else {
            return false;
        };
        slot.running -= 1;
        if slot.discarded {
            if slot.running == 0 {
                self.remove(t);
            }
            return false;
        }
        match result {
            Side::Src(l) => {
                slot.entries += l.entries.len();
                self.ahead_entries += l.entries.len();
                slot.src = Some(l);
            }
            Side::Dest(d) => {
                let n = d.as_ref().map_or(0, DirListing::len);
                slot.entries += n;
                self.ahead_entries += n;
                slot.dest = Some(d);
            }
        }
        if !slot.complete() {
            return false;
        }
        self.speculate(t);
        urgent
    }

    /// Takes a ticket's slot out, giving back its place in the look-ahead.
    fn remove(&mut self, t: Ticket) -> Option<Slot> {
        let slot = self.slots.remove(&t)?;
        self.ahead_entries -= slot.entries;
        if slot.started {
            self.ahead -= 1;
        }
        Some(slot)
    }

    /// The walk descends into a listed directory's subdirectories next,
    /// but asks for them only once it has handled the directory's
    /// entries; until then the threads would run out of work. So the
    /// subdirectories are queued at once, each with the destination
    /// directory the walk would ask for (the listed one, if it holds a
    /// directory of that name), and handed over when the walk asks for
    /// exactly that pair.
    fn speculate(&mut self, t: Ticket) {
        let Some(slot) = self.slots.get(&t) else {
            return;
        };
        let (Some(src), dest_path) = (&slot.src, &slot.dest_path) else {
            return;
        };
        let listed = match &slot.dest {
            Some(Ok(l)) => Some(l),
            _ => None,
        };
        let subdirs: Vec<(Entry, Option<PathBuf>)> = src
            .entries
            .iter()
            .filter(|e| e.is_dir())
            .map(|e| {
                let base = base_of(&e.name);
                let dest = match (dest_path, listed) {
                    (Some(d), Some(l))
                        if l.get(base)
                            .is_some_and(|st| st.kind() == crate::sys::Kind::Dir) =>
                    {
                        Some(d.join(crate::sys::path_from(base)))
                    }
                    _ => None,
                };
                (e.clone(), dest)
            })
            .collect();
        let mut tasks = Vec::new();
        for (e, dest) in subdirs {
            let key: SpecKey = (e.src().into_owned(), e.more_srcs().to_vec(), dest.clone());
            if self.spec.contains_key(&key) {
                continue;
            }
            let k = self.next;
            self.next += 1;
            if let Some(d) = &dest {
                tasks.push(Task::Dest(k, d.clone()));
            }
            tasks.push(Task::Src(k, Box::new(e)));
            self.spec.insert(key.clone(), k);
            self.slots.insert(k, Slot::new(dest, Some((t, key))));
            self.spec_children.entry(t).or_default().push(k);
        }
        for task in tasks.into_iter().rev() {
            self.push_front(task);
        }
    }

    /// Drops the speculative subdirectories of `t` nobody asked for,
    /// and theirs in turn.
    fn drop_unclaimed(&mut self, t: Ticket) {
        let mut todo = self.spec_children.remove(&t).unwrap_or_default();
        let mut unqueue = std::collections::HashSet::new();
        while let Some(k) = todo.pop() {
            let Some(slot) = self.slots.get_mut(&k) else {
                continue;
            };
            let Some((_, key)) = slot.spec.take() else {
                // Claimed by the caller meanwhile.
                continue;
            };
            self.spec.remove(&key);
            todo.extend(self.spec_children.remove(&k).unwrap_or_default());
            // Its queued sides go; one being listed is thrown away when
            // it is done.
            if slot.queued > 0 {
                unqueue.insert(k);
                slot.queued = 0;
            }
            if slot.running == 0 {
                self.remove(k);
            } else {
                slot.discarded = true;
            }
        }
        if !unqueue.is_empty() {
            self.queue.retain(|task| !unqueue.contains(&task.ticket()));
        }
    }
}

impl Scanner {
    pub(crate) fn start(cfg: WalkConfig, dest_need: DestNeed) -> Scanner {
        let serial = cfg.prune;
        let shared = std::sync::Arc::new(Shared {
            state: std::sync::Mutex::new(State::default()),
            work: std::sync::Condvar::new(),
            done: std::sync::Condvar::new(),
        });
        Scanner {
            shared,
            threads: Vec::new(),
            spawned: false,
            last_collected: None,
            batch: Vec::new(),
            serial,
            cfg,
            dest_need,
        }
    }

    /// Whether listings may be asked for (else list on the caller): not
    /// with `-m`, nor when no helper thread could be started.
    pub(crate) fn available(&self) -> bool {
        !self.serial && (!self.spawned || !self.threads.is_empty())
    }

    /// Starts the helper threads, once, when the first listing is asked
    /// for: a run of single files (or of one directory with no
    /// subdirectories) never pays for them. Tasks queued while none could
    /// be started are done by the caller as it waits (see `collect`).
    fn spawn(&mut self) {
        if self.spawned {
            return;
        }
        self.spawned = true;
        for i in 0..threads_wanted() {
            let shared = self.shared.clone();
            let (cfg, need) = (self.cfg.clone(), self.dest_need);
            if let Ok(t) = std::thread::Builder::new()
                .name(format!("arsync-list-{i}"))
                .spawn(move || worker(&shared, &cfg, need))
            {
                self.threads.push(t);
            }
        }
    }

    /// Asks for the listing of source directory `dir` and, if `dest` is
    /// given, of that destination directory.
    pub(crate) fn request(&mut self, dir: &Entry, dest: Option<&Path>) -> Ticket {
        let shared = self.shared.clone();
        let mut st = shared.lock();
        let key: SpecKey = (
            dir.src().into_owned(),
            dir.more_srcs().to_vec(),
            dest.map(Path::to_path_buf),
        );
        if let Some(t) = st.spec.remove(&key) {
            if let Some(slot) = st.slots.get_mut(&t) {
                slot.spec = None;
            }
            return t;
        }
        let t = st.next;
        st.next += 1;
        drop(st);
        self.batch.push(Task::Src(t, Box::new(dir.clone())));
        if let Some(d) = dest {
            self.batch.push(Task::Dest(t, d.to_path_buf()));
        }
        t
    }

    /// Puts the requests made since the last call at the front of the
    /// queue: the subdirectories of the directory being handled come
    /// before anything requested earlier, as the walk reaches them.
    fn flush(&mut self, st: &mut State) {
        if let Some(p) = self.last_collected.take() {
            st.drop_unclaimed(p);
        }
        if self.batch.is_empty() {
            return;
        }
        self.spawn();
        for task in self.batch.drain(..).rev() {
            let slot = st
                .slots
                .entry(task.ticket())
                .or_insert_with(|| Slot::new(None, None));
            if let Task::Dest(_, d) = &task {
                slot.want_dest = true;
                slot.dest_path = Some(d.clone());
            }
            st.push_front(task);
        }
        if st.idle > 0 {
            self.shared.work.notify_all();
        }
    }

    /// Collects both listings of a ticket, waiting for them. The
    /// destination side is `None` when it was not requested; both are
    /// `None` if the ticket is unknown.
    pub(crate) fn collect(
        &mut self,
        t: Ticket,
    ) -> (Option<Listing>, Option<Result<DirListing, Errno>>) {
        let shared = self.shared.clone();
        let mut st = shared.lock();
        self.flush(&mut st);
        // Needed now: its tasks may be taken even when the look-ahead is
        // full, and the caller does any that no thread has taken yet
        // rather than sleep.
        st.urgent = Some(t);
        if st.idle > 0 && st.queued_task(t).is_some() {
            shared.work.notify_all();
        }
        while st.slots.get(&t).is_some_and(|s| !s.complete()) {
            // Its own tasks first; else, while the threads finish it, the
            // next one in walk order (within the look-ahead).
            let mine = st.queued_task(t);
            let next = mine.or_else(|| {
                let k = st.queue.front()?.ticket();
                let started = st.slots.get(&k).is_some_and(|s| s.started);
                (started || st.has_room()).then_some(0)
            });
            if let Some(task) = next.and_then(|i| st.take(i)) {
                let k = task.ticket();
                st.start(k);
                drop(st);
                let result = run(&self.cfg, self.dest_need, task);
                st = shared.lock();
                st.store(k, result);
                if st.idle > 0 && !st.queue.is_empty() {
                    shared.work.notify_one();
                }
                continue;
            }
            st = shared
                .done
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        st.urgent = None;
        let Some(slot) = st.remove(t) else {
            return (None, None);
        };
        self.last_collected = Some(t);
        if st.idle > 0 {
            shared.work.notify_one();
        }
        (slot.src, slot.dest)
    }

    /// Drops a request whose listing turned out not to be needed.
    pub(crate) fn cancel(&mut self, t: Ticket) {
        let shared = self.shared.clone();
        let mut st = shared.lock();
        self.flush(&mut st);
        if st.slots.get(&t).is_some_and(|s| !s.started) {
            st.queue.retain(|task| task.ticket() != t);
            st.slots.remove(&t);
            return;
        }
        drop(st);
        // Already with the threads: take the results and drop them.
        let _ = self.collect(t);
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        {
            let mut st = self.shared.lock();
            st.queue.clear();
            st.closed = true;
        }
        self.shared.work.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_with_lstat() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("f"), b"abc").unwrap();
        std::os::unix::fs::symlink("nowhere", tmp.path().join("l")).unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        let mut scanner = Scanner::start(
            WalkConfig {
                links: true,
                xfer_dirs: true,
                prune: false,
                ..WalkConfig::default()
            },
            DestNeed::Whole,
        );
        let dir = Entry::new(
            b".".to_vec(),
            crate::sys::lstat(tmp.path()).unwrap(),
            tmp.path().to_path_buf(),
        );
        let t = scanner.request(&dir, Some(tmp.path()));
        let (src, dest) = scanner.collect(t);
        assert_eq!(src.unwrap().entries.len(), 3);
        let l = dest.unwrap().unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l.get(b"f").unwrap().size, 3);
        assert_eq!(l.get(b"l").unwrap().kind(), crate::sys::Kind::Symlink);
        assert!(l.get(b"missing").is_none());
        assert!(list_dir(&tmp.path().join("nope")).is_err());
    }

    #[test]
    fn a_lean_listing_keeps_only_our_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        for n in ["a", "b", "c", "d", ".e.ABCDEF"] {
            std::fs::write(tmp.path().join(n), b"x").unwrap();
        }
        let ours = crate::tempname::temp_name(tmp.path(), b"f");
        std::fs::write(&ours, b"t").unwrap();
        let ours = ours.file_name().unwrap().as_encoded_bytes().to_vec();
        // Under the limit: the whole listing.
        let l = list_dir_with(tmp.path(), false, 6).unwrap();
        assert!(!l.is_lean());
        assert_eq!(l.len(), 6);
        // Past it: only our temp file, with its status.
        let l = list_dir_with(tmp.path(), false, 2).unwrap();
        assert!(l.is_lean());
        assert_eq!(l.len(), 1);
        assert_eq!(l.get(&ours).unwrap().size, 1);
        assert!(l.get(b"a").is_none());
        let temps: Vec<_> = l
            .our_temps()
            .map(|(n, f)| (n.to_vec(), f.to_vec()))
            .collect();
        assert_eq!(temps, vec![(ours, b"f".to_vec())]);
    }

    #[test]
    fn a_listing_for_temps_only_stats_no_other_name() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a"), b"x").unwrap();
        let ours = crate::tempname::temp_name(tmp.path(), b"a");
        std::fs::write(&ours, b"t").unwrap();
        // On the caller: lean from the first entry, whatever the size.
        let l = list_dest_dir(tmp.path(), DestNeed::Temps).unwrap();
        assert!(l.is_lean());
        assert_eq!(l.len(), 1);
        assert!(l.get(b"a").is_none());
        let l = list_dest_dir(tmp.path(), DestNeed::Whole).unwrap();
        assert!(!l.is_lean());
        assert_eq!(l.len(), 2);
        // On a listing thread the stats overlap with the walk: lean only
        // past the bound, and never for the whole directory.
        assert_eq!(DestNeed::Temps.lean_over(false), LEAN_OVER);
        assert_eq!(DestNeed::Whole.lean_over(false), usize::MAX);
        assert_eq!(DestNeed::Whole.lean_over(true), usize::MAX);
    }

    #[test]
    fn listing_lookups_in_any_order() {
        let tmp = tempfile::tempdir().unwrap();
        let names = ["b", "a", "c.d", "c", "z9", "aa"];
        for (i, n) in names.iter().enumerate() {
            std::fs::write(tmp.path().join(n), vec![0u8; i]).unwrap();
        }
        let l = list_dir(tmp.path()).unwrap();
        assert_eq!(l.len(), names.len());
        // Sorted order (the hint's case), reversed and repeated lookups
        // all find the same sizes.
        let mut sorted = names;
        sorted.sort();
        for order in [
            sorted.to_vec(),
            sorted.iter().rev().copied().collect(),
            names.to_vec(),
        ] {
            for n in order {
                let want = names.iter().position(|x| *x == n).unwrap() as u64;
                assert_eq!(l.get(n.as_bytes()).map(|s| s.size), Some(want), "{n}");
                assert_eq!(l.get(n.as_bytes()).map(|s| s.size), Some(want), "{n} again");
            }
        }
        assert!(l.get(b"a ").is_none() && l.get(b"").is_none() && l.get(b"zz").is_none());
        // iter() is readdir order: every name once.
        let mut seen: Vec<&[u8]> = l.iter().map(|(n, _)| n).collect();
        seen.sort();
        let want: Vec<&[u8]> = sorted.iter().map(|n| n.as_bytes()).collect();
        assert_eq!(seen, want);
    }

    /// Walks `dir` (listed as `e`) depth first as the transfer does:
    /// children requested before any is collected, some skipped; each
    /// listing must be what listing it directly gives.
    fn walk(
        scanner: &mut Scanner,
        cfg: &WalkConfig,
        e: &Entry,
        dest: &Path,
        depth: usize,
    ) -> usize {
        let direct = list_detached(cfg, e);
        let subdirs: Vec<&Entry> = direct.entries.iter().filter(|c| c.is_dir()).collect();
        let tickets: Vec<(Ticket, &Entry)> = subdirs
            .iter()
            .map(|c| {
                let d = dest.join(
                    base_of(&c.name)
                        .iter()
                        .map(|&b| b as char)
                        .collect::<String>(),
                );
                (scanner.request(c, Some(&d)), *c)
            })
            .collect();
        let mut seen = 1;
        for (i, (t, c)) in tickets.into_iter().enumerate() {
            // Every third subdirectory is not descended into.
            if i % 3 == 2 {
                scanner.cancel(t);
                continue;
            }
            let (src, dl) = scanner.collect(t);
            let src = src.unwrap();
            let want: Vec<Vec<u8>> = list_detached(cfg, c)
                .entries
                .into_iter()
                .map(|x| x.name.into())
                .collect();
            let got: Vec<Vec<u8>> = src.entries.iter().map(|x| x.name.to_vec()).collect();
            assert_eq!(got, want, "depth {depth}");
            assert_eq!(dl.unwrap().unwrap().len(), src.entries.len());
            let d = dest.join(
                base_of(&c.name)
                    .iter()
                    .map(|&b| b as char)
                    .collect::<String>(),
            );
            seen += walk(scanner, cfg, c, &d, depth + 1);
        }
        seen
    }

    /// Speculative listings of subdirectories are handed over when the
    /// walk asks for them and dropped when it skips them: the walk sees
    /// the right listings and nothing is left behind.
    #[test]
    fn speculation_follows_the_walk() {
        let tmp = tempfile::tempdir().unwrap();
        fn build(d: &Path, depth: usize) {
            std::fs::create_dir_all(d).unwrap();
            for f in 0..3 {
                std::fs::write(d.join(format!("f{f}")), b"x").unwrap();
            }
            if depth < 4 {
                for s in 0..4 {
                    build(&d.join(format!("s{s}")), depth + 1);
                }
            }
        }
        build(&tmp.path().join("t"), 0);
        let cfg = WalkConfig {
            links: true,
            xfer_dirs: true,
            ..WalkConfig::default()
        };
        let mut scanner = Scanner::start(cfg.clone(), DestNeed::Whole);
        let root = tmp.path().join("t");
        let e = Entry::new(
            b".".to_vec(),
            crate::sys::lstat(&root).unwrap(),
            root.clone(),
        );
        // The tree is its own destination: every directory exists there.
        let seen = walk(&mut scanner, &cfg, &e, &root, 0);
        assert!(seen > 20, "{seen}");
        // The next request settles what the last directory left.
        scanner.cancel(u64::MAX);
        // A dropped listing a thread was still making goes when it ends.
        let t0 = std::time::Instant::now();
        while scanner.shared.lock().ahead > 0 && t0.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let st = scanner.shared.lock();
        assert!(st.queue.is_empty(), "{} queued", st.queue.len());
        assert!(st.slots.is_empty(), "{} slots", st.slots.len());
        assert!(st.spec.is_empty() && st.spec_children.is_empty());
        assert_eq!((st.ahead, st.ahead_entries), (0, 0));
    }

    /// Many directories, more than the look-ahead: every ticket is
    /// collected with its own listings whatever the order, cancelled
    /// ones included, and nothing hangs.
    #[test]
    fn tickets_beyond_the_window() {
        let tmp = tempfile::tempdir().unwrap();
        let n = AHEAD * 3;
        let mut scanner = Scanner::start(
            WalkConfig {
                links: true,
                xfer_dirs: true,
                ..WalkConfig::default()
            },
            DestNeed::Whole,
        );
        let mut tickets = Vec::new();
        for i in 0..n {
            let d = tmp.path().join(format!("d{i}"));
            std::fs::create_dir(&d).unwrap();
            for k in 0..=i % 5 {
                std::fs::write(d.join(format!("f{k}")), b"x").unwrap();
            }
            let dir = Entry::new(b".".to_vec(), crate::sys::lstat(&d).unwrap(), d.clone());
            let dest = (i % 2 == 0).then_some(d.as_path());
            tickets.push((i, scanner.request(&dir, dest)));
        }
        // Out of order: the last ones first, every third cancelled.
        tickets.reverse();
        for (i, t) in tickets {
            if i % 3 == 0 {
                scanner.cancel(t);
                continue;
            }
            let (src, dest) = scanner.collect(t);
            assert_eq!(src.unwrap().entries.len(), i % 5 + 1, "d{i}");
            match dest {
                Some(l) => {
                    assert!(i % 2 == 0);
                    assert_eq!(l.unwrap().len(), i % 5 + 1);
                }
                None => assert!(i % 2 == 1),
            }
        }
        let st = scanner.shared.lock();
        assert!(st.queue.is_empty() && st.slots.is_empty());
        assert_eq!((st.ahead, st.ahead_entries), (0, 0));
        assert!(st.spec.is_empty() && st.spec_children.is_empty());
    }
}
