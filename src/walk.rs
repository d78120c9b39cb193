//! The sender's file list (rsync's "flist"): what the command-line sources
//! name, and what each source directory contains, in rsync's order.
//!
//! Directories are listed one at a time, when the transfer reaches them, so
//! memory follows the depth of the tree rather than its size (rsync's
//! incremental recursion does the same). Within a directory rsync sorts
//! non-directories first, then directories, each group by raw bytes; a
//! directory's own listing follows its line in the output.

use std::borrow::Cow;
use std::ffi::{CStr, OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sys::Errno;

use crate::filter::{FilterError, FilterList, FilterStack};
use crate::name::Name;
use crate::options::{MissingArgs, Options};
use crate::sys::{self, Kind, Stat};

/// One item of the transfer.
///
/// A listing holds one per name, so the common case is kept small (a
/// directory of 200,000 files is 200,000 of these at once): what only
/// symlinks, merged sources, `-R` and `-m` need lives in [`Rare`], boxed,
/// and is absent for a plain file.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Path relative to the transfer root as rsync shows it (`sub/file`);
    /// `.` for a directory whose contents were named (`src/`).
    pub name: Name,
    pub stat: Stat,
    /// The directory the item is read in (see [`Entry::src`]); `None`:
    /// its whole path is [`Rare::src`].
    dir: Option<Arc<Path>>,
    /// The fields few entries have (`None`: all of them empty).
    pub rare: Option<Box<Rare>>,
}

// Where an entry is read from: a listed entry's path is its directory's
// path and its name. The directory's path is shared by all its entries
// (one `Arc` per listing) instead of a full path per entry, which was the
// largest allocation of a huge directory's listing (~96 bytes for each of
// its 200,000 names).

/// The last component of a (relative, `/`-separated) name.
fn last_component(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'/') {
        Some(p) => &name[p + 1..],
        None => name,
    }
}

/// `dir/base` (`base` alone in `""`, no second `/` after `/`).
fn joined(dir: &[u8], base: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(dir.len() + 1 + base.len());
    p.extend_from_slice(dir);
    if !p.is_empty() && !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(base);
    p
}

/// The parts of an [`Entry`] that most entries do not have.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rare {
    /// Where to read the item, when that is not its directory's path
    /// and its name (`-L`'s real paths, `src/.`, `a//b`).
    pub src: Option<PathBuf>,
    /// Symlink target, read only when symlinks are preserved.
    pub link: Option<Vec<u8>>,
    /// Further source directories merged into this one (several sources
    /// contributing the same directory name, e.g. `a/ b/`).
    pub more_srcs: Vec<PathBuf>,
    /// `-L`, `--copy-unsafe-links`: the symlink a regular file was listed
    /// through (`src` is then the file's real path). rsync reads the
    /// xattrs of the listed path without following it, so `-X` reads
    /// them here.
    pub via_link: Option<PathBuf>,
    /// The owner and group as the sender listed them, when `--usermap`,
    /// `--groupmap` or `--chown` changed them in `stat` (rsync's `%U` and
    /// `%G` show the listed ones).
    pub listed_ids: Option<(u32, u32)>,
    /// `-R`: a directory sent only because a named path lies below it
    /// (rsync's FLAG_IMPLIED_DIR); `--no-implied-dirs` leaves it alone.
    pub implied: bool,
    /// `-m`: directories pruned right after this entry's subtree (before
    /// the next entry kept), counted there as rsync's sender lists them.
    pub pruned_after: u32,
    /// `-m`, a directory: its pruned subdirectories that come before its
    /// first kept entry, counted right after it.
    pub pruned_lead: u32,
    /// `--iconv`: the name as the sender lists it, where the receiver's
    /// (`Entry::name`) differs. Item lines show it, children are named
    /// from it, and the sender's filters match it.
    pub local_name: Option<Vec<u8>>,
    /// `--iconv`: the symlink target as read, where the receiver's differs.
    pub local_link: Option<Vec<u8>>,
    /// A directory's own parts (see [`DirPart`]).
    pub dir_part: DirPart,
}

/// What only a directory (or a named source) carries, kept out of the
/// [`Entry`] itself so that the 200,000 files of a huge listing do not
/// pay 16 bytes each for it.
#[derive(Clone, Debug, Default)]
pub(crate) struct DirPart {
    /// The sender's filter rules in effect in the directory holding this
    /// entry (`None` without filters); a directory's own per-directory
    /// merge files are read from it when it is listed. Only directories
    /// keep them: they are what its listing starts from.
    pub filters: Option<FilterStack>,
    /// A directory whose listing is known before the walk reaches it.
    pub preset: Option<std::sync::Arc<Preset>>,
}

impl Rare {
    /// Boxed, or nothing when every field is empty.
    fn boxed(self) -> Option<Box<Rare>> {
        (!self.is_empty()).then(|| Box::new(self))
    }

    /// Whether every field is empty (each is named, so that a new one
    /// cannot be forgotten here).
    fn is_empty(&self) -> bool {
        let Rare {
            src,
            link,
            more_srcs,
            via_link,
            listed_ids,
            implied,
            pruned_after,
            pruned_lead,
            local_name,
            local_link,
            dir_part: DirPart { filters, preset },
        } = self;
        src.is_none()
            && link.is_none()
            && more_srcs.is_empty()
            && via_link.is_none()
            && listed_ids.is_none()
            && !implied
            && *pruned_after == 0
            && *pruned_lead == 0
            && local_name.is_none()
            && local_link.is_none()
            && filters.is_none()
            && preset.is_none()
    }
}

/// A directory listing made before the walk reaches the directory.
#[derive(Debug, Default)]
pub(crate) struct Preset {
    /// The whole listing, sorted.
    pub entries: Vec<Entry>,
    /// Read from disk (rsync's FLAG_CONTENT_DIR): deletions happen in it.
    /// Without it the directory's contents are not read: `-x`'s mount
    /// points have none, `-R`'s implied directories hold the named paths
    /// below them, and nothing is deleted inside.
    pub content: bool,
}

impl Preset {
    /// A listing that is not the directory's contents.
    pub(crate) fn named(entries: Vec<Entry>) -> std::sync::Arc<Preset> {
        Preset::new(entries, false)
    }

    /// The directory's contents, read ahead (with any paths named below
    /// it merged in).
    pub(crate) fn listed(entries: Vec<Entry>) -> std::sync::Arc<Preset> {
        Preset::new(entries, true)
    }

    pub(crate) fn new(entries: Vec<Entry>, content: bool) -> std::sync::Arc<Preset> {
        std::sync::Arc::new(Preset { entries, content })
    }
}

impl Entry {
    /// Whether the directory's own contents are listed (rsync's
    /// FLAG_CONTENT_DIR): deletions happen in it.
    pub(crate) fn is_content_dir(&self) -> bool {
        self.preset().is_none_or(|p| p.content)
    }

