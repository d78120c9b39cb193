//! (Being written: format.)
