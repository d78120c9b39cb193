//! arsync: an rsync-compatible local copier built on io_uring.
//!
//! Data flows one way: `cli` turns argv into [`options::Options`]; `walk`
//! lists the sources; `plan` decides what each entry needs; `engine` moves
//! file content and `meta` sets attributes; `report` prints what happened;
//! `exit` maps the outcome to rsync's exit codes. `transfer` drives one run.

#![warn(unreachable_pub)]

pub(crate) mod backup;
pub(crate) mod chmod;
pub(crate) mod cli;
pub(crate) mod copyas;
pub(crate) mod delete;
pub(crate) mod destfs;
pub(crate) mod engine;
pub(crate) mod exit;
pub(crate) mod fallback;
pub mod filter;
pub(crate) mod iconv;
pub(crate) mod idmap;
pub(crate) mod listfile;
pub(crate) mod meta;
pub(crate) mod name;
pub(crate) mod options;
pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod scan;
pub(crate) mod select;
pub(crate) mod sys;
pub(crate) mod tempname;
pub(crate) mod text;
pub(crate) mod transfer;
pub(crate) mod version;
pub(crate) mod walk;

/// The generated documentation (man page, completions), for `man/gen-docs.rs`
/// and `tests/docs.rs`.
pub use cli::docs;

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

/// The protocols rsync 3.5 speaks, all run by arsync itself; it refuses
/// the values outside like rsync (`protocol_refused`). Below 31 mtimes
/// go in whole seconds; below 30 there is no incremental recursion,
/// `--delete` means `--delete-before`, `%C` is blank; below 29 the item
/// lines change (see `report::OldProtocol`), the created-files stats line
/// goes and four options are refused (`old_protocol_refused`); at 24 and
/// below both processes warn that the other is very old.
const RSYNC_PROTOCOLS: std::ops::RangeInclusive<i64> = 20..=32;
/// Below this `--protocol` rsync's old file list and output model apply
/// (see `report::OldProtocol`; `-H`'s group leaders: `transfer::hlink`).
const OLD_PROTOCOL: i64 = 29;

/// An option occurrence's value as bytes (empty without one).
fn value_of(ev: &cli::lex::Event) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    ev.value
        .as_deref()
        .map(|v| v.as_bytes())
        .unwrap_or_default()
}

/// Whether arsync itself implements this option occurrence (the
/// hand-over decision): the option table's allowlist, and for `--info` /
/// `--debug` the flag words arsync reproduces exactly.
fn implemented(ev: &cli::lex::Event) -> bool {
    use cli::spec::Id;
    let value = value_of(ev);
    match ev.spec.id {
        Id::Info | Id::Debug => cli::output_words_supported(ev.spec.id, value),
        // A list on another host is read by rsync's remote side.
        Id::FilesFrom => !fallback::is_remote(value),
        _ => ev.spec.supported(),
    }
}

/// rsync's lines for a `--protocol` outside 20–32: both of its processes
/// refuse (the order of their lines varies from run to run in rsync; this
/// is its most frequent one). Up to 40 (the highest it accepts from a
/// peer) it names its own maximum; beyond, as below 20, the peers do not
/// understand each other. Returns exit code 2.
fn protocol_refused(name: &str, protocol: i64) -> i32 {
    let max = version::PROTOCOL;
    let lines: &[String] = if (i64::from(max) + 1..=40).contains(&protocol) {
        &[
            format!("--protocol must be no more than {max} on the Client."),
            format!("--protocol must be no more than {max} on the Server."),
        ]
    } else {
        &[
            "protocol version mismatch -- is your shell clean?".to_string(),
            "protocol version mismatch -- is your shell clean?".to_string(),
            "(see the rsync manpage for an explanation)".to_string(),
            "(see the rsync manpage for an explanation)".to_string(),
        ]
    };
    let mut err = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(err, "{l}");
    }
    let code = ExitCode::ProtocolIncompat;
    let _ = writeln!(err, "{}", final_line!(name, code, Some("Receiver")));
    let _ = writeln!(err, "{}", final_line!(name, code, Some("sender")));
    code.code()
}

/// rsync's refusals below protocol 29 (its compat checks, in their
/// order): `None` if the options pass.
fn old_protocol_refusal(opts: &options::Options, fuzzy: bool) -> Option<String> {
    let p = opts.protocol;
    if p >= OLD_PROTOCOL {
        return None;
    }
    let basis = opts.basis.as_ref();
    if fuzzy {
        return Some(format!(
            "--fuzzy requires protocol 29 or higher (negotiated {p})."
        ));
    }
    if let Some((kind, _)) = basis.filter(|_| opts.inplace) {
        return Some(format!(
            "--{} with --inplace requires protocol 29 or higher (negotiated {p}).",
            kind.option_name()
        ));
    }
    if let Some((kind, _)) = basis.filter(|(_, dirs)| dirs.len() > 1) {
        return Some(format!(
            "Using more than one --{} option requires protocol 29 or higher (negotiated {p}).",
            kind.option_name()
        ));
    }
    opts.prune_empty_dirs
        .then(|| format!("--prune-empty-dirs requires protocol 29 or higher (negotiated {p})."))
}

