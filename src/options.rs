//! The typed run configuration every later stage reads.
//!
//! `cli` is the only writer: it turns rsync's command-line grammar into this
//! struct once, and nothing downstream ever looks at raw flags again.

use std::ffi::OsString;
use std::path::PathBuf;

/// How recursion was requested. rsync keeps `-r` and the `-r` implied by
/// `-a` apart because `--files-from` cancels only the implied one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Recurse {
    #[default]
    No,
    /// Implied by `-a`.
    Implied,
    /// Given explicitly with `-r`/`--recursive`.
    Explicit,
}

/// When extraneous destination files are deleted (`--delete-WHEN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeleteWhen {
    /// `--delete-before`: a pass over the whole tree before any transfer.
    Before,
    /// `--delete`, `--delete-during`, `--del`: each directory as it is reached.
    During,
    /// `--delete-delay`: found during, deleted after the transfer.
    Delay,
    /// `--delete-after`: a pass over the whole tree after the transfer.
    After,
}

/// What an alternate basis directory is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BasisKind {
    /// `--compare-dest`: unchanged files are skipped.
    Compare,
    /// `--copy-dest`: unchanged files are copied from it locally.
    Copy,
    /// `--link-dest`: unchanged files are hard-linked to it.
    Link,
}

impl BasisKind {
    pub(crate) fn option_name(self) -> &'static str {
        match self {
            BasisKind::Compare => "compare-dest",
            BasisKind::Copy => "copy-dest",
            BasisKind::Link => "link-dest",
        }
    }
}

/// rsync's `am_root` overrides: `--super`, `--no-super` and
/// `--fake-super` set the same variable, so the last one given wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SuperMode {
    /// `--super`: attempt super-user activities even when not root.
    Super,
    /// `--no-super`: behave as a normal user even when root.
    NoSuper,
    /// `--fake-super`: keep privileged attributes in `user.rsync.%stat`.
    Fake,
}

/// How a missing source argument is treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum MissingArgs {
    /// An error (exit 23).
    #[default]
    Error,
    /// `--ignore-missing-args`: silently skipped.
    Ignore,
    /// `--delete-missing-args`: its destination counterpart is deleted.
    Delete,
}

/// How file content is moved; see `engine`. An arsync-only knob for
/// benchmarking (`--copy-engine=`), outside rsync's option namespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum EngineChoice {
    /// Pick per file what measured fastest on this kind of machine.
    #[default]
    Auto,
    /// Plain `Vec` buffers, io_uring read + write.
    Vec,
    /// Reads into compio's managed buffer pool, writes from a copy.
    ReadManaged,
    /// Reads into the buffer pool and writes straight from it.
    WriteManaged,
    /// In-kernel `copy_file_range(2)`; no user-space copy at all.
    CopyFileRange,
}

impl EngineChoice {
    /// Every `--copy-engine` name with its engine: what [`Self::parse`]
    /// takes and the completions offer.
    const BY_NAME: &[(&str, EngineChoice)] = &[
        ("auto", EngineChoice::Auto),
        ("vec", EngineChoice::Vec),
        ("read-managed", EngineChoice::ReadManaged),
        ("write-managed", EngineChoice::WriteManaged),
        ("copy-file-range", EngineChoice::CopyFileRange),
    ];

    pub(crate) fn parse(s: &str) -> Option<EngineChoice> {
        Self::BY_NAME.iter().find(|(n, _)| *n == s).map(|&(_, c)| c)
    }

    pub(crate) fn names() -> impl Iterator<Item = &'static str> {
        Self::BY_NAME.iter().map(|&(n, _)| n)
    }
}

/// `--stderr=errors|all|client` (`--msgs2stderr` is `all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum StderrMode {
    /// Errors on stderr, everything else on stdout (the default).
    #[default]
    Errors,
    /// Every message on stderr.
    All,
    /// As `Errors` on a local copy (the client prints what it receives).
    Client,
}

impl StderrMode {
    /// The names `--stderr` takes, in the order a prefix is tried.
    const BY_NAME: &[(&str, StderrMode)] = &[
        ("errors", StderrMode::Errors),
        ("all", StderrMode::All),
        ("client", StderrMode::Client),
    ];

