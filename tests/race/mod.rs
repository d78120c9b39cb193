//! Shared by the race tests (`dest_race.rs`, `backup_race.rs`): the
//! binary under test, running it with a time limit, listing a tree, and
//! the thread that swaps directories for symlinks.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The binary under test (`ARSYNC_BIN` overrides it, e.g. to show that an
/// older build loses the race).
pub fn arsync() -> PathBuf {
    std::env::var_os("ARSYNC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_arsync")))
}

/// Every path below `dir`, sorted.
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(it) = fs::read_dir(&d) else { continue };
        for e in it.filter_map(Result::ok) {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Runs arsync and waits for it (at most a minute): its exit code.
pub fn run(args: &[&str], src: &Path, dst: &Path) -> i32 {
    let mut child = Command::new(arsync())
        .args(args)
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawning arsync");
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("waiting for arsync") {
            return st.code().unwrap_or(-1);
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("arsync {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Swaps `dir` for a symlink to `outside` and back, as fast as it can,
/// until `stop`; counts the swaps.
pub fn racer(dirs: Vec<PathBuf>, outside: PathBuf, stop: Arc<AtomicBool>, swaps: Arc<AtomicU64>) {
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let dir = &dirs[i % dirs.len()];
        i += 1;
        let held = dir.with_extension("held");
        let is_dir = fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir());
        if is_dir && fs::rename(dir, &held).is_ok() {
            if symlink(&outside, dir).is_ok() {
                swaps.fetch_add(1, Ordering::Relaxed);
                std::thread::yield_now();
                let _ = fs::remove_file(dir);
            }
            let _ = fs::rename(&held, dir);
        } else if !is_dir && symlink(&outside, dir).is_ok() {
            // Not made yet: a symlink waits for it.
            swaps.fetch_add(1, Ordering::Relaxed);
            std::thread::yield_now();
            if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
                let _ = fs::remove_file(dir);
            }
        }
    }
}
