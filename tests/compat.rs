//! compat.rs — differential compatibility suite (arsync vs real rsync); the runner lives in
//! compat/runner/, the scenarios in compat/scenarios/*.scn. Run: `compat/run.sh [FILTER...]`.

#[path = "../compat/runner/mod.rs"]
mod runner;

fn main() {
    runner::main(env!("CARGO_BIN_EXE_arsync"));
}
