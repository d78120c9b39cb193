//! pattern.rs — rsync's wildcard language (`*`, `**`, `?`, `[...]`,
//! backslash escapes) compiled to a matcher that decides whether a pattern
//! matches one whole string, byte for byte as rsync's `wildmatch()` does.
//!
//! A pattern is first split into tokens with rsync's exact rules (a `[`
//! class never matches `/`, `[!`/`[^` negate, a `]` right after the opening
//! is literal, `[[:alpha:]]` classes are ASCII-only, an unterminated class
//! or unknown class name makes the whole pattern match nothing, a trailing
//! lone backslash matches nothing, and two or more stars match across
//! slashes). The tokens are then translated to a `globset` glob whenever
//! globset can express them exactly; the few that it cannot (bytes that
//! are not UTF-8, classes holding non-ASCII bytes) use a small NFA over the
//! same tokens. Both engines accept exactly the same language; the fuzz
//! target checks that they agree.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// A set of bytes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ByteSet([u64; 4]);

impl ByteSet {
    fn add(&mut self, b: u8) {
        self.0[(b >> 6) as usize] |= 1 << (b & 63);
    }

    fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    pub(super) fn contains(&self, b: u8) -> bool {
        self.0[(b >> 6) as usize] & (1 << (b & 63)) != 0
    }

    fn members(&self) -> impl Iterator<Item = u8> + '_ {
        (0u8..=255).filter(|&b| self.contains(b))
    }

    fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    fn ascii_only(&self) -> bool {
        self.0[2] == 0 && self.0[3] == 0
    }
}

impl std::fmt::Debug for ByteSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: Vec<u8> = self.members().collect();
        write!(f, "ByteSet({:?})", String::from_utf8_lossy(&s))
    }
}

/// One element of a wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// One literal byte.
    Lit(u8),
    /// `?`: any byte but `/`.
    Any,
    /// `*`: any run of bytes without `/`.
    Star,
    /// `**` (or more stars): any run of bytes.
    StarStar,
    /// `[...]`: the bytes that match (never `/`).
    Class(ByteSet),
}

/// Splits `p` into tokens. `None` means the pattern can never match
/// (rsync's `ABORT_ALL` cases: unterminated class, unknown `[:name:]`,
/// trailing lone backslash).
pub(crate) fn tokenize(p: &[u8]) -> Option<Vec<Tok>> {
    let mut toks = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' => {
                let c = *p.get(i + 1)?;
                toks.push(Tok::Lit(c));
                i += 2;
            }
            b'?' => {
                toks.push(Tok::Any);
                i += 1;
            }
            b'*' => {
                let run = p[i..].iter().take_while(|&&c| c == b'*').count();
                toks.push(if run >= 2 { Tok::StarStar } else { Tok::Star });
                i += run;
            }
            b'[' => {
                let (set, next) = parse_class(p, i + 1)?;
                toks.push(Tok::Class(set));
                i = next;
            }
            c => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    Some(toks)
}

