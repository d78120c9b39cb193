#!/usr/bin/env bash
# compare_rsync.sh — arsync's wall clock side by side with rsync, cp, xcp, fcp.
#
# Usage (from the repository root or anywhere; results go to the current
# directory):
#   benchmarks/compare_rsync.sh                 # everything, RUNS=5
#   benchmarks/compare_rsync.sh --tree /path    # "mixed" = your own tree
#   QUICK=1 benchmarks/compare_rsync.sh         # smoke pass, about a minute
#   WORKLOADS="1G tree10k resync-tree10k" RUNS=7 benchmarks/compare_rsync.sh
#
# Workloads (WORKLOADS selects, in the order given):
#   1M 100M 1G ...   one random-data file of that size (SIZES sets the default list)
#   tree10k          10,000 x 4 KiB files in 100 directories
#   tree100k         100,000 files of 0-2 KiB (uniform, fixed seed) in 1,000 nested dirs
#   mixed            ~20,000 files, ~1 GiB, log-normal sizes (fixed seed), 1,000 nested
#                    dirs; or the directory given with --tree
#   hugedir          one directory of 200,000 files of 0-64 bytes (uniform, fixed seed):
#                    one huge listing on each side (not in the default list)
#   resync-TREE      no-change re-sync (rsync and arsync only) of TREE into a copy
#                    the same tool made beforehand (TREE = tree10k, tree100k, mixed,
#                    hugedir)
#   linkdest-TREE    a --link-dest snapshot (rsync and arsync only): TREE into a
#                    fresh directory with --link-dest to an up-to-date copy the same
#                    tool made beforehand (every file becomes a hard link)
#   avz-TREE         `-avz SRC/ DST/` into a fresh directory (arsync, rsync, base)
#   into-TREE        one 1 MiB file into an existing directory that holds a copy of
#                    TREE (made once, untimed; the file is removed after each run):
#                    rsync stats only the name it copies (into-hugedir: 200,000
#                    entries beside it; not in the default list)
#   cold-SIZE, cold-TREE  as SIZE / TREE, with the source evicted from the page
#                    cache before every run: sync, posix_fadvise(DONTNEED) on every
#                    source file and on the loop image below it (evict.py); with
#                    COLD_METHOD=drop, /proc/sys/vm/drop_caches instead (root only)
#
# Environment:
#   WORKLOADS  default "$SIZES tree10k tree100k mixed resync-tree10k resync-tree100k
#              linkdest-tree100k cold-1G cold-tree10k"
#   SIZES      default "1M 100M 1G" (binary units)
#   RUNS       timed runs per tool and workload (default 5), after 1 warm-up
#   TOOLS      default "arsync rsync cp xcp fcp"; absent ones are skipped
#   QUICK=1    smoke pass: RUNS=1, SIZES="1M 10M", 1,000-file trees, cold-10M
#   WORKDIR    data and destinations (default /var/tmp/arsync-bench); generated
#              sources are kept and reused, keyed by their parameters (on a
#              fresh file system: for this run's workloads only)
#   FRESH_FS   1 (default as root): a new ext4 image loop-mounted at WORKDIR for
#              the run, removed at exit; 0 (default otherwise): WORKDIR as it is.
#              FRESH_FS_SIZE (48G, sparse) and FRESH_FS_INODES (8000000) size it
#   ARSYNC     arsync binary (default: target/release/arsync, built when stale)
#   ARSYNC_BASE  an earlier arsync binary: adds the tool "base" (run exactly as
#              arsync) so a change is measured before/after in the same rounds
#   KEEP_DST=1 keep this run's destination copies instead of deleting them at exit
#   SETTLE_SECS  wait this long after a previous run's mass deletion (default 120)
#
# Output: ./benchmark-results-compare-YYYYMMDD_HHMMSS/{results.csv,summary.md,chart.svg,machine.txt}
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
  RUNS=${RUNS:-1}
  SIZES=${SIZES:-"1M 10M"}
  WORKLOADS=${WORKLOADS:-"$SIZES tree10k avz-tree10k tree100k mixed resync-tree10k resync-tree100k linkdest-tree100k cold-10M cold-tree10k"}
