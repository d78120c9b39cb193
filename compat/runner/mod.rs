//! mod.rs — the suite's entry point: loads the scenarios, checks the tools, and turns every
//! scenario (plus the runner's own self-tests) into a libtest-mimic trial.

pub mod exec;
pub mod normalize;
pub mod report;
pub mod scenario;
pub mod selftest;
pub mod tools;
pub mod tree;

use std::path::PathBuf;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

/// Build every trial. `default_arsync` is `env!("CARGO_BIN_EXE_arsync")`;
/// `dir`: the scenarios to run instead of the suite's (no self-tests then).
pub fn trials(default_arsync: &str, dir: Option<&std::path::Path>) -> Vec<Trial> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let compat = root.join("compat");
    let scenarios = dir.map_or_else(|| tools::scenario_dir(&root), std::path::Path::to_path_buf);
    let loaded = scenario::load_dir(&scenarios, &root);

    let mut trials = match dir {
        Some(_) => Vec::new(),
        None => selftest::trials(),
    };

    for e in loaded.errors {
        let name = format!(
            "{}::PARSE-ERROR-line-{}",
            e.file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            e.line
        );
        let msg = format!("scenario file error: {e}");
        eprintln!("ERROR: {msg}");
        trials.push(Trial::test(name, move || Err(Failed::from(msg))));
    }

    let rsync = tools::find_rsync();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if rsync.is_none() && !ci {
        eprintln!(
            "\n**********************************************************************\n\
             WARNING: rsync not found — compat scenarios SKIPPED\n\
             (install it with `apt-get install -y rsync`, or set RSYNC_BIN)\n\
             **********************************************************************\n"
        );
    }
    let tools = rsync.clone().map(|rsync| {
        Arc::new(tools::Tools {
            rsync,
            arsync: tools::find_arsync(default_arsync),
            arsync_extra: tools::extra_args(),
            lib_sh: compat.join("lib.sh"),
            keep: tools::env_flag("KEEP") || tools::env_flag("COMPAT_KEEP"),
            show: tools::env_flag("COMPAT_SHOW"),
            timeout_secs: std::env::var("COMPAT_TIMEOUT")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60),
        })
    });

    let root = rustix::process::geteuid().is_root();
    let root_only = loaded
        .scenarios
        .iter()
        .filter(|s| s.needs_root.is_some())
        .count();
    if !root && root_only > 0 {
        eprintln!(
            "NOTE: {root_only} scenarios need root (mknod, chown, mount, chattr, reading \
             unreadable files) and are reported as ignored: run as root to include them"
        );
    }
    for sc in loaded.scenarios {
        let name = sc.test_name();
        if let (false, Some(why)) = (root, &sc.needs_root) {
            let why = format!("needs root: {why}");
            // Ignored at run time, so that libtest prints the reason.
            trials.push(Trial::ignorable_test(name, move || {
                Ok(Completion::ignored_with(why))
            }));
            continue;
        }
        match &tools {
            Some(t) => {
                let t = Arc::clone(t);
                trials.push(Trial::test(name, move || {
                    exec::run_scenario(&sc, &t).map_err(Failed::from)
                }));
            }
            None if ci => {
                trials.push(Trial::test(name, || {
                    Err(Failed::from(
                        "rsync is required for the compat suite when CI=true but was not found \
                         (install it with `apt-get install -y rsync`, or set RSYNC_BIN)",
                    ))
                }));
            }
            None => {
                trials.push(
                    Trial::ignorable_test(name, || Ok(Completion::ignored_with("rsync not found")))
                        .with_ignored_flag(true),
                );
            }
        }
    }
    trials
}

/// Split the command line into libtest options and positional filters, so that several
/// filters can be given (`compat/run.sh 10-paths 30-symlinks`); libtest-mimic accepts one.
fn split_filters(argv: Vec<String>) -> (Vec<String>, Vec<String>) {
    const TAKES_VALUE: &[&str] = &[
        "--test-threads",
        "--logfile",
        "--skip",
        "--color",
        "--format",
        "-Z",
    ];
    let mut opts = Vec::new();
    let mut filters = Vec::new();
    let mut it = argv.into_iter();
    if let Some(prog) = it.next() {
        opts.push(prog);
    }
    while let Some(a) = it.next() {
        if a == "--" {
            filters.extend(it.by_ref());
            break;
        }
        if a.starts_with('-') {
            let takes = TAKES_VALUE.contains(&a.as_str());
            opts.push(a);
            if takes && let Some(v) = it.next() {
                opts.push(v);
            }
        } else {
            filters.push(a);
        }
    }
    (opts, filters)
}

/// Run the suite (called from tests/compat.rs).
pub fn main(default_arsync: &str) {
    main_in(default_arsync, None)
}

/// Run the scenarios of `dir` (the suite's when `None`).
pub fn main_in(default_arsync: &str, dir: Option<&std::path::Path>) {
    let (opts, filters) = split_filters(std::env::args().collect());
    let args = Arguments::from_iter(opts);
    let mut trials = trials(default_arsync, dir);
    if !filters.is_empty() {
        trials.retain(|t| {
            filters.iter().any(|f| {
                if args.exact {
                    t.name() == f
                } else {
                    t.name().contains(f.as_str())
                }
            })
        });
    }
    libtest_mimic::run(&args, trials).exit();
}
