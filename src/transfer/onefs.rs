//! `-x` on the receiving side of `--delete`: rsync deletes nothing inside
//! a destination directory that lies on another filesystem than DEST, and
//! never deletes a mount point it finds in a directory it cleans up.

use std::path::Path;

use super::Transfer;
use crate::report::Event;
use crate::sys::{self, Kind, Stat};

impl Transfer<'_> {
    /// What `--delete` may look at in `dir`: `None` when `dir` is on
    /// another filesystem than the destination root; otherwise `listed`
    /// without the mount points below `dir` (at `-vv` rsync names them).
    pub(super) fn same_fs_only(
        &mut self,
        dir: &Path,
        listed: Vec<(Vec<u8>, Stat)>,
    ) -> Option<Vec<(Vec<u8>, Stat)>> {
        if self.ctx.opts.one_file_system == 0 {
            return Some(listed);
        }
        let dir_dev = sys::stat(dir).ok()?.dev;
        let root_dev = sys::stat(&self.ctx.root.path).ok()?.dev;
        if dir_dev != root_dev {
            return None;
        }
        let mut keep = Vec::with_capacity(listed.len());
        let mut mounts: Vec<Vec<u8>> = Vec::new();
        for (name, st) in listed {
            if st.kind() == Kind::Dir && st.dev != dir_dev {
                mounts.push(name);
            } else {
                keep.push((name, st));
            }
        }
        // -x: rsync's delete loop (backwards through the sorted listing)
        // names them; -xx: its listing of the directory left them out.
        mounts.sort();
        let listed_out = self.ctx.opts.one_file_system > 1;
        if !listed_out {
            mounts.reverse();
        }
        for name in &mounts {
            let local = self.local_of(&dir.join(super::path_of(name)));
            self.report.event(Event::MountPoint {
                local: &local,
                listed_out,
            });
        }
        Some(keep)
    }
}