/// Parses a class whose body starts at `i` (just after `[`). Returns the
/// set of matching bytes (`/` removed) and the index after the closing `]`.
///
/// Mirrors rsync's do-while loop: the first member is read before any `]`
/// test (so `[]a]` holds `]`), and `prev` is rsync's `prev_ch` — the
/// previous single member, 0 after a range or a named class, so `a-c-e` is
/// a range followed by the literals `-` and `e`.
fn parse_class(p: &[u8], mut i: usize) -> Option<(ByteSet, usize)> {
    let at = |i: usize| -> u8 { p.get(i).copied().unwrap_or(0) };
    let negated = matches!(at(i), b'!' | b'^');
    if negated {
        i += 1;
    }
    let mut set = ByteSet::default();
    let mut prev: u8 = 0;
    let mut first = true;
    loop {
        if !first {
            i += 1;
            if at(i) == b']' {
                break;
            }
        }
        first = false;
        let c = at(i);
        if c == 0 {
            return None;
        }
        prev = if c == b'\\' {
            i += 1;
            let e = at(i);
            if e == 0 {
                return None;
            }
            set.add(e);
            e
        } else if c == b'-' && prev != 0 && at(i + 1) != 0 && at(i + 1) != b']' {
            i += 1;
            let mut hi = at(i);
            if hi == b'\\' {
                i += 1;
                hi = at(i);
                if hi == 0 {
                    return None;
                }
            }
            if prev <= hi {
                set.add_range(prev, hi);
            }
            0
        } else if c == b'[' && at(i + 1) == b':' {
            let s = i + 2;
            let j = s + p.get(s..)?.iter().position(|&b| b == b']')?;
            if j == s || p[j - 1] != b':' {
                // Not "[:name:]": the `[` is an ordinary member.
                set.add(b'[');
                b'['
            } else {
                add_named_class(&mut set, &p[s..j - 1])?;
                i = j;
                0
            }
        } else {
            set.add(c);
            c
        };
    }
    let mut out = ByteSet::default();
    for b in 0u8..=255 {
        if b != b'/' && set.contains(b) != negated {
            out.add(b);
        }
    }
    Some((out, i + 1))
}

/// Adds an ASCII `[:name:]` class; `None` for an unknown name.
fn add_named_class(set: &mut ByteSet, name: &[u8]) -> Option<()> {
    let test: fn(u8) -> bool = match name {
        b"alnum" => |c| c.is_ascii_alphanumeric(),
        b"alpha" => |c| c.is_ascii_alphabetic(),
        b"blank" => |c| c == b' ' || c == b'\t',
        b"cntrl" => |c| c.is_ascii_control(),
        b"digit" => |c| c.is_ascii_digit(),
        b"graph" => |c| c.is_ascii_graphic(),
        b"lower" => |c| c.is_ascii_lowercase(),
        b"print" => |c| c.is_ascii_graphic() || c == b' ',
        b"punct" => |c| c.is_ascii_punctuation(),
        b"space" => |c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'),
        b"upper" => |c| c.is_ascii_uppercase(),
        b"xdigit" => |c| c.is_ascii_hexdigit(),
        _ => return None,
    };
    for c in 0u8..128 {
        if test(c) {
            set.add(c);
        }
    }
    Some(())
}

/// Whether `toks` match all of `text` (rsync's `wildmatch` on one string).
pub(crate) fn nfa_match(toks: &[Tok], text: &[u8]) -> bool {
    let m = toks.len();
    let mut cur = vec![false; m + 1];
    let mut next = vec![false; m + 1];
    cur[0] = true;
    close(toks, &mut cur);
    for &b in text {
        next.iter_mut().for_each(|v| *v = false);
        let mut any = false;
        for k in 0..m {
            if !cur[k] {
                continue;
            }
            match &toks[k] {
                Tok::Lit(c) if *c == b => next[k + 1] = true,
                Tok::Any if b != b'/' => next[k + 1] = true,
                Tok::Star if b != b'/' => next[k] = true,
                Tok::StarStar => next[k] = true,
                Tok::Class(set) if set.contains(b) => next[k + 1] = true,
                _ => continue,
            }
            any = true;
        }
        if !any {
            return false;
        }
        close(toks, &mut next);
        std::mem::swap(&mut cur, &mut next);
    }
    cur[m]
}

/// Epsilon closure: a star may match nothing.
fn close(toks: &[Tok], states: &mut [bool]) {
    for k in 0..toks.len() {
        if states[k] && matches!(toks[k], Tok::Star | Tok::StarStar) {
            states[k + 1] = true;
        }
    }
}

