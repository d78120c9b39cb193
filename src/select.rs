//! Which source paths a run starts from when they are not plain
//! arguments: `-R`/`--relative` (path names kept below DEST, `/./` cut
//! points, the implied directories on the way to each named path) and
//! `--files-from` (the list of names to send, read from a file or stdin).
//!
//! The result is the same [`TopLevel`] the plain walk produces: the root
//! listing, in which an implied directory is an entry whose listing is
//! preset to the named paths below it (it is not read from disk), and
//! whose contents are therefore never deleted from.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::sys::Errno;

use crate::options::MissingArgs;
use crate::sys::{self, Kind, Stat};
use crate::walk::{Diag, Entry, Preset, TopLevel, Walker, sort_entries};

/// How a relative argument names its item (rsync's `name_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameType {
    /// `dir/name`.
    Normal,
    /// `dir/name/`: a directory's contents are wanted (`-d` lists them).
    SlashEnding,
    /// `.`, `dir/./`: the base directory itself.
    DotDir,
}

/// One `-R` source argument, split the way rsync's sender does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RelArg {
    /// Where the path is looked up from (the part before `/./`, or `.`).
    pub base: Vec<u8>,
    /// The name sent, cleaned (`a//b/./c` → `a/b/c`); `.` for the base.
    pub name: Vec<u8>,
    pub name_type: NameType,
    /// The path started with `./`: the base directory is sent as an
    /// implied `.` entry.
    pub implied_dot: bool,
}

