//! rsync 3.5's defensive walk of operator paths: DEST and the paths given
//! to options (`--link-dest`, `--backup-dir`, `--exclude-from`, …) may go
//! through a symlink only when it is owned by root or by the running
//! user. A symlink planted by another user in a directory on the way
//! could otherwise redirect a privileged run outside the intended tree.
//! `--insecure-links` turns the walk off.
//!
//! Written by hand: the rule (who owns each link met while resolving a
//! path, links inside link targets included) is rsync's, and no crate
//! resolves a path while reporting the owner of every link it follows.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::Kind;

/// The message rsync prints when the walk refuses a path (the caller then
/// fails as for `ELOOP`, as rsync does).
pub(crate) const REFUSAL: &str = "refusing to follow a symlink owned by an untrusted user; \
use --insecure-links locally or \"insecure links = yes\" in a daemon module ONLY if every \
path component is trusted";

/// Most links followed before giving up (the kernel's limit): the caller's
/// own open then reports the loop.
const MAX_HOPS: usize = 40;

/// Whether resolving `path` follows a symlink owned by neither root nor
/// the running user. A component that does not exist (or cannot be read)
/// ends the walk: nothing more is followed there.
pub(crate) fn follows_untrusted_link(path: &Path) -> bool {
    let me = rustix::process::geteuid().as_raw();
    let mut todo: VecDeque<PathBuf> = components(&super::absolute(path));
    let mut cur = PathBuf::from("/");
    let mut hops = 0;
    while let Some(c) = todo.pop_front() {
        if c == Path::new("..") {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        let Ok(st) = super::lstat(&next) else {
            return false;
        };
        if st.kind() != Kind::Symlink {
            cur = next;
            continue;
        }
        if st.uid != 0 && st.uid != me {
            return true;
        }
        hops += 1;
        let Ok(target) = super::fs::readlink(&next) else {
            return false;
        };
        if hops > MAX_HOPS {
            return false;
        }
        let target = Path::new(OsStr::from_bytes(&target));
        if target.is_absolute() {
            cur = PathBuf::from("/");
        }
        for t in components(target).into_iter().rev() {
            todo.push_front(t);
        }
    }
    false
}

/// The components of `p` to walk: names and `..` (no root, no `.`).
fn components(p: &Path) -> VecDeque<PathBuf> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_links_are_followed_and_foreign_ones_refused() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path();
        std::fs::create_dir_all(base.join("real/deep")).unwrap();
        std::os::unix::fs::symlink("real", base.join("mine")).unwrap();
        assert!(!follows_untrusted_link(&base.join("mine/deep/x")));
        assert!(!follows_untrusted_link(&base.join("missing/x")));
        std::os::unix::fs::symlink("real", base.join("theirs")).unwrap();
        let me = rustix::process::geteuid().as_raw();
        let other = if me == 65534 { 1 } else { 65534 };
        let chowned = rustix::fs::chownat(
            rustix::fs::CWD,
            base.join("theirs"),
            Some(rustix::process::Uid::from_raw(other)),
            None,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        );
        if chowned.is_err() {
            eprintln!("skipped: needs root to give a link another owner");
            return;
        }
        assert!(follows_untrusted_link(&base.join("theirs/deep")));
        assert!(follows_untrusted_link(&base.join("theirs")));
        // Through a trusted link whose target holds the foreign one.
        std::os::unix::fs::symlink("theirs/deep", base.join("via")).unwrap();
        assert!(follows_untrusted_link(&base.join("via")));
        assert!(!follows_untrusted_link(&base.join("real/deep")));
    }
}
