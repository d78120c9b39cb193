//! normalize.rs — turns raw tool output into comparable text (masks volatile numbers, source
//! locations and temp-file names) and implements the relaxed, order-tolerant comparison.

/// Bytes → String without losing information: invalid UTF-8 bytes become `\xNN`.
pub fn to_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        for b in chunk.invalid() {
            s.push_str(&format!("\\x{b:02X}"));
        }
    }
    s
}

/// `sent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec`
/// → `sent N bytes  received N bytes  N bytes/sec`.
fn norm_sent_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("sent ")?;
    let (_, rest) = rest.split_once(" bytes  received ")?;
    let (_, rest) = rest.split_once(" bytes  ")?;
    let tail = rest.split_once(" bytes/sec")?.1;
    Some(format!("sent N bytes  received N bytes  N bytes/sec{tail}"))
}

/// `total size is 1,234  speedup is 0.02 (DRY RUN)` → keep the total, mask the speedup.
fn norm_total_line(line: &str) -> Option<String> {
    let rest = line.strip_prefix("total size is ")?;
    let (total, rest) = rest.split_once("  speedup is ")?;
    let tail = rest.split_once(' ').map(|(_, t)| t).unwrap_or("");
    if tail.is_empty() {
        Some(format!("total size is {total}  speedup is N"))
    } else {
        Some(format!("total size is {total}  speedup is N {tail}"))
    }
}

/// `--stats` lines whose numbers are protocol/timing dependent.
const VOLATILE_STATS: &[&str] = &[
    "File list size: ",
    "File list generation time: ",
    "File list transfer time: ",
    "Total bytes sent: ",
    "Total bytes received: ",
];

fn norm_stats_line(line: &str) -> Option<String> {
    VOLATILE_STATS
        .iter()
        .find(|p| line.starts_with(*p))
        .map(|p| format!("{p}N"))
}

/// ` at main.c(1394) [sender=3.5.0]` → ` at FILE(LINE) [ROLE]`.
fn norm_error_location(line: &str) -> String {
    if let Some(pos) = line.rfind(" at ") {
        let tail = &line[pos + 4..];
        if let Some(open) = tail.find('(')
            && let Some(close) = tail[open..].find(") [")
            && tail.ends_with(']')
            && !tail[..open].contains(' ')
            && tail[open + 1..open + close]
                .bytes()
                .all(|b| b.is_ascii_digit())
        {
            return format!("{} at FILE(LINE) [ROLE]", &line[..pos]);
        }
    }
    line.to_string()
}

fn is_boundary_before(c: Option<char>) -> bool {
    matches!(c, None | Some('/' | '"' | '\'' | ' ' | '(' | '\t'))
}

fn is_component_end(c: char) -> bool {
    matches!(c, '/' | '"' | '\'' | ' ' | ':' | ')' | '\t' | ',')
}

