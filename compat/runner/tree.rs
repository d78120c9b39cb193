//! tree.rs — snapshots a directory tree (metadata, contents, xattrs, hard links) and diffs two
//! snapshots, applying the mtime "freshness" rule.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::scenario::Extras;

/// A timestamp as stored by the filesystem.
pub type Stamp = (i64, i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDev,
    BlockDev,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "dir",
            Kind::Symlink => "symlink",
            Kind::Fifo => "fifo",
            Kind::Socket => "socket",
            Kind::CharDev => "chardev",
            Kind::BlockDev => "blockdev",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub content: Option<Vec<u8>>,
    pub link: Option<Vec<u8>>,
    pub rdev: u64,
    pub mtime: Stamp,
    pub atime: Stamp,
    /// `st_blocks` (512-byte units).
    pub blocks: u64,
    pub xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    ino: (u64, u64),
    nlink: u64,
}

/// Relative path (bytes, `.` for the root) → entry; plus hard-link groups.
#[derive(Debug, Default)]
pub struct Tree {
    pub entries: BTreeMap<Vec<u8>, Entry>,
    /// For every non-directory path whose inode is shared inside the tree: the other paths.
    pub links: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
}

/// Render a path (bytes) readably: printable ASCII/UTF-8 as is, the rest escaped.
pub fn show_path(p: &[u8]) -> String {
    let mut s = String::new();
    for chunk in p.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                s.extend(c.escape_default());
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

fn rel_join(rel: &[u8], name: &[u8]) -> Vec<u8> {
    if rel == b"." {
        name.to_vec()
    } else {
        let mut v = rel.to_vec();
        v.push(b'/');
        v.extend_from_slice(name);
        v
    }
}

fn read_xattrs(path: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    let names = match xattr::list(path) {
        Ok(n) => n,
        // Filesystems without xattr support: nothing to compare.
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => return Ok(out),
        Err(e) => return Err(e),
    };
    for name in names {
        let name: OsString = name;
        if name.as_bytes() == b"security.selinux" {
            continue;
        }
        let value = xattr::get(path, &name)?.unwrap_or_default();
        out.push((name.as_bytes().to_vec(), value));
    }
    out.sort();
    Ok(out)
}

/// Read a file without updating its atime (O_NOATIME, allowed for the owner and root), so that
/// reading one hard link does not change the atime seen through another.
fn read_noatime(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOATIME)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => fs::File::open(path)?,
        Err(e) => return Err(e),
    };
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

fn snap_one(path: &Path) -> io::Result<Entry> {
    let md = fs::symlink_metadata(path)?;
    let ft = md.file_type();
    let kind = if ft.is_file() {
        Kind::File
    } else if ft.is_dir() {
        Kind::Dir
    } else if ft.is_symlink() {
        Kind::Symlink
    } else if ft.is_fifo() {
        Kind::Fifo
    } else if ft.is_socket() {
        Kind::Socket
    } else if ft.is_char_device() {
        Kind::CharDev
    } else {
        Kind::BlockDev
    };
    let content = if kind == Kind::File {
        Some(read_noatime(path)?)
    } else {
        None
    };
    let link = if kind == Kind::Symlink {
        Some(fs::read_link(path)?.as_os_str().as_bytes().to_vec())
    } else {
        None
    };
    Ok(Entry {
        kind,
        mode: md.mode() & 0o7777,
        uid: md.uid(),
        gid: md.gid(),
        size: if kind == Kind::File { md.size() } else { 0 },
        content,
        link,
        rdev: if matches!(kind, Kind::CharDev | Kind::BlockDev) {
            md.rdev()
        } else {
            0
        },
        mtime: (md.mtime(), md.mtime_nsec()),
        atime: (md.atime(), md.atime_nsec()),
        blocks: md.blocks(),
        xattrs: read_xattrs(path)?,
        ino: (md.dev(), md.ino()),
        nlink: md.nlink(),
    })
}

