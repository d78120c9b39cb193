//! Progress while a file is still being copied (`--progress`, `-P` off a
//! terminal): rsync prints a file's name and then a progress line about
//! once a second while its data moves, not only when it is done.
//!
//! The engine adds each file's written bytes to a counter of its own
//! ([`Report::watch`] hands it out). Lines leave in file-list order, so
//! only the file whose slot is next to be written can show progress: the
//! driver calls [`Report::tick`] while it waits on the engine, which
//! starts that file's lines (its name line, then rsync's progress lines
//! from the counter) once the file list reaches as far as rsync's would.
//! When the copy completes, its slot's lines carry on from what is on the
//! screen already ([`Report::resumed`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{ItemRec, Line, Report, Slot};

/// A copy whose progress may be shown while it runs.
pub(super) struct Watched {
    rec: ItemRec,
    /// The file's bytes written so far (rsync's text only).
    counter: Option<Arc<AtomicU64>>,
    /// Bytes shown so far, once its lines have started.
    shown: Option<u64>,
}

/// The copies being watched, by slot.
pub(super) type Watching = HashMap<u64, Watched>;

impl Report {
    /// Watches the copy in `slot` (item `rec`) when progress is on; with
    /// rsync's text, returns a counter for the engine to add the file's
    /// bytes to (the bar has one counter for all files).
    pub(crate) fn watch(&mut self, slot: Slot, rec: &ItemRec) -> Option<Arc<AtomicU64>> {
        // (Below protocol 29 the sender's lines wait for the end.)
        if !self.progress.is_on() || self.old.on {
            return None;
        }
        let counter = self.progress.is_text().then(|| Arc::new(AtomicU64::new(0)));
        let w = Watched {
            rec: rec.clone(),
            counter: counter.clone(),
            shown: None,
        };
        self.watching.insert(slot.0, w);
        counter
    }

    /// Shows the progress of the copy whose lines are next, if it is being
    /// watched: its first lines when the file list allows, then what its
    /// counter says.
    pub(crate) fn tick(&mut self) {
        if !matches!(self.queue.front(), Some(None)) {
            return;
        }
        let Some(mut w) = self.watching.remove(&self.base) else {
            return;
        };
        let Some(counter) = w.counter.clone() else {
            // The bar: it names the file being copied.
            if w.shown.is_none() {
                self.progress.show_name(&w.rec.name);
                w.shown = Some(0);
            }
            self.watching.insert(self.base, w);
            return;
        };
        if w.shown.is_none() && self.xfer_ready(w.rec.index) {
            for l in self.lines_before_data(&w.rec) {
                self.write_line(l);
            }
            self.begin_xfer(&w.rec.name, w.rec.stat.size, w.rec.index);
            w.shown = Some(0);
        }
        if let Some(shown) = w.shown {
            let now = counter.load(Ordering::Relaxed).min(w.rec.stat.size);
            self.progress.advance(now.saturating_sub(shown));
            w.shown = Some(now.max(shown));
        }
        self.watching.insert(self.base, w);
        let _ = std::io::Write::flush(&mut self.out);
    }

    /// For a copy that completed: the bytes its progress showed already,
    /// if its lines started (they are not written again).
    pub(super) fn resumed(&mut self, slot: Slot) -> Option<u64> {
        let w = self.watching.remove(&slot.0)?;
        w.counter.and(w.shown)
    }

    /// The lines rsync writes before a file's data: its item line when
    /// it is logged before the transfer, or its name under `-v` when the
    /// item line comes after (a format with `%b`/`%c`/`%C`).
    pub(super) fn lines_before_data(&self, rec: &ItemRec) -> Vec<Line> {
        let mut lines = Vec::new();
        if self.log_before {
            let v = self.view(rec);
            if let Some(l) = self.stdout_line(&v) {
                lines.push(Line::Sender {
                    key: rec.name.clone(),
                    line: l,
                });
            }
        } else if self.progress.is_on() && self.verbose > 0 {
            let name = super::format::escape_output(&rec.name, self.utf8, self.eight_bit);
            lines.push(Line::Sender {
                key: rec.name.clone(),
                line: name,
            });
        }
        lines
    }
}
