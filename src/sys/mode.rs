//! File mode bits (`st_mode`): the file-type field and the permission and
//! special bits, under their POSIX names, so that code outside `sys` can
//! take a mode apart without naming libc.

pub(crate) use libc::{
    S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, S_ISUID,
    S_ISVTX, S_IXGRP, S_IXOTH, S_IXUSR,
};

/// The file-type bits of `mode` (`mode & S_IFMT`).
#[cfg(test)]
pub(crate) fn file_type(mode: u32) -> u32 {
    mode & S_IFMT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_bits_are_split_from_permissions() {
        assert_eq!(file_type(S_IFDIR | 0o755), S_IFDIR);
        assert_eq!(file_type(S_IFLNK | S_ISUID | 0o777), S_IFLNK);
        assert_eq!(file_type(0o644), 0);
    }
}
