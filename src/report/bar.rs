//! The progress bar on a terminal (`--progress`, `-P`, `--info=progress2`
//! with standard output a terminal, unless `--no-progress-bar`).
//!
//! One line, redrawn ten times a second by indicatif:
//!
//! ```text
//! [=====>              ] 151.56 MiB/1.00 GiB  45.20 MiB/s  ETA 0:00:19  files 3/10 dir/name
//! ```
//!
//! Only what is known is shown: while the file list is still growing the
//! total reads `1.00 GiB+`, the bar says `listing` and there is no ETA;
//! the ETA also waits until two seconds of data have moved. The current
//! file's name is cut to the width left. The width is asked of the
//! terminal at every redraw, so a resized window gets lines that fit. At
//! the end the bar is replaced by one summary line in rsync's progress
//! format, which stays on screen.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{
    HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike,
};

use super::progress::progress_line;

/// How wide the terminal is.
#[derive(Debug, Clone, Copy)]
pub(super) enum Width {
    /// Asked of standard output at every redraw (it follows resizes).
    Stdout,
    /// A fixed width (tests).
    #[cfg(test)]
    Fixed(u16),
}

impl Width {
    /// Columns a line may take: one less than the terminal's (a line
    /// that fills the last column makes some terminals wrap).
    fn cols(self) -> u16 {
        let w = match self {
            Width::Stdout => crate::sys::term::width(io::stdout()).unwrap_or(80),
            #[cfg(test)]
            Width::Fixed(w) => w,
        };
        w.saturating_sub(1).max(20)
    }
}

/// The layout for a window `cols` wide: everything from 80 columns, no
/// gauge from 56, and below that the share done, bytes and ETA only.
fn layout(cols: u16) -> &'static str {
    match cols {
        80.. => "[{gauge}] {bytes}/{total} {binary_bytes_per_sec:>12}  {honest_eta}  {wide_msg}",
        56..80 => "{bytes}/{total} {binary_bytes_per_sec}  {honest_eta}  {wide_msg}",
        _ => "{share} {bytes} {honest_eta} {wide_msg}",
    }
}

/// The bar and what it shows besides bytes.
pub(super) struct Bar {
    bar: ProgressBar,
    /// Where the bar draws (the summary line goes there too).
    out: Arc<Mutex<TermOut>>,
    /// The file list is complete: the total is known.
    listed: Arc<AtomicBool>,
    /// The terminal's width, and the width the layout was chosen for.
    width: Width,
    fitted: Arc<AtomicU16>,
    /// With a live byte counter: stops the thread that moves the bar.
    live: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
    files_done: u64,
    files_total: u64,
    name: String,
    started: Instant,
}

/// The ETA waits until this much of the copy has been seen.
const ETA_AFTER: Duration = Duration::from_secs(2);

impl Bar {
    pub(super) fn new(out: Box<dyn Write + Send>, width: Width) -> Bar {
        let out = Arc::new(Mutex::new(TermOut(out)));
        let term = Term {
            out: Arc::clone(&out),
            width,
        };
        let bar = ProgressBar::with_draw_target(
            Some(0),
            ProgressDrawTarget::term_like_with_hz(Box::new(term), 10),
        );
        let listed = Arc::new(AtomicBool::new(false));
        let fitted = Arc::new(AtomicU16::new(0));
        refit(&bar, &listed, width, &fitted);
        Bar {
            bar,
            out,
            listed,
            width,
            fitted,
            live: None,
            files_done: 0,
            files_total: 0,
            name: String::new(),
            started: Instant::now(),
        }
    }

    /// The totals so far: entries in the list, bytes to copy.
    pub(super) fn set_totals(&mut self, files: u64, bytes: u64) {
        self.files_total = files;
        self.bar.set_length(bytes);
        self.update_msg();
    }

    /// Whether the file list is complete.
    pub(super) fn set_listed(&self, done: bool) {
        self.listed.store(done, Ordering::Relaxed);
    }

    /// A file's copy is accounted for (`xferred` files so far).
    pub(super) fn file_done(&mut self, xferred: u64) {
        self.files_done = xferred;
        self.update_msg();
    }

    /// The file being copied now.
    pub(super) fn show_name(&mut self, name: &[u8]) {
        self.name = String::from_utf8_lossy(name).into_owned();
        self.update_msg();
    }

    /// `bytes` more were copied (without a live counter).
    pub(super) fn inc(&self, bytes: u64) {
        if self.live.is_none() {
            self.bar.inc(bytes);
        }
    }

    fn update_msg(&self) {
        refit(&self.bar, &self.listed, self.width, &self.fitted);
        self.bar.set_message(format!(
            "files {}/{} {}",
            self.files_done, self.files_total, self.name
        ));
    }

