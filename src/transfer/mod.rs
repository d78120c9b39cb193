//! One local transfer from start to finish: set up (`setup`: the sources,
//! the destination root as `dest` resolves it, and what hangs on it), walk
//! the file list in rsync's order (`tree`), look at each entry's
//! destination and decide (`entry`), carry the decision out (`exec`, one
//! executor per action, changing the destination through `destfs`), keep
//! hard-link groups (`hlink`), hand content copies to the engine and
//! collect them (`done`), and finish with directory times and the summary.
//!
//! This is the only place where the stages meet; each of them stays
//! ignorant of the others, and each owns its part of the state (`state`).

mod debris;
mod deletion;
mod dest;
mod dirs;
mod done;
mod entry;
mod exec;
mod hlink;
mod list;
mod onefs;
mod partial;
mod relative;
mod setup;
mod state;
#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;
mod tree;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::sys::Errno;

use crate::backup::Backup;
use crate::delete::{DelFlags, DelResult, Deleter};
use crate::destfs::{self, DestFs};
use crate::engine::{self, CopyJob, Engine, Outcome};
use crate::exit::ExitCode;
use crate::filter::FilterList;
use crate::meta::{self, Policy, Receiver, Wanted};
use crate::options::{DeleteWhen, Options};
use crate::plan::{Action, BasisRefused, Decision, Planner, SkipWhy};
use crate::report::{Event, Report, Slot};
use crate::scan::{DestNeed, DirListing, Scanner, Ticket};
use crate::sys::{self, DirAt, Kind, Stat};
use crate::walk::{Entry, Listing, WalkConfig, Walker};
use exec::{Effect, Item};
use hlink::{Arrival, GroupKey, Hlinks};
use setup::{DestRoot, RunCtx, Setup, Sources};
use state::{Copies, DirFix, DirState, Disposal, Flow, Lister, OpenDir, Pending, SourceToRemove};

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

/// What the run's listings of destination directories are for: every
/// entry's status only where `--delete` compares each directory with the
/// source's during the walk (`--delete-before` and `--delete-after` list
/// in passes of their own).
fn dest_need(opts: &Options) -> DestNeed {
    match opts.delete {
        Some(DeleteWhen::During | DeleteWhen::Delay) => DestNeed::Whole,
        _ => DestNeed::Temps,
    }
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
    FilterList::build(&args, opts.from0, opts.insecure_links).map(Some)
}
/// The driver of one run: the immutable context and the mutable state,
/// each part owned by the stage that changes it.
struct Transfer<'a> {
    ctx: RunCtx<'a>,
    report: &'a mut Report,
    flow: Flow,
    copies: Copies,
    dirs: DirState,
    lister: Lister,
    disposal: Disposal,
    /// `-H`: hard-link groups.
    hlinks: Hlinks,
}

/// Runs a local transfer and returns rsync's exit code.
pub(crate) fn run(opts: &Options, name: &str) -> ExitCode {
    let mut report = Report::new(name, opts);
    let code = run_with(opts, &mut report);
    report.flush();
    code
}

/// [`run`] with its report: the rules, the attribute options, then the
/// setup and the transfer.
fn run_with(opts: &Options, report: &mut Report) -> ExitCode {
    let filters = match build_filters(opts) {
        Ok(f) => f,
        Err(e) => {
            report.error_raw(e.line(&report.name));
            let code = filter_exit(&e);
            // rsync's client reads the rule files, before any fork.
            let line = crate::final_line!(&report.name, code, Some("client"));
            report.error_raw(line.to_string());
            return code;
        }
    };
    if let Some(f) = &filters {
        for w in f.warnings() {
            report.warning(w.clone());
        }
    }
    if let Some(spec) = &opts.copy_as
        && let Err(code) = crate::copyas::become_copy_as(spec, report)
    {
        return code;
    }
    if let Some(spec) = &opts.iconv {
        if let Err(code) = start_iconv(opts, spec, report) {
            return code;
        }
        // rsync's client sets its charsets up before it meets the server
        // (and stops there if it cannot): the old-version warnings after.
        report.old_warnings(opts);
    }
    let recv = Receiver::for_options(opts);
    let (mut attrs, maps) = meta::RunAttrs::new(opts, &recv);
    attrs.set_xattr_rules(filters.as_ref(), opts.delete_excluded);
    let attrs = Arc::new(attrs);
    let mut walk_cfg = WalkConfig::new(opts);
    walk_cfg.filters = filters;
    walk_cfg.set_attrs(&attrs);
    let abort = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        let _ = signal_hook::flag::register(sig, Arc::clone(&abort));
    }
    let setup = Setup {
        opts,
        recv: &recv,
        attrs: &attrs,
        report,
        flow: Flow::new(abort),
        walk_cfg,
        fs: destfs::for_dry_run(opts.dry_run),
    };
    setup.run(maps).unwrap_or_else(|code| code)
}

