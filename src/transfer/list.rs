//! `--list-only` (and the one-argument form `arsync SRC`): the file list
//! is printed instead of transferred, one `ls -l`-like line per entry in
//! rsync's format and file-list order; nothing at the destination is
//! looked at.

use crate::exit::ExitCode;
use crate::report::format::{permstring, timestring};
use crate::report::{Event, Slot};
use crate::sys::Kind;
use crate::walk::{Entry, TopLevel, Walker};

use super::Setup;

impl Setup<'_> {
    /// The rest of a list-only run, after the sources are resolved (and
    /// the file-list header printed): the listing, then the summary.
    pub(super) fn run_list(
        &mut self,
        walker: &mut Walker,
        top: &TopLevel,
        flist_slot: Option<Slot>,
    ) -> ExitCode {
        self.report.event(Event::Delta { enabled: false });
        self.list_only(walker, top);
        self.report.transfers_done();
        self.report.list_complete();
        if let Some(slot) = flist_slot {
            self.report.flist_done(self.opts.info_flist(), Some(slot));
        }
        self.flow.end_run(self.report, None)
    }

    /// Lists the resolved sources: the `.` entry, then each entry with a
    /// directory's own listing after its line when recursing.
    pub(super) fn list_only(&mut self, walker: &mut Walker, top: &TopLevel) {
        match &top.dot {
            Some(dot) => {
                self.report.count_listed(dot);
                if !dot.implied() || self.opts.implied_dirs {
                    self.list_line(dot);
                }
            }
            None => self.report.count_pruned(top.pruned_lead),
        }
        self.list_entries(walker, &top.entries);
    }

    fn list_entries(&mut self, walker: &mut Walker, entries: &[Entry]) {
        for e in entries {
            if self.flow.stopping() {
                return;
            }
            self.report.count_listed(e);
            // Implied directories are in the list but not shown under
            // --no-implied-dirs.
            if !e.implied() || self.opts.implied_dirs {
                self.list_line(e);
            }
            if e.is_dir() && (self.opts.recursive() || e.preset().is_some()) {
                let children = walker.list(e);
                self.flow.forward(self.report, walker);
                self.list_entries(walker, &children);
            }
            self.report.count_pruned(e.pruned_after());
        }
    }

    /// rsync's `list_file_entry()`: mode string, size (width 14, or 11
    /// with `--no-h`), modification time, name, and ` -> TARGET` for a
    /// symlink when links are preserved.
    fn list_line(&mut self, e: &Entry) {
        let human = self.opts.human_readable;
        let size_width = if human > 0 { 14 } else { 11 };
        let mut line = if e.is_missing() {
            let width = 10 + 1 + size_width + 1 + 19;
            format!("{:<width$} ", "*missing").into_bytes()
        } else {
            let perms = permstring(e.stat.mode);
            let perms = String::from_utf8_lossy(&perms);
            let size = crate::text::do_big_num(e.stat.size as i64, human);
            let time = timestring(e.stat.mtime);
            format!("{perms} {size:>size_width$} {time} ").into_bytes()
        };
        // Named as the receiving side holds it (`--iconv`: converted).
        line.extend_from_slice(&e.name);
        if e.kind() == Kind::Symlink
            && self.opts.links
            && let Some(t) = e.link()
        {
            line.extend_from_slice(b" -> ");
            line.extend_from_slice(t);
        }
        self.report.list_entry(&e.name, &line);
    }
}
