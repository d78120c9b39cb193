//! Every option of the installed rsync's `--help`, run through arsync with
//! the hand-over off (`ARSYNC_NO_FALLBACK=1`): none may be refused as
//! "not supported" unless rsync refuses it too (`-N` on Linux) or it is in
//! the documented hand-over set (remote-only options and batch files).
//! Needs rsync: under `CI=true` a missing rsync fails the test.

use std::path::Path;
use std::process::Command;

/// Options that only make sense with a remote rsync or a batch file, or
/// that arsync does not implement yet: the README's hand-over list.
const HANDED_OVER: &[&str] = &["write-batch", "only-write-batch", "read-batch"];

/// A value for an option, by the placeholder `--help` shows.
fn sample(long: &str, placeholder: &str) -> String {
    let by_name = match long {
        "info" => "name1",
        "debug" => "none",
        "stderr" => "errors",
        "outbuf" => "L",
        "compress-choice" => "zstd",
        "checksum-choice" => "md5",
        "usermap" | "groupmap" => "*:root",
        "chown" => "root:root",
        "stop-at" => "23:59",
        "protocol" => "31",
        "filter" => "- nothing",
        "chmod" => "u+w",
        "bwlimit" => "1m",
        "max-alloc" => "1G",
        "block-size" => "1k",
        "log-file" => "log.txt",
        "contimeout" => "0",
        _ => "",
    };
    if !by_name.is_empty() {
        return by_name.to_string();
    }
    match placeholder {
        "DIR" => "/tmp".into(),
        "FILE" => "/dev/null".into(),
        "SIZE" => "1M".into(),
        "NUM" | "SECONDS" | "MINS" | "PORT" => "5".into(),
        _ => "x".into(),
    }
}

/// `(long name, placeholder)` for every option rsync's `--help` lists.
fn rsync_options() -> Option<Vec<(String, String)>> {
    let out = Command::new("rsync").arg("--help").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut opts = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim_start().strip_prefix("--") else {
            continue;
        };
        let word = rest.split([' ', ',']).next().unwrap_or_default();
        let (long, ph) = word.split_once('=').unwrap_or((word, ""));
        if long.is_empty() || long == "no-OPTION" || long == "help" || long == "version" {
            continue;
        }
        if !opts.iter().any(|(l, _): &(String, String)| l == long) {
            opts.push((long.to_string(), ph.to_string()));
        }
    }
    Some(opts)
}

fn refused(bin: &Path, dir: &Path, arg: &str) -> bool {
    let out = Command::new(bin)
        .current_dir(dir)
        .args(["-a", arg, "src/", "dst/"])
        .env("ARSYNC_NO_FALLBACK", "1")
        .output()
        .expect("runs");
    String::from_utf8_lossy(&out.stderr).contains("does not support")
}

#[test]
fn every_rsync_option_runs_natively_or_is_a_documented_hand_over() {
    let Some(opts) = rsync_options() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "rsync is required under CI"
        );
        eprintln!("SKIPPED: rsync is not installed");
        return;
    };
    assert!(
        opts.len() > 100,
        "rsync --help lists {} options",
        opts.len()
    );
    let arsync = Path::new(env!("CARGO_BIN_EXE_arsync"));
    let rsync = Path::new("rsync");
    let mut wrong = Vec::new();
    for (long, ph) in &opts {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(tmp.path().join("src")).expect("src");
        std::fs::write(tmp.path().join("src/f"), b"x").expect("file");
        let arg = if ph.is_empty() {
            format!("--{long}")
        } else {
            format!("--{long}={}", sample(long, ph))
        };
        let ours = refused(arsync, tmp.path(), &arg);
        let documented = HANDED_OVER.contains(&long.as_str());
        if ours && !documented && !refused(rsync, tmp.path(), &arg) {
            wrong.push(arg.clone());
        }
        if !ours && documented {
            wrong.push(format!("{arg} (runs natively: take it off HANDED_OVER)"));
        }
    }
    assert!(wrong.is_empty(), "refused by arsync only: {wrong:?}");
}
