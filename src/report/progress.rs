//! `--progress`, `-P` and `--info=progress2`.
//!
//! Off a terminal (or with `--no-progress-bar`) the output is rsync's own
//! text, byte for byte: per file
//!
//! ```text
//! \r         32,768  32%   31.25MB/s    0:00:00  \r        100,000 100%   95.37MB/s    0:00:00 (xfr#4, to-chk=6/11)\n
//! ```
//!
//! reproducing rsync's `show_progress()` / `end_progress()`: a line when
//! a file's first 32 KiB chunk is sent and then at most once a second
//! (rates over a 5-second history), the final line with the whole file's
//! rate and elapsed time, `progress2`'s whole-transfer line that is
//! redrawn in place, and the pending newline rsync prints before any other
//! output that interrupts an unfinished line. Data is accounted in rsync's
//! 32 KiB chunks whatever sizes [`Progress::advance`] is called with, so
//! the lines match rsync's even though the copy engine reads differently.
//!
//! On a terminal it is an indicatif bar instead: bytes done and total,
//! rate, ETA and the file count.
//!
//! When progress is off, [`Progress`] is a `None` and every call is a
//! branch on it.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use super::bar::{Bar, Width};

use crate::text::do_big_num;

/// rsync sends file data in chunks of this size and updates progress
/// after each.
const CHUNK: u64 = 32 * 1024;
/// Seconds of history behind the intermediate lines' rate.
const HISTORY: usize = 5;

/// What `--progress` / `--info=progress` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProgressMode {
    Off,
    /// `--progress`, `-P`, `--info=progress1`: one line per file.
    PerFile,
    /// `--info=progress2`: one line for the whole transfer.
    Total,
}

/// How progress is shown.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProgressConfig {
    pub mode: ProgressMode,
    /// `-h` level for the byte counts (rsync's `human_num`).
    pub human: u8,
    /// `-q`: rsync prints no progress.
    pub quiet: bool,
    /// `--no-progress-bar`: rsync's text even on a terminal.
    pub no_bar: bool,
}

/// Where the display goes.
pub(crate) enum Output {
    /// Standard output (a bar if it is a terminal and bars are allowed).
    Stdout,
    /// Any writer; `tty_width` is `Some(columns)` if it is a terminal.
    #[cfg(test)]
    Writer {
        out: Box<dyn Write + Send>,
        tty_width: Option<u16>,
    },
}

/// A wall-clock reading in microseconds since the epoch (rsync's
/// `gettimeofday`). Injectable for tests.
type Clock = Box<dyn Fn() -> u64 + Send>;

fn wall_clock() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// rsync's `msdiff()`: milliseconds from `t1` to `t2`, with C's
/// truncating division of the microsecond part.
fn msdiff(t1: u64, t2: u64) -> u64 {
    let (s1, u1) = ((t1 / 1_000_000) as i64, (t1 % 1_000_000) as i64);
    let (s2, u2) = ((t2 / 1_000_000) as i64, (t2 % 1_000_000) as i64);
    ((s2 - s1) * 1000 + (u2 - u1) / 1000) as u64
}

#[derive(Clone, Copy, Default)]
struct Mark {
    /// Microseconds since the epoch; 0 means unset (rsync's `tv_sec == 0`).
    time: u64,
    ofs: i64,
}

/// rsync's text progress state (progress.c).
struct Text {
    out: Box<dyn Write + Send>,
    start: Mark,
    list: [Mark; HISTORY],
    newest: usize,
    oldest: usize,
    /// `progress2`'s previous end-of-line length (for space padding).
    last_len: usize,
    /// An unfinished line is on screen (rsync's `output_needs_newline`).
    needs_newline: bool,
}

enum Display {
    Text(Box<Text>),
    Bar(Bar),
}

struct Inner {
    mode: ProgressMode,
    human: u8,
    clock: Clock,
    display: Display,
    // rsync's stats as the sender sees them.
    xferred_files: u64,
    num_files: u64,
    total_size: u64,
    total_transferred_size: u64,
    current_index: u64,
    flist_eof: bool,
    // The file being sent.
    size: u64,
    sent: u64,
    next_chunk: u64,
}

/// The progress display of one run.
pub(crate) struct Progress {
    inner: Option<Box<Inner>>,
}

impl Progress {
    /// No progress at all; every method returns at once.
    pub(crate) fn off() -> Progress {
        Progress { inner: None }
    }