    /// The mode whose name starts with `v` (rsync takes any prefix).
    pub(crate) fn by_prefix(v: &str) -> Option<StderrMode> {
        let found = Self::BY_NAME.iter().find(|(n, _)| n.starts_with(v));
        found.filter(|_| !v.is_empty()).map(|&(_, m)| m)
    }

    pub(crate) fn names() -> impl Iterator<Item = &'static str> {
        Self::BY_NAME.iter().map(|&(n, _)| n)
    }
}

/// `--outbuf=N|L|B`: how stdout is buffered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutBuf {
    None,
    Line,
    Block,
}

/// `--append` / `--append-verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Append {
    #[default]
    No,
    /// Only the part past the destination's length is written.
    Plain,
    /// As `Plain`, then the whole file is checked and re-sent on mismatch.
    Verify,
}

/// Everything a run needs to know, with rsync's defaults.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// `-v` count (`--no-v` resets it).
    /// flag: --verbose
    pub verbose: u8,
    /// `-q` count.
    /// flag: --quiet
    pub quiet: u8,
    /// `-i` count; 2 or more lists unchanged items too.
    /// flag: --itemize-changes
    pub itemize: u8,
    /// rsync's `human_readable`: 0 plain digits (`--no-h`), 1 thousands
    /// separators (the default), 2 units of 1000 (`-h`), 3 units of 1024.
    /// flag: --human-readable
    pub human_readable: u8,
    /// flag: --archive, --recursive
    pub recursive: Recurse,
    /// `-d`: transfer directories without recursing.
    /// flag: --dirs
    pub dirs: bool,
    /// flag: --archive, --links
    pub links: bool,
    /// `-L`: send what every symlink points to.
    /// flag: --copy-links
    pub copy_links: bool,
    /// `--copy-unsafe-links`: send what links leaving the tree point to.
    /// flag: --copy-unsafe-links
    pub copy_unsafe_links: bool,
    /// `--safe-links`: ignore links leaving the tree.
    /// flag: --safe-links
    pub safe_links: bool,
    /// `--munge-links` (locally: the sender un-munges).
    /// flag: --munge-links
    pub munge_links: bool,
    /// `-k`: send links to directories as directories.
    /// flag: --copy-dirlinks
    pub copy_dirlinks: bool,
    /// `-K`: a link to a directory in DEST is treated as that directory.
    /// flag: --keep-dirlinks
    pub keep_dirlinks: bool,
    /// `-H`: hard-link groups are recreated.
    /// flag: --hard-links
    pub hard_links: bool,
    /// flag: --archive, --perms, --acls
    pub perms: bool,
    /// flag: --archive, --times
    pub times: bool,
    /// flag: --archive, --group, --groupmap, --chown
    pub group: bool,
    /// flag: --archive, --owner, --usermap, --chown
    pub owner: bool,
    /// flag: --archive, --devices, -D
    pub devices: bool,
    /// flag: --archive, --specials, -D
    pub specials: bool,
    /// flag: --dry-run
    pub dry_run: bool,
    /// `-W` / `--no-W`; locally the whole file is always sent, so this only
    /// matters for the `-vv` message.
    /// flag: --whole-file
    pub whole_file: Option<bool>,
    /// flag: --ignore-times
    pub ignore_times: bool,
    /// flag: --size-only
    pub size_only: bool,
    /// Seconds of slack when comparing mtimes; negative means compare
    /// nanoseconds too (rsync ≥ 3.1.3).
    /// flag: --modify-window
    pub modify_window: i64,
    /// flag: --checksum
    pub checksum: bool,
    /// flag: --inplace, --write-devices
    pub inplace: bool,
    /// flag: --partial, -P
    pub partial: bool,
    /// flag: --temp-dir
    pub temp_dir: Option<PathBuf>,
    /// flag: --numeric-ids
    pub numeric_ids: bool,
    /// flag: --mkpath
    pub mkpath: bool,
    /// `--protocol=NUM`: the protocol version rsync would speak. Below 30
    /// it turns incremental recursion off and makes `--delete` mean
    /// `--delete-before`; below 31 mtimes are whole seconds (`walk`); the
    /// output changes with it (`report`); out of rsync's range (20–32) the
    /// run is refused.
    /// flag: --protocol
    pub protocol: i64,
    /// `--inc-recursive` / `--no-inc-recursive`: only changes which header
    /// line `-v` prints, because arsync always walks incrementally.
    /// flag: --inc-recursive
    pub inc_recursive: bool,
    /// flag: --copy-engine
    pub engine: EngineChoice,
    /// `--delete*`: when to delete; `None`: never.
    /// flag: --delete, --del, --delete-before, --delete-during, --delete-delay, --delete-after, --delete-excluded
    pub delete: Option<DeleteWhen>,
    /// flag: --delete-excluded
    pub delete_excluded: bool,
    /// `--max-delete`; `None`: no limit.
    /// flag: --max-delete
    pub max_delete: Option<u64>,
    /// flag: --ignore-errors
    pub ignore_errors: bool,
    /// flag: --force
    pub force: bool,
    /// flag: --ignore-missing-args, --delete-missing-args
    pub missing_args: MissingArgs,
    /// `-u`: skip files that are newer at the destination.
    /// flag: --update
    pub update: bool,
    /// flag: --ignore-existing
    pub ignore_existing: bool,
    /// `--existing`: don't create anything new.
    /// flag: --existing
    pub existing: bool,
    /// `--link-dest`/`--copy-dest`/`--compare-dest` (one kind, up to 20 dirs).
    /// flag: --compare-dest, --copy-dest, --link-dest
    pub basis: Option<(BasisKind, Vec<PathBuf>)>,
    /// flag: --backup
    pub backup: bool,
    /// flag: --backup-dir
    pub backup_dir: Option<PathBuf>,
    /// Backup suffix: `~` by default, empty with `--backup-dir`.
    /// flag: --suffix, --backup-dir
    pub suffix: OsString,
    /// flag: --remove-source-files, --remove-sent-files
    pub remove_source_files: bool,
    /// flag: --delay-updates
    pub delay_updates: bool,
    /// flag: --prune-empty-dirs
    pub prune_empty_dirs: bool,
    /// flag: --partial-dir
    pub partial_dir: Option<PathBuf>,
    /// `-O`: directory mtimes are not preserved (also implied by `-b`
    /// without `--backup-dir`, as in rsync).
    /// flag: --omit-dir-times, --backup
    pub omit_dir_times: bool,
    /// `-J`: symlink mtimes are not preserved.
    /// flag: --omit-link-times
    pub omit_link_times: bool,
    /// `-X` count (`--no-X` resets it): 2 also copies rsync's own
    /// `user.rsync.%…` attributes.
    /// flag: --xattrs
    pub xattrs: u8,
    /// `-A` (it turns `--perms` on where it is given, as in rsync).
    /// flag: --acls
    pub acls: bool,
    /// `-E`: without `--perms`, carry the execute bits.
    /// flag: --executability
    pub executability: bool,
    /// `--chmod` rules, every occurrence appended in order.
    /// flag: --chmod
    pub chmod: crate::chmod::ChmodRules,
    /// `--usermap`, `--groupmap`, `--chown` (parsed into maps at run
    /// start, where rsync reports their errors).
    /// flag: --usermap, --groupmap, --chown
    pub maps: crate::idmap::MapArgs,
    /// `-M`/`--remote-option`: options for rsync's receiving side (see
    /// `cli::remote`).
    /// flag: --remote-option
    pub remote_options: Vec<std::ffi::OsString>,
    /// `--insecure-links`: DEST and the basis dirs may go through symlinks
    /// other users own (see `sys::trust`).
    /// flag: --insecure-links
    pub insecure_links: bool,
    /// `--confine-root=DIR`: the paths of operator options and those
    /// `--files-from` selects must resolve inside DIR (lexically cleaned,
    /// see `sys::trust::escapes_root`); `None`: nothing confined (also
    /// for `/`).
    /// flag: --confine-root
    pub confine_root: Option<std::path::PathBuf>,
    /// `--copy-as=USER[:GROUP]`: who the copy runs as (see `copyas`).
    /// flag: --copy-as
    pub copy_as: Option<String>,
    /// `--super` / `--no-super` / `--fake-super`; `None`: by uid.
    /// flag: --super, --fake-super
    pub super_mode: Option<SuperMode>,
    /// `--out-format` / `--log-format`: the stdout line format.
    /// flag: --out-format
    pub out_format: Option<Vec<u8>>,
    /// `--log-file`.
    /// flag: --log-file
    pub log_file: Option<PathBuf>,
    /// `--log-file-format` (only used with `--log-file`).
    /// flag: --log-file-format
    pub log_file_format: Option<Vec<u8>>,
    /// `--stats`.
    /// flag: --stats
    pub stats: bool,
    /// `--progress` / `-P` (rsync's `do_progress`; `--info=progress2`
    /// alone does not set it).
    /// flag: --progress, -P
    pub progress: bool,
    /// `--no-progress-bar` (arsync only): rsync's text even on a terminal.
    /// flag: --no-progress-bar
    pub no_progress_bar: bool,
    /// `-8`: high-bit bytes are printed unescaped.
    /// flag: --8-bit-output
    pub eight_bit: bool,
    /// Levels set with `--info=FLAGS`; they win over `-v`'s defaults.
    /// flag: --info
    pub info: InfoLevels,
    /// `-S`: runs of zeros become holes in the destination.
    /// flag: --sparse
    pub sparse: bool,
    /// `--preallocate`: destination files are fallocate()d to their size
    /// before the data is written.
    /// flag: --preallocate
    pub preallocate: bool,
    /// `--copy-devices`: a source device is sent as a regular file holding
    /// its contents.
    /// flag: --copy-devices
    pub copy_devices: bool,
    /// `--write-devices`: a device at the destination is written into (it
    /// implies `--inplace`, as in rsync).
    /// flag: --write-devices
    pub write_devices: bool,
    /// `-U`: access times of non-directories are preserved.
    /// flag: --atimes
    pub atimes: bool,
    /// `--open-noatime` (or `-UU`): source files are opened with O_NOATIME.
    /// flag: --atimes, --open-noatime
    pub open_noatime: bool,
    /// Filter rules in command-line order (`--filter`, `--exclude`,
    /// `--include`, the `*-from` files, `-F`, `-C`).
    /// flag: --cvs-exclude, --filter, -F, --exclude, --exclude-from, --include, --include-from
    pub filters: Vec<crate::filter::FilterArg>,
    /// `--from0`: rule files (and `--files-from`) are NUL-separated.
    /// `--max-size`: regular files larger than this are skipped.
    /// flag: --max-size
    pub max_size: Option<u64>,
    /// `--min-size`: regular files smaller than this are skipped.
    /// flag: --min-size
    pub min_size: Option<u64>,
    /// `-x` count: 1 keeps mount points as empty directories, 2 leaves
    /// them out.
    /// flag: --one-file-system
    pub one_file_system: u8,
    /// `--list-only`, or a single operand: the sources are listed, not
    /// transferred (a destination operand is ignored).
    /// flag: --list-only
    pub list_only: bool,
    /// `--iconv=LOCAL,REMOTE`: names are converted from the sending
    /// side's charset to the receiving side's (`None`: `-`, `--no-iconv`).
    /// flag: --iconv
    pub iconv: Option<crate::iconv::IconvSpec>,
    /// `-R`: path names are kept below DEST.
    /// flag: --relative, --files-from
    pub relative: bool,
    /// `--implied-dirs` (the default) / `--no-implied-dirs`: with `-R`,
    /// the directories on the way to a named path are transferred too.
    /// flag: --implied-dirs
    pub implied_dirs: bool,
    /// `--files-from=FILE` (`-` = stdin): the names to send, relative to
    /// the one source argument.
    /// flag: --files-from
    pub files_from: Option<OsString>,
    /// `-0`/`--from0`: names in the *-from files end with a NUL byte.
    /// flag: --from0
    pub from0: bool,
    /// flag: --stderr, --msgs2stderr
    pub stderr_mode: StderrMode,
    /// flag: --outbuf
    pub outbuf: Option<OutBuf>,
    /// flag: --append, --append-verify (both imply --inplace)
    pub append: Append,
    /// flag: --timeout — seconds without progress before giving up (0: never).
    pub timeout: u64,
    /// flag: --bwlimit — bytes per second (`None`: no limit).
    pub bwlimit: Option<u64>,
    /// flag: --fsync — each file is fsynced before its rename.
    pub fsync: bool,
    /// flag: --stop-after, --time-limit, --stop-at — when to stop copying.
    pub stop_at: Option<std::time::SystemTime>,
    /// flag: --checksum-choice — the `-c` checksum, as given (validated).
    pub checksum_choice: Option<String>,
    /// env: ARSYNC_THREADS — threads with their own io_uring ring
    /// (`None`: the engine's default, two per core).
    pub threads: Option<usize>,
    /// env: ARSYNC_LANES — files in flight per thread (`None`: 16).
    pub lanes: Option<usize>,
    /// env: ARSYNC_DEPTH — pieces of one file in flight on the pipelined
    /// copy engines (`None`: the engine's default).
    pub depth: Option<usize>,
    /// env: ARSYNC_CHUNK_KIB — largest single read/write, in KiB (`None`:
    /// the engine's default).
    pub chunk: Option<usize>,
    /// Positional arguments: sources then destination.
    pub args: Vec<OsString>,
}