/// `--iconv`: rsync's `setup_iconv()` on both sides, `-vv` naming each
/// side's charset. A charset glibc cannot open ends the run: on the
/// sending side as rsync's sender does (its receiving process, killed,
/// says so too: exit 4); on the receiving side after the sender's charset
/// line, the receiver's refusal, then the sender's lost connection (exit
/// 12, the same in 20 runs of rsync 3.5).
fn start_iconv(
    opts: &Options,
    spec: &crate::iconv::IconvSpec,
    report: &mut Report,
) -> Result<(), ExitCode> {
    let checked = spec.check();
    let name = report.name.clone();
    if let Err(e) = &checked {
        let crate::iconv::IconvError::Open { sender, .. } = e;
        if *sender {
            report.error_raw(e.to_string());
            let code = ExitCode::Unsupported;
            report.error_raw(crate::final_line!(&name, code).to_string());
            report.error_raw(crate::final_line!(&name, ExitCode::SigUsr1).to_string());
            return Err(code);
        }
    }
    if opts.verbose > 1 {
        let lossy = |cs: &[u8]| String::from_utf8_lossy(cs).into_owned();
        report.info(format!("[sender] charset: {}", lossy(&spec.local)));
    }
    if let Err(e) = checked {
        report.error_raw(e.to_string());
        report.error_raw(crate::final_line!(&name, ExitCode::Unsupported).to_string());
        report.error_raw(format!(
            "{name}: connection unexpectedly closed (0 bytes received so far) [sender]"
        ));
        report.error_raw(crate::final_line!(&name, ExitCode::Protocol).to_string());
        return Err(ExitCode::Protocol);
    }
    if opts.verbose > 1 && !opts.list_only {
        let remote = String::from_utf8_lossy(&spec.remote);
        report.warning(format!("[Receiver] charset: {remote}"));
    }
    Ok(())
}

impl Setup<'_> {
    /// Sets the run up and transfers (or lists) the sources.
    fn run(mut self, maps: meta::run::MapReport) -> Result<ExitCode, ExitCode> {
        let mut src = self.sources(maps)?;
        if self.opts.list_only {
            return Ok(self.run_list(&mut src.walker, &src.top, src.flist_slot));
        }
        let (total, first_level) = self.count_total(&mut src);
        let dest = self.resolve_dest(&src.dest_arg, total, &src.top)?;
        let root = DestRoot::of(&dest);
        let mut t = self.at_root(root)?;
        Ok(t.transfer(src, &dest, first_level))
    }
}

