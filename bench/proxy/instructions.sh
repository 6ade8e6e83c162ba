#!/usr/bin/env bash
# User-space instructions per exchange of the proxy, counted by valgrind's callgrind: a figure
# that the rest of a shared machine does not move (a run's requests per CPU-second swing by a
# third between runs; this count by well under 1 %), for comparing two builds of one change.
# It counts no kernel time and no waiting: it says whether the proxy's own code does less, not
# how fast it runs (bench/proxy/run.sh says that, beside nginx).
#
#   bench/proxy/instructions.sh [build-dir|nginx ...]   (default build/release)
# Env: N=10000 exchanges counted (after 2 000 of warm-up), CONNECTIONS=10, REQUEST=form|get,
#      SINK=discard|store, TOP=0 (the N functions with the most instructions, per exchange),
#      THREADS=1 (proxy threads; callgrind runs them one at a time, so what threads cost each
#      other in the kernel and in waiting is not counted, only the instructions).
# Each build dir's bench/proxy/proxy_bench_server runs under callgrind, THREADS proxy threads, before
# an nginx upstream; h2load --h1 sends the requests. Several dirs: one line each, same load.
# `nginx` in their place counts nginx proxy_pass (the peer of bench/proxy's scripts) the same
# way, in one process (master_process off), for the instructions of a request against nginx's.
set -euo pipefail
N=${N:-10000} CONNECTIONS=${CONNECTIONS:-10} REQUEST=${REQUEST:-form} SINK=${SINK:-discard}
THREADS=${THREADS:-1}
TOP=${TOP:-0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib/sidecar_bench.sh"
(($# > 0)) || set -- "$root/build/release"
for tool in valgrind callgrind_control h2load nginx; do
  command -v "$tool" >/dev/null || { echo "needs $tool (scripts/install-deps --bench)" >&2; exit 1; }
done

bench_init
up_port=$(free_port)
start_upstream "$up_port" 0-1

load=(--h1 -c"$CONNECTIONS")
if [[ $REQUEST == form ]]; then
  load+=(-d "$root/bench/peers/webhook.form" -H 'Content-Type: application/x-www-form-urlencoded')
fi

# Self instructions per function in one callgrind file (uncompressed names): a cost line right
# after a calls= line is the callee's inclusive cost, not the caller's own.
self_costs() {
  awk '/^fn=/ {fn = substr($0, 4); next}
       /^calls=/ {callee = 1; next}
       /^[0-9+*-]/ {if (callee) {callee = 0; next} cost[fn] += $2}
       END {for (f in cost) printf "%d\t%s\n", cost[f], f}' "$1"
}

printf '%-40s %12s %14s\n' build exchanges 'instr/exchange'
for dir in "$@"; do
  out="$WORK/cg.$(basename "$dir")"
  callgrind=(valgrind --tool=callgrind --compress-strings=no --compress-pos=no
    --callgrind-out-file="$out")
  if [[ $dir == nginx ]]; then
    port=$(free_port)
    mkdir -p "$WORK/nginx"
    write_proxy_nginx_conf "$WORK/nginx" "$port" "$up_port" 1
    sed -i '1s/^/master_process off; /' "$WORK/nginx/nginx.conf"
    "${callgrind[@]}" nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" 2>/dev/null &
    server=$!
    for _ in $(seq 100); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.2
    done
  else
    store_args=()
    [[ $SINK == store ]] && store_args=(--store "$WORK/store.$RANDOM")
    coproc SERVER { exec "${callgrind[@]}" "$dir/bench/proxy/proxy_bench_server" \
      --upstream "http://127.0.0.1:$up_port/" --threads "$THREADS" "${store_args[@]}" 2>/dev/null; }
    server=$SERVER_PID
    read -r _ port <&"${SERVER[0]}"
  fi
  h2load "${load[@]}" -n 2000 "http://127.0.0.1:$port/" >/dev/null
  callgrind_control -z "$server" >/dev/null 2>&1
  h2load "${load[@]}" -n "$N" "http://127.0.0.1:$port/" >"$WORK/h2load.txt"
  callgrind_control -d "$server" >/dev/null 2>&1
  done_count=$(awk '/^requests:/ {print $8}' "$WORK/h2load.txt")
  # The dump asked for is the file with the largest summary (the rest is start-up or exit).
  dump=$(grep -H '^summary:' "$out"* | sort -t' ' -k2 -n | tail -1 | cut -d: -f1)
  total=$(awk '/^summary:/ {print $2}' "$dump")
  printf '%-40s %12s %14.0f\n' "$dir" "$done_count" "$(echo "$total / $N" | bc -l)"
  if ((TOP > 0)); then
    self_costs "$dump" | sort -t$'\t' -k1 -rn |
      awk -F'\t' -v n="$N" -v t="$total" -v top="$TOP" \
        'NR <= top {printf "    %8.0f %5.1f%%  %.140s\n", $1 / n, 100 * $1 / t, $2}'
  fi
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
done
