//! exec.rs — runs one scenario: builds the temp dir, runs setup, runs the steps once with
//! real rsync and once with arsync (same absolute path), snapshots both result trees and
//! reports every difference.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, symlink};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::normalize;
use super::report;
use super::scenario::{Scenario, StepKind};
use super::tools::{Side, Tools, shell_quote};
use super::tree::{self, Stamp, Tree};

/// Captured result of one process.
#[derive(Debug, Clone)]
pub struct Captured {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `exit N`, `signal N` or `timeout`.
    pub status: String,
    pub ok: bool,
}

/// Run `bash -c script` in `cwd` with a clean environment; kill the whole process group on
/// timeout.
fn run_bash(
    script: &str,
    cwd: &Path,
    home: &Path,
    extra_env: &[(&str, &str)],
    timeout: Duration,
) -> Result<Captured, String> {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(script)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot spawn bash in {}: {e}", cwd.display()))?;
    let mut out_pipe = child.stdout.take().ok_or("no stdout pipe")?;
    let mut err_pipe = child.stderr.take().ok_or("no stderr pipe")?;
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) => {}
            Err(e) => return Err(format!("wait failed: {e}")),
        }
        if Instant::now() >= deadline {
            timed_out = true;
            // SAFETY: plain kill(2) of the process group we created (pgid == child pid).
            unsafe {
                libc::kill(-(child.id() as i32), libc::SIGKILL);
            }
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(2));
    };
    if !timed_out {
        // Forked helpers (rsync's receiver/generator) may outlive the leader for a moment;
        // they hold the pipes, so give them the rest of the timeout, then kill the group.
        let stragglers_deadline = deadline;
        while !out_t.is_finished() || !err_t.is_finished() {
            if Instant::now() >= stragglers_deadline {
                // SAFETY: as above.
                unsafe {
                    libc::kill(-(child.id() as i32), libc::SIGKILL);
                }
                break;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let (status, ok) = match status {
        None => (format!("timeout after {}s", timeout.as_secs()), false),
        Some(st) => match (st.code(), st.signal()) {
            (Some(c), _) => (format!("exit {c}"), c == 0),
            (None, Some(s)) => (format!("signal {s}"), false),
            _ => ("unknown status".to_string(), false),
        },
    };
    Ok(Captured {
        stdout,
        stderr,
        status,
        ok,
    })
}

fn mtime_of(p: &Path) -> Result<Stamp, String> {
    let md = fs::symlink_metadata(p).map_err(|e| format!("stat {}: {e}", p.display()))?;
    Ok((md.mtime(), md.mtime_nsec()))
}

/// Create a marker file whose mtime (filesystem clock) is strictly later than `after`;
/// its mtime is the start stamp of a run sequence.
fn start_stamp(marker: &Path, after: Stamp) -> Result<Stamp, String> {
    for _ in 0..1000 {
        let _ = fs::remove_file(marker);
        fs::write(marker, b"").map_err(|e| format!("create {}: {e}", marker.display()))?;
        let t = mtime_of(marker)?;
        if t > after {
            return Ok(t);
        }
        thread::sleep(Duration::from_millis(2));
    }
    Err("filesystem clock did not advance".into())
}

/// Access times of the regular files below `root`, by relative path (for `compare: atime`).
fn record_atimes(root: &Path) -> Result<Vec<(Vec<u8>, Stamp)>, String> {
    let snap = tree::snapshot(root)?;
    Ok(snap
        .entries
        .into_iter()
        .filter(|(_, e)| e.kind == tree::Kind::File)
        .map(|(p, e)| (p, e.atime))
        .collect())
}

/// Put recorded atimes back onto the same relative paths below `root`. `cp -a` copies the
/// atimes it sees, but reading a file updates its own atime (relatime), so without this the
/// two sides would not start from the same atimes.
fn restore_atimes(root: &Path, list: &[(Vec<u8>, Stamp)]) -> Result<(), String> {
    use std::os::unix::ffi::OsStrExt;
    for (rel, t) in list {
        let target = root.join(std::ffi::OsStr::from_bytes(rel));
        let c = std::ffi::CString::new(target.as_os_str().as_bytes())
            .map_err(|e| format!("{}: {e}", target.display()))?;
        let times = [
            libc::timespec {
                tv_sec: t.0 as libc::time_t,
                tv_nsec: t.1 as _,
            },
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
        ];
        // SAFETY: `c` is a valid NUL-terminated path and `times` holds two timespecs.
        let r = unsafe {
            libc::utimensat(
                libc::AT_FDCWD,
                c.as_ptr(),
                times.as_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r != 0 {
            return Err(format!(
                "restore atime of {}: {}",
                target.display(),
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn cp_a(from: &Path, to: &Path) -> Result<(), String> {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .map_err(|e| format!("cannot run cp: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cp -a {} {} failed: {}",
            from.display(),
            to.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// Result of running all steps with one tool.
struct SideRun {
    /// One entry per step (run: and sh:).
    steps: Vec<Captured>,
    start: Stamp,
    tree: Tree,
}

struct Ctx<'a> {
    sc: &'a Scenario,
    tools: &'a Tools,
    t: PathBuf,
    setup_done: Stamp,
}

impl Ctx<'_> {
    fn work(&self) -> PathBuf {
        self.t.join("work")
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(self.tools.timeout_secs)
    }

    /// The command line a `run:` step executes for `side`.
    fn run_script(&self, side: Side, args: &str) -> String {
        let mut extra = String::new();
        if side == Side::Arsync {
            for a in &self.tools.arsync_extra {
                extra.push(' ');
                extra.push_str(&shell_quote(a));
            }
        }
        format!(
            "umask {:03o}; exec \"$TOOL\"{extra} {args}",
            self.sc.umask_or_default()
        )
    }

    fn run_side(&self, side: Side, tool: &Path) -> Result<SideRun, String> {
        let work = self.work();
        let tool_s = tool.to_string_lossy().into_owned();
        let start = start_stamp(
            &self.t.join(format!(".start-{}", side.label())),
            self.setup_done,
        )?;
        let mut steps = Vec::new();
        for st in &self.sc.steps {
            let script = match st.kind {
                StepKind::Run => self.run_script(side, &st.text),
                StepKind::Sh => format!(
                    "set -e\numask {:03o}\nsource {}\n{}",
                    self.sc.umask_or_default(),
                    shell_quote(&self.tools.lib_sh.to_string_lossy()),
                    st.text
                ),
            };
            // ARSYNC_NO_FALLBACK: arsync must never pass by handing the
            // command line to the system rsync (set on both sides so the
            // environments stay identical; rsync ignores it).
            let cap = run_bash(
                &script,
                &work,
                &self.t,
                &[("TOOL", tool_s.as_str()), ("ARSYNC_NO_FALLBACK", "1")],
                self.timeout(),
            )?;
            steps.push(cap);
        }
        let out = self.t.join(format!("out-{}", side.label()));
        fs::rename(&work, &out)
            .map_err(|e| format!("mv {} {}: {e}", work.display(), out.display()))?;
        let tree = tree::snapshot(&out)?;
        Ok(SideRun { steps, start, tree })
    }

    /// Run the rsync side. rsync 3.5 itself hangs, rarely and only under load (seen once
    /// in CI on a 10-byte `-u -c` copy that never hangs alone); a `run:` step of the
    /// oracle that times out is therefore run once more from the pristine tree before it
    /// counts. arsync's side gets no such second chance.
    fn run_oracle(&self, pristine: &Path, atimes: &[(Vec<u8>, Stamp)]) -> Result<SideRun, String> {
        let first = self.run_side(Side::Rsync, &self.tools.rsync)?;
        if !first.steps.iter().any(|c| c.status.starts_with("timeout")) {
            return Ok(first);
        }
        eprintln!(
            "note: {}: rsync timed out; running its side once more",
            self.sc.test_name()
        );
        let out = self.t.join(format!("out-{}", Side::Rsync.label()));
        remove_tree(&out).map_err(|e| format!("rm -r {}: {e}", out.display()))?;
        cp_a(pristine, &self.work())?;
        restore_atimes(&self.work(), atimes)?;
        self.run_side(Side::Rsync, &self.tools.rsync)
    }
}

fn show_captured(c: &Captured) -> String {
    let mut s = format!("    {}\n", c.status);
    for l in normalize::stdout_lines(&c.stdout) {
        s.push_str(&format!("    out| {l}\n"));
    }
    for l in normalize::stderr_lines(&c.stderr) {
        s.push_str(&format!("    err| {l}\n"));
    }
    s
}

/// Compare one step's outputs; returns a description of the differences, if any.
fn compare_step(a: &Captured, b: &Captured) -> Option<String> {
    let mut msg = String::new();
    let (oa, ob) = (
        normalize::stdout_lines(&a.stdout),
        normalize::stdout_lines(&b.stdout),
    );
    if oa != ob && !normalize::stdout_relaxed_eq(&oa, &ob) {
        msg.push_str("  stdout differs (- rsync, + arsync):\n");
        msg.push_str(&report::line_diff(&oa, &ob, 40));
    }
    let (ea, eb) = (
        normalize::stderr_lines(&a.stderr),
        normalize::stderr_lines(&b.stderr),
    );
    if ea != eb && !normalize::stderr_relaxed_eq(&ea, &eb) {
        msg.push_str("  stderr differs (- rsync, + arsync):\n");
        msg.push_str(&report::line_diff(&ea, &eb, 40));
    }
    if msg.is_empty() && a.status == b.status {
        return None;
    }
    let same = if a.status == b.status { " (same)" } else { "" };
    Some(format!(
        "  exit status: rsync={} arsync={}{same}\n{msg}",
        a.status, b.status
    ))
}

fn is_executable_file(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Run a scenario end to end. `Ok(())` when rsync and arsync agree on everything.
pub fn run_scenario(sc: &Scenario, tools: &Tools) -> Result<(), String> {
    if !is_executable_file(&tools.arsync) {
        return Err(format!(
            "scenario {} ({})\narsync binary not found or not executable: {} \
             (set ARSYNC_BIN or build the crate)\n",
            sc.test_name(),
            sc.location(),
            tools.arsync.display()
        ));
    }
    let dir = tempfile::Builder::new()
        .prefix(&format!("compat-{}-", sc.name))
        .tempdir()
        .map_err(|e| format!("cannot create temp dir: {e}"))?;
    // Removed here rather than on drop, so that a failed removal is seen.
    let t = dir.keep();
    let result = run_in(sc, tools, &t);
    if tools.keep {
        return result.map_err(|m| format!("{m}\ntemp dir kept: {}\n", t.display()));
    }
    let removed = remove_tree(&t);
    match (result, removed) {
        (Err(m), _) => Err(format!("{m}\ntemp dir removed (KEEP=1 keeps it)\n")),
        (Ok(()), Err(e)) => Err(format!(
            "scenario {}: its temp dir {} cannot be removed: {e}\n",
            sc.test_name(),
            t.display()
        )),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// Remove a scenario's temp dir, also where a scenario left directories
/// without write or search permission (which a non-root user cannot empty
/// until they are given back).
fn remove_tree(t: &Path) -> std::io::Result<()> {
    open_up(t)?;
    fs::remove_dir_all(t)
}

fn open_up(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::symlink_metadata(dir)?.permissions().mode();
    if mode & 0o700 != 0o700 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700))?;
    }
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            open_up(&e.path())?;
        }
    }
    Ok(())
}

/// The bash script of a scenario's `setup:` lines, run in `work`. Each
/// line must succeed as a whole: `set -e` alone lets a command that fails
/// in the middle of an `a && b && c` line pass unnoticed (the list's
/// status is then not 0, which is checked after the line).
pub(super) fn setup_script(setup: &[String], lib_sh: &Path, work: &Path) -> String {
    let mut script = format!(
        "set -e\numask 022\nsource {}\n",
        shell_quote(&lib_sh.to_string_lossy())
    );
    for (n, l) in setup.iter().enumerate() {
        script.push_str(&format!(
            "{l}\nif [ $? -ne 0 ]; then echo 'setup line {} failed' >&2; exit 97; fi\n",
            n + 1
        ));
    }
    script.push_str(&format!(
        "cd {}\n_compat_settle\n",
        shell_quote(&work.to_string_lossy())
    ));
    script
}

fn run_in(sc: &Scenario, tools: &Tools, t: &Path) -> Result<(), String> {
    let header = format!("scenario {} ({})\n", sc.test_name(), sc.location());
    let fail = |m: String| format!("{header}{m}");

    let work = t.join("work");
    fs::create_dir(&work).map_err(|e| fail(format!("mkdir {}: {e}", work.display())))?;
    let bin = t.join("bin");
    fs::create_dir(&bin).map_err(|e| fail(format!("mkdir {}: {e}", bin.display())))?;
    let arsync_link = bin.join("rsync");
    symlink(&tools.arsync, &arsync_link)
        .map_err(|e| fail(format!("symlink {}: {e}", arsync_link.display())))?;

    let script = setup_script(&sc.setup, &tools.lib_sh, &work);
    let timeout = Duration::from_secs(tools.timeout_secs);
    let setup = run_bash(&script, &work, t, &[], timeout).map_err(fail)?;
    if !setup.ok {
        return Err(fail(format!(
            "setup failed ({}):\n{}{}",
            setup.status,
            report::indent(&String::from_utf8_lossy(&setup.stdout), "    out| "),
            report::indent(&String::from_utf8_lossy(&setup.stderr), "    err| ")
        )));
    }
    let marker = t.join(".setup-done");
    fs::write(&marker, b"").map_err(|e| fail(format!("create marker: {e}")))?;
    let setup_done = mtime_of(&marker).map_err(fail)?;
    let atimes = if sc.extras.atime {
        record_atimes(&work).map_err(fail)?
    } else {
        Vec::new()
    };
    let pristine = t.join("pristine");
    cp_a(&work, &pristine).map_err(fail)?;
    restore_atimes(&work, &atimes).map_err(fail)?;

    let ctx = Ctx {
        sc,
        tools,
        t: t.to_path_buf(),
        setup_done,
    };

    let a = ctx.run_oracle(&pristine, &atimes).map_err(fail)?;
    cp_a(&pristine, &work).map_err(fail)?;
    restore_atimes(&work, &atimes).map_err(fail)?;
    let b = ctx.run_side(Side::Arsync, &arsync_link).map_err(fail)?;

    let mut msg = String::new();
    if tools.show {
        let mut s = format!("=== {} ({})\n", sc.test_name(), sc.location());
        for (st, cap) in sc.steps.iter().zip(&a.steps) {
            s.push_str(&format!(
                "  {}: {}\n{}",
                st.kind.key(),
                st.text,
                show_captured(cap)
            ));
        }
        s.push_str("  tree (out-rsync):\n");
        s.push_str(&report::indent(
            &tree::listing(&a.tree, a.start, sc.extras),
            "    ",
        ));
        eprint!("{s}");
    }

    // A failing sh: step on the rsync side means the scenario itself is broken.
    for (st, cap) in sc.steps.iter().zip(&a.steps) {
        if st.kind == StepKind::Sh && !cap.ok {
            msg.push_str(&format!(
                "scenario error: `sh:` step at line {} failed with rsync's tree ({}):\n{}",
                st.line,
                cap.status,
                show_captured(cap)
            ));
        }
    }

    let mut failed_steps = 0;
    for (n, ((st, ca), cb)) in sc.steps.iter().zip(&a.steps).zip(&b.steps).enumerate() {
        if let Some(d) = compare_step(ca, cb) {
            failed_steps += 1;
            if failed_steps > 3 {
                msg.push_str("(further step differences omitted)\n");
                break;
            }
            let shown_args = match st.kind {
                StepKind::Run if !tools.arsync_extra.is_empty() => format!(
                    "{}   [arsync: {} {}]",
                    st.text,
                    tools.arsync_extra.join(" "),
                    st.text
                ),
                _ => st.text.clone(),
            };
            msg.push_str(&format!(
                "step {} (line {}) {}: {}\n{d}",
                n + 1,
                st.line,
                st.kind.key(),
                shown_args
            ));
        }
    }

    let diffs = tree::compare(&a.tree, a.start, &b.tree, b.start, sc.extras);
    if !diffs.is_empty() {
        msg.push_str(&format!(
            "tree differences (out-rsync vs out-arsync, {} total):\n",
            diffs.len()
        ));
        for d in diffs.iter().take(10) {
            msg.push_str(&format!("  {d}\n"));
        }
        if diffs.len() > 10 {
            msg.push_str("  ...\n");
        }
    }

    if msg.is_empty() {
        Ok(())
    } else {
        Err(fail(msg))
    }
}
