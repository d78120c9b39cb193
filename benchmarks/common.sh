# shellcheck shell=bash
# Shared helpers for the arsync benchmark scripts (zero_copy_bench.sh,
# compare_rsync.sh). Source it; it defines functions and a few globals and
# runs nothing by itself except setting BENCH_DIR and REPO_ROOT.
#
# Conventions:
#   - every helper does one job and reports errors on stderr via die/warn;
#   - sizes are in bytes unless a name says otherwise (_kib, _mb);
#   - globals that callers read are UPPER_CASE and documented where set.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# Start time of this invocation; part of results-dir and destination names.
RUN_STAMP=$(date +%Y%m%d_%H%M%S)
# cargo-installed peers (xcp, fcp) and cargo itself live here on a fresh
# machine where the login profile has not put them on PATH.
if [[ -d "$HOME/.cargo/bin" && ":$PATH:" != *":$HOME/.cargo/bin:"* ]]; then
  PATH="$PATH:$HOME/.cargo/bin"
fi

# ---------------------------------------------------------------- messages

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------- numbers

# size_to_bytes 1M -> 1048576. Accepts K/M/G/T suffixes (binary units, as
# dd/head do), or plain bytes.
size_to_bytes() {
  local s=$1 n unit
  [[ $s =~ ^([0-9]+)([KMGTkmgt]?)$ ]] || die "bad size '$s' (expected e.g. 1M, 10G)"
  n=${BASH_REMATCH[1]}
  unit=${BASH_REMATCH[2]^^}
  case $unit in
    '') echo "$n" ;;
    K) echo $((n << 10)) ;;
    M) echo $((n << 20)) ;;
    G) echo $((n << 30)) ;;
    T) echo $((n << 40)) ;;
  esac
}

# median < numbers, one per line. Prints the median (mean of the two middle
# values for an even count); prints nothing for empty input.
median() {
  sort -g | awk '{ v[NR] = $1 }
    END { if (NR == 0) exit
          if (NR % 2) printf "%.6g\n", v[(NR + 1) / 2]
          else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Floating-point helper: calc EXPR prints awk's evaluation with 6 digits.
calc() { awk "BEGIN { printf \"%.6g\n\", $1 }"; }

# ---------------------------------------------------------------- timing

# build_runstat DIR -> compiles benchmarks/runstat.rs into DIR/runstat
# (when missing or older than the source) and sets RUNSTAT. Plain rustc,
# no crates: it is there wherever arsync itself can be built.
RUNSTAT=''
build_runstat() {
  local dir=$1
  RUNSTAT="$dir/runstat"
  if [[ ! -x $RUNSTAT || "$BENCH_DIR/runstat.rs" -nt $RUNSTAT ]]; then
    require_cmd rustc "install the Rust toolchain (rustup)"
    mkdir -p "$dir"
    rustc -O --edition 2021 -o "$RUNSTAT" "$BENCH_DIR/runstat.rs" ||
      die "could not compile benchmarks/runstat.rs"
  fi
}

# time_cmd OUTFILE CMD... runs CMD once and writes one line to OUTFILE:
#   "rc wall_s user_s sys_s max_rss_kib machine_busy_s"
# CMD's stdout/stderr go to OUTFILE.log so failures can be inspected.
# runstat reports the same wait4() rusage that /usr/bin/time -f '%e %U %S %M'
# prints, at microsecond instead of 10 ms resolution (see runstat.rs).
# The command's exit code is the first field; time_cmd itself succeeds.
time_cmd() {
  local out=$1
  shift
  "$RUNSTAT" "$out" "$out.log" "$@"
}

# cpu_pct WALL USER SYS -> (user+sys)/wall in percent; >100 means more
# than one core busy.
cpu_pct() {
  awk -v w="$1" -v u="$2" -v s="$3" 'BEGIN { if (w > 0) printf "%.1f\n", (u + s) * 100 / w; else print "nan" }'
}

# other_cpu_pct WALL USER SYS MACHINE_BUSY -> CPU that other processes used
# during the run, in percent of one core; empty for runs under 0.25 s,
# where /proc/stat's 10 ms ticks cannot tell. Well above 0 means something
# else competed with the measurement.
other_cpu_pct() {
  awk -v w="$1" -v u="$2" -v s="$3" -v b="$4" 'BEGIN { o = b - u - s; if (o < 0) o = 0
    if (w >= 0.25) printf "%.1f\n", o * 100 / w; else print "" }'
}

# ---------------------------------------------------------------- files & dirs

# make_results_dir KIND -> creates ./benchmark-results-KIND-YYYYMMDD_HHMMSS/
# in the current directory (results belong to whoever ran the script, not
# to the repo) and prints its absolute path.
make_results_dir() {
  local dir
  dir="$PWD/benchmark-results-$1-$RUN_STAMP"
  # Two runs in the same second would collide: add a counter then.
  local base=$dir n=1
  while [[ -e $dir ]]; do
    dir="$base-$n"
    n=$((n + 1))
  done
  mkdir -p "$dir"
  echo "$dir"
}

# fresh_dir PARENT LABEL -> creates a never-used directory under PARENT and
# sets FRESH_DIR to it (a global, not stdout: the counter must survive, and
# $(...) would run it in a subshell). Why never-used: ext4 here creates files
# 5-15x slower for minutes after a mass deletion, so a timed run must never
# write where a tree was just deleted. The name embeds the invocation's start
# time, PID and a counter, so it is unique across invocations.
FRESH_COUNTER=0
FRESH_DIR=''
fresh_dir() {
  local parent=$1 label=$2
  FRESH_COUNTER=$((FRESH_COUNTER + 1))
  FRESH_DIR="$parent/$label.$RUN_STAMP.$$.$FRESH_COUNTER"
  if [[ -e $FRESH_DIR ]]; then die "destination $FRESH_DIR already exists (should be impossible)"; fi
  mkdir -p "$FRESH_DIR"
}

# free_bytes DIR -> bytes available to this user on DIR's filesystem.
free_bytes() { df -Pk "$1" | awk 'NR == 2 { printf "%.0f\n", $4 * 1024 }'; }

# free_inodes DIR -> inodes available on DIR's filesystem.
free_inodes() { df -Pi "$1" | awk 'NR == 2 { print $4 }'; }

# have_space DIR BYTES [INODES] -> true when DIR's filesystem has room,
# keeping a 2 GiB safety margin so the machine stays usable.
have_space() {
  local dir=$1 need=$2 inodes=${3:-0} margin=$((2 << 30))
  (($(free_bytes "$dir") >= need + margin)) || return 1
  (($(free_inodes "$dir") >= inodes + 10000)) || return 1
}

# human BYTES -> e.g. "1.0 GiB"
human() {
  awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u, " "); i = 1
    while (b >= 1024 && i < 5) { b /= 1024; i++ }
    printf (i == 1 ? "%d %s\n" : "%.1f %s\n"), b, u[i] }'
}

