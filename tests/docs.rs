//! docs.rs — the committed man page and shell completions must match what the option
//! table generates now. Refresh them with `cargo run --example gen-docs`.

use std::path::Path;

#[test]
fn man_page_and_completions_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (rel, want) in arsync::docs::generated_files() {
        let have = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        if have != want {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "generated docs are stale: {}\nrefresh them with: cargo run --example gen-docs",
        stale.join(", ")
    );
}
