#!/usr/bin/env bash
# Soak of trace-sidecar (issue 8): a steady rate with a short retention; RSS, open fds and
# store size must stay flat. Usage: bench/soak/run.sh [--duration 600] [--ci] [--help]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/soak.py" "$@" &
pid=$!
# soak.py stops every server it started when it ends; this passes our own interruption on.
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"' INT TERM
wait "$pid"