    /// Progress on standard output: a bar on a terminal (unless
    /// `--no-progress-bar`), rsync's text otherwise.
    pub(crate) fn new(cfg: ProgressConfig) -> Progress {
        Progress::with_output(cfg, Output::Stdout)
    }

    /// Progress on the given output.
    pub(crate) fn with_output(cfg: ProgressConfig, output: Output) -> Progress {
        Progress::with_clock(cfg, output, Box::new(wall_clock))
    }

    /// Progress with an injected clock (microseconds since the epoch).
    pub(crate) fn with_clock(cfg: ProgressConfig, output: Output, clock: Clock) -> Progress {
        if cfg.mode == ProgressMode::Off || cfg.quiet {
            return Progress::off();
        }
        let (out, tty): (Box<dyn Write + Send>, Option<Width>) = match output {
            Output::Stdout => {
                let stdout = io::stdout();
                let tty = crate::sys::term::width(&stdout).map(|_| Width::Stdout);
                (Box::new(stdout), tty)
            }
            #[cfg(test)]
            Output::Writer { out, tty_width } => (out, tty_width.map(Width::Fixed)),
        };
        let display = match tty {
            Some(width) if !cfg.no_bar => Display::Bar(Bar::new(out, width)),
            _ => Display::Text(Box::new(Text {
                out,
                start: Mark::default(),
                list: [Mark::default(); HISTORY],
                newest: 0,
                oldest: 0,
                last_len: 0,
                needs_newline: false,
            })),
        };
        Progress {
            inner: Some(Box::new(Inner {
                mode: cfg.mode,
                human: cfg.human,
                clock,
                display,
                xferred_files: 0,
                num_files: 0,
                total_size: 0,
                total_transferred_size: 0,
                current_index: 0,
                flist_eof: false,
                size: 0,
                sent: 0,
                next_chunk: CHUNK,
            })),
        }
    }

    pub(crate) fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// Whether the display is rsync's text (as opposed to a bar).
    pub(crate) fn is_text(&self) -> bool {
        matches!(
            self.inner.as_deref(),
            Some(Inner {
                display: Display::Text(_),
                ..
            })
        )
    }

    /// The file list so far: `files` entries (rsync's `stats.num_files`,
    /// the `/N` of `to-chk`) holding `bytes` (`stats.total_size`: file
    /// sizes plus symlink lengths).
    pub(crate) fn set_totals(&mut self, files: u64, bytes: u64) {
        if let Some(i) = self.inner.as_deref_mut() {
            i.num_files = files;
            i.total_size = bytes;
            if let Display::Bar(b) = &mut i.display {
                b.set_totals(files, bytes);
            }
        }
    }

    /// Whether the whole file list is known: rsync shows `to-chk` once it
    /// is, `ir-chk` while incremental recursion is still adding to it.
    pub(crate) fn set_list_complete(&mut self, done: bool) {
        if let Some(i) = self.inner.as_deref_mut() {
            i.flist_eof = done;
            if let Display::Bar(b) = &i.display {
                b.set_listed(done);
            }
        }
    }

    /// A file's content starts to be sent. `index` is its position in the
    /// file list as rsync counts it (the root `.` is 0), used for
    /// `to-chk=N-index-1/N`. Not called in a dry run (rsync shows no
    /// progress then).
    pub(crate) fn start_file(&mut self, name: &[u8], size: u64, index: u64) {
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        i.current_index = index;
        i.xferred_files += 1;
        i.total_transferred_size += size;
        i.size = size;
        i.sent = 0;
        i.next_chunk = CHUNK;
        if let Display::Bar(b) = &mut i.display {
            b.show_name(name);
        }
    }

    /// `bytes` more of the current file were written.
    pub(crate) fn advance(&mut self, bytes: u64) {
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        i.sent = (i.sent + bytes).min(i.size);
        match &i.display {
            // (A live counter, if any, moves the bar instead.)
            Display::Bar(b) => b.inc(bytes),
            Display::Text(_) => {
                // rsync calls show_progress() after each 32 KiB chunk and
                // once more at the end of the data.
                while i.next_chunk < i.size && i.next_chunk <= i.sent {
                    let ofs = i.next_chunk;
                    i.next_chunk += CHUNK;
                    i.show(ofs);
                }
                if i.sent == i.size && i.size > 0 && i.next_chunk != u64::MAX {
                    i.next_chunk = u64::MAX;
                    i.show(i.size);
                }
            }
        }
    }

