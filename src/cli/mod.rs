//! rsync's command line → typed [`Options`], built once.
//!
//! argv is lexed once ([`lex`]); the hand-over decision (`fallback`) and the
//! parser here both read that. Each occurrence is applied strictly left to
//! right through its [`spec`] entry, so `-a --no-perms` and `--no-perms -a`
//! differ exactly as they do in rsync; what depends on several options is
//! resolved afterwards by [`finish`], with rsync's checks and messages.
//! Error messages use popt's and rsync's wording.

mod apply;
pub mod docs;
pub(crate) mod help;
pub(crate) mod lex;
pub(crate) mod remote;
pub(crate) mod spec;
mod stopat;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::options::{DeleteWhen, MissingArgs, Options, Recurse, SuperMode};
use apply::{Raw, State};
use lex::{Event, Lexed, lossy};
use spec::{Apply, Id, Spec};

/// What the command line asks for.
#[derive(Debug)]
pub(crate) enum Command {
    Run(Box<Options>),
    /// `--help`, or `-h` on its own.
    Help,
    /// `--version` / `-V`, with its count (`-VV` prints JSON in rsync).
    Version(u8),
    /// No operands: rsync prints its help on stderr and exits 1.
    Usage,
    /// `--info=help` / `--debug=help`: rsync prints the flag list and
    /// exits 0 as soon as its option loop reaches the word.
    InfoHelp,
    DebugHelp,
    /// Refused after parsing with rsync's bare message (no `NAME:`
    /// prefix) and exit code: an unknown `--zc`/`--cc` name (code 4), a
    /// daemon-only option on a local copy (code 1).
    Refuse(crate::exit::ExitCode, String),
}

/// rsync's `--info` flags.
pub(crate) const INFO_FLAGS: &[&str] = &[
    "BACKUP", "COPY", "DEL", "FLIST", "MISC", "MOUNT", "NAME", "NONREG", "PROGRESS", "REMOVE",
    "SKIP", "STATS", "SYMSAFE",
];

/// rsync's `--debug` flags.
pub(crate) const DEBUG_FLAGS: &[&str] = &[
    "ACL", "BACKUP", "BIND", "CHDIR", "CONNECT", "CMD", "DEL", "DELTASUM", "DUP", "EXIT", "FILTER",
    "FLIST", "FUZZY", "GENR", "HASH", "HLINK", "ICONV", "IO", "NSTR", "OWN", "PROTO", "RECV",
    "SEND", "TIME",
];

/// One word of `--info=` / `--debug=`: `NAME` or `NAME<level>`.
struct Word {
    name: String,
    level: u8,
}

/// Splits a `--info`/`--debug` value into words (comma-separated, as
/// rsync's `parse_output_words()`); a word without digits means level 1.
fn words(value: &[u8]) -> Vec<Word> {
    value
        .split(|&b| b == b',')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let cut = w.iter().position(u8::is_ascii_digit).unwrap_or(w.len());
            let digits = std::str::from_utf8(&w[cut..]).unwrap_or("1");
            Word {
                name: String::from_utf8_lossy(&w[..cut]).to_ascii_uppercase(),
                level: if digits.is_empty() {
                    1
                } else {
                    digits.parse::<u32>().unwrap_or(u32::MAX).min(255) as u8
                },
            }
        })
        .collect()
}

/// Whether arsync produces exactly what rsync would for this `--info` /
/// `--debug` value (for the hand-over decision). Unknown words count as
/// supported: arsync then reports them with rsync's message.
pub(crate) fn output_words_supported(id: Id, value: &[u8]) -> bool {
    words(value).iter().all(|w| {
        if w.name == "HELP" {
            return true;
        }
        match id {
            Id::Info => match w.name.as_str() {
                "NAME" => w.level <= 1,
                "PROGRESS" | "FLIST" => w.level <= 2,
                "STATS" => w.level <= 3,
                n => !INFO_FLAGS.contains(&n) && n != "ALL" && n != "NONE",
            },
            // arsync prints no debug output: only silencing is exact.
            _ => {
                w.level == 0
                    || w.name == "NONE"
                    || !DEBUG_FLAGS.contains(&w.name.as_str()) && w.name != "ALL"
            }
        }
    })
}

