//! Everything the user sees: per-item lines (`-v`, `-i`), messages, errors,
//! and the closing summary, in rsync's formats and rsync's order.
//!
//! Work completes out of order (many files are copied at once), but lines
//! must come out in file-list order. Every item that may print reserves a
//! slot; a slot's lines are written once all earlier slots are filled.

pub mod format;
pub mod itemize;
pub mod logfile;
pub mod progress;
pub mod stats;

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::time::Instant;

use crate::exit::IoErrors;
use crate::options::Options;
use crate::plan::item;
use crate::sys::{self, Kind};

/// A reserved place in the output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(u64);

/// One line of output.
#[derive(Debug)]
enum Line {
    Out(String),
    Err(String),
}

/// Transfer counters, as rsync's `struct stats`.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Sum of regular-file and symlink sizes in the file list.
    pub total_size: u64,
    pub num_files: u64,
    pub num_transferred: u64,
    pub transferred_size: u64,
    /// Bytes of file data actually written.
    pub literal_data: u64,
}

/// The output side of a run.
pub struct Report {
    /// Program name for message prefixes (`rsync:` when run as rsync).
    pub name: String,
    verbose: u8,
    itemize: u8,
    human: u8,
    quiet: bool,
    times: bool,
    dry_run: bool,
    utf8: bool,
    out: BufWriter<io::Stdout>,
    queue: VecDeque<Option<Vec<Line>>>,
    base: u64,
    /// Lines go out now, ahead of reserved slots (see [`Report::unordered`]).
    unordered: bool,
    pub stats: Stats,
    pub errors: IoErrors,
    started: Instant,
}

impl Report {
    pub fn new(name: &str, opts: &Options) -> Report {
        Report {
            name: name.to_string(),
            verbose: opts.info_name(),
            itemize: opts.format_has_i(),
            human: opts.human_readable,
            quiet: opts.quiet > 0,
            times: opts.times,
            dry_run: opts.dry_run,
            utf8: sys::locale_is_utf8(),
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            queue: VecDeque::new(),
            base: 0,
            unordered: false,
            stats: Stats::default(),
            errors: IoErrors::default(),
            started: Instant::now(),
        }
    }

    /// A name escaped the way rsync prints names.
    pub fn esc(&self, name: &[u8]) -> String {
        sys::escape_name(name, self.utf8)
    }

    fn write_line(&mut self, line: Line) {
        match line {
            Line::Out(s) => {
                let _ = self.out.write_all(s.as_bytes());
                let _ = self.out.write_all(b"\n");
            }
            Line::Err(s) => {
                let _ = self.out.flush();
                let mut e = io::stderr().lock();
                let _ = e.write_all(s.as_bytes());
                let _ = e.write_all(b"\n");
            }
        }
    }

    /// Runs `f` with its lines written at once, ahead of lines still
    /// waiting for earlier copies: rsync's generator prints some things
    /// (a `--delete-missing-args` deletion) while the receiver is still
    /// busy with files listed before them.
    pub fn unordered<T>(&mut self, f: impl FnOnce(&mut Report) -> T) -> T {
        self.unordered = true;
        let r = f(self);
        self.unordered = false;
        r
    }

    fn push(&mut self, line: Line) {
        if self.queue.is_empty() || self.unordered {
            self.write_line(line);
        } else {
            match self.queue.back_mut() {
                Some(Some(lines)) => lines.push(line),
                _ => self.queue.push_back(Some(vec![line])),
            }
        }
    }

    /// Reserves a place for lines that will be known later.
    pub fn reserve(&mut self) -> Slot {
        self.queue.push_back(None);
        Slot(self.base + self.queue.len() as u64 - 1)
    }

    fn fill(&mut self, slot: Slot, lines: Vec<Line>) {
        let idx = (slot.0 - self.base) as usize;
        match self.queue.get_mut(idx) {
            Some(s) => *s = Some(lines),
            None => debug_assert!(false, "slot filled twice"),
        }
        while let Some(Some(_)) = self.queue.front() {
            if let Some(Some(lines)) = self.queue.pop_front() {
                self.base += 1;
                for l in lines {
                    self.write_line(l);
                }
            }
        }
    }

    /// An informational line (rsync's FINFO), unless `-q`.
    pub fn info(&mut self, s: impl Into<String>) {
        if !self.quiet {
            self.push(Line::Out(s.into()));
        }
    }