/// rsync's `clean_fname()` with CFN_KEEP_TRAILING_SLASH and
/// CFN_DROP_TRAILING_DOT_DIR: repeated slashes and `.` components go.
fn clean(name: &[u8]) -> Vec<u8> {
    let absolute = name.first() == Some(&b'/');
    let trailing = name.len() > 1 && name.ends_with(b"/");
    let parts: Vec<&[u8]> = name
        .split(|&b| b == b'/')
        .filter(|p| !p.is_empty() && *p != b".")
        .collect();
    let mut out = Vec::with_capacity(name.len());
    if absolute {
        out.push(b'/');
    }
    out.extend_from_slice(&parts.join(&b'/'));
    if trailing && !parts.is_empty() {
        out.push(b'/');
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Splits a `-R` argument. `Err` carries rsync's message for a `..` in
/// the part of the path that is sent (a usage error, exit 1).
pub(crate) fn split_relative(arg: &[u8]) -> Result<RelArg, String> {
    let (base, rest) = match arg.windows(3).position(|w| w == b"/./") {
        Some(0) => (b"/".to_vec(), &arg[3..]),
        Some(p) => {
            let mut b = clean(&arg[..p]);
            if b.len() > 1 && b.ends_with(b"/") {
                b.pop();
            }
            (b, &arg[p + 3..])
        }
        None => (b".".to_vec(), arg),
    };
    let mut rest = rest;
    while rest.first() == Some(&b'/') && base != b"." {
        rest = &rest[1..];
    }
    let implied_dot = rest.len() > 2 && rest.starts_with(b"./");
    let mut name = if rest.is_empty() {
        b".".to_vec()
    } else {
        clean(rest)
    };
    let mut name_type = NameType::Normal;
    if name == b"." || name == b"/" {
        name_type = NameType::DotDir;
        if name == b"/" {
            name = b"/.".to_vec();
        }
    } else if name.ends_with(b"/") {
        name.pop();
        name_type = NameType::SlashEnding;
    }
    let dotdot = name.split(|&b| b == b'/').any(|c| c == b"..");
    if dotdot {
        return Err(format!(
            "found \"..\" dir in relative path: {}",
            String::from_utf8_lossy(&name)
        ));
    }
    Ok(RelArg {
        base,
        name,
        name_type,
        implied_dot,
    })
}

/// The path an entry named `name` is read from.
fn source_path(base: &[u8], name: &[u8]) -> PathBuf {
    if base == b"." || name.first() == Some(&b'/') {
        PathBuf::from(OsStr::from_bytes(name))
    } else {
        PathBuf::from(OsStr::from_bytes(base)).join(OsStr::from_bytes(name))
    }
}

/// A node of the tree of named paths.
#[derive(Default)]
struct Node {
    /// The entry named by an argument, or else the implied directory.
    entry: Option<Entry>,
    /// Whether `entry` is a directory whose contents come from disk.
    content: bool,
    children: BTreeMap<Vec<u8>, Node>,
    /// Which argument named `entry` (the first one wins a name).
    arg: usize,
}

/// Components of a name, a leading `/` staying with the first one (so
/// that joining them with `/` gives the name back).
fn components(name: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (i, p) in name.split(|&b| b == b'/').enumerate() {
        if i == 0 && p.is_empty() {
            out.push(b"/".to_vec());
            continue;
        }
        if p.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last == b"/" => last.extend_from_slice(p),
            _ => out.push(p.to_vec()),
        }
    }
    out
}

impl Node {
    /// Puts the implied directories `implied` (one per component of
    /// `comps` but the last) into the tree; returns the node the last
    /// component goes under. An implied directory already there under
    /// another base gets that base's path too (its named paths are looked
    /// up there as well).
    fn add_implied(&mut self, comps: &[Vec<u8>], implied: Vec<Entry>) -> &mut Node {
        let mut node = self;
        for (c, e) in comps.iter().zip(implied) {
            let child = node.children.entry(c.clone()).or_default();
            match child.entry.as_mut() {
                None => child.entry = Some(e),
                Some(have) if have.implied() && have.src() != e.src() => {
                    let src = e.src().into_owned();
                    if !have.more_srcs().contains(&src) {
                        have.rare_mut().more_srcs.push(src);
                    }
                }
                Some(_) => {}
            }
            node = child;
        }
        node
    }

    /// The listing of this node's children, each implied or non-content
    /// directory carrying its own preset listing, and a content directory
    /// with paths named below it (from another argument) its listing read
    /// now with those paths merged in.
    fn flatten(self, walker: &mut Walker) -> Vec<Entry> {
        let mut v: Vec<Entry> = Vec::with_capacity(self.children.len());
        for (_, child) in self.children {
            let (content, arg) = (child.content, child.arg);
            let Some(mut e) = child.entry.clone() else {
                continue;
            };
            if e.is_dir() && content && !child.children.is_empty() {
                let named_by: HashMap<Vec<u8>, usize> = (child.children.values())
                    .filter_map(|n| n.entry.as_ref().map(|k| (k.name.to_vec(), n.arg)))
                    .collect();
                let kids = child.flatten(walker);
                let entries = merge_named(walker, &e, arg, kids, &named_by);
                e.set_preset(Preset::listed(entries));
            } else if e.is_dir() && !content {
                let mut kids = child.flatten(walker);
                let mut content = false;
                if let Some(listing) = e.take_preset() {
                    content = listing.content;
                    // `-d dir/` read one level; named paths below it
                    // take the place of the listed entries they name.
                    let named: std::collections::HashSet<Vec<u8>> =
                        kids.iter().map(|k| k.name.to_vec()).collect();
                    kids.extend(
                        listing
                            .entries
                            .iter()
                            .filter(|l| !named.contains(&l.name[..]))
                            .cloned(),
                    );
                    sort_entries(&mut kids);
                }
                e.set_preset(Preset::new(kids, content));
            }
            v.push(e);
        }
        sort_entries(&mut v);
        v
    }
}

/// The listing of content directory `dir` (named by argument `dir_arg`)
/// with `kids`, paths named below it by other arguments, merged in as
/// rsync's one sorted file list has them: a name in both goes to the
/// earlier argument (`named_by` says which named each kid; the other's
/// size still counts in "total size"), and an implied directory named
/// below merges its named paths into the listed directory the same way.
fn merge_named(
    walker: &mut Walker,
    dir: &Entry,
    dir_arg: usize,
    kids: Vec<Entry>,
    named_by: &HashMap<Vec<u8>, usize>,
) -> Vec<Entry> {
    let mut listing = walker.list(dir);
    let at: HashMap<Vec<u8>, usize> = (listing.iter().enumerate())
        .map(|(i, l)| (l.name.to_vec(), i))
        .collect();
    for k in kids {
        let Some(&i) = at.get(&k.name[..]) else {
            listing.push(k);
            continue;
        };
        let listed = &mut listing[i];
        if k.implied() && listed.is_dir() && listed.preset().is_none() {
            let below = k.preset().map(|p| p.entries.clone()).unwrap_or_default();
            let entries = merge_named(walker, listed, dir_arg, below, &HashMap::new());
            listed.set_preset(Preset::listed(entries));
        } else if named_by.get(&k.name[..]).is_some_and(|&a| a < dir_arg) {
            walker.shadowed_size += listed.counted_size();
            *listed = k;
        } else {
            walker.shadowed_size += k.counted_size();
        }
    }
    sort_entries(&mut listing);
    listing
}

/// What the relative walk needs from the options.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RelConfig<'a> {
    pub recursive: bool,
    pub xfer_dirs: bool,
    /// `-k`: a named link to a directory is followed.
    pub copy_dirlinks: bool,
    /// `--confine-root` for the names a `--files-from` list selects (not
    /// under `-L`, as rsync): one resolving outside fails its look-up as
    /// rsync's walk does, with `ELOOP`.
    pub confine: Option<&'a Path>,
}

