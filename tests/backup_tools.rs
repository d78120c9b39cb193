//! backup_tools.rs — end-to-end snapshot sequences in the styles of two rsync-based backup
//! tools, run once with real rsync and once with the tool under test (arsync installed as
//! `rsync` on a fake PATH); the snapshot trees must be the same after every step.
//!
//! * rsnapshot: the real program (`apt-get install -y rsnapshot`), driven by a generated
//!   rsnapshot.conf whose `cmd_rsync` is the tool under test, in both rotation modes:
//!   `link_dest 0` (`cp -al` of the newest snapshot, then rsync into it) and `link_dest 1`
//!   (move the newest snapshot aside, rsync with `--link-dest` to it).
//! * rsync-time-backup: our own driver (no code of that project) issuing the same rsync
//!   command line and the same rotation steps as its `rsync_tmbackup.sh`: a `backup.marker`
//!   safety file, one `YYYY-MM-DD-HHMMSS` folder per backup, `--link-dest` to the newest
//!   previous folder (absolute path), `--log-file`, a `backup.inprogress` file during the
//!   run, a `latest` symlink afterwards, and its check for `rsync error:` / `rsync:` lines in
//!   the log. Its age-based expiry is not exercised (all backups are minutes apart).
//!
//! Each sequence is: backup, change the source, backup, backup again with no change. After
//! each backup the trees are compared (content, modes, owners, times, symlinks, and which
//! paths share an inode, across all snapshots), plus checks that hold whatever the tool:
//! unchanged files are hard-linked to the previous snapshot, changed ones are not, older
//! snapshots are left untouched, and no error lines appear.
//!
//! Env: `BACKUP_TOOLS_TOOL` (tool under test, default: the arsync binary Cargo builds; set it
//! to `/usr/bin/rsync` to check the test itself), `RSYNC_BIN` (reference rsync, default
//! `rsync` on PATH), `BACKUP_TOOLS_KEEP=1` (keep the temp dirs). Without rsync or rsnapshot
//! the tests are skipped with a warning, or fail under `CI=true`.
//! More in tests/backup_tools/README.md.

#[allow(dead_code)]
#[path = "../compat/runner/mod.rs"]
mod runner;

use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use runner::scenario::Extras;
use runner::tree::{self, Stamp, Tree};

/// Source tree, first state. Fixed mtimes everywhere (lib.sh helpers).
const SOURCE_V1: &str = r#"
mkfile src/docs/report.txt 5000 1600000001
mkfile src/docs/notes.md 300 1600000002
mkfile src/big.bin 300000 1600000003
mkfile src/empty 0 1600000004
mkfile src/script.sh 40 1600000005 && chmod 0755 src/script.sh
mkfile src/secret 20 1600000006 && chmod 0600 src/secret
mkfile src/deep/a/b/c/leaf.txt 10 1600000007
mkfile src/hard1 100 1600000008 && ln src/hard1 src/docs/hard2
mkfile "src/with space.txt" 7 1600000009
mkfile src/gone-later.txt 12 1600000010
ln -s docs/report.txt src/link && ln -s nowhere src/dangling
mkfifo src/fifo
mkdir -p src/emptydir
stamp 1600000020 src/link src/dangling src/fifo
stamp 1600000050 src/emptydir src/deep/a/b/c src/deep/a/b src/deep/a src/deep src/docs src
"#;

/// The change between the first and the second backup: new content (same and other size),
/// an mtime-only change, a permission-only change, additions and deletions.
const SOURCE_CHANGE: &str = r#"
mkfile src/docs/report.txt 5200 1600000101
yes changed | head -c 300 > src/docs/notes.md && stamp 1600000102 src/docs/notes.md
stamp 1600000103 src/big.bin
chmod 0640 src/secret
rm src/gone-later.txt
rm -r src/deep/a/b/c
mkfile src/new.txt 50 1600000104
mkfile src/newdir/x 5 1600000105
ln -s script.sh src/link2 && stamp 1600000106 src/link2
stamp 1600000200 src/newdir src/deep/a/b src/docs src
"#;

