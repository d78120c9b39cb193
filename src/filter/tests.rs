//! tests.rs — unit tests of the filter module's public behaviour; every
//! expectation here was checked against rsync 3.5.0 (differentially, with
//! a harness walking random trees through both; see compat/pending/filters.scn
//! for the end-to-end form).

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use super::*;

fn f(s: &str) -> FilterArg {
    FilterArg::Filter(OsString::from(s))
}

fn env_in(dir: &Path) -> FilterEnv {
    FilterEnv {
        cwd: Some(dir.to_path_buf()),
        home: None,
        cvsignore: None,
        stdin: Some(Vec::new()),
        walk_links: false,
    }
}

fn list(args: &[FilterArg]) -> FilterList {
    FilterList::build_with(args, false, env_in(Path::new("/nonexistent-dir")))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn err(args: &[FilterArg]) -> FilterError {
    FilterList::build_with(args, false, env_in(Path::new("/nonexistent-dir")))
        .expect_err("expected an error")
}

/// Which of `paths` (trailing `/` = directory) the sender keeps.
fn kept(rules: &[&str], paths: &[&str]) -> Vec<String> {
    let args: Vec<FilterArg> = rules.iter().map(|r| f(r)).collect();
    let st = FilterStack::new_at(list(&args), Path::new("/top/src"));
    paths
        .iter()
        .filter(|p| {
            let (name, dir) = match p.strip_suffix('/') {
                Some(n) => (n, true),
                None => (**p, false),
            };
            !st.excluded(name.as_bytes(), dir)
        })
        .map(|s| s.to_string())
        .collect()
}

fn ex(rules: &[&str], path: &str) -> bool {
    kept(rules, &[path]).is_empty()
}

#[test]
fn empty_list() {
    let l = list(&[]);
    assert!(l.is_empty());
    assert!(!FilterStack::new(l).excluded(b"a", false));
    assert!(list(&[f(""), FilterArg::Exclude("".into())]).is_empty());
}

#[test]
fn basename_patterns() {
    assert!(ex(&["- foo"], "foo"));
    assert!(ex(&["- foo"], "a/b/foo"));
    assert!(!ex(&["- foo"], "foo/bar"));
    assert!(!ex(&["- foo"], "xfoo"));
    assert!(ex(&["- *.o"], "d/x.o"));
    assert!(ex(&["- ?"], "d/x"));
    assert!(!ex(&["- ?"], "d/xy"));
}

#[test]
fn first_match_wins() {
    let rules = ["+ keep.o", "- *.o"];
    assert_eq!(kept(&rules, &["keep.o", "x.o", "y"]), vec!["keep.o", "y"]);
    let rules = ["- *.o", "+ keep.o"];
    assert_eq!(kept(&rules, &["keep.o", "x.o"]), Vec::<String>::new());
}

#[test]
fn anchoring_and_inner_slashes() {
    assert!(ex(&["- /foo"], "foo"));
    assert!(!ex(&["- /foo"], "d/foo"));
    assert!(ex(&["- a/b"], "a/b"));
    assert!(ex(&["- a/b"], "x/a/b"));
    assert!(!ex(&["- a/b"], "xa/b"));
    assert!(!ex(&["- a/b"], "b"));
    assert!(ex(&["- /a/b"], "a/b"));
    assert!(!ex(&["- /a/b"], "x/a/b"));
    assert!(ex(&["- a/*/c"], "z/a/b/c"));
    assert!(!ex(&["- a/*/c"], "a/b/b/c"));
    assert!(ex(&["- foo/*/bar"], "foo/x/bar"));
}

#[test]
fn directory_only_and_negation() {
    assert!(ex(&["- foo/"], "foo/"));
    assert!(!ex(&["- foo/"], "foo"));
    assert!(ex(&["-! */"], "file"));
    assert!(!ex(&["-! */"], "dir/"));
    assert!(ex(&["-! a"], "b"));
    assert!(!ex(&["-! a"], "a"));
    // A lone "/" is not a directory rule and matches nothing.
    assert!(!ex(&["- /"], "x"));
}

#[test]
fn double_and_triple_star() {
    assert!(ex(&["- **/a"], "a"));
    assert!(ex(&["- **/a"], "x/y/a"));
    assert!(ex(&["- /foo/**/bar"], "foo/x/bar"));
    assert!(!ex(&["- /foo/**/bar"], "foo/bar"));
    assert!(ex(&["- foo/**"], "x/foo/a/b"));
    assert!(!ex(&["- foo/**"], "foo/"));
    assert!(ex(&["- foo/***"], "foo/"));
    assert!(!ex(&["- foo/***"], "foo"));
    assert!(ex(&["- foo/***"], "foo/a/b"));
    assert!(ex(&["- /foo**"], "foobar/x"));
    assert!(ex(&["- a**"], "x/ab/c"));
}

#[test]
fn classes_and_escapes() {
    assert!(ex(&["- [ab]"], "a"));
    assert!(ex(&["- [!ab]"], "c"));
    assert!(ex(&["- [^ab]"], "c"));
    assert!(!ex(&["- [^ab]"], "a"));
    assert!(ex(&["- [a-c]x"], "bx"));
    assert!(ex(&["- [[:digit:]]*"], "1abc"));
    assert!(ex(&["- \\[x]"], "[x]"));
    assert!(!ex(&["- \\[x]"], "x"));
    assert!(ex(&["- [x]"], "x"));
    // Without a wildcard a backslash is literal.
    assert!(ex(&["- a\\b"], "a\\b"));
    assert!(!ex(&["- a\\b"], "ab"));
    assert!(ex(&["- a\\b*"], "ab"));
    assert!(ex(&["- a\\*b"], "a*b"));
    assert!(!ex(&["- a\\*b"], "axb"));
}

#[test]
fn abs_path_modifier() {
    assert!(ex(&["-/ /top/src/sub/a"], "sub/a"));
    assert!(!ex(&["-/ /top/src/sub/a"], "a"));
    // Unanchored with a slash: the last elements of the absolute path.
    assert!(ex(&["-/ src/a"], "a"));
    assert!(!ex(&["- src/a"], "a"));
    // No slash: the basename, as without the modifier.
    assert!(ex(&["-/ a"], "x/a"));
    assert!(ex(&["+/ /top/src/k", "- *"], "j"));
    assert!(!ex(&["+/ /top/src/k", "- *"], "k"));
}

#[test]
fn root_is_never_excluded() {
    let st = FilterStack::new(list(&[f("- *"), f("-! x")]));
    assert!(!st.excluded(b"", true));
    assert!(!st.excluded(b".", true));
    assert!(st.excluded(b"/x2", false));
}

#[test]
fn sides_hide_show_protect_risk() {
    let st = FilterStack::new(list(&[
        f("H h"),
        f("S s"),
        f("- s"),
        f("P p"),
        f("R r"),
        f("- r"),
        f("- both"),
        f("-s so"),
        f("-r ro"),
        f("-sr sr"),
        f("-x xa"),
    ]));
    assert!(st.excluded(b"h", false));
    assert!(!st.protected(b"h", false, false));
    assert!(!st.excluded(b"s", false));
    assert!(!st.excluded(b"p", false));
    assert!(st.protected(b"p", false, false));
    assert!(!st.protected(b"r", false, false));
    assert!(st.excluded(b"r", false));
    assert!(st.excluded(b"both", false));
    assert!(st.protected(b"both", false, false));
    assert!(!st.protected(b"both", false, true));
    assert!(st.excluded(b"so", false) && !st.protected(b"so", false, false));
    assert!(!st.excluded(b"ro", false) && st.protected(b"ro", false, true));
    assert!(st.excluded(b"sr", false) && st.protected(b"sr", false, true));
    assert!(!st.excluded(b"xa", false) && !st.protected(b"xa", false, false));
}

#[test]
fn perishable_rules() {
    let st = FilterStack::new(list(&[f("-p *.o"), f("- *.a")]));
    assert!(st.excluded(b"x.o", false));
    assert!(st.protected(b"x.o", false, false));
    assert!(!st.protected_ex(b"x.o", false, false, true));
    assert!(st.protected_ex(b"x.a", false, false, true));
}

#[test]
fn old_style_include_exclude() {
    let l = list(&[
        FilterArg::Include("+ x".into()),
        FilterArg::Exclude("- y".into()),
        FilterArg::Exclude("+ k".into()),
        FilterArg::Exclude("*.z".into()),
        FilterArg::Include("-x".into()),
        FilterArg::Exclude("*".into()),
    ]);
    let st = FilterStack::new(l);
    assert!(!st.excluded(b"x", false));
    assert!(st.excluded(b"+ x", false));
    assert!(st.excluded(b"y", false));
    assert!(!st.excluded(b"k", false));
    assert!(st.excluded(b"a.z", false));
    assert!(!st.excluded(b"-x", false));
    // "!" clears; "!x" is a pattern.
    let st = FilterStack::new(list(&[
        FilterArg::Exclude("a".into()),
        FilterArg::Exclude("!".into()),
        FilterArg::Exclude("!b".into()),
    ]));
    assert!(!st.excluded(b"a", false));
    assert!(st.excluded(b"!b", false));
}

#[test]
fn clear_rule() {
    let st = FilterStack::new(list(&[f("- a"), f("!"), f("- b")]));
    assert!(!st.excluded(b"a", false));
    assert!(st.excluded(b"b", false));
    let st = FilterStack::new(list(&[f("- a"), f("clear"), f("exclude b")]));
    assert!(!st.excluded(b"a", false) && st.excluded(b"b", false));
}

#[test]
fn command_line_errors() {
    let cases: &[(&str, &str)] = &[
        ("x foo", "Unknown filter rule: x foo"),
        ("excludefoo", "Unknown filter rule: excludefoo"),
        (
            "-z foo",
            "invalid modifier 'z' at position 1 in filter rule: -z foo",
        ),
        (
            "-,e foo",
            "invalid modifier 'e' at position 2 in filter rule: -,e foo",
        ),
        (
            ".nofile",
            "invalid modifier 'o' at position 2 in filter rule: .nofile",
        ),
        (
            "dir-merge,!x",
            "invalid modifier '!' at position 10 in filter rule: dir-merge,!x",
        ),
        ("-", "unexpected end of filter rule: -"),
        ("merge", "unexpected end of filter rule: merge"),
        ("! x", "'!' rule has trailing characters: ! x"),
        ("clear x", "'!' rule has trailing characters: clear x"),
    ];
    for (rule, msg) in cases {
        let e = err(&[f("- ok"), f(rule)]);
        assert_eq!(e.0, *msg, "{rule}");
        assert_eq!(e.exit_code(), 1);
        assert!(!e.prefixed());
        assert_eq!(e.line("rsync"), *msg);
        assert_eq!(e.to_string(), *msg);
    }
    let e = err(&[FilterArg::Exclude("- ".into())]);
    assert_eq!(e.0, "unexpected end of filter rule: - ");
}

#[test]
fn missing_files() {
    let e = err(&[FilterArg::ExcludeFrom("nofile".into())]);
    assert_eq!(
        e.0,
        "[client] failed to open exclude file nofile: No such file or directory (2)"
    );
    assert_eq!(e.exit_code(), 11);
    assert!(e.prefixed());
    assert!(e.line("rsync").starts_with("rsync: [client] failed"));
    let e = err(&[FilterArg::IncludeFrom("nofile".into())]);
    assert!(e.0.starts_with("[client] failed to open include file nofile:"));
    let e = err(&[f(".+ nofile")]);
    assert!(e.0.starts_with("[client] failed to open include file nofile:"));
    let e = err(&[f(".C")]);
    assert!(e.0.starts_with("[client] failed to open exclude file .cvsignore:"));
    // A per-directory merge file that does not exist is not an error.
    assert!(list(&[f(": nofile")]).has_dir_merge());
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

fn build_in(dir: &Path, args: &[FilterArg], from0: bool) -> Result<FilterList, FilterError> {
    FilterList::build_with(args, from0, env_in(dir))
}

#[test]
fn merge_and_from_files() {
    let t = tmp();
    let d = t.path();
    fs::write(
        d.join("rules"),
        "# comment\n; comment\n\n- a\r\n+ b\n- b*\nmerge more\n",
    )
    .unwrap();
    fs::write(d.join("more"), "- m\n").unwrap();
    let st = FilterStack::new(build_in(d, &[f(". rules")], false).unwrap());
    assert!(st.excluded(b"a", false));
    assert!(!st.excluded(b"b", false));
    assert!(st.excluded(b"bx", false));
    assert!(st.excluded(b"m", false));
    assert!(!st.excluded(b"# comment", false));

    fs::write(d.join("ex"), "a\n+ b\n- c\n#x\n!\nd\n").unwrap();
    let st = FilterStack::new(build_in(d, &[FilterArg::ExcludeFrom("ex".into())], false).unwrap());
    assert!(!st.excluded(b"a", false), "cleared by !");
    assert!(st.excluded(b"d", false));
    let st = FilterStack::new(
        build_in(d, &[FilterArg::IncludeFrom("ex".into()), f("- *")], false).unwrap(),
    );
    assert!(!st.excluded(b"d", false));
    assert!(st.excluded(b"z", false));

    // --from0: records end at NUL; newlines belong to the pattern.
    fs::write(d.join("z"), "- a\nb\0- c\0").unwrap();
    let st = FilterStack::new(build_in(d, &[f(". z")], true).unwrap());
    assert!(st.excluded(b"a\nb", false));
    assert!(st.excluded(b"c", false));
    assert!(!st.excluded(b"a", false));
}

#[test]
fn word_split_merge() {
    let t = tmp();
    let d = t.path();
    fs::write(d.join("w"), "-_a\t+_b\n").unwrap();
    let st = FilterStack::new(build_in(d, &[f("merge,w w"), f("- b")], false).unwrap());
    assert!(st.excluded(b"a", false));
    assert!(!st.excluded(b"b", false));
    fs::write(d.join("w"), "a  b\n\n#c\n").unwrap();
    let st = FilterStack::new(build_in(d, &[f("merge,w- w")], false).unwrap());
    assert!(st.excluded(b"#c", false) && st.excluded(b"a", false));
    fs::write(d.join("w"), "- a + b\n").unwrap();
    let e = build_in(d, &[f("merge,w w")], false).unwrap_err();
    assert_eq!(e.0, "unexpected end of filter rule: <rule from w>");
    // No comments in word-split files.
    fs::write(d.join("w"), "-_a #c\n").unwrap();
    let e = build_in(d, &[f("merge,w w")], false).unwrap_err();
    assert_eq!(e.0, "Unknown filter rule: <rule from w>");
}

#[test]
fn file_error_origins() {
    let t = tmp();
    let d = t.path();
    fs::write(d.join("r"), "- a\r\nx bad\r\n").unwrap();
    let e = build_in(d, &[f(". r")], false).unwrap_err();
    assert_eq!(e.0, "Unknown filter rule: <rule from r line 2>");
    fs::write(d.join("r"), "- a\r\r\rx bad\r").unwrap();
    let e = build_in(d, &[f(". ./r")], false).unwrap_err();
    assert_eq!(e.0, "Unknown filter rule: <rule from r line 4>");
    fs::write(d.join("r"), "- a\n-z x\n").unwrap();
    let e = build_in(d, &[f(". r")], false).unwrap_err();
    assert_eq!(e.0, "invalid modifier in filter rule: <rule from r line 2>");
    fs::write(d.join("r"), "H x\n").unwrap();
    let e = build_in(d, &[f(".s r")], false).unwrap_err();
    assert_eq!(
        e.0,
        "specified-side merge file contains specified-side filter: <rule from r line 1>"
    );
    fs::write(d.join("r"), "- a\n. nofile\n").unwrap();
    let e = build_in(d, &[f(". r")], false).unwrap_err();
    assert_eq!(e.0, "failed to open exclude file <rule from r line 2>");
    assert_eq!(e.exit_code(), 11);
    assert!(!e.prefixed());
    fs::write(d.join("r"), ". r2\n").unwrap();
    fs::write(d.join("r2"), "x bad\n").unwrap();
    let e = build_in(d, &[f(". r")], false).unwrap_err();
    assert_eq!(
        e.0,
        "Unknown filter rule: <rule from a file named at r line 1>"
    );
    fs::write(d.join("r"), "x\0bad\0").unwrap();
    let e = build_in(d, &[f(". r")], true).unwrap_err();
    assert_eq!(e.0, "Unknown filter rule: <rule from r line 1>");
    let e = FilterList::build_with(
        &[f(". -")],
        false,
        FilterEnv {
            stdin: Some(b"- a\n!x\n".to_vec()),
            walk_links: false,
            ..env_in(d)
        },
    )
    .unwrap_err();
    assert_eq!(
        e.0,
        "'!' rule has trailing characters: <rule from - line 2>"
    );
}

#[test]
fn over_long_rules_are_discarded() {
    let long = "a".repeat(4200);
    let l = list(&[FilterArg::Exclude(long.clone().into()), f("- b")]);
    assert_eq!(
        l.warnings(),
        [format!("discarding over-long filter: {long}")]
    );
    let t = tmp();
    fs::write(t.path().join("r"), format!("- {}\n- b\n", "a".repeat(5200))).unwrap();
    let l = build_in(t.path(), &[f(". r")], false).unwrap();
    assert_eq!(
        l.warnings(),
        ["discarding over-long filter: <rule from r line 1>"]
    );
    assert!(FilterStack::new(l).excluded(b"b", false));
}

#[test]
fn stdin_is_read_once() {
    let l = FilterList::build_with(
        &[f(". -"), FilterArg::ExcludeFrom("-".into())],
        false,
        FilterEnv {
            stdin: Some(b"- a\n".to_vec()),
            walk_links: false,
            ..env_in(Path::new("/"))
        },
    )
    .unwrap();
    assert!(FilterStack::new(l).excluded(b"a", false));
}

#[test]
fn cvs_exclude_defaults_home_and_env() {
    let t = tmp();
    fs::write(t.path().join(".cvsignore"), "homeign\n").unwrap();
    let l = FilterList::build_with(
        &[FilterArg::CvsExclude, f("+ keep.o")],
        false,
        FilterEnv {
            cwd: Some(t.path().to_path_buf()),
            home: Some(t.path().as_os_str().to_owned()),
            cvsignore: Some("envign  *.zz".into()),
            stdin: Some(Vec::new()),
            walk_links: false,
        },
    )
    .unwrap();
    let st = FilterStack::new(l);
    for n in [
        "x.o", "core", "CVS", "a~", "#a", ".#a", ",a", "_$a", "a$", "x.so", "tags",
    ] {
        assert!(st.excluded(n.as_bytes(), false), "{n}");
    }
    assert!(st.excluded(b".git", true) && !st.excluded(b".git", false));
    assert!(st.excluded(b"homeign", false));
    assert!(st.excluded(b"envign", false) && st.excluded(b"q.zz", false));
    // -C goes after the user's rules, wherever it was given.
    assert!(!st.excluded(b"keep.o", false));
    // The defaults are perishable; ~/.cvsignore and $CVSIGNORE are not.
    assert!(!st.protected_ex(b"x.o", false, false, true));
    assert!(st.protected_ex(b"homeign", false, false, true));
    // "!" in ~/.cvsignore clears the defaults.
    fs::write(t.path().join(".cvsignore"), "! only\n").unwrap();
    let l = FilterList::build_with(
        &[f("-C")],
        false,
        FilterEnv {
            home: Some(t.path().as_os_str().to_owned()),
            ..env_in(t.path())
        },
    )
    .unwrap();
    let st = FilterStack::new(l);
    assert!(!st.excluded(b"x.o", false) && st.excluded(b"only", false));
}

/// Builds `root/src` from (path, contents) pairs; a path ending in `/` is
/// a directory.
fn tree(root: &Path, files: &[(&str, &str)]) {
    for (p, c) in files {
        let full = root.join(p);
        if p.ends_with('/') {
            fs::create_dir_all(&full).unwrap();
        } else {
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(&full, c).unwrap();
        }
    }
}

/// Walks `dir` like rsync's sender; returns the kept relative paths.
fn walk(st: &FilterStack, dir: &Path, rel: &str, out: &mut Vec<String>) {
    let (st, msgs) = st.try_enter(rel.as_bytes(), dir).expect("enter");
    assert!(msgs.is_empty(), "{msgs:?}");
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.file_type().unwrap().is_dir(),
            )
        })
        .collect();
    names.sort();
    for (n, is_dir) in names {
        let r = if rel.is_empty() {
            n.clone()
        } else {
            format!("{rel}/{n}")
        };
        if st.excluded(r.as_bytes(), is_dir) {
            continue;
        }
        out.push(if is_dir { format!("{r}/") } else { r.clone() });
        if is_dir {
            walk(&st, &dir.join(&n), &r, out);
        }
    }
}