/// Resolves `-R` sources into the root listing. `Err`: a usage error
/// (rsync's message), the run stops with exit 1.
pub(crate) fn relative_top_level(
    walker: &mut Walker,
    sources: &[OsString],
    cfg: RelConfig<'_>,
    under: Option<&[u8]>,
) -> Result<TopLevel, String> {
    let mut top = TopLevel::default();
    let mut root = Node::default();
    let mut dot_srcs: Vec<PathBuf> = Vec::new();
    let mut implied_dot: Option<PathBuf> = None;
    for (arg_no, arg) in sources.iter().enumerate() {
        let mut rel = split_relative(arg.as_bytes())?;
        if let Some(r) = under {
            rel.base = rebase(r, &rel.base);
        }
        let path = source_path(&rel.base, &rel.name);
        if rel.implied_dot && implied_dot.is_none() {
            implied_dot = Some(PathBuf::from(OsStr::from_bytes(&rel.base)));
        }
        let follow = cfg.copy_dirlinks || rel.name_type != NameType::Normal;
        let confined_out = under.is_some()
            && cfg
                .confine
                .is_some_and(|r| sys::trust::escapes_root(&path, r));
        let looked = if confined_out {
            Err(Errno::LOOP)
        } else if follow {
            sys::stat(&path)
        } else {
            sys::lstat(&path)
        };
        let st = match looked {
            Ok(st) => st,
            Err(Errno::NOENT) if walker.cfg.missing_args == MissingArgs::Ignore => continue,
            Err(Errno::NOENT) if walker.cfg.missing_args == MissingArgs::Delete => Stat::default(),
            Err(e) => {
                walker.link_stat_failed(&path, e);
                continue;
            }
        };
        if st.kind() == Kind::Dir && !cfg.xfer_dirs {
            let shown = crate::text::escape_name(&rel.name, walker.utf8);
            walker
                .diags
                .push(Diag::Info(format!("skipping directory {shown}")));
            continue;
        }
        if rel.name_type == NameType::DotDir {
            if top.dot.is_none() {
                let mut dot = Entry::new(b".".to_vec(), st, path.clone());
                dot.set_filters(walker.root_filters(&path));
                top.dot = Some(dot);
            } else if let Some(d) = top.dot.as_mut() {
                d.rare_mut().more_srcs.push(path.clone());
            }
            dot_srcs.push(path);
            continue;
        }
        let comps = components(&rel.name);
        let Some(implied) = implied_dirs(walker, &rel.base, &comps) else {
            continue;
        };
        let node = root.add_implied(&comps, implied);
        let Some(last) = comps.last() else { continue };
        let leaf = node.children.entry(last.clone()).or_default();
        let is_new = leaf.entry.as_ref().is_none_or(|e| e.implied());
        if !is_new {
            // Named twice: the first one wins; a directory seen again
            // contributes its contents.
            if let Some(e) = leaf.entry.as_mut()
                && e.is_dir()
                && st.kind() == Kind::Dir
                && *e.src() != *path
            {
                e.rare_mut().more_srcs.push(path);
            } else {
                walker.shadowed_size += match st.kind() {
                    Kind::File | Kind::Symlink => st.size,
                    _ => 0,
                };
            }
            continue;
        }
        let entry = if st.mode == 0 {
            Some(Entry::new(rel.name.clone(), st, path))
        } else {
            walker.make_entry(rel.name.clone(), path, st, None)
        };
        let Some(mut entry) = entry else { continue };
        // Filters see the path below the cut point; implied directories
        // are not filtered (rsync sends them whatever the rules say).
        let filters = walker.root_filters(std::path::Path::new(OsStr::from_bytes(&rel.base)));
        if let Some(f) = &filters
            && walker.excluded(f, entry.local_name(), entry.kind())
        {
            continue;
        }
        entry.set_filters(filters);
        let content = entry.is_dir()
            && (cfg.recursive || (cfg.xfer_dirs && rel.name_type != NameType::Normal));
        if entry.is_dir() && content && !cfg.recursive {
            // `-d name/`: one level of contents, read now (a content
            // directory: --delete works in it).
            let entries = walker.list(&entry);
            entry.set_preset(Preset::listed(entries));
            leaf.content = false;
            leaf.entry = Some(entry);
            continue;
        }
        leaf.content = content;
        leaf.arg = arg_no;
        leaf.entry = Some(entry);
    }
    top.entries = root.flatten(walker);
    add_dot(walker, &mut top, implied_dot);
    Ok(top)
}