# tree_stats DIR -> "files bytes" counting regular files only (directory
# sizes differ between filesystems and tools, file content does not).
tree_stats() {
  find "$1" -type f -printf '%s\n' | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'
}

# ---------------------------------------------------------------- source data

# ensure_random_file PATH BYTES -> creates PATH with BYTES of random data
# unless it already exists with that size. Random, not zeros: a zero file
# could be skipped (sparse detection) or compressed by some tool or
# filesystem, which would not measure a real copy. Written to a .partial
# name first so an interrupted generation is never mistaken for data.
ensure_random_file() {
  local path=$1 bytes=$2
  if [[ -f $path && $(stat -c %s "$path") == "$bytes" ]]; then
    return 0
  fi
  log "generating $(human "$bytes") of random data: $path (once; reused by later runs)"
  mkdir -p "$(dirname "$path")"
  head -c "$bytes" /dev/urandom >"$path.partial"
  mv "$path.partial" "$path"
  # Write it back now so the first timed runs do not pay for it.
  sync
}

# ---------------------------------------------------------------- page cache

# can_drop_caches -> true when writing /proc/sys/vm/drop_caches works (root
# on a normal kernel; false in unprivileged containers). Tested by doing it,
# because -w on /proc says "writable" to root even where the write fails.
can_drop_caches() {
  [[ -w /proc/sys/vm/drop_caches ]] || return 1
  sync
  (echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null
}

# drop_caches -> flush dirty pages, then evict the page cache, dentries and
# inodes, so the next run reads its source from disk.
drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

# evict_cache PATH -> a cold start without drop_caches (no root needed,
# other users' caches untouched): sync, then posix_fadvise(DONTNEED) on
# every file under PATH (evict.py). When PATH lies on a loop-mounted file
# system, the image file is evicted too: its pages in the host file
# system's cache would otherwise serve the "cold" reads from memory.
evict_cache() {
  local path=$1 dev img=()
  dev=$(findmnt -no SOURCE --target "$path" 2>/dev/null || true)
  if [[ $dev == /dev/loop* ]]; then
    img=("$(losetup -n -l -O BACK-FILE "$dev" 2>/dev/null | head -1 || true)")
    img[0]=${img[0]%% }
    [[ -f ${img[0]} ]] || img=()
  fi
  python3 "$(dirname "${BASH_SOURCE[0]}")/evict.py" "$path" "${img[@]}"
}

# settle -> write back dirty pages left by the previous run, so that their
# writeback is not charged to the next timed run. Caches stay warm.
settle() { sync; }

# Mass-deletion bookkeeping. On ext4 without a journal, inode allocation
# skips inodes deleted less than 60 s ago (300 s while their inode-table
# block is still dirty), so right after a big rm -rf, creating files is up
# to 10x slower (measured here: cp -a of 10k files 4.7 s instead of 0.5 s
# just after deleting 170k entries, back to normal ~20-40 s later). We sync
# after deleting, which keeps the window at 60 s, and record the time so
# the next invocation can wait it out.
MASS_DELETE_STAMP_NAME=.last-mass-delete

# mass_delete WORKDIR DIR ENTRIES -> rm -rf DIR, sync, and when ENTRIES
# (the number of files and directories in it) reaches 100k, record the
# time (30k deleted entries showed no measurable slowdown here, 170k did;
# a QUICK run deletes ~45k, so a QUICK run never makes the next one wait).
mass_delete() {
  local workdir=$1 dir=$2 entries=$3
  # Several rm at once: deletion here waits on the disk (ext4 mounted with
  # discard), and 4 in parallel delete ~2x faster than one (13k vs 6.5k
  # entries/s measured) — it matters for the ~3M entries of a full run.
  find "$dir" -mindepth 1 -maxdepth 1 -print0 | xargs -0 -r -P 4 -n 1 rm -rf
  rm -rf "$dir"
  sync
  if ((entries >= 100000)); then date +%s >"$workdir/$MASS_DELETE_STAMP_NAME"; fi
}

# wait_after_mass_delete WORKDIR -> if a previous run deleted a big tree
# less than SETTLE_SECS (default 120) ago, sleep out the rest so this run's
# file creation is not slowed down. SETTLE_SECS=0 disables.
wait_after_mass_delete() {
  local stamp="$1/$MASS_DELETE_STAMP_NAME" settle_secs=${SETTLE_SECS:-120} deleted_at now left
  [[ -f $stamp ]] || return 0
  deleted_at=$(cat "$stamp")
  now=$(date +%s)
  left=$((deleted_at + settle_secs - now))
  ((left > 0)) || return 0
  log "a previous run deleted a large tree $((now - deleted_at)) s ago; waiting ${left} s so ext4 file creation is back to normal speed (SETTLE_SECS=0 skips)"
  sleep "$left"
}

# ---------------------------------------------------------------- file system
# A fresh file system per run removes both traps above (slow creation
# after a mass deletion, dirty pages of earlier runs): an ext4 image made
# for the run, loop-mounted at WORKDIR (sources are generated there too,
# so every copy stays on one file system), unmounted and deleted at exit —
# deleting one image file costs nothing later runs would feel.
FRESH_IMG=''

# fresh_fs_setup WORKDIR -> with FRESH_FS=1 (the default for root), make
# and mount the image; with FRESH_FS=0 (the default for other users, who
# cannot mount), say that this run uses the file system as it is.
# FRESH_FS_SIZE (default 48G, sparse) and FRESH_FS_INODES (default 8M).
fresh_fs_setup() {
  local dir=$1
  if [[ -z ${FRESH_FS:-} ]]; then
    if ((EUID == 0)); then FRESH_FS=1; else FRESH_FS=0; fi
  fi
  if [[ $FRESH_FS != 1 ]]; then
    warn "FRESH_FS=0: running on $dir as it is, not on a fresh file system (ratios within a round stay fair; absolute times may not)"
    return 0
  fi
  ((EUID == 0)) || die "FRESH_FS=1 needs root (mount)"
  require_cmd mkfs.ext4
  require_cmd mountpoint
  mountpoint -q "$dir" && die "$dir is already a mount point (an interrupted run?): umount it first"
  mkdir -p "$dir"
  FRESH_IMG="${dir%/}.$RUN_STAMP.$$.img"
  truncate -s "${FRESH_FS_SIZE:-48G}" "$FRESH_IMG"
  log "making a fresh ext4 for this run: $FRESH_IMG (${FRESH_FS_SIZE:-48G} sparse), mounted at $dir"
  mkfs.ext4 -q -F -N "${FRESH_FS_INODES:-8000000}" -E lazy_itable_init=0,lazy_journal_init=0 "$FRESH_IMG"
  mount -o loop "$FRESH_IMG" "$dir"
}

# fresh_fs_teardown WORKDIR -> unmount and delete this run's image (if any).
fresh_fs_teardown() {
  [[ -n $FRESH_IMG ]] || return 0
  cd / || return 0
  umount "$1" || umount -l "$1" || warn "could not unmount $1"
  rm -f "$FRESH_IMG"
  log "fresh file system removed ($FRESH_IMG)"
  FRESH_IMG=''
}

# ---------------------------------------------------------------- tools

# require_cmd NAME HINT -> die with an install hint when NAME is missing.
require_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found; $2"
}

