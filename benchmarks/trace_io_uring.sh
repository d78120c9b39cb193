#!/usr/bin/env bash
# trace_io_uring.sh — run one command under trace_io_uring_ops.bt.
#
#   benchmarks/trace_io_uring.sh COMMAND [ARGS...]
#   benchmarks/trace_io_uring.sh target/release/arsync -a --copy-engine=write-managed SRC DST/
#
# Checks what the bpftrace script needs before starting it, and says how to
# fix what is missing:
#   - bpftrace on PATH (apt-get install -y bpftrace);
#   - root (bpftrace loads BPF programs);
#   - the io_uring tracepoints under tracefs (/sys/kernel/tracing, or the
#     older /sys/kernel/debug/tracing). Without a mounted tracefs bpftrace
#     stops with "tracepoint not found: io_uring:io_uring_submit_req". As
#     root the script mounts it (mount -t tracefs nodev /sys/kernel/tracing);
#     the mount stays after the script ends.
# Then runs: bpftrace trace_io_uring_ops.bt -c COMMAND. bpftrace splits -c
# on spaces without shell quoting, so the command is handed over through a
# small bash script that execs it (same pid): arguments may contain spaces.
#
# Environment: BPFTRACE (default: bpftrace on PATH).
# Output: bpftrace's summary on stdout; the command's own output is not
# redirected.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BT="$BENCH_DIR/trace_io_uring_ops.bt"
BPFTRACE=${BPFTRACE:-bpftrace}
TRACEFS_MOUNT=/sys/kernel/tracing
LAUNCHER='' # the exec script handed to bpftrace -c (removed at exit)

die() {
  printf 'trace_io_uring.sh: %s\n' "$*" >&2
  exit 1
}
say() { printf 'trace_io_uring.sh: %s\n' "$*" >&2; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

# io_uring_events_dir -> prints the events/io_uring directory of a mounted
# tracefs; returns 1 when none is found.
io_uring_events_dir() {
  local d
  for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
    if [[ -d $d/events/io_uring ]]; then
      echo "$d/events/io_uring"
      return 0
    fi
  done
  return 1
}

# tracefs_mounted -> true when a tracefs is mounted anywhere (read from
# /proc/self/mounts: a non-root user may not be allowed to look inside).
tracefs_mounted() {
  awk '$3 == "tracefs" { found = 1 } END { exit !found }' /proc/self/mounts
}

check_bpftrace() {
  command -v "$BPFTRACE" >/dev/null 2>&1 ||
    die "bpftrace not found; install it: apt-get install -y bpftrace (Debian/Ubuntu), dnf install bpftrace (Fedora)"
}

# check_root CMD ARGS... -> dies with the sudo line to use when not root.
check_root() {
  ((EUID == 0)) || die "bpftrace needs root; run: sudo $(printf '%q ' "$0" "$@")"
}

# check_tracefs -> makes sure the io_uring tracepoints are visible; mounts
# tracefs when it is missing (we are root by now).
check_tracefs() {
  local dir
  if dir=$(io_uring_events_dir); then
    :
  elif [[ -e /sys/kernel/tracing/available_events || -e /sys/kernel/debug/tracing/available_events ]]; then
    die "tracefs is mounted but has no events/io_uring: this kernel has no io_uring tracepoints (CONFIG_IO_URING off, or too old)"
  else
    say "tracefs is not mounted (bpftrace would stop with 'tracepoint not found: io_uring:io_uring_submit_req'); mounting it: mount -t tracefs nodev $TRACEFS_MOUNT"
    mount -t tracefs nodev "$TRACEFS_MOUNT" ||
      die "mount -t tracefs nodev $TRACEFS_MOUNT failed (message above); without tracefs bpftrace cannot attach to tracepoints"
    dir=$(io_uring_events_dir) ||
      die "tracefs is mounted now but has no events/io_uring: this kernel has no io_uring tracepoints"
  fi
  # The script probes io_uring_submit_req (kernel >= 5.19); older kernels
  # call it io_uring_submit_sqe (see the comment in the .bt).
  [[ -d $dir/io_uring_submit_req ]] ||
    die "no io_uring_submit_req tracepoint in $dir (kernel older than 5.19?; see trace_io_uring_ops.bt); this kernel has: $(ls "$dir" | tr '\n' ' ')"
}

main() {
  case ${1:-} in
    -h | --help)
      usage
      exit 0
      ;;
    '') die "usage: $0 COMMAND [ARGS...] (see --help)" ;;
  esac
  check_bpftrace
  local cmd
  cmd=$(type -P "$1") || die "command not found: $1"
  [[ $cmd == /* ]] || cmd=$(realpath "$cmd")
  shift
  # Root first: without it, the mount would fail anyway.
  if ((EUID != 0)); then
    if ! tracefs_mounted; then
      say "tracefs is not mounted; as root, run first: mount -t tracefs nodev $TRACEFS_MOUNT"
    fi
    check_root "$cmd" "$@"
  fi
  check_tracefs
  # bpftrace (0.17) splits -c on spaces, without shell quoting, and runs
  # only ELF binaries. So -c starts bash on a small script that execs the
  # quoted command: exec keeps the pid bpftrace filters on (cpid).
  LAUNCHER=$(mktemp /tmp/trace_io_uring.XXXXXX)
  trap 'rm -f "$LAUNCHER"' EXIT
  printf 'exec %s\n' "$(printf '%q ' "$cmd" "$@")" >"$LAUNCHER"
  "$BPFTRACE" "$BT" -c "$BASH $LAUNCHER"
}

main "$@"
