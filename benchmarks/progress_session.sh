#!/usr/bin/env bash
# Records what a user sees of arsync's progress bar on a terminal: runs one
# copy in a detached tmux window (100 columns, then resized to 40 halfway
# when RESIZE=1) and captures the visible screen every 0.5 s into a text
# file, one frame per capture. Used for issue 14's notes; not a timing.
#
#   benchmarks/progress_session.sh OUT.txt -- ARSYNC-ARGS...
#
# Example: a 4 GiB file and a 60,000-file tree on the bench file system:
#   head -c 4G /dev/urandom >/mnt/bench/big4g
#   python3 benchmarks/gen_tree.py ... /mnt/bench/tree60k
#   benchmarks/progress_session.sh /tmp/big.txt -- -aP /mnt/bench/big4g /mnt/bench/d1/
#   benchmarks/progress_session.sh /tmp/tree.txt -- -a --info=progress2 /mnt/bench/tree60k/ /mnt/bench/d2/
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out=${1:?usage: progress_session.sh OUT.txt -- ARGS...}
shift
[[ ${1:-} == -- ]] && shift
command -v tmux >/dev/null || die "tmux is needed"
bin="$REPO_ROOT/target/release/arsync"
[[ -x $bin ]] || die "build first: cargo build --release"

session="arsync-progress-$$"
done_flag=$(mktemp)
rm -f "$done_flag"
cmd="$(printf '%q ' "$bin" "$@"); echo; echo \"exit \$?\"; touch $(printf '%q' "$done_flag"); sleep 3"
tmux new-session -d -s "$session" -x 100 -y 12 "$cmd"
: >"$out"
start=$(date +%s.%N)
frame=0
while tmux has-session -t "$session" 2>/dev/null; do
  now=$(date +%s.%N)
  printf -- '--- t=%.1fs\n' "$(echo "$now - $start" | bc)" >>"$out"
  tmux capture-pane -p -t "$session" >>"$out" 2>/dev/null || break
  frame=$((frame + 1))
  if [[ ${RESIZE:-0} == 1 && $frame == 6 ]]; then
    tmux resize-window -t "$session" -x 40 -y 12 2>/dev/null || true
  fi
  [[ -e $done_flag ]] && break
  sleep 0.5
done
tmux capture-pane -p -t "$session" >>"$out" 2>/dev/null || true
tmux kill-session -t "$session" 2>/dev/null || true
rm -f "$done_flag"
log "wrote $frame frames to $out"
