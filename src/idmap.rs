//! `--usermap`, `--groupmap`, `--chown` and name-based id mapping
//! (rsync's `uidlist.c` and the option handling in `options.c`).
//!
//! rsync's receiver turns each sender id into a local id
//! (`recv_add_id()`), with the sender's *name* for the id (empty when the
//! id has no name, and for every id under `--numeric-ids`; id 0 is sent as
//! `root` like any other):
//!
//! 1. the first `--usermap`/`--groupmap` rule that matches wins: a wildcard
//!    name (`*`, `?`, `[…]`, rsync's wildmatch, against the name), an exact
//!    name (an empty FROM matches only nameless ids), an id, or an
//!    inclusive id range `LOW-HIGH` (wildcards never match numbers, but
//!    `*` matches everything, the empty name included);
//! 2. otherwise a named id other than 0 becomes the local id of that name
//!    (locally: the same id, barring duplicate names), else stays as is.
//!
//! When it applies (checked with rsync 3.5.0 as root):
//! * owners only when the receiver is root, `-o` is on (`--usermap` and a
//!   user-part `--chown` turn it on) and either `--numeric-ids` is off or
//!   a user map exists;
//! * groups whenever `-g` is on unless root with `--numeric-ids` and no
//!   group map; a non-root receiver then skips groups it is not in;
//! * named ACL entries (`-A`) go through the same mapping unless
//!   `--numeric-ids` is given.
//!
//! Map errors are fatal with exit code 1 (rsync reports them from its
//! receiver, after "sending incremental file list" under `-v`, before
//! anything is created); a TO name that does not exist locally is only a
//! warning ("Unknown --usermap name on receiver: NAME") and the rule is
//! dropped. rsync parses the list from the end, so warnings come out in
//! reverse order and an error is the last bad item's.
//!
//! Name lookups use the reentrant `getpw*_r` / `getgr*_r` calls: the
//! engine maps ids from several threads.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Users or groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IdKind {
    User,
    Group,
}

impl IdKind {
    /// `user` / `group`, as in the option names.
    fn word(self) -> &'static str {
        match self {
            IdKind::User => "user",
            IdKind::Group => "group",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum From {
    /// A FROM with `*`, `[` or `?`: matched with rsync's wildmatch.
    Wild(Vec<u8>),
    /// An exact name ("" matches only ids without a name).
    Name(Vec<u8>),
    Id(u32),
    /// Inclusive; rsync stores a range whose HIGH is 0 as a plain id.
    Range(u32, u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    from: From,
    to: u32,
}

/// A parsed `--usermap` or `--groupmap` (or one half of `--chown`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdMap {
    kind: IdKind,
    rules: Vec<Rule>,
    warnings: Vec<String>,
}

/// A fatal map error. `Display` is rsync's message (printed without an
/// `rsync: ` prefix, then rsync exits with code 1); `warnings` are the
/// "Unknown … name" lines rsync printed before it hit the error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IdMapError {
    pub message: String,
    pub warnings: Vec<String>,
}

impl fmt::Display for IdMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IdMapError {}

/// rsync's `id_parse()`: decimal digits; overflow is caught only when the
/// running value visibly wraps below the previous one (so some overlong
/// numbers wrap silently, exactly as in rsync).
fn id_parse(s: &str) -> Result<u32, String> {
    let mut num: u32 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return Err(format!("Invalid ID number: {s}"));
        }
        let tmp = num.wrapping_mul(10).wrapping_add(u32::from(c - b'0'));
        if tmp < num {
            return Err(format!("Invalid ID number: {s}"));
        }
        num = tmp;
    }
    Ok(num)
}

/// rsync's `user_to_uid()` / `group_to_gid()` with numbers allowed: the
/// TO side of a rule. `Ok(None)`: no such name.
fn to_id(kind: IdKind, s: &str) -> Result<Option<u32>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.bytes().all(|c| c.is_ascii_digit()) {
        return id_parse(s).map(Some);
    }
    Ok(lookup_id(kind, s.as_bytes()))
}

impl IdMap {
    /// Parses `--usermap=STRING`.
    pub(crate) fn parse_usermap(s: &str) -> Result<IdMap, IdMapError> {
        IdMap::parse(IdKind::User, s)
    }

