#!/usr/bin/env bash
# Does shipping keep up with the proxy at saturation? (issue 16, docs/fleet.md "Measured")
# One clickhouse-server (the tests' config, free ports, a scratch directory) and one
# trace-sidecar (release, every exchange recorded and shipped to it) before an nginx upstream,
# on the same two cores. wrk saturates the proxy with the peers' webhook form POST for SECS
# seconds; every STEP seconds the script samples the sidecar's backlog (records committed, not
# yet shipped) and the records shipped, then times how long the backlog takes to drain once
# the load stops. Before that, the same load runs against a sidecar that records without
# shipping (same binary, same cores, ClickHouse idle): the difference of the sidecar's CPU per
# exchange between the two phases is its CPU per shipped record. Prints the samples, the
# proxy's and the shipper's rates, both phases' sidecar CPU per exchange, and ClickHouse's CPU
# per shipped record.
#
#   bench/fleet/keep_up.sh [BINARY=build/release/trace-sidecar]
#   env: SECS (60), STEP (5), THREADS (1: proxy threads and wrk threads), CONNECTIONS (50)
#
# "Keeps up" means the backlog does not grow over the run: its samples stay within a bound
# (a batch gathering and one in flight) instead of rising with time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$ROOT/build/release/trace-sidecar}
SECS=${SECS:-60}
STEP=${STEP:-5}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-50}
[ -x "$BIN" ] || { echo "no binary at $BIN (cmake --build build/release --target trace-sidecar)"; exit 2; }

. "$ROOT/bench/lib/sidecar_bench.sh"
bench_init
UP=$(free_port); PX=$(free_port); API=$(free_port); CH=$(free_port); CH_TCP=$(free_port)
ACCOUNT=ACae6e420f425248d6a26948c17a9e2acf  # the AccountSid of the form body: every exchange is recorded

mkdir -p "$WORK/ch"
sed -e "s|@DIR@|$WORK/ch|g" -e "s|@HTTP_PORT@|$CH|g" -e "s|@TCP_PORT@|$CH_TCP|g" \
  -e "s|@PASSWORD@|bench|g" -e "s|@SHARDS@||g" "$ROOT/tests/fleet/clickhouse/config.xml" \
  >"$WORK/ch/config.xml"
/usr/sbin/clickhouse-server --config-file="$WORK/ch/config.xml" >/dev/null 2>&1 &
CLICKHOUSE=$!
PIDS+=($CLICKHOUSE)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$CH/ping" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$CH/ping" >/dev/null || { echo "clickhouse-server did not start" >&2; exit 1; }

start_upstream "$UP" 0
metric() { curl -sf "http://127.0.0.1:$API/metrics" | awk -v m="$1" '$1 == m { print $2 + 0 }'; }
ch_ticks() { awk '{ print $14 + $15 }' "/proc/$CLICKHOUSE/stat"; }
hz=$(getconf CLK_TCK)
export BENCH_BODY=$ROOT/bench/peers/webhook.form
load() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECS}s" -s "$ROOT/bench/peers/post.lua" \
    "http://127.0.0.1:$PX/webhook" >"$WORK/wrk.out" 2>&1
}
requests() { awk '/requests in/ { print $1 }' "$WORK/wrk.out"; }
stop_sidecar() {
  kill "$SIDECAR"
  wait "$SIDECAR" 2>/dev/null || true
  rm -rf "$WORK/trace-data"
}

# Phase 1: recording only.
write_sidecar_toml "threads = $THREADS"
start_sidecar "$BIN" 0,1 "$PX"
t0=$(ticks)
load
t1=$(ticks_when_idle 1 60)
base_requests=$(requests)
base_ticks=$((t1 - t0))
stop_sidecar

# Phase 2: recording and shipping.
write_sidecar_toml "threads = $THREADS" "[fleet]
clickhouse = \"http://127.0.0.1:$CH/\"
user = \"sidecar\"
password = \"bench\"
node = \"bench\""
start_sidecar "$BIN" 0,1 "$PX"

# The schema is created by the sidecar's first batch: a short warm-up ships it.
curl -sf -o /dev/null "http://127.0.0.1:$PX/warm-up"
until [ "$(metric sidecar_fleet_records_shipped_total)" -ge 1 ] 2>/dev/null; do sleep 0.2; done

t0=$(ticks); c0=$(ch_ticks); s0=$(metric sidecar_fleet_records_shipped_total)
load &
WRK=$!
echo "  t_s  backlog_records  backlog_s  shipped_total"
start=$(date +%s.%N)
while kill -0 "$WRK" 2>/dev/null; do
  sleep "$STEP"
  kill -0 "$WRK" 2>/dev/null || break
  printf '%5.0f  %15s  %9s  %13s\n' "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')" \
    "$(metric sidecar_fleet_backlog_records)" "$(metric sidecar_fleet_backlog_seconds)" \
    "$(metric sidecar_fleet_records_shipped_total)"
done
wait "$WRK" || true
stopped=$(date +%s.%N)
backlog_at_end=$(metric sidecar_fleet_backlog_records)
while [ "$(metric sidecar_fleet_backlog_records)" -gt 0 ]; do sleep 0.1; done
drained=$(date +%s.%N)
t1=$(ticks_when_idle 1 60); c1=$(ch_ticks); s1=$(metric sidecar_fleet_records_shipped_total)

python3 - "$base_requests" "$base_ticks" "$(requests)" "$SECS" "$((s1 - s0))" "$backlog_at_end" \
  "$stopped" "$drained" "$((t1 - t0))" "$((c1 - c0))" "$hz" <<'PY'
import sys
base_req, base_ticks, req, secs, shipped, backlog, stopped, drained, ticks, ch_ticks, hz = sys.argv[1:]
base_req, base_ticks, req, secs = int(base_req), int(base_ticks), int(req), float(secs)
shipped, backlog, stopped, drained, hz = int(shipped), int(backlog), float(stopped), float(drained), float(hz)
base_us = base_ticks / hz / base_req * 1e6
ship_us = int(ticks) / hz / req * 1e6
print(f"recording only:       {base_req} exchanges in {secs:.0f} s = {base_req / secs:,.0f} req/s; "
      f"sidecar CPU per exchange {base_us:.1f} us")
print(f"recording + shipping: {req} exchanges in {secs:.0f} s = {req / secs:,.0f} req/s; "
      f"sidecar CPU per exchange {ship_us:.1f} us (so {ship_us - base_us:.1f} us per shipped record)")
print(f"shipped during and after: {shipped} records; backlog when the load stopped: {backlog}, "
      f"drained {drained - stopped:.1f} s later")
print(f"ClickHouse CPU per shipped record: {int(ch_ticks) / hz / max(shipped, 1) * 1e6:.1f} us "
      f"(same two cores as the sidecar, nginx and wrk)")
PY
