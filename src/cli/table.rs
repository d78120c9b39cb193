//! The option table: every option rsync 3.x accepts, each defined exactly once.
//!
//! The parser, `--help`, the man page and the shell completions are all
//! generated from this table, so an option cannot be documented one way and
//! parsed another. Whether arsync implements an option is decided in one
//! place, [`Id::supported`], so later work flips a flag rather than editing
//! the grammar.

/// What an option does, independent of how it was spelled on the command line.
///
/// Spellings that mean the same thing (`--del` and `--delete-during`, `-r` and
/// `--recursive`) share an `Id`; negations (`--no-perms`) have their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Id {
    Help,
    Version,
    Verbose,
    NoVerbose,
    Info,
    Debug,
    Stderr,
    Msgs2Stderr,
    NoMsgs2Stderr,
    Quiet,
    Motd,
    NoMotd,
    Stats,
    HumanReadable,
    NoHumanReadable,
    DryRun,
    Archive,
    Recursive,
    NoRecursive,
    IncRecursive,
    NoIncRecursive,
    Dirs,
    NoDirs,
    OldDirs,
    Perms,
    NoPerms,
    Executability,
    Acls,
    NoAcls,
    Xattrs,
    NoXattrs,
    Times,
    NoTimes,
    Atimes,
    NoAtimes,
    OpenNoatime,
    NoOpenNoatime,
    Crtimes,
    NoCrtimes,
    OmitDirTimes,
    NoOmitDirTimes,
    OmitLinkTimes,
    NoOmitLinkTimes,
    ModifyWindow,
    Super,
    NoSuper,
    FakeSuper,
    Owner,
    NoOwner,
    Group,
    NoGroup,
    DevicesSpecials,
    NoDevicesSpecials,
    Devices,
    NoDevices,
    CopyDevices,
    WriteDevices,
    NoWriteDevices,
    Specials,
    NoSpecials,
    Links,
    NoLinks,
    CopyLinks,
    CopyUnsafeLinks,
    SafeLinks,
    InsecureLinks,
    ConfineRoot,
    MungeLinks,
    NoMungeLinks,
    CopyDirlinks,
    KeepDirlinks,
    HardLinks,
    NoHardLinks,
    Relative,
    NoRelative,
    ImpliedDirs,
    NoImpliedDirs,
    Chmod,
    IgnoreTimes,
    SizeOnly,
    OneFileSystem,
    NoOneFileSystem,
    Update,
    Existing,
    IgnoreExisting,
    MaxSize,
    MinSize,
    MaxAlloc,
    Sparse,
    NoSparse,
    Preallocate,
    Inplace,
    NoInplace,
    Append,
    AppendVerify,
    NoAppend,
    Del,
    Delete,
    DeleteBefore,
    DeleteDuring,
    DeleteDelay,
    DeleteAfter,
    DeleteExcluded,
    DeleteMissingArgs,
    IgnoreMissingArgs,
    RemoveSentFiles,
    RemoveSourceFiles,
    Force,
    NoForce,
    IgnoreErrors,
    NoIgnoreErrors,
    MaxDelete,
    FilterShortF,
    Filter,
    Exclude,
    Include,
    ExcludeFrom,
    IncludeFrom,
    CvsExclude,
    WholeFile,
    NoWholeFile,
    Checksum,
    NoChecksum,
    ChecksumChoice,
    BlockSize,
    CompareDest,
    CopyDest,
    LinkDest,
    Fuzzy,
    NoFuzzy,
    Compress,
    OldCompress,
    NewCompress,
    NoCompress,
    CompressChoice,
    SkipCompress,
    CompressLevel,
    CompressThreads,
    PartialProgress,
    Progress,
    NoProgress,
    Partial,
    NoPartial,
    PartialDir,
    DelayUpdates,
    NoDelayUpdates,
    PruneEmptyDirs,
    NoPruneEmptyDirs,
    LogFile,
    LogFileFormat,
    OutFormat,
    ItemizeChanges,
    NoItemizeChanges,
    Bwlimit,
    NoBwlimit,
    Backup,
    NoBackup,
    BackupDir,
    Suffix,
    ListOnly,
    ReadBatch,
    WriteBatch,
    OnlyWriteBatch,
    FilesFrom,
    From0,
    NoFrom0,
    OldArgs,
    NoOldArgs,
    SecludedArgs,
    NoSecludedArgs,
    TrustSender,
    NumericIds,
    NoNumericIds,
    Usermap,
    Groupmap,
    Chown,
    Timeout,
    NoTimeout,
    Contimeout,
    NoContimeout,
    Fsync,
    StopAfter,
    StopAt,
    Rsh,
    RsyncPath,
    TempDir,
    Iconv,
    NoIconv,
    Ipv4,
    Ipv6,
    EightBitOutput,
    NoEightBitOutput,
    Mkpath,
    NoMkpath,
    Qsort,
    CopyAs,
    Address,
    Port,
    Sockopts,
    PasswordFile,
    EarlyInput,
    BlockingIo,
    NoBlockingIo,
    Outbuf,
    RemoteOption,
    Protocol,
    ChecksumSeed,
    Server,
    Sender,
    Daemon,
    /// arsync-only: choose the content engine (benchmarking).
    CopyEngine,
    /// arsync-only: never hand a command line over to the system rsync.
    NoFallback,
    /// arsync-only: rsync's progress text even on a terminal.
    NoProgressBar,
}

