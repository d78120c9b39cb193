//! A close that fails leaves the old file in place, on a real kernel: a
//! small FUSE file system (pass-through, in Python with `fusepy`) fails
//! the close (FUSE `flush`) of every file whose path contains
//! `closefail`, as a network file system does when writing back fails.
//! arsync must then neither rename nor link the new file in, remove it,
//! and end the run as rsync does: `close failed on "TEMP"`, exit 11.
//!
//! The same file system hangs every read past the first bytes of a file
//! whose path contains `hang` (a stalled network mount): `--timeout` must
//! end the run with rsync's timeout message and exit 30, and leave no
//! partial file under the final name.
//!
//! Needs root, `/dev/fuse`, libfuse 2 and the `fuse` Python module
//! (`apt-get install libfuse2 python3-fusepy`, or `pip install fusepy`);
//! without them each test is reported as ignored with the reason, and
//! under `CI=true` (where `.ci/run` installs them) it fails instead.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::{fs, thread};

const FAILFS: &str = r#"import errno, os, sys, time
try:
    from fuse import FUSE, FuseOSError, Operations
except ImportError:  # Debian's python3-fusepy names the module fusepy
    from fusepy import FUSE, FuseOSError, Operations

class FailClose(Operations):
    """A pass-through file system whose close (FUSE flush) fails with EIO
    for every file whose path contains 'closefail'."""
    def __init__(self, root):
        self.root = root
    def _p(self, path):
        return os.path.join(self.root, path.lstrip('/'))
    def __call__(self, op, path, *args):
        try:
            return super().__call__(op, path, *args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)
    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        keys = ('st_atime', 'st_ctime', 'st_gid', 'st_mode', 'st_mtime',
                'st_nlink', 'st_size', 'st_uid', 'st_blocks')
        d = {k: getattr(st, k) for k in keys}
        d['st_atime'] = st.st_atime_ns / 1e9
        d['st_mtime'] = st.st_mtime_ns / 1e9
        return d
    def readdir(self, path, fh):
        return ['.', '..'] + os.listdir(self._p(path))
    def readlink(self, path):
        return os.readlink(self._p(path))
    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)
    def rmdir(self, path):
        os.rmdir(self._p(path))
    def unlink(self, path):
        os.unlink(self._p(path))
    def symlink(self, target, source):
        os.symlink(source, self._p(target))
    def link(self, target, source):
        os.link(self._p(source), self._p(target))
    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))
    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)
    def chown(self, path, uid, gid):
        os.chown(self._p(path), uid, gid)
    def utimens(self, path, times=None):
        os.utime(self._p(path), times)
    def truncate(self, path, length, fh=None):
        os.truncate(self._p(path), length)
    def open(self, path, flags):
        return os.open(self._p(path), flags)
    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_WRONLY | os.O_CREAT, mode)
    def read(self, path, size, offset, fh):
        if 'hang' in path and offset > 0:
            time.sleep(3600)
        return os.pread(fh, size, offset)
    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)
    def flush(self, path, fh):
        if 'closefail' in path:
            raise FuseOSError(errno.EIO)
        return 0
    def release(self, path, fh):
        os.close(fh)
        return 0
    def fsync(self, path, datasync, fh):
        os.fsync(fh)
        return 0
    def statfs(self, path):
        st = os.statvfs(self._p(path))
        keys = ('f_bavail', 'f_bfree', 'f_blocks', 'f_bsize', 'f_favail',
                'f_ffree', 'f_files', 'f_flag', 'f_frsize', 'f_namemax')
        return {k: getattr(st, k) for k in keys}

if __name__ == '__main__':
    FUSE(FailClose(sys.argv[1]), sys.argv[2], foreground=True, nothreads=True)
"#;

/// The mounted file system; unmounted when dropped.
struct Mount {
    child: Child,
    at: PathBuf,
}

impl Drop for Mount {
    fn drop(&mut self) {
        // The daemon goes first: a read it holds (the stalled-read test)
        // would block a plain umount; after it the mount is only detached.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = Command::new("umount").arg("-l").arg(&self.at).status();
    }
}

fn mounted(at: &Path) -> bool {
    let at = at.to_string_lossy().into_owned();
    fs::read_to_string("/proc/self/mountinfo")
        .map(|m| m.lines().any(|l| l.split(' ').nth(4) == Some(at.as_str())))
        .unwrap_or(false)
}

