//! The transfer driver's mutable state, in small owned parts (how the run
//! is going, copies in flight, open destination directories, the lister,
//! what happens to old items), so that each stage touches only its own
//! part and the driver itself stays a handful of fields.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::sys::Errno;

use crate::backup::Backup;
use crate::delete::Deleter;
use crate::engine::{CopyJob, Done, Engine};
use crate::exit::ExitCode;
use crate::report::{Event, Report, Slot};
use crate::scan::Scanner;
use crate::sys::{self, DirAt, Stat};
use crate::walk::{Diag, Entry, Listing, Walker};

/// How the run is going: interrupted, ended by a fatal error, and the
/// source side's state that decides about deletions and the file-list
/// line.
pub(super) struct Flow {
    /// Set by a signal, or to stop the engine's lanes after a fatal error.
    pub abort: Arc<AtomicBool>,
    /// The first fatal error's message.
    pub fatal: Option<String>,
    /// Its exit code (rsync's: 11 for the engine's, the filter error's
    /// own for a merge file).
    pub fatal_code: ExitCode,
    /// The source side reported an I/O error: rsync then refuses to delete.
    pub flist_error: bool,
    /// rsync's unfinished `building file list ... ` line (see `diag`).
    pub flist_line_open: bool,
    /// rsync's generator ends with its own final line too (an `--iconv`
    /// symlink target its receiver could not convert).
    pub generator_line: bool,
    /// A copy whose backup `--confine-root` refuses is on its way (see
    /// `backup::Backup::doomed`): rsync's receiver dies there, while its
    /// generator and sender go on with the rest of that directory's list,
    /// the files to copy listed only. Nothing stops until that is done.
    pub doomed: bool,
    /// The doomed copy ended the run as rsync's receiver dies: its
    /// generator, killed with it, never touches up directory times.
    pub receiver_died: bool,
}

impl Flow {
    pub(super) fn new(abort: Arc<AtomicBool>) -> Flow {
        Flow {
            abort,
            fatal: None,
            fatal_code: ExitCode::FileIo,
            flist_error: false,
            flist_line_open: false,
            generator_line: false,
            doomed: false,
            receiver_died: false,
        }
    }

    /// Interrupted, or a fatal error happened: no new work starts.
    pub(super) fn stopping(&self) -> bool {
        !self.doomed && (self.abort.load(Ordering::Relaxed) || self.fatal.is_some())
    }

    /// Stops the engine's lanes (and the walk).
    pub(super) fn stop(&self) {
        self.abort.store(true, Ordering::Relaxed);
    }

    /// The engine's lanes have all stopped: a stop a fatal error asked
    /// for is not a signal, and must not end the run as one.
    pub(super) fn lanes_stopped(&self) {
        if self.fatal.is_some() {
            self.abort.store(false, Ordering::Relaxed);
        }
    }

    /// Records `msg` as the run's fatal error (exit `code`) and stops,
    /// unless one was recorded already. Returns whether it was the first.
    pub(super) fn fail_first(&mut self, msg: String, code: ExitCode) -> bool {
        if self.fatal.is_some() {
            return false;
        }
        self.fatal = Some(msg);
        self.fatal_code = code;
        self.stop();
        true
    }

    /// The exit code of the fatal error, if any (taking it).
    pub(super) fn take_fatal(&mut self) -> Option<ExitCode> {
        self.fatal.take().map(|_| self.fatal_code)
    }

    /// Reports what the walk found (the walker's or a scanner's).
    pub(super) fn diag(&mut self, report: &mut Report, d: Diag) {
        // rsync ends an unfinished `building file list ... ` before the
        // next message: a note of the list (stdout) ends it on stdout (see
        // `Report::flist_done`), an error with an empty line on stderr.
        if self.flist_line_open && !matches!(d, Diag::Receiver { .. }) {
            self.flist_line_open = false;
            if !matches!(d, Diag::Info(_)) {
                report.warning("");
            }
        }
        match d {
            Diag::Info(s) => report.info(s),
            Diag::Error(s) => {
                self.flist_error = true;
                report.error(s);
            }
            Diag::ErrorRaw(s) => {
                self.flist_error = true;
                report.event(Event::Partial);
                report.error_raw(s);
            }
            Diag::Receiver {
                text,
                listed,
                generator,
            } => {
                self.generator_line |= generator;
                self.flist_error = true;
                report.event(Event::Partial);
                report.error_bytes(text);
                report.count_listed(&listed);
            }
            Diag::MissingArg(s) => report.error(s),
            Diag::Vanished(s) => report.vanished(s),
            Diag::Stderr(s) => report.warning(s),
            Diag::Fatal(e) => {
                if self.fatal.is_none() {
                    let line = e.line(&report.name);
                    report.error_raw(line.clone());
                    self.fail_first(line, super::filter_exit(&e));
                }
            }
        }
    }

