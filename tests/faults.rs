//! Fault cases that a differential scenario cannot pin down because rsync
//! itself is not deterministic there, or because they need concurrency:
//! DEST inside SRC (the copy never descends into what the run made, the
//! same result every time), two runs racing into one new DEST, list
//! files that never end (bounded memory, SIGTERM honoured), one
//! directory of 200,000 entries, `kill -9` at seeded moments of fresh
//! copies and updates of 200 files and of one 1 GiB file (no corrupt
//! file; a re-run converges and leaves no temp file; with
//! `ARSYNC_FAULT_RSYNC=1` rsync's figures are printed beside as table rows
//! with `--nocapture`), a source truncated or
//! deleted during the copy. (ENOSPC and a read-only destination are
//! scenarios: `compat/scenarios/99b-faults.scn`.)
//!
//! `ARSYNC_FAULT_KILLS` (default 12 for the 200 files, 3 for the 1 GiB
//! file) and `ARSYNC_FAULT_SEED` choose how many kills and when.

use std::path::Path;
use std::process::Command;

fn arsync(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_arsync"))
        .current_dir(cwd)
        .args(args)
        .env("ARSYNC_NO_FALLBACK", "1")
        .output()
        .expect("arsync runs")
}

/// Every path under `dir`, relative and sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).expect("readdir") {
            let e = e.expect("entry");
            let path = e.path();
            out.push(path.strip_prefix(dir).expect("below").display().to_string());
            if e.file_type().expect("type").is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

fn write(p: &Path, data: &str) {
    std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
    std::fs::write(p, data).expect("write");
}

#[test]
fn dest_inside_src_copies_the_source_as_it_was_every_time() {
    // d/ into d/a/b/: the copy is the tree as it was before the run;
    // rsync itself gives this result most of the time (its sender races
    // its receiver) and sometimes another.
    let want = [
        "a",
        "a/b",
        "a/b/a",
        "a/b/a/b",
        "a/b/a/b/c",
        "a/b/a/b/h",
        "a/b/a/g",
        "a/b/c",
        "a/b/f",
        "a/b/h",
        "a/g",
        "f",
    ];
    for _ in 0..20 {
        let t = tempfile::tempdir().expect("tmp");
        let d = t.path().join("d");
        std::fs::create_dir_all(d.join("a/b/c")).expect("dirs");
        write(&d.join("f"), "1");
        write(&d.join("a/g"), "2");
        write(&d.join("a/b/h"), "3");
        let out = arsync(t.path(), &["-a", "d/", "d/a/b/"]);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(listing(&d), want);
    }
}

#[test]
fn two_runs_into_one_new_dest_both_succeed() {
    for _ in 0..10 {
        let t = tempfile::tempdir().expect("tmp");
        for i in 0..200 {
            write(&t.path().join(format!("src/d{}/f{i}", i % 10)), "x");
        }
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_arsync"))
                .current_dir(t.path())
                .args(["-a", "src/", "dst/"])
                .spawn()
                .expect("spawn")
        };
        let (mut a, mut b) = (spawn(), spawn());
        assert!(a.wait().expect("wait").success(), "first run failed");
        assert!(b.wait().expect("wait").success(), "second run failed");
        assert_eq!(
            listing(&t.path().join("dst")),
            listing(&t.path().join("src"))
        );
    }
}

/// Peak resident memory of a running process, in KiB (`VmHWM`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number")
}

/// Sends SIGTERM to `child` and waits for it, which must take under 5 s.
fn terminate(child: std::process::Child) -> std::process::Output {
    let start = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(killed.expect("kill runs").success());
    let out = child.wait_with_output().expect("wait");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "SIGTERM honoured late"
    );
    out
}