    /// An entry with no link target, merged sources or preset listing.
    pub(crate) fn new(name: impl Into<Name>, stat: Stat, src: PathBuf) -> Entry {
        let mut e = Entry {
            name: name.into(),
            stat,
            dir: None,
            rare: None,
        };
        // Its directory's path, where joining it with the name gives the
        // same path back; else the whole path.
        let b = src.as_os_str().as_bytes();
        let base = last_component(e.local_name());
        let dir = match b.strip_suffix(base) {
            Some([]) => Some(&b[..0]),
            Some([b'/']) => Some(&b[..1]),
            Some([d @ .., b'/']) if !base.is_empty() => Some(d),
            _ => None,
        };
        if let Some(d) = dir.filter(|d| joined(d, base) == b) {
            e.dir = Some(Arc::from(Path::new(OsStr::from_bytes(d))));
        } else {
            e.rare_mut().src = Some(src);
        }
        e
    }

    /// Replaces the rare fields (the whole path read and the directory's
    /// parts stay).
    fn set_rare(&mut self, mut rare: Rare) {
        if let Some(old) = self.rare.take() {
            rare.src = old.src;
            rare.dir_part = old.dir_part;
        }
        self.rare = rare.boxed();
    }

    /// An entry listed in the directory `dir`, read at `dir/BASE` where
    /// BASE is the last component of `name`.
    fn in_dir(name: Vec<u8>, stat: Stat, dir: &Arc<Path>) -> Entry {
        Entry {
            name: name.into(),
            stat,
            dir: Some(Arc::clone(dir)),
            rare: None,
        }
    }

    /// Where to read the item.
    pub(crate) fn src(&self) -> Cow<'_, Path> {
        match (&self.dir, self.rare.as_ref().and_then(|r| r.src.as_ref())) {
            (_, Some(p)) => Cow::Borrowed(p),
            (Some(dir), None) => {
                let base = last_component(self.local_name());
                let p = joined(dir.as_os_str().as_bytes(), base);
                Cow::Owned(PathBuf::from(OsString::from_vec(p)))
            }
            (None, None) => Cow::Borrowed(Path::new("")),
        }
    }

    /// The rare fields, to change (made when absent).
    pub(crate) fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// The sender's filter rules for this directory's listing.
    pub(crate) fn filters(&self) -> Option<&FilterStack> {
        self.rare.as_ref().and_then(|r| r.dir_part.filters.as_ref())
    }

    pub(crate) fn set_filters(&mut self, filters: Option<FilterStack>) {
        match filters {
            Some(f) => self.rare_mut().dir_part.filters = Some(f),
            None => {
                if let Some(r) = self.rare.as_mut() {
                    r.dir_part.filters = None;
                }
            }
        }
    }

    /// A listing made before the walk reaches this directory.
    pub(crate) fn preset(&self) -> Option<&std::sync::Arc<Preset>> {
        self.rare.as_ref().and_then(|r| r.dir_part.preset.as_ref())
    }

    pub(crate) fn set_preset(&mut self, preset: std::sync::Arc<Preset>) {
        self.rare_mut().dir_part.preset = Some(preset);
    }

    pub(crate) fn take_preset(&mut self) -> Option<std::sync::Arc<Preset>> {
        self.rare.as_mut().and_then(|r| r.dir_part.preset.take())
    }

    /// Symlink target, read only when symlinks are preserved.
    pub(crate) fn link(&self) -> Option<&[u8]> {
        self.rare.as_ref().and_then(|r| r.link.as_deref())
    }

    /// Further source directories merged into this one.
    pub(crate) fn more_srcs(&self) -> &[PathBuf] {
        self.rare.as_ref().map_or(&[], |r| &r.more_srcs)
    }

    /// Every source directory this one is read from: its own, then the
    /// merged ones.
    pub(crate) fn sources(&self) -> Vec<PathBuf> {
        std::iter::once(self.src().into_owned())
            .chain(self.more_srcs().iter().cloned())
            .collect()
    }

    /// The symlink a regular file was listed through (`-L`, …).
    pub(crate) fn via_link(&self) -> Option<&Path> {
        self.rare.as_ref().and_then(|r| r.via_link.as_deref())
    }

    /// The owner and group as listed, when an id option changed them.
    pub(crate) fn listed_ids(&self) -> Option<(u32, u32)> {
        self.rare.as_ref().and_then(|r| r.listed_ids)
    }

    /// `-R`: an implied directory.
    pub(crate) fn implied(&self) -> bool {
        self.rare.as_ref().is_some_and(|r| r.implied)
    }

    /// `-m`: directories pruned right after this entry's subtree.
    pub(crate) fn pruned_after(&self) -> u32 {
        self.rare.as_ref().map_or(0, |r| r.pruned_after)
    }

    /// `-m`: pruned subdirectories before this directory's first entry.
    pub(crate) fn pruned_lead(&self) -> u32 {
        self.rare.as_ref().map_or(0, |r| r.pruned_lead)
    }

    pub(crate) fn kind(&self) -> Kind {
        self.stat.kind()
    }

    /// A `--delete-missing-args` entry: the source argument does not
    /// exist, so whatever has its name at the destination goes.
    pub(crate) fn is_missing(&self) -> bool {
        self.stat.mode == 0
    }

    pub(crate) fn is_dir(&self) -> bool {
        self.kind() == Kind::Dir
    }

    /// The size rsync adds to "total size is N": file length for regular
    /// files, target length for symlinks, nothing for the rest.
    pub(crate) fn counted_size(&self) -> u64 {
        match self.kind() {
            Kind::File | Kind::Symlink => self.stat.size,
            _ => 0,
        }
    }

    /// The name as the sender lists it (`--iconv`: before conversion).
    pub(crate) fn local_name(&self) -> &[u8] {
        self.rare
            .as_ref()
            .and_then(|r| r.local_name.as_deref())
            .unwrap_or(&self.name)
    }

    /// The symlink target as read (`--iconv`: before conversion).
    pub(crate) fn local_link(&self) -> Option<&[u8]> {
        self.rare
            .as_ref()
            .and_then(|r| r.local_link.as_deref())
            .or_else(|| self.link())
    }

    /// The sender's name of a child entry of this directory.
    pub(crate) fn child_name(&self, base: &[u8]) -> Vec<u8> {
        let name = self.local_name();
        if name == b"." {
            base.to_vec()
        } else {
            let mut n = Vec::with_capacity(name.len() + 1 + base.len());
            n.extend_from_slice(name);
            n.push(b'/');
            n.extend_from_slice(base);
            n
        }
    }
}

/// Something the walk has to tell the user, in the order it happened.
#[derive(Debug, Clone)]
pub(crate) enum Diag {
    /// A line for stdout (rsync's FINFO), e.g. `skipping directory src`.
    Info(String),
    /// An error line for stderr (`NAME: ` prefixed); marks the run as
    /// partial (exit 23) and, like rsync's IOERR_GENERAL, stops deletion.
    Error(String),
    /// The same without the `NAME: ` prefix (rsync's bare `rprintf`).
    ErrorRaw(String),
    /// An `ErrorRaw` of rsync's receiving side (`--iconv` names it cannot
    /// convert): printed once the sender's list line is done, and the
    /// entry (which rsync's sender listed) still counts in `--stats`.
    /// `generator`: its generator ends with a final line of its own too.
    Receiver {
        text: Vec<u8>,
        listed: Box<Entry>,
        generator: bool,
    },
    /// A missing source argument: exit 23, but deletion still happens
    /// (nothing that exists was left out of the list).
    MissingArg(String),
    /// A source that disappeared while listing (exit 24).
    Vanished(String),
    /// A stderr line that changes nothing else (a filter warning).
    Stderr(String),
    /// A per-directory merge file rsync would stop on (a malformed rule,
    /// an unreadable file): the run ends with its exit code.
    Fatal(FilterError),
}