# find_tool NAME -> prints the path of NAME on PATH (which includes
# ~/.cargo/bin, see above); returns 1 when absent.
find_tool() { command -v "$1" 2>/dev/null; }

# tool_version CMD... -> first line of "CMD --version", or "unknown".
tool_version() {
  local v
  v=$("$@" --version 2>&1 | head -n 1) || true
  echo "${v:-unknown}"
}

# arsync_sources_newer BIN -> true when a source file is newer than BIN.
arsync_sources_newer() {
  local bin=$1
  [[ -n $(find "$REPO_ROOT/src" "$REPO_ROOT/Cargo.toml" "$REPO_ROOT/Cargo.lock" \
    -newer "$bin" -print -quit 2>/dev/null) ]]
}

# resolve_arsync -> sets ARSYNC to the binary to benchmark. An ARSYNC set
# by the caller wins and is used as is (no build). Otherwise builds
# target/release/arsync with cargo when it is missing or older than the
# sources, so a benchmark never measures a stale binary by accident.
resolve_arsync() {
  if [[ -n ${ARSYNC:-} ]]; then
    [[ -x $ARSYNC ]] || die "ARSYNC=$ARSYNC is not an executable"
    ARSYNC=$(realpath "$ARSYNC")
    return
  fi
  local bin="$REPO_ROOT/target/release/arsync"
  if [[ ! -x $bin ]] || arsync_sources_newer "$bin"; then
    require_cmd cargo "install the Rust toolchain (rustup) or set ARSYNC=/path/to/arsync"
    log "building arsync: cargo build --release (binary missing or older than src/)"
    (cd "$REPO_ROOT" && cargo build --release) >&2 ||
      die "cargo build --release failed; fix the build or set ARSYNC=/path/to/arsync"
  fi
  ARSYNC=$bin
}

