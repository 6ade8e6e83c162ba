#!/usr/bin/env python3
"""Soak: trace-sidecar at a steady rate with a short retention; RSS, open fds and store size
must stay flat once retention is reached (issue 8).

Starts the customer app of bench/peers (nginx answering a webhook POST with RCML) and
trace-sidecar recording every exchange, drives it with staggered h2load processes at a fixed
rate, samples the sidecar every few seconds and prints the samples and a verdict per series:
flat when the maximum of the last third of the run is within a tolerance of the maximum of
the middle third. Exit code 0 when everything is flat, no request failed and no record was
dropped; 1 otherwise; 2 when it could not run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
import shutil
import signal
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "peers"))
import bench  # noqa: E402  (bench/peers/bench.py: processes, upstream, load, /proc readers)

ROOT = HERE.parent.parent


def dir_bytes(path: Path) -> int:
    """Bytes the directory takes on disk (allocated blocks, so sparse or preallocated files
    count as what they really hold)."""
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(d, f)).st_blocks * 512
            except OSError:
                pass
    return total


def count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def count_threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return -1


def metrics(api: str) -> dict:
    out = {}
    try:
        _, body = bench.http(f"{api}/metrics", timeout=5)
        for line in body.decode().splitlines():
            m = re.match(r"(sidecar_records_(?:written|dropped|skipped)_total)(\{[^}]*\})?\s+(\S+)", line)
            if m:
                out[m.group(1)] = out.get(m.group(1), 0) + int(float(m.group(3)))
    except (OSError, ValueError):
        pass
    return out


def verdict(samples: list[dict], key: str, duration: float, tol: float, slack: float):
    """flat when max(last third) <= max(middle third) * (1 + tol) + slack."""
    mid = [s[key] for s in samples if duration / 3 <= s["t"] < 2 * duration / 3]
    last = [s[key] for s in samples if s["t"] >= 2 * duration / 3]
    if not mid or not last:
        return None, None, False
    m, l = max(mid), max(last)
    return m, l, l <= m * (1 + tol) + slack


def slope_per_min(samples: list[dict], key: str, duration: float) -> float | None:
    """Least-squares slope of the last third, per minute (information beside the verdict)."""
    pts = [(s["t"], s[key]) for s in samples if s["t"] >= 2 * duration / 3]
    if len(pts) < 2:
        return None
    mt = sum(t for t, _ in pts) / len(pts)
    mv = sum(v for _, v in pts) / len(pts)
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 60 * sum((t - mt) * (v - mv) for t, v in pts) / den if den else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=None, help="seconds of load (600; CI 60)")
    ap.add_argument("--ci", action="store_true",
                    help="the CI version: 60 s, retention 10s, a sample every 2 s")
    ap.add_argument("--rate", type=int, default=500, help="requests per second (500)")
    ap.add_argument("--clients", type=int, default=5, help="h2load connections (5)")
    ap.add_argument("--retention", default=None, help='store retention ("30s"; CI "10s")')
    ap.add_argument("--interval", type=float, default=None, help="seconds between samples")
    ap.add_argument("--threads", type=int, default=1, help="[proxy] threads of the sidecar")
    ap.add_argument("--tolerance", type=float, default=0.15,
                    help="relative tolerance of the flat verdict (0.15)")
    ap.add_argument("--sidecar", default=os.environ.get("SIDECAR_BIN", ""),
                    help="trace-sidecar binary (default: build/release/trace-sidecar)")
    ap.add_argument("--load-cpus", default="0")
    ap.add_argument("--sidecar-cpus", default="1")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"),
                    help="directory of the markdown report ('' for none)")
    args = ap.parse_args()
    if args.duration is None:
        args.duration = 60 if args.ci else 600
    retention = args.retention or ("10s" if args.ci else "30s")
    interval = args.interval or (2.0 if args.ci else 5.0)

    binary = Path(args.sidecar) if args.sidecar else ROOT / "build" / "release" / "trace-sidecar"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        print(f"soak: no trace-sidecar binary at {binary} (build it, or --sidecar PATH)",
              file=sys.stderr)
        sys.exit(2)
    for tool in ("h2load", "nginx", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"soak: {tool} is missing: scripts/install-deps --bench")

    work = Path(tempfile.mkdtemp(prefix="sidecar-soak-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    try:
        _, env = bench.start_upstream(work / "upstream", args.load_cpus, big=False)
        sc = bench.TraceSidecar(args.threads, args.sidecar_cpus, binary, retention=retention)
        sdir = work / "sidecar"
        sdir.mkdir()
        inst = sc.start(env, sdir)
        pid = inst.proc.pid
        data = sdir / "trace-data"
        per_client = max(1, args.rate // args.clients)
        bench.log(f"soak: {args.duration}s at {per_client * args.clients} req/s, retention "
                  f"{retention}, sample every {interval}s; sidecar pid {pid}, data {data}")
        t0 = time.monotonic()
        load = bench.start_rate_load(inst.url, args.clients, per_client, args.duration,
                                     args.load_cpus, sdir, tag="soak")
        samples = []
        hdr = f"{'t s':>6} {'RSS MiB':>9} {'fds':>5} {'threads':>7} {'store MiB':>10} " \
              f"{'written':>9} {'dropped':>8}"
        print(hdr, flush=True)
        next_at = t0
        while True:
            now = time.monotonic()
            if now - t0 > args.duration - 0.5:  # only samples taken under load
                break
            if inst.proc.poll() is not None:
                raise RuntimeError(f"trace-sidecar exited with {inst.proc.returncode}: "
                                   + (sdir / "stdout.log").read_text(errors="replace")[-1500:])
            m = metrics(inst.extra["api"])
            s = {"t": round(now - t0, 1), "rss_kib": bench.status_kib([pid], "VmRSS"),
                 "fds": count_fds(pid), "threads": count_threads(pid),
                 "store_bytes": dir_bytes(data),
                 "written": m.get("sidecar_records_written_total"),
                 "dropped": m.get("sidecar_records_dropped_total")}
            samples.append(s)
            print(f"{s['t']:>6.0f} {s['rss_kib'] / 1024:>9.1f} {s['fds']:>5} {s['threads']:>7} "
                  f"{s['store_bytes'] / 2**20:>10.1f} "
                  f"{'n/a' if s['written'] is None else int(s['written']):>9} "
                  f"{'n/a' if s['dropped'] is None else int(s['dropped']):>8}", flush=True)
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        client = bench.collect_rate_load(load, args.duration)
        final = metrics(inst.extra["api"])
        peak = bench.status_kib([pid], "VmHWM")
        bench.stop(inst.proc)

        checks = [  # name, key, slack
            ("RSS", "rss_kib", 2048, lambda v: f"{v / 1024:.1f} MiB"),
            ("open fds", "fds", 2, lambda v: f"{v}" if isinstance(v, int) else f"{v:.2f}"),
            ("store size", "store_bytes", 1 << 20, lambda v: f"{v / 2**20:.1f} MiB"),
        ]
        lines = [f"# Soak: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}", "",
                 f"`bench/soak/run.sh {' '.join(sys.argv[1:])}`: {args.duration} s at "
                 f"{per_client * args.clients} req/s ({args.clients} staggered h2load "
                 f"connections), retention {retention}, [proxy] threads = {args.threads}, "
                 f"sidecar on CPU {args.sidecar_cpus}, load and app on CPU {args.load_cpus}.",
                 "", f"Requests: {client['requests']} completed, {client['failed']} failed; "
                 f"achieved {client['achieved_rps']:.0f} req/s; latency p50 "
                 f"{client['p50_us']:.0f} µs, p99 {client['p99_us']:.0f} µs. Records written "
                 f"{final.get('sidecar_records_written_total', 'n/a')}, dropped "
                 f"{final.get('sidecar_records_dropped_total', 'n/a')}. Peak RSS "
                 f"{peak / 1024:.1f} MiB.", "",
                 f"Verdict (flat: max of the last third ≤ max of the middle third × "
                 f"{1 + args.tolerance:.2f} + slack):", "",
                 "| series | max, middle third | max, last third | slope, last third, per min | verdict |",
                 "|---|---:|---:|---:|---|"]
        ok = True
        for name, key, slack, show in checks:
            mid, last, flat = verdict(samples, key, args.duration, args.tolerance, slack)
            ok &= flat
            slope = slope_per_min(samples, key, args.duration)
            lines.append(f"| {name} | {'n/a' if mid is None else show(mid)} | "
                         f"{'n/a' if last is None else show(last)} | "
                         f"{'n/a' if slope is None else show(slope)} | "
                         f"{'flat' if flat else 'GROWING'} |")
        dropped = final.get("sidecar_records_dropped_total")
        failed_ok = client["failed"] == 0
        dropped_ok = dropped is None or dropped == 0
        lines.append(f"| failed requests | | {client['failed']} | | {'ok' if failed_ok else 'FAILED'} |")
        lines.append(f"| records dropped | | {'n/a' if dropped is None else int(dropped)} | | "
                     f"{'ok' if dropped_ok else 'DROPPED'} |")
        target = per_client * args.clients
        held = client["achieved_rps"] >= 0.95 * target
        lines.append(f"| rate held (≥ 95 % of {target} req/s) | | {client['achieved_rps']:.0f} | | "
                     f"{'ok' if held else 'NOT HELD'} |")
        ok = ok and failed_ok and dropped_ok and held
        lines += ["", f"**{'PASS' if ok else 'FAIL'}**", "", "Samples:", "", "```", hdr]
        for s in samples:
            lines.append(f"{s['t']:>6.0f} {s['rss_kib'] / 1024:>9.1f} {s['fds']:>5} "
                         f"{s['threads']:>7} {s['store_bytes'] / 2**20:>10.1f} "
                         f"{'n/a' if s['written'] is None else int(s['written']):>9} "
                         f"{'n/a' if s['dropped'] is None else int(s['dropped']):>8}")
        lines += ["```", ""]
        text = "\n".join(lines)
        print(text.split("Samples:")[0])
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            f = out / f"soak-{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}-{args.duration}s.md"
            f.write_text(text)
            bench.log(f"wrote {f}")
        sys.exit(0 if ok else 1)
    finally:
        bench.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
