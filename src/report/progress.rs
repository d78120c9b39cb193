//! (Being written: progress.)
