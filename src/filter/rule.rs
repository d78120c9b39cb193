//! rule.rs — parses one filter rule token (`RULE[,MODIFIERS] PATTERN`, the
//! old-style `- `/`+ ` forms and the prefix-less forms of `merge,-`/`:C`
//! files) into flags and a pattern, with rsync's error classes.
//!
//! The grammar follows rsync's `parse_rule_tok()` closely, including its
//! odd corners (a tab after a long rule name is a modifier, `clear,x` has
//! "trailing characters", `_` ends the modifier list), because real rsync
//! is the specification and scripts in the wild depend on those corners.

/// A set of rule flags (rsync's `FILTRULE_*` bits that arsync needs).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct Flags(u32);

impl Flags {
    pub(super) const NONE: Flags = Flags(0);
    /// `+`: an include (show/risk) rather than an exclude.
    pub(super) const INCLUDE: Flags = Flags(1);
    /// `/` modifier, or an anchored rule of a per-directory file: match
    /// against the absolute path.
    pub(super) const ABS_PATH: Flags = Flags(1 << 1);
    /// `!` modifier: the rule takes effect when the pattern does not match.
    pub(super) const NEGATE: Flags = Flags(1 << 2);
    /// Trailing `/` on the pattern: directories only.
    pub(super) const DIRECTORY: Flags = Flags(1 << 3);
    /// `p`: ignored inside directories that are being deleted.
    pub(super) const PERISHABLE: Flags = Flags(1 << 4);
    /// `x`: an xattr-name rule; never matches a file name.
    pub(super) const XATTR: Flags = Flags(1 << 5);
    /// `s` (or hide/show): sender side.
    pub(super) const SENDER: Flags = Flags(1 << 6);
    /// `r` (or protect/risk): receiver side.
    pub(super) const RECEIVER: Flags = Flags(1 << 7);
    /// `.` or `:`.
    pub(super) const MERGE_FILE: Flags = Flags(1 << 8);
    /// `:` (per-directory merge file).
    pub(super) const PERDIR_MERGE: Flags = Flags(1 << 9);
    /// merge `-`/`+`/`C`: the file holds bare patterns.
    pub(super) const NO_PREFIXES: Flags = Flags(1 << 10);
    /// merge `w`/`C`: split the file on whitespace, not lines.
    pub(super) const WORD_SPLIT: Flags = Flags(1 << 11);
    /// merge `n`/`C`: subdirectories do not inherit the rules.
    pub(super) const NO_INHERIT: Flags = Flags(1 << 12);
    /// merge `e`: also exclude the merge file itself.
    pub(super) const EXCLUDE_SELF: Flags = Flags(1 << 13);
    /// `C`: CVS handling (as a rule: insert the global CVS list here).
    pub(super) const CVS_IGNORE: Flags = Flags(1 << 14);
    /// `!`/`clear`: clear the current list.
    pub(super) const CLEAR_LIST: Flags = Flags(1 << 15);

    /// What a rule read from a merge file inherits from the merge rule.
    pub(super) const FROM_CONTAINER: Flags = Flags(
        Flags::ABS_PATH.0
            | Flags::INCLUDE.0
            | Flags::DIRECTORY.0
            | Flags::NEGATE.0
            | Flags::PERISHABLE.0,
    );
    pub(super) const SIDES: Flags = Flags(Flags::SENDER.0 | Flags::RECEIVER.0);

    pub(super) fn has(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }

    pub(super) fn set(&mut self, f: Flags) {
        self.0 |= f.0;
    }

    pub(super) fn unset(&mut self, f: Flags) {
        self.0 &= !f.0;
    }

    pub(super) fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }

    pub(super) fn only(self, f: Flags) -> Flags {
        Flags(self.0 & f.0)
    }
}

