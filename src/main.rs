//! The `arsync` binary: everything lives in the library.

/// A re-sync allocates a few small buffers per file on one thread and
/// frees them on another; mimalloc's per-thread free lists take that
/// without the arena locking of the system allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = arsync::main_with_args(std::env::args_os().collect());
    std::process::exit(code);
}
