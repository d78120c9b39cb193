//! `--chmod=CHMOD`: rsync's `chmod.c` (`parse_chmod()` / `tweak_mode()`).
//!
//! The result of the rules is treated as the permissions the sender
//! supplied, so they are applied to the *source* mode before anything else
//! looks at it (`dest_mode()`, `-p`, `-E`, itemize). rsync applies them on
//! the receiving side as the file list arrives, to everything except
//! symlinks (and a mode of 0).
//!
//! Grammar, as rsync 3.5 accepts it (checked item by item against the real
//! binary, see the oracle table in the tests):
//!
//! * comma-separated items, no empty items, no spaces;
//! * each item optionally starts with `D` (directories only) or `F`
//!   (everything that is not a directory); both at once is an error, a
//!   repeated letter is fine (`DD+x`), and the letter may even follow the
//!   class letters (`uD+x`);
//! * then either octal digits (only if no class letter was given; at most
//!   `07777`), which set the permissions outright, or `[ugoa]*` followed by
//!   exactly one operator `+ - =` and either permission letters `rwxXst`
//!   or one class letter `u`/`g`/`o` to copy from (`g=u`), never both;
//! * with no class letter the bits are masked with the umask (`+x` under
//!   umask 022 gives `a+x`, under 077 only `u+x`), like chmod(1);
//! * `X` judges executability from the mode as it was *before any* rule
//!   (rsync computes it once per file), and is ignored for directories;
//! * `s` with no `u`/`g`/`a` class sets the set-uid bit (`o+s` == `u+s`);
//! * `=` only clears the special bits of its classes when `s`/`t` is given;
//!   a permission-copy `=` always clears them (u: set-uid, g: set-gid,
//!   o: sticky), as GNU chmod does;
//! * several `--chmod` options append to one list, applied in order.

use std::fmt;

/// Which entries a rule applies to (`D` / `F` prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    All,
    DirsOnly,
    FilesOnly,
}

/// The operator of a permission-copy item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CopyOp {
    Add,
    Sub,
    Set,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// rsync's AND/OR pair: `mode = (mode & and) | or`. With `x_keep`
    /// (an `X` was given) the execute bits of `or` only apply to
    /// directories and to files that were executable to begin with.
    Mask { and: u32, or: u32, x_keep: bool },
    /// `g=u` style: copy the permission bits of class `from_shift`
    /// (6 = u, 3 = g, 0 = o) onto the classes in `who` (a `0111`-style
    /// multiplier). `umask` is set when no class letter was given.
    Copy {
        op: CopyOp,
        who: u32,
        from_shift: u32,
        umask: Option<u32>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rule {
    scope: Scope,
    action: Action,
}

/// An ordered list of `--chmod` rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChmodRules {
    rules: Vec<Rule>,
}

/// A rejected `--chmod` argument. `Display` gives rsync's message
/// (`Invalid argument passed to --chmod (ARG)`); rsync prints it with its
/// `rsync: ` prefix and exits with code 1 (syntax or usage error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ChmodError {
    pub arg: String,
}

impl fmt::Display for ChmodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid argument passed to --chmod ({})", self.arg)
    }
}

impl std::error::Error for ChmodError {}

/// The special bit that belongs to each class letter (`u`: set-uid,
/// `g`: set-gid, `o`: sticky), for a `0111`-style class multiplier.
fn class_specials(who: u32) -> u32 {
    let mut s = 0;
    if who & 0o100 != 0 {
        s |= 0o4000;
    }
    if who & 0o010 != 0 {
        s |= 0o2000;
    }
    if who & 0o001 != 0 {
        s |= 0o1000;
    }
    s
}

/// Parses one `--chmod` argument with an explicit umask (rsync uses the
/// umask the process started with; pass the same one to every call).
pub(crate) fn parse_with_umask(arg: &str, umask: u32) -> Result<ChmodRules, ChmodError> {
    let err = || ChmodError {
        arg: arg.to_string(),
    };
    let mut rules = Vec::new();
    for item in arg.split(',') {
        rules.push(parse_item(item.as_bytes(), umask & 0o777).ok_or_else(err)?);
    }
    Ok(ChmodRules { rules })
}

/// Parses one `--chmod` argument using the process umask.
///
/// Reading the umask means setting it briefly; call this while the
/// program is still single-threaded (option parsing), or use
/// [`parse_with_umask`].
pub(crate) fn parse(arg: &str) -> Result<ChmodRules, ChmodError> {
    parse_with_umask(arg, crate::sys::umask())
}

