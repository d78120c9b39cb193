//! What each option that is more than a switch or a counter does to the
//! parse state, one small function per option (named after it), called by
//! the parser strictly in command-line order through the spec's
//! [`Apply::Run`](super::spec::Apply::Run).
//!
//! Order matters exactly as in rsync (`-a --no-perms` differs from
//! `--no-perms -a`); what can only be decided once every option has been
//! seen goes into [`Raw`] and is resolved by `finish` in `cli/mod.rs`.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::lex::{Event, lossy};
use super::spec::Id;
use super::{DEBUG_FLAGS, INFO_FLAGS, UsageError, words};
use crate::filter::FilterArg;
use crate::options::{BasisKind, EngineChoice, Options, Recurse, SuperMode};

/// The parse state options are applied to.
#[derive(Default)]
pub(crate) struct State {
    pub o: Options,
    pub raw: Raw,
}

/// Option state that is only resolved once all options are seen (rsync
/// decides these after its option loop, in `parse_arguments`).
#[derive(Default)]
pub(crate) struct Raw {
    /// `-V` count (`-VV` prints JSON in rsync).
    pub version: u8,
    pub delete_mode: bool,
    pub delete_before: bool,
    pub delete_during: u8,
    pub delete_after: bool,
    pub max_delete: Option<i64>,
    pub suffix: Option<OsString>,
    pub missing_ignore: bool,
    pub missing_delete: bool,
    /// `-d` or `--no-d` was given (rsync's `xfer_dirs` is then no longer
    /// "unset", which list-only mode would turn on).
    pub dirs_set: bool,
    /// `--old-dirs` was the last of `-d`/`--no-d`/`--old-dirs` (rsync's
    /// `xfer_dirs` 4): recursion with `- /*/*` after the user's rules.
    pub old_dirs: bool,
    /// `-R` / `--no-relative`, if given (`--files-from` turns it on).
    pub relative: Option<bool>,
    /// `--zc=NAME`, checked against rsync's list after parsing.
    pub compress_choice: Option<String>,
    /// `--cc=NAME[,NAME]`, checked against rsync's list after parsing.
    pub checksum_choice: Option<String>,
    /// `--old-args` count and `-s`/`--no-s`: rsync refuses both together.
    pub old_args: u8,
    pub secluded_args: Option<bool>,
    /// `--contimeout` (daemon only: rsync refuses a non-zero one locally).
    pub contimeout: i64,
    /// `--password-file` given (daemon only: refused locally).
    pub password_file: bool,
    pub qsort: bool,
    /// `--drop-D`: the receiver creates no devices or specials.
    pub drop_d: bool,
    /// `--confine-root=DIR` as given (the last one counts), checked after
    /// parsing: absolute, and not with `--insecure-links`.
    pub confine_root: Option<OsString>,
}

type Res = Result<(), UsageError>;

fn text(ev: &Event) -> String {
    ev.value.as_deref().map(lossy).unwrap_or_default()
}

fn path(ev: &Event) -> Option<PathBuf> {
    ev.value.clone().map(Into::into)
}

fn bytes(ev: &Event) -> Option<Vec<u8>> {
    ev.value.as_deref().map(|v| v.as_bytes().to_vec())
}

