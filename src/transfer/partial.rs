//! rsync 3.5's checks of an absolute `--partial-dir` before a partial file
//! left there is removed (or reused): the ownership walk (`sys::trust`)
//! and `--confine-root`. Kept apart from the partial-dir plumbing in
//! `dirs`/`done` so that the rule reads in one place.
//!
//! Measured against rsync 3.5.0: only an absolute partial dir is walked (a
//! relative one lies below DEST's own handle, and one climbing out of it
//! with `..` is never touched: its partial files stay); a partial file behind
//! another user's symlink is left in place with the refusal line, once per
//! file that has one, and the run's exit code is unchanged; one resolving
//! outside `--confine-root` is left in place silently.

use super::*;

impl Transfer<'_> {
    /// Whether partial file `partial` (in partial dir `pd`) may be
    /// touched. Says rsync's refusal line when the walk refuses a partial
    /// file that is there.
    pub(super) fn partial_walk_allows(&mut self, pd: &Path, partial: &Path) -> bool {
        if !pd.is_absolute() {
            return !pd
                .components()
                .any(|c| c == std::path::Component::ParentDir);
        }
        let opts = &self.ctx.opts;
        if !opts.insecure_links && sys::trust::follows_untrusted_link(partial) {
            if sys::lstat(partial).is_ok() {
                self.report.error_raw(sys::trust::REFUSAL.to_string());
            }
            return false;
        }
        !opts
            .confine_root
            .as_deref()
            .is_some_and(|root| sys::trust::escapes_root(partial, root))
    }
}