else
  RUNS=${RUNS:-5}
  SIZES=${SIZES:-"1M 100M 1G"}
  WORKLOADS=${WORKLOADS:-"$SIZES tree10k avz-tree10k tree100k mixed resync-tree10k resync-tree100k linkdest-tree100k cold-1G cold-tree10k"}
fi
TOOLS=${TOOLS:-"arsync rsync cp xcp fcp"}
COLD_METHOD=${COLD_METHOD:-evict}
COLD_SRC=''
[[ -n ${ARSYNC_BASE:-} && " $TOOLS " != *" base "* ]] && TOOLS="$TOOLS base"
WORKDIR=${WORKDIR:-/var/tmp/arsync-bench}
KEEP_DST=${KEEP_DST:-0}

CUSTOM_TREE='' # --tree PATH
ACTIVE_TOOLS=() # tools found on this machine, arsync first
NOTES=()        # lines for summary.md's notes
CMD=()          # command of the run being prepared (tool_cmd)
DST=''          # destination of the run being prepared (prepare_dst)
DST_ROOT=''     # this invocation's destinations, deleted at exit
RESULTS=''      # results directory
COPIED_ENTRIES=0 # files+dirs written under DST_ROOT, for the mass-delete note
declare -A RESYNC_DST=() # tool -> its pre-made copy (resync and linkdest workloads)
declare -A TOOL_PATH=()  # tool -> executable

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# ---------------------------------------------------------------- tools

# detect_tools -> fills ACTIVE_TOOLS / TOOL_PATH from TOOLS; a missing peer
# is skipped with a message, a missing arsync or rsync is fatal because
# every ratio is against arsync.
detect_tools() {
  local t path
  local -a peers=()
  for t in $TOOLS; do
    case $t in
      arsync) path=$ARSYNC ;;
      base) path=$(realpath "${ARSYNC_BASE:-}" 2>/dev/null) && [[ -x $path ]] || path='' ;;
      rsync | cp | xcp | fcp) path=$(find_tool "$t") || path='' ;;
      *) die "unknown tool '$t' in TOOLS (known: arsync rsync cp xcp fcp base)" ;;
    esac
    if [[ -z $path ]]; then
      log "skipping $t: not installed (cargo install $t)"
      NOTES+=("$t was not found on PATH or in ~/.cargo/bin: skipped (\`cargo install $t\`).")
      continue
    fi
    TOOL_PATH[$t]=$path
    [[ $t == arsync ]] || peers+=("$t")
  done
  [[ -n ${TOOL_PATH[arsync]:-} ]] || die "TOOLS must include arsync (every ratio is against it)"
  # arsync first: progress lines and tables read best that way.
  ACTIVE_TOOLS=(arsync "${peers[@]}")
}

# tool_cmd TOOL MODE SRC DST -> fills CMD. MODE is "file" (SRC a file, DST
# the target file name) or "tree" (SRC a directory copied to DST). Each
# line asks the tool to preserve what it can (we run as root, so owners
# too), matching rsync -a as closely as each tool allows.
tool_cmd() {
  local tool=$1 mode=$2 src=$3 dst=$4 bin=${TOOL_PATH[$1]}
  case $tool:$mode in
    arsync:file | rsync:file | base:file) CMD=("$bin" -a "$src" "$dst") ;;
    arsync:tree | rsync:tree | base:tree) CMD=("$bin" -a "$src/" "$dst/") ;;
    arsync:avz | rsync:avz | base:avz) CMD=("$bin" -avz "$src/" "$dst/") ;;
    arsync:into | rsync:into | base:into | cp:into) CMD=("$bin" -a "$src" "$dst/") ;;
    xcp:into) CMD=("$bin" -o --no-progress "$src" "$dst/") ;;
    arsync:linkdest | rsync:linkdest | base:linkdest)
      CMD=("$bin" -a "--link-dest=${RESYNC_DST[$tool]}" "$src/" "$dst/") ;;
    cp:file) CMD=("$bin" -a "$src" "$dst") ;;
    cp:tree) CMD=("$bin" -a "$src/." "$dst/") ;;
    # xcp keeps permissions and timestamps by default; -o adds ownership;
    # no progress bar, which would cost time for nothing.
    xcp:file) CMD=("$bin" -o --no-progress "$src" "$dst") ;;
    xcp:tree) CMD=("$bin" -r -o --no-progress "$src" "$dst") ;;
    # fcp 0.2.2 has no options: it copies content, permissions and
    # symlinks, not times or ownership (noted in summary.md).
    fcp:*) CMD=("$bin" "$src" "$dst") ;;
    *) die "no command line for $tool ($mode)" ;;
  esac
}

