//! Text a human reads: rsync's name escaping (`\#ooo`) and its number
//! formatting (`-h` units, comma grouping), and the questions asked of an
//! `--out-format` string before anything is rendered (which escapes it uses).
//!
//! A leaf module: it imports nothing from the crate, so the kernel door
//! (`sys`), the option parser and the reporters can all use it without
//! importing each other (issue 11: these helpers used to sit in
//! `report::format`, which made `sys` depend on `report`).

/// rsync's `do_big_num()`: digits, grouped with commas at level 1, in
/// units of 1000 (level 2) or 1024 (level 3+) with two decimals once the
/// value reaches one unit.
pub(crate) fn do_big_num(num: i64, human: u8) -> String {
    if human > 1 {
        let mult: i64 = if human == 2 { 1000 } else { 1024 };
        if num >= mult || num <= -mult {
            let m = mult as f64;
            let mut d = (num as f64 / m).abs();
            let mut units = 'K';
            for u in ['M', 'G', 'T'] {
                if d < m {
                    break;
                }
                d /= m;
                units = u;
            }
            if d >= m {
                d /= m;
                units = 'P';
            }
            if num < 0 {
                d = -d;
            }
            return format!("{d:.2}{units}");
        }
    }
    let digits = num.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if num < 0 {
        out.push('-');
    }
    for (i, ch) in digits.chars().enumerate() {
        if human > 0 && i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Escapes a line for stdout/stderr exactly as rsync's `rwrite()` does.
///
/// Without `-8`, rsync runs the line through iconv from the locale's
/// charset to itself: under a UTF-8 locale every byte that does not start
/// a valid sequence (glibc's decoder: no overlongs, no surrogates, up to
/// six bytes) becomes `\#ooo`; under any other (the C locale's ASCII) every
/// byte ≥ 0x80 does. Then, and with `-8` alone, control bytes other than
/// tab and a literal `\#` followed by three digits are escaped. DEL (0x7f)
/// and C1 characters that decode are printed as they are.
pub(crate) fn escape_output(line: &[u8], utf8: bool, eight_bit: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 8);
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        if b >= 0x80 && !eight_bit {
            let n = if utf8 { utf8_seq_len(&line[i..]) } else { 0 };
            if n == 0 {
                push_octal(&mut out, b);
                i += 1;
            } else {
                out.extend_from_slice(&line[i..i + n]);
                i += n;
            }
            continue;
        }
        if is_hash_escape(line, i) || (b < b' ' && b != b'\t') {
            push_octal(&mut out, b);
        } else {
            out.push(b);
        }
        i += 1;
    }
    out
}

/// Escapes what is left for a message rsync's receiving process writes
/// itself (a `[generator]` or `[receiver]` error, `--stderr=errors` or
/// `all`): that process has no iconv and tests each byte with `isprint`,
/// so under any locale DEL and every byte ≥ 0x80 become `\#ooo` — also
/// the bytes of characters [`escape_output`] kept for a UTF-8 locale.
/// `line` is already escaped otherwise (control bytes, `\#ooo`).
pub(crate) fn escape_server(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 8);
    for &b in line {
        if b >= 0x7f {
            push_octal(&mut out, b);
        } else {
            out.push(b);
        }
    }
    out
}

/// Escapes a line for the `--log-file`: rsync 3.x escapes control bytes
/// (other than tab) with or without the high bit (0x00–0x1f, 0x80–0x9f)
/// and a literal `\#` before three digits, whatever the locale; other
/// bytes are written as they are.
pub(crate) fn escape_log(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len() + 8);
    for (i, &b) in line.iter().enumerate() {
        if is_hash_escape(line, i) || (b != b'\t' && b & 0x7f < b' ') {
            push_octal(&mut out, b);
        } else {
            out.push(b);
        }
    }
    out
}

/// A backslash that starts `\#ddd` (it would read as an escape).
fn is_hash_escape(line: &[u8], i: usize) -> bool {
    line[i] == b'\\'
        && i + 4 < line.len()
        && line[i + 1] == b'#'
        && line[i + 2..i + 5].iter().all(u8::is_ascii_digit)
}

fn push_octal(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(format!("\\#{b:03o}").as_bytes());
}