/// Translates tokens to a globset glob with the same language, or `None`
/// when globset cannot say it (non-UTF-8 literal bytes, classes that are
/// neither an ASCII set nor the complement of one).
///
/// The glob is built with `literal_separator(true)` (so `*`, `?` and
/// classes stop at `/`) and `backslash_escape(true)`. rsync's `**` (any
/// bytes, slashes included, even in the middle of a name) has no globset
/// token — globset's `**` only spans whole components and `a/**/b` also
/// matches `a/b` — so each `**` becomes `{*,*/**/*}`: no slash, or a first
/// part, one or more slashes with anything between, and a last part.
pub(crate) fn to_glob(toks: &[Tok]) -> Option<String> {
    let mut g = String::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Lit(c) if c.is_ascii() => {
                if !c.is_ascii_alphanumeric() && *c != b'/' {
                    g.push('\\');
                }
                g.push(*c as char);
                i += 1;
            }
            Tok::Lit(_) => {
                // A run of non-ASCII literal bytes: only valid UTF-8 can be
                // written into a glob (globset escapes it back to bytes).
                let start = i;
                while i < toks.len() && matches!(toks[i], Tok::Lit(c) if !c.is_ascii()) {
                    i += 1;
                }
                let bytes: Vec<u8> = toks[start..i]
                    .iter()
                    .map(|t| match t {
                        Tok::Lit(c) => *c,
                        _ => 0,
                    })
                    .collect();
                g.push_str(std::str::from_utf8(&bytes).ok()?);
            }
            Tok::Any => {
                g.push('?');
                i += 1;
            }
            Tok::Star => {
                g.push('*');
                i += 1;
            }
            Tok::StarStar => {
                g.push_str("{*,*/**/*}");
                i += 1;
            }
            Tok::Class(set) => {
                g.push_str(&class_glob(set)?);
                i += 1;
            }
        }
    }
    Some(g)
}

/// A glob fragment matching exactly the bytes of `set` (which never holds
/// `/`).
fn class_glob(set: &ByteSet) -> Option<String> {
    if set.is_empty() {
        return None;
    }
    if set.ascii_only() {
        let members: Vec<u8> = set.members().collect();
        if members.len() == 1 {
            let c = members[0];
            return Some(if c.is_ascii_alphanumeric() {
                (c as char).to_string()
            } else {
                format!("\\{}", c as char)
            });
        }
        if members.iter().all(|c| matches!(c, b'!' | b'^')) {
            return Some("{\\!,\\^}".to_string());
        }
        return Some(format!("[{}]", class_body(&members)));
    }
    // The complement within "any byte but /".
    let mut comp = ByteSet::default();
    for b in 0u8..=255 {
        if b != b'/' && !set.contains(b) {
            comp.add(b);
        }
    }
    if comp.is_empty() {
        return Some("?".to_string());
    }
    if comp.ascii_only() {
        let members: Vec<u8> = comp.members().collect();
        return Some(format!("[!{}]", class_body(&members)));
    }
    None
}

/// The members of a globset class in an order globset reads literally:
/// `]` first, `!`/`^` never first, `[` late (so no `[:` appears), `-` last.
fn class_body(members: &[u8]) -> String {
    let mut s = String::new();
    if members.contains(&b']') {
        s.push(']');
    }
    for &c in members {
        if !matches!(c, b']' | b'!' | b'^' | b'[' | b'-') {
            s.push(c as char);
        }
    }
    let mut late: Vec<char> = Vec::new();
    for c in [b'!', b'^'] {
        if members.contains(&c) {
            late.push(c as char);
        }
    }
    if s.is_empty() && !late.is_empty() {
        // Something harmless must come first: `[` or `-` (both present
        // in this case, or the caller used the `{\!,\^}` form).
        if members.contains(&b'[') {
            s.push('[');
            s.extend(late.drain(..));
            if members.contains(&b'-') {
                s.push('-');
            }
            return s;
        }
        s.push('-');
        s.extend(late.drain(..));
        return s;
    }
    s.extend(late);
    if members.contains(&b'[') {
        s.push('[');
    }
    if members.contains(&b'-') {
        s.push('-');
    }
    s
}