/// Prints rsync's lines when both of its processes refuse an option at an
/// old protocol (their most frequent order; at 24 and below after their
/// old-version warnings) and returns exit code 2.
fn old_protocol_refused(name: &str, opts: &options::Options, why: &str) -> i32 {
    let code = ExitCode::ProtocolIncompat;
    if opts.protocol <= 24 && opts.quiet == 0 {
        let _ = writeln!(std::io::stdout(), "{}", report::OLD_SERVER);
        let _ = writeln!(std::io::stderr(), "{}", report::OLD_CLIENT);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{why}");
    let _ = writeln!(err, "{}", final_line!(name, code, Some("Receiver")));
    let _ = writeln!(err, "{why}");
    let _ = writeln!(err, "{}", final_line!(name, code, Some("sender")));
    code.code()
}

/// Whether the command line asks for `--fuzzy` (which arsync otherwise
/// accepts and ignores): its last occurrence is not a negation.
fn wants_fuzzy(lexed: &cli::lex::Lexed) -> bool {
    lexed
        .events
        .iter()
        .rev()
        .find(|e| e.spec.id == cli::spec::Id::Fuzzy)
        .is_some_and(|e| !e.negated())
}

/// A command line that parsed: rsync's protocol refusals first, then
/// the transfer (with `-M` options as rsync's receiving side takes them).
fn run(name: &str, args: &[OsString], opts: &options::Options, fuzzy: bool) -> i32 {
    if !RSYNC_PROTOCOLS.contains(&opts.protocol) {
        return protocol_refused(name, opts.protocol);
    }
    if let Some(why) = old_protocol_refusal(opts, fuzzy) {
        return old_protocol_refused(name, opts, &why);
    }
    if opts.remote_options.is_empty() {
        return transfer::run(opts, name).code();
    }
    match cli::remote::apply(args, opts) {
        Ok(o) => transfer::run(&o, name).code(),
        Err(e) => remote_refused(name, &e.0),
    }
}

/// Prints `NAME: TEXT` and rsync's usage-error line; returns exit code 1.
fn usage_error(name: &str, text: &str) -> i32 {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{name}: {text}");
    let _ = writeln!(err, "{}", final_line!(name, ExitCode::Syntax));
    ExitCode::Syntax.code()
}

/// rsync's lines when its receiving side refuses a `-M` option on a local
/// copy: the server's refusal, then the sender's lost connection (exit 12).
fn remote_refused(name: &str, why: &str) -> i32 {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{name}: {why}");
    let _ = writeln!(err, "{}", final_line!(name, ExitCode::Syntax));
    let _ = writeln!(
        err,
        "{name}: connection unexpectedly closed (0 bytes received so far) [sender]"
    );
    let _ = writeln!(err, "{}", final_line!(name, ExitCode::Protocol));
    ExitCode::Protocol.code()
}

/// Runs arsync with a full argv (program name first) and returns the exit
/// code.
///
/// A command line arsync does not implement (remote operands, `--server`,
/// `--daemon`, options without an apply function in [`cli::spec`]) is first
/// handed over to the system rsync, before the parser could refuse it;
/// `ARSYNC_NO_FALLBACK=1` / `--no-fallback` turn that into a usage error.
pub fn main_with_args(argv: Vec<OsString>) -> i32 {
    let name = program_name(argv.first());
    let args = iconv::env_default(
        argv.get(1..).unwrap_or_default(),
        std::env::var_os("RSYNC_ICONV"),
    );
    let args = args.as_slice();
    let lexed = cli::lex::lex(args);
    if let Some(reason) = fallback::needs_rsync_with(&lexed, &implemented) {
        if fallback::fallback_disabled(&lexed) {
            return usage_error(&name, &fallback::refusal(&reason));
        }
        let verbose = fallback::wants_verbose(&lexed);
        return match fallback::exec_system_rsync(&argv, &lexed, &reason, verbose) {
            Ok(never) => match never {},
            Err(msg) => usage_error(&name, &msg),
        };
    }
    match cli::parse_lexed(args, &lexed) {
        Ok(Command::Help) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(cli::help::help_text(&name).as_bytes());
            0
        }
        Ok(Command::Usage) => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(cli::help::help_text(&name).as_bytes());
            let _ = writeln!(err, "{}", final_line!(&name, ExitCode::Syntax));
            ExitCode::Syntax.code()
        }
        Ok(Command::InfoHelp) => {
            let _ = std::io::stdout()
                .lock()
                .write_all(cli::help::INFO_HELP.as_bytes());
            0
        }
        Ok(Command::DebugHelp) => {
            let _ = std::io::stdout()
                .lock()
                .write_all(cli::help::DEBUG_HELP.as_bytes());
            0
        }
        Ok(Command::Version(n)) => {
            let text = if n > 1 {
                cli::docs::version_json(&name)
            } else {
                cli::docs::version_text(&name)
            };
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            0
        }
        Ok(Command::Refuse(code, msg)) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{msg}");
            let _ = writeln!(err, "{}", final_line!(&name, code));
            code.code()
        }
        Ok(Command::Run(opts)) => run(&name, args, &opts, wants_fuzzy(&lexed)),
        Err(e) => {
            let mut err = std::io::stderr().lock();
            // rsync prints its `--info`/`--debug` word errors bare.
            if e.0.starts_with("Unknown --") {
                let _ = writeln!(err, "{e}");
            } else {
                let _ = writeln!(err, "{name}: {e}");
            }
            let _ = writeln!(err, "{}", final_line!(&name, ExitCode::Syntax));
            ExitCode::Syntax.code()
        }
    }
}