# tool_line TOOL -> the command line shown in summary.md.
tool_line() {
  case $1 in
    arsync) echo 'arsync -a SRC/ DST/' ;;
    base) echo "arsync -a SRC/ DST/ (the earlier binary \`$ARSYNC_BASE\`)" ;;
    rsync) echo 'rsync -a SRC/ DST/' ;;
    cp) echo 'cp -a SRC/. DST/  (DST created first, untimed)' ;;
    xcp) echo 'xcp -r -o --no-progress SRC DST' ;;
    fcp) echo 'fcp SRC DST' ;;
  esac
}

# ---------------------------------------------------------------- sources

# tree_params NAME -> prints "layout files dirs key-part extra-args" for a
# generated tree; QUICK=1 shrinks every tree to 1,000 files so a smoke pass
# is fast. key-part names the remaining parameters in the directory name.
tree_params() {
  case $1:$QUICK in
    tree10k:1) echo "fixed 1000 10 4096B --size 4096" ;;
    tree10k:*) echo "fixed 10000 100 4096B --size 4096" ;;
    tree100k:1) echo "uniform 1000 20 0-2048B --min-size 0 --max-size 2048" ;;
    tree100k:*) echo "uniform 100000 1000 0-2048B --min-size 0 --max-size 2048" ;;
    mixed:1) echo "lognormal 1000 50 32MiB --total $((32 << 20))" ;;
    hugedir:1) echo "uniform 2000 0 0-64B --min-size 0 --max-size 64" ;;
    hugedir:*) echo "uniform 200000 0 0-64B --min-size 0 --max-size 64" ;;
    mixed:*) echo "lognormal 20000 1000 1GiB --total $((1 << 30))" ;;
    *) die "unknown tree '$1' (known: tree10k tree100k mixed hugedir)" ;;
  esac
}

# ensure_tree NAME -> sets T_SRC (the source directory) and T_DESC (a line
# for summary.md), generating the tree once under WORKDIR/data. The
# directory name holds every parameter, so a change of parameters makes a
# new tree instead of silently reusing a different one.
T_SRC=''
T_DESC=''
ensure_tree() {
  local name=$1 layout files dirs keypart extra key seed=1 stats
  if [[ $name == mixed && -n $CUSTOM_TREE ]]; then
    T_SRC=$CUSTOM_TREE
    read -r files stats < <(tree_stats "$T_SRC")
    T_DESC="your tree \`$T_SRC\` (--tree): $files files, $(human "$stats")"
    return
  fi
  read -r layout files dirs keypart extra < <(tree_params "$name")
  key="tree-$layout-n$files-d$dirs-$keypart-seed$seed"
  T_SRC="$WORKDIR/data/$key"
  if [[ ! -d $T_SRC ]]; then
    log "generating $name: $layout, $files files, $dirs dirs (once; reused later) -> $T_SRC"
    # A .partial left by an interrupted generation is incomplete: remove it
    # (small, and no timing follows for a while: generation comes first).
    rm -rf "$T_SRC.partial"
    # shellcheck disable=SC2086  # $extra is a list of generator options
    python3 "$BENCH_DIR/gen_tree.py" "$T_SRC.partial" --layout "$layout" \
      --files "$files" --dirs "$dirs" $extra --seed "$seed" >&2
    mv "$T_SRC.partial" "$T_SRC"
    sync # write the new tree back now, not during the first timed runs
  fi
  read -r files stats < <(tree_stats "$T_SRC")
  case $layout in
    fixed) T_DESC="$files files × 4 KiB in $dirs directories, $(human "$stats")" ;;
    uniform)
      if [[ $dirs == 0 ]]; then # hugedir
        T_DESC="$files files of 0–64 bytes (uniform random sizes, seed $seed) in one directory, $(human "$stats")"
      else
        T_DESC="$files files of 0–2 KiB (uniform random sizes, seed $seed) in $dirs nested directories, $(human "$stats")"
      fi
      ;;
    lognormal) T_DESC="$files files with log-normal sizes (median 4 KiB, long tail; seed $seed) in $dirs nested directories, $(human "$stats")" ;;
  esac
}

