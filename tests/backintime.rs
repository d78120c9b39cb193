//! Back In Time's own rsync command lines (its `tools.rsyncPrefix`, snapshot,
//! remove and restore calls: `-s`, `--info=progress2 --no-inc-recursive`,
//! `--chmod=Du+wx`, `--link-dest`, `--out-format=BIT-…`, the `rsync -a
//! --delete -s` cleanup), run with arsync installed as `rsync` on a PATH
//! that holds no system rsync, side by side with the real rsync: the same
//! trees (content, modes, times, hard links), the same exit codes, and no
//! hand-over. Back In Time's version check is applied to `rsync --version`
//! as it does it (first line `rsync  version X.Y`, the Capabilities list).
//! Needs rsync as the reference: skipped without it, a failure under CI.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fake PATH directory holding only `rsync` (a link to `tool`).
fn path_with(tool: &Path, dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).expect("bin");
    symlink(tool, bin.join("rsync")).expect("link");
    bin
}

fn rsync(bin: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin.join("rsync"))
        .current_dir(cwd)
        .args(args)
        .env_clear()
        .env("PATH", bin)
        .env("LC_ALL", "C")
        .output()
        .expect("rsync runs")
}

/// Back In Time's `rsyncCaps()`, reduced to what it decides with.
fn bit_caps(version: &str) -> (bool, Vec<String>) {
    let first = version.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("rsync").unwrap_or_default().trim_start();
    let ver = rest
        .strip_prefix("version")
        .unwrap_or_default()
        .trim_start();
    let major_minor: Vec<u32> = ver
        .split('.')
        .take(2)
        .map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter_map(|p| p.parse().ok())
        .collect();
    let progress2 = major_minor.len() == 2 && (major_minor[0], major_minor[1]) >= (3, 1);
    let caps = version
        .split_once("Capabilities:")
        .map(|(_, c)| c.split("\n\n").next().unwrap_or_default())
        .unwrap_or_default()
        .split([',', '\n'])
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    (progress2, caps)
}

/// `rsyncPrefix(config, no_perms=False)` for a local profile with ACLs and
/// xattrs off, then the snapshot arguments.
fn snapshot_args(progress2: bool, link_dest: Option<&str>) -> Vec<String> {
    let mut a: Vec<String> = [
        "--recursive",
        "--times",
        "--devices",
        "--specials",
        "--hard-links",
        "--human-readable",
        "-s",
        "--links",
        "--perms",
        "--executability",
        "--group",
        "--owner",
    ]
    .map(String::from)
    .to_vec();
    if progress2 {
        a.extend(["--info=progress2".into(), "--no-inc-recursive".into()]);
    }
    a.extend(["-i".into(), "--out-format=BIT-%i %n%L".into()]);
    if let Some(l) = link_dest {
        a.push(format!("--link-dest={l}"));
    }
    a.extend(
        [
            "--chmod=Du+wx",
            "--exclude=/snapshots",
            "--exclude=*.tmp",
            "--delete",
            "--delete-excluded",
            "src/",
        ]
        .map(String::from),
    );
    a
}

