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

/// Sets the terminal's window to `cols` columns (through the master side).
fn resize(master: &std::fs::File, cols: u16) {
    let ws = libc::winsize {
        ws_row: 30,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: a valid open descriptor and a valid winsize for the call.
    assert_eq!(
        unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
        0
    );
}

/// Runs arsync with stdout on a terminal; returns what the terminal got
/// and the exit code.
fn run_on_tty(args: &[&str], cwd: &Path) -> (String, Option<i32>) {
    run_on_tty_resized(args, cwd, None).0
}

/// [`run_on_tty`], the window resized to `(after, cols)` if given; also
/// returns how much output had come before the resize.
fn run_on_tty_resized(
    args: &[&str],
    cwd: &Path,
    resize_to: Option<(std::time::Duration, u16)>,
) -> ((String, Option<i32>), usize) {
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
    let master = std::fs::File::from(master);
    let control = master.try_clone().unwrap();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&got);
    let reader = std::thread::spawn(move || {
        let mut master = master;
        let mut buf = [0u8; 4096];
        // Linux reports EIO once the last slave descriptor is closed.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut before = 0;
    if let Some((after, cols)) = resize_to {
        std::thread::sleep(after);
        before = got.lock().unwrap().len();
        resize(&control, cols);
    }
    let status = child.wait().unwrap();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert_eq!(err, "", "stderr");
    reader.join().unwrap();
    let screen = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
    ((screen, status.code()), before)
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
    // At the end a summary line in rsync's format stays on screen.
    let last = screen.rsplit("\x1b[J").next().unwrap_or_default();
    assert!(
        last.contains(" 100% ") && last.contains("(xfr#2, to-chk=0/3)\r\n"),
        "{last:?}"
    );
    assert!(screen.contains("B/s"), "{screen:?}");
    assert!(screen.contains("files "), "{screen:?}");
    assert!(screen.contains("MiB"), "{screen:?}");
    // Not rsync's text before that line.
    assert_eq!(screen.matches("to-chk=").count(), 1, "{screen:?}");
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

/// The visible width of each frame the bar drew (between its clears).
fn frames(screen: &str) -> Vec<String> {
    screen
        .split("\x1b[J")
        .map(|f| f.split(['\r', '\n']).next().unwrap_or_default())
        .map(|f| {
            // Without escape sequences (colours, cursor moves).
            let mut out = String::new();
            let mut esc = false;
            for c in f.chars() {
                match (esc, c) {
                    (false, '\x1b') => esc = true,
                    (true, c) if c.is_ascii_alphabetic() => esc = false,
                    (true, _) => {}
                    (false, c) => out.push(c),
                }
            }
            out
        })
        .filter(|f| !f.is_empty())
        .collect()
}

#[test]
fn the_bar_is_truthful_and_follows_a_resize() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    std::fs::create_dir(&src).unwrap();
    // 96 MiB at 32 MB/s: three seconds.
    std::fs::write(src.join("big"), vec![7u8; 96 << 20]).unwrap();
    let ((screen, code), before) = run_on_tty_resized(
        &["-a", "--progress", "--bwlimit=32m", "src/", "dst/"],
        t.path(),
        Some((std::time::Duration::from_millis(1500), 40)),
    );
    assert_eq!(code, Some(0), "{screen:?}");
    let early = frames(&screen[..before]);
    // The name of the file being copied, the real total, no ETA yet.
    assert!(
        early
            .iter()
            .any(|f| f.contains("/96.00 MiB") && f.trim_end().ends_with(" big")),
        "{early:?}"
    );
    assert!(
        early.iter().any(|f| f.contains("ETA --:--:--")),
        "{early:?}"
    );
    assert!(early.iter().all(|f| !f.contains(" B/0 B ")), "{early:?}");
    assert!(early.iter().all(|f| f.chars().count() < 100), "{early:?}");
    // After the resize every frame fits in 40 columns.
    let late = frames(&screen[before..]);
    let bars: Vec<&String> = late.iter().filter(|f| f.contains("ETA ")).collect();
    assert!(!bars.is_empty(), "{late:?}");
    assert!(bars.iter().all(|f| f.chars().count() < 40), "{bars:?}");
    // An ETA once it means something.
    assert!(
        screen.contains("ETA 0:00:0") || late.iter().any(|f| f.contains("ETA 0:")),
        "{screen:?}"
    );
}