/// `--info` levels given explicitly (`None`: derived from `-v` and
/// friends, as rsync's DEFAULT_PRIORITY levels are).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct InfoLevels {
    pub name: Option<u8>,
    pub progress: Option<u8>,
    pub stats: Option<u8>,
    pub flist: Option<u8>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            verbose: 0,
            quiet: 0,
            itemize: 0,
            human_readable: 1,
            recursive: Recurse::No,
            dirs: false,
            links: false,
            copy_links: false,
            copy_unsafe_links: false,
            safe_links: false,
            munge_links: false,
            copy_dirlinks: false,
            keep_dirlinks: false,
            hard_links: false,
            perms: false,
            times: false,
            group: false,
            owner: false,
            devices: false,
            specials: false,
            dry_run: false,
            whole_file: None,
            ignore_times: false,
            size_only: false,
            modify_window: 0,
            checksum: false,
            inplace: false,
            partial: false,
            temp_dir: None,
            numeric_ids: false,
            mkpath: false,
            protocol: crate::version::PROTOCOL as i64,
            inc_recursive: true,
            engine: EngineChoice::Auto,
            delete: None,
            delete_excluded: false,
            max_delete: None,
            ignore_errors: false,
            force: false,
            missing_args: MissingArgs::Error,
            update: false,
            ignore_existing: false,
            existing: false,
            basis: None,
            backup: false,
            backup_dir: None,
            suffix: OsString::from("~"),
            remove_source_files: false,
            delay_updates: false,
            prune_empty_dirs: false,
            partial_dir: None,
            omit_dir_times: false,
            omit_link_times: false,
            xattrs: 0,
            acls: false,
            executability: false,
            chmod: crate::chmod::ChmodRules::default(),
            maps: crate::idmap::MapArgs::default(),
            copy_as: None,
            insecure_links: false,
            confine_root: None,
            remote_options: Vec::new(),
            super_mode: None,
            out_format: None,
            log_file: None,
            log_file_format: None,
            stats: false,
            progress: false,
            no_progress_bar: false,
            eight_bit: false,
            info: InfoLevels::default(),
            sparse: false,
            preallocate: false,
            copy_devices: false,
            write_devices: false,
            atimes: false,
            open_noatime: false,
            filters: Vec::new(),
            max_size: None,
            min_size: None,
            one_file_system: 0,
            list_only: false,
            iconv: None,
            relative: false,
            implied_dirs: true,
            files_from: None,
            from0: false,
            stderr_mode: StderrMode::Errors,
            outbuf: None,
            append: Append::No,
            timeout: 0,
            bwlimit: None,
            fsync: false,
            stop_at: None,
            checksum_choice: None,
            threads: None,
            lanes: None,
            depth: None,
            chunk: None,
            args: Vec::new(),
        }
    }
}

