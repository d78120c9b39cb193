//! The option spec: every option rsync 3.x accepts on a client command line,
//! one entry per *logical* option, each defined exactly once.
//!
//! An entry holds all the option's spellings (main form, aliases, short
//! letter, negations such as `--no-perms`/`--no-p`), whether each takes a
//! value, its `--help` line, and the [`Apply`] that gives it meaning. The
//! lexer, the parser, the hand-over decision (`fallback`), `--help`, the man
//! page and the shell completions are all driven by this table, so an option
//! cannot be documented one way and parsed another, and an option arsync
//! implements cannot exist without the code that applies it: "supported"
//! *means* "has an apply function" ([`Spec::supported`]).
//!
//! Adding an option: add its entry here (in rsync's `--help` order) with
//! [`Apply::HandOver`] while it is not implemented; implementing it is
//! replacing that with a `Switch`/`Count` on an `Options` field (tag the
//! field `/// flag: --name`) or a `Run` function in `apply.rs`.

use super::UsageError;
use super::apply::{self, State};
use super::lex::Event;
use crate::options::Options;

/// What an option means, independent of how it was spelled: spellings that
/// mean the same thing (`--del` and `--delete-during` are separate entries
/// because rsync treats them differently; `-r` and `--recursive` share one)
/// and the negations of an option share its `Id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Id {
    Verbose,
    Info,
    Debug,
    Stderr,
    Msgs2Stderr,
    Quiet,
    Motd,
    Checksum,
    Archive,
    Recursive,
    IncRecursive,
    Relative,
    ImpliedDirs,
    Backup,
    BackupDir,
    Suffix,
    Update,
    Inplace,
    Append,
    AppendVerify,
    NoAppend,
    Dirs,
    OldDirs,
    Mkpath,
    Links,
    CopyLinks,
    CopyUnsafeLinks,
    SafeLinks,
    InsecureLinks,
    ConfineRoot,
    MungeLinks,
    CopyDirlinks,
    KeepDirlinks,
    HardLinks,
    Perms,
    Executability,
    Chmod,
    Acls,
    Xattrs,
    Owner,
    Group,
    Devices,
    CopyDevices,
    WriteDevices,
    Specials,
    DropD,
    DevicesSpecials,
    Times,
    Atimes,
    OpenNoatime,
    Crtimes,
    OmitDirTimes,
    OmitLinkTimes,
    Super,
    FakeSuper,
    Sparse,
    Preallocate,
    DryRun,
    WholeFile,
    ChecksumChoice,
    OneFileSystem,
    BlockSize,
    Rsh,
    RsyncPath,
    Existing,
    IgnoreExisting,
    RemoveSourceFiles,
    RemoveSentFiles,
    Del,
    Delete,
    DeleteBefore,
    DeleteDuring,
    DeleteDelay,
    DeleteAfter,
    DeleteExcluded,
    IgnoreMissingArgs,
    DeleteMissingArgs,
    IgnoreErrors,
    Force,
    MaxDelete,
    MaxSize,
    MinSize,
    MaxAlloc,
    Partial,
    PartialDir,
    DelayUpdates,
    PruneEmptyDirs,
    NumericIds,
    Usermap,
    Groupmap,
    Chown,
    Timeout,
    Contimeout,
    IgnoreTimes,
    SizeOnly,
    ModifyWindow,
    TempDir,
    Fuzzy,
    CompareDest,
    CopyDest,
    LinkDest,
    Compress,
    OldCompress,
    NewCompress,
    NoCompress,
    CompressChoice,
    CompressLevel,
    CompressThreads,
    SkipCompress,
    CvsExclude,
    Filter,
    FilterShortF,
    Exclude,
    ExcludeFrom,
    Include,
    IncludeFrom,
    FilesFrom,
    From0,
    OldArgs,
    SecludedArgs,
    TrustSender,
    CopyAs,
    Address,
    Port,
    Sockopts,
    BlockingIo,
    Outbuf,
    Stats,
    EightBitOutput,
    HumanReadable,
    Progress,
    PartialProgress,
    ItemizeChanges,
    RemoteOption,
    OutFormat,
    LogFile,
    LogFileFormat,
    PasswordFile,
    EarlyInput,
    ListOnly,
    Bwlimit,
    StopAfter,
    StopAt,
    Fsync,
    WriteBatch,
    OnlyWriteBatch,
    ReadBatch,
    Protocol,
    Iconv,
    ChecksumSeed,
    Ipv4,
    Ipv6,
    Qsort,
    Version,
    Help,
    Server,
    Sender,
    Daemon,
    CopyEngine,
    NoFallback,
    NoProgressBar,
}

/// Whether a spelling takes a value, and what kind (for messages and docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A flag.
    None,
    /// A string value (`--temp-dir=DIR`).
    Str,
    /// An integer value; popt reports "invalid numeric value" for junk.
    Int,
}

/// An option's code: what applying one occurrence does.
#[derive(Clone, Copy)]
pub(crate) enum Apply {
    /// rsync accepts it, arsync does not implement it: a command line that
    /// uses it is handed over to the system rsync (see `fallback`).
    HandOver,
    /// Accepted and without effect on a local copy (as in rsync), or
    /// answered before any option is applied (`--help`).
    Ignore,
    /// A switch: the option sets the field, a negation clears it.
    Switch(fn(&mut Options) -> &mut bool),
    /// A counter (`-vv`): each occurrence adds one, a negation resets it.
    Count(fn(&mut Options) -> &mut u8),
    /// Anything else; the occurrence says whether it was a negation.
    Run(fn(&mut State, &Event) -> Result<(), UsageError>),
}