/// A `--files-from` name's base: relative to the source argument `under`.
fn rebase(under: &[u8], base: &[u8]) -> Vec<u8> {
    if base == b"." {
        return under.to_vec();
    }
    let mut b = under.to_vec();
    if !b.ends_with(b"/") {
        b.push(b'/');
    }
    b.extend_from_slice(base);
    b
}

/// The implied directories on the way to a named path (all of `comps` but
/// the last), from the outside in; `None` (after an error message for a
/// failed stat) when one is missing or not a directory.
fn implied_dirs(walker: &mut Walker, base: &[u8], comps: &[Vec<u8>]) -> Option<Vec<Entry>> {
    let mut implied: Vec<Entry> = Vec::new();
    let mut prefix: Vec<u8> = Vec::new();
    for c in &comps[..comps.len().saturating_sub(1)] {
        if !prefix.is_empty() {
            prefix.push(b'/');
        }
        prefix.extend_from_slice(c);
        let p = source_path(base, &prefix);
        match sys::stat(&p) {
            Ok(pst) if pst.kind() == Kind::Dir => {
                implied.push(walker.implied_entry(prefix.clone(), p, pst)?);
            }
            Ok(_) => return None,
            Err(e) => {
                let text = format!(
                    "[sender] link_stat \"{}\" failed: {}",
                    walker.shown(&p),
                    sys::errno_text(e)
                );
                walker.diags.push(Diag::Error(text));
                return None;
            }
        }
    }
    Some(implied)
}

/// The root's `.`: a named `dir/.` gets its contents (from every source
/// that named it) merged into the listing; `./name` sends the base
/// directory itself, as an implied directory holding what was named.
fn add_dot(walker: &mut Walker, top: &mut TopLevel, implied_dot: Option<PathBuf>) {
    if let Some(dot) = top.dot.clone() {
        walker.add_listing(&mut top.entries, &dot);
    } else if let Some(base) = implied_dot
        && let Ok(st) = sys::stat(&base)
    {
        let mut dot = Entry::new(b".".to_vec(), st, base);
        dot.rare_mut().implied = true;
        dot.set_preset(Preset::named(top.entries.clone()));
        top.dot = Some(dot);
    }
}

