//! Regenerates the man page and the shell completions from the option table:
//! `cargo run --example gen-docs` (writes `man/arsync.1` and `man/completions/*`).
//! `tests/docs.rs` fails until this has been run after the table changes.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match arsync::docs::write_all(root) {
        Ok(files) => {
            for f in files {
                println!("wrote {}", f.display());
            }
        }
        Err(e) => {
            eprintln!("gen-docs: {e}");
            std::process::exit(1);
        }
    }
}