/// The length of the valid UTF-8 sequence at the start of `s` as glibc's
/// iconv accepts it (0 if invalid or incomplete).
fn utf8_seq_len(s: &[u8]) -> usize {
    let lead = s[0];
    let (n, min, init) = match lead {
        0xc2..=0xdf => (2, 0x80u32, u32::from(lead & 0x1f)),
        0xe0..=0xef => (3, 0x800, u32::from(lead & 0x0f)),
        0xf0..=0xf7 => (4, 0x1_0000, u32::from(lead & 0x07)),
        0xf8..=0xfb => (5, 0x20_0000, u32::from(lead & 0x03)),
        0xfc..=0xfd => (6, 0x400_0000, u32::from(lead & 0x01)),
        _ => return 0,
    };
    if s.len() < n {
        return 0;
    }
    let mut v = init;
    for &c in &s[1..n] {
        if c & 0xc0 != 0x80 {
            return 0;
        }
        v = (v << 6) | u32::from(c & 0x3f);
    }
    if v < min || (0xd800..=0xdfff).contains(&v) {
        return 0;
    }
    n
}

/// Whether messages may show UTF-8 characters unescaped: rsync prints
/// printable multibyte characters as-is only under a UTF-8 `LC_CTYPE`.
pub(crate) fn locale_is_utf8() -> bool {
    for var in ["LC_ALL", "LC_CTYPE", "LANG"] {
        if let Some(v) = std::env::var_os(var) {
            if v.is_empty() {
                continue;
            }
            let v = v.to_string_lossy().to_ascii_lowercase();
            return v.contains("utf-8") || v.contains("utf8");
        }
    }
    false
}

/// Escapes a name for output like rsync's `rwrite()` (see
/// [`escape_output`]): control characters (except
/// tab), bytes that do not decode in the locale's charset, and a literal
/// `\#` before three digits become `\#ooo`; DEL and C1 characters that
/// decode are kept, as rsync keeps them. The few sequences glibc accepts
/// but a Rust string cannot hold (5- and 6-byte forms) are escaped too.
pub(crate) fn escape_name(name: &[u8], utf8: bool) -> String {
    let v = escape_output(name, utf8, false);
    match String::from_utf8(v) {
        Ok(s) => s,
        Err(e) => {
            let v = e.into_bytes();
            let mut out = String::with_capacity(v.len() + 8);
            for chunk in v.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    out.push_str(&format!("\\#{b:03o}"));
                }
            }
            out
        }
    }
}

/// rsync's default `--out-format` for `-v` / `--info=name`.
pub(crate) const DEFAULT_NAME_FORMAT: &[u8] = b"%n%L";
/// The format `-i` (and `--log-file`) uses.
pub(crate) const ITEMIZE_FORMAT: &[u8] = b"%i %n%L";

/// Whether `fmt` uses escape `esc` (rsync's `log_format_has()`; e.g. the
/// `b` of `%9b`).
pub(crate) fn format_has(fmt: &[u8], esc: u8) -> bool {
    let mut i = 0;
    while let Some(off) = fmt[i..].iter().position(|&b| b == b'%') {
        let mut p = i + off + 1;
        while fmt.get(p) == Some(&b'\'') {
            p += 1;
        }
        if fmt.get(p) == Some(&b'-') {
            p += 1;
        }
        while fmt.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        while fmt.get(p) == Some(&b'\'') {
            p += 1;
        }
        match fmt.get(p) {
            None => return false,
            Some(&c) if c == esc => return true,
            Some(_) => {}
        }
        i = p;
    }
    false
}