/// One spelling of an option.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Name {
    /// Long name without the leading `--`.
    pub long: Option<&'static str>,
    /// Short letter, if any.
    pub short: Option<char>,
    pub arg: Arg,
    /// Placeholder for the value in help output (`DIR`, `NUM`).
    pub value_name: &'static str,
    /// One line of help; `None` keeps the spelling out of `--help`.
    pub help: Option<&'static str>,
    /// `--no-perms` and the like: applying it undoes the option.
    pub negates: bool,
}

impl Name {
    const fn base(long: Option<&'static str>, short: Option<char>) -> Name {
        Name {
            long,
            short,
            arg: Arg::None,
            value_name: "",
            help: None,
            negates: false,
        }
    }

    /// A documented flag.
    const fn flag(long: &'static str, short: Option<char>, help: &'static str) -> Name {
        Name {
            help: Some(help),
            ..Name::base(Some(long), short)
        }
    }

    /// A documented option that takes a value.
    const fn value(
        long: &'static str,
        short: Option<char>,
        arg: Arg,
        value_name: &'static str,
        help: &'static str,
    ) -> Name {
        Name {
            arg,
            value_name,
            help: Some(help),
            ..Name::base(Some(long), short)
        }
    }

    /// An undocumented alias (documented by the main form).
    const fn alias(long: &'static str) -> Name {
        Name::base(Some(long), None)
    }

    /// An undocumented alias that takes a value.
    const fn alias_value(long: &'static str, arg: Arg) -> Name {
        Name {
            arg,
            ..Name::base(Some(long), None)
        }
    }

    /// A documented short-only option (`-F`).
    const fn short_only(short: char, help: &'static str) -> Name {
        Name {
            help: Some(help),
            ..Name::base(None, Some(short))
        }
    }

    /// An undocumented negation (`--no-p`).
    const fn neg(long: &'static str) -> Name {
        Name {
            negates: true,
            ..Name::base(Some(long), None)
        }
    }

    /// A documented negation (`--no-implied-dirs`).
    const fn neg_shown(long: &'static str, help: &'static str) -> Name {
        Name {
            negates: true,
            help: Some(help),
            ..Name::base(Some(long), None)
        }
    }
}

/// One logical option: its spellings and its code.
pub(crate) struct Spec {
    pub id: Id,
    pub names: &'static [Name],
    pub apply: Apply,
    /// arsync's own option: rsync would reject it, so the hand-over drops it.
    pub arsync_only: bool,
}

impl Spec {
    const fn new(id: Id, names: &'static [Name], apply: Apply) -> Spec {
        Spec {
            id,
            names,
            apply,
            arsync_only: false,
        }
    }

    const fn arsync_only(self) -> Spec {
        Spec {
            arsync_only: true,
            ..self
        }
    }

    /// Whether arsync implements this option itself.
    ///
    /// Anything rsync accepts but arsync does not is handed over to rsync,
    /// or refused with rsync's own "This rsync does not support" wording
    /// when the hand-over is off, never silently ignored: an ignored
    /// `--delete` or `-H` would quietly make a different backup.
    pub(crate) fn supported(&self) -> bool {
        !matches!(self.apply, Apply::HandOver)
    }

    /// The documented spelling (`--dirs` for `-d`), for messages.
    pub(crate) fn main_name(&self) -> &'static Name {
        let names = self.names;
        names
            .iter()
            .find(|n| n.help.is_some() && !n.negates)
            .unwrap_or(&names[0])
    }
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spec({:?})", self.id)
    }
}

impl Id {
    /// Whether arsync implements this option (see [`Spec::supported`]).
    pub(crate) fn supported(self) -> bool {
        spec(self).is_some_and(Spec::supported)
    }
}

use Apply::{Count, HandOver, Ignore, Run, Switch};
use Arg::{Int, Str};
use Id::*;

