//! selftest.rs — unit tests of the runner itself (parser, normaliser, relaxed comparison, diff),
//! registered as `selftest::*` trials because this test target has no libtest harness.

use std::path::Path;

use libtest_mimic::{Failed, Trial};

use super::exec::setup_script;
use super::normalize::{
    norm_temp_names, stderr_lines, stderr_relaxed_eq, stdout_lines, stdout_relaxed_eq,
};
use super::report::line_diff;
use super::scenario::{Extras, StepKind, parse};
use super::tree;

fn check(cond: bool, what: &str) -> Result<(), Failed> {
    if cond {
        Ok(())
    } else {
        Err(Failed::from(format!("self-test assertion failed: {what}")))
    }
}

fn eq<T: PartialEq + std::fmt::Debug>(got: T, want: T, what: &str) -> Result<(), Failed> {
    if got == want {
        Ok(())
    } else {
        Err(Failed::from(format!(
            "self-test {what}:\n  got:  {got:?}\n  want: {want:?}"
        )))
    }
}

fn parse_err(text: &str) -> String {
    match parse(Path::new("x.scn"), text) {
        Ok(_) => String::from("<parsed OK>"),
        Err(e) => e.to_string(),
    }
}

fn parser_accepts_valid_file() -> Result<(), Failed> {
    let text = "\
# file comment

### first-one          # trailing comment
# comment
setup: mkdir -p src && echo hi > src/a
setup: tree_basic src
umask: 077
compare: atime   # comment
compare: blocks
needs: root mknod (devices)
run: -av src/ dst/
sh: echo more >> src/a
run: -av src/ dst/

### second
run: -r src dst
";
    let list = parse(Path::new("compat/scenarios/10-x.scn"), text)
        .map_err(|e| Failed::from(e.to_string()))?;
    eq(list.len(), 2, "scenario count")?;
    let a = &list[0];
    eq(a.name.as_str(), "first-one", "name")?;
    eq(a.line, 3, "line")?;
    eq(a.setup.len(), 2, "setup lines")?;
    eq(a.umask, Some(0o077), "umask")?;
    eq(a.steps.len(), 3, "steps")?;
    eq(a.steps[1].kind, StepKind::Sh, "step kind")?;
    eq(a.steps[2].line, 13, "step line")?;
    eq(
        a.needs_root.as_deref(),
        Some("mknod (devices)"),
        "needs: root",
    )?;
    eq(list[1].needs_root.as_deref(), None, "no needs:")?;
    eq(
        a.extras,
        Extras {
            atime: true,
            blocks: true,
        },
        "compare: keys",
    )?;
    eq(list[1].extras, Extras::default(), "no extra comparisons")?;
    eq(a.test_name(), "10-x::first-one".to_string(), "test name")?;
    eq(list[1].umask_or_default(), 0o022, "default umask")?;
    Ok(())
}

fn parser_rejects_bad_input() -> Result<(), Failed> {
    let cases: &[(&str, &str)] = &[
        ("### a\nfoo: bar\nrun: x\n", "x.scn:2: unknown key `foo:`"),
        (
            "### a\nrun: x\n### a\nrun: y\n",
            "x.scn:3: duplicate scenario name `a`",
        ),
        (
            "### a\nsetup: true\n",
            "x.scn:1: scenario `a` has no `run:` line",
        ),
        (
            "### a\nsh: true\n",
            "x.scn:1: scenario `a` has no `run:` line",
        ),
        ("run: x\n", "x.scn:1: `run:` line before the first"),
        ("###\nrun: x\n", "x.scn:1: `###` without a scenario name"),
        ("### a b\nrun: x\n", "x.scn:1: unexpected text `b`"),
        ("### a/b\nrun: x\n", "x.scn:1: invalid scenario name"),
        ("### a\numask: 999\nrun: x\n", "x.scn:2: invalid umask"),
        (
            "### a\numask: 022\numask: 022\nrun: x\n",
            "x.scn:3: duplicate `umask:`",
        ),
        ("### a\nrun:\n", "x.scn:2: empty `run:` line"),
        ("### a\nrun: x\nsetup: y\n", "x.scn:3: `setup:` after a"),
        ("### a\njust text\n", "x.scn:2: expected `key: value`"),
        (
            "### a\ncompare: atime ctime\nrun: x\n",
            "x.scn:2: unknown comparison `ctime`",
        ),
        (
            "### a\nneeds: fuse\nrun: x\n",
            "x.scn:2: expected `needs: root WHY`",
        ),
        (
            "### a\nneeds: root\nrun: x\n",
            "x.scn:2: expected `needs: root WHY`",
        ),
    ];
    for (text, want) in cases {
        let got = parse_err(text);
        check(
            got.starts_with(want),
            &format!("parsing {text:?}: want error starting {want:?}, got {got:?}"),
        )?;
    }
    Ok(())
}

