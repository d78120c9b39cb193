//! size.rs — rsync's size syntax for --max-size/--min-size
//! (`parse_size_arg`): digits with an optional fraction, a unit letter
//! (b, K, M, G, T, P; none = bytes), `B` for powers of 1000 or `iB`/none
//! for 1024, and an optional `+1`/`-1` adjustment; errors in rsync's words.

use super::{ErrorClass, FilterError};

/// rsync's size syntax → bytes. `opt_name` is the option (`max-size`,
/// with or without leading dashes); errors read `--max-size=X is invalid`
/// or `--max-size=X is too large` (print them as `rsync: MSG`, exit 1).
pub fn parse_size(opt_name: &str, arg: &str) -> Result<u64, FilterError> {
    parse_size_with(opt_name, arg, b'b')
}

/// [`parse_size`] with the unit a bare number means (`b'K'` for
/// `--bwlimit`, `b'b'` elsewhere), as rsync's `parse_size_arg()` takes it.
pub fn parse_size_with(opt_name: &str, arg: &str, unit: u8) -> Result<u64, FilterError> {
    let name = opt_name.trim_start_matches('-');
    let fail = |what: &str| {
        Err(FilterError(
            format!("--{name}={arg} is {what}"),
            ErrorClass::Syntax,
        ))
    };
    let b = arg.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let suffix = match b.get(i) {
        Some(&c) if c != b'+' && c != b'-' => {
            i += 1;
            c
        }
        _ => unit,
    };
    let reps = match suffix.to_ascii_lowercase() {
        b'b' => 0,
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return fail("invalid"),
    };
    let mult: i64 = match b.get(i) {
        Some(b'b' | b'B') => {
            i += 1;
            1000
        }
        None | Some(b'+' | b'-') => 1024,
        Some(_) if b.len() >= i + 2 && b[i..i + 2].eq_ignore_ascii_case(b"ib") => {
            i += 2;
            1024
        }
        Some(_) => return fail("invalid"),
    };
    let unit: i64 = (0..reps).fold(1, |acc, _| acc * mult);
    // `size *= atof(arg)`: the product is computed in double and converted
    // back to a 64-bit integer; anything out of range becomes negative on
    // rsync's platforms, which reports "too large".
    let product = unit as f64 * atof(b);
    const TWO_63: f64 = (1u64 << 63) as f64;
    let mut size: i64 = if product > -TWO_63 && product < TWO_63 {
        product.trunc() as i64
    } else {
        i64::MIN
    };
    if matches!(b.get(i), Some(b'+' | b'-')) && b.get(i + 1) == Some(&b'1') && i != 0 {
        size = if b[i] == b'+' {
            size.wrapping_add(1)
        } else {
            size.wrapping_sub(1)
        };
        i += 2;
    }
    if size < 0 {
        return fail("too large");
    }
    if i != b.len() {
        return fail("invalid");
    }
    Ok(size as u64)
}

/// C `atof()` of the leading number (the part rsync's scan accepted, and
/// possibly a sign: `-1` reaches here).
fn atof(b: &[u8]) -> f64 {
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let text = std::str::from_utf8(&b[start..i]).unwrap_or("");
    let v = match text {
        "" | "." => 0.0,
        t => t.parse::<f64>().unwrap_or(0.0),
    };
    if neg { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> u64 {
        parse_size("max-size", s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        parse_size("--max-size", s).unwrap_err().0
    }

    #[test]
    fn values_checked_against_rsync() {
        assert_eq!(ok("1.5K"), 1536);
        assert_eq!(ok("1KB"), 1000);
        assert_eq!(ok("1kB"), 1000);
        assert_eq!(ok("1KiB"), 1024);
        assert_eq!(ok("1KIB"), 1024);
        assert_eq!(ok("1Kib"), 1024);
        assert_eq!(ok("1k+1"), 1025);
        assert_eq!(ok("1k-1"), 1023);
        assert_eq!(ok("1kB+1"), 1001);
        assert_eq!(ok("1.5KB-1"), 1499);
        assert_eq!(ok("0.1K"), 102);
        assert_eq!(ok("1+1"), 2);
        assert_eq!(ok("1-1"), 0);
        assert_eq!(ok(""), 0);
        assert_eq!(ok(".5"), 0);
        assert_eq!(ok("."), 0);
        assert_eq!(ok("1b"), 1);
        assert_eq!(ok("1bb"), 1);
        assert_eq!(ok("1Bib"), 1);
        assert_eq!(ok("1.9999"), 1);
        assert_eq!(ok("5g"), 5 * 1024 * 1024 * 1024);
        assert_eq!(ok("2M"), 2 * 1024 * 1024);
        assert_eq!(ok("1T"), 1 << 40);
        assert_eq!(ok("8191P"), 8191 * (1u64 << 50));
        assert_eq!(ok("123"), 123);
    }

    #[test]
    fn errors_checked_against_rsync() {
        for s in [
            "+1", "abc", "1x", "1.5.5", "1e3", "1K+2", "1K+10", "-0", "1K-2", "1-1x", "1 ", " 1",
            "1K1", "0x10", "1.5.K", "1..5", "1,5K",
        ] {
            assert_eq!(err(s), format!("--max-size={s} is invalid"), "{s}");
        }
        for s in [
            "99999999999P",
            "9999999P",
            "8192P",
            "-1",
            "-1x",
            "0-1",
            "-5",
        ] {
            assert_eq!(err(s), format!("--max-size={s} is too large"), "{s}");
        }
        assert_eq!(
            parse_size("min-size", "x").unwrap_err().0,
            "--min-size=x is invalid"
        );
    }
}