    /// The current file is complete (rsync's `end_progress(size)`).
    pub(crate) fn end_file(&mut self) {
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        if i.size > 0 && i.next_chunk != u64::MAX {
            // The engine reported fewer bytes than the size: account the rest.
            let rest = i.size - i.sent;
            self.advance(rest);
        }
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        match &mut i.display {
            Display::Bar(b) => b.file_done(i.xferred_files),
            Display::Text(_) => {
                let now = (i.clock)();
                if i.mode == ProgressMode::Total {
                    i.print(i.total_transferred_size, i.total_size, now, true);
                } else {
                    i.print(i.size, i.size, now, true);
                    if let Display::Text(t) = &mut i.display {
                        t.start = Mark::default();
                    }
                }
            }
        }
    }

    /// `progress2` only: a file list is finished (rsync's sender reading
    /// `NDX_DONE`: the end of each incremental sub-list and of the run);
    /// `last_index` is the list position of its last entry. Redraws the
    /// whole-transfer line.
    pub(crate) fn list_done(&mut self, last_index: u64) {
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        if i.mode != ProgressMode::Total || !matches!(i.display, Display::Text(_)) {
            return;
        }
        i.current_index = last_index;
        let now = (i.clock)();
        i.print(i.total_transferred_size, i.total_size, now, true);
    }

    /// Call before writing anything else to the terminal: returns `true`
    /// if an unfinished progress line is showing, in which case the caller
    /// writes `\n` first on the stream it is about to use (rsync does this
    /// for stdout and stderr alike).
    pub(crate) fn take_pending_newline(&mut self) -> bool {
        match self.inner.as_deref_mut() {
            Some(Inner {
                display: Display::Text(t),
                ..
            }) => std::mem::take(&mut t.needs_newline),
            _ => false,
        }
    }

    /// Runs `f` (which writes other output) with the bar hidden; in text
    /// mode it just runs it (use [`Progress::take_pending_newline`]).
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match self.inner.as_deref() {
            Some(Inner {
                display: Display::Bar(b),
                ..
            }) => b.suspend(f),
            _ => f(),
        }
    }

    /// For the bar: a counter of bytes written that the copy engine
    /// adds to as it goes (from its worker threads); a thread moves the
    /// bar from it ten times a second. `None` for rsync's text, which is
    /// replayed per file in order instead.
    pub(crate) fn live_counter(&mut self) -> Option<Arc<AtomicU64>> {
        match self.inner.as_deref_mut() {
            Some(Inner {
                display: Display::Bar(b),
                ..
            }) => b.live_counter(),
            _ => None,
        }
    }

    /// The file being copied now (the bar shows its name).
    pub(crate) fn show_name(&mut self, name: &[u8]) {
        if let Some(Inner {
            display: Display::Bar(b),
            ..
        }) = self.inner.as_deref_mut()
        {
            b.show_name(name);
        }
    }

    /// The end of the run: finishes an unfinished line with `\n` (rsync
    /// does so on exit) or clears the bar.
    pub(crate) fn finish(&mut self) {
        let Some(i) = self.inner.as_deref_mut() else {
            return;
        };
        match &mut i.display {
            Display::Bar(b) => b.finish(i.human),
            Display::Text(t) => {
                if std::mem::take(&mut t.needs_newline) {
                    let _ = t.out.write_all(b"\n");
                    let _ = t.out.flush();
                }
            }
        }
    }
}

impl Inner {
    /// rsync's `show_progress(ofs, size)`.
    fn show(&mut self, ofs: u64) {
        let now = (self.clock)();
        let (mut ofs, mut size) = (ofs as i64, self.size);
        if self.mode == ProgressMode::Total {
            ofs += self.total_transferred_size as i64 - self.size as i64;
            size = self.total_size;
        }
        let Display::Text(t) = &mut self.display else {
            return;
        };
        if t.start.time == 0 {
            if msdiff(t.list[t.newest].time, now) <= 1500 {
                t.start = Mark {
                    time: t.list[t.newest].time,
                    ofs: 0,
                };
            } else {
                t.start = Mark { time: now, ofs };
            }
            t.list = [t.start; HISTORY];
        } else {
            if msdiff(t.list[t.newest].time, now) < 1000 {
                return;
            }
            t.newest = t.oldest;
            t.oldest = (t.oldest + 1) % HISTORY;
            t.list[t.newest] = Mark { time: now, ofs };
        }
        self.print(ofs as u64, size, now, false);
    }