/// [`mount`], or `Err(WHY)`: the test is reported as ignored for that
/// reason — a panic instead under `CI=true`, where the test must run.
fn mount_or_skip(dir: &Path, back: &Path, mnt: &Path) -> Result<Mount, String> {
    match mount(dir, back, mnt) {
        Ok(m) => Ok(m),
        Err(why) if std::env::var_os("CI").is_some_and(|v| v == "true") => {
            panic!("CI=true but the FUSE test cannot run: {why}")
        }
        Err(why) => Err(why),
    }
}

/// The tests (harness = false): one that cannot run here is counted as
/// ignored, with its reason, rather than passed.
fn main() {
    let args = libtest_mimic::Arguments::from_args();
    let trials = vec![
        trial(
            "a_failing_close_leaves_the_old_file_in_place",
            a_failing_close_leaves_the_old_file_in_place,
        ),
        trial(
            "a_stalled_read_ends_with_the_timeout",
            a_stalled_read_ends_with_the_timeout,
        ),
    ];
    libtest_mimic::run(&args, trials).exit();
}

/// A test that returns `Err(WHY)` when it cannot run here (a panic fails it).
fn trial(name: &str, test: fn() -> Result<(), String>) -> libtest_mimic::Trial {
    use libtest_mimic::{Completion, Trial};
    Trial::ignorable_test(name, move || match test() {
        Ok(()) => Ok(Completion::Completed),
        Err(why) => Ok(Completion::ignored_with(why)),
    })
}

