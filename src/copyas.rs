//! `--copy-as=USER[:GROUP]`: the run gives up root for USER (and GROUP,
//! else USER's primary group and groups) before it reads a source or
//! writes DEST, as rsync's `become_copy_as_user()` does on both sides of a
//! local copy. Rule files and the log file are opened before, as root.
//!
//! The messages are rsync's, said once per rsync process that would say
//! them (its sender and its receiver both switch): a bad name is reported
//! twice, a failed switch once per side that fails.

use crate::exit::ExitCode;
use crate::report::Report;
use crate::sys::ids;

/// A USER or GROUP of `--copy-as`: all digits is a number, as rsync
/// takes it, else a name looked up.
fn id_of(word: &str, lookup: fn(&[u8]) -> Option<u32>) -> Option<u32> {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return word.parse().ok();
    }
    lookup(word.as_bytes())
}

/// Switches to the `--copy-as` user; `Err` is the exit code after
/// rsync's lines were reported.
pub(crate) fn become_copy_as(spec: &str, report: &mut Report) -> Result<(), ExitCode> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let Some(uid) = id_of(user, ids::user_id) else {
        let line = format!("Invalid copy-as user: {user}");
        return Err(refuse(report, [line.clone(), line]));
    };
    let gid = match group {
        Some(g) => match id_of(g, ids::group_id) {
            Some(gid) => gid,
            None => {
                let line = format!("Invalid copy-as group: {g}");
                return Err(refuse(report, [line.clone(), line]));
            }
        },
        None => match ids::primary_gid(uid) {
            Some(gid) => gid,
            None => {
                return Err(refuse(
                    report,
                    both_sides(report, "getpwuid failed: Success (0)"),
                ));
            }
        },
    };
    let init = group.is_none().then_some(user.as_bytes());
    ids::become_user(uid, gid, init).map_err(|e| {
        let what = format!("{} failed: {}", e.step, crate::sys::errno_text(e.errno));
        refuse(report, both_sides(report, &what))
    })
}

/// `what` as rsync's receiver and sender each say it.
fn both_sides(report: &Report, what: &str) -> [String; 2] {
    ["Receiver", "sender"].map(|side| format!("{}: [{side}] {what}", report.name))
}

/// Reports `lines` and both processes' final lines; the exit code.
fn refuse(report: &mut Report, lines: [String; 2]) -> ExitCode {
    let code = ExitCode::Syntax;
    for l in lines {
        report.error_raw(l);
    }
    for _ in 0..2 {
        report.error_raw(crate::final_line!(&report.name, code).to_string());
    }
    code
}
