//! rsync's command-line grammar → typed [`Options`].
//!
//! The grammar is popt's, as rsync uses it: short bundles (`-avn`), a short
//! option's value attached or in the next word (`-T/tmp`, `-T /tmp`), long
//! options with `=VALUE` or a separate word, no abbreviations, options and
//! operands in any order, `--` ending options. Options are applied strictly
//! left to right, so `-a --no-perms` and `--no-perms -a` differ exactly as they
//! do in rsync. Error messages use popt's wording.

pub mod docs;
pub(crate) mod help;
pub(crate) mod table;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use crate::options::{BasisKind, DeleteWhen, MissingArgs, Options, Recurse, SuperMode};
use table::{Arg, Id, OptDef};

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

/// One option occurrence, in command-line order.
#[derive(Debug)]
struct Event {
    def: &'static OptDef,
    /// The token(s) as typed, for error messages.
    token: String,
    value: Option<OsString>,
    /// Whether the value was typed in the same word as the option
    /// (popt names the whole word in "invalid numeric value" then).
    attached: bool,
}

fn lossy(s: &OsStr) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

/// Option events and operands, up to the first malformed token.
struct Lexed {
    events: Vec<Event>,
    operands: Vec<OsString>,
    /// popt reports a malformed token only when it gets there, so an
    /// earlier `--help` still wins.
    error: Option<UsageError>,
}

/// Splits argv (without the program name) into option events and operands.
fn lex(args: &[OsString]) -> Lexed {
    let mut events = Vec::new();
    let mut operands = Vec::new();
    let error = lex_into(args, &mut events, &mut operands).err();
    Lexed {
        events,
        operands,
        error,
    }
}

fn lex_into(
    args: &[OsString],
    events: &mut Vec<Event>,
    operands: &mut Vec<OsString>,
) -> Result<(), UsageError> {
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let arg = &args[i];
        let bytes = arg.as_bytes();
        i += 1;
        if only_operands || bytes.len() < 2 || bytes[0] != b'-' {
            operands.push(arg.clone());
            continue;
        }
        if bytes == b"--" {
            only_operands = true;
            continue;
        }
        if let Some(rest) = bytes.strip_prefix(b"--") {
            let (name, inline) = match rest.iter().position(|&b| b == b'=') {
                Some(p) => (&rest[..p], Some(OsStr::from_bytes(&rest[p + 1..]))),
                None => (rest, None),
            };
            let token = lossy(arg);
            let def = std::str::from_utf8(name)
                .ok()
                .and_then(table::by_long)
                .ok_or_else(|| UsageError(format!("{token}: unknown option")))?;
            let (value, attached) = match (def.arg, inline) {
                (Arg::None, Some(_)) => {
                    return Err(UsageError(format!(
                        "{token}: option does not take an argument"
                    )));
                }
                (Arg::None, None) => (None, false),
                (_, Some(v)) => (Some(v.to_os_string()), true),
                (_, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        (Some(v.clone()), false)
                    }
                    None => return Err(UsageError(format!("{token}: missing argument"))),
                },
            };
            events.push(Event {
                def,
                token,
                value,
                attached,
            });
            continue;
        }
        // A bundle of short options.
        let token = lossy(arg);
        let mut j = 1;
        while j < bytes.len() {
            let c = bytes[j] as char;
            j += 1;
            let def = if bytes[j - 1].is_ascii() {
                table::by_short(c)
            } else {
                None
            }
            .ok_or_else(|| UsageError(format!("{token}: unknown option")))?;
            if def.arg == Arg::None {
                events.push(Event {
                    def,
                    token: token.clone(),
                    value: None,
                    attached: false,
                });
                continue;
            }
            let (value, attached) = if j < bytes.len() {
                (Some(OsStr::from_bytes(&bytes[j..]).to_os_string()), true)
            } else {
                match args.get(i) {
                    Some(v) => {
                        i += 1;
                        (Some(v.clone()), false)
                    }
                    None => return Err(UsageError(format!("{token}: missing argument"))),
                }
            };
            events.push(Event {
                def,
                token: token.clone(),
                value,
                attached,
            });
            break;
        }
    }
    Ok(())
}

