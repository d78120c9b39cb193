//! `-M`/`--remote-option` on a local copy. rsync starts its receiving side
//! (generator and receiver) as a server process and hands it the `-M`
//! words as further options: a bad one ends the run there (exit 12, with
//! the server's line and the sender's lost connection), a good one changes
//! what the receiving side does (`-M--delete` deletes, `-M--fake-super`
//! stores attributes as xattrs, `-M--chmod=…` applies), while what only
//! the client shows or the sender lists stays as the main command line
//! says (`-M-v` prints nothing more).

use std::ffi::OsString;

use super::{Command, UsageError, lex};
use crate::options::Options;

/// Why the receiving side refused its options: the line it printed.
#[derive(Debug)]
pub(crate) struct RemoteRefusal(pub String);

/// The options of the run once the receiving side has taken the `-M`
/// words: `main` re-parsed with them appended, then what belongs to the
/// client and the sender put back.
pub(crate) fn apply(args: &[OsString], main: &Options) -> Result<Options, RemoteRefusal> {
    let words = &main.remote_options;
    let alone = lex::lex(words);
    if let Some((_, e)) = &alone.error {
        return Err(RemoteRefusal(format!("on remote machine: {}", e.0)));
    }
    let mut all = args.to_vec();
    all.extend(words.iter().cloned());
    let mut o = match super::parse(&all) {
        Ok(Command::Run(o)) => *o,
        Ok(_) => return Ok(main.clone()),
        Err(UsageError(e)) => return Err(RemoteRefusal(e)),
    };
    keep_client_side(&mut o, main);
    Ok(o)
}

/// What the server's options cannot change: the client's output and the
/// sender's file list.
fn keep_client_side(o: &mut Options, main: &Options) {
    let m = main.clone();
    o.verbose = m.verbose;
    o.quiet = m.quiet;
    o.itemize = m.itemize;
    o.human_readable = m.human_readable;
    o.out_format = m.out_format;
    o.log_file = m.log_file;
    o.log_file_format = m.log_file_format;
    o.stats = m.stats;
    o.progress = m.progress;
    o.no_progress_bar = m.no_progress_bar;
    o.eight_bit = m.eight_bit;
    o.info = m.info;
    o.stderr_mode = m.stderr_mode;
    o.outbuf = m.outbuf;
    o.list_only = m.list_only;
    o.recursive = m.recursive;
    o.dirs = m.dirs;
    o.relative = m.relative;
    o.implied_dirs = m.implied_dirs;
    o.files_from = m.files_from;
    o.from0 = m.from0;
    o.filters = m.filters;
    o.copy_links = m.copy_links;
    o.copy_unsafe_links = m.copy_unsafe_links;
    o.copy_dirlinks = m.copy_dirlinks;
    o.one_file_system = m.one_file_system;
    o.args = m.args;
}
