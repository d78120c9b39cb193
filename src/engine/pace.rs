//! The run's pace: `--bwlimit` (bytes per second over all lanes),
//! `--timeout` (a copy that moves no byte for that long ends the run) and
//! `--stop-after`/`--stop-at` (copying stops at a moment).
//!
//! Every lane reports the bytes it moves to one shared [`Pace`]; a lane
//! ahead of the rate sleeps until the total is due (its thread's other
//! lanes wait with it, which is what a global limit wants). A watchdog
//! thread handles the two clocks: at the stop moment it raises the run's
//! abort flag (the lanes discard their unfinished files, as on a signal)
//! and records why, so the run ends with rsync's code 30; when a copy is in
//! flight and nothing moved for `--timeout` seconds (a hung network
//! mount: the stuck syscall cannot be cancelled), it prints rsync's
//! timeout message and exits 30 at once. Unfinished files are temp files,
//! never under a final name.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Why the run was stopped by the clock: read by the run's end.
static STOPPED_AT_LIMIT: AtomicBool = AtomicBool::new(false);

/// Whether `--stop-after`/`--stop-at` stopped the run.
pub(crate) fn stopped_at_limit() -> bool {
    STOPPED_AT_LIMIT.load(Ordering::Relaxed)
}

/// Shared by every lane of a run.
#[derive(Debug)]
pub(crate) struct Pace {
    start: Instant,
    /// `--bwlimit` in bytes per second.
    rate: Option<u64>,
    /// Bytes moved by all lanes so far.
    moved: AtomicU64,
    /// Copies in flight.
    busy: AtomicUsize,
}

/// Marks one copy in flight while it lives.
pub(crate) struct Busy<'a>(&'a Pace);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pace {
    pub(crate) fn new(rate: Option<u64>) -> Pace {
        Pace {
            start: Instant::now(),
            rate: rate.filter(|&r| r > 0),
            moved: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
        }
    }

    /// The largest piece a lane should move at once: small enough that the
    /// limit is smooth over any second.
    pub(crate) fn chunk(&self, chunk: usize) -> usize {
        match self.rate {
            Some(r) => chunk.min((r / 8).max(4096) as usize),
            None => chunk,
        }
    }

    /// Whether `--bwlimit` paces the copies.
    pub(crate) fn limited(&self) -> bool {
        self.rate.is_some()
    }

    pub(crate) fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }

    /// Counts `n` moved bytes; under `--bwlimit`, waits until they are due.
    pub(crate) fn moved(&self, n: u64) {
        let total = self.moved.fetch_add(n, Ordering::Relaxed) + n;
        let Some(rate) = self.rate else { return };
        let due = self.start + Duration::from_secs_f64(total as f64 / rate as f64);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }

    /// Starts the watchdog when `--timeout` or a stop moment asks for one.
    pub(crate) fn watch(
        self: &Arc<Self>,
        timeout: u64,
        stop_at: Option<SystemTime>,
        abort: Arc<AtomicBool>,
        name: String,
    ) {
        if timeout == 0 && stop_at.is_none() {
            return;
        }
        let pace = Arc::clone(self);
        let _ = std::thread::Builder::new()
            .name("arsync-watchdog".into())
            .spawn(move || pace.watchdog(timeout, stop_at, &abort, &name));
    }

    fn watchdog(&self, timeout: u64, stop_at: Option<SystemTime>, abort: &AtomicBool, name: &str) {
        let mut last = (self.moved.load(Ordering::Relaxed), Instant::now());
        loop {
            std::thread::sleep(Duration::from_millis(250));
            if stop_at.is_some_and(|t| SystemTime::now() >= t) {
                STOPPED_AT_LIMIT.store(true, Ordering::Relaxed);
                abort.store(true, Ordering::Relaxed);
                return;
            }
            let moved = self.moved.load(Ordering::Relaxed);
            if moved != last.0 || self.busy.load(Ordering::Relaxed) == 0 {
                last = (moved, Instant::now());
            } else if timeout > 0 && last.1.elapsed() >= Duration::from_secs(timeout) {
                timed_out(timeout, name);
            }
        }
    }
}

/// rsync's timeout lines; exits 30 (a stuck syscall cannot be unwound).
fn timed_out(timeout: u64, name: &str) -> ! {
    use std::io::Write;
    let code = crate::exit::ExitCode::Timeout;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "[sender] io timeout after {timeout} seconds -- exiting"
    );
    let _ = writeln!(err, "{}", crate::final_line!(name, code));
    let _ = err.flush();
    std::process::exit(code.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_the_rate() {
        let pace = Pace::new(Some(1 << 20));
        let t = Instant::now();
        for _ in 0..8 {
            pace.moved(64 << 10);
        }
        let secs = t.elapsed().as_secs_f64();
        assert!(
            (0.45..0.7).contains(&secs),
            "512 KiB at 1 MiB/s took {secs}"
        );
        assert_eq!(pace.chunk(1 << 20), 128 << 10);
        assert_eq!(Pace::new(None).chunk(1 << 20), 1 << 20);
    }

    #[test]
    fn busy_counts_copies_in_flight() {
        let pace = Pace::new(None);
        let a = pace.busy();
        let b = pace.busy();
        assert_eq!(pace.busy.load(Ordering::Relaxed), 2);
        drop((a, b));
        assert_eq!(pace.busy.load(Ordering::Relaxed), 0);
    }
}