fn parse_item(item: &[u8], umask: u32) -> Option<Rule> {
    let mut scope = Scope::All;
    let mut who = 0u32; // 0111-style class multiplier
    let mut topbits = 0u32; // special bits of the named classes (u, g, a)
    let mut i = 0;

    // First half: scope letters and classes, up to an operator or digits.
    let op = loop {
        let c = *item.get(i)?;
        i += 1;
        match c {
            b'D' if scope == Scope::FilesOnly => return None,
            b'F' if scope == Scope::DirsOnly => return None,
            b'D' => scope = Scope::DirsOnly,
            b'F' => scope = Scope::FilesOnly,
            b'u' => {
                who |= 0o100;
                topbits |= 0o4000;
            }
            b'g' => {
                who |= 0o010;
                topbits |= 0o2000;
            }
            b'o' => who |= 0o001,
            b'a' => {
                who |= 0o111;
                topbits |= 0o6000;
            }
            b'+' | b'-' | b'=' => break c,
            b'0'..=b'7' if who == 0 => return parse_octal(scope, &item[i - 1..]),
            _ => return None,
        }
    };

    // Second half: permission letters, or one class letter to copy from.
    let rest = &item[i..];
    if let [from] = rest
        && matches!(from, b'u' | b'g' | b'o')
    {
        return Some(copy_rule(scope, op, who, *from, umask));
    }

    let mut what = 0u32;
    let mut topoct = 0u32;
    let mut x_keep = false;
    for &c in rest {
        match c {
            b'r' => what |= 4,
            b'w' => what |= 2,
            b'X' => {
                x_keep = true;
                what |= 1;
            }
            b'x' => what |= 1,
            b's' if topbits != 0 => topoct |= topbits,
            b's' => topoct = 0o4000,
            b't' => topoct |= 0o1000,
            _ => return None,
        }
    }

    let bits = if who != 0 {
        who * what
    } else {
        who = 0o111;
        (who * what) & !umask
    };
    let (and, or) = match op {
        b'+' => (0o7777, bits + topoct),
        b'-' => (0o7777 - bits - topoct, 0),
        _ => {
            let clear_top = if topoct != 0 { topbits } else { 0 };
            (0o7777 - who * 7 - clear_top, bits + topoct)
        }
    };
    Some(Rule {
        scope,
        action: Action::Mask { and, or, x_keep },
    })
}

/// An octal item (`644`, `D2755`): `digits` must all be octal, at most
/// `0o7777`.
fn parse_octal(scope: Scope, digits: &[u8]) -> Option<Rule> {
    let mut v = 0u32;
    for &d in digits {
        if !(b'0'..=b'7').contains(&d) {
            return None;
        }
        v = v * 8 + u32::from(d - b'0');
        if v > 0o7777 {
            return None;
        }
    }
    Some(Rule {
        scope,
        action: Action::Mask {
            and: 0,
            or: v,
            x_keep: false,
        },
    })
}

/// `g=u`, `o+g`, `=o` …: copy class `from`'s bits to the `who` classes
/// (all of them, less the umask, when none is named).
fn copy_rule(scope: Scope, op: u8, who: u32, from: u8, umask: u32) -> Rule {
    let from_shift = match from {
        b'u' => 6,
        b'g' => 3,
        _ => 0,
    };
    let (who, umask) = if who == 0 {
        (0o111, Some(umask))
    } else {
        (who, None)
    };
    let op = match op {
        b'+' => CopyOp::Add,
        b'-' => CopyOp::Sub,
        _ => CopyOp::Set,
    };
    Rule {
        scope,
        action: Action::Copy {
            op,
            who,
            from_shift,
            umask,
        },
    }
}

impl ChmodRules {
    /// True when no rule was given (`--chmod` absent).
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Appends the rules of a later `--chmod` option.
    pub(crate) fn append(&mut self, other: ChmodRules) {
        self.rules.extend(other.rules);
    }

    /// rsync's `tweak_mode()`: the permissions the rules turn `mode` into.
    /// Bits outside `07777` (the file type) pass through untouched.
    /// `is_dir` selects the `D`/`F` rules and disables `X`'s
    /// "only if already executable" test.
    pub(crate) fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        let was_x = mode & 0o111 != 0;
        let non_perm = mode & !0o7777;
        let mut m = mode & 0o7777;
        for r in &self.rules {
            match r.scope {
                Scope::DirsOnly if !is_dir => continue,
                Scope::FilesOnly if is_dir => continue,
                _ => {}
            }
            match r.action {
                Action::Mask { and, or, x_keep } => {
                    m &= and;
                    m |= if x_keep && !was_x && !is_dir {
                        or & !0o111
                    } else {
                        or
                    };
                }
                Action::Copy {
                    op,
                    who,
                    from_shift,
                    umask,
                } => {
                    let v = (m >> from_shift) & 7;
                    let bits = (who * v) & !umask.unwrap_or(0);
                    match op {
                        CopyOp::Add => m |= bits,
                        CopyOp::Sub => m &= !bits,
                        CopyOp::Set => m = (m & !(who * 7) & !class_specials(who)) | bits,
                    }
                }
            }
        }
        m | non_perm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Source modes the oracle table was produced with, in column order.
    const MODES: [u32; 12] = [
        0o644, 0o755, 0o600, 0o000, 0o777, 0o4755, 0o2755, 0o1777, 0o6711, 0o070, 0o007, 0o7000,
    ];