/// The resolved command-line sources.
#[derive(Debug, Default)]
pub(crate) struct TopLevel {
    /// The `.` entry when a source named a directory's contents (`src/`).
    pub dot: Option<Entry>,
    /// The root listing: named sources plus the children of every `.`
    /// source, merged and sorted.
    pub entries: Vec<Entry>,
    /// `-m`: directories pruned before the first entry kept (counted
    /// first, after `.`).
    pub pruned_lead: u32,
}

/// What listing needs from the options; shared with helper threads.
#[derive(Clone, Debug, Default)]
pub(crate) struct WalkConfig {
    /// `-l`: read symlink targets.
    pub links: bool,
    /// `-r` or `-d`: directories named as sources are transferred.
    pub xfer_dirs: bool,
    /// `-m`: directories with nothing but (empty) directories below them
    /// are left out of the list.
    pub prune: bool,
    /// `--fake-super`, `--chmod`, id maps: how each listed stat is seen
    /// (`None` when no such option is given).
    pub attrs: Option<std::sync::Arc<crate::meta::RunAttrs>>,
    /// What a source argument that does not exist becomes.
    pub missing_args: MissingArgs,
    /// `-L`: every symlink is sent as what it points to.
    pub copy_links: bool,
    /// `--copy-unsafe-links`: links leaving the tree are sent as what
    /// they point to.
    pub copy_unsafe_links: bool,
    /// `-k`: a link to a directory is sent as the directory.
    pub copy_dirlinks: bool,
    /// `--munge-links`: a local transfer un-munges on the sending side.
    pub munge_links: bool,
    /// `-v` (rsync's `--info=symsafe`): say which unsafe links are copied.
    pub symsafe_info: bool,
    /// `--copy-devices`: devices are listed as regular files.
    pub copy_devices: bool,
    /// The filter rules (`None` when there are none).
    pub filters: Option<FilterList>,
    /// `--iconv`: the charsets names are converted between.
    pub iconv: Option<crate::iconv::IconvSpec>,
    /// `--iconv`: symlink targets are converted too (protocol 30 and up).
    pub iconv_links: bool,
    /// `--iconv`: the receiver's messages about names are converted to
    /// LOCAL by the printing sender (protocols 23 to 28).
    pub iconv_messages: bool,
    /// `-r`: a directory's contents are listed (a directory whose name
    /// the receiver cannot convert still has its children reported).
    pub recursive: bool,
    /// `-vv` (rsync's `--debug=filter`): name the rule that decides.
    pub filter_debug: bool,
    /// rsync's incremental recursion (the default; `--no-i-r` turns it
    /// off), which changes how merged sources share per-directory rules.
    pub inc_recurse: bool,
    /// `-x` count: 1 lists mount points as empty directories, 2 leaves
    /// them out.
    pub one_file_system: u8,
    /// rsync's INFO_MOUNT (`-vv`): say which mount points are left out.
    pub mount_info: bool,
    /// `--protocol` below 31: rsync's sender sends mtimes in whole seconds.
    pub whole_seconds: bool,
}

impl WalkConfig {
    pub(crate) fn new(opts: &Options) -> WalkConfig {
        WalkConfig {
            links: opts.links,
            xfer_dirs: opts.xfer_dirs(),
            prune: opts.prune_empty_dirs && opts.recursive(),
            attrs: None,
            missing_args: opts.missing_args,
            copy_links: opts.copy_links,
            copy_unsafe_links: opts.copy_unsafe_links,
            copy_dirlinks: opts.copy_dirlinks,
            munge_links: opts.munge_links,
            symsafe_info: opts.verbose > 0,
            copy_devices: opts.copy_devices,
            filters: None,
            iconv: opts.iconv.clone(),
            iconv_links: opts.protocol >= 30,
            iconv_messages: (23..29).contains(&opts.protocol),
            recursive: opts.recursive(),
            filter_debug: opts.verbose > 1 && opts.quiet == 0,
            inc_recurse: opts.inc_recurse(),
            one_file_system: opts.one_file_system,
            whole_seconds: opts.protocol < 31,
            mount_info: opts.info_name() > 1,
        }
    }

    /// Sees sources through the run's attribute options, where they
    /// change anything.
    pub(crate) fn set_attrs(&mut self, attrs: &std::sync::Arc<crate::meta::RunAttrs>) {
        self.attrs = attrs.adjusts_source().then(|| std::sync::Arc::clone(attrs));
    }
}

/// One directory's listing made away from the walker (on a helper
/// thread), with what the walker would have recorded.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub entries: Vec<Entry>,
    pub diags: Vec<Diag>,
    pub shadowed_size: u64,
}

/// `--copy-devices`: how rsync's sender lists a device, as a regular file
/// with the device's permissions, its size (a block device's capacity;
/// a character device has none) and the listing time, in whole seconds,
/// as its mtime: a device's own mtime says nothing about its contents.
fn device_as_file(path: &Path, mut st: Stat) -> Stat {
    if st.kind() == Kind::BlockDev
        && let Some(end) = sys::fs::block_device_size(path)
    {
        st.size = end;
    }
    st.mode = crate::sys::mode::S_IFREG | (st.mode & 0o7777);
    st.mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    st.mtime_nsec = 0;
    st
}

/// Lists `dir` (all its sources merged) on the calling thread.
pub(crate) fn list_detached(cfg: &WalkConfig, dir: &Entry) -> Listing {
    let mut w = Walker::new(cfg.clone());
    let entries = w.list(dir);
    Listing {
        entries,
        diags: w.diags,
        shadowed_size: w.shadowed_size,
    }
}

/// `-m`: what a directory's subtree holds.
#[derive(Clone, Copy, Debug)]
enum Subtree {
    /// A non-directory somewhere; `lead` subdirectories without one come
    /// before the first entry kept.
    Content { lead: u32 },
    /// No non-directory: `dirs` directories, itself included, all pruned.
    Empty { dirs: u32 },
}

/// Lists sources. Holds the diagnostics produced so far.
pub(crate) struct Walker {
    pub(crate) cfg: WalkConfig,
    /// `-m`: what each source directory's subtree was found to hold, by
    /// path (each subtree is looked at once).
    subtrees: std::collections::HashMap<PathBuf, Subtree>,
    /// `-m`: listings made to look for content, kept for the walk (a
    /// directory is read once, and what reading it says is said once).
    looked_at: std::collections::HashMap<PathBuf, Vec<Entry>>,
    pub diags: Vec<Diag>,
    /// Size of listed items shadowed by an earlier source with the same
    /// name; the driver adds it to "total size".
    pub shadowed_size: u64,
    pub(crate) utf8: bool,
    /// `--iconv`: this walker's conversions (one per thread).
    names: Option<crate::iconv::Names>,
    /// `--iconv`: a name the receiving side could not convert was left
    /// out (rsync's receiver then lists it under an empty name, which
    /// sorts before `.`: see [`crate::iconv`]).
    pub recv_unconvertible: bool,
}