/// popt's POPT_ARG_INT conversion with its two error messages.
fn parse_int(ev: &Event) -> Result<i64, UsageError> {
    let raw = ev.value.as_deref().unwrap_or_default();
    let shown = if ev.attached {
        ev.token.clone()
    } else {
        lossy(raw)
    };
    let text = std::str::from_utf8(raw.as_bytes())
        .map_err(|_| UsageError(format!("{shown}: invalid numeric value")))?;
    if text.is_empty() {
        return Ok(0);
    }
    let v: i128 = text
        .trim_start()
        .parse()
        .map_err(|_| UsageError(format!("{shown}: invalid numeric value")))?;
    if v < i32::MIN as i128 || v > i32::MAX as i128 {
        return Err(UsageError(format!(
            "{shown}: number too large or too small"
        )));
    }
    Ok(v as i64)
}

/// rsync's wording for an option it knows but this build does not support.
fn refuse(def: &OptDef) -> UsageError {
    let main = table::main_spelling(def.id).unwrap_or(def);
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
    // popt: `-h` is --help only when it is the sole argument.
    if args.len() == 1 && args[0] == "-h" {
        return Ok(Command::Help);
    }
    let Lexed {
        events,
        operands,
        error,
    } = lex(args);
    let mut o = Options::default();
    let mut version = 0u8;
    let mut raw = Raw::default();
    for ev in &events {
        let id = ev.def.id;
        if id == Id::Help {
            return Ok(Command::Help);
        }
        if matches!(id, Id::Info | Id::Debug)
            && words(ev.value.as_deref().unwrap_or_default().as_bytes())
                .iter()
                .any(|w| w.name == "HELP")
        {
            return Ok(if id == Id::Info {
                Command::InfoHelp
            } else {
                Command::DebugHelp
            });
        }
        if !id.supported() {
            return Err(refuse(ev.def));
        }
        apply(&mut o, ev, &mut version, &mut raw)?;
    }
    if let Some(e) = error {
        return Err(e);
    }
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
    if version > 0 {
        return Ok(Command::Version(version));
    }
    if operands.is_empty() {
        return Ok(Command::Usage);
    }
    o.args = operands;
    Ok(Command::Run(Box::new(o)))
}

/// Option state that is only resolved once all options are seen (rsync
/// decides these after its option loop, in `parse_arguments`).
#[derive(Default)]
struct Raw {
    delete_mode: bool,
    delete_before: bool,
    delete_during: u8,
    delete_after: bool,
    max_delete: Option<i64>,
    suffix: Option<OsString>,
    missing_ignore: bool,
    missing_delete: bool,
    /// `-d` or `--no-d` was given (rsync's `xfer_dirs` is then no longer
    /// "unset", which list-only mode would turn on).
    dirs_set: bool,
    /// `-R` / `--no-relative`, if given (`--files-from` turns it on).
    relative: Option<bool>,
}

