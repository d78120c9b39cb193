//! No data is lost when a copy is interrupted: SIGINT/SIGTERM exit with
//! code 20 and remove temporary files, and a normal update never writes
//! through a hard link to the old file (backup snapshots made with
//! `cp -al` rely on that). `kill -9` at seeded moments of a 1 GiB copy and
//! update is in `tests/faults.rs`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

/// A file big enough that copying it takes a while, written quickly
/// (a repeated random block).
fn big_file(path: &Path, mib: usize) {
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let mut f = fs::File::create(path).unwrap();
    for i in 0..mib {
        block[0] = i as u8;
        f.write_all(&block).unwrap();
    }
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|it| {
            it.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(".big."))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` is writing a file in `dst`: a named `.big.XXXXXX` temp
/// file, or an unnamed (O_TMPFILE) one, visible in /proc as an open
/// descriptor into `dst`.
fn writing_into(pid: u32, dst: &Path) -> bool {
    if !temp_files(dst).is_empty() {
        return true;
    }
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(Result::ok)
        .filter_map(|e| fs::read_link(e.path()).ok())
        .any(|t| t.starts_with(dst) && t != dst)
}

/// Starts a copy of `src/big` into `dst/` and waits until it is writing
/// the destination file (the copy is under way).
fn start_copy(src: &Path, dst: &Path, extra: &[&str]) -> Option<Child> {
    let child = Command::new(arsync())
        .args(["-a", "--copy-engine=vec"])
        .args(extra)
        .arg(src.join("big"))
        .arg(format!("{}/", dst.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if writing_into(child.id(), dst) {
            return Some(child);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut child = child;
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn interrupt_with(
    signal: i32,
    extra: &[&str],
) -> (std::process::ExitStatus, String, PathBuf, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&dst).unwrap();
    big_file(&src.join("big"), 768);
    let child = start_copy(&src, &dst, extra).expect("copy in progress");
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&child),
        rustix::process::Signal::from_named_raw(signal).unwrap(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dst,
        tmp,
    )
}

#[test]
fn sigint_and_sigterm_exit_20_and_remove_temp_files() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let (status, stderr, dst, _tmp) = interrupt_with(sig, &[]);
        assert_eq!(status.code(), Some(20), "signal {sig}: {stderr}");
        assert!(
            stderr.contains("received SIGINT, SIGTERM, or SIGHUP (code 20)"),
            "signal {sig}: {stderr}"
        );
        assert!(temp_files(&dst).is_empty(), "signal {sig}: temp file left");
        assert!(!dst.join("big").exists(), "signal {sig}: partial file kept");
    }
}

#[test]
fn partial_keeps_the_partial_file_on_interrupt() {
    let (status, stderr, dst, _tmp) = interrupt_with(libc::SIGINT, &["--partial"]);
    assert_eq!(status.code(), Some(20), "{stderr}");
    assert!(temp_files(&dst).is_empty());
    let kept = fs::metadata(dst.join("big")).expect("--partial keeps the partial file");
    assert!(kept.len() < 768 << 20, "the kept file is the partial one");
}

#[test]
fn update_replaces_by_rename_so_hard_links_keep_old_content() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let dst = tmp.path().join("dst");
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::write(src.join("f"), b"new content, longer").unwrap();
    fs::write(dst.join("f"), b"old").unwrap();
    fs::hard_link(dst.join("f"), tmp.path().join("snapshot")).unwrap();
    let ino_before = fs::metadata(dst.join("f")).unwrap().ino();
    let st = Command::new(arsync())
        .arg("-a")
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(fs::read(tmp.path().join("snapshot")).unwrap(), b"old");
    assert_eq!(fs::read(dst.join("f")).unwrap(), b"new content, longer");
    assert_ne!(fs::metadata(dst.join("f")).unwrap().ino(), ino_before);
}

/// `--append` with a basis-dir file shorter than the source: the new file
/// holds the whole source (rsync 3.5 writes only the bytes past the
/// basis's length there, leaving NULs before them — see
/// `compat/scenarios/99c-generated.scn`, gen8278).
#[test]
fn append_over_a_shorter_basis_dir_file_writes_the_whole_file() {
    let t = tempfile::tempdir().unwrap();
    let (src, base) = (t.path().join("src"), t.path().join("ref"));
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&base).unwrap();
    fs::write(src.join("y"), b"data:src/y\ndata:src/").unwrap();
    fs::write(base.join("y"), b"data:").unwrap();
    for kind in ["compare", "link", "copy"] {
        let dst = t.path().join(format!("dst-{kind}"));
        let st = Command::new(arsync())
            .arg("-a")
            .arg("--append")
            .arg(format!("--{kind}-dest={}", base.display()))
            .arg(format!("{}/", src.display()))
            .arg(&dst)
            .status()
            .unwrap();
        assert!(st.success(), "{kind}");
        assert_eq!(
            fs::read(dst.join("y")).unwrap(),
            b"data:src/y\ndata:src/",
            "{kind}"
        );
    }
}

/// `--confine-root=ROOT` with DEST and `--backup-dir` both outside ROOT:
/// rsync 3.5 replaces the file without making its backup (exit 0: the old
/// version is lost); arsync refuses the backup and keeps the old file
/// (exit 11, rsync's code when its receiver cannot make a backup), and
/// writes nothing outside ROOT.
#[test]
fn a_backup_refused_by_confine_root_keeps_the_old_file() {
    let t = tempfile::tempdir().unwrap();
    let (src, dst, root) = (
        t.path().join("s"),
        t.path().join("d"),
        t.path().join("root"),
    );
    for d in [&src, &dst, &root] {
        fs::create_dir_all(d).unwrap();
    }
    fs::write(src.join("f"), b"new").unwrap();
    fs::write(dst.join("f"), b"old, longer").unwrap();
    let bk = t.path().join("bk");
    let out = Command::new(arsync())
        .args(["-a", "-b"])
        .arg(format!("--backup-dir={}", bk.display()))
        .arg(format!("--confine-root={}", root.display()))
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .env("ARSYNC_NO_FALLBACK", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11), "{out:?}");
    assert_eq!(fs::read(dst.join("f")).unwrap(), b"old, longer");
    assert!(!bk.exists(), "nothing is made outside the root");
    let names: Vec<_> = fs::read_dir(&dst)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"], "no temp file is left beside it");
}

/// `--iconv` with a wide REMOTE charset: rsync 3.5 cuts each UTF-16 name at
/// its first NUL byte, so `abc` and `abd` both land as `\xff\xfea` (one
/// overwrites the other), `.` makes a directory `\xff\xfe.`, and it exits
/// 0; with UTF-7 it drops the end of each name, so `café` and `cafè` both
/// land as `caf+AO`. arsync writes no name that is not the exact
/// conversion: UTF-16 names with NUL bytes are each reported and left out
/// (exit 23), UTF-7 names are whole, so every source name survives or is
/// reported (`compat/scenarios/36-iconv.scn` says why the runner cannot
/// compare these with rsync).
#[test]
fn wide_iconv_charsets_lose_no_name() {
    use std::os::unix::ffi::OsStrExt;
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let names = ["abc", "abd", "café", "cafè", "中"];
    for (i, n) in names.iter().enumerate() {
        fs::write(src.join(n), vec![b'x'; i + 1]).unwrap();
    }
    let run = |spec: &str, dst: &Path| {
        Command::new(arsync())
            .env("LC_ALL", "C")
            .env("ARSYNC_NO_FALLBACK", "1")
            .arg("-a")
            .arg(format!("--iconv={spec}"))
            .arg(format!("{}/", src.display()))
            .arg(dst)
            .output()
            .unwrap()
    };
    let listing = |dst: &Path| {
        let mut v: Vec<Vec<u8>> = fs::read_dir(dst)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_encoded_bytes())
            .collect();
        v.sort();
        v
    };

    let d16 = t.path().join("d16");
    let out = run("utf-8,utf-16", &d16);
    assert_eq!(out.status.code(), Some(23));
    // Readable messages (rsync's would be UTF-16 too).
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains('\0'), "{err}");
    for n in ["abc", "abd", "caf\\#303\\#251", "caf\\#303\\#250"] {
        let line = format!("[Receiver] cannot convert filename: {n} (");
        assert!(err.contains(&line), "{n}: {err}");
    }
    // Only the name UTF-16 can give a file (a byte-order mark, then U+4E2D).
    let zhong = b"\xff\xfe\x2d\x4e";
    assert_eq!(listing(&d16), [zhong.to_vec()]);
    let zhong = std::ffi::OsStr::from_bytes(zhong);
    assert_eq!(fs::read(d16.join(zhong)).unwrap(), b"xxxxx");

    let d7 = t.path().join("d7");
    let out = run("utf-8,utf-7", &d7);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    let want = ["abc", "abd", "caf+AOk-", "caf+AOg-", "+Ti0-"];
    let mut sorted: Vec<Vec<u8>> = want.iter().map(|n| n.as_bytes().to_vec()).collect();
    sorted.sort();
    assert_eq!(listing(&d7), sorted);
    for (i, n) in want.iter().enumerate() {
        assert_eq!(fs::read(d7.join(n)).unwrap(), vec![b'x'; i + 1], "{n}");
    }
}

/// Runs `arsync ARGS SRC/ DST/` (stderr kept), failing the test if it has
/// not ended within 60 s: for trees on which rsync 3.5 never ends.
fn run_within_60s(args: &[&str], src: &Path, dst: &Path) -> std::process::Output {
    let mut child = Command::new(arsync())
        .args(args)
        .arg(format!("{}/", src.display()))
        .arg(format!("{}/", dst.display()))
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("arsync did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `-H` where the first member's place in DEST is a directory that is not
/// empty: rsync 3.5 says `could not make way for new regular file` twice
/// and then waits forever (its other members wait for a leader that never
/// comes; found by the generative tester, seed 25962). arsync ends: the
/// group is copied to its next member, the rest linked to it, the
/// directory and its contents kept, exit 23.
#[test]
fn a_hard_link_group_whose_first_place_is_a_directory_does_not_hang() {
    let t = tempfile::tempdir().unwrap();
    let (src, dst) = (t.path().join("src"), t.path().join("dst"));
    for d in ["d", "e"] {
        fs::create_dir_all(src.join(d)).unwrap();
    }
    fs::write(src.join("d/f"), b"data").unwrap();
    fs::hard_link(src.join("d/f"), src.join("d/g")).unwrap();
    fs::hard_link(src.join("d/f"), src.join("e/h")).unwrap();
    fs::create_dir_all(dst.join("d/f/inner")).unwrap();
    fs::write(dst.join("d/f/inner/y"), b"keep").unwrap();
    let out = run_within_60s(&["-aH"], &src, &dst);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(23), "{err}");
    assert!(
        err.contains("could not make way for new regular file: d/f"),
        "{err}"
    );
    assert_eq!(fs::read(dst.join("d/f/inner/y")).unwrap(), b"keep");
    let (g, h) = (dst.join("d/g"), dst.join("e/h"));
    assert_eq!(fs::read(&g).unwrap(), b"data");
    let ino = |p: &Path| fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&g), ino(&h), "the other members are one file");
}

/// rsync 3.5 hangs (generator and receiver both waiting) on `-aH
/// --compare-dest` when a group's first member is unchanged in the
/// compare dir and a later one is new: it links the first and never
/// ends. arsync links it, as rsync does before hanging, and exits 0.
#[test]
fn a_hard_link_group_matched_in_compare_dest_does_not_hang() {
    let t = tempfile::tempdir().unwrap();
    let (src, refd, dst) = (
        t.path().join("src"),
        t.path().join("ref"),
        t.path().join("dst"),
    );
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&refd).unwrap();
    fs::write(src.join("s"), b"hello").unwrap();
    fs::hard_link(src.join("s"), src.join("d")).unwrap();
    let status = Command::new("cp")
        .args(["-a"])
        .arg(src.join("d"))
        .arg(refd.join("d"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = run_within_60s(&["-aH", "--compare-dest=../ref"], &src, &dst);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ino = |p: &Path| fs::metadata(p).unwrap().ino();
    assert_eq!(ino(&dst.join("d")), ino(&dst.join("s")), "d is linked to s");
}