/// The prefix rsync's daemon puts in front of munged symlink targets.
const MUNGE_PREFIX: &[u8] = b"/rsyncd-munged/";

/// The start of the sender's note for a symlink `--copy-unsafe-links`
/// copies as what it points to: rsync says it while it builds the list,
/// so without incremental recursion the report puts it before the list's
/// `done`.
pub(crate) const UNSAFE_LINK_NOTE: &str = "copying unsafe symlink \"";

fn unmunge(t: Vec<u8>) -> Vec<u8> {
    match t.strip_prefix(MUNGE_PREFIX) {
        Some(rest) => rest.to_vec(),
        None => t,
    }
}

/// Whether a symlink `target`, found at `link` (its path in the
/// transfer, as listed), can lead outside the transferred tree: absolute
/// or empty targets always can; otherwise the target's `..` components
/// may not climb above the tree's top. A `..` in the link's own path
/// makes rsync stop trusting what is above it, so counting restarts.
pub(crate) fn unsafe_symlink(target: &[u8], link: &[u8]) -> bool {
    if target.is_empty() || target[0] == b'/' {
        return true;
    }
    // How far below the top the link's directory is.
    let mut depth: i64 = 0;
    let mut parts = link.split(|&b| b == b'/').filter(|p| !p.is_empty());
    let mut last = parts.next();
    for next in parts {
        match last {
            Some(b"..") => depth = 0,
            Some(b".") | None => {}
            Some(_) => depth += 1,
        }
        last = Some(next);
    }
    if last == Some(b"..") {
        depth = 0;
    }
    let comps: Vec<&[u8]> = target
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .collect();
    let n = comps.len();
    for (i, c) in comps.into_iter().enumerate() {
        let final_comp = i + 1 == n;
        match c {
            b".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            b"." => {}
            _ if final_comp => {}
            _ => depth += 1,
        }
    }
    depth < 0
}

/// rsync's order within a directory: non-directories first, by raw name
/// bytes; then directories, compared as if their names ended in `/` (so
/// `a.d/` sorts before `a/`, which sorts before `a_/`).
pub(crate) fn sort_entries(v: &mut [Entry]) {
    v.sort_by(rsync_order);
}

/// [`sort_entries`] for entries whose names are unique (one directory's
/// listing): an unstable sort gives the same order without the stable
/// sort's buffer of half the listing (22 MB for 200,000 entries).
pub(crate) fn sort_listing(v: &mut [Entry]) {
    v.sort_unstable_by(rsync_order);
}

fn rsync_order(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    match (a.is_dir(), b.is_dir()) {
        (false, false) => a.name.cmp(&b.name),
        (false, true) => std::cmp::Ordering::Less,
        (true, false) => std::cmp::Ordering::Greater,
        (true, true) => a.name.iter().chain(b"/").cmp(b.name.iter().chain(b"/")),
    }
}

/// Merges entries with the same name: the first source wins, and a
/// directory seen again contributes its path for a merged listing.
/// Returns the size the dropped duplicates add to rsync's "total size"
/// (rsync counts every file it listed, shadowed ones included).
pub(crate) fn merge_duplicates(v: &mut Vec<Entry>) -> u64 {
    if v.len() < 2 {
        return 0;
    }
    let mut dropped = 0;
    let mut out: Vec<Entry> = Vec::with_capacity(v.len());
    let mut index: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    for e in v.drain(..) {
        match index.get(&e.name[..]) {
            Some(&i) => {
                if out[i].is_dir() && e.is_dir() {
                    let src = e.src().into_owned();
                    let more = e.rare.map(|r| r.more_srcs).unwrap_or_default();
                    let srcs = &mut out[i].rare_mut().more_srcs;
                    srcs.push(src);
                    srcs.extend(more);
                } else {
                    dropped += e.counted_size();
                }
            }
            None => {
                index.insert(e.name.to_vec(), out.len());
                out.push(e);
            }
        }
    }
    *v = out;
    dropped
}

/// Splits a source argument the way rsync does: a trailing `/`, `.` or
/// `..` names a directory's contents; otherwise the last component is the
/// transferred name and the rest is where it lives.
fn split_arg(arg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut a = arg.to_vec();
    // Collapse repeated slashes, as rsync's clean_fname does.
    a.dedup_by(|x, y| *x == b'/' && *y == b'/');
    let contents =
        a.ends_with(b"/") || a == b"." || a.ends_with(b"/.") || a == b".." || a.ends_with(b"/..");
    if contents {
        let mut dir = a;
        if dir.ends_with(b"/.") {
            dir.truncate(dir.len() - 2);
        } else if dir.len() > 1 && dir.ends_with(b"/") {
            dir.truncate(dir.len() - 1);
        }
        if dir.is_empty() {
            dir = b"/".to_vec();
        }
        return (dir, b".".to_vec());
    }
    match a.iter().rposition(|&b| b == b'/') {
        Some(0) => (b"/".to_vec(), a[1..].to_vec()),
        Some(p) => (a[..p].to_vec(), a[p + 1..].to_vec()),
        None => (b".".to_vec(), a),
    }
}

impl Walker {
    pub(crate) fn new(cfg: WalkConfig) -> Walker {
        let names = cfg
            .iconv
            .as_ref()
            .and_then(|s| crate::iconv::Names::open(s, cfg.iconv_links, cfg.iconv_messages));
        Walker {
            cfg,
            subtrees: std::collections::HashMap::new(),
            looked_at: std::collections::HashMap::new(),
            diags: Vec::new(),
            shadowed_size: 0,
            utf8: crate::text::locale_is_utf8(),
            names,
            recv_unconvertible: false,
        }
    }

    /// What this walker lists by.
    pub(crate) fn cfg(&self) -> &WalkConfig {
        &self.cfg
    }

    pub(crate) fn shown(&self, p: &Path) -> String {
        crate::text::escape_name(sys::bytes(&sys::absolute(p)), self.utf8)
    }

    fn error(&mut self, what: &str, p: &Path, e: Errno) {
        let text = format!(
            "[sender] {what} \"{}\" failed: {}",
            self.shown(p),
            sys::errno_text(e)
        );
        self.diags.push(Diag::Error(text));
    }

    fn read_link(&mut self, path: &Path) -> Option<Vec<u8>> {
        let r = match &self.cfg.attrs {
            Some(a) => a.read_source_link(path),
            None => sys::fs::readlink(path),
        };
        match r {
            Ok(t) => Some(t),
            Err(e) => {
                self.error("readlink", path, e);
                None
            }
        }
    }

