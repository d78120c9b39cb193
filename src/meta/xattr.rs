//! Extended attributes as rsync's `-X` copies them between local trees
//! (rsync's `xattrs.c`, Linux build).
//!
//! rsync filters names in three places, and the three filters differ, so
//! this module keeps them apart:
//!
//! * **what the destination should get** ([`read`]): the sender lists every
//!   name except `system.*` (ACLs travel with `-A`, never as xattrs) and
//!   drops rsync's own `user.rsync.%…` bookkeeping names unless `-XX`; the
//!   receiver then keeps only `user.*` when it is not root (with
//!   `--fake-super` it renames the others to `user.rsync.NAME` instead), and
//!   drops `user.rsync.%…` once more unless `-XX`;
//! * **what the destination has** ([`read_dest`]), used for itemize's `x`:
//!   root sees everything but `system.*`, a normal user only `user.*`,
//!   `--fake-super` everything but `system.*` and its own `%stat`/`%aacl`/
//!   `%dacl` records;
//! * **what may be removed** (inside [`apply_path`] / [`apply_fd`]): root
//!   removes any non-`system.*` name the source lacks, a normal user (and
//!   `--fake-super`) only `user.*` names, never `user.rsync.%stat` under
//!   `--fake-super`. Other names (e.g. `trusted.*`, `security.*` for a
//!   normal user) are left alone.
//!
//! Linux refuses `user.*` on symlinks and on device/fifo/socket nodes, so
//! those only ever carry `trusted.*`/`security.*` (root). rsync reads the
//! xattrs of a symlink only with `-l`, of devices only with `--devices`, of
//! fifos/sockets only with `--specials`: the caller decides that.
//!
//! `--fake-super` also keeps the privileged parts of the stat (mode, rdev,
//! uid, gid) in `user.rsync.%stat`; see [`FakeStat`].
//!
//! **xattr filter rules** (`-f '-x user.*'`, rsync's `saw_xattr_filter`):
//! once any `x` rule is given, the rules *replace* the namespace limits
//! in all three places (rsync 3.5: an `else if` after the rule check), so
//! `system.*` (ACLs) and, for a normal user, other namespaces travel as
//! xattrs unless a rule excludes them — a normal user's receiver then
//! disguises non-`user.*` names as `user.rsync.NAME`. An excluded name is
//! neither sent, nor set, nor seen on the destination, nor removed
//! (unless `--delete-excluded` makes the rule sender-only).
//!
//! The syscalls are in [`crate::sys::xattr`] (why not the `xattr` crate is
//! said there); this module keeps the namespace policy and the messages.

use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

use crate::filter::{FilterList, FilterStack};
use crate::sys::Errno;

/// The run's `x` filter rules, as each side of rsync checks them.
#[derive(Clone, Debug)]
pub(crate) struct XattrRules {
    stack: FilterStack,
    delete_excluded: bool,
}

impl XattrRules {
    /// The rules of `list`, or `None` when it has no `x` rule (rsync's
    /// `saw_xattr_filter` unset: the namespace limits apply).
    pub(crate) fn from_list(list: &FilterList, delete_excluded: bool) -> Option<XattrRules> {
        list.has_xattr_rules().then(|| XattrRules {
            stack: FilterStack::new(list.clone()),
            delete_excluded,
        })
    }

    fn sender_drops(&self, name: &[u8]) -> bool {
        self.stack.xattr_excluded(name, false, self.delete_excluded)
    }

    fn receiver_drops(&self, name: &[u8]) -> bool {
        self.stack.xattr_excluded(name, true, self.delete_excluded)
    }
}

/// Whose view of the namespaces applies (`-X` count, privilege, rules).
#[derive(Clone, Debug)]
pub(crate) struct XattrPolicy {
    /// The receiver runs as root (ignored when `fake_super` is set).
    pub am_root: bool,
    /// How many `-X` were given: 1, or 2 for `-XX` (copy rsync's own
    /// `user.rsync.%…` names too).
    pub level: u8,
    /// `--fake-super` (rsync's `am_root < 0`); rsync refuses it with `-XX`.
    pub fake_super: bool,
    /// `x` filter rules, when any was given.
    pub rules: Option<XattrRules>,
}

/// Extended attributes: `(name, value)`, sorted by name (byte order, as
/// rsync's `strcmp`), names without the trailing NUL.
pub(crate) type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

