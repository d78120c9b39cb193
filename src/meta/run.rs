//! The attribute options of one run, and the work they mean for each item.
//!
//! [`RunAttrs`] is built once from the options. The rest of arsync calls it
//! at a few narrow points, in rsync's order:
//!
//! * the walk ([`RunAttrs::adjust_source`]): a `--fake-super` source is
//!   read through its `%stat` records, `--chmod` rewrites the mode and the
//!   id maps the owner, before anything else looks at the entry (rsync
//!   does all three as its file list arrives);
//! * the transfer, on reaching a destination directory
//!   ([`RunAttrs::enter_dir`]): without `-p` new items get their
//!   permissions from that directory's default ACL;
//! * the plan ([`RunAttrs::examine`]): itemize's `x`, `a` and the
//!   ACL-adjusted `p`, and an [`ItemAttrs`] with what to write;
//! * wherever the item is written ([`super::apply_full`]): the
//!   [`ItemAttrs`] travels with the decision, to the engine for files.
//!
//! Without `-X`, `-A`, `--fake-super`, `--chmod` or id maps none of this
//! reads anything: the default path costs no syscall here.

use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::sys::Errno;

use super::acl::{self, AclDiff, AclError, Acls};
use super::xattr::{self, FakeStat, FakeStatAction, XattrError, XattrPolicy, XattrRules, Xattrs};
use crate::chmod::ChmodRules;
use crate::filter::FilterList;
use crate::idmap::{IdMap, IdMapper};
use crate::options::Options;
use crate::sys::{Kind, Stat};

