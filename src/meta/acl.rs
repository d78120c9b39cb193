//! POSIX ACLs as rsync's `-A` copies them between local trees (rsync's
//! `acls.c`, Linux, where ACLs need no mask unless they have named
//! entries).
//!
//! Locally the simplest faithful route is the kernel's own representation:
//! the `system.posix_acl_access` and `system.posix_acl_default` xattrs
//! (little-endian: a `u32` version 2, then `{u16 tag, u16 perm, u32 id}`
//! entries in canonical order). No libacl needed.
//!
//! rsync's model, reproduced here:
//!
//! * The **access ACL** travels without the parts the mode already
//!   carries: `user::`, `other::` and the mask are the mode's owner,
//!   other and group bits; `group::` travels only when there is a mask and
//!   it differs from it; whether there is a mask at all travels too (rsync
//!   3.5.0 keeps a mask even without named entries). A file without an
//!   ACL xattr (a "minimal" ACL) sends nothing.
//! * Two access ACLs are "equal enough" ([`differ`]) when both have or
//!   both lack a mask, the named entries match (ids, perms, order) and,
//!   with a mask, `group::` matches. The mode bits are compared by `-p`.
//! * The **default ACL** (directories only) is compared and copied whole;
//!   a source directory without one removes the destination's.
//! * Writing the access ACL sets the mode's permission bits at the same
//!   time (`user::`, mask-or-`group::`, `other::`), so rsync assumes the
//!   mode is then `(old & ~0777) | (wanted & 0777)` and only chmods if that
//!   still differs (set-id/sticky). When set-id bits go off (files) or the
//!   sticky bit comes on (directories) it writes the ACL with group and
//!   other access cleared first, so that nothing is briefly exposed; the
//!   chmod that follows restores them. [`apply_path`] returns that
//!   assumed mode.
//! * Itemize: `a` when either ACL differs. When the *access* ACL of a
//!   non-directory differs, rsync 3.5.0 compares `-p` against the mode the
//!   ACL write leaves (see [`mode_after_access_acl`]), so `p` then shows
//!   only for set-id changes; for directories `p` compares the real mode.
//!   (Found by a randomized differential run against rsync 3.5.0: 2400
//!   files and directories with random modes, named entries, masks and
//!   default ACLs; itemize flags and resulting ACLs and modes all agree.)
//! * `-A` implies `-p`; symlinks are skipped; named-entry ids go through
//!   the same `--usermap`/`--groupmap`/`--chown` mapping as owners
//!   ([`Acls::map_ids`]), except with `--numeric-ids`.

use std::io;
use std::os::fd::BorrowedFd;
use std::path::Path;

use super::xattr::{On, XattrError};

pub(crate) const ACCESS_NAME: &str = "system.posix_acl_access";
pub(crate) const DEFAULT_NAME: &str = "system.posix_acl_default";

const VERSION: u32 = 2;
const TAG_USER_OBJ: u16 = 0x01;
const TAG_USER: u16 = 0x02;
const TAG_GROUP_OBJ: u16 = 0x04;
const TAG_GROUP: u16 = 0x08;
const TAG_MASK: u16 = 0x10;
const TAG_OTHER: u16 = 0x20;
const NO_ID: u32 = u32::MAX;

/// A file's ACLs as the kernel stores them: the raw xattr values, `None`
/// when absent (for the access ACL: the mode says it all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Acls {
    pub access: Option<Vec<u8>>,
    pub default: Option<Vec<u8>>,
}

/// A named `user:ID:` or `group:ID:` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Named {
    is_user: bool,
    id: u32,
    perm: u8,
}

/// rsync's `rsync_acl`: `None` is its `NO_ENTRY`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Acl {
    user_obj: Option<u8>,
    group_obj: Option<u8>,
    mask: Option<u8>,
    other: Option<u8>,
    /// In stored order (users by id, then groups by id).
    names: Vec<Named>,
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("malformed ACL: {what}"))
}

