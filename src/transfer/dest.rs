//! Where the transfer lands: rsync's `get_local_name()` rules for DEST,
//! `--mkpath`, and the `--temp-dir` check.

use super::*;

impl Setup<'_> {
    /// `--temp-dir`, resolved like rsync's receiver (relative to the
    /// destination directory) and checked before any transfer.
    pub(super) fn check_temp_dir(&mut self, root: &Path) -> Result<Option<PathBuf>, ExitCode> {
        let Some(t) = self.opts.temp_dir.clone() else {
            return Ok(None);
        };
        let resolved = if t.is_absolute() {
            t.clone()
        } else {
            root.join(&t)
        };
        let given = self.report.esc(sys::bytes(&t));
        match sys::stat(&resolved) {
            Ok(st) if st.kind() == Kind::Dir => Ok(Some(resolved)),
            Ok(_) => Err(self.receiver_exit(
                &format!("The temp-dir is not a directory: {given}"),
                ExitCode::Syntax,
            )),
            Err(Errno::NOENT) => Err(self.receiver_exit(
                &format!("The temp-dir does not exist: {given}"),
                ExitCode::Syntax,
            )),
            Err(e) => Err(self.receiver_exit(
                &format!(
                    "Failed to stat temp-dir {given}: {}",
                    sys::strerror(e.raw_os_error())
                ),
                ExitCode::FileIo,
            )),
        }
    }

    /// rsync's `get_local_name()`: decides whether DEST is a directory to
    /// copy into or the new name of a single item, creating it if needed;
    /// then enters it as rsync 3.5 does, refusing a path through a symlink
    /// another user owns (see `sys::trust`).
    pub(super) fn resolve_dest(
        &mut self,
        arg: &[u8],
        total: usize,
        top: &crate::walk::TopLevel,
    ) -> Result<Dest, ExitCode> {
        let dest = self.dest_as_named(arg, total, top)?;
        let (dir, step) = match (dest.solo, dest.fresh) {
            (true, _) => (dest.path.parent().unwrap_or(Path::new(".")), 3),
            (false, true) => (dest.path.as_path(), 2),
            (false, false) => (dest.path.as_path(), 1),
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if !self.untrusted(dir) {
            return Ok(dest);
        }
        let mut shown = shown(dir);
        if step == 1 && arg.ends_with(b"/") && !shown.ends_with('/') {
            shown.push('/');
        }
        let msg = format!(
            "{}: [Receiver] change_dir#{step} \"{shown}\" failed: {}",
            self.report.name,
            sys::errno_text(Errno::LOOP)
        );
        Err(self.usage_exit(&msg, ExitCode::FileSelect))
    }

    /// rsync 3.5's walk of an operator path: whether `path` goes through a
    /// symlink another user owns, said in rsync's words when it does.
    /// `--insecure-links` skips the walk.
    pub(super) fn untrusted(&mut self, path: &Path) -> bool {
        if self.opts.insecure_links || !sys::trust::follows_untrusted_link(path) {
            return false;
        }
        self.report.error_raw(sys::trust::REFUSAL.to_string());
        true
    }

    /// [`Setup::resolve_dest`]'s decision, before DEST is entered.
    fn dest_as_named(
        &mut self,
        arg: &[u8],
        total: usize,
        top: &crate::walk::TopLevel,
    ) -> Result<Dest, ExitCode> {
        let arg = if arg.is_empty() { &b"."[..] } else { arg };
        let trailing_slash = arg.ends_with(b"/");
        let path = PathBuf::from(OsStr::from_bytes(arg));
        let mut st = sys::stat(&path);
        if self.opts.mkpath && st.is_err() && (arg.contains(&b'/') || total > 1) {
            self.make_path(arg, total)?;
            st = sys::stat(&path);
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
                let mut shown_arg = shown(&path);
                if trailing_slash && !shown_arg.ends_with('/') {
                    shown_arg.push('/');
                }
                let msg = format!(
                    "{}: [Receiver] ERROR: cannot stat destination \"{shown_arg}\": {}",
                    self.report.name,
                    sys::errno_text(e)
                );
                return Err(self.usage_exit(&msg, ExitCode::FileSelect));
            }
        }
        if total > 1 || trailing_slash {
            if st.is_ok() {
                return Err(self.usage_exit(
                    "ERROR: destination path is not a directory",
                    ExitCode::Syntax,
                ));
            }
            return self.new_dest_dir(arg, trailing_slash);
        }
        self.single_item(path)
    }

    /// `--mkpath` (rsync's make_path()): the whole path when DEST must be
    /// a new directory named without a slash, else up to the last slash.
    fn make_path(&mut self, arg: &[u8], total: usize) -> Result<(), ExitCode> {
        let trailing_slash = arg.ends_with(b"/");
        let last_slash = arg.iter().rposition(|&b| b == b'/');
        let target = if total > 1 && !trailing_slash {
            arg
        } else {
            &arg[..last_slash.unwrap_or(0)]
        };
        match mkpath(self.fs.as_ref(), path_of(target)) {
            Ok(0) => Ok(()),
            Ok(n) => {
                let what = match last_slash {
                    Some(p) if total == 1 || trailing_slash => &arg[..p],
                    _ => arg,
                };
                self.report.event(Event::MadePath { n, what });
                Ok(())
            }
            Err((p, e)) => {
                let msg = format!(
                    "{}: [Receiver] mkdir \"{}\" failed: {}",
                    self.report.name,
                    shown(&p),
                    sys::errno_text(e)
                );
                Err(self.usage_exit(&msg, ExitCode::FileIo))
            }
        }
    }

    /// DEST as a new directory (several sources, or a trailing slash).
    fn new_dest_dir(&mut self, arg: &[u8], trailing_slash: bool) -> Result<Dest, ExitCode> {
        let p = match arg {
            [rest @ .., b'/'] if trailing_slash && arg.len() > 1 => rest,
            _ => arg,
        };
        let dir = PathBuf::from(OsStr::from_bytes(p));
        let made = self.fs.mkdir_path(&dir, 0o777);
        // Another run made it first (two runs into one new DEST): an
        // existing directory is what a DEST may be.
        if made == Err(Errno::EXIST) && sys::stat(&dir).is_ok_and(|st| st.kind() == Kind::Dir) {
            return Ok(Dest {
                path: dir,
                solo: false,
                fresh: false,
            });
        }
        if let Err(e) = made {
            let msg = format!(
                "{}: [Receiver] mkdir \"{}\" failed: {}",
                self.report.name,
                shown(&dir),
                sys::errno_text(e)
            );
            return Err(self.usage_exit(&msg, ExitCode::FileIo));
        }
        self.report.event(Event::MadeDest { what: p });
        Ok(Dest {
            path: dir,
            solo: false,
            fresh: true,
        })
    }

    /// DEST as the new name of a single item: its directory must exist.
    fn single_item(&mut self, path: PathBuf) -> Result<Dest, ExitCode> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let e = match sys::stat(parent) {
                Ok(s) if s.kind() == Kind::Dir => None,
                Ok(_) => Some(Errno::NOTDIR),
                Err(e) => Some(e),
            };
            if let Some(e) = e {
                let msg = format!(
                    "{}: [Receiver] change_dir#3 \"{}\" failed: {}",
                    self.report.name,
                    shown(parent),
                    sys::errno_text(e)
                );
                return Err(self.usage_exit(&msg, ExitCode::FileSelect));
            }
        }
        Ok(Dest {
            path,
            solo: true,
            fresh: false,
        })
    }
}

