//! Architecture rules, checked by reading `src/` as text (issue 11).
//!
//! The rules, most with a shrink-only allowlist for what other work still
//! has to remove; an entry that is no longer needed also fails, so the
//! lists can only get shorter:
//!
//! - `only_sys_names_rustix_or_libc`: outside `src/sys/`, no code (comments
//!   and strings do not count) names `rustix` or `libc`. Failure: move the
//!   call behind a typed function in `src/sys/`, or drop the stale entry
//!   from [`KERNEL_ALLOWED`].
//! - `unsafe_only_in_sys`: the keyword `unsafe` appears only in `src/sys/`.
//! - `no_module_import_cycle`: the graph whose nodes are the top-level
//!   modules (`src/X.rs` or `src/X/`) and whose edges are `crate::X` paths,
//!   `use crate::{X, …}` groups and `super::` paths that climb to the crate
//!   root has no cycle once the edges in [`CYCLE_EDGES_ALLOWED`] are left
//!   out. Failure prints one cycle as `a -> b -> a` with, for each edge,
//!   the files that create it: remove one of those imports (move the shared
//!   item into a leaf module such as `text`), or drop a stale entry.
//! - `every_unsafe_in_sys_says_why`: each `unsafe` in `src/sys/` has a
//!   `// SAFETY:` comment (or a `# Safety` doc) just before it.
//! - `sys_imports_only_leaf_modules`: `sys` imports nothing from the crate
//!   but leaf modules (`text`), and those import nothing from the crate.
//! - `no_long_functions`: no `fn` body over [`MAX_FN_LINES`] lines, counted
//!   from the `fn` line to the `}` that closes its body. Failure names
//!   the function, file and length: split it, or fix [`LONG_FNS_ALLOWED`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files outside `src/sys/` that still name `rustix` or `libc`.
const KERNEL_ALLOWED: &[&str] = &[];

/// Files outside `src/sys/` that still contain `unsafe`.
const UNSAFE_ALLOWED: &[&str] = &[];

/// Import edges `(from, to)` allowed to close a cycle for now; each names
/// an edge that has to go.
const CYCLE_EDGES_ALLOWED: &[(&str, &str)] = &[];

/// The longest function body allowed, in lines.
const MAX_FN_LINES: usize = 120;

/// Functions over [`MAX_FN_LINES`]: `(file, name, lines)`.
const LONG_FNS_ALLOWED: &[(&str, &str, usize)] = &[];

/// One source file: its path relative to the crate root (`src/…`), its
/// lines, and the same lines with comments and literal contents blanked.
struct Source {
    rel: String,
    raw: Vec<String>,
    code: Vec<String>,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            Source {
                rel,
                raw: text.lines().map(str::to_owned).collect(),
                code: strip(&text).lines().map(str::to_owned).collect(),
            }
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.expect("walk src dir");
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs") {
            out.push(e.into_path());
        }
    }
}

