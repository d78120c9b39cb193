//! tools.rs — locates the two programs under test (real rsync, arsync) and the suite's files.

use std::env;
use std::path::{Path, PathBuf};

/// Which side of the differential run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Rsync,
    Arsync,
}

impl Side {
    pub fn label(self) -> &'static str {
        match self {
            Side::Rsync => "rsync",
            Side::Arsync => "arsync",
        }
    }
}

/// Everything a scenario run needs to know about its environment.
#[derive(Debug, Clone)]
pub struct Tools {
    /// Real rsync (the oracle).
    pub rsync: PathBuf,
    /// arsync binary; invoked through a symlink named `rsync`.
    pub arsync: PathBuf,
    /// Extra arguments inserted right after the tool name, arsync runs only.
    pub arsync_extra: Vec<String>,
    /// `compat/lib.sh`, sourced by setup scripts.
    pub lib_sh: PathBuf,
    /// Keep every temp dir (`KEEP=1` or `COMPAT_KEEP=1`); otherwise each is removed,
    /// also after a failure.
    pub keep: bool,
    /// Print rsync's outputs for every scenario (debug aid).
    pub show: bool,
    /// Per-step timeout.
    pub timeout_secs: u64,
}

/// Find an executable called `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Locate real rsync: `$RSYNC_BIN`, else `rsync` on PATH.
pub fn find_rsync() -> Option<PathBuf> {
    match env::var_os("RSYNC_BIN") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            is_executable(&p).then_some(p)
        }
        _ => which("rsync"),
    }
}

/// Locate arsync: `$ARSYNC_BIN`, else the binary Cargo built for this test.
pub fn find_arsync(default: &str) -> PathBuf {
    match env::var_os("ARSYNC_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(default),
    }
}

/// The scenario directory: `$COMPAT_SCENARIOS` (absolute, or relative to the repository
/// root, e.g. `compat/pending`), else `compat/scenarios`.
pub fn scenario_dir(root: &Path) -> PathBuf {
    match env::var_os("COMPAT_SCENARIOS") {
        Some(d) if !d.is_empty() => root.join(d),
        _ => root.join("compat").join("scenarios"),
    }
}

/// `ARSYNC_EXTRA_ARGS`, split on whitespace.
pub fn extra_args() -> Vec<String> {
    env::var("ARSYNC_EXTRA_ARGS")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

pub fn env_flag(name: &str) -> bool {
    matches!(env::var(name).as_deref(), Ok("1") | Ok("true") | Ok("yes"))
}

/// Quote a string for bash (single quotes).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}