impl Id {
    /// Whether arsync implements this option itself.
    ///
    /// Anything rsync accepts but arsync does not is refused with rsync's own
    /// "This rsync does not support" wording instead of being ignored, because
    /// a silently ignored `--delete` or `-H` would quietly produce a different
    /// backup than the user asked for.
    pub(crate) fn supported(self) -> bool {
        use Id::*;
        matches!(
            self,
            Help | Version
                | Verbose
                | NoVerbose
                | Quiet
                | HumanReadable
                | NoHumanReadable
                | DryRun
                | Archive
                | Recursive
                | NoRecursive
                | IncRecursive
                | NoIncRecursive
                | Dirs
                | NoDirs
                | Perms
                | NoPerms
                | Times
                | NoTimes
                | ModifyWindow
                | Owner
                | NoOwner
                | Group
                | NoGroup
                | DevicesSpecials
                | NoDevicesSpecials
                | Devices
                | NoDevices
                | Specials
                | NoSpecials
                | Links
                | KeepDirlinks
                | NoLinks
                | IgnoreTimes
                | SizeOnly
                | Inplace
                | NoInplace
                | WholeFile
                | NoWholeFile
                | Checksum
                | NoChecksum
                | Partial
                | NoPartial
                | ItemizeChanges
                | NoItemizeChanges
                | NumericIds
                | NoNumericIds
                | TempDir
                | Mkpath
                | NoMkpath
                | Motd
                | NoMotd
                | CopyEngine
                | MaxSize
                | FilesFrom
                | From0
                | NoFrom0
                | Relative
                | NoRelative
                | ImpliedDirs
                | NoImpliedDirs
                | ListOnly
                | OneFileSystem
                | NoOneFileSystem
                | MinSize
                | Del
                | Delete
                | DeleteBefore
                | DeleteDuring
                | DeleteDelay
                | DeleteAfter
                | DeleteExcluded
                | MaxDelete
                | IgnoreErrors
                | NoIgnoreErrors
                | Force
                | NoForce
                | IgnoreMissingArgs
                | DeleteMissingArgs
                | Update
                | IgnoreExisting
                | Existing
                | LinkDest
                | CompareDest
                | CopyDest
                | Backup
                | NoBackup
                | BackupDir
                | Suffix
                | RemoveSourceFiles
                | RemoveSentFiles
                | DelayUpdates
                | NoDelayUpdates
                | PruneEmptyDirs
                | NoPruneEmptyDirs
                | PartialDir
                | OmitDirTimes
                | NoOmitDirTimes
                | OmitLinkTimes
                | NoOmitLinkTimes
                | Xattrs
                | NoXattrs
                | Acls
                | NoAcls
                | Executability
                | Chmod
                | Chown
                | Usermap
                | Groupmap
                | Super
                | NoSuper
                | FakeSuper
                | Filter
                | Exclude
                | Include
                | ExcludeFrom
                | IncludeFrom
                | FilterShortF
                | CvsExclude
                | CopyLinks
                | CopyUnsafeLinks
                | SafeLinks
                | MungeLinks
                | NoMungeLinks
                | CopyDirlinks
                | HardLinks
                | NoHardLinks
                | Info
                | Debug
                | Stats
                | EightBitOutput
                | NoEightBitOutput
                | Progress
                | NoProgress
                | PartialProgress
                | OutFormat
                | LogFile
                | LogFileFormat
                | NoFallback
                | NoProgressBar
                | Sparse
                | NoSparse
                | Preallocate
                | CopyDevices
                | WriteDevices
                | NoWriteDevices
                | Atimes
                | NoAtimes
                | OpenNoatime
                | NoOpenNoatime
        )
    }
}