fn normalizer_masks_volatile_output() -> Result<(), Failed> {
    let out = stdout_lines(
        b"a\nsent 1,234 bytes  received 56 bytes  2,580.00 bytes/sec\n\
          total size is 1,234  speedup is 0.02\n\
          total size is 5  speedup is 1.00 (DRY RUN)\n\
          sent 1.23K bytes  received 35 bytes  2.52K bytes/sec\n\
          Total bytes sent: 99\nTotal file size: 5 bytes\n\
                       20 100%    9.77kB/s    0:00:00 (xfr#2, to-chk=1/4)\n\
          a B/s name\n",
    );
    eq(
        out,
        vec![
            "a".to_string(),
            "sent N bytes  received N bytes  N bytes/sec".into(),
            "total size is 1,234  speedup is N".into(),
            "total size is 5  speedup is N (DRY RUN)".into(),
            "sent N bytes  received N bytes  N bytes/sec".into(),
            "Total bytes sent: N".into(),
            "Total file size: 5 bytes".into(),
            "20 100% RB/s    0:00:00 (xfr#2, to-chk=1/4)".into(),
            "a B/s name".into(),
        ],
        "stdout normalisation",
    )?;
    let err = stderr_lines(
        b"rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394) [sender=3.5.0]\n\
          rsync: [receiver] rename \"/tmp/x/dst/.a.Xy12Ab\" -> \"a\": No such file (2)\n\xff\n",
    );
    eq(
        err,
        vec![
            "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at FILE(LINE) [ROLE]".to_string(),
            "rsync: [receiver] rename \"/tmp/x/dst/.a.XXXXXX\" -> \"a\": No such file (2)".into(),
            "\\xFF".into(),
        ],
        "stderr normalisation",
    )?;
    eq(
        norm_temp_names(".a.b.c.123456"),
        ".a.b.c.XXXXXX".into(),
        "dotted temp",
    )?;
    eq(
        norm_temp_names("x/.hidden"),
        "x/.hidden".into(),
        "plain dotfile",
    )?;
    eq(
        norm_temp_names(".x.1234567"),
        ".x.1234567".into(),
        "7 chars",
    )?;
    eq(
        norm_temp_names("a.b.123456"),
        "a.b.123456".into(),
        "no leading dot",
    )?;
    Ok(())
}

fn relaxed_comparison() -> Result<(), Failed> {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let a = v(&[
        "x",
        "skipping non-regular file \"l\"",
        "y",
        "deleting z",
        "sent",
    ]);
    let b = v(&[
        "skipping non-regular file \"l\"",
        "x",
        "deleting z",
        "y",
        "sent",
    ]);
    check(stdout_relaxed_eq(&a, &b), "messages may move")?;
    let c = v(&[
        "y",
        "x",
        "skipping non-regular file \"l\"",
        "deleting z",
        "sent",
    ]);
    check(!stdout_relaxed_eq(&a, &c), "listing order matters")?;
    let i1 = v(&["*deleting   z", ">f+++++++++ x", "*deleting   y"]);
    let i2 = v(&[">f+++++++++ x", "*deleting   z", "*deleting   y"]);
    check(stdout_relaxed_eq(&i1, &i2), "itemized deletions may move")?;
    let i3 = v(&[">f+++++++++ x", "*deleting   y", "*deleting   z"]);
    check(!stdout_relaxed_eq(&i1, &i3), "deletion order matters")?;
    let n1 = v(&[
        "not creating new file \"f\"",
        "./",
        "not creating new directory \"sub\"",
    ]);
    let n2 = v(&[
        "not creating new file \"f\"",
        "not creating new directory \"sub\"",
        "./",
    ]);
    check(stdout_relaxed_eq(&n1, &n2), "--existing verdicts may move")?;
    let n3 = v(&[
        "not creating new directory \"sub\"",
        "./",
        "not creating new file \"f\"",
    ]);
    check(
        !stdout_relaxed_eq(&n1, &n3),
        "--existing verdict order matters",
    )?;
    let b1 = v(&["a", "b", "backed up a to a~", "backed up b to b~"]);
    let b2 = v(&["a", "backed up a to a~", "b", "backed up b to b~"]);
    check(stdout_relaxed_eq(&b1, &b2), "backup lines may move")?;
    let b3 = v(&["a", "b", "backed up b to b~", "backed up a to a~"]);
    check(!stdout_relaxed_eq(&b1, &b3), "backup order matters")?;
    let e1 = v(&["rsync: a", "rsync: b", "rsync error: x"]);
    let e2 = v(&["rsync: b", "rsync: a", "rsync error: x"]);
    check(stderr_relaxed_eq(&e1, &e2), "stderr multiset")?;
    let e3 = v(&["rsync: b", "rsync error: x", "rsync: a"]);
    check(!stderr_relaxed_eq(&e1, &e3), "final rsync error line")?;
    check(
        !stderr_relaxed_eq(&e1, &v(&["rsync: a", "rsync error: x"])),
        "missing line",
    )?;
    Ok(())
}

