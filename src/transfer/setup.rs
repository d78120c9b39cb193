//! Setting a transfer up before anything at the destination changes: the
//! sources and their top level, the destination root (see `dest`) and
//! what hangs on it (basis dirs, `--temp-dir`, deletion rules, backups,
//! the engine). Its result is the immutable [`RunCtx`] and the parts the
//! driver starts with; nothing is patched in later.

use super::*;
use crate::select::{self, FilesFromError};

/// The immutable context of one run, known before the walk starts.
pub(super) struct RunCtx<'a> {
    pub opts: &'a Options,
    /// Who receives (root or not, our ids, `--fake-super`).
    pub recv: &'a Receiver,
    /// The attribute options (`-X`, `-A`, `-E`, `--chmod`, id maps,
    /// `--fake-super`).
    pub attrs: &'a meta::RunAttrs,
    /// Decides what to do with each entry.
    pub planner: Planner<'a>,
    /// The destination root and its handle.
    pub root: DestRoot,
    /// Where changes to the destination go (nowhere, in a dry run).
    pub fs: Arc<dyn DestFs>,
    /// Every copy through a temp file is refused before it exists (see
    /// `engine::TempRefusal`).
    pub temp_refused: bool,
}

/// The directory rsync's receiver would have changed into: DEST itself,
/// or DEST's parent when DEST names a single item. Receiver messages name
/// paths relative to it.
pub(super) struct DestRoot {
    pub path: PathBuf,
    /// Its handle (its path where it does not exist, in a dry run).
    pub at: DirAt,
}

impl DestRoot {
    /// The root of destination `dest`, opened.
    pub(super) fn of(dest: &Dest) -> DestRoot {
        let path = if dest.solo {
            dest.path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."))
        } else {
            dest.path.clone()
        };
        let at = sys::open_root(&path).unwrap_or_else(|_| DirAt::Path(path.clone()));
        DestRoot { path, at }
    }
}

/// The sources as resolved, with the walker that lists below them.
pub(super) struct Sources {
    pub walker: Walker,
    pub top: crate::walk::TopLevel,
    /// `--no-i-r` with `--progress`: the slot of the file-list line.
    pub flist_slot: Option<Slot>,
    /// The DEST operand as given.
    pub dest_arg: Vec<u8>,
    /// DEST's listing, started before the sources' top level was listed.
    pub dest_ahead: Option<crate::scan::ListingAhead>,
}

/// The state of a run being set up: what the driver starts with.
pub(super) struct Setup<'a> {
    pub opts: &'a Options,
    pub recv: &'a Receiver,
    pub attrs: &'a meta::RunAttrs,
    pub report: &'a mut Report,
    pub flow: Flow,
    pub walk_cfg: WalkConfig,
    pub fs: Arc<dyn DestFs>,
}

impl<'a> Setup<'a> {
    pub(super) fn usage_exit(&mut self, msg: &str, code: ExitCode) -> ExitCode {
        self.exit_as(msg, code, None)
    }

    /// [`Setup::usage_exit`] for a check rsync's receiver makes as it
    /// starts (`--temp-dir`, `--backup-dir`): its final line says so.
    pub(super) fn receiver_exit(&mut self, msg: &str, code: ExitCode) -> ExitCode {
        self.exit_as(msg, code, Some("Receiver"))
    }

    fn exit_as(&mut self, msg: &str, code: ExitCode, role: Option<&'static str>) -> ExitCode {
        self.report.error_raw(msg.to_string());
        let l = crate::final_line!(&self.report.name, code, role).to_string();
        self.report.error_raw(l);
        code
    }

    /// Prints the id maps' warnings, and their error if any (then the run
    /// ends with rsync's syntax-error exit code).
    pub(super) fn report_maps(&mut self, r: meta::run::MapReport) -> Result<(), ExitCode> {
        for w in r.warnings {
            self.report.error_raw(w);
        }
        match r.error {
            Some(msg) => Err(self.usage_exit(&msg, ExitCode::Syntax)),
            None => Ok(()),
        }
    }