/// Unchanged between the first and second backup (must be hard-linked to the first).
const UNCHANGED: &[&str] = &[
    "script.sh",
    "hard1",
    "docs/hard2",
    "with space.txt",
    "empty",
];
/// Changed content or mtime (must be new inodes in the second backup).
const CHANGED: &[&str] = &["docs/report.txt", "docs/notes.md", "big.bin"];

fn env_flag(name: &str) -> bool {
    matches!(
        std::env::var(name).as_deref(),
        Ok("1") | Ok("true") | Ok("yes")
    )
}

fn tool_under_test() -> PathBuf {
    match std::env::var_os("BACKUP_TOOLS_TOOL") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_arsync")),
    }
}

/// `Err(WHY)` (the test is reported as ignored) when a required program is
/// missing; a panic instead under `CI=true`.
fn require(what: &str, found: bool) -> Result<(), String> {
    if found {
        return Ok(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is required when CI=true (apt-get install -y rsync rsnapshot)");
    }
    Err(format!(
        "{what} not found (apt-get install -y rsync rsnapshot)"
    ))
}

/// A test: `Err(WHY)` when it cannot run here (a panic fails it).
type Test = fn() -> Result<(), String>;

/// The tests (harness = false): one that cannot run here is counted as
/// ignored, with its reason, rather than passed.
fn main() {
    use libtest_mimic::{Arguments, Completion, Trial};
    let tests: [(&str, Test); 4] = [
        ("rsnapshot_cp_al_rotation", rsnapshot_cp_al_rotation),
        ("rsnapshot_link_dest_rotation", rsnapshot_link_dest_rotation),
        ("rsync_time_backup", rsync_time_backup),
        ("helpers", helpers),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| {
            Trial::ignorable_test(name, move || match test() {
                Ok(()) => Ok(Completion::Completed),
                Err(why) => Ok(Completion::ignored_with(why)),
            })
        })
        .collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit();
}

fn lib_sh() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("compat/lib.sh")
}

fn show(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run a bash snippet (lib.sh sourced, `set -e`) in `cwd`.
fn bash(script: &str, cwd: &Path) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e\numask 022\nsource '{}'\n{script}",
            lib_sh().display()
        ))
        .current_dir(cwd)
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "script failed:\n{script}\n{}",
        show(&out)
    );
}

/// The filesystem's idea of "now" (mtime of a fresh marker file): stamps at or after it are
/// "fresh" in the tree comparison.
fn fs_now(dir: &Path) -> Stamp {
    let marker = dir.join(".now");
    let _ = fs::remove_file(&marker);
    fs::write(&marker, b"").expect("write marker");
    let md = fs::metadata(&marker).expect("stat marker");
    fs::remove_file(&marker).expect("remove marker");
    (md.mtime(), md.mtime_nsec())
}

/// One side of the differential run: real rsync, or the tool under test, each reached through
/// `ROOT/bin/rsync` (a symlink) so that both print `rsync: ...`.
struct Side {
    label: &'static str,
    root: PathBuf,
    bin: PathBuf,
}

impl Side {
    fn new(base: &Path, label: &'static str, program: &Path) -> Side {
        let root = base.join(format!("run-{label}"));
        let bin = root.join("bin");
        fs::create_dir_all(&bin).expect("mkdir bin");
        symlink(program, bin.join("rsync")).expect("symlink rsync");
        Side { label, root, bin }
    }

    fn rsync(&self) -> PathBuf {
        self.bin.join("rsync")
    }

    fn path_env(&self) -> std::ffi::OsString {
        let mut paths = vec![self.bin.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&p));
        }
        std::env::join_paths(paths).expect("PATH")
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("PATH", self.path_env())
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("HOME", &self.root)
            .current_dir(&self.root);
        c
    }
}

