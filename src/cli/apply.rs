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
    /// `-R` / `--no-relative`, if given (`--files-from` turns it on).
    pub relative: Option<bool>,
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

/// popt's POPT_ARG_INT conversion with its two error messages.
pub(crate) fn parse_int(ev: &Event) -> Result<i64, UsageError> {
    let raw = ev.value.as_deref().unwrap_or_default();
    let shown = if ev.attached {
        ev.token.clone()
    } else {
        lossy(raw)
    };
    let invalid = || UsageError(format!("{shown}: invalid numeric value"));
    let text = std::str::from_utf8(raw.as_bytes()).map_err(|_| invalid())?;
    if text.is_empty() {
        return Ok(0);
    }
    let v: i128 = text.trim_start().parse().map_err(|_| invalid())?;
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