    /// The start of a run: the header lines, the id maps, the sources and
    /// their top level (listed).
    pub(super) fn sources(&mut self, maps: meta::run::MapReport) -> Result<Sources, ExitCode> {
        let opts = self.opts;
        let args = &opts.args;
        if args
            .iter()
            .any(|a| crate::fallback::is_remote(a.as_bytes()))
        {
            let name = self.report.name.clone();
            return Err(self.usage_exit(
                &format!(
                    "{name}: remote transfers are not supported by arsync (local copies only)"
                ),
                ExitCode::Unsupported,
            ));
        }
        // A lone operand is listed; with --list-only a last operand is
        // a destination that is never looked at.
        let (sources, dest_arg) = match args.len() {
            0 => return Err(ExitCode::Syntax),
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
        self.report_maps(maps)?;
        // rsync's "building file list ... " line is still open while the
        // list is built: the first message on stderr ends it with an
        // empty line there.
        self.flow.flist_line_open = flist == 1 && !opts.inc_recurse() && opts.xfer_dirs();
        let mut walker = Walker::new(self.walk_cfg.clone());
        let (sources, root) = match &opts.files_from {
            Some(spec) => {
                let (list, base) = self.files_from(spec, sources[0].as_bytes())?;
                (list, Some(base))
            }
            None => (sources.to_vec(), None),
        };
        let dest_ahead = self.list_dest_ahead(&dest_arg, &sources, root.is_some());
        // --no-i-r at -vv with filters, or with notes of unsafe links
        // copied: the sender's lines of the whole tree go between
        // `building file list ... ` and `done`, so that line's place is
        // held from before the top level is listed.
        let no_inc = flist > 0 && !opts.inc_recurse() && opts.xfer_dirs();
        let c = &self.walk_cfg;
        let notes = c.filter_debug || (c.copy_unsafe_links && c.symsafe_info);
        let held = (no_inc && flist == 1 && notes).then(|| self.report.reserve());
        let top = match self.top_level(&mut walker, &sources, root) {
            Ok(top) => top,
            Err(e) => {
                if let Some(slot) = held {
                    self.report.flist_done(flist, Some(slot));
                }
                return Err(e);
            }
        };
        // --no-i-r: `building file list ... done`, or with --progress a
        // count that is only known once the whole list is (its slot holds
        // back all later output, as rsync prints nothing before it).
        let mut flist_slot = held;
        if no_inc && flist_slot.is_none() {
            if flist > 1 {
                flist_slot = Some(self.report.reserve());
            } else {
                self.report.flist_done(flist, None);
            }
        }
        Ok(Sources {
            walker,
            top,
            flist_slot,
            dest_arg,
            dest_ahead,
        })
    }

    /// Starts listing DEST (as the operand names it) beside the sources'
    /// top level, when the transfer will list it before changing
    /// anything in it: not with `--delete-before` (its pass changes DEST
    /// first), `--list-only`, one operand, or an operand that goes
    /// through a symlink rsync 3.5 refuses.
    ///
    /// Only when the top level may be long: a source naming a directory's
    /// contents (`SRC/`, `.`, `SRC/.`) or `--files-from`'s list. Named
    /// files and directories alone are a few stat calls, which a thread
    /// of its own (some 25 syscalls to start and end, and its malloc
    /// arena) would not overlap with anything; DEST is then listed when
    /// it is reached, on the caller, as a failed listing ahead would be.
    fn list_dest_ahead(
        &self,
        dest_arg: &[u8],
        sources: &[std::ffi::OsString],
        files_from: bool,
    ) -> Option<crate::scan::ListingAhead> {
        let opts = self.opts;
        if opts.list_only
            || opts.args.len() < 2
            || !opts.recursive()
            || opts.delete == Some(crate::options::DeleteWhen::Before)
            || !(files_from || sources.iter().any(|s| names_contents(s.as_bytes())))
        {
            return None;
        }
        let arg = if dest_arg.is_empty() {
            &b"."[..]
        } else {
            dest_arg
        };
        let path = std::path::PathBuf::from(std::ffi::OsStr::from_bytes(arg));
        if !opts.insecure_links && sys::trust::follows_untrusted_link(&path) {
            return None;
        }
        crate::scan::ListingAhead::start(path, dest_need(opts))
    }

    /// The top level of the sources, listed (`-R`: with the implied
    /// directories on the way).
    fn top_level(
        &mut self,
        walker: &mut Walker,
        sources: &[std::ffi::OsString],
        root: Option<&[u8]>,
    ) -> Result<crate::walk::TopLevel, ExitCode> {
        let opts = self.opts;
        let top = if opts.relative {
            let cfg = crate::select::RelConfig {
                recursive: opts.recursive(),
                xfer_dirs: opts.xfer_dirs(),
                copy_dirlinks: opts.copy_dirlinks,
                confine: opts.confine_root.as_deref().filter(|_| !opts.copy_links),
            };
            match crate::select::relative_top_level(walker, sources, cfg, root) {
                Ok(t) => t,
                Err(msg) => {
                    self.flow.forward(self.report, walker);
                    return Err(self.usage_exit(&msg, ExitCode::Syntax));
                }
            }
        } else {
            walker.top_level(sources)
        };
        self.flow.forward(self.report, walker);
        Ok(top)
    }

    /// `--files-from`: the names from the list, below the one source
    /// `base` (which must be a directory); `base` comes back for `-R`.
    fn files_from<'b>(
        &mut self,
        spec: &std::ffi::OsStr,
        base: &'b [u8],
    ) -> Result<(Vec<std::ffi::OsString>, &'b [u8]), ExitCode> {
        let opts = self.opts;
        if spec.as_bytes() != b"-" && self.untrusted(Path::new(spec)) {
            let msg = format!(
                "{}: failed to open files-from file {}: {}",
                self.report.name,
                String::from_utf8_lossy(spec.as_bytes()),
                sys::strerror(Errno::LOOP.raw_os_error())
            );
            return Err(self.usage_exit(&msg, ExitCode::Syntax));
        }
        let stop = &self.flow.abort;
        let from_list = match select::read_files_from(spec, opts.from0, opts.relative, stop) {
            Ok(l) => l,
            Err(FilesFromError::Unreadable(msg)) => {
                let name = self.report.name.clone();
                return Err(self.usage_exit(&format!("{name}: {msg}"), ExitCode::Syntax));
            }
            Err(FilesFromError::Interrupted) => {
                let line = crate::final_line!(&self.report.name, ExitCode::Signal).to_string();
                self.report.error_raw(line);
                return Err(ExitCode::Signal);
            }
        };
        match sys::stat(path_of(base)) {
            Ok(st) if st.kind() == Kind::Dir => {}
            res => {
                let e = match res {
                    Err(e) => e,
                    Ok(_) => Errno::NOTDIR,
                };
                // rsync names the argument as typed, below the current
                // directory.
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
                return Err(self.usage_exit(&msg, ExitCode::FileSelect));
            }
        }
        if opts.relative {
            return Ok((from_list, base));
        }
        let joined = from_list
            .iter()
            .map(|l| {
                let mut p = base.to_vec();
                if !p.ends_with(b"/") {
                    p.push(b'/');
                }
                p.extend_from_slice(l.as_bytes());
                std::ffi::OsString::from(OsStr::from_bytes(&p))
            })
            .collect();
        Ok((joined, base))
    }

