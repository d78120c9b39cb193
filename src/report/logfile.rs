//! `--log-file=FILE` / `--log-file-format=FMT`: rsync's client-side
//! transfer log.
//!
//! Every line is `YYYY/MM/DD HH:MM:SS [PID] MESSAGE` in local time. What a
//! local `rsync -a --log-file=X src/ dst/` (3.5.0) writes, in order:
//!
//! ```text
//! 2026/11/27 05:55:43 [31605] building file list
//! 2026/11/27 05:55:43 [31605] cd+++++++++ ./
//! 2026/11/27 05:55:43 [31605] >f+++++++++ a.txt
//! 2026/11/27 05:55:43 [31605] cL+++++++++ link -> a.txt
//! 2026/11/27 05:55:43 [31605] sent 100354 bytes  received 95 bytes  total size 100013
//! ```
//!
//! The driver decides which events reach the log (see [`LogFile`]); this
//! module writes them in rsync's shape: the prefix, the per-item format
//! (default `%i %n%L`), rsync's log-file escaping ([`escape_log`]), the
//! 2047-byte message limit, and the closing line.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::format::{self, FormatCtx, ItemView, timestring};
#[cfg(test)]
use super::stats::{self, TransferStats};
use crate::text::escape_log;

/// rsync's default `--log-file-format`.
pub(crate) const DEFAULT_FORMAT: &[u8] = b"%i %n%L";

/// rsync copies a message into a 2048-byte buffer before logging it, so
/// longer messages are cut (and lose their newline).
const MAX_MSG: usize = 2047;

/// An open `--log-file`.
///
/// What the driver sends here (rsync 3.5.0, local copy):
///
/// * [`LogFile::start`] when the file list starts (`building file list`,
///   even without `-v`).
/// * [`LogFile::item`] for a **transferred file** after its content is
///   written — never in a dry run (rsync only prints those on stdout
///   then); for **any other item** whenever rsync would list it on stdout
///   (its `maybe_log_item()` rule, which depends on the stdout format, not
///   on this one) and the item is significant or this format has `%i`.
///   Items with no stdout format at all (no `-v`/`-i`) are still logged
///   when significant, new or a changed directory.
/// * [`LogFile::deleted`] for each deletion (not in a dry run).
/// * [`LogFile::line`] for every informational line rsync prints on
///   stdout through its FINFO channel — `created directory D`, `skipping
///   non-regular file "X"`, `skipping directory X`, `-vv`'s `X is uptodate`,
///   `delta-transmission disabled …` and `total: matches=…` — and for the
///   errors of the side that reads the source (`link_stat`, `opendir`,
///   `send_files failed to open`, `file has vanished`), and the final
///   `rsync error: …` line. Not `sending incremental file list` and not
///   the blank lines. Receiver-side errors (mkdir, mkstemp, rename,
///   set times) are not logged by rsync.
/// * [`LogFile::summary`] when `-v`/`--stats` print the closing lines
///   (also under `-q`, which only silences stdout), else
///   [`LogFile::finish`] at the end (before the `rsync error:` line of a
///   failed run), which writes `sent N bytes  received N bytes  total
///   size N`.
pub(crate) struct LogFile {
    file: File,
    format: Vec<u8>,
    /// Cached `%i`/`%o` test for deletions.
    del_format: Vec<u8>,
    #[cfg(test)]
    summary_written: bool,
    /// The pid in the prefix (rsync's sender: the process the user ran).
    pid: u32,
    /// `%t` and the prefix read this; `None` uses the system clock.
    now: Option<i64>,
}