    /// Parses `--groupmap=STRING`.
    pub(crate) fn parse_groupmap(s: &str) -> Result<IdMap, IdMapError> {
        IdMap::parse(IdKind::Group, s)
    }

    /// rsync's `parse_name_map()`: comma-separated `FROM:TO` items, parsed
    /// from the last to the first (which fixes the order of messages).
    pub(crate) fn parse(kind: IdKind, s: &str) -> Result<IdMap, IdMapError> {
        let opt = kind.word();
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        for item in s.rsplit(',') {
            let fail = |message: String, warnings: &Vec<String>| IdMapError {
                message,
                warnings: warnings.clone(),
            };
            let Some((from, to)) = item.split_once(':') else {
                return Err(fail(
                    format!("No colon found in --{opt}map: {item}"),
                    &warnings,
                ));
            };
            if to.is_empty() {
                return Err(fail(
                    format!("No name found after colon --{opt}map: {item}"),
                    &warnings,
                ));
            }
            let from = if from.starts_with(|c: char| c.is_ascii_digit()) {
                let dash = from.find('-');
                let valid = from.bytes().all(|c| c.is_ascii_digit() || c == b'-')
                    && dash.is_none_or(|d| {
                        let rest = &from[d + 1..];
                        !rest.is_empty() && !rest.contains('-')
                    });
                if !valid {
                    return Err(fail(
                        format!("Invalid number in --{opt}map: {from}"),
                        &warnings,
                    ));
                }
                match dash {
                    Some(d) => {
                        let high = id_parse(&from[d + 1..]).map_err(|m| fail(m, &warnings))?;
                        let low = id_parse(&from[..d]).map_err(|m| fail(m, &warnings))?;
                        if high == 0 {
                            From::Id(low)
                        } else {
                            From::Range(low, high)
                        }
                    }
                    None => From::Id(id_parse(from).map_err(|m| fail(m, &warnings))?),
                }
            } else if from.contains(['*', '[', '?']) {
                From::Wild(from.as_bytes().to_vec())
            } else {
                From::Name(from.as_bytes().to_vec())
            };
            match to_id(kind, to).map_err(|m| fail(m, &warnings))? {
                Some(to) => rules.push(Rule { from, to }),
                None => warnings.push(format!("Unknown --{opt}map name on receiver: {to}")),
            }
        }
        rules.reverse();
        Ok(IdMap {
            kind,
            rules,
            warnings,
        })
    }

    /// The non-fatal "Unknown --usermap name on receiver: NAME" lines, in
    /// the order rsync prints them (to stderr, once, before the transfer).
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The first rule matching sender id `id` whose sender-side name is
    /// `name` (empty: no name, or `--numeric-ids`).
    pub(crate) fn lookup(&self, id: u32, name: &[u8]) -> Option<u32> {
        self.rules
            .iter()
            .find(|r| match &r.from {
                From::Wild(pat) => wildmatch(pat, name),
                From::Name(n) => n.as_slice() == name,
                From::Id(i) => *i == id,
                From::Range(lo, hi) => (*lo..=*hi).contains(&id),
            })
            .map(|r| r.to)
    }
}

/// rsync's option-order bookkeeping for `--usermap`, `--groupmap` and
/// `--chown` (`options.c`): each may be given once, `--chown` stands for
/// `--usermap=*:USER --groupmap=*:GROUP`, and they cannot be mixed. The
/// errors are option errors: rsync prints `rsync: MESSAGE` and exits 1.
/// Each accepted `--usermap` (or user part of `--chown`) turns `-o` on at
/// that point of the command line, each group one `-g`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MapArgs {
    usermap: Option<(String, bool)>,
    groupmap: Option<(String, bool)>,
}

impl MapArgs {
    pub(crate) fn usermap(&mut self, s: &str) -> Result<(), String> {
        Self::set(&mut self.usermap, "user", s)
    }

    pub(crate) fn groupmap(&mut self, s: &str) -> Result<(), String> {
        Self::set(&mut self.groupmap, "group", s)
    }