    /// An error line, `NAME: TEXT`, that makes the run partial (code 23).
    pub fn error(&mut self, text: impl AsRef<str>) {
        self.errors.general = true;
        let l = format!("{}: {}", self.name, text.as_ref());
        self.push(Line::Err(l));
    }

    /// An error line without the `NAME: ` prefix (rsync's `rprintf(FERROR)`
    /// of a whole message, e.g. `ERROR: destination must be a directory…`).
    pub fn error_raw(&mut self, text: impl Into<String>) {
        self.push(Line::Err(text.into()));
    }

    /// A warning on stderr without the `NAME: ` prefix (rsync's FWARNING),
    /// printed even with `-q`.
    pub fn warning(&mut self, text: impl Into<String>) {
        self.push(Line::Err(text.into()));
    }

    /// The line for a deleted destination entry: `deleting NAME` under
    /// `-v`, `*deleting   NAME` under `-i`.
    pub fn deleted(&mut self, local: &[u8], kind: Kind) {
        if self.quiet || (self.verbose == 0 && self.itemize == 0) {
            return;
        }
        let mut name = self.esc(local);
        if kind == Kind::Dir {
            name.push('/');
        }
        let line = if self.itemize > 0 {
            format!("{} {name}", itemize::code(item::DELETED, kind, self.times))
        } else {
            format!("deleting {name}")
        };
        self.push(Line::Out(line));
    }

    /// A vanished-file note (exit 24 unless something worse happened).
    pub fn vanished(&mut self, text: impl Into<String>) {
        self.errors.vanished = true;
        self.info(text);
    }

    /// The line for one item, or `None` if rsync would print nothing.
    pub fn item_line(
        &self,
        iflags: u32,
        kind: Kind,
        name: &[u8],
        link: Option<&[u8]>,
    ) -> Option<String> {
        let transfer = iflags & item::TRANSFER != 0;
        if !itemize::generator_sends(iflags, self.itemize, self.verbose) {
            return None;
        }
        if !transfer && !itemize::sender_logs(iflags, kind, self.itemize, self.verbose) {
            return None;
        }
        if self.itemize == 0 && self.verbose == 0 {
            return None;
        }
        let mut s = String::new();
        if self.itemize > 0 {
            s.push_str(&itemize::code(iflags, kind, self.times));
            s.push(' ');
        }
        s.push_str(&self.esc(name));
        if kind == Kind::Dir {
            s.push('/');
        }
        if let (Kind::Symlink, Some(t)) = (kind, link) {
            s.push_str(" -> ");
            s.push_str(&self.esc(t));
        }
        Some(s)
    }

    /// A hard-link item (`-H`): `hf... NAME => LEADER` (`-i`), `NAME =>
    /// LEADER` (`-v`). An empty `xname` is an already-linked member, shown
    /// only when unchanged items are (`-ii`, `-vvi`).
    pub fn item_xname(&mut self, iflags: u32, kind: Kind, name: &[u8], xname: &[u8]) {
        let significant = iflags & item::SIGNIFICANT & 0xffff != 0;
        let mut s = String::new();
        if self.itemize > 0 {
            if !(significant || !xname.is_empty() || self.itemize > 1 || self.verbose > 1) {
                return;
            }
            s.push_str(&itemize::code(iflags, kind, self.times));
            s.push(' ');
        } else if self.verbose == 0 || xname.is_empty() {
            return;
        }
        s.push_str(&self.esc(name));
        if !xname.is_empty() {
            s.push_str(" => ");
            s.push_str(&self.esc(xname));
        }
        self.push(Line::Out(s));
    }

    /// Prints an item line now (in order).
    pub fn item(&mut self, iflags: u32, kind: Kind, name: &[u8], link: Option<&[u8]>) {
        if let Some(l) = self.item_line(iflags, kind, name, link) {
            self.push(Line::Out(l));
        }
    }

    /// Completes a reserved slot: stdout lines (the item line, notes),
    /// then error lines (which make the run partial).
    pub fn complete(&mut self, slot: Slot, out: Vec<String>, errors: Vec<String>) {
        let mut lines = Vec::with_capacity(errors.len() + out.len());
        for l in out {
            if !self.quiet {
                lines.push(Line::Out(l));
            }
        }
        for e in errors {
            self.errors.general = true;
            lines.push(Line::Err(format!("{}: {}", self.name, e)));
        }
        self.fill(slot, lines);
    }

