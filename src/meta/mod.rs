//! Attributes: deciding and applying owner, times and permissions.
//!
//! This is rsync's `set_file_attrs()` and `dest_mode()`: the same order
//! (owner, then `--fake-super`'s record and xattrs, then times, then ACLs,
//! then mode — chown clears set-id bits and an ACL write sets permission
//! bits, so the mode goes last) and the same "only touch what differs"
//! rule, so that `--itemize-changes` and the resulting trees agree with
//! rsync.
//!
//! The option-specific parts (`-X`, `-A`, `-E`, `--chmod`, id maps,
//! `--fake-super`) live in [`run`]: a per-run context the walk, the plan
//! and the transfer call at a few narrow points, and per-item work
//! ([`ItemAttrs`]) that travels with a decision to wherever the item is
//! finally written. Without those options nothing here costs a syscall.

pub(crate) mod acl;
pub(crate) mod fake;
pub(crate) mod run;
pub(crate) mod xattr;

pub(crate) use run::{ItemAttrs, RunAttrs, SoftError};

use std::os::fd::AsFd;

use crate::sys::Errno;
pub(crate) use crate::sys::attr::Target;

use crate::options::Options;
use crate::sys::{Kind, Stat};

/// Facts about the receiving process that attribute decisions depend on.
#[derive(Clone, Debug)]
pub(crate) struct Receiver {
    /// rsync's `am_root != 0`: root, `--super`, or `--fake-super` (which
    /// decides like root and records instead of doing).
    pub am_root: bool,
    /// `--fake-super` (rsync's `am_root < 0`): no chown or chmod of the
    /// real file; the privileged attributes go to `user.rsync.%stat`.
    pub fake_super: bool,
    pub euid: u32,
    pub egid: u32,
    /// `0777 & !umask`: the permissions new files get without `--perms`.
    pub dflt_perms: u32,
    /// Groups we may chgrp to as non-root.
    pub groups: Vec<u32>,
}

impl Receiver {
    /// Whether chgrp to `gid` can work: root, or a group we belong to
    /// (rsync silently skips the others).
    pub(crate) fn may_chgrp(&self, gid: u32) -> bool {
        self.am_root || self.groups.contains(&gid)
    }

    pub(crate) fn current() -> Receiver {
        let umask = crate::sys::umask();
        let (euid, egid) = crate::sys::ids::effective_ids();
        let mut groups = crate::sys::ids::groups();
        groups.push(egid);
        Receiver {
            am_root: euid == 0,
            fake_super: false,
            euid,
            egid,
            dflt_perms: 0o777 & !umask,
            groups,
        }
    }
}

impl Receiver {
    /// The receiver for a run: the process's facts with rsync's
    /// `--super` / `--no-super` / `--fake-super` override of `am_root`.
    pub(crate) fn for_options(opts: &Options) -> Receiver {
        use crate::options::SuperMode;
        let mut r = Receiver::current();
        match opts.super_mode {
            Some(SuperMode::Super) => r.am_root = true,
            Some(SuperMode::NoSuper) => r.am_root = false,
            Some(SuperMode::Fake) => {
                r.am_root = true;
                r.fake_super = true;
            }
            None => {}
        }
        r
    }
}

/// rsync's `dest_mode()`: without `--perms`, an existing file keeps its
/// permissions and a new one gets the source's permissions masked by the
/// default permissions, with set-id and sticky bits dropped.
#[cfg(test)]
pub(crate) fn dest_mode(src_mode: u32, existing: Option<u32>, dflt_perms: u32) -> u32 {
    dest_mode_x(src_mode, existing, dflt_perms, false)
}

/// [`dest_mode`] with `-E`: an existing regular file loses its execute
/// bits when the source has none, and gains `x` wherever it has `r` when
/// the source has some and it had none (bits it already has are kept).
pub(crate) fn dest_mode_x(
    src_mode: u32,
    existing: Option<u32>,
    dflt_perms: u32,
    exec: bool,
) -> u32 {
    match existing {
        Some(m) => {
            let mut new = (src_mode & !0o7777) | (m & 0o7777);
            if exec && src_mode & crate::sys::mode::S_IFMT == crate::sys::mode::S_IFREG {
                if src_mode & 0o111 == 0 {
                    new &= !0o111;
                } else if m & 0o111 == 0 {
                    new |= (new & 0o444) >> 2;
                }
            }
            new
        }
        None => src_mode & (!0o7777 | dflt_perms),
    }
}