fn walked(base: &Path, args: &[FilterArg]) -> Vec<String> {
    let l = build_in(base, args, false).unwrap();
    let mut out = Vec::new();
    walk(&FilterStack::new(l), &base.join("src"), "", &mut out);
    out
}

#[test]
fn per_directory_files() {
    let t = tmp();
    let b = t.path();
    tree(
        b,
        &[
            ("src/.rsync-filter", "- b\n"),
            ("src/a", ""),
            ("src/b", ""),
            ("src/c", ""),
            ("src/sub/.rsync-filter", "+ b\n- /c\n"),
            ("src/sub/b", ""),
            ("src/sub/c", ""),
            ("src/sub/deep/.rsync-filter", "!\n- a\n"),
            ("src/sub/deep/a", ""),
            ("src/sub/deep/b", ""),
            ("src/sub/deep/c", ""),
        ],
    );
    assert_eq!(
        walked(b, &[FilterArg::ShortF]),
        [
            ".rsync-filter",
            "a",
            "c",
            "sub/",
            "sub/.rsync-filter",
            "sub/b",
            "sub/deep/",
            "sub/deep/.rsync-filter",
            "sub/deep/b",
            "sub/deep/c"
        ]
    );
    assert_eq!(
        walked(b, &[FilterArg::ShortF, FilterArg::ShortF]),
        [
            "a",
            "c",
            "sub/",
            "sub/b",
            "sub/deep/",
            "sub/deep/b",
            "sub/deep/c"
        ]
    );
    assert_eq!(
        walked(b, &[f(":e .rsync-filter")]),
        walked(b, &[FilterArg::ShortF, FilterArg::ShortF])
    );
    // n: not inherited, so sub/deep's files see no "- b".
    assert_eq!(
        walked(b, &[f(":n .rsync-filter"), f("- .rsync-filter")]),
        [
            "a",
            "c",
            "sub/",
            "sub/b",
            "sub/deep/",
            "sub/deep/b",
            "sub/deep/c"
        ]
    );
    // Merge files in the parent of the transfer directory (-F's "/").
    // (sub/deep's "!" clears those too.)
    fs::write(b.join(".rsync-filter"), "- c\n").unwrap();
    assert_eq!(
        walked(b, &[FilterArg::ShortF, FilterArg::ShortF]),
        [
            "a",
            "sub/",
            "sub/b",
            "sub/deep/",
            "sub/deep/b",
            "sub/deep/c"
        ]
    );
    // Without a slash in the name, parents are not scanned.
    assert_eq!(
        walked(b, &[f(":e .rsync-filter")]),
        [
            "a",
            "c",
            "sub/",
            "sub/b",
            "sub/deep/",
            "sub/deep/b",
            "sub/deep/c"
        ]
    );
}

