//! A killed run's temp files, removed when their file is synced again.
//!
//! arsync builds files unnamed (`O_TMPFILE`), so a kill leaves nothing —
//! except on file systems without unnamed files, under `--temp-dir`'s
//! fallbacks, or in the instant between naming an update's temp file and
//! renaming it. What such a kill leaves is `.NAME.XXXXXX` beside `NAME`.
//! rsync leaves its own forever; arsync removes its own the next time
//! `NAME` is part of a run, where the name's mark proves it made it
//! (`tempname::ours`) and the file proves no run is still writing it
//! (`DirAt::remove_stale_temp`). Quietly: it is not a change to the
//! destination the user asked about.

use std::collections::HashSet;

use super::*;

impl Transfer<'_> {
    /// Removes the stale temp files that earlier runs left in destination
    /// directory `dir` (listed as `existing`) for the names in `entries`.
    pub(super) fn remove_debris(&mut self, dir: &Path, existing: &DirListing, entries: &[Entry]) {
        let mut temps = existing.our_temps().peekable();
        if temps.peek().is_none() {
            return;
        }
        let synced: HashSet<&[u8]> = entries
            .iter()
            .map(|e| crate::tempname::cut(base_name(&e.name)))
            .collect();
        let Ok(at) = self.dir_handle(dir) else {
            return;
        };
        for (name, of) in temps {
            if synced.contains(of) {
                let _ = self.ctx.fs.remove_stale_temp(&at, name);
            }
        }
    }
}