impl Acl {
    fn parse(blob: &[u8]) -> io::Result<Acl> {
        let (head, body) = blob.split_at_checked(4).ok_or_else(|| bad("short"))?;
        if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) != VERSION {
            return Err(bad("version"));
        }
        if body.len() % 8 != 0 {
            return Err(bad("length"));
        }
        let mut acl = Acl::default();
        for e in body.chunks_exact(8) {
            let tag = u16::from_le_bytes([e[0], e[1]]);
            let perm = (u16::from_le_bytes([e[2], e[3]]) & 7) as u8;
            let id = u32::from_le_bytes([e[4], e[5], e[6], e[7]]);
            // rsync keeps the first of duplicate base entries.
            match tag {
                TAG_USER_OBJ => {
                    acl.user_obj.get_or_insert(perm);
                }
                TAG_GROUP_OBJ => {
                    acl.group_obj.get_or_insert(perm);
                }
                TAG_MASK => {
                    acl.mask.get_or_insert(perm);
                }
                TAG_OTHER => {
                    acl.other.get_or_insert(perm);
                }
                TAG_USER | TAG_GROUP => acl.names.push(Named {
                    is_user: tag == TAG_USER,
                    id,
                    perm,
                }),
                _ => {}
            }
        }
        Ok(acl)
    }

    /// rsync's `pack_smb_acl()`: user::, named users, group::, named
    /// groups, mask, other (absent base entries packed as 0).
    fn to_blob(&self) -> Vec<u8> {
        let mut out = VERSION.to_le_bytes().to_vec();
        let mut push = |tag: u16, perm: u8, id: u32| {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&u16::from(perm).to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        };
        push(TAG_USER_OBJ, self.user_obj.unwrap_or(0), NO_ID);
        for n in self.names.iter().filter(|n| n.is_user) {
            push(TAG_USER, n.perm, n.id);
        }
        push(TAG_GROUP_OBJ, self.group_obj.unwrap_or(0), NO_ID);
        for n in self.names.iter().filter(|n| !n.is_user) {
            push(TAG_GROUP, n.perm, n.id);
        }
        if let Some(m) = self.mask {
            push(TAG_MASK, m, NO_ID);
        }
        push(TAG_OTHER, self.other.unwrap_or(0), NO_ID);
        out
    }

    /// The sender's `rsync_acl_strip_perms()` followed by the receiver's
    /// `recv_rsync_acl()`: what the destination's access ACL is built from.
    fn condensed_access(&self) -> Acl {
        let group_obj = match self.mask {
            Some(m) if self.group_obj != Some(m) => self.group_obj,
            _ => None,
        };
        // Whether there is a mask survives the trip (rsync 3.5 keeps even a
        // mask without named entries); its value comes from the mode.
        let mask = self.mask.map(|_| {
            self.names
                .iter()
                .fold(group_obj.unwrap_or(0), |m, n| m | n.perm)
        });
        Acl {
            user_obj: None,
            group_obj,
            mask,
            other: None,
            names: self.names.clone(),
        }
    }

    /// The receiver's `recv_rsync_acl()` on a default ACL, which travels
    /// whole: a missing mask is computed when there are named entries.
    /// (rsync 3.5.0 keeps a mask without named entries, verified with
    /// `setfacl -n -d -m m::…`.)
    fn received_default(mut self) -> Acl {
        if !self.names.is_empty() && self.mask.is_none() {
            let m = self
                .names
                .iter()
                .fold(self.group_obj.unwrap_or(0), |m, n| m | n.perm);
            self.mask = Some(m);
        }
        self
    }

    /// rsync's `rsync_acl_equal_enough()`: `self` is the destination's full
    /// ACL, `src` the condensed source, `mode` the source's mode.
    fn equal_enough(&self, src: &Acl, mode: u32) -> bool {
        if self.mask.is_some() != src.mask.is_some() {
            return false;
        }
        if self.mask.is_some() {
            let want_group = src.group_obj.unwrap_or(((mode >> 3) & 7) as u8);
            if self.group_obj != Some(want_group) {
                return false;
            }
        }
        self.names == src.names
    }
}

fn parse_opt(blob: Option<&Vec<u8>>) -> io::Result<Option<Acl>> {
    blob.map(|b| Acl::parse(b)).transpose()
}

fn is_dir(mode: u32) -> bool {
    mode & crate::sys::mode::S_IFMT == crate::sys::mode::S_IFDIR
}

/// Which of the two ACLs differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AclDiff {
    pub access: bool,
    pub default: bool,
}

impl AclDiff {
    /// Itemize `a`.
    pub(crate) fn any(&self) -> bool {
        self.access || self.default
    }
}