/// Whether lines are logged before the transfer (rsync's
/// `log_before_transfer`): true unless the format asks for a transfer
/// statistic (`%b`, `%c`, `%C`), which is only known afterwards.
pub(crate) fn logs_before_transfer(fmt: &[u8]) -> bool {
    !format_has(fmt, b'b') && !format_has(fmt, b'c') && !format_has(fmt, b'C')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receivers_messages_escape_every_high_byte_and_del() {
        let line = escape_output("n\u{e9}e a\x7fb\x01".as_bytes(), true, false);
        assert_eq!(line, "n\u{e9}e a\x7fb\\#001".as_bytes());
        assert_eq!(escape_server(&line), b"n\\#303\\#251e a\\#177b\\#001");
    }

    #[test]
    fn has_escape() {
        assert!(format_has(b"%i %n%L", b'i'));
        assert!(format_has(b"%'-10'b", b'b'));
        assert!(format_has(b"%%", b'%'));
        // rsync's scan resumes at an unknown escape's character.
        assert!(format_has(b"%%b", b'b'));
        assert!(!format_has(b"%n", b'i'));
        assert!(!format_has(b"100%", b'i'));
        assert!(logs_before_transfer(b"%n%L"));
        assert!(!logs_before_transfer(b"%n %9b"));
        assert!(!logs_before_transfer(b"%C"));
    }

    #[test]
    fn big_numbers() {
        assert_eq!(do_big_num(1_234_567, 0), "1234567");
        assert_eq!(do_big_num(1_234_567, 1), "1,234,567");
        assert_eq!(do_big_num(1_234_567, 2), "1.23M");
        assert_eq!(do_big_num(1_234_567, 3), "1.18M");
        assert_eq!(do_big_num(999, 2), "999");
        assert_eq!(do_big_num(0, 1), "0");
        assert_eq!(do_big_num(-1234, 1), "-1,234");
        assert_eq!(do_big_num(5 << 50, 3), "5.00P");
        assert_eq!(do_big_num(5 << 60, 3), "5120.00P");
    }

    #[test]
    fn stdout_escaping_like_rsync() {
        // C locale: every high byte; DEL stays; tab stays; \#ddd escaped.
        assert_eq!(escape_output(b"a\nb", false, false), b"a\\#012b");
        assert_eq!(escape_output(b"del\x7f", false, false), b"del\x7f");
        assert_eq!(escape_output(b"t\tab", false, false), b"t\tab");
        assert_eq!(
            escape_output(b"back\\#123", false, false),
            b"back\\#134#123"
        );
        assert_eq!(escape_output("é".as_bytes(), false, false), b"\\#303\\#251");
        // UTF-8: valid sequences (C1 controls, U+FFFF, 5-byte forms) stay.
        let u = |s: &[u8]| escape_output(s, true, false);
        assert_eq!(u("é".as_bytes()), "é".as_bytes());
        assert_eq!(u(b"c1\xc2\x85"), b"c1\xc2\x85");
        assert_eq!(u(b"\xef\xbf\xbf"), b"\xef\xbf\xbf");
        assert_eq!(u(b"\xf4\x90\x80\x80"), b"\xf4\x90\x80\x80");
        assert_eq!(u(b"\xf8\x88\x80\x80\x80"), b"\xf8\x88\x80\x80\x80");
        assert_eq!(u(b"\xed\xa0\x80"), b"\\#355\\#240\\#200");
        assert_eq!(u(b"\xc0\x80"), b"\\#300\\#200");
        assert_eq!(u(b"\xe0\x9f\xbf"), b"\\#340\\#237\\#277");
        assert_eq!(u(b"\xe2\x82A"), b"\\#342\\#202A");
        assert_eq!(u(b"\xc2\x7f"), b"\\#302\x7f");
        assert_eq!(u(b"\xff"), b"\\#377");
        // -8: high bytes pass, controls are still escaped.
        assert_eq!(escape_output(b"\xff\x85\n", false, true), b"\xff\x85\\#012");
    }

    #[test]
    fn log_escaping_like_rsync() {
        assert_eq!(escape_log(b"a\nb"), b"a\\#012b");
        assert_eq!(escape_log(b"c1\xc2\x85"), b"c1\xc2\\#205");
        assert_eq!(escape_log(b"hi\xff\x7f\xa0"), b"hi\xff\x7f\xa0");
        assert_eq!(escape_log(b"\x89\t"), b"\\#211\t");
        assert_eq!(escape_log(b"back\\#123"), b"back\\#134#123");
    }

    #[test]
    fn escaping_like_rsync() {
        assert_eq!(escape_name(b"a\nb", false), "a\\#012b");
        assert_eq!(escape_name(b"t\tab", false), "t\tab");
        assert_eq!(escape_name(b"back\\#123", false), "back\\#134#123");
        assert_eq!(escape_name("é".as_bytes(), false), "\\#303\\#251");
        assert_eq!(escape_name("é".as_bytes(), true), "é");
        assert_eq!(escape_name(b"\xff", true), "\\#377");
        assert_eq!(escape_name(b"sp ace", true), "sp ace");
    }
}
