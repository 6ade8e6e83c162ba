#!/usr/bin/env bash
# The proxy's latency at a fixed rate before and after a purge of 1 M records (issue 14,
# docs/store.md "Purge"): one trace-sidecar (release) before an nginx upstream. Each run fills
# the store with RECORDS records of one account through the proxy (wrk), waits until the
# sidecar is idle, then measures the proxy's p50/p99 at RATE req/s (h2load, CLIENTS processes
# of one connection each, spread over one period, as bench/peers does) for SECS seconds
# without a purge ("none"), then sends DELETE …/Traces?All=true (answered at once: a marker)
# and measures again for SECS seconds ("after"). The marker's records leave the disk in the
# compactions the store runs anyway (their filters drop them); the records they dropped in the
# window are printed (sidecar_store_purge_removed_total), with each thread's CPU ticks in
# both windows. Prints each run and the medians.
#
#   bench/api/purge_p99.sh [BINARY=build/release/trace-sidecar]
#   env: RUNS (3), RECORDS (1000000), RATE (200), CLIENTS (4), SECS (20), LOAD_CPUS (0),
#        SIDECAR_CPUS (0,1), PURGE (1; 0 sends no DELETE: the two windows' ratio is then the
#        machine's own noise, the control for the ratio with a purge)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/build/release/trace-sidecar}
RUNS=${RUNS:-3}
RECORDS=${RECORDS:-1000000}
RATE=${RATE:-200}
CLIENTS=${CLIENTS:-4}
SECS=${SECS:-20}
LOAD_CPUS=${LOAD_CPUS:-0}
SIDECAR_CPUS=${SIDECAR_CPUS:-0,1}
PURGE=${PURGE:-1}
[ -x "$BIN" ] || { echo "no binary at $BIN (cmake --build build/release --target trace-sidecar)"; exit 2; }

. "$ROOT/bench/lib/sidecar_bench.sh"
bench_init
UP=$(free_port); PX=$(free_port); API=$(free_port)
ACCOUNT=ACbe0c4bbe0c4bbe0c4bbe0c4bbe0c4bbe
AUTH="$ACCOUNT:bench-token"

start_upstream "$UP" "$LOAD_CPUS"

write_sidecar_toml
start_sidecar "$BIN" "$SIDECAR_CPUS" "$PX"

LIST="http://127.0.0.1:$API/2012-04-24/Accounts/$ACCOUNT/Traces"
total() { curl -sf -u "$AUTH" "$LIST?PageSize=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'; }
removed() { curl -sf "http://127.0.0.1:$API/metrics" | awk '$1 == "sidecar_store_purge_removed_total" { print $2 + 0 }'; }
# Once the process has used no CPU for two seconds (at most 120 s): the fill's writes and
# compactions are done.
wait_idle() { ticks_when_idle 2 60 >/dev/null; }

# The fixed-rate load for SECS seconds: prints "p50_ms p99_ms achieved_rps".
rate_load() {
  local per=$((RATE / CLIENTS)) i
  local logs=()
  for i in $(seq "$CLIENTS"); do
    rm -f "$WORK/h2-$i.log"
    taskset -c "$LOAD_CPUS" h2load --h1 -c1 -t1 --rps="$per" -D"$SECS" \
      --log-file="$WORK/h2-$i.log" "http://127.0.0.1:$PX/" >"$WORK/h2-$i.out" 2>&1 &
    logs+=($!)
    sleep "$(awk -v r="$RATE" 'BEGIN { printf "%.4f", 1 / r }')"
  done
  for p in "${logs[@]}"; do wait "$p"; done
  cat "$WORK"/h2-*.log | python3 -c '
import sys
lat = sorted(int(l.split("\t")[2]) for l in sys.stdin if l.count("\t") >= 2 and l.split("\t")[1] == "200")
def pct(p):
    k = (len(lat) - 1) * p / 100; lo = int(k); hi = min(lo + 1, len(lat) - 1)
    return lat[lo] + (lat[hi] - lat[lo]) * (k - lo)
print("%.3f %.3f %.0f" % (pct(50) / 1000, pct(99) / 1000, len(lat) / float(sys.argv[1])))' "$SECS"
}

fill() {
  local n
  n=$(total)
  while [ "$n" -lt "$RECORDS" ]; do
    taskset -c "$LOAD_CPUS" wrk -t1 -c50 -d5s "http://127.0.0.1:$PX/" >/dev/null
    n=$(total)
  done
  echo "$n"
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq "$RUNS"); do
  records=$(fill)
  wait_idle
  thread_ticks >"$WORK/t0"
  none=$(rate_load)
  thread_ticks >"$WORK/t1"
  before=$(removed)
  t0=$(date +%s.%N)
  deleted=0
  if [ "$PURGE" = 1 ]; then
    deleted=$(curl -sf -u "$AUTH" -X DELETE "$LIST?All=true" |
              python3 -c 'import json,sys; print(json.load(sys.stdin)["deleted"])')
  fi
  answered=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  left=$(total)
  thread_ticks >"$WORK/t2"
  with=$(rate_load)
  thread_ticks >"$WORK/t3"
  during=$(( $(removed) - before ))
  echo "$none" >>"$WORK/none.txt"
  echo "$with" >>"$WORK/with.txt"
  read -r n50 n99 nrps <<<"$none"
  read -r w50 w99 wrps <<<"$with"
  echo "run $run: $records records; without a purge p50 $n50 ms, p99 $n99 ms ($nrps req/s);" \
       "DELETE answered in $answered s (deleted $deleted, list total then $left);" \
       "after it p50 $w50 ms, p99 $w99 ms ($wrps req/s), $during records removed from disk" \
       "in that window"
  # Where the CPU went: ticks (1/100 s) per thread name in each window.
  thread_ticks_between "$WORK/t0" "$WORK/t1" >"$WORK/w1"
  thread_ticks_between "$WORK/t2" "$WORK/t3" >"$WORK/w2"
  echo "  CPU ticks per thread (without a purge / after it):" \
       "$(join -a1 -a2 -e0 -o 0,1.2,2.2 "$WORK/w1" "$WORK/w2" |
          awk '$2 + $3 > 0 { printf "%s %d/%d; ", $1, $2, $3 }')"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
n50=$(cut -d' ' -f1 "$WORK/none.txt" | median); n99=$(cut -d' ' -f2 "$WORK/none.txt" | median)
w50=$(cut -d' ' -f1 "$WORK/with.txt" | median); w99=$(cut -d' ' -f2 "$WORK/with.txt" | median)
echo "proxy at $RATE req/s, median of $RUNS runs: p50 ${n50} ms, p99 ${n99} ms without a purge;" \
     "p50 ${w50} ms, p99 ${w99} ms after the purge; p99 ratio" \
     "$(awk -v a="$w99" -v b="$n99" 'BEGIN { printf "%.2f", a / b }')"
