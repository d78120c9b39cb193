//! Why a copy failed, typed: each variant says what went wrong where, and
//! renders (through `Display`) as the exact line rsync prints for it, role
//! prefix included, because the differential suite compares stderr byte
//! for byte. [`Outcome`] is how the transfer side receives them.

use std::io;

use super::Outcome;
use crate::sys;

fn text(e: &io::Error) -> String {
    sys::io_error_text(e)
}

/// A failed copy. Names are as rsync shows them (absolute, escaped).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CopyError {
    /// Interrupted by a signal (or a fatal error elsewhere).
    #[error("interrupted")]
    Interrupted,
    /// The source disappeared before it could be opened.
    #[error("file has vanished: \"{src}\"")]
    Vanished { src: String },
    /// The source could not be opened.
    #[error("[sender] send_files failed to open \"{src}\": {}", text(.err))]
    OpenSource { src: String, err: io::Error },
    /// Reading the source failed.
    #[error("[sender] read errors mapping \"{src}\": {}", text(.err))]
    Read { src: String, err: io::Error },
    /// Writing the destination failed (rsync ends the run).
    #[error("[receiver] write failed on \"{name}\": {}", text(.err))]
    Write { name: String, err: io::Error },
    /// Closing the written file reported an error: it is not put in place
    /// (rsync ends the run).
    #[error("[receiver] close failed on \"{name}\": {}", text(.err))]
    Close { name: String, err: io::Error },
    /// `--fsync` failed (rsync ends the run).
    #[error("[receiver] fsync failed on \"{name}\": {}", text(.err))]
    Fsync { name: String, err: io::Error },
    /// No temp file could be made.
    #[error("[receiver] mkstemp \"{tmp}\" failed: {}", text(.err))]
    Mkstemp { tmp: String, err: io::Error },
    /// `--temp-dir` leads through a symlink of an untrusted user: rsync
    /// 3.5's ownership walk refuses it for every file (its refusal line
    /// comes first, see [`Outcome::Refused`]).
    #[error("[receiver] mkstemp \"{tmp}\" failed: Too many levels of symbolic links (40)")]
    MkstempRefused { tmp: String },
    /// `--temp-dir` outside `--confine-root`'s root (see
    /// [`Outcome::TempConfined`]).
    #[error("[receiver] stat \"{tmp}\" failed: Too many levels of symbolic links (40)")]
    TempConfined { tmp: String },
    /// `--inplace`: the destination could not be opened.
    #[error("[receiver] open \"{dest}\" failed: {}", text(.err))]
    OpenDest { dest: String, err: io::Error },
    /// Setting the final length failed.
    #[error("[receiver] ftruncate \"{dest}\" failed: {}", text(.err))]
    Truncate { dest: String, err: io::Error },
    /// The new file could not be looked at before its attributes are set.
    #[error("[receiver] stat \"{name}\" failed: {}", text(.err))]
    Stat { name: String, err: io::Error },
    /// Putting the new file in place failed.
    #[error("[receiver] rename \"{tmp}\" -> \"{name}\": {}", text(.err))]
    Rename {
        tmp: String,
        name: String,
        err: io::Error,
    },
    /// `--inplace -b`: the copy of the old file failed (rsync's line,
    /// without the role).
    #[error("[receiver] {0}")]
    BackupCopy(String),
    /// `-b`: the old version could not be kept (rsync's lines, without
    /// the role); it stays in place and the run ends.
    #[error("{}", receiver_lines(.0).join("\n"))]
    Backup(Vec<String>),
    /// The source ended before its listed size, twice (it shrank while
    /// being copied, or it lies about its size like `/sys` files): rsync's
    /// sender line; the update is discarded.
    #[error("[sender] read errors mapping \"{src}\": No data available (61)")]
    ShortRead { src: String },
    /// No I/O driver could be started.
    #[error("cannot start the I/O engine: {}", text(.0))]
    EngineStart(io::Error),
}

fn receiver_lines(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| format!("[receiver] {l}")).collect()
}

impl CopyError {
    /// `--partial` keeps what was written only when a signal stopped it.
    pub(crate) fn keeps_partial(&self) -> bool {
        matches!(self, CopyError::Interrupted)
    }
}

impl From<CopyError> for Outcome {
    fn from(e: CopyError) -> Outcome {
        match e {
            CopyError::Interrupted => Outcome::Interrupted,
            CopyError::Vanished { .. } => Outcome::Vanished(e.to_string()),
            CopyError::OpenSource { .. } | CopyError::Read { .. } => {
                Outcome::SenderFailed(e.to_string())
            }
            CopyError::Write { .. }
            | CopyError::Close { .. }
            | CopyError::Fsync { .. }
            | CopyError::EngineStart(_) => Outcome::Fatal(e.to_string()),
            CopyError::Backup(lines) => Outcome::BackupFailed(receiver_lines(&lines)),
            CopyError::ShortRead { .. } => Outcome::ShortRead(e.to_string()),
            CopyError::MkstempRefused { .. } => Outcome::Refused(e.to_string()),
            CopyError::TempConfined { tmp } => Outcome::TempConfined(tmp),
            CopyError::Mkstemp { .. }
            | CopyError::OpenDest { .. }
            | CopyError::Truncate { .. }
            | CopyError::Stat { .. }
            | CopyError::Rename { .. }
            | CopyError::BackupCopy(_) => Outcome::Failed(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enospc() -> io::Error {
        io::Error::from_raw_os_error(28)
    }

    #[test]
    fn rsync_wording_and_outcome() {
        let o = Outcome::from(CopyError::Write {
            name: "/d/.f.XYZ".into(),
            err: enospc(),
        });
        match o {
            Outcome::Fatal(m) => assert_eq!(
                m,
                "[receiver] write failed on \"/d/.f.XYZ\": No space left on device (28)"
            ),
            o => panic!("{o:?}"),
        }
        let o = Outcome::from(CopyError::Rename {
            tmp: "/d/.f.XYZ".into(),
            name: "f".into(),
            err: io::Error::from_raw_os_error(13),
        });
        match o {
            Outcome::Failed(m) => {
                assert_eq!(
                    m,
                    "[receiver] rename \"/d/.f.XYZ\" -> \"f\": Permission denied (13)"
                )
            }
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn close_failure_ends_the_run_and_interrupt_keeps_partial() {
        let e = CopyError::Close {
            name: "/d/.f.XYZ".into(),
            err: io::Error::from_raw_os_error(5),
        };
        assert!(!e.keeps_partial());
        assert!(matches!(Outcome::from(e), Outcome::Fatal(m)
            if m == "[receiver] close failed on \"/d/.f.XYZ\": Input/output error (5)"));
        assert!(CopyError::Interrupted.keeps_partial());
        assert!(matches!(
            Outcome::from(CopyError::Interrupted),
            Outcome::Interrupted
        ));
    }

    #[test]
    fn backup_lines_get_the_role_each() {
        let e = CopyError::Backup(vec!["a".into(), "b".into()]);
        assert_eq!(e.to_string(), "[receiver] a\n[receiver] b");
        match Outcome::from(e) {
            Outcome::BackupFailed(l) => assert_eq!(l, ["[receiver] a", "[receiver] b"]),
            o => panic!("{o:?}"),
        }
    }
}