const USER_PREFIX: &[u8] = b"user.";
const SYSTEM_PREFIX: &[u8] = b"system.";
/// rsync's prefix for its own and for disguised (non-user) names.
const RSYNC_PREFIX: &[u8] = b"user.rsync.";
/// `--fake-super`'s record of mode, rdev, uid and gid.
pub(crate) const FAKE_STAT_NAME: &str = "user.rsync.%stat";

/// rsync's three privilege modes (`am_root` = 1, 0, -1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Priv {
    Root,
    User,
    Fake,
}

impl XattrPolicy {
    fn privilege(&self) -> Priv {
        if self.fake_super {
            Priv::Fake
        } else if self.am_root {
            Priv::Root
        } else {
            Priv::User
        }
    }
}

/// `user.rsync.%…`: rsync's own bookkeeping names.
fn is_rsync_special(name: &[u8]) -> bool {
    name.len() > RSYNC_PREFIX.len()
        && name.starts_with(RSYNC_PREFIX)
        && name[RSYNC_PREFIX.len()] == b'%'
}

/// `%stat`, `%aacl`, `%dacl`: the names `--fake-super` reserves.
fn is_fake_super_record(name: &[u8]) -> bool {
    is_rsync_special(name) && matches!(&name[RSYNC_PREFIX.len() + 1..], b"stat" | b"aacl" | b"dacl")
}

/// The sender's and the receiver's filters combined: the name the
/// destination should carry for source name `name`, or `None` if rsync
/// would not copy it.
fn wanted_name(name: &[u8], p: &XattrPolicy) -> Option<Vec<u8>> {
    let pr = p.privilege();
    // Sender (rsync_xal_get with am_sender): the rules, or everything but
    // system.*.
    let dropped = match &p.rules {
        Some(r) => r.sender_drops(name),
        None => name.starts_with(SYSTEM_PREFIX),
    };
    if dropped
        || (is_rsync_special(name)
            && (p.level < 2 || (pr == Priv::Fake && is_fake_super_record(name))))
    {
        return None;
    }
    // send_xattr(): a fake-super sender strips the prefix of disguised names.
    let mut name = name.to_vec();
    if pr == Priv::Fake && name.starts_with(RSYNC_PREFIX) && !is_rsync_special(&name) {
        name.drain(..RSYNC_PREFIX.len());
    }
    // receive_xattr(): the rules first; then a non-root receiver keeps
    // only user.* (without rules) or disguises the rest.
    if p.rules.as_ref().is_some_and(|r| r.receiver_drops(&name)) {
        return None;
    }
    if pr != Priv::Root && !name.starts_with(USER_PREFIX) {
        if pr == Priv::User && p.rules.is_none() {
            return None;
        }
        let mut disguised = RSYNC_PREFIX.to_vec();
        disguised.extend_from_slice(&name);
        name = disguised;
    }
    if p.level < 2 && is_rsync_special(&name) {
        return None;
    }
    Some(name)
}

/// The receiver's view of the destination's own names (rsync_xal_get
/// without am_sender), used for the comparison behind itemize's `x`.
fn dest_name_seen(name: &[u8], p: &XattrPolicy) -> bool {
    if let Some(r) = &p.rules {
        let fake_record = p.privilege() == Priv::Fake && is_fake_super_record(name);
        return !(r.receiver_drops(name) || fake_record);
    }
    match p.privilege() {
        Priv::User => name.starts_with(USER_PREFIX),
        Priv::Root => !name.starts_with(SYSTEM_PREFIX),
        Priv::Fake => !name.starts_with(SYSTEM_PREFIX) && !is_fake_super_record(name),
    }
}

/// Names rsync's rsync_xal_set() may remove when the source lacks them
/// (with rules: any name no rule excludes).
fn removable(name: &[u8], p: &XattrPolicy) -> bool {
    let pr = p.privilege();
    if pr == Priv::Fake && name == FAKE_STAT_NAME.as_bytes() {
        return false;
    }
    if let Some(r) = &p.rules {
        return !r.receiver_drops(name);
    }
    match pr {
        Priv::Root => !name.starts_with(SYSTEM_PREFIX),
        Priv::User | Priv::Fake => name.starts_with(USER_PREFIX),
    }
}

/// A failed xattr syscall, with what rsync names in its message.
#[derive(Debug)]
pub struct XattrError {
    /// The syscall, as rsync names it: `llistxattr`, `lgetxattr`,
    /// `lsetxattr`, `fsetxattr`, `lremovexattr`, `fremovexattr`, …
    pub op: &'static str,
    /// The attribute name (empty for the list call).
    pub name: Vec<u8>,
    pub errno: Errno,
}