    fn set(slot: &mut Option<(String, bool)>, what: &str, s: &str) -> Result<(), String> {
        match slot {
            Some((_, true)) => Err(format!("--{what}map conflicts with prior --chown.")),
            Some(_) => Err(format!("You can only specify --{what}map once.")),
            None => {
                *slot = Some((s.to_string(), false));
                Ok(())
            }
        }
    }

    /// `--chown=USER:GROUP`, `--chown=USER`, `--chown=:GROUP`: an empty
    /// part maps nothing. Returns which of `-o` / `-g` it turns on.
    pub(crate) fn chown(&mut self, s: &str) -> Result<(bool, bool), String> {
        let (user, group) = s.split_once(':').unwrap_or((s, ""));
        for (part, slot, what) in [
            (user, &self.usermap, "user"),
            (group, &self.groupmap, "group"),
        ] {
            match slot {
                Some(_) if part.is_empty() => {}
                Some((_, false)) => {
                    return Err(format!("--chown conflicts with prior --{what}map."));
                }
                Some((_, true)) => {
                    return Err(format!(
                        "You can only specify a {what}-affecting --chown once."
                    ));
                }
                None => {}
            }
        }
        if !user.is_empty() {
            self.usermap = Some((format!("*:{user}"), true));
        }
        if !group.is_empty() {
            self.groupmap = Some((format!("*:{group}"), true));
        }
        Ok((!user.is_empty(), !group.is_empty()))
    }

    /// The effective `--usermap` string (a `--chown` user becomes `*:USER`).
    pub(crate) fn user_spec(&self) -> Option<&str> {
        self.usermap.as_ref().map(|(s, _)| s.as_str())
    }

    /// The effective `--groupmap` string.
    pub(crate) fn group_spec(&self) -> Option<&str> {
        self.groupmap.as_ref().map(|(s, _)| s.as_str())
    }
}

/// `--chown=USER:GROUP` parsed straight into its two maps (no conflict
/// checks; see [`MapArgs`] for those).
#[cfg(test)]
pub(crate) fn from_chown(s: &str) -> Result<(Option<IdMap>, Option<IdMap>), IdMapError> {
    let (user, group) = s.split_once(':').unwrap_or((s, ""));
    let users = (!user.is_empty())
        .then(|| IdMap::parse_usermap(&format!("*:{user}")))
        .transpose()?;
    let groups = (!group.is_empty())
        .then(|| IdMap::parse_groupmap(&format!("*:{group}")))
        .transpose()?;
    Ok((users, groups))
}

/// The receiver's complete id translation for one run (rsync's
/// `match_uid()` / `match_gid()`), memoised and safe to share between
/// threads.
#[derive(Debug)]
pub(crate) struct IdMapper {
    users: Option<IdMap>,
    groups: Option<IdMap>,
    numeric_ids: bool,
    cache: Mutex<HashMap<(IdKind, u32), u32>>,
}

