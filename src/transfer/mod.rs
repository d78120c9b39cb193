//! One local transfer from start to finish: resolve the sources and the
//! destination (`dest`), walk the file list in rsync's order (here), act
//! on each entry's plan (`entry`), hand content copies to the engine and
//! collect them (`done`), and finish with directory times and the summary.
//!
//! This is the only place where the stages meet; each of them stays
//! ignorant of the others.

mod deletion;
mod dest;
mod done;
mod entry;
mod hlink;
mod list;
mod onefs;
mod relative;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode};
use rustix::io::Errno;

use crate::backup::Backup;
use crate::delete::{DelFlags, DelResult, Deleter};
use crate::engine::{self, CopyJob, Engine, Outcome};
use crate::exit::ExitCode;
use crate::filter::FilterList;
use crate::meta::{self, Policy, Receiver, Target, Wanted};
use crate::options::{DeleteWhen, Options};
use crate::plan::{Action, Decision, Planner, SkipWhy};
use crate::report::{Report, Slot};
use crate::scan::{DirListing, Scanner, Ticket};
use crate::sys::{self, DirAt, Kind, Stat};
use crate::walk::{Diag, Entry, Listing, WalkConfig, Walker};
use hlink::{Arrival, GroupKey, Hlinks};

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
    /// The item, for its lines once the copy is done (`None` when an
    /// identical basis file settled it and its line was printed already).
    rec: Option<crate::report::ItemRec>,
    /// Sent from the source (counts as literal data), not copied locally
    /// from a basis file.
    from_source: bool,
    /// `-b`: the destination and its backup name, for the -vv line.
    backup: Option<(PathBuf, PathBuf)>,
    /// `--delay-updates`: where the file was staged, and its final path.
    delayed: Option<(PathBuf, PathBuf)>,
    /// The final destination path (for `--partial-dir` clean-up).
    dest: Option<PathBuf>,
    /// For `--remove-source-files`: the source and what it looked like.
    src: Option<(PathBuf, Vec<u8>, Stat)>,
}

/// A directory whose mtime (and, for non-root, permissions) is settled
/// after its contents.
struct DirFix {
    path: PathBuf,
    mtime: i64,
    mtime_nsec: u32,
    /// Permissions to restore after temporarily adding u+rwx.
    restore_mode: Option<u32>,
    /// `-K`: its time was settled already (or is another path's to set),
    /// see `Transfer::settle_same_dir`.
    settled: bool,
}

/// A destination directory being filled.
struct OpenDir {
    /// Its path (as the entries below it are named).
    path: PathBuf,
    /// Its handle, which everything made in it goes through (see
    /// `sys::DirAt`); the error if it could not be opened, which every
    /// entry below it then reports.
    at: Result<DirAt, Errno>,
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
    /// `-K`: the directories of `dir_fixes` by device and inode (one can
    /// be reached by two paths, through a kept symlink).
    dir_ids: HashMap<(u64, u64), usize>,
    /// The directories being filled, innermost last.
    dir_stack: Vec<OpenDir>,
    abort: Arc<AtomicBool>,
    fatal: Option<String>,
    /// What listing needs (shared with the scanner threads).
    walk_cfg: WalkConfig,
    /// The exit code of a fatal error (rsync's: 11 for the engine's, the
    /// filter error's own for a merge file).
    fatal_code: ExitCode,
    /// The directory rsync's receiver would have changed into: DEST itself,
    /// or DEST's parent when DEST names a single item. Receiver messages
    /// name paths relative to it.
    dest_root: PathBuf,
    /// The handle of `dest_root` (its path where it does not exist, in a
    /// dry run).
    root_at: DirAt,
    /// Lists existing destination directories alongside the source walk.
    scanner: Scanner,
    /// Deletion state (`--delete*`, type changes, `--max-delete`).
    deleter: Deleter,
    /// `-b`: where old versions go.
    backup: Option<Backup>,
    /// `--delete-delay`: what to delete once the transfer is done.
    delayed: Vec<(PathBuf, Stat)>,
    /// The source side reported an I/O error: rsync then refuses to delete.
    flist_error: bool,
    /// "IO error encountered -- skipping file deletion" was printed.
    warned_io: bool,
    /// rsync's unfinished `building file list ... ` line (see `diag`).
    flist_line_open: bool,
    /// Per-directory merge rules whose one-time parent-directory scan
    /// belongs to the first directory listed: until then directories are
    /// listed in order on this thread, not ahead on the scanner's.
    merge_setup_pending: bool,
    /// `--delay-updates`: staged files to move into place at the end, in
    /// file-list order (by submission token).
    staged: Vec<(u64, PathBuf, PathBuf)>,
    /// The attribute options (`-X`, `-A`, `-E`, `--chmod`, id maps,
    /// `--fake-super`) and what they found wrong at start-up.
    attrs: Arc<meta::RunAttrs>,
    map_report: Option<meta::run::MapReport>,
    /// `-H`: hard-link groups.
    hlinks: Hlinks,
}

