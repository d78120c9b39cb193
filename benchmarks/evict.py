#!/usr/bin/env python3
"""Evict files from the page cache without root: sync, then
posix_fadvise(POSIX_FADV_DONTNEED) on every regular file under each PATH
(as `vmtouch -e` does). Used for cold-cache runs where writing
/proc/sys/vm/drop_caches is not allowed or would disturb others.

A loop-mounted benchmark file system has a second cache below it: the
image file's pages in the host file system's page cache. Name the image
too (it is only read, never written, here), or reads that look cold are
memory copies:

    evict.py SRC_TREE /var/tmp/bench.img

Prints the number of files and bytes evicted with -v. Exit 0 even if a
file vanished meanwhile.
"""
import os
import sys


def evict(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        size = os.fstat(fd).st_size
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        return size
    finally:
        os.close(fd)


def main(argv):
    verbose = "-v" in argv
    paths = [a for a in argv if a != "-v"]
    if not paths:
        sys.exit("usage: evict.py [-v] PATH...")
    os.sync()
    files = total = 0
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            for root, _dirs, names in os.walk(p):
                for n in names:
                    full = os.path.join(root, n)
                    if os.path.isfile(full) and not os.path.islink(full):
                        total += evict(full)
                        files += 1
        elif os.path.isfile(p):
            total += evict(p)
            files += 1
    if verbose:
        print(f"evicted {files} files, {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