impl std::fmt::Debug for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: &[(Flags, &str)] = &[
            (Flags::INCLUDE, "INCLUDE"),
            (Flags::ABS_PATH, "ABS_PATH"),
            (Flags::NEGATE, "NEGATE"),
            (Flags::DIRECTORY, "DIRECTORY"),
            (Flags::PERISHABLE, "PERISHABLE"),
            (Flags::XATTR, "XATTR"),
            (Flags::SENDER, "SENDER"),
            (Flags::RECEIVER, "RECEIVER"),
            (Flags::MERGE_FILE, "MERGE_FILE"),
            (Flags::PERDIR_MERGE, "PERDIR_MERGE"),
            (Flags::NO_PREFIXES, "NO_PREFIXES"),
            (Flags::WORD_SPLIT, "WORD_SPLIT"),
            (Flags::NO_INHERIT, "NO_INHERIT"),
            (Flags::EXCLUDE_SELF, "EXCLUDE_SELF"),
            (Flags::CVS_IGNORE, "CVS_IGNORE"),
            (Flags::CLEAR_LIST, "CLEAR_LIST"),
        ];
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(fl, _)| self.has(*fl))
            .map(|(_, n)| *n)
            .collect();
        write!(f, "Flags({})", names.join("|"))
    }
}

/// Why a rule token was refused; the message text depends on where the
/// rule came from (see `mod.rs`, `Source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParseErrorKind {
    /// `Unknown filter rule: …`
    Unknown,
    /// `invalid modifier 'C' at position N in filter rule: …`; `pos` counts
    /// from the start of the rule.
    InvalidModifier { ch: u8, pos: usize },
    /// `'!' rule has trailing characters: …`
    TrailingChars,
    /// `unexpected end of filter rule: …`
    UnexpectedEnd,
    /// `specified-side merge file contains specified-side filter: …`
    SpecifiedSide,
}

impl ParseErrorKind {
    /// The message for a rule from the command line (`rule` is the rule
    /// text from its start to the end of the argument).
    pub(super) fn message(self, rule: &str) -> String {
        match self {
            ParseErrorKind::Unknown => format!("Unknown filter rule: {rule}"),
            ParseErrorKind::InvalidModifier { ch, pos } => format!(
                "invalid modifier '{}' at position {pos} in filter rule: {rule}",
                crate::text::escape_name(&[ch], crate::text::locale_is_utf8())
            ),
            ParseErrorKind::TrailingChars => format!("'!' rule has trailing characters: {rule}"),
            ParseErrorKind::UnexpectedEnd => format!("unexpected end of filter rule: {rule}"),
            ParseErrorKind::SpecifiedSide => {
                format!("specified-side merge file contains specified-side filter: {rule}")
            }
        }
    }

    /// The message for a rule read from a file: rsync 3.5 names the file
    /// and line instead of quoting the rule, and drops the modifier detail.
    pub(super) fn message_from_file(self, origin: &str) -> String {
        match self {
            ParseErrorKind::InvalidModifier { .. } => {
                format!("invalid modifier in filter rule: {origin}")
            }
            other => other.message(origin),
        }
    }
}

/// One parsed rule token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub flags: Flags,
    pub pattern: &'a [u8],
}

/// C `isspace()` in the C locale.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Matches a long rule name at the start of `s`. Returns the index rsync's
/// parser continues from: the name's last letter when a separator (space,
/// `_`, end) follows, or the `,` when modifiers follow.
fn long_name(s: &[u8], name: &[u8]) -> Option<usize> {
    if !s.starts_with(name) {
        return None;
    }
    match s.get(name.len()) {
        None => Some(name.len() - 1),
        Some(&c) if is_space(c) || c == b'_' => Some(name.len() - 1),
        Some(b',') => Some(name.len()),
        Some(_) => None,
    }
}

