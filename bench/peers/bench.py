#!/usr/bin/env python3
"""Benchmarks trace-sidecar against the proxies people already run (issue 7), in one run.

Starts an upstream "customer app" (nginx answering a webhook POST with RCML), then measures
each contender in turn, interleaved over several rounds: saturation throughput, efficiency
(requests per CPU-second of the proxy's own processes), latency at one connection and at a
fixed rate, peak RSS growth, a 100 MiB response, and for trace-sidecar the records stored.
Writes a markdown table, the raw figures (JSON) and a PNG chart to bench/results/.

Python 3 standard library only; the tools are Debian's wrk, h2load, curl, nginx, haproxy,
mitmdump, gnuplot and taskset. See bench/README.md.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CONF = HERE / "conf"
BODY_FILE = HERE / "webhook.form"
WRK_SCRIPT = HERE / "post.lua"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The 150-byte RCML document the customer app answers with.
RCML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="woman" language="en">'
        'Thanks for calling Acme. Hold on.</Say><Pause length="2"/></Response>')
assert len(RCML) == 150, len(RCML)
# The AccountSid the webhook body carries (webhook.form); trace-sidecar's bench account.
ACCOUNT_SID = "ACae6e420f425248d6a26948c17a9e2acf"
BIG_BYTES = 100 * 1024 * 1024


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes and /proc

_started: list[subprocess.Popen] = []


def spawn(cmd: list[str], cpus: str | None, logfile: Path, env: dict | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """Starts cmd in a session of its own (so that stop() reaches every child), pinned."""
    if cpus is not None:
        cmd = ["taskset", "-c", cpus, *cmd]
    out = open(logfile, "ab")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, env=env, cwd=cwd)
    out.close()
    _started.append(p)
    return p


def stop(p: subprocess.Popen, sig=signal.SIGTERM, grace=10.0):
    """Stops the process group this harness created for p: sig, then SIGKILL after grace."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(5)
    # Children left in the group (nginx workers exit with their master; this is a safety net).
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if p in _started:
        _started.remove(p)


def stop_all(*_):
    for p in list(_started):
        stop(p, grace=3.0)