/// Every option rsync 3.x accepts on a client command line, in the order of
/// rsync's `--help` (hidden spellings sit next to their main form).
pub(crate) static SPECS: &[Spec] = &[
    Spec::new(
        Verbose,
        &[
            Name::flag("verbose", Some('v'), "increase verbosity"),
            Name::neg("no-verbose"),
            Name::neg("no-v"),
        ],
        Count(|o| &mut o.verbose),
    ),
    Spec::new(
        Info,
        &[Name::value(
            "info",
            None,
            Str,
            "FLAGS",
            "fine-grained informational verbosity",
        )],
        Run(apply::info),
    ),
    Spec::new(
        Debug,
        &[Name::value(
            "debug",
            None,
            Str,
            "FLAGS",
            "fine-grained debug verbosity",
        )],
        Run(apply::info),
    ),
    Spec::new(
        Stderr,
        &[Name::value(
            "stderr",
            None,
            Str,
            "e|a|c",
            "change stderr output mode (default: errors)",
        )],
        Run(apply::stderr),
    ),
    Spec::new(
        Msgs2Stderr,
        &[Name::alias("msgs2stderr"), Name::neg("no-msgs2stderr")],
        Run(apply::stderr),
    ),
    Spec::new(
        Quiet,
        &[Name::flag(
            "quiet",
            Some('q'),
            "suppress non-error messages",
        )],
        Count(|o| &mut o.quiet),
    ),
    Spec::new(
        Motd,
        &[
            Name::alias("motd"),
            Name::neg_shown("no-motd", "suppress daemon-mode MOTD"),
        ],
        Ignore,
    ),
    Spec::new(
        Checksum,
        &[
            Name::flag(
                "checksum",
                Some('c'),
                "skip based on checksum, not mod-time & size",
            ),
            Name::neg("no-checksum"),
            Name::neg("no-c"),
        ],
        Switch(|o| &mut o.checksum),
    ),
    Spec::new(
        Archive,
        &[Name::flag(
            "archive",
            Some('a'),
            "archive mode is -rlptgoD (no -A,-X,-U,-N,-H)",
        )],
        Run(apply::archive),
    ),
    Spec::new(
        Recursive,
        &[
            Name::flag("recursive", Some('r'), "recurse into directories"),
            Name::neg("no-recursive"),
            Name::neg("no-r"),
        ],
        Run(apply::recursive),
    ),
    Spec::new(
        IncRecursive,
        &[
            Name::flag("inc-recursive", None, "enable incremental recursion"),
            Name::alias("i-r"),
            Name::neg_shown("no-inc-recursive", "disable incremental recursion"),
            Name::neg("no-i-r"),
        ],
        Switch(|o| &mut o.inc_recursive),
    ),
    Spec::new(
        Relative,
        &[
            Name::flag("relative", Some('R'), "use relative path names"),
            Name::neg("no-relative"),
            Name::neg("no-R"),
        ],
        Run(apply::relative),
    ),
    Spec::new(
        ImpliedDirs,
        &[
            Name::alias("implied-dirs"),
            Name::alias("i-d"),
            Name::neg_shown(
                "no-implied-dirs",
                "don't send implied directories with --relative",
            ),
            Name::neg("no-i-d"),
        ],
        Switch(|o| &mut o.implied_dirs),
    ),
    Spec::new(
        Backup,
        &[
            Name::flag(
                "backup",
                Some('b'),
                "make backups (see --suffix & --backup-dir)",
            ),
            Name::neg("no-backup"),
        ],
        Switch(|o| &mut o.backup),
    ),
    Spec::new(
        BackupDir,
        &[Name::value(
            "backup-dir",
            None,
            Str,
            "DIR",
            "make backups into hierarchy based in DIR",
        )],
        Run(apply::backup_dir),
    ),
    Spec::new(
        Suffix,
        &[Name::value(
            "suffix",
            None,
            Str,
            "SUFFIX",
            "backup suffix (default ~ w/o --backup-dir)",
        )],
        Run(apply::suffix),
    ),
    Spec::new(
        Update,
        &[Name::flag(
            "update",
            Some('u'),
            "skip files that are newer on the receiver",
        )],
        Switch(|o| &mut o.update),
    ),
    Spec::new(
        Inplace,
        &[
            Name::flag("inplace", None, "update destination files in-place"),
            Name::neg("no-inplace"),
        ],
        Switch(|o| &mut o.inplace),
    ),
    Spec::new(
        Append,
        &[Name::flag("append", None, "append data onto shorter files")],
        Run(apply::append),
    ),
    Spec::new(
        AppendVerify,
        &[Name::flag(
            "append-verify",
            None,
            "--append w/old data in file checksum",
        )],
        Run(apply::append),
    ),
    Spec::new(NoAppend, &[Name::alias("no-append")], Run(apply::append)),
    Spec::new(
        Dirs,
        &[
            Name::flag("dirs", Some('d'), "transfer directories without recursing"),
            Name::neg("no-dirs"),
            Name::neg("no-d"),
        ],
        Run(apply::dirs),
    ),
    Spec::new(
        OldDirs,
        &[
            Name::flag(
                "old-dirs",
                None,
                "works like --dirs when talking to old rsync",
            ),
            Name::alias("old-d"),
        ],
        Run(apply::old_dirs),
    ),
    Spec::new(
        Mkpath,
        &[
            Name::flag(
                "mkpath",
                None,
                "create destination's missing path components",
            ),
            Name::neg("no-mkpath"),
        ],
        Switch(|o| &mut o.mkpath),
    ),
    Spec::new(
        Links,
        &[
            Name::flag("links", Some('l'), "copy symlinks as symlinks"),
            Name::neg("no-links"),
            Name::neg("no-l"),
        ],
        Switch(|o| &mut o.links),
    ),
    Spec::new(
        CopyLinks,
        &[Name::flag(
            "copy-links",
            Some('L'),
            "transform symlink into referent file/directory",
        )],
        Switch(|o| &mut o.copy_links),
    ),
    Spec::new(
        CopyUnsafeLinks,
        &[Name::flag(
            "copy-unsafe-links",
            None,
            "only \"unsafe\" symlinks are transformed",
        )],
        Switch(|o| &mut o.copy_unsafe_links),
    ),
    Spec::new(
        SafeLinks,
        &[Name::flag(
            "safe-links",
            None,
            "ignore symlinks that point outside the tree",
        )],
        Switch(|o| &mut o.safe_links),
    ),
    Spec::new(
        InsecureLinks,
        &[Name::flag(
            "insecure-links",
            None,
            "follow attacker-owned symlinks in operator paths",
        )],
        Switch(|o| &mut o.insecure_links),
    ),
    Spec::new(
        ConfineRoot,
        &[Name::value(
            "confine-root",
            None,
            Str,
            "DIR",
            "refuse operator paths resolving outside DIR",
        )],
        Run(apply::confine_root),
    ),
    Spec::new(
        MungeLinks,
        &[
            Name::flag(
                "munge-links",
                None,
                "munge symlinks to make them safe & unusable",
            ),
            Name::neg("no-munge-links"),
        ],
        Switch(|o| &mut o.munge_links),
    ),
    Spec::new(
        CopyDirlinks,
        &[Name::flag(
            "copy-dirlinks",
            Some('k'),
            "transform symlink to directory into referent directory",
        )],
        Switch(|o| &mut o.copy_dirlinks),
    ),
    Spec::new(
        KeepDirlinks,
        &[Name::flag(
            "keep-dirlinks",
            Some('K'),
            "treat symlinked directory on receiver as directory",
        )],
        Switch(|o| &mut o.keep_dirlinks),
    ),
    Spec::new(
        HardLinks,
        &[
            Name::flag("hard-links", Some('H'), "preserve hard links"),
            Name::neg("no-hard-links"),
            Name::neg("no-H"),
        ],
        Switch(|o| &mut o.hard_links),
    ),
    Spec::new(
        Perms,
        &[
            Name::flag("perms", Some('p'), "preserve permissions"),
            Name::neg("no-perms"),
            Name::neg("no-p"),
        ],
        Switch(|o| &mut o.perms),
    ),
    Spec::new(
        Executability,
        &[Name::flag(
            "executability",
            Some('E'),
            "preserve executability",
        )],
        Switch(|o| &mut o.executability),
    ),
    Spec::new(
        Chmod,
        &[Name::value(
            "chmod",
            None,
            Str,
            "CHMOD",
            "affect file and/or directory permissions",
        )],
        Run(apply::chmod),
    ),
    Spec::new(
        Acls,
        &[
            Name::flag("acls", Some('A'), "preserve ACLs (implies --perms)"),
            Name::neg("no-acls"),
            Name::neg("no-A"),
        ],
        Run(apply::acls),
    ),
    Spec::new(
        Xattrs,
        &[
            Name::flag("xattrs", Some('X'), "preserve extended attributes"),
            Name::neg("no-xattrs"),
            Name::neg("no-X"),
        ],
        Count(|o| &mut o.xattrs),
    ),
    Spec::new(
        Owner,
        &[
            Name::flag("owner", Some('o'), "preserve owner (super-user only)"),
            Name::neg("no-owner"),
            Name::neg("no-o"),
        ],
        Switch(|o| &mut o.owner),
    ),
    Spec::new(
        Group,
        &[
            Name::flag("group", Some('g'), "preserve group"),
            Name::neg("no-group"),
            Name::neg("no-g"),
        ],
        Switch(|o| &mut o.group),
    ),
    Spec::new(
        Devices,
        &[
            Name::flag("devices", None, "preserve device files (super-user only)"),
            Name::neg("no-devices"),
        ],
        Switch(|o| &mut o.devices),
    ),
    Spec::new(
        CopyDevices,
        &[Name::flag(
            "copy-devices",
            None,
            "copy device contents as a regular file",
        )],
        Switch(|o| &mut o.copy_devices),
    ),
    Spec::new(
        WriteDevices,
        &[
            Name::flag(
                "write-devices",
                None,
                "write to devices as files (implies --inplace)",
            ),
            Name::neg("no-write-devices"),
        ],
        Switch(|o| &mut o.write_devices),
    ),
    Spec::new(
        Specials,
        &[
            Name::flag("specials", None, "preserve special files"),
            Name::neg("no-specials"),
        ],
        Switch(|o| &mut o.specials),
    ),
    Spec::new(
        DropD,
        &[
            Name::flag(
                "drop-D",
                None,
                "receiver refuses to create devices/specials",
            ),
            Name::neg("no-drop-D"),
        ],
        Run(apply::drop_d),
    ),
    Spec::new(
        DevicesSpecials,
        &[
            Name::short_only('D', "same as --devices --specials"),
            Name::neg("no-D"),
        ],
        Run(apply::devices_specials),
    ),
    Spec::new(
        Times,
        &[
            Name::flag("times", Some('t'), "preserve modification times"),
            Name::neg("no-times"),
            Name::neg("no-t"),
        ],
        Switch(|o| &mut o.times),
    ),
    Spec::new(
        Atimes,
        &[
            Name::flag("atimes", Some('U'), "preserve access (use) times"),
            Name::neg("no-atimes"),
            Name::neg("no-U"),
        ],
        Run(apply::atimes),
    ),
    Spec::new(
        OpenNoatime,
        &[
            Name::flag(
                "open-noatime",
                None,
                "avoid changing the atime on opened files",
            ),
            Name::neg("no-open-noatime"),
        ],
        Switch(|o| &mut o.open_noatime),
    ),
    Spec::new(
        Crtimes,
        &[
            Name::flag("crtimes", Some('N'), "preserve create times (newness)"),
            Name::neg("no-crtimes"),
            Name::neg("no-N"),
        ],
        Run(apply::crtimes),
    ),
    Spec::new(
        OmitDirTimes,
        &[
            Name::flag("omit-dir-times", Some('O'), "omit directories from --times"),
            Name::neg("no-omit-dir-times"),
            Name::neg("no-O"),
        ],
        Switch(|o| &mut o.omit_dir_times),
    ),
    Spec::new(
        OmitLinkTimes,
        &[
            Name::flag("omit-link-times", Some('J'), "omit symlinks from --times"),
            Name::neg("no-omit-link-times"),
            Name::neg("no-J"),
        ],
        Switch(|o| &mut o.omit_link_times),
    ),
    Spec::new(
        Super,
        &[
            Name::flag("super", None, "receiver attempts super-user activities"),
            Name::neg("no-super"),
        ],
        Run(apply::super_mode),
    ),
    Spec::new(
        FakeSuper,
        &[Name::flag(
            "fake-super",
            None,
            "store/recover privileged attrs using xattrs",
        )],
        Run(apply::super_mode),
    ),
    Spec::new(
        Sparse,
        &[
            Name::flag(
                "sparse",
                Some('S'),
                "turn sequences of nulls into sparse blocks",
            ),
            Name::neg("no-sparse"),
            Name::neg("no-S"),
        ],
        Switch(|o| &mut o.sparse),
    ),
    Spec::new(
        Preallocate,
        &[Name::flag(
            "preallocate",
            None,
            "allocate dest files before writing them",
        )],
        Switch(|o| &mut o.preallocate),
    ),
    Spec::new(
        DryRun,
        &[Name::flag(
            "dry-run",
            Some('n'),
            "perform a trial run with no changes made",
        )],
        Switch(|o| &mut o.dry_run),
    ),
    Spec::new(
        WholeFile,
        &[
            Name::flag(
                "whole-file",
                Some('W'),
                "copy files whole (w/o delta-xfer algorithm)",
            ),
            Name::neg_shown("no-whole-file", "use the delta-xfer algorithm"),
            Name::neg("no-W"),
        ],
        Run(apply::whole_file),
    ),
    Spec::new(
        ChecksumChoice,
        &[
            Name::value(
                "checksum-choice",
                None,
                Str,
                "STR",
                "choose the checksum algorithm (aka --cc)",
            ),
            Name::alias_value("cc", Str),
        ],
        Run(apply::checksum_choice),
    ),
    Spec::new(
        OneFileSystem,
        &[
            Name::flag(
                "one-file-system",
                Some('x'),
                "don't cross filesystem boundaries",
            ),
            Name::neg("no-one-file-system"),
            Name::neg("no-x"),
        ],
        Count(|o| &mut o.one_file_system),
    ),
    Spec::new(
        BlockSize,
        &[Name::value(
            "block-size",
            Some('B'),
            Str,
            "SIZE",
            "force a fixed checksum block-size",
        )],
        Run(apply::block_size),
    ),
    Spec::new(
        Rsh,
        &[Name::value(
            "rsh",
            Some('e'),
            Str,
            "COMMAND",
            "specify the remote shell to use",
        )],
        Ignore,
    ),
    Spec::new(
        RsyncPath,
        &[Name::value(
            "rsync-path",
            None,
            Str,
            "PROGRAM",
            "specify the rsync to run on remote machine",
        )],
        Ignore,
    ),
    Spec::new(
        Existing,
        &[
            Name::flag("existing", None, "skip creating new files on receiver"),
            Name::flag(
                "ignore-non-existing",
                None,
                "skip creating new files on receiver",
            ),
        ],
        Switch(|o| &mut o.existing),
    ),
    Spec::new(
        IgnoreExisting,
        &[Name::flag(
            "ignore-existing",
            None,
            "skip updating files that exist on receiver",
        )],
        Switch(|o| &mut o.ignore_existing),
    ),
    Spec::new(
        RemoveSourceFiles,
        &[Name::flag(
            "remove-source-files",
            None,
            "sender removes synchronized files (non-directory)",
        )],
        Switch(|o| &mut o.remove_source_files),
    ),
    Spec::new(
        RemoveSentFiles,
        &[Name::alias("remove-sent-files")],
        Switch(|o| &mut o.remove_source_files),
    ),
    Spec::new(
        Del,
        &[Name::flag("del", None, "an alias for --delete-during")],
        Run(apply::delete),
    ),
    Spec::new(
        Delete,
        &[Name::flag(
            "delete",
            None,
            "delete extraneous files from dest directories",
        )],
        Run(apply::delete),
    ),
    Spec::new(
        DeleteBefore,
        &[Name::flag(
            "delete-before",
            None,
            "receiver deletes before xfer, not during",
        )],
        Run(apply::delete),
    ),
    Spec::new(
        DeleteDuring,
        &[Name::flag(
            "delete-during",
            None,
            "receiver deletes during the transfer",
        )],
        Run(apply::delete),
    ),
    Spec::new(
        DeleteDelay,
        &[Name::flag(
            "delete-delay",
            None,
            "find deletions during, delete after",
        )],
        Run(apply::delete),
    ),
    Spec::new(
        DeleteAfter,
        &[Name::flag(
            "delete-after",
            None,
            "receiver deletes after transfer, not during",
        )],
        Run(apply::delete),
    ),
    Spec::new(
        DeleteExcluded,
        &[Name::flag(
            "delete-excluded",
            None,
            "also delete excluded files from dest directories",
        )],
        Switch(|o| &mut o.delete_excluded),
    ),
    Spec::new(
        IgnoreMissingArgs,
        &[Name::flag(
            "ignore-missing-args",
            None,
            "ignore missing source arguments without error",
        )],
        Run(apply::missing_args),
    ),
    Spec::new(
        DeleteMissingArgs,
        &[Name::flag(
            "delete-missing-args",
            None,
            "delete missing source arguments from destination",
        )],
        Run(apply::missing_args),
    ),
    Spec::new(
        IgnoreErrors,
        &[
            Name::flag("ignore-errors", None, "delete even if there are I/O errors"),
            Name::neg("no-ignore-errors"),
        ],
        Switch(|o| &mut o.ignore_errors),
    ),
    Spec::new(
        Force,
        &[
            Name::flag(
                "force",
                None,
                "force deletion of directories even if not empty",
            ),
            Name::neg("no-force"),
        ],
        Switch(|o| &mut o.force),
    ),
    Spec::new(
        MaxDelete,
        &[Name::value(
            "max-delete",
            None,
            Int,
            "NUM",
            "don't delete more than NUM files",
        )],
        Run(apply::max_delete),
    ),
    Spec::new(
        MaxSize,
        &[Name::value(
            "max-size",
            None,
            Str,
            "SIZE",
            "don't transfer any file larger than SIZE",
        )],
        Run(apply::size_limit),
    ),
    Spec::new(
        MinSize,
        &[Name::value(
            "min-size",
            None,
            Str,
            "SIZE",
            "don't transfer any file smaller than SIZE",
        )],
        Run(apply::size_limit),
    ),
    Spec::new(
        MaxAlloc,
        &[Name::value(
            "max-alloc",
            None,
            Str,
            "SIZE",
            "change a limit relating to memory alloc",
        )],
        Run(apply::max_alloc),
    ),
    Spec::new(
        Partial,
        &[
            Name::flag("partial", None, "keep partially transferred files"),
            Name::neg("no-partial"),
        ],
        Switch(|o| &mut o.partial),
    ),
    Spec::new(
        PartialDir,
        &[Name::value(
            "partial-dir",
            None,
            Str,
            "DIR",
            "put a partially transferred file into DIR",
        )],
        Run(apply::partial_dir),
    ),
    Spec::new(
        DelayUpdates,
        &[
            Name::flag(
                "delay-updates",
                None,
                "put all updated files into place at end",
            ),
            Name::neg("no-delay-updates"),
        ],
        Switch(|o| &mut o.delay_updates),
    ),
    Spec::new(
        PruneEmptyDirs,
        &[
            Name::flag(
                "prune-empty-dirs",
                Some('m'),
                "prune empty directory chains from file-list",
            ),
            Name::neg("no-prune-empty-dirs"),
            Name::neg("no-m"),
        ],
        Switch(|o| &mut o.prune_empty_dirs),
    ),
    Spec::new(
        NumericIds,
        &[
            Name::flag(
                "numeric-ids",
                None,
                "don't map uid/gid values by user/group name",
            ),
            Name::neg("no-numeric-ids"),
        ],
        Switch(|o| &mut o.numeric_ids),
    ),
    Spec::new(
        Usermap,
        &[Name::value(
            "usermap",
            None,
            Str,
            "STRING",
            "custom username mapping",
        )],
        Run(apply::usermap),
    ),
    Spec::new(
        Groupmap,
        &[Name::value(
            "groupmap",
            None,
            Str,
            "STRING",
            "custom groupname mapping",
        )],
        Run(apply::groupmap),
    ),
    Spec::new(
        Chown,
        &[Name::value(
            "chown",
            None,
            Str,
            "USER:GROUP",
            "simple username/groupname mapping",
        )],
        Run(apply::chown),
    ),
    Spec::new(
        Timeout,
        &[
            Name::value(
                "timeout",
                None,
                Int,
                "SECONDS",
                "set I/O timeout in seconds",
            ),
            Name::neg("no-timeout"),
        ],
        Run(apply::timeout),
    ),
    Spec::new(
        Contimeout,
        &[
            Name::value(
                "contimeout",
                None,
                Int,
                "SECONDS",
                "set daemon connection timeout in seconds",
            ),
            Name::neg("no-contimeout"),
        ],
        Run(apply::contimeout),
    ),
    Spec::new(
        IgnoreTimes,
        &[Name::flag(
            "ignore-times",
            Some('I'),
            "don't skip files that match size and time",
        )],
        Switch(|o| &mut o.ignore_times),
    ),
    Spec::new(
        SizeOnly,
        &[Name::flag(
            "size-only",
            None,
            "skip files that match in size",
        )],
        Switch(|o| &mut o.size_only),
    ),
    Spec::new(
        ModifyWindow,
        &[Name::value(
            "modify-window",
            Some('@'),
            Int,
            "NUM",
            "set the accuracy for mod-time comparisons",
        )],
        Run(apply::modify_window),
    ),
    Spec::new(
        TempDir,
        &[Name::value(
            "temp-dir",
            Some('T'),
            Str,
            "DIR",
            "create temporary files in directory DIR",
        )],
        Run(apply::temp_dir),
    ),
    Spec::new(
        Fuzzy,
        &[
            Name::flag(
                "fuzzy",
                Some('y'),
                "find similar file for basis if no dest file",
            ),
            Name::neg("no-fuzzy"),
            Name::neg("no-y"),
        ],
        Ignore,
    ),
    Spec::new(
        CompareDest,
        &[Name::value(
            "compare-dest",
            None,
            Str,
            "DIR",
            "also compare destination files relative to DIR",
        )],
        Run(apply::basis),
    ),
    Spec::new(
        CopyDest,
        &[Name::value(
            "copy-dest",
            None,
            Str,
            "DIR",
            "... and include copies of unchanged files",
        )],
        Run(apply::basis),
    ),
    Spec::new(
        LinkDest,
        &[Name::value(
            "link-dest",
            None,
            Str,
            "DIR",
            "hardlink to files in DIR when unchanged",
        )],
        Run(apply::basis),
    ),
    Spec::new(
        Compress,
        &[Name::flag(
            "compress",
            Some('z'),
            "compress file data during the transfer",
        )],
        Ignore,
    ),
    Spec::new(OldCompress, &[Name::alias("old-compress")], Ignore),
    Spec::new(NewCompress, &[Name::alias("new-compress")], Ignore),
    Spec::new(
        NoCompress,
        &[Name::alias("no-compress"), Name::alias("no-z")],
        Ignore,
    ),
    Spec::new(
        CompressChoice,
        &[
            Name::value(
                "compress-choice",
                None,
                Str,
                "STR",
                "choose the compression algorithm (aka --zc)",
            ),
            Name::alias_value("zc", Str),
        ],
        Run(apply::compress_choice),
    ),
    Spec::new(
        CompressLevel,
        &[
            Name::value(
                "compress-level",
                None,
                Int,
                "NUM",
                "explicitly set compression level (aka --zl)",
            ),
            Name::alias_value("zl", Int),
        ],
        Run(apply::numeric),
    ),
    Spec::new(
        CompressThreads,
        &[
            Name::value(
                "compress-threads",
                None,
                Int,
                "NUM",
                "explicitly set compression threads (aka --zt)",
            ),
            Name::alias_value("zt", Int),
        ],
        Run(apply::numeric),
    ),
    Spec::new(
        SkipCompress,
        &[Name::value(
            "skip-compress",
            None,
            Str,
            "LIST",
            "skip compressing files with suffix in LIST",
        )],
        Ignore,
    ),
    Spec::new(
        CvsExclude,
        &[Name::flag(
            "cvs-exclude",
            Some('C'),
            "auto-ignore files in the same way CVS does",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        Filter,
        &[Name::value(
            "filter",
            Some('f'),
            Str,
            "RULE",
            "add a file-filtering RULE",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        FilterShortF,
        &[Name::short_only(
            'F',
            "same as --filter='dir-merge /.rsync-filter'",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        Exclude,
        &[Name::value(
            "exclude",
            None,
            Str,
            "PATTERN",
            "exclude files matching PATTERN",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        ExcludeFrom,
        &[Name::value(
            "exclude-from",
            None,
            Str,
            "FILE",
            "read exclude patterns from FILE",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        Include,
        &[Name::value(
            "include",
            None,
            Str,
            "PATTERN",
            "don't exclude files matching PATTERN",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        IncludeFrom,
        &[Name::value(
            "include-from",
            None,
            Str,
            "FILE",
            "read include patterns from FILE",
        )],
        Run(apply::filter),
    ),
    Spec::new(
        FilesFrom,
        &[Name::value(
            "files-from",
            None,
            Str,
            "FILE",
            "read list of source-file names from FILE",
        )],
        Run(apply::files_from),
    ),
    Spec::new(
        From0,
        &[
            Name::flag(
                "from0",
                Some('0'),
                "all *-from/filter files are delimited by 0s",
            ),
            Name::neg("no-from0"),
        ],
        Switch(|o| &mut o.from0),
    ),
    Spec::new(
        OldArgs,
        &[
            Name::flag(
                "old-args",
                None,
                "disable the modern argument-protection idiom",
            ),
            Name::neg("no-old-args"),
        ],
        Run(apply::old_args),
    ),
    Spec::new(
        SecludedArgs,
        &[
            Name::flag(
                "secluded-args",
                Some('s'),
                "use the protocol to safely send the arguments",
            ),
            Name::alias("protect-args"),
            Name::neg("no-secluded-args"),
            Name::neg("no-protect-args"),
            Name::neg("no-s"),
        ],
        Run(apply::secluded_args),
    ),
    Spec::new(
        TrustSender,
        &[Name::flag(
            "trust-sender",
            None,
            "trust the remote sender's file list",
        )],
        Ignore,
    ),
    Spec::new(
        CopyAs,
        &[Name::value(
            "copy-as",
            None,
            Str,
            "USER[:GROUP]",
            "specify user & optional group for the copy",
        )],
        Run(apply::copy_as),
    ),
    Spec::new(
        Address,
        &[Name::value(
            "address",
            None,
            Str,
            "ADDRESS",
            "bind address for outgoing socket to daemon",
        )],
        Ignore,
    ),
    Spec::new(
        Port,
        &[Name::value(
            "port",
            None,
            Int,
            "PORT",
            "specify double-colon alternate port number",
        )],
        Run(apply::numeric),
    ),
    Spec::new(
        Sockopts,
        &[Name::value(
            "sockopts",
            None,
            Str,
            "OPTIONS",
            "specify custom TCP options",
        )],
        Ignore,
    ),
    Spec::new(
        BlockingIo,
        &[
            Name::flag("blocking-io", None, "use blocking I/O for the remote shell"),
            Name::neg("no-blocking-io"),
        ],
        Ignore,
    ),
    Spec::new(
        Outbuf,
        &[Name::value(
            "outbuf",
            None,
            Str,
            "N|L|B",
            "set out buffering to None, Line, or Block",
        )],
        Run(apply::outbuf),
    ),
    Spec::new(
        Stats,
        &[Name::flag("stats", None, "give some file-transfer stats")],
        Switch(|o| &mut o.stats),
    ),
    Spec::new(
        EightBitOutput,
        &[
            Name::flag(
                "8-bit-output",
                Some('8'),
                "leave high-bit chars unescaped in output",
            ),
            Name::neg("no-8-bit-output"),
            Name::neg("no-8"),
        ],
        Switch(|o| &mut o.eight_bit),
    ),
    Spec::new(
        HumanReadable,
        &[
            Name::flag(
                "human-readable",
                Some('h'),
                "output numbers in a human-readable format",
            ),
            Name::neg("no-human-readable"),
            Name::neg("no-h"),
        ],
        Count(|o| &mut o.human_readable),
    ),
    Spec::new(
        Progress,
        &[
            Name::flag("progress", None, "show progress during transfer"),
            Name::neg("no-progress"),
        ],
        Switch(|o| &mut o.progress),
    ),
    Spec::new(
        PartialProgress,
        &[Name::short_only('P', "same as --partial --progress")],
        Run(apply::partial_progress),
    ),
    Spec::new(
        ItemizeChanges,
        &[
            Name::flag(
                "itemize-changes",
                Some('i'),
                "output a change-summary for all updates",
            ),
            Name::neg("no-itemize-changes"),
            Name::neg("no-i"),
        ],
        Count(|o| &mut o.itemize),
    ),
    Spec::new(
        RemoteOption,
        &[Name::value(
            "remote-option",
            Some('M'),
            Str,
            "OPT",
            "send OPTION to the remote side only",
        )],
        Run(apply::remote_option),
    ),
    Spec::new(
        OutFormat,
        &[
            Name::value(
                "out-format",
                None,
                Str,
                "FORMAT",
                "output updates using the specified FORMAT",
            ),
            Name::alias_value("log-format", Str),
        ],
        Run(apply::out_format),
    ),
    Spec::new(
        LogFile,
        &[Name::value(
            "log-file",
            None,
            Str,
            "FILE",
            "log what we're doing to the specified FILE",
        )],
        Run(apply::log_file),
    ),
    Spec::new(
        LogFileFormat,
        &[Name::value(
            "log-file-format",
            None,
            Str,
            "FMT",
            "log updates using the specified FMT",
        )],
        Run(apply::log_file_format),
    ),
    Spec::new(
        PasswordFile,
        &[Name::value(
            "password-file",
            None,
            Str,
            "FILE",
            "read daemon-access password from FILE",
        )],
        Run(apply::password_file),
    ),
    Spec::new(
        EarlyInput,
        &[Name::value(
            "early-input",
            None,
            Str,
            "FILE",
            "use FILE for daemon's early exec input",
        )],
        Ignore,
    ),
    Spec::new(
        ListOnly,
        &[Name::flag(
            "list-only",
            None,
            "list the files instead of copying them",
        )],
        Switch(|o| &mut o.list_only),
    ),
    Spec::new(
        Bwlimit,
        &[
            Name::value("bwlimit", None, Str, "RATE", "limit socket I/O bandwidth"),
            Name::neg("no-bwlimit"),
        ],
        Run(apply::bwlimit),
    ),
    Spec::new(
        StopAfter,
        &[
            Name::value(
                "stop-after",
                None,
                Str,
                "MINS",
                "Stop rsync after MINS minutes have elapsed",
            ),
            Name::alias_value("time-limit", Str),
        ],
        Run(apply::stop_after),
    ),
    Spec::new(
        StopAt,
        &[Name::value(
            "stop-at",
            None,
            Str,
            "y-m-dTh:m",
            "Stop rsync at the specified point in time",
        )],
        Run(apply::stop_at),
    ),
    Spec::new(
        Fsync,
        &[Name::flag("fsync", None, "fsync every written file")],
        Switch(|o| &mut o.fsync),
    ),
    Spec::new(
        WriteBatch,
        &[Name::value(
            "write-batch",
            None,
            Str,
            "FILE",
            "write a batched update to FILE",
        )],
        HandOver,
    ),
    Spec::new(
        OnlyWriteBatch,
        &[Name::value(
            "only-write-batch",
            None,
            Str,
            "FILE",
            "like --write-batch but w/o updating dest",
        )],
        HandOver,
    ),
    Spec::new(
        ReadBatch,
        &[Name::value(
            "read-batch",
            None,
            Str,
            "FILE",
            "read a batched update from FILE",
        )],
        HandOver,
    ),
    Spec::new(
        Protocol,
        &[Name::value(
            "protocol",
            None,
            Int,
            "NUM",
            "force an older protocol version to be used",
        )],
        Run(apply::protocol),
    ),
    Spec::new(
        Iconv,
        &[
            Name::value(
                "iconv",
                None,
                Str,
                "CONVERT_SPEC",
                "request charset conversion of filenames",
            ),
            Name::neg("no-iconv"),
        ],
        Run(apply::iconv),
    ),
    Spec::new(
        ChecksumSeed,
        &[Name::value(
            "checksum-seed",
            None,
            Int,
            "NUM",
            "set block/file checksum seed (advanced)",
        )],
        Run(apply::numeric),
    ),
    Spec::new(
        Ipv4,
        &[Name::flag("ipv4", Some('4'), "prefer IPv4")],
        Ignore,
    ),
    Spec::new(
        Ipv6,
        &[Name::flag("ipv6", Some('6'), "prefer IPv6")],
        Ignore,
    ),
    Spec::new(Qsort, &[Name::alias("qsort")], Run(apply::qsort)),
    Spec::new(
        Version,
        &[Name::flag(
            "version",
            Some('V'),
            "print the version + other info and exit",
        )],
        Run(apply::version),
    ),
    Spec::new(
        Help,
        &[Name::flag(
            "help",
            None,
            "show this help (* -h is help only on its own)",
        )],
        Ignore,
    ),
    Spec::new(Server, &[Name::alias("server")], HandOver),
    Spec::new(Sender, &[Name::alias("sender")], HandOver),
    Spec::new(
        Daemon,
        &[
            Name::alias_value("config", Str),
            Name::alias("daemon"),
            Name::alias_value("dparam", Str),
            Name::alias("detach"),
            Name::alias("no-detach"),
        ],
        HandOver,
    ),
    Spec::new(
        CopyEngine,
        &[Name::value(
            "copy-engine",
            None,
            Str,
            "ENGINE",
            "arsync only: auto|vec|read-managed|write-managed|copy-file-range",
        )],
        Run(apply::copy_engine),
    )
    .arsync_only(),
    Spec::new(
        NoFallback,
        &[Name::flag(
            "no-fallback",
            None,
            "arsync only: never hand over to the system rsync",
        )],
        Ignore,
    )
    .arsync_only(),
    Spec::new(
        NoProgressBar,
        &[Name::flag(
            "no-progress-bar",
            None,
            "arsync only: rsync's progress text even on a terminal",
        )],
        Switch(|o| &mut o.no_progress_bar),
    )
    .arsync_only(),
];

/// Every spelling, in table order, with its option.
pub(crate) fn spellings() -> impl Iterator<Item = (&'static Spec, &'static Name)> {
    SPECS
        .iter()
        .flat_map(|s| s.names.iter().map(move |n| (s, n)))
}

/// The option and spelling for a long name (without `--`).
pub(crate) fn by_long(name: &str) -> Option<(&'static Spec, &'static Name)> {
    spellings().find(|(_, n)| n.long == Some(name))
}

/// The option and spelling for a short letter.
pub(crate) fn by_short(c: char) -> Option<(&'static Spec, &'static Name)> {
    spellings().find(|(_, n)| n.short == Some(c))
}

/// The entry of an option.
pub(crate) fn spec(id: Id) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn spellings_are_unique() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        for (_, n) in spellings() {
            if let Some(l) = n.long {
                assert!(longs.insert(l), "duplicate long option --{l}");
            }
            if let Some(s) = n.short {
                assert!(shorts.insert(s), "duplicate short option -{s}");
            }
        }
    }

    #[test]
    fn ids_are_unique_and_negations_are_flags() {
        let mut ids = HashSet::new();
        for s in SPECS {
            assert!(ids.insert(s.id), "two entries for {:?}", s.id);
            for n in s.names.iter().filter(|n| n.negates) {
                assert_eq!(n.arg, Arg::None, "{:?} takes no value", n.long);
            }
        }
    }

    #[test]
    fn archive_parts_are_supported() {
        for c in ['r', 'l', 'p', 't', 'g', 'o', 'D', 'v', 'n', 'i'] {
            let (s, _) = by_short(c).expect("short option exists");
            assert!(s.supported(), "-{c} must be supported");
        }
    }
}
