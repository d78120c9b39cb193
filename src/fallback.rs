//! Handing a command line over to the system rsync.
//!
//! arsync copies local trees. A command line it cannot run the way rsync
//! would — a remote operand (`host:path`, `user@host:path`, `[::1]:path`,
//! `host::module`, `rsync://host/module`), `--server` / `--daemon`, an
//! option arsync does not implement, list-only mode — is executed by the
//! real rsync instead (the process is replaced, so rsync's output, exit
//! code and signals are exactly rsync's). [`needs_rsync`] decides,
//! [`exec_system_rsync`] does it.
//!
//! `ARSYNC_NO_FALLBACK=1` or the arsync-only `--no-fallback` turn the
//! hand-over off: the caller then refuses with a usage error (exit 1, see
//! [`refusal`]).

use std::convert::Infallible;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use crate::cli::lex::{Event, Lexed};
use crate::cli::spec::{self, Id, Spec};

/// The environment variable that disables the hand-over.
pub(crate) const NO_FALLBACK_ENV: &str = "ARSYNC_NO_FALLBACK";

/// Why a command line goes to the system rsync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reason {
    /// An operand names a remote host or an rsync daemon.
    Remote(String),
    /// `--server` (rsync started by a remote rsync).
    Server,
    /// `--daemon`.
    Daemon,
    /// An option arsync does not implement, as rsync names it
    /// (`--delete`, `-H`, `--info=stats3`).
    Unsupported(String),
    /// One operand and no destination: rsync lists the source.
    ListOnly,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Remote(a) => write!(f, "remote path {a}"),
            Reason::Server => f.write_str("--server"),
            Reason::Daemon => f.write_str("--daemon"),
            Reason::Unsupported(o) => write!(f, "{o} is not implemented"),
            Reason::ListOnly => f.write_str("list-only mode"),
        }
    }
}

/// The usage error printed instead of handing over when the hand-over is
/// disabled (then `NAME: TEXT`, rsync's `syntax or usage error (code 1)`
/// line, exit [`REFUSAL_EXIT`]).
pub(crate) fn refusal(reason: &Reason) -> String {
    match reason {
        Reason::Remote(_) => {
            "remote transfers are not supported by arsync (local copies only)".to_string()
        }
        Reason::Server => "This rsync does not support --server".to_string(),
        Reason::Daemon => "This rsync does not support --daemon".to_string(),
        Reason::Unsupported(o) => format!("This rsync does not support {o}"),
        Reason::ListOnly => "This rsync does not support --list-only".to_string(),
    }
}

