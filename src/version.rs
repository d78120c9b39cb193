//! arsync's version and the rsync protocol it reproduces: a leaf module, so
//! that `exit` (rsync's final error line names the version) and `cli`
//! (`--version`) share them without importing each other.

/// arsync's own version, from Cargo.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The rsync release whose behaviour arsync reproduces: the version
/// `--version`'s first line gives, for scripts that decide by it which
/// options they may pass (Back In Time parses `rsync  version X.Y`).
pub(crate) const RSYNC_COMPAT: &str = "3.5.0";
/// The rsync protocol version whose behaviour arsync reproduces.
pub(crate) const PROTOCOL: u32 = 32;