/// A syntax or usage error, printed as `NAME: MESSAGE` and followed by
/// rsync's "syntax or usage error (code 1)" line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// rsync's wording for an option it knows but this build does not support.
fn refuse(spec: &Spec) -> UsageError {
    let main = spec.main_name();
    let mut msg = match main.long {
        Some(l) => format!("This rsync does not support --{l}"),
        None => format!("This rsync does not support -{}", main.short.unwrap_or('?')),
    };
    if let (Some(_), Some(s)) = (main.long, main.short) {
        msg.push_str(&format!(" (-{s})"));
    }
    UsageError(msg)
}

/// Parses argv (without the program name).
pub(crate) fn parse(args: &[OsString]) -> Result<Command, UsageError> {
    parse_lexed(args, &lex::lex(args))
}

/// Parses a lexed argv (`args`: without the program name).
pub(crate) fn parse_lexed(args: &[OsString], lexed: &Lexed) -> Result<Command, UsageError> {
    let mut st = State::default();
    for ev in lexed.valid_events() {
        if let Some(answer) = answered_at_once(ev) {
            return Ok(answer);
        }
        apply(&mut st, ev)?;
    }
    if let Some((_, e)) = &lexed.error {
        return Err(UsageError(e.0.clone()));
    }
    let State { mut o, raw } = st;
    // rsync keeps -h's old meaning, --help, when the only argument word
    // leaves it counted (`-h`, `-avh`, `-hh`, `--human-readable`).
    if args.len() == 1 && o.human_readable > 1 {
        return Ok(Command::Help);
    }
    // rsync answers --version once its option loop is done, before any
    // check that combines options (`--delete` without `-r` and the like).
    if raw.version > 0 {
        return Ok(Command::Version(raw.version));
    }
    let operands = &lexed.operands;
    // rsync: --files-from takes exactly one source and a destination.
    if o.files_from.is_some() && operands.len() != 2 {
        return Ok(Command::Usage);
    }
    // rsync: a single operand lists it; listing transfers directories
    // (as -d) unless -d/--no-d said otherwise.
    if operands.len() < 2 {
        o.list_only = true;
    }
    if o.list_only && !raw.dirs_set {
        o.dirs = true;
    }
    finish(&mut o, &raw)?;
    o.read_env();
    if let Some(refused) = refuse_after_parse(&raw) {
        return Ok(refused);
    }
    if operands.is_empty() {
        return Ok(Command::Usage);
    }
    o.args = operands.clone();
    Ok(Command::Run(Box::new(o)))
}

/// `--help`, `--info=help` and `--debug=help` answer as soon as rsync's
/// option loop reaches them.
fn answered_at_once(ev: &Event) -> Option<Command> {
    let id = ev.spec.id;
    if id == Id::Help {
        return Some(Command::Help);
    }
    let value = ev.value.as_deref().unwrap_or_default().as_bytes();
    if matches!(id, Id::Info | Id::Debug) && words(value).iter().any(|w| w.name == "HELP") {
        return Some(if id == Id::Info {
            Command::InfoHelp
        } else {
            Command::DebugHelp
        });
    }
    None
}

/// Applies one occurrence through its spec entry.
fn apply(st: &mut State, ev: &Event) -> Result<(), UsageError> {
    match ev.spec.apply {
        Apply::HandOver => return Err(refuse(ev.spec)),
        Apply::Ignore => {}
        Apply::Switch(field) => *field(&mut st.o) = !ev.negated(),
        Apply::Count(field) => {
            let n = field(&mut st.o);
            *n = if ev.negated() { 0 } else { n.saturating_add(1) };
        }
        Apply::Run(run) => run(st, ev)?,
    }
    Ok(())
}

/// rsync's `--zc` names (`auto` and any case allowed).
pub(crate) const COMPRESS_NAMES: &[&str] = &["auto", "zstd", "lz4", "zlibx", "zlib", "none"];
/// rsync 3.5's `--cc` names.
pub(crate) const CHECKSUM_NAMES: &[&str] = &[
    "auto", "xxh128", "xxh3", "xxh64", "xxhash", "md5", "md4", "sha1", "none",
];

