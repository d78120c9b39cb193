//! compat_gen.rs — the generative differential tester's fixed-seed run (issue 13): the cases
//! `compat/gen/generate.py` makes for seeds 1..=150 (random trees, destination states and
//! option sets), run through the compat runner against real rsync. A longer run, and the
//! shrinking of a failing seed, are described in compat/README.md.

#[path = "../compat/runner/mod.rs"]
#[allow(dead_code)]
mod runner;

/// The seeds every `cargo test` runs.
const SEEDS: &str = "1-150";

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // (The runner exits the process: the cases go under Cargo's target
    // temp dir rather than a temp dir that would never be removed.)
    // A user who may not write there (the suite run as another user than
    // the build's) gets a directory of their own under the temp dir.
    let mut dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("compat-gen");
    if std::fs::create_dir_all(&dir).is_err() || tempfile::tempfile_in(&dir).is_err() {
        let uid = rustix::process::geteuid().as_raw();
        dir = std::env::temp_dir().join(format!("arsync-compat-gen-{uid}"));
        std::fs::create_dir_all(&dir).expect("a directory for the generated cases");
    }
    let made = std::process::Command::new("python3")
        .arg(root.join("compat/gen/generate.py"))
        .args(["--seeds", SEEDS, "--out"])
        .arg(&dir)
        .status();
    match made {
        Ok(s) if s.success() => {}
        other => panic!("compat/gen/generate.py failed (python3 is needed): {other:?}"),
    }
    runner::main_in(env!("CARGO_BIN_EXE_arsync"), Some(&dir));
}