impl Options {
    /// Reads the arsync-only tuning variables (`ARSYNC_THREADS`,
    /// `ARSYNC_LANES`, `ARSYNC_DEPTH`, `ARSYNC_CHUNK_KIB`) once, with the options; unset or not a number
    /// leaves the engine's default.
    pub(crate) fn read_env(&mut self) {
        let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
        self.threads = env("ARSYNC_THREADS");
        self.lanes = env("ARSYNC_LANES");
        self.depth = env("ARSYNC_DEPTH");
        self.chunk = env("ARSYNC_CHUNK_KIB").map(|k| k.clamp(4, 1 << 16) << 10);
    }

    /// `--temp-dir` is relative and climbs out with `..`: rsync 3.5 opens
    /// it beneath the destination and so refuses it, file by file.
    pub(crate) fn temp_dir_climbs(&self) -> bool {
        self.temp_dir.as_ref().is_some_and(|t| {
            t.is_relative() && t.components().any(|c| c == std::path::Component::ParentDir)
        })
    }

    pub(crate) fn recursive(&self) -> bool {
        self.recursive != Recurse::No
    }

    /// rsync's `xfer_dirs`: directories named on the command line are
    /// transferred (as opposed to "skipping directory").
    pub(crate) fn xfer_dirs(&self) -> bool {
        self.recursive() || self.dirs
    }

