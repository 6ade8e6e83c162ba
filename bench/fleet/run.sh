#!/usr/bin/env bash
# The fleet benchmark: starts two clickhouse-server processes (the tests' config, free ports,
# a scratch directory) as a two-shard cluster with docs/fleet.md's tables, builds the release
# fleet_bench and runs it against them, then stops the servers by pid.
#
#   bench/fleet/run.sh [RECORDS] [extra fleet_bench arguments...]     (default 1000000)
#
# PRESET=dev uses the dev build (Debug) instead of building the release preset.
# FLEET_BENCH=path runs that fleet_bench binary instead (an earlier build, to compare in one
# session); GRANULARITY=8192 makes the tables as before index_granularity 1024.
set -euo pipefail
cd "$(dirname "$0")/../.."
records=${1:-1000000}
shift || true
work=$(mktemp -d /tmp/fleet-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http1=$(free_port); tcp1=$(free_port); http2=$(free_port); tcp2=$(free_port)
shards="      <shard><replica><host>127.0.0.1</host><port>$tcp1</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>$tcp2</port></replica></shard>"
start() {  # name http tcp
  local d=$work/$1
  mkdir -p "$d"
  python3 - "$d" "$2" "$3" "$shards" > "$d/config.xml" <<'PY'
import sys
d, http, tcp, shards = sys.argv[1:]
xml = open("tests/fleet/clickhouse/config.xml").read()
for k, v in (("@DIR@", d), ("@HTTP_PORT@", http), ("@TCP_PORT@", tcp), ("@PASSWORD@", "bench"),
             ("@SHARDS@", shards)):
    xml = xml.replace(k, v)
print(xml)
PY
  /usr/sbin/clickhouse-server --config-file="$d/config.xml" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$2/ping" >/dev/null && return; sleep 0.1; done
  echo "clickhouse-server $1 did not start" >&2; exit 1
}
start ch1 "$http1" "$tcp1"
start ch2 "$http2" "$tcp2"
columns="(day Date, sid String, created_ms Int64, account_sid String, org_sid String,
  session_sid String, node String, completed UInt8, api UInt8, latency_ms Int64,
  response_code String, method String, request_path String, request_url String,
  request_body String, response_body String, json String)"
for port in "$http1" "$http2"; do
  for sql in "CREATE DATABASE traces" \
    "CREATE TABLE traces.traces_local $columns ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY (account_sid, sid) SETTINGS index_granularity = ${GRANULARITY:-1024}" \
    "CREATE TABLE traces.traces AS traces.traces_local ENGINE = Distributed(fleet, traces, traces_local, cityHash64(account_sid))" \
    "CREATE TABLE traces.traces_local_purged (day Date, sid String, account_sid String, purged_ms Int64) ENGINE = ReplacingMergeTree() PARTITION BY day ORDER BY sid" \
    "CREATE TABLE traces.traces_purged AS traces.traces_local_purged ENGINE = Distributed(fleet, traces, traces_local_purged, cityHash64(account_sid))"; do
    curl -sf "http://127.0.0.1:$port/" --data-binary "$sql" >/dev/null
  done
done

export CCACHE_BASEDIR=${CCACHE_BASEDIR:-/work}
preset=${PRESET:-release}
bench=${FLEET_BENCH:-}
if [ -z "$bench" ]; then
  cmake --preset "$preset" >/dev/null
  cmake --build "build/$preset" --target fleet_bench -j2 >/dev/null
  bench="build/$preset/bench/fleet/fleet_bench"
fi
"$bench" --dir "$work/store" --records "$records" \
  --clickhouse "http://127.0.0.1:$http1/" --local-table traces_local \
  --shard "http://127.0.0.1:$http1/" --shard "http://127.0.0.1:$http2/" \
  --clickhouse-pid "${pids[0]}" --clickhouse-pid "${pids[1]}" "$@"
echo "rows per shard: $(curl -sf "http://127.0.0.1:$http1/" --data-binary 'SELECT count() FROM traces.traces_local') / $(curl -sf "http://127.0.0.1:$http2/" --data-binary 'SELECT count() FROM traces.traces_local')"
echo "ClickHouse disk: $(du -sh "$work/ch1/data" "$work/ch2/data" | awk '{print $1}' | paste -sd' ')"
