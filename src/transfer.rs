//! One local transfer from start to finish: resolve the sources and the
//! destination (rsync's `get_local_name`), walk the file list in rsync's
//! order, act on each entry's plan, hand content copies to the engine,
//! and finish with directory times and the summary.
//!
//! This is the only place where the stages meet; each of them stays
//! ignorant of the others.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode};
use rustix::io::Errno;

use crate::engine::{self, CopyJob, Engine, Outcome};
use crate::exit::ExitCode;
use crate::meta::{self, Policy, Receiver, Target, Wanted};
use crate::options::Options;
use crate::plan::{Action, Decision, Planner};
use crate::report::{Report, Slot};
use crate::scan::{DirListing, Scanner, Ticket};
use crate::sys::{self, Kind, Stat};
use crate::walk::{Diag, Entry, Listing, WalkConfig, Walker};

/// Where entries land.
struct Dest {
    /// Destination directory (mode 1) or the single file's path (mode 2).
    path: PathBuf,
    /// Mode 2: one non-directory (or a lone directory) written under a
    /// new name.
    solo: bool,
    /// We created `path` (or would have, in a dry run): everything below
    /// it is new.
    fresh: bool,
}

/// A copy handed to the engine, waiting for its result.
struct Pending {
    slot: Slot,
    line: Option<String>,
    size: u64,
}

/// A directory whose mtime (and, for non-root, permissions) is settled
/// after its contents.
struct DirFix {
    path: PathBuf,
    mtime: i64,
    mtime_nsec: u32,
    /// Permissions to restore after temporarily adding u+rwx.
    restore_mode: Option<u32>,
}

/// A destination directory being filled.
struct OpenDir {
    /// The group a file created in it gets (its own with set-gid, else
    /// ours), so the engine can skip a chown that would change nothing.
    new_file_gid: u32,
}

struct Transfer<'a> {
    opts: &'a Options,
    recv: Receiver,
    report: Report,
    engine: Option<Box<dyn Engine>>,
    pending: HashMap<u64, Pending>,
    next_token: u64,
    dir_fixes: Vec<DirFix>,
    /// The directories being filled, innermost last.
    dir_stack: Vec<OpenDir>,
    abort: Arc<AtomicBool>,
    fatal: Option<String>,
    /// The directory rsync's receiver would have changed into: DEST itself,
    /// or DEST's parent when DEST names a single item. Receiver messages
    /// name paths relative to it.
    dest_root: PathBuf,
    /// Lists existing destination directories alongside the source walk.
    scanner: Scanner,
}

fn path_of(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

fn join_name(root: &Path, name: &[u8]) -> PathBuf {
    if name == b"." {
        root.to_path_buf()
    } else {
        root.join(path_of(name))
    }
}

fn is_remote(arg: &[u8]) -> bool {
    if arg.starts_with(b"rsync://") {
        return true;
    }
    match arg.iter().position(|&b| b == b':') {
        Some(c) => !arg[..c].contains(&b'/'),
        None => false,
    }
}

/// Runs a local transfer and returns rsync's exit code.
pub fn run(opts: &Options, name: &str) -> ExitCode {
    let abort = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&abort));
    }
    let mut t = Transfer {
        opts,
        recv: Receiver::current(),
        report: Report::new(name, opts),
        engine: None,
        pending: HashMap::new(),
        next_token: 0,
        dir_fixes: Vec::new(),
        dir_stack: Vec::new(),
        abort,
        fatal: None,
        dest_root: PathBuf::from("."),
        scanner: Scanner::start(WalkConfig::new(opts)),
    };
    let code = t.run();
    t.report.flush();
    code
}