/// Applies one option occurrence, in command-line order.
fn apply(o: &mut Options, ev: &Event, version: &mut u8, raw: &mut Raw) -> Result<(), UsageError> {
    use Id::*;
    match ev.def.id {
        Version => *version = version.saturating_add(1),
        Verbose => o.verbose = o.verbose.saturating_add(1),
        NoVerbose => o.verbose = 0,
        Quiet => o.quiet = o.quiet.saturating_add(1),
        HumanReadable => o.human_readable = o.human_readable.saturating_add(1),
        NoHumanReadable => o.human_readable = 0,
        DryRun => o.dry_run = true,
        Archive => {
            if o.recursive == Recurse::No {
                o.recursive = Recurse::Implied;
            }
            o.links = true;
            o.perms = true;
            o.times = true;
            o.group = true;
            o.owner = true;
            o.devices = true;
            o.specials = true;
        }
        Recursive => o.recursive = Recurse::Explicit,
        NoRecursive => o.recursive = Recurse::No,
        IncRecursive => o.inc_recursive = true,
        NoIncRecursive => o.inc_recursive = false,
        Dirs => {
            o.dirs = true;
            raw.dirs_set = true;
        }
        NoDirs => {
            o.dirs = false;
            raw.dirs_set = true;
        }
        ListOnly => o.list_only = true,
        Relative => raw.relative = Some(true),
        NoRelative => raw.relative = Some(false),
        FilesFrom => o.files_from = ev.value.clone(),
        From0 => o.from0 = true,
        NoFrom0 => o.from0 = false,
        ImpliedDirs => o.implied_dirs = true,
        NoImpliedDirs => o.implied_dirs = false,
        Perms => o.perms = true,
        NoPerms => o.perms = false,
        Times => o.times = true,
        NoTimes => o.times = false,
        ModifyWindow => o.modify_window = parse_int(ev)?,
        Owner => o.owner = true,
        NoOwner => o.owner = false,
        Group => o.group = true,
        NoGroup => o.group = false,
        DevicesSpecials => {
            o.devices = true;
            o.specials = true;
        }
        NoDevicesSpecials => {
            o.devices = false;
            o.specials = false;
        }
        Devices => o.devices = true,
        NoDevices => o.devices = false,
        Specials => o.specials = true,
        NoSpecials => o.specials = false,
        Links => o.links = true,
        NoLinks => o.links = false,
        CopyLinks => o.copy_links = true,
        CopyUnsafeLinks => o.copy_unsafe_links = true,
        SafeLinks => o.safe_links = true,
        MungeLinks => o.munge_links = true,
        NoMungeLinks => o.munge_links = false,
        CopyDirlinks => o.copy_dirlinks = true,
        KeepDirlinks => o.keep_dirlinks = true,
        HardLinks => o.hard_links = true,
        NoHardLinks => o.hard_links = false,
        IgnoreTimes => o.ignore_times = true,
        SizeOnly => o.size_only = true,
        Inplace => o.inplace = true,
        NoInplace => o.inplace = false,
        WholeFile => o.whole_file = Some(true),
        NoWholeFile => o.whole_file = Some(false),
        Checksum => o.checksum = true,
        NoChecksum => o.checksum = false,
        Partial => o.partial = true,
        NoPartial => o.partial = false,
        ItemizeChanges => o.itemize = o.itemize.saturating_add(1),
        NoItemizeChanges => o.itemize = 0,
        NumericIds => o.numeric_ids = true,
        NoNumericIds => o.numeric_ids = false,
        TempDir => o.temp_dir = ev.value.clone().map(Into::into),
        Mkpath => o.mkpath = true,
        NoMkpath => o.mkpath = false,
        CopyEngine => {
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            o.engine = crate::options::EngineChoice::parse(&v).ok_or_else(|| {
                UsageError(format!(
                    "--copy-engine={v}: expected auto, vec, read-managed, write-managed or copy-file-range"
                ))
            })?;
        }
        Delete => raw.delete_mode = true,
        Del | DeleteDuring => raw.delete_during = 1,
        DeleteDelay => raw.delete_during = 2,
        DeleteBefore => raw.delete_before = true,
        DeleteAfter => raw.delete_after = true,
        DeleteExcluded => o.delete_excluded = true,
        MaxDelete => raw.max_delete = Some(parse_int(ev)?),
        IgnoreErrors => o.ignore_errors = true,
        NoIgnoreErrors => o.ignore_errors = false,
        Force => o.force = true,
        NoForce => o.force = false,
        IgnoreMissingArgs => raw.missing_ignore = true,
        DeleteMissingArgs => raw.missing_delete = true,
        Update => o.update = true,
        IgnoreExisting => o.ignore_existing = true,
        Existing => o.existing = true,
        LinkDest | CompareDest | CopyDest => {
            let kind = match ev.def.id {
                LinkDest => BasisKind::Link,
                CompareDest => BasisKind::Compare,
                _ => BasisKind::Copy,
            };
            let dir: std::path::PathBuf = ev.value.clone().unwrap_or_default().into();
            match &mut o.basis {
                Some((k, dirs)) if *k == kind => {
                    if dirs.len() >= 20 {
                        return Err(UsageError(format!(
                            "ERROR: at most 20 --{} args may be specified",
                            kind.option_name()
                        )));
                    }
                    dirs.push(dir);
                }
                Some((k, _)) => {
                    return Err(UsageError(format!(
                        "ERROR: the --{} option conflicts with the --{} option",
                        kind.option_name(),
                        k.option_name()
                    )));
                }
                None => o.basis = Some((kind, vec![dir])),
            }
        }
        Backup => o.backup = true,
        NoBackup => o.backup = false,
        BackupDir => o.backup_dir = ev.value.clone().map(Into::into),
        Suffix => raw.suffix = ev.value.clone(),
        RemoveSourceFiles | RemoveSentFiles => o.remove_source_files = true,
        DelayUpdates => o.delay_updates = true,
        NoDelayUpdates => o.delay_updates = false,
        PruneEmptyDirs => o.prune_empty_dirs = true,
        NoPruneEmptyDirs => o.prune_empty_dirs = false,
        PartialDir => o.partial_dir = ev.value.clone().map(Into::into),
        OmitDirTimes => o.omit_dir_times = true,
        NoOmitDirTimes => o.omit_dir_times = false,
        OmitLinkTimes => o.omit_link_times = true,
        NoOmitLinkTimes => o.omit_link_times = false,
        Xattrs => o.xattrs = o.xattrs.saturating_add(1),
        NoXattrs => o.xattrs = 0,
        // rsync turns --perms on right here, so a later --no-perms wins.
        Acls => {
            o.acls = true;
            o.perms = true;
        }
        NoAcls => o.acls = false,
        Executability => o.executability = true,
        Chmod => {
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            let rules = crate::chmod::parse(&v).map_err(|e| UsageError(e.to_string()))?;
            o.chmod.append(rules);
        }
        // --usermap and a user-part --chown turn -o on at this point of
        // the command line (a later --no-o cancels it); likewise -g.
        Usermap => {
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            o.maps.usermap(&v).map_err(UsageError)?;
            o.owner = true;
        }
        Groupmap => {
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            o.maps.groupmap(&v).map_err(UsageError)?;
            o.group = true;
        }
        Chown => {
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            let (user, group) = o.maps.chown(&v).map_err(UsageError)?;
            o.owner |= user;
            o.group |= group;
        }
        Super => o.super_mode = Some(SuperMode::Super),
        NoSuper => o.super_mode = Some(SuperMode::NoSuper),
        FakeSuper => o.super_mode = Some(SuperMode::Fake),
        Stats => o.stats = true,
        EightBitOutput => o.eight_bit = true,
        NoEightBitOutput => o.eight_bit = false,
        Progress => o.progress = true,
        NoProgress => o.progress = false,
        PartialProgress => {
            o.partial = true;
            o.progress = true;
        }
        OutFormat => o.out_format = ev.value.as_deref().map(|v| v.as_bytes().to_vec()),
        LogFile => o.log_file = ev.value.clone().map(Into::into),
        LogFileFormat => o.log_file_format = ev.value.as_deref().map(|v| v.as_bytes().to_vec()),
        NoProgressBar => o.no_progress_bar = true,
        // Only read by the hand-over decision (see `fallback`).
        NoFallback => {}
        Info | Debug => {
            let v = ev.value.as_deref().unwrap_or_default().as_bytes();
            let (flags, what) = if ev.def.id == Info {
                (INFO_FLAGS, "info")
            } else {
                (DEBUG_FLAGS, "debug")
            };
            for w in words(v) {
                let known = flags.contains(&w.name.as_str()) || w.name == "ALL" || w.name == "NONE";
                if !known {
                    let raw = String::from_utf8_lossy(v);
                    let item = raw
                        .split(',')
                        .find(|x| x.to_ascii_uppercase().starts_with(&w.name))
                        .unwrap_or(&w.name)
                        .to_string();
                    return Err(UsageError(format!("Unknown --{what} item: \"{item}\"")));
                }
                if ev.def.id != Info {
                    continue;
                }
                match w.name.as_str() {
                    "NAME" => o.info.name = Some(w.level),
                    "PROGRESS" => o.info.progress = Some(w.level),
                    "STATS" => o.info.stats = Some(w.level),
                    "FLIST" => o.info.flist = Some(w.level),
                    // Anything else is handed over before parsing (see
                    // `output_words_supported`).
                    _ => {}
                }
            }
        }
        Sparse => o.sparse = true,
        NoSparse => o.sparse = false,
        Preallocate => o.preallocate = true,
        CopyDevices => o.copy_devices = true,
        WriteDevices => o.write_devices = true,
        NoWriteDevices => o.write_devices = false,
        // rsync: a second -U also turns on --open-noatime.
        Atimes => {
            if o.atimes {
                o.open_noatime = true;
            }
            o.atimes = true;
        }
        NoAtimes => o.atimes = false,
        OpenNoatime => o.open_noatime = true,
        NoOpenNoatime => o.open_noatime = false,
        Filter | Exclude | Include | ExcludeFrom | IncludeFrom => {
            use crate::filter::FilterArg as F;
            let v = ev.value.clone().unwrap_or_default();
            o.filters.push(match ev.def.id {
                Filter => F::Filter(v),
                Exclude => F::Exclude(v),
                Include => F::Include(v),
                ExcludeFrom => F::ExcludeFrom(v),
                _ => F::IncludeFrom(v),
            });
        }
        FilterShortF => o.filters.push(crate::filter::FilterArg::ShortF),
        CvsExclude => o.filters.push(crate::filter::FilterArg::CvsExclude),
        OneFileSystem => o.one_file_system = o.one_file_system.saturating_add(1),
        NoOneFileSystem => o.one_file_system = 0,
        MaxSize | MinSize => {
            let (name, slot) = if ev.def.id == MaxSize {
                ("max-size", &mut o.max_size)
            } else {
                ("min-size", &mut o.min_size)
            };
            let v = ev.value.as_deref().map(lossy).unwrap_or_default();
            *slot = Some(crate::filter::parse_size(name, &v).map_err(|e| UsageError(e.0))?);
        }
        // Daemon-only niceties rsync accepts and ignores locally.
        Motd | NoMotd => {}
        _ => return Err(refuse(ev.def)),
    }
    Ok(())
}