# check_base_tools -> the tools every benchmark needs.
check_base_tools() {
  require_cmd rsync "apt-get install -y rsync"
  require_cmd python3 "apt-get install -y python3 (stdlib only is used)"
  require_cmd awk "apt-get install -y gawk"
}

# ---------------------------------------------------------------- machine facts

# machine_facts WORKDIR -> markdown bullet list describing where the
# numbers come from.
machine_facts() {
  local workdir=$1 mem fs
  mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
  fs="$(findmnt -no FSTYPE -T "$workdir" 2>/dev/null || stat -f -c %T "$workdir") ($(findmnt -no OPTIONS -T "$workdir" 2>/dev/null || echo 'mount options unknown'))"
  printf -- '- date: %s\n' "$(date -Iseconds)"
  printf -- '- host: %s, %s CPUs (nproc), %s RAM\n' "$(uname -n)" "$(nproc)" "$mem"
  printf -- '- kernel: %s\n' "$(uname -sr)"
  printf -- "- work dir: \`%s\` on %s (%s free)\n" "$workdir" "$fs" "$(human "$(free_bytes "$workdir")")"
  printf -- '- CPU model: %s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf -- '- load average (1/5/15 min) when the run started: %s; at the end: %s\n' "$START_LOADAVG" "$(loadavg)"
}

# write_machine_txt FILE WORKDIR -> key=value lines for the chart caption
# (summarize.py): cores (nproc), kernel (uname -r), the file system of the
# measured directory (findmnt: type, source device, mount options), the
# directory itself and the CPU model.
write_machine_txt() {
  local file=$1 workdir=$2
  {
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "fs=$(findmnt -no FSTYPE --target "$workdir" 2>/dev/null || stat -f -c %T "$workdir")"
    echo "fs_source=$(findmnt -no SOURCE --target "$workdir" 2>/dev/null)"
    echo "fs_options=$(findmnt -no OPTIONS --target "$workdir" 2>/dev/null)"
    echo "workdir=$workdir"
    echo "cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  } >"$file"
}

# loadavg -> the 1, 5 and 15 minute load averages.
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
START_LOADAVG=$(loadavg)

# warn_if_busy -> other work on the machine (a build, a test suite) makes
# every figure noisy; say so up front, and summary.md shows the load.
warn_if_busy() {
  if awk -v l="${START_LOADAVG%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    warn "load average is $START_LOADAVG: something else is running; expect noisy numbers (ratios within a round are still fair)"
  fi
}

# quote_cmdline ARGS... -> a shell-quoted rendering of a command line, for
# the "exact command" line of a summary.
quote_cmdline() {
  local out='' a
  for a in "$@"; do out+="$(printf '%q' "$a") "; done
  echo "${out% }"
}