/// Where an item's attributes are written: a path (never following a
/// final symlink) or an open file.
#[derive(Clone, Copy, Debug)]
pub(crate) enum On<'a> {
    Path(&'a Path),
    Fd(BorrowedFd<'a>),
}

impl<'a> On<'a> {
    /// The same place as a [`crate::sys::attr::Target`].
    fn target(self) -> crate::sys::attr::Target<'a, BorrowedFd<'a>> {
        match self {
            On::Path(p) => crate::sys::attr::Target::Path(p),
            On::Fd(fd) => crate::sys::attr::Target::Fd(fd),
        }
    }
}

/// A failed xattr, ACL or `%stat` change. rsync reports these and goes on
/// with the item's other attributes (exit code 23 at the end).
#[derive(Debug)]
pub(crate) enum SoftError {
    Xattr(XattrError),
    Acl(AclError),
    /// Writing (or removing) `user.rsync.%stat`.
    FakeStat {
        remove: bool,
        errno: Errno,
    },
    /// A corrupt `%stat` record (rsync stops with exit code 11 here; the
    /// message is the same).
    Corrupt(String),
}

impl SoftError {
    /// rsync's text for this failure; `shown` is the path as rsync's
    /// `full_fname()` renders it, quotes included.
    pub(crate) fn message(&self, shown: &str) -> String {
        let errno = |e: Errno| crate::sys::errno_text(e);
        match self {
            SoftError::Xattr(e) => format!("{}: {}", e.rsync_message(shown), errno(e.errno)),
            SoftError::Acl(e) => {
                let text = match e {
                    AclError::Malformed(err) => err.to_string(),
                    AclError::Write { err, .. } => errno(err.errno),
                };
                format!("{}: {text}", e.rsync_message(shown))
            }
            SoftError::FakeStat {
                remove: true,
                errno: e,
            } => {
                format!("delete of stat xattr failed for {shown}: {}", errno(*e))
            }
            SoftError::FakeStat {
                remove: false,
                errno: e,
            } => format!(
                "failed to write xattr {} for {shown}: {}",
                xattr::FAKE_STAT_NAME,
                errno(*e)
            ),
            SoftError::Corrupt(m) => m.clone(),
        }
    }
}

/// What one item's destination should get besides owner, times and mode.
#[derive(Clone, Debug)]
pub(crate) struct ItemAttrs {
    xpolicy: XattrPolicy,
    /// `-X`: the names and values the destination should carry.
    pub xattrs: Option<Xattrs>,
    /// The destination's xattrs as read for itemize, while they are still
    /// what is on disk (`None`: a new or replaced item; nothing is assumed
    /// and removals are found by listing anyway).
    pub dest_xattrs: Option<Xattrs>,
    /// `-A`: the source's ACLs, named-entry ids already mapped.
    pub acls: Option<Acls>,
    /// The destination's ACLs, while still current (`None`: read them when
    /// applying — a new item may have inherited a default ACL).
    pub dest_acls: Option<Acls>,
    /// `--fake-super`: what `user.rsync.%stat` should say.
    pub fake: Option<FakeStat>,
    /// A new file's real mode cannot be assumed from the umask (its
    /// directory has a default ACL, or ACLs are copied): stat it.
    pub stat_new: bool,
}

impl ItemAttrs {
    fn empty(xpolicy: XattrPolicy) -> ItemAttrs {
        ItemAttrs {
            xpolicy,
            xattrs: None,
            dest_xattrs: None,
            acls: None,
            dest_acls: None,
            fake: None,
            stat_new: false,
        }
    }

    /// No attribute work, only: look at the new file's real mode.
    pub(crate) fn stat_only() -> ItemAttrs {
        let mut x = ItemAttrs::empty(XattrPolicy {
            am_root: false,
            level: 1,
            fake_super: false,
            rules: None,
        });
        x.stat_new = true;
        x
    }

    /// A file built fresh (a temp file, not `--inplace`) has no xattrs
    /// and no ACLs of its own yet except inherited ones: forget what the
    /// old destination had.
    pub(crate) fn for_new_file(&self) -> ItemAttrs {
        let mut x = self.clone();
        x.dest_xattrs = Some(Vec::new());
        x.dest_acls = None;
        x
    }

    /// Forget what the destination had (it is being replaced).
    pub(crate) fn forget_dest(&mut self) {
        self.dest_xattrs = None;
        self.dest_acls = None;
    }

    /// rsync's `set_stat_xattr()` then `set_xattr()`: the `%stat` record
    /// (and the real mode it implies), then the xattrs.
    pub(super) fn apply_fake_and_xattrs(&self, on: On<'_>, soft: &mut Vec<SoftError>) {
        if let Some(f) = &self.fake {
            self.apply_fake(on, f, soft);
        }
        if let Some(x) = &self.xattrs {
            let none = Vec::new();
            let cur = self.dest_xattrs.as_ref().unwrap_or(&none);
            let r = match on {
                On::Path(p) => xattr::apply_path(p, x, cur, &self.xpolicy),
                On::Fd(fd) => xattr::apply_fd(fd, x, cur, &self.xpolicy),
            };
            if let Err(e) = r {
                soft.push(SoftError::Xattr(e));
            }
        }
    }

    fn apply_fake(&self, on: On<'_>, f: &FakeStat, soft: &mut Vec<SoftError>) {
        let Ok(real) = crate::sys::attr::stat(&on.target()) else {
            return;
        };
        let record = match on {
            On::Path(p) => xattr::read_fake_stat(p),
            On::Fd(fd) => xattr::read_fake_stat_fd(fd),
        };
        let record = match record {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                soft.push(SoftError::Corrupt(format!(
                    "Corrupt {} xattr: {e}",
                    xattr::FAKE_STAT_NAME
                )));
                return;
            }
            Err(_) => None,
        };
        let rdev = crate::sys::fs::major_minor(real.rdev);
        let (chmod, action) = f.plan(real.mode, rdev, real.uid, real.gid, record.as_ref());
        if let Some(m) = chmod {
            // rsync ignores a failure here; the record says it all.
            let _ = crate::sys::attr::chmod(&on.target(), m);
        }
        let r = match on {
            On::Path(p) => xattr::write_fake_stat(p, &action),
            On::Fd(fd) => xattr::write_fake_stat_fd(fd, &action),
        };
        if let Err(e) = r {
            let is_link = real.mode & crate::sys::mode::S_IFMT == crate::sys::mode::S_IFLNK;
            // rsync: a symlink that cannot take the record is left alone.
            if !(e.errno == Errno::PERM && is_link) {
                soft.push(SoftError::FakeStat {
                    remove: action == FakeStatAction::Remove,
                    errno: e.errno,
                });
            }
        }
    }

    /// rsync's `set_acl()`: whether an ACL was (or would be) written, and
    /// the mode the destination then has (what the chmod compares).
    pub(super) fn apply_acls(
        &self,
        on: On<'_>,
        cur_mode: u32,
        want_mode: u32,
        dry_run: bool,
        soft: &mut Vec<SoftError>,
    ) -> (bool, Option<u32>) {
        let Some(src) = &self.acls else {
            return (false, None);
        };
        let is_dir = want_mode & crate::sys::mode::S_IFMT == crate::sys::mode::S_IFDIR;
        let dest = match &self.dest_acls {
            Some(d) => d.clone(),
            None => match on {
                On::Path(p) => acl::read(p, is_dir),
                On::Fd(fd) => acl::read_fd(fd, is_dir),
            }
            .unwrap_or_default(),
        };
        if dry_run {
            return match acl::diff(src, &dest, want_mode, cur_mode) {
                Ok(d) => (d.any(), None),
                Err(e) => {
                    soft.push(SoftError::Acl(AclError::Malformed(e)));
                    (false, None)
                }
            };
        }
        let r = match on {
            On::Path(p) => acl::apply_path(p, src, &dest, want_mode, cur_mode),
            On::Fd(fd) => acl::apply_fd(fd, src, &dest, want_mode, cur_mode),
        };
        match r {
            Ok(a) => (a.changed, a.mode),
            Err(e) => {
                soft.push(SoftError::Acl(e));
                (false, None)
            }
        }
    }
}

