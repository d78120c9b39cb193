#!/usr/bin/env python3
"""Turn a benchmark results.csv into summary.md and an SVG chart (stdlib only).

  summarize.py zerocopy RESULTS_DIR   (from zero_copy_bench.sh)
  summarize.py compare  RESULTS_DIR   (from compare_rsync.sh)

Reads RESULTS_DIR/results.csv plus the header the shell script wrote
(RESULTS_DIR/.header.md: machine facts, command, versions, notes),
RESULTS_DIR/machine.txt (cores, kernel, file system, for the chart caption;
older results dirs without it fall back to .header.md) and, for compare,
RESULTS_DIR/.workloads.tsv (name, description). Writes summary.md and
throughput.svg (zerocopy) or chart.svg (compare).

Charts: each bar is the median of its runs (the figure in the tables), a
whisker spans the minimum to maximum run, the caption gives the run count
and the machine. throughput.svg has a logarithmic MB/s axis (1 MB and 10 GB
files differ tenfold or more); chart.svg has one row of bars per workload,
starting at ratio 1 on a logarithmic axis (0.5 and 2 equally far from 1).

Statistics: medians over the timed runs of a (workload, tool) pair; ratios
are computed round by round (the runs of one round ran back to back, so
they share the machine's state at that moment) and the median of those
per-round ratios is reported. Failed runs (non-zero exit) are left out and
counted.
"""

import csv
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ litter in the repository
import chart  # noqa: E402  (sibling module, stdlib only)

GB = 1e9  # decimal units throughout: MB/s and CPU s per GB use 10^6 / 10^9 bytes


def fnum(s):
    """Float or None for empty / n/a cells."""
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def med(values):
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "–" if v is None else format(v, spec)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def read_machine(resdir):
    """Machine facts for the chart caption: machine.txt (key=value lines the
    benchmark scripts write), else what .header.md says, else {}."""
    facts = {}
    for line in read_text(os.path.join(resdir, "machine.txt")).splitlines():
        k, sep, v = line.partition("=")
        if sep and v.strip():
            facts[k.strip()] = v.strip()
    if facts:
        return facts
    for line in read_text(os.path.join(resdir, ".header.md")).splitlines():
        m = re.match(r"- host: .*?, (\d+) CPUs", line)
        if m:
            facts["cores"] = m.group(1)
        m = re.match(r"- kernel: \S+ (\S+)", line)
        if m:
            facts["kernel"] = m.group(1)
        m = re.match(r"- work dir: `([^`]*)` on (\S+)", line)
        if m:
            facts["workdir"], facts["fs"] = m.group(1), m.group(2)
    return facts


def machine_caption(facts):
    """One line: cores, kernel, file system of the measured directory."""
    if not facts:
        return "Machine: not recorded (no machine.txt in the results directory)."
    parts = []
    if "cores" in facts:
        parts.append(f"{facts['cores']} cores")
    if "kernel" in facts:
        parts.append(f"Linux {facts['kernel']}")
    if "fs" in facts:
        fs = facts["fs"]
        if facts.get("fs_source"):
            fs += f" on {facts['fs_source']}"
        if facts.get("fs_options"):
            # The options that change timings most; the full list is in summary.md.
            keep = [o for o in facts["fs_options"].split(",")
                    if o.split("=")[0] in ("discard", "noatime", "relatime", "sync", "nobarrier",
                                           "data", "journal_async_commit", "dax")]
            if keep:
                fs += f" ({','.join(keep)})"
        if facts.get("workdir"):
            fs += f", measured in {facts['workdir']}"
        parts.append(fs)
    if facts.get("cpu_model"):
        parts.append(facts["cpu_model"])
    return "Machine: " + "; ".join(parts) + "."


def ordered(rows, key):
    """Distinct values of column `key` in first-seen order."""
    seen = []
    for r in rows:
        if r[key] not in seen:
            seen.append(r[key])
    return seen