/// What the destination should end up with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wanted {
    /// Full mode incl. type bits (already passed through `dest_mode`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// `-U`: the access time (whole seconds) to give a non-directory;
    /// `None` leaves it alone.
    pub atime: Option<i64>,
    pub kind: Kind,
}

/// Which attributes to compare and set, decided once per item so the
/// engine threads need nothing else.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub set_owner: bool,
    /// Already false when we may not chgrp to the wanted group.
    pub set_group: bool,
    pub set_times: bool,
    /// Compare mtimes to the nanosecond (after a transfer or a checksum
    /// match), instead of with `--modify-window`.
    pub accurate_time: bool,
    /// `--modify-window`.
    pub window: i64,
    /// Only work out what would change (`--dry-run`).
    pub dry_run: bool,
    /// `--fake-super`: owner and mode changes are recorded, not made.
    pub fake_super: bool,
}

impl Policy {
    pub(crate) fn new(opts: &Options, recv: &Receiver, want_gid: u32) -> Policy {
        Policy {
            set_owner: opts.owner && recv.am_root,
            set_group: opts.group && recv.may_chgrp(want_gid),
            set_times: opts.times,
            accurate_time: false,
            window: opts.modify_window,
            dry_run: opts.dry_run,
            fake_super: recv.fake_super,
        }
    }
}

pub(crate) use crate::options::same_time;

/// What changed, for `-vv`'s "is uptodate" and directory listing lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Updated {
    pub owner: bool,
    pub mtime: bool,
    pub mode: bool,
    pub atime: bool,
    /// An ACL was (or, in a dry run, would be) written. xattr changes do
    /// not count: rsync applies them in a second pass that reports
    /// nothing.
    pub acl: bool,
}

impl Updated {
    pub(crate) fn any(&self) -> bool {
        self.owner || self.mtime || self.mode || self.atime || self.acl
    }
}

/// A failed attribute change, rendered like rsync's messages.
#[derive(Debug)]
pub(crate) struct AttrError {
    /// e.g. `chown`, `failed to set times on`, `failed to set permissions on`.
    pub what: &'static str,
    pub errno: Errno,
}

impl AttrError {
    /// rsync's message for this failure (`shown`: the path as rsync's
    /// `full_fname()` renders it, quotes included): `chown PATH failed`,
    /// `failed to set times on PATH`, … and the errno text.
    pub(crate) fn message(&self, shown: &str) -> String {
        let errno = crate::sys::errno_text(self.errno);
        match self.what {
            "chown" | "chgrp" => format!("{} {shown} failed: {errno}", self.what),
            what => format!("{what} {shown}: {errno}"),
        }
    }
}

