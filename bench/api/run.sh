#!/usr/bin/env bash
# Requests per second (and p50/p99) of the Traces API with wrk, for GET by sid, for a page of
# 50 and for the same page as HAR (Traces.har), on a trace_store holding RECORDS records of
# 1-2 KB; beside nginx serving the very same response bytes as static files, in the same run.
# Prints the median of RUNS runs of each (the targets alternate within each run).
#
#   bench/api/run.sh [RECORDS=1000000] [DURATION=10s]
#   env: BUILD (default build/release), RUNS (3), CONNS (32), THREADS (2), WORK (data dir),
#        SKIP_BUILD (set: use the binary as built),
#        TARGETS (default "api_item nginx_item api_page nginx_page api_har_page"; e.g.
#        "api_page api_har_page" for the HAR-vs-JSON figure alone; empty for none),
#        PURGE (set: at the end, DELETE ...?All=true of the whole account and time until its
#        records are gone from the list; the dataset is refilled by the next run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build/release}
RECORDS=${1:-1000000}
DURATION=${2:-10s}
RUNS=${RUNS:-3}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
WORK=${WORK:-$ROOT/bench/results/tmp/api}
mkdir -p "$WORK/www"

if [ ! -d "$BUILD" ]; then cmake --preset release -S "$ROOT" >/dev/null; fi
if [ -z "${SKIP_BUILD:-}" ]; then cmake --build "$BUILD" --target api_bench_server -j2 >/dev/null; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BUILD/bench/api/api_bench_server" "$WORK/data" "$RECORDS" >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
NGINX_PID=""
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT
until grep -q '^ready' "$WORK/server.out"; do
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/server.err"; exit 1; }
  sleep 1
done
field() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/server.out"; }
PORT=$(field port); ACCOUNT=$(field account); TOKEN=$(field token); SID=$(field sid)
AUTH="Authorization: Basic $(printf '%s:%s' "$ACCOUNT" "$TOKEN" | base64 -w0)"
ITEM="/2012-04-24/Accounts/$ACCOUNT/Traces/$SID"
PAGE="/2012-04-24/Accounts/$ACCOUNT/Traces"
curl -sf -H "$AUTH" "http://127.0.0.1:$PORT$ITEM" >"$WORK/www/item.json"
curl -sf -H "$AUTH" "http://127.0.0.1:$PORT$PAGE?PageSize=50" >"$WORK/www/page.json"
curl -sf -H "$AUTH" "http://127.0.0.1:$PORT$PAGE.har?PageSize=50" >"$WORK/www/page.har"

NGPORT=$(free_port)
NGUSER=""
if [ "$(id -u)" = 0 ]; then NGUSER="user root;"; fi
cat >"$WORK/nginx.conf" <<CONF
$NGUSER
worker_processes 2;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGPORT;
    root $WORK/www;
    default_type application/json;
  }
}
CONF
nginx -e "$WORK/nginx.err" -c "$WORK/nginx.conf" -p "$WORK" &
NGINX_PID=$!
until curl -sf "http://127.0.0.1:$NGPORT/item.json" >/dev/null; do sleep 0.2; done

# One wrk run: prints "rps p50_ms p99_ms".
measure() {
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "$AUTH" "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A URL=(
  [api_item]="http://127.0.0.1:$PORT$ITEM"
  [nginx_item]="http://127.0.0.1:$NGPORT/item.json"
  [api_page]="http://127.0.0.1:$PORT$PAGE?PageSize=50"
  [nginx_page]="http://127.0.0.1:$NGPORT/page.json"
  [api_har_page]="http://127.0.0.1:$PORT$PAGE.har?PageSize=50"
)
TARGETS=${TARGETS-api_item nginx_item api_page nginx_page api_har_page}
for run in $(seq "$RUNS"); do
  for k in $TARGETS; do
    measure "${URL[$k]}" >>"$WORK/$k.txt.$$"
  done
done

echo "records: $(field records), item $(wc -c <"$WORK/www/item.json") B, page $(wc -c <"$WORK/www/page.json") B," \
     "HAR page $(wc -c <"$WORK/www/page.har") B;" \
     "wrk -t$THREADS -c$CONNS -d$DURATION, median of $RUNS runs"
printf '%-12s %10s %9s %9s\n' target req/s p50_ms p99_ms
for k in $TARGETS; do
  f="$WORK/$k.txt.$$"
  printf '%-12s %10s %9s %9s\n' "$k" "$(cut -d' ' -f1 "$f" | median)" \
    "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)"
done
ratio() { # ratio NAME A B: the medians' ratio A/B when both targets ran
  [ -f "$WORK/$2.txt.$$" ] && [ -f "$WORK/$3.txt.$$" ] || return 0
  a=$(cut -d' ' -f1 "$WORK/$2.txt.$$" | median)
  b=$(cut -d' ' -f1 "$WORK/$3.txt.$$" | median)
  echo "$1: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
}
ratio "api/nginx item" api_item nginx_item
ratio "api/nginx page" api_page nginx_page
ratio "HAR page/JSON page" api_har_page api_page
rm -f "$WORK"/*.txt.$$

if [ -n "${PURGE:-}" ]; then
  start=$(date +%s.%N)
  curl -sf -X DELETE -H "$AUTH" "http://127.0.0.1:$PORT$PAGE?All=true" >"$WORK/purge.json"
  until [ "$(curl -sf -H "$AUTH" "http://127.0.0.1:$PORT$PAGE?PageSize=1" |
             python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')" = 0 ]; do
    sleep 0.1
  done
  end=$(date +%s.%N)
  echo "purge: $(cat "$WORK/purge.json") gone from the list in" \
       "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }') s"
fi