def stat_fields(stat_dir: str) -> list[str]:
    """The fields of <stat_dir>/stat after the command name (which may hold spaces): field 3
    (state) is [0], utime and stime (fields 14, 15) are [11] and [12]."""
    with open(f"{stat_dir}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()


def proc_tree(root: int) -> list[int]:
    """root and all its descendants (nginx master + workers)."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                parent[int(d)] = int(stat_fields(f"/proc/{d}")[1])
            except (OSError, ValueError):
                pass
    tree, frontier = [root], [root]
    while frontier:
        kids = [p for p, pp in parent.items() if pp in frontier]
        tree += kids
        frontier = kids
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of every thread of these processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = stat_fields(f"/proc/{pid}")
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def wait_idle(pids: list[int], quiet=0.5, max_wait=30.0) -> None:
    """Waits until these processes used no CPU for `quiet` seconds (at most max_wait): the
    work a load caused goes on after it stops (a recorder's flushes and compactions)."""
    deadline = time.monotonic() + max_wait
    last = cpu_seconds(pids)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_seconds(pids)
        if now == last:
            return
        last = now


class PlacementSampler:
    """Where each thread of the given processes runs while a phase goes on: every `period`
    seconds, each thread's CPU (/proc/<pid>/task/<tid>/stat, field 39) and its CPU time. Run
    around the one-connection phase, it says which CPU held the connection in that round and
    what else ran beside it (bench/README.md, "Pinning, and its compromise")."""

    def __init__(self, pids: list[int], period: float = 0.05):
        self.pids, self.period = pids, period
        self.samples: dict[tuple[str, str], list[tuple[int, int]]] = {}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join()

    def _run(self):
        while not self.stopping.is_set():
            for pid in self.pids:
                try:
                    tids = os.listdir(f"/proc/{pid}/task")
                except OSError:
                    continue
                for tid in tids:
                    try:
                        with open(f"/proc/{pid}/task/{tid}/comm") as f:
                            name = f.read().strip()
                        fields = stat_fields(f"/proc/{pid}/task/{tid}")
                    except OSError:
                        continue
                    self.samples.setdefault((name, tid), []).append(
                        (int(fields[36]), int(fields[11]) + int(fields[12])))
            self.stopping.wait(self.period)

    def summary(self, min_ms: float = 20) -> list[dict]:
        """The threads that used at least `min_ms` of CPU in the phase, busiest first: their
        name, CPU milliseconds, and the share of samples that found them on each CPU."""
        rows = []
        for (name, _), v in self.samples.items():
            ms = (v[-1][1] - v[0][1]) * 1000 / CLK_TCK
            if ms < min_ms:
                continue
            cpus: dict[int, int] = {}
            for cpu, _ in v:
                cpus[cpu] = cpus.get(cpu, 0) + 1
            rows.append({"thread": name, "cpu_ms": round(ms),
                         "on": {str(c): round(n / len(v), 2) for c, n in sorted(cpus.items())}})
        return sorted(rows, key=lambda r: -r["cpu_ms"])


def placement_text(rows: list[dict]) -> str:
    """'proxy-1 2290 ms on 1 (87%), store-encode 280 ms on 1 (95%), …': the threads of one
    round's c1 phase."""
    def where(on: dict) -> str:
        cpu, share = max(on.items(), key=lambda kv: kv[1])
        return f"on {cpu} ({share:.0%})"
    return ", ".join(f"{r['thread']} {r['cpu_ms']} ms {where(r['on'])}" for r in rows)


def status_kib(pids: list[int], key: str) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def machine_busy(window=1.0) -> float:
    """Fraction of all CPUs busy over `window` seconds (other people's work, when we idle)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = read()
    time.sleep(window)
    t1, i1 = read()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(max_wait: float, threshold=0.15) -> float:
    """Waits (at most max_wait s) until the machine is nearly idle; returns the last reading."""
    end = time.monotonic() + max_wait
    busy = machine_busy()
    while busy > threshold and time.monotonic() < end:
        busy = machine_busy(2.0)
    return busy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, data: bytes | None = None, headers: dict | None = None,
         timeout=5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(url: str, proc: subprocess.Popen | None, logfile: Path | None, deadline=30.0):
    """Polls with the webhook POST until it is answered 200 (the whole chain is up)."""
    body = BODY_FILE.read_bytes()
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            tail = logfile.read_text(errors="replace")[-2000:] if logfile else ""
            raise RuntimeError(f"{url}: process exited with {proc.returncode}\n{tail}")
        try:
            code, _ = http(url, body, {"Content-Type": "application/x-www-form-urlencoded"}, 2)
            if code == 200:
                return
            last = f"HTTP {code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {deadline}s: {last}")


def fill(template: Path, out: Path, **values) -> Path:
    text = template.read_text()
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    left = re.findall(r"@[A-Z_]+@", text)
    if left:
        raise RuntimeError(f"{template}: unfilled {left}")
    out.write_text(text)
    return out


def nginx_dirs(d: Path):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "www"):
        (d / sub).mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- contenders


@dataclass
class Instance:
    url: str
    proc: subprocess.Popen | None
    workdir: Path
    extra: dict = field(default_factory=dict)

    def pids(self) -> list[int]:
        return proc_tree(self.proc.pid) if self.proc else []


class Contender:
    """One thing under test. kind names the software; threads its worker threads/processes."""
    kind = ""
    records = False

    def __init__(self, threads: int, cpus: str | None):
        self.threads = threads
        self.cpus = cpus

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.threads}t" if self.threads else self.kind

    @property
    def label(self) -> str:
        return f"{self.kind} {self.threads}t" if self.threads else self.kind

    def start(self, env: "Env", workdir: Path) -> Instance:
        raise NotImplementedError


class Direct(Contender):
    kind = "direct"

    def __init__(self):
        super().__init__(0, None)

    def start(self, env, workdir):
        return Instance(env.upstream_url, None, workdir)


class NginxProxy(Contender):
    kind = "nginx"

    def start(self, env, workdir):
        port = free_port()
        nginx_dirs(workdir)
        cfg = fill(CONF / "nginx-proxy.conf", workdir / "nginx.conf", DIR=workdir,
                   THREADS=self.threads, PORT=port, UPSTREAM_PORT=env.upstream_port)
        logf = workdir / "stdout.log"
        p = spawn(["nginx", "-c", str(cfg), "-p", str(workdir)], self.cpus, logf)
        url = f"http://127.0.0.1:{port}/"
        wait_ready(url, p, logf)
        # nginx forks its workers after the port opens: wait until all of them exist.
        end = time.monotonic() + 10
        while len(proc_tree(p.pid)) < self.threads + 1 and time.monotonic() < end:
            time.sleep(0.05)
        return Instance(url, p, workdir)


class HAProxy(Contender):
    kind = "haproxy"

    def start(self, env, workdir):
        port = free_port()
        cfg = fill(CONF / "haproxy.cfg", workdir / "haproxy.cfg", THREADS=self.threads,
                   PORT=port, UPSTREAM_PORT=env.upstream_port)
        logf = workdir / "stdout.log"
        p = spawn(["haproxy", "-db", "-f", str(cfg)], self.cpus, logf)
        url = f"http://127.0.0.1:{port}/"
        wait_ready(url, p, logf)
        return Instance(url, p, workdir)


class Mitmdump(Contender):
    """mitmdump in reverse mode writing every flow to a file: the recording peer.
    It runs its proxy on one asyncio thread whatever one asks, so it has no 2-thread run."""
    kind = "mitmdump"
    records = True

    def start(self, env, workdir):
        port = free_port()
        logf = workdir / "stdout.log"
        p = spawn(["mitmdump", "-q", "--mode", f"reverse:{env.upstream_url}",
                   "--listen-host", "127.0.0.1", "--listen-port", str(port),
                   "--set", f"confdir={workdir / 'mitm'}", "-w", str(workdir / "flows")],
                  self.cpus, logf)
        url = f"http://127.0.0.1:{port}/"
        wait_ready(url, p, logf, deadline=60)
        return Instance(url, p, workdir)

    @property
    def label(self):
        return "mitmdump"

    @property
    def key(self):
        return "mitmdump"


class TraceSidecar(Contender):
    kind = "trace-sidecar"
    records = True

    def __init__(self, threads, cpus, binary: Path, retention: str = "2d"):
        super().__init__(threads, cpus)
        self.binary = binary
        self.retention = retention

    def start(self, env, workdir):
        port, api_port = free_port(), free_port()
        token = secrets.token_hex(16)
        cfg = fill(CONF / "trace-sidecar.toml", workdir / "trace-sidecar.toml", DIR=workdir,
                   THREADS=self.threads, PORT=port, API_PORT=api_port,
                   UPSTREAM_PORT=env.upstream_port, ACCOUNT_SID=ACCOUNT_SID, AUTH_TOKEN=token,
                   RETENTION=self.retention)
        logf = workdir / "stdout.log"
        p = spawn([str(self.binary), "--config", str(cfg), "--log-level", "warn"], self.cpus,
                  logf)
        url = f"http://127.0.0.1:{port}/"
        wait_ready(url, p, logf)
        return Instance(url, p, workdir,
                        {"api": f"http://127.0.0.1:{api_port}", "token": token})


def sidecar_metrics(api: str) -> dict:
    """The store's counters from /metrics (summed over labels), and its queue."""
    out = {}
    try:
        _, body = http(f"{api}/metrics", timeout=10)
        for line in body.decode().splitlines():
            m = re.match(r"(sidecar_records_(?:written|dropped|skipped)_total|"
                         r"sidecar_store_queue_bytes)(\{[^}]*\})?\s+(\S+)", line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + int(float(m.group(3)))
    except (OSError, ValueError):
        pass
    return out


def sidecar_counts(inst: Instance) -> dict:
    """Records the API lists (all, and status completed) and the store's own counters."""
    auth = base64.b64encode(f"{ACCOUNT_SID}:{inst.extra['token']}".encode()).decode()
    hdr = {"Authorization": f"Basic {auth}"}
    out = {}
    for name, query in (("stored", ""), ("stored_completed", "&Status=completed")):
        try:
            code, body = http(f"{inst.extra['api']}/2012-04-24/Accounts/{ACCOUNT_SID}/Traces"
                              f"?PageSize=1{query}", headers=hdr, timeout=30)
            out[name] = json.loads(body)["total"] if code == 200 else None
        except (OSError, ValueError, KeyError):
            out[name] = None
    out.update(sidecar_metrics(inst.extra["api"]))
    return out


def wait_records(inst: Instance, expected: int, deadline=90.0) -> dict:
    """Waits for the store to finish writing (its queue empty and its counters still), then
    counts. `store_lag_s` says how long that took after the load stopped; a store still busy
    at the deadline is reported as such, not as lost records."""
    t0 = time.monotonic()
    end = t0 + deadline
    last = None
    busy = False
    while True:
        m = sidecar_metrics(inst.extra["api"])
        if not m:  # no /metrics: wait for the API count to stop moving instead
            c = sidecar_counts(inst)
            key = c.get("stored")
            if (key is not None and key >= expected) or (key == last and key is not None):
                break
        else:
            key = (m.get("sidecar_records_written_total"), m.get("sidecar_records_dropped_total"))
            if m.get("sidecar_store_queue_bytes", 0) == 0 and key == last:
                break
        if time.monotonic() > end:
            busy = True
            break
        last = key
        time.sleep(0.5)
    lag = time.monotonic() - t0
    c = sidecar_counts(inst)
    c["store_lag_s"] = round(lag, 1)
    c["store_busy_at_deadline"] = busy
    return c


# ---------------------------------------------------------------- load generators


@dataclass
class Env:
    upstream_port: int
    upstream_url: str
    load_cpus: str
    big_url_path: str = "big.bin"


def run_wrk(url: str, conns: int, secs: float, cpus: str) -> dict:
    cmd = ["taskset", "-c", cpus, "wrk", "-t1", f"-c{conns}", f"-d{max(1, round(secs))}s",
           "--timeout", "5s", "-s", str(WRK_SCRIPT), url]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       env={**os.environ, "BENCH_BODY": str(BODY_FILE)}, timeout=secs + 60)
    m = re.search(r"BENCH_JSON (\{.*\})", r.stdout)
    if not m:
        raise RuntimeError(f"wrk gave no summary: {r.stdout}\n{r.stderr}")
    d = json.loads(m.group(1))
    d["rps"] = d["requests"] / (d["duration_us"] / 1e6)
    d["errors"] = sum(d[k] for k in ("connect_errors", "read_errors", "write_errors",
                                     "status_errors", "timeouts"))
    return d


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def start_rate_load(url: str, clients: int, rps_per_client: int, secs: float, cpus: str,
                    workdir: Path, tag: str = "h2load") -> list[tuple[subprocess.Popen, Path]]:
    """HTTP/1.1 at a fixed rate: `clients` h2load processes, one connection each sending
    rps_per_client requests per second (one in flight at a time), started evenly spread over
    one request period. One h2load with several clients fires them all on the same tick, so
    the upstream would see bursts and the figure would be their queueing, not the proxy's
    latency. Percentiles come from the per-request logs."""
    procs = []
    for i in range(clients):
        logf = workdir / f"{tag}-{i}.log"
        logf.unlink(missing_ok=True)
        cmd = ["taskset", "-c", cpus, "h2load", "--h1", "-c1", "-t1",
               f"--rps={rps_per_client}", f"-D{max(1, round(secs))}", "-d", str(BODY_FILE),
               "-H", "Content-Type: application/x-www-form-urlencoded; charset=UTF-8",
               f"--log-file={logf}", url]
        procs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True, start_new_session=True), logf))
        _started.append(procs[-1][0])
        time.sleep(1.0 / rps_per_client / clients)
    return procs