    /// Takes in what the walker found since last asked.
    pub(super) fn forward(&mut self, report: &mut Report, walker: &mut Walker) {
        report.event(Event::Shadowed(std::mem::take(&mut walker.shadowed_size)));
        let diags: Vec<Diag> = walker.diags.drain(..).collect();
        for d in diags {
            self.diag(report, d);
        }
    }

    /// Takes in a listing made on a scanner thread.
    pub(super) fn absorb(&mut self, report: &mut Report, l: Listing) -> Vec<Entry> {
        report.event(Event::Shadowed(l.shadowed_size));
        for d in l.diags {
            self.diag(report, d);
        }
        l.entries
    }

    /// The end of a run: interrupted, or ended by a fatal error (its exit
    /// code), or the summary; then rsync's final error line for any exit
    /// code but 0.
    pub(super) fn end_run(&self, report: &mut Report, fatal: Option<ExitCode>) -> ExitCode {
        let code = if crate::engine::pace::stopped_at_limit() {
            report.stop_limit_reached();
            ExitCode::Timeout
        } else if self.abort.load(Ordering::Relaxed) {
            ExitCode::Signal
        } else if let Some(code) = fatal {
            code
        } else {
            report.summary();
            report.exit_code()
        };
        if code != ExitCode::Ok {
            // A file I/O error mid-run ends rsync's receiver (after its
            // fork: lower case), as a write or backup failure does.
            let role = (fatal == Some(ExitCode::FileIo)).then_some("receiver");
            if self.generator_line && fatal.is_none() {
                let l = crate::final_line!(&report.name, code, Some("generator")).to_string();
                report.error_raw(l);
            }
            let l = crate::final_line!(&report.name, code, role).to_string();
            report.error_raw(l);
        }
        code
    }
}

/// A copy handed to the engine, waiting for its result.
/// `--remove-source-files`: the source name to remove once its file is
/// safe at the destination, and what it looked like when listed.
pub(super) struct SourceToRemove {
    /// The name in the source tree: under `-L` (or `--copy-unsafe-links`)
    /// the symlink the file was listed through, never its target (rsync
    /// removes the link; the target may lie outside the source).
    pub path: PathBuf,
    pub name: Vec<u8>,
    pub stat: Stat,
    /// Looked at through a link (`-L`): rsync's sender stats the name
    /// following links, so a link whose target is unchanged goes. Under
    /// `--copy-unsafe-links` alone it does not follow, and finds the link
    /// "changed" (not the file listed): kept, with rsync's error.
    pub follow: bool,
}

impl SourceToRemove {
    /// `copy_links`: `-L`.
    pub(super) fn of(e: &Entry, copy_links: bool) -> SourceToRemove {
        SourceToRemove {
            path: e
                .via_link()
                .map_or_else(|| e.src().into_owned(), Path::to_path_buf),
            name: e.name.to_vec(),
            stat: e.stat,
            follow: copy_links,
        }
    }
}

pub(super) struct Pending {
    pub slot: Slot,
    /// The item, for its lines once the copy is done (`None` when an
    /// identical basis file settled it and its line was printed already).
    pub rec: Option<crate::report::ItemRec>,
    /// Sent from the source (counts as literal data), not copied locally
    /// from a basis file.
    pub from_source: bool,
    /// `-b`: the destination and its backup name, for the -vv line.
    pub backup: Option<(PathBuf, PathBuf)>,
    /// `--delay-updates`: where the file was staged, and its final path.
    pub delayed: Option<(PathBuf, PathBuf)>,
    /// The final destination path (for `--partial-dir` clean-up).
    pub dest: Option<PathBuf>,
    /// For `--remove-source-files`: the source and what it looked like.
    pub src: Option<SourceToRemove>,
    /// `--append`: the destination's bytes kept (not sent).
    pub appended_to: u64,
}

/// Content copies: the engine (none in a dry run), the copies in flight
/// by token, and the `--delay-updates` files staged so far.
pub(super) struct Copies {
    engine: Option<Box<dyn Engine>>,
    pending: HashMap<u64, Pending>,
    next_token: u64,
    /// Staged files to move into place at the end: (token, staged path,
    /// final path).
    staged: Vec<(u64, PathBuf, PathBuf)>,
}

