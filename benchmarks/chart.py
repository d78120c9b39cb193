#!/usr/bin/env python3
"""Bar charts with spread, as standalone SVG files (python3 stdlib only).

Input (stdin or --data FILE): tab-separated lines "group<TAB>series<TAB>value".
Groups are the clusters (e.g. file sizes or workloads), series the coloured
bars inside each cluster (e.g. tools or copy engines), in the order they
first appear. A (group, series) pair may come several times, once per run:
the bar shows the median of its values and a whisker their minimum to
maximum, and the caption says how many runs each bar is. Missing pairs
leave a gap. Lines starting with '#' and empty, nan or n/a values are
ignored.

Two layouts:
  columns (default)  vertical bars, clusters side by side along the x axis
                     (bars get narrower to keep within --width, default 900)
  rows               one block of horizontal bars per group (small multiples
                     stacked down the page), --width pixels wide (default
                     900): compact however many groups there are.
                     With --refline the bars start at that value (e.g. 1 for
                     ratios: left = below 1, right = above).

  chart.py --title "Throughput" --ylabel "MB/s" --log --out throughput.svg < runs.tsv
  chart.py --layout rows --log --refline 1 --title "Ratios" --ylabel ratio ...
  --log          logarithmic value axis (values <= 0 are left out)
  --refline V    dashed reference line at V
  --caption TEXT a line under the chart (repeatable), e.g. the machine
"""

import argparse
import math
import statistics
import sys
from xml.sax.saxutils import escape

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
CHAR_W = 6.5  # rough width of an 11px sans-serif glyph
WHISKER = "#333"


def read_rows(stream):
    """Parse the TSV into ordered groups, series and a map (group, series) ->
    list of values (one per line, i.e. per run)."""
    groups, series, values = [], [], {}
    for line in stream:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or parts[2] in ("", "nan", "n/a"):
            continue
        g, s, v = parts[0], parts[1], float(parts[2])
        if g not in groups:
            groups.append(g)
        if s not in series:
            series.append(s)
        values.setdefault((g, s), []).append(v)
    return groups, series, values


class Stat:
    """Median, minimum, maximum and count of one bar's values."""

    def __init__(self, vals):
        vals = sorted(vals)
        self.n = len(vals)
        self.med = statistics.median(vals)
        self.lo = vals[0]
        self.hi = vals[-1]


def stats_of(values, log):
    """(group, series) -> Stat; a single number counts as one run. On a log
    axis values <= 0 cannot be drawn and are left out."""
    out, dropped = {}, 0
    for k, v in values.items():
        vals = list(v) if isinstance(v, (list, tuple)) else [v]
        if log:
            dropped += sum(1 for x in vals if x <= 0)
            vals = [x for x in vals if x > 0]
        if vals:
            out[k] = Stat(vals)
    return out, dropped


# ---------------------------------------------------------------- axes

def nice_ceiling(x):
    """Smallest 1/2/2.5/5 x 10^k at or above x, so the axis ends on a round
    number."""
    if x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= x * (1 - 1e-9):
            return m * 10 ** exp
    return 10 ** (exp + 1)


def nice_floor_log(x, ms=(1, 2, 5)):
    """Largest m x 10^k at or below x (x > 0), m from ms."""
    exp = math.floor(math.log10(x))
    for m in sorted(ms, reverse=True):
        if m * 10 ** exp <= x * (1 + 1e-9):
            return m * 10 ** exp
    return 10 ** exp


def nice_ceiling_log(x, ms=(1, 2, 5)):
    """Smallest m x 10^k at or above x (x > 0), m from ms."""
    exp = math.floor(math.log10(x))
    for m in sorted(ms) + [10]:
        if m * 10 ** exp >= x * (1 - 1e-9):
            return m * 10 ** exp
    return 10 ** (exp + 1)