def collect_rate_load(procs: list[tuple[subprocess.Popen, Path]], secs: float) -> dict:
    ok = failed = 0
    for p, _ in procs:
        out, err = p.communicate(timeout=secs + 60)
        if p in _started:
            _started.remove(p)
        m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
        if not m:
            raise RuntimeError(f"h2load gave no summary: {out}\n{err}")
        total, started, done, succ, fail, errored, tmo = map(int, m.groups())
        ok += succ
        failed += fail + errored + tmo  # the one request in flight when -D ends is not a failure
    lat = []
    for _, logf in procs:
        for line in logf.read_text().splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] == "200":
                lat.append(int(parts[2]))
    lat.sort()
    dur = max(1, round(secs))
    return {"requests": ok, "failed": failed, "achieved_rps": len(lat) / dur,
            "p50_us": percentile(lat, 50), "p99_us": percentile(lat, 99),
            "max_us": lat[-1] if lat else float("nan")}


def run_h2load(url: str, clients: int, rps_per_client: int, secs: float, cpus: str,
               workdir: Path) -> dict:
    r = collect_rate_load(start_rate_load(url, clients, rps_per_client, secs, cpus, workdir),
                          secs)
    r["target_rps"] = clients * rps_per_client
    return r


def run_curl_big(url: str, cpus: str, max_time: float = 300) -> dict:
    """One GET of the 100 MiB body. A transfer cut by max_time still gives its MB/s (bytes
    received over the time taken); the caller counts it as incomplete."""
    cmd = ["taskset", "-c", cpus, "curl", "-s", "-o", "/dev/null", "--max-time", str(max_time),
           "-w", "%{http_code} %{size_download} %{time_total}", url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=max_time + 30)
    code, size, t = r.stdout.split()
    size, t = int(size), float(t)
    return {"code": int(code), "bytes": size, "seconds": t,
            "mbps": size / t / 1e6 if t > 0 else float("nan")}