/// Runs `arsync ARGS` for a second on a list file that never ends, checks
/// its memory stayed small, sends SIGTERM and returns how it ended.
fn endless_list(args: &[&str]) -> (u64, std::process::ExitStatus, String) {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(&tmp.path().join("tree/a"), "a\n");
    let child = Command::new(env!("CARGO_BIN_EXE_arsync"))
        .current_dir(tmp.path())
        .args(args)
        .args(["tree/", "d/"])
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("arsync runs");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let peak = peak_rss_kib(child.id());
    let out = terminate(child);
    (
        peak,
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Issue 15, item 6: `--files-from=/dev/zero` grew to 24 GB and ignored
/// SIGTERM. rsync stays at a few MB and ends with code 20 on SIGTERM.
#[test]
fn an_endless_files_from_stays_small_and_stops_on_sigterm() {
    for from0 in [false, true] {
        let mut args = vec!["-a", "--files-from=/dev/zero"];
        if from0 {
            args.push("--from0");
        }
        let (peak, status, stderr) = endless_list(&args);
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB with {args:?}");
        assert_eq!(status.code(), Some(20), "{args:?}: {stderr}");
        assert!(
            stderr.contains("received SIGINT, SIGTERM, or SIGHUP (code 20)"),
            "{stderr}"
        );
    }
}

/// `--exclude-from=/dev/zero` reached 5.4 GB in 5 s; rsync reads it in a
/// fixed buffer until a signal ends the run.
#[test]
fn an_endless_exclude_from_stays_small() {
    let (peak, status, _) = endless_list(&["-a", "--exclude-from=/dev/zero"]);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    assert!(!status.success());
}

/// With `--from0`, `/dev/zero` is an endless run of empty records: they
/// were kept one byte each (for rsync's line numbers) and a rule file of
/// them grew by 400 MB a second. rsync stays at 4 MB until the signal.
#[test]
fn an_endless_nul_rule_file_stays_small() {
    for rule in [
        "--exclude-from=/dev/zero",
        "--include-from=/dev/zero",
        "--filter=merge /dev/zero",
        "--filter=. /dev/zero",
    ] {
        let (peak, status, stderr) = endless_list(&["-a", "--from0", rule]);
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB with {rule}");
        // rsync reads rule files before its signal handlers exist, so
        // SIGTERM's default action ends it; the same here.
        assert!(!status.success(), "{rule}: {stderr}");
    }
}

/// Ctrl-C while `--files-from=-` waits for input was ignored until the
/// input ended: a signal is honoured at any moment of the read.
#[test]
fn a_files_from_stdin_that_waits_stops_on_sigterm() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(&tmp.path().join("tree/a"), "a\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_arsync"))
        .current_dir(tmp.path())
        .args(["-a", "--files-from=-", "tree/", "d/"])
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("arsync runs");
    // The input stays open (as a terminal would) and never ends.
    let mut input = child.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut input, b"a\n").expect("write");
    // Closed after 10 s, so a run that ignores the signal fails, not hangs.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(10));
        drop(input);
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    let out = terminate(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(20), "{stderr}");
    assert!(
        !tmp.path().join("d").exists(),
        "nothing copied from a list never finished"
    );
}

