//! merge.rs — per-directory merge files (`:` rules, -F, `:C`): what
//! rsync's `push_local_filters` and `setup_merge_file` do when the walk
//! enters a directory.
//!
//! Each active dir-merge rule keeps a chain of rules: the current
//! directory's file first, then the parents' (unless `n`). A directory's
//! stack is derived from its parent's and never changes afterwards, so
//! sibling directories (and other threads) see exactly their ancestors'
//! rules, which is what rsync's push/pop achieves with global state.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::parse::{self, FileDesc, ListBuf, Origin, Parser, XFlags};
use super::rule::Flags;
use super::{DirMerge, FilterError, FilterStack, Node};

/// One active per-directory merge rule in a directory's stack.
#[derive(Clone, Debug)]
pub(crate) struct MergeState {
    pub rule: Arc<DirMerge>,
    /// The rules in effect for this merge file here (own, then inherited).
    pub rules: Option<Arc<Node>>,
    /// The file name read in each directory (the rule's name after its
    /// first-directory setup).
    basename: Vec<u8>,
    /// A rule found in a per-directory file whose setup is still to do.
    pending: bool,
}

impl MergeState {
    pub(super) fn new(rule: Arc<DirMerge>) -> MergeState {
        MergeState {
            basename: rule.basename.clone(),
            rule,
            rules: None,
            pending: false,
        }
    }
}

/// `root` + `rel_dir`, cleaned, with a trailing slash (rsync's `dirbuf`).
fn dir_buf(root: &[u8], rel_dir: &[u8]) -> Vec<u8> {
    let mut p = root.to_vec();
    p.push(b'/');
    p.extend_from_slice(rel_dir);
    let mut d = parse::clean(&p);
    if d != b"/" {
        d.push(b'/');
    }
    d
}

