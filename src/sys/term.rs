//! The terminal: whether stdout is one and how wide it is (for the
//! `--progress` bar), waiting for input with a time limit (so a list read
//! from a terminal still sees signals), and a pseudo-terminal for the tests that check that
//! bar.

use std::os::fd::AsFd;

/// The width in columns of the terminal `fd` is, or `None` if `fd` is not
/// a terminal. A terminal that reports no size (0 columns) counts as 80.
pub(crate) fn width(fd: impl AsFd) -> Option<u16> {
    if !rustix::termios::isatty(&fd) {
        return None;
    }
    Some(
        rustix::termios::tcgetwinsize(&fd)
            .map(|w| w.ws_col)
            .ok()
            .filter(|&c| c > 0)
            .unwrap_or(80),
    )
}

/// A pseudo-terminal pair (master, slave) for tests (rustix is built
/// without its `pty` feature here, so this goes through libc).
/// Waits up to `ms` milliseconds for `fd` to have input (or end of file,
/// or an error to report); `Ok(false)` when the time ran out or a signal
/// arrived. Lets a reader of a terminal look at the signal flag while the
/// user types, where a plain `read` would be restarted after the signal.
pub(crate) fn wait_readable(fd: impl AsFd, ms: u32) -> std::io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: i64::from(ms / 1000),
        tv_nsec: i64::from(ms % 1000) * 1_000_000,
    };
    match rustix::event::poll(&mut fds, Some(&timeout)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
pub(crate) fn open_pty() -> Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd), String> {
    use std::ffi::CStr;
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: plain libc calls on a descriptor we own; every return value
    // is checked, the name buffer is NUL-terminated by ptsname_r and
    // outlives the open() that reads it, and each descriptor is wrapped in
    // an OwnedFd exactly once.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        if m < 0 {
            return Err("posix_openpt".into());
        }
        let master = OwnedFd::from_raw_fd(m);
        if libc::grantpt(m) != 0 || libc::unlockpt(m) != 0 {
            return Err("grantpt/unlockpt".into());
        }
        let mut name = [0 as libc::c_char; 128];
        if libc::ptsname_r(m, name.as_mut_ptr(), name.len()) != 0 {
            return Err("ptsname_r".into());
        }
        let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        if s < 0 {
            return Err(format!(
                "open {}",
                CStr::from_ptr(name.as_ptr()).to_string_lossy()
            ));
        }
        Ok((master, OwnedFd::from_raw_fd(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pty_is_a_terminal_and_a_pipe_is_not() {
        let (_master, slave) = open_pty().expect("pty");
        assert!(width(&slave).is_some_and(|w| w > 0));
        let (r, _w) = rustix::pipe::pipe().expect("pipe");
        assert_eq!(width(&r), None);
    }
}
