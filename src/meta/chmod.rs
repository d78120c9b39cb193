//! (Being written: chmod.)