    /// rsync's file_total, as far as the destination rule needs it: 0, 1
    /// or "more". A lone directory counts its first level too, which is
    /// returned (listed once, here).
    pub(super) fn count_total(&mut self, src: &mut Sources) -> (usize, Option<Vec<Entry>>) {
        let top = &src.top;
        let mut total = usize::from(top.dot.is_some()) + top.entries.len();
        // -R: an implied directory brings the named paths below it.
        if top
            .entries
            .iter()
            .any(|e| e.preset().is_some_and(|p| !p.entries.is_empty()))
        {
            total = total.max(2);
        }
        if total == 1 && top.dot.is_none() && top.entries[0].is_dir() && self.opts.recursive() {
            let children = src.walker.list(&top.entries[0]);
            self.flow.forward(self.report, &mut src.walker);
            total += children.len();
            return (total, Some(children));
        }
        (total, None)
    }

    /// The basis directories (`--link-dest` etc.) as usable paths: relative
    /// ones are relative to the destination directory. rsync warns about
    /// missing ones and carries on.
    pub(super) fn basis_dirs(
        &mut self,
        root: &Path,
    ) -> Option<(crate::options::BasisKind, Vec<PathBuf>)> {
        let (kind, dirs) = self.opts.basis.clone()?;
        let mut out = Vec::with_capacity(dirs.len());
        for d in dirs {
            let path = if d.is_absolute() {
                d.clone()
            } else if sys::lstat(root).is_err() {
                // A dry run into a missing DEST: rsync could not change
                // into it, and its path cleaning folds `DEST/../x`.
                collapse_dot_dot(&root.join(&d))
            } else {
                root.join(&d)
            };
            let mut shown = sys::bytes(&sys::absolute(&path)).to_vec();
            if shown.len() > 1 && shown.ends_with(b"/") {
                shown.pop();
            }
            // A basis dir through another user's symlink is not used:
            // rsync's walk refuses it and it counts as missing.
            let untrusted = self.untrusted(&path);
            let found = if untrusted {
                None
            } else {
                sys::stat(&path).ok()
            };
            match found {
                Some(st) if st.kind() == Kind::Dir => {}
                Some(_) => self.report.warning(format!(
                    "--{} arg is not a dir: {}",
                    kind.option_name(),
                    self.report.esc(&shown)
                )),
                None => self.report.warning(format!(
                    "--{} arg does not exist: {}",
                    kind.option_name(),
                    self.report.esc(&shown)
                )),
            }
            if !untrusted {
                out.push(path);
            }
        }
        Some((kind, out))
    }

