//! Where the transfer lands: rsync's `get_local_name()` rules for DEST,
//! `--mkpath`, and the `--temp-dir` check.

use super::*;

impl Transfer<'_> {
    /// `--temp-dir`, resolved like rsync's receiver (relative to the
    /// destination directory) and checked before any transfer.
    pub(super) fn check_temp_dir(&mut self) -> Result<Option<PathBuf>, ExitCode> {
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

    /// rsync's `get_local_name()`: decides whether DEST is a directory to
    /// copy into or the new name of a single item, creating it if needed.
    pub(super) fn resolve_dest(
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
}

/// `mkdir -p` for `--mkpath`; returns how many directories were made.
pub(super) fn mkpath(path: &Path, dry_run: bool) -> Result<usize, (PathBuf, Errno)> {
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
