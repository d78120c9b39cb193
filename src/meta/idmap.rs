//! (Being written: idmap.)
