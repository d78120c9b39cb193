//! runstat — run one command, report wall time, CPU time and peak RSS.
//!
//!     runstat OUTFILE LOGFILE CMD [ARGS...]
//!
//! Writes "rc wall_s user_s sys_s max_rss_kib machine_busy_s" to OUTFILE;
//! the command's stdout and stderr go to LOGFILE, stdin is /dev/null. The
//! command's exit code is the first field (128+N when killed by signal N);
//! runstat itself exits non-zero only when it cannot do its job.
//!
//! machine_busy_s is the CPU time the whole machine used during the run
//! (from /proc/stat, 10 ms ticks, steal included): minus the command's own
//! user+sys it tells how much ran beside the measurement — other processes
//! (a disturbance) or kernel threads the copy wakes (writeback, memory
//! management).
//!
//! Why not /usr/bin/time: it reads the same wait4() rusage, but prints
//! user/sys truncated to 10 ms, which shows every small-file copy as 0 %
//! CPU. Why not Python: a child spawned from a 13 MB interpreter inherits
//! that as its peak RSS (Linux keeps the pre-exec high-water mark), which
//! would hide the tools' own figures; this binary is ~1 MB, like GNU time.
//!
//! Built by benchmarks/common.sh with plain `rustc -O` (no crates, no
//! Cargo.toml), for 64-bit Linux (the rusage layout below is LP64).

use std::fs::File;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

/// struct rusage on LP64 Linux: two timevals, then 14 longs (ru_maxrss first).
#[repr(C)]
#[derive(Default)]
struct Rusage {
    utime_sec: i64,
    utime_usec: i64,
    stime_sec: i64,
    stime_usec: i64,
    maxrss_kib: i64,
    _rest: [i64; 13],
}

unsafe extern "C" {
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn sysconf(name: i32) -> i64;
}

const SC_CLK_TCK: i32 = 2; // Linux value of _SC_CLK_TCK

/// Busy CPU ticks of the whole machine so far: every field of /proc/stat's
/// "cpu" line except idle and iowait (guest time is already inside user).
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let line = stat.lines().next().unwrap_or("");
    let f: Vec<u64> = line.split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    get(0) + get(1) + get(2) + get(5) + get(6) + get(7)
}

fn exit_code(raw_status: i32) -> i32 {
    let st = ExitStatus::from_raw(raw_status);
    match (st.code(), st.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => 255,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: runstat OUTFILE LOGFILE CMD [ARGS...]");
        std::process::exit(2);
    }
    let (out, logfile, cmd) = (&args[1], &args[2], &args[3..]);
    let log = File::create(logfile).unwrap_or_else(|e| {
        eprintln!("runstat: {logfile}: {e}");
        std::process::exit(2)
    });
    let log2 = log.try_clone().expect("dup log fd");

    let busy0 = machine_busy_ticks();
    let t0 = Instant::now();
    let spawned = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn();
    let (rc, wall, ru) = match spawned {
        Ok(child) => {
            // Reap with wait4 ourselves (std's Child::wait discards rusage);
            // the Child is never waited on afterwards, so no double reap.
            let mut status = 0;
            let mut ru = Rusage::default();
            let pid = child.id() as i32;
            let r = loop {
                let r = unsafe { wait4(pid, &mut status, 0, &mut ru) };
                if r >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                    break r;
                }
            };
            if r < 0 {
                eprintln!("runstat: wait4: {}", std::io::Error::last_os_error());
                std::process::exit(2);
            }
            (exit_code(status), t0.elapsed().as_secs_f64(), ru)
        }
        Err(e) => {
            let _ = writeln!(File::options().append(true).open(logfile).unwrap(), "runstat: cannot run {}: {e}", cmd[0]);
            (127, 0.0, Rusage::default())
        }
    };
    let busy = machine_busy_ticks().saturating_sub(busy0) as f64 / unsafe { sysconf(SC_CLK_TCK) }.max(1) as f64;
    let user = ru.utime_sec as f64 + ru.utime_usec as f64 / 1e6;
    let sys = ru.stime_sec as f64 + ru.stime_usec as f64 / 1e6;
    let line = format!("{rc} {wall:.6} {user:.6} {sys:.6} {} {busy:.2}\n", ru.maxrss_kib);
    if let Err(e) = std::fs::write(out, line) {
        eprintln!("runstat: {out}: {e}");
        std::process::exit(2);
    }
}
