//! arsync: an rsync-compatible local copier built on io_uring.
//!
//! Data flows one way: `cli` turns argv into [`options::Options`]; `walk`
//! lists the sources; `plan` decides what each entry needs; `engine` moves
//! file content and `meta` sets attributes; `report` prints what happened;
//! `exit` maps the outcome to rsync's exit codes. `transfer` drives one run.

pub mod backup;
pub mod cli;
pub mod delete;
pub mod engine;
pub mod exit;
pub mod fallback;
pub mod filter;
pub mod meta;
pub mod options;
pub mod plan;
pub mod report;
pub mod scan;
pub mod sys;
pub mod transfer;
pub mod walk;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;

use cli::Command;
use exit::ExitCode;

/// The name messages are printed under: the basename arsync was invoked
/// as, so that an install named `rsync` prints `rsync: …` like rsync.
pub fn program_name(argv0: Option<&OsString>) -> String {
    argv0
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "arsync".to_string())
}

/// Runs arsync with a full argv (program name first) and returns the exit
/// code.
pub fn main_with_args(argv: Vec<OsString>) -> i32 {
    let name = program_name(argv.first());
    let args = argv.get(1..).unwrap_or_default();
    match cli::parse(args) {
        Ok(Command::Help) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(cli::help::help_text(&name).as_bytes());
            0
        }
        Ok(Command::Usage) => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(cli::help::help_text(&name).as_bytes());
            ExitCode::Syntax.code()
        }
        Ok(Command::Version(_)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(cli::help::version_text(&name).as_bytes());
            0
        }
        Ok(Command::Run(opts)) => transfer::run(&opts, &name).code(),
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{name}: {e}");
            let _ = writeln!(err, "{}", final_line!(&name, ExitCode::Syntax));
            ExitCode::Syntax.code()
        }
    }
}
