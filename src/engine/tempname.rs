//! rsync-style temporary names: `.NAME.XXXXXX` next to the destination.

use std::cell::Cell;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Longest name a directory entry may have.
const NAME_MAX: usize = 255;

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

/// A temporary name for `final_name` in `dir`: a dot, the name (cut so the
/// result fits in NAME_MAX), a dot and six random alphanumerics.
pub(crate) fn temp_name(dir: &Path, final_name: &[u8]) -> PathBuf {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let keep = final_name.len().min(NAME_MAX - 8);
    let mut n = Vec::with_capacity(keep + 8);
    n.push(b'.');
    n.extend_from_slice(&final_name[..keep]);
    n.push(b'.');
    let mut r = next_random();
    for _ in 0..6 {
        n.push(ALNUM[(r % ALNUM.len() as u64) as usize]);
        r /= ALNUM.len() as u64;
    }
    dir.join(std::ffi::OsStr::from_bytes(&n))
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
        let long = vec![b'x'; 255];
        let p = temp_name(Path::new("d"), &long);
        assert_eq!(p.file_name().unwrap().len(), 255);
        assert_ne!(
            temp_name(Path::new("d"), b"a"),
            temp_name(Path::new("d"), b"a")
        );
    }
}