/// What one backup run left behind, for the differential comparison.
struct Step {
    tree: Tree,
    /// Normalised output lines worth comparing (itemize/stats lines, log lines).
    output: Vec<String>,
}

/// The temp dir, shared by both sides so that the source has the same absolute path.
struct World {
    base: PathBuf,
    _tmp: Option<tempfile::TempDir>,
}

impl World {
    fn new(name: &str) -> World {
        let tmp = tempfile::Builder::new()
            .prefix(&format!("backup-tools-{name}-"))
            .tempdir()
            .expect("tempdir");
        let base = tmp.path().to_path_buf();
        let keep = env_flag("BACKUP_TOOLS_KEEP");
        if keep {
            eprintln!("backup_tools: keeping {}", base.display());
        }
        World {
            base,
            _tmp: if keep {
                let _ = tmp.keep();
                None
            } else {
                Some(tmp)
            },
        }
    }

    fn src(&self) -> PathBuf {
        self.base.join("src")
    }

    /// (Re)create the source tree in its first state.
    fn reset_source(&self) {
        let _ = fs::remove_dir_all(self.src());
        bash(SOURCE_V1, &self.base);
    }

    fn change_source(&self) {
        bash(SOURCE_CHANGE, &self.base);
    }
}

/// The entries of `t` below `prefix` (a directory path relative to the tree root), re-rooted
/// at `.`; hard-link groups are dropped (they grow as later snapshots link in).
fn subtree(t: &Tree, prefix: &str) -> Tree {
    let p = prefix.as_bytes();
    let mut out = Tree::default();
    for (k, e) in &t.entries {
        let rel: Option<Vec<u8>> = if k.as_slice() == p {
            Some(b".".to_vec())
        } else if k.len() > p.len() && k.starts_with(p) && k[p.len()] == b'/' {
            Some(k[p.len() + 1..].to_vec())
        } else {
            None
        };
        if let Some(rel) = rel {
            out.entries.insert(rel, e.clone());
        }
    }
    out
}

/// Differences between two trees; the runner labels the sides `rsync=`/`arsync=`, renamed
/// here to `labels` (e.g. `rsync`/`tool`, or `before`/`after`).
fn compare_trees(
    what: &str,
    (a, a_start): (&Tree, Stamp),
    (b, b_start): (&Tree, Stamp),
    labels: (&str, &str),
) -> Vec<String> {
    tree::compare(a, a_start, b, b_start, Extras::default())
        .into_iter()
        .map(|d| {
            let d = d
                .replace(" arsync=", &format!(" {}=", labels.1))
                .replace(" rsync=", &format!(" {}=", labels.0));
            format!("{what}{d}")
        })
        .collect()
}

fn inode(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path)
        .ok()
        .map(|md| (md.dev(), md.ino()))
}

/// Tool-independent properties of a link-dest/cp -al sequence: after the second backup,
/// unchanged files share an inode with the first backup and changed ones do not; after the
/// third (no change), every regular file shares its inode with the second backup.
fn check_linking(side: &str, first: &Path, second: &Path, third: &Path, errors: &mut Vec<String>) {
    for f in UNCHANGED.iter().chain(CHANGED) {
        for p in [first.join(f), second.join(f)] {
            if inode(&p).is_none() {
                errors.push(format!("[{side}] missing {}", p.display()));
                return;
            }
        }
    }
    for f in UNCHANGED {
        if inode(&first.join(f)) != inode(&second.join(f)) {
            errors.push(format!(
                "[{side}] unchanged {f} is not hard-linked to the previous snapshot"
            ));
        }
    }
    for f in CHANGED {
        if inode(&first.join(f)) == inode(&second.join(f)) {
            errors.push(format!(
                "[{side}] changed {f} shares its inode with the previous snapshot"
            ));
        }
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let rd = match fs::read_dir(third.join(&rel)) {
            Ok(rd) => rd,
            Err(e) => {
                errors.push(format!(
                    "[{side}] read_dir {}: {e}",
                    third.join(&rel).display()
                ));
                continue;
            }
        };
        for de in rd.filter_map(Result::ok) {
            let r = rel.join(de.file_name());
            let Ok(ft) = de.file_type() else { continue };
            if ft.is_dir() {
                stack.push(r);
            } else if ft.is_file() && inode(&third.join(&r)) != inode(&second.join(&r)) {
                errors.push(format!(
                    "[{side}] no-change backup: {} is not hard-linked to the previous snapshot",
                    r.display()
                ));
            }
        }
    }
}