    /// The `-v` summary: the two lines after a blank one.
    pub fn summary(&mut self) {
        if self.quiet || self.verbose == 0 {
            return;
        }
        // arsync does not speak rsync's wire protocol, so "sent" and
        // "received" are the file data written plus a small per-file
        // overhead, not protocol byte counts.
        let sent = self.stats.literal_data + 19 + self.stats.num_files * 4;
        let received = 12 + self.stats.num_transferred * 8;
        let secs = self.started.elapsed().as_secs_f64().max(0.5);
        let rate = (sent + received) as f64 / secs;
        let total = self.stats.total_size;
        let speedup = if sent + received > 0 {
            total as f64 / (sent + received) as f64
        } else {
            0.0
        };
        let dry = if self.dry_run { " (DRY RUN)" } else { "" };
        if self.verbose > 1 {
            let data = self.stats.literal_data;
            self.info(format!(
                "total: matches=0  hash_hits=0  false_alarms=0 data={data}"
            ));
        }
        self.info("");
        let h = self.human;
        self.info(format!(
            "sent {} bytes  received {} bytes  {} bytes/sec",
            big_num(sent, h),
            big_num(received, h),
            big_dnum(rate, h)
        ));
        self.info(format!(
            "total size is {}  speedup is {:.2}{dry}",
            big_num(total, h),
            speedup
        ));
    }

    pub fn flush(&mut self) {
        while let Some(front) = self.queue.pop_front() {
            self.base += 1;
            for l in front.unwrap_or_default() {
                self.write_line(l);
            }
        }
        let _ = self.out.flush();
    }
}

/// A number as rsync prints it at a `--human-readable` level: plain
/// digits (0), thousands separators (1), or units of 1000 (2) / 1024 (3+)
/// with two decimals once it reaches one unit (`305.18K`).
pub fn big_num(n: u64, human: u8) -> String {
    if let Some(s) = with_units(n as f64, human) {
        return s;
    }
    if human == 0 { n.to_string() } else { comma(n) }
}

/// Like [`big_num`] with two decimals for rates (`2,580.00`, `1.35K`).
pub fn big_dnum(x: f64, human: u8) -> String {
    if let Some(s) = with_units(x, human) {
        return s;
    }
    let whole = x.trunc() as u64;
    let frac = ((x - x.trunc()) * 100.0).round() as u64;
    let (whole, frac) = if frac >= 100 {
        (whole + 1, 0)
    } else {
        (whole, frac)
    };
    format!("{}.{frac:02}", big_num(whole, human.min(1)))
}

fn with_units(x: f64, human: u8) -> Option<String> {
    if human < 2 {
        return None;
    }
    let mult = if human == 2 { 1000.0 } else { 1024.0 };
    if x < mult {
        return None;
    }
    let mut d = x / mult;
    let units = b"KMGTPEZY";
    let mut u = 0;
    while d >= mult && u + 1 < units.len() {
        d /= mult;
        u += 1;
    }
    Some(format!("{d:.2}{}", units[u] as char))
}

/// rsync's thousands-grouped integer (`1,234,567`).
pub fn comma(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// rsync's grouped float with two decimals (`2,580.00`).
pub fn comma_f(x: f64) -> String {
    let whole = x.trunc() as u64;
    let frac = ((x - x.trunc()) * 100.0).round() as u64;
    let (whole, frac) = if frac >= 100 {
        (whole + 1, 0)
    } else {
        (whole, frac)
    };
    format!("{}.{frac:02}", comma(whole))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(comma(0), "0");
        assert_eq!(comma(999), "999");
        assert_eq!(comma(1000), "1,000");
        assert_eq!(comma(1234567), "1,234,567");
        assert_eq!(big_dnum(2580.0, 1), "2,580.00");
        assert_eq!(big_dnum(58.004, 1), "58.00");
        assert_eq!(big_num(305_184, 2), "305.18K");
        assert_eq!(big_num(2_500_999, 2), "2.50M");
        assert_eq!(big_num(2_500_000, 3), "2.38M");
        assert_eq!(big_num(2_500_000, 0), "2500000");
        assert_eq!(big_num(999, 2), "999");
    }
}
