#!/usr/bin/env bash
# Where the CPU of one exchange goes, user and kernel apart, beside nginx's: microseconds of
# user and of system time per exchange, by thread, for nginx `proxy_pass` (one worker) and for
# proxy_bench_server with one proxy thread, captures discarded and recorded, in one run.
# Pinned: each proxy on CPU 1, wrk and the upstream nginx on CPU 0, so that a proxy's time is
# its own; the load stops, then the counting goes on until the proxy is idle (a recorder's
# flushes are part of its price). Medians of RUNS rounds, the contenders alternated.
#
#   bench/proxy/cpu_split.sh [build-dir ...]     (default build/release)
# Several build dirs (two commits of one change): each is measured in every round, named
# sidecar1, sidecar2... in the order given, beside the same nginx.
# Env: RUNS=3 DURATION=10 CONNECTIONS=50 (form POSTs, the peers' webhook)
#      SINKS="discard store": per build, proxy_bench_server with captures discarded and
#      recorded; "real" adds the build's trace-sidecar itself, as bench/peers runs it (its
#      API listener, a webhook route, every exchange recorded), to compare the two harnesses.
set -euo pipefail
RUNS=${RUNS:-3} DURATION=${DURATION:-10} CONNECTIONS=${CONNECTIONS:-50}
read -ra sinks <<<"${SINKS:-discard store}"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$root/bench/lib/sidecar_bench.sh"
(($# > 0)) || set -- "$root/build/release"
builds=("$@")
for tool in wrk nginx taskset; do
  command -v "$tool" >/dev/null || { echo "needs $tool (scripts/install-deps --bench)" >&2; exit 1; }
done
export BENCH_BODY=$root/bench/peers/webhook.form
hz=$(getconf CLK_TCK)

bench_init
UP=$(free_port)
start_upstream "$UP" 0

# user and system ticks of every thread of a process, by thread name: "name user system".
thread_times() {
  local t
  for t in /proc/"$1"/task/*; do
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1\t\2/' "$t/stat" 2>/dev/null |
      awk -F'\t' '{ split($2, f, " "); n = $1; gsub(/ /, "_", n); print n, f[12], f[13] }'
  done | awk '{ u[$1] += $2; s[$1] += $3 } END { for (k in u) print k, u[k], s[k] }' | sort
}

total_ticks() { thread_times "$1" | awk '{ t += $2 + $3 } END { print t + 0 }'; }

# Waits until the process used no CPU for half a second (at most 30 s).
wait_idle() {
  local last now i
  last=$(total_ticks "$1")
  for i in $(seq 60); do
    sleep 0.5
    now=$(total_ticks "$1")
    [[ $now == "$last" ]] && return
    last=$now
  done
}

# One measured load through the proxy on PORT whose process is PID: appends
# "round contender thread user_us sys_us" lines (per exchange) to $WORK/figures.
measure() {  # contender pid port
  local wrk=(taskset -c 0 wrk -t1 -c"$CONNECTIONS" -s "$root/bench/peers/post.lua")
  "${wrk[@]}" -d2s "http://127.0.0.1:$3/" >/dev/null
  wait_idle "$2"
  thread_times "$2" >"$WORK/before"
  "${wrk[@]}" -d"${DURATION}s" "http://127.0.0.1:$3/" >"$WORK/wrk.txt"
  wait_idle "$2"
  thread_times "$2" >"$WORK/after"
  local n
  n=$(awk '/requests in/ { print $1 }' "$WORK/wrk.txt")
  join -a2 -e0 -o 0,1.2,1.3,2.2,2.3 "$WORK/before" "$WORK/after" |
    awk -v r="$ROUND" -v c="$1" -v n="$n" -v hz="$hz" '{
      u = ($4 - $2) / hz * 1e6 / n; s = ($5 - $3) / hz * 1e6 / n
      if (u + s > 0) printf "%s %s %s %.3f %.3f\n", r, c, $1, u, s }' >>"$WORK/figures"
}

ngx_port=$(free_port)
write_proxy_nginx_conf "$WORK/px" "$ngx_port" "$UP" 1
taskset -c 1 nginx -c "$WORK/px/nginx.conf" -p "$WORK/px" &
PIDS+=($!)
ngx_master=$!
sleep 0.5
ngx_worker=$(pgrep -f "nginx: worker process" -P "$ngx_master")

start_bench_server() {  # build sink -> SERVER pid, SERVER_PORT
  if [[ $2 == real ]]; then
    PX=$(free_port) API=$(free_port) ACCOUNT=ACae6e420f425248d6a26948c17a9e2acf
    rm -rf "$WORK/trace-data"
    write_sidecar_toml "threads = 1"
    start_sidecar "$1/trace-sidecar" 1 "$PX"
    SERVER=$SIDECAR SERVER_PORT=$PX
    return
  fi
  local args=()
  [[ $2 == store ]] && args=(--store "$WORK/store.$RANDOM")
  coproc BS { exec taskset -c 1 "$1/bench/proxy/proxy_bench_server" \
    --upstream "http://127.0.0.1:$UP/" --threads 1 "${args[@]}"; }
  SERVER=$BS_PID
  PIDS+=("$SERVER")
  read -r _ SERVER_PORT <&"${BS[0]}"
}

for ROUND in $(seq "$RUNS"); do
  measure nginx "$ngx_worker" "$ngx_port"
  for i in "${!builds[@]}"; do
    for sink in "${sinks[@]}"; do
      start_bench_server "${builds[$i]}" "$sink"
      measure "sidecar$((i + 1))-$sink" "$SERVER" "$SERVER_PORT"
      kill "$SERVER" 2>/dev/null || true
      wait "$SERVER" 2>/dev/null || true
    done
  done
  echo "round $ROUND done" >&2
done

# Medians per contender and thread, then per contender over all its threads (the median of
# the rounds' sums), and the ratio to nginx: the efficiency of bench/peers in microseconds.
for i in "${!builds[@]}"; do echo "sidecar$((i + 1)) = ${builds[$i]}"; done
python3 - "$WORK/figures" "$RUNS" <<'PY'
import collections, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by_thread = collections.defaultdict(lambda: ([], []))
by_round = collections.defaultdict(lambda: [0.0, 0.0])
for r, c, t, u, s in rows:
    by_thread[c, t][0].append(float(u)); by_thread[c, t][1].append(float(s))
    by_round[c, r][0] += float(u); by_round[c, r][1] += float(s)
print(f"medians of {sys.argv[2]} rounds, microseconds of CPU per exchange")
print(f"{'contender':<16} {'thread':<14} {'user':>8} {'system':>8} {'total':>8}")
for (c, t), (us, ss) in sorted(by_thread.items()):
    u, s = statistics.median(us), statistics.median(ss)
    print(f"{c:<16} {t:<14} {u:8.2f} {s:8.2f} {u + s:8.2f}")
print()
totals = {}
for c in ["nginx"] + sorted({c for (c, _) in by_round} - {"nginx"}):
    rounds = [v for (cc, r), v in by_round.items() if cc == c]
    u = statistics.median(v[0] for v in rounds); s = statistics.median(v[1] for v in rounds)
    t = statistics.median(v[0] + v[1] for v in rounds)
    totals[c] = t
    ratio = f"  efficiency {totals['nginx'] / t:.2f}x nginx" if c != "nginx" else ""
    print(f"{c:<16} all threads: user {u:6.2f}  system {s:6.2f}  total {t:6.2f}{ratio}")
    mine = {r: v[0] + v[1] for (cc, r), v in by_round.items() if cc == c}
    print(f"{'':<16} rounds: " + ", ".join(f"{mine[r]:.2f}" for r in sorted(mine, key=int)))
    if c != "nginx":
        # The ratio within each round (nginx measured just before), then its median: a round
        # that the shared machine slowed slows both.
        each = [sum(by_round["nginx", r]) / mine[r] for r in mine if ("nginx", r) in by_round]
        print(f"{'':<16} efficiency per round: " + ", ".join(f"{e:.2f}" for e in each) +
              f"; median {statistics.median(each):.2f}x nginx")
PY