def noise_line(rows):
    """One sentence on how much other work ran during the timed runs."""
    vals = [fnum(r.get("other_cpu_pct")) for r in rows]
    vals = [v for v in vals if v is not None]
    if not vals:
        return "Other processes' CPU use could not be measured (all runs under 0.25 s).\n"
    m = statistics.median(vals)
    busy = sum(1 for v in vals if v > 25)
    if m >= 10:
        verdict = ("**other work competed with most measurements: figures are noisy, trust the "
                   "pairwise ratios more than absolute times**")
    elif busy > len(vals) // 10:
        verdict = ("mostly quiet; some runs had company (see the *others' CPU %* columns: the same "
                   "figure for every tool of a workload points at kernel threads the workload "
                   "wakes, a figure for one tool only at a disturbance)")
    else:
        verdict = "quiet machine"
    return (f"Outside the measured commands, the machine used a median of {m:.0f} % of one core "
            f"during the timed runs ({busy} of {len(vals)} runs above 25 %; runs under 0.25 s are "
            f"too short to tell): {verdict}.\n")


def pairwise_ratios(rows, key_col, a, b, value):
    """Per-round value(a)/value(b) for rows of one workload; both runs must
    have succeeded in that round."""
    by = {}
    for r in rows:
        if r["rc"] == "0":
            by[(r[key_col], r["run"])] = value(r)
    out = []
    for (k, run), va in by.items():
        if k != a:
            continue
        vb = by.get((b, run))
        if va is not None and vb:
            out.append(va / vb)
    return out


# --------------------------------------------------------------- zerocopy

DESIGN = [
    # engine, data path by design, copies of each byte through user space
    ("vec", "read into a user buffer (kernel→user), write from it (user→kernel)", "2"),
    ("read-managed", "read into a kernel-provided pool buffer (kernel→user), memcpy into a write "
     "buffer (user→user), write (user→kernel)", "3"),
    ("write-managed", "read into a kernel-provided pool buffer (kernel→user), write from that same "
     "buffer (user→kernel)", "2"),
    ("copy-file-range", "copy_file_range(): the kernel copies page cache to page cache (one in-kernel copy, no user buffer)", "0"),
    ("auto", "arsync picks an engine per file (see src/engine)", "–"),
    ("rsync", "for reference: sender reads, sends through a socket to the receiver, which "
     "writes; plus a whole-file checksum pass", "4"),
]


