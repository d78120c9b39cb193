//! Everything the user sees: per-item lines (`-v`, `-i`), messages, errors,
//! and the closing summary, in rsync's formats and rsync's order.
//!
//! Work completes out of order (many files are copied at once), but lines
//! must come out in file-list order. Every item that may print reserves a
//! slot; a slot's lines are written once all earlier slots are filled.

mod bar;
pub(crate) mod format;
pub(crate) mod itemize;
mod live;
pub(crate) mod logfile;
mod overtake;
pub(crate) mod progress;
pub(crate) mod stats;

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use crate::exit::IoErrors;
use crate::options::Options;
use crate::plan::{SkipWhy, item};
use crate::sys::{self, Kind, Stat};
use crate::walk::Entry;

use format::{FormatCtx, ItemView};
use logfile::LogFile;
use progress::{Progress, ProgressConfig, ProgressMode};
use stats::{FileCounts, TransferStats};

/// rsync's sender keeps at least this many file-list entries ahead of the
/// file it sends (`MIN_FILECNT_LOOKAHEAD`), so a progress line shows the
/// list count as of that lookahead (`to-chk`), not as of arsync's walk.
const FLIST_LOOKAHEAD: u64 = 1000;

/// rsync's warnings at `--protocol` 24 and below: the client's (stdout)
/// and the server's (stderr).
pub(crate) const OLD_SERVER: &str = "Server is very old version of rsync, upgrade recommended.";
pub(crate) const OLD_CLIENT: &str = "Client is very old version of rsync, upgrade recommended.";
/// The start of the sender's `-vv` line for a source file
/// `--remove-source-files` removed ([`Report::source_removed`]): its
/// note among a transfer's, which goes with the sender's lines.
const SOURCE_REMOVED: &str = "sender removed ";

/// A reserved place in the output order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Slot(u64);

/// One piece of output, written in order.
#[derive(Debug)]
enum Line {
    /// A stdout line (the newline is added).
    Out(Vec<u8>),
    /// A stderr line.
    Err(Vec<u8>),
    /// Bytes for stdout as they are (file-list progress).
    Raw(Vec<u8>),
    /// A `--log-file` message.
    Log(Vec<u8>),
    /// A transferred file's progress, replayed in file-list order.
    Xfer(Xfer),
    /// `--info=progress2`: the whole list is done (rsync's last NDX_DONE).
    ListDone,
    /// `--info=progress2`: an incremental sub-list whose last entry is at
    /// this file-list position is done (rsync's NDX_DONE for it).
    ListEnd(u64),
    /// A transferred file's stdout line, printed by rsync's sender. Below
    /// protocol 29 it waits (see [`OldProtocol`]) under its sort key.
    Sender { key: Vec<u8>, line: Vec<u8> },
    /// A transferred file's `--log-file` line, written by rsync's sender:
    /// below protocol 29 it waits with the sender's stdout lines.
    SenderLog { key: Vec<u8>, line: Vec<u8> },
    /// The transfers are done: waiting sender lines go out.
    SenderDone,
    /// Lines of rsync's sender at protocol 29 and up: they wait for the
    /// generator's flush (see [`overtake`]).
    Held(Vec<Line>),
    /// What the receiving side says about a file it got (`-vv`'s notes,
    /// `sender removed`): after the sender's held lines (see [`overtake`]).
    Reply(Vec<Line>),
    /// The generator's first flush (see [`overtake`]).
    SenderFlush,
}

/// How rsync's output changes below `--protocol` 29 on a local copy
/// (measured with rsync 3.5.0). Its generator (the receiving process)
/// then neither itemizes nor hands item lines to the sender: with `-v` it
/// prints the names of the entries it changes itself (a new directory
/// only when setting its attributes changes it), with `-i` those entries
/// get no line, and the sender prints each transferred file with `?`
/// for every attribute flag (`>f?????????`). The generator's lines reach
/// the terminal before the sender's (for lists the size of a pipe
/// buffer), and the sender's come in the old file-list order: full paths
/// as plain bytes (`a.txt` before `a/x`). At 22 and below the
/// generator's lines (with `created directory`) go to stderr. With
/// `--log-file` the generator logs no items: its stdout lines are logged
/// as printed (none at 22 and below), the sender logs its transfers
/// (`>f?????????`) after them. Progress is the sender's too: each
/// file's follows its name (its `to-chk` in the old order), and
/// `progress2`'s list-end lines come after all of them.
#[derive(Debug, Default)]
struct OldProtocol {
    /// Below 29.
    on: bool,
    /// 22 and below: the generator's lines go to stderr.
    server_stderr: bool,
    /// The line being made is the generator's.
    in_server: bool,
    /// Dir times are set (`-t` without `-O`): a new directory is named.
    dir_times: bool,
    /// Sender lines (stdout and log) waiting for [`Line::SenderDone`].
    waiting: Vec<(Vec<u8>, Line)>,
    /// The file-list name of the entry whose generator lines are being
    /// made: they wait too, to go out in the old order.
    key: Option<Vec<u8>>,
    /// Generator lines waiting for [`Line::SenderDone`].
    server_waiting: Vec<(Vec<u8>, Line)>,
    /// `--delete-during`: the sort key of the deletions in the directory
    /// being cleaned (they follow its own line, before its contents').
    deleting_in: Option<Vec<u8>>,
    /// With progress, every file-list name's sort key (for `to-chk`).
    names: Vec<Vec<u8>>,
    /// `progress2`'s list ends waiting for [`Line::SenderDone`].
    list_ends: Vec<Line>,
    /// The waiting lines are written: later sender lines go out at once.
    flushing: bool,
    /// `-H`: the file-list name of the member being handled (see
    /// `transfer::hlink`); `None`: a link made once a copy is done.
    link_key: Option<Vec<u8>>,
    /// `-H`: the links made once their leaders' copies were done: rsync's
    /// generator names them after the sender's lines.
    links_after: Vec<Line>,
}

/// The sort key of a file-list name in rsync's old order: plain bytes,
/// with `.` first.
fn old_key(name: &[u8]) -> Vec<u8> {
    match name {
        b"." => Vec::new(),
        n => n.to_vec(),
    }
}

#[derive(Debug)]
struct Xfer {
    name: Vec<u8>,
    /// Its old file-list order key.
    key: Vec<u8>,
    size: u64,
    index: u64,
    copied: u64,
    /// Bytes already shown while the copy ran (its first lines are out).
    resumed: Option<u64>,
}

impl ItemRec {
    /// The old file-list order's key (see [`ItemRec::held`]).
    pub(super) fn old_key(&self) -> Vec<u8> {
        old_key(self.held.as_deref().unwrap_or(&self.name))
    }
}

/// Transfer counters, as rsync's `struct stats`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Stats {
    /// Sum of regular-file and symlink sizes in the file list.
    pub total_size: u64,
    pub num_files: u64,
    pub num_transferred: u64,
    pub transferred_size: u64,
    /// Bytes of file data actually written.
    pub literal_data: u64,
    /// Every entry of the file list, by type.
    pub files: FileCounts,
    /// Entries created at the destination.
    pub created: FileCounts,
    /// Entries deleted at the destination.
    pub deleted: FileCounts,
}

/// An item kept until its copy completes, to render its lines then.
#[derive(Clone, Debug)]
pub(crate) struct ItemRec {
    pub name: Vec<u8>,
    /// `--iconv`: the receiver's name, where it differs from `name`.
    /// Below protocol 29 rsync's receiver sorts its file list by the
    /// names it holds, and both processes print in that order.
    pub held: Option<Vec<u8>>,
    pub iflags: u32,
    pub stat: Stat,
    pub link: Option<Vec<u8>>,
    /// `%f`'s directory (see [`ItemView::src_dir`]).
    pub src_dir: Option<Vec<u8>>,
    /// Position in rsync's file list (the root `.` is 0).
    pub index: u64,
    /// Index distance to the previous transferred file (for `%b`).
    pub ndx_gap: i64,
    /// The file to checksum for `%C` (only when a format shows it).
    pub sum_src: Option<std::path::PathBuf>,
}

/// `%C`'s checksum: rsync's default (xxh128) of a file's content, in
/// canonical byte order; `None` if it cannot be read.
fn file_sum(path: &std::path::Path) -> Option<[u8; 16]> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(h.digest128().to_be_bytes())
}

/// A `NAME: [generator] …` or `NAME: [receiver] …` line: one the
/// receiving rsync process writes itself.
fn is_server_side(line: &[u8]) -> bool {
    let after = match line.windows(2).position(|w| w == b": ") {
        Some(i) => &line[i + 2..],
        None => return false,
    };
    after.starts_with(b"[generator] ") || after.starts_with(b"[receiver] ")
}

/// `%f`'s directory for an entry: its source path without its name.
fn src_dir_of(e: &Entry) -> Option<Vec<u8>> {
    let src = e.src();
    let src = src.as_os_str().as_bytes();
    if e.name == b"." {
        return Some(src.to_vec());
    }
    src.strip_suffix(e.local_name()).map(<[u8]>::to_vec)
}