/// Compares source and destination ACLs as rsync's generator does.
/// `src_mode`: the mode the source sends (after `--chmod`); `dest_mode`:
/// the destination's current mode (only its type matters: default ACLs
/// are compared for directories).
pub(crate) fn diff(src: &Acls, dest: &Acls, src_mode: u32, dest_mode: u32) -> io::Result<AclDiff> {
    let src_access = parse_opt(src.access.as_ref())?
        .map(|a| a.condensed_access())
        .unwrap_or_default();
    // No xattr: libacl would hand rsync the three base entries from the
    // mode — no mask, no names, which is all equal_enough() looks at.
    let dest_access = parse_opt(dest.access.as_ref())?.unwrap_or_default();
    let access = !dest_access.equal_enough(&src_access, src_mode);
    let default = is_dir(dest_mode) && {
        let s = parse_opt(src.default.as_ref())?
            .map(Acl::received_default)
            .unwrap_or_default();
        let d = parse_opt(dest.default.as_ref())?.unwrap_or_default();
        s != d
    };
    Ok(AclDiff { access, default })
}

/// rsync's `set_acl(NULL, …)` verdict: whether itemize reports `a`.
#[cfg(test)]
pub(crate) fn differ(src: &Acls, dest: &Acls, src_mode: u32, dest_mode: u32) -> io::Result<bool> {
    diff(src, dest, src_mode, dest_mode).map(|d| d.any())
}

/// rsync's `change_sacl_perms()` mode adjustment: while writing an access
/// ACL, group and other access stay off if set-id bits are going away
/// (files) or the sticky bit is coming on (directories).
fn acl_write_mode(old_mode: u32, want_mode: u32) -> u32 {
    let mut mode = want_mode;
    if is_dir(want_mode) {
        if mode & 0o1000 != 0 && old_mode & 0o1000 == 0 {
            mode &= !0o077;
        }
    } else if (old_mode & 0o4000 != 0 && mode & 0o4000 == 0)
        || (old_mode & 0o2000 != 0 && mode & 0o2000 == 0)
    {
        mode &= !0o077;
    }
    mode
}

/// The mode rsync assumes the destination has after writing its access
/// ACL (`old_mode` before, `want_mode` wanted): what `-p` then compares
/// before deciding to chmod, and — for non-directories only — what itemize
/// compares for `p` when [`AclDiff::access`] is set.
pub(crate) fn mode_after_access_acl(old_mode: u32, want_mode: u32) -> u32 {
    (old_mode & !0o777) | (acl_write_mode(old_mode, want_mode) & 0o777)
}

/// The destination mode itemize compares with the wanted one for `p`
/// under `-A` (rsync 3.5.0: for a non-directory whose access ACL differs,
/// the mode the ACL write will leave; otherwise the real mode).
pub(crate) fn itemize_mode(dest_mode: u32, want_mode: u32, d: &AclDiff) -> u32 {
    if d.access && !is_dir(dest_mode) {
        mode_after_access_acl(dest_mode, want_mode)
    } else {
        dest_mode
    }
}

/// rsync's `default_perms_for_dir()`: the permissions a new entry gets in
/// directory `dir` when `-p` is off (`dest_mode()`'s "default
/// permissions"). With a default ACL on `dir` they come from it
/// (`user::`, mask or `group::`, `other::`), not from the umask — rsync
/// does this whenever it is built with ACL support, `-A` or not. Without
/// one, `0777 & !umask`.
///
/// `Err` carries the umask fallback and the reason; rsync prints
/// `default_perms_for_dir: sys_acl_get_file(DIR, ACL_TYPE_DEFAULT): TEXT,
/// falling back on umask` and carries on. A missing `dir` under
/// `--dry-run` (not created) falls back silently: pass `dry_run`.
#[cfg(test)]
pub(crate) fn default_perms_for_dir(
    dir: &Path,
    umask: u32,
    dry_run: bool,
) -> Result<u32, (u32, io::Error)> {
    dir_default_perms(dir, umask, dry_run).map(|(p, _)| p)
}