impl XattrError {
    /// rsync's message for this failure, e.g.
    /// `rsync_xal_set: lsetxattr("/d/f","user.x") failed: …` — the caller
    /// supplies the path as rsync shows it (`full_fname()`), and rsync
    /// appends `: strerror (errno)` and counts it as a transfer error
    /// (exit code 23).
    pub fn rsync_message(&self, shown_path: &str) -> String {
        let name = String::from_utf8_lossy(&self.name);
        match self.op {
            "llistxattr" | "flistxattr" => {
                format!("get_xattr_names: llistxattr({shown_path},1024) failed")
            }
            "lgetxattr" | "fgetxattr" => {
                format!("get_xattr_data: lgetxattr({shown_path},\"{name}\",0) failed")
            }
            op => format!("rsync_xal_set: {op}({shown_path},\"{name}\") failed"),
        }
    }
}

impl fmt::Display for XattrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}(\"{}\"): {}",
            self.op,
            String::from_utf8_lossy(&self.name),
            io::Error::from(self.errno)
        )
    }
}

impl std::error::Error for XattrError {}

impl From<XattrError> for io::Error {
    fn from(e: XattrError) -> io::Error {
        io::Error::from(e.errno)
    }
}

pub(crate) use crate::sys::xattr::On;

impl On<'_> {
    fn fail(&self, op: [&'static str; 3], name: &[u8], errno: Errno) -> XattrError {
        let op = match self {
            On::Path(_, true) => op[0],
            On::Path(_, false) => op[1],
            On::Fd(_) => op[2],
        };
        XattrError {
            op,
            name: name.to_vec(),
            errno,
        }
    }

    /// All names, NUL-separated list split up. A filesystem without xattr
    /// support has none (rsync treats ENOTSUP the same way).
    pub(crate) fn list(&self) -> Result<Vec<Vec<u8>>, XattrError> {
        const OPS: [&str; 3] = ["listxattr", "llistxattr", "flistxattr"];
        match crate::sys::xattr::list(*self) {
            Ok(names) => Ok(names),
            Err(Errno::NOTSUP) => Ok(Vec::new()),
            Err(e) => Err(self.fail(OPS, b"", e)),
        }
    }

    /// The value of `name`; `None` if it does not exist (ENODATA, e.g.
    /// removed since it was listed) or xattrs are unsupported.
    pub(crate) fn get(&self, name: &[u8]) -> Result<Option<Vec<u8>>, XattrError> {
        const OPS: [&str; 3] = ["getxattr", "lgetxattr", "fgetxattr"];
        match crate::sys::xattr::get(*self, name) {
            Ok(v) => Ok(Some(v)),
            Err(Errno::NODATA | Errno::NOTSUP) => Ok(None),
            Err(e) => Err(self.fail(OPS, name, e)),
        }
    }

    pub(crate) fn set(&self, name: &[u8], value: &[u8]) -> Result<(), XattrError> {
        const OPS: [&str; 3] = ["setxattr", "lsetxattr", "fsetxattr"];
        crate::sys::xattr::set(*self, name, value).map_err(|e| self.fail(OPS, name, e))
    }

    /// Removes `name`; a name that is already gone is not an error.
    pub(crate) fn remove(&self, name: &[u8]) -> Result<(), XattrError> {
        const OPS: [&str; 3] = ["removexattr", "lremovexattr", "fremovexattr"];
        crate::sys::xattr::remove(*self, name)
            .or_else(|e| if e == Errno::NODATA { Ok(()) } else { Err(e) })
            .map_err(|e| self.fail(OPS, name, e))
    }
}

/// Lists `on` and keeps the names `keep` maps to `Some`, sorted.
fn collect(
    on: On<'_>,
    mut keep: impl FnMut(&[u8]) -> Option<Vec<u8>>,
) -> Result<Xattrs, XattrError> {
    let mut out = Vec::new();
    for name in on.list()? {
        let Some(shown) = keep(&name) else { continue };
        if let Some(value) = on.get(&name)? {
            out.push((shown, value));
        }
    }
    out.sort();
    Ok(out)
}

/// The xattrs the destination of the source `path` should end up with
/// (names already in the receiver's namespace). `follow`: read through a
/// final symlink (`-L`, `--copy-dirlinks`, …).
pub(crate) fn read(path: &Path, follow: bool, p: &XattrPolicy) -> Result<Xattrs, XattrError> {
    collect(On::Path(path, follow), |n| wanted_name(n, p))
}