/// Temp files `.NAME.XXXXXX` (a dot, a name, a dot, 6 alphanumerics) → `.NAME.XXXXXX`.
pub fn norm_temp_names(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let prev = if i == 0 { None } else { Some(chars[i - 1]) };
        if chars[i] == '.' && is_boundary_before(prev) {
            let mut j = i + 1;
            while j < chars.len() && !is_component_end(chars[j]) {
                j += 1;
            }
            let comp = &chars[i..j];
            // .NAME.XXXXXX : at least ".x.123456"
            if comp.len() >= 9 {
                let suffix = &comp[comp.len() - 7..];
                if suffix[0] == '.'
                    && suffix[1..].iter().all(|c| c.is_ascii_alphanumeric())
                    && comp.len() - 7 > 1
                {
                    out.extend(&comp[..comp.len() - 6]);
                    out.push_str("XXXXXX");
                    i = j;
                    continue;
                }
            }
            out.extend(comp);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// rsync's `mkstemp "DIR/NAME.XXXXXX" failed` lines: inside `--temp-dir`
/// the temp name has no leading dot, so `norm_temp_names` leaves it;
/// mask its six random characters here.
fn norm_mkstemp(line: String) -> String {
    // `mkstemp "T" failed`, and with --temp-dir outside --confine-root's
    // root `stat "T" failed` and `rename "T" -> "NAME"`.
    const HEADS: [(&str, &str); 3] = [
        ("mkstemp \"", "\" failed"),
        ("] stat \"", "\" failed"),
        ("] rename \"", "\" -> \""),
    ];
    let Some((start, end)) = HEADS.iter().find_map(|(head, tail)| {
        let start = line.find(head)? + head.len();
        Some((start, line[start..].find(tail)? + start))
    }) else {
        return line;
    };
    let path = &line[start..end];
    let Some(cut) = path.len().checked_sub(7) else {
        return line;
    };
    let suffix = &path.as_bytes()[cut..];
    if suffix[0] == b'.' && suffix[1..].iter().all(u8::is_ascii_alphanumeric) {
        return format!("{}.XXXXXX{}", &line[..start + cut], &line[end..]);
    }
    line
}

/// `--progress` rates: `   19.53kB/s` → ` RB/s`. A rate is bytes over
/// elapsed milliseconds, so a tiny file shows 9.77 or 19.53 kB/s
/// depending on whether its copy took one millisecond or two, and its
/// unit (`kB/s` or `MB/s`) moves with it; the padding before it goes too,
/// as it follows the number's width.
fn norm_rates(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find("B/s") {
        let head = &rest[..pos];
        let unit_start = head
            .char_indices()
            .next_back()
            .filter(|&(_, c)| matches!(c, 'k' | 'M' | 'G' | 'T'))
            .map_or(head.len(), |(i, _)| i);
        let num = head[..unit_start].trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
        if num.len() == unit_start || !num.ends_with(' ') {
            // Not a rate ("B/s" inside a name): keep it as it is.
            out.push_str(&rest[..pos + 3]);
        } else {
            out.push_str(num.trim_end_matches(' '));
            out.push_str(" RB/s");
        }
        rest = &rest[pos + 3..];
    }
    out.push_str(rest);
    out
}

/// Normalise stdout (raw bytes) into lines.
pub fn stdout_lines(raw: &[u8]) -> Vec<String> {
    to_text(raw)
        .lines()
        .map(|l| {
            let l = norm_sent_line(l)
                .or_else(|| norm_total_line(l))
                .or_else(|| norm_stats_line(l))
                .unwrap_or_else(|| norm_rates(l));
            norm_temp_names(&l)
        })
        .collect()
}

/// What rsync's sender says when its receiver has died of a fatal error
/// (ENOSPC, say): an artefact of rsync's process pair, which arsync, one
/// process, has no counterpart for. Dropped.
const SENDER_BROKEN_PIPE: &str = "rsync: [sender] write error: Broken pipe (32)";

/// Normalise stderr (raw bytes) into lines. With `--stderr=all` the
/// summary lines land here, so their counts are masked as on stdout.
pub fn stderr_lines(raw: &[u8]) -> Vec<String> {
    to_text(raw)
        .lines()
        .filter(|l| *l != SENDER_BROKEN_PIPE)
        .map(|l| {
            let l = norm_sent_line(l)
                .or_else(|| norm_total_line(l))
                .unwrap_or_else(|| norm_error_location(l));
            norm_mkstemp(norm_temp_names(&l))
        })
        .collect()
}

/// Kinds of stdout "message" lines, which rsync's processes may emit out of order
/// relative to the file listing.
fn message_kind(line: &str) -> Option<usize> {
    // `deleting x` (-v) and `*deleting   x` (-i) come from the generator, interleaved with the
    // receiver's listing lines.
    if line.starts_with("deleting ") || line.starts_with("*deleting ") {
        Some(0)
    } else if line.starts_with("skipping non-regular file ") {
        Some(1)
    } else if line.ends_with(" is uptodate")
        || line.ends_with(" exists")
        || line.starts_with("not creating new ")
    {
        // The generator's -vv verdicts, interleaved with the receiver's
        // lines of files it handed on before (rsync 3.5 varies the
        // place of `not creating new directory` around its directory's
        // `./` line from run to run: gen604).
        Some(2)
    } else if line.starts_with("skipping directory ") {
        Some(3)
    } else if line.starts_with("cannot delete non-empty directory: ") {
        Some(4)
    } else if line.starts_with("IO error encountered") {
        Some(5)
    } else if line.starts_with("file has vanished: ") {
        Some(6)
    } else if line.starts_with("ignoring unsafe symlink ") {
        Some(7)
    } else if line.starts_with("copying unsafe symlink ") {
        Some(8)
    } else if line.ends_with(" is over max-size") || line.ends_with(" is under min-size") {
        Some(11)
    } else if line.contains("] skipping mount-point dir ") {
        Some(12)
    } else if line.starts_with("backed up ") {
        // -vv backups are reported by the receiver, through another
        // process than the sender's name lines: rsync prints them when
        // that message stream is drained (for a small run, after all the
        // names).
        Some(13)
    } else if line.starts_with("[sender] ") {
        // The sender's -vv filter lines come as it lists, ahead of the
        // receiver's lines.
        Some(9)
    } else if line.starts_with("[generator] ") {
        Some(10)
    } else {
        None
    }
}

/// Relaxed stdout equality: listing lines in order, each message kind in order.
pub fn stdout_relaxed_eq(a: &[String], b: &[String]) -> bool {
    fn parts(v: &[String]) -> (Vec<&String>, Vec<Vec<&String>>) {
        let mut listing = Vec::new();
        let mut msgs: Vec<Vec<&String>> = vec![Vec::new(); 14];
        for l in v {
            match message_kind(l) {
                Some(k) => msgs[k].push(l),
                None => listing.push(l),
            }
        }
        (listing, msgs)
    }
    parts(a) == parts(b)
}

/// Relaxed stderr equality: same multiset of lines; a trailing `rsync error:` line must match.
pub fn stderr_relaxed_eq(a: &[String], b: &[String]) -> bool {
    let mut sa: Vec<&String> = a.iter().collect();
    let mut sb: Vec<&String> = b.iter().collect();
    sa.sort();
    sb.sort();
    if sa != sb {
        return false;
    }
    let last_err = |v: &[String]| v.last().filter(|l| l.starts_with("rsync error:")).cloned();
    match (last_err(a), last_err(b)) {
        (None, None) => true,
        (x, y) => x == y,
    }
}
