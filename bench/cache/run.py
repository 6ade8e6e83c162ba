#!/usr/bin/env python3
"""Cache-hit throughput of trace-sidecar's media cache beside nginx (issue 6), in one run.

A 64 KiB media file is served (a) by nginx as a static file and (b) by the sidecar's proxy
from its media cache (after one miss that fills it), the sidecar's upstream being a second
nginx server that logs every request it gets, so that the run can show that the hits never
reached it. Each contender gets the same load (wrk, keep-alive), alternately, over several
rounds; the medians are printed side by side with the ratio (target: >= 0.8x nginx).

Both servers run on one thread (nginx: worker_processes 1; sidecar: [proxy] threads = 1),
pinned to the same CPU, with wrk on the other CPU when there are two.

  bench/cache/run.py --server build/release/bench/cache/cache_hit_server [--rounds 3]
Python 3 standard library only; needs nginx and wrk.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

FILE_BYTES = 64 * 1024

NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  types {{ audio/wav wav; }}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  sendfile on;
  tcp_nopush on;
  # The peer: the file as a static file.
  server {{
    listen 127.0.0.1:{peer_port} backlog=4096;
    access_log off;
    root {dir}/www;
  }}
  # The sidecar's upstream (the "customer app"): every request it gets is logged.
  server {{
    listen 127.0.0.1:{app_port} backlog=4096;
    access_log {dir}/app-access.log;
    root {dir}/www;
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, deadline: float = 10.0):
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def get(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read(), dict(r.headers)


def wrk(url: str, cpus: str | None, threads: int, conns: int, seconds: int) -> tuple[float, float]:
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", url]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx answers\n{out}")
    return rps, rps * FILE_BYTES / (1024 * 1024)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the cache_hit_server program")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed", file=sys.stderr)
            return 2

    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    server_cpu, client_cpu = ("1", "0") if two_cpus else (None, None)
    pin = (lambda cmd: ["taskset", "-c", server_cpu, *cmd]) if server_cpu else (lambda cmd: cmd)

    work = Path(tempfile.mkdtemp(prefix="bench-cache-"))
    procs: list[subprocess.Popen] = []
    try:
        (work / "www" / "media").mkdir(parents=True)
        (work / "www" / "media" / "hello.wav").write_bytes(os.urandom(FILE_BYTES))
        peer_port, app_port = free_port(), free_port()
        (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, peer_port=peer_port, app_port=app_port))
        procs.append(subprocess.Popen(pin(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)]),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        wait_port(peer_port)
        wait_port(app_port)

        sidecar = subprocess.Popen(
            pin([args.server, "--upstream", f"http://127.0.0.1:{app_port}/media/", "--dir", str(work / "sidecar"),
                 "--threads", "1"]),
            stdout=subprocess.PIPE, stderr=open(work / "sidecar.log", "wb"), text=True, start_new_session=True)
        procs.append(sidecar)
        line = sidecar.stdout.readline()
        m = re.match(r"port (\d+)", line)
        if not m:
            raise RuntimeError(f"cache_hit_server did not start: {line!r}")
        sidecar_port = int(m.group(1))

        url_peer = f"http://127.0.0.1:{peer_port}/media/hello.wav"
        url_sidecar = f"http://127.0.0.1:{sidecar_port}/media/hello.wav"
        body, headers = get(url_sidecar)
        assert headers.get("X-Cache") == "MISS", headers
        body2, headers2 = get(url_sidecar)
        assert headers2.get("X-Cache") == "HIT" and body2 == body and len(body) == FILE_BYTES, headers2
        assert get(url_peer)[0] == body

        results: dict[str, list[tuple[float, float]]] = {"nginx": [], "sidecar": []}
        for r in range(args.rounds):
            for name, url in (("nginx", url_peer), ("sidecar", url_sidecar)):
                rps, mibs = wrk(url, client_cpu, 1, args.connections, args.seconds)
                results[name].append((rps, mibs))
                print(f"round {r + 1} {name:8s} {rps:10.0f} req/s {mibs:8.1f} MiB/s", file=sys.stderr)

        app_requests = sum(1 for _ in open(work / "app-access.log"))
        med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for k, v in results.items()}
        ratio = med["sidecar"][0] / med["nginx"][0]
        print(f"\nCache-hit throughput, 64 KiB media file, wrk -t1 -c{args.connections} -d{args.seconds}s, "
              f"medians of {args.rounds} rounds (servers on one thread{', pinned to CPU ' + server_cpu if server_cpu else ''})")
        print(f"{'':28s} {'req/s':>10s} {'MiB/s':>9s}")
        print(f"{'nginx (static file)':28s} {med['nginx'][0]:10.0f} {med['nginx'][1]:9.1f}")
        print(f"{'trace-sidecar (cache hit)':28s} {med['sidecar'][0]:10.0f} {med['sidecar'][1]:9.1f}")
        print(f"ratio sidecar/nginx: {ratio:.2f}x (target >= 0.8x)")
        print(f"requests that reached the sidecar's upstream: {app_requests} (the one miss)")
        return 0
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