/// [`read`] on an open source file.
#[cfg(test)]
pub(crate) fn read_fd(fd: BorrowedFd<'_>, p: &XattrPolicy) -> Result<Xattrs, XattrError> {
    collect(On::Fd(fd), |n| wanted_name(n, p))
}

/// The destination's current xattrs as rsync's receiver sees them (never
/// follows a final symlink), for [`differ`].
pub(crate) fn read_dest(path: &Path, p: &XattrPolicy) -> Result<Xattrs, XattrError> {
    collect(On::Path(path, false), |n| {
        dest_name_seen(n, p).then(|| n.to_vec())
    })
}

/// [`read_dest`] on an open destination file.
#[cfg(test)]
pub(crate) fn read_dest_fd(fd: BorrowedFd<'_>, p: &XattrPolicy) -> Result<Xattrs, XattrError> {
    collect(On::Fd(fd), |n| dest_name_seen(n, p).then(|| n.to_vec()))
}

/// rsync's `xattr_diff()`: whether itemize reports `x`. Both lists come
/// sorted from [`read`] and [`read_dest`]; any difference in the set of
/// names or in a value counts.
pub(crate) fn differ(src: &Xattrs, dest: &Xattrs) -> bool {
    src != dest
}

/// Sets and removes names so that the destination carries `want`,
/// touching only the names rsync manages (see the module docs). `current`
/// is the destination's list from [`read_dest`] (empty for a file this run
/// just created); values already equal are not rewritten. The removal
/// pass lists the file afresh, as rsync does. Returns whether anything
/// changed.
///
/// Must run before the final `chmod` (a read-only file cannot take
/// xattrs as a normal user; as rsync, a non-root receiver briefly adds
/// `u+w` to such a path) and, for new files, on the temp file before it
/// is renamed into place.
pub(crate) fn apply_path(
    path: &Path,
    want: &Xattrs,
    current: &Xattrs,
    p: &XattrPolicy,
) -> Result<bool, XattrError> {
    let on = On::Path(path, false);
    // rsync's set_xattr(): a non-root receiver cannot change the xattrs of
    // a file it may not write, so it adds owner-write for the duration
    // (not under --fake-super, where rsync's am_root is -1, i.e. true).
    let restore = if p.privilege() == Priv::User {
        writable_for_a_moment(path)
    } else {
        None
    };
    let r = apply_on(on, want, current, p);
    if let Some(mode) = restore {
        let _ = crate::sys::attr::chmod(&crate::sys::attr::Target::<BorrowedFd>::Path(path), mode);
    }
    r
}

/// [`apply_path`] on an open destination file (e.g. the temp file a
/// transfer just wrote).
pub(crate) fn apply_fd(
    fd: BorrowedFd<'_>,
    want: &Xattrs,
    current: &Xattrs,
    p: &XattrPolicy,
) -> Result<bool, XattrError> {
    apply_on(On::Fd(fd), want, current, p)
}

/// If `path` is a non-symlink we may not write, adds `u+w` and returns
/// the mode to put back.
fn writable_for_a_moment(path: &Path) -> Option<u32> {
    let st = crate::sys::lstat(path).ok()?;
    if st.kind() == crate::sys::Kind::Symlink || crate::sys::fs::may_write(path) {
        return None;
    }
    let mode = st.perms();
    crate::sys::attr::chmod(
        &crate::sys::attr::Target::<BorrowedFd>::Path(path),
        mode | 0o200,
    )
    .ok()?;
    Some(mode)
}

fn apply_on(
    on: On<'_>,
    want: &Xattrs,
    current: &Xattrs,
    p: &XattrPolicy,
) -> Result<bool, XattrError> {
    let mut changed = false;
    for (name, value) in want {
        let same = current
            .binary_search_by(|(n, _)| n.as_slice().cmp(name))
            .is_ok_and(|i| &current[i].1 == value);
        if !same {
            on.set(name, value)?;
            changed = true;
        }
    }
    for name in on.list()? {
        if !removable(&name, p) {
            continue;
        }
        if want
            .binary_search_by(|(n, _)| n.as_slice().cmp(&name))
            .is_err()
        {
            on.remove(&name)?;
            changed = true;
        }
    }
    Ok(changed)
}

/// What `--fake-super` records in `user.rsync.%stat`: the attributes an
/// unprivileged receiver cannot give the real file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FakeStat {
    /// Full mode, file type included (a symlink or device is stored as a
    /// regular file; this says what it really is).
    pub mode: u32,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub uid: u32,
    pub gid: u32,
}

