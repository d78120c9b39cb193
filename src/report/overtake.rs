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
//! - without incremental recursion, once after its first entry (and what
//!   it deletes in it), as its first check of the socket finds nothing
//!   written for a while;
//! - with incremental recursion, once at the end of the first list (the
//!   top level), when it waits for the sender's next sub-list (the most
//!   frequent form: at `-vv` a message said during the top level can let
//!   the generator read the sub-lists early and skip that flush);
//! - at the end of its list, before `total:` and `--delete-after`'s lines.
//!
//! What the receiving side says about a file it got (`backed up`, `sender
//! removed`) reaches the sender once it has sent the files of a flush: a
//! flush's replies follow all its item lines.
//!
//! Below protocol 29 the old order applies instead (`OldProtocol`). With
//! progress the lines go as they are (a copy's progress shows while it
//! runs; holding it back would hide it).

use super::{Line, Report, SOURCE_REMOVED};

/// The sender's lines held back until the generator's next flush.
#[derive(Debug, Default)]
pub(super) struct Overtake {
    /// Protocol 29 and up, no progress.
    on: bool,
    /// Incremental recursion: the first flush ends the top level.
    inc_recurse: bool,
    /// The first flush is asked for (it is in the queue).
    flush_asked: bool,
    /// Entries the generator began so far.
    begun: u64,
    /// The generator's last flush is done: lines go out as they come.
    done: bool,
    /// Sender lines waiting for the next flush.
    waiting: Vec<Line>,
    /// Replies to them, which follow them.
    replies: Vec<Line>,
}

impl Overtake {
    pub(super) fn new(on: bool, inc_recurse: bool) -> Overtake {
        Overtake {
            on,
            inc_recurse,
            ..Overtake::default()
        }
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
    /// receiver's stdout notes apart: they follow the flush's item lines.
    pub(super) fn transfer_side(&self, lines: Vec<Line>) -> Vec<Line> {
        if !self.overtake.on {
            return lines;
        }
        let (replies, items): (Vec<Line>, Vec<Line>) = lines.into_iter().partition(|l| {
            matches!(l, Line::Out(_))
                || matches!(l, Line::Sender { line, .. } if line.starts_with(SOURCE_REMOVED.as_bytes()))
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
        let o = &mut self.overtake;
        if !o.on || o.flush_asked {
            return;
        }
        let flush = match o.inc_recurse {
            // The top level ends with its first directory to go into.
            true => descends,
            // Its first entry is done (with what it deleted in it).
            false => o.begun > 0,
        };
        o.begun += 1;
        if flush {
            o.flush_asked = true;
            self.push(Line::SenderFlush);
        }
    }

    /// Writes a held group of sender lines, or keeps it for the flush.
    pub(super) fn write_held(&mut self, lines: Vec<Line>) {
        if self.overtake.holding() {
            self.overtake.waiting.extend(lines);
            return;
        }
        for l in lines {
            self.write_line(l);
        }
    }

    /// Writes a reply to held lines, or keeps it until they are out.
    pub(super) fn write_reply(&mut self, lines: Vec<Line>) {
        if self.overtake.holding() {
            self.overtake.replies.extend(lines);
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