/// popt's number: C's `strtol` in base 0 (leading blanks, a sign, `0x`
/// for hex, a leading `0` for octal) that must use the whole text; an
/// empty text is 0. `None`: not a number. Saturates far beyond `int`.
pub(crate) fn popt_long(text: &[u8]) -> Option<i128> {
    if text.is_empty() {
        return Some(0);
    }
    let start = text
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r'))?;
    let mut t = &text[start..];
    let negative = t.first() == Some(&b'-');
    if matches!(t.first(), Some(b'-' | b'+')) {
        t = &t[1..];
    }
    let (radix, digits) = match t {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', rest @ ..] if !rest.is_empty() => (8, rest),
        _ => (10, t),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i128 = 0;
    for &c in digits {
        let d = char::from(c).to_digit(radix)?;
        v = v
            .saturating_mul(i128::from(radix))
            .saturating_add(i128::from(d));
    }
    Some(if negative { -v } else { v })
}

/// popt's POPT_ARG_INT conversion with its two error messages.
pub(crate) fn parse_int(ev: &Event) -> Result<i64, UsageError> {
    let raw = ev.value.as_deref().unwrap_or_default();
    let shown = if ev.attached {
        ev.token.clone()
    } else {
        lossy(raw)
    };
    let invalid = || UsageError(format!("{shown}: invalid numeric value"));
    let v = popt_long(raw.as_bytes()).ok_or_else(invalid)?;
    if v < i32::MIN as i128 || v > i32::MAX as i128 {
        return Err(UsageError(format!(
            "{shown}: number too large or too small"
        )));
    }
    Ok(v as i64)
}

// --- output -----------------------------------------------------------------

pub(super) fn version(st: &mut State, _: &Event) -> Res {
    st.raw.version = st.raw.version.saturating_add(1);
    Ok(())
}

/// `--info=` / `--debug=`: rsync's words, checked; arsync keeps the
/// `--info` levels it renders (others are handed over before parsing, see
/// `output_words_supported`).
pub(super) fn info(st: &mut State, ev: &Event) -> Res {
    let is_info = ev.spec.id == Id::Info;
    let v = ev.value.as_deref().unwrap_or_default().as_bytes();
    let (flags, what) = if is_info {
        (INFO_FLAGS, "info")
    } else {
        (DEBUG_FLAGS, "debug")
    };
    for w in words(v) {
        let known = flags.contains(&w.name.as_str()) || w.name == "ALL" || w.name == "NONE";
        if !known {
            let all = String::from_utf8_lossy(v);
            let item = all
                .split(',')
                .find(|x| x.to_ascii_uppercase().starts_with(&w.name))
                .unwrap_or(&w.name)
                .to_string();
            return Err(UsageError(format!("Unknown --{what} item: \"{item}\"")));
        }
        if !is_info {
            continue;
        }
        let slot = match w.name.as_str() {
            "NAME" => &mut st.o.info.name,
            "PROGRESS" => &mut st.o.info.progress,
            "STATS" => &mut st.o.info.stats,
            "FLIST" => &mut st.o.info.flist,
            _ => continue,
        };
        *slot = Some(w.level);
    }
    Ok(())
}

pub(super) fn partial_progress(st: &mut State, _: &Event) -> Res {
    st.o.partial = true;
    st.o.progress = true;
    Ok(())
}

pub(super) fn out_format(st: &mut State, ev: &Event) -> Res {
    st.o.out_format = bytes(ev);
    Ok(())
}

pub(super) fn log_file(st: &mut State, ev: &Event) -> Res {
    st.o.log_file = path(ev);
    Ok(())
}

/// `--iconv=SPEC` (`-` and `--no-iconv`: no conversion).
pub(super) fn iconv(st: &mut State, ev: &Event) -> Res {
    st.o.iconv = match ev.negated() {
        true => None,
        false => crate::iconv::IconvSpec::parse(&bytes(ev).unwrap_or_default()),
    };
    Ok(())
}

pub(super) fn log_file_format(st: &mut State, ev: &Event) -> Res {
    st.o.log_file_format = bytes(ev);
    Ok(())
}

// --- what to transfer --------------------------------------------------------

/// `-a` = `-rlptgoD`; an explicit `-r` stays explicit.
pub(super) fn archive(st: &mut State, _: &Event) -> Res {
    let o = &mut st.o;
    if o.recursive == Recurse::No {
        o.recursive = Recurse::Implied;
    }
    o.links = true;
    o.perms = true;
    o.times = true;
    o.group = true;
    o.owner = true;
    o.devices = true;
    o.specials = true;
    Ok(())
}

pub(super) fn recursive(st: &mut State, ev: &Event) -> Res {
    st.o.recursive = if ev.negated() {
        Recurse::No
    } else {
        Recurse::Explicit
    };
    Ok(())
}

pub(super) fn relative(st: &mut State, ev: &Event) -> Res {
    st.raw.relative = Some(!ev.negated());
    Ok(())
}

pub(super) fn dirs(st: &mut State, ev: &Event) -> Res {
    st.o.dirs = !ev.negated();
    st.raw.dirs_set = true;
    st.raw.old_dirs = false;
    Ok(())
}

/// `--old-dirs`: shares `-d`'s setting; resolved in `finish`.
pub(super) fn old_dirs(st: &mut State, _: &Event) -> Res {
    st.o.dirs = true;
    st.raw.dirs_set = true;
    st.raw.old_dirs = true;
    Ok(())
}

pub(super) fn files_from(st: &mut State, ev: &Event) -> Res {
    st.o.files_from = ev.value.clone();
    Ok(())
}

pub(super) fn devices_specials(st: &mut State, ev: &Event) -> Res {
    st.o.devices = !ev.negated();
    st.o.specials = !ev.negated();
    Ok(())
}

/// `--max-size` / `--min-size` with rsync's size suffixes.
pub(super) fn size_limit(st: &mut State, ev: &Event) -> Res {
    let (name, slot) = if ev.spec.id == Id::MaxSize {
        ("max-size", &mut st.o.max_size)
    } else {
        ("min-size", &mut st.o.min_size)
    };
    *slot = Some(crate::filter::parse_size(name, &text(ev)).map_err(|e| UsageError(e.0))?);
    Ok(())
}

/// The filter family, kept in command-line order for `filter`.
pub(super) fn filter(st: &mut State, ev: &Event) -> Res {
    let v = ev.value.clone().unwrap_or_default();
    st.o.filters.push(match ev.spec.id {
        Id::Filter => FilterArg::Filter(v),
        Id::Exclude => FilterArg::Exclude(v),
        Id::Include => FilterArg::Include(v),
        Id::ExcludeFrom => FilterArg::ExcludeFrom(v),
        Id::IncludeFrom => FilterArg::IncludeFrom(v),
        Id::CvsExclude => FilterArg::CvsExclude,
        _ => FilterArg::ShortF,
    });
    Ok(())
}

// --- attributes --------------------------------------------------------------

/// rsync turns `--perms` on right here, so a later `--no-perms` wins.
pub(super) fn acls(st: &mut State, ev: &Event) -> Res {
    st.o.acls = !ev.negated();
    if !ev.negated() {
        st.o.perms = true;
    }
    Ok(())
}

/// A second `-U` also turns on `--open-noatime`.
pub(super) fn atimes(st: &mut State, ev: &Event) -> Res {
    if !ev.negated() && st.o.atimes {
        st.o.open_noatime = true;
    }
    st.o.atimes = !ev.negated();
    Ok(())
}

pub(super) fn super_mode(st: &mut State, ev: &Event) -> Res {
    st.o.super_mode = Some(match (ev.spec.id, ev.negated()) {
        (Id::FakeSuper, _) => SuperMode::Fake,
        (_, true) => SuperMode::NoSuper,
        (_, false) => SuperMode::Super,
    });
    Ok(())
}

pub(super) fn chmod(st: &mut State, ev: &Event) -> Res {
    let rules = crate::chmod::parse(&text(ev)).map_err(|e| UsageError(e.to_string()))?;
    st.o.chmod.append(rules);
    Ok(())
}

/// `--usermap` turns `-o` on at this point of the command line (a later
/// `--no-o` cancels it); `--groupmap` likewise `-g`.
pub(super) fn usermap(st: &mut State, ev: &Event) -> Res {
    st.o.maps.usermap(&text(ev)).map_err(UsageError)?;
    st.o.owner = true;
    Ok(())
}

pub(super) fn groupmap(st: &mut State, ev: &Event) -> Res {
    st.o.maps.groupmap(&text(ev)).map_err(UsageError)?;
    st.o.group = true;
    Ok(())
}

/// A user part turns `-o` on here, a group part `-g`.
pub(super) fn chown(st: &mut State, ev: &Event) -> Res {
    let (user, group) = st.o.maps.chown(&text(ev)).map_err(UsageError)?;
    st.o.owner |= user;
    st.o.group |= group;
    Ok(())
}

pub(super) fn remote_option(st: &mut State, ev: &Event) -> Res {
    st.o.remote_options
        .push(ev.value.clone().unwrap_or_default());
    Ok(())
}

pub(super) fn copy_as(st: &mut State, ev: &Event) -> Res {
    st.o.copy_as = Some(text(ev));
    Ok(())
}

pub(super) fn modify_window(st: &mut State, ev: &Event) -> Res {
    st.o.modify_window = parse_int(ev)?;
    Ok(())
}

// --- how to write --------------------------------------------------------------

pub(super) fn whole_file(st: &mut State, ev: &Event) -> Res {
    st.o.whole_file = Some(!ev.negated());
    Ok(())
}

pub(super) fn temp_dir(st: &mut State, ev: &Event) -> Res {
    st.o.temp_dir = path(ev);
    Ok(())
}

pub(super) fn confine_root(st: &mut State, ev: &Event) -> Res {
    st.raw.confine_root = ev.value.clone();
    Ok(())
}

pub(super) fn partial_dir(st: &mut State, ev: &Event) -> Res {
    st.o.partial_dir = path(ev);
    Ok(())
}

pub(super) fn copy_engine(st: &mut State, ev: &Event) -> Res {
    let v = text(ev);
    st.o.engine = EngineChoice::parse(&v).ok_or_else(|| {
        UsageError(format!(
            "--copy-engine={v}: expected auto, vec, read-managed, write-managed or copy-file-range"
        ))
    })?;
    Ok(())
}

// --- backups and basis dirs ------------------------------------------------------

pub(super) fn backup_dir(st: &mut State, ev: &Event) -> Res {
    st.o.backup_dir = path(ev);
    Ok(())
}

pub(super) fn suffix(st: &mut State, ev: &Event) -> Res {
    st.raw.suffix = ev.value.clone();
    Ok(())
}

/// `--link-dest`, `--compare-dest`, `--copy-dest`: up to 20 of one kind.
pub(super) fn basis(st: &mut State, ev: &Event) -> Res {
    let kind = match ev.spec.id {
        Id::LinkDest => BasisKind::Link,
        Id::CompareDest => BasisKind::Compare,
        _ => BasisKind::Copy,
    };
    let dir: PathBuf = ev.value.clone().unwrap_or_default().into();
    match &mut st.o.basis {
        Some((k, dirs)) if *k == kind => {
            if dirs.len() >= 20 {
                return Err(UsageError(format!(
                    "ERROR: at most 20 --{} args may be specified",
                    kind.option_name()
                )));
            }
            dirs.push(dir);
        }
        Some((k, _)) => {
            return Err(UsageError(format!(
                "ERROR: the --{} option conflicts with the --{} option",
                kind.option_name(),
                k.option_name()
            )));
        }
        None => st.o.basis = Some((kind, vec![dir])),
    }
    Ok(())
}

// --- deletion ------------------------------------------------------------------

/// The `--delete-WHEN` family; `finish` checks that only one was given.
pub(super) fn delete(st: &mut State, ev: &Event) -> Res {
    let raw = &mut st.raw;
    match ev.spec.id {
        Id::Delete => raw.delete_mode = true,
        Id::DeleteBefore => raw.delete_before = true,
        Id::DeleteDelay => raw.delete_during = 2,
        Id::DeleteAfter => raw.delete_after = true,
        _ => raw.delete_during = 1,
    }
    Ok(())
}

pub(super) fn max_delete(st: &mut State, ev: &Event) -> Res {
    st.raw.max_delete = Some(parse_int(ev)?);
    Ok(())
}

pub(super) fn missing_args(st: &mut State, ev: &Event) -> Res {
    if ev.spec.id == Id::DeleteMissingArgs {
        st.raw.missing_delete = true;
    } else {
        st.raw.missing_ignore = true;
    }
    Ok(())
}

// --- options that only mean something between two hosts ----------------------

/// `--protocol=NUM`: the protocol rsync would speak (the last one given);
/// what it changes: `grep -- '--protocol\|opts.protocol\|whole_seconds' src`
/// (`cli::finish`, `walk`, `report`, and the refusal in `lib.rs`).
pub(super) fn protocol(st: &mut State, ev: &Event) -> Res {
    st.o.protocol = parse_int(ev)?;
    Ok(())
}

/// A numeric option without effect on a local copy (`--port`,
/// `--checksum-seed`, `--compress-level`, …): popt still checks the
/// number.
pub(super) fn numeric(_: &mut State, ev: &Event) -> Res {
    parse_int(ev).map(drop)
}

/// `--zc`: checked against rsync's list once the options are parsed.
pub(super) fn compress_choice(st: &mut State, ev: &Event) -> Res {
    st.raw.compress_choice = Some(text(ev));
    Ok(())
}

pub(super) fn old_args(st: &mut State, ev: &Event) -> Res {
    st.raw.old_args = if ev.negated() {
        0
    } else {
        st.raw.old_args.saturating_add(1)
    };
    Ok(())
}

pub(super) fn secluded_args(st: &mut State, ev: &Event) -> Res {
    st.raw.secluded_args = Some(!ev.negated());
    Ok(())
}

pub(super) fn contimeout(st: &mut State, ev: &Event) -> Res {
    st.raw.contimeout = if ev.negated() { 0 } else { parse_int(ev)? };
    Ok(())
}

pub(super) fn password_file(st: &mut State, _: &Event) -> Res {
    st.raw.password_file = true;
    Ok(())
}

/// `--qsort` sorts the whole list at once, so no incremental recursion.
pub(super) fn qsort(st: &mut State, _: &Event) -> Res {
    st.raw.qsort = true;
    Ok(())
}

/// `--max-alloc`: checked as rsync checks it; arsync's memory is bounded
/// by design, so the limit itself has nothing to do.
pub(super) fn max_alloc(_: &mut State, ev: &Event) -> Res {
    sized(ev, b'b', Limits::min(1 << 20)).map(drop)
}

/// `-B`: checked as rsync checks it; a local copy sends whole files.
pub(super) fn block_size(_: &mut State, ev: &Event) -> Res {
    sized(ev, b'b', Limits::max(128 << 10)).map(drop)
}

/// `-N`: rsync on Linux refuses it where it is given (`--no-N` is fine).
pub(super) fn crtimes(_: &mut State, ev: &Event) -> Res {
    if ev.negated() {
        return Ok(());
    }
    Err(super::refuse(ev.spec))
}

// --- output and transfer control ------------------------------------------------

pub(super) fn stderr(st: &mut State, ev: &Event) -> Res {
    use crate::options::StderrMode as M;
    st.o.stderr_mode = match (ev.spec.id, ev.negated()) {
        (Id::Msgs2Stderr, true) => M::Errors,
        (Id::Msgs2Stderr, false) => M::All,
        _ => {
            let v = text(ev);
            M::by_prefix(&v).ok_or_else(|| {
                UsageError(format!(
                    "--stderr mode \"{v}\" is not one of errors, all, or client"
                ))
            })?
        }
    };
    Ok(())
}

pub(super) fn outbuf(st: &mut State, ev: &Event) -> Res {
    use crate::options::OutBuf;
    st.o.outbuf = Some(
        match text(ev).bytes().next().map(|b| b.to_ascii_uppercase()) {
            Some(b'N') => OutBuf::None,
            Some(b'L') => OutBuf::Line,
            Some(b'B') => OutBuf::Block,
            _ => {
                return Err(UsageError(
                    "Invalid --outbuf setting -- specify N, L, or B.".into(),
                ));
            }
        },
    );
    Ok(())
}

/// `--append` (1) and `--append-verify` (2); `--no-append` turns both off.
pub(super) fn append(st: &mut State, ev: &Event) -> Res {
    use crate::options::Append;
    st.o.append = match ev.spec.id {
        Id::Append => Append::Plain,
        Id::AppendVerify => Append::Verify,
        _ => Append::No,
    };
    Ok(())
}

pub(super) fn timeout(st: &mut State, ev: &Event) -> Res {
    st.o.timeout = if ev.negated() {
        0
    } else {
        parse_int(ev)?.max(0) as u64
    };
    Ok(())
}

/// `--bwlimit=RATE`: KiB/s by default, rsync's suffixes, rounded to whole
/// KiB as rsync does; 0 means no limit.
pub(super) fn bwlimit(st: &mut State, ev: &Event) -> Res {
    if ev.negated() {
        st.o.bwlimit = None;
        return Ok(());
    }
    let bytes = sized(ev, b'K', Limits::min(512))?;
    let kib = bytes.saturating_add(512) / 1024;
    st.o.bwlimit = (kib > 0).then(|| kib.saturating_mul(1024));
    Ok(())
}

pub(super) fn checksum_choice(st: &mut State, ev: &Event) -> Res {
    st.raw.checksum_choice = Some(text(ev));
    Ok(())
}

pub(super) fn drop_d(st: &mut State, ev: &Event) -> Res {
    st.raw.drop_d = !ev.negated();
    Ok(())
}

/// `--stop-after=MINS` / `--time-limit=MINS`.
pub(super) fn stop_after(st: &mut State, ev: &Event) -> Res {
    let v = text(ev);
    let mins: u64 = v
        .trim()
        .parse()
        .ok()
        .filter(|&m| m > 0)
        .ok_or_else(|| UsageError(format!("invalid --stop-after value: {v}")))?;
    let at = std::time::SystemTime::now() + std::time::Duration::from_secs(mins * 60);
    st.o.stop_at = Some(at);
    Ok(())
}

/// `--stop-at=y-m-dTh:m`, the next local time that matches.
pub(super) fn stop_at(st: &mut State, ev: &Event) -> Res {
    let v = text(ev);
    let spec = super::stopat::parse(&v)
        .ok_or_else(|| UsageError(format!("invalid --stop-at format: {v}")))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let at = super::stopat::next_match(&spec, now)
        .filter(|&t| t > now)
        .ok_or_else(|| UsageError(format!("--stop-at time is not in the future: {v}")))?;
    st.o.stop_at = Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(at as u64));
    Ok(())
}