/// Output lines that must not appear: rsync's error/warning lines, rsnapshot's ERROR lines.
fn error_lines(side: &str, what: &str, text: &str, errors: &mut Vec<String>) {
    for l in text.lines() {
        if l.starts_with("rsync:")
            || l.starts_with("rsync error:")
            || l.contains("ERROR")
            || l.contains("WARNING")
        {
            errors.push(format!("[{side}] {what}: error line: {l}"));
        }
    }
}

/// Compare both sides step by step, then report everything at once.
fn finish(
    name: &str,
    world: &World,
    a: (&[Step], Stamp),
    b: (&[Step], Stamp),
    mut errors: Vec<String>,
) {
    for (n, (sa, sb)) in a.0.iter().zip(b.0).enumerate() {
        let what = format!("after backup {}", n + 1);
        errors.extend(compare_trees(
            &format!("{what}: "),
            (&sa.tree, a.1),
            (&sb.tree, b.1),
            ("rsync", "tool"),
        ));
        if sa.output != sb.output && !runner::normalize::stdout_relaxed_eq(&sa.output, &sb.output) {
            errors.push(format!(
                "{what}: output differs (- rsync, + tool):\n{}",
                runner::report::line_diff(&sa.output, &sb.output, 40)
            ));
        }
    }
    if !errors.is_empty() {
        let mut msg = format!(
            "{name}: {} problem(s) (tool under test: {})\n",
            errors.len(),
            tool_under_test().display()
        );
        for e in errors.iter().take(40) {
            msg.push_str(&format!("  {e}\n"));
        }
        if errors.len() > 40 {
            msg.push_str("  ...\n");
        }
        msg.push_str(&format!(
            "temp dir: {} (set BACKUP_TOOLS_KEEP=1 to keep it)\n",
            world.base.display()
        ));
        panic!("{msg}");
    }
}

// ---------------------------------------------------------------------------------------
// rsnapshot
// ---------------------------------------------------------------------------------------

fn which(name: &str) -> Option<PathBuf> {
    runner::tools::which(name)
}

/// Ancestors of the source dir as they appear inside an rsnapshot snapshot (`--relative`
/// recreates them): their mtimes come from the live system (/tmp, the temp dir) and change
/// between the two runs, so they are masked before comparing.
fn mask_implied_dirs(t: &mut Tree, snapshots: &[&str], src: &Path) {
    let mut implied = Vec::new();
    let mut acc = String::from("localhost");
    implied.push(acc.clone());
    let comps: Vec<_> = src
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    for c in &comps[..comps.len().saturating_sub(1)] {
        acc.push('/');
        acc.push_str(c);
        implied.push(acc.clone());
    }
    for s in snapshots {
        for i in &implied {
            if let Some(e) = t.entries.get_mut(format!("{s}/{i}").as_bytes()) {
                e.mtime = (0, 0);
            }
        }
    }
}

/// The snapshot's copy of the source dir, relative to the snapshot root.
fn rsnapshot_src_in(snapshot: &str, src: &Path) -> String {
    format!(
        "{snapshot}/localhost{}",
        src.to_string_lossy().trim_end_matches('/')
    )
}

