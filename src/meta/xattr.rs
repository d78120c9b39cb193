//! (Being written: xattr.)
