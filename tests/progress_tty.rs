//! The progress display on a terminal: arsync run with its standard output
//! on a pseudo-terminal shows an indicatif bar (bytes, rate, ETA, file
//! count) instead of rsync's text, and `--no-progress-bar` brings rsync's
//! text back. Off a terminal the text is checked by the compat suite.

use std::ffi::CStr;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

/// A pseudo-terminal pair (master, slave) with a 100x30 window.
fn open_pty() -> (OwnedFd, OwnedFd) {
    // SAFETY: plain libc calls; every return value is checked, the name
    // buffer is NUL-terminated by ptsname_r and outlives the open() that
    // reads it, and each descriptor is wrapped in an OwnedFd exactly once.
    unsafe {
        let m = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(m >= 0, "posix_openpt");
        let master = OwnedFd::from_raw_fd(m);
        assert_eq!(libc::grantpt(m), 0, "grantpt");
        assert_eq!(libc::unlockpt(m), 0, "unlockpt");
        let mut name = [0 as libc::c_char; 128];
        assert_eq!(
            libc::ptsname_r(m, name.as_mut_ptr(), name.len()),
            0,
            "ptsname_r"
        );
        let s = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY);
        assert!(
            s >= 0,
            "open {}",
            CStr::from_ptr(name.as_ptr()).to_string_lossy()
        );
        let slave = OwnedFd::from_raw_fd(s);
        let ws = libc::winsize {
            ws_row: 30,
            ws_col: 100,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        assert_eq!(libc::ioctl(slave.as_raw_fd(), libc::TIOCSWINSZ, &ws), 0);
        (master, slave)
    }
}

/// Runs arsync with stdout on a terminal; returns what the terminal got
/// and the exit code.
fn run_on_tty(args: &[&str], cwd: &Path) -> (String, Option<i32>) {
    let (master, slave) = open_pty();
    let mut child = Command::new(arsync())
        .args(args)
        .current_dir(cwd)
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut master = std::fs::File::from(master);
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        // Linux reports EIO once the last slave descriptor is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&got).into_owned()
    });
    let status = child.wait().unwrap();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(err, "", "stderr");
    (reader.join().unwrap(), status.code())
}

fn tree() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let data: Vec<u8> = (0..8 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(src.join("big"), &data).unwrap();
    std::fs::write(src.join("small"), b"hello\n").unwrap();
    t
}

#[test]
fn progress_on_a_terminal_is_a_bar() {
    let t = tree();
    let (screen, code) = run_on_tty(&["-a", "--progress", "src/", "dst/"], t.path());
    assert_eq!(code, Some(0), "{screen:?}");
    // The bar: bytes, a rate, an ETA and the file count.
    assert!(screen.contains("ETA "), "{screen:?}");
    assert!(screen.contains("B/s"), "{screen:?}");
    assert!(screen.contains("files "), "{screen:?}");
    assert!(screen.contains("MiB"), "{screen:?}");
    // Not rsync's text.
    assert!(!screen.contains("to-chk="), "{screen:?}");
    // The names are still listed (--progress implies them).
    assert!(screen.contains("big\r\n"), "{screen:?}");
    let copied = std::fs::read(t.path().join("dst/big")).unwrap();
    assert_eq!(copied, std::fs::read(t.path().join("src/big")).unwrap());
}

#[test]
fn no_progress_bar_keeps_rsyncs_text_on_a_terminal() {
    let t = tree();
    let (screen, code) = run_on_tty(
        &["-a", "--progress", "--no-progress-bar", "src/", "dst/"],
        t.path(),
    );
    assert_eq!(code, Some(0), "{screen:?}");
    assert!(screen.contains("(xfr#1, to-chk=1/3)"), "{screen:?}");
    assert!(screen.contains("(xfr#2, to-chk=0/3)"), "{screen:?}");
    assert!(screen.contains("      8,388,608 100%"), "{screen:?}");
    assert!(!screen.contains("ETA "), "{screen:?}");
}