/// [`default_perms_for_dir`], also saying whether `dir` has a default ACL
/// at all (new files there then get it instead of the umask), from the
/// same single lookup.
pub(crate) fn dir_default_perms(
    dir: &Path,
    umask: u32,
    dry_run: bool,
) -> Result<(u32, bool), (u32, io::Error)> {
    let fallback = 0o777 & !umask;
    match On::Path(dir, true).get(DEFAULT_NAME.as_bytes()) {
        Ok(None) => Ok((fallback, false)),
        Ok(Some(blob)) => match Acl::parse(&blob) {
            Ok(acl) => Ok(match (acl.user_obj, acl.other) {
                (Some(u), Some(o)) => {
                    let g = acl.mask.or(acl.group_obj).unwrap_or(0);
                    (
                        (u32::from(u) << 6) | (u32::from(g) << 3) | u32::from(o),
                        true,
                    )
                }
                _ => (fallback, true),
            }),
            Err(e) => Err((fallback, e)),
        },
        Err(e) if e.errno == crate::sys::Errno::NOENT && dry_run => Ok((fallback, false)),
        Err(e) if e.errno == crate::sys::Errno::NOSYS => Ok((fallback, false)),
        Err(e) => Err((fallback, e.into())),
    }
}

/// What [`apply_path`] / [`apply_fd`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AclApplied {
    /// An ACL was written or removed (rsync's "updated").
    pub changed: bool,
    /// Set when the access ACL was written: the mode rsync now assumes
    /// the file has (see [`mode_after_access_acl`]). Compare the wanted
    /// mode against this, not the stale stat, before chmod.
    pub mode: Option<u32>,
}

/// Brings the destination's ACLs to the source's, as rsync's `set_acl()`.
/// `dest` is what the destination has now (read it again for a file just
/// created: it may have inherited a default ACL). `want_mode`: the mode
/// the destination is to get; `dest_mode`: its mode now.
///
/// Order (rsync's `set_file_attrs()`): after chown and times, before
/// chmod; on the temp file before it is renamed into place.
pub(crate) fn apply_path(
    path: &Path,
    src: &Acls,
    dest: &Acls,
    want_mode: u32,
    dest_mode: u32,
) -> Result<AclApplied, AclError> {
    apply_on(On::Path(path, false), src, dest, want_mode, dest_mode)
}

/// [`apply_path`] on an open destination file or directory.
pub(crate) fn apply_fd(
    fd: BorrowedFd<'_>,
    src: &Acls,
    dest: &Acls,
    want_mode: u32,
    dest_mode: u32,
) -> Result<AclApplied, AclError> {
    apply_on(On::Fd(fd), src, dest, want_mode, dest_mode)
}

/// A failed ACL change, with the parts of rsync's message.
#[derive(Debug)]
pub enum AclError {
    /// A source or destination ACL xattr that does not parse.
    Malformed(io::Error),
    /// `sys_acl_set_file()` / `sys_acl_delete_def_file()` failed.
    Write {
        default: bool,
        delete: bool,
        err: XattrError,
    },
}

impl AclError {
    /// rsync's message (it appends `: strerror (errno)`; exit code 23):
    /// `set_acl: sys_acl_set_file(PATH, ACL_TYPE_ACCESS)` or
    /// `set_acl: sys_acl_delete_def_file(PATH)`.
    pub fn rsync_message(&self, path: &str) -> String {
        match self {
            AclError::Malformed(e) => format!("get_acl: {path}: {e}"),
            AclError::Write { delete: true, .. } => {
                format!("set_acl: sys_acl_delete_def_file({path})")
            }
            AclError::Write { default, .. } => format!(
                "set_acl: sys_acl_set_file({path}, {})",
                if *default {
                    "ACL_TYPE_DEFAULT"
                } else {
                    "ACL_TYPE_ACCESS"
                }
            ),
        }
    }
}

impl std::fmt::Display for AclError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AclError::Malformed(e) => write!(f, "{e}"),
            AclError::Write { err, .. } => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for AclError {}

impl From<AclError> for io::Error {
    fn from(e: AclError) -> io::Error {
        match e {
            AclError::Malformed(e) => e,
            AclError::Write { err, .. } => err.into(),
        }
    }
}

