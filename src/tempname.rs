//! rsync-style temporary names, `.NAME.XXXXXX` next to the destination,
//! carrying a mark that tells arsync's own from anyone else's.
//!
//! Of the six characters after the last dot, four are random and two are
//! a hash of the final name and those four. A name of that shape whose
//! last two characters match the hash was made by arsync with a chance of
//! 3,843 in 3,844 (rsync's `mkstemp` names match by chance once in 3,844).
//! That lets a later run remove the debris a killed run left behind (see
//! `DirAt::remove_stale_temp`, which also proves the file is no longer
//! in use) without touching rsync's or a user's files. Hand-written: no
//! crate makes names with a checkable mark.

use std::cell::Cell;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest name a directory entry may have.
const NAME_MAX: usize = 255;

/// Random characters, then mark characters, after the last dot.
const RANDOM: usize = 4;
const MARK: usize = 2;
const SUFFIX: usize = RANDOM + MARK;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let tid = std::thread::current().id();
    let h = format!("{tid:?}")
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    (t ^ h.rotate_left(17) ^ u64::from(std::process::id()) << 32) | 1
}

fn next_random() -> u64 {
    RNG.with(|r| {
        // xorshift64*: unpredictability is not needed (O_EXCL guards
        // collisions), only a low chance of retrying.
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// The mark for final name `kept` (as cut) and random part `random`:
/// FNV-1a over a fixed key, the name and the random characters.
fn mark(kept: &[u8], random: &[u8]) -> [u8; MARK] {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in b"arsync temp\0"
        .iter()
        .chain(kept)
        .chain(b"\0")
        .chain(random)
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let n = ALNUM.len() as u64;
    [ALNUM[(h % n) as usize], ALNUM[(h / n % n) as usize]]
}

/// How much of a final name a temp name keeps (the result must fit in
/// NAME_MAX); what [`ours`] returns.
pub(crate) fn cut(final_name: &[u8]) -> &[u8] {
    &final_name[..final_name.len().min(NAME_MAX - SUFFIX - 2)]
}

/// A temporary name for `final_name` in `dir`, as rsync shapes it: a dot
/// (none when the name already starts with one), the name (cut so the
/// result fits in NAME_MAX), a dot and six alphanumerics (four random,
/// two marking it as arsync's).
pub(crate) fn temp_name(dir: &Path, final_name: &[u8]) -> PathBuf {
    dir.join(std::ffi::OsStr::from_bytes(&build(final_name, true)))
}

/// A temporary name inside `--temp-dir`: rsync gives those no leading dot
/// (a name that starts with one keeps it).
pub(crate) fn temp_dir_name(final_name: &[u8]) -> Vec<u8> {
    build(final_name, false)
}

fn build(final_name: &[u8], dotted: bool) -> Vec<u8> {
    let keep = cut(final_name);
    let dot = dotted && !keep.starts_with(b".");
    loop {
        let mut n = Vec::with_capacity(keep.len() + SUFFIX + 2);
        if dot {
            n.push(b'.');
        }
        n.extend_from_slice(keep);
        n.push(b'.');
        let mut r = next_random();
        for _ in 0..RANDOM {
            n.push(ALNUM[(r % ALNUM.len() as u64) as usize]);
            r /= ALNUM.len() as u64;
        }
        let m = mark(keep, &n[n.len() - RANDOM..]);
        n.extend_from_slice(&m);
        // `.x.ABCDEF` reads as a temp name for `.x` or for `x`: draw again
        // in the rare case where the mark fits both readings, so that
        // `ours` gives back exactly one final name.
        if n[0] != b'.' || ours(&n) == Some(keep) {
            return n;
        }
    }
}

/// If `name` is a temp name arsync made, the final name it was for (as
/// cut to fit; compare with [`cut`]).
pub(crate) fn ours(name: &[u8]) -> Option<&[u8]> {
    if name.len() < SUFFIX + 3 || name[0] != b'.' {
        return None;
    }
    let (head, suffix) = name.split_at(name.len() - SUFFIX);
    let body = head.strip_suffix(b".")?;
    if !suffix.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let (random, m) = suffix.split_at(RANDOM);
    // The final name started with a dot (no dot was added), or did not.
    let as_is = (body != b".").then_some(body);
    let undotted = Some(&body[1..]).filter(|k| !k.is_empty() && !k.starts_with(b"."));
    [as_is, undotted]
        .into_iter()
        .flatten()
        .find(|k| mark(k, random) == m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_length() {
        let p = temp_name(Path::new("d"), b"file.txt");
        let name = p.file_name().unwrap().as_bytes();
        assert!(name.starts_with(b".file.txt."));
        assert_eq!(name.len(), ".file.txt.".len() + 6);
        // rsync adds no second dot, nor one inside --temp-dir.
        let p = temp_name(Path::new(""), b".hidden");
        assert!(p.as_os_str().as_bytes().starts_with(b".hidden."), "{p:?}");
        assert!(temp_dir_name(b"plain").starts_with(b"plain."));
        assert!(temp_dir_name(b".hidden").starts_with(b".hidden."));
        let long = vec![b'x'; 255];
        let p = temp_name(Path::new("d"), &long);
        assert_eq!(p.file_name().unwrap().len(), 255);
        assert_ne!(
            temp_name(Path::new("d"), b"a"),
            temp_name(Path::new("d"), b"a")
        );
    }

    #[test]
    fn our_names_are_recognised_and_others_are_not() {
        for f in [
            &b"a"[..],
            b"file.txt",
            b".hidden",
            b"..x",
            b"x.y.z",
            &[b'n'; 255],
        ] {
            let p = temp_name(Path::new(""), f);
            let name = p.as_os_str().as_bytes();
            assert_eq!(ours(name), Some(cut(f)), "{p:?}");
            // Another final name, or a changed character, breaks the mark.
            let mut other = name.to_vec();
            let last = other.len() - 1;
            other[last] = if other[last] == b'a' { b'b' } else { b'a' };
            assert_eq!(ours(&other), None);
        }
        for n in [
            &b"file"[..],
            b".file",
            b".file.",
            b".file.ABCDE",
            b"..ABCDEF",
            b".f.ABC-EF",
        ] {
            assert_eq!(ours(n), None, "{}", String::from_utf8_lossy(n));
        }
        // Names of rsync's shape match by chance about once in 3,844.
        let hits = (0..20_000u32)
            .filter(|i| {
                let s: Vec<u8> = (0..6)
                    .map(|k| ALNUM[((i * 7919 + k * 104_729) as usize * 31 + k as usize) % 62])
                    .collect();
                let name = [&b".file."[..], &s].concat();
                ours(&name).is_some()
            })
            .count();
        assert!(hits < 30, "{hits} of 20,000 foreign names taken for ours");
    }
}