/// How a compiled pattern is matched.
#[derive(Clone, Debug)]
enum Engine {
    /// Never matches.
    Never,
    /// A globset matcher for the whole pattern.
    Glob(globset::GlobMatcher),
    /// The token NFA (patterns globset cannot express).
    Native(Vec<Tok>),
}

/// A compiled wildcard pattern: does it match a whole string?
#[derive(Clone, Debug)]
pub(crate) struct WildPattern {
    engine: Engine,
}

impl WildPattern {
    pub(super) fn new(p: &[u8]) -> WildPattern {
        let Some(toks) = tokenize(p) else {
            return WildPattern {
                engine: Engine::Never,
            };
        };
        let engine = match to_glob(&toks).and_then(|g| build_glob(&g)) {
            Some(m) => Engine::Glob(m),
            None => Engine::Native(toks),
        };
        WildPattern { engine }
    }

    pub(super) fn is_match(&self, text: &[u8]) -> bool {
        match &self.engine {
            Engine::Never => false,
            Engine::Glob(m) => m.is_match(Path::new(OsStr::from_bytes(text))),
            Engine::Native(toks) => nfa_match(toks, text),
        }
    }

    /// Whether globset (rather than the NFA) matches this pattern.
    #[cfg(test)]
    pub(super) fn uses_globset(&self) -> bool {
        matches!(self.engine, Engine::Glob(_))
    }
}