def zerocopy(resdir):
    rows = read_csv(os.path.join(resdir, "results.csv"))
    sizes = ordered(rows, "size")
    variants = ordered(rows, "variant")
    out = [read_text(os.path.join(resdir, ".header.md"))]
    out.append(noise_line(rows))

    out.append("## Results per size\n")
    out.append("Medians over the timed runs. *vs rsync* is the median over rounds of "
               "(rsync seconds ÷ variant seconds) in the same round: above 1 = faster than rsync. "
               "CPU s/GB = (user+sys) seconds per 10^9 bytes copied. *others' CPU %* = CPU used "
               "outside the measured command during its runs (% of one core; blank under 0.25 s): "
               "other processes, or kernel threads the copy wakes (writeback, memory management).\n")
    cpu_per_gb = {}
    chart_rows = []
    for size in sizes:
        srows = [r for r in rows if r["size"] == size]
        nbytes = fnum(srows[0]["bytes"])
        out.append(f"### {size} ({int(nbytes):,} bytes)\n")
        out.append("| variant | MB/s | seconds | CPU % | CPU s/GB | peak RSS (MiB) | vs rsync | mem BW | others' CPU % | ok runs |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for v in variants:
            vr = [r for r in srows if r["variant"] == v]
            ok = [r for r in vr if r["rc"] == "0"]
            if not vr:
                continue
            mbs = med(fnum(r["mb_per_s"]) for r in ok)
            secs = med(fnum(r["seconds"]) for r in ok)
            cpu = med(fnum(r["cpu_pct"]) for r in ok)
            cpugb = med((fnum(r["user_s"]) + fnum(r["sys_s"])) / (nbytes / GB) for r in ok) if ok else None
            rss = med(fnum(r["max_rss_kib"]) for r in ok)
            bws = [r["membw"] for r in ok if fnum(r["membw"]) is not None]
            bw = fmt(med(fnum(b) for b in bws), ".0f") + " MB/s" if bws else "n/a"
            ratio = None
            if v != "rsync":
                ratio = med(pairwise_ratios(srows, "variant", "rsync", v, lambda r: fnum(r["seconds"])))
            cpu_per_gb[(v, size)] = cpugb
            for r in ok:
                if fnum(r["mb_per_s"]) is not None:
                    chart_rows.append((size, v, fnum(r["mb_per_s"])))
            other = med(fnum(r.get("other_cpu_pct")) for r in ok)
            out.append(f"| {v} | {fmt(mbs, '.0f')} | {fmt(secs, '.4f')} | {fmt(cpu, '.0f')} | "
                       f"{fmt(cpugb, '.2f')} | {fmt(None if rss is None else rss / 1024, '.1f')} | "
                       f"{'–' if v == 'rsync' else fmt(ratio, '.2f') + '×' if ratio else '–'} | {bw} | "
                       f"{fmt(other, '.0f')} | {len(ok)}/{len(vr)} |")
        out.append("")

    out.append("## Copies per byte: design vs measured CPU\n")
    out.append("The design column states how each engine moves data (what the code is built to do, "
               "not something this script measures); the CPU s/GB columns are measured medians "
               "(user+sys of the whole process, so they include walking, opening, metadata and "
               "runtime overhead; the larger the file, the more they reflect the data path alone). "
               "Memory copies cost CPU time roughly in proportion to their number: the design predicts "
               "copy-file-range < vec ≈ write-managed < read-managed < rsync.\n")
    head = "| engine | data path (design) | user-space copies per byte (design) | " + \
        " | ".join(f"CPU s/GB @ {s}" for s in sizes) + " |"
    out.append(head)
    out.append("|" + "---|" * 2 + "---:|" * (1 + len(sizes)))
    for engine, text, copies in DESIGN:
        variant = engine if engine == "rsync" else f"arsync-{engine}"
        if variant not in variants:
            continue
        cells = " | ".join(fmt(cpu_per_gb.get((variant, s)), ".2f") for s in sizes)
        out.append(f"| {engine} | {text} | {copies} | {cells} |")
    if "arsync" in variants:
        cells = " | ".join(fmt(cpu_per_gb.get(("arsync", s)), ".2f") for s in sizes)
        out.append(f"| arsync (default) | engine options not available in this binary | – | {cells} |")
    out.append("")
    out.append("![throughput](throughput.svg)\n")
    out.append("The chart: each bar is the median MB/s of the table above, its whisker the slowest "
               "to fastest run; logarithmic axis, so the small files stay readable next to the big "
               "ones.\n")
    out.append("Raw data: `results.csv` (one row per timed run).\n")

    with open(os.path.join(resdir, "summary.md"), "w") as f:
        f.write("\n".join(out))
    write_chart(os.path.join(resdir, "throughput.svg"), chart_rows,
                "Single-file copy throughput (median, min–max)", "MB/s (10^6 bytes per second)",
                None, log=True, layout="columns",
                captions=["Page cache warm; failed runs left out.",
                          machine_caption(read_machine(resdir))])


# --------------------------------------------------------------- compare

def read_workloads(resdir):
    desc = {}
    path = os.path.join(resdir, ".workloads.tsv")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2:
                    desc[parts[0]] = parts[1]
    return desc


def compare(resdir):
    rows = read_csv(os.path.join(resdir, "results.csv"))
    workloads = ordered(rows, "workload")
    desc = read_workloads(resdir)
    out = [read_text(os.path.join(resdir, ".header.md"))]
    out.append(noise_line(rows))

    # Headline matrix first: the number people look for.
    peers_all = [t for t in ordered(rows, "tool") if t != "arsync"]
    matrix = {}
    for w in workloads:
        wr = [r for r in rows if r["workload"] == w]
        for p in peers_all:
            rs = pairwise_ratios(wr, "tool", "arsync", p, lambda r: fnum(r["seconds"]))
            matrix[(w, p)] = med(rs)
    out.append("## Headline: arsync time ÷ peer time\n")
    out.append("Median over rounds of (arsync seconds ÷ peer seconds), both measured in the same round. "
               "**Below 1 = arsync faster** (0.50 = twice as fast), above 1 = arsync slower. "
               "– = peer not run for that workload.\n")
    out.append("| workload | " + " | ".join(f"vs {p}" for p in peers_all) + " |")
    out.append("|---|" + "---:|" * len(peers_all))
    chart_rows = []
    for w in workloads:
        cells = []
        wr = [r for r in rows if r["workload"] == w]
        for p in peers_all:
            v = matrix[(w, p)]
            cells.append(fmt(v, ".2f"))
            # The chart draws every round's ratio: median bar, min–max whisker.
            for ratio in pairwise_ratios(wr, "tool", "arsync", p, lambda r: fnum(r["seconds"])):
                chart_rows.append((w, f"arsync ÷ {p}", ratio))
        out.append(f"| {w} | " + " | ".join(cells) + " |")
    out.append("")
    out.append("![ratios](chart.svg)\n")
    out.append("The chart: one block per workload, a bar per peer from 1 to the median ratio of the "
               "table (left of the dashed line = arsync faster), its whisker the lowest to highest "
               "per-round ratio; logarithmic axis, so 0.5 and 2 are equally far from 1.\n")

    out.append("## Per workload\n")
    out.append("Median wall seconds, CPU % = (user+sys)/wall (100 % = one core busy), peak RSS of the "
               "largest process (KiB → MiB), the pairwise ratio as above, and *others' CPU %*: CPU "
               "used outside the measured command during its runs, in % of one core (blank for runs "
               "under 0.25 s). That is other processes (a concurrent build makes runs noisy) but also "
               "kernel threads the copy itself wakes (writeback, memory management), so a similar "
               "figure for every tool of a workload is part of the workload, not noise.\n")
    for w in workloads:
        wr = [r for r in rows if r["workload"] == w]
        out.append(f"### {w}\n")
        if w in desc:
            out.append(f"{desc[w]}\n")
        out.append("| tool | median s | CPU % | peak RSS (MiB) | arsync ÷ tool | others' CPU % | ok runs |")
        out.append("|---|---:|---:|---:|---:|---:|---:|")
        for t in ordered(wr, "tool"):
            tr = [r for r in wr if r["tool"] == t]
            ok = [r for r in tr if r["rc"] == "0"]
            secs = med(fnum(r["seconds"]) for r in ok)
            cpu = med(fnum(r["cpu_pct"]) for r in ok)
            rss = med(fnum(r["max_rss_kib"]) for r in ok)
            ratio = "–" if t == "arsync" else fmt(matrix.get((w, t)), ".2f")
            other = med(fnum(r.get("other_cpu_pct")) for r in ok)
            out.append(f"| {t} | {fmt(secs, '.3f')} | {fmt(cpu, '.0f')} | "
                       f"{fmt(None if rss is None else rss / 1024, '.1f')} | {ratio} | "
                       f"{fmt(other, '.0f')} | {len(ok)}/{len(tr)} |")
        out.append("")
    out.append("Raw data: `results.csv` (one row per timed run; warm-up runs are not recorded).\n")

    with open(os.path.join(resdir, "summary.md"), "w") as f:
        f.write("\n".join(out))
    write_chart(os.path.join(resdir, "chart.svg"), chart_rows,
                "arsync time ÷ peer time (left of 1 = arsync faster)",
                "arsync seconds ÷ peer seconds, per round", 1.0, log=True, layout="rows",
                captions=["A run is a round: the ratio of arsync's and the peer's times in that "
                          "round, both successful.",
                          machine_caption(read_machine(resdir))])


def write_chart(path, rows, title, ylabel, refline, log=False, layout="columns", captions=None):
    """rows: (group, series, value) with one row per run; chart.render draws
    the median and the min–max spread of each (group, series)."""
    groups, series, values = [], [], {}
    for g, s, v in rows:
        if g not in groups:
            groups.append(g)
        if s not in series:
            series.append(s)
        values.setdefault((g, s), []).append(v)
    with open(path, "w") as f:
        f.write(chart.render(groups, series, values, title, ylabel, refline, log=log,
                             captions=captions, layout=layout))


def main(argv):
    if len(argv) != 3 or argv[1] not in ("zerocopy", "compare"):
        sys.stderr.write(__doc__)
        return 2
    {"zerocopy": zerocopy, "compare": compare}[argv[1]](argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
