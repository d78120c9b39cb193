//! `--help` and `--version` text, rendered from the option table.
//!
//! The layout follows rsync's so that people (and scripts that grep the
//! first line of `--version`) find things where they expect them.

use super::table::{Arg, OPTIONS};

/// arsync's own version, from Cargo.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The rsync protocol version whose behaviour arsync reproduces.
pub const PROTOCOL: u32 = 32;

/// The `--version` text. The first line has rsync's shape
/// (`NAME  version X  protocol version N`) because version parsers
/// (Back In Time, Ansible) match on it.
pub fn version_text(name: &str) -> String {
    format!(
        "{name}  version {VERSION}  protocol version {PROTOCOL}\n\
         Copyright (C) 2026 the arsync developers.\n\
         Web site: https://github.com/arsync/arsync\n\
         Capabilities:\n    \
         64-bit files, 64-bit inums, 64-bit timestamps, 64-bit long ints,\n    \
         symlinks, symtimes, io_uring, local copies only\n\
         \n\
         {name} comes with ABSOLUTELY NO WARRANTY.  It is an rsync-compatible\n\
         local copier; remote transfers are not implemented.\n"
    )
}

/// One `--help` line per supported option, in rsync's column layout.
fn option_lines() -> String {
    let mut out = String::new();
    for o in OPTIONS {
        let Some(help) = o.help else { continue };
        if !o.id.supported() {
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
pub fn help_text(name: &str) -> String {
    format!(
        "{version}\n\
         {name} is a fast, rsync-compatible copier for local files.\n\
         \n\
         Usage: {name} [OPTION]... SRC [SRC]... DEST\n\
         \x20 or   {name} [OPTION]... SRC [SRC]...   (list only: not yet supported)\n\
         \n\
         Options\n\
         {opts}\n\
         Options rsync has but {name} does not implement yet are refused with\n\
         \"This rsync does not support --OPTION\" (exit code 1).\n",
        version = version_text(name),
        opts = option_lines(),
    )
}

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
        assert!(
            !h.contains("--compress"),
            "unsupported options are not advertised"
        );
    }
}