def start_upstream(up_dir: Path, cpus: str, big: bool = True) -> tuple[subprocess.Popen, Env]:
    """The customer app: nginx answering the webhook POST with RCML, and /big.bin."""
    nginx_dirs(up_dir)
    if big:
        with open(up_dir / "www" / "big.bin", "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(BIG_BYTES >> 20):
                f.write(chunk)
    port = free_port()
    cfg = fill(CONF / "upstream-nginx.conf", up_dir / "nginx.conf", DIR=up_dir, PORT=port,
               RCML=RCML)
    proc = spawn(["nginx", "-c", str(cfg), "-p", str(up_dir)], cpus, up_dir / "stdout.log")
    env = Env(port, f"http://127.0.0.1:{port}/", cpus)
    wait_ready(env.upstream_url, proc, up_dir / "stdout.log")
    code, body = http(env.upstream_url, BODY_FILE.read_bytes(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    if code != 200 or body.decode() != RCML:
        raise RuntimeError(f"upstream answered {code} {body[:200]!r}")
    return proc, env


# ---------------------------------------------------------------- one measurement


@dataclass
class Plan:
    rounds: int
    warmup: float
    saturation: float
    latency: float
    rate_secs: float
    rate_clients: int
    rate_per_client: int
    conns: int
    big_repeats: int
    big_max_time: float = 300


def measure(c: Contender, env: Env, plan: Plan, workdir: Path) -> dict:
    res: dict = {"contender": c.key}
    inst = c.start(env, workdir)
    try:
        time.sleep(0.3)
        pids = inst.pids()
        idle_rss = status_kib(pids, "VmRSS")
        warm = run_wrk(inst.url, plan.conns, plan.warmup, env.load_cpus)
        pids = inst.pids()
        wait_idle(pids)
        cpu0 = cpu_seconds(pids)
        sat = run_wrk(inst.url, plan.conns, plan.saturation, env.load_cpus)
        wait_idle(pids)
        cpu1 = cpu_seconds(pids)
        with PlacementSampler(pids) as placement:
            c1 = run_wrk(inst.url, 1, plan.latency, env.load_cpus)
        rate = run_h2load(inst.url, plan.rate_clients, plan.rate_per_client, plan.rate_secs,
                          env.load_cpus, workdir)
        hwm = status_kib(inst.pids(), "VmHWM")
        res.update({
            "rps": sat["rps"], "sat_requests": sat["requests"], "sat_errors": sat["errors"],
            "cpu_s": cpu1 - cpu0 if pids else None,
            "efficiency": sat["requests"] / (cpu1 - cpu0) if pids and cpu1 > cpu0 else None,
            "c1_p50_us": c1["p50_us"], "c1_p99_us": c1["p99_us"], "c1_rps": c1["rps"],
            "c1_errors": c1["errors"], "c1_threads": placement.summary(),
            "rate_p50_us": rate["p50_us"], "rate_p99_us": rate["p99_us"],
            "rate_target": rate["target_rps"], "rate_achieved": rate["achieved_rps"],
            "rate_failed": rate["failed"],
            "idle_rss_kib": idle_rss if pids else None,
            "rss_growth_kib": hwm - idle_rss if pids else None,
            "errors": warm["errors"] + sat["errors"] + c1["errors"] + rate["failed"],
        })
        if isinstance(c, TraceSidecar):
            completed = warm["requests"] + sat["requests"] + c1["requests"] + rate["requests"]
            counts = wait_records(inst, completed)
            res.update({"completed": completed, **counts})
            if counts.get("stored_completed") is not None:
                res["lost"] = max(0, completed - counts["stored_completed"])
            elif counts.get("sidecar_records_written_total") is not None:
                # The API could not count (not there yet, or too slow): trust the store's counter.
                res["lost"] = max(0, completed - int(counts["sidecar_records_written_total"]))
        if isinstance(c, Mitmdump):
            res["flow_file_bytes"] = (workdir / "flows").stat().st_size
    finally:
        if inst.proc:
            stop(inst.proc)
    return res


def measure_big(c: Contender, env: Env, plan: Plan, workdir: Path) -> dict:
    inst = c.start(env, workdir)
    try:
        time.sleep(0.3)
        pids = inst.pids()
        idle = status_kib(pids, "VmRSS")
        runs = [run_curl_big(inst.url + env.big_url_path, env.load_cpus, plan.big_max_time)
                for _ in range(plan.big_repeats)]
        hwm = status_kib(inst.pids(), "VmHWM")
        bad = [r for r in runs if r["code"] != 200 or r["bytes"] != BIG_BYTES]
        return {"big_mbps": statistics.median(r["mbps"] for r in runs),
                "big_bytes": min(r["bytes"] for r in runs),
                "big_rss_growth_kib": hwm - idle if pids else None,
                "big_errors": len(bad)}
    finally:
        if inst.proc:
            stop(inst.proc)


# ---------------------------------------------------------------- report


METRICS = [  # key, heading, format, better
    ("rps", "throughput req/s (c50)", "{:,.0f}", "high"),
    ("efficiency", "efficiency req/CPU-s", "{:,.0f}", "high"),
    ("c1_p50_us", "p50 µs (c1)", "{:,.0f}", "low"),
    ("c1_p99_us", "p99 µs (c1)", "{:,.0f}", "low"),
    ("rate_p50_us", "p50 µs (@rate)", "{:,.0f}", "low"),
    ("rate_p99_us", "p99 µs (@rate)", "{:,.0f}", "low"),
    ("rss_growth_kib", "peak RSS growth MiB", "{:,.1f}", "low"),
    ("big_mbps", "100 MiB body MB/s", "{:,.0f}", "high"),
    ("big_rss_growth_kib", "100 MiB body peak RSS growth MiB", "{:,.1f}", "low"),
]


def median_of(rows: list[dict], key: str):
    vals = [r[key] for r in rows if r.get(key) is not None and r[key] == r[key]]
    return statistics.median(vals) if vals else None


def fmt(key: str, v, spec: str) -> str:
    if v is None:
        return "n/a"
    if key.endswith("_kib"):
        v = v / 1024
    return spec.format(v)


def reference_key(c: Contender) -> str:
    return f"nginx-{c.threads if c.threads in (1, 2) else 1}t"


def report(contenders: list[Contender], results: dict, meta: dict, out_md: Path,
           chart: Path | None):
    med = {c.key: {k: median_of(results[c.key], k) for k, *_ in METRICS} for c in contenders}
    for c in contenders:
        for k in ("sat_errors", "errors", "big_errors", "rate_achieved", "rate_target",
                  "completed", "stored", "stored_completed", "lost",
                  "sidecar_records_written_total", "sidecar_records_dropped_total",
                  "flow_file_bytes", "idle_rss_kib"):
            med[c.key][k] = median_of(results[c.key], k)
    lines = [f"# trace-sidecar against its peers: {meta['date']}", ""]
    lines += [f"Command: `{meta['command']}`  ",
              f"Rounds: {meta['rounds']} (interleaved; each figure is the median over rounds),"
              f" mode: {meta['mode']}  ",
              f"Machine: {meta['cpu']}, {meta['cores']} cores, Linux {meta['kernel']}; "
              f"load average before/after: {meta['load_before']} / {meta['load_after']}; "
              f"machine busy (other work) just before each measurement: median "
              f"{meta['busy_median']:.0%}, max {meta['busy_max']:.0%}  ",
              f"Pinning: load generator (wrk, h2load, curl) and upstream nginx on CPU "
              f"{meta['load_cpus']}; 1-thread proxies on CPU {meta['proxy_cpus_1']}, 2-thread "
              f"proxies on CPUs {meta['proxy_cpus_2']}  ",
              f"Phases per round and contender: warm-up {meta['plan']['warmup']}s; "
              f"saturation wrk -t1 -c{meta['plan']['conns']} {meta['plan']['saturation']}s; "
              f"latency wrk -t1 -c1 {meta['plan']['latency']}s; fixed rate "
              f"{meta['plan']['rate_clients']}× h2load --h1 -c1 --rps={meta['plan']['rate_per_client']} "
              f"(staggered) "
              f"({meta['plan']['rate_clients'] * meta['plan']['rate_per_client']} req/s) "
              f"{meta['plan']['rate_secs']}s; then, on a fresh instance, "
              f"{meta['plan']['big_repeats']}× a 100 MiB GET with curl  ",
              f"Versions: {meta['versions']}", ""]
    lines += ["Each cell: the median, and in brackets its ratio to nginx `proxy_pass` with the "
              "same number of threads (direct and mitmdump: to nginx 1t). Efficiency = "
              "requests completed at saturation / CPU-seconds (user+system, all threads and "
              "worker processes) the proxy used from an idle start until it is idle again after the "
              "load (a recorder's flushes and compactions count). RSS growth = peak (VmHWM) minus "
              "idle VmRSS, summed over the proxy's processes.", ""]
    lines.append("| contender | " + " | ".join(h for _, h, _, _ in METRICS) + " | errors |")
    lines.append("|---|" + "---:|" * (len(METRICS) + 1))
    for c in contenders:
        ref = med.get(reference_key(c), {})
        cells = []
        for k, _, spec, _ in METRICS:
            v = med[c.key][k]
            s = fmt(k, v, spec)
            r = ref.get(k)
            if v is not None and r and c.key != reference_key(c):
                s += f" ({v / r:.2f}×)"
            cells.append(s)
        errs = sum(r.get("errors", 0) + r.get("big_errors", 0) for r in results[c.key])
        lines.append(f"| {c.label} | " + " | ".join(cells) + f" | {errs} |")
    lines.append("")
    held = [f"{c.label} {med[c.key]['rate_achieved']:.0f}" for c in contenders
            if med[c.key]["rate_achieved"] is not None]
    lines += [f"Rate held (median achieved req/s of the {meta['plan']['rate_clients'] * meta['plan']['rate_per_client']} "
              f"asked): " + ", ".join(held) + ".", ""]
    cut = [f"{c.label} (round {i + 1}: {r['big_bytes'] / 2**20:.0f} MiB)"
           for c in contenders for i, r in enumerate(results[c.key])
           if r.get("big_bytes") is not None and r["big_bytes"] < BIG_BYTES]
    if cut:
        lines += ["100 MiB fetches cut by `--big-max-time` (MB/s from what arrived): "
                  + ", ".join(cut) + ".", ""]
    rec = [c for c in contenders if isinstance(c, TraceSidecar)]
    if rec:
        lines += ["## trace-sidecar: records stored versus requests completed", "",
                  "Counted once the store's queue is empty and its counters still (at most 90 s "
                  "after the load). Completed = responses the clients received (all phases "
                  "of the instance); requests cut when wrk stops may be recorded too.", "",
                  "| contender | round | requests completed | records stored | of which completed "
                  "| lost | written (metric) | dropped (metric) | store done after |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for c in rec:
            for i, r in enumerate(results[c.key]):
                lag = r.get("store_lag_s")
                lag_s = "n/a" if lag is None else (f"> {lag:.0f} s (still writing)"
                                                   if r.get("store_busy_at_deadline")
                                                   else f"{lag:.1f} s")
                lines.append(
                    f"| {c.label} | {i + 1} | {r.get('completed', 'n/a')} | {r.get('stored', 'n/a')} "
                    f"| {r.get('stored_completed', 'n/a')} | {r.get('lost', 'n/a')} "
                    f"| {r.get('sidecar_records_written_total', 'n/a')} "
                    f"| {r.get('sidecar_records_dropped_total', 'n/a')} | {lag_s} |")
        lines.append("")
        lines += ["## trace-sidecar against the targets of issue 13", "",
                  "| target | 1 thread | 2 threads |", "|---|---|---|"]

        def ratio(key, ck, rk):
            a, b = med.get(ck, {}).get(key), med.get(rk, {}).get(key)
            return a / b if a is not None and b else None

        def cell(v, ok):
            return "n/a" if v is None else f"{v:.2f} {'✅' if ok(v) else '❌'}"

        rows = [
            ("efficiency, every exchange recorded, ≥ 0.6× nginx", "efficiency", "nginx",
             lambda v: v >= 0.6),
            ("p50 at c1 ≤ 1.1× nginx", "c1_p50_us", "nginx", lambda v: v <= 1.1),
            ("100 MiB MB/s ≥ 1.0× nginx", "big_mbps", "nginx", lambda v: v >= 1.0),
        ]
        for title, key, peer, ok in rows:
            cells = []
            for t in (1, 2):
                ck = f"trace-sidecar-{t}t"
                rk = "mitmdump" if peer == "mitmdump" else f"nginx-{t}t"
                cells.append(cell(ratio(key, ck, rk), ok))
            lines.append(f"| {title} | " + " | ".join(cells) + " |")
        cells = []
        for t in (1, 2):
            v = med.get(f"trace-sidecar-{t}t", {}).get("big_rss_growth_kib")
            cells.append("n/a" if v is None else
                         f"{v / 1024:.1f} MiB {'✅' if v <= 32 * 1024 else '❌'}")
        lines.append("| 100 MiB peak RSS growth ≤ 32 MiB | " + " | ".join(cells) + " |")
        # The store's defaults: [store] memory 64 MiB (memtables and block cache) and
        # queue_bytes 64 MiB (captures waiting for the writer), plus 32 MiB for the rest.
        budget_kib = (64 + 64 + 32) * 1024
        cells = []
        for t in (1, 2):
            v = med.get(f"trace-sidecar-{t}t", {}).get("rss_growth_kib")
            cells.append("n/a" if v is None else
                         f"{v / 1024:.1f} MiB {'✅' if v <= budget_kib else '❌'}")
        lines.append("| peak RSS growth at saturation ≤ memory + queue_bytes + 32 MiB (160 MiB) | "
                     + " | ".join(cells) + " |")
        cells = []
        for t in (1, 2):
            rs = [r for r in results.get(f"trace-sidecar-{t}t", []) if "lost" in r]
            lost = sum(r["lost"] for r in rs)
            dropped = sum(r.get("sidecar_records_dropped_total") or 0 for r in rs)
            cells.append("n/a" if not rs else
                         f"{lost} lost, {dropped} dropped "
                         f"{'✅' if lost == 0 and dropped == 0 else '❌'}")
        lines.append("| no record lost (all rounds) | " + " | ".join(cells) + " |")
        lines.append("")
        # The ratios at one connection swing by a tenth or more from run to run for any proxy
        # on a small shared machine (bench/README.md, session 34): haproxy's, measured in the
        # same rounds, is the scale to read ours against.
        peer = [f"{t} thread{'s' if t > 1 else ''} {v:.2f}×" for t in (1, 2)
                if (v := ratio("c1_p50_us", f"haproxy-{t}t", f"nginx-{t}t")) is not None]
        if peer:
            lines += ["For scale, haproxy's p50 at c1 against nginx's in the same run: "
                      + ", ".join(peer) + ".", ""]
    if any(isinstance(c, Mitmdump) for c in contenders):
        fb = med["mitmdump"].get("flow_file_bytes")
        if fb:
            lines += [f"mitmdump's flow file after one round: {fb / 1e6:,.1f} MB.", ""]
    if meta.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in meta["notes"]] + [""]
    lines += ["## Raw figures per round", "", "```json",
              json.dumps({c.key: results[c.key] for c in contenders}, indent=1,
                         default=lambda o: None), "```", ""]
    if chart:
        lines.insert(2, f"![throughput, efficiency and latency per contender]({chart.name})\n")
    out_md.write_text("\n".join(lines))
    return med


def draw_chart(contenders, med, png: Path, title: str):
    """Four panels: throughput, efficiency, latency at c1, latency at the fixed rate."""
    if not shutil.which("gnuplot"):
        log("gnuplot not found: no chart")
        return False
    dat = png.with_suffix(".dat")
    with open(dat, "w") as f:
        f.write("# label rps efficiency c1_p50 c1_p99 rate_p50 rate_p99 (latency in ms)\n")
        for c in contenders:
            m = med[c.key]

            def g(k, scale=1.0):
                v = m.get(k)
                return "NaN" if v is None else f"{v * scale:.4f}"
            f.write(f'"{c.label}" {g("rps")} {g("efficiency")} {g("c1_p50_us", 1e-3)} '
                    f'{g("c1_p99_us", 1e-3)} {g("rate_p50_us", 1e-3)} {g("rate_p99_us", 1e-3)}\n')
    gp = f"""
set terminal pngcairo size 1400,1000 font ",10"
set output '{png}'
set multiplot layout 2,2 title "{title}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set grid ytics
set key top right
set yrange [0:*]
set title "saturation throughput (wrk -c50), req/s"
plot '{dat}' using 2:xtic(1) title "req/s" lc rgb "#4477aa", \
     '' using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.7 notitle
set title "efficiency: requests per CPU-second of the proxy"
plot '{dat}' using 3:xtic(1) title "req/CPU-s" lc rgb "#228833", \
     '' using 0:3:(sprintf("%.0f", $3)) with labels offset 0,0.7 notitle
set logscale y
set yrange [*:*]
set title "latency at 1 connection, ms (log scale)"
plot '{dat}' using 4:xtic(1) title "p50" lc rgb "#ccbb44", '' using 5 title "p99" lc rgb "#ee6677"
set title "latency at a fixed rate (h2load), ms (log scale)"
plot '{dat}' using 6:xtic(1) title "p50" lc rgb "#ccbb44", '' using 7 title "p99" lc rgb "#ee6677"
unset multiplot
"""
    r = subprocess.run(["gnuplot"], input=gp, capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed:", r.stderr)
        return False
    return True


# ---------------------------------------------------------------- main


def tool_version(cmd: list[str]) -> str:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        text = (r.stdout + r.stderr).strip().splitlines()
        return text[0] if text else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "missing"


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    ap.add_argument("--quick", action="store_true",
                    help="short phases and 1 round, for developing the harness")
    ap.add_argument("--only", default="",
                    help="comma-separated contender keys (direct, trace-sidecar-1t, nginx-2t, …)")
    ap.add_argument("--threads", default="1,2", help="thread counts of the proxies (1,2)")
    ap.add_argument("--sidecar", default=os.environ.get("SIDECAR_BIN", ""),
                    help="trace-sidecar binary (default: build/release/trace-sidecar)")
    ap.add_argument("--load-cpus", default="0", help="CPUs of wrk/h2load/curl and upstream")
    ap.add_argument("--proxy-cpus", default="1", help="CPUs of a 1-thread proxy")
    ap.add_argument("--proxy-cpus-2", default="0,1", help="CPUs of a 2-thread proxy")
    ap.add_argument("--rate", type=int, default=200,
                    help="total req/s of the fixed-rate phase (200: one that mitmdump holds too)")
    ap.add_argument("--rate-clients", type=int, default=5)
    ap.add_argument("--no-big", action="store_true", help="skip the 100 MiB run")
    ap.add_argument("--big-max-time", type=float, default=90,
                    help="seconds one 100 MiB fetch may take; a slower one is cut and its "
                         "MB/s taken from what arrived (90)")
    ap.add_argument("--wait-quiet", type=float, default=None,
                    help="before each contender, wait up to this many seconds for the machine "
                         "to be idle (others' builds); default 30, quick 0")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--name", default="",
                    help="suffix of the result files (<date>-peers-NAME.*); a named run "
                         "leaves latest.* alone")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()

    for tool in ("wrk", "h2load", "curl", "nginx", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: scripts/install-deps --bench")

    if args.quick:
        plan = Plan(rounds=args.rounds or 1, warmup=1, saturation=3, latency=2, rate_secs=3,
                    rate_clients=args.rate_clients,
                    rate_per_client=max(1, args.rate // args.rate_clients), conns=50,
                    big_repeats=1, big_max_time=args.big_max_time)
    else:
        plan = Plan(rounds=args.rounds or 3, warmup=2, saturation=10, latency=5, rate_secs=10,
                    rate_clients=args.rate_clients,
                    rate_per_client=max(1, args.rate // args.rate_clients), conns=50,
                    big_repeats=1, big_max_time=args.big_max_time)

    if args.wait_quiet is None:
        args.wait_quiet = 0 if args.quick else 30
    notes = []
    threads = [int(t) for t in args.threads.split(",") if t]
    sidecar = Path(args.sidecar) if args.sidecar else ROOT / "build" / "release" / "trace-sidecar"
    have_sidecar = sidecar.is_file() and os.access(sidecar, os.X_OK)
    if not have_sidecar:
        notes.append(f"trace-sidecar not measured: no binary at {sidecar} "
                     "(cmake --preset release && cmake --build build/release --target trace-sidecar)")
        log(notes[-1])

    def cpus_for(t):
        return args.proxy_cpus if t == 1 else args.proxy_cpus_2

    contenders: list[Contender] = [Direct()]
    for t in threads:
        if have_sidecar:
            contenders.append(TraceSidecar(t, cpus_for(t), sidecar))
        if shutil.which("nginx"):
            contenders.append(NginxProxy(t, cpus_for(t)))
        if shutil.which("haproxy"):
            contenders.append(HAProxy(t, cpus_for(t)))
        if t == 1 and shutil.which("mitmdump"):
            contenders.append(Mitmdump(1, cpus_for(1)))
    for tool in ("haproxy", "mitmdump"):
        if not shutil.which(tool):
            notes.append(f"{tool} not measured: not installed")
    if args.only:
        keep = set(args.only.split(","))
        contenders = [c for c in contenders if c.key in keep]
        # the ratios need nginx: keep the references even when not asked for
    if not contenders:
        sys.exit("nothing to measure")

    work = Path(tempfile.mkdtemp(prefix="sidecar-peers-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    upstream = None
    load_before = open("/proc/loadavg").read().split()[:3]
    try:
        upstream, env = start_upstream(work / "upstream", args.load_cpus, big=not args.no_big)
        log(f"upstream on {env.upstream_url}; work dir {work}; contenders:",
            ", ".join(c.key for c in contenders))

        results: dict[str, list[dict]] = {c.key: [] for c in contenders}
        for rnd in range(plan.rounds):
            # Forward in even rounds, backward in odd ones: no contender always runs first or
            # last, and each proxy runs next to the nginx with its thread count in every round.
            # The machine's speed changes from minute to minute (bench/README.md, session 34);
            # the rotation this replaced put one of three rounds' pairs minutes apart.
            order = contenders if rnd % 2 == 0 else contenders[::-1]
            for c in order:
                d = work / f"r{rnd}-{c.key}"
                d.mkdir()
                busy = wait_quiet(args.wait_quiet)
                log(f"round {rnd + 1}/{plan.rounds}: {c.key} (machine {busy:.0%} busy before)")
                try:
                    r = measure(c, env, plan, d)
                    r["busy_before"] = round(busy, 3)
                    if not args.no_big:
                        bd = work / f"r{rnd}-{c.key}-big"
                        bd.mkdir()
                        r.update(measure_big(c, env, plan, bd))
                except Exception as e:  # one contender failing must not lose the others
                    log(f"{c.key} failed: {e}")
                    r = {"contender": c.key, "failure": str(e)[:500]}
                    notes.append(f"round {rnd + 1}: {c.key} failed: {str(e).splitlines()[0][:200]}")
                results[c.key].append(r)
                if not args.keep:  # a sidecar's store after saturation is hundreds of MB
                    shutil.rmtree(d, ignore_errors=True)
                    shutil.rmtree(work / f"r{rnd}-{c.key}-big", ignore_errors=True)
                log(" ", {k: (round(v, 1) if isinstance(v, float) else v) for k, v in r.items()
                          if k in ("rps", "efficiency", "c1_p50_us", "c1_p99_us", "rate_p50_us",
                                   "rate_p99_us", "rss_growth_kib", "big_mbps",
                                   "big_rss_growth_kib", "errors", "stored", "lost",
                                   "failure")})
                if r.get("c1_threads"):
                    log("   c1 threads:", placement_text(r["c1_threads"]))
        load_after = open("/proc/loadavg").read().split()[:3]
        busy_all = [r["busy_before"] for rs in results.values() for r in rs if "busy_before" in r]

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        stem = f"{date}-peers" + ("-quick" if args.quick else "") + \
            (f"-{args.name}" if args.name else "")
        meta = {
            "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": "bench/peers/run.sh " + " ".join(sys.argv[1:]),
            "rounds": plan.rounds, "mode": "quick" if args.quick else "full",
            "cpu": cpu_model(), "cores": os.cpu_count(), "kernel": platform.release(),
            "load_before": " ".join(load_before), "load_after": " ".join(load_after),
            "load_cpus": args.load_cpus, "proxy_cpus_1": args.proxy_cpus,
            "proxy_cpus_2": args.proxy_cpus_2, "plan": plan.__dict__,
            "versions": "; ".join([
                tool_version(["nginx", "-v"]), tool_version(["haproxy", "-v"]),
                tool_version(["mitmdump", "--version"]), tool_version(["wrk", "-v"]),
                tool_version(["h2load", "--version"]),
                (tool_version([str(sidecar), "--version"]) if have_sidecar else
                 "trace-sidecar: not built"),
                "repo " + tool_version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])]),
            "notes": notes,
            "busy_median": statistics.median(busy_all) if busy_all else 0.0,
            "busy_max": max(busy_all) if busy_all else 0.0,
        }
        png = out / f"{stem}.png"
        md = out / f"{stem}.md"
        med = report(contenders, results, meta, md, None)
        have_chart = draw_chart(contenders, med, png, f"trace-sidecar and peers, {meta['date']}")
        med = report(contenders, results, meta, md, png if have_chart else None)
        (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results},
                                                     indent=1, default=lambda o: None))
        if not args.quick and not args.name:
            shutil.copyfile(md, out / "latest.md")
            if have_chart:
                shutil.copyfile(png, out / "latest.png")
                text = (out / "latest.md").read_text().replace(f"]({png.name})", "](latest.png)")
                (out / "latest.md").write_text(text)
        print(md.read_text().split("## Raw figures")[0])
        log(f"wrote {md}")
    finally:
        stop_all()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
