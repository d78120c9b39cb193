//! `--help` and `--version` text, rendered from the option table.
//!
//! The layout follows rsync's so that people (and scripts that grep the
//! first line of `--version`) find things where they expect them.

use super::spec::{self, Arg};

pub(crate) use crate::version::{PROTOCOL, RSYNC_COMPAT, VERSION};

/// The `--version` text (see [`super::docs::version_text`]). The first
/// line has rsync's shape (`NAME  version X  protocol version N`) because
/// version parsers (Back In Time, Ansible) match on it.
pub(crate) fn version_text(name: &str) -> String {
    super::docs::version_text(name)
}

/// One `--help` line per supported option, in rsync's column layout.
fn option_lines() -> String {
    let mut out = String::new();
    for (spec, o) in spec::spellings() {
        let Some(help) = o.help else { continue };
        if !spec.supported() {
            continue;
        }
        let mut left = String::new();
        if let Some(l) = o.long {
            left.push_str("--");
            left.push_str(l);
            if o.arg != Arg::None {
                left.push('=');
                left.push_str(o.value_name);
            }
            if let Some(s) = o.short {
                left.push_str(", -");
                left.push(s);
            }
        } else if let Some(s) = o.short {
            left.push('-');
            left.push(s);
        }
        if o.long == Some("help") {
            left.push_str(", -h (*)");
        }
        out.push_str(&format!("{left:<24} {help}\n"));
    }
    out
}

/// The full `--help` text.
pub(crate) fn help_text(name: &str) -> String {
    format!(
        "{version}\n\
         {name} is a fast, rsync-compatible copier for local files.\n\
         \n\
         Usage: {name} [OPTION]... SRC [SRC]... DEST\n\
         \x20 or   {name} [OPTION]... SRC [SRC]...   (list only)\n\
         \n\
         Options\n\
         {opts}\n\
         Handed over to the system rsync: remote paths (HOST:PATH, HOST::MODULE,\n\
         rsync://), --server, --daemon, and\n\
         {handed}.\n\
         With ARSYNC_NO_FALLBACK=1 or --no-fallback they are refused with\n\
         \"This rsync does not support --OPTION\" (exit code 1).\n\
         \n\
         {bytes}\n",
        version = version_text(name),
        bytes = wrap(super::docs::BYTE_COUNTS),
        opts = option_lines(),
        handed = handed_over(),
    )
}

/// The client options handed over to rsync (every spec entry without an
/// apply function, but the daemon's and the server's own), wrapped.
fn handed_over() -> String {
    let names: Vec<String> = spec::SPECS
        .iter()
        .filter(|s| !s.supported())
        .filter(|s| !matches!(s.id, spec::Id::Server | spec::Id::Sender | spec::Id::Daemon))
        .map(|s| {
            let n = s.main_name();
            match (n.long, n.short) {
                (Some(l), Some(c)) => format!("--{l} (-{c})"),
                (Some(l), None) => format!("--{l}"),
                (None, Some(c)) => format!("-{c}"),
                (None, None) => String::new(),
            }
        })
        .collect();
    wrap(&names.join(", "))
}