fn rsnapshot_sequence(
    world: &World,
    side: &Side,
    link_dest: u8,
) -> (Vec<Step>, Stamp, Vec<String>) {
    let mut errors = Vec::new();
    world.reset_source();
    let start = fs_now(&world.base);
    let snaps = side.root.join("snaps");
    let conf = side.root.join("rsnapshot.conf");
    let text = [
        "config_version\t1.2".to_string(),
        format!("snapshot_root\t{}/", snaps.display()),
        "cmd_cp\t/bin/cp".into(),
        "cmd_rm\t/bin/rm".into(),
        format!("cmd_rsync\t{}", side.rsync().display()),
        "retain\talpha\t5".into(),
        "verbose\t2".into(),
        "loglevel\t3".into(),
        format!("lockfile\t{}/rsnapshot.pid", side.root.display()),
        format!("link_dest\t{link_dest}"),
        format!("backup\t{}/\tlocalhost/", world.src().display()),
        String::new(),
    ]
    .join("\n");
    fs::write(&conf, text).expect("write rsnapshot.conf");

    let mut steps = Vec::new();
    let src = world.src();
    for n in 1..=3 {
        if n == 2 {
            world.change_source();
        }
        let out = side
            .command("rsnapshot")
            .arg("-c")
            .arg(&conf)
            .arg("alpha")
            .output()
            .expect("run rsnapshot");
        if !out.status.success() {
            errors.push(format!(
                "[{}] rsnapshot run {n} failed:\n{}",
                side.label,
                show(&out)
            ));
        }
        error_lines(
            side.label,
            &format!("rsnapshot run {n} stdout"),
            &String::from_utf8_lossy(&out.stdout),
            &mut errors,
        );
        error_lines(
            side.label,
            &format!("rsnapshot run {n} stderr"),
            &String::from_utf8_lossy(&out.stderr),
            &mut errors,
        );
        let mut t = tree::snapshot(&snaps).expect("snapshot tree");
        mask_implied_dirs(&mut t, &["alpha.0", "alpha.1", "alpha.2"], &src);
        steps.push(Step {
            tree: t,
            output: Vec::new(),
        });
    }

    // Older snapshots untouched: the first backup, now alpha.1 then alpha.2, still holds
    // what it held. With cp -al the permission-only change reaches it through the shared
    // inode (rsync changes the mode in place), so `secret`'s mode is exempt there.
    let first = subtree(&steps[0].tree, &rsnapshot_src_in("alpha.0", &src));
    for (n, name) in [(1, "alpha.1"), (2, "alpha.2")] {
        let later = subtree(&steps[n].tree, &rsnapshot_src_in(name, &src));
        for d in compare_trees("", (&first, start), (&later, start), ("before", "after")) {
            if link_dest == 0 && d.starts_with("secret: mode ") {
                continue;
            }
            errors.push(format!(
                "[{}] first snapshot changed by backup {}: {d}",
                side.label,
                n + 1
            ));
        }
    }
    let at = |s: &str| snaps.join(rsnapshot_src_in(s, &src));
    check_linking(
        side.label,
        &at("alpha.2"),
        &at("alpha.1"),
        &at("alpha.0"),
        &mut errors,
    );
    (steps, start, errors)
}

fn rsnapshot_test(name: &str, link_dest: u8) -> Result<(), String> {
    let rsync = runner::tools::find_rsync();
    require("rsync", rsync.is_some())?;
    let rsync = rsync.unwrap_or_default();
    require("rsnapshot", which("rsnapshot").is_some())?;
    let world = World::new(name);
    let ref_side = Side::new(&world.base, "rsync", &rsync);
    let tool_side = Side::new(&world.base, "tool", &tool_under_test());
    let (a, a_start, mut errors) = rsnapshot_sequence(&world, &ref_side, link_dest);
    let (b, b_start, e2) = rsnapshot_sequence(&world, &tool_side, link_dest);
    errors.extend(e2);
    finish(name, &world, (&a, a_start), (&b, b_start), errors);
    Ok(())
}

fn rsnapshot_cp_al_rotation() -> Result<(), String> {
    rsnapshot_test("rsnapshot-cp-al", 0)
}

