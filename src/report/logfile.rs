//! (Being written: logfile.)
