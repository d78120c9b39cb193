//! rsync's `--iconv=LOCAL,REMOTE` on a local copy: which charsets names
//! are converted between, the names as the receiver writes them, and the
//! names as rsync's messages then show them.
//!
//! Why a module of its own: rsync converts in three places that arsync
//! keeps in three stages. Its sender converts each file-list name from
//! LOCAL to UTF-8 (strictly: a name that does not convert is left out with
//! `[sender] cannot convert filename: NAME (ERROR)`, an I/O error, exit
//! 23) and each symlink target (keeping bytes that do not convert); its
//! receiver converts them from UTF-8 to REMOTE. Item lines are the
//! sender's, so they show LOCAL names; a deletion line travels as the
//! receiver's REMOTE name converted to UTF-8, which the sender converts
//! again from LOCAL to UTF-8 (what rsync 3.5 prints). Here the walk asks
//! [`Names`] for each entry's receiving name, and the report for what a
//! deletion line shows.
//!
//! Every spec runs here, at every protocol, `//TRANSLIT` and `//IGNORE`
//! included (glibc gives the same names the same bytes), and so do values
//! that are not UTF-8 (glibc reads the bytes a charset name can hold).
//! Both sides are strict on names and, from protocol 30, symlink targets
//! (below, targets travel unconverted). `RSYNC_ICONV` is the default spec
//! ([`env_default`]).
//!
//! Below protocol 29 rsync's generator prints its own lines (names, `l ->
//! TARGET`, deletions, `created directory`): they name entries as its
//! receiver holds them (REMOTE names; a target as the sender read it),
//! and its receiver sorts the file list by those names, so both processes
//! print in that order. From 23 to 28 such a line travels to the printing
//! sender converted from REMOTE to UTF-8, which converts it to LOCAL and
//! writes each byte that does not convert as `\#ooo` ([`Shown::printed`];
//! `--log-file` gets the UTF-8 form, [`Shown::sent`]); the receiver's
//! `cannot convert filename` travels as UTF-8 and is converted the same
//! way. (`--list-only` lines are the generator's at every protocol: a
//! name that does not round-trip, `//TRANSLIT`'s, shows as REMOTE holds
//! it.) At 22 and below the generator prints on stderr itself: REMOTE
//! bytes, escaped as any name. (Measured with rsync 3.5.0 at 28, 26 and
//! 22 with `utf-8,latin1`, `latin1,utf-8`, `utf-8,utf-8` and `cp1252,utf8`.)
//!
//! Wide charsets (UTF-16/32, UCS, UTF-7) are where arsync is safer than
//! rsync 3.5, which converts a whole path and cuts the result at its first
//! NUL byte (UTF-16 `abc` and `abd` both become `\xff\xfea`, `.` a
//! directory `\xff\xfe.`) or drops the end of a stateful encoding's last
//! sequence (UTF-7 `café` and `cafè` both `caf+AO`), so names collide and
//! overwrite each other, exit 0. Here a name is converted exactly, one `/`
//! level at a time, its last sequence ended (`caf+AOk-`); a converted
//! level no file name can be (a NUL byte or `/` in it, or empty, `.` or
//! `..` where it was not) is a name REMOTE cannot hold (below). What
//! rsync does the same is matched: a wide LOCAL charset's sender fails on
//! names that are not whole characters in it (UTF-16: `.`, so a `SRC/`
//! sends nothing of its contents), and UTF-16 names without ASCII convert
//! as in rsync. arsync's messages are not turned into a wide charset
//! (rsync's are, and come out as UTF-16): see [`Shown`].
//!
//! A name REMOTE cannot hold: rsync's receiver prints `[Receiver] cannot
//! convert filename: UTF8NAME (ERROR)` (a target: `cannot convert symlink
//! data for: "CWD/REMOTENAME"`, and its generator prints a final line too),
//! and lists the entry under an empty name. That name sorts before `.`, so
//! `.` is no longer the first entry of its first file list and a DEST it
//! just made is itemized as existing (`.d..t...... ./`, not
//! `cd+++++++++ ./`): the first list is the whole list without incremental
//! recursion, else the top level. The entry is left out, exit 23, no
//! deletion; a directory's children are reported each, and every such
//! entry still counts in `--stats` (the sender listed it). Without
//! incremental recursion (`--no-i-r`, `--protocol` 29 and below, `-d`)
//! this is deterministic over 20 runs and matched. With incremental recursion
//! rsync matches only for names of the top level; a failing name in a
//! directory's own list aborts rsync's receiver (`ABORTING due to invalid
//! path from sender: /`, exit 4), and a failing directory name makes the
//! next list refer to a cleared entry (`refusing flist for cleared dir_ndx
//! N`, exit 2), in both cases with the rest of the transfer lost (how much
//! was copied before varies from run to run). arsync does what rsync does
//! without incremental recursion there (everything else copied, exit 23):
//! no outcome of rsync's keeps the data, so none is copied.