    /// Runs `f` (which writes other output) with the bar hidden.
    pub(super) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// A counter of bytes written that the copy engine adds to as it goes
    /// (from its worker threads); a thread moves the bar from it ten times
    /// a second. `None` if there is one already.
    pub(super) fn live_counter(&mut self) -> Option<Arc<AtomicU64>> {
        if self.live.is_some() {
            return None;
        }
        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, bar) = (Arc::clone(&counter), Arc::clone(&stop), self.bar.clone());
        let (listed, width, fitted) = (
            Arc::clone(&self.listed),
            self.width,
            Arc::clone(&self.fitted),
        );
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                refit(&bar, &listed, width, &fitted);
                bar.set_position(c.load(Ordering::Relaxed));
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.set_position(c.load(Ordering::Relaxed));
        });
        self.live = Some((stop, handle));
        Some(counter)
    }

    /// The end: the bar gives way to a summary line in rsync's progress
    /// format (bytes, share of the total, average rate, time taken, files
    /// copied and listed), which stays.
    pub(super) fn finish(&mut self, human: u8) {
        if let Some((stop, handle)) = self.live.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = handle.join();
        }
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        self.bar.finish_and_clear();
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        let rate = done as f64 / secs / 1024.0;
        let eol = format!(
            " (xfr#{}, to-chk=0/{})\n",
            self.files_done, self.files_total
        );
        let line = progress_line(done, total.max(done), rate, secs, human, &eol);
        if let Ok(mut o) = self.out.lock() {
            let _ = o.0.write_all(line.trim_start_matches('\r').as_bytes());
            let _ = o.0.flush();
        }
    }
}

/// Chooses the layout again if the window's width moved to another one's
/// range since the last choice.
fn refit(bar: &ProgressBar, listed: &Arc<AtomicBool>, width: Width, fitted: &AtomicU16) {
    let cols = width.cols();
    let last = fitted.swap(cols, Ordering::Relaxed);
    if last == 0 || layout(last) != layout(cols) {
        bar.set_style(style(listed, layout(cols)));
    }
}

/// The bar's layout `template`, with the parts that depend on whether the
/// list is complete.
fn style(listed: &Arc<AtomicBool>, template: &str) -> ProgressStyle {
    let (l1, l2, l3, l4) = (
        Arc::clone(listed),
        Arc::clone(listed),
        Arc::clone(listed),
        Arc::clone(listed),
    );
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "share",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&share(s, l4.load(Ordering::Relaxed)));
            },
        )
        .with_key(
            "gauge",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&gauge(s, l1.load(Ordering::Relaxed)));
            },
        )
        .with_key(
            "total",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let plus = if l2.load(Ordering::Relaxed) { "" } else { "+" };
                let _ = write!(w, "{}{plus}", HumanBytes(s.len().unwrap_or(0)));
            },
        )
        .with_key(
            "honest_eta",
            move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&eta(s, l3.load(Ordering::Relaxed)));
            },
        )
}

/// `NN%` of the total, or `..%` while it grows.
fn share(s: &ProgressState, listed: bool) -> String {
    match (listed, s.len().unwrap_or(0)) {
        (false, _) => "..%".to_string(),
        (true, 0) => "100%".to_string(),
        (true, len) => format!("{}%", s.pos().min(len) as u128 * 100 / len as u128),
    }
}

/// Twenty cells of `=` up to a `>`, or `listing` while the total grows.
fn gauge(s: &ProgressState, listed: bool) -> String {
    const CELLS: usize = 20;
    if !listed {
        return format!("{:^CELLS$}", "listing");
    }
    let len = s.len().unwrap_or(0);
    let filled = if len == 0 {
        CELLS
    } else {
        (s.pos().min(len) as u128 * CELLS as u128 / len as u128) as usize
    };
    let mut g = "=".repeat(filled);
    if filled < CELLS {
        g.push('>');
        g.push_str(&" ".repeat(CELLS - filled - 1));
    }
    g
}

/// `ETA H:MM:SS` once it means something (the total known, two seconds
/// of data seen, something moved), `ETA --:--:--` before.
fn eta(s: &ProgressState, listed: bool) -> String {
    if !listed || s.elapsed() < ETA_AFTER || s.pos() == 0 {
        return "ETA --:--:--".to_string();
    }
    let t = s.eta().as_secs();
    format!("ETA {}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// A terminal for indicatif over any writer.
#[derive(Debug)]
struct Term {
    out: Arc<Mutex<TermOut>>,
    width: Width,
}

struct TermOut(Box<dyn Write + Send>);

impl std::fmt::Debug for TermOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TermOut")
    }
}

impl Term {
    fn put(&self, s: &str) -> io::Result<()> {
        let mut o = self.out.lock().map_err(|_| io::Error::other("poisoned"))?;
        o.0.write_all(s.as_bytes())
    }
}

impl TermLike for Term {
    fn width(&self) -> u16 {
        self.width.cols()
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(s)?;
        self.put("\n")
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s)
    }
    /// Clears the line and anything a narrower window wrapped below it.
    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[J")
    }
    fn flush(&self) -> io::Result<()> {
        let mut o = self.out.lock().map_err(|_| io::Error::other("poisoned"))?;
        o.0.flush()
    }
}
