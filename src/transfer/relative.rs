//! `-R --no-implied-dirs`: the directories on the way to a named path are
//! in the file list but not transferred; the receiver only makes sure a
//! directory exists there (rsync's silent `make_path`), keeping whatever
//! is already in place, e.g. a symlink to a directory.

use std::path::Path;

use super::{Next, OpenDir, Transfer};
use crate::sys::Errno;

use crate::sys::{self, Kind};

impl Transfer<'_> {
    /// Passes through an implied directory without transferring it; its
    /// named contents follow.
    pub(super) fn pass_implied(&mut self, dest: &Path) -> Next {
        let exists = sys::stat(dest).is_ok_and(|st| st.kind() == Kind::Dir);
        let gid = self.new_file_gid();
        if exists {
            // rsync goes into it by path: a symlink to a directory here is
            // followed (what --no-implied-dirs is for).
            let at = match self.open_dir(dest) {
                Err(Errno::NOTDIR | Errno::LOOP) => sys::open_root(dest),
                at => at,
            };
            self.dirs.stack.push(OpenDir {
                path: dest.to_path_buf(),
                at,
                new_file_gid: gid,
            });
            return Next::Descend { fresh: false };
        }
        if sys::lstat(dest).is_err()
            && let Err(e) = self.ctx.fs.mkdir_all(dest)
        {
            let shown = self.shown(dest);
            self.report.error(format!(
                "recv_generator: mkdir {shown} failed: {}",
                sys::errno_text(e)
            ));
            return Next::Stop;
        }
        let at = self.open_dir(dest);
        self.dirs.stack.push(OpenDir {
            path: dest.to_path_buf(),
            at,
            new_file_gid: gid,
        });
        Next::Descend { fresh: true }
    }
}