/// A path as rsync's receiver names it in messages: absolute, escaped.
fn shown(p: &Path) -> String {
    sys::escape_name(sys::bytes(&sys::absolute(p)), sys::locale_is_utf8())
}

/// `mkdir -p` for `--mkpath`; returns how many directories were made.
pub(super) fn mkpath(fs: &dyn DestFs, path: &Path) -> Result<usize, (PathBuf, Errno)> {
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
    for d in missing.iter().rev() {
        if let Err(e) = fs.mkdir_path(d, 0o777)
            && e != Errno::EXIST
        {
            return Err((d.clone(), e));
        }
    }
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::TopLevel;

    /// Resolves DEST operand `arg` (below `dir`) for `total` items, with
    /// destination `fs`; the report's lines are dropped.
    fn resolve(
        set: impl FnOnce(&mut Options),
        fs: Arc<dyn DestFs>,
        arg: &Path,
        total: usize,
        top: &TopLevel,
    ) -> Result<Dest, ExitCode> {
        let mut opts = Options::default();
        set(&mut opts);
        let recv = Receiver::for_options(&opts);
        let (attrs, _) = meta::RunAttrs::new(&opts, &recv);
        let mut report = Report::new("arsync", &opts);
        report.reserve();
        let mut setup = Setup {
            opts: &opts,
            recv: &recv,
            attrs: &attrs,
            report: &mut report,
            flow: Flow::new(Arc::new(AtomicBool::new(false))),
            walk_cfg: WalkConfig::new(&opts),
            fs,
        };
        setup.resolve_dest(sys::bytes(arg), total, top)
    }

    fn real() -> Arc<dyn DestFs> {
        destfs::for_dry_run(false)
    }

    fn with_slash(p: &Path) -> PathBuf {
        let mut b = sys::bytes(p).to_vec();
        b.push(b'/');
        PathBuf::from(OsStr::from_bytes(&b))
    }

    #[test]
    fn an_existing_directory_is_copied_into() {
        let t = tempfile::tempdir().unwrap();
        let d = resolve(|_| {}, real(), t.path(), 1, &TopLevel::default()).unwrap();
        assert_eq!(
            (d.path.as_path(), d.solo, d.fresh),
            (t.path(), false, false)
        );
    }

    #[test]
    fn a_missing_name_for_one_item_is_its_new_name() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("new");
        let d = resolve(|_| {}, real(), &p, 1, &TopLevel::default()).unwrap();
        assert!(d.solo && !d.fresh);
        assert!(!p.exists());
        // Its directory must exist.
        let deep = t.path().join("no/such");
        let e = resolve(|_| {}, real(), &deep, 1, &TopLevel::default());
        assert_eq!(e.err(), Some(ExitCode::FileSelect));
    }

    #[test]
    fn several_items_or_a_slash_make_a_new_directory() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("made");
        let d = resolve(|_| {}, real(), &with_slash(&p), 1, &TopLevel::default()).unwrap();
        assert_eq!(
            (d.path.as_path(), d.solo, d.fresh),
            (p.as_path(), false, true)
        );
        assert!(p.is_dir());
        // A dry run only records it.
        let q = t.path().join("dry");
        let fs = Arc::new(destfs::DryRun::recording());
        let d = resolve(
            |o| o.dry_run = true,
            fs.clone(),
            &q,
            2,
            &TopLevel::default(),
        )
        .unwrap();
        assert!(d.fresh && !q.exists());
        assert_eq!(fs.ops(), [destfs::Op::Mkdir(q)]);
    }

    #[test]
    fn a_file_cannot_take_several_items_or_a_directory() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("file");
        std::fs::write(&f, b"").unwrap();
        let none = TopLevel::default();
        assert_eq!(
            resolve(|_| {}, real(), &f, 2, &none).err(),
            Some(ExitCode::FileSelect)
        );
        let dir_src = TopLevel {
            dot: Some(Entry::new(
                b".".to_vec(),
                sys::stat(t.path()).unwrap(),
                t.path().to_path_buf(),
            )),
            entries: Vec::new(),
            pruned_lead: 0,
        };
        assert_eq!(
            resolve(|_| {}, real(), &f, 1, &dir_src).err(),
            Some(ExitCode::FileSelect)
        );
        // One file over a file is fine: it takes the name.
        assert!(resolve(|_| {}, real(), &f, 1, &none).unwrap().solo);
    }

    #[test]
    fn mkpath_makes_the_missing_parents() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a/b/c");
        let d = resolve(|o| o.mkpath = true, real(), &p, 1, &TopLevel::default()).unwrap();
        assert!(d.solo);
        assert!(t.path().join("a/b").is_dir());
        assert!(!p.exists());
        let q = t.path().join("x/y");
        let d = resolve(|o| o.mkpath = true, real(), &q, 2, &TopLevel::default()).unwrap();
        assert!(!d.solo && q.is_dir());
    }
}