use crate::sys::iconv::{Converter, Errno};

/// The charset names of a `--iconv` value, as rsync splits it: LOCAL
/// before the first comma, REMOTE after it (the same name without a
/// comma); an empty name or `.` is the locale's charset. Names are bytes
/// as typed: glibc's `iconv_open` reads them (it drops bytes a charset
/// name cannot hold, so `latin\xe91` is `latin1` and `\xff` the
/// locale's, as for rsync).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IconvSpec {
    /// The sending side's charset, resolved (`.` and empty: the locale's).
    pub local: Vec<u8>,
    /// The receiving side's charset, resolved.
    pub remote: Vec<u8>,
}

impl IconvSpec {
    /// The spec of a `--iconv` value; `None` for `-` (no conversion).
    pub(crate) fn parse(value: &[u8]) -> Option<IconvSpec> {
        if value == b"-" {
            return None;
        }
        let (local, remote) = match value.iter().position(|&b| b == b',') {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, value),
        };
        Some(IconvSpec {
            local: resolve(local),
            remote: resolve(remote),
        })
    }

    /// Whether rsync's receiving side can fail on a name LOCAL can hold
    /// (REMOTE is neither UTF-8 nor LOCAL, or has a `//` suffix), or a
    /// converted name can be one no file has (a wide charset on either
    /// side: see [`Names::name`]).
    pub(crate) fn receiver_can_fail(&self) -> bool {
        let (l, r) = (canonical(&self.local), canonical(&self.remote));
        !(r == "UTF8" || r == l) || wide(&l) || wide(&r)
    }

    /// rsync's `setup_iconv()` checks, in its order: the sender opens
    /// UTF-8 from LOCAL and back, the receiver UTF-8 from REMOTE and back.
    /// `Err` names the failing pair and the side (`true`: the sender).
    pub(crate) fn check(&self) -> Result<(), IconvError> {
        for (sender, cs) in [(true, &self.local), (false, &self.remote)] {
            for (to, from) in [(UTF8, cs.as_slice()), (cs.as_slice(), UTF8)] {
                if Converter::open(to, from).is_err() {
                    return Err(IconvError::Open {
                        to: String::from_utf8_lossy(to).into_owned(),
                        from: String::from_utf8_lossy(from).into_owned(),
                        sender,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A charset that cannot be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum IconvError {
    /// rsync's `iconv_open("TO", "FROM") failed` (exit 4).
    #[error("iconv_open(\"{to}\", \"{from}\") failed")]
    Open {
        to: String,
        from: String,
        /// The sending side failed (else the receiving one).
        sender: bool,
    },
}

/// The name rsync gives iconv for UTF-8.
const UTF8: &[u8] = b"UTF-8";

/// rsync's `default_charset()` for an empty name or `.`.
fn resolve(name: &[u8]) -> Vec<u8> {
    if name.is_empty() || name == b"." {
        crate::sys::iconv::locale_codeset().into_bytes()
    } else {
        name.to_vec()
    }
}

/// A charset name compared loosely (`utf8`, `UTF-8`, `utf_8`), of the
/// bytes glibc reads in it (letters, digits, `.`, `:`, `,` and `/`).
fn canonical(name: &[u8]) -> String {
    name.iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b',' | b'/'))
        .map(|b| char::from(b.to_ascii_uppercase()))
        .collect()
}

/// A charset (canonical) whose names are not ASCII-compatible bytes:
/// UTF-16/32 and UCS (NUL bytes in every ASCII character), UTF-7 (state
/// across characters, `/` among its base64 bytes).
fn wide(canonical: &str) -> bool {
    ["UTF16", "UTF32", "UCS", "UTF7"]
        .iter()
        .any(|w| canonical.starts_with(w))
}

/// rsync's `RSYNC_ICONV`: a non-empty value is the `--iconv` default,
/// which any `--iconv` or `--no-iconv` on the command line overrides
/// (so it goes first, as if typed before every other argument).
pub(crate) fn env_default(
    args: &[std::ffi::OsString],
    env: Option<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len() + 1);
    if let Some(v) = env.filter(|v| !v.is_empty()) {
        let mut opt = std::ffi::OsString::from("--iconv=");
        opt.push(v);
        out.push(opt);
    }
    out.extend_from_slice(args);
    out
}

/// The conversions of one walker (one thread): LOCAL to UTF-8 (rsync's
/// sender), UTF-8 to REMOTE (its receiver).
#[derive(Debug)]
pub(crate) struct Names {
    send: Converter,
    recv: Converter,
    /// Symlink targets are converted too (protocol 30 and up).
    links: bool,
    /// Protocols 23 to 28: the receiver's messages about names reach the
    /// printing sender as UTF-8, which converts them to LOCAL (UTF-8 to
    /// LOCAL here); else they come escaped.
    client: Option<Converter>,
}

/// A name one side cannot convert.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unconvertible {
    /// The sender's LOCAL to UTF-8 failed.
    Sender(Errno),
    /// The receiver's UTF-8 to REMOTE failed; the UTF-8 name is kept for
    /// its message.
    Receiver(Vec<u8>, Errno),
}

impl Names {
    /// `None` if a charset cannot be opened (checked before the run).
    /// `links`: symlink targets are converted (rsync does from protocol
    /// 30 on; below, they travel as they are).
    /// `messages`: the receiver's messages are converted (see
    /// [`Names::receiver_shown`]).
    pub(crate) fn open(spec: &IconvSpec, links: bool, messages: bool) -> Option<Names> {
        // A wide LOCAL charset adds no step to messages (see [`Shown`]).
        let client = match messages && !wide(&canonical(&spec.local)) {
            true => Some(Converter::open(&spec.local, UTF8).ok()?),
            false => None,
        };
        Some(Names {
            send: Converter::open(UTF8, &spec.local).ok()?,
            recv: Converter::open(&spec.remote, UTF8).ok()?,
            links,
            client,
        })
    }

    /// A UTF-8 name in a message of rsync's receiver (`cannot convert
    /// filename`) as the run prints it: from protocol 29 escaped (as
    /// ASCII), at 23 to 28 converted to LOCAL by the printing sender (see
    /// [`Shown::printed`]), at 22 and below escaped by the receiver.
    pub(crate) fn receiver_shown(&mut self, utf8: &[u8]) -> Vec<u8> {
        match &mut self.client {
            Some(c) => client_printed(c, utf8),
            None => crate::text::escape_name(utf8, false).into_bytes(),
        }
    }

    /// The name the receiver writes for a LOCAL name (strict both ways),
    /// converted one `/`-separated level at a time (rsync converts a
    /// whole path, which a wide charset turns into a name with no `/`).
    /// A converted level no file name can be (a NUL byte or a `/` in it,
    /// or empty, `.` or `..` where the LOCAL one was not) is a name REMOTE
    /// cannot hold, as if its conversion failed (EILSEQ): rsync 3.5 cuts
    /// such names at the NUL and writes what is left, which can be
    /// another entry's name or `.` (arsync leaves them out instead).
    pub(crate) fn name(&mut self, local: &[u8]) -> Result<Vec<u8>, Unconvertible> {
        let levels: Vec<&[u8]> = local.split(|&b| b == b'/').collect();
        let mut utf8 = Vec::with_capacity(levels.len());
        for level in &levels {
            utf8.push(convert(&mut self.send, level).map_err(Unconvertible::Sender)?);
        }
        let mut out = Vec::with_capacity(local.len());
        for (i, (level, u)) in levels.iter().zip(&utf8).enumerate() {
            let remote = convert(&mut self.recv, u)
                .and_then(|r| holdable(level, r).ok_or(Errno::ILSEQ))
                .map_err(|e| Unconvertible::Receiver(utf8.join(&b'/'), e))?;
            if i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(&remote);
        }
        Ok(out)
    }

    /// `.` on the sending side: it keeps its name on the receiving one
    /// (DEST is named on the command line), but rsync's sender converts
    /// it too, which fails for a wide LOCAL charset (UTF-16: `Invalid
    /// argument`) and leaves the whole directory out.
    pub(crate) fn dot(&mut self) -> Result<(), Errno> {
        self.send.convert(b".", false).map(drop)
    }

    /// A symlink target as the receiver writes it, strict on both sides
    /// as names are (rsync 3.5's `cannot convert symlink data for`);
    /// unchanged below protocol 30.
    pub(crate) fn link(&mut self, local: &[u8]) -> Result<Vec<u8>, Unconvertible> {
        if !self.links {
            return Ok(local.to_vec());
        }
        self.name(local)
    }
}

/// One level of a name, strictly; an empty one stays empty (a target's
/// leading `/`, a `//`).
fn convert(c: &mut Converter, level: &[u8]) -> Result<Vec<u8>, Errno> {
    if level.is_empty() {
        return Ok(Vec::new());
    }
    c.convert(level, false)
}

/// `converted` if a file name can be it where the name was `level`.
fn holdable(level: &[u8], converted: Vec<u8>) -> Option<Vec<u8>> {
    let special = |n: &[u8]| n.is_empty() || n == b"." || n == b"..";
    let bad = converted.iter().any(|&b| b == 0 || b == b'/')
        || (special(&converted) && converted != level);
    (!bad).then_some(converted)
}

/// A UTF-8 message as rsync's sender prints it: converted to LOCAL
/// (`to_local`), each byte that does not convert written as `\#ooo`, the
/// rest escaped for control bytes only (its `rwrite()`).
fn client_printed(to_local: &mut Converter, utf8: &[u8]) -> Vec<u8> {
    let (local, marks) = to_local.convert_marking(utf8);
    let mut out = Vec::with_capacity(local.len() + 4 * marks.len());
    let mut at = 0;
    for (pos, byte) in marks {
        out.extend(crate::text::escape_output(&local[at..pos], false, true));
        out.extend(format!("\\#{byte:03o}").bytes());
        at = pos;
    }
    out.extend(crate::text::escape_output(&local[at..], false, true));
    out
}

/// What a deletion line shows for a REMOTE name: rsync's receiver sends
/// it converted from REMOTE to UTF-8, and the sender converts that again,
/// from LOCAL to UTF-8 (bad bytes kept each time). A wide charset's side
/// is not applied to messages (arsync's lines stay readable text, where
/// rsync's are UTF-16 and the like): a wide REMOTE name is shown as UTF-8
/// where it converts (else as it is), and a wide LOCAL adds no step.
#[derive(Debug)]
pub(crate) struct Shown {
    from_remote: Converter,
    /// `None` for a wide LOCAL charset.
    from_local: Option<Converter>,
    /// `None` for a wide LOCAL charset.
    to_local: Option<Converter>,
    /// REMOTE is a wide charset.
    remote_wide: bool,
}

impl Shown {
    pub(crate) fn open(spec: &IconvSpec) -> Option<Shown> {
        let local_wide = wide(&canonical(&spec.local));
        let local = |to: &[u8], from: &[u8]| -> Option<Option<Converter>> {
            match local_wide {
                true => Some(None),
                false => Converter::open(to, from).ok().map(Some),
            }
        };
        Some(Shown {
            from_remote: Converter::open(UTF8, &spec.remote).ok()?,
            from_local: local(UTF8, &spec.local)?,
            to_local: local(&spec.local, UTF8)?,
            remote_wide: wide(&canonical(&spec.remote)),
        })
    }

    /// A REMOTE name in UTF-8 as rsync's receiver sends it, bad bytes
    /// kept (what the sender's `--log-file` gets); a wide one level by
    /// level, each as it is if it does not convert.
    pub(crate) fn sent(&mut self, remote: &[u8]) -> Vec<u8> {
        if !self.remote_wide {
            return self
                .from_remote
                .convert(remote, true)
                .unwrap_or_else(|_| remote.to_vec());
        }
        let levels: Vec<Vec<u8>> = remote
            .split(|&b| b == b'/')
            .map(|l| convert(&mut self.from_remote, l).unwrap_or_else(|_| l.to_vec()))
            .collect();
        levels.join(&b'/')
    }

    /// A line of rsync's receiving process as its sender prints it: sent
    /// converted from REMOTE to UTF-8 ([`Shown::sent`]), then converted to
    /// LOCAL where each byte that does not convert is written as `\#ooo`
    /// and the rest is escaped for control bytes only (rsync's `rwrite()`
    /// of a converted message).
    pub(crate) fn printed(&mut self, remote: &[u8]) -> Vec<u8> {
        let utf8 = self.sent(remote);
        self.client(&utf8)
    }

    /// A UTF-8 line as rsync's sender prints it (see [`Shown::printed`]);
    /// a wide LOCAL charset adds no step.
    pub(crate) fn client(&mut self, utf8: &[u8]) -> Vec<u8> {
        match self.to_local.as_mut() {
            Some(c) => client_printed(c, utf8),
            None => crate::text::escape_output(utf8, false, true),
        }
    }

    /// The bytes a deletion line shows for `remote`.
    pub(crate) fn deleted(&mut self, remote: &[u8]) -> Vec<u8> {
        let utf8 = self.sent(remote);
        match self.from_local.as_mut() {
            Some(c) => c.convert(&utf8, true).unwrap_or(utf8),
            None => utf8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(l: &str, r: &str) -> IconvSpec {
        IconvSpec {
            local: l.as_bytes().to_vec(),
            remote: r.as_bytes().to_vec(),
        }
    }

    #[test]
    fn parse_splits_at_the_first_comma() {
        assert_eq!(IconvSpec::parse(b"-"), None);
        assert_eq!(IconvSpec::parse(b"latin1"), Some(spec("latin1", "latin1")));
        assert_eq!(
            IconvSpec::parse(b"latin1,utf8,x"),
            Some(spec("latin1", "utf8,x"))
        );
        let raw = IconvSpec::parse(b"latin\xe91,utf8").unwrap();
        assert_eq!(raw.local, b"latin\xe91");
    }

    #[test]
    fn values_not_utf8_name_what_glibc_reads_in_them() {
        // glibc reads the charset bytes of a name, as for rsync.
        let mut n = Names::open(&spec("latin\u{e9}1", "utf8"), true, false).unwrap();
        assert_eq!(n.name(b"caf\xe9").unwrap(), "café".as_bytes());
    }

    #[test]
    fn wide_names_convert_exactly_or_are_left_out() {
        assert!(spec("utf-8", "utf-16").receiver_can_fail());
        assert!(spec("utf-7", "utf-8").receiver_can_fail());
        let mut n = Names::open(&spec("utf-8", "utf-7"), true, false).unwrap();
        assert_eq!(n.name("café".as_bytes()).unwrap(), b"caf+AOk-");
        assert_eq!(n.name("d/é".as_bytes()).unwrap(), b"d/+AOk-");
        // Base64 of U+03FF holds a `/`.
        let ilseq = |s: &str| Err(Unconvertible::Receiver(s.into(), Errno::ILSEQ));
        assert_eq!(n.name("d/\u{3ff}".as_bytes()), ilseq("d/\u{3ff}"));
        // Every ASCII character has a NUL byte in UTF-16; others may not.
        let mut w = Names::open(&spec("utf-8", "utf-16le"), true, false).unwrap();
        assert_eq!(w.name(b"abc"), ilseq("abc"));
        assert_eq!(w.name(b"abd"), ilseq("abd"));
        assert_eq!(w.name("中/文".as_bytes()).unwrap(), b"\x2d\x4e/\x87\x65");
        assert_eq!(w.link("../中".as_bytes()), ilseq("../中"));
        // A LOCAL name that decodes to `/` or `.` is no name to write.
        let mut u7 = Names::open(&spec("utf-7", "utf-8"), true, false).unwrap();
        assert_eq!(u7.name(b"caf+AOk-").unwrap(), "café".as_bytes());
        assert_eq!(u7.name(b"+AC8-"), ilseq("/"));
        assert_eq!(u7.name(b"+AC4-"), ilseq("."));
        assert_eq!(
            u7.name("café".as_bytes()),
            Err(Unconvertible::Sender(Errno::ILSEQ))
        );
        assert!(u7.dot().is_ok());
        let mut u16 = Names::open(&spec("utf-16", "utf-8"), true, false).unwrap();
        assert_eq!(u16.dot(), Err(Errno::INVAL));
        assert_eq!(u16.name(b"abcd").unwrap(), "扡摣".as_bytes());
    }

    #[test]
    fn wide_charsets_stay_out_of_messages() {
        let mut to16 = Shown::open(&spec("utf-8", "utf-16le")).unwrap();
        assert_eq!(to16.deleted(b"\x2d\x4e/old"), "中/old".as_bytes());
        assert_eq!(to16.printed(b"\x2d\x4e"), "中".as_bytes());
        let mut from16 = Shown::open(&spec("utf-16", "utf-8")).unwrap();
        assert_eq!(from16.deleted("gonë".as_bytes()), "gonë".as_bytes());
        assert_eq!(from16.printed("lénk".as_bytes()), "lénk".as_bytes());
    }

    #[test]
    fn the_receiver_fails_where_remote_lacks_a_character() {
        assert!(!spec("latin1", "UTF-8").receiver_can_fail());
        assert!(!spec("latin1", "LATIN1").receiver_can_fail());
        assert!(spec("utf8", "latin1").receiver_can_fail());
        assert!(spec("utf8", "ascii//TRANSLIT").receiver_can_fail());
        let mut n = Names::open(&spec("utf8", "latin1"), true, false).unwrap();
        assert_eq!(n.name("dé".as_bytes()).unwrap(), b"d\xe9");
        assert_eq!(
            n.name("€".as_bytes()),
            Err(Unconvertible::Receiver("€".into(), Errno::ILSEQ))
        );
        assert!(matches!(
            n.link("€".as_bytes()),
            Err(Unconvertible::Receiver(..))
        ));
        assert_eq!(n.receiver_shown("€".as_bytes()), b"\\#342\\#202\\#254");
        let mut old = Names::open(&spec("utf8", "latin1"), false, true).unwrap();
        assert_eq!(old.receiver_shown("€\n".as_bytes()), "€\\#012".as_bytes());
        let mut t = Names::open(&spec("utf8", "ascii//TRANSLIT"), true, false).unwrap();
        assert_eq!(t.name("€uro".as_bytes()).unwrap(), b"EURuro");
    }

    #[test]
    fn rsync_iconv_goes_before_the_arguments() {
        let args = vec!["-a".into(), "--no-iconv".into()];
        let with = env_default(&args, Some("latin1,utf8".into()));
        assert_eq!(with, ["--iconv=latin1,utf8", "-a", "--no-iconv"]);
        assert_eq!(env_default(&args, Some("".into())), args);
        assert_eq!(env_default(&args, None), args);
    }

    #[test]
    fn names_links_and_deletions() {
        let s = spec("latin1", "utf8");
        let mut n = Names::open(&s, true, false).unwrap();
        assert_eq!(n.name(b"d\xe9/f\xe9").unwrap(), "dé/fé".as_bytes());
        let mut u = Names::open(&spec("utf8", "utf8"), true, false).unwrap();
        assert_eq!(u.name(b"caf\xe9"), Err(Unconvertible::Sender(Errno::INVAL)));
        assert_eq!(u.link(b"x\xff"), Err(Unconvertible::Sender(Errno::ILSEQ)));
        let mut old = Names::open(&spec("utf8", "utf8"), false, false).unwrap();
        assert_eq!(old.link(b"x\xff").unwrap(), b"x\xff");
        let mut d = Shown::open(&s).unwrap();
        assert_eq!(d.deleted(b"x\xff"), "xÿ".as_bytes());
        assert_eq!(d.deleted("gonë".as_bytes()), "gonÃ«".as_bytes());
        assert_eq!(d.printed("lénk".as_bytes()), b"l\xe9nk");
        // Bad bytes of REMOTE are kept, then written as escapes when
        // LOCAL cannot take them; control bytes are escaped.
        assert_eq!(d.printed(b"caf\xe9\n"), b"caf\\#351\\#012");
        let mut r = Shown::open(&spec("utf8", "latin1")).unwrap();
        assert_eq!(r.printed("café".as_bytes()), "cafÃ©".as_bytes());
        assert!(matches!(
            spec("bogus", "utf8").check(),
            Err(IconvError::Open { sender: true, .. })
        ));
    }
}