/// Whether an option takes a value, and what kind (for messages and docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A flag.
    None,
    /// A string value (`--temp-dir=DIR`).
    Str,
    /// An integer value; rsync reports "invalid numeric value" for junk.
    Int,
}

/// One spelling of one option.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OptDef {
    /// Long name without the leading `--`.
    pub long: Option<&'static str>,
    /// Short letter, if any.
    pub short: Option<char>,
    pub arg: Arg,
    pub id: Id,
    /// Placeholder for the value in help output (`DIR`, `NUM`).
    pub value_name: &'static str,
    /// One line of help; `None` keeps the spelling out of `--help`
    /// (negations and aliases are documented by their main form).
    pub help: Option<&'static str>,
}

const fn flag(long: &'static str, short: Option<char>, id: Id, help: &'static str) -> OptDef {
    OptDef {
        long: Some(long),
        short,
        arg: Arg::None,
        id,
        value_name: "",
        help: Some(help),
    }
}

const fn hidden(long: &'static str, id: Id) -> OptDef {
    OptDef {
        long: Some(long),
        short: None,
        arg: Arg::None,
        id,
        value_name: "",
        help: None,
    }
}

const fn value(
    long: &'static str,
    short: Option<char>,
    arg: Arg,
    id: Id,
    value_name: &'static str,
    help: &'static str,
) -> OptDef {
    OptDef {
        long: Some(long),
        short,
        arg,
        id,
        value_name,
        help: Some(help),
    }
}

const fn hidden_value(long: &'static str, arg: Arg, id: Id) -> OptDef {
    OptDef {
        long: Some(long),
        short: None,
        arg,
        id,
        value_name: "",
        help: None,
    }
}

const fn short_only(short: char, id: Id, help: &'static str) -> OptDef {
    OptDef {
        long: None,
        short: Some(short),
        arg: Arg::None,
        id,
        value_name: "",
        help: Some(help),
    }
}

use Arg::{Int, Str};
use Id::*;

