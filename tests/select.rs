//! File selection cases whose rsync output cannot be compared line for
//! line (rsync's receiver adds a `received SIGUSR1` line in a racy
//! order): `-R` with `..` in the sent part of a path, and
//! `--files-from` with a source that is not a directory.

use std::path::{Path, PathBuf};
use std::process::Command;

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

fn run_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(arsync())
        .args(args)
        .current_dir(dir)
        .env("ARSYNC_NO_FALLBACK", "1")
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn relative_dotdot_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("src")).unwrap();
    std::fs::write(tmp.path().join("src/b"), b"x").unwrap();
    for (arg, shown) in [("src/../src/b", "src/../src/b"), ("src/./../x", "../x")] {
        let (code, out, err) = run_in(tmp.path(), &["-aR", arg, "dst/"]);
        assert_eq!(code, Some(1), "{arg}: {err}");
        assert_eq!(out, "");
        assert!(
            err.starts_with(&format!("found \"..\" dir in relative path: {shown}\n")),
            "{err}"
        );
        assert!(err.contains("syntax or usage error (code 1)"), "{err}");
        assert!(!tmp.path().join("dst").exists(), "nothing is created");
    }
}

#[test]
fn files_from_source_must_be_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("list"), b"a\n").unwrap();
    std::fs::write(tmp.path().join("file"), b"x").unwrap();
    let abs = tmp.path().canonicalize().unwrap();
    for (src, errno) in [
        ("nosrc/", "No such file or directory (2)"),
        ("file", "Not a directory (20)"),
    ] {
        let (code, _, err) = run_in(tmp.path(), &["-a", "--files-from=list", src, "dst/"]);
        assert_eq!(code, Some(3), "{src}: {err}");
        let want = format!(
            "arsync: [sender] change_dir \"{}/{src}\" failed: {errno}\n",
            abs.display()
        );
        assert!(err.starts_with(&want), "{err}");
        assert!(
            err.contains("errors selecting input/output files, dirs (code 3)"),
            "{err}"
        );
    }
}