/// Parses the next rule of `s` starting at `*pos`.
///
/// `template` is the flags of the merge rule whose file is being read (or
/// none); `old_prefixes` selects the `--exclude`/`--include` grammar.
/// Returns `Ok(None)` at the end of the input. On error returns the kind
/// and the index where the offending rule starts.
pub(crate) fn next_rule<'a>(
    s: &'a [u8],
    pos: &mut usize,
    template: Flags,
    old_prefixes: bool,
) -> Result<Option<Token<'a>>, (ParseErrorKind, usize)> {
    let at = |i: usize| -> u8 { s.get(i).copied().unwrap_or(0) };
    let mut i = *pos;
    if template.has(Flags::WORD_SPLIT) {
        while i < s.len() && is_space(s[i]) {
            i += 1;
        }
        *pos = i;
    }
    let start = i;
    if at(i) == 0 {
        return Ok(None);
    }
    let err = |k: ParseErrorKind| Err((k, start));

    let mut flags = template.only(Flags::FROM_CONTAINER);
    // Whether `!` came from a rule prefix (and so must stand alone).
    let mut bang_rule = false;
    if template.has(Flags::NO_PREFIXES) {
        if at(i) == b'!' && template.has(Flags::CVS_IGNORE) {
            flags.set(Flags::CLEAR_LIST); // tentative: only a lone "!"
        }
    } else if old_prefixes {
        if at(i) == b'-' && at(i + 1) == b' ' {
            flags.unset(Flags::INCLUDE);
            i += 2;
        } else if at(i) == b'+' && at(i + 1) == b' ' {
            flags.set(Flags::INCLUDE);
            i += 2;
        } else if at(i) == b'!' {
            flags.set(Flags::CLEAR_LIST); // tentative: only a lone "!"
        }
    } else {
        let rest = &s[i..];
        let ch = match long_prefix(rest) {
            Some((ch, Some(off))) => {
                i += off;
                ch
            }
            Some((_, None)) => return err(ParseErrorKind::Unknown),
            None => {
                let ch = rest[0];
                if at(i + 1) == b',' {
                    i += 1;
                }
                ch
            }
        };
        let Some((set, side_in_prefix)) = prefix_flags(ch) else {
            return err(ParseErrorKind::Unknown);
        };
        flags.set(set);
        bang_rule = ch == b'!';
        if ch != b'!' {
            loop {
                i += 1;
                let c = at(i);
                if c == 0 || c == b' ' || c == b'_' {
                    break;
                }
                if template.has(Flags::WORD_SPLIT) && is_space(c) {
                    i -= 1;
                    break;
                }
                let ok = apply_modifier(&mut flags, c, side_in_prefix);
                if !ok {
                    return err(ParseErrorKind::InvalidModifier {
                        ch: c,
                        pos: i - start,
                    });
                }
            }
        }
        if at(i) != 0 {
            i += 1;
        }
    }

    if template.has(Flags::SIDES) {
        if flags.has(Flags::SIDES) {
            return err(ParseErrorKind::SpecifiedSide);
        }
        flags.set(template.only(Flags::SIDES));
    }

    let i = i.min(s.len());
    let len = pattern_len(&s[i..], template.has(Flags::WORD_SPLIT));

    if flags.has(Flags::CLEAR_LIST) {
        if bang_rule && len > 0 {
            return err(ParseErrorKind::TrailingChars);
        }
        if len > 1 {
            flags.unset(Flags::CLEAR_LIST);
        }
    } else if len == 0 && !flags.has(Flags::CVS_IGNORE) {
        return err(ParseErrorKind::UnexpectedEnd);
    }

    *pos = i + len;
    Ok(Some(Token {
        flags,
        pattern: &s[i..i + len],
    }))
}

/// A rule named by a word (`exclude`, `dir-merge`, …, or its first
/// letter): the prefix character it stands for and how many bytes the
/// word takes (`None`: a letter that starts no valid name). `None` for a
/// rule that does not start with a word's letter.
fn long_prefix(rest: &[u8]) -> Option<(u8, Option<usize>)> {
    let (ch, word): (u8, &[u8]) = match rest.first()? {
        b'c' => (b'!', b"clear"),
        b'd' => (b':', b"dir-merge"),
        b'e' => (b'-', b"exclude"),
        b'h' => (b'H', b"hide"),
        b'i' => (b'+', b"include"),
        b'm' => (b'.', b"merge"),
        b'p' => (b'P', b"protect"),
        b'r' => (b'R', b"risk"),
        b's' => (b'S', b"show"),
        _ => return None,
    };
    Some((ch, long_name(rest, word)))
}

/// The length of the pattern at the start of `rest`: up to a NUL, or with
/// word splitting up to whitespace too.
fn pattern_len(rest: &[u8], word_split: bool) -> usize {
    rest.iter()
        .take_while(|&&c| c != 0 && !(word_split && is_space(c)))
        .count()
}

/// The flags a rule prefix character sets (`:`, `.`, `+`, `-`, `S`, `H`,
/// `R`, `P`, `!`), and whether it names a side itself (so `s`/`r`
/// modifiers and `C` are refused after it). `None`: unknown prefix.
fn prefix_flags(ch: u8) -> Option<(Flags, bool)> {
    Some(match ch {
        b':' => (Flags::PERDIR_MERGE.with(Flags::MERGE_FILE), false),
        b'.' => (Flags::MERGE_FILE, false),
        b'+' => (Flags::INCLUDE, false),
        b'-' => (Flags::NONE, false),
        b'S' => (Flags::INCLUDE.with(Flags::SENDER), true),
        b'H' => (Flags::SENDER, true),
        b'R' => (Flags::INCLUDE.with(Flags::RECEIVER), true),
        b'P' => (Flags::RECEIVER, true),
        b'!' => (Flags::CLEAR_LIST, false),
        _ => return None,
    })
}