    /// The deletion state for destination root `root`.
    pub(super) fn deleter(&self, root: &DestRoot) -> Deleter {
        let opts = self.opts;
        let filters = self.walk_cfg.filters.as_ref().map(|list| {
            let stack = crate::filter::FilterStack::new_at(list.clone(), &root.path);
            crate::delete::RecvFilters::new(stack, opts.delete_excluded)
        });
        Deleter::new(
            opts,
            &root.path,
            root.at.clone(),
            filters,
            self.walk_cfg.filter_debug,
            self.fs.clone(),
        )
    }

    /// `-b`: where old versions go (checking `--backup-dir` first).
    pub(super) fn backup(&mut self, root: &DestRoot) -> Result<Option<Backup>, ExitCode> {
        let opts = self.opts;
        if !opts.backup {
            return Ok(None);
        }
        if let Some(d) = opts.backup_dir.as_deref() {
            let resolved = if d.is_absolute() {
                d.to_path_buf()
            } else {
                root.path.join(d)
            };
            let given = self.report.esc(sys::bytes(d));
            match sys::stat(&resolved) {
                // Missing: made at the first backup.
                Ok(st) if st.kind() == Kind::Dir => {}
                Err(Errno::NOENT) => {}
                Ok(_) => {
                    let msg = format!("The backup-dir is not a directory: {given}");
                    return Err(self.receiver_exit(&msg, ExitCode::Syntax));
                }
                Err(e) => {
                    let err = sys::strerror(e.raw_os_error());
                    let msg = format!("Failed to stat {given}: {err}");
                    return Err(self.receiver_exit(&msg, ExitCode::FileIo));
                }
            }
        }
        let b = Backup::new(
            &root.path,
            root.at.clone(),
            opts.keep_dirlinks,
            opts.backup_dir.as_deref(),
            &opts.suffix,
            opts.dry_run,
            sys::KeepAttrs {
                mtime: opts.times,
                owner: opts.owner,
                group: opts.group,
            },
        )
        .insecure_links(opts.insecure_links)
        .confine(opts.confine_root.as_deref());
        b.announce(self.report, opts.backup_dir.as_deref());
        Ok(Some(b))
    }

    /// The engine that copies file contents (none in a dry run), after
    /// rsync's line about delta transmission.
    pub(super) fn engine(
        &mut self,
        temp_dir: Option<PathBuf>,
        temp_refusal: Option<engine::TempRefusal>,
    ) -> Option<Box<dyn Engine>> {
        let opts = self.opts;
        if opts.delete != Some(crate::options::DeleteWhen::Before) {
            // With deletions before, the transfer says it after them.
            let enabled = opts.whole_file == Some(false);
            self.report.event(Event::Delta { enabled });
        }
        if opts.dry_run {
            return None;
        }
        let mut cfg = engine::Config::new(opts, Arc::clone(&self.flow.abort));
        cfg.temp_refusal = temp_refusal;
        cfg.temp_dir = temp_dir;
        cfg.progress = self.report.progress_counter();
        let abort = Arc::clone(&self.flow.abort);
        let name = self.report.name.clone();
        cfg.pace.watch(opts.timeout, opts.stop_at, abort, name);
        Some(engine::start(cfg))
    }