# ---------------------------------------------------------------- one run

# prepare_dst TOOL MODE SRC LABEL -> sets DST to a never-used path:
# the target file inside a fresh directory (file), or a not-yet-existing
# directory inside a fresh directory (tree; cp needs it to exist).
prepare_dst() {
  local tool=$1 mode=$2 src=$3 label=$4
  fresh_dir "$DST_ROOT" "$label-$tool"
  if [[ $mode == file ]]; then
    DST="$FRESH_DIR/$(basename "$src")"
  else
    DST="$FRESH_DIR/t"
    if [[ $tool == cp ]]; then mkdir "$DST"; fi
  fi
}

# timed_run COLD -> runs CMD (already prepared) after a sync
# (COLD=0) or a page-cache drop (COLD=1); sets R_RC R_WALL R_USER R_SYS
# R_RSS R_BUSY (machine-wide busy CPU s) and R_LOG (the tool's output).
timed_run() {
  local cold=$1 tmp="$DST_ROOT/.time"
  if [[ $cold == 1 && $COLD_METHOD == drop ]]; then
    drop_caches
  elif [[ $cold == 1 ]]; then
    evict_cache "$COLD_SRC"
  else
    settle
  fi
  time_cmd "$tmp" "${CMD[@]}"
  read -r R_RC R_WALL R_USER R_SYS R_RSS R_BUSY <"$tmp"
  R_LOG="$tmp.log"
}

# copy_matches MODE SRC DST -> true when the copy has the source's content
# (file: byte for byte; tree: same number of files and bytes).
copy_matches() {
  local mode=$1 src=$2 dst=$3
  if [[ $mode == file ]]; then
    cmp -s "$src" "$dst"
  else
    [[ $(tree_stats "$src") == "$(tree_stats "$dst")" ]]
  fi
}

# report_failure WORKLOAD TOOL RUN -> keeps the tool's output and says so.
report_failure() {
  local w=$1 tool=$2 run=$3
  mkdir -p "$RESULTS/failures"
  cp "$R_LOG" "$RESULTS/failures/$w-$tool-$run.log"
  warn "$tool failed on $w (run $run, exit $R_RC): $(head -c 300 "$R_LOG")"
}

# record_row WORKLOAD TOOL RUN -> appends the last run to results.csv.
record_row() {
  echo "$1,$2,$3,$R_WALL,$R_USER,$R_SYS,$(cpu_pct "$R_WALL" "$R_USER" "$R_SYS"),$R_RSS,$R_RC,$(other_cpu_pct "$R_WALL" "$R_USER" "$R_SYS" "$R_BUSY")" >>"$RESULTS/results.csv"
}