impl FakeStat {
    /// The value rsync writes: `printf("%o %u,%u %u:%u", mode, major,
    /// minor, uid, gid)`, e.g. `100644 0,0 1000:1000`.
    pub(crate) fn format(&self) -> String {
        format!(
            "{:o} {},{} {}:{}",
            self.mode, self.rdev_major, self.rdev_minor, self.uid, self.gid
        )
    }

    /// rsync's `sscanf(buf, "%o %d,%d %d:%d")`: leading blanks and signs
    /// allowed, anything after the fifth number ignored. `None` is rsync's
    /// fatal "Corrupt user.rsync.%stat xattr attached to FILE: \"VALUE\""
    /// (exit code 11).
    pub(crate) fn parse(value: &[u8]) -> Option<FakeStat> {
        let mut s = Scanner { s: value, i: 0 };
        let mode = s.number(8)?;
        s.blanks();
        let rdev_major = s.number(10)?;
        s.literal(b',')?;
        let rdev_minor = s.number(10)?;
        s.blanks();
        let uid = s.number(10)?;
        s.literal(b':')?;
        let gid = s.number(10)?;
        Some(FakeStat {
            mode,
            rdev_major,
            rdev_minor,
            uid,
            gid,
        })
    }

    /// rsync's `set_stat_xattr()` decision for a destination file whose
    /// real status is `real_*`, which should represent `self`:
    /// the permission bits to give the real file (`None`: leave them),
    /// and what to do with the record. The real file keeps the wanted
    /// access bits without set-id/sticky and always gives its owner full
    /// access (rw for files, rwx for directories).
    pub(crate) fn plan(
        &self,
        real_mode: u32,
        real_rdev: (u32, u32),
        real_uid: u32,
        real_gid: u32,
        current: Option<&FakeStat>,
    ) -> (Option<u32>, FakeStatAction) {
        const IFMT: u32 = crate::sys::mode::S_IFMT;
        let is_dev = |m: u32| {
            matches!(
                m & IFMT,
                crate::sys::mode::S_IFCHR | crate::sys::mode::S_IFBLK
            )
        };
        let fmode = self.mode & (IFMT | 0o7777);
        let real = real_mode & (IFMT | 0o7777);
        let rdev = if is_dev(fmode) {
            (self.rdev_major, self.rdev_minor)
        } else {
            (0, 0)
        };
        let owner_bits = if real & IFMT == crate::sys::mode::S_IFDIR {
            0o700
        } else {
            0o600
        };
        let mode = (real & IFMT) | (fmode & 0o777) | owner_bits;
        let chmod = (mode != real).then_some(mode & 0o7777);
        let real_rdev = if is_dev(real) { real_rdev } else { (0, 0) };
        if mode == fmode && real_rdev == rdev && real_uid == self.uid && real_gid == self.gid {
            let action = if current.is_some() {
                FakeStatAction::Remove
            } else {
                FakeStatAction::Keep
            };
            return (chmod, action);
        }
        let want = FakeStat {
            mode: fmode,
            rdev_major: rdev.0,
            rdev_minor: rdev.1,
            uid: self.uid,
            gid: self.gid,
        };
        let action = if current == Some(&want) {
            FakeStatAction::Keep
        } else {
            FakeStatAction::Write(want.format())
        };
        (chmod, action)
    }
}

/// What to do with `user.rsync.%stat` (see [`FakeStat::plan`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FakeStatAction {
    Keep,
    Remove,
    Write(String),
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn blanks(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn literal(&mut self, c: u8) -> Option<()> {
        (self.s.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// scanf's `%o` / `%d`: blanks, optional sign, at least one digit;
    /// the value wraps like the C conversion stored into an int.
    fn number(&mut self, radix: u32) -> Option<u32> {
        self.blanks();
        let neg = match self.s.get(self.i) {
            Some(b'-') => {
                self.i += 1;
                true
            }
            Some(b'+') => {
                self.i += 1;
                false
            }
            _ => false,
        };
        let start = self.i;
        let mut v: u32 = 0;
        while let Some(d) = self
            .s
            .get(self.i)
            .and_then(|&c| (c as char).to_digit(radix))
        {
            v = v.wrapping_mul(radix).wrapping_add(d);
            self.i += 1;
        }
        (self.i > start).then(|| if neg { v.wrapping_neg() } else { v })
    }
}

/// Reads `user.rsync.%stat`. `Ok(None)`: no record (or no xattr
/// support); `Err` with `InvalidData`: the record is corrupt.
pub(crate) fn read_fake_stat(path: &Path) -> io::Result<Option<FakeStat>> {
    read_fake_stat_on(On::Path(path, false))
}

/// [`read_fake_stat`] on an open file.
pub(crate) fn read_fake_stat_fd(fd: BorrowedFd<'_>) -> io::Result<Option<FakeStat>> {
    read_fake_stat_on(On::Fd(fd))
}

fn read_fake_stat_on(on: On<'_>) -> io::Result<Option<FakeStat>> {
    match on.get(FAKE_STAT_NAME.as_bytes()) {
        Ok(None) => Ok(None),
        Ok(Some(v)) => FakeStat::parse(&v).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("\"{}\"", String::from_utf8_lossy(&v)),
            )
        }),
        Err(e) => Err(e.into()),
    }
}