/// Problems with `--usermap`/`--groupmap`/`--chown` found at run start.
#[derive(Debug, Default)]
pub(crate) struct MapReport {
    /// "Unknown --usermap name on receiver: NAME" lines.
    pub warnings: Vec<String>,
    /// A fatal map error (rsync exits with code 1, nothing transferred).
    pub error: Option<String>,
}

/// The default permissions of the destination directory being filled.
#[derive(Debug)]
struct DirPerms {
    dir: PathBuf,
    perms: u32,
    has_default_acl: bool,
}

/// How the plan compares an item's extended attributes (see
/// [`RunAttrs::examine`]).
#[derive(Debug, Default)]
pub(crate) struct ExtVerdict {
    /// Itemize `x`.
    pub xattr: bool,
    /// Itemize `a`.
    pub acl: bool,
    /// Itemize `p`, when an ACL difference decides it (see
    /// [`acl::itemize_mode`]).
    pub perms: Option<bool>,
    /// What to write (none when no such option applies to this item).
    pub item: Option<Box<ItemAttrs>>,
}

/// What [`RunAttrs::examine`] compares: the item, what it should become,
/// and what it is compared with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Examine<'a> {
    /// Where the source is read.
    pub src: &'a Path,
    /// The symlink a file was listed through (`-L`): rsync reads the
    /// xattrs of that link itself, and the ACLs of what it points to.
    pub via_link: Option<&'a Path>,
    /// The source's stat as listed (after `--chmod` and id mapping).
    pub src_stat: &'a Stat,
    /// The mode the destination should get (`dest_mode()` applied).
    pub want_mode: u32,
    /// The destination (or basis) item itemize compares with; `None`:
    /// the item is new.
    pub cmp: Option<(&'a Path, &'a Stat)>,
    /// `cmp` is the destination itself and stays in place (an existing
    /// directory, an up-to-date item): what was read of it is still true
    /// when the attributes are applied.
    pub cmp_stays: bool,
    /// The item is up to date and its attributes are set before itemize
    /// looks (rsync's order for non-directories), so `p` sees the mode an
    /// ACL write leaves.
    pub set_before_itemize: bool,
}

