//! arsync's version and the rsync protocol it reproduces: a leaf module, so
//! that `exit` (rsync's final error line names the version) and `cli`
//! (`--version`) share them without importing each other.

/// arsync's own version, from Cargo.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The rsync protocol version whose behaviour arsync reproduces.
pub(crate) const PROTOCOL: u32 = 32;