/// Every spelling rsync 3.x accepts on a client command line, in the order of
/// rsync's `--help` (hidden spellings sit next to their main form).
pub(crate) static OPTIONS: &[OptDef] = &[
    flag("verbose", Some('v'), Verbose, "increase verbosity"),
    hidden("no-verbose", NoVerbose),
    hidden("no-v", NoVerbose),
    value(
        "info",
        None,
        Str,
        Info,
        "FLAGS",
        "fine-grained informational verbosity",
    ),
    value(
        "debug",
        None,
        Str,
        Debug,
        "FLAGS",
        "fine-grained debug verbosity",
    ),
    value(
        "stderr",
        None,
        Str,
        Stderr,
        "e|a|c",
        "change stderr output mode (default: errors)",
    ),
    hidden("msgs2stderr", Msgs2Stderr),
    hidden("no-msgs2stderr", NoMsgs2Stderr),
    flag("quiet", Some('q'), Quiet, "suppress non-error messages"),
    hidden("motd", Motd),
    flag("no-motd", None, NoMotd, "suppress daemon-mode MOTD"),
    flag(
        "checksum",
        Some('c'),
        Checksum,
        "skip based on checksum, not mod-time & size",
    ),
    hidden("no-checksum", NoChecksum),
    hidden("no-c", NoChecksum),
    flag(
        "archive",
        Some('a'),
        Archive,
        "archive mode is -rlptgoD (no -A,-X,-U,-N,-H)",
    ),
    flag(
        "recursive",
        Some('r'),
        Recursive,
        "recurse into directories",
    ),
    hidden("no-recursive", NoRecursive),
    hidden("no-r", NoRecursive),
    flag(
        "inc-recursive",
        None,
        IncRecursive,
        "enable incremental recursion",
    ),
    hidden("i-r", IncRecursive),
    flag(
        "no-inc-recursive",
        None,
        NoIncRecursive,
        "disable incremental recursion",
    ),
    hidden("no-i-r", NoIncRecursive),
    flag("relative", Some('R'), Relative, "use relative path names"),
    hidden("no-relative", NoRelative),
    hidden("no-R", NoRelative),
    hidden("implied-dirs", ImpliedDirs),
    hidden("i-d", ImpliedDirs),
    flag(
        "no-implied-dirs",
        None,
        NoImpliedDirs,
        "don't send implied directories with --relative",
    ),
    hidden("no-i-d", NoImpliedDirs),
    flag(
        "backup",
        Some('b'),
        Backup,
        "make backups (see --suffix & --backup-dir)",
    ),
    hidden("no-backup", NoBackup),
    value(
        "backup-dir",
        None,
        Str,
        BackupDir,
        "DIR",
        "make backups into hierarchy based in DIR",
    ),
    value(
        "suffix",
        None,
        Str,
        Suffix,
        "SUFFIX",
        "backup suffix (default ~ w/o --backup-dir)",
    ),
    flag(
        "update",
        Some('u'),
        Update,
        "skip files that are newer on the receiver",
    ),
    flag(
        "inplace",
        None,
        Inplace,
        "update destination files in-place",
    ),
    hidden("no-inplace", NoInplace),
    flag("append", None, Append, "append data onto shorter files"),
    flag(
        "append-verify",
        None,
        AppendVerify,
        "--append w/old data in file checksum",
    ),
    hidden("no-append", NoAppend),
    flag(
        "dirs",
        Some('d'),
        Dirs,
        "transfer directories without recursing",
    ),
    hidden("no-dirs", NoDirs),
    hidden("no-d", NoDirs),
    flag(
        "old-dirs",
        None,
        OldDirs,
        "works like --dirs when talking to old rsync",
    ),
    hidden("old-d", OldDirs),
    flag(
        "mkpath",
        None,
        Mkpath,
        "create destination's missing path components",
    ),
    hidden("no-mkpath", NoMkpath),
    flag("links", Some('l'), Links, "copy symlinks as symlinks"),
    hidden("no-links", NoLinks),
    hidden("no-l", NoLinks),
    flag(
        "copy-links",
        Some('L'),
        CopyLinks,
        "transform symlink into referent file/directory",
    ),
    flag(
        "copy-unsafe-links",
        None,
        CopyUnsafeLinks,
        "only \"unsafe\" symlinks are transformed",
    ),
    flag(
        "safe-links",
        None,
        SafeLinks,
        "ignore symlinks that point outside the tree",
    ),
    flag(
        "insecure-links",
        None,
        InsecureLinks,
        "follow attacker-owned symlinks in operator paths",
    ),
    value(
        "confine-root",
        None,
        Str,
        ConfineRoot,
        "DIR",
        "refuse operator paths resolving outside DIR",
    ),
    flag(
        "munge-links",
        None,
        MungeLinks,
        "munge symlinks to make them safe & unusable",
    ),
    hidden("no-munge-links", NoMungeLinks),
    flag(
        "copy-dirlinks",
        Some('k'),
        CopyDirlinks,
        "transform symlink to directory into referent directory",
    ),
    flag(
        "keep-dirlinks",
        Some('K'),
        KeepDirlinks,
        "treat symlinked directory on receiver as directory",
    ),
    flag("hard-links", Some('H'), HardLinks, "preserve hard links"),
    hidden("no-hard-links", NoHardLinks),
    hidden("no-H", NoHardLinks),
    flag("perms", Some('p'), Perms, "preserve permissions"),
    hidden("no-perms", NoPerms),
    hidden("no-p", NoPerms),
    flag(
        "executability",
        Some('E'),
        Executability,
        "preserve executability",
    ),
    value(
        "chmod",
        None,
        Str,
        Chmod,
        "CHMOD",
        "affect file and/or directory permissions",
    ),
    flag("acls", Some('A'), Acls, "preserve ACLs (implies --perms)"),
    hidden("no-acls", NoAcls),
    hidden("no-A", NoAcls),
    flag("xattrs", Some('X'), Xattrs, "preserve extended attributes"),
    hidden("no-xattrs", NoXattrs),
    hidden("no-X", NoXattrs),
    flag(
        "owner",
        Some('o'),
        Owner,
        "preserve owner (super-user only)",
    ),
    hidden("no-owner", NoOwner),
    hidden("no-o", NoOwner),
    flag("group", Some('g'), Group, "preserve group"),
    hidden("no-group", NoGroup),
    hidden("no-g", NoGroup),
    flag(
        "devices",
        None,
        Devices,
        "preserve device files (super-user only)",
    ),
    hidden("no-devices", NoDevices),
    flag(
        "copy-devices",
        None,
        CopyDevices,
        "copy device contents as a regular file",
    ),
    flag(
        "write-devices",
        None,
        WriteDevices,
        "write to devices as files (implies --inplace)",
    ),
    hidden("no-write-devices", NoWriteDevices),
    flag("specials", None, Specials, "preserve special files"),
    hidden("no-specials", NoSpecials),
    short_only('D', DevicesSpecials, "same as --devices --specials"),
    hidden("no-D", NoDevicesSpecials),
    flag("times", Some('t'), Times, "preserve modification times"),
    hidden("no-times", NoTimes),
    hidden("no-t", NoTimes),
    flag("atimes", Some('U'), Atimes, "preserve access (use) times"),
    hidden("no-atimes", NoAtimes),
    hidden("no-U", NoAtimes),
    flag(
        "open-noatime",
        None,
        OpenNoatime,
        "avoid changing the atime on opened files",
    ),
    hidden("no-open-noatime", NoOpenNoatime),
    flag(
        "crtimes",
        Some('N'),
        Crtimes,
        "preserve create times (newness)",
    ),
    hidden("no-crtimes", NoCrtimes),
    hidden("no-N", NoCrtimes),
    flag(
        "omit-dir-times",
        Some('O'),
        OmitDirTimes,
        "omit directories from --times",
    ),
    hidden("no-omit-dir-times", NoOmitDirTimes),
    hidden("no-O", NoOmitDirTimes),
    flag(
        "omit-link-times",
        Some('J'),
        OmitLinkTimes,
        "omit symlinks from --times",
    ),
    hidden("no-omit-link-times", NoOmitLinkTimes),
    hidden("no-J", NoOmitLinkTimes),
    flag(
        "super",
        None,
        Super,
        "receiver attempts super-user activities",
    ),
    hidden("no-super", NoSuper),
    flag(
        "fake-super",
        None,
        FakeSuper,
        "store/recover privileged attrs using xattrs",
    ),
    flag(
        "sparse",
        Some('S'),
        Sparse,
        "turn sequences of nulls into sparse blocks",
    ),
    hidden("no-sparse", NoSparse),
    hidden("no-S", NoSparse),
    flag(
        "preallocate",
        None,
        Preallocate,
        "allocate dest files before writing them",
    ),
    flag(
        "dry-run",
        Some('n'),
        DryRun,
        "perform a trial run with no changes made",
    ),
    flag(
        "whole-file",
        Some('W'),
        WholeFile,
        "copy files whole (w/o delta-xfer algorithm)",
    ),
    flag(
        "no-whole-file",
        None,
        NoWholeFile,
        "use the delta-xfer algorithm",
    ),
    hidden("no-W", NoWholeFile),
    value(
        "checksum-choice",
        None,
        Str,
        ChecksumChoice,
        "STR",
        "choose the checksum algorithm (aka --cc)",
    ),
    hidden_value("cc", Str, ChecksumChoice),
    flag(
        "one-file-system",
        Some('x'),
        OneFileSystem,
        "don't cross filesystem boundaries",
    ),
    hidden("no-one-file-system", NoOneFileSystem),
    hidden("no-x", NoOneFileSystem),
    value(
        "block-size",
        Some('B'),
        Str,
        BlockSize,
        "SIZE",
        "force a fixed checksum block-size",
    ),
    value(
        "rsh",
        Some('e'),
        Str,
        Rsh,
        "COMMAND",
        "specify the remote shell to use",
    ),
    value(
        "rsync-path",
        None,
        Str,
        RsyncPath,
        "PROGRAM",
        "specify the rsync to run on remote machine",
    ),
    flag(
        "existing",
        None,
        Existing,
        "skip creating new files on receiver",
    ),
    flag(
        "ignore-non-existing",
        None,
        Existing,
        "skip creating new files on receiver",
    ),
    flag(
        "ignore-existing",
        None,
        IgnoreExisting,
        "skip updating files that exist on receiver",
    ),
    flag(
        "remove-source-files",
        None,
        RemoveSourceFiles,
        "sender removes synchronized files (non-directory)",
    ),
    hidden("remove-sent-files", RemoveSentFiles),
    flag("del", None, Del, "an alias for --delete-during"),
    flag(
        "delete",
        None,
        Delete,
        "delete extraneous files from dest directories",
    ),
    flag(
        "delete-before",
        None,
        DeleteBefore,
        "receiver deletes before xfer, not during",
    ),
    flag(
        "delete-during",
        None,
        DeleteDuring,
        "receiver deletes during the transfer",
    ),
    flag(
        "delete-delay",
        None,
        DeleteDelay,
        "find deletions during, delete after",
    ),
    flag(
        "delete-after",
        None,
        DeleteAfter,
        "receiver deletes after transfer, not during",
    ),
    flag(
        "delete-excluded",
        None,
        DeleteExcluded,
        "also delete excluded files from dest directories",
    ),
    flag(
        "ignore-missing-args",
        None,
        IgnoreMissingArgs,
        "ignore missing source arguments without error",
    ),
    flag(
        "delete-missing-args",
        None,
        DeleteMissingArgs,
        "delete missing source arguments from destination",
    ),
    flag(
        "ignore-errors",
        None,
        IgnoreErrors,
        "delete even if there are I/O errors",
    ),
    hidden("no-ignore-errors", NoIgnoreErrors),
    flag(
        "force",
        None,
        Force,
        "force deletion of directories even if not empty",
    ),
    hidden("no-force", NoForce),
    value(
        "max-delete",
        None,
        Int,
        MaxDelete,
        "NUM",
        "don't delete more than NUM files",
    ),
    value(
        "max-size",
        None,
        Str,
        MaxSize,
        "SIZE",
        "don't transfer any file larger than SIZE",
    ),
    value(
        "min-size",
        None,
        Str,
        MinSize,
        "SIZE",
        "don't transfer any file smaller than SIZE",
    ),
    value(
        "max-alloc",
        None,
        Str,
        MaxAlloc,
        "SIZE",
        "change a limit relating to memory alloc",
    ),
    flag("partial", None, Partial, "keep partially transferred files"),
    hidden("no-partial", NoPartial),
    value(
        "partial-dir",
        None,
        Str,
        PartialDir,
        "DIR",
        "put a partially transferred file into DIR",
    ),
    flag(
        "delay-updates",
        None,
        DelayUpdates,
        "put all updated files into place at end",
    ),
    hidden("no-delay-updates", NoDelayUpdates),
    flag(
        "prune-empty-dirs",
        Some('m'),
        PruneEmptyDirs,
        "prune empty directory chains from file-list",
    ),
    hidden("no-prune-empty-dirs", NoPruneEmptyDirs),
    hidden("no-m", NoPruneEmptyDirs),
    flag(
        "numeric-ids",
        None,
        NumericIds,
        "don't map uid/gid values by user/group name",
    ),
    hidden("no-numeric-ids", NoNumericIds),
    value(
        "usermap",
        None,
        Str,
        Usermap,
        "STRING",
        "custom username mapping",
    ),
    value(
        "groupmap",
        None,
        Str,
        Groupmap,
        "STRING",
        "custom groupname mapping",
    ),
    value(
        "chown",
        None,
        Str,
        Chown,
        "USER:GROUP",
        "simple username/groupname mapping",
    ),
    value(
        "timeout",
        None,
        Int,
        Timeout,
        "SECONDS",
        "set I/O timeout in seconds",
    ),
    hidden("no-timeout", NoTimeout),
    value(
        "contimeout",
        None,
        Int,
        Contimeout,
        "SECONDS",
        "set daemon connection timeout in seconds",
    ),
    hidden("no-contimeout", NoContimeout),
    flag(
        "ignore-times",
        Some('I'),
        IgnoreTimes,
        "don't skip files that match size and time",
    ),
    flag("size-only", None, SizeOnly, "skip files that match in size"),
    value(
        "modify-window",
        Some('@'),
        Int,
        ModifyWindow,
        "NUM",
        "set the accuracy for mod-time comparisons",
    ),
    value(
        "temp-dir",
        Some('T'),
        Str,
        TempDir,
        "DIR",
        "create temporary files in directory DIR",
    ),
    flag(
        "fuzzy",
        Some('y'),
        Fuzzy,
        "find similar file for basis if no dest file",
    ),
    hidden("no-fuzzy", NoFuzzy),
    hidden("no-y", NoFuzzy),
    value(
        "compare-dest",
        None,
        Str,
        CompareDest,
        "DIR",
        "also compare destination files relative to DIR",
    ),
    value(
        "copy-dest",
        None,
        Str,
        CopyDest,
        "DIR",
        "... and include copies of unchanged files",
    ),
    value(
        "link-dest",
        None,
        Str,
        LinkDest,
        "DIR",
        "hardlink to files in DIR when unchanged",
    ),
    flag(
        "compress",
        Some('z'),
        Compress,
        "compress file data during the transfer",
    ),
    hidden("old-compress", OldCompress),
    hidden("new-compress", NewCompress),
    hidden("no-compress", NoCompress),
    hidden("no-z", NoCompress),
    value(
        "compress-choice",
        None,
        Str,
        CompressChoice,
        "STR",
        "choose the compression algorithm (aka --zc)",
    ),
    hidden_value("zc", Str, CompressChoice),
    value(
        "compress-level",
        None,
        Int,
        CompressLevel,
        "NUM",
        "explicitly set compression level (aka --zl)",
    ),
    hidden_value("zl", Int, CompressLevel),
    value(
        "compress-threads",
        None,
        Int,
        CompressThreads,
        "NUM",
        "explicitly set compression threads (aka --zt)",
    ),
    hidden_value("zt", Int, CompressThreads),
    value(
        "skip-compress",
        None,
        Str,
        SkipCompress,
        "LIST",
        "skip compressing files with suffix in LIST",
    ),
    flag(
        "cvs-exclude",
        Some('C'),
        CvsExclude,
        "auto-ignore files in the same way CVS does",
    ),
    value(
        "filter",
        Some('f'),
        Str,
        Filter,
        "RULE",
        "add a file-filtering RULE",
    ),
    short_only(
        'F',
        FilterShortF,
        "same as --filter='dir-merge /.rsync-filter'",
    ),
    value(
        "exclude",
        None,
        Str,
        Exclude,
        "PATTERN",
        "exclude files matching PATTERN",
    ),
    value(
        "exclude-from",
        None,
        Str,
        ExcludeFrom,
        "FILE",
        "read exclude patterns from FILE",
    ),
    value(
        "include",
        None,
        Str,
        Include,
        "PATTERN",
        "don't exclude files matching PATTERN",
    ),
    value(
        "include-from",
        None,
        Str,
        IncludeFrom,
        "FILE",
        "read include patterns from FILE",
    ),
    value(
        "files-from",
        None,
        Str,
        FilesFrom,
        "FILE",
        "read list of source-file names from FILE",
    ),
    flag(
        "from0",
        Some('0'),
        From0,
        "all *-from/filter files are delimited by 0s",
    ),
    hidden("no-from0", NoFrom0),
    flag(
        "old-args",
        None,
        OldArgs,
        "disable the modern argument-protection idiom",
    ),
    hidden("no-old-args", NoOldArgs),
    flag(
        "secluded-args",
        Some('s'),
        SecludedArgs,
        "use the protocol to safely send the arguments",
    ),
    hidden("protect-args", SecludedArgs),
    hidden("no-secluded-args", NoSecludedArgs),
    hidden("no-protect-args", NoSecludedArgs),
    hidden("no-s", NoSecludedArgs),
    flag(
        "trust-sender",
        None,
        TrustSender,
        "trust the remote sender's file list",
    ),
    value(
        "copy-as",
        None,
        Str,
        CopyAs,
        "USER[:GROUP]",
        "specify user & optional group for the copy",
    ),
    value(
        "address",
        None,
        Str,
        Address,
        "ADDRESS",
        "bind address for outgoing socket to daemon",
    ),
    value(
        "port",
        None,
        Int,
        Port,
        "PORT",
        "specify double-colon alternate port number",
    ),
    value(
        "sockopts",
        None,
        Str,
        Sockopts,
        "OPTIONS",
        "specify custom TCP options",
    ),
    flag(
        "blocking-io",
        None,
        BlockingIo,
        "use blocking I/O for the remote shell",
    ),
    hidden("no-blocking-io", NoBlockingIo),
    value(
        "outbuf",
        None,
        Str,
        Outbuf,
        "N|L|B",
        "set out buffering to None, Line, or Block",
    ),
    flag("stats", None, Stats, "give some file-transfer stats"),
    flag(
        "8-bit-output",
        Some('8'),
        EightBitOutput,
        "leave high-bit chars unescaped in output",
    ),
    hidden("no-8-bit-output", NoEightBitOutput),
    hidden("no-8", NoEightBitOutput),
    flag(
        "human-readable",
        Some('h'),
        HumanReadable,
        "output numbers in a human-readable format",
    ),
    hidden("no-human-readable", NoHumanReadable),
    hidden("no-h", NoHumanReadable),
    flag("progress", None, Progress, "show progress during transfer"),
    hidden("no-progress", NoProgress),
    short_only('P', PartialProgress, "same as --partial --progress"),
    flag(
        "itemize-changes",
        Some('i'),
        ItemizeChanges,
        "output a change-summary for all updates",
    ),
    hidden("no-itemize-changes", NoItemizeChanges),
    hidden("no-i", NoItemizeChanges),
    value(
        "remote-option",
        Some('M'),
        Str,
        RemoteOption,
        "OPT",
        "send OPTION to the remote side only",
    ),
    value(
        "out-format",
        None,
        Str,
        OutFormat,
        "FORMAT",
        "output updates using the specified FORMAT",
    ),
    hidden_value("log-format", Str, OutFormat),
    value(
        "log-file",
        None,
        Str,
        LogFile,
        "FILE",
        "log what we're doing to the specified FILE",
    ),
    value(
        "log-file-format",
        None,
        Str,
        LogFileFormat,
        "FMT",
        "log updates using the specified FMT",
    ),
    value(
        "password-file",
        None,
        Str,
        PasswordFile,
        "FILE",
        "read daemon-access password from FILE",
    ),
    value(
        "early-input",
        None,
        Str,
        EarlyInput,
        "FILE",
        "use FILE for daemon's early exec input",
    ),
    flag(
        "list-only",
        None,
        ListOnly,
        "list the files instead of copying them",
    ),
    value(
        "bwlimit",
        None,
        Str,
        Bwlimit,
        "RATE",
        "limit socket I/O bandwidth",
    ),
    hidden("no-bwlimit", NoBwlimit),
    value(
        "stop-after",
        None,
        Str,
        StopAfter,
        "MINS",
        "Stop rsync after MINS minutes have elapsed",
    ),
    hidden_value("time-limit", Str, StopAfter),
    value(
        "stop-at",
        None,
        Str,
        StopAt,
        "y-m-dTh:m",
        "Stop rsync at the specified point in time",
    ),
    flag("fsync", None, Fsync, "fsync every written file"),
    value(
        "write-batch",
        None,
        Str,
        WriteBatch,
        "FILE",
        "write a batched update to FILE",
    ),
    value(
        "only-write-batch",
        None,
        Str,
        OnlyWriteBatch,
        "FILE",
        "like --write-batch but w/o updating dest",
    ),
    value(
        "read-batch",
        None,
        Str,
        ReadBatch,
        "FILE",
        "read a batched update from FILE",
    ),
    value(
        "protocol",
        None,
        Int,
        Protocol,
        "NUM",
        "force an older protocol version to be used",
    ),
    value(
        "iconv",
        None,
        Str,
        Iconv,
        "CONVERT_SPEC",
        "request charset conversion of filenames",
    ),
    hidden("no-iconv", NoIconv),
    value(
        "checksum-seed",
        None,
        Int,
        ChecksumSeed,
        "NUM",
        "set block/file checksum seed (advanced)",
    ),
    flag("ipv4", Some('4'), Ipv4, "prefer IPv4"),
    flag("ipv6", Some('6'), Ipv6, "prefer IPv6"),
    hidden("qsort", Qsort),
    flag(
        "version",
        Some('V'),
        Version,
        "print the version + other info and exit",
    ),
    flag(
        "help",
        None,
        Help,
        "show this help (* -h is help only on its own)",
    ),
    hidden("server", Server),
    hidden("sender", Sender),
    hidden_value("config", Str, Daemon),
    hidden("daemon", Daemon),
    hidden_value("dparam", Str, Daemon),
    hidden("detach", Daemon),
    hidden("no-detach", Daemon),
    value(
        "copy-engine",
        None,
        Str,
        CopyEngine,
        "ENGINE",
        "arsync only: auto|vec|read-managed|write-managed|copy-file-range",
    ),
    flag(
        "no-fallback",
        None,
        NoFallback,
        "arsync only: never hand over to the system rsync",
    ),
    flag(
        "no-progress-bar",
        None,
        NoProgressBar,
        "arsync only: rsync's progress text even on a terminal",
    ),
];

/// Finds the spelling for a long name (without `--`).
pub(crate) fn by_long(name: &str) -> Option<&'static OptDef> {
    OPTIONS.iter().find(|o| o.long == Some(name))
}

/// Finds the spelling for a short letter.
pub(crate) fn by_short(c: char) -> Option<&'static OptDef> {
    OPTIONS.iter().find(|o| o.short == Some(c))
}

/// The main long name of an option id, for messages (`--dirs` for `-d`).
pub(crate) fn main_spelling(id: Id) -> Option<&'static OptDef> {
    OPTIONS.iter().find(|o| o.id == id && o.help.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn spellings_are_unique() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        for o in OPTIONS {
            if let Some(l) = o.long {
                assert!(longs.insert(l), "duplicate long option --{l}");
            }
            if let Some(s) = o.short {
                assert!(shorts.insert(s), "duplicate short option -{s}");
            }
        }
    }

    #[test]
    fn archive_parts_are_supported() {
        for c in ['r', 'l', 'p', 't', 'g', 'o', 'D', 'v', 'n', 'i'] {
            let o = by_short(c).expect("short option exists");
            assert!(o.id.supported(), "-{c} must be supported");
        }
    }
}
