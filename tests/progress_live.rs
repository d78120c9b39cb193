//! `--progress` off a terminal while a big file copies: rsync prints the
//! file's name at once and a progress line about once a second while the
//! data moves, so a pipe (`arsync -aP big d/ | cat`) sees the copy move.
//! The exact text is checked against rsync by the compat suite; here, the
//! timing: lines must arrive during the copy, not all at its end.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `arsync ARGS`, reading its stdout as it comes: each piece of
/// output with the time it arrived, and the time the run ended.
fn timed_output(args: &[&str], cwd: &std::path::Path) -> (Vec<(Duration, String)>, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_arsync"))
        .args(args)
        .current_dir(cwd)
        .env("ARSYNC_NO_FALLBACK", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.push((
                start.elapsed(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            ));
        }
        got
    });
    let status = child.wait().expect("wait");
    let end = start.elapsed();
    assert!(status.success(), "{status:?}");
    (reader.join().expect("reader"), end)
}

#[test]
fn progress_moves_while_a_big_file_copies() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("src")).expect("src");
    let f = std::fs::File::create(tmp.path().join("src/big")).expect("big");
    // 96 MiB of data at 32 MB/s: about three seconds.
    let block = vec![0x5au8; 1 << 20];
    for _ in 0..96 {
        std::io::Write::write_all(&mut &f, &block).expect("write");
    }
    drop(f);
    let (got, end) = timed_output(&["-aP", "--bwlimit=32m", "src/", "dst/"], tmp.path());
    let all: String = got.iter().map(|(_, s)| s.as_str()).collect();
    let arrived = |pat: &str| {
        let mut seen = String::new();
        got.iter().find_map(|(t, s)| {
            seen.push_str(s);
            seen.contains(pat).then_some(*t)
        })
    };
    let name = arrived("big\n").expect("the name line");
    assert!(
        end - name > Duration::from_millis(1500),
        "name only {:?} before the end",
        end - name
    );
    // Lines during the copy: the 10%, 30% and 50% marks pass long before
    // the end, each in a line of its own.
    let updates: Vec<&str> = all.split('\r').filter(|l| l.contains('%')).collect();
    assert!(updates.len() >= 3, "{all:?}");
    let early = updates
        .iter()
        .filter(|l| !l.contains("100%"))
        .filter_map(|l| arrived(l.trim_end()))
        .filter(|t| end - *t > Duration::from_millis(500))
        .count();
    assert!(early >= 2, "progress only at the end: {got:?}");
    assert!(
        all.contains(" 100% ") && all.contains("(xfr#1, to-chk=0/2)\n"),
        "{all:?}"
    );
}
