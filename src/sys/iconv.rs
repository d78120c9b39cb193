//! glibc's `iconv(3)` behind a safe handle: the charset conversion rsync's
//! `--iconv` runs on names.
//!
//! Why glibc's and not a Rust crate (`encoding_rs` knows the WHATWG set
//! only): rsync opens exactly the names the user gives (`latin1`,
//! `ISO-8859-15`, `CP1252`, the locale's codeset for `.`) with glibc's
//! `iconv_open`, and its messages quote glibc's verdicts (`Invalid or
//! incomplete multibyte or wide character` for EILSEQ, `Invalid argument`
//! for an incomplete sequence at the end). Only the same library gives
//! the same names the same bytes and the same errors.

use std::ffi::{CStr, CString};

pub(crate) use rustix::io::Errno;

/// An open conversion (`iconv_open(to, from)`), used by one thread.
#[derive(Debug)]
pub(crate) struct Converter {
    cd: libc::iconv_t,
}

// SAFETY: an iconv descriptor is plain state owned by this value; it is
// only used through `&mut self` (never from two threads at once) and
// closed once in `drop`.
unsafe impl Send for Converter {}

impl Converter {
    /// `iconv_open(to, from)`; `Err` when glibc knows no such conversion.
    /// The names are bytes as given (glibc drops what a charset name
    /// cannot hold, as it does for rsync).
    pub(crate) fn open(to: &[u8], from: &[u8]) -> Result<Converter, Errno> {
        let t = CString::new(to).map_err(|_| Errno::INVAL)?;
        let f = CString::new(from).map_err(|_| Errno::INVAL)?;
        // SAFETY: both arguments are valid NUL-terminated strings that
        // outlive the call.
        let cd = unsafe { libc::iconv_open(t.as_ptr(), f.as_ptr()) };
        if cd as isize == -1 {
            return Err(Errno::from_raw_os_error(
                std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EINVAL),
            ));
        }
        Ok(Converter { cd })
    }

    /// rsync's `iconvbufs()` on one whole buffer from its initial state,
    /// and back to the initial state at the end (a stateful encoding such
    /// as UTF-7 or ISO-2022-JP ends its last sequence: rsync 3.5 does not,
    /// and cuts such names).
    /// Strict (`keep_bad` false): the first invalid (EILSEQ) or incomplete
    /// (EINVAL) sequence fails the conversion with that errno. With
    /// `keep_bad` (rsync's ICB_INCLUDE_BAD | ICB_INCLUDE_INCOMPLETE) such a
    /// byte is copied as it is and the conversion goes on after it.
    pub(crate) fn convert(&mut self, input: &[u8], keep_bad: bool) -> Result<Vec<u8>, Errno> {
        self.run(input, if keep_bad { Bad::Keep } else { Bad::Fail })
    }

    /// [`Converter::convert`] keeping going past bytes that do not
    /// convert, which are given apart: the output without them, and each
    /// one with the output length it fell at (rsync's client writes them
    /// as `\#ooo` between the converted parts of a message).
    pub(crate) fn convert_marking(&mut self, input: &[u8]) -> (Vec<u8>, Vec<(usize, u8)>) {
        let mut marks = Vec::new();
        let out = self
            .run(input, Bad::Mark(&mut marks))
            .unwrap_or_else(|_| input.to_vec());
        (out, marks)
    }

    fn run(&mut self, input: &[u8], mut bad: Bad<'_>) -> Result<Vec<u8>, Errno> {
        // SAFETY: null buffers only reset the descriptor's shift state.
        unsafe {
            libc::iconv(
                self.cd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        let mut out: Vec<u8> = Vec::with_capacity(input.len() * 4 + 16);
        let mut pos = 0;
        while pos < input.len() {
            let free = out.capacity() - out.len();
            let mut inp = input[pos..].as_ptr() as *mut libc::c_char;
            let mut inleft = input.len() - pos;
            let before = inleft;
            let mut outp = out.spare_capacity_mut().as_mut_ptr() as *mut libc::c_char;
            let mut outleft = free;
            // SAFETY: `inp`/`inleft` describe the unread part of `input`
            // (iconv only reads through it despite the `*mut` type);
            // `outp`/`outleft` the spare capacity of `out`, which iconv
            // writes at most `outleft` bytes into.
            let r = unsafe { libc::iconv(self.cd, &mut inp, &mut inleft, &mut outp, &mut outleft) };
            let err = (r == usize::MAX).then(std::io::Error::last_os_error);
            let written = free - outleft;
            // SAFETY: iconv initialised exactly `written` bytes past the
            // old length, within the capacity.
            unsafe { out.set_len(out.len() + written) };
            pos += before - inleft;
            let Some(err) = err else { continue };
            let errno = err.raw_os_error().unwrap_or(libc::EILSEQ);
            match errno {
                libc::EINTR => {}
                libc::E2BIG => out.reserve(out.capacity().max(64)),
                libc::EILSEQ | libc::EINVAL if !matches!(bad, Bad::Fail) => {
                    match &mut bad {
                        Bad::Mark(marks) => marks.push((out.len(), input[pos])),
                        _ => out.push(input[pos]),
                    }
                    pos += 1;
                }
                e => return Err(Errno::from_raw_os_error(e)),
            }
        }
        self.flush(&mut out)?;
        Ok(out)
    }

    /// Writes the sequence that returns to the initial shift state (none
    /// for a stateless charset).
    fn flush(&mut self, out: &mut Vec<u8>) -> Result<(), Errno> {
        loop {
            out.reserve(16);
            let free = out.capacity() - out.len();
            let mut outp = out.spare_capacity_mut().as_mut_ptr() as *mut libc::c_char;
            let mut outleft = free;
            // SAFETY: a null input asks for the reset sequence only;
            // `outp`/`outleft` describe the spare capacity of `out`.
            let r = unsafe {
                libc::iconv(
                    self.cd,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    &mut outp,
                    &mut outleft,
                )
            };
            let err = (r == usize::MAX).then(std::io::Error::last_os_error);
            // SAFETY: iconv initialised exactly `free - outleft` bytes past
            // the old length, within the capacity.
            unsafe { out.set_len(out.len() + free - outleft) };
            match err.map(|e| e.raw_os_error().unwrap_or(libc::EILSEQ)) {
                None => return Ok(()),
                Some(libc::E2BIG) => out.reserve(out.capacity().max(64)),
                Some(libc::EINTR) => {}
                Some(e) => return Err(Errno::from_raw_os_error(e)),
            }
        }
    }
}

/// What a conversion does with a byte that does not convert.
enum Bad<'a> {
    /// Fails with its errno.
    Fail,
    /// Copies it as it is.
    Keep,
    /// Leaves it out, noting it and where it fell.
    Mark(&'a mut Vec<(usize, u8)>),
}

impl Drop for Converter {
    fn drop(&mut self) {
        // SAFETY: `cd` came from a successful iconv_open and is closed
        // only here.
        unsafe { libc::iconv_close(self.cd) };
    }
}

/// The locale's charset as rsync's `default_charset()` names it
/// (`nl_langinfo(CODESET)` after `setlocale(LC_CTYPE, "")`):
/// `ANSI_X3.4-1968` under `LC_ALL=C`, `UTF-8` under `C.UTF-8`. Sets the
/// process's LC_CTYPE from the environment as rsync does at start, so
/// that an empty charset name opens the same conversion as rsync's; call
/// it before other threads start.
pub(crate) fn locale_codeset() -> String {
    // SAFETY: the argument is a NUL-terminated literal; called while the
    // process has one thread (option resolution), as setlocale requires.
    unsafe { libc::setlocale(libc::LC_CTYPE, c"".as_ptr()) };
    // SAFETY: nl_langinfo returns a pointer to a NUL-terminated string
    // owned by the C library, copied out at once.
    let p = unsafe { libc::nl_langinfo(libc::CODESET) };
    if p.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated, valid until the next locale call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_to_utf8_and_errors() {
        let mut c = Converter::open(b"UTF-8", b"latin1").unwrap();
        assert_eq!(c.convert(b"caf\xe9", false).unwrap(), "café".as_bytes());
        let mut u = Converter::open(b"UTF-8", b"utf8").unwrap();
        assert_eq!(u.convert(b"caf\xe9", false), Err(Errno::INVAL));
        assert_eq!(u.convert(b"l\xe9nk", false), Err(Errno::ILSEQ));
        assert_eq!(u.convert(b"l\xe9nk", true).unwrap(), b"l\xe9nk");
        assert!(Converter::open(b"UTF-8", b"bogus").is_err());
        let mut l = Converter::open(b"latin1", b"UTF-8").unwrap();
        let (out, marks) = l.convert_marking(b"\xc3\xa9\xe2\x82\xacx\xff");
        assert_eq!(out, b"\xe9x");
        assert_eq!(marks, [(1, 0xe2), (1, 0x82), (1, 0xac), (2, 0xff)]);
    }

    #[test]
    fn stateful_encodings_end_their_last_sequence() {
        let mut c = Converter::open(b"UTF-7", b"UTF-8").unwrap();
        assert_eq!(c.convert("café".as_bytes(), false).unwrap(), b"caf+AOk-");
        assert_eq!(c.convert(b"abc", false).unwrap(), b"abc");
        let mut w = Converter::open(b"UTF-16", b"UTF-8").unwrap();
        assert_eq!(w.convert(b"ab", false).unwrap(), b"\xff\xfea\0b\0");
        let mut back = Converter::open(b"UTF-8", b"UTF-7").unwrap();
        assert_eq!(back.convert(b"caf+AOk-", false).unwrap(), "café".as_bytes());
    }
}
