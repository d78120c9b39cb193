//! Handing a command line to the system rsync. (Being written.)