#[test]
fn per_directory_modifiers_and_nesting() {
    let t = tmp();
    let b = t.path();
    tree(
        b,
        &[
            ("src/x/.r", "a\n*.o\n"),
            ("src/x/a", ""),
            ("src/x/b.o", ""),
            ("src/x/c", ""),
            ("src/x/y/a", ""),
            ("src/x/y/.cvsignore", "c"),
            ("src/x/y/c", ""),
            ("src/k/.rsync-filter", ": .more\n"),
            ("src/k/.more", "- /m\n"),
            ("src/k/m", ""),
            ("src/k/q/m", ""),
        ],
    );
    assert_eq!(
        walked(b, &[f(":- .r"), f("- .r")]),
        [
            "k/",
            "k/.more",
            "k/.rsync-filter",
            "k/m",
            "k/q/",
            "k/q/m",
            "x/",
            "x/c",
            "x/y/",
            "x/y/.cvsignore",
            "x/y/c"
        ]
    );
    // :C reads .cvsignore (word-split, not inherited).
    let got = walked(b, &[f(":C"), f("- .r")]);
    assert!(!got.contains(&"x/y/c".to_string()));
    assert!(got.contains(&"x/c".to_string()));
    // A dir-merge rule inside a per-directory file; "/m" is anchored at
    // the file's directory.
    let got = walked(b, &[FilterArg::ShortF]);
    assert!(!got.contains(&"k/m".to_string()));
    assert!(got.contains(&"k/q/m".to_string()));
}

