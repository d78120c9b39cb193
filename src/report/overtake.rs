//! The generator's messages overtake the sender's lines (protocol 29 and
//! up): the order in which rsync's two printing sides meet on stdout.
//!
//! In a local rsync the sender prints the item lines (a transferred
//! file's name, `./`, a new directory, `-i`'s lines, its `sender removed`
//! notes, and what the receiver says about a file it got), while the
//! generator prints its own messages (`X is uptodate`, a name whose
//! attributes alone changed at `-vv`, `deleting X`, `cannot delete
//! non-empty directory`, ...). The generator's item data to the sender
//! is buffered, its messages go out at once: the messages overtake the
//! item lines, which the sender prints only once the generator flushes
//! that buffer. Measured with rsync 3.5.0 (small trees, where the buffer
//! never fills), the generator flushes:
//!
//! - without incremental recursion, after every 200th entry (file-list
//!   index 0, 200, 400, ..., with what it deleted in it), where it checks
//!   its socket;
//! - with incremental recursion, at the end of the first list (the top
//!   level), when it waits for the sender's next sub-list (the most
//!   frequent form: at `-vv` a message said during the top level can let
//!   the generator read the sub-lists early and skip that flush), and
//!   when it runs out of the sub-lists the sender sent at once (those
//!   that start before 1000 entries past the top level are listed,
//!   rsync's lookahead);
//!   later batches depend on how fast the sender goes: measured up to
//!   1800 entries, the rest came in one;
//! - with incremental recursion and `-H`, after its first entry instead
//!   of at the end of the top level;
//! - at the end of its list, before `total:` and `--delete-after`'s lines.
//!
//! What the receiving side says about a file it got (`backed up`, `sender
//! removed`) reaches the sender once it has sent the files of a flush: a
//! flush's replies follow all its item lines.
//!
//! Below protocol 29 the old order applies instead (`OldProtocol`). With
//! progress the lines go as they are: rsync's progress is the sender's and
//! follows the same order, but arsync's copies run while the list is still
//! being walked, and holding their lines back would hide a big copy's
//! progress until the end (`tests/progress_live.rs`).

use super::{Line, Report, SOURCE_REMOVED};

/// rsync's generator checks its socket every this many entries.
const LOOP_CHECK: u64 = 200;

/// rsync's sender sends sub-lists at once until this many entries are
/// listed (`MIN_FILECNT_LOOKAHEAD`).
const LOOKAHEAD: u64 = 1000;

/// When the generator flushes (see the module doc).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flushes {
    /// Without incremental recursion: every [`LOOP_CHECK`] entries.
    #[default]
    EveryLoopCheck,
    /// Incremental recursion: at the end of the top level.
    TopLevel,
    /// Incremental recursion with `-H`: after the first entry.
    FirstEntry,
}

/// The sender's lines held back until the generator's next flush.
#[derive(Debug, Default)]
pub(super) struct Overtake {
    /// Protocol 29 and up, no progress.
    on: bool,
    rule: Flushes,
    /// The file-list index of the entry the generator began last.
    prev: Option<u64>,
    /// The next index at which the generator checks its socket.
    next_check: u64,
    /// The first flush of incremental recursion is asked for.
    first_asked: bool,
    /// The flush at the end of the sender's lookahead is asked for.
    ahead_asked: bool,
    /// The entries of the top level (counted when the first directory
    /// is entered).
    top: Option<u64>,
    /// The generator's last flush is done: lines go out as they come.
    done: bool,
    /// Sender lines waiting for the next flush.
    waiting: Vec<Line>,
    /// Replies to them, which follow them.
    replies: Vec<Line>,
}

impl Overtake {
    pub(super) fn new(on: bool, inc_recurse: bool, hard_links: bool) -> Overtake {
        let rule = match (inc_recurse, hard_links) {
            (false, _) => Flushes::EveryLoopCheck,
            (true, false) => Flushes::TopLevel,
            (true, true) => Flushes::FirstEntry,
        };
        Overtake {
            on,
            rule,
            ..Overtake::default()
        }
    }

    /// Whether the generator flushes before it begins the entry at index
    /// `ndx` (`descends`: a directory whose contents follow) with
    /// `listed` entries listed so far.
    fn flushes_before(&mut self, ndx: u64, descends: bool, listed: u64) -> bool {
        let prev = self.prev.replace(ndx);
        let mut flush = false;
        if descends && self.top.is_none() {
            self.top = Some(listed);
        }
        // The sender sends sub-lists at once until it has this many
        // entries listed (once the top level is done, it counts no more).
        let ahead = self.top.unwrap_or(0) + LOOKAHEAD;
        match self.rule {
            Flushes::EveryLoopCheck => {
                if let Some(p) = prev.filter(|&p| p >= self.next_check) {
                    self.next_check = (p / LOOP_CHECK + 1) * LOOP_CHECK;
                    flush = true;
                }
                return flush;
            }
            Flushes::TopLevel if descends && !self.first_asked => {
                self.first_asked = true;
                return true;
            }
            Flushes::FirstEntry if prev.is_some() && !self.first_asked => {
                self.first_asked = true;
                flush = true;
            }
            _ => {}
        }
        if descends && !self.ahead_asked && listed >= ahead {
            self.ahead_asked = true;
            flush = true;
        }
        flush
    }