# one_run WORKLOAD TOOL MODE SRC COLD RUN -> prepares a destination, times
# the copy, checks it. RUN 0 is the warm-up: verified, not recorded.
one_run() {
  local w=$1 tool=$2 mode=$3 src=$4 cold=$5 run=$6
  COLD_SRC=$src
  if [[ $mode == resync ]]; then
    DST=${RESYNC_DST[$tool]}
    tool_cmd "$tool" tree "$src" "$DST"
  elif [[ $mode == into ]]; then
    DST=$INTO_DIR
    tool_cmd "$tool" into "$src" "$DST"
  elif [[ $mode == linkdest ]]; then
    prepare_dst "$tool" tree "$src" "$w"
    tool_cmd "$tool" linkdest "$src" "$DST"
  else
    prepare_dst "$tool" "$mode" "$src" "$w"
    tool_cmd "$tool" "$mode" "$src" "$DST"
  fi
  timed_run "$cold"
  if ((R_RC != 0)); then
    report_failure "$w" "$tool" "$run"
  elif ((run == 0)) && [[ $mode == into ]] && ! copy_matches file "$src" "$DST/$(basename "$src")"; then
    warn "$tool's copy of $w differs from the source ($DST)"
    NOTES+=("**$tool's copy of $w did not match the source**.")
  elif ((run == 0)) && [[ $mode != into ]] && ! copy_matches "$([[ $mode == file ]] && echo file || echo tree)" "$src" "$DST"; then
    warn "$tool's copy of $w differs from the source ($DST)"
    NOTES+=("**$tool's copy of $w did not match the source** (file count, bytes or content).")
  fi
  ((run == 0)) || record_row "$w" "$tool" "$run"
  case $mode in
    # A single file is deleted at once: 30 copies of 1 GiB would not fit,
    # and freeing one inode does not trigger the slow-creation effect.
    file) rm -f "$DST" ;;
    into) rm -f "$DST/$(basename "$src")" ;;
    tree | linkdest | avz) COPIED_ENTRIES=$((COPIED_ENTRIES + ${TREE_ENTRIES:-0})) ;;
  esac
}

