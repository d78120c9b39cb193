//! (Being written: stats.)