/// Snapshot everything below (and including) `root`.
pub fn snapshot(root: &Path) -> Result<Tree, String> {
    let mut tree = Tree::default();
    let mut stack: Vec<Vec<u8>> = vec![b".".to_vec()];
    while let Some(rel) = stack.pop() {
        let full = if rel == b"." {
            root.to_path_buf()
        } else {
            root.join(std::ffi::OsStr::from_bytes(&rel))
        };
        let entry = snap_one(&full).map_err(|e| format!("snapshot {}: {e}", full.display()))?;
        if entry.kind == Kind::Dir {
            let rd =
                fs::read_dir(&full).map_err(|e| format!("read_dir {}: {e}", full.display()))?;
            for de in rd {
                let de = de.map_err(|e| format!("read_dir {}: {e}", full.display()))?;
                stack.push(rel_join(&rel, de.file_name().as_bytes()));
            }
        }
        tree.entries.insert(rel, entry);
    }
    // Hard-link groups.
    let mut by_ino: BTreeMap<(u64, u64), Vec<Vec<u8>>> = BTreeMap::new();
    for (p, e) in &tree.entries {
        if e.kind != Kind::Dir && e.nlink > 1 {
            by_ino.entry(e.ino).or_default().push(p.clone());
        }
    }
    for group in by_ino.values().filter(|g| g.len() > 1) {
        for p in group {
            let others = group.iter().filter(|o| *o != p).cloned().collect();
            tree.links.insert(p.clone(), others);
        }
    }
    Ok(tree)
}

/// One line per entry (for COMPAT_SHOW): `path type mode uid:gid size mtime [-> target]`, plus
/// `atime=`/`blocks=` for regular files when those comparisons are enabled.
pub fn listing(tree: &Tree, start: Stamp, extras: Extras) -> String {
    let mut out = String::new();
    for (p, e) in &tree.entries {
        out.push_str(&format!(
            "{} {} {:04o} {}:{} {} {}",
            show_path(p),
            e.kind.name(),
            e.mode,
            e.uid,
            e.gid,
            e.size,
            show_mtime(e.mtime, start)
        ));
        if let Some(l) = &e.link {
            out.push_str(&format!(" -> {}", show_path(l)));
        }
        if e.kind == Kind::File && extras.atime {
            out.push_str(&format!(" atime={}", show_mtime(e.atime, start)));
        }
        if e.kind == Kind::File && extras.blocks {
            out.push_str(&format!(" blocks={}", e.blocks));
        }
        if e.rdev != 0 {
            out.push_str(&format!(" rdev={}", e.rdev));
        }
        if let Some(g) = tree.links.get(p) {
            out.push_str(&format!(" links={}", show_group(Some(g))));
        }
        if !e.xattrs.is_empty() {
            out.push_str(&format!(" xattrs={}", show_xattrs(&e.xattrs)));
        }
        out.push('\n');
    }
    out
}

/// A stamp is "fresh" (set to "now" by the tool) when it is at or after `start`, or when it is
/// exactly the whole second `start` falls in: rsync truncates some "now" stamps to whole
/// seconds (files made from `--copy-devices`, atimes), which can be just below `start`.
pub fn is_fresh(t: Stamp, start: Stamp) -> bool {
    t >= start || t == (start.0, 0)
}

fn show_mtime(t: Stamp, start: Stamp) -> String {
    let fresh = if is_fresh(t, start) { " (fresh)" } else { "" };
    format!("{}.{:09}{fresh}", t.0, t.1)
}