/// rsync's `sanitize_path()` of a `--files-from` name: leading and
/// repeated slashes go, a `..` component removes the one before it (or
/// nothing), `.` components go unless `-R` keeps them as cut points.
pub(crate) fn sanitize(name: &[u8], keep_dot_dirs: bool) -> Vec<u8> {
    let mut p = name;
    if !keep_dot_dirs {
        while p.starts_with(b"./") {
            p = &p[2..];
        }
    }
    let mut out: Vec<u8> = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'/' {
            i += 1;
            continue;
        }
        let end = p[i..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(p.len(), |e| i + e);
        let comp = &p[i..end];
        if comp == b"." && !keep_dot_dirs {
            i = end;
            continue;
        }
        if comp == b".." {
            // Back up over the previous component (its slash stays).
            if !out.is_empty() {
                out.pop();
                while out.last().is_some_and(|&b| b != b'/') {
                    out.pop();
                }
            }
            i = (end + 1).min(p.len());
            continue;
        }
        out.extend_from_slice(comp);
        if end < p.len() {
            out.push(b'/');
        }
        i = end + 1;
    }
    if out.is_empty() {
        out.push(b'.');
    }
    out
}

/// Why a `--files-from` list could not be read.
#[derive(Debug)]
pub(crate) enum FilesFromError {
    /// rsync's message for a file that cannot be opened or read.
    Unreadable(String),
    /// A signal arrived while the list was being read.
    Interrupted,
}

/// rsync's `read_line` buffer (BIGPATHBUFLEN) keeps this many bytes of a
/// name; the rest of a longer line is dropped.
const MAX_NAME_LINE: usize = 4096 + 1024 - 1;