class Axis:
    """Maps values to a pixel span [p0, p1] (p1 may be below p0: y grows
    downwards), linear from lo or logarithmic."""

    def __init__(self, lo, hi, p0, p1, log):
        self.lo, self.hi, self.p0, self.p1, self.log = lo, hi, p0, p1, log

    def __call__(self, v):
        if self.log:
            v = min(max(v, self.lo), self.hi)
            f = (math.log10(v) - math.log10(self.lo)) / (math.log10(self.hi) - math.log10(self.lo))
        else:
            f = (v - self.lo) / (self.hi - self.lo)
        return self.p0 + f * (self.p1 - self.p0)

    def ticks(self):
        if not self.log:
            return [self.lo + (self.hi - self.lo) * i / 5 for i in range(6)]
        # The coarsest 1-2-5 style set that still gives 4 ticks.
        e0, e1 = math.floor(math.log10(self.lo)), math.ceil(math.log10(self.hi))
        for ms in ((1,), (1, 2, 5), (1, 2, 3, 5, 7), (1, 1.5, 2, 3, 4, 5, 6, 7, 8),
                   (1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8, 2, 2.5, 3, 4, 5, 6, 7, 8, 9)):
            t = [m * 10 ** e for e in range(e0, e1 + 1) for m in ms
                 if self.lo * (1 - 1e-9) <= m * 10 ** e <= self.hi * (1 + 1e-9)]
            if len(t) >= 4:
                return t
        return t


def fmt(v):
    """Short label for a value: about 3 significant digits."""
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 0.1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def tick_label(v):
    if v >= 10000 and v == int(v):
        return f"{v / 1000:g}k"
    return f"{v:g}"


# ---------------------------------------------------------------- pieces

def svg_open(width, height, title):
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
            f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
            f'<text x="{width / 2:.1f}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
            f'{escape(title)}</text>']


def wrap(text, width_px, size=10):
    """Greedy word wrap for a caption line."""
    per_line = max(20, int(width_px / (size * 0.58)))
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > per_line:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}" if cur else word
    if cur:
        lines.append(cur)
    return lines


def caption_lines(stats, captions, width_px, log, dropped=0):
    """The run-count sentence plus the caller's lines, wrapped. Returns the
    lines and the most common run count (bars with another count are
    marked n=...)."""
    counts = sorted({s.n for s in stats.values()})
    common = statistics.mode([s.n for s in stats.values()]) if stats else 0
    if not counts:
        runs = "No data."
    elif counts == [1]:
        runs = "Each bar: n = 1 run (no spread to show)."
    elif len(counts) == 1:
        runs = (f"Each bar: median of n = {counts[0]} runs; "
                f"whisker: minimum to maximum of those runs.")
    else:
        runs = (f"Each bar: median of n = {counts[0]}–{counts[-1]} runs (n = {common} unless marked); "
                f"whisker: minimum to maximum of those runs.")
    if log:
        runs += " Logarithmic value axis."
    if dropped:
        runs += f" {dropped} value{'s' if dropped != 1 else ''} ≤ 0 left out (no place on a log axis)."
    out = []
    for text in [runs] + list(captions or []):
        out.extend(wrap(text, width_px))
    return out, common


def whisker_v(x, y_lo, y_hi):
    return (f'<line x1="{x:.1f}" y1="{y_lo:.1f}" x2="{x:.1f}" y2="{y_hi:.1f}" stroke="{WHISKER}"/>'
            f'<line x1="{x - 3:.1f}" y1="{y_lo:.1f}" x2="{x + 3:.1f}" y2="{y_lo:.1f}" stroke="{WHISKER}"/>'
            f'<line x1="{x - 3:.1f}" y1="{y_hi:.1f}" x2="{x + 3:.1f}" y2="{y_hi:.1f}" stroke="{WHISKER}"/>')


def whisker_h(y, x_lo, x_hi):
    return (f'<line x1="{x_lo:.1f}" y1="{y:.1f}" x2="{x_hi:.1f}" y2="{y:.1f}" stroke="{WHISKER}"/>'
            f'<line x1="{x_lo:.1f}" y1="{y - 3:.1f}" x2="{x_lo:.1f}" y2="{y + 3:.1f}" stroke="{WHISKER}"/>'
            f'<line x1="{x_hi:.1f}" y1="{y - 3:.1f}" x2="{x_hi:.1f}" y2="{y + 3:.1f}" stroke="{WHISKER}"/>')


def bar_title(g, s, st):
    return escape(f"{g} / {s}: median {st.med:g}, min {st.lo:g}, max {st.hi:g}, n = {st.n}")


# ---------------------------------------------------------------- columns