#[test]
fn per_directory_errors_are_fatal() {
    let t = tmp();
    let b = t.path();
    tree(b, &[("src/sub/.rsync-filter", "x bad\n")]);
    let l = build_in(b, &[FilterArg::ShortF], false).unwrap();
    let root = FilterStack::new(l);
    let (st, _) = root.try_enter(b"", &b.join("src")).unwrap();
    let e = st.try_enter(b"sub", &b.join("src/sub")).unwrap_err();
    let name = b.join("src/sub/.rsync-filter");
    assert_eq!(
        e.0,
        format!("Unknown filter rule: <rule from {} line 1>", name.display())
    );
    let (_, msgs) = st.enter(b"sub", &b.join("src/sub"));
    assert_eq!(msgs, vec![e.0.clone()]);
    // A merge file named in a per-directory file must exist.
    fs::write(b.join("src/sub/.rsync-filter"), ". nofile\n").unwrap();
    let e = st.try_enter(b"sub", &b.join("src/sub")).unwrap_err();
    assert_eq!(e.exit_code(), 11);
    assert!(e.0.starts_with("failed to open exclude file <rule from /"));
}

#[test]
fn source_without_trailing_slash() {
    // `src` (no slash): names carry the `src/` prefix and the root is the
    // parent; "/src" anchors at that root.
    let t = tmp();
    let b = t.path();
    tree(b, &[("src/a", ""), ("src/sub/a", "")]);
    let l = build_in(b, &[f("- /src/sub")], false).unwrap();
    let root = FilterStack::new(l);
    assert!(!root.excluded(b"src", true));
    let (st, _) = root.enter(b"src", &b.join("src"));
    assert!(st.excluded(b"src/sub", true));
    assert!(!st.excluded(b"src/a", false));
}