/// Resolves what depends on several options, with rsync's checks and
/// messages (its `parse_arguments` epilogue).
fn finish(o: &mut Options, raw: &Raw) -> Result<(), UsageError> {
    if o.super_mode == Some(SuperMode::Fake) && o.xattrs > 1 {
        return Err(UsageError("--fake-super conflicts with -XX".into()));
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
        Some(DeleteWhen::During)
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
    // rsync turns incremental recursion off for these (the whole file
    // list is needed first), which changes -v's header line.
    if matches!(o.delete, Some(DeleteWhen::Before | DeleteWhen::After))
        || o.delay_updates
        || o.prune_empty_dirs
    {
        o.inc_recursive = false;
    }
    // rsync: --write-devices implies --inplace (whatever the order).
    if o.write_devices {
        o.inplace = true;
    }
    if o.delay_updates && o.partial_dir.is_none() {
        o.partial_dir = Some(".~tmp~".into());
    }
    if o.inplace {
        if o.partial_dir.is_some() {
            return Err(UsageError(format!(
                "--inplace cannot be used with --{}",
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
            err(&["-z", "s", "d"]),
            "This rsync does not support --compress (-z)"
        );
        assert_eq!(
            err(&["--fuzzy", "s", "d"]),
            "This rsync does not support --fuzzy (-y)"
        );
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
            run(&["--delay-updates", "s", "d"]).partial_dir.unwrap(),
            std::path::Path::new(".~tmp~")
        );
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
        assert!(parse(&args(&["--version", "--foo"])).is_err());
        assert!(matches!(parse(&args(&["-a"])), Ok(Command::Usage)));
        // -h with other arguments is --human-readable.
        assert_eq!(run(&["-h", "s", "d"]).human_readable, 2);
        assert_eq!(run(&["s", "d"]).human_readable, 1);
        assert_eq!(run(&["--no-h", "s", "d"]).human_readable, 0);
    }
}