// --- sizes with limits (rsync's parse_size_arg) ---------------------------------

/// The range a sized option accepts; `zero_ok`: 0 means "unlimited".
struct Limits {
    min: u64,
    max: Option<u64>,
    zero_ok: bool,
}

impl Limits {
    fn min(min: u64) -> Limits {
        Limits {
            min,
            max: None,
            zero_ok: true,
        }
    }

    fn max(max: u64) -> Limits {
        Limits {
            min: 0,
            max: Some(max),
            zero_ok: false,
        }
    }
}

/// rsync's short size form for limits in messages: `512`, `1.00M`, `128.00K`.
fn short_size(n: u64) -> String {
    let mut v = n as f64;
    let mut unit = "";
    for u in ["K", "M", "G", "T"] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if unit.is_empty() {
        n.to_string()
    } else {
        format!("{v:.2}{unit}")
    }
}

/// A size value with its default unit and limits, with rsync's messages.
fn sized(ev: &Event, unit: u8, lim: Limits) -> Result<u64, UsageError> {
    let name = ev.name.long.unwrap_or_default();
    let v = text(ev);
    let too_large = |max: Option<u64>| match max {
        Some(m) => format!("--{name}={v} is too large (max: {})", short_size(m)),
        None => format!("--{name}={v} is too large"),
    };
    let n = match crate::filter::parse_size_with(name, &v, unit) {
        Ok(n) => n,
        Err(e) if e.0.ends_with("too large") => return Err(UsageError(too_large(lim.max))),
        Err(e) => return Err(UsageError(e.0)),
    };
    if lim.max.is_some_and(|m| n > m) {
        return Err(UsageError(too_large(lim.max)));
    }
    if n < lim.min && !(lim.zero_ok && n == 0) {
        let zero = if lim.zero_ok {
            " or 0 for unlimited"
        } else {
            ""
        };
        return Err(UsageError(format!(
            "--{name}={v} is too small (min: {}{zero})",
            short_size(lim.min)
        )));
    }
    Ok(n)
}