/// The attribute options of one run (see the module docs).
#[derive(Debug)]
pub(crate) struct RunAttrs {
    xpolicy: XattrPolicy,
    /// `-X` given.
    xattrs: bool,
    acls: bool,
    exec: bool,
    perms: bool,
    fake_super: bool,
    links: bool,
    devices: bool,
    specials: bool,
    owner: bool,
    group: bool,
    dry_run: bool,
    umask: u32,
    chmod: Option<ChmodRules>,
    ids: Option<IdMapper>,
    map_uids: bool,
    map_gids: bool,
    map_acl_ids: bool,
    /// Without `-p`: the destination directory last entered.
    dir: Mutex<Option<DirPerms>>,
}

impl Default for RunAttrs {
    /// No attribute option: nothing to do anywhere.
    fn default() -> RunAttrs {
        RunAttrs {
            xpolicy: XattrPolicy {
                am_root: false,
                level: 1,
                fake_super: false,
                rules: None,
            },
            xattrs: false,
            acls: false,
            exec: false,
            perms: true,
            fake_super: false,
            links: false,
            devices: false,
            specials: false,
            owner: false,
            group: false,
            dry_run: false,
            umask: 0o022,
            chmod: None,
            ids: None,
            map_uids: false,
            map_gids: false,
            map_acl_ids: false,
            dir: Mutex::new(None),
        }
    }
}

impl RunAttrs {
    /// `-X` with `x` filter rules in `filters` (see [`xattr`]'s docs).
    pub(crate) fn set_xattr_rules(&mut self, filters: Option<&FilterList>, delete_excluded: bool) {
        self.xpolicy.rules = filters.and_then(|l| XattrRules::from_list(l, delete_excluded));
    }

    /// The run's attribute context. Id maps are parsed here (rsync's
    /// receiver does it at start-up); their problems come back in the
    /// [`MapReport`] for the caller to print at the right moment.
    pub(crate) fn new(opts: &Options, recv: &super::Receiver) -> (RunAttrs, MapReport) {
        let mut report = MapReport::default();
        type Parse = fn(&str) -> Result<IdMap, crate::idmap::IdMapError>;
        let mut parse = |spec: Option<&str>, f: Parse| {
            let spec = spec?;
            match f(spec) {
                Ok(m) => {
                    report.warnings.extend(m.warnings().iter().cloned());
                    Some(m)
                }
                Err(e) => {
                    report.warnings.extend(e.warnings.iter().cloned());
                    if report.error.is_none() {
                        report.error = Some(e.message);
                    }
                    None
                }
            }
        };
        let users = parse(opts.maps.user_spec(), IdMap::parse_usermap);
        // rsync stops at the first bad map (the user map is parsed first).
        let groups = if users.is_none() && opts.maps.user_spec().is_some() {
            None
        } else {
            parse(opts.maps.group_spec(), IdMap::parse_groupmap)
        };
        let (has_users, has_groups) = (users.is_some(), groups.is_some());
        let ids = (has_users || has_groups).then(|| IdMapper::new(users, groups, opts.numeric_ids));
        // Without a map the receiver's name-based translation is the
        // identity locally (the same user database answers both sides),
        // so ids are only looked at when a map is given.
        let (map_uids, map_gids, map_acl_ids) = match &ids {
            Some(m) => (
                has_users && m.maps_uids(recv.am_root, opts.owner),
                has_groups && m.maps_gids(recv.am_root, opts.group),
                m.maps_acl_ids(),
            ),
            None => (false, false, false),
        };
        let attrs = RunAttrs {
            xpolicy: XattrPolicy {
                am_root: recv.am_root,
                level: opts.xattrs.max(1),
                fake_super: recv.fake_super,
                rules: None,
            },
            xattrs: opts.xattrs > 0,
            acls: opts.acls,
            exec: opts.executability,
            perms: opts.perms,
            fake_super: recv.fake_super,
            links: opts.links,
            devices: opts.devices,
            specials: opts.specials,
            owner: opts.owner,
            group: opts.group,
            dry_run: opts.dry_run,
            umask: recv_umask(recv),
            chmod: (!opts.chmod.is_empty()).then(|| opts.chmod.clone()),
            ids,
            map_uids,
            map_gids,
            map_acl_ids,
            dir: Mutex::new(None),
        };
        (attrs, report)
    }

