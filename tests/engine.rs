//! Every `--copy-engine` data path copies exactly, at the sizes where
//! buffer handling goes wrong: empty, one byte, exactly one chunk, one
//! chunk plus one, many chunks, larger than the managed buffer pool, and
//! files with holes.

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use assert_cmd::Command;

const ENGINES: &[&str] = &[
    "auto",
    "vec",
    "read-managed",
    "write-managed",
    "copy-file-range",
];

/// The engine's chunk (one buffer) size; see `engine::Config`.
const CHUNK: usize = 1 << 20;

/// Deterministic non-repeating bytes, so a misplaced chunk cannot go unseen.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn make_tree(src: &Path) -> Vec<(String, Vec<u8>)> {
    fs::create_dir_all(src).unwrap();
    let sizes = [
        ("empty", 0),
        ("one", 1),
        ("page", 4096),
        ("chunk", CHUNK),
        ("chunk_plus_one", CHUNK + 1),
        ("chunk_minus_one", CHUNK - 1),
        ("many_chunks", 3 * CHUNK + 7),
        // 16 lanes share a pool of 16 buffers per thread: a file larger
        // than the whole pool must still stream through it.
        ("bigger_than_pool", 17 * CHUNK + 12345),
    ];
    let mut out = Vec::new();
    for (i, (name, len)) in sizes.iter().enumerate() {
        let data = pattern(*len, i as u64 + 7);
        fs::write(src.join(name), &data).unwrap();
        out.push((name.to_string(), data));
    }
    // A sparse file: data, a 5 MiB hole, data, and a trailing hole.
    let mut f = fs::File::create(src.join("sparse")).unwrap();
    let head = pattern(10_000, 99);
    f.write_all(&head).unwrap();
    f.seek(SeekFrom::Start(5 * CHUNK as u64)).unwrap();
    f.write_all(&head).unwrap();
    f.set_len(8 * CHUNK as u64).unwrap();
    drop(f);
    let mut sparse = vec![0u8; 8 * CHUNK];
    sparse[..10_000].copy_from_slice(&head);
    sparse[5 * CHUNK..5 * CHUNK + 10_000].copy_from_slice(&head);
    out.push(("sparse".to_string(), sparse));
    out
}

#[test]
fn every_engine_copies_every_size_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files = make_tree(&src);
    for engine in ENGINES {
        let dst = tmp.path().join(format!("dst-{engine}"));
        Command::cargo_bin("arsync")
            .unwrap()
            .arg(format!("--copy-engine={engine}"))
            .arg("-a")
            .arg(format!("{}/", src.display()))
            .arg(format!("{}/", dst.display()))
            .assert()
            .success()
            .stdout("")
            .stderr("");
        for (name, data) in &files {
            let got = fs::read(dst.join(name)).unwrap();
            assert_eq!(got.len(), data.len(), "{engine}: size of {name}");
            assert!(got == *data, "{engine}: content of {name} differs");
            let s = fs::metadata(src.join(name)).unwrap();
            let d = fs::metadata(dst.join(name)).unwrap();
            assert_eq!(s.mtime(), d.mtime(), "{engine}: mtime of {name}");
            assert_eq!(
                s.mtime_nsec(),
                d.mtime_nsec(),
                "{engine}: mtime ns of {name}"
            );
            assert_eq!(s.mode(), d.mode(), "{engine}: mode of {name}");
        }
        // No temporary files are left behind.
        let leftovers: Vec<_> = fs::read_dir(&dst)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{engine}: temp files left: {leftovers:?}"
        );
    }
}

#[test]
fn engines_update_existing_files_in_place_and_by_rename() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir(&src).unwrap();
    for engine in ENGINES {
        for inplace in [false, true] {
            let dst = tmp.path().join(format!("dst-{engine}-{inplace}"));
            fs::create_dir(&dst).unwrap();
            // A longer old file: an in-place update must truncate it.
            fs::write(dst.join("f"), pattern(3 * CHUNK, 1)).unwrap();
            let new = pattern(CHUNK + 3, 2);
            fs::write(src.join("f"), &new).unwrap();
            let mut cmd = Command::cargo_bin("arsync").unwrap();
            cmd.arg(format!("--copy-engine={engine}")).arg("-rt");
            if inplace {
                cmd.arg("--inplace");
            }
            cmd.arg(src.join("f")).arg(dst.join("f")).assert().success();
            assert!(
                fs::read(dst.join("f")).unwrap() == new,
                "{engine} inplace={inplace}"
            );
        }
    }
}

#[test]
fn unknown_engine_is_a_usage_error() {
    Command::cargo_bin("arsync")
        .unwrap()
        .args(["--copy-engine=turbo", "a", "b"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("--copy-engine=turbo"));
}