/// The opt-in comparisons (atime, allocated blocks) see differences the default set ignores,
/// and snapshots read files without touching their atime.
fn tree_extras() -> Result<(), Failed> {
    let run = |script: &str, dir: &Path| -> Result<(), Failed> {
        let st = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(dir)
            .status()
            .map_err(|e| Failed::from(format!("bash: {e}")))?;
        check(st.success(), &format!("script {script:?}"))
    };
    check(tree::is_fresh((10, 5), (10, 5)), "start itself is fresh")?;
    check(
        tree::is_fresh((10, 0), (10, 5)),
        "start's whole second is fresh",
    )?;
    check(
        !tree::is_fresh((10, 1), (10, 5)),
        "just before start is not fresh",
    )?;
    check(
        !tree::is_fresh((9, 0), (10, 5)),
        "previous second is not fresh",
    )?;
    let tmp = tempfile::tempdir().map_err(|e| Failed::from(e.to_string()))?;
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    std::fs::create_dir(&a).map_err(|e| Failed::from(e.to_string()))?;
    std::fs::create_dir(&b).map_err(|e| Failed::from(e.to_string()))?;
    // Same content, mtime and mode; b/f has another atime and is sparse.
    run(
        "head -c 65536 /dev/zero > f && touch -d @1600000000 f && ln f f2 && touch -a -d @1500000000 f",
        &a,
    )?;
    run(
        "truncate -s 65536 f && touch -d @1600000000 f && ln f f2 && touch -a -d @1400000000 f",
        &b,
    )?;
    let snap = |p: &Path| tree::snapshot(p).map_err(Failed::from);
    let (ta, tb) = (snap(&a)?, snap(&b)?);
    let start = (1_700_000_000, 0); // the dirs themselves are "fresh"
    eq(
        tree::compare(&ta, start, &tb, start, Extras::default()),
        vec![],
        "default comparison ignores atime and blocks",
    )?;
    let d = tree::compare(
        &ta,
        start,
        &tb,
        start,
        Extras {
            atime: true,
            blocks: false,
        },
    );
    eq(
        d,
        vec![
            "f: atime rsync=1500000000.000000000 arsync=1400000000.000000000".to_string(),
            "f2: atime rsync=1500000000.000000000 arsync=1400000000.000000000".into(),
        ],
        "atime comparison (unchanged by the first snapshot's reads)",
    )?;
    let d = tree::compare(
        &ta,
        start,
        &tb,
        start,
        Extras {
            atime: false,
            blocks: true,
        },
    );
    check(
        d.len() == 2 && d[0].starts_with("f: allocated blocks rsync=128 arsync=0"),
        &format!("blocks comparison: {d:?}"),
    )?;
    Ok(())
}

fn diff_renders() -> Result<(), Failed> {
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let d = line_diff(&v(&["a", "b", "c"]), &v(&["a", "B", "c"]), 10);
    eq(d.as_str(), "      a\n    - b\n    + B\n      c\n", "diff")?;
    Ok(())
}

/// A setup line fails as a whole when any command of an `&&` list fails,
/// not only its last one; `||` fallbacks and `if` still pass.
fn setup_lines_fail_as_a_whole() -> Result<(), Failed> {
    let status = |lines: &[&str]| {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let script = setup_script(&lines, Path::new("/dev/null"), Path::new("/"))
            .replace("_compat_settle", "true");
        std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .output()
            .map(|o| o.status.code())
    };
    eq(
        status(&["true && false && true"])?,
        Some(97),
        "middle of &&",
    )?;
    eq(
        status(&["true", "false"])?,
        Some(1),
        "plain failure (set -e)",
    )?;
    eq(
        status(&["false || true", "if false; then false; fi"])?,
        Some(0),
        "fallbacks",
    )?;
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "selftest::parser_accepts_valid_file",
            parser_accepts_valid_file,
        ),
        Trial::test(
            "selftest::parser_rejects_bad_input",
            parser_rejects_bad_input,
        ),
        Trial::test(
            "selftest::normalizer_masks_volatile_output",
            normalizer_masks_volatile_output,
        ),
        Trial::test("selftest::relaxed_comparison", relaxed_comparison),
        Trial::test("selftest::diff_renders", diff_renders),
        Trial::test("selftest::tree_extras", tree_extras),
        Trial::test(
            "selftest::setup_lines_fail_as_a_whole",
            setup_lines_fail_as_a_whole,
        ),
    ]
}
