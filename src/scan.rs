//! Directory listings made on helper threads: the source directory being
//! entered on one, the matching destination directory on another.
//!
//! On a re-sync every source entry needs the status of its destination
//! counterpart; listing both sides at once (getdents + fstatat relative to
//! the directory, no path walks), each on its own thread, roughly halves
//! the wall time of a no-change run on two cores. The destination listing
//! also tells `--delete` what is extraneous.

use std::collections::{HashMap, VecDeque};
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rustix::fs::{AtFlags, Mode, OFlags};
use rustix::io::Errno;

use crate::sys::Stat;
use crate::walk::{Entry, Listing, WalkConfig, list_detached};

/// The entries of one destination directory, by name, with their
/// position in readdir order.
#[derive(Debug, Default)]
pub struct DirListing {
    entries: HashMap<Box<[u8]>, (u32, Stat)>,
}

impl DirListing {
    /// The status of `name` (a plain name, no slash), if present.
    pub fn get(&self, name: &[u8]) -> Option<Stat> {
        self.entries.get(name).map(|(_, st)| *st)
    }

    /// All names and their status in the order the directory listed them
    /// (rsync's receiver looks at them in that order, which shows in its
    /// `-vv` filter lines).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Stat)> {
        let mut v: Vec<(&[u8], &(u32, Stat))> =
            self.entries.iter().map(|(k, v)| (k.as_ref(), v)).collect();
        v.sort_unstable_by_key(|(_, (i, _))| *i);
        v.into_iter().map(|(k, (_, st))| (k, st))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Lists `dir` (not following a final symlink): every entry with its lstat.
pub fn list_dir(dir: &Path) -> Result<DirListing, Errno> {
    list_dir_with(dir, OFlags::NOFOLLOW)
}

/// [`list_dir`] of what a symlink at `dir` points to (`-K`: a symlink to
/// a directory stands for it).
pub fn list_dir_following(dir: &Path) -> Result<DirListing, Errno> {
    list_dir_with(dir, OFlags::empty())
}

fn list_dir_with(dir: &Path, extra: OFlags) -> Result<DirListing, Errno> {
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | extra,
        Mode::empty(),
    )?;
    let mut it = rustix::fs::Dir::read_from(&fd)?;
    let mut entries = HashMap::new();
    while let Some(item) = it.read() {
        let item = item?;
        let name: &CStr = item.file_name();
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        match rustix::fs::statat(&fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let i = entries.len() as u32;
                entries.insert(Box::from(bytes), (i, Stat::from(st)));
            }
            // Gone since readdir: it does not exist any more.
            Err(Errno::NOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(DirListing { entries })
}

/// Identifies a prefetch request.
pub type Ticket = u64;

/// Two helper threads that list directories ahead of the walk: source
/// directories (as the walker would) on one, destination directories on
/// the other. Requests beyond a small window wait in a local queue, so
/// memory stays bounded however wide the tree is.
pub struct Scanner {
    src_tx: Option<flume::Sender<(Ticket, Entry)>>,
    src_rx: mpsc::Receiver<(Ticket, Listing)>,
    dest_tx: Option<flume::Sender<(Ticket, PathBuf)>>,
    dest_rx: mpsc::Receiver<(Ticket, Result<DirListing, Errno>)>,
    threads: Vec<JoinHandle<()>>,
    next: Ticket,
    /// Requested but not yet handed to the threads.
    queued: VecDeque<(Ticket, Entry, Option<PathBuf>)>,
    /// Handed to the threads and not yet collected.
    in_flight: usize,
    src_done: HashMap<Ticket, Listing>,
    dest_done: HashMap<Ticket, Result<DirListing, Errno>>,
    /// Tickets whose destination side was requested.
    wants_dest: HashMap<Ticket, bool>,
    /// `-m` needs the walker's own look-ahead cache: list on the caller.
    serial: bool,
}

/// Directories listed ahead at most.
const WINDOW: usize = 16;

impl Scanner {
    pub fn start(cfg: WalkConfig) -> Scanner {
        let serial = cfg.prune;
        let (src_tx, src_jobs) = flume::unbounded::<(Ticket, Entry)>();
        let (src_done, src_rx) = mpsc::channel();
        let (dest_tx, dest_jobs) = flume::unbounded::<(Ticket, PathBuf)>();
        let (dest_done, dest_rx) = mpsc::channel();
        let mut threads = Vec::new();
        // Source listing is the heavier side (it also builds entries);
        // give it two threads.
        for i in 0..2 {
            let jobs = src_jobs.clone();
            let done = src_done.clone();
            let cfg = cfg.clone();
            if let Ok(t) = std::thread::Builder::new()
                .name(format!("arsync-list-{i}"))
                .spawn(move || {
                    while let Ok((t, dir)) = jobs.recv() {
                        if done.send((t, list_detached(&cfg, &dir))).is_err() {
                            break;
                        }
                    }
                })
            {
                threads.push(t);
            }
        }
        let src_ok = !threads.is_empty();
        let dest_ok = std::thread::Builder::new()
            .name("arsync-scan".into())
            .spawn(move || {
                while let Ok((t, dir)) = dest_jobs.recv() {
                    if dest_done.send((t, list_dir(&dir))).is_err() {
                        break;
                    }
                }
            })
            .map(|t| threads.push(t))
            .is_ok();
        Scanner {
            src_tx: src_ok.then_some(src_tx),
            src_rx,
            dest_tx: dest_ok.then_some(dest_tx),
            dest_rx,
            threads,
            next: 0,
            queued: VecDeque::new(),
            in_flight: 0,
            src_done: HashMap::new(),
            dest_done: HashMap::new(),
            wants_dest: HashMap::new(),
            serial,
        }
    }

    /// Whether the helper threads are running (else list on the caller).
    pub fn available(&self) -> bool {
        self.src_tx.is_some() && self.dest_tx.is_some() && !self.serial
    }

    /// Asks for the listing of source directory `dir` and, if `dest` is
    /// given, of that destination directory.
    pub fn request(&mut self, dir: &Entry, dest: Option<&Path>) -> Ticket {
        let t = self.next;
        self.next += 1;
        self.wants_dest.insert(t, dest.is_some());
        self.queued
            .push_back((t, dir.clone(), dest.map(Path::to_path_buf)));
        self.pump();
        t
    }

    /// Sends speculative requests while the window has room.
    fn pump(&mut self) {
        while self.in_flight < WINDOW {
            let Some((t, dir, dest)) = self.queued.pop_front() else {
                break;
            };
            self.send(t, dir, dest);
        }
    }

    /// Collects both listings of a ticket, waiting for them. The
    /// destination side is `None` when it was not requested or failed.
    pub fn collect(&mut self, t: Ticket) -> (Option<Listing>, Option<Result<DirListing, Errno>>) {
        // Needed now: if it is still waiting for a place in the window,
        // send it ahead of the speculative ones.
        if let Some(pos) = self.queued.iter().position(|(q, _, _)| *q == t)
            && let Some((t, dir, dest)) = self.queued.remove(pos)
        {
            self.send(t, dir, dest);
        }
        let want_dest = self.wants_dest.remove(&t).unwrap_or(false);
        while !self.src_done.contains_key(&t) {
            if !self.receive_src() {
                break;
            }
        }
        while want_dest && !self.dest_done.contains_key(&t) {
            if !self.receive_dest() {
                break;
            }
        }
        let src = self.src_done.remove(&t);
        let dest = self.dest_done.remove(&t);
        self.in_flight = self.in_flight.saturating_sub(1);
        self.pump();
        (src, dest)
    }

    /// Drops a request whose listing turned out not to be needed.
    pub fn cancel(&mut self, t: Ticket) {
        if let Some(pos) = self.queued.iter().position(|(q, _, _)| *q == t) {
            self.queued.remove(pos);
            self.wants_dest.remove(&t);
        } else {
            // Already with the threads: take the results and drop them.
            let _ = self.collect(t);
        }
    }

    fn send(&mut self, t: Ticket, dir: Entry, dest: Option<PathBuf>) {
        if let Some(tx) = &self.src_tx {
            let _ = tx.send((t, dir));
        }
        if let (Some(tx), Some(d)) = (&self.dest_tx, dest) {
            let _ = tx.send((t, d));
        }
        self.in_flight += 1;
    }

    fn receive_src(&mut self) -> bool {
        match self.src_rx.recv() {
            Ok((t, l)) => {
                self.src_done.insert(t, l);
                true
            }
            Err(_) => false,
        }
    }

    fn receive_dest(&mut self) -> bool {
        match self.dest_rx.recv() {
            Ok((t, l)) => {
                self.dest_done.insert(t, l);
                true
            }
            Err(_) => false,
        }
    }
}

impl Drop for Scanner {
    fn drop(&mut self) {
        self.src_tx = None;
        self.dest_tx = None;
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
        let mut scanner = Scanner::start(WalkConfig {
            links: true,
            xfer_dirs: true,
            prune: false,
            recursive: true,
            ..WalkConfig::default()
        });
        let dir = crate::walk::Entry {
            name: b".".to_vec(),
            stat: crate::sys::lstat(tmp.path()).unwrap(),
            link: None,
            src: tmp.path().to_path_buf(),
            more_srcs: Vec::new(),
            via_link: None,
            listed_ids: None,
            filters: None,
            preset: None,
            implied: false,
        };
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
}
