//! rsync's filter rules (--exclude, --include, --filter, merge files): parsing
//! and matching. (Being written.)
