# compat/lib.sh — fixture helpers for scenario `setup:` lines (sourced by the runner before
# setup, with `set -e`, cwd = T/work, umask 022). Every fixture uses FIXED mtimes so rsync's
# quick check (size + whole-second mtime) behaves the same on every run.

T_BASE=1600000000

# stamp EPOCH PATH... — set the mtime of PATHs (symlinks themselves, not their targets).
stamp() {
    local t=$1
    shift
    touch -h -d "@$t" -- "$@"
}

# mkfile PATH SIZE [EPOCH] — regular file of SIZE bytes with deterministic content that
# depends on PATH (so files of equal size still differ); mode 0644; mtime EPOCH (default T_BASE).
mkfile() {
    local p=$1 size=$2 t=${3:-$T_BASE}
    mkdir -p -- "$(dirname -- "$p")"
    if [ "$size" -eq 0 ]; then
        : >"$p"
    else
        yes "data:$p" | head -c "$size" >"$p"
    fi
    chmod 0644 -- "$p"
    stamp "$t" "$p"
}

# mkdirs EPOCH DIR... — create directories (mode 0755) and give them mtime EPOCH.
mkdirs() {
    local t=$1
    shift
    mkdir -p -- "$@"
    chmod 0755 -- "$@"
    stamp "$t" "$@"
}

# setx PATH NAME VALUE — set an extended attribute (python3, so no `attr` package needed);
# the path's mtime is not changed by this.
setx() {
    python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)' "$1" "$2" "$3"
}

# tree_basic DIR — a small tree:
#   empty (0 B), small.txt, medium.bin (5000 B), large.bin (300000 B), script.sh (0755),
#   sub/a.txt, sub/deeper/b.txt, sub/deeper/empty-dir/,
#   link -> small.txt, dangling -> nowhere, dirlink -> sub, abslink -> /etc/hostname
tree_basic() {
    local d=$1
    mkdir -p -- "$d/sub/deeper/empty-dir"
    mkfile "$d/empty" 0 1600000001
    printf 'hello world\n' >"$d/small.txt"
    chmod 0644 "$d/small.txt"
    stamp 1600000002 "$d/small.txt"
    mkfile "$d/medium.bin" 5000 1600000003
    mkfile "$d/large.bin" 300000 1600000004
    mkfile "$d/script.sh" 30 1600000005
    chmod 0755 "$d/script.sh"
    mkfile "$d/sub/a.txt" 100 1600000006
    mkfile "$d/sub/deeper/b.txt" 10 1600000007
    ln -s small.txt "$d/link"
    ln -s nowhere "$d/dangling"
    ln -s sub "$d/dirlink"
    ln -s /etc/hostname "$d/abslink"
    stamp 1600000010 "$d/link"
    stamp 1600000011 "$d/dangling"
    stamp 1600000012 "$d/dirlink"
    stamp 1600000013 "$d/abslink"
    chmod 0755 "$d" "$d/sub" "$d/sub/deeper" "$d/sub/deeper/empty-dir"
    stamp 1600000100 "$d/sub/deeper/empty-dir"
    stamp 1600000101 "$d/sub/deeper"
    stamp 1600000102 "$d/sub"
    stamp 1600000103 "$d"
}

# tree_flat DIR — three plain files and nothing else (a.txt 10 B, b.txt 20 B, c.txt 0 B).
tree_flat() {
    local d=$1
    mkdir -p -- "$d"
    mkfile "$d/a.txt" 10 1600000001
    mkfile "$d/b.txt" 20 1600000002
    mkfile "$d/c.txt" 0 1600000003
    chmod 0755 "$d"
    stamp 1600000100 "$d"
}

# tree_specials DIR — reg (file), fifo, sock (unix socket), cdev (char 1,3), bdev (block 7,0).
tree_specials() {
    local d=$1
    mkdir -p -- "$d"
    mkfile "$d/reg" 10 1600000001
    mkfifo -m 0644 "$d/fifo"
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$d/sock"
    chmod 0755 "$d/sock"
    mknod -m 0644 "$d/cdev" c 1 3
    mknod -m 0640 "$d/bdev" b 7 0
    stamp 1600000002 "$d/fifo"
    stamp 1600000003 "$d/sock"
    stamp 1600000004 "$d/cdev"
    stamp 1600000005 "$d/bdev"
    chmod 0755 "$d"
    stamp 1600000100 "$d"
}

# tree_names DIR — awkward names: spaces, a newline, a non-UTF-8 byte, a 255-byte name,
# leading dash, unicode, a tab, a backslash, a quote.
tree_names() {
    local d=$1
    mkdir -p -- "$d"
    mkfile "$d/with space" 5 1600000001
    mkfile "$d/new"$'\n'"line" 6 1600000002
    mkfile "$d/bad"$'\xff'"byte" 7 1600000003
    mkfile "$d/$(printf 'n%.0s' $(seq 1 255))" 8 1600000004
    mkfile "$d/-dash" 9 1600000005
    mkfile "$d/ünïcødé-日本" 10 1600000006
    mkfile "$d/tab"$'\t'"name" 11 1600000007
    mkfile "$d/back\\slash" 12 1600000008
    mkfile "$d/quote\"s'" 13 1600000009
    mkdirs 1600000050 "$d/dir with space"
    mkfile "$d/dir with space/inner file" 3 1600000010
    stamp 1600000050 "$d/dir with space"
    chmod 0755 "$d"
    stamp 1600000100 "$d"
}

