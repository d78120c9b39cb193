//! Fault cases that a differential scenario cannot pin down because rsync
//! itself is not deterministic there, or because they need concurrency:
//! DEST inside SRC (the copy never descends into what the run made, the
//! same result every time) and two runs racing into one new DEST.

use std::path::Path;
use std::process::Command;

fn arsync(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_arsync"))
        .current_dir(cwd)
        .args(args)
        .env("ARSYNC_NO_FALLBACK", "1")
        .output()
        .expect("arsync runs")
}

/// Every path under `dir`, relative and sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).expect("readdir") {
            let e = e.expect("entry");
            let path = e.path();
            out.push(path.strip_prefix(dir).expect("below").display().to_string());
            if e.file_type().expect("type").is_dir() {
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

fn write(p: &Path, data: &str) {
    std::fs::create_dir_all(p.parent().expect("parent")).expect("dirs");
    std::fs::write(p, data).expect("write");
}

#[test]
fn dest_inside_src_copies_the_source_as_it_was_every_time() {
    // d/ into d/a/b/: the copy is the tree as it was before the run;
    // rsync itself gives this result most of the time (its sender races
    // its receiver) and sometimes another.
    let want = [
        "a",
        "a/b",
        "a/b/a",
        "a/b/a/b",
        "a/b/a/b/c",
        "a/b/a/b/h",
        "a/b/a/g",
        "a/b/c",
        "a/b/f",
        "a/b/h",
        "a/g",
        "f",
    ];
    for _ in 0..20 {
        let t = tempfile::tempdir().expect("tmp");
        let d = t.path().join("d");
        std::fs::create_dir_all(d.join("a/b/c")).expect("dirs");
        write(&d.join("f"), "1");
        write(&d.join("a/g"), "2");
        write(&d.join("a/b/h"), "3");
        let out = arsync(t.path(), &["-a", "d/", "d/a/b/"]);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(listing(&d), want);
    }
}

#[test]
fn two_runs_into_one_new_dest_both_succeed() {
    for _ in 0..10 {
        let t = tempfile::tempdir().expect("tmp");
        for i in 0..200 {
            write(&t.path().join(format!("src/d{}/f{i}", i % 10)), "x");
        }
        let spawn = || {
            Command::new(env!("CARGO_BIN_EXE_arsync"))
                .current_dir(t.path())
                .args(["-a", "src/", "dst/"])
                .spawn()
                .expect("spawn")
        };
        let (mut a, mut b) = (spawn(), spawn());
        assert!(a.wait().expect("wait").success(), "first run failed");
        assert!(b.wait().expect("wait").success(), "second run failed");
        assert_eq!(
            listing(&t.path().join("dst")),
            listing(&t.path().join("src"))
        );
    }
}
