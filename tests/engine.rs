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

/// Files for `-S`: holes and written zeros in every position a buffer
/// boundary can make interesting.
fn make_sparse_tree(src: &Path) -> Vec<(String, Vec<u8>)> {
    fs::create_dir_all(src).unwrap();
    let mut out = Vec::new();
    let mut put = |name: &str, data: Vec<u8>, holes: &[(usize, usize)]| {
        // Written as data, then the given ranges punched out of the
        // source, so the source has both real holes and written zeros.
        let mut f = fs::File::create(src.join(name)).unwrap();
        f.write_all(&data).unwrap();
        for &(a, b) in holes {
            punch(&f, a as u64, (b - a) as u64);
        }
        drop(f);
        out.push((name.to_string(), data));
    };
    // Written zeros only: rsync leaves no block allocated.
    put("zeros", vec![0u8; 3 * CHUNK], &[]);
    // A hole first, then data.
    let mut d = vec![0u8; 2 * CHUNK + 4096];
    d[2 * CHUNK..].copy_from_slice(&pattern(4096, 1));
    put("hole_first", d, &[(0, 2 * CHUNK)]);
    // Data, hole, data, trailing hole (the source's tail is a real hole).
    let mut d = vec![0u8; 8 * CHUNK];
    d[..10_000].copy_from_slice(&pattern(10_000, 2));
    d[5 * CHUNK..5 * CHUNK + 10_000].copy_from_slice(&pattern(10_000, 3));
    put(
        "data_hole_data_hole",
        d,
        &[(12_288, 5 * CHUNK), (5 * CHUNK + 12_288, 8 * CHUNK)],
    );
    // Many short runs: 4 KiB data / 8 KiB zeros, across several chunks,
    // plus a lone byte and a single zero sector between data.
    let mut d = vec![0u8; 3 * CHUNK + 777];
    let mut i = 0;
    while i + 4096 <= d.len() {
        d[i..i + 4096].copy_from_slice(&pattern(4096, i as u64));
        i += 12_288;
    }
    d[CHUNK - 1] = 1;
    d[2 * CHUNK + 100] = 5;
    d[3 * CHUNK + 776] = 9;
    put("many_runs", d, &[]);
    // Zeros straddling a chunk boundary, data on both sides.
    let mut d = pattern(2 * CHUNK, 4);
    d[CHUNK - 8192..CHUNK + 8192].fill(0);
    put("zeros_across_chunks", d, &[]);
    // Ordinary files keep their bytes.
    put("empty", Vec::new(), &[]);
    put("one", vec![7], &[]);
    put("one_zero", vec![0], &[]);
    put("bigger_than_pool", pattern(17 * CHUNK + 12_345, 5), &[]);
    out
}

/// `fallocate(PUNCH_HOLE)`: makes a real hole in a test source.
fn punch(f: &fs::File, off: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on a file descriptor we own.
    let r = unsafe {
        libc::fallocate(
            f.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            off as i64,
            len as i64,
        )
    };
    assert_eq!(r, 0, "punching a hole: {}", std::io::Error::last_os_error());
}

/// Which blocks of `path` hold data, from SEEK_DATA/SEEK_HOLE.
fn data_blocks(path: &Path, block: usize, len: usize) -> Vec<bool> {
    use std::os::fd::AsRawFd;
    let f = fs::File::open(path).unwrap();
    let mut map = vec![false; len.div_ceil(block)];
    let mut pos = 0i64;
    loop {
        // SAFETY: lseek on a descriptor we own.
        let data = unsafe { libc::lseek(f.as_raw_fd(), pos, libc::SEEK_DATA) };
        if data < 0 {
            break;
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(f.as_raw_fd(), data, libc::SEEK_HOLE) };
        for b in (data as usize / block)..(hole as usize).div_ceil(block) {
            if b < map.len() {
                map[b] = true;
            }
        }
        pos = hole;
    }
    map
}

/// The filesystem block size of the directory `p`.
fn block_size(p: &Path) -> usize {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: statvfs fills the zeroed struct we pass.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c is a valid C string, st a valid out-pointer.
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_bsize as usize
}

