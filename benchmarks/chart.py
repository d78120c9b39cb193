#!/usr/bin/env python3
"""Grouped bar chart as a standalone SVG file (python3 stdlib only).

Input (stdin or --data FILE): tab-separated lines "group<TAB>series<TAB>value".
Groups become clusters along the x axis (e.g. file sizes or workloads), series
become the coloured bars inside each cluster (e.g. tools or copy engines), in
the order they first appear. Missing (group, series) pairs leave a gap.
Lines starting with '#' and empty values are ignored.

  chart.py --title "Throughput" --ylabel "MB/s" --out throughput.svg < data.tsv
  chart.py --refline 1 ...   draws a dashed horizontal line at y=1 (ratios)
"""

import argparse
import math
import sys
from xml.sax.saxutils import escape

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def read_rows(stream):
    """Parse the TSV into an ordered list of groups, series and a value map."""
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
        values[(g, s)] = v
    return groups, series, values


def nice_ceiling(x):
    """Smallest 1/2/2.5/5 x 10^k at or above x, so the axis ends on a round
    number."""
    if x <= 0:
        return 1.0
    exp = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= x:
            return m * 10 ** exp
    return 10 ** (exp + 1)


def fmt(v):
    """Short label for a value: 3 significant digits."""
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def render(groups, series, values, title, ylabel, refline):
    """Return the SVG text."""
    bar_w, gap, char_w = 16, 18, 7  # char_w: rough width of an 11px glyph
    left, right, top, bottom = 70, 20, 50, 50
    # A cluster is as wide as its bars or its label, whichever is wider.
    label_w = max(len(g) for g in groups) * char_w + 10
    group_w = max(len(series) * bar_w + gap, label_w)
    plot_w = max(500, len(groups) * group_w)
    group_w = plot_w / len(groups)  # spread the clusters over the full width
    # Legend: as many columns as the longest series name allows.
    legend_col_w = 24 + char_w * max(len(s) for s in series)
    legend_cols = max(1, int(plot_w // legend_col_w))
    legend_h = 18 * math.ceil(len(series) / legend_cols)
    plot_h = 320
    width = left + plot_w + right
    height = top + plot_h + bottom + legend_h

    vmax = max(list(values.values()) + ([refline] if refline is not None else []) + [0])
    ymax = nice_ceiling(vmax * 1.08)

    def y(v):
        return top + plot_h - (v / ymax) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">'
           f'{escape(title)}</text>']

    # Horizontal grid with 5 steps and labels.
    for i in range(6):
        v = ymax * i / 5
        yy = y(v)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="#ddd"/>')
        tick = f"{v:.0f}" if ymax >= 50 else fmt(v)
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{escape(tick)}</text>')
    out.append(f'<text transform="translate(16,{top + plot_h / 2}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')

    # Bars, with the value printed vertically above each one.
    for gi, g in enumerate(groups):
        x0 = left + gi * group_w + (group_w - len(series) * bar_w) / 2
        for si, s in enumerate(series):
            v = values.get((g, s))
            if v is None:
                continue
            x = x0 + si * bar_w
            yy = y(v)
            out.append(f'<rect x="{x:.1f}" y="{yy:.1f}" width="{bar_w - 2}" height="{top + plot_h - yy:.1f}" '
                       f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(f"{g} / {s}: {v:g}")}</title></rect>')
            out.append(f'<text transform="translate({x + bar_w / 2:.1f},{yy - 3:.1f}) rotate(-90)" '
                       f'font-size="9">{escape(fmt(v))}</text>')
        out.append(f'<text x="{x0 + len(series) * bar_w / 2:.1f}" y="{top + plot_h + 16}" '
                   f'text-anchor="middle">{escape(g)}</text>')

    if refline is not None:
        yy = y(refline)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
                   f'stroke="black" stroke-dasharray="5,3"/>')

    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>')

    # Legend below the axis labels.
    for si, s in enumerate(series):
        lx = left + (si % legend_cols) * legend_col_w
        ly = top + plot_h + 40 + (si // legend_cols) * 18
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[si % len(PALETTE)]}"/>')
        out.append(f'<text x="{lx + 14:.1f}" y="{ly}">{escape(s)}</text>')

    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--title", required=True)
    ap.add_argument("--ylabel", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", help="TSV file (default: stdin)")
    ap.add_argument("--refline", type=float, help="dashed reference line at this value")
    a = ap.parse_args()

    if a.data:
        with open(a.data) as f:
            groups, series, values = read_rows(f)
    else:
        groups, series, values = read_rows(sys.stdin)
    if not values:
        # Still write a valid SVG so the results directory is complete.
        groups, series, values = ["(no data)"], ["-"], {}
    with open(a.out, "w") as f:
        f.write(render(groups, series, values, a.title, a.ylabel, a.refline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
