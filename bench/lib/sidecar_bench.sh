# Shared by the shell benchmarks that run one trace-sidecar before an nginx upstream
# (bench/api/purge_p99.sh, bench/stream/efficiency.sh). Source it after `set -euo pipefail`.
#
#   bench_init                       WORK: a directory removed at exit, with every process in
#                                    PIDS killed
#   free_port                        a free TCP port on 127.0.0.1
#   start_upstream PORT CPUS         nginx answering every request 200 with a small RCML body
#   write_proxy_nginx_conf DIR PORT UPSTREAM_PORT WORKERS
#                                    DIR/nginx.conf: nginx proxy_pass on PORT to UPSTREAM_PORT
#                                    (upstream keepalive, X-Forwarded-For), the peer of
#                                    bench/proxy's scripts
#   write_sidecar_toml [PROXY_LINES] [MORE_TABLES]
#                                    $WORK/sidecar.toml: proxy on PX, API on API, every exchange
#                                    to UP recorded for ACCOUNT (token bench-token), the media
#                                    cache off; PROXY_LINES go into [proxy], MORE_TABLES after
#   start_sidecar BIN CPUS PORT      the sidecar on $WORK/sidecar.toml until its proxy on PORT
#                                    answers; SIDECAR is its pid
#   ticks                            the sidecar's CPU ticks so far (utime + stime)
#   ticks_when_idle STEP TIMES       ticks once the sidecar used none for STEP seconds (at most
#                                    TIMES steps): its writes and compactions are done
#   cpu_ns                           the sidecar's CPU time so far in nanoseconds, summed over
#                                    its threads (schedstat's run time: exact, where the ticks
#                                    are sampled 100 times a second)
#   thread_ticks, thread_cpu_us      the sidecar's CPU per thread name, in ticks or microseconds
#   median                           the median of the numbers on stdin, one per line

bench_init() {
  WORK=$(mktemp -d)
  PIDS=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_upstream() {
  cat >"$WORK/upstream.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/up.pid; error_log $WORK/up.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$1; location / { return 200 '<Response><Say>hello</Say></Response>'; } } }
CONF
  taskset -c "$2" nginx -c "$WORK/upstream.conf" -p "$WORK" -e "$WORK/up.err" &
  PIDS+=($!)
}

write_proxy_nginx_conf() {
  mkdir -p "$1"
  cat >"$1/nginx.conf" <<CONF
worker_processes $4; daemon off; pid $1/nginx.pid; error_log $1/error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  upstream app { server 127.0.0.1:$3; keepalive 256; }
  server { listen 127.0.0.1:$2;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
                 proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; } } }
CONF
}

write_sidecar_toml() {
  cat >"$WORK/sidecar.toml" <<CONF
[proxy]
listen = "127.0.0.1:$PX"
${1:-}
[api]
listen = "127.0.0.1:$API"
[store]
path = "$WORK/trace-data"
retention = "1h"
[[route]]
prefix = "/"
upstream = "http://127.0.0.1:$UP/"
direction = "webhook"
account = "$ACCOUNT"
[[account]]
sid = "$ACCOUNT"
auth_token = "bench-token"
friendly_name = "Bench"
traces = true
[cache]
enabled = false
${2:-}
CONF
}

start_sidecar() {
  taskset -c "$2" "$1" --config "$WORK/sidecar.toml" --log-level warn >"$WORK/sidecar.out" 2>&1 &
  SIDECAR=$!
  PIDS+=($SIDECAR)
  until curl -sf "http://127.0.0.1:$3/" >/dev/null 2>&1; do
    kill -0 "$SIDECAR" 2>/dev/null || { cat "$WORK/sidecar.out"; exit 1; }
    sleep 0.2
  done
}

ticks() { awk '{ print $14 + $15 }' "/proc/$SIDECAR/stat"; }

cpu_ns() {
  cat /proc/"$SIDECAR"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

ticks_when_idle() {
  local last now i
  last=$(ticks)
  for i in $(seq "$2"); do
    sleep "$1"
    now=$(ticks)
    [ "$now" = "$last" ] && break
    last=$now
  done
  echo "$last"
}

# CPU ticks (1/100 s) of the sidecar's threads, summed by thread name: "name ticks" lines,
# sorted by name (for join).
thread_ticks() {
  local t
  for t in /proc/"$SIDECAR"/task/*; do
    # comm may hold spaces: the fields after its closing parenthesis are fixed.
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1\t\2/' "$t/stat" 2>/dev/null |
      awk -F'\t' '{ split($2, f, " "); print $1, f[12] + f[13] }'
  done | awk '{ n = $NF; $NF = ""; sub(/ $/, ""); gsub(/ /, "_"); s[$0] += n }
              END { for (k in s) print k, s[k] }' | sort
}

# CPU microseconds (schedstat's run time) of the sidecar's threads, summed by thread name:
# "name microseconds" lines, sorted by name (for join), like thread_ticks.
thread_cpu_us() {
  local t
  for t in /proc/"$SIDECAR"/task/*; do
    printf '%s %s\n' "$(tr ' ' _ <"$t/comm" 2>/dev/null)" "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
  done | awk 'NF == 2 { s[$1] += $2 / 1000 } END { for (k in s) printf "%s %.0f\n", k, s[k] }' | sort
}

# The ticks (or microseconds) each thread name used between two thread_ticks (thread_cpu_us)
# files: "name amount" lines.
thread_ticks_between() {
  join -a1 -a2 -e0 -o 0,1.2,2.2 "$1" "$2" | awk '{ print $1, $3 - $2 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
