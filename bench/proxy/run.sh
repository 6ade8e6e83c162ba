#!/usr/bin/env bash
# Requests per second and latency through the sidecar's proxy and through nginx proxy_pass
# (upstream keepalive), to the same nginx upstream, in one run: wrk keep-alive with 50
# connections, alternating, medians of RUNS runs. Also CPU seconds used by each proxy process
# during its runs, for requests per CPU-second.
#
#   bench/proxy/run.sh [build-dir]     (default build/release; builds proxy_bench_server)
# Env: RUNS=3 DURATION=10 THREADS=1 CONNECTIONS=50 SINK=store|discard REQUEST=get|form
# (form: the peers' webhook, a 396-byte form POST through bench/peers/post.lua)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/bench/lib/sidecar_bench.sh"
build=${1:-$root/build/release}
RUNS=${RUNS:-3} DURATION=${DURATION:-10} THREADS=${THREADS:-1} CONNECTIONS=${CONNECTIONS:-50}
SINK=${SINK:-store} REQUEST=${REQUEST:-get}
wrk_script=()
if [[ $REQUEST == form ]]; then
  export BENCH_BODY=$root/bench/peers/webhook.form
  wrk_script=(-s "$root/bench/peers/post.lua")
fi
if [[ ! -x $build/bench/proxy/proxy_bench_server ]]; then
  cmake --preset release >/dev/null
  cmake --build "$build" --target proxy_bench_server -j2
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

up_port=$(free_port); ngx_port=$(free_port)

# nginx: the upstream (a fixed small answer) and the peer proxy, one master each.
mkdir -p "$work/up" "$work/px"
cat >"$work/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $work/up/nginx.pid; error_log $work/up/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 100000;
  server { listen 127.0.0.1:$up_port; location / { return 200 "hello from upstream\n"; } } }
CONF
write_proxy_nginx_conf "$work/px" "$ngx_port" "$up_port" "$THREADS"
nginx -c "$work/up/nginx.conf" -p "$work/up" & pids+=($!)
nginx -c "$work/px/nginx.conf" -p "$work/px" & pids+=($!)
ngx_pid=$!

store_args=()
[[ $SINK == store ]] && store_args=(--store "$work/store")
coproc SIDECAR { exec "$build/bench/proxy/proxy_bench_server" --upstream "http://127.0.0.1:$up_port/" \
  --threads "$THREADS" "${store_args[@]}"; }
pids+=($SIDECAR_PID)
read -r _ sc_port <&"${SIDECAR[0]}"
sleep 0.5

# CPU seconds (user+system) of a process and its children-threads: nginx's workers are
# children of the master, so they are summed over the process group.
cpu_of() {  # pids...
  local total=0 t
  for p in "$@"; do
    t=$(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0); total=$((total + t))
  done
  echo "$total"
}
nginx_pids() { pgrep -f "nginx: worker process" -P "$ngx_pid" | tr '\n' ' '; echo "$ngx_pid"; }
hz=$(getconf CLK_TCK)

run_wrk() {  # port -> "rps p50_ms"
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${wrk_script[@]}" "http://127.0.0.1:$1/" >"$work/wrk.txt"
  local rps p50
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
  p50=$(awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$work/wrk.txt")
  echo "$rps $p50"
}

wrk -t2 -c"$CONNECTIONS" -d2s "${wrk_script[@]}" "http://127.0.0.1:$sc_port/" >/dev/null  # warm-up
wrk -t2 -c"$CONNECTIONS" -d2s "${wrk_script[@]}" "http://127.0.0.1:$ngx_port/" >/dev/null

declare -a sc_rps sc_p50 sc_eff ng_rps ng_p50 ng_eff
for i in $(seq 1 "$RUNS"); do
  c0=$(cpu_of $SIDECAR_PID); read -r r p < <(run_wrk "$sc_port"); c1=$(cpu_of $SIDECAR_PID)
  sc_rps+=("$r"); sc_p50+=("$p")
  sc_eff+=("$(python3 -c "print(round($r*$DURATION/max(1e-9,($c1-$c0)/$hz)))")")
  np=$(nginx_pids)
  c0=$(cpu_of $np); read -r r p < <(run_wrk "$ngx_port"); c1=$(cpu_of $np)
  ng_rps+=("$r"); ng_p50+=("$p")
  ng_eff+=("$(python3 -c "print(round($r*$DURATION/max(1e-9,($c1-$c0)/$hz)))")")
  echo "run $i: sidecar ${sc_rps[-1]} req/s p50 ${sc_p50[-1]} ms ${sc_eff[-1]} req/CPU-s | nginx ${ng_rps[-1]} req/s p50 ${ng_p50[-1]} ms ${ng_eff[-1]} req/CPU-s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
msr=$(median "${sc_rps[@]}"); mnr=$(median "${ng_rps[@]}")
msp=$(median "${sc_p50[@]}"); mnp=$(median "${ng_p50[@]}")
mse=$(median "${sc_eff[@]}"); mne=$(median "${ng_eff[@]}")
echo
echo "medians of $RUNS runs (${DURATION}s, $CONNECTIONS connections, $THREADS thread(s)/worker(s), sink=$SINK, request=$REQUEST):"
printf '%-10s %12s %10s %14s\n' "" "req/s" "p50 ms" "req/CPU-s"
printf '%-10s %12s %10s %14s\n' sidecar "$msr" "$msp" "$mse"
printf '%-10s %12s %10s %14s\n' nginx "$mnr" "$mnp" "$mne"
python3 -c "print(f'ratios: throughput {$msr/$mnr:.2f}x, efficiency {$mse/$mne:.2f}x, p50 {$msp/$mnp:.2f}x of nginx')"
exec {SIDECAR[1]}>&-