    fn holding(&self) -> bool {
        self.on && !self.done
    }
}

impl Report {
    /// Marks `lines` as the sender's (see the module doc): they wait for
    /// the generator's next flush.
    pub(super) fn sender_side(&self, lines: Vec<Line>) -> Vec<Line> {
        match self.overtake.on && !lines.is_empty() {
            true => vec![Line::Held(lines)],
            false => lines,
        }
    }

    /// A transferred file's lines (see [`Report::sender_side`]), its
    /// receiver's notes apart (stdout and log): they follow the flush's
    /// item lines.
    pub(super) fn transfer_side(&self, lines: Vec<Line>) -> Vec<Line> {
        if !self.overtake.on {
            return lines;
        }
        let removed = |line: &[u8]| line.starts_with(SOURCE_REMOVED.as_bytes());
        let (replies, items): (Vec<Line>, Vec<Line>) = lines.into_iter().partition(|l| match l {
            Line::Out(_) | Line::Log(_) => true,
            Line::Sender { line, .. } | Line::SenderLog { line, .. } => removed(line),
            _ => false,
        });
        let mut held = self.sender_side(items);
        if !replies.is_empty() {
            held.push(Line::Reply(replies));
        }
        held
    }

    /// The generator is about to handle its next entry (`descends`: a
    /// directory whose contents follow): where its first flush falls.
    pub(crate) fn generator_next(&mut self, descends: bool) {
        if !self.overtake.on {
            return;
        }
        let (ndx, listed) = (self.entry_index, self.stats.num_files);
        if self.overtake.flushes_before(ndx, descends, listed) {
            self.push(Line::SenderFlush);
        }
    }

    /// Writes a held group of sender lines (`reply`: a reply to them),
    /// or keeps it for the flush (replies after the flush's lines).
    pub(super) fn write_held(&mut self, lines: Vec<Line>, reply: bool) {
        if self.overtake.holding() {
            let kept = match reply {
                true => &mut self.overtake.replies,
                false => &mut self.overtake.waiting,
            };
            kept.extend(lines);
            return;
        }
        for l in lines {
            self.write_line(l);
        }
    }

    /// The generator flushed: the sender's waiting lines go out; `last`:
    /// its last flush, later lines go out as they come.
    pub(super) fn release_sender(&mut self, last: bool) {
        if last {
            self.overtake.done = true;
        }
        let replies = std::mem::take(&mut self.overtake.replies);
        for l in std::mem::take(&mut self.overtake.waiting) {
            self.write_line(l);
        }
        for l in replies {
            self.write_line(l);
        }
    }

    /// Whether [`Line::SenderDone`] is needed for this order.
    pub(super) fn overtake_on(&self) -> bool {
        self.overtake.on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries (index, descends, listed) before which a flush comes.
    fn flushes(o: &mut Overtake, entries: &[(u64, bool, u64)]) -> Vec<u64> {
        entries
            .iter()
            .filter(|&&(ndx, descends, listed)| o.flushes_before(ndx, descends, listed))
            .map(|e| e.0)
            .collect()
    }

    #[test]
    fn without_incremental_recursion_every_200_entries() {
        let mut o = Overtake::new(true, false, false);
        let entries: Vec<_> = (0..=450).map(|i| (i, false, 451)).collect();
        assert_eq!(flushes(&mut o, &entries), vec![1, 201, 401]);
    }

    #[test]
    fn incremental_recursion_at_the_top_level_and_the_lookahead() {
        // The top level: `.`, two files, then 41 directories of 25.
        let mut o = Overtake::new(true, true, false);
        let mut entries = vec![(0, false, 44), (1, false, 44), (2, false, 44)];
        for d in 0..41 {
            entries.push((3 + d, true, 44 + 25 * d));
        }
        // The first directory, then the one past 1000 beyond the top level.
        assert_eq!(flushes(&mut o, &entries), vec![3, 3 + 40]);
    }

    #[test]
    fn hard_links_flush_after_the_first_entry() {
        let mut o = Overtake::new(true, true, true);
        let entries = [(0, false, 4), (1, false, 4), (2, true, 4), (3, true, 14)];
        assert_eq!(flushes(&mut o, &entries), vec![1]);
    }
}