def render_columns(groups, series, stats, dropped, title, ylabel, refline, log, captions, max_width):
    left, right, top = 70, 20, 50
    plot_h = 320
    bar_w, gap = 16, 18
    label_w = max(len(g) for g in groups) * CHAR_W + 10
    # Narrower bars before a wider chart.
    while bar_w > 6 and left + right + len(groups) * max(len(series) * bar_w + gap, label_w) > max_width:
        bar_w -= 1
    group_w = max(len(series) * bar_w + gap, label_w)
    plot_w = max(500, len(groups) * group_w)
    group_w = plot_w / len(groups)  # spread the clusters over the full width
    width = left + plot_w + right

    legend_col_w = 24 + CHAR_W * max(len(s) for s in series)
    legend_cols = max(1, int(plot_w // legend_col_w))
    legend_h = 18 * math.ceil(len(series) / legend_cols)
    caps, common = caption_lines(stats, captions, width - 20, log, dropped)

    vals = [v for st in stats.values() for v in (st.lo, st.hi)] or [1.0]
    if refline is not None:
        vals.append(refline)
    # Leave ~40 px above the highest whisker for its rotated value label.
    headroom = 40 / plot_h
    if log:
        lo = nice_floor_log(min(vals) / 1.3)
        span = math.log10(max(vals)) - math.log10(lo)
        hi = nice_ceiling_log(10 ** (math.log10(lo) + max(span, 0.3) / (1 - headroom)))
    else:
        lo = 0.0
        hi = nice_ceiling(max(max(vals), 0) / (1 - headroom) or 1.0)
    ax = Axis(lo, hi, top + plot_h, top, log)

    out = svg_open(width, top + plot_h + 50 + legend_h + 16 * len(caps) + 10, title)
    for v in ax.ticks():
        yy = ax(v)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(tick_label(v) if log else fmt(v) if hi < 50 else f"{v:.0f}")}</text>')
    out.append(f'<text transform="translate(16,{top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel + (" (log scale)" if log else ""))}</text>')

    base = top + plot_h
    for gi, g in enumerate(groups):
        x0 = left + gi * group_w + (group_w - len(series) * bar_w) / 2
        for si, s in enumerate(series):
            st = stats.get((g, s))
            if st is None:
                continue
            x = x0 + si * bar_w
            yy = ax(st.med)
            out.append(f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar_w - 2}" height="{base - yy:.1f}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"><title>{bar_title(g, s, st)}</title></rect>')
            cx = x + (bar_w - 2) / 2
            if st.n > 1:
                out.append(whisker_v(cx, ax(st.lo), ax(st.hi)))
            label = fmt(st.med) + (f" n={st.n}" if st.n != common else "")
            out.append(f'<text transform="translate({cx + 3:.1f},{ax(st.hi) - 6:.1f}) rotate(-90)" '
                       f'font-size="9">{escape(label)}</text>')
        out.append(f'<text x="{x0 + len(series) * bar_w / 2:.1f}" y="{base + 16}" '
                   f'text-anchor="middle">{escape(g)}</text>')

    if refline is not None:
        yy = ax(refline)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
                   f'stroke="black" stroke-dasharray="5,3"/>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{base}" stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="black"/>')

    for si, s in enumerate(series):
        lx = left + (si % legend_cols) * legend_col_w
        ly = base + 40 + (si // legend_cols) * 18
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly}">{escape(s)}</text>')
    cy = base + 40 + legend_h + 8
    for i, line in enumerate(caps):
        out.append(f'<text x="10" y="{cy + 16 * i}" font-size="10" fill="#444">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- rows

def render_rows(groups, series, stats, dropped, title, ylabel, refline, log, captions, max_width):
    width = max(600, max_width)
    label_w = min(190, max(len(g) for g in groups) * CHAR_W + 14)
    text_w = 150  # right-hand column: "median (min–max)"
    left, right = 10 + label_w, 10
    plot_x0, plot_x1 = left, width - right - text_w
    bar_h, bar_gap, block_pad = 11, 2, 7

    # Legend on top, as many columns as fit.
    legend_col_w = 24 + CHAR_W * max(len(s) for s in series)
    legend_cols = max(1, int((width - 20) // legend_col_w))
    legend_h = 16 * math.ceil(len(series) / legend_cols)
    top = 40 + legend_h + 8

    vals = [v for st in stats.values() for v in (st.lo, st.hi)] or [1.0]
    if refline is not None:
        vals.append(refline)
    if log:
        # Ends on round values a little beyond the data.
        lo = nice_floor_log(min(vals) / 1.1, (1, 1.5, 2, 3, 5, 7))
        hi = nice_ceiling_log(max(vals) * 1.1, (1, 1.5, 2, 3, 5, 7))
    else:
        lo = min(0.0, min(vals))
        hi = nice_ceiling(max(vals) * 1.08)
    ax = Axis(lo, hi, plot_x0, plot_x1, log)
    base_v = refline if refline is not None else (lo if log else 0.0)

    # Row positions: each group a block of its present series.
    blocks, y = [], top
    for g in groups:
        present = [(si, s) for si, s in enumerate(series) if (g, s) in stats]
        if not present:
            continue
        h = block_pad * 2 + len(present) * (bar_h + bar_gap) - bar_gap
        blocks.append((g, present, y, h))
        y += h
    plot_y1 = y
    caps, common = caption_lines(stats, captions, width - 20, log, dropped)
    height = plot_y1 + 44 + 16 * len(caps) + 8

    out = svg_open(width, height, title)
    for si, s in enumerate(series):
        lx = 10 + (si % legend_cols) * legend_col_w
        ly = 40 + (si // legend_cols) * 16 + 8
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly}">{escape(s)}</text>')

    for v in ax.ticks():
        xx = ax(v)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{plot_y1}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{plot_y1 + 14}" text-anchor="middle">{escape(tick_label(v))}</text>')
    out.append(f'<text x="{(plot_x0 + plot_x1) / 2:.1f}" y="{plot_y1 + 32}" text-anchor="middle">'
               f'{escape(ylabel + (" (log scale)" if log else ""))}</text>')
    out.append(f'<text x="{plot_x1 + 8}" y="{top - 4}" font-size="10" fill="#444">median (min–max)</text>')

    for bi, (g, present, y0, h) in enumerate(blocks):
        if bi % 2 == 0:
            out.append(f'<rect x="4" y="{y0}" width="{width - 8}" height="{h}" fill="#f4f4f4"/>')
        out.append(f'<text x="{plot_x0 - 8}" y="{y0 + h / 2 + 4:.1f}" text-anchor="end" '
                   f'font-weight="bold">{escape(g)}</text>')
        for ri, (si, s) in enumerate(present):
            st = stats[(g, s)]
            yy = y0 + block_pad + ri * (bar_h + bar_gap)
            xa, xb = sorted((ax(base_v), ax(st.med)))
            out.append(f'<rect x="{xa:.1f}" y="{yy}" width="{max(xb - xa, 1):.1f}" height="{bar_h}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"><title>{bar_title(g, s, st)}</title></rect>')
            if st.n > 1:
                out.append(whisker_h(yy + bar_h / 2, ax(st.lo), ax(st.hi)))
            text = fmt(st.med) + (f" ({fmt(st.lo)}–{fmt(st.hi)})" if st.n > 1 else "")
            if st.n != common:
                text += f" n={st.n}"
            out.append(f'<text x="{plot_x1 + 8}" y="{yy + bar_h - 2}" font-size="10">{escape(text)}</text>')

    if refline is not None:
        xx = ax(refline)
        out.append(f'<line x1="{xx:.1f}" y1="{top - 2}" x2="{xx:.1f}" y2="{plot_y1}" '
                   f'stroke="black" stroke-dasharray="5,3"/>')
    out.append(f'<line x1="{plot_x0}" y1="{plot_y1}" x2="{plot_x1}" y2="{plot_y1}" stroke="black"/>')
    for i, line in enumerate(caps):
        out.append(f'<text x="10" y="{plot_y1 + 50 + 16 * i}" font-size="10" fill="#444">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render(groups, series, values, title, ylabel, refline=None, log=False, captions=None,
           layout="columns", max_width=900):
    """Return the SVG text. values: (group, series) -> a number or a list of
    per-run numbers."""
    stats, dropped = stats_of(values, log)
    groups = [g for g in groups if any((g, s) in stats for s in series)] or ["(no data)"]
    series = series or ["-"]
    draw = render_rows if layout == "rows" else render_columns
    return draw(groups, series, stats, dropped, title, ylabel, refline, log, captions, max_width)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--title", required=True)
    ap.add_argument("--ylabel", required=True, help="label of the value axis")
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="TSV file (default: stdin)")
    ap.add_argument("--refline", type=float, help="dashed reference line at this value")
    ap.add_argument("--log", action="store_true", help="logarithmic value axis")
    ap.add_argument("--layout", choices=("columns", "rows"), default="columns")
    ap.add_argument("--width", type=int, default=900, help="maximum width in pixels (default 900)")
    ap.add_argument("--caption", action="append", default=[], help="a caption line (repeatable)")
    a = ap.parse_args()

    if a.data:
        with open(a.data) as f:
            groups, series, values = read_rows(f)
    else:
        groups, series, values = read_rows(sys.stdin)
    # An empty input still gives a valid SVG, so a results directory is complete.
    with open(a.out, "w") as f:
        f.write(render(groups, series, values, a.title, a.ylabel, a.refline, a.log,
                       a.caption, a.layout, a.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