fn first_diff(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn show_bytes_short(b: &[u8]) -> String {
    if b.len() <= 40 {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        format!("{:?}…", String::from_utf8_lossy(&b[..40]))
    }
}

fn show_xattrs(x: &[(Vec<u8>, Vec<u8>)]) -> String {
    let items: Vec<String> = x
        .iter()
        .map(|(n, v)| format!("{}={}", show_path(n), show_bytes_short(v)))
        .collect();
    format!("[{}]", items.join(", "))
}

fn show_group(g: Option<&Vec<Vec<u8>>>) -> String {
    match g {
        None => "[]".into(),
        Some(g) => format!(
            "[{}]",
            g.iter()
                .map(|p| show_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Equality of two stamps under the freshness rule: a stamp at or after its side's start is
/// "fresh"; two fresh stamps are equal, a fresh and a fixed one differ.
fn same_stamp(a: Stamp, a_start: Stamp, b: Stamp, b_start: Stamp) -> bool {
    let (fa, fb) = (is_fresh(a, a_start), is_fresh(b, b_start));
    if fa || fb { fa && fb } else { a == b }
}

/// Compare two snapshots; `*_start` are the start stamps of each tool's step sequence
/// (mtimes at or after them are "fresh" and compare equal to each other). `extras` adds the
/// opt-in comparisons (atime, allocated blocks) for regular files.
pub fn compare(a: &Tree, a_start: Stamp, b: &Tree, b_start: Stamp, extras: Extras) -> Vec<String> {
    let mut diffs: Vec<String> = Vec::new();
    let mut paths: Vec<&Vec<u8>> = a.entries.keys().chain(b.entries.keys()).collect();
    paths.sort();
    paths.dedup();
    // A directory present on one side only is reported once, with a count of its contents.
    let mut skip_under: Option<(Vec<u8>, usize)> = None;
    for p in paths {
        if let Some((prefix, count)) = skip_under.as_mut() {
            if p.starts_with(prefix) {
                *count += 1;
                continue;
            }
            if *count > 0
                && let Some(last) = diffs.last_mut()
            {
                last.push_str(&format!(" (and {count} entries below it)"));
            }
            skip_under = None;
        }
        let sp = show_path(p);
        let (ea, eb) = match (a.entries.get(p), b.entries.get(p)) {
            (Some(x), Some(y)) => (x, y),
            (x, y) => {
                let show = |e: Option<&Entry>| e.map_or("missing", |e| e.kind.name());
                diffs.push(format!("{sp}: exists rsync={} arsync={}", show(x), show(y)));
                if x.or(y).is_some_and(|e| e.kind == Kind::Dir) {
                    let mut prefix = p.clone();
                    prefix.push(b'/');
                    skip_under = Some((prefix, 0));
                }
                continue;
            }
        };
        if ea.kind != eb.kind {
            diffs.push(format!(
                "{sp}: type rsync={} arsync={}",
                ea.kind.name(),
                eb.kind.name()
            ));
            continue;
        }
        if ea.mode != eb.mode {
            diffs.push(format!(
                "{sp}: mode rsync={:04o} arsync={:04o}",
                ea.mode, eb.mode
            ));
        }
        if ea.uid != eb.uid {
            diffs.push(format!("{sp}: uid rsync={} arsync={}", ea.uid, eb.uid));
        }
        if ea.gid != eb.gid {
            diffs.push(format!("{sp}: gid rsync={} arsync={}", ea.gid, eb.gid));
        }
        if ea.size != eb.size {
            diffs.push(format!("{sp}: size rsync={} arsync={}", ea.size, eb.size));
        }
        if let (Some(ca), Some(cb)) = (&ea.content, &eb.content)
            && ca != cb
        {
            diffs.push(format!(
                "{sp}: content differs from byte {} rsync={} arsync={}",
                first_diff(ca, cb),
                show_bytes_short(ca),
                show_bytes_short(cb)
            ));
        }
        if ea.link != eb.link {
            diffs.push(format!(
                "{sp}: symlink target rsync={} arsync={}",
                show_path(ea.link.as_deref().unwrap_or_default()),
                show_path(eb.link.as_deref().unwrap_or_default())
            ));
        }
        if ea.rdev != eb.rdev {
            diffs.push(format!("{sp}: rdev rsync={} arsync={}", ea.rdev, eb.rdev));
        }
        if !same_stamp(ea.mtime, a_start, eb.mtime, b_start) {
            diffs.push(format!(
                "{sp}: mtime rsync={} arsync={}",
                show_mtime(ea.mtime, a_start),
                show_mtime(eb.mtime, b_start)
            ));
        }
        if extras.atime
            && ea.kind == Kind::File
            && !same_stamp(ea.atime, a_start, eb.atime, b_start)
        {
            diffs.push(format!(
                "{sp}: atime rsync={} arsync={}",
                show_mtime(ea.atime, a_start),
                show_mtime(eb.atime, b_start)
            ));
        }
        if extras.blocks && ea.kind == Kind::File && ea.blocks != eb.blocks {
            diffs.push(format!(
                "{sp}: allocated blocks rsync={} arsync={}",
                ea.blocks, eb.blocks
            ));
        }
        if ea.xattrs != eb.xattrs {
            diffs.push(format!(
                "{sp}: xattrs rsync={} arsync={}",
                show_xattrs(&ea.xattrs),
                show_xattrs(&eb.xattrs)
            ));
        }
        let (ga, gb) = (a.links.get(p), b.links.get(p));
        if ga != gb {
            diffs.push(format!(
                "{sp}: hard links rsync={} arsync={}",
                show_group(ga),
                show_group(gb)
            ));
        }
    }
    if let Some((_, count)) = skip_under
        && count > 0
        && let Some(last) = diffs.last_mut()
    {
        last.push_str(&format!(" (and {count} entries below it)"));
    }
    diffs
}
