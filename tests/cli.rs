//! The command line as a script sees it: the program name in messages,
//! usage errors, refusal of options arsync does not implement, `--help`
//! and `--version`.

use std::path::PathBuf;
use std::process::Command;

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    run_env(args, &[("ARSYNC_NO_FALLBACK", "1".as_ref())])
}

fn run_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (Option<i32>, String, String) {
    // An empty working directory: a command line that is accepted after
    // all must not copy anything into the repository.
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(arsync());
    cmd.current_dir(cwd.path())
        .args(args)
        .env_remove("ARSYNC_NO_FALLBACK");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
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
        .env("ARSYNC_NO_FALLBACK", "1")
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
        (
            "--write-batch=b",
            "This rsync does not support --write-batch\n",
        ),
        (
            "--read-batch=b",
            "This rsync does not support --read-batch\n",
        ),
    ] {
        let (code, out, err) = run(&["-a", opt, "src/", "dst/"]);
        assert_eq!(code, Some(1), "{opt}");
        assert_eq!(out, "", "{opt}");
        assert!(err.contains(msg), "{opt}: {err}");
    }
}

/// `--protocol` 20–32 run natively, `-H` and a converting `--iconv`
/// included; other values are refused natively.
#[test]
fn old_protocols_run_natively() {
    for p in [
        "--protocol=28",
        "--protocol=20",
        "--protocol=0x1c",
        "--protocol=29",
    ] {
        for opt in ["-H", "--iconv=latin1,utf8"] {
            let (code, _, err) = run(&["-a", opt, p, "src/", "dst/"]);
            assert_ne!(code, Some(1), "{p} {opt}: {err}");
            assert!(!err.contains("does not support"), "{p} {opt}: {err}");
        }
    }
    for (p, line) in [
        (
            "--protocol=33",
            "--protocol must be no more than 32 on the Client.\n",
        ),
        (
            "--protocol=19",
            "protocol version mismatch -- is your shell clean?\n",
        ),
        (
            "--protocol=41",
            "protocol version mismatch -- is your shell clean?\n",
        ),
    ] {
        let (code, _, err) = run(&["-a", p, "src/", "dst/"]);
        assert_eq!(code, Some(2), "{p}");
        assert!(err.starts_with(line), "{p}: {err}");
        assert!(
            err.contains("protocol incompatibility (code 2)"),
            "{p}: {err}"
        );
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
    // No operands: help on stderr ending with rsync's usage-error line,
    // exit 1, as rsync (alone or with options).
    for args in [&["-a"][..], &[]] {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(1));
        assert_eq!(out, "");
        assert!(err.contains("Usage:"));
        let last = err.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("arsync error: syntax or usage error (code 1) at "),
            "{last}"
        );
    }
}

#[test]
fn remote_paths_are_not_silently_treated_as_local() {
    let (code, out, err) = run(&["-a", "host:/etc/", "/tmp/x/"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert!(
        err.starts_with("arsync: remote transfers are not supported by arsync"),
        "{err}"
    );
    assert!(
        err.contains("arsync error: syntax or usage error (code 1)"),
        "{err}"
    );
}

#[test]
fn no_fallback_option_refuses_like_the_variable() {
    let empty: &std::ffi::OsStr = "".as_ref();
    let (code, _, err) = run_env(
        &["--no-fallback", "-a", "--read-batch=b", "src/", "dst/"],
        &[("ARSYNC_NO_FALLBACK", empty)],
    );
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("arsync: This rsync does not support --read-batch\n"),
        "{err}"
    );
    // --debug with a level arsync cannot produce is an unsupported value.
    let (code, _, err) = run(&["--debug=flist2", "src/", "dst/"]);
    assert_eq!(code, Some(1));
    assert!(
        err.starts_with("arsync: This rsync does not support --debug=flist2\n"),
        "{err}"
    );
}

/// A directory holding a fake `rsync` that records its arguments in
/// `args` next to it and exits 7.
fn fake_rsync() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("rsync");
    let log = dir.path().join("args");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$*\" > '{}'\nexit 7\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn unimplemented_command_lines_go_to_the_system_rsync() {
    let fake = fake_rsync();
    let path = fake.path().as_os_str();
    let rsync = fake.path().join("rsync");
    for (args, reason, seen) in [
        (
            &["-v", "--read-batch=b", "--no-progress-bar", "src/", "dst/"][..],
            "--read-batch is not implemented",
            "-v --read-batch=b src/ dst/",
        ),
        (
            &["-av", "src/", "host:dst/"][..],
            "remote path host:dst/",
            "-av src/ host:dst/",
        ),
        (&["-v", "--daemon"][..], "--daemon", "-v --daemon"),
    ] {
        let (code, out, err) = run_env(args, &[("PATH", path)]);
        assert_eq!(code, Some(7), "{args:?}: {err}");
        assert_eq!(out, "");
        assert_eq!(
            err,
            format!("arsync: handing over to {} ({reason})\n", rsync.display()),
            "{args:?}"
        );
        let got = std::fs::read_to_string(fake.path().join("args")).unwrap();
        assert_eq!(got.trim_end(), seen);
    }
    // Without -v the hand-over is silent.
    let (code, _, err) = run_env(&["-a", "--read-batch=b", "src/", "dst/"], &[("PATH", path)]);
    assert_eq!(code, Some(7));
    assert_eq!(err, "");
}

#[test]
fn hand_over_without_a_system_rsync_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run_env(
        &["-a", "src/", "host:dst/"],
        &[("PATH", empty.path().as_os_str())],
    );
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert!(
        err.starts_with(
            "arsync: this command needs the system rsync (remote path host:dst/), but no rsync was found on PATH\n"
        ),
        "{err}"
    );
}

#[test]
fn info_and_debug_help_like_rsync() {
    let (code, out, _) = run(&["--info=help", "--bogus"]);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with("Use OPT or OPT1 for level 1 output"),
        "{out}"
    );
    assert!(
        out.contains("\nPROGRESS   Mention 1) per-file progress or 2) total transfer progress\n")
    );
    let (code, out, _) = run(&["--debug=HELP"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\nDELTASUM   Debug delta-transfer checksumming (levels 1-4)\n"));
    let (code, _, err) = run(&["--info=name,bogus", "a", "b"]);
    assert_eq!(code, Some(1));
    assert!(err.starts_with("Unknown --info item: \"bogus\"\n"), "{err}");
}
