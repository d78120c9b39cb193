//! rsync's exit codes and the final "rsync error: … (code N)" line.
//!
//! Scripts branch on these numbers (rsnapshot treats 24 as a warning,
//! rsync-time-backup greps for "rsync error:"), so both the codes and the
//! wording are rsync's.

use std::fmt;

/// An rsync exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ExitCode {
    Ok = 0,
    Syntax = 1,
    /// rsync's RERR_PROTOCOL: `--protocol` outside what it speaks.
    ProtocolIncompat = 2,
    FileSelect = 3,
    Unsupported = 4,
    FileIo = 11,
    /// rsync's RERR_STREAMIO: its two processes lost each other.
    Protocol = 12,
    /// rsync's RERR_SIGNAL1: the line its killed receiving process prints
    /// when the sender ends the run at start (`--iconv` charset refused).
    SigUsr1 = 19,
    Signal = 20,
    Partial = 23,
    Vanished = 24,
    DelLimit = 25,
    Timeout = 30,
}

impl ExitCode {
    pub(crate) fn code(self) -> i32 {
        self as i32
    }

    /// rsync's description, from its errcode table.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ExitCode::Ok => "success",
            ExitCode::Syntax => "syntax or usage error",
            ExitCode::ProtocolIncompat => "protocol incompatibility",
            ExitCode::FileSelect => "errors selecting input/output files, dirs",
            ExitCode::Unsupported => "requested action not supported",
            ExitCode::FileIo => "error in file IO",
            ExitCode::Protocol => "error in rsync protocol data stream",
            ExitCode::SigUsr1 => "received SIGUSR1",
            ExitCode::Signal => "received SIGINT, SIGTERM, or SIGHUP",
            ExitCode::Partial => "some files/attrs were not transferred (see previous errors)",
            ExitCode::Vanished => "some files vanished before they could be transferred",
            ExitCode::DelLimit => "the --max-delete limit stopped deletions",
            ExitCode::Timeout => "timeout in data send/receive",
        }
    }

    /// Which rsync process would have reported this, for the `[role=…]` tail.
    fn role(self) -> &'static str {
        match self {
            ExitCode::Syntax => "client",
            ExitCode::FileSelect => "Receiver",
            ExitCode::FileIo => "Receiver",
            ExitCode::Signal => "sender",
            _ => "sender",
        }
    }
}

/// The last line rsync prints on a non-zero exit, e.g.
/// `rsync error: some files/attrs were not transferred (see previous errors)
/// (code 23) at main.c(1394) [sender=3.5.0]`. arsync names its own source
/// location in the same shape.
pub(crate) struct FinalLine<'a> {
    pub name: &'a str,
    pub code: ExitCode,
    pub file: &'static str,
    pub line: u32,
    /// The rsync process that ends the run, where the exit code alone
    /// does not say (`client` for a rule file it cannot open, `receiver`
    /// for a write or backup failure after its fork).
    pub role: Option<&'static str>,
}

impl fmt::Display for FinalLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.code == ExitCode::Vanished {
            "warning"
        } else {
            "error"
        };
        write!(
            f,
            "{} {kind}: {} (code {}) at {}({}) [{}={}]",
            self.name,
            self.code.describe(),
            self.code.code(),
            self.file,
            self.line,
            self.role.unwrap_or(self.code.role()),
            crate::version::VERSION
        )
    }
}

/// Builds a [`FinalLine`] naming the caller's source location.
#[macro_export]
macro_rules! final_line {
    ($name:expr, $code:expr) => {
        $crate::final_line!($name, $code, None)
    };
    ($name:expr, $code:expr, $role:expr) => {
        $crate::exit::FinalLine {
            name: $name,
            code: $code,
            file: file!(),
            line: line!(),
            role: $role,
        }
    };
}

/// Accumulated error state of a run, like rsync's `io_error` bits: the
/// worst one decides the exit code at the end.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IoErrors {
    pub general: bool,
    pub vanished: bool,
    pub del_limit: bool,
}

impl IoErrors {
    /// The exit code rsync derives from its io_error flags.
    pub(crate) fn exit_code(&self) -> ExitCode {
        if self.general {
            ExitCode::Partial
        } else if self.vanished {
            ExitCode::Vanished
        } else if self.del_limit {
            ExitCode::DelLimit
        } else {
            ExitCode::Ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_line_shape() {
        let l = FinalLine {
            name: "rsync",
            code: ExitCode::Partial,
            file: "main.rs",
            line: 7,
            role: None,
        }
        .to_string();
        assert!(l.starts_with(
            "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.rs(7) [sender="
        ));
        let w = FinalLine {
            name: "rsync",
            code: ExitCode::Vanished,
            file: "x",
            line: 1,
            role: Some("client"),
        }
        .to_string();
        assert!(w.starts_with("rsync warning: some files vanished"));
        assert!(w.ends_with(&format!("[client={}]", crate::version::VERSION)));
    }

    #[test]
    fn worst_error_wins() {
        let mut e = IoErrors::default();
        assert_eq!(e.exit_code(), ExitCode::Ok);
        e.vanished = true;
        assert_eq!(e.exit_code(), ExitCode::Vanished);
        e.general = true;
        assert_eq!(e.exit_code(), ExitCode::Partial);
    }
}