/// Where [`apply_full`]'s changes go: the kernel (a [`Target`]: an open
/// file, an entry of a directory handle, a path) or another door of the
/// destination (`transfer::destfs`'s in-memory one in tests). meta decides
/// what changes; the door only carries each change out.
pub(crate) trait AttrDoor {
    fn chown(&self, uid: u32, gid: u32) -> Result<(), Errno>;
    /// What is there now (never through a final symlink).
    fn stat(&self) -> Result<Stat, Errno>;
    /// Sets what is given: the access time (whole seconds) and the
    /// modification time.
    fn set_times(&self, atime: Option<i64>, mtime: Option<(i64, u32)>) -> Result<(), Errno>;
    fn chmod(&self, mode: u32) -> Result<(), Errno>;
    /// Calls `f` with what xattr and ACL calls work on; `None` for a door
    /// that has no xattrs or ACLs (nothing is applied there).
    fn with_on<R>(&self, f: impl FnOnce(run::On<'_>) -> R) -> Option<R>;
}

impl<F: AsFd> AttrDoor for Target<'_, F> {
    fn chown(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        crate::sys::attr::chown(self, uid, gid)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        crate::sys::attr::stat(self)
    }
    fn set_times(&self, atime: Option<i64>, mtime: Option<(i64, u32)>) -> Result<(), Errno> {
        crate::sys::attr::set_times(self, atime, mtime)
    }
    fn chmod(&self, mode: u32) -> Result<(), Errno> {
        crate::sys::attr::chmod(self, mode)
    }
    /// Its fd, or a path (`/proc/self/fd/DIR/name` for an entry of a
    /// directory handle).
    fn with_on<R>(&self, f: impl FnOnce(run::On<'_>) -> R) -> Option<R> {
        Some(match self {
            Target::Fd(fd) => f(run::On::Fd(fd.as_fd())),
            Target::At(d, p) => f(run::On::Path(&crate::sys::attr::entry_path(*d, p))),
            Target::Path(p) => f(run::On::Path(p)),
        })
    }
}

/// rsync's `set_file_attrs()`: owner, times and mode, with the
/// option-specific work of one item (`-X`, `-A`, `--fake-super`), in
/// rsync's order, through `door`. Failures of that
/// work do not stop the rest (rsync reports them and carries on): they
/// come back as [`SoftError`]s for the caller to report.
pub(crate) fn apply_full(
    door: &impl AttrDoor,
    current: &Stat,
    want: &Wanted,
    policy: &Policy,
    extra: Option<&ItemAttrs>,
) -> Result<(Updated, Vec<SoftError>), AttrError> {
    let mut up = Updated::default();
    let mut soft = Vec::new();
    let is_link = want.kind == Kind::Symlink;
    let mut cur_mode = current.mode;

    let change_uid = policy.set_owner && current.uid != want.uid;
    let change_gid = policy.set_group && current.gid != want.gid;
    if change_uid || change_gid {
        // --fake-super records the owner in %stat below instead.
        if !policy.fake_super {
            let uid = if change_uid { want.uid } else { current.uid };
            let gid = if change_gid { want.gid } else { current.gid };
            let r = if policy.dry_run {
                Ok(())
            } else {
                door.chown(uid, gid)
            };
            r.map_err(|errno| AttrError {
                what: if change_uid { "chown" } else { "chgrp" },
                errno,
            })?;
            // chown may clear set-id bits; re-read what the chmod below
            // compares against, as rsync does.
            if cur_mode & 0o6000 != 0
                && !policy.dry_run
                && let Ok(st) = door.stat()
            {
                cur_mode = st.mode;
            }
        }
        up.owner = true;
    }

    if let Some(x) = extra
        && !policy.dry_run
    {
        door.with_on(|on| x.apply_fake_and_xattrs(on, &mut soft));
    }

    let set_mtime = policy.set_times && !same_mtime(policy, current, want);
    // -U: rsync carries access times in whole seconds and compares them so.
    let set_atime = want.atime.filter(|&a| a != current.atime);
    if set_mtime || set_atime.is_some() {
        let mtime = set_mtime.then_some((want.mtime, want.mtime_nsec));
        let r = if policy.dry_run {
            Ok(())
        } else {
            door.set_times(set_atime, mtime)
        };
        r.map_err(|errno| AttrError {
            what: "failed to set times on",
            errno,
        })?;
        up.mtime = set_mtime;
        up.atime = set_atime.is_some();
    }

    if let Some(x) = extra
        && !is_link
        && let Some((changed, mode)) =
            door.with_on(|on| x.apply_acls(on, cur_mode, want.mode, policy.dry_run, &mut soft))
    {
        up.acl = changed;
        if let Some(m) = mode {
            cur_mode = m;
        }
    }

    // Linux cannot chmod a symlink.
    if !is_link && (cur_mode & 0o7777) != (want.mode & 0o7777) {
        let r = if policy.dry_run || policy.fake_super {
            Ok(())
        } else {
            door.chmod(want.mode)
        };
        r.map_err(|errno| AttrError {
            what: "failed to set permissions on",
            errno,
        })?;
        up.mode = true;
    }
    Ok((up, soft))
}

/// Whether the destination's modification time already is the wanted one
/// (to the nanosecond after a transfer or checksum match, else within
/// `--modify-window`).
fn same_mtime(policy: &Policy, current: &Stat, want: &Wanted) -> bool {
    if policy.accurate_time {
        current.mtime == want.mtime && current.mtime_nsec == want.mtime_nsec
    } else {
        same_time(
            policy.window,
            want.mtime,
            want.mtime_nsec,
            current.mtime,
            current.mtime_nsec,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_mode_rules() {
        // New file without --perms: masked, set-id bits dropped.
        assert_eq!(dest_mode(0o104755, None, 0o755), 0o100755);
        assert_eq!(dest_mode(0o100666, None, 0o700), 0o100600);
        // Existing file keeps its own permission bits.
        assert_eq!(dest_mode(0o100755, Some(0o100600), 0o755), 0o100600);
    }
}
