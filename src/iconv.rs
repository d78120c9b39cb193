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
//! Every spec runs here, `//TRANSLIT` and `//IGNORE` included (glibc gives
//! the same names the same bytes), and so do values that are not UTF-8
//! (glibc reads the bytes a charset name can hold); converting specs below
//! protocol 29 are handed over (`implemented()` in lib.rs). Both sides are
//! strict on names and, from protocol 30, symlink targets (below, targets
//! travel unconverted). `RSYNC_ICONV` is the default spec ([`env_default`]).
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
//! incremental recursion (`--no-i-r`, `--protocol=29`, `-d`) this is
//! deterministic over 20 runs and matched. With incremental recursion
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

/// Whether arsync runs this `--iconv` value itself (else it goes to the
/// system rsync): every value. glibc opens the same names as for rsync;
/// `//TRANSLIT` and `//IGNORE` suffixes, wide charsets (UTF-16/32, UCS,
/// UTF-7: names converted exactly, one whose conversion no file can have
/// is left out, see [`Names::name`]) and values that are not UTF-8 (the
/// bytes glibc reads in them) included.
pub(crate) fn native(_value: &[u8]) -> bool {
    true
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
    pub(crate) fn open(spec: &IconvSpec, links: bool) -> Option<Names> {
        Some(Names {
            send: Converter::open(UTF8, &spec.local).ok()?,
            recv: Converter::open(&spec.remote, UTF8).ok()?,
            links,
        })
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

    /// A REMOTE name in UTF-8 as rsync's receiver sends it (bad bytes
    /// kept); a wide one level by level, each as it is if it does not
    /// convert.
    fn utf8(&mut self, remote: &[u8]) -> Vec<u8> {
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

    /// The bytes a message of rsync's receiving process shows for a
    /// REMOTE name: converted to UTF-8 there, and from UTF-8 to LOCAL by
    /// the sender that prints it (bad bytes kept each time).
    pub(crate) fn server(&mut self, remote: &[u8]) -> Vec<u8> {
        let utf8 = self.utf8(remote);
        match self.to_local.as_mut() {
            Some(c) => c.convert(&utf8, true).unwrap_or(utf8),
            None => utf8,
        }
    }

    /// The bytes a deletion line shows for `remote`.
    pub(crate) fn deleted(&mut self, remote: &[u8]) -> Vec<u8> {
        let utf8 = self.utf8(remote);
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
    fn every_value_is_native() {
        for v in [
            &b"-"[..],
            b"latin1,utf8",
            b"bogus",
            b"utf8,ASCII//TRANSLIT",
            b"UTF-16,utf8",
            b"utf8,ucs-2",
            b"utf-8,utf-7",
            b"latin1,\xff",
        ] {
            assert!(native(v));
        }
        // glibc reads the charset bytes of a name, as for rsync.
        let mut n = Names::open(&spec("latin\u{e9}1", "utf8"), true).unwrap();
        assert_eq!(n.name(b"caf\xe9").unwrap(), "café".as_bytes());
    }

    #[test]
    fn wide_names_convert_exactly_or_are_left_out() {
        assert!(spec("utf-8", "utf-16").receiver_can_fail());
        assert!(spec("utf-7", "utf-8").receiver_can_fail());
        let mut n = Names::open(&spec("utf-8", "utf-7"), true).unwrap();
        assert_eq!(n.name("café".as_bytes()).unwrap(), b"caf+AOk-");
        assert_eq!(n.name("d/é".as_bytes()).unwrap(), b"d/+AOk-");
        // Base64 of U+03FF holds a `/`.
        let ilseq = |s: &str| Err(Unconvertible::Receiver(s.into(), Errno::ILSEQ));
        assert_eq!(n.name("d/\u{3ff}".as_bytes()), ilseq("d/\u{3ff}"));
        // Every ASCII character has a NUL byte in UTF-16; others may not.
        let mut w = Names::open(&spec("utf-8", "utf-16le"), true).unwrap();
        assert_eq!(w.name(b"abc"), ilseq("abc"));
        assert_eq!(w.name(b"abd"), ilseq("abd"));
        assert_eq!(w.name("中/文".as_bytes()).unwrap(), b"\x2d\x4e/\x87\x65");
        assert_eq!(w.link("../中".as_bytes()), ilseq("../中"));
        // A LOCAL name that decodes to `/` or `.` is no name to write.
        let mut u7 = Names::open(&spec("utf-7", "utf-8"), true).unwrap();
        assert_eq!(u7.name(b"caf+AOk-").unwrap(), "café".as_bytes());
        assert_eq!(u7.name(b"+AC8-"), ilseq("/"));
        assert_eq!(u7.name(b"+AC4-"), ilseq("."));
        assert_eq!(
            u7.name("café".as_bytes()),
            Err(Unconvertible::Sender(Errno::ILSEQ))
        );
        assert!(u7.dot().is_ok());
        let mut u16 = Names::open(&spec("utf-16", "utf-8"), true).unwrap();
        assert_eq!(u16.dot(), Err(Errno::INVAL));
        assert_eq!(u16.name(b"abcd").unwrap(), "扡摣".as_bytes());
    }

    #[test]
    fn wide_charsets_stay_out_of_messages() {
        let mut to16 = Shown::open(&spec("utf-8", "utf-16le")).unwrap();
        assert_eq!(to16.deleted(b"\x2d\x4e/old"), "中/old".as_bytes());
        assert_eq!(to16.server(b"\x2d\x4e"), "中".as_bytes());
        let mut from16 = Shown::open(&spec("utf-16", "utf-8")).unwrap();
        assert_eq!(from16.deleted("gonë".as_bytes()), "gonë".as_bytes());
        assert_eq!(from16.server("lénk".as_bytes()), "lénk".as_bytes());
    }

    #[test]
    fn the_receiver_fails_where_remote_lacks_a_character() {
        assert!(!spec("latin1", "UTF-8").receiver_can_fail());
        assert!(!spec("latin1", "LATIN1").receiver_can_fail());
        assert!(spec("utf8", "latin1").receiver_can_fail());
        assert!(spec("utf8", "ascii//TRANSLIT").receiver_can_fail());
        let mut n = Names::open(&spec("utf8", "latin1"), true).unwrap();
        assert_eq!(n.name("dé".as_bytes()).unwrap(), b"d\xe9");
        assert_eq!(
            n.name("€".as_bytes()),
            Err(Unconvertible::Receiver("€".into(), Errno::ILSEQ))
        );
        assert!(matches!(
            n.link("€".as_bytes()),
            Err(Unconvertible::Receiver(..))
        ));
        let mut t = Names::open(&spec("utf8", "ascii//TRANSLIT"), true).unwrap();
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
        let mut n = Names::open(&s, true).unwrap();
        assert_eq!(n.name(b"d\xe9/f\xe9").unwrap(), "dé/fé".as_bytes());
        let mut u = Names::open(&spec("utf8", "utf8"), true).unwrap();
        assert_eq!(u.name(b"caf\xe9"), Err(Unconvertible::Sender(Errno::INVAL)));
        assert_eq!(u.link(b"x\xff"), Err(Unconvertible::Sender(Errno::ILSEQ)));
        let mut old = Names::open(&spec("utf8", "utf8"), false).unwrap();
        assert_eq!(old.link(b"x\xff").unwrap(), b"x\xff");
        let mut d = Shown::open(&s).unwrap();
        assert_eq!(d.deleted(b"x\xff"), "xÿ".as_bytes());
        assert_eq!(d.deleted("gonë".as_bytes()), "gonÃ«".as_bytes());
        assert_eq!(d.server("lénk".as_bytes()), b"l\xe9nk");
        assert!(matches!(
            spec("bogus", "utf8").check(),
            Err(IconvError::Open { sender: true, .. })
        ));
    }
}