impl IdMapper {
    pub(crate) fn new(users: Option<IdMap>, groups: Option<IdMap>, numeric_ids: bool) -> IdMapper {
        IdMapper {
            users,
            groups,
            numeric_ids,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether owners go through [`IdMapper::uid`] at all (root receiver
    /// with `-o`; `--numeric-ids` skips it unless there is a user map).
    /// Otherwise the sender's uid is used as is.
    pub(crate) fn maps_uids(&self, am_root: bool, preserve_uid: bool) -> bool {
        am_root && preserve_uid && (!self.numeric_ids || self.users.is_some())
    }

    /// Whether groups go through [`IdMapper::gid`] (`-g`; a root receiver
    /// with `--numeric-ids` skips it unless there is a group map).
    pub(crate) fn maps_gids(&self, am_root: bool, preserve_gid: bool) -> bool {
        preserve_gid && (!am_root || !self.numeric_ids || self.groups.is_some())
    }

    /// Whether named ACL entries are translated (not with `--numeric-ids`,
    /// as rsync 3.5.0 behaves even when a map is given).
    pub(crate) fn maps_acl_ids(&self) -> bool {
        !self.numeric_ids
    }

    /// The local uid for sender uid `uid`.
    pub(crate) fn uid(&self, uid: u32) -> u32 {
        self.map(IdKind::User, uid)
    }

    /// The local gid for sender gid `gid`.
    pub(crate) fn gid(&self, gid: u32) -> u32 {
        self.map(IdKind::Group, gid)
    }

    fn map(&self, kind: IdKind, id: u32) -> u32 {
        if let Ok(c) = self.cache.lock()
            && let Some(&v) = c.get(&(kind, id))
        {
            return v;
        }
        let v = self.resolve(kind, id);
        if let Ok(mut c) = self.cache.lock() {
            c.insert((kind, id), v);
        }
        v
    }

    /// rsync's `recv_add_id()`.
    fn resolve(&self, kind: IdKind, id: u32) -> u32 {
        let name = if self.numeric_ids {
            None
        } else {
            lookup_name(kind, id)
        };
        let map = match kind {
            IdKind::User => self.users.as_ref(),
            IdKind::Group => self.groups.as_ref(),
        };
        if let Some(to) = map.and_then(|m| m.lookup(id, name.as_deref().unwrap_or_default())) {
            return to;
        }
        match name {
            Some(n) if !n.is_empty() && id != 0 => lookup_id(kind, &n).unwrap_or(id),
            _ => id,
        }
    }
}

/// rsync's `wildmatch()` (lib/wildmatch.c) for a user or group name:
/// `*`, `?`, `[…]` with `!`/`^`, ranges, `[:class:]`, and `\` escapes.
/// Names hold no `/`, so `*` and `**` behave alike.
pub(crate) fn wildmatch(pat: &[u8], text: &[u8]) -> bool {
    matches!(dowild(pat, text), Wild::Match)
}

#[derive(PartialEq, Eq)]
enum Wild {
    Match,
    NoMatch,
    /// A malformed class: no match, and no point in backtracking.
    Abort,
}

fn dowild(mut p: &[u8], mut t: &[u8]) -> Wild {
    while let Some(&pc) = p.first() {
        match pc {
            b'*' => {
                while p.first() == Some(&b'*') {
                    p = &p[1..];
                }
                if p.is_empty() {
                    return if t.contains(&b'/') {
                        Wild::NoMatch
                    } else {
                        Wild::Match
                    };
                }
                loop {
                    match dowild(p, t) {
                        Wild::NoMatch => {}
                        r => return r,
                    }
                    match t.first() {
                        None | Some(b'/') => return Wild::NoMatch,
                        _ => t = &t[1..],
                    }
                }
            }
            _ => {
                let Some(&tc) = t.first() else {
                    return Wild::NoMatch;
                };
                match pc {
                    b'?' => {
                        if tc == b'/' {
                            return Wild::NoMatch;
                        }
                        p = &p[1..];
                    }
                    b'[' => match class(&p[1..], tc) {
                        Some((true, rest)) => p = rest,
                        Some((false, _)) => return Wild::NoMatch,
                        None => return Wild::Abort,
                    },
                    b'\\' if p.len() > 1 => {
                        if p[1] != tc {
                            return Wild::NoMatch;
                        }
                        p = &p[2..];
                    }
                    _ => {
                        if pc != tc {
                            return Wild::NoMatch;
                        }
                        p = &p[1..];
                    }
                }
                t = &t[1..];
            }
        }
    }
    if t.is_empty() {
        Wild::Match
    } else {
        Wild::NoMatch
    }
}

/// Matches `c` against the class whose body starts at `p` (just after
/// `[`). Returns whether it matched and the pattern after `]`; `None` for
/// a malformed class.
fn class(mut p: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let negated = matches!(p.first(), Some(b'!' | b'^'));
    if negated {
        p = &p[1..];
    }
    let mut matched = false;
    let mut prev: Option<u8> = None;
    let mut first = true;
    loop {
        let &pc = p.first()?;
        if pc == b']' && !first {
            return Some((matched != negated, &p[1..]));
        }
        first = false;
        match pc {
            b'\\' => {
                let &lit = p.get(1)?;
                matched |= lit == c;
                prev = Some(lit);
                p = &p[2..];
            }
            b'-' if prev.is_some() && p.get(1).is_some_and(|&n| n != b']') => {
                let mut hi = p[1];
                let mut skip = 2;
                if hi == b'\\' {
                    hi = *p.get(2)?;
                    skip = 3;
                }
                let lo = prev.take().unwrap_or(0);
                matched |= lo <= c && c <= hi;
                p = &p[skip..];
            }
            b'[' if p.get(1) == Some(&b':') => {
                // Up to the next `]`; without a `:` just before it, the
                // `[` is an ordinary member (rsync does the same).
                let close = p[2..].iter().position(|&b| b == b']')?;
                if close == 0 || p[2 + close - 1] != b':' {
                    matched |= c == b'[';
                    prev = Some(b'[');
                    p = &p[1..];
                    continue;
                }
                let end = close - 1;
                let name = &p[2..2 + end];
                let hit = match name {
                    b"alnum" => c.is_ascii_alphanumeric(),
                    b"alpha" => c.is_ascii_alphabetic(),
                    b"blank" => c == b' ' || c == b'\t',
                    b"cntrl" => c.is_ascii_control(),
                    b"digit" => c.is_ascii_digit(),
                    b"graph" => c.is_ascii_graphic(),
                    b"lower" => c.is_ascii_lowercase(),
                    b"print" => c.is_ascii_graphic() || c == b' ',
                    b"punct" => c.is_ascii_punctuation(),
                    b"space" => c.is_ascii_whitespace() || c == 0x0b,
                    b"upper" => c.is_ascii_uppercase(),
                    b"xdigit" => c.is_ascii_hexdigit(),
                    _ => return None,
                };
                matched |= hit;
                prev = None;
                p = &p[2 + end + 2..];
            }
            _ => {
                matched |= pc == c;
                prev = Some(pc);
                p = &p[1..];
            }
        }
    }
}

/// The name of a local user or group (see [`crate::sys::ids`]).
pub(crate) fn lookup_name(kind: IdKind, id: u32) -> Option<Vec<u8>> {
    match kind {
        IdKind::User => crate::sys::ids::user_name(id),
        IdKind::Group => crate::sys::ids::group_name(id),
    }
}

/// The id of a local user or group name (see [`crate::sys::ids`]).
pub(crate) fn lookup_id(kind: IdKind, name: &[u8]) -> Option<u32> {
    match kind {
        IdKind::User => crate::sys::ids::user_id(name),
        IdKind::Group => crate::sys::ids::group_id(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn um(s: &str) -> IdMap {
        IdMap::parse_usermap(s).unwrap()
    }

    #[test]
    fn wildmatch_basics() {
        assert!(wildmatch(b"*", b""));
        assert!(wildmatch(b"*", b"root"));
        assert!(wildmatch(b"d*", b"daemon"));
        assert!(!wildmatch(b"d*", b"bin"));
        assert!(wildmatch(b"?in", b"bin"));
        assert!(!wildmatch(b"?in", b"in"));
        assert!(wildmatch(b"[a-c]*", b"bin"));
        assert!(wildmatch(b"[a-c]*", b"cloudsdk"));
        assert!(!wildmatch(b"[a-c]*", b"daemon"));
        assert!(wildmatch(b"[!b]*", b"root"));
        assert!(!wildmatch(b"[!b]*", b"bin"));
        assert!(!wildmatch(b"[!b]*", b""));
        assert!(wildmatch(b"[^b]*", b"nobody"));
        assert!(wildmatch(b"\\*", b"*"));
        assert!(!wildmatch(b"\\*", b"root"));
        assert!(wildmatch(b"[]]x", b"]x"));
        assert!(wildmatch(b"[[:digit:]]*", b"1abc"));
        assert!(!wildmatch(b"[[:bogus:]]*", b"1abc"));
        assert!(!wildmatch(b"[abc", b"a"));
        assert!(wildmatch(b"a*b*c", b"axxbyyc"));
        assert!(!wildmatch(b"a*b*c", b"axxbyy"));
    }

    #[test]
    fn rules_in_order_first_match_wins() {
        let m = um("4000-5000:1,*:2");
        assert_eq!(m.lookup(4242, b""), Some(1));
        assert_eq!(m.lookup(0, b"root"), Some(2));
        let m = um("4242:1,4242:2");
        assert_eq!(m.lookup(4242, b""), Some(1));
        // Empty FROM: nameless ids only.
        let m = um(":7");
        assert_eq!(m.lookup(1500, b""), Some(7));
        assert_eq!(m.lookup(1, b"daemon"), None);
        // Names, not numbers, for wildcards; * matches the empty name.
        let m = um("*0:7");
        assert_eq!(m.lookup(1000, b"cloudsdk"), None);
        assert_eq!(m.lookup(1000, b"user0"), Some(7));
        // A FROM starting with a digit must be a number or range.
        assert_eq!(
            IdMap::parse_usermap("1*:7").unwrap_err().message,
            "Invalid number in --usermap: 1*"
        );
        assert_eq!(um("*:7").lookup(4242, b""), Some(7));
        // A range ending at 0 is a plain id (rsync's max_id == 0).
        assert_eq!(um("0-0:5").lookup(0, b"root"), Some(5));
        assert_eq!(um("5-0:9").lookup(5, b""), Some(9));
        assert_eq!(um("5-0:9").lookup(3, b""), None);
        assert_eq!(um("5-3:9").lookup(4, b""), None);
        // "-5" is a name.
        assert_eq!(um("-5:9").lookup(5, b""), None);
        assert_eq!(um("-5:9").lookup(5, b"-5"), Some(9));
    }

    #[test]
    fn to_side_names_and_numbers() {
        // root exists everywhere.
        assert_eq!(um("x:root").lookup(0, b"x"), Some(0));
        assert_eq!(um("x:123").lookup(0, b"x"), Some(123));
        let m = um("a:no-such-user-xyz,b:no-such-user-abc");
        assert!(m.rules.is_empty());
        assert_eq!(
            m.warnings(),
            [
                "Unknown --usermap name on receiver: no-such-user-abc",
                "Unknown --usermap name on receiver: no-such-user-xyz"
            ]
        );
        let g = IdMap::parse_groupmap("a:no-such-group-xyz").unwrap();
        assert_eq!(
            g.warnings(),
            ["Unknown --groupmap name on receiver: no-such-group-xyz"]
        );
        // Numbers wrap like rsync's id_parse: 5000000000 is accepted.
        assert_eq!(um("5000000000:1").rules[0].from, From::Id(705_032_704));
        assert_eq!(um("1:4294967295").rules[0].to, u32::MAX);
    }

    /// Messages verified with rsync 3.5.0 (all exit with code 1).
    #[test]
    fn errors_match_rsync() {
        let e = |s: &str| IdMap::parse_usermap(s).unwrap_err().message;
        assert_eq!(e("foo"), "No colon found in --usermap: foo");
        assert_eq!(e("foo:"), "No name found after colon --usermap: foo:");
        assert_eq!(e("1x:foo"), "Invalid number in --usermap: 1x");
        assert_eq!(e("1-:foo"), "Invalid number in --usermap: 1-");
        assert_eq!(e("1-2-3:foo"), "Invalid number in --usermap: 1-2-3");
        assert_eq!(e("a,b"), "No colon found in --usermap: b");
        assert_eq!(e(""), "No colon found in --usermap: ");
        assert_eq!(e(","), "No colon found in --usermap: ");
        assert_eq!(e("1:bin,"), "No colon found in --usermap: ");
        assert_eq!(e("4294967296:nobody"), "Invalid ID number: 4294967296");
        assert_eq!(e("1:4294967296"), "Invalid ID number: 4294967296");
        assert_eq!(
            IdMap::parse_groupmap("x").unwrap_err().message,
            "No colon found in --groupmap: x"
        );
        // Warnings printed before the fatal item are kept.
        let err = IdMap::parse_usermap("foo,a:no-such-user-xyz").unwrap_err();
        assert_eq!(
            err.warnings,
            ["Unknown --usermap name on receiver: no-such-user-xyz"]
        );
        // The first colon splits: "[[:alpha:]]*:x" has FROM "[[".
        let m = um("[[:alpha:]]*:nobody");
        assert_eq!(
            m.warnings(),
            ["Unknown --usermap name on receiver: alpha:]]*:nobody"]
        );
    }

    #[test]
    fn option_bookkeeping_matches_rsync() {
        let mut a = MapArgs::default();
        a.usermap("a:b").unwrap();
        assert_eq!(
            a.usermap("c:d").unwrap_err(),
            "You can only specify --usermap once."
        );
        assert_eq!(
            a.chown("x:y").unwrap_err(),
            "--chown conflicts with prior --usermap."
        );
        let mut a = MapArgs::default();
        assert_eq!(a.chown("u:g"), Ok((true, true)));
        assert_eq!(a.user_spec(), Some("*:u"));
        assert_eq!(a.group_spec(), Some("*:g"));
        assert_eq!(
            a.usermap("c:d").unwrap_err(),
            "--usermap conflicts with prior --chown."
        );
        assert_eq!(
            a.chown("v").unwrap_err(),
            "You can only specify a user-affecting --chown once."
        );
        assert_eq!(
            a.chown(":h").unwrap_err(),
            "You can only specify a group-affecting --chown once."
        );
        let mut a = MapArgs::default();
        assert_eq!(a.chown("u"), Ok((true, false)));
        assert_eq!(a.chown(":g"), Ok((false, true)));
        assert_eq!(a.chown(":"), Ok((false, false)));
        let mut a = MapArgs::default();
        a.groupmap("1000:bin").unwrap();
        assert_eq!(
            a.chown(":nogroup").unwrap_err(),
            "--chown conflicts with prior --groupmap."
        );
        assert_eq!(a.chown("nobody"), Ok((true, false)));
    }

    #[test]
    fn chown_maps_everything() {
        let (u, g) = from_chown("123:456").unwrap();
        assert_eq!(u.unwrap().lookup(0, b"root"), Some(123));
        assert_eq!(g.unwrap().lookup(7, b""), Some(456));
        let (u, g) = from_chown(":456").unwrap();
        assert!(u.is_none() && g.is_some());
        let (u, g) = from_chown("123").unwrap();
        assert!(u.is_some() && g.is_none());
    }

    #[test]
    fn name_lookups() {
        assert_eq!(lookup_name(IdKind::User, 0).as_deref(), Some(&b"root"[..]));
        assert_eq!(lookup_id(IdKind::User, b"root"), Some(0));
        assert!(lookup_id(IdKind::Group, b"root").is_some());
        assert_eq!(lookup_id(IdKind::User, b"no-such-user-xyz"), None);
        assert_eq!(lookup_id(IdKind::User, b"nul\0byte"), None);
    }

    #[test]
    fn mapper_follows_recv_add_id() {
        // No maps: named ids map to themselves through their names.
        let m = IdMapper::new(None, None, false);
        assert_eq!(m.uid(0), 0);
        assert_eq!(m.uid(4_000_000_000), 4_000_000_000);
        // *:N maps root too (its name is sent), in both modes.
        let star = || Some(um("*:4242"));
        assert_eq!(IdMapper::new(star(), None, false).uid(0), 4242);
        assert_eq!(IdMapper::new(star(), None, true).uid(0), 4242);
        // Under --numeric-ids names are not sent: root:N does not match.
        assert_eq!(IdMapper::new(Some(um("root:4242")), None, true).uid(0), 0);
        assert_eq!(
            IdMapper::new(Some(um("root:4242")), None, false).uid(0),
            4242
        );
        // An empty FROM matches everything under --numeric-ids.
        assert_eq!(IdMapper::new(Some(um(":4242")), None, true).uid(0), 4242);
        // Groups likewise.
        let g = IdMapper::new(None, Some(IdMap::parse_groupmap("0:7").unwrap()), false);
        assert_eq!(g.gid(0), 7);
        assert_eq!(g.uid(0), 0);
        // When mapping applies.
        let plain = IdMapper::new(None, None, true);
        assert!(!plain.maps_uids(true, true));
        assert!(!plain.maps_gids(true, true));
        assert!(plain.maps_gids(false, true));
        assert!(!plain.maps_acl_ids());
        let mapped = IdMapper::new(star(), None, true);
        assert!(mapped.maps_uids(true, true));
        assert!(!mapped.maps_uids(false, true));
        assert!(!mapped.maps_uids(true, false));
    }

    #[test]
    fn mapper_is_shareable() {
        fn assert_sync<T: Sync + Send>() {}
        assert_sync::<IdMapper>();
    }
}
