//! The `arsync` binary: everything lives in the library.

fn main() {
    let code = arsync::main_with_args(std::env::args_os().collect());
    std::process::exit(code);
}