impl Transfer<'_> {
    fn usage_exit(&mut self, msg: &str, code: ExitCode) -> ExitCode {
        self.report.error_raw(msg.to_string());
        let l = crate::final_line!(&self.report.name, code).to_string();
        self.report.error_raw(l);
        code
    }

    fn run(&mut self) -> ExitCode {
        let opts = self.opts;
        let args = &opts.args;
        if args.iter().any(|a| is_remote(a.as_bytes())) {
            let name = self.report.name.clone();
            return self.usage_exit(
                &format!(
                    "{name}: remote transfers are not supported by arsync (local copies only)"
                ),
                ExitCode::Unsupported,
            );
        }
        if args.len() < 2 {
            let name = self.report.name.clone();
            return self.usage_exit(
                &format!("{name}: This rsync does not support --list-only"),
                ExitCode::Syntax,
            );
        }
        let (sources, dest_arg) = args.split_at(args.len() - 1);
        let dest_arg = dest_arg[0].as_bytes().to_vec();

        let listing_header = opts.info_name() > 0;
        if listing_header && opts.inc_recurse() {
            self.report.info("sending incremental file list");
        }
        let mut walker = Walker::new(WalkConfig::new(opts));
        let top = walker.top_level(sources);
        self.forward(&mut walker);
        if listing_header && !opts.inc_recurse() && opts.xfer_dirs() {
            self.report.info("building file list ... done");
        }

        // rsync's file_total, as far as the destination rule needs it:
        // 0, 1 or "more". A lone directory counts its first level too.
        let mut first_level: Option<Vec<Entry>> = None;
        let mut total = usize::from(top.dot.is_some()) + top.entries.len();
        if total == 1 && top.dot.is_none() && top.entries[0].is_dir() && opts.recursive() {
            let children = walker.list(&top.entries[0]);
            self.forward(&mut walker);
            total += children.len();
            first_level = Some(children);
        }

        let dest = match self.resolve_dest(&dest_arg, total, &top) {
            Ok(d) => d,
            Err(code) => return code,
        };
        self.dest_root = if dest.solo {
            dest.path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        } else {
            dest.path.clone()
        };
        let temp_dir = match self.check_temp_dir() {
            Ok(t) => t,
            Err(code) => return code,
        };

        if opts.info_name() > 1 {
            self.report.info(if opts.whole_file == Some(false) {
                "delta-transmission enabled"
            } else {
                "delta-transmission disabled for local transfer or --whole-file"
            });
        }
        if !opts.dry_run {
            let mut cfg = engine::Config::new(opts, Arc::clone(&self.abort));
            cfg.temp_dir = temp_dir;
            self.engine = Some(engine::start(cfg));
        }

        let planner = Planner {
            opts,
            recv: &self.recv.clone(),
        };
        if let Some(dot) = &top.dot {
            self.count(dot);
            if let Some(children_fresh) =
                self.handle(&planner, dot, &dest.path, Known::Unknown, dest.fresh)
            {
                let listing = self.listing_of(&dest, children_fresh);
                self.process_list(
                    &planner,
                    &mut walker,
                    &top.entries,
                    &dest,
                    children_fresh,
                    listing.as_ref(),
                    first_level,
                );
                self.leave_dir();
            }
        } else {
            let listing = self.listing_of(&dest, dest.fresh);
            self.process_list(
                &planner,
                &mut walker,
                &top.entries,
                &dest,
                dest.fresh,
                listing.as_ref(),
                first_level,
            );
        }

        self.drain_all();
        self.finish_dirs();
        if self.abort.load(Ordering::Relaxed) {
            let l = crate::final_line!(&self.report.name, ExitCode::Signal).to_string();
            self.report.error_raw(l);
            return ExitCode::Signal;
        }
        if let Some(msg) = self.fatal.take() {
            let _ = msg;
            let l = crate::final_line!(&self.report.name, ExitCode::FileIo).to_string();
            self.report.error_raw(l);
            return ExitCode::FileIo;
        }
        self.report.summary();
        let code = self.report.errors.exit_code();
        if code != ExitCode::Ok {
            let l = crate::final_line!(&self.report.name, code).to_string();
            self.report.error_raw(l);
        }
        code
    }

    /// `--temp-dir`, resolved like rsync's receiver (relative to the
    /// destination directory) and checked before any transfer.
    fn check_temp_dir(&mut self) -> Result<Option<PathBuf>, ExitCode> {
        let Some(t) = self.opts.temp_dir.clone() else {
            return Ok(None);
        };
        let resolved = if t.is_absolute() {
            t.clone()
        } else {
            self.dest_root.join(&t)
        };
        let given = self.report.esc(sys::bytes(&t));
        match sys::stat(&resolved) {
            Ok(st) if st.kind() == Kind::Dir => Ok(Some(resolved)),
            Ok(_) => Err(self.usage_exit(
                &format!("The temp-dir is not a directory: {given}"),
                ExitCode::Syntax,
            )),
            Err(Errno::NOENT) => Err(self.usage_exit(
                &format!("The temp-dir does not exist: {given}"),
                ExitCode::Syntax,
            )),
            Err(e) => Err(self.usage_exit(
                &format!(
                    "Failed to stat temp-dir {given}: {}",
                    sys::strerror(e.raw_os_error())
                ),
                ExitCode::FileIo,
            )),
        }
    }

    /// A destination path relative to the receiver's directory (`.` for
    /// the destination root itself), as rsync names it in messages.
    fn local_of(&self, dest: &Path) -> Vec<u8> {
        match dest.strip_prefix(&self.dest_root) {
            Ok(rel) if rel.as_os_str().is_empty() => b".".to_vec(),
            Ok(rel) => sys::bytes(rel).to_vec(),
            Err(_) => sys::bytes(dest).to_vec(),
        }
    }

    /// rsync's `full_fname()` of a receiver-relative name:
    /// `/abs/dest/sub/x`, or `/abs/dest/.` for the root.
    fn recv_shown(&self, local: &[u8]) -> String {
        let mut full = sys::bytes(&sys::absolute(&self.dest_root)).to_vec();
        if !full.ends_with(b"/") {
            full.push(b'/');
        }
        full.extend_from_slice(local);
        self.report.esc(&full)
    }

    /// Takes in a listing made on a scanner thread.
    fn absorb(&mut self, l: Listing) -> Vec<Entry> {
        self.report.stats.total_size += l.shadowed_size;
        for d in l.diags {
            self.diag(d);
        }
        l.entries
    }

    fn diag(&mut self, d: Diag) {
        match d {
            Diag::Info(s) => self.report.info(s),
            Diag::Error(s) => self.report.error(s),
            Diag::Vanished(s) => self.report.vanished(s),
        }
    }

    fn forward(&mut self, walker: &mut Walker) {
        self.report.stats.total_size += std::mem::take(&mut walker.shadowed_size);
        for d in walker.diags.drain(..) {
            match d {
                Diag::Info(s) => self.report.info(s),
                Diag::Error(s) => self.report.error(s),
                Diag::Vanished(s) => self.report.vanished(s),
            }
        }
    }

    fn count(&mut self, e: &Entry) {
        self.report.stats.num_files += 1;
        self.report.stats.total_size += e.counted_size();
    }

    /// rsync's `get_local_name()`: decides whether DEST is a directory to
    /// copy into or the new name of a single item, creating it if needed.
    fn resolve_dest(
        &mut self,
        arg: &[u8],
        total: usize,
        top: &crate::walk::TopLevel,
    ) -> Result<Dest, ExitCode> {
        let opts = self.opts;
        let mut arg = arg.to_vec();
        if arg.is_empty() {
            arg = b".".to_vec();
        }
        let trailing_slash = arg.ends_with(b"/");
        let has_slash = arg.contains(&b'/');
        let path = PathBuf::from(OsStr::from_bytes(&arg));
        let shown =
            |p: &Path| sys::escape_name(sys::bytes(&sys::absolute(p)), sys::locale_is_utf8());
        let shown_arg = {
            let mut s = shown(&path);
            if trailing_slash && !s.ends_with('/') {
                s.push('/');
            }
            s
        };
        let mut st = sys::stat(&path);
        let name = self.report.name.clone();

        if opts.mkpath && st.is_err() && (has_slash || total > 1) {
            // rsync's make_path(): the whole path when DEST must be a new
            // directory named without a slash, else up to the last slash.
            let target = if total > 1 && !trailing_slash {
                path.clone()
            } else {
                let cut = arg.iter().rposition(|&b| b == b'/').unwrap_or(0);
                PathBuf::from(OsStr::from_bytes(&arg[..cut]))
            };
            match mkpath(&target, opts.dry_run) {
                Ok(0) => {}
                Ok(n) => {
                    if opts.info_name() > 0 || opts.format_has_i() > 0 {
                        let mut what = arg.clone();
                        if (total == 1 || trailing_slash)
                            && let Some(p) = what.iter().rposition(|&b| b == b'/')
                        {
                            what.truncate(p);
                        }
                        self.report.info(format!(
                            "created {n} director{} for {}",
                            if n == 1 { "y" } else { "ies" },
                            self.report.esc(&what)
                        ));
                    }
                    st = sys::stat(&path);
                }
                Err((p, e)) => {
                    return Err(self.usage_exit(
                        &format!(
                            "{name}: [Receiver] mkdir \"{}\" failed: {}",
                            shown(&p),
                            sys::errno_text(e)
                        ),
                        ExitCode::FileIo,
                    ));
                }
            }
        }

        match st {
            Ok(s) if s.kind() == Kind::Dir => {
                return Ok(Dest {
                    path,
                    solo: false,
                    fresh: false,
                });
            }
            Ok(_) => {
                if total > 1 {
                    return Err(self.usage_exit(
                        "ERROR: destination must be a directory when copying more than 1 file",
                        ExitCode::FileSelect,
                    ));
                }
                let lone_dir = top.dot.is_some() || top.entries.first().is_some_and(Entry::is_dir);
                if total == 1 && lone_dir {
                    return Err(self.usage_exit(
                        "ERROR: cannot overwrite non-directory with a directory",
                        ExitCode::FileSelect,
                    ));
                }
            }
            Err(Errno::NOENT) => {}
            Err(e) => {
                return Err(self.usage_exit(
                    &format!(
                        "{name}: [Receiver] ERROR: cannot stat destination \"{}\": {}",
                        shown_arg,
                        sys::errno_text(e)
                    ),
                    ExitCode::FileSelect,
                ));
            }
        }

        if total > 1 || trailing_slash {
            let mut p = arg.clone();
            if trailing_slash && p.len() > 1 {
                p.pop();
            }
            let dir = PathBuf::from(OsStr::from_bytes(&p));
            if st.is_ok() {
                return Err(self.usage_exit(
                    "ERROR: destination path is not a directory",
                    ExitCode::Syntax,
                ));
            }
            if !opts.dry_run
                && let Err(e) = rustix::fs::mkdir(&dir, Mode::from_raw_mode(0o777))
            {
                return Err(self.usage_exit(
                    &format!(
                        "{name}: [Receiver] mkdir \"{}\" failed: {}",
                        shown(&dir),
                        sys::errno_text(e)
                    ),
                    ExitCode::FileIo,
                ));
            }
            if opts.info_name() > 0 || opts.format_has_i() > 0 {
                let shown_name = self.report.esc(&p);
                self.report.info(format!("created directory {shown_name}"));
            }
            return Ok(Dest {
                path: dir,
                solo: false,
                fresh: true,
            });
        }

        // A single item written under the given name: its directory must exist.
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            match sys::stat(parent) {
                Ok(s) if s.kind() == Kind::Dir => {}
                Ok(_) => {
                    return Err(self.usage_exit(
                        &format!(
                            "{name}: [Receiver] change_dir#3 \"{}\" failed: {}",
                            shown(parent),
                            sys::errno_text(Errno::NOTDIR)
                        ),
                        ExitCode::FileSelect,
                    ));
                }
                Err(e) => {
                    return Err(self.usage_exit(
                        &format!(
                            "{name}: [Receiver] change_dir#3 \"{}\" failed: {}",
                            shown(parent),
                            sys::errno_text(e)
                        ),
                        ExitCode::FileSelect,
                    ));
                }
            }
        }
        Ok(Dest {
            path,
            solo: true,
            fresh: false,
        })
    }

    /// Processes a sorted listing: every entry in order, each directory
    /// followed by its own contents when recursing. `existing` is the
    /// listing of the destination directory the entries go into, when it
    /// existed beforehand (`None` with `parent_fresh`: nothing there).
    #[allow(clippy::too_many_arguments)]
    fn process_list(
        &mut self,
        planner: &Planner<'_>,
        walker: &mut Walker,
        entries: &[Entry],
        dest: &Dest,
        parent_fresh: bool,
        existing: Option<&DirListing>,
        mut first_level: Option<Vec<Entry>>,
    ) {
        let recurse = self.opts.recursive() && !dest.solo;
        // Ask the scanner threads for the listings of the subdirectories
        // (source, and destination where one exists) before they are
        // reached, so listing overlaps with handling.
        let mut tickets: Vec<Option<Ticket>> = entries
            .iter()
            .map(|e| {
                if !recurse || !e.is_dir() || !self.scanner.available() || first_level.is_some() {
                    return None;
                }
                let existing_dir = match existing {
                    Some(l) => l
                        .get(base_name(&e.name))
                        .is_some_and(|s| s.kind() == Kind::Dir),
                    None => !parent_fresh,
                };
                let target = join_name(&dest.path, &e.name);
                Some(
                    self.scanner
                        .request(e, existing_dir.then_some(target.as_path())),
                )
            })
            .collect();
        for (i, e) in entries.iter().enumerate() {
            let ticket = tickets[i].take();
            if self.stopping() {
                if let Some(t) = ticket {
                    self.scanner.cancel(t);
                }
                continue;
            }
            self.count(e);
            // In solo mode the one item takes DEST's name; it has no
            // children (that is what made it solo).
            let target = if dest.solo {
                dest.path.clone()
            } else {
                join_name(&dest.path, &e.name)
            };
            let known = match existing {
                Some(l) if !dest.solo => Known::Listed(l.get(base_name(&e.name))),
                _ if parent_fresh => Known::Listed(None),
                _ => Known::Unknown,
            };
            let Some(children_fresh) = self.handle(planner, e, &target, known, false) else {
                if let Some(t) = ticket {
                    self.scanner.cancel(t);
                }
                continue;
            };
            if recurse {
                let (children, listing) = match (first_level.take(), ticket) {
                    (Some(c), _) => (c, None),
                    (None, Some(t)) => {
                        let (src, dst) = self.scanner.collect(t);
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
                        self.forward(walker);
                        let l = if children_fresh {
                            None
                        } else {
                            crate::scan::list_dir(&target).ok()
                        };
                        (c, l)
                    }
                };
                // A listing taken before this directory was replaced or
                // created is stale: its children are new.
                let listing = if children_fresh { None } else { listing };
                self.process_list(
                    planner,
                    walker,
                    &children,
                    dest,
                    children_fresh,
                    listing.as_ref(),
                    None,
                );
            }
            self.leave_dir();
        }
    }

    /// The listing of an existing destination directory (none when we
    /// just made it, or in solo mode).
    fn listing_of(&self, dest: &Dest, fresh: bool) -> Option<DirListing> {
        if fresh || dest.solo {
            return None;
        }
        crate::scan::list_dir(&dest.path).ok()
    }

    fn stopping(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.fatal.is_some()
    }

    fn leave_dir(&mut self) {
        self.dir_stack.pop();
    }

    fn shown(&self, p: &Path) -> String {
        self.report.esc(sys::bytes(&sys::absolute(p)))
    }

    fn wanted(&self, e: &Entry, d: &Decision) -> Wanted {
        Wanted {
            mode: d.mode,
            uid: e.stat.uid,
            gid: e.stat.gid,
            mtime: e.stat.mtime,
            mtime_nsec: e.stat.mtime_nsec,
            kind: e.kind(),
        }
    }

    /// Applies attributes to a path; `None` after reporting a failure.
    fn apply_attrs(
        &mut self,
        path: &Path,
        current: &Stat,
        want: &Wanted,
        policy: &Policy,
    ) -> Option<meta::Updated> {
        match meta::apply(Target::<std::fs::File>::Path(path), current, want, policy) {
            Ok(u) => Some(u),
            Err(e) => {
                let local = self.local_of(path);
                let msg = format!(
                    "[generator] {} \"{}\": {}",
                    e.what,
                    self.recv_shown(&local),
                    sys::errno_text(e.errno)
                );
                self.report.error(msg);
                None
            }
        }
    }

    /// Removes what is in the way of a new item (rsync's `delete_item`
    /// with a DEL_FOR_* flag). A non-empty directory is left alone (that
    /// needs `--force`), with rsync's two messages. Returns whether the
    /// way is clear.
    fn make_room(&mut self, path: &Path, old: &Stat, what: &str) -> bool {
        let local = self.local_of(path);
        let name = self.report.esc(&local);
        let is_dir = old.kind() == Kind::Dir;
        if is_dir && !dir_is_empty(path) {
            self.report
                .info(format!("cannot delete non-empty directory: {name}"));
            self.report
                .error_raw(format!("could not make way for new {what}: {name}"));
            self.report.errors.general = true;
            return false;
        }
        if self.opts.dry_run {
            return true;
        }
        let r = if is_dir {
            rustix::fs::rmdir(path)
        } else {
            rustix::fs::unlink(path)
        };
        match r {
            Ok(()) | Err(Errno::NOENT) => true,
            Err(err) => {
                let op = if is_dir { "rmdir" } else { "unlink" };
                let msg = format!(
                    "[generator] delete_file: {op}({name}) failed: {}",
                    sys::errno_text(err)
                );
                self.report.error(msg);
                self.report
                    .error_raw(format!("could not make way for new {what}: {name}"));
                false
            }
        }
    }

    /// Handles one entry at `dest`. For a directory that may be descended
    /// into, returns `Some(children_are_new)`.
    fn handle(
        &mut self,
        planner: &Planner<'_>,
        e: &Entry,
        dest: &Path,
        known: Known,
        root_created: bool,
    ) -> Option<bool> {
        let real_old = match known {
            Known::Listed(st) => st,
            Known::Unknown => match sys::lstat(dest) {
                Ok(s) => Some(s),
                Err(Errno::NOENT) => None,
                Err(err) => {
                    let msg = format!(
                        "[generator] recv_generator: failed to stat \"{}\": {}",
                        self.shown(dest),
                        sys::errno_text(err)
                    );
                    self.report.error(msg);
                    return None;
                }
            },
        };
        let old = if root_created { None } else { real_old };
        let d = planner.decide(e, dest, old);
        let kind = e.kind();
        let opts = self.opts;
        match &d.action {
            Action::Dir { exists, remove } => {
                if let Some(r) = remove
                    && !self.make_room(dest, r, "directory")
                {
                    self.report
                        .error_raw("*** Skipping any contents from this failed directory ***");
                    return None;
                }
                self.report.item(d.iflags, kind, &e.name, None);
                // The destination root we created ourselves is new for
                // itemizing, but already exists on disk.
                let on_disk = *exists || (root_created && !opts.dry_run);
                let mut current = real_old.filter(|s| s.kind() == Kind::Dir);
                if !on_disk {
                    if opts.dry_run {
                        self.push_dir(dest, e, None, None);
                        return Some(true);
                    }
                    let mut mode = d.mode & 0o7777;
                    if !self.recv.am_root {
                        mode |= 0o700;
                    }
                    if let Err(err) = rustix::fs::mkdir(dest, Mode::from_raw_mode(mode))
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
                        return None;
                    }
                    current = sys::lstat(dest).ok();
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
                    let policy = Policy::new(opts, &self.recv, e.stat.gid);
                    // Times are set now (as rsync does) and re-checked
                    // once the contents are written.
                    if !self.recv.am_root && want.mode & 0o700 != 0o700 && !opts.dry_run {
                        restore = Some(want.mode & 0o7777);
                        want.mode |= 0o700;
                    }
                    self.apply_attrs(dest, &cur, &want, &policy);
                }
                self.push_dir(dest, e, restore, current);
                Some(created)
            }
            Action::Attrs { current } => {
                let want = self.wanted(e, &d);
                let mut policy = Policy::new(opts, &self.recv, e.stat.gid);
                if kind == Kind::File && opts.checksum {
                    policy.accurate_time = true;
                }
                if kind == Kind::Symlink && !opts.times {
                    policy.set_times = false;
                }
                let current = *current;
                let updated = self.apply_attrs(dest, &current, &want, &policy);
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
                self.report.item(d.iflags, kind, &e.name, e.link.as_deref());
                None
            }
            Action::SkipNonRegular => {
                let name = self.report.esc(&e.name);
                self.report
                    .info(format!("skipping non-regular file \"{name}\""));
                None
            }
            Action::Symlink { replace } => {
                let target = e.link.clone().unwrap_or_default();
                if let Some(r) = replace
                    && r.kind() == Kind::Dir
                    && !self.make_room(dest, r, "symlink")
                {
                    return None;
                }
                let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
                if !opts.dry_run {
                    if let Err(msg) =
                        self.create_node(dest, atomic, |p| rustix::fs::symlink(path_of(&target), p))
                    {
                        let msg = format!(
                            "[generator] symlink \"{}\" -> \"{}\" failed: {msg}",
                            self.shown(dest),
                            self.report.esc(&target)
                        );
                        self.report.error(msg);
                        return None;
                    }
                    let want = self.wanted(e, &d);
                    let policy = Policy::new(opts, &self.recv, e.stat.gid);
                    if let Ok(cur) = sys::lstat(dest) {
                        self.apply_attrs(dest, &cur, &want, &policy);
                    }
                }
                self.report.item(d.iflags, kind, &e.name, Some(&target));
                None
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
                    return None;
                }
                let atomic = replace.is_some_and(|r| r.kind() != Kind::Dir);
                if !opts.dry_run {
                    let ft = FileType::from_raw_mode(e.stat.mode);
                    let perm = Mode::from_raw_mode(d.mode & 0o7777);
                    let rdev = e.stat.rdev;
                    if let Err(msg) = self.create_node(dest, atomic, |p| {
                        rustix::fs::mknodat(rustix::fs::CWD, p, ft, perm, rdev)
                    }) {
                        let msg =
                            format!("[generator] mknod \"{}\" failed: {msg}", self.shown(dest));
                        self.report.error(msg);
                        return None;
                    }
                    let want = self.wanted(e, &d);
                    let policy = Policy::new(opts, &self.recv, e.stat.gid);
                    if let Ok(cur) = sys::lstat(dest) {
                        self.apply_attrs(dest, &cur, &want, &policy);
                    }
                }
                self.report.item(d.iflags, kind, &e.name, None);
                None
            }
            Action::Transfer { remove, basis } => {
                if let Some(r) = remove
                    && !self.make_room(dest, r, "regular file")
                {
                    return None;
                }
                let line = self.report.item_line(d.iflags, kind, &e.name, None);
                self.report.stats.num_transferred += 1;
                self.report.stats.transferred_size += e.stat.size;
                if opts.dry_run {
                    if let Some(l) = line {
                        self.report.info(l);
                    }
                    return None;
                }
                let slot = self.report.reserve();
                let token = self.next_token;
                self.next_token += 1;
                self.pending.insert(
                    token,
                    Pending {
                        slot,
                        line,
                        size: e.stat.size,
                    },
                );
                let job = CopyJob {
                    token,
                    src: e.src.clone(),
                    dest: dest.to_path_buf(),
                    size: e.stat.size,
                    fresh: basis.is_none(),
                    new_ids: (self.recv.euid, self.new_file_gid()),
                    want: self.wanted(e, &d),
                    policy: Policy::new(opts, &self.recv, e.stat.gid),
                };
                self.drain_ready();
                if let Some(engine) = self.engine.as_mut() {
                    engine.submit(job);
                }
                None
            }
        }
    }

    /// The group new files in the innermost open directory get.
    fn new_file_gid(&self) -> u32 {
        match self.dir_stack.last() {
            Some(d) => d.new_file_gid,
            None => {
                let parent = self.dest_root.clone();
                match sys::stat(&parent) {
                    Ok(st) if st.mode & 0o2000 != 0 => st.gid,
                    _ => self.recv.egid,
                }
            }
        }
    }

    fn push_dir(&mut self, dest: &Path, e: &Entry, restore: Option<u32>, current: Option<Stat>) {
        self.dir_fixes.push(DirFix {
            path: dest.to_path_buf(),
            mtime: e.stat.mtime,
            mtime_nsec: e.stat.mtime_nsec,
            restore_mode: restore,
        });
        let new_file_gid = match current {
            Some(st) if st.mode & 0o2000 != 0 => st.gid,
            _ => self.recv.egid,
        };
        self.dir_stack.push(OpenDir { new_file_gid });
    }

    /// Creates a symlink or node, atomically over an existing non-directory
    /// (made under a temporary name, then renamed into place).
    fn create_node(
        &mut self,
        dest: &Path,
        atomic: bool,
        make: impl Fn(&Path) -> Result<(), Errno>,
    ) -> Result<(), String> {
        if !atomic || self.opts.temp_dir.is_some() {
            if atomic {
                let _ = rustix::fs::unlink(dest);
            }
            return make(dest).map_err(sys::errno_text);
        }
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = dest
            .file_name()
            .map(|n| sys::bytes(Path::new(n)).to_vec())
            .unwrap_or_default();
        for _ in 0..100 {
            let tmp = engine::temp_name(dir, &base);
            match make(&tmp) {
                Ok(()) => {
                    return rustix::fs::rename(&tmp, dest).map_err(|e| {
                        let _ = rustix::fs::unlink(&tmp);
                        sys::errno_text(e)
                    });
                }
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(sys::errno_text(e)),
            }
        }
        Err(sys::errno_text(Errno::EXIST))
    }

    fn complete(&mut self, token: u64, outcome: Outcome) {
        let Some(p) = self.pending.remove(&token) else {
            return;
        };
        match outcome {
            Outcome::Copied(n) => {
                self.report.stats.literal_data += n;
                let _ = p.size;
                self.report.complete(p.slot, p.line, Vec::new());
            }
            Outcome::Vanished(msg) => {
                self.report.errors.vanished = true;
                self.report.complete(p.slot, Some(msg), Vec::new());
            }
            Outcome::Failed(msg) => {
                self.report.complete(p.slot, p.line, vec![msg]);
            }
            Outcome::SenderFailed(msg) => {
                self.report.complete(p.slot, None, vec![msg]);
            }
            Outcome::Fatal(msg) => {
                self.report.complete(p.slot, None, vec![msg.clone()]);
                self.fatal = Some(msg);
                self.abort.store(true, Ordering::Relaxed);
            }
            Outcome::Interrupted => {
                self.report.complete(p.slot, None, Vec::new());
            }
        }
    }

    fn drain_ready(&mut self) {
        while let Some(d) = self.engine.as_mut().and_then(|e| e.try_done()) {
            self.complete(d.token, d.outcome);
        }
    }

    fn drain_all(&mut self) {
        while let Some(d) = self.engine.as_mut().and_then(|e| e.wait_done()) {
            self.complete(d.token, d.outcome);
        }
        // A fatal error set `abort` to stop the other lanes; it is not a signal.
        if self.fatal.is_some() {
            self.abort.store(false, Ordering::Relaxed);
        }
    }

    /// Sets directory times (and restores permissions) once their
    /// contents are final, deepest first.
    fn finish_dirs(&mut self) {
        if self.opts.dry_run {
            return;
        }
        let fixes = std::mem::take(&mut self.dir_fixes);
        for f in fixes.iter().rev() {
            // Like rsync's touch_up_dirs: compare with the window (whole
            // seconds by default), so sub-second differences are left alone.
            let differs = match sys::lstat(&f.path) {
                Ok(st) => !self
                    .opts
                    .same_time(f.mtime, f.mtime_nsec, st.mtime, st.mtime_nsec),
                Err(_) => false,
            };
            if self.opts.times && differs {
                let ts = rustix::fs::Timestamps {
                    last_access: rustix::fs::Timespec {
                        tv_sec: 0,
                        tv_nsec: rustix::fs::UTIME_OMIT,
                    },
                    last_modification: rustix::fs::Timespec {
                        tv_sec: f.mtime,
                        tv_nsec: f.mtime_nsec as _,
                    },
                };
                // rsync's touch_up_dirs ignores failures here; any problem
                // was already reported when the directory was handled.
                let _ = rustix::fs::utimensat(
                    rustix::fs::CWD,
                    &f.path,
                    &ts,
                    rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                );
            }
            if let Some(m) = f.restore_mode {
                let _ = rustix::fs::chmod(&f.path, Mode::from_raw_mode(m));
            }
        }
    }
}

