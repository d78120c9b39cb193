//! A destination directory swapped for a symlink while arsync copies into
//! it never redirects a write outside DEST.
//!
//! A racing thread keeps renaming a destination directory away and putting
//! a symlink to a directory outside DEST in its place (and back), while
//! arsync copies many files into it: fresh copies (unnamed temp files
//! linked in), updates (named temp files renamed over the old ones),
//! `--inplace`, `--delay-updates` (a staging dir in each directory) and
//! `-K`. Afterwards the outside directory must hold
//! exactly what it held before. The race runs for a bounded time; how
//! often it hits varies from run to run and is only printed.

mod race;

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use race::{racer, run, tree};

#[test]
fn swapped_destination_dir_never_redirects_writes() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let outside = t.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("sentinel"), b"untouched").unwrap();
    // Many small files in a few subdirectories of `sub`.
    for d in 0..8 {
        let dir = src.join("sub").join(format!("d{d}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            fs::write(dir.join(format!("f{f}")), format!("{d}/{f}").repeat(20)).unwrap();
        }
    }
    for f in 0..100 {
        fs::write(src.join("sub").join(format!("top{f}")), b"x".repeat(f)).unwrap();
    }
    let before = tree(&outside);

    let variants: [&[&str]; 5] = [
        &["-a"],
        &["-a", "-I"],
        &["-a", "-I", "--inplace"],
        &["-aK"],
        &["-a", "-I", "--delay-updates"],
    ];
    let deadline = Instant::now() + Duration::from_secs(2);
    let (mut runs, mut failed_runs) = (0u64, 0u64);
    let swaps = Arc::new(AtomicU64::new(0));
    let mut n = 0;
    // At least one update with each variant, then until the deadline.
    while Instant::now() < deadline || runs < 2 * (variants.len() as u64 - 1) {
        let dst = t.path().join(format!("dst{n}"));
        n += 1;
        fs::create_dir_all(&dst).unwrap();
        let mut dirs = vec![dst.join("sub")];
        dirs.extend((0..8).map(|d| dst.join("sub").join(format!("d{d}"))));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (stop, swaps, outside) = (Arc::clone(&stop), Arc::clone(&swaps), outside.clone());
            std::thread::spawn(move || racer(dirs, outside, stop, swaps))
        };
        // A fresh copy, then an update of every file, with the racer on.
        for args in [variants[0], variants[n % (variants.len() - 1) + 1]] {
            let t0 = Instant::now();
            let code = run(args, &src, &dst);
            eprintln!("{args:?}: exit {code} in {:?}", t0.elapsed());
            runs += 1;
            assert!(
                matches!(code, 0 | 23 | 24),
                "arsync {args:?} exited with {code}"
            );
            if code != 0 {
                failed_runs += 1;
            }
            assert_eq!(
                tree(&outside),
                before,
                "arsync {args:?} wrote outside the destination"
            );
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        let _ = fs::remove_dir_all(&dst);
    }
    assert_eq!(fs::read(outside.join("sentinel")).unwrap(), b"untouched");
    eprintln!(
        "{runs} runs, {} swaps, {failed_runs} runs saw a swapped directory (exit 23)",
        swaps.load(Ordering::Relaxed)
    );
}