# run_rounds WORKLOAD MODE SRC COLD TOOL... -> one warm-up per tool, then
# RUNS rounds with the tool order rotated each round, so no tool always
# runs right after the same neighbour.
run_rounds() {
  local w=$1 mode=$2 src=$3 cold=$4 round i n tool
  shift 4
  local -a tools=("$@")
  n=${#tools[@]}
  log "$w: warm-up (${tools[*]})"
  for tool in "${tools[@]}"; do one_run "$w" "$tool" "$mode" "$src" "$cold" 0; done
  for ((round = 1; round <= RUNS; round++)); do
    for ((i = 0; i < n; i++)); do
      tool=${tools[(i + round - 1) % n]}
      one_run "$w" "$tool" "$mode" "$src" "$cold" "$round"
    done
  done
  print_medians "$w" "${tools[@]}"
}

# print_medians WORKLOAD TOOL... -> a progress line per tool.
print_medians() {
  local w=$1 tool m
  shift
  for tool in "$@"; do
    m=$(awk -F, -v w="$w" -v t="$tool" '$1 == w && $2 == t && $9 == 0 { print $4 }' "$RESULTS/results.csv" | median)
    log "  $w $tool: median ${m:-failed} s"
  done
}

# ---------------------------------------------------------------- workloads

# describe WORKLOAD TEXT -> a line of .workloads.tsv for summary.md.
describe() { printf '%s\t%s\n' "$1" "$2" >>"$RESULTS/.workloads.tsv"; }

# skip WORKLOAD REASON -> log it and keep it for the notes.
skip() {
  log "skipping $1: $2"
  NOTES+=("Workload \`$1\` skipped: $2.")
}

# bench_file WORKLOAD SIZE COLD -> the single-file workload.
bench_file() {
  local w=$1 size=$2 cold=$3 bytes src need
  bytes=$(size_to_bytes "$size")
  src="$WORKDIR/data/file-$size.bin"
  need=$((2 * bytes))
  [[ -f $src ]] || need=$((need + bytes))
  have_space "$WORKDIR" "$need" || {
    skip "$w" "needs $(human "$need") free plus a 2 GiB margin"
    return
  }
  ensure_random_file "$src" "$bytes"
  describe "$w" "One file of $(human "$bytes") of random data$([[ $cold == 1 ]] && echo ', page cache dropped before every run (cold)' || echo ', page cache warm')."
  run_rounds "$w" file "$src" "$cold" "${ACTIVE_TOOLS[@]}"
}

# tree_space_ok WORKLOAD COPIES -> true when COPIES copies of T_SRC fit
# (blocks rounded up to 4 KiB per file and directory, inodes too).
tree_space_ok() {
  local w=$1 copies=$2 files bytes dirs need inodes
  read -r files bytes < <(tree_stats "$T_SRC")
  dirs=$(find "$T_SRC" -type d | wc -l)
  TREE_ENTRIES=$((files + dirs))
  need=$((copies * (bytes + 4096 * (files + dirs))))
  inodes=$((copies * TREE_ENTRIES))
  have_space "$WORKDIR" "$need" "$inodes" && return 0
  skip "$w" "$copies copies need $(human "$need") and $inodes inodes free (plus margin)"
  return 1
}

# bench_tree WORKLOAD TREE COLD -> copy a whole tree into fresh directories.
# Destinations stay until the script ends: deleting a tree here would slow
# every later file creation for minutes.
bench_tree() {
  local w=$1 tree=$2 cold=$3
  ensure_tree "$tree"
  tree_space_ok "$w" $(((RUNS + 1) * ${#ACTIVE_TOOLS[@]})) || return 0
  describe "$w" "$T_DESC$([[ $cold == 1 ]] && echo '; page cache dropped before every run (cold)')."
  run_rounds "$w" tree "$T_SRC" "$cold" "${ACTIVE_TOOLS[@]}"
}

# premade_copies WORKLOAD TOOL... -> each tool makes its own (untimed,
# checked) copy of T_SRC, kept in RESYNC_DST[tool].
premade_copies() {
  local w=$1 tool
  shift
  for tool in "$@"; do
    prepare_dst "$tool" tree "$T_SRC" "$w-premade"
    tool_cmd "$tool" tree "$T_SRC" "$DST"
    timed_run 0
    if ((R_RC != 0)) || ! copy_matches tree "$T_SRC" "$DST"; then
      die "$tool could not make the initial copy for $w (exit $R_RC): $(head -c 300 "$R_LOG")"
    fi
    RESYNC_DST[$tool]=$DST
    COPIED_ENTRIES=$((COPIED_ENTRIES + TREE_ENTRIES))
  done
}

# bench_resync WORKLOAD TREE -> rsync's most common real use: the
# destination is already up to date. Each tool first makes its own copy
# (untimed), then re-syncs into it: the runs measure walking both trees
# and deciding that nothing needs copying.
bench_resync() {
  local w=$1 tree=$2 tool
  local -a tools=()
  for tool in arsync rsync base; do [[ -n ${TOOL_PATH[$tool]:-} ]] && tools+=("$tool"); done
  ensure_tree "$tree"
  tree_space_ok "$w" "${#tools[@]}" || return 0
  describe "$w" "No-change re-sync of $tree ($T_DESC) into an up-to-date copy the same tool made beforehand (untimed). cp, xcp and fcp have no incremental mode and are not run."
  premade_copies "$w" "${tools[@]}"
  run_rounds "$w" resync "$T_SRC" 0 "${tools[@]}"
}

# bench_linkdest WORKLOAD TREE -> a backup snapshot: each tool first makes
# its own copy of TREE (untimed, the previous snapshot), then every timed
# run writes a new snapshot into a fresh directory with --link-dest to it,
# so nothing is copied: both trees are walked and every file hard-linked.
bench_linkdest() {
  local w=$1 tree=$2 tool
  local -a tools=()
  for tool in arsync rsync base; do [[ -n ${TOOL_PATH[$tool]:-} ]] && tools+=("$tool"); done
  ensure_tree "$tree"
  # The premade copies take space; the snapshots are hard links (only
  # their directories take new inodes and blocks).
  tree_space_ok "$w" $((${#tools[@]} + 1)) || return 0
  describe "$w" "A --link-dest snapshot of $tree ($T_DESC): into a fresh directory, with --link-dest to an up-to-date copy the same tool made beforehand (untimed); every file becomes a hard link. cp, xcp and fcp have no such mode and are not run."
  premade_copies "$w" "${tools[@]}"
  run_rounds "$w" linkdest "$T_SRC" 0 "${tools[@]}"
}

# bench_avz WORKLOAD TREE -> `-avz` into a fresh directory, the most
# common rsync line in tutorials (people type it for local copies too):
# compression means nothing on a local copy, so arsync accepts -z and
# copies as with -a; rsync compresses its pipe. Only tools with -z run.
bench_avz() {
  local w=$1 tree=$2 tool
  local -a tools=()
  for tool in arsync rsync base; do [[ -n ${TOOL_PATH[$tool]:-} ]] && tools+=("$tool"); done
  ensure_tree "$tree"
  tree_space_ok "$w" $(((RUNS + 1) * ${#tools[@]})) || return 0
  describe "$w" "\`-avz SRC/ DST/\` of $tree ($T_DESC) into a fresh directory (output to a log). cp, xcp and fcp have no -z and are not run."
  run_rounds "$w" avz "$T_SRC" 0 "${tools[@]}"
}

# bench_into WORKLOAD TREE -> one 1 MiB file into a directory that already
# holds a copy of TREE (made once with cp -a, untimed): what it costs to
# look at a big destination directory when one name in it changes.
INTO_DIR=''
bench_into() {
  local w=$1 tree=$2 src="$WORKDIR/data/file-1M.bin"
  ensure_tree "$tree"
  tree_space_ok "$w" 1 || return 0
  ensure_random_file "$src" $((1 << 20))
  fresh_dir "$DST_ROOT" "$w-dir"
  INTO_DIR=$FRESH_DIR
  cp -a "$T_SRC/." "$INTO_DIR/"
  COPIED_ENTRIES=$((COPIED_ENTRIES + TREE_ENTRIES))
  describe "$w" "One 1 MiB file (warm) into an existing directory holding a copy of $tree ($T_DESC); the copied file is removed after each run."
  run_rounds "$w" into "$src" 0 "${ACTIVE_TOOLS[@]}"
}

# run_workload NAME -> dispatch on the workload's name.
run_workload() {
  local w=$1
  case $w in
    [0-9]*) bench_file "$w" "$w" 0 ;;
    cold-*)
      # Not "can_drop_caches && bench || skip": bash ignores set -e inside
      # a function called on the left of && or ||.
      if [[ $COLD_METHOD == drop ]] && ! can_drop_caches; then
        skip "$w" "cannot write /proc/sys/vm/drop_caches (needs root outside a container)"
      elif [[ ${w#cold-} == [0-9]* ]]; then
        bench_file "$w" "${w#cold-}" 1
      else
        bench_tree "$w" "${w#cold-}" 1
      fi
      ;;
    resync-*) bench_resync "$w" "${w#resync-}" ;;
    linkdest-*) bench_linkdest "$w" "${w#linkdest-}" ;;
    avz-*) bench_avz "$w" "${w#avz-}" ;;
    into-*) bench_into "$w" "${w#into-}" ;;
    tree10k | tree100k | mixed | hugedir) bench_tree "$w" "$w" 0 ;;
    *) die "unknown workload '$w' (see --help)" ;;
  esac
}

# ---------------------------------------------------------------- report

write_header() {
  local cmdline=$1 tool note
  {
    echo "# arsync vs rsync, cp, xcp, fcp — wall clock"
    echo
    echo "Each timed run copies into a never-used destination; \`sync\` (or, for cold-*, a page-cache"
    echo "drop) before every run; $RUNS timed run(s) per tool after one warm-up per tool and workload; tool"
    echo "order rotated every round. Ratios are arsync ÷ peer, computed within each round, then the"
    echo "median is taken. The warm-up copy of every tool is checked against the source."
    echo
    echo "## Setup"
    echo
    machine_facts "$WORKDIR"
    echo "- command: \`$cmdline\`"
    echo "- tools:"
    for tool in "${ACTIVE_TOOLS[@]}"; do
      echo "  - $tool: \`$(tool_line "$tool")\` — $(tool_version "${TOOL_PATH[$tool]}")"
    done
    echo
    echo "## Notes"
    echo
    [[ -n ${TOOL_PATH[fcp]:-} ]] &&
      echo "- fcp does less work than the others: it has no options and keeps permissions but not times or ownership."
    echo "- Peak RSS is that of the largest single process (rsync runs three)."
    [[ $QUICK == 1 ]] &&
      echo "- **QUICK=1 smoke pass**: trees shrunk to 1,000 files, $RUNS run(s) each — checks that everything works, not for conclusions."
    for note in "${NOTES[@]}"; do echo "- $note"; done
    echo
  } >"$RESULTS/.header.md"
}

# cleanup -> at exit: delete this run's destinations (the END of the run,
# so no timing follows) and leave a note for the next run to wait on.
cleanup() {
  if [[ -n $FRESH_IMG ]]; then
    # Nothing to delete file by file: the whole file system goes.
    [[ $KEEP_DST == 1 ]] && warn "KEEP_DST=1 has no effect on a fresh file system (FRESH_FS=0 keeps copies)"
    fresh_fs_teardown "$WORKDIR"
    return 0
  fi
  [[ -n $DST_ROOT && -d $DST_ROOT ]] || return 0
  if [[ $KEEP_DST == 1 ]]; then
    log "KEEP_DST=1: destinations kept in $DST_ROOT"
    return 0
  fi
  log "deleting this run's destination copies ($COPIED_ENTRIES entries) in $DST_ROOT"
  mass_delete "$WORKDIR" "$DST_ROOT" "$COPIED_ENTRIES"
}

# warn_stale_destinations -> destinations left by an interrupted run take
# space; they are not deleted here because a mass deletion right before
# timing is exactly what must not happen.
warn_stale_destinations() {
  local stale
  stale=$(find "$WORKDIR/dst" -mindepth 1 -maxdepth 1 -print 2>/dev/null | head -n 5)
  [[ -z $stale ]] && return 0
  warn "old destination directories found under $WORKDIR/dst (an interrupted run?):"
  printf '    %s\n' "$stale" >&2
  warn "they are not deleted now (deleting before timing would slow file creation); remove them when no benchmark runs for a few minutes"
}

main() {
  local args=("$@") w
  while (($#)); do
    case $1 in
      -h | --help)
        usage
        exit 0
        ;;
      --tree)
        [[ $# -ge 2 && -d $2 ]] || die "--tree needs an existing directory"
        CUSTOM_TREE=$(realpath "$2")
        shift 2
        ;;
      *) die "unknown argument '$1' (see --help; other options are environment variables)" ;;
    esac
  done
  [[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
  local cmdline
  cmdline=$(quote_cmdline env "QUICK=$QUICK" "RUNS=$RUNS" "WORKLOADS=$WORKLOADS" "$0" "${args[@]}")

  check_base_tools
  resolve_arsync
  trap cleanup EXIT
  fresh_fs_setup "$WORKDIR"
  if [[ -n $FRESH_IMG ]]; then
    NOTES+=("A fresh ext4 (\`mkfs.ext4 -N ${FRESH_FS_INODES:-8000000}\`, ${FRESH_FS_SIZE:-48G} sparse image, loop-mounted) was made for this run: sources and copies on it, removed at the end.")
  else
    NOTES+=("FRESH_FS=0: the work dir's file system as it was, not a fresh one.")
  fi
  mkdir -p "$WORKDIR/data" "$WORKDIR/dst"
  build_runstat "$WORKDIR/bin"
  warn_stale_destinations
  warn_if_busy
  wait_after_mass_delete "$WORKDIR"
  detect_tools
  DST_ROOT="$WORKDIR/dst/compare.$RUN_STAMP.$$"
  mkdir -p "$DST_ROOT"
  RESULTS=$(make_results_dir compare)
  write_machine_txt "$RESULTS/machine.txt" "$WORKDIR"
  log "results: $RESULTS; tools: ${ACTIVE_TOOLS[*]}; workloads: $WORKLOADS"
  echo "workload,tool,run,seconds,user_s,sys_s,cpu_pct,max_rss_kib,rc,other_cpu_pct" >"$RESULTS/results.csv"
  : >"$RESULTS/.workloads.tsv"

  for w in $WORKLOADS; do run_workload "$w"; done

  write_header "$cmdline"
  python3 "$BENCH_DIR/summarize.py" compare "$RESULTS"
  # .header.md and .workloads.tsv stay: summarize.py can rebuild summary.md from them.
  log "done: $RESULTS/summary.md"
}

main "$@"