/// Mounts the failing file system at `mnt` over `back`, or says why not.
fn mount(dir: &Path, back: &Path, mnt: &Path) -> Result<Mount, String> {
    if !is_root() {
        return Err("not root".into());
    }
    if !Path::new("/dev/fuse").exists() {
        return Err("no /dev/fuse".into());
    }
    // The PATH's python3 may be another build than the one Debian's
    // python3-fusepy goes with.
    let python = ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|py| {
            Command::new(py)
                .args(["-c", "import importlib.util as u, sys; sys.exit(not (u.find_spec('fuse') or u.find_spec('fusepy')))"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .ok_or("no python3 with fusepy (apt-get install libfuse2 python3-fusepy)")?;
    let script = dir.join("failfs.py");
    fs::write(&script, FAILFS).map_err(|e| e.to_string())?;
    let child = Command::new(python)
        .arg(&script)
        .arg(back)
        .arg(mnt)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let m = Mount {
        child,
        at: mnt.to_path_buf(),
    };
    let start = Instant::now();
    while !mounted(mnt) {
        if start.elapsed() > Duration::from_secs(10) {
            return Err("the FUSE mount did not appear".into());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Ok(m)
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// What one run left: exit code, stderr's first line with the temp
/// name's random part and the program name blanked, the backing files.
#[derive(Debug, PartialEq)]
struct Run {
    code: Option<i32>,
    first_line: String,
    files: Vec<(String, String)>,
}

fn normalize(line: &str) -> String {
    let line = line
        .strip_prefix("arsync: ")
        .or(line.strip_prefix("rsync: "))
        .unwrap_or(line);
    match line.find(".closefail.txt.") {
        Some(i) => {
            let cut = i + ".closefail.txt.".len();
            format!(
                "{}XXXXXX{}",
                &line[..cut],
                &line[(cut + 6).min(line.len())..]
            )
        }
        None => line.to_string(),
    }
}

fn files(back: &Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = fs::read_dir(back)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let content = fs::read_to_string(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), content)
        })
        .collect();
    v.sort();
    v
}

/// Lays out the source (file `name`) and the destination (through the
/// mount, `name` holding "old"), runs `tool -a src/ mnt/`, and reports
/// what it left.
fn run(tool: &Path, name: &str, src: &Path, back: &Path, mnt: &Path) -> Run {
    for d in [src, back] {
        let _ = fs::remove_dir_all(d);
        fs::create_dir(d).unwrap();
    }
    fs::write(back.join(name), "old\n").unwrap();
    fs::write(src.join(name), "new content\n").unwrap();
    let out = Command::new(tool)
        .arg("-a")
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", mnt.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    Run {
        code: out.status.code(),
        first_line: normalize(stderr.lines().next().unwrap_or("")),
        files: files(back),
    }
}

fn a_failing_close_leaves_the_old_file_in_place() -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let (src, back, mnt) = (
        tmp.path().join("src"),
        tmp.path().join("back"),
        tmp.path().join("mnt"),
    );
    for d in [&back, &mnt] {
        fs::create_dir(d).unwrap();
    }
    let _mount = mount_or_skip(tmp.path(), &back, &mnt)?;
    let arsync = Path::new(env!("CARGO_BIN_EXE_arsync"));
    // The file system itself works: a file whose close succeeds arrives.
    let ok = run(arsync, "ok.txt", &src, &back, &mnt);
    assert_eq!(ok.code, Some(0), "{ok:?}");
    assert_eq!(ok.files, [("ok.txt".into(), "new content\n".into())]);
    let ours = run(arsync, "closefail.txt", &src, &back, &mnt);
    assert_eq!(ours.code, Some(11), "{ours:?}");
    let old = [("closefail.txt".to_string(), "old\n".to_string())];
    assert_eq!(ours.files, old, "the old file is kept, no temp file left");
    let mnt_shown = mnt.display();
    assert_eq!(
        ours.first_line,
        format!(
            "[receiver] close failed on \"{mnt_shown}/.closefail.txt.XXXXXX\": \
             Input/output error (5)"
        )
    );
    // rsync, where installed, does the same.
    if Command::new("rsync").arg("--version").output().is_ok() {
        let theirs = run(Path::new("rsync"), "closefail.txt", &src, &back, &mnt);
        assert_eq!(ours, theirs);
    }
    Ok(())
}

fn a_stalled_read_ends_with_the_timeout() -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let (back, mnt, dst) = (
        tmp.path().join("back"),
        tmp.path().join("mnt"),
        tmp.path().join("dst"),
    );
    for d in [&back, &mnt] {
        fs::create_dir(d).unwrap();
    }
    fs::write(back.join("a.txt"), "fine\n").unwrap();
    fs::write(back.join("hang.bin"), vec![1u8; 4 << 20]).unwrap();
    let mount = mount_or_skip(tmp.path(), &back, &mnt)?;
    let log = tmp.path().join("stderr");
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_arsync"))
        .args(["-a", "--timeout=2"])
        .arg(format!("{}/", mnt.display()))
        .arg(format!("{}/", dst.display()))
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // A FUSE request the daemon already holds cannot be interrupted, not
    // even by SIGKILL, so the kernel keeps one I/O thread (and the process)
    // until the daemon answers — rsync's sender would sit in the same
    // read. arsync has given up once its main thread is gone.
    let gave_up = wait_main_thread_gone(child.id(), Duration::from_secs(15));
    let took = start.elapsed();
    drop(mount);
    let status = child.wait().unwrap();
    let stderr = fs::read_to_string(&log).unwrap();
    assert!(gave_up, "still running after {took:?}: {stderr}");
    assert_eq!(status.code(), Some(30), "{stderr}");
    assert!(
        stderr.starts_with("[sender] io timeout after 2 seconds -- exiting\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("arsync error: timeout in data send/receive (code 30)"),
        "{stderr}"
    );
    assert!(
        !dst.join("hang.bin").exists(),
        "no partial file under the final name"
    );
    Ok(())
}

/// Whether `pid`'s main thread has exited (zombie or gone) or is exiting
/// within `limit`. The last thread out closes the process's files, and
/// closing the stalled file asks the file system to flush it (FUSE
/// `flush`), which waits behind the stalled read: when the main thread is
/// that last one, it stays in its exit (`PF_EXITING`) until the daemon
/// answers, a kernel race over which thread closes last.
fn wait_main_thread_gone(pid: u32, limit: Duration) -> bool {
    const PF_EXITING: u64 = 0x4;
    let start = Instant::now();
    while start.elapsed() < limit {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return true;
        };
        // After the command name: state, ppid, pgrp, session, tty, tpgid, flags.
        let rest: Vec<&str> = stat.rsplit(") ").next().unwrap_or("").split(' ').collect();
        let zombie = rest.first() == Some(&"Z");
        let flags: u64 = rest.get(6).and_then(|f| f.parse().ok()).unwrap_or(0);
        if zombie || flags & PF_EXITING != 0 {
            return true;
        }
        thread::sleep(Duration::from_millis(100));
    }
    false
}