/// The transfer root implied by an `enter(rel_dir, real_dir)`: `real_dir`
/// made absolute, less as many trailing components as `rel_dir` has.
fn derive_root(real_dir: &Path, rel_dir: &[u8], cwd: &[u8]) -> Vec<u8> {
    let mut abs = parse::absolute(real_dir.as_os_str().as_bytes(), Some(cwd));
    let depth = rel_dir
        .split(|&c| c == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .count();
    for _ in 0..depth {
        match abs.iter().rposition(|&c| c == b'/') {
            Some(0) => {
                abs.truncate(1);
                break;
            }
            Some(i) => abs.truncate(i),
            None => break,
        }
    }
    abs
}

/// See [`FilterStack::try_enter`].
pub(crate) fn enter(
    stack: &FilterStack,
    rel_dir: &[u8],
    real_dir: &Path,
) -> Result<(FilterStack, Vec<String>), FilterError> {
    let Some(shared) = stack.inner.list.shared.clone() else {
        return Ok((stack.clone(), Vec::new()));
    };
    let mut child = (*stack.inner).clone();
    if !child.root_known {
        child.root = derive_root(real_dir, rel_dir, &shared.cwd);
        child.root_known = true;
    }
    let mut messages = Vec::new();
    if child.merges.is_empty() {
        return Ok((
            FilterStack {
                inner: Arc::new(child),
            },
            messages,
        ));
    }
    let dirbuf = dir_buf(&child.root, rel_dir);
    let mut i = 0;
    while i < child.merges.len() {
        let m = child.merges[i].clone();
        let mut buf = ListBuf {
            entries: Vec::new(),
            inherited: if m.rule.flags.has(Flags::NO_INHERIT) {
                None
            } else {
                m.rules.clone()
            },
        };
        let mut parser = Parser {
            shared: &shared,
            warnings: &mut messages,
            active: child.merges.iter().map(|m| m.basename.clone()).collect(),
            new_merges: Vec::new(),
            dirbuf: dirbuf.clone(),
            parent_dirscan: false,
            base: child.root.clone(),
            in_global: false,
            depth: 0,
            role: "sender",
        };
        let needs_setup = m.pending || !m.rule.setup_done.swap(true, Ordering::AcqRel);
        let mut basename = m.basename.clone();
        if needs_setup {
            setup(&mut parser, &m.rule, &mut basename, &mut buf)?;
        }
        let mut fname = dirbuf.clone();
        fname.extend_from_slice(&basename);
        let open = real_dir.join(std::ffi::OsStr::from_bytes(&basename));
        let x = XFlags {
            anchored2abs: true,
            ..XFlags::default()
        };
        parser.parse_file(
            &mut buf,
            &fname,
            Some(&open),
            Some(file_desc(&m.rule, &fname)),
            m.rule.flags,
            x,
            &Origin::CommandLine,
        )?;
        // Dir-merge rules that a later `!` in the same file removed are
        // gone for good (rsync tears their lists down when it frees them).
        let new: Vec<_> = std::mem::take(&mut parser.new_merges)
            .into_iter()
            .filter(|d| still_listed(&buf, d))
            .collect();
        let st = &mut child.merges[i];
        st.rules = buf.into_node();
        st.basename = basename;
        st.pending = false;
        for d in new {
            let mut ms = MergeState::new(d);
            ms.pending = true;
            child.merges.push(ms);
        }
        i += 1;
    }
    Ok((
        FilterStack {
            inner: Arc::new(child),
        },
        messages,
    ))
}

/// Whether dir-merge rule `d` is still in `buf` (own rules or inherited).
fn still_listed(buf: &ListBuf, d: &Arc<DirMerge>) -> bool {
    let is_d = |e: &super::Entry| matches!(e, super::Entry::DirMerge(x) if Arc::ptr_eq(x, d));
    if buf.entries.iter().any(is_d) {
        return true;
    }
    let mut node = buf.inherited.as_deref();
    while let Some(n) = node {
        if n.entries.iter().any(is_d) {
            return true;
        }
        node = n.parent.as_deref();
    }
    false
}

/// How messages name a per-directory file of `rule`.
fn file_desc(rule: &DirMerge, fname: &[u8]) -> FileDesc {
    if rule.from_file {
        FileDesc {
            desc: "a file read earlier".to_string(),
            direct: false,
        }
    } else {
        FileDesc {
            desc: parse::show(fname),
            direct: true,
        }
    }
}

/// rsync's `setup_merge_file`: a merge name with a directory part that is
/// the transfer directory or one of its parents makes rsync read the file
/// in each directory from there down to (not including) the first
/// directory entered; the name is reduced to its last component either way.
fn setup(
    parser: &mut Parser<'_>,
    rule: &DirMerge,
    basename: &mut Vec<u8>,
    buf: &mut ListBuf,
) -> Result<(), FilterError> {
    let dirbuf = parser.dirbuf.clone();
    let name = &rule.name;
    // parse_merge_name with parent_dirscan off.
    let full = if name.first() == Some(&b'/') {
        parse::clean(name)
    } else if name.contains(&b'/') {
        let mut b = dirbuf.clone();
        b.extend_from_slice(&parse::clean(name));
        parse::clean(&b)
    } else {
        return Ok(());
    };
    let Some(slash) = full.iter().rposition(|&c| c == b'/') else {
        return Ok(());
    };
    *basename = full[slash + 1..].to_vec();
    let mut scan = parse::clean(if slash == 0 { b"/" } else { &full[..slash] });
    if scan != b"/" {
        scan.push(b'/');
    }
    if !dirbuf.starts_with(&scan) {
        return Ok(());
    }
    let x = XFlags {
        anchored2abs: true,
        ..XFlags::default()
    };
    let mut cur = scan.len();
    parser.parent_dirscan = true;
    while cur < dirbuf.len() {
        let dir = dirbuf[..cur].to_vec();
        parser.dirbuf = dir.clone();
        let mut file = dir;
        file.extend_from_slice(basename);
        let desc = file_desc(rule, &file);
        let r = parser.parse_file(
            buf,
            &file,
            None,
            Some(desc),
            rule.flags,
            x,
            &Origin::CommandLine,
        );
        if let Err(e) = r {
            parser.parent_dirscan = false;
            parser.dirbuf = dirbuf;
            return Err(e);
        }
        if rule.flags.has(Flags::NO_INHERIT) {
            buf.entries.clear();
            buf.inherited = None;
        }
        buf.push_down();
        // Next component of the transfer directory.
        match dirbuf[cur..].iter().position(|&c| c == b'/') {
            Some(n) => cur += n + 1,
            None => cur = dirbuf.len(),
        }
    }
    parser.parent_dirscan = false;
    parser.dirbuf = dirbuf;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert_eq!(derive_root(Path::new("src"), b"", b"/w"), b"/w/src");
        assert_eq!(derive_root(Path::new("src"), b"src", b"/w"), b"/w");
        assert_eq!(derive_root(Path::new("/a/b/c"), b"b/c", b"/w"), b"/a");
        assert_eq!(derive_root(Path::new("/a"), b"a", b"/w"), b"/");
        assert_eq!(derive_root(Path::new("./x/./"), b".", b"/w"), b"/w/x");
        assert_eq!(dir_buf(b"/", b""), b"/");
        assert_eq!(dir_buf(b"/w", b""), b"/w/");
        assert_eq!(dir_buf(b"/w", b"a/b"), b"/w/a/b/");
    }
}