/// rsync's `-S` result: a block is allocated exactly when it holds a
/// non-zero byte.
fn check_sparse_copy(dst: &Path, files: &[(String, Vec<u8>)], what: &str) {
    let block = block_size(dst);
    for (name, data) in files {
        let path = dst.join(name);
        let got = fs::read(&path).unwrap();
        assert_eq!(got.len(), data.len(), "{what}: size of {name}");
        assert!(got == *data, "{what}: content of {name} differs");
        let want: Vec<bool> = data
            .chunks(block)
            .map(|c| c.iter().any(|&b| b != 0))
            .collect();
        let have = data_blocks(&path, block, data.len());
        if let Some(i) = (0..want.len()).find(|&i| want[i] != have[i]) {
            panic!(
                "{what}: {name}: block {i} should be {}",
                if want[i] { "data" } else { "a hole" }
            );
        }
    }
}

#[test]
fn every_engine_makes_holes_with_sparse() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files = make_sparse_tree(&src);
    for engine in ENGINES {
        for extra in [&[][..], &["--inplace"][..], &["--preallocate"][..]] {
            let what = format!("{engine} -S {extra:?}");
            let dst = tmp.path().join(format!("dst-{engine}-{}", extra.join("")));
            if extra.contains(&"--inplace") {
                // In place over larger, fully written old files: their
                // bytes must not show through the new holes.
                fs::create_dir(&dst).unwrap();
                for (name, data) in &files {
                    fs::write(dst.join(name), vec![0xAAu8; data.len() + 5000]).unwrap();
                }
            }
            Command::cargo_bin("arsync")
                .unwrap()
                .arg(format!("--copy-engine={engine}"))
                .args(["-a", "-S"])
                .args(extra)
                .arg(format!("{}/", src.display()))
                .arg(format!("{}/", dst.display()))
                .assert()
                .success()
                .stdout("")
                .stderr("");
            if extra.contains(&"--preallocate") {
                // Preallocated space stays allocated under a trailing
                // hole (as in rsync), so only the content is checked.
                for (name, data) in &files {
                    assert!(fs::read(dst.join(name)).unwrap() == *data, "{what}: {name}");
                }
            } else {
                check_sparse_copy(&dst, &files, &what);
            }
        }
    }
}

#[test]
fn preallocate_keeps_content_and_allocates() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files = make_tree(&src);
    for engine in ENGINES {
        for extra in [&[][..], &["--inplace"][..]] {
            let dst = tmp.path().join(format!("dst-{engine}-{}", extra.len()));
            Command::cargo_bin("arsync")
                .unwrap()
                .arg(format!("--copy-engine={engine}"))
                .args(["-a", "--preallocate"])
                .args(extra)
                .arg(format!("{}/", src.display()))
                .arg(format!("{}/", dst.display()))
                .assert()
                .success()
                .stdout("")
                .stderr("");
            for (name, data) in &files {
                let got = fs::read(dst.join(name)).unwrap();
                assert!(got == *data, "{engine} {extra:?}: content of {name}");
                // Preallocation fills the holes of the copy.
                let blocks = fs::metadata(dst.join(name)).unwrap().blocks();
                assert!(
                    blocks * 512 >= data.len() as u64,
                    "{engine} {extra:?}: {name} has {blocks} blocks"
                );
            }
        }
    }
}

/// Across file systems (the temp dir's and `/dev/shm`'s tmpfs) the
/// kernel refuses `copy_file_range` (`EXDEV`): `auto` and
/// `copy-file-range` fall back to reading and writing, for every size.
#[test]
fn engines_fall_back_across_file_systems() {
    let shm = Path::new("/dev/shm");
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files = make_tree(&src);
    let Ok(other) = tempfile::tempdir_in(shm) else {
        eprintln!("skipped: no /dev/shm");
        return;
    };
    if fs::metadata(other.path()).unwrap().dev() == fs::metadata(&src).unwrap().dev() {
        eprintln!("skipped: /dev/shm is on the same file system");
        return;
    }
    for engine in ENGINES {
        let dst = other.path().join(format!("dst-{engine}"));
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
            assert!(got == *data, "{engine}: content of {name} differs");
        }
    }
}