    /// rsync's INFO_NAME level: what `-v` controls for file names.
    /// `--progress` raises it to 1 when lines are logged after the
    /// transfer (no `-i`, or a format with `%b`/`%c`/`%C`), as rsync does.
    pub(crate) fn info_name(&self) -> u8 {
        if self.quiet > 0 {
            return 0;
        }
        if let Some(n) = self.info.name {
            return n;
        }
        let logs_before = match &self.out_format {
            Some(f) => crate::text::logs_before_transfer(f),
            None => self.itemize > 0,
        };
        if self.verbose == 0 && self.progress && !logs_before {
            1
        } else {
            self.verbose
        }
    }

    /// rsync's `stdout_format_has_i`: the `-i` count without an explicit
    /// format; with `--out-format`, at least 1 if it has `%i`, else 0.
    pub(crate) fn format_has_i(&self) -> u8 {
        if self.quiet > 0 {
            return 0;
        }
        match &self.out_format {
            Some(f) if crate::text::format_has(f, b'i') => self.itemize | 1,
            Some(_) => 0,
            None => self.itemize,
        }
    }

    /// The stdout line format: `--out-format`, `%i %n%L` for `-i`,
    /// `%n%L` for `-v`; `None` prints no item lines.
    pub(crate) fn stdout_format(&self) -> Option<Vec<u8>> {
        if self.quiet > 0 {
            return None;
        }
        match &self.out_format {
            Some(f) => Some(f.clone()),
            None if self.itemize > 0 => Some(crate::text::ITEMIZE_FORMAT.to_vec()),
            None if self.info_name() > 0 => Some(crate::text::DEFAULT_NAME_FORMAT.to_vec()),
            None => None,
        }
    }