/// Blanks comments and the contents of string and char literals (newlines
/// kept), so that only code is searched.
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |c: u8| if c == b'\n' { b'\n' } else { b' ' };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                out.push(b' ');
                i += 1;
            }
        } else if rest.starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    out.extend_from_slice(b"  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(b, i) {
            // r"…", r#"…"#, br"…": skip to the closing quote and hashes.
            let open = b[i..].iter().position(|&c| c == b'"').unwrap() + i;
            out.extend(std::iter::repeat_n(b' ', open + 1 - i));
            i = open + 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while i < b.len() && !b[i..].starts_with(&close) {
                out.push(blank(b[i]));
                i += 1;
            }
            out.extend(std::iter::repeat_n(b' ', close.len().min(b.len() - i)));
            i += close.len();
        } else if b[i] == b'"' {
            out.push(b' ');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                let n = if b[i] == b'\\' { 2 } else { 1 };
                for k in 0..n.min(b.len() - i) {
                    out.push(blank(b[i + k]));
                }
                i += n;
            }
            out.push(b' ');
            i += 1;
        } else if b[i] == b'\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let end = if b.get(i + 1) == Some(&b'\\') {
                b[i + 2..]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map(|p| i + 2 + p)
            } else {
                let len = std::str::from_utf8(&b[i + 1..(i + 5).min(b.len())])
                    .ok()
                    .or_else(|| std::str::from_utf8(&b[i + 1..(i + 2).min(b.len())]).ok())
                    .and_then(|s| s.chars().next())
                    .map_or(1, char::len_utf8);
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
            };
            match end {
                Some(e) => {
                    out.extend(std::iter::repeat_n(b' ', e + 1 - i));
                    i = e + 1;
                }
                None => {
                    out.push(b'\'');
                    i += 1;
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `r"`, `r#"`, `br"`, `cr"` … at `i` (not inside an identifier): the
/// number of `#`s.
fn raw_string_start(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && is_ident(b[i - 1]) {
        return None;
    }
    let mut j = i;
    if matches!(b[j], b'b' | b'c') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    let hashes = b[j..].iter().take_while(|&&c| c == b'#').count();
    (b.get(j + hashes) == Some(&b'"')).then_some(hashes)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `word` occurs in `line` as a whole identifier.
fn names(line: &str, word: &str) -> bool {
    let b = line.as_bytes();
    line.match_indices(word).any(|(i, _)| {
        let before = i == 0 || !is_ident(b[i - 1]);
        let after = b.get(i + word.len()).is_none_or(|&c| !is_ident(c));
        before && after
    })
}

fn in_sys(rel: &str) -> bool {
    rel.starts_with("src/sys/") || rel == "src/sys.rs"
}

/// Files outside `src/sys/` whose code contains one of `words`.
fn files_naming(words: &[&str]) -> BTreeSet<String> {
    sources()
        .into_iter()
        .filter(|s| !in_sys(&s.rel))
        .filter(|s| s.code.iter().any(|l| words.iter().any(|w| names(l, w))))
        .map(|s| s.rel)
        .collect()
}

/// Compares what was found with a shrink-only allowlist.
fn check_allowlist(rule: &str, found: &BTreeSet<String>, allowed: &[&str]) {
    let allowed: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
    let new: Vec<_> = found.difference(&allowed).collect();
    let stale: Vec<_> = allowed.difference(found).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "{rule}:\n  not allowed (move this code into src/sys/): {new:?}\n  \
         allowlisted but no longer needed (remove the entry): {stale:?}"
    );
}

#[test]
fn only_sys_names_rustix_or_libc() {
    let found = files_naming(&["rustix", "libc"]);
    check_allowlist("rustix/libc outside src/sys/", &found, KERNEL_ALLOWED);
}

#[test]
fn unsafe_only_in_sys() {
    let found = files_naming(&["unsafe"]);
    check_allowlist("`unsafe` outside src/sys/", &found, UNSAFE_ALLOWED);
}

/// Lines before an `unsafe` that may hold its `// SAFETY:` reason.
const SAFETY_REACH: usize = 6;

#[test]
fn every_unsafe_in_sys_says_why() {
    let mut bare = Vec::new();
    for s in sources().into_iter().filter(|s| in_sys(&s.rel)) {
        for (i, line) in s.code.iter().enumerate() {
            if !names(line, "unsafe") {
                continue;
            }
            let from = i.saturating_sub(SAFETY_REACH);
            let said = s.raw[from..=i]
                .iter()
                .any(|l| l.contains("SAFETY:") || l.contains("# Safety"));
            if !said {
                bare.push(format!("{}:{}", s.rel, i + 1));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "`unsafe` without a `// SAFETY:` comment (or `# Safety` doc) in the {SAFETY_REACH} lines before: {bare:?}"
    );
}

#[test]
fn sys_imports_only_leaf_modules() {
    let leaves = ["text", "version", "tempname"];
    let out: Vec<_> = import_graph()
        .into_iter()
        .filter(|((from, to), _)| from == "sys" && !leaves.contains(&to.as_str()))
        .collect();
    assert!(
        out.is_empty(),
        "sys imports more than the leaf modules {leaves:?}: {out:?}"
    );
    let text_out: Vec<_> = import_graph()
        .into_keys()
        .filter(|(from, _)| leaves.contains(&from.as_str()))
        .collect();
    assert!(
        text_out.is_empty(),
        "a leaf module imports from the crate: {text_out:?}"
    );
}

/// The top-level module a file belongs to (`None` for the crate root).
fn top_module(rel: &str) -> Option<String> {
    let p = rel.strip_prefix("src/")?;
    match p.split_once('/') {
        Some((dir, _)) => Some(dir.to_string()),
        None if p == "lib.rs" || p == "main.rs" => None,
        None => Some(p.trim_end_matches(".rs").to_string()),
    }
}

/// How deep a file's module sits below the crate root (`src/a.rs` and
/// `src/a/mod.rs` are 1, `src/a/b.rs` is 2).
fn file_depth(rel: &str) -> usize {
    let p = rel.trim_start_matches("src/");
    let parts: Vec<&str> = p.split('/').collect();
    let last = *parts.last().unwrap();
    if last == "mod.rs" {
        parts.len() - 1
    } else if p == "lib.rs" || p == "main.rs" {
        0
    } else {
        parts.len()
    }
}

/// The identifiers that follow `crate::` in a path or `use` group, and the
/// ones `super::…::` paths reach at the crate root.
fn imported_roots(code: &[String], depth0: usize) -> BTreeSet<String> {
    let text = code.join("\n");
    let b = text.as_bytes();
    let mut out = BTreeSet::new();
    // Inline `mod x {` blocks deepen `super::`; tracked by brace depth.
    let mut braces = 0usize;
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => braces += 1,
            b'}' => {
                if inline_mods.last() == Some(&braces) {
                    inline_mods.pop();
                }
                braces = braces.saturating_sub(1);
            }
            _ => {}
        }
        let word_start = i == 0 || !is_ident(b[i - 1]);
        if word_start && b[i..].starts_with(b"mod ") {
            let rest = &text[i + 4..];
            let name_len = rest.bytes().take_while(|&c| is_ident(c)).count();
            if rest[name_len..].trim_start().starts_with('{') {
                inline_mods.push(braces + 1);
            }
        }
        if word_start && b[i..].starts_with(b"crate::") {
            roots_after(&text[i + 7..], &mut out);
        } else if word_start && b[i..].starts_with(b"super::") {
            let mut j = i;
            let mut ups = 0;
            while text[j..].starts_with("super::") {
                ups += 1;
                j += 7;
            }
            if ups >= depth0 + inline_mods.len() {
                roots_after(&text[j..], &mut out);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// The first path segment of `rest`, or each one of a `{a, b::c}` group.
fn roots_after(rest: &str, out: &mut BTreeSet<String>) {
    let rest = rest.trim_start();
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut at_item = true;
        for (k, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => at_item = true,
                c if at_item && (c.is_alphanumeric() || c == '_') => {
                    let len = group[k..].bytes().take_while(|&c| is_ident(c)).count();
                    out.insert(group[k..k + len].to_string());
                    at_item = false;
                }
                _ => {}
            }
        }
    } else {
        let len = rest.bytes().take_while(|&c| is_ident(c)).count();
        out.insert(rest[..len].to_string());
    }
}

/// Edges between top-level modules, each with the files that create it.
fn import_graph() -> BTreeMap<(String, String), BTreeSet<String>> {
    let srcs = sources();
    let modules: BTreeSet<String> = srcs.iter().filter_map(|s| top_module(&s.rel)).collect();
    let mut edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for s in &srcs {
        let Some(from) = top_module(&s.rel) else {
            continue;
        };
        for to in imported_roots(&s.code, file_depth(&s.rel)) {
            if to != from && modules.contains(&to) {
                edges
                    .entry((from.clone(), to))
                    .or_default()
                    .insert(s.rel.clone());
            }
        }
    }
    edges
}

/// One cycle in the graph, as a closed list of nodes, if there is one.
fn find_cycle(edges: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // Depth-first search; 1 = on the current path, 2 = done.
    fn visit<'a>(
        n: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(n, 1);
        path.push(n);
        for &m in next.get(n).into_iter().flatten() {
            match state.get(m) {
                Some(1) => {
                    let start = path.iter().position(|&p| p == m).unwrap();
                    let mut cyc: Vec<String> =
                        path[start..].iter().map(|s| s.to_string()).collect();
                    cyc.push(m.to_string());
                    return Some(cyc);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, next, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n, 2);
        None
    }
    let mut state = BTreeMap::new();
    let nodes: Vec<&str> = next.keys().copied().collect();
    for n in nodes {
        if !state.contains_key(n) {
            let mut path = Vec::new();
            if let Some(c) = visit(n, &next, &mut state, &mut path) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn no_module_import_cycle() {
    let graph = import_graph();
    let allowed: BTreeSet<(String, String)> = CYCLE_EDGES_ALLOWED
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let stale: Vec<_> = allowed.iter().filter(|e| !graph.contains_key(e)).collect();
    assert!(
        stale.is_empty(),
        "allowlisted edges no longer present (remove them): {stale:?}"
    );
    let kept: BTreeSet<(String, String)> = graph
        .keys()
        .filter(|e| !allowed.contains(e))
        .cloned()
        .collect();
    if let Some(cycle) = find_cycle(&kept) {
        let mut msg = format!("module import cycle: {}\n", cycle.join(" -> "));
        for w in cycle.windows(2) {
            let files = &graph[&(w[0].clone(), w[1].clone())];
            msg += &format!("  {} -> {} is made by {:?}\n", w[0], w[1], files);
        }
        panic!("{msg}");
    }
}

/// The function's name if this line starts a function.
fn fn_start(code: &str) -> Option<String> {
    let t = code.trim_start();
    let mut words = t.split_whitespace().peekable();
    while let Some(&w) = words.peek() {
        if w == "fn" {
            words.next();
            let name = words.next()?;
            let len = name.bytes().take_while(|&c| is_ident(c)).count();
            return Some(name[..len].to_string());
        }
        let modifier = w.starts_with("pub")
            || matches!(
                w,
                "const" | "async" | "unsafe" | "extern" | "\"C\"" | "default"
            );
        if !modifier {
            return None;
        }
        words.next();
    }
    None
}

/// The number of lines from a `fn` line to the `}` that closes its body,
/// or `None` for a declaration without a body (`;` before any `{`, outside
/// brackets: `[u8; 4]` is a type).
fn body_lines(code: &[String]) -> Option<usize> {
    let (mut brackets, mut braces) = (0i32, 0i32);
    for (n, line) in code.iter().enumerate() {
        for c in line.chars() {
            match c {
                '(' | '[' => brackets += 1,
                ')' | ']' => brackets -= 1,
                ';' if braces == 0 && brackets == 0 => return None,
                '{' => braces += 1,
                '}' => {
                    braces -= 1;
                    if braces == 0 {
                        return Some(n + 1);
                    }
                }
                _ => {}
            }
        }
    }
    None
}

/// Every function longer than `max` lines: `(file, name, lines)`.
fn long_functions(max: usize) -> BTreeSet<(String, String, usize)> {
    let mut out = BTreeSet::new();
    for s in sources() {
        for (i, line) in s.code.iter().enumerate() {
            let Some(name) = fn_start(line) else {
                continue;
            };
            let Some(len) = body_lines(&s.code[i..]) else {
                continue;
            };
            if len > max {
                out.insert((s.rel.clone(), name, len));
            }
        }
    }
    out
}

#[test]
fn no_long_functions() {
    let found = long_functions(MAX_FN_LINES);
    let allowed: BTreeSet<(String, String, usize)> = LONG_FNS_ALLOWED
        .iter()
        .map(|&(f, n, l)| (f.to_string(), n.to_string(), l))
        .collect();
    let new: Vec<_> = found.difference(&allowed).collect();
    let stale: Vec<_> = allowed.difference(&found).collect();
    assert!(
        new.is_empty() && stale.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them):\n  {new:?}\n  \
         allowlisted but changed or gone (update the entry): {stale:?}"
    );
}

#[test]
fn the_checks_see_what_they_should() {
    let code = strip("let s = \"rustix\"; // libc\nlet c = '\"'; use crate::{a, b::{c}, d};\n");
    assert!(!names(&code, "rustix") && !names(&code, "libc"));
    assert!(names("x = libc::S_IFMT;", "libc"));
    assert!(!names("copy_unsafe_links", "unsafe"));
    let lines: Vec<String> = code.lines().map(str::to_owned).collect();
    let roots = imported_roots(&lines, 1);
    assert_eq!(
        roots,
        ["a", "b", "d"].iter().map(|s| s.to_string()).collect()
    );
    let sup = vec!["mod tests { use super::super::x; }".to_string()];
    assert!(imported_roots(&sup, 1).contains("x"));
    let own = vec!["mod tests { use super::x; }".to_string()];
    assert!(imported_roots(&own, 1).is_empty());
    let cyc: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(find_cycle(&cyc).unwrap().len(), 4);
    assert_eq!(
        fn_start("    pub(crate) fn go(x: u8) {").as_deref(),
        Some("go")
    );
    assert_eq!(fn_start("let f = fn_ptr;"), None);
    let f: Vec<String> = ["fn a() -> [u8; 2] {", "    [1,", "2]", "}", "fn b();"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(body_lines(&f), Some(4));
    assert_eq!(body_lines(&f[4..]), None);
}

/// `cargo test --release --test architecture -- --ignored --nocapture`
/// prints the whole import graph (edge and the files that make it).
#[test]
#[ignore]
fn print_import_graph() {
    for ((a, b), files) in import_graph() {
        println!("{a} -> {b}  {files:?}");
    }
}