/// Whether an operand is remote by rsync's rules (`check_for_hostspec()`):
/// `rsync://…`, or a `:` before any `/` (`host:path`, `user@host:path`,
/// `host::module`, `[v6addr]:path`).
pub(crate) fn is_remote(arg: &[u8]) -> bool {
    const URL: &[u8] = b"rsync://";
    if arg.len() >= URL.len() && arg[..URL.len()].eq_ignore_ascii_case(URL) {
        return true;
    }
    let mut host_start = 0;
    let mut i = 0;
    while i < arg.len() {
        match arg[i] {
            b':' => return true,
            b'/' => return false,
            b'@' => host_start = i + 1,
            b'[' => {
                if i != host_start {
                    return false;
                }
                let mut j = i + 1;
                while j < arg.len() && arg[j] != b']' && arg[j] != b'/' {
                    j += 1;
                }
                if j >= arg.len() || arg[j] != b']' || j == i + 1 {
                    return false;
                }
                match arg.get(j + 1) {
                    None | Some(b'/') | Some(b':') => i = j,
                    Some(_) => return false,
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// How rsync names an option in "does not support" (`--delete`,
/// `--hard-links (-H)`, `-F`).
fn spelled(spec: &Spec) -> String {
    let main = spec.main_name();
    match (main.long, main.short) {
        (Some(l), Some(s)) => format!("--{l} (-{s})"),
        (Some(l), None) => format!("--{l}"),
        (None, Some(s)) => format!("-{s}"),
        (None, None) => "?".to_string(),
    }
}

/// Whether this command line must go to the system rsync, with the spec's
/// notion of what arsync implements ([`Spec::supported`]).
#[cfg(test)]
pub(crate) fn needs_rsync(lexed: &Lexed) -> Option<Reason> {
    needs_rsync_with(lexed, &|ev| ev.spec.supported())
}

/// [`needs_rsync`] with the caller deciding which occurrences (options and
/// values, e.g. `--info=progress2`) arsync implements. It reads the whole
/// command line, even past a malformed word.
pub(crate) fn needs_rsync_with(
    lexed: &Lexed,
    supported: &dyn Fn(&Event) -> bool,
) -> Option<Reason> {
    for ev in &lexed.events {
        match ev.spec.id {
            Id::Server => return Some(Reason::Server),
            Id::Daemon => return Some(Reason::Daemon),
            _ => {}
        }
    }
    for ev in &lexed.events {
        if matches!(ev.spec.id, Id::Help | Id::Version) {
            // rsync answers these before anything else.
            return None;
        }
        if !supported(ev) {
            let mut name = spelled(ev.spec);
            if let (Some(v), Some(long)) = (&ev.value, ev.name.long)
                && matches!(ev.spec.id, Id::Info | Id::Debug)
            {
                name = format!("--{long}={}", v.to_string_lossy());
            }
            return Some(Reason::Unsupported(name));
        }
    }
    if let Some(r) = lexed.operands.iter().find(|a| is_remote(a.as_bytes())) {
        return Some(Reason::Remote(r.to_string_lossy().into_owned()));
    }
    let list_only = spec::spec(Id::ListOnly).is_some_and(Spec::supported);
    if lexed.operands.len() == 1 && !list_only {
        return Some(Reason::ListOnly);
    }
    None
}

/// Whether the hand-over is disabled: `ARSYNC_NO_FALLBACK` set to
/// anything but empty or `0`, or `--no-fallback` on the command line.
pub(crate) fn fallback_disabled(lexed: &Lexed) -> bool {
    let env_off = std::env::var_os(NO_FALLBACK_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    env_off || lexed.events.iter().any(|e| e.spec.id == Id::NoFallback)
}

/// Whether the command line asks for `-v` (for the hand-over notice).
pub(crate) fn wants_verbose(lexed: &Lexed) -> bool {
    let mut v = 0i32;
    for ev in lexed.events.iter().filter(|e| e.spec.id == Id::Verbose) {
        v = if ev.negated() { 0 } else { v + 1 };
    }
    v > 0
}

/// The command line for rsync: the words of arsync-only options removed.
/// `argv` includes the program name, which is kept; `lexed` is argv
/// without it, lexed.
pub(crate) fn rsync_argv(argv: &[OsString], lexed: &Lexed) -> Vec<OsString> {
    let dropped: Vec<std::ops::Range<usize>> = lexed
        .events
        .iter()
        .filter(|e| e.spec.arsync_only)
        .map(|e| e.words.clone())
        .collect();
    let mut out = Vec::with_capacity(argv.len());
    out.extend(argv.first().cloned());
    let args = argv.get(1..).unwrap_or_default();
    for (i, a) in args.iter().enumerate() {
        if !dropped.iter().any(|r| r.contains(&i)) {
            out.push(a.clone());
        }
    }
    out
}

/// Device and inode of a file (following symlinks).
fn identity(p: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

fn is_executable_file(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// The first executable `rsync` in `path` (a `PATH` value) that is not the
/// file identified by `skip` (this executable, which may be installed as
/// `rsync`); failing that, the first `rsync.distrib`, where
/// `dpkg-divert --rename` puts the system rsync when arsync is installed
/// as `/usr/bin/rsync` (README.md, Install).
pub(crate) fn find_rsync_in(path: &OsStr, skip: Option<(u64, u64)>) -> Option<PathBuf> {
    ["rsync", "rsync.distrib"].into_iter().find_map(|name| {
        std::env::split_paths(path)
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| d.join(name))
            .find(|p| is_executable_file(p) && (skip.is_none() || identity(p) != skip))
    })
}

/// The system rsync on `$PATH`, never this executable.
pub(crate) fn find_system_rsync() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    find_rsync_in(&path, identity(Path::new("/proc/self/exe")))
}

/// Replaces this process with the system rsync running `argv` (program
/// name first; arsync-only options are dropped, see [`rsync_argv`]). With
/// `verbose`, first prints `NAME: handing over to PATH (REASON)` (NAME as
/// invoked) on
/// stderr. Returns only on failure, with the message to print (then exit
/// 1): no rsync on `PATH`, or the exec failed.
pub(crate) fn exec_system_rsync(
    argv: &[OsString],
    lexed: &Lexed,
    reason: &Reason,
    verbose: bool,
) -> Result<Infallible, String> {
    let Some(rsync) = find_system_rsync() else {
        return Err(format!(
            "this command needs the system rsync ({reason}), but no rsync was found on PATH"
        ));
    };
    exec_rsync_at(&rsync, &rsync_argv(argv, lexed), reason, verbose)
}

/// [`exec_system_rsync`] with the rsync binary given and the arsync-only
/// options already dropped from `argv`.
pub(crate) fn exec_rsync_at(
    rsync: &Path,
    argv: &[OsString],
    reason: &Reason,
    verbose: bool,
) -> Result<Infallible, String> {
    if verbose {
        let name = crate::program_name(argv.first());
        eprintln!("{name}: handing over to {} ({reason})", rsync.display());
    }
    let err = std::process::Command::new(rsync)
        .args(argv.get(1..).unwrap_or_default())
        .exec();
    Err(format!(
        "failed to run {}: {}",
        rsync.display(),
        crate::sys::io_error_text(&err)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn a(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn l(v: &[&str]) -> Lexed {
        crate::cli::lex::lex(&a(v))
    }

    fn needs(v: &[&str]) -> Option<Reason> {
        needs_rsync(&l(v))
    }

    #[test]
    fn remote_operands_like_rsync() {
        for r in [
            "host:path",
            "host:",
            "user@host:dir/x",
            "host::module",
            "host::",
            "rsync://host/mod",
            "RSYNC://host",
            "[::1]:path",
            "user@[fe80::1]:x",
            ":path",
        ] {
            assert!(is_remote(r.as_bytes()), "{r}");
        }
        for l in [
            "dir/a:b",
            "./host:path",
            "/abs:x",
            "plain",
            "[::1]/x",
            "x[::1]:y",
            "[]:x",
            "[abc]z:p",
        ] {
            assert!(!is_remote(l.as_bytes()), "{l}");
        }
    }

    #[test]
    fn decides_like_the_spec() {
        assert_eq!(needs(&["-av", "src/", "dst/"]), None);
        assert_eq!(
            needs(&["-av", "src/", "host:dst/"]),
            Some(Reason::Remote("host:dst/".into()))
        );
        assert_eq!(
            needs(&["--server", "--sender", "-vlogDtpre.iLsfxC", ".", "x"]),
            Some(Reason::Server)
        );
        assert_eq!(needs(&["--daemon"]), Some(Reason::Daemon));
        // An option's value is not an operand.
        assert_eq!(needs(&["-T", "h:x", "src/", "dst/"]), None);
        assert_eq!(needs(&["--temp-dir", "h:x", "a", "b"]), None);
        assert_eq!(needs(&["-aTh:x", "a", "b"]), None);
        // After --, everything is an operand.
        assert_eq!(
            needs(&["--", "-x:y", "b"]),
            Some(Reason::Remote("-x:y".into()))
        );
        // A malformed word does not hide a remote operand after it.
        assert_eq!(
            needs(&["--bogus", "a", "h:x"]),
            Some(Reason::Remote("h:x".into()))
        );
        assert_eq!(needs(&["--version"]), None);
        assert_eq!(needs(&[]), None);
    }

    #[test]
    fn unsupported_options_via_callback() {
        let only_basic = |e: &Event| {
            e.spec.id != Id::Delete
                && !(e.spec.id == Id::Info && e.value.as_ref().is_some_and(|v| v == "progress2"))
        };
        assert_eq!(
            needs_rsync_with(&l(&["-a", "--delete", "s/", "d/"]), &only_basic),
            Some(Reason::Unsupported("--delete".into()))
        );
        assert_eq!(
            needs_rsync_with(&l(&["--info=progress2", "s/", "d/"]), &only_basic),
            Some(Reason::Unsupported("--info=progress2".into()))
        );
        let no_h = |e: &Event| e.spec.id != Id::HardLinks;
        assert_eq!(
            needs_rsync_with(&l(&["-aH", "s/", "d/"]), &no_h),
            Some(Reason::Unsupported("--hard-links (-H)".into()))
        );
        let all = |_: &Event| true;
        assert_eq!(needs_rsync_with(&l(&["-a", "src/"]), &all), None);
    }

    #[test]
    fn confine_root_is_never_handed_over() {
        let all = |_: &Event| true;
        let r = |v: &[&str]| needs_rsync_with(&l(v), &all);
        for v in [
            &["--confine-root=/x", "--files-from=f", "s/", "d/"][..],
            &["--confine-root=/x", "--link-dest=/b", "s/", "d/"],
            &["--confine-root=/x", "--backup-dir=/b", "s/", "d/"],
            &["--confine-root=/x", "-b", "--backup-dir=../b", "s/", "d/"],
            &["-T", "/t", "--confine-root=/x", "s/", "d/"],
            &[
                "--confine-root=/x",
                "--confine-root=/",
                "--backup-dir=/b",
                "s",
                "d",
            ],
            &["--confine-root=rel", "--backup-dir=/b", "s", "d"],
            &["--confine-root=/x", "--compare-dest=/b", "s", "d"],
        ] {
            assert_eq!(r(v), None, "{v:?}");
        }
    }

    #[test]
    fn refusal_and_reason_texts() {
        assert_eq!(Reason::Remote("h:x".into()).to_string(), "remote path h:x");
        assert_eq!(
            refusal(&Reason::Unsupported("--delete".into())),
            "This rsync does not support --delete"
        );
        assert!(refusal(&Reason::Remote("h:x".into())).contains("not supported"));
    }

    #[test]
    fn no_fallback_and_verbose_flags() {
        assert!(fallback_disabled(&l(&["--no-fallback", "h:x", "d"])));
        assert!(wants_verbose(&l(&["-av", "h:x", "d"])));
        assert!(!wants_verbose(&l(&["-av", "--no-v", "h:x", "d"])));
        assert!(!wants_verbose(&l(&["-a", "h:x", "d"])));
    }

    #[test]
    fn arsync_only_options_are_dropped() {
        let argv = a(&[
            "arsync",
            "--copy-engine=vec",
            "-a",
            "--copy-engine",
            "auto",
            "--no-progress-bar",
            "--temp-dir",
            "--no-fallback",
            "h:x",
            "--",
            "--no-fallback",
        ]);
        assert_eq!(
            rsync_argv(&argv, &crate::cli::lex::lex(&argv[1..])),
            a(&[
                "arsync",
                "-a",
                "--temp-dir",
                "--no-fallback",
                "h:x",
                "--",
                "--no-fallback"
            ])
        );
    }

    fn fake_rsync(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("rsync");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn finds_rsync_but_never_itself() {
        let d1 = tempfile::tempdir().unwrap();
        let d2 = tempfile::tempdir().unwrap();
        let empty = tempfile::tempdir().unwrap();
        let first = fake_rsync(d1.path(), "exit 0");
        let second = fake_rsync(d2.path(), "exit 0");
        // A non-executable rsync is not a candidate.
        std::fs::write(empty.path().join("rsync"), "").unwrap();
        let path = std::env::join_paths([empty.path(), d1.path(), d2.path()]).unwrap();
        assert_eq!(find_rsync_in(&path, None), Some(first.clone()));
        // When the first one is this very executable (installed as rsync,
        // maybe through a symlink), the next one is used.
        let link_dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(&first, link_dir.path().join("rsync")).unwrap();
        let path = std::env::join_paths([link_dir.path(), d1.path(), d2.path()]).unwrap();
        assert_eq!(find_rsync_in(&path, identity(&first)), Some(second.clone()));
        let none = std::env::join_paths([empty.path()]).unwrap();
        assert_eq!(find_rsync_in(&none, None), None);
        // Installed as rsync over a diverted system rsync: rsync.distrib.
        let diverted = d2.path().join("rsync.distrib");
        std::fs::rename(&second, &diverted).unwrap();
        let path = std::env::join_paths([link_dir.path(), d2.path()]).unwrap();
        assert_eq!(find_rsync_in(&path, identity(&first)), Some(diverted));
    }

    /// The exec replaces the process, so it runs in a child: this test
    /// binary re-run on `exec_child` with a fake rsync on PATH.
    #[test]
    fn exec_replaces_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fake_rsync(
            dir.path(),
            &format!("echo \"$0 $*\" > '{}'; exit 7", out.display()),
        );
        let me = std::env::current_exe().unwrap();
        let res = std::process::Command::new(me)
            .args(["--exact", "fallback::tests::exec_child", "--nocapture"])
            .env("ARSYNC_EXEC_CHILD", "1")
            .env("PATH", dir.path())
            .output()
            .unwrap();
        assert_eq!(res.status.code(), Some(7), "{res:?}");
        let got = std::fs::read_to_string(&out).unwrap();
        assert_eq!(
            got.trim_end(),
            format!("{} -a src/ host:dst/", dir.path().join("rsync").display())
        );
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(
            stderr.contains(&format!(
                "arsync: handing over to {} (remote path host:dst/)",
                dir.path().join("rsync").display()
            )),
            "{stderr}"
        );
    }

    #[test]
    fn exec_child() {
        if std::env::var_os("ARSYNC_EXEC_CHILD").is_none() {
            return;
        }
        let argv = a(&["arsync", "-a", "--no-progress-bar", "src/", "host:dst/"]);
        let lexed = crate::cli::lex::lex(&argv[1..]);
        let reason = needs_rsync(&lexed).unwrap();
        let e = exec_system_rsync(&argv, &lexed, &reason, true).unwrap_err();
        panic!("exec returned: {e}");
    }

    #[test]
    fn missing_rsync_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(find_rsync_in(&path, None), None);
        let e = exec_rsync_at(
            &dir.path().join("rsync"),
            &a(&["arsync", "h:x", "y"]),
            &Reason::Remote("h:x".into()),
            false,
        )
        .unwrap_err();
        assert!(e.starts_with("failed to run "), "{e}");
        assert!(e.ends_with("No such file or directory (2)"), "{e}");
    }
}