/// Applies one modifier character after a rule prefix (`-/`, `+!`,
/// `:n-` …) to `flags`; `false` if it is not valid there.
fn apply_modifier(flags: &mut Flags, c: u8, side_in_prefix: bool) -> bool {
    let merge = flags.has(Flags::MERGE_FILE);
    let add = match c {
        b'-' | b'+' if merge && !flags.has(Flags::NO_PREFIXES) => {
            if c == b'+' {
                Flags::NO_PREFIXES.with(Flags::INCLUDE)
            } else {
                Flags::NO_PREFIXES
            }
        }
        b'/' => Flags::ABS_PATH,
        b'!' if !merge => Flags::NEGATE,
        b'C' if !flags.has(Flags::NO_PREFIXES) && !side_in_prefix => Flags(
            Flags::NO_PREFIXES.0 | Flags::WORD_SPLIT.0 | Flags::NO_INHERIT.0 | Flags::CVS_IGNORE.0,
        ),
        b'e' if merge => Flags::EXCLUDE_SELF,
        b'n' if merge => Flags::NO_INHERIT,
        b'p' => Flags::PERISHABLE,
        b'r' if !side_in_prefix => Flags::RECEIVER,
        b's' if !side_in_prefix => Flags::SENDER,
        b'w' if merge => Flags::WORD_SPLIT,
        b'x' => Flags::XATTR,
        _ => return false,
    };
    flags.set(add);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_and_pattern_length() {
        assert_eq!(long_prefix(b"exclude foo"), Some((b'-', Some(6))));
        assert_eq!(long_prefix(b"e,foo"), Some((b'-', None)));
        assert_eq!(long_prefix(b"dir-merge,x"), Some((b':', Some(9))));
        assert_eq!(long_prefix(b"+ foo"), None);
        assert_eq!(pattern_len(b"a b\0c", false), 3);
        assert_eq!(pattern_len(b"a b", true), 1);
        assert_eq!(pattern_len(b"ab\0c", true), 2);
    }

    #[test]
    fn prefix_and_modifier_tables() {
        assert_eq!(
            prefix_flags(b'S'),
            Some((Flags::INCLUDE.with(Flags::SENDER), true))
        );
        assert_eq!(prefix_flags(b'-'), Some((Flags::NONE, false)));
        assert_eq!(prefix_flags(b'q'), None);
        // `e`/`n`/`w` only on merge rules; `s` not after a side prefix.
        let mut f = Flags::NONE;
        assert!(!apply_modifier(&mut f, b'e', false));
        assert!(apply_modifier(&mut f, b'!', false) && f.has(Flags::NEGATE));
        assert!(!apply_modifier(&mut f, b's', true));
        let mut m = Flags::MERGE_FILE;
        assert!(apply_modifier(&mut m, b'+', false));
        assert!(m.has(Flags::NO_PREFIXES) && m.has(Flags::INCLUDE));
        // A second `-`/`+` after NO_PREFIXES is refused, and so is `C`.
        assert!(!apply_modifier(&mut m, b'-', false));
        assert!(!apply_modifier(&mut m, b'C', false));
        assert!(!apply_modifier(&mut m, b'!', false));
    }

    fn one(s: &str) -> Result<(Flags, String), ParseErrorKind> {
        let mut pos = 0;
        match next_rule(s.as_bytes(), &mut pos, Flags::NONE, false) {
            Ok(Some(t)) => Ok((t.flags, String::from_utf8_lossy(t.pattern).into_owned())),
            Ok(None) => Ok((Flags::NONE, "<none>".into())),
            Err((k, _)) => Err(k),
        }
    }

    fn flags(s: &str) -> Flags {
        one(s).map(|(f, _)| f).expect(s)
    }

    fn pat(s: &str) -> String {
        one(s).map(|(_, p)| p).expect(s)
    }

    #[test]
    fn short_and_long_names() {
        for (short, long, want) in [
            ("-", "exclude", Flags::NONE),
            ("+", "include", Flags::INCLUDE),
            ("H", "hide", Flags::SENDER),
            ("S", "show", Flags::SENDER.with(Flags::INCLUDE)),
            ("P", "protect", Flags::RECEIVER),
            ("R", "risk", Flags::RECEIVER.with(Flags::INCLUDE)),
            (".", "merge", Flags::MERGE_FILE),
            (
                ":",
                "dir-merge",
                Flags::MERGE_FILE.with(Flags::PERDIR_MERGE),
            ),
        ] {
            assert_eq!(flags(&format!("{short} foo")), want, "{short}");
            assert_eq!(flags(&format!("{long} foo")), want, "{long}");
            assert_eq!(flags(&format!("{short}_foo")), want, "{short}_");
            assert_eq!(flags(&format!("{long}_foo")), want, "{long}_");
            assert_eq!(pat(&format!("{long} foo")), "foo");
        }
        assert_eq!(flags("!"), Flags::CLEAR_LIST);
        assert_eq!(flags("clear"), Flags::CLEAR_LIST);
    }

    #[test]
    fn separator_and_pattern_spaces() {
        assert_eq!(pat("-  two spaces"), " two spaces");
        assert_eq!(pat("-__x"), "_x");
        assert_eq!(pat("- foo "), "foo ");
        assert_eq!(pat("-,s foo"), "foo");
        assert_eq!(pat("-s_foo"), "foo");
    }

    #[test]
    fn modifiers() {
        assert_eq!(flags("-/ x"), Flags::ABS_PATH);
        assert_eq!(flags("-! x"), Flags::NEGATE);
        assert_eq!(flags("-p x"), Flags::PERISHABLE);
        assert_eq!(flags("-x x"), Flags::XATTR);
        assert_eq!(flags("-s x"), Flags::SENDER);
        assert_eq!(flags("-r x"), Flags::RECEIVER);
        assert_eq!(flags("-sr x"), Flags::SIDES);
        assert_eq!(flags("+,/!p x"), Flags(0b10111));
        assert_eq!(flags("exclude,/ x"), Flags::ABS_PATH);
        let c = flags("-C");
        assert!(c.has(Flags::CVS_IGNORE) && c.has(Flags::NO_PREFIXES));
        assert!(c.has(Flags::WORD_SPLIT) && c.has(Flags::NO_INHERIT));
        let m = flags(":n- .x");
        assert!(m.has(Flags::NO_INHERIT) && m.has(Flags::NO_PREFIXES));
        assert!(!m.has(Flags::INCLUDE));
        assert!(flags(".+ x").has(Flags::INCLUDE));
        assert!(flags(".e x").has(Flags::EXCLUDE_SELF));
        assert!(flags(".w x").has(Flags::WORD_SPLIT));
        assert!(flags(":C").has(Flags::CVS_IGNORE));
        assert!(flags("dir-merge,s x").has(Flags::SENDER));
        assert!(flags("H,p x").has(Flags::PERISHABLE));
        assert!(flags("P/ x").has(Flags::ABS_PATH));
    }

    #[test]
    fn errors() {
        use ParseErrorKind::*;
        assert_eq!(one("x foo"), Err(Unknown));
        assert_eq!(one("excludefoo"), Err(Unknown));
        assert_eq!(one(" - foo"), Err(Unknown));
        assert_eq!(one("-z foo"), Err(InvalidModifier { ch: b'z', pos: 1 }));
        assert_eq!(one("-,e foo"), Err(InvalidModifier { ch: b'e', pos: 2 }));
        assert_eq!(one(".nofile"), Err(InvalidModifier { ch: b'o', pos: 2 }));
        assert_eq!(one(":n! x"), Err(InvalidModifier { ch: b'!', pos: 2 }));
        assert_eq!(one("P,s x"), Err(InvalidModifier { ch: b's', pos: 2 }));
        assert_eq!(one("H,C x"), Err(InvalidModifier { ch: b'C', pos: 2 }));
        assert_eq!(one("show,r x"), Err(InvalidModifier { ch: b'r', pos: 5 }));
        assert_eq!(
            one("dir-merge,!x"),
            Err(InvalidModifier { ch: b'!', pos: 10 })
        );
        assert_eq!(one(".-+ x"), Err(InvalidModifier { ch: b'+', pos: 2 }));
        assert_eq!(one("-C- x"), Err(InvalidModifier { ch: b'-', pos: 2 }));
        assert_eq!(
            one("exclude\tfoo"),
            Err(InvalidModifier { ch: b'\t', pos: 7 })
        );
        assert_eq!(one("-"), Err(UnexpectedEnd));
        assert_eq!(one("+ "), Err(UnexpectedEnd));
        assert_eq!(one("merge"), Err(UnexpectedEnd));
        assert_eq!(one(":"), Err(UnexpectedEnd));
        assert_eq!(one("-,"), Err(UnexpectedEnd));
        assert_eq!(one("! x"), Err(TrailingChars));
        assert_eq!(one("!x"), Err(TrailingChars));
        assert_eq!(one("clear x"), Err(TrailingChars));
        assert_eq!(one("clear,"), Ok((Flags::CLEAR_LIST, String::new())));
        assert_eq!(one(""), Ok((Flags::NONE, "<none>".into())));
    }

    #[test]
    fn specified_side_template() {
        let mut pos = 0;
        let r = next_rule(b"H x", &mut pos, Flags::SENDER, false);
        assert_eq!(r, Err((ParseErrorKind::SpecifiedSide, 0)));
        let mut pos = 0;
        let t = next_rule(b"- x", &mut pos, Flags::RECEIVER, false)
            .unwrap()
            .unwrap();
        assert!(t.flags.has(Flags::RECEIVER));
    }

    #[test]
    fn old_prefixes() {
        let parse = |s: &str, tpl: Flags| {
            let mut pos = 0;
            next_rule(s.as_bytes(), &mut pos, tpl, true)
                .map(|t| t.map(|t| (t.flags, t.pattern.to_vec())))
        };
        assert_eq!(
            parse("- x", Flags::INCLUDE),
            Ok(Some((Flags::NONE, b"x".to_vec())))
        );
        assert_eq!(
            parse("+ x", Flags::NONE),
            Ok(Some((Flags::INCLUDE, b"x".to_vec())))
        );
        assert_eq!(
            parse("-x", Flags::NONE),
            Ok(Some((Flags::NONE, b"-x".to_vec())))
        );
        assert_eq!(
            parse("!", Flags::NONE),
            Ok(Some((Flags::CLEAR_LIST, b"!".to_vec())))
        );
        assert_eq!(
            parse("!x", Flags::NONE),
            Ok(Some((Flags::NONE, b"!x".to_vec())))
        );
        assert_eq!(
            parse("- ", Flags::NONE),
            Err((ParseErrorKind::UnexpectedEnd, 0))
        );
        assert_eq!(parse("x bad", Flags::NONE).unwrap().unwrap().1, b"x bad");
    }

    #[test]
    fn word_split_and_no_prefixes() {
        let tpl = Flags::NO_PREFIXES
            .with(Flags::WORD_SPLIT)
            .with(Flags::CVS_IGNORE);
        let s = b"  a  ! b\tc";
        let mut pos = 0;
        let mut got = Vec::new();
        while let Some(t) = next_rule(s, &mut pos, tpl, false).unwrap() {
            got.push((t.flags.has(Flags::CLEAR_LIST), t.pattern.to_vec()));
        }
        assert_eq!(
            got,
            vec![
                (false, b"a".to_vec()),
                (true, b"!".to_vec()),
                (false, b"b".to_vec()),
                (false, b"c".to_vec())
            ]
        );
        // Without the CVS flag a "!" is just a pattern.
        let mut pos = 0;
        let t = next_rule(b"!", &mut pos, Flags::NO_PREFIXES, false)
            .unwrap()
            .unwrap();
        assert!(!t.flags.has(Flags::CLEAR_LIST));
    }

    #[test]
    fn never_panics_on_odd_bytes() {
        for s in [
            &b"\0"[..],
            b"-\0x",
            b"exclude,",
            b"d",
            b"dir-merge",
            b"\xff\xfe",
            b",",
            b"!,",
            b"-_",
        ] {
            let mut pos = 0;
            for tpl in [Flags::NONE, Flags::WORD_SPLIT, Flags::NO_PREFIXES] {
                let _ = next_rule(s, &mut pos, tpl, false);
                let _ = next_rule(s, &mut pos, tpl, true);
                pos = 0;
            }
        }
    }
}
