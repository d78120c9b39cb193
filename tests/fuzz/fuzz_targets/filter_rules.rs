//! filter_rules.rs — fuzzes arsync's filter module with arbitrary rule text
//! and paths: command-line rules of every kind, merge files, per-directory
//! merge files read through `FilterStack::enter`, the matcher on the sender
//! and receiver sides, the two wildcard engines against each other, and the
//! size parser. Any panic (or engine disagreement) is a bug.
//!
//! Input layout: segments separated by 0x01. The first byte of each segment
//! but the last picks what the segment is (see `kind`); the last segment is
//! a list of paths separated by `\n` (a trailing `/` marks a directory).
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::OnceLock;

use arsync::filter::{FilterArg, FilterEnv, FilterList, FilterStack, check_engines_agree, parse_size};
use libfuzzer_sys::fuzz_target;

/// A scratch directory for merge files (one per fuzzing process).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("arsync-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(d.join("src/sub"));
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let mut segs: Vec<&[u8]> = data.split(|&b| b == 1).collect();
    let paths_seg = segs.pop().unwrap_or_default();
    if segs.len() > 12 {
        return;
    }
    let dir = scratch();
    let mut args = Vec::new();
    let mut from0 = false;
    let mut perdir: Vec<u8> = Vec::new();
    let mut stdin = Vec::new();
    let mut patterns: Vec<&[u8]> = Vec::new();
    for seg in &segs {
        let Some((&kind, body)) = seg.split_first() else {
            continue;
        };
        let os = || OsString::from_vec(body.to_vec());
        match kind % 12 {
            0 => args.push(FilterArg::Filter(os())),
            1 => args.push(FilterArg::Exclude(os())),
            2 => args.push(FilterArg::Include(os())),
            3 => {
                // A merge file read once.
                let _ = std::fs::write(dir.join("merge"), body);
                args.push(FilterArg::Filter(OsString::from(match body.first() {
                    Some(b) if b % 3 == 0 => "merge,w merge",
                    Some(b) if b % 3 == 1 => ".- merge",
                    _ => ". merge",
                })));
            }
            4 => {
                let _ = std::fs::write(dir.join("from"), body);
                args.push(FilterArg::ExcludeFrom("from".into()));
            }
            5 => {
                let _ = std::fs::write(dir.join("from"), body);
                args.push(FilterArg::IncludeFrom("from".into()));
            }
            6 => args.push(FilterArg::ShortF),
            7 => args.push(FilterArg::CvsExclude),
            8 => perdir = body.to_vec(),
            9 => from0 = !from0,
            10 => stdin = body.to_vec(),
            _ => {
                if let Ok(s) = std::str::from_utf8(body) {
                    let _ = parse_size("max-size", s);
                }
            }
        }
        patterns.push(body);
    }
    let _ = std::fs::write(dir.join("src/.rsync-filter"), &perdir);
    let _ = std::fs::write(dir.join("src/sub/.rsync-filter"), &perdir);
    let _ = std::fs::write(dir.join("src/.cvsignore"), &perdir);
    let env = FilterEnv {
        cwd: Some(dir.clone()),
        home: Some(dir.clone().into_os_string()),
        cvsignore: Some(OsString::from_vec(perdir.clone())),
        stdin: Some(stdin),
    };
    let paths: Vec<&[u8]> = paths_seg.split(|&b| b == b'\n').take(16).collect();
    for p in &patterns {
        for path in &paths {
            check_engines_agree(p, path);
        }
    }
    let Ok(list) = FilterList::build_with(&args, from0, env) else {
        return;
    };
    let root = FilterStack::new_at(list.clone(), &dir.join("src"));
    let stacks = match root.try_enter(b"", &dir.join("src")) {
        Ok((st, _)) => {
            let sub = st.enter(b"sub", &dir.join("src/sub")).0;
            vec![FilterStack::new(list), st, sub]
        }
        Err(_) => vec![FilterStack::new(list)],
    };
    for st in &stacks {
        for path in &paths {
            let (name, is_dir) = match path.strip_suffix(b"/") {
                Some(n) => (n, true),
                None => (*path, false),
            };
            let _ = st.excluded(name, is_dir);
            let _ = st.protected(name, is_dir, false);
            let _ = st.protected(name, is_dir, true);
            let _ = st.protected_ex(name, is_dir, false, true);
        }
    }
});
