#!/usr/bin/env python3
"""Generate a deterministic benchmark tree (stdlib only).

Same arguments and seed -> same directory layout, file names, sizes and
content, so runs on different days or machines copy the same thing.

Layouts:
  fixed    N files of exactly --size bytes spread round-robin over --dirs
           flat directories (the "10,000 x 4 KiB in 100 dirs" case).
  uniform  N files with sizes uniform in [--min-size, --max-size], in
           --dirs directories nested irregularly (a realistic source tree).
  lognormal  N files with log-normally distributed sizes (many small files,
           some medium, a few large) scaled so they add up to --total bytes,
           in --dirs nested directories: a mixed home/project directory.

Content is taken from a seeded pseudo-random pool, so it is incompressible
and not zeros (no tool can skip or compress it), without the cost of
generating every byte from the PRNG.

Prints "files=N dirs=D bytes=B" on success.
"""

import argparse
import math
import os
import random
import sys

POOL_BYTES = 16 << 20  # content pool; files take slices of it (wrapping)
MAX_DEPTH = 5  # nesting limit for generated directories


def make_dirs(rng, root, count):
    """Create `count` directories under root with irregular nesting: each new
    directory's parent is an existing one picked at random (biased towards
    shallow ones by the depth limit), like real source or home trees."""
    dirs = [("", 0)]  # (relative path, depth); "" is the root itself
    for i in range(count):
        parent, depth = rng.choice(dirs)
        if depth >= MAX_DEPTH:
            parent, depth = "", 0
        rel = os.path.join(parent, f"d{i:04d}")
        os.mkdir(os.path.join(root, rel))
        dirs.append((rel, depth + 1))
    return [d for d, _ in dirs]


def flat_dirs(root, count):
    """`count` sibling directories directly under root."""
    rels = [f"d{i:03d}" for i in range(count)]
    for rel in rels:
        os.mkdir(os.path.join(root, rel))
    return rels


def lognormal_sizes(rng, n, total, median, sigma, cap):
    """n log-normal sizes around `median` bytes, capped at `cap`, then scaled
    so they add up to about `total` (the scale keeps the distribution's
    shape: most files small, a long tail of big ones)."""
    mu = math.log(median)
    raw = [min(cap, rng.lognormvariate(mu, sigma)) for _ in range(n)]
    scale = total / sum(raw)
    return [min(cap, int(s * scale)) for s in raw]


def write_file(path, size, pool, offset):
    """Write `size` bytes of the pool starting at `offset`, wrapping."""
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = pool[offset : offset + left]
            f.write(chunk)
            left -= len(chunk)
            offset = 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="directory to create (must not exist)")
    ap.add_argument("--layout", choices=["fixed", "uniform", "lognormal"], required=True)
    ap.add_argument("--files", type=int, required=True)
    ap.add_argument("--dirs", type=int, required=True)
    ap.add_argument("--size", type=int, default=4096, help="fixed: bytes per file")
    ap.add_argument("--min-size", type=int, default=0, help="uniform: smallest file")
    ap.add_argument("--max-size", type=int, default=2048, help="uniform: largest file")
    ap.add_argument("--total", type=int, default=1 << 30, help="lognormal: total bytes")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    pool = rng.randbytes(POOL_BYTES)
    os.mkdir(a.out)

    if a.layout == "fixed":
        dirs = flat_dirs(a.out, a.dirs)
        sizes = [a.size] * a.files
    elif a.layout == "uniform":
        dirs = make_dirs(rng, a.out, a.dirs)
        sizes = [rng.randint(a.min_size, a.max_size) for _ in range(a.files)]
    else:
        dirs = make_dirs(rng, a.out, a.dirs)
        # Median 4 KiB, sigma 2.3: ~70 % of files under 16 KiB, a few
        # hundred over 1 MiB, the largest tens of MiB (capped at 1/8 of the
        # total so one file never dominates).
        sizes = lognormal_sizes(rng, a.files, a.total, 4096, 2.3, max(1, a.total // 8))

    total = 0
    for i, size in enumerate(sizes):
        # fixed: round-robin keeps every directory the same size; the other
        # layouts place files at random, so some directories are crowded.
        rel = dirs[i % len(dirs)] if a.layout == "fixed" else rng.choice(dirs)
        name = f"f{i:06d}.dat"
        write_file(os.path.join(a.out, rel, name), size, pool, rng.randrange(POOL_BYTES))
        total += size

    ndirs = len(dirs) - (0 if a.layout == "fixed" else 1)
    print(f"files={len(sizes)} dirs={ndirs} bytes={total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