    /// Real rsync 3.5.0 results: `rsync -r --perms --chmod=SPEC...` run
    /// as root under UMASK on files and directories with the modes in
    /// `MODES` (tab-separated specs are separate `--chmod` options).
    /// Columns: the 12 resulting file modes `|` the 12 directory modes,
    /// or `ERR message` when rsync refused the argument (exit code 1).
    #[rustfmt::skip]
    const ORACLE: &[(&str, &str, &str)] = &[
        ("022", "644", "644 644 644 644 644 644 644 644 644 644 644 644 | 644 644 644 644 644 644 644 644 644 644 644 644"),
        ("022", "0644", "644 644 644 644 644 644 644 644 644 644 644 644 | 644 644 644 644 644 644 644 644 644 644 644 644"),
        ("022", "755", "755 755 755 755 755 755 755 755 755 755 755 755 | 755 755 755 755 755 755 755 755 755 755 755 755"),
        ("022", "7777", "7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 | 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777"),
        ("022", "0", "0 0 0 0 0 0 0 0 0 0 0 0 | 0 0 0 0 0 0 0 0 0 0 0 0"),
        ("022", "00000644", "644 644 644 644 644 644 644 644 644 644 644 644 | 644 644 644 644 644 644 644 644 644 644 644 644"),
        ("022", "2775", "2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 | 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775"),
        ("022", "D2775\tF664", "664 664 664 664 664 664 664 664 664 664 664 664 | 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775"),
        ("022", "D2775,F664", "664 664 664 664 664 664 664 664 664 664 664 664 | 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775 2775"),
        ("022", "D755,F644", "644 644 644 644 644 644 644 644 644 644 644 644 | 755 755 755 755 755 755 755 755 755 755 755 755"),
        ("022", "Dg+s,ug+w,Fo-w,+X", "664 775 620 220 775 4775 2775 1775 6731 371 335 7220 | 2775 2775 2731 2331 2777 6775 2775 3777 6731 2371 2337 7331"),
        ("022", "u+x", "744 755 700 100 777 4755 2755 1777 6711 170 107 7100 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("022", "u-x", "644 655 600 0 677 4655 2655 1677 6611 70 7 7000 | 644 655 600 0 677 4655 2655 1677 6611 70 7 7000"),
        ("022", "g-w", "644 755 600 0 757 4755 2755 1757 6711 50 7 7000 | 644 755 600 0 757 4755 2755 1757 6711 50 7 7000"),
        ("022", "o=", "640 750 600 0 770 4750 2750 1770 6710 70 0 7000 | 640 750 600 0 770 4750 2750 1770 6710 70 0 7000"),
        ("022", "a=rX", "444 555 444 444 555 4555 2555 1555 6555 555 555 7444 | 555 555 555 555 555 4555 2555 1555 6555 555 555 7555"),
        ("022", "ugo=rwX", "666 777 666 666 777 4777 2777 1777 6777 777 777 7666 | 777 777 777 777 777 4777 2777 1777 6777 777 777 7777"),
        ("022", "u=rwX,go=rX", "644 755 644 644 755 4755 2755 1755 6755 755 755 7644 | 755 755 755 755 755 4755 2755 1755 6755 755 755 7755"),
        ("022", "+X", "644 755 600 0 777 4755 2755 1777 6711 171 117 7000 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("022", "-X", "644 644 600 0 666 4644 2644 1666 6600 60 6 7000 | 644 644 600 0 666 4644 2644 1666 6600 60 6 7000"),
        ("022", "=X", "0 111 0 0 111 4111 2111 1111 6111 111 111 7000 | 111 111 111 111 111 4111 2111 1111 6111 111 111 7111"),
        ("022", "+x", "755 755 711 111 777 4755 2755 1777 6711 171 117 7111 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("022", "-x", "644 644 600 0 666 4644 2644 1666 6600 60 6 7000 | 644 644 600 0 666 4644 2644 1666 6600 60 6 7000"),
        ("022", "=r", "444 444 444 444 444 4444 2444 1444 6444 444 444 7444 | 444 444 444 444 444 4444 2444 1444 6444 444 444 7444"),
        ("022", "+r", "644 755 644 444 777 4755 2755 1777 6755 474 447 7444 | 644 755 644 444 777 4755 2755 1777 6755 474 447 7444"),
        ("022", "=", "0 0 0 0 0 4000 2000 1000 6000 0 0 7000 | 0 0 0 0 0 4000 2000 1000 6000 0 0 7000"),
        ("022", "+", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "-", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "u=", "44 55 0 0 77 4055 2055 1077 6011 70 7 7000 | 44 55 0 0 77 4055 2055 1077 6011 70 7 7000"),
        ("022", "a=", "0 0 0 0 0 4000 2000 1000 6000 0 0 7000 | 0 0 0 0 0 4000 2000 1000 6000 0 0 7000"),
        ("022", "+s", "4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000 | 4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000"),
        ("022", "-s", "644 755 600 0 777 755 2755 1777 2711 70 7 3000 | 644 755 600 0 777 755 2755 1777 2711 70 7 3000"),
        ("022", "=s", "4000 4000 4000 4000 4000 4000 6000 5000 6000 4000 4000 7000 | 4000 4000 4000 4000 4000 4000 6000 5000 6000 4000 4000 7000"),
        ("022", "u+s", "4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000 | 4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000"),
        ("022", "g+s", "2644 2755 2600 2000 2777 6755 2755 3777 6711 2070 2007 7000 | 2644 2755 2600 2000 2777 6755 2755 3777 6711 2070 2007 7000"),
        ("022", "o+s", "4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000 | 4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000"),
        ("022", "a+s", "6644 6755 6600 6000 6777 6755 6755 7777 6711 6070 6007 7000 | 6644 6755 6600 6000 6777 6755 6755 7777 6711 6070 6007 7000"),
        ("022", "a-s", "644 755 600 0 777 755 755 1777 711 70 7 1000 | 644 755 600 0 777 755 755 1777 711 70 7 1000"),
        ("022", "go+s", "2644 2755 2600 2000 2777 6755 2755 3777 6711 2070 2007 7000 | 2644 2755 2600 2000 2777 6755 2755 3777 6711 2070 2007 7000"),
        ("022", "u=s", "4044 4055 4000 4000 4077 4055 6055 5077 6011 4070 4007 7000 | 4044 4055 4000 4000 4077 4055 6055 5077 6011 4070 4007 7000"),
        ("022", "g=s", "2604 2705 2600 2000 2707 6705 2705 3707 6701 2000 2007 7000 | 2604 2705 2600 2000 2707 6705 2705 3707 6701 2000 2007 7000"),
        ("022", "a=s", "6000 6000 6000 6000 6000 6000 6000 7000 6000 6000 6000 7000 | 6000 6000 6000 6000 6000 6000 6000 7000 6000 6000 6000 7000"),
        ("022", "o=s", "4640 4750 4600 4000 4770 4750 6750 5770 6710 4070 4000 7000 | 4640 4750 4600 4000 4770 4750 6750 5770 6710 4070 4000 7000"),
        ("022", "+t", "1644 1755 1600 1000 1777 5755 3755 1777 7711 1070 1007 7000 | 1644 1755 1600 1000 1777 5755 3755 1777 7711 1070 1007 7000"),
        ("022", "-t", "644 755 600 0 777 4755 2755 777 6711 70 7 6000 | 644 755 600 0 777 4755 2755 777 6711 70 7 6000"),
        ("022", "o=t", "1640 1750 1600 1000 1770 5750 3750 1770 7710 1070 1000 7000 | 1640 1750 1600 1000 1770 5750 3750 1770 7710 1070 1000 7000"),
        ("022", "u=t", "1044 1055 1000 1000 1077 1055 3055 1077 3011 1070 1007 3000 | 1044 1055 1000 1000 1077 1055 3055 1077 3011 1070 1007 3000"),
        ("022", "a=t", "1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 | 1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 1000 1000"),
        ("022", "=st", "5000 5000 5000 5000 5000 5000 7000 5000 7000 5000 5000 7000 | 5000 5000 5000 5000 5000 5000 7000 5000 7000 5000 5000 7000"),
        ("022", "ug=st", "7004 7005 7000 7000 7007 7005 7005 7007 7001 7000 7007 7000 | 7004 7005 7000 7000 7007 7005 7005 7007 7001 7000 7007 7000"),
        ("022", "u+xs", "4744 4755 4700 4100 4777 4755 6755 5777 6711 4170 4107 7100 | 4744 4755 4700 4100 4777 4755 6755 5777 6711 4170 4107 7100"),
        ("022", "a+rwxXst", "7666 7777 7666 7666 7777 7777 7777 7777 7777 7777 7777 7666 | 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777 7777"),
        ("022", "uuu+x", "744 755 700 100 777 4755 2755 1777 6711 170 107 7100 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("022", "ug+x", "754 755 710 110 777 4755 2755 1777 6711 170 117 7110 | 754 755 710 110 777 4755 2755 1777 6711 170 117 7110"),
        ("022", "uga+x", "755 755 711 111 777 4755 2755 1777 6711 171 117 7111 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("022", "uD+x", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("022", "gF-w", "644 755 600 0 757 4755 2755 1757 6711 50 7 7000 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "DD+x", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("022", "FF+x", "755 755 711 111 777 4755 2755 1777 6711 171 117 7111 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "D644", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 644 644 644 644 644 644 644 644 644 644 644 644"),
        ("022", "F0644", "644 644 644 644 644 644 644 644 644 644 644 644 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "D0", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 0 0 0 0 0 0 0 0 0 0 0 0"),
        ("022", "644,u+x", "744 744 744 744 744 744 744 744 744 744 744 744 | 744 744 744 744 744 744 744 744 744 744 744 744"),
        ("022", "u+x,644", "644 644 644 644 644 644 644 644 644 644 644 644 | 644 644 644 644 644 644 644 644 644 644 644 644"),
        ("022", "644,+X", "644 755 644 644 755 755 755 755 755 755 755 644 | 755 755 755 755 755 755 755 755 755 755 755 755"),
        ("022", "000,+X", "0 111 0 0 111 111 111 111 111 111 111 0 | 111 111 111 111 111 111 111 111 111 111 111 111"),
        ("022", "a-x,a+X", "644 755 600 0 777 4755 2755 1777 6711 171 117 7000 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("022", "a+X,a-x", "644 644 600 0 666 4644 2644 1666 6600 60 6 7000 | 644 644 600 0 666 4644 2644 1666 6600 60 6 7000"),
        ("022", "=,+X", "0 111 0 0 111 4111 2111 1111 6111 111 111 7000 | 111 111 111 111 111 4111 2111 1111 6111 111 111 7111"),
        ("022", "Du+x,Fg+w", "664 775 620 20 777 4775 2775 1777 6731 70 27 7020 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("022", "u+x\tg-w", "744 755 700 100 757 4755 2755 1757 6711 150 107 7100 | 744 755 700 100 757 4755 2755 1757 6711 150 107 7100"),
        ("022", "D755\tF644\to-r", "640 640 640 640 640 640 640 640 640 640 640 640 | 751 751 751 751 751 751 751 751 751 751 751 751"),
        ("022", "644\t+X", "644 755 644 644 755 755 755 755 755 755 755 644 | 755 755 755 755 755 755 755 755 755 755 755 755"),
        ("022", "g=u", "664 775 660 0 777 4775 775 1777 4771 0 7 5000 | 664 775 660 0 777 4775 775 1777 4771 0 7 5000"),
        ("022", "o=g", "644 755 600 0 777 4755 2755 777 6711 77 0 6000 | 644 755 600 0 777 4755 2755 777 6711 77 0 6000"),
        ("022", "g-o", "604 705 600 0 707 4705 2705 1707 6701 70 7 7000 | 604 705 600 0 707 4705 2705 1707 6701 70 7 7000"),
        ("022", "u=g", "444 555 0 0 777 555 2555 1777 2111 770 7 3000 | 444 555 0 0 777 555 2555 1777 2111 770 7 3000"),
        ("022", "a=u", "666 777 666 0 777 777 777 777 777 0 0 0 | 666 777 666 0 777 777 777 777 777 0 0 0"),
        ("022", "g+u", "664 775 660 0 777 4775 2775 1777 6771 70 7 7000 | 664 775 660 0 777 4775 2775 1777 6771 70 7 7000"),
        ("022", "g-u", "604 705 600 0 707 4705 2705 1707 6701 70 7 7000 | 604 705 600 0 707 4705 2705 1707 6701 70 7 7000"),
        ("022", "=u", "644 755 644 0 755 755 755 755 755 0 0 0 | 644 755 644 0 755 755 755 755 755 0 0 0"),
        ("022", "+u", "644 755 644 0 777 4755 2755 1777 6755 70 7 7000 | 644 755 644 0 777 4755 2755 1777 6755 70 7 7000"),
        ("022", "-u", "0 0 0 0 22 4000 2000 1022 6000 70 7 7000 | 0 0 0 0 22 4000 2000 1022 6000 70 7 7000"),
        ("022", "a-u", "0 0 0 0 0 4000 2000 1000 6000 70 7 7000 | 0 0 0 0 0 4000 2000 1000 6000 70 7 7000"),
        ("022", "u=u", "644 755 600 0 777 755 2755 1777 2711 70 7 3000 | 644 755 600 0 777 755 2755 1777 2711 70 7 3000"),
        ("022", "g=g", "644 755 600 0 777 4755 755 1777 4711 70 7 5000 | 644 755 600 0 777 4755 755 1777 4711 70 7 5000"),
        ("022", "o=o", "644 755 600 0 777 4755 2755 777 6711 70 7 6000 | 644 755 600 0 777 4755 2755 777 6711 70 7 6000"),
        ("022", "go=u", "666 777 666 0 777 4777 777 777 4777 0 0 4000 | 666 777 666 0 777 4777 777 777 4777 0 0 4000"),
        ("022", "ug=o", "444 555 0 0 777 555 555 1777 111 0 777 1000 | 444 555 0 0 777 555 555 1777 111 0 777 1000"),
        ("022", "ug=u", "664 775 660 0 777 775 775 1777 771 0 7 1000 | 664 775 660 0 777 775 775 1777 771 0 7 1000"),
        ("022", "u-g", "244 255 600 0 77 4255 2255 1077 6611 70 7 7000 | 244 255 600 0 77 4255 2255 1077 6611 70 7 7000"),
        ("022", "Dg=u", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 664 775 660 0 777 4775 775 1777 4771 0 7 5000"),
        ("022", "Fo=u", "646 757 606 0 777 4757 2757 777 6717 70 0 6000 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("022", "Dg=u,Fo=u", "646 757 606 0 777 4757 2757 777 6717 70 0 6000 | 664 775 660 0 777 4775 775 1777 4771 0 7 5000"),
        ("022", "g=u,g+w", "664 775 660 20 777 4775 775 1777 4771 20 27 5020 | 664 775 660 20 777 4775 775 1777 4771 20 27 5020"),
        ("022", "u=rw,g=u", "664 665 660 660 667 4665 665 1667 4661 660 667 5660 | 664 665 660 660 667 4665 665 1667 4661 660 667 5660"),
        ("022", "u=g,g=o,o=u", "444 555 0 0 777 555 555 777 111 707 70 0 | 444 555 0 0 777 555 555 777 111 707 70 0"),
        ("022", "o=rwx,u=o", "747 757 707 707 777 757 2757 1777 2717 777 707 3707 | 747 757 707 707 777 757 2757 1777 2717 777 707 3707"),
        ("022", "g=u,Do=g", "664 775 660 0 777 4775 775 1777 4771 0 7 5000 | 666 777 666 0 777 4777 777 777 4777 0 0 4000"),
        ("022", "ug=rX", "444 555 440 440 557 4555 2555 1557 6551 550 557 7440 | 554 555 550 550 557 4555 2555 1557 6551 550 557 7550"),
        ("022", "o=rwX", "646 757 606 6 777 4757 2757 1777 6717 77 7 7006 | 647 757 607 7 777 4757 2757 1777 6717 77 7 7007"),
        ("022", "u=rw\tg=u\to=g", "666 666 666 666 666 4666 666 666 4666 666 666 4666 | 666 666 666 666 666 4666 666 666 4666 666 666 4666"),
        ("077", "+x", "744 755 700 100 777 4755 2755 1777 6711 170 107 7100 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("077", "=rw", "600 600 600 600 600 4600 2600 1600 6600 600 600 7600 | 600 600 600 600 600 4600 2600 1600 6600 600 600 7600"),
        ("077", "+X", "644 755 600 0 777 4755 2755 1777 6711 170 107 7000 | 744 755 700 100 777 4755 2755 1777 6711 170 107 7100"),
        ("077", "-w", "444 555 400 0 577 4555 2555 1577 6511 70 7 7000 | 444 555 400 0 577 4555 2555 1577 6511 70 7 7000"),
        ("077", "=u", "600 700 600 0 700 700 700 700 700 0 0 0 | 600 700 600 0 700 700 700 700 700 0 0 0"),
        ("077", "+u", "644 755 600 0 777 4755 2755 1777 6711 70 7 7000 | 644 755 600 0 777 4755 2755 1777 6711 70 7 7000"),
        ("077", "-g", "244 255 600 0 77 4255 2255 1077 6611 70 7 7000 | 244 255 600 0 77 4255 2255 1077 6611 70 7 7000"),
        ("077", "+s", "4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000 | 4644 4755 4600 4000 4777 4755 6755 5777 6711 4070 4007 7000"),
        ("077", "=", "0 0 0 0 0 4000 2000 1000 6000 0 0 7000 | 0 0 0 0 0 4000 2000 1000 6000 0 0 7000"),
        ("077", "ug+w", "664 775 620 220 777 4775 2775 1777 6731 270 227 7220 | 664 775 620 220 777 4775 2775 1777 6731 270 227 7220"),
        ("077", "g=u", "664 775 660 0 777 4775 775 1777 4771 0 7 5000 | 664 775 660 0 777 4775 775 1777 4771 0 7 5000"),
        ("077", "=rwX", "600 700 600 600 700 4700 2700 1700 6700 700 700 7600 | 700 700 700 700 700 4700 2700 1700 6700 700 700 7700"),
        ("077", "-rwx", "44 55 0 0 77 4055 2055 1077 6011 70 7 7000 | 44 55 0 0 77 4055 2055 1077 6011 70 7 7000"),
        ("000", "+x", "755 755 711 111 777 4755 2755 1777 6711 171 117 7111 | 755 755 711 111 777 4755 2755 1777 6711 171 117 7111"),
        ("000", "=rw", "666 666 666 666 666 4666 2666 1666 6666 666 666 7666 | 666 666 666 666 666 4666 2666 1666 6666 666 666 7666"),
        ("000", "-w", "444 555 400 0 555 4555 2555 1555 6511 50 5 7000 | 444 555 400 0 555 4555 2555 1555 6511 50 5 7000"),
        ("000", "=u", "666 777 666 0 777 777 777 777 777 0 0 0 | 666 777 666 0 777 777 777 777 777 0 0 0"),
        ("000", "+u", "666 777 666 0 777 4777 2777 1777 6777 70 7 7000 | 666 777 666 0 777 4777 2777 1777 6777 70 7 7000"),
        ("000", "-g", "200 200 600 0 0 4200 2200 1000 6600 0 7 7000 | 200 200 600 0 0 4200 2200 1000 6600 0 7 7000"),
        ("000", "=rwX", "666 777 666 666 777 4777 2777 1777 6777 777 777 7666 | 777 777 777 777 777 4777 2777 1777 6777 777 777 7777"),
        ("027", "+x", "754 755 710 110 777 4755 2755 1777 6711 170 117 7110 | 754 755 710 110 777 4755 2755 1777 6711 170 117 7110"),
        ("027", "=rw", "640 640 640 640 640 4640 2640 1640 6640 640 640 7640 | 640 640 640 640 640 4640 2640 1640 6640 640 640 7640"),
        ("027", "+X", "644 755 600 0 777 4755 2755 1777 6711 170 117 7000 | 754 755 710 110 777 4755 2755 1777 6711 170 117 7110"),
        ("027", "=u", "640 750 640 0 750 750 750 750 750 0 0 0 | 640 750 640 0 750 750 750 750 750 0 0 0"),
        ("027", "+u", "644 755 640 0 777 4755 2755 1777 6751 70 7 7000 | 644 755 640 0 777 4755 2755 1777 6751 70 7 7000"),
        ("027", "-g", "204 205 600 0 27 4205 2205 1027 6601 20 7 7000 | 204 205 600 0 27 4205 2205 1027 6601 20 7 7000"),
        ("027", "=rwX", "640 750 640 640 750 4750 2750 1750 6750 750 750 7640 | 750 750 750 750 750 4750 2750 1750 6750 750 750 7750"),
        ("027", "-rwx", "4 5 0 0 27 4005 2005 1027 6001 20 7 7000 | 4 5 0 0 27 4005 2005 1027 6001 20 7 7000"),
        ("022", "u+x-w", "ERR Invalid argument passed to --chmod (u+x-w)"),
        ("022", "u+x+w", "ERR Invalid argument passed to --chmod (u+x+w)"),
        ("022", "u", "ERR Invalid argument passed to --chmod (u)"),
        ("022", ",", "ERR Invalid argument passed to --chmod (,)"),
        ("022", "u+x,", "ERR Invalid argument passed to --chmod (u+x,)"),
        ("022", ",u+x", "ERR Invalid argument passed to --chmod (,u+x)"),
        ("022", "u+x,,g+w", "ERR Invalid argument passed to --chmod (u+x,,g+w)"),
        ("022", "D", "ERR Invalid argument passed to --chmod (D)"),
        ("022", "F", "ERR Invalid argument passed to --chmod (F)"),
        ("022", "DF644", "ERR Invalid argument passed to --chmod (DF644)"),
        ("022", "FD+x", "ERR Invalid argument passed to --chmod (FD+x)"),
        ("022", "10000", "ERR Invalid argument passed to --chmod (10000)"),
        ("022", "17777", "ERR Invalid argument passed to --chmod (17777)"),
        ("022", "8", "ERR Invalid argument passed to --chmod (8)"),
        ("022", "649", "ERR Invalid argument passed to --chmod (649)"),
        ("022", "64a", "ERR Invalid argument passed to --chmod (64a)"),
        ("022", "u+644", "ERR Invalid argument passed to --chmod (u+644)"),
        ("022", "+644", "ERR Invalid argument passed to --chmod (+644)"),
        ("022", "D+644", "ERR Invalid argument passed to --chmod (D+644)"),
        ("022", " u+x", "ERR Invalid argument passed to --chmod ( u+x)"),
        ("022", "u+x ", "ERR Invalid argument passed to --chmod (u+x )"),
        ("022", "U+x", "ERR Invalid argument passed to --chmod (U+x)"),
        ("022", "D6D44", "ERR Invalid argument passed to --chmod (D6D44)"),
        ("022", "644u", "ERR Invalid argument passed to --chmod (644u)"),
        ("022", "0u", "ERR Invalid argument passed to --chmod (0u)"),
        ("022", "u+x,D", "ERR Invalid argument passed to --chmod (u+x,D)"),
        ("022", "g=ur", "ERR Invalid argument passed to --chmod (g=ur)"),
        ("022", "u=g+x", "ERR Invalid argument passed to --chmod (u=g+x)"),
        ("022", "o=ug", "ERR Invalid argument passed to --chmod (o=ug)"),
        ("022", "g=uo", "ERR Invalid argument passed to --chmod (g=uo)"),
        ("022", "g=a", "ERR Invalid argument passed to --chmod (g=a)"),
        ("022", "g=u+", "ERR Invalid argument passed to --chmod (g=u+)"),
        ("022", "g=us", "ERR Invalid argument passed to --chmod (g=us)"),
        ("022", "g=uu", "ERR Invalid argument passed to --chmod (g=uu)"),
        ("022", "g+uo", "ERR Invalid argument passed to --chmod (g+uo)"),
        ("022", "g=ru", "ERR Invalid argument passed to --chmod (g=ru)"),
        ("022", "g-=x", "ERR Invalid argument passed to --chmod (g-=x)"),
        ("022", "g==", "ERR Invalid argument passed to --chmod (g==)"),
        ("022", "g=+", "ERR Invalid argument passed to --chmod (g=+)"),
        ("022", "u+x\tbogus", "ERR Invalid argument passed to --chmod (bogus)"),
        ("022", "", "ERR Invalid argument passed to --chmod ()"),
    ];

    fn octal(s: &str) -> u32 {
        u32::from_str_radix(s, 8).expect("oracle values are octal")
    }

    #[test]
    fn matches_rsync_oracle() {
        let mut failures = Vec::new();
        for &(umask, specs, want) in ORACLE {
            let umask = octal(umask);
            let mut rules = ChmodRules::default();
            let mut error = None;
            for spec in specs.split('\t') {
                match parse_with_umask(spec, umask) {
                    Ok(r) => rules.append(r),
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(msg) = want.strip_prefix("ERR ") {
                if error.as_deref() != Some(msg) {
                    failures.push(format!("{specs:?}: want error {msg:?}, got {error:?}"));
                }
                continue;
            }
            if let Some(e) = error {
                failures.push(format!("{specs:?}: unexpected error {e}"));
                continue;
            }
            let (files, dirs) = want.split_once(" | ").expect("two halves");
            for (is_dir, half) in [(false, files), (true, dirs)] {
                for (&src, want) in MODES.iter().zip(half.split(' ')) {
                    let ty = if is_dir { 0o040000 } else { 0o100000 };
                    let got = rules.apply(ty | src, is_dir);
                    if got != ty | octal(want) {
                        failures.push(format!(
                            "{specs:?} umask {umask:03o} {} {src:04o}: got {:04o}, rsync {want}",
                            if is_dir { "dir" } else { "file" },
                            got & 0o7777
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn type_bits_pass_through() {
        let r = parse_with_umask("0", 0o022).unwrap();
        assert_eq!(r.apply(0o100644, false), 0o100000);
        assert_eq!(r.apply(0o020644, false), 0o020000);
    }

    #[test]
    fn empty_rules_are_identity() {
        let r = ChmodRules::default();
        assert!(r.is_empty());
        assert_eq!(r.apply(0o104755, false), 0o104755);
    }

    #[test]
    fn append_keeps_order() {
        let mut a = parse_with_umask("644", 0o022).unwrap();
        a.append(parse_with_umask("u+x", 0o022).unwrap());
        assert_eq!(a.apply(0o100600, false), 0o100744);
        let mut b = parse_with_umask("u+x", 0o022).unwrap();
        b.append(parse_with_umask("644", 0o022).unwrap());
        assert_eq!(b.apply(0o100600, false), 0o100644);
    }

    #[test]
    fn error_names_the_whole_argument() {
        let e = parse_with_umask("u+x,zz", 0o022).unwrap_err();
        assert_eq!(e.arg, "u+x,zz");
        assert_eq!(e.to_string(), "Invalid argument passed to --chmod (u+x,zz)");
    }

    #[test]
    fn octal_and_copy_items_in_isolation() {
        let mask = |or| Action::Mask {
            and: 0,
            or,
            x_keep: false,
        };
        assert_eq!(
            parse_octal(Scope::All, b"2755").map(|r| r.action),
            Some(mask(0o2755))
        );
        assert_eq!(parse_octal(Scope::All, b"17777"), None);
        assert_eq!(parse_octal(Scope::All, b"68"), None);
        let r = copy_rule(Scope::DirsOnly, b'=', 0, b'g', 0o022);
        assert_eq!(r.scope, Scope::DirsOnly);
        assert_eq!(
            r.action,
            Action::Copy {
                op: CopyOp::Set,
                who: 0o111,
                from_shift: 3,
                umask: Some(0o022),
            }
        );
        let r = copy_rule(Scope::All, b'-', 0o001, b'u', 0o022);
        assert!(matches!(
            r.action,
            Action::Copy {
                op: CopyOp::Sub,
                who: 0o001,
                from_shift: 6,
                umask: None
            }
        ));
    }
}