    /// Whether the walk must call [`RunAttrs::adjust_source`].
    pub(crate) fn adjusts_source(&self) -> bool {
        self.fake_super || self.chmod.is_some() || self.map_uids || self.map_gids
    }

    /// Whether the plan must call [`RunAttrs::examine`].
    pub(crate) fn examines(&self) -> bool {
        self.xattrs || self.acls || self.fake_super
    }

    /// `--fake-super`.
    pub(crate) fn fake_super(&self) -> bool {
        self.fake_super
    }

    /// A source entry as rsync's receiver sees it: through its `%stat`
    /// record (`--fake-super`), with `--chmod` applied (not to symlinks)
    /// and its owner and group mapped. Returns the owner and group as the
    /// sender lists them when the maps changed them (rsync's `%U`/`%G`
    /// show those). `Err`: a corrupt record.
    pub(crate) fn adjust_source(
        &self,
        path: &Path,
        st: &mut Stat,
    ) -> Result<Option<(u32, u32)>, String> {
        if self.fake_super {
            *st = super::fake::overlay(path, *st)?;
        }
        if let Some(rules) = &self.chmod
            && st.kind() != Kind::Symlink
            && st.mode != 0
        {
            st.mode = rules.apply(st.mode, st.kind() == Kind::Dir);
        }
        let listed = (st.uid, st.gid);
        if let Some(ids) = &self.ids {
            if self.map_uids {
                st.uid = ids.uid(st.uid);
            }
            if self.map_gids {
                st.gid = ids.gid(st.gid);
            }
        }
        Ok((listed != (st.uid, st.gid)).then_some(listed))
    }

    /// A symlink's target as the sender reads it (`--fake-super`: a
    /// regular file's content).
    pub(crate) fn read_source_link(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        if self.fake_super {
            super::fake::read_link(path, true)
        } else {
            crate::sys::fs::readlink(path)
        }
    }

    /// A destination symlink's target as the receiver reads it.
    pub(crate) fn read_dest_link(&self, path: &Path) -> Option<Vec<u8>> {
        if self.fake_super {
            super::fake::read_link(path, false).ok()
        } else {
            crate::sys::fs::readlink(path).ok()
        }
    }

    /// A destination item's stat as the receiver sees it (`--fake-super`:
    /// through its record).
    pub(crate) fn dest_stat(&self, path: &Path, st: Stat) -> Result<Stat, String> {
        if self.fake_super {
            super::fake::overlay(path, st)
        } else {
            Ok(st)
        }
    }

    /// rsync's per-directory `default_perms_for_dir()`, without `-p`: the
    /// transfer calls this for the destination directory of each item;
    /// the directory's default ACL is read when the directory changes.
    /// Returns rsync's warning when the ACL could not be read.
    pub(crate) fn enter_dir(&self, dir: &Path) -> Option<String> {
        if self.perms {
            return None;
        }
        let mut cur = self.dir.lock().ok()?;
        if cur.as_ref().is_some_and(|d| d.dir == dir) {
            return None;
        }
        let (perms, has_default_acl, warning) = match acl::dir_default_perms(
            dir,
            self.umask,
            self.dry_run,
        ) {
            Ok((p, has)) => (p, has, None),
            Err((p, e)) => (
                p,
                false,
                Some(format!(
                    "default_perms_for_dir: sys_acl_get_file({}, ACL_TYPE_DEFAULT): {}, falling back on umask",
                    crate::text::escape_name(crate::sys::bytes(dir), crate::text::locale_is_utf8()),
                    crate::sys::io_error_text(&e)
                )),
            ),
        };
        *cur = Some(DirPerms {
            dir: dir.to_path_buf(),
            perms,
            has_default_acl,
        });
        warning
    }