#[test]
fn xattr_rules_only_match_xattr_names() {
    let st = FilterStack::new(list(&[f("-x user.*"), f("+x user.keep"), f("- a*")]));
    assert!(st.xattr_excluded(b"user.foo", false, false));
    assert!(!st.xattr_excluded(b"security.x", false, false));
    assert!(!st.xattr_excluded(b"abc", false, false));
    assert!(!st.excluded(b"user.foo", false));
    assert!(st.excluded(b"abc", false));
    let st = FilterStack::new(list(&[f("+x user.keep"), f("-x user.*")]));
    assert!(!st.xattr_excluded(b"user.keep", false, false));
    assert!(st.xattr_excluded(b"user.x", true, false));
}

#[test]
fn stacks_cross_threads() {
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<FilterStack>();
    send_sync::<FilterList>();
}

#[test]
fn merge_depth_limit() {
    let t = tmp();
    let d = t.path();
    fs::write(d.join("rules"), "- x\n. rules\n").unwrap();
    let e = build_in(d, &[f(". rules")], false).unwrap_err();
    assert_eq!(e.exit_code(), 11);
    assert!(!e.prefixed());
    let named_at = "a file named at ".repeat(31);
    assert_eq!(
        e.0,
        format!(
            "[client] merge-file include depth limit (32) exceeded at <rule from {named_at}rules line 2>"
        )
    );
    assert!(
        e.for_role("generator")
            .0
            .starts_with("[generator] merge-file")
    );
    // A chain of exactly 32 files is fine; 33 is not.
    for (n, ok) in [(32, true), (33, false)] {
        for i in 1..n {
            fs::write(d.join(format!("m{i}")), format!(". m{}\n", i + 1)).unwrap();
        }
        fs::write(d.join(format!("m{n}")), "- x\n").unwrap();
        assert_eq!(build_in(d, &[f(". m1")], false).is_ok(), ok, "{n}");
    }
}
