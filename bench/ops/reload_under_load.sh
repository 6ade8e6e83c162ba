#!/usr/bin/env bash
# Reload under load (docs/operations.md): wrk keeps the proxy saturated while 100 SIGHUPs
# alternate two configurations (other token, one more route, other body_limit and redaction
# list). Passes when no request failed, every exchange became a record (none lost), the
# reloads were done, and memory stays flat: 100 more reloads without traffic add under 4 MiB
# of resident memory (under load it also grows with the store's memtable, bounded loosely).
# Prints the figures; RELOADS=0 gives the same run without reloads, for comparison.
#
#   bench/ops/reload_under_load.sh [path/to/trace-sidecar]   (default build/release, else dev)
# Env: DURATION=8 CONNECTIONS=50 RELOADS=100
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-}
if [[ -z $bin ]]; then
  bin=$root/build/release/trace-sidecar
  [[ -x $bin ]] || bin=$root/build/dev/trace-sidecar
fi
DURATION=${DURATION:-8} CONNECTIONS=${CONNECTIONS:-50} RELOADS=${RELOADS:-100}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); proxy_port=$(free_port); api_port=$(free_port)

mkdir -p "$work/up"
cat >"$work/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/up/nginx.pid; error_log $work/up/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000;
  server { listen 127.0.0.1:$up_port; location / { return 200 "hello from upstream\n"; } } }
CONF
nginx -c "$work/up/nginx.conf" -p "$work/up" & pids+=($!)

sid=ACae6e420f425248d6a26948c17a9e2acf
config() {  # token body_limit extra-route
  cat <<CONF
[proxy]
listen = "127.0.0.1:$proxy_port"
[api]
listen = "127.0.0.1:$api_port"
[store]
path = "$work/data"
body_limit = "$2"
redact_fields = ["$1"]
[cache]
enabled = false
[[account]]
sid = "$sid"
auth_token = "$1"
traces = true
[[route]]
prefix = "/"
upstream = "http://127.0.0.1:$up_port/"
account = "$sid"
$3
CONF
}
config token-a 100KiB "" >"$work/a.toml"
config token-b 1KiB $'[[route]]\nprefix = "/other/"\nupstream = "http://127.0.0.1:'"$up_port"$'/"' >"$work/b.toml"
cp "$work/a.toml" "$work/run.toml"
"$bin" --config "$work/run.toml" 2>"$work/sidecar.log" & sc=$!; pids+=($sc)
for _ in $(seq 100); do grep -q listening "$work/sidecar.log" && break; sleep 0.1; done
grep -q listening "$work/sidecar.log" || { cat "$work/sidecar.log"; exit 1; }
url="http://127.0.0.1:$proxy_port/voice?CallSid=CA0123&AccountSid=$sid"
metric() { curl -s "http://127.0.0.1:$api_port/metrics" | awk -v n="$1" '$1 ~ "^"n {s+=$2} END {printf "%d\n", s}'; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$sc/status"; }

wrk -t1 -c"$CONNECTIONS" -d2s "$url" >/dev/null  # warm up: pools, buffers, memtable
sleep 1
rss_before=$(rss)
exchanges_before=$(metric sidecar_exchanges_total)

wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$url" >"$work/wrk.txt" & wrk_pid=$!
sleep 0.5
pause=$(python3 -c "print(max(0.01, ($DURATION - 1.5) / max(1, $RELOADS)))")
for i in $(seq "$RELOADS"); do
  if ((i % 2)); then cp "$work/b.toml" "$work/run.tmp"; else cp "$work/a.toml" "$work/run.tmp"; fi
  mv "$work/run.tmp" "$work/run.toml"   # a whole file, as an editor or a deploy tool writes it
  kill -HUP "$sc"
  sleep "$pause"
done
wait "$wrk_pid"
# Every reload done (folded SIGHUPs count once: compare with the last file read).
for _ in $(seq 100); do
  sent=$(($(metric sidecar_exchanges_total) - exchanges_before))
  written=$(metric sidecar_records_written_total)
  (( written >= sent + exchanges_before )) && break
  sleep 0.1
done
rss_after=$(rss)
# The reloads alone, without traffic (the store's memtable no longer grows): what they keep.
for i in $(seq "$RELOADS"); do
  if ((i % 2)); then cp "$work/b.toml" "$work/run.tmp"; else cp "$work/a.toml" "$work/run.tmp"; fi
  mv "$work/run.tmp" "$work/run.toml"
  kill -HUP "$sc"
  sleep 0.02
done
sleep 1
rss_idle_after=$(rss)
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$work/wrk.txt"); sockerr=${sockerr:-0}
exchanges=$(metric sidecar_exchanges_total)
written=$(metric sidecar_records_written_total)
dropped=$(metric sidecar_records_dropped_total)
skipped=$(metric sidecar_records_skipped_total)
done_lines=$(grep -c 'msg="reload done"' "$work/sidecar.log" || true)
refused=$(grep -c 'reload refused' "$work/sidecar.log" || true)
lost=$((exchanges - written - skipped))
echo "requests=$requests non_2xx=$non2xx socket_errors=$sockerr exchanges=$exchanges records=$written lost=$lost dropped=$dropped skipped=$skipped reloads_sent=$((2 * RELOADS)) reloads_done=$done_lines refused=$refused rss_before_kib=$rss_before rss_after_kib=$rss_after rss_after_idle_reloads_kib=$rss_idle_after"
grep -E 'requests in|Requests/sec|Latency' "$work/wrk.txt"
kill -TERM "$sc"; wait "$sc" || true
fail=0
((non2xx == 0 && sockerr == 0)) || { echo "FAIL: failed requests"; fail=1; }
((lost == 0 && dropped == 0)) || { echo "FAIL: records lost"; fail=1; }
((refused == 0 && (done_lines >= 1 || RELOADS == 0))) || { echo "FAIL: reloads"; fail=1; }
# Under load the store's memtable grows with the records (tens of MiB, flushed at 64 MiB):
# bounded loosely. The reloads alone must keep nothing.
((rss_after - rss_before < 98304)) || { echo "FAIL: memory grew under load"; fail=1; }
((rss_idle_after - rss_after < 4096)) || { echo "FAIL: memory grew with the reloads alone"; fail=1; }
exit $fail