    /// The default permissions for a new item in the directory last
    /// entered (`fallback`: the umask's, when `-p` is on or none known).
    pub(crate) fn dflt_perms(&self, fallback: u32) -> u32 {
        if self.perms {
            return fallback;
        }
        self.dir
            .lock()
            .ok()
            .and_then(|d| d.as_ref().map(|d| d.perms))
            .unwrap_or(fallback)
    }

    /// Whether the directory last entered has a default ACL (new files
    /// there get it instead of the umask).
    fn dir_has_default_acl(&self) -> bool {
        !self.perms
            && self
                .dir
                .lock()
                .ok()
                .is_some_and(|d| d.as_ref().is_some_and(|d| d.has_default_acl))
    }

    /// rsync's `dest_mode()` with `-E` and the directory's default
    /// permissions.
    pub(crate) fn dest_mode(
        &self,
        src_mode: u32,
        existing: Option<u32>,
        fallback_dflt: u32,
    ) -> u32 {
        super::dest_mode_x(
            src_mode,
            existing,
            self.dflt_perms(fallback_dflt),
            self.exec,
        )
    }

    /// `-E` without `-p`: itemize `p` when executability differs
    /// (rsync's `itemize()` and `perms_differ()`).
    pub(crate) fn exec_differs(&self, dest_mode: u32, want_mode: u32) -> bool {
        !self.perms && self.exec && ((dest_mode & 0o111 != 0) != (want_mode & 0o111 != 0))
    }

    /// Whether rsync reads (and writes) the xattrs of an item of this
    /// kind: symlinks only with `-l`, devices only with `--devices`,
    /// fifos and sockets only with `--specials` (rsync's `get_xattr()`;
    /// `get_acl()` uses the same rule, and never for symlinks).
    fn kind_ok(&self, kind: Kind) -> bool {
        match kind {
            Kind::File | Kind::Dir => true,
            Kind::Symlink => self.links,
            k if k.is_device() => self.devices,
            k if k.is_special() => self.specials,
            _ => false,
        }
    }

    /// The source's ACLs, through a symlink the item was listed as (`-L`,
    /// `-k`), as rsync's `sys_acl_get_file()` reads them.
    fn read_src_acls(&self, path: &Path, is_dir: bool) -> Acls {
        let a = acl::read_following(path, is_dir).unwrap_or_default();
        match &self.ids {
            Some(ids) if self.map_acl_ids && !a.is_minimal() => {
                a.map_ids(|is_user, id| if is_user { ids.uid(id) } else { ids.gid(id) })
            }
            _ => a,
        }
    }

