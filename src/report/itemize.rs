//! The 11-character `--itemize-changes` code (`>f.st......`) and rsync's
//! rules for which items get a line.

use crate::plan::item::*;
use crate::sys::Kind;

/// Renders rsync's `YXcstpoguax` string for an item.
pub(crate) fn code(iflags: u32, kind: Kind, preserve_times: bool) -> String {
    if iflags & DELETED != 0 {
        return "*deleting  ".to_string();
    }
    let mut c = [b'.'; 11];
    c[0] = if iflags & LOCAL_CHANGE != 0 {
        if iflags & XNAME_FOLLOWS != 0 {
            b'h'
        } else {
            b'c'
        }
    } else if iflags & TRANSFER == 0 {
        b'.'
    } else {
        b'>'
    };
    let time_char = if iflags & REPORT_TIME == 0 {
        b'.'
    } else if !preserve_times || (kind == Kind::Symlink && iflags & REPORT_TIMEFAIL != 0) {
        b'T'
    } else {
        b't'
    };
    if kind == Kind::Symlink {
        c[1] = b'L';
        c[3] = b'.';
    } else {
        c[1] = match kind {
            Kind::Dir => b'd',
            k if k.is_special() => b'S',
            k if k.is_device() => b'D',
            _ => b'f',
        };
        c[3] = if iflags & REPORT_SIZE != 0 {
            b's'
        } else {
            b'.'
        };
    }
    c[4] = time_char;
    c[2] = if iflags & REPORT_CHANGE != 0 {
        b'c'
    } else {
        b'.'
    };
    c[5] = if iflags & REPORT_PERMS != 0 {
        b'p'
    } else {
        b'.'
    };
    c[6] = if iflags & REPORT_OWNER != 0 {
        b'o'
    } else {
        b'.'
    };
    c[7] = if iflags & REPORT_GROUP != 0 {
        b'g'
    } else {
        b'.'
    };
    c[8] = match (iflags & REPORT_ATIME != 0, iflags & REPORT_CRTIME != 0) {
        (false, false) => b'.',
        (true, true) => b'b',
        (true, false) => b'u',
        (false, true) => b'n',
    };
    c[9] = if iflags & REPORT_ACL != 0 { b'a' } else { b'.' };
    c[10] = if iflags & REPORT_XATTR != 0 {
        b'x'
    } else {
        b'.'
    };
    if iflags & (IS_NEW | MISSING_DATA) != 0 {
        let ch = if iflags & IS_NEW != 0 { b'+' } else { b'?' };
        for x in &mut c[2..] {
            *x = ch;
        }
    } else if matches!(c[0], b'.' | b'h' | b'c') && c[2..].iter().all(|&x| x == b'.') {
        for x in &mut c[2..] {
            *x = b' ';
        }
    }
    String::from_utf8_lossy(&c).into_owned()
}

/// Whether the generator reports an item at all (rsync's `itemize()` only
/// sends significant ones unless `-ii` or `-vv`).
pub(crate) fn generator_sends(iflags: u32, itemize: u8, verbose: u8) -> bool {
    iflags & SIGNIFICANT & 0xffff != 0 || verbose > 1 || itemize > 1
}

/// For an item that was not transferred, whether the sender prints it
/// (rsync's `maybe_log_item()`); transferred items are always printed.
pub(crate) fn sender_logs(iflags: u32, kind: Kind, itemize: u8, verbose: u8) -> bool {
    let significant = iflags & SIGNIFICANT & 0xffff != 0;
    let see_item = itemize > 0 && (significant || itemize > 1 || verbose > 1);
    let local_change = iflags & LOCAL_CHANGE != 0 && significant;
    see_item || local_change || (kind == Kind::Dir && significant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_rsync() {
        assert_eq!(code(TRANSFER | IS_NEW, Kind::File, true), ">f+++++++++");
        assert_eq!(code(LOCAL_CHANGE | IS_NEW, Kind::Dir, true), "cd+++++++++");
        assert_eq!(
            code(TRANSFER | REPORT_TIME, Kind::File, true),
            ">f..t......"
        );
        assert_eq!(
            code(TRANSFER | REPORT_TIME | REPORT_SIZE, Kind::File, false),
            ">f.sT......"
        );
        assert_eq!(code(0, Kind::File, true), ".f         ");
        assert_eq!(code(REPORT_PERMS, Kind::File, true), ".f...p.....");
        assert_eq!(
            code(LOCAL_CHANGE | REPORT_CHANGE | IS_NEW, Kind::Symlink, true),
            "cL+++++++++"
        );
        assert_eq!(code(LOCAL_CHANGE | IS_NEW, Kind::Fifo, true), "cS+++++++++");
        assert_eq!(
            code(LOCAL_CHANGE | IS_NEW, Kind::CharDev, true),
            "cD+++++++++"
        );
        assert_eq!(code(REPORT_TIME, Kind::Dir, true), ".d..t......");
    }

    #[test]
    fn who_gets_a_line() {
        // -v: a perms-only change of a file is not listed, of a dir it is.
        assert!(!sender_logs(REPORT_PERMS, Kind::File, 0, 1));
        assert!(sender_logs(REPORT_TIME, Kind::Dir, 0, 1));
        // -v: new symlinks and dirs are local changes and are listed.
        assert!(sender_logs(LOCAL_CHANGE | IS_NEW, Kind::Dir, 0, 1));
        // -i lists any significant change; -ii lists unchanged items too.
        assert!(sender_logs(REPORT_PERMS, Kind::File, 1, 0));
        assert!(!sender_logs(0, Kind::File, 1, 0));
        assert!(sender_logs(0, Kind::File, 2, 0));
    }
}