    /// Everything that hangs on the destination root, in rsync's order:
    /// basis dirs, `--temp-dir`, deletion rules, backups, the engine.
    pub(super) fn at_root(mut self, root: DestRoot) -> Result<Transfer<'a>, ExitCode> {
        let dest_in_src = dest_in_a_source(&self.opts.args, &root.path);
        let o = self.opts;
        let early_deletes = o.keep_dirlinks
            && o.inc_recurse()
            && matches!(o.delete, Some(DeleteWhen::During | DeleteWhen::Delay));
        let basis = self.basis_dirs(&root.path);
        let temp_dir = self.check_temp_dir(&root.path)?;
        let temp_refusal = engine::TempRefusal::of(self.opts, temp_dir.as_deref());
        let deleter = self.deleter(&root);
        let backup = self.backup(&root)?;
        let temp_climbs = temp_dir
            .clone()
            .filter(|_| temp_refusal == Some(engine::TempRefusal::Climbs));
        let engine = self.engine(temp_dir, temp_refusal);
        let planner = Planner {
            opts: self.opts,
            recv: self.recv,
            basis,
            attrs: self.attrs,
            fs: self.fs.clone(),
            temp_climbs,
        };
        let merge_setup_pending = self
            .walk_cfg
            .filters
            .as_ref()
            .is_some_and(FilterList::has_dir_merge);
        let t = Transfer {
            ctx: RunCtx {
                opts: self.opts,
                recv: self.recv,
                attrs: self.attrs,
                planner,
                root,
                fs: self.fs,
                temp_refused: temp_refusal.is_some() && !o.inplace,
            },
            report: self.report,
            flow: self.flow,
            copies: Copies::new(engine),
            dirs: DirState::default(),
            lister: Lister {
                dest_in_src,
                early_deletes,
                prelisted: Default::default(),
                scanner: Scanner::start(self.walk_cfg, dest_need(o)),
                merge_setup_pending,
            },
            disposal: Disposal {
                deleter,
                backup,
                delayed: Vec::new(),
                warned_io: false,
                in_pass: false,
                removed: Default::default(),
            },
            hlinks: Hlinks::default(),
        };
        Ok(t)
    }
}

/// Whether DEST (`dest`, made by now) lies inside one of the source
/// directories (`args`: the sources, then DEST).
/// Only source directories are resolved (a file source costs one stat,
/// not a `realpath`), and DEST only when there is one.
fn dest_in_a_source(args: &[std::ffi::OsString], dest: &Path) -> bool {
    let sources = args.split_last().map_or(&[][..], |(_, s)| s);
    let is_dir =
        |s: &&std::ffi::OsString| sys::stat(Path::new(s)).is_ok_and(|st| st.kind() == Kind::Dir);
    let mut dirs = sources.iter().filter(is_dir).peekable();
    if dirs.peek().is_none() {
        return false;
    }
    let Ok(dest) = std::fs::canonicalize(dest) else {
        return false;
    };
    dirs.any(|s| std::fs::canonicalize(s).is_ok_and(|s| dest.starts_with(&s)))
}

/// Whether a source operand names a directory's contents rather than
/// itself (rsync's trailing-slash rule): `SRC/`, `.`, `SRC/.`.
fn names_contents(arg: &[u8]) -> bool {
    arg.ends_with(b"/") || arg == b"." || arg.ends_with(b"/.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(path: &str, solo: bool) -> Dest {
        Dest {
            path: PathBuf::from(path),
            solo,
            fresh: false,
        }
    }

    #[test]
    fn operands_that_name_contents() {
        for a in ["src/", ".", "src/.", "/", "a//"] {
            assert!(names_contents(a.as_bytes()), "{a}");
        }
        for a in ["src", "a.", "./src", "src/.x", "..", "src/.."] {
            assert!(!names_contents(a.as_bytes()), "{a}");
        }
    }

    #[test]
    fn dest_inside_a_source_directory() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("out")).unwrap();
        std::fs::write(dir.path().join("f"), b"x").unwrap();
        let args = |s: &Path| vec![s.as_os_str().to_owned(), src.join("out").into_os_string()];
        assert!(dest_in_a_source(&args(&src), &src.join("out")));
        assert!(!dest_in_a_source(
            &args(&dir.path().join("f")),
            &src.join("out")
        ));
        assert!(!dest_in_a_source(&args(&src.join("out")), dir.path()));
    }

    #[test]
    fn root_of_a_directory_dest_is_itself() {
        let dir = tempfile::tempdir().unwrap();
        let d = dest(dir.path().to_str().unwrap(), false);
        let root = DestRoot::of(&d);
        assert_eq!(root.path, dir.path());
        assert!(matches!(root.at, DirAt::Fd(_)));
    }

    #[test]
    fn root_of_a_single_item_is_its_parent() {
        let dir = tempfile::tempdir().unwrap();
        let item = dir.path().join("new-name");
        let root = DestRoot::of(&dest(item.to_str().unwrap(), true));
        assert_eq!(root.path, dir.path());
        // A bare name lies in the current directory.
        assert_eq!(DestRoot::of(&dest("x", true)).path, Path::new("."));
    }

    #[test]
    fn a_missing_root_is_named_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("not/there");
        let root = DestRoot::of(&dest(missing.to_str().unwrap(), false));
        assert!(matches!(&root.at, DirAt::Path(p) if *p == missing));
    }
}
