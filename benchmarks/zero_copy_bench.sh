#!/usr/bin/env bash
# zero_copy_bench.sh — arsync's copy engines on single files, against rsync.
#
# For each file size, copies one random-data file with every arsync copy
# engine (--copy-engine=vec|read-managed|write-managed|copy-file-range|auto)
# and with rsync, RUNS times after one warm-up, rotating the order every
# round, and reports throughput, CPU and peak RSS per engine.
#
# Usage (from anywhere; results go to the current directory):
#   benchmarks/zero_copy_bench.sh
#   SIZES="1M 10M" RUNS=3 benchmarks/zero_copy_bench.sh
#
# Environment:
#   SIZES    sizes to test (default "1M 10M 100M 1G 10G"; K/M/G suffixes are
#            binary units). A size whose 3x does not fit in free disk is skipped.
#   RUNS     timed runs per variant (default 5), after 1 warm-up.
#   WORKDIR  where source files and destinations live
#            (default /var/tmp/arsync-bench; sources are kept for reuse).
#   FRESH_FS 1 (default as root): a new ext4 image loop-mounted at WORKDIR for
#            the run, removed at exit (see common.sh); 0: WORKDIR as it is
#   ARSYNC   arsync binary to use (default: target/release/arsync, built
#            with cargo when missing or older than src/).
#   COLD     1: the source is evicted from the page cache before every run
#            (sync + posix_fadvise DONTNEED on it and on the loop image
#            below it, see evict.py); default 0 (warm).
#   ENGINES  the --copy-engine values to measure (default all five).
#   VERIFY   1 (default) compares each variant's warm-up copy with the
#            source byte for byte (cmp), so a fast but broken engine shows.
#
# Output: ./benchmark-results-zerocopy-YYYYMMDD_HHMMSS/{results.csv,summary.md,throughput.svg,machine.txt}
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SIZES=${SIZES:-"1M 10M 100M 1G 10G"}
RUNS=${RUNS:-5}
WORKDIR=${WORKDIR:-/var/tmp/arsync-bench}
VERIFY=${VERIFY:-1}
COLD=${COLD:-0}
read -r -a ENGINES <<<"${ENGINES:-vec read-managed write-managed copy-file-range auto}"
# The rsync and arsync lines: same flags; -a minus what needs root-only or
# per-file metadata work, so the data path dominates. The rsync line keeps
# -v as the benchmark specification asks (a few lines per run, negligible
# for one file); arsync is never run with -v.
COMMON_FLAGS=(-a --no-perms --no-owner --no-group)
RSYNC_FLAGS=(-av --no-perms --no-owner --no-group)