/// What a run did or found, as the stages tell the report: which of these
/// print, and at which `-v`/`-i` level, the report alone decides (from
/// the options, once); the counters and exit-code flags they move are
/// the report's own.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// A file's data is handed over to be sent (`size` bytes).
    Sending { size: u64 },
    /// Bytes of file data sent from the source (not copied from a basis).
    Literal(u64),
    /// Entries a later source of the same name hides: still in the
    /// list's total size.
    Shadowed(u64),
    /// A failure already reported (or told otherwise) makes the run
    /// partial: exit 23.
    Partial,
    /// A source file vanished: exit 24 unless something worse happened.
    Vanished,
    /// `--max-delete` left deletions undone: exit 25.
    DeleteLimit,
    /// An entry's item line (`-i`, `-v`, `--out-format`, `--log-file`),
    /// in order; a directory's waits for the next other output.
    Item {
        iflags: u32,
        e: &'a Entry,
        link: Option<&'a [u8]>,
    },
    /// A hard-link member linked to its group's file `xname` (empty: an
    /// already-linked member).
    ItemLinked {
        iflags: u32,
        e: &'a Entry,
        xname: &'a [u8],
    },
    /// A non-directory found up to date; `changed`: its attributes were
    /// set (rsync's `set_file_attrs` names it at -vv without -i).
    UpToDate { name: &'a [u8], changed: bool },
    /// An entry an identical basis item settled (`--link-dest`, ...):
    /// its item line only at `-ii` (or `-i -vv`), else "is uptodate".
    BasisMatch {
        iflags: u32,
        e: &'a Entry,
        link: Option<&'a [u8]>,
    },
    /// An entry an update rule (or `--safe-links`) leaves alone.
    Skipped { e: &'a Entry, why: SkipWhy },
    /// A non-regular file that is not transferred.
    NonRegular { name: &'a [u8] },
    /// A `--delete-before`/`--delete-after` pass reaches a top directory
    /// of the transfer (`.` or one named on the command line).
    DeletingIn { name: &'a [u8] },
    /// `--mkpath` made `n` directories on the way to DEST (`what`).
    MadePath { n: usize, what: &'a [u8] },
    /// DEST was made as a new directory (named `what`).
    MadeDest { what: &'a [u8] },
    /// `-b`: `from` was backed up as `to` (both relative to DEST).
    BackedUp { from: &'a [u8], to: &'a [u8] },
    /// `--backup-dir` (`shown` as given), and whether it exists yet.
    BackupDir { shown: &'a [u8], exists: bool },
    /// A new hard-link member already linked to its group through a
    /// `--link-dest` basis (quiet, see [`Report::linked_basis_quiet`]):
    /// "is uptodate" at -vv.
    LinkedBasis { name: &'a [u8] },
    /// Whether delta transmission is used (rsync says so at -vv).
    Delta { enabled: bool },
    /// `-x` with `--delete`: a mount point (`local`, relative to DEST) is
    /// not deleted; `listed_out`: `-xx` left it out of the listing.
    MountPoint { local: &'a [u8], listed_out: bool },
}

/// The output side of a run.
pub(crate) struct Report {
    /// Program name for message prefixes (`rsync:` when run as rsync).
    pub name: String,
    /// rsync's INFO_NAME level.
    verbose: u8,
    /// The `-v` count itself (for `-vv`'s `total:` line).
    raw_verbose: u8,
    /// rsync's `stdout_format_has_i`.
    itemize: u8,
    /// The stdout line format; `None`: no item lines.
    format: Option<Vec<u8>>,
    /// Item lines of transferred files come before their data (no `%b`,
    /// `%c`, `%C` in the format).
    log_before: bool,
    human: u8,
    quiet: bool,
    dry_run: bool,
    utf8: bool,
    eight_bit: bool,
    /// The receiving side's errors are escaped byte by byte, as the rsync
    /// process that writes them does (no `-8`, no `--stderr=client`).
    server_escapes: bool,
    /// `--iconv`: how names of the receiving side's messages come out
    /// (they reach the printing sender converted; see [`crate::iconv`]).
    /// A `RefCell`: the conversions keep state and lines are made
    /// through `&self`.
    shown: Option<std::cell::RefCell<crate::iconv::Shown>>,
    /// rsync's INFO_STATS level (`-v` 1, `--stats` 2).
    stats_level: u8,
    owner: bool,
    group: bool,
    /// A format shows `%C` (file checksums are computed for it).
    want_sum: bool,
    /// `--protocol`: the stats lines and `%C` depend on it.
    protocol: i64,
    /// `-c`: `%C` shows every listed file's checksum, not only sent ones.
    checksum: bool,
    ctx: FormatCtx,
    out: BufWriter<io::Stdout>,
    /// `--stderr=all` / `--msgs2stderr`: every message goes to stderr.
    all_to_stderr: bool,
    /// `--outbuf=N|L`: stdout is flushed after every line.
    flush_lines: bool,
    queue: VecDeque<Option<Vec<Line>>>,
    base: u64,
    /// A directory's item line held back so that deletions inside it
    /// come first, as rsync prints them.
    held: Vec<Line>,
    /// Lines go out now, ahead of reserved slots (see [`Report::unordered`]).
    unordered: bool,
    stats: Stats,
    errors: IoErrors,
    started: Instant,
    log: Option<LogFile>,
    /// The log got the closing lines already.
    log_closed: bool,
    /// `-vv`'s `total:` line is out (see [`Report::sender_done`]).
    total_shown: bool,
    progress: Progress,
    /// Copies whose progress may show while they run (see `live`).
    watching: live::Watching,
    list_complete: bool,
    /// The file-list index of the last transferred file (for `%b`).
    last_xfer: i64,
    /// The file-list position of the entry being handled.
    entry_index: u64,
    /// The last position of the incremental sub-list being sent.
    open_list: Option<u64>,
    /// Data was sent since that list started.
    list_sent: bool,
    flist_ms: u64,
    old: OldProtocol,
    overtake: overtake::Overtake,
}

impl Report {
    pub(crate) fn new(name: &str, opts: &Options) -> Report {
        let utf8 = sys::locale_is_utf8();
        let format = opts.stdout_format();
        let mode = match opts.info_progress() {
            0 => ProgressMode::Off,
            1 => ProgressMode::PerFile,
            _ => ProgressMode::Total,
        };
        // rsync shows no progress in a dry run.
        let progress = if mode == ProgressMode::Off || opts.dry_run {
            Progress::off()
        } else {
            Progress::new(ProgressConfig {
                mode,
                human: opts.human_readable,
                quiet: opts.quiet > 0,
                no_bar: opts.no_progress_bar,
            })
        };
        let log_format = opts.log_file.as_ref().map(|_| {
            opts.log_file_format
                .clone()
                .unwrap_or_else(|| logfile::DEFAULT_FORMAT.to_vec())
        });
        let want_sum = [format.clone(), log_format]
            .iter()
            .flatten()
            .any(|f| format::format_has(f, b'C'))
            // rsync's protocols before 30 leave `%C` blank.
            && opts.protocol >= 30;
        let progress_on = progress.is_on();
        let mut r = Report {
            name: name.to_string(),
            verbose: opts.info_name(),
            raw_verbose: opts.verbose,
            itemize: opts.format_has_i(),
            log_before: format.as_deref().is_none_or(format::logs_before_transfer),
            format,
            human: opts.human_readable,
            quiet: opts.quiet > 0,
            dry_run: opts.dry_run,
            utf8,
            eight_bit: opts.eight_bit,
            server_escapes: !opts.eight_bit
                && opts.stderr_mode != crate::options::StderrMode::Client,
            shown: opts
                .iconv
                .as_ref()
                .and_then(crate::iconv::Shown::open)
                .map(std::cell::RefCell::new),
            stats_level: opts.info_stats(),
            owner: opts.owner,
            group: opts.group,
            want_sum,
            protocol: opts.protocol,
            checksum: opts.checksum,
            ctx: FormatCtx {
                preserve_times: opts.times,
                ..FormatCtx::default()
            },
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            all_to_stderr: opts.stderr_mode == crate::options::StderrMode::All,
            flush_lines: matches!(
                opts.outbuf,
                Some(crate::options::OutBuf::None | crate::options::OutBuf::Line)
            ),
            queue: VecDeque::new(),
            base: 0,
            held: Vec::new(),
            unordered: false,
            stats: Stats::default(),
            errors: IoErrors::default(),
            started: Instant::now(),
            log: None,
            log_closed: false,
            total_shown: false,
            progress,
            watching: live::Watching::new(),
            entry_index: 0,
            open_list: None,
            list_sent: false,
            list_complete: false,
            last_xfer: -1,
            flist_ms: 0,
            old: OldProtocol {
                on: opts.protocol < 29,
                server_stderr: opts.protocol <= 22,
                in_server: false,
                dir_times: opts.times && !opts.omit_dir_times,
                ..OldProtocol::default()
            },
            overtake: overtake::Overtake::new(
                opts.protocol >= 29 && !progress_on,
                opts.inc_recurse(),
                opts.hard_links,
            ),
        };
        // (With `--iconv` they come after its charset lines: see
        // `transfer::run_with`.)
        if opts.iconv.is_none() {
            r.old_warnings(opts);
        }
        r.open_log(opts);
        r
    }

    /// rsync's two processes each warn about the other's protocol at 24
    /// and below.
    pub(crate) fn old_warnings(&mut self, opts: &Options) {
        if opts.protocol <= 24 && opts.quiet == 0 {
            self.push(Line::Out(OLD_SERVER.as_bytes().to_vec()));
            self.push(Line::Err(OLD_CLIENT.as_bytes().to_vec()));
        }
    }

    /// `--log-file`: opened as rsync 3.5 opens it (see `sys::trust`); on
    /// failure rsync's lines, and the run goes on without a log.
    fn open_log(&mut self, opts: &Options) {
        if let Some(path) = &opts.log_file {
            // rsync 3.5 opens the log through its walk of operator paths
            // (see `sys::trust`): refused, it goes on without a log.
            let opened = if !opts.insecure_links && crate::sys::trust::follows_untrusted_link(path)
            {
                self.push(Line::Err(crate::sys::trust::REFUSAL.as_bytes().to_vec()));
                Err(format!(
                    "failed to open log-file {}: {}",
                    path.display(),
                    crate::sys::errno_text(crate::sys::Errno::LOOP)
                ))
            } else {
                LogFile::open(path, opts.log_file_format.as_deref())
            };
            match opened {
                Ok(l) => {
                    self.log = Some(l);
                    // (The server's old-version warning is on stdout: logged.)
                    if opts.protocol <= 24 && opts.quiet == 0 {
                        self.push(Line::Log(OLD_SERVER.as_bytes().to_vec()));
                    }
                    self.push(Line::Log(b"building file list".to_vec()));
                }
                Err(msg) => {
                    // rsync goes on without a log; the exit code is unaffected.
                    let l = format!("{}: [client] {}", self.name, self.esc(msg.as_bytes()));
                    self.push(Line::Err(l.into_bytes()));
                    self.push(Line::Out(LogFile::IGNORING.as_bytes().to_vec()));
                }
            }
        }
    }

    /// A name escaped the way rsync prints names.
    pub(crate) fn esc(&self, name: &[u8]) -> String {
        sys::escape_name(name, self.utf8)
    }

    /// A REMOTE name in a line of rsync's receiving side (`skipping
    /// non-regular file`, `is uptodate`), as [`Report::esc_server_line`]
    /// shows it.
    fn esc_server(&self, name: &[u8]) -> Vec<u8> {
        match &self.shown {
            Some(c) if !self.old.server_stderr => c.borrow_mut().printed(name),
            _ => self.esc(name).into_bytes(),
        }
    }

    /// A line of rsync's receiving side (generator), naming REMOTE names
    /// as it holds them: with `--iconv` it reaches the printing sender
    /// converted, and bytes LOCAL cannot take are escaped (see
    /// [`crate::iconv::Shown::printed`]); at protocol 22 and below, and
    /// without `--iconv`, it is escaped as any line.
    fn esc_server_line(&self, line: &[u8]) -> Vec<u8> {
        match &self.shown {
            Some(c) if !self.old.server_stderr => c.borrow_mut().printed(line),
            _ => format::escape_output(line, self.utf8, self.eight_bit),
        }
    }

    /// An informational line of raw bytes (see [`Report::info`]).
    fn info_bytes(&mut self, s: Vec<u8>) {
        if !self.quiet {
            self.push(Line::Out(s.clone()));
            self.push(Line::Log(s));
        }
    }

    /// Takes in what happened (see [`Event`]).
    pub(crate) fn event(&mut self, ev: Event<'_>) {
        self.old.in_server = self.old.server_stderr;
        self.old.key = match &ev {
            _ if !self.old.on => None,
            Event::Item { e, .. } | Event::BasisMatch { e, .. } | Event::Skipped { e, .. } => {
                Some(old_key(&e.name))
            }
            Event::UpToDate { name, .. } | Event::NonRegular { name } => Some(old_key(name)),
            Event::ItemLinked { .. } => self.old.link_key.clone(),
            _ => None,
        };
        self.event_lines(ev);
        self.old.in_server = false;
        self.old.key = None;
    }

    fn event_lines(&mut self, ev: Event<'_>) {
        match ev {
            Event::Sending { size } => {
                self.stats.num_transferred += 1;
                self.stats.transferred_size += size;
                self.list_sent = true;
                self.bar_totals();
            }
            Event::Item { iflags, e, link } => self.item(iflags, e, link),
            Event::ItemLinked { iflags, e, xname } => self.item_xname(iflags, e, xname),
            Event::Literal(n) => self.stats.literal_data += n,
            Event::Shadowed(n) => self.stats.total_size += n,
            Event::Partial => self.errors.general = true,
            Event::Vanished => self.errors.vanished = true,
            Event::DeleteLimit => self.errors.del_limit = true,
            Event::UpToDate { name, changed } => {
                // (Below protocol 29 the generator itemizes nothing.)
                if self.verbose > 1 && (self.itemize == 0 || self.old.on) {
                    let mut line = self.esc_server(name);
                    if !changed {
                        line.extend_from_slice(b" is uptodate");
                    }
                    self.info_bytes(line);
                }
            }
            Event::BasisMatch { iflags, e, link } => self.basis_match(iflags, e, link),
            Event::Skipped { e, why } => {
                if let Some(line) = self.skip_line(e, why) {
                    // rsync's generator says why it skips a file before the
                    // line of the directory it is in; a subdirectory after.
                    match e.is_dir() {
                        true => self.info(line),
                        false => self.info_before_held(line),
                    }
                }
            }
            Event::NonRegular { name } => {
                let mut line = b"skipping non-regular file \"".to_vec();
                line.extend(self.esc_server(name));
                line.push(b'"');
                self.info_bytes(line);
            }
            Event::DeletingIn { name } => {
                if self.raw_verbose > 1 {
                    let name = self.esc(name);
                    self.info(format!("deleting in {name}"));
                }
            }
            // (rsync's receiving side names DEST as given, as REMOTE bytes.)
            Event::MadePath { n, what } => {
                if self.verbose > 0 || self.itemize > 0 {
                    let s = if n == 1 { "y" } else { "ies" };
                    let mut line = format!("created {n} director{s} for ").into_bytes();
                    line.extend(self.esc_server(what));
                    self.info_bytes(line);
                }
            }
            Event::MadeDest { what } => {
                if self.verbose > 0 || self.itemize > 0 {
                    let mut line = b"created directory ".to_vec();
                    line.extend(self.esc_server(what));
                    self.info_bytes(line);
                }
            }
            Event::Delta { enabled } if self.verbose > 1 => self.info(if enabled {
                "delta-transmission enabled"
            } else {
                "delta-transmission disabled for local transfer or --whole-file"
            }),
            Event::MountPoint { local, listed_out } if self.verbose > 1 => {
                let shown = self.esc(local);
                self.info(if listed_out {
                    format!("[generator] skipping mount-point dir {shown}")
                } else {
                    format!("cannot delete mount point: {shown}")
                });
            }
            Event::BackedUp { from, to } => {
                if let Some(l) = self.backed_up_line(from, to) {
                    self.info(l);
                }
            }
            Event::BackupDir { shown, exists } if self.verbose > 1 => {
                let shown = String::from_utf8_lossy(shown);
                let new = if exists { "" } else { "(new) " };
                self.info(format!("{new}backup_dir is {shown}"));
            }
            Event::LinkedBasis { name } if self.verbose > 1 => {
                let name = self.esc(name);
                self.info(format!("{name} is uptodate"));
            }
            Event::Delta { .. }
            | Event::MountPoint { .. }
            | Event::BackupDir { .. }
            | Event::LinkedBasis { .. } => {}
        }
    }

    /// An entry settled by an identical basis item: its item line at
    /// `-ii` (or `-i -vv`), else "is uptodate" at -vv.
    /// (Below protocol 29 the generator itemizes nothing: "is uptodate".)
    fn basis_match(&mut self, iflags: u32, e: &Entry, link: Option<&[u8]>) {
        let itemize = if self.old.on { 0 } else { self.itemize };
        if itemize > 1 || (itemize > 0 && self.verbose > 1) {
            self.item(iflags, e, link);
        } else if self.verbose > 1 && itemize == 0 {
            let mut line = self.esc_server(&e.name);
            if e.is_dir() {
                line.push(b'/');
            }
            line.extend_from_slice(b" is uptodate");
            self.info_bytes(line);
        }
    }

    /// What rsync says about a skipped entry: `--safe-links` speaks at
    /// -v, the update rules at -vv.
    fn skip_line(&self, e: &Entry, why: SkipWhy) -> Option<String> {
        let name = self.esc(&e.name);
        match why {
            SkipWhy::UnsafeLink => (self.verbose > 0).then(|| {
                let target = self.esc(e.link().unwrap_or_default());
                format!("ignoring unsafe symlink \"{name}\" -> \"{target}\"")
            }),
            _ if self.verbose < 2 => None,
            SkipWhy::NotCreating => {
                let what = if e.is_dir() { "directory" } else { "file" };
                Some(format!("not creating new {what} \"{name}\""))
            }
            SkipWhy::Exists => Some(format!("{name} exists")),
            SkipWhy::Newer => Some(format!("{name} is newer")),
            SkipWhy::OverMaxSize => Some(format!("{name} is over max-size")),
            SkipWhy::UnderMinSize => Some(format!("{name} is under min-size")),
            SkipWhy::NotShorter => None,
        }
    }

    /// Whether a new hard-link member linked through a `--link-dest`
    /// basis goes without its item line: unless itemizing at `-ii` or
    /// with `-i -vv`.
    pub(crate) fn linked_basis_quiet(&self) -> bool {
        self.itemize == 0 || (self.verbose < 2 && self.itemize < 2)
    }

    /// rsync's -vv line for a backup (it goes with the file's own lines
    /// when the engine made it).
    pub(crate) fn backed_up_line(&self, from: &[u8], to: &[u8]) -> Option<String> {
        (self.verbose > 1).then(|| format!("backed up {} to {}", self.esc(from), self.esc(to)))
    }

    /// rsync's -vv line for a source file `--remove-source-files` removed
    /// (it goes with the file's own lines).
    pub(crate) fn source_removed(&self, name: &[u8]) -> Option<String> {
        (self.verbose > 1).then(|| format!("{SOURCE_REMOVED}{}", self.esc(name)))
    }

    /// The counters so far.
    #[cfg(test)]
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What waits behind the first reserved slot (tests reserve one so
    /// nothing is written) and a held directory line: stdout lines as
    /// they are, stderr lines after `E: `.
    #[cfg(test)]
    pub(crate) fn held_lines(&self) -> Vec<String> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let lines = self.queue.iter().flatten().flatten().chain(&self.held);
        // (The sender's held lines as they will come.)
        let lines = lines.flat_map(|l| match l {
            Line::Held(ls) | Line::Reply(ls) => ls.iter().collect(),
            l => vec![l],
        });
        lines
            .filter_map(|l| match l {
                Line::Out(b) => Some(text(b)),
                Line::Err(b) => Some(format!("E: {}", text(b).trim_end())),
                _ => None,
            })
            .collect()
    }

    /// The exit code the errors so far make (0 if none).
    pub(crate) fn exit_code(&self) -> crate::exit::ExitCode {
        self.errors.exit_code()
    }

    /// A byte counter the engine adds written bytes to, for the terminal
    /// progress bar (`None` when there is no bar).
    pub(crate) fn progress_counter(&mut self) -> Option<Arc<AtomicU64>> {
        self.progress.live_counter()
    }

    /// Writes `bytes` (and a newline if `newline`) to stdout or stderr,
    /// first ending an unfinished progress line on that stream.
    fn emit(&mut self, to_err: bool, bytes: &[u8], newline: bool) {
        let to_err = to_err || self.all_to_stderr;
        let flush = self.flush_lines;
        let pending = self.progress.take_pending_newline();
        // Under a bar the line must reach the terminal while the bar is
        // hidden, or the bar's next frame lands in front of it.
        let bar = self.progress.is_on() && !self.progress.is_text();
        let out = &mut self.out;
        self.progress.suspend(|| {
            if to_err {
                let _ = out.flush();
                let mut e = io::stderr().lock();
                if pending {
                    let _ = e.write_all(b"\n");
                }
                let _ = e.write_all(bytes);
                if newline {
                    let _ = e.write_all(b"\n");
                }
            } else {
                if pending {
                    let _ = out.write_all(b"\n");
                }
                let _ = out.write_all(bytes);
                if newline {
                    let _ = out.write_all(b"\n");
                }
                if bar || flush {
                    let _ = out.flush();
                }
            }
        });
    }

    fn write_line(&mut self, line: Line) {
        match line {
            Line::Out(s) => self.emit(false, &s, true),
            Line::Err(s) if self.server_escapes && is_server_side(&s) => {
                self.emit(true, &crate::text::escape_server(&s), true)
            }
            Line::Err(s) => self.emit(true, &s, true),
            Line::Raw(s) => self.emit(false, &s, false),
            Line::Log(m) => {
                if let Some(l) = self.log.as_mut() {
                    l.message(&m);
                }
            }
            // Below protocol 29 the sender's progress waits with its names.
            Line::Xfer(x) if self.old.on && !self.old.flushing => {
                self.old.waiting.push((x.key.clone(), Line::Xfer(x)))
            }
            Line::Xfer(x) => {
                let shown = match x.resumed {
                    Some(shown) => shown,
                    None => {
                        self.begin_xfer(&x.name, x.size, x.index);
                        0
                    }
                };
                self.progress.advance(x.copied.saturating_sub(shown));
                self.progress.end_file();
            }
            // Below protocol 29 a list's end waits behind the sender's lines.
            l @ (Line::ListDone | Line::ListEnd(_)) if self.old.on && !self.old.flushing => {
                self.old.list_ends.push(l)
            }
            // (The whole list's end is written once the list is complete.)
            Line::ListDone => self.list_end(self.stats.num_files.saturating_sub(1)),
            Line::ListEnd(last) => self.list_end(last),
            Line::Sender { key, line } if self.old.on => {
                self.old.waiting.push((key, Line::Out(line)))
            }
            Line::Sender { line, .. } => self.emit(false, &line, true),
            Line::SenderLog { key, line } if self.old.on => {
                self.old.waiting.push((key, Line::Log(line)))
            }
            Line::SenderLog { line, .. } => self.write_line(Line::Log(line)),
            Line::SenderDone if self.old.on => self.sender_lines(),
            Line::SenderDone => self.release_sender(true),
            Line::Held(lines) => self.write_held(lines, false),
            Line::Reply(lines) => self.write_held(lines, true),
            Line::SenderFlush => self.release_sender(false),
        }
    }

    /// The sender's waiting lines, in its (old) file-list order.
    fn sender_lines(&mut self) {
        let mut server = std::mem::take(&mut self.old.server_waiting);
        server.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, l) in server {
            self.write_line(l);
        }
        let mut waiting = std::mem::take(&mut self.old.waiting);
        waiting.sort_by(|a, b| a.0.cmp(&b.0));
        let mut names = std::mem::take(&mut self.old.names);
        names.sort_unstable();
        for (key, l) in &mut waiting {
            // Progress counts `to-chk` in the old order too.
            if let Line::Xfer(x) = l {
                x.index = names.partition_point(|n| n < key) as u64;
            }
        }
        let links = std::mem::take(&mut self.old.links_after);
        waiting.extend(links.into_iter().map(|l| (Vec::new(), l)));
        let ends = std::mem::take(&mut self.old.list_ends);
        // From now on the sender's lines go out as they come.
        self.old.flushing = true;
        for l in waiting.into_iter().map(|(_, l)| l).chain(ends) {
            self.write_line(l);
        }
    }

    /// The transfers are done: below protocol 29 the sender's lines go
    /// out now, after the generator's and before later deletions.
    pub(crate) fn transfers_done(&mut self) {
        if self.old.on || self.overtake_on() {
            self.push(Line::SenderDone);
        }
    }

    /// `progress2`'s line for a (sub-)list whose last entry is at `last`.
    fn list_end(&mut self, last: u64) {
        let _ = self.out.flush();
        self.progress
            .set_totals(self.stats.num_files, self.stats.total_size);
        self.progress.set_list_complete(self.list_complete);
        self.progress.list_done(last);
    }

    /// A file's progress starts (the totals as far as the list is known).
    fn begin_xfer(&mut self, name: &[u8], size: u64, index: u64) {
        let _ = self.out.flush();
        let bytes = if self.progress.is_text() {
            self.stats.total_size
        } else {
            self.stats.transferred_size
        };
        self.progress.set_totals(self.stats.num_files, bytes);
        self.progress.set_list_complete(self.list_complete);
        self.progress.start_file(name, size, index);
    }

    /// Appends a line after everything pushed or reserved so far.
    fn push_now(&mut self, line: Line) {
        let line = match line {
            Line::Out(l) if self.old.in_server => Line::Err(l),
            // (What rsync's server prints itself never reaches the log.)
            Line::Log(_) if self.old.in_server => return,
            l => l,
        };
        if let (Some(key), Line::Out(_) | Line::Err(_) | Line::Log(_)) = (&self.old.key, &line) {
            self.old.server_waiting.push((key.clone(), line));
            return;
        }
        let waits = !self.ready(std::slice::from_ref(&line));
        if (self.queue.is_empty() || self.unordered) && !waits {
            self.write_line(line);
        } else {
            match self.queue.back_mut() {
                Some(Some(lines)) => lines.push(line),
                _ => self.queue.push_back(Some(vec![line])),
            }
        }
    }

    /// Runs `f` with its lines written at once, ahead of lines still
    /// waiting for earlier copies: rsync's generator prints some things
    /// (a `--delete-missing-args` deletion) while the receiver is still
    /// busy with files listed before them.
    pub(crate) fn unordered<T>(&mut self, f: impl FnOnce(&mut Report) -> T) -> T {
        self.unordered = true;
        let r = f(self);
        self.unordered = false;
        r
    }

    /// A held directory line goes out before anything else that follows.
    fn release_held(&mut self) {
        for l in std::mem::take(&mut self.held) {
            self.push_now(l);
        }
    }

    fn push(&mut self, line: Line) {
        self.release_held();
        self.push_now(line);
    }

    /// Reserves a place for lines that will be known later.
    pub(crate) fn reserve(&mut self) -> Slot {
        self.release_held();
        self.queue.push_back(None);
        Slot(self.base + self.queue.len() as u64 - 1)
    }

    /// Whether a filled slot may be written: a progress line waits until
    /// the file list reaches as far as rsync's would.
    fn ready(&self, lines: &[Line]) -> bool {
        lines.iter().all(|l| match l {
            Line::Xfer(x) => x.resumed.is_some() || self.xfer_ready(x.index),
            Line::ListEnd(last) => self.xfer_ready(*last),
            _ => true,
        })
    }

    /// Whether the progress of the file at list position `index` may show:
    /// rsync's sender is that far ahead in its file list by then.
    fn xfer_ready(&self, index: u64) -> bool {
        self.list_complete
            || !self.progress.is_text()
            || self.stats.num_files >= index + FLIST_LOOKAHEAD
    }

    fn pump(&mut self) {
        while let Some(Some(lines)) = self.queue.front() {
            if !self.ready(lines) {
                break;
            }
            if let Some(Some(lines)) = self.queue.pop_front() {
                self.base += 1;
                for l in lines {
                    self.write_line(l);
                }
            }
        }
    }

    fn fill(&mut self, slot: Slot, lines: Vec<Line>) {
        self.watching.remove(&slot.0);
        let idx = (slot.0 - self.base) as usize;
        match self.queue.get_mut(idx) {
            Some(s) => *s = Some(lines),
            None => debug_assert!(false, "slot filled twice"),
        }
        self.pump();
    }

    /// Counts one file-list entry (rsync's `stats.num_files` and
    /// `total_size`, and `--stats`' breakdown by type).
    pub(crate) fn count_entry(&mut self, kind: Kind, size: u64) {
        self.entry_index = self.stats.num_files;
        self.stats.num_files += 1;
        self.stats.total_size += size;
        self.stats.files.add(kind);
        self.bar_totals();
        if matches!(self.queue.front(), Some(Some(_))) {
            self.pump();
        }
    }

    /// Counts file-list entry `e`, and after a directory under `-m` the
    /// pruned subdirectories rsync lists before its first kept entry.
    pub(crate) fn count_listed(&mut self, e: &Entry) {
        self.count_entry(e.kind(), e.counted_size());
        self.count_pruned(e.pruned_lead());
        if self.old.on && self.progress.is_text() {
            self.old.names.push(old_key(&e.name));
        }
    }

    /// `-m`: `n` directories rsync's sender lists and its receiver prunes
    /// (they count in `to-chk` and in `Number of files`).
    pub(crate) fn count_pruned(&mut self, n: u32) {
        for _ in 0..n {
            self.count_entry(Kind::Dir, 0);
        }
    }

    /// The bar's totals as they grow: entries listed, bytes to copy.
    fn bar_totals(&mut self) {
        if self.progress.is_on() && !self.progress.is_text() {
            self.progress
                .set_totals(self.stats.num_files, self.stats.transferred_size);
        }
    }

    /// An incremental sub-list (one directory's entries, the last at
    /// file-list position `last`) starts: the one before it is done.
    /// rsync's sender finishes its lists in the order it started them.
    ///
    /// rsync's sender reads that news only when it is idle: after a list
    /// that sent data it comes late, when all is sent, and repeats the
    /// last line (which the compat suite collapses); after a list with
    /// nothing to send it shows at once, with that list's `to-chk`.
    pub(crate) fn list_started(&mut self, last: u64) {
        if !self.progress.is_text() {
            return;
        }
        let sent = std::mem::take(&mut self.list_sent);
        if let Some(prev) = self.open_list.replace(last)
            && !sent
        {
            self.push(Line::ListEnd(prev));
        }
    }

    /// The entries counted so far (the next one's file-list position).
    pub(crate) fn counted(&self) -> u64 {
        self.stats.num_files
    }

    /// The entry handled next is the one at file-list position `index`
    /// (a whole directory is counted before its entries are handled).
    pub(crate) fn at_entry(&mut self, index: u64) {
        self.entry_index = index;
    }

    /// The whole file list is known (rsync's `flist_eof`).
    pub(crate) fn list_complete(&mut self) {
        self.list_complete = true;
        self.flist_ms = (self.started.elapsed().as_millis() as u64).max(1);
        if self.progress.is_on() {
            // The bar's total is known now; rsync's text says so in order.
            if !self.progress.is_text() {
                self.progress.set_list_complete(true);
            }
            // The last sub-list's end is the whole list's.
            self.open_list = None;
            self.push(Line::ListDone);
        }
        self.pump();
    }

    /// `--no-i-r`'s file-list line(s): `building file list ... done` with
    /// `-v`; with `--progress` a running count that is only known once
    /// the list is complete, so it goes into `slot` reserved at the start.
    pub(crate) fn flist_done(&mut self, level: u8, slot: Option<Slot>) {
        let n = self.stats.num_files;
        let mut text = Vec::new();
        let mut fp = progress::FlistProgress::new(level, self.quiet);
        fp.start(&mut text);
        let mut lines = Vec::new();
        let listed = match slot {
            Some(s) if level == 1 && !self.quiet => self.take_sender_lines(s),
            _ => Vec::new(),
        };
        if !listed.is_empty() {
            // rsync's sender says these while it builds the list, between
            // `building file list ... ` and `done`.
            text.push(b'\n');
            lines.push(Line::Raw(std::mem::take(&mut text)));
            lines.extend(listed);
        }
        for i in 0..n {
            fp.add(i, &mut text);
        }
        fp.done(n, &mut text);
        lines.push(Line::Raw(text));
        let msg = if level >= 2 {
            format!("{n} file{}to consider", if n == 1 { " " } else { "s " })
        } else {
            "done".to_string()
        };
        if !self.quiet && level > 0 {
            lines.push(Line::Log(msg.into_bytes()));
        }
        match slot {
            Some(s) => self.fill(s, lines),
            None => {
                for l in lines {
                    self.push(l);
                }
            }
        }
    }

    /// Takes the sender's list-building lines (`[sender] hiding file …`
    /// with `-vv`, unsafe links' notes) out of what waits behind `slot`,
    /// in their order.
    fn take_sender_lines(&mut self, slot: Slot) -> Vec<Line> {
        let first = (slot.0 - self.base) as usize + 1;
        let mut taken = Vec::new();
        for lines in self.queue.iter_mut().skip(first).flatten() {
            let (sender, rest) = std::mem::take(lines)
                .into_iter()
                .partition(|l| matches!(l, Line::Out(b) | Line::Log(b) if said_while_listing(b)));
            *lines = rest;
            taken.extend::<Vec<Line>>(sender);
        }
        taken
    }

    /// An informational line (rsync's FINFO), unless `-q`; copied to the
    /// log file.
    pub(crate) fn info(&mut self, s: impl Into<String>) {
        if !self.quiet {
            let s = s.into().into_bytes();
            self.push(Line::Out(s.clone()));
            self.push(Line::Log(s));
        }
    }

    /// An informational line that goes before a held directory line.
    fn info_before_held(&mut self, s: String) {
        if !self.quiet {
            let s = s.into_bytes();
            self.push_now(Line::Out(s.clone()));
            self.push_now(Line::Log(s));
        }
    }

    /// A `--list-only` line, naming the entry `name` as rsync's receiving
    /// side holds it. Its generator prints it (see
    /// [`Report::esc_server_line`]): below protocol 29 in the old
    /// file-list order (full paths as bytes), once the whole list is in
    /// ([`Report::transfers_done`]), and at 22 and below on stderr.
    pub(crate) fn list_entry(&mut self, name: &[u8], line: &[u8]) {
        if self.quiet {
            return;
        }
        self.old.in_server = self.old.server_stderr;
        self.old.key = self.old.on.then(|| old_key(name));
        let shown = self.esc_server_line(line);
        let log = match &self.shown {
            Some(c) => c.borrow_mut().sent(line),
            None => shown.clone(),
        };
        self.push(Line::Out(shown));
        self.push(Line::Log(log));
        self.old.in_server = false;
        self.old.key = None;
    }

    /// A line for stdout only (rsync's FCLIENT: not logged), unless `-q`.
    pub(crate) fn client(&mut self, s: impl Into<String>) {
        if !self.quiet {
            self.push(Line::Out(s.into().into_bytes()));
        }
    }

    /// An error line, `NAME: TEXT`, that makes the run partial (code 23).
    /// Errors of the side that reads the source (`[sender]`) are logged.
    pub(crate) fn error(&mut self, text: impl AsRef<str>) {
        self.errors.general = true;
        let l = format!("{}: {}", self.name, text.as_ref());
        self.push_error(l);
    }

    fn push_error(&mut self, l: String) {
        let logged = l.contains("[sender]");
        let b = l.into_bytes();
        if logged {
            self.push(Line::Log(b.clone()));
        }
        self.push(Line::Err(b));
    }

    /// An error line without the `NAME: ` prefix (rsync's `rprintf(FERROR)`
    /// of a whole message, e.g. `ERROR: destination must be a directory…`).
    /// rsync's final `NAME error: …` line also goes to the log, after the
    /// log's closing line.
    pub(crate) fn error_raw(&mut self, text: impl Into<String>) {
        let text = text.into();
        let is_final = text.starts_with(&format!("{} error: ", self.name))
            || text.starts_with(&format!("{} warning: ", self.name));
        if is_final && self.log.is_some() {
            self.close_log();
            self.push(Line::Log(text.clone().into_bytes()));
        }
        self.push(Line::Err(text.into_bytes()));
    }

    /// [`Report::error_raw`] of raw bytes (a line naming names), never
    /// the final line.
    pub(crate) fn error_bytes(&mut self, line: Vec<u8>) {
        self.push(Line::Err(line));
    }

    /// `--stop-after`/`--stop-at` ended the copy (rsync's words, on stderr).
    pub(crate) fn stop_limit_reached(&mut self) {
        self.push(Line::Err(b"stopping at requested limit".to_vec()));
    }

    /// A warning on stderr without the `NAME: ` prefix (rsync's FWARNING),
    /// printed even with `-q`.
    pub(crate) fn warning(&mut self, text: impl Into<String>) {
        self.push(Line::Err(text.into().into_bytes()));
    }

    /// rsync's -v warning when a file's first try came up short and it is
    /// sent again.
    pub(crate) fn short_first_try(&mut self, name: &[u8]) {
        if self.raw_verbose > 0 {
            let name = self.esc(name);
            self.warning(format!(
                "WARNING: {name} failed verification -- update discarded (will try again)."
            ));
        }
    }

    /// rsync's generator will not delete after an I/O error on the
    /// sending side: its line, which below protocol 23 it prints on
    /// stderr itself.
    pub(crate) fn io_error_no_deletion(&mut self) {
        self.old.in_server = self.old.server_stderr;
        self.info("IO error encountered -- skipping file deletion");
        self.old.in_server = false;
    }

    /// rsync's generator could not remove the directory `local` (still
    /// holds something): its line, which below protocol 23 it prints on
    /// stderr itself and below 29 in the old file-list order.
    pub(crate) fn not_empty(&mut self, local: &[u8]) {
        self.old.in_server = self.old.server_stderr;
        self.old.key = self.old.on.then(|| old_key(local));
        let mut line = b"cannot delete non-empty directory: ".to_vec();
        line.extend(self.esc_server(local));
        self.info_bytes(line);
        self.old.in_server = false;
        self.old.key = None;
    }

    /// A deleted destination entry: counted, printed with the stdout
    /// format if it has `%i`/`%o` (else `deleting %n`), and logged (not in
    /// a dry run). Deletions go before a held directory line.
    pub(crate) fn deleted(&mut self, local: &[u8], kind: Kind) {
        self.old.in_server = self.old.server_stderr;
        self.old.key = self.old.deleting_in.clone();
        self.deleted_lines(local, kind);
        self.old.in_server = false;
        self.old.key = None;
    }

    /// `--delete-during` cleans the directory `dir` (its file-list name)
    /// now, `None` when done: below protocol 29 rsync's generator does
    /// that right after the directory's own line, in the old file-list
    /// order with the rest of its lines.
    pub(crate) fn deleting_in(&mut self, dir: Option<&[u8]>) {
        self.old.deleting_in = dir.filter(|_| self.old.on).map(|d| {
            let mut key = old_key(d);
            key.push(0);
            key
        });
    }

    fn deleted_lines(&mut self, local: &[u8], kind: Kind) {
        self.stats.deleted.add(kind);
        // (Below protocol 29 the generator prints the line itself.)
        let shown = match &self.shown {
            Some(c) if !self.old.on => Some(c.borrow_mut().deleted(local)),
            _ => None,
        };
        let mut view = ItemView::deleted(shown.as_deref().unwrap_or(local), kind == Kind::Dir);
        if self.group {
            view.gid = Some(0);
        }
        if let Some(fmt) = &self.format {
            let raw = format::render(format::deletion_format(fmt), &view, &self.ctx);
            let line = match self.old.on {
                true => self.esc_server_line(&raw),
                false => format::escape_output(&raw, self.utf8, self.eight_bit),
            };
            let lines = [Line::Out(line)];
            let log = self.old_logged(Some(&raw), true);
            for l in lines.into_iter().chain(log) {
                self.push_now(l);
            }
        }
        if !self.old.on
            && !self.dry_run
            && let Some(log) = &self.log
            && let Some(m) = log.render_deleted(&view, &self.ctx)
        {
            self.push_now(Line::Log(m));
        }
    }

    /// `file has vanished: …`: a warning on stderr (rsync's FWARNING, so
    /// printed even with `-q`), logged; the run ends with code 24.
    pub(crate) fn vanished(&mut self, text: impl Into<String>) {
        self.errors.vanished = true;
        let s = text.into().into_bytes();
        self.push(Line::Log(s.clone()));
        self.push(Line::Err(s));
    }

    fn view<'a>(&self, rec: &'a ItemRec) -> ItemView<'a> {
        let kind = rec.stat.kind();
        ItemView {
            src_dir: rec.src_dir.as_deref(),
            len: match kind {
                Kind::CharDev | Kind::BlockDev | Kind::Fifo | Kind::Socket => 0,
                _ => rec.stat.size,
            },
            mtime: rec.stat.mtime,
            mode: rec.stat.mode,
            uid: self.owner.then_some(rec.stat.uid),
            gid: self.group.then_some(rec.stat.gid),
            symlink: rec.link.as_deref(),
            ..ItemView::new(&rec.name, kind, rec.iflags)
        }
    }

    /// The stdout line for an item, if rsync prints one (its generator
    /// and `maybe_log_item()` rules).
    fn stdout_line(&self, v: &ItemView) -> Option<Vec<u8>> {
        let line = self.stdout_raw(v)?;
        match self.old.on && v.iflags & item::TRANSFER == 0 {
            true => Some(self.esc_server_line(&line)),
            false => Some(format::escape_output(&line, self.utf8, self.eight_bit)),
        }
    }

    /// [`Report::stdout_line`] before it is escaped for the terminal.
    fn stdout_raw(&self, v: &ItemView) -> Option<Vec<u8>> {
        let fmt = self.format.as_deref()?;
        if !self.lists(v) {
            return None;
        }
        // Below protocol 29 the generator names what it did not transfer
        // (`%n%L`), and the sender does not know what changed.
        let fmt: &[u8] = match self.old.on && v.iflags & item::TRANSFER == 0 {
            true => b"%n%L",
            false => fmt,
        };
        Some(format::render(fmt, &self.old_view(v), &self.ctx))
    }

    /// A transfer as rsync's sender sees it below protocol 29: it does not
    /// know what changed (`>f?????????`).
    fn old_view<'a>(&self, v: &ItemView<'a>) -> ItemView<'a> {
        match self.old.on && v.iflags & item::TRANSFER != 0 {
            true => ItemView {
                iflags: item::TRANSFER | item::MISSING_DATA,
                ..v.clone()
            },
            false => v.clone(),
        }
    }

    /// Whether rsync's sender would log this item (whatever the format).
    fn lists(&self, v: &ItemView) -> bool {
        let transfer = v.iflags & item::TRANSFER != 0;
        if self.old.on && !transfer {
            return self.old_server_lists(v);
        }
        itemize::generator_sends(v.iflags, self.itemize, self.verbose)
            && (transfer || itemize::sender_logs(v.iflags, v.kind, self.itemize, self.verbose))
    }

    /// Below protocol 29 rsync's generator logs no items: what it prints
    /// on stdout (names, deletions) reaches the log file as it is, and at
    /// 22 and below, where it prints on stderr, nothing does.
    /// `raw`: the line before it is escaped; a generator's line reaches
    /// the log as it travels to the printing sender (see
    /// [`crate::iconv::Shown::sent`]), a sender's as it is.
    fn old_logged(&self, raw: Option<&[u8]>, generator: bool) -> Option<Line> {
        if !self.old.on || self.log.is_none() || self.old.server_stderr {
            return None;
        }
        let raw = raw?;
        Some(Line::Log(match &self.shown {
            Some(c) if generator => c.borrow_mut().sent(raw),
            _ => raw.to_vec(),
        }))
    }

    /// Below protocol 29: whether rsync's generator names an entry it did
    /// not transfer (with `-v`, also beside `-i`, never itemized: see
    /// [`Report::stdout_line`]; a new directory only if setting its times
    /// changes it: made now, it already has a source time of this very
    /// second — whole seconds below protocol 31 — as a tree made just
    /// before the run does).
    fn old_server_lists(&self, v: &ItemView) -> bool {
        let new_dir = v.kind == Kind::Dir && v.iflags & item::IS_NEW != 0;
        let made_now = || {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.is_ok_and(|d| d.as_secs() as i64 == v.mtime)
        };
        self.verbose > 0
            && (!new_dir || (self.old.dir_times && !made_now()))
            && itemize::sender_logs(v.iflags, v.kind, 0, self.verbose)
    }

    /// The log message for an item that is not a completed transfer.
    fn log_line(&self, v: &ItemView) -> Option<Vec<u8>> {
        let log = self.log.as_ref()?;
        let significant = v.iflags & item::SIGNIFICANT & 0xffff != 0;
        let logged = if v.iflags & item::TRANSFER != 0 {
            false
        } else if self.format.is_some() {
            self.lists(v) && (significant || log.has_i())
        } else {
            significant
        };
        if !logged {
            return None;
        }
        log.render_item(v, &self.ctx)
    }

    /// An entry kept for later rendering (a file handed to the engine);
    /// counts it as created if new.
    pub(crate) fn record(&mut self, iflags: u32, e: &Entry, link: Option<&[u8]>) -> ItemRec {
        if iflags & item::IS_NEW != 0 {
            self.stats.created.add(e.kind());
        }
        let index = self.entry_index;
        let mut ndx_gap = 1;
        if iflags & item::TRANSFER != 0 {
            ndx_gap = index as i64 - self.last_xfer;
            self.last_xfer = index as i64;
        }
        let mut stat = e.stat;
        if let Some((uid, gid)) = e.listed_ids() {
            stat.uid = uid;
            stat.gid = gid;
        }
        // Item lines are the sender's: `--iconv` names as it lists them.
        let link = match link == e.link() {
            true => e.local_link(),
            false => link,
        };
        ItemRec {
            name: e.local_name().to_vec(),
            held: Some(e.name.to_vec()).filter(|n| n.as_slice() != e.local_name()),
            iflags,
            stat,
            link: link.map(<[u8]>::to_vec),
            src_dir: src_dir_of(e),
            index,
            ndx_gap,
            sum_src: (self.want_sum && e.kind() == Kind::File).then(|| e.src().into_owned()),
        }
    }

    /// Prints (and logs) an item's line now, in order. A directory's line
    /// is held until the next other output, so that deletions inside it
    /// come first.
    fn item(&mut self, iflags: u32, e: &Entry, link: Option<&[u8]>) {
        let rec = self.record(iflags, e, link);
        let sum = match &rec.sum_src {
            Some(p) if self.checksum => file_sum(p),
            _ => None,
        };
        let mut v = self.view(&rec);
        v.checksum = sum.as_ref().map(|s| &s[..]);
        if self.old.on && iflags & item::TRANSFER == 0 {
            // Below protocol 29 the generator names it: as it holds it.
            v.name = &e.name;
            v.symlink = link;
        }
        let mut lines = Vec::new();
        let raw = self.stdout_raw(&v);
        if let Some(l) = self.stdout_line(&v) {
            lines.push(Line::Out(l));
        }
        let log = match self.old.on {
            true => self.old_logged(raw.as_deref(), iflags & item::TRANSFER == 0),
            false => self.log_line(&v).map(Line::Log),
        };
        lines.extend(log);
        // (Below protocol 29 the generator prints them itself.)
        if !self.old.on {
            lines = self.sender_side(lines);
        }
        self.release_held();
        // (Below protocol 29 the generator names a directory before it
        // deletes in it.)
        if e.kind() == Kind::Dir && !self.old.on {
            self.held = lines;
        } else {
            for l in lines {
                self.push_now(l);
            }
        }
    }

    /// A hard-link item (`-H`): `hf... NAME => LEADER` (`-i`), `NAME =>
    /// LEADER` (`-v`). An empty `xname` is an already-linked member, shown
    /// only when unchanged items are (`-ii`, `-vvi`).
    fn item_xname(&mut self, iflags: u32, e: &Entry, xname: &[u8]) {
        if self.old.on {
            return self.old_linked(e, xname);
        }
        let significant = iflags & item::SIGNIFICANT & 0xffff != 0;
        let shown = if self.itemize > 0 {
            significant || !xname.is_empty() || self.itemize > 1 || self.raw_verbose > 1
        } else {
            // rsync's sender lists a member with its leader's name
            // whenever there is a line format (`-v`, `--out-format`).
            !xname.is_empty()
        };
        let rec = self.record(iflags, e, None);
        let mut v = self.view(&rec);
        v.hardlink = Some(xname);
        let mut lines = Vec::new();
        if shown && let Some(fmt) = self.format.as_deref() {
            let line = format::render(fmt, &v, &self.ctx);
            lines.push(Line::Out(format::escape_output(
                &line,
                self.utf8,
                self.eight_bit,
            )));
        }
        if let Some(m) = self.log_line(&v) {
            lines.push(Line::Log(m));
        }
        for l in self.sender_side(lines) {
            self.push(l);
        }
    }

    /// Below protocol 29: a hard-link member linked to `xname` (empty:
    /// already linked). rsync's generator does not itemize it; with `-v`
    /// it names it (`NAME => LEADER`, whatever the format), under the
    /// member's place in the old order, or after the sender's lines when
    /// the leader's copy had to be done first (`link_key` is `None`).
    fn old_linked(&mut self, e: &Entry, xname: &[u8]) {
        if xname.is_empty() || self.verbose == 0 {
            return;
        }
        let mut line = self.esc(e.local_name()).into_bytes();
        line.extend_from_slice(b" => ");
        line.extend_from_slice(self.esc(xname).as_bytes());
        let raw = [e.local_name(), b" => ", xname].concat();
        let lines = vec![Line::Out(line)];
        // (The names are LOCAL ones: logged as they are.)
        let log = self.old_logged(Some(&raw), false);
        if self.old.key.is_some() || self.old.flushing {
            for l in lines.into_iter().chain(log) {
                self.push(l);
            }
            return;
        }
        for l in lines.into_iter().chain(log) {
            let l = match l {
                Line::Out(b) if self.old.in_server => Line::Err(b),
                l => l,
            };
            self.old.links_after.push(l);
        }
    }

    /// Below protocol 29 (`-H`): the file-list name of the hard-link
    /// member being handled, whose link lines wait under it; `None` once
    /// the walk is done.
    pub(crate) fn old_link_key(&mut self, name: Option<&[u8]>) {
        self.old.link_key = name.map(old_key);
    }

    /// The file-list position of the entry being handled.
    pub(crate) fn entry_at(&self) -> u64 {
        self.entry_index
    }

    /// Completes a transferred file's slot: its line (before or after
    /// the progress lines, by the format), progress, `notes` (`-vv` lines)
    /// and the log line; then `errors` (failed attribute changes, which
    /// make the run partial).
    pub(crate) fn transferred(
        &mut self,
        slot: Slot,
        rec: &ItemRec,
        copied: u64,
        notes: Vec<String>,
        errors: Vec<String>,
    ) {
        let sum = rec.sum_src.as_deref().and_then(file_sum);
        let mut v = self.view(rec);
        v.checksum = sum.as_ref().map(|s| &s[..]);
        v.bytes_sent = stats::file_bytes_sent(copied, rec.ndx_gap, self.ctx.checksum_len as u64);
        v.bytes_recv = stats::FILE_BYTES_RECEIVED;
        // Lines shown while the copy ran are not written again.
        let resumed = self.resumed(slot);
        let mut lines = match resumed {
            Some(_) => Vec::new(),
            None => self.lines_before_data(rec),
        };
        let out = self.stdout_line(&v);
        if self.progress.is_on() {
            lines.push(Line::Xfer(Xfer {
                name: rec.name.clone(),
                key: rec.old_key(),
                size: rec.stat.size,
                index: rec.index,
                copied,
                resumed,
            }));
        }
        if !self.log_before
            && let Some(l) = out
        {
            lines.push(Line::Sender {
                key: rec.old_key(),
                line: l,
            });
        }
        if !self.quiet {
            for n in notes {
                let b = n.into_bytes();
                // The sender's own note follows its name (below protocol
                // 29 in the sender's deferred stream).
                if b.starts_with(SOURCE_REMOVED.as_bytes()) {
                    let key = rec.old_key();
                    lines.push(Line::Sender {
                        key,
                        line: b.clone(),
                    });
                    let key = rec.old_key();
                    lines.push(Line::SenderLog { key, line: b });
                    continue;
                }
                lines.push(Line::Out(b.clone()));
                lines.push(Line::Log(b));
            }
        }
        if let Some(log) = &self.log
            && let Some(m) = log.render_item(&self.old_view(&v), &self.ctx)
        {
            let key = rec.old_key();
            lines.push(Line::SenderLog { key, line: m });
        }
        for e in errors {
            self.errors.general = true;
            lines.push(Line::Err(format!("{}: {}", self.name, e).into_bytes()));
        }
        let lines = self.transfer_side(lines);
        self.fill(slot, lines);
    }

    /// A dry run's "transfer": the line only (no progress, no log).
    pub(crate) fn would_transfer(&mut self, rec: &ItemRec) {
        let v = self.view(rec);
        if let Some(l) = self.stdout_line(&v) {
            let key = rec.old_key();
            let lines = self.sender_side(vec![Line::Sender { key, line: l }]);
            for l in lines {
                self.push(l);
            }
        }
    }

    /// The item line of a file whose copy failed on the receiving side
    /// (rsync still lists it: its data was sent).
    pub(crate) fn item_line_of(&self, rec: &ItemRec) -> Option<String> {
        let v = self.view(rec);
        self.stdout_line(&v)
            .map(|l| String::from_utf8_lossy(&l).into_owned())
    }

    /// Completes a reserved slot: stdout lines (the item line, notes),
    /// then error lines (which make the run partial).
    pub(crate) fn complete(&mut self, slot: Slot, out: Vec<String>, errors: Vec<String>) {
        self.complete_after(slot, out, None, errors);
    }

    /// As [`Report::complete`], the error after rsync 3.5's refusal of a
    /// path through a symlink of an untrusted user.
    pub(crate) fn complete_refused(&mut self, slot: Slot, out: Vec<String>, errors: Vec<String>) {
        let refusal = Line::Err(crate::sys::trust::REFUSAL.as_bytes().to_vec());
        self.complete_after(slot, out, Some(refusal), errors);
    }

    fn complete_after(
        &mut self,
        slot: Slot,
        out: Vec<String>,
        first: Option<Line>,
        errors: Vec<String>,
    ) {
        let mut lines = Vec::with_capacity(errors.len() + out.len() + 1);
        for l in out {
            if !self.quiet {
                let b = l.into_bytes();
                lines.push(Line::Out(b.clone()));
                lines.push(Line::Log(b));
            }
        }
        lines.extend(first);
        for e in errors {
            self.errors.general = true;
            let l = format!("{}: {}", self.name, e);
            if l.contains("[sender]") {
                lines.push(Line::Log(l.clone().into_bytes()));
            }
            lines.push(Line::Err(l.into_bytes()));
        }
        let lines = self.sender_side(lines);
        self.fill(slot, lines);
    }

    /// A copy whose source vanished before it was opened: rsync's warning
    /// (stderr, even with `-q`, and logged) in the file's place (the exit
    /// code comes with `Event::Vanished`).
    pub(crate) fn complete_vanished(&mut self, slot: Slot, text: String) {
        let s = text.into_bytes();
        let lines = self.sender_side(vec![Line::Log(s.clone()), Line::Err(s)]);
        self.fill(slot, lines);
    }

    /// The counters as `--stats` reports them.
    fn transfer_stats(&self) -> TransferStats {
        // arsync does not speak rsync's wire protocol, so "sent" and
        // "received" are the file data written plus a small per-file
        // overhead, not protocol byte counts.
        let s = &self.stats;
        TransferStats {
            files: s.files,
            created: s.created,
            deleted: s.deleted,
            xferred_files: s.num_transferred,
            total_size: s.total_size,
            total_transferred_size: s.transferred_size,
            literal_data: s.literal_data,
            matched_data: 0,
            flist_size: stats::LOCAL_FLIST_SIZE,
            flist_buildtime_ms: self.flist_ms.max(1),
            flist_xfertime_ms: 0,
            total_written: s.literal_data + 19 + s.num_files * 4,
            total_read: 12 + s.num_transferred * 8,
            elapsed_secs: Some(self.started.elapsed().as_secs()),
            dry_run: self.dry_run,
            batch_only: false,
            no_deleted_line: self.protocol < 31,
            no_created_line: self.protocol < 29,
        }
    }

    /// The log's closing line (`sent N bytes  received N bytes  total size
    /// N`) unless the summary was logged.
    fn close_log(&mut self) {
        if self.log.is_none() || self.log_closed {
            return;
        }
        self.log_closed = true;
        let s = self.transfer_stats();
        let l = format!(
            "sent {} bytes  received {} bytes  total size {}",
            s.total_written, s.total_read, s.total_size
        );
        self.push(Line::Log(l.into_bytes()));
    }

    /// Every file has been sent: `-vv`'s `total:` line, which rsync's
    /// sender prints when it finishes — before the deletions that wait
    /// for the transfer (`--delete-after`, `--delete-delay`). Once.
    pub(crate) fn sender_done(&mut self) {
        if self.raw_verbose < 2 || self.total_shown {
            return;
        }
        self.total_shown = true;
        let l = format!(
            "total: matches=0  hash_hits=0  false_alarms=0 data={}",
            self.stats.literal_data
        )
        .into_bytes();
        if !self.quiet {
            self.push(Line::Out(l.clone()));
        }
        self.push(Line::Log(l));
    }

    /// The closing lines: `-vv`'s `total:` line, `--stats`' block and the
    /// two summary lines (`-v`), on stdout unless `-q` and in the log.
    pub(crate) fn summary(&mut self) {
        self.transfers_done();
        let ts = self.transfer_stats();
        self.sender_done();
        if self.stats_level == 0 {
            self.close_log();
            return;
        }
        let block = self.stats_level >= 2;
        if !self.quiet {
            let text = stats::render_with(&ts, self.human, block, true);
            for l in text.lines() {
                self.push(Line::Out(l.as_bytes().to_vec()));
            }
        }
        if self.log.is_some() && !self.log_closed {
            let mut lines = if block {
                stats::stats_lines(&ts, self.human)
            } else {
                Vec::new()
            };
            lines.extend(stats::summary_lines(&ts, self.human));
            for l in lines {
                self.push(Line::Log(l.into_bytes()));
            }
            self.log_closed = true;
        }
    }

    pub(crate) fn flush(&mut self) {
        self.release_held();
        while let Some(front) = self.queue.pop_front() {
            self.base += 1;
            for l in front.unwrap_or_default() {
                self.write_line(l);
            }
        }
        self.sender_lines();
        self.release_sender(true);
        let _ = self.out.flush();
        self.progress.finish();
    }
}

/// Whether a line is one rsync's sender prints while it builds the file
/// list (`[sender] hiding file …` with `-vv`, an unsafe link's note).
fn said_while_listing(line: &[u8]) -> bool {
    line.starts_with(b"[sender] ") || line.starts_with(crate::walk::UNSAFE_LINK_NOTE.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(set: impl FnOnce(&mut Options)) -> Report {
        let mut opts = Options::default();
        set(&mut opts);
        let mut r = Report::new("arsync", &opts);
        // Lines wait behind a reserved slot, where the test reads them.
        r.reserve();
        r
    }

    fn out(r: &Report) -> Vec<String> {
        r.queue
            .iter()
            .flatten()
            .flatten()
            .filter_map(|l| match l {
                Line::Out(b) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .collect()
    }

    fn entry(name: &str, mode: u32) -> Entry {
        let st = Stat {
            mode,
            ..Stat::default()
        };
        Entry::new(name.as_bytes().to_vec(), st, name.into())
    }

    #[test]
    fn skip_lines_follow_the_verbosity() {
        let file = entry("a", crate::sys::mode::S_IFREG | 0o644);
        let mut link = entry("l", crate::sys::mode::S_IFLNK | 0o777);
        link.rare_mut().link = Some(b"/etc".to_vec());
        let dir = entry("d", crate::sys::mode::S_IFDIR | 0o755);
        for (v, want) in [
            (0, vec![]),
            (1, vec!["ignoring unsafe symlink \"l\" -> \"/etc\""]),
            (
                2,
                vec![
                    "ignoring unsafe symlink \"l\" -> \"/etc\"",
                    "a exists",
                    "not creating new directory \"d\"",
                    "a is over max-size",
                ],
            ),
        ] {
            let mut r = report(|o| o.verbose = v);
            r.event(Event::Skipped {
                e: &link,
                why: SkipWhy::UnsafeLink,
            });
            r.event(Event::Skipped {
                e: &file,
                why: SkipWhy::Exists,
            });
            r.event(Event::Skipped {
                e: &dir,
                why: SkipWhy::NotCreating,
            });
            r.event(Event::Skipped {
                e: &file,
                why: SkipWhy::OverMaxSize,
            });
            assert_eq!(out(&r), want, "-v level {v}");
        }
    }

    #[test]
    fn up_to_date_names_only_at_vv_without_itemizing() {
        let ev = |r: &mut Report| {
            r.event(Event::UpToDate {
                name: b"a",
                changed: false,
            });
            r.event(Event::UpToDate {
                name: b"b",
                changed: true,
            });
        };
        let mut r = report(|o| o.verbose = 2);
        ev(&mut r);
        assert_eq!(out(&r), ["a is uptodate", "b"]);
        let mut r = report(|o| o.verbose = 1);
        ev(&mut r);
        assert!(out(&r).is_empty());
        let mut r = report(|o| {
            o.verbose = 2;
            o.itemize = 1;
        });
        ev(&mut r);
        assert!(out(&r).is_empty());
    }

    #[test]
    fn made_directories_are_named_from_v_or_i() {
        let mut r = report(|_| {});
        r.event(Event::MadeDest { what: b"new" });
        assert!(out(&r).is_empty());
        let mut r = report(|o| o.verbose = 1);
        r.event(Event::MadeDest { what: b"new" });
        r.event(Event::MadePath { n: 1, what: b"x" });
        r.event(Event::MadePath {
            n: 3,
            what: b"x/y/z",
        });
        assert_eq!(
            out(&r),
            [
                "created directory new",
                "created 1 directory for x",
                "created 3 directories for x/y/z"
            ]
        );
    }

    #[test]
    fn vv_lines_only_at_vv() {
        let ev = |r: &mut Report| {
            r.event(Event::Delta { enabled: false });
            r.event(Event::MountPoint {
                local: b"m",
                listed_out: true,
            });
            r.event(Event::MountPoint {
                local: b"n",
                listed_out: false,
            });
        };
        let mut r = report(|o| o.verbose = 1);
        ev(&mut r);
        assert!(out(&r).is_empty());
        let mut r = report(|o| o.verbose = 2);
        ev(&mut r);
        assert_eq!(
            out(&r),
            [
                "delta-transmission disabled for local transfer or --whole-file",
                "[generator] skipping mount-point dir m",
                "cannot delete mount point: n"
            ]
        );
    }

    #[test]
    fn backups_are_named_at_vv() {
        let ev = |r: &mut Report| {
            r.event(Event::BackupDir {
                shown: b"bak",
                exists: false,
            });
            r.event(Event::BackedUp {
                from: b"a",
                to: b"bak/a",
            });
        };
        let mut r = report(|o| o.verbose = 1);
        ev(&mut r);
        assert!(out(&r).is_empty());
        assert_eq!(r.backed_up_line(b"a", b"a~"), None);
        let mut r = report(|o| o.verbose = 2);
        ev(&mut r);
        assert_eq!(out(&r), ["(new) backup_dir is bak", "backed up a to bak/a"]);
        assert_eq!(
            r.backed_up_line(b"a", b"a~").as_deref(),
            Some("backed up a to a~")
        );
    }

    #[test]
    fn linked_basis_members_are_quiet_unless_itemized_enough() {
        for (v, i, quiet) in [
            (0, 0, true),
            (2, 0, true),
            (1, 1, true),
            (2, 1, false),
            (0, 2, false),
        ] {
            let r = report(|o| {
                o.verbose = v;
                o.itemize = i;
            });
            assert_eq!(r.linked_basis_quiet(), quiet, "-v {v} -i {i}");
        }
        let mut r = report(|o| o.verbose = 2);
        r.event(Event::LinkedBasis { name: b"m" });
        assert_eq!(out(&r), ["m is uptodate"]);
    }

    #[test]
    fn counters_and_exit_codes_move_with_events() {
        let mut r = report(|_| {});
        r.event(Event::Sending { size: 10 });
        r.event(Event::Sending { size: 5 });
        r.event(Event::Literal(7));
        r.event(Event::Shadowed(3));
        let s = r.stats();
        assert_eq!((s.num_transferred, s.transferred_size), (2, 15));
        assert_eq!((s.literal_data, s.total_size), (7, 3));
        assert_eq!(r.exit_code(), crate::exit::ExitCode::Ok);
        r.event(Event::DeleteLimit);
        assert_eq!(r.exit_code(), crate::exit::ExitCode::DelLimit);
        r.event(Event::Vanished);
        assert_eq!(r.exit_code(), crate::exit::ExitCode::Vanished);
        r.event(Event::Partial);
        assert_eq!(r.exit_code(), crate::exit::ExitCode::Partial);
    }
}
