//! arsync without io_uring: where `io_uring_setup` is refused (a kernel
//! built without it, `kernel.io_uring_disabled`, a container's seccomp
//! profile), every engine still copies exactly, through compio's polling
//! driver, and nothing is printed about it.
//!
//! The refusal is simulated for the child process only, with a seccomp
//! filter installed between fork and exec, so nothing global (such as
//! the `io_uring_disabled` sysctl) changes for the rest of the machine.

#![cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]

use std::fs;
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn arsync() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_arsync"))
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

// Classic BPF opcodes (linux/filter.h): BPF_LD|BPF_W|BPF_ABS,
// BPF_JMP|BPF_JEQ|BPF_K and BPF_RET|BPF_K (BPF_LD, BPF_W and BPF_K are 0).
const BPF_LD_W_ABS: u16 = 0x20;
const BPF_JMP_JEQ_K: u16 = 0x15;
const BPF_RET_K: u16 = 0x06;
/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

/// Makes `io_uring_setup` fail with `errno` in the process `cmd` starts.
fn deny_io_uring(cmd: &mut Command, errno: i32) -> &mut Command {
    let filter = [
        // Only filter this architecture's syscall numbers.
        stmt(BPF_LD_W_ABS, ARCH_OFFSET),
        jump(BPF_JMP_JEQ_K, AUDIT_ARCH, 0, 3),
        stmt(BPF_LD_W_ABS, NR_OFFSET),
        jump(BPF_JMP_JEQ_K, libc::SYS_io_uring_setup as u32, 0, 1),
        stmt(BPF_RET_K, libc::SECCOMP_RET_ERRNO | errno as u32),
        stmt(BPF_RET_K, libc::SECCOMP_RET_ALLOW),
    ];
    // SAFETY: the closure runs in the forked child before exec and only
    // makes two prctl calls on data it owns (`filter` is moved into it
    // and outlives the calls); it allocates nothing and takes no locks.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr() as *mut libc::sock_filter,
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Runs arsync with `io_uring_setup` failing with `errno`.
fn run_without_uring(errno: i32, args: &[&std::ffi::OsStr]) -> Output {
    deny_io_uring(Command::new(arsync()).args(args), errno)
        .output()
        .expect("running arsync")
}

/// The result of `io_uring_setup` in this process: `Ok` or the errno.
fn try_io_uring_setup() -> Result<(), i32> {
    // struct io_uring_params is 120 bytes; zeroed means "defaults".
    let mut params = [0u8; 120];
    // SAFETY: io_uring_setup(entries, params) only reads and writes the
    // 120-byte params buffer we pass; the fd it returns is closed here.
    let fd = unsafe { libc::syscall(libc::SYS_io_uring_setup, 2u32, params.as_mut_ptr()) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    }
    // SAFETY: fd was just returned to us and is closed once.
    unsafe { libc::close(fd as i32) };
    Ok(())
}

/// Run in a filtered child by `the_filter_denies_io_uring_setup`.
#[test]
#[ignore = "a probe run by the_filter_denies_io_uring_setup"]
fn probe_io_uring_setup() {
    let want: i32 = std::env::var("ARSYNC_PROBE_ERRNO")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert_eq!(try_io_uring_setup(), Err(want));
}

/// The filter really denies io_uring (else the tests below would pass by
/// running on io_uring after all).
#[test]
fn the_filter_denies_io_uring_setup() {
    for errno in [libc::EPERM, libc::ENOSYS] {
        let out = deny_io_uring(
            Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", "probe_io_uring_setup"])
                .env("ARSYNC_PROBE_ERRNO", errno.to_string()),
            errno,
        )
        .output()
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{out:?}"
        );
    }
}

/// Deterministic bytes.
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

fn tree(src: &Path) -> Vec<(&'static str, Vec<u8>)> {
    fs::create_dir_all(src.join("sub")).unwrap();
    let mut files = vec![
        ("empty", Vec::new()),
        ("one", pattern(1, 1)),
        ("chunk", pattern(1 << 20, 2)),
        ("big", pattern(5 * (1 << 20) + 3, 3)),
        ("sub/small", pattern(4000, 4)),
    ];
    for (name, data) in &files {
        fs::write(src.join(name), data).unwrap();
    }
    let mut f = fs::File::create(src.join("holes")).unwrap();
    f.write_all(&pattern(5000, 5)).unwrap();
    f.seek(SeekFrom::Start(3 << 20)).unwrap();
    f.write_all(&pattern(5000, 6)).unwrap();
    drop(f);
    let mut holes = vec![0u8; (3 << 20) + 5000];
    holes[..5000].copy_from_slice(&pattern(5000, 5));
    holes[3 << 20..].copy_from_slice(&pattern(5000, 6));
    files.push(("holes", holes));
    files
}

fn check(src: &Path, dst: &Path, files: &[(&str, Vec<u8>)], what: &str) {
    for (name, data) in files {
        let got = fs::read(dst.join(name)).unwrap_or_else(|e| panic!("{what}: {name}: {e}"));
        assert!(got == *data, "{what}: content of {name} differs");
        let s = fs::metadata(src.join(name)).unwrap();
        let d = fs::metadata(dst.join(name)).unwrap();
        assert_eq!(
            (s.mtime(), s.mtime_nsec(), s.mode()),
            (d.mtime(), d.mtime_nsec(), d.mode()),
            "{what}: attributes of {name}"
        );
    }
}

#[test]
fn every_engine_copies_without_io_uring() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let files = tree(&src);
    for errno in [libc::EPERM, libc::ENOSYS] {
        for engine in [
            "auto",
            "vec",
            "read-managed",
            "write-managed",
            "copy-file-range",
        ] {
            for extra in [&[][..], &["-S"][..], &["--inplace"][..]] {
                let what = format!("errno {errno}, {engine} {extra:?}");
                let dst = tmp
                    .path()
                    .join(format!("dst-{errno}-{engine}-{}", extra.len()));
                let engine_arg = format!("--copy-engine={engine}");
                let s = format!("{}/", src.display());
                let d = format!("{}/", dst.display());
                let mut args: Vec<&std::ffi::OsStr> = vec![engine_arg.as_ref(), "-a".as_ref()];
                args.extend(extra.iter().map(std::ffi::OsStr::new));
                args.push(s.as_ref());
                args.push(d.as_ref());
                let out = run_without_uring(errno, &args);
                assert!(out.status.success(), "{what}: {out:?}");
                assert!(out.stdout.is_empty(), "{what}: stdout {out:?}");
                assert!(out.stderr.is_empty(), "{what}: stderr {out:?}");
                check(&src, &dst, &files, &what);
            }
        }
    }
}

#[test]
fn verbose_output_is_rsyncs_without_io_uring() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    tree(&src);
    let with = tmp.path().join("with");
    let without = tmp.path().join("without");
    let s = format!("{}/", src.display());
    let normal = Command::new(arsync())
        .args(["-av", &s, &format!("{}/", with.display())])
        .output()
        .unwrap();
    let denied = run_without_uring(
        libc::EPERM,
        &[
            "-av".as_ref(),
            s.as_ref(),
            format!("{}/", without.display()).as_ref(),
        ],
    );
    assert!(denied.status.success(), "{denied:?}");
    let text = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with("sent ") && !l.contains("created directory"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(text(&normal), text(&denied));
    assert!(denied.stderr.is_empty(), "{denied:?}");
}