impl Copies {
    pub(super) fn new(engine: Option<Box<dyn Engine>>) -> Copies {
        Copies {
            engine,
            pending: HashMap::new(),
            next_token: 0,
            staged: Vec::new(),
        }
    }

    /// Records a copy about to be submitted; returns its token.
    pub(super) fn add(&mut self, p: Pending) -> u64 {
        let token = self.next_token;
        self.next_token += 1;
        self.pending.insert(token, p);
        token
    }

    /// The copy with `token`, once its result is in.
    pub(super) fn take(&mut self, token: u64) -> Option<Pending> {
        self.pending.remove(&token)
    }

    /// Hands `job` to the engine; `idle` runs while it waits for room.
    pub(super) fn submit(&mut self, job: CopyJob, idle: &mut dyn FnMut()) {
        if let Some(engine) = self.engine.as_mut() {
            engine.submit(job, idle);
        }
    }

    /// A finished copy, if one is ready.
    pub(super) fn try_done(&mut self) -> Option<Done> {
        self.engine.as_mut().and_then(|e| e.try_done())
    }

    /// The next finished copy, waiting for it (`idle` runs meanwhile);
    /// `None` when none is left.
    pub(super) fn wait_done(&mut self, idle: &mut dyn FnMut()) -> Option<Done> {
        self.engine.as_mut().and_then(|e| e.wait_done(idle))
    }

    /// `--delay-updates`: copy `token` was built at `from`, for `to`.
    pub(super) fn stage(&mut self, token: u64, from: PathBuf, to: PathBuf) {
        self.staged.push((token, from, to));
    }

    /// The staged files, in file-list (submission) order.
    pub(super) fn take_staged(&mut self) -> Vec<(u64, PathBuf, PathBuf)> {
        let mut staged = std::mem::take(&mut self.staged);
        staged.sort_by_key(|(t, _, _)| *t);
        staged
    }
}

/// A directory whose mtime (and, for non-root, permissions) is settled
/// after its contents.
pub(super) struct DirFix {
    pub path: PathBuf,
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Permissions to restore after temporarily adding u+rwx.
    pub restore_mode: Option<u32>,
    /// `-K`: its time was settled already (or is another path's to set),
    /// see `Transfer::settle_same_dir`.
    pub settled: bool,
}

/// A destination directory being filled.
pub(super) struct OpenDir {
    /// Its path (as the entries below it are named).
    pub path: PathBuf,
    /// Its handle, which everything made in it goes through (see
    /// `sys::DirAt`); the error if it could not be opened, which every
    /// entry below it then reports.
    pub at: Result<DirAt, Errno>,
    /// The group a file created in it gets (its own with set-gid, else
    /// ours), so the engine can skip a chown that would change nothing.
    pub new_file_gid: u32,
}

/// The destination directories: those being filled (innermost last) and
/// those whose times are settled at the end.
#[derive(Default)]
pub(super) struct DirState {
    pub stack: Vec<OpenDir>,
    pub fixes: Vec<DirFix>,
    /// `-K`: the directories of `fixes` by device and inode (one can be
    /// reached by two paths, through a kept symlink).
    pub ids: HashMap<(u64, u64), usize>,
}

impl DirState {
    /// The open directory named `path`, innermost first.
    pub(super) fn open(&self, path: &Path) -> Option<&OpenDir> {
        self.stack
            .iter()
            .rev()
            .find(|d| sys::same_path(&d.path, path))
    }

    /// The group new files get in the innermost open directory.
    pub(super) fn innermost_gid(&self) -> Option<u32> {
        self.stack.last().map(|d| d.new_file_gid)
    }

    /// Leaves the innermost open directory.
    pub(super) fn leave(&mut self) {
        self.stack.pop();
    }
}

/// Lists directories ahead of the walk on the scanner's threads.
pub(super) struct Lister {
    pub scanner: Scanner,
    /// Per-directory merge rules whose one-time parent-directory scan
    /// belongs to the first directory listed: until then directories are
    /// listed in order on this thread, not ahead on the scanner's.
    pub merge_setup_pending: bool,
    /// DEST lies inside a source: the whole source is listed before
    /// anything is made (as rsync's sender, running ahead of its
    /// receiver, usually has), never on the scanner threads, whose timing
    /// would make the copy see, and copy again, what the run itself made.
    pub dest_in_src: bool,
    /// Those listings, by directory entry name, taken as the walk reaches
    /// each directory.
    pub prelisted: std::collections::HashMap<Vec<u8>, Vec<Entry>>,
    /// `-K` with incremental recursion and deletion as it goes: each
    /// listing's subdirectories are cleaned before any of their contents
    /// arrive (see `Transfer::delete_below_first`), so listings are taken
    /// in order on this thread.
    pub early_deletes: bool,
}

