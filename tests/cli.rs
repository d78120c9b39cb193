//! The command line as a script sees it: the program name in messages,
//! usage errors, refusal of options arsync does not implement, `--help`
//! and `--version`.

use std::path::PathBuf;
use std::process::Command;

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(arsync()).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn messages_use_the_invoked_name() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("rsync");
    std::os::unix::fs::symlink(arsync(), &link).unwrap();
    let out = Command::new(&link)
        .arg("--no-such-option")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rsync: --no-such-option: unknown option\n"),
        "{err}"
    );
    assert!(
        err.contains("rsync error: syntax or usage error (code 1)"),
        "{err}"
    );

    let (code, _, err) = run(&["--no-such-option"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("arsync: --no-such-option: unknown option\n"),
        "{err}"
    );
}

#[test]
fn unimplemented_rsync_options_are_refused_not_ignored() {
    for (opt, msg) in [
        ("-z", "This rsync does not support --compress (-z)\n"),
        ("--fuzzy", "This rsync does not support --fuzzy (-y)\n"),
        ("--list-only", "This rsync does not support --list-only\n"),
    ] {
        let (code, out, err) = run(&["-a", opt, "src/", "dst/"]);
        assert_eq!(code, Some(1), "{opt}");
        assert_eq!(out, "", "{opt}");
        assert!(err.contains(msg), "{opt}: {err}");
    }
}

#[test]
fn help_and_version() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("--archive, -a"), "{out}");
    let (code, out, _) = run(&["-h"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Usage: arsync"));
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, Some(0));
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("arsync  version ") && first.ends_with("protocol version 32"),
        "{first}"
    );
    // No operands: help on stderr, exit 1, as rsync.
    let (code, out, err) = run(&["-a"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert!(err.contains("Usage:"));
}

#[test]
fn remote_paths_are_not_silently_treated_as_local() {
    let (code, _, err) = run(&["-a", "host:/etc/", "/tmp/x/"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("remote"), "{err}");
}