CMD=()          # the command of the run being prepared (variant_cmd)
VARIANTS=()     # names, e.g. arsync-vec, rsync
NOTES=()        # lines for summary.md's notes section
MEMBW_METHOD='' # '' when memory bandwidth cannot be measured here
DST_ROOT=''     # this invocation's destinations (deleted at exit)
RESULTS=''      # results directory

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# detect_variants -> fills VARIANTS. An engine counts as supported when
# arsync accepts "--copy-engine=E --version"; a binary that also accepts a
# bogus engine name ignores the option altogether, so it counts as none.
detect_variants() {
  local e
  local -a missing=()
  if ! "$ARSYNC" --copy-engine=no-such-engine --version >/dev/null 2>&1; then
    for e in "${ENGINES[@]}"; do
      if "$ARSYNC" --copy-engine="$e" --version >/dev/null 2>&1; then
        VARIANTS+=("arsync-$e")
      else
        missing+=("$e")
      fi
    done
  fi
  if ((${#VARIANTS[@]} == 0)); then
    VARIANTS=(arsync)
    NOTES+=("This arsync binary has no \`--copy-engine\` option: only its default engine was measured (variant \`arsync\`).")
  elif ((${#missing[@]})); then
    NOTES+=("arsync refuses \`--copy-engine=\` ${missing[*]}: those variants were not run.")
  fi
  VARIANTS+=(rsync)
}

# perf_counts_work -> true when perf exists and hardware counters really
# count. perf stat exits 0 even when it prints "<not supported>", so the
# output is checked, not the exit code.
perf_counts_work() {
  local out
  command -v perf >/dev/null 2>&1 || return 1
  out=$(perf stat -x, -e instructions true 2>&1 >/dev/null) || return 1
  [[ $out != *"not supported"* && $out != *"not counted"* && $out =~ ^[0-9] ]]
}

# detect_membw -> sets MEMBW_METHOD=imc when the integrated memory
# controller's CAS counters (Intel uncore_imc: 64 bytes per CAS) can be
# read system-wide; otherwise leaves it empty and records why.
detect_membw() {
  if ! perf_counts_work; then
    NOTES+=("Memory bandwidth: **n/a** — \`perf stat -e instructions true\` reports hardware counters as not supported on this machine (typical inside a VM), so DRAM traffic cannot be counted.")
    return
  fi
  if perf stat -a -x, -e uncore_imc/cas_count_read/,uncore_imc/cas_count_write/ true >/dev/null 2>&1; then
    MEMBW_METHOD=imc
    NOTES+=("Memory bandwidth: DRAM traffic from \`perf stat -a -e uncore_imc/cas_count_read/,uncore_imc/cas_count_write/\` (system-wide, so other activity counts too) divided by wall time.")
  else
    NOTES+=("Memory bandwidth: **n/a** — hardware counters work but no uncore_imc CAS events are exposed on this CPU.")
  fi
}

# variant_cmd VARIANT SRC DSTDIR -> fills the global CMD array.
variant_cmd() {
  local variant=$1 src=$2 dst=$3
  case $variant in
    rsync) CMD=(rsync "${RSYNC_FLAGS[@]}" "$src" "$dst/") ;;
    arsync) CMD=("$ARSYNC" "${COMMON_FLAGS[@]}" "$src" "$dst/") ;;
    arsync-*) CMD=("$ARSYNC" "${COMMON_FLAGS[@]}" "--copy-engine=${variant#arsync-}" "$src" "$dst/") ;;
    *) die "unknown variant $variant" ;;
  esac
}

# membw_of PERF_OUT WALL -> DRAM MB/s from perf's CSV output, or n/a.
membw_of() {
  local perf_out=$1 wall=$2
  [[ -s $perf_out ]] || {
    echo n/a
    return
  }
  # perf -x, lines: value,unit,event,... ; CAS counts are scaled to MiB.
  awk -F, -v w="$wall" '/cas_count/ { v = $1; if ($2 == "MiB") v *= 1048576; else v *= 64; b += v }
    END { if (b > 0 && w > 0) printf "%.0f\n", b / 1e6 / w; else print "n/a" }' "$perf_out"
}

# run_once VARIANT SRC BYTES -> times one copy into a fresh directory and
# sets R_RC R_WALL R_USER R_SYS R_RSS R_BUSY R_MEMBW and R_COPY (the copy's
# path).
# Globals rather than stdout, because a $(...) subshell would lose the
# fresh-directory counter and the notes it adds.
run_once() {
  local variant=$1 src=$2 bytes=$3 dst tmp
  fresh_dir "$DST_ROOT" "$variant"
  dst=$FRESH_DIR
  variant_cmd "$variant" "$src" "$dst"
  tmp="$DST_ROOT/.time"
  if [[ $COLD == 1 ]]; then evict_cache "$src"; else settle; fi
  if [[ $MEMBW_METHOD == imc ]]; then
    time_cmd "$tmp" perf stat -a -x, -o "$tmp.perf" \
      -e uncore_imc/cas_count_read/,uncore_imc/cas_count_write/ -- "${CMD[@]}"
  else
    time_cmd "$tmp" "${CMD[@]}"
  fi
  read -r R_RC R_WALL R_USER R_SYS R_RSS R_BUSY <"$tmp"
  R_MEMBW=n/a
  if [[ $MEMBW_METHOD == imc ]]; then R_MEMBW=$(membw_of "$tmp.perf" "$R_WALL"); fi
  R_COPY="$dst/$(basename "$src")"
  if ((R_RC != 0)); then
    warn "$variant exited $R_RC; its output:"
    sed 's/^/    /' "$tmp.log" >&2
  elif [[ $(stat -c %s "$R_COPY" 2>/dev/null) != "$bytes" ]]; then
    warn "$variant exited 0 but $R_COPY is missing or has the wrong size"
    R_RC=254
  fi
}

# warm_up VARIANT SRC BYTES -> one untimed run: loads the binary and the
# source into the page cache, and (VERIFY=1) checks the copy is exact.
warm_up() {
  local variant=$1 src=$2 bytes=$3
  run_once "$variant" "$src" "$bytes"
  if ((R_RC != 0)); then
    warn "warm-up of $variant failed; its timed runs will probably fail too"
  elif [[ $VERIFY == 1 ]] && ! cmp -s "$src" "$R_COPY"; then
    warn "$variant produced a copy that differs from the source!"
    NOTES+=("**$variant produced a wrong copy** in the warm-up at $(basename "$src") (cmp differs).")
  fi
  discard_copy
}

# discard_copy -> deletes the last run's copy right away: 36 copies of a
# 10 GB file do not fit on disk, and deleting one file frees one inode,
# which does not trigger ext4's slow-creation-after-mass-delete behaviour
# (that needs thousands of recently freed inodes). Deleting before the next
# run's sync also drops the copy's dirty pages instead of writing them.
discard_copy() { rm -f "$R_COPY"; }

# bench_size SIZE -> warm-up + RUNS rounds of every variant on one size,
# one CSV row per timed run.
bench_size() {
  local size=$1 bytes src need round i n variant
  bytes=$(size_to_bytes "$size")
  src="$WORKDIR/data/file-$size.bin"
  # 3x: the source, the copy, and slack (the copy is deleted after each run).
  need=$((3 * bytes))
  if [[ -f $src ]]; then need=$((need - bytes)); fi
  if ! have_space "$WORKDIR" "$need"; then
    log "skipping $size: needs $(human "$need") free (3x the file) plus a 2 GiB margin, $(human "$(free_bytes "$WORKDIR")") available"
    NOTES+=("Size $size skipped: not enough free disk for 3× its size.")
    return
  fi
  ensure_random_file "$src" "$bytes"

  log "$size: warm-up (${#VARIANTS[@]} variants)"
  for variant in "${VARIANTS[@]}"; do warm_up "$variant" "$src" "$bytes"; done

  n=${#VARIANTS[@]}
  for ((round = 1; round <= RUNS; round++)); do
    # Rotate the order each round so no variant always runs right after
    # the same neighbour (page-cache and writeback state carry over).
    for ((i = 0; i < n; i++)); do
      variant=${VARIANTS[(i + round - 1) % n]}
      run_once "$variant" "$src" "$bytes"
      discard_copy
      record_row "$size" "$variant" "$round" "$bytes"
    done
  done
  print_size_medians "$size"
}

# record_row SIZE VARIANT ROUND BYTES -> appends the last run (R_*) to the CSV.
record_row() {
  local size=$1 variant=$2 round=$3 bytes=$4 mbs cpu
  mbs=$(awk -v b="$bytes" -v w="$R_WALL" 'BEGIN { printf "%.1f\n", (w > 0 ? b / 1e6 / w : 0) }')
  cpu=$(cpu_pct "$R_WALL" "$R_USER" "$R_SYS")
  echo "$size,$variant,$round,$R_WALL,$mbs,$cpu,$R_RSS,$R_MEMBW,$R_USER,$R_SYS,$bytes,$R_RC,$(other_cpu_pct "$R_WALL" "$R_USER" "$R_SYS" "$R_BUSY")" >>"$RESULTS/results.csv"
}

# print_size_medians SIZE -> one progress line per variant on stderr.
print_size_medians() {
  local size=$1 variant m
  for variant in "${VARIANTS[@]}"; do
    m=$(awk -F, -v s="$size" -v v="$variant" '$1 == s && $2 == v && $12 == 0 { print $5 }' "$RESULTS/results.csv" | median)
    log "  $size $variant: median ${m:-failed} MB/s"
  done
}

# write_header -> machine facts, command, versions and notes for summary.md.
write_header() {
  local cmdline=$1 note
  {
    echo "# arsync copy engines vs rsync — single files"
    echo
    if [[ $COLD == 1 ]]; then
      echo "Throughput of one random-data file copied into a never-used directory, source COLD"
      echo "(\`sync\`, then the source and the loop image below it evicted with"
      echo "posix_fadvise(DONTNEED) before every run, benchmarks/evict.py)."
    else
      echo "Throughput of one random-data file copied into a never-used directory, page cache warm"
      echo "(source read once in a warm-up; \`sync\` before every run so earlier writeback is not"
      echo "charged to it; the copy's own writeback is not waited for, as none of the tools fsync)."
    fi
    echo "MB/s = 10^6 bytes per second. $RUNS timed runs per variant after 1 warm-up, order rotated each round."
    echo
    echo "## Setup"
    echo
    machine_facts "$WORKDIR"
    echo "- arsync: \`$ARSYNC\` — $(tool_version "$ARSYNC")"
    echo "- rsync: $(tool_version rsync)"
    echo "- command: \`$cmdline\`"
    echo "- arsync line: \`arsync ${COMMON_FLAGS[*]} --copy-engine=ENGINE SRC DST/\`"
    echo "- rsync line: \`rsync ${RSYNC_FLAGS[*]} SRC DST/\`"
    echo
    echo "## Notes"
    echo
    for note in "${NOTES[@]}"; do echo "- $note"; done
    echo
  } >"$RESULTS/.header.md"
}

# cleanup -> runs at exit: removes this invocation's destinations (only
# single files and empty dirs, so no mass-deletion slowdown follows).
cleanup() {
  if [[ -n $FRESH_IMG ]]; then
    fresh_fs_teardown "$WORKDIR"
    return 0
  fi
  if [[ -n $DST_ROOT && -d $DST_ROOT ]]; then rm -rf "$DST_ROOT"; fi
}

main() {
  case ${1:-} in
    -h | --help)
      usage
      exit 0
      ;;
    '') ;;
    *) die "unknown argument '$1' (see --help; options are environment variables)" ;;
  esac
  local cmdline size
  cmdline="$(quote_cmdline env "SIZES=$SIZES" "RUNS=$RUNS" "$0" "$@")"
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
  check_base_tools
  resolve_arsync
  trap cleanup EXIT
  fresh_fs_setup "$WORKDIR"
  mkdir -p "$WORKDIR/data" "$WORKDIR/dst"
  build_runstat "$WORKDIR/bin"
  warn_if_busy
  DST_ROOT="$WORKDIR/dst/zerocopy.$RUN_STAMP.$$"
  mkdir -p "$DST_ROOT"
  RESULTS=$(make_results_dir zerocopy)
  write_machine_txt "$RESULTS/machine.txt" "$WORKDIR"
  log "results: $RESULTS"
  detect_variants
  detect_membw
  log "arsync: $ARSYNC; variants: ${VARIANTS[*]}"
  echo "size,variant,run,seconds,mb_per_s,cpu_pct,max_rss_kib,membw,user_s,sys_s,bytes,rc,other_cpu_pct" >"$RESULTS/results.csv"

  for size in $SIZES; do bench_size "$size"; done

  write_header "$cmdline"
  python3 "$BENCH_DIR/summarize.py" zerocopy "$RESULTS"
  # .header.md stays: summarize.py can rebuild summary.md from it.
  log "done: $RESULTS/summary.md"
}

main "$@"