fn source_v1(root: &Path) {
    let s = root.join("src");
    fs::create_dir_all(s.join("docs/deep")).expect("dirs");
    fs::write(s.join("docs/report with space.txt"), vec![b'r'; 5000]).expect("w");
    fs::write(s.join("docs/deep/leaf"), b"leaf\n").expect("w");
    fs::write(s.join("big.bin"), vec![7u8; 200_000]).expect("w");
    fs::write(s.join("skip.tmp"), b"tmp").expect("w");
    fs::write(s.join("script.sh"), b"#!/bin/sh\n").expect("w");
    fs::set_permissions(s.join("script.sh"), fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::create_dir(s.join("ro")).expect("ro");
    fs::set_permissions(s.join("ro"), fs::Permissions::from_mode(0o555)).expect("chmod");
    fs::hard_link(s.join("big.bin"), s.join("docs/big-link")).expect("ln");
    symlink("docs/deep/leaf", s.join("link")).expect("symlink");
    set_times(&s, 1_600_000_000);
}

fn source_v2(root: &Path) {
    let s = root.join("src");
    fs::write(s.join("docs/deep/leaf"), b"leaf, changed\n").expect("w");
    fs::write(s.join("new file"), b"new\n").expect("w");
    fs::remove_file(s.join("script.sh")).expect("rm");
    set_times(&s, 1_600_100_000);
}

/// Gives every entry under `dir` (not following links) the mtime `t`.
fn set_times(dir: &Path, t: i64) {
    let out = Command::new("find")
        .arg(dir)
        .args(["-exec", "touch", "-h", "-d"])
        .arg(format!("@{t}"))
        .args(["{}", "+"])
        .status()
        .expect("find");
    assert!(out.success());
}

/// One Back In Time sequence with `tool` as `rsync`; returns the trees of
/// the snapshots kept and of the restore, and every exit code.
fn sequence(tool: &Path, root: &Path) -> (BTreeMap<String, String>, Vec<i32>) {
    let bin = path_with(tool, root);
    let ver = rsync(&bin, root, &["--version"]);
    let (progress2, caps) = bit_caps(&String::from_utf8_lossy(&ver.stdout));
    assert!(progress2, "Back In Time must see rsync >= 3.1");
    assert!(caps.iter().any(|c| c == "ACLs") && caps.iter().any(|c| c == "xattrs"));
    source_v1(root);
    let snaps = root.join("snapshots");
    let mut codes = Vec::new();
    for (i, id) in ["20261205-010000-001", "20261205-020000-002"]
        .iter()
        .enumerate()
    {
        if i == 1 {
            source_v2(root);
        }
        let new = snaps.join("new_snapshot/backup");
        fs::create_dir_all(&new).expect("new_snapshot");
        let link = (i == 1).then_some("../../20261205-010000-001/backup");
        let mut args = snapshot_args(progress2, link);
        args.push(format!("{}/", new.display()));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = rsync(&bin, root, &argv);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("rsync:"), "error lines: {err}");
        assert!(!err.contains("handing over"), "{err}");
        codes.push(out.status.code().unwrap_or(-1));
        fs::rename(snaps.join("new_snapshot"), snaps.join(id)).expect("rename");
    }
    // Remove the first snapshot as Back In Time does: sync an empty dir
    // over it with `rsync -a --delete -s`, then remove what is left.
    let empty = root.join("empty");
    fs::create_dir_all(&empty).expect("empty");
    let first = snaps.join("20261205-010000-001");
    let e = format!("{}/", empty.display());
    let f = format!("{}/", first.display());
    codes.push(status(rsync(&bin, root, &["-a", "--delete", "-s", &e, &f])));
    fs::remove_dir(&first).expect("emptied snapshot removed");
    // Restore a file and a directory from the second snapshot.
    let snap = snaps.join("20261205-020000-002/backup");
    let restore = root.join("restore");
    fs::create_dir_all(&restore).expect("restore");
    let from = format!("{}/docs", snap.display());
    let to = format!("{}/", restore.display());
    let mut args = snapshot_args(progress2, None);
    args.retain(|a| !a.starts_with("--delete") && a != "src/" && !a.starts_with("--exclude"));
    args.extend([from, to]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    codes.push(status(rsync(&bin, root, &argv)));
    (tree(root, &["snapshots", "restore"]), codes)
}

fn status(o: Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `relative path → type, mode, mtime, size, content or link, link count`.
fn tree(root: &Path, tops: &[&str]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<PathBuf> = tops.iter().map(|t| root.join(t)).collect();
    while let Some(p) = stack.pop() {
        let m = fs::symlink_metadata(&p).expect("stat");
        let rel = p.strip_prefix(root).expect("below").display().to_string();
        let what = if m.is_dir() {
            for e in fs::read_dir(&p).expect("readdir") {
                stack.push(e.expect("entry").path());
            }
            "dir".to_string()
        } else if m.file_type().is_symlink() {
            format!("link {}", fs::read_link(&p).expect("readlink").display())
        } else {
            format!("file {:x}", fs::read(&p).expect("read").len())
        };
        let mtime = if m.is_dir() { 0 } else { m.mtime() };
        let content = if m.is_file() {
            fs::read(&p).expect("read")
        } else {
            Vec::new()
        };
        out.insert(
            rel,
            format!(
                "{what} {:o} {mtime} {} {:?}",
                m.mode(),
                m.nlink(),
                content.len()
            ),
        );
    }
    out
}

/// harness = false: without rsync the test is reported as ignored, with
/// the reason, rather than passed.
fn main() {
    use libtest_mimic::{Arguments, Completion, Trial};
    let name = "back_in_time_snapshots_with_arsync_as_rsync";
    let trial = Trial::ignorable_test(name, || {
        if Command::new("rsync").arg("--version").output().is_err() {
            assert!(
                std::env::var_os("CI").is_none(),
                "rsync is required under CI"
            );
            return Ok(Completion::ignored_with("rsync is not installed"));
        }
        back_in_time_snapshots_with_arsync_as_rsync();
        Ok(Completion::Completed)
    });
    libtest_mimic::run(&Arguments::from_args(), vec![trial]).exit();
}

fn back_in_time_snapshots_with_arsync_as_rsync() {
    let real = String::from_utf8_lossy(
        &Command::new("sh")
            .args(["-c", "command -v rsync"])
            .output()
            .expect("sh")
            .stdout,
    )
    .trim()
    .to_string();
    let a = tempfile::tempdir().expect("tmp");
    let b = tempfile::tempdir().expect("tmp");
    let (want, want_codes) = sequence(Path::new(&real), a.path());
    // BACKINTIME_TOOL: another binary to try (the test's own check).
    let tool = std::env::var_os("BACKINTIME_TOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_arsync")));
    let (got, got_codes) = sequence(&tool, b.path());
    assert_eq!(got_codes, want_codes, "exit codes");
    assert!(want_codes.iter().all(|&c| c == 0), "{want_codes:?}");
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "{k}");
    }
    assert_eq!(
        got.len(),
        want.len(),
        "extra entries: {:?}",
        got.keys()
            .filter(|k| !want.contains_key(*k))
            .collect::<Vec<_>>()
    );
}
