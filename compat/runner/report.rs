//! report.rs — renders readable differences: a short unified-style line diff
//! (expected = rsync `-`, actual = arsync `+`).

/// Longest-common-subsequence edit script over lines. Outputs are small, so O(n*m) is fine;
/// very long outputs fall back to a positional comparison.
fn edit_script<'a>(a: &'a [String], b: &'a [String]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    if n * m > 4_000_000 {
        let mut out = Vec::new();
        for i in 0..n.max(m) {
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) if x == y => out.push((' ', x.as_str())),
                (x, y) => {
                    if let Some(x) = x {
                        out.push(('-', x.as_str()));
                    }
                    if let Some(y) = y {
                        out.push(('+', y.as_str()));
                    }
                }
            }
        }
        return out;
    }
    // lcs[i][j] = LCS length of a[i..], b[j..]
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((' ', a[i].as_str()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i].as_str()));
            i += 1;
        } else {
            out.push(('+', b[j].as_str()));
            j += 1;
        }
    }
    out
}

/// A unified-style diff with 2 lines of context, capped at `max_lines` output lines.
pub fn line_diff(expected: &[String], actual: &[String], max_lines: usize) -> String {
    let script = edit_script(expected, actual);
    let changed: Vec<bool> = script.iter().map(|(c, _)| *c != ' ').collect();
    let ctx = 2;
    let mut show = vec![false; script.len()];
    for (k, &c) in changed.iter().enumerate() {
        if c {
            let lo = k.saturating_sub(ctx);
            let hi = (k + ctx + 1).min(script.len());
            for s in &mut show[lo..hi] {
                *s = true;
            }
        }
    }
    let mut out = String::new();
    let mut lines = 0;
    let mut gap = false;
    for (k, (c, l)) in script.iter().enumerate() {
        if !show[k] {
            gap = true;
            continue;
        }
        if gap && lines > 0 {
            out.push_str("    ...\n");
        }
        gap = false;
        if lines >= max_lines {
            out.push_str("    ... (diff truncated)\n");
            break;
        }
        out.push_str(&format!("    {c} {l}\n"));
        lines += 1;
    }
    if expected.is_empty() {
        out.push_str("    (rsync printed nothing)\n");
    }
    if actual.is_empty() {
        out.push_str("    (arsync printed nothing)\n");
    }
    out
}

/// Indent every line of a block.
pub fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}\n"))
        .collect::<String>()
}