impl LogFile {
    /// Opens (creating, appending) `path` like rsync: mode 0666 under a
    /// umask of at least 022, so a new log is 0644 or stricter. `format`
    /// is `--log-file-format` (`None`: `%i %n%L`; an empty format logs no
    /// items).
    ///
    /// On failure the error is rsync's message, `failed to open log-file
    /// PATH: TEXT (ERRNO)`; rsync prints it as `NAME: [client] …` on
    /// stderr, prints `Ignoring "log file" setting.` on stdout, and goes on
    /// without a log (the exit code is unaffected).
    pub(crate) fn open(path: &Path, format: Option<&[u8]>) -> Result<LogFile, String> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .open(path)
            .map_err(|e| {
                format!(
                    "failed to open log-file {}: {}",
                    path.display(),
                    crate::sys::io_error_text(&e)
                )
            })?;
        let format = format.unwrap_or(DEFAULT_FORMAT).to_vec();
        Ok(LogFile {
            file,
            del_format: format::deletion_format(&format).to_vec(),
            format,
            #[cfg(test)]
            summary_written: false,
            pid: std::process::id(),
            now: None,
        })
    }

    /// The message rsync prints on stdout after [`LogFile::open`] fails.
    pub(crate) const IGNORING: &'static str = "Ignoring \"log file\" setting.";

    /// Uses a fixed clock and pid (tests).
    #[cfg(test)]
    pub(crate) fn with_clock(mut self, now: i64, pid: u32) -> LogFile {
        self.now = Some(now);
        self.pid = pid;
        self
    }

    /// rsync's `logfile_format_has_i`: non-significant items that are
    /// listed on stdout are logged too.
    pub(crate) fn has_i(&self) -> bool {
        format::format_has(&self.format, b'i')
    }

    fn now(&self) -> i64 {
        self.now.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        })
    }

    /// Writes one message (without its newline) with the prefix. Write
    /// errors are ignored, as rsync ignores them.
    fn write_msg(&mut self, msg: &[u8]) {
        let mut m = escape_log(msg);
        m.push(b'\n');
        m.truncate(MAX_MSG);
        let mut out = format!("{} [{}] ", timestring(self.now()), self.pid).into_bytes();
        out.extend_from_slice(&m);
        let _ = self.file.write_all(&out);
    }

    /// One message (the driver's queued lines), with the prefix.
    pub(crate) fn message(&mut self, msg: &[u8]) {
        self.write_msg(msg);
    }

    /// An item's message in the `--log-file-format` (`None` for an empty
    /// format), for the driver to write in file-list order.
    pub(crate) fn render_item(&self, item: &ItemView, ctx: &FormatCtx) -> Option<Vec<u8>> {
        if self.format.is_empty() {
            return None;
        }
        Some(format::render(&self.format, item, &self.ctx_for(ctx)))
    }

    /// A deletion's message (see [`LogFile::deleted`]).
    pub(crate) fn render_deleted(&self, item: &ItemView, ctx: &FormatCtx) -> Option<Vec<u8>> {
        if self.format.is_empty() {
            return None;
        }
        Some(format::render(&self.del_format, item, &self.ctx_for(ctx)))
    }

    /// `building file list` (rsync logs it when the sender starts).
    #[cfg(test)]
    pub(crate) fn start(&mut self) {
        self.write_msg(b"building file list");
    }

    /// A message line as rsync copies it to the log.
    #[cfg(test)]
    pub(crate) fn line(&mut self, text: &str) {
        self.write_msg(text.as_bytes());
    }

    /// One item in the `--log-file-format`; nothing for an empty format.
    #[cfg(test)]
    pub(crate) fn item(&mut self, item: &ItemView, ctx: &FormatCtx) {
        if self.format.is_empty() {
            return;
        }
        let ctx = self.ctx_for(ctx);
        let line = format::render(&self.format, item, &ctx);
        self.write_msg(&line);
    }

    /// A deletion: the format if it has `%i` or `%o`, else `deleting %n`.
    #[cfg(test)]
    pub(crate) fn deleted(&mut self, item: &ItemView, ctx: &FormatCtx) {
        if self.format.is_empty() {
            return;
        }
        let ctx = self.ctx_for(ctx);
        let line = format::render(&self.del_format, item, &ctx);
        self.write_msg(&line);
    }

    fn ctx_for(&self, ctx: &FormatCtx) -> FormatCtx {
        FormatCtx {
            pid: self.pid,
            now: ctx.now.or(self.now),
            ..ctx.clone()
        }
    }

    /// The closing lines `-v` / `--stats` print, copied to the log
    /// (rsync logs them even under `-q`): with `stats`, the `--stats`
    /// block, then the two summary lines.
    #[cfg(test)]
    pub(crate) fn summary(&mut self, s: &TransferStats, human: u8, with_stats: bool) {
        if with_stats {
            for l in stats::stats_lines(s, human) {
                self.line(&l);
            }
        }
        for l in stats::summary_lines(s, human) {
            self.line(&l);
        }
        self.summary_written = true;
    }

    /// rsync's exit line for the log, `sent N bytes  received N bytes
    /// total size N` (plain digits), unless [`LogFile::summary`] already
    /// logged the summary.
    #[cfg(test)]
    pub(crate) fn finish(&mut self, s: &TransferStats) {
        if self.summary_written {
            return;
        }
        self.line(&format!(
            "sent {} bytes  received {} bytes  total size {}",
            s.total_written, s.total_read, s.total_size
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::item::*;
    use crate::report::stats::FileCounts;
    use crate::sys::Kind;

    fn read(p: &Path) -> String {
        String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned()
    }

    #[test]
    fn writes_rsync_shaped_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        // TZ-independent: check the prefix shape, not the clock.
        let mut log = LogFile::open(&p, None)
            .unwrap()
            .with_clock(1_600_000_000, 31605);
        let ctx = FormatCtx {
            preserve_times: true,
            ..FormatCtx::default()
        };
        log.start();
        let mut d = ItemView::new(b".", Kind::Dir, LOCAL_CHANGE | IS_NEW);
        d.mode = crate::sys::mode::S_IFDIR | 0o755;
        log.item(&d, &ctx);
        log.item(
            &ItemView::new(b"a.txt", Kind::File, TRANSFER | IS_NEW),
            &ctx,
        );
        let mut l = ItemView::new(b"link", Kind::Symlink, LOCAL_CHANGE | IS_NEW);
        l.symlink = Some(b"a.txt");
        log.item(&l, &ctx);
        log.item(&ItemView::new(b"a\nb", Kind::File, TRANSFER | IS_NEW), &ctx);
        log.deleted(&ItemView::deleted(b"old", false), &ctx);
        log.finish(&TransferStats {
            total_written: 100_354,
            total_read: 95,
            total_size: 100_013,
            ..TransferStats::default()
        });
        let ts = timestring(1_600_000_000);
        let want = [
            "building file list",
            "cd+++++++++ ./",
            ">f+++++++++ a.txt",
            "cL+++++++++ link -> a.txt",
            ">f+++++++++ a\\#012b",
            "*deleting   old",
            "sent 100354 bytes  received 95 bytes  total size 100013",
        ]
        .iter()
        .map(|l| format!("{ts} [31605] {l}\n"))
        .collect::<String>();
        assert_eq!(read(&p), want);
    }

    #[test]
    fn appends_and_respects_format() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, "old\n").unwrap();
        let ctx = FormatCtx::default();
        let mut log = LogFile::open(&p, Some(b"%o %n")).unwrap().with_clock(0, 7);
        log.item(&ItemView::new(b"x", Kind::File, TRANSFER), &ctx);
        log.deleted(&ItemView::deleted(b"d", true), &ctx);
        let text = read(&p);
        let ts = timestring(0);
        assert_eq!(text, format!("old\n{ts} [7] send x\n{ts} [7] del. d/\n"));
        // An empty format logs no items, and no deletions either.
        let mut quiet = LogFile::open(&p, Some(b"")).unwrap();
        quiet.item(&ItemView::new(b"y", Kind::File, TRANSFER), &ctx);
        quiet.deleted(&ItemView::deleted(b"z", false), &ctx);
        assert_eq!(read(&p), text);
        // Without %i/%o a deletion is "deleting NAME".
        let mut plain = LogFile::open(&p, Some(b"%n")).unwrap().with_clock(0, 7);
        plain.deleted(&ItemView::deleted(b"z", false), &ctx);
        assert!(read(&p).ends_with(&format!("{ts} [7] deleting z\n")));
    }

    #[test]
    fn new_log_is_0644_under_a_lax_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let _log = LogFile::open(&p, None).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o022, 0, "{mode:o}");
    }

    #[test]
    fn open_failure_has_rsyncs_wording() {
        let e = match LogFile::open(Path::new("/nonexistent/x"), None) {
            Ok(_) => panic!("opened"),
            Err(e) => e,
        };
        assert_eq!(
            e,
            "failed to open log-file /nonexistent/x: No such file or directory (2)"
        );
    }

    #[test]
    fn summary_replaces_the_exit_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut log = LogFile::open(&p, None).unwrap().with_clock(0, 1);
        let s = TransferStats {
            files: FileCounts {
                reg: 1,
                ..FileCounts::default()
            },
            total_written: 1234,
            total_read: 5,
            total_size: 1000,
            elapsed_secs: Some(0),
            flist_buildtime_ms: 1,
            ..TransferStats::default()
        };
        log.summary(&s, 1, true);
        log.finish(&s);
        let text = read(&p);
        let lines: Vec<&str> = text.lines().map(|l| &l[24..]).collect();
        assert_eq!(lines[0], "Number of files: 1 (reg: 1)");
        assert_eq!(lines.len(), 15);
        assert_eq!(
            lines[13],
            "sent 1,234 bytes  received 5 bytes  2,478.00 bytes/sec"
        );
        assert_eq!(lines[14], "total size is 1,000  speedup is 0.81");
    }

    #[test]
    fn long_messages_are_cut_like_rsync() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut log = LogFile::open(&p, None).unwrap().with_clock(0, 1);
        log.line(&"x".repeat(3000));
        log.line("next");
        let text = read(&p);
        // The cut message loses its newline, so the next entry follows it.
        assert_eq!(text.lines().count(), 1);
        assert!(text.ends_with("[1] next\n"));
    }
}