# tree_order DIR — names that exercise rsync's sort order: B _ a a.b a- A b Z 1 ~ aa,
# directories a.d/ and A/ and a_/ (each with one file), and a dir `c` next to a file `c.txt`.
tree_order() {
    local d=$1
    mkdir -p -- "$d"
    local n i=1
    for n in B _ a.b a- A b Z 1 '~' aa c.txt ab; do
        mkfile "$d/$n" "$i" $((1600000000 + i))
        i=$((i + 1))
    done
    mkfile "$d/a.d/f" 1 1600000020
    mkfile "$d/A.dir/f" 2 1600000021
    mkfile "$d/a_/f" 3 1600000022
    mkfile "$d/c/f" 4 1600000023
    mkfile "$d/a/f" 5 1600000024
    stamp 1600000030 "$d/a.d" "$d/A.dir" "$d/a_" "$d/c" "$d/a"
    chmod 0755 "$d" "$d/a.d" "$d/A.dir" "$d/a_" "$d/c" "$d/a"
    stamp 1600000100 "$d"
}

# tree_deep DIR — six nested levels l1/…/l6, one file per level, plus an empty leaf dir.
tree_deep() {
    local d=$1 p=$1 i
    mkdir -p -- "$d"
    for i in 1 2 3 4 5 6; do
        p="$p/l$i"
        mkdir -p -- "$p"
        mkfile "$p/f$i" $((i * 7)) $((1600000000 + i))
    done
    mkdir -p -- "$p/leaf"
    stamp 1600000050 "$p/leaf"
    # directories deepest first
    for i in 6 5 4 3 2 1; do
        chmod 0755 "$p"
        stamp $((1600000060 + i)) "$p"
        p=$(dirname -- "$p")
    done
    chmod 0755 "$d"
    stamp 1600000100 "$d"
}

# logn — prints ./t.log (a --log-file) normalised, then removes it (so it is not compared
# as a file): each line's `YYYY/MM/DD HH:MM:SS [PID] ` prefix becomes `LOG ` (a line with a
# malformed prefix is left as it is, and differs), byte counts of `sent … received …` lines,
# rates, speedup and the volatile --stats lines become N, and the final line's source
# location becomes ` at FILE(LINE) [ROLE]` as the runner's normaliser does for stderr.
logn() {
    sed -E 's#[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \[[0-9]+\] #LOG #g; s#(sent|received|Total bytes sent:|Total bytes received:|File list size:|generation time:|transfer time:) [0-9.,]+[KMGTP]?#\1 N#g; s#[0-9.,]+[KMGTP]? bytes/sec#N bytes/sec#g; s#speedup is [0-9.,]+#speedup is N#g; s# at [^ ]+\([0-9]+\) \[[A-Za-z]+=[^]]*\]$# at FILE(LINE) [ROLE]#' t.log && rm -f t.log
}

# progn ARGS — runs the tool (stdout is a pipe, so progress is rsync's text) with carriage
# returns turned into newlines, rates and times masked (RATE, TIME) and a failure shown as
# `rc=N`; offsets, percentages and the xfr#/to-chk counters are kept.
progn() {
    { "$TOOL" "$@" || echo "rc=$?"; } | tr '\r' '\n' |
        sed -E 's# +[0-9]+\.[0-9]{2}[kMG]B/s# RATE#g; s# +[0-9]+:[0-9]{2}:[0-9]{2}| +\?\?:\?\?:\?\?# TIME#g'
}

# fresh_second — sleeps until just after the start of the next wall-clock second, so that
# what a step does next (touch, then a run) falls in one second even on a loaded machine.
fresh_second() {
    local ns
    ns=$(date +%N)
    local wait=$((1000000000 - 10#$ns + 5000000))
    sleep "$((wait / 1000000000)).$(printf '%09d' $((wait % 1000000000)))"
}

# _compat_settle — run by the runner after all setup lines: every entry below cwd whose
# mtime was left at "now" (within the last hour) gets mtime T_BASE, so nothing depends on
# which second the setup ran in. Explicit stamps (older or future) are kept.
_compat_settle() {
    local now
    now=$(date +%s)
    find . -mindepth 1 -newermt "@$((now - 3600))" ! -newermt "@$((now + 3600))" \
        -exec touch -h -d "@$T_BASE" -- {} +
}

# as_nobody CMD... — run CMD as uid/gid 65534 without supplementary groups (scenarios for a
# non-root receiver; `sh: as_nobody "$TOOL" -a src/ dst/`). The work dir is opened to
# everyone first (what is below it keeps its modes, so the source must be readable by all).
# When the user cannot run "$TOOL" where it is (a build dir under a private home), a copy
# named like it is run instead. A failing CMD prints "exit N" instead of failing the step,
# so that both tools' statuses are compared.
as_nobody() {
    chmod o+x ..
    chmod a+rwx .
    local as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    if [ "$1" = "$TOOL" ] && ! "${as[@]}" test -x "$TOOL"; then
        local bin
        bin="$(cd .. && pwd)/nobody-bin"
        mkdir -p "$bin"
        chmod 0755 "$bin"
        cp -L "$TOOL" "$bin/${TOOL##*/}"
        chmod 0755 "$bin/${TOOL##*/}"
        set -- "$bin/${TOOL##*/}" "${@:2}"
    fi
    local rc=0
    "${as[@]}" "$@" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "exit $rc"
    fi
}