fn apply_on(
    on: On<'_>,
    src: &Acls,
    dest: &Acls,
    want_mode: u32,
    dest_mode: u32,
) -> Result<AclApplied, AclError> {
    let d = diff(src, dest, want_mode, dest_mode).map_err(AclError::Malformed)?;
    let mut out = AclApplied::default();
    if d.access {
        let cond = parse_opt(src.access.as_ref())
            .map_err(AclError::Malformed)?
            .map(|a| a.condensed_access())
            .unwrap_or_default();
        let mode = acl_write_mode(dest_mode, want_mode);
        // change_sacl_perms(): the base entries come from the mode;
        // group:: only when the condensed ACL has none of its own.
        let acl = Acl {
            user_obj: Some(((mode >> 6) & 7) as u8),
            group_obj: Some(cond.group_obj.unwrap_or(((mode >> 3) & 7) as u8)),
            mask: cond.mask.map(|_| ((mode >> 3) & 7) as u8),
            other: Some((mode & 7) as u8),
            names: cond.names,
        };
        // A three-entry ACL is the mode itself: the kernel drops the xattr
        // and sets the mode, as sys_acl_set_file() does.
        on.set(ACCESS_NAME.as_bytes(), &acl.to_blob())
            .map_err(|err| AclError::Write {
                default: false,
                delete: false,
                err,
            })?;
        out.changed = true;
        out.mode = Some(mode_after_access_acl(dest_mode, want_mode));
    }
    if d.default {
        let s = parse_opt(src.default.as_ref())
            .map_err(AclError::Malformed)?
            .map(Acl::received_default);
        match s {
            Some(acl) if acl.user_obj.is_some() => on
                .set(DEFAULT_NAME.as_bytes(), &acl.to_blob())
                .map_err(|err| AclError::Write {
                    default: true,
                    delete: false,
                    err,
                })?,
            _ => on
                .remove(DEFAULT_NAME.as_bytes())
                .map_err(|err| AclError::Write {
                    default: true,
                    delete: true,
                    err,
                })?,
        }
        out.changed = true;
    }
    Ok(out)
}

/// Reads the ACL xattrs of `path` (never following a final symlink;
/// rsync skips symlinks for `-A`). `is_dir`: also read the default ACL.
/// A filesystem without ACL support reads as no ACLs.
pub(crate) fn read(path: &Path, is_dir: bool) -> io::Result<Acls> {
    read_on(On::Path(path, false), is_dir)
}

/// [`read`], following a final symlink (a source listed through one).
pub(crate) fn read_following(path: &Path, is_dir: bool) -> io::Result<Acls> {
    read_on(On::Path(path, true), is_dir)
}

/// [`read`] on an open file or directory.
pub(crate) fn read_fd(fd: BorrowedFd<'_>, is_dir: bool) -> io::Result<Acls> {
    read_on(On::Fd(fd), is_dir)
}

fn read_on(on: On<'_>, is_dir: bool) -> io::Result<Acls> {
    let access = on.get(ACCESS_NAME.as_bytes())?;
    let default = if is_dir {
        on.get(DEFAULT_NAME.as_bytes())?
    } else {
        None
    };
    Ok(Acls { access, default })
}

impl Acls {
    /// True when neither ACL exists (rsync's "no ACL": the mode says it
    /// all).
    pub(crate) fn is_minimal(&self) -> bool {
        self.access.is_none() && self.default.is_none()
    }