pub(crate) fn build_glob(g: &str) -> Option<globset::GlobMatcher> {
    globset::GlobBuilder::new(g)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

/// For the fuzzer: checks that both engines agree on `pattern` vs `text`
/// (when globset can express the pattern). Panics on a disagreement.
pub fn check_engines_agree(pattern: &[u8], text: &[u8]) {
    let Some(toks) = tokenize(pattern) else {
        return;
    };
    let native = nfa_match(&toks, text);
    if let Some(g) = to_glob(&toks) {
        let m = build_glob(&g)
            .unwrap_or_else(|| panic!("globset refused translated glob {g:?} of {pattern:?}"));
        let via_glob = m.is_match(Path::new(OsStr::from_bytes(text)));
        assert_eq!(
            native, via_glob,
            "engines disagree: pattern {pattern:?} glob {g:?} text {text:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        let w = WildPattern::new(p.as_bytes());
        let r = w.is_match(t.as_bytes());
        // Both engines must agree on every case in this file.
        check_engines_agree(p.as_bytes(), t.as_bytes());
        r
    }

    #[test]
    fn star_and_question() {
        assert!(m("*.o", "a.o"));
        assert!(m("*.o", ".o"));
        assert!(!m("*.o", "d/a.o"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "a/c"));
        assert!(!m("a?c", "ac"));
        assert!(m("*", ""));
        assert!(m("*", "abc"));
        assert!(!m("*", "a/b"));
    }

    #[test]
    fn double_star_spans_slashes_anywhere() {
        assert!(m("**", "a/b/c"));
        assert!(m("a/**/b", "a/x/b"));
        assert!(m("a/**/b", "a/x/y/b"));
        assert!(!m("a/**/b", "a/b"));
        assert!(m("foo**", "foo/x/y"));
        assert!(m("foo**", "foobar"));
        assert!(m("a**b", "ax/yb"));
        assert!(m("a**b", "ab"));
        assert!(m("**/x", "/x"));
        assert!(!m("**/x", "x"));
        assert!(m("dir/***", "dir/"));
        assert!(m("dir/***", "dir/a/b"));
        assert!(!m("dir/***", "dir"));
        assert!(m("*/**", "a/"));
        assert!(m("x/**/**/y", "x/a/b/y"));
    }

    #[test]
    fn classes() {
        assert!(m("[abc]", "b"));
        assert!(!m("[abc]", "d"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[c-a]", "b"));
        assert!(m("[!a]", "b"));
        assert!(!m("[!a]", "a"));
        assert!(m("[^a]", "b"));
        assert!(!m("[^a]", "a"));
        assert!(!m("[!a]", "/"));
        assert!(!m("a[/]b", "a/b"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(!m("[!]]", "]"));
        assert!(m("[]-]", "-"));
        assert!(m("[a-]", "-"));
        assert!(m("[-a]", "-"));
        assert!(m("[a-c-e]", "-"));
        assert!(!m("[a-c-e]", "d"));
        assert!(m("[[:alpha:]]", "q"));
        assert!(!m("[[:alpha:]]", "1"));
        assert!(m("[[:digit:][:upper:]]", "Q"));
        assert!(m("[[:space:]]", "\t"));
        assert!(m("[[:punct:]]", "!"));
        assert!(m("[[:xdigit:]]", "F"));
        assert!(!m("[[:xdigit:]]", "g"));
        assert!(!m("[[:bogus:]]", "a"));
        assert!(m("[[:]", ":"));
        assert!(m("[[:]", "["));
        assert!(m("[[:x]]", "x]"));
        assert!(m("[\\]]", "]"));
        assert!(m("[a\\-c]", "-"));
        assert!(!m("[a\\-c]", "b"));
        assert!(m("[!!]", "a"));
        assert!(m("[x!]", "!"));
        assert!(m("[!^]", "a"));
        assert!(!m("[!^]", "^"));
        assert!(m("[\\!]", "!"));
        assert!(m("[\\!\\^]", "^"));
        assert!(m("[[-]", "-"));
        assert!(m("[[-]", "["));
        // Unterminated: never matches.
        assert!(!m("[abc", "[abc"));
        assert!(!m("[", "["));
        assert!(!m("[!", "x"));
        assert!(!m("a[]", "a]"));
    }

    #[test]
    fn escapes() {
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "x"));
        assert!(m("a\\?", "a?"));
        assert!(m("\\[x]", "[x]"));
        assert!(m("\\a*", "ab"));
        assert!(!m("x\\", "x\\"));
        assert!(!m("x\\", "x"));
        assert!(m("\\\\*", "\\z"));
    }

    #[test]
    fn special_glob_chars_are_literal() {
        assert!(m("{a,b}*", "{a,b}x"));
        assert!(!m("{a,b}*", "ax"));
        assert!(m("a,b*", "a,b"));
        assert!(m("!*", "!x"));
        assert!(m("^*", "^"));
        assert!(m("-*", "-x"));
        assert!(m("]*", "]"));
    }

    #[test]
    fn bytes_not_chars() {
        // `?` is one byte, as in rsync; é is two.
        let w = WildPattern::new(b"?");
        assert!(!w.is_match("é".as_bytes()));
        assert!(WildPattern::new(b"??").is_match("é".as_bytes()));
        assert!(WildPattern::new(b"*").is_match(b"\xff\xfe"));
        assert!(WildPattern::new(b"[!a]").is_match(b"\xff"));
        // A class of non-ASCII bytes matches single bytes (NFA engine).
        let c = WildPattern::new("[é]".as_bytes());
        assert!(!c.uses_globset());
        assert!(c.is_match(b"\xc3"));
        assert!(c.is_match(b"\xa9"));
        assert!(!c.is_match("é".as_bytes()));
        // Invalid UTF-8 literal.
        let w = WildPattern::new(b"a\xff*");
        assert!(!w.uses_globset());
        assert!(w.is_match(b"a\xffzz"));
        assert!(WildPattern::new("é*".as_bytes()).uses_globset());
        assert!(WildPattern::new("é*".as_bytes()).is_match("éx".as_bytes()));
        check_engines_agree("é*".as_bytes(), "éx".as_bytes());
    }

    #[test]
    fn all_ascii_patterns_use_globset() {
        for p in [
            "*.o",
            "a/**/b",
            "[a-z]",
            "[!]]",
            "[[:alpha:]]",
            "\\*",
            "[!!^]",
            "[!^]",
        ] {
            assert!(WildPattern::new(p.as_bytes()).uses_globset(), "{p}");
        }
    }
}