fn path_of(b: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(b))
}

fn join_name(root: &Path, name: &[u8]) -> PathBuf {
    if name == b"." {
        root.to_path_buf()
    } else {
        // `-R /abs/path` keeps its leading slash in the name only.
        let rel = name.iter().position(|&b| b != b'/').unwrap_or(name.len());
        root.join(path_of(&name[rel..]))
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

/// `a/b/../c` → `a/c`, lexically (rsync's `CFN_COLLAPSE_DOT_DOT_DIRS`).
fn collapse_dot_dot(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// rsync's exit code for a filter error.
fn filter_exit(e: &crate::filter::FilterError) -> ExitCode {
    if e.exit_code() == 1 {
        ExitCode::Syntax
    } else {
        ExitCode::FileIo
    }
}

/// The filter rules of the run: the command line's, then the implicit
/// rule rsync adds for a relative `--partial-dir` (and `--delay-updates`'
/// `.~tmp~`): a perishable exclude of that directory, so it is neither
/// sent nor deleted unless its parent goes. `None` when there are none.
fn build_filters(opts: &Options) -> Result<Option<FilterList>, crate::filter::FilterError> {
    let mut args = opts.filters.clone();
    if let Some(d) = &opts.partial_dir {
        let d = sys::bytes(d);
        let d = d.strip_suffix(b"/").unwrap_or(d);
        if !d.is_empty() && !d.starts_with(b"/") && d != b"." {
            let mut rule = b"-p ".to_vec();
            rule.extend_from_slice(d);
            rule.push(b'/');
            args.push(crate::filter::FilterArg::Filter(
                OsStr::from_bytes(&rule).to_owned(),
            ));
        }
    }
    if args.is_empty() {
        return Ok(None);
    }
    FilterList::build(&args, opts.from0).map(Some)
}

/// Runs a local transfer and returns rsync's exit code.
pub fn run(opts: &Options, name: &str) -> ExitCode {
    let mut report = Report::new(name, opts);
    let filters = match build_filters(opts) {
        Ok(f) => f,
        Err(e) => {
            report.error_raw(e.line(name));
            let code = filter_exit(&e);
            report.error_raw(crate::final_line!(name, code).to_string());
            report.flush();
            return code;
        }
    };
    if let Some(f) = &filters {
        for w in f.warnings() {
            report.warning(w.clone());
        }
    }
    let recv = Receiver::for_options(opts);
    let (attrs, map_report) = meta::RunAttrs::new(opts, &recv);
    let attrs = Arc::new(attrs);
    let mut walk_cfg = WalkConfig::new(opts);
    walk_cfg.filters = filters.clone();
    walk_cfg.set_attrs(&attrs);
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
        recv,
        report,
        engine: None,
        pending: HashMap::new(),
        next_token: 0,
        dir_fixes: Vec::new(),
        dir_ids: HashMap::new(),
        dir_stack: Vec::new(),
        abort,
        fatal: None,
        walk_cfg: walk_cfg.clone(),
        fatal_code: ExitCode::FileIo,
        dest_root: PathBuf::from("."),
        root_at: DirAt::Path(PathBuf::from(".")),
        scanner: Scanner::start(walk_cfg.clone()),
        deleter: Deleter {
            max: opts.max_delete,
            count: 0,
            skipped: 0,
            dry_run: opts.dry_run,
            root: PathBuf::from("."),
            protect_suffix: None,
            filters: None,
            root_at: None,
            keep_dirlinks: false,
            last_dir: None,
        },
        backup: None,
        delayed: Vec::new(),
        flist_error: false,
        warned_io: false,
        flist_line_open: false,
        merge_setup_pending: filters.as_ref().is_some_and(FilterList::has_dir_merge),
        staged: Vec::new(),
        attrs,
        map_report: Some(map_report),
        hlinks: Hlinks::default(),
    };
    let code = t.run();
    t.report.flush();
    code
}

impl Transfer<'_> {
    pub(super) fn usage_exit(&mut self, msg: &str, code: ExitCode) -> ExitCode {
        self.report.error_raw(msg.to_string());
        let l = crate::final_line!(&self.report.name, code).to_string();
        self.report.error_raw(l);
        code
    }

    pub(super) fn run(&mut self) -> ExitCode {
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
        // A lone operand is listed; with --list-only a last operand is
        // a destination that is never looked at.
        let (sources, dest_arg) = match args.len() {
            0 => return ExitCode::Syntax,
            1 => (&args[..], &args[..]),
            n => args.split_at(n - 1),
        };
        let dest_arg = dest_arg[0].as_bytes().to_vec();

        let flist = opts.info_flist();
        if flist > 0 && opts.inc_recurse() {
            self.report.client("sending incremental file list");
        }
        // rsync's receiver parses the id maps as it starts: after the
        // header, before anything is created.
        if let Some(code) = self.report_maps() {
            return code;
        }
        // rsync's "building file list ... " line is still open while the
        // list is built: the first message on stderr ends it with an
        // empty line there.
        self.flist_line_open = flist == 1 && !opts.inc_recurse() && opts.xfer_dirs();
        let mut walker = Walker::new(self.walk_cfg.clone());
        // --files-from: the names come from the list, below the one source.
        let from_list;
        let mut root: Option<&[u8]> = None;
        let sources = match &opts.files_from {
            Some(spec) => {
                match crate::select::read_files_from(spec, opts.from0, opts.relative) {
                    Ok(l) => from_list = l,
                    Err(msg) => {
                        let name = self.report.name.clone();
                        return self.usage_exit(&format!("{name}: {msg}"), ExitCode::Syntax);
                    }
                }
                let base = sources[0].as_bytes();
                match sys::stat(path_of(base)) {
                    Ok(st) if st.kind() == Kind::Dir => {}
                    res => {
                        let e = match res {
                            Err(e) => e,
                            Ok(_) => Errno::NOTDIR,
                        };
                        // rsync names the argument as typed, below the
                        // current directory.
                        let mut full = Vec::new();
                        if !base.starts_with(b"/") {
                            let cwd = std::env::current_dir().unwrap_or_default();
                            full.extend_from_slice(sys::bytes(&cwd));
                            full.push(b'/');
                        }
                        full.extend_from_slice(base);
                        let msg = format!(
                            "{}: [sender] change_dir \"{}\" failed: {}",
                            self.report.name,
                            self.report.esc(&full),
                            sys::errno_text(e)
                        );
                        return self.usage_exit(&msg, ExitCode::FileSelect);
                    }
                }
                root = Some(base);
                if !opts.relative {
                    from_list
                        .iter()
                        .map(|l| {
                            let mut p = base.to_vec();
                            if !p.ends_with(b"/") {
                                p.push(b'/');
                            }
                            p.extend_from_slice(l.as_bytes());
                            std::ffi::OsString::from(OsStr::from_bytes(&p))
                        })
                        .collect::<Vec<_>>()
                } else {
                    from_list
                }
            }
            None => sources.to_vec(),
        };
        let sources = &sources[..];
        let top = if opts.relative {
            let cfg = crate::select::RelConfig {
                recursive: opts.recursive(),
                xfer_dirs: opts.xfer_dirs(),
                copy_dirlinks: opts.copy_dirlinks,
            };
            match crate::select::relative_top_level(&mut walker, sources, cfg, root) {
                Ok(t) => t,
                Err(msg) => {
                    self.forward(&mut walker);
                    return self.usage_exit(&msg, ExitCode::Syntax);
                }
            }
        } else {
            walker.top_level(sources)
        };
        self.forward(&mut walker);
        // --no-i-r: `building file list ... done`, or with --progress a
        // count that is only known once the whole list is (its slot holds
        // back all later output, as rsync prints nothing before it).
        let mut flist_slot = None;
        if flist > 0 && !opts.inc_recurse() && opts.xfer_dirs() {
            if flist > 1 {
                flist_slot = Some(self.report.reserve());
            } else {
                self.report.flist_done(flist, None);
            }
        }
        if opts.list_only {
            return self.run_list(&mut walker, &top, flist_slot);
        }

        // rsync's file_total, as far as the destination rule needs it:
        // 0, 1 or "more". A lone directory counts its first level too.
        let mut first_level: Option<Vec<Entry>> = None;
        let mut total = usize::from(top.dot.is_some()) + top.entries.len();
        // -R: an implied directory brings the named paths below it.
        if top
            .entries
            .iter()
            .any(|e| e.preset.as_ref().is_some_and(|p| !p.is_empty()))
        {
            total = total.max(2);
        }
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
        self.root_at =
            sys::open_root(&self.dest_root).unwrap_or_else(|_| DirAt::Path(self.dest_root.clone()));
        let basis = self.basis_dirs();
        let temp_dir = match self.check_temp_dir() {
            Ok(t) => t,
            Err(code) => return code,
        };

        self.deleter.root = self.dest_root.clone();
        self.deleter.root_at = Some(self.root_at.clone());
        self.deleter.keep_dirlinks = opts.keep_dirlinks;
        if let Some(list) = &self.walk_cfg.filters {
            let root = crate::filter::FilterStack::new_at(list.clone(), &self.dest_root);
            let mut f = crate::delete::RecvFilters::new(root, opts.delete_excluded);
            f.debug = self.walk_cfg.filter_debug;
            self.deleter.filters = Some(f);
        }
        if opts.backup
            && opts.backup_dir.is_none()
            && opts.delete.is_some()
            && !opts.delete_excluded
        {
            // rsync's implicit "P *~": backups in the destination survive --delete.
            self.deleter.protect_suffix = Some(opts.suffix.as_bytes().to_vec());
        }
        if opts.backup
            && let Some(d) = opts.backup_dir.as_deref()
        {
            let resolved = if d.is_absolute() {
                d.to_path_buf()
            } else {
                self.dest_root.join(d)
            };
            if sys::stat(&resolved).is_ok_and(|st| st.kind() != Kind::Dir) {
                let given = self.report.esc(sys::bytes(d));
                return self.usage_exit(
                    &format!("The backup-dir is not a directory: {given}"),
                    ExitCode::Syntax,
                );
            }
        }
        if opts.backup {
            let b = Backup::new(
                &self.dest_root,
                self.root_at.clone(),
                opts.keep_dirlinks,
                opts.backup_dir.as_deref(),
                &opts.suffix,
                opts.dry_run,
                opts.info_name() > 1,
            );
            if opts.info_name() > 1
                && let Some(line) = b.announce(opts.backup_dir.as_deref())
            {
                self.report.info(line);
            }
            self.backup = Some(b);
        }
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
            cfg.progress = self.report.progress_counter();
            self.engine = Some(engine::start(cfg));
        }

        let attrs = Arc::clone(&self.attrs);
        let planner = Planner {
            opts,
            recv: &self.recv.clone(),
            basis,
            attrs: &attrs,
        };
        if opts.delete == Some(DeleteWhen::Before) {
            self.delete_pass(&mut walker, &top, &dest);
        }
        let root_content = top.dot.as_ref().is_some_and(|d| d.preset.is_none());
        if let Some(dot) = &top.dot {
            self.count(dot);
            let next = if dot.implied && !opts.implied_dirs {
                self.pass_implied(&dest.path)
            } else {
                self.handle(&planner, dot, &dest.path, Known::Unknown, dest.fresh)
            };
            if next == Next::CountOnly {
                self.count_only(&mut walker, &top.entries);
            } else if let Next::Descend {
                fresh: children_fresh,
            } = next
            {
                let listing = self.listing_of(&dest, children_fresh);
                self.process_list(
                    &planner,
                    &mut walker,
                    &top.entries,
                    &dest,
                    Level {
                        dir: &dest.path,
                        fresh: children_fresh,
                        content: root_content,
                        existing: listing.as_ref(),
                    },
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
                Level {
                    dir: &dest.path,
                    fresh: dest.fresh,
                    content: false,
                    existing: listing.as_ref(),
                },
                first_level,
            );
        }

        self.report.list_complete();
        if let Some(slot) = flist_slot {
            self.report.flist_done(flist, Some(slot));
        }
        self.drain_all();
        self.hlink_finish_copied(&planner);
        if self.hlink_orphans(&planner) {
            self.drain_all();
            self.hlink_finish_copied(&planner);
        }
        self.finish_delayed_updates();
        self.run_delayed_deletes();
        if opts.delete == Some(DeleteWhen::After) && !self.stopping() {
            self.delete_pass(&mut walker, &top, &dest);
        }
        self.deleter.finish(&mut self.report);
        self.finish_dirs();
        let fatal = self.fatal.take().map(|_| self.fatal_code);
        self.end_run(fatal)
    }

    /// The end of a run: interrupted, or ended by a fatal error (its exit
    /// code), or the summary; then rsync's final error line for any exit
    /// code but 0.
    pub(super) fn end_run(&mut self, fatal: Option<ExitCode>) -> ExitCode {
        let code = if self.abort.load(Ordering::Relaxed) {
            ExitCode::Signal
        } else if let Some(code) = fatal {
            code
        } else {
            self.report.summary();
            self.report.errors.exit_code()
        };
        if code != ExitCode::Ok {
            let l = crate::final_line!(&self.report.name, code).to_string();
            self.report.error_raw(l);
        }
        code
    }

    /// Prints the id maps' warnings, and their error if any (then the run
    /// ends with rsync's syntax-error exit code).
    fn report_maps(&mut self) -> Option<ExitCode> {
        let r = self.map_report.take()?;
        for w in r.warnings {
            self.report.error_raw(w);
        }
        let msg = r.error?;
        Some(self.usage_exit(&msg, ExitCode::Syntax))
    }

    /// The basis directories (`--link-dest` etc.) as usable paths: relative
    /// ones are relative to the destination directory. rsync warns about
    /// missing ones and carries on.
    fn basis_dirs(&mut self) -> Option<(crate::options::BasisKind, Vec<PathBuf>)> {
        let (kind, dirs) = self.opts.basis.clone()?;
        let mut out = Vec::with_capacity(dirs.len());
        for d in dirs {
            let path = if d.is_absolute() {
                d.clone()
            } else if sys::lstat(&self.dest_root).is_err() {
                // A dry run into a missing DEST: rsync could not change
                // into it, and its path cleaning folds `DEST/../x`.
                collapse_dot_dot(&self.dest_root.join(&d))
            } else {
                self.dest_root.join(&d)
            };
            let mut shown = sys::bytes(&sys::absolute(&path)).to_vec();
            if shown.len() > 1 && shown.ends_with(b"/") {
                shown.pop();
            }
            match sys::stat(&path) {
                Ok(st) if st.kind() == Kind::Dir => {}
                Ok(_) => self.report.warning(format!(
                    "--{} arg is not a dir: {}",
                    kind.option_name(),
                    self.report.esc(&shown)
                )),
                Err(_) => self.report.warning(format!(
                    "--{} arg does not exist: {}",
                    kind.option_name(),
                    self.report.esc(&shown)
                )),
            }
            out.push(path);
        }
        Some((kind, out))
    }

    /// `--remove-source-files`: removes a source file that was transferred
    /// or found up to date, unless it changed since it was listed.
    /// Returns rsync's -vv line (or prints its error).
    pub(super) fn remove_source(&mut self, src: &Path, name: &[u8], was: &Stat) -> Option<String> {
        if self.opts.dry_run {
            return None;
        }
        let shown = self.report.esc(name);
        match sys::lstat(src) {
            Ok(now)
                if now.size != was.size
                    || now.mtime != was.mtime
                    || now.mtime_nsec != was.mtime_nsec =>
            {
                self.report.error_raw(format!(
                    "ERROR: Skipping sender remove for changed file: {shown}"
                ));
                self.report.errors.general = true;
                return None;
            }
            _ => {}
        }
        match rustix::fs::unlink(src) {
            Ok(()) => (self.opts.info_name() > 1).then(|| format!("sender removed {shown}")),
            Err(e) => {
                self.report.error(format!(
                    "[sender] sender failed to remove {shown}: {}",
                    sys::errno_text(e)
                ));
                None
            }
        }
    }

    /// A destination path relative to the receiver's directory (`.` for
    /// the destination root itself), as rsync names it in messages.
    pub(super) fn local_of(&self, dest: &Path) -> Vec<u8> {
        match sys::strip_root(dest, &self.dest_root) {
            Some(b"") => b".".to_vec(),
            Some(rel) => rel.to_vec(),
            None => sys::bytes(dest).to_vec(),
        }
    }

    /// rsync's `full_fname()` of a receiver-relative name:
    /// `/abs/dest/sub/x`, or `/abs/dest/.` for the root.
    pub(super) fn recv_shown(&self, local: &[u8]) -> String {
        let mut full = sys::bytes(&sys::absolute(&self.dest_root)).to_vec();
        if !full.ends_with(b"/") {
            full.push(b'/');
        }
        full.extend_from_slice(local);
        self.report.esc(&full)
    }

    /// Takes in a listing made on a scanner thread.
    pub(super) fn absorb(&mut self, l: Listing) -> Vec<Entry> {
        self.report.stats.total_size += l.shadowed_size;
        for d in l.diags {
            self.diag(d);
        }
        l.entries
    }

    pub(super) fn diag(&mut self, d: Diag) {
        if self.flist_line_open && !matches!(d, Diag::Info(_)) {
            self.flist_line_open = false;
            self.report.warning("");
        }
        match d {
            Diag::Info(s) => self.report.info(s),
            Diag::Error(s) => {
                self.flist_error = true;
                self.report.error(s);
            }
            Diag::ErrorRaw(s) => {
                self.flist_error = true;
                self.report.errors.general = true;
                self.report.error_raw(s);
            }
            Diag::MissingArg(s) => self.report.error(s),
            Diag::Vanished(s) => self.report.vanished(s),
            Diag::Stderr(s) => self.report.warning(s),
            Diag::Fatal(e) => {
                if self.fatal.is_none() {
                    let line = e.line(&self.report.name);
                    self.report.error_raw(line.clone());
                    self.fatal = Some(line);
                    self.fatal_code = filter_exit(&e);
                    self.abort.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    pub(super) fn forward(&mut self, walker: &mut Walker) {
        self.report.stats.total_size += std::mem::take(&mut walker.shadowed_size);
        let diags: Vec<Diag> = walker.diags.drain(..).collect();
        for d in diags {
            self.diag(d);
        }
    }

    pub(super) fn count(&mut self, e: &Entry) {
        self.report.count_entry(e.kind(), e.counted_size());
    }

    /// Counts a listing and everything below it without acting on any
    /// of it (the sender lists what the receiver skips).
    fn count_only(&mut self, walker: &mut Walker, entries: &[Entry]) {
        for e in entries {
            if self.stopping() {
                return;
            }
            self.count(e);
            if e.is_dir() && (self.opts.recursive() || e.preset.is_some()) {
                let children = walker.list(e);
                self.forward(walker);
                self.count_only(walker, &children);
            }
        }
    }

    /// Processes a sorted listing: every entry in order, each directory
    /// followed by its own contents when recursing. `level` describes the
    /// destination directory the entries go into.
    pub(super) fn process_list(
        &mut self,
        planner: &Planner<'_>,
        walker: &mut Walker,
        entries: &[Entry],
        dest: &Dest,
        level: Level<'_>,
        mut first_level: Option<Vec<Entry>>,
    ) {
        let Level {
            dir,
            fresh: parent_fresh,
            content,
            existing,
        } = level;
        if content
            && matches!(
                self.opts.delete,
                Some(DeleteWhen::During | DeleteWhen::Delay)
            )
            && let Some(l) = existing
        {
            self.delete_in_dir(dir, l, entries);
        }
        let recurse = self.opts.recursive() && !dest.solo;
        // Ask the scanner threads for the listings of the subdirectories
        // (source, and destination where one exists) before they are
        // reached, so listing overlaps with handling.
        let mut tickets: Vec<Option<Ticket>> = entries
            .iter()
            .map(|e| {
                if !(recurse || e.preset.is_some())
                    || !e.is_dir()
                    || !self.scanner.available()
                    || first_level.is_some()
                    || self.merge_setup_pending
                {
                    return None;
                }
                let existing_dir = match existing {
                    // -K: a symlink may stand for a directory.
                    Some(l) => l.get(base_name(&e.name)).is_some_and(|s| {
                        s.kind() == Kind::Dir
                            || (self.opts.keep_dirlinks && s.kind() == Kind::Symlink)
                    }),
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
            let next = if e.implied && !self.opts.implied_dirs {
                self.pass_implied(&target)
            } else {
                self.handle(planner, e, &target, known, false)
            };
            let children_fresh = match next {
                Next::Descend { fresh } => fresh,
                next => {
                    if let Some(t) = ticket {
                        self.scanner.cancel(t);
                    }
                    if next == Next::CountOnly && (recurse || e.preset.is_some()) {
                        let children = walker.list(e);
                        self.forward(walker);
                        self.count_only(walker, &children);
                    }
                    continue;
                }
            };
            if recurse || (e.preset.is_some() && !dest.solo) {
                let (children, listing) = match (first_level.take(), ticket) {
                    (Some(c), _) => {
                        let l = if children_fresh {
                            None
                        } else {
                            crate::scan::list_dir(&target).ok()
                        };
                        (c, l)
                    }
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
                        self.merge_setup_pending = false;
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
                let listing = match listing {
                    _ if children_fresh => None,
                    // -K: a symlink kept as the directory is listed through.
                    None if self.opts.keep_dirlinks => {
                        crate::scan::list_dir_following(&target).ok()
                    }
                    l => l,
                };
                self.process_list(
                    planner,
                    walker,
                    &children,
                    dest,
                    Level {
                        dir: &target,
                        fresh: children_fresh,
                        content: e.preset.is_none(),
                        existing: listing.as_ref(),
                    },
                    None,
                );
            }
            self.leave_dir();
        }
    }

    /// The listing of an existing destination directory (none when we
    /// just made it, or in solo mode).
    pub(super) fn listing_of(&self, dest: &Dest, fresh: bool) -> Option<DirListing> {
        if fresh || dest.solo {
            return None;
        }
        crate::scan::list_dir(&dest.path).ok()
    }

    pub(super) fn stopping(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.fatal.is_some()
    }

    pub(super) fn leave_dir(&mut self) {
        self.dir_stack.pop();
    }

    pub(super) fn shown(&self, p: &Path) -> String {
        self.report.esc(sys::bytes(&sys::absolute(p)))
    }

    /// The group new files in the innermost open directory get.
    pub(super) fn new_file_gid(&self) -> u32 {
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

    pub(super) fn push_dir(
        &mut self,
        dest: &Path,
        e: &Entry,
        restore: Option<u32>,
        current: Option<Stat>,
    ) {
        self.dir_fixes.push(DirFix {
            path: dest.to_path_buf(),
            mtime: e.stat.mtime,
            mtime_nsec: e.stat.mtime_nsec,
            restore_mode: restore,
            settled: false,
        });
        let new_file_gid = match current {
            Some(st) if st.mode & 0o2000 != 0 => st.gid,
            _ => self.recv.egid,
        };
        let at = self.open_dir(dest);
        if self.opts.keep_dirlinks {
            self.settle_same_dir(dest, &at);
        }
        self.dir_stack.push(OpenDir {
            path: dest.to_path_buf(),
            at,
            new_file_gid,
        });
    }

    /// Opens destination directory `dest` (just handled) for the entries
    /// below it: relative to its parent's handle, never through a symlink
    /// except the ones `-K` keeps (see `sys::open_beneath`).
    fn open_dir(&self, dest: &Path) -> Result<DirAt, Errno> {
        if sys::same_path(dest, &self.dest_root) {
            return Ok(self.root_at.clone());
        }
        let (d, base) = self.at_of(dest)?;
        match d.open_dir(&base) {
            Ok(at) => Ok(at),
            Err(Errno::NOTDIR | Errno::LOOP) if self.opts.keep_dirlinks => self.resolve_dir(dest),
            // Nothing there to open: a dry run only pretends to make it.
            Err(_) if matches!(d, DirAt::Path(_)) || self.opts.dry_run => {
                Ok(DirAt::Path(dest.to_path_buf()))
            }
            Err(e) => Err(e),
        }
    }

    /// The handle of destination directory `dir`: the root's, an open
    /// one's, or resolved anew below the root.
    pub(super) fn dir_handle(&self, dir: &Path) -> Result<DirAt, Errno> {
        if sys::same_path(dir, &self.dest_root) {
            return Ok(self.root_at.clone());
        }
        if let Some(d) = self
            .dir_stack
            .iter()
            .rev()
            .find(|d| sys::same_path(&d.path, dir))
        {
            return d.at.clone();
        }
        self.resolve_dir(dir)
    }

    /// Opens `dir` component by component from the root (see
    /// `sys::open_beneath`); a path outside the root is used as it is.
    fn resolve_dir(&self, dir: &Path) -> Result<DirAt, Errno> {
        match (&self.root_at, dir.strip_prefix(&self.dest_root)) {
            (DirAt::Fd(root), Ok(rel)) => {
                use std::os::fd::AsFd;
                sys::open_beneath(root.as_fd(), sys::bytes(rel), self.opts.keep_dirlinks)
                    .map(|fd| DirAt::Fd(Arc::new(fd)))
            }
            _ => Ok(DirAt::Path(dir.to_path_buf())),
        }
    }

    /// `--partial-dir`: the handle of the partial dir for destination
    /// entry `dest` (made first if `create`). A relative one lies in
    /// `dest`'s directory and is opened below its handle; an absolute one
    /// (or one climbing out with `..`) is the user's path.
    pub(super) fn partial_dir_at(&self, dest: &Path, create: bool) -> Result<DirAt, Errno> {
        let Some(pd) = &self.opts.partial_dir else {
            return Err(Errno::INVAL);
        };
        let climbs = pd
            .components()
            .any(|c| c == std::path::Component::ParentDir);
        if pd.is_absolute() || climbs {
            let p = engine::partial_path(pd, dest);
            let dir = p.parent().unwrap_or(Path::new("")).to_path_buf();
            if create {
                let _ = rustix::fs::mkdir(&dir, Mode::from_raw_mode(0o700));
            }
            return Ok(DirAt::Path(dir));
        }
        let (d, _) = self.at_of(dest)?;
        let name = d.name(sys::bytes(pd));
        if create {
            match rustix::fs::mkdirat(&d, &name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
        }
        match &d {
            DirAt::Fd(fd) => {
                use std::os::fd::AsFd;
                sys::open_beneath(fd.as_fd(), sys::bytes(pd), false).map(|f| DirAt::Fd(Arc::new(f)))
            }
            DirAt::Path(_) => Ok(DirAt::Path(name)),
        }
    }

    /// Where destination entry `dest` is: its directory's handle and its
    /// name in it. The destination root itself is named by its path.
    pub(super) fn at_of(&self, dest: &Path) -> Result<(DirAt, Vec<u8>), Errno> {
        if sys::same_path(dest, &self.dest_root) {
            return Ok((DirAt::Path(PathBuf::new()), sys::bytes(dest).to_vec()));
        }
        let parent = dest.parent().unwrap_or(Path::new(""));
        let base = match dest.file_name() {
            Some(n) => sys::bytes(Path::new(n)).to_vec(),
            None => return Ok((DirAt::Path(PathBuf::new()), sys::bytes(dest).to_vec())),
        };
        Ok((self.dir_handle(parent)?, base))
    }
}

/// The destination directory a listing is processed into.
pub(super) struct Level<'a> {
    /// Its path.
    dir: &'a Path,
    /// We just made it (or would have): nothing is in it.
    fresh: bool,
    /// Its contents are being synced (rsync's FLAG_CONTENT_DIR): the
    /// directories `--delete` works in.
    content: bool,
    /// What it held beforehand, if it existed and could be listed.
    existing: Option<&'a DirListing>,
}

/// What to do with a handled entry's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Next {
    /// Nothing (not a directory, or it failed, or it is left alone).
    Stop,
    /// Process them; `fresh`: the directory is new, so nothing is in it.
    Descend { fresh: bool },
    /// List and count them without acting (`--existing` skipped it).
    CountOnly,
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
pub(super) fn base_name(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b'/') {
        Some(p) => &name[p + 1..],
        None => name,
    }
}