impl Lister {
    /// Whether listings may be asked for ahead of the walk.
    pub(super) fn ahead(&self) -> bool {
        self.scanner.available()
            && !self.merge_setup_pending
            && !self.dest_in_src
            && !self.early_deletes
    }
}

/// What happens to items already at the destination that go: deletion
/// state (`--delete*`, type changes, `--max-delete`), `-b` backups, and
/// the deletions `--delete-delay` keeps for the end.
pub(super) struct Disposal {
    pub deleter: Deleter,
    /// `-b`: where old versions go.
    pub backup: Option<Backup>,
    /// `--delete-delay`: what to delete once the transfer is done.
    pub delayed: Vec<(PathBuf, Stat)>,
    /// "IO error encountered -- skipping file deletion" was printed.
    pub warned_io: bool,
    /// A `--delete-before`/`--delete-after` pass is walking the tree: its
    /// deletions wait until the whole pass has listed without an error.
    pub in_pass: bool,
    /// `--delete-after` with `--remove-source-files`: the source files
    /// removed so far, by source directory. The pass lists the source
    /// again and would miss them; rsync deletes by the list it made
    /// before the transfer, which still has them.
    pub removed: std::collections::HashMap<PathBuf, Vec<Vec<u8>>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> Flow {
        Flow::new(Arc::new(AtomicBool::new(false)))
    }

    #[test]
    fn first_fatal_error_wins_and_stops() {
        let mut f = flow();
        assert!(!f.stopping());
        assert!(f.fail_first("one".into(), ExitCode::Syntax));
        assert!(!f.fail_first("two".into(), ExitCode::FileIo));
        assert!(f.stopping());
        assert_eq!(f.fatal.as_deref(), Some("one"));
        f.lanes_stopped();
        assert!(!f.abort.load(Ordering::Relaxed));
        assert!(f.stopping());
        assert_eq!(f.take_fatal(), Some(ExitCode::Syntax));
        assert_eq!(f.take_fatal(), None);
    }

    #[test]
    fn a_doomed_copy_lets_its_directory_list_finish() {
        let mut f = flow();
        f.doomed = true;
        assert!(f.fail_first(String::new(), ExitCode::FileIo));
        assert!(!f.stopping(), "the rest of the directory is still listed");
        f.doomed = false;
        assert!(f.stopping());
    }

    #[test]
    fn a_signal_stops_without_a_fatal_error() {
        let f = flow();
        f.stop();
        f.lanes_stopped();
        assert!(f.stopping());
        assert!(f.fatal.is_none());
    }

    fn pending() -> Pending {
        Pending {
            slot: Slot::default(),
            rec: None,
            from_source: true,
            backup: None,
            delayed: None,
            dest: None,
            src: None,
            appended_to: 0,
        }
    }

    #[test]
    fn copies_get_increasing_tokens_and_are_taken_once() {
        let mut c = Copies::new(None);
        let a = c.add(pending());
        let b = c.add(pending());
        assert!(b > a);
        assert!(c.take(a).is_some());
        assert!(c.take(a).is_none());
        assert!(c.take(b).is_some());
        // No engine (a dry run): nothing ever finishes.
        assert!(c.try_done().is_none());
        assert!(c.wait_done(&mut || {}).is_none());
    }

    #[test]
    fn staged_files_come_back_in_submission_order() {
        let mut c = Copies::new(None);
        c.stage(5, "s5".into(), "d5".into());
        c.stage(1, "s1".into(), "d1".into());
        c.stage(3, "s3".into(), "d3".into());
        let order: Vec<u64> = c.take_staged().iter().map(|s| s.0).collect();
        assert_eq!(order, [1, 3, 5]);
        assert!(c.take_staged().is_empty());
    }

    #[test]
    fn open_dirs_are_found_innermost_first() {
        let mut d = DirState::default();
        assert_eq!(d.innermost_gid(), None);
        for (p, gid) in [("a", 1), ("a/b", 2), ("a", 3)] {
            d.stack.push(OpenDir {
                path: p.into(),
                at: Err(Errno::NOENT),
                new_file_gid: gid,
            });
        }
        assert_eq!(d.open(Path::new("a")).map(|o| o.new_file_gid), Some(3));
        assert_eq!(d.open(Path::new("a/b")).map(|o| o.new_file_gid), Some(2));
        assert!(d.open(Path::new("c")).is_none());
        assert_eq!(d.innermost_gid(), Some(3));
        d.leave();
        assert_eq!(d.innermost_gid(), Some(2));
    }
}
