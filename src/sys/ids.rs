//! User and group names: the reentrant `getpw*_r` / `getgr*_r` lookups.
//!
//! The only FFI to the C library's name service (NSS) in the crate: names
//! come from whatever `/etc/nsswitch.conf` configures, which no syscall
//! wrapper (rustix) covers, so this goes through libc. Callers get plain
//! `Option`s: "no such name/id" and a lookup failure both mean "keep the
//! number", as rsync does. Also the process's own ids and groups, and
//! giving them up for `--copy-as` (the C library's `setuid`/`setgid`
//! change every thread's credentials, which the raw syscalls would not).

use std::ffi::{CStr, CString};

/// The name of local user `uid`.
pub(crate) fn user_name(uid: u32) -> Option<Vec<u8>> {
    with_buf(|buf| {
        // SAFETY: all-zero bytes are a valid `passwd` (null pointers and
        // zero ids); getpwuid_r fills it in.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and `buf` is writable
        // for `buf.len()` bytes; the strings in `pwd` point into `buf`,
        // which outlives their use below.
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut res) };
        // SAFETY: on success with a result, pw_name is null or a
        // NUL-terminated string inside `buf`.
        (
            rc,
            (!res.is_null()).then(|| unsafe { cstr_bytes(pwd.pw_name) }),
        )
    })
}

/// The name of local group `gid`.
pub(crate) fn group_name(gid: u32) -> Option<Vec<u8>> {
    with_buf(|buf| {
        // SAFETY: all-zero bytes are a valid `group`.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `user_name`, for `group`.
        let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr(), buf.len(), &mut res) };
        // SAFETY: on success with a result, gr_name is null or a
        // NUL-terminated string inside `buf`.
        (
            rc,
            (!res.is_null()).then(|| unsafe { cstr_bytes(grp.gr_name) }),
        )
    })
}

/// The uid of local user `name` (`None` also for a name holding a NUL).
pub(crate) fn user_id(name: &[u8]) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    with_buf(|buf| {
        // SAFETY: all-zero bytes are a valid `passwd`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: `cname` is NUL-terminated, the other pointers are valid
        // and `buf` is writable for `buf.len()` bytes.
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut res,
            )
        };
        (rc, (!res.is_null()).then_some(pwd.pw_uid))
    })
}

/// The gid of local group `name` (`None` also for a name holding a NUL).
pub(crate) fn group_id(name: &[u8]) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    with_buf(|buf| {
        // SAFETY: all-zero bytes are a valid `group`.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::group = std::ptr::null_mut();
        // SAFETY: as in `user_id`, for `group`.
        let rc = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
                &mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &mut res,
            )
        };
        (rc, (!res.is_null()).then_some(grp.gr_gid))
    })
}

/// The primary group of local user `uid`.
pub(crate) fn primary_gid(uid: u32) -> Option<u32> {
    with_buf(|buf| {
        // SAFETY: all-zero bytes are a valid `passwd`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: as in `user_id`, looking up by number.
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut res) };
        (rc, (!res.is_null()).then_some(pwd.pw_gid))
    })
}

/// Which step of [`become_user`] failed, with its errno.
#[derive(Debug)]
pub(crate) struct BecomeError {
    pub step: &'static str,
    pub errno: rustix::io::Errno,
}

/// Becomes user `uid` with group `gid` for good, in every thread: the
/// group first, then the supplementary groups (only `gid`, or the user's
/// own from the group database when `init_groups` names the user), then
/// the user id.
pub(crate) fn become_user(
    uid: u32,
    gid: u32,
    init_groups: Option<&[u8]>,
) -> Result<(), BecomeError> {
    let fail = |step| BecomeError {
        step,
        errno: rustix::io::Errno::from_io_error(&std::io::Error::last_os_error())
            .unwrap_or(rustix::io::Errno::PERM),
    };
    // SAFETY: plain calls with integer arguments.
    if unsafe { libc::setgid(gid) } != 0 {
        return Err(fail("setgid"));
    }
    let groups = [gid];
    // SAFETY: `groups` holds one valid gid for the length passed.
    if unsafe { libc::setgroups(1, groups.as_ptr()) } != 0 {
        return Err(fail("setgroups"));
    }
    if let Some(name) = init_groups {
        let cname = CString::new(name).map_err(|_| BecomeError {
            step: "initgroups",
            errno: rustix::io::Errno::INVAL,
        })?;
        // SAFETY: `cname` is NUL-terminated.
        if unsafe { libc::initgroups(cname.as_ptr(), gid) } != 0 {
            return Err(fail("initgroups"));
        }
    }
    // SAFETY: a plain call with an integer argument.
    if unsafe { libc::setuid(uid) } != 0 {
        return Err(fail("setuid"));
    }
    Ok(())
}

/// The effective user and group ids of this process.
pub(crate) fn effective_ids() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// The supplementary groups of this process (empty if they cannot be
/// read).
pub(crate) fn groups() -> Vec<u32> {
    rustix::process::getgroups()
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.as_raw())
        .collect()
}

/// Copies a C string out.
///
/// # Safety
/// `p` must be null or point to a NUL-terminated string.
unsafe fn cstr_bytes(p: *const libc::c_char) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// Runs a `get*_r` call with a growing scratch buffer (ERANGE means "too
/// small"); any other failure or "not found" gives `None`.
fn with_buf<T>(mut f: impl FnMut(&mut [libc::c_char]) -> (libc::c_int, Option<T>)) -> Option<T> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        match f(&mut buf) {
            (0, r) => return r,
            (libc::ERANGE, _) if size < 1 << 20 => size *= 4,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_user_and_group_zero() {
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert_eq!(user_id(b"root"), Some(0));
        assert_eq!(group_id(b"root"), Some(0));
        assert_eq!(group_name(0).as_deref(), Some(&b"root"[..]));
    }

    #[test]
    fn own_ids_match_std() {
        use std::os::unix::fs::MetadataExt;
        let (euid, egid) = effective_ids();
        let path = std::env::temp_dir().join(format!("arsync-sys-ids-{}", std::process::id()));
        std::fs::write(&path, b"").unwrap();
        let md = std::fs::metadata(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(md.uid(), euid);
        // A new file gets the effective gid unless setgid directories
        // say otherwise; the temp directory is not one.
        assert_eq!(md.gid(), egid);
        let _ = groups();
    }

    #[test]
    fn unknown_names_and_nul_give_none() {
        assert_eq!(user_id(b"no-such-user-arsync-test"), None);
        assert_eq!(group_id(b"no-such-group-arsync-test"), None);
        assert_eq!(user_id(b"ro\0ot"), None);
        assert_eq!(user_name(u32::MAX - 7), None);
    }
}