/// What rsync refuses after its option parsing, with its bare messages.
fn refuse_after_parse(raw: &Raw) -> Option<Command> {
    use crate::exit::ExitCode;
    if let Some(z) = &raw.compress_choice
        && !COMPRESS_NAMES.iter().any(|n| n.eq_ignore_ascii_case(z))
    {
        let msg = format!("unknown compress name: {z}");
        return Some(Command::Refuse(ExitCode::Unsupported, msg));
    }
    if let Some(c) = &raw.checksum_choice
        && let Some(bad) = c
            .split(',')
            .find(|w| !CHECKSUM_NAMES.iter().any(|n| n.eq_ignore_ascii_case(w)))
    {
        let msg = format!("unknown checksum name: {bad}");
        return Some(Command::Refuse(ExitCode::Unsupported, msg));
    }
    let daemon_only = if raw.password_file {
        Some("password-file")
    } else if raw.contimeout > 0 {
        Some("contimeout")
    } else {
        None
    };
    daemon_only.map(|o| {
        let msg = format!(
            "The --{o} option may only be used when {} an rsync daemon.",
            if o == "password-file" {
                "accessing"
            } else {
                "connecting to"
            }
        );
        Command::Refuse(ExitCode::Syntax, msg)
    })
}

/// Resolves what depends on several options, with rsync's checks and
/// messages (its `parse_arguments` epilogue).
fn finish(o: &mut Options, raw: &Raw) -> Result<(), UsageError> {
    if o.super_mode == Some(SuperMode::Fake) && o.xattrs > 1 {
        return Err(UsageError("--fake-super conflicts with -XX".into()));
    }
    if raw.old_args > 0 && raw.secluded_args == Some(true) {
        return Err(UsageError(
            "--secluded-args conflicts with --old-args.".into(),
        ));
    }
    o.checksum_choice = raw.checksum_choice.clone();
    // --drop-D: the receiver creates no devices or specials, whatever -D said.
    if raw.drop_d {
        o.devices = false;
        o.specials = false;
    }
    // rsync: --old-dirs is -d made of recursion and one more exclude rule,
    // after all of the user's.
    if raw.old_dirs {
        o.recursive = Recurse::Explicit;
        o.filters
            .push(crate::filter::FilterArg::Filter("- /*/*".into()));
    }
    // rsync: --files-from implies -R and -d, and cancels the recursion
    // -a implies (not an explicit -r).
    if o.files_from.is_some() {
        if o.recursive == Recurse::Implied {
            o.recursive = Recurse::No;
        }
        if !raw.dirs_set {
            o.dirs = true;
        }
    }
    o.relative = raw.relative.unwrap_or(o.files_from.is_some());
    if u8::from(raw.delete_before) + u8::from(raw.delete_during > 0) + u8::from(raw.delete_after)
        > 1
    {
        return Err(UsageError(
            "You may not combine multiple --delete-WHEN options.".into(),
        ));
    }
    o.delete = if raw.delete_before {
        Some(DeleteWhen::Before)
    } else if raw.delete_during == 2 {
        Some(DeleteWhen::Delay)
    } else if raw.delete_during == 1 {
        Some(DeleteWhen::During)
    } else if raw.delete_after {
        Some(DeleteWhen::After)
    } else if raw.delete_mode || o.delete_excluded {
        // rsync: protocols before 30 delete before the transfer.
        Some(if o.protocol < 30 {
            DeleteWhen::Before
        } else {
            DeleteWhen::During
        })
    } else {
        None
    };
    if o.delete.is_some() && !o.xfer_dirs() {
        return Err(UsageError(
            "--delete does not work without --recursive (-r) or --dirs (-d).".into(),
        ));
    }
    // rsync: a negative limit means "no deletions" (0).
    o.max_delete = raw.max_delete.map(|n| n.max(0) as u64);
    o.missing_args = if raw.missing_delete {
        MissingArgs::Delete
    } else if raw.missing_ignore {
        MissingArgs::Ignore
    } else {
        MissingArgs::Error
    };
    finish_backup(o, raw)?;
    finish_confine(o, raw)?;
    // rsync turns incremental recursion off for these (the whole file
    // list is needed first), which changes -v's header line.
    if matches!(o.delete, Some(DeleteWhen::Before | DeleteWhen::After))
        || o.delay_updates
        || o.prune_empty_dirs
        || raw.qsort
        || o.protocol < 30
    {
        o.inc_recursive = false;
    }
    // rsync: --append sends deltas (never the whole file), and with
    // --write-devices implies --inplace (whatever the order).
    if o.append != crate::options::Append::No {
        if o.whole_file == Some(true) {
            return Err(UsageError(
                "--append cannot be used with --whole-file".into(),
            ));
        }
        o.whole_file = Some(false);
    }
    if o.write_devices || o.append != crate::options::Append::No {
        o.inplace = true;
    }
    finish_partial(o)
}