impl Transfer<'_> {
    /// The transfer proper, once set up: deletions before, the file list,
    /// the work left once it is done, deletions after, directory times.
    fn transfer(
        &mut self,
        mut src: Sources,
        dest: &Dest,
        first_level: Option<Vec<Entry>>,
    ) -> ExitCode {
        let opts = self.ctx.opts;
        if opts.delete == Some(DeleteWhen::Before) {
            self.delete_pass(&mut src.walker, &src.top, dest);
            // rsync's generator says this after its deletions before.
            self.report.event(Event::Delta {
                enabled: opts.whole_file == Some(false),
            });
        }
        self.list_ahead_for_errors(&mut src.walker, &src.top);
        self.list_before_acting(&mut src.walker, &src.top.entries);
        self.hlink_census(&src.walker, &src.top, dest);
        let ahead = src.dest_ahead.take();
        self.transfer_top(&mut src.walker, &src.top, dest, first_level, ahead);
        self.hlink_replay_old();
        self.report.list_complete();
        if let Some(slot) = src.flist_slot {
            self.report.flist_done(opts.info_flist(), Some(slot));
        }
        self.finish_copies();
        self.report.transfers_done();
        if !self.stopping() {
            self.report.sender_done();
        }
        self.run_delayed_deletes();
        if opts.delete == Some(DeleteWhen::After) && !self.stopping() {
            self.delete_pass(&mut src.walker, &src.top, dest);
        }
        self.disposal.deleter.finish(self.report);
        self.finish_dirs();
        let fatal = self.flow.take_fatal();
        self.flow.end_run(self.report, fatal)
    }

    /// The top level: DEST's own entry (`.`, for a source ending in `/`)
    /// and what goes into it.
    fn transfer_top(
        &mut self,
        walker: &mut Walker,
        top: &crate::walk::TopLevel,
        dest: &Dest,
        first_level: Option<Vec<Entry>>,
        ahead: Option<crate::scan::ListingAhead>,
    ) {
        let Some(dot) = &top.dot else {
            self.count_pruned(top.pruned_lead);
            let listing = self.root_listing(dest, dest.fresh, ahead);
            let level = Level {
                dir: &dest.path,
                fresh: dest.fresh,
                content: false,
                existing: listing.as_ref(),
            };
            self.process_list(walker, &top.entries, dest, level, first_level);
            return;
        };
        self.count(dot);
        let fresh = dest.fresh && !self.receiver_lists_empty_name(walker, top);
        self.report.generator_next(false);
        let next = if dot.implied() && !self.ctx.opts.implied_dirs {
            self.pass_implied(&dest.path)
        } else {
            self.handle(dot, &dest.path, Known::Unknown, fresh)
        };
        match next {
            Next::CountOnly => self.count_only(walker, &top.entries),
            Next::Descend { fresh } => {
                let listing = self.root_listing(dest, fresh, ahead);
                let level = Level {
                    dir: &dest.path,
                    fresh,
                    content: dot.is_content_dir(),
                    existing: listing.as_ref(),
                };
                self.process_list(walker, &top.entries, dest, level, first_level);
                self.leave_dir();
            }
            Next::Stop => {}
        }
    }

    /// `--iconv`: rsync's receiver lists a name it cannot convert under an
    /// empty name, which sorts before `.` in its first file list; then
    /// `.` is not the first entry and is not marked as the DEST it just
    /// made (it is itemized as an existing directory). The first list is
    /// the top level with incremental recursion, else the whole list.
    fn receiver_lists_empty_name(
        &mut self,
        walker: &mut Walker,
        top: &crate::walk::TopLevel,
    ) -> bool {
        let opts = self.ctx.opts;
        if !opts.iconv.as_ref().is_some_and(|s| s.receiver_can_fail()) {
            return false;
        }
        if walker.recv_unconvertible {
            return true;
        }
        !opts.inc_recurse() && opts.recursive() && walker.receiver_fails_below(&top.entries)
    }

    /// The copies still in flight once the list is done, the hard links
    /// that wait for them, and `--delay-updates`' moves into place.
    fn finish_copies(&mut self) {
        self.settle_copies();
        // A receiver that died (see `Flow::receiver_died`) makes no more.
        if !self.flow.receiver_died && self.hlink_orphans() {
            self.settle_copies();
        }
    }

    /// Waits for the copies in flight, links the hard links waiting for
    /// them, and moves `--delay-updates`' staged files into place (then
    /// links the members of groups whose leaders were staged).
    fn settle_copies(&mut self) {
        self.drain_all();
        self.hlink_finish_copied();
        self.finish_delayed_updates();
        self.hlink_finish_delayed();
    }

    pub(super) fn forward(&mut self, walker: &mut Walker) {
        self.flow.forward(self.report, walker);
    }

    /// Takes in a listing made on a scanner thread.
    pub(super) fn absorb(&mut self, l: Listing) -> Vec<Entry> {
        self.flow.absorb(self.report, l)
    }

    pub(super) fn count(&mut self, e: &Entry) {
        self.report.count_listed(e);
    }

    pub(super) fn count_pruned(&mut self, n: u32) {
        self.report.count_pruned(n);
    }

    pub(super) fn stopping(&self) -> bool {
        self.flow.stopping()
    }

    /// `--remove-source-files`: removes a source file that was transferred
    /// or found up to date, unless it changed since it was listed.
    /// Returns rsync's -vv line (or prints its error).
    pub(super) fn remove_source(&mut self, s: &SourceToRemove) -> Option<String> {
        // Below protocol 23 rsync's receiver never tells its sender a file
        // arrived (measured: nothing removed, nothing said, exit 0).
        if self.ctx.opts.dry_run || self.ctx.opts.protocol <= 22 {
            return None;
        }
        let (src, name, was) = (s.path.as_path(), s.name.as_slice(), &s.stat);
        let shown = self.report.esc(name);
        let now = if s.follow {
            sys::stat(src)
        } else {
            sys::lstat(src)
        };
        match now {
            // Nanoseconds count only where the list has them (none below
            // protocol 31: whole seconds), as rsync's sender checks.
            Ok(now)
                if now.size != was.size
                    || now.mtime != was.mtime
                    || (was.mtime_nsec != 0 && now.mtime_nsec != was.mtime_nsec) =>
            {
                self.report.error_raw(format!(
                    "ERROR: Skipping sender remove for changed file: {shown}"
                ));
                self.report.event(Event::Partial);
                return None;
            }
            _ => {}
        }
        match sys::unlink(src) {
            Ok(()) => {
                self.keep_for_delete_after(src);
                self.report.source_removed(name)
            }
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
        match sys::strip_root(dest, &self.ctx.root.path) {
            Some(b"") => b".".to_vec(),
            Some(rel) => rel.to_vec(),
            None => sys::bytes(dest).to_vec(),
        }
    }

    /// rsync's `full_fname()` of a receiver-relative name:
    /// `/abs/dest/sub/x`, or `/abs/dest/.` for the root.
    pub(super) fn recv_shown(&self, local: &[u8]) -> String {
        let mut full = sys::bytes(&sys::absolute(&self.ctx.root.path)).to_vec();
        if !full.ends_with(b"/") {
            full.push(b'/');
        }
        full.extend_from_slice(local);
        self.report.esc(&full)
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

impl Level<'_> {
    /// What is known about entry `name`'s destination in this directory.
    fn known(&self, dest: &Dest, name: &[u8]) -> Known {
        match self.existing {
            // A hard-linked file may have changed since the listing,
            // through another of its names handled before: look again.
            // A lean listing knows only our temp files: look the name up.
            Some(l) if !dest.solo && !l.is_lean() => match l.get(base_name(name)) {
                Some(st) if st.nlink > 1 && st.kind() != Kind::Dir => Known::Unknown,
                st => Known::Listed(st),
            },
            _ if self.fresh => Known::Listed(None),
            _ => Known::Unknown,
        }
    }
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