/// What is known about an entry's destination before looking.
#[derive(Clone, Copy, Debug)]
enum Known {
    /// From a listing of its directory (`None`: nothing there).
    Listed(Option<Stat>),
    /// Not known: look.
    Unknown,
}

/// The last component of an entry name.
fn base_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'/') {
        Some(p) => &name[p + 1..],
        None => name,
    }
}

/// Whether a directory has no entries (an unreadable one counts as not
/// empty: it cannot be removed either).
fn dir_is_empty(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut it) => it.next().is_none(),
        Err(_) => false,
    }
}

/// `mkdir -p` for `--mkpath`; returns how many directories were made.
fn mkpath(path: &Path, dry_run: bool) -> Result<usize, (PathBuf, Errno)> {
    let mut missing = Vec::new();
    let mut p = path.to_path_buf();
    loop {
        if p.as_os_str().is_empty() {
            break;
        }
        match sys::stat(&p) {
            Ok(_) => break,
            Err(Errno::NOENT) => {
                missing.push(p.clone());
                match p.parent() {
                    Some(q) => p = q.to_path_buf(),
                    None => break,
                }
            }
            Err(e) => return Err((p, e)),
        }
    }
    if dry_run {
        return Ok(missing.len());
    }
    for d in missing.iter().rev() {
        if let Err(e) = rustix::fs::mkdir(d, Mode::from_raw_mode(0o777))
            && e != Errno::EXIST
        {
            return Err((d.clone(), e));
        }
    }
    Ok(missing.len())
}
