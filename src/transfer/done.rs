//! Collecting finished copies from the engine, and the work left for the
//! end of a run: directory times and permissions.

use super::*;

impl Transfer<'_> {
    pub(super) fn complete(&mut self, token: u64, outcome: Outcome) {
        let Some(p) = self.pending.remove(&token) else {
            return;
        };
        match outcome {
            Outcome::Copied(n) => {
                if p.from_source {
                    self.report.stats.literal_data += n;
                }
                let mut out: Vec<String> = p.line.into_iter().collect();
                if let (Some(b), Some((from, to))) = (&self.backup, &p.backup)
                    && let Some(l) = b.line(&self.report, from, to)
                {
                    out.push(l);
                }
                if let Some((src, name, st)) = p.src
                    && let Some(l) = self.remove_source(&src, &name, &st)
                {
                    out.push(l);
                }
                self.report.complete(p.slot, out, Vec::new());
            }
            Outcome::Vanished(msg) => {
                self.report.errors.vanished = true;
                self.report.complete(p.slot, vec![msg], Vec::new());
            }
            Outcome::Failed(msg) => {
                self.report
                    .complete(p.slot, p.line.into_iter().collect(), vec![msg]);
            }
            Outcome::SenderFailed(msg) => {
                self.report.complete(p.slot, Vec::new(), vec![msg]);
            }
            Outcome::Fatal(msg) => {
                self.report.complete(p.slot, Vec::new(), vec![msg.clone()]);
                self.fatal = Some(msg);
                self.abort.store(true, Ordering::Relaxed);
            }
            Outcome::Interrupted => {
                self.report.complete(p.slot, Vec::new(), Vec::new());
            }
        }
    }

    pub(super) fn drain_ready(&mut self) {
        while let Some(d) = self.engine.as_mut().and_then(|e| e.try_done()) {
            self.complete(d.token, d.outcome);
        }
    }

    pub(super) fn drain_all(&mut self) {
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
    pub(super) fn finish_dirs(&mut self) {
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
            if self.opts.times && !self.opts.omit_dir_times && differs {
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
