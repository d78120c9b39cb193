//! rsync 3.5's defensive walk of operator paths: DEST and the paths given
//! to options (`--link-dest`, `--backup-dir`, `--exclude-from`, …) may go
//! through a symlink only when it is owned by root or by the running
//! user. A symlink planted by another user in a directory on the way
//! could otherwise redirect a privileged run outside the intended tree.
//! `--insecure-links` turns the walk off. `--confine-root` walks the same
//! way and asks where the path comes out instead of who planted a link.
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

/// What the walk meets while resolving a path: a position reached through
/// a directory (or `..`), or a symlink with its owner.
enum Met<'a> {
    At(&'a Path),
    Link(u32),
}

/// How a walk ended: stopped by the caller, at the path's end (where it
/// resolved to), missing (a component that does not exist or cannot be
/// looked at: where it would be, and the components still to walk after
/// it), or lost on a link that cannot be read or loops.
enum Walked {
    Stopped,
    Ended(PathBuf),
    Missing(PathBuf, VecDeque<PathBuf>),
    Lost,
}

/// Resolves `path` (made absolute against the working directory) as the
/// kernel does, asking `stop` at each place and each link it meets.
fn walk(path: &Path, mut stop: impl FnMut(Met) -> bool) -> Walked {
    let mut todo: VecDeque<PathBuf> = components(&super::absolute(path));
    let mut cur = PathBuf::from("/");
    let mut hops = 0;
    while let Some(c) = todo.pop_front() {
        if c == Path::new("..") {
            cur.pop();
            if stop(Met::At(&cur)) {
                return Walked::Stopped;
            }
            continue;
        }
        let next = cur.join(&c);
        let Ok(st) = super::lstat(&next) else {
            return Walked::Missing(next, todo);
        };
        if st.kind() != Kind::Symlink {
            if stop(Met::At(&next)) {
                return Walked::Stopped;
            }
            cur = next;
            continue;
        }
        if stop(Met::Link(st.uid)) {
            return Walked::Stopped;
        }
        hops += 1;
        let Ok(target) = super::fs::readlink(&next) else {
            return Walked::Lost;
        };
        if hops > MAX_HOPS {
            return Walked::Lost;
        }
        let target = Path::new(OsStr::from_bytes(&target));
        if target.is_absolute() {
            cur = PathBuf::from("/");
        }
        for t in components(target).into_iter().rev() {
            todo.push_front(t);
        }
    }
    Walked::Ended(cur)
}

/// Whether resolving `path` follows a symlink owned by neither root nor
/// the running user. A component that does not exist (or cannot be read)
/// ends the walk: nothing more is followed there.
pub(crate) fn follows_untrusted_link(path: &Path) -> bool {
    let me = rustix::process::geteuid().as_raw();
    let walked = walk(
        path,
        |m| matches!(m, Met::Link(uid) if uid != 0 && uid != me),
    );
    matches!(walked, Walked::Stopped)
}

/// `--confine-root=ROOT` (`root` made absolute and lexically clean, see
/// [`clean_root`]): whether resolving `path` comes out of `root`. As
/// rsync 3.5 measures it, every place the resolution passes must lie on
/// the way down to `root` (one of its ancestors) or inside it, and the
/// end must be inside it; a link is judged by where it leads, not where
/// it lies. A missing directory on the way is not an escape (the
/// caller's own look-up reports it, as rsync's does); a missing last
/// component is judged by where it would be.
pub(crate) fn escapes_root(path: &Path, root: &Path) -> bool {
    judge(path, root, false)
}

/// [`escapes_root`] for a directory the caller makes where it is missing
/// (`--backup-dir`): the missing levels, and any `..` after them, are
/// judged lexically, where `mkdir` will put them.
pub(crate) fn escapes_root_once_made(path: &Path, root: &Path) -> bool {
    judge(path, root, true)
}

fn judge(path: &Path, root: &Path, made: bool) -> bool {
    let mut escaped = false;
    let mut at = |p: &Path| escaped |= !(root.starts_with(p) || p.starts_with(root));
    let end = match walk(path, |m| {
        if let Met::At(p) = m {
            at(p);
        }
        false
    }) {
        Walked::Ended(end) => end,
        Walked::Missing(end, rest) if rest.is_empty() => end,
        Walked::Missing(mut end, rest) if made => {
            for c in rest {
                if c == Path::new("..") {
                    end.pop();
                    at(&end);
                } else {
                    end.push(c);
                }
            }
            end
        }
        Walked::Missing(..) | Walked::Stopped | Walked::Lost => return false,
    };
    escaped || !end.starts_with(root)
}

/// `--confine-root`'s DIR as [`escapes_root`] compares it: `.` and `..`
/// folded lexically (symlinks in it are not resolved, as in rsync),
/// `None` for `/`, which confines nothing.
pub(crate) fn clean_root(dir: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for c in components(dir) {
        if c == Path::new("..") {
            out.pop();
        } else {
            out.push(c);
        }
    }
    (out != Path::new("/")).then_some(out)
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

    #[test]
    fn confinement_judges_where_the_walk_goes() {
        let t = tempfile::tempdir().unwrap();
        let base = t.path();
        let root = base.join("root");
        std::fs::create_dir_all(root.join("in/x")).unwrap();
        std::fs::create_dir_all(base.join("out")).unwrap();
        std::os::unix::fs::symlink("../out", root.join("to_out")).unwrap();
        std::os::unix::fs::symlink(root.join("in"), base.join("out/to_in")).unwrap();
        std::os::unix::fs::symlink("../root/in", root.join("up_in")).unwrap();
        std::os::unix::fs::symlink("root", base.join("rootlink")).unwrap();
        let r = clean_root(&root).unwrap();
        assert!(!escapes_root(&root.join("in/x"), &r));
        assert!(!escapes_root(&root.join("in/x/../../in"), &r));
        assert!(!escapes_root(&root.join("up_in/x"), &r));
        assert!(!escapes_root(&base.join("rootlink/in"), &r));
        assert!(!escapes_root(&root.join("missing/x"), &r));
        assert!(!escapes_root(&base.join("out/missing/x"), &r));
        assert!(escapes_root(&base.join("out/missing"), &r));
        assert!(escapes_root(&root.join("to_out"), &r));
        assert!(escapes_root(&root.join("to_out/../root/in"), &r));
        assert!(escapes_root(&base.join("out/to_in"), &r));
        assert!(escapes_root(&root.join(".."), &r));
        let via_link = clean_root(&base.join("rootlink")).unwrap();
        assert!(escapes_root(&root.join("in"), &via_link));
        // A directory about to be made is judged where it will be.
        assert!(escapes_root_once_made(&base.join("out/missing/x"), &r));
        assert!(escapes_root_once_made(&base.join("out/m/../../out"), &r));
        assert!(escapes_root_once_made(&root.join("m/../../x"), &r));
        assert!(!escapes_root_once_made(&root.join("m/n"), &r));
        assert!(!escapes_root_once_made(&root.join("m/../in/y"), &r));
        assert!(escapes_root_once_made(&root.join("to_out/m/n"), &r));
        assert!(!escapes_root_once_made(&root.join("in/x"), &r));
        assert_eq!(
            clean_root(Path::new("/a/./b/../c/")).unwrap(),
            Path::new("/a/c")
        );
        assert_eq!(clean_root(Path::new("/x/..")), None);
    }
}