    /// rsync's `rprint_progress()`.
    fn print(&mut self, ofs: u64, size: u64, now: u64, is_last: bool) {
        let (xferred, eof, idx, num) = (
            self.xferred_files,
            self.flist_eof,
            self.current_index,
            self.num_files,
        );
        let progress2 = self.mode == ProgressMode::Total;
        let human = self.human;
        let Display::Text(t) = &mut self.display else {
            return;
        };
        let mut last = is_last;
        let (eol, rate, remain) = if is_last {
            let chk = num as i64 - idx as i64 - 1;
            let mut eol = format!(
                " (xfr#{xferred}, {}-chk={chk}/{num})",
                if eof { "to" } else { "ir" }
            );
            if progress2 {
                let len = eol.len();
                if t.last_len < len {
                    t.last_len = len;
                }
                eol.push_str(&" ".repeat(t.last_len - len));
                t.last_len = len;
                last = false;
            } else {
                eol.push('\n');
            }
            let diff = if t.start.time == 0 {
                1
            } else {
                msdiff(t.start.time, now).max(1)
            };
            let rate = (ofs as i64 - t.start.ofs) as f64 * 1000.0 / diff as f64 / 1024.0;
            (eol, rate, diff as f64 / 1000.0)
        } else {
            let o = t.list[t.oldest];
            let diff = msdiff(o.time, now).max(1);
            let rate = (ofs as i64 - o.ofs) as f64 * 1000.0 / diff as f64 / 1024.0;
            let remain = if rate != 0.0 {
                (size as f64 - ofs as f64) / rate / 1000.0
            } else {
                0.0
            };
            ("  ".to_string(), rate, remain)
        };
        let line = progress_line(ofs, size, rate, remain, human, &eol);
        let _ = t.out.write_all(line.as_bytes());
        let _ = t.out.flush();
        t.needs_newline = !last;
    }
}

/// One rsync progress line: `\r%15s %3d%% %7.2f%s %s` + `eol`, where the
/// rate is in kB/s (switching to MB/s and GB/s above 1024) and `remain`
/// is in seconds.
pub(crate) fn progress_line(
    ofs: u64,
    size: u64,
    rate: f64,
    remain: f64,
    human: u8,
    eol: &str,
) -> String {
    let (rate, units) = if rate > 1024.0 * 1024.0 {
        (rate / (1024.0 * 1024.0), "GB/s")
    } else if rate > 1024.0 {
        (rate / 1024.0, "MB/s")
    } else {
        (rate, "kB/s")
    };
    let rem = if !(0.0..=9999.0 * 3600.0).contains(&remain) {
        "  ??:??:??".to_string()
    } else {
        format!(
            "{:4}:{:02}:{:02}",
            (remain / 3600.0) as u32,
            (remain / 60.0) as u32 % 60,
            remain as u32 % 60
        )
    };
    let pct = if ofs == size {
        100
    } else {
        (100.0 * ofs as f64 / size as f64) as i64
    };
    format!(
        "\r{:>15} {pct:3}% {rate:7.2}{units} {rem}{eol}",
        do_big_num(ofs as i64, human)
    )
}

/// The file-list progress rsync prints without incremental recursion
/// (`building file list ... done`, or with `--progress` a running count).
pub(crate) struct FlistProgress {
    /// rsync's INFO_FLIST level: 1 with `-v`, 2 with `--progress`.
    level: u8,
    /// 1: `building file list ... ` is unfinished; 2: a count line is.
    needs_newline: u8,
    quiet: bool,
}

impl FlistProgress {
    /// `level`: rsync's `--info=flist` level (0 prints nothing).
    pub(crate) fn new(level: u8, quiet: bool) -> FlistProgress {
        FlistProgress {
            level,
            needs_newline: 0,
            quiet,
        }
    }

    /// `building file list ... ` (no newline).
    pub(crate) fn start(&mut self, w: &mut dyn Write) {
        if self.level == 0 || self.quiet {
            return;
        }
        let _ = w.write_all(b"building file list ... ");
        let _ = w.flush();
        self.needs_newline = 1;
    }

    /// Called before the entry numbered `count` (0-based) is added: every
    /// 100 entries at level 2, ` N files...\r`.
    pub(crate) fn add(&mut self, count: u64, w: &mut dyn Write) {
        if self.level < 2 || self.quiet || !count.is_multiple_of(100) {
            return;
        }
        if self.needs_newline == 1 {
            let _ = w.write_all(b"\n");
        }
        let _ = write!(w, " {count} files...\r");
        let _ = w.flush();
        self.needs_newline = 2;
    }

