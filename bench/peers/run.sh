#!/usr/bin/env bash
# Benchmarks trace-sidecar against direct, nginx, HAProxy and mitmdump in one run (issue 7).
# Usage: bench/peers/run.sh [--rounds 3] [--quick] [--only nginx-1t,haproxy-1t] [--help]
# Results: bench/results/<date>-peers.{md,png,json} and latest.{md,png}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/bench.py" "$@" &
pid=$!
# bench.py stops every server it started when it ends; this passes our own interruption on.
trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid"' INT TERM
wait "$pid"