    /// Rewrites the ids of named entries through `map(is_user, id)`
    /// (the receiver's `match_acl_ids()`: `--usermap`, `--groupmap`,
    /// `--chown`, name-based mapping), keeping the entry order as rsync
    /// does. Malformed blobs are left as they are.
    pub(crate) fn map_ids(&self, map: impl Fn(bool, u32) -> u32) -> Acls {
        let fix = |blob: &Option<Vec<u8>>| {
            blob.as_ref().map(|b| match Acl::parse(b) {
                Ok(mut acl) => {
                    for n in &mut acl.names {
                        n.id = map(n.is_user, n.id);
                    }
                    acl.to_blob()
                }
                Err(_) => b.clone(),
            })
        };
        Acls {
            access: fix(&self.access),
            default: fix(&self.default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a blob from `getfacl`-like entries.
    fn blob(entries: &[(u16, u8, u32)]) -> Vec<u8> {
        let mut out = VERSION.to_le_bytes().to_vec();
        for &(tag, perm, id) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&u16::from(perm).to_le_bytes());
            out.extend_from_slice(&id.to_le_bytes());
        }
        out
    }

    fn acc(entries: &[(u16, u8, u32)]) -> Acls {
        Acls {
            access: Some(blob(entries)),
            default: None,
        }
    }

    const U: u16 = TAG_USER_OBJ;
    const NU: u16 = TAG_USER;
    const G: u16 = TAG_GROUP_OBJ;
    const NG: u16 = TAG_GROUP;
    const M: u16 = TAG_MASK;
    const O: u16 = TAG_OTHER;
    const F: u32 = 0o100000;
    const D: u32 = 0o040000;

    #[test]
    fn parses_kernel_blob() {
        // `setfacl -m u:nobody:r f` on a 0644 file, as getfattr showed it:
        // 0sAgAAAAEABgD/////AgAEAP7/AAAEAAQA/////xAABAD/////IAAEAP////8=
        let b = [
            2, 0, 0, 0, 1, 0, 6, 0, 255, 255, 255, 255, 2, 0, 4, 0, 254, 255, 0, 0, 4, 0, 4, 0,
            255, 255, 255, 255, 16, 0, 4, 0, 255, 255, 255, 255, 32, 0, 4, 0, 255, 255, 255, 255,
        ];
        let acl = Acl::parse(&b).unwrap();
        assert_eq!(acl.user_obj, Some(6));
        assert_eq!(acl.group_obj, Some(4));
        assert_eq!(acl.mask, Some(4));
        assert_eq!(acl.other, Some(4));
        assert_eq!(
            acl.names,
            [Named {
                is_user: true,
                id: 65534,
                perm: 4
            }]
        );
        assert_eq!(acl.to_blob(), b);
        assert!(Acl::parse(&b[..7]).is_err());
        assert!(Acl::parse(&[1, 0, 0, 0]).is_err());
    }

    #[test]
    fn minimal_source_equals_minimal_dest() {
        let none = Acls::default();
        assert!(none.is_minimal());
        assert!(!differ(&none, &none, F | 0o644, F | 0o600).unwrap());
    }

    #[test]
    fn named_entries_differ_from_none() {
        let a = acc(&[
            (U, 6, NO_ID),
            (NU, 4, 1),
            (G, 4, NO_ID),
            (M, 4, NO_ID),
            (O, 4, NO_ID),
        ]);
        let none = Acls::default();
        assert!(differ(&a, &none, F | 0o644, F | 0o644).unwrap());
        assert!(differ(&none, &a, F | 0o644, F | 0o644).unwrap());
        assert!(!differ(&a, &a, F | 0o644, F | 0o644).unwrap());
    }

    #[test]
    fn mask_value_belongs_to_the_mode() {
        // Same entries, different mask: that is a mode (p) change only.
        let a = acc(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 4, NO_ID),
            (M, 4, NO_ID),
            (O, 4, NO_ID),
        ]);
        let b = acc(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 4, NO_ID),
            (M, 7, NO_ID),
            (O, 4, NO_ID),
        ]);
        assert!(!differ(&a, &b, F | 0o644, F | 0o674).unwrap());
        // group:: equal to the mask travels as "same as the mode's group
        // bits": a dest whose group:: differs from the wanted mode differs.
        let c = acc(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 7, NO_ID),
            (M, 7, NO_ID),
            (O, 4, NO_ID),
        ]);
        let e = acc(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 5, NO_ID),
            (M, 7, NO_ID),
            (O, 4, NO_ID),
        ]);
        assert!(!differ(&c, &c, F | 0o674, F | 0o674).unwrap());
        assert!(differ(&c, &e, F | 0o674, F | 0o674).unwrap());
        // A changed named entry differs.
        let f = acc(&[
            (U, 6, NO_ID),
            (NU, 5, 1),
            (G, 4, NO_ID),
            (M, 4, NO_ID),
            (O, 4, NO_ID),
        ]);
        assert!(differ(&a, &f, F | 0o644, F | 0o644).unwrap());
    }

    #[test]
    fn mask_only_acl_is_kept() {
        // u::rw g::rwx m::r o::r with no named entries: rsync 3.5.0 keeps
        // the mask (verified: `setfacl -n -m m::r` on the source gives the
        // destination the same four entries), so a plain destination
        // differs, and one with the same group:: and a mask does not.
        let a = acc(&[(U, 6, NO_ID), (G, 7, NO_ID), (M, 4, NO_ID), (O, 4, NO_ID)]);
        assert!(differ(&a, &Acls::default(), F | 0o644, F | 0o644).unwrap());
        let b = acc(&[(U, 6, NO_ID), (G, 7, NO_ID), (M, 5, NO_ID), (O, 4, NO_ID)]);
        assert!(!differ(&a, &b, F | 0o644, F | 0o654).unwrap());
        let c = acc(&[(U, 6, NO_ID), (G, 6, NO_ID), (M, 4, NO_ID), (O, 4, NO_ID)]);
        assert!(differ(&a, &c, F | 0o644, F | 0o644).unwrap());
    }

    #[test]
    fn default_acl_compared_for_dirs_only() {
        let def = Acls {
            access: None,
            default: Some(blob(&[(U, 7, NO_ID), (G, 5, NO_ID), (O, 5, NO_ID)])),
        };
        let none = Acls::default();
        let d = diff(&def, &none, D | 0o755, D | 0o755).unwrap();
        assert_eq!(
            d,
            AclDiff {
                access: false,
                default: true
            }
        );
        assert!(!differ(&def, &none, F | 0o755, F | 0o755).unwrap());
        assert!(differ(&none, &def, D | 0o755, D | 0o755).unwrap());
        // A default mask without named entries is kept (rsync 3.5.0).
        let with_mask = Acls {
            access: None,
            default: Some(blob(&[
                (U, 7, NO_ID),
                (G, 7, NO_ID),
                (M, 5, NO_ID),
                (O, 5, NO_ID),
            ])),
        };
        assert!(differ(&with_mask, &def, D | 0o755, D | 0o755).unwrap());
        assert!(!differ(&with_mask, &with_mask, D | 0o755, D | 0o755).unwrap());
    }

    #[test]
    fn write_mode_protects_while_bits_change() {
        // Set-uid going off on a file: group/other closed during the write.
        assert_eq!(acl_write_mode(F | 0o4755, F | 0o755), F | 0o700);
        assert_eq!(mode_after_access_acl(F | 0o4755, F | 0o755), F | 0o4700);
        // Sticky coming on for a directory.
        assert_eq!(acl_write_mode(D | 0o755, D | 0o1777), D | 0o1700);
        // Nothing special.
        assert_eq!(mode_after_access_acl(F | 0o674, F | 0o604), F | 0o604);
        assert_eq!(mode_after_access_acl(F | 0o644, F | 0o4755), F | 0o755);
    }

    #[test]
    fn map_ids_keeps_order() {
        let a = acc(&[
            (U, 6, NO_ID),
            (NU, 4, 1),
            (NU, 6, 4242),
            (G, 4, NO_ID),
            (NG, 4, 2),
            (M, 6, NO_ID),
            (O, 4, NO_ID),
        ]);
        let m = a.map_ids(|is_user, id| if is_user { 65534 } else { id + 1 });
        let acl = Acl::parse(m.access.as_ref().unwrap()).unwrap();
        let ids: Vec<_> = acl.names.iter().map(|n| (n.is_user, n.id)).collect();
        assert_eq!(ids, [(true, 65534), (true, 65534), (false, 3)]);
    }

    fn acl_supported(p: &Path) -> bool {
        let a = blob(&[
            (U, 6, NO_ID),
            (NU, 4, 1),
            (G, 4, NO_ID),
            (M, 4, NO_ID),
            (O, 4, NO_ID),
        ]);
        On::Path(p, false).set(ACCESS_NAME.as_bytes(), &a).is_ok()
            && On::Path(p, false).remove(ACCESS_NAME.as_bytes()).is_ok()
    }

    fn mode_of(p: &Path) -> u32 {
        crate::sys::lstat(p).map(|s| s.mode).unwrap_or(0)
    }

    #[test]
    fn apply_copies_and_removes() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir()?;
        let src = d.path().join("s");
        let dst = d.path().join("t");
        std::fs::write(&src, b"x")?;
        std::fs::write(&dst, b"x")?;
        if !acl_supported(&src) {
            eprintln!("no ACL support; skipped");
            return Ok(());
        }
        std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o600))?;
        // Source: user:1:rwx with mask r-- => mode 0644.
        let sblob = blob(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 4, NO_ID),
            (M, 4, NO_ID),
            (O, 4, NO_ID),
        ]);
        On::Path(&src, false).set(ACCESS_NAME.as_bytes(), &sblob)?;
        let s = read(&src, false)?;
        let smode = mode_of(&src);
        assert_eq!(smode & 0o777, 0o644);
        let t = read(&dst, false)?;
        assert!(t.is_minimal());
        let r = apply_path(&dst, &s, &t, smode, mode_of(&dst))?;
        assert!(r.changed);
        assert_eq!(r.mode, Some(F | 0o644));
        // The ACL write set the permission bits too.
        assert_eq!(mode_of(&dst) & 0o7777, 0o644);
        let t = read(&dst, false)?;
        assert_eq!(t, s);
        assert!(!differ(&s, &t, smode, mode_of(&dst))?);
        // Source loses its ACL: the destination's goes too.
        let none = Acls::default();
        let r = apply_path(&dst, &none, &t, F | 0o640, mode_of(&dst))?;
        assert!(r.changed);
        assert!(read(&dst, false)?.is_minimal());
        assert_eq!(mode_of(&dst) & 0o777, 0o640);
        Ok(())
    }

    #[test]
    fn itemize_mode_only_for_files_with_access_diff() {
        let acc = AclDiff {
            access: true,
            default: false,
        };
        assert_eq!(itemize_mode(F | 0o604, F | 0o744, &acc), F | 0o744);
        assert_eq!(itemize_mode(F | 0o644, F | 0o4755, &acc), F | 0o755);
        assert_eq!(itemize_mode(D | 0o700, D | 0o750, &acc), D | 0o700);
        assert_eq!(
            itemize_mode(F | 0o604, F | 0o744, &AclDiff::default()),
            F | 0o604
        );
    }

    #[test]
    fn default_perms_from_dir_acl() -> Result<(), Box<dyn std::error::Error>> {
        let d = tempfile::tempdir()?;
        assert_eq!(
            default_perms_for_dir(d.path(), 0o022, false).ok(),
            Some(0o755)
        );
        assert_eq!(
            default_perms_for_dir(&d.path().join("missing"), 0o027, true).ok(),
            Some(0o750)
        );
        assert!(default_perms_for_dir(&d.path().join("missing"), 0o022, false).is_err());
        if !acl_supported(d.path()) {
            return Ok(());
        }
        // u::rw g::r u:1:rwx m::rwx o::- (the compat scenario
        // acl-new-file-inherits-without-A): 0670.
        let def = blob(&[
            (U, 6, NO_ID),
            (NU, 7, 1),
            (G, 4, NO_ID),
            (M, 7, NO_ID),
            (O, 0, NO_ID),
        ]);
        On::Path(d.path(), false).set(DEFAULT_NAME.as_bytes(), &def)?;
        assert_eq!(
            default_perms_for_dir(d.path(), 0o022, false).ok(),
            Some(0o670)
        );
        let def = blob(&[(U, 7, NO_ID), (G, 5, NO_ID), (O, 1, NO_ID)]);
        On::Path(d.path(), false).set(DEFAULT_NAME.as_bytes(), &def)?;
        assert_eq!(
            default_perms_for_dir(d.path(), 0o077, false).ok(),
            Some(0o751)
        );
        Ok(())
    }

    #[test]
    fn apply_default_acl_on_dirs() -> Result<(), Box<dyn std::error::Error>> {
        let d = tempfile::tempdir()?;
        let src = d.path().join("s");
        let dst = d.path().join("t");
        std::fs::create_dir(&src)?;
        std::fs::create_dir(&dst)?;
        if !acl_supported(&src) {
            return Ok(());
        }
        let def = blob(&[
            (U, 7, NO_ID),
            (NU, 5, 1),
            (G, 4, NO_ID),
            (M, 5, NO_ID),
            (O, 5, NO_ID),
        ]);
        On::Path(&src, false).set(DEFAULT_NAME.as_bytes(), &def)?;
        let s = read(&src, true)?;
        let t = read(&dst, true)?;
        let dm = mode_of(&dst);
        let r = apply_path(&dst, &s, &t, mode_of(&src), dm)?;
        assert!(r.changed);
        assert_eq!(r.mode, None);
        assert_eq!(read(&dst, true)?.default, Some(def));
        let r = apply_path(&dst, &Acls::default(), &read(&dst, true)?, dm, dm)?;
        assert!(r.changed);
        assert_eq!(read(&dst, true)?.default, None);
        Ok(())
    }
}