/// `--backup-dir`, `--suffix` and what `-b` implies.
fn finish_backup(o: &mut Options, raw: &Raw) -> Result<(), UsageError> {
    // An empty --backup-dir is the same as none.
    if o.backup_dir
        .as_ref()
        .is_some_and(|d| d.as_os_str().is_empty())
    {
        o.backup_dir = None;
    }
    o.suffix = match &raw.suffix {
        Some(s) => s.clone(),
        None if o.backup_dir.is_some() => OsString::new(),
        None => OsString::from("~"),
    };
    if o.suffix.as_bytes().contains(&b'/') {
        return Err(UsageError(format!(
            "--suffix cannot contain slashes: {}",
            lossy(&o.suffix)
        )));
    }
    if o.backup_dir.is_some() {
        o.backup = true;
    } else if o.suffix.is_empty() {
        return Err(UsageError(
            "--suffix cannot be empty without a --backup-dir".into(),
        ));
    }
    // rsync: -b without --backup-dir implies -O (directory times are left
    // alone so that backups made in place do not disturb them).
    if o.backup && o.backup_dir.is_none() {
        o.omit_dir_times = true;
    }
    Ok(())
}

/// `--confine-root=DIR`: DIR must be absolute, and `--insecure-links`
/// (which skips the walk that enforces it) is refused beside it, even
/// with `/`, which confines nothing.
fn finish_confine(o: &mut Options, raw: &Raw) -> Result<(), UsageError> {
    let Some(dir) = &raw.confine_root else {
        return Ok(());
    };
    if !dir.as_bytes().starts_with(b"/") {
        return Err(UsageError("--confine-root must be an absolute path".into()));
    }
    if o.insecure_links {
        return Err(UsageError(
            "--insecure-links cannot be combined with --confine-root".into(),
        ));
    }
    o.confine_root = crate::sys::trust::clean_root(std::path::Path::new(dir));
    Ok(())
}