/// Reads a `--files-from` list (`-`: stdin) as rsync's `read_line` with
/// RL_DUMP_COMMENTS does: lines end at CR or LF (NUL with `--from0`),
/// empty lines and lines starting with `#` or `;` are skipped, a line
/// keeps rsync's buffer's worth. Each name is sanitized. Memory stays
/// bounded on an endless line and `stop` (the signal flag) ends the read.
pub(crate) fn read_files_from(
    spec: &OsStr,
    from0: bool,
    relative: bool,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Vec<OsString>, FilesFromError> {
    let how = crate::listfile::ListRead {
        from0,
        cap: MAX_NAME_LINE,
        stop: Some(stop),
    };
    let read = if spec.as_bytes() == b"-" {
        how.read(crate::listfile::StoppableStdin { stop }, false)
    } else {
        std::fs::File::open(spec).and_then(|f| how.read(f, false))
    };
    let data = match read {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
            return Err(FilesFromError::Interrupted);
        }
        Err(e) => {
            let text = match e.raw_os_error() {
                Some(n) => sys::strerror(n),
                None => e.to_string(),
            };
            return Err(FilesFromError::Unreadable(format!(
                "failed to open files-from file {}: {text}",
                String::from_utf8_lossy(spec.as_bytes())
            )));
        }
    };
    Ok(data
        .iter()
        .map(|(l, _)| l)
        .filter(|l| l[0] != b'#' && l[0] != b';')
        .map(|l| OsString::from_vec(sanitize(l, relative)))
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sanitize_like_rsync() {
        assert_eq!(sanitize(b"/sub/a", true), b"sub/a");
        assert_eq!(sanitize(b"../b", true), b"b");
        assert_eq!(sanitize(b"a/../b", true), b"b");
        assert_eq!(sanitize(b"a/b/../../c", true), b"c");
        assert_eq!(sanitize(b"sub/./deep/c", true), b"sub/./deep/c");
        assert_eq!(sanitize(b"sub/./deep/c", false), b"sub/deep/c");
        assert_eq!(sanitize(b"./other/o", true), b"./other/o");
        assert_eq!(sanitize(b"./other/o", false), b"other/o");
        assert_eq!(sanitize(b"a//b/", true), b"a/b/");
        assert_eq!(sanitize(b"..", true), b".");
    }

    use super::*;

    fn split(s: &str) -> (String, String, NameType, bool) {
        let r = split_relative(s.as_bytes()).unwrap();
        (
            String::from_utf8(r.base).unwrap(),
            String::from_utf8(r.name).unwrap(),
            r.name_type,
            r.implied_dot,
        )
    }

    #[test]
    fn cut_points_and_cleaning() {
        use NameType::*;
        assert_eq!(
            split("src/sub/a"),
            (".".into(), "src/sub/a".into(), Normal, false)
        );
        assert_eq!(
            split("src/./sub/a"),
            ("src".into(), "sub/a".into(), Normal, false)
        );
        assert_eq!(
            split("src//./sub"),
            ("src".into(), "sub".into(), Normal, false)
        );
        assert_eq!(
            split("a/./b/./c"),
            ("a".into(), "b/c".into(), Normal, false)
        );
        assert_eq!(
            split("src/sub/"),
            (".".into(), "src/sub".into(), SlashEnding, false)
        );
        assert_eq!(split("src/./"), ("src".into(), ".".into(), DotDir, false));
        assert_eq!(split("."), (".".into(), ".".into(), DotDir, false));
        assert_eq!(split("./src/a"), (".".into(), "src/a".into(), Normal, true));
        assert_eq!(
            split("/abs/x"),
            (".".into(), "/abs/x".into(), Normal, false)
        );
        assert_eq!(split("/./x"), ("/".into(), "x".into(), Normal, false));
        assert_eq!(
            split("a//b/"),
            (".".into(), "a/b".into(), SlashEnding, false)
        );
        assert_eq!(
            split("src/sub/."),
            (".".into(), "src/sub".into(), Normal, false)
        );
    }

    #[test]
    fn dotdot_refused() {
        assert_eq!(
            split_relative(b"src/../x").unwrap_err(),
            "found \"..\" dir in relative path: src/../x"
        );
        assert!(split_relative(b"src/./../x").is_err());
        assert!(split_relative(b"../x/./y").is_ok());
        assert!(split_relative(b"a/..b").is_ok());
    }

    #[test]
    fn components_keep_leading_slash() {
        assert_eq!(components(b"/tmp/x"), vec![b"/tmp".to_vec(), b"x".to_vec()]);
        assert_eq!(components(b"a/b"), vec![b"a".to_vec(), b"b".to_vec()]);
    }

    #[test]
    fn files_from_names_rebase_under_the_source() {
        assert_eq!(rebase(b"src", b"."), b"src");
        assert_eq!(rebase(b"src", b"a/b"), b"src/a/b");
        assert_eq!(rebase(b"src/", b"a"), b"src/a");
    }

    #[test]
    fn implied_dirs_join_across_bases() {
        let dir = |name: &[u8], src: &str| {
            let st = Stat {
                mode: crate::sys::mode::S_IFDIR | 0o755,
                ..Stat::default()
            };
            let mut e = Entry::new(name.to_vec(), st, PathBuf::from(src));
            e.rare_mut().implied = true;
            e
        };
        let comps: Vec<Vec<u8>> = vec![b"a".to_vec(), b"b".to_vec(), b"f".to_vec()];
        let mut root = Node::default();
        root.add_implied(&comps, vec![dir(b"a", "x/a"), dir(b"a/b", "x/a/b")]);
        let under = root.add_implied(&comps, vec![dir(b"a", "y/a"), dir(b"a/b", "y/a/b")]);
        assert!(under.children.is_empty());
        let a = root.children[&b"a".to_vec()].entry.as_ref().unwrap();
        assert_eq!(*a.src(), PathBuf::from("x/a"));
        assert_eq!(a.more_srcs().to_vec(), vec![PathBuf::from("y/a")]);
        let opts = crate::options::Options::default();
        let mut walker = Walker::new(crate::walk::WalkConfig::new(&opts));
        let top = root.flatten(&mut walker);
        assert_eq!(top.len(), 1);
        let kids = &top[0].preset().unwrap().entries;
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].name, b"a/b");
    }
}