    /// The hook for the attribute options: a stat as rsync's receiver
    /// sees it (see [`crate::meta::RunAttrs::adjust_source`]). `None`: a
    /// corrupt `--fake-super` record (reported; the item is left out);
    /// else the owner and group as listed, when the id maps changed them.
    fn adjust(&mut self, path: &Path, stat: &mut Stat) -> Option<Option<(u32, u32)>> {
        let Some(a) = &self.cfg.attrs else {
            return Some(None);
        };
        match a.adjust_source(path, stat) {
            Ok(ids) => Some(ids),
            Err(msg) => {
                self.diags.push(Diag::Error(msg));
                None
            }
        }
    }

    /// rsync's `link_stat "..." failed` for a named source; a missing one
    /// is a missing argument (exit 23, or ignored/deleted by the
    /// `--*-missing-args` options upstream).
    pub(crate) fn link_stat_failed(&mut self, p: &Path, e: Errno) {
        let text = format!(
            "[sender] link_stat \"{}\" failed: {}",
            self.shown(p),
            sys::errno_text(e)
        );
        self.diags.push(if e == Errno::NOENT {
            Diag::MissingArg(text)
        } else {
            Diag::Error(text)
        });
    }

    /// rsync's `readlink_stat(...) failed` (note the parentheses).
    fn readlink_stat_failed(&mut self, p: &Path, e: Errno) {
        let text = format!(
            "[sender] readlink_stat(\"{}\") failed: {}",
            self.shown(p),
            sys::errno_text(e)
        );
        self.diags.push(Diag::Error(text));
    }

    /// `-R`: the entry of an implied directory, its owner, group and mode
    /// seen through the attribute options (`--chown`, `--usermap`, …) as
    /// any listed entry's.
    pub(crate) fn implied_entry(
        &mut self,
        name: Vec<u8>,
        src: PathBuf,
        stat: Stat,
    ) -> Option<Entry> {
        let mut stat = stat;
        let listed_ids = self.adjust(&src, &mut stat)?;
        let mut e = Entry::new(name, stat, src);
        e.set_rare(Rare {
            listed_ids,
            implied: true,
            ..Rare::default()
        });
        self.sent_as(e)
    }

    /// The entry as rsync's sender sends it: below `--protocol` 31 its
    /// mtime in whole seconds; with `--iconv` under the receiver's name
    /// (and symlink target), the sender's kept beside it. `None` after
    /// rsync's `cannot convert filename` (the entry is left out, an I/O
    /// error).
    fn sent_as(&mut self, mut e: Entry) -> Option<Entry> {
        use crate::iconv::Unconvertible;
        if self.cfg.whole_seconds {
            e.stat.mtime_nsec = 0;
        }
        let Some(names) = self.names.as_mut() else {
            return Some(e);
        };
        if e.name == b"." {
            // Its name is DEST's; only the sender converts it.
            if let Err(errno) = names.dot() {
                self.cannot_convert("[sender] cannot convert filename:", ".".into(), errno);
                return None;
            }
            return Some(e);
        }
        let remote = names.name(&e.name);
        if let Err(Unconvertible::Sender(errno)) = remote {
            let shown = crate::text::escape_name(&e.name, self.utf8);
            self.cannot_convert("[sender] cannot convert filename:", shown, errno);
            return None;
        }
        let link = e.link().map(|l| names.link(l));
        let remote = match remote {
            Ok(r) => Some(r),
            Err(Unconvertible::Receiver(utf8, errno)) => {
                self.recv_unconvertible = true;
                let mut text = b"[Receiver] cannot convert filename: ".to_vec();
                text.extend(names.receiver_shown(&utf8));
                text.extend(format!(" ({})", sys::strerror(errno.raw_os_error())).bytes());
                let listed = Box::new(e.clone());
                let failed_too = matches!(link, Some(Err(Unconvertible::Receiver(..))));
                if !failed_too {
                    self.diags.push(Diag::Receiver {
                        text,
                        listed,
                        generator: false,
                    });
                } else {
                    // Counted once, with the symlink's own line.
                    self.diags
                        .push(Diag::ErrorRaw(String::from_utf8_lossy(&text).into()));
                }
                None
            }
            Err(Unconvertible::Sender(_)) => None,
        };
        match link {
            Some(Err(Unconvertible::Sender(errno))) => {
                let shown = format!("\"{}\"", self.shown(&e.src()));
                self.cannot_convert("[sender] cannot convert symlink data for:", shown, errno);
                return None;
            }
            Some(Err(Unconvertible::Receiver(_, errno))) => {
                self.recv_unconvertible = true;
                let name = remote.as_deref().unwrap_or_default();
                self.receiver_link_failed(name, errno, e);
                return None;
            }
            Some(Ok(l)) if Some(l.as_slice()) != e.link() => {
                let r = e.rare_mut();
                r.local_link = r.link.replace(l);
            }
            _ => {}
        }
        let Some(remote) = remote else {
            // rsync's sender still lists what is below: each name fails
            // on the receiving side again.
            if e.is_dir() && self.cfg.recursive {
                let _ = self.list(&e);
            }
            return None;
        };
        if e.name != remote {
            let local = std::mem::replace(&mut e.name, remote.into());
            e.rare_mut().local_name = Some(local.into());
        }
        Some(e)
    }

    /// `--iconv`: whether the receiving side fails on a name anywhere
    /// below `entries`, as rsync's receiver knows from its whole file
    /// list (no incremental recursion) before it makes DEST's `.`. A
    /// dry listing by a walker of its own: its lines are dropped.
    pub(crate) fn receiver_fails_below(&self, entries: &[Entry]) -> bool {
        let mut w = Walker::new(self.cfg.clone());
        w.probe(entries)
    }

    fn probe(&mut self, entries: &[Entry]) -> bool {
        for e in entries.iter().filter(|e| e.is_dir()) {
            if self.recv_unconvertible {
                return true;
            }
            let children = self.list(e);
            if self.probe(&children) {
                return true;
            }
        }
        self.recv_unconvertible
    }

    /// rsync's `cannot convert` lines: an I/O error (exit 23, no deletion).
    fn cannot_convert(&mut self, what: &str, shown: String, errno: Errno) {
        let text = format!("{what} {shown} ({})", sys::strerror(errno.raw_os_error()));
        self.diags.push(Diag::ErrorRaw(text));
    }

    /// rsync's receiver cannot convert a symlink target: it names the
    /// entry by its REMOTE name (empty when that failed too) below the
    /// directory it was started in, and its generator ends with its own
    /// error line.
    fn receiver_link_failed(&mut self, remote: &[u8], errno: Errno, e: Entry) {
        let mut path = sys::bytes(&sys::absolute(Path::new("."))).to_vec();
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        path.extend_from_slice(remote);
        let text = format!(
            "[Receiver] cannot convert symlink data for: \"{}\" ({})",
            crate::text::escape_name(&path, false),
            sys::strerror(errno.raw_os_error())
        )
        .into_bytes();
        self.diags.push(Diag::Receiver {
            text,
            listed: Box::new(e),
            generator: true,
        });
    }