    /// rsync's INFO_FLIST level: 1 with `-v`, 2 with `--progress`.
    pub(crate) fn info_flist(&self) -> u8 {
        if self.quiet > 0 {
            return 0;
        }
        self.info.flist.unwrap_or(if self.progress {
            2
        } else {
            u8::from(self.verbose > 0)
        })
    }

    /// rsync's INFO_PROGRESS level: 1 per file, 2 for the whole transfer.
    pub(crate) fn info_progress(&self) -> u8 {
        if self.quiet > 0 {
            return 0;
        }
        self.info.progress.unwrap_or(u8::from(self.progress))
    }

    /// rsync's INFO_STATS level: 1 the summary lines (`-v`), 2 the
    /// `--stats` block. `-q` silences stdout but not this level (the log
    /// file still gets the lines).
    pub(crate) fn info_stats(&self) -> u8 {
        let from_v = u8::from(self.verbose > 0);
        let from_stats = if self.stats { 2 } else { 0 };
        self.info.stats.unwrap_or(from_v.max(from_stats))
    }

    /// Incremental recursion as rsync decides it: only with `-r`, and not
    /// turned off.
    pub(crate) fn inc_recurse(&self) -> bool {
        self.recursive() && self.inc_recursive
    }

    /// Whether mtimes are equal under `--modify-window`, as rsync's
    /// `same_time()`: window 0 compares whole seconds only.
    pub(crate) fn same_time(&self, a_sec: i64, a_nsec: u32, b_sec: i64, b_nsec: u32) -> bool {
        same_time(self.modify_window, a_sec, a_nsec, b_sec, b_nsec)
    }
}

/// rsync's `same_time()` under `--modify-window=WINDOW`: with window 0 only
/// whole seconds count; a negative window compares nanoseconds too.
pub(crate) fn same_time(window: i64, a_sec: i64, a_nsec: u32, b_sec: i64, b_nsec: u32) -> bool {
    match window {
        0 => a_sec == b_sec,
        w if w < 0 => a_sec == b_sec && a_nsec == b_nsec,
        w => (a_sec - b_sec).abs() <= w,
    }
}