    /// The list is complete with `used` entries.
    pub(crate) fn done(&mut self, used: u64, w: &mut dyn Write) {
        if self.level == 0 || self.quiet {
            return;
        }
        self.needs_newline = 0;
        if self.level >= 2 {
            let _ = writeln!(
                w,
                "{used} file{}to consider",
                if used == 1 { " " } else { "s " }
            );
        } else {
            let _ = w.write_all(b"done\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Sink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    const T0: u64 = 1_800_000_000_000_000;

    fn text_progress(mode: ProgressMode) -> (Progress, Sink, Arc<AtomicU64>) {
        let sink = Sink::default();
        let clock = Arc::new(AtomicU64::new(T0));
        let c = Arc::clone(&clock);
        let p = Progress::with_clock(
            ProgressConfig {
                mode,
                human: 1,
                quiet: false,
                no_bar: false,
            },
            Output::Writer {
                out: Box::new(sink.clone()),
                tty_width: None,
            },
            Box::new(move || c.load(Ordering::SeqCst)),
        );
        (p, sink, clock)
    }

    // The tree of `rsync -a --progress src/ dst/` in the compat scenario:
    // ./ a(5) empty(0) k1(1000) k100(100000) ..., each file taking 1 ms.
    #[test]
    fn per_file_text_matches_rsync() {
        let (mut p, sink, clock) = text_progress(ProgressMode::PerFile);
        p.set_totals(11, 1_401_112);
        p.set_list_complete(true);
        let tick = |ms: u64| clock.fetch_add(ms * 1000, Ordering::SeqCst);
        p.start_file(b"a", 5, 1);
        p.advance(5);
        p.end_file();
        p.start_file(b"empty", 0, 2);
        p.end_file();
        p.start_file(b"k1", 1000, 3);
        tick(1);
        p.advance(1000);
        p.end_file();
        p.start_file(b"k100", 100_000, 4);
        p.advance(65_536);
        p.advance(34_464);
        p.end_file();
        assert!(!p.take_pending_newline());
        p.finish();
        let want = concat!(
            "\r              5 100%    0.00kB/s    0:00:00  ",
            "\r              5 100%    0.00kB/s    0:00:00 (xfr#1, to-chk=9/11)\n",
            "\r              0 100%    0.00kB/s    0:00:00 (xfr#2, to-chk=8/11)\n",
            "\r          1,000 100%  976.56kB/s    0:00:00  ",
            "\r          1,000 100%  976.56kB/s    0:00:00 (xfr#3, to-chk=7/11)\n",
            "\r         32,768  32%   31.25MB/s    0:00:00  ",
            "\r        100,000 100%   95.37MB/s    0:00:00 (xfr#4, to-chk=6/11)\n",
        );
        assert_eq!(sink.text(), want);
    }

    #[test]
    fn intermediate_lines_once_a_second_with_eta() {
        let (mut p, sink, clock) = text_progress(ProgressMode::PerFile);
        p.set_totals(2, 10 * 1024 * 1024);
        p.set_list_complete(false);
        p.start_file(b"big", 10 * 1024 * 1024, 1);
        p.advance(1024 * 1024);
        clock.fetch_add(500_000, Ordering::SeqCst);
        p.advance(1024 * 1024); // < 1 s since the last line: nothing
        clock.fetch_add(600_000, Ordering::SeqCst);
        p.advance(1024 * 1024);
        assert!(p.take_pending_newline());
        let text = sink.text();
        let lines: Vec<&str> = text.split('\r').filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 2, "{text:?}");
        assert_eq!(lines[0], "         32,768   0%    0.00kB/s    0:00:00  ");
        // The first chunk past the 1-second mark: 2 MiB sent in 1.1 s since
        // the first line (1.82 MB/s), 7.97 MiB left (0:00:04).
        assert_eq!(lines[1], "      2,129,920  20%    1.82MB/s    0:00:04  ");
        p.end_file();
        assert!(sink.text().ends_with("(xfr#1, ir-chk=0/2)\n"));
    }

    #[test]
    fn total_mode_pads_and_ends_with_newline() {
        let (mut p, sink, _clock) = text_progress(ProgressMode::Total);
        p.set_totals(11, 1_401_112);
        p.set_list_complete(true);
        p.start_file(b"a", 5, 1);
        p.advance(5);
        p.end_file();
        p.start_file(b"empty", 0, 2);
        p.end_file();
        p.list_done(10);
        p.finish();
        let want = concat!(
            "\r              5   0%    0.00kB/s    0:00:00  ",
            "\r              5   0%    0.00kB/s    0:00:00 (xfr#1, to-chk=9/11)",
            "\r              5   0%    0.00kB/s    0:00:00 (xfr#2, to-chk=8/11)",
            "\r              5   0%    0.00kB/s    0:00:00 (xfr#2, to-chk=0/11)",
            "\n",
        );
        assert_eq!(sink.text(), want);
    }

    #[test]
    fn off_and_quiet_do_nothing() {
        let mut p = Progress::off();
        p.start_file(b"x", 10, 0);
        p.advance(10);
        p.end_file();
        p.finish();
        assert!(!p.is_on());
        let q = Progress::new(ProgressConfig {
            mode: ProgressMode::PerFile,
            human: 1,
            quiet: true,
            no_bar: false,
        });
        assert!(!q.is_on());
    }

    #[test]
    fn line_formatting() {
        assert_eq!(
            progress_line(1_234_567, 1_234_567, 2048.0 * 1024.0 * 1.5, 0.0, 1, "  "),
            "\r      1,234,567 100%    3.00GB/s    0:00:00  "
        );
        assert_eq!(
            progress_line(1, 3, 0.5, 1e9, 0, ""),
            "\r              1  33%    0.50kB/s   ??:??:??"
        );
        assert_eq!(
            progress_line(10, 100, 1.0, 3725.0, 2, ""),
            "\r             10  10%    1.00kB/s    1:02:05"
        );
    }

    #[test]
    fn flist_progress_like_rsync() {
        let mut out = Vec::new();
        let mut f = FlistProgress::new(2, false);
        f.start(&mut out);
        for i in 0..251 {
            f.add(i, &mut out);
        }
        f.done(251, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "building file list ... \n 0 files...\r 100 files...\r 200 files...\r251 files to consider\n"
        );
        let mut out = Vec::new();
        let mut f = FlistProgress::new(1, false);
        f.start(&mut out);
        f.add(0, &mut out);
        f.done(1, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "building file list ... done\n"
        );
    }

    /// The terminal display under a real pseudo-terminal: the bar shows
    /// bytes, rate, ETA and the file count.
    #[test]
    fn tty_bar_under_a_pty() {
        let (master, slave) = crate::sys::term::open_pty().expect("pty");
        let width = crate::sys::term::width(&slave).expect("the pty is a terminal");
        let reader = std::thread::spawn(move || {
            use std::io::Read;
            let mut master = std::fs::File::from(master);
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            // Read to the end (EIO once the terminal side is closed): the
            // summary line comes last.
            String::from_utf8_lossy(&got).into_owned()
        });
        let mut p = Progress::with_output(
            ProgressConfig {
                mode: ProgressMode::PerFile,
                human: 1,
                quiet: false,
                no_bar: false,
            },
            Output::Writer {
                out: Box::new(std::fs::File::from(slave)),
                tty_width: Some(if width == 0 { 100 } else { width.max(100) }),
            },
        );
        assert!(!p.is_text());
        p.set_totals(3, 3 * 1024 * 1024);
        p.set_list_complete(true);
        p.start_file(b"one", 1024 * 1024, 1);
        p.advance(1024 * 1024);
        p.end_file();
        p.start_file(b"two", 2 * 1024 * 1024, 2);
        std::thread::sleep(std::time::Duration::from_millis(150));
        p.advance(1024 * 1024);
        std::thread::sleep(std::time::Duration::from_millis(150));
        p.end_file();
        // Closing the terminal side ends the reader.
        p.finish();
        drop(p);
        let text = reader.join().unwrap();
        assert!(text.contains("files 2/3"), "{text:?}");
        assert!(text.contains("B/s"), "{text:?}");
        // No ETA before two seconds of data.
        assert!(text.contains("ETA --:--:--"), "{text:?}");
        assert!(!text.contains("ETA 0:"), "{text:?}");
        assert!(text.contains("MiB/3.00 MiB "), "{text:?}");
        // The summary line stays.
        assert!(text.contains("(xfr#2, to-chk=0/3)\r\n"), "{text:?}");
    }
}