    /// Builds an entry from its `lstat`, applying the symlink rules of
    /// the sending side: `-L` and `--copy-unsafe-links` send what a link
    /// points to, `-k` sends a link to a directory as the directory,
    /// `--munge-links` strips the daemon's munge prefix. `at`: the
    /// directory being listed (its descriptor, its shared path) and the
    /// name in it.
    pub(crate) fn make_entry(
        &mut self,
        name: Vec<u8>,
        src: PathBuf,
        stat: Stat,
        at: Option<(BorrowedFd<'_>, &Arc<Path>, &CStr)>,
    ) -> Option<Entry> {
        let mut src = src;
        let mut stat = stat;
        let mut listed_ids = self.adjust(&src, &mut stat)?;
        // A stat taken through a symlink (-L, -k, ...) is seen through
        // the attribute options again.
        let mut followed = false;
        let mut via_link = None;
        let mut link = None;
        if stat.kind() == Kind::Symlink {
            let c = &self.cfg;
            let target = if c.copy_links || !(c.links || c.copy_unsafe_links) {
                None
            } else {
                Some(self.read_link(&src)?)
            };
            let c = &self.cfg;
            let unsafe_copy = !c.copy_links
                && c.copy_unsafe_links
                && target.as_deref().is_some_and(|t| unsafe_symlink(t, &name));
            if unsafe_copy && c.symsafe_info {
                let shown = crate::text::escape_name(&name, self.utf8);
                let t = crate::text::escape_name(target.as_deref().unwrap_or_default(), self.utf8);
                self.diags.push(Diag::Info(format!(
                    "{}{shown}\" -> \"{t}\"",
                    UNSAFE_LINK_NOTE
                )));
            }
            let c = &self.cfg;
            let follow = c.copy_links || unsafe_copy;
            // Following is done from the listed directory's descriptor
            // when there is one: like rsync, a path through many links
            // is then stat'ed with one link to follow, and it is the
            // directory's opening that runs into ELOOP.
            let follow_stat = |p: &Path| match at {
                Some((fd, _, base)) => sys::fs::stat_at(fd, base),
                None => sys::stat(p),
            };
            if follow {
                match follow_stat(&src) {
                    // The engine opens sources without following links
                    // (a source swapped for a link mid-run is not read);
                    // a file sent through a link is read at its real
                    // path. Directories keep the link path, so that a
                    // loop ends in ELOOP as rsync's does.
                    Ok(st) if st.kind() == Kind::File => {
                        stat = st;
                        followed = true;
                        if let Ok(real) = std::fs::canonicalize(&src) {
                            via_link = Some(std::mem::replace(&mut src, real));
                        }
                    }
                    Ok(st) => {
                        stat = st;
                        followed = true;
                    }
                    Err(Errno::NOENT) => {
                        let shown = self.shown(&src);
                        self.diags.push(Diag::ErrorRaw(format!(
                            "symlink has no referent: \"{shown}\""
                        )));
                        return None;
                    }
                    Err(e) => {
                        self.readlink_stat_failed(&src, e);
                        return None;
                    }
                }
            } else if c.copy_dirlinks
                && let Ok(st) = follow_stat(&src)
                && st.kind() == Kind::Dir
            {
                stat = st;
                followed = true;
            }
            if stat.kind() == Kind::Symlink && self.cfg.links {
                link = target.map(|t| if self.cfg.munge_links { unmunge(t) } else { t });
            }
        }
        if followed {
            let listed = via_link.clone().unwrap_or_else(|| src.clone());
            listed_ids = self.adjust(&listed, &mut stat)?;
        }
        if self.cfg.copy_devices && stat.kind().is_device() {
            stat = device_as_file(&src, stat);
        }
        // A listed entry's path is its directory's and its name, unless
        // it was sent through a link (read at the target's real path).
        let mut e = match at {
            Some((_, dir, _)) if via_link.is_none() => Entry::in_dir(name, stat, dir),
            _ => Entry::new(name, stat, src),
        };
        e.set_rare(Rare {
            link,
            via_link,
            listed_ids,
            ..Rare::default()
        });
        self.sent_as(e)
    }

    /// Resolves the command-line sources (everything but the last operand).
    pub(crate) fn top_level(&mut self, sources: &[OsString]) -> TopLevel {
        let mut top = TopLevel::default();
        let mut dot_srcs: Vec<PathBuf> = Vec::new();
        let mut named: Vec<Entry> = Vec::new();
        for arg in sources {
            let (dir, name) = split_arg(arg.as_bytes());
            let dir_path = PathBuf::from(OsStr::from_bytes(&dir));
            if name == b"." {
                let mut st = match sys::stat(&dir_path) {
                    Ok(st) if st.kind() == Kind::Dir => st,
                    Ok(_) => {
                        self.error("change_dir", &dir_path, Errno::NOTDIR);
                        continue;
                    }
                    Err(e) => {
                        self.error("change_dir", &dir_path, e);
                        continue;
                    }
                };
                if !self.cfg.xfer_dirs {
                    self.diags.push(Diag::Info("skipping directory .".into()));
                    continue;
                }
                let Some(listed_ids) = self.adjust(&dir_path, &mut st) else {
                    continue;
                };
                if top.dot.is_none() {
                    let mut dot = Entry::new(b".".to_vec(), st, dir_path.clone());
                    dot.set_filters(self.root_filters(&dir_path));
                    dot.set_rare(Rare {
                        listed_ids,
                        ..Rare::default()
                    });
                    // "." keeps its name under --iconv (a wide LOCAL
                    // charset fails it on the sending side).
                    top.dot = self.sent_as(dot);
                } else if let Some(d) = top.dot.as_mut() {
                    d.rare_mut().more_srcs.push(dir_path.clone());
                }
                dot_srcs.push(dir_path);
                continue;
            }
            if dir != b"." {
                match sys::stat(&dir_path) {
                    Ok(st) if st.kind() == Kind::Dir => {}
                    Ok(_) => {
                        self.error("change_dir", &dir_path, Errno::NOTDIR);
                        continue;
                    }
                    Err(e) => {
                        self.error("change_dir", &dir_path, e);
                        continue;
                    }
                }
            }
            let full = if dir == b"." {
                PathBuf::from(OsStr::from_bytes(&name))
            } else {
                dir_path.join(OsStr::from_bytes(&name))
            };
            let st = match sys::lstat(&full) {
                Ok(st) => st,
                Err(Errno::NOENT) if self.cfg.missing_args == MissingArgs::Ignore => continue,
                Err(Errno::NOENT) if self.cfg.missing_args == MissingArgs::Delete => {
                    // rsync sends a mode-0 entry: "delete this name".
                    named.push(Entry::new(name, Stat::default(), full));
                    continue;
                }
                Err(e) => {
                    self.link_stat_failed(&full, e);
                    continue;
                }
            };
            if st.kind() == Kind::Dir && !self.cfg.xfer_dirs {
                let shown = crate::text::escape_name(&name, self.utf8);
                self.diags
                    .push(Diag::Info(format!("skipping directory {shown}")));
                continue;
            }
            let filters = self.root_filters(&dir_path);
            if let Some(mut e) = self.make_entry(name, full, st, None) {
                // rsync's sender checks a named entry too (`-vv` says so).
                if let Some(f) = &filters
                    && self.excluded(f, e.local_name(), e.kind())
                {
                    continue;
                }
                e.set_filters(filters);
                named.push(e);
            }
        }
        self.finish_top(top, named)
    }

    /// The root listing from the sources named beside any `.`: merged,
    /// sorted and (`-m`) pruned.
    fn finish_top(&mut self, mut top: TopLevel, named: Vec<Entry>) -> TopLevel {
        let mut entries = named;
        match top.dot.clone() {
            Some(dot) => self.add_listing(&mut entries, &dot),
            None => {
                self.shadowed_size += merge_duplicates(&mut entries);
                sort_listing(&mut entries);
            }
        }
        let lead = self.prune(&mut entries);
        match top.dot.as_mut() {
            Some(dot) if lead > 0 => dot.rare_mut().pruned_lead = lead,
            Some(_) => {}
            None => top.pruned_lead = lead,
        }
        top.entries = entries;
        top
    }

    /// Adds the listing of `dot` (a named `dir/.`, from all its sources)
    /// to `entries`, the names given beside it, in rsync's order; a
    /// name given twice counts once. The listing's names are unique
    /// already (`read_dirs` merged its sources): with nothing beside it,
    /// no second copy of it (nor an index of its names) is made.
    pub(crate) fn add_listing(&mut self, entries: &mut Vec<Entry>, dot: &Entry) {
        let children = self.read_dirs(dot, &dot.sources());
        if entries.is_empty() {
            // Taken over, not copied: `extend` would hold the listing
            // twice at its peak (46 MB for 200,000 entries).
            *entries = children;
        } else {
            entries.extend(children);
            self.shadowed_size += merge_duplicates(entries);
        }
        sort_listing(entries);
    }

    /// Whether the sender leaves `name` out; at `-vv` says which rule
    /// decided (rsync's `hiding file X because of pattern Y`).
    pub(crate) fn excluded(&mut self, f: &FilterStack, name: &[u8], kind: Kind) -> bool {
        let is_dir = kind == Kind::Dir;
        if !self.cfg.filter_debug {
            return f.excluded(name, is_dir);
        }
        let Some((include, why)) = f.sender_verdict(name, is_dir) else {
            return false;
        };
        self.diags.push(Diag::Info(format!(
            "[sender] {} {} {} because of pattern {}",
            if include { "showing" } else { "hiding" },
            if is_dir { "directory" } else { "file" },
            crate::text::escape_name(name, self.utf8),
            crate::text::escape_name(&why, self.utf8),
        )));
        !include
    }

    /// The rules at a transfer root (`SRC` for `SRC/`, the parent for
    /// `SRC`): what rsync's sender has changed into.
    pub(crate) fn root_filters(&self, root: &Path) -> Option<FilterStack> {
        let list = self.cfg.filters.as_ref()?;
        Some(FilterStack::new_at(list.clone(), root))
    }

    /// The rules in effect inside `parent` (listed from `src`): its
    /// per-directory merge files read on top of the inherited rules.
    /// `Err(())` when a merge file ends the run.
    fn enter_filters(&mut self, parent: &Entry, src: &Path) -> Result<Option<FilterStack>, ()> {
        let Some(stack) = parent.filters() else {
            return Ok(None);
        };
        let rel: &[u8] = if parent.local_name() == b"." {
            b""
        } else {
            parent.local_name()
        };
        match stack.try_enter(rel, src) {
            Ok((inner, msgs)) => {
                self.diags.extend(msgs.into_iter().map(Diag::Stderr));
                Ok(Some(inner))
            }
            Err(e) => {
                self.diags.push(Diag::Fatal(e));
                Err(())
            }
        }
    }

    /// `-m`: drops directories whose whole subtree has no non-directory.
    /// rsync's sender still lists them (the receiver prunes), so they
    /// stay counted: each kept entry carries the number pruned right after
    /// it ([`Entry::pruned_after`]), a kept directory the number pruned
    /// before its own first kept entry ([`Entry::pruned_lead`]); the number
    /// pruned before the first kept entry here is returned.
    fn prune(&mut self, entries: &mut Vec<Entry>) -> u32 {
        if !self.cfg.prune {
            return 0;
        }
        let mut lead = 0;
        let mut keep: Vec<Entry> = Vec::with_capacity(entries.len());
        for mut e in entries.drain(..) {
            if !e.is_dir() {
                keep.push(e);
                continue;
            }
            match self.subtree(&e) {
                Subtree::Content { lead } => {
                    if lead > 0 {
                        e.rare_mut().pruned_lead = lead;
                    }
                    keep.push(e);
                }
                Subtree::Empty { dirs } => match keep.last_mut() {
                    Some(k) => k.rare_mut().pruned_after += dirs,
                    None => lead += dirs,
                },
            }
        }
        *entries = keep;
        lead
    }

    /// What a directory's subtree holds (see [`Subtree`]); a listing read
    /// to find out is kept for the walk when the directory stays.
    fn subtree(&mut self, dir: &Entry) -> Subtree {
        let src = dir.src().into_owned();
        if let Some(&known) = self.subtrees.get(&src) {
            return known;
        }
        let children = self.list_unpruned(dir);
        let mut dirs = 1;
        let mut found = false;
        for c in &children {
            match c.is_dir().then(|| self.subtree(c)) {
                Some(Subtree::Empty { dirs: n }) => dirs += n,
                _ => {
                    found = true;
                    break;
                }
            }
        }
        let known = if found {
            self.looked_at.insert(src.clone(), children);
            Subtree::Content { lead: dirs - 1 }
        } else {
            Subtree::Empty { dirs }
        };
        self.subtrees.insert(src, known);
        known
    }

    /// Lists a directory entry's children (merging all its sources), sorted.
    pub(crate) fn list(&mut self, dir: &Entry) -> Vec<Entry> {
        let mut v = self.list_unpruned(dir);
        self.prune(&mut v);
        v
    }

    fn list_unpruned(&mut self, dir: &Entry) -> Vec<Entry> {
        if let Some(p) = dir.preset() {
            return p.entries.to_vec();
        }
        if let Some(v) = self.looked_at.remove(&*dir.src()) {
            return v;
        }
        let mut v = self.read_dirs(dir, &dir.sources());
        sort_listing(&mut v);
        v
    }

    /// The entries of a directory, from all its sources (the first source
    /// wins a name; see [`merge_duplicates`]), unsorted.
    pub(crate) fn read_dirs(&mut self, parent: &Entry, srcs: &[PathBuf]) -> Vec<Entry> {
        let mut out = Vec::new();
        // With incremental recursion the rules are entered once, from the
        // first source, and rsync keeps them in force for the same
        // directory of the other sources; without it, each source's own.
        let mut filters = None;
        for (i, src) in srcs.iter().enumerate() {
            if i == 0 || !self.cfg.inc_recurse {
                let Ok(f) = self.enter_filters(parent, src) else {
                    return out;
                };
                filters = f;
            }
            self.read_one_dir(parent, src, filters.as_ref(), &mut out);
        }
        // One directory cannot list a name twice.
        if srcs.len() > 1 {
            self.shadowed_size += merge_duplicates(&mut out);
        }
        out
    }

    fn read_one_dir(
        &mut self,
        parent: &Entry,
        src: &Path,
        filters: Option<&FilterStack>,
        out: &mut Vec<Entry>,
    ) {
        let fd = match sys::fs::open_dir(src, true) {
            Ok(fd) => fd,
            Err(e) => {
                self.error("opendir", src, e);
                return;
            }
        };
        // -x: rsync's filesystem_dev, the device of the directory listed.
        let dir_dev = match self.cfg.one_file_system {
            0 => 0,
            _ => match sys::fs::fstat(&fd) {
                Ok(st) => st.dev,
                Err(e) => {
                    self.error("opendir", src, e);
                    return;
                }
            },
        };
        let fd = &fd;
        // Shared by every entry listed here (see [`Entry::src`]).
        let dir: Arc<Path> = Arc::from(src);
        let listed = sys::each_name(fd.as_fd(), |item| {
            self.read_one_entry(parent, &dir, filters, fd.as_fd(), dir_dev, item, out)
        });
        if let Err(e) = listed {
            self.error("readdir", src, e);
        }
    }

    /// One name of a directory being read: its status, then the entry
    /// unless a filter or `-x` leaves it out.
    #[allow(clippy::too_many_arguments)]
    fn read_one_entry(
        &mut self,
        parent: &Entry,
        src: &Arc<Path>,
        filters: Option<&FilterStack>,
        fd: BorrowedFd<'_>,
        dir_dev: u64,
        item: &CStr,
        out: &mut Vec<Entry>,
    ) {
        let base = item.to_bytes();
        // The full path, for the look-ups on the way (links, `-L`); a
        // listed entry keeps only its directory's shared path and its name.
        let mut path = PathBuf::with_capacity(src.as_os_str().len() + 1 + base.len());
        path.push(src);
        path.push(OsStr::from_bytes(base));
        let st = match sys::fs::lstat_at(fd, item) {
            Ok(st) => st,
            Err(Errno::NOENT) => {
                let shown = self.shown(&path);
                self.diags
                    .push(Diag::Vanished(format!("file has vanished: \"{shown}\"")));
                return;
            }
            Err(e) => {
                self.readlink_stat_failed(&path, e);
                return;
            }
        };
        let name = parent.child_name(base);
        // Excluded names are left out before anything is said about
        // them; a symlink is judged by what it is sent as.
        if let Some(f) = filters
            && st.kind() != Kind::Symlink
            && self.excluded(f, &name, st.kind())
        {
            return;
        }
        let said = self.diags.len();
        let made = self.make_entry(name.clone(), path, st, Some((fd, src, item)));
        // A link that cannot be followed is first checked against the
        // rules, as a file and as a directory: an excluded one goes
        // without an error, as in rsync (its -v notes stay).
        if made.is_none()
            && let Some(f) = filters
            && st.kind() == Kind::Symlink
            && (f.excluded(&name, false) || f.excluded(&name, true))
        {
            let said = self.diags.split_off(said);
            let notes = said.into_iter().filter(|d| matches!(d, Diag::Info(_)));
            self.diags.extend(notes);
            return;
        }
        if let Some(mut e) = made {
            if let Some(f) = filters
                && st.kind() == Kind::Symlink
                && self.excluded(f, e.local_name(), e.kind())
            {
                return;
            }
            // Only a directory lists anything with them.
            if e.is_dir() {
                e.set_filters(filters.cloned());
            }
            if self.cfg.one_file_system > 0 && e.is_dir() && e.stat.dev != dir_dev {
                if self.cfg.one_file_system > 1 {
                    if self.cfg.mount_info {
                        let shown = crate::text::escape_name(e.local_name(), self.utf8);
                        self.diags.push(Diag::Info(format!(
                            "[sender] skipping mount-point dir {shown}"
                        )));
                    }
                    return;
                }
                e.set_preset(Preset::named(Vec::new()));
            }
            out.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A huge listing holds one `Entry` per name: its size is the memory
    /// per file (issue 17.5: 232 bytes, then 144, 136, now 120).
    #[test]
    fn an_entry_stays_small() {
        assert!(
            std::mem::size_of::<Entry>() <= 120,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    fn split(s: &str) -> (String, String) {
        let (d, n) = split_arg(s.as_bytes());
        (String::from_utf8(d).unwrap(), String::from_utf8(n).unwrap())
    }

    #[test]
    fn trailing_slash_names_contents() {
        assert_eq!(split("src/"), ("src".into(), ".".into()));
        assert_eq!(split("src/."), ("src".into(), ".".into()));
        assert_eq!(split("."), (".".into(), ".".into()));
        assert_eq!(split(".."), ("..".into(), ".".into()));
        assert_eq!(split("/"), ("/".into(), ".".into()));
        assert_eq!(split("a//b//"), ("a/b".into(), ".".into()));
    }

    fn entry(name: &str, dir: bool) -> Entry {
        let mode = if dir {
            crate::sys::mode::S_IFDIR
        } else {
            crate::sys::mode::S_IFREG
        } | 0o644;
        let stat = Stat {
            mode,
            size: 1,
            nlink: 1,
            ..Stat::default()
        };
        Entry::new(name.as_bytes().to_vec(), stat, PathBuf::from(name))
    }

    #[test]
    fn rsync_sort_order() {
        let mut v = vec![
            entry("a_", true),
            entry("a", true),
            entry("z", false),
            entry("a.d", true),
            entry("B", false),
            entry("_", false),
        ];
        sort_entries(&mut v);
        let names: Vec<_> = v
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).into_owned())
            .collect();
        assert_eq!(names, ["B", "_", "z", "a.d", "a", "a_"]);
    }

    #[test]
    fn duplicates_first_wins_and_count() {
        let mut v = vec![
            entry("x", false),
            entry("d", true),
            entry("x", false),
            entry("d", true),
        ];
        assert_eq!(merge_duplicates(&mut v), 1);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].more_srcs().len(), 1);
    }

    #[test]
    fn unsafe_symlinks() {
        assert!(unsafe_symlink(b"/etc/x", b"a"));
        assert!(unsafe_symlink(b"", b"a"));
        assert!(!unsafe_symlink(b"in", b"l"));
        assert!(unsafe_symlink(b"../x", b"l"));
        assert!(!unsafe_symlink(b"../in", b"sub/l"));
        assert!(unsafe_symlink(b"../../x", b"sub/l"));
        assert!(!unsafe_symlink(b"../sub/f", b"sub/l"));
        assert!(!unsafe_symlink(b"../src/in", b"src/l"));
        assert!(unsafe_symlink(b"a/../../x", b"l"));
        assert!(!unsafe_symlink(b"a/./b/../c", b"l"));
        assert!(unsafe_symlink(b"..", b"l"));
        assert!(!unsafe_symlink(b"..", b"d/l"));
    }

    #[test]
    fn last_component_is_the_name() {
        assert_eq!(split("src"), (".".into(), "src".into()));
        assert_eq!(split("a/b/c"), ("a/b".into(), "c".into()));
        assert_eq!(split("/etc"), ("/".into(), "etc".into()));
    }
}
