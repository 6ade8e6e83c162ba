#!/usr/bin/env bash
# The proxy's efficiency with live-stream readers attached against none (issue 14): one
# trace-sidecar (1 proxy thread, every exchange recorded) in front of an nginx upstream,
# saturated by wrk (-t1 -c50, keep-alive) or, with RATE, sent RATE requests a second (h2load
# --h1, 10 connections at RATE/10 each: issue 14's 1 000 records/s), alternating runs without
# readers and with READERS `curl -N` streams of the account's traces attached. Efficiency as bench/peers defines it:
# requests completed / CPU-seconds of the sidecar process (all threads' run time, schedstat),
# counted from the run's start until the process is idle again (the store's writes and the
# events sent after the run included). Prints the median of RUNS runs of each and the ratio.
#
#   bench/stream/efficiency.sh [BINARY=build/release/trace-sidecar]
#   env: RUNS (3), DURATION (10s), READERS (10), RATE (unset: saturation), LOAD_CPUS (0),
#        PROXY_CPUS (1)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/build/release/trace-sidecar}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
READERS=${READERS:-10}
RATE=${RATE:-}
LOAD_CPUS=${LOAD_CPUS:-0}
PROXY_CPUS=${PROXY_CPUS:-1}
# This script and whatever it starts without a CPU of its own (the readers' line counters, the
# CPU readings between runs) stay off the sidecar's CPUs: they would compete with it there.
taskset -pc "$LOAD_CPUS" $$ >/dev/null
[ -x "$BIN" ] || { echo "no binary at $BIN (cmake --build build/release --target trace-sidecar)"; exit 2; }

. "$ROOT/bench/lib/sidecar_bench.sh"
bench_init
UP=$(free_port); PX=$(free_port); API=$(free_port)
ACCOUNT=ACbe0c4bbe0c4bbe0c4bbe0c4bbe0c4bbe
ADMIN=ACad0c4bad0c4bad0c4bad0c4bad0c4bad

start_upstream "$UP" "$LOAD_CPUS"

# 8 streams per caller at most: the readers are split between the account and an administrator.
write_sidecar_toml "threads = 1" "[[account]]
sid = \"$ADMIN\"
auth_token = \"admin-token\"
friendly_name = \"Admin\"
role = \"administrator\""
start_sidecar "$BIN" "$PROXY_CPUS" "$PX"

# The load of one run; prints the requests completed.
load() {
  if [ -n "$RATE" ]; then
    taskset -c "$LOAD_CPUS" h2load --h1 -c10 --rps=$((RATE / 10)) -D "${DURATION%s}" \
      "http://127.0.0.1:$PX/" | awk '/^requests:/ { print $8 }'
  else
    taskset -c "$LOAD_CPUS" wrk -t1 -c50 -d"$DURATION" "http://127.0.0.1:$PX/" |
      awk '/requests in/ { print $1 }'
  fi
}

# One run: prints "requests cpu_seconds requests_per_cpu_second".
run_once() {
  local before after requests
  ticks_when_idle 1 60 >/dev/null
  before=$(cpu_ns)
  requests=$(load)
  ticks_when_idle 1 60 >/dev/null
  after=$(cpu_ns)
  awk -v r="$requests" -v ns=$((after - before)) \
    'BEGIN { s = ns / 1e9; printf "%d %.3f %.0f\n", r, s, (s > 0 ? r / s : 0) }'
}

# mawk (Debian's awk) reads a pipe in blocks: -W interactive makes it see each line as it comes.
LINE_AWK=awk
if awk -W version 2>&1 | grep -q mawk; then LINE_AWK="awk -W interactive"; fi
# READERS streams; each one's events are counted into count-N when it ends, and ready-N
# appears with its first line (the opening comment).
readers_on() {
  READER_PIDS=()
  rm -f "$WORK"/ready-* "$WORK"/count-*
  for i in $(seq "$READERS"); do
    if [ $((i % 2)) = 0 ]; then cred="$ADMIN:admin-token"; else cred="$ACCOUNT:bench-token"; fi
    taskset -c "$LOAD_CPUS" curl -sN -u "$cred" \
      "http://127.0.0.1:$API/2012-04-24/Accounts/$ACCOUNT/Traces/Stream" \
      > >($LINE_AWK -v ready="$WORK/ready-$i" -v count="$WORK/count-$i" '
            NR == 1 { print "" > ready; close(ready) }
            /^event: trace/ { n++ }
            END { print n + 0 > count }') &
    READER_PIDS+=($!)
    PIDS+=($!)
  done
  for i in $(seq "$READERS"); do
    until [ -f "$WORK/ready-$i" ]; do sleep 0.1; done
  done
}
readers_off() {
  for p in "${READER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  for i in $(seq "$READERS"); do
    for _ in $(seq 50); do [ -f "$WORK/count-$i" ] && break; sleep 0.1; done
  done
}

taskset -c "$LOAD_CPUS" wrk -t1 -c50 -d2s "http://127.0.0.1:$PX/" >/dev/null  # warm-up
if [ -n "$RATE" ]; then what="$RATE requests/s"; else what="saturation (wrk -c50)"; fi
echo "load: $what; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  thread_cpu_us >"$WORK/n0"
  run_once >>"$WORK/none.txt"
  thread_cpu_us >"$WORK/n1"
  readers_on
  thread_cpu_us >"$WORK/r0"
  run_once >>"$WORK/readers.txt"
  thread_cpu_us >"$WORK/r1"
  readers_off
  events=$(cat "$WORK"/count-* 2>/dev/null | awk '{ n += $1 } END { print n + 0 }')
  thread_ticks_between "$WORK/n0" "$WORK/n1" >"$WORK/nw"
  thread_ticks_between "$WORK/r0" "$WORK/r1" >"$WORK/rw"
  # The API threads' CPU per event sent: what each reader costs, less moved by the machine's
  # other work than the whole sidecar's requests per CPU-second.
  api=$(awk '$1 ~ /^api-/ { n += $2 } END { print n + 0 }' "$WORK/rw")
  echo "run $run: none $(tail -1 "$WORK/none.txt"); $READERS readers $(tail -1 "$WORK/readers.txt"), $events events;" \
       "API threads $(awk -v t="$api" -v e="$events" \
                      'BEGIN { printf "%.2f", (e > 0 ? t / e : 0) }') us of CPU per event"
  echo "  CPU ms per thread (none / readers):" \
       "$(join -a1 -a2 -e0 -o 0,1.2,2.2 "$WORK/nw" "$WORK/rw" |
          awk '$2 + $3 >= 500 { printf "%s %.0f/%.0f; ", $1, $2 / 1000, $3 / 1000 }')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
none=$(cut -d' ' -f3 "$WORK/none.txt" | median)
with=$(cut -d' ' -f3 "$WORK/readers.txt" | median)
echo "requests per CPU-second, median of $RUNS: none $none, $READERS readers $with," \
     "ratio $(awk -v a="$with" -v b="$none" 'BEGIN { printf "%.2f", a / b }')"