/// `--partial-dir` (and `--delay-updates`' one) against `--inplace`.
fn finish_partial(o: &mut Options) -> Result<(), UsageError> {
    if o.delay_updates && o.partial_dir.is_none() {
        o.partial_dir = Some(".~tmp~".into());
    }
    if o.inplace {
        if o.partial_dir.is_some() {
            // rsync names --append when it is what implied --inplace.
            let by = match o.append {
                crate::options::Append::No => "inplace",
                _ => "append",
            };
            return Err(UsageError(format!(
                "--{by} cannot be used with --{}",
                if o.delay_updates {
                    "delay-updates"
                } else {
                    "partial-dir"
                }
            )));
        }
        o.partial = false;
    } else if let Some(p) = &o.partial_dir {
        if p.as_os_str().is_empty() || p.as_os_str() == "." {
            o.partial_dir = None;
        } else {
            o.partial = true;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    fn run(s: &[&str]) -> Options {
        match parse(&args(s)) {
            Ok(Command::Run(o)) => *o,
            other => panic!("expected a run, got {other:?}"),
        }
    }

    fn err(s: &[&str]) -> String {
        match parse(&args(s)) {
            Err(e) => e.0,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn archive_expands_to_rlptgod() {
        let o = run(&["-a", "s", "d"]);
        assert_eq!(o.recursive, Recurse::Implied);
        assert!(o.links && o.perms && o.times && o.group && o.owner && o.devices && o.specials);
        assert!(!o.dirs && !o.checksum);
    }

    #[test]
    fn negations_apply_in_order() {
        let o = run(&["-a", "--no-perms", "--no-owner", "--no-group", "s", "d"]);
        assert!(!o.perms && !o.owner && !o.group && o.times && o.links);
        let o = run(&["--no-perms", "-a", "s", "d"]);
        assert!(o.perms, "-a after --no-perms turns perms back on");
        let o = run(&["-a", "--no-D", "s", "d"]);
        assert!(!o.devices && !o.specials);
        let o = run(&["-a", "--no-r", "s", "d"]);
        assert_eq!(o.recursive, Recurse::No);
    }

    #[test]
    fn explicit_r_survives_a() {
        let o = run(&["-r", "-a", "s", "d"]);
        assert_eq!(o.recursive, Recurse::Explicit);
    }

    #[test]
    fn bundles_and_counts() {
        let o = run(&["-avvn", "s", "d"]);
        assert_eq!(o.verbose, 2);
        assert!(o.dry_run);
        let o = run(&["-iiv", "s", "d"]);
        assert_eq!(o.itemize, 2);
        let o = run(&["-rlptgoD", "s", "d"]);
        assert!(o.recursive() && o.devices);
    }

    #[test]
    fn values_attached_or_separate() {
        assert_eq!(
            run(&["-T/tmp", "s", "d"]).temp_dir.unwrap(),
            std::path::Path::new("/tmp")
        );
        assert_eq!(
            run(&["-vT", "/x", "s", "d"]).temp_dir.unwrap(),
            std::path::Path::new("/x")
        );
        assert_eq!(
            run(&["--temp-dir=/y", "s", "d"]).temp_dir.unwrap(),
            std::path::Path::new("/y")
        );
        assert_eq!(run(&["--modify-window", "2", "s", "d"]).modify_window, 2);
        assert_eq!(run(&["--modify-window=-1", "s", "d"]).modify_window, -1);
        assert_eq!(run(&["-@", "-1", "s", "d"]).modify_window, -1);
    }

    #[test]
    fn options_after_operands_and_double_dash() {
        let o = run(&["s", "d", "-av"]);
        assert_eq!(o.args, args(&["s", "d"]));
        assert!(o.recursive());
        let o = run(&["-a", "--", "-v", "d"]);
        assert_eq!(o.args, args(&["-v", "d"]));
        assert_eq!(o.verbose, 0);
        let o = run(&["-", "d"]);
        assert_eq!(o.args, args(&["-", "d"]));
    }

    #[test]
    fn popt_error_messages() {
        assert_eq!(err(&["--foo", "s", "d"]), "--foo: unknown option");
        assert_eq!(err(&["--foo=bar"]), "--foo=bar: unknown option");
        assert_eq!(err(&["-aQ", "s", "d"]), "-aQ: unknown option");
        assert_eq!(err(&["--verb", "s", "d"]), "--verb: unknown option");
        assert_eq!(
            err(&["--verbose=3"]),
            "--verbose=3: option does not take an argument"
        );
        assert_eq!(
            err(&["--modify-window", "abc"]),
            "abc: invalid numeric value"
        );
        assert_eq!(err(&["-@abc"]), "-@abc: invalid numeric value");
        assert_eq!(
            err(&["--modify-window=5x"]),
            "--modify-window=5x: invalid numeric value"
        );
        assert_eq!(
            err(&["--modify-window=99999999999"]),
            "--modify-window=99999999999: number too large or too small"
        );
        assert_eq!(err(&["-vT"]), "-vT: missing argument");
        assert_eq!(err(&["--temp-dir"]), "--temp-dir: missing argument");
    }

    #[test]
    fn unsupported_options_are_refused_by_name() {
        assert_eq!(
            err(&["--write-batch=b", "s", "d"]),
            "This rsync does not support --write-batch"
        );
        assert_eq!(
            err(&["-N", "s", "d"]),
            "This rsync does not support --crtimes (-N)"
        );
        assert!(parse(&args(&["-N", "--no-N", "s", "d"])).is_err());
        assert!(parse(&args(&["--no-N", "s", "d"])).is_ok());
    }

    #[test]
    fn delete_family_and_their_checks() {
        assert_eq!(
            run(&["-r", "--delete", "s", "d"]).delete,
            Some(DeleteWhen::During)
        );
        assert_eq!(
            run(&["-r", "--delete-excluded", "s", "d"]).delete,
            Some(DeleteWhen::During)
        );
        assert_eq!(
            run(&["-r", "--del", "s", "d"]).delete,
            Some(DeleteWhen::During)
        );
        assert_eq!(
            run(&["-r", "--delete", "--delete-after", "s", "d"]).delete,
            Some(DeleteWhen::After)
        );
        assert_eq!(
            run(&["-r", "--delete-delay", "s", "d"]).delete,
            Some(DeleteWhen::Delay)
        );
        assert_eq!(
            err(&["-r", "--delete-before", "--delete-after", "s", "d"]),
            "You may not combine multiple --delete-WHEN options."
        );
        assert_eq!(
            err(&["--delete", "s", "d"]),
            "--delete does not work without --recursive (-r) or --dirs (-d)."
        );
        assert_eq!(
            run(&["-r", "--max-delete=-3", "s", "d"]).max_delete,
            Some(0)
        );
    }

    #[test]
    fn backups_and_basis_dirs() {
        let o = run(&["--backup-dir=b", "s", "d"]);
        assert!(o.backup && o.suffix.is_empty() && !o.omit_dir_times);
        let o = run(&["-b", "s", "d"]);
        assert_eq!(o.suffix, "~");
        assert!(o.omit_dir_times, "-b without --backup-dir implies -O");
        assert_eq!(
            err(&["-b", "--suffix=/x", "s", "d"]),
            "--suffix cannot contain slashes: /x"
        );
        assert_eq!(
            err(&["-b", "--suffix=", "s", "d"]),
            "--suffix cannot be empty without a --backup-dir"
        );
        assert_eq!(
            err(&["--link-dest=a", "--compare-dest=b", "s", "d"]),
            "ERROR: the --compare-dest option conflicts with the --link-dest option"
        );
        let many: Vec<String> = (0..21).map(|i| format!("--link-dest=x{i}")).collect();
        let mut a: Vec<&str> = many.iter().map(String::as_str).collect();
        a.extend(["s", "d"]);
        assert_eq!(
            err(&a),
            "ERROR: at most 20 --link-dest args may be specified"
        );
        assert_eq!(
            err(&["--inplace", "--delay-updates", "s", "d"]),
            "--inplace cannot be used with --delay-updates"
        );
        assert_eq!(
            err(&["--inplace", "--append-verify", "--delay-updates", "s", "d"]),
            "--append cannot be used with --delay-updates"
        );
        assert_eq!(
            err(&["--append", "-W", "s", "d"]),
            "--append cannot be used with --whole-file"
        );
        assert_eq!(
            err(&["--append", "--partial-dir=p", "s", "d"]),
            "--append cannot be used with --partial-dir"
        );
        assert_eq!(
            run(&["--delay-updates", "s", "d"]).partial_dir.unwrap(),
            std::path::Path::new(".~tmp~")
        );
    }

    #[test]
    fn local_no_op_options_are_checked_like_rsync() {
        for ok in [
            &[
                "-avz",
                "--zl=9",
                "--zc=ZSTD",
                "--skip-compress=gz",
                "s",
                "d",
            ][..],
            &[
                "-s",
                "-e",
                "ssh -p 2",
                "--rsync-path=x",
                "--port=1",
                "s",
                "d",
            ],
            &[
                "--no-compress",
                "-y",
                "--trust-sender",
                "-4",
                "--max-alloc=1G",
                "s",
                "d",
            ],
            &["--old-args", "--no-old-args", "-s", "s", "d"],
        ] {
            assert!(matches!(parse(&args(ok)), Ok(Command::Run(_))), "{ok:?}");
        }
        assert_eq!(
            err(&["--zl=abc", "s", "d"]),
            "--zl=abc: invalid numeric value"
        );
        assert_eq!(
            err(&["--old-args", "-s", "s", "d"]),
            "--secluded-args conflicts with --old-args."
        );
        assert_eq!(
            err(&["--max-alloc=1", "s", "d"]),
            "--max-alloc=1 is too small (min: 1.00M or 0 for unlimited)"
        );
        assert_eq!(
            err(&["-B", "131073", "s", "d"]),
            "--block-size=131073 is too large (max: 128.00K)"
        );
        let refused = |a: &[&str]| match parse(&args(a)) {
            Ok(Command::Refuse(code, msg)) => (code.code(), msg),
            other => panic!("{a:?}: {other:?}"),
        };
        assert_eq!(refused(&["--zc=lzma", "s", "d"]).0, 4);
        assert_eq!(
            refused(&["--cc=md5,sha256", "s", "d"]).1,
            "unknown checksum name: sha256"
        );
        assert_eq!(refused(&["--password-file=p", "s", "d"]).0, 1);
        assert!(matches!(
            parse(&args(&["--contimeout=5", "--no-contimeout", "s", "d"])),
            Ok(Command::Run(_))
        ));
    }

    #[test]
    fn transfer_control_options() {
        use crate::options::{Append, OutBuf, StderrMode};
        assert_eq!(
            run(&["--bwlimit=1.5m", "s", "d"]).bwlimit,
            Some(1536 * 1024)
        );
        assert_eq!(
            run(&["--bwlimit=1000", "s", "d"]).bwlimit,
            Some(1000 * 1024)
        );
        assert_eq!(run(&["--bwlimit=0", "s", "d"]).bwlimit, None);
        assert_eq!(
            run(&["--bwlimit=9", "--no-bwlimit", "s", "d"]).bwlimit,
            None
        );
        assert_eq!(
            err(&["--bwlimit=10b", "s", "d"]),
            "--bwlimit=10b is too small (min: 512 or 0 for unlimited)"
        );
        let o = run(&["--append-verify", "s", "d"]);
        assert!(o.append == Append::Verify && o.inplace);
        assert_eq!(
            run(&["--append", "--no-append", "s", "d"]).append,
            Append::No
        );
        assert_eq!(run(&["--timeout=300", "s", "d"]).timeout, 300);
        assert_eq!(run(&["--outbuf=line", "s", "d"]).outbuf, Some(OutBuf::Line));
        assert_eq!(run(&["--stderr=a", "s", "d"]).stderr_mode, StderrMode::All);
        assert_eq!(
            run(&["--msgs2stderr", "--no-msgs2stderr", "s", "d"]).stderr_mode,
            StderrMode::Errors
        );
        assert!(run(&["--stop-after=5", "s", "d"]).stop_at.is_some());
        assert!(run(&["--fsync", "s", "d"]).fsync);
        let o = run(&["-aD", "--drop-D", "s", "d"]);
        assert!(!o.devices && !o.specials);
        assert!(!run(&["--qsort", "s", "d"]).inc_recursive);
    }

    #[test]
    fn selection_options() {
        let o = run(&["-a", "--files-from=l", "s", "d"]);
        assert_eq!(o.recursive, Recurse::No, "--files-from cancels -a's -r");
        assert!(o.relative && o.dirs);
        let o = run(&["-ar", "--files-from=l", "s", "d"]);
        assert_eq!(o.recursive, Recurse::Explicit);
        let o = run(&["--files-from=l", "--no-R", "--no-d", "s", "d"]);
        assert!(!o.relative && !o.dirs);
        assert!(matches!(
            parse(&args(&["--files-from=l", "a", "b", "c"])),
            Ok(Command::Usage)
        ));
        assert!(matches!(
            parse(&args(&["--files-from=l", "a"])),
            Ok(Command::Usage)
        ));
        let o = run(&["src"]);
        assert!(o.list_only && o.dirs);
        let o = run(&["--no-d", "src"]);
        assert!(o.list_only && !o.dirs);
        assert_eq!(run(&["-xx", "s", "d"]).one_file_system, 2);
        assert_eq!(run(&["-x", "--no-x", "s", "d"]).one_file_system, 0);
        assert_eq!(run(&["--max-size=1.5K", "s", "d"]).max_size, Some(1536));
        assert_eq!(
            err(&["--min-size=1x", "s", "d"]),
            "--min-size=1x is invalid"
        );
        let o = run(&["-R", "--no-implied-dirs", "s", "d"]);
        assert!(o.relative && !o.implied_dirs);
    }

    #[test]
    fn help_and_version() {
        assert!(matches!(parse(&args(&["-h"])), Ok(Command::Help)));
        assert!(matches!(
            parse(&args(&["--help", "--foo"])),
            Ok(Command::Help)
        ));
        assert!(matches!(parse(&args(&["-VV"])), Ok(Command::Version(2))));
        // After other options, even ones that would not combine.
        assert!(matches!(
            parse(&args(&["dst/", "--delete", "src/", "--version"])),
            Ok(Command::Version(1))
        ));
        assert!(parse(&args(&["--version", "--foo"])).is_err());
        assert!(matches!(parse(&args(&["-a"])), Ok(Command::Usage)));
        // -h with other arguments is --human-readable.
        assert_eq!(run(&["-h", "s", "d"]).human_readable, 2);
        assert_eq!(run(&["s", "d"]).human_readable, 1);
        assert_eq!(run(&["--no-h", "s", "d"]).human_readable, 0);
    }
}