fn rsnapshot_link_dest_rotation() -> Result<(), String> {
    rsnapshot_test("rsnapshot-link-dest", 1)
}

// ---------------------------------------------------------------------------------------
// rsync-time-backup
// ---------------------------------------------------------------------------------------

/// rsync_tmbackup.sh's default flags.
const TMBACKUP_FLAGS: &[&str] = &[
    "-D",
    "--numeric-ids",
    "--links",
    "--hard-links",
    "--one-file-system",
    "--itemize-changes",
    "--times",
    "--recursive",
    "--perms",
    "--owner",
    "--group",
    "--stats",
    "--human-readable",
];

/// Backup folder names: the tool uses `date +%Y-%m-%d-%H%M%S`; fixed names here.
const TMBACKUP_NAMES: &[&str] = &[
    "2020-01-01-000001",
    "2020-01-01-000002",
    "2020-01-01-000003",
];

/// `2026/11/27 06:07:55 [4447] text` → `text`.
fn strip_log_prefix(l: &str) -> &str {
    let b = l.as_bytes();
    if b.len() > 20
        && b[4] == b'/'
        && b[7] == b'/'
        && b[13] == b':'
        && b[19] == b' '
        && let Some(rest) = l[20..].strip_prefix('[')
        && let Some((_, text)) = rest.split_once("] ")
    {
        return text;
    }
    l
}

fn tmbackup_sequence(world: &World, side: &Side) -> (Vec<Step>, Stamp, Vec<String>) {
    let mut errors = Vec::new();
    world.reset_source();
    let start = fs_now(&world.base);
    let dest_folder = side.root.join("backups");
    let log_dir = side.root.join("logs");
    fs::create_dir_all(&dest_folder).expect("mkdir backups");
    fs::create_dir_all(&log_dir).expect("mkdir logs");
    // The safety check: the destination must hold a backup.marker.
    fs::write(dest_folder.join("backup.marker"), b"").expect("marker");

    let mut steps = Vec::new();
    for (n, name) in TMBACKUP_NAMES.iter().enumerate() {
        if n == 1 {
            world.change_source();
        }
        // PREVIOUS_DEST: the newest existing backup folder, made absolute.
        let mut previous: Vec<PathBuf> = fs::read_dir(&dest_folder)
            .expect("read backups")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        previous.sort();
        let dest = dest_folder.join(name);
        fs::create_dir_all(&dest).expect("mkdir -p DEST");
        let inprogress = dest_folder.join("backup.inprogress");
        fs::write(&inprogress, b"4242\n").expect("inprogress");
        let log = log_dir.join(format!("{name}.log"));

        let mut cmd = side.command("rsync");
        cmd.args(TMBACKUP_FLAGS).arg("--log-file").arg(&log);
        if let Some(prev) = previous.last() {
            let mut a = std::ffi::OsString::from("--link-dest=");
            a.push(prev.canonicalize().expect("absolute previous"));
            cmd.arg(a);
        }
        let mut s = world.src().into_os_string();
        s.push("/");
        let mut d = dest.clone().into_os_string();
        d.push("/");
        cmd.arg("--").arg(s).arg(d);
        let out = cmd.output().expect("run rsync");
        if !out.status.success() {
            errors.push(format!(
                "[{}] backup {} failed:\n{}",
                side.label,
                n + 1,
                show(&out)
            ));
        }
        error_lines(
            side.label,
            &format!("backup {} stderr", n + 1),
            &String::from_utf8_lossy(&out.stderr),
            &mut errors,
        );
        let log_text = fs::read_to_string(&log).unwrap_or_else(|e| {
            errors.push(format!(
                "[{}] no log file {}: {e}",
                side.label,
                log.display()
            ));
            String::new()
        });
        // The tool's own check: any `rsync error:` or `rsync:` line in the log.
        let log_lines: Vec<&str> = log_text.lines().map(strip_log_prefix).collect();
        error_lines(
            side.label,
            &format!("backup {} log", n + 1),
            &log_lines.join("\n"),
            &mut errors,
        );

        // `latest` symlink to the new folder, then the in-progress marker goes away.
        let latest = dest_folder.join("latest");
        let _ = fs::remove_file(&latest);
        symlink(name, &latest).expect("ln -s latest");
        fs::remove_file(&inprogress).expect("rm inprogress");

        let mut output = runner::normalize::stdout_lines(&out.stdout);
        output.push("--- log".into());
        output.extend(runner::normalize::stdout_lines(
            log_lines.join("\n").as_bytes(),
        ));
        steps.push(Step {
            tree: tree::snapshot(&dest_folder).expect("snapshot tree"),
            output,
        });
    }

    let first = subtree(&steps[0].tree, TMBACKUP_NAMES[0]);
    for (n, step) in steps.iter().enumerate().skip(1) {
        let later = subtree(&step.tree, TMBACKUP_NAMES[0]);
        for d in compare_trees("", (&first, start), (&later, start), ("before", "after")) {
            errors.push(format!(
                "[{}] first snapshot changed by backup {}: {d}",
                side.label,
                n + 1
            ));
        }
    }
    let at = |i: usize| dest_folder.join(TMBACKUP_NAMES[i]);
    check_linking(side.label, &at(0), &at(1), &at(2), &mut errors);
    // -H: the hard-linked pair stays one inode inside each snapshot.
    for i in 0..3 {
        let (x, y) = (
            inode(&at(i).join("hard1")),
            inode(&at(i).join("docs/hard2")),
        );
        if x.is_none() || x != y {
            errors.push(format!(
                "[{}] backup {}: hard1 and docs/hard2 are not one inode (--hard-links)",
                side.label,
                i + 1
            ));
        }
    }
    (steps, start, errors)
}

