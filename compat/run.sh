#!/usr/bin/env bash
# compat/run.sh — standalone entry point of the differential compat suite (arsync vs rsync).
# Usage: compat/run.sh [FILTER...] [libtest options]
#   e.g. compat/run.sh 10-paths 30-symlinks --test-threads=1
# Env: ARSYNC_BIN, RSYNC_BIN, ARSYNC_EXTRA_ARGS, COMPAT_KEEP=1, COMPAT_SHOW=1, COMPAT_TIMEOUT.
# See compat/README.md.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
exec cargo test --test compat -- "$@"