/// `text` folded at spaces into lines of at most 78 columns.
fn wrap(text: &str) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split(' ') {
        if line > 0 && line + 1 + word.len() > 78 {
            out.push('\n');
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// What `--info=help` prints (rsync 3.x's text, byte for byte: scripts
/// and users compare it with rsync's).
pub(crate) const INFO_HELP: &str = concat!(
    "Use OPT or OPT1 for level 1 output, OPT2 for level 2, etc.; OPT0 silences.\n",
    "\n",
    "BACKUP     Mention files backed up\n",
    "COPY       Mention files copied locally on the receiving side\n",
    "DEL        Mention deletions on the receiving side\n",
    "FLIST      Mention file-list receiving/sending (levels 1-2)\n",
    "MISC       Mention miscellaneous information (levels 1-2)\n",
    "MOUNT      Mention mounts that were found or skipped\n",
    "NAME       Mention 1) updated file/dir names, 2) unchanged names\n",
    "NONREG     Mention skipped non-regular files (default 1, 0 disables)\n",
    "PROGRESS   Mention 1) per-file progress or 2) total transfer progress\n",
    "REMOVE     Mention files removed on the sending side\n",
    "SKIP       Mention files skipped due to transfer overrides (levels 1-2)\n",
    "STATS      Mention statistics at end of run (levels 1-3)\n",
    "SYMSAFE    Mention symlinks that are unsafe\n",
    "\n",
    "ALL        Set all --info options (e.g. all4)\n",
    "NONE       Silence all --info options (same as all0)\n",
    "HELP       Output this help message\n",
    "\n",
    "Options added at each level of verbosity:\n",
    "0) NONREG\n",
    "1) COPY,DEL,FLIST,MISC,NAME,STATS,SYMSAFE\n",
    "2) BACKUP,MISC2,MOUNT,NAME2,REMOVE,SKIP\n",
);

/// What `--debug=help` prints (rsync 3.x's text).
pub(crate) const DEBUG_HELP: &str = concat!(
    "Use OPT or OPT1 for level 1 output, OPT2 for level 2, etc.; OPT0 silences.\n",
    "\n",
    "ACL        Debug extra ACL info\n",
    "BACKUP     Debug backup actions (levels 1-2)\n",
    "BIND       Debug socket bind actions\n",
    "CHDIR      Debug when the current directory changes\n",
    "CONNECT    Debug connection events (levels 1-2)\n",
    "CMD        Debug commands+options that are issued (levels 1-2)\n",
    "DEL        Debug delete actions (levels 1-3)\n",
    "DELTASUM   Debug delta-transfer checksumming (levels 1-4)\n",
    "DUP        Debug weeding of duplicate names\n",
    "EXIT       Debug exit events (levels 1-3)\n",
    "FILTER     Debug filter actions (levels 1-3)\n",
    "FLIST      Debug file-list operations (levels 1-4)\n",
    "FUZZY      Debug fuzzy scoring (levels 1-2)\n",
    "GENR       Debug generator functions\n",
    "HASH       Debug hashtable code\n",
    "HLINK      Debug hard-link actions (levels 1-3)\n",
    "ICONV      Debug iconv character conversions (levels 1-2)\n",
    "IO         Debug I/O routines (levels 1-4)\n",
    "NSTR       Debug negotiation strings\n",
    "OWN        Debug ownership changes in users & groups (levels 1-2)\n",
    "PROTO      Debug protocol information\n",
    "RECV       Debug receiver functions\n",
    "SEND       Debug sender functions\n",
    "TIME       Debug setting of modified times (levels 1-2)\n",
    "\n",
    "ALL        Set all --debug options (e.g. all4)\n",
    "NONE       Silence all --debug options (same as all0)\n",
    "HELP       Output this help message\n",
    "\n",
    "Options added at each level of verbosity:\n",
    "2) BIND,CONNECT,CMD,DEL,DELTASUM,DUP,FILTER,FLIST,ICONV\n",
    "3) ACL,BACKUP,CONNECT2,DEL2,DELTASUM2,EXIT,FILTER2,FLIST2,FUZZY,GENR,OWN,RECV,SEND,TIME\n",
    "4) CMD2,DEL3,DELTASUM3,EXIT2,FLIST3,ICONV2,OWN2,PROTO,TIME2\n",
    "5) CHDIR,DELTASUM4,FLIST4,FUZZY2,HASH,HLINK\n",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_first_line_has_rsync_shape() {
        let v = version_text("rsync");
        let first = v.lines().next().unwrap_or_default();
        assert!(first.starts_with("rsync  version "), "{first}");
        assert!(first.ends_with("  protocol version 32"), "{first}");
    }

    #[test]
    fn help_lists_supported_options_in_rsync_columns() {
        let h = help_text("arsync");
        assert!(h.contains("--verbose, -v            increase verbosity\n"));
        assert!(h.contains("--modify-window=NUM, -@  set the accuracy for mod-time comparisons\n"));
        let (opts, handed) = h
            .split_once("Handed over to the system rsync")
            .expect("section");
        assert!(
            !opts.contains("--write-batch"),
            "handed-over options are not listed as options"
        );
        for o in ["--write-batch", "--read-batch"] {
            assert!(handed.contains(o), "{o} is said to be handed over");
        }
        assert!(!handed.contains("--iconv"), "--iconv runs natively");
        assert!(!handed.contains("-H"), "at every protocol");
        assert!(
            opts.contains("--confine-root=DIR"),
            "--confine-root runs natively"
        );
        assert!(!handed.contains("--confine-root"), "with --backup-dir too");
        assert!(!handed.contains("--compress"), "-z runs natively");
        assert!(handed.contains("\nByte counts: a local copy has no protocol stream"));
    }
}