fn rsync_time_backup() -> Result<(), String> {
    let rsync = runner::tools::find_rsync();
    require("rsync", rsync.is_some())?;
    let rsync = rsync.unwrap_or_default();
    let world = World::new("rsync-time-backup");
    let ref_side = Side::new(&world.base, "rsync", &rsync);
    let tool_side = Side::new(&world.base, "tool", &tool_under_test());
    let (a, a_start, mut errors) = tmbackup_sequence(&world, &ref_side);
    let (b, b_start, e2) = tmbackup_sequence(&world, &tool_side);
    errors.extend(e2);
    finish(
        "rsync-time-backup",
        &world,
        (&a, a_start),
        (&b, b_start),
        errors,
    );
    Ok(())
}

/// The helpers themselves: log prefixes are stripped, subtrees re-rooted, implied dirs
/// masked.
fn helpers() -> Result<(), String> {
    assert_eq!(
        strip_log_prefix("2026/11/27 06:07:55 [4447] >f+++++++++ a"),
        ">f+++++++++ a"
    );
    assert_eq!(strip_log_prefix("plain line"), "plain line");
    let tmp = tempfile::tempdir().expect("tempdir");
    bash(
        "mkfile s/localhost/x/src/y 3 && mkfile s/z 1 && stamp 1600000000 s/localhost/x/src s/localhost/x s/localhost",
        tmp.path(),
    );
    let mut t = tree::snapshot(tmp.path()).expect("snapshot");
    let sub = subtree(&t, "s/localhost/x");
    let keys = |t: &Tree| {
        t.entries
            .keys()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&sub), vec![".", "src", "src/y"]);
    mask_implied_dirs(&mut t, &["s"], Path::new("/x/src"));
    let masked: Vec<String> = t
        .entries
        .iter()
        .filter(|(_, e)| e.mtime == (0, 0))
        .map(|(k, _)| String::from_utf8_lossy(k).into_owned())
        .collect();
    assert_eq!(masked, vec!["s/localhost", "s/localhost/x"]);
    Ok(())
}
