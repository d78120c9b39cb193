//! argv → option occurrences and operands, lexed once for everyone.
//!
//! The grammar is popt's, as rsync uses it: short bundles (`-avn`), a short
//! option's value attached or in the next word (`-T/tmp`, `-T /tmp`), long
//! options with `=VALUE` or a separate word, no abbreviations, options and
//! operands in any order, `--` ending options.
//!
//! Two consumers read the result: the hand-over decision (`fallback`), which
//! must see the whole command line even past a malformed word (a remote
//! operand after an unknown option still goes to rsync), and the parser,
//! which applies the occurrences before the first malformed word and then
//! reports it with popt's wording (so an earlier `--help` still wins).

use std::ffi::{OsStr, OsString};
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;

use super::UsageError;
use super::spec::{self, Arg, Name, Spec};

/// One option occurrence, in command-line order.
#[derive(Debug)]
pub(crate) struct Event {
    pub spec: &'static Spec,
    pub name: &'static Name,
    /// The word as typed, for error messages.
    pub token: String,
    pub value: Option<OsString>,
    /// Whether the value was typed in the same word as the option
    /// (popt names the whole word in "invalid numeric value" then).
    pub attached: bool,
    /// The argv words (indices, program name excluded) this occurrence
    /// was read from; a bundle's letters share their word.
    pub words: Range<usize>,
}

impl Event {
    /// `--no-perms` and the like.
    pub(crate) fn negated(&self) -> bool {
        self.name.negates
    }
}

/// The lexed command line.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    pub events: Vec<Event>,
    pub operands: Vec<OsString>,
    /// The first malformed word: how many events came before it, and
    /// popt's message for it.
    pub error: Option<(usize, UsageError)>,
}

impl Lexed {
    /// The occurrences before the first malformed word.
    pub(crate) fn valid_events(&self) -> &[Event] {
        let end = self.error.as_ref().map_or(self.events.len(), |e| e.0);
        &self.events[..end]
    }

    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some((self.events.len(), UsageError(msg)));
        }
    }
}

pub(crate) fn lossy(s: &OsStr) -> String {
    String::from_utf8_lossy(s.as_bytes()).into_owned()
}

/// Splits argv (without the program name) into option occurrences and
/// operands.
pub(crate) fn lex(args: &[OsString]) -> Lexed {
    let mut out = Lexed::default();
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let arg = &args[i];
        let bytes = arg.as_bytes();
        if only_operands || bytes.len() < 2 || bytes[0] != b'-' {
            out.operands.push(arg.clone());
            i += 1;
        } else if bytes == b"--" {
            only_operands = true;
            i += 1;
        } else if let Some(rest) = bytes.strip_prefix(b"--") {
            i = long(args, i, rest, &mut out);
        } else {
            i = bundle(args, i, &mut out);
        }
    }
    out
}

/// A value in the next word, if there is one: `(value, next index)`.
fn next_word(args: &[OsString], i: usize) -> (Option<OsString>, usize) {
    match args.get(i) {
        Some(v) => (Some(v.clone()), i + 1),
        None => (None, i),
    }
}

/// Lexes `--name[=value]` at `args[i]`; returns the next index.
fn long(args: &[OsString], i: usize, rest: &[u8], out: &mut Lexed) -> usize {
    let token = lossy(&args[i]);
    let (name, inline) = match rest.iter().position(|&b| b == b'=') {
        Some(p) => (&rest[..p], Some(OsStr::from_bytes(&rest[p + 1..]))),
        None => (rest, None),
    };
    let Some((spec, name)) = std::str::from_utf8(name).ok().and_then(spec::by_long) else {
        out.fail(format!("{token}: unknown option"));
        return i + 1;
    };
    let (value, attached, next) = match (name.arg, inline) {
        (Arg::None, Some(_)) => {
            out.fail(format!("{token}: option does not take an argument"));
            (None, false, i + 1)
        }
        (Arg::None, None) => (None, false, i + 1),
        (_, Some(v)) => (Some(v.to_os_string()), true, i + 1),
        (_, None) => {
            let (v, next) = next_word(args, i + 1);
            if v.is_none() {
                out.fail(format!("{token}: missing argument"));
            }
            (v, false, next)
        }
    };
    out.events.push(Event {
        spec,
        name,
        token,
        value,
        attached,
        words: i..next,
    });
    next
}

/// Lexes a bundle of short options at `args[i]`; returns the next index.
fn bundle(args: &[OsString], i: usize, out: &mut Lexed) -> usize {
    let bytes = args[i].as_bytes();
    let token = lossy(&args[i]);
    for (j, &b) in bytes.iter().enumerate().skip(1) {
        let found = if b.is_ascii() {
            spec::by_short(b as char)
        } else {
            None
        };
        let Some((spec, name)) = found else {
            out.fail(format!("{token}: unknown option"));
            continue;
        };
        let mut ev = Event {
            spec,
            name,
            token: token.clone(),
            value: None,
            attached: false,
            words: i..i + 1,
        };
        if name.arg == Arg::None {
            out.events.push(ev);
            continue;
        }
        let mut next = i + 1;
        if j + 1 < bytes.len() {
            ev.value = Some(OsStr::from_bytes(&bytes[j + 1..]).to_os_string());
            ev.attached = true;
        } else {
            (ev.value, next) = next_word(args, i + 1);
            if ev.value.is_none() {
                out.fail(format!("{token}: missing argument"));
            }
        }
        ev.words = i..next;
        out.events.push(ev);
        return next;
    }
    i + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexed(s: &[&str]) -> Lexed {
        lex(&s.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn words_and_values() {
        let l = lexed(&["-avT", "/tmp", "s", "--temp-dir=x", "d", "--", "-v"]);
        let names: Vec<_> = l.events.iter().map(|e| e.token.as_str()).collect();
        assert_eq!(names, ["-avT", "-avT", "-avT", "--temp-dir=x"]);
        assert_eq!(l.events[2].value.as_deref(), Some(OsStr::new("/tmp")));
        assert_eq!(l.events[2].words, 0..2);
        assert!(l.events[3].attached);
        assert_eq!(l.operands, ["s", "d", "-v"]);
        assert!(l.error.is_none());
    }

    #[test]
    fn errors_keep_lexing_for_the_hand_over() {
        let l = lexed(&["-v", "--bogus", "host:x", "-r", "d"]);
        let (at, e) = l.error.as_ref().expect("an error");
        assert_eq!((*at, e.0.as_str()), (1, "--bogus: unknown option"));
        assert_eq!(l.valid_events().len(), 1);
        assert_eq!(l.events.len(), 2, "-r after the error is still seen");
        assert_eq!(l.operands, ["host:x", "d"]);
        let l = lexed(&["-aQv"]);
        assert_eq!(l.error.as_ref().map(|e| e.0), Some(1));
        assert_eq!(l.events.len(), 2);
    }

    #[test]
    fn negations_are_marked() {
        let l = lexed(&["--no-perms", "--perms"]);
        assert!(l.events[0].negated() && !l.events[1].negated());
        assert_eq!(l.events[0].spec.id, l.events[1].spec.id);
    }
}