/// Issue 15, item 7: one directory of 200,000 entries is copied whole, and
/// a second run finds nothing to do.
#[test]
fn a_directory_of_200k_entries_is_copied_whole() {
    const N: usize = 200_000;
    let tmp = tempfile::tempdir().expect("tempdir");
    let big = tmp.path().join("src/big");
    std::fs::create_dir_all(&big).expect("mkdir");
    for i in 0..N {
        let name = big.join(format!("f{i:06}"));
        std::fs::write(&name, if i % 1000 == 0 { "x" } else { "" }).expect("create");
    }
    let first = arsync(tmp.path(), &["-a", "src/", "dst/"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut names: Vec<_> = std::fs::read_dir(tmp.path().join("dst/big"))
        .expect("readdir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    names.sort();
    assert_eq!(names.len(), N);
    assert!(
        names
            .iter()
            .enumerate()
            .all(|(i, n)| *n == *format!("f{i:06}"))
    );
    let again = arsync(tmp.path(), &["-ai", "src/", "dst/"]);
    assert!(again.status.success());
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "",
        "a second run changes nothing"
    );
}

/// A small xorshift generator: the kill moments are random but repeatable
/// (`ARSYNC_FAULT_SEED` picks another sequence).
struct Seeded(u64);

impl Seeded {
    fn from_env() -> Seeded {
        let seed = std::env::var("ARSYNC_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5EED_F00D_u64);
        eprintln!("kill moments: ARSYNC_FAULT_SEED={seed}");
        Seeded(seed | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// How many kills each case makes (`ARSYNC_FAULT_KILLS` for more).
fn kills() -> usize {
    std::env::var("ARSYNC_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

/// `n` files of `size` bytes of noise in `dir`, named `f0`, `f1`, ….
fn noise_files(dir: &Path, n: usize, size: usize, rng: &mut Seeded) {
    std::fs::create_dir_all(dir).expect("dir");
    for i in 0..n {
        let data: Vec<u8> = (0..size).map(|_| rng.below(256) as u8).collect();
        std::fs::write(dir.join(format!("f{i}")), data).expect("write");
    }
}

/// Names in `dir` that are not final names (`f<N>`): temp files.
fn temps_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("readdir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !(n.starts_with('f') && n[1..].parse::<u32>().is_ok()))
        .collect();
    v.sort();
    v
}

/// Final names in `dst` whose content is neither the source's nor what
/// was there before (`old`): files a kill corrupted.
fn corrupt_in(src: &Path, dst: &Path, old: &dyn Fn(&str) -> Option<Vec<u8>>) -> Vec<String> {
    let mut bad = Vec::new();
    for e in std::fs::read_dir(src).expect("readdir") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        let Ok(now) = std::fs::read(dst.join(&name)) else {
            continue;
        };
        let new = std::fs::read(src.join(&name)).expect("source");
        if now != new && Some(&now) != old(&name).as_ref() {
            bad.push(name);
        }
    }
    bad
}

/// Whether every file of `src` is in `dst` with the same content.
fn holds_source(src: &Path, dst: &Path) -> bool {
    std::fs::read_dir(src).expect("readdir").all(|e| {
        let name = e.expect("entry").file_name();
        std::fs::read(dst.join(&name)).ok() == std::fs::read(src.join(&name)).ok()
    })
}

/// `PROG OPTS SRC/ DST/` with the hand-over off.
fn copy_cmd(prog: &str, opts: &[&str], src: &Path, dst: &Path) -> Command {
    let mut c = Command::new(prog);
    c.args(opts)
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .env("ARSYNC_NO_FALLBACK", "1");
    c
}

/// Starts `PROG OPTS src/ dst/` and SIGKILLs it after a seeded moment (its
/// whole process group: rsync's receiver is a process of its own); the
/// moments spread over the copy's first `window_ms`. Returns whether the
/// kill caught it writing a file in `dst`.
fn run_and_kill(
    prog: &str,
    opts: &[&str],
    src: &Path,
    dst: &Path,
    rng: &mut Seeded,
    window_ms: u64,
) -> bool {
    use std::os::unix::process::CommandExt;
    let mut child = copy_cmd(prog, opts, src, dst)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(2 + rng.below(window_ms)));
    let writing = writing_into(child.id(), dst);
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
    // rsync's other processes are not our children: wait until they are
    // gone (they were killed, so this is short).
    while Command::new("kill")
        .args(["-0", "--", &group])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    writing
}

/// Whether process `pid` has a file in `dst` open, named or unnamed
/// (`O_TMPFILE`): it is writing there. (rsync writes from a process of
/// its own, which this does not look at.)
fn writing_into(pid: u32, dst: &Path) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .any(|t| t.starts_with(dst) && t != dst)
}

/// Names of rsync's temp-file shape for synced files, not made by arsync.
const FOREIGN: [&str; 3] = [".f0.Rsync1", ".f1.BACKUP", ".f2.a1b2c3"];

/// What the kills of one case left: corrupt files and temp files right
/// after the kills, temp files after a complete re-run, and its exit code.
#[derive(Debug)]
struct KillResult {
    kills: usize,
    /// Kills after which DEST did not yet hold the source: they stopped
    /// the copy before it was done.
    interrupted: usize,
    /// Kills that caught arsync with a file in DEST open (rsync writes
    /// from another process: not counted).
    writing: usize,
    corrupt: usize,
    temps_after_kills: usize,
    temps_after_rerun: usize,
    rerun_exit: Option<i32>,
    converged: bool,
}

/// Kills `prog` during copies of 200 files into `dst` (`update`: holding
/// old versions of them) at seeded moments, then lets it finish.
fn kill_during(prog: &str, update: bool) -> KillResult {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let mut rng = Seeded::from_env();
    noise_files(&src, 200, 256 * 1024, &mut rng);
    std::fs::create_dir_all(&dst).expect("dst");
    let old = |name: &str| update.then(|| format!("old {name}").into_bytes());
    let (mut corrupt, mut temps, mut interrupted, mut writing) = (0, 0, 0, 0);
    for _ in 0..kills() {
        // Each round starts from the old state, so each kill lands
        // somewhere in a full copy.
        for e in std::fs::read_dir(&src).expect("readdir") {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            match old(&name) {
                Some(content) => std::fs::write(dst.join(&name), content).expect("old"),
                None => drop(std::fs::remove_file(dst.join(&name))),
            }
        }
        writing += usize::from(run_and_kill(prog, &["-a"], &src, &dst, &mut rng, 120));
        corrupt += corrupt_in(&src, &dst, &old).len();
        interrupted += usize::from(!holds_source(&src, &dst));
        temps = temps_in(&dst).len();
    }
    // Files of temp files' shape that arsync did not make (rsync's, or a
    // user's) must stay.
    for n in FOREIGN {
        std::fs::write(dst.join(n), b"not arsync's").expect("foreign");
    }
    // A temp file of a killed run is stale once no run could still be
    // writing it: two seconds after it last changed.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let out = copy_cmd(prog, &["-a"], &src, &dst)
        .output()
        .expect("re-run");
    let left = temps_in(&dst);
    for n in FOREIGN {
        assert!(left.iter().any(|l| l == n), "{n} was removed");
    }
    KillResult {
        kills: kills(),
        interrupted,
        writing,
        corrupt,
        temps_after_kills: temps,
        temps_after_rerun: left.len() - FOREIGN.len(),
        rerun_exit: out.status.code(),
        converged: holds_source(&src, &dst),
    }
}

/// rsync's figures for the same case, for the record (`--nocapture`),
/// when `ARSYNC_FAULT_RSYNC=1` asks (they assert nothing, and cost half
/// of the suite's time).
fn rsync_for_the_record(what: &str, update: bool, case: &dyn Fn(&str, bool) -> KillResult) {
    if std::env::var_os("ARSYNC_FAULT_RSYNC").is_none() {
        eprintln!("rsync's figures: set ARSYNC_FAULT_RSYNC=1");
        return;
    }
    if Command::new("rsync").arg("--version").output().is_err() {
        eprintln!("rsync not installed: no reference figures");
        return;
    }
    eprintln!("{}", case("rsync", update).row("rsync", what, update));
}

impl KillResult {
    /// The figures as a row of the table (`--nocapture` shows it):
    /// case, tool, kills, kills that stopped the copy (of them, caught
    /// writing), corrupt files, temp files after the kills and after the
    /// re-run, the re-run's exit.
    fn row(&self, tool: &str, what: &str, update: bool) -> String {
        let case = if update { "update" } else { "fresh" };
        format!(
            "| {what} {case} | {tool} | {} | {} ({}) | {} | {} | {} | {:?}{} |",
            self.kills,
            self.interrupted,
            self.writing,
            self.corrupt,
            self.temps_after_kills,
            self.temps_after_rerun,
            self.rerun_exit,
            if self.converged { "" } else { " NOT CONVERGED" },
        )
    }
}

#[test]
fn kill_9_during_updates_leaves_no_corrupt_file_and_a_rerun_leaves_no_temp_file() {
    let r = kill_during(env!("CARGO_BIN_EXE_arsync"), true);
    eprintln!("{}", r.row("arsync", "200 files", true));
    assert_eq!(r.corrupt, 0, "{r:?}");
    assert_eq!(r.rerun_exit, Some(0), "{r:?}");
    assert!(r.converged, "{r:?}");
    assert_eq!(r.temps_after_rerun, 0, "{r:?}");
    rsync_for_the_record("200 files", true, &kill_during);
}

#[test]
fn kill_9_during_fresh_copies_leaves_nothing_partial() {
    let r = kill_during(env!("CARGO_BIN_EXE_arsync"), false);
    eprintln!("{}", r.row("arsync", "200 files", false));
    assert_eq!(r.corrupt, 0, "{r:?}");
    assert_eq!(r.temps_after_kills, 0, "unnamed files leave nothing: {r:?}");
    assert_eq!(r.rerun_exit, Some(0), "{r:?}");
    assert!(r.converged, "{r:?}");
    rsync_for_the_record("200 files", false, &kill_during);
}

/// How many kills the 1 GiB case makes (`ARSYNC_FAULT_KILLS` for more).
fn big_kills() -> usize {
    std::env::var("ARSYNC_FAULT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
}

/// 1 GiB of noise in which every MiB differs: one random MiB whose first
/// bytes hold the MiB's index, so a lost or misplaced piece shows. Not
/// sparse, and checked against the pattern, not another file.
const BIG_MIB: u64 = 1024;

/// The random MiB of a [`BIG_MIB`] file, with MiB `i`'s index in place.
fn noise_mib(block: &mut [u8], i: u64) -> &[u8] {
    block[..8].copy_from_slice(&i.to_le_bytes());
    block
}

/// Writes the big file of `block`'s pattern to `path`.
fn big_noise(path: &Path, mut block: Vec<u8>) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("create");
    for i in 0..BIG_MIB {
        f.write_all(noise_mib(&mut block, i)).expect("write");
    }
}

/// Whether `path` holds the big file of `block`'s pattern (a missing file
/// does not); stops at the first MiB that differs.
fn is_noise(path: &Path, block: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    if f.metadata().expect("stat").len() != BIG_MIB << 20 {
        return false;
    }
    let (mut want, mut got) = (block.to_vec(), vec![0u8; block.len()]);
    (0..BIG_MIB).all(|i| {
        f.read_exact(&mut got).expect("read");
        got == noise_mib(&mut want, i)
    })
}

/// Writes dirty pages out, so that one round's writeback does not
/// throttle the next (1 GiB copies back to back slow down 8× here).
fn sync() {
    assert!(Command::new("sync").status().expect("sync").success());
}

/// How long `PROG -a` takes to copy `src/` into a new directory of
/// `base`, in ms (the faster of two runs; the first one pays for page
/// cache the VM has not yet handed out): the window the kill moments
/// spread over.
fn full_copy_ms(prog: &str, src: &Path, base: &Path) -> u64 {
    eprintln!("timing {prog} on a complete copy");
    let cal = base.join("cal");
    let mut best = u64::MAX;
    for _ in 0..2 {
        let start = std::time::Instant::now();
        let out = copy_cmd(prog, &["-a"], src, &cal).output().expect("copy");
        best = best.min(start.elapsed().as_millis() as u64);
        assert!(out.status.success(), "{out:?}");
        std::fs::remove_dir_all(&cal).expect("remove the copy");
        sync();
    }
    best.max(20)
}

/// The sources of the 1 GiB case, made once for every tool and case:
/// `src/f0`, and `old/f0`, an older version (other bytes, a day older);
/// the patterns of both, and each tool's copy time.
struct Big {
    tmp: tempfile::TempDir,
    src: std::path::PathBuf,
    old: std::path::PathBuf,
    new_mib: Vec<u8>,
    old_mib: Vec<u8>,
    windows: std::cell::RefCell<Vec<(String, u64)>>,
}

impl Big {
    fn new() -> Big {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (src, old) = (tmp.path().join("src"), tmp.path().join("old"));
        for d in [&src, &old] {
            std::fs::create_dir_all(d).expect("dir");
        }
        let mut rng = Seeded::from_env();
        let mut mib = || -> Vec<u8> { (0..1 << 20).map(|_| rng.below(256) as u8).collect() };
        let (new_mib, old_mib) = (mib(), mib());
        big_noise(&src.join("f0"), new_mib.clone());
        big_noise(&old.join("f0"), old_mib.clone());
        let day_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(86400);
        let f = std::fs::File::options().write(true).open(old.join("f0"));
        f.and_then(|f| f.set_modified(day_ago)).expect("mtime");
        sync();
        let windows = Default::default();
        Big {
            tmp,
            src,
            old,
            new_mib,
            old_mib,
            windows,
        }
    }

    /// How long `prog` takes for a complete copy, timed once.
    fn window(&self, prog: &str) -> u64 {
        if let Some((_, ms)) = self.windows.borrow().iter().find(|w| w.0 == prog) {
            return *ms;
        }
        let ms = full_copy_ms(prog, &self.src, self.tmp.path());
        self.windows.borrow_mut().push((prog.to_string(), ms));
        ms
    }
}

/// Kills `prog` at seeded moments of copies of one 1 GiB file of noise
/// into an empty DEST, or (`update`) over an older 1 GiB version of it;
/// then lets it finish. arsync's odd rounds use `--copy-engine=vec`
/// (reads and writes through user space) instead of the default.
fn kill_big(big: &Big, prog: &str, update: bool) -> KillResult {
    let (src, old) = (&big.src, &big.old);
    let dst = big.tmp.path().join("dst");
    std::fs::create_dir_all(&dst).expect("dst");
    let mut rng = Seeded::from_env();
    let window = big.window(prog);
    let arsync = prog == env!("CARGO_BIN_EXE_arsync");
    let (mut corrupt, mut temps, mut interrupted, mut writing) = (0, 0, 0, 0);
    for round in 0..big_kills() {
        // Each round starts from the old state: the old version is a hard
        // link to a copy kept aside (both tools replace by rename, so
        // that copy stays as it is), which costs no 1 GiB write.
        let now = dst.join("f0");
        drop(std::fs::remove_file(&now));
        if update {
            std::fs::hard_link(old.join("f0"), &now).expect("link");
        }
        let opts: &[&str] = match arsync && round % 2 == 1 {
            true => &["-a", "--copy-engine=vec"],
            false => &["-a"],
        };
        writing += usize::from(run_and_kill(prog, opts, src, &dst, &mut rng, window));
        if !is_noise(&now, &big.new_mib) {
            interrupted += 1;
            // (The old version checked against its pattern: a tool that
            // wrote through the link would have changed it.)
            let intact = match update {
                true => is_noise(&now, &big.old_mib),
                false => !now.exists(),
            };
            corrupt += usize::from(!intact);
        }
        temps = temps_in(&dst).len();
        sync();
    }
    if temps > 0 {
        // Temp files of a killed run are stale 2 s after they last changed.
        std::thread::sleep(std::time::Duration::from_millis(2100));
    }
    let out = copy_cmd(prog, &["-a"], src, &dst).output().expect("re-run");
    let r = KillResult {
        kills: big_kills(),
        interrupted,
        writing,
        corrupt,
        temps_after_kills: temps,
        temps_after_rerun: temps_in(&dst).len(),
        rerun_exit: out.status.code(),
        converged: is_noise(&dst.join("f0"), &big.new_mib),
    };
    // The next case starts clean, without this one's gigabytes to write.
    std::fs::remove_dir_all(&dst).expect("remove the copy");
    sync();
    r
}

/// Issue 15: kill -9 at seeded moments of a 1 GiB copy, fresh and over
/// an older version: the final name holds the old content or the new,
/// never a part; nothing is left beside it; a re-run converges.
#[test]
fn kill_9_during_a_1gib_copy_or_update_never_leaves_a_partial_file() {
    let big = Big::new();
    for update in [false, true] {
        let r = kill_big(&big, env!("CARGO_BIN_EXE_arsync"), update);
        eprintln!("{}", r.row("arsync", "1 GiB", update));
        assert_eq!(r.corrupt, 0, "{r:?}");
        assert!(r.writing > 0, "no kill caught the copy writing: {r:?}");
        assert_eq!(r.rerun_exit, Some(0), "{r:?}");
        assert!(r.converged, "{r:?}");
        assert_eq!(r.temps_after_rerun, 0, "{r:?}");
        if !update {
            assert_eq!(r.temps_after_kills, 0, "unnamed file left: {r:?}");
        }
        rsync_for_the_record("1 GiB", update, &|prog, update| {
            kill_big(&big, prog, update)
        });
    }
}

/// Exit code, stdout and stderr lines, and the destination file's length
/// and whether it is the source's content.
type Ended = (Option<i32>, Vec<String>, Vec<String>, Option<(u64, bool)>);

/// What `PROG -av --bwlimit=20m src/ dst/` did with a 64 MiB source
/// truncated to 1 MiB half a second into the copy: exit code, stdout and
/// stderr lines (byte counts and the tool's name masked), and the
/// destination file's length and whether it is the source's content now.
fn truncated_during_copy(prog: &str) -> Ended {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let mut rng = Seeded(7);
    std::fs::create_dir_all(&src).expect("src");
    let block: Vec<u8> = (0..1 << 20).map(|_| rng.below(256) as u8).collect();
    let big = src.join("f.bin");
    let data: Vec<u8> = (0..64).flat_map(|_| block.iter().copied()).collect();
    std::fs::write(&big, data).expect("write");
    let child = copy_cmd(prog, &["-av", "--bwlimit=20m"], &src, &dst)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .and_then(|f| f.set_len(1 << 20))
        .expect("truncate");
    let out = child.wait_with_output().expect("wait");
    let mask = |b: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(b)
            .lines()
            .filter(|l| !l.starts_with("sent ") && !l.starts_with("total size"))
            .filter(|l| !l.ends_with("write error: Broken pipe (32)"))
            .map(|l| l.replacen("arsync", "rsync", 1))
            .map(|l| l.replace(&tmp.path().display().to_string(), "TMP"))
            .map(|l| match l.split_once(" at ") {
                Some((head, _)) if l.contains(" error: ") => head.to_string(),
                _ => l,
            })
            .collect()
    };
    let now = std::fs::read(&big).expect("source");
    let copied = std::fs::read(dst.join("f.bin"))
        .ok()
        .map(|d| (d.len() as u64, d == now));
    (
        out.status.code(),
        mask(&out.stdout),
        mask(&out.stderr),
        copied,
    )
}

#[test]
fn a_source_truncated_during_the_copy_is_sent_again_as_it_is_now() {
    let ours = truncated_during_copy(env!("CARGO_BIN_EXE_arsync"));
    eprintln!("arsync: {ours:?}");
    // Never the old length, nor a mix: the file as it is now, exit 23.
    assert_eq!(ours.0, Some(23), "{ours:?}");
    assert_eq!(ours.3, Some((1 << 20, true)), "{ours:?}");
    assert!(
        ours.2.iter().any(|l| l.contains("read errors mapping")),
        "{ours:?}"
    );
    if Command::new("rsync").arg("--version").output().is_err() {
        eprintln!("skipped: the comparison with rsync (not installed)");
        return;
    }
    let theirs = truncated_during_copy("rsync");
    eprintln!("rsync: {theirs:?}");
    assert_eq!(ours, theirs);
}

#[test]
fn files_deleted_during_the_run_are_reported_as_vanished_on_stderr() {
    // 64 MiB and 200 files of 100 KiB at 20 MB/s: most files are still
    // to come when they are deleted, 300 ms in.
    let tmp = tempfile::tempdir().expect("tempdir");
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let mut rng = Seeded(11);
    noise_files(&src.join("a"), 1, 64 << 20, &mut rng);
    noise_files(&src.join("b"), 200, 100 << 10, &mut rng);
    let arsync = env!("CARGO_BIN_EXE_arsync");
    let child = copy_cmd(arsync, &["-a", "--bwlimit=20m"], &src, &dst)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::fs::remove_dir_all(src.join("b")).expect("delete");
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let vanished = stderr.matches("file has vanished: ").count();
    assert!(!stdout.contains("vanished"), "on stdout: {stdout}");
    assert!(
        vanished > 0,
        "none vanished (the copy was too fast?): {stderr}"
    );
    assert_eq!(out.status.code(), Some(24), "{stderr}");
    assert!(
        stderr.contains("some files vanished before they could be transferred (code 24)"),
        "{stderr}"
    );
}
