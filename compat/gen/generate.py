#!/usr/bin/env python3
"""Generative differential cases for the compat suite (issue 13).

Each seed gives one scenario in the suite's own format (see compat/README.md):
a random source tree (files of several sizes and times, directories, safe,
unsafe and dangling symlinks, hard links, modes, odd names, xattrs), a random
state of the destination before the run (absent, a stale or newer copy,
wrong types, extra entries, a --link-dest reference), and a random option set
drawn from the options real scripts combine. The runner then runs rsync and
arsync on identical copies and compares trees, output and exit codes.

Same seed, same scenario: a case is named gen-SEED, and a failing one can be
shrunk (--shrink) to the fewest setup steps and options that still fail.

  compat/gen/generate.py --seeds 1-200 --out DIR         # write DIR/gen.scn
  compat/gen/generate.py --seeds 17 --parts               # one case's parts (JSON)
  compat/gen/generate.py --seeds 17 --shrink              # a failing case, minimal

Hand-written (stdlib only): the case shapes follow rsync's grammar and the
suite's lib.sh helpers, which no generator library knows.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NAMES = ["a", "b.txt", "c", "dir", "sp ace", "n\u00e9e", ".hid", "z~", "x.bak", "UP"]
TIMES = [1500000000, 1600000000, 1600000100, 1700000000]
SIZES = [0, 1, 10, 100, 4000, 70000]
MODES = ["0644", "0600", "0755", "0444", "0700"]

# Per case: the source files made read-only, and why the case can only run
# as root (a normal user's setup could not build it).
READ_ONLY = set()
NEEDS_ROOT = set()

# (weight, option words) — what scripts combine; each case takes a base
# and a few extras.
BASES = [
    (6, ["-a"]),
    (2, ["-r"]),
    (2, ["-rlt"]),
    (2, ["-rlptD"]),
    (2, ["-aH"]),
    (1, ["-aX"]),
]
EXTRAS = [
    (5, ["--delete"]),
    (2, ["--delete-after"]),
    (2, ["--delete-before"]),
    (1, ["--delete-excluded", "--exclude=*.bak"]),
    (3, ["--exclude=*.txt"]),
    (2, ["--include=*/", "--include=*.txt", "--exclude=*"]),
    (2, ["-u"]),
    (2, ["-c"]),
    (2, ["--size-only"]),
    (1, ["--ignore-times"]),
    (2, ["--existing"]),
    (2, ["--ignore-existing"]),
    (2, ["-b"]),
    (1, ["-b", "--suffix=.old"]),
    (1, ["--backup-dir=../bak", "-b"]),
    (2, ["--inplace"]),
    (1, ["--delay-updates"]),
    (2, ["--link-dest=../ref"]),
    (1, ["--compare-dest=../ref"]),
    (2, ["-L"]),
    (1, ["-K"]),
    (1, ["-k"]),
    (1, ["--safe-links"]),
    (1, ["--copy-unsafe-links"]),
    (1, ["-x"]),
    (1, ["--no-perms"]),
    (1, ["--no-times"]),
    (1, ["-O"]),
    (1, ["--omit-link-times"]),
    (1, ["--chmod=F600,D700"]),
    (1, ["-W"]),
    (1, ["-S"]),
    (1, ["--remove-source-files"]),
    (1, ["-m"]),
    (1, ["--max-size=5k"]),
    (1, ["--min-size=50"]),
    (1, ["--numeric-ids"]),
    (1, ["--temp-dir=../tmpd"]),
    (1, ["--partial"]),
    (1, ["--append"]),
]
OUTPUTS = [(3, ["-i"]), (3, ["-v"]), (2, ["-vi"]), (1, ["-vv"]), (1, []), (1, ["--stats"])]


def pick(rng, table):
    total = sum(w for w, _ in table)
    x = rng.uniform(0, total)
    for w, v in table:
        x -= w
        if x <= 0:
            return v
    return table[-1][1]


def q(s):
    """Bash single-quoting."""
    return "'" + s.replace("'", "'\\''") + "'"


def tree_steps(rng, root, depth, files):
    """Setup steps that build a random tree under ROOT; FILES collects the
    regular files made (for hard links and later mutations)."""
    steps = []
    names = rng.sample(NAMES, rng.randint(2, 6))
    for name in names:
        p = f"{root}/{name}"
        kind = rng.choices(["file", "dir", "link", "hard", "fifo"], [8, 3 if depth < 2 else 0, 3, 1, 1])[0]
        if kind == "hard" and not files:
            kind = "file"
        if kind == "file":
            steps.append(f"mkfile {q(p)} {rng.choice(SIZES)} {rng.choice(TIMES)}")
            mode = rng.choice(MODES)
            # The xattr goes on before the mode: a normal user may not
            # set one on a read-only file (the draws keep their order).
            if rng.random() < 0.1:
                steps.append(f"setx {q(p)} user.note v{rng.randint(1, 3)}")
            if mode != "0644":
                steps.append(f"chmod {mode} {q(p)}")
            if mode == "0444":
                READ_ONLY.add(p)
            files.append(p)
        elif kind == "dir":
            steps.append(f"mkdir -p {q(p)}")
            steps.extend(tree_steps(rng, p, depth + 1, files))
            steps.append(f"stamp {rng.choice(TIMES)} {q(p)}")
        elif kind == "link":
            target = rng.choice(["a", "b.txt", "../c", "/nonexistent", "dir", "/etc/hostname", "../../x"])
            steps.append(f"mkdir -p {q(root)} && ln -sfn {q(target)} {q(p)}")
        elif kind == "hard":
            steps.append(f"ln {q(rng.choice(files))} {q(p)}")
        elif kind == "fifo":
            steps.append(f"mkdir -p {q(root)} && mkfifo {q(p)}")
    return steps


def dest_steps(rng, files, dst):
    """Setup steps that give DST a state before the run."""
    state = rng.choice(["none", "copy", "copy", "mixed"])
    if state == "none":
        return []
    steps = [f"cp -a src/. {dst}/ 2>/dev/null || mkdir -p {dst}"]
    for p in rng.sample(files, min(len(files), rng.randint(0, 3))):
        d = dst + p[3:]
        change = rng.choice(["content", "older", "newer", "dir", "mode", "gone"])
        if change == "content":
            steps.append(f"mkfile {q(d)} {rng.choice(SIZES)} {rng.choice(TIMES)}")
            if p in READ_ONLY:
                NEEDS_ROOT.add("rewrites a read-only copy in the destination")
        elif change == "older":
            steps.append(f"stamp 1400000000 {q(d)}")
        elif change == "newer":
            steps.append(f"stamp 1800000000 {q(d)}")
        elif change == "dir":
            steps.append(f"rm -f {q(d)} && mkdir -p {q(d)}/inner && mkfile {q(d)}/inner/f 5")
        elif change == "mode":
            steps.append(f"chmod 0600 {q(d)}")
        elif change == "gone":
            steps.append(f"rm -f {q(d)}")
    if state == "mixed" or rng.random() < 0.5:
        steps.append(f"mkfile {dst}/extra 7 && mkfile {dst}/xdir/extra2 3 && mkfile {dst}/old.bak 2")
    return steps


def case(seed):
    """The parts of case SEED: setup steps and option words."""
    rng = random.Random(seed)
    READ_ONLY.clear()
    NEEDS_ROOT.clear()
    files = []
    setup = ["mkdir -p src"] + tree_steps(rng, "src", 0, files)
    setup.append("stamp 1600000000 src")
    opts = list(pick(rng, BASES))
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
        for w in pick(rng, EXTRAS):
            if w not in opts:
                opts.append(w)
    opts += pick(rng, OUTPUTS)
    if any(o.startswith("--link-dest") or o.startswith("--compare-dest") for o in opts):
        setup += dest_steps(rng, files, "ref") or ["cp -a src/. ref/"]
    if any(o.startswith("--temp-dir") for o in opts):
        setup.append("mkdir -p tmpd")
    setup += dest_steps(rng, files, "dst")
    slash = rng.random() < 0.85
    needs = sorted(NEEDS_ROOT)
    return {"setup": setup, "opts": opts, "src": "src/" if slash else "src", "needs": needs}


def render(seed, parts):
    lines = [f"### gen-{seed}"]
    lines += [f"needs: root {why}" for why in parts.get("needs", [])[:1]]
    lines += [f"setup: {s}" for s in parts["setup"]]
    lines.append("run: " + " ".join(q(o) for o in parts["opts"]) + f" {parts['src']} dst/")
    return "\n".join(lines) + "\n"


def seeds(spec):
    out = []
    for part in spec.split(","):
        a, _, b = part.partition("-")
        out += range(int(a), int(b or a) + 1)
    return out


def fails(seed, parts):
    """Whether the runner finds rsync and arsync differ on PARTS."""
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/gen.scn", "w", encoding="utf-8") as f:
            f.write(render(seed, parts))
        env = dict(os.environ, COMPAT_SCENARIOS=d)
        r = subprocess.run(
            ["cargo", "test", "-q", "--release", "--test", "compat", "--", "--exact", f"gen::gen-{seed}"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        # A case whose own setup fails is no divergence.
        return "1 failed" in r.stdout and "setup failed" not in r.stdout


def shrink(seed):
    """The case SEED with every setup step and option word that is not
    needed for it to fail taken out (greedy, one at a time)."""
    parts = case(seed)
    if not fails(seed, parts):
        return None
    for key in ("opts", "setup"):
        i = 0
        while i < len(parts[key]):
            if key == "setup" and i == 0:
                i += 1
                continue
            trial = dict(parts, **{key: parts[key][:i] + parts[key][i + 1:]})
            if fails(seed, trial):
                parts = trial
            else:
                i += 1
    return parts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", required=True, help="e.g. 1-200 or 5,9,12")
    ap.add_argument("--out", help="directory to write gen.scn into")
    ap.add_argument("--parts", action="store_true", help="print each case's parts as JSON")
    ap.add_argument("--shrink", action="store_true", help="print each failing case shrunk, as a scenario")
    a = ap.parse_args()
    if a.parts:
        for s in seeds(a.seeds):
            print(json.dumps({"seed": s, **case(s)}))
        return
    if a.shrink:
        for s in seeds(a.seeds):
            parts = shrink(s)
            print(render(s, parts) if parts else f"# gen-{s}: rsync and arsync agree")
        return
    if not a.out:
        sys.exit("--out or --parts is needed")
    text = "# Generated by compat/gen/generate.py; do not edit.\n\n"
    text += "\n".join(render(s, case(s)) for s in seeds(a.seeds))
    with open(f"{a.out}/gen.scn", "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
