//! (Being written: acl.)