    /// The generator's comparison of extended attributes (rsync's
    /// `itemize()` for `x` and `a`) and the work for applying them.
    pub(crate) fn examine(&self, x: &Examine<'_>) -> ExtVerdict {
        let mut v = ExtVerdict::default();
        let kind = x.src_stat.kind();
        let mut item = ItemAttrs::empty(self.xpolicy.clone());
        let mut wanted = false;
        if self.xattrs && self.kind_ok(kind) {
            let listed = x.via_link.unwrap_or(x.src);
            let src = xattr::read(listed, false, &self.xpolicy).unwrap_or_default();
            match x.cmp {
                None => v.xattr = !src.is_empty(),
                Some((path, st)) => {
                    let dest = if self.kind_ok(st.kind()) {
                        xattr::read_dest(path, &self.xpolicy).unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    v.xattr = xattr::differ(&src, &dest);
                    if x.cmp_stays {
                        item.dest_xattrs = Some(dest);
                    }
                }
            }
            item.xattrs = Some(src);
            wanted = true;
        }
        if self.acls && kind != Kind::Symlink && self.kind_ok(kind) {
            let src = self.read_src_acls(x.src, kind == Kind::Dir);
            if let Some((path, st)) = x.cmp {
                let is_dir = st.kind() == Kind::Dir;
                let dest = if st.kind() != Kind::Symlink && self.kind_ok(st.kind()) {
                    acl::read(path, is_dir).unwrap_or_default()
                } else {
                    Acls::default()
                };
                let d = acl::diff(&src, &dest, x.want_mode, st.mode).unwrap_or(AclDiff {
                    access: true,
                    default: is_dir,
                });
                v.acl = d.any();
                if x.set_before_itemize && !self.dry_run && d.access && !is_dir {
                    let m = acl::itemize_mode(st.mode, x.want_mode, &d);
                    v.perms = Some((m & 0o7777) != (x.want_mode & 0o7777));
                }
                if x.cmp_stays {
                    item.dest_acls = Some(dest);
                }
            }
            item.acls = Some(src);
            item.stat_new = true;
            wanted = true;
        }
        if self.fake_super {
            item.fake = Some(super::fake::wanted(
                x.want_mode,
                x.src_stat.rdev,
                self.owner.then_some(x.src_stat.uid),
                self.group.then_some(x.src_stat.gid),
            ));
            wanted = true;
        }
        if self.dir_has_default_acl() {
            item.stat_new = true;
            wanted = true;
        }
        if wanted {
            v.item = Some(Box::new(item));
        }
        v
    }

    /// For a new file without `-X`/`-A`/`--fake-super`: the work needed
    /// only because its directory has a default ACL (its real mode must
    /// be looked at), if any.
    pub(crate) fn new_file_needs_stat(&self) -> bool {
        self.dir_has_default_acl()
    }

    /// Whether an item's extended attributes differ from a basis item's
    /// (rsync's `unchanged_attrs()` for `-A`/`-X`, and `-E`).
    pub(crate) fn basis_differs(&self, x: &Examine<'_>) -> bool {
        if let Some((_, st)) = x.cmp
            && self.exec_differs(st.mode, x.want_mode)
            && x.src_stat.kind() != Kind::Symlink
        {
            return true;
        }
        if !self.xattrs && !self.acls {
            return false;
        }
        let v = self.examine(x);
        v.xattr || v.acl
    }
}

/// The umask the receiver's default permissions were made with.
fn recv_umask(recv: &super::Receiver) -> u32 {
    !recv.dflt_perms & 0o777
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(mode: u32) -> Stat {
        Stat {
            mode,
            nlink: 1,
            ..Stat::default()
        }
    }

    #[test]
    fn default_context_does_nothing() -> Result<(), String> {
        let r = RunAttrs::default();
        assert!(!r.adjusts_source() && !r.examines());
        let mut s = st(crate::sys::mode::S_IFREG | 0o644);
        r.adjust_source(Path::new("/nonexistent"), &mut s)?;
        assert_eq!(s.mode, crate::sys::mode::S_IFREG | 0o644);
        assert_eq!(r.dflt_perms(0o755), 0o755);
        Ok(())
    }

    #[test]
    fn chmod_and_exec() -> Result<(), String> {
        let r = RunAttrs {
            chmod: Some(
                crate::chmod::parse_with_umask("F600,D700", 0o022).map_err(|e| e.to_string())?,
            ),
            exec: true,
            perms: false,
            ..RunAttrs::default()
        };
        let mut f = st(crate::sys::mode::S_IFREG | 0o755);
        r.adjust_source(Path::new("/x"), &mut f)?;
        assert_eq!(f.mode & 0o7777, 0o600);
        let mut l = st(crate::sys::mode::S_IFLNK | 0o777);
        r.adjust_source(Path::new("/x"), &mut l)?;
        assert_eq!(l.mode & 0o7777, 0o777, "symlinks are never tweaked");
        assert!(r.exec_differs(0o644, 0o755));
        assert!(!r.exec_differs(0o744, 0o755));
        Ok(())
    }
}