/// Carries out a [`FakeStatAction`] on `path` (not following symlinks).
/// rsync ignores EPERM here when the real file is a symlink.
pub(crate) fn write_fake_stat(path: &Path, action: &FakeStatAction) -> Result<(), XattrError> {
    write_fake_stat_on(On::Path(path, false), action)
}

/// [`write_fake_stat`] on an open file.
pub(crate) fn write_fake_stat_fd(
    fd: BorrowedFd<'_>,
    action: &FakeStatAction,
) -> Result<(), XattrError> {
    write_fake_stat_on(On::Fd(fd), action)
}

fn write_fake_stat_on(on: On<'_>, action: &FakeStatAction) -> Result<(), XattrError> {
    match action {
        FakeStatAction::Keep => Ok(()),
        FakeStatAction::Remove => on.remove(FAKE_STAT_NAME.as_bytes()),
        FakeStatAction::Write(v) => on.set(FAKE_STAT_NAME.as_bytes(), v.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: XattrPolicy = XattrPolicy {
        am_root: true,
        level: 1,
        fake_super: false,
        rules: None,
    };
    const ROOT2: XattrPolicy = XattrPolicy {
        am_root: true,
        level: 2,
        fake_super: false,
        rules: None,
    };
    const USER: XattrPolicy = XattrPolicy {
        am_root: false,
        level: 1,
        fake_super: false,
        rules: None,
    };
    const USER2: XattrPolicy = XattrPolicy {
        am_root: false,
        level: 2,
        fake_super: false,
        rules: None,
    };
    const FAKE: XattrPolicy = XattrPolicy {
        am_root: false,
        level: 1,
        fake_super: true,
        rules: None,
    };

    fn w(name: &str, p: &XattrPolicy) -> Option<String> {
        wanted_name(name.as_bytes(), p).map(|v| String::from_utf8(v).unwrap())
    }

    /// Verified with rsync 3.5.0 (`rsync -aX`, `-aXX`, as root and as
    /// uid 65534, `--fake-super`) and getfattr.
    #[test]
    fn wanted_names_follow_rsync() {
        // Root: every namespace but system.*; -XX adds rsync's own names.
        assert_eq!(w("user.a", &ROOT).as_deref(), Some("user.a"));
        assert_eq!(w("trusted.b", &ROOT).as_deref(), Some("trusted.b"));
        assert_eq!(w("security.c", &ROOT).as_deref(), Some("security.c"));
        assert_eq!(w("system.posix_acl_access", &ROOT), None);
        assert_eq!(w("system.posix_acl_default", &ROOT2), None);
        assert_eq!(w("user.rsync.%stat", &ROOT), None);
        assert_eq!(w("user.rsync.%foo", &ROOT), None);
        assert_eq!(
            w("user.rsync.%foo", &ROOT2).as_deref(),
            Some("user.rsync.%foo")
        );
        assert_eq!(
            w("user.rsync.bar", &ROOT).as_deref(),
            Some("user.rsync.bar")
        );
        // A normal user: user.* only.
        assert_eq!(w("user.a", &USER).as_deref(), Some("user.a"));
        assert_eq!(w("security.c", &USER), None);
        assert_eq!(w("trusted.b", &USER2), None);
        assert_eq!(
            w("user.rsync.%stat", &USER2).as_deref(),
            Some("user.rsync.%stat")
        );
        // --fake-super: other namespaces disguised, own records never copied.
        assert_eq!(
            w("security.c", &FAKE).as_deref(),
            Some("user.rsync.security.c")
        );
        assert_eq!(
            w("user.rsync.bar", &FAKE).as_deref(),
            Some("user.rsync.bar")
        );
        assert_eq!(w("user.rsync.%stat", &FAKE), None);
        assert_eq!(w("user.a", &FAKE).as_deref(), Some("user.a"));
    }

    #[test]
    fn dest_view_and_removal_filters() {
        assert!(dest_name_seen(b"trusted.x", &ROOT));
        assert!(!dest_name_seen(b"system.posix_acl_access", &ROOT));
        assert!(dest_name_seen(b"user.rsync.%foo", &ROOT));
        assert!(!dest_name_seen(b"security.x", &USER));
        assert!(dest_name_seen(b"security.x", &FAKE));
        assert!(!dest_name_seen(b"user.rsync.%stat", &FAKE));
        assert!(removable(b"trusted.x", &ROOT));
        assert!(removable(b"user.rsync.%foo", &ROOT));
        assert!(!removable(b"system.posix_acl_default", &ROOT));
        assert!(!removable(b"security.x", &USER));
        assert!(!removable(b"security.x", &FAKE));
        assert!(!removable(b"user.rsync.%stat", &FAKE));
        assert!(removable(b"user.rsync.%aacl", &FAKE));
    }

    #[test]
    fn differ_compares_names_and_values() {
        let a: Xattrs = vec![(b"user.a".to_vec(), b"1".to_vec())];
        let b: Xattrs = vec![(b"user.a".to_vec(), b"2".to_vec())];
        assert!(!differ(&a, &a.clone()));
        assert!(differ(&a, &b));
        assert!(differ(&a, &Vec::new()));
        assert!(differ(&Vec::new(), &a));
    }

    #[test]
    fn fake_stat_format_and_parse() {
        let st = FakeStat {
            mode: 0o100644,
            rdev_major: 0,
            rdev_minor: 0,
            uid: 5,
            gid: 6,
        };
        assert_eq!(st.format(), "100644 0,0 5:6");
        assert_eq!(FakeStat::parse(b"100644 0,0 5:6"), Some(st));
        // scanf leniency: extra blanks, trailing junk.
        assert_eq!(FakeStat::parse(b" 100644  0,0  5:6 junk"), Some(st));
        assert_eq!(
            FakeStat::parse(b"20644 1,3 0:0").map(|s| (s.rdev_major, s.rdev_minor)),
            Some((1, 3))
        );
        assert_eq!(FakeStat::parse(b"100644 0,0 5"), None);
        assert_eq!(FakeStat::parse(b"100644 0;0 5:6"), None);
        assert_eq!(FakeStat::parse(b"x"), None);
        assert_eq!(
            FakeStat::parse(b"100644 0,0 -1:6").map(|s| s.uid),
            Some(u32::MAX)
        );
    }

    #[test]
    fn fake_stat_plan_matches_set_stat_xattr() {
        // Real file already says it all: no record needed.
        let st = FakeStat {
            mode: 0o100644,
            rdev_major: 0,
            rdev_minor: 0,
            uid: 1000,
            gid: 1000,
        };
        assert_eq!(
            st.plan(0o100644, (0, 0), 1000, 1000, None),
            (None, FakeStatAction::Keep)
        );
        assert_eq!(
            st.plan(0o100644, (0, 0), 1000, 1000, Some(&st)),
            (None, FakeStatAction::Remove)
        );
        // Owned by someone else: record it.
        let root = FakeStat {
            uid: 0,
            gid: 0,
            ..st
        };
        assert_eq!(
            root.plan(0o100644, (0, 0), 1000, 1000, None),
            (None, FakeStatAction::Write("100644 0,0 0:0".into()))
        );
        // Set-uid and a mode without owner access: the real file gets
        // 0600 | access bits, the record keeps the truth.
        let suid = FakeStat {
            mode: 0o104000,
            ..st
        };
        assert_eq!(
            suid.plan(0o100644, (0, 0), 1000, 1000, None),
            (
                Some(0o600),
                FakeStatAction::Write("104000 0,0 1000:1000".into())
            )
        );
        // A device stored as a regular file.
        let dev = FakeStat {
            mode: 0o020644,
            rdev_major: 1,
            rdev_minor: 3,
            ..st
        };
        let (_, action) = dev.plan(0o100600, (0, 0), 1000, 1000, None);
        assert_eq!(action, FakeStatAction::Write("20644 1,3 1000:1000".into()));
        // Directories keep rwx for the owner.
        let dir = FakeStat {
            mode: 0o040555,
            ..st
        };
        assert_eq!(dir.plan(0o040555, (0, 0), 1000, 1000, None).0, Some(0o755));
    }

    fn tmp() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    fn supports_user_xattrs(p: &Path) -> bool {
        On::Path(p, false).set(b"user.probe", b"1").is_ok()
            && On::Path(p, false).remove(b"user.probe").is_ok()
    }

    #[test]
    fn read_apply_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let d = tmp();
        let src = d.path().join("src");
        let dst = d.path().join("dst");
        std::fs::write(&src, b"x")?;
        std::fs::write(&dst, b"x")?;
        if !supports_user_xattrs(&src) {
            eprintln!("no user xattrs on {}; skipped", d.path().display());
            return Ok(());
        }
        let on = On::Path(&src, false);
        on.set(b"user.b", b"2")?;
        on.set(b"user.a", b"1")?;
        on.set(b"user.rsync.%foo", b"3")?;
        on.set(b"user.long", &[7u8; 2000])?;
        let want = read(&src, false, &USER)?;
        let names: Vec<_> = want.iter().map(|(n, _)| n.as_slice()).collect();
        assert_eq!(names, [&b"user.a"[..], b"user.b", b"user.long"]);
        assert_eq!(want[2].1.len(), 2000);

        On::Path(&dst, false).set(b"user.stale", b"x")?;
        On::Path(&dst, false).set(b"user.a", b"old")?;
        let cur = read_dest(&dst, &USER)?;
        assert!(differ(&want, &cur));
        assert!(apply_path(&dst, &want, &cur, &USER)?);
        let cur = read_dest(&dst, &USER)?;
        assert_eq!(cur, want);
        assert!(!differ(&want, &cur));
        // Nothing left to do.
        assert!(!apply_path(&dst, &want, &cur, &USER)?);

        // The fd variants agree.
        let f = std::fs::File::open(&src)?;
        use std::os::fd::AsFd;
        assert_eq!(read_fd(f.as_fd(), &USER)?, want);
        let g = std::fs::OpenOptions::new().write(true).open(&dst)?;
        assert!(apply_fd(g.as_fd(), &Vec::new(), &cur, &USER)?);
        assert!(read_dest_fd(g.as_fd(), &USER)?.is_empty());
        Ok(())
    }

    #[test]
    fn root_leaves_system_names_and_user_leaves_others() -> Result<(), Box<dyn std::error::Error>> {
        let d = tmp();
        let f = d.path().join("f");
        std::fs::write(&f, b"x")?;
        let on = On::Path(&f, false);
        if !supports_user_xattrs(&f) || on.set(b"trusted.t", b"1").is_err() {
            eprintln!("needs root and xattr support; skipped");
            return Ok(());
        }
        on.set(b"user.u", b"1")?;
        // A normal user's apply removes user.* only.
        assert!(apply_path(&f, &Vec::new(), &Vec::new(), &USER)?);
        assert_eq!(on.list()?, vec![b"trusted.t".to_vec()]);
        // Root's removes trusted.* too.
        assert!(apply_path(&f, &Vec::new(), &Vec::new(), &ROOT)?);
        assert!(on.list()?.is_empty());
        Ok(())
    }

    #[test]
    fn fake_stat_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        let d = tmp();
        let f = d.path().join("f");
        std::fs::write(&f, b"x")?;
        if !supports_user_xattrs(&f) {
            return Ok(());
        }
        assert_eq!(read_fake_stat(&f)?, None);
        write_fake_stat(&f, &FakeStatAction::Write("100600 0,0 7:8".into()))?;
        let st = read_fake_stat(&f)?.expect("record");
        assert_eq!((st.mode, st.uid, st.gid), (0o100600, 7, 8));
        write_fake_stat(&f, &FakeStatAction::Remove)?;
        assert_eq!(read_fake_stat(&f)?, None);
        On::Path(&f, false).set(FAKE_STAT_NAME.as_bytes(), b"garbage")?;
        let e = read_fake_stat(&f).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        Ok(())
    }

    #[test]
    fn error_message_shapes() {
        let e = XattrError {
            op: "lsetxattr",
            name: b"user.x".to_vec(),
            errno: Errno::PERM,
        };
        assert_eq!(
            e.rsync_message("\"/d/f\""),
            "rsync_xal_set: lsetxattr(\"/d/f\",\"user.x\") failed"
        );
    }
}
